"""The data-driven attribution's arithmetic for a batch of resamples at once (helpers.metrics.attribution_paths):
Markov removal effects and Shapley values of B weightings of the same distinct paths, with arrays of shape (B, ...)
instead of one Python loop per resample and per removed channel.

Every result is bit for bit the one of the per-resample computation (tests/test_attribution_chains.py): the same
elementwise operations, the same sums (each reduced along a row's contiguous last axis, as the per-resample 1-D sums
are), bincounts accumulating in the same order, and each absorbing chain solved by the same LAPACK least-squares
routine that ``numpy.linalg.lstsq`` calls (gelsd, through its stacked gufunc), with lstsq's own rcond, so that a
singular system gets lstsq's minimum-norm solution as before.

- :func:`chain_counts`: the (B, m+3, m+3) transition count matrices of B weightings of the paths' edges.
- :func:`markov_batch`: the shares (B, m) of the Markov removal effects (NaN rows where undefined).
- :func:`mask_counts`, :func:`shapley_batch`: paths and converted paths per channel set, and the Shapley values (B, m).
"""
from __future__ import annotations

import functools
import math

import numpy as np

#: Most elements (about 16 MB of float64) of the (paths × cells) edge matrix of :func:`chain_counts` and of one
#: (resamples × paths) weight array of :func:`mask_counts`: beyond, the counts are made in smaller steps.
MAX_BATCH_ELEMENTS = 2_000_000


def chain_counts(codes: np.ndarray, counts: np.ndarray, weights: np.ndarray, m: int) -> np.ndarray:
    """Transition count matrices (B, m+3, m+3), float, of B weightings of the distinct paths.

    `codes`: (edges, 3) int array of (path index, from state, to state), states 0 = start, 1..m = channels, m+1 =
    conversion, m+2 = null (helpers.metrics.attribution_paths.transition_counts); `counts`: (edges,) multiplicity of
    each edge in its path; `weights`: (B, paths) how many times each distinct path is counted in each weighting.
    Whole-number weights (counts of leads, resampled counts) make every cell a sum of whole numbers, exact in any
    order: then one product with the (paths × cells) edge matrix when it is small (numpy's einsum loop); otherwise one
    bincount per weighting, each cell summing its edges in the edges' order, as before the batching."""
    size = m + 3
    cells = size * size
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    b, paths = weights.shape
    flat = codes[:, 1] * size + codes[:, 2]
    if paths * cells <= MAX_BATCH_ELEMENTS and _whole(weights, counts):
        edges = np.zeros((paths, cells))
        edges[codes[:, 0], flat] = counts   # (path, cell) pairs are distinct (transition_counts groups them)
        # einsum's own loop, not BLAS: a threaded BLAS spins both cores of a busy machine for a product this small
        return np.einsum("bp,pc->bc", weights, edges).reshape(b, size, size)
    # many edges: one bincount per weighting (a (weightings × edges) array would cost more memory traffic than it saves)
    return np.stack([np.bincount(flat, weights=counts * w[codes[:, 0]], minlength=cells) for w in weights]
                    ).reshape(b, size, size)


def _whole(weights: np.ndarray, counts: np.ndarray) -> bool:
    """Every weight and count a whole number, and every possible cell sum below 2**53 (so exactly representable)."""
    if not (np.all(weights == np.floor(weights)) and np.all(weights >= 0)):
        return False
    top = float(np.max(weights.sum(axis=-1), initial=0.0)) * float(np.max(counts, initial=0))
    return top < 2.0 ** 53


