"""The linked pairs of the existing leads as one engine table, read by the breakdowns' lead side (issue 26).

The lead side of a breakdown reads the lead-opportunity links three times: the typical days and the maturity
yardstick (days from lead to opportunity and to won), the cohort's stages reached through a link, and the linked
deals of the period per key. :func:`links_expr` joins the links (helpers.metrics.engine.pairs_expr) with the leads
created by as_of and with the opportunities once, keeping what the three read; helpers.metrics.breakdown makes it a
temporary table (helpers.metrics.engine.materialized) when more than one reads it. Each reader then touches only the
rows it needs:

- helpers.metrics.engine.link_quantiles_expr: the quantiles of helpers.metrics.engine.day_quantiles_expr over its rows;
- :func:`lead_funnel_links_expr`: the counts of helpers.metrics.engine.lead_funnel_expr, with the stages reached
  through a link looked up only for the leads the period's counts read (created, MQL or SQL in the period); every
  other lead adds to ``exists`` only, counted in the same query by the combination of its keys;
- :func:`linked_counts_expr`: the counts of helpers.metrics.engine.linked_opps_expr over the links whose deal was
  created or won in the period (the others count in neither).

The values are those of the expressions named (the same rows meet the same conditions); the tests compare them.
"""
from __future__ import annotations

import datetime as dt

from helpers.metrics.engine import (_is_key, _lead_counts, _longer, _prepared_leads, _prepared_opps, _won_by,
                                    pairs_expr, reached_flags)


def links_expr(leads, opps, as_of: dt.date):
    """One row per (link, lead row, opportunity row) of the leads created by as_of: lead_id, opportunity_id,
    lead_created, the leads' keys k0, k1, ..., and the opportunity's created, closed, outcome."""
    ld = _prepared_leads(leads)
    ld = ld.filter(ld.created <= as_of)
    o = _prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    p = pairs_expr(leads, opps)
    j = p.join(ld, p.lead_id == ld.lead_id).join(o, p.opportunity_id == o.opportunity_id)
    keys = [c for c in ld.columns if _is_key(c)]
    return j.select(lead_id=p.lead_id, opportunity_id=p.opportunity_id, lead_created=ld.created,
                    **{k: ld[k] for k in keys}, created=o.created, closed=o.closed, outcome=o.outcome)


def lead_funnel_links_expr(leads, links, start: dt.date, last: dt.date, as_of: dt.date, dims: list[str] = ()):
    """helpers.metrics.engine.lead_funnel_expr's rows (dim, k, p_leads ... exists; the total (ALL, ALL)) from the
    leads with the keys of `dims` and their `links` (:func:`links_expr` of as_of, any keys): the leads the counts
    read (created, mql_at or sql_at in [start, last]) get their stages reached through a link, the others count in
    ``exists`` only; both by the combination of their raw keys in one query, then added up per label."""
    import ibis

    dims = list(dims)
    keys = [f"k{i}" for i in range(len(dims))]
    ld = _prepared_leads(leads)
    counted = ld.filter(ld.created.between(start, last) | ld.mql.between(start, last) | ld.sqld.between(start, last))
    cohort = links.filter(links.lead_created.between(start, last))
    reached = cohort.group_by(lead=cohort.lead_id).aggregate(
        opp=(cohort.created <= as_of).any(),
        won=((cohort.outcome == "won") & (cohort.closed <= as_of) & (cohort.created <= as_of)).any())
    f = reached_flags(counted.left_join(reached, counted.lead_id == reached.lead), start, last, as_of)
    names = list(_lead_counts(f, start, last))
    zero = ibis.literal(0, "int64")
    # every lead's exists by its keys (one pass, no join), beside the counts of the leads the period reads
    seen = (ld.group_by(keys) if keys else ld).aggregate(exists=ld.count(where=(ld.created <= as_of).fill_null(False)))
    seen = seen.select(*keys, **{n: zero for n in names if n != "exists"}, exists=seen.exists)
    read = (f.group_by(keys) if keys else f).aggregate(**_lead_counts(f, start, last))
    read = read.select(*keys, **{n: read[n] for n in names if n != "exists"}, exists=zero)
    combos = _longer(ibis.union(seen, read, distinct=False), dims)
    return combos.group_by(["dim", "k"]).aggregate(**{n: combos[n].sum() for n in names})


def linked_counts_expr(links, opps, start: dt.date, last: dt.date, as_of: dt.date, dims: list[str]):
    """helpers.metrics.engine.linked_opps_expr's rows (dim, k, opps, won) from `links` (:func:`links_expr` of as_of
    with the keys of `dims`): only the links whose deal was created or won in [start, last] are read."""
    o = _prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    o = o.filter(o.created.between(start, last) | _won_by(o, start, last, as_of))
    near = links.filter(links.created.between(start, last) | _won_by(links, start, last, as_of))
    keys = [c for c in links.columns if _is_key(c)]
    pairs = _longer(near.select(*keys, "opportunity_id"), list(dims)).select("dim", "k", "opportunity_id").distinct()
    j = pairs.join(o, pairs.opportunity_id == o.opportunity_id)
    return j.group_by(["dim", "k"]).aggregate(opps=j.count(where=j.created.between(start, last)),
                                              won=j.count(where=_won_by(j, start, last, as_of)))
