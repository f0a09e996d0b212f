"""scripts/grafana_tunnel.py (the SSH forward CI opens to reach Grafana on the Docker host) and
scripts/stacks.py (the workflows' stack matrix), run as CI runs them, with a fake `ssh`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import grafana_tunnel  # noqa: E402
import stacks  # noqa: E402


def stack_file(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    return path


@pytest.mark.parametrize("config, docker_host, forward, port", [
    ({"monitoring:bindAddress": "10.0.4.12", "monitoring:grafana": {"apiUrl": "http://127.0.0.1:13000"}},
     "ssh://deploy@monitoring-host", "127.0.0.1:13000:10.0.4.12:3000", None),
    ({"monitoring:grafana": {"apiUrl": "http://localhost:13001", "port": 3300}},
     "ssh://deploy@monitoring-host:2222", "127.0.0.1:13001:127.0.0.1:3300", "2222"),
    # A wildcard bind is reached on the host's loopback; an IPv6 one in brackets.
    ({"monitoring:bindAddress": "0.0.0.0", "monitoring:grafana": json.dumps({"apiUrl": "http://127.0.0.1:13000"})},
     "ssh://deploy@h", "127.0.0.1:13000:127.0.0.1:3000", None),
    ({"monitoring:bindAddress": "fd00::12", "monitoring:grafana": {"apiUrl": "http://127.0.0.1:13000"}},
     "ssh://deploy@h", "127.0.0.1:13000:[fd00::12]:3000", None),
])
def test_the_forward_goes_from_the_api_url_to_grafanas_published_port(tmp_path, config, docker_host, forward, port):
    command = grafana_tunnel.forward_command(stack_file(tmp_path, config), docker_host)
    assert command[:2] == ["ssh", "-f"] and "ExitOnForwardFailure=yes" in command
    assert command[command.index("-L") + 1] == forward
    assert (command[command.index("-p") + 1] if "-p" in command else None) == port
    assert command[-1] in ("deploy@monitoring-host", "deploy@h")


@pytest.mark.parametrize("config, docker_host", [
    ({"monitoring:bindAddress": "10.0.4.12"}, "ssh://deploy@host"),  # no apiUrl: the program reaches Grafana itself
    ({"monitoring:grafana": {"apiUrl": "http://127.0.0.1:13000"}}, "unix:///var/run/docker.sock"),
    ({"monitoring:grafana": {"apiUrl": "http://127.0.0.1:13000"}}, ""),
])
def test_nothing_to_forward(tmp_path, config, docker_host):
    assert grafana_tunnel.forward_command(stack_file(tmp_path, config), docker_host) is None


def test_an_api_url_that_is_not_loopback_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="loopback"):
        grafana_tunnel.forward_command(stack_file(tmp_path, {"monitoring:grafana": {"apiUrl": "http://10.1.1.1:3000"}}),
                                       "ssh://deploy@host")


def test_the_script_runs_ssh_as_ci_does(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/ssh.args\n')
    (bin_dir / "ssh").chmod(0o755)
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    for name in ("grafana_tunnel.py",):
        (project / "scripts" / name).write_text((ROOT / "scripts" / name).read_text())
    (project / "components").symlink_to(ROOT / "components")
    stack_file(project, {"monitoring:grafana": {"apiUrl": "http://127.0.0.1:13000"}})
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "DOCKER_HOST": "ssh://deploy@host"}
    result = subprocess.run([sys.executable, str(project / "scripts" / "grafana_tunnel.py"), "prod"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ssh.args").read_text().split()[-3:] == ["-L", "127.0.0.1:13000:127.0.0.1:3000",
                                                                "deploy@host"]


def test_stacks_follow_the_stack_files_and_prod_runs_in_production(tmp_path):
    for name in ("dev", "prod", "staging"):
        (tmp_path / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.yaml").write_text("name: monitoring\n")
    assert stacks.stacks(tmp_path) == [{"stack": "dev", "environment": "dev"},
                                       {"stack": "prod", "environment": "production"},
                                       {"stack": "staging", "environment": "staging"}]
    assert {"stack": "dev", "environment": "dev"} in stacks.stacks()  # this repository's own
