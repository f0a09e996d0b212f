"""Celery tasks of the demo app."""
from __future__ import annotations

import time

from celery import shared_task

from .models import TaskRun


@shared_task
def add(x: int, y: int) -> int:
    return x + y


@shared_task
def record_run(label: str, seconds: float = 0.0) -> int:
    """Sleeps a little (so task runtimes are not all zero) and writes a row."""
    if seconds > 0:
        time.sleep(min(seconds, 2.0))
    return TaskRun.objects.create(task="record_run", result=label[:200]).pk


# Slow tasks stay bounded: a demo worker is never held for long.
SLOW_TASK_MAX_SECONDS = 5.0


@shared_task
def slow(seconds: float = 1.0) -> float:
    """Takes its time, so the runtime p95 by task has a slow task to show."""
    seconds = max(0.0, min(seconds, SLOW_TASK_MAX_SECONDS))
    time.sleep(seconds)
    return seconds


class DemoTaskError(RuntimeError):
    pass


@shared_task
def flaky(fail: bool) -> str:
    """Fails on demand, so task-failed events exist."""
    if fail:
        raise DemoTaskError("flaky task failed on purpose")
    return "ok"
