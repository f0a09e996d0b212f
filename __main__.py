"""The monitoring stack: load the stack's config, build the stack, export its outputs."""

import pulumi

from components.stack import build_stack, load_stack_config

config = load_stack_config()  # fails here, before any resource, on bad config
outputs = build_stack(config, pulumi.get_project(), pulumi.get_stack())
for name, value in outputs.items():
    pulumi.export(name, value)
