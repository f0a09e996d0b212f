"""The demo Redis' rendered redis.conf and healthcheck, on a real redis-server and redis-cli:
the password comes from the file and REDISCLI_AUTH, never from a command line."""

from __future__ import annotations

import os
import subprocess

import pytest

from components.demo.redis import HEALTHCHECK, render_redis_conf
from tests.integration import services

PASSWORD = "Abc123def456ghi789jkl012"


@pytest.fixture(scope="module")
def redis():
    with services.temp_dir("demo-redis") as tmp:
        conf = tmp / "redis.conf"
        conf.write_text(render_redis_conf(PASSWORD), encoding="utf-8")
        port = services.free_port()
        # The rendered file as the container reads it; only where to listen is overridden here.
        process = services.Process("demo-redis", ["redis-server", str(conf), "--bind", services.HOST,
                                                  "--port", str(port), "--dir", str(tmp), "--save", ""],
                                   tmp / "redis.log", cwd=tmp)
        with services.running(process):
            services.wait_until(lambda: services.tcp_open(port), timeout=20, what="redis-server", proc=process)
            yield port, process


def _healthcheck(port: int, env: dict[str, str]) -> int:
    # The container's healthcheck, pointed at this port.
    command = HEALTHCHECK[2].replace("redis-cli ping", f"redis-cli -p {port} ping")
    return subprocess.run([*HEALTHCHECK[:2], command], env=env, capture_output=True, timeout=10).returncode


def test_healthcheck_passes_with_the_password_in_the_environment(redis):
    port, _ = redis
    assert _healthcheck(port, {**os.environ, "REDISCLI_AUTH": PASSWORD}) == 0


def test_healthcheck_fails_without_it_and_with_a_wrong_one(redis):
    port, _ = redis
    env = {k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}
    assert _healthcheck(port, env) != 0
    assert _healthcheck(port, {**env, "REDISCLI_AUTH": "wrong-password-000000"}) != 0


def test_the_password_is_on_no_command_line(redis):
    _, process = redis
    with open(f"/proc/{process.pid}/cmdline", "rb") as cmdline:
        assert PASSWORD.encode() not in cmdline.read()
