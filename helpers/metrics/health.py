"""Data health: what an analyst must see before trusting any figure (notebook 00).

Every function is pure (a Workbook or frames in, a small frame or dict out). The figures over the leads, opportunities
and touches are engine queries (helpers.metrics.health_engine): a function taking `source` runs them on it (a
notebook passes ``s.source``: the warehouse in a warehouse run), and the signatures over frames wrap the frames in a
helpers.metrics.source.FrameSource.
"""
from __future__ import annotations

import pandas as pd

from helpers.data.load import Workbook
from helpers.data.periods import Period
from helpers.data.schema import TABLES
from helpers.labels import t
from helpers.metrics.source import FrameSource

EARLIEST = pd.Timestamp("1900-01-01")  # "all history" as a period start
#: The tables whose rows a warehouse keeps (counted by engine queries); the others are small and read as frames.
ROW_TABLES = ("leads", "opportunities", "touches")
DATE_OF_TABLE = {"leads": "created_at", "opportunities": "created_at", "spend": "month",
                 "checklist": "answered_on", "initiatives": "started_on", "touches": "touched_at"}


def _source_of(wb: Workbook, source):
    """`source`, else the workbook's leads, opportunities and touches as a FrameSource (no figure here breaks down by
    target fit)."""
    return source if source is not None else FrameSource(wb.leads, wb.opportunities, getattr(wb, "touches", None),
                                                         has_opportunities=getattr(wb, "has_opportunities", True))


def table_overview(wb: Workbook, lang: str = "en", source=None) -> pd.DataFrame:
    """Per table present: rows, first and last date of its main date column, file format and encoding, and
    ``null_reason``: why `rows` is None (``no_opportunities``: a leads-only folder's opportunities, not a table of
    0 rows), else None.

    The leads, opportunities and touches are counted on `source` (a :class:`helpers.metrics.source.Source`, default the
    workbook's frames; a warehouse's in a warehouse run: one aggregate row each,
    :func:`helpers.metrics.health_engine.table_rows_of`); the small tables (spend, checklist, ...) are read from `wb`."""
    from helpers.metrics.health_engine import table_rows_of

    counted = table_rows_of(_source_of(wb, source))
    rows = []
    for name in TABLES:
        if name in ROW_TABLES:
            if name not in counted:
                continue
            n, first, last = counted[name]
        else:
            frame = wb.table(name)
            if frame is None:
                continue
            dates = frame[DATE_OF_TABLE[name]] if name in DATE_OF_TABLE else pd.Series(dtype="datetime64[ns]")  # targets: no date
            n, first, last = len(frame), dates.min(), dates.max()
        src = wb.files.get(name)  # None: the table was absent and stands in empty (leads-only data)
        rows.append({"table": t(f"table_{name}", lang), "rows": n, "null_reason": None if n is not None else "no_opportunities",
                     "first": "" if first is None or pd.isna(first) else first.strftime("%Y-%m-%d"),
                     "last": "" if last is None or pd.isna(last) else last.strftime("%Y-%m-%d"),
                     "file": t("not_available", lang) if src is None else f"{src.format}" + (f" ({src.encoding})" if src.encoding else "")})
    return pd.DataFrame(rows, columns=["table", "rows", "first", "last", "file", "null_reason"], dtype=object)


def rows_per_period(wb: Workbook, periods: list[Period], source=None) -> pd.DataFrame:
    """Per period: leads created, opportunities created, deals closed (won + lost), each dated <= as_of, counted on
    `source` (default the workbook's frames; :func:`helpers.metrics.health_engine.rows_per_period_of`)."""
    from helpers.metrics.health_engine import rows_per_period_of

    return rows_per_period_of(_source_of(wb, source), periods, wb.as_of,
                              wb.config.fiscal_year_start_month)


def stage_completeness(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of) -> dict | None:
    """Share of leads (created <= as_of) carrying each stage date, and leads that skipped a stage.

    skipped_mql = leads with an sql_at or a linked opportunity but no mql_at;
    skipped_sql = leads with a linked opportunity but no sql_at.
    :func:`helpers.metrics.health_engine.stage_completeness_of` on the frames (None without leads).
    """
    from helpers.metrics.health_engine import stage_completeness_of

    return stage_completeness_of(FrameSource(leads, opps), as_of)


def stale_open_deals(opps: pd.DataFrame, as_of, days: int) -> dict:
    """Open deals (at as_of) older than `days`: count, known amount, and the oldest age in days.

    ``stale_amount`` is None (with ``null_reasons``) when the data has no amounts at all
    (no_amounts) or no stale deal has one (no_stale_amounts); ``oldest_days`` is None when
    no deal is open (no_open_deals). :func:`helpers.metrics.health_engine.stale_open_deals_of` on the frame."""
    from helpers.metrics.health_engine import stale_open_deals_of

    return stale_open_deals_of(FrameSource(None, opps), as_of, days)


def traceability(opps: pd.DataFrame, as_of, start=None, end=None, leads: pd.DataFrame | None = None) -> dict:
    """Won revenue traceable to marketing: shares of won revenue (closed in [start, end], <= as_of) whose channel is
    known and whose deal links to a lead (a link from either table);
    :func:`helpers.metrics.health_engine.traceability_of` on the frames."""
    from helpers.metrics.health_engine import traceability_of

    return traceability_of(FrameSource(leads, opps), as_of, start, end)


def warnings_record(wb: Workbook, source=None) -> list[dict]:
    """``data_health.warnings`` of metrics.json: every ingest and load warning ({code, message, count, ...}),
    :func:`helpers.metrics.limits.workbook_warnings` in English (its row counts on `source`, default the frames)."""
    from helpers.metrics.limits import workbook_warnings

    return workbook_warnings(wb, source)



def periods_to(wb: Workbook, period: Period, source=None) -> list[Period]:
    """Every period from the first data date (the earliest created_at of the opportunities and leads; with `source`,
    one aggregate row of it: helpers.metrics.limits.source_dates) up to and including `period`."""
    from helpers.data.periods import periods_between
    from helpers.data.load import first_data_date

    if source is not None:
        from helpers.metrics.limits import source_dates

        first = source_dates(source)[0]
    else:
        first = first_data_date(wb)
    return periods_between(first, period.end, wb.config.fiscal_year_start_month)



def value_counts(wb: Workbook, column: str, source=None) -> pd.DataFrame:
    """Rows per value of a segment column in leads and opportunities (null shown as 'unknown'), most frequent first,
    counted on `source` (default the workbook's frames; :func:`helpers.metrics.health_engine.value_counts_of`)."""
    from helpers.metrics.health_engine import value_counts_of

    return value_counts_of(_source_of(wb, source), column)
