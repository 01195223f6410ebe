"""Lead quality's per-attribute counts and the score's fit as engine expressions (helpers.metrics.engine's tables and
backend, issue 26): a warehouse returns counts per attribute value and per distinct design row, never the leads.

Both read one engine table of the observed leads, one row per lead: ``converted`` (boolean), the attribute columns by
name (numbers, or text that reads as numbers when the attribute is numeric) and, for the fit, ``train`` (boolean:
the leads the score is fitted on, as helpers.metrics.lead_source._split chose them).

- :func:`attribute_counts`: per attribute, leads and converted
  leads per value label: text trimmed, numbers in quintile ranges, ``(empty)``): one grouped query, after one for
  the numbers' quintile edges. :func:`conditions_and_guard`: the conditions table and the leakage guard from those
  counts alone (lead_conditions.counted_conditions / counted_guard).
- :func:`fit_score`: the score's design (tests/lead_reference.py's design, per lead: text values under ``min_leads`` training
  leads folded into ``other``, the most common value the reference; numbers standardized with the training mean
  and population standard deviation) from engine aggregates, and its logistic fit on the distinct design rows with
  their counts as frequency weights (the same likelihood, hence the same estimate, as the rows:
  lead_score.fit with ``weights``). Rows fetched grow with the distinct covariate patterns, not with the leads.

Differences from the folder path, by construction: a warehouse table has no row order, so text values tied on
training count are ordered by label (the folder path: by first appearance). The numbers' mean and standard deviation
are summed in numpy over their distinct values (:func:`_number_stats`), so they have the same bits on every engine
and thread count, unless a number has more than MAX_SCORED_LEADS distinct values (then the engine's, in its order). The quintile edges are the engine's linear
quantiles (DuckDB QUANTILE_CONT, PostgreSQL percentile_cont: numpy's linear method).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.metrics.goals_engine import _fetch
from helpers.metrics.lead_conditions import EMPTY, OTHER, QUINTILES, _number, counted_conditions, counted_guard
from helpers.metrics.lead_score import MAX_FIT_LEADS, Design, dropped_notes, fit, points


def _text(col):
    """The trimmed text of a column, null when empty or blank."""
    import ibis

    s = col.cast("string").strip()
    return ibis.ifelse(s.isnull() | (s == ""), ibis.null("string"), s)


#: Text that reads as a number (signs, decimals, an exponent): the only text cast to one, so no engine refuses a cast
#: (PostgreSQL has no TRY_CAST: it fails the query on the first word).
NUMBER_TEXT = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"


def ones(cond):
    """1 where the boolean `cond` holds, else 0 (int64): what a count of true values sums (PostgreSQL casts no boolean
    to bigint)."""
    import ibis

    return ibis.ifelse(cond.fill_null(False), 1, 0).cast("int64")


def _number_of(col):
    """A numeric attribute's values as float (text read with thousands separators removed), null when empty or not
    a number."""
    import ibis

    if col.type().is_numeric():
        return col.cast("float64")
    s = _text(col).replace(",", "")
    return ibis.ifelse(s.re_search(NUMBER_TEXT).fill_null(False), s.try_cast("float64"), ibis.null("float64"))


def quintile_edges(t, numeric: list[str], backend=None) -> dict[str, list[float]]:
    """{attribute: the distinct quintile edges (min, 20%, ..., max) of its filled values} (lead_conditions.quintile_edges;
    [] without a filled value), for every numeric attribute in one query."""
    if not numeric:
        return {}
    probs = [float(p) for p in np.linspace(0, 1, QUINTILES + 1)]
    if _multi_quantile(backend):   # one sorted copy of a column's values for its six edges, not six
        got = _fetch(t.aggregate(**{f"q{i}": _number_of(t[name]).quantile(probs) for i, name in enumerate(numeric)}),
                     backend).to_pylist()[0]
        got = {f"q{i}_{j}": (got[f"q{i}"] or [None] * len(probs))[j] for i in range(len(numeric)) for j in range(len(probs))}
    else:
        got = _fetch(t.aggregate(**{f"q{i}_{j}": _number_of(t[name]).quantile(p)
                                    for i, name in enumerate(numeric) for j, p in enumerate(probs)}), backend).to_pylist()[0]
    out = {}
    for i, name in enumerate(numeric):
        values = [got[f"q{i}_{j}"] for j in range(len(probs))]
        out[name] = [] if any(v is None for v in values) else sorted(set(float(v) for v in values))
    return out


def _multi_quantile(backend=None) -> bool:
    """True when the backend computes several quantiles of a column in one aggregate (Ibis' MultiQuantile: DuckDB's
    QUANTILE_CONT with a list, PostgreSQL's percentile_cont with an array; the same values as one quantile each). The
    engine keeps one copy of the column's values per quantile aggregate: six edges of a 10M-lead column were six
    copies (about 1 GB for two columns)."""
    import ibis.expr.operations as ops

    from helpers.metrics import engine

    con = backend or engine.default_backend()
    try:
        return bool(con.has_operation(ops.MultiQuantile))
    except (AttributeError, NotImplementedError):
        return False


def _bin(x, edges: list[float]):
    """The quintile range code of lead_conditions.bin_codes (edges[i] < x <= edges[i + 1] is i, the minimum in 0;
    null stays null)."""
    import ibis

    code = ibis.literal(0)
    for e in edges[1:-1]:
        code = code + ibis.ifelse(x > e, 1, 0)
    return ibis.ifelse(x.isnull(), ibis.null("int64"), code.cast("int64"))


def _numeric_labels(edges: list[float]) -> list[str]:
    if len(edges) < 2:
        return [_number(edges[0])] if edges else []
    return [_number(edges[i]) + "–" + _number(edges[i + 1]) for i in range(len(edges) - 1)]


def _counts_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["label", "n", "converted"]).astype({"n": "int64", "converted": "int64"})
    return frame.groupby("label", sort=False)[["n", "converted"]].sum()   # a text "(empty)" is the empty value


def attribute_counts(t, attrs: dict[str, bool], backend=None) -> dict[str, pd.DataFrame]:
    """Per attribute (`attrs`: {column: numeric}) of the observed leads' table `t`: ``n`` and ``converted`` leads per
    value label, indexed by label in lead_conditions.bin_codes' order (text sorted, numeric ranges low to high,
    ``(empty)`` last; labels held by no lead left out): the frames tests/lead_reference.py's attribute_counts makes lead by lead. Two queries
    when there are numeric attributes (their edges, then the counts), else one; rows fetched: the distinct values."""
    import ibis

    if not attrs:
        return {}
    edges = quintile_edges(t, [a for a, numeric in attrs.items() if numeric], backend)
    conv = ones(t.converted)
    parts = []
    for i, (name, numeric) in enumerate(attrs.items()):
        if numeric:
            key = _bin(_number_of(t[name]), edges[name]).cast("string")
        else:
            key = _text(t[name])
        g = t.select(k=key, c=conv).group_by("k").aggregate(n=ibis._.count(), converted=ibis._.c.sum())
        parts.append(g.mutate(dim=ibis.literal(i, type="int64")))
    got = _fetch(parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False), backend).to_pylist()
    out = {}
    for i, (name, numeric) in enumerate(attrs.items()):
        rows = [r for r in got if r["dim"] == i]
        filled = [r for r in rows if r["k"] is not None]
        if numeric:
            labels = _numeric_labels(edges[name])
            filled = sorted(filled, key=lambda r: int(r["k"]))
            found = [(labels[int(r["k"])], r["n"], r["converted"]) for r in filled]
        else:
            found = [(r["k"], r["n"], r["converted"]) for r in sorted(filled, key=lambda r: r["k"])]
        found += [(EMPTY, r["n"], r["converted"]) for r in rows if r["k"] is None]
        out[name] = _counts_frame(found)
    return out


def conditions_and_guard(t, attrs: dict[str, bool], known: dict[str, str], explicit: set, min_leads: int,
                         backend=None) -> dict:
    """The conditions table and the leakage guard of the observed leads' table `t`, as lead_section computes them, from
    :func:`attribute_counts` alone: ``{counts, suspect, clean, conditions}``. `attrs` {column: numeric}, `known`
    {column: before_contact | after_contact}, `explicit`: the attributes the settings mark before_contact (kept
    even when the guard suspects them); clean: the attributes the conditions and the score use, in `attrs`' order."""
    counts = attribute_counts(t, attrs, backend)
    first = next(iter(counts.values()), None)
    total, conv = (0, 0) if first is None else (int(first["n"].sum()), int(first["converted"].sum()))
    suspect = counted_guard(counts, list(attrs), known, total, conv)
    left_out = {s["attribute"] for s in suspect} - set(explicit)
    clean = [a for a in attrs if a not in left_out and known[a] == "before_contact"]
    return {"counts": counts, "suspect": suspect, "clean": clean,
            "conditions": counted_conditions(counts, {a: attrs[a] for a in clean}, total, conv, min_leads)}


