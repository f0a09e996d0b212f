"""Renders `prometheus.yml`: one scrape job per fixed job name that has targets.

Plain Python, no Pulumi import. The same text runs in the stack's container (targets are
container names on the stack network) and in the integration tests (loopback targets).
The output stays within what both Prometheus 2.42 (the tests) and 3.x (the image) accept.
Durations and targets are checked with the same types as the config model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from components.exporters.table import BY_NAME, EXPORTER_NAMES
from components.types import HTTP, NotAllowed, duration_ms, parse_host_port
from components.yaml_text import dump_plain_yaml

# Job names are part of the product's contract: dashboards and rules select on them.
# Prometheus itself, Grafana and the app first, then one job per exporter of the table.
JOB_NAMES: tuple[str, ...] = ("prometheus", "grafana", "django", *EXPORTER_NAMES)
METRICS_PATH = "/metrics"


def _checked(key: str, value: str, check: Any) -> str:
    try:
        check(value)
    except NotAllowed as problem:
        raise ValueError(f"{key}: {value!r} is not allowed: {problem}") from None
    return value


def _address(target: Any) -> str:
    address: str = target["address"] if isinstance(target, Mapping) else target
    return address


def _static_configs(job_targets: Sequence[Any]) -> list[dict[str, Any]]:
    """Unlabelled targets together (in order), then one static config per labelled target."""
    plain = [t for t in job_targets if not isinstance(t, Mapping) or not t.get("labels")]
    labelled = [t for t in job_targets if isinstance(t, Mapping) and t.get("labels")]
    configs: list[dict[str, Any]] = [{"targets": [_address(t) for t in plain]}] if plain else []
    configs += [{"targets": [t["address"]], "labels": dict(t["labels"])} for t in labelled]
    return configs


def _probe_job(job: str, urls: Sequence[Any], prober: str) -> dict[str, Any]:
    """A prober's job: each URL goes to the prober as `?target=`; every target carries its
    `instance` label (the URL or the one given), since the scrape's address is the prober's."""
    spec = BY_NAME[job].prober
    assert spec is not None
    return {
        "job_name": job, "metrics_path": spec.path, "params": {"module": [spec.module]},
        "static_configs": _static_configs(urls),
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"target_label": "__address__", "replacement": prober},
        ],
    }


def _client(job: str, https: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """`scheme: https` and the TLS (and basic auth) settings of a job served over TLS; nothing otherwise."""
    return {"scheme": "https", **https[job]} if job in https else {}


def remote_write_section(endpoints: Sequence[Any], secrets_dir: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """`remote_write` entries for validated RemoteWrite configs, and the secret files they read:
    passwords and tokens go in files (`password_file`, `credentials_file`), never in this text."""
    entries: list[dict[str, Any]] = []
    files: dict[str, str] = {}
    for index, endpoint in enumerate(endpoints):
        entry: dict[str, Any] = {"url": endpoint.url}
        if endpoint.basic_auth is not None:
            path = f"{secrets_dir}/remote-write-{index}-password"
            files[path] = endpoint.basic_auth.password.get_secret_value()
            entry["basic_auth"] = {"username": endpoint.basic_auth.username, "password_file": path}
        if endpoint.bearer_token is not None:
            path = f"{secrets_dir}/remote-write-{index}-token"
            files[path] = endpoint.bearer_token.get_secret_value()
            entry["authorization"] = {"type": "Bearer", "credentials_file": path}
        if endpoint.headers:
            entry["headers"] = dict(endpoint.headers)
        if endpoint.write_relabel_configs:
            entry["write_relabel_configs"] = [
                {key: value for key, value in (("source_labels", list(step.source_labels) or None),
                                               ("regex", step.regex), ("action", step.action),
                                               ("target_label", step.target_label),
                                               ("replacement", step.replacement)) if value is not None}
                for step in endpoint.write_relabel_configs]
        entries.append(entry)
    return entries, files


def render_prometheus_config(
    *,
    scrape_interval: str,
    evaluation_interval: str,
    scrape_timeout: str,
    targets: Mapping[str, Sequence[str]],
    rule_files: Sequence[str] = (),
    alertmanager_targets: Sequence[str] = (),
    basic_auth: Mapping[str, tuple[str, str]] | None = None,
    external_labels: Mapping[str, str] | None = None,
    remote_write: Sequence[Mapping[str, Any]] = (),
    probers: Mapping[str, str] | None = None,
    https: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """Return prometheus.yml text.

    `targets` maps job name -> targets, each `host:port` or {"address": host:port, "labels": {...}}
    (labelled targets get a static config of their own; an `instance` label names the instance).
    `basic_auth` maps a job to (username, password_file): the password stays in that file, out of
    this text. `external_labels` (environment, ...) go on every alert and remote-written series.
    `probers` maps a prober's job (blackbox) to the exporter's `host:port`: that job's targets
    are URLs, each sent to the prober as `?target=` (a prober job without one is left out).
    `https` maps a job (or `alertmanager`, the alerting target) served over TLS to its client
    settings (`components.web_config.client_settings`: the CA, the name to check, basic auth).
    """
    unknown = sorted(set(targets) - set(JOB_NAMES))
    if unknown:
        raise ValueError(f"targets: unknown job name(s) {unknown}; allowed: {', '.join(JOB_NAMES)}")
    probers = dict(probers or {})
    not_probers = sorted(job for job in probers if job not in BY_NAME or BY_NAME[job].prober is None)
    if not_probers:
        raise ValueError(f"probers: {not_probers} are not prober jobs")
    for job, job_targets in {**targets, "alertmanager": alertmanager_targets}.items():
        is_prober = job in BY_NAME and BY_NAME[job].prober is not None
        for target in job_targets:
            _checked(f"targets.{job}", _address(target), HTTP if is_prober else parse_host_port)
    for job, address in probers.items():
        _checked(f"probers.{job}", address, parse_host_port)
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": _checked("scrape_interval", scrape_interval, duration_ms),
            "scrape_timeout": _checked("scrape_timeout", scrape_timeout, duration_ms),
            "evaluation_interval": _checked("evaluation_interval", evaluation_interval, duration_ms),
        },
    }
    if external_labels:
        config["global"]["external_labels"] = dict(external_labels)
    if rule_files:
        config["rule_files"] = list(rule_files)
    secure = {job: dict(settings) for job, settings in (https or {}).items()}
    unknown = sorted(set(secure) - {*JOB_NAMES, "alertmanager"})
    if unknown:
        raise ValueError(f"https: unknown job name(s) {unknown}; allowed: {', '.join(JOB_NAMES)}, alertmanager")
    if alertmanager_targets:
        alertmanager: dict[str, Any] = {**_client("alertmanager", secure),
                                        "static_configs": [{"targets": list(alertmanager_targets)}]}
        config["alerting"] = {"alertmanagers": [alertmanager]}
    auth = dict(basic_auth or {})
    unknown = sorted(set(auth) - set(JOB_NAMES))
    if unknown:
        raise ValueError(f"basic_auth: unknown job name(s) {unknown}; allowed: {', '.join(JOB_NAMES)}")
    if remote_write:
        config["remote_write"] = [dict(entry) for entry in remote_write]
    config["scrape_configs"] = [
        _probe_job(job, targets[job], probers[job]) if job in BY_NAME and BY_NAME[job].prober else
        {"job_name": job, "metrics_path": METRICS_PATH,
         **({"basic_auth": {"username": auth[job][0], "password_file": auth[job][1]}} if job in auth else {}),
         **_client(job, secure),
         "static_configs": _static_configs(targets[job])}
        for job in JOB_NAMES
        if targets.get(job) and (job not in BY_NAME or not BY_NAME[job].prober or job in probers)
    ]
    return dump_plain_yaml(config)
