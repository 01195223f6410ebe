"""The checklist's evidence (notebook 01) as engine aggregates of a source: what the CRM data says about the items it
can speak to, from two aggregate rows and the follow-up SLA's query, whatever the number of leads and deals.

:func:`helpers.metrics.checklist.evidence` defines the measures; :func:`evidence_of` computes them on a
:class:`helpers.metrics.source.Source` (a folder's frames in DuckDB, or a warehouse). Ids are the engine's
canonical ids (trimmed text); a text is blank when it is null, empty or 'unknown' in any case.
"""
from __future__ import annotations

import pandas as pd

from helpers.metrics import engine
from helpers.metrics.pipeline import ratio

#: "All history" as a window start (helpers.metrics.health.EARLIEST).
EARLIEST = pd.Timestamp("1900-01-01")


def _blank(text):
    """Null, empty or 'unknown' (any case) after trimming: the engine's canonical text (already trimmed)."""
    return (text.isnull() | (text == "") | (text.lower() == engine.UNKNOWN)).fill_null(True)


def evidence_counts(source, as_of) -> dict:
    """The counts behind the evidence, over the leads and opportunities created by as_of and their links (either link
    column, both ends existing): ``leads``, ``pairs``, ``later`` (leads with sql_at by as_of or a link), ``later_mql``
    (of those, with mql_at by as_of), ``opps``, ``lost`` (lost, closed by as_of), ``lost_reason`` (of those, with a
    loss_reason), ``linked`` (opportunities in a link; without a leads table, with a lead_id), ``closed`` (won or
    lost by as_of), ``won_any`` (won by as_of), ``won`` / ``won_amount`` / ``known_amount`` (won, closed by as_of:
    count, amounts summed, amounts of a known channel summed). Leads' counts are None without a leads table."""
    a = engine._day(as_of)
    if not source.has_leads:
        return _opp_counts(source, a, None, {})
    ld = source.leads()
    ln = ld.filter(ld.created_at.cast("date") <= a)
    on = _opps_by(source, a)
    p = engine.pairs_expr(ln, on)
    p = p.filter(p.lead_id.isin(ln.lead_id.cast("string")) & p.opportunity_id.isin(on.opportunity_id.cast("string")))
    # the links are one DISTINCT over every lead and deal row: computed once for the three queries that read them
    with engine.materialized(p, source.backend) as pairs:
        later = ((ln.sql_at.cast("date") <= a).fill_null(False) | ln.lead_id.cast("string").isin(pairs.lead_id)).fill_null(False)
        has_mql = (ln.mql_at.cast("date") <= a).fill_null(False)
        out = source.fetch(ln.aggregate(leads=ln.count(), later=ln.count(where=later),
                                        later_mql=ln.count(where=later & has_mql))).to_pylist()[0]
        out["pairs"] = source.fetch(pairs.aggregate(n=pairs.count())).to_pylist()[0]["n"]
        return _opp_counts(source, a, pairs, out)


def _opps_by(source, a):
    """The opportunities created by `a` with the keys channel (k0) and, when present, loss_reason (k1)."""
    o = source.opps(["channel", "loss_reason"] if source.has_column("opportunities", "loss_reason") else ["channel"])
    return o.filter(o.created_at.cast("date") <= a)


def _opp_counts(source, a, pairs, out: dict) -> dict:
    """:func:`evidence_counts`' opportunity counts added to `out`: linked through `pairs` (the links' table), else
    (no leads table) by a lead_id."""
    on = _opps_by(source, a)
    closed_at = on.closed_at.cast("date")
    lost = ((on.outcome == "lost") & (closed_at <= a)).fill_null(False)
    won_by = ((on.outcome == "won") & (closed_at <= a)).fill_null(False)
    won = (won_by & closed_at.between(EARLIEST.date(), a) & (on.created_at.cast("date") <= a)).fill_null(False)
    linked = (on.opportunity_id.cast("string").isin(pairs.opportunity_id).fill_null(False) if pairs is not None
              else ~_blank(on.lead_id.cast("string")))
    known = won & (engine._key_label(on.k0.cast("string")) != engine.UNKNOWN)
    reason = source.has_column("opportunities", "loss_reason")
    with_reason = {"lost_reason": on.count(where=lost & ~_blank(on.k1.cast("string")))} if reason else {}
    out.update(source.fetch(on.aggregate(
        opps=on.count(), lost=on.count(where=lost), **with_reason,
        linked=on.count(where=linked), closed=on.count(where=lost | won_by), won_any=on.count(where=won_by),
        won=on.count(where=won), won_amount=on.amount.sum(where=won), known_amount=on.amount.sum(where=known),
    )).to_pylist()[0])
    return out


def evidence_of(source, as_of, sla_hours: float, entry) -> dict:
    """:func:`helpers.metrics.checklist.evidence` of a source: ``{item: entry(item, value, n)}`` (`entry` is the
    checklist's row builder) for items 3, 5, 6, 7, 8, 9, 10, in order; without an opportunities table the
    :data:`DEAL_ITEMS` null with ``null_reasons`` (no_opportunities)."""
    from helpers.metrics.funnel_analysis import follow_up_sla_of

    c = evidence_counts(source, as_of)
    leads = source.has_leads
    out = {}
    if not source.has_opportunities:   # a leads-only folder: the deal practices are unknown, not 0 of 0
        deals = {item: _unknown(entry(item, None, None), "no_opportunities") for item in DEAL_ITEMS}
    else:
        deals = {}
    out[3] = (entry(3, None, None) if not leads or not source.has_column("leads", "mql_at")
              else entry(3, ratio(c["later_mql"], c["later"]), c["later"]))
    sla = follow_up_sla_of(source, engine._day(as_of), sla_hours) if leads else None
    out[5] = entry(5, None, None) if sla is None else entry(5, sla["hit_rate"], sla["mqls"])
    out[6] = (entry(6, None, None) if not source.has_column("opportunities", "loss_reason")
              else entry(6, ratio(c["lost_reason"], c["lost"]), c["lost"]))
    has_link = source.has_column("opportunities", "lead_id") or (leads and source.has_column("leads", "opportunity_id"))
    out[7] = entry(7, ratio(c["linked"], c["opps"]), c["opps"]) if has_link else entry(7, None, None)
    out[8] = entry(8, 1.0 if c["leads"] and c["pairs"] else 0.0, c["leads"]) if leads else entry(8, None, None)
    no_lost_deals = bool(c["won_any"] and not c["lost"])
    out[9] = entry(9, 1.0 if c["closed"] and not no_lost_deals else 0.0, c["closed"])
    total = float(c["won_amount"] or 0.0)
    out[10] = entry(10, ratio(float(c["known_amount"] or 0.0), total) if total else None, c["won"])
    return {**out, **deals}


#: The items whose evidence is read from the opportunities: without an opportunities table (a leads-only folder,
#: ``source.has_opportunities`` False) their value, verdict and n are null with the reason no_opportunities.
DEAL_ITEMS = (6, 7, 8, 9, 10)


def _unknown(entry: dict, code: str) -> dict:
    """`entry` with its value, verdict (supports) and n None and ``null_reasons`` saying `code` for each."""
    keys = ("value", "supports", "n")
    return dict(entry, **dict.fromkeys(keys), null_reasons=dict.fromkeys(keys, code))
