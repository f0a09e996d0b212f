"""The monitoring stack's CrossGuard policies (the `monitoring-guardrails` pack).

`POLICIES` is the list `__main__.py` hands to `PolicyPack`; tests import this module
and call each policy's `validate` directly (the `PolicyPack` constructor blocks).

What a policy sees, in pulumi-policy 1.21.0 (read from its source):

- `args.props` are the resource's *inputs*, camelCase, wrapped in a proxy that raises
  `UnknownValueError` on a value not known during preview (for example a container's
  `image` when it is the `imageId` output of a `RemoteImage`). Every policy here first
  unwraps the props with `_plain`, which turns unknowns into the `UNKNOWN` marker and
  skips what it cannot judge instead of failing the preview.
- Secrets: the validation path (`Analyze`) deserialises the inputs with
  `deserialize_properties(..., proxy_secrets=False)`, which drops the engine's secret
  marker and hands the policy the *plaintext* with no trace of its secretness
  (pulumi/pulumi-policy#241, still open). Only the remediation path keeps it, as
  `pulumi_policy.Secret` wrappers behind a `_DictSecretsProxy`. So a value counts as a
  secret here when it arrives as a `Secret` (or the raw wire form, a map with the
  secret signature), or when the resource declares the property in
  `additionalSecretOutputs` (`args.opts.additional_secret_outputs`), the one secrecy
  signal the engine passes to `Analyze`.
- Options: `PolicyResourceOptions` carries `protect` but not `retainOnDelete` (the
  analyzer protocol has no such field), so `protected-data-volumes` can only see
  `protect` there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import _DictProxy, _is_unknown, _ListProxy
from pulumi_policy.secret import _DictSecretsProxy, _ListSecretsProxy

from components.exporters.table import EXPORTERS
from components.types import has_credentials, image_problem, image_repository, is_all_interfaces, is_loopback

CONTAINER = "docker:index/container:Container"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
VOLUME = "docker:index/volume:Volume"
GRAFANA_PROVIDER = "pulumi:providers:grafana"


class _Unknown:
    """A value not known during preview."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

# pulumi-policy calls `report(message, urn=None)`; its ReportViolation alias forgets the default.
Report = Callable[..., None]


def _plain(value: Any) -> Any:
    """Props as plain dicts/lists, secrets as `Secret`, preview unknowns as `UNKNOWN`."""
    if isinstance(value, (_DictProxy, _ListProxy, _DictSecretsProxy, _ListSecretsProxy)):
        return _plain(value["__target"])
    if isinstance(value, Secret):
        return Secret(_plain(value.value))
    if isinstance(value, Mapping):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return Secret(_plain(value.get("value")))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if _is_unknown(value):
        return UNKNOWN
    return value


def _reveal(value: Any) -> Any:
    """The value inside any number of `Secret` wrappers."""
    while isinstance(value, Secret):
        value = value.value
    return value


def _props(args: ResourceValidationArgs) -> dict:
    props = _plain(args.props)
    return props if isinstance(props, dict) else {}


def _policy(name: str, description: str, level: EnforcementLevel, resource_types: Iterable[str],
            check: Callable[[ResourceValidationArgs, dict, Report], None],
            config_schema: PolicyConfigSchema | None = None) -> ResourceValidationPolicy:
    types = frozenset(resource_types)

    def validate(args: ResourceValidationArgs, report_violation: Report) -> None:
        if args.resource_type in types:
            check(args, _props(args), report_violation)

    validate.__doc__ = check.__doc__
    return ResourceValidationPolicy(name=name, description=description, enforcement_level=level,
                                    validate=validate, config_schema=config_schema)


# --- pinned-images --------------------------------------------------------------------

_IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")


def _check_pinned_images(args: ResourceValidationArgs, props: dict, report: Report) -> None:
    """Mandatory. An unpinned image changes under the stack without a code change: two
    previews of the same commit deploy different software, a rollback does not roll
    back, and nobody reviewed the upgrade. The stack's own config already rejects
    `latest`; the policy also covers resources added outside that config path."""
    key = "name" if args.resource_type == REMOTE_IMAGE else "image"
    reference = _reveal(props.get(key))
    if reference is UNKNOWN:
        return  # an image id output (RemoteImage.image_id): the RemoteImage is checked itself
    if not isinstance(reference, str) or not reference:
        if args.resource_type == REMOTE_IMAGE:
            report(f"{args.name}: RemoteImage has no image name")
        return
    if args.resource_type == CONTAINER and _IMAGE_ID.match(reference):
        return  # an image id, pinned by construction
    problem = image_problem(reference)
    if problem:
        report(f"{args.name}: image `{reference}` {problem}; pin an exact version tag "
               f"(prom/prometheus:v3.7.3) or a digest (@sha256:...)")


