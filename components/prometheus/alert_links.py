"""Where each alert links to: its runbook section and the dashboard that shows it.

Plain Python, no Pulumi import. `ALERT_DASHBOARDS` is the one table from alert name to the uid of
the dashboard that shows it (and of any other dashboard whose time series it concerns): the rule
renderer (`components.prometheus.rules`) turns the first into each alert's `dashboard_url`
annotation, and the dashboards package all of them into each dashboard's "Firing alerts"
annotation query. The runbook of an alert is the section `## <alert name>` of
`docs/runbooks.md`; its anchor is the heading's, as GitHub and GitLab render it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# The repository path of the runbooks: the base of `runbook_url` while `prometheus.runbookUrl` is unset.
RUNBOOK_PATH = "docs/runbooks.md"

# Dashboard uids as the dashboards package declares them (components never imports it; a unit test
# checks each uid is in dashboards.DASHBOARD_UIDS).
SYSTEM_OVERVIEW = "system-overview"
APPLICATION = "application-performance"
DATABASE = "database-performance"
INFRASTRUCTURE = "infrastructure-health"
CONTAINERS = "containers"
PROBES = "probes"
CELERY = "celery"


class Shown(NamedTuple):
    """`link`: the dashboard that shows the alert (its dashboard_url); `also`: other dashboards
    whose time series panels it concerns, which mark it too."""

    link: str
    also: tuple[str, ...] = ()


ALERT_DASHBOARDS: dict[str, Shown] = {
    # Host resources over time, per host.
    "HostHighCpuUsage": Shown(INFRASTRUCTURE),
    "HostHighMemoryUsage": Shown(INFRASTRUCTURE),
    "HostDiskAlmostFull": Shown(INFRASTRUCTURE),
    "HostDiskWillFillIn24Hours": Shown(INFRASTRUCTURE),
    # Status codes, error rate, latency per view; the overview's traffic and response time too.
    "DjangoHighErrorRate": Shown(APPLICATION, also=(SYSTEM_OVERVIEW,)),
    "DjangoHighLatencyP95": Shown(APPLICATION, also=(SYSTEM_OVERVIEW,)),
    "PostgresLowCacheHitRatio": Shown(DATABASE),
    "PostgresTooManyConnections": Shown(DATABASE, also=(SYSTEM_OVERVIEW,)),
    "RedisMemoryNearMax": Shown(INFRASTRUCTURE),
    "ContainerMemoryNearLimit": Shown(CONTAINERS),
    "ContainerRestartLoop": Shown(CONTAINERS),
    # Service Health Status: one UP/DOWN bar per service instance; the service's own panels go blank.
    "DjangoDown": Shown(INFRASTRUCTURE, also=(SYSTEM_OVERVIEW, APPLICATION)),
    "PostgresDown": Shown(INFRASTRUCTURE, also=(SYSTEM_OVERVIEW, DATABASE)),
    "RedisDown": Shown(INFRASTRUCTURE),
    "NginxDown": Shown(INFRASTRUCTURE),
    "CeleryNoWorkersOnline": Shown(INFRASTRUCTURE),
    "CeleryFlowerDown": Shown(INFRASTRUCTURE),
    # Task throughput, failure ratio, runtimes, executing tasks and the broker's queue backlog.
    "CeleryHighTaskFailureRatio": Shown(CELERY),
    "CeleryQueueBacklogGrowing": Shown(CELERY),
    "CeleryWorkersNotTakingTasks": Shown(CELERY, also=(INFRASTRUCTURE,)),
    "TargetDown": Shown(INFRASTRUCTURE),
    # No dashboard shows Prometheus' own health: these mark the infrastructure panels whose data
    # (and alerts) they put in doubt; the runbook gives the queries to run in Prometheus.
    "PrometheusConfigReloadFailed": Shown(INFRASTRUCTURE),
    "PrometheusRuleEvaluationFailures": Shown(INFRASTRUCTURE),
    "PrometheusRemoteWriteFailing": Shown(INFRASTRUCTURE),
    "PrometheusRemoteWriteBehind": Shown(INFRASTRUCTURE),
    "ProbeFailed": Shown(PROBES),
    "ProbeSlow": Shown(PROBES),
    "ProbeCertificateExpiresIn14Days": Shown(PROBES),
    "ProbeCertificateExpiresIn3Days": Shown(PROBES),
    "Watchdog": Shown(INFRASTRUCTURE),
}

# Always firing: as an annotation it would mark every moment of every panel.
NOT_ANNOTATED = frozenset({"Watchdog"})


def runbook_anchor(alert: str) -> str:
    """The anchor of `## <alert>`: GitHub lowercases a heading of letters and digits."""
    return alert.lower()


def annotated_alerts(uid: str) -> tuple[str, ...]:
    """The alerts a dashboard marks on its time series panels while they fire, sorted."""
    return tuple(sorted(alert for alert, shown in ALERT_DASHBOARDS.items()
                        if uid in (shown.link, *shown.also) and alert not in NOT_ANNOTATED))


@dataclass(frozen=True)
class AlertLinks:
    """The bases of the two link annotations: the runbook document's URL (or repository path)
    and Grafana's public root URL."""

    runbook_url: str
    grafana_url: str

    def annotations(self, alert: str, where: str) -> dict[str, str]:
        """{runbook_url, dashboard_url} of `alert`; `where` names the rule file for the error."""
        shown = ALERT_DASHBOARDS.get(alert)
        if shown is None:
            raise ValueError(f"{where}: alert {alert!r} has no dashboard: add it to ALERT_DASHBOARDS in "
                             f"components/prometheus/alert_links.py (and its section to {RUNBOOK_PATH})")
        return {"runbook_url": f"{self.runbook_url}#{runbook_anchor(alert)}",
                "dashboard_url": f"{self.grafana_url.rstrip('/')}/d/{shown.link}"}
