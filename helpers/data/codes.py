"""A label column's codes computed once: the loader's checks, channel folding and categories share one factorization.

A million-row label column (channel, industry, company_size, campaign, owner) is hashed by each step that looks at
its distinct values: the label checks (helpers.data.categories), invisible characters and channel placeholders
(helpers.data.channels), the pseudonyms and the categories (helpers.data.load). Each step leaves the column's Arrow
data as it was when it changes nothing, so :func:`factorized` keys its result on that data: the same column is
hashed once (1M leads: 0.2 CPU s of hashing saved). Pure; no I/O.
"""
from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

#: {id of an Arrow array: (weak reference to it, codes, distinct values)}; an entry leaves with its array.
_MEMO: dict[int, tuple[weakref.ref, np.ndarray, object]] = {}


def _arrow_data(values: pd.Series):
    """The Arrow data behind an Arrow-backed pandas column (pandas' ``str`` dtype), else None."""
    return getattr(getattr(values, "array", None), "_pa_array", None)


def factorized(values: pd.Series) -> tuple[np.ndarray, object]:
    """``pd.factorize(values, use_na_sentinel=True)``: ``(codes, distinct)``, codes per row (-1 = missing; the
    narrowest signed integer type that holds them) into the distinct values in order of first appearance. Memoized for an Arrow-backed column while its data lives: the codes are
    then shared, so read-only (a caller that writes to them gets ValueError, not a silent change for the next)."""
    data = _arrow_data(values)
    if data is None:
        return pd.factorize(values, use_na_sentinel=True)
    key = id(data)
    hit = _MEMO.get(key)
    if hit is not None and hit[0]() is data:
        return hit[1], hit[2]
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    codes = _compact(codes, len(distinct))
    _store(data, codes, distinct)
    return codes, distinct


def remember(values: pd.Series, codes: np.ndarray, distinct) -> None:
    """Record ``(codes, distinct)`` as the factorization of the Arrow-backed column `values`, made by its maker from
    codes it had (e.g. owner pseudonyms taken by the names' codes): a later :func:`factorized` of it hashes nothing.
    `distinct` must be the column's distinct values in order of first appearance and `codes` index them (-1 = missing)."""
    data = _arrow_data(values)
    if data is None:
        return
    _store(data, _compact(np.array(codes), len(distinct)), distinct)   # a copy: the caller's array may change


def _compact(codes: np.ndarray, distinct: int) -> np.ndarray:
    """`codes` in the narrowest signed integer type that holds them (a label column of a few dozen values: a byte per
    row, so holding them while the column lives costs an eighth of int64's memory), read-only."""
    width = next(t for t in (np.int8, np.int16, np.int32, np.int64) if distinct < np.iinfo(t).max)
    out = codes.astype(width, copy=False)
    out.setflags(write=False)
    return out


def _store(data, codes: np.ndarray, distinct) -> None:
    """Keep ``(codes, distinct)`` for the Arrow data `data` until it is freed."""
    key = id(data)

    def forget(ref, key=key):
        if _MEMO.get(key, (None,))[0] is ref:
            del _MEMO[key]

    _MEMO[key] = (weakref.ref(data, forget), codes, distinct)
