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


# --------------------------------------------------------------------------- several values in one label cell
@pytest.mark.parametrize("column, old, new", [
    ("channel", "L2,2025-04-15,seminar", 'L2,2025-04-15,"seminar;web"'),
    ("industry", ",小売,1000+,", ',"小売 ; 製造",1000+,'),
    ("owner", "鈴木,b@example.com", '"鈴木;佐藤",b@example.com'),
])
@pytest.mark.parametrize("fast", [True, False])
def test_a_data_folder_refuses_several_values_in_a_label_cell(tmp_path, monkeypatch, column, old, new, fast):
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV.replace(old, new), "opportunities.csv": OPPS_CSV})
    message = refusal(folder, fast, monkeypatch)
    row = 3 if column != "industry" else 4
    assert f"leads.csv, row {row}, column '{column}': 1 cell(s) hold several values joined by ';'" in message
    assert f"add split: \";\" to its {column} rule" in message


def test_prose_with_a_semicolon_in_a_name_column_is_not_a_list(tmp_path):
    leads = LEADS_CSV.replace("ウェビナー", '"ウェビナー; 第2回"')
    wb = load_workbook(write_folder(tmp_path / "d", {"leads.csv": leads, "opportunities.csv": OPPS_CSV}))
    assert wb.leads.loc[1, "campaign"] == "ウェビナー; 第2回"


def _hubspot(tmp_path, contacts_change=None, deals_change=None) -> Path:
    exports = tmp_path / "exports"
    shutil.copytree(HUBSPOT, exports)
    for part, change in (("contacts", contacts_change), ("deals", deals_change)):
        if change:
            path = next(exports.glob(f"*{part}*"))
            path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    return exports


def test_the_ingest_refuses_a_multiple_checkbox_channel_and_split_keeps_the_first_value(tmp_path):
    exports = _hubspot(tmp_path, lambda t: t.replace(",Organic Search,2024-02-12", ",Organic Search;Referrals,2024-02-12")
                       .replace(",Direct Traffic,", ",Direct Traffic;Organic Search;Email,"))
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "hubspot", tmp_path / "out")
    text = str(err.value)
    assert ("column 'Original Source' -> channel (rows 5, 6): 2 cell(s) hold several values joined by ';' "
            "('Organic Search;Referrals', 'Direct Traffic;Organic Search;Email')") in text
    assert 'channel: {column: Original Source, split: ";"}' in text and "extends: hubspot" in text
    mine = tmp_path / "my_mapping.yaml"
    mine.write_text('extends: hubspot\ntables:\n  leads:\n    columns:\n'
                    '      channel: {column: Original Source, default: unknown, split: ";"}\n', encoding="utf-8")
    result = ingest(exports, mine, tmp_path / "out")
    wb = load_workbook(tmp_path / "out")
    assert dict(zip(wb.leads["lead_id"], wb.leads["channel"]))["104"] == "Organic Search"
    assert dict(zip(wb.leads["lead_id"], wb.leads["channel"]))["105"] == "Direct Traffic"
    kept = [w for w in result.warnings if w.code == "split_first_kept" and w.column == "channel"]
    assert len(kept) == 1 and kept[0].count == 2 and kept[0].rows == (5, 6)
    assert "'Organic Search;Referrals', 'Direct Traffic;Organic Search;Email'); the first value of each was kept" in kept[0].message


def test_split_false_keeps_a_semicolon_that_belongs_to_the_value(tmp_path):
    exports = _hubspot(tmp_path, deals_change=lambda t: t.replace(",Price\n", ",Price;Timing\n"))
    with pytest.raises(WorkbookError, match="Closed Lost Reason' -> loss_reason"):
        ingest(exports, "hubspot", tmp_path / "out")
    mine = tmp_path / "my_mapping.yaml"
    mine.write_text("extends: hubspot\ntables:\n  opportunities:\n    columns:\n"
                    "      loss_reason: {column: Closed Lost Reason, optional: true, split: false}\n", encoding="utf-8")
    ingest(exports, mine, tmp_path / "out")
    assert "Price;Timing" in set(load_workbook(tmp_path / "out").opportunities["loss_reason"].dropna())


