"""Application Performance: Django status codes, errors, latency, endpoints, models."""

from __future__ import annotations

from components import thresholds as th

from . import queries as q
from .panels import GAUGE, TIMESERIES, PanelSpec, Query, build_dashboard

UID = "application-performance"
TITLE = "Application Performance"
DESCRIPTION = "Django (django-prometheus) traffic, errors, latency per endpoint, model writes and exceptions."

_RESPONSES = q.DJANGO_RESPONSES
_ALL_RESPONSES = f"sum(rate({_RESPONSES}{{{q.DJANGO}}}[{q.RATE}]))"


def _status_class(prefix: str) -> str:
    return f'sum(rate({_RESPONSES}{{{q.DJANGO},status=~"{prefix}.."}}[{q.RATE}]))'


def _model_writes(counter: str) -> str:
    return q.or_zero(
        f"sum by (model) (rate({counter}{{{q.DJANGO}}}[{q.RATE}]))",
        model="(none yet)",
    )


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="HTTP Response Status Codes",
        type=TIMESERIES,
        unit="reqps",
        stacked=True,
        queries=(
            Query(q.or_zero(_status_class("2")), "2xx"),
            Query(q.or_zero(_status_class("4")), "4xx"),
            Query(q.or_zero(_status_class("5")), "5xx"),
        ),
        description=(
            "Django responses per second by status class, stacked. A class with no "
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
            Query(
                f"100 * ({q.or_zero(_status_class('5'))}) / ({_ALL_RESPONSES} > 0)",
                "5xx",
            ),
        ),
        description="Share of Django responses with a 5xx status. No data means no requests at all.",
        width=6,
    ),
    PanelSpec(
        title="Response Time p95",
        type=GAUGE,
        unit="s",
        min=0,
        thresholds=th.steps(th.LATENCY_P95_SECONDS),
        queries=(Query(q.DJANGO_P95_RECORDED, "p95"),),
        description=("95th percentile of Django request latency over all views, over 5 minutes (the "
                     "recorded series the DjangoHighLatencyP95 alert judges); target below 500 ms."),
        width=6,
    ),
    PanelSpec(
        title="Response Time by Endpoint",
        type=TIMESERIES,
        unit="s",
        queries=(Query(q.DJANGO_P95_BY_VIEW_RECORDED, "{{method}} {{view}}"),),
        description="95th percentile latency per Django view and HTTP method, over 5 minutes (recorded by a rule).",
        width=12,
    ),
    PanelSpec(
        title="Requests per Second by Endpoint",
        type=TIMESERIES,
        unit="reqps",
        queries=(
            Query(
                "sum by (view, method) (rate(django_http_requests_total_by_view_transport_method_total"
                f"{{{q.DJANGO}}}[{q.RATE}]))",
                "{{method}} {{view}}",
            ),
        ),
        description="Requests per second per Django view and HTTP method.",
        width=12,
    ),
    PanelSpec(
        title="Database Operations by Model",
        type=TIMESERIES,
        unit="ops",
        queries=(
            Query(_model_writes("django_model_inserts_total"), "inserts {{model}}"),
            Query(_model_writes("django_model_updates_total"), "updates {{model}}"),
            Query(_model_writes("django_model_deletes_total"), "deletes {{model}}"),
        ),
        description=(
            "Inserts, updates and deletes per second per Django model. Only models using "
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
            Query(
                q.or_zero(
                    "sum by (type) (rate(django_http_exceptions_total_by_type_total"
                    f"{{{q.DJANGO}}}[{q.RATE}]))",
                    type="(none yet)",
                ),
                "{{type}}",
            ),
        ),
        description="Exceptions raised by Django views per second, by exception type.",
        width=12,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS)
