"""Demo mode under mocks: the workload exists, the exporters watch it; off, none of it exists."""

from __future__ import annotations

import hashlib
import re

import pytest
import yaml

from components.demo.workload import DEMO_DIR, IMAGES, demo_app_tag
from components.types import parse_image
from tests.component.harness import ROOT, Program, SecretValue, run_program
from tests.component.test_stack import IMAGE, assert_no_plaintext, containers, env_of

DEMO_CONTAINERS = {"demo-postgres", "demo-redis", "demo-django", "demo-worker", "demo-nginx", "demo-traffic"}


def password(program: Program, name: str) -> str:
    digest = hashlib.sha256(f"random:index/randomPassword:RandomPassword/{name}".encode()).hexdigest()
    program.one("random:index/randomPassword:RandomPassword", name)
    return f"generated-{digest[:24]}"


@pytest.fixture(scope="module")
def demo() -> Program:
    return run_program({"demo": True})


def test_demo_registers_the_whole_workload(demo):
    found = containers(demo)
    assert set(found) >= DEMO_CONTAINERS
    assert found["demo-postgres"].inputs["name"] == "monitoring-dev-demo-postgres"
    component = next(r for r in demo.resources if r.type == "monitoring:index:DemoWorkload")
    for name in DEMO_CONTAINERS:
        assert found[name].options["parent"] == component.urn
        assert found[name].inputs["restart"] == "unless-stopped" and found[name].inputs["memory"] > 0
        assert "ports" not in found[name].inputs or found[name].inputs["ports"] == []
        assert found[name].inputs["networksAdvanced"][0]["name"] == "monitoring-dev-net"
    pinned = {r.inputs["name"] for r in demo.of_type(IMAGE)}
    assert set(IMAGES.values()) <= pinned
    for image in IMAGES.values():
        parse_image(image)  # the config model's own ImageRef: pinned to one build


def test_exporters_and_targets_point_at_the_demo_services(demo):
    found = containers(demo)
    db_password = password(demo, "demo-postgres-password")
    redis_password = password(demo, "demo-redis-password")
    assert env_of(found["postgres-exporter"]) == {"DATA_SOURCE_NAME": SecretValue(
        f"postgresql://demo:{db_password}@monitoring-dev-demo-postgres:5432/demo?sslmode=disable")}
    assert env_of(found["redis-exporter"]) == {"REDIS_ADDR": "redis://monitoring-dev-demo-redis:6379",
                                                "REDIS_PASSWORD": SecretValue(redis_password)}
    # The demo broker's Celery queue: the backlog panel and alert.
    assert found["redis-exporter"].inputs["command"] == ["--check-single-keys=db0=celery"]
    assert found["nginx-exporter"].inputs["command"] == [
        "--nginx.scrape-uri=http://monitoring-dev-demo-nginx:8080/stub_status"]
    assert env_of(found["celery-exporter"])["CELERY_BROKER_URL"] == SecretValue(
        f"redis://:{redis_password}@monitoring-dev-demo-redis:6379/0")
    rendered = yaml.safe_load(next(u["content"] for u in found["prometheus"].inputs["uploads"]
                                   if u["file"] == "/etc/prometheus/prometheus.yml"))
    django = next(j for j in rendered["scrape_configs"] if j["job_name"] == "django")
    assert django["static_configs"] == [{"targets": ["monitoring-dev-demo-django:8000"]}]


def test_demo_credentials_are_generated_secrets(demo):
    found = containers(demo)
    db_password = password(demo, "demo-postgres-password")
    assert env_of(found["demo-postgres"])["POSTGRES_PASSWORD"] == SecretValue(db_password)
    app = env_of(found["demo-django"])
    assert app["DATABASE_PASSWORD"] == SecretValue(db_password)
    assert app["DJANGO_SECRET_KEY"] == SecretValue(password(demo, "demo-django-secret-key"))
    assert isinstance(app["CELERY_BROKER_URL"], SecretValue)
    assert env_of(found["demo-worker"]) == app
    generated = [r for r in demo.of_type("random:index/randomPassword:RandomPassword")]
    assert_no_plaintext(demo, [password(demo, r.name) for r in generated])


def test_worker_sends_events_and_traffic_targets_nginx(demo):
    found = containers(demo)
    assert "-E" in found["demo-worker"].inputs["command"]
    assert found["demo-traffic"].inputs["command"][:3] == ["python", "traffic.py", "http://monitoring-dev-demo-nginx:8080"]
    nginx_conf = found["demo-nginx"].inputs["uploads"][0]
    assert nginx_conf["file"] == "/etc/nginx/conf.d/default.conf"
    assert "stub_status;" in nginx_conf["content"]
    assert "proxy_pass http://monitoring-dev-demo-django:8000;" in nginx_conf["content"]


