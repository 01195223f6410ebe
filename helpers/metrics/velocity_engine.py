"""The velocity comparison's reads of the opportunities as engine expressions of a source (notebook 03).

helpers.metrics.velocity compares sales velocity in windows before and after an initiative. What it needs from the
opportunities beyond the windows' pipeline aggregates (helpers.metrics.pipeline.pipeline_metrics_windows_of) is
computed here on a :class:`helpers.metrics.source.Source` (a folder's frames in DuckDB, or a warehouse), so only
aggregates and rows bounded by the windows come back:

- :func:`window_features`: the per-deal rows the bootstrap resamples, only the opportunities created, won or lost in
  one of the windows (bounded by the windows, not by the table), in the source's row order;
- :func:`first_created`, :func:`censoring_counts`: the first created_at and the after window's open deals (one
  aggregate row);
- :func:`mix_counts`: the opportunities created in two windows by value of the mix columns (a row per value).

Masks are helpers.metrics.pipeline's (created_mask, closed_mask, open_mask) written as expressions; a null date
never matches.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from helpers.metrics import engine

#: The label of a missing mix value (null, blank, or 'unknown' in any case).
UNKNOWN = engine.UNKNOWN


def _closed_by(o, cutoff):
    """Won or lost with closed_at on or before `cutoff` (False for a null date or outcome)."""
    return (o.outcome.isin(("won", "lost")) & (o.closed_at.cast("date") <= cutoff)).fill_null(False)


def window_features(source, windows, as_of) -> np.ndarray:
    """The bootstrap's rows: per opportunity created, won or lost in one of `windows` ((start, end) pairs), the
    features of each window in turn, [created, won, lost, won amount (unknown = 0), won cycle days (unknown = 0)]
    (helpers.metrics.pipeline's masks: created in [start, min(end, as_of)]; won / lost closed in it and created by
    as_of); a float array of shape (rows, 5 × windows).

    The rows come in the source's row order: a folder's in file order (the engine table's pos), a warehouse's by
    opportunity_id (code point order, nulls last: the order of the runner's copy, helpers.metrics.warehouse's
    export_folder), so a seeded resample draws the same deals from both."""
    import ibis

    o = source.opps()
    a = engine._day(as_of)
    created, closed = o.created_at.cast("date"), o.closed_at.cast("date")
    flags = {}
    for i, (start, end) in enumerate(windows):
        s, last = engine.period_bounds(start, end, as_of)[:2]
        in_window = closed.between(s, last) & (created <= a)
        flags[f"c{i}"] = created.between(s, last).fill_null(False)
        flags[f"w{i}"] = ((o.outcome == "won") & in_window).fill_null(False)
        flags[f"l{i}"] = ((o.outcome == "lost") & in_window).fill_null(False)
    t = o.mutate(**flags, cycle=closed.delta(created, unit="day").cast("float64"))
    t = t.filter(ibis.or_(*[t[name] for name in flags]))
    order = [c for c in ("pos", "opportunity_id") if c in t.columns]
    rows = source.fetch(t.select(*order, *flags, "amount", "cycle"))
    key = "pos" if "pos" in rows.column_names else "opportunity_id"
    rows = rows.take(pc.sort_indices(rows, [(key, "ascending", "at_end")]))
    amount = np.nan_to_num(rows.column("amount").to_numpy(zero_copy_only=False).astype("float64"), nan=0.0)
    cycle = np.nan_to_num(rows.column("cycle").to_numpy(zero_copy_only=False).astype("float64"), nan=0.0)
    blocks = []
    for i in range(len(windows)):
        c, w, lo = (rows.column(f"{x}{i}").to_numpy(zero_copy_only=False).astype(bool) for x in "cwl")
        blocks.append(np.column_stack([c, w, lo, np.where(w, amount, 0.0), np.where(w, cycle, 0.0)]).astype("float64"))
    return np.hstack(blocks) if blocks else np.zeros((rows.num_rows, 0))


def first_created(source, as_of) -> pd.Timestamp | None:
    """The earliest opportunity created_at on or before as_of (None without one): one aggregate row."""
    o = source.opps()
    created = o.created_at.cast("date")
    first = source.fetch(o.aggregate(first=created.min(where=created <= engine._day(as_of)))).to_pylist()[0]["first"]
    return None if first is None else pd.Timestamp(first)


def censoring_counts(source, after_start, after_end, as_of) -> dict:
    """One aggregate row of the opportunities: ``first`` (the earliest created_at on or before as_of, a Timestamp,
    None without one), of those created in the after window [after_start, min(after_end, as_of)]: ``created``,
    ``open_at_end`` (still open at min(after_end, as_of): pipeline.open_mask), ``open_now`` (open on as_of) and
    ``median_age`` (days from created_at to min(after_end, as_of) of the deals open at the window's end, linear
    interpolation; None without one)."""
    import ibis

    o = source.opps()
    a = engine._day(as_of)
    s, cutoff = engine.period_bounds(after_start, after_end, as_of)[:2]
    created = o.created_at.cast("date")
    in_after = created.between(s, cutoff).fill_null(False)
    open_end = in_after & (created <= cutoff) & ~_closed_by(o, cutoff)
    open_now = in_after & (created <= a) & ~_closed_by(o, a)
    age = ibis.ifelse(open_end, ibis.literal(cutoff).delta(created, unit="day").cast("float64"), ibis.null("float64"))
    row = source.fetch(o.aggregate(
        first=created.min(where=created <= a), created=o.count(where=in_after), open_at_end=o.count(where=open_end),
        open_now=o.count(where=open_now), median_age=age.quantile(0.5))).to_pylist()[0]
    row["first"] = None if row["first"] is None else pd.Timestamp(row["first"])
    row["median_age"] = None if row["median_age"] is None else float(row["median_age"])
    return row


def mix_counts(source, windows: dict, as_of, columns) -> dict:
    """The opportunities created in each of `windows` ({name: (start, end)}, in [start, min(end, as_of)]) by value of
    each of `columns` (trimmed; null, blank or 'unknown' in any case -> 'unknown'):
    ``{(window name, column): {value: count}}``, one grouped query (a row per window, column and value)."""
    import ibis

    columns = list(columns)
    if not columns or not windows:
        return {}
    o = source.opps(columns)
    created = o.created_at.cast("date")
    parts = []
    for name, (start, end) in windows.items():
        s, last = engine.period_bounds(start, end, as_of)[:2]
        t = o.filter(created.between(s, last))
        for i, column in enumerate(columns):
            k = t[f"k{i}"].cast("string")
            label = ibis.ifelse(k.isnull() | (k == "") | (k.lower() == UNKNOWN), ibis.literal(UNKNOWN), k)
            v = t.select(v=label)
            parts.append(v.group_by("v").aggregate(n=v.count()).mutate(w=ibis.literal(name), c=ibis.literal(column)))
    rows = source.fetch(ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]).to_pylist()
    out: dict = {(name, column): {} for name in windows for column in columns}
    for row in rows:
        out[(row["w"], row["c"])][row["v"]] = int(row["n"])
    return out
