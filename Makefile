# Entry points; each is documented in the README.
.PHONY: test up down dashboards dashboard-diff bench-mocks bench-mocks-instructions bench-panels bench-panels-fleet bench-scale

# The whole test suite: installs Debian and PyPI packages it needs, then runs pytest.
test:
	bash scripts/test.sh

# The dev stack with `pulumi up` on a local file backend (or $$PULUMI_BACKEND_URL).
up:
	bash scripts/stack.sh up

# Tear the dev stack down; the Prometheus and Grafana data volumes are kept.
down:
	bash scripts/stack.sh down

# Write the four dashboards' JSON to out/dashboards.
dashboards:
	.venv/bin/python -m dashboards out/dashboards

# What the dashboards change against BASE (default origin/main), panel by panel, as Markdown;
# HEAD_REV=<rev> compares with that revision instead of the working tree.
BASE ?= origin/main
HEAD_REV ?=
dashboard-diff:
	.venv/bin/python -m dashboards.diff --git "$(BASE)" $(if $(HEAD_REV),"$(HEAD_REV)")

# Time the whole program under Pulumi mocks and count its resources.
bench-mocks:
	.venv/bin/python scripts/bench_mocks.py

# The same programs' instruction counts under valgrind's callgrind (deterministic ratios; needs valgrind, cc).
bench-mocks-instructions:
	.venv/bin/python scripts/bench_mocks.py --instructions

# Time every panel's queries against a real Prometheus scraping real services.
bench-panels:
	.venv/bin/python scripts/bench_panels.py

# The same on the fleet of the integration suite, and each dashboard loaded whole (all panel queries at once).
bench-panels-fleet:
	.venv/bin/python scripts/bench_panels.py --fleet

# Every dashboard loaded over 1h, 24h and 7d on a synthetic fleet's TSDB (HOSTS x DAYS; SIZES=5,20,50 for several).
HOSTS ?= 20
DAYS ?= 7
SIZES ?=
bench-scale:
	.venv/bin/python scripts/bench_scale.py --hosts $(HOSTS) --days $(DAYS) $(if $(SIZES),--sizes $(SIZES))
