"""A run's kernel shares one source per snapshot between its notebooks and periods, and computes a data-only figure once."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data import snapshot
from helpers.data.load import load_workbook
from helpers.data.snapshot import write_snapshot
from helpers.metrics import health_engine, limits
from helpers.metrics.source import FrameSource
from helpers.report import session as session_module
from helpers.report.session import open_session


@pytest.fixture
def run_snapshot(tmp_path, tiny_folder, monkeypatch):
    """The tiny folder's run snapshot, as the runner hands it to the kernels (no shared source left from another test)."""
    folder = write_snapshot(load_workbook(tiny_folder, load_config(tiny_folder)), tmp_path / "run-snapshot")
    monkeypatch.setenv(snapshot.SNAPSHOT_ENV, str(folder))
    monkeypatch.setattr(session_module, "_FRAMES", {})
    return tiny_folder


def counting(source: FrameSource) -> list:
    """Count the queries `source` fetches from now on."""
    fetched = []
    fetch = source.fetch

    def counted(expr):
        fetched.append(expr)
        return fetch(expr)

    source.fetch = counted
    return fetched


def engine_queries(monkeypatch) -> list:
    """Count the engine's queries (helpers.metrics.engine.to_arrow, which Source.run and fetch call) from now on."""
    from helpers.metrics import engine

    fetched = []
    to_arrow = engine.to_arrow
    monkeypatch.setattr(engine, "to_arrow", lambda con, expr: fetched.append(expr) or to_arrow(con, expr))
    return fetched


def sample_period(label: str):
    """(the sample's Workbook from its cached snapshot, the Period `label` of its fiscal year)."""
    from helpers.data.periods import parse_period
    from helpers.data.snapshot import load_cached
    from helpers.paths import SAMPLE_DATA_DIR

    wb = load_cached(SAMPLE_DATA_DIR, load_config(SAMPLE_DATA_DIR))
    return wb, parse_period(label, wb.config.fiscal_year_start_month)


def test_the_notebooks_of_a_run_share_one_source(run_snapshot):
    a = open_session(str(run_snapshot), period="2025Q2", theme=False)
    b = open_session(str(run_snapshot), period="2025Q3", theme=False)
    assert a.source is b.source
    assert a.wb.opportunities is not b.wb.opportunities   # each notebook still gets its own frames
    other = open_session(str(run_snapshot), period="2025Q2", lang="ja", theme=False)   # other settings: another source
    assert other.source is not a.source


def test_a_notebook_changing_its_frames_leaves_the_shared_source_alone(run_snapshot):
    a = open_session(str(run_snapshot), theme=False)
    source = a.source
    a.wb.opportunities.loc[:, "amount"] = 0.0
    b = open_session(str(run_snapshot), theme=False)
    assert b.source is source
    assert source.frames["opportunities"]["amount"].tolist() == [1_200_000.0, 500_000.0, 800_000.0]


