"""The stack config: the typed model, its shared value types, and loading with clear errors.

Plain Python, no Pulumi import: tests and other tools use it directly.
"""

from components.config.load import ConfigError, load_config, values_in_namespace
from components.config.model import (
    MIN_PASSWORD_LENGTH,
    NAMESPACE,
    RESTART_POLICIES,
    TOP_LEVEL_KEYS,
    AlertmanagerConfig,
    GrafanaConfig,
    PrometheusConfig,
    StackConfig,
    default_images,
)
from components.exporters.table import ExporterConfig

__all__ = [
    "MIN_PASSWORD_LENGTH", "NAMESPACE", "RESTART_POLICIES", "TOP_LEVEL_KEYS", "AlertmanagerConfig", "ConfigError",
    "ExporterConfig", "GrafanaConfig", "PrometheusConfig", "StackConfig", "default_images", "load_config",
    "values_in_namespace",
]
