"""Benchmark: how often the goals forecast's 95% interval holds the actual (the backtest's coverage), on the sample,
on a generated data set whose rates drift from quarter to quarter and on the CRM-like fixture (tests/fixtures/crm_drift).

`python -m benchmarks.bench_forecast [--seed 11] [--years 4]` (`make bench-forecast`). Prints, for each data set,
the 95% and 80% coverage of the backtest (forecasts 30 and 60 days into every past quarter) with the forecast as
shipped (period effects: one past period's rates drawn whole per simulation, helpers.metrics.goals.period_variation;
the seasonal term of helpers.metrics.season), without the seasonal term, and with fixed rates (sampling noise only),
and their mean interval widths relative to the shipped one. Coverage is a share, not a time: nothing here is timed.
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


#: The price list of the CRM-like fixture (a product catalogue: every won deal is one product at its list price).
PRICES = (550.0, 1096.0, 3393.0, 4821.0, 5482.0, 26768.0)


def crm_like_opportunities(seed: int = 24, quarters: int = 12, start: str = "2016-10-01") -> tuple[pd.DataFrame, pd.Timestamp]:
    """Opportunities shaped like the public CRM export of issue 24 (a catalogue of six products sold at list price,
    a win rate near 60%, cycles of a few weeks), with rates that drift from quarter to quarter: the number of deals
    (log scale, sd 0.2 a quarter), the win chance (logit scale, sd 0.4) and the product mix (the share of the two
    dearest products, logit scale, sd 0.5) walk at random; reps pull the deals due in a quarter's first days into
    the last two weeks before it ends (a quarter-end push, half of them). Calendar quarters, as_of = the last day.

    Columns opportunity_id, created_at, closed_at, outcome (won / lost / open on as_of), amount (the list price; left
    empty on lost deals, as the export does). Fixed `seed`: the same set every run (tests/fixtures/crm_drift).
    """
    rng = np.random.default_rng(seed)
    first = pd.Timestamp(start)
    log_rate, logit_win, logit_dear = np.log(60.0), np.log(0.6 / 0.4), np.log(0.15 / 0.85)
    rows = []
    for q in range(quarters):
        log_rate += rng.normal(0, 0.2)
        logit_win += rng.normal(0, 0.4)
        logit_dear += rng.normal(0, 0.5)
        q_start = first + pd.DateOffset(months=3 * q)
        days = (q_start + pd.DateOffset(months=3) - q_start).days
        win, dear = 1 / (1 + np.exp(-logit_win)), 1 / (1 + np.exp(-logit_dear))
        for _ in range(rng.poisson(np.exp(log_rate))):
            created = q_start + pd.Timedelta(days=int(rng.integers(0, days)))
            closed = created + pd.Timedelta(days=int(np.ceil(rng.lognormal(np.log(40), 0.6))))
            quarter_start = closed.to_period("Q").start_time
            if (closed - quarter_start).days < 14 and rng.random() < 0.5:   # the quarter-end push
                closed = max(quarter_start - pd.Timedelta(days=int(rng.integers(1, 15))), created)
            product = rng.choice(PRICES[4:]) if rng.random() < dear else rng.choice(PRICES[:4])
            won = rng.random() < win
            rows.append((created, closed, "won" if won else "lost", product if won else np.nan))
    as_of = first + pd.DateOffset(months=3 * quarters) - pd.Timedelta(days=1)
    frame = pd.DataFrame(rows, columns=["created_at", "closed_at", "outcome", "amount"]).sort_values(
        ["created_at", "closed_at"], kind="stable")
    frame.insert(0, "opportunity_id", [f"C{i:05d}" for i in range(len(frame))])
    still_open = frame["closed_at"] > as_of
    frame.loc[still_open, "outcome"] = "open"
    frame.loc[still_open, "closed_at"] = pd.NaT
    frame.loc[still_open, "amount"] = np.nan
    return frame.reset_index(drop=True), as_of


#: The variants compared: (name, period effects, seasonal term).
VARIANTS = (("as shipped", True, True), ("no seasonal term", True, False), ("fixed rates", False, False))


#: The CRM-like set as committed (tests/fixtures/crm_drift, written by :func:`crm_like_opportunities`) and its as_of.
CRM_FIXTURE = "tests/fixtures/crm_drift/opportunities.csv"
CRM_AS_OF = pd.Timestamp("2019-09-30")


def read_crm_fixture(path) -> pd.DataFrame:
    """The committed CRM-like opportunities (columns as :func:`crm_like_opportunities`, dates parsed)."""
    return pd.read_csv(path, parse_dates=["created_at", "closed_at"], dtype={"opportunity_id": str, "outcome": str})


def coverage(opps: pd.DataFrame, as_of, fiscal_year_start_month: int, first, period_effects: bool,
             seasonal: bool = True) -> dict:
    """{coverage_95, coverage_80, forecasts, mean_width_95} of :func:`helpers.metrics.goals.backtest` on `opps`."""
    bt = goals.backtest(opps, as_of, fiscal_year_start_month, first, period_effects=period_effects, seasonal=seasonal)
    summary = goals.backtest_summary(bt)
    widths = [r["high_95"] - r["low_95"] for r in bt["periods"]]
    return {"coverage_95": summary["interval_coverage_95"], "coverage_80": summary["interval_coverage_80"],
            "forecasts": summary["forecasts"], "mean_width_95": float(np.mean(widths)) if widths else None}


def _line(name: str, runs: list[dict]) -> str:
    """One data set: its forecasts, then each variant's 95% and 80% coverage and mean 95% width relative to the shipped."""
    base = runs[0]["mean_width_95"]
    cells = [f"{label} {r['coverage_95']:.0%} / {r['coverage_80']:.0%}"
             + (f" (width ×{r['mean_width_95'] / base:.2f})" if k and base and r["mean_width_95"] else "")
             for k, ((label, *_), r) in enumerate(zip(VARIANTS, runs))]
    return f"{name:<26} {runs[0]['forecasts']:>3} forecasts   95% / 80% coverage: " + "   ".join(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_forecast", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11, help="seed of the drifting data set (default 11)")
    parser.add_argument("--years", type=int, default=4, help="years of drifting data (default 4)")
    args = parser.parse_args(argv)

    from helpers.config import load_config
    from helpers.data.load import first_data_date, load_workbook
    from helpers.paths import PROJ_ROOT, SAMPLE_DATA_DIR

    wb = load_workbook(SAMPLE_DATA_DIR, load_config(SAMPLE_DATA_DIR))
    sets = [("sample", wb.opportunities, wb.as_of, wb.config.fiscal_year_start_month, first_data_date(wb))]
    opps, as_of = drifting_opportunities(args.seed, args.years)
    sets.append((f"drifting (seed {args.seed})", opps, as_of, 1, opps["created_at"].min()))
    crm = read_crm_fixture(PROJ_ROOT / CRM_FIXTURE)
    sets.append(("CRM-like fixture", crm, CRM_AS_OF, 1, crm["created_at"].min()))
    for name, frame, when, fy, first in sets:
        print(_line(name, [coverage(frame, when, fy, first, effects, seasonal) for _, effects, seasonal in VARIANTS]))
    print(f"aim: 95% coverage of at least {goals.COVERAGE_AIM:.0%} (80% coverage near 80%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
