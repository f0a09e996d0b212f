"""python -m dashboards.diff: the Markdown summary of dashboard changes, from directories and
from git revisions (a temporary repository per test, no network)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dashboards import build_dashboards, dashboard_json
from dashboards.diff import INLINE_LIMIT, NO_CHANGES, summarize
from dashboards.diff.__main__ import main

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "dashboard-diff"
# Hand-checked against old/ and new/: every kind of change the summary reports.
EXPECTED = (FIXTURES / "expected.md").read_text(encoding="utf-8")


def write_models(directory: Path, models: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for uid, model in models.items():
        (directory / f"{uid}.json").write_text(dashboard_json(model), encoding="utf-8")
    return directory


def fence_blocks_stay_in_their_list_items(markdown: str) -> None:
    """Every fence opens and closes at the same indent, inside a list item, with its lines indented as much."""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith("```"):
            indent = len(line) - len(line.lstrip())
            fence = line.strip().split("diff")[0]
            assert indent >= 2 and lines[index - 1].lstrip().startswith("- "), line
            close = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == fence)
            assert len(lines[close]) - len(lines[close].lstrip()) == indent
            assert all(body.startswith(" " * indent + ("- ", "+ ")[body.lstrip().startswith("+")])
                       for body in lines[index + 1:close]), lines[index + 1:close]
            index = close
        index += 1


# --- two directories --------------------------------------------------------------


def test_the_command_prints_the_expected_summary_of_the_hand_written_fixtures():
    result = subprocess.run([sys.executable, "-m", "dashboards.diff", str(FIXTURES / "old"), str(FIXTURES / "new")],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == EXPECTED
    fence_blocks_stay_in_their_list_items(result.stdout)


def test_exit_code_says_whether_anything_changed(capsys):
    assert main(["--exit-code", str(FIXTURES / "old"), str(FIXTURES / "new")]) == 1
    assert main(["--exit-code", str(FIXTURES / "new"), str(FIXTURES / "new")]) == 0
    assert capsys.readouterr().out.endswith(f"\n{NO_CHANGES}\n")
    # Without --exit-code a change is no failure: the workflow and make read the text.
    assert main([str(FIXTURES / "old"), str(FIXTURES / "new")]) == 0


def test_nothing_changed_between_identical_exports(tmp_path, capsys):
    models = build_dashboards()
    assert main([str(write_models(tmp_path / "a", models)), str(write_models(tmp_path / "b", models))]) == 0
    assert capsys.readouterr().out == f"{NO_CHANGES}\n"


def test_real_dashboards_mutated_in_known_ways(tmp_path, capsys):
    old = build_dashboards()
    new = copy.deepcopy(old)
    overview = {p["id"]: p for p in new["system-overview"]["panels"]}
    cpu = overview[1]
    cpu["title"] = "CPU Busy"
    cpu["fieldConfig"]["defaults"]["unit"] = "percentunit"
    cpu["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] = 90
    assert 'mode="idle"' in cpu["targets"][0]["expr"]
    cpu["targets"][0]["expr"] = cpu["targets"][0]["expr"].replace('mode="idle"', 'mode="iowait"')
    new["system-overview"]["panels"].remove(overview[6])
    errors = next(p for p in new["application-performance"]["panels"] if p["id"] == 2)
    errors["targets"][0]["legendFormat"] = "{{instance}} 5xx"
    django = next(v for v in new["application-performance"]["templating"]["list"] if v["name"] == "django_instance")
    django["query"] = 'label_values(up{job="django"}, instance)'
    del new["infrastructure-health"]

    assert main([str(write_models(tmp_path / "old", old)), str(write_models(tmp_path / "new", new))]) == 0
    output = capsys.readouterr().out

    old_cpu = old["system-overview"]["panels"][0]
    old_errors = old["application-performance"]["panels"][1]
    old_django = next(v for v in old["application-performance"]["templating"]["list"] if v["name"] == "django_instance")
    health = old["infrastructure-health"]["panels"]
    assert len(old_cpu["targets"][0]["expr"]) > INLINE_LIMIT  # so the expression goes in a diff block
    expected = "\n".join([
        "### Application Performance (`application-performance`)",
        "",
        "- Variable `django_instance` changed:",
        f"  - `query`: `{old_django['query']}` → `label_values(up{{job=\"django\"}}, instance)`",
        "- Panel 2 **Error Rate**:",
        f"  - query `A` legend: `{old_errors['targets'][0]['legendFormat']}` → `{{{{instance}}}} 5xx`",
        "",
        "### Infrastructure Health (`infrastructure-health`)",
        "",
        f"- Dashboard removed ({len(health)} panels: "
        + ", ".join(f"{p['id']} **{p['title']}**" for p in health) + ")",
        "",
        "### System Overview (`system-overview`)",
        "",
        "- Panel 1 **CPU Busy**:",
        "  - title: `CPU Usage` → `CPU Busy`",
        "  - unit: `percent` → `percentunit`",
        "  - thresholds: `base green, 80 red` → `base green, 90 red`",
        '  - query `A` expr (`"idle"` → `"iowait"`):',
        "    ```diff",
        f"    - {old_cpu['targets'][0]['expr']}",
        f"    + {cpu['targets'][0]['expr']}",
        "    ```",
        "- Panel 6 **Response Time p50/p95** removed (timeseries)",
        "",
    ])
    assert output == expected
    fence_blocks_stay_in_their_list_items(output)


# --- the rules of the summary ---------------------------------------------------------


def one_panel(panel_id: int = 1, title: str = "P", expr: str = "up", **extra) -> dict:
    return {"x": {"uid": "x", "title": "X", "panels": [
        {"id": panel_id, "title": title, "type": "timeseries", "targets": [{"refId": "A", "expr": expr}], **extra}]}}


def test_panels_are_matched_by_id_not_by_title():
    # Same id, new title: one panel renamed.
    assert summarize(one_panel(1, "Old"), one_panel(1, "New")) == (
        "### X (`x`)\n\n- Panel 1 **New**:\n  - title: `Old` → `New`")
    # Same title, new id: the old panel removed and another added.
    assert summarize(one_panel(1, "Same"), one_panel(2, "Same")) == (
        "### X (`x`)\n\n- Panel 1 **Same** removed (timeseries)\n"
        "- Panel 2 **Same** added (timeseries)\n  - query `A`: `up`")


def test_a_value_at_the_inline_limit_stays_inline_and_one_longer_goes_in_a_diff_block():
    short, longer = "a" * INLINE_LIMIT, "b" * (INLINE_LIMIT + 1)
    assert summarize(one_panel(expr="up"), one_panel(expr=short)).endswith(f"expr: `up` → `{short}`")
    assert summarize(one_panel(expr="up"), one_panel(expr=longer)).endswith(
        f"expr (rewritten):\n    ```diff\n    - up\n    + {longer}\n    ```")


def test_the_line_above_a_diff_block_names_what_changed():
    base = 'sum by (instance) (rate(http_requests_total{job="django",code="200",method="GET"}[5m])) > 0'
    changed = base.replace('"200"', '"500"').replace("[5m]", "[10m]")
    assert "(`\"200\"` → `\"500\"`, `5m` → `10m`)" in summarize(one_panel(expr=base), one_panel(expr=changed))


def test_backticks_and_markdown_in_values_and_titles_are_quoted():
    summary = summarize(one_panel(title="a*b_c", expr="x"), one_panel(title="a*b_c", expr="say `hi`"))
    assert summary == "### X (`x`)\n\n- Panel 1 **a\\*b\\_c**:\n  - query `A` expr: `x` → `` say `hi` ``"
    long_with_fence = "```" + "q" * INLINE_LIMIT
    fence_blocks_stay_in_their_list_items(summarize(one_panel(expr="x"), one_panel(expr=long_with_fence)))
    assert "    ````diff\n" in summarize(one_panel(expr="x"), one_panel(expr=long_with_fence))


def test_unreported_panel_fields_are_named_not_hidden():
    old = one_panel(gridPos={"x": 0}, fieldConfig={"defaults": {"min": 0}, "overrides": []})
    new = one_panel(gridPos={"x": 8}, fieldConfig={"defaults": {"min": 1}, "overrides": [{"matcher": {}}]})
    assert summarize(old, new).endswith(
        "- also changed: `gridPos`, `fieldConfig.overrides`, `fieldConfig.defaults.min`")


def test_a_missing_unit_is_shown_as_unset():
    with_unit = one_panel(fieldConfig={"defaults": {"unit": "s"}})
    assert summarize(one_panel(), with_unit).endswith("unit: (unset) → `s`")


def test_ambiguous_models_are_refused(tmp_path, capsys):
    duplicated = {"x": {"uid": "x", "panels": [{"id": 1, "title": "a"}, {"id": 1, "title": "b"}]}}
    with pytest.raises(ValueError, match="two panels with id 1"):
        summarize(duplicated, duplicated)
    assert main([str(write_models(tmp_path / "a", duplicated)), str(FIXTURES / "new")]) == 2
    assert "two panels with id 1" in capsys.readouterr().err


def test_usage_errors(capsys):
    for argv in ([], [str(FIXTURES / "old")], ["--git", "a", "b", "c"], [str(FIXTURES / "old"), str(FIXTURES / "new"), "--git", "a"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2, argv
    assert main([str(FIXTURES / "old"), str(FIXTURES / "missing")]) == 2
    assert "is not a directory" in capsys.readouterr().err


# --- two git revisions -----------------------------------------------------------------

# A stand-in for the project's exporter: copies the revision's own models/ to OUT_DIR.
FAKE_EXPORTER = """\
import shutil, sys
from pathlib import Path

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
for path in sorted((Path(__file__).parent / "models").glob("*.json")):
    shutil.copy(path, out / path.name)
