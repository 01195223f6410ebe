"""Rows of an export read right or refused by file and row (tests/fixtures/ingestrows/): a report's total and subtotal
rows refused (never a deal, never dropped as a footer), its footer dropped and said; rows numbered as the spreadsheet
shows them (blank rows, a header below row 1); a data folder's repeated id naming every row that holds it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers.data.ingest import ingest
from helpers.errors import WorkbookError

ROWS = Path(__file__).parent / "fixtures" / "ingestrows"


def _exports(tmp_path: Path, name: str, as_name: str | None = None) -> Path:
    """An exports folder holding the fixture `name` (as `as_name`)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(ROWS / name, folder / (as_name or name))
    return folder


def _refused(tmp_path: Path, name: str, mapping: str, as_name: str | None = None) -> WorkbookError:
    with pytest.raises(WorkbookError) as caught:
        ingest(_exports(tmp_path, name, as_name), mapping, tmp_path / "out")
    assert not (tmp_path / "out").exists()   # nothing published
    return caught.value


# --------------------------------------------------------------------------- 1. total rows of a report
def test_a_total_row_before_the_footer_is_refused_by_its_row(tmp_path):
    # row 6: no id, 'Total' in the name column, 50,000 the sum of rows 2-5; rows 7-8 blank, 9-13 the Salesforce footer
    err = _refused(tmp_path, "sf-total-then-footer.csv", "salesforce_en", "report1.csv")
    assert (err.code, err.params["variant"], err.params["rows"], err.params["word"], err.params["column"]) == \
        ("export_total_row", "", [6], "Total", "Opportunity Name")
    assert err.message == ("report1.csv: 1 total row(s) of a report (row 6; the first: 'Total' in column 'Opportunity Name', "
                        "no id): a summary of the rows above, not a record")
    assert err.fix.startswith("Delete the total row (row 6) from the export and save it, or export the report again "
                              "without summaries (Salesforce: Export > Details Only")
    ja = err.in_language("ja")
    assert "レポートの合計行が1行あります(6行目。最初の行は列「Opportunity Name」が「Total」でIDが空欄)" in ja
    assert "エクスポートから合計行(6行目)を削除して保存するか、集計なしでレポートを出力し直してください" in ja


def test_subtotals_and_a_grand_total_with_its_count_are_all_named(tmp_path):
    # grouped by stage: Subtotal rows 4 and 6, 'Grand Totals (3 records)' on row 7 (the label in the first column)
    err = _refused(tmp_path, "sf-subtotals.csv", "salesforce_en", "report1.csv")
    assert (err.params["rows"], err.params["count"], err.params["word"], err.params["column"]) == ([4, 6, 7], 3, "Subtotal", "Stage")
    assert "total rows (rows 4, 6, 7)" in err.fix


def test_an_unlabelled_sum_row_is_refused_not_dropped_as_a_footer(tmp_path):
    # row 5: every cell empty but Amount 35,000 = 10,000 + 20,000 + 5,000; salesforce_en's drop_if (id empty: report
    # footer) would have dropped it unsaid
    err = _refused(tmp_path, "sf-sum-row.csv", "salesforce_en", "report1.csv")
    assert (err.params["variant"], err.params["rows"], err.params["column"]) == ("sum", [5], "Amount")
    assert err.message == ("report1.csv: 1 total row(s) of a report (row 5; the first has no label and no id, and its 'Amount' "
                        "is the sum of the rows above): a summary, not a record")
    assert "列「Amount」が上の行の合計です" in err.in_language("ja")


def test_a_hubspot_total_row(tmp_path):
    err = _refused(tmp_path, "hubspot-total.csv", "hubspot", "hubspot-crm-exports-all-deals-2025-04-01.csv")
    assert (err.params["rows"], err.params["word"], err.params["column"]) == ([4], "Total", "Deal Name")


def test_a_japanese_grand_total_with_its_count(tmp_path):
    err = _refused(tmp_path, "sf-ja-goukei.csv", "salesforce_ja", "商談レポート.csv")
    assert (err.params["rows"], err.params["word"], err.params["column"]) == ([4], "総計 (2 件)", "商談名")
    assert "(4行目。最初の行は列「商談名」が「総計 (2 件)」でIDが空欄)" in err.in_language("ja")


def test_a_deal_named_total_with_an_id_is_a_record(tmp_path):
    # row 2's name is 'Total' and row 4's amount 30,000 is the sum of rows 2-3: both have an id, so both are deals
    result = ingest(_exports(tmp_path, "sf-total-word-record.csv", "report1.csv"), "salesforce_en", tmp_path / "out")
    assert result.tables["opportunities"]["rows_out"] == 3


