"""Benchmark: how often the goals forecast's 95% interval holds the actual (the backtest's coverage), on the sample
and on a generated data set whose rates drift from quarter to quarter; with and without the period effects.

`python -m benchmarks.bench_forecast [--seed 11] [--years 4]` (`make bench-forecast`). Prints, for each data set,
the 95% and 80% coverage of the backtest (forecasts 30 and 60 days into every past quarter) with the forecast as
shipped (period effects: one past period's rates drawn whole per simulation, helpers.metrics.goals.period_variation)
and with fixed rates (sampling noise only), and the ratio of their mean interval widths. Coverage is a share, not a
time: nothing here is timed.
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from helpers.metrics import goals


def drifting_opportunities(seed: int = 11, years: int = 4, start: str = "2021-01-01") -> tuple[pd.DataFrame, pd.Timestamp]:
    """Opportunities whose creation rate, win probability and deal size drift quarter by quarter (a random walk on
    the log scale: sd 0.25, 0.25 and 0.15 a quarter), cycles lognormal (median 45 days), and the snapshot date.

    Columns opportunity_id, created_at, closed_at, outcome (won / lost / open on as_of), amount; as_of = the last
    day of the data. Fixed `seed`: the same set every run.
    """
    rng = np.random.default_rng(seed)
    first = pd.Timestamp(start)
    quarters = 4 * years
    log_rate, logit_win, log_deal = np.log(60.0), np.log(0.3 / 0.7), np.log(2_000_000.0)
    rows = []
    for q in range(quarters):
        log_rate += rng.normal(0, 0.25)
        logit_win += rng.normal(0, 0.25 * 2)
        log_deal += rng.normal(0, 0.15)
        q_start = first + pd.DateOffset(months=3 * q)
        days = (q_start + pd.DateOffset(months=3) - q_start).days
        win = 1 / (1 + np.exp(-logit_win))
        for _ in range(rng.poisson(np.exp(log_rate))):
            created = q_start + pd.Timedelta(days=int(rng.integers(0, days)))
            cycle = int(np.ceil(rng.lognormal(np.log(45), 0.5)))
            rows.append((created, created + pd.Timedelta(days=cycle), "won" if rng.random() < win else "lost",
                         round(float(rng.lognormal(log_deal, 0.4)), -3)))
    as_of = first + pd.DateOffset(months=3 * quarters) - pd.Timedelta(days=1)
    frame = pd.DataFrame(rows, columns=["created_at", "closed_at", "outcome", "amount"]).sort_values("created_at")
    frame.insert(0, "opportunity_id", [f"D{i:05d}" for i in range(len(frame))])
    still_open = frame["closed_at"] > as_of
    frame.loc[still_open, "outcome"] = "open"
    frame.loc[still_open, "closed_at"] = pd.NaT
    return frame.reset_index(drop=True), as_of


def coverage(opps: pd.DataFrame, as_of, fiscal_year_start_month: int, first, period_effects: bool) -> dict:
    """{coverage_95, coverage_80, forecasts, mean_width_95} of :func:`helpers.metrics.goals.backtest` on `opps`."""
    bt = goals.backtest(opps, as_of, fiscal_year_start_month, first, period_effects=period_effects)
    summary = goals.backtest_summary(bt)
    widths = [r["high_95"] - r["low_95"] for r in bt["periods"]]
    return {"coverage_95": summary["interval_coverage_95"], "coverage_80": summary["interval_coverage_80"],
            "forecasts": summary["forecasts"], "mean_width_95": float(np.mean(widths)) if widths else None}


def _line(name: str, on: dict, off: dict) -> str:
    ratio = on["mean_width_95"] / off["mean_width_95"] if on["mean_width_95"] and off["mean_width_95"] else float("nan")
    return (f"{name:<22} {on['forecasts']:>3} forecasts   95% coverage {on['coverage_95']:.0%} (fixed rates "
            f"{off['coverage_95']:.0%})   80% coverage {on['coverage_80']:.0%} (fixed rates {off['coverage_80']:.0%})   "
            f"interval width ×{ratio:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_forecast", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11, help="seed of the drifting data set (default 11)")
    parser.add_argument("--years", type=int, default=4, help="years of drifting data (default 4)")
    args = parser.parse_args(argv)

    from helpers.config import load_config
    from helpers.data.load import first_data_date, load_workbook
    from helpers.paths import SAMPLE_DATA_DIR

    wb = load_workbook(SAMPLE_DATA_DIR, load_config(SAMPLE_DATA_DIR))
    first = first_data_date(wb)
    fy = wb.config.fiscal_year_start_month
    print(_line("sample", coverage(wb.opportunities, wb.as_of, fy, first, True),
                coverage(wb.opportunities, wb.as_of, fy, first, False)))
    opps, as_of = drifting_opportunities(args.seed, args.years)
    start = opps["created_at"].min()
    print(_line(f"drifting (seed {args.seed})", coverage(opps, as_of, 1, start, True), coverage(opps, as_of, 1, start, False)))
    print(f"aim: 95% coverage of at least {goals.COVERAGE_AIM:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
