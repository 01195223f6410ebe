"""Shared goals (notebook 04): targets, progress, a censoring-aware forecast and its backtest,
pipeline coverage and the reverse funnel (受注目標からの逆算); plus the censoring-aware cohort
projection and median sales cycle that notebook 02 shows.

Survival estimates are lifelines' (Davidson-Pilon, *lifelines: survival analysis in Python*, JOSS
2019): ``KaplanMeierFitter`` and the Aalen-Johansen cumulative incidence of one outcome with the
others competing (Aalen & Johansen 1978), computed as lifelines computes them from the counts per
day (helpers.metrics.survival). Every figure is a plain Python value (None when undefined);
intervals are percentile intervals of a bootstrap over opportunities (or leads) with a fixed
seed, so the same data give the same numbers. The forecast, its backtest, the funnel rates, the
coverage, the conversion curves, the cohort projection and the median sales cycle read the data as
engine aggregates (helpers.metrics.goals_engine, helpers.metrics.lead_outcomes: counts per day, per
block, per amount, quantiles), so a warehouse returns aggregates, not leads or deals.
Definitions: docs/glossary.md, "Shared goals".

The concerns live in their own modules (every public name stays importable from here):
helpers.metrics.survival, goals_constants, goals_engine, lead_outcomes, goals_forecast,
goals_targets, goals_plan and cohort_projection.
"""
from __future__ import annotations

import copy

import pandas as pd

from helpers.data.periods import Period
from helpers.data.schema import DEFAULT_DEPARTMENT, TARGET_METRICS  # noqa: F401  (public through this module)
# The goals' modules, by concern; every public name stays importable from here.
from helpers.metrics.cohort_projection import (conversion_curves, lead_history, projected_cohort_rates,  # noqa: F401
                                               sales_cycle_median)
from helpers.metrics.goals_constants import (BACKTEST_DAYS, BACKTEST_REFITS, BACKTEST_SIMULATIONS,  # noqa: F401
                                             COVERAGE_AIM, FUNNEL_STEPS, HORIZON_DAYS, IMPLAUSIBLE_RATIO, INTERVAL_KEYS,
                                             LOOKBACK_DAYS, MIN_HISTORY_DAYS, RATE_DAYS, REFITS, SEED, SIMULATIONS,
                                             TEN_THOUSAND_CURRENCIES, UNIT_SLIPS, WARMUP_DAYS, WON_METRICS)
from helpers.metrics import goals_engine
from helpers.metrics.pipeline import day
from helpers.metrics.source import memoized
from helpers.metrics.goals_data import GoalData, frames_data  # noqa: F401
from helpers.metrics.goals_forecast import (BLOCK_DAYS, CLOSING_BLOCKS, _interval, _new_win_prob,  # noqa: F401
                                            _open_win_prob, _window, backtest, backtest_from, backtest_jobs,
                                            backtest_summary, forecast, forecast_from, no_backtest,
                                            opportunity_history, period_variation)
from helpers.metrics.goals_plan import (coverage_windows, funnel_rates, funnel_rates_of, pipeline_coverage,  # noqa: F401
                                        pipeline_coverage_of, plan, plan_of, plan_windows, rate_inputs, rates_windows,
                                        reverse_arithmetic, reverse_funnel, trailing_pipeline, want_rates_windows)
from helpers.metrics.goals_targets import (LEAD_STAGE_COLUMN, actual, actual_of, covered, data_channels,  # noqa: F401
                                           elapsed_share, given_goals, lead_metric_gap, main_goal, notes_windows,
                                           progress, progress_of, progress_windows, target_notes, target_notes_of,
                                           targets_for, targets_for_of, targets_windows, unit_slip)
from helpers.metrics.survival import (_step_values, cumulative_incidence, km_median, km_survival,  # noqa: F401
                                      survival_curve)


# --------------------------------------------------------------------------- the metrics.json section
def goals_section(wb, period: Period, first_date, forecast_result: dict | None = None, backtest_result: dict | None = None,
                  rates: dict | None = None) -> dict:
    """metrics.json `goals` of a loaded workbook's frames (:func:`section_of`).

    `forecast_result` / `backtest_result` / `rates` (:func:`funnel_rates` on as_of) are reused when given (the notebook
    computes them once).
    """
    opps, as_of = wb.opportunities, wb.as_of
    data = frames_data(wb.leads, opps, as_of)
    f = forecast_result if forecast_result is not None else forecast(opps, period, as_of)
    rates = rates if rates is not None else funnel_rates_of(data)
    bt = backtest_result if backtest_result is not None else backtest(opps, as_of, wb.config.fiscal_year_start_month, first_date)
    return section_of(data, wb.targets, wb.spend, wb.config.currency_code, period, first_date, f, bt, rates)


