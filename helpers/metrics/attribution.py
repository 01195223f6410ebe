"""Position attribution (contract section 6): an opportunity's touches, its milestones and every position model's credits.

The counted pairs, their order, milestones and weights are engine expressions
(helpers.metrics.attribution_engine, run in DuckDB through Ibis); only aggregates come back, and the money and
its exact rounding are derived here:

- :func:`deal_touches`: each opportunity's counted touches in order with milestones FT, LC, OC, CW and every
  model's credit (one opportunity's credits add up to 1), as a frame (small data, tests); a report keeps them in
  the engine (:func:`pairs_table`).
- :func:`position_credits`: a period's credits in money and in deals per channel and model: ``won`` over the
  deals won in P (with the row ``no_touches``, each model adds up exactly to won_revenue: largest-remainder
  rounding to the currency's smallest unit) and ``pipeline`` over the deals created in P.
- :func:`sourced_influenced`, :func:`coverage` (with :func:`touch_counts`), :func:`content_in_deals`: marketing-sourced and -influenced
  pipeline and revenue, touch coverage of won revenue, the assets used in won and lost deals.

Each of these takes the pairs as a frame of :func:`deal_touches` or as the engine table of :func:`pairs_table`, and
the touches, leads and opportunities as pandas frames or as Ibis tables (:func:`engine_tables`: a warehouse's tables
in canonical form, helpers.metrics.warehouse.attribution_tables) with `backend` the connection that runs them; with
tables only aggregates are fetched.
The data-driven models (Markov, Shapley) are in helpers.metrics.attribution_paths; the metrics.json section
is put together by :func:`helpers.metrics.attribution_paths.attribution_section`.
"""
from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa

from helpers.metrics import engine as E
from helpers.metrics.attribution_engine import MILESTONE_WEIGHTS, MILESTONES, POSITION_MODELS  # noqa: F401 (public here)
from helpers.metrics.attribution_engine import (content_expr, credit_sums_expr, deal_figures_expr, deals_expr, pairs_expr,
                                                touch_counts_expr)

#: The row of the deals without any touch.
NO_TOUCHES = "no_touches"
DEFAULT_LOOKBACK_DAYS = 365
DEFAULT_HALF_LIFE_DAYS = 7
#: The pair columns the period's figures read (besides the deal's, joined again for the period).
PAIR_COLUMNS = ("opportunity_id", "channel", "content", "k", "d", *POSITION_MODELS)


def is_table(value) -> bool:
    """`value` is an Ibis table (an engine or warehouse table in canonical form), not a pandas frame."""
    import ibis.expr.types as ir

    return isinstance(value, ir.Table)


def engine_tables(touches, leads, opps):
    """(touches, leads, opps) as engine tables: each pandas frame converted (:func:`~helpers.metrics.engine.touches_table`,
    :func:`~helpers.metrics.engine.leads_table`, :func:`~helpers.metrics.engine.opps_table`), an Ibis table (a
    warehouse's, canonical as :func:`helpers.metrics.warehouse.attribution_tables` makes it) kept; None stays None."""
    def table(value, build):
        return value if value is None or is_table(value) else build(value)

    return table(touches, E.touches_table), table(leads, E.leads_table), table(opps, E.opps_table)


def _tables(opps, leads, start, end, as_of):
    """The engine tables and the period's deals (:func:`~helpers.metrics.attribution_engine.deals_expr`)."""
    s, last, a = E.period_bounds(start, end, as_of)
    _, leads_t, opps_t = engine_tables(None, leads, opps)
    return opps_t, leads_t, deals_expr(opps_t, leads_t, s, last, a)


def pairs_table(touches, leads, opps, as_of,
                lookback_days: int = DEFAULT_LOOKBACK_DAYS, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                bulk_created: bool = False):
    """The counted (opportunity, touch) pairs as an engine expression (:func:`~helpers.metrics.attribution_engine.pairs_expr`,
    period-free: the deals' flags are for as_of's day). `bulk_created`: the leads' created_at is a bulk-load stamp
    (:func:`helpers.metrics.lead_section.bulk_created`), which says nothing of when a lead was created: LC is then FT
    (the contract's "FT when none")."""
    import ibis

    opps_t, leads_t, deals = _tables(opps, leads, as_of, as_of, as_of)
    if bulk_created:
        deals = deals.mutate(lead_created=ibis.null("date"))
    return pairs_expr(engine_tables(touches, None, None)[0], leads_t, opps_t, deals, lookback_days, half_life_days, E._day(as_of))


