"""Attribution (contract section 6) as engine expressions: Ibis tables run in DuckDB in process (or in a warehouse).

Only aggregates leave the engine in a report; the money, the exact rounding and the data-driven models are
derived from them in Python (helpers.metrics.attribution, helpers.metrics.attribution_paths). Tables enter in the
canonical form of helpers.metrics.engine (:func:`~helpers.metrics.engine.opps_table`,
:func:`~helpers.metrics.engine.leads_table`, :func:`~helpers.metrics.engine.touches_table`).

- :func:`deals_expr`: the opportunities that exist on as_of with their end (closed_at when won or lost by as_of,
  else as_of), their lead's created_at and the period's flags (won, lost, created in P).
- :func:`pairs_expr`: every counted (opportunity, touch) pair, ranked per opportunity with window functions (the
  contract's order), its milestones FT, LC, OC, CW and each position model's weight (one deal's add up to 1).
- :func:`credit_sums_expr`, :func:`deal_figures_expr`, :func:`content_expr`: one grouped sum per channel for every
  model, one row of deal counts and amounts (touched, sourced, influenced), one row per asset.
- :func:`path_steps_expr`, :func:`path_counts_expr`: the data-driven models' paths, and the distinct paths with how
  many leads follow each (one grouped count: the Markov chain's transitions and the bootstrap come from it);
  :func:`converted_revenue_expr`: the won revenue of the converted paths, each won deal once.
- :func:`touch_counts_expr`, :func:`lead_dates_expr`: one row each of the touches' coverage counts and of what the
  leads' created_at says (bulk-loaded, the horizon H), for tables that are not pandas frames (a warehouse's).
"""
from __future__ import annotations

import datetime as dt

from helpers.metrics import engine as E

#: The position models, in the order reports show them.
POSITION_MODELS = ("first_touch", "lead_creation", "last_touch", "linear", "u_shaped", "w_shaped", "full_path", "time_decay")
#: Milestone weights and the weight of "the rest" per milestone model (contract section 6).
MILESTONE_WEIGHTS: dict[str, tuple[dict[str, float], float]] = {
    "first_touch": ({"FT": 1.0}, 0.0),
    "lead_creation": ({"LC": 1.0}, 0.0),
    "last_touch": ({"OC": 1.0}, 0.0),
    "u_shaped": ({"FT": 0.4, "LC": 0.4}, 0.2),
    "w_shaped": ({"FT": 0.3, "LC": 0.3, "OC": 0.3}, 0.1),
    "full_path": ({"FT": 0.225, "LC": 0.225, "OC": 0.225, "CW": 0.225}, 0.1),
}
MILESTONES = ("FT", "LC", "OC", "CW")
#: The contract's order of an opportunity's (or a path's) touches.
ORDER = ("ts", "touch_id", "pos")


def _links(leads, opps, as_of: dt.date | None = None):
    """(lead_id, opportunity_id) links from either table (engine.pairs_expr), or from the opportunities alone. With
    `as_of`, a link through a lead of the leads table created after as_of is left out: that lead does not exist yet
    (as in the funnel); a lead id the table lacks keeps its link."""
    if leads is not None:
        links = E.pairs_expr(leads, opps)
        if as_of is None:
            return links
        ld = E._prepared_leads(leads.select("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id"))
        return links.anti_join(ld.filter(ld.created > as_of), "lead_id")
    o = opps.select(lead_id=opps.lead_id.cast("string"), opportunity_id=opps.opportunity_id.cast("string"))
    return o.filter(o.lead_id.notnull() & o.opportunity_id.notnull()).distinct()