# --------------------------------------------------------------------------- segments Excel turned into dates
@pytest.mark.parametrize("sizes, rows, shown", [
    ((",2025-11-50 00:00:00,", ",2025-01-10,"), "rows 2, 3", "'2025-11-50 00:00:00', '2025-01-10'"),
    ((",10-Jan,", ",1000+,"), "row 2", "'10-Jan'"),
    ((",45667,", ",1000+,"), "row 2", "'45667'"),
])
def test_a_data_folder_refuses_segments_excel_made_into_dates(tmp_path, sizes, rows, shown):
    leads = LEADS_CSV.replace(",50-299,", sizes[0], 1).replace(",1-49,", sizes[1], 1)
    folder = write_folder(tmp_path / "d", {"leads.csv": leads, "opportunities.csv": OPPS_CSV})
    with pytest.raises(WorkbookError) as err:
        load_workbook(folder)
    text = str(err.value)
    assert f"leads.csv, {rows}, column 'company_size': values that look like dates or Excel day numbers in a segment column" in text
    assert f"(values: {shown})" in text and "Excel's data import wizard" in text


def test_a_company_size_of_only_day_numbers_is_a_warning(tmp_path):
    leads = LEADS_CSV.replace(",50-299,", ",45658,").replace(",1-49,", ",45667,").replace(",1000+,", ",45717,")
    opps = OPPS_CSV.replace(",50-299,", ",,").replace(",300-999,", ",,")
    wb = load_workbook(write_folder(tmp_path / "d", {"leads.csv": leads, "opportunities.csv": opps}))
    found = [w for w in wb.warnings if w.code == "excel_serial_category"]
    assert [(w.file, w.column, w.rows, w.count) for w in found] == [("leads.csv", "company_size", (2, 3, 4), 3)]


def test_real_head_counts_are_not_day_numbers(tmp_path):
    leads = LEADS_CSV.replace(",50-299,", ",45000,").replace(",1-49,", ",250,").replace(",1000+,", ",1200,")
    wb = load_workbook(write_folder(tmp_path / "d", {"leads.csv": leads, "opportunities.csv": OPPS_CSV}))
    assert not [w for w in wb.warnings if "excel" in w.code]


def test_the_ingest_refuses_excel_dated_sizes_and_warns_on_day_numbers(tmp_path):
    exports = _hubspot(tmp_path, lambda t: t.replace(",Retail,1200,", ",Retail,2025-01-10 00:00:00,", 1))
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "hubspot", tmp_path / "out")
    assert ("column 'Number of Employees' -> company_size (row 3): category values that Excel turned into dates or day numbers "
            "(a range such as 1-10 becomes 10-Jan): '2025-01-10 00:00:00'") in str(err.value)
    exports = _hubspot(tmp_path / "b", lambda t: t.replace(",250,", ",45667,").replace(",1200,", ",45778,")
                       .replace(",80,", ",45900,").replace(",40,", ",45667,"))
    result = ingest(exports, "hubspot", tmp_path / "b" / "out")
    found = [w for w in result.warnings if w.code == "excel_serial_category"]
    assert [(w.column, w.count) for w in found] == [("company_size", 5)]


# --------------------------------------------------------------------------- invisible characters in labels
def test_invisible_characters_are_folded_with_a_warning(tmp_path):
    leads = (LEADS_CSV.replace("L3,2025-05-20,web", "L3,2025-05-20,\u200bweb").replace("IT・通信", "IT・通信\u2067")
             .replace("L1,2025-04-01,web", "L1,2025-04-01,web\ufeff"))
    opps = OPPS_CSV.replace(",outbound,金融,300-999", ",outbound\u202e,金融\x00,300-999\u200d")
    wb = load_workbook(write_folder(tmp_path / "d", {"leads.csv": leads, "opportunities.csv": opps}))
    assert wb.leads["channel"].tolist() == ["web", "seminar", "web"]
    assert wb.leads["industry"].tolist() == ["製造", "IT・通信", "小売"]
    assert wb.opportunities["channel"].tolist() == ["web", "outbound", "unknown"]
    assert wb.opportunities.loc[1, "industry"] == "金融" and wb.opportunities.loc[1, "company_size"] == "300-999"
    found = {w.column: w for w in wb.warnings if w.code == "invisible_characters"}
    assert set(found) == {"channel", "industry", "company_size"}
    assert found["channel"].count == 3 and found["channel"].file == "leads.csv / opportunities.csv"
    assert "'outbound<U+202E>' (1); 'web<U+FEFF>' (1), '<U+200B>web' (1); read as 'outbound', 'web'" in found["channel"].message
    assert "\u202e" not in found["channel"].message and "\x00" not in found["industry"].message


