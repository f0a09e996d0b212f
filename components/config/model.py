"""The stack config model: every `monitoring:*` key, its type, its default and its checks.

pydantic v2 models with camelCase aliases (the keys people type) and `extra="forbid"`.
Defaults live here once: Pulumi mocks do not apply `Pulumi.yaml` defaults, and the README's
config table and `Pulumi.yaml`'s `config:` block are generated from (and tested against)
these models. Cross-field rules are field validators that read the fields before them, so
every problem is reported in one pass. Plain Python: no Pulumi import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from components.exporters.table import BY_NAME, EXPORTER_MODELS, EXPORTER_NAMES, EXPORTERS, ExporterConfig
from components.thresholds import RULE_WINDOW, SAMPLES_PER_WINDOW
from components.types import (
    HTTP,
    DurationRange,
    Flag,
    HostPort,
    ImageRef,
    IPAddress,
    LabelName,
    LabelValue,
    NotAllowed,
    Port,
    UrlKind,
    WholeNumber,
    check_host_port,
    duration_ms,
    has_credentials,
    is_loopback,
    megabytes,
    not_allowed,
    parse_flag,
    parse_host,
    parse_ip,
    parse_label_name,
    parse_label_value,
    parse_network_name,
    pattern,
    url_host,
)
from components.types import (
    ConfigObject as Model,
)

NAMESPACE = "monitoring"
MIN_PASSWORD_LENGTH = 12
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
_MAX_INTERVAL = f"{duration_ms(RULE_WINDOW) // SAMPLES_PER_WINDOW // 1000}s"
_INTERVAL_WHY = (f" (the rules' fixed {RULE_WINDOW} windows must hold at least {SAMPLES_PER_WINDOW} samples)")


def cross_field(key: str, value: Any, allowed: str) -> PydanticCustomError:
    """A problem found on `key` of the model being validated (the field validator's own
    field is the parent): the error formatter appends `key` and shows `value`."""
    return PydanticCustomError("cross_field", allowed.replace("{", "(").replace("}", ")"),
                               {"key": key, "value": value})


def _first_repeat(values: Iterable[Hashable]) -> int | None:
    """Index of the first value equal to an earlier one, or None (a set: slices were quadratic)."""
    seen: set[Hashable] = set()
    for index, value in enumerate(values):
        if value in seen:
            return index
        seen.add(value)
    return None


def _json_text(value: Any) -> Any:
    # Pulumi stores an object or list config value as JSON text.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise not_allowed("a JSON object (or list), as `pulumi config set --path` writes it") from None
    return value


def _an_object(value: Any) -> Any:
    value = _json_text(value)
    if not isinstance(value, dict) and not isinstance(value, BaseModel):
        raise not_allowed("an object")
    return value


def _a_list(value: Any) -> Any:
    value = _json_text(value)
    if not isinstance(value, (list, tuple)):
        raise not_allowed("a list")
    return value


def _a_non_empty_list(value: Any) -> Any:
    value = _json_text(value)
    if not isinstance(value, (list, tuple)) or not value:
        raise not_allowed("a non-empty list")
    return value


class _Optional:
    """Lets None (not given) through and checks anything else."""

    def __init__(self, check: Any):
        self.check = check

    def __call__(self, value: Any) -> Any:
        return None if value is None else self.check(value)


def optional(check: Any) -> Any:
    return BeforeValidator(_Optional(check))


def _secret(check: Any = None, minimum: int = 1, allowed: str = "a non-empty string") -> Any:
    def parse(value: Any) -> SecretStr | None:
        if value is None:
            return None
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str) or len(value) < minimum:
            raise not_allowed(f"{allowed} set with `pulumi config set --secret`")
        if check is not None:
            check(value)
        return SecretStr(value)
    return BeforeValidator(parse)


# --- Grafana -----------------------------------------------------------------------------

_PLUGIN = pattern(r"[a-z0-9][a-z0-9-]*@[0-9][A-Za-z0-9_.-]*",
                  "a plugin id pinned to a version, such as grafana-clock-panel@2.1.8")
_USER = pattern(r"[A-Za-z0-9._@-]{1,64}", "a user name: letters, digits, . _ @ - (at most 64)")


class BasicAuth(Model):
    username: Annotated[str, BeforeValidator(_USER)]
    password: Annotated[SecretStr, _secret()]


class LongTermDataSource(Model):
    """A second Prometheus-type data source in Grafana, on the long-term store remote write feeds."""

    url: Annotated[str, BeforeValidator(HTTP)]
    basic_auth: BasicAuth | None = None


class GrafanaConfig(Model):
    port: Port = Field(3000, description="Host port Grafana is published on.")
    image: ImageRef = Field("grafana/grafana:12.2.0", description="Pinned image: an exact tag or a digest.")
    admin_user: Annotated[str, BeforeValidator(_USER)] = Field("admin", description="Admin user name.")
    root_url: Annotated[str | None, optional(HTTP)] = Field(
        None, json_schema_extra={"default_text": "`http://<bindAddress>:<port>/`"},
        description="Public URL people open (also the base of `dashboardUrls`).")
    api_url: Annotated[str | None, optional(HTTP)] = Field(
        None, json_schema_extra={"default_text": "the published port on `bindAddress` (loopback for a wildcard)"},
        description="Where this program reaches Grafana's API. Set it when `pulumi up` runs away from the Docker "
                    "host, e.g. `http://127.0.0.1:13000` through the SSH forward of `scripts/grafana_tunnel.py`.")
    long_term: LongTermDataSource | None = Field(
        None, description="A second Prometheus-type data source for the long-term store (its query URL, "
                          "`basicAuth`): every dashboard's data source variable switches to it.")
    plugins: Annotated[tuple[Annotated[str, BeforeValidator(_PLUGIN)], ...], BeforeValidator(_a_list)] = Field(
        (), description="Plugins to install, each pinned as `id@version` (`GF_PLUGINS_PREINSTALL`).")
    memory_mb: Annotated[int, megabytes(128)] = Field(512, description="Memory limit of the container, MB.")

    @property
    def public_url(self) -> str:
        assert self.root_url is not None, "filled in by StackConfig"
        return self.root_url


# --- Prometheus --------------------------------------------------------------------------

DEFAULT_SCRAPE_TIMEOUT = "10s"

# RE2 (Go's regexp, what Prometheus compiles) has no lookaround and no backreferences.
_RE2_ONLY_HELP = "a regular expression Go's RE2 accepts (no lookaround, no backreferences)"


def _re2_regex(value: Any) -> str:
    if not isinstance(value, str) or re.search(r"\(\?<?[=!]|\(\?P=|\\[1-9]", value):
        raise not_allowed(_RE2_ONLY_HELP)
    try:
        re.compile(value)
    except re.error:
        raise not_allowed(_RE2_ONLY_HELP) from None
    return value


class WriteRelabel(Model):
    """One write relabelling step, as Prometheus' `write_relabel_configs` takes it."""

    source_labels: tuple[Annotated[str, BeforeValidator(pattern(r"__name__|[a-zA-Z_][a-zA-Z0-9_]*",
                                                                "a label name"))], ...] = ()
    regex: Annotated[str, BeforeValidator(_re2_regex)] = "(.*)"
    action: Literal["keep", "drop", "replace", "labeldrop", "labelkeep"] = "replace"
    target_label: Annotated[str | None, optional(parse_label_name)] = None
    replacement: Annotated[str | None, optional(parse_label_value)] = None


