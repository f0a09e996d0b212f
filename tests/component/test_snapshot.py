"""The dev stack's registered resources under mocks, compared with a committed snapshot.

Every resource's type, name, inputs and options are recorded; a change to any of them
fails this test with a list of what moved, so a refactoring proves it changed nothing it
did not mean to. After an intended change, write the snapshot again and review its diff:

    UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/component/test_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from tests.component.harness import ROOT, Program, SecretValue, run_program

SNAPSHOT = Path(__file__).parent / "snapshots" / "dev.json"


def _plain(value: Any) -> Any:
    if isinstance(value, SecretValue):
        return {"<secret>": _plain(value.value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _options(options: dict[str, Any]) -> dict[str, Any]:
    # The engine gets dependencies as sets: their order is not part of the program's meaning.
    plain = _plain(options)
    plain["dependencies"] = sorted(plain["dependencies"])
    plain["propertyDependencies"] = {k: sorted(v) for k, v in plain["propertyDependencies"].items()}
    return plain


def record(program: Program) -> dict[str, Any]:
    """`type::name` -> inputs and options, in a stable order, secrets marked."""
    return {
        f"{r.type}::{r.name}": {"custom": r.custom, "inputs": _plain(r.inputs), "options": _options(r.options)}
        for r in sorted(program.resources, key=lambda r: (r.type, r.name))
    }


def dev_program() -> Program:
    dev_file = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    return run_program({key.split(":", 1)[1]: value for key, value in dev_file.items()})


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [f"added {key}" for key in sorted(set(new) - set(old))]
    lines += [f"removed {key}" for key in sorted(set(old) - set(new))]
    for key in sorted(set(old) & set(new)):
        for part in ("custom", "inputs", "options"):
            before, after = old[key][part], new[key][part]
            if before == after:
                continue
            if isinstance(before, dict) and isinstance(after, dict):
                fields = sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))
                lines.append(f"changed {key} {part}: {', '.join(fields)}")
            else:
                lines.append(f"changed {key} {part}")
    return lines


def test_dev_stack_matches_the_snapshot():
    current = record(dev_program())
    if os.environ.get("UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert not differences(expected, current), "\n".join(differences(expected, current))
