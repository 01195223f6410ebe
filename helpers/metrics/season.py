"""The seasonal term of the goals forecast (notebook 04): how the wins closed on the same calendar days in past
years compared with the year around them.

A forecast of the rest of a period (helpers.metrics.goals.forecast) learns its win chances from deal ages, which
know nothing of the calendar: a fiscal year-end rush (年度末, March) that closes twice the usual deals is invisible
to it. :func:`same_days_factors` measures, for the remaining days of the period, the seasonal index of classical
multiplicative decomposition (the observed value ÷ the level of the year around it; Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice*, 3rd ed., section 3.4 "Classical decomposition"), one per past year the data
cover, and its sampling uncertainty by resampling that year's won deals (the bootstrap of section 5.5 "Distributional
forecasts and prediction intervals"). Removing it from past periods before measuring their drift
(:func:`deseasonalise`) follows the same book's seasonally adjusted data (section 3.1) and its bootstrap of the
remainder after a decomposition (section 12.5, "Bootstrapping and bagging"; Bergmeir, Hyndman & Benítez 2016).
Definitions: docs/glossary.md, "Seasonal term of the forecast".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.metrics.pipeline import dates, day, outcome_is

#: The reference level of a past window: the wins closed in a year (this many days) around it.
YEAR_DAYS = 365
#: Closes of the data's first days under-count (deals created before the data began are missing): a reference year
#: starts at least this many days after the first opportunity (the same warm-up as last-year goals, goals.WARMUP_DAYS).
WARMUP_DAYS = 180
#: Past years looked at (the newest first).
MAX_YEARS = 5
#: The index of fewer remaining days is read over this many days ending on the same last day (the last few days of a
#: quarter hold too few wins to say anything alone).
MIN_DAYS = 30


def known_wins(opps: pd.DataFrame, as_of) -> dict:
    """The won deals known on as_of, for :func:`same_days_factors`: {closed (numpy datetime64[D], sorted), amount
    (float, NaN when unknown), covered_from (the first day a reference year may start: the first opportunity's
    created_at + WARMUP_DAYS; NaT without opportunities), known_until (as_of's day)}."""
    cutoff = day(as_of)
    created, closed = dates(opps, "created_at"), dates(opps, "closed_at")
    won = (outcome_is(opps, "won") & (closed <= cutoff)).to_numpy()
    amount = pd.to_numeric(opps["amount"], errors="coerce") if "amount" in opps.columns else pd.Series(np.nan, index=opps.index)
    first = created[created <= cutoff].min()
    order = np.argsort(closed.to_numpy()[won], kind="stable")
    return {"closed": closed.to_numpy()[won].astype("datetime64[D]")[order],
            "amount": amount.to_numpy(dtype=float)[won][order],
            "covered_from": pd.NaT if pd.isna(first) else first + pd.Timedelta(days=WARMUP_DAYS),
            "known_until": cutoff}


def _reference_year(start: pd.Timestamp, end: pd.Timestamp, covered_from, known_until) -> tuple | None:
    """The YEAR_DAYS days around [start, end]: centred on it when the data allow, else the nearest covered, known
    year that still holds it; None when no such year exists."""
    length = (end - start).days + 1
    if pd.isna(covered_from) or length > YEAR_DAYS or start < covered_from or end > known_until:
        return None
    ref_start = start + pd.Timedelta(days=(length - 1) // 2 - YEAR_DAYS // 2)
    ref_start = max(ref_start, covered_from)
    ref_start = min(ref_start, known_until - pd.Timedelta(days=YEAR_DAYS - 1))
    ref_end = ref_start + pd.Timedelta(days=YEAR_DAYS - 1)
    if ref_start < covered_from or ref_start > start or ref_end < end:
        return None
    return ref_start, ref_end


def same_days_factors(wins: dict, start, end) -> dict:
    """Seasonal index of the days [start, end] from the same calendar days of past years (:func:`known_wins`); fewer
    than MIN_DAYS days are read as the MIN_DAYS days ending on `end`.

    For each past year k = 1..MAX_YEARS whose shifted days [start − k years, end − k years] and a reference year
    around them (:func:`_reference_year`: YEAR_DAYS days, centred when possible) lie in covered, known data, with
    N_k wins closed in the reference year and n_k of them on the shifted days. Pooled over the years read (n = Σ n_k,
    N = Σ N_k, share of days s = days / YEAR_DAYS): ``count`` = ((n + ½) / (N + 1)) ÷ s (1 = an ordinary stretch of
    the year; 2 = twice its share of the year's wins), the share taken as the mean of its Jeffreys posterior
    Beta(n + ½, N − n + ½) (Brown, Cai & DasGupta, *Interval Estimation for a Binomial Proportion*, Statistical
    Science 2001: never 0 when no win fell on those days), ``low`` / ``high`` = its 2.5% / 97.5% quantiles ÷ s, and
    ``deal`` = the mean known amount of the n wins ÷ the mean known amount of the N (1 without amounts).
    ``clear`` = the interval lies wholly above or below 1: only then is there a season to model (a one-off swing of
    drifting rates is not a season; the forecast's period effects hold it). Returns {count, low, high, deal, clear,
    years, days (the days read), samples (per year: whether each of its N wins lies on the days, their amounts, s)}; years = 0, count 1
    and clear False when no year qualifies or no win closed in a reference year (the forecast then has no seasonal
    term and says so).
    """
    from scipy.stats import beta

    start, end = day(start), day(end)
    start = min(start, end - pd.Timedelta(days=MIN_DAYS - 1))
    samples = []
    for k in range(1, MAX_YEARS + 1):
        shifted = (start - pd.DateOffset(years=k), end - pd.DateOffset(years=k))
        if pd.isna(wins["covered_from"]) or shifted[0] < wins["covered_from"]:
            break   # older years lie before the covered data too
        ref = _reference_year(*shifted, wins["covered_from"], wins["known_until"])
        if ref is None:
            continue
        lo, hi = np.searchsorted(wins["closed"], np.array([ref[0], ref[1] + pd.Timedelta(days=1)], dtype="datetime64[D]"))
        closed, amount = wins["closed"][lo:hi], wins["amount"][lo:hi]
        if len(closed):
            inside = (closed >= np.datetime64(shifted[0].date())) & (closed <= np.datetime64(shifted[1].date()))
            samples.append((inside, amount, ((shifted[1] - shifted[0]).days + 1) / YEAR_DAYS))
    days = (end - start).days + 1
    if not samples:
        return no_season(days)
    inside = np.concatenate([x[0] for x in samples])
    amount = np.concatenate([x[1] for x in samples])
    n, total, share = int(inside.sum()), len(inside), samples[0][2]
    low, high = (float(q) / share for q in beta.ppf([0.025, 0.975], n + 0.5, total - n + 0.5))
    return {"count": (n + 0.5) / (total + 1) / share, "low": low, "high": high,
            "deal": float(_deal_ratio(inside, amount, [np.arange(len(inside))[None, :]])[0]), "clear": bool(low > 1 or high < 1),
            "years": len(samples), "days": days, "samples": samples}


def no_season(days: int = 0) -> dict:
    """The :func:`same_days_factors` result of no past year read: index 1, no interval, not clear."""
    return {"count": 1.0, "low": None, "high": None, "deal": 1.0, "clear": False, "years": 0, "days": days, "samples": []}


def _deal_ratio(inside: np.ndarray, amount: np.ndarray, picks) -> np.ndarray:
    """Per row of the positions `picks` (an iterable of int arrays rows × positions, in order): the mean known amount
    of the picked wins inside ÷ the mean known amount of the picked wins; 1.0 when either is unknown. ``inside`` and
    ``amount`` are per win (bool, float with NaN when unknown). The per-win terms are computed once and then picked
    (a row adds the same values in the same order as the terms of the picked wins computed afresh: the same bits);
    one row of every position in order is the ratio of the wins as they are."""
    known = ~np.isnan(amount)
    values = np.where(known, amount, 0.0)
    inside_known, inside_values, all_known = inside & known, values * inside, known.all()
    out = []
    for pick in picks:
        n_in = np.count_nonzero(inside_known[pick], axis=1)
        n_all = np.full(len(pick), len(amount)) if all_known else np.count_nonzero(known[pick], axis=1)
        mean_in = np.divide(inside_values[pick].sum(axis=1), n_in, out=np.full(len(n_in), np.nan), where=n_in > 0)
        mean_all = np.divide(values[pick].sum(axis=1), n_all, out=np.full(len(n_all), np.nan), where=n_all > 0)
        ratio = np.divide(mean_in, mean_all, out=np.full(len(n_in), np.nan), where=mean_all > 0)
        out.append(np.where(np.isfinite(ratio), ratio, 1.0))
    return np.concatenate(out) if out else np.ones(0)


def point(factors: dict) -> tuple[float, float]:
    """(count index, deal-size index) of :func:`same_days_factors` when its season is clear, else (1, 1)."""
    return (float(factors["count"]), float(factors["deal"])) if factors["clear"] else (1.0, 1.0)


def draw(factors: dict, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """`size` draws of (count index, deal-size index) when the season is clear (else ones): each draw takes one year
    read at random, its share of wins from the Jeffreys posterior Beta(n_k + ½, N_k − n_k + ½) and its deal size from
    its reference year's wins resampled with replacement (the spread of the index between years and its sampling
    uncertainty). A year's resamples are drawn a block of RESAMPLE_BLOCK positions at a time: the same numbers as one
    (draws, N_k) array of positions (the generator fills its rows in order), without its temporaries."""
    if not factors["clear"]:
        return np.ones(size), np.ones(size)
    year = rng.integers(0, factors["years"], size)
    count, deal = np.ones(size), np.ones(size)
    for k, (inside, amount, share) in enumerate(factors["samples"]):
        rows = np.flatnonzero(year == k)
        if len(rows) == 0:
            continue
        n = int(inside.sum())
        count[rows] = rng.beta(n + 0.5, len(inside) - n + 0.5, len(rows)) / share
        deal[rows] = _deal_ratio(inside, amount, resamples(rng, len(inside), len(rows)))
    return count, deal


#: Positions per block of :func:`resamples` (512 KiB of int64: the block and its picked values stay in the cache).
RESAMPLE_BLOCK = 1 << 16


def resamples(rng: np.random.Generator, n: int, draws: int):
    """`draws` resamples with replacement of n positions, as blocks of rows (each at most RESAMPLE_BLOCK positions, at
    least one row): the rows of ``rng.integers(0, n, (draws, n))`` in order, the same numbers (numpy's bounded integers
    are drawn one after another from the generator's stream, whatever the calls' shapes)."""
    rows = max(1, RESAMPLE_BLOCK // max(n, 1))
    for at in range(0, draws, rows):
        yield rng.integers(0, n, (min(rows, draws - at), n))


def deseasonalise(wins: dict, as_of, block_days: int, blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """(count index, deal-size index) of each of the `blocks` past blocks of `block_days` days counted back from as_of
    (block 0 ends on as_of), from the same days of the years before it (:func:`same_days_factors`, :func:`point`);
    1.0 for a block without a clear season. Dividing a block's wins by its index leaves the drift without the season."""
    cutoff = day(as_of)
    count, deal = np.ones(blocks), np.ones(blocks)
    for b in range(blocks):
        end = cutoff - pd.Timedelta(days=b * block_days)
        c, d = point(same_days_factors(wins, end - pd.Timedelta(days=block_days - 1), end))
        count[b], deal[b] = c, d
    return count, deal