def _groups(train_counts: dict, min_leads: int) -> tuple[dict, list[str]] | None:
    """({label: group}, groups in column order: the reference first) of a text attribute from its training counts
    ({label or None: n}): tests/lead_reference.py's _text_part folding and order (ties on count by label); None with fewer than
    two groups."""
    group_of = {}
    sizes: dict[str, int] = {}
    merged: dict[str, int] = {}   # a text "(empty)" and the empty value are one value
    for label, n in train_counts.items():
        merged[EMPTY if label is None else label] = merged.get(EMPTY if label is None else label, 0) + n
    for label, n in train_counts.items():
        name = EMPTY if label is None else label
        group_of[label] = name if name != OTHER and merged[name] >= min_leads else OTHER
        sizes[group_of[label]] = sizes.get(group_of[label], 0) + n
    order = sorted((g for g, n in sizes.items() if n > 0), key=lambda g: (-sizes[g], g))
    return (group_of, order) if len(order) >= 2 else None


#: The score's fit reads at most this many training leads (lead_score.MAX_FIT_LEADS) and its test figures at most
#: this many test leads: beyond, an evenly spaced sample in lead_id order (:func:`_spaced`), so the rows fetched (the
#: distinct design rows of the leads read) stay bounded whatever the table's size.
MAX_SCORED_LEADS = MAX_FIT_LEADS


