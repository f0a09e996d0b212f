"""Session-scoped fixtures: real services on 127.0.0.1, each on a free port.

PostgreSQL, Redis, the demo Django app (gunicorn), a Celery worker (-E), Flower,
nginx (stub_status) in front of the app, node/postgres/redis/nginx exporters and
Prometheus running the config rendered by `components.prometheus_config`.
Launchers live in `services.py` (also used by scripts/bench_panels.py).

Skip logic: when a binary or module is missing, the suite is skipped with what to
install, unless the CI environment variable is set: then it fails loudly.
Fault tests (marked `fault`) always run last.
"""

from __future__ import annotations

import os
import time

import pytest

from . import services
from .panels import dashboard_queries, evaluate
from .workload import BackgroundWorkload, run_rounds

SCRAPE_INTERVAL = "2s"
SCRAPE_TIMEOUT = "1s"
HERE = os.path.dirname(os.path.abspath(__file__))

# Metric names the product relies on (SPEC section 7), by job: every one must exist.
EXPECTED_METRICS = {
    "node": ["node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes",
             "node_filesystem_avail_bytes", "node_filesystem_size_bytes",
             "node_network_receive_bytes_total", "node_network_transmit_bytes_total"],
    "postgres": ["pg_up", "pg_stat_database_numbackends", "pg_stat_activity_count",
                 "pg_settings_max_connections", "pg_stat_database_blks_hit", "pg_stat_database_blks_read",
                 "pg_stat_database_xact_commit", "pg_stat_database_xact_rollback",
                 "pg_stat_database_tup_inserted", "pg_stat_database_tup_updated",
                 "pg_stat_database_tup_deleted", "pg_database_size_bytes"],
    "redis": ["redis_up", "redis_memory_used_bytes", "redis_memory_max_bytes", "redis_connected_clients",
              "redis_commands_processed_total"],
    "nginx": ["nginx_up", "nginx_connections_active", "nginx_http_requests_total"],
    "django": ["django_http_requests_total_by_method_total",
               "django_http_responses_total_by_status_view_method_total",
               "django_http_requests_latency_seconds_by_view_method_bucket",
               "django_http_requests_total_by_view_transport_method_total",
               "django_model_inserts_total", "django_model_updates_total", "django_model_deletes_total",
               "django_http_exceptions_total_by_type_total"],
    "celery": ["flower_events_total", "flower_worker_online", "flower_task_runtime_seconds_bucket"],
}


def ci_is_set() -> bool:
    return os.environ.get("CI", "") != ""


def pytest_configure(config):
    config.addinivalue_line("markers", "fault: stops and restarts real services; runs after every other test")


# Order of the suite's files; fault tests always last. Other directories' tests keep their places.
FILE_ORDER = ("test_prometheus_config.py", "test_metrics.py", "test_panels.py")


def _rank(item) -> tuple[int, int]:
    if item.get_closest_marker("fault") is not None:
        return (1, 0)
    name = os.path.basename(str(item.fspath))
    return (0, FILE_ORDER.index(name) if name in FILE_ORDER else len(FILE_ORDER))


def pytest_collection_modifyitems(config, items):
    positions = [i for i, item in enumerate(items) if str(item.fspath).startswith(HERE + os.sep)]
    ordered = sorted((items[i] for i in positions), key=_rank)  # stable: keeps collection order within a rank
    for i, item in zip(positions, ordered):
        items[i] = item


def pytest_generate_tests(metafunc):
    if "panel_query" in metafunc.fixturenames:
        queries = dashboard_queries()
        metafunc.parametrize("panel_query", queries, ids=[q.id for q in queries])


@pytest.fixture(scope="session", autouse=True)
def integration_requirements():
    missing = services.missing_requirements()
    if missing:
        message = "integration suite needs: " + "; ".join(missing)
        if ci_is_set():
            pytest.fail(f"CI is set and {message}", pytrace=False)
        pytest.skip(message)


# ---------------------------------------------------------------------------
# services


@pytest.fixture(scope="session")
def postgres():
    with services.postgres_server() as pg:
        yield pg


@pytest.fixture(scope="session")
def redis():
    with services.redis_server() as r:
        yield r


@pytest.fixture(scope="session")
def django_app(postgres, redis):
    with services.django_app(postgres, redis) as app:
        yield app


@pytest.fixture(scope="session")
def celery_worker(django_app):
    with services.celery_worker(django_app) as worker:
        yield worker


@pytest.fixture(scope="session")
def flower(django_app):
    with services.flower(django_app) as f:
        yield f


@pytest.fixture(scope="session")
def nginx(django_app):
    with services.nginx_proxy(django_app) as n:
        yield n


@pytest.fixture(scope="session")
def node_exporter():
    with services.node_exporter() as e:
        yield e


@pytest.fixture(scope="session")
def postgres_exporter(postgres):
    with services.postgres_exporter(postgres) as e:
        yield e


@pytest.fixture(scope="session")
def redis_exporter(redis):
    with services.redis_exporter(redis) as e:
        yield e


@pytest.fixture(scope="session")
def nginx_exporter(nginx):
    with services.nginx_exporter(nginx) as e:
        yield e


@pytest.fixture(scope="session")
def prometheus(django_app, celery_worker, flower, node_exporter, postgres_exporter, redis_exporter,
               nginx_exporter):
    exporters = {"node": node_exporter, "postgres": postgres_exporter, "redis": redis_exporter,
                 "nginx": nginx_exporter}
    targets = services.scrape_targets(django_app, flower, exporters)
    with services.prometheus_server(targets, scrape_interval=SCRAPE_INTERVAL,
                                    scrape_timeout=SCRAPE_TIMEOUT) as prom:
        yield prom


# ---------------------------------------------------------------------------
# workload and readiness


@pytest.fixture(scope="session")
def workload(nginx, celery_worker, prometheus):
    """A burst of every kind of request, then a slow trickle until the session ends (bounded)."""
    burst = run_rounds(nginx.url, rounds=6, max_seconds=30)
    with BackgroundWorkload(nginx.url, rounds=300, max_seconds=240, pause=1.0) as background:
        background.burst = burst
        yield background


def missing_data(prom: services.Prometheus, queries) -> list[str]:
    missing = [f"{job}: {name}" for job, names in EXPECTED_METRICS.items() for name in names
               if not prom.query(f'count({name}{{job="{job}"}})')]
    now = time.time()
    for q in queries:
        for mode in ("range", "instant"):
            if evaluate(prom, q, mode=mode, now=now).series == 0:
                missing.append(f"{q.id} ({mode})")
    return missing


@pytest.fixture(scope="session")
def prometheus_ready(prometheus, workload):
    """Every target up, then data for every metric and panel query, or 60 s have passed (polling).
    Tests then check each one and name what is missing."""
    services.wait_for_targets_up(prometheus, timeout=30)
    queries = dashboard_queries()
    deadline = time.monotonic() + 60
    while missing_data(prometheus, queries) and time.monotonic() < deadline:
        time.sleep(1)
    return prometheus
