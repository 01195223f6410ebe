"""Funnel analysis behind notebook 02_funnel_breakdown: rates with confidence intervals, stage times,
the follow-up SLA, marketing ROI and period-over-period change.

Every figure reuses the shared metric functions (:mod:`helpers.metrics.pipeline`,
:mod:`helpers.metrics.funnel`, :mod:`helpers.metrics.breakdown`); nothing here redefines a
metric of the contract. Pure functions: the frames passed in are never
changed; dict results hold plain Python values (int, float, None) ready for
``metrics.json``; DataFrame results hold NaN / <NA> where the dict would hold
None (a zero denominator is null, never 0).

Conventions (the glossary, docs/glossary.md, section "Funnel analysis", uses the same words):

- a period P is ``[start, end]``, both dates inclusive, cut at ``min(end, as_of)``;
  nothing dated after ``as_of`` counts;
- a value of a breakdown column that is null or blank is the row ``'unknown'``;
- the total row is always computed on all rows (by ``pipeline_metrics`` and the
  funnel functions on the whole frames), never as a sum of breakdown rows; it
  is the last row, with ``is_total`` True and the value ``'total'``;
- a *small group* (fewer than :data:`MIN_GROUP` observations behind a rate) is
  kept and shown, but never ranked: tables list the ranked (non-small) rows by
  the rate, highest first, then the small rows and the 'unknown' row in key
  order, then the total.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from helpers.data.periods import Period
from helpers.metrics.breakdown import UNKNOWN, _labels, _sorted_keys, breakdown, target_fit
from helpers.metrics.stages import STAGE_TRANSITIONS
from helpers.metrics.funnel import (_ids, funnel_cohort, funnel_period, linked_pairs, maturity_days,
                                    typical_days_to_opportunity)
from helpers.metrics.pipeline import dates, day, last_day, outcome_is, pipeline_metrics, ratio
from helpers.metrics.roi import roi_by_channel
from helpers.storage import to_jsonable

#: Smallest group whose rate is ranked: fewer than 20 closed deals (win rate) or
#: 20 cohort leads (lead-to-opportunity rate, CVR) or 20 MQLs (SLA hit rate) make a
#: small group. With 20 observations a 95% Wilson interval is still about ±0.2 wide
#: around a 50% rate, so a ranking below that is mostly noise.
MIN_GROUP = 20

#: Label of the total row.
TOTAL = "total"

#: The stage transitions of :func:`stage_times`, in funnel order.
TRANSITIONS = STAGE_TRANSITIONS

#: The KPIs of :func:`period_over_period`, in order, and which of them are rates.
POP_KPIS = ("leads", "mql_rate", "lead_to_opportunity_rate", "opportunities_created", "win_rate",
            "won_revenue", "avg_deal_size", "sales_cycle_days", "sales_velocity")
RATE_KPIS = ("mql_rate", "lead_to_opportunity_rate", "win_rate")

#: The keys of one :func:`follow_up_sla` result, in order.
SLA_KEYS = ("sla_hours", "mqls", "touched_within_sla", "touched_late", "untouched", "not_yet_due",
            "hit_rate", "hit_rate_low", "hit_rate_high", "untouched_share", "median_hours_to_touch")

#: The keys of one :func:`marketing_roi` row, in order.
ROI_KEYS = ("spend", "leads", "opportunities_created", "pipeline_amount", "won_revenue", "cohort_won_revenue",
            "cost_per_lead", "cost_per_opportunity", "return_on_spend")


# --------------------------------------------------------------------------- small pieces
def _plain(value):
    """A plain Python value for JSON (the recorder's rule: NaN / NA -> None, numpy scalars -> Python numbers)."""
    return to_jsonable(value)


def _frame(rows: list[dict], columns: list[str], ints=(), bools=(), maybe_bools=()) -> pd.DataFrame:
    """Rows of plain values as a DataFrame: counts as Int64, flags as bool / boolean, the rest as given."""
    frame = pd.DataFrame(rows, columns=columns)
    for c in ints:
        frame[c] = pd.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
                             for v in frame[c]], dtype="Int64")
    for c in bools:
        frame[c] = frame[c].astype(bool)
    for c in maybe_bools:
        frame[c] = pd.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else bool(v)
                             for v in frame[c]], dtype="boolean")
    return frame.reset_index(drop=True)


def _order(rows: list[dict], rank_by: str, small_key: str) -> list[dict]:
    """Ranked rows by `rank_by` descending (null last, ties in key order), then the unranked rows in key order, then the total.

    Unranked: the small groups and the 'unknown' row (missing data is not a
    value to rank against the real ones). `rows` come in key order.
    """
    body = [r for r in rows if not r["is_total"]]
    total = [r for r in rows if r["is_total"]]
    unranked = [r for r in body if r[small_key] or r["value"] == UNKNOWN]
    ranked = [r for r in body if not (r[small_key] or r["value"] == UNKNOWN)]
    ranked = sorted(ranked, key=lambda r: (r[rank_by] is None, -(r[rank_by] or 0.0)))  # sorted() is stable
    return ranked + unranked + total


def with_target_fit(leads: pd.DataFrame | None, opps: pd.DataFrame, industries, company_sizes):
    """Copies of leads and opps with a `target_fit` column (:func:`helpers.metrics.breakdown.target_fit`), for rate_table(column='target_fit')."""
    opps = opps.assign(target_fit=target_fit(opps, industries, company_sizes))
    if leads is not None:
        leads = leads.assign(target_fit=target_fit(leads, industries, company_sizes))
    return leads, opps


