"""Constrained value types, each defined once: the config model, the renderers and the policy
pack all parse with these, so a value one accepts is a value the others accept.

Each type is a parse function (raises `NotAllowed`, whose text says what is allowed) and an
`Annotated` pydantic type built from it. Every pattern is matched against the whole string
with ASCII character classes: `re.match(...$)` accepts a trailing newline and `\\d` accepts
non-ASCII digits, and both kinds of value pass a validator only to be rejected later.
Plain Python: no Pulumi import.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


class ConfigObject(BaseModel):
    """Every object of the stack config: camelCase keys, unknown keys refused, values frozen."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True,
                              hide_input_in_errors=False, validate_default=False)


def not_allowed(allowed: str) -> PydanticCustomError:
    """The one error every type raises: a ValueError whose text is what is allowed."""
    # Braces would be read as pydantic message placeholders.
    return PydanticCustomError("not_allowed", allowed.replace("{", "(").replace("}", ")"))


NotAllowed = PydanticCustomError


def _text(value: Any, allowed: str) -> str:
    if not isinstance(value, str):
        raise not_allowed(allowed)
    return value


# --- durations ---------------------------------------------------------------------------

# Prometheus' model.ParseDuration (also Alertmanager's): units largest first, each at most once.
_DURATION_RE = re.compile(
    r"(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?")
_UNITS_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)
_UNIT_NAMES = ("y", "w", "d", "h", "m", "s", "ms")
DURATION_HELP = "a Prometheus duration such as 30s, 5m or 1h30m (units y w d h m s ms, largest first)"
# model.ParseDuration refuses totals past int64 nanoseconds (about 292 years).
_MAX_MS = (2**63 - 1) // 1_000_000


def duration_ms(text: Any) -> int:
    """Milliseconds in a Prometheus duration (`1h30m`, or `0`); raises NotAllowed otherwise."""
    value = _text(text, DURATION_HELP)
    if value == "0":
        return 0
    match = _DURATION_RE.fullmatch(value) if value else None
    if not match:
        raise not_allowed(DURATION_HELP)
    total = sum(int(v) * unit for v, unit in zip(match.groups(), _UNITS_MS, strict=True) if v)
    if total > _MAX_MS:
        raise not_allowed(f"{DURATION_HELP}, at most 292y")
    return total


def format_duration(ms: int) -> str:
    """The shortest Prometheus spelling of `ms` milliseconds (`75000` -> `1m15s`)."""
    if ms == 0:
        return "0s"
    parts = []
    for unit, name in zip(_UNITS_MS, _UNIT_NAMES, strict=True):
        count, ms = divmod(ms, unit)
        if count:
            parts.append(f"{count}{name}")
    return "".join(parts)


@dataclass(frozen=True)
class DurationRange:
    """A duration between `minimum` and `maximum` (both Prometheus durations, inclusive)."""

    minimum: str
    maximum: str
    why: str = ""

    def __call__(self, value: str) -> str:
        low, high = duration_ms(self.minimum), duration_ms(self.maximum)
        allowed = f"{DURATION_HELP}, from {self.minimum} to {self.maximum}{self.why}"
        try:
            ms = duration_ms(value)
        except PydanticCustomError:
            raise not_allowed(allowed) from None
        if not low <= ms <= high:
            raise not_allowed(allowed)
        return value


# --- numbers and flags -------------------------------------------------------------------

PORT_HELP = "a port number from 1 to 65535"


def parse_port(value: Any) -> int:
    """A TCP port, as a number or as ASCII digits (Pulumi stores config as text)."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,5}", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise not_allowed(PORT_HELP)
    return value


Port = Annotated[int, BeforeValidator(parse_port)]


@dataclass(frozen=True)
class Megabytes:
    """A memory limit in whole megabytes, at least `minimum` (and at most 1 TiB)."""

    minimum: int

    def __call__(self, value: Any) -> int:
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,7}", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= 1_048_576:
            raise not_allowed(f"a whole number of megabytes, at least {self.minimum} (at most 1048576)")
        return value


@dataclass(frozen=True)
class WholeNumber:
    """A whole number from `minimum` to `maximum`, as a number or as ASCII digits (Pulumi stores text)."""

    minimum: int
    maximum: int

    def __call__(self, value: Any) -> int:
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            raise not_allowed(f"a whole number from {self.minimum} to {self.maximum}")
        return value


def megabytes(minimum: int) -> BeforeValidator:
    """Metadata for `Annotated[int, megabytes(128)]`."""
    return BeforeValidator(Megabytes(minimum))


def parse_flag(value: Any) -> bool:
    """true or false, as a boolean or as text in any case (`pulumi config set demo true`)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise not_allowed("true or false")


Flag = Annotated[bool, BeforeValidator(parse_flag)]


# --- addresses ---------------------------------------------------------------------------

