"""targets.csv read with the goals report's own words: each metric's and department's display name in the label table
(en and ja: 受注金額, 商談数, MQL数, リード数, 共通, Won revenue, Shared) is its key; other values are refused listing
the accepted ones. Input: a new user's 目標.csv (cp932, tests/fixtures/newuser3/targets-ja-labels)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.data.load import load_workbook
from helpers.data.schema import target_label_key
from helpers.errors import DataValidationError

CASE = Path(__file__).resolve().parent / "fixtures" / "newuser3" / "targets-ja-labels" / "目標.csv"


def test_the_label_tables_names_are_the_keys():
    assert [target_label_key(v, "metric") for v in ("受注金額", "商談数", "ＭＱＬ数", "リード数", " Won revenue ", "SQLs",
                                                       "受注件数", "Deals won", "won_revenue")] == [
        "won_revenue", "opportunities_created", "mqls", "leads", "won_revenue", "sqls", "won_count", "won_count",
        "won_revenue"]
    assert [target_label_key(v, "department") for v in ("共通", "Shared", "営業", "マーケティング", "マーケ", "finance")] == [
        "shared", "shared", "sales", "marketing", "marketing", "finance"]
    assert target_label_key("売上", "metric") == "売上"   # not a name of the label table: left as written, refused later


def test_a_targets_file_in_the_reports_japanese_words_is_read(tmp_path):
    # the new user's file, its header put in the contract's names (the canonical_ja mapping does that at ingest)
    text = CASE.read_bytes().decode("cp932").splitlines()
    rows = ["period,metric,target,department,channel"] + [r.replace('"5,000万円"', "50000000") for r in text[1:]]
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                           "targets.csv": "\n".join(rows) + "\n", "workbook.yaml": "fiscal_year_start_month: 4\n"})
    targets = load_workbook(folder).targets
    # hand-checked from 目標.csv: 受注金額 5,000万円 shared; 商談数 5 営業; MQL数 10 マーケティング; リード数 8 マーケ, セミナー
    assert targets[["metric", "target", "department"]].astype(str).values.tolist() == [
        ["won_revenue", "50000000.0", "shared"], ["opportunities_created", "5.0", "sales"], ["mqls", "10.0", "marketing"],
        ["leads", "8.0", "marketing"]]


def test_another_metric_name_is_refused_with_the_accepted_ones(tmp_path):
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                           "targets.csv": "period,metric,target,department\n2025Q2,売上,100,全社\n"})
    with pytest.raises(DataValidationError) as err:
        load_workbook(folder)
    by = {f.code: f for f in err.value.findings}
    assert by["unknown_metric"].fix == (
        "Use one of won_revenue (Won revenue, 受注金額), won_count (Deals won, 受注件数), opportunities_created "
        "(Opportunities created, 商談数), sqls (SQLs, SQL数), mqls (MQLs, MQL数), leads (Leads, リード数).")
    assert by["unknown_department"].fix == ("Use marketing (Marketing, マーケティング), sales (Sales, 営業), shared (Shared, 共通), "
                                            "or leave department empty.")
