"""Pipeline coverage, the rates of the funnel and the reverse funnel from the revenue goal (受注目標からの逆算), and the
plan by department of notebook 04. Definitions: docs/glossary.md, "Shared goals".
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from helpers.data.periods import Period
from helpers.metrics import engine
from helpers.metrics.funnel import derive_cohort
from helpers.metrics.goals_constants import FUNNEL_STEPS, HORIZON_DAYS, LOOKBACK_DAYS, RATE_DAYS, SEED
from helpers.metrics.goals_data import GoalData, frames_data
from helpers.metrics.goals_engine import recent_deals_expr, won_amounts
from helpers.metrics.goals_forecast import percentile_bounds
from helpers.metrics.lead_outcomes import channel_mix_expr, won_lead_days_expr
from helpers.metrics.pipeline import day, ratio
from helpers.metrics.season import resamples


def trailing_pipeline(opps: pd.DataFrame, as_of, days: int = RATE_DAYS) -> dict:
    """pipeline_metrics over the `days` days ending on as_of (the data's recent win rate, deal size, cycle)."""
    return trailing_pipeline_of(frames_data(None, opps, as_of), days)


def trailing_window(as_of, days: int = RATE_DAYS) -> tuple:
    """The `days` days ending on as_of: (first, last) as Timestamps."""
    cutoff = day(as_of)
    return cutoff - pd.Timedelta(days=days - 1), cutoff


def trailing_pipeline_of(data: GoalData, days: int = RATE_DAYS) -> dict:
    """:func:`trailing_pipeline` of a :class:`helpers.metrics.goals_data.GoalData` (a window of its batch)."""
    return data.pipeline(*trailing_window(data.as_of, days))


def pipeline_coverage(opps: pd.DataFrame, period: Period, as_of, revenue_target) -> dict:
    """:func:`pipeline_coverage_of` of a pandas frame."""
    return pipeline_coverage_of(frames_data(None, opps, as_of), period, revenue_target)


def coverage_windows(period: Period, as_of) -> list[tuple]:
    """The windows :func:`pipeline_coverage_of` reads: as_of alone (the deals open then), the period, the trailing days."""
    cutoff = day(as_of)
    return [(cutoff, cutoff), (period.start, period.end), trailing_window(as_of)]


def pipeline_coverage_of(data: GoalData, period: Period, revenue_target) -> dict:
    """Pipeline coverage = open pipeline amount on as_of ÷ remaining target (target − won revenue so far),
    against the coverage the data's win rate implies (1 ÷ win rate of the deals closed in the last RATE_DAYS days).

    Returns {open_pipeline_amount, open_amount_unknown_count (the open deals without an amount, left out of the
    amount), remaining_target, coverage, win_rate, implied_coverage, sufficient,
    null_reasons}; coverage is None when there is no target, the target is already met, or the
    period is over (no days left for the pipeline to close).
    """
    cutoff = day(data.as_of)
    reasons = {}
    # the deals open on as_of (an engine aggregate): deals open none of which has an amount is unknown, never 0
    open_ = data.pipeline(cutoff, cutoff)["open_pipeline"]
    open_amount = open_["amount"]
    if open_amount is None:
        reasons["open_pipeline_amount"] = "open_amounts_missing"
    won = data.pipeline(period.start, period.end)["won_revenue"]
    win_rate = trailing_pipeline_of(data)["win_rate"]
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
    return {"open_pipeline_amount": open_amount, "open_amount_unknown_count": int(open_.get("amount_unknown_count") or 0),
            "remaining_target": remaining, "coverage": coverage,
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


def funnel_rates(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of) -> dict:
    """:func:`funnel_rates_of` of pandas frames."""
    return funnel_rates_of(frames_data(leads, opps, as_of))


def rate_inputs(data: GoalData) -> dict:
    """What :func:`funnel_rates_of` reads before its windows, in one row fetched (and the deal sizes): the recent
    deals (helpers.metrics.goals_engine.recent_deals_expr) and, with leads, the days from lead to won
    (helpers.metrics.lead_outcomes.won_lead_days_expr); so the rates' ``days_to_won`` (which :func:`plan_windows`
    moves the period by) and the mature cohort's window are known before any window is fetched.

    Returns {row, won_amounts, maturity_days, days_to_won, cohort (first, last) or None}."""
    a, opps_t, leads_t = data.a, data.opps(), data.leads()
    expr = recent_deals_expr(opps_t, leads_t, a, RATE_DAYS)
    if leads_t is not None:
        expr = expr.cross_join(won_lead_days_expr(leads_t, opps_t, a, a - dt.timedelta(days=LOOKBACK_DAYS), 0.8))
    row = data.source.fetch(expr).to_pylist()[0]
    out = {"row": row, "won_amounts": won_amounts(opps_t, a, RATE_DAYS, data.source.backend), "maturity_days": None,
           "days_to_won": {"lead": None, "mql": None, "sql": None,
                           "opportunity": float(row["won_m"]) if row["won_n"] else None}, "cohort": None}
    if leads_t is None:
        return out
    out["maturity_days"] = float(row["q"]) if row["n"] else float(HORIZON_DAYS)
    out["days_to_won"].update({k: float(row[f"m_{k}"]) if row[f"n_{k}"] else None for k in ("lead", "mql", "sql")})
    c_end = day(data.as_of) - pd.Timedelta(days=int(round(out["maturity_days"])))
    out["cohort"] = (c_end - pd.Timedelta(days=RATE_DAYS - 1), c_end)
    return out


def rates_windows(data: GoalData, inputs: dict) -> list[tuple]:
    """The windows :func:`funnel_rates_of` reads: the trailing days and the mature cohort (with leads)."""
    return [trailing_window(data.as_of)] + ([inputs["cohort"]] if inputs["cohort"] is not None else [])


def want_rates_windows(data: GoalData, inputs: dict) -> None:
    """Ask `data` for :func:`rates_windows`: the trailing days for the pipeline alone (no lead count reads them), the
    mature cohort for the lead counts too."""
    trailing, *cohort = rates_windows(data, inputs)
    data.want(trailing, sides=("opps",))
    data.want(*cohort)


def funnel_rates_of(data: GoalData, inputs: dict | None = None) -> dict:
    """The rates the reverse funnel divides by, as the data gives them on as_of (`inputs`: :func:`rate_inputs`, fetched
    when not given).

    - ``avg_deal_size``, ``win_rate`` (with ``won_count``, ``closed_count``): deals closed in the last RATE_DAYS days.
    - ``lead_sourced_share``: share of the opportunities created in those days linked to a lead.
    - ``won_amounts``: the known amounts of the deals won in those days (increasing: the reverse funnel's sample).
    - ``mql_rate``, ``sql_rate``, ``opportunity_rate`` (with their denominators ``leads``, ``mql``, ``sql``): the
      cohort of leads created in the RATE_DAYS days ending ``maturity_days`` before as_of (mature cohorts),
      ``maturity_days`` = 80th percentile of days from lead created to its deal won (HORIZON_DAYS when unknown).
    - ``channel_mix``: {channel: {leads, mql}} shares of those cohort leads and MQLs.
    - ``null_reasons``: without any mql_at / sql_at the stage's cohort figures (mql, mql_rate, sql_rate / sql,
      sql_rate, opportunity_rate) and the mix's MQL shares are None, with no_mql_dates / no_sql_dates
      (:func:`stage_rate_nulls`).
    - ``days_to_won``: median days from lead created / mql_at / sql_at / opportunity created to won closed_at,
      over leads whose deal was won in the LOOKBACK_DAYS before as_of.
    Lead figures are None without a leads table. Every figure is an engine aggregate (helpers.metrics.goals_engine,
    helpers.metrics.lead_outcomes, helpers.metrics.goals_data: a lead's first linked deal; counts, quantiles, counts
    per channel and amount).
    """
    inputs = inputs if inputs is not None else rate_inputs(data)
    want_rates_windows(data, inputs)
    trail = trailing_pipeline_of(data)
    row = inputs["row"]
    out = {"avg_deal_size": trail["avg_deal_size"], "win_rate": trail["win_rate"], "won_count": trail["won_count"],
           "closed_count": trail["won_count"] + trail["lost_count"], "won_amounts": inputs["won_amounts"],
           "lead_sourced_share": None, "opportunities_recent": int(row["recent"]), "maturity_days": None,
           "mql_rate": None, "sql_rate": None, "opportunity_rate": None, "leads": None, "mql": None, "sql": None,
           "channel_mix": {}, "days_to_won": dict(inputs["days_to_won"])}
    if inputs["cohort"] is None:
        return out
    out["lead_sourced_share"] = ratio(row["linked"], row["recent"])
    out["maturity_days"] = inputs["maturity_days"]
    c_start, c_end = inputs["cohort"]
    cohort = derive_cohort(data.lead_counts(c_start, c_end)["cohort"], 0, c_end, data.as_of)
    out.update({"mql_rate": cohort["mql_rate"], "sql_rate": cohort["sql_rate"], "opportunity_rate": cohort["opportunity_rate"],
                "leads": cohort["leads"], "mql": cohort["mql"], "sql": cohort["sql"],
                "cohort_start": c_start, "cohort_end": c_end})
    mix = data.source.fetch(channel_mix_expr(data.leads(), data.opps(), data.a, engine._day(c_start),
                                             engine._day(c_end))).to_pylist()
    n_leads, n_mql = sum(r["leads"] for r in mix), sum(r["mql"] for r in mix)
    no_mql = stage_rate_nulls(out, data)
    if n_leads:
        out["channel_mix"] = {str(r["channel"]): {"leads": r["leads"] / n_leads,
                                                  "mql": None if no_mql else r["mql"] / n_mql if n_mql else 0.0}
                              for r in sorted(mix, key=lambda r: str(r["channel"]))}
    return out


#: A lead stage's date column -> the cohort figures of :func:`funnel_rates_of` it makes unknown (the funnel's cohort
#: rule, helpers.metrics.limits.DataFacts.stage_codes): no mql_at -> the MQLs and the rates into and out of MQL.
STAGE_RATE_FIGURES = {"mql_at": ("mql", "mql_rate", "sql_rate"), "sql_at": ("sql", "sql_rate", "opportunity_rate")}


def stage_rate_nulls(out: dict, data: GoalData) -> bool:
    """Null in `out` (the rates of :func:`funnel_rates_of`, changed in place) the cohort figures of a lead stage the
    data does not record (no lead carries its date: ``no_mql_dates`` / ``no_sql_dates`` by
    :func:`helpers.metrics.pipeline.stage_dates_reason`, read through ``DataFacts.stage_codes``), each reason
    in ``out["null_reasons"]`` (sql_rate says no_mql_dates when both hold); True when the MQL stage is unknown (the
    channel mix's MQL shares are too). A count of such a stage is a guess (a lead with a deal counted as an MQL), not 0.
    Read from the goals' facts row (:meth:`GoalData.facts`, fetched once: its leads carrying an mql_at / sql_at)."""
    from helpers.metrics.limits import with_stage_facts

    known = data.facts()
    codes = with_stage_facts(known["facts"], known["leads"]).stage_codes
    reasons = {}
    for column, code in reversed(codes.items()):   # sql first: the MQL reason wins
        for key in STAGE_RATE_FIGURES[column]:
            out[key] = None
            reasons[key] = code
    if reasons:
        out["null_reasons"] = dict(out.get("null_reasons") or {}, **reasons)
    return "mql_at" in codes


def resampled_means(amounts: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """The means of `draws` resamples (with replacement, each as long as `amounts`) of `amounts`: ``draws`` floats.

    The same numbers as ``amounts[rng.integers(0, len(amounts), (draws, len(amounts)))].mean(axis=1)`` (the generator
    fills the rows in order, and each row's mean is its own), drawn a block of rows at a time
    (:func:`helpers.metrics.season.resamples`): at 10M leads that one array of positions and its amounts took 6 GiB
    (2,000 resamples of some 200,000 won deals)."""
    return np.concatenate([amounts[pick].mean(axis=1) for pick in resamples(rng, len(amounts), draws)])


def reverse_funnel(revenue_target, rates: dict, draws: int = 2000, seed: int = SEED) -> dict:
    """Reverse funnel from the revenue target with 95% intervals from the rates' uncertainty:
    {won_count, opportunities, sqls, mqls, leads: {expected, low_95, high_95}}.

    expected: :func:`reverse_arithmetic` on `rates` (:func:`funnel_rates`). Intervals: `draws` draws
    with a fixed seed, each rate redrawn as a binomial proportion on its own denominator (win rate on
    the closed deals, step rates on the cohort counts, lead-sourced share on the recent opportunities)
    and the average deal as the mean of a resample of the won amounts; percentiles 2.5 and 97.5, a bound moved out to
    expected when it lies beyond (helpers.metrics.goals_forecast.percentile_bounds: a point inside its interval).
    ``null_reasons``: the steps a rate the data cannot give leaves unknown (:func:`stage_step_reasons`).
    """
    point = reverse_arithmetic(revenue_target, rates["avg_deal_size"], rates["win_rate"], rates["opportunity_rate"],
                               rates["sql_rate"], rates["mql_rate"], rates["lead_sourced_share"] if rates["lead_sourced_share"] is not None else 1.0)
    rng = np.random.default_rng(seed)

    def prop(p, n):
        if p is None or not n:
            return np.full(draws, np.nan)
        return rng.binomial(int(n), float(p), draws) / float(n)

    amounts = rates["won_amounts"]
    deal = resampled_means(amounts, draws, rng) if len(amounts) else np.full(draws, np.nan)
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
        low, high = percentile_bounds(values, point[key], 95) if ok else (None, None)
        out[key] = {"expected": point[key], "low_95": low, "high_95": high}
    reasons = stage_step_reasons(rates.get("null_reasons") or {})
    if reasons:
        out["null_reasons"] = reasons
    return out


#: A reverse funnel step -> the rate it divides by (from the SQLs on: a step is unknown when an earlier one is).
STEP_RATES = (("sqls", "opportunity_rate"), ("mqls", "sql_rate"), ("leads", "mql_rate"))


def stage_step_reasons(rate_reasons: dict) -> dict:
    """The reasons of the reverse funnel's steps left unknown by a rate the data cannot give (`rate_reasons`: the
    rates' null_reasons, :func:`stage_rate_nulls`): {step: code}, a step whose own rate is null its rate's reason, a
    later step whose rate is known the earlier step's (no sql_at only: SQLs, MQLs and leads say no_sql_dates; neither:
    SQLs no_sql_dates, MQLs and leads no_mql_dates)."""
    out, code = {}, None
    for step, rate in STEP_RATES:
        code = rate_reasons.get(rate) or code
        if code:
            out[step] = code
    return out


def plan(leads, opps, period: Period, as_of, revenue_target, rates: dict, funnel: dict) -> dict:
    """:func:`plan_of` of pandas frames."""
    return plan_of(frames_data(leads, opps, as_of), period, revenue_target, rates, funnel)


#: The plan's stages and the reverse funnel's key of each.
STAGE_KEYS = {"lead": "leads", "mql": "mqls", "sql": "sqls", "opportunity": "opportunities"}


def plan_windows(period: Period, days_to_won: dict) -> dict:
    """For each stage of :data:`STAGE_KEYS` the dates its entries must fall in for the deals to win inside the period:
    (first, last) = the period moved back by the stage's median days to won (`days_to_won`; None when unknown)."""
    out = {}
    for stage in STAGE_KEYS:
        shift = days_to_won.get(stage)
        out[stage] = None if shift is None else (period.start - pd.Timedelta(days=int(round(shift))),
                                                 period.end - pd.Timedelta(days=int(round(shift))))
    return out


def plan_of(data: GoalData, period: Period, revenue_target, rates: dict, funnel: dict) -> dict:
    """What each department must deliver for the period's revenue target, by when, and the gap to the current flow.

    - ``windows``: for each stage (lead, mql, sql, opportunity) the dates its entries must fall in for the
      deals to win inside the period: [start, end] moved back by the stage's median days to won.
    - ``so_far``: stage entries already dated in that window up to as_of (leads created, mql_at, sql_at,
      opportunities created) and whether the window is over; ``gap`` = needed (expected) − so far.
    - ``by_channel``: leads and MQLs needed per channel at the cohort channel mix.
    """
    cutoff = day(data.as_of)
    windows, so_far, gap = {}, {}, {}
    for stage, dates in plan_windows(period, rates["days_to_won"]).items():
        key = STAGE_KEYS[stage]
        if dates is None:
            windows[stage] = None
            continue
        first, last = dates
        windows[stage] = {"start": first, "end": last, "over": bool(last <= cutoff)}
        if first > cutoff:
            count = 0
        elif stage == "opportunity":
            count = data.pipeline(first, last)["opportunities_created"]
        else:
            counts = data.lead_counts(first, last)
            count = None if counts is None else counts[key]
        so_far[stage] = count
        need = funnel[key]["expected"]
        gap[stage] = None if need is None or count is None else need - count
    by_channel = {}
    for ch, mix in rates.get("channel_mix", {}).items():
        by_channel[ch] = {"leads": None if funnel["leads"]["expected"] is None else funnel["leads"]["expected"] * mix["leads"],
                          "mqls": None if funnel["mqls"]["expected"] is None else funnel["mqls"]["expected"] * mix["mql"]}
    return {"windows": windows, "so_far": so_far, "gap": gap, "by_channel": by_channel,
            "revenue_target": revenue_target}
