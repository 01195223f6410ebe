"""Data health: what an analyst must see before trusting any figure (notebook 00).

Every function is pure (a Workbook or frames in, a small frame or dict out).
"""
from __future__ import annotations

import pandas as pd

from helpers.errors import Finding
from helpers.labels import t
from helpers.theme import finish, legend_outside
from helpers.load import Workbook
from helpers.periods import Period, period_of
from helpers.funnel import linked_pairs
from helpers.pipeline import closed_mask, open_mask, ratio
from helpers.schema import TABLES

EARLIEST = pd.Timestamp("1900-01-01")  # "all history" as a period start
DATE_OF_TABLE = {"leads": "created_at", "opportunities": "created_at", "spend": "month",
                 "checklist": "answered_on", "initiatives": "started_on"}


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
        labels = dates.map(lambda d: period_of(d, fy).label)
        return labels.value_counts().reindex(out.index, fill_value=0).astype("int64")

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


# ---- Views for notebook 00 (formatted, labelled, escaped) ----------------------------------

def overview_view(wb: Workbook, lang: str):
    """The table overview, labelled, as an escaped HTML table."""
    from helpers import display
    from helpers.views import labelled

    frame = table_overview(wb, lang).rename(columns={"table": "table_name", "first": "first_date", "last": "last_date", "file": "file_format"})
    return display.table(labelled(frame, lang))


def rows_per_period_chart(frame: pd.DataFrame, lang: str):
    """Grouped bars: leads, opportunities created and deals closed per period."""
    import matplotlib.pyplot as plt

    cols = [c for c in ("leads", "opportunities_created", "closed") if c in frame.columns]
    fig, ax = plt.subplots()
    frame.set_index("period")[cols].rename(columns=lambda c: t(c, lang)).plot.bar(ax=ax, width=0.8)
    ax.set_xlabel("")
    ax.set_title(t("health_rows_per_period", lang))
    legend_outside(ax)
    ax.tick_params(axis="x", rotation=60)
    return finish(fig)


def warnings_record(wb: Workbook) -> list[dict]:
    """``data_health.warnings`` of metrics.json: every ingest and load warning ({code, message, count, ...}),
    :func:`helpers.limits.workbook_warnings` in English."""
    from helpers.limits import workbook_warnings

    return workbook_warnings(wb, "en")


def findings_view(wb: Workbook, lang: str):
    """Every ingest and load warning (data-wide limits first) as an escaped table, or a sentence saying there are none."""
    from helpers import display
    from helpers.limits import workbook_warnings

    items = workbook_warnings(wb, lang)
    if not items:
        return display.note(t("health_no_warnings", lang))
    frame = pd.DataFrame([{t("source", lang): t(f"source_{w['source']}", lang), t("file_format", lang): w["file"],
                           t("rows_at", lang): w["rows"], t("count", lang): f"{w['count']:,}" if w["count"] else "",
                           t("column", lang): w["column"], t("warning_code", lang): w["code"],
                           t("message", lang): w["message"], t("fix", lang): w["fix"]} for w in items])
    return display.table(frame)


def dict_view(values: dict, config, lang: str):
    """A {key: figure} dict as an escaped table with labels and formats; an empty figure shows why (its null_reasons)."""
    from helpers import display
    from helpers.views import format_value, why

    rows = [{t("measure", lang): t(k, lang), t("value", lang): format_value(k, v, config, lang),
             "why": why(values, k, lang) or ""} for k, v in values.items() if k != "null_reasons"]
    frame = pd.DataFrame(rows)
    if not frame["why"].str.len().any():
        frame = frame.drop(columns="why")
    return display.table(frame.rename(columns={"why": t("why_empty", lang)}))


def limits_view(s):
    """The top of the data health report: partial coverage of the period, a leads table ending early,
    and what the data cannot tell (no lost deals first), each a sentence; nothing when all is well."""
    from helpers import display
    from helpers.limits import workbook_facts
    from helpers.metrics import period_coverage
    from helpers.views import reason_text

    parts = []
    partial = coverage_note(s)
    if partial is not None:
        parts.append(partial.data)
    cov = period_coverage(s.wb, s.period)
    if cov["leads_partial"]:
        parts.append(display.note(t("health_leads_partial", s.lang).format(end=f"{cov['leads_end']:%Y-%m-%d}"), warn=True).data)
    codes = workbook_facts(s.wb).codes()
    if codes:
        parts.append(display.note(t("health_limits", s.lang), warn=True).data)
        parts.append(display.bullets([reason_text(c, s.lang) for c in codes]).data)
    if not parts:
        return None
    from IPython.display import HTML

    return HTML("".join(parts))


