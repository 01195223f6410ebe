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


# --------------------------------------------------------------------------- amounts in 万円 / 億円
@pytest.mark.parametrize("written, yen", [("3,400万円", 34_000_000), ("2.75億円", 275_000_000), ("1億2,500万円", 125_000_000),
                                          ("6千万円", 60_000_000), ("880千円", 880_000), ("45万6,789円", 456_789), ("7億", 700_000_000)])
@pytest.mark.parametrize("fast", [True, False])
def test_japanese_units_are_read_in_a_data_folder(tmp_path, monkeypatch, written, yen, fast):
    monkeypatch.setattr(load_module, "FAST_CSV", fast)
    folder = write_folder(tmp_path / "d", {"opportunities.csv": OPPS_CSV.replace("1200000", f'"{written}"')})
    wb = load_workbook(folder)
    assert wb.opportunities.loc[0, "amount"] == yen and wb.opportunities.loc[1, "amount"] == 500_000


@pytest.mark.parametrize("written", ["万円", "1万万円", "3,40万円", "1億万円"])
def test_malformed_japanese_units_are_refused(tmp_path, written):
    folder = write_folder(tmp_path / "d", {"opportunities.csv": OPPS_CSV.replace("1200000", f'"{written}"')})
    with pytest.raises(WorkbookError) as err:
        load_workbook(folder)
    assert f"opportunities.csv, row 2, column 'amount': values that are not valid finite numbers (values: '{written}')" in str(err.value)
    assert "1,200万円 or 1.5億円" in str(err.value)


def test_japanese_units_are_read_through_a_mapping(tmp_path):
    exports = tmp_path / "exports"
    shutil.copytree(HUBSPOT, exports)
    deals = exports / "hubspot-crm-exports-all-deals-2024-06-30.csv"
    text = deals.read_text(encoding="utf-8").replace(",1500000,", ",\"1,350万円\",").replace(",700000,", ",0.8億円,")
    deals.write_text(text, encoding="utf-8")
    result = ingest(exports, "hubspot", tmp_path / "out")
    wb = load_workbook(tmp_path / "out")
    amounts = dict(zip(wb.opportunities["opportunity_id"], wb.opportunities["amount"]))
    assert amounts["9001"] == 13_500_000 and amounts["9002"] == 80_000_000
    assert result.currency["code"] == "JPY"  # 円 names the currency


# --------------------------------------------------------------------------- date forms of the shipped mappings
def test_every_date_column_of_a_shipped_mapping_reads_the_same_forms():
    from helpers.data.mapping import load_mapping, shipped_mappings

    for name in shipped_mappings():
        forms = {}
        for tm in load_mapping(name).tables.values():
            for rule in tm.columns:
                if rule.kind in ("date", "datetime") and rule.columns:
                    forms[f"{tm.table}.{rule.target}"] = frozenset(rule.formats)
        assert len(set(forms.values())) == 1, (name, forms)


@pytest.mark.parametrize("cell, day", [("2025/4/1 0:00", "2025-04-01"), ("2025/04/01 13:05:09", "2025-04-01"),
                                       ("2025年4月1日 9:30", "2025-04-01"), ("2025/4/1", "2025-04-01")])
def test_salesforce_ja_close_date_reads_what_its_created_date_reads(cell, day):
    from helpers.data.mapping import load_mapping, parse_datetime

    tm = load_mapping("salesforce_ja").tables["opportunities"]
    for target in ("created_at", "closed_at"):
        assert parse_datetime(cell, tm.rule(target).formats).date().isoformat() == day
