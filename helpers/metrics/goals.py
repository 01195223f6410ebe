"""Shared goals (notebook 04): targets, progress, a censoring-aware forecast and its backtest,
pipeline coverage and the reverse funnel (受注目標からの逆算); plus the censoring-aware cohort
projection and median sales cycle that notebook 02 shows.

Survival estimates come from lifelines (Davidson-Pilon, *lifelines: survival analysis in
Python*, JOSS 2019): ``KaplanMeierFitter`` and ``AalenJohansenFitter`` (the Aalen-Johansen
cumulative incidence of one outcome with the others competing; Aalen & Johansen 1978). Nothing
here re-implements an estimator. Every figure is a plain Python value (None when undefined);
intervals are percentile intervals of a bootstrap over opportunities (or leads) with a fixed
seed, so the same data give the same numbers. Definitions: docs/glossary.md, "Shared goals".
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from helpers.data.periods import Period, complete_periods
from helpers.data.schema import DEFAULT_DEPARTMENT, TARGET_METRICS
from helpers.metrics import season
from helpers.metrics.funnel import _ids, funnel_cohort, funnel_period, linked_pairs
from helpers.metrics.pipeline import (closed_mask, dates, day, open_amounts, open_mask, outcome_is, pipeline_metrics,
                                      ratio)

#: History used for the survival curves, the creation rate and the rates: opportunities / leads
#: created in the LOOKBACK_DAYS before as_of.
LOOKBACK_DAYS = 730
#: Trailing window for the win rate, average deal, opportunity creation rate and lead mix.
RATE_DAYS = 365
#: A lead not converted within this many days is taken as never converting (projection horizon).
HORIZON_DAYS = 365
#: Refits of the survival curves on resampled history, and outcome simulations per refit.
REFITS = 50
SIMULATIONS = 40
#: Backtest: forecasts made this many days into each past period; refits per backtest forecast.
BACKTEST_DAYS = (30, 60)
BACKTEST_REFITS = 10
BACKTEST_SIMULATIONS = 100
#: A backtest whose 95% intervals hold the actual less often than this is said to be too narrow in the report.
COVERAGE_AIM = 0.90
#: A forecast needs this many days of opportunity history before its as_of (else it is not made).
MIN_HISTORY_DAYS = 365
#: Won deals of a period count as "last year's figure" only when the period starts this many days after the
#: first opportunity: earlier, deals created before the data began are missing (pipeline warm-up).
WARMUP_DAYS = 180
WON_METRICS = ("won_revenue", "won_count")
SEED = 20260401
#: A won_revenue goal below 1/IMPLAUSIBLE_RATIO of the same period's won revenue a year earlier is not a plan but a
#: unit slip (a goal typed in 千円 or 万円): a plausibility note (docs/glossary.md, "Decisions ... (goals)").
IMPLAUSIBLE_RATIO = 100
#: The slips a note names: the power of ten a goal typed in a larger unit is short by -> the unit (variant of the
#: warning ``target_unit_suspect``); 万 (10^4) only for the currencies whose amounts are read in 万.
UNIT_SLIPS = {3: "thousand", 4: "ten_thousand", 6: "million"}
TEN_THOUSAND_CURRENCIES = frozenset({"JPY", "CNY", "TWD", "HKD", "KRW"})

INTERVAL_KEYS = ("expected", "low_80", "high_80", "low_95", "high_95")
FUNNEL_STEPS = ("won_count", "opportunities", "sqls", "mqls", "leads")


# --------------------------------------------------------------------------- survival primitives (lifelines)
def _step_values(frame: pd.DataFrame, days: int, before: float) -> np.ndarray:
    """A lifelines step function (index = time) at whole days 0..days: the value after all events of that day
    (the last one at a time <= t + 0.5)."""
    times = frame.index.to_numpy(dtype=float)
    values = frame.iloc[:, 0].to_numpy(dtype=float)
    pos = np.searchsorted(times, np.arange(days + 1) + 0.5, side="right") - 1
    return np.where(pos >= 0, values[np.clip(pos, 0, None)], before)


def cumulative_incidence(durations, events, event_of_interest: int = 1, days: int | None = None) -> np.ndarray:
    """Aalen-Johansen cumulative incidence F_k(t) = P(outcome k by day t) at days 0..days.

    `durations`: whole days to the outcome or to censoring (>= 0); `events`: 0 = censored, 1, 2, ...
    = the outcome (every other non-zero code competes with `event_of_interest`). Returns a float
    array of length days + 1 (days defaults to the longest duration). Raises ValueError on empty input.

    Method: the Aalen-Johansen estimator on the counts per distinct day u (Aalen & Johansen 1978;
    Kalbfleisch & Prentice, The Statistical Analysis of Failure Time Data, 2nd ed., section 8.2):
    F_k(t) = sum over u <= t of S(u-) d_k(u) / n(u), with n(u) the rows still at risk on day u
    (duration >= u, so a row censored on day u is at risk on u), d_k(u) the outcomes k on day u and
    S(u-) the Kaplan-Meier probability of no outcome before u. Ties need no jitter: every outcome k
    of a tied day adds S(u-) / n(u) in whatever order the ties are taken, so this equals lifelines'
    AalenJohansenFitter on untied data (tests/test_goals.py) and costs one grouped count instead of
    lifelines' recursive jittering, which exhausts memory on millions of tied whole-day durations.
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=int)
    if len(t) == 0:
        raise ValueError("cumulative_incidence needs at least one observation")
    days = int(t.max()) if days is None else int(days)
    if not (e == event_of_interest).any():
        return np.zeros(days + 1)
    times, inverse = np.unique(t, return_inverse=True)
    leaving = np.bincount(inverse, minlength=len(times))
    at_risk = len(t) - np.concatenate(([0], np.cumsum(leaving)[:-1]))
    outcomes = np.bincount(inverse, weights=(e > 0), minlength=len(times))
    of_interest = np.bincount(inverse, weights=(e == event_of_interest), minlength=len(times))
    survival_before = np.concatenate(([1.0], np.cumprod(1.0 - outcomes / at_risk)[:-1]))
    cif = np.cumsum(survival_before * of_interest / at_risk)
    pos = np.searchsorted(times, np.arange(days + 1) + 0.5, side="right") - 1
    return np.where(pos >= 0, cif[np.clip(pos, 0, None)], 0.0)


def survival_curve(durations, observed, days: int | None = None) -> np.ndarray:
    """Kaplan-Meier S(t) = P(no event by day t) at days 0..days (lifelines KaplanMeierFitter); `observed` False = censored."""
    from lifelines import KaplanMeierFitter

    t = np.asarray(durations, dtype=float)
    if len(t) == 0:
        raise ValueError("survival_curve needs at least one observation")
    days = int(t.max()) if days is None else int(days)
    fitter = KaplanMeierFitter().fit(t, event_observed=np.asarray(observed, dtype=bool))
    return _step_values(fitter.survival_function_, days, 1.0)


