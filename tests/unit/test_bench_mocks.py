"""The mocks benchmark's helpers: its fleets and receivers are configs the model accepts (a config
shape it does not know, such as a prober's URL targets, would otherwise break `make bench-mocks`
silently), and its bare and replay programs register what the real program did."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from components.config import load_config

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_mocks.py"


def bench_mocks():
    spec = importlib.util.spec_from_file_location("bench_mocks", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # Registered first, as an import would: its dataclasses look their module up there.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("size", [1, 10, 100])
def test_every_fleet_size_is_a_valid_config_with_that_many_extra_targets(size):
    module = bench_mocks()
    fleet = module.fleet(size)
    cfg = load_config({"postgresDsn": "postgresql://monitor:pw@db:5432/app", "targets": fleet})
    # Django is the last job dealt: below one target per job, the default django:8000 fills in.
    django_default = 1 if size < len(module.EXPORTER_NAMES) + 1 else 0
    assert sum(len(cfg.targets.of(job)) for job in fleet) == size + django_default
    assert cfg.targets.of("blackbox") or size < 6  # a prober's targets (URLs) are among them


@pytest.mark.parametrize("size", [1, 2, 10, 1000])
def test_every_receivers_size_is_a_valid_config_with_that_many_webhooks(size):
    module = bench_mocks()
    cfg = load_config(module.receivers_config(size), module.RECEIVER_SECRETS)
    receivers = cfg.alertmanager.receivers
    assert cfg.alertmanager.enabled
    assert len(receivers) == size and len({r.name for r in receivers}) == size
    assert {r.type for r in receivers} == {"webhook"}
    assert cfg.is_secret("alertmanager")


DEV = {"bindAddress": "127.0.0.1", "demo": True}
# More kinds of resource and option: the TLS resources, Alertmanager, a provider's children.
TLS = {**DEV, "tls": {"enabled": True}, "alertmanager": {"enabled": True, "receivers": [
    {"name": "oncall", "type": "webhook", "url": "https://hooks.example.org/1"}]}}


@pytest.fixture(scope="module", params=[DEV, TLS], ids=["dev", "tls-alertmanager"])
def recorded(request):
    module = bench_mocks()
    return (module, request.param, *module.record(request.param))


def _comparable(program) -> dict:
    return {(r.type, r.name): r.inputs for r in program.resources}


def test_the_bare_program_registers_what_the_real_one_did_with_trivial_inputs(recorded):
    from tests.component.harness import run_program

    module, config, real, classes = recorded
    bare = run_program(config, main=module.bare_program(real, classes))
    assert len(real.resources) > 40
    # Type, name, parent, provider and every recorded option, as a multiset.
    assert module.shape(bare) == module.shape(real)
    assert set(bare.outputs) == set(real.outputs)
    assert bare.invokes == real.invokes
    # Only the inputs a class requires, trivial; components get none.
    assert all(value in ("", 0) for r in bare.resources for value in r.inputs.values())
    assert any(r.inputs for r in bare.resources)
    assert all(not r.inputs for r in bare.resources if not r.custom)


def test_the_replay_program_registers_what_the_real_one_did_with_its_inputs(recorded):
    from tests.component.harness import run_program

    module, config, real, classes = recorded
    replay = run_program(config, main=module.replay_program(real, classes))
    assert module.shape(replay) == module.shape(real)
    # The same values, secrets still secrets (SecretValue compares by value and kind).
    assert _comparable(replay) == _comparable(real)


def test_required_inputs_are_those_the_provider_classes_refuse_to_go_without():
    import pulumi_docker as docker
    import pulumi_random as random
    import pulumiverse_grafana as grafana

    module = bench_mocks()
    assert module.required_inputs(docker.Container) == {"image": ""}
    assert module.required_inputs(docker.Volume) == {}
    assert module.required_inputs(grafana.oss.Dashboard) == {"config_json": ""}
    assert module.required_inputs(grafana.Provider) == {}
    assert module.required_inputs(random.RandomId) == {"byte_length": 0}


def test_the_uploaded_file_sizes_are_those_of_the_rendered_files():
    from components.alertmanager.config import render_alertmanager_config
    from tests.component.harness import run_program

    module = bench_mocks()
    config = module.receivers_config(3)
    program = run_program(config, module.RECEIVER_SECRETS)
    expected = render_alertmanager_config(load_config(config).alertmanager)
    assert module.uploaded_size(program, "alertmanager", "alertmanager.yml") == len(expected)
    assert module.uploaded_size(program, "prometheus", "prometheus.yml") > 0


def test_callgrind_totals_reads_each_client_request_dump(tmp_path):
    # What callgrind writes: a dump per client request (its label in the trigger), one at exit.
    (tmp_path / "callgrind.41.1").write_text(
        "version: 1\ndesc: Trigger: Client Request: real#0\nevents: Ir\nsummary: 614000000\n")
    (tmp_path / "callgrind.41.2").write_text(
        "version: 1\ndesc: Trigger: Client Request: targets-100#1\nevents: Ir\ntotals: 452124856\n")
    (tmp_path / "callgrind.41").write_text("version: 1\ndesc: Trigger: Program termination\nsummary: 30000000\n")
    assert bench_mocks().callgrind_totals(tmp_path) == {"real#0": 614000000, "targets-100#1": 452124856}


def test_the_bare_programs_components_carry_a_stack_trace_as_the_real_ones_do(recorded, monkeypatch):
    # Pulumi records a registration's stack from its third __init__ frame up: a plain
    # ComponentResource has none (an empty trace), a program's component class does.
    from tests.component import harness

    module, config, real, classes = recorded
    frames: dict[str, list[int]] = {"real": [], "bare": []}
    kind = "real"
    register = harness._RecordingMonitor.RegisterResource

    def recording(self, request):
        if not request.custom and request.type != "pulumi:pulumi:Stack":
            frames[kind].append(len(request.stackTrace.frames))
        return register(self, request)

    monkeypatch.setattr(harness._RecordingMonitor, "RegisterResource", recording)
    harness.run_program(config)
    kind = "bare"
    harness.run_program(config, main=module.bare_program(real, classes))
    assert len(frames["bare"]) == len(frames["real"]) > 5
    assert all(count > 0 for count in frames["real"] + frames["bare"])


def test_per_round_ratios_pair_the_runs_of_one_round():
    module = bench_mocks()
    assert module.per_round_ratios([0.3, 0.2, 0.5], [0.2, 0.2, 0.25]) == pytest.approx([1.5, 1.0, 2.0])
    with pytest.raises(ValueError, match="3 and 2"):
        module.per_round_ratios([0.3, 0.2, 0.5], [0.2, 0.2])
