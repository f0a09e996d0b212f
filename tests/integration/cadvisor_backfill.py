"""Series shaped exactly as cAdvisor v0.60.5 exposes them, backfilled into a real Prometheus.

cAdvisor cannot run here (no image registry, no Debian package, no usable Docker), so the
Containers dashboard and the container alerts are verified on what it would have written.
What cAdvisor v0.60.5 exposes, read in its source at that tag (lib/metrics/prometheus.go,
cmd/cadvisor.go, container/docker/handler.go, lib/container/libcontainer/handler.go):

- every container series carries `id` (the cgroup path: `/system.slice/docker-<id>.scope` under
  systemd's cgroup driver, `/` for the root cgroup), `name` (the container's name without its
  leading slash; the root cgroup has none), `image` (the image as the container was created with
  it: an image id `sha256:...` for the stack's own containers, which Pulumi creates from one) and,
  with `--store_container_labels=false --whitelisted_container_labels=com.docker.compose.service`,
  `container_label_com_docker_compose_service` where the container has that Docker label (cAdvisor
  writes it empty elsewhere, and Prometheus drops empty labels when it ingests a scrape);
- `container_cpu_usage_seconds_total{cpu="total"}` (per-CPU usage is off unless `percpu` is
  enabled), `container_memory_working_set_bytes`, `container_network_{receive,transmit}_bytes_total`
  with `interface`; `container_spec_memory_limit_bytes` (0: no limit) and
  `container_start_time_seconds` (Docker's State.StartedAt since v0.57.0: new at every restart);
- a restarted container keeps its id (same series) and its counters start again from 0; while it is
  down its cgroup is gone and cAdvisor reports nothing for it; a re-created one has a new id.

The scrape adds `job` and `instance`, and `up`. Written as OpenMetrics (30 minutes at 15 s),
loaded with `promtool tsdb create-blocks-from openmetrics`; the repository's recording rules are
then evaluated over them with `promtool tsdb create-blocks-from rules`, and Prometheus 2.42 serves
both.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .services import HOST, Process, Prometheus, free_port, http_ok, repo_rule_files, running, temp_dir, wait_until

CADVISOR_VERSION = "v0.60.5"
STEP_S = 15
SPAN_S = 30 * 60
MIB = 1024 * 1024
COMPOSE_LABEL = "container_label_com_docker_compose_service"
# Instances: the stack's own cAdvisor and one more Docker host given under targets.cadvisor.
HOST_1 = "monitoring-dev-cadvisor-exporter:8080"
HOST_2 = "docker-2:8080"


@dataclass(frozen=True)
class Run:
    """One run of a container: its cgroup (id), when it started and the sample steps it is up."""

    cgroup: str
    started_at: float
    first: int
    last: int  # inclusive


@dataclass
class Container:
    host: str
    name: str | None  # None: the root cgroup
    image: str | None
    runs: list[Run]
    limit_bytes: float
    working_set: Callable[[int], float]
    cpu_cores: float
    receive_bps: float
    transmit_bps: float
    compose_service: str | None = None

    def labels(self, run: Run) -> dict[str, str]:
        labels = {"id": run.cgroup, "instance": self.host, "job": "cadvisor"}
        if self.name is not None:
            labels["name"] = self.name
        if self.image is not None:
            labels["image"] = self.image
        if self.compose_service is not None:
            labels[COMPOSE_LABEL] = self.compose_service
        return labels


def _cgroup(seed: str) -> str:
    return f"/system.slice/docker-{(seed * 64)[:64]}.scope"


@dataclass
class Timeline:
    start: float
    containers: list[Container] = field(default_factory=list)

    @property
    def end(self) -> float:
        return self.start + SPAN_S

    @property
    def steps(self) -> int:
        return SPAN_S // STEP_S + 1

    def at(self, step: int) -> float:
        return self.start + step * STEP_S

    def named(self, name: str, host: str = HOST_1) -> Container:
        (found,) = [c for c in self.containers if c.name == name and c.host == host]
        return found


def worker_runs(start: float, loop_from_step: int, period_steps: int, down_steps: int, steps: int) -> list[Run]:
    """A container up since before the window, then a crash loop: every `period_steps` it is down
    for `down_steps` (its cgroup gone), then Docker starts it again (same id, new start time)."""
    cgroup = _cgroup("c0ffee")
    runs = [Run(cgroup, start - 2 * 3600, 0, loop_from_step - 1)]
    step = loop_from_step + down_steps
    while step < steps:
        last = min(step + period_steps - down_steps - 1, steps - 1)
        runs.append(Run(cgroup, start + step * STEP_S, step, last))
        step += period_steps
    return runs


def timeline(start: float) -> Timeline:
    """Two Docker hosts: Grafana re-created by a deploy at minute 20, Prometheus steady, web-1 growing
    to 96 % of its 256 MiB limit, worker-1 (no limit) crash-looping from minute 10, web-2 at half of
    its limit on the second host, and each host's root cgroup."""
    t = Timeline(start)
    steps = t.steps
    redeploy = 20 * 60 // STEP_S
    grafana_image, prometheus_image = "sha256:" + "5e" * 32, "sha256:" + "a1" * 32
    t.containers = [
        Container(HOST_1, None, None, [Run("/", start - 86400, 0, steps - 1)], 0,
                  lambda k: 6e9 + 1e8 * math.sin(k / 9), 0.9, 120e3, 80e3),
        Container(HOST_1, "monitoring-dev-grafana", grafana_image,
                  [Run(_cgroup("9f"), start - 3 * 86400, 0, redeploy - 1),
                   Run(_cgroup("b7"), start + redeploy * STEP_S, redeploy, steps - 1)],
                  512 * MIB, lambda k: 180 * MIB + 10 * MIB * math.sin(k / 7), 0.05, 20e3, 50e3),
        Container(HOST_1, "monitoring-dev-prometheus", prometheus_image,
                  [Run(_cgroup("4d"), start - 3 * 86400, 0, steps - 1)],
                  1024 * MIB, lambda k: 400 * MIB + k * 0.2 * MIB, 0.2, 60e3, 15e3),
        Container(HOST_1, "shop-web-1", "shop/web:1.4.2", [Run(_cgroup("e1"), start - 86400, 0, steps - 1)],
                  256 * MIB, lambda k: 256 * MIB * min(0.60 + 0.36 * k / 40, 0.96), 0.3, 200e3, 900e3,
                  compose_service="web"),
        Container(HOST_1, "shop-worker-1", "shop/worker:1.4.2", worker_runs(start, 10 * 60 // STEP_S, 8, 2, steps),
                  0, lambda k: 700 * MIB, 0.6, 5e3, 3e3, compose_service="worker"),
        Container(HOST_2, None, None, [Run("/", start - 86400, 0, steps - 1)], 0,
                  lambda k: 3e9, 0.4, 40e3, 40e3),
        Container(HOST_2, "shop-web-2", "shop/web:1.4.2", [Run(_cgroup("e2"), start - 86400, 0, steps - 1)],
                  256 * MIB, lambda k: 128 * MIB, 0.25, 180e3, 850e3, compose_service="web"),
    ]
    return t


# --- OpenMetrics ----------------------------------------------------------------------------

def _sample(name: str, labels: dict[str, str], value: float, at: float) -> str:
    text = ",".join(f'{key}="{val}"' for key, val in sorted(labels.items()))
    return f"{name}{{{text}}} {value:.6f} {at:.3f}"


def openmetrics(t: Timeline) -> str:
    """The samples Prometheus would have stored from scraping each host's cAdvisor every 15 s."""
    families: dict[tuple[str, str], list[str]] = {}

    def add(family: str, kind: str, sample: str, labels: dict[str, str], value: float, at: float) -> None:
        families.setdefault((family, kind), []).append(_sample(sample, labels, value, at))

    for host in sorted({c.host for c in t.containers}):
        for k in range(t.steps):
            add("up", "gauge", "up", {"instance": host, "job": "cadvisor"}, 1, t.at(k))
    for c in t.containers:
        for run in c.runs:
            labels = c.labels(run)
            for k in range(run.first, run.last + 1):
                at, up_for = t.at(k), t.at(k) - run.started_at
                add("container_start_time_seconds", "gauge", "container_start_time_seconds", labels,
                    math.floor(run.started_at), at)
                add("container_spec_memory_limit_bytes", "gauge", "container_spec_memory_limit_bytes", labels,
                    c.limit_bytes, at)
                add("container_memory_working_set_bytes", "gauge", "container_memory_working_set_bytes", labels,
                    c.working_set(k), at)
                # Counters of this run's cgroup: from 0 at its start.
                add("container_cpu_usage_seconds", "counter", "container_cpu_usage_seconds_total",
                    {**labels, "cpu": "total"}, c.cpu_cores * up_for, at)
                for direction, bps in (("receive", c.receive_bps), ("transmit", c.transmit_bps)):
                    add(f"container_network_{direction}_bytes", "counter", f"container_network_{direction}_bytes_total",
                        {**labels, "interface": "eth0"}, bps * up_for, at)
    lines: list[str] = []
    for (family, kind), samples in families.items():
        lines += [f"# TYPE {family} {kind}", *samples]
    return "\n".join([*lines, "# EOF"]) + "\n"


# --- a real Prometheus on the backfilled blocks ---------------------------------------------

def _promtool(*args: str) -> str:
    result = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise AssertionError(f"promtool {' '.join(args[:3])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def _serving(data: Path, config: Path, log: Path) -> Iterator[Prometheus]:
    port = free_port()
    process = Process("prometheus", [
        "prometheus", f"--config.file={config}", f"--storage.tsdb.path={data}",
        f"--web.listen-address={HOST}:{port}", "--storage.tsdb.retention.time=1d", "--log.level=warn",
    ], log, cwd=data.parent)
    prom = Prometheus(port=port, config_path=config, config_text=config.read_text(), scrape_interval_s=STEP_S,
                      targets={}, process=process)
    with running(process):
        wait_until(lambda: http_ok(f"{prom.url}/-/ready"), timeout=60, what="Prometheus /-/ready", proc=process)
        yield prom


@contextlib.contextmanager
def backfilled_prometheus(t: Timeline) -> Iterator[Prometheus]:
    """Prometheus 2.42 serving the cAdvisor-shaped series of `t` and the recording rules of
    rules/recording.yml evaluated over them every 15 s (as the stack's evaluation interval)."""
    from components.prometheus.config import render_prometheus_config

    with temp_dir("cadvisor-backfill") as tmp:
        data, rules_out = tmp / "data", tmp / "recorded"
        (tmp / "cadvisor.om").write_text(openmetrics(t), encoding="utf-8")
        _promtool("tsdb", "create-blocks-from", "openmetrics", "--quiet", str(tmp / "cadvisor.om"), str(data))
        # Nothing scraped and no rule evaluated live: every sample is the backfilled one.
        config = tmp / "prometheus.yml"
        config.write_text(render_prometheus_config(scrape_interval="15s", evaluation_interval="15s",
                                                   scrape_timeout="10s", targets={}))
        with _serving(data, config, tmp / "prometheus-raw.log") as raw:
            recording = [path for path in repo_rule_files() if path.endswith("recording.yml")]
            _promtool("tsdb", "create-blocks-from", "rules", "--quiet", f"--url={raw.url}",
                      f"--start={int(t.start)}", f"--end={int(t.end)}", f"--eval-interval={STEP_S}s",
                      f"--output-dir={rules_out}", *recording)
        for block in rules_out.iterdir():
            shutil.move(str(block), data / block.name)
        with _serving(data, config, tmp / "prometheus.log") as prom:
            yield prom
