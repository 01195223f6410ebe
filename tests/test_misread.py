"""Data files read silently wrong (issue 21): each kind is refused with the file, row and fix, or read right.

Kinds: a stray quote that swallows the rows after it; multi-valued category cells (`Paid Search;Webinar`);
segment values Excel turned into dates or serial numbers; invisible characters in labels; amounts in 万円/億円;
date forms of the shipped mappings; every problem of a file reported at once. Fresh examples, not the issue's.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.data import load as load_module
from helpers.data.ingest import ingest
from helpers.data.load import load_workbook
from helpers.errors import WorkbookError

HUBSPOT = Path(__file__).resolve().parent / "fixtures" / "exports" / "hubspot"

#: 26 more leads, so a swallowed tail is many rows
MORE_LEADS = "".join(f"L{i},2025-04-{i:02d},web,春の展示会,製造,1-49,,,,,佐藤,x{i}@example.com\n" for i in range(4, 30))


def refusal(folder: Path, fast: bool, monkeypatch) -> str:
    monkeypatch.setattr(load_module, "FAST_CSV", fast)
    with pytest.raises(WorkbookError) as err:
        load_workbook(folder)
    return str(err.value)


# --------------------------------------------------------------------------- 1. a stray quote
@pytest.mark.parametrize("case, text, where", [
    # a quote opened mid-row, closed 17 rows later by a properly quoted cell: every reader "succeeds" with 4 rows
    ("closed later by another quote",
     (LEADS_CSV + MORE_LEADS).replace("seminar,ウェビナー", 'seminar,"ウェビナー', 1)
     .replace("L20,2025-04-20,web,春の展示会", 'L20,2025-04-20,web,"春の展示会, 大阪"'),
     "row 3, column 'campaign': the cell opens with a quote (\"ウェビナー,IT・通信"),
    ("tab-separated, never closed", (LEADS_CSV + MORE_LEADS).replace(",", "\t").replace("b@example.com", '"b@example.com'),
     "row 3, column 'email': the cell opens with a quote (\"b@example.com) that is not closed where the cell ends, so the next "
     "27 line(s) of the file, 27 of them whole rows"),
    ("semicolon-separated", (LEADS_CSV + MORE_LEADS).replace(",", ";").replace(";ウェビナー;", ';"ウェビナー;'),
     "row 3, column 'campaign'"),
    ("after a blank line", (LEADS_CSV + "\n" + MORE_LEADS).replace("L12,2025-04-12,web,春の展示会", 'L12,2025-04-12,web,"春の展示会'),
     "row 13 (line 14 of the file), column 'campaign'"),
])
@pytest.mark.parametrize("fast", [True, False])
def test_a_stray_quote_is_refused_at_the_row_it_opened(tmp_path, monkeypatch, case, text, where, fast):
    folder = write_folder(tmp_path / "d", {"leads.csv": text, "opportunities.csv": OPPS_CSV})
    message = refusal(folder, fast, monkeypatch)
    assert f"leads.csv: {where}" in message
    assert "the table would silently lose those rows" in message and "close or remove the stray quote at line" in message


def test_a_stray_quote_in_the_last_row_of_the_file(tmp_path, monkeypatch):
    """The smallest swallow: one row. Both readers refuse alike."""
    text = OPPS_CSV.replace("O2,2025-05-01,2025-06-30,lost,500000,,outbound,金融,300-999,鈴木,価格",
                            'O2,2025-05-01,2025-06-30,lost,500000,,outbound,金融,300-999,鈴木,"価格')
    folder = write_folder(tmp_path / "d", {"opportunities.csv": text})
    for fast in (True, False):
        assert ("opportunities.csv: row 3, column 'loss_reason': the cell opens with a quote (\"価格) that is not closed where "
                "the cell ends, so the next 1 line(s) of the file, 1 of them whole rows") in refusal(folder, fast, monkeypatch)


def test_cells_with_real_line_breaks_still_load(tmp_path, monkeypatch):
    """A quoted note over three lines (with commas, but no line that is a whole row) is a cell, as before."""
    text = (LEADS_CSV + MORE_LEADS).replace("ウェビナー", '"ウェビナー\n第2回, 東京\n（午後）"')
    folder = write_folder(tmp_path / "d", {"leads.csv": text, "opportunities.csv": OPPS_CSV})
    for fast in (True, False):
        monkeypatch.setattr(load_module, "FAST_CSV", fast)
        wb = load_workbook(folder)
        assert len(wb.leads) == 29 and wb.leads.loc[1, "campaign"] == "ウェビナー\n第2回, 東京\n（午後）"


def test_a_stray_quote_stops_the_ingest_too(tmp_path):
    exports = tmp_path / "exports"
    shutil.copytree(HUBSPOT, exports)
    deals = exports / "hubspot-crm-exports-all-deals-2024-06-30.csv"
    lines = deals.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(",Price", ',"Price')
    deals.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "hubspot", tmp_path / "out")
    assert f"{deals.name}: row 3, column 'Closed Lost Reason': the cell opens with a quote (\"Price)" in str(err.value)
    assert not (tmp_path / "out").exists()
