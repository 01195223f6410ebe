"""The batched data-driven arithmetic (helpers.metrics.attribution_chains) against the per-resample computation it
replaced: one numpy.linalg.lstsq per chain and removed channel, one Shapley sum per weighting, one bootstrap
resample at a time. Equal bit for bit (np.array_equal), on random chains and degenerate ones: an absorbing state
never reached, a singular chain (a loop without exit, where lstsq gives its minimum-norm solution), a channel on
every path, a single channel, a channel no resample visits."""
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from helpers.metrics import attribution_chains as C
from helpers.metrics import attribution_paths as P


# --------------------------------------------------------------------------- the per-system computation
def one_chain(counts, m):
    """(q, r) of one chain: transition probabilities among start and the channels, and into conversion."""
    t = m + 1
    rows = counts[:t].astype(float)
    total = rows.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(total > 0, rows / np.where(total > 0, total, 1), 0.0)
    return p[:, :t], p[:, m + 1]


def one_absorbed(q, r, removed=None):
    """P(conversion from start), one numpy.linalg.lstsq per chain; `removed` sends to null."""
    q, r = q.copy(), r.copy()
    if removed is not None:
        q[:, removed] = 0.0
        q[removed, :], r[removed] = 0.0, 0.0
    return float(np.linalg.lstsq(np.eye(len(r)) - q, r, rcond=None)[0][0])


def one_markov(counts, m):
    """Shares of the removal effects of one chain, NaN where undefined."""
    q, r = one_chain(counts, m)
    base = one_absorbed(q, r)
    if base <= 0:
        return np.full(m, np.nan)
    effects = np.clip(np.array([1.0 - one_absorbed(q, r, i + 1) / base for i in range(m)]), 0.0, None)
    total = effects.sum()
    return np.full(m, np.nan) if total <= 0 else effects / total


def one_shapley(paths_n, conv_n, m):
    """Shapley values of one weighting: subset sums by masks, then one 1-D sum per channel."""
    masks = np.arange(1 << m)

    def zeta(values):
        f = values.astype(float).copy()
        for i in range(m):
            has = (masks >> i) & 1 == 1
            f[has] += f[masks[has] ^ (1 << i)]
        return f

    n_sub, c_sub = zeta(paths_n), zeta(conv_n)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(n_sub > 0, c_sub / np.where(n_sub > 0, n_sub, 1), 0.0)
    v[0] = 0.0
    if v[-1] <= 0:
        return np.full(m, np.nan)
    size = np.array([bin(s).count("1") for s in masks])
    weight = np.array([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) if s < m else 0.0
                       for s in range(m + 1)])
    out = np.empty(m)
    for i in range(m):
        without = masks[(masks >> i) & 1 == 0]
        out[i] = float(np.sum(weight[size[without]] * (v[without | (1 << i)] - v[without])))
    return out


def one_counts(codes, counts, w, m):
    size = m + 3
    return np.bincount(codes[:, 1] * size + codes[:, 2], weights=counts * w[codes[:, 0]],
                       minlength=size * size).reshape(size, size)


# --------------------------------------------------------------------------- chains
def random_counts(rng, b, m, zero_rows=True):
    size = m + 3
    counts = rng.integers(0, 9, (b, size, size)).astype(float)
    counts[:, :, 0] = 0                      # nothing moves back to start
    counts[:, m + 1:] = 0                    # conversion and null absorb
    if zero_rows:
        counts[rng.random((b, size)) < 0.15] = 0   # channels a chain never visits
    return counts


def chain_of(paths, m):
    """One (m+3)×(m+3) count matrix of a list of (path as channel numbers 1..m, converted)."""
    counts = np.zeros((m + 3, m + 3))
    for path, conv in paths:
        states = [0, *path, m + 1 if conv else m + 2]
        for a, b in zip(states[:-1], states[1:]):
            counts[a, b] += 1
    return counts


def same(a, b):
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


@pytest.mark.parametrize("m", [1, 2, 5, 10, 12])
def test_random_chains_solve_as_one_lstsq_each(m):
    counts = random_counts(np.random.default_rng(m), 40, m)
    got = C.absorbed(counts, m)
    for b in range(len(counts)):
        q, r = one_chain(counts[b], m)
        want = [one_absorbed(q, r)] + [one_absorbed(q, r, k) for k in range(1, m + 1)]
        assert same(got[b], want)
    shares = C.markov_batch(counts, m)
    assert all(same(shares[b], one_markov(counts[b], m)) for b in range(len(counts)))
    assert np.isfinite(shares).all(axis=1).sum() >= 20   # most chains defined: the comparison compares numbers