def test_demo_app_tag_hashes_the_files_in_path_order_without_pycache(tmp_path, monkeypatch):
    """The tag is the hash of each file's path relative to demo/ and its bytes, in pathlib's path
    order ("a/b" before "a.txt"), __pycache__ left out: a new .pyc does not rebuild the image,
    an edit does."""
    for relative, text in {"a.txt": "1", "a/b": "2", "a/c/d.py": "3", "Dockerfile": "4",
                           "__pycache__/x.pyc": "5", "a/__pycache__/y.pyc": "6"}.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    monkeypatch.setattr("components.demo.workload.DEMO_DIR", tmp_path)
    expected = hashlib.sha256()
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file() and "__pycache__" not in path.relative_to(tmp_path).parts:
            expected.update(str(path.relative_to(tmp_path)).encode() + b"\0" + path.read_bytes())
    assert demo_app_tag() == f"monitoring-demo-app:{expected.hexdigest()[:12]}"
    before = demo_app_tag()
    (tmp_path / "a" / "__pycache__" / "z.pyc").write_text("7")
    assert demo_app_tag() == before
    (tmp_path / "a" / "b").write_text("2 edited")
    assert demo_app_tag() != before


def test_demo_image_is_built_from_the_demo_dockerfile(demo):
    image = demo.one(IMAGE, "demo-app-image")
    assert image.inputs["name"] == demo_app_tag()
    assert re.fullmatch(r"monitoring-demo-app:[0-9a-f]{12}", image.inputs["name"])
    assert image.inputs["build"]["context"] == "demo"  # relative: no per-checkout diff
    assert (ROOT / image.inputs["build"]["context"]).resolve() == DEMO_DIR
    dockerfile = DEMO_DIR / image.inputs["build"]["dockerfile"]
    assert dockerfile.is_file()
    base = re.search(r"^FROM\s+(\S+)", dockerfile.read_text(), re.M).group(1)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), f"base image not pinned to a patch release: {base}"
    assert (DEMO_DIR / "traffic.py").is_file()
    requirements = [line.split("#")[0].strip() for line in (DEMO_DIR / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in requirements if line]
    assert requirements and all(re.fullmatch(r"[\w.\[\]-]+==[\w.]+", line) for line in requirements), requirements
    for name in ("demo-django", "demo-worker", "demo-traffic"):
        assert demo.image_ids[containers(demo)[name].inputs["image"]] == "demo-app-image"


def test_demo_off_creates_none_of_it():
    program = run_program({"demo": False, "postgresDsn": "postgresql://m:pw-long-enough@db:5432/app"},
                          ["postgresDsn"])
    assert not [r for r in program.resources if "demo" in r.name or r.type == "monitoring:index:DemoWorkload"]
    found = containers(program)
    assert env_of(found["redis-exporter"])["REDIS_ADDR"] == "redis://redis:6379"
    assert found["nginx-exporter"].inputs["command"] == ["--nginx.scrape-uri=http://nginx:8080/stub_status"]


def test_demo_redis_runs_as_redis_with_its_password_off_every_command_line(demo):
    from components.demo.redis import CONFIG_PATH, render_redis_conf

    redis = containers(demo)["demo-redis"].inputs
    secret = password(demo, "demo-redis-password")
    # `redis-server` first: the image's entrypoint switches to the redis user (`sh -c` ran it as root).
    assert redis["command"] == ["redis-server", CONFIG_PATH]
    assert redis["uploads"] == [{"file": CONFIG_PATH, "content": SecretValue(render_redis_conf(secret))}]
    assert env_of(containers(demo)["demo-redis"]) == {"REDISCLI_AUTH": SecretValue(secret)}
    tests = redis["healthcheck"]["tests"]
    assert secret not in " ".join(tests) and "$" not in " ".join(tests)  # read from REDISCLI_AUTH by redis-cli
    assert set(containers(demo)["demo-redis"].options["additionalSecretOutputs"]) == {"envs", "uploads"}


def test_demo_postgres_is_ready_over_tcp(demo):
    # During first init the image runs a socket-only server; a socket check would pass too early.
    tests = containers(demo)["demo-postgres"].inputs["healthcheck"]["tests"]
    assert tests[:4] == ["CMD", "pg_isready", "-h", "127.0.0.1"]
