"""Launchers for the real services of the integration suite, as plain context managers.

Every service runs on 127.0.0.1 on a free port, in a temporary directory that is
removed when its context exits. Processes are stopped with their own stop signal,
waited for, then killed (their whole process group) if they do not exit in time.

Used by the pytest fixtures in `conftest.py` and by `scripts/bench_panels.py`
(through `environment()`), so both run exactly the same stack.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO_ROOT / "demo"
HOST = "127.0.0.1"

# Debian package names of the binaries, for the skip message.
BINARIES = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-node-exporter": "prometheus-node-exporter",
    "prometheus-postgres-exporter": "prometheus-postgres-exporter",
    "prometheus-redis-exporter": "prometheus-redis-exporter",
    "prometheus-nginx-exporter": "prometheus-nginx-exporter",
    "redis-server": "redis-server",
    "nginx": "nginx",
    "victoria-metrics": "victoria-metrics",
    "prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
    "openssl": "openssl",
}
PYTHON_MODULES = {
    "django": "Django",
    "django_prometheus": "django-prometheus",
    "celery": "celery",
    "flower": "flower",
    "gunicorn": "gunicorn",
    "psycopg2": "psycopg2-binary",
    "redis": "redis",
    "requests": "requests",
}


class ServiceError(RuntimeError):
    pass


# ---------------------------------------------------------------------------
# helpers


def postgres_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and postgres (or $PG_BINDIR)."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin") if (Path(p) / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


def missing_requirements() -> list[str]:
    """What is missing to run the suite, each with what to install."""
    missing = [
        f"{binary} (apt-get install {package})"
        for binary, package in BINARIES.items()
        if shutil.which(binary) is None
    ]
    bindir = postgres_bindir()
    if bindir is None or not (bindir / "postgres").exists():
        missing.append("PostgreSQL server binaries initdb/postgres (apt-get install postgresql)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("a 'postgres' system user to run PostgreSQL as non-root (apt-get install postgresql)")
    for module, package in PYTHON_MODULES.items():
        if importlib.util.find_spec(module) is None:
            missing.append(f"Python module {module} (pip install -r requirements-dev.txt: {package})")
    return missing


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.2,
    what: str,
    proc: Process | None = None,
) -> None:
    """Poll `predicate` until it is true; fail after `timeout` seconds or if `proc` dies."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        if proc is not None and not proc.alive():
            raise ServiceError(f"{proc.name} exited (code {proc.returncode}) while waiting for {what}\n{proc.log_tail()}")
        try:
            if predicate():
                return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            tail = f"\n{proc.log_tail()}" if proc is not None else ""
            raise ServiceError(f"timed out after {timeout:.0f}s waiting for {what}{detail}{tail}")
        time.sleep(interval)


def tcp_open(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def http_ok(url: str) -> bool:
    return requests.get(url, timeout=2).status_code == 200


@contextlib.contextmanager
def temp_dir(name: str, mode: int = 0o700) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"itest-{name}-"))
    path.chmod(mode)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------
# processes


