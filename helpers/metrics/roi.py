"""Marketing ROI by channel as grouped engine aggregates (helpers.metrics.engine): one pass per table, not per channel.

:func:`helpers.metrics.funnel_analysis.marketing_roi` defines the figures; this module computes their counts and sums
as Ibis expressions (so they run in DuckDB in process or in a warehouse), each grouped by the channel with the total
as the row (ALL, ALL), in three queries whatever the number of channels:

- the opportunities by their own channel: created in P, the known amounts of those (pipeline_amount), and the won
  deals closed in P for won_revenue (:func:`helpers.metrics.pipeline.derive_pipeline`'s rule);
- the leads by their channel: created in P (leads) and created by as_of (the channel exists);
- the cohort's return: per lead channel, the distinct opportunities linked to the leads created in P (either link
  column) that were won on or before as_of, their known amounts summed (cohort_won_revenue).

The spend table (a few rows per month and channel) is summed in pandas. :func:`roi_rows` is memoized per workbook
snapshot and period like the core figures (notebook 02's table and chart share one computation).
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import pandas as pd

from helpers.metrics.pipeline import amounts_reason, derive_pipeline, ratio
from helpers.metrics.source import memoized_figure

#: How many periods' ROI rows a process keeps (as the core figures' memo).
MEMO_SIZE = 4
_MEMO: OrderedDict[tuple, tuple] = OrderedDict()
_MEMO_LOCK = threading.Lock()


def opps_roi_expr(opps, start, last, as_of):
    """Per (dim, k) of the opportunities' channel (k0) and the total (ALL, ALL): created (in P), created_amount (known
    amounts of those), won, won_amount, won_known (won, closed in P, created by as_of), exists (created by as_of),
    amounts (rows with an amount, whatever their dates), rows (all of them)."""
    from helpers.metrics.engine import _longer, _prepared_opps, _won_by

    o = _longer(_prepared_opps(opps), ["channel"])
    in_p, won = o.created.between(start, last), _won_by(o, start, last, as_of)
    return o.group_by(["dim", "k"]).aggregate(
        created=o.count(where=in_p), created_amount=o.amount.sum(where=in_p), won=o.count(where=won),
        won_amount=o.amount.sum(where=won), won_known=o.count(where=won & o.amount.notnull()),
        exists=o.count(where=o.created <= as_of), amounts=o.count(where=o.amount.notnull()), rows=o.count())


def leads_roi_expr(leads, start, last, as_of):
    """Per (dim, k) of the leads' channel (k0) and the total: leads (created in P) and exists (created by as_of)."""
    from helpers.metrics.engine import _longer, _prepared_leads

    ld = _longer(_prepared_leads(leads), ["channel"])
    return ld.group_by(["dim", "k"]).aggregate(leads=ld.count(where=ld.created.between(start, last)),
                                               exists=ld.count(where=ld.created <= as_of))


def cohort_revenue_expr(leads, opps, start, last, as_of):
    """Per (dim, k) of the leads' channel (k0) and the total: revenue, the known amounts of the distinct opportunities
    linked (either link column) to the leads created in [start, last] that were won on or before as_of."""
    from helpers.metrics.engine import _is_key, _longer, _prepared_leads, _prepared_opps, pairs_expr

    ld = _prepared_leads(leads)
    cohort = ld.filter(ld.created.between(start, last))
    p = pairs_expr(leads, opps)
    links = p.join(cohort, p.lead_id == cohort.lead_id).select(*[c for c in cohort.columns if _is_key(c)],
                                                               opportunity_id=p.opportunity_id)
    pairs = _longer(links, ["channel"]).select("dim", "k", "opportunity_id").distinct()
    o = _prepared_opps(opps)
    j = pairs.join(o, pairs.opportunity_id == o.opportunity_id)
    return j.group_by(["dim", "k"]).aggregate(revenue=j.amount.sum(where=(j.outcome == "won") & (j.closed <= as_of)))


