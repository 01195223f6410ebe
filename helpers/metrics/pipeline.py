"""Pipeline metrics of one period (contract section 3, "Pipeline").

Every function here is pure: it reads the frames it is given, never changes
them, and returns plain Python values (int, float, None) ready for
``metrics.json``. Definitions (the glossary, docs/glossary.md, uses the same
words):

- a period P is ``[start, end]``, both dates inclusive; nothing dated after
  ``as_of`` counts, so the effective last day is ``min(end, as_of)``;
- an opportunity created after ``as_of`` does not exist yet, and one closed
  after ``as_of`` is still open as far as the report knows;
- a zero denominator gives ``None`` (JSON null), never 0.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: The keys of :func:`pipeline_metrics`, in order (the contract's pipeline keys).
PIPELINE_KEYS = (
    "opportunities_created",
    "won_count",
    "lost_count",
    "win_rate",
    "win_rate_by_amount",
    "won_revenue",
    "avg_deal_size",
    "sales_cycle_days",
    "sales_velocity",
    "open_pipeline",
)


# --------------------------------------------------------------------------- small shared pieces
def day(value) -> pd.Timestamp:
    """The calendar day of a date or datetime (time of day dropped)."""
    return pd.Timestamp(value).normalize()


def last_day(end, as_of) -> pd.Timestamp:
    """The last day that counts in a period: min(end, as_of)."""
    return min(day(end), day(as_of))


def dates(frame: pd.DataFrame, column: str) -> pd.Series:
    """Column `column` of `frame` as calendar days (NaT = null; all NaT when the column is absent)."""
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column]).dt.normalize()


def ratio(numerator, denominator) -> float | None:
    """numerator / denominator as a float; None when the denominator is zero or unknown."""
    if denominator is None or numerator is None or pd.isna(denominator) or pd.isna(numerator):
        return None
    if denominator == 0:
        return None
    return float(numerator) / float(denominator)


def amounts_reason(opportunities: int | None, amounts: int) -> str | None:
    """Why every money figure of the data is null: the one rule of the reason (the pipeline, goals, data health, ROI and
    attribution figures all ask it). ``no_opportunities`` without an opportunities table (`opportunities` None) or
    with no row in it (0): there are no deals at all; ``no_amounts`` when there are opportunities and none has an
    amount (`amounts`: the number of rows with one, 0); None when some opportunity has an amount."""
    if not opportunities:
        return "no_opportunities"
    return None if amounts else "no_amounts"


#: A lead stage's date column -> the reason every count and rate of that stage is null when no lead has one.
STAGE_DATE_REASONS = {"mql_at": "no_mql_dates", "sql_at": "no_sql_dates"}


def stage_dates_reason(column: str, dated: int) -> str | None:
    """Why the counts and rates of a lead stage are null: the one rule of the reason (the funnel, its breakdowns, the
    stage times and the lead-quality audit all ask it). ``no_mql_dates`` / ``no_sql_dates`` (:data:`STAGE_DATE_REASONS`)
    when no lead carries that stage's date (`dated`, the number of leads with one, is 0: the column is absent or
    empty): a lead reaching a later stage then says nothing about this one, so a count would be a guess, not 0; None
    when some lead has one."""
    return None if dated else STAGE_DATE_REASONS[column]


def stage_dates_of(source) -> dict | None:
    """How many leads of a :class:`helpers.metrics.source.Source` carry each stage date, whatever its day:
    ``{"mql_at": n, "sql_at": n}`` (one aggregate row, once per source); None without a leads table."""
    if not source.has_leads:
        return None
    from helpers.metrics.source import memoized

    def compute():
        ld = source.leads()
        return source.fetch(ld.aggregate(mql_at=ld.mql_at.count(), sql_at=ld.sql_at.count())).to_pylist()[0]

    return memoized(source, ("stage_dates",), compute)


def stage_dates_of_frame(leads: pd.DataFrame | None) -> dict | None:
    """:func:`stage_dates_of` of a leads frame (an absent column: 0 leads with that date); None without leads."""
    if leads is None:
        return None
    return {c: int(leads[c].notna().sum()) if c in leads.columns else 0 for c in STAGE_DATE_REASONS}


def outcome_is(opps: pd.DataFrame, outcome: str) -> pd.Series:
    """Boolean mask: the opportunity's outcome equals `outcome` (works for str and Categorical columns)."""
    if "outcome" not in opps.columns:
        return pd.Series(False, index=opps.index, dtype=bool)
    text = opps["outcome"].astype("string").str.strip().str.lower()
    return text.eq(outcome).fillna(False).astype(bool)


