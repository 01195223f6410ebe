"""Pandas frames into the metric engine: the canonical Ibis tables of opportunities, leads and touches (Arrow columns).

Moved out of helpers.metrics.engine (which re-exports every name here): :func:`opps_table`, :func:`leads_table`,
:func:`touches_table` build an engine table from a pandas frame in the canonical column names and values
(contract section 1; ids, outcome and keys trimmed of :data:`WHITESPACE`), once per frame within
:func:`reusing_tables`. No query runs here.
"""
from __future__ import annotations

import contextlib
import string

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: The characters trimmed from ids, outcomes and keys: Ibis compiles ``strip()`` as trim(x, string.whitespace).
WHITESPACE = string.whitespace

def _dates(frame: pd.DataFrame, column: str) -> pa.Array:
    if column not in frame.columns:
        return pa.nulls(len(frame), pa.date32())
    values = pd.to_datetime(frame[column]).dt.normalize().to_numpy().astype("datetime64[D]")
    return pa.array(values, type=pa.date32(), from_pandas=True)


def _texts(frame: pd.DataFrame, column: str | None) -> pa.Array:
    if column is None or column not in frame.columns:
        return pa.nulls(len(frame), pa.string())
    values = frame[column]
    if isinstance(values.dtype, pd.StringDtype):
        return pa.array(values.astype("string"), type=pa.string(), from_pandas=True)
    # categories, object labels: each distinct value converted once, then taken by its code (null stays null)
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    text = pa.array(pd.Series(distinct, dtype=object if not len(distinct) else None).astype("string"), type=pa.string(),
                    from_pandas=True)
    return text.take(pa.array(codes, mask=codes < 0))


def _canonical(values: pa.Array, lower: bool = False) -> pa.Array:
    """Text trimmed of WHITESPACE (and lower case with `lower`): an engine table's ids, outcome and keys. `values`
    itself when trimming changes nothing (the loader's text is trimmed already): the engine table shares the frame's
    Arrow data instead of holding a copy (1M leads: 10 MiB of lead ids)."""
    trimmed = pc.utf8_trim(values, characters=WHITESPACE)
    if lower:
        return pc.utf8_lower(trimmed)
    return values if pc.all(pc.equal(trimmed, values)).as_py() is not False else trimmed


def _numbers(frame: pd.DataFrame, column: str) -> pa.Array:
    if column not in frame.columns:
        return pa.nulls(len(frame), pa.float64())
    return pa.array(pd.to_numeric(frame[column], errors="coerce").astype("float64"), type=pa.float64(), from_pandas=True)


def _is_key(column: str) -> bool:
    """k0, k1, ...: a breakdown key column of an engine table."""
    return column.startswith("k") and column[1:].isdigit()


def _key_columns(frame: pd.DataFrame, dims: dict[str, str]) -> dict[str, pa.Array]:
    """The breakdown keys as trimmed text columns k0, k1, ... (one per dimension, in `dims` order), dictionary-encoded
    (a few distinct values each: small in memory, grouped fast)."""
    return {f"k{i}": _key_column(frame, column) for i, column in enumerate(dims.values())}


def _key_column(frame: pd.DataFrame, column: str) -> pa.Array:
    """One breakdown key: each distinct value trimmed once; a dictionary array with one entry per trimmed text."""
    if column not in frame.columns:
        return pa.nulls(len(frame), pa.string())
    from helpers.data.codes import factorized

    codes, distinct = factorized(frame[column])   # hashed once for the loader's checks and these keys
    text = _canonical(pa.array(pd.Series(distinct, dtype=object if not len(distinct) else None).astype("string"),
                               type=pa.string(), from_pandas=True))
    entries = pc.dictionary_encode(text)  # values that trim to the same text share an entry
    width = next(t for t in (pa.int8(), pa.int16(), pa.int32()) if len(entries.dictionary) < 2 ** (t.bit_width - 1))
    rows = entries.indices.cast(width).take(pa.array(codes, mask=codes < 0))  # a few values: a byte per row
    return pa.DictionaryArray.from_arrays(rows, entries.dictionary)


#: Tables already built from frames while :func:`reusing_tables` is active: {(kind, id(frame), dims): (frame, table)};
#: also each frame's canonical columns (kind "leads columns", "opps columns"), which its tables of any dims share.
_BUILT: dict | None = None


@contextlib.contextmanager
def reusing_tables(store: dict | None = None):
    """Within this block, :func:`opps_table` / :func:`leads_table` of the same frame object and dims build the engine
    table once, and its tables of other dims share its canonical columns (ids, dates, outcome, amount: built once, zero
    copy; the caller promises not to change the frames meanwhile; each frame is held until the block ends).

    With `store` (a dict its owner keeps: helpers.metrics.source.FrameSource's), the tables are built into and taken
    from `store` instead, so they outlive the block (held as long as the owner holds `store`)."""
    global _BUILT
    outer = _BUILT
    if store is not None:
        _BUILT = store
    elif outer is None:
        _BUILT = {}
    try:
        yield
    finally:
        if store is not None or outer is None:
            _BUILT = outer


