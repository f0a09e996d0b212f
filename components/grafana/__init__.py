"""grafana package: see the modules."""
