"""Attack: goals in targets.csv that cannot be read as written. A channel the data lacks never shows as a missed goal
(actual 0, 0.0%): it is warned at load and its actual is null with the reason; a won_revenue goal typed in 千円 or 万円
gets a note naming the unit in the metrics.json goals section. Target channels are fuzzed with hypothesis (bounded)."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.data.load import first_data_date, load_workbook
from helpers.data.periods import parse_period
from helpers.errors import DataValidationError, WorkbookError
from helpers.metrics import goals

DATA_CHANNELS = {"web", "seminar", "outbound", "unknown"}   # of tests/conftest.py's tiny data (O3 has no channel: unknown)


def _targets(rows) -> str:
    return pd.DataFrame(rows, columns=["period", "metric", "target", "channel"]).to_csv(index=False)


CHANNEL = st.one_of(st.sampled_from(["web", "WEB", "Ｗｅｂ", " web ", "seminar", "Semminar", "tv", "テレビ", "unknown",
                                     "<script>x</script>", "web\u200b", "\u202eweb", "=1+1", "Select"]),
                    st.text(max_size=10))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(channels=st.lists(CHANNEL, min_size=1, max_size=4, unique=True),
       metric=st.sampled_from(["leads", "mqls", "won_count", "opportunities_created"]))
def test_fuzzed_target_channels_never_show_a_missed_goal_for_a_channel_the_data_lacks(tmp_path_factory, channels, metric):
    data = write_folder(tmp_path_factory.mktemp("t"), {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                                      "targets.csv": _targets([("2025Q2", metric, 10, c) for c in channels])})
    try:
        wb = load_workbook(data)
    except (DataValidationError, WorkbookError):
        return   # e.g. two spellings of one channel: one goal twice, refused by row
    q2 = parse_period("2025Q2")
    rows = goals.targets_for(wb.leads, wb.opportunities, wb.targets, q2, wb.as_of, first_data_date(wb))
    unknown = {w.params["channel"] for w in wb.warnings if w.code == "target_channel_unknown"}
    for p in goals.progress(wb.leads, wb.opportunities, rows, q2, wb.as_of, wb.spend):
        if p["channel"] is None:
            continue
        if p["channel"] in DATA_CHANNELS:
            assert p["actual"] is not None and p["channel"] not in unknown
        else:
            assert p["actual"] is None and p["attainment"] is None, p
            assert p["null_reasons"] == {"actual": "channel_not_in_data"} and p["channel"] in unknown


OPPS = ("opportunity_id,created_at,closed_at,outcome,amount,channel\n"
        "P1,2023-11-02,2024-02-01,lost,250000,展示会\n"
        "P2,2024-06-10,2024-08-05,won,7200000,展示会\n"
        "P3,2024-07-01,2024-09-12,won,1800000,紹介\n"
        "P4,2024-07-15,2024-08-30,lost,900000,紹介\n"
        "P5,2025-06-01,2025-07-20,won,3000000,展示会\n"
        "P6,2025-07-03,,open,2000000,紹介\n")


@pytest.mark.parametrize("target, channel, unit, last_year", [
    (9_000, None, "thousand", 9_000_000.0),        # 2024Q3 won: P2 7,200,000 + P3 1,800,000; typed in 千円
    (720, "展示会", "ten_thousand", 7_200_000.0),   # 展示会 a year earlier: P2; typed in 万円
])
def test_a_goal_typed_in_another_unit_is_noted_in_the_goals_section(tmp_path, target, channel, unit, last_year):
    data = write_folder(tmp_path / "d", {"opportunities.csv": OPPS,
                                         "targets.csv": _targets([("2025Q3", "won_revenue", target, channel)])})
    wb = load_workbook(data)
    section = goals.goals_section(wb, parse_period("2025Q3"), first_data_date(wb), backtest_result={"periods": []})
    (note,) = section["target_notes"]
    assert (note["variant"], note["channel"], note["last_year"], note["scaled"]) == (unit, channel, last_year, last_year)
    assert not [r for r in section["progress"] if r["channel"] is not None and r.get("null_reasons")]
