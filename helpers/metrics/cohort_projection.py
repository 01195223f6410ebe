"""The censoring-aware cohort projection and median sales cycle that notebook 02 shows: conversion curves by days since
lead creation, the projected final rates of a period's lead cohort, the Kaplan-Meier median sales cycle.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.metrics.goals_constants import HORIZON_DAYS, LOOKBACK_DAYS, REFITS, SEED, SIMULATIONS
from helpers.metrics.goals_plan import _lead_outcomes
from helpers.metrics.pipeline import dates, day, open_mask, outcome_is, pipeline_metrics
from helpers.metrics.survival import cumulative_incidence, km_median, survival_curve


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
