"""Benchmark: the whole Pulumi program under mocks.

Prints the median, min and max wall time of several in-process runs of __main__.py with
the dev stack's config, and how many resources each run registers, by type; next to it a bare
program that registers the same resources (type, name, parent, provider, dependencies and the
other options the mock monitor recorded from the real run) with empty inputs, and the ratio of
the two medians: what the program's own work (config, rendering, inputs) costs over Pulumi's.
Then the scaling: 1, 10, 100 and 1000 extra targets (spread over the fixed jobs, half of them
labelled) with the size of the rendered prometheus.yml, and as many Alertmanager webhook
receivers with the size of alertmanager.yml, each with its cost per item from the size before.
Every case runs once per round, in turn, so the machine's load falls on all of them alike.
Usage: .venv/bin/python scripts/bench_mocks.py [RUNS]
"""

from __future__ import annotations

import runpy
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
import yaml  # noqa: E402

from components.config.model import SEVERITIES  # noqa: E402
from components.exporters.table import BY_NAME, EXPORTER_NAMES  # noqa: E402
from tests.component.harness import MAIN, Program, Resource, SecretValue, run_program  # noqa: E402

FLEET_SIZES = (1, 10, 100, 1000)
# Outside demo mode, so the Django targets count too (demo mode scrapes its own app).
BASE_CONFIG = {"postgresDsn": "postgresql://monitor:pw@db:5432/app"}
# Receivers carry webhook URLs: stored as secrets, as `pulumi config set --secret --path` does.
RECEIVER_SECRETS = ("postgresDsn", "alertmanager")
PROVIDER_PREFIX = "pulumi:providers:"


def fleet(size: int) -> dict:
    """`targets` with `size` extra targets over the fixed jobs (django's replace the default);
    a prober's (blackbox) are URLs."""
    jobs = (*EXPORTER_NAMES, "django")
    targets: dict[str, list] = {job: [] for job in jobs}
    for index in range(size):
        job = jobs[index % len(jobs)]
        if job in BY_NAME and BY_NAME[job].prober:
            url = f"https://site-{index}.fleet.internal/healthz"
            targets[job].append({"url": url, "labels": {"role": "site"}} if index % 2 else url)
            continue
        address = f"host-{index}.fleet.internal:{9100 + index % 7}"
        targets[job].append({"address": address, "labels": {"host": f"host-{index}", "role": "app"}}
                            if index % 2 else address)
    if not targets["django"]:
        targets["django"] = ["django:8000"]
    return targets


def receivers(size: int) -> list[dict]:
    """`size` webhook receivers with distinct names and URLs; the first gets every severity (the
    model wants each listed by someone), the others one severity each, in turn."""
    return [{"name": f"team-{index}", "type": "webhook", "url": f"https://hooks.fleet.internal/alerts/{index}",
             **({} if index == 0 else {"severities": [SEVERITIES[index % len(SEVERITIES)]]})}
            for index in range(size)]


def fleet_config(size: int) -> dict:
    return {**BASE_CONFIG, "targets": fleet(size)}


def receivers_config(size: int) -> dict:
    return {**BASE_CONFIG, "alertmanager": {"enabled": True, "receivers": receivers(size)}}


# (type token, name) -> the names of every property the resource's class passes to Pulumi:
# its inputs and its output-only properties, each a resolvable Output on the object.
Properties = dict[tuple[str, str], tuple[str, ...]]


def record(config: dict, secret_keys: Sequence[str] = ()) -> tuple[Program, Properties]:
    """A real run of __main__.py: what the mock monitor saw, and each resource's property names
    (a stack transformation sees them; the monitor only gets the inputs that have values)."""
    properties: Properties = {}

    def note(args: pulumi.ResourceTransformationArgs) -> None:
        properties[(args.type_, args.name)] = tuple(args.props)

    def main() -> None:
        pulumi.runtime.register_stack_transformation(note)
        runpy.run_path(str(MAIN), run_name="__main__")

    return run_program(config, secret_keys, main=main), properties


def bare_program(recorded: Program, properties: Properties) -> Callable[[], None]:
    """A program that registers what `recorded` registered, in its order, with trivial inputs
    (every property None, so the SDK still makes each one an Output, as the real classes do):
    each resource's type, name, parent, provider, dependencies (explicit and those its inputs
    carried, as depends_on), protect, retain_on_delete, ignore_changes, delete_before_replace and
    additional_secret_outputs; the same invokes and export names, with constant values."""
    resources = [(resource, properties.get((resource.type, resource.name), ())) for resource in recorded.resources]
    invokes = list(recorded.invokes)
    exports = list(recorded.outputs)

    def main() -> None:
        created: dict[str, pulumi.Resource] = {}
        for resource, names in resources:
            created[resource.urn] = _bare_resource(resource, dict.fromkeys(names), created)
        for token, args in invokes:
            pulumi.runtime.invoke_output(token, args)
        for name in exports:
            pulumi.export(name, "")

    return main


