"""Whole-column draws for the sample generator (helpers.data.sample) that give the per-row loops' values exactly.

The generator first drew some columns row by row (a dict lookup, a weighted pick or a random call per lead): at 10M
leads those loops took most of an hour. Each function here draws a whole column at once and is exact by
construction, so the seeded sample (data/sample) stays byte-identical:

- :func:`lookup` and :func:`draw_grouped` look each distinct key up once and spread the results (the same floats,
  the same inverse-CDF searches over the same edges);
- :func:`rep_choices` is the loop ``pool[rng.integers(len(pool))]`` over a prefix pool as one broadcast
  ``rng.integers(0, sizes)`` (NumPy draws a broadcast bound element by element, as the scalar calls did);
- :func:`phone_prefixes` replays the loop ``rng.choice([3, 6]) if rng.random() > share`` on the generator's raw
  64-bit outputs (a double takes one output; a choice takes a 32-bit half, the high half kept for the next choice,
  as NumPy's PCG64 does) and leaves the generator in the state the loop would have left it in.

tests/test_sample.py checks each against its loop on other seeds and sizes. Pure; no I/O.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: 2**-53: NumPy's double from a 64-bit output is ``(output >> 11) * 2**-53``.
_DOUBLE_UNIT = 1.0 / 9007199254740992.0


def lookup(table: dict, keys, default=1.0) -> np.ndarray:
    """``table.get(key, default)`` of each of `keys` as float64 (each distinct key looked up once)."""
    keys = np.asarray(keys)
    if keys.size == 0:
        return np.array([], dtype=float)
    codes, distinct = pd.factorize(keys.ravel(), use_na_sentinel=False)   # hashed, not sorted (text keys sort slowly)
    return np.array([table.get(k, default) for k in distinct.tolist()], dtype=float)[codes].reshape(keys.shape)


def draw(u: np.ndarray, weights) -> np.ndarray:
    """Indices drawn with the given weights, from uniforms (inverse CDF)."""
    edges = np.cumsum(weights)
    return np.minimum(np.searchsorted(edges / edges[-1], u), len(edges) - 1)


def draw_grouped(u: np.ndarray, groups: np.ndarray, weights_of) -> np.ndarray:
    """:func:`draw` of each uniform ``u[i]`` with the weights ``weights_of(groups[i])`` (rows of a group drawn together)."""
    out = np.zeros(len(u), dtype=np.intp)
    for group in pd.unique(np.asarray(groups)).tolist():
        rows = groups == group
        out[rows] = draw(u[rows], weights_of(group))
    return out


def rep_choices(rng, sizes: np.ndarray) -> np.ndarray:
    """For each row, ``rng.integers(size)`` (a position in the first `size` names), drawn as the per-row loop drew them."""
    return rng.integers(0, np.asarray(sizes, dtype=np.int64)) if len(sizes) else np.array([], dtype=np.int64)


def phone_prefixes(rng, n: int, share: float) -> list[int]:
    """For each of `n` rows, what ``rng.choice([3, 6]) if rng.random() > share else 0`` gives in a loop, with `rng`
    (a PCG64 Generator) left as that loop leaves it.

    A double is ``(output >> 11) * 2**-53`` of one 64-bit output; a choice of two takes the top bit of a 32-bit
    half: the low half of a fresh output, whose high half is kept for the next choice (the generator's ``has_uint32``
    and ``uinteger``)."""
    bits = rng.bit_generator
    start = bits.state
    has, buffered = bool(start["has_uint32"]), int(start["uinteger"])
    raw = bits.random_raw(2 * n + 1)   # at most two outputs a row
    phone = ((raw >> np.uint64(11)) * _DOUBLE_UNIT > share).tolist()
    low_top = ((raw >> np.uint64(31)) & np.uint64(1)).astype(bool).tolist()
    high_top = (raw >> np.uint64(63)).astype(bool).tolist()
    buffered_top, last = bool(buffered >> 31), -1
    out, p = [0] * n, 0
    for i in range(n):
        if phone[p]:
            if has:
                out[i], has = (6 if buffered_top else 3), False
            else:
                p += 1
                out[i], has, last, buffered_top = (6 if low_top[p] else 3), True, p, high_top[p]
        p += 1
    if has and last >= 0:
        buffered = int(raw[last]) >> 32
    bits.state = start
    bits.random_raw(p)   # the outputs the loop consumed
    state = bits.state
    state["has_uint32"], state["uinteger"] = int(has), buffered if has else 0
    bits.state = state
    return out
