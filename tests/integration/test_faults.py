"""Faults: stopping Redis / PostgreSQL shows that service down on the Service Health
panel within two scrape intervals (plus a margin for the exporter's own scrape), the
other services stay up, and a restart brings it back.

Marked `fault`: conftest orders these after every other test.
"""

from __future__ import annotations

import re
import time

import pytest

from . import services
from .panels import PanelQuery, dashboard_queries, evaluate

pytestmark = pytest.mark.fault

HEALTH_DASHBOARD = "infrastructure-health"
HEALTH_PANEL = "Service Health Status"
SERVICES = ("django", "postgres", "redis", "celery", "nginx")


def health_queries() -> dict[str, PanelQuery]:
    """Service (job name) -> the Service Health panel's query for it."""
    found: dict[str, PanelQuery] = {}
    for q in dashboard_queries():
        if q.dashboard == HEALTH_DASHBOARD and q.panel == HEALTH_PANEL:
            jobs = set(re.findall(r'job="(\w+)"', q.expr))
            for job in jobs & set(SERVICES):
                found[job] = q
    missing = set(SERVICES) - set(found)
    assert not missing, f"{HEALTH_DASHBOARD}/{HEALTH_PANEL} has no query for {sorted(missing)}"
    return found


def health_value(prom: services.Prometheus, q: PanelQuery) -> float | None:
    """The panel's value for this service: the minimum over its series (None: no series)."""
    ev = evaluate(prom, q, mode="instant")
    assert ev.error is None, f"{q.id}: {ev.error}"
    result = prom.query(ev.promql)
    values = [float(s["value"][1]) for s in result]
    return min(values) if values else None


def wait_for_value(prom, q: PanelQuery, expected: float, timeout: float) -> float:
    """Poll until the panel shows `expected`; return how long it took."""
    started = time.monotonic()
    last = None
    while time.monotonic() - started < timeout:
        last = health_value(prom, q)
        if last == expected:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{q.id} showed {last!r}, not {expected}, {timeout:.1f}s after the change\n  {q.expr}")


# Services that really depend on another one: Celery workers lose their broker when Redis
# stops, so a Celery query that follows the workers may rightly show down then.
DEPENDS_ON = {"redis": {"celery"}}


def assert_others_up(prom, queries: dict[str, PanelQuery], down: str) -> None:
    exempt = {down} | DEPENDS_ON.get(down, set())
    values = {job: health_value(prom, q) for job, q in queries.items() if job not in exempt}
    assert all(v == 1 for v in values.values()), f"with {down} stopped, other services: {values}"


def detection_budget(prom: services.Prometheus) -> float:
    # Two scrape intervals, plus one scrape timeout for the exporter's own scrape, plus polling slack.
    return 2 * prom.scrape_interval_s + 1.0 + 0.5


@pytest.fixture
def quiet(prometheus_ready, workload):
    """Stop the background workload (its requests would only pile up against a stopped service)."""
    workload.stop()
    return prometheus_ready


@pytest.mark.parametrize("service_name", ["redis", "postgres"])
def test_stopping_a_service_shows_it_down_then_restart_shows_it_up(quiet, request, service_name):
    prom = quiet
    service = request.getfixturevalue(service_name)
    queries = health_queries()
    q = queries[service_name]
    assert health_value(prom, q) == 1, f"{q.id} should show {service_name} up before the fault"

    service.stop()
    try:
        took = wait_for_value(prom, q, 0.0, timeout=detection_budget(prom))
        print(f"{service_name} shown down after {took:.1f}s")
        assert_others_up(prom, queries, down=service_name)
    finally:
        service.start()
    # The exporter reconnects on its next scrape; allow a reconnect on top of the budget.
    took = wait_for_value(prom, q, 1.0, timeout=detection_budget(prom) + 2 * prom.scrape_interval_s)
    print(f"{service_name} shown up again after {took:.1f}s")
    assert_others_up(prom, queries, down=service_name)
