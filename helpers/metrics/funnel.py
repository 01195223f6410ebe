"""Lead funnel of one period: the period view and the cohort view (contract section 3, "Lead funnel").

Pure functions: the frames passed in are never changed, and the results are
plain Python values. A lead created after ``as_of`` does not exist; a stage
date after ``as_of`` is not known yet. When the data has no leads table
(``leads is None``) the funnel results are ``None``.

Leads and opportunities are linked by the union of both links: a lead's
``opportunity_id`` and an opportunity's ``lead_id``. A link to an id that is
not in the other table is ignored (nothing can be said about that row).
"""
from __future__ import annotations

import pandas as pd

from helpers.metrics.pipeline import day, ratio

#: The keys of :func:`funnel_period`, in order.
PERIOD_KEYS = ("leads", "mqls", "sqls", "opportunities", "won")

#: The keys of :func:`funnel_cohort`, in order.
COHORT_KEYS = (
    "leads", "mql", "sql", "opportunity", "won",
    "mql_rate", "sql_rate", "opportunity_rate", "won_rate",
    "lead_to_opportunity_rate", "lead_to_won_rate",
    "immature", "days_observed", "typical_days_to_opportunity",
    "skipped_mql", "skipped_sql", "maturity_days", "maturity_measure",
)

#: Share of linked lead -> opportunity pairs that convert within the "typical" time.
TYPICAL_QUANTILE = 80

#: A cohort is mature once it has been observed for the time 90% of the data's wins took from lead to won.
MATURITY_QUANTILE = 90

#: The measures a cohort's maturity is judged by (the first one the data supports).
MATURITY_MEASURES = ("p90_lead_to_won_days", "p80_lead_to_opportunity_days")


def _ids(series: pd.Series) -> pd.Series:
    """Ids as plain str objects (None for nulls), so ids typed differently in the two tables still match."""
    text = series.astype("string")
    return text.astype(object).where(text.notna(), None)


def linked_pairs(leads: pd.DataFrame | None, opps: pd.DataFrame | None) -> pd.DataFrame:
    """The lead-opportunity links: distinct (lead_id, opportunity_id) pairs from leads.opportunity_id OR opps.lead_id.

    Either table may be None or lack its link column; that side then adds no
    pairs. Ids are returned as str. Pairs are not checked against the other
    table here (callers join on what they need).
    """
    parts = []
    for frame, own, other in ((leads, "lead_id", "opportunity_id"), (opps, "opportunity_id", "lead_id")):
        if frame is None or own not in frame.columns or other not in frame.columns:
            continue
        part = pd.DataFrame({"lead_id": _ids(frame["lead_id"]), "opportunity_id": _ids(frame["opportunity_id"])})
        parts.append(part.dropna())
    if not parts:
        return pd.DataFrame({"lead_id": pd.Series(dtype=object), "opportunity_id": pd.Series(dtype=object)})
    pairs = pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)
    return pairs.astype(object)


def funnel_period(leads: pd.DataFrame | None, opps: pd.DataFrame, start, end, as_of) -> dict | None:
    """Funnel events dated in P = [start, end] and on or before as_of: leads, mqls, sqls, opportunities, won.

    - ``leads``: leads with created_at in P.
    - ``mqls``: leads with mql_at in P.
    - ``sqls``: leads with sql_at in P.
    - ``opportunities``: opportunities_created of :func:`helpers.metrics.pipeline.pipeline_metrics`.
    - ``won``: won_count of :func:`helpers.metrics.pipeline.pipeline_metrics`.

    Only leads that exist on as_of count. None when there is no leads table.
    """
    if leads is None:
        return None
    from helpers.metrics.engine import lead_funnel_aggregates, pipeline_aggregates, total

    lead_side = total(lead_funnel_aggregates(leads, opps, start, end, as_of))
    opp_side = total(pipeline_aggregates(opps, start, end, as_of))
    return derive_period(lead_side, (opp_side or {}).get("created", 0), (opp_side or {}).get("won", 0))


def derive_period(aggregates: dict | None, opportunities: int, won: int) -> dict:
    """The keys of :func:`funnel_period` from the engine's lead aggregates (p_leads, p_mqls, p_sqls; None = no leads) and the opportunity counts."""
    agg = aggregates or {}
    return {"leads": int(agg.get("p_leads", 0)), "mqls": int(agg.get("p_mqls", 0)), "sqls": int(agg.get("p_sqls", 0)),
            "opportunities": int(opportunities), "won": int(won)}


