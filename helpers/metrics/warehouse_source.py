"""The warehouse as a source of figures: :class:`WarehouseSource` (a helpers.metrics.source.Source over the canonical
tables, kept in temporary tables of the session), as_of and the period computed there, metrics.json's core figures and
stage times, and the attribution's engine tables. Only aggregates are fetched.

Part of helpers.metrics.warehouse (every name here stays importable from there).
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.config import Config
from helpers.data.periods import latest_period, parse_period
from helpers.metrics import engine
from helpers.metrics.source import Source
from helpers.metrics.warehouse_canonical import (_complete, _engine_table, _temporary, canonical_of, channel_labels,
                                                 touches_columns, touches_engine_table, touches_positions)
from helpers.metrics.warehouse_tables import raw_tables
from helpers.metrics.warehouse_values import typed_tables


class WarehouseSource(Source):
    """A :class:`Source` over a warehouse's tables made canonical in its SQL (:func:`canonical`),
    run on the warehouse's Ibis connection `con`: only what an expression returns is fetched.

    `tables` maps a canonical table name to its warehouse table (default: the same name); the leads and opportunities
    tables must exist (WorkbookError naming the schema's tables, as :func:`canonical`); a touches table is read when
    present. ``channel_findings``: the ``channel_variants`` warnings of the tables' channel cells (as the loader's for
    the same data: :func:`channel_labels`)."""

    kind = "warehouse"

    def __init__(self, con, config, schema: str | None = None, tables: dict[str, str] | None = None):
        self.backend = con
        self.config = config
        self.schema = schema
        raw = typed_tables(raw_tables(con, schema, dict(tables or {})), config.timezone)
        #: The columns each table has (a missing optional one is NULL in the canonical tables, yet absent here).
        self._columns = {name: tuple(t.columns) for name, t in raw.items()}
        self._channels, self.channel_findings = channel_labels(con, raw, config)
        leads, opps = canonical_of(con, raw, config, self._channels)
        # The canonical tables once into temporary tables of the session (dropped when it closes): every figure then
        # reads plain tables, not the canonicalizing joins again (PostgreSQL planned those as nested loops: seconds a query).
        self._leads, self._opps = (_temporary(con, t) for t in (leads, opps))
        self._touches = raw.get("touches")
        self._touches_engine = None

    @property
    def has_leads(self) -> bool:
        return True

    def opps(self, dims: Sequence[str] = ()):
        return _engine_table(self._opps, "opps", list(dims))

    def leads(self, dims: Sequence[str] = (), stamps: Sequence[str] = ()):
        return _engine_table(self._leads, "leads", list(dims), tuple(stamps))

    def touches(self):
        """The warehouse's touches shaped as engine.touches_table (:func:`touches_engine_table`: ``pos`` ranks them in
        their own columns, since a SQL table has no file order), computed once into a temporary table of the session
        on first use; None without a touches table."""
        if self._touches is None:
            return None
        if self._touches_engine is None:
            shaped = _temporary(self.backend, touches_columns(self._touches, self._channels))   # text in code point order
            self._touches_engine = _temporary(self.backend, touches_positions(shaped))
        return self._touches_engine

    @property
    def has_touches(self) -> bool:
        return self._touches is not None

    def lead_columns(self) -> list[str]:
        return [c for c in self._columns["leads"] if c != "lead_id"]

    def raw_leads(self, columns: Sequence[str]):
        t = self._leads
        return _engine_table(t, "leads", [], raw=columns)

    def _table(self, table: str):
        return self._leads if table == "leads" else self._opps

    def has_column(self, table: str, column: str) -> bool:
        """As a folder's: the table's own columns, the opportunities' channel (always derived: its own, the lead's or
        'unknown') and target_fit when the settings define a target; not the optional columns the table lacks (NULL
        in the canonical tables, absent for the figures)."""
        if column == "target_fit":
            return bool(self.config.target_industries or self.config.target_company_sizes)
        return column in self._columns[table] or (table == "opportunities" and column == "channel")

    def has_values(self, table: str, column: str) -> bool:
        t = self._table(table)
        if not self.has_column(table, column):
            return False
        with engine._quiet():
            return bool(self.backend.to_pyarrow(t.count(where=engine._label(t[column]) != engine.UNKNOWN)).as_py())


def _source(con, config: Config, schema: str | None, leads_table: str, opportunities_table: str):
    """The warehouse's tables as a :class:`helpers.metrics.source.WarehouseSource` (errors of :func:`canonical`)."""
    return WarehouseSource(con, config, schema, {"leads": leads_table, "opportunities": opportunities_table})


def _scalar(con, expr):
    """One value computed in the warehouse, as a Python value."""
    with engine._quiet():
        return con.to_pyarrow(expr).as_py()


def as_of_of(con, leads, opps, config: Config) -> pd.Timestamp:
    """as_of: the settings' date, else the data's last record date (:func:`last_record_date_of`)."""
    if config.as_of is not None:
        return config.as_of
    return last_record_date_of(con, leads, opps)


