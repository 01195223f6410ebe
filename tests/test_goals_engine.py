"""The goals forecast and backtest from engine counts (helpers/metrics/goals_engine.py, issue 26): a warehouse fetches
counts per duration day and per block, not the deals; resampling those counts is resampling the deals; the figures do
not depend on the order of the rows."""
import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data.load import first_data_date, load_workbook
from helpers.data.periods import parse_period
from helpers.metrics import engine, goals, goals_engine
from helpers.paths import SAMPLE_DATA_DIR


@pytest.fixture(scope="module")
def sample():
    wb = load_workbook(SAMPLE_DATA_DIR, load_config(SAMPLE_DATA_DIR))
    return wb, first_data_date(wb)


def _doubled(opps: pd.DataFrame) -> pd.DataFrame:
    """Every deal twice (the copy with its own id)."""
    return pd.concat([opps, opps.assign(opportunity_id=opps["opportunity_id"].astype(str) + "-2")], ignore_index=True)


def test_forecast_and_backtest_fetch_the_same_rows_from_a_table_twice_as_large(sample, monkeypatch):
    """Issue 26: the rows fetched are counts per (duration day, outcome, amount) and per block, so twice the deals fetch
    the same rows (one query for a forecast, three for the backtest of 20 forecasts); and twice the deals expect twice
    the open and new wins. (The amounts are the bootstrap's sample of the window's deal sizes: bounded by the window's
    distinct amounts, not by the table.)"""
    from counting_backend import Counting

    wb, first = sample
    period, when = parse_period("FY2026Q2", wb.config.fiscal_year_start_month), pd.Timestamp("2026-08-15")
    fetched = []
    for opps in (wb.opportunities, _doubled(wb.opportunities)):
        counting = Counting(engine.default_backend())
        monkeypatch.setattr(engine, "default_backend", lambda c=counting: c)
        f = goals.forecast(opps, period, when, refits=2, simulations=10)
        assert counting.queries == 1
        bt = goals.backtest(opps, wb.as_of, wb.config.fiscal_year_start_month, refits=2, simulations=10)
        assert counting.queries == 1 + 3 and len(bt["periods"]) == 20
        fetched.append((counting.fetched, f["parts"]))
        monkeypatch.undo()
    (once, single), (twice, double) = fetched
    assert once == twice
    for key in ("won_so_far_count", "won_so_far_revenue", "open_deals", "open_expected_count", "open_expected_revenue",
                "new_expected_count", "new_expected_revenue"):
        assert double[key] == pytest.approx(2 * single[key], rel=1e-12), key


def test_resampling_the_cells_is_resampling_the_rows():
    """A resample of n rows with replacement gives each distinct row value a multinomial count; the forecast draws row
    positions over the rows laid out in the cells' order (goals_forecast.forecast_from). Over all 5^5 equally likely
    draws of 5 positions, the counts per value come out the same as over the rows in their file order: the same
    distribution, exactly."""
    rows = [(3, 1), (1, 0), (3, 1), (2, 2), (1, 0)]                       # (duration, event) in file order
    values = sorted(set(rows))
    cells = goals_engine.Cells.sorted({"t": np.array([v[0] for v in values], dtype=float),
                                       "e": np.array([v[1] for v in values])},
                                      np.array([rows.count(v) for v in values]), ("t", "e"))
    row_cell = np.repeat(np.arange(len(cells.n)), cells.n)
    cell_value = list(zip(cells.values["t"].astype(int).tolist(), cells.values["e"].tolist()))
    by_rows, by_cells = Counter(), Counter()
    for pick in itertools.product(range(5), repeat=5):
        by_rows[tuple(sorted(Counter(rows[p] for p in pick).items()))] += 1
        counts = np.bincount(row_cell[list(pick)], minlength=len(cells.n))
        by_cells[tuple(sorted((cell_value[c], int(k)) for c, k in enumerate(counts) if k))] += 1
    assert by_rows == by_cells and sum(by_rows.values()) == 5 ** 5


def test_curves_from_resampled_cells_equal_the_curves_of_the_resampled_rows():
    """The forecast's survival curves from a resample's counts per cell are those of the resampled rows, bit for bit
    (helpers.metrics.survival on durations and events)."""
    from helpers.metrics.goals_forecast import _curves

    rng = np.random.default_rng(5)
    t = rng.integers(0, 40, 300).astype(float)
    e = rng.choice([0, 1, 2], 300, p=[0.3, 0.4, 0.3])
    order = np.lexsort((e, t))
    values = {"t": t[order], "e": e[order]}
    keys, n = np.unique(np.stack([values["t"], values["e"]]), axis=1, return_counts=True)
    cells = goals_engine.Cells.sorted({"t": keys[0], "e": keys[1].astype(int)}, n, ("t", "e"))
    row_cell = np.repeat(np.arange(len(cells.n)), cells.n)
    rows_t, rows_e = cells.rows("t"), cells.rows("e")
    for _ in range(5):
        pick = rng.integers(0, len(rows_t), len(rows_t))
        won, alive = _curves(cells, np.bincount(row_cell[pick], minlength=len(cells.n)), 60)
        assert np.array_equal(won, goals.cumulative_incidence(rows_t[pick], rows_e[pick], 1, 60))
        assert np.array_equal(alive, goals.km_survival(rows_t[pick], rows_e[pick] > 0, 60))