def deal_touches(touches, leads, opps, as_of,
                 lookback_days: int = DEFAULT_LOOKBACK_DAYS, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                 backend=None) -> pd.DataFrame:
    """Every (opportunity, touch) pair that counts, ordered, with milestones and each model's credit, as a frame.

    Columns: opportunity_id, touch (row position in `touches`), touch_id, touched_at, day, channel, content, created,
    end, lead_created (days), amount, k (0-based order in the deal), n (its touches), FT/LC/OC/CW (bool: the touch
    holds the milestone) and one column per model of :data:`POSITION_MODELS` (its credit; one deal's credits add up
    to 1); sorted by opportunity_id, then k. A touch counts for a deal when linked (its lead is the deal's lead, or it
    carries the deal's opportunity_id), dated (calendar day) on or before the deal's end (closed_at, as_of while
    open; never after as_of) and not more than `lookback_days` before its created_at."""
    expr = pairs_table(touches, leads, opps, as_of, lookback_days, half_life_days)
    frame = E.to_arrow(backend or E.default_backend(), expr.order_by(["opportunity_id", "k"])).to_pandas()
    frame = frame.rename(columns={"pos": "touch", "ts": "touched_at", "d": "day"})
    for c in ("day", "created", "end", "lead_created"):
        frame[c] = pd.to_datetime(frame[c])
    return frame.drop(columns=["won_p", "lost_p", "created_p"])


def _period_pairs(pairs, deals):
    """The pairs (a frame of :func:`deal_touches` or an engine table) joined to the period's deals."""
    import ibis

    if isinstance(pairs, pd.DataFrame):
        frame = pairs.rename(columns={"day": "d"})
        frame = pd.DataFrame({c: frame[c] for c in PAIR_COLUMNS}).astype({"opportunity_id": object, "channel": object,
                                                                           "content": object})
        pairs = ibis.memtable(pa.Table.from_pandas(frame, preserve_index=False))
        pairs = pairs.mutate(d=pairs.d.cast("date"), channel=pairs.channel.cast("string"),
                             content=pairs.content.cast("string"), opportunity_id=pairs.opportunity_id.cast("string"))
    return pairs.select(*PAIR_COLUMNS).join(deals, "opportunity_id")


def _run(expr, backend=None) -> list[dict]:
    return E.to_arrow(backend or E.default_backend(), expr).to_pylist()


def allocate(values: dict[str, float], total: float, decimals: int = 0) -> dict[str, float]:
    """Round each value to the currency's smallest unit (10^-decimals) so that they add up exactly to `total` rounded
    the same way: the floors, then one unit more to the largest fractional parts (largest remainder; ties by key).

    Values and remainders are compared to a millionth of the unit: sums of float credits carry noise (a third of
    an amount, summed in another order), and remainders equal in exact arithmetic must tie, so that the key decides."""
    unit = 10 ** decimals
    target = round(total * unit)
    scaled = {k: round(v * unit, 6) for k, v in values.items()}
    floors = {k: math.floor(v) for k, v in scaled.items()}
    rest = {k: round(scaled[k] - floors[k], 6) for k in scaled}
    left = target - sum(floors.values())
    order = sorted(scaled, key=lambda k: (-rest[k], k))
    step = 1 if left >= 0 else -1
    for i in range(abs(int(left))):
        floors[order[i % len(order)] if step > 0 else order[::-1][i % len(order)]] += step
    return {k: floors[k] / unit for k in values}


