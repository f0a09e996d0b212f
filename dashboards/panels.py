"""Shared helpers: panel descriptions as data, turned into dashboards with the
grafana-foundation-sdk builders.

Each dashboard module declares a tuple of `PanelSpec` (title, type, unit,
thresholds, queries, layout) and calls `build_dashboard`. Everything that must
be the same on every dashboard (data source reference, template variable,
refresh, time range, tags) lives here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from grafana_foundation_sdk.builders import bargauge as bargauge_builder
from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import dashboard as dashboard_builder
from grafana_foundation_sdk.builders import gauge as gauge_builder
from grafana_foundation_sdk.builders import prometheus as prometheus_builder
from grafana_foundation_sdk.builders import timeseries as timeseries_builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as dashboard_model
from grafana_foundation_sdk.models import prometheus as prometheus_model

from components.grafana.datasource import DATASOURCE_NAME, DATASOURCE_TYPE, DATASOURCE_UID
from components.prometheus.alert_links import annotated_alerts

from .variables import ALL_VALUE, ENVIRONMENT, Variable

# Every panel and every target points at the dashboard's `datasource` variable,
# as a {type, uid} object (no `${DS_PROMETHEUS}` import placeholders).
DATASOURCE_VARIABLE = "datasource"
DATASOURCE_REF = {"type": DATASOURCE_TYPE, "uid": "${" + DATASOURCE_VARIABLE + "}"}

REFRESH = "30s"
TIME_FROM = "now-1h"
TIME_TO = "now"
TAGS = ("monitoring",)
# The links bar: every dashboard with the common tag (Grafana leaves out the one open).
LINKS_TITLE = "Dashboards"
# Firing alerts, as Prometheus records them in its ALERTS series.
ALERTS_ANNOTATION = "Firing alerts"
ALERTS_TITLE_FORMAT = "{{alertname}} ({{severity}})"
ALERTS_TEXT_FORMAT = "{{alertname}} firing on {{instance}}"
ALERTS_TAG_KEYS = "alertname,severity,instance"
ALERTS_COLOR = "red"
GRID_WIDTH = 24

GAUGE = "gauge"
TIMESERIES = "timeseries"
# Grafana asks for as many points as the panel is wide in pixels (~900 for a half-width panel); a
# time series asks for at most this many: over 7 days a point every 20 minutes, and half the
# per-step work of Prometheus on a fleet (make bench-scale). Gauges ask for one value.
TIMESERIES_POINTS = 500
BARGAUGE = "bargauge"
PANEL_TYPES = (GAUGE, TIMESERIES, BARGAUGE)

# Threshold steps are (lower bound, colour); the first step's bound is None
# (Grafana's "Base"). A panel without SPEC thresholds gets a single green base
# step, so Grafana does not add its default red step at 80.
Steps = tuple[tuple[float | None, str], ...]
BASE_ONLY: Steps = ((None, "green"),)
# Status panels (1 up, 0 down): red below 1, and the values shown as words.
UP_DOWN_STEPS: Steps = ((None, "red"), (1, "green"))
UP_DOWN_MAPPINGS = (("0", "DOWN", "red"), ("1", "UP", "green"))


@dataclass(frozen=True)
class Query:
    """One Prometheus target; refIds (A, B, ...) are assigned in order."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Override:
    """Field override for the series of one query (matched by refId)."""

    ref_id: str
    properties: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class PanelSpec:
    title: str
    type: str
    unit: str
    queries: tuple[Query, ...]
    description: str
    width: int
    height: int = 8
    thresholds: Steps = BASE_ONLY
    min: float | None = None
    max: float | None = None
    stacked: bool = False
    # Draw the thresholds as lines on a time series (e.g. the p95 target).
    threshold_line: bool = False
    # Value mappings: (value, text, colour).
    mappings: tuple[tuple[str, str, str], ...] = ()
    overrides: tuple[Override, ...] = field(default_factory=tuple)
    # Grafana's "Max data points" of a time series (TIMESERIES_POINTS unless given); fewer points, a longer step.
    max_data_points: int | None = None


def ref_id(index: int) -> str:
    """0 -> A, 1 -> B, ... (a panel never has more than 26 queries here)."""
    if not 0 <= index < 26:
        raise ValueError(f"too many queries in one panel: {index + 1}")
    return chr(ord("A") + index)


def _datasource_ref() -> common_model.DataSourceRef:
    return common_model.DataSourceRef(type_val=DATASOURCE_REF["type"], uid=DATASOURCE_REF["uid"])