"""
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def commit_models(repo: Path, models_dir: Path | None, message: str, exporter: str = FAKE_EXPORTER) -> str:
    shutil.rmtree(repo / "dashboards", ignore_errors=True)
    if models_dir is not None:
        shutil.copytree(models_dir, repo / "dashboards" / "models")
        (repo / "dashboards" / "__init__.py").write_text("")
        (repo / "dashboards" / "__main__.py").write_text(exporter)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def history(tmp_path, monkeypatch):
    """A repository with three commits: no dashboards, the old fixtures, the new fixtures."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    # A revision's exporter must import its own dashboards package, not this one on PYTHONPATH.
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    monkeypatch.setenv("PYTHONSAFEPATH", "1")
    (tmp_path / "tmp").mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("a project\n")
    commits = {"empty": commit_models(repo, None, "no dashboards yet"),
               "old": commit_models(repo, FIXTURES / "old", "old dashboards"),
               "new": commit_models(repo, FIXTURES / "new", "new dashboards")}
    return repo, commits


def assert_left_no_trace(repo: Path, tmp_path: Path) -> None:
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary exports are gone
    assert git(repo, "status", "--porcelain", "--ignored") == ""
    assert len(git(repo, "worktree", "list", "--porcelain").split("\n\n")) == 1