def test_the_footer_alone_is_dropped_and_said(tmp_path):
    lines = (ROWS / "sf-total-then-footer.csv").read_text(encoding="utf-8").splitlines()
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "report1.csv").write_text("\n".join(lines[:5] + lines[6:]) + "\n", encoding="utf-8")   # the Total row out
    result = ingest(exports, "salesforce_en", tmp_path / "out")
    report = result.tables["opportunities"]
    assert report["rows_out"] == 4 and {"reason": "report footer", "count": 5, "rows": [8, 9, 10, 11, 12]} in report["dropped"]
    record = json.loads((tmp_path / "out" / "ingest_report.json").read_text(encoding="utf-8"))
    (footer,) = [w for w in record["warnings"] if w["code"] == "footer_dropped"]
    assert footer["rows"] == [8, 9, 10, 11, 12] and "Generated" not in json.dumps(footer)
    assert "5 report footer line(s) after the data were dropped (rows 8, 9, 10, 11, 12)" in result.summary("en")


# --------------------------------------------------------------------------- 2. rows as the spreadsheet shows them
def test_a_sheets_header_on_row_3_and_blank_rows_keep_excels_row_numbers(tmp_path):
    # sheet-blank-rows.xlsx: rows 1-2 blank, header row 3, Deal A row 4, row 5 blank, Deal B row 6, rows 7-8 blank,
    # Deal C row 9 repeating Deal A's id
    from helpers.data.ingest import IngestValidationError

    with pytest.raises(IngestValidationError) as caught:
        ingest(_exports(tmp_path, "sheet-blank-rows.xlsx", "report1.xlsx"), "salesforce_en", tmp_path / "out")
    (dup,) = [f for f in caught.value.findings if f.code == "duplicate_id"]
    assert dup.file == "report1.xlsx" and dup.rows == (4, 9) and dup.count == 2   # the first row and the repeat
    report = json.loads((tmp_path / "out.rejected" / "ingest_report.json").read_text(encoding="utf-8"))["tables"]["opportunities"]
    assert (report["rows_in"], report["rows_out"]) == (6, 3)   # rows 4-9 below the header; rows 1-2 are not export rows
    assert [(d["reason"], d["count"], d["rows"]) for d in report["dropped"]] == [("blank row", 3, [5, 7, 8])]


def test_a_csvs_blank_lines_above_the_header_are_counted(tmp_path):
    # lines 1-2 blank, header line 3, Deal A line 4, line 5 blank, Deal B's amount 'ten' on line 6
    err = _refused(tmp_path, "csv-blank-lines.csv", "salesforce_en", "report1.csv")
    assert "column 'Amount' -> amount (row 6): not numbers: 'ten'" in str(err)


def test_a_data_folders_sheet_counts_blank_rows_and_its_header_row(tmp_path):
    # datafolder-xlsx/opportunities.xlsx: rows 1-2 blank, header row 3, O1 row 4, row 5 blank, O2 row 6 (2025-13-45),
    # rows 7-8 blank, O3 row 9 ('abc'), O1 again row 10; the blank rows are no records (as a CSV's blank lines)
    from helpers.data.load import load_workbook
    from helpers.errors import DataValidationError

    with pytest.raises(DataValidationError) as caught:
        load_workbook(ROWS / "datafolder-xlsx")
    found = sorted((f.code, f.rows) for f in caught.value.findings if f.severity == "error")
    assert found == [("bad_date", (6,)), ("bad_number", (9,)), ("duplicate_id", (4, 10))]


# --------------------------------------------------------------------------- 3. a repeated id names every row holding it
def test_a_data_folders_repeated_id_names_its_first_row_and_the_repeats(tmp_path):
    from conftest import write_folder
    from helpers.data.load import load_workbook
    from helpers.errors import DataValidationError

    opps = ("opportunity_id,created_at,closed_at,outcome,amount\n" + "O1,2025-04-08,2025-05-20,won,10\n"
            + "O2,2025-04-09,2025-05-21,lost,0\n" + "O1,2025-04-10,2025-05-22,lost,0\n" * 2 + "O2,2025-04-11,,open,5\n"
            + "O1,2025-04-12,,open,5\n" * 2)
    # O1 on rows 2, 4, 5, 7, 8 and O2 on rows 3, 6: seven rows hold a repeated id, the first five named
    with pytest.raises(DataValidationError) as caught:
        load_workbook(write_folder(tmp_path / "d", {"opportunities.csv": opps}))
    (dup,) = [f for f in caught.value.findings if f.code == "duplicate_id"]
    assert (dup.rows, dup.values, dup.count) == ((2, 3, 4, 5, 6), ("O1", "O2", "O1", "O1", "O2"), 7)
    assert dup.render().startswith("opportunities.csv, rows 2, 3, 4, 5, 6 (+2 more), column 'opportunity_id': the same "
                                   "'opportunity_id' is on more than one row (the first row and its repeats)")
    ja = DataValidationError([dup]).in_language("ja")
    assert "opportunities.csv、2, 3, 4, 5, 6行目ほか2行、列 'opportunity_id': 同じ 'opportunity_id' が複数の行にあります(最初の行と重複した行)" in ja
