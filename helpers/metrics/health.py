"""Data health: what an analyst must see before trusting any figure (notebook 00).

Every function is pure (a Workbook or frames in, a small frame or dict out).
"""
from __future__ import annotations

import pandas as pd

from helpers.data.load import Workbook
from helpers.data.periods import Period, period_of
from helpers.data.schema import TABLES
from helpers.errors import Finding
from helpers.labels import t
from helpers.metrics.funnel import linked_pairs
from helpers.metrics.pipeline import closed_mask, open_mask, ratio

EARLIEST = pd.Timestamp("1900-01-01")  # "all history" as a period start
DATE_OF_TABLE = {"leads": "created_at", "opportunities": "created_at", "spend": "month",
                 "checklist": "answered_on", "initiatives": "started_on", "touches": "touched_at"}


def table_overview(wb: Workbook, lang: str = "en") -> pd.DataFrame:
    """Per table present: rows, first and last date of its main date column, file format and encoding."""
    rows = []
    for name in TABLES:
        frame = wb.table(name)
        if frame is None:
            continue
        dates = frame[DATE_OF_TABLE[name]] if name in DATE_OF_TABLE else pd.Series(dtype="datetime64[ns]")  # targets: no date
        src = wb.files.get(name)  # None: the table was absent and stands in empty (leads-only data)
        rows.append({"table": t(f"table_{name}", lang), "rows": len(frame),
                     "first": dates.min().strftime("%Y-%m-%d") if dates.notna().any() else "",
                     "last": dates.max().strftime("%Y-%m-%d") if dates.notna().any() else "",
                     "file": t("not_available", lang) if src is None else f"{src.format}" + (f" ({src.encoding})" if src.encoding else "")})
    return pd.DataFrame(rows, columns=["table", "rows", "first", "last", "file"])


