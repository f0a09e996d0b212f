"""Containers: per-container CPU, memory against its limit, restarts and network (cAdvisor)."""

from __future__ import annotations

from components import thresholds as th

from . import queries as q
from . import variables as v
from .panels import TIMESERIES, PanelSpec, Query, build_dashboard

UID = "containers"
TITLE = "Containers"
DESCRIPTION = "Each Docker container's CPU, memory against its limit, restarts and network, from cAdvisor."
VARIABLES = (v.ENVIRONMENT, v.DOCKER_HOST, v.CONTAINER)

# One series per container of each Docker host (a name is unique on one host): the records keep `name`.
LEGEND = "{{name}} on {{instance}}"


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="CPU Usage by Container",
        type=TIMESERIES,
        unit="percent",
        min=0,
        # Summed over cAdvisor's `cpu` label: "total", or one per core where per-CPU usage is enabled.
        queries=(Query(f"100 * {q.recorded('instance_name:container_cpu_usage_seconds:rate5m', q.CONTAINERS)}",
                       LEGEND),),
        description=("CPU time each container used, in percent of one core (200 = two cores busy): "
                     "rate of container_cpu_usage_seconds_total over 5 minutes, recorded every 2 minutes."),
        width=12,
    ),
    PanelSpec(
        title="Memory Working Set by Container",
        type=TIMESERIES,
        unit="bytes",
        min=0,
        queries=(
            # max, not sum: a replaced container's last sample lingers for a few minutes next to its successor.
            Query(q.recorded("instance_name:container_memory_working_set_bytes:max", q.CONTAINERS), LEGEND),
            Query(q.recorded("instance_name:container_spec_memory_limit_bytes:max", q.CONTAINERS), f"{LEGEND} limit"),
        ),
        description=("Each container's working set (memory the kernel cannot reclaim without swapping: what "
                     "counts against its limit) and its memory limit. A container without a limit has no "
                     "limit line (cAdvisor reports no limit as 0). Recorded every 2 minutes."),
        width=12,
    ),
    PanelSpec(
        title="Memory Usage of Limit",
        type=TIMESERIES,
        unit="percent",
        min=0,
        max=100,
        thresholds=th.steps(th.CONTAINER_MEMORY_PERCENT),
        threshold_line=True,
        queries=(Query(f"100 * instance_name:container_memory_limit_utilisation:ratio{{{q.CONTAINERS}}}", LEGEND),),
        description=("Working set as a share of the container's own memory limit (the series the "
                     "ContainerMemoryNearLimit alert judges, red from 90%). Containers without a limit are "
                     "not shown."),
        width=12,
    ),
    PanelSpec(
        title="Restarts (last 15 min)",
        type=TIMESERIES,
        unit="short",
        min=0,
        thresholds=th.steps(th.CONTAINER_RESTARTS),
        threshold_line=True,
        queries=(Query(f"instance_name:container_start_time_seconds:changes15m{{{q.CONTAINERS}}}", LEGEND),),
        description=("Starts of each container in the 15 minutes before each point: changes of "
                     "container_start_time_seconds (Docker's start time; cAdvisor has no restart counter), "
                     "the series ContainerRestartLoop judges. A container re-created by a deploy is a new "
                     "container, not a restart. A container that dies within seconds may be seen on some "
                     "starts only."),
        width=12,
    ),
    PanelSpec(
        title="Network Traffic by Container",
        type=TIMESERIES,
        unit="Bps",
        queries=(
            Query(q.recorded("instance_name:container_network_receive_bytes:rate5m", q.CONTAINERS),
                  f"{LEGEND} receive"),
            Query(q.recorded("instance_name:container_network_transmit_bytes:rate5m", q.CONTAINERS),
                  f"{LEGEND} transmit"),
        ),
        description=("Bytes received and transmitted per second by each container over 5 minutes (recorded every 2 "
                     "minutes), all its interfaces together. A container on the host's network (node_exporter) "
                     "shows the host's interfaces."),
        width=24,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS, VARIABLES)