def _bare_resource(resource: Resource, props: dict[str, None], created: dict[str, pulumi.Resource]) -> pulumi.Resource:
    options = resource.options
    # A provider reference is `<urn>::<id>`.
    provider = created[options["provider"].rsplit("::", 1)[0]] if options["provider"] else None
    opts = pulumi.ResourceOptions(
        # The stack's URN is not recorded as a resource: its children get the default parent.
        parent=created.get(options["parent"]),
        provider=provider,  # type: ignore[arg-type]  # the recorded provider is a ProviderResource
        depends_on=[created[urn] for urn in options["dependencies"]],
        protect=options["protect"],
        retain_on_delete=options["retainOnDelete"],
        ignore_changes=options["ignoreChanges"] or None,
        delete_before_replace=options["deleteBeforeReplace"] or None,
        additional_secret_outputs=options["additionalSecretOutputs"] or None)
    if resource.type.startswith(PROVIDER_PREFIX):
        return pulumi.ProviderResource(resource.type[len(PROVIDER_PREFIX):], resource.name, props, opts)
    if resource.custom:
        return pulumi.CustomResource(resource.type, resource.name, props, opts)
    component = pulumi.ComponentResource(resource.type, resource.name, props, opts)
    component.register_outputs({})
    return component


def shape(program: Program) -> Counter:
    """The multiset of what a run registered, without inputs: type, name, kind, parent, provider
    and options (URNs as the engine got them)."""
    return Counter((r.type, r.name, r.custom, r.urn, r.options["parent"], r.options["provider"],
                    r.options["protect"], r.options["retainOnDelete"], tuple(sorted(r.options["dependencies"])),
                    tuple(r.options["ignoreChanges"]), r.options["deleteBeforeReplace"],
                    tuple(sorted(r.options["additionalSecretOutputs"])))
                   for r in program.resources)


Case = tuple[dict, Sequence[str], Callable[[], None] | None]


def interleaved(cases: dict[str, Case], runs: int) -> dict[str, tuple[list[float], Program]]:
    """`runs` timed runs of every case, one of each per round; a warm-up run of each first
    (imports and first-run caches are not what we measure)."""
    results: dict[str, tuple[list[float], Program]] = {}
    for name, (config, secret, main) in cases.items():
        results[name] = ([], run_program(config, secret, main=main))
    for _ in range(runs):
        for name, (config, secret, main) in cases.items():
            start = time.perf_counter()
            program = run_program(config, secret, main=main)
            results[name][0].append(time.perf_counter() - start)
            results[name] = (results[name][0], program)
    return results


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, SecretValue) else value


def uploaded_size(program: Program, container_name: str, suffix: str) -> int:
    """Length of the file ending in `suffix` uploaded to the container `container_name`."""
    container = next(r for r in program.resources if r.name == container_name and r.custom)
    uploads = _plain(container.inputs["uploads"])
    return len(_plain(next(_plain(u)["content"] for u in uploads if _plain(u)["file"].endswith(suffix))))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def main(runs: int) -> None:
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    config = {key.split(":", 1)[1]: value for key, value in dev.items()}
    recorded, properties = record(config)
    cases: dict[str, Case] = {"real": (config, (), None), "bare": (config, (), bare_program(recorded, properties))}
    for size in FLEET_SIZES:
        cases[f"targets-{size}"] = (fleet_config(size), ("postgresDsn",), None)
        cases[f"receivers-{size}"] = (receivers_config(size), RECEIVER_SECRETS, None)
    results = interleaved(cases, runs)

    real, program = results["real"]
    bare, bare_run = results["bare"]
    counts = Counter(r.type for r in program.resources)
    print(f"runs: {runs} of each case, interleaved")
    for label, timings in (("real program", real), ("bare program", bare)):
        print(f"{label}: median: {_ms(statistics.median(timings))} ms   min: {_ms(min(timings))} ms   "
              f"max: {_ms(max(timings))} ms")
    same = "the same resources" if shape(bare_run) == shape(program) else "DIFFERENT resources (a bug)"
    print(f"ratio real/bare (medians): {statistics.median(real) / statistics.median(bare):.2f}   "
          f"(bare: {same}, empty inputs)")
    print(f"resources registered: {len(program.resources)} "
          f"({sum(1 for r in program.resources if r.custom)} custom, "
          f"{sum(1 for r in program.resources if not r.custom)} components)")
    for type_token, count in sorted(counts.items()):
        print(f"  {count:3d}  {type_token}")
    print()
    print("ms/item: (median - the previous size's median) / the items added; linear when it stays put")
    print("extra items   targets: median ms   ms/item   prometheus.yml bytes   "
          "receivers: median ms   ms/item   alertmanager.yml bytes")
    previous: dict[str, tuple[int, float]] = {}
    for size in FLEET_SIZES:
        row = f"{size:11d}"
        for kind, container, suffix in (("targets", "prometheus", "prometheus.yml"),
                                        ("receivers", "alertmanager", "alertmanager.yml")):
            timings, run = results[f"{kind}-{size}"]
            median = statistics.median(timings)
            before = previous.get(kind)
            per_item = f"{(median - before[1]) * 1000 / (size - before[0]):.3f}" if before else "-"
            previous[kind] = (size, median)
            row += f"   {_ms(median):>18}   {per_item:>7}   {uploaded_size(run, container, suffix):>{len(suffix) + 6}}"
        print(row)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