# --------------------------------------------------------------------------- Wilson interval
def wilson_interval(successes, n, confidence: float = 0.95):
    """Wilson score interval of a rate successes / n at the given confidence: (low, high); (None, None) when n is 0.

    statsmodels' ``proportion_confint(method='wilson')``; the interval always
    lies in [0, 1] and is not centred on the rate (it leans towards 0.5), so it
    stays meaningful for 0 of n and n of n. ``n`` None / NaN / 0 gives (None, None).
    """
    if n is None or successes is None or pd.isna(n) or pd.isna(successes) or int(n) == 0:
        return (None, None)
    low, high = proportion_confint(int(successes), int(n), alpha=1.0 - float(confidence), method="wilson")
    return (float(min(max(low, 0.0), 1.0)), float(min(max(high, 0.0), 1.0)))


# --------------------------------------------------------------------------- rate table
RATE_TABLE_COLUMNS = [
    "is_total",
    "leads", "mql", "mql_rate", "mql_rate_low", "mql_rate_high",
    "opportunity", "lead_to_opportunity_rate", "lead_to_opportunity_rate_low", "lead_to_opportunity_rate_high",
    "won", "lead_to_won_rate", "immature",
    "opportunities_created", "won_count", "lost_count", "win_rate", "win_rate_low", "win_rate_high",
    "won_revenue", "avg_deal_size",
    "small_lead_to_opportunity", "small_win_rate", "small_group",
]


def _rate_row(value, is_total: bool, pipe: dict | None, cohort: dict | None, min_group: int, rank_by: str) -> dict:
    pipe = pipe or {}
    cohort = cohort or {}
    leads, mql, opp, won = (cohort.get(k) for k in ("leads", "mql", "opportunity", "won"))
    won_count, lost_count = pipe.get("won_count"), pipe.get("lost_count")
    closed = None if won_count is None else won_count + lost_count
    row = {"value": value, "is_total": is_total,
           "leads": leads, "mql": mql, "mql_rate": cohort.get("mql_rate")}
    row["mql_rate_low"], row["mql_rate_high"] = wilson_interval(mql, leads)
    row["opportunity"] = opp
    row["lead_to_opportunity_rate"] = cohort.get("lead_to_opportunity_rate")
    row["lead_to_opportunity_rate_low"], row["lead_to_opportunity_rate_high"] = wilson_interval(opp, leads)
    row["won"] = won
    row["lead_to_won_rate"] = cohort.get("lead_to_won_rate")
    row["immature"] = cohort.get("immature")
    row["opportunities_created"] = pipe.get("opportunities_created")
    row["won_count"], row["lost_count"] = won_count, lost_count
    row["win_rate"] = pipe.get("win_rate")
    # a win rate made null for a data-wide reason (no lost deals) has no interval either
    row["win_rate_low"], row["win_rate_high"] = wilson_interval(won_count, closed) if row["win_rate"] is not None else (None, None)
    row["won_revenue"] = pipe.get("won_revenue")
    row["avg_deal_size"] = pipe.get("avg_deal_size")
    row["small_lead_to_opportunity"] = (leads or 0) < min_group
    row["small_win_rate"] = (closed or 0) < min_group
    row["small_group"] = row["small_win_rate"] if rank_by == "win_rate" else row["small_lead_to_opportunity"]
    return row


def rate_table(leads: pd.DataFrame | None, opps: pd.DataFrame, column: str, start, end, as_of,
               min_group: int = MIN_GROUP, typical_days=None, rank_by: str = "lead_to_opportunity_rate",
               facts=None) -> pd.DataFrame:
    """Rates by value of a column with counts beside them and 95% Wilson intervals; small groups marked, not ranked; the total from all rows.

    One row per value of `column` (the rows of :func:`helpers.metrics.breakdown.breakdown`,
    'unknown' for null), then a total row. Columns: `column` (the value;
    'total' on the total row), ``is_total``;
    cohort view of the leads created in P (funnel side, through the lead's value):
    ``leads``, ``mql``, ``mql_rate`` (CVR) with ``mql_rate_low``/``_high``,
    ``opportunity``, ``lead_to_opportunity_rate`` (商談化率) with ``_low``/``_high``,
    ``won``, ``lead_to_won_rate``, ``immature``;
    period view of the opportunities (pipeline side, the opportunity's own value):
    ``opportunities_created``, ``won_count``, ``lost_count``, ``win_rate`` (受注率)
    with ``win_rate_low``/``_high``, ``won_revenue`` (受注金額), ``avg_deal_size``;
    flags: ``small_lead_to_opportunity`` (fewer than `min_group` cohort leads),
    ``small_win_rate`` (fewer than `min_group` closed deals, won + lost), and
    ``small_group`` = the flag of the rate the table is ranked by (`rank_by`:
    'lead_to_opportunity_rate' or 'win_rate').

    Order: rows that are not small by `rank_by` descending (a null rate last,
    ties in key order), then the unranked rows (the small groups and the
    'unknown' row) in key order (sorted, 'unknown' last), then the total. The total row is ``pipeline_metrics`` and
    ``funnel_cohort`` on the whole frames, never the sum of the rows. A side
    with no data (no leads table, or the column missing from a table) is null.
    With `facts` (:class:`helpers.metrics.limits.DataFacts`), the pipeline figures the data
    cannot support are null in every row (:func:`helpers.metrics.limits.explain_pipeline`:
    no lost deals makes every win rate and its interval null, no amounts the money).
    """
    from helpers.metrics.source import FrameSource

    return rate_table_of(FrameSource(leads, opps), column, start, end, as_of, min_group, typical_days, rank_by, facts)


