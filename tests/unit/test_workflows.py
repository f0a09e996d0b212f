"""The GitHub Actions workflows: actionlint finds nothing, and their structure holds.

actionlint comes from the PyPI wheel pinned in requirements-dev.txt, which installs the
binary into the virtualenv's bin directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
# A release tag: v5, v5.0, v5.0.0 (or a full commit sha), never a branch such as main.
PINNED = re.compile(r"^[^@\s]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")
FULL_VERSION = re.compile(r"@v\d+\.\d+\.\d+$")


def actionlint() -> str:
    candidate = Path(sys.executable).parent / "actionlint"
    found = str(candidate) if candidate.exists() else shutil.which("actionlint")
    assert found, "actionlint is not installed: pip install -r requirements-dev.txt"
    return found


def run_actionlint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    # shellcheck/pyflakes integrations off: the result must not depend on what else the machine has.
    return subprocess.run([actionlint(), "-no-color", "-oneline", "-shellcheck=", "-pyflakes=", *args],
                          input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})


def load(path: Path) -> dict:
    # PyYAML reads the key `on` as True.
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def test_the_workflows_exist():
    assert {p.name for p in FILES} >= {"pr.yml", "main.yml"}


def test_actionlint_finds_nothing():
    result = run_actionlint(*[str(p) for p in FILES])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_actionlint_does_report_a_broken_workflow():
    """Guards the test above against a linter that silently checks nothing."""
    broken = "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n"
    result = run_actionlint("-", stdin=broken)
    assert result.returncode == 1 and "nope" in result.stdout


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_least_privilege_permissions(path):
    workflow = load(path)
    assert workflow.get("permissions") == {"contents": "read"}, "top-level permissions must be contents: read"
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions", {})
        assert set(granted) <= {"contents", "pull-requests", "issues"}, f"{name}: {granted}"
        if "issues" in granted:  # only the drift report may write issues, and it does
            assert path.name == "drift.yml" and any("gh issue" in s.get("run", "") for _, s in
                                                   steps({"jobs": {name: job}})), name
        if granted.get("pull-requests") == "write":
            assert any(s.get("with", {}).get("comment-on-pr") for _, s in steps({"jobs": {name: job}})), \
                f"{name} may write pull requests but does not comment"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_actions_pinned_to_full_release_tags(path):
    for job, step in steps(load(path)):
        uses = step.get("uses")
        if uses and not uses.startswith("./"):
            assert PINNED.match(uses) and FULL_VERSION.search(uses), f"{path.name} {job}: {uses} is not pinned"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_pip_caching(path):
    for job, step in steps(load(path)):
        if step.get("uses", "").startswith("actions/setup-python@"):
            assert step["with"]["cache"] == "pip" and step["with"]["python-version"] == "3.11", job
            assert step["with"].get("cache-dependency-path"), job


def _pulumi_steps(workflow: dict) -> list[dict]:
    """The pulumi/actions steps that run a command (the others only install the CLI)."""
    return [s for _, s in steps(workflow) if s.get("uses", "").startswith("pulumi/actions@")
            and s.get("with", {}).get("command")]


def _tunnel_before_pulumi(job: dict) -> None:
    # The Grafana provider must reach Grafana from the runner: the forward opens before the command.
    names = [s.get("run", "") + s.get("uses", "") for s in job["steps"]]
    tunnel = next(i for i, text in enumerate(names) if "scripts/grafana_tunnel.py" in text)
    install = next(i for i, s in enumerate(job["steps"]) if s.get("uses", "").startswith("pulumi/actions@"))
    command = next(i for i, s in enumerate(job["steps"]) if s.get("with", {}).get("command"))
    assert install < tunnel < command


def test_pull_requests_run_tests_then_preview_every_stack_with_policies():
    workflow = load(WORKFLOWS / "pr.yml")
    assert "pull_request" in workflow["on"]
    assert any(s.get("run", "").strip() == "make test" for _, s in steps({"jobs": {"t": workflow["jobs"]["test"]}}))
    preview = workflow["jobs"]["preview"]
    assert preview["needs"] == ["test", "stacks"]
    # One preview per Pulumi.<stack>.yaml, in that stack's GitHub environment (its secrets only).
    assert preview["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    assert preview["environment"] == "${{ matrix.environment }}"
    assert any("scripts/stacks.py" in s.get("run", "") for s in workflow["jobs"]["stacks"]["steps"])
    _tunnel_before_pulumi(preview)
    assert preview["permissions"] == {"contents": "read", "pull-requests": "write"}
    (step,) = _pulumi_steps({"jobs": {"preview": preview}})
    assert step["with"]["command"] == "preview"
    assert step["with"]["comment-on-pr"] is True
    assert step["with"]["policyPacks"] == "policy"
    assert step["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert preview["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert preview["env"]["DOCKER_HOST"] == "${{ secrets.DOCKER_HOST }}"


def test_main_deploys_dev_staging_then_prod_behind_an_environment():
    workflow = load(WORKFLOWS / "main.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert [jobs[j]["with"]["stack"] for j in ("dev", "staging", "prod")] == ["dev", "staging", "prod"]
    assert (jobs["dev"]["needs"], jobs["staging"]["needs"], jobs["prod"]["needs"]) == ("test", "dev", "staging")
    assert jobs["prod"]["with"]["environment"] == "production"

    up = load(WORKFLOWS / "up.yml")
    job = up["jobs"]["up"]
    assert job["environment"] == "${{ inputs.environment }}"
    (step,) = _pulumi_steps(up)
    assert step["with"]["command"] == "up" and step["with"]["policyPacks"] == "policy"
    assert "comment-on-pr" not in step["with"] and "permissions" not in job
    _tunnel_before_pulumi(job)
    assert job["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"


def test_policy_pack_config_exists_for_every_stack():
    for stack in ("dev", "staging", "prod"):
        assert (ROOT / "policy" / "config" / f"{stack}.json").exists()


def test_drift_check_previews_every_stack_daily_and_reports_drift():
    workflow = load(WORKFLOWS / "drift.yml")
    assert workflow["on"]["schedule"] and "workflow_dispatch" in workflow["on"]
    job = workflow["jobs"]["drift"]
    assert job["environment"] == "${{ matrix.environment }}"
    assert job["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    (step,) = _pulumi_steps({"jobs": {"drift": job}})
    assert step["with"]["command"] == "preview"
    assert step["with"]["refresh"] is True and step["with"]["expect-no-changes"] is True
    report = job["steps"][-1]
    assert report["if"] == "failure() && steps.preview.outcome == 'failure'" and step["id"] == "preview"
    assert "gh issue create" in report["run"] and "gh issue comment" in report["run"]
    _tunnel_before_pulumi(job)
