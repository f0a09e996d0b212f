"""Write each dashboard's JSON model: python -m dashboards OUT_DIR"""

from __future__ import annotations

import sys
from pathlib import Path

from . import build_dashboards, dashboard_json

USAGE = "usage: python -m dashboards OUT_DIR\n  writes OUT_DIR/<uid>.json for each dashboard"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] in ("-h", "--help") or not argv[0].strip():
        print(USAGE, file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    out_dir = Path(argv[0])
    if out_dir.exists() and not out_dir.is_dir():
        print(f"error: {out_dir} exists and is not a directory\n{USAGE}", file=sys.stderr)
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    for uid, model in build_dashboards().items():
        path = out_dir / f"{uid}.json"
        path.write_text(dashboard_json(model), encoding="utf-8")
        print(f"wrote {path} ({len(model.get('panels', []))} panels)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
