"""Renders the demo Redis' redis.conf: the password lives in this (secret) file, not on a
command line that `ps` on the host shows. Plain Python, no Pulumi import."""

from __future__ import annotations

import re

CONFIG_PATH = "/usr/local/etc/redis/redis.conf"
PORT = 6379
# The healthcheck reads the password from REDISCLI_AUTH (redis-cli's own variable), not argv.
HEALTHCHECK = ("sh", "-c", "redis-cli ping | grep -q PONG")


def render_redis_conf(password: str) -> str:
    """redis.conf for one password-protected instance reachable on the stack network."""
    # Generated passwords are alphanumeric; anything else would need redis.conf quoting.
    if not re.fullmatch(r"[A-Za-z0-9._-]{16,}", password):
        raise ValueError("the demo Redis password must be at least 16 letters, digits, '.', '_' or '-'")
    return f"bind 0.0.0.0\nport {PORT}\nrequirepass {password}\n"
