"""Pipeline coverage, the rates of the funnel and the reverse funnel from the revenue goal (受注目標からの逆算), and the
plan by department of notebook 04. Definitions: docs/glossary.md, "Shared goals".
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from helpers.data.periods import Period
from helpers.metrics.funnel import funnel_cohort, funnel_period
from helpers.metrics import engine
from helpers.metrics.goals_constants import FUNNEL_STEPS, HORIZON_DAYS, LOOKBACK_DAYS, RATE_DAYS, SEED
from helpers.metrics.goals_engine import _fetch, recent_deals_expr, table, won_amounts
from helpers.metrics.lead_outcomes import channel_mix_expr, leads_input, won_lead_days_expr
from helpers.metrics.pipeline import day, pipeline_metrics, ratio


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
    reasons = {}
    # the deals open on as_of (an engine aggregate): deals open none of which has an amount is unknown, never 0
    open_amount = pipeline_metrics(opps, cutoff, cutoff, cutoff)["open_pipeline"]["amount"]
    if open_amount is None:
        reasons["open_pipeline_amount"] = "open_amounts_missing"
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


def funnel_rates(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of) -> dict:
    """The rates the reverse funnel divides by, as the data gives them on as_of.

    - ``avg_deal_size``, ``win_rate`` (with ``won_count``, ``closed_count``): deals closed in the last RATE_DAYS days.
    - ``lead_sourced_share``: share of the opportunities created in those days linked to a lead.
    - ``won_amounts``: the known amounts of the deals won in those days (increasing: the reverse funnel's sample).
    - ``mql_rate``, ``sql_rate``, ``opportunity_rate`` (with their denominators ``leads``, ``mql``, ``sql``): the
      cohort of leads created in the RATE_DAYS days ending ``maturity_days`` before as_of (mature cohorts),
      ``maturity_days`` = 80th percentile of days from lead created to its deal won (HORIZON_DAYS when unknown).
    - ``channel_mix``: {channel: {leads, mql}} shares of those cohort leads and MQLs.
    - ``days_to_won``: median days from lead created / mql_at / sql_at / opportunity created to won closed_at,
      over leads whose deal was won in the LOOKBACK_DAYS before as_of.
    Lead figures are None without a leads table. Every figure is an engine aggregate (helpers.metrics.goals_engine,
    helpers.metrics.lead_outcomes: a lead's first linked deal; counts, quantiles, counts per channel and amount).
    """
    cutoff = day(as_of)
    a = engine._day(as_of)
    trail = trailing_pipeline(opps, as_of)
    opps_t = table(opps)
    leads_t = None if leads is None else leads_input(leads, {"channel": "channel"})
    deals = engine.run(recent_deals_expr(opps_t, leads_t, a, RATE_DAYS))[engine.ALL]
    out = {"avg_deal_size": trail["avg_deal_size"], "win_rate": trail["win_rate"], "won_count": trail["won_count"],
           "closed_count": trail["won_count"] + trail["lost_count"], "won_amounts": won_amounts(opps_t, a, RATE_DAYS),
           "lead_sourced_share": None, "opportunities_recent": int(deals["recent"]), "maturity_days": None,
           "mql_rate": None, "sql_rate": None, "opportunity_rate": None, "leads": None, "mql": None, "sql": None,
           "channel_mix": {}, "days_to_won": {"lead": None, "mql": None, "sql": None,
                                              "opportunity": float(deals["won_m"]) if deals["won_n"] else None}}
    if leads is None:
        return out
    out["lead_sourced_share"] = ratio(deals["linked"], deals["recent"])
    won = engine.run(won_lead_days_expr(leads_t, opps_t, a, a - dt.timedelta(days=LOOKBACK_DAYS), 0.8))[engine.ALL]
    out["maturity_days"] = float(won["q"]) if won["n"] else float(HORIZON_DAYS)
    out["days_to_won"] = {**{k: float(won[f"m_{k}"]) if won[f"n_{k}"] else None for k in ("lead", "mql", "sql")},
                          "opportunity": out["days_to_won"]["opportunity"]}
    c_end = cutoff - pd.Timedelta(days=int(round(out["maturity_days"])))
    c_start = c_end - pd.Timedelta(days=RATE_DAYS - 1)
    cohort = funnel_cohort(leads, opps, c_start, c_end, as_of, typical_days=0)
    out.update({"mql_rate": cohort["mql_rate"], "sql_rate": cohort["sql_rate"], "opportunity_rate": cohort["opportunity_rate"],
                "leads": cohort["leads"], "mql": cohort["mql"], "sql": cohort["sql"],
                "cohort_start": c_start, "cohort_end": c_end})
    mix = _fetch(channel_mix_expr(leads_t, opps_t, a, engine._day(c_start), engine._day(c_end))).to_pylist()
    n_leads, n_mql = sum(r["leads"] for r in mix), sum(r["mql"] for r in mix)
    if n_leads:
        out["channel_mix"] = {str(r["channel"]): {"leads": r["leads"] / n_leads, "mql": r["mql"] / n_mql if n_mql else 0.0}
                              for r in sorted(mix, key=lambda r: str(r["channel"]))}
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
