"""Position attribution (contract section 6): an opportunity's touches, its milestones and every position model's credits.

Pure functions over frames (the loaded workbook's touches, leads and opportunities; never changed):

- :func:`deal_touches`: each opportunity's touches (its lead's and those carrying its opportunity_id, on or
  before its closed_at — as_of while open — and not more than ``lookback_days`` before its created_at,
  calendar days), in the contract's order (touched_at, touch_id as text, file order), with the milestones
  FT, LC, OC and CW and every model's credit (one opportunity's credits add up to 1).
- :func:`position_credits`: a period's credits in money and in deals per channel and model: ``won`` over the
  deals won in P (with the row ``no_touches``, each model adds up exactly to won_revenue: largest-remainder
  rounding to the currency's smallest unit) and ``pipeline`` over the deals created in P.
- :func:`sourced_influenced`, :func:`coverage`, :func:`content_in_deals`: marketing-sourced and -influenced
  pipeline and revenue, touch coverage of won revenue, the assets used in won and lost deals.

The data-driven models (Markov, Shapley) are in helpers.metrics.attribution_paths; the metrics.json section
is put together by :func:`helpers.metrics.attribution_paths.attribution_section`.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.data.touches import deal_links
from helpers.metrics.pipeline import closed_mask, created_mask, day

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
#: The row of the deals without any touch.
NO_TOUCHES = "no_touches"
DEFAULT_LOOKBACK_DAYS = 365
DEFAULT_HALF_LIFE_DAYS = 7

_DAY = np.timedelta64(1, "D")


def _days(series) -> np.ndarray:
    return pd.to_datetime(pd.Series(series)).dt.normalize().to_numpy(dtype="datetime64[ns]")


def _ids(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), None)


def deal_frame(opps: pd.DataFrame, leads: pd.DataFrame | None, as_of) -> pd.DataFrame:
    """The opportunities that exist on as_of with what attribution needs: opportunity_id, created (day), end (closed_at
    day when won or lost by as_of, else as_of), outcome_end (won / lost / open on as_of), amount, lead_created
    (the earliest created_at day of its linked leads: the lead whose opportunity_id is it, or its lead_id; NaT without one)."""
    from helpers.metrics.funnel import linked_pairs

    cutoff = np.datetime64(day(as_of))
    created = _days(opps["created_at"])
    closed = _days(opps["closed_at"]) if "closed_at" in opps.columns else np.full(len(opps), np.datetime64("NaT"), "datetime64[ns]")
    outcome = opps["outcome"].astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)
    decided = np.isin(outcome, ("won", "lost")) & ~np.isnat(closed) & (closed <= cutoff)
    amount = pd.to_numeric(opps["amount"], errors="coerce").to_numpy(dtype=float) if "amount" in opps.columns else np.full(len(opps), np.nan)
    out = pd.DataFrame({"opportunity_id": _ids(opps["opportunity_id"]).to_numpy(), "created": created,
                        "end": np.where(decided, closed, cutoff).astype("datetime64[ns]"),
                        "outcome_end": np.where(decided, outcome, "open"), "amount": amount})
    out = out[~np.isnat(created) & (created <= cutoff)].drop_duplicates("opportunity_id")
    lead_created = pd.Series(dtype="datetime64[ns]")
    if leads is not None and len(leads):
        pairs = linked_pairs(leads, opps)
        ld = pd.DataFrame({"lead_id": _ids(leads["lead_id"]).to_numpy(), "lc": _days(leads["created_at"])})
        pairs = pairs.merge(ld.drop_duplicates("lead_id"), on="lead_id", how="inner")
        lead_created = pairs.groupby("opportunity_id")["lc"].min()
    out["lead_created"] = out["opportunity_id"].map(lead_created).astype("datetime64[ns]")
    return out.reset_index(drop=True)


def deal_touches(touches: pd.DataFrame, leads: pd.DataFrame | None, opps: pd.DataFrame, as_of,
                 lookback_days: int = DEFAULT_LOOKBACK_DAYS, half_life_days: float = DEFAULT_HALF_LIFE_DAYS) -> pd.DataFrame:
    """Every (opportunity, touch) pair that counts, ordered, with milestones and each model's credit.

    Columns: opportunity_id, touch (row position in `touches`), touched_at, day, channel, content, k (0-based
    order in the deal), n (its touches), FT/LC/OC/CW (bool: the touch holds the milestone) and one column per
    model of :data:`POSITION_MODELS` (its credit; one deal's credits add up to 1). A touch counts for a deal when
    linked (helpers.data.touches.deal_links), dated (calendar day) on or before the deal's end (closed_at, as_of
    while open; never after as_of) and not more than `lookback_days` before its created_at."""
    deals = deal_frame(opps, leads, as_of)
    links = deal_links(touches, leads, opps).merge(deals, on="opportunity_id", how="inner")
    pos = links["touch"].to_numpy()
    links["touched_at"] = pd.to_datetime(touches["touched_at"]).to_numpy()[pos]
    links["day"] = links["touched_at"].dt.normalize()
    links["channel"] = touches["channel"].astype(object).to_numpy()[pos]
    links["content"] = (touches["content"].astype(object).to_numpy()[pos] if "content" in touches.columns else None)
    links["touch_id"] = (touches["touch_id"].astype(object).where(touches["touch_id"].notna(), "").astype(str).to_numpy()[pos]
                         if "touch_id" in touches.columns else "")
    keep = (links["day"] <= links["end"]) & (links["day"] >= links["created"] - lookback_days * _DAY)
    frame = links[keep].sort_values(["opportunity_id", "touched_at", "touch_id", "touch"], kind="stable").reset_index(drop=True)
    return _with_credits(frame, half_life_days)


class _Groups:
    """Contiguous groups of a sorted key (the deals of the ordered pairs): per-row sums and maxima over its group
    (numpy reduceat: no hashing of the keys)."""

    def __init__(self, ids: np.ndarray):
        change = np.r_[True, ids[1:] != ids[:-1]] if len(ids) else np.array([], dtype=bool)
        self.starts = np.flatnonzero(change)
        self.of_row = np.cumsum(change) - 1
        self.size = np.diff(np.r_[self.starts, len(ids)])

    def spread(self, per_group: np.ndarray) -> np.ndarray:
        return per_group[self.of_row]

    def sum(self, values: np.ndarray) -> np.ndarray:
        return self.spread(np.add.reduceat(values, self.starts)) if len(values) else values

    def max(self, values: np.ndarray) -> np.ndarray:
        return self.spread(np.maximum.reduceat(values, self.starts)) if len(values) else values


def _last_on_or_before(frame: pd.DataFrame, groups: _Groups, limit: pd.Series) -> np.ndarray:
    """Per row: the deal's k of the last touch dated on or before `limit` (the deal's FT, k = 0, when none)."""
    hit = np.where((frame["day"] <= limit).to_numpy(), frame["k"].to_numpy(), -1)
    return np.maximum(groups.max(hit), 0)


def _with_credits(frame: pd.DataFrame, half_life_days: float) -> pd.DataFrame:
    """Order numbers, milestones and every model's credit of the ordered pairs of :func:`deal_touches` (sorted by deal)."""
    groups = _Groups(frame["opportunity_id"].to_numpy())
    frame["k"] = np.arange(len(frame)) - groups.spread(groups.starts) if len(frame) else np.zeros(0, dtype=np.int64)
    frame["n"] = groups.spread(groups.size) if len(frame) else np.zeros(0, dtype=np.int64)
    at = {"FT": np.zeros(len(frame), dtype=np.int64),
          "LC": _last_on_or_before(frame, groups, frame["lead_created"]),   # NaT lead_created: none on or before -> FT
          "OC": _last_on_or_before(frame, groups, frame["created"]),
          "CW": frame["n"].to_numpy() - 1}                                  # every kept touch is on or before the end
    for m in MILESTONES:
        frame[m] = frame["k"].to_numpy() == at[m]
    for model, (weights, rest) in MILESTONE_WEIGHTS.items():
        frame[model] = _milestone_credit(frame, groups, weights, rest)
    frame["linear"] = 1.0 / frame["n"].to_numpy()
    before = ((frame["end"] - frame["day"]) / _DAY).to_numpy(dtype=float)
    w = np.power(2.0, -before / float(half_life_days))
    frame["time_decay"] = w / groups.sum(w)
    return frame