def _thresholds(steps: Steps) -> dashboard_builder.ThresholdsConfig:
    return (
        dashboard_builder.ThresholdsConfig()
        .mode(dashboard_model.ThresholdsMode.ABSOLUTE)
        .steps([dashboard_model.Threshold(value=value, color=color) for value, color in steps])
    )


def _target(query: Query, index: int, instant: bool) -> prometheus_builder.Dataquery:
    target = (
        prometheus_builder.Dataquery()
        .datasource(_datasource_ref())
        .ref_id(ref_id(index))
        .expr(query.expr)
        .editor_mode(prometheus_model.QueryEditorMode.CODE)
        .format(prometheus_model.PromQueryFormat.TIME_SERIES)
    )
    if query.legend:
        target = target.legend_format(query.legend)
    return target.instant() if instant else target.range()


def _reduce_last() -> common_builder.ReduceDataOptions:
    return common_builder.ReduceDataOptions().calcs(["lastNotNull"]).values(False).fields("")


def _panel_builder(spec: PanelSpec):
    if spec.type == GAUGE:
        return (
            gauge_builder.Panel()
            .reduce_options(_reduce_last())
            .orientation(common_model.VizOrientation.AUTO)
            .show_threshold_labels(False)
            .show_threshold_markers(True)
            .sizing(common_model.BarGaugeSizing.AUTO)
            .min_viz_width(75)
            .min_viz_height(75)
        )
    if spec.type == BARGAUGE:
        return (
            bargauge_builder.Panel()
            .reduce_options(_reduce_last())
            .orientation(common_model.VizOrientation.HORIZONTAL)
            .display_mode(common_model.BarGaugeDisplayMode.BASIC)
            .value_mode(common_model.BarGaugeValueMode.COLOR)
            .name_placement(common_model.BarGaugeNamePlacement.AUTO)
            .show_unfilled(True)
            .sizing(common_model.BarGaugeSizing.AUTO)
            .min_viz_width(8)
            .min_viz_height(16)
            .max_viz_height(300)
            .legend(
                common_builder.VizLegendOptions()
                .display_mode(common_model.LegendDisplayMode.LIST)
                .placement(common_model.LegendPlacement.BOTTOM)
                .show_legend(False)
                .calcs([])
            )
        )
    if spec.type == TIMESERIES:
        panel = (
            timeseries_builder.Panel()
            .legend(
                common_builder.VizLegendOptions()
                .display_mode(common_model.LegendDisplayMode.LIST)
                .placement(common_model.LegendPlacement.BOTTOM)
                .show_legend(True)
                .calcs([])
            )
            .tooltip(
                common_builder.VizTooltipOptions()
                .mode(common_model.TooltipDisplayMode.MULTI)
                .sort(common_model.SortOrder.DESCENDING)
            )
            .draw_style(common_model.GraphDrawStyle.LINE)
            .line_interpolation(common_model.LineInterpolation.LINEAR)
            .line_width(1)
            .fill_opacity(25 if spec.stacked else 10)
            .show_points(common_model.VisibilityMode.NEVER)
            .span_nulls(False)
            .axis_placement(common_model.AxisPlacement.AUTO)
            .stacking(
                common_builder.StackingConfig()
                .mode(common_model.StackingMode.NORMAL if spec.stacked else common_model.StackingMode.NONE)
                .group("A")
            )
            .thresholds_style(
                common_builder.GraphThresholdsStyleConfig().mode(
                    common_model.GraphThresholdsStyleMode.DASHED
                    if spec.threshold_line
                    else common_model.GraphThresholdsStyleMode.OFF
                )
            )
        )
        return panel
    raise ValueError(f"unknown panel type {spec.type!r} for panel {spec.title!r}")


def build_panel(spec: PanelSpec, panel_id: int, x: int, y: int):
    """Return the SDK builder of one panel at the given grid position."""
    instant = spec.type in (GAUGE, BARGAUGE)
    panel = (
        _panel_builder(spec)
        .id(panel_id)
        .title(spec.title)
        .description(spec.description)
        .datasource(_datasource_ref())
        .grid_pos(dashboard_model.GridPos(h=spec.height, w=spec.width, x=x, y=y))
        .unit(spec.unit)
        .thresholds(_thresholds(spec.thresholds))
        .targets([_target(query, index, instant) for index, query in enumerate(spec.queries)])
    )
    if spec.type == TIMESERIES:
        panel = panel.max_data_points(spec.max_data_points or TIMESERIES_POINTS)
    if spec.min is not None:
        panel = panel.min(spec.min)
    if spec.max is not None:
        panel = panel.max(spec.max)
    if spec.mappings:
        panel = panel.mappings(
            [
                dashboard_model.ValueMap(
                    options={
                        value: dashboard_model.ValueMappingResult(text=text, color=color, index=i)
                        for i, (value, text, color) in enumerate(spec.mappings)
                    }
                )
            ]
        )
    for override in spec.overrides:
        panel = panel.override_by_query(
            override.ref_id,
            [dashboard_model.DynamicConfigValue(id_val=key, value=value) for key, value in override.properties],
        )
    return panel


