"""The fast typed CSV reader (helpers.data.fastcsv.read_csv_typed) gives exactly what the exact reader (pandas on the decoded text) gives.

Every other loader test runs through the fast reader (it is the default); these tests compare the
two readers on the same files: the sample data, files cut into tiny blocks, other encodings, files
the fast reader must hand over, and fuzzed CSV text.
"""
from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.config import load_config
from helpers.data import fastcsv
from helpers.data import load as load_module
from helpers.errors import DataValidationError, WorkbookError
from helpers.paths import SAMPLE_DATA_DIR

CANONICAL = ("leads", "opportunities", "spend", "checklist", "initiatives", "targets")


def outcome(folder: Path, fast: bool, monkeypatch, config=None):
    """What load_workbook gives with the fast reader on or off: the workbook, or the error's type, text and findings
    (`config`: the folder's settings when already read, as load_workbook reads them otherwise)."""
    monkeypatch.setattr(load_module, "FAST_CSV", fast)
    try:
        return load_module.load_workbook(folder, config)
    except (DataValidationError, WorkbookError) as exc:
        return (type(exc).__name__, str(exc), getattr(exc, "findings", None))


def assert_same(folder: Path, monkeypatch, config=None):
    """The fast and the exact reader agree on `folder`: equal tables (values, dtypes, categories), findings,
    source files and extra columns, or the same error."""
    fast, exact = outcome(folder, True, monkeypatch, config), outcome(folder, False, monkeypatch, config)
    if isinstance(exact, tuple) or isinstance(fast, tuple):
        assert fast == exact
        return fast
    for name in CANONICAL:
        a, b = getattr(fast, name), getattr(exact, name)
        assert (a is None) == (b is None), name
        if a is not None:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
            for col in a.columns:
                if isinstance(a[col].dtype, pd.CategoricalDtype):
                    assert list(a[col].cat.categories) == list(b[col].cat.categories)
    assert fast.findings == exact.findings
    assert fast.files == exact.files and fast.as_of == exact.as_of
    assert set(fast.extras) == set(exact.extras)
    for name, frame in fast.extras.items():
        other = exact.extras[name]
        assert list(frame.columns) == list(other.columns)
        for col in frame.columns:  # text cells, empty = missing (NaN in the fast reader's str columns, None in the exact)
            assert [None if pd.isna(v) else v for v in frame[col]] == [None if pd.isna(v) else v for v in other[col]]
    return fast


def test_sample_data_is_read_fast_and_the_same(tmp_path, monkeypatch):
    for path in sorted(SAMPLE_DATA_DIR.glob("*.csv")):
        assert fastcsv.read_csv_cells(path) is not None, path.name  # the fast reader takes every sample file
    wb = assert_same(SAMPLE_DATA_DIR, monkeypatch)
    assert len(wb.leads) == 4400 and wb.files["leads"].encoding == "utf-8"


def test_tiny_blocks_give_the_same_result(tmp_path, monkeypatch):
    """Blocks of 64 bytes: every block boundary, the sniffed first lines and the checks across blocks."""
    monkeypatch.setattr(fastcsv, "SCAN_BLOCK", 64)
    data = tmp_path / "sample"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    assert fastcsv.read_csv_cells(data / "opportunities.csv") is not None
    assert_same(data, monkeypatch)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932", "utf-16", "euc_jp"])
@pytest.mark.parametrize("block", [64, 8 << 20])
def test_other_encodings_are_transcoded_while_reading(tmp_path, monkeypatch, encoding, block):
    monkeypatch.setattr(fastcsv, "SCAN_BLOCK", block)
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV}, encoding=encoding)
    read = fastcsv.read_csv_cells(folder / "leads.csv")
    assert read is not None and read.encoding == encoding
    wb = assert_same(folder, monkeypatch)
    assert wb.leads["industry"].tolist() == ["製造", "IT・通信", "小売"]


