"""What Grafana shows: the Prometheus data source, a folder and the four dashboards."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumiverse_grafana as grafana

from components.config.model import LongTermDataSource
from components.grafana.datasource import (
    DATASOURCE_NAME,
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    LONG_TERM_NAME,
    LONG_TERM_UID,
    render_datasource_json_data,
    tls_json_data,
)
from components.web_access import WebServing

FOLDER_UID = "monitoring"
FOLDER_TITLE = "Monitoring"


@dataclass
class GrafanaContentArgs:
    # Where this program reaches Grafana (the published port), and as whom.
    grafana_url: pulumi.Input[str]
    admin_user: pulumi.Input[str]
    admin_password: pulumi.Input[str]
    # Where Grafana's server reaches Prometheus, on the stack network.
    prometheus_url: str
    scrape_interval: str
    prometheus_version: str
    # Public base URL of Grafana, for the dashboard links people open.
    root_url: str
    # uid -> dashboard JSON text (the dashboards package renders it; __main__ passes it in).
    dashboards: Mapping[str, str]
    # The long-term store's query URL and basic auth, for a second data source (None: none).
    long_term: LongTermDataSource | None = None
    # Keys stored as secrets reach the data source settings (prometheus) or the URLs (grafana, bindAddress).
    secret_settings: bool = False
    secret_urls: bool = False
    # The Grafana container (healthy before the provider is used) and Prometheus container.
    depends_on: Sequence[pulumi.Resource] = ()
    # tls.enabled: Prometheus' CA, name and login (the data source), and the CA the provider trusts.
    prometheus_web: WebServing | None = None
    grafana_ca_pem: pulumi.Input[str] | None = None


class GrafanaContent(pulumi.ComponentResource):
    # For type checkers only: Pulumi reads a component's class annotations again at every registration.
    if TYPE_CHECKING:
        dashboard_urls: dict[str, pulumi.Input[str]]

    def __init__(self, resource_name: str, args: GrafanaContentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("monitoring:index:GrafanaContent", resource_name, None, opts)
        # Typed Any: the SDK's stub infers Output.secret's type parameter as Never.
        credentials: Any = pulumi.Output.concat(args.admin_user, ":", args.admin_password)
        provider = grafana.Provider(
            f"{resource_name}-provider",
            url=args.grafana_url,
            auth=pulumi.Output.secret(credentials),
            # Grafana answers its healthcheck before every API is ready: retry briefly.
            retries=10,
            retry_wait=3,
            ca_cert=args.grafana_ca_pem,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        on_grafana = pulumi.ResourceOptions(parent=self, provider=provider)
        json_data = render_datasource_json_data(args.scrape_interval, args.prometheus_version)
        web = args.prometheus_web
        local_json = {**json_data, **(tls_json_data(web.server_name) if web is not None else {})}
        tls_settings: dict[str, Any] = {}
        if web is not None:
            assert web.login is not None, "Prometheus with TLS always asks for a password"
            login = web.login
            secure: Any = pulumi.Output.all(login.password, web.ca_pem).apply(lambda values: json.dumps(
                {"basicAuthPassword": values[0], "tlsCACert": values[1]}, sort_keys=True))
            user: Any = pulumi.Output.secret(login.user) if args.secret_settings else login.user
            tls_settings = {"basic_auth_enabled": True, "basic_auth_username": user,
                            "secure_json_data_encoded": pulumi.Output.secret(secure)}
        self.data_source = grafana.oss.DataSource(
            f"{resource_name}-prometheus",
            type=DATASOURCE_TYPE,
            name=DATASOURCE_NAME,
            uid=DATASOURCE_UID,
            url=args.prometheus_url,
            access_mode="proxy",
            is_default=True,
            json_data_encoded=pulumi.Output.secret(json.dumps(local_json, sort_keys=True))
            if args.secret_settings else json.dumps(local_json, sort_keys=True),
            **tls_settings,
            opts=on_grafana,
        )
        if args.long_term is not None:
            # Same settings as the local one; the dashboards' data source variable lists both.
            auth = args.long_term.basic_auth
            secure = (pulumi.Output.secret(json.dumps({"basicAuthPassword": auth.password.get_secret_value()}))
                      if auth is not None else None)
            grafana.oss.DataSource(
                f"{resource_name}-long-term",
                type=DATASOURCE_TYPE, name=LONG_TERM_NAME, uid=LONG_TERM_UID, url=args.long_term.url,
                access_mode="proxy", is_default=False,
                basic_auth_enabled=auth is not None, basic_auth_username=auth.username if auth else None,
                secure_json_data_encoded=secure,
                json_data_encoded=json.dumps(json_data, sort_keys=True),
                opts=on_grafana)
        self.folder = grafana.oss.Folder(f"{resource_name}-folder", title=FOLDER_TITLE, uid=FOLDER_UID,
                                         opts=on_grafana)
        base = args.root_url.rstrip("/")
        self.dashboard_urls = {}
        for uid, text in args.dashboards.items():
            # overwrite: the UI may edit a dashboard; `pulumi up --refresh` puts the code's version back.
            grafana.oss.Dashboard(
                f"{resource_name}-{uid}",
                config_json=text,
                folder=self.folder.uid,
                overwrite=True,
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.data_source]),
            )
            url = f"{base}/d/{uid}"
            self.dashboard_urls[uid] = pulumi.Output.secret(url) if args.secret_urls else url
        self.register_outputs({"dashboard_urls": self.dashboard_urls})
