"""Celery app of the demo site. Workers send task events so Flower can export
task metrics (`worker_send_task_events`, `task_send_sent_event`)."""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demosite.settings")

app = Celery("demosite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    worker_send_task_events=True,
    task_send_sent_event=True,
    task_ignore_result=os.environ.get("CELERY_RESULT_BACKEND") in (None, ""),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()
