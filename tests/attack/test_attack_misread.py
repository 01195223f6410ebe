"""Attack: data read silently wrong (issue 21). Each kind, with an example of its own, ends in the workbook's
error (file, row, column, fix) or in the right figure: a stray quote, several values in one label cell, segments
Excel made into dates, invisible characters in labels, amounts in 万円/億円, a stray Latin-1 byte, a NUL in a
header, a missing column hiding other problems. The command-line cases run in a real child process.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.data.ingest import ingest
from helpers.data.load import load_workbook
from helpers.errors import WorkbookError
from helpers_attack import assert_no_traceback, run_child

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
SPEND = "month,channel,amount\n" + "".join(f"2025-{m:02d},{c},{100000 * m}\n" for m in range(4, 10) for c in ("web", "seminar"))
INGEST = "import sys\nfrom helpers.data.ingest import main\nsys.exit(main(sys.argv[1:]))\n"


def refused(folder: Path) -> str:
    with pytest.raises(WorkbookError) as err:
        load_workbook(folder)
    return str(err.value)


def exports_copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / "exports"
    shutil.copytree(FIXTURES / name, target)
    return target


# --------------------------------------------------------------------------- a stray quote
def test_a_stray_quote_in_spend_does_not_shrink_the_table(tmp_path):
    spend = SPEND.replace("2025-05,seminar", '2025-05,"seminar', 1)
    text = refused(write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV, "spend.csv": spend}))
    assert "spend.csv: row 5, column 'channel': the cell opens with a quote (\"seminar,500000) that is not closed" in text
    assert "the next 8 line(s) of the file, 8 of them whole rows" in text


def test_a_stray_quote_in_an_export_stops_the_ingest_command(tmp_path):
    exports = exports_copy(tmp_path, "salesforce_en")
    deals = exports / "report1717147200000.csv"
    lines = deals.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace('"Retail"', '"Retail')   # the closing quote lost: two cells merge, the row shifts
    deals.write_text("".join(lines), encoding="utf-8")
    done = run_child(INGEST, "--exports", str(exports), "--mapping", "salesforce_en", "--out", str(tmp_path / "out"), timeout=300)
    assert done.returncode == 2, done.stderr
    assert_no_traceback(done.stdout, done.stderr)
    assert ("report1717147200000.csv: row 3, column 'Industry': a quoted cell is closed and followed by more text before the "
            "next separator ('1/2024\",\"Closed Lost\",\"Retail,\"1200\",\"0065g00000AA')") in done.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- several values in one cell
def test_a_multi_select_company_size_in_a_data_folder_is_refused(tmp_path):
    opps = OPPS_CSV.replace(",300-999,", ',"300-999;1000+",')
    text = refused(write_folder(tmp_path / "d", {"opportunities.csv": opps}))
    assert "opportunities.csv, row 3, column 'company_size': 1 cell(s) hold several values joined by ';'" in text


def test_a_multi_select_lead_source_stops_the_ingest_until_split_is_said(tmp_path):
    exports = exports_copy(tmp_path, "salesforce_en")
    deals = exports / "report1717147200000.csv"
    deals.write_text(deals.read_text(encoding="utf-8").replace('"Seminar","$800.00"', '"Seminar;Partner;Web","$800.00"'),
                     encoding="utf-8")
    done = run_child(INGEST, "--exports", str(exports), "--mapping", "salesforce_en", "--out", str(tmp_path / "out"), timeout=300)
    assert done.returncode == 2 and "column 'Lead Source' -> channel (row 3): 1 cell(s) hold several values" in done.stderr
    assert 'channel: {column: Lead Source, split: ";"}' in done.stderr
    mine = tmp_path / "mine.yaml"
    mine.write_text('extends: salesforce_en\ntables:\n  opportunities:\n    columns:\n'
                    '      channel: {column: Lead Source, optional: true, split: ";"}\n', encoding="utf-8")
    result = ingest(exports, mine, tmp_path / "out")
    assert dict(zip(load_workbook(tmp_path / "out").opportunities["opportunity_id"], load_workbook(tmp_path / "out").opportunities["channel"]))["0065g00000AAAA2AAA"] == "Seminar"
    assert [w.count for w in result.warnings if w.code == "split_first_kept"] == [1]


# --------------------------------------------------------------------------- segments Excel made into dates
def test_company_size_cells_that_excel_made_into_dates_in_an_xlsx(tmp_path):
    import datetime as dt

    frame = pd.read_csv(__import__("io").StringIO(OPPS_CSV), dtype=object)
    frame["company_size"] = frame["company_size"].astype(object)
    frame.loc[0, "company_size"] = dt.datetime(2025, 1, 49 - 30)   # "1-19" opened in Excel: 19 January
    folder = write_folder(tmp_path / "d", {})
    frame.to_excel(folder / "opportunities.xlsx", index=False)
    text = refused(folder)
    assert "opportunities.xlsx, row 2, column 'company_size': values that look like dates or Excel day numbers" in text
    assert "'2025-01-19T00:00:00'" in text


def test_industry_turned_into_month_names_stops_the_ingest(tmp_path):
    exports = exports_copy(tmp_path, "salesforce_en")
    leads = exports / "report1717147260000.csv"
    leads.write_text(leads.read_text(encoding="utf-8").replace('"Retail"', '"Nov-50"', 1), encoding="utf-8")
    with pytest.raises(WorkbookError, match=r"column 'Industry' -> industry \(row 3\): category values that Excel turned into dates"):
        ingest(exports, "salesforce_en", tmp_path / "out")


# --------------------------------------------------------------------------- invisible characters
def test_one_channel_stays_one_channel_whatever_invisible_characters_it_carries(tmp_path):
    opps = (OPPS_CSV.replace("O2,2025-05-01,2025-06-30,lost,500000,,outbound", "O2,2025-05-01,2025-06-30,lost,500000,,\u2060web\u202b")
            .replace("O3,2025-06-10,,open,800000,,", "O3,2025-06-10,,open,800000,,w\u00adeb"))
    spend = SPEND.replace("2025-04,web", "2025-04,web\x00")
    wb = load_workbook(write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": opps, "spend.csv": spend}))
    assert set(wb.opportunities["channel"]) == {"web"} and set(wb.spend["channel"]) == {"web", "seminar"}
    assert wb.opportunities["channel"].value_counts().to_dict() == {"web": 3}   # one row in every breakdown by channel
    warned = [w for w in wb.warnings if w.code == "invisible_characters"]
    assert len(warned) == 1 and warned[0].count == 3 and "<U+2060>web<U+202B>" in warned[0].message


# --------------------------------------------------------------------------- amounts, bytes, headers, everything at once
def test_oku_and_man_in_a_japanese_salesforce_export(tmp_path):
    exports = exports_copy(tmp_path, "salesforce_ja")
    deals = exports / "report1725063300000.csv"
    text = deals.read_bytes().decode("cp932").replace("￥1,200,000", "1.25億円").replace("\\500,000", "4,800万円")
    deals.write_bytes(text.encode("cp932"))
    ingest(exports, "salesforce_ja", tmp_path / "out")
    amounts = dict(zip(load_workbook(tmp_path / "out").opportunities["opportunity_id"].str[:15],
                       load_workbook(tmp_path / "out").opportunities["amount"]))
    assert amounts["006J0000001AAAA"] == 125_000_000 and amounts["006J0000002AAAA"] == 48_000_000


def test_spend_in_man_yen_is_read_exactly(tmp_path):
    spend = "month,channel,amount\n2025-04,web,12.5万円\n2025-04,seminar,\"1,080万\"\n2025-05,web,0.3億円\n"
    wb = load_workbook(write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV, "spend.csv": spend}))
    assert wb.spend["amount"].tolist() == [125_000.0, 10_800_000.0, 30_000_000.0]


def test_a_latin1_byte_and_a_nul_header_through_the_runner(tmp_path):
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    (folder / "spend.csv").write_bytes(("month,channel,amount\n2025-04,ウェブ広告,1000\n").encode() + b"2025-05,caf\xe9,2000\n")
    (folder / "opportunities.csv").write_text(OPPS_CSV.replace("owner", "own\x00er"), encoding="utf-8")
    done = run_child("import sys\nfrom helpers.report.run import main\nsys.exit(main(sys.argv[1:]))\n",
                     "--data", str(folder), "--out", str(tmp_path / "reports"), "--period", "2025Q2", timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert_no_traceback(done.stdout, done.stderr)
    said = done.stdout + done.stderr
    assert "spend.csv: row 3, column 'channel': the byte 0xE9 (in 'caf\\\\xe9') is not UTF-8" in said
    assert "opportunities.csv: the header holds a NUL or another control character (column 10: 'own<U+0000>er')" in said
    assert "\x00" not in said


def test_a_missing_column_does_not_hide_the_other_problems_of_leads(tmp_path):
    leads = LEADS_CSV.replace("lead_id,created_at,channel", "lead_id,created_at,source").replace("L3,", "L2,").replace(
        "2025-04-15", "2025-04-31")
    with pytest.raises(WorkbookError) as err:
        load_workbook(write_folder(tmp_path / "d", {"leads.csv": leads, "opportunities.csv": OPPS_CSV}))
    assert [(f.code, f.column) for f in err.value.findings if f.severity == "error"] == [
        ("missing_column", "channel"), ("bad_date", "created_at"), ("duplicate_id", "lead_id")]
