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


def _status_class(status_class: str) -> str:
    responses = q.recorded("instance_status_class:django_http_responses:rate5m",
                           f'{q.DJANGO},status_class="{status_class}"')
    return q.or_zero(f"sum by ({q.BY_INSTANCE}) ({responses})", q.DJANGO_TRAFFIC)


def _top_by(record: str, label: str) -> str:
    """The top series of a per-instance-and-`label` record; '(none yet)' where an instance has none."""
    series = q.recorded(record, q.DJANGO)
    return q.or_zero(q.top(series, label), q.DJANGO_TRAFFIC, unless=series, **{label: "(none yet)"})


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="HTTP Response Status Codes",
        type=TIMESERIES,
        unit="reqps",
        stacked=True,
        queries=(
            Query(_status_class("2xx"), "{{instance}} 2xx"),
            Query(_status_class("4xx"), "{{instance}} 4xx"),
            Query(_status_class("5xx"), "{{instance}} 5xx"),
        ),
        description=(
            "Django responses per second by status class and instance over 5 minutes, stacked (recorded "
            "every 2 minutes). A class with no responses yet shows as 0."
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
        max_data_points=q.TOP_N_POINTS,
        type=TIMESERIES,
        unit="s",
        queries=(Query(q.top(q.DJANGO_P95_BY_VIEW_RECORDED, "view, method"), "{{instance}} {{method}} {{view}}"),),
        description=(f"95th percentile latency per Django instance, view and HTTP method, over 5 minutes "
                     f"(recorded every 2 minutes): the {q.TOP_N} slowest over the last hour shown."),
        width=12,
    ),
    PanelSpec(
        title="Requests per Second by Endpoint",
        max_data_points=q.TOP_N_POINTS,
        type=TIMESERIES,
        unit="reqps",
        queries=(
            Query(q.top(q.recorded("instance_view_method:django_http_requests:rate5m", q.DJANGO), "view, method"),
                  "{{instance}} {{method}} {{view}}"),
        ),
        description=(f"Requests per second per Django instance, view and HTTP method over 5 minutes (recorded "
                     f"every 2 minutes): the {q.TOP_N} busiest over the last hour shown."),
        width=12,
    ),
    PanelSpec(
        title="Database Operations by Model",
        max_data_points=q.TOP_N_POINTS,
        type=TIMESERIES,
        unit="ops",
        queries=(
            Query(_top_by("instance_model:django_model_inserts:rate5m", "model"), "{{instance}} inserts {{model}}"),
            Query(_top_by("instance_model:django_model_updates:rate5m", "model"), "{{instance}} updates {{model}}"),
            Query(_top_by("instance_model:django_model_deletes:rate5m", "model"), "{{instance}} deletes {{model}}"),
        ),
        description=(
            "Inserts, updates and deletes per second per Django instance and model over 5 minutes (recorded "
            f"every 2 minutes): for each, the {q.TOP_N} busiest over the last hour shown. Only models using "
            "django_prometheus ExportModelOperationsMixin are counted; '(none yet)' means "
            "no such write has happened."
        ),
        width=12,
    ),
    PanelSpec(
        title="Exceptions by Type",
        max_data_points=q.TOP_N_POINTS,
        type=TIMESERIES,
        unit="eps",
        queries=(
            Query(_top_by("instance_type:django_http_exceptions:rate5m", "type"), "{{instance}} {{type}}"),
        ),
        description=(f"Exceptions raised by Django views per second, per instance and exception type over 5 "
                     f"minutes (recorded every 2 minutes): the {q.TOP_N} most frequent over the last hour shown."),
        width=12,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS, VARIABLES)
