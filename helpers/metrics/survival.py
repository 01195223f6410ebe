"""Survival estimates of the shared goals (notebook 04) and the cohort projection (notebook 02): the Aalen-Johansen
cumulative incidence, Kaplan-Meier survival and median, computed as lifelines computes them (Davidson-Pilon,
*lifelines: survival analysis in Python*, JOSS 2019) from the counts per distinct day.

The ``*_from_counts`` functions take those counts (days, at risk, events per outcome: what an engine's grouped count
returns, :mod:`helpers.metrics.goals_engine`), so a warehouse fetches one row per duration day, not one per deal; the
functions on durations and events count them first (:func:`day_counts`) and give the same values, bit for bit.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


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
