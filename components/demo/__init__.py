"""demo package: see the modules."""