def _spaced(t, flag: str, n: int, bound: int):
    """`t` with column `flag` kept true only for an evenly spaced `bound` of its `n` true rows, in lead_id order (the
    r-th, r from 0, kept when floor((r + 1)·bound / n) > floor(r·bound / n): exactly `bound` rows); `t` as it is
    when n <= bound. The rows are ranked in a sub-query of their lead ids alone (lead ids are unique), which the
    engine reads as the small side of a semi-join: the window sorts one column, not every column of `t`."""
    import ibis

    if n <= bound:
        return t
    ids = t.filter(t[flag]).select("lead_id")
    ranked = ids.mutate(_r=ibis.row_number().over(order_by=ids.lead_id).cast("int64"))
    kept = ranked.filter(((ranked._r + 1) * bound) // n > (ranked._r * bound) // n)
    return t.mutate(**{flag: t[flag] & t.lead_id.isin(kept.lead_id)})


def score_keys(t, attrs: dict[str, bool], min_leads: int, backend=None) -> dict:
    """The score's design from engine aggregates over the training leads (``train``) of `t`: ``{keys: {attribute: an
    expression of t (a text attribute's group, a number's value)}, groups: {attribute: ({label: group}, order) or
    None}, stats: {attribute: (mean, sd, any empty)}}``; two queries (the text values' training counts, the numbers'
    distinct values: :func:`_number_stats`), one more for a number with very many distinct values."""
    import ibis

    tr = t.filter(t.train)
    text = [a for a, numeric in attrs.items() if not numeric]
    nums = [a for a, numeric in attrs.items() if numeric]
    counts = {}
    if text:
        parts = [tr.select(k=_text(tr[a])).group_by("k").aggregate(n=ibis._.count()).mutate(dim=ibis.literal(i, type="int64"))
                 for i, a in enumerate(text)]
        got = _fetch(parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False), backend).to_pylist()
        counts = {a: {r["k"]: int(r["n"]) for r in got if r["dim"] == i} for i, a in enumerate(text)}
    stats = _number_stats(tr, nums, backend)
    groups = {a: _groups(counts[a], min_leads) for a in text}
    keys = {}
    for a in attrs:
        if a in groups and groups[a] is not None:
            group_of, _ = groups[a]
            label = _text(t[a])
            expr = ibis.literal(OTHER)
            for lab, g in group_of.items():
                if g != OTHER:
                    expr = ibis.ifelse(label.isnull() if lab is None else (label == lab).fill_null(False), g, expr)
            keys[a] = expr
        elif a in stats and stats[a][1] is not None and np.isfinite(stats[a][1]) and stats[a][1] > 0:
            keys[a] = _number_of(t[a])
    return {"keys": keys, "groups": groups, "stats": stats}


