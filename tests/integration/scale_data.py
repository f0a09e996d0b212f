"""A synthetic fleet's TSDB for the scale benchmark, shaped like what the integration suite scrapes.

`capture(prom)` reads, from a Prometheus scraping the suite's real exporters, every series of the
metrics the dashboards and rules use (name, kind, labels, current value) per job: that sample is
checked in as tests/fixtures/exporter_series.json, and test_scale_bench.py re-captures it from the
live session so that it cannot drift. `build_tsdb` writes N hosts x D days of those series as
OpenMetrics (one file per 2 h block, so promtool parses each once), turns them into blocks with
`promtool tsdb create-blocks-from openmetrics`, backfills each group of rules/recording.yml over
them with `promtool tsdb create-blocks-from rules`, and lets a Prometheus compact the lot as it
would over those days. Every step is cached per what it depends on (see build_tsdb).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import math
import re
import shutil
import subprocess
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from .services import HOST, Process, Prometheus, free_port, http_ok, repo_rule_files, running, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "exporter_series.json"
JOBS = ("node", "postgres", "redis", "nginx", "django", "celery", "blackbox")
# The stack's default scrape and evaluation interval: Grafana's $__rate_interval is computed from it.
SAMPLE_INTERVAL_S = 15
BLOCK_S = 2 * 3600
# Suffixes of the series of a histogram or summary family: counters, like a counter.
_PARTS = ("_bucket", "_sum", "_count")


def referenced_names() -> set[str]:
    """Every identifier in the dashboards' JSON and the rule files: a superset of the metric names used."""
    import dashboards

    text = json.dumps(dashboards.build_dashboards()) + "".join(Path(p).read_text() for p in repo_rule_files())
    return set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text))


def _kind(name: str, metadata: dict[str, list[dict]]) -> str:
    for family in (name, *(name[: -len(s)] for s in _PARTS if name.endswith(s))):
        types = {m["type"] for m in metadata.get(family, [])}
        if types & {"histogram", "summary"} and family != name:
            return "counter"
        if types:
            return "counter" if "counter" in types else "gauge"
    return "counter" if name.endswith("_total") else "gauge"


def capture(prom: Prometheus) -> dict:
    """job -> the series of one instance of it that the dashboards and rules use."""
    # Recorded series (level:metric:operations) and ALERTS come from the rules, not from exporters.
    wanted = {n for n in referenced_names() | {"up"} if ":" not in n and not n.startswith("ALERTS")}
    metadata = prom.api("metadata")
    jobs: dict[str, list[dict]] = {}
    for job in JOBS:
        result = [r for r in prom.query(f'{{job="{job}"}}') if r["metric"]["__name__"] in wanted]
        # The instance with the most such series (an https probe has the certificate's series too).
        counts: dict[str, int] = {}
        for r in result:
            counts[r["metric"]["instance"]] = counts.get(r["metric"]["instance"], 0) + 1
        instance = min(counts, key=lambda i: (-counts[i], i))
        rows = []
        for r in result:
            labels = dict(r["metric"])
            name = labels.pop("__name__")
            if labels.pop("instance") != instance or name not in wanted:
                continue
            labels.pop("job")
            rows.append({"name": name, "kind": _kind(name, metadata), "labels": labels,
                         "value": float(r["value"][1])})
        jobs[job] = sorted(rows, key=lambda row: (row["name"], sorted(row["labels"].items())))
    return {"sample_interval_s": SAMPLE_INTERVAL_S, "jobs": jobs}


def shape(captured: dict) -> dict[str, dict[str, list[str]]]:
    """job -> metric name -> its label names: what must not drift from the real exporters."""
    out: dict[str, dict[str, list[str]]] = {}
    for job, rows in captured["jobs"].items():
        names: dict[str, set[str]] = {}
        for row in rows:
            names.setdefault(row["name"], set()).update(row["labels"])
        out[job] = {name: sorted(keys) for name, keys in sorted(names.items())}
    return out


def load_fixture() -> dict:
    return json.loads(FIXTURE.read_text())


# --- generation ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    name: str
    labels: str  # rendered `{a="b",...}`
    kind: str
    value: float
    rate: float  # per second, counters only
    phase: float


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def instance_of(job: str, host: int) -> str:
    """The synthetic instance of `job` on host number `host`."""
    if job == "blackbox":
        return f"https://site-{host:03d}.example.com/"
    port = {"node": 9100, "postgres": 9187, "redis": 9121, "nginx": 9113, "django": 8000, "celery": 5555}[job]
    return f"host-{host:03d}:{port}"


def fleet_series(captured: dict, hosts: int) -> list[Series]:
    """Every series of `hosts` hosts, each running one of every job's exporters."""
    out = []
    for job, rows in captured["jobs"].items():
        for host in range(hosts):
            instance = instance_of(job, host)
            for row in rows:
                labels = {**row["labels"], "instance": instance, "job": job}
                text = "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"
                seed = zlib.crc32(f"{row['name']}{text}".encode())
                rate = 0.0
                if row["kind"] == "counter":
                    # Histogram buckets stay monotonic in `le`: a bucket's rate grows with its bound.
                    le = row["labels"].get("le")
                    share = 1.0 if le in (None, "+Inf") else float(le) / (float(le) + 0.25)
                    rate = (0.05 + (seed % 1000) / 1000) * share
                out.append(Series(row["name"], text, row["kind"], row["value"], rate, (seed % 628) / 100))
    return sorted(out, key=lambda s: s.name)