IP_HELP = "an IPv4 or IPv6 address such as 127.0.0.1 or ::1 (not a host name, no brackets, no port)"


def parse_ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An IP address literal. A number is refused: ip_address(127) would read 0.0.0.127."""
    text = _text(value, IP_HELP)
    if not text.isascii() or "%" in text:  # no zone index: Docker cannot bind one
        raise not_allowed(IP_HELP)
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise not_allowed(IP_HELP) from None


def _bind_address(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address in any spelling (brackets, IPv4-mapped IPv6 unwrapped), or None if not one."""
    try:
        address = parse_ip(value.strip("[]") if isinstance(value, str) else value)
    except PydanticCustomError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_all_interfaces(value: Any) -> bool:
    """Does an address (any spelling: 0.0.0.0, ::, ::0, ::ffff:0.0.0.0, ...) mean every interface?"""
    address = _bind_address(value)
    return address is not None and address.is_unspecified


def is_loopback(value: Any) -> bool:
    """Does an address (127.0.0.0/8, ::1, ::ffff:127.x.x.x) reach only this host?"""
    address = _bind_address(value)
    return address is not None and address.is_loopback


def canonical_ip(value: Any) -> str:
    return str(parse_ip(value))


IPAddress = Annotated[str, BeforeValidator(canonical_ip)]


