"""Goals from targets.csv that cannot be read as written: a channel the data does not have (warned at load, no
actual instead of a missed goal), and a won_revenue goal typed in another unit (a plausibility note naming the unit).
Expectations are computed by hand from the rows written here."""
from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.errors import DataValidationError, warning_text
from helpers.metrics import goals
from helpers.views import goals_views

# The tiny data's channels: leads web, seminar, web; deals O1 (its lead's web), O2 outbound, O3 unknown (none given).
TARGETS = ("period,metric,target,department,channel\n"
           "2025Q2,leads,40,marketing,podcast\n"      # no such channel
           "2025Q2,mqls,5,,Semminar\n"                # a typo of seminar
           "2025Q2,leads,10,,WEB\n"                   # web in capitals: the same channel
           "2025Q2,sqls,2,,Semminar\n")


def load(tmp_path, targets: str, **files):
    return load_workbook(write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                                       "targets.csv": targets, **files}))


def test_a_target_for_a_channel_the_data_lacks_is_warned_at_load_with_the_close_matches(tmp_path):
    wb = load(tmp_path, TARGETS)
    found = {(w.code, w.params["channel"]): w for w in wb.warnings if w.code == "target_channel_unknown"}
    assert sorted(found) == [("target_channel_unknown", "Semminar"), ("target_channel_unknown", "podcast")]
    typo = found[("target_channel_unknown", "Semminar")]
    assert (typo.file, typo.column, typo.rows, typo.count) == ("targets.csv", "channel", (3, 5), 2)
    assert typo.message == ("2 target row(s) are for the channel 'Semminar', which no lead, opportunity or spend row has "
                            "(close matches: 'seminar'); the goals table shows no actual for them, not 0")
    new = found[("target_channel_unknown", "podcast")]
    assert new.rows == (2,) and new.params["channels"] == "'outbound', 'seminar', 'unknown', 'web'"
    sentence, fix = warning_text("target_channel_unknown", new.params, "ja", count=1)
    assert "チャネル「podcast」" in sentence and "データのチャネル: 'outbound', 'seminar', 'unknown', 'web'" in sentence
    assert "leads.csv / opportunities.csv" in fix
    # the capitals are the data's web (channels.normalize): folded, not warned
    assert list(wb.targets["channel"]) == ["podcast", "Semminar", "web", "Semminar"]


def test_a_goal_for_a_missing_channel_has_no_actual_not_a_missed_goal(tmp_path):
    wb = load(tmp_path, TARGETS)
    q2 = parse_period("2025Q2")
    rows = goals.targets_for(wb.leads, wb.opportunities, wb.targets, q2, wb.as_of, pd.Timestamp("2025-04-01"))
    progress = {(p["metric"], p["channel"]): p for p in goals.progress(wb.leads, wb.opportunities, rows, q2, wb.as_of)}
    for key in [("leads", "podcast"), ("mqls", "Semminar"), ("sqls", "Semminar")]:
        assert progress[key]["actual"] is None and progress[key]["attainment"] is None, key
        assert progress[key]["null_reasons"] == {"actual": "channel_not_in_data"}
    web = progress[("leads", "web")]   # L1 (2025-04-01) and L3 (2025-05-20) are web leads of 2025Q2
    assert web["actual"] == 2 and web["attainment"] == pytest.approx(0.2) and "null_reasons" not in web


def test_a_channel_only_spend_has_is_known_and_its_zero_is_real(tmp_path):
    spend = "month,channel,amount\n2025-04,展示会,300000\n"
    wb = load(tmp_path, "period,metric,target,channel\n2025Q2,leads,8,展示会\n", **{"spend.csv": spend})
    assert not [w for w in wb.warnings if w.code == "target_channel_unknown"]
    q2 = parse_period("2025Q2")
    rows = goals.targets_for(wb.leads, wb.opportunities, wb.targets, q2, wb.as_of, pd.Timestamp("2025-04-01"))
    fair = next(p for p in goals.progress(wb.leads, wb.opportunities, rows, q2, wb.as_of, wb.spend) if p["channel"] == "展示会")
    assert fair["actual"] == 0 and fair["attainment"] == 0.0   # money spent, no lead: a real 0


def test_two_rows_that_fold_to_one_channel_are_one_goal_twice(tmp_path):
    with pytest.raises(DataValidationError) as err:
        load(tmp_path, "period,metric,target,channel\n2025Q2,leads,10,web\n2025Q2,leads,12,Ｗｅｂ\n")
    (dup,) = [f for f in err.value.findings if f.code == "duplicate_target"]
    assert dup.rows == (3,) and dup.file == "targets.csv"


def test_without_folding_a_case_variant_is_an_unknown_channel_with_its_match(tmp_path):
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                           "targets.csv": "period,metric,target,channel\n2025Q2,leads,10,Web\n",
                                           "workbook.yaml": "channels: {normalize: false}\n"})
    wb = load_workbook(folder)
    (w,) = [w for w in wb.warnings if w.code == "target_channel_unknown"]
    assert w.params == {"channel": "Web", "matches": "'web'"}


