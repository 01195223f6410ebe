"""Attack: new exports of the kinds in tests/fixtures/cases/exports (dates, encodings, amounts, stages, ids, empty
exports), each an input that was read wrong or refused with a fix that did not work. Fixtures:
tests/fixtures/exports_attack/ (README there); each expected value is computed by hand in the test.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.data.ingest import ingest
from helpers.errors import WorkbookError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exports_attack"


def exports(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "exports"
    shutil.copytree(FIXTURES / name, target)
    return target


def written(out: Path, table: str = "opportunities") -> pd.DataFrame:
    return pd.read_csv(out / f"{table}.csv", dtype=str, keep_default_na=False)


# --------------------------------------------------------------------------- Excel serial dates
def test_serials_of_a_1904_workbook_count_from_1904(tmp_path):
    ingest(exports(tmp_path, "xlsx-1904-serials"), "salesforce_en", tmp_path / "out")
    opps = written(tmp_path / "out")
    # 1904 system: serial 0 = 1904-01-01, so 44205 = 1904-01-01 + 44205 days (the 1900 system's 45667 - 1462)
    assert dt.date(1904, 1, 1) + dt.timedelta(days=44205) == dt.date(2025, 1, 10)
    assert opps["created_at"].tolist() == ["2025-01-10", "2025-01-15"]   # the second row: real date cells
    assert opps["closed_at"].tolist() == ["2025-02-20", "2025-03-03"]    # 44246 = 2025-01-10 + 41 days


def test_serials_of_a_1900_workbook_are_unchanged(tmp_path):
    import openpyxl

    folder = tmp_path / "exports"
    folder.mkdir()
    wb = openpyxl.load_workbook(FIXTURES / "xlsx-1904-serials" / "report.xlsx")
    wb.epoch = openpyxl.utils.datetime.CALENDAR_WINDOWS_1900
    wb.active["B2"], wb.active["C2"] = 45667, 45708   # the same days in the 1900 system
    wb.save(folder / "report.xlsx")
    ingest(folder, "salesforce_en", tmp_path / "out")
    opps = written(tmp_path / "out")
    assert opps["created_at"].tolist() == ["2025-01-10", "2025-01-15"]
    assert opps["closed_at"].tolist() == ["2025-02-20", "2025-03-03"]


# --------------------------------------------------------------------------- exports with a header and no data row
@pytest.mark.parametrize("name, below, below_ja", [
    ("header-only", "report.csv (opportunities): nothing below the header", "report.csv(opportunities): 見出し行の下には何もありません"),
    ("header-blank-footer", "report.csv (opportunities): only blank row (2 rows), report footer (1 row) below the header",
     "report.csv(opportunities): 見出し行の下には空行(2行)、レポートのフッター(1行)だけ"),
])
def test_a_header_only_export_is_refused_naming_the_file(tmp_path, name, below, below_ja):
    with pytest.raises(WorkbookError) as err:
        ingest(exports(tmp_path, name), "salesforce_en", tmp_path / "out")
    text = str(err.value)
    assert text.startswith(f"report.csv: the exports hold their headers and no data row ({below})")
    assert "as_of" not in text and ".ingest-" not in text   # not the loader's words about a staging folder
    assert "date range" in err.value.fix and err.value.code == "no_data_rows"
    assert err.value.in_language("ja").startswith(f"report.csv: エクスポートには見出し行だけがあり、データの行がありません({below_ja})")
    assert "below the header" not in err.value.in_language("ja")
    assert not (tmp_path / "out").exists()


def test_a_header_only_deals_export_beside_leads_is_read_and_said(tmp_path):
    res = ingest(exports(tmp_path, "deals-header-only-leads-rows"), "salesforce_en", tmp_path / "out")
    assert len(written(tmp_path / "out")) == 0 and len(written(tmp_path / "out", "leads")) == 2
    said = [w for w in res.warnings if w.code == "no_opportunity_rows"]
    assert len(said) == 1 and said[0].file == "opportunity_report.csv"
    assert "no data row, only its header" in said[0].message


# --------------------------------------------------------------------------- Japanese dates: weekdays, 時分, dates no format reads
def test_japanese_dates_with_weekdays_and_clock_times_are_read(tmp_path):
    ingest(exports(tmp_path, "ja-dates-weekday-clock"), "salesforce_ja", tmp_path / "out")
    opps = written(tmp_path / "out")
    # 2024-10-07 is a Monday (月), 10-08 a Tuesday (火), 12-24 a Tuesday (火), 12-26 a Thursday (木)
    assert opps["created_at"].tolist() == ["2024-10-07", "2024-10-08", "2024-10-09"]
    assert opps["closed_at"].tolist() == ["2024-12-24", "2024-12-25", "2024-12-26"]
    assert opps["outcome"].tolist() == ["won", "lost", "won"]
    assert opps["amount"].tolist() == ["1200000", "800000", "500000"]   # won 1,700,000, lost 800,000


def test_dates_no_format_reads_are_refused_with_each_reason(tmp_path):
    with pytest.raises(WorkbookError) as err:
        ingest(exports(tmp_path, "ja-dates-as-written"), "salesforce_ja", tmp_path / "out")
    text = str(err.value)
    assert "column '作成日' -> created_at (rows 2, 3, 4, 5): dates that cannot be read as written: " in text
    assert ("'平成31年5月1日': not a day of the 平成 era (平成 runs from 1989-01-08 to 2019-04-30; 2019-05-01 is 令和元年5月1日)"
            in text)
    assert "'2024/10/08(月)': 2024-10-08 is a Tuesday (火), not a Monday (月)" in text
    assert "'24/10/07': a two-digit year is never guessed" in text
    assert "'令和6年2月30日': no such day (2024-02-30)" in text
    assert "not dates in the format" not in text   # the fix is to correct the cells, never to add a format
    assert "no date format reads them" in err.value.fix and "Add the format" not in err.value.fix


@pytest.mark.parametrize("text, expected", [
    ("2024/10/07(月)", dt.datetime(2024, 10, 7)),
    ("2024/10/07（月曜日） 9:30", dt.datetime(2024, 10, 7, 9, 30)),
    ("令和6年10月7日(月)", dt.datetime(2024, 10, 7)),
    ("令和6年10月7日 14時30分", dt.datetime(2024, 10, 7, 14, 30)),
    ("R6.10.7 9時5分30秒", dt.datetime(2024, 10, 7, 9, 5, 30)),
    ("2024年10月7日 14時30分", dt.datetime(2024, 10, 7, 14, 30)),
])
def test_japanese_date_forms(text, expected):
    from helpers.data.cells import parse_datetime

    assert parse_datetime(text, ("%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M")) == expected


# --------------------------------------------------------------------------- amounts: thousands styles and minus signs
def test_swiss_indian_and_space_thousands_are_read(tmp_path):
    ingest(exports(tmp_path, "amounts-thousands-styles"), "salesforce_en", tmp_path / "out")
    opps = written(tmp_path / "out")
    # 1'200'000.50 (Swiss) = 1200000.50; 12,00,000 (lakh groups) = 1200000; 1 500 000 (no-break spaces) = 1500000
    assert opps["amount"].tolist() == ["1200000.50", "1200000", "1500000"]
    assert opps["outcome"].tolist() == ["won", "won", "lost"]   # won 2,400,000.50, lost 1,500,000


def test_japanese_and_typeset_minus_signs_are_negative_and_refused_as_such(tmp_path):
    with pytest.raises(WorkbookError) as err:
        ingest(exports(tmp_path, "amounts-minus-signs"), "salesforce_ja", tmp_path / "out")
    text = str(err.value)   # ▲500,000 / －300,000 / -￥200,000 are -500000 / -300000 / -200000: the contract wants >= 0
    assert ("商談レポート.csv, rows 2, 3, 4, column 'amount': negative amounts (export column '金額'; rows 2, 3, 4 of "
            "out.rejected/opportunities.csv) (values: '-500000.0', '-300000.0', '-200000.0')") in text
    assert "not numbers" not in text


def test_a_space_that_is_no_thousands_separator_is_refused(tmp_path):
    with pytest.raises(WorkbookError) as err:
        ingest(exports(tmp_path, "amounts-space-not-a-group"), "salesforce_en", tmp_path / "out")
    assert "column 'Amount' -> amount (row 3): not numbers: '12 5'" in str(err.value)   # never 125; '1 200' (row 2) is fine
    assert "thousands separators" in err.value.fix and "Add the format" not in err.value.fix


@pytest.mark.parametrize("text, code, number", [
    ("-¥500", "JPY", "-500"), ("-$5,000.00", "USD", "-5,000.00"), ("\u2212500,000", None, "-500,000"),
    ("△ 300,000", None, "-300,000"), ("(¥500)", "JPY", "-500"), ("CHF 1'200'000.50", "CHF", "1200000.50"),
    ("₹12,00,000", "INR", "12,00,000"),
])
def test_amount_cells(text, code, number):
    from helpers.data.values import decimal_evidence, split_currency

    assert split_currency(text) == (code, number)
    assert decimal_evidence("12,00,000") is None   # lakh groups are thousands, never a decimal comma


# --------------------------------------------------------------------------- a year (or a typo) in a date column
def test_a_year_alone_is_never_read_as_an_excel_serial_of_1905(tmp_path):
    # '2025' was read as Excel serial 2025 = 1899-12-30 + 2025 days = 1905-07-17, a 43,680-day cycle, and the
    # mean sales cycle of the period became 21,860 days (only a 'likely typos' warning beside it)
    assert dt.date(1899, 12, 30) + dt.timedelta(days=2025) == dt.date(1905, 7, 17)
    with pytest.raises(WorkbookError) as err:
        ingest(exports(tmp_path, "year-in-a-date-column"), "salesforce_en", tmp_path / "out")
    text = str(err.value)
    assert text.startswith("report1743500000012.csv: values the mapping cannot convert")
    assert ("column 'Created Date' -> created_at (row 2): dates that cannot be read as written: '2025': a number of fewer "
            "than five digits is no Excel serial day") in text
    assert "Correct the listed cells" in err.value.fix


@pytest.mark.parametrize("cell, expected", [
    (45667, dt.datetime(2025, 1, 10)), ("45667", dt.datetime(2025, 1, 10)), (10000, dt.datetime(1927, 5, 18)),
    ("45296.375", dt.datetime(2024, 1, 5, 9, 0)),
])
def test_five_digit_serials_are_read(cell, expected):
    from helpers.data.cells import parse_datetime

    assert parse_datetime(cell, ("iso", "excel")) == expected


@pytest.mark.parametrize("cell", [2025, "2025", "12", "9999"])
def test_shorter_numbers_are_no_serials(cell):
    from helpers.data.cells import parse_datetime
    from helpers.data.values import DateAsWritten

    with pytest.raises(DateAsWritten):
        parse_datetime(cell, ("iso", "excel"))


@pytest.mark.parametrize("text, expected", [("2025-1-5", dt.datetime(2025, 1, 5)), ("2025-12-31", dt.datetime(2025, 12, 31))])
def test_year_first_dates_without_zeros_are_read_as_iso(text, expected):
    from helpers.data.cells import parse_datetime

    assert parse_datetime(text, ("iso",)) == expected   # year first: the order is certain, only the zeros are missing


@pytest.mark.parametrize("text", ["2025-13-5", "2025-2-30", "25-1-5"])
def test_year_first_dates_that_are_no_days_are_refused(text):
    from helpers.data.cells import parse_datetime

    with pytest.raises(ValueError):
        parse_datetime(text, ("iso",))


# --------------------------------------------------------------------------- currency codes in lower case
def test_an_iso_currency_code_in_lower_case_is_read(tmp_path):
    ingest(exports(tmp_path, "amounts-lowercase-codes"), "salesforce_en", tmp_path / "out")
    opps = written(tmp_path / "out")
    # usd 10,000.00 / Usd 2,500 / 1,200 usd: ISO 4217's USD in any case, so one currency: won 12,500.00, lost 1,200
    assert opps["amount"].tolist() == ["10000.00", "2500", "1200"]
    assert opps["outcome"].tolist() == ["won", "won", "lost"]
    import json

    report = json.loads((tmp_path / "out" / "ingest_report.json").read_text(encoding="utf-8"))
    assert report["tables"]["opportunities"]["currency"]["found"] == {"USD": 3}


def test_three_letters_that_are_no_currency_code_are_not_an_amount(tmp_path):
    with pytest.raises(WorkbookError) as err:
        ingest(exports(tmp_path, "amounts-letters-not-a-code"), "salesforce_en", tmp_path / "out")
    assert "column 'Amount' -> amount (row 3): not numbers: 'abc 2500'" in str(err.value)   # abc is no ISO 4217 code


def test_a_currency_code_in_the_settings_in_lower_case_is_the_iso_code(tmp_path):
    from helpers.config import load_config

    (tmp_path / "workbook.yaml").write_text("currency: {code: usd, symbol: $, decimals: 2, rates: [{currency: jpy, rate: 0.0067}]}\n",
                                            encoding="utf-8")
    config = load_config(tmp_path)
    assert config.currency_code == "USD"
    assert [(code, float(rate)) for code, rate, _ in config.currency_rates] == [("JPY", 0.0067)]


# --------------------------------------------------------------------------- an era month without its day
def test_an_era_month_without_its_day_is_refused_with_its_own_fix(tmp_path):
    with pytest.raises(WorkbookError) as err:
        ingest(exports(tmp_path, "ja-month-without-day"), "salesforce_ja", tmp_path / "out")
    text = str(err.value)
    # 令和7年4月 = 2025-04 and R7年5月 = 2025-05 (Reiwa 1 = 2019): no day, never guessed as the 1st; 令和7年4月2日 reads
    assert ("column '作成日' -> created_at (rows 2, 4): months without their day: '令和7年4月': a month without its day "
            "(2025-04); the day is never guessed; 'R7年5月': a month without its day (2025-05)") in text
    assert err.value.fix.startswith("A date column needs each date's day, which is never guessed: export the full date")
    assert "no date format reads them" not in err.value.fix   # not the fix of a date outside its era


@pytest.mark.parametrize("text, expected", [("令和7年4月", dt.datetime(2025, 4, 1)), ("平成31年4月", dt.datetime(2019, 4, 1)),
                                            ("令和元年5月", dt.datetime(2019, 5, 1))])
def test_an_era_month_reads_in_a_month_column(text, expected):
    from helpers.data.cells import parse_datetime

    assert parse_datetime(text, ("%Y-%m",), kind="month") == expected


@pytest.mark.parametrize("text, reason", [("令和元年4月", "2019-04 is no month of the 令和 era"),
                                          ("平成31年5月", "2019-05 is no month of the 平成 era"),
                                          ("令和7年13月", "no such month of the 令和 era")])
def test_an_era_month_outside_its_era_is_refused(text, reason):
    from helpers.data.cells import parse_datetime
    from helpers.data.values import DateAsWritten

    with pytest.raises(DateAsWritten, match=reason):
        parse_datetime(text, ("%Y-%m",), kind="month")


# --------------------------------------------------------------------------- contract refusals name the export's rows
def test_a_contract_refusal_names_the_exports_row_and_the_converted_files(tmp_path):
    from helpers.data.ingest import IngestValidationError

    with pytest.raises(IngestValidationError) as err:
        ingest(exports(tmp_path, "contract-rows-after-a-blank"), "salesforce_en", tmp_path / "out")
    # export rows: 2 = deal A, 3 = blank (dropped), 4 = deal B with -500; the converted file: row 2 = A, row 3 = B
    bad = [f for f in err.value.findings if f.severity == "error"]
    assert [(f.file, f.rows, f.column, f.values) for f in bad] == [("report1743500000013.csv", (4,), "amount", ("-500.0",))]
    assert bad[0].message == "negative amounts (export column 'Amount'; row 3 of out.rejected/opportunities.csv)"
    converted = pd.read_csv(tmp_path / "out.rejected" / "opportunities.csv", dtype=str)
    assert converted["amount"].tolist() == ["1000", "-500"]   # row 3 of the converted file (its header is row 1)
    assert "the rows above are the exports' rows" in str(err.value)