def typical_days_to_opportunity(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of) -> float | None:
    """Typical days from lead to opportunity: the 80th percentile of days from lead created_at to linked opportunity created_at.

    Over every linked pair whose lead and opportunity were both created on or
    before as_of (numpy's linear interpolation). A negative gap (opportunity
    recorded before its lead) is left out (a data error, counted in data health).
    None when there is no such pair or no leads table. (:func:`typical_days_of` on the frames.)
    """
    from helpers.metrics.source import FrameSource

    return typical_days_of(FrameSource(leads, opps), as_of)


def typical_days_of(source, as_of) -> float | None:
    """:func:`typical_days_to_opportunity` of a :class:`helpers.metrics.source.Source`; None without a leads table or a
    linked pair. The first part of :func:`typical_and_maturity_of` (one aggregate row, computed once per source and
    as_of: notebook 02's rate table of every dimension reads it)."""
    return typical_and_maturity_of(source, as_of)[0]


def maturity_days(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of) -> tuple[float | None, str | None]:
    """How long a lead cohort must be observed to be mature, and the measure used: (days, measure).

    The 90th percentile of days from lead created_at to the linked opportunity's
    closed_at over the linked pairs won on or before as_of (linear interpolation,
    helpers.metrics.engine.lead_to_won_expr; a negative interval is left out, never 0 days),
    measure ``p90_lead_to_won_days``: a cohort observed for less than that has not had
    time to produce most of its wins. Without a won linked pair, the typical days to
    opportunity (:func:`typical_days_to_opportunity`), measure
    ``p80_lead_to_opportunity_days``. (None, None) when neither can be measured or
    there is no leads table.
    """
    from helpers.metrics.source import FrameSource

    return maturity_days_of(FrameSource(leads, opps), as_of)


def maturity_days_of(source, as_of) -> tuple[float | None, str | None]:
    """:func:`maturity_days` of a :class:`helpers.metrics.source.Source`: the second part of
    :func:`typical_and_maturity_of` (one aggregate row, computed once per source and as_of)."""
    return typical_and_maturity_of(source, as_of)[1]


def typical_and_maturity_of(source, as_of, links=None) -> tuple[float | None, tuple[float | None, str | None]]:
    """``(typical days to opportunity, (maturity days, measure))`` of a :class:`helpers.metrics.source.Source`
    (:func:`typical_days_to_opportunity`, :func:`maturity_days`) from one aggregate row: one pass over the linked
    pairs (helpers.metrics.engine.day_quantiles_expr), or over `links` when the caller has them
    (helpers.metrics.engine_links.links_expr of the same as_of, e.g. a breakdown's materialized join:
    helpers.metrics.engine.link_quantiles_expr; the same rows, so the same values). ``(None, (None, None))`` without
    a leads table. Computed once per source and as_of (:meth:`helpers.metrics.source.Source.memo`), whoever asks
    first: the one owner of both figures."""
    if not source.has_leads:
        return None, (None, None)
    from helpers.metrics.engine import ALL, _day, day_quantiles_expr, link_quantiles_expr
    from helpers.metrics.source import memoized

    a = _day(as_of)
    quantiles = TYPICAL_QUANTILE / 100, MATURITY_QUANTILE / 100

    def compute():
        expr = (day_quantiles_expr(source.leads(), source.opps(), a, *quantiles) if links is None
                else link_quantiles_expr(links, a, *quantiles))
        return day_measures(source.run(expr)[ALL])

    return memoized(source, _memo_key(a), compute)


def _memo_key(day) -> tuple:
    """The key of :func:`typical_and_maturity_of`'s memo for the as_of `day` (a datetime.date)."""
    return ("typical_and_maturity_days", day)


def typical_and_maturity_held(source, as_of) -> tuple | None:
    """:func:`typical_and_maturity_of`'s values when its memo already holds them for `source` and `as_of` (``(None,
    (None, None))`` for a source without leads, as it gives), else None (computes nothing: a caller that would compute them from a join it shares decides by this whether it shares it)."""
    from helpers.metrics.engine import _day

    if not source.has_leads:
        return None, (None, None)
    held = getattr(source, "held", None)
    return None if held is None else held(_memo_key(_day(as_of)))


def day_measures(row: dict) -> tuple[float | None, tuple[float | None, str | None]]:
    """``(typical days, (maturity days, measure))`` from the row of helpers.metrics.engine.day_quantiles_expr
    (``n``, ``q``, ``n_won``, ``q_won``): the typical days None without a pair; the maturity the won quantile when a
    pair was won, else the typical days (:func:`maturity_days`' fallback), else (None, None)."""
    typical = None if not row["n"] else float(row["q"])
    if row["n_won"]:
        return typical, (float(row["q_won"]), MATURITY_MEASURES[0])
    return typical, ((None, None) if typical is None else (typical, MATURITY_MEASURES[1]))


