"""Open the SSH forward that lets `pulumi up` on a CI runner reach Grafana on the Docker host.

    python scripts/grafana_tunnel.py STACK

The Grafana provider connects from wherever `pulumi up` runs. On a hosted runner with
`DOCKER_HOST=ssh://deploy@monitoring-host`, Grafana's port is bound to `bindAddress` on that
host (loopback or a private address) and out of reach. With `grafana.apiUrl` set in the
stack's `Pulumi.<stack>.yaml` to a loopback URL (`http://127.0.0.1:13000`), this script starts
`ssh -f -N -L 127.0.0.1:13000:<bindAddress>:<grafana.port> deploy@monitoring-host` (a wildcard
bind is reached on the host's loopback), so the program's API calls travel through SSH.
Nothing to do, and exit 0, when the stack sets no `grafana.apiUrl` or DOCKER_HOST is not ssh://.
Reads the stack file with the config model's own types; never needs a secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from components.config.model import GrafanaConfig  # noqa: E402
from components.types import canonical_ip, is_all_interfaces, url_host  # noqa: E402


def forward_command(stack_file: Path, docker_host: str) -> list[str] | None:
    """The ssh command line of the forward, or None when there is nothing to forward."""
    config = (yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}).get("config") or {}
    raw_grafana = config.get("monitoring:grafana") or {}
    if isinstance(raw_grafana, dict) and "secure" in raw_grafana:
        raise SystemExit(f"{stack_file.name}: monitoring:grafana is stored as a secret; set grafana.apiUrl and "
                         f"grafana.port as plain values to forward")
    grafana = GrafanaConfig.model_validate(json.loads(raw_grafana) if isinstance(raw_grafana, str) else raw_grafana)
    if grafana.api_url is None:
        return None
    target = urlsplit(docker_host)
    if target.scheme != "ssh" or not target.hostname:
        return None
    local = urlsplit(grafana.api_url)
    if local.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"grafana.apiUrl {grafana.api_url!r}: a forward listens on loopback; use "
                         f"http://127.0.0.1:<port>")
    local_port = local.port or (443 if local.scheme == "https" else 80)
    bind = canonical_ip(config.get("monitoring:bindAddress", "127.0.0.1"))
    remote = ("::1" if ":" in bind else "127.0.0.1") if is_all_interfaces(bind) else bind
    destination = f"{target.username}@{target.hostname}" if target.username else target.hostname
    command = ["ssh", "-f", "-N", "-o", "ExitOnForwardFailure=yes", "-o", "ServerAliveInterval=30",
               "-L", f"127.0.0.1:{local_port}:{url_host(remote)}:{grafana.port}"]
    if target.port:
        command += ["-p", str(target.port)]
    return [*command, destination]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    stack_file = ROOT / f"Pulumi.{argv[0]}.yaml"
    if not stack_file.is_file():
        print(f"grafana_tunnel: {stack_file.name} not found", file=sys.stderr)
        return 2
    command = forward_command(stack_file, os.environ.get("DOCKER_HOST", ""))
    if command is None:
        print("grafana_tunnel: no grafana.apiUrl, or DOCKER_HOST is not ssh://: nothing to forward")
        return 0
    print("grafana_tunnel: " + " ".join(command))
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
