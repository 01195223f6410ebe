"""Stage times and the follow-up SLA behind notebook 02 (contract section 2).

:func:`stage_times` / :func:`stage_time_boxes_of`: days between consecutive funnel events (median, 90th percentile,
box-plot quantiles from the engine); :func:`follow_up_sla` / :func:`follow_up_sla_of`: the share of MQLs touched
by sales within the SLA hours, with its Wilson interval, by channel. Conventions as in
helpers.metrics.funnel_analysis, which still exports every public name.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.metrics.breakdown import _sorted_keys
from helpers.metrics.stages import STAGE_TRANSITIONS
from helpers.metrics.pipeline import ratio
from helpers.metrics.funnel_rates import MIN_GROUP, TOTAL, _frame, wilson_interval


#: The stage transitions of :func:`stage_times`, in funnel order.
TRANSITIONS = STAGE_TRANSITIONS

#: The keys of one :func:`follow_up_sla` result, in order.
SLA_KEYS = ("sla_hours", "mqls", "touched_within_sla", "touched_late", "untouched", "not_yet_due",
            "hit_rate", "hit_rate_low", "hit_rate_high", "untouched_share", "median_hours_to_touch")


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

    return derive_stage_stats(stage_time_aggregates_of(source, as_of, start, end), source.has_leads,
                              source.has_opportunities)


#: The transitions that end or start at an opportunity: null without an opportunities table (no_opportunities).
OPPORTUNITY_TRANSITIONS = ("sql_to_opportunity", "opportunity_to_close")


def derive_stage_stats(found: dict[str, dict], with_leads: bool = True,
                       with_opportunities: bool = True) -> dict[str, dict]:
    """``{transition: {n, median_days, p90_days, negative}}`` in funnel order from the engine's rows per transition
    (helpers.metrics.stages.stage_time_aggregates: n, negative, median, p90; a transition without a row had no pair:
    n 0, days null). Without a leads table (`with_leads` False) the lead transitions are null; without an
    opportunities table (`with_opportunities` False: a leads-only folder) those of :data:`OPPORTUNITY_TRANSITIONS`
    (their counts unknown, not 0). Pure: a folder and a warehouse (helpers.metrics.warehouse) derive their stage
    times here."""
    out = {}
    for name in TRANSITIONS:
        if ((not with_leads and name != "opportunity_to_close")
                or (not with_opportunities and name in OPPORTUNITY_TRANSITIONS)):
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


#: The leads' columns a period's follow-up SLA is counted by in its one query (notebook 02's tables by value).
SLA_DIMS = ("channel", "owner")


def follow_up_sla_of(source, as_of, sla_hours: float, start=None, end=None, by: str | None = None,
                     min_group: int = MIN_GROUP):
    """:func:`follow_up_sla` of a :class:`helpers.metrics.source.Source` (one grouped query: a row per value of `by`
    and the total; helpers.metrics.sla_engine.sla_expr). KeyError when the leads lack `by`.

    A period's SLA (`start` given) is counted by :data:`SLA_DIMS` too, whichever `by` asks, and kept per source, as_of,
    hours and period (:func:`helpers.metrics.source.memoized`): notebook 02 asks for its total, by channel and by
    owner, which one query answers (each value's counts, and the total's, are the same whatever else is grouped)."""
    from helpers.metrics.engine import ALL, _day, by_dim
    from helpers.metrics.sla_engine import sla_expr
    from helpers.metrics.source import memoized

    if not source.has_leads or not all(source.has_column("leads", c) for c in ("mql_at", "first_sales_touch_at")):
        return None
    if by is not None and not source.has_column("leads", by):
        raise KeyError(f"column {by!r} is not in the leads table")
    dims = [by] if by is not None else []
    if start is not None:
        dims = list(dict.fromkeys([*(d for d in SLA_DIMS if source.has_column("leads", d)), *dims]))

    def counts():
        return source.run(sla_expr(source.leads(dims, stamps=("first_sales_touch_at",)), as_of, sla_hours, start, end,
                                   dims))

    key = ("follow_up_sla", _day(as_of), float(sla_hours), start, end, tuple(dims))
    found = memoized(source, key, counts) if start is not None else counts()
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
