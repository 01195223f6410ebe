"""The lead score's test figures (the score section's AUC, Brier score, deciles and the same-size
comparison; tests/lead_reference.py's score computes them lead by lead) from the test leads' distinct design rows with their counts (issue 26: no test lead is fetched).

A test lead's predicted probability depends only on its design row, so the test leads are fetched as cells: the
distinct (converted, design keys) rows with ``n`` leads, ``f`` flagged by the rule, ``fw`` the won revenue of the
flagged ones and ``w`` the won revenue of all (helpers.metrics.lead_engine._cells, sorted by their keys). The ranks,
the AUC and its DeLong interval, the Brier score and each decile's predicted rate are computed from the leads'
probabilities in one order (the cells' probabilities repeated by their counts, lowest first; ties by converted), so
every backend gives the same bits. Where a decile's or the same-size rule's edge falls inside a group of leads with
the same probability, the leads on each side are decided by lead_id (:func:`edge_counts`: one query, one row).
"""
from __future__ import annotations

import numpy as np

from helpers.metrics.goals_engine import _fetch
from helpers.metrics.lead_engine import ones
from helpers.metrics.lead_score import DECILES, predict
from helpers.metrics.lead_stats import delong_interval


def _group_starts(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the cells in the order the score ranks leads: probability high to low, ties kept together; the position in
    that order where each group of equal probability starts)."""
    order = np.argsort(-p, kind="stable")
    ranked = p[order]
    return order, np.concatenate([[0], np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]).astype(np.int64) if len(order) \
        else np.zeros(0, dtype=np.int64)


def _member(t, keys: dict, cells: dict, rows: np.ndarray):
    """True for the leads of `t` whose design keys are those of the cells `rows` (either outcome)."""
    import ibis

    names = list(keys)
    tuples = {tuple(cells[f"a{i}"][r] for i in range(len(names))) for r in rows}
    parts = []
    for tup in sorted(tuples, key=repr):
        conds = [(keys[n].isnull() if v is None else (keys[n] == v).fill_null(False)) for n, v in zip(names, tup)]
        parts.append(ibis.and_(*conds) if conds else ibis.literal(True))
    return ibis.or_(*parts) if parts else ibis.literal(False)


def edges(n: int, flagged: int) -> list[int]:
    """The positions (leads ranked by score) where a decile ends, and the same-size rule's size."""
    sizes = [len(x) for x in np.array_split(np.arange(n), DECILES)]
    return sorted(set(np.cumsum(sizes).tolist()) | {flagged})


