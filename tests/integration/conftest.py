"""Session-scoped fixtures: real services on 127.0.0.1, each on a free port.

PostgreSQL, Redis, the demo Django app (gunicorn), a Celery worker (-E), Flower,
nginx (stub_status) in front of the app, node/postgres/redis/nginx exporters and
Prometheus running the config rendered by `components.prometheus.config`.
Launchers live in `services.py` (also used by scripts/bench_panels.py).

Skip logic: when a binary or module is missing, the suite is skipped with what to
install, unless the CI environment variable is set: then it fails loudly.
Fault tests (marked `fault`) always run last.
"""

from __future__ import annotations

import os

import pytest

from . import services
from .panels import dashboard_queries, wait_for_data, without_zero_fallback
from .workload import BackgroundWorkload, run_rounds

SCRAPE_INTERVAL = "2s"
SCRAPE_TIMEOUT = "1s"
HERE = os.path.dirname(os.path.abspath(__file__))

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
    for i, item in zip(positions, ordered, strict=True):
        items[i] = item


def pytest_generate_tests(metafunc):
    if "panel_query" in metafunc.fixturenames:
        queries = dashboard_queries()
        metafunc.parametrize("panel_query", queries, ids=[q.id for q in queries])
    if "fallback_query" in metafunc.fixturenames:
        queries = [q for q in dashboard_queries() if without_zero_fallback(q.expr) != q.expr]
        metafunc.parametrize("fallback_query", queries, ids=[q.id for q in queries])


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
def certificates(tmp_path_factory):
    """A CA and an https certificate for 127.0.0.1 (30 days): the site is probed over https too."""
    return services.make_certificates(tmp_path_factory.mktemp("tls"), days=30)


@pytest.fixture(scope="session")
def nginx(django_app, certificates):
    with services.nginx_proxy(django_app, certificates) as n:
        yield n


@pytest.fixture(scope="session")
def blackbox_exporter(certificates):
    with services.blackbox_exporter(certificates.ca_cert) as e:
        yield e


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
def prometheus(django_app, celery_worker, flower, nginx, node_exporter, postgres_exporter, redis_exporter,
               nginx_exporter, blackbox_exporter):
    exporters = {"node": node_exporter, "postgres": postgres_exporter, "redis": redis_exporter,
                 "nginx": nginx_exporter, "blackbox": blackbox_exporter}
    targets = services.scrape_targets(django_app, flower, exporters, services.site_probe_urls(nginx))
    with services.prometheus_server(targets, scrape_interval=SCRAPE_INTERVAL, scrape_timeout=SCRAPE_TIMEOUT,
                                    probers={"blackbox": blackbox_exporter.address}) as prom:
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


@pytest.fixture(scope="session")
def prometheus_ready(prometheus, workload):
    """Every target up, then data for every metric and panel query, or 60 s have passed (polling).
    Tests then check each one and name what is missing."""
    services.wait_for_targets_up(prometheus, timeout=30)
    wait_for_data(prometheus, dashboard_queries(), timeout=60)
    return prometheus
