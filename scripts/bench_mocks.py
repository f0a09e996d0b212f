"""Benchmark: the whole Pulumi program under mocks.

Prints the median, min and max wall time (and the median CPU time) of several in-process runs
of __main__.py with the dev stack's config, and how many resources each run registers, by type.
Next to it, two programs derived from a recorded real run, so they cannot drift from it: a bare
one registering the same resources (type, name, class, parent, provider, dependencies and the
other options the mock monitor saw) with trivial inputs, and a replay one giving them the
recorded inputs instead; each runs from a file by runpy, as __main__.py does. real/bare is what
the program costs over Pulumi's bare minimum; replay/bare splits off the price Pulumi and the
mocks charge for these inputs, real/replay what the program's own work (config, rendering,
wiring Outputs) adds.
Then the scaling: 1, 10, 100 and 1000 extra targets (spread over the fixed jobs, half of them
labelled) with the size of the rendered prometheus.yml, and as many Alertmanager webhook
receivers with the size of alertmanager.yml, each with its cost per item from the size before.
Every case runs once per round, in turn, so the machine's load falls on all of them alike.
With --instructions, it counts instead the instructions of one run of the real, replay and bare
programs and of 100 and 1000 targets and receivers under valgrind's callgrind (deterministic).
Usage: .venv/bin/python scripts/bench_mocks.py [RUNS | --instructions]
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import gc
import inspect
import json
import os
import re
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


# (type token, name) -> the Python class the program constructed it with.
Classes = dict[tuple[str, str], type]


def record(config: dict, secret_keys: Sequence[str] = ()) -> tuple[Program, Classes]:
    """A real run of __main__.py: what the mock monitor saw, and each resource's class (a stack
    transformation sees it; the monitor only gets the type token)."""
    classes: Classes = {}

    def note(args: pulumi.ResourceTransformationArgs) -> None:
        classes[(args.type_, args.name)] = type(args.resource)

    def main() -> None:
        pulumi.runtime.register_stack_transformation(note)
        runpy.run_path(str(MAIN), run_name="__main__")

    return run_program(config, secret_keys, main=main), classes


def required_inputs(cls: type) -> dict[str, Any]:
    """The inputs a provider SDK's resource class cannot be constructed without (the keyword-only
    parameters without default of its `<Class>Args`, the generated classes' convention), each
    with a trivial value of its type: 0, False, else an empty string."""
    args_type = getattr(sys.modules[cls.__module__], f"{cls.__name__}Args", None)
    if args_type is None:
        raise TypeError(f"{cls.__module__}.{cls.__name__} has no {cls.__name__}Args beside it")
    required = {}
    for name, parameter in inspect.signature(args_type.__init__).parameters.items():
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
            # pulumi.Input[int] is Union[int, Awaitable[int], Output[int]].
            plain = (typing.get_args(parameter.annotation) or (parameter.annotation,))[0]
            required[name] = plain() if plain in (int, float, bool) else ""
    return required


def bare_program(recorded: Program, classes: Classes) -> Callable[[], None]:
    """A program that registers what `recorded` registered, in its order, with trivial inputs:
    each provider resource with its own class (so the SDK's per-class work is the same), given
    only its required inputs, with trivial values; each component as an instance of a trivial
    ComponentResource subclass of its type (as a program declares one). Same parent, provider,
    dependencies (explicit and those its inputs carried, as depends_on), protect,
    retain_on_delete, ignore_changes, delete_before_replace and additional_secret_outputs; the
    same invokes and export names, with constant values."""
    return _registering(recorded, classes, lambda resource, cls: required_inputs(cls))


def replay_program(recorded: Program, classes: Classes) -> Callable[[], None]:
    """The bare program given the recorded inputs instead (secrets as secrets): what Pulumi and the
    mocks cost for exactly these resources and values, without the program's config, rendering
    and wiring. Between it and the bare one is the price of the inputs, not of the program."""
    return _registering(recorded, classes, lambda resource, cls: _replayed_inputs(resource))


def _snake(key: str) -> str:
    return re.sub(r"[A-Z]", lambda upper: f"_{upper.group().lower()}", key)


def _replayed_inputs(resource: Resource) -> dict[str, Any]:
    inputs = {_snake(key): value for key, value in resource.inputs.items()}
    if resource.type.startswith("pulumi:providers:"):
        # A provider's inputs reach the engine JSON-encoded (10 as "10"): decode, or they would be twice.
        inputs = {key: _json_decoded(value) for key, value in inputs.items()}
    return inputs


def _json_decoded(value: Any) -> Any:
    try:
        decoded = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return value
    return value if isinstance(decoded, str) else decoded


def _live(value: Any) -> Any:
    """A recorded value as the program would pass it: secrets as secret Outputs (made in the run's
    own event loop)."""
    if isinstance(value, SecretValue):
        return pulumi.Output.secret(_live(value.value))
    if isinstance(value, dict):
        return {key: _live(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_live(inner) for inner in value]
    return value


def _registering(recorded: Program, classes: Classes,
                 inputs_of: Callable[[Resource, type], dict[str, Any]]) -> Callable[[], None]:
    plan = []
    for resource in recorded.resources:
        cls = classes[(resource.type, resource.name)] if resource.custom else None
        plan.append((resource, cls, inputs_of(resource, cls) if cls is not None else {}))
    invokes = list(recorded.invokes)
    exports = list(recorded.outputs)

    def main() -> None:
        created: dict[str, pulumi.Resource] = {}
        for resource, cls, inputs in plan:
            opts = _options(resource, created)
            if cls is not None:
                created[resource.urn] = cls(resource.name, opts=opts, **_live(inputs))
            else:
                component = _component_class(resource.type)(resource.name, opts)
                component.register_outputs({})
                created[resource.urn] = component
        for token, args in invokes:
            pulumi.runtime.invoke_output(token, args)
        for name in exports:
            pulumi.export(name, "")

    return lambda: runpy.run_path(str(_program_file()), init_globals={"register": main}, run_name="__main__")


@functools.cache
def _component_class(type_token: str) -> type[pulumi.ComponentResource]:
    """A trivial component class for `type_token`, as a program declares each component (a
    subclass whose __init__ registers it). Not a plain ComponentResource: Pulumi records the
    stack of each registration from its third `__init__` frame up, the subclass's, and finds
    none for a plain ComponentResource, so those registrations would skip that work."""
    def __init__(self: pulumi.ComponentResource, name: str, opts: pulumi.ResourceOptions) -> None:
        pulumi.ComponentResource.__init__(self, type_token, name, None, opts)

    return type(type_token.rsplit(":", 1)[-1], (pulumi.ComponentResource,), {"__init__": __init__})


@functools.cache
def _program_file() -> Path:
    """A file whose body is `register()`: the derived programs run from it as the harness runs
    __main__.py (runpy), so their calls sit as deep in the stack. Pulumi records the stack of each
    resource, and a run with runpy's frames under it pays ~15 M more instructions."""
    directory = Path(tempfile.mkdtemp(prefix="bench-mocks-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "program.py"
    path.write_text("register()  # noqa: F821 (given by runpy's init_globals)\n")
    return path


def _options(resource: Resource, created: dict[str, pulumi.Resource]) -> pulumi.ResourceOptions:
    options = resource.options
    # A provider reference is `<urn>::<id>`.
    provider = created[options["provider"].rsplit("::", 1)[0]] if options["provider"] else None
    return pulumi.ResourceOptions(
        # The stack's URN is not recorded as a resource: its children get the default parent.
        parent=created.get(options["parent"]),
        provider=provider,  # type: ignore[arg-type]  # the recorded provider is a ProviderResource
        depends_on=[created[urn] for urn in options["dependencies"]],
        protect=options["protect"],
        retain_on_delete=options["retainOnDelete"],
        ignore_changes=options["ignoreChanges"] or None,
        delete_before_replace=options["deleteBeforeReplace"] or None,
        additional_secret_outputs=options["additionalSecretOutputs"] or None)


def shape(program: Program) -> Counter:
    """The multiset of what a run registered, without inputs: type, name, kind, parent, provider
    and options (URNs as the engine got them; name lists as sets, as the engine reads them)."""
    return Counter((r.type, r.name, r.custom, r.urn, r.options["parent"], r.options["provider"],
                    r.options["protect"], r.options["retainOnDelete"], frozenset(r.options["dependencies"]),
                    frozenset(r.options["ignoreChanges"]), r.options["deleteBeforeReplace"],
                    frozenset(r.options["additionalSecretOutputs"]))
                   for r in program.resources)


Case = tuple[dict, Sequence[str], Callable[[], None] | None]


@dataclass
class Timings:
    wall: list[float] = field(default_factory=list)
    # Process CPU time: what the run cost this process, less swayed by the machine's other load.
    cpu: list[float] = field(default_factory=list)
    program: Program = field(default_factory=Program)


def interleaved(cases: dict[str, Case], runs: int) -> dict[str, Timings]:
    """`runs` timed runs of every case, one of each per round, after a warm-up run of each
    (imports and first-run caches are not what we measure; its record is the one kept). Then
    the garbage collector is set aside from what the imports built (gc.freeze: a full collection
    of it takes ~0.1 s, and one landed in about every other run), and each run starts with no
    garbage from the last (a timed run's record is dropped: a 1,000-target one is large)."""
    results = {name: Timings(program=run_program(config, secret, main=main))
               for name, (config, secret, main) in cases.items()}
    gc.collect()
    gc.freeze()
    try:
        for _ in range(runs):
            for name, (config, secret, main) in cases.items():
                gc.collect()
                wall, cpu = time.perf_counter(), time.process_time()
                run_program(config, secret, main=main)
                results[name].wall.append(time.perf_counter() - wall)
                results[name].cpu.append(time.process_time() - cpu)
    finally:
        gc.unfreeze()
    return results


def per_round_ratios(top: Sequence[float], bottom: Sequence[float]) -> list[float]:
    """top/bottom of each round (runs paired by position; both ran in it, a few seconds apart)."""
    if len(top) != len(bottom):
        raise ValueError(f"paired runs differ in number: {len(top)} and {len(bottom)}")
    return [high / low for high, low in zip(top, bottom, strict=True)]


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, SecretValue) else value


def uploaded_size(program: Program, container_name: str, suffix: str) -> int:
    """Length of the file ending in `suffix` uploaded to the container `container_name`."""
    container = next(r for r in program.resources if r.name == container_name and r.custom)
    uploads = _plain(container.inputs["uploads"])
    return len(_plain(next(_plain(u)["content"] for u in uploads if _plain(u)["file"].endswith(suffix))))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _load() -> str:
    return ", ".join(f"{load:.1f}" for load in os.getloadavg())


def benchmark_cases(sizes: Sequence[int]) -> dict[str, Case]:
    """The dev stack's real program, its replay and bare twins (from one recorded run), then each
    size of extra targets and of Alertmanager receivers."""
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    config = {key.split(":", 1)[1]: value for key, value in dev.items()}
    recorded, classes = record(config)
    cases: dict[str, Case] = {"real": (config, (), None), "replay": (config, (), replay_program(recorded, classes)),
                              "bare": (config, (), bare_program(recorded, classes))}
    for size in sizes:
        cases[f"targets-{size}"] = (fleet_config(size), ("postgresDsn",), None)
        cases[f"receivers-{size}"] = (receivers_config(size), RECEIVER_SECRETS, None)
    return cases


def main(runs: int) -> None:
    cases = benchmark_cases(FLEET_SIZES)
    load_before = _load()
    results = interleaved(cases, runs)

    real, replay, bare = results["real"], results["replay"], results["bare"]
    program = real.program
    print(f"runs: {runs} of each case, interleaved; load average {load_before} before, {_load()} after")
    print("                  median ms   min ms   max ms   cpu median ms")
    for label, timings in (("real program", real), ("replay program", replay), ("bare program", bare)):
        print(f"{label:<14}   {_ms(statistics.median(timings.wall)):>9}   {_ms(min(timings.wall)):>6}   "
              f"{_ms(max(timings.wall)):>6}   {_ms(statistics.median(timings.cpu)):>13}")
    for label, timings in (("replay", replay), ("bare", bare)):
        if shape(timings.program) != shape(program):
            print(f"  the {label} program registered DIFFERENT resources (a bug in this script)")

    def ratio(top: Timings, bottom: Timings) -> str:
        return (f"{statistics.median(top.wall) / statistics.median(bottom.wall):.2f} wall, "
                f"{statistics.median(top.cpu) / statistics.median(bottom.cpu):.2f} cpu")

    print(f"ratio real/bare: {ratio(real, bare)} (medians)")
    print(f"  replay/bare: {ratio(replay, bare)} (Pulumi's and the mocks' price for these inputs); "
          f"real/replay: {ratio(real, replay)} (the program's own work)")
    quartiles = statistics.quantiles(per_round_ratios(real.cpu, bare.cpu), n=4)
    print(f"  real/bare per round, cpu: median {quartiles[1]:.2f}, quartiles {quartiles[0]:.2f} to {quartiles[2]:.2f} "
          f"(each round's own ratio: the machine's speed drifts between rounds, less within one)")
    print(f"resources registered: {len(program.resources)} "
          f"({sum(1 for r in program.resources if r.custom)} custom, "
          f"{sum(1 for r in program.resources if not r.custom)} components)")
    for type_token, count in sorted(Counter(r.type for r in program.resources).items()):
        print(f"  {count:3d}  {type_token}")
    print()
    print("ms/item: (cpu median - the previous size's) / the items added; linear when it stays put")
    print("              --------------- targets ---------------   --------------- receivers -------------")
    print("extra items   median ms   cpu ms   ms/item   prom.yml B   median ms   cpu ms   ms/item   am.yml B")
    previous: dict[str, tuple[int, float]] = {}
    for size in FLEET_SIZES:
        row = f"{size:11d}"
        for kind, container, suffix in (("targets", "prometheus", "prometheus.yml"),
                                        ("receivers", "alertmanager", "alertmanager.yml")):
            timings = results[f"{kind}-{size}"]
            cpu = statistics.median(timings.cpu)
            before = previous.get(kind)
            per_item = f"{(cpu - before[1]) * 1000 / (size - before[0]):.3f}" if before else "-"
            previous[kind] = (size, cpu)
            row += (f"   {_ms(statistics.median(timings.wall)):>9}   {_ms(cpu):>6}   {per_item:>7}   "
                    f"{uploaded_size(timings.program, container, suffix):>{10 if kind == 'targets' else 8}}")
        print(row)


# Instruction counts: deterministic where times swing with the machine, so the ratios can be compared
# from one change to the next. valgrind's callgrind counts them; this shim's client requests bound
# each run (built with cc against valgrind's header, as ctypes cannot issue them).
CALLGRIND_SHIM = """#include <valgrind/callgrind.h>
void zero(void) { CALLGRIND_ZERO_STATS; }
void dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""
INSTRUCTION_SIZES = (100, 1000)


def callgrind_totals(directory: Path) -> dict[str, int]:
    """label -> instructions, from the dumps callgrind wrote at each client request."""
    totals = {}
    for dump in sorted(directory.glob("callgrind.*")):
        text = dump.read_text(errors="replace")
        label = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if label and total:
            totals[label.group(1)] = int(total.group(1))
    return totals


def count_instructions() -> None:
    """Every case under callgrind in one process: two warm-up runs each, the heap frozen, then two
    counted runs each; the lower is kept (the first run after the freeze can carry a one-off)."""
    work = Path(tempfile.mkdtemp(prefix="bench-mocks-instructions-"))
    try:
        shim = work / "shim.so"
        try:
            subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", str(shim), "-x", "c", "-"],
                           input=CALLGRIND_SHIM, text=True, check=True)
            subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={work}/callgrind.%p",
                            sys.executable, __file__, "--instructions-inside", str(shim)],
                           check=True, stderr=subprocess.DEVNULL)
        except (FileNotFoundError, subprocess.CalledProcessError) as problem:
            raise SystemExit(f"bench_mocks --instructions needs valgrind (with its header, "
                             f"valgrind/callgrind.h) and a C compiler (cc): {problem}") from None
        totals = callgrind_totals(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lowest: dict[str, int] = {}
    for label, count in totals.items():
        case = label.rsplit("#", 1)[0]
        lowest[case] = min(count, lowest.get(case, count))
    millions = {case: count / 1e6 for case, count in lowest.items()}
    print("instructions of one run, millions (callgrind; the lower of two counted runs)")
    for case in ("real", "replay", "bare"):
        print(f"{case + ' program':<15} {millions[case]:9.1f}")
    print(f"ratio real/bare: {millions['real'] / millions['bare']:.2f}   "
          f"replay/bare: {millions['replay'] / millions['bare']:.2f}   "
          f"real/replay: {millions['real'] / millions['replay']:.2f}")
    low, high = INSTRUCTION_SIZES
    for kind in ("targets", "receivers"):
        per_item = (millions[f"{kind}-{high}"] - millions[f"{kind}-{low}"]) / (high - low)
        print(f"{kind:<10} {low}: {millions[f'{kind}-{low}']:.1f}   {high}: {millions[f'{kind}-{high}']:.1f}   "
              f"per item: {per_item:.2f} M")


def _instructions_inside(shim: str) -> None:
    """The process callgrind runs: the cases of count_instructions, bounded by the shim's requests."""
    client = ctypes.CDLL(shim)
    cases = benchmark_cases(INSTRUCTION_SIZES)
    for config_, secret, program in cases.values():
        for _ in range(2):
            run_program(config_, secret, main=program)
    gc.collect()
    gc.freeze()
    for name, (config_, secret, program) in cases.items():
        for counted in range(2):
            gc.collect()
            client.zero()
            run_program(config_, secret, main=program)
            client.dump(f"{name}#{counted}".encode())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--instructions"]:
        count_instructions()
    elif sys.argv[1:2] == ["--instructions-inside"]:
        _instructions_inside(sys.argv[2])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
