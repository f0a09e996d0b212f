"""The harness' mock monitor answers every registration as Pulumi's MockMonitor would with the same
mocks: it copies the request's wire form where the SDK decodes every input and encodes it back.
The wire forms may differ where that round trip lifts a secret list element to the whole list;
what the program reads back (the SDK's decoding of the answer) must not, for stacks with secrets,
TLS, fleets and previews."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from tests.component import harness
from tests.component.test_stack import PROD, PROD_SECRETS
from tests.component.test_tls import TLS

FLEET = {**PROD, "targets": {"node": ["host-1:9100", {"address": "host-2:9100", "labels": {"role": "db"}}],
                             "blackbox": ["https://example.org/healthz"]}}


class _Comparing(harness._RecordingMonitor):
    answers: list[tuple[str, Any, Any]] = []

    def echoed(self, request, urn):
        fast = super().echoed(request, urn)
        sdk = pulumi_mocks.MockMonitor.RegisterResource(self, request)
        self.answers.append((request.name, *((answer.urn, answer.id, rpc.deserialize_properties(answer.object))
                                             for answer in (fast, sdk))))
        return fast


@pytest.mark.parametrize(("config", "secret_keys", "preview"), [
    ({"demo": True}, (), False),
    ({"demo": True}, (), True),
    (PROD, PROD_SECRETS, False),
    ({**TLS, "bindAddress": "0.0.0.0"}, PROD_SECRETS, False),
    ({**TLS, "bindAddress": "0.0.0.0"}, (*PROD_SECRETS, "alertmanager", "tls"), True),
    (FLEET, ("postgresDsn", "targets"), False),
])
def test_answers_are_the_sdk_mock_monitors(monkeypatch, config, secret_keys, preview):
    answers: list[tuple[str, Any, Any]] = []
    monkeypatch.setattr(_Comparing, "answers", answers)
    monkeypatch.setattr(harness, "_RecordingMonitor", _Comparing)
    program = harness.run_program(config, secret_keys, preview=preview)
    assert len(answers) == len(program.resources) > 40
    for name, fast, sdk in answers:
        assert fast == sdk, name


def test_exports_are_recorded_as_from_input_resolves_them():
    """Plain exports are kept as they are (no Output made of each part); any Output within one,
    however deep, is resolved and a secret one makes the export secret."""
    def main():
        pulumi.export("plain", {"a": "x", "b": ["y", 1]})
        pulumi.export("nested", {"url": pulumi.Output.from_input("http://h"), "n": 2})
        pulumi.export("secret", {"inner": [pulumi.Output.secret("pw"), "z"]})
        pulumi.export("output", pulumi.Output.from_input("v"))

    program = harness.run_program({}, main=main)
    assert program.outputs == {"plain": ({"a": "x", "b": ["y", 1]}, False),
                               "nested": ({"url": "http://h", "n": 2}, False),
                               "secret": ({"inner": ["pw", "z"]}, True),
                               "output": ("v", False)}
