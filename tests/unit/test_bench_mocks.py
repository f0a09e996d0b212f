"""The mocks benchmark's fleets are configs the model accepts (a config shape it does not know,
such as a prober's URL targets, would otherwise break `make bench-mocks` silently)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from components.config import load_config

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_mocks.py"


def bench_mocks():
    spec = importlib.util.spec_from_file_location("bench_mocks", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("size", [1, 10, 100])
def test_every_fleet_size_is_a_valid_config_with_that_many_extra_targets(size):
    module = bench_mocks()
    fleet = module.fleet(size)
    cfg = load_config({"postgresDsn": "postgresql://monitor:pw@db:5432/app", "targets": fleet})
    # Django is the last job dealt: below one target per job, the default django:8000 fills in.
    django_default = 1 if size < len(module.EXPORTER_NAMES) + 1 else 0
    assert sum(len(cfg.targets.of(job)) for job in fleet) == size + django_default
    assert cfg.targets.of("blackbox") or size < 6  # a prober's targets (URLs) are among them