def deals_expr(opps, leads, start: dt.date, last: dt.date, as_of: dt.date):
    """One row per opportunity created by as_of: opportunity_id, created, end (closed_at day when won or lost by
    as_of, else as_of), amount, lead_created (the earliest created_at of its linked leads existing on as_of; null
    without one) and won_p, lost_p, created_p (won / lost with closed_at in [start, last], created in [start, last])."""
    import ibis

    o = E._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    decided = (o.outcome.isin(("won", "lost")) & o.closed.notnull() & (o.closed <= as_of)).fill_null(False)
    o = o.select("opportunity_id", "created", "amount", end=ibis.ifelse(decided, o.closed, ibis.literal(as_of, type="date")),
                 won_p=E._won_by(o, start, last, as_of).fill_null(False),
                 lost_p=((o.outcome == "lost") & o.closed.between(start, last)).fill_null(False),
                 created_p=o.created.between(start, last).fill_null(False))
    o = o.filter(o.created.notnull() & (o.created <= as_of))
    if leads is None:
        return o.mutate(lead_created=ibis.null("date"))
    ld = E._prepared_leads(leads.select("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id"))
    p = E.pairs_expr(leads, opps)
    j = p.join(ld.filter(ld.created <= as_of), p.lead_id == ld.lead_id)
    first = j.group_by(oid=j.opportunity_id).aggregate(lead_created=j.created.min())
    return o.left_join(first, o.opportunity_id == first.oid).drop("oid")


def pairs_expr(touches, leads, opps, deals, lookback_days: int, half_life_days: float, as_of: dt.date | None = None):
    """Every counted (opportunity, touch) pair with its order, milestones and model weights.

    A touch counts for a deal of `deals` (:func:`deals_expr`) when linked (its lead is the deal's lead through either
    table, and exists on `as_of` when given, or it carries the deal's opportunity_id), dated (calendar day) on or before the deal's end and not more
    than `lookback_days` before its created_at. Columns: the deal's (opportunity_id, created, end, amount,
    lead_created, won_p, lost_p, created_p), the touch's (pos, touch_id, ts, d, channel, content), k (0-based rank in
    the contract's order), n (the deal's touches), FT/LC/OC/CW (bool) and one float column per model of
    :data:`POSITION_MODELS` (its share of the deal; a deal's add up to 1)."""
    import ibis

    t = touches
    links = _links(leads, opps, as_of)
    cols = ("ts", "touch_id", "d", "channel", "content")
    # the touches of each deal's leads, and those carrying a deal's id unless that deal is their lead's (then listed
    # already): each (touch, deal) once without a distinct over all pairs, the touch's columns carried along
    by_lead = t.select("pos", "lead_id", *cols).join(links, "lead_id")
    own = t.filter(t.opportunity_id.notnull()).select("pos", "lead_id", "opportunity_id", *cols)
    own = own.anti_join(links, ["lead_id", "opportunity_id"])
    linked = by_lead.select("pos", "opportunity_id", *cols).union(own.select("pos", "opportunity_id", *cols), distinct=False)
    x = linked.join(deals, "opportunity_id")
    x = x.select("pos", "opportunity_id", *deals.columns[1:], *cols)
    x = x.filter((x.d <= x.end) & (x.d >= x.created - ibis.interval(days=int(lookback_days))))
    deal = ibis.window(group_by="opportunity_id")
    decay = ibis.literal(2.0) ** (-x.end.delta(x.d, unit="day").cast("float64") / float(half_life_days))
    # One pass of window functions over each deal's touches: the rank, and the deal's counts and decay sum. The touches
    # dated on or before a day are a prefix of the contract's order (it sorts by the time first), so the last of them
    # (the LC / OC milestone) is at rank count - 1, or the first touch when there is none (0).
    x = x.mutate(k=ibis.row_number().over(ibis.window(group_by="opportunity_id", order_by=list(ORDER))),
                 n=x.pos.count().over(deal), lc_n=x.pos.count(where=x.d <= x.lead_created).over(deal),
                 oc_n=x.pos.count(where=x.d <= x.created).over(deal), decay_sum=decay.sum().over(deal))
    at = {"FT": ibis.literal(0, type="int64"), "LC": ibis.greatest(x.lc_n - 1, 0), "OC": ibis.greatest(x.oc_n - 1, 0),
          "CW": x.n - 1}
    x = x.mutate(**{m: x.k == at[m] for m in MILESTONES})
    models = {}
    for model, (weights, rest) in MILESTONE_WEIGHTS.items():
        # a milestone's weight where the touch holds it (a CASE, not a boolean cast to a number: PostgreSQL has none)
        w = sum((ibis.ifelse(x[m], weight, 0.0) for m, weight in weights.items()), ibis.literal(0.0))
        holds = ibis.or_(*(x[m] for m in weights))
        # the rest: the deal's touches holding none of the model's milestones (each milestone is one touch, several may
        # be the same one); when there is none, the touches' weights are scaled to 1 by their sum, the milestones' weights
        places = [at[m] for m in weights]
        held = sum((ibis.ifelse(ibis.and_(*(p != q for q in places[:i])), 1, 0) for i, p in enumerate(places) if i), ibis.literal(1))
        rest_n = x.n - held
        total = sum((weight * 1.0 for weight in weights.values()), 0.0)
        models[model] = ibis.ifelse(rest_n > 0, ibis.ifelse(holds, w, rest / rest_n.cast("float64")), w / total)
    models["linear"] = 1.0 / x.n.cast("float64")
    models["time_decay"] = decay / x.decay_sum
    return x.mutate(**{m: models[m] for m in POSITION_MODELS}).drop("lc_n", "oc_n", "decay_sum")


