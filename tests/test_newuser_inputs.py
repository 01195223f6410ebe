"""A new user's inputs read right or refused with the right fix (the trial of 2026-12-07, tests/fixtures/newuser/):
file names in any case, report footers never quoted, a title or total row in a sheet named as such, period labels
of the other calendar, the index's settings files in Japanese, a command-line --as-of blamed on the command line."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import write_folder
from helpers.data.ingest import ingest
from helpers.data.load import find_table_file, load_workbook
from helpers.data.snapshot import input_checksums
from helpers.errors import WorkbookError

NEWUSER = Path(__file__).parent / "fixtures" / "newuser"


# --------------------------------------------------------------------------- 1. file names in any case
@pytest.mark.parametrize("case, name", [("upper-ext", "OPPORTUNITIES.CSV"), ("upper-ext2", "opportunities.CSV")])
def test_upper_case_table_file_is_read(case, name):
    wb = load_workbook(NEWUSER / case)
    assert list(wb.opportunities["opportunity_id"]) == ["O1", "O2", "O3"]   # not the leads-only empty table
    assert Path(wb.files["opportunities"].path).name == name
    assert "no_opportunities" not in {f.code for f in wb.findings}
    assert set(input_checksums(NEWUSER / case)) == {name, "leads.csv"}   # a changed file makes a new snapshot


def test_two_spellings_of_one_table_are_refused(tmp_path):
    folder = tmp_path / "d"
    shutil.copytree(NEWUSER / "upper-ext", folder)
    shutil.copy(folder / "OPPORTUNITIES.CSV", folder / "opportunities.csv")
    with pytest.raises(WorkbookError) as caught:
        find_table_file(folder, "opportunities")
    assert caught.value.code == "same_table_files"
    assert "'opportunities' is in more than one file: OPPORTUNITIES.CSV, opportunities.csv" in str(caught.value)
    assert "OPPORTUNITIES.CSV, opportunities.csv" in caught.value.in_language("ja")


def test_settings_and_other_tables_in_any_case(tmp_path):
    opps = "opportunity_id,created_at,closed_at,outcome,amount\nO1,2025-04-08,2025-05-20,won,100\nO2,2025-04-09,2025-05-21,lost,0\n"
    spend = "month,channel,amount\n2025-04,web,1000\n"
    folder = write_folder(tmp_path / "d", {"Opportunities.Csv": opps, "SPEND.CSV": spend,
                                          "WORKBOOK.YAML": "fiscal_year_start_month: 1\n"})
    wb = load_workbook(folder)
    assert wb.config.fiscal_year_start_month == 1 and len(wb.opportunities) == 2
    assert wb.spend["amount"].tolist() == [1000]
    (folder / "workbook.yaml").write_text("fiscal_year_start_month: 4\n", encoding="utf-8")
    with pytest.raises(WorkbookError, match="'workbook.yaml' is in more than one file: WORKBOOK.YAML, workbook.yaml"):
        load_workbook(folder)


# --------------------------------------------------------------------------- 2. a report footer is never quoted
@pytest.mark.parametrize("case, mapping, rows, name", [
    ("ingest-01-variant", "salesforce_en", [6, 7, 8, 9], "Hanako"), ("ingest-ja-variant", "salesforce_ja", [9, 10, 11, 12], "山田")])
def test_footer_is_counted_not_quoted(tmp_path, case, mapping, rows, name):
    result = ingest(NEWUSER / case, mapping, tmp_path / "out")
    text = (tmp_path / "out" / "ingest_report.json").read_text(encoding="utf-8")
    assert name not in text and "Generated" not in text and "作成者" not in text
    footer = [w for w in json.loads(text)["warnings"] if w["code"] == "footer_dropped"]
    assert len(footer) == 1 and footer[0]["count"] == 4 and footer[0]["rows"] == rows
    shown = ", ".join(map(str, rows))
    assert footer[0]["message"] == f"4 report footer line(s) after the data were dropped (rows {shown}); their text is not shown"
    assert name not in result.summary()


# --------------------------------------------------------------------------- 4. a label of the other calendar
@pytest.mark.parametrize("label, start_month, fix", [
    # calendar quarters: an FY label names no quarter; the calendar quarter of its months in an April year is given
    ("FY2026Q2", 1, "Write the calendar quarter of the same months: in a fiscal year starting in April, FY2026Q2 is "
                    "2026-07 to 2026-09, the calendar quarter 2026Q3."),
    ("FY2025Q4", 1, "FY2025Q4 is 2026-01 to 2026-03, the calendar quarter 2026Q1."),
    # a fiscal year starting in February: 2026Q3 is no fiscal quarter; FY2026Q3 is shown with its own months
    ("2026Q3", 2, "Write the period in the fiscal-quarter style, e.g. FY2026Q3 (= 2026-08 to 2026-10)"),
    # an April fiscal year: the same three months exist, so that label is given
    ("2026Q3", 4, "Write the period as FY2026Q2 (the same months, 2026-07 to 2026-09, in the fiscal calendar)"),
])
def test_period_of_the_other_calendar(label, start_month, fix):
    from helpers.data.periods import parse_period

    with pytest.raises(WorkbookError) as caught:
        parse_period(label, start_month)
    assert caught.value.code == "period_calendar" and fix in caught.value.fix
    assert "2025Q3" not in str(caught.value) or label == "2025Q3"   # the old fixed example, read as a conversion


def test_targets_period_of_the_other_calendar(tmp_path):
    from helpers.data.validate import check_targets
    import pandas as pd

    targets = pd.DataFrame({"period": ["2026Q1", "FY2026Q2"], "metric": ["leads", "leads"], "target": [1.0, 2.0]})
    (bad,) = [f for f in check_targets(targets, "targets.csv", 1) if f.code == "bad_period"]
    assert bad.rows == (3,) and bad.values == ("FY2026Q2",)
    assert "FY2026Q2 is 2026-07 to 2026-09, the calendar quarter 2026Q3." in bad.fix


def test_warehouse_command_says_the_same(tmp_path, capsys):
    from helpers.metrics.warehouse import main

    settings = write_folder(tmp_path, {"calendar.yaml": "fiscal_year_start_month: 1\n"}) / "calendar.yaml"
    status = main(["--warehouse", f"duckdb:///{tmp_path}/none.duckdb", "--config", str(settings), "--period", "FY2026Q2"])
    err = capsys.readouterr().err
    assert status == 2 and "FY2026Q2 is 2026-07 to 2026-09, the calendar quarter 2026Q3." in err and "2025Q3" not in err


# --------------------------------------------------------------------------- 5. the index's settings files in Japanese
def test_data_currency_source_in_the_reports_language():
    from helpers.report.index_page import setting_value

    files = ["default_config.yaml", "ingest_report.json (currency of the data)", "workbook.yaml", "overrides"]
    assert setting_value(files, "ja", "config_files") == \
        "default_config.yaml, ingest_report.json(データの通貨), workbook.yaml, コマンドラインの指定"
    assert setting_value(files, "en", "config_files") == \
        "default_config.yaml, ingest_report.json (currency of the data), workbook.yaml, command-line options"


def test_ingested_folder_names_its_currency_layer(tmp_path):
    from helpers.config import load_config

    ingest(NEWUSER / "ingest-ja-variant", "salesforce_ja", tmp_path / "out")   # amounts in 円: the data's currency
    names = [Path(s).name for s in load_config(tmp_path / "out").sources]
    assert names[:2] == ["default_config.yaml", "ingest_report.json (currency of the data)"]


# --------------------------------------------------------------------------- 6. --as-of blamed on the command line
@pytest.mark.parametrize("typed, example", [("2026/09/30", "2026-09-30"), ("令和8年9月30日", "2026-09-30"),
                                            ("2026年9月30日", "2026-09-30"), ("30/09/2026", "2025-12-31")])
def test_as_of_from_the_command_line(typed, example):
    from helpers.config import ConfigError, load_config

    with pytest.raises(ConfigError) as caught:
        load_config(NEWUSER / "upper-ext", None, overrides={"as_of": typed})
    assert str(caught.value) == (f"the command line: --as-of must be a date YYYY-MM-DD, got '{typed}'\n  How to fix: "
                                 f"Give --as-of {example}, or leave --as-of out for the latest date in the data.")
    assert "workbook.yaml" not in str(caught.value)
    assert f"--as-of {example} のように指定" in caught.value.in_language("ja")


def test_as_of_run_option(tmp_path, capsys):
    from helpers.report.run import main

    assert main(["--data", str(NEWUSER / "upper-ext"), "--out", str(tmp_path / "o"), "--as-of", "2026/09/30"]) == 2
    err = capsys.readouterr().err
    assert "--as-of must be a date YYYY-MM-DD, got '2026/09/30'" in err and "Give --as-of 2026-09-30" in err
    assert "default_config.yaml + workbook.yaml" not in err and not (tmp_path / "o" / "index.html").exists()


def test_settings_values_shown_as_typed(tmp_path):
    from helpers.config import ConfigError, load_config

    settings = write_folder(tmp_path, {"s.yaml": "stale_open_days: -5.00\nfiscal_year_start_month: 16.0\n"}) / "s.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(None, settings)
    assert "setting 'stale_open_days' must be a whole number of at least 1, got -5.00" in str(caught.value)
    assert "setting 'fiscal_year_start_month' must be a whole number from 1 to 12, got 16.0" in str(caught.value)
    settings.write_text("as_of: -5.00\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^s.yaml: setting 'as_of' must be a date YYYY-MM-DD or null, got -5.00\n"):
        load_config(None, settings)
    settings.write_text("as_of: 2026/09/30\n", encoding="utf-8")   # a file's as_of: named by its file, not every layer's
    with pytest.raises(ConfigError, match=r"^s.yaml: as_of must be a date YYYY-MM-DD, got '2026/09/30'\n.*Write as_of: 2026-09-30 "):
        load_config(None, settings)


# --------------------------------------------------------------------------- 3. a title row, a total row
def _refusal(folder):
    from helpers.errors import DataValidationError

    with pytest.raises(DataValidationError) as caught:
        load_workbook(folder)
    return [f for f in caught.value.findings if f.severity == "error"]


def test_title_row_above_the_header():
    (only,) = _refusal(NEWUSER / "excel-title-row")
    assert only.file == "opportunities.xlsx" and only.params["error"] == "rows_above_header"
    assert only.params["header_row"] == 2 and only.params["above"] == "1"
    assert only.fix.startswith("Delete the rows above the header (row(s) 1) so that the header is row 1")
    assert "Formatted Report" in only.fix   # one cause among others, not the diagnosis


def test_total_row_of_a_sheet():
    (only,) = _refusal(NEWUSER / "excel-total-row")   # not "row 4: Fill 'created_at'" and "Fill 'outcome'"
    assert (only.code, only.rows, only.count, only.params["word"]) == ("total_row", (4,), 1, "合計")
    assert only.fix == "Remove the total row (row 4) from the table and save; the reports compute their own totals."


@pytest.mark.parametrize("last_row", ["Total,,,,2000000,,", ",,,,2000000,,", ",,,,2000000,,合計"])
def test_total_row_of_a_csv(tmp_path, last_row):
    opps = ("opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel\n"
            "O1,2025-04-08,2025-05-20,won,1200000,L1,web\nO2,2025-04-20,2025-06-10,lost,800000,L2,seminar\n" + last_row + "\n")
    (only,) = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps}))
    assert (only.code, only.rows) == ("total_row", (4,))
    assert "Remove the total row (row 4)" in only.fix


def test_a_record_without_dates_is_no_total_row(tmp_path):
    opps = ("opportunity_id,created_at,closed_at,outcome,amount\n"
            "O1,2025-04-08,2025-05-20,won,100\nO2,2025-04-20,2025-06-10,lost,200\nO3,,,open,50\n")
    found = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps}))
    assert [(f.code, f.rows) for f in found] == [("missing_value", (4,))]   # an open deal without its date: fill it


def test_older_ingest_report_footer_is_not_quoted_either(tmp_path):
    from helpers.metrics.limits import ingest_warnings, warning_sentences

    old = {"code": "footer_dropped", "count": 4, "file": "report.csv", "rows": [6, 7, 8, 9], "params": {"lines": "'Generated By:  Hanako Yamada'"},
           "message": "4 report footer line(s) after the data were dropped: 'Generated By:  Hanako Yamada'"}
    (tmp_path / "ingest_report.json").write_text(json.dumps({"warnings": [old]}), encoding="utf-8")
    (w,) = ingest_warnings(tmp_path)
    assert w["message"] == "4 report footer line(s) after the data were dropped (rows 6, 7, 8, 9); their text is not shown"
    assert "Hanako" not in json.dumps(w) and "Hanako" not in "".join(warning_sentences(w, "ja"))


# --------------------------------------------------------------------------- total rows: a record stays a record
def test_a_record_with_a_total_word_keeps_its_own_error():
    # O4,,,open,0,,web,計: a real id, so a record (owner 計); above it the unlabelled sum row 1200000+800000+500000
    found = _refusal(NEWUSER / "total-row-record")
    assert [(f.code, f.column, f.rows, f.count) for f in found] == [
        ("missing_value", "created_at", (6,), 1), ("total_row", None, (5,), 1)]
    assert found[0].fix == "Fill 'created_at' in every row (it is required by the data contract)."
    assert found[1].message == "a total row (no label, its dates empty, its amount the sum of the rows above), not a record"
    assert "=SUM" not in found[1].render()   # a CSV holds the number, not the formula


@pytest.mark.parametrize("last_row", ["Total,,,,0,,", "SUM,,,,0,,", " 小計 ,,,,0,,"])
def test_a_total_word_in_the_id_cell_is_a_total_row(tmp_path, last_row):
    opps = "opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel\nO1,2025-04-08,2025-05-20,won,10,L1,web\n" + last_row + "\n"
    (only,) = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps}))
    assert (only.code, only.rows, only.params["word"]) == ("total_row", (3,), last_row.split(",")[0].strip())


def test_a_channel_named_total_with_a_real_id_is_a_record(tmp_path):
    opps = "opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel\nO1,2025-04-08,2025-05-20,won,10,L1,web\nO2,,,open,5,,Total\n"
    found = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps}))
    assert [(f.code, f.column, f.rows) for f in found] == [("missing_value", "created_at", (3,))]


def test_two_total_rows_are_said_once_as_total_rows():
    # leads.csv rows 4 and 7 are 小計: no "fill created_at", no "the same 'lead_id' is on more than one row ('小計')"
    found = _refusal(NEWUSER / "total-row-twice")
    assert [(f.file, f.code, f.rows, f.count, f.params["word"]) for f in found] == [("leads.csv", "total_row", (4, 7), 2, "小計")]
    assert found[0].render() == ("leads.csv, rows 4, 7: a total row ('小計' with its dates empty), not a record\n    How to fix: "
                                 "Remove the total rows (rows 4, 7) from the table and save; the reports compute their own totals.")
    from helpers.errors import DataValidationError

    assert "合計行(4, 7行目)を表から削除して" in DataValidationError(found).in_language("ja")


_OPPS_HEADER = "opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel\n"


@pytest.mark.parametrize("fast", [True, False])
def test_a_total_row_not_shown_is_not_counted(tmp_path, monkeypatch, fast):
    import helpers.data.load as load

    monkeypatch.setattr(load, "FAST_CSV", fast)
    # O1 complete on row 2, O2..O8 (rows 3-9) without created_at, 合計 on row 10: 7 rows miss it, not 8 (+3 more)
    opps = _OPPS_HEADER + "O1,2025-04-08,2025-05-20,won,10,L1,web\n" + "".join(f"O{i},,,open,5,,web\n" for i in range(2, 9))
    found = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps + "合計,,,,45,,\n"}))
    assert [(f.code, f.column, f.rows, f.count) for f in found] == [
        ("missing_value", "created_at", (3, 4, 5, 6, 7), 7), ("total_row", None, (10,), 1)]
    assert found[0].render().startswith("opportunities.csv, rows 3, 4, 5, 6, 7 (+2 more), column 'created_at'")


@pytest.mark.parametrize("fast", [True, False])
def test_a_total_row_is_in_no_row_check(tmp_path, monkeypatch, fast):
    import helpers.data.load as load

    monkeypatch.setattr(load, "FAST_CSV", fast)
    # O2..O8 (rows 3-9) lost at -5 each, 合計 -25 on row 10: the negative amounts are those 7 rows, the total row apart
    opps = _OPPS_HEADER + "O1,2025-04-08,2025-05-20,won,10,L1,web\n" + "".join(
        f"O{i},2025-04-0{i},2025-05-20,lost,-5,,web\n" for i in range(2, 9))
    found = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps + "合計,,,,-25,,\n"}))
    negative = next(f for f in found if f.code == "negative_amount")
    assert (negative.rows, negative.values, negative.count) == ((3, 4, 5, 6, 7), ("-5.0",) * 5, 7)
    assert [(f.rows, f.count) for f in found if f.code == "total_row"] == [((10,), 1)]


@pytest.mark.parametrize("fast", [True, False])
def test_a_total_rows_refused_date_is_not_counted(tmp_path, monkeypatch, fast):
    import helpers.data.load as load

    monkeypatch.setattr(load, "FAST_CSV", fast)
    # rows 3-8 hold the unparseable date 'n/a' (6 rows), the 合計 row 9 too: bad_date counts 6, names rows 3-7
    opps = _OPPS_HEADER + "O1,2025-04-08,2025-05-20,won,10,L1,web\n" + "".join(f"O{i},n/a,,open,5,,web\n" for i in range(2, 8))
    found = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps + "合計,n/a,,,30,,\n"}))
    bad = next(f for f in found if f.code == "bad_date")
    assert (bad.rows, bad.values, bad.count) == ((3, 4, 5, 6, 7), ("n/a",) * 5, 6)
    assert [(f.rows, f.count) for f in found if f.code == "total_row"] == [((9,), 1)]


@pytest.mark.parametrize(("tail", "rows", "reads"), [("\n\n \r\n", (3,), 0), ("\n", (3,), 0), ("", (3,), 0)])
def test_trailing_blank_lines_cost_no_second_read(tmp_path, monkeypatch, tail, rows, reads):
    import helpers.data.sheetrows as sheetrows

    parsed = []
    lines = sheetrows._lines
    monkeypatch.setattr(sheetrows, "_lines", lambda text: parsed.append(1) or lines(text))   # the slow path: a whole parse
    opps = _OPPS_HEADER + "O1,2025-04-08,2025-05-20,won,10,L1,web\nO2,2025-13-45,,open,5,,web" + tail
    found = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps}))
    assert [(f.code, f.rows) for f in found] == [("bad_date", rows)] and len(parsed) == reads


def test_a_blank_line_between_records_still_renumbers(tmp_path, monkeypatch):
    import helpers.data.sheetrows as sheetrows

    parsed = []
    lines = sheetrows._lines
    monkeypatch.setattr(sheetrows, "_lines", lambda text: parsed.append(1) or lines(text))
    # O1 on row 2, a blank row 3, O2's bad date on row 4; the trailing blank lines shift nothing
    opps = _OPPS_HEADER + "O1,2025-04-08,2025-05-20,won,10,L1,web\n\nO2,2025-13-45,,open,5,,web\n\n\n"
    found = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps}))
    assert [(f.code, f.rows) for f in found] == [("bad_date", (4,))] and len(parsed) == 1


def test_a_total_row_after_a_blank_line_is_named_by_its_line():
    (only,) = _refusal(NEWUSER / "total-row-blank-line")   # line 5 blank, 合計 on line 6 (Excel shows it as row 6)
    assert (only.code, only.rows) == ("total_row", (6,))
    assert only.fix == "Remove the total row (row 6) from the table and save; the reports compute their own totals."


@pytest.mark.parametrize("fast", [True, False])
def test_every_finding_counts_blank_lines_as_rows(tmp_path, monkeypatch, fast):
    import helpers.data.load as load

    monkeypatch.setattr(load, "FAST_CSV", fast)   # the fast (pyarrow) and the exact (pandas) reader skip blank lines alike
    opps = ("opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel\n"
            "O1,2025-04-08,2025-05-20,won,10,L1,web\n\nO2,2025-13-45,,open,5,,web\r\n\r\n \t\r\n"
            "O3,2025-04-20,2025-06-10,lost,\"a\n\nb\",L2,web\nO1,2025-04-21,2025-06-11,lost,7,L3,web\n")
    found = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps}))
    # O2 on line 4, lines 5-6 blank (spaces count as blank), O3 on row 7; the repeated O1 on row 8 (the line breaks in O3's cell are one row)
    assert sorted((f.code, f.rows) for f in found) == [("bad_date", (4,)), ("bad_number", (7,)), ("duplicate_id", (2, 8))]


def test_a_bom_csv_with_a_blank_first_line_keeps_excels_rows(tmp_path):
    """Excel's "CSV UTF-8" starts with a BOM: a blank line right after it is Excel's row 1, the header row 2, O1 row 3
    and O2's bad date row 4 (the blank-line test once looked at the BOM's bytes and saw no blank first line: row 3)."""
    opps = "\n" + _OPPS_HEADER + "O1,2025-04-08,2025-05-20,won,10,L1,web\nO2,2025-13-45,,open,5,,web\n"
    found = _refusal(write_folder(tmp_path / "d", {"opportunities.csv": opps}, encoding="utf-8-sig"))
    assert [(f.code, f.rows) for f in found] == [("bad_date", (4,))]