def roi_aggregates(leads: pd.DataFrame | None, opps: pd.DataFrame, start, end, as_of, backend=None) -> dict:
    """The three grouped aggregates of this module on pandas frames: ``{"opps": {(dim, k): row}, "leads": ...,
    "cohort": ...}`` (leads and cohort None without a leads table). (:func:`roi_aggregates_of` on the frames.)"""
    from helpers.metrics.source import FrameSource

    return roi_aggregates_of(FrameSource(leads, opps, backend=backend), start, end, as_of)


def roi_aggregates_of(source, start, end, as_of) -> dict:
    """:func:`roi_aggregates` of a :class:`helpers.metrics.source.Source` (three grouped queries, a row per channel),
    kept per source and period (:func:`helpers.metrics.source.memoized_figure`): notebook 02's table and chart
    (:func:`roi_rows`) and its metrics.json piece (helpers.metrics.funnel_analysis.funnel_metrics_extra) read one
    computation. Each call gets its own copy."""
    from helpers.metrics.engine import period_bounds

    s, last, a = period_bounds(start, end, as_of)
    return _roi_aggregates(source, s, last, a)


@memoized_figure
def _roi_aggregates(source, s, last, a) -> dict:
    """:func:`roi_aggregates_of`, computed: `s`, `last`, `a` the period's first and last day and as_of (dates)."""
    from helpers.metrics.engine import reusing_tables

    with reusing_tables():
        out = {"opps": source.run(opps_roi_expr(source.opps(["channel"]), s, last, a)), "leads": None, "cohort": None}
        if source.has_leads:
            leads_k = source.leads(["channel"])
            out["leads"] = source.run(leads_roi_expr(leads_k, s, last, a))
            out["cohort"] = source.run(cohort_revenue_expr(leads_k, source.opps(), s, last, a))
    return out


def roi_by_channel(spend: pd.DataFrame | None, leads: pd.DataFrame | None, opps: pd.DataFrame, start, end, as_of,
                   source=None):
    """({channel: row}, total row) of :func:`helpers.metrics.funnel_analysis.marketing_roi` (rows keyed by
    funnel_analysis.ROI_KEYS, plus ``null_reasons`` where the money figures are unknown); None without spend.

    Channels: the union of those of spend rows dated on or before as_of and of leads and opportunities created on
    or before as_of, sorted, 'unknown' last. The money figures' reason when the data holds none:
    helpers.metrics.pipeline.amounts_reason (no_opportunities, no_amounts); without an opportunities table
    (``source.has_opportunities`` False) the deal counts too are null with no_opportunities. Currency sums, counts as int; errors: none beyond the engine's.
    The engine's aggregates are computed on `source` (a :class:`helpers.metrics.source.Source`), default the frames
    `leads` and `opps` (which are then not read)."""
    from helpers.metrics.source import FrameSource
    from helpers.metrics.breakdown import UNKNOWN, _labels, _sorted_keys
    from helpers.metrics.engine import ALL
    from helpers.metrics.pipeline import dates, day, last_day

    if spend is None:
        return None
    cutoff = day(as_of)
    month = dates(spend, "month")
    spend_keys = _labels(spend["channel"]) if "channel" in spend.columns else pd.Series(UNKNOWN, index=spend.index)
    amount = (pd.to_numeric(spend["amount"], errors="coerce").astype("float64") if "amount" in spend.columns
              else pd.Series(0.0, index=spend.index))
    in_p = month.between(day(start), last_day(end, as_of))
    source = source or FrameSource(leads, opps)
    agg = roi_aggregates_of(source, start, end, as_of)
    values = set(spend_keys[month <= cutoff])
    for side in ("opps", "leads"):
        values |= {k for (d, k), row in (agg[side] or {}).items() if d == "channel" and row["exists"]}
    rows = {k: _row(float(amount[in_p & spend_keys.eq(k)].sum()), agg, ("channel", k)) for k in _sorted_keys(values)}
    total = _row(float(amount[in_p].sum()), agg, (ALL, ALL))
    # the total's return counts only the revenue of channels with spend: a channel without spend bought nothing
    paid = [r["cohort_won_revenue"] for r in rows.values() if r["spend"] and r["cohort_won_revenue"] is not None]
    total["return_on_spend"] = ratio(sum(paid), total["spend"] or None) if source.has_leads else None
    everything = agg["opps"].get((ALL, ALL)) or {}
    whole = amounts_reason(int(everything.get("rows") or 0), int(everything.get("amounts") or 0))
    if not source.has_opportunities:
        # no opportunities table: its counts of deals are unknown, not 0
        for row in (*rows.values(), total):
            row.update(opportunities_created=None, cost_per_opportunity=None,
                       null_reasons=dict.fromkeys(("opportunities_created", "cost_per_opportunity"), "no_opportunities"))
    if whole:
        # no opportunities or no amounts in the data: the money a channel brought is unknown, never 0
        for row in (*rows.values(), total):
            row.update(pipeline_amount=None, won_revenue=None, cohort_won_revenue=None, return_on_spend=None,
                       null_reasons=dict(row.get("null_reasons") or {}, **dict.fromkeys(
                           ("pipeline_amount", "won_revenue", "cohort_won_revenue", "return_on_spend"), whole)))
    elif not source.has_leads:
        for row in (*rows.values(), total):
            row["null_reasons"] = dict.fromkeys(("cohort_won_revenue", "return_on_spend"), "no_leads")
    return rows, total