def url_host(host: str) -> str:
    """A host as it stands in a URL or host:port: IPv6 literals in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


# A DNS name as Go's resolver takes it (underscores included: Docker and Compose names use them).
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def parse_host(value: Any, allowed: str) -> str:
    """A host name, an IPv4 address or a bracketed IPv6 address."""
    host = _text(value, allowed)
    if host.startswith("[") and host.endswith("]"):
        address = host[1:-1]
        try:
            if not isinstance(parse_ip(address), ipaddress.IPv6Address):
                raise not_allowed(allowed)
        except PydanticCustomError:
            raise not_allowed(allowed) from None
        return host
    if len(host) > 253 or not _HOSTNAME_RE.fullmatch(host):
        raise not_allowed(allowed)
    if re.fullmatch(r"[0-9.]+", host):  # looks like IPv4: must be one
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise not_allowed(allowed) from None
    return host


HOSTPORT_HELP = "host:port with a port from 1 to 65535, such as django:8000 or [fd00::5]:8000"


def parse_host_port(value: Any, allowed: str = HOSTPORT_HELP) -> tuple[str, int]:
    """`host:port` (IPv6 in brackets) -> (host, port)."""
    text = _text(value, allowed)
    host, colon, port = text.rpartition(":")
    if not colon or not re.fullmatch(r"[1-9][0-9]{0,4}", port) or int(port) > 65535:
        raise not_allowed(allowed)
    return parse_host(host, allowed), int(port)


def check_host_port(value: Any) -> str:
    parse_host_port(value)
    return str(value)


HostPort = Annotated[str, BeforeValidator(check_host_port)]


# --- URLs --------------------------------------------------------------------------------

# RFC 3986 characters (and %XX escapes) only: no spaces, controls or non-ASCII, which Go's
# net/url refuses or Prometheus, Alertmanager and Grafana read differently.
_URL_RE = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?:(?P<userinfo>(?:[A-Za-z0-9._~!$&'()*+,;=:-]|%[0-9A-Fa-f]{2})*)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^/?#:@\[\]]*)"
    r"(?::(?P<port>[0-9]*))?"
    r"(?P<rest>(?:[/?#](?:[A-Za-z0-9._~!$&'()*+,;=:@/?#-]|%[0-9A-Fa-f]{2})*)?)")


@dataclass(frozen=True)
class UrlKind:
    """A URL with one of `schemes`, a host and an optional port 1-65535."""

    schemes: tuple[str, ...]
    what: str = "URL"

    @property
    def help(self) -> str:
        schemes = " or ".join(f"{s}://" for s in self.schemes)
        return f"a {self.what} ({schemes}) with a host (port 1-65535 if given; no spaces or non-ASCII characters)"

    def __call__(self, value: Any) -> str:
        text = _text(value, self.help)
        match = _URL_RE.fullmatch(text)
        if not match or match["scheme"].lower() not in self.schemes or not match["host"]:
            raise not_allowed(self.help)
        parse_host(match["host"], self.help)
        port = match["port"]
        if port is not None and (not re.fullmatch(r"[1-9][0-9]{0,4}", port) or int(port) > 65535):
            raise not_allowed(self.help)
        return text


HTTP = UrlKind(("http", "https"))
_CREDENTIAL_IN_URL = re.compile(r"://[^/?#\s]*@|[?&;](?:password|passwd|pass|pwd|token|secret|api_?key)=",
                                re.IGNORECASE)


def has_credentials(text: str) -> bool:
    """Does a URL carry a credential: `user:password@` or a password/token query parameter?"""
    return bool(_CREDENTIAL_IN_URL.search(text))


def url_without_userinfo(text: str) -> str:
    """A URL as it may be printed: any `user:password@` and password or token parameter replaced."""
    text = re.sub(r"(?<=://)[^/?#@\s]*@", "<userinfo hidden>@", text)
    return re.sub(r"(?i)([?&;](?:password|passwd|pass|pwd|token|secret|api_?key)=)[^&;#\s]*", r"\1<hidden>", text)


# --- images ------------------------------------------------------------------------------

# Docker's reference grammar (distribution/reference, regexp.go).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_IMAGE_RE = re.compile(
    rf"(?P<name>(?:(?P<domain>{_DOMAIN})/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{{32,}}))?")
_SHA256_RE = re.compile(r"sha256:[0-9a-f]{64}")
# Tags that name a moving target rather than one build.
FLOATING_TAGS = frozenset({"latest", "stable", "main", "master", "edge", "nightly", "dev", "develop"})
IMAGE_HELP = ("an image reference pinned to an exact version tag (not latest, main or another moving tag) "
              "or to a digest @sha256:<64 lowercase hex digits>, such as prom/prometheus:v3.7.3")


@dataclass(frozen=True)
class ImageParts:
    repository: str
    tag: str | None
    digest: str | None


def image_problem(reference: str) -> str | None:
    """Why `reference` is not a Docker image reference pinned to one build, or None."""
    match = _IMAGE_RE.fullmatch(reference)
    if not match or len(match["name"]) > 255:
        return "is not a valid image reference (Docker's reference grammar)"
    domain, tag, digest = match["domain"], match["tag"], match["digest"]
    # Docker reads the first component as a registry only when it has a dot or a port, or is
    # localhost; otherwise it is part of the (lowercase) repository path.
    is_registry = "." in domain or ":" in domain or domain == "localhost" if domain else False
    if domain and not is_registry and any(c.isupper() for c in domain):
        return "is not a valid image reference (uppercase repository)"
    if digest is not None:
        return None if _SHA256_RE.fullmatch(digest) else "has a digest that is not sha256:<64 lowercase hex digits>"
    if tag is None:
        return "has no tag (Docker pulls `latest`)"
    if tag.lower() in FLOATING_TAGS:
        return f"uses the floating tag `{tag}`"
    return None


def parse_image(value: Any) -> ImageParts:
    """A Docker image reference pinned to one build: raises NotAllowed otherwise."""
    text = _text(value, IMAGE_HELP)
    if image_problem(text) is not None:
        raise not_allowed(IMAGE_HELP)
    match = _IMAGE_RE.fullmatch(text)
    assert match is not None
    return ImageParts(repository=match["name"], tag=match["tag"], digest=match["digest"])


def image_repository(reference: str) -> str:
    """`docker.io/oliver006/redis_exporter:v1.79.0` -> `oliver006/redis_exporter` (any reference)."""
    name = reference.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    repository = f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]
    return repository.removeprefix("docker.io/").removeprefix("library/")


def check_image(value: Any) -> str:
    parse_image(value)
    return str(value)


ImageRef = Annotated[str, BeforeValidator(check_image)]


# --- names -------------------------------------------------------------------------------

# Docker's own predefined networks: `bridge` has no name resolution between containers (they
# could not find each other by name), `host` and `none` have no container network at all.
RESERVED_NETWORKS = ("bridge", "host", "none")
NETWORK_HELP = ("a user-defined Docker network name: letters, digits, _ . - (at most 63), "
                f"not {', '.join(RESERVED_NETWORKS)}")


def parse_network_name(value: Any) -> str:
    text = _text(value, NETWORK_HELP)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", text) or text in RESERVED_NETWORKS:
        raise not_allowed(NETWORK_HELP)
    return text


# --- Prometheus labels --------------------------------------------------------------------

LABEL_HELP = ("a Prometheus label name: letters, digits and _, not starting with a digit or __, "
              "and not `job` (job names are fixed)")
LABEL_VALUE_HELP = "a non-empty label value without control characters (at most 256 characters)"


def parse_label_name(value: Any) -> str:
    text = _text(value, LABEL_HELP)
    if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]{0,99}", text) or text.startswith("__") or text == "job":
        raise not_allowed(LABEL_HELP)
    return text


def parse_label_value(value: Any) -> str:
    text = _text(value, LABEL_VALUE_HELP)
    if not text or len(text) > 256 or any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text):
        raise not_allowed(LABEL_VALUE_HELP)
    return text


LabelName = Annotated[str, BeforeValidator(parse_label_name)]
LabelValue = Annotated[str, BeforeValidator(parse_label_value)]


def pattern(regex: str, allowed: str) -> Callable[[Any], str]:
    """A validator for text matching `regex` as a whole (ASCII classes only in `regex`)."""
    compiled = re.compile(regex)

    def check(value: Any) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise not_allowed(allowed)
        return value
    return check
