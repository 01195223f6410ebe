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
    times, leaving, outcomes, of_interest = day_counts(t, e > 0, e == event_of_interest)
    return incidence_from_counts(times, leaving, outcomes, of_interest, days)


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
    """Kaplan-Meier median time (lifelines' median_survival_time_, computed from the counts per day as
    :func:`median_from_counts`); None when the curve never falls to 0.5 or there is no row."""
    t = np.asarray(durations, dtype=float)
    if len(t) == 0:
        return None
    return median_from_counts(*day_counts(t, np.asarray(observed, dtype=bool)))


def km_survival(durations, observed, days: int) -> np.ndarray:
    """:func:`survival_curve` computed without lifelines' fitter: the same values, bit for bit, at a fraction of the cost
    (the forecast fits it once per resample: 220 fits a report on the sample).

    lifelines' KaplanMeierFitter (without entry times or weights) sums log(n - d) - log(n) over the distinct times in
    order (n at risk, d events; a time without events adds exactly 0) and takes exp; this does the same sums in the
    same order over the same counts. Float array of length days + 1; ValueError on empty input."""
    t = np.asarray(durations, dtype=float)
    if len(t) == 0:
        raise ValueError("survival_curve needs at least one observation")
    times, leaving, deaths = day_counts(t, np.asarray(observed, dtype=bool))
    return survival_from_counts(times, leaving, deaths, days)


# --------------------------------------------------------------------------- from the counts per distinct day
def day_counts(durations, *flags) -> tuple[np.ndarray, ...]:
    """The counts per distinct duration: (times (sorted, float), rows leaving on each (float), and for each boolean
    array of `flags` the rows flagged on each (float)) — what an engine's ``GROUP BY duration`` returns."""
    times, inverse = np.unique(np.asarray(durations, dtype=float), return_inverse=True)
    return (times, np.bincount(inverse, minlength=len(times)).astype(float),
            *(np.bincount(inverse, weights=np.asarray(f, dtype=bool), minlength=len(times)) for f in flags))


def cell_counts(durations, counts, *flags) -> tuple[np.ndarray, ...]:
    """:func:`day_counts` of rows given as cells: each cell's duration (`durations`), its rows (`counts`: its own, or a
    resample's) and its flags (boolean arrays per cell); the days no row has are left out."""
    times, inverse = np.unique(np.asarray(durations, dtype=float), return_inverse=True)
    counts = np.asarray(counts)
    leaving = np.bincount(inverse, weights=counts, minlength=len(times))
    flagged = [np.bincount(inverse, weights=counts * np.asarray(f, dtype=bool), minlength=len(times)) for f in flags]
    keep = leaving > 0
    return (times[keep], leaving[keep], *(f[keep] for f in flagged))


def _at_days(times: np.ndarray, values: np.ndarray, days: int, before: float) -> np.ndarray:
    """A step function known at `times` (sorted) read at whole days 0..days: the value after all events of that day."""
    pos = np.searchsorted(times, np.arange(int(days) + 1) + 0.5, side="right") - 1
    return np.where(pos >= 0, values[np.clip(pos, 0, None)], before)


def incidence_from_counts(times, leaving, outcomes, of_interest, days: int) -> np.ndarray:
    """:func:`cumulative_incidence` from the counts per distinct day: `times` sorted, `leaving` (> 0: the rows whose
    duration is that day), `outcomes` (of any kind) and `of_interest` (of the outcome of interest) on each day. The
    same arithmetic in the same order, so the same values bit for bit. Float array of length days + 1."""
    leaving, of_interest = np.asarray(leaving, dtype=float), np.asarray(of_interest, dtype=float)
    if not (of_interest > 0).any():
        return np.zeros(int(days) + 1)
    at_risk = leaving.sum() - np.concatenate(([0], np.cumsum(leaving)[:-1]))
    survival_before = np.concatenate(([1.0], np.cumprod(1.0 - np.asarray(outcomes, dtype=float) / at_risk)[:-1]))
    return _at_days(np.asarray(times, dtype=float), np.cumsum(survival_before * of_interest / at_risk), days, 0.0)


def _km_values(leaving, deaths) -> np.ndarray:
    """S after each distinct day: lifelines' sum of log(n - d) - log(n) in time order, exponentiated."""
    leaving = np.asarray(leaving, dtype=float)
    at_risk = leaving.sum() - np.concatenate(([0], np.cumsum(leaving)[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(np.cumsum(np.log(at_risk - np.asarray(deaths, dtype=float)) - np.log(at_risk)))


def survival_from_counts(times, leaving, deaths, days: int) -> np.ndarray:
    """:func:`km_survival` from the counts per distinct day (`times` sorted, `leaving` > 0 on each, `deaths` = the
    observed events): lifelines' sum of log(n - d) - log(n) in time order, exponentiated. Float array of length days + 1."""
    return _at_days(np.asarray(times, dtype=float), _km_values(leaving, deaths), days, 1.0)


def median_from_counts(times, leaving, deaths) -> float | None:
    """The Kaplan-Meier median from the counts per distinct day (:func:`survival_from_counts`'s inputs): the first of
    `times` at which S falls to 0.5 or below, as lifelines' ``median_survival_time_`` reads its survival function;
    None when S stays above 0.5 (lifelines: infinity) or there is no row."""
    times = np.asarray(times, dtype=float)
    hit = np.flatnonzero(_km_values(leaving, deaths) <= 0.5) if len(times) else []
    return float(times[hit[0]]) if len(hit) else None