def test_git_mode_exports_each_revision_with_its_own_code(history, tmp_path, capsys):
    repo, commits = history
    assert main(["--repo", str(repo), "--git", commits["old"], commits["new"]]) == 0
    assert capsys.readouterr().out == EXPECTED
    assert_left_no_trace(repo, tmp_path)


def test_git_mode_from_a_revision_without_dashboards_adds_them_all(history, tmp_path, capsys):
    repo, commits = history
    assert main(["--repo", str(repo), "--git", commits["empty"], "HEAD~1"]) == 0
    expected = summarize({}, {p.stem: json.loads(p.read_text()) for p in (FIXTURES / "old").glob("*.json")})
    assert capsys.readouterr().out == expected + "\n"
    assert expected.count("- Dashboard added") == 3
    assert_left_no_trace(repo, tmp_path)


def test_git_mode_without_head_reads_the_working_tree(history, tmp_path, capsys):
    repo, commits = history
    models = repo / "dashboards" / "models"
    steady = json.loads((models / "steady.json").read_text())
    steady["panels"][0]["title"] = "Up Now"
    (models / "steady.json").write_text(json.dumps(steady))
    assert main(["--repo", str(repo), "--git", "HEAD"]) == 0
    assert capsys.readouterr().out == "### Steady (`steady`)\n\n- Panel 1 **Up Now**:\n  - title: `Up` → `Up Now`\n"
    assert list((tmp_path / "tmp").iterdir()) == []
    assert git(repo, "status", "--porcelain") == "M dashboards/models/steady.json"


def test_git_mode_reports_a_failing_export_and_still_cleans_up(history, tmp_path, capsys):
    repo, commits = history
    broken = commit_models(repo, FIXTURES / "new", "broken exporter", exporter="raise SystemExit('exporter broke')\n")
    assert main(["--repo", str(repo), "--git", commits["old"], broken]) == 2
    error = capsys.readouterr().err
    assert "python -m dashboards failed for revision" in error and "exporter broke" in error
    assert_left_no_trace(repo, tmp_path)


def test_git_mode_refuses_an_unknown_revision(history, tmp_path, capsys):
    repo, _ = history
    assert main(["--repo", str(repo), "--git", "no-such-branch"]) == 2
    assert "'no-such-branch' is not a commit" in capsys.readouterr().err
    assert_left_no_trace(repo, tmp_path)


def test_make_target_compares_base_with_the_working_tree_or_a_revision():
    def commands(*variables: str) -> str:
        make = shutil.which("make")
        assert make, "make is not installed"
        # --no-print-directory: under an outer make (CI runs `make test`) make -n also prints
        # "Entering directory" lines.
        return subprocess.run([make, "--no-print-directory", "-n", "dashboard-diff", *variables], cwd=REPO_ROOT,
                              check=True, capture_output=True, text=True).stdout.strip()

    assert commands() == '.venv/bin/python -m dashboards.diff --git "origin/main"'
    assert commands("BASE=v1", "HEAD_REV=topic") == '.venv/bin/python -m dashboards.diff --git "v1" "topic"'
