"""Property: every stack config the config model accepts is accepted by the software it feeds.

Hypothesis writes valid raw `monitoring:*` values as a person (or Pulumi, which stores objects
as JSON text and scalars as text) would: edge values of every type in components/types.py
included. Each one must load; the prometheus.yml the stack renders from it must pass
`promtool check config` (with the real rule files), and, when Alertmanager is enabled, the
rendered alertmanager.yml must pass `amtool check-config`.

A strategy value the model rejects is a bug in the strategy; a value the model accepts and a
tool rejects is a bug in the model (the type should reject it).
"""

from __future__ import annotations

import ipaddress
import json
import re
import string
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.alertmanager.config import render_alertmanager_config
from components.config import ConfigError, StackConfig, load_config
from components.config.model import RESERVED_RECEIVER_NAMES, SEVERITIES
from components.exporters.table import BY_NAME, EXPORTER_NAMES
from components.prometheus.config import JOB_NAMES, render_prometheus_config
from components.prometheus.rules import RULES_DIR
from components.prometheus.targets import scrape_targets
from components.types import FLOATING_TAGS, duration_ms, has_credentials, is_loopback
from components.web_config import client_settings
from tests.tools import require_tool

# What components/stack.py renders with (without importing Pulumi): `<project>-<stack>-<service>`
# containers on the stack network, at the fixed ports of the servers and the exporter rows.
PREFIX = "monitoring-dev"
PROMETHEUS_TARGET = "localhost:9090"
GRAFANA_PORT, ALERTMANAGER_PORT, DEMO_DJANGO_PORT = 3000, 9093, 8000
DEFAULT_PORTS = {"grafana": 3000, "prometheus": 9090, "alertmanager": 9093}
EXPORTERS = EXPORTER_NAMES  # a new row is enabled, disabled and given an image here with no edit
SETTINGS = dict(max_examples=50, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


# --- small pieces (strategies built once: building one per draw is what makes a test slow) -

@cache
def text_of(alphabet: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


@cache
def choice(values: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(tuple(values))


@cache
def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value, or None for "key not given" (left out of the config by `without_none`)."""
    return st.one_of(st.none(), strategy)


BOOL = st.booleans()
BIG = st.integers(0, 2**40)


def pick(draw: Any, *values: Any) -> Any:
    """One of `values` (computed ones: a strategy of each would be built per draw)."""
    return values[draw(choice(range(len(values))))]


def between(draw: Any, low: int, high: int) -> int:
    """An integer from `low` to `high`, the bounds more often than chance would pick them."""
    return pick(draw, low, high, low + draw(BIG) % (high - low + 1))


def without_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value is not None}


def as_stored(draw: Any, value: Any) -> Any:
    """`value` as given in YAML, or as Pulumi stores it: JSON text for objects and lists,
    text for numbers and flags (in any case: `pulumi config set demo True`)."""
    if not draw(BOOL):
        return value
    if isinstance(value, bool):
        return pick(draw, str(value).lower(), str(value), str(value).upper())
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


@cache
def ports(*likely: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from((1, 65535, *likely)), st.integers(1, 65535))


@cache
def flag(value: bool) -> st.SearchStrategy[Any]:
    return st.sampled_from([value, str(value).lower(), str(value), str(value).upper()])


def memory(draw: Any, minimum: int) -> Any:
    return whole(draw, minimum, 1_048_576)


def whole(draw: Any, minimum: int, maximum: int) -> Any:
    # Pulumi stores numbers as text: both spellings must load.
    n = between(draw, minimum, maximum)
    return pick(draw, n, str(n))


# --- durations -----------------------------------------------------------------------------

_UNITS = (("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
          ("m", 60_000), ("s", 1000), ("ms", 1))
ONE_IN_TEN = st.integers(0, 9)


def duration(draw: Any, minimum: str, maximum: str) -> str:
    """A duration from `minimum` to `maximum` in one of its Prometheus spellings: `75s`,
    `1m15s`, `75000ms`, `0h1m15s`, `01m15s`, `0`... (units largest first, each at most once)."""
    ms = between(draw, duration_ms(minimum), duration_ms(maximum))
    if ms == 0:
        return draw(choice(("0", "0s", "0ms", "0m", "0h0m0s", "0y")))
    canonical = draw(BOOL)
    parts, rest = [], ms
    for name, unit in _UNITS:
        most = rest // unit
        # All of this unit, or some and the rest in smaller units (`75s` for 1m15s).
        count = most if unit == 1 or canonical or most == 0 else pick(draw, most, 0, draw(BIG) % (most + 1))
        rest -= count * unit
        if count or draw(ONE_IN_TEN) == 0:  # an explicit zero unit now and then
            pad = "0" if draw(ONE_IN_TEN) == 0 else ""  # and a leading zero
            parts.append(f"{pad}{count}{name}")
    return "".join(parts) or "0s"


# --- addresses -----------------------------------------------------------------------------

_LABEL_END = string.ascii_letters + string.digits + "_"
_LABEL_MID = _LABEL_END + "-"


def dns_label(draw: Any) -> str:
    """A label as Go's resolver and Docker take it: letters, digits, `_`, inner `-`, 1-63."""
    size = pick(draw, 1, 2, 63, 1 + draw(BIG) % 63)
    if size == 1:
        return draw(choice(_LABEL_END))
    return draw(choice(_LABEL_END)) + draw(text_of(_LABEL_MID, size - 2, size - 2)) + draw(choice(_LABEL_END))


@st.composite
def hostname(draw: Any) -> str:
    labels = [dns_label(draw) for _ in range(1 + draw(BIG) % 4)]
    while len(".".join(labels)) > 253:
        labels.pop()
    name = ".".join(labels)
    if re.fullmatch(r"[0-9.]+", name):  # looks like IPv4 (and is not one): give it a letter
        name = "h" + name[1:]
    if len(name) < 253 and draw(BOOL):
        name += "."  # fully qualified
    return name


IPV4 = st.one_of(st.sampled_from(["0.0.0.0", "127.0.0.1", "255.255.255.255"]), st.ip_addresses(v=4).map(str))


@st.composite
def ipv6(draw: Any) -> str:
    """An IPv6 literal (no zone) as people write them: compressed, full, upper case, or with
    the last 32 bits dotted (`::ffff:192.0.2.1`, `64:ff9b::c000:201` as `64:ff9b:0:0:0:0:192.0.2.1`)."""
    address = draw(st.one_of(st.sampled_from([ipaddress.IPv6Address(a) for a in ("::", "::1", "fd00::5")]),
                             st.ip_addresses(v=6)))
    dotted = ":".join(address.exploded.split(":")[:6]) + ":" + str(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return pick(draw, address.compressed, address.exploded, address.compressed.upper(), dotted,
                f"::ffff:{draw(IPV4)}")


IPV6 = ipv6()
# A host as it stands in host:port or a URL: a name, IPv4, or IPv6 in brackets.
HOST = st.one_of(hostname(), IPV4, IPV6.map(lambda a: f"[{a}]"))


@cache
def host_port(*likely: int) -> st.SearchStrategy[str]:
    return st.builds(lambda h, p: f"{h}:{p}", HOST, ports(*likely))


# --- URLs ----------------------------------------------------------------------------------

_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_SUB_DELIMS = "!$&'()*+,;="


@cache
def escaped(alphabet: str, max_size: int) -> st.SearchStrategy[str]:
    """Text of `alphabet` characters and %XX escapes."""
    piece = st.one_of(st.sampled_from(alphabet),
                      st.builds(lambda a, b: f"%{a}{b}", st.sampled_from(string.hexdigits),
                                st.sampled_from(string.hexdigits)))
    return st.lists(piece, max_size=max_size).map("".join)


@cache
def urls(schemes: tuple[str, ...] = ("http", "https")) -> st.SearchStrategy[str]:
    """URLs of `schemes` (any case) with userinfo, IPv6/IPv4/name hosts, ports, paths,
    queries, fragments and %XX escapes."""
    @st.composite
    def url(draw: Any) -> str:
        scheme = draw(choice(schemes))
        scheme = pick(draw, scheme, scheme.upper(), scheme.capitalize())
        userinfo = draw(maybe(escaped(_UNRESERVED + _SUB_DELIMS + ":", 20)))
        port = draw(maybe(ports(80, 443, 8080)))
        rest = draw(maybe(escaped(_UNRESERVED + _SUB_DELIMS + ":@/?#", 30)))
        return (f"{scheme}://{'' if userinfo is None else userinfo + '@'}{draw(HOST)}"
                f"{'' if port is None else f':{port}'}{'' if rest is None else draw(choice('/?#')) + rest}")
    return url()


# --- images --------------------------------------------------------------------------------

_ALNUM = string.ascii_lowercase + string.digits
_REGISTRY_CHARS = string.ascii_letters + string.digits


def path_component(draw: Any) -> str:
    component = draw(text_of(_ALNUM, 1, 8))
    for _ in range(draw(BIG) % 3):
        component += draw(choice((".", "_", "__", "-", "--", "---"))) + draw(text_of(_ALNUM, 1, 8))
    return component


def registry(draw: Any) -> str:
    def component() -> str:
        inner = draw(text_of(_REGISTRY_CHARS + "-", 0, 6))
        return draw(choice(_REGISTRY_CHARS)) + (inner + draw(choice(_REGISTRY_CHARS)) if inner else "")
    domain = draw(choice(("docker.io", "quay.io", "ghcr.io", "registry-1.docker.io", "localhost", "[::1]",
                          "[fd00::1]", "")))
    domain = domain or ".".join(component() for _ in range(2 + draw(BIG) % 2))
    if draw(BOOL):
        domain += f":{draw(ports(5000, 443))}"
    return domain


_TAG = st.builds(lambda a, b: a + b, st.sampled_from(_LABEL_END), st.text(_LABEL_END + ".-", max_size=127))
_DIGEST = text_of("0123456789abcdef", 64, 64).map(lambda h: f"sha256:{h}")


@st.composite
def image(draw: Any) -> str:
    """A Docker image reference pinned by an exact tag, a digest, or both."""
    components = [path_component(draw) for _ in range(1 + draw(BIG) % 3)]
    name = "/".join(([registry(draw)] if draw(BOOL) else []) + components)
    tag, digest = draw(maybe(_TAG)), draw(maybe(_DIGEST))
    if digest is None and (tag is None or tag.lower() in FLOATING_TAGS):
        tag = draw(choice(("v3.7.3", "12.2.0", "1.5.1", "v0.28.1", "2.0.1-alpine")))
    # A digest pins the build: any tag (even `latest`) may ride along.
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


IMAGE = image()


# --- receivers -----------------------------------------------------------------------------

RECEIVER_NAME = st.builds(lambda a, b: a + b, st.sampled_from(string.ascii_letters + string.digits),
                          st.text(string.ascii_letters + string.digits + "_.-", max_size=63)).filter(
    lambda n: n not in RESERVED_RECEIVER_NAMES)
# Left out (the default, both), one, or both in either order.
SEVERITY_LISTS = st.one_of(st.none(), st.permutations(SEVERITIES),
                           st.sampled_from(SEVERITIES).map(lambda s: [s]))
# Every character `\s` matches (the last is U+3000).
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
# Any character that can be stored (UTF-8: no lone surrogates), ASCII more often.
ANY_CHAR = st.one_of(st.sampled_from(string.printable), st.characters(codec="utf-8"))
# Characters of an address: anything but `@`, whitespace, `<>,"`.
_ADDRESS_CHAR = st.one_of(st.sampled_from(string.ascii_letters + string.digits + ".+-_'"),
                          st.characters(codec="utf-8", exclude_characters=_WHITESPACE + '@<>,"'))
_ADDRESS_PART = st.text(_ADDRESS_CHAR, min_size=1, max_size=12)
EMAIL_ADDRESS = st.builds(lambda local, domain: f"{local}@{domain}", _ADDRESS_PART, _ADDRESS_PART)


@st.composite
def email_to(draw: Any) -> str:
    """One address, or several separated by commas and any whitespace."""
    text = draw(EMAIL_ADDRESS)
    for _ in range(draw(BIG) % 3):
        text += draw(choice((",", ", ", " ,", " , ", ",\t", ",  "))) + draw(EMAIL_ADDRESS)
    return text


_DISPLAY_NAME = st.text(st.one_of(st.sampled_from(string.ascii_letters + " ()-.'"),
                                  st.characters(codec="utf-8", exclude_characters='<>"\n')),
                        min_size=1, max_size=20)
EMAIL_FROM = st.one_of(EMAIL_ADDRESS,
                       st.builds(lambda name, address: f"{name} <{address}>", _DISPLAY_NAME, EMAIL_ADDRESS))
# A secret: any non-empty text (a pasted password may end in a newline).
SECRET = st.text(ANY_CHAR, min_size=1, max_size=30)
USER_NAME = st.text(string.ascii_letters + string.digits + "._@-", min_size=1, max_size=64)
CHANNEL = st.one_of(
    st.builds(lambda n: f"#{n}", st.text(string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=79)),
    st.text(st.characters(codec="utf-8", exclude_characters=_WHITESPACE), min_size=1, max_size=80))


@st.composite
def webhook(draw: Any) -> dict[str, Any]:
    return {"name": draw(RECEIVER_NAME), "type": "webhook", "url": draw(urls())}


@st.composite
def email(draw: Any) -> dict[str, Any]:
    receiver = {"name": draw(RECEIVER_NAME), "type": "email", "to": draw(email_to()),
                "from": draw(EMAIL_FROM), "smarthost": draw(host_port(25, 465, 587))}
    if draw(BOOL):
        receiver["auth_username"] = draw(USER_NAME)
        receiver["auth_password"] = draw(SECRET)
    if draw(BOOL):
        receiver["require_tls"] = draw(st.one_of(flag(True), flag(False)))
    return receiver


@st.composite
def slack(draw: Any) -> dict[str, Any]:
    return {"name": draw(RECEIVER_NAME), "type": "slack", "api_url": draw(urls()), "channel": draw(CHANNEL)}


@st.composite
def receivers(draw: Any) -> list[dict[str, Any]]:
    """1 to 7 receivers, each with `severities` or not; together they list every severity."""
    found = draw(st.lists(st.one_of(webhook(), email(), slack()), min_size=1, max_size=7,
                          unique_by=lambda r: r["name"]))
    for receiver in found:
        chosen = draw(SEVERITY_LISTS)
        if chosen is not None:
            receiver["severities"] = as_stored(draw, list(chosen))
    listed = {s for r in found for s in (json.loads(r["severities"]) if isinstance(r.get("severities"), str)
                                         else r.get("severities", SEVERITIES))}
    if listed != set(SEVERITIES):  # the model refuses a severity nobody gets: one receiver takes the default
        found[draw(st.integers(0, len(found) - 1))].pop("severities")
    return found


RECEIVERS = receivers()


@st.composite
def heartbeat(draw: Any) -> Any:
    return as_stored(draw, without_none({"url": draw(urls()), "repeatInterval": some(draw, duration(draw, "1s", "1d"))}))


# --- the whole config ----------------------------------------------------------------------

REDIS_ADDRESS = st.one_of(host_port(6379), st.builds(lambda s, hp: f"{s}://{hp}", st.sampled_from(["redis", "rediss"]),
                                                     host_port(6379)))
PLUGIN = st.builds(lambda a, b, c, d: f"{a}{b}@{c}{d}", st.sampled_from(_ALNUM), st.text(_ALNUM + "-", max_size=20),
                   st.sampled_from(string.digits), st.text(string.ascii_letters + string.digits + "_.-", max_size=10))
DSN = st.builds(lambda user, password, where, db: f"postgresql://{user}:{password}@{where}/{db}?sslmode=disable",
                text_of(_ALNUM, 1, 10), escaped(_UNRESERVED, 20), host_port(5432), text_of(_ALNUM, 1, 10))
NETWORK = st.builds(lambda a, b: a + b, st.sampled_from(string.ascii_letters + string.digits),
                    st.text(string.ascii_letters + string.digits + "_.-", max_size=62)).filter(
    lambda n: n not in ("bridge", "host", "none"))
GRAFANA_PASSWORD = st.text(ANY_CHAR, min_size=12, max_size=40)


def exporter(draw: Any, name: str, enabled: bool) -> Any:
    settings: dict[str, Any] = {
        "enabled": draw(flag(enabled)) if draw(BOOL) or not enabled else None,
        "image": draw(maybe(IMAGE)),
        "memoryMb": memory(draw, 16) if draw(BOOL) else None,
    }
    if name == "redis":
        settings["address"] = draw(maybe(REDIS_ADDRESS))
    elif name == "nginx":
        settings["scrapeUri"] = draw(maybe(urls()))
    elif name == "celery":
        settings["brokerUrl"] = draw(maybe(urls(("redis", "rediss", "amqp", "amqps"))))
    return as_stored(draw, without_none(settings))


def some(draw: Any, value: Any) -> Any:
    """`value`, or None (key left out) now and then."""
    return value if draw(BOOL) else None


LABEL_NAMES = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: not n.startswith("__") and n != "job")
LABEL_VALUES = st.text(min_size=1, max_size=24).filter(
    lambda v: not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in v))


@st.composite
def scrape_targets_strategy(draw: Any, min_size: int = 0) -> list[Any]:
    """Extra targets of one job: `host:port` or {address, labels}, with distinct instances."""
    targets: list[Any] = []
    instances: set[str] = set()
    for _ in range(draw(st.integers(min_size, 4))):
        address = draw(host_port(8000))
        labels = draw(st.dictionaries(LABEL_NAMES, LABEL_VALUES, max_size=3)) if draw(BOOL) else {}
        instance = labels.get("instance") or (f"{labels['host']}:{address.rsplit(':', 1)[1]}"
                                              if "host" in labels else address)
        if instance in instances:
            continue
        instances.add(instance)
        targets.append({"address": address, "labels": labels} if labels else address)
    if len(targets) < min_size:
        targets.append(f"fallback-{len(instances)}.example:8000")
    return targets


@st.composite
def probe_targets_strategy(draw: Any) -> list[Any]:
    """URLs a prober checks: a URL or {url, labels}, distinct instances, no credentials in them."""
    targets: list[Any] = []
    instances: set[str] = set()
    for _ in range(draw(st.integers(0, 4))):
        url = draw(urls().filter(lambda u: not has_credentials(u)))
        labels = draw(st.dictionaries(LABEL_NAMES, LABEL_VALUES, max_size=3)) if draw(BOOL) else {}
        instance = labels.get("instance", url)
        if instance in instances:
            continue
        instances.add(instance)
        targets.append({"url": url, "labels": labels} if labels else url)
    return targets


@st.composite
def raw_configs(draw: Any) -> dict[str, Any]:
    demo = draw(BOOL)
    am_enabled = draw(BOOL)
    # Grafana, Prometheus and an enabled Alertmanager each need their own host port.
    published = draw(st.lists(ports(*DEFAULT_PORTS.values()), min_size=3, max_size=3, unique=True))
    port: dict[str, Any] = {}
    for service, chosen in zip(DEFAULT_PORTS, published, strict=True):
        if not am_enabled and service == "alertmanager":
            chosen = draw(ports())
        # A port equal to the default may be left out.
        port[service] = None if chosen == DEFAULT_PORTS[service] and draw(BOOL) else pick(draw, chosen, str(chosen))
    grafana = without_none({
        "port": port["grafana"],
        "image": draw(maybe(IMAGE)),
        "adminUser": draw(maybe(USER_NAME)),
        "rootUrl": draw(maybe(urls())),
        "plugins": draw(maybe(st.lists(PLUGIN, max_size=3))),
        "memoryMb": some(draw, memory(draw, 128)),
    })

    interval = some(draw, duration(draw, "1s", "75s"))
    prometheus = without_none({
        "port": port["prometheus"],
        "image": draw(maybe(IMAGE)),
        "retention": some(draw, duration(draw, "2h", "100y")),
        "scrapeInterval": interval,
        "evaluationInterval": some(draw, duration(draw, "1s", "75s")),
        "scrapeTimeout": some(draw, duration(draw, "1s", interval or "15s")),
        "memoryMb": some(draw, memory(draw, 256)),
        "queryTimeout": some(draw, duration(draw, "1s", "10m")),
        "queryMaxSamples": some(draw, whole(draw, 1_000_000, 1_000_000_000)),
        "queryMaxConcurrency": some(draw, whole(draw, 1, 200)),
    })

    enabled = {name: draw(BOOL) for name in EXPORTERS}
    exporters = {name: exporter(draw, name, enabled[name]) for name in EXPORTERS if draw(BOOL)}
    is_enabled = {name: enabled[name] if name in exporters else True for name in EXPORTERS}

    alertmanager: dict[str, Any] = without_none({
        "enabled": draw(flag(True)) if am_enabled else draw(maybe(flag(False))),
        "port": port["alertmanager"],
        "image": draw(maybe(IMAGE)),
        "receivers": as_stored(draw, draw(RECEIVERS)) if am_enabled or draw(BOOL) else None,
        "memoryMb": some(draw, memory(draw, 32)),
        "groupWait": some(draw, duration(draw, "0s", "1h")),
        "groupInterval": some(draw, duration(draw, "1s", "1d")),
        "repeatInterval": some(draw, duration(draw, "1m", "5d")),
        "heartbeat": some(draw, draw(heartbeat())),
    })

    needs_dsn = not demo and is_enabled["postgres"]
    needs_redis = not demo and is_enabled["redis"]
    django = draw(scrape_targets_strategy(min_size=1))
    extra = {job: draw(probe_targets_strategy() if BY_NAME[job].prober else scrape_targets_strategy())
             for job in EXPORTERS if draw(BOOL)}
    bind = draw(maybe(st.one_of(IPV4, IPV6)))
    # Beyond loopback only with TLS (test_config.py covers the refusal).
    tls_on = (bind is not None and not is_loopback(bind)) or draw(BOOL)
    config = {
        "tls": as_stored(draw, {"enabled": draw(flag(tls_on))}) if tls_on or draw(BOOL) else None,
        "bindAddress": bind,
        "network": draw(maybe(NETWORK)),
        "demo": draw(flag(demo)) if demo or draw(BOOL) else None,
        "restartPolicy": draw(maybe(choice(("no", "on-failure", "always", "unless-stopped")))),
        "grafana": as_stored(draw, grafana) if grafana or draw(BOOL) else None,
        "grafanaAdminPassword": draw(maybe(GRAFANA_PASSWORD)),
        "prometheus": as_stored(draw, prometheus) if prometheus or draw(BOOL) else None,
        "exporters": as_stored(draw, exporters) if exporters or draw(BOOL) else None,
        "postgresDsn": draw(DSN) if needs_dsn else draw(maybe(DSN)),
        "redisPassword": draw(SECRET) if needs_redis else draw(maybe(SECRET)),
        "targets": some(draw, as_stored(draw, {"django": as_stored(draw, django),
                                               **{job: as_stored(draw, found) for job, found in extra.items()}})),
        "alertmanager": as_stored(draw, alertmanager) if alertmanager or draw(BOOL) else None,
    }
    return without_none(config)


# --- rendering as the stack does ------------------------------------------------------------

def https_clients(cfg: StackConfig) -> dict[str, Any]:
    """The https clients components/stack.py adds with tls.enabled (the same settings, these paths)."""
    if not cfg.tls.enabled:
        return {}
    clients = {"prometheus": client_settings(ca_file="/etc/prometheus/tls/ca.crt", server_name=f"{PREFIX}-prometheus",
                                             username=cfg.prometheus.user, password_file="/etc/prometheus/secrets/p"),
               "grafana": client_settings(ca_file="/etc/prometheus/tls/ca.crt", server_name=f"{PREFIX}-grafana")}
    if cfg.alertmanager.enabled:
        clients["alertmanager"] = client_settings(ca_file="/etc/prometheus/tls/ca.crt",
                                                  server_name=f"{PREFIX}-alertmanager", username=cfg.alertmanager.user,
                                                  password_file="/etc/prometheus/secrets/a")
    return clients


def prometheus_yml(cfg: StackConfig) -> str:
    """prometheus.yml as components/stack.py renders it, the real rule files by absolute path."""
    targets = scrape_targets(
        cfg, prometheus=PROMETHEUS_TARGET, grafana=f"{PREFIX}-grafana:{GRAFANA_PORT}",
        exporters={e.name: f"{PREFIX}-{e.row.service}:{e.row.port}" for e in cfg.enabled_exporters()},
        demo_django=f"{PREFIX}-demo-django:{DEMO_DJANGO_PORT}" if cfg.demo else None,
        demo_probes=(f"http://{PREFIX}-demo-nginx:8080/", f"http://{PREFIX}-demo-nginx:8080/healthz") if cfg.demo else ())
    probers = {e.name: f"{PREFIX}-{e.row.service}:{e.row.port}" for e in cfg.enabled_exporters() if e.row.prober}
    am_targets = [f"{PREFIX}-alertmanager:{ALERTMANAGER_PORT}"] if cfg.alertmanager.enabled else []
    p = cfg.prometheus
    text = render_prometheus_config(
        scrape_interval=p.scrape_interval, evaluation_interval=p.evaluation_interval,
        scrape_timeout=p.scrape_timeout, targets=targets, rule_files=[str(RULES_DIR / "*.yml")],
        alertmanager_targets=am_targets, external_labels={"environment": "dev", **p.external_labels},
        probers=probers, https=https_clients(cfg))
    scraped = {job["job_name"]: [t for c in job["static_configs"] for t in c["targets"]]
               for job in yaml.safe_load(text)["scrape_configs"]}
    expected = {job: [t["address"] if isinstance(t, dict) else t for t in targets[job]] for job in JOB_NAMES
                if job not in BY_NAME or not BY_NAME[job].prober or job in probers}
    assert scraped == {job: sorted_like(addresses, scraped.get(job, [])) for job, addresses in expected.items()
                       if addresses}
    return text


def sorted_like(addresses: list[str], rendered: list[str]) -> list[str]:
    # Unlabelled targets come first in the file, labelled ones after: same targets, that order.
    assert sorted(addresses) == sorted(rendered), (addresses, rendered)
    return rendered


def run(tool: list[str], directory: Path, name: str, text: str) -> None:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    result = subprocess.run([*tool, str(path)], capture_output=True, text=True, timeout=60, cwd=directory)
    assert result.returncode == 0, f"{' '.join(tool)} rejected:\n{text}\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool("promtool", "prometheus")


@pytest.fixture(scope="module")
def amtool() -> str:
    return require_tool("amtool", "prometheus-alertmanager")


EVERY_RECEIVER = [
    {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:5001/alerts?token=s3cr3t"},
    {"name": "hook.2", "type": "webhook",
     "url": "HTTPS://us%3Aer:p%40ss!$&'()*+,;=@[::ffff:10.0.0.1]:65535/a/b%2F?x=1&y=%7B#frag@/?"},
    {"name": "Z", "type": "webhook", "url": "http://_hooks_.int-1.example.:1/"},
    {"name": "mail", "type": "email", "to": "ops@example.com , dev@example.com,x@[::1]",
     "from": "Monitoring (dev) <alerts@example.com>", "smarthost": "[fd00:0:0:0:0:0:0:25]:65535",
     "auth_username": "alerts@example.com", "auth_password": "p@ss: 'w\"o#rd\n", "require_tls": "TRUE",
     "severities": ["warning", "critical"]},
    {"name": "mail-2", "type": "email", "to": "ops@example.com", "from": "Überwachung <alerts@example.com>",
     "smarthost": "smtp_relay-1.internal.:1", "require_tls": False},
    {"name": "mail_3", "type": "email", "to": "a@b", "from": "a@b", "smarthost": "0.0.0.0:25"},
    {"name": "slack", "type": "slack", "api_url": "https://hooks.slack.com/services/T000/B000/s3cr3t",
     "channel": "#alerts", "severities": ["warning"]},
    {"name": "slack-2", "type": "slack", "api_url": "http://[::1]:8080", "channel": "@on-call",
     "severities": json.dumps(["critical"])},
    {"name": "9" + "x" * 63, "type": "slack", "api_url": "https://a.b/c?d#e", "channel": "#" + "c" * 79},
]
LONG_HOST = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 253 characters


@given(raw=raw_configs())
@example(raw={"demo": True})
@example(raw={  # every upper bound, every receiver kind several times
    "tls": {"enabled": True}, "bindAddress": "::", "demo": False, "restartPolicy": "no", "network": "N" + "-" * 61 + "9",
    "grafana": {"port": 65535, "image": "registry-1.docker.io:443/grafana/grafana:12.2.0", "adminUser": "a" * 64,
                "rootUrl": "https://grafana.example.com:443/sub/path/", "plugins": ["grafana-clock-panel@2.1.8"],
                "memoryMb": 1_048_576},
    "grafanaAdminPassword": "correct horse battery staple",
    "prometheus": {"port": 1, "image": "prom/prometheus@sha256:" + "0" * 64, "retention": "100y",
                   "scrapeInterval": "1m15s", "evaluationInterval": "75000ms", "scrapeTimeout": "75s",
                   "memoryMb": "1048576"},
    "exporters": {"node": {"enabled": "False", "image": f"localhost:5000/prom/node-exporter:v1.10.2@sha256:{'a' * 64}"},
                  "postgres": {"image": "Registry.Example.COM:65535/a__b/c---d/postgres-exporter.x:_v0.18.1-rc.1"},
                  "nginx": {"scrapeUri": "http://user:pw@nginx:8080/stub_status"},
                  "celery": {"brokerUrl": "AMQPS://guest:guest@[fd00::7]:5671/%2Fvhost"},
                  "redis": {"address": "rediss://redis.internal:65535"}},
    "postgresDsn": "postgresql://user:p%40ss@db.internal:5432/app?sslmode=require",
    "redisPassword": "s3cr3t",
    "targets": {"django": ["[::1]:1", "[FD00:0:0:0:0:0:0:5]:65535", "0.0.0.0:8000", "_django_.svc-1.:8000",
                           f"{LONG_HOST}:8000", "[::ffff:192.0.2.1]:8000", "x:80"]},
    "alertmanager": {"enabled": True, "port": 9091, "image": f"[fd00::1]:5000/prom/alertmanager:latest@sha256:{'f' * 64}",
                     "receivers": EVERY_RECEIVER, "groupWait": "1h",
                     "groupInterval": "1d", "repeatInterval": "5d", "memoryMb": 32,
                     "heartbeat": {"url": "https://hc-ping.example.com/" + "u" * 200 + "?t=s3cr3t#x",
                                   "repeatInterval": "1d"}},
})
@example(raw={  # every lower bound and odd spellings of durations
    "demo": "true",
    "prometheus": {"retention": "2h", "scrapeInterval": "1s", "evaluationInterval": "1000ms"},
    "alertmanager": {"enabled": "true", "receivers": EVERY_RECEIVER[:1], "groupWait": "0s",
                     "groupInterval": "1s", "repeatInterval": "1m",
                     "heartbeat": {"url": "http://[::1]:1", "repeatInterval": "1s"}},
})
@example(raw={  # as Pulumi stores it: objects and lists as JSON text, scalars as text
    "demo": "True",
    "grafana": json.dumps({"port": "3001"}),
    "prometheus": json.dumps({"retention": "1y1w1d1h1m1s1ms", "scrapeInterval": "0h1m0s", "scrapeTimeout": "01s"}),
    "targets": json.dumps({"django": ["django:8000"]}),
    "alertmanager": json.dumps({"enabled": "TRUE", "receivers": EVERY_RECEIVER, "groupWait": "0",
                                "groupInterval": "0d24h", "repeatInterval": "4d23h59m59s999ms",
                                "heartbeat": json.dumps({"url": "HTTP://hc.example:8080/p", "repeatInterval": "1m1ms"})}),
})
@example(raw={  # intervals below the 10s default timeout: the timeout follows the interval
    "demo": True, "prometheus": {"scrapeInterval": "9s999ms"},
    "alertmanager": {"enabled": True, "receivers": json.dumps(EVERY_RECEIVER[3:6]), "groupWait": "59m60s"},
})
@settings(**SETTINGS)
def test_every_accepted_config_is_accepted_by_promtool_and_amtool(raw: dict[str, Any], promtool: str,
                                                                  amtool: str) -> None:
    try:
        # `exporters` as a secret: the strategies write credentials into exporter URLs, which the
        # model accepts only from a secret key (test_config.py covers the refusal).
        cfg = load_config(raw, secret_keys=[k for k in ("grafanaAdminPassword", "postgresDsn", "redisPassword",
                                                         "alertmanager", "exporters") if k in raw])
    except ConfigError as error:  # the strategy wrote a config the model rejects: fix the strategy
        pytest.fail(f"strategy bug, the model rejects:\n{json.dumps(raw, indent=1)}\n{error}")
    with tempfile.TemporaryDirectory() as directory:
        run([promtool, "check", "config"], Path(directory), "prometheus.yml", prometheus_yml(cfg))
        if cfg.alertmanager.enabled:
            text = render_alertmanager_config(cfg.alertmanager)
            run([amtool, "check-config"], Path(directory), "alertmanager.yml", text)
            assert_receivers_read_back(cfg, yaml.safe_load(text))
            assert_routes(amtool, Path(directory) / "alertmanager.yml", cfg)


def assert_receivers_read_back(cfg: StackConfig, rendered: dict[str, Any]) -> None:
    """Every value of every receiver reads back from the file exactly as configured: YAML must
    not fold a password's or a display name's characters (NEL, LS, PS are line breaks to it)."""
    mine = len(cfg.alertmanager.receivers)
    for receiver, written in zip(cfg.alertmanager.receivers, rendered["receivers"][:mine], strict=True):
        (settings,) = next(v for k, v in written.items() if k.endswith("_configs"))
        for key, value in receiver.model_dump(by_alias=True, exclude={"name", "type", "severities"}).items():
            if value is None:
                continue
            shown = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            assert settings[key] == shown, (receiver.name, key)
    beat = cfg.alertmanager.heartbeat
    extra = {r["name"]: r.get("webhook_configs") for r in rendered["receivers"][mine:]}
    assert extra == {"null": None, **({} if beat is None else {"heartbeat": [
        {"url": beat.url.get_secret_value(), "send_resolved": False}]})}


def assert_routes(amtool: str, path: Path, cfg: StackConfig) -> None:
    """Real amtool resolves each severity to the receivers that list it, the Watchdog to the
    heartbeat (or the null receiver) alone."""
    def receivers_of(**labels: str) -> set[str]:
        result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={path}",
                                 *(f"{k}={v}" for k, v in labels.items())], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        return set(result.stdout.strip().split(","))

    am = cfg.alertmanager
    for severity in SEVERITIES:
        expected = {r.name for r in am.receivers if severity in r.severities}
        assert receivers_of(alertname="Any", severity=severity, instance="i") == expected, severity
    assert receivers_of(alertname="Watchdog", severity="none") == {"null" if am.heartbeat is None else "heartbeat"}


def test_the_tool_checks_can_fail(tmp_path: Path, promtool: str, amtool: str) -> None:
    """Negative control: a file each tool rejects fails `run`, so the property is not vacuous."""
    too_long = render_prometheus_config(scrape_interval="15s", evaluation_interval="15s", scrape_timeout="20s",
                                        targets={"node": ["n:9100"]})
    with pytest.raises(AssertionError, match="timeout"):
        run([promtool, "check", "config"], tmp_path, "prometheus.yml", too_long)
    cfg = load_config({"demo": True, "alertmanager": {"enabled": True, "receivers": EVERY_RECEIVER[:1]}})
    zero = render_alertmanager_config(cfg.alertmanager).replace("group_interval: 5m", "group_interval: 0s")
    assert "group_interval: 0s" in zero
    with pytest.raises(AssertionError, match="group_interval"):
        run([amtool, "check-config"], tmp_path, "alertmanager.yml", zero)
