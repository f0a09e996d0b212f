"""Celery: task throughput by state, failures, runtimes, what runs now, and the broker's queue backlog.

Task metrics are Flower's (`flower_events_total`, `flower_task_runtime_seconds`,
`flower_worker_number_of_currently_executing_tasks`: the same names in the image's Flower 2.0.1 and
the tests' 2.2.0); the backlog is the length of each broker queue list that redis_exporter checks
(`exporters.redis.checkSingleKeys`, `redis_key_size`).
"""

from __future__ import annotations

from components import thresholds as th

from . import queries as q
from . import variables as v
from .panels import TIMESERIES, PanelSpec, Query, build_dashboard

UID = "celery"
TITLE = "Celery"
DESCRIPTION = ("Celery tasks as Flower sees them (throughput by state, failure ratio, runtime p95 by task, "
               "tasks executing) and the backlog of the broker's queues (redis_exporter).")
VARIABLES = (v.ENVIRONMENT, v.FLOWER, v.BROKER)

# Every task event type (sent, received, started, succeeded, failed, retried, rejected, revoked).
_TASK_EVENTS = f'{v.CELERY},type=~"task-.*"'

PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="Task Throughput by State",
        type=TIMESERIES,
        unit="ops",
        min=0,
        queries=(Query(q.per_instance("sum", q.rate("flower_events_total", _TASK_EVENTS), by="type"),
                       "{{instance}} {{type}}"),),
        description=("Task events per second by state (task-sent by producers, task-received, task-started, "
                     "task-succeeded, task-failed, task-retried... by workers), per Flower instance."),
        width=12,
    ),
    PanelSpec(
        title="Task Failure Ratio",
        type=TIMESERIES,
        unit="percent",
        min=0,
        max=100,
        thresholds=th.steps(th.CELERY_FAILURE_PERCENT),
        threshold_line=True,
        queries=(Query(f"100 * instance:flower_task_failures:ratio_rate5m{{{v.CELERY}}}", "{{instance}}"),),
        description=("Share of the tasks finished in the last 5 minutes that failed (recorded by a rule); "
                     "CeleryHighTaskFailureRatio fires above 10 % (dashed line), yellow from 5 %."),
        width=12,
    ),
    PanelSpec(
        title="Task Runtime p95 by Task",
        type=TIMESERIES,
        unit="s",
        min=0,
        queries=(Query("histogram_quantile(0.95, " + q.per_instance(
            "sum", q.rate("flower_task_runtime_seconds_bucket", v.CELERY), by="task, le") + ")",
            "{{instance}} {{task}}"),),
        description=("95th percentile of the runtime of the tasks that succeeded, per task name "
                     "(Flower's histogram; failed tasks report no runtime)."),
        width=12,
    ),
    PanelSpec(
        title="Tasks Executing",
        type=TIMESERIES,
        unit="short",
        min=0,
        queries=(Query(q.per_instance("max", f"flower_worker_number_of_currently_executing_tasks{{{v.CELERY}}}",
                                      by="worker"), "{{instance}} {{worker}}"),),
        description="Tasks each worker is executing, as its last heartbeat (every 2 s) told Flower.",
        width=12,
    ),
    PanelSpec(
        title="Queue Backlog",
        type=TIMESERIES,
        unit="short",
        min=0,
        thresholds=th.steps(th.CELERY_BACKLOG_TASKS),
        threshold_line=True,
        queries=(Query(q.per_instance("max", f"redis_key_size{{{v.BROKER_QUEUES}}}", by="db, key"),
                       "{{instance}} {{db}} {{key}}"),),
        description=("Tasks waiting in each broker queue: the length of the queue's list, read by redis_exporter "
                     "(exporters.redis.checkSingleKeys; 0 when the queue is empty). CeleryQueueBacklogGrowing "
                     "fires above 100 tasks on average over 5 minutes while the queue keeps growing (dashed line)."),
        width=24,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS, VARIABLES)