def rate_table_of(source, column: str, start, end, as_of, min_group: int = MIN_GROUP, typical_days=None,
                  rank_by: str = "lead_to_opportunity_rate", facts=None) -> pd.DataFrame:
    """:func:`rate_table` of a :class:`helpers.metrics.source.Source` (the engine's grouped aggregates: a row per value
    fetched). KeyError when `column` is in neither table; ValueError for another `rank_by`."""
    return rate_tables_of(source, [column], start, end, as_of, min_group, typical_days, rank_by, facts)[column]


def rate_tables_of(source, columns, start, end, as_of, min_group: int = MIN_GROUP, typical_days=None,
                   rank_by: str = "lead_to_opportunity_rate", facts=None) -> dict[str, pd.DataFrame]:
    """``{column: rate_table_of(source, column, ...)}`` for each of `columns`, from one grouped pass per table over all
    of them (:func:`helpers.metrics.breakdown.breakdowns_of`; each value's counts are its own whatever else is grouped,
    and the total rows are the same): notebook 02's rate tables of every dimension in the queries of one. KeyError
    when a column is in neither table; ValueError for another `rank_by`."""
    from helpers.metrics.breakdown import breakdowns_of
    from helpers.metrics.funnel import maturity_days_of, typical_days_of
    from helpers.metrics.limits import explain_pipeline

    if rank_by not in ("lead_to_opportunity_rate", "win_rate"):
        raise ValueError(f"rank_by must be 'lead_to_opportunity_rate' or 'win_rate', got {rank_by!r}")
    if typical_days is None:
        typical_days = typical_days_of(source, as_of)
    maturity = maturity_days_of(source, as_of)
    columns = list(dict.fromkeys(columns))
    found, totals = breakdowns_of(source, columns, start, end, as_of, typical_days=typical_days, with_totals=True,
                                  maturity=maturity)
    total_cohort = None if totals["funnel"] is None else totals["funnel"]["cohort"]
    total_pipe = totals["pipeline"]
    if facts is not None:
        total_pipe = explain_pipeline(total_pipe, facts)
    out = {}
    for column in columns:
        rows = []
        for value, row in found[column].items():
            pipe = None if row.get("opportunities_created") is None else row
            if pipe is not None and facts is not None:
                pipe = explain_pipeline(pipe, facts)
            cohort = None if row["funnel"] is None else row["funnel"]["cohort"]
            rows.append(_rate_row(value, False, pipe, cohort, min_group, rank_by))
        rows.append(_rate_row(TOTAL, True, total_pipe, total_cohort, min_group, rank_by))
        rows = _order(rows, rank_by, "small_group")
        frame = _frame(rows, ["value"] + RATE_TABLE_COLUMNS,
                       ints=("leads", "mql", "opportunity", "won", "opportunities_created", "won_count", "lost_count"),
                       bools=("is_total", "small_lead_to_opportunity", "small_win_rate", "small_group"),
                       maybe_bools=("immature",))
        out[column] = frame.rename(columns={"value": column})
    return out


def reranked(table: pd.DataFrame, column: str, rank_by: str) -> pd.DataFrame:
    """A :func:`rate_table` ranked by another rate: the same rows with ``small_group`` the flag of `rank_by` and in
    :func:`rate_table`'s order for `rank_by` (what rate_table(..., rank_by=rank_by) returns, without computing the
    figures again). ValueError for a rank_by rate_table refuses."""
    if rank_by not in ("lead_to_opportunity_rate", "win_rate"):
        raise ValueError(f"rank_by must be 'lead_to_opportunity_rate' or 'win_rate', got {rank_by!r}")
    small = table["small_win_rate"] if rank_by == "win_rate" else table["small_lead_to_opportunity"]
    frame = table.assign(small_group=small.astype(bool)).reset_index(drop=True)
    keys = {k: i for i, k in enumerate(_sorted_keys(frame.loc[~frame["is_total"], column]))}
    rows = [{"pos": i, "value": v, "is_total": bool(total), "small_group": bool(g), rank_by: None if pd.isna(x) else float(x)}
            for i, (v, total, g, x) in enumerate(zip(frame[column], frame["is_total"], frame["small_group"], frame[rank_by]))]
    rows.sort(key=lambda r: (r["is_total"], keys.get(r["value"], 0)))   # rate_table's key order, the total last
    return frame.iloc[[r["pos"] for r in _order(rows, rank_by, "small_group")]].reset_index(drop=True)


# --------------------------------------------------------------------------- stage times
def _gaps(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, start=None, end=None) -> dict[str, np.ndarray | None]:
    """Days between the two events of each transition, over pairs whose later event is dated in the window (negative
    gaps kept); computed by the engine (:func:`helpers.metrics.stages.stage_gaps_expr`), None without a leads table."""
    from helpers.metrics.stages import stage_gap_samples

    table = stage_gap_samples(leads, opps, as_of, start, end)
    codes = table.column("code").to_numpy()
    gaps = table.column("gap").to_numpy()
    out: dict[str, np.ndarray | None] = dict.fromkeys(TRANSITIONS)
    for code, name in enumerate(TRANSITIONS):
        if leads is not None or name == "opportunity_to_close":
            out[name] = gaps[codes == code]
    return out


