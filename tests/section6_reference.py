"""An independent computation of contract section 6 (touches and attribution), for tests only.

Written straight from the contract's text (the data and metrics contract, section 6: touches and attribution) and the decisions the glossary
records where the contract is silent (docs/glossary.md, "Attribution"), in plain Python over the canonical CSV
files, which it reads itself (raw text, its own date parsing and time-zone conversion). It imports nothing from
``helpers``: tests/test_section6_reference.py compares its figures with the workbook's metrics.json section
``attribution`` on generated data sets and on data/sample.

Scope: the canonical tables as written (no column mapping, no multi-valued cells, channels spelled one way).
Money is kept exact where the definition allows (fractions.Fraction for every position model but time_decay),
so the reference's rounding to the yen is not at the mercy of float sums.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from fractions import Fraction
from itertools import combinations
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

MODELS = ("first_touch", "lead_creation", "last_touch", "linear", "u_shaped", "w_shaped", "full_path", "time_decay")
#: (milestone weights, weight of "the rest"), contract section 6.
WEIGHTS = {
    "first_touch": ({"FT": Fraction(1)}, Fraction(0)),
    "lead_creation": ({"LC": Fraction(1)}, Fraction(0)),
    "last_touch": ({"OC": Fraction(1)}, Fraction(0)),
    "u_shaped": ({"FT": Fraction(4, 10), "LC": Fraction(4, 10)}, Fraction(2, 10)),
    "w_shaped": ({"FT": Fraction(3, 10), "LC": Fraction(3, 10), "OC": Fraction(3, 10)}, Fraction(1, 10)),
    "full_path": ({m: Fraction(225, 1000) for m in ("FT", "LC", "OC", "CW")}, Fraction(1, 10)),
}
NO_TOUCHES = "no_touches"
MIN_CONVERTED = 30
MAX_CHANNELS = 12


# --------------------------------------------------------------------------- reading
def _read(folder: Path, name: str) -> list[dict]:
    path = folder / f"{name}.csv"
    if not path.exists():
        return []
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return [{k: (v.strip() or None) for k, v in row.items()} for row in frame.to_dict("records")]


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text[:10])


def _stamp(text: str, tz: ZoneInfo) -> dt.datetime:
    """An ISO date or datetime as a naive local time of the workbook's zone (an offset or Z converted to it)."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(tz).replace(tzinfo=None)
    return value


class Data:
    """The three tables of a data folder, typed by hand."""

    def __init__(self, folder: Path, timezone: str):
        tz = ZoneInfo(timezone)
        self.bulk = False   # the leads' created_at is one bulk-load day (set by section())
        self.as_of = dt.date.max   # the snapshot date (set by section())
        self.leads = {r["lead_id"]: {"created": _date(r["created_at"]), "opp": r.get("opportunity_id")}
                      for r in _read(folder, "leads")}
        self.opps = {}
        for r in _read(folder, "opportunities"):
            amount = r.get("amount")
            self.opps[r["opportunity_id"]] = {"created": _date(r["created_at"]), "closed": _date(r.get("closed_at")),
                                              "outcome": r["outcome"].lower(), "lead": r.get("lead_id"),
                                              "amount": None if amount is None else Fraction(amount)}
        self.touches = []
        for pos, r in enumerate(_read(folder, "touches")):
            ts = _stamp(r["touched_at"], tz)
            self.touches.append({"pos": pos, "id": r.get("touch_id"), "lead": r["lead_id"], "ts": ts, "day": ts.date(),
                                 "channel": r["channel"], "content": r.get("content"), "opp": r.get("opportunity_id")})
        # the links, either way (the lead whose opportunity_id is the deal, or the deal's lead_id), and the touches by key
        self.leads_of = defaultdict(set)
        self.opps_of = defaultdict(set)
        for lid, ld in self.leads.items():
            if ld["opp"] is not None and ld["opp"] in self.opps:
                self.leads_of[ld["opp"]].add(lid)
                self.opps_of[lid].add(ld["opp"])
        for oid, o in self.opps.items():
            if o["lead"] is not None:
                self.leads_of[oid].add(o["lead"])
                self.opps_of[o["lead"]].add(oid)
        self.by_lead, self.by_opp = defaultdict(list), defaultdict(list)
        for t in self.touches:
            self.by_lead[t["lead"]].append(t)
            if t["opp"] is not None:
                self.by_opp[t["opp"]].append(t)

    def touches_of(self, leads, opps) -> list[dict]:
        """The touches of these leads and those carrying one of these opportunity ids, each once, in file order."""
        found = {t["pos"]: t for lid in leads for t in self.by_lead.get(lid, ())}
        found |= {t["pos"]: t for oid in opps for t in self.by_opp.get(oid, ())}
        return [found[k] for k in sorted(found)]


