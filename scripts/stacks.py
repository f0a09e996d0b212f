"""The stacks this repository has (one `Pulumi.<stack>.yaml` each) and the GitHub environment
each runs in, as the JSON matrix the workflows use:

    python scripts/stacks.py   ->   [{"stack": "dev", "environment": "dev"}, ...]

A stack's secrets (passphrase, backend, Docker SSH key) live in its environment, so production's
are released only to jobs its reviewers approve.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Stack -> GitHub environment, where the name differs.
ENVIRONMENTS = {"prod": "production"}


def stacks(root: Path = ROOT) -> list[dict[str, str]]:
    names = sorted(path.name[len("Pulumi."):-len(".yaml")] for path in root.glob("Pulumi.*.yaml"))
    return [{"stack": name, "environment": ENVIRONMENTS.get(name, name)} for name in names]


if __name__ == "__main__":
    json.dump(stacks(), sys.stdout)
    sys.stdout.write("\n")