def _credit_table(sums: list[dict], kind: str, value: str, bare_n: int, bare_money: float, total: float | None,
                  decimals: int, bare_priced: bool = True) -> dict[str, dict]:
    """{model: {channel: {value: money, "deals": fractional deals}}} from the grouped sums of
    :func:`~helpers.metrics.attribution_engine.credit_sums_expr` (`kind` "won" or "pipe"), with NO_TOUCHES last;
    the money rounded so that it adds up exactly to `total` (None: no amounts, money None). NO_TOUCHES' money is None
    when it has deals and none has an amount (`bare_priced` False: unknown, not 0; the others still add up to
    `total`, the known amounts)."""
    rows = sorted((r for r in sums if r[f"{kind}_n"]), key=lambda r: r["channel"])
    out = {}
    for model in POSITION_MODELS:
        money = {r["channel"]: r[f"{model}_{kind}"] or 0.0 for r in rows} | {NO_TOUCHES: bare_money}
        deals = {r["channel"]: r[f"{model}_{kind}_deals"] or 0.0 for r in rows} | {NO_TOUCHES: float(bare_n)}
        if total is not None:
            money = allocate(money, total, decimals)
        out[model] = {ch: {value: None if total is None or (ch == NO_TOUCHES and bare_n and not bare_priced)
                           else float(round(money[ch], decimals)), "deals": round(float(deals[ch]), 6)}
                      for ch in money}
    return out


def _deal_figures(pairs, deals, marketing_channels=(), backend=None) -> dict:
    return _run(deal_figures_expr(pairs, deals, marketing_channels), backend)[0]


#: The key of :func:`period_deal_figures`' row that names the marketing channels it was counted with (a frozenset).
COUNTED_CHANNELS = "marketing_channels_counted"


def period_deal_figures(pairs, opps, leads, start, end, as_of, backend=None, marketing_channels=()) -> dict:
    """The one row of deal counts and amounts of period [start, end]
    (:func:`~helpers.metrics.attribution_engine.deal_figures_expr`) that :func:`position_credits` and :func:`coverage`
    read, and with `marketing_channels` :func:`sourced_influenced` too (its groups sourced, influenced and other; the
    groups the others read are the same whatever the channels); computed once, it can be passed to each (`figures`).
    The row names its channels under :data:`COUNTED_CHANNELS`."""
    with E.reusing_tables():
        _, _, deals = _tables(opps, leads, start, end, as_of)
        row = _deal_figures(_period_pairs(pairs, deals), deals, marketing_channels, backend)
    return {**row, COUNTED_CHANNELS: frozenset(marketing_channels or ())}


def has_amounts(opps, backend=None) -> bool:
    """Some opportunity has an amount (else every money figure is None, credits in deals only: :func:`amounts_code`)."""
    return amounts_code(opps, backend) is None


def amounts_code(opps, backend=None) -> str | None:
    """Why every money figure is None (helpers.metrics.pipeline.amounts_reason: ``no_opportunities`` without a deal,
    ``no_amounts`` when no deal has an amount), None when some opportunity has an amount; a frame is read here, an
    engine table asked for one row (rows, and those with an amount)."""
    from helpers.metrics.pipeline import amounts_reason

    if is_table(opps):
        row = _run(opps.aggregate(rows=opps.count(), known=opps.amount.count()), backend)[0]
        return amounts_reason(int(row["rows"]), int(row["known"]))
    known = int(opps["amount"].notna().sum()) if "amount" in opps.columns else 0
    return amounts_reason(len(opps), known)


def _money(row: dict, scope: str, group: str, amounts: bool = True, decimals: int | None = None) -> float | None:
    """A deal figure's amount: the sum of the known amounts (0.0 over no deal, as won_revenue when nothing was won),
    rounded to `decimals` (the currency's smallest unit: the engine's float sum of 1234.56-style amounts carries
    noise such as 694800.8900000006); None (unknown, never 0) when the data holds no amount (`amounts` False), or the
    scope has deals and none has one, or the group (`group`: no_touches' "bare", sourced, ...) has deals and none has
    one (an unpriced deal without touches is not worth 0)."""
    if not amounts or (row[f"{scope}_all_n"] and not row[f"{scope}_known"]):
        return None
    if row.get(f"{scope}_{group}_n") and not row.get(f"{scope}_{group}_known", 1):
        return None
    value = float(row[f"{scope}_{group}_amount"] or 0.0)
    return value if decimals is None else float(round(value, decimals))