# --------------------------------------------------------------------------- a goal typed in another unit
@pytest.mark.parametrize("target, last_year, currency, expected", [
    (12_000, 11_500_000, "JPY", ("thousand", 3)),            # 958x: 千円
    (1_500, 13_800_000, "JPY", ("ten_thousand", 4)),         # 9,200x: 万円
    (1_500, 13_800_000, "USD", ("", None)),                  # no 万 in dollars: 9,200x fits no unit
    (30, 45_000_000, "EUR", ("million", 6)),                 # 1.5 million x: millions
    (50, 10_000_000, "JPY", ("", None)),                     # 200,000x = 10^5.3: between the units
])
def test_unit_slip_names_the_likely_unit(target, last_year, currency, expected):
    slip = goals.unit_slip(target, last_year, currency)
    assert (slip["unit"], slip["power"]) == expected
    assert slip["ratio"] == pytest.approx(last_year / target)


@pytest.mark.parametrize("target, last_year", [(150_000, 15_000_000), (200_000, 15_000_000), (0, 5_000_000),
                                               (1_000, None), (1_000, 0.0), (None, 5_000_000)])
def test_a_plausible_or_unknown_comparison_gives_no_note(target, last_year):
    # 100x below last year is a deep cut, not yet a unit slip; a missing or zero figure compares nothing
    assert goals.unit_slip(target, last_year) is None


OPPS_TWO_YEARS = ("opportunity_id,created_at,closed_at,outcome,amount,channel\n"
                  "A,2024-01-10,2024-03-01,lost,100000,web\n"
                  "B,2024-08-01,2024-10-20,won,6000000,web\n"
                  "C,2024-09-01,2024-11-15,won,4000000,seminar\n"
                  "D,2025-09-01,2025-10-10,won,2500000,web\n")


def test_a_goal_typed_in_thousands_gets_a_note_naming_the_unit(tmp_path):
    # 2025Q4 a year earlier is 2024Q4: B (web, 6,000,000) and C (seminar, 4,000,000) were won then = 10,000,000
    targets = ("period,metric,target,channel\n2025Q4,won_revenue,10000,\n2025Q4,won_revenue,600,web\n"
               "2025Q4,won_revenue,3500000,seminar\n")
    wb = load_workbook(write_folder(tmp_path / "d", {"opportunities.csv": OPPS_TWO_YEARS, "targets.csv": targets}))
    q4 = parse_period("2025Q4")
    first = pd.Timestamp("2024-01-10")
    rows = goals.targets_for(None, wb.opportunities, wb.targets, q4, wb.as_of, first)
    notes = goals.target_notes(None, wb.opportunities, rows, q4, wb.as_of, first, "JPY")
    assert notes == [
        {"metric": "won_revenue", "channel": None, "code": "target_unit_suspect", "variant": "thousand",
         "target": 10_000.0, "last_year": 10_000_000.0, "ratio": 1000.0, "scaled": 10_000_000.0},
        {"metric": "won_revenue", "channel": "web", "code": "target_unit_suspect", "variant": "ten_thousand",
         "target": 600.0, "last_year": 6_000_000.0, "ratio": 10_000.0, "scaled": 6_000_000.0}]   # seminar 3.5M: plausible
    s = SimpleNamespace(config=load_config(), lang="en")
    assert goals_views.unit_note(s, notes[0]) == [
        "Won revenue · All channels: the goal ¥10,000 is 1,000 times below the won revenue of the same period a year "
        "earlier (¥10,000,000): it looks typed in thousands (千円, $K), which would make it ¥10,000,000",
        "How to fix: Write won_revenue goals in targets.csv in whole currency units (12000000, not 12000 meaning 12,000 "
        "thousand); if the low goal is meant, nothing needs changing."]
    ja = goals_views.unit_note(SimpleNamespace(config=load_config(), lang="ja"), notes[1])
    assert "目標 ¥600 は前年同期の受注金額(¥6,000,000)の10,000分の1です。万単位(万円など)で入力された可能性があります(その場合 ¥6,000,000)" in ja[0]


def test_no_note_when_the_data_does_not_cover_last_year(tmp_path):
    # 2025Q1 a year earlier is 2024Q1, inside the data's first 180 days: last year's won revenue is not known
    wb = load_workbook(write_folder(tmp_path / "d", {"opportunities.csv": OPPS_TWO_YEARS,
                                                     "targets.csv": "period,metric,target\n2025Q1,won_revenue,10\n"}))
    q1 = parse_period("2025Q1")
    rows = goals.targets_for(None, wb.opportunities, wb.targets, q1, wb.as_of, pd.Timestamp("2024-01-10"))
    assert goals.target_notes(None, wb.opportunities, rows, q1, wb.as_of, pd.Timestamp("2024-01-10")) == []