def stage_time_samples(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, start=None, end=None) -> pd.DataFrame:
    """Days between stages, one row per pair (transition, days), for distribution charts: the values stage_times summarises.

    Same pairs as :func:`stage_times` (negative gaps left out); transitions in
    funnel order. The lead transitions are absent without a leads table.
    """
    parts = [pd.DataFrame({"transition": name, "days": values})
             for name, values in _gaps(leads, opps, as_of, start, end).items()
             if values is not None]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"transition": [], "days": []})
    frame = frame[frame["days"] >= 0].reset_index(drop=True)
    frame["transition"] = pd.Categorical(frame["transition"], categories=list(TRANSITIONS), ordered=True)
    frame["days"] = frame["days"].astype("float64")
    return frame


def stage_time_boxes(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, start=None, end=None) -> pd.DataFrame:
    """Box plot statistics of the days between stages, computed by the engine (only these rows are fetched).

    The pairs of :func:`stage_time_samples` (gap >= 0; whole history to as_of when start is None). One row per
    transition with at least one pair, in funnel order: ``transition``, ``n``, ``q1``, ``median``, ``q3`` (days,
    linear interpolation), ``whislo`` / ``whishi`` (days: the most extreme pairs within 1.5 interquartile ranges of
    the box, never inside it: matplotlib.cbook.boxplot_stats' rule, equal to its result on the samples).
    Engine: :func:`helpers.metrics.stages.stage_box_expr`.
    """
    from helpers.metrics.source import FrameSource

    return stage_time_boxes_of(FrameSource(leads, opps), as_of, start, end)


def stage_time_boxes_of(source, as_of, start=None, end=None) -> pd.DataFrame:
    """:func:`stage_time_boxes` of a :class:`helpers.metrics.source.Source` (one row per transition fetched)."""
    from helpers.metrics.stages import stage_box_aggregates_of

    found = stage_box_aggregates_of(source, as_of, start, end)
    rows = []
    for name in TRANSITIONS:
        row = found.get(name)
        if row is None or (not source.has_leads and name != "opportunity_to_close"):
            continue
        low, high = row["whislo"], row["whishi"]
        rows.append({"transition": name, "n": int(row["n"]), "q1": row["q1"], "median": row["median"], "q3": row["q3"],
                     "whislo": row["q1"] if low is None else min(low, row["q1"]),
                     "whishi": row["q3"] if high is None else max(high, row["q3"])})
    return _frame(rows, ["transition", "n", "q1", "median", "q3", "whislo", "whishi"], ints=("n",))


def _stage_stats(source, as_of, start=None, end=None) -> dict[str, dict]:
    """n, median_days, p90_days, negative per transition of a source, from the engine's aggregate (:func:`helpers.metrics.stages.stage_times_expr`)."""
    from helpers.metrics.stages import stage_time_aggregates_of

    return derive_stage_stats(stage_time_aggregates_of(source, as_of, start, end), source.has_leads)


def derive_stage_stats(found: dict[str, dict], with_leads: bool = True) -> dict[str, dict]:
    """``{transition: {n, median_days, p90_days, negative}}`` in funnel order from the engine's rows per transition
    (helpers.metrics.stages.stage_time_aggregates: n, negative, median, p90; a transition without a row had no pair:
    n 0, days null). Without a leads table (`with_leads` False) the lead transitions are null. Pure: a folder and a
    warehouse (helpers.metrics.warehouse) derive their stage times here."""
    out = {}
    for name in TRANSITIONS:
        if not with_leads and name != "opportunity_to_close":
            out[name] = {"n": None, "median_days": None, "p90_days": None, "negative": None}
            continue
        row = found.get(name) or {"n": 0, "negative": 0, "median": None, "p90": None}
        n = int(row["n"])
        out[name] = {"n": n, "median_days": None if not n else float(row["median"]),
                     "p90_days": None if not n else float(row["p90"]), "negative": int(row["negative"])}
    return out


def stage_times(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, start=None, end=None) -> pd.DataFrame:
    """Time between funnel stages as a distribution: n, median and 90th percentile of the days from one stage to the next.

    One row per transition, in funnel order: ``lead_to_mql`` (lead created_at →
    mql_at), ``mql_to_sql`` (mql_at → sql_at), ``sql_to_opportunity`` (sql_at →
    created_at of the linked opportunity, links from either table),
    ``opportunity_to_close`` (created_at → closed_at of won and lost deals).
    Pairs count when both dates are known, both are on or before as_of and the
    later event is dated in [start, min(end, as_of)] (all history to as_of when
    start is None); for sql_to_opportunity the lead must exist on as_of.
    Columns ``transition``, ``n`` (pairs used), ``median_days``, ``p90_days``
    (numpy linear interpolation; null when n is 0), ``negative`` (pairs whose
    later event is dated before the earlier one: data errors, left out of n and
    the statistics). Without a leads table the three lead transitions are null.
    """
    from helpers.metrics.source import FrameSource

    return stage_times_of(FrameSource(leads, opps), as_of, start, end)