PINNED_IMAGES = _policy(
    "pinned-images",
    "Every image is pinned to an exact tag or a digest (no `latest`, no missing tag).",
    EnforcementLevel.MANDATORY, [REMOTE_IMAGE, CONTAINER], _check_pinned_images)


# --- tls-beyond-loopback --------------------------------------------------------------

TLS_HOWTO = ("bind it to loopback (monitoring:bindAddress 127.0.0.1), or serve it with TLS and authentication: "
             "`pulumi config set --path tls.enabled true` (README: Serving beyond loopback)")


def _serves_tls_with_auth(props: dict) -> bool | None:
    """Does the container serve https and ask who is there? Prometheus and Alertmanager: a
    `--web.config.file` whose uploaded file has `tls_server_config` and `basic_auth_users`;
    Grafana: `GF_SERVER_PROTOCOL=https` (its login is its own, kept on by grafana-locked-down).
    None when a preview does not know yet."""
    entries = _env_entries(props)
    if entries is None:
        return None
    env = {key: value for key, value, _ in entries if key}
    if isinstance(env.get("GF_SERVER_PROTOCOL"), str) and env["GF_SERVER_PROTOCOL"].strip().lower() == "https":
        return True
    command = _reveal(props.get("command"))
    if command is UNKNOWN:
        return None
    flags = [_reveal(a) for a in command] if isinstance(command, list) else []
    paths = [a.split("=", 1)[1] for a in flags if isinstance(a, str) and a.startswith("--web.config.file=")]
    if not paths:
        return False
    uploads = _reveal(props.get("uploads"))
    if uploads is UNKNOWN:
        return None
    for upload in uploads if isinstance(uploads, list) else []:
        upload = _reveal(upload)
        if not isinstance(upload, dict) or _reveal(upload.get("file")) != paths[-1]:
            continue
        content = _reveal(upload.get("content"))
        if content is UNKNOWN:
            return None
        return (isinstance(content, str) and re.search(r"(?m)^tls_server_config:", content) is not None
                and re.search(r"(?m)^basic_auth_users:\s*\n\s+\S", content) is not None)
    return False


def _check_tls_beyond_loopback(args: ResourceValidationArgs, props: dict, report: Report) -> None:
    """Mandatory. A port published beyond loopback (a LAN address, 0.0.0.0/:: or Docker's default,
    no `ip`) is reachable from every network that address is on, and Docker's iptables rules
    bypass host firewalls such as ufw. Plain Prometheus and Alertmanager answer anyone, with every
    metric, the admin API and silences. So such a port must be served over TLS with
    authentication: Prometheus and Alertmanager with a web config holding `tls_server_config` and
    `basic_auth_users`, Grafana with `GF_SERVER_PROTOCOL=https`. Loopback needs neither."""
    ports = _reveal(props.get("ports"))
    if not isinstance(ports, list):
        return
    beyond = []
    for port in ports:
        port = _reveal(port)
        if not isinstance(port, dict):
            continue
        ip = _reveal(port.get("ip"))
        if ip is UNKNOWN:
            continue
        # Parsed, not compared as text: ::0, 0:0:0:0:0:0:0:0 and ::ffff:0.0.0.0 are all interfaces too.
        if not (isinstance(ip, str) and ip.strip() and is_loopback(ip.strip())):
            beyond.append((port, ip))
    if not beyond or _serves_tls_with_auth(props) is not False:
        return
    for port, ip in beyond:
        if ip is None or (isinstance(ip, str) and (not ip.strip() or is_all_interfaces(ip.strip()))):
            shown = "no ip (Docker binds 0.0.0.0)" if not ip else f"ip {ip} (all interfaces)"
        else:
            shown = f"ip {ip}"
        report(f"{args.name}: port {port.get('internal')} -> {port.get('external')} is published with {shown} "
               f"without TLS and authentication; {TLS_HOWTO}")