class Listening:
    """A service listening on host:port: its address (what Prometheus scrapes) and http URL."""

    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class Process:
    """One child process, logging to a file, stopped with terminate -> wait -> kill."""

    name: str
    args: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 10.0
    popen: subprocess.Popen | None = field(default=None, init=False)

    def start(self) -> Process:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed by the child's exit
        kwargs: dict = {}
        if self.user is not None:
            kwargs.update(user=self.user, group=pwd.getpwnam(self.user).pw_gid, extra_groups=[])
        try:
            self.popen = subprocess.Popen(
                list(self.args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(self.env) if self.env is not None else None,
                cwd=str(self.cwd) if self.cwd else None,
                start_new_session=True,  # own process group: Ctrl-C of pytest does not hit it twice
                **kwargs,
            )
        finally:
            log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return f"[{self.name}: no log]"
        return f"--- last lines of {self.name}'s log ---\n" + "\n".join(text)

    def stop(self) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(self.stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=self.stop_timeout)
        # Whatever is left of its process group (workers, children) is ours too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)
        self.popen = None


@contextlib.contextmanager
def running(process: Process) -> Iterator[Process]:
    process.start()
    try:
        yield process
    finally:
        process.stop()


def run_checked(args: Sequence[str], *, what: str, timeout: float = 120, **kwargs) -> str:
    result = subprocess.run(
        list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout, **kwargs
    )
    if result.returncode != 0:
        raise ServiceError(f"{what} failed (exit {result.returncode}):\n{result.stdout[-4000:]}")
    return result.stdout


# ---------------------------------------------------------------------------
# PostgreSQL


@dataclass
class Postgres:
    port: int
    datadir: Path
    sockdir: Path
    superuser: str
    superpassword: str
    dbname: str
    user: str
    password: str
    process: Process
    host: str = HOST

    def dsn(self, *, superuser: bool = False) -> str:
        user, password = (self.superuser, self.superpassword) if superuser else (self.user, self.password)
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{self.dbname}?sslmode=disable"

    def is_ready(self) -> bool:
        import psycopg2

        conn = psycopg2.connect(
            host=self.host, port=self.port, user=self.superuser, password=self.superpassword,
            dbname="postgres", connect_timeout=2,
        )
        conn.close()
        return True

    def start(self) -> None:
        self.process.start()
        wait_until(self.is_ready, timeout=30, what="PostgreSQL to accept connections", proc=self.process)

    def stop(self) -> None:
        self.process.stop()


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    bindir = postgres_bindir()
    if bindir is None:
        raise ServiceError("PostgreSQL server binaries not found (apt-get install postgresql)")
    # PostgreSQL refuses to run as root: run it as the 'postgres' system user.
    run_as = "postgres" if os.geteuid() == 0 else None
    with temp_dir("postgres", 0o755) as tmp:
        datadir, sockdir = tmp / "data", tmp / "sock"
        sockdir.mkdir()
        pwfile = tmp / "pwfile"
        superpassword = secrets.token_hex(12)
        pwfile.write_text(superpassword + "\n")
        if run_as:
            entry = pwd.getpwnam(run_as)
            for path in (tmp, sockdir, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        user_kwargs = (
            {"user": run_as, "group": pwd.getpwnam(run_as).pw_gid, "extra_groups": []} if run_as else {}
        )
        run_checked(
            [
                str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", f"--pwfile={pwfile}",
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
                "--no-sync",
            ],
            what="initdb", cwd=str(tmp), **user_kwargs,
        )
        port = free_port()
        process = Process(
            "postgres",
            [
                str(bindir / "postgres"), "-D", str(datadir), "-p", str(port),
                "-c", f"listen_addresses={HOST}", "-c", f"unix_socket_directories={sockdir}",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=50", "-c", "shared_buffers=32MB",
            ],
            tmp / "postgres.log", cwd=tmp, user=run_as,
            stop_signal=signal.SIGINT,  # "fast" shutdown: does not wait for clients to leave
        )
        pg = Postgres(
            port=port, datadir=datadir, sockdir=sockdir, superuser="postgres",
            superpassword=superpassword, dbname="demo", user="demo", password=secrets.token_hex(12),
            process=process,
        )
        try:
            pg.start()
            import psycopg2

            conn = psycopg2.connect(
                host=HOST, port=port, user="postgres", password=superpassword, dbname="postgres"
            )
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"CREATE ROLE {pg.user} LOGIN PASSWORD %s", (pg.password,))
                cur.execute(f"CREATE DATABASE {pg.dbname} OWNER {pg.user}")
            conn.close()
            yield pg
        finally:
            pg.stop()


# ---------------------------------------------------------------------------
# Redis


@dataclass
class Redis:
    port: int
    process: Process
    host: str = HOST

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def address(self) -> str:
        return f"redis://{self.host}:{self.port}"

    def ping(self) -> bool:
        with socket.create_connection((self.host, self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")

    def start(self) -> None:
        self.process.start()
        wait_until(self.ping, timeout=20, what="Redis to answer PING", proc=self.process)

    def stop(self) -> None:
        self.process.stop()


@contextlib.contextmanager
def redis_server() -> Iterator[Redis]:
    with temp_dir("redis") as tmp:
        port = free_port()
        process = Process(
            "redis",
            [
                "redis-server", "--bind", HOST, "--port", str(port), "--dir", str(tmp),
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
                "--logfile", "",
            ],
            tmp / "redis.log", cwd=tmp,
        )
        redis = Redis(port=port, process=process)
        try:
            redis.start()
            yield redis
        finally:
            redis.stop()


# ---------------------------------------------------------------------------
# the demo app: Django (gunicorn), Celery worker, Flower


def demo_env(pg: Postgres, redis: Redis, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        DJANGO_SETTINGS_MODULE="demosite.settings",
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_ALLOWED_HOSTS=f"{HOST},localhost",
        DATABASE_HOST=pg.host,
        DATABASE_PORT=str(pg.port),
        DATABASE_NAME=pg.dbname,
        DATABASE_USER=pg.user,
        DATABASE_PASSWORD=pg.password,
        CELERY_BROKER_URL=redis.url,
        PYTHONPATH=str(DEMO_DIR),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@dataclass
class DemoApp(Listening):
    port: int
    env: dict[str, str]
    process: Process
    host: str = HOST


@contextlib.contextmanager
def django_app(pg: Postgres, redis: Redis) -> Iterator[DemoApp]:
    """Migrates the demo database, then serves the app with gunicorn (one worker, threads)."""
    with temp_dir("django") as tmp:
        env = demo_env(pg, redis, secrets.token_urlsafe(40))
        run_checked([sys.executable, "manage.py", "migrate", "--noinput"], what="manage.py migrate",
                    cwd=str(DEMO_DIR), env=env)
        port = free_port()
        env_web = dict(env, GUNICORN_BIND=f"{HOST}:{port}", WEB_CONCURRENCY="1", GUNICORN_THREADS="4")
        process = Process(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "demosite.wsgi:application"],
            tmp / "gunicorn.log", env=env_web, cwd=DEMO_DIR,
        )
        app = DemoApp(port=port, env=env, process=process)
        with running(process):
            wait_until(lambda: http_ok(f"{app.url}/healthz"), timeout=30, what="gunicorn /healthz", proc=process)
            yield app


@dataclass
class CeleryApp:
    """The demo app's environment without its web server: what a Celery worker and Flower need
    (the broker and the database), for a test that runs its own."""

    env: dict[str, str]


def celery_app(pg: Postgres, redis: Redis) -> CeleryApp:
    return CeleryApp(demo_env(pg, redis, secrets.token_urlsafe(40)))


@dataclass
class Worker:
    process: Process

    def _ready_lines(self) -> int:
        return self.process.log_path.read_text(errors="replace").count(" ready.")

    def start_again(self) -> None:
        """Start the stopped worker again (same arguments and log) and wait until it is ready."""
        before = self._ready_lines()
        self.process.start()
        wait_until(lambda: self._ready_lines() > before, timeout=60, what="the Celery worker to be ready again",
                   proc=self.process)


@contextlib.contextmanager
def celery_worker(app: DemoApp | CeleryApp) -> Iterator[Worker]:
    """A Celery worker sending task events (-E), solo pool (one process)."""
    with temp_dir("celery") as tmp:
        process = Process(
            "celery-worker",
            [
                sys.executable, "-m", "celery", "-A", "demosite", "worker", "-E", "--pool=solo",
                "--loglevel=INFO", "--hostname=demo-worker@%h", "--without-mingle", "--without-gossip",
            ],
            tmp / "worker.log", env=app.env, cwd=DEMO_DIR, stop_timeout=15,
        )
        with running(process):
            wait_until(lambda: " ready." in process.log_path.read_text(errors="replace"),
                       timeout=60, what="the Celery worker to be ready", proc=process)
            yield Worker(process)


@dataclass
class Flower(Listening):
    port: int
    process: Process
    host: str = HOST


@contextlib.contextmanager
def flower(app: DemoApp | CeleryApp) -> Iterator[Flower]:
    """Flower: Celery metrics at /metrics (job "celery")."""
    with temp_dir("flower") as tmp:
        port = free_port()
        process = Process(
            "flower",
            [
                # Only the broker URL, like a Flower container in production: without -A the
                # Django app is not imported, so /metrics carries Flower's metrics alone.
                sys.executable, "-m", "celery", f"--broker={app.env['CELERY_BROKER_URL']}", "flower",
                f"--address={HOST}", f"--port={port}", "--persistent=False",
            ],
            tmp / "flower.log", env=dict(app.env, HOME=str(tmp)), cwd=DEMO_DIR,
        )
        with running(process):
            wait_until(lambda: http_ok(f"http://{HOST}:{port}/metrics"), timeout=60,
                       what="Flower /metrics", proc=process)
            yield Flower(port=port, process=process)


# ---------------------------------------------------------------------------
# nginx with stub_status, in front of the app

NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{upstreams}
    server {{
        listen {host}:{port};
{tls}
{locations}
    }}
}}
"""
# The demo site: stub_status for the exporter, everything else proxied to the app.
PROXY_LOCATIONS = """\
        location = /stub_status {
            stub_status;
            allow 127.0.0.1;
            deny all;
        }
        location / {
            proxy_pass http://demo_app;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 30s;
        }"""
STATIC_LOCATIONS = '        location / { return 200 "ok\\n"; }'


@dataclass
class Nginx(Listening):
    port: int
    process: Process
    host: str = HOST
    # The same site over https (the certificate given to nginx_proxy), if any.
    tls_port: int | None = None

    @property
    def stub_status_url(self) -> str:
        return f"{self.url}/stub_status"

    @property
    def https_url(self) -> str:
        assert self.tls_port is not None, "nginx runs without TLS"
        return f"https://{self.host}:{self.tls_port}"


@contextlib.contextmanager
def _nginx(name: str, *, upstreams: str, locations: str, certificates: Certificates | None,
           ready_path: str) -> Iterator[Nginx]:
    """nginx on a free port (and a second one with TLS when `certificates` are given)."""
    # 0755: nginx's workers (nobody, when the master is root) must reach the temp paths.
    with temp_dir(name, 0o755) as tmp:
        port = free_port()
        tls_port = free_port() if certificates else None
        tls = (f"        listen {HOST}:{tls_port} ssl;\n"
               f"        ssl_certificate {certificates.server_cert};\n"
               f"        ssl_certificate_key {certificates.server_key};") if certificates else ""
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, host=HOST, port=port, tls=tls, upstreams=upstreams,
                                          locations=locations))
        run_checked(["nginx", "-t", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
                    what="nginx -t")
        process = Process(
            name, ["nginx", "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
            tmp / "nginx.out", stop_signal=signal.SIGQUIT,  # graceful shutdown
        )
        nginx = Nginx(port=port, process=process, tls_port=tls_port)
        with running(process):
            wait_until(lambda: http_ok(f"{nginx.url}{ready_path}"), timeout=20, what=f"{name} {ready_path}",
                       proc=process)
            yield nginx


def nginx_proxy(app: DemoApp, certificates: Certificates | None = None) -> contextlib.AbstractContextManager[Nginx]:
    """The demo site: nginx in front of the app, with stub_status (and https when given `certificates`)."""
    return _nginx("nginx", upstreams=f"    upstream demo_app {{ server {app.address}; }}",
                  locations=PROXY_LOCATIONS, certificates=certificates, ready_path="/stub_status")


# ---------------------------------------------------------------------------
# exporters


@dataclass
class Exporter(Listening):
    job: str
    port: int
    process: Process
    host: str = HOST


@contextlib.contextmanager
def _exporter(job: str, make_args: Callable[[int, Path], list[str]], env: Mapping[str, str] | None = None
              ) -> Iterator[Exporter]:
    with temp_dir(f"{job}-exporter") as tmp:
        port = free_port()
        process = Process(f"{job}-exporter", make_args(port, tmp), tmp / "exporter.log", env=env, cwd=tmp)
        with running(process):
            wait_until(lambda: http_ok(f"http://{HOST}:{port}/metrics"), timeout=20,
                       what=f"{job} exporter /metrics", proc=process)
            yield Exporter(job=job, port=port, process=process)


def node_exporter() -> contextlib.AbstractContextManager[Exporter]:
    return _exporter("node", lambda port, tmp: [
        "prometheus-node-exporter", f"--web.listen-address={HOST}:{port}",
        f"--collector.textfile.directory={tmp}",
    ])


def postgres_exporter(pg: Postgres) -> contextlib.AbstractContextManager[Exporter]:
    env = dict(os.environ, DATA_SOURCE_NAME=pg.dsn(superuser=True))
    return _exporter("postgres", lambda port, tmp: [
        "prometheus-postgres-exporter", f"--web.listen-address={HOST}:{port}",
    ], env=env)


def redis_exporter(redis: Redis, **settings: str) -> contextlib.AbstractContextManager[Exporter]:
    """redis_exporter with the arguments and environment its row renders (the single-key checks
    of the Celery queue among them), from the settings' defaults overridden by `settings`."""
    from components.exporters.table import BY_NAME, EXPORTER_MODELS

    row = BY_NAME["redis"]
    values = {**EXPORTER_MODELS["redis"]().settings, "address": redis.address, **settings}
    env = dict(os.environ, **{e.name: e.template.format(**values) for e in row.env if e.template is not None})
    return _exporter("redis", lambda port, tmp: [
        "prometheus-redis-exporter", *row.args(values), f"-web.listen-address={HOST}:{port}",
    ], env=env)


def nginx_exporter(nginx: Nginx) -> contextlib.AbstractContextManager[Exporter]:
    # Debian 12 ships 0.11: single-dash flags (-nginx.scrape-uri); newer releases use --nginx.scrape-uri.
    return _exporter("nginx", lambda port, tmp: [
        "prometheus-nginx-exporter", f"-nginx.scrape-uri={nginx.stub_status_url}",
        f"-web.listen-address={HOST}:{port}",
    ])


# ---------------------------------------------------------------------------
# Prometheus, running the product's rendered config


def repo_rule_files() -> list[str]:
    return sorted(str(p) for p in (REPO_ROOT / "rules").glob("*.yml"))


def rule_files_at_evaluation_interval(directory: Path) -> list[str]:
    """The repository's rule files, copied into `directory` without any group's own `interval:`.

    The dashboards' recording groups evaluate every 2 minutes in the stack (rules/recording.yml);
    here every group follows the suite's evaluation interval (1-2 s), so their series exist a few
    seconds after the start instead of up to two minutes later. bench-scale's backfill evaluates them
    at their own interval, and promtool's tests at 1m (the test files' evaluation_interval)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for source in repo_rule_files():
        target = directory / Path(source).name
        target.write_text(at_evaluation_interval(Path(source).read_text()))
        paths.append(str(target))
    return paths


def at_evaluation_interval(rule_file_text: str) -> str:
    """A rule file's text without any group's own `interval:` (see rule_files_at_evaluation_interval)."""
    doc = yaml.safe_load(rule_file_text)
    for group in doc["groups"]:
        group.pop("interval", None)
    return yaml.safe_dump(doc, sort_keys=False)


def render_config(targets: Mapping[str, Sequence[str]], *, scrape_interval: str, scrape_timeout: str,
                  rule_files: Sequence[str], evaluation_interval: str | None = None,
                  alertmanager_targets: Sequence[str] = (),
                  basic_auth: Mapping[str, tuple[str, str]] | None = None,
                  external_labels: Mapping[str, str] | None = None,
                  remote_write: Sequence[Mapping[str, object]] = (),
                  probers: Mapping[str, str] | None = None) -> str:
    from components.prometheus.config import render_prometheus_config

    return render_prometheus_config(
        scrape_interval=scrape_interval,
        evaluation_interval=evaluation_interval or scrape_interval,
        scrape_timeout=scrape_timeout,
        targets=targets,
        rule_files=rule_files,
        alertmanager_targets=list(alertmanager_targets),
        basic_auth=basic_auth,
        external_labels=external_labels,
        remote_write=remote_write,
        probers=probers,
    )


def promtool_check_config(config_path: Path) -> str:
    return run_checked(["promtool", "check", "config", str(config_path)], what="promtool check config")


@dataclass
class Prometheus(Listening):
    port: int
    config_path: Path
    config_text: str
    scrape_interval_s: float
    targets: dict[str, list[str]]
    process: Process
    host: str = HOST

    def api(self, path: str, **params) -> dict:
        response = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        body = response.json()
        if body.get("status") != "success":
            raise ServiceError(f"Prometheus {path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return self.api("query", **params)["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        return self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step:g}")["result"]

    def label_values(self, label: str, match: str | None = None) -> list[str]:
        """What Grafana's `label_values(match, label)` variable query lists."""
        return self.api(f"label/{label}/values", **({"match[]": match} if match else {}))

    def active_targets(self) -> list[dict]:
        return self.api("targets", state="active")["activeTargets"]


@contextlib.contextmanager
def prometheus_server(targets: Mapping[str, Sequence[str]], *, scrape_interval: str = "2s",
                      scrape_timeout: str = "1s", rule_files: Sequence[str] | None = None,
                      evaluation_interval: str | None = None, alertmanager_targets: Sequence[str] = (),
                      basic_auth: Mapping[str, tuple[str, str]] | None = None,
                      external_labels: Mapping[str, str] | None = None,
                      remote_write: Sequence[Mapping[str, object]] = (),
                      probers: Mapping[str, str] | None = None,
                      flags: Sequence[str] = ()) -> Iterator[Prometheus]:
    with temp_dir("prometheus") as tmp:
        port = free_port()
        all_targets = {"prometheus": [f"{HOST}:{port}"], **{k: list(v) for k, v in targets.items()}}
        text = render_config(
            all_targets, scrape_interval=scrape_interval, scrape_timeout=scrape_timeout,
            rule_files=rule_files_at_evaluation_interval(tmp / "rules") if rule_files is None else rule_files,
            evaluation_interval=evaluation_interval, alertmanager_targets=alertmanager_targets,
            basic_auth=basic_auth, external_labels=external_labels, remote_write=remote_write,
            probers=probers,
        )
        config = tmp / "prometheus.yml"
        config.write_text(text)
        promtool_check_config(config)
        process = Process(
            "prometheus",
            [
                "prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address={HOST}:{port}", "--storage.tsdb.retention.time=1h",
                "--log.level=warn", *flags,
            ],
            tmp / "prometheus.log", cwd=tmp,
        )
        prom = Prometheus(port=port, config_path=config, config_text=text,
                          scrape_interval_s=parse_duration(scrape_interval), targets=all_targets,
                          process=process)
        with running(process):
            wait_until(lambda: http_ok(f"{prom.url}/-/ready"), timeout=30, what="Prometheus /-/ready",
                       proc=process)
            yield prom


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration, parsed by the stack's own Duration type."""
    from components.types import duration_ms

    return duration_ms(text) / 1000


def wait_for_targets_up(prom: Prometheus, *, timeout: float = 30) -> list[dict]:
    """Every scrape target reports health "up" (bounded wait)."""
    expected = sum(len(v) for v in prom.targets.values())
    state: dict = {}

    def all_up() -> bool:
        active = prom.active_targets()
        state["targets"] = active
        return len(active) == expected and all(t["health"] == "up" for t in active)

    try:
        wait_until(all_up, timeout=timeout, interval=0.5, what="every scrape target to be up")
    except ServiceError as exc:
        summary = [(t["labels"].get("job"), t["scrapeUrl"], t["health"], t.get("lastError"))
                   for t in state.get("targets", [])]
        raise ServiceError(f"{exc}\ntargets: {summary}") from None
    return state["targets"]


# ---------------------------------------------------------------------------
# TLS for probed sites: a CA and a server certificate for 127.0.0.1, made with openssl


@dataclass
class Certificates:
    ca_cert: Path
    server_cert: Path
    server_key: Path


def make_certificates(directory: Path, *, days: int) -> Certificates:
    """A fresh CA (30 days) and a server certificate for IP 127.0.0.1 valid for `days` days."""
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    ext.write_text(f"subjectAltName=IP:{HOST}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n")
    run_checked(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out",
                 str(ca_cert), "-days", "30", "-subj", "/CN=monitoring test CA"], what="openssl CA")
    run_checked(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                 "-subj", f"/CN={HOST}"], what="openssl server key")
    run_checked(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
                 "-CAcreateserial", "-out", str(cert), "-days", str(days), "-extfile", str(ext)],
                what="openssl server certificate")
    return Certificates(ca_cert, cert, key)