def stage_times_of(source, as_of, start=None, end=None) -> pd.DataFrame:
    """:func:`stage_times` of a :class:`helpers.metrics.source.Source` (one row per transition fetched)."""
    rows = [{"transition": name, **values} for name, values in _stage_stats(source, as_of, start, end).items()]
    return _frame(rows, ["transition", "n", "median_days", "p90_days", "negative"], ints=("n", "negative"))


# --------------------------------------------------------------------------- follow-up SLA
def _sla_result(row: dict | None, sla_hours: float) -> dict:
    """One :func:`follow_up_sla` result (keys :data:`SLA_KEYS`) from a row of helpers.metrics.sla_engine.sla_expr
    (None: no lead)."""
    from helpers.metrics.sla_engine import HOUR_US

    row = row or {}
    n, n_hit, untouched = (int(row.get(k) or 0) for k in ("mqls", "hit", "untouched"))
    low, high = wilson_interval(n_hit, n)
    median = row.get("median_us")
    return {
        "sla_hours": float(sla_hours),
        "mqls": n,
        "touched_within_sla": n_hit,
        "touched_late": int(row.get("late") or 0),
        "untouched": untouched,
        "not_yet_due": int(row.get("in_window") or 0) - n,
        "hit_rate": ratio(n_hit, n),
        "hit_rate_low": low,
        "hit_rate_high": high,
        "untouched_share": ratio(untouched, n),
        "median_hours_to_touch": None if median is None else float(median) / HOUR_US,
    }


def follow_up_sla(leads: pd.DataFrame | None, as_of, sla_hours: float, start=None, end=None, by: str | None = None,
                  min_group: int = MIN_GROUP):
    """Follow-up SLA hit rate: the share of due MQLs first touched by sales within sla_hours of becoming MQL.

    The MQLs counted (``mqls``) are the leads that exist on as_of with mql_at in
    [start, min(end, as_of)] (all history when start is None) whose deadline
    has passed: deadline = mql_at 00:00 + sla_hours (mql_at is a date, so the
    clock starts at its midnight) on or before the end of the as_of day; the
    younger ones are counted in ``not_yet_due`` and left out. Of those:
    ``touched_within_sla`` (first_sales_touch_at on or before the deadline; a
    touch before the MQL date counts), ``touched_late``, ``untouched`` (no
    first_sales_touch_at known on as_of: 未対応MQL, the leads left for later),
    ``hit_rate`` = touched_within_sla / mqls with Wilson ``hit_rate_low``/``_high``,
    ``untouched_share`` = untouched / mqls, ``median_hours_to_touch`` over the
    touched MQLs (a touch before the MQL date counts as 0 hours). Rates are
    null when mqls is 0. Same rule as checklist evidence item 5.

    Without `by`: one dict (keys :data:`SLA_KEYS`). With `by` a leads column:
    a DataFrame with one row per value (null -> 'unknown'; the values of the
    leads that exist on as_of, sorted, 'unknown' last), a ``small_group`` flag
    (fewer than `min_group` MQLs) and the total row of all leads last; rows are
    not ranked. None without a leads table or without an mql_at or
    first_sales_touch_at column.
    """
    from helpers.metrics.source import FrameSource

    return follow_up_sla_of(FrameSource(leads, None), as_of, sla_hours, start, end, by, min_group)


def follow_up_sla_of(source, as_of, sla_hours: float, start=None, end=None, by: str | None = None,
                     min_group: int = MIN_GROUP):
    """:func:`follow_up_sla` of a :class:`helpers.metrics.source.Source` (one grouped query: a row per value of `by`
    and the total; helpers.metrics.sla_engine.sla_expr). KeyError when the leads lack `by`."""
    from helpers.metrics.engine import ALL, by_dim
    from helpers.metrics.sla_engine import sla_expr

    if not source.has_leads or not all(source.has_column("leads", c) for c in ("mql_at", "first_sales_touch_at")):
        return None
    if by is not None and not source.has_column("leads", by):
        raise KeyError(f"column {by!r} is not in the leads table")
    dims = [by] if by is not None else []
    found = source.run(sla_expr(source.leads(dims, stamps=("first_sales_touch_at",)), as_of, sla_hours, start, end,
                                dims))
    total = _sla_result(found.get((ALL, ALL)), sla_hours)
    if by is None:
        return total
    groups = by_dim(found, by)
    rows = []
    for value in _sorted_keys(k for k, row in groups.items() if row["exists"]):
        result = _sla_result(groups[value], sla_hours)
        rows.append({"value": value, "is_total": False, **result, "small_group": result["mqls"] < min_group})
    rows.append({"value": TOTAL, "is_total": True, **total, "small_group": total["mqls"] < min_group})
    frame = _frame(rows, ["value", "is_total", *SLA_KEYS, "small_group"],
                   ints=("mqls", "touched_within_sla", "touched_late", "untouched", "not_yet_due"),
                   bools=("is_total", "small_group"))
    return frame.rename(columns={"value": by})


