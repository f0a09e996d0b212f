"""Database Performance: PostgreSQL connections, cache, transactions, size, row operations."""

from __future__ import annotations

from components import thresholds as th

from . import queries as q
from . import variables as v
from .panels import GAUGE, TIMESERIES, PanelSpec, Query, build_dashboard

UID = "database-performance"
TITLE = "Database Performance"
DESCRIPTION = "PostgreSQL (postgres_exporter): connections, cache hit ratio, transactions, size and row operations."
VARIABLES = (v.ENVIRONMENT, v.PG_INSTANCE, v.DATABASE)


def _db_rate(metric: str, by: str = "") -> str:
    """Per server (and `by`), over the databases selected."""
    return q.per_instance("sum", q.rate(f"pg_stat_database_{metric}", q.PG_DB), by=by)


def _db_recorded(metric: str) -> str:
    """The same over 5 minutes, from the record per server and database."""
    return q.per_instance("sum", q.recorded(f"instance_datname:pg_stat_database_{metric}:rate5m", q.PG_DB))


def _hit_ratio() -> str:
    # `> 0` drops windows without any block access instead of dividing 0 by 0.
    return f"100 * {_db_rate('blks_hit')} / (({_db_rate('blks_hit')} + {_db_rate('blks_read')}) > 0)"


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec(
        title="Active Connections",
        type=GAUGE,
        unit="short",
        min=0,
        max=100,
        thresholds=th.steps(th.PG_CONNECTIONS),
        queries=(Query(q.PG_CONNECTIONS, "{{instance}}"),),
        description=(
            "Client connections open on each PostgreSQL server (pg_stat_activity, all states, all databases). "
            "Thresholds assume the default max_connections of 100: see Connection Usage."
        ),
        width=6,
    ),
    PanelSpec(
        title="Cache Hit Ratio",
        type=GAUGE,
        unit="percent",
        min=0,
        max=100,
        thresholds=th.steps(th.PG_CACHE_HIT_PERCENT),
        queries=(Query(_hit_ratio(), "{{instance}}"),),
        description="Share of block reads served from shared buffers per server, over the databases selected.",
        width=6,
    ),
    PanelSpec(
        title="Transactions per Second",
        type=GAUGE,
        unit="ops",
        min=0,
        queries=(Query(_db_rate("xact_commit"), "{{instance}}"),),
        description="Committed transactions per second per server, over the databases selected.",
        width=6,
    ),
    PanelSpec(
        title="Database Size",
        type=GAUGE,
        unit="bytes",
        min=0,
        queries=(Query(q.per_instance("max", f"pg_database_size_bytes{{{q.PG_DB}}}", by="datname"),
                       "{{instance}} {{datname}}"),),
        description="On-disk size of each database selected, per server (template databases left out).",
        width=6,
    ),
    PanelSpec(
        title="Database Operations per Second",
        type=TIMESERIES,
        unit="rowsps",
        queries=(
            Query(_db_recorded("tup_inserted"), "{{instance}} inserts"),
            Query(_db_recorded("tup_updated"), "{{instance}} updates"),
            Query(_db_recorded("tup_deleted"), "{{instance}} deletes"),
        ),
        description=("Rows inserted, updated and deleted per second per server over 5 minutes (recorded every 2 "
                     "minutes), over the databases selected."),
        width=12,
    ),
    PanelSpec(
        title="Connection Usage",
        type=TIMESERIES,
        unit="short",
        min=0,
        queries=(
            Query(q.PG_CONNECTIONS_RECORDED, "{{instance}} connections"),
            Query(q.PG_MAX_CONNECTIONS_RECORDED, "{{instance}} max_connections"),
        ),
        description=("Open client connections of each server against its max_connections setting (recorded "
                     "every 2 minutes)."),
        width=12,
    ),
    PanelSpec(
        title="Cache Performance",
        type=TIMESERIES,
        unit="percent",
        min=0,
        max=100,
        queries=(Query(f"100 * {q.recorded('instance_datname:pg_stat_database_blks_hit:ratio_rate5m', q.PG_DB)}",
                       "{{instance}} {{datname}}"),),
        description="Buffer cache hit ratio per server and database over 5 minutes (recorded every 2 minutes).",
        width=12,
    ),
    PanelSpec(
        title="Transaction Activity",
        type=TIMESERIES,
        unit="ops",
        queries=(
            Query(_db_recorded("xact_commit"), "{{instance}} commits"),
            Query(_db_recorded("xact_rollback"), "{{instance}} rollbacks"),
        ),
        description=("Transactions committed and rolled back per second per server over 5 minutes (recorded "
                     "every 2 minutes), over the databases selected."),
        width=12,
    ),
)


def build() -> dict:
    return build_dashboard(UID, TITLE, DESCRIPTION, PANELS, VARIABLES)