def _transitions(counts: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(q, r) of B chains with transition `counts` (B, m+3, m+3): the transition probabilities among the m+1
    transient states (start and the channels), (B, m+1, m+1), and from each of them into conversion, (B, m+1)."""
    transient = m + 1
    rows = np.ascontiguousarray(counts[:, :transient], dtype=float)
    total = rows.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(total > 0, rows / np.where(total > 0, total, 1), 0.0)
    return p[:, :, :transient], p[:, :, m + 1]


@functools.lru_cache(maxsize=32)
def _kept(m: int) -> np.ndarray:
    """(m+1, m+1, m+1) bool: entry [k, i, j] of chain variant k keeps q[i, j]; variant 0 is the chain itself and
    variant k ≥ 1 removes state k (its row and column: moving into it ends in null, and it leads nowhere)."""
    n = m + 1
    k = np.arange(n)[:, None, None]
    i, j = np.arange(n)[None, :, None], np.arange(n)[None, None, :]
    kept = (k == 0) | ((i != k) & (j != k))
    kept.flags.writeable = False
    return kept


def _raise_lstsq(err, flag):
    raise np.linalg.LinAlgError("SVD did not converge in Linear Least Squares")


def lstsq_stack(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x (..., n) with x[i] = ``numpy.linalg.lstsq(a[i], b[i], rcond=None)[0]`` for each square system of the stack
    `a` (..., n, n), `b` (..., n): the same LAPACK routine (gelsd) and rcond (eps × n), through the stacked gufunc
    numpy's lstsq itself calls, so each solution is bit for bit lstsq's, a singular system's included (its
    minimum-norm least-squares solution). LinAlgError when the SVD does not converge, as lstsq."""
    n = a.shape[-1]
    solve = getattr(getattr(np.linalg, "_umath_linalg", None), "lstsq", None)
    if solve is None or n == 0:   # a numpy without the gufunc: lstsq itself, one system at a time
        flat_a, flat_b = a.reshape(-1, n, n), b.reshape(-1, n)
        x = [np.linalg.lstsq(flat_a[i], flat_b[i], rcond=None)[0] for i in range(len(flat_a))]
        return np.array(x, dtype=float).reshape(b.shape)
    rcond = np.finfo(np.float64).eps * n
    with np.errstate(call=_raise_lstsq, invalid="call", over="ignore", divide="ignore", under="ignore"):
        x = solve(a.astype(float), b.astype(float)[..., None], rcond, signature="ddd->ddid")[0]
    return x[..., 0]


def absorbed(counts: np.ndarray, m: int) -> np.ndarray:
    """P(reach conversion from start) of each chain (column 0) and of each chain with channel k removed (column k),
    shape (B, m+1), from transition `counts` (B, m+3, m+3)."""
    q, r = _transitions(counts, m)
    kept = _kept(m)
    n = m + 1
    a = np.eye(n) - np.where(kept[None], q[:, None], 0.0)   # (B, variants, n, n)
    rhs = np.where(np.eye(n, dtype=bool)[None] & (np.arange(n)[:, None] > 0)[None], 0.0, r[:, None, :])
    return lstsq_stack(a, rhs)[:, :, 0]


def markov_batch(counts: np.ndarray, m: int) -> np.ndarray:
    """Shares (B, m) of the removal effects 1 − P(conversion without c) / P(conversion), clipped at 0 and scaled to
    add up to 1, of B chains with transition `counts` (B, m+3, m+3); a row is NaN where conversion or every removal
    effect is 0 (undefined)."""
    p = absorbed(counts, m)
    base = p[:, 0]
    defined = base > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        effects = 1.0 - p[:, 1:] / np.where(defined, base, 1.0)[:, None]
    effects = np.ascontiguousarray(np.clip(effects, 0.0, None))   # rows contiguous: each row's pairwise sum
    total = effects.sum(axis=-1)
    defined &= total > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = effects / np.where(defined, total, 1.0)[:, None]
    shares[~defined] = np.nan
    return shares


# --------------------------------------------------------------------------- Shapley
def mask_counts(masks: np.ndarray, weights: np.ndarray, m: int) -> np.ndarray:
    """(B, 2**m) weighted count of the paths per channel set: `masks` (paths,) each path's set as a bit mask,
    `weights` (B, paths); each cell sums its paths in their order (one bincount), as one weighting's bincount does."""
    weights = np.atleast_2d(weights)
    width = 1 << m
    out = np.empty((len(weights), width))
    step = max(1, MAX_BATCH_ELEMENTS // max(len(masks), 1))
    for first in range(0, len(weights), step):
        w = weights[first:first + step]
        index = (np.arange(len(w))[:, None] * width + masks[None, :]).ravel()
        out[first:first + step] = np.bincount(index, weights=w.ravel(), minlength=len(w) * width).reshape(len(w), width)
    return out


def subset_sums(values: np.ndarray, m: int) -> np.ndarray:
    """F[:, S] = sum of values[:, T] over the subsets T of S (the zeta transform over m bits), for each row of
    `values` (B, 2**m). Step i adds each set without bit i to the same set with it: on a (B, high, 2, low) view of
    the masks, the slice with bit i set gets the slice without it (the same additions as indexing by masks)."""
    f = np.array(values, dtype=float)
    for i in range(m):
        view = f.reshape(len(f), -1, 2, 1 << i)
        view[:, :, 1, :] += view[:, :, 0, :]
    return f


@functools.lru_cache(maxsize=32)
def _shapley_weights(m: int) -> tuple[np.ndarray, ...]:
    """Per channel i of m: the Shapley weight |S|!(m-|S|-1)!/m! of each set S without i, in increasing order of S;
    the same for every resample of the bootstrap, so computed once per m (read-only arrays)."""
    masks = np.arange(1 << m)
    size = np.array([bin(s).count("1") for s in masks])
    weight = np.array([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) if s < m else 0.0
                       for s in range(m + 1)])
    out = []
    for i in range(m):
        w = weight[size[masks[(masks >> i) & 1 == 0]]]
        w.flags.writeable = False
        out.append(w)
    return tuple(out)


def shapley_batch(paths_n: np.ndarray, conv_n: np.ndarray, m: int) -> np.ndarray:
    """Shapley values (B, m) of v(S) = converted / paths over the paths whose channel set ⊆ S (0 when no path is,
    v(∅) = 0), from per-mask counts `paths_n`, `conv_n` (B, 2**m); a row is NaN where v(all channels) = 0.

    Channel i's value sums w(S) (v(S ∪ i) − v(S)) over the sets S without i in increasing order (one pairwise sum
    per row): on a (B, high, 2, low) view of the masks, the slices without and with bit i."""
    n_sub, c_sub = subset_sums(paths_n, m), subset_sums(conv_n, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(n_sub > 0, c_sub / np.where(n_sub > 0, n_sub, 1), 0.0)
    v[:, 0] = 0.0
    b = len(v)
    out = np.empty((b, m))
    for i, w in enumerate(_shapley_weights(m)):
        view = v.reshape(b, -1, 2, 1 << i)
        terms = w * (view[:, :, 1, :] - view[:, :, 0, :]).reshape(b, -1)   # rows contiguous: each row's pairwise sum
        out[:, i] = terms.sum(axis=-1)
    out[v[:, (1 << m) - 1] <= 0] = np.nan
    return out