def position_credits(pairs, opps, leads, start, end, as_of,
                     decimals: int = 0, backend=None, figures: dict | None = None,
                     amounts: bool | None = None) -> dict[str, dict]:
    """``{model: {won: {channel: {revenue, deals}}, pipeline: {channel: {amount, deals}}}}`` for period [start, end].

    `pairs` is :func:`deal_touches` or :func:`pairs_table`; one grouped sum per channel in the engine for every
    model. ``won``: the deals won in P (closed_at in P, on or before as_of); each model's revenue over its channels
    plus ``no_touches`` adds up to their won revenue exactly (to the currency's smallest unit, :func:`allocate`).
    ``pipeline``: the deals created in P; amounts over those with an amount (credit × amount), deals over all.
    Money is None when the data holds no amount, or the scope has deals and none of them has one (credits in deals
    only); over no deal it is 0 (a period without wins adds up to its won_revenue, 0). `figures`: the period's
    :func:`period_deal_figures` when already fetched; `amounts`: :func:`has_amounts` when already known."""
    with E.reusing_tables():
        _, _, deals = _tables(opps, leads, start, end, as_of)
        p = _period_pairs(pairs, deals)
        sums = _run(credit_sums_expr(p), backend)
        f = _deal_figures(p, deals, (), backend) if figures is None else figures
    amounts = has_amounts(opps, backend) if amounts is None else amounts
    out = {}
    for kind, scope, value in (("won", "won", "revenue"), ("pipeline", "pipe", "amount")):
        total = _money(f, scope, "all", amounts)
        table = _credit_table(sums, scope, value, f[f"{scope}_bare_n"], float(f[f"{scope}_bare_amount"] or 0.0), total, decimals,
                              bare_priced=bool(f.get(f"{scope}_bare_known", 1)))
        for model in POSITION_MODELS:
            out.setdefault(model, {})[kind] = table[model]
    return out


def sourced_influenced(pairs, opps, leads, start, end, as_of,
                       marketing_channels, backend=None, decimals: int | None = None, amounts: bool | None = None,
                       figures: dict | None = None) -> dict:
    """Marketing-sourced (FT in a marketing channel) and -influenced (any counted touch in one) deals.

    Returns ``{sourced: {...}, influenced: {...}, by_department: {marketing, other, no_touches: {...}}, marketing_channels}``,
    each ``{pipeline: {count, amount}, won: {count, revenue}}`` over the deals created in P and the deals won in P
    (amount None when the data holds none, or those deals exist and none has one; 0 over no deal). ``by_department`` splits by the FT's department (marketing when its
    channel is listed, other when not). One row of deal counts from the engine. Money is rounded to `decimals` (the
    currency's) when given; `amounts`: :func:`has_amounts` when already known; `figures`: the period's
    :func:`period_deal_figures` of the same `marketing_channels` when already fetched (ValueError when they were
    counted with other channels: their sourced and influenced groups would be another set's)."""
    f = (period_deal_figures(pairs, opps, leads, start, end, as_of, backend, marketing_channels) if figures is None
         else figures)
    if f.get(COUNTED_CHANNELS) != frozenset(marketing_channels or ()):
        raise ValueError(f"the deal figures were counted with the marketing channels {sorted(f.get(COUNTED_CHANNELS) or ())}, "
                         f"not {sorted(marketing_channels or ())}: fetch them with period_deal_figures(..., marketing_channels=...)")
    amounts = has_amounts(opps, backend) if amounts is None else amounts

    def group_figures(group: str) -> dict:
        return {"pipeline": {"count": int(f[f"pipe_{group}_n"]), "amount": _money(f, "pipe", group, amounts, decimals)},
                "won": {"count": int(f[f"won_{group}_n"]), "revenue": _money(f, "won", group, amounts, decimals)}}

    return {"sourced": group_figures("sourced"), "influenced": group_figures("influenced"),
            "by_department": {"marketing": group_figures("sourced"), "other": group_figures("other"),
                              NO_TOUCHES: group_figures("bare")},
            "marketing_channels": sorted(set(marketing_channels or ()))}