# --------------------------------------------------------------------------- marketing ROI
def cohort_won_revenue(leads: pd.DataFrame | None, opps: pd.DataFrame, start, end, as_of) -> float | None:
    """Won revenue, to as_of, of the leads created in [start, min(end, as_of)]: the known amounts of the distinct
    opportunities linked to those leads (either link column) that were won on or before as_of. Currency; 0.0 when
    none was won; None without a leads table. The return a period's spend bought (cohort basis)."""
    if leads is None:
        return None
    cutoff = day(as_of)
    cohort = leads[dates(leads, "created_at").between(day(start), min(day(end), cutoff))]
    pairs = linked_pairs(cohort, opps)
    pairs = pairs[pairs["lead_id"].isin(set(_ids(cohort["lead_id"]).dropna()))]
    won = outcome_is(opps, "won") & (dates(opps, "closed_at") <= cutoff) & _ids(opps["opportunity_id"]).isin(set(pairs["opportunity_id"]))
    if "amount" not in opps.columns:
        return 0.0
    amounts = pd.to_numeric(opps.loc[won, "amount"], errors="coerce").to_numpy(dtype=float)
    return float(np.nansum(amounts))


def marketing_roi(spend: pd.DataFrame | None, leads: pd.DataFrame | None, opps: pd.DataFrame, start, end, as_of):
    """Marketing ROI by channel: spend in P, leads, opportunities, pipeline and won revenue, cost per lead, cost per opportunity, return on spend.

    One row per channel (the union of the channels of spend rows dated on or
    before as_of and of leads and opportunities created on or before as_of;
    null -> 'unknown'; sorted, 'unknown' last), then the total row of all rows.
    Columns ``channel``, ``is_total``, and:

    - ``spend``: sum of spend amount over the months whose first day is in
      [start, min(end, as_of)] (0.0 when none);
    - ``leads``: leads with created_at in P (the lead's channel; null without a leads table);
    - ``opportunities_created``: opportunities created in P (the opportunity's own channel);
    - ``pipeline_amount``: sum of the known amounts of those opportunities;
    - ``won_revenue``: won_revenue of ``pipeline_metrics`` on the channel's opportunities (closed in P, whenever created);
    - ``cohort_won_revenue``: :func:`cohort_won_revenue` of the channel's leads created in P (the lead's channel),
      to as_of: what the period's spend bought (null without a leads table);
    - ``cost_per_lead`` = spend / leads (リード単価, CPL), ``cost_per_opportunity``
      = spend / opportunities_created (商談単価), ``return_on_spend`` = cohort_won_revenue
      / spend (ROAS on a cohort basis: the spend of P against the revenue of P's leads, to as_of; still growing
      while the cohort is young); each null when its denominator is 0 and all three are
      null when spend is 0 (no recorded cost is unknown, not free: a channel without spend gets no ratio). The
      total's return_on_spend counts the cohort revenue of the channels with spend only. pipeline_amount,
      won_revenue, cohort_won_revenue and return_on_spend are null when the data has no amounts at all.

    None when there is no spend table. Computed as grouped engine aggregates, one pass per table
    (:func:`helpers.metrics.roi.roi_by_channel`); :func:`roi_table` turns a memoized result into this frame.
    """
    return roi_table(roi_by_channel(spend, leads, opps, start, end, as_of))


def roi_table(result) -> pd.DataFrame | None:
    """The :func:`marketing_roi` frame of a :func:`helpers.metrics.roi.roi_by_channel` result (None stays None)."""
    if result is None:
        return None
    rows, total = result
    records = [{"channel": k, "is_total": False, **{kk: vv for kk, vv in v.items() if kk != "null_reasons"}}
               for k, v in rows.items()]
    records.append({"channel": TOTAL, "is_total": True, **{k: v for k, v in total.items() if k != "null_reasons"}})
    return _frame(records, ["channel", "is_total", *ROI_KEYS], ints=("leads", "opportunities_created"),
                  bools=("is_total",))


# --------------------------------------------------------------------------- period over period
def _kpis(source, period: Period, as_of, typical_days, maturity=None, facts=None) -> dict:
    from helpers.metrics.breakdown import breakdowns_of
    from helpers.metrics.limits import explain_pipeline

    _, totals = breakdowns_of(source, [], period.start, period.end, as_of, typical_days=typical_days, with_totals=True,
                              maturity=maturity)
    pipe = totals["pipeline"]
    if facts is not None:
        pipe = explain_pipeline(pipe, facts)
    fp = None if totals["funnel"] is None else totals["funnel"]["period"]
    cohort = None if totals["funnel"] is None else totals["funnel"]["cohort"]
    values = {
        "leads": None if fp is None else fp["leads"],
        "mql_rate": None if cohort is None else cohort["mql_rate"],
        "lead_to_opportunity_rate": None if cohort is None else cohort["lead_to_opportunity_rate"],
        **{k: pipe[k] for k in ("opportunities_created", "win_rate", "won_revenue", "avg_deal_size",
                                "sales_cycle_days")},
        "sales_velocity": pipe["sales_velocity"],
    }
    return {"values": values, "immature": None if cohort is None else cohort["immature"]}


def change(after, before):
    """Relative change after / before − 1; None when either is None or before is 0."""
    if after is None or before is None or pd.isna(after) or pd.isna(before) or before == 0:
        return None
    return float(after) / float(before) - 1.0


def _difference(after, before):
    if after is None or before is None:
        return None
    return float(after) - float(before)


