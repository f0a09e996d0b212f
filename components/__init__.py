"""components package: see the modules."""