def _row(spend_amount: float, agg: dict, key: tuple) -> dict:
    """One ROI row from the aggregates of its key (missing: nothing of that channel on that side)."""
    o = agg["opps"].get(key) or {}
    pipe = derive_pipeline({k: o[k] for k in ("created", "won", "won_amount", "won_known")} if o else None)
    n_leads = None if agg["leads"] is None else int((agg["leads"].get(key) or {}).get("leads") or 0)
    cohort = None if agg["cohort"] is None else float((agg["cohort"].get(key) or {}).get("revenue") or 0.0)
    cost_basis = spend_amount if spend_amount else None   # no recorded spend: cost unknown, not free
    return {
        "spend": float(spend_amount),
        "leads": n_leads,
        "opportunities_created": pipe["opportunities_created"],
        "pipeline_amount": float(o.get("created_amount") or 0.0),
        "won_revenue": pipe["won_revenue"],
        "cohort_won_revenue": cohort,
        "cost_per_lead": ratio(cost_basis, n_leads),
        "cost_per_opportunity": ratio(cost_basis, pipe["opportunities_created"]),
        "return_on_spend": ratio(cohort, cost_basis),
    }


def roi_rows(wb, period, source=None):
    """:func:`roi_by_channel` of a workbook's period, computed once per process for a Workbook read
    from a snapshot (the memo key of :func:`helpers.metrics.core.core_key`); a Workbook without one is computed each
    call. ({channel: row}, total row) or None without spend; callers must not change the rows. The aggregates are
    computed on `source` (a notebook passes ``s.source``), default the workbook's frames."""
    from helpers.metrics.core import core_key

    key = core_key(wb, period)
    if key is not None:   # the workbook's frames and a warehouse are memoized apart
        key = (*key, "folder" if source is None else source.kind)
    with _MEMO_LOCK:
        hit = _MEMO.get(key) if key is not None else None
    if hit is not None:
        return hit[0]
    if source is None:
        from helpers.metrics.source import FrameSource

        source = FrameSource(wb.leads, wb.opportunities, has_opportunities=wb.has_opportunities)
    result = roi_by_channel(wb.spend, wb.leads, wb.opportunities, period.start, period.end, wb.as_of,
                            source=source)
    if key is not None:
        with _MEMO_LOCK:
            _MEMO[key] = (result,)
            while len(_MEMO) > MEMO_SIZE:
                _MEMO.popitem(last=False)
    return result