def test_delimiters_quotes_and_line_ends(tmp_path, monkeypatch):
    opps = OPPS_CSV.replace(",", ";").replace("\n", "\r\n").replace("価格", '"価格; 高い\r\n次回"')
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV.replace(",", "\t"), "opportunities.csv": opps})
    assert fastcsv.read_csv_cells(folder / "opportunities.csv").delimiter == ";"
    wb = assert_same(folder, monkeypatch)
    assert wb.opportunities.loc[1, "loss_reason"] == '価格; 高い\r\n次回'
    # a cell holding a quote ("" in the file) goes to the exact reader, which checks the quotes (helpers.data.csvshape)
    (folder / "opportunities.csv").write_text(opps.replace("高い", '""高い""'), encoding="utf-8")
    assert fastcsv.read_csv_cells(folder / "opportunities.csv") is None
    wb = assert_same(folder, monkeypatch)
    assert wb.opportunities.loc[1, "loss_reason"] == '価格; "高い"\r\n次回'


@pytest.mark.parametrize("case, text", [
    ("empty", ""),
    ("header only blank lines", "\n\n"),
    ("ragged row that pandas pads", OPPS_CSV + "O4,2025-06-11\n"),
    ("implicit index column", OPPS_CSV.replace("\n", ",x\n").replace("loss_reason,x", "loss_reason")),
    ("unclosed quote", OPPS_CSV + 'O4,"2025-06-11,,open\n'),
    ("line of spaces", OPPS_CSV.replace("\nO2", "\n   \nO2")),
    ("NUL character", OPPS_CSV.replace("価格", "価\x00格")),
    ("mojibake", OPPS_CSV.replace("価格", "cafÃ©")),
    ("mojibake of Japanese", OPPS_CSV.replace("価格", "縺ｧ縺吶")),
    ("second byte order mark", "\ufeff\ufeff" + OPPS_CSV),
    ("one column", "opportunity_id\nO1\n"),
])
def test_files_the_fast_reader_hands_over_read_as_before(tmp_path, monkeypatch, case, text):
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV})
    (folder / "opportunities.csv").write_bytes(text.encode("utf-8"))
    assert fastcsv.read_csv_cells(folder / "opportunities.csv") is None
    assert_same(folder, monkeypatch)


def test_mojibake_in_a_later_block_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(fastcsv, "SCAN_BLOCK", 128)
    rows = "".join(f"O{i},2025-04-12,2025-06-01,won,1,,web,,,,\n" for i in range(10, 60))
    folder = write_folder(tmp_path / "d", {"opportunities.csv": OPPS_CSV + rows + "O99,2025-04-12,,open,1,,Ã©web,,,,\n"})
    assert fastcsv.read_csv_cells(folder / "opportunities.csv") is None
    name, text, _ = assert_same(folder, monkeypatch)
    assert "garbled (mojibake) at line 55" in text


def test_typed_values_and_findings_on_bad_cells(tmp_path, monkeypatch):
    opps = (OPPS_CSV.replace("2025-05-01,2025-06-30", " 2025/13/45 ,2025-06-30").replace("800000", '"¥800,000"')
            .replace("O3,", "'=O3,").replace(",open,", ",OPEN ,"))
    folder = write_folder(tmp_path / "d", {"opportunities.csv": opps})
    assert fastcsv.read_csv_cells(folder / "opportunities.csv") is not None
    _, text, findings = assert_same(folder, monkeypatch)
    assert [(f.code, f.rows, f.values) for f in findings if f.severity == "error"] == [
        ("bad_date", (3,), (" 2025/13/45 ",)), ("bad_number", (4,), ("¥800,000",))]


def test_duplicate_and_empty_header_names(tmp_path, monkeypatch):
    folder = write_folder(tmp_path / "d", {"opportunities.csv": OPPS_CSV.replace("loss_reason", " amount ")})
    _, text, _ = assert_same(folder, monkeypatch)
    assert "'amount' in columns 5, 11" in text
    folder = write_folder(tmp_path / "e", {"opportunities.csv": OPPS_CSV.replace(",loss_reason", ",")})
    wb = assert_same(folder, monkeypatch)
    assert list(wb.extras["opportunities"].columns) == ["Unnamed: 10"]


