"""prometheus package: see the modules."""
