"""How the Grafana container starts: set the admin password from the environment, then run the
image's own /run.sh. Plain Python, no Pulumi import.

Grafana applies GF_SECURITY_ADMIN_PASSWORD only when it creates its database, which lives on a
volume that outlives containers: a rotated password (a new `grafanaAdminPassword`, which
replaces the container) would be ignored, and this program, logging in with it, would get 401.
So every start first runs `grafana cli admin reset-admin-password` for the admin user (id 1)
with the password from the environment, read on stdin (printf is a shell builtin: the password
is on no command line). On the very first start there is no admin user yet and the reset fails
harmlessly; Grafana then creates the user with that same password.
"""

from __future__ import annotations

# The image's entrypoint (grafana/grafana 12.x, packaging/docker/run.sh), and where it puts things.
IMAGE_ENTRYPOINT = "/run.sh"

SCRIPT = (
    'printf "%s\\n" "$GF_SECURITY_ADMIN_PASSWORD" | grafana cli --homepath "$GF_PATHS_HOME" '
    '--config "$GF_PATHS_CONFIG" admin reset-admin-password --password-from-stdin >/dev/null 2>&1 '
    '&& echo "grafana-start: admin password set from GF_SECURITY_ADMIN_PASSWORD" '
    '|| echo "grafana-start: admin password not reset (first start: Grafana creates the admin user)"\n'
    f'exec {IMAGE_ENTRYPOINT} "$@"'
)

# `sh -c SCRIPT NAME`: NAME becomes $0; the container's command (none) would follow as "$@".
ENTRYPOINT = ("/bin/sh", "-c", SCRIPT, "grafana-start")
