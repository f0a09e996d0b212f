"""Renders the demo's nginx.conf: the Django app behind nginx, and stub_status for the exporter.

Plain Python, no Pulumi import (the integration tests run nginx from a config like it).
"""

from __future__ import annotations

STUB_STATUS_PATH = "/stub_status"


def render_nginx_site(*, listen: str, upstream: str, stub_status_allow: str = "all") -> str:
    """A conf.d site: proxy / to `upstream` (host:port), expose stub_status."""
    return f"""server {{
    listen {listen};
    location = {STUB_STATUS_PATH} {{
        stub_status;
        access_log off;
        allow {stub_status_allow};
    }}
    location / {{
        proxy_pass http://{upstream};
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_read_timeout 30s;
    }}
}}
"""
