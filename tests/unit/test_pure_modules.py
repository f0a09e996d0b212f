"""The architecture as the tree shows it, kept true by tests:

- pure code (config model, value types, tables, renderers, dashboards) never imports Pulumi:
  people and tests use it without the Pulumi SDK, and `python -m dashboards` runs where
  Pulumi is not installed;
- no import cycle between the top-level packages, nor between the domain packages inside
  `components/`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PURE_MODULES = [
    "components.types", "components.thresholds", "components.yaml_text", "components.exporters.table",
    "components.config", "components.config.reference", "components.prometheus.config",
    "components.prometheus.rules", "components.alertmanager.config", "components.grafana.datasource",
    "components.demo.nginx", "components.demo.redis", "components.grafana.startup", "components.prometheus.targets",
    "components.web_config",
    "dashboards", "dashboards.diff", "dashboards.diff.sources",
]
PACKAGES = ("components", "dashboards", "policy")


@pytest.mark.parametrize("module", PURE_MODULES)
def test_module_does_not_import_pulumi(module):
    code = (
        f"import sys, importlib; m = importlib.import_module({module!r}); "
        "getattr(m, 'build_dashboards', lambda: None)(); "
        "bad = sorted(n for n in sys.modules if n == 'pulumi' or n.startswith('pulumi.')); "
        "sys.exit('imports ' + ', '.join(bad) if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or result.stdout


def _imports() -> dict[str, set[str]]:
    """Module -> the project modules it imports (absolute imports; `from . import x` resolved)."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
            is_init = parts[-1] == "__init__"
            module = ".".join(parts[:-1] if is_init else parts)
            found: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_init else 0)]
                        base = ".".join(anchor + ([base] if base else []))
                    found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
            graph[module] = {m for m in found if m.split(".")[0] in PACKAGES or m in ("policies",)}
    return graph


def _cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle in a directed graph, or [] when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        state[node] = 2
        stack.pop()
        return []

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def _collapsed(level: int, within: str = "") -> dict[str, set[str]]:
    """The import graph with modules collapsed to their package at `level` dots deep."""
    def group(module: str) -> str:
        return ".".join(module.replace("policies", "policy.policies").split(".")[:level])

    edges: dict[str, set[str]] = {}
    for module, targets in _imports().items():
        if within and not module.startswith(within):
            continue
        source = group(module)
        for target in targets:
            if within and not target.startswith(within):
                continue
            if group(target) != source:
                edges.setdefault(source, set()).add(group(target))
    return edges


def test_no_import_cycle_between_top_level_packages():
    edges = _collapsed(1)
    assert _cycle(edges) == [], f"import cycle: {' -> '.join(_cycle(edges))}"
    # The direction the architecture promises: dashboards and the policy pack read components'
    # pure tables and types; components never import them.
    assert edges.get("components", set()).isdisjoint({"dashboards", "policy"})
    assert {"components"} <= edges["dashboards"] and {"components"} <= edges["policy"]


def test_no_import_cycle_between_the_domain_packages_of_components():
    edges = _collapsed(2, within="components.")
    assert _cycle(edges) == [], f"import cycle: {' -> '.join(_cycle(edges))}"


def test_the_cycle_finder_finds_cycles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) == []