def credit_sums_expr(pairs):
    """Per channel of the pairs of the period's deals: for every model m, ``m_won`` / ``m_won_deals`` (credit × amount,
    amount 0 when unknown / credit, over the deals won in P) and ``m_pipe`` / ``m_pipe_deals`` (over the deals created
    in P); ``won_n`` / ``pipe_n`` count the pairs (a channel is listed where it has one)."""
    p = pairs.filter(pairs.won_p | pairs.created_p)
    amount = p.amount.fill_null(0.0)
    sums = {"won_n": p.count(where=p.won_p), "pipe_n": p.count(where=p.created_p)}
    for m in POSITION_MODELS:
        sums |= {f"{m}_won": (p[m] * amount).sum(where=p.won_p), f"{m}_won_deals": p[m].sum(where=p.won_p),
                 f"{m}_pipe": (p[m] * amount).sum(where=p.created_p), f"{m}_pipe_deals": p[m].sum(where=p.created_p)}
    return p.group_by("channel").aggregate(**sums)


def deal_figures_expr(pairs, deals, marketing_channels):
    """One row: for scope s in (won: won in P, pipe: created in P) and group g in (all, touched, bare: no counted
    touch, sourced: FT in a marketing channel, influenced: any counted touch in one, other: touched, not sourced),
    ``s_g_n`` (deals), ``s_g_amount`` (sum of known amounts), ``s_g_known`` (deals of the group with an amount) and
    ``s_known`` (deals of the scope with an amount)."""
    import ibis

    channels = sorted(set(marketing_channels or ()))
    mk = pairs.channel.isin(channels) if channels else pairs.k.notnull() & ibis.literal(False)   # a column: never
    per = pairs.group_by(oid=pairs.opportunity_id).aggregate(influenced=mk.any(), sourced=(mk & (pairs.k == 0)).any())
    d = deals.left_join(per, deals.opportunity_id == per.oid)
    touched = d.oid.notnull()
    sourced, influenced = d.sourced.fill_null(False), d.influenced.fill_null(False)
    groups = {"all": ibis.literal(True), "touched": touched, "bare": ~touched, "sourced": sourced,
              "influenced": influenced, "other": touched & ~sourced}
    sums = {}
    for scope, flag in (("won", d.won_p), ("pipe", d.created_p)):
        sums[f"{scope}_known"] = d.count(where=flag & d.amount.notnull())
        for name, g in groups.items():
            sums[f"{scope}_{name}_n"] = d.count(where=flag & g)
            sums[f"{scope}_{name}_amount"] = d.amount.sum(where=flag & g)
            sums[f"{scope}_{name}_known"] = d.count(where=flag & g & d.amount.notnull())
    return d.aggregate(**sums)