def test_a_data_only_figure_is_computed_once_per_source(run_snapshot):
    source = open_session(str(run_snapshot), theme=False).source
    fetched = counting(source)
    first = health_engine.table_rows_of(source)
    # tests/conftest.py's LEADS_CSV and OPPS_CSV, read by eye: 3 rows each, first and last created_at
    assert first == {"leads": (3, pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-20")),
                     "opportunities": (3, pd.Timestamp("2025-04-12"), pd.Timestamp("2025-06-10"))}
    queries = len(fetched)
    assert queries == 2   # one aggregate row per table
    first["leads"] = None   # a caller changing its copy
    assert health_engine.table_rows_of(source)["leads"] == (3, pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-20"))
    assert len(fetched) == queries
    # another argument is another figure
    before = health_engine.stale_open_deals_of(source, pd.Timestamp("2025-06-30"), 10)
    after = health_engine.stale_open_deals_of(source, pd.Timestamp("2025-06-30"), 30)
    assert (before["stale"], after["stale"]) == (1, 0)   # O3, open since 2025-06-10: 20 days old on 2025-06-30
    assert len(fetched) == queries + 2


def test_the_data_facts_and_first_dates_are_fetched_once_per_source(run_snapshot):
    source = open_session(str(run_snapshot), theme=False).source
    fetched = counting(source)
    as_of = pd.Timestamp("2025-06-30")
    facts = limits.data_facts_of(source, as_of)
    assert limits.data_facts_of(source, as_of) == facts
    assert not facts.no_lost_deals and not facts.no_amounts   # O2 lost, every deal has an amount
    assert limits.data_facts_of(source, as_of, ("one_created_at",)).one_created_at   # the codes still count per call
    assert limits.source_dates(source) == (pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-20"))
    assert limits.source_dates(source) == (pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-20"))
    assert limits.source_last_date(source) == pd.Timestamp("2025-06-30")   # O2's closed_at: from the same rows
    # the facts' row, the leads' stage dates (how many carry an mql_at / sql_at: pipeline.stage_dates_of, once per
    # source), then the opportunities' and the leads' dates
    assert len(fetched) == 1 + 1 + 2


def test_the_attribution_of_two_periods_computes_the_data_driven_shares_once(tmp_path, monkeypatch):
    """The data-driven shares depend on as_of, not on the period (their paths are the leads created in the lookback
    window before as_of): on one source the second period reuses the first's, and both sections equal those computed
    from the frames without a memo; a caller changing its copy changes nothing stored."""
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_section6_reference import AS_OF, CASES, SAMPLES, generate

    from helpers.metrics import attribution_paths as P
    from helpers.metrics.core import workbook_source
    from helpers.storage import dumps

    wb = load_workbook(generate(tmp_path / "data", **CASES["ties_ids_and_committees"]), as_of=str(AS_OF))
    source = workbook_source(wb)
    calls = []
    data_driven = P.data_driven
    monkeypatch.setattr(P, "data_driven", lambda *a, **k: calls.append(a) or data_driven(*a, **k))
    periods = [("2025-01-01", "2025-03-31"), ("2025-04-01", "2025-06-30")]
    shared = [P.attribution_of(source, wb.config, wb.as_of, start, end, SAMPLES) for start, end in periods]
    assert len(calls) == 1
    shared[0]["data_driven"]["markov"].clear()   # the first caller's copy
    again = P.attribution_of(source, wb.config, wb.as_of, *periods[0], SAMPLES)
    assert len(calls) == 1 and again["data_driven"]["markov"]
    P.attribution_of(source, wb.config, wb.as_of, *periods[0], SAMPLES // 2)   # other settings: computed anew
    assert len(calls) == 2
    own = [json.loads(dumps(P.attribution_section(wb, start, end, samples=SAMPLES))) for start, end in periods]
    assert len(calls) == 4   # without a source, each section its own
    assert [json.loads(dumps(again)), json.loads(dumps(shared[1]))] == own
    assert own[0]["data_driven"] == own[1]["data_driven"] and own[0]["models"] != own[1]["models"]
    assert own[1]["data_driven"]["converted_paths"] >= 30 and own[1]["data_driven"]["markov"]


def test_the_lead_quality_fit_and_the_backtest_are_computed_once_per_source(monkeypatch):
    """Notebook 05's conditions, guard and score (over the leads observed on as_of) and notebook 04's backtest (the
    complete periods before as_of) do not depend on the period: on one source the second period reuses the first's,
    and each period's section equals the one a new source computes; a caller changing its copy changes nothing stored."""
    import json

    from helpers.data.periods import parse_period
    from helpers.data.snapshot import load_cached
    from helpers.metrics import goals, lead_source
    from helpers.metrics.core import workbook_source
    from helpers.paths import SAMPLE_DATA_DIR
    from helpers.storage import dumps

    wb = load_cached(SAMPLE_DATA_DIR, load_config(SAMPLE_DATA_DIR))
    fits, backtests = [], []
    score_of, backtest_from = lead_source._score_of, goals.backtest_from
    monkeypatch.setattr(lead_source, "_score_of", lambda *a, **k: fits.append(a) or score_of(*a, **k))
    monkeypatch.setattr(goals, "backtest_from", lambda *a, **k: backtests.append(a) or backtest_from(*a, **k))

    def both(source, label):
        period = parse_period(label, wb.config.fiscal_year_start_month)
        lq = lead_source.lead_quality_of(source, wb.config.lead_quality, period.start, period.end, wb.as_of).section
        got = goals.goals_of(source, period, wb.as_of, wb.targets, wb.spend, wb.config)["section"]
        return json.loads(dumps({"lead_quality": lq, "goals": got})), lq, got

    shared = workbook_source(wb)
    first, lq, got = both(shared, "FY2024Q3")
    lq["score"]["auc"], got["backtest"]["periods"] = None, []   # the first caller's copies
    second = both(shared, "FY2024Q4")[0]
    assert (len(fits), len(backtests)) == (1, 1)
    assert second == both(workbook_source(wb), "FY2024Q4")[0]   # a new source: computed anew, the same figures
    assert (len(fits), len(backtests)) == (2, 2)
    assert second["lead_quality"]["score"]["auc"] is not None and len(second["goals"]["backtest"]["periods"]) > 4
    for section, same in (("lead_quality", ("conditions", "suspect", "score", "same_size")), ("goals", ("backtest",))):
        assert all(first[section][k] == second[section][k] for k in same)
    assert first["lead_quality"]["period_observed_leads"] != second["lead_quality"]["period_observed_leads"]


def test_the_lead_dates_are_fetched_once_for_lead_quality_and_attribution(monkeypatch):
    """H and the bulk stamp of the leads (attribution_paths._lead_dates, one row of aggregates) are one answer per
    source and as_of: notebook 05's lead quality computes it, notebook 06's attribution reads it, and both equal
    what a source of their own computes."""
    from helpers.data.periods import parse_period
    from helpers.data.snapshot import load_cached
    from helpers.metrics import attribution_paths, lead_source
    from helpers.metrics.core import workbook_source
    from helpers.paths import SAMPLE_DATA_DIR

    wb = load_cached(SAMPLE_DATA_DIR, load_config(SAMPLE_DATA_DIR))
    calls = []
    lead_dates = attribution_paths._lead_dates
    monkeypatch.setattr(attribution_paths, "_lead_dates", lambda *a, **k: calls.append(a) or lead_dates(*a, **k))
    period = parse_period("FY2024Q3", wb.config.fiscal_year_start_month)
    setting = wb.config.lead_quality.get("horizon_days")
    source = workbook_source(wb)
    horizon, bulk = lead_source.horizon_and_bulk(source, wb.as_of, setting)
    section = attribution_paths.attribution_of(source, wb.config, wb.as_of, period.start, period.end, 20)
    assert len(calls) == 1
    assert section["horizon_days"] == horizon > 0 and bulk is False
    assert lead_source.horizon_and_bulk(workbook_source(wb), wb.as_of, setting) == (horizon, bulk)
    assert len(calls) == 2   # another source: its own answer


def test_a_period_over_period_table_reads_each_period_s_totals_once_per_source(monkeypatch):
    """period_over_period_of asks for the current period, the previous one and the same one a year earlier: on one
    source the next period's table fetches only its own period's totals (the other two are kept), and equals the
    table a new source computes."""
    from helpers.metrics.core import workbook_source
    from helpers.metrics.funnel_compare import period_over_period_of

    wb, _ = sample_period("FY2024Q3")
    periods = [sample_period(label)[1] for label in ("FY2024Q3", "FY2024Q4")]
    source = workbook_source(wb)
    fetched = engine_queries(monkeypatch)
    period_over_period_of(source, periods[0], wb.as_of)
    first = len(fetched)
    later = period_over_period_of(source, periods[1], wb.as_of)
    # FY2024Q4's previous period is FY2024Q3 (kept); it and its year-ago FY2023Q4 are new: two periods' totals of
    # two queries each (the pipeline, the lead funnel), where the first table fetched three and the yardsticks
    assert len(fetched) - first == 4 and first > 6
    pd.testing.assert_frame_equal(later, period_over_period_of(workbook_source(wb), periods[1], wb.as_of))


def test_the_goals_count_leads_only_over_the_windows_a_lead_figure_reads(monkeypatch):
    """Notebook 04's lead counts (one query: the leads joined to its windows) are asked for the windows the targets,
    progress, rates and plan read with GoalData.lead_counts, not the backtest's, the coverage's and the trailing
    rates', which only the pipeline reads (each window is counted over every lead: at 10M leads, 21 windows were
    210M joined rows)."""
    from helpers.data.periods import parse_period
    from helpers.data.snapshot import load_cached
    from helpers.metrics import goals, goals_data
    from helpers.metrics.core import workbook_source
    from helpers.paths import SAMPLE_DATA_DIR

    wb = load_cached(SAMPLE_DATA_DIR, load_config(SAMPLE_DATA_DIR))
    queried, read = {"leads": [], "opps": []}, set()
    lead_expr, pipeline_expr = goals_data.lead_windows_expr, goals_data.engine.windows_pipeline_expr
    lead_counts = goals_data.GoalData.lead_counts
    monkeypatch.setattr(goals_data, "lead_windows_expr",
                        lambda leads, opps, windows, a: queried["leads"].append(list(windows)) or lead_expr(leads, opps, windows, a))
    monkeypatch.setattr(goals_data.engine, "windows_pipeline_expr",
                        lambda opps, windows, a: queried["opps"].append(list(windows)) or pipeline_expr(opps, windows, a))
    monkeypatch.setattr(goals_data.GoalData, "lead_counts",
                        lambda self, *w: read.add(self.window(*w)) or lead_counts(self, *w))
    period = parse_period("FY2026Q1", wb.config.fiscal_year_start_month)
    got = goals.goals_of(workbook_source(wb), period, wb.as_of, wb.targets, wb.spend, wb.config)
    goals.plan_of(got["data"], period, goals.main_goal(got["section"]["targets"]), got["rates"],
                  got["section"]["reverse_funnel"])   # as notebook 04 does (helpers.views.goals_views.compute)
    assert len(queried["leads"]) == 1 and len(queried["opps"]) == 1
    assert set(queried["leads"][0]) == read and len(read) >= 5   # last year, the period, the cohort, 3 plan stages
    assert len(queried["opps"][0]) >= len(read) + 15   # the backtest's periods and years, the coverage's as_of


def test_the_roi_aggregates_of_a_period_are_fetched_once_per_source(monkeypatch):
    """Notebook 02's ROI table and chart (roi_rows) and its metrics.json piece (funnel_metrics_extra) read the same
    three grouped queries: on one source the second call fetches nothing, equals a new source's, and a caller changing
    its copy changes nothing stored."""
    from helpers.metrics.core import workbook_source
    from helpers.metrics.roi import roi_aggregates_of

    wb, period = sample_period("FY2025Q1")
    source = workbook_source(wb)
    fetched = engine_queries(monkeypatch)
    first = roi_aggregates_of(source, period.start, period.end, wb.as_of)
    assert len(fetched) == 3 and first["opps"][("channel", "web")]["created"] > 0
    first["opps"].clear()   # the first caller's copy
    again = roi_aggregates_of(source, period.start, period.end, wb.as_of)
    assert len(fetched) == 3
    assert again == roi_aggregates_of(workbook_source(wb), period.start, period.end, wb.as_of) and again["opps"]
    assert len(fetched) == 6


def test_the_stage_times_of_a_period_are_fetched_once_per_source(monkeypatch):
    """Notebook 02's stage-time table (stage_times_of) and its metrics.json piece (funnel_metrics_extra) read the same
    query: on one source the second call fetches nothing, equals a new source's, and a caller changing its copy
    changes nothing stored."""
    from helpers.metrics.core import workbook_source
    from helpers.metrics.stages import stage_time_aggregates_of

    wb, period = sample_period("FY2025Q1")
    source = workbook_source(wb)
    fetched = engine_queries(monkeypatch)
    first = stage_time_aggregates_of(source, wb.as_of, period.start, period.end)
    assert len(fetched) == 1 and len(first) >= 3
    kept = {k: dict(v) for k, v in first.items()}
    transition = next(iter(first))
    first[transition].clear()   # the first caller's copy, changed inside
    first.clear()
    again = stage_time_aggregates_of(source, wb.as_of, period.start, period.end)
    assert len(fetched) == 1 and again == kept
    assert again == stage_time_aggregates_of(workbook_source(wb), wb.as_of, period.start, period.end)
    assert len(fetched) == 2