def rows_per_period(wb: Workbook, periods: list[Period]) -> pd.DataFrame:
    """Per period: leads created, opportunities created, deals closed (won + lost), each dated <= as_of."""
    fy = wb.config.fiscal_year_start_month
    out = pd.DataFrame(index=[p.label for p in periods])

    def count(dates: pd.Series) -> pd.Series:
        dates = dates[dates.notna() & (dates <= wb.as_of)]
        per_day = pd.to_datetime(dates).dt.normalize().value_counts()   # each distinct day counted once
        months = per_day.index.year * 12 + per_day.index.month - 1       # a quarter is whole months: label each month once
        label_of = {m: period_of(pd.Timestamp(year=m // 12, month=m % 12 + 1, day=1), fy).label for m in set(months)}
        labels = [label_of[m] for m in months]
        counts = per_day.groupby(labels).sum() if len(per_day) else pd.Series(dtype="int64")
        return counts.reindex(out.index, fill_value=0).astype("int64")

    if wb.leads is not None:
        out["leads"] = count(wb.leads["created_at"])
    opps = wb.opportunities
    out["opportunities_created"] = count(opps["created_at"])
    out["closed"] = count(opps.loc[opps["outcome"].isin(["won", "lost"]), "closed_at"])
    out.index.name = "period"
    return out.reset_index()


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """Validation findings as a table: severity, file, rows, column, message, how to fix."""
    rows = [{"severity": f.severity, "file": f.file,
             "rows": ", ".join(map(str, f.rows)) + (f" (+{f.count - len(f.rows)})" if f.count > len(f.rows) else ""),
             "count": f.count, "column": f.column or "", "message": f.message, "fix": f.fix} for f in findings]
    return pd.DataFrame(rows, columns=["severity", "file", "rows", "count", "column", "message", "fix"])


def stage_completeness(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of) -> dict | None:
    """Share of leads (created <= as_of) carrying each stage date, and leads that skipped a stage.

    skipped_mql = leads with an sql_at or a linked opportunity but no mql_at;
    skipped_sql = leads with a linked opportunity but no sql_at.
    """
    if leads is None:
        return None
    leads = leads[leads["created_at"] <= as_of]
    absent = pd.Series(pd.NaT, index=leads.index, dtype="datetime64[ns]")  # an optional column not exported
    pairs = linked_pairs(leads, opps)  # links from either side, as the cohort funnel counts them
    linked = leads["lead_id"].astype("str").isin(set(pairs.loc[pairs["opportunity_id"].isin(set(opps["opportunity_id"].astype("str"))), "lead_id"]))
    n = len(leads)
    has_mql, has_sql = leads.get("mql_at", absent).notna(), leads.get("sql_at", absent).notna()
    return {
        "leads": n,
        "with_mql_at": int(has_mql.sum()), "with_mql_at_share": ratio(int(has_mql.sum()), n),
        "with_sql_at": int(has_sql.sum()), "with_sql_at_share": ratio(int(has_sql.sum()), n),
        "with_opportunity": int(linked.sum()), "with_opportunity_share": ratio(int(linked.sum()), n),
        "skipped_mql": int(((has_sql | linked) & ~has_mql).sum()),
        "skipped_sql": int((linked & ~has_sql).sum()),
    }


def stale_open_deals(opps: pd.DataFrame, as_of, days: int) -> dict:
    """Open deals (at as_of) older than `days`: count, known amount, and the oldest age in days.

    ``stale_amount`` is None (with ``null_reasons``) when the data has no amounts at all
    (no_amounts) or no stale deal has one (no_stale_amounts); ``oldest_days`` is None when
    no deal is open (no_open_deals)."""
    open_now = open_mask(opps, as_of, as_of)
    age = (pd.Timestamp(as_of) - opps["created_at"]).dt.days
    stale = open_now & (age > days)
    no_amounts = "amount" not in opps.columns or not opps["amount"].notna().any()
    known = pd.Series(dtype="float64") if no_amounts else opps.loc[stale, "amount"].dropna()
    out = {"threshold_days": days, "open": int(open_now.sum()), "stale": int(stale.sum()),
           # no stale deal: a true 0; no amounts in the data, or stale deals none of which has one: unknown, never 0
           "stale_amount": float(known.sum()) if not no_amounts and (len(known) or not stale.any()) else None,
           "oldest_days": int(age[open_now].max()) if open_now.any() else None}
    reasons = {}
    if out["stale_amount"] is None:
        reasons["stale_amount"] = "no_amounts" if no_amounts else "no_stale_amounts"
    if out["oldest_days"] is None:
        reasons["oldest_days"] = "no_open_deals"
    return dict(out, null_reasons=reasons) if reasons else out


def traceability(opps: pd.DataFrame, as_of, start=None, end=None, leads: pd.DataFrame | None = None) -> dict:
    """Won revenue traceable to marketing: shares of won revenue (closed in [start, end], <= as_of) whose channel is known and whose deal links to a lead (a link from either table)."""
    won = closed_mask(opps, "won", start if start is not None else EARLIEST, end if end is not None else as_of, as_of)
    rows = opps[won]
    total = float(rows["amount"].sum()) if "amount" in rows.columns else 0.0
    if "amount" not in rows.columns:
        rows = rows.assign(amount=float("nan"))
    known_channel = (rows["channel"].astype("str") != "unknown") if "channel" in rows.columns else pd.Series(False, index=rows.index)
    linked_ids = set(linked_pairs(leads, opps)["opportunity_id"])
    has_lead = opps["opportunity_id"].astype("str").isin(linked_ids)
    known_amount = bool(rows["amount"].notna().any())
    out = {
        "won_count": int(len(rows)), "won_revenue": total if known_amount or not len(rows) else None,
        "revenue_traceable_share": ratio(float(rows.loc[known_channel, "amount"].sum()), total) if total else None,
        "revenue_linked_to_lead_share": ratio(float(rows.loc[has_lead[won], "amount"].sum()), total) if total else None,
        "opportunities_without_lead": int((~has_lead).sum()),
        "opportunities_unknown_channel": int((opps["channel"].astype("str") == "unknown").sum()) if "channel" in opps.columns else int(len(opps)),
    }
    code = "no_won_deals" if not len(rows) else "no_amounts" if not known_amount else "no_closed_amounts"
    reasons = {k: (code if k != "won_revenue" else "no_amounts") for k in ("won_revenue", "revenue_traceable_share",
                                                                          "revenue_linked_to_lead_share") if out[k] is None}
    return dict(out, null_reasons=reasons) if reasons else out




def warnings_record(wb: Workbook) -> list[dict]:
    """``data_health.warnings`` of metrics.json: every ingest and load warning ({code, message, count, ...}),
    :func:`helpers.metrics.limits.workbook_warnings` in English."""
    from helpers.metrics.limits import workbook_warnings

    return workbook_warnings(wb)



def periods_to(wb: Workbook, period: Period) -> list[Period]:
    """Every period from the first data date up to and including `period`."""
    from helpers.data.periods import periods_between
    from helpers.data.load import first_data_date

    return periods_between(first_data_date(wb), period.end, wb.config.fiscal_year_start_month)



def value_counts(wb: Workbook, column: str) -> pd.DataFrame:
    """Rows per value of a segment column in leads and opportunities (null shown as 'unknown'), most frequent first."""
    parts = {}
    for name in ("leads", "opportunities"):
        frame = wb.table(name)
        if frame is not None and column in frame.columns:
            parts[name] = frame[column].astype("object").fillna("unknown").value_counts()
    if not parts:
        return pd.DataFrame(columns=["value"])
    out = pd.DataFrame(parts).fillna(0).astype("int64")
    out = out.sort_values(list(parts), ascending=False, kind="stable")
    out.index.name = "value"
    return out.reset_index()



