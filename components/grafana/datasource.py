"""Grafana's Prometheus data source: its uid (the dashboards reference it) and settings.

Pure Python: no pulumi import, so the dashboards and their unit tests can use it.
"""

from __future__ import annotations

from components.types import NotAllowed, duration_ms

# The provisioned Prometheus data source. Dashboards reference it by this uid
# (through their `datasource` variable), never by a `${DS_PROMETHEUS}` placeholder.
DATASOURCE_UID = "prometheus"
DATASOURCE_TYPE = "prometheus"
DATASOURCE_NAME = "Prometheus"
# The optional long-term store (grafana.longTerm), a second Prometheus-type data source.
LONG_TERM_UID = "long-term"
LONG_TERM_NAME = "Prometheus (long-term)"


def render_datasource_json_data(scrape_interval: str, prometheus_version: str) -> dict[str, object]:
    """Return the `jsonData` of the Prometheus data source.

    Key names are those of Grafana's Prometheus data source (`PromOptions` in
    @grafana/prometheus, as in Grafana's provisioning docs):

    - `timeInterval` must equal the real scrape interval: Grafana derives
      `$__rate_interval` from it (at least 4x it), which keeps rate windows wide
      enough for Prometheus 3, which drops the left-edge sample of a range.
    - `httpMethod` POST avoids URL length limits on long queries.
    - `prometheusType` / `prometheusVersion` let Grafana use the features the
      server has; `cacheLevel` and `incrementalQuerying` cut repeated work on
      auto-refresh.
    """
    try:
        duration_ms(scrape_interval)
    except NotAllowed as problem:
        raise ValueError(f"scrape_interval: {scrape_interval!r} is not allowed: {problem}") from None
    if not isinstance(prometheus_version, str) or not prometheus_version.strip():
        raise ValueError("prometheus_version must be a non-empty version string such as '3.7.3'")
    return {
        "httpMethod": "POST",
        "timeInterval": scrape_interval,
        "queryTimeout": "60s",
        "prometheusType": "Prometheus",
        "prometheusVersion": prometheus_version.lstrip("v"),
        "cacheLevel": "High",
        "incrementalQuerying": True,
    }


def tls_json_data(server_name: str) -> dict[str, object]:
    """The `jsonData` keys of a data source on a Prometheus served over TLS: verify its certificate
    against the CA in `secureJsonData.tlsCACert`, under `server_name` (what the certificate names)."""
    if not isinstance(server_name, str) or not server_name:
        raise ValueError("server_name must be the DNS name the certificate names, such as monitoring-dev-prometheus")
    return {"tlsAuthWithCACert": True, "serverName": server_name}
