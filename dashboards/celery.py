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


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="Task Throughput by State",
        type=TIMESERIES,
        unit="ops",
        min=0,
        queries=(Query(q.recorded("instance_type:flower_events:rate5m", v.CELERY), "{{instance}} {{type}}"),),
        description=("Task events per second by state (task-sent by producers, task-received, task-started, "
                     "task-succeeded, task-failed, task-retried... by workers), per Flower instance, over 5 "
                     "minutes (recorded every 2 minutes)."),
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
        max_data_points=q.TOP_N_POINTS,
        type=TIMESERIES,
        unit="s",
        min=0,
        queries=(Query(q.top(q.recorded("instance_task:flower_task_runtime_seconds:p95_5m", v.CELERY), "task"),
                       "{{instance}} {{task}}"),),
        description=("95th percentile of the runtime of the tasks that succeeded, per task name, over 5 minutes "
                     f"(Flower's histogram, recorded every 2 minutes; failed tasks report no runtime): the {q.TOP_N} "
                     "slowest over the last hour shown."),
        width=12,
    ),
    PanelSpec(
        title="Tasks Executing",
        type=TIMESERIES,
        unit="short",
        min=0,
        queries=(Query(q.recorded("instance_worker:flower_worker_executing_tasks:max", v.CELERY),
                       "{{instance}} {{worker}}"),),
        description=("Tasks each worker is executing, as its last heartbeat (every 2 s) told Flower, recorded "
                     "every 2 minutes."),
        width=12,
    ),
    PanelSpec(
        title="Queue Backlog",
        type=TIMESERIES,
        unit="short",
        min=0,
        thresholds=th.steps(th.CELERY_BACKLOG_TASKS),
        threshold_line=True,
        # The raw length, not a record: a burst shows at once (one series per queue, cheap at any range).
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