def test_forecast_does_not_depend_on_the_order_of_the_rows(sample):
    wb, _ = sample
    period, when = parse_period("FY2026Q1", wb.config.fiscal_year_start_month), pd.Timestamp("2026-05-10")
    shuffled = wb.opportunities.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert goals.forecast(shuffled, period, when, refits=3, simulations=20) == \
        goals.forecast(wb.opportunities, period, when, refits=3, simulations=20)


def test_engine_counts_give_the_history_read_from_the_rows(sample):
    """The counts of one forecast date against what the deals' rows say (goals.opportunity_history, season.known_wins,
    pipeline masks): the history's rows and wins, the open deals, the period effects and the wins so far."""
    from helpers.metrics import season
    from helpers.metrics.goals_forecast import variation_from_blocks
    from helpers.metrics.pipeline import closed_mask, dates, open_amounts, open_mask

    wb, _ = sample
    opps = wb.opportunities
    period, when = parse_period("FY2026Q1", wb.config.fiscal_year_start_month), pd.Timestamp("2026-05-10")
    (h,), won = goals_engine.forecast_inputs(opps, [(period, when)])
    hist = goals.opportunity_history(opps, when)
    assert h.cells.n.sum() == len(hist)
    assert sorted(h.cells.rows("t").tolist()) == sorted(hist["duration"].astype(float).tolist())
    assert (h.cells.rows("e") == 1).sum() == (hist["event"] == 1).sum()
    is_open = open_mask(opps, when, when)
    ages = (when - dates(opps, "created_at")[is_open]).dt.days
    assert sorted(h.open.rows("age").astype(int).tolist()) == sorted(ages.tolist())
    assert np.nansum(h.open.rows("amt")) == np.nansum(open_amounts(opps)[is_open])
    drift = variation_from_blocks(h.created, h.won_blocks)
    assert {k: v.tolist() for k, v in drift.items()} == \
        {k: pytest.approx(v.tolist(), rel=1e-12) for k, v in goals.period_variation(hist, when).items()}
    so_far = closed_mask(opps, "won", period.start, period.end, when)
    assert h.so_far == (int(so_far.sum()), float(opps.loc[so_far, "amount"].sum()))
    wins, rows = goals_engine.known_wins(won, h.first, when), season.known_wins(opps, when)
    assert np.array_equal(wins["closed"], rows["closed"]) and wins["covered_from"] == rows["covered_from"]
    assert np.nansum(wins["amount"]) == np.nansum(rows["amount"])


def test_forecast_takes_a_warehouse_table(sample, tmp_path):
    """An engine table in another connection (a DuckDB database file, as a warehouse) gives the same forecast and
    backtest as the frame it was made from."""
    import ibis

    wb, first = sample
    opps = wb.opportunities
    engine.duckdb_compat()
    con = ibis.duckdb.connect(str(tmp_path / "w.duckdb"))
    with engine._quiet():   # Ibis 12 reads the table's schema with DuckDB's deprecated name (same result)
        con.create_table("opportunities", engine.opps_table(opps).to_pyarrow())
        table = con.table("opportunities")
    period, when = parse_period("FY2026Q1", wb.config.fiscal_year_start_month), pd.Timestamp("2026-05-10")
    assert goals.forecast(table, period, when, refits=3, simulations=20, backend=con) == \
        goals.forecast(opps, period, when, refits=3, simulations=20)
    fy = wb.config.fiscal_year_start_month
    assert goals.backtest(table, wb.as_of, fy, first, refits=2, simulations=10, backend=con) == \
        goals.backtest(opps, wb.as_of, fy, first, refits=2, simulations=10)