DEGENERATE = {
    # no path converts: conversion is never reached, every share undefined
    "conversion_unreachable": ([((1, 2), False), ((2,), False), ((1,), False)], 2),
    # every path converts: null is reached only through a removed channel
    "null_unreachable": ([((1, 2), True), ((2,), True), ((1, 1), True)], 2),
    # channel 1 on every path
    "channel_on_every_path": ([((1, 2), True), ((1,), False), ((3, 1), True), ((1, 3, 2), False)], 3),
    # one channel only: removing it removes every conversion (share 1)
    "single_channel": ([((1,), True), ((1,), False), ((1, 1), False)], 1),
    # channel 3 on no path: its row and column are 0, its removal changes nothing (share 0)
    "channel_unvisited": ([((1, 2), True), ((2,), False), ((1,), True)], 3),
}


@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_degenerate_chains_as_one_lstsq_each(case):
    paths, m = DEGENERATE[case]
    counts = chain_of(paths, m)
    assert same(C.markov_batch(counts[None], m)[0], one_markov(counts, m))
    q, r = one_chain(counts, m)
    assert same(C.absorbed(counts[None], m)[0], [one_absorbed(q, r)] + [one_absorbed(q, r, k) for k in range(1, m + 1)])


def test_degenerate_chains_values():
    shares = {case: C.markov_batch(chain_of(*DEGENERATE[case])[None], DEGENERATE[case][1])[0] for case in DEGENERATE}
    assert np.isnan(shares["conversion_unreachable"]).all()
    assert shares["single_channel"].tolist() == [1.0]
    assert shares["channel_unvisited"][2] == 0.0
    # null unreachable: P(conversion) = 1; without channel 1 only the path (2,) converts (1/3), without 2 only (1, 1)
    # (1/3): equal effects 2/3, equal shares
    assert shares["null_unreachable"].tolist() == pytest.approx([0.5, 0.5], abs=1e-15)
    assert P.markov_from_matrix(chain_of(*DEGENERATE["conversion_unreachable"]), 2) is None


def test_a_chain_by_exact_fractions():
    """start → a (2), start → b (1); a → b (1), a → conv (1); b → conv (1), b → null (1): P(conv) from b 1/2, from
    a 1/2 + 1/2 · 1/2, from start 2/3 · 3/4 + 1/3 · 1/2; without a 1/3 · 1/2; without b 2/3 · 1/2."""
    counts = np.zeros((5, 5))
    counts[0, 1], counts[0, 2], counts[1, 2], counts[1, 3], counts[2, 3], counts[2, 4] = 2, 1, 1, 1, 1, 1
    half, third = Fraction(1, 2), Fraction(1, 3)
    base, without_a, without_b = 2 * third * (half + half * half) + third * half, third * half, 2 * third * half
    effects = [1 - without_a / base, 1 - without_b / base]
    assert C.absorbed(counts[None], 2)[0].tolist() == pytest.approx([float(base), float(without_a), float(without_b)],
                                                                     abs=1e-15)
    assert C.markov_batch(counts[None], 2)[0].tolist() == pytest.approx([float(e / sum(effects)) for e in effects],
                                                                         abs=1e-15)
    assert [float(e / sum(effects)) for e in effects] == [0.6, 0.4]


def test_a_singular_chain_gets_lstsq_minimum_norm_solution():
    """Channels 1 and 2 move only to each other: I − Q is singular (no unique solution); numpy.linalg.lstsq returns
    its minimum-norm least-squares solution, and the batch returns the same, bit for bit."""
    m = 3
    counts = np.zeros((m + 3, m + 3))
    counts[0, 1], counts[0, 3] = 2, 2
    counts[1, 2], counts[2, 1] = 5, 5
    counts[3, m + 1], counts[3, m + 2] = 1, 1
    q, r = one_chain(counts, m)
    assert np.linalg.matrix_rank(np.eye(m + 1) - q) < m + 1
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.solve(np.eye(m + 1) - q, r)
    stack = np.stack([counts, random_counts(np.random.default_rng(7), 1, m)[0], counts])
    got = C.absorbed(stack, m)
    for b in range(3):
        q, r = one_chain(stack[b], m)
        assert same(got[b], [one_absorbed(q, r)] + [one_absorbed(q, r, k) for k in range(1, m + 1)])
    assert same(C.markov_batch(stack, m)[0], one_markov(counts, m))


def test_lstsq_without_the_gufunc_is_the_same(monkeypatch):
    counts = random_counts(np.random.default_rng(3), 10, 4)
    want = C.absorbed(counts, 4)
    monkeypatch.setattr(np.linalg, "_umath_linalg", None)
    assert same(C.absorbed(counts, 4), want)


