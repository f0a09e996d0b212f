"""Models whose inserts/updates/deletes django-prometheus counts
(`django_model_inserts_total{model="item"}` and so on)."""
from django.db import models
from django_prometheus.models import ExportModelOperationsMixin


class Item(ExportModelOperationsMixin("item"), models.Model):
    name = models.CharField(max_length=100)
    quantity = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def as_dict(self) -> dict:
        return {"id": self.pk, "name": self.name, "quantity": self.quantity}


class TaskRun(ExportModelOperationsMixin("taskrun"), models.Model):
    """Written by the Celery worker, and by the web app when it enqueues."""

    task = models.CharField(max_length=100)
    result = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