def _number_stats(tr, nums: list[str], backend=None) -> dict:
    """{attribute: (mean, population standard deviation, any empty)} of the numbers `nums` of the leads `tr` (None, None
    without a filled value). From each number's distinct values and their counts (one query; at most
    MAX_SCORED_LEADS + 1 values of a number fetched), summed in value order in numpy: the same bits whatever order
    and threads the engine reads the rows in (an engine's running standard deviation changes its last bits with
    them). A number with more distinct values than that: the engine's mean and standard deviation (one more query)."""
    import ibis

    if not nums:
        return {}
    bound = MAX_SCORED_LEADS
    parts = [tr.select(v=_number_of(tr[a])).group_by("v").aggregate(n=ibis._.count()).limit(bound + 1)
             .mutate(dim=ibis.literal(i, type="int64")) for i, a in enumerate(nums)]
    got = _fetch(parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False), backend).to_pydict()
    dims = np.asarray(got["dim"], dtype=np.int64)
    stats, many = {}, []
    for i, a in enumerate(nums):
        at = np.flatnonzero(dims == i)
        if len(at) > bound:
            many.append(a)
            continue
        values = [got["v"][j] for j in at]
        counts = np.asarray([got["n"][j] for j in at], dtype=np.int64)
        filled = np.asarray([v is not None for v in values], dtype=bool)
        v = np.asarray([x for x in values if x is not None], dtype=float)
        n = counts[filled].astype(float)
        order = np.argsort(v, kind="stable")
        v, n = v[order], n[order]
        total = n.sum()
        if not total:
            stats[a] = (None, None, bool((~filled).any()))
            continue
        mean = float((v * n).sum() / total)
        stats[a] = (mean, float(np.sqrt((n * (v - mean) ** 2).sum() / total)), bool(counts[~filled].sum() > 0))
    if many:
        x = {a: _number_of(tr[a]) for a in many}
        row = _fetch(tr.aggregate(**{f"m{i}": x[a].mean() for i, a in enumerate(many)},
                                  **{f"s{i}": x[a].std(how="pop") for i, a in enumerate(many)},
                                  **{f"e{i}": ones(x[a].isnull()).sum() for i, a in enumerate(many)}), backend).to_pylist()[0]
        stats |= {a: (row[f"m{i}"], row[f"s{i}"], int(row[f"e{i}"] or 0) > 0) for i, a in enumerate(many)}
    return {a: stats[a] for a in nums}


def _cells(t, keys: dict, extra: dict, backend=None) -> dict:
    """The distinct (y, design keys a0, a1, ...) rows of `t` with ``n`` and the sums `extra` ({name: expression}),
    fetched and sorted by every key (nulls first): the same rows in the same order on every backend."""
    import ibis

    names = [f"a{i}" for i in range(len(keys))]
    got = _fetch(t.select(y=ones(t.converted), **dict(zip(names, keys.values())), **{f"_{k}": v for k, v in extra.items()})
                 .group_by(["y"] + names).aggregate(n=ibis._.count(), **{k: ibis._[f"_{k}"].sum() for k in extra}),
                 backend)
    order = _key_order(got, ["y"] + names)
    return {c: got.column(c).take(order).to_pylist() for c in got.column_names}


def _key_order(table, columns: list[str]):
    """The positions of `table`'s rows ordered by `columns` (None first, then values ascending, the first column
    first; text by code point): Arrow's sort of the columns themselves (issue 26: no Python object per cell and
    no object-array comparisons; the keys of distinct rows never tie, so any sort gives the one order)."""
    import pyarrow.compute as pc

    import pyarrow as pa

    if not columns:
        return np.arange(0)
    keys = pa.table({c: _plain(table.column(c)) for c in columns})
    return pc.sort_indices(keys, sort_keys=[(c, "ascending", "at_start") for c in columns])


