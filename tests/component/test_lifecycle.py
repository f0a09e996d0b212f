"""The lifecycle under mocks: two runs of the program (before and after a change) compared as
`pulumi up` would plan them: what is created, replaced, kept, forgotten or blocked.

The plan models the providers: a Docker container, image, volume or network, and a random
password, are replaced when any input changes (the Docker provider replaces containers on
nearly every input); Grafana resources are updated in place. A resource that leaves the
program is deleted, unless it is protected (the plan is then blocked, as Pulumi refuses) or
retained on delete (Pulumi forgets it; Docker keeps it).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import yaml

from tests.component.harness import Program, run_program
from tests.component.test_stack import CONTAINER, IMAGE, NETWORK, VOLUME, containers

RANDOM = "random:index/randomPassword:RandomPassword"
REPLACED_ON_CHANGE = {CONTAINER, IMAGE, VOLUME, NETWORK, RANDOM}
DEV = {"demo": True}


def plan(before: Program, after: Program) -> dict[str, str]:
    """(type::name) -> create | replace | update | same | delete | forget | blocked."""
    old = {f"{r.type}::{r.name}": r for r in before.resources if r.custom}
    new = {f"{r.type}::{r.name}": r for r in after.resources if r.custom}
    steps = {}
    for key in old.keys() | new.keys():
        if key not in new:
            options = old[key].options
            steps[key] = "blocked" if options["protect"] else "forget" if options["retainOnDelete"] else "delete"
        elif key not in old:
            steps[key] = "create"
        elif old[key].inputs == new[key].inputs:
            steps[key] = "same"
        elif old[key].type in REPLACED_ON_CHANGE:
            steps[key] = "blocked" if old[key].options["protect"] else "replace"
        else:
            steps[key] = "update"
    return steps


def changed(steps: dict[str, str]) -> dict[str, str]:
    return {key: step for key, step in steps.items() if step != "same"}


def test_the_plan_model_sees_replacements_and_blocks():
    # Not vacuous: a volume whose name changes is a blocked replacement, a dropped part a delete.
    before, after = run_program(DEV), run_program(DEV, stack="other")
    steps = plan(before, after)
    assert steps[f"{VOLUME}::prometheus-data"] == "blocked"
    assert steps[f"{CONTAINER}::prometheus"] == "replace"


def test_make_down_keeps_what_the_next_make_up_needs():
    # `make down` is `pulumi destroy --exclude-protected`: what is protected stays in the stack.
    program = run_program(DEV)
    protected = {f"{r.type}::{r.name}" for r in program.resources if r.options["protect"]}
    assert protected == {f"{VOLUME}::prometheus-data", f"{VOLUME}::grafana-data", f"{RANDOM}::grafana-admin-password"}
    # The generated password survives with Grafana's database: the next `make up` logs in with it.
    again = run_program(DEV)
    assert changed(plan(program, again)) == {}


def test_password_rotation_replaces_grafana_and_keeps_its_database():
    before = run_program(DEV)
    after = run_program({**DEV, "grafanaAdminPassword": "a-brand-new-password"}, ["grafanaAdminPassword"])
    steps = changed(plan(before, after))
    assert steps[f"{CONTAINER}::grafana"] == "replace"
    assert f"{VOLUME}::grafana-data" not in steps and f"{RANDOM}::grafana-admin-password" not in steps
    assert "blocked" not in steps.values()
    # The new container sets the admin password from its environment before Grafana starts.
    grafana = containers(after)["grafana"].inputs
    assert grafana["entrypoints"][:2] == ["/bin/sh", "-c"] and "reset-admin-password" in grafana["entrypoints"][2]
    assert "a-brand-new-password" not in " ".join(grafana["entrypoints"])


ALERTMANAGER = {"enabled": True, "receivers": [{"name": "hook", "type": "webhook", "url": "http://hook:9/"}]}


def test_alertmanager_can_be_turned_off_and_on_again():
    on = run_program({**DEV, "alertmanager": ALERTMANAGER})
    off = run_program({**DEV, "alertmanager": {**ALERTMANAGER, "enabled": False}})
    down = changed(plan(on, off))
    assert down[f"{CONTAINER}::alertmanager"] == "delete"
    assert down[f"{VOLUME}::alertmanager-data"] == "forget"  # silences stay on the host
    assert down[f"{CONTAINER}::prometheus"] == "replace"  # no more alerting section
    assert "blocked" not in down.values()
    up = changed(plan(off, on))
    assert up[f"{VOLUME}::alertmanager-data"] == "create"  # the same name: Docker re-attaches the data
    assert "blocked" not in up.values()


@pytest.mark.parametrize("change", [
    *({"exporters": {name: {"enabled": False}}} for name in ("node", "postgres", "redis", "nginx", "celery")),
    {"demo": False, "postgresDsn": "postgresql://u:p@db:5432/app"},
], ids=["node", "postgres", "redis", "nginx", "celery", "demo"])
def test_every_optional_part_can_be_turned_off_and_on(change):
    base = run_program(DEV)
    without = run_program({**DEV, **change}, ["postgresDsn"] if "postgresDsn" in change else [])
    for steps in (changed(plan(base, without)), changed(plan(without, base))):
        assert "blocked" not in steps.values(), steps
        assert not any(key.startswith(VOLUME) for key in steps), steps  # the data volumes stay as they are


@pytest.mark.parametrize("server, image", [("prometheus", "prom/prometheus:v3.8.0"),
                                           ("grafana", "grafana/grafana:12.3.0")])
def test_an_upgrade_replaces_the_server_and_keeps_its_data(server, image):
    before = run_program(DEV)
    after = run_program({**DEV, server: {"image": image}})
    steps = changed(plan(before, after))
    assert steps[f"{IMAGE}::{server}-image"] == "replace"
    assert steps[f"{CONTAINER}::{server}"] == "replace"
    assert f"{VOLUME}::{server}-data" not in steps  # kept, and re-attached by the new container
    assert "blocked" not in steps.values()
    volume = containers(after)[server].inputs["volumes"][0]["volumeName"]
    assert volume == containers(before)[server].inputs["volumes"][0]["volumeName"]


def test_servers_get_time_to_stop_cleanly():
    program = run_program({**DEV, "alertmanager": ALERTMANAGER})
    for name in ("prometheus", "grafana", "alertmanager"):
        inputs = containers(program)[name].inputs
        assert inputs["destroyGraceSeconds"] == inputs["stopTimeout"] == 120, name


def test_long_stack_names_keep_every_address_a_dns_label():
    stack = "customer-acme-production-eu-west-1-blue-green-canary"
    program = run_program(DEV, stack=stack)
    names = [c.inputs["name"] for c in program.of_type(CONTAINER)]
    assert len(set(names)) == len(names)
    assert all(len(name) <= 63 for name in names), [n for n in names if len(n) > 63]
    assert max(map(len, names)) == 63  # the prefix was shortened, not dropped
    rendered = yaml.safe_load(next(u["content"] for u in containers(program)["prometheus"].inputs["uploads"]
                                   if u["file"].endswith("prometheus.yml")))
    # host:port targets, the probed URLs' hosts and the prober's address (blackbox)
    hosts = [urlsplit(t).hostname if "://" in t else t.rsplit(":", 1)[0]
             for job in rendered["scrape_configs"] for c in job["static_configs"] for t in c["targets"]]
    hosts += [r["replacement"].rsplit(":", 1)[0] for job in rendered["scrape_configs"]
              for r in job.get("relabel_configs", []) if "replacement" in r]
    assert hosts and all(len(host) <= 63 for host in hosts)
    assert set(hosts) - {"localhost", "172.30.0.1"} <= set(names)  # node_exporter: the gateway
    # Deterministic: the same stack name gives the same names (no replacement on the next up).
    assert sorted(c.inputs["name"] for c in run_program(DEV, stack=stack).of_type(CONTAINER)) == sorted(names)
