"""The parameters of the shared goals (notebook 04): history windows, resampling sizes, the backtest's forecast days
and the plausibility rule of a goal; one place for the modules behind helpers.metrics.goals."""
from __future__ import annotations

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