def _milestone_credit(frame: pd.DataFrame, groups: _Groups, weights: dict[str, float], rest: float) -> np.ndarray:
    """One milestone model's credit per touch: the sum of the weights of the milestones it holds; "the rest" split
    equally among the touches holding none; with no such touch, the milestone weights scaled to add up to 1."""
    w = np.zeros(len(frame))
    for m, weight in weights.items():
        w = w + weight * frame[m].to_numpy()
    holds = np.zeros(len(frame), dtype=bool)
    for m in weights:
        holds |= frame[m].to_numpy()
    rest_n = groups.sum((~holds).astype(np.int64))
    w_sum = groups.sum(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rest_n > 0, np.where(holds, w, rest / np.maximum(rest_n, 1)), w / w_sum)


def allocate(values: dict[str, float], total: float, decimals: int = 0) -> dict[str, float]:
    """Round each value to the currency's smallest unit (10^-decimals) so that they add up exactly to `total` rounded
    the same way: the floors, then one unit more to the largest fractional parts (largest remainder; ties by key)."""
    unit = 10 ** decimals
    target = round(total * unit)
    scaled = {k: v * unit for k, v in values.items()}
    floors = {k: math.floor(v + 1e-9) for k, v in scaled.items()}
    left = target - sum(floors.values())
    order = sorted(scaled, key=lambda k: (-(scaled[k] - floors[k]), k))
    step = 1 if left >= 0 else -1
    for i in range(abs(int(left))):
        floors[order[i % len(order)] if step > 0 else order[::-1][i % len(order)]] += step
    return {k: floors[k] / unit for k in values}