def _plain(column):
    """An Arrow column with its values spelled out (a dictionary-encoded one decoded: Arrow sorts no dictionary in a
    table's sort)."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _design(cells: dict, attrs: dict[str, bool], design: dict) -> Design:
    """The :class:`Design` of the fetched cells (one row per cell), as tests/lead_reference.py's design makes it per lead."""
    keys = design["keys"]
    d = Design(len(cells["n"]))
    for a in attrs:
        if a not in keys:
            d.constant.append(a)
            continue
        col = np.array(cells[f"a{list(keys).index(a)}"], dtype=object)
        if a in design["groups"]:
            _, order = design["groups"][a]
            position = {g: j - 1 for j, g in enumerate(order)}
            d.add_text(a, np.array([position.get(g, -1) for g in col], dtype=np.int32), order[0], order[1:])
        else:
            mean, sd, empty = (float(v) if i < 2 else v for i, v in enumerate(design["stats"][a]))
            v = np.array([np.nan if c is None else float(c) for c in col])
            d.add_number(a, np.nan_to_num((v - mean) / sd, nan=0.0), np.isnan(v).astype(float) if empty else None,
                         {"kind": "number", "mean": mean, "sd": sd, "column": a, "empty": empty})
    return d


def fit_score(t, attrs: dict[str, bool], min_leads: int, backend=None, train_leads: int | None = None) -> dict:
    """The score's logistic fit on the training leads (``train``) of the observed leads' table `t`, from engine
    aggregates: ``{columns, params (pd.Series by design column), penalty, fit_leads, points, dropped, meta, design}``
    as tests/lead_reference.py's score computes them (points: the scorecard; dropped: the notes on columns left out; design:
    :func:`score_keys`). Up to three queries: the text values' training counts with the numbers' means and standard
    deviations, then the distinct design rows (text groups, numbers, converted) with their counts, sorted. With
    `train_leads` (the training leads' count) above MAX_SCORED_LEADS the fit reads an evenly spaced sample of that
    many (:func:`_spaced`). None when no attribute gets a column."""
    design = score_keys(t, attrs, min_leads, backend)
    if not design["keys"]:
        return None
    fitted = _spaced(t, "train", train_leads or 0, MAX_SCORED_LEADS)
    cells = _cells(fitted.filter(fitted.train), design["keys"], {}, backend)
    d = _design(cells, attrs, design)
    weights = np.asarray(cells["n"], dtype=float)
    params, penalty, aliased = fit(d.matrix(np.arange(d.n)), np.asarray(cells["y"], dtype=float), weights=weights)
    series = pd.Series(params, index=d.columns)
    return {"columns": d.columns, "params": series, "penalty": penalty, "fit_leads": int(weights.sum()),
            "points": points(d.meta, series), "dropped": dropped_notes(d, aliased), "meta": d.meta, "design": design}


def column_kinds(source, names: list[str]) -> dict[str, tuple[bool, bool]]:
    """{column: (numeric, has a value)} of the leads' columns `names` (helpers.metrics.lead_quality.as_values' rule:
    numbers when the column holds numbers, or every filled cell's trimmed text reads as one; an empty cell is no
    value), over every lead: one query over each column's distinct values (a count of them, not of leads)."""
    if not names:
        return {}
    import ibis

    t = source.raw_leads(names)
    parts = []
    for i, name in enumerate(names):   # each text column's distinct values read once (not its text per lead)
        col = t[name]
        if col.type().is_numeric() and not col.type().is_boolean():
            parts.append(t.aggregate(**{f"f{i}": col.count()}))
            continue
        d = t.select(v=col).distinct()
        filled = _text(d.v).notnull()
        parts.append(d.aggregate(**{f"f{i}": ones(filled).sum(), f"b{i}": ones(filled & _number_of(d.v).isnull()).sum()}))
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.cross_join(part)
    got = _fetch(joined, source.backend).to_pylist()[0]
    out = {}
    for i, name in enumerate(names):
        filled = int(got[f"f{i}"] or 0)
        numeric = f"b{i}" not in got or (filled > 0 and int(got[f"b{i}"] or 0) == 0)
        out[name] = (numeric, filled > 0)
    return out