def km_median(durations, observed) -> float | None:
    """Kaplan-Meier median time (lifelines' median_survival_time_); None when the curve never falls to 0.5 or there is no row."""
    from lifelines import KaplanMeierFitter

    t = np.asarray(durations, dtype=float)
    if len(t) == 0:
        return None
    median = float(KaplanMeierFitter().fit(t, event_observed=np.asarray(observed, dtype=bool)).median_survival_time_)
    return None if not np.isfinite(median) else median


def _interval(samples: np.ndarray, expected, levels=(80, 95)) -> dict:
    """{expected, low_80, high_80, low_95, high_95} from simulated values (percentiles); all None when expected is None."""
    out = {"expected": None if expected is None else float(expected)}
    for level in levels:
        lo, hi = (None, None) if expected is None or len(samples) == 0 else \
            (float(np.percentile(samples, (100 - level) / 2)), float(np.percentile(samples, 100 - (100 - level) / 2)))
        out[f"low_{level}"], out[f"high_{level}"] = lo, hi
    return out


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


def _curves(hist: pd.DataFrame, days: int) -> tuple[np.ndarray, np.ndarray]:
    """(F_won, S) at days 0..days: Aalen-Johansen incidence of won (lost competing) and Kaplan-Meier survival of any close."""
    t, e = hist["duration"].to_numpy(), hist["event"].to_numpy()
    return cumulative_incidence(t, e, 1, days), km_survival(t, e > 0, days)


def km_survival(durations, observed, days: int) -> np.ndarray:
    """:func:`survival_curve` computed without lifelines' fitter: the same values, bit for bit, at a fraction of the cost
    (the forecast fits it once per resample: 220 fits a report on the sample).

    lifelines' KaplanMeierFitter (without entry times or weights) sums log(n - d) - log(n) over the distinct times in
    order (n at risk, d events; a time without events adds exactly 0) and takes exp; this does the same sums in the
    same order over the same counts. Float array of length days + 1; ValueError on empty input."""
    t = np.asarray(durations, dtype=float)
    if len(t) == 0:
        raise ValueError("survival_curve needs at least one observation")
    times, inverse = np.unique(t, return_inverse=True)
    leaving = np.bincount(inverse, minlength=len(times))
    at_risk = (len(t) - np.concatenate(([0], np.cumsum(leaving)[:-1]))).astype(float)
    deaths = np.bincount(inverse, weights=np.asarray(observed, dtype=bool), minlength=len(times))
    with np.errstate(divide="ignore", invalid="ignore"):
        surviving = np.exp(np.cumsum(np.log(at_risk - deaths) - np.log(at_risk)))
    pos = np.searchsorted(times, np.arange(int(days) + 1) + 0.5, side="right") - 1
    return np.where(pos >= 0, surviving[np.clip(pos, 0, None)], 1.0)


