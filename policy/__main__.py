"""Entry point the Pulumi CLI runs for `pulumi preview --policy-pack policy`.

The PolicyPack constructor serves the analyzer over gRPC and blocks, so the policies
live in policies.py, which the tests import instead of this file.
"""

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

# The pack judges images and addresses with the stack's own types (components/config/types.py)
# and knows the exporters from their table: the project root must be importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies import POLICIES  # noqa: E402

PolicyPack(
    name="monitoring-guardrails",
    version="1.0.0",
    description="Pinned images, TLS and authentication beyond loopback, a locked-down Grafana, secret credentials, "
                "protected data volumes and healthchecks for the monitoring stack.",
    # Each policy sets its own level; this is only the fallback for one that does not.
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=POLICIES,
)