# --------------------------------------------------------------------------- an opportunity's touches
def linked_leads(data: Data, oid: str) -> set[str]:
    """The lead whose opportunity_id is it, or its lead_id; not a lead created after as_of (it does not exist yet)."""
    late = {lid for lid in data.leads_of.get(oid, set())
            if lid in data.leads and data.leads[lid]["created"] is not None and data.leads[lid]["created"] > data.as_of}
    return data.leads_of.get(oid, set()) - late


def deal_end(opp: dict, as_of: dt.date) -> dt.date:
    """closed_at for a deal won or lost by as_of; as_of while open (nothing dated after as_of counts)."""
    if opp["outcome"] in ("won", "lost") and opp["closed"] is not None and opp["closed"] <= as_of:
        return opp["closed"]
    return as_of


def order_key(t: dict):
    return (t["ts"], t["id"] or "", t["pos"])


def deal_touches(data: Data, oid: str, as_of: dt.date, lookback: int) -> list[dict]:
    opp = data.opps[oid]
    leads = linked_leads(data, oid)
    end, first_day = deal_end(opp, as_of), opp["created"] - dt.timedelta(days=lookback)
    chosen = [t for t in data.touches_of(leads, {oid}) if first_day <= t["day"] <= end]
    return sorted(chosen, key=order_key)


def milestones(data: Data, oid: str, touches: list[dict]) -> dict[str, int]:
    """Index of FT, LC, OC, CW among the deal's ordered touches (LC = FT when the leads' created_at is a bulk stamp)."""
    opp = data.opps[oid]
    known = [data.leads[lid]["created"] for lid in linked_leads(data, oid) if lid in data.leads and not data.bulk]
    lead_created = min(known) if known else None

    def last_on_or_before(day):
        hits = [i for i, t in enumerate(touches) if day is not None and t["day"] <= day]
        return hits[-1] if hits else 0

    return {"FT": 0, "LC": last_on_or_before(lead_created), "OC": last_on_or_before(opp["created"]),
            "CW": len(touches) - 1}


def credits(data: Data, oid: str, touches: list[dict], as_of: dt.date, half_life: float) -> dict[str, list]:
    """Each model's credit per touch (exact Fractions but time_decay); a deal's add up to 1."""
    n = len(touches)
    ms = milestones(data, oid, touches)
    out = {}
    for model, (weights, rest) in WEIGHTS.items():
        held = [[m for m in weights if ms[m] == i] for i in range(n)]
        rest_n = sum(1 for h in held if not h)
        w = [sum((weights[m] for m in h), Fraction(0)) if h else (rest / rest_n) for h in held]
        if rest_n == 0:
            total = sum(w)
            w = [x / total for x in w]
        out[model] = w
    out["linear"] = [Fraction(1, n)] * n
    end = deal_end(data.opps[oid], as_of)
    decay = [2.0 ** (-(end - t["day"]).days / half_life) for t in touches]
    out["time_decay"] = [x / math.fsum(decay) for x in decay]
    return out


# --------------------------------------------------------------------------- money
def allocate(values: dict[str, float], total, decimals: int) -> dict[str, float]:
    """Largest remainder to the smallest unit, ties by name, adding up to `total` exactly."""
    unit = 10 ** decimals
    exact = {k: Fraction(v) * unit for k, v in values.items()}
    floors = {k: math.floor(v) for k, v in exact.items()}
    left = round(Fraction(total) * unit) - sum(floors.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - floors[k]), k))
    assert 0 <= left <= len(order), (left, values)
    for k in order[:left]:
        floors[k] += 1
    return {k: floors[k] / unit for k in values}