def _credit_table(pairs: pd.DataFrame, deals: pd.DataFrame, value: str, decimals: int, exact: bool) -> dict[str, dict]:
    """{model: {channel: {value: money, "deals": fractional deals}}} over `deals` (opportunity_id, amount), with NO_TOUCHES."""
    mine = pairs[pairs["opportunity_id"].isin(deals["opportunity_id"])]
    amount = mine["opportunity_id"].map(deals.set_index("opportunity_id")["amount"]).to_numpy(dtype=float)
    touched = set(mine["opportunity_id"])
    bare = deals[~deals["opportunity_id"].isin(touched)]
    has_amount = deals["amount"].notna()
    total = math.fsum(deals.loc[has_amount, "amount"]) if has_amount.any() else None
    out = {}
    for model in POSITION_MODELS:
        credit = mine[model].to_numpy(dtype=float)
        money = pd.Series(credit * np.nan_to_num(amount)).groupby(mine["channel"].to_numpy()).sum()
        dealc = pd.Series(credit).groupby(mine["channel"].to_numpy()).sum()
        money[NO_TOUCHES] = math.fsum(bare["amount"].dropna())
        dealc[NO_TOUCHES] = float(len(bare))
        if total is not None and exact:
            money = pd.Series(allocate(money.to_dict(), total, decimals))
        rows = {}
        for ch in [c for c in sorted(dealc.index) if c != NO_TOUCHES] + [NO_TOUCHES]:
            rows[ch] = {value: None if total is None else float(round(money.get(ch, 0.0), decimals)),
                        "deals": round(float(dealc.get(ch, 0.0)), 6)}
        out[model] = rows
    return out


def position_credits(pairs: pd.DataFrame, opps: pd.DataFrame, leads: pd.DataFrame | None, start, end, as_of,
                     decimals: int = 0) -> dict[str, dict]:
    """``{model: {won: {channel: {revenue, deals}}, pipeline: {channel: {amount, deals}}}}`` for period [start, end].

    `pairs` is :func:`deal_touches`. ``won``: the deals won in P (closed_at in P, on or before as_of); each model's
    revenue over its channels plus ``no_touches`` adds up to their won revenue exactly (to the currency's smallest
    unit, :func:`allocate`). ``pipeline``: the deals created in P; amounts over those with an amount, deals over all.
    Money is None when none of the deals has an amount (credits in deals only)."""
    deals = deal_frame(opps, leads, as_of)
    won_mask = closed_mask(opps, "won", start, end, as_of)
    created = created_mask(opps, start, end, as_of)
    won = deals[deals["opportunity_id"].isin(set(opps.loc[won_mask, "opportunity_id"]))]
    made = deals[deals["opportunity_id"].isin(set(opps.loc[created, "opportunity_id"]))]
    won_t = _credit_table(pairs, won, "revenue", decimals, exact=True)
    pipe_t = _credit_table(pairs, made, "amount", decimals, exact=True)
    return {m: {"won": won_t[m], "pipeline": pipe_t[m]} for m in POSITION_MODELS}