TLS_BEYOND_LOOPBACK = _policy(
    "tls-beyond-loopback",
    "A port published beyond loopback is served over TLS with authentication.",
    EnforcementLevel.MANDATORY, [CONTAINER], _check_tls_beyond_loopback)


# --- grafana-locked-down --------------------------------------------------------------

GRAFANA_REQUIRED_ENV = {
    "GF_AUTH_ANONYMOUS_ENABLED": "false",
    "GF_USERS_ALLOW_SIGN_UP": "false",
    "GF_USERS_ALLOW_ORG_CREATE": "false",
    # A trusted-header login would let anything that can reach the port claim to be anyone.
    "GF_AUTH_PROXY_ENABLED": "false",
    # Shared ("public") dashboards are readable without logging in.
    "GF_PUBLIC_DASHBOARDS_ENABLED": "false",
}


def _env_entries(props: dict) -> list[tuple[str, Any, bool]] | None:
    """(key, value, marked secret) per `envs` entry; None when the list is unknown."""
    envs = props.get("envs")
    whole_secret = isinstance(envs, Secret)
    envs = _reveal(envs)
    if envs is UNKNOWN:
        return None
    entries: list[tuple[str, Any, bool]] = []
    for entry in envs if isinstance(envs, list) else []:
        secret = whole_secret or isinstance(entry, Secret)
        entry = _reveal(entry)
        if entry is UNKNOWN or not isinstance(entry, str):
            entries.append(("", UNKNOWN, secret))
            continue
        key, _, value = entry.partition("=")
        entries.append((key, value, secret))
    return entries


def _is_grafana(args: ResourceValidationArgs, props: dict) -> bool:
    texts = [_reveal(props.get("image")), _reveal(props.get("name")), args.name]
    return any(isinstance(t, str) and "grafana" in t.lower() and not _IMAGE_ID.match(t) for t in texts)


def _check_grafana_locked_down(args: ResourceValidationArgs, props: dict, report: Report) -> None:
    """Mandatory. Grafana holds the data source and every dashboard; anonymous access,
    open sign-up, an auth proxy or a shared dashboard hands them (and the Prometheus behind
    them) to anyone who can reach the port. Grafana's defaults are safe today, but the policy wants the settings
    explicit in the container env so that neither an image upgrade nor a config file
    baked into a custom image can quietly turn them on."""
    if not _is_grafana(args, props):
        return
    entries = _env_entries(props)
    if entries is None:
        return
    env = {key: value for key, value, _ in entries if key}
    for key, wanted in GRAFANA_REQUIRED_ENV.items():
        value = env.get(key)
        if value is UNKNOWN:
            continue
        if value is None:
            report(f"{args.name}: Grafana container must set {key}={wanted} (missing)")
        elif value.strip().lower() != wanted:
            report(f"{args.name}: Grafana container must set {key}={wanted} (has {key}={value})")
    # /metrics is served on the same published port: open, it tells anyone what runs inside.
    metrics = env.get("GF_METRICS_ENABLED", "false")
    if isinstance(metrics, str) and metrics.strip().lower() == "true" and not env.get("GF_METRICS_BASIC_AUTH_USERNAME"):
        report(f"{args.name}: Grafana serves /metrics (GF_METRICS_ENABLED=true) without basic auth; set "
               f"GF_METRICS_BASIC_AUTH_USERNAME and a secret GF_METRICS_BASIC_AUTH_PASSWORD")


GRAFANA_LOCKED_DOWN = _policy(
    "grafana-locked-down",
    "Grafana's container keeps anonymous access, sign-up, org creation, auth proxy and shared dashboards off, "
    "and /metrics behind basic auth.",
    EnforcementLevel.MANDATORY, [CONTAINER], _check_grafana_locked_down)


# --- no-plaintext-credentials ---------------------------------------------------------