def static_site(certificates: Certificates) -> contextlib.AbstractContextManager[Nginx]:
    """nginx answering 200 at every path, over http and over https with `certificates`."""
    return _nginx("site", upstreams="", locations=STATIC_LOCATIONS, certificates=certificates, ready_path="/")


# ---------------------------------------------------------------------------
# blackbox_exporter, running the config the program renders


def blackbox_exporter(ca_file: Path | None = None) -> contextlib.AbstractContextManager[Exporter]:
    from components.exporters.blackbox import render_blackbox_config

    def args(port: int, tmp: Path) -> list[str]:
        config = tmp / "blackbox.yml"
        config.write_text(render_blackbox_config(str(ca_file) if ca_file else None))
        return ["prometheus-blackbox-exporter", f"--config.file={config}", f"--web.listen-address={HOST}:{port}"]

    return _exporter("blackbox", args)


# ---------------------------------------------------------------------------
# VictoriaMetrics: a long-term store that accepts remote write and answers the Prometheus API

VM_USER, VM_PASSWORD = "writer", "Vm3tR1cs-w4iter-p4ss"


@dataclass
class RemoteStore:
    """A Prometheus-compatible query API behind basic auth (what Grafana's long-term data source reads)."""

    url: str
    auth: tuple[str, str]
    scrape_interval_s: float

    def api(self, path: str, **params) -> dict:
        response = requests.get(f"{self.url}/api/v1/{path}", params=params, auth=self.auth, timeout=30)
        body = response.json()
        if body.get("status") != "success":
            raise ServiceError(f"{self.url} {path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        params = {"query": expr, **({"time": f"{at:.3f}"} if at is not None else {})}
        return self.api("query", **params)["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        return self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step:g}")["result"]

    def label_values(self, label: str, match: str | None = None) -> list[str]:
        return self.api(f"label/{label}/values", **({"match[]": match} if match else {}))


@dataclass
class VictoriaMetrics:
    url: str
    # stop() and start() again: the same port and data directory
    process: Process

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=2).ok
        except requests.RequestException:
            return False