#: Past periods (blocks of this many days back from as_of) whose rates give the period-to-period variation.
BLOCK_DAYS = 91
#: Closing blocks used: the newest ones whose closes the lookback holds in full (a deal closed in an older block may
#: have been created before the lookback began).
CLOSING_BLOCKS = 6


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
    """
    one = np.ones(1)
    if hist.empty:
        return {"creation": one, "win": one, "deal": one}
    cutoff = day(as_of)
    age = (cutoff - hist["created_at"]).dt.days.to_numpy()
    block = age // BLOCK_DAYS
    first_block = int(block.max())
    creation = np.array([(block == b).sum() for b in range(first_block)], dtype=float)   # the oldest block is partial
    creation = creation / creation.mean() if len(creation) >= 2 and creation.mean() > 0 else one
    won = hist["event"].to_numpy() == 1
    closed_age = (age - hist["duration"].to_numpy())[won]
    closed_block = closed_age // BLOCK_DAYS
    amount = hist["amount"].to_numpy(dtype=float)[won]
    blocks = range(min(CLOSING_BLOCKS, first_block))
    wins = np.array([(closed_block == b).sum() for b in blocks], dtype=float)
    if len(wins) < 2 or wins.mean() <= 0:
        return {"creation": creation, "win": one, "deal": one}
    sizes = np.array([np.nanmean(amount[closed_block == b]) if (~np.isnan(amount[closed_block == b])).any() else np.nan
                      for b in blocks])
    if season_index is not None:
        wins, sizes = wins / season_index[0][:len(wins)], sizes / season_index[1][:len(wins)]
    deal = sizes / np.nanmean(sizes) if np.isfinite(sizes).sum() >= 2 else np.ones(len(wins))
    return {"creation": creation, "win": wins / wins.mean(), "deal": np.where(np.isfinite(deal), deal, 1.0)}


def forecast(opps: pd.DataFrame, period: Period, as_of, refits: int = REFITS, simulations: int = SIMULATIONS,
             seed: int = SEED, period_effects: bool = True, seasonal: bool = True) -> dict | None:
    """Won count and won revenue expected by the period's end = won so far + open deals expected to win in the
    remaining days + deals from opportunities not yet created, with 80% and 95% intervals.

    Method: from the opportunities of the LOOKBACK_DAYS before as_of (:func:`opportunity_history`),
    F_won(t) is the Aalen-Johansen cumulative incidence of won by day t since creation (lost
    competing, open deals censored at as_of) and S(t) the Kaplan-Meier probability of being
    still open. An open deal of age a wins in the period with (F_won(a+d2) - F_won(a+d1-1)) / S(a)
    (closing days d1..d2 after as_of that fall in the period); its amount, or the mean won amount
    when unknown. Opportunities not yet created arrive at the rate of the last RATE_DAYS days and
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
    """
    cutoff = day(as_of)
    won_now = closed_mask(opps, "won", period.start, period.end, as_of)
    amounts = pd.to_numeric(opps["amount"], errors="coerce") if "amount" in opps.columns else pd.Series(np.nan, index=opps.index)
    so_far_count = int(won_now.sum())
    so_far_revenue = float(np.nansum(amounts[won_now].to_numpy(dtype=float)))
    d1, d2 = _window(period, as_of)
    hist = opportunity_history(opps, as_of)
    parts = {"won_so_far_count": so_far_count, "won_so_far_revenue": so_far_revenue, "remaining_days": max(d2, 0)}
    if d2 < d1:   # the period is over on as_of: the forecast is what happened
        flat = {"won_count": so_far_count, "won_revenue": so_far_revenue}
        out = {k: {key: float(v) for key in INTERVAL_KEYS} for k, v in flat.items()}
        out["parts"] = parts | {"open_expected_count": 0.0, "new_expected_count": 0.0,
                                "open_expected_revenue": 0.0, "new_expected_revenue": 0.0, "open_deals": 0}
        return out
    if hist.empty:
        return None
    open_now = open_mask(opps, cutoff, cutoff).to_numpy()
    ages = (cutoff - dates(opps, "created_at")[open_now]).dt.days.to_numpy(dtype=int)
    open_amount = open_amounts(opps)[open_now].to_numpy(dtype=float)   # a lost deal's placeholder 0 is unknown
    recent = (hist["created_at"] > cutoff - pd.Timedelta(days=RATE_DAYS)).to_numpy()
    grid = int(max(ages.max() if len(ages) else 0, 0) + d2 + 1)

    def model(h: pd.DataFrame, rec: np.ndarray):
        won_cif, alive = _curves(h, grid)
        won_amounts = h.loc[h["event"] == 1, "amount"].dropna().to_numpy(dtype=float)
        mean_won = float(won_amounts.mean()) if len(won_amounts) else np.nan
        return (_open_win_prob(won_cif, alive, ages, d1, d2), _new_win_prob(won_cif, d1, d2),
                rec.sum() / RATE_DAYS, won_amounts, mean_won)

    wins = season.known_wins(opps, as_of)
    factors = (season.same_days_factors(wins, cutoff + pd.Timedelta(days=d1), period.end) if seasonal
               else season.no_season())
    s_count, s_deal = season.point(factors)
    p_open, p_new, rate, won_amounts, mean_won = model(hist, recent)
    p_open, p_new = np.clip(p_open * s_count, 0.0, 1.0), np.clip(p_new * s_count, 0.0, 1.0)
    fill = np.where(np.isnan(open_amount), mean_won, open_amount)
    parts |= {"open_deals": int(open_now.sum()), "open_expected_count": float(p_open.sum()),
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
    n = len(hist)
    adjusted = season.deseasonalise(wins, as_of, BLOCK_DAYS, CLOSING_BLOCKS) if factors["clear"] else None
    drift = (period_variation(hist, as_of, adjusted) if period_effects
             else {k: np.ones(1) for k in ("creation", "win", "deal")})
    for _ in range(refits):
        pick = rng.integers(0, n, n)
        p_o, p_n, r, w_amt, m_won = model(hist.iloc[pick].reset_index(drop=True), recent[pick])
        f = np.where(np.isnan(open_amount), m_won if np.isfinite(m_won) else 0.0, open_amount)
        # one past period per simulation: its creation rate, win chances and deal size relative to the pooled ones
        m_rate = drift["creation"][rng.integers(0, len(drift["creation"]), simulations)]
        past = rng.integers(0, len(drift["win"]), simulations)
        s_win, s_size = season.draw(factors, rng, simulations)
        m_win = drift["win"][past] * s_win
        m_deal = drift["deal"][past % len(drift["deal"])] * s_size
        wins_open = rng.random((simulations, len(p_o))) < np.clip(p_o[None, :] * m_win[:, None], 0.0, 1.0)
        c = wins_open.sum(axis=1).astype(float)
        rev = (wins_open * f).sum(axis=1) * m_deal
        n_new = rng.poisson(r * d2 * m_rate) if d2 > 0 else np.zeros(simulations, dtype=int)
        if len(p_n) and n_new.sum():   # every new deal of every simulation at once: its day, its win, its amount
            sim = np.repeat(np.arange(simulations), n_new)
            won_new = rng.random(len(sim)) < np.clip(p_n[rng.integers(0, d2, len(sim))] * m_win[sim], 0.0, 1.0)
            c += np.bincount(sim[won_new], minlength=simulations)
            if len(w_amt):
                amount_new = w_amt[rng.integers(0, len(w_amt), int(won_new.sum()))] * m_deal[sim[won_new]]
                rev += np.bincount(sim[won_new], weights=amount_new, minlength=simulations)
        counts.append(c + so_far_count)
        revenues.append(rev + so_far_revenue)
    return {"won_count": _interval(np.concatenate(counts), expected_count),
            "won_revenue": _interval(np.concatenate(revenues), expected_revenue),
            "parts": parts}


# --------------------------------------------------------------------------- targets and progress
def actual(leads: pd.DataFrame | None, opps: pd.DataFrame, metric: str, start, end, as_of, channel: str | None = None):
    """The actual of a target metric in [start, min(end, as_of)] (one channel when given); None for a lead metric without leads."""
    if metric not in TARGET_METRICS:
        raise KeyError(f"unknown target metric {metric!r}; use one of {', '.join(TARGET_METRICS)}")
    if channel is not None:
        opps = opps[opps["channel"].astype(object) == channel] if "channel" in opps.columns else opps.iloc[0:0]
        if leads is not None:
            leads = leads[leads["channel"].astype(object) == channel]
    if metric in ("won_revenue", "won_count", "opportunities_created"):
        return pipeline_metrics(opps, start, end, as_of)[metric]
    period = funnel_period(leads, opps, start, end, as_of)
    return None if period is None else period[metric]


def covered(first_date, period: Period, metric: str | None = None) -> bool:
    """True when the data covers the period well enough to serve as a target: it starts at least WARMUP_DAYS after
    the first data date, for every metric (`metric` is kept for callers; the rule is one): in its first months an
    export holds only part of the pipeline (deals won then began before it; a CRM taken into use fills up slowly),
    so a figure of that time would make a too-low target (3 opportunities giving "900%")."""
    if first_date is None or pd.isna(first_date):
        return False
    return period.start >= day(first_date) + pd.Timedelta(days=WARMUP_DAYS)


#: The lead metrics of a goal and the stage date each one counts (None: the lead's created_at).
LEAD_STAGE_COLUMN = {"leads": None, "mqls": "mql_at", "sqls": "sql_at"}


def lead_metric_gap(leads: pd.DataFrame | None, metric: str, period: Period) -> str | None:
    """Why a lead metric's count of `period` is unknown, or None when it can be counted: ``no_leads_table``,
    ``leads_not_covered`` (the leads table ends before the period starts: unknown, not 0), ``no_stage_dates``
    (no lead carries the stage's date, e.g. no sql_at at all: the CRM does not record the stage)."""
    if metric not in LEAD_STAGE_COLUMN:
        return None
    if leads is None:
        return "no_leads_table"
    last_lead = dates(leads, "created_at").max()
    if pd.isna(last_lead) or last_lead < day(period.start):
        return "leads_not_covered"
    column = LEAD_STAGE_COLUMN[metric]
    if column is not None and (column not in leads.columns or not leads[column].notna().any()):
        return "no_stage_dates"
    return None


def targets_for(leads, opps, targets: pd.DataFrame | None, period: Period, as_of, first_date) -> list[dict]:
    """The goals of the period: every targets.csv row of the period (source ``targets.csv``), and for each
    metric without an all-channel row there, the actual of the same period a year earlier (source ``last_year``).

    Rows: {period, metric, department, channel, target, source, null_reason}, in TARGET_METRICS order. A
    last-year goal is None with null_reason ``no_data_last_year`` when the data does not cover that period,
    ``warmup_last_year`` when its year-earlier period lies in the data's first WARMUP_DAYS (:func:`covered`, every
    metric), else a lead metric's :func:`lead_metric_gap` (``no_leads_table``, ``leads_not_covered``, ``no_stage_dates``).
    """
    rows = []
    given = set()
    if targets is not None and len(targets):
        mine = targets[targets["period"].astype(str).str.strip() == period.label]
        for r in mine.itertuples(index=False):
            channel = getattr(r, "channel", None)
            channel = None if channel is None or pd.isna(channel) else str(channel)
            dept = getattr(r, "department", None)
            dept = DEFAULT_DEPARTMENT[r.metric] if dept is None or pd.isna(dept) else str(dept)
            rows.append({"period": period.label, "metric": r.metric, "department": dept, "channel": channel,
                         "target": float(r.target), "source": "targets.csv", "null_reason": None})
            if channel is None:
                given.add(r.metric)
    last = period.shift(-4)
    for metric in TARGET_METRICS:
        if metric in given:
            continue
        value, reason = None, None
        if not covered(first_date, last, metric):
            # inside the data but in its first WARMUP_DAYS: the export may not hold that time's pipeline yet
            inside = first_date is not None and not pd.isna(first_date) and last.start >= day(first_date)
            reason = "warmup_last_year" if inside else "no_data_last_year"
        else:
            reason = lead_metric_gap(leads, metric, last)
            value = None if reason else actual(leads, opps, metric, last.start, last.end, as_of)
            reason = reason or ("no_leads_table" if value is None else None)
        rows.append({"period": period.label, "metric": metric, "department": DEFAULT_DEPARTMENT[metric], "channel": None,
                     "target": None if value is None else float(value), "source": "last_year", "null_reason": reason})
    order = {m: i for i, m in enumerate(TARGET_METRICS)}
    return sorted(rows, key=lambda r: (order[r["metric"]], r["channel"] or ""))


def unit_slip(target, last_year, currency: str = "JPY") -> dict | None:
    """The plausibility note of a won_revenue goal against last year's won revenue of the same period (and channel):
    None when the goal is plausible (or either figure is missing or not positive), else {ratio (last year ÷ goal),
    power (k of the likely slip 10^k, or None), unit (UNIT_SLIPS[k] or "")}.

    Implausible: goal × IMPLAUSIBLE_RATIO < last year. The likely unit: the slip 10^k of UNIT_SLIPS (10^4 only for
    TEN_THOUSAND_CURRENCIES) within half a decade of the ratio, i.e. |log10(ratio) − k| <= 0.5; else none is named.
    """
    if target is None or last_year is None or not target > 0 or not last_year > 0:
        return None
    ratio = float(last_year) / float(target)
    if ratio <= IMPLAUSIBLE_RATIO:
        return None
    powers = [k for k in UNIT_SLIPS if k != 4 or str(currency).upper() in TEN_THOUSAND_CURRENCIES]
    near = [k for k in powers if abs(np.log10(ratio) - k) <= 0.5]
    power = min(near, key=lambda k: abs(np.log10(ratio) - k)) if near else None
    return {"ratio": ratio, "power": power, "unit": UNIT_SLIPS[power] if power is not None else ""}


def target_notes(leads, opps, goals: list[dict], period: Period, as_of, first_date, currency: str = "JPY") -> list[dict]:
    """Plausibility notes on the period's targets.csv won_revenue goals (:func:`unit_slip`), against the won revenue
    of the same period a year earlier in the same channel (only when the data covers it, :func:`covered`).

    Rows: {metric, channel, code ``target_unit_suspect``, variant (the unit, "" when none is likely), target,
    last_year, ratio, scaled (target × 10^power, None without a unit)}.
    """
    last = period.shift(-4)
    if not covered(first_date, last, "won_revenue"):
        return []
    notes = []
    for g in goals:
        if g["metric"] != "won_revenue" or g["source"] != "targets.csv":
            continue
        before = actual(leads, opps, "won_revenue", last.start, last.end, as_of, g["channel"])
        slip = unit_slip(g["target"], before, currency)
        if slip is not None:
            notes.append({"metric": g["metric"], "channel": g["channel"], "code": "target_unit_suspect",
                          "variant": slip["unit"], "target": g["target"], "last_year": float(before),
                          "ratio": slip["ratio"],
                          "scaled": None if slip["power"] is None else g["target"] * 10 ** slip["power"]})
    return notes


def data_channels(*frames) -> set[str]:
    """The channel labels the leads, opportunities and spend tables hold (None = an absent table)."""
    present: set[str] = set()
    for frame in frames:
        if frame is not None and "channel" in frame.columns:
            present |= {str(v) for v in frame["channel"].dropna().unique()}
    return present


def elapsed_share(period: Period, as_of) -> float:
    """Share of the period's days elapsed on as_of: days from start to min(end, as_of), both included, / days in the period (0 before it starts)."""
    done = (min(day(as_of), period.end) - period.start).days + 1
    return float(min(max(done, 0), period.days)) / period.days


def progress(leads, opps, goals: list[dict], period: Period, as_of, spend: pd.DataFrame | None = None) -> list[dict]:
    """Each goal against the actual to date: {metric, department, channel, source, target, actual, attainment, elapsed_share}.

    attainment = actual / target (None when the target is None or 0, or the actual is unknown). A goal for a channel
    no lead, opportunity or spend row has (:func:`data_channels`) has actual and attainment None and
    ``null_reasons`` {actual: ``channel_not_in_data``}: a missed goal it is not (the loader warned,
    ``target_channel_unknown``). A lead metric the data cannot count in the period (:func:`lead_metric_gap`: no
    leads table, leads ending before the period, no stage dates) has actual and attainment None with that reason.
    """
    share = elapsed_share(period, as_of)
    present = data_channels(leads, opps, spend)
    rows = []
    for g in goals:
        if g["channel"] is not None and g["channel"] not in present:
            rows.append({"metric": g["metric"], "department": g["department"], "channel": g["channel"], "source": g["source"],
                         "target": g["target"], "actual": None, "attainment": None, "elapsed_share": share,
                         "null_reasons": {"actual": "channel_not_in_data"}})
            continue
        gap = lead_metric_gap(leads, g["metric"], period)
        if gap:
            rows.append({"metric": g["metric"], "department": g["department"], "channel": g["channel"], "source": g["source"],
                         "target": g["target"], "actual": None, "attainment": None, "elapsed_share": share,
                         "null_reasons": {"actual": gap}})
            continue
        value = actual(leads, opps, g["metric"], period.start, period.end, as_of, g["channel"])
        rows.append({"metric": g["metric"], "department": g["department"], "channel": g["channel"], "source": g["source"],
                     "target": g["target"], "actual": value, "attainment": ratio(value, g["target"]) if g["target"] else None,
                     "elapsed_share": share})
    return rows


def main_goal(goals: list[dict], metric: str = "won_revenue") -> float | None:
    """The all-channel goal of `metric` (None when there is none or it is unknown)."""
    for g in goals:
        if g["metric"] == metric and g["channel"] is None:
            return g["target"]
    return None


# --------------------------------------------------------------------------- pipeline coverage
def trailing_pipeline(opps: pd.DataFrame, as_of, days: int = RATE_DAYS) -> dict:
    """pipeline_metrics over the `days` days ending on as_of (the data's recent win rate, deal size, cycle)."""
    cutoff = day(as_of)
    return pipeline_metrics(opps, cutoff - pd.Timedelta(days=days - 1), cutoff, cutoff)


def pipeline_coverage(opps: pd.DataFrame, period: Period, as_of, revenue_target) -> dict:
    """Pipeline coverage = open pipeline amount on as_of ÷ remaining target (target − won revenue so far),
    against the coverage the data's win rate implies (1 ÷ win rate of the deals closed in the last RATE_DAYS days).

    Returns {open_pipeline_amount, remaining_target, coverage, win_rate, implied_coverage, sufficient,
    null_reasons}; coverage is None when there is no target, the target is already met, or the
    period is over (no days left for the pipeline to close).
    """
    cutoff = day(as_of)
    open_values = open_amounts(opps)[open_mask(opps, cutoff, cutoff)]
    reasons = {}
    if len(open_values) and open_values.isna().all():   # deals are open and none has an amount: unknown, never 0
        open_amount = None
        reasons["open_pipeline_amount"] = "open_amounts_missing"
    else:
        open_amount = float(np.nansum(open_values.to_numpy(dtype=float)))
    won = pipeline_metrics(opps, period.start, period.end, as_of)["won_revenue"]
    win_rate = trailing_pipeline(opps, as_of)["win_rate"]
    remaining = None if revenue_target is None else float(revenue_target) - won
    coverage = None
    if revenue_target is None:
        reasons["coverage"] = "no_target"
    elif cutoff >= period.end:
        reasons["coverage"] = "period_over"
    elif remaining <= 0:
        reasons["coverage"] = "target_met"
    elif open_amount is None:
        reasons["coverage"] = "open_amounts_missing"
    else:
        coverage = open_amount / remaining
    implied = None if not win_rate else 1.0 / win_rate
    if implied is None:
        reasons["implied_coverage"] = "no_closed_deals"
    sufficient = None if coverage is None or implied is None else bool(coverage >= implied)
    return {"open_pipeline_amount": open_amount, "remaining_target": remaining, "coverage": coverage,
            "win_rate": win_rate, "implied_coverage": implied, "sufficient": sufficient, "null_reasons": reasons}


# --------------------------------------------------------------------------- reverse funnel
def reverse_arithmetic(revenue_target, avg_deal, win_rate, opportunity_rate, sql_rate, mql_rate,
                       lead_sourced_share: float = 1.0) -> dict:
    """The reverse funnel: won deals = revenue ÷ average deal; opportunities = won ÷ win rate;
    SQLs = opportunities × share of opportunities that come from leads ÷ (SQL → opportunity rate);
    MQLs = SQLs ÷ (MQL → SQL rate); leads = MQLs ÷ (lead → MQL rate).

    Each step is None when its input or a divisor is None or 0. Plain arithmetic, no rounding.
    """
    def div(a, b):
        return None if a is None or b is None or not b else float(a) / float(b)

    won = div(revenue_target, avg_deal)
    opportunities = div(won, win_rate)
    sqls = div(None if opportunities is None else opportunities * lead_sourced_share, opportunity_rate)
    mqls = div(sqls, sql_rate)
    return {"won_count": won, "opportunities": opportunities, "sqls": sqls, "mqls": mqls, "leads": div(mqls, mql_rate)}


def _lead_outcomes(leads: pd.DataFrame, opps: pd.DataFrame, as_of) -> pd.DataFrame:
    """One row per lead created by as_of: created, mql_at, sql_at, channel and its first linked opportunity
    (opp_created, opp_closed, opp_event 1 won / 2 lost / 0 open or none), as known on as_of."""
    cutoff = day(as_of)
    base = pd.DataFrame({"lead_id": _ids(leads["lead_id"]), "created": dates(leads, "created_at").to_numpy(),
                         "mql_at": dates(leads, "mql_at").to_numpy(), "sql_at": dates(leads, "sql_at").to_numpy(),
                         "channel": leads["channel"].astype(object).to_numpy() if "channel" in leads.columns else None})
    base = base[base["created"] <= cutoff]
    closed = dates(opps, "closed_at")
    info = pd.DataFrame({"opportunity_id": _ids(opps["opportunity_id"]), "opp_created": dates(opps, "created_at").to_numpy(),
                         "opp_closed": closed.to_numpy(),
                         "opp_event": np.where(outcome_is(opps, "won") & (closed <= cutoff), 1,
                                               np.where(outcome_is(opps, "lost") & (closed <= cutoff), 2, 0))})
    info = info[info["opp_created"] <= cutoff]
    links = linked_pairs(leads, opps).merge(info, on="opportunity_id").sort_values(["lead_id", "opp_created", "opportunity_id"])
    links = links.drop_duplicates("lead_id")
    out = base.merge(links.drop(columns="opportunity_id"), on="lead_id", how="left")
    out["opp_event"] = out["opp_event"].fillna(0).astype(int)
    out.loc[out["opp_event"] == 0, "opp_closed"] = pd.NaT
    return out.reset_index(drop=True)


def _median_days(later: pd.Series, earlier: pd.Series) -> float | None:
    gaps = (later - earlier).dt.days.dropna()
    gaps = gaps[gaps >= 0]
    return float(np.median(gaps)) if len(gaps) else None


def funnel_rates(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of) -> dict:
    """The rates the reverse funnel divides by, as the data gives them on as_of.

    - ``avg_deal_size``, ``win_rate`` (with ``won_count``, ``closed_count``): deals closed in the last RATE_DAYS days.
    - ``lead_sourced_share``: share of the opportunities created in those days linked to a lead.
    - ``mql_rate``, ``sql_rate``, ``opportunity_rate`` (with their denominators ``leads``, ``mql``, ``sql``): the
      cohort of leads created in the RATE_DAYS days ending ``maturity_days`` before as_of (mature cohorts),
      ``maturity_days`` = 80th percentile of days from lead created to its deal won (HORIZON_DAYS when unknown).
    - ``channel_mix``: {channel: {leads, mql}} shares of those cohort leads and MQLs.
    - ``days_to_won``: median days from lead created / mql_at / sql_at / opportunity created to won closed_at,
      over leads whose deal was won in the LOOKBACK_DAYS before as_of.
    Lead figures are None without a leads table.
    """
    cutoff = day(as_of)
    trail = trailing_pipeline(opps, as_of)
    created = dates(opps, "created_at")
    recent_opps = opps[(created <= cutoff) & (created > cutoff - pd.Timedelta(days=RATE_DAYS))]
    won_mask = closed_mask(opps, "won", cutoff - pd.Timedelta(days=RATE_DAYS - 1), cutoff, cutoff)
    amounts = pd.to_numeric(opps["amount"], errors="coerce") if "amount" in opps.columns else pd.Series(np.nan, index=opps.index)
    out = {"avg_deal_size": trail["avg_deal_size"], "win_rate": trail["win_rate"], "won_count": trail["won_count"],
           "closed_count": trail["won_count"] + trail["lost_count"],
           "won_amounts": amounts[won_mask].dropna().to_numpy(dtype=float),
           "lead_sourced_share": None, "opportunities_recent": int(len(recent_opps)), "maturity_days": None,
           "mql_rate": None, "sql_rate": None, "opportunity_rate": None, "leads": None, "mql": None, "sql": None,
           "channel_mix": {}, "days_to_won": {"lead": None, "mql": None, "sql": None, "opportunity": None}}
    won_opps = opps[won_mask]
    if len(won_opps):
        out["days_to_won"]["opportunity"] = _median_days(dates(won_opps, "closed_at"), dates(won_opps, "created_at"))
    if leads is None:
        return out
    linked = set(linked_pairs(leads, opps)["opportunity_id"])
    out["lead_sourced_share"] = ratio(int(_ids(recent_opps["opportunity_id"]).isin(linked).sum()), len(recent_opps))
    lo = _lead_outcomes(leads, opps, as_of)
    won_leads = lo[lo["opp_event"] == 1]
    to_won = (won_leads["opp_closed"] - won_leads["created"]).dt.days
    out["maturity_days"] = float(np.percentile(to_won.clip(lower=0), 80)) if len(to_won) else float(HORIZON_DAYS)
    recent_won = won_leads[won_leads["opp_closed"] > cutoff - pd.Timedelta(days=LOOKBACK_DAYS)]
    out["days_to_won"] = {"lead": _median_days(recent_won["opp_closed"], recent_won["created"]),
                          "mql": _median_days(recent_won["opp_closed"], recent_won["mql_at"]),
                          "sql": _median_days(recent_won["opp_closed"], recent_won["sql_at"]),
                          "opportunity": out["days_to_won"]["opportunity"]}
    c_end = cutoff - pd.Timedelta(days=int(round(out["maturity_days"])))
    c_start = c_end - pd.Timedelta(days=RATE_DAYS - 1)
    cohort = funnel_cohort(leads, opps, c_start, c_end, as_of, typical_days=0)
    out.update({"mql_rate": cohort["mql_rate"], "sql_rate": cohort["sql_rate"], "opportunity_rate": cohort["opportunity_rate"],
                "leads": cohort["leads"], "mql": cohort["mql"], "sql": cohort["sql"],
                "cohort_start": c_start, "cohort_end": c_end})
    in_cohort = lo[(lo["created"] >= c_start) & (lo["created"] <= c_end)]
    reached_mql = in_cohort["mql_at"].notna() | in_cohort["sql_at"].notna() | in_cohort["opp_created"].notna()
    if len(in_cohort):
        ch = in_cohort["channel"].fillna("unknown")
        leads_share = ch.value_counts(normalize=True)
        mql_share = ch[reached_mql].value_counts(normalize=True) if reached_mql.any() else pd.Series(dtype=float)
        out["channel_mix"] = {str(c): {"leads": float(leads_share.get(c, 0.0)), "mql": float(mql_share.get(c, 0.0))}
                              for c in sorted(leads_share.index, key=str)}
    return out


def reverse_funnel(revenue_target, rates: dict, draws: int = 2000, seed: int = SEED) -> dict:
    """Reverse funnel from the revenue target with 95% intervals from the rates' uncertainty:
    {won_count, opportunities, sqls, mqls, leads: {expected, low_95, high_95}}.

    expected: :func:`reverse_arithmetic` on `rates` (:func:`funnel_rates`). Intervals: `draws` draws
    with a fixed seed, each rate redrawn as a binomial proportion on its own denominator (win rate on
    the closed deals, step rates on the cohort counts, lead-sourced share on the recent opportunities)
    and the average deal as the mean of a resample of the won amounts; percentiles 2.5 and 97.5.
    """
    point = reverse_arithmetic(revenue_target, rates["avg_deal_size"], rates["win_rate"], rates["opportunity_rate"],
                               rates["sql_rate"], rates["mql_rate"], rates["lead_sourced_share"] if rates["lead_sourced_share"] is not None else 1.0)
    rng = np.random.default_rng(seed)

    def prop(p, n):
        if p is None or not n:
            return np.full(draws, np.nan)
        return rng.binomial(int(n), float(p), draws) / float(n)

    amounts = rates["won_amounts"]
    deal = (amounts[rng.integers(0, len(amounts), (draws, len(amounts)))].mean(axis=1) if len(amounts)
            else np.full(draws, np.nan))
    win = prop(rates["win_rate"], rates["closed_count"])
    share = prop(rates["lead_sourced_share"], rates["opportunities_recent"]) if rates["lead_sourced_share"] is not None else np.ones(draws)
    opp_r, sql_r, mql_r = prop(rates["opportunity_rate"], rates["sql"]), prop(rates["sql_rate"], rates["mql"]), prop(rates["mql_rate"], rates["leads"])
    with np.errstate(divide="ignore", invalid="ignore"):
        won = float(revenue_target) / deal if revenue_target is not None else np.full(draws, np.nan)
        steps = {"won_count": won}
        steps["opportunities"] = steps["won_count"] / win
        steps["sqls"] = steps["opportunities"] * share / opp_r
        steps["mqls"] = steps["sqls"] / sql_r
        steps["leads"] = steps["mqls"] / mql_r
    out = {}
    for key in FUNNEL_STEPS:
        values = steps[key][np.isfinite(steps[key])]
        ok = point[key] is not None and len(values) > 0
        out[key] = {"expected": point[key],
                    "low_95": float(np.percentile(values, 2.5)) if ok else None,
                    "high_95": float(np.percentile(values, 97.5)) if ok else None}
    return out


def plan(leads, opps, period: Period, as_of, revenue_target, rates: dict, funnel: dict) -> dict:
    """What each department must deliver for the period's revenue target, by when, and the gap to the current flow.

    - ``windows``: for each stage (lead, mql, sql, opportunity) the dates its entries must fall in for the
      deals to win inside the period: [start, end] moved back by the stage's median days to won.
    - ``so_far``: stage entries already dated in that window up to as_of (leads created, mql_at, sql_at,
      opportunities created) and whether the window is over; ``gap`` = needed (expected) − so far.
    - ``by_channel``: leads and MQLs needed per channel at the cohort channel mix.
    """
    cutoff = day(as_of)
    stage_keys = {"lead": "leads", "mql": "mqls", "sql": "sqls", "opportunity": "opportunities"}
    windows, so_far, gap = {}, {}, {}
    for stage, key in stage_keys.items():
        shift = rates["days_to_won"].get(stage)
        if shift is None:
            windows[stage] = None
            continue
        first = period.start - pd.Timedelta(days=int(round(shift)))
        last = period.end - pd.Timedelta(days=int(round(shift)))
        windows[stage] = {"start": first, "end": last, "over": bool(last <= cutoff)}
        if first > cutoff:
            count = 0
        elif stage == "opportunity":
            count = pipeline_metrics(opps, first, last, as_of)["opportunities_created"]
        else:
            fp = funnel_period(leads, opps, first, last, as_of)
            count = None if fp is None else fp[key]
        so_far[stage] = count
        need = funnel[key]["expected"]
        gap[stage] = None if need is None or count is None else need - count
    by_channel = {}
    for ch, mix in rates.get("channel_mix", {}).items():
        by_channel[ch] = {"leads": None if funnel["leads"]["expected"] is None else funnel["leads"]["expected"] * mix["leads"],
                          "mqls": None if funnel["mqls"]["expected"] is None else funnel["mqls"]["expected"] * mix["mql"]}
    return {"windows": windows, "so_far": so_far, "gap": gap, "by_channel": by_channel,
            "revenue_target": revenue_target}


# --------------------------------------------------------------------------- backtest
def backtest(opps: pd.DataFrame, as_of, fiscal_year_start_month: int = 1, first_date=None,
             days_into=BACKTEST_DAYS, refits: int = BACKTEST_REFITS, simulations: int = BACKTEST_SIMULATIONS,
             seed: int = SEED, period_effects: bool = True, seasonal: bool = True) -> dict:
    """The forecast of won revenue made `days_into` days into every past complete period, against what happened.

    Periods: complete on as_of (end <= as_of), with at least MIN_HISTORY_DAYS days of opportunities
    before the forecast date (start + days − 1). Each forecast sees only what was known on its date
    (:func:`opportunity_history` on that date). Returns {interval_coverage_95 (share of forecasts whose
    actual lies in the 95% interval), mean_absolute_error (mean |expected − actual|, currency), periods:
    [{period, days_into, forecast_date, expected, low_80, high_80, low_95, high_95, actual, last_year}]};
    last_year = won revenue of the same period a year earlier (None when the data does not cover it, :func:`covered`).
    Both summary figures are None without a forecast.
    """
    first = day(first_date) if first_date is not None else dates(opps, "created_at").min()
    rows = []
    if pd.isna(first):
        return {"interval_coverage_95": None, "mean_absolute_error": None, "periods": []}
    for p in complete_periods(first, as_of, fiscal_year_start_month):
        truth = pipeline_metrics(opps, p.start, p.end, as_of)["won_revenue"]
        ly = p.shift(-4)
        last_year = pipeline_metrics(opps, ly.start, ly.end, as_of)["won_revenue"] if covered(first, ly, "won_revenue") else None
        for k in days_into:
            when = p.start + pd.Timedelta(days=k - 1)
            if (when - first).days < MIN_HISTORY_DAYS:
                continue
            f = forecast(opps, p, when, refits=refits, simulations=simulations, seed=seed, period_effects=period_effects,
                         seasonal=seasonal)
            if f is None:
                continue
            rows.append({"period": p.label, "days_into": k, "forecast_date": when, **f["won_revenue"],
                         "actual": truth, "last_year": last_year})
    if not rows:
        return {"interval_coverage_95": None, "mean_absolute_error": None, "periods": []}
    inside = [r["low_95"] <= r["actual"] <= r["high_95"] for r in rows]
    return {"interval_coverage_95": float(np.mean(inside)),
            "mean_absolute_error": float(np.mean([abs(r["expected"] - r["actual"]) for r in rows])),
            "periods": rows}


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
            "interval_coverage_80": float(np.mean([r["low_80"] <= r["actual"] <= r["high_80"] for r in rows])),
            "interval_coverage_95": bt["interval_coverage_95"], "mean_absolute_error": bt["mean_absolute_error"],
            "last_year_mean_absolute_error": ly_mae, "forecast_mean_absolute_error_same_rows": f_mae,
            "better_than_last_year": None if ly_mae is None else bool(f_mae < ly_mae)}