def layout(specs: tuple[PanelSpec, ...]) -> list[tuple[int, int]]:
    """Left-to-right, top-to-bottom placement: (x, y) for each panel."""
    positions = []
    x = y = row_height = 0
    for spec in specs:
        if not 0 < spec.width <= GRID_WIDTH:
            raise ValueError(f"panel {spec.title!r} has width {spec.width}")
        if x + spec.width > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        positions.append((x, y))
        x += spec.width
        row_height = max(row_height, spec.height)
    return positions


def _datasource_variable() -> dashboard_builder.DatasourceVariable:
    return (
        dashboard_builder.DatasourceVariable(DATASOURCE_VARIABLE)
        .label("Data source")
        .type(DATASOURCE_TYPE)
        .current(dashboard_model.VariableOption(selected=True, text=DATASOURCE_NAME, value=DATASOURCE_UID))
        .multi(False)
        .include_all(False)
        .regex("")
    )


def _query_variable(variable: Variable) -> dashboard_builder.QueryVariable:
    return (
        dashboard_builder.QueryVariable(variable.name)
        .label(variable.label)
        .datasource(_datasource_ref())
        .query(variable.query)
        # Values follow the time range: an instance added or gone shows up without a reload.
        .refresh(dashboard_model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard_model.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        # `.*`, not the list of values: it also matches series without the label.
        .all_value(ALL_VALUE)
        .current(dashboard_model.VariableOption(selected=True, text="All", value="$__all"))
        .regex("")
    )


def alerts_expr(alerts: tuple[str, ...], variables: tuple[Variable, ...]) -> str:
    """ALERTS of `alerts` while firing, narrowed by the dashboard's environment variable if it has one."""
    matchers = ['alertstate="firing"', f'alertname=~"{"|".join(alerts)}"']
    if ENVIRONMENT in variables:
        matchers.append(ENVIRONMENT.matches())
    return f"ALERTS{{{', '.join(matchers)}}}"


def _alerts_annotation(alerts: tuple[str, ...], variables: tuple[Variable, ...]) -> dashboard_builder.AnnotationQuery:
    return (
        dashboard_builder.AnnotationQuery()
        .name(ALERTS_ANNOTATION)
        .datasource(_datasource_ref())
        .enable(True)
        .hide(False)
        .icon_color(ALERTS_COLOR)
        .expr(alerts_expr(alerts, variables))
    )


def _dashboards_link() -> dashboard_builder.DashboardLink:
    return (
        dashboard_builder.DashboardLink(LINKS_TITLE)
        .type(dashboard_model.DashboardLinkType.DASHBOARDS)
        .tags(list(TAGS))
        .as_dropdown(False)
        .icon("external link")
        .tooltip("")
        .target_blank(False)
        # The environment and instances picked, and the time range, carry over to the next dashboard.
        .include_vars(True)
        .keep_time(True)
    )


def build_dashboard(uid: str, title: str, description: str, specs: tuple[PanelSpec, ...],
                    variables: tuple[Variable, ...] = ()) -> dict:
    """Build one dashboard and return its classic (v1) JSON model as plain dicts."""
    alerts = annotated_alerts(uid)
    builder = (
        dashboard_builder.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(list(TAGS))
        .editable()
        .refresh(REFRESH)
        .time(TIME_FROM, TIME_TO)
        .timezone("browser")
        .tooltip(dashboard_model.DashboardCursorSync.CROSSHAIR)
        .with_variable(_datasource_variable())
        .link(_dashboards_link())
    )
    if alerts:
        builder = builder.annotation(_alerts_annotation(alerts, variables))
    for variable in variables:
        builder = builder.with_variable(_query_variable(variable))
    for panel_id, (spec, (x, y)) in enumerate(zip(specs, layout(specs), strict=True), start=1):
        builder = builder.with_panel(build_panel(spec, panel_id, x, y))
    model = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    # Grafana assigns the numeric id; the API's `dashboard` field must not carry one.
    model.pop("id", None)
    for annotation in model["annotations"].get("list", []):
        # The SDK has no setters for the Prometheus annotation fields Grafana reads (schema: AnnotationQuery).
        annotation.update(titleFormat=ALERTS_TITLE_FORMAT, textFormat=ALERTS_TEXT_FORMAT, tagKeys=ALERTS_TAG_KEYS,
                          useValueForTime=False)
    return model
