"""The demo workload: PostgreSQL, Redis, nginx in front of the Django app of demo/, a Celery
worker and a traffic generator, so a fresh laptop sees every panel with data.

Credentials are generated (pulumi-random) and stay secrets. The exporters and scrape
targets point at these services when demo mode is on (see components/stack.py).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.containers import ContainerSpec, Placement, pinned_image, secret_env, service_container
from components.demo import redis as redis_conf
from components.demo.nginx import STUB_STATUS_PATH, render_nginx_site

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
IMAGES = {
    "postgres": "postgres:17.6-bookworm",
    "redis": "redis:7.4.5-bookworm",
    "nginx": "nginx:1.28.0-bookworm",
}
MEMORY_MB = {"postgres": 512, "redis": 256, "nginx": 64, "django": 384, "worker": 384, "traffic": 64}
DATABASE, DB_USER = "demo", "demo"
NGINX_PORT, DJANGO_PORT = 8080, 8000


def demo_app_tag() -> str:
    """Tag of the locally built app image: a hash of demo/ (each file's relative path and bytes, in
    path order, __pycache__ left out), so it changes only with the code. os.walk, not rglob: the
    pathlib objects cost each run under mocks about 1 % of the whole program."""
    files: list[tuple[str, ...]] = []
    for folder, subfolders, names in os.walk(DEMO_DIR):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        relative = os.path.relpath(folder, DEMO_DIR)
        parent = () if relative == os.curdir else tuple(relative.split(os.sep))
        files += [(*parent, name) for name in names if os.path.isfile(os.path.join(folder, name))]
    digest = hashlib.sha256()
    # Sorted by path components, as pathlib sorts paths ("a/b" before "a.txt").
    for parts in sorted(files):
        with open(os.path.join(DEMO_DIR, *parts), "rb") as handle:
            digest.update("/".join(parts).encode() + b"\0" + handle.read())
    return f"monitoring-demo-app:{digest.hexdigest()[:12]}"


@dataclass
class DemoWorkloadArgs:
    placement: Placement


class DemoWorkload(pulumi.ComponentResource):
    # For type checkers only: Pulumi reads a component's class annotations again at every registration.
    if TYPE_CHECKING:
        postgres_dsn: pulumi.Output[str]
        redis_address: str
        redis_password: pulumi.Output[str]
        broker_url: pulumi.Output[str]
        nginx_scrape_uri: str
        django_target: str
        # What the prober checks in demo mode: the site through nginx, and its health endpoint.
        probe_urls: tuple[str, ...]

    def __init__(self, resource_name: str, args: DemoWorkloadArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:DemoWorkload", resource_name, None, opts)
        names = {service: args.placement.name(f"demo-{service}")
                 for service in ("postgres", "redis", "nginx", "django", "worker", "traffic")}

        def password(name: str, length: int) -> pulumi.Output[str]:
            return random.RandomPassword(f"{resource_name}-{name}", length=length, special=False,
                                         opts=pulumi.ResourceOptions(parent=self)).result

        db_password = password("postgres-password", 24)
        redis_password = password("redis-password", 24)
        secret_key = password("django-secret-key", 50)
        self.redis_password = pulumi.Output.secret(redis_password)
        self.broker_url = pulumi.Output.secret(redis_password.apply(
            lambda password: f"redis://:{password}@{names['redis']}:6379/0"))
        self.postgres_dsn = pulumi.Output.secret(db_password.apply(
            lambda password: f"postgresql://{DB_USER}:{password}@{names['postgres']}:5432/{DATABASE}?sslmode=disable"))
        self.redis_address = f"redis://{names['redis']}:6379"
        self.nginx_scrape_uri = f"http://{names['nginx']}:{NGINX_PORT}{STUB_STATUS_PATH}"
        self.django_target = f"{names['django']}:{DJANGO_PORT}"
        site = f"http://{names['nginx']}:{NGINX_PORT}"
        self.probe_urls = (f"{site}/", f"{site}/healthz")

        def spec(service: str, **fields) -> ContainerSpec:
            return ContainerSpec(service=f"demo-{service}", memory_mb=MEMORY_MB[service],
                                 placement=args.placement, image=fields.pop("image", ""), **fields)

        postgres = service_container(f"{resource_name}-postgres", spec(
            "postgres", image=IMAGES["postgres"],
            envs=[f"POSTGRES_DB={DATABASE}", f"POSTGRES_USER={DB_USER}", secret_env("POSTGRES_PASSWORD", db_password)],
            # Over TCP: during first init the image runs a socket-only server that would pass.
            healthcheck=["pg_isready", "-h", "127.0.0.1", "-U", DB_USER, "-d", DATABASE], wait=True,
        ), pinned_image(f"{resource_name}-postgres-image", IMAGES["postgres"], self), self)

        # `redis-server` as the first argument: the image's entrypoint drops to the redis user
        # (`sh -c` would run Redis as root). The password is in the uploaded redis.conf and in
        # REDISCLI_AUTH for the healthcheck, never on a command line the host's `ps` shows.
        redis = service_container(f"{resource_name}-redis", spec(
            "redis", image=IMAGES["redis"],
            envs=[secret_env("REDISCLI_AUTH", redis_password)],
            command=["redis-server", redis_conf.CONFIG_PATH],
            uploads=[docker.ContainerUploadArgsDict(
                file=redis_conf.CONFIG_PATH,
                content=pulumi.Output.secret(redis_password.apply(redis_conf.render_redis_conf)))],
            secret_uploads=True,
            healthcheck=list(redis_conf.HEALTHCHECK),
            wait=True,
        ), pinned_image(f"{resource_name}-redis-image", IMAGES["redis"], self), self)

        app_image = docker.RemoteImage(
            f"{resource_name}-app-image", name=demo_app_tag(), keep_locally=True,
            # Relative to the project folder (the program's working directory): the same on
            # every machine, so previews show no change from one checkout to another.
            build=docker.RemoteImageBuildArgsDict(context=DEMO_DIR.name, dockerfile="Dockerfile"),
            opts=pulumi.ResourceOptions(parent=self))
        app_env = [
            f"DATABASE_HOST={names['postgres']}", "DATABASE_PORT=5432", f"DATABASE_NAME={DATABASE}",
            f"DATABASE_USER={DB_USER}", secret_env("DATABASE_PASSWORD", db_password),
            secret_env("DJANGO_SECRET_KEY", secret_key), secret_env("CELERY_BROKER_URL", self.broker_url),
            f"DJANGO_ALLOWED_HOSTS={names['django']},{names['nginx']},localhost,127.0.0.1",
        ]
        django = service_container(f"{resource_name}-django", spec(
            "django", envs=app_env,
            healthcheck=["python", "-c", "import urllib.request; "
                         f"urllib.request.urlopen('http://127.0.0.1:{DJANGO_PORT}/healthz', timeout=4)"],
            wait=True,
        ), app_image, self, depends_on=[postgres, redis])

        service_container(f"{resource_name}-worker", spec(
            "worker", envs=app_env,
            command=["celery", "-A", "demosite", "worker", "-E", "--loglevel=INFO", "--concurrency=2"],
            healthcheck=["sh", "-c", 'celery -A demosite inspect ping -d "celery@$HOSTNAME" --timeout 5'],
        ), app_image, self, depends_on=[postgres, redis])

        nginx = service_container(f"{resource_name}-nginx", spec(
            "nginx", image=IMAGES["nginx"],
            uploads=[docker.ContainerUploadArgsDict(
                file="/etc/nginx/conf.d/default.conf",
                content=render_nginx_site(listen=str(NGINX_PORT), upstream=self.django_target))],
            healthcheck=["curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{NGINX_PORT}{STUB_STATUS_PATH}"],
            wait=True,
        ), pinned_image(f"{resource_name}-nginx-image", IMAGES["nginx"], self), self, depends_on=[django])

        base_url = f"http://{names['nginx']}:{NGINX_PORT}"
        service_container(f"{resource_name}-traffic", spec(
            "traffic", command=["python", "traffic.py", base_url, "--pause", "2"],
            healthcheck=["python", "-c", "import urllib.request; "
                         f"urllib.request.urlopen('{base_url}/healthz', timeout=4)"],
        ), app_image, self, depends_on=[nginx])

        self.register_outputs({"django_target": self.django_target, "nginx_scrape_uri": self.nginx_scrape_uri})
