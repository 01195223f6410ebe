"""A UTF-8 CSV file is read once (helpers.data.fastcsv._read_once): the blocks pyarrow parses are hashed and checked
as the separate scan (scan_csv) checks them, and every file the checks or the parse refuse is handed to the scan and
its reader as before. tests/test_fastcsv.py compares the fast and the exact reader on the same kinds of files.
"""
from __future__ import annotations

import hashlib

import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.data import fastcsv
from helpers.data import load as load_module
from test_fastcsv import assert_same

LEAD_COLUMNS = frozenset(load_module.TABLES["leads"].column_names)
ROWS = "".join(f"L{i},2025-04-01,web,,製造,50-299,,,,,佐藤,x{i}@example.com\n" for i in range(10, 90))


def not_scanned(*args):
    raise AssertionError("the file was scanned before its parse (a second read)")


@pytest.mark.parametrize("block", [64, 8 << 20])
def test_a_clean_file_is_parsed_from_the_checked_blocks(tmp_path, monkeypatch, block):
    """No scan of its own: the SHA-256 is the file's, the cells and the header as read by the scan and the parse."""
    monkeypatch.setattr(fastcsv, "SCAN_BLOCK", block)
    path = write_folder(tmp_path, {"leads.csv": LEADS_CSV + ROWS}) / "leads.csv"
    monkeypatch.setattr(fastcsv, "scan_csv", not_scanned)
    read = fastcsv.read_csv_cells(path, LEAD_COLUMNS)
    assert read.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert read.cells.num_rows == 83 and read.header[-1] == "email" and read.cells.num_columns == 11
    assert read.cells.column("f0").to_pylist()[:4] == ["L1", "L2", "L3", "L10"]


@pytest.mark.parametrize("later, cause", [
    ("L99,2025-04-01,Ã©web,,,,,,,,,\n", "mojibake"),
    ("L99,2025-04-01,web,,縺ｧ縺吶,,,,,,,\n", "mojibake of Japanese"),
    ("L99,2025-04-01,w\x00eb,,,,,,,,,\n", "NUL"),
    ("L99,2025-04-01,web,,\xff,,,,,,,\n", "not UTF-8"),
])
def test_a_check_failing_in_a_later_block_hands_the_file_to_the_scan(tmp_path, monkeypatch, later, cause):
    """Blocks of 128 bytes: the fault is found while pyarrow parses, the parse stops, and the scan's answer is the rule."""
    monkeypatch.setattr(fastcsv, "SCAN_BLOCK", 128)
    data = (LEADS_CSV + ROWS).encode("utf-8") + later.encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff")
    folder = write_folder(tmp_path / "d", {"opportunities.csv": OPPS_CSV})
    (folder / "leads.csv").write_bytes(data)
    scans = []
    monkeypatch.setattr(fastcsv, "scan_csv", lambda path, real=fastcsv.scan_csv: scans.append(path) or real(path))
    read = fastcsv.read_csv_cells(folder / "leads.csv", LEAD_COLUMNS)
    assert scans == [folder / "leads.csv"], cause
    assert read is None or (cause == "not UTF-8" and read.encoding != "utf-8")  # else read in another encoding
    monkeypatch.undo()
    assert_same(folder, monkeypatch)


def test_a_quote_after_the_first_lines_converts_the_whole_file(tmp_path, monkeypatch):
    """The first lines had no quote, so the parse converted only the contract's columns; a quote later makes the
    file's cells searched and its extra columns read at load, as the scan then parse did."""
    monkeypatch.setattr(fastcsv, "HEAD_BLOCK", 256)
    folder = write_folder(tmp_path / "d", {"opportunities.csv": OPPS_CSV,
                                          "leads.csv": LEADS_CSV + ROWS + 'L99,2025-04-01,web,,,,,,,,,"z@example.com"\n'})
    read = fastcsv.read_csv_cells(folder / "leads.csv", LEAD_COLUMNS)
    assert read.cells.num_columns == len(read.header) == 12 and read.cells.num_rows == 84
    wb = assert_same(folder, monkeypatch)
    (folder / "leads.csv").unlink()
    assert wb.extras["leads"]["email"].iloc[-1] == "z@example.com"   # read at load, not left in the file
    odd = folder / "odd.csv"
    odd.write_text(LEADS_CSV + ROWS + 'L99,2025-04-01,web,,,,,,,,,"z@example.com\n', encoding="utf-8")
    assert fastcsv.read_csv_cells(odd, LEAD_COLUMNS) is None   # a quote left open: the exact reader decides


def test_line_ends_of_a_carriage_return_alone(tmp_path, monkeypatch):
    """A file without a line feed (an old Mac export) is one line for the block checks and the first lines: read as the
    exact reader reads it, with the first lines read in time linear in the file (64-byte blocks here)."""
    monkeypatch.setattr(fastcsv, "HEAD_BLOCK", 64)
    monkeypatch.setattr(fastcsv, "SCAN_BLOCK", 64)
    folder = write_folder(tmp_path / "d", {"opportunities.csv": OPPS_CSV.replace("\n", "\r"),
                                          "leads.csv": (LEADS_CSV + ROWS).replace("\n", "\r")})
    read = fastcsv.read_csv_cells(folder / "leads.csv", LEAD_COLUMNS)
    assert read is not None and read.cells.num_rows == 83 and read.header[-1] == "email"
    assert fastcsv._utf8_head(folder / "leads.csv", 0) == (LEADS_CSV + ROWS).replace("\n", "\r")
    wb = assert_same(folder, monkeypatch)
    assert len(wb.leads) == 83
