"""Conditions of leads that become deals, and the leakage guard (contract section 5).

Pure functions over the observed leads: ``values`` (a lead attribute's values, numbers or text, empty = null)
and ``converted`` (booleans), aligned.

- :func:`binned`: an attribute as the values the table counts: text as it is, numbers in quintile ranges
  (``10–24``), an empty cell as the value ``(empty)``.
- :func:`folded`: values held by fewer than ``min_leads`` leads folded into ``other``.
- :func:`conditions`: per value of each attribute: n, converted, rate, the odds ratio against all other observed
  leads with its 95% Woolf interval, Fisher's p, and the Benjamini–Hochberg q over every value tested.
- :func:`guard`: the suspect attributes (known only after contact) with their reasons.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.metrics.lead_stats import bh_q, odds_ratio

#: The value an empty cell counts as, and the value small groups fold into.
EMPTY = "(empty)"
OTHER = "other"
#: Quantile bins of a numeric attribute.
QUINTILES = 5
#: Guard thresholds: one-attribute AUC, and the share empty among unconverted / filled among converted.
GUARD_AUC = 0.90
GUARD_EMPTY_UNCONVERTED = 0.95
GUARD_FILLED_CONVERTED = 0.50


def _number(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}".rstrip("0").rstrip(".")


def quintile_edges(values: pd.Series) -> list[float]:
    """The distinct quintile edges of the filled values (min, 20%, ..., max)."""
    filled = values.dropna().astype(float)
    if not len(filled):
        return []
    return sorted(set(np.quantile(filled, np.linspace(0, 1, QUINTILES + 1)).tolist()))


def binned(values: pd.Series, numeric: bool) -> pd.Series:
    """Each lead's value as the conditions table counts it (text labels; quintile ranges for numbers;
    ``(empty)`` for an empty cell)."""
    if not numeric:
        return values.astype(object).where(values.notna(), EMPTY).astype(str)
    edges = quintile_edges(values)
    out = pd.Series(EMPTY, index=values.index, dtype=object)
    if not edges:
        return out
    if len(edges) == 1:
        out[values.notna()] = _number(edges[0])
        return out
    cut = pd.cut(values.astype(float), bins=edges, include_lowest=True, duplicates="drop")
    labels = {iv: (_number(iv.left if i else edges[0]) + "–" + _number(iv.right))
              for i, iv in enumerate(cut.cat.categories)}
    out[values.notna()] = cut[values.notna()].map(labels).astype(object)
    return out


def folded(labels: pd.Series, min_leads: int) -> pd.Series:
    """Labels held by fewer than `min_leads` leads replaced by ``other``."""
    counts = labels.value_counts()
    small = set(counts[counts < min_leads].index)
    return labels.where(~labels.isin(small), OTHER) if small else labels


def value_order(labels: pd.Series, numeric: bool) -> list[str]:
    """The values in reading order: numeric ranges from low to high, text by count; empty and other last."""
    seen = [v for v in labels.unique() if v not in (EMPTY, OTHER)]
    if numeric:
        seen.sort(key=lambda v: float(str(v).split("–")[0].replace(",", "")))
    else:
        counts = labels.value_counts()
        seen.sort(key=lambda v: (-counts[v], str(v)))
    return seen + [v for v in (OTHER, EMPTY) if v in set(labels)]


def value_counts(labels: pd.Series, converted: pd.Series) -> pd.DataFrame:
    """Per value: n and converted (one grouped count)."""
    g = pd.DataFrame({"v": labels.to_numpy(), "c": converted.to_numpy().astype(int)}).groupby("v", sort=False)["c"]
    return pd.DataFrame({"n": g.size(), "converted": g.sum()})


def conditions(attrs: dict[str, tuple[pd.Series, bool]], converted: pd.Series, min_leads: int) -> list[dict]:
    """The conditions table: one row per value of each attribute (``{name: (values, numeric)}``), values under
    `min_leads` folded into ``other`` (tested when ``other`` itself reaches `min_leads`), each row
    ``{attribute, value, n, converted, rate, odds_ratio, low, high, p, q}``; sorted by odds ratio, largest
    first. The reference of each odds ratio is every other observed lead; q is Benjamini–Hochberg over all
    rows. [] without attributes or without both converted and unconverted leads."""
    total, conv = len(converted), int(converted.sum())
    if not attrs or conv == 0 or conv == total:
        return []
    rows = []
    for name, (values, numeric) in attrs.items():
        labels = folded(binned(values, numeric), min_leads)
        counts = value_counts(labels, converted)
        for value in value_order(labels, numeric):
            n, a = int(counts.loc[value, "n"]), int(counts.loc[value, "converted"])
            if n < min_leads or n == total:
                continue
            test = odds_ratio(a, n - a, conv - a, total - n - (conv - a))
            rows.append({"attribute": name, "value": str(value), "n": n, "converted": a, "rate": a / n, **test})
    for row, q in zip(rows, bh_q([r["p"] for r in rows])):
        row["q"] = q
    keys = ("attribute", "value", "n", "converted", "rate", "odds_ratio", "low", "high", "p", "q")
    return [{k: r[k] for k in keys} for r in sorted(rows, key=lambda r: -r["odds_ratio"])]


def one_attribute_auc(values: pd.Series, numeric: bool, converted: pd.Series) -> float | None:
    """The AUC of the one-attribute score: each lead scored by the conversion rate of its value (numbers by
    quintile, empty as a value of its own)."""
    counts = value_counts(binned(values, numeric), converted)
    return grouped_auc(counts["converted"].to_numpy(), (counts["n"] - counts["converted"]).to_numpy())


def grouped_auc(pos: np.ndarray, neg: np.ndarray) -> float | None:
    """The AUC of a score that is each group's own conversion rate, from the groups' counts of converted (`pos`)
    and unconverted (`neg`) leads: P(a converted lead's group rate > an unconverted lead's), ties ½ — the
    Mann–Whitney AUC of :func:`helpers.metrics.lead_stats.auc` without ranking every lead."""
    n1, n0 = pos.sum(), neg.sum()
    if n1 == 0 or n0 == 0:
        return None
    rate = pos / (pos + neg)
    order = np.argsort(rate, kind="stable")
    rate, pos, neg = rate[order], pos[order], neg[order]
    total = 0.0
    below = 0.0
    i = 0
    while i < len(rate):          # groups with the same rate are one tie block
        j = i
        while j + 1 < len(rate) and rate[j + 1] == rate[i]:
            j += 1
        p, q = pos[i:j + 1].sum(), neg[i:j + 1].sum()
        total += p * (below + 0.5 * q)
        below += q
        i = j + 1
    return float(total / (n1 * n0))


def guard(attrs: dict[str, tuple[pd.Series, bool]], known: dict[str, str], converted: pd.Series) -> list[dict]:
    """The suspect attributes, ``[{attribute, reason, auc, empty_unconverted, filled_converted}]``, in the order
    given. Reasons: ``marked_after_contact`` (the settings say so), ``separates_alone`` (alone it separates
    converted from unconverted leads with AUC ≥ 0.90), ``filled_after`` (empty for ≥ 95% of the unconverted
    leads and filled for ≥ 50% of the converted: filled in mostly after the lead became a deal)."""
    out = []
    conv = converted.astype(bool).to_numpy()
    for name, (values, numeric) in attrs.items():
        filled = values.notna().to_numpy()
        share_empty = float((~filled[~conv]).mean()) if (~conv).any() else None
        share_filled = float(filled[conv].mean()) if conv.any() else None
        a = one_attribute_auc(values, numeric, converted)
        reason = None
        if known.get(name) == "after_contact":
            reason = "marked_after_contact"
        elif share_empty is not None and share_filled is not None and share_empty >= GUARD_EMPTY_UNCONVERTED \
                and share_filled >= GUARD_FILLED_CONVERTED:
            reason = "filled_after"
        elif a is not None and a >= GUARD_AUC:
            reason = "separates_alone"
        if reason:
            out.append({"attribute": name, "reason": reason, "auc": a, "empty_unconverted": share_empty,
                        "filled_converted": share_filled})
    return out