def _url_without_credentials(value: Any) -> str:
    url = HTTP(value)
    if has_credentials(url):
        raise not_allowed("an http:// or https:// URL without credentials in it (prometheus.yml is not a "
                          "secret): use basicAuth or bearerToken")
    return url


class RemoteWrite(Model):
    """A long-term or central store Prometheus sends every series to (`remote_write`)."""

    url: Annotated[str, BeforeValidator(_url_without_credentials)]
    basic_auth: BasicAuth | None = None
    bearer_token: Annotated[SecretStr | None, _secret()] = None
    headers: dict[Annotated[str, BeforeValidator(pattern(r"[A-Za-z0-9-]{1,64}", "an HTTP header name"))],
                  LabelValue] = Field(default_factory=dict)
    write_relabel_configs: tuple[WriteRelabel, ...] = ()

    @field_validator("bearer_token")
    @classmethod
    def _one_kind_of_auth(cls, token: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if token is not None and info.data.get("basic_auth") is not None:
            raise not_allowed("basicAuth or bearerToken, not both")
        return token


_RUNBOOK_URL_HELP = (f"{HTTP.help}: the runbook document's URL, without a #fragment (each alert adds "
                     f"#<alert name>) and without credentials (rule files and notifications are not secret)")


def _runbook_url(value: Any) -> str:
    try:
        url = HTTP(value)
    except PydanticCustomError:
        raise not_allowed(_RUNBOOK_URL_HELP) from None
    if "#" in url or has_credentials(url):
        raise not_allowed(_RUNBOOK_URL_HELP)
    return url


class PrometheusConfig(Model):
    port: Port = Field(9090, description="Host port Prometheus is published on.")
    user: Annotated[str, BeforeValidator(_USER)] = Field(
        "prometheus", description="Basic auth user of Prometheus' port when `tls.enabled` (password: "
                                  "`prometheusPassword`).")
    image: ImageRef = Field("prom/prometheus:v3.7.3", description="Pinned image: an exact tag or a digest.")
    retention: Annotated[str, BeforeValidator(DurationRange("2h", "100y"))] = Field(
        "15d", description="How long the TSDB keeps samples (`--storage.tsdb.retention.time`).")
    scrape_interval: Annotated[str, BeforeValidator(DurationRange("1s", _MAX_INTERVAL, _INTERVAL_WHY))] = Field(
        "15s", description="Global scrape interval, also the data source's `timeInterval`; short enough that "
                           f"the rules' {RULE_WINDOW} windows hold {SAMPLES_PER_WINDOW} samples.")
    evaluation_interval: Annotated[str, BeforeValidator(DurationRange("1s", _MAX_INTERVAL, _INTERVAL_WHY))] = Field(
        "15s", description="Rule evaluation interval.")
    scrape_timeout: Annotated[str, BeforeValidator(DurationRange("1s", _MAX_INTERVAL))] = Field(
        None, validate_default=True,
        json_schema_extra={"default_text": "`10s` (the interval, if shorter)"},
        description="Scrape timeout, at most the scrape interval.")
    memory_mb: Annotated[int, megabytes(256)] = Field(1024, description="Memory limit of the container, MB.")
    # Grafana's data proxy gives up after 30 s: a query still running past that burns CPU for nobody.
    query_timeout: Annotated[str, BeforeValidator(DurationRange("1s", "10m"))] = Field(
        "30s", description="Longest a query may run before Prometheus cancels it (`--query.timeout`); Grafana's "
                           "data proxy stops waiting at 30s. See [Query limits](#query-limits-and-memory).")
    # About 16 bytes a sample: 10M is ~160 MB, 25x the largest dashboard query at 7 days x 20 hosts (make bench-scale),
    # and an ad-hoc query stopped at it leaves the default 1024 MB limit room for everything else.
    query_max_samples: Annotated[int, BeforeValidator(WholeNumber(1_000_000, 1_000_000_000))] = Field(
        10_000_000, description="Most samples one query may hold in memory at once (`--query.max-samples`); "
                                "about 16 bytes each. See [Query limits](#query-limits-and-memory).")
    query_max_concurrency: Annotated[int, BeforeValidator(WholeNumber(1, 200))] = Field(
        20, description="Queries run at once (`--query.max-concurrency`); more wait in line, they are not "
                        "refused. See [Query limits](#query-limits-and-memory).")
    remote_write: Annotated[tuple[RemoteWrite, ...], BeforeValidator(_a_list)] = Field(
        (), description="Long-term or central stores to send every series to (`remote_write`): `url`, "
                        "`basicAuth` {username, password} or `bearerToken` (secrets), `headers`, "
                        "`writeRelabelConfigs`. See [From one host to a fleet](#from-one-host-to-a-fleet).")
    external_labels: dict[LabelName, LabelValue] = Field(
        default_factory=dict, json_schema_extra={"default_text": "`{\"environment\": \"<stack name>\"}`"},
        description="Labels on every alert and remote-written series (`external_labels`); `environment` "
                    "is the stack name unless given here.")
    runbook_url: Annotated[str | None, optional(_runbook_url)] = Field(
        None, json_schema_extra={"default_text": "none: alerts name the section as `docs/runbooks.md#<alert>`"},
        description="Where people read `docs/runbooks.md` (its page on your Git host, e.g. "
                    "`https://github.com/acme/monitoring/blob/main/docs/runbooks.md`): each alert's `runbook_url` "
                    "is this plus `#<alert name in lower case>`. See "
                    "[Alert links](#alert-links-runbooks-dashboards-annotations).")

    @field_validator("scrape_timeout", mode="before")
    @classmethod
    def _default_timeout(cls, timeout: Any, info: ValidationInfo) -> Any:
        interval = info.data.get("scrape_interval")
        if timeout is None and interval is not None and duration_ms(interval) < duration_ms(DEFAULT_SCRAPE_TIMEOUT):
            return interval
        return DEFAULT_SCRAPE_TIMEOUT if timeout is None else timeout

    @field_validator("scrape_timeout")
    @classmethod
    def _timeout_within_interval(cls, timeout: str, info: ValidationInfo) -> str:
        interval = info.data.get("scrape_interval")
        if interval is not None and duration_ms(timeout) > duration_ms(interval):
            raise not_allowed(f"a duration no longer than prometheus.scrapeInterval ({interval})")
        return timeout


# --- exporters ---------------------------------------------------------------------------

class ExportersBase(Model):
    def __getitem__(self, name: str) -> ExporterConfig:
        value: ExporterConfig = getattr(self, name)
        return value

    def all(self) -> list[ExporterConfig]:
        return [self[row.name] for row in EXPORTERS]

    def enabled(self) -> list[ExporterConfig]:
        return [e for e in self.all() if e.enabled]


if TYPE_CHECKING:
    ExportersConfig = ExportersBase
else:
    ExportersConfig = create_model(
        "ExportersConfig", __base__=ExportersBase,
        **{name: (Annotated[model, BeforeValidator(_an_object)], Field(model(), alias=name))
           for name, model in EXPORTER_MODELS.items()})


# --- targets -----------------------------------------------------------------------------

def _target_object(value: Any) -> Any:
    # `host:port` alone is the short form of {"address": "host:port"} (checked here, so a bad one
    # is named by its place in the list).
    return {"address": check_host_port(value)} if isinstance(value, str) else _an_object(value)


class ScrapeTarget(Model):
    """One more `host:port` for a fixed job, with optional labels (`host`, `role`, ...)."""

    address: HostPort
    labels: dict[LabelName, LabelValue] = Field(default_factory=dict)

    @property
    def instance(self) -> str:
        """A readable `instance`: the one given, else `<host label>:<port>`, else the address."""
        if "instance" in self.labels:
            return self.labels["instance"]
        if "host" in self.labels:
            return f"{self.labels['host']}:{self.address.rsplit(':', 1)[1]}"
        return self.address

    def rendered_labels(self) -> dict[str, str]:
        """The labels Prometheus attaches: the given ones, and `instance` when it is not the address."""
        labels = dict(self.labels)
        if self.instance != self.address:
            labels["instance"] = self.instance
        return labels


Target = Annotated[ScrapeTarget, BeforeValidator(_target_object)]

PROBE_URL_HELP = ("an http:// or https:// URL to probe, without credentials (it is written in plain text "
                  "into prometheus.yml)")


def _probe_url(value: Any) -> str:
    url = UrlKind(HTTP.schemes, "URL to probe")(value)
    if has_credentials(url):
        raise not_allowed(PROBE_URL_HELP)
    return url


class ProbeTarget(Model):
    """One URL a prober (blackbox_exporter) checks, with optional labels; its instance is the URL."""

    url: Annotated[str, BeforeValidator(_probe_url)]
    labels: dict[LabelName, LabelValue] = Field(default_factory=dict)

    @property
    def address(self) -> str:
        return self.url

    @property
    def instance(self) -> str:
        return self.labels.get("instance", self.url)

    def rendered_labels(self) -> dict[str, str]:
        # Always the instance: the scrape's address becomes the prober's, which must not name it.
        return {**self.labels, "instance": self.instance}


def _probe_object(value: Any) -> Any:
    return {"url": value} if isinstance(value, str) else _an_object(value)


ProbeEntry = Annotated[ProbeTarget, BeforeValidator(_probe_object)]


class TargetsBase(Model):
    def of(self, job: str) -> tuple[ScrapeTarget | ProbeTarget, ...]:
        found: tuple[ScrapeTarget | ProbeTarget, ...] = getattr(self, job)
        return found


def _unique_instances(targets: tuple[Any, ...]) -> tuple[Any, ...]:
    index = _first_repeat(t.instance for t in targets)
    if index is not None:
        raise cross_field(f"[{index}]", targets[index].address,
                          f"a target whose instance ({targets[index].instance}) no other target of the job has")
    return targets


if TYPE_CHECKING:
    TargetsConfig = TargetsBase
else:
    TargetsConfig = create_model(
        "TargetsConfig", __base__=TargetsBase,
        django=(Annotated[tuple[Target, ...], BeforeValidator(_a_non_empty_list), AfterValidator(_unique_instances)],
                Field(("django:8000",), validate_default=True,
                      description="Each Django process exposing `/metrics`: `host:port`, or "
                                  "`{address, labels}` (a `host` label names the instance).")),
        **{name: (Annotated[tuple[Target, ...], BeforeValidator(_a_list), AfterValidator(_unique_instances)],
                  Field((), alias=name, description=f"More `{name}` targets beyond the stack's own exporter "
                                                    "(other hosts, servers): `host:port` or `{address, labels}`."))
           for name in EXPORTER_NAMES if BY_NAME[name].prober is None},
        **{name: (Annotated[tuple[ProbeEntry, ...], BeforeValidator(_a_list), AfterValidator(_unique_instances)],
                  Field((), alias=name, description=f"URLs the `{name}` prober checks (answer, latency, "
                                                    "certificate expiry): a URL or `{url, labels}`."))
           for name in EXPORTER_NAMES if BY_NAME[name].prober is not None})


# --- Alertmanager ------------------------------------------------------------------------

_RECEIVER_NAME = pattern(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
                         "a name of letters, digits, '_', '.' or '-', starting with a letter or digit")
_ADDRESS = r"[^@\s<>,\"]+@[^@\s<>,\"]+"
_EMAIL_TO = pattern(rf"{_ADDRESS}(?:\s*,\s*{_ADDRESS})*", "one email address, or several separated by commas")
_EMAIL_FROM = pattern(rf"{_ADDRESS}|[^<>\"\n]+ <{_ADDRESS}>",
                      "an email address such as alerts@example.com or 'Alerts <alerts@example.com>'")
_CHANNEL = pattern(r"[^\s]{1,80}", "a Slack channel such as #alerts (no spaces)")
SecretHttpUrl = Annotated[SecretStr, _secret(HTTP, allowed="an http:// or https:// URL")]


# The `severity` labels of rules/alerts.yml a receiver can ask for (the Watchdog's `none` goes
# only to the heartbeat).
SEVERITIES = ("critical", "warning")
# Receivers of the Watchdog's route, rendered by components/alertmanager/config.py.
RESERVED_RECEIVER_NAMES = ("heartbeat", "null")


def _receiver_name(value: Any) -> str:
    name = _RECEIVER_NAME(value)
    if name in RESERVED_RECEIVER_NAMES:
        raise not_allowed(f"a name other than {' and '.join(RESERVED_RECEIVER_NAMES)} (kept for the Watchdog's "
                          "routes)")
    return name


def _severity(value: Any) -> str:
    if value not in SEVERITIES:
        raise not_allowed(f"one of {', '.join(SEVERITIES)} (the severity labels of rules/alerts.yml)")
    return str(value)


def _severity_list(value: Any) -> Any:
    allowed = (f"a non-empty list of severities from {', '.join(SEVERITIES)}, such as [\"critical\"] "
               "(`pulumi config set --path '...severities[0]' critical`)")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise not_allowed(allowed) from None
    if not isinstance(value, (list, tuple)) or not value:
        raise not_allowed(allowed)
    return value


def _distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    index = _first_repeat(values)
    if index is not None:
        raise cross_field(f"[{index}]", values[index], "a severity not already listed")
    return values


class Receiver(BaseModel):
    # Receiver keys are Alertmanager's own (snake_case), as people copy them from its docs.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    name: Annotated[str, BeforeValidator(_receiver_name)]
    # Which alerts it gets, by their `severity` label: a pager critical only, a chat channel warnings.
    severities: Annotated[tuple[Annotated[str, BeforeValidator(_severity)], ...],
                          BeforeValidator(_severity_list), AfterValidator(_distinct)] = SEVERITIES


class WebhookReceiver(Receiver):
    type: Literal["webhook"]
    url: SecretHttpUrl


class EmailReceiver(Receiver):
    type: Literal["email"]
    to: Annotated[str, BeforeValidator(_EMAIL_TO)]
    from_: Annotated[str, BeforeValidator(_EMAIL_FROM)] = Field(alias="from")
    smarthost: HostPort
    auth_username: Annotated[str | None, optional(_USER)] = None
    auth_password: Annotated[SecretStr | None, _secret()] = Field(None, validate_default=True)
    require_tls: Annotated[bool | None, optional(parse_flag)] = None

    @field_validator("auth_password")
    @classmethod
    def _credentials_together(cls, password: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if "auth_username" in info.data and (password is None) != (info.data["auth_username"] is None):
            raise not_allowed("auth_username and auth_password, both or neither")
        return password


class SlackReceiver(Receiver):
    type: Literal["slack"]
    api_url: SecretHttpUrl
    channel: Annotated[str, BeforeValidator(_CHANNEL)]


RECEIVER_TYPES = ("webhook", "email", "slack")
AnyReceiver = Annotated[WebhookReceiver | EmailReceiver | SlackReceiver, Field(discriminator="type")]


def _unique_names(receivers: tuple[Receiver, ...]) -> tuple[Receiver, ...]:
    index = _first_repeat(r.name for r in receivers)
    if index is not None:
        raise cross_field(f"[{index}].name", receivers[index].name, "a name no other receiver has")
    return receivers


def _every_severity_received(receivers: tuple[Receiver, ...]) -> tuple[Receiver, ...]:
    # The root route's receiver is the null one: a severity no receiver lists would be dropped unseen.
    for severity in SEVERITIES:
        if receivers and not any(severity in r.severities for r in receivers):
            listed = "; ".join(f"{r.name}: {', '.join(r.severities)}" for r in receivers)
            raise not_allowed(f"receivers that together list every severity ({', '.join(SEVERITIES)}): none "
                              f"lists {severity} ({listed}), so {severity} alerts would reach nobody; add it "
                              f"to some receiver's severities")
    return receivers


class HeartbeatConfig(Model):
    """Where the always-firing Watchdog alert goes, again and again: a dead man's switch service
    (healthchecks.io, Dead Man's Snitch, ...) that raises the alarm when the pings stop."""

    url: SecretHttpUrl = Field(
        json_schema_extra={"default_text": "none: no heartbeat, the Watchdog alert is dropped"},
        description="Dead man's switch URL (it usually carries a token): gets the always-firing Watchdog alert "
                    "as a webhook, and nothing else does (see [Heartbeat](#heartbeat-dead-mans-switch)).")
    repeat_interval: Annotated[str, BeforeValidator(DurationRange("1s", "1d"))] = Field(
        "1m", description="How often the Watchdog is sent to `url` while the alerting pipeline works.")


class AlertmanagerConfig(Model):
    enabled: Flag = Field(False, description="Run Alertmanager and send Prometheus' alerts to it.")
    port: Port = Field(9093, description="Host port Alertmanager is published on.")
    user: Annotated[str, BeforeValidator(_USER)] = Field(
        "alertmanager", description="Basic auth user of Alertmanager's port when `tls.enabled` (password: "
                                    "`alertmanagerPassword`).")
    image: ImageRef = Field("prom/alertmanager:v0.28.1", description="Pinned image: an exact tag or a digest.")
    receivers: Annotated[tuple[AnyReceiver, ...], BeforeValidator(_a_list), AfterValidator(_unique_names),
                         AfterValidator(_every_severity_received)] = Field(
        (), validate_default=True,
        description="Webhook, email or Slack receivers, each with the `severities` it gets (see "
                    "[Configuring receivers](#configuring-receivers)); at least one when enabled.")
    heartbeat: Annotated[HeartbeatConfig | None, optional(_an_object)] = None
    memory_mb: Annotated[int, megabytes(32)] = Field(256, description="Memory limit of the container, MB.")
    group_wait: Annotated[str, BeforeValidator(DurationRange("0s", "1h"))] = Field(
        "30s", description="Wait before the first notification of a new group.")
    group_interval: Annotated[str, BeforeValidator(DurationRange("1s", "1d"))] = Field(
        "5m", description="Wait before notifying about new alerts of a group.")
    # Alertmanager forgets sent notifications after its 120h data retention: longer is never honoured.
    repeat_interval: Annotated[str, BeforeValidator(DurationRange("1m", "5d"))] = Field(
        "4h", description="Wait before repeating a notification.")

    @field_validator("receivers")
    @classmethod
    def _receivers_when_enabled(cls, receivers: tuple[Receiver, ...], info: ValidationInfo) -> tuple[Receiver, ...]:
        if info.data.get("enabled") and not receivers:
            raise not_allowed("a list of at least one receiver while alertmanager.enabled is true")
        return receivers


# --- TLS and authentication ----------------------------------------------------------------

_PEM_BODY = r"[A-Za-z0-9+/=\r\n]+"
_CERTIFICATE_PEM = re.compile(rf"\s*(?:-----BEGIN CERTIFICATE-----\r?\n{_PEM_BODY}-----END CERTIFICATE-----\s*)+")
_KEY_PEM = re.compile(rf"\s*-----BEGIN ((?:EC |RSA )?)PRIVATE KEY-----\r?\n{_PEM_BODY}-----END \1PRIVATE KEY-----\s*")
_CERTIFICATE_HELP = "PEM certificates (-----BEGIN CERTIFICATE----- ...), the server's first, then its intermediates"
_KEY_HELP = "a PEM private key (PKCS#8, EC or RSA: -----BEGIN PRIVATE KEY----- ...), unencrypted"


def _certificate_pem(value: Any) -> str:
    if not isinstance(value, str) or not _CERTIFICATE_PEM.fullmatch(value):
        raise not_allowed(_CERTIFICATE_HELP)
    return value


def _key_pem(value: Any) -> str:
    if not isinstance(value, str) or not _KEY_PEM.fullmatch(value):
        raise not_allowed(f"{_KEY_HELP} set with `pulumi config set --secret`")
    return value


_TLS_HOST_HELP = "a DNS name or an IP address the generated certificate also names, such as monitoring.internal"


def _tls_host(value: Any) -> str:
    try:
        return str(parse_ip(value))
    except NotAllowed:
        host = parse_host(value, _TLS_HOST_HELP)
        if host.startswith("[") or host.endswith("."):
            raise not_allowed(_TLS_HOST_HELP) from None
        return host


class TlsConfig(Model):
    """https on every published port, basic auth on Prometheus' and Alertmanager's."""

    enabled: Flag = Field(
        False, description="Serve Prometheus, Alertmanager and Grafana over https, with basic auth on Prometheus "
                           "and Alertmanager (see [Serving beyond loopback](#serving-beyond-loopback)); "
                           "required for a `bindAddress` other than loopback.")
    certificate: Annotated[SecretStr | None, _secret(_certificate_pem, allowed=_CERTIFICATE_HELP)] = Field(
        None, json_schema_extra={"default_text": "generated: a CA and a server certificate (pulumi-tls)"},
        description="Your own server certificate (PEM, with its chain), instead of the generated one.")
    private_key: Annotated[SecretStr | None, _secret(_key_pem, allowed=_KEY_HELP)] = Field(
        None, validate_default=True, json_schema_extra={"default_text": "generated with the certificate"},
        description="The private key of `certificate` (secret).")
    ca_certificate: Annotated[str | None, optional(_certificate_pem)] = Field(
        None, validate_default=True, json_schema_extra={"default_text": "the generated CA"},
        description="With your own `certificate`: the CA that issued it (PEM), which the stack's own clients "
                    "(Prometheus, Grafana's data source, the healthchecks) trust.")
    server_name: Annotated[str | None, optional(lambda v: parse_host(v, _TLS_HOST_HELP))] = Field(
        None, json_schema_extra={"default_text": "each server's container name"},
        description="The name the stack's own clients check the certificate against; set it to a DNS name of "
                    "your own `certificate` (the generated one names every container).")
    hosts: Annotated[tuple[Annotated[str, BeforeValidator(_tls_host)], ...], BeforeValidator(_a_list)] = Field(
        (), description="More DNS names or IP addresses the generated certificate names (the host's name and LAN "
                        "address, when `bindAddress` is a wildcard).")

    @field_validator("private_key")
    @classmethod
    def _key_with_certificate(cls, key: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if "certificate" in info.data and (key is None) != (info.data["certificate"] is None):
            raise not_allowed("certificate and privateKey, both or neither")
        return key

    @field_validator("ca_certificate")
    @classmethod
    def _ca_with_certificate(cls, ca: str | None, info: ValidationInfo) -> str | None:
        certificate = info.data.get("certificate")
        if certificate is not None and ca is None:
            raise not_allowed("the PEM CA certificate that issued tls.certificate (the stack's own clients "
                              "verify the server with it)")
        if certificate is None and ca is not None and "certificate" in info.data:
            raise not_allowed("no caCertificate without your own certificate (the generated CA is used)")
        return ca


# --- the stack ---------------------------------------------------------------------------

_POSTGRES_DSN = pattern(r"postgres(?:ql)?://\S+", "a URL of the form postgresql://user:password@host:5432/db?sslmode=...")


BIND_NEEDS_TLS = ("a loopback address (127.0.0.1 or ::1) while tls.enabled is false: beyond loopback the ports need "
                  "TLS and authentication; turn them on with `pulumi config set --path tls.enabled true` (see "
                  "Serving beyond loopback in the README)")


class StackConfig(Model):
    tls: Annotated[TlsConfig, BeforeValidator(_an_object)] = Field(
        TlsConfig(), validate_default=True, description="https and basic auth on the published ports.")
    bind_address: IPAddress = Field(
        "127.0.0.1", description="Host address every published port binds to (an IP address, kept in canonical "
                                 "form); beyond loopback only with `tls.enabled`.")
    network: Annotated[str | None, optional(parse_network_name)] = Field(
        None, json_schema_extra={"default_text": "none: the stack creates `monitoring-<stack>-net`"},
        description="Name of an existing user-defined Docker network to join instead (looked up at preview); "
                    "not `bridge`, `host` or `none`.")
    demo: Flag = Field(False, json_schema_extra={"default_text": "`false` (`true` in `Pulumi.dev.yaml`)"},
                       description="Also run the demo workload; exporters and the `django` target then point at it.")
    restart_policy: Literal["no", "on-failure", "always", "unless-stopped"] = Field(
        "unless-stopped",
        description="Restart policy of every container: `no`, `on-failure`, `always`, `unless-stopped`.")
    grafana: Annotated[GrafanaConfig, BeforeValidator(_an_object)] = Field(
        GrafanaConfig(), validate_default=True, description="Grafana server settings.")
    grafana_admin_password: Annotated[SecretStr | None, _secret(
        minimum=MIN_PASSWORD_LENGTH, allowed=f"a password of at least {MIN_PASSWORD_LENGTH} characters")] = Field(
        None, json_schema_extra={"default_text": "generated (pulumi-random, 32 characters), exported as a secret"},
        description=f"Grafana admin password, at least {MIN_PASSWORD_LENGTH} characters.")
    prometheus: Annotated[PrometheusConfig, BeforeValidator(_an_object)] = Field(
        PrometheusConfig(), validate_default=True, description="Prometheus server settings.")
    exporters: Annotated[ExportersConfig, BeforeValidator(_an_object)] = Field(
        ExportersConfig(), description="One entry per exporter: " + ", ".join(r.name for r in EXPORTERS) + ".")
    postgres_dsn: Annotated[SecretStr | None, _secret(_POSTGRES_DSN, allowed="a postgresql:// DSN")] = Field(
        None, validate_default=True, json_schema_extra={"default_text": "none (demo: the demo database)"},
        description="DSN for postgres_exporter (postgresql://user:password@host:5432/db?sslmode=...); "
                    "required when it is enabled outside demo mode.")
    redis_password: Annotated[SecretStr | None, _secret()] = Field(
        None, json_schema_extra={"default_text": "none (demo: the demo Redis password)"},
        description="Password redis_exporter logs in to Redis with.")
    targets: Annotated[TargetsConfig, BeforeValidator(_an_object)] = Field(
        TargetsConfig(), description="Where the monitored app is.")
    alertmanager: Annotated[AlertmanagerConfig, BeforeValidator(_an_object)] = Field(
        AlertmanagerConfig(), validate_default=True, description="Alertmanager and its receivers.")
    prometheus_password: Annotated[SecretStr | None, _secret(
        minimum=MIN_PASSWORD_LENGTH, allowed=f"a password of at least {MIN_PASSWORD_LENGTH} characters")] = Field(
        None, json_schema_extra={"default_text": "generated (pulumi-random, 32 characters) when `tls.enabled`, "
                                                 "exported as a secret"},
        description="Basic auth password of `prometheus.user` (stored as a bcrypt hash in the web config).")
    alertmanager_password: Annotated[SecretStr | None, _secret(
        minimum=MIN_PASSWORD_LENGTH, allowed=f"a password of at least {MIN_PASSWORD_LENGTH} characters")] = Field(
        None, json_schema_extra={"default_text": "generated (pulumi-random, 32 characters) when `tls.enabled` and "
                                                 "Alertmanager is on, exported as a secret"},
        description="Basic auth password of `alertmanager.user`.")

    @field_validator("bind_address")
    @classmethod
    def _beyond_loopback_needs_tls(cls, bind: str, info: ValidationInfo) -> str:
        tls = info.data.get("tls")
        if tls is not None and not tls.enabled and not is_loopback(bind):
            raise not_allowed(BIND_NEEDS_TLS)
        return bind

    @field_validator("prometheus_password", "alertmanager_password")
    @classmethod
    def _password_needs_tls(cls, password: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        tls = info.data.get("tls")
        if password is not None and tls is not None and not tls.enabled:
            raise not_allowed("no password while tls.enabled is false (basic auth is turned on with TLS, so that "
                              "the password never crosses the network in clear)")
        return password

    @field_validator("grafana")
    @classmethod
    def _grafana_root_url(cls, grafana: GrafanaConfig, info: ValidationInfo) -> GrafanaConfig:
        if grafana.root_url is not None:
            return grafana
        bind = info.data.get("bind_address", "127.0.0.1")
        tls = info.data.get("tls")
        scheme = "https" if tls is not None and tls.enabled else "http"
        return grafana.model_copy(update={"root_url": f"{scheme}://{url_host(bind)}:{grafana.port}/"})

    @field_validator("prometheus", "alertmanager")
    @classmethod
    def _one_service_per_host_port(cls, server: PrometheusConfig | AlertmanagerConfig,
                                   info: ValidationInfo) -> PrometheusConfig | AlertmanagerConfig:
        if isinstance(server, AlertmanagerConfig) and not server.enabled:
            return server
        for other in ("grafana", "prometheus"):
            published = info.data.get(other)
            if published is not None and published.port == server.port:
                raise cross_field("port", server.port, f"a host port not already used by {other}.port")
        return server

    @field_validator("exporters")
    @classmethod
    def _no_credentials_in_plaintext(cls, exporters: ExportersBase, info: ValidationInfo) -> ExportersBase:
        # A setting whose value reaches an env entry or a command line must not carry a
        # credential unless the user stored `exporters` as a secret (then every input it feeds is one).
        if "exporters" in (info.context or {}).get("secret_keys", ()):
            return exporters
        for exporter in exporters.all():
            for key, setting in exporter.row.settings.items():
                value = getattr(exporter, key)
                if setting.credentials_go_to and has_credentials(value):
                    raise cross_field(f"{exporter.name}.{key}", value,
                                      f"a URL without credentials (no user:password@, no password or token "
                                      f"parameter): it reaches a plaintext input; put the credential in "
                                      f"{setting.credentials_go_to}")
        return exporters

    @field_validator("postgres_dsn", "redis_password")
    @classmethod
    def _required_credentials(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        exporters = info.data.get("exporters")
        if value is not None or exporters is None or info.data.get("demo", True):
            return value
        key = to_camel(info.field_name or "")
        for exporter in exporters.enabled():
            if key in exporter.row.requires:
                raise not_allowed(f"a secret set with `pulumi config set --secret {key} ...` while "
                                  f"exporters.{exporter.name}.enabled is true and demo is false")
        return value

    # The top-level keys the user stored with `pulumi config set --secret` (from the engine).
    _secret_keys: frozenset[str] = PrivateAttr(default_factory=frozenset)

    def is_secret(self, *keys: str) -> bool:
        """Was any of these top-level keys (camelCase) stored as a secret?"""
        return any(key in self._secret_keys for key in keys)

    def enabled_exporters(self) -> list[ExporterConfig]:
        return self.exporters.enabled()

    @property
    def django_targets(self) -> tuple[ScrapeTarget, ...]:
        return tuple(t for t in self.targets.of("django") if isinstance(t, ScrapeTarget))


def default_images() -> dict[str, str]:
    """Service -> the pinned image it runs when the config does not say otherwise."""
    return {"prometheus": PrometheusConfig().image, "grafana": GrafanaConfig().image,
            "alertmanager": AlertmanagerConfig().image, **{row.name: row.image for row in EXPORTERS}}


TOP_LEVEL_KEYS: tuple[str, ...] = tuple(field.alias or name for name, field in StackConfig.model_fields.items())
