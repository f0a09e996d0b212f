"""Runs the real `__main__.py` in-process under Pulumi mocks and records every resource.

Each record holds the type token, the name, the inputs exactly as the engine would
receive them (camelCase keys, secrets kept as `SecretValue`) and the resource options
(protect, retainOnDelete, dependencies, provider, parent, ...).
"""

from __future__ import annotations

import base64
import hashlib
import json
import runpy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "__main__.py"
PROJECT = "monitoring"
UNKNOWN = rpc.UNKNOWN


@dataclass(frozen=True)
class SecretValue:
    """An input the engine receives marked secret."""

    value: Any


@dataclass
class Resource:
    type: str
    name: str
    urn: str
    custom: bool
    inputs: dict
    options: dict


@dataclass
class Program:
    resources: list[Resource] = field(default_factory=list)
    # export name -> (value, is_secret)
    outputs: dict = field(default_factory=dict)
    invokes: list[tuple[str, dict]] = field(default_factory=list)
    # imageId -> the RemoteImage resource name that computed it
    image_ids: dict[str, str] = field(default_factory=dict)

    def of_type(self, type_token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str) -> Resource:
        found = [r for r in self.resources if r.type == type_token and r.name == name]
        assert len(found) == 1, f"expected one {type_token} named {name}, found {len(found)}"
        return found[0]

    def by_urn(self, urn: str) -> Resource:
        return next(r for r in self.resources if r.urn == urn)


def _decode(value: Any) -> Any:
    """Turn the engine's wire form (a JSON view of the protobuf Struct) into plain values."""
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            return SecretValue(_decode(value.get("value")))
        if sig == rpc._special_resource_sig:
            return {"urn": value.get("urn"), "id": _decode(value.get("id"))}
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def fake_state(type_token: str, name: str, inputs: dict) -> dict:
    """Computed outputs the real providers would return."""
    digest = hashlib.sha256(f"{type_token}/{name}".encode()).hexdigest()
    state = dict(inputs)
    if type_token == "docker:index/remoteImage:RemoteImage":
        # The id of the image the reference names: a new tag is a new id (and a new container).
        reference = json.dumps(inputs.get("name"), sort_keys=True)
        state["imageId"] = f"sha256:{hashlib.sha256(reference.encode()).hexdigest()}"
        name = inputs.get("name", "")
        if isinstance(name, dict):  # a secret image name arrives in the engine's wire form
            name = name.get("value", "")
        state["repoDigest"] = f"{name.split(':')[0]}@sha256:{digest}"
    elif type_token == "random:index/randomPassword:RandomPassword":
        state["result"] = f"generated-{digest[:24]}"
        state["bcryptHash"] = f"$2a$10${digest[:53]}"
    elif type_token == "random:index/randomId:RandomId":
        raw = hashlib.sha256(digest.encode()).digest()[: int(inputs.get("byteLength", 16))]
        state.update(hex=raw.hex(), b64Std=base64.b64encode(raw).decode(), b64Url=base64.urlsafe_b64encode(raw).decode())
    elif type_token == "tls:index/privateKey:PrivateKey":
        # Computed by the provider: fake PEMs named after the resource, so tests can follow them.
        state["privateKeyPem"] = f"-----BEGIN EC PRIVATE KEY-----\nfake-key-{name}\n-----END EC PRIVATE KEY-----\n"
        state["publicKeyPem"] = f"-----BEGIN PUBLIC KEY-----\nfake-public-{name}\n-----END PUBLIC KEY-----\n"
    elif type_token == "tls:index/certRequest:CertRequest":
        state["certRequestPem"] = f"-----BEGIN CERTIFICATE REQUEST-----\nfake-csr-{name}\n-----END CERTIFICATE REQUEST-----\n"
    elif type_token in ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"):
        state["certPem"] = f"-----BEGIN CERTIFICATE-----\nfake-cert-{name}\n-----END CERTIFICATE-----\n"
    elif type_token == "docker:index/container:Container":
        state.setdefault("name", name)
        state["networkDatas"] = []
    elif type_token == "docker:index/volume:Volume":
        state["mountpoint"] = f"/var/lib/docker/volumes/{inputs.get('name', name)}/_data"
    return state


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, program: Program):
        self.program = program

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = fake_state(args.typ, args.name, args.inputs)
        if "imageId" in state:
            self.program.image_ids[state["imageId"]] = args.name
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.program.invokes.append((args.token, dict(args.args)))
        if args.token == "docker:index/getNetwork:getNetwork":
            return {"id": f"net-{args.args['name']}", "name": args.args["name"], "driver": "bridge",
                    "scope": "local", "internal": False, "options": {},
                    # What Docker assigns a user-defined bridge: its gateway is the host's side.
                    "ipamConfigs": [{"subnet": "172.30.0.0/16", "gateway": "172.30.0.1"}]}
        return {}


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: _Mocks, program: Program):
        super().__init__(mocks)
        self.program = program

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            raw = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
            self.program.resources.append(Resource(
                type=request.type,
                name=request.name,
                urn=response.urn,
                custom=request.custom,
                inputs=_decode(raw),
                options={
                    "parent": request.parent,
                    "protect": request.protect if request.HasField("protect") else None,
                    "retainOnDelete": request.retainOnDelete if request.HasField("retainOnDelete") else None,
                    "dependencies": list(request.dependencies),
                    "propertyDependencies": {k: list(v.urns) for k, v in request.propertyDependencies.items()},
                    "provider": request.provider,
                    "deleteBeforeReplace": request.deleteBeforeReplace,
                    "ignoreChanges": list(request.ignoreChanges),
                    "additionalSecretOutputs": list(request.additionalSecretOutputs),
                },
            ))
        return response


def _config_text(value: Any) -> str:
    # The engine hands every config value to the program as a string (objects as JSON).
    if isinstance(value, str):
        return value
    return json.dumps(value)


def run_program(config: Mapping[str, Any], secret_keys: Sequence[str] = (), stack: str = "dev",
                preview: bool = False, program: Program | None = None,
                main: Callable[[], object] | None = None) -> Program:
    """Run __main__.py with `config` (keys without the `monitoring:` namespace).

    Pass `program` to keep what was recorded when the run raises (bad config), and `main` to
    run that function instead of __main__.py under the same mocks (the benchmark's bare program).
    """
    program = program if program is not None else Program()
    mocks = _Mocks(program)
    settings.reset_options()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview,
                             monitor=_RecordingMonitor(mocks, program))
    pulumi.runtime.set_all_config({f"{PROJECT}:{k}": _config_text(v) for k, v in config.items()},
                                  [f"{PROJECT}:{k}" for k in secret_keys])

    exported: dict[str, pulumi.Output] = {}

    def body():
        if main is None:
            runpy.run_path(str(MAIN), run_name="__main__")
        else:
            main()
        exported.update(settings.get_root_resource().outputs)
        # Returning them makes the test runner wait until every export has resolved.
        return pulumi.Output.all(*[pulumi.Output.from_input(v) for v in exported.values()])

    pulumi.runtime.test(body)()
    for name, value in exported.items():
        output = pulumi.Output.from_input(value)
        program.outputs[name] = (_sync_await(output.future()), _sync_await(output.is_secret()))
    return program
