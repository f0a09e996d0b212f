"""scripts/stack.sh (make up / make down) with fake `pulumi` and `docker` on PATH."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The only programs the script may find: these, plus the fakes a test adds.
TOOLS = ("dirname", "mkdir", "sha256sum", "cut", "cat")
FAKE = """#!/bin/bash
echo "{name} $*" >> "$FAKE_LOG"
{body}
"""


def make_fake(bin_dir: Path, name: str, body: str = "exit 0") -> None:
    path = bin_dir / name
    path.write_text(FAKE.format(name=name, body=body))
    path.chmod(0o755)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's script with its venv already installed (stamp matches)."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "stack.sh", tmp_path / "scripts" / "stack.sh")
    for pins in ("requirements.txt", "constraints.txt"):
        shutil.copy(ROOT / pins, tmp_path / pins)
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text("#!/bin/sh\n")
    (venv_bin / "python").chmod(0o755)
    digest = hashlib.sha256((tmp_path / "requirements.txt").read_bytes()
                            + (tmp_path / "constraints.txt").read_bytes()).hexdigest()
    (tmp_path / ".venv" / ".requirements.sha256").write_text(digest + "\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        os.symlink(shutil.which(tool), bin_dir / tool)
    return tmp_path


def run(project: Path, *args: str, env: dict | None = None, fakes=("pulumi", "docker")) -> subprocess.CompletedProcess:
    for name in fakes:
        make_fake(project / "bin", name, 'case "$1" in stack) [ "$2" = output ] && echo "out-$3" ;; esac; exit 0')
    environment = {"PATH": str(project / "bin"), "FAKE_LOG": str(project / "calls.log"),
                   "PULUMI_CONFIG_PASSPHRASE": "test-passphrase", **(env or {})}
    return subprocess.run(["/bin/bash", str(project / "scripts" / "stack.sh"), *args], env=environment,
                          capture_output=True, text=True, timeout=60)


def calls(project: Path) -> list[str]:
    log = project / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_missing_pulumi_cli_fails_clearly(project):
    result = run(project, "up", fakes=("docker",))
    assert result.returncode != 0
    assert "the Pulumi CLI is not installed" in result.stderr
    assert calls(project) == []


def test_missing_docker_cli_fails_clearly(project):
    result = run(project, "up", fakes=("pulumi",))
    assert result.returncode != 0
    assert "the Docker CLI is not installed" in result.stderr
    assert calls(project) == []


def test_unreachable_docker_daemon_fails_clearly(project):
    make_fake(project / "bin", "pulumi")
    make_fake(project / "bin", "docker", "exit 1")
    result = run(project, "up", fakes=())
    assert result.returncode != 0
    assert "cannot reach the Docker daemon" in result.stderr
    assert not any(c.startswith("pulumi") for c in calls(project))


def test_missing_passphrase_fails_clearly(project):
    result = run(project, "up", env={"PULUMI_CONFIG_PASSPHRASE": ""})
    assert result.returncode != 0
    assert "PULUMI_CONFIG_PASSPHRASE is not set" in result.stderr
    assert not any(c.startswith("pulumi") for c in calls(project))


def test_bad_action_prints_usage(project):
    result = run(project, "deploy")
    assert result.returncode != 0 and "usage: stack.sh up|down" in result.stderr


def test_up_uses_a_local_file_backend_and_the_dev_stack(project):
    log_env = project / "env.log"
    make_fake(project / "bin", "pulumi",
              f'echo "$PULUMI_BACKEND_URL" >> {log_env}; [ "$1 $2" = "stack output" ] && echo "out-$3"; exit 0')
    result = run(project, "up", fakes=("docker",))
    assert result.returncode == 0, result.stderr
    pulumi_calls = [c for c in calls(project) if c.startswith("pulumi")]
    assert pulumi_calls[0] == "pulumi stack select dev --create --secrets-provider passphrase --non-interactive"
    assert pulumi_calls[1] == "pulumi up --stack dev --yes --non-interactive"
    assert set(log_env.read_text().split()) == {f"file://{project}/.pulumi-state"}
    assert (project / ".pulumi-state").is_dir()
    assert "Grafana:    out-grafanaUrl" in result.stdout
    assert "Admin user: out-grafanaAdminUser" in result.stdout
    assert "pulumi stack output grafanaAdminPassword --show-secrets --stack dev" in result.stdout


def test_up_keeps_a_backend_the_user_chose(project):
    log_env = project / "env.log"
    make_fake(project / "bin", "pulumi", f'echo "$PULUMI_BACKEND_URL" >> {log_env}')
    result = run(project, "up", "staging", env={"PULUMI_BACKEND_URL": "s3://team-state"}, fakes=("docker",))
    assert result.returncode == 0, result.stderr
    assert set(log_env.read_text().split()) == {"s3://team-state"}
    assert "pulumi up --stack staging --yes --non-interactive" in calls(project)
    assert not (project / ".pulumi-state").exists()


def test_down_keeps_the_protected_volumes_and_says_so(project):
    result = run(project, "down")
    assert result.returncode == 0, result.stderr
    assert "pulumi destroy --stack dev --yes --non-interactive --exclude-protected" in calls(project)
    assert "monitoring-dev-prometheus-data" in result.stdout and "monitoring-dev-grafana-data" in result.stdout
    # The password Grafana's retained database has stays too, so the next `make up` logs in.
    assert "generated Grafana admin password" in result.stdout
