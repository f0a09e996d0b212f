"""The workload produced every kind of data, and every metric the product relies on exists."""

from __future__ import annotations

import pytest

from .panels import EXPECTED_METRICS


def test_workload_produced_every_status_class(workload):
    burst = workload.burst
    assert burst.rounds > 0
    assert burst.errors == 0, burst
    for status_class in ("2xx", "4xx", "5xx"):
        assert burst.by_status_class[status_class] > 0, burst.by_status_class


@pytest.mark.parametrize(
    "job,metric", [(job, name) for job, names in EXPECTED_METRICS.items() for name in names],
    ids=[f"{job}:{name}" for job, names in EXPECTED_METRICS.items() for name in names],
)
def test_metric_exists(prometheus_ready, job, metric):
    assert prometheus_ready.query(f'count({metric}{{job="{job}"}})'), f"no {metric} from job {job}"


def test_exceptions_and_celery_tasks_were_recorded(prometheus_ready):
    prom = prometheus_ready
    assert prom.query('django_http_exceptions_total_by_type_total{job="django",type="DemoError"} > 0')
    assert prom.query('sum(django_model_deletes_total{job="django",model="item"}) > 0')
    assert prom.query('sum(pg_stat_database_xact_rollback{job="postgres",datname="demo"}) > 0')
    assert prom.query('flower_events_total{job="celery",type="task-succeeded"} > 0')
    assert prom.query('flower_events_total{job="celery",type="task-failed"} > 0')
    # The slow task ran (about 1 s: above the 0.75 s bucket) and the broker's queue is checked.
    assert prom.query('flower_task_runtime_seconds_count{job="celery",task="shop.tasks.slow"} > 0')
    assert prom.query('flower_task_runtime_seconds_bucket{job="celery",task="shop.tasks.slow",le="0.75"}'
                      ' < ignoring (le) flower_task_runtime_seconds_count{job="celery",task="shop.tasks.slow"}')
    assert prom.query('redis_key_size{job="redis",db="db0",key="celery"}')