def period_over_period(leads: pd.DataFrame | None, opps: pd.DataFrame, period: Period, as_of, facts=None) -> pd.DataFrame:
    """Period-over-period change: each shared KPI in P, in the previous period and in the same period a year earlier, with the change.

    One row per KPI of :data:`POP_KPIS`: ``leads`` (created in P),
    ``mql_rate`` (CVR) and ``lead_to_opportunity_rate`` (商談化率) of the cohort
    view, and the pipeline keys ``opportunities_created``, ``win_rate`` (受注率),
    ``won_revenue`` (受注金額), ``avg_deal_size``, ``sales_cycle_days``,
    ``sales_velocity``. Columns: ``kpi``, ``is_rate``, ``current`` (P),
    ``previous`` (``period.shift(-1)``), ``year_ago`` (``period.shift(-4)``),
    ``change_vs_previous`` / ``change_vs_year_ago`` = current / other − 1 (null
    when either is null or the other is 0), ``diff_vs_previous`` /
    ``diff_vs_year_ago`` = current − other for rates only (a fraction: 0.05 = 5
    points), and for the two cohort rates ``immature_current`` /
    ``immature_previous`` / ``immature_year_ago`` (a cohort still maturing is
    not final; never compare it with a mature one as if it were). Every period
    is computed as known on the same as_of, with one maturity yardstick (the
    typical days of all data). ``frame.attrs["periods"]`` holds the three labels and
    ``frame.attrs["coverage"]`` the :func:`helpers.metrics.limits.coverage` of each period (the
    data from the first created_at of leads and opportunities to as_of): a change against
    a partial period is not like for like and the report flags it. With `facts`, the
    pipeline figures the data cannot support are null (:func:`helpers.metrics.limits.explain_pipeline`).
    """
    from helpers.metrics.source import FrameSource

    return period_over_period_of(FrameSource(leads, opps), period, as_of, facts)