def test_no_raw_nul_or_bidi_control_reaches_html():
    import pandas as pd

    from helpers.views.display import esc, table_html

    assert esc("a\x00b\u202ec\u2066d") == "a\ufffdb\ufffdc\ufffdd"
    page = table_html(pd.DataFrame({"owner": ["佐藤\u202e", "x\x00"]}))
    assert "\u202e" not in page and "\x00" not in page and "佐藤\ufffd" in page


# --------------------------------------------------------------------------- messages that name the real cause
def test_one_latin1_byte_in_a_utf8_file_names_the_row_column_and_byte(tmp_path):
    data = LEADS_CSV.encode("utf-8").replace("鈴木".encode(), b"M\xfcller", 1)   # ü typed in Latin-1
    folder = write_folder(tmp_path / "d", {"opportunities.csv": OPPS_CSV})
    (folder / "leads.csv").write_bytes(data)
    with pytest.raises(WorkbookError) as err:
        load_workbook(folder)
    text = str(err.value)
    assert ("leads.csv: row 3, column 'owner': the byte 0xFC (in 'M\\\\xfcller') is not UTF-8, while the rest of the file is "
            "UTF-8 (1 such byte(s) in all): a character from another encoding (0xFC is 'ü' in Latin-1 / cp1252)") in text
    assert "Retype that character in row 3" in text and "cannot be told" not in text


def test_the_ingest_names_the_stray_byte_too(tmp_path):
    exports = _hubspot(tmp_path)
    contacts = next(exports.glob("*contacts*"))
    contacts.write_bytes(contacts.read_bytes().replace(b"Ken Ito,IT,40", "Ken Itō,IT,40".encode("utf-8")).replace(b"Eve,Moss", b"\xc9ve,Moss"))
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "hubspot", tmp_path / "out")
    assert f"{contacts.name}: row 7, column 'First Name': the byte 0xC9" in str(err.value)


def test_a_cp1252_file_is_still_read_as_cp1252(tmp_path):
    """Only a few bad bytes in an otherwise UTF-8 file are stray: a whole Western file is detected as before."""
    folder = write_folder(tmp_path / "d", {"opportunities.csv": OPPS_CSV.replace("鈴木", "Müller").replace("佐藤", "Gómez")
                                           .replace("金融", "Finance").replace("製造", "Café").replace("価格", "Prix")}, encoding="cp1252")
    wb = load_workbook(folder)
    assert wb.files["opportunities"].encoding == "cp1252" and "Café" in set(wb.opportunities["industry"])


@pytest.mark.parametrize("fast", [True, False])
def test_a_nul_in_a_header_is_named_never_printed(tmp_path, monkeypatch, fast):
    folder = write_folder(tmp_path / "d", {"opportunities.csv": OPPS_CSV.replace("amount", "amo\x00unt"), "leads.csv": LEADS_CSV})
    text = refusal(folder, fast, monkeypatch)
    assert "opportunities.csv: the header holds a NUL or another control character (column 5: 'amo<U+0000>unt')" in text
    assert "\x00" not in text and "retype the name of column 5" in text


def test_a_nul_in_an_export_header_is_named(tmp_path):
    exports = _hubspot(tmp_path, deals_change=lambda t: t.replace("Deal Stage", "Deal\x00Stage", 1))
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "hubspot", tmp_path / "out")
    assert "the header holds a NUL or another control character (column 4: 'Deal<U+0000>Stage')" in str(err.value)
    assert "\x00" not in str(err.value)