# --------------------------------------------------------------------------- cohort projection (notebook 02)
def lead_history(leads: pd.DataFrame, opps: pd.DataFrame, as_of, lookback_days: int = LOOKBACK_DAYS) -> pd.DataFrame:
    """Leads created in (as_of − lookback_days, as_of] with their times to opportunity and to won, as known on as_of.

    Columns: ``lead_id``, ``created``, ``age`` (days to as_of), ``to_opportunity`` (days to the first
    linked opportunity's creation, or age when none: censored), ``opportunity`` (bool event),
    ``to_close`` (days to that deal's won/lost close, or age while undecided), ``close_event``
    (1 won, 2 lost, 0 censored). Negative gaps count as 0 days.
    """
    cutoff = day(as_of)
    lo = _lead_outcomes(leads, opps, as_of)
    lo = lo[lo["created"] > cutoff - pd.Timedelta(days=lookback_days)].reset_index(drop=True)
    age = (cutoff - lo["created"]).dt.days
    has_opp = lo["opp_created"].notna()
    to_opp = (lo["opp_created"] - lo["created"]).dt.days.clip(lower=0).where(has_opp, age)
    decided = lo["opp_event"] > 0
    to_close = (lo["opp_closed"] - lo["created"]).dt.days.clip(lower=0).where(decided, age)
    return pd.DataFrame({"lead_id": lo["lead_id"], "created": lo["created"], "age": age.astype(int),
                         "to_opportunity": to_opp.astype(int), "opportunity": has_opp.to_numpy(),
                         "to_close": to_close.astype(int), "close_event": lo["opp_event"].astype(int)})