# Substrings of an env name that say it holds a credential (REDIS_PASS, GF_SECURITY_SECRET_KEY,
# SLACK_TOKEN, API_KEY...), a word that does (a DSN), and a last word that does (REDISCLI_AUTH;
# GF_METRICS_BASIC_AUTH_USERNAME names a user).
_CREDENTIAL_SUBSTRINGS = ("PASS", "PWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "DATA_SOURCE_NAME")
_CREDENTIAL_WORDS = {"DSN"}
_CREDENTIAL_LAST_WORDS = {"AUTH"}
# Values that cannot be a credential whatever the name says (a flag, a number).
_NOT_A_CREDENTIAL = re.compile(r"(?i)true|false|yes|no|on|off|[0-9]+")
# Webhook URLs whose path is itself the credential.
_CHAT_WEBHOOK = re.compile(r"(?i)https?://(hooks\.slack\.com/|discord(app)?\.com/api/webhooks/|"
                           r"[\w.-]*webhook\.office\.com/|outlook\.office\.com/webhook/|"
                           r"chat\.googleapis\.com/v1/spaces/|api\.telegram\.org/bot)")
# A credential written into a file: `password: x`, `auth_password = x`, `requirepass x`,
# `api_key: x`, `bearer_token: x`, `client_secret: x`.
_FILE_CREDENTIAL = re.compile(r"(?im)^\s*(?:-\s+)?(?P<key>[\w.-]*(password|passwd|secret|token|api_?key|requirepass)"
                              r"[\w.-]*)\s*(:|=|\s)\s*[\"']?[^\s\"'#]+")
_ARGUMENT_CREDENTIAL = re.compile(r"(?i)^--?[\w.-]*(password|passwd|secret|token|api-?key)[\w.-]*=\S+")


# Env names that hold the path of a file (Grafana's TLS key), not the secret itself.
_PATH_VALUED_KEYS = frozenset({"GF_SERVER_CERT_KEY"})


def is_credential_key(key: str) -> bool:
    """Does an environment variable name look like it holds a credential?

    `*_FILE` / `*__FILE` names hold a path to a mounted secret, not the secret itself."""
    upper = key.upper()
    if upper.endswith("_FILE"):
        return False
    words = re.split(r"[^A-Z0-9]+", upper)
    return (bool(set(words) & _CREDENTIAL_WORDS) or words[-1] in _CREDENTIAL_LAST_WORDS
            or any(part in upper for part in _CREDENTIAL_SUBSTRINGS))


def credential_in_text(text: str) -> bool:
    """Does a value carry a credential: a URL with user:password@ or a password/token parameter,
    or a chat webhook URL (its path is the secret)?"""
    return has_credentials(text) or bool(_CHAT_WEBHOOK.search(text))


def _file_holds_credential(content: str) -> bool:
    # `password_file: /path` names where a secret is, like an env name ending in _FILE.
    return any(not match["key"].lower().endswith("file") for match in _FILE_CREDENTIAL.finditer(content))


def plaintext_credentials(props: dict) -> list[tuple[str, str]]:
    """Where a container's inputs carry a credential outside a `Secret`: env entries (by name or
    value), command arguments, uploaded files. Each finding is (the input property, the place
    in it); the value is never part of it."""
    found: list[tuple[str, str]] = []
    for key, value, secret in _env_entries(props) or []:
        if secret or value is UNKNOWN or value == "":
            continue
        a_path = key in _PATH_VALUED_KEYS and value.startswith("/") and " " not in value
        if (is_credential_key(key) and not a_path and not _NOT_A_CREDENTIAL.fullmatch(value)) \
                or credential_in_text(value):
            found.append(("envs", f"env {key}"))
    command = props.get("command")
    if not isinstance(command, Secret) and isinstance(_reveal(command), list):
        for index, argument in enumerate(_reveal(command)):
            if isinstance(argument, str) and (credential_in_text(argument) or _ARGUMENT_CREDENTIAL.match(argument)):
                found.append(("command", f"command argument {index}"))
    uploads = props.get("uploads")
    if not isinstance(uploads, Secret) and isinstance(_reveal(uploads), list):
        for upload in _reveal(uploads):
            upload = _reveal(upload)
            if not isinstance(upload, dict) or isinstance(upload.get("content"), Secret):
                continue
            content = _reveal(upload.get("content"))
            if isinstance(content, str) and (credential_in_text(content) or _file_holds_credential(content)):
                found.append(("uploads", f"uploaded file {upload.get('file')}"))
    return found


def _declared_secret(args: ResourceValidationArgs, prop: str) -> bool:
    declared = getattr(args.opts, "additional_secret_outputs", None) or []
    return prop in declared



def _check_no_plaintext_credentials(args: ResourceValidationArgs, props: dict, report: Report) -> None:
    """Mandatory. A plaintext credential is written unencrypted into the stack state (in
    the S3 backend) and shown in clear in `pulumi preview` diffs, which this project's
    pipeline posts as pull-request comments. Secrets are shown as [secret] and stored
    encrypted. Looked at: env entries (names containing PASS, SECRET, TOKEN, KEY...; values
    with a URL's user:password@, a password or token parameter, or a chat webhook URL), command
    arguments, and uploaded file contents. A value passes when it is marked secret (`Secret`)
    or when the resource lists the property in `additionalSecretOutputs`: the engine strips
    secret markers before `Analyze` (pulumi/pulumi-policy#241), so the declaration is the one
    signal a preview gives. That trust holds for this program because a component test proves
    every credential it passes is a secret Output, declared or not."""
    if args.resource_type == GRAFANA_PROVIDER:
        auth = props.get("auth")
        if auth is None or auth is UNKNOWN or isinstance(auth, Secret) or _declared_secret(args, "auth"):
            return
        report(f"{args.name}: the Grafana provider's `auth` is plaintext; pass it as a secret "
               f"(pulumi.Output.secret / a secret config value) and declare "
               f"additional_secret_outputs=[\"auth\"]")
        return
    for prop, finding in plaintext_credentials(props):
        if _declared_secret(args, prop):
            continue
        report(f"{args.name}: {finding} holds a credential in plaintext; pass it as a Pulumi secret "
               f"and declare additional_secret_outputs=[\"{prop}\"] on the container")


NO_PLAINTEXT_CREDENTIALS = _policy(
    "no-plaintext-credentials",
    "Credentials in container env, command and uploaded files, and the Grafana provider's auth, are Pulumi secrets.",
    EnforcementLevel.MANDATORY, [CONTAINER, GRAFANA_PROVIDER], _check_no_plaintext_credentials)


# --- protected-data-volumes -----------------------------------------------------------

DATA_VOLUME_WORDS = ("prometheus", "grafana")


def _check_protected_data_volumes(args: ResourceValidationArgs, props: dict, report: Report) -> None:
    """Mandatory. The Prometheus TSDB and Grafana's database (users, API keys, edits made
    in the UI) are the stack's only state; a rename or a `pulumi destroy` must not
    delete them. `protect` makes Pulumi refuse to delete the volume until someone
    unprotects it on purpose. `retainOnDelete` is accepted too when the SDK exposes it,
    but pulumi-policy 1.21.0 does not pass it to policies: use `protect` (and keep
    `retainOnDelete` as the second belt)."""
    name = _reveal(props.get("name"))
    label = name if isinstance(name, str) and name else args.name
    if not any(word in label.lower() for word in DATA_VOLUME_WORDS):
        return
    opts = args.opts
    if getattr(opts, "protect", False) or getattr(opts, "retain_on_delete", False):
        return
    report(f"{args.name}: data volume `{label}` is not protected against deletion; "
           f"set opts=ResourceOptions(protect=True)")


PROTECTED_DATA_VOLUMES = _policy(
    "protected-data-volumes",
    "Prometheus and Grafana data volumes are protected against deletion.",
    EnforcementLevel.MANDATORY, [VOLUME], _check_protected_data_volumes)


# --- container-healthcheck ------------------------------------------------------------

# Images with no shell and no HTTP client (the exporter rows without a healthcheck), known by
# image and by container name (for containers started from an image id).
SHELLLESS_IMAGES = tuple(image_repository(row.image) for row in EXPORTERS if row.healthcheck is None)
SHELLLESS_CONTAINER_NAMES = tuple(row.service for row in EXPORTERS if row.healthcheck is None)


def _shellless(args: ResourceValidationArgs, props: dict) -> bool:
    image = _reveal(props.get("image"))
    if isinstance(image, str) and not _IMAGE_ID.match(image) and (
            image_repository(image) in SHELLLESS_IMAGES or "distroless" in image):
        return True
    names = [n for n in (_reveal(props.get("name")), args.name) if isinstance(n, str)]
    exempt = [str(e) for e in args.get_config().get("exempt", []) if e]
    return any(word in n for n in names for word in (*SHELLLESS_CONTAINER_NAMES, *exempt))


def _check_container_healthcheck(args: ResourceValidationArgs, props: dict, report: Report) -> None:
    """Advisory. A healthcheck lets Docker report (and `wait` gate on) a container that
    runs but does not serve. It cannot exist for scratch/distroless images, which
    Prometheus' `up` watches instead, and it is not worth blocking a deployment for:
    the stack stays up and monitored without one."""
    healthcheck = _reveal(props.get("healthcheck"))
    if healthcheck is UNKNOWN or _shellless(args, props):
        return
    tests = _reveal(healthcheck.get("tests")) if isinstance(healthcheck, dict) else None
    if tests is UNKNOWN:
        return
    if not tests or [_reveal(t) for t in tests][:1] == ["NONE"]:
        report(f"{args.name}: container has no healthcheck; add one that uses a tool the image has "
               f"(wget in busybox images, curl in grafana/grafana), or list it in this policy's `exempt` "
               f"config if the image has no shell")


CONTAINER_HEALTHCHECK = _policy(
    "container-healthcheck",
    "Every container that can run a healthcheck has one.",
    EnforcementLevel.ADVISORY, [CONTAINER], _check_container_healthcheck,
    config_schema=PolicyConfigSchema(properties={
        "exempt": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Container names (substrings) whose image has no shell.",
        },
    }))