def edge_counts(t, keys: dict, cells: dict, p: np.ndarray, positions: list[int], backend=None) -> dict[int, tuple[int, float]]:
    """{position: (converted leads, their won revenue) among the leads ranked before `position`} for every position
    of `positions`: whole groups of equal probability from the cells, the group an edge falls inside split by lead_id
    (one query, one row, over the test leads of `t`)."""
    import ibis

    n = np.asarray(cells["n"], dtype=np.int64)
    y = np.asarray(cells["y"], dtype=np.int64)
    w = np.asarray([v or 0.0 for v in cells["w"]], dtype=float)
    order, first = _group_starts(p)
    # each group's leads, converted leads and their won revenue at once (issue 26: a pass per group of ~140k groups at
    # 1M leads was most of this function): counts by reduceat over the ranked cells, a one-cell group's revenue its
    # cell's, a larger group's summed in numpy over its cells as before; the groups before a position are a prefix
    # (ranks are ordered), summed left to right from 0 as Python's sum did (cumsum adds in order: the same bits)
    sizes = np.add.reduceat(n[order], first) if len(order) else np.zeros(0, dtype=np.int64)
    converted = np.add.reduceat((n * y)[order], first) if len(order) else np.zeros(0, dtype=np.int64)
    revenue = np.where(y == 1, w, 0.0)[order][first] if len(order) else np.zeros(0)
    bounds = np.append(first, len(order))
    for i in np.flatnonzero(np.diff(bounds) > 1):
        g = order[bounds[i]:bounds[i + 1]]
        revenue[i] = w[g][y[g] == 1].sum()
    ends = np.cumsum(sizes)
    starts = ends - sizes
    before_conv = np.concatenate([[0], np.cumsum(converted)])
    before_rev = np.cumsum(np.concatenate([[0.0], revenue]))
    split, out = {}, {}
    for pos in positions:
        full = int(np.searchsorted(ends, pos, side="right")) if pos > 0 else 0   # groups 0..full-1 end by pos
        out[pos] = (int(before_conv[full]), float(before_rev[full]))
        if full < len(ends) and starts[full] < pos:
            split[pos] = (full, order[bounds[full]:bounds[full + 1]], pos - int(starts[full]))
    exprs = {}
    ordered = sorted(split.items())
    # only the leads of the groups an edge falls inside are ranked by lead_id (a few groups, not every test lead); the
    # query runs without such a group too (one row), so the queries made do not depend on the table's size
    members = {f"_m{k}": _member(t, keys, cells, g) for k, (_, (_, g, _)) in enumerate(ordered)}
    tt = t.filter(ibis.or_(*members.values()) if members else ibis.literal(False)).mutate(**members)
    tt = tt.mutate(**{f"_r{k}": ibis.row_number().over(group_by=tt[f"_m{k}"], order_by=tt.lead_id).cast("int64")
                      for k in range(len(ordered))})
    for k, (pos, (i, g, j)) in enumerate(sorted(split.items())):
        first = tt[f"_m{k}"] & (tt[f"_r{k}"] < j) & tt.converted
        exprs[f"c{k}"] = ones(first).sum()
        exprs[f"w{k}"] = ibis.ifelse(first, tt.won_revenue, 0.0).sum()
    got = _fetch(tt.aggregate(n=tt.count(), **exprs), backend).to_pylist()[0]
    for k, pos in enumerate(sorted(split)):
        conv, rev = out[pos]
        out[pos] = (conv + int(got[f"c{k}"] or 0), rev + float(got[f"w{k}"] or 0.0))
    return out


def test_figures(t, keys: dict, cells: dict, X: np.ndarray, params: np.ndarray, backend=None) -> dict:
    """The score section's test figures from the test leads' cells (`cells`, their design rows `X`) and the fitted
    `params`: ``{test_leads, test_converted, auc, auc_low, auc_high, brier, deciles, same_size}`` (same_size as
    tests/lead_reference.py's same_size_rule; None without test leads)."""
    p = predict(X, params) if len(X) else np.zeros(0)
    n = np.asarray(cells["n"], dtype=np.int64)
    y = np.asarray(cells["y"], dtype=np.int64)
    total, conv = int(n.sum()), int((n * y).sum())
    low_first = np.lexsort((y, p))
    P, Y = np.repeat(p[low_first], n[low_first]), np.repeat(y[low_first], n[low_first]).astype(bool)
    area, lo, hi = delong_interval(P, Y)
    out = {"test_leads": total, "test_converted": conv, "auc": area, "auc_low": lo, "auc_high": hi,
           "brier": float(np.mean((P - Y) ** 2)) if total else None, "deciles": [], "same_size": None}
    if not total:
        return out
    flagged = int(np.asarray(cells["f"], dtype=np.int64).sum())
    counted = edge_counts(t, keys, cells, p, edges(total, flagged), backend)
    ranked = np.sort(P)[::-1]
    base = conv / total
    start = 0
    for i, size in enumerate(len(x) for x in np.array_split(np.arange(total), DECILES)):
        if not size:
            continue
        end = start + size
        hits = counted[end][0] - (counted[start][0] if start else 0)
        obs = hits / size
        out["deciles"].append({"decile": i + 1, "leads": int(size), "predicted": float(ranked[start:end].mean()),
                               "observed": obs, "lift": obs / base if base else None})
        start = end
    f = np.asarray(cells["f"], dtype=np.int64)
    fw = np.asarray([v or 0.0 for v in cells["fw"]], dtype=float)
    rule_hit = int((f * y).sum())
    top_hit, top_won = counted[flagged] if flagged else (0, 0.0)

    def caught(size, hit, won):
        return {"flagged": size, "converted": hit, "won_revenue": float(won), "precision": hit / size if size else None}
    out["same_size"] = {"size": flagged, "test_leads": total, "test_converted": conv,
                        "rule": caught(flagged, rule_hit, fw[y == 1].sum()), "score": caught(flagged, top_hit, top_won)}
    return out