def _period(start, end, as_of):
    return start, min(end, as_of)


def section(folder: Path, start, end, as_of, *, timezone: str = "Asia/Tokyo", lookback: int = 365,
            half_life: float = 7, marketing=(), horizon: int | None = None, decimals: int = 0) -> dict:
    """Section 6's figures for the period [start, end] (dates), as the workbook's metrics.json lays them out."""
    data = Data(Path(folder), timezone)
    data.as_of = as_of
    created = {ld["created"] for ld in data.leads.values() if ld["created"] is not None and ld["created"] <= as_of}
    existing = sum(1 for ld in data.leads.values() if ld["created"] is not None and ld["created"] <= as_of)
    data.bulk = bulk = existing >= 2 and len(created) == 1   # section 5: a bulk-load stamp, not the leads' ages
    first, last = _period(start, end, as_of)
    deals = {oid: o for oid, o in data.opps.items() if o["created"] is not None and o["created"] <= as_of}
    won = {oid for oid, o in deals.items() if o["outcome"] == "won" and o["closed"] is not None and first <= o["closed"] <= last}
    lost = {oid for oid, o in deals.items() if o["outcome"] == "lost" and o["closed"] is not None and first <= o["closed"] <= last}
    created = {oid for oid, o in deals.items() if first <= o["created"] <= last}
    touches = {oid: deal_touches(data, oid, as_of, lookback) for oid in deals}
    weights = {oid: credits(data, oid, ts, as_of, half_life) for oid, ts in touches.items() if ts}
    out = {"lookback_days": lookback, "half_life_days": float(half_life), "models": {}}
    amounts = any(o["amount"] is not None for o in data.opps.values())
    for kind, scope, value in (("won", won, "revenue"), ("pipeline", created, "amount")):
        total = money_of(deals, scope, scope, amounts)
        channels = sorted({t["channel"] for o in scope for t in touches[o]})
        bare = [o for o in scope if not touches[o]]
        for model in MODELS:
            money, count = {c: 0 for c in channels}, {c: 0 for c in channels}
            for o in scope:
                amount = deals[o]["amount"] or 0
                for t, w in zip(touches[o], weights.get(o, [])[model] if touches[o] else []):
                    money[t["channel"]] += (w if model != "time_decay" else Fraction(w)) * amount
                    count[t["channel"]] += w
            money[NO_TOUCHES] = sum((deals[o]["amount"] or 0 for o in bare), Fraction(0))
            count[NO_TOUCHES] = len(bare)
            rounded = allocate(money, total, decimals) if total is not None else {c: None for c in money}
            out["models"].setdefault(model, {})[kind] = {c: {value: rounded[c], "deals": float(count[c])} for c in money}
    out.update(sourced_influenced(deals, touches, won, created, marketing, amounts))
    out["coverage"] = coverage(data, deals, touches, won, as_of)
    out["content"] = content(deals, touches, won, lost)
    h = horizon if horizon is not None else horizon_days(data, as_of)
    out["horizon_days"] = None if bulk else h
    out["data_driven"] = data_driven(data, as_of, lookback, h, bulk)
    return out


def money_of(deals, scope: set, ids: set, amounts: bool):
    """The known amounts of the deals `ids` (of `scope`) summed; None (unknown, never 0) when the data holds no amount
    at all or the scope has deals and none of them has an amount; 0 over no deal (like won_revenue, section 3)."""
    if not amounts or (scope and all(deals[o]["amount"] is None for o in scope)):
        return None
    return sum((deals[o]["amount"] for o in ids if deals[o]["amount"] is not None), Fraction(0))


def _float(x):
    return None if x is None else float(x)