def conversion_curves(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, start=None, end=None,
                      days: int = HORIZON_DAYS) -> pd.DataFrame | None:
    """Censoring-aware cumulative conversion by days since lead creation, 0..days:
    ``lead_to_opportunity`` = 1 − Kaplan-Meier survival to the first linked opportunity (leads without one
    censored at their age on as_of) and ``lead_to_won`` = Aalen-Johansen incidence of a won deal (a lost
    deal competing; undecided leads censored). Over the leads created in [start, end] (all of the
    LOOKBACK_DAYS when start is None). None without leads or when no lead qualifies.
    """
    if leads is None:
        return None
    h = lead_history(leads, opps, as_of, lookback_days=LOOKBACK_DAYS if start is None else 100_000)
    if start is not None:
        h = h[(h["created"] >= day(start)) & (h["created"] <= day(end))]
    if h.empty:
        return None
    return pd.DataFrame({"day": np.arange(days + 1),
                         "lead_to_opportunity": 1.0 - survival_curve(h["to_opportunity"], h["opportunity"], days),
                         "lead_to_won": cumulative_incidence(h["to_close"], h["close_event"], 1, days)})


def _projection_probs(h: pd.DataFrame, cohort: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per cohort lead not yet converted: P(opportunity by HORIZON_DAYS | none at its age) and P(won by HORIZON_DAYS | undecided at its age)."""
    H = HORIZON_DAYS
    grid = H + 1
    opp_cdf = 1.0 - survival_curve(h["to_opportunity"], h["opportunity"], grid)
    won_cif = cumulative_incidence(h["to_close"], h["close_event"], 1, grid)
    undecided = survival_curve(h["to_close"], h["close_event"] > 0, grid)
    a = np.minimum(cohort["age"].to_numpy(dtype=int), H)
    p_opp = np.divide(opp_cdf[H] - opp_cdf[a], 1.0 - opp_cdf[a], out=np.zeros(len(a)), where=(1.0 - opp_cdf[a]) > 0)
    p_won = np.divide(won_cif[H] - won_cif[a], undecided[a], out=np.zeros(len(a)), where=undecided[a] > 0)
    return np.clip(p_opp, 0, 1), np.clip(p_won, 0, 1)


def projected_cohort_rates(leads: pd.DataFrame | None, opps: pd.DataFrame, start, end, as_of,
                           refits: int = REFITS, simulations: int = SIMULATIONS, seed: int = SEED) -> dict | None:
    """Projected final rates of the period's lead cohort (leads created in [start, min(end, as_of)]):
    ``projected_lead_to_opportunity_rate`` and ``projected_lead_to_won_rate``, each {expected, low_95, high_95}.

    A lead that already reached the stage counts 1; one that has not counts its probability of reaching
    it within HORIZON_DAYS of creation given it has not at its age: (F(H) − F(a)) / (1 − F(a)) from the
    Kaplan-Meier curve to opportunity, (F_won(H) − F_won(a)) / S(a) from the Aalen-Johansen incidence of
    won (S = still undecided, Kaplan-Meier) — the curves of the leads created in the LOOKBACK_DAYS before
    as_of. A lead whose deal was lost counts 0 for won. Intervals: curves refitted on resampled leads
    (fixed seed), outcomes simulated (Bernoulli). None without leads or cohort leads.
    """
    if leads is None:
        return None
    h = lead_history(leads, opps, as_of, lookback_days=100_000)
    cohort = h[(h["created"] >= day(start)) & (h["created"] <= min(day(end), day(as_of)))]
    h = h[h["created"] > day(as_of) - pd.Timedelta(days=LOOKBACK_DAYS)].reset_index(drop=True)
    if cohort.empty or h.empty:
        return None
    n = len(cohort)
    opp_done = cohort["opportunity"].to_numpy()
    won_done = (cohort["close_event"] == 1).to_numpy()
    open_won = (cohort["close_event"] == 0).to_numpy()   # lost (2) cannot become won

    def expected(p_opp, p_won):
        return ((opp_done + np.where(opp_done, 0, p_opp)).sum() / n,
                (won_done + np.where(open_won, p_won, 0)).sum() / n)

    p_opp, p_won = _projection_probs(h, cohort)
    e_opp, e_won = expected(p_opp, p_won)
    rng = np.random.default_rng(seed)
    sims_opp, sims_won = [], []
    for _ in range(refits):
        pick = rng.integers(0, len(h), len(h))
        po, pw = _projection_probs(h.iloc[pick].reset_index(drop=True), cohort)
        sims_opp.append((opp_done + (~opp_done & (rng.random((simulations, n)) < po))).sum(axis=1) / n)
        sims_won.append((won_done + (open_won & (rng.random((simulations, n)) < pw))).sum(axis=1) / n)

    def iv(samples, point):
        s = np.concatenate(samples)
        return {"expected": float(point), "low_95": float(np.percentile(s, 2.5)), "high_95": float(np.percentile(s, 97.5))}

    return {"projected_lead_to_opportunity_rate": iv(sims_opp, e_opp), "projected_lead_to_won_rate": iv(sims_won, e_won)}


def sales_cycle_median(opps: pd.DataFrame, start, end, as_of) -> dict:
    """Censoring-aware median sales cycle of the opportunities created in [start, min(end, as_of)]:
    Kaplan-Meier median of days from created_at to won closed_at, deals still open on as_of censored at
    their age, lost deals left out. Returns {median_days, won, censored, mean_won_days (mean cycle of the
    won deals closed in P, as pipeline_metrics), null_reason (of the median), null_reasons}.

    When the data cannot time a deal both figures are None with ``null_reasons`` {median_days, mean_won_days}:
    ``no_created_dates`` (no opportunity has a created_at), ``one_created_at`` (every opportunity, at least two,
    shares one created day: a bulk load), ``same_day_cycle`` (every won deal known on as_of was created on the day
    it closed, as when an export carries only a won date): 0 days would be invented.
    """
    cutoff = day(as_of)
    created, closed = dates(opps, "created_at"), dates(opps, "closed_at")
    won_ever = outcome_is(opps, "won") & (closed <= cutoff) & created.notna()
    untimed = ("no_created_dates" if not created.notna().any()
               else "one_created_at" if created.notna().sum() >= 2 and created.nunique() == 1
               else "same_day_cycle" if won_ever.any() and (closed[won_ever] == created[won_ever]).all() else None)
    if untimed:
        cohort = created.between(day(start), min(day(end), cutoff))
        return {"median_days": None, "won": int((cohort & outcome_is(opps, "won") & (closed <= cutoff)).sum()),
                "censored": int((cohort & open_mask(opps, cutoff, cutoff)).sum()), "mean_won_days": None,
                "null_reason": untimed, "null_reasons": {"median_days": untimed, "mean_won_days": untimed}}
    cohort = created.between(day(start), min(day(end), cutoff))
    won = outcome_is(opps, "won") & (closed <= cutoff)
    lost = outcome_is(opps, "lost") & (closed <= cutoff)
    keep = cohort & ~lost
    t = (closed.where(won, cutoff) - created)[keep].dt.days.clip(lower=0)
    e = won[keep]
    median = km_median(t, e) if keep.any() else None
    reason = None
    if not keep.any():
        reason = "no_deals"
    elif median is None:
        reason = "fewer_than_half_won_yet"
    return {"median_days": median, "won": int(e.sum()), "censored": int((~e).sum()),
            "mean_won_days": pipeline_metrics(opps, start, end, as_of)["sales_cycle_days"], "null_reason": reason,
            "null_reasons": {} if reason is None else {"median_days": reason}}


# --------------------------------------------------------------------------- the metrics.json section
def goals_section(wb, period: Period, first_date, forecast_result: dict | None = None, backtest_result: dict | None = None) -> dict:
    """metrics.json `goals`: {targets, target_notes, progress, forecast: {won_revenue, won_count}, coverage, reverse_funnel,
    backtest}.

    `forecast_result` / `backtest_result` are reused when given (the notebook computes them once).
    """
    leads, opps, as_of = wb.leads, wb.opportunities, wb.as_of
    goals = targets_for(leads, opps, wb.targets, period, as_of, first_date)
    f = forecast_result if forecast_result is not None else forecast(opps, period, as_of)
    revenue_target = main_goal(goals)
    rates = funnel_rates(leads, opps, as_of)
    bt = backtest_result if backtest_result is not None else backtest(opps, as_of, wb.config.fiscal_year_start_month, first_date)
    return {
        "targets": goals,
        "target_notes": target_notes(leads, opps, goals, period, as_of, first_date, wb.config.currency_code),
        "progress": progress(leads, opps, goals, period, as_of, wb.spend),
        "forecast": {k: (None if f is None else f[k]) for k in ("won_revenue", "won_count")},
        "coverage": pipeline_coverage(opps, period, as_of, revenue_target),
        "reverse_funnel": reverse_funnel(revenue_target, rates),
        "backtest": bt,
    }