# --------------------------------------------------------------------------- fuzzing (bounded time)
# 50 derandomized examples (each loads its file twice, about 0.15 CPU s) plus the @example cases; the attack suite
# runs 150 more of the same files (tests/attack/test_attack_fastcsv.py: FUZZED_FILES, fuzzed_file_reads_the_same) and
# fuzzes the loader further.
CELL = st.one_of(st.text(alphabet=st.sampled_from('ab1-: "\',;\t\r\n\x0cé製\u3000'), max_size=6),
                 st.sampled_from(["", " ", "2025-04-01", " 2025-04-01T10:00:00+09:00 ", "2025-02-30", "1e309", "-1",
                                  "1,200", "won", " Lost", "open", "'=1+1", "'-", "はい", "営業", '""', '"x"y']))
COLUMNS = ["opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id", "channel"]


@functools.cache
def default_settings():
    """The settings load_workbook reads for a folder without workbook.yaml or ingest_report.json (every fuzzed
    folder): the defaults, read once (parsing them is about a quarter of an example's CPU)."""
    return load_config(None)


#: The fuzzed files' parts: rows of cells (rectangular or ragged), separator, quoting, line ends, byte order mark and
#: blank lines after the first row.
FUZZED_FILES = dict(
    rows=st.lists(st.one_of(st.lists(CELL, min_size=len(COLUMNS), max_size=len(COLUMNS)),
                            st.lists(CELL, min_size=1, max_size=len(COLUMNS) + 1)), max_size=6),
    sep=st.sampled_from([",", ";", "\t"]), quoting=st.sampled_from(["minimal", "all", "none"]),
    eol=st.sampled_from(["\n", "\r\n", "\r"]), bom=st.booleans(), blank=st.sampled_from(["", "\n", "\n\n"]))


def fuzzed_file_reads_the_same(tmp_path_factory, rows, sep, quoting, eol, bom, blank) -> None:
    """Write one fuzzed opportunities.csv (FUZZED_FILES' parts: rectangular rows quoted as a CSV writer quotes them,
    or all quoted, or not at all, or ragged) into a folder of its own; the fast and the exact reader agree on it."""
    def cell(v: str) -> str:
        if quoting == "all" or (quoting == "minimal" and any(ch in v for ch in (sep, '"', "\n", "\r"))):
            return '"' + v.replace('"', '""') + '"'
        return v

    lines = [sep.join(cell(v) for v in r) for r in [COLUMNS, *rows]]
    text = ("\ufeff" if bom else "") + eol.join(lines[:2]) + (eol + blank if len(lines) > 1 else "") + eol.join(lines[2:]) + eol
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "opportunities.csv").write_bytes(text.encode("utf-8"))
    assert sorted(p.name for p in folder.iterdir()) == ["opportunities.csv"]   # no settings of its own
    with pytest.MonkeyPatch.context() as mp:
        assert_same(folder, mp, default_settings())


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(**FUZZED_FILES)
@example(rows=[["", "", "", "", ",", '"', ""]], sep=",", quoting="none", eol="\n", bom=False, blank="")  # a quote left open
def test_fuzzed_csv_text_reads_the_same(tmp_path_factory, rows, sep, quoting, eol, bom, blank):
    """Rectangular rows quoted as a CSV writer quotes them (most are read fast), or not at all, or ragged."""
    fuzzed_file_reads_the_same(tmp_path_factory, rows, sep, quoting, eol, bom, blank)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "shift_jis", "utf-16"])
