"""Entry point the Pulumi CLI runs for `pulumi preview --policy-pack policy`.

The PolicyPack constructor serves the analyzer over gRPC and blocks, so the policies
live in policies.py, which the tests import instead of this file.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from policies import POLICIES

PolicyPack(
    name="monitoring-guardrails",
    version="1.0.0",
    description="Pinned images, loopback binds, a locked-down Grafana, secret credentials, "
                "protected data volumes and healthchecks for the monitoring stack.",
    # Each policy sets its own level; this is only the fallback for one that does not.
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=POLICIES,
)
