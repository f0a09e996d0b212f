"""alertmanager package: see the modules."""
