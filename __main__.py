"""The monitoring stack: load the stack's config, build the stack, export its outputs."""

import pulumi

from components.stack import build_stack, load_stack_config
from dashboards import dashboard_texts

config = load_stack_config()  # fails here, before any resource, on bad config
dashboards = dashboard_texts()
outputs = build_stack(config, pulumi.get_project(), pulumi.get_stack(), dashboards)
for name, value in outputs.items():
    pulumi.export(name, value)
