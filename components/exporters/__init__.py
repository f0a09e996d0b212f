"""exporters package: see the modules."""