def negative_intervals_view(s):
    """Linked lead/opportunity pairs whose dates run backwards (left out of every time-to-convert measure); nothing without leads."""
    from helpers.limits import negative_intervals

    if s.wb.leads is None:
        return None
    return dict_view(negative_intervals(s.wb.leads, s.wb.opportunities, s.as_of), s.config, s.lang)


TRACE_BOTH = ("won_count", "won_revenue", "revenue_traceable_share", "revenue_linked_to_lead_share")
TRACE_ALL_ONLY = ("opportunities_without_lead", "opportunities_unknown_channel")


def traceability_view(s, trace_all: dict, trace_period: dict):
    """Traceability over all history and in the period, side by side, each column headed by its scope.

    The counts of opportunities without a lead or a channel are all-history figures; their rows say so.
    """
    from helpers import display
    from helpers.views import format_value

    cfg, lang = s.config, s.lang
    all_label = t("scope_all_history", lang).format(as_of=pd.Timestamp(s.as_of).strftime("%Y-%m-%d"))
    period_label = t("scope_period", lang).format(period=s.period.label)
    rows = [{t("measure", lang): t(k, lang), all_label: format_value(k, trace_all[k], cfg, lang),
             period_label: format_value(k, trace_period[k], cfg, lang)} for k in TRACE_BOTH]
    rows += [{t("measure", lang): t(k, lang), all_label: format_value(k, trace_all[k], cfg, lang),
              period_label: t("scope_all_history_only", lang)} for k in TRACE_ALL_ONLY]
    return display.table(pd.DataFrame(rows))


def periods_to(wb: Workbook, period: Period) -> list[Period]:
    """Every period from the first data date up to and including `period`."""
    from helpers.periods import periods_between
    from helpers.session import first_data_date

    return periods_between(first_data_date(wb), period.end, wb.config.fiscal_year_start_month)


def no_leads_text(lang: str) -> str:
    """What the missing leads table prevents, and how to enable it."""
    return t("health_no_leads", lang)


def traceability_text(trace_all: dict, trace_period: dict) -> str:
    """Plain-text traceability figures (checked by nbval)."""
    def pct(v):
        return "null" if v is None else f"{v:.4f}"

    return (f"all history: won {trace_all['won_count']}, revenue_traceable_share {pct(trace_all['revenue_traceable_share'])}, "
            f"linked_to_lead {pct(trace_all['revenue_linked_to_lead_share'])}\n"
            f"period: won {trace_period['won_count']}, revenue_traceable_share {pct(trace_period['revenue_traceable_share'])}\n"
            f"opportunities_without_lead {trace_all['opportunities_without_lead']}, unknown_channel {trace_all['opportunities_unknown_channel']}")


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


def value_counts_view(wb: Workbook, column: str, lang: str):
    """Values of a segment column with their row counts, labelled (spot spelling variants such as Web vs web)."""
    from helpers import display

    from helpers.order import configured_order, ordered

    frame = value_counts(wb, column)
    if configured_order(wb.config, column) and len(frame):  # an ordinal segment (company size) in its own order
        frame = frame.set_index("value").loc[ordered(frame["value"], column, wb.config)].reset_index()
    frame["value"] = frame["value"].map(lambda v: t("unknown", lang) if v == "unknown" else v)
    frame = frame.rename(columns={"value": t(column, lang), "leads": t("table_leads", lang),
                                                      "opportunities": t("table_opportunities", lang)})
    return display.table(frame)


def coverage_note(s):
    """A warning when the data covers the period only in part (it starts after the period starts or as_of falls inside it)."""
    from helpers import display
    from helpers.session import first_data_date

    first = first_data_date(s.wb)
    if s.period.end <= s.as_of and first <= s.period.start:
        return None
    return display.note(t("health_partial_period", s.lang).format(
        period=s.period.label, start=max(first, s.period.start).strftime("%Y-%m-%d"),
        end=min(s.as_of, s.period.end).strftime("%Y-%m-%d")), warn=True)
