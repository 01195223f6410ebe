"""The censoring-aware forecast of the shared goals (notebook 04) and its backtest: won count and won revenue expected
by a period's end, with 80% and 95% intervals, and the same forecast made in every past period against what happened.
Definitions: docs/glossary.md, "Shared goals".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.data.periods import Period, complete_periods
from helpers.metrics import goals_engine, season
from helpers.metrics.goals_constants import (BACKTEST_DAYS, BACKTEST_REFITS, BACKTEST_SIMULATIONS, INTERVAL_KEYS,
                                             LOOKBACK_DAYS, MIN_HISTORY_DAYS, RATE_DAYS, REFITS, SEED, SIMULATIONS)
from helpers.metrics.goals_targets import covered
from helpers.metrics.goals_engine import BLOCK_DAYS, CLOSING_BLOCKS, Cells  # CLOSING_BLOCKS: public here too
from helpers.metrics.pipeline import dates, day, outcome_is
from helpers.metrics.survival import cell_counts, incidence_from_counts, survival_from_counts


#: The least share of a simulation's values that must be finite numbers for its percentiles to stand (as
#: helpers.metrics.velocity_change's resamples): a refit without a known won amount has no revenue (NaN), and
#: percentiles over the rest describe what was simulated only while the rest is most of it.
MIN_FINITE_SHARE = 0.5

#: The reason of a bound left null by :func:`percentile_bounds` (too few finite simulated values).
TOO_FEW_FINITE = "too_few_finite_samples"


def percentile_bounds(samples: np.ndarray, point: float, level: int) -> tuple[float | None, float | None]:
    """The `level`% interval of a point estimate from simulated values: (low, high) = the (100 − level)/2 and
    100 − (100 − level)/2 percentiles of the finite values of `samples` (NaN and ±inf left out), each moved out to
    `point` when the point lies beyond it, so low <= point <= high always (floats); (None, None) when fewer than
    :data:`MIN_FINITE_SHARE` of the samples (or none) are finite (the reason :data:`TOO_FEW_FINITE`).

    Why: the point is the model's expected value (its parts add up: won so far + open + new) and the bounds are
    percentiles of the simulated totals. With few deals the totals are discrete and skewed: a 1.5% chance of one
    more won deal lifts the mean by that share of a deal while the 97.5th percentile stays on "no more win", so the
    mean fell outside its own central interval (docs/glossary.md, "Forecast"). Moving a bound out to the point only
    widens the interval: it holds the point and at least `level`% of the simulated totals."""
    samples = np.asarray(samples, dtype="float64")
    finite = samples[np.isfinite(samples)]
    if not finite.size or finite.size < MIN_FINITE_SHARE * samples.size:
        return None, None
    lo = float(np.percentile(finite, (100 - level) / 2))
    hi = float(np.percentile(finite, 100 - (100 - level) / 2))
    return min(lo, float(point)), max(hi, float(point))


def _interval(samples: np.ndarray, expected, levels=(80, 95)) -> dict:
    """{expected, low_80, high_80, low_95, high_95} from simulated values (:func:`percentile_bounds`: percentiles of
    the finite values, a bound moved out to the expected value when it lies beyond); all None when expected is None;
    the bounds None with ``null_reasons`` {bound: too_few_finite_samples} when too few simulated values are finite."""
    out = {"expected": None if expected is None else float(expected)}
    reasons = {}
    for level in levels:
        lo, hi = (None, None) if expected is None or len(samples) == 0 else percentile_bounds(samples, expected, level)
        out[f"low_{level}"], out[f"high_{level}"] = lo, hi
        if lo is None and expected is not None and len(samples):
            reasons.update(dict.fromkeys((f"low_{level}", f"high_{level}"), TOO_FEW_FINITE))
    return dict(out, null_reasons=reasons) if reasons else out


# --------------------------------------------------------------------------- opportunity history as known on a date
def opportunity_history(opps: pd.DataFrame, as_of, lookback_days: int = LOOKBACK_DAYS) -> pd.DataFrame:
    """Opportunities created in (as_of - lookback_days, as_of], as known on as_of.

    Columns: ``created_at``, ``duration`` (days from created_at to closed_at, or to as_of while
    open), ``event`` (1 won, 2 lost, 0 still open on as_of = censored), ``amount`` (NaN when
    unknown). A deal closed after as_of is open as far as as_of knows.
    """
    cutoff = day(as_of)
    created, closed = dates(opps, "created_at"), dates(opps, "closed_at")
    keep = (created <= cutoff) & (created > cutoff - pd.Timedelta(days=lookback_days))
    won = outcome_is(opps, "won") & (closed <= cutoff)
    lost = outcome_is(opps, "lost") & (closed <= cutoff)
    event = np.where(won, 1, np.where(lost, 2, 0))
    end = closed.where(won | lost, cutoff)
    amount = pd.to_numeric(opps["amount"], errors="coerce") if "amount" in opps.columns else pd.Series(np.nan, index=opps.index)
    frame = pd.DataFrame({"created_at": created, "duration": (end - created).dt.days.clip(lower=0),
                          "event": event, "amount": amount.astype("float64")}, index=opps.index)
    return frame[keep.to_numpy()].reset_index(drop=True)


def _window(period: Period, as_of) -> tuple[int, int]:
    """Days after as_of whose closes land in the period: [d1, d2] (d2 < d1 when nothing is left)."""
    cutoff = day(as_of)
    return max((period.start - cutoff).days, 1), (period.end - cutoff).days


def _open_win_prob(won_cif: np.ndarray, alive: np.ndarray, ages: np.ndarray, d1: int, d2: int) -> np.ndarray:
    """P(an open deal of age a wins between a + d1 and a + d2 | still open at a) = (F1(a+d2) - F1(a+d1-1)) / S(a); 0 when S(a) = 0."""
    if d2 < d1 or len(ages) == 0:
        return np.zeros(len(ages))
    num = won_cif[ages + d2] - won_cif[ages + d1 - 1]
    den = alive[ages]
    return np.clip(np.divide(num, den, out=np.zeros(len(ages)), where=den > 0), 0.0, 1.0)


def _new_win_prob(won_cif: np.ndarray, d1: int, d2: int) -> np.ndarray:
    """For a deal created k = 1..d2 days after as_of: P(it wins on a day in [d1, d2]) = F1(d2-k) - F1(d1-k-1)."""
    if d2 < 1 or d2 < d1:
        return np.zeros(0)
    k = np.arange(1, d2 + 1)
    lower = d1 - k - 1
    return won_cif[d2 - k] - np.where(lower >= 0, won_cif[np.clip(lower, 0, None)], 0.0)


def _curves(cells: Cells, counts: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    """(F_won, S) at days 0..days: Aalen-Johansen incidence of won (lost competing) and Kaplan-Meier survival of any
    close, from the history cells (:class:`helpers.metrics.goals_engine.Cells`: duration t, event e) each counted
    `counts` times (their rows, or a resample's): the counts per duration day, the days no row has left out."""
    e = cells.values["e"]
    times, leaving, closed, won = cell_counts(cells.values["t"], counts, e > 0, e == 1)
    return (incidence_from_counts(times, leaving, closed, won, days), survival_from_counts(times, leaving, closed, days))


def period_variation(hist: pd.DataFrame, as_of, season_index: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """How much the rates moved from one past period to the next: for each BLOCK_DAYS block counted back from as_of,
    its rates relative to their mean over the blocks, from the opportunity history (:func:`opportunity_history`).

    Returns numpy arrays, one value per block: ``creation`` = opportunities created in the block ÷ their mean (the
    blocks inside the history, the partial oldest one left out); ``win`` = deals won (closed) in the block ÷ their
    mean and ``deal`` = the mean amount of those won deals ÷ the mean over the blocks, over the newest
    CLOSING_BLOCKS blocks — a season's rush (a fiscal year-end that closes twice the deals) is one such block, unless
    `season_index` (count index, deal-size index per closing block: :func:`helpers.metrics.season.deseasonalise`)
    is given: each block's wins and deal size are then divided by its index first (seasonally adjusted), so the
    drift does not count again the season the forecast models. A single 1.0 when fewer than two blocks qualify (no
    variation can be read). Method: resampling whole past
    periods (a block bootstrap of period effects): the forecast draws one past period per simulation, so its
    interval holds the drift of the rates between periods, not only the sampling noise of one fixed rate.
    The forecast reads the same counts per block from the engine (:func:`variation_from_blocks`).
    """
    if hist.empty:
        return variation_from_blocks(np.zeros(0), {}, season_index)
    age = (day(as_of) - hist["created_at"]).dt.days.to_numpy()
    won = hist["event"].to_numpy() == 1
    closed_block = ((age - hist["duration"].to_numpy())[won]) // BLOCK_DAYS
    amount = hist["amount"].to_numpy(dtype=float)[won]
    known = ~np.isnan(amount)
    won_blocks = {int(b): (int((closed_block == b).sum()), float(amount[(closed_block == b) & known].sum()),
                           int(((closed_block == b) & known).sum())) for b in np.unique(closed_block)}
    return variation_from_blocks(np.bincount(age // BLOCK_DAYS).astype(float), won_blocks, season_index)


def variation_from_blocks(created: np.ndarray, won_blocks: dict, season_index=None) -> dict:
    """:func:`period_variation` from the counts per block: `created` (opportunities per block of age, blocks 0 to the
    oldest) and `won_blocks` ({closing block: (wins, sum of their known amounts, known amounts)})."""
    one = np.ones(1)
    if not len(created):
        return {"creation": one, "win": one, "deal": one}
    first_block = len(created) - 1
    creation = np.asarray(created[:first_block], dtype=float)   # the oldest block is partial
    creation = creation / creation.mean() if len(creation) >= 2 and creation.mean() > 0 else one
    blocks = [won_blocks.get(b, (0, 0.0, 0)) for b in range(min(CLOSING_BLOCKS, first_block))]
    wins = np.array([n for n, _, _ in blocks], dtype=float)
    if len(wins) < 2 or wins.mean() <= 0:
        return {"creation": creation, "win": one, "deal": one}
    sizes = np.array([total / known if known else np.nan for _, total, known in blocks])
    if season_index is not None:
        wins, sizes = wins / season_index[0][:len(wins)], sizes / season_index[1][:len(wins)]
    deal = sizes / np.nanmean(sizes) if np.isfinite(sizes).sum() >= 2 else np.ones(len(wins))
    return {"creation": creation, "win": wins / wins.mean(), "deal": np.where(np.isfinite(deal), deal, 1.0)}


def forecast(opps, period: Period, as_of, refits: int = REFITS, simulations: int = SIMULATIONS,
             seed: int = SEED, period_effects: bool = True, seasonal: bool = True, backend=None) -> dict | None:
    """Won count and won revenue expected by the period's end = won so far + open deals expected to win in the
    remaining days + deals from opportunities not yet created, with 80% and 95% intervals.

    Method: from the opportunities of the LOOKBACK_DAYS before as_of (:func:`opportunity_history`),
    F_won(t) is the Aalen-Johansen cumulative incidence of won by day t since creation (lost
    competing, open deals censored at as_of) and S(t) the Kaplan-Meier probability of being
    still open. An open deal of age a wins in the period with (F_won(a+d2) - F_won(a+d1-1)) / S(a)
    (closing days d1..d2 after as_of that fall in the period); its amount, or the mean won amount
    when unknown (parts ``open_deals_unpriced``: how many, ``mean_won_amount``: that amount, None without one; the
    report says it beside the figure). Opportunities not yet created arrive at the rate of the last RATE_DAYS days and
    win with F_won of their remaining days, at won amounts drawn from history. Intervals: the curves
    refitted on `refits` resamples of the history (opportunities with replacement, fixed `seed`),
    each followed by `simulations` draws of the outcomes (Bernoulli wins, Poisson new deals), each draw under
    the rates of one past period drawn whole (:func:`period_variation`: the creation rate, the win chances and
    the deal size scaled by that period's ratio to the pooled rate): percentiles of those totals. Without the
    period effects the interval holds only sampling noise and misses whenever rates drift (issue 24).
    Seasonal term (`seasonal`, :mod:`helpers.metrics.season`): the win chances of the remaining days and the deal
    size are scaled by those days' seasonal index, read from the same calendar days of past years against the year
    around them, each simulation drawing one past year and the index's sampling noise; the period effects are then
    read from seasonally adjusted past periods. Only a clear season is used (its 95% interval excludes 1; parts
    ``seasonal_clear``); when no past year is covered (``seasonal_years`` = 0) or the season is not clear the
    forecast has no seasonal term and the report says which. Returns ``{won_count, won_revenue: {expected, low_80,
    high_80, low_95, high_95}, parts: {...}}``; None when no opportunity was created in the lookback.

    `opps`: a pandas frame or an engine table (helpers.metrics.engine's canonical columns, e.g. a warehouse's); what it
    reads is counts per duration day and per block (:mod:`helpers.metrics.goals_engine`, one query on `backend`),
    and the bootstrap resamples those counts as it would the deals in a fixed order (same distribution).
    """
    hists, won = goals_engine.forecast_inputs(opps, [(period, as_of)], backend)
    return forecast_from(hists[0], won, period, as_of, refits, simulations, seed, period_effects, seasonal)


def forecast_from(h: goals_engine.History, won: goals_engine.Cells, period: Period, as_of, refits: int = REFITS,
                  simulations: int = SIMULATIONS, seed: int = SEED, period_effects: bool = True,
                  seasonal: bool = True) -> dict | None:
    """:func:`forecast` from the counts of its as_of (:func:`helpers.metrics.goals_engine.forecast_inputs`)."""
    cutoff = day(as_of)
    so_far_count, so_far_revenue = h.so_far
    d1, d2 = _window(period, as_of)
    parts = {"won_so_far_count": so_far_count, "won_so_far_revenue": so_far_revenue, "remaining_days": max(d2, 0)}
    if d2 < d1:   # the period is over on as_of: the forecast is what happened
        return _finished_period_forecast(so_far_count, so_far_revenue, parts)
    cells = h.cells
    if not cells.n.sum():
        return None
    ages = h.open.rows("age").astype(int)
    open_amount = h.open.rows("amt")   # a lost deal's placeholder 0 is unknown
    recent = cells.values["r"]
    grid = int(max(ages.max() if len(ages) else 0, 0) + d2 + 1)
    row_cell = np.repeat(np.arange(len(cells.n)), cells.n)   # the history's rows, in the cells' order
    row_amount = cells.rows("amt")
    known_won = (cells.rows("e") == 1) & ~np.isnan(row_amount)

    def model(counts: np.ndarray, won_amounts: np.ndarray):
        won_cif, alive = _curves(cells, counts, grid)
        mean_won = float(won_amounts.mean()) if len(won_amounts) else np.nan
        return (_open_win_prob(won_cif, alive, ages, d1, d2), _new_win_prob(won_cif, d1, d2),
                (counts * recent).sum() / RATE_DAYS, won_amounts, mean_won)

    wins = goals_engine.known_wins(won, h.first, as_of)
    factors = (season.same_days_factors(wins, cutoff + pd.Timedelta(days=d1), period.end) if seasonal
               else season.no_season())
    s_count, s_deal = season.point(factors)
    p_open, p_new, rate, won_amounts, mean_won = model(cells.n, row_amount[known_won])
    p_open, p_new = np.clip(p_open * s_count, 0.0, 1.0), np.clip(p_new * s_count, 0.0, 1.0)
    fill = np.where(np.isnan(open_amount), mean_won, open_amount)
    unpriced = int(np.isnan(open_amount).sum())   # counted at the mean won amount: the report says so beside it
    parts |= {"open_deals": int(len(ages)), "open_deals_unpriced": unpriced,
              "mean_won_amount": float(mean_won) if unpriced and not np.isnan(mean_won) else None,
              "open_expected_count": float(p_open.sum()),
              "open_expected_revenue": float(np.nansum(p_open * fill)) * s_deal,
              "new_expected_count": float(rate * p_new.sum()),
              "new_expected_revenue": float(rate * p_new.sum() * mean_won) * s_deal if len(won_amounts) else 0.0,
              "seasonal_years": factors["years"], "seasonal_clear": factors["clear"], "seasonal_days": factors["days"],
              "seasonal_count_index": factors["count"] if factors["years"] else None,
              "seasonal_count_low": factors["low"], "seasonal_count_high": factors["high"],
              "seasonal_deal_index": s_deal if factors["clear"] else None}
    expected_count = so_far_count + parts["open_expected_count"] + parts["new_expected_count"]
    expected_revenue = so_far_revenue + parts["open_expected_revenue"] + parts["new_expected_revenue"]

    rng = np.random.default_rng(seed)
    counts, revenues = [], []
    adjusted = season.deseasonalise(wins, as_of, BLOCK_DAYS, CLOSING_BLOCKS) if factors["clear"] else None
    drift = (variation_from_blocks(h.created, h.won_blocks, adjusted) if period_effects
             else {k: np.ones(1) for k in ("creation", "win", "deal")})
    for _ in range(refits):
        c, rev = _simulate_refit(rng, model, len(cells.n), row_cell, row_amount, known_won, open_amount, drift, factors,
                                 simulations, d2)
        counts.append(c + so_far_count)
        revenues.append(rev + so_far_revenue)
    return {"won_count": _interval(np.concatenate(counts), expected_count),
            "won_revenue": _interval(np.concatenate(revenues), expected_revenue),
            "parts": parts}


def _finished_period_forecast(so_far_count, so_far_revenue, parts: dict) -> dict:
    """The forecast of a period that is over on as_of: what was won, every interval bound equal to it, and no open
    or new deal expected."""
    flat = {"won_count": so_far_count, "won_revenue": so_far_revenue}
    out = {k: {key: float(v) for key in INTERVAL_KEYS} for k, v in flat.items()}
    out["parts"] = parts | {"open_expected_count": 0.0, "new_expected_count": 0.0,
                            "open_expected_revenue": 0.0, "new_expected_revenue": 0.0, "open_deals": 0,
                            "open_deals_unpriced": 0, "mean_won_amount": None}
    return out


def _simulate_refit(rng, model, n_cells: int, row_cell: np.ndarray, row_amount: np.ndarray, known_won: np.ndarray,
                    open_amount: np.ndarray, drift: dict, factors: dict, simulations: int, d2: int) -> tuple[np.ndarray, np.ndarray]:
    """One bootstrap refit of :func:`forecast_from` and its `simulations` draws: the history's rows resampled with
    replacement (each cell counted as often as its rows are drawn) and the model refitted (`model`: counts and won
    amounts -> win chances of the open deals and of a new deal by day, the creation rate, the won amounts, their
    mean); then per simulation one past period's drift (creation rate, win chances, deal size) and a season draw,
    the open deals' wins and the new deals' (Poisson count over the `d2` remaining days, each its day, win and
    amount). Returns the simulations' won counts and won revenues still to come, arrays of `simulations`."""
    n = len(row_cell)
    pick = rng.integers(0, n, n)   # the rows drawn: each cell counted as often as its rows are drawn
    p_o, p_n, r, w_amt, m_won = model(np.bincount(row_cell[pick], minlength=n_cells),
                                      row_amount[pick[known_won[pick]]])
    f = np.where(np.isnan(open_amount), m_won if np.isfinite(m_won) else 0.0, open_amount)
    # one past period per simulation: its creation rate, win chances and deal size relative to the pooled ones
    m_rate = drift["creation"][rng.integers(0, len(drift["creation"]), simulations)]
    past = rng.integers(0, len(drift["win"]), simulations)
    s_win, s_size = season.draw(factors, rng, simulations)
    m_win = drift["win"][past] * s_win
    m_deal = drift["deal"][past % len(drift["deal"])] * s_size
    c, rev = _open_wins(rng, p_o, f, m_win)
    rev *= m_deal
    n_new = rng.poisson(r * d2 * m_rate) if d2 > 0 else np.zeros(simulations, dtype=int)
    if len(p_n) and n_new.sum():   # every new deal of every simulation at once: its day, its win, its amount
        sim = _new_wins(rng, p_n, m_win, n_new)
        c += np.bincount(sim, minlength=simulations)
        if len(w_amt):
            amount_new = w_amt[rng.integers(0, len(w_amt), len(sim))] * m_deal[sim]
            rev += np.bincount(sim, weights=amount_new, minlength=simulations)
    return c, rev


#: Random numbers per block of :func:`_open_wins` and :func:`_new_wins` (512 KiB of float64: a block's temporaries
#: stay in the cache, where the whole arrays took hundreds of MiB per refit at 10M leads).
SIMULATION_BLOCK = 1 << 16


def _open_wins(rng, p_open: np.ndarray, amount: np.ndarray, m_win: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per simulation (one per value of `m_win`): how many open deals win and the sum of their amounts, each deal
    winning when a uniform number falls below its chance `p_open` × the simulation's `m_win` (clipped to [0, 1]).
    The numbers are those of one ``rng.random((simulations, deals))`` (rows in order), drawn and compared a block of
    rows at a time; each row's amounts are summed as the whole array's rows were (numpy's pairwise sum of a row), so
    the same bits. Returns (won counts as floats, won amounts), arrays of len(m_win)."""
    sims, deals = len(m_win), len(p_open)
    count, revenue = np.zeros(sims), np.zeros(sims)
    rows = max(1, SIMULATION_BLOCK // max(deals, 1))
    for at in range(0, sims, rows):
        block = slice(at, min(at + rows, sims))
        chance = np.clip(p_open[None, :] * m_win[block, None], 0.0, 1.0)
        won = rng.random(chance.shape) < chance
        count[block] = np.count_nonzero(won, axis=1)
        revenue[block] = np.multiply(won, amount, out=chance).sum(axis=1)
    return count, revenue


def _new_wins(rng, p_new: np.ndarray, m_win: np.ndarray, n_new: np.ndarray) -> np.ndarray:
    """The deals not yet created that win in the period: the simulation of each, in the order of the deals.
    Simulation s has n_new[s] new deals, each created on a day k drawn uniformly from the len(`p_new`) remaining days
    and winning when a uniform number falls below p_new[k] × m_win[s] (clipped to [0, 1]). Draws, in order: one
    uniform number per new deal, then one day per new deal, the same numbers as those two calls, the days drawn and
    compared a block of simulations at a time (about SIMULATION_BLOCK deals, at least one simulation)."""
    sims, days = len(n_new), len(p_new)
    chance = np.clip(p_new[None, :] * m_win[:, None], 0.0, 1.0).ravel()   # simulation s, day k at s × days + k
    ends = np.cumsum(n_new)
    uniform = rng.random(int(ends[-1]))
    won, first = [], 0
    while first < sims:   # the simulations [first, stop)
        start = int(ends[first] - n_new[first])
        stop = max(first + 1, int(np.searchsorted(ends, start + SIMULATION_BLOCK, side="right")))
        key = rng.integers(0, days, int(ends[stop - 1]) - start)
        key += np.repeat(np.arange(first * days, stop * days, days), n_new[first:stop])
        won.append(start + np.flatnonzero(uniform[start:start + len(key)] < chance[key]))
        first = stop
    return np.searchsorted(ends, np.concatenate(won), side="right")


# --------------------------------------------------------------------------- backtest
def backtest(opps, as_of, fiscal_year_start_month: int = 1, first_date=None,
             days_into=BACKTEST_DAYS, refits: int = BACKTEST_REFITS, simulations: int = BACKTEST_SIMULATIONS,
             seed: int = SEED, period_effects: bool = True, seasonal: bool = True, backend=None) -> dict:
    """The forecast of won revenue made `days_into` days into every past complete period, against what happened.

    Periods: complete on as_of (end <= as_of), with at least MIN_HISTORY_DAYS days of opportunities
    before the forecast date (start + days − 1). Each forecast sees only what was known on its date
    (:func:`opportunity_history` on that date). Returns {interval_coverage_95 (share of forecasts whose
    actual lies in the 95% interval), mean_absolute_error (mean |expected − actual|, currency), periods:
    [{period, days_into, forecast_date, expected, low_80, high_80, low_95, high_95, actual, last_year}]};
    last_year = won revenue of the same period a year earlier (None when the data does not cover it, :func:`covered`).
    Both summary figures are None without a forecast.

    `opps`: a pandas frame or an engine table; three queries on `backend` whatever the number of periods (the first
    created_at when `first_date` is None, the won revenue of every period, the counts of every forecast date).
    """
    table = goals_engine.table(opps)
    first = day(first_date) if first_date is not None else goals_engine.first_created(table, backend)
    jobs = backtest_jobs(first, as_of, fiscal_year_start_month, days_into)
    if jobs is None:
        return no_backtest()
    revenue = goals_engine.won_revenue(table, jobs.windows, as_of, backend)
    hists, won = goals_engine.forecast_inputs(table, jobs.dates, backend)
    return backtest_from(jobs, revenue, hists, won, refits, simulations, seed, period_effects, seasonal)


def no_backtest() -> dict:
    """The backtest without a forecast (a new dict)."""
    return {"interval_coverage_95": None, "mean_absolute_error": None, "periods": []}


@dataclass
class BacktestJobs:
    """What a backtest reads: ``periods`` (complete on as_of), ``years`` ({label: the period a year earlier, when the
    data covers it}), ``windows`` (the won-revenue windows: each period, then each year earlier), ``jobs`` ((period,
    days into it, forecast date) of each forecast) and ``dates`` ((period, forecast date): the forecasts' inputs)."""

    periods: list
    years: dict
    windows: list
    jobs: list

    @property
    def dates(self) -> list:
        return [(p, when) for p, _, when in self.jobs]


def backtest_jobs(first, as_of, fiscal_year_start_month: int = 1, days_into=BACKTEST_DAYS) -> BacktestJobs | None:
    """The :class:`BacktestJobs` of a backtest on as_of whose data starts on `first` (None when it is unknown)."""
    if first is None or pd.isna(first):
        return None
    first = day(first)
    periods = list(complete_periods(first, as_of, fiscal_year_start_month))
    years = {p.label: p.shift(-4) for p in periods if covered(first, p.shift(-4), "won_revenue")}
    windows = [(p.start, p.end) for p in periods] + [(ly.start, ly.end) for ly in years.values()]
    jobs = [(p, k, p.start + pd.Timedelta(days=k - 1)) for p in periods for k in days_into
            if (p.start + pd.Timedelta(days=k - 1) - first).days >= MIN_HISTORY_DAYS]
    return BacktestJobs(periods, years, windows, jobs)


def backtest_from(jobs: BacktestJobs, revenue: list, hists: list, won, refits: int = BACKTEST_REFITS,
                  simulations: int = BACKTEST_SIMULATIONS, seed: int = SEED, period_effects: bool = True,
                  seasonal: bool = True) -> dict:
    """:func:`backtest` from what it read: the won revenue of each of ``jobs.windows`` (in order) and the forecast
    inputs of ``jobs.dates`` (helpers.metrics.goals_engine.forecast_inputs: one History each, in order, and the won
    deals' cells of a date on or after the last of them)."""
    periods = jobs.periods
    truth = dict(zip([p.label for p in periods], revenue))
    last_year = dict(zip(jobs.years, revenue[len(periods):]))
    rows = []
    for (p, k, when), h in zip(jobs.jobs, hists):
        f = forecast_from(h, won, p, when, refits, simulations, seed, period_effects, seasonal)
        if f is not None:
            rows.append({"period": p.label, "days_into": k, "forecast_date": when, **f["won_revenue"],
                         "actual": truth[p.label], "last_year": last_year.get(p.label)})
    if not rows:
        return no_backtest()
    return {"interval_coverage_95": interval_coverage(rows, 95),
            "mean_absolute_error": float(np.mean([abs(r["expected"] - r["actual"]) for r in rows])),
            "periods": rows}


def interval_coverage(rows: list[dict], level: int) -> float | None:
    """The share of backtest `rows` whose actual lies in their `level`% interval, over the rows that have one (a
    forecast whose bounds are null, too few finite simulated values, is left out); None when none has."""
    inside = [r[f"low_{level}"] <= r["actual"] <= r[f"high_{level}"] for r in rows
              if r[f"low_{level}"] is not None and r[f"high_{level}"] is not None]
    return float(np.mean(inside)) if inside else None


def backtest_summary(bt: dict) -> dict:
    """Reading of a backtest: {forecasts, interval_coverage_80, interval_coverage_95, mean_absolute_error,
    last_year_mean_absolute_error (|last year − actual| over the rows having last year's figure),
    forecast_mean_absolute_error_same_rows, better_than_last_year (None when no row has last year's figure)}."""
    rows = bt["periods"]
    if not rows:
        return {"forecasts": 0, "interval_coverage_80": None, "interval_coverage_95": None, "mean_absolute_error": None,
                "last_year_mean_absolute_error": None, "forecast_mean_absolute_error_same_rows": None,
                "better_than_last_year": None}
    with_ly = [r for r in rows if r["last_year"] is not None]
    ly_mae = float(np.mean([abs(r["last_year"] - r["actual"]) for r in with_ly])) if with_ly else None
    f_mae = float(np.mean([abs(r["expected"] - r["actual"]) for r in with_ly])) if with_ly else None
    return {"forecasts": len(rows),
            "interval_coverage_80": interval_coverage(rows, 80),
            "interval_coverage_95": bt["interval_coverage_95"], "mean_absolute_error": bt["mean_absolute_error"],
            "last_year_mean_absolute_error": ly_mae, "forecast_mean_absolute_error_same_rows": f_mae,
            "better_than_last_year": None if ly_mae is None else bool(f_mae < ly_mae)}