def last_record_date_of(con, leads, opps) -> pd.Timestamp | None:
    """The data's last record date: the latest date in any date column, not an open deal's closed_at
    (helpers.data.validate.latest_date, helpers.data.checks_engine.record_dates); None when no row has one."""
    from helpers.data.checks_engine import record_dates

    parts = [e.cast("date").max() for name, t in (("leads", leads), ("opportunities", opps))
             for e in record_dates(t, name).values()]
    values = [v for v in (_scalar(con, p) for p in parts) if v is not None and v == v]
    return pd.Timestamp(max(values)).normalize() if values else None


def first_date_of(con, leads, opps) -> pd.Timestamp | None:
    """The earliest created_at of the leads and opportunities (helpers.data.load.first_data_date's); None when no row
    has one."""
    values = [v for v in (_scalar(con, t.created_at.cast("date").min()) for t in (leads, opps)) if v is not None]
    return pd.Timestamp(min(values)) if values else None


def _period(con, leads, opps, config: Config, period_label: str | None):
    """(as_of, the period): `period_label`, else the default period of a data folder's run for the same data
    (helpers.data.periods.latest_period, the one rule: the latest complete period that does not start after the
    data's last record date, else the period holding the earlier of as_of and that date)."""
    as_of = as_of_of(con, leads, opps, config)
    fy = config.fiscal_year_start_month
    if period_label:
        return as_of, parse_period(period_label, fy)
    last = as_of if config.as_of is None else last_record_date_of(con, leads, opps)
    return as_of, latest_period(first_date_of(con, leads, opps), as_of, fy, last)[0]


def warehouse_core_metrics(con, config: Config, period_label: str | None = None, schema: str | None = None,
                           leads_table: str = "leads", opportunities_table: str = "opportunities") -> dict:
    """The core figures of metrics.json (helpers.metrics.core.core_metrics's layout) computed in the warehouse.

    `period_label` None = the latest complete period (else the period holding as_of).
    Only aggregates are fetched. WorkbookError when a table or a required column is missing (:func:`canonical`) or
    the period label is not one; the driver's own errors when a query fails.
    The figures are core_metrics' (undefined ones None), by the same functions
    (helpers.metrics.breakdown.breakdowns_of on a helpers.metrics.source.WarehouseSource); the explanations
    core_metrics adds (``null_reasons``, ``coverage``: helpers.metrics.limits, from the loaded workbook's data facts
    and warnings) are not computed here.
    """
    from helpers.metrics.breakdown import breakdowns_of, segment_columns_of

    source = _source(con, config, schema, leads_table, opportunities_table)
    as_of, period = _period(con, source._leads, source._opps, config, period_label)
    segments = segment_columns_of(source)
    if config.target_industries or config.target_company_sizes:
        segments.append("target_fit")
    # the typical days and maturity from the breakdowns' own join of the linked pairs (helpers.metrics.engine_links)
    rows, totals = breakdowns_of(source, ["channel", *segments], period.start, period.end, as_of, with_totals=True)
    return {"period": period.label, "start": period.start, "end": period.end, "as_of": as_of,
            "pipeline": totals["pipeline"], "funnel": totals["funnel"], "by_channel": rows["channel"],
            "by_segment": {c: rows[c] for c in segments}}


def warehouse_stage_times(con, config: Config, period_label: str | None = None, schema: str | None = None,
                          leads_table: str = "leads", opportunities_table: str = "opportunities") -> dict:
    """metrics.json's funnel.stage_times for the period, computed in the warehouse by the folder's expression
    (helpers.metrics.stages.stage_times_expr: one row per transition fetched) and derived by the folder's
    helpers.metrics.funnel_analysis.derive_stage_stats: ``{transition: {n, median_days, p90_days, negative}}``.
    The null reason a folder adds when every deal shares one created_at (a bulk load) is not computed here.
    Errors as :func:`warehouse_core_metrics`."""
    from helpers.metrics.funnel_analysis import _stage_stats

    source = _source(con, config, schema, leads_table, opportunities_table)
    as_of, period = _period(con, source._leads, source._opps, config, period_label)
    return _stage_stats(source, as_of, period.start, period.end)


def attribution_tables(con, schema: str | None = None, leads_table: str = "leads",
                       opportunities_table: str = "opportunities", touches_table: str = "touches",
                       timezone: str | None = None):
    """(touches, leads, opps) of the warehouse as the attribution's engine tables
    (helpers.metrics.attribution.engine_tables; helpers.metrics.attribution_paths.attribution_figures runs on them):
    ids and outcome canonical as for the core figures, touches by :func:`touches_engine_table`; touches None when
    the schema has no such table; dates read as a folder's in `timezone` (default: the shipped settings' time zone,
    helpers.metrics.warehouse_values). WorkbookError as :func:`canonical` for a missing leads or opportunities table
    or a required column missing from any of the three."""
    named = {"leads": leads_table, "opportunities": opportunities_table,
             **({"touches": touches_table} if touches_table != "touches" else {})}
    if timezone is None:
        from helpers.config import load_config

        timezone = load_config().timezone
    raw = typed_tables(raw_tables(con, schema, named), timezone)
    leads, opps = _complete(raw["leads"], "leads"), _complete(raw["opportunities"], "opportunities")
    touches = touches_engine_table(raw["touches"]) if "touches" in raw else None
    return touches, _engine_table(leads, "leads", []), _engine_table(opps, "opps", [])
