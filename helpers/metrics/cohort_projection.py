"""The censoring-aware cohort projection and median sales cycle that notebook 02 shows: conversion curves by days since
lead creation, the projected final rates of a period's lead cohort, the Kaplan-Meier median sales cycle. The leads are
read as counts per day from engine expressions (helpers.metrics.lead_outcomes), not as rows.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from helpers.metrics import engine
from helpers.metrics.funnel_rates import MIN_GROUP
from helpers.metrics.goals_constants import HORIZON_DAYS, LOOKBACK_DAYS, REFITS, SEED, SIMULATIONS
from helpers.metrics.goals_engine import Cells, _fetch, cycle_days_expr, cycle_facts_expr, table
from helpers.metrics.goals_forecast import percentile_bounds
from helpers.metrics.lead_outcomes import (_created_between, lead_outcomes_expr, lead_times_expr, leads_input,
                                           projection_counts)
from helpers.metrics.pipeline import derive_pipeline
from helpers.metrics.survival import cell_counts, incidence_from_counts, median_from_counts, survival_from_counts


def _history_range(as_of, lookback_days: int) -> tuple:
    """The days of creation of the leads created in (as_of − lookback_days, as_of]."""
    cutoff = engine._day(as_of)
    return cutoff - dt.timedelta(days=lookback_days - 1), cutoff


def lead_history(leads, opps, as_of, lookback_days: int = LOOKBACK_DAYS, backend=None) -> pd.DataFrame:
    """Leads created in (as_of − lookback_days, as_of] with their times to opportunity and to won, as known on as_of.

    Columns: ``lead_id``, ``created``, ``age`` (days to as_of), ``to_opportunity`` (days to the first
    linked opportunity's creation, or age when none: censored), ``opportunity`` (bool event),
    ``to_close`` (days to that deal's won/lost close, or age while undecided), ``close_event``
    (1 won, 2 lost, 0 censored). Negative gaps count as 0 days. One row per lead, by created then lead_id: this
    fetches the leads' rows (helpers.metrics.lead_outcomes.lead_times_expr); the figures of this module fetch
    their counts per day instead.
    """
    a = engine._day(as_of)
    times = lead_times_expr(lead_outcomes_expr(leads_input(leads), table(opps), a), a)
    times = _created_between(times, *_history_range(as_of, lookback_days))
    got = _fetch(times.select("lead_id", "created", "age", "to_opportunity", "opportunity", "to_close",
                              "close_event").order_by(["created", "lead_id"]), backend).to_pandas()
    return pd.DataFrame({"lead_id": got["lead_id"], "created": pd.to_datetime(got["created"]),
                         "age": got["age"].astype(int), "to_opportunity": got["to_opportunity"].astype(int),
                         "opportunity": got["opportunity"].astype(bool), "to_close": got["to_close"].astype(int),
                         "close_event": got["close_event"].astype(int)})


def _curves(h: Cells, counts, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P(opportunity by day t), F_won(t), P(undecided at t)) at days 0..days from the leads' cells counted `counts`
    times: 1 − Kaplan-Meier to opportunity, Aalen-Johansen incidence of won (lost competing), Kaplan-Meier of a close."""
    v = h.values
    times, leaving, opened = cell_counts(v["to_opportunity"], counts, v["opportunity"])
    to_opp = 1.0 - survival_from_counts(times, leaving, opened, days)
    times, leaving, closed, won = cell_counts(v["to_close"], counts, v["close_event"] > 0, v["close_event"] == 1)
    return to_opp, incidence_from_counts(times, leaving, closed, won, days), survival_from_counts(times, leaving, closed, days)


def conversion_curves(leads, opps, as_of, start=None, end=None, days: int = HORIZON_DAYS,
                      backend=None) -> pd.DataFrame | None:
    """Censoring-aware cumulative conversion by days since lead creation, 0..days:
    ``lead_to_opportunity`` = 1 − Kaplan-Meier survival to the first linked opportunity (leads without one
    censored at their age on as_of) and ``lead_to_won`` = Aalen-Johansen incidence of a won deal (a lost
    deal competing; undecided leads censored). Over the leads created in [start, end] (all of the
    LOOKBACK_DAYS when start is None). None without leads or when no lead qualifies.

    `leads` / `opps`: pandas frames or engine tables; one query on `backend` returning the leads counted per
    (days to opportunity, days to close, outcome) (:func:`helpers.metrics.lead_outcomes.projection_counts`).
    """
    if leads is None:
        return None
    window = _history_range(as_of, LOOKBACK_DAYS) if start is None else (engine._day(start), engine._day(end))
    h, _ = projection_counts(leads, opps, as_of, window, backend=backend)
    if not h.n.sum():
        return None
    to_opp, won, _ = _curves(h, h.n, days)
    return pd.DataFrame({"day": np.arange(days + 1), "lead_to_opportunity": to_opp, "lead_to_won": won})


def _projection_probs(h: Cells, counts, ages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cohort lead not yet converted (its age): P(opportunity by HORIZON_DAYS | none at its age) and P(won by
    HORIZON_DAYS | undecided at its age), from the history's cells counted `counts` times."""
    H = HORIZON_DAYS
    opp_cdf, won_cif, undecided = _curves(h, counts, H + 1)
    a = np.minimum(ages.astype(int), H)
    p_opp = np.divide(opp_cdf[H] - opp_cdf[a], 1.0 - opp_cdf[a], out=np.zeros(len(a)), where=(1.0 - opp_cdf[a]) > 0)
    p_won = np.divide(won_cif[H] - won_cif[a], undecided[a], out=np.zeros(len(a)), where=undecided[a] > 0)
    return np.clip(p_opp, 0, 1), np.clip(p_won, 0, 1)


#: Fewest cohort leads (and leads of the history the curves are fitted on) a projection is made from: the rule of a
#: small group of the breakdowns (helpers.metrics.funnel_rates.MIN_GROUP: below 20 leads a 95% interval of a rate is
#: still about ±0.2 wide); fewer gives null with ``too_few_cohort_leads``, not a projection from a handful of leads.
MIN_PROJECTION_LEADS = MIN_GROUP
#: The keys of :func:`projected_cohort_rates`.
PROJECTED_KEYS = ("projected_lead_to_opportunity_rate", "projected_lead_to_won_rate")


def projection_reasons(h: Cells, cohort: Cells) -> dict[str, str]:
    """{projected key: reason code} of the projections the history `h` and the cohort `cohort` (the cells of
    :func:`helpers.metrics.lead_outcomes.projection_counts`) cannot support; empty when both can be made.

    Both: ``no_cohort_leads`` (no lead created in the period), ``too_few_cohort_leads`` (fewer than
    MIN_PROJECTION_LEADS cohort leads, or history leads). Lead → opportunity: ``no_conversion_curve`` (no lead of the
    history reached an opportunity by as_of: the curve is flat at 0, which says nothing about the future). Lead → won:
    ``projection_nothing_closed`` (no deal linked to a history lead was won or lost by as_of: nothing to learn win
    chances from), ``projection_no_lost_deals`` (such deals were won and none lost: the won incidence would count every
    decided deal as won, the rule of the win rate and of the goals forecast). Both are judged on the history only (the
    leads created in the LOOKBACK_DAYS up to as_of), not the whole data: older or unlinked deals do not count, hence
    codes of their own rather than the data-wide ``nothing_closed`` / ``no_lost_deals``."""
    cohort_n, history_n = int(cohort.n.sum()), int(h.n.sum())
    if not cohort_n:
        return dict.fromkeys(PROJECTED_KEYS, "no_cohort_leads")
    if cohort_n < MIN_PROJECTION_LEADS or history_n < MIN_PROJECTION_LEADS:
        return dict.fromkeys(PROJECTED_KEYS, "too_few_cohort_leads")
    v = h.values
    reasons = {}
    if not int(h.n[v["opportunity"].astype(bool)].sum()):
        reasons["projected_lead_to_opportunity_rate"] = "no_conversion_curve"
    won, lost = int(h.n[v["close_event"] == 1].sum()), int(h.n[v["close_event"] == 2].sum())
    if not won and not lost:
        reasons["projected_lead_to_won_rate"] = "projection_nothing_closed"
    elif not lost:
        reasons["projected_lead_to_won_rate"] = "projection_no_lost_deals"
    return reasons


def projected_cohort_rates(leads, opps, start, end, as_of, refits: int = REFITS, simulations: int = SIMULATIONS,
                           seed: int = SEED, backend=None) -> dict | None:
    """Projected final rates of the period's lead cohort (leads created in [start, min(end, as_of)]):
    ``projected_lead_to_opportunity_rate`` and ``projected_lead_to_won_rate``, each {expected, low_95, high_95},
    or None with its code in ``null_reasons`` (:func:`projection_reasons`: no or too few cohort leads, no
    conversion curve, nothing closed, no lost deals; the key is there only when one is null).

    A lead that already reached the stage counts 1; one that has not counts its probability of reaching
    it within HORIZON_DAYS of creation given it has not at its age: (F(H) − F(a)) / (1 − F(a)) from the
    Kaplan-Meier curve to opportunity, (F_won(H) − F_won(a)) / S(a) from the Aalen-Johansen incidence of
    won (S = still undecided, Kaplan-Meier) — the curves of the leads created in the LOOKBACK_DAYS before
    as_of. A lead whose deal was lost counts 0 for won. Intervals: curves refitted on resampled leads
    (fixed seed), outcomes simulated (Bernoulli). None without a leads table.

    `leads` / `opps`: pandas frames or engine tables; one query on `backend` returning the history's leads counted
    per (days to opportunity, days to close, outcome) and the cohort's per (age, outcome); the resamples draw the
    history's leads laid out in that order (the same multinomial over the counts as over the leads).
    """
    if leads is None:
        return None
    cutoff = engine._day(as_of)
    h, cohort = projection_counts(leads, opps, as_of, _history_range(as_of, LOOKBACK_DAYS),
                                  (engine._day(start), min(engine._day(end), cutoff)), backend)
    reasons = projection_reasons(h, cohort)
    if len(reasons) == len(PROJECTED_KEYS):
        return {**dict.fromkeys(PROJECTED_KEYS), "null_reasons": reasons}
    ages = cohort.rows("age")
    n = len(ages)
    opp_done = cohort.rows("opportunity")
    won_done = cohort.rows("close_event") == 1
    open_won = cohort.rows("close_event") == 0   # lost (2) cannot become won

    def expected(p_opp, p_won):
        return ((opp_done + np.where(opp_done, 0, p_opp)).sum() / n,
                (won_done + np.where(open_won, p_won, 0)).sum() / n)

    p_opp, p_won = _projection_probs(h, h.n, ages)
    e_opp, e_won = expected(p_opp, p_won)
    rng = np.random.default_rng(seed)
    sims_opp, sims_won = [], []
    row_cell = row_cells(h.n)   # the history's leads, in the cells' order
    draws, hits = np.empty(n), np.empty(n, dtype=bool)   # one simulation's uniforms at a time (same stream, rows in order)

    def simulated(threshold: np.ndarray) -> np.ndarray:
        """Per simulation, the share of cohort leads whose uniform draw falls below `threshold` (2 for a lead that
        already counts, 0 for one that cannot)."""
        counts = np.empty(simulations, dtype=np.int64)
        for k in range(simulations):
            np.less(rng.random(out=draws), threshold, out=hits)
            counts[k] = np.count_nonzero(hits)
        return counts / n

    for _ in range(refits):
        po, pw = _projection_probs(h, resampled_counts(row_cell, len(h.n), rng), ages)
        sims_opp.append(simulated(np.where(opp_done, 2.0, po)))
        sims_won.append(simulated(np.where(won_done, 2.0, np.where(open_won, pw, 0.0))))

    def iv(samples, point):   # a bound moved out to the point when the point lies beyond it (a point in its interval)
        low, high = percentile_bounds(np.concatenate(samples), point, 95)
        return {"expected": float(point), "low_95": low, "high_95": high}

    out = {"projected_lead_to_opportunity_rate": iv(sims_opp, e_opp), "projected_lead_to_won_rate": iv(sims_won, e_won)}
    return {**{k: None if k in reasons else v for k, v in out.items()}, **({"null_reasons": reasons} if reasons else {})}


#: The history's leads :func:`resampled_counts` draws at once (512 KiB of positions).
RESAMPLE_BLOCK = 1 << 16


def row_cells(n: np.ndarray) -> np.ndarray:
    """The cell of each row when ``n.sum()`` rows are laid out cell by cell (cell i holds ``n[i]`` rows), in the
    smallest unsigned integer type that holds the cells' numbers (two bytes a row for up to 65,536 cells)."""
    return np.repeat(np.arange(len(n), dtype=np.min_scalar_type(max(len(n) - 1, 0))), n)


def resampled_counts(row_cell: np.ndarray, cells: int, rng: np.random.Generator) -> np.ndarray:
    """How many times each of `cells` cells is drawn when the rows of `row_cell` (:func:`row_cells`) are resampled
    with replacement, an int64 array of `cells` counts: the cells of ``rng.integers(0, rows, rows)``'s positions,
    counted :data:`RESAMPLE_BLOCK` positions at a time (at 10M leads the history's 6.1M leads took three int64 arrays
    of 46 MiB each a refit: the cells, the positions and the positions' cells). The same numbers as one draw of all
    positions (numpy's bounded integers come one after another from the generator's stream, whatever the calls'
    sizes), so the same counts, and the generator is left where that draw leaves it."""
    rows = len(row_cell)
    counts = np.zeros(cells, dtype=np.int64)
    for at in range(0, rows, RESAMPLE_BLOCK):
        counts += np.bincount(row_cell[rng.integers(0, rows, min(RESAMPLE_BLOCK, rows - at))], minlength=cells)
    return counts


def sales_cycle_median(opps: pd.DataFrame, start, end, as_of, backend=None, source=None) -> dict:
    """Censoring-aware median sales cycle of the opportunities created in [start, min(end, as_of)]:
    Kaplan-Meier median of days from created_at to won closed_at, deals still open on as_of censored at
    their age, lost deals left out. Returns {median_days, won, censored, mean_won_days (mean cycle of the
    won deals closed in P, as pipeline_metrics), null_reason (of the median), null_reasons}.

    When the data cannot time a deal both figures are None with ``null_reasons`` {median_days, mean_won_days}:
    ``no_created_dates`` (no opportunity has a created_at), ``one_created_at`` (every opportunity, at least two,
    shares one created day: a bulk load), ``same_day_cycle`` (every won deal known on as_of was created on the day
    it closed, as when an export carries only a won date): 0 days would be invented. Without an opportunities table
    (`source`'s ``has_opportunities`` False) every figure, the counts too, is None with ``no_opportunities``.

    The deals are read as engine aggregates (helpers.metrics.goals_engine.cycle_facts_expr, cycle_days_expr: counts
    per day of the cycle), the median computed from them as lifelines computes it (survival.median_from_counts).
    With `source` (a :class:`helpers.metrics.source.Source`; notebook 02 passes ``s.source``) its opportunities and
    backend are read instead of `opps` and `backend`.
    """
    if source is not None:
        if not source.has_opportunities:   # a leads-only folder: no deal to time or count (unknown, not 0)
            keys = ("median_days", "won", "censored", "mean_won_days")
            return {**dict.fromkeys(keys), "null_reason": "no_opportunities",
                    "null_reasons": dict.fromkeys(keys, "no_opportunities")}
        opps, backend = source.opps(), source.backend
    a, first = engine._day(as_of), engine._day(start)
    last = min(engine._day(end), a)
    facts = engine.run(cycle_facts_expr(table(opps), first, last, a), backend)[engine.ALL]
    untimed = ("no_created_dates" if not facts["created_n"]
               else "one_created_at" if facts["created_n"] >= 2 and facts["created_days"] == 1
               else "same_day_cycle" if facts["won_ever"] and facts["same_day"] == facts["won_ever"] else None)
    if untimed:
        return {"median_days": None, "won": int(facts["cohort_won"]), "censored": int(facts["cohort_open"]),
                "mean_won_days": None, "null_reason": untimed,
                "null_reasons": {"median_days": untimed, "mean_won_days": untimed}}
    got = _fetch(cycle_days_expr(table(opps), first, last, a), backend).to_pydict()
    cells = Cells.sorted({"days": np.array(got["days"], dtype=float), "won": np.array(got["won"], dtype=bool)},
                         np.array(got["n"], dtype=np.int64), ("days", "won"))
    won = int(cells.n[cells.values["won"]].sum())
    median = median_from_counts(*cell_counts(cells.values["days"], cells.n, cells.values["won"])) if len(cells.n) else None
    reason = None
    if not len(cells.n):
        reason = "no_deals"
    elif median is None:
        reason = "fewer_than_half_won_yet"
    return {"median_days": median, "won": won, "censored": int(cells.n.sum()) - won,
            "mean_won_days": _mean_won_days(opps, start, end, as_of, backend), "null_reason": reason,
            "null_reasons": {} if reason is None else {"median_days": reason}}


def _mean_won_days(opps, start, end, as_of, backend=None) -> float | None:
    """pipeline_metrics' sales_cycle_days of a frame or an engine table (one aggregate row on `backend`)."""
    s, last, a = engine.period_bounds(start, end, as_of)
    found = engine.run(engine.pipeline_expr(table(opps), s, last, a), backend)
    return derive_pipeline(engine.total(found))["sales_cycle_days"]