def coverage(pairs, touches, opps, leads,
             start, end, as_of, backend=None, decimals: int | None = None, figures: dict | None = None,
             amounts: bool | None = None, counts: dict | None = None) -> dict:
    """Touch coverage (data health): won deals and revenue of P with and without any counted touch (money rounded to
    `decimals`, the currency's, when given), the share of won revenue with touches (None without won revenue), and
    counts of touches left out: lead unknown, after the deal closed, before the lookback, after as_of. `figures`: the
    period's :func:`period_deal_figures` when already fetched; `amounts`: :func:`has_amounts` when already known;
    `counts`: :func:`touch_counts` when already counted."""
    f = period_deal_figures(pairs, opps, leads, start, end, as_of, backend) if figures is None else figures
    amounts = has_amounts(opps, backend) if amounts is None else amounts
    with_rev, without_rev = _money(f, "won", "touched", amounts, decimals), _money(f, "won", "bare", amounts, decimals)
    total = None if with_rev is None else with_rev + without_rev
    out = {"won_deals_with_touches": int(f["won_touched_n"]), "won_deals_without_touches": int(f["won_bare_n"]),
           "won_revenue_with_touches": with_rev, "won_revenue_without_touches": without_rev,
           "won_revenue_share_with_touches": (with_rev / total) if total else None}
    out.update(touch_counts(touches, leads, opps, as_of, backend) if counts is None else counts)
    return out


def touch_counts(touches, leads, opps, as_of, backend=None) -> dict:
    """The touches' counts of :func:`coverage` (period-free): ``touches`` (rows), ``touches_unknown_lead``,
    ``touches_after_close``, ``touches_after_as_of``; all 0 without touches. An engine table is counted in one query
    (:func:`~helpers.metrics.attribution_engine.touch_counts_expr`), a frame in pandas."""
    from helpers.data.touches import after_close
    from helpers.data.validate import isin_ids

    out = {"touches": 0, "touches_unknown_lead": 0, "touches_after_close": 0, "touches_after_as_of": 0}
    if touches is not None and is_table(touches):
        t, ld, o = engine_tables(touches, leads, opps)
        n = _run(touch_counts_expr(t, ld, o, E._day(as_of)), backend)[0]
        out.update({"touches": int(n["touches"]), "touches_unknown_lead": int(n["unknown_lead"]),
                    "touches_after_close": int(n["after_close"]), "touches_after_as_of": int(n["after_as_of"])})
    elif touches is not None and len(touches):
        lead_ids = leads["lead_id"] if leads is not None else pd.Series([], dtype=object)
        out["touches"] = int(len(touches))
        out["touches_unknown_lead"] = int((~isin_ids(touches["lead_id"], lead_ids)).sum())
        out["touches_after_close"] = int(after_close(touches, leads, opps).sum())
        out["touches_after_as_of"] = int((pd.to_datetime(touches["touched_at"]).dt.normalize() > pd.Timestamp(E._day(as_of))).sum())
    return out


def content_in_deals(pairs, opps, start, end, as_of, backend=None) -> list[dict]:
    """The assets (touch `content`) on the deals won or lost in P: per asset, won and lost deals holding it, the win
    rate of those deals (None without any), and its touches dated before and on/after the deal's created_at.
    Sorted by deals holding it (descending), then name. One grouped count per asset in the engine."""
    with E.reusing_tables():
        _, _, deals = _tables(opps, None, start, end, as_of)
        rows = _run(content_expr(_period_pairs(pairs, deals)), backend)
    out = [{"content": str(r["content"]), "won_deals": int(r["won_deals"]), "lost_deals": int(r["lost_deals"]),
            "win_rate": (r["won_deals"] / (r["won_deals"] + r["lost_deals"])) if (r["won_deals"] + r["lost_deals"]) else None,
            "touches_before_created": int(r["before"]), "touches_after_created": int(r["after"])} for r in rows]
    return sorted(out, key=lambda r: (-(r["won_deals"] + r["lost_deals"]), r["content"]))
