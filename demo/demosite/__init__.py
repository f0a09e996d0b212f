"""The demo workload site: Django + django-prometheus + Celery."""
from .celery import app as celery_app

__all__ = ("celery_app",)
