"""Time between funnel stages as engine expressions (helpers.metrics.engine's tables and backend): the pairs of stage
events, their quantiles per transition and a box plot's statistics, so the table and the chart of notebook 02 fetch
one row per transition (a warehouse runs the same expressions).

Transitions (:data:`STAGE_TRANSITIONS`, in funnel order; a transition's code is its position): lead_to_mql (lead
created_at -> mql_at), mql_to_sql (mql_at -> sql_at), sql_to_opportunity (the lead's sql_at -> the linked
opportunity's created_at), opportunity_to_close (created_at -> closed_at of won and lost deals).
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from helpers.metrics import engine
from helpers.metrics.engine import _day, _prepared_leads, _prepared_opps, pairs_expr, period_bounds
from helpers.metrics.source import memoized_figure


#: The funnel transitions of :func:`stage_gaps_expr`, in funnel order (their codes are the positions).
STAGE_TRANSITIONS = ("lead_to_mql", "mql_to_sql", "sql_to_opportunity", "opportunity_to_close")


def stage_gaps_expr(leads, opps, first: dt.date | None, last: dt.date, as_of: dt.date):
    """One row per pair of stage events: ``code`` (position in :data:`STAGE_TRANSITIONS`) and ``gap`` (days, negative kept).

    A pair counts when both dates are known and on or before as_of and the later event is dated in [first, last]
    (first None: no lower bound). lead_to_mql: lead created_at -> mql_at; mql_to_sql: mql_at -> sql_at;
    sql_to_opportunity: the lead's sql_at -> the linked opportunity's created_at (links from either table, lead
    created by as_of); opportunity_to_close: created_at -> closed_at of won and lost deals. `leads` None: only
    opportunity_to_close."""
    import ibis

    def pairs(t, code: int):
        ok = t.e.notnull() & t.l.notnull() & (t.e <= as_of) & (t.l <= as_of) & (t.l <= last)
        if first is not None:
            ok &= t.l >= first
        t = t.filter(ok)
        return t.select(code=ibis.literal(code, type="int8"), gap=t.l.delta(t.e, unit="day").cast("float64"))

    o = _prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    closed = o.filter(o.outcome.isin(("won", "lost")))
    parts = [pairs(closed.select(e=closed.created, l=closed.closed), 3)]
    if leads is not None:
        ld = _prepared_leads(leads.select("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id"))
        existing = ld.filter(ld.created <= as_of)
        p = pairs_expr(leads, opps)
        j = p.join(existing, p.lead_id == existing.lead_id).join(o, p.opportunity_id == o.opportunity_id)
        parts = [pairs(ld.select(e=ld.created, l=ld.mql), 0), pairs(ld.select(e=ld.mql, l=ld.sqld), 1),
                 pairs(j.select(e=j.sqld, l=j.created_right), 2)] + parts
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def stage_times_expr(gaps):
    """Per transition code of :func:`stage_gaps_expr`: n (pairs with gap >= 0), median and p90 of those gaps (linear
    interpolation, as numpy's default percentile), negative (pairs dated backwards: data errors, left out)."""
    import ibis

    good = gaps.gap >= 0
    kept = ibis.ifelse(good, gaps.gap, ibis.null("float64"))
    return gaps.group_by("code").aggregate(n=gaps.count(where=good), negative=gaps.count(where=~good),
                                           median=kept.quantile(0.5), p90=kept.quantile(0.9))


#: The whisker reach of a box plot, in interquartile ranges (matplotlib's and seaborn's default ``whis``).
WHISKER_IQR = 1.5


def stage_box_expr(gaps):
    """Per transition code of :func:`stage_gaps_expr`: a box plot's statistics over the gaps >= 0 (days), so a chart
    fetches four rows, not every pair: n, q1, median, q3 (linear interpolation), whislo / whishi (the smallest gap
    >= q1 - 1.5 IQR and the largest <= q3 + 1.5 IQR: matplotlib.cbook.boxplot_stats' rule, whose whiskers are data
    points)."""
    good = gaps.filter(gaps.gap >= 0)
    quartiles = good.group_by("code").aggregate(n=good.count(), q1=good.gap.quantile(0.25),
                                                median=good.gap.quantile(0.5), q3=good.gap.quantile(0.75))
    j = good.join(quartiles, "code")
    reach = WHISKER_IQR * (j.q3 - j.q1)
    return j.group_by("code").aggregate(
        n=j.n.max(), q1=j.q1.max(), median=j.median.max(), q3=j.q3.max(),
        whislo=j.gap.min(where=j.gap >= j.q1 - reach), whishi=j.gap.max(where=j.gap <= j.q3 + reach))


# --------------------------------------------------------------------------- on a source (a folder's frames or a warehouse)
def stage_gaps_of(source, as_of, start=None, end=None):
    """:func:`stage_gaps_expr` on a :class:`helpers.metrics.source.Source`: the window [start, min(end, as_of)]
    (:func:`period_bounds`), or all history to as_of when start is None."""
    if start is None:
        first, last, a = None, _day(as_of), _day(as_of)
    else:
        first, last, a = period_bounds(start, end if end is not None else as_of, as_of)
    return stage_gaps_expr(source.leads() if source.has_leads else None, source.opps(), first, last, a)


@memoized_figure
def stage_time_aggregates_of(source, as_of, start=None, end=None) -> dict[str, dict]:
    """:func:`stage_time_aggregates` of a source (one row per transition fetched), kept per source, as_of and period
    (:func:`helpers.metrics.source.memoized_figure`): notebook 02's stage-time table and its metrics.json piece
    (helpers.metrics.funnel_analysis.funnel_metrics_extra) read one query. Each call gets its own copy."""
    return by_transition(stage_times_expr(stage_gaps_of(source, as_of, start, end)), source.backend)


def stage_box_aggregates_of(source, as_of, start=None, end=None) -> dict[str, dict]:
    """:func:`stage_box_aggregates` of a source (one row per transition fetched)."""
    return by_transition(stage_box_expr(stage_gaps_of(source, as_of, start, end)), source.backend)


# --------------------------------------------------------------------------- on pandas frames
def _frames(leads: pd.DataFrame | None, opps: pd.DataFrame):
    from helpers.metrics.source import FrameSource

    return FrameSource(leads, opps)


def _stage_gaps(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, start, end):
    """:func:`stage_gaps_of` on pandas frames."""
    return stage_gaps_of(_frames(leads, opps), as_of, start, end)


def by_transition(expr, backend=None) -> dict[str, dict]:
    """Run a per-code aggregate of this module (on `backend`, default the engine's): ``{transition: the row's other
    columns}``, for the transitions with a row."""
    rows = engine.to_arrow(backend or engine.default_backend(), expr).to_pylist()
    return {STAGE_TRANSITIONS[row.pop("code")]: row for row in rows}


def stage_time_aggregates(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, start=None, end=None,
                          backend=None) -> dict[str, dict]:
    """:func:`stage_times_expr` on pandas frames: ``{transition: {n, negative, median, p90}}`` for the transitions
    with at least one pair (start None: all history to as_of; else the later event in [start, min(end, as_of)])."""
    return by_transition(stage_times_expr(_stage_gaps(leads, opps, as_of, start, end)), backend)


def stage_box_aggregates(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, start=None, end=None,
                         backend=None) -> dict[str, dict]:
    """:func:`stage_box_expr` on pandas frames: ``{transition: {n, q1, median, q3, whislo, whishi}}`` for
    the transitions with at least one pair (gap >= 0); the window as in :func:`stage_time_aggregates`."""
    return by_transition(stage_box_expr(_stage_gaps(leads, opps, as_of, start, end)), backend)


def stage_gap_samples(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, start=None, end=None,
                      backend=None) -> pa.Table:
    """:func:`stage_gaps_expr` on pandas frames: the pairs' rows (code int8, gap float64 days; negative gaps kept),
    fetched for distribution charts."""
    return engine.to_arrow(backend or engine.default_backend(), _stage_gaps(leads, opps, as_of, start, end))