@contextlib.contextmanager
def victoria_metrics() -> Iterator[VictoriaMetrics]:
    """Debian's victoria-metrics with basic auth on a free loopback port."""
    with temp_dir("victoria-metrics") as tmp:
        port = free_port()
        process = Process("victoria-metrics", [
            "victoria-metrics", f"-httpListenAddr={HOST}:{port}", f"-storageDataPath={tmp / 'data'}",
            "-retentionPeriod=1", f"-httpAuth.username={VM_USER}", f"-httpAuth.password={VM_PASSWORD}",
            # Fresh samples answer at once and no cached result hides them.
            "-search.latencyOffset=1s", "-search.disableCache", "-loggerLevel=ERROR"], tmp / "vm.log", cwd=tmp)
        with running(process):
            vm = VictoriaMetrics(f"http://{HOST}:{port}", process)
            wait_until(vm.ready, timeout=30, what="VictoriaMetrics /health", proc=process)
            yield vm


# ---------------------------------------------------------------------------
# the whole environment (for scripts; the pytest fixtures compose the same pieces)


@dataclass
class Environment:
    postgres: Postgres
    redis: Redis
    app: DemoApp
    worker: Worker
    flower: Flower
    nginx: Nginx
    exporters: dict[str, Exporter]
    prometheus: Prometheus