def share_columns(derived: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Within :func:`reusing_tables`: `derived` (`frame` with a column added, e.g. a breakdown key, the others
    unchanged) shares the canonical columns built from `frame` (ids, dates, outcome, amount: built once for both)."""
    if _BUILT is not None and derived is not frame:
        _BUILT[("same columns", id(derived), ())] = (derived, frame)


def _columns_of(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame whose canonical columns `frame` shares (:func:`share_columns`), else `frame`."""
    return frame if _BUILT is None else _BUILT.get(("same columns", id(frame), ()), (None, frame))[1]


def _reused(kind: str, frame: pd.DataFrame, dims: dict[str, str] | None, build):
    if _BUILT is None:
        return build()
    key = (kind, id(frame), tuple((dims or {}).items()))
    if key not in _BUILT:
        _BUILT[key] = (frame, build())  # the frame is held, so its id cannot be reused while the entry lives
    return _BUILT[key][1]


def opps_table(opps: pd.DataFrame, dims: dict[str, str] | None = None):
    """An Ibis table of the opportunities' canonical columns and values (+ k0, k1, ...: the breakdown keys of `dims`;
    pos: the row's position in the frame) from a pandas frame (built once per frame within :func:`reusing_tables`)."""
    return _reused("opps", opps, dims, lambda: _opps_table(opps, dims))


def leads_table(leads: pd.DataFrame, dims: dict[str, str] | None = None, stamps: tuple[str, ...] = ()):
    """An Ibis table of the leads' canonical columns and values (+ k0, k1, ...: the breakdown keys of `dims`; + the
    datetime columns `stamps` as timestamps, null when absent) from a pandas frame (built once per frame within
    :func:`reusing_tables`)."""
    kind = "leads" if not stamps else "leads+" + ",".join(stamps)
    return _reused(kind, leads, dims, lambda: _leads_table(leads, dims, tuple(stamps)))


def touches_table(touches: pd.DataFrame):
    """An Ibis table of the touches (contract section 6) from a pandas frame (built once per frame within
    :func:`reusing_tables`): pos (row position: file order), touch_id (text, '' when empty: it sorts first), lead_id and
    opportunity_id (canonical ids), ts (touched_at with its time), d (its calendar day), channel, content."""
    return _reused("touches", touches, None, lambda: _touches_table(touches))


def _touches_table(touches: pd.DataFrame):
    import ibis

    stamps = pd.to_datetime(touches["touched_at"]) if "touched_at" in touches.columns else pd.Series(pd.NaT, index=touches.index)
    return ibis.memtable(pa.table({
        "pos": pa.array(np.arange(len(touches), dtype=np.int64)), "touch_id": pc.fill_null(_texts(touches, "touch_id"), ""),
        "lead_id": _canonical(_texts(touches, "lead_id")), "ts": pa.array(stamps.to_numpy(dtype="datetime64[ns]"), type=pa.timestamp("ns"), from_pandas=True),
        "d": _dates(touches, "touched_at"), "channel": _texts(touches, "channel"), "content": _texts(touches, "content"),
        "opportunity_id": _canonical(_texts(touches, "opportunity_id"))}))


def _opps_table(opps: pd.DataFrame, dims: dict[str, str] | None = None):
    import ibis

    base = _reused("opps columns", _columns_of(opps), None, lambda: {
        "pos": pa.array(range(len(opps)), type=pa.int64()),
        "opportunity_id": _canonical(_texts(opps, "opportunity_id")), "created_at": _dates(opps, "created_at"),
        "closed_at": _dates(opps, "closed_at"), "outcome": _canonical(_texts(opps, "outcome"), lower=True),
        "amount": _numbers(opps, "amount"), "lead_id": _canonical(_texts(opps, "lead_id"))})
    return ibis.memtable(pa.table({**base, **_key_columns(opps, dims or {})}))


def _stamps(frame: pd.DataFrame, column: str) -> pa.Array:
    """A datetime column as timestamps (its time of day kept; null when absent or empty)."""
    if column not in frame.columns:
        return pa.nulls(len(frame), pa.timestamp("ns"))
    values = pd.to_datetime(frame[column]).to_numpy(dtype="datetime64[ns]")
    return pa.array(values, type=pa.timestamp("ns"), from_pandas=True)


def leads_columns(leads: pd.DataFrame) -> dict[str, pa.Array]:
    """The canonical columns of :func:`leads_table` (lead_id, created_at, mql_at, sql_at, opportunity_id) as Arrow
    arrays (built once per frame, or per frame sharing its columns, within :func:`reusing_tables`)."""
    return _reused("leads columns", _columns_of(leads), None, lambda: {
        "lead_id": _canonical(_texts(leads, "lead_id")), "created_at": _dates(leads, "created_at"),
        "mql_at": _dates(leads, "mql_at"), "sql_at": _dates(leads, "sql_at"),
        "opportunity_id": _canonical(_texts(leads, "opportunity_id"))})


def _leads_table(leads: pd.DataFrame, dims: dict[str, str] | None = None, stamps: tuple[str, ...] = ()):
    import ibis

    base = leads_columns(leads)
    return ibis.memtable(pa.table({**base, **_key_columns(leads, dims or {}), **{c: _stamps(leads, c) for c in stamps}}))