def content_expr(pairs):
    """Per asset (touch content) on the deals won or lost in P: won_deals, lost_deals (distinct deals holding it),
    before (its touches dated before the deal's created_at), after (on or after it)."""
    p = pairs.filter(pairs.content.notnull() & (pairs.won_p | pairs.lost_p))
    return p.group_by("content").aggregate(won_deals=p.opportunity_id.nunique(where=p.won_p),
                                           lost_deals=p.opportunity_id.nunique(where=p.lost_p),
                                           before=p.count(where=p.d < p.created), after=p.count(where=p.d >= p.created))


def path_steps_expr(touches, leads, opps, as_of: dt.date, horizon_days: int, window_start: dt.date | None,
                    window_end: dt.date | None):
    """The paths' touches: one row per (lead, counted touch) with lead_id, the touch's pos, ts, touch_id, channel,
    and the lead's closed (its first won deal's closed_at day by as_of; null when not converted) and revenue (won
    amount of its won deals).

    Leads: created in [window_start, window_end] (None: open) and observed (created_at ≤ as_of − horizon_days).
    A lead's touches: its own and those carrying the id of an opportunity linked to it, dated on or before closed
    (as_of when not converted)."""
    import ibis

    ld = E._prepared_leads(leads.select("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id"))
    keep = ld.created <= as_of - dt.timedelta(days=int(horizon_days))
    if window_start is not None:
        keep &= ld.created >= window_start
    if window_end is not None:
        keep &= ld.created <= window_end
    chosen = ld.filter(keep).select("lead_id")
    links = E.pairs_expr(leads, opps)
    links = links.semi_join(chosen, "lead_id")
    o = E._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    o = o.filter((o.outcome == "won") & o.closed.notnull() & (o.closed <= as_of)).select("opportunity_id", "closed", "amount")
    won = links.join(o, "opportunity_id")
    won = won.group_by(wid=won.lead_id).aggregate(closed=won.closed.min(), revenue=won.amount.sum())
    t = touches
    cols = ("touch_id", "d", "channel")
    # a lead's own touches, and those carrying the id of a deal linked to it unless they are its own (listed already):
    # each (lead, touch) once without a distinct over all steps, the touch's columns carried along
    own = t.select("pos", "lead_id", "ts", *cols).semi_join(chosen, "lead_id")
    on_deal = t.filter(t.opportunity_id.notnull()).select("pos", "opportunity_id", "ts", *cols, own_lead=t.lead_id)
    on_deal = on_deal.join(links, "opportunity_id")
    on_deal = on_deal.filter(on_deal.own_lead.isnull() | (on_deal.own_lead != on_deal.lead_id))
    steps = own.union(on_deal.select("pos", "lead_id", "ts", *cols), distinct=False)
    steps = steps.left_join(won, steps.lead_id == won.wid).drop("wid")
    return steps.filter(steps.d <= ibis.coalesce(steps.closed, ibis.literal(as_of, type="date")))


def lead_paths_expr(steps):
    """One row per lead with touches (from :func:`path_steps_expr`): lead_id, path (its channels in the contract's
    order, an array), converted (bool), revenue."""
    return steps.group_by("lead_id").aggregate(path=steps.channel.collect(order_by=[steps[c] for c in ORDER]),
                                               converted=steps.closed.max().notnull(), revenue=steps.revenue.max())


def path_counts_expr(steps):
    """The distinct (path, converted) of :func:`lead_paths_expr` with n (leads following it), revenue (their won
    amounts' sum, null when none known): one grouped count over the leads."""
    paths = lead_paths_expr(steps)
    return paths.group_by(["path", "converted"]).aggregate(n=paths.count(), revenue=paths.revenue.sum())


