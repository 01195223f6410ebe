"""A new user's Japanese exports read right or refused with a working fix (round 3): an amount header with its
currency in brackets (金額（円）) is the amount; a near miss of an optional column (金額（税抜）, 受注金額,
業種（大分類）) is refused naming the mapping line, never silently left out. Inputs: tests/fixtures/newuser3/."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.data.ingest import ingest
from helpers.errors import WorkbookError

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "fixtures" / "newuser3"


def _opps(folder: Path) -> list[list[str]]:
    opps = pd.read_csv(folder / "opportunities.csv", dtype=str, keep_default_na=False)
    return opps[["opportunity_id", "outcome", "amount"]].values.tolist()


@pytest.mark.parametrize("case", ["v1", "v4"])   # 金額(円), 金額[円]
def test_an_amount_header_with_its_currency_in_brackets_is_the_amount(tmp_path, case):
    ingest(CASES / "amount-header-variants" / case, "canonical_ja", tmp_path / "out")
    # hand-checked: A1 won 1,200,000 yen, A2 lost 800,000 yen (the export's cells)
    assert _opps(tmp_path / "out") == [["A1", "won", "1200000"], ["A2", "lost", "800000"]]
    header = {"v1": "金額(円)", "v4": "金額[円]"}[case]
    report = (tmp_path / "out" / "ingest_report.json").read_text(encoding="utf-8")
    assert f"read from the column '{header}', whose header states the currency in brackets (JPY)" in report


def test_a_data_folder_xlsx_with_a_full_width_bracketed_yen_header_is_read(tmp_path):
    ingest(CASES / "datafolder-ja-headers-xlsx", "canonical_ja", tmp_path / "out")
    # hand-checked from the workbook: A1 1,200,000; A2 800,000; A3 open without an amount; A4 ¥500,000
    assert _opps(tmp_path / "out") == [["A1", "won", "1200000"], ["A2", "lost", "800000"], ["A3", "open", ""],
                                       ["A4", "won", "500000"]]


@pytest.mark.parametrize("case,column", [("v2", "金額（税抜）"), ("v3", "受注金額")])
def test_a_near_miss_of_the_amount_header_is_refused_with_the_mapping_line(tmp_path, case, column):
    with pytest.raises(WorkbookError) as err:
        ingest(CASES / "amount-header-variants" / case, "canonical_ja", tmp_path / "out")
    e = err.value
    assert e.code == "column_near_miss" and not (tmp_path / "out").exists()
    first, fix = str(e).split("\n")
    assert first.startswith(f"opportunities.csv: no column '金額', 'amount' (amount), but '{column}' looks like it")
    assert fix == (f"  How to fix: If '{column}' is amount as docs/data_dictionary.md defines it, write a file `my_mapping.yaml` "
                   "holding the line `extends: canonical_ja` and under tables.opportunities.columns the line "
                   f"`amount: {{column: [\"{column}\"], optional: true}}`, then run the ingest again with --mapping "
                   "my_mapping.yaml (or rename the header to '金額'). If it is something else, rename or remove that column.")
    assert e.in_language("ja").startswith(f"opportunities.csv: 列 '金額', 'amount'(amount)がありませんが、列 '{column}' がそれに似ています")


def test_the_near_miss_fix_works(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "opportunities.csv").write_bytes((CASES / "amount-header-variants" / "v2" / "opportunities.csv").read_bytes())
    (tmp_path / "my_mapping.yaml").write_text("extends: canonical_ja\ntables:\n  opportunities:\n    columns:\n"
                                              "      amount: {column: [\"金額（税抜）\"], optional: true}\n", encoding="utf-8")
    ingest(exports, str(tmp_path / "my_mapping.yaml"), tmp_path / "out")
    assert _opps(tmp_path / "out") == [["A1", "won", "1200000"], ["A2", "lost", "800000"]]


def test_a_near_miss_of_another_optional_column_is_refused(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "opportunities.csv").write_text("商談ID,商談作成日,完了日,結果,金額,業種（大分類）\nA1,2025/04/03,2025/05/01,受注,100,製造業\n",
                                               encoding="utf-8")
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "canonical_ja", tmp_path / "out")
    assert err.value.code == "column_near_miss"
    assert str(err.value).startswith("opportunities.csv: no column '業種', 'industry' (industry), but '業種（大分類）' looks like it")


def _spend_exports(tmp_path: Path, spend: bytes) -> Path:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "opportunities.csv").write_bytes((CASES / "amount-header-variants" / "v1" / "opportunities.csv").read_bytes())
    (exports / "費用.csv").write_bytes(spend)
    return exports


def test_a_month_column_reads_the_unambiguous_year_month_forms(tmp_path):
    exports = _spend_exports(tmp_path, (CASES / "spend-months" / "費用.csv").read_bytes())
    ingest(exports, "canonical_ja", tmp_path / "out")
    spend = pd.read_csv(tmp_path / "out" / "spend.csv", dtype=str, keep_default_na=False)
    # hand-checked from 費用.csv (cp932): 令和6年4月 = 2024-04 (Reiwa 1 = 2019), 2024年4月, 2024/05, 2024-05, 令和6年6月, 2024年7月;
    # 500千円 = 500,000, ￥300,000, 30万円 = 300,000
    assert spend.values.tolist() == [["2024-04", "セミナー", "500000"], ["2024-04", "ウェブ", "300000"],
                                     ["2024-05", "セミナー", "300000"], ["2024-05", "ウェブ", "300000"],
                                     ["2024-06", "ウェブ", "0"], ["2024-07", "セミナー", "1000000"]]


def test_a_month_not_read_is_refused_without_the_amounts_sentence(tmp_path):
    exports = _spend_exports(tmp_path, "月,チャネル,金額\nMay 2024,ウェブ,100\n".encode())
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "canonical_ja", tmp_path / "out")
    text = str(err.value)
    assert "column '月' -> month (row 2): not months" in text and "'May 2024'" in text
    assert "amounts may carry" not in text
    assert text.endswith("A month column reads 2024-05, 2024/05, 2024年5月 and 令和6年5月 without a format.")


def test_a_data_folders_bad_date_fix_names_the_mapping_that_reads_it(tmp_path):
    from helpers.data.load import load_workbook
    from helpers.errors import DataValidationError

    folder = CASES / "folder-slash-dates"
    with pytest.raises(DataValidationError) as err:
        load_workbook(folder)
    fix = next(f.fix for f in err.value.findings if f.code == "bad_date")
    assert "run again with --mapping canonical_ja" in fix
    ingest(folder, "canonical_ja", tmp_path / "out")   # the fix works: the same folder through canonical_ja
    opps = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str, keep_default_na=False)
    assert "2025-02-02" in opps["created_at"].tolist() + opps["closed_at"].tolist()
    assert "20000" in opps["amount"].tolist()


def test_hyaku_man_in_an_amount_cell_is_read_and_the_fix_lists_it():
    from helpers.data.cells import number_text
    from helpers.labels import t

    # hand-checked: 2.5 x 100 x 10,000 = 2,500,000; 5千万 = 5 x 1,000 x 10,000; 300百 = 30,000
    assert [number_text(v) for v in ("2.5百万円", "3百万", "5千万円", "300百")] == ["2500000", "3000000", "50000000", "30000"]
    assert "百万" in t("fix_topic_not_numbers", "en") and "百万" in t("fix_topic_not_numbers", "ja")
