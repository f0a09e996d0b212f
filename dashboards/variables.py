"""Template variables of the dashboards: which environment and which instances a dashboard shows.

One row per variable. Values come from `label_values` on the fixed scrape jobs' `up` series (an
instance that is down still has `up`, so it can still be picked), narrowed by the environment
chosen. Every variable is multi-select with an All whose value is `.*`: a regex that also
matches a label that is absent, so a single-host stack whose series carry no `environment`
(an external label: only alerts and remote-written series carry it) still shows everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from components import thresholds as th

ALL_VALUE = ".*"
# The labels that name one instance across environments: `sum by (INSTANCE) (...)` keeps one
# series per instance (two environments may have an instance of the same name).
INSTANCE = "environment, instance"


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    # label_values(<series>, <label_name>)
    series: str
    label_name: str

    @property
    def query(self) -> str:
        return f"label_values({self.series}, {self.label_name})"

    def matches(self, label: str | None = None) -> str:
        """The matcher a panel query uses: `instance=~"$host"`."""
        return f'{label or self.label_name}=~"${self.name}"'


ENVIRONMENT = Variable("environment", "Environment", "up", "environment")


def narrowed(job_selector: str, *variables: Variable) -> str:
    """A job's selector narrowed by the environment and by each of `variables`' values."""
    return ",".join((job_selector, ENVIRONMENT.matches(), *(variable.matches() for variable in variables)))


def in_environment(job_selector: str) -> str:
    """A job's selector narrowed by the environment only (services without a variable here)."""
    return narrowed(job_selector)


def _instances(name: str, label: str, job_selector: str) -> Variable:
    return Variable(name, label, f"up{{{in_environment(job_selector)}}}", "instance")


HOST = _instances("host", "Host", th.NODE)
DJANGO_INSTANCE = _instances("django_instance", "Django instance", th.DJANGO)
PG_INSTANCE = _instances("pg_instance", "PostgreSQL instance", th.PG)
REDIS_INSTANCE = _instances("redis_instance", "Redis instance", th.REDIS)
# The Docker hosts: each cAdvisor target watches the containers of one host.
DOCKER_HOST = _instances("docker_host", "Docker host", th.CADVISOR)
PROBE = _instances("probe", "Probe", th.BLACKBOX)
# Celery: the Flower instances (task events, workers) and the brokers' redis_exporters (queue lengths).
FLOWER = _instances("flower", "Flower", th.CELERY)
BROKER = _instances("broker", "Broker (Redis)", th.REDIS)
DATABASE = Variable("datname", "Database", f"pg_database_size_bytes{{{narrowed(th.PG_DB, PG_INSTANCE)}}}", "datname")
CONTAINER = Variable(
    "container", "Container", f"container_start_time_seconds{{{narrowed(th.CONTAINERS, DOCKER_HOST)}}}", "name"
)

# What each job's panels are narrowed by: the environment and, where the dashboard has one,
# the job's instance variable.
NODE = narrowed(th.NODE, HOST)
ROOT_FS = narrowed(th.ROOT_FS, HOST)
DJANGO = narrowed(th.DJANGO, DJANGO_INSTANCE)
PG = narrowed(th.PG, PG_INSTANCE)
PG_DB = narrowed(th.PG_DB, PG_INSTANCE, DATABASE)
REDIS = narrowed(th.REDIS, REDIS_INSTANCE)
CONTAINERS = narrowed(th.CONTAINERS, DOCKER_HOST, CONTAINER)
PROBES = narrowed(th.BLACKBOX, PROBE)
CELERY = narrowed(th.CELERY, FLOWER)
BROKER_QUEUES = narrowed(th.REDIS, BROKER)