# --- least-privilege --------------------------------------------------------------------

def _check_least_privilege(args: ResourceValidationArgs, props: dict, report: Report) -> None:
    """Mandatory. The stack's containers read the host (node_exporter its root, cAdvisor its
    cgroups, /proc and Docker's state) and never need to change it. A privileged container, an
    added capability or a host device is root on the host; a writable bind of a host path lets
    a compromised exporter rewrite what it reads. Every host path is bound read-only (the
    exporter table has no other kind) and nothing runs privileged. (A read-only bind of
    Docker's socket still lets its holder call the whole Docker API: see the README.)"""
    if _reveal(props.get("privileged")) is True:
        report(f"{args.name}: runs privileged (every capability, every host device, no seccomp or AppArmor "
               f"profile); give it the read-only mounts it needs instead")
    capabilities = _reveal(props.get("capabilities"))
    adds = _reveal(capabilities.get("adds")) if isinstance(capabilities, dict) else None
    if isinstance(adds, list) and adds:
        report(f"{args.name}: adds capabilities {[_reveal(a) for a in adds]}")
    devices = _reveal(props.get("devices"))
    if isinstance(devices, list) and devices:
        paths = [_reveal(d).get("hostPath") if isinstance(_reveal(d), dict) else d for d in devices]
        report(f"{args.name}: is given host devices {paths}")
    mounts = _reveal(props.get("mounts"))
    for mount in mounts if isinstance(mounts, list) else []:
        mount = _reveal(mount)
        writable = isinstance(mount, dict) and _reveal(mount.get("readOnly")) is not True
        if writable and _reveal(mount.get("type")) == "bind":
            report(f"{args.name}: binds host path {_reveal(mount.get('source'))} at {_reveal(mount.get('target'))} "
                   f"writable; bind it read-only")
    volumes = _reveal(props.get("volumes"))
    for volume in volumes if isinstance(volumes, list) else []:
        volume = _reveal(volume)
        if isinstance(volume, dict) and _reveal(volume.get("hostPath")) and _reveal(volume.get("readOnly")) is not True:
            report(f"{args.name}: binds host path {_reveal(volume.get('hostPath'))} at "
                   f"{_reveal(volume.get('containerPath'))} writable; bind it read-only")


LEAST_PRIVILEGE = _policy(
    "least-privilege",
    "No container runs privileged, adds capabilities or host devices, or binds a host path writable.",
    EnforcementLevel.MANDATORY, [CONTAINER], _check_least_privilege)


POLICIES: list[ResourceValidationPolicy] = [
    PINNED_IMAGES,
    TLS_BEYOND_LOOPBACK,
    GRAFANA_LOCKED_DOWN,
    NO_PLAINTEXT_CREDENTIALS,
    PROTECTED_DATA_VOLUMES,
    CONTAINER_HEALTHCHECK,
    LEAST_PRIVILEGE,
]
