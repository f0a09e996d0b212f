"""The monitoring stack: load the stack's config, build the stack, export its outputs."""

import pulumi

from components.stack import build_stack, load_stack_config
from dashboards import build_dashboards, dashboard_json

config = load_stack_config()  # fails here, before any resource, on bad config
dashboards = {uid: dashboard_json(model) for uid, model in build_dashboards().items()}
outputs = build_stack(config, pulumi.get_project(), pulumi.get_stack(), dashboards)
for name, value in outputs.items():
    pulumi.export(name, value)
