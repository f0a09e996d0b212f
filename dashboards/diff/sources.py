"""Where the compared dashboards come from: a directory of exported JSON, or a git revision.

A revision is exported by its own code: `git archive` writes its tracked files to a temporary
directory and that copy's `python -m dashboards` writes the JSON. `git archive` only reads the
repository: unlike `git worktree add`, it registers nothing in `.git` that an interrupted run
would leave behind, and needs no cleanup beyond the temporary directory (the caller's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

# The file that makes a revision's dashboards exportable; a revision without it has none.
EXPORTER = "dashboards/__main__.py"


class SourceError(Exception):
    """Dashboards that could not be read or exported (the message says which and why)."""


def load_directory(directory: Path) -> dict[str, dict[str, Any]]:
    """uid -> model of every `*.json` dashboard in `directory` (not its subdirectories)."""
    if not directory.is_dir():
        raise SourceError(f"{directory} is not a directory")
    models: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            model = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SourceError(f"{path}: {error}") from error
        if not isinstance(model, dict):
            raise SourceError(f"{path}: not a dashboard model (a JSON object)")
        uid = str(model.get("uid") or path.stem)
        if uid in models:
            raise SourceError(f"{directory}: two dashboards with uid {uid!r}")
        models[uid] = model
    return models


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SourceError(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result.stdout.strip()


def repository_root(path: Path) -> Path:
    """The top of the git working tree that holds `path`."""
    return Path(_git(path, "rev-parse", "--show-toplevel"))


def export_working_tree(repo: Path, out_dir: Path) -> None:
    """The working tree's dashboards, uncommitted changes included."""
    _run_exporter(repo, out_dir, "the working tree")


def export_revision(repo: Path, revision: str, work_dir: Path) -> Path:
    """Export `revision`'s dashboards with its own code; returns the directory of its JSON.

    `work_dir` must be an empty temporary directory, which the caller removes.
    """
    try:
        commit = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    except SourceError as error:
        raise SourceError(f"{revision!r} is not a commit in {repo}") from error
    out_dir = work_dir / "dashboards"
    out_dir.mkdir()
    listed = _git(repo, "ls-tree", "--name-only", commit, "--", EXPORTER)
    if not listed:
        return out_dir  # no dashboards yet at that revision: every dashboard is new
    tree = work_dir / "tree"
    tree.mkdir()
    # A file, not a pipe: tarfile stops reading at the end-of-archive marker, and git, still
    # writing the record's padding, would die of SIGPIPE.
    archive = work_dir / "tree.tar"
    _git(repo, "archive", "--format=tar", "-o", str(archive), commit)
    try:
        with tarfile.open(archive) as files:
            # "data": no absolute paths, no links out of the tree, no device files.
            files.extractall(tree, filter="data")
    except tarfile.TarError as error:
        raise SourceError(f"git archive {revision}: {error}") from error
    _run_exporter(tree, out_dir, f"revision {revision} ({commit[:12]})")
    return out_dir


def _run_exporter(tree: Path, out_dir: Path, what: str) -> None:
    # `-m` puts the tree first on sys.path, ahead of PYTHONPATH, unless PYTHONSAFEPATH is set.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONSAFEPATH"}
    result = subprocess.run([sys.executable, "-m", "dashboards", str(out_dir)], cwd=tree, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SourceError(f"python -m dashboards failed for {what}:\n{result.stderr.strip()}")