def period_over_period_of(source, period: Period, as_of, facts=None) -> pd.DataFrame:
    """:func:`period_over_period` of a :class:`helpers.metrics.source.Source` (aggregate rows fetched per period)."""
    from helpers.metrics.funnel import maturity_days_of, typical_days_of
    from helpers.metrics.limits import coverage, source_dates

    first = source_dates(source)[0]
    first = day(as_of) if first is None else first
    typical = typical_days_of(source, as_of)
    periods = {"current": period, "previous": period.shift(-1), "year_ago": period.shift(-4)}
    maturity = maturity_days_of(source, as_of)
    results = {name: _kpis(source, p, as_of, typical, maturity, facts) for name, p in periods.items()}
    rows = []
    for kpi in POP_KPIS:
        cur, prev, ago = (results[n]["values"][kpi] for n in ("current", "previous", "year_ago"))
        is_rate = kpi in RATE_KPIS
        cohort_rate = kpi in ("mql_rate", "lead_to_opportunity_rate")
        rows.append({
            "kpi": kpi, "is_rate": is_rate, "current": cur, "previous": prev, "year_ago": ago,
            "change_vs_previous": change(cur, prev), "change_vs_year_ago": change(cur, ago),
            "diff_vs_previous": _difference(cur, prev) if is_rate else None,
            "diff_vs_year_ago": _difference(cur, ago) if is_rate else None,
            "immature_current": results["current"]["immature"] if cohort_rate else None,
            "immature_previous": results["previous"]["immature"] if cohort_rate else None,
            "immature_year_ago": results["year_ago"]["immature"] if cohort_rate else None,
        })
    columns = ["kpi", "is_rate", "current", "previous", "year_ago", "change_vs_previous", "change_vs_year_ago",
               "diff_vs_previous", "diff_vs_year_ago", "immature_current", "immature_previous", "immature_year_ago"]
    frame = _frame(rows, columns, bools=("is_rate",),
                   maybe_bools=("immature_current", "immature_previous", "immature_year_ago"))
    for c in ("current", "previous", "year_ago", "change_vs_previous", "change_vs_year_ago",
              "diff_vs_previous", "diff_vs_year_ago"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    frame.attrs["periods"] = {name: p.label for name, p in periods.items()}
    frame.attrs["coverage"] = {name: coverage(first, as_of, p.start, p.end) for name, p in periods.items()}
    return frame


# --------------------------------------------------------------------------- heatmap
def heatmap_table(leads: pd.DataFrame | None, opps: pd.DataFrame, row_col: str, col_col: str, start, end, as_of,
                  min_group: int = MIN_GROUP, value: str = "rate", typical_days=None) -> pd.DataFrame | None:
    """Lead-to-opportunity rate (商談化率, cohort view) for each row_col × col_col cell; NaN where a cell has fewer than min_group leads.

    The cells split the leads created in [start, min(end, as_of)] by their own
    values (null or blank -> 'unknown'; trimmed as the breakdown keys are); rows and columns are the values present
    in that cohort, sorted, 'unknown' last. A cell's rate is ``funnel_cohort``'s lead_to_opportunity_rate on its
    leads (opportunities attributed through the lead, as in the breakdowns; helpers.metrics.funnel.derive_cohort of
    the cell's counts). A cell with fewer than `min_group` leads (including none) is NaN: too small to colour.
    ``value='leads'`` returns the cohort lead counts instead (0 for an empty cell), so a chart can print n in each
    cell. None without a leads table. The counts of every cell are one engine query
    (:func:`helpers.metrics.engine.lead_cells_expr`: one row per cell is fetched); `typical_days` only fills the
    derivation's field of that name (the rate does not depend on it).
    """
    from helpers.metrics.source import FrameSource

    if leads is None:
        return None
    return heatmap_table_of(FrameSource(leads, opps), row_col, col_col, start, end, as_of, min_group, value, typical_days)


def heatmap_table_of(source, row_col: str, col_col: str, start, end, as_of, min_group: int = MIN_GROUP,
                     value: str = "rate", typical_days=None) -> pd.DataFrame | None:
    """:func:`heatmap_table` of a :class:`helpers.metrics.source.Source` (one row per cell fetched)."""
    if not source.has_leads:
        return None
    for c in (row_col, col_col):
        if not source.has_column("leads", c):
            raise KeyError(f"column {c!r} is not in the leads table")
    if value not in ("rate", "leads"):
        raise ValueError(f"value must be 'rate' or 'leads', got {value!r}")
    from helpers.metrics import engine
    from helpers.metrics.funnel import derive_cohort

    s, last, a = engine.period_bounds(start, end, as_of)
    flags = engine.lead_flags_expr(source.leads([row_col, col_col]), source.opps(), s, last, a)
    found = source.fetch(engine.lead_cells_expr(flags, s, last, 2)).to_pylist()
    cells = {(row.pop("k0"), row.pop("k1")): row for row in found if row["c_leads"]}
    row_values, col_values = _sorted_keys(r for r, _ in cells), _sorted_keys(c for _, c in cells)
    out = pd.DataFrame(np.nan, index=pd.Index(row_values, name=row_col),
                       columns=pd.Index(col_values, name=col_col), dtype="float64")
    for (r, c), counts in cells.items():
        if value == "leads":
            out.loc[r, c] = float(counts["c_leads"])
        elif counts["c_leads"] >= min_group:
            rate = derive_cohort(counts, typical_days, end, as_of)["lead_to_opportunity_rate"]
            out.loc[r, c] = np.nan if rate is None else rate
    return out.fillna(0.0).astype("int64") if value == "leads" else out


# --------------------------------------------------------------------------- metrics.json pieces
def funnel_metrics_extra(leads: pd.DataFrame | None, opps: pd.DataFrame, spend: pd.DataFrame | None,
                         period: Period, as_of, sla_hours: float, source=None) -> dict:
    """The funnel-analysis pieces of metrics.json for period P: follow-up SLA, marketing ROI, traceable revenue share, stage times.

    - ``sla``: :func:`follow_up_sla` over the MQLs of P (None without leads / the SLA columns);
    - ``roi``: ``{channel: {<ROI_KEYS>}}`` of :func:`marketing_roi` (None without spend);
      ``roi_total``: the total row (None without spend);
    - ``revenue_traceable_share``: of :func:`helpers.metrics.health.traceability` on the
      deals won in P (share of won revenue whose channel is known; None when nothing was won);
    - ``stage_times``: ``{transition: {n, median_days, p90_days, negative}}`` of
      :func:`stage_times` for the pairs whose later event is in P (opportunity_to_close
      null with ``null_reasons`` when every opportunity shares one created_at: a bulk load).

    Every piece is computed on `source` (a :class:`helpers.metrics.source.Source`; notebook 02 passes ``s.source``),
    default the frames.
    """
    from helpers.metrics.source import FrameSource

    source = source or FrameSource(leads, opps)
    roi = roi_by_channel(spend, leads, opps, period.start, period.end, as_of, source)
    return {
        "sla": follow_up_sla_of(source, as_of, sla_hours, period.start, period.end),
        "roi": None if roi is None else {k: {kk: _plain(vv) for kk, vv in v.items()} for k, v in roi[0].items()},
        "roi_total": None if roi is None else {k: _plain(v) for k, v in roi[1].items()},
        "revenue_traceable_share": _plain(traceable_share_of(source, as_of, period.start, period.end)),
        "stage_times": _stage_times_explained(leads, opps, as_of, period.start, period.end, source),
    }


def traceable_share_of(source, as_of, start, end) -> float | None:
    """helpers.metrics.health.traceability's revenue_traceable_share of a :class:`helpers.metrics.source.Source`: of
    the won revenue closed in [start, min(end, as_of)] (deals created by as_of), the share whose opportunity channel
    is known (not 'unknown'); None when that revenue is 0 or unknown. One aggregate row fetched."""
    from helpers.metrics import engine

    s, last, a = engine.period_bounds(start, end, as_of)
    o = engine._prepared_opps(source.opps(["channel"]))
    won = engine._won_by(o, s, last, a)
    row = source.fetch(o.aggregate(total=o.amount.sum(where=won),
                                   known=o.amount.sum(where=won & (engine._key_label(o.k0) != engine.UNKNOWN)))).to_pylist()[0]
    total = float(row["total"] or 0.0)
    return ratio(float(row["known"] or 0.0), total) if total else None


def _stage_times_explained(leads, opps, as_of, start, end, source=None) -> dict:
    """:func:`_stage_stats` (of `source`, default the frames), with opportunity_to_close null (reason one_created_at)
    when created_at is a bulk-load stamp."""
    from helpers.metrics.limits import data_facts_of
    from helpers.metrics.source import FrameSource

    source = source or FrameSource(leads, opps)
    stats = _stage_stats(source, as_of, start, end)
    if data_facts_of(source, as_of).one_created_at:
        stats["opportunity_to_close"] = dict(stats["opportunity_to_close"], median_days=None, p90_days=None,
                                             null_reasons={"median_days": "one_created_at", "p90_days": "one_created_at"})
    return stats
