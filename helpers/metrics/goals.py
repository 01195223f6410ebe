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

from helpers.data.periods import Period
from helpers.data.schema import DEFAULT_DEPARTMENT, TARGET_METRICS  # noqa: F401  (public through this module)
# The goals' modules, by concern; every public name stays importable from here.
from helpers.metrics.cohort_projection import (conversion_curves, lead_history, projected_cohort_rates,  # noqa: F401
                                               sales_cycle_median)
from helpers.metrics.goals_constants import (BACKTEST_DAYS, BACKTEST_REFITS, BACKTEST_SIMULATIONS,  # noqa: F401
                                             COVERAGE_AIM, FUNNEL_STEPS, HORIZON_DAYS, IMPLAUSIBLE_RATIO, INTERVAL_KEYS,
                                             LOOKBACK_DAYS, MIN_HISTORY_DAYS, RATE_DAYS, REFITS, SEED, SIMULATIONS,
                                             TEN_THOUSAND_CURRENCIES, UNIT_SLIPS, WARMUP_DAYS, WON_METRICS)
from helpers.metrics.goals_forecast import (BLOCK_DAYS, CLOSING_BLOCKS, _interval, _new_win_prob,  # noqa: F401
                                            _open_win_prob, _window, backtest, backtest_summary, forecast,
                                            opportunity_history, period_variation)
from helpers.metrics.goals_plan import (funnel_rates, pipeline_coverage, plan,  # noqa: F401
                                        reverse_arithmetic, reverse_funnel, trailing_pipeline)
from helpers.metrics.goals_targets import (LEAD_STAGE_COLUMN, actual, covered, data_channels, elapsed_share,  # noqa: F401
                                           lead_metric_gap, main_goal, progress, target_notes, targets_for, unit_slip)
from helpers.metrics.survival import (_step_values, cumulative_incidence, km_median, km_survival,  # noqa: F401
                                      survival_curve)


# --------------------------------------------------------------------------- the metrics.json section
def goals_section(wb, period: Period, first_date, forecast_result: dict | None = None, backtest_result: dict | None = None,
                  rates: dict | None = None) -> dict:
    """metrics.json `goals`: {targets, target_notes, progress, forecast: {won_revenue, won_count}, coverage, reverse_funnel,
    backtest}.

    `forecast_result` / `backtest_result` / `rates` (:func:`funnel_rates` on as_of) are reused when given (the notebook
    computes them once).
    """
    leads, opps, as_of = wb.leads, wb.opportunities, wb.as_of
    goals = targets_for(leads, opps, wb.targets, period, as_of, first_date)
    f = forecast_result if forecast_result is not None else forecast(opps, period, as_of)
    revenue_target = main_goal(goals)
    rates = rates if rates is not None else funnel_rates(leads, opps, as_of)
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