def _value(s: Series, t: float, start: float) -> float:
    if s.kind == "counter":
        return s.value + s.rate * (t - start)
    if s.value in (0.0, 1.0) or s.value > 1e9:  # flags, states and timestamps stay as they are
        return s.value
    return s.value * (1 + 0.05 * math.sin(t / 3600 + s.phase))


def write_openmetrics(series: list[Series], start: int, end: int, start_all: int, path: Path) -> int:
    """Samples at every interval in [start, end) as OpenMetrics; returns how many."""
    steps = range(start, end, SAMPLE_INTERVAL_S)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for s in series:
            prefix = s.name + s.labels + " "
            out.write("".join(f"{prefix}{_value(s, t, start_all):.6g} {t}\n" for t in steps))
            count += len(steps)
        out.write("# EOF\n")
    return count


def promtool(*args: str, timeout: float = 3600) -> str:
    result = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"promtool {' '.join(args[:3])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def serving(data: Path, log: Path, flags: tuple[str, ...] = (), retention: str = "100y") -> Iterator[Prometheus]:
    """Prometheus 2.42 on the blocks in `data`: nothing scraped, no rule evaluated live. The retention
    also sets the longest block compaction makes (a tenth of it)."""
    config = data.parent / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n")
    port = free_port()
    process = Process("prometheus", [
        "prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
        f"--web.listen-address={HOST}:{port}", f"--storage.tsdb.retention.time={retention}", "--log.level=warn", *flags,
    ], log, cwd=data.parent)
    prom = Prometheus(port=port, config_path=config, config_text=config.read_text(),
                      scrape_interval_s=SAMPLE_INTERVAL_S, targets={}, process=process)
    with running(process):
        wait_until(lambda: http_ok(f"{prom.url}/-/ready"), timeout=300, what="Prometheus /-/ready", proc=process)
        yield prom


def _import(om: Path, data: Path) -> None:
    promtool("tsdb", "create-blocks-from", "openmetrics", "--quiet", str(om), str(data))
    om.unlink()


@dataclass
class Built:
    data: Path
    start: int
    end: int
    series: int
    samples: int


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _generator_source() -> str:
    """What the samples depend on besides the fixture and the size: the generator's own code."""
    return "".join(inspect.getsource(f) for f in (instance_of, fleet_series, _value, write_openmetrics))


def _write_raw(target: Path, *, hosts: int, seconds: int, end: int, progress) -> dict:
    """The exporters' series as blocks in `target`; returns their span and counts."""
    series = fleet_series(load_fixture(), hosts)
    end = end - end % SAMPLE_INTERVAL_S
    start = end - seconds
    work = target.parent / f"{target.name}.om"
    work.mkdir(parents=True, exist_ok=True)
    samples = 0
    # One file per 2 h block (promtool re-parses its whole input once per block it writes); promtool
    # is the slow part, so two imports run while the next file is written.
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: list[Future] = []
        block_start = start
        while block_start < end:
            block_end = min(end, block_start - block_start % BLOCK_S + BLOCK_S)
            om = work / f"chunk-{block_start}.om"
            samples += write_openmetrics(series, block_start, block_end, start, om)
            pending.append(pool.submit(_import, om, target))
            while len([f for f in pending if not f.done()]) >= 2:
                wait(pending, return_when=FIRST_COMPLETED)
            for f in [f for f in pending if f.done()]:
                f.result()  # raises promtool's failure here
                pending.remove(f)
            progress(f"    {samples:,} samples written ({(block_end - start) * 100 // seconds}%)")
            block_start = block_end
        for f in pending:
            f.result()
    shutil.rmtree(work)
    return {"start": start, "end": end, "series": len(series), "samples": samples}


def _rule_groups() -> list[dict]:
    """rules/recording.yml's groups, each backfilled (and cached) on its own."""
    recording = next(Path(p) for p in repo_rule_files() if p.endswith("recording.yml"))
    return yaml.safe_load(recording.read_text())["groups"]


def _backfill(raw: Path, meta: dict, groups: list[tuple[str, dict]], directory: Path) -> None:
    """Evaluates each (key, group) over the raw blocks into `raw`/rules-<key>."""
    scratch = directory / "backfill"
    shutil.rmtree(scratch, ignore_errors=True)
    _link_blocks([raw / "blocks"], scratch / "data")

    def one(key: str, group: dict) -> None:
        rules, out = scratch / f"{key}.yml", raw / f"rules-{key}.tmp"
        rules.write_text(yaml.safe_dump({"groups": [group]}))
        shutil.rmtree(out, ignore_errors=True)
        promtool("tsdb", "create-blocks-from", "rules", "--quiet", f"--url={prom.url}",
                 f"--start={meta['start']}", f"--end={meta['end']}",
                 f"--eval-interval={SAMPLE_INTERVAL_S}s", f"--output-dir={out}", str(rules))
        # promtool writes no block, and makes no directory, when a group records nothing over the
        # range (seen once in CI on the 2-hour smoke size): cache that as an empty result.
        out.mkdir(parents=True, exist_ok=True)
        out.rename(raw / f"rules-{key}")

    # promtool sends one query at a time: two groups at once keep both cores of the server busy.
    with serving(scratch / "data", scratch / "prometheus.log") as prom, ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(one, key, group) for key, group in groups]:
            future.result()
    shutil.rmtree(scratch)