def sourced_influenced(deals, touches, won, created, marketing, amounts: bool) -> dict:
    mk = set(marketing)
    sourced = {o for o, ts in touches.items() if ts and ts[0]["channel"] in mk}
    influenced = {o for o, ts in touches.items() if any(t["channel"] in mk for t in ts)}
    touched = {o for o, ts in touches.items() if ts}

    def figures(group):
        def money(scope):
            return _float(money_of(deals, scope, scope & group, amounts))
        return {"pipeline": {"count": len(created & group), "amount": money(created)},
                "won": {"count": len(won & group), "revenue": money(won)}}

    return {"sourced": figures(sourced), "influenced": figures(influenced),
            "by_department": {"marketing": figures(sourced), "other": figures(touched - sourced),
                              NO_TOUCHES: figures(set(deals) - touched)}}


def coverage(data, deals, touches, won, as_of) -> dict:
    with_t = {o for o in won if touches[o]}
    amounts = any(o["amount"] is not None for o in data.opps.values())
    w_rev = _float(money_of(deals, won, with_t, amounts))
    wo_rev = _float(money_of(deals, won, won - with_t, amounts))
    total = None if w_rev is None else w_rev + wo_rev
    after = 0
    for t in data.touches:   # dated after the close of a won or lost deal it is linked to (through its lead or carried)
        linked = data.opps_of.get(t["lead"], set()) | ({t["opp"]} if t["opp"] in data.opps else set())
        if any(data.opps[o]["outcome"] in ("won", "lost") and data.opps[o]["closed"] is not None
               and t["day"] > data.opps[o]["closed"] for o in linked):
            after += 1
    return {"won_deals_with_touches": len(with_t), "won_deals_without_touches": len(won - with_t),
            "won_revenue_with_touches": w_rev, "won_revenue_without_touches": wo_rev,
            "won_revenue_share_with_touches": (w_rev / total) if total else None,
            "touches": len(data.touches), "touches_unknown_lead": sum(t["lead"] not in data.leads for t in data.touches),
            "touches_after_close": after, "touches_after_as_of": sum(t["day"] > as_of for t in data.touches)}


def content(deals, touches, won, lost) -> list[dict]:
    rows = defaultdict(lambda: {"won": set(), "lost": set(), "before": 0, "after": 0})
    for o in won | lost:
        for t in touches[o]:
            if t["content"] is None:
                continue
            r = rows[t["content"]]
            r["won" if o in won else "lost"].add(o)
            r["before" if t["day"] < deals[o]["created"] else "after"] += 1
    out = [{"content": c, "won_deals": len(r["won"]), "lost_deals": len(r["lost"]),
            "win_rate": len(r["won"]) / (len(r["won"]) + len(r["lost"])),
            "touches_before_created": r["before"], "touches_after_created": r["after"]} for c, r in rows.items()]
    return sorted(out, key=lambda r: (-(r["won_deals"] + r["lost_deals"]), r["content"]))


# --------------------------------------------------------------------------- paths
def horizon_days(data: Data, as_of) -> int:
    """Section 5's default H: the 90th percentile (linear) of days from a lead's created_at to its (first)
    opportunity's, over all history (deals existing on as_of; a deal before its lead counts 0), rounded up, >= 30."""
    days = []
    for lid, ld in data.leads.items():
        opps = [o for o in data.opps_of.get(lid, ()) if data.opps[o]["created"] is not None
                and data.opps[o]["created"] <= as_of]
        if opps and ld["created"] is not None:
            days.append(max(0, (min(data.opps[o]["created"] for o in opps) - ld["created"]).days))
    if not days:
        return 30
    return max(30, math.ceil(float(np.percentile(days, 90))))


def paths(data: Data, as_of, lookback: int, horizon: int, bulk: bool = False) -> list[dict]:
    """One path per lead with touches: created in [as_of - lookback, as_of - H] (bulk: every lead created by as_of);
    its touches and those carried on its deals, cut at its (first) won deal's closed_at or at as_of; converted = a
    deal of it won by as_of."""
    out = []
    first, last = (dt.date.min, as_of) if bulk else (as_of - dt.timedelta(days=lookback), as_of - dt.timedelta(days=horizon))
    for lid, ld in sorted(data.leads.items()):
        if ld["created"] is None or not first <= ld["created"] <= last:
            continue
        opps = data.opps_of.get(lid, set())
        won = [o for o in opps if data.opps[o]["outcome"] == "won" and data.opps[o]["closed"] is not None
               and data.opps[o]["closed"] <= as_of]
        cut = min(data.opps[o]["closed"] for o in won) if won else as_of
        steps = sorted((t for t in data.touches_of({lid}, opps) if t["day"] <= cut), key=order_key)
        if steps:
            out.append({"lead": lid, "path": [t["channel"] for t in steps], "converted": bool(won), "won": set(won)})
    return out