def open_amounts(opps: pd.DataFrame) -> pd.Series:
    """Each opportunity's amount as an open deal's value (float, NaN = unknown): a lost deal's amount 0 is the CRM's
    placeholder (the ingest warns ``lost_amounts_zero``), not a deal worth nothing, so it is unknown while the deal
    was open; every other amount as it is."""
    if "amount" not in opps.columns:
        return pd.Series(np.nan, index=opps.index, dtype="float64")
    amount = pd.to_numeric(opps["amount"], errors="coerce").astype("float64")
    return amount.mask(outcome_is(opps, "lost") & amount.eq(0))


def created_mask(opps: pd.DataFrame, start, end, as_of) -> pd.Series:
    """Boolean mask: opportunity created in [start, min(end, as_of)]."""
    return dates(opps, "created_at").between(day(start), last_day(end, as_of))


def closed_mask(opps: pd.DataFrame, outcome: str, start, end, as_of) -> pd.Series:
    """Boolean mask: outcome is `outcome` and closed_at in [start, min(end, as_of)] (and created by as_of)."""
    closed = dates(opps, "closed_at")
    created = dates(opps, "created_at")
    return (
        outcome_is(opps, outcome)
        & closed.between(day(start), last_day(end, as_of))
        & (created <= day(as_of))
    )


def open_mask(opps: pd.DataFrame, end, as_of) -> pd.Series:
    """Boolean mask: opportunity open at the end of P (created on or before min(end, as_of), not won/lost by that day).

    An outcome of won/lost with closed_at after that day (or after as_of) is
    still open at the end of P; an outcome of open is open whatever closed_at says.
    """
    cutoff = last_day(end, as_of)
    created = dates(opps, "created_at")
    closed = dates(opps, "closed_at")
    closed_by_cutoff = (outcome_is(opps, "won") | outcome_is(opps, "lost")) & (closed <= cutoff)
    return (created <= cutoff) & ~closed_by_cutoff


# --------------------------------------------------------------------------- public metrics
def velocity(opportunities, avg_deal, win_rate, cycle_days) -> float | None:
    """Sales velocity (revenue per day) = opportunities × avg_deal × win_rate ÷ cycle_days.

    The seed article's 商談数 × 平均単価 × 成約率 ÷ リードタイム. None when any
    factor is None/NaN or when cycle_days is 0 (a rate per day over no days
    is undefined).
    """
    values = []
    for factor in (opportunities, avg_deal, win_rate, cycle_days):
        if factor is None:
            return None
        try:
            value = float(factor)
        except (TypeError, ValueError):
            return None
        if math.isnan(value):
            return None
        values.append(value)
    n, deal, rate, days = values
    if days == 0:
        return None
    return n * deal * rate / days


def pipeline_metrics(opps: pd.DataFrame, start, end, as_of) -> dict:
    """Pipeline metrics of period P = [start, end] (inclusive) as known on as_of.

    Keys, in order (each one-line definition is the glossary's):

    - ``opportunities_created``: opportunities with created_at in P (and <= as_of).
    - ``won_count``: opportunities with outcome won and closed_at in P (and <= as_of).
    - ``lost_count``: opportunities with outcome lost and closed_at in P (and <= as_of).
    - ``win_rate``: won_count / (won_count + lost_count); None when no deal closed in P.
    - ``win_rate_by_amount``: won amount / (won amount + lost amount) over the same
      rows, known amounts only; None when that sum is 0 or no closed deal has an amount, and when deals were lost
      and every lost amount is 0 or empty (lost_amounts_zero: a CRM's placeholder would make the rate 100%).
    - ``won_revenue``: sum of the known amounts over the won rows (0.0 when nothing was won;
      None when deals were won but none of them has an amount: amount is optional).
    - ``avg_deal_size``: won_revenue / the won deals with a known amount (= won_count when
      every won deal has one); None when no won deal has an amount.
    - ``sales_cycle_days``: mean of (closed_at - created_at) in days over the won rows;
      None when won_count is 0.
    - ``sales_velocity``: opportunities_created × avg_deal_size × win_rate ÷ sales_cycle_days
      (revenue per day, :func:`velocity`); None when a factor is None or the cycle is 0 days.
    - ``open_pipeline``: ``{count, amount, amount_unknown_count}`` of the opportunities
      open at the end of P: created on or before min(end, as_of) and not won/lost on or
      before that day (so a deal closed later still counts as open at the end of P);
      amount sums the known amounts (None when deals are open and none has an amount),
      amount_unknown_count counts the missing ones.

    The counts and sums are aggregates computed by the engine (helpers.metrics.engine,
    DuckDB in process); the rest is :func:`derive_pipeline`.
    """
    from helpers.metrics.engine import pipeline_aggregates, total

    return derive_pipeline(total(pipeline_aggregates(opps, start, end, as_of)))


