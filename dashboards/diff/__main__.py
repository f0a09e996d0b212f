"""Summarise dashboard changes as Markdown.

    python -m dashboards.diff OLD_DIR NEW_DIR             two directories of exported JSON
    python -m dashboards.diff --git BASE_REV [HEAD_REV]   two revisions (HEAD_REV: the working tree)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from . import NO_CHANGES, summarize
from .sources import SourceError, export_revision, export_working_tree, load_directory, repository_root


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboards.diff",
        description="Print a Markdown summary of what changed in the dashboards, panel by panel.")
    parser.add_argument("dirs", nargs="*", metavar="DIR", help="OLD_DIR NEW_DIR: directories of <uid>.json files")
    parser.add_argument("--git", nargs="+", metavar="REV",
                        help="BASE_REV [HEAD_REV]: export each revision's dashboards with its own code "
                             "(without HEAD_REV: the working tree, uncommitted changes included)")
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="the git repository (default: here)")
    parser.add_argument("--exit-code", action="store_true", help="exit with 1 when something changed, like git diff")
    return parser


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.git is not None and (args.dirs or len(args.git) > 2):
        parser.error("--git takes BASE_REV [HEAD_REV] and no directories")
    if args.git is None and len(args.dirs) != 2:
        parser.error("give OLD_DIR NEW_DIR, or --git BASE_REV [HEAD_REV]")
    try:
        if args.git is None:
            summary = summarize(load_directory(Path(args.dirs[0])), load_directory(Path(args.dirs[1])))
        else:
            summary = _summarize_revisions(args.repo, args.git[0], args.git[1] if len(args.git) == 2 else None)
    except (SourceError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary)
    return 1 if args.exit_code and summary != NO_CHANGES else 0


def _summarize_revisions(repo: Path, base: str, head: str | None) -> str:
    root = repository_root(repo)
    # Removed on return, on errors and on Ctrl-C alike.
    with tempfile.TemporaryDirectory(prefix="dashboard-diff-") as work:
        base_dir = Path(work, "base")
        base_dir.mkdir()
        old = load_directory(export_revision(root, base, base_dir))
        if head is None:
            head_out = Path(work, "working-tree")
            export_working_tree(root, head_out)
        else:
            head_dir = Path(work, "head")
            head_dir.mkdir()
            head_out = export_revision(root, head, head_dir)
        return summarize(old, load_directory(head_out))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