def funnel_cohort(leads: pd.DataFrame | None, opps: pd.DataFrame, start, end, as_of, typical_days=None,
                  maturity=None) -> dict | None:
    """The leads created in P = [start, end] (and on or before as_of), followed to as_of: how far each got.

    A lead has reached a stage if it has that stage's date (on or before
    as_of) or has reached any later stage:

    - ``leads``: leads created in P.
    - ``mql`` / ``sql``: leads with mql_at / sql_at, or a later stage.
    - ``opportunity``: leads with a linked opportunity (leads.opportunity_id or
      opps.lead_id) created on or before as_of, or a won one.
    - ``won``: leads with a linked opportunity won with closed_at on or before as_of.
    - ``mql_rate`` = mql/leads, ``sql_rate`` = sql/mql, ``opportunity_rate`` =
      opportunity/sql, ``won_rate`` = won/opportunity, ``lead_to_opportunity_rate``
      (商談化率) = opportunity/leads, ``lead_to_won_rate`` = won/leads; None on a
      zero denominator.
    - ``immature``: days_observed < maturity_days (None when that is unknown, and for a cohort without leads:
      nothing can still convert);
      ``days_observed`` = days from min(end, as_of) to as_of (:func:`days_observed`: never negative); ``maturity_days`` and
      ``maturity_measure``: `maturity` = (days, measure) if given, else
      :func:`maturity_days` on these leads and opportunities (the 90th percentile
      of the data's lead-to-won days); ``typical_days_to_opportunity``:
      `typical_days` if given, else :func:`typical_days_to_opportunity`.
    - ``skipped_mql`` / ``skipped_sql``: leads counted at that stage only because
      they reached a later stage without that stage's date (data quality).

    None when there is no leads table.
    """
    if leads is None:
        return None
    from helpers.metrics.engine import lead_funnel_aggregates, total

    if typical_days is None:
        typical_days = typical_days_to_opportunity(leads, opps, as_of)
    if maturity is None:
        maturity = maturity_days(leads, opps, as_of)
    return derive_cohort(total(lead_funnel_aggregates(leads, opps, start, end, as_of)), typical_days, end, as_of, maturity)


def days_observed(end, as_of) -> int:
    """How long the cohort of period P = [start, end] has been observed by as_of: the days from the creation of its
    youngest possible lead, min(end, as_of), to as_of (days, an int, never negative). 0 while P is still running
    (its newest leads were created on as_of) and for a P that starts after as_of (no lead of it exists yet: an empty
    cohort observed for no day, not an unknown one). The cohort's immature flag compares it with maturity_days: the
    youngest leads have had at least this long to convert (docs/glossary.md, "Maturity is measured from the end of
    P")."""
    cutoff = day(as_of)
    return int((cutoff - min(day(end), cutoff)).days)


def derive_cohort(aggregates: dict | None, typical_days, end, as_of, maturity=(None, None)) -> dict:
    """The keys of :func:`funnel_cohort` from the engine's cohort aggregates (c_leads, c_mql, c_sql, c_opp, c_won, skipped_mql, skipped_sql; None = no leads).

    Pure: the rates are derived here (None on a zero denominator); ``immature`` compares
    :func:`days_observed` with `maturity` = (maturity_days, measure) of :func:`maturity_days` (None when its days
    are unknown or the cohort has no lead).
    """
    agg = aggregates or {}
    n_leads, n_mql, n_sql, n_opp, n_won = (int(agg.get(k, 0)) for k in ("c_leads", "c_mql", "c_sql", "c_opp", "c_won"))
    typical = None if typical_days is None else float(typical_days)
    mature_days, measure = maturity
    observed = days_observed(end, as_of)
    return {
        "leads": n_leads,
        "mql": n_mql,
        "sql": n_sql,
        "opportunity": n_opp,
        "won": n_won,
        "mql_rate": ratio(n_mql, n_leads),
        "sql_rate": ratio(n_sql, n_mql),
        "opportunity_rate": ratio(n_opp, n_sql),
        "won_rate": ratio(n_won, n_opp),
        "lead_to_opportunity_rate": ratio(n_opp, n_leads),
        "lead_to_won_rate": ratio(n_won, n_leads),
        "immature": None if mature_days is None or not n_leads else bool(observed < mature_days),
        "days_observed": observed,
        "typical_days_to_opportunity": typical,
        "skipped_mql": int(agg.get("skipped_mql", 0)),
        "skipped_sql": int(agg.get("skipped_sql", 0)),
        "maturity_days": None if mature_days is None else float(mature_days),
        "maturity_measure": measure,
    }