def scrape_targets(app: DemoApp, flower_: Flower, exporters: Mapping[str, Exporter],
                   probe_urls: Sequence[str] = ()) -> dict[str, list[Any]]:
    """Job -> targets, as the product's config names them (no Grafana here); the prober's job
    (blackbox) lists the URLs it probes, each its own instance."""
    targets: dict[str, list[Any]] = {job: [e.address] for job, e in exporters.items() if job != "blackbox"}
    targets["django"] = [app.address]
    targets["celery"] = [flower_.address]
    if "blackbox" in exporters:
        targets["blackbox"] = [{"address": url, "labels": {"instance": url}} for url in probe_urls]
    return targets


def site_probe_urls(nginx: Nginx) -> list[str]:
    """What the suite probes: the demo site over http, its health endpoint over https."""
    return [f"{nginx.url}/", f"{nginx.https_url}/healthz"]


@contextlib.contextmanager
def environment(*, scrape_interval: str = "2s", scrape_timeout: str = "1s") -> Iterator[Environment]:
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(postgres_server())
        redis = stack.enter_context(redis_server())
        app = stack.enter_context(django_app(pg, redis))
        worker = stack.enter_context(celery_worker(app))
        flower_ = stack.enter_context(flower(app))
        certificates = make_certificates(stack.enter_context(temp_dir("tls")), days=30)
        nginx = stack.enter_context(nginx_proxy(app, certificates))
        exporters = {
            "node": stack.enter_context(node_exporter()),
            "postgres": stack.enter_context(postgres_exporter(pg)),
            "redis": stack.enter_context(redis_exporter(redis)),
            "nginx": stack.enter_context(nginx_exporter(nginx)),
            "blackbox": stack.enter_context(blackbox_exporter(certificates.ca_cert)),
        }
        prom = stack.enter_context(prometheus_server(
            scrape_targets(app, flower_, exporters, site_probe_urls(nginx)), scrape_interval=scrape_interval,
            scrape_timeout=scrape_timeout, probers={"blackbox": exporters["blackbox"].address},
        ))
        yield Environment(pg, redis, app, worker, flower_, nginx, exporters, prom)


