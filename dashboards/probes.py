"""Probes: the site as its users reach it (blackbox_exporter): up or down, latency, certificate expiry."""

from __future__ import annotations

from components import thresholds as th

from . import queries as q
from . import variables as v
from .panels import BARGAUGE, TIMESERIES, UP_DOWN_MAPPINGS, UP_DOWN_STEPS, PanelSpec, Query, build_dashboard

UID = "probes"
TITLE = "Probes"
DESCRIPTION = "HTTP probes of the site (blackbox_exporter): whether each URL answers, how fast, and certificate expiry."
VARIABLES = (v.ENVIRONMENT, v.PROBE)

PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="Probe Status",
        type=BARGAUGE,
        unit="none",
        min=0,
        max=1,
        thresholds=UP_DOWN_STEPS,
        mappings=UP_DOWN_MAPPINGS,
        queries=(Query(q.per_instance("max", f"probe_success{{{v.PROBES}}}"), "{{instance}}"),),
        description=("UP while the URL answers with a 2xx status (and, for https, a certificate the prober "
                     "trusts), DOWN otherwise; one bar per probed URL (the ProbeFailed alert)."),
        width=12,
    ),
    PanelSpec(
        title="Certificate Expiry",
        type=BARGAUGE,
        unit="d",
        min=0,
        thresholds=th.steps(th.CERTIFICATE_DAYS),
        queries=(Query(f"instance:probe_ssl_earliest_cert_expiry:days{{{v.PROBES}}}", "{{instance}}"),),
        description=("Days until the earliest certificate of each https URL's chain expires (recorded by a "
                     "rule): yellow within 14 days, red within 3, as the two expiry alerts. http URLs have none."),
        width=12,
    ),
    PanelSpec(
        title="Probe Latency",
        type=TIMESERIES,
        unit="s",
        min=0,
        thresholds=th.steps(th.PROBE_SECONDS),
        threshold_line=True,
        queries=(Query(q.recorded("instance:probe_duration_seconds:avg5m", v.PROBES), "{{instance}}"),),
        description=("Seconds each probe took (DNS, connect, TLS, request, response) on average over 5 minutes, "
                     "the recorded series ProbeSlow judges: it fires above 2 s (dashed line)."),
        width=24,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS, VARIABLES)
