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


class DemoTaskError(RuntimeError):
    pass


@shared_task
def flaky(fail: bool) -> str:
    """Fails on demand, so task-failed events exist."""
    if fail:
        raise DemoTaskError("flaky task failed on purpose")
    return "ok"
