"""Application Performance: Django status codes, errors, latency, endpoints, models."""

from __future__ import annotations

from components import thresholds as th

from . import queries as q
from . import variables as v
from .panels import GAUGE, TIMESERIES, PanelSpec, Query, build_dashboard

UID = "application-performance"
TITLE = "Application Performance"
DESCRIPTION = "Django (django-prometheus) traffic, errors, latency per endpoint, model writes and exceptions."
VARIABLES = (v.ENVIRONMENT, v.DJANGO_INSTANCE)


def _status_class(prefix: str) -> str:
    responses = q.per_instance("sum", q.rate(q.DJANGO_RESPONSES, f'{q.DJANGO},status=~"{prefix}.."'))
    return q.or_zero(responses, q.DJANGO_TRAFFIC)


def _per_instance_by(counter: str, label: str) -> str:
    return q.or_zero(q.per_instance("sum", q.rate(counter, q.DJANGO), by=label), q.DJANGO_TRAFFIC,
                     **{label: "(none yet)"})


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="HTTP Response Status Codes",
        type=TIMESERIES,
        unit="reqps",
        stacked=True,
        queries=(
            Query(_status_class("2"), "{{instance}} 2xx"),
            Query(_status_class("4"), "{{instance}} 4xx"),
            Query(_status_class("5"), "{{instance}} 5xx"),
        ),
        description=(
            "Django responses per second by status class and instance, stacked. A class with no "
            "responses yet shows as 0."
        ),
        width=12,
    ),
    PanelSpec(
        title="Error Rate",
        type=GAUGE,
        unit="percent",
        min=0,
        max=100,
        thresholds=th.steps(th.HTTP_5XX_PERCENT),
        queries=(
            Query(f"100 * {q.DJANGO_5XX_RATIO_RECORDED}", "{{instance}}"),
        ),
        description=("Share of Django responses with a 5xx status over 5 minutes, one gauge per instance "
                     "(the recorded series the DjangoHighErrorRate alert judges). No data means no requests at all."),
        width=6,
    ),
    PanelSpec(
        title="Response Time p95",
        type=GAUGE,
        unit="s",
        min=0,
        thresholds=th.steps(th.LATENCY_P95_SECONDS),
        queries=(Query(q.DJANGO_P95_RECORDED, "{{instance}}"),),
        description=("95th percentile of Django request latency over all views, over 5 minutes, one gauge per "
                     "instance (the recorded series the DjangoHighLatencyP95 alert judges); target below 500 ms."),
        width=6,
    ),
    PanelSpec(
        title="Response Time by Endpoint",
        type=TIMESERIES,
        unit="s",
        queries=(Query(q.DJANGO_P95_BY_VIEW_RECORDED, "{{instance}} {{method}} {{view}}"),),
        description=("95th percentile latency per Django instance, view and HTTP method, over 5 minutes "
                     "(recorded by a rule)."),
        width=12,
    ),
    PanelSpec(
        title="Requests per Second by Endpoint",
        type=TIMESERIES,
        unit="reqps",
        queries=(
            Query(
                q.per_instance("sum", q.rate("django_http_requests_total_by_view_transport_method_total", q.DJANGO),
                               by="view, method"),
                "{{instance}} {{method}} {{view}}",
            ),
        ),
        description="Requests per second per Django instance, view and HTTP method.",
        width=12,
    ),
    PanelSpec(
        title="Database Operations by Model",
        type=TIMESERIES,
        unit="ops",
        queries=(
            Query(_per_instance_by("django_model_inserts_total", "model"), "{{instance}} inserts {{model}}"),
            Query(_per_instance_by("django_model_updates_total", "model"), "{{instance}} updates {{model}}"),
            Query(_per_instance_by("django_model_deletes_total", "model"), "{{instance}} deletes {{model}}"),
        ),
        description=(
            "Inserts, updates and deletes per second per Django instance and model. Only models using "
            "django_prometheus ExportModelOperationsMixin are counted; '(none yet)' means "
            "no such write has happened."
        ),
        width=12,
    ),
    PanelSpec(
        title="Exceptions by Type",
        type=TIMESERIES,
        unit="eps",
        queries=(
            Query(_per_instance_by("django_http_exceptions_total_by_type_total", "type"), "{{instance}} {{type}}"),
        ),
        description="Exceptions raised by Django views per second, per instance and exception type.",
        width=12,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS, VARIABLES)