def _link_blocks(sources: list[Path], data: Path) -> None:
    """Hard links of the blocks in each of `sources` into `data`: Prometheus compacts and deletes
    blocks, never rewrites a file, so the cache stays intact."""
    data.mkdir(parents=True, exist_ok=True)
    for source in sources:
        for meta in source.glob("*/meta.json"):
            subprocess.run(["cp", "-al", str(meta.parent), str(data / meta.parent.name)], check=True)


def _metric(prom: Prometheus, name: str) -> float:
    text = requests.get(f"{prom.url}/metrics", timeout=30).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(f"{name} "))


def _compact(sources: list[Path], target: Path, retention: str, directory: Path, progress) -> None:
    """The blocks of `sources` as Prometheus keeps them after a while, into `target`: the recorded
    blocks merged into the exporters' (they overlap) and 2 h blocks into longer ones, up to a tenth
    of `retention`. Prometheus compacts once a minute; done when a minute passes without a change."""
    scratch = directory / "compact"
    shutil.rmtree(scratch, ignore_errors=True)
    _link_blocks(sources, scratch / "data")
    before = len(list((scratch / "data").glob("*/meta.json")))
    with serving(scratch / "data", scratch / "prometheus.log", retention=retention) as prom:
        started, seen, stable_since = time.monotonic(), None, time.monotonic()
        while True:
            state = (_metric(prom, "prometheus_tsdb_compactions_total"),
                     sorted(p.name for p in (scratch / "data").iterdir()))
            if state != seen:
                seen, stable_since = state, time.monotonic()
            busy = any(".tmp" in name for name in state[1])
            if not busy and time.monotonic() - stable_since > 65 and (state[0] > 0 or time.monotonic() - started > 180):
                break
            if time.monotonic() - started > 3600:
                raise RuntimeError(f"Prometheus still compacting after an hour: {scratch / 'prometheus.log'}")
            time.sleep(5)
    work = target.parent / f"{target.name}.tmp"
    shutil.rmtree(work, ignore_errors=True)
    _link_blocks([scratch / "data"], work)
    work.rename(target)
    shutil.rmtree(scratch)
    progress(f"    compacted as Prometheus does ({int(state[0])} compactions): {before} blocks into "
             f"{len(list(target.glob('*/meta.json')))}")


def build_tsdb(directory: Path, *, hosts: int, seconds: int, end: int, progress=print,
               cache: Path | None = None, retention: str = "15d") -> Built:
    """Blocks of `hosts` hosts over the `seconds` before `end` (aligned to 15 s) in `directory`/data, every
    recording rule backfilled, compacted as a Prometheus with `retention` compacts them. With `cache`, the
    exporters' blocks are kept there per size, fixture and generator, each rule group's blocks per group,
    and the compacted blocks per set of groups: a run after a change of rules only backfills the groups
    that changed (its data then ends when the cached blocks were written, not at `end`)."""
    fixture = FIXTURE.read_text()
    raw = (cache or directory / "cache") / f"raw-{hosts}x{seconds}-{_fingerprint(fixture, _generator_source())}"
    if (raw / "built.json").exists():
        meta = json.loads((raw / "built.json").read_text())
        progress(f"    exporters' blocks from the cache: {raw}")
    else:
        shutil.rmtree(raw, ignore_errors=True)
        meta = _write_raw(raw / "blocks", hosts=hosts, seconds=seconds, end=end, progress=progress)
        (raw / "built.json").write_text(json.dumps(meta))
    wanted = {_fingerprint(json.dumps(group, sort_keys=True)): group for group in _rule_groups()}
    missing = [(key, group) for key, group in wanted.items() if not (raw / f"rules-{key}").exists()]
    if missing:
        _backfill(raw, meta, missing, directory)
    for stale in raw.glob("rules-*"):
        if stale.name.removeprefix("rules-") not in wanted:
            shutil.rmtree(stale)
    progress(f"    recording rules backfilled ({len(missing)} of {len(wanted)} groups evaluated now); "
             f"{meta['series']:,} series, {meta['samples']:,} samples")
    compacted = raw / f"compacted-{_fingerprint(retention, *sorted(wanted))}"
    if not compacted.exists():
        _compact([raw / "blocks", *(raw / f"rules-{key}" for key in wanted)], compacted, retention, directory,
                 progress)
    for stale in raw.glob("compacted-*"):
        if stale != compacted:
            shutil.rmtree(stale)
    data = directory / "data"
    _link_blocks([compacted], data)
    return Built(data, meta["start"], meta["end"], meta["series"], meta["samples"])