def converted_revenue_expr(steps, leads, opps, as_of: dt.date):
    """One row: revenue (sum of the known amounts) and known (deals with an amount) of the distinct deals won by as_of
    that are linked to a converted path's lead (from :func:`path_steps_expr`). A deal linked to several such leads
    (a buying committee) counts once: the money the data-driven shares split is the revenue actually won."""
    converted = steps.filter(steps.closed.notnull()).select("lead_id").distinct()
    links = E.pairs_expr(leads, opps).semi_join(converted, "lead_id")
    o = E._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    o = o.filter((o.outcome == "won") & o.closed.notnull() & (o.closed <= as_of)).semi_join(links, "opportunity_id")
    return o.aggregate(revenue=o.amount.sum(), known=o.amount.count())


def touch_counts_expr(touches, leads, opps, as_of: dt.date):
    """One row of touch coverage counts (as helpers.metrics.attribution.coverage counts a frame's): touches (rows),
    unknown_lead (lead_id null or not a lead of `leads`; every touch without a leads table), after_close (dated after
    the earliest close of a won or lost deal linked to it: a deal of its lead, or the deal it carries;
    helpers.data.touches.after_close) and after_as_of (dated after as_of)."""
    import ibis

    t = touches
    o = E._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    closed = o.filter(o.outcome.isin(("won", "lost")) & o.closed.notnull() & o.opportunity_id.notnull())
    closed = closed.group_by(cid=closed.opportunity_id).aggregate(c=closed.closed.min())
    links = _links(leads, opps)
    lead_close = links.join(closed, links.opportunity_id == closed.cid)
    lead_close = lead_close.group_by(lid=lead_close.lead_id).aggregate(lc=lead_close.c.min())
    j = t.left_join(lead_close, t.lead_id == lead_close.lid).drop("lid")
    own = closed.view()
    j = j.left_join(own, j.opportunity_id == own.cid).drop("cid")
    j = j.mutate(late=(j.d > ibis.least(ibis.coalesce(j.lc, j.c), ibis.coalesce(j.c, j.lc))).fill_null(False))
    if leads is None:
        j = j.mutate(unknown=ibis.literal(True))
    else:
        ids = leads.select(kid=leads.lead_id.cast("string")).distinct().mutate(known=ibis.literal(True))
        j = j.left_join(ids, j.lead_id == ids.kid)
        j = j.mutate(unknown=j.known.isnull())
    return j.aggregate(touches=j.count(), unknown_lead=j.count(where=j.unknown), after_close=j.count(where=j.late),
                       after_as_of=j.count(where=(j.d > as_of).fill_null(False)))


def lead_dates_expr(leads, opps, as_of: dt.date, quantile: float = 0.9):
    """One row: created_n (leads created on or before as_of), created_days (their distinct created days) and h_q
    (the `quantile`, linear as numpy's percentile, of the days from a lead's created_at to its first deal's existing on as_of, 0 when
    the deal came first; null without such a lead): what helpers.metrics.lead_section.bulk_created and
    helpers.metrics.lead_quality.horizon_days read."""
    import ibis

    ld = E._prepared_leads(leads.select("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id"))
    o = E._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    o = o.filter(o.created <= as_of).select(oid=o.opportunity_id, oc=o.created)
    p = E.pairs_expr(leads, opps)
    first = p.join(o, p.opportunity_id == o.oid)
    first = first.group_by(fid=first.lead_id).aggregate(oc=first.oc.min())
    lc = ld.group_by(gid=ld.lead_id).aggregate(created=ld.created.min())
    lc = lc.filter(lc.created.notnull())
    days = first.join(lc, first.fid == lc.gid)
    days = days.select(n=ibis.greatest(days.oc.delta(days.created, unit="day"), 0).cast("float64"))
    q = days.aggregate(h_q=days.n.quantile(quantile))
    made = ld.filter(ld.created <= as_of)
    counts = made.aggregate(created_n=made.created.count(), created_days=made.created.nunique())
    return counts.cross_join(q)
