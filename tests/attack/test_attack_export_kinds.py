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
@pytest.mark.parametrize("name, below", [
    ("header-only", "report.csv (opportunities): nothing below the header"),
    ("header-blank-footer", "report.csv (opportunities): only blank row (2 rows), report footer (1 row) below the header"),
])
def test_a_header_only_export_is_refused_naming_the_file(tmp_path, name, below):
    with pytest.raises(WorkbookError) as err:
        ingest(exports(tmp_path, name), "salesforce_en", tmp_path / "out")
    text = str(err.value)
    assert text.startswith(f"report.csv: the exports hold their headers and no data row ({below})")
    assert "as_of" not in text and ".ingest-" not in text   # not the loader's words about a staging folder
    assert "date range" in err.value.fix and err.value.code == "no_data_rows"
    assert "見出し行だけ" in err.value.in_language("ja")
    assert not (tmp_path / "out").exists()


def test_a_header_only_deals_export_beside_leads_is_read_and_said(tmp_path):
    res = ingest(exports(tmp_path, "deals-header-only-leads-rows"), "salesforce_en", tmp_path / "out")
    assert len(written(tmp_path / "out")) == 0 and len(written(tmp_path / "out", "leads")) == 2
    said = [w for w in res.warnings if w.code == "no_opportunity_rows"]
    assert len(said) == 1 and said[0].file == "opportunity_report.csv"
    assert "no data row, only its header" in said[0].message