# --------------------------------------------------------------------------- Shapley and the counts
@pytest.mark.parametrize("m", [1, 3, 8, 10, 12])
def test_shapley_batch_equals_one_sum_per_weighting(m):
    rng = np.random.default_rng(100 + m)
    paths_n = rng.integers(0, 6, (12, 1 << m)).astype(float)
    conv_n = np.minimum(paths_n, rng.integers(0, 3, (12, 1 << m)))
    conv_n[0] = 0   # v(all) = 0: undefined
    got = C.shapley_batch(paths_n, conv_n, m)
    assert np.isnan(got[0]).all() and np.isfinite(got[1:]).all(axis=1).sum() >= 8
    assert all(same(got[b], one_shapley(paths_n[b], conv_n[b], m)) for b in range(12))


def test_counts_by_product_and_by_bincount_are_the_per_weighting_bincount(monkeypatch):
    rng = np.random.default_rng(5)
    m = 6
    frame = pd.DataFrame({"path": [tuple(rng.choice(list("abcdef"), int(rng.integers(1, 6)))) for _ in range(80)],
                          "converted": rng.random(80) < 0.3})
    frame = frame.groupby(["path", "converted"]).size().reset_index(name="n")
    codes, counts = P.transition_counts(frame, list("abcdef"))
    w = rng.multinomial(500, np.full(len(frame), 1 / len(frame)), size=7).astype(float)
    want = np.stack([one_counts(codes, counts, w[b], m) for b in range(7)])
    assert same(C.chain_counts(codes, counts, w, m), want)                 # the product (whole weights)
    half = w + 0.5                                                         # not whole: bincounts in the edges' order
    assert same(C.chain_counts(codes, counts, half, m), np.stack([one_counts(codes, counts, half[b], m) for b in range(7)]))
    monkeypatch.setattr(C, "MAX_BATCH_ELEMENTS", 10)                      # many edges: bincounts too
    assert same(C.chain_counts(codes, counts, w, m), want)
    masks = P._masks(frame, list("abcdef"))
    assert same(C.mask_counts(masks, w, m), np.stack([np.bincount(masks, weights=w[b], minlength=1 << m) for b in range(7)]))


# --------------------------------------------------------------------------- the bootstrap
def one_resample_at_a_time(paths, samples):
    """data_driven's point shares and 2.5/97.5 percentiles computed one resample at a time (the per-system way)."""
    folded, _ = P.fold_channels(paths.assign(n=1))
    channels = sorted({c for p in folded["path"] for c in p})
    m = len(channels)
    distinct = folded.groupby([folded["path"], folded["converted"]])["n"].sum().reset_index(name="n")
    codes, counts = P.transition_counts(distinct, channels)
    masks = P._masks(distinct, channels)
    conv = distinct["converted"].to_numpy(dtype=bool)
    weights = distinct["n"].to_numpy(dtype=float)

    def both(w):
        mk = one_markov(one_counts(codes, counts, w, m), m)
        sv = one_shapley(np.bincount(masks, weights=w, minlength=1 << m),
                         np.bincount(masks[conv], weights=w[conv], minlength=1 << m), m)
        return mk, sv / sv.sum()

    point = both(weights)
    rng = np.random.default_rng(P.SEED)
    boot = [[], []]
    for first in range(0, samples, P.BOOTSTRAP_CHUNK):
        for w in rng.multinomial(int(weights.sum()), weights / weights.sum(), size=min(P.BOOTSTRAP_CHUNK, samples - first)):
            for k, x in enumerate(both(w.astype(float))):
                boot[k].append(x)
    out = {}
    for name, shares, b in zip(("markov", "shapley"), point, boot):
        b = np.array(b)
        low, high = np.nanpercentile(b, 2.5, axis=0), np.nanpercentile(b, 97.5, axis=0)
        out[name] = {c: (float(shares[i]), float(low[i]), float(high[i])) for i, c in enumerate(channels)}
    return out


@pytest.mark.parametrize("seed, channels", [(11, "abcde"), (12, "abcdefghij")])
def test_bootstrap_equals_one_resample_at_a_time(seed, channels):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(300):
        path = tuple(rng.choice(list(channels), size=int(rng.integers(1, 5))))
        rows.append((i, path, bool(rng.random() < 0.2 + 0.3 * ("b" in path)), 100.0))
    paths = pd.DataFrame(rows, columns=["lead_id", "path", "converted", "revenue"])
    got = P.data_driven(paths, samples=120)
    want = one_resample_at_a_time(paths, 120)
    for name in ("markov", "shapley"):
        assert {c: (r["share"], r["low"], r["high"]) for c, r in got[name].items()} == want[name]