def test_a_missing_column_and_the_files_other_problems_come_together(tmp_path):
    opps = (OPPS_CSV.replace(",outcome,", ",result,").replace("2025-05-01,2025-06-30", "2025-05-01,2025-02-30")
            .replace("O3,2025-06-10", "O1,2025-06-10").replace("500000", "-7"))
    with pytest.raises(WorkbookError) as err:
        load_workbook(write_folder(tmp_path / "d", {"opportunities.csv": opps}))
    codes = [(f.code, f.column, f.rows) for f in err.value.findings]
    assert codes == [("missing_column", "outcome", ()), ("bad_date", "closed_at", (3,)), ("duplicate_id", "opportunity_id", (2, 4)),
                     ("negative_amount", "amount", (3,))]


def test_the_ingest_lists_every_missing_column_with_the_value_problems(tmp_path):
    exports = _hubspot(tmp_path, deals_change=lambda t: t.replace("Deal Stage", "Stage").replace("Record ID", "Deal ID")
                       .replace("2024-04-12 09:00", "12.04.2024 9h"))
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "hubspot", tmp_path / "out")
    lines = str(err.value).splitlines()
    assert lines[0].endswith("columns the mapping needs are missing, and values it cannot convert (hubspot.yaml: tables.opportunities):")
    assert lines[1].startswith("  - has no column 'Record ID' or 'レコードID' (needed by hubspot.yaml: tables.opportunities.columns.opportunity_id)")
    assert lines[2].startswith("  - has no column 'Deal Stage' or '取引ステージ' (needed by hubspot.yaml: tables.opportunities.columns.outcome)")
    assert lines[3].startswith("  - column 'Close Date' -> closed_at (row 3): not dates") and "'12.04.2024 9h'" in lines[3]
    assert "Put the export's exact header in the mapping" in lines[4] and "Add the format these values use" in lines[4]


@pytest.mark.parametrize("fast", [True, False])
def test_a_quote_lost_in_a_quoted_file_is_refused_not_shifted(tmp_path, monkeypatch, fast):
    """Every cell quoted, one closing quote lost: two cells merge ("製造,"50-299") and the row is one cell short."""
    quoted = "\n".join(",".join(f'"{c}"' for c in line.split(",")) for line in LEADS_CSV.strip().splitlines()) + "\n"
    text = quoted.replace('"小売","1000+"', '"小売,"1000+"')
    folder = write_folder(tmp_path / "d", {"leads.csv": text, "opportunities.csv": OPPS_CSV})
    message = refusal(folder, fast, monkeypatch)
    assert "leads.csv: row 4, column 'industry': a quoted cell is closed and followed by more text before the next separator" in message
    assert "mend the quotes on line 4" in message


def test_quotes_doubled_inside_cells_still_load(tmp_path, monkeypatch):
    text = LEADS_CSV.replace("ウェビナー", '"ウェビナー ""春"""')
    for fast in (True, False):
        monkeypatch.setattr(load_module, "FAST_CSV", fast)
        wb = load_workbook(write_folder(tmp_path / "d", {"leads.csv": text, "opportunities.csv": OPPS_CSV}))
        assert wb.leads.loc[1, "campaign"] == 'ウェビナー "春"'


def test_a_value_map_does_not_hide_a_multi_valued_cell(tmp_path):
    exports = _hubspot(tmp_path, lambda t: t.replace(",Direct Traffic,", ",Direct Traffic;Paid Search,"))
    mine = tmp_path / "my_mapping.yaml"
    mine.write_text("extends: hubspot\ntables:\n  leads:\n    columns:\n"
                    "      channel: {column: Original Source, default: unknown, values: {Organic Search: seo, Paid Search: ads}}\n",
                    encoding="utf-8")
    with pytest.raises(WorkbookError, match=r"column 'Original Source' -> channel \(row 6\): 1 cell\(s\) hold several values "
                                            r"joined by ';' \('Direct Traffic;Paid Search'\)"):
        ingest(exports, mine, tmp_path / "out")
