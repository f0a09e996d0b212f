"""The GitHub Actions workflows: actionlint finds nothing, and their structure holds.

actionlint comes from the PyPI wheel pinned in requirements-dev.txt, which installs the
binary into the virtualenv's bin directory.
"""

from __future__ import annotations

import json
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
            assert any(s.get("with", {}).get("comment-on-pr") or _posts_a_comment(s)
                       for _, s in steps({"jobs": {name: job}})), f"{name} may write pull requests but does not comment"


def _posts_a_comment(step: dict) -> bool:
    return "gh api" in step.get("run", "") and "/comments" in step.get("run", "")


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


# --- the dashboard diff of a pull request ------------------------------------------------


def test_pull_requests_get_a_dashboard_diff_comment():
    workflow = load(WORKFLOWS / "pr.yml")
    diff_job = workflow["jobs"]["dashboard-diff"]
    # It runs the pull request's code: no environment, no secrets, no write permission.
    assert "permissions" not in diff_job and "environment" not in diff_job
    assert "secrets." not in yaml.safe_dump(diff_job)
    checkout = diff_job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"persist-credentials": False, "fetch-depth": 0}  # the base commit is needed
    step = _diff_step(workflow)
    assert '.venv/bin/python -m dashboards.diff --exit-code --git "$BASE_SHA" HEAD' in step["run"]
    assert step["env"] == {"BASE_SHA": "${{ github.event.pull_request.base.sha }}"}
    assert diff_job["outputs"] == {"summary": "${{ steps.diff.outputs.summary }}",
                                   "changed": "${{ steps.diff.outputs.changed }}"}

    comment_job = workflow["jobs"]["dashboard-comment"]
    assert comment_job["needs"] == "dashboard-diff"
    assert comment_job["permissions"] == {"pull-requests": "write"}
    # It holds the write token, so it runs nothing from the pull request: no checkout, no action.
    (post,) = comment_job["steps"]
    assert "uses" not in post and _posts_a_comment(post)
    assert post["env"]["SUMMARY"] == "${{ needs.dashboard-diff.outputs.summary }}"
    assert post["env"]["CHANGED"] == "${{ needs.dashboard-diff.outputs.changed }}"
    assert "${{" not in post["run"]  # the summary reaches the shell as data, never as script text


def _diff_step(workflow: dict) -> dict:
    return next(s for s in workflow["jobs"]["dashboard-diff"]["steps"] if s.get("id") == "diff")


def _comment_step(workflow: dict) -> dict:
    (step,) = workflow["jobs"]["dashboard-comment"]["steps"]
    return step


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def _outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: name=value lines and name<<DELIMITER blocks."""
    lines, outputs = path.read_text().splitlines(), {}
    while lines:
        line = lines.pop(0)
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter)
            outputs[name], lines = "\n".join(lines[:end]), lines[end + 1:]
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def test_the_diff_step_outputs_the_summary_of_a_pull_request(tmp_path):
    """The step's own script, on a repository holding this project's dashboards, one title changed."""
    repo = tmp_path / "repo"
    for package in ("dashboards", "components"):
        shutil.copytree(ROOT / package, repo / package, ignore=shutil.ignore_patterns("__pycache__"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    source = repo / "dashboards" / "system_overview.py"
    assert source.read_text().count('title="CPU Usage",') == 1
    source.write_text(source.read_text().replace('title="CPU Usage",', 'title="CPU Busy",'))
    _git(repo, "commit", "-q", "-am", "head")
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (repo / ".venv" / "bin" / "python").chmod(0o755)

    def run_step(base_sha: str) -> tuple[dict[str, str], str]:
        output, summary = tmp_path / "output", tmp_path / "summary"
        output.write_text(""), summary.write_text("")
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _diff_step(load(WORKFLOWS / "pr.yml"))["run"]],
                                cwd=repo, capture_output=True, text=True, timeout=120,
                                env={**os.environ, "BASE_SHA": base_sha, "GITHUB_OUTPUT": str(output),
                                     "GITHUB_STEP_SUMMARY": str(summary)})
        assert result.returncode == 0, result.stderr
        return _outputs(output), summary.read_text()

    outputs, page = run_step(base)
    expected = "### System Overview (`system-overview`)\n\n- Panel 1 **CPU Busy**:\n  - title: `CPU Usage` → `CPU Busy`"
    assert outputs == {"changed": "true", "summary": expected}
    assert page == expected + "\n"
    assert run_step(_git(repo, "rev-parse", "HEAD"))[0] == {"changed": "false", "summary": "No dashboard changes."}


FAKE_GH = """\
#!{python}
import json, os, sys
with open(os.environ["GH_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if "--paginate" in sys.argv:
    sys.stdout.write(os.environ["FAKE_COMMENT_IDS"])
"""


def _run_comment_step(tmp_path: Path, existing_ids: str, changed: str, summary: str) -> list[list[str]]:
    """The comment step's own script with a fake `gh` that records its calls; returns them."""
    bin_dir, log = tmp_path / "bin", tmp_path / "gh.log"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH.format(python=sys.executable))
    (bin_dir / "gh").chmod(0o755)
    step = _comment_step(load(WORKFLOWS / "pr.yml"))
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                                 "GH_LOG": str(log), "FAKE_COMMENT_IDS": existing_ids, "GITHUB_REPOSITORY": "o/r",
                                 "PR_NUMBER": "7", "SUMMARY": summary, "CHANGED": changed, "RUN_URL": "https://run/1"})
    assert result.returncode == 0, result.stderr
    listing, *posts = [json.loads(line) for line in log.read_text().splitlines()]
    assert listing[:3] == ["api", "repos/o/r/issues/7/comments", "--paginate"]
    assert "github-actions[bot]" in listing[-1] and "<!-- dashboard-diff -->" in listing[-1]
    return posts


def _body(summary: str) -> str:
    return ("body=<!-- dashboard-diff -->\n## Dashboard changes\n\n" + summary
            + "\n\n<sub>python -m dashboards.diff against the base branch: [run](https://run/1)</sub>")


@pytest.mark.parametrize(("existing_ids", "changed", "expected_call"), [
    ("", "true", ["api", "--method", "POST", "repos/o/r/issues/7/comments"]),
    ("", "false", None),  # nothing changed and nothing to update: no comment
    ("42\n77\n", "false", ["api", "--method", "PATCH", "repos/o/r/issues/comments/42"]),
    ("42\n", "true", ["api", "--method", "PATCH", "repos/o/r/issues/comments/42"]),
])
def test_the_comment_step_posts_once_and_then_edits(tmp_path, existing_ids, changed, expected_call):
    summary = "### System Overview (`system-overview`)\n\n- Panel 1 **CPU Busy**:\n  - title: `$(touch pwned)` → `x`"
    posts = _run_comment_step(tmp_path, existing_ids, changed, summary)
    assert not (tmp_path / "pwned").exists()
    assert posts == ([] if expected_call is None else [[*expected_call, "-f", _body(summary)]])


def test_the_comment_step_points_to_the_run_when_the_summary_is_too_long(tmp_path):
    posts = _run_comment_step(tmp_path, "", "true", "x" * 60001)
    assert posts == [["api", "--method", "POST", "repos/o/r/issues/7/comments", "-f",
                      _body("The summary is too long for a comment: see the run's summary.")]]