# ---------------------------------------------------------------------------
# a fleet: several hosts, app servers and Redis servers, given as extra targets in the config

FLEET_ENVIRONMENT = "staging"


@dataclass
class Fleet:
    prometheus: Prometheus
    # VictoriaMetrics, written to by `prometheus` (the long-term data source)
    long_term: RemoteStore
    # job -> the instance label of each of its targets, as the config model names them
    instances: dict[str, list[str]]
    # the app's database
    database: str
    # what a test may stop: the third node_exporter and the second app server
    extra_node: Exporter
    app_2: DemoApp


def _host_target(address: str, host: str) -> dict[str, object]:
    return {"address": address, "labels": {"host": host}}


@contextlib.contextmanager
def fleet(pg: Postgres, redis: Redis, app: DemoApp, flower_: Flower, nginx: Nginx, exporters: Mapping[str, Exporter],
          *, scrape_interval: str = "2s", scrape_timeout: str = "1s") -> Iterator[Fleet]:
    """Around the given services: two more node_exporters (hosts web-1, web-2, db-1), a second
    app server (app-2), a second Redis with its exporter (cache-2), all as extra targets in the
    config model with host labels, scraped by a Prometheus running the rendered config with the
    environment external label and remote write to VictoriaMetrics."""
    from components.config import load_config
    from components.prometheus.config import remote_write_section
    from components.prometheus.targets import scrape_targets as configured_targets

    with contextlib.ExitStack() as stack:
        nodes = [exporters["node"], *(stack.enter_context(node_exporter()) for _ in range(2))]
        app_2 = stack.enter_context(django_app(pg, redis))
        redis_2 = stack.enter_context(redis_server())
        redis_exporter_2 = stack.enter_context(redis_exporter(redis_2))
        vm = stack.enter_context(victoria_metrics())
        cfg = load_config({
            "demo": True,
            "targets": {
                "node": [_host_target(e.address, h) for e, h in zip(nodes, ("web-1", "web-2", "db-1"), strict=True)],
                "django": [_host_target(app.address, "app-1"), _host_target(app_2.address, "app-2")],
                "redis": [_host_target(exporters["redis"].address, "cache-1"),
                          _host_target(redis_exporter_2.address, "cache-2")],
                "postgres": [_host_target(exporters["postgres"].address, "db-1")],
                "nginx": [_host_target(exporters["nginx"].address, "web-1")],
                "celery": [_host_target(flower_.address, "app-1")],
                "blackbox": site_probe_urls(nginx),
            },
            "prometheus": {"remoteWrite": [{"url": f"{vm.url}/api/v1/write", "basicAuth": {
                "username": VM_USER, "password": VM_PASSWORD}}]},
        })
        prober = {"blackbox": exporters["blackbox"].address}
        targets = configured_targets(cfg, prometheus=None, grafana=None, exporters=prober)
        del targets["prometheus"], targets["grafana"]  # the server adds itself; no Grafana here
        secrets_dir = stack.enter_context(temp_dir("remote-write"))
        remote_write, files = remote_write_section(cfg.prometheus.remote_write, str(secrets_dir))
        for path, content in files.items():
            Path(path).write_text(content, encoding="utf-8")
        prom = stack.enter_context(prometheus_server(
            targets, scrape_interval=scrape_interval, scrape_timeout=scrape_timeout,
            external_labels={"environment": FLEET_ENVIRONMENT}, remote_write=remote_write, probers=prober))
        instances = {job: [t.instance for t in cfg.targets.of(job)] for job in targets}
        yield Fleet(prom, RemoteStore(vm.url, (VM_USER, VM_PASSWORD), prom.scrape_interval_s), instances,
                    pg.dbname, nodes[2], app_2)