def fold(ps: list[dict]) -> tuple[list[dict], list[str]]:
    on = defaultdict(int)
    for p in ps:
        for c in set(p["path"]):
            on[c] += 1
    if len(on) <= MAX_CHANNELS:
        return ps, []
    keep = set(sorted(on, key=lambda c: (-on[c], c))[:MAX_CHANNELS - 1])
    return [dict(p, path=[c if c in keep else "other" for c in p["path"]]) for p in ps], sorted(set(on) - keep)


def markov(ps: list[dict]) -> dict[str, float]:
    """Removal effects of the first-order chain, by solving the absorption equations (Gaussian elimination)."""
    counts = defaultdict(lambda: defaultdict(int))
    for p in ps:
        states = ["(start)", *p["path"], "(conversion)" if p["converted"] else "(null)"]
        for a, b in zip(states, states[1:]):
            counts[a][b] += 1
    channels = sorted({c for p in ps for c in p["path"]})

    def p_conv(removed=None):
        states = ["(start)", *[c for c in channels if c != removed]]
        idx = {s: i for i, s in enumerate(states)}
        a = np.eye(len(states))
        b = np.zeros(len(states))
        for s in states:
            total = sum(counts[s].values())
            for to, n in counts[s].items():
                if to == "(conversion)":
                    b[idx[s]] += n / total
                elif to in idx:
                    a[idx[s], idx[to]] -= n / total
        return float(np.linalg.solve(a, b)[0])

    base = p_conv()
    effects = {c: 1 - p_conv(c) / base for c in channels}
    total = sum(effects.values())
    return {c: e / total for c, e in effects.items()}


def shapley(ps: list[dict]) -> dict[str, float]:
    """Shapley values over every ordering-weighted subset, from the definition; share = value / v(all)."""
    channels = sorted({c for p in ps for c in p["path"]})
    sets = [(frozenset(p["path"]), p["converted"]) for p in ps]

    memo = {}

    def v(s):
        if s not in memo:
            inside = [conv for cs, conv in sets if cs <= s]
            memo[s] = sum(inside) / len(inside) if s and inside else 0.0
        return memo[s]

    m = len(channels)
    values = {}
    for c in channels:
        others = [x for x in channels if x != c]
        total = 0.0
        for k in range(m):
            for sub in combinations(others, k):
                s = frozenset(sub)
                total += math.factorial(k) * math.factorial(m - k - 1) / math.factorial(m) * (v(s | {c}) - v(s))
        values[c] = total
    full = v(frozenset(channels))
    return {c: x / full for c, x in values.items()}


def data_driven(data: Data, as_of, lookback: int, horizon: int, bulk: bool = False) -> dict:
    ps = paths(data, as_of, lookback, horizon, bulk)
    converted = [p for p in ps if p["converted"]]
    deals = set().union(*(p["won"] for p in converted)) if converted else set()
    known = [data.opps[o]["amount"] for o in deals if data.opps[o]["amount"] is not None]
    revenue = float(sum(known)) if known else None
    out = {"paths": len(ps), "converted_paths": len(converted), "revenue": revenue, "folded": [],
           "window_start": None if bulk else as_of - dt.timedelta(days=lookback),
           "window_end": as_of if bulk else as_of - dt.timedelta(days=horizon), "bulk_created_at": bulk}
    if len(converted) < MIN_CONVERTED:
        out.update(markov={}, shapley={})
        return out
    ps, out["folded"] = fold(ps)
    out["markov"], out["shapley"] = markov(ps), shapley(ps)
    return out
