"""The leads' outcomes as known on a date, as engine expressions (helpers.metrics.engine's tables and backend): the
conversion curves, the cohort projection and the reverse funnel's lead rates read counts per day from them, so a
warehouse returns aggregates, not leads.

A lead's outcome (:func:`lead_outcomes_expr`): its first linked opportunity (either link column; the earliest
created by as_of, ties by opportunity_id) with that deal's creation, its close when won or lost by as_of, and
its event (1 won, 2 lost, 0 open or none). Its times (:func:`lead_times_expr`), in days from the lead's
creation: age (to as_of), to_opportunity (to that deal's creation, or age when none: censored), to_close (to that
deal's close, or age while undecided); a negative gap counts as 0 days.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from helpers.metrics import engine
from helpers.metrics.goals_engine import Cells, _fetch, table

#: The kinds of row :func:`projection_counts_expr` returns (column ``kind``).
HISTORY, COHORT = 0, 1


def leads_input(leads, dims: dict[str, str] | None = None):
    """The engine table of `leads`: a pandas frame made one (with the breakdown keys of `dims`), an Ibis table as it is."""
    return engine.leads_table(leads, dims) if isinstance(leads, pd.DataFrame) else leads


def lead_outcomes_expr(leads, opps, as_of: dt.date):
    """One row per lead created by as_of (its key columns k0, ... kept): created, mql, sqld, opp_created, opp_closed
    (null unless won or lost by as_of), opp_event (1 won, 2 lost, 0 open or no linked deal)."""
    import ibis

    ld = engine._prepared_leads(leads)
    ld = ld.filter(ld.created <= as_of)
    o = engine._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    o = o.filter(o.created <= as_of)
    p = engine.pairs_expr(leads, opps)
    j = p.join(o, p.opportunity_id == o.opportunity_id).select(
        lead=p.lead_id, oid=p.opportunity_id, oc=o.created, ocl=o.closed, outcome=o.outcome)
    won = ((j.outcome == "won") & (j.ocl <= as_of)).fill_null(False)
    lost = ((j.outcome == "lost") & (j.ocl <= as_of)).fill_null(False)
    j = j.mutate(ev=ibis.ifelse(won, 1, ibis.ifelse(lost, 2, 0)),
                 rank=ibis.row_number().over(group_by=j.lead, order_by=[j.oc, j.oid]))
    first = j.filter(j.rank == 0)
    out = ld.left_join(first, ld.lead_id == first.lead)
    return out.select(*[c for c in ld.columns], opp_created=out.oc,
                      opp_closed=ibis.ifelse(out.ev > 0, out.ocl, ibis.null("date")),
                      opp_event=out.ev.fill_null(0).cast("int8"))


def lead_times_expr(outcomes, as_of: dt.date):
    """:func:`lead_outcomes_expr` with the lead's times in days: age, to_opportunity, opportunity (bool), to_close,
    close_event (the module docstring)."""
    import ibis

    age = ibis.literal(as_of).delta(outcomes.created, unit="day")
    has_opp = outcomes.opp_created.notnull()
    return outcomes.mutate(
        age=age, opportunity=has_opp,
        to_opportunity=ibis.ifelse(has_opp, ibis.greatest(outcomes.opp_created.delta(outcomes.created, unit="day"), 0), age),
        to_close=ibis.ifelse(outcomes.opp_event > 0,
                             ibis.greatest(outcomes.opp_closed.delta(outcomes.created, unit="day"), 0), age),
        close_event=outcomes.opp_event)


def _created_between(times, first: dt.date | None, last: dt.date):
    return times.filter(times.created <= last) if first is None else times.filter(times.created.between(first, last))


def projection_counts_expr(leads, opps, as_of: dt.date, history: tuple, cohort: tuple | None = None):
    """Counts per day of the leads created in `history` ((first, last) days; first None: no bound): rows
    (kind HISTORY) per (to_opportunity, opportunity, to_close, close_event), n; with `cohort` ((first, last)), also
    (kind COHORT) per (age, opportunity, close_event) of the leads created then, n (age in the column to_close)."""
    import ibis

    times = lead_times_expr(lead_outcomes_expr(leads, opps, as_of), as_of)
    h = _created_between(times, *history)
    cols = ("to_opportunity", "opportunity", "to_close", "close_event")
    parts = [h.group_by(list(cols)).aggregate(n=h.count()).mutate(kind=ibis.literal(HISTORY, type="int8"))]
    if cohort is not None:
        c = _created_between(times, *cohort)
        c = c.group_by(["age", "opportunity", "close_event"]).aggregate(n=c.count())
        parts.append(c.select(to_opportunity=ibis.null("int64"), opportunity=c.opportunity, to_close=c.age.cast("int64"),
                              close_event=c.close_event, n=c.n, kind=ibis.literal(COHORT, type="int8")))
    parts = [t.select(kind=t.kind, to_opportunity=t.to_opportunity.cast("int64"), opportunity=t.opportunity,
                      to_close=t.to_close.cast("int64"), close_event=t.close_event.cast("int8"), n=t.n) for t in parts]
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def projection_counts(leads, opps, as_of, history: tuple, cohort: tuple | None = None,
                      backend=None) -> tuple[Cells, Cells | None]:
    """:func:`projection_counts_expr` run (one query): the history's Cells (to_opportunity, opportunity, to_close,
    close_event) and the cohort's (age, opportunity, close_event), each in that order."""
    a = engine._day(as_of)
    got = _fetch(projection_counts_expr(leads_input(leads), table(opps), a, history, cohort), backend).to_pydict()
    cols = {c: np.array(v, dtype=object) for c, v in got.items()}
    kind = cols["kind"].astype(int)

    def cells(k, names):
        m = kind == k
        values = {"to_opportunity": cols["to_opportunity"][m], "age": cols["to_close"][m],
                  "to_close": cols["to_close"][m], "opportunity": cols["opportunity"][m], "close_event": cols["close_event"][m]}
        return Cells.sorted({name: values[name].astype(bool if name == "opportunity" else np.int64) for name in names},
                            cols["n"][m].astype(np.int64), names)

    hist = cells(HISTORY, ("to_opportunity", "opportunity", "to_close", "close_event"))
    return hist, None if cohort is None else cells(COHORT, ("age", "opportunity", "close_event"))


