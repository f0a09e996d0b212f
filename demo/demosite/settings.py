"""Settings of the demo workload app.

Everything comes from environment variables. There is no default SECRET_KEY:
set DJANGO_SECRET_KEY (the tests pass a random one).

| variable | default |
|---|---|
| DJANGO_SECRET_KEY | required |
| DJANGO_DEBUG | false |
| DJANGO_ALLOWED_HOSTS | localhost,127.0.0.1 (comma separated) |
| DATABASE_HOST / DATABASE_PORT | 127.0.0.1 / 5432 |
| DATABASE_NAME / DATABASE_USER / DATABASE_PASSWORD | demo / demo / (empty) |
| CELERY_BROKER_URL | redis://127.0.0.1:6379/0 |
| CELERY_RESULT_BACKEND | none (results are not stored) |
"""
from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ImproperlyConfigured(f"environment variable {name} must be set")
    return value


def _env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = _env("DJANGO_SECRET_KEY")
DEBUG = _env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django_prometheus",
    "shop",
]

# django-prometheus: the Before middleware first, the After middleware last.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "demosite.urls"
WSGI_APPLICATION = "demosite.wsgi.application"
TEMPLATES: list = []

DATABASES = {
    "default": {
        # Exports django_db_* metrics (connections, queries, errors).
        "ENGINE": "django_prometheus.db.backends.postgresql",
        "HOST": os.environ.get("DATABASE_HOST", "127.0.0.1"),
        "PORT": os.environ.get("DATABASE_PORT", "5432"),
        "NAME": os.environ.get("DATABASE_NAME", "demo"),
        "USER": os.environ.get("DATABASE_USER", "demo"),
        "PASSWORD": os.environ.get("DATABASE_PASSWORD", ""),
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"connect_timeout": 5},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