def sourced_influenced(pairs: pd.DataFrame, opps: pd.DataFrame, leads: pd.DataFrame | None, start, end, as_of,
                       marketing_channels) -> dict:
    """Marketing-sourced (FT in a marketing channel) and -influenced (any counted touch in one) deals.

    Returns ``{sourced: {...}, influenced: {...}, by_department: {marketing, other, no_touches: {...}}}``, each
    ``{pipeline: {count, amount}, won: {count, revenue}}`` over the deals created in P and the deals won in P
    (amount None when none of them has one). ``by_department`` splits by the FT's department (marketing when its
    channel is listed, other when not)."""
    marketing = set(marketing_channels or ())
    deals = deal_frame(opps, leads, as_of)
    p = pairs.assign(mk=pairs["channel"].isin(marketing))
    per = p.groupby("opportunity_id").agg(influenced=("mk", "any"))
    per["sourced"] = p[p["FT"]].set_index("opportunity_id")["mk"].reindex(per.index).fillna(False).astype(bool)
    won = deals[deals["opportunity_id"].isin(set(opps.loc[closed_mask(opps, "won", start, end, as_of), "opportunity_id"]))]
    made = deals[deals["opportunity_id"].isin(set(opps.loc[created_mask(opps, start, end, as_of), "opportunity_id"]))]

    def sums(frame: pd.DataFrame, mask: np.ndarray, key: str) -> dict:
        amounts = frame.loc[mask, "amount"]
        known = frame["amount"].notna().any()
        return {"count": int(mask.sum()), key: (float(math.fsum(amounts.dropna())) if known else None)}

    def figures(which) -> dict:
        return {"pipeline": sums(made, which(made), "amount"), "won": sums(won, which(won), "revenue")}

    def flag(name):
        return lambda f: f["opportunity_id"].map(per[name]).fillna(False).astype(bool).to_numpy()

    touched = lambda f: f["opportunity_id"].isin(per.index).to_numpy()  # noqa: E731
    return {"sourced": figures(flag("sourced")), "influenced": figures(flag("influenced")),
            "by_department": {"marketing": figures(flag("sourced")),
                              "other": figures(lambda f: touched(f) & ~flag("sourced")(f)),
                              NO_TOUCHES: figures(lambda f: ~touched(f))},
            "marketing_channels": sorted(marketing)}


def coverage(pairs: pd.DataFrame, touches: pd.DataFrame | None, opps: pd.DataFrame, leads: pd.DataFrame | None,
             start, end, as_of) -> dict:
    """Touch coverage (data health): won deals and revenue of P with and without any counted touch, the share of won
    revenue with touches (None without won revenue), and counts of touches left out: lead unknown, after the deal
    closed, before the lookback, after as_of."""
    from helpers.data.touches import after_close

    deals = deal_frame(opps, leads, as_of)
    won = deals[deals["opportunity_id"].isin(set(opps.loc[closed_mask(opps, "won", start, end, as_of), "opportunity_id"]))]
    has = won["opportunity_id"].isin(set(pairs["opportunity_id"])).to_numpy()
    known = won["amount"].notna().any()
    with_rev = float(math.fsum(won.loc[has, "amount"].dropna())) if known else None
    without_rev = float(math.fsum(won.loc[~has, "amount"].dropna())) if known else None
    total = None if with_rev is None else with_rev + without_rev
    out = {"won_deals_with_touches": int(has.sum()), "won_deals_without_touches": int((~has).sum()),
           "won_revenue_with_touches": with_rev, "won_revenue_without_touches": without_rev,
           "won_revenue_share_with_touches": (with_rev / total) if total else None,
           "touches": 0, "touches_unknown_lead": 0, "touches_after_close": 0, "touches_after_as_of": 0}
    if touches is not None and len(touches):
        lead_ids = set(leads["lead_id"].astype(object)) if leads is not None else set()
        out["touches"] = int(len(touches))
        out["touches_unknown_lead"] = int((~touches["lead_id"].astype(object).isin(lead_ids)).sum())
        out["touches_after_close"] = int(after_close(touches, leads, opps).sum())
        out["touches_after_as_of"] = int((pd.to_datetime(touches["touched_at"]).dt.normalize() > day(as_of)).sum())
    return out


def content_in_deals(pairs: pd.DataFrame, opps: pd.DataFrame, start, end, as_of) -> list[dict]:
    """The assets (touch `content`) on the deals won or lost in P: per asset, won and lost deals holding it, the win
    rate of those deals (None without any), and its touches dated before and on/after the deal's created_at.
    Sorted by deals holding it (descending), then name."""
    if "content" not in pairs.columns:
        return []
    won = set(opps.loc[closed_mask(opps, "won", start, end, as_of), "opportunity_id"])
    lost = set(opps.loc[closed_mask(opps, "lost", start, end, as_of), "opportunity_id"])
    p = pairs[pairs["content"].notna() & pairs["opportunity_id"].isin(won | lost)]
    rows = []
    for asset, g in p.groupby("content", sort=True):
        w = g.loc[g["opportunity_id"].isin(won), "opportunity_id"].nunique()
        lo = g.loc[g["opportunity_id"].isin(lost), "opportunity_id"].nunique()
        before = int((g["day"] < g["created"]).sum())
        rows.append({"content": str(asset), "won_deals": int(w), "lost_deals": int(lo),
                     "win_rate": (w / (w + lo)) if (w + lo) else None,
                     "touches_before_created": before, "touches_after_created": int(len(g) - before)})
    return sorted(rows, key=lambda r: (-(r["won_deals"] + r["lost_deals"]), r["content"]))