def won_lead_days_expr(leads, opps, as_of: dt.date, recent_after: dt.date, quantile: float):
    """Over the leads whose first linked deal was won by as_of: n and the `quantile` of days from the lead's creation to
    that close (negative counted as 0: the maturity of a cohort); and over those won after `recent_after`: the
    median days to that close from the lead's creation, mql_at and sql_at (gaps >= 0 only), with their counts."""
    o = lead_outcomes_expr(leads, opps, as_of)
    w = o.filter(o.opp_event == 1)
    import ibis

    to_won = ibis.greatest(w.opp_closed.delta(w.created, unit="day"), 0).cast("float64")
    recent = w.opp_closed > recent_after
    gaps = {name: w.opp_closed.delta(w[col], unit="day").cast("float64") for name, col in
            (("lead", "created"), ("mql", "mql"), ("sql", "sqld"))}
    ok = {name: recent & gap.notnull() & (gap >= 0) for name, gap in gaps.items()}
    return w.aggregate(n=w.count(), q=to_won.quantile(quantile),
                       **{f"n_{k}": w.count(where=ok[k]) for k in gaps},
                       **{f"m_{k}": gaps[k].quantile(0.5, where=ok[k]) for k in gaps})


def channel_mix_expr(leads, opps, as_of: dt.date, first: dt.date, last: dt.date):
    """Per channel (k0 labelled: null or blank 'unknown') of the leads created in [first, last]: leads and those that
    reached MQL (an mql_at or sql_at date, or a linked deal created by as_of)."""
    o = lead_outcomes_expr(leads, opps, as_of)
    c = o.filter(o.created.between(first, last))
    c = c.mutate(channel=engine._key_label(c.k0.cast("string")),
                 reached=c.mql.notnull() | c.sqld.notnull() | c.opp_created.notnull())
    return c.group_by("channel").aggregate(leads=c.count(), mql=c.count(where=c.reached))
