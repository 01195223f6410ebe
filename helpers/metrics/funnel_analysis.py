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

The parts live by concern, every public name still importable from here: helpers.metrics.funnel_rates (rate tables,
Wilson intervals, the shared small pieces), helpers.metrics.funnel_times (stage times, follow-up SLA) and
helpers.metrics.funnel_compare (marketing ROI, period over period, heatmap); this module puts together the
funnel-analysis pieces of metrics.json.
"""
from __future__ import annotations

import pandas as pd

from helpers.data.periods import Period
from helpers.metrics.funnel_compare import (POP_KPIS, RATE_KPIS, ROI_KEYS, change, cohort_won_revenue,  # noqa: F401 (public here too)
                                            heatmap_table, heatmap_table_of, marketing_roi, period_over_period,
                                            period_over_period_of, roi_table)
from helpers.metrics.funnel_rates import (MIN_GROUP, RATE_TABLE_COLUMNS, TOTAL, _plain, rate_table,  # noqa: F401 (public here too)
                                          rate_table_of, rate_tables_of, reranked, wilson_interval, with_target_fit)
from helpers.metrics.funnel_times import (OPPORTUNITY_TRANSITIONS, SLA_KEYS, TRANSITIONS,  # noqa: F401 (public here too)
                                          _stage_stats, derive_stage_stats,
                                          follow_up_sla, follow_up_sla_of, stage_time_boxes, stage_time_boxes_of,
                                          stage_time_samples, stage_times, stage_times_of)
from helpers.metrics.pipeline import ratio
from helpers.metrics.roi import roi_by_channel


# --------------------------------------------------------------------------- metrics.json pieces
def funnel_metrics_extra(leads: pd.DataFrame | None, opps: pd.DataFrame, spend: pd.DataFrame | None,
                         period: Period, as_of, sla_hours: float, source=None) -> dict:
    """The funnel-analysis pieces of metrics.json for period P: follow-up SLA, marketing ROI, traceable revenue share, stage times.

    - ``sla``: :func:`follow_up_sla` over the MQLs of P (None without leads / the SLA columns);
    - ``roi``: ``{channel: {<ROI_KEYS>}}`` of :func:`marketing_roi` (None without spend);
      ``roi_total``: the total row (None without spend);
    - ``revenue_traceable_share``: of :func:`helpers.metrics.health.traceability` on the
      deals won in P (share of won revenue whose channel is known); when None, ``null_reasons``
      ``{"revenue_traceable_share": code}`` says why (:func:`traceable_share_explained_of`);
    - ``stage_times``: ``{transition: {n, median_days, p90_days, negative}}`` of
      :func:`stage_times` for the pairs whose later event is in P (opportunity_to_close
      null with ``null_reasons`` when every opportunity shares one created_at: a bulk load).

    Every piece is computed on `source` (a :class:`helpers.metrics.source.Source`; notebook 02 passes ``s.source``),
    default the frames.
    """
    from helpers.metrics.source import FrameSource

    source = source or FrameSource(leads, opps)
    roi = roi_by_channel(spend, leads, opps, period.start, period.end, as_of, source)
    share, reason = traceable_share_explained_of(source, as_of, period.start, period.end)
    out = {
        "sla": follow_up_sla_of(source, as_of, sla_hours, period.start, period.end),
        "roi": None if roi is None else {k: {kk: _plain(vv) for kk, vv in v.items()} for k, v in roi[0].items()},
        "roi_total": None if roi is None else {k: _plain(v) for k, v in roi[1].items()},
        "revenue_traceable_share": _plain(share),
        "stage_times": _stage_times_explained(leads, opps, as_of, period.start, period.end, source),
    }
    return dict(out, null_reasons={"revenue_traceable_share": reason}) if reason else out


def traceable_share_of(source, as_of, start, end) -> float | None:
    """helpers.metrics.health.traceability's revenue_traceable_share of a :class:`helpers.metrics.source.Source`: of
    the won revenue closed in [start, min(end, as_of)] (deals created by as_of), the share whose opportunity channel
    is known (not 'unknown'); None when that revenue is 0 or unknown (:func:`traceable_share_explained_of` says why).
    One aggregate row fetched."""
    return traceable_share_explained_of(source, as_of, start, end)[0]


def traceable_share_explained_of(source, as_of, start, end) -> tuple[float | None, str | None]:
    """(:func:`traceable_share_of`, why it is None): the reason as helpers.metrics.health_engine.traceability_of's,
    the data's money reason first (helpers.metrics.pipeline.amounts_reason: ``no_opportunities`` without an
    opportunities table or without a row in it, ``no_amounts``), else ``no_won_deals`` when nothing was won in the
    period, else ``no_closed_amounts`` (won deals whose known amounts sum to 0); (share, None) when it is set. One
    aggregate row fetched (none without an opportunities table)."""
    from helpers.metrics import engine
    from helpers.metrics.pipeline import amounts_reason

    if not source.has_opportunities:
        return None, "no_opportunities"
    s, last, a = engine.period_bounds(start, end, as_of)
    o = engine._prepared_opps(source.opps(["channel"]))
    won = engine._won_by(o, s, last, a)
    row = source.fetch(o.aggregate(rows=o.count(), amounts=o.count(where=o.amount.notnull()),
                                   won=o.count(where=won), total=o.amount.sum(where=won),
                                   known=o.amount.sum(where=won & (engine._key_label(o.k0) != engine.UNKNOWN)))).to_pylist()[0]
    total = float(row["total"] or 0.0)
    if total:
        return ratio(float(row["known"] or 0.0), total), None
    return None, (amounts_reason(int(row["rows"]), int(row["amounts"]))
                  or ("no_won_deals" if not row["won"] else "no_closed_amounts"))


#: A lead stage date column -> the stage-time transitions that start or end at that stage: unknown (n too) when no
#: lead has that date (helpers.metrics.pipeline.stage_dates_reason: no_mql_dates / no_sql_dates), not 0 pairs.
STAGE_TRANSITIONS = {"mql_at": ("lead_to_mql", "mql_to_sql"), "sql_at": ("mql_to_sql", "sql_to_opportunity")}


def _stage_times_explained(leads, opps, as_of, start, end, source=None) -> dict:
    """:func:`_stage_stats` (of `source`, default the frames), with opportunity_to_close null (reason one_created_at)
    when created_at is a bulk-load stamp; without an opportunities table the transitions to and from an opportunity
    null (n too) with the reason no_opportunities; without any mql_at / sql_at, the transitions of that stage
    (:data:`STAGE_TRANSITIONS`) null (n too) with no_mql_dates / no_sql_dates (mql_to_sql says the MQL one)."""
    from helpers.metrics.limits import data_facts_of
    from helpers.metrics.source import FrameSource

    source = source or FrameSource(leads, opps)
    stats = _stage_stats(source, as_of, start, end)
    if not source.has_opportunities:   # a leads-only folder: no pair to count, unknown rather than 0
        figures = ("n", "median_days", "p90_days", "negative")
        for name in OPPORTUNITY_TRANSITIONS:
            stats[name] = dict(stats[name], null_reasons=dict.fromkeys(figures, "no_opportunities"))
    elif data_facts_of(source, as_of).one_created_at:
        stats["opportunity_to_close"] = dict(stats["opportunity_to_close"], median_days=None, p90_days=None,
                                             null_reasons={"median_days": "one_created_at", "p90_days": "one_created_at"})
    figures = ("n", "median_days", "p90_days", "negative")
    for column, code in reversed(data_facts_of(source, as_of).stage_codes.items()):   # sql first: the MQL reason wins
        for name in STAGE_TRANSITIONS[column]:
            if name in stats:
                stats[name] = dict(stats[name], **dict.fromkeys(figures), null_reasons=dict.fromkeys(figures, code))
    return stats