def section_of(data: GoalData, targets, spend, currency: str, period: Period, first_date, forecast_result: dict | None,
               backtest_result: dict, rates: dict) -> dict:
    """metrics.json `goals`: {targets, target_notes, progress, forecast: {won_revenue, won_count}, coverage, reverse_funnel,
    backtest}, read from a :class:`helpers.metrics.goals_data.GoalData` (`targets`, `spend`: the small tables)."""
    goals = targets_for_of(data, targets, period, first_date)
    f = forecast_result
    revenue_target = main_goal(goals)
    return {
        "targets": goals,
        "target_notes": target_notes_of(data, goals, period, first_date, currency),
        "progress": progress_of(data, goals, period, spend),
        "forecast": {k: (None if f is None else f[k]) for k in ("won_revenue", "won_count")},
        "coverage": pipeline_coverage_of(data, period, revenue_target),
        "reverse_funnel": reverse_funnel(revenue_target, rates),
        "backtest": backtest_result,
    }


def _want_windows(data: GoalData, period: Period, given: list[dict], inputs: dict, jobs) -> None:
    """Ask `data` for every window :func:`goals_of` and the plan read (`given`: the period's targets.csv goals;
    `inputs`: goals_plan.rate_inputs; `jobs`: the backtest's, or None), in one query per table: the pipeline's over
    all of them, the lead counts' over those a lead figure reads (the targets, progress, the rates' cohort and the
    plan's lead stages), not over the ones only the pipeline reads (notes, coverage, trailing rates, the plan's
    opportunity stage, the backtest), each counted over every lead."""
    pipeline_only, both = ("opps",), ("opps", "leads")
    given = given + [{"metric": None, "channel": None, "source": None}]
    cutoff = pd.Timestamp(data.as_of).normalize()
    data.want(*targets_windows(period))
    data.want(*notes_windows(given, period), sides=pipeline_only)
    data.want(*progress_windows(given, period))
    data.want(*coverage_windows(period, data.as_of), sides=pipeline_only)
    want_rates_windows(data, inputs)
    for stage, w in plan_windows(period, inputs["days_to_won"]).items():
        if w is not None and w[0] <= cutoff:
            data.want(w, sides=pipeline_only if stage == "opportunity" else both)
    data.want(*(jobs.windows if jobs else []), sides=pipeline_only)


def goals_of(source, period: Period, as_of, targets, spend, config, warning_codes=()) -> dict:
    """Everything notebook 04 computes for `period`, from a :class:`helpers.metrics.source.Source` (aggregates only):
    {section (metrics.json `goals`, before helpers.metrics.limits.explain_goals), forecast, rates, plan, facts
    (helpers.metrics.limits.DataFacts), first (the data's first day)}.

    Its reads, whatever the number of goals, windows and backtest periods: the facts (one row); the forecast's and
    every backtest forecast's counts (one query: helpers.metrics.goals_engine.forecast_inputs); the rates' recent deals
    and days to won (one row) and deal sizes; every window the targets, progress, notes, coverage, rates, plan and
    backtest read (one query on the opportunities, one on the leads over the windows a lead count reads:
    :func:`_want_windows`, helpers.metrics.goals_data); the cohort's channel mix; the channels held, when a goal
    names one. The backtest is skipped when the facts make it
    undefined (helpers.metrics.limits.explain_goals nulls it then); it forecasts the complete periods before as_of,
    whatever `period`, so its simulations run once per source, as_of and first day (:meth:`Source.memo
    <helpers.metrics.source.Source.memo>`: the periods of a run's kernel share them)."""
    data = GoalData(source, as_of, warning_codes)
    known = data.facts()
    facts, first = known["facts"], known["first"]
    skip = bool(facts.no_lost_deals or facts.one_created_at or facts.no_amounts or facts.nothing_closed)
    jobs = None if skip else backtest_jobs(first, as_of, config.fiscal_year_start_month)
    hists, won = goals_engine.forecast_inputs(data.opps(), [(period, as_of)] + (jobs.dates if jobs else []), source.backend)
    inputs = rate_inputs(data)
    _want_windows(data, period, given_goals(targets, period), inputs, jobs)
    f = forecast_from(hists[0], won, period, as_of)
    if jobs is None:
        bt = no_backtest()
    else:   # the complete periods before as_of, whatever the period: once per source (Source.memo), each its copy
        key = ("goals_backtest", day(as_of), day(first), config.fiscal_year_start_month, tuple(warning_codes))
        bt = copy.deepcopy(memoized(source, key, lambda: backtest_from(
            jobs, [data.pipeline(start, end)["won_revenue"] for start, end in jobs.windows], hists[1:], won)))
    rates = funnel_rates_of(data, inputs)
    section = section_of(data, targets, spend, config.currency_code, period, first, f, bt, rates)
    return {"section": section, "forecast": f, "rates": rates, "facts": facts, "first": first, "data": data}
