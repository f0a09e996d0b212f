"""The Grafana container's start script, run by a real /bin/sh with a stand-in `grafana` and
/run.sh: the password reaches `grafana cli` on stdin only, and Grafana starts whatever the
reset says (the first start has no admin user yet)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from components.grafana.startup import ENTRYPOINT, IMAGE_ENTRYPOINT

PASSWORD = "rotated-Pa55word-$(touch /tmp/pwned)-'\"`"


def _executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _start(tmp_path: Path, cli_exit: int) -> tuple[subprocess.CompletedProcess[str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "record"
    # `grafana cli ...`: record its arguments and stdin, then succeed or fail as asked.
    _executable(bin_dir / "grafana", f'#!/bin/sh\nprintf "%s\\n" "$*" > {record}.args\ncat > {record}.stdin\n'
                                     f"exit {cli_exit}\n")
    _executable(tmp_path / "run.sh", f'#!/bin/sh\necho "run.sh started with $# arguments" > {record}.run\n')
    script = ENTRYPOINT[2].replace(IMAGE_ENTRYPOINT, str(tmp_path / "run.sh"))
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "GF_SECURITY_ADMIN_PASSWORD": PASSWORD,
           "GF_PATHS_HOME": "/usr/share/grafana", "GF_PATHS_CONFIG": "/etc/grafana/grafana.ini"}
    result = subprocess.run([ENTRYPOINT[0], ENTRYPOINT[1], script, ENTRYPOINT[3]], env=env, capture_output=True,
                            text=True, timeout=30)
    return result, record


@pytest.mark.parametrize("cli_exit", [0, 1], ids=["reset", "first-start"])
def test_password_goes_on_stdin_and_grafana_starts(tmp_path, cli_exit):
    result, record = _start(tmp_path, cli_exit)
    assert result.returncode == 0, result.stderr
    assert Path(f"{record}.stdin").read_text() == PASSWORD + "\n"
    args = Path(f"{record}.args").read_text()
    assert "admin reset-admin-password --password-from-stdin" in args
    assert "--homepath /usr/share/grafana --config /etc/grafana/grafana.ini" in args
    assert PASSWORD not in args and PASSWORD not in result.stdout + result.stderr
    assert Path(f"{record}.run").read_text() == "run.sh started with 0 arguments\n"
    assert ("password set" if cli_exit == 0 else "not reset") in result.stdout
    assert not Path("/tmp/pwned").exists()  # the password is data, never shell code


def test_the_entrypoint_is_exec_form_with_the_password_nowhere_in_it():
    assert ENTRYPOINT[:2] == ("/bin/sh", "-c") and "GF_SECURITY_ADMIN_PASSWORD" in ENTRYPOINT[2]
    assert f"exec {IMAGE_ENTRYPOINT}" in ENTRYPOINT[2]