def test_the_scan_says_whether_a_quote_occurs_and_a_file_without_one_is_not_searched(tmp_path, monkeypatch, encoding):
    """The streaming pass that hashes the file also notes a double quote (issue 26: one read serves the checksum, the
    checks and the parse's checks); without one no parsed cell is searched for quotes or line breaks, with one the
    search still hands a cell holding a quote to the exact reader."""
    plain, quoted = tmp_path / "plain.csv", tmp_path / "quoted.csv"
    plain.write_bytes(OPPS_CSV.encode(encoding))
    quoted.write_bytes(OPPS_CSV.replace("価格", '"価格, 納期"').encode(encoding))
    assert fastcsv.scan_csv(plain)[3] is False and fastcsv.scan_csv(quoted)[3] is True

    def searched(*args):
        raise AssertionError("a file without quotes was searched for line breaks in cells")

    monkeypatch.setattr(fastcsv, "_row_in_a_cell", searched)
    assert fastcsv.read_csv_cells(plain).cells.num_rows == 3
    with pytest.raises(AssertionError, match="searched"):
        fastcsv.read_csv_cells(quoted)
    monkeypatch.undo()
    inner = tmp_path / "inner.csv"
    inner.write_bytes(OPPS_CSV.replace("価格", '"価格 ""安い"""').encode(encoding))
    assert fastcsv.scan_csv(inner)[3] is True and fastcsv.read_csv_cells(inner) is None


def test_extra_columns_stay_in_the_file_until_asked_for(tmp_path):
    """A file without quotes: only the contract columns are converted at load; the others (email) are read from the
    same bytes on first access, and refused with the file named when the file changed after the load."""
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    read = fastcsv.read_csv_cells(folder / "leads.csv", frozenset(load_module.TABLES["leads"].column_names))
    assert read.header[-1] == "email" and read.cells.num_columns == len(read.header) - 1
    assert f"f{len(read.header) - 1}" not in read.cells.column_names and read.cells.num_rows == 3

    wb = load_module.load_workbook(folder)
    assert list(wb.extras) == ["leads"]
    assert list(wb.extras["leads"]["email"]) == ["a@example.com", "b@example.com", "c@example.com"]
    (folder / "leads.csv").unlink()
    assert list(wb.extras["leads"]["email"]) == ["a@example.com", "b@example.com", "c@example.com"]  # kept once read

    write_folder(folder, {"leads.csv": LEADS_CSV})
    later = load_module.load_workbook(folder)
    write_folder(folder, {"leads.csv": LEADS_CSV.replace("c@example.com", "d@example.com")})
    with pytest.raises(WorkbookError, match=r"leads\.csv: the file changed or was removed after the folder was loaded.*email") as info:
        later.extras.get("leads")
    assert "Load the data folder again" in info.value.fix


def test_extra_columns_of_a_file_with_quotes_are_read_at_load(tmp_path):
    """A file with a double quote is converted whole (every cell searched for quotes and line breaks), extras included."""
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV.replace("a@example.com", '"a@example.com"'),
                                          "opportunities.csv": OPPS_CSV})
    wb = load_module.load_workbook(folder)
    (folder / "leads.csv").unlink()
    assert list(wb.extras["leads"]["email"]) == ["a@example.com", "b@example.com", "c@example.com"]


@pytest.mark.parametrize("text", ['opportunity_id,created_at,outcome\n,,",\n\n',           # open to the end of the file
                                  'opportunity_id,created_at,outcome\no1,2025-01-02,"won\n',
                                  'opportunity_id,created_at,outcome\r\no1,"2025-01-02,won\r\no2,2025-01-03,lost\r\n'])
def test_a_quote_left_open_is_refused_as_the_exact_reader_refuses_it(tmp_path, monkeypatch, text):
    """Arrow reads a quoted cell left open as running to the end of the file (found by the fuzz above: the fast reader
    then reported empty required values where pandas refuses the file); an odd count of quotes sends the file to the
    exact reader, whose refusal tells how to close it."""
    (tmp_path / "opportunities.csv").write_text(text, encoding="utf-8")
    assert fastcsv.scan_csv(tmp_path / "opportunities.csv") is None
    got = assert_same(tmp_path, monkeypatch, default_settings())
    assert got[0] == "DataValidationError" and "quote" in got[1], got   # refused, the fix naming the quotes