# --------------------------------------------------------------------------- the leads' outcomes (helpers/metrics/lead_outcomes.py)
def test_lead_history_by_hand():
    """L1's first deal is O0 (created the same day as O1, the smaller id), lost after as_of: still open; L2's deal was
    created 2 days before the lead (0 days, not -2) and lost by as_of; L3's deal comes after as_of (none yet); L4 is
    created after as_of (not there). as_of 2025-02-15."""
    T = pd.Timestamp
    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"], "created_at": [T("2025-01-01"), T("2025-01-10"),
                                                                            T("2025-02-01"), T("2025-03-01")],
                          "channel": ["web"] * 4})
    opps = pd.DataFrame({"opportunity_id": ["O1", "O0", "O2", "O3"], "lead_id": ["L1", "L1", "L2", "L3"],
                         "created_at": [T("2025-01-05"), T("2025-01-05"), T("2025-01-08"), T("2025-03-01")],
                         "closed_at": [T("2025-01-20"), T("2025-02-20"), T("2025-02-01"), pd.NaT],
                         "outcome": ["won", "lost", "lost", "open"], "amount": [1.0, 2.0, 3.0, 4.0]})
    h = goals.lead_history(leads, opps, T("2025-02-15"))
    assert h["lead_id"].tolist() == ["L1", "L2", "L3"]
    assert h["age"].tolist() == [45, 36, 14]
    assert h["to_opportunity"].tolist() == [4, 0, 14] and h["opportunity"].tolist() == [True, True, False]
    assert h["to_close"].tolist() == [45, 22, 14] and h["close_event"].tolist() == [0, 2, 0]


def _doubled_leads(leads: pd.DataFrame, opps: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every lead and deal twice, the copies linked to each other (ids with '-2')."""
    def copy(frame, columns):
        out = frame.copy()
        for c in columns:
            if c in out.columns:
                out[c] = out[c].where(out[c].isna(), out[c].astype(str) + "-2")
        return out

    return (pd.concat([leads, copy(leads, ["lead_id", "opportunity_id"])], ignore_index=True),
            pd.concat([opps, copy(opps, ["opportunity_id", "lead_id"])], ignore_index=True))


def test_lead_figures_fetch_the_same_rows_from_tables_twice_as_large(sample, monkeypatch):
    """Issue 26: the conversion curves, the cohort projection and the reverse funnel's lead rates fetch counts per day and
    per channel, so twice the leads and deals fetch the same rows; the curves and the projection's expected rates are
    the same (each lead's twin has its outcome)."""
    from counting_backend import Counting

    wb, _ = sample
    period = parse_period("FY2026Q2", wb.config.fiscal_year_start_month)
    seen = []
    for leads, opps in ((wb.leads, wb.opportunities), _doubled_leads(wb.leads, wb.opportunities)):
        counting = Counting(engine.default_backend())
        monkeypatch.setattr(engine, "default_backend", lambda c=counting: c)
        curves = goals.conversion_curves(leads, opps, wb.as_of)
        projected = goals.projected_cohort_rates(leads, opps, period.start, period.end, wb.as_of, refits=2, simulations=5)
        assert counting.queries == 2
        before = counting.fetched
        rates = goals.funnel_rates(leads, opps, wb.as_of)
        seen.append((counting.fetched - before, before, curves, projected, rates["channel_mix"]))
        monkeypatch.undo()
    (lead_rows, rows, curves, projected, mix), (lead_rows2, rows2, curves2, projected2, mix2) = seen
    assert (rows, lead_rows) == (rows2, lead_rows2)
    pd.testing.assert_frame_equal(curves, curves2)
    for key in ("projected_lead_to_opportunity_rate", "projected_lead_to_won_rate"):
        assert projected2[key]["expected"] == pytest.approx(projected[key]["expected"], rel=1e-12)
    assert mix == mix2   # the same cohort window: 2c / 2n = c / n exactly


def test_km_median_from_counts_is_lifelines_median():
    """The Kaplan-Meier median from the counts per day equals lifelines' median_survival_time_ (infinity: None) on
    random whole-day data with ties, day-0 events, all censored and all observed."""
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(7)
    for i in range(200):
        n = int(rng.integers(1, 60))
        t = rng.integers(0, 30, n).astype(float)
        observed = np.ones(n, bool) if i % 9 == 0 else np.zeros(n, bool) if i % 9 == 1 else rng.random(n) < rng.random()
        ref = float(KaplanMeierFitter().fit(t, event_observed=observed).median_survival_time_)
        assert goals.km_median(t, observed) == (ref if np.isfinite(ref) else None), (t, observed)


def test_sales_cycle_fetches_the_same_rows_from_a_table_twice_as_large(sample, monkeypatch):
    """The median sales cycle reads one row of facts and the deals counted per (days, won): twice the deals fetch the
    same rows and give the same median, twice the won and censored deals."""
    from counting_backend import Counting

    wb, _ = sample
    period = parse_period("FY2025Q3", wb.config.fiscal_year_start_month)
    seen = []
    for opps in (wb.opportunities, _doubled(wb.opportunities)):
        counting = Counting(engine.default_backend())
        monkeypatch.setattr(engine, "default_backend", lambda c=counting: c)
        seen.append((goals.sales_cycle_median(opps, period.start, period.end, pd.Timestamp("2026-02-15")), counting.fetched))
        monkeypatch.undo()
    (once, rows), (twice, rows2) = seen
    assert rows == rows2 and once["median_days"] == twice["median_days"] is not None
    assert (twice["won"], twice["censored"]) == (2 * once["won"], 2 * once["censored"]) and once["censored"] > 0