def pipeline_metrics_windows(opps: pd.DataFrame, windows, as_of) -> list[dict]:
    """:func:`pipeline_metrics` of each (start, end) of `windows`, in order, from one engine query
    (helpers.metrics.engine.windows_pipeline_expr: one row per window fetched); the same dicts as one call per window."""
    from helpers.metrics.source import FrameSource

    return pipeline_metrics_windows_of(FrameSource(None, opps), windows, as_of)


def pipeline_metrics_windows_of(source, windows, as_of) -> list[dict]:
    """:func:`pipeline_metrics_windows` of a :class:`helpers.metrics.source.Source`'s opportunities (one row per
    window fetched)."""
    from helpers.metrics.engine import _day, period_bounds, windows_pipeline_expr

    if not windows:
        return []
    bounds = [period_bounds(start, end, as_of)[:2] for start, end in windows]
    found = source.run(windows_pipeline_expr(source.opps(), bounds, _day(as_of)))
    return [derive_pipeline(found.get(("window", str(i)))) for i in range(len(windows))]


#: The aggregates of an empty set of opportunities (what a breakdown value with no opportunities gets).
NO_OPPORTUNITIES = {"created": 0, "won": 0, "lost": 0, "won_amount": None, "lost_amount": None, "won_known": 0,
                    "lost_known": 0, "cycle_days": None, "open_count": 0, "open_amount": None, "open_unknown": 0}


def derive_pipeline(aggregates: dict | None) -> dict:
    """The pipeline metrics (keys of :func:`pipeline_metrics`) from the engine's aggregates of one set of opportunities.

    `aggregates` (helpers.metrics.engine.pipeline_expr, None = no opportunities): created, won, lost,
    won_amount / lost_amount (sums of the known amounts; None when no row), won_known / lost_known
    (won / lost rows with an amount), cycle_days (mean days closed - created over the won rows),
    open_count, open_amount, open_unknown.
    Pure: rates, averages and velocity are derived here, None on a zero denominator; a sum over
    rows none of which has an amount is unknown (None), never 0: won_revenue and avg_deal_size when
    deals were won without amounts, win_rate_by_amount when no closed deal has one, when the won deals have none
    (not 0%) or the lost deals are all 0 or empty (not 100%), and the open
    pipeline amount when deals are open and none has one.
    """
    agg = {**NO_OPPORTUNITIES, **(aggregates or {})}
    opportunities_created, won_count, lost_count = int(agg["created"]), int(agg["won"]), int(agg["lost"])
    win_rate = ratio(won_count, won_count + lost_count)
    won_amount = float(agg["won_amount"] or 0.0)   # unknown amounts are skipped
    lost_amount = float(agg["lost_amount"] or 0.0)
    won_known, lost_known = int(agg["won_known"]), int(agg["lost_known"])   # rows with an amount (amount is optional)
    win_rate_by_amount = ratio(won_amount, won_amount + lost_amount) if won_known or lost_known else None
    if lost_count and not lost_amount > 0:   # the set's lost deals are all 0 or empty (lost_amounts_zero): not 100%
        win_rate_by_amount = None
    if won_count and not won_known:   # deals won, none with an amount (won_amounts_missing): not 0%
        win_rate_by_amount = None
    # nothing won is a true 0; won deals none of which has an amount is unknown, never 0
    won_revenue = won_amount if won_known or not won_count else None
    avg_deal_size = ratio(won_revenue, won_known)
    sales_cycle_days = float(agg["cycle_days"]) if won_count and agg["cycle_days"] is not None else None
    open_pipeline = {
        "count": int(agg["open_count"]),
        # no open deal is a true 0; open deals none of which has an amount is unknown (helpers.metrics.limits gives the reason)
        "amount": None if agg["open_count"] and agg["open_unknown"] == agg["open_count"] else float(agg["open_amount"] or 0.0),
        "amount_unknown_count": int(agg["open_unknown"]),
    }
    return {
        "opportunities_created": opportunities_created,
        "won_count": won_count,
        "lost_count": lost_count,
        "win_rate": win_rate,
        "win_rate_by_amount": win_rate_by_amount,
        "won_revenue": won_revenue,
        "avg_deal_size": avg_deal_size,
        "sales_cycle_days": sales_cycle_days,
        "sales_velocity": velocity(opportunities_created, avg_deal_size, win_rate, sales_cycle_days),
        "open_pipeline": open_pipeline,
    }
