"""Conditions of leads that become deals, and the leakage guard (contract section 5).

Pure functions over the observed leads: ``values`` (a lead attribute's values, numbers or text, empty = null)
and ``converted`` (booleans), aligned.

- :func:`bin_codes` / :func:`binned`: an attribute as the values the table counts: text as it is, numbers in
  quintile ranges (``10–24``), an empty cell as the value ``(empty)`` (codes per lead, labels once).
- Value counts: leads and converted leads per value of every attribute (helpers.metrics.lead_engine.attribute_counts,
  one grouped aggregate in the engine): the conditions table and the guard are computed from these counts, never
  from a text per lead (tests/lead_reference.py counts them lead by lead, as the tests' expectation).
- :func:`folded_counts`: values held by fewer than ``min_leads`` leads added up as ``other``.
- :func:`counted_conditions`: per value of each attribute: n, converted, rate, the odds ratio against all other
  observed leads with its 95% Woolf interval, Fisher's p, and the Benjamini–Hochberg q over every value tested.
- :func:`counted_guard`: the suspect attributes (known only after contact) with their reasons.
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


def bin_codes(values: pd.Series, numeric: bool) -> tuple[np.ndarray, list[str]]:
    """(codes, labels): each lead's value as the conditions table counts it, as an index into `labels` (text as it
    is; numbers in quintile ranges ``10–24``, each range (low, high], the first [min, high]; ``(empty)`` for an
    empty cell, the last label). Codes, not a text per lead: a million leads hold a few dozen labels."""
    if not numeric:
        cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype(object).astype("category")
        labels = [str(c) for c in cat.cat.categories] + [EMPTY]
        codes = cat.cat.codes.to_numpy().astype(np.int32)
        return np.where(codes < 0, len(labels) - 1, codes).astype(np.int32), labels
    x = values.to_numpy(dtype=float, na_value=np.nan)
    filled = ~np.isnan(x)
    edges = quintile_edges(values)
    if len(edges) < 2:
        labels = [_number(edges[0])] if edges else []
        return np.where(filled, 0, len(labels)).astype(np.int32), labels + [EMPTY]
    labels = [_number(edges[i]) + "–" + _number(edges[i + 1]) for i in range(len(edges) - 1)] + [EMPTY]
    inside = np.searchsorted(np.asarray(edges), x[filled], side="left") - 1   # edges[i] < x <= edges[i + 1]
    codes = np.full(len(x), len(labels) - 1, dtype=np.int32)
    codes[filled] = np.clip(inside, 0, len(edges) - 2)                            # the minimum is in the first range
    return codes, labels


def binned(values: pd.Series, numeric: bool) -> pd.Series:
    """Each lead's value as the conditions table counts it (the labels of :func:`bin_codes`, one per lead)."""
    codes, labels = bin_codes(values, numeric)
    return pd.Series(np.asarray(labels, dtype=object)[codes], index=values.index, dtype=object)


def folded_counts(counts: pd.DataFrame, min_leads: int) -> pd.DataFrame:
    """The counts with labels held by fewer than `min_leads` leads added up as ``other`` (placed where the first of
    them was)."""
    small = counts["n"] < min_leads
    if not small.any():
        return counts
    labels = pd.Series(counts.index, index=counts.index).where(~small, OTHER)
    return counts.groupby(labels.to_numpy(), sort=False)[["n", "converted"]].sum()


def value_order(counts: pd.DataFrame, numeric: bool) -> list[str]:
    """The values of `counts` (index: labels) in reading order: numeric ranges from low to high, text by count
    (ties by name); empty and other last."""
    seen = [v for v in counts.index if v not in (EMPTY, OTHER)]
    if numeric:
        seen.sort(key=lambda v: float(str(v).split("–")[0].replace(",", "")))
    else:
        seen.sort(key=lambda v: (-counts.loc[v, "n"], str(v)))
    return seen + [v for v in (OTHER, EMPTY) if v in counts.index]


def counted_conditions(counts: dict[str, pd.DataFrame], numeric: dict[str, bool], total: int, conv: int,
                       min_leads: int) -> list[dict]:
    """The conditions table from the attributes' value counts (helpers.metrics.lead_engine.attribute_counts: per
    attribute, ``n`` and ``converted`` per label of :func:`bin_codes`): one row per value of each attribute, values
    under `min_leads` folded into ``other`` (tested when ``other`` itself reaches `min_leads`), each row
    ``{attribute, value, n, converted, rate, odds_ratio, low, high, p, q}``; sorted by odds ratio, largest first.
    The reference of each odds ratio is every other observed lead; q is Benjamini–Hochberg over all rows.
    `numeric` {attribute: numeric} in the table's order, `total` observed leads and `conv` converted ones; [] without
    attributes or without both converted and unconverted leads."""
    if not numeric or conv == 0 or conv == total:
        return []
    rows = []
    for name, is_number in numeric.items():
        table = folded_counts(counts[name], min_leads)
        for value in value_order(table, is_number):
            n, a = int(table.loc[value, "n"]), int(table.loc[value, "converted"])
            if n < min_leads or n == total:
                continue
            test = odds_ratio(a, n - a, conv - a, total - n - (conv - a))
            rows.append({"attribute": name, "value": str(value), "n": n, "converted": a, "rate": a / n, **test})
    for row, q in zip(rows, bh_q([r["p"] for r in rows])):
        row["q"] = q
    keys = ("attribute", "value", "n", "converted", "rate", "odds_ratio", "low", "high", "p", "q")
    return [{k: r[k] for k in keys} for r in sorted(rows, key=lambda r: -r["odds_ratio"])]


def one_attribute_auc(counts: pd.DataFrame) -> float | None:
    """The AUC of the one-attribute score: each lead scored by the conversion rate of its value (numbers by
    quintile, empty as a value of its own); from the attribute's value counts (``n`` and ``converted`` per value)."""
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


def counted_guard(counts: dict[str, pd.DataFrame], names: list[str], known: dict[str, str], total: int,
                  conv: int) -> list[dict]:
    """The suspect attributes, ``[{attribute, reason, auc, empty_unconverted, filled_converted}]``, for the attributes
    `names` in that order, over `total` observed leads of which `conv` converted. Reasons: ``marked_after_contact``
    (the settings say so), ``separates_alone`` (alone it separates converted from unconverted leads with AUC ≥ 0.90),
    ``filled_after`` (empty for ≥ 95% of the unconverted leads and filled for ≥ 50% of the converted: filled in
    mostly after the lead became a deal). Everything from the attributes' value counts
    (helpers.metrics.lead_engine.attribute_counts)."""
    out = []
    unconv = total - conv
    for name in names:
        table = counts[name]
        empty_n, empty_conv = ((int(table.loc[EMPTY, "n"]), int(table.loc[EMPTY, "converted"])) if EMPTY in table.index
                               else (0, 0))
        share_empty = (empty_n - empty_conv) / unconv if unconv else None
        share_filled = (conv - empty_conv) / conv if conv else None
        a = one_attribute_auc(table)
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
