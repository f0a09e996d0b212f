"""The pure code (config model, renderers, dashboards) never imports Pulumi: people and tests
use it without the Pulumi SDK, and `python -m dashboards` runs where Pulumi is not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PURE_MODULES = [
    "components.config", "components.prometheus.config", "components.alertmanager.config",
    "components.prometheus.rules", "components.grafana.datasource", "components.demo.nginx", "dashboards",
]


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
