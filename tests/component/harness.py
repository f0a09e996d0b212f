"""Runs the real `__main__.py` in-process under Pulumi mocks and records every resource.

Each record holds the type token, the name, the inputs exactly as the engine would
receive them (camelCase keys, secrets kept as `SecretValue`) and the resource options
(protect, retainOnDelete, dependencies, provider, parent, ...).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import runpy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import resource_pb2
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
    # The request's inputs as the engine got them; decoded on first read of `inputs` (most runs
    # of the suite and the mocks benchmark read few of them).
    wire: struct_pb2.Struct = field(repr=False)
    options: dict

    @functools.cached_property
    def inputs(self) -> dict:
        return _decode(json_format.MessageToDict(self.wire, preserving_proto_field_name=True))


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


def computed_state(type_token: str, name: str, read: Callable[[str], Any]) -> dict:
    """The outputs a real provider computes beside the inputs it echoes; `read(key)` gives an
    input in the engine's wire form (a secret as {sig, value}), None when absent."""
    digest = hashlib.sha256(f"{type_token}/{name}".encode()).hexdigest()
    if type_token == "docker:index/remoteImage:RemoteImage":
        # The id of the image the reference names: a new tag is a new id (and a new container).
        reference = read("name")
        image = reference.get("value", "") if isinstance(reference, dict) else (reference or "")
        return {"imageId": f"sha256:{hashlib.sha256(json.dumps(reference, sort_keys=True).encode()).hexdigest()}",
                "repoDigest": f"{image.split(':')[0]}@sha256:{digest}"}
    if type_token == "random:index/randomPassword:RandomPassword":
        return {"result": f"generated-{digest[:24]}", "bcryptHash": f"$2a$10${digest[:53]}"}
    if type_token == "random:index/randomId:RandomId":
        raw = hashlib.sha256(digest.encode()).digest()[: int(read("byteLength") or 16)]
        return {"hex": raw.hex(), "b64Std": base64.b64encode(raw).decode(),
                "b64Url": base64.urlsafe_b64encode(raw).decode()}
    if type_token == "tls:index/privateKey:PrivateKey":
        # Computed by the provider: fake PEMs named after the resource, so tests can follow them.
        return {"privateKeyPem": f"-----BEGIN EC PRIVATE KEY-----\nfake-key-{name}\n-----END EC PRIVATE KEY-----\n",
                "publicKeyPem": f"-----BEGIN PUBLIC KEY-----\nfake-public-{name}\n-----END PUBLIC KEY-----\n"}
    if type_token == "tls:index/certRequest:CertRequest":
        return {"certRequestPem": f"-----BEGIN CERTIFICATE REQUEST-----\nfake-csr-{name}\n-----END CERTIFICATE REQUEST-----\n"}
    if type_token in ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"):
        return {"certPem": f"-----BEGIN CERTIFICATE-----\nfake-cert-{name}\n-----END CERTIFICATE-----\n"}
    if type_token == "docker:index/container:Container":
        return {**({} if read("name") is not None else {"name": name}), "networkDatas": []}
    if type_token == "docker:index/volume:Volume":
        return {"mountpoint": f"/var/lib/docker/volumes/{read('name') or name}/_data"}
    return {}


class _Mocks(pulumi.runtime.Mocks):
    """What the provider would return: the inputs echoed (as the engine's state holds them) and
    the computed outputs of `computed_state`."""

    def __init__(self, program: Program):
        self.program = program

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        # The SDK's own path: the monitor below takes it only for the stack and remote components.
        state = {**args.inputs, **computed_state(args.typ, args.name, args.inputs.get)}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.program.invokes.append((args.token, dict(args.args)))
        if args.token == "docker:index/getNetwork:getNetwork":
            return {"id": f"net-{args.args['name']}", "name": args.args["name"], "driver": "bridge",
                    "scope": "local", "internal": False, "options": {},
                    # What Docker assigns a user-defined bridge: its gateway is the host's side.
                    "ipamConfigs": [{"subnet": "172.30.0.0/16", "gateway": "172.30.0.1"}]}
        return {}


def _wire_reader(struct: struct_pb2.Struct) -> Callable[[str], Any]:
    def read(key: str) -> Any:
        return json_format.MessageToDict(struct.fields[key]) if key in struct.fields else None
    return read


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """Records every registration. Answers it as the SDK's MockMonitor would with `_Mocks`, without
    its round trip: that decodes every input to Python and encodes it back unchanged (the echo),
    which was most of what the mocks cost per input; here the echo is a copy of the request's
    wire form, and only the computed outputs are encoded (`tests/component/test_harness.py`
    checks that both answers are the same)."""

    def __init__(self, mocks: _Mocks, program: Program):
        super().__init__(mocks)
        self.program = program

    def RegisterResource(self, request):
        if request.type == "pulumi:pulumi:Stack" or request.remote:
            return super().RegisterResource(request)
        urn = self.make_urn(request.parent, request.type, request.name)
        response = self.echoed(request, urn)
        self.program.resources.append(Resource(
            type=request.type,
            name=request.name,
            urn=urn,
            custom=request.custom,
            wire=request.object,
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

    def echoed(self, request, urn: str) -> resource_pb2.RegisterResourceResponse:
        state = struct_pb2.Struct()
        state.CopyFrom(request.object)
        computed = computed_state(request.type, request.name, _wire_reader(request.object))
        if "imageId" in computed:
            self.program.image_ids[computed["imageId"]] = request.name
        if computed:
            for key, value in _sync_await(rpc.serialize_properties(computed, {})).fields.items():
                state.fields[key].CopyFrom(value)
        identifier = f"{request.name}-id"
        # What MockMonitor keeps of each resource (for a `get` of it), decoded only when read.
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, identifier, _LazyState(state))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=identifier, object=state)


class _LazyState(Mapping):
    def __init__(self, wire: struct_pb2.Struct):
        self._wire = wire

    @functools.cached_property
    def _decoded(self) -> dict:
        return rpc.deserialize_properties(self._wire)

    def __getitem__(self, key: str) -> Any:
        return self._decoded[key]

    def __iter__(self):
        return iter(self._decoded)

    def __len__(self) -> int:
        return len(self._decoded)


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
        # Returning them makes the test runner wait until every Output among the exports has resolved.
        return pulumi.Output.all(*_outputs_in(list(exported.values())))

    pulumi.runtime.test(body)()
    for name, value in exported.items():
        if not _outputs_in(value):
            # Plain (a dict of strings, say): nothing to resolve, and from_input would make an Output of each part.
            program.outputs[name] = (value, False)
            continue
        output = pulumi.Output.from_input(value)
        program.outputs[name] = (_sync_await(output.future()), _sync_await(output.is_secret()))
    return program


def _outputs_in(value: Any) -> list[pulumi.Output]:
    """The Outputs in an export, through lists and dicts (as Output.from_input unwraps them)."""
    if isinstance(value, pulumi.Output):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [output for inner in value for output in _outputs_in(inner)]
    return []
