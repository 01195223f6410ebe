"""Issue 21: files that are not what they seem, links out of the folder, and messages that name the real cause.

Each kind is built here from a fresh example (not the issue's): a sparse 2 GiB opportunities.csv of NUL bytes
(only the first block is read: counted through a wrapper of open), a copy padded with NULs, UTF-16 without a
byte order mark, an .xlsx / .xls / web page with a .csv name and a CSV with an .xlsx name, links out of a data
folder and an exports folder (Excel, Parquet, CSV, workbook.yaml; checklist.csv may link to a shared file), a
Salesforce "Formatted Report" workbook, Excel's "Unicode text" saved as .txt, a kintone export with table rows,
a relative extends:, and --config naming a folder. Where a message gives a fix, the test applies the fix and
checks that the data then reads right.
"""
from __future__ import annotations

import builtins
import io
import os
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.data.files import SNIFF_BYTES, file_kind
from helpers.data.ingest import ingest
from helpers.data.ingest import main as ingest_main
from helpers.data.load import load_workbook
from helpers.data.mapping import load_mapping
from helpers.errors import ERROR_CODES, DataValidationError, WorkbookError, error_keys
from helpers.labels import label_table

CSV_OPPS = OPPS_CSV  # O1 won 1,200,000; O2 lost 500,000; O3 open 800,000


def data_folder(tmp_path: Path, name: str = "data") -> Path:
    return write_folder(tmp_path / name, {"leads.csv": LEADS_CSV, "opportunities.csv": CSV_OPPS})


def refused(folder: Path) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        load_workbook(folder)
    return info.value


def error_params(exc: DataValidationError, file: str) -> dict:
    found = [f for f in exc.findings if f.file == file]
    assert len(found) == 1, exc
    return found[0].params


# =========================================================================== every code has en + ja
def test_every_error_code_has_sentence_and_fix_in_both_languages():
    labels = label_table()
    for code, variants in ERROR_CODES.items():
        for variant in variants:
            for key in error_keys(code, variant):
                ja = labels[key]["ja"]
                # a sentence put together from Phrases (helpers.errors.Phrase) holds only its placeholders
                assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja) or not re.sub(r"\{\w+\}|\s", "", ja), key
                en = labels[key]["en"]   # English, a few Japanese examples allowed (令和06年 read as 2006)
                assert en.isascii() or "¥" in en or len(re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]", en)) < 12, key
                # the same values fill both (a Phrase value is said in the error's language)
                assert set(re.findall(r"(?<!\{)\{(\w+)\}", ja)) == set(re.findall(r"(?<!\{)\{(\w+)\}", en)), key


def test_data_errors_in_japanese_keep_english_only_for_uncoded_findings(tmp_path):
    from helpers.errors import Finding, error

    exc = DataValidationError([
        error("leads.csv", "multi_value", "channel", (4,), ("Web;Seminar",), 1, examples="'Web;Seminar'"),
        Finding("error", "opportunities.csv", "unreadable_file", "the file is not text", "Export it again.",
                params={"error": "file_kind", "file": "opportunities.csv", "variant": "xlsx", "stem": "opportunities"}),
        Finding("error", "spend.csv", "bad_number", "values that are not valid finite numbers", "Write plain numbers."),
        Finding("error", "targets.csv", "unreadable_file", "the sheet is protected", "Unprotect it."),
    ])
    ja = exc.in_language("ja")
    assert ja.startswith("入力データに4件の問題があります")
    assert "opportunities.csv: このファイルは名前が .csv ですが" in ja and "opportunities.xlsx に変えてください" in ja
    assert "leads.csv、4行目、列 'channel': 1個のセルに" in ja and "Web;Seminar" in ja
    assert "spend.csv: 正しい(有限の)数値でない値があります" in ja   # a data check's code, even kept without params
    assert "targets.csv: the sheet is protected\n    対処方法: Unprotect it." in ja   # no code: said as it was
    assert ja.count("対処方法:") == 4 and "How to fix" not in ja


# =========================================================================== 1. files that are not text
class Counted:
    """A binary file opened for reading whose reads add to `counter.bytes`."""

    def __init__(self, inner, counter):
        self._inner, self._counter = inner, counter

    def read(self, n=-1):
        data = self._inner.read(n)
        self._counter.bytes += len(data)
        return data

    def readinto(self, buffer):
        n = self._inner.readinto(buffer) or 0
        self._counter.bytes += n
        return n

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._inner.close()

    def __iter__(self):
        return iter(self._inner)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class ReadCounter:
    """Counts the bytes read through every binary file under `under` (the test's own files) opened with open() /
    io.open (pathlib's too) while installed. Files elsewhere (a library's data, such as babel's global.dat, which the
    first load in a process reads) are not the input's and are not counted."""

    def __init__(self, monkeypatch, under: Path):
        self.bytes = 0
        real = builtins.open
        root = Path(under).resolve()

        def counting_open(file, mode="r", *args, **kw):
            fh = real(file, mode, *args, **kw)
            if "b" in mode and "r" in mode and isinstance(file, (str, os.PathLike)) and Path(file).resolve().is_relative_to(root):
                return Counted(fh, self)
            return fh

        monkeypatch.setattr(builtins, "open", counting_open)
        monkeypatch.setattr(io, "open", counting_open)


def test_sparse_2gib_file_of_nul_bytes_is_refused_after_one_block(tmp_path, monkeypatch):
    folder = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV})
    with open(folder / "opportunities.csv", "wb") as fh:
        fh.truncate(2 ** 31)   # sparse: 2 GiB of NUL bytes, no disk used
    counter = ReadCounter(monkeypatch, tmp_path)
    exc = refused(folder)
    monkeypatch.undo()
    assert error_params(exc, "opportunities.csv")["error"] == "file_kind"
    assert error_params(exc, "opportunities.csv")["variant"] == "nul"
    assert "100% of its first 64 KiB are NUL" in str(exc)
    # the sniff's one block (read twice at most: the folder check and the reader's own) and the leads table
    assert counter.bytes <= 2 * SNIFF_BYTES + len(LEADS_CSV.encode()) + 4096, counter.bytes


def test_sparse_file_through_the_ingest_is_refused_after_one_block(tmp_path, monkeypatch):
    exports = tmp_path / "exports"
    exports.mkdir()
    with open(exports / "deals_2025.csv", "wb") as fh:
        fh.truncate(2 ** 31)
    counter = ReadCounter(monkeypatch, tmp_path)
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "salesforce_en", tmp_path / "out")
    monkeypatch.undo()
    assert info.value.code == "file_kind" and info.value.params["variant"] == "nul"
    assert info.value.params["file"] == "deals_2025.csv"
    assert counter.bytes <= 2 * SNIFF_BYTES, counter.bytes
    assert not (tmp_path / "out").exists()


def test_the_answer_form_refuses_to_save_into_a_checklist_of_nul_bytes(tmp_path, monkeypatch):
    from helpers.metrics.checklist import append_answers

    path = tmp_path / "checklist.csv"
    with open(path, "wb") as fh:
        fh.truncate(2 ** 31)
    counter = ReadCounter(monkeypatch, tmp_path)
    with pytest.raises(WorkbookError) as info:
        append_answers(path, pd.DataFrame([("mk-02", "marketing", "2025-07-01", 4, "yes")],
                                          columns=["respondent", "department", "answered_on", "item", "answer"]))
    monkeypatch.undo()
    assert info.value.code == "file_kind" and info.value.params["variant"] == "nul"
    assert counter.bytes <= SNIFF_BYTES
    assert path.stat().st_size == 2 ** 31 and not list(tmp_path.glob("checklist.csv.bak-*"))   # nothing touched


def test_a_copy_padded_with_nul_bytes_is_refused_naming_the_cause(tmp_path):
    folder = data_folder(tmp_path)
    # a copy cut short by a full disk: the header and two rows, then 20 KiB of zeros where the rest should be
    (folder / "opportunities.csv").write_bytes(CSV_OPPS.encode()[:150] + b"\0" * 20_000)
    exc = refused(folder)
    assert error_params(exc, "opportunities.csv")["variant"] == "nul"
    assert "unfinished download or copy" in str(exc) and "Export the table again" in str(exc)
    ja = exc.in_language("ja")
    assert "テキストではありません" in ja and "対処方法" in ja and "How to fix" not in ja


def test_utf16_big_endian_without_bom_is_refused_and_a_stated_encoding_reads_it(tmp_path):
    folder = data_folder(tmp_path)
    (folder / "opportunities.csv").write_bytes(CSV_OPPS.encode("utf-16-be"))   # no byte order mark
    exc = refused(folder)
    assert error_params(exc, "opportunities.csv")["variant"] == "utf16"
    assert "encoding: utf-16-le" in str(exc) and "CSV UTF-8" in str(exc)
    # the fix through a mapping: state the encoding (here big-endian, as the file is)
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(folder / "opportunities.csv", exports / "opportunities.csv")
    m = tmp_path / "m.yaml"
    m.write_text("extends: canonical_ja\ntables:\n  opportunities:\n    encoding: utf-16-be\n", encoding="utf-8")
    ingest(exports, m, tmp_path / "out")
    wb = load_workbook(tmp_path / "out")
    assert wb.opportunities["amount"].tolist() == [1_200_000.0, 500_000.0, 800_000.0]


def test_utf16_with_its_bom_and_tabs_still_reads(tmp_path):
    folder = data_folder(tmp_path)
    (folder / "opportunities.csv").write_bytes(CSV_OPPS.replace(",", "\t").encode("utf-16"))
    wb = load_workbook(folder)
    assert wb.opportunities["outcome"].tolist() == ["won", "lost", "open"]


# =========================================================================== 3. an Excel workbook renamed .csv
def test_an_xlsx_with_a_csv_name_is_named_and_renaming_it_works(tmp_path):
    folder = data_folder(tmp_path)
    pd.read_csv(io.StringIO(CSV_OPPS), dtype=str).to_excel(tmp_path / "o.xlsx", index=False)
    shutil.copy(tmp_path / "o.xlsx", folder / "opportunities.csv")
    exc = refused(folder)
    assert error_params(exc, "opportunities.csv")["variant"] == "xlsx"
    assert "Rename it to opportunities.xlsx" in str(exc)
    (folder / "opportunities.csv").rename(folder / "opportunities.xlsx")   # the fix
    assert load_workbook(folder).opportunities["amount"].sum() == 2_500_000.0


def test_an_xlsx_export_with_a_csv_name_in_the_exports_folder(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    pd.read_csv(io.StringIO(CSV_OPPS), dtype=str).to_excel(exports / "pipeline.csv", index=False)
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "canonical_ja", tmp_path / "out")
    assert info.value.code == "file_kind" and info.value.params["variant"] == "xlsx"
    assert str(info.value).startswith("pipeline.csv: the file is an Excel workbook")
    (exports / "pipeline.csv").rename(exports / "pipeline.xlsx")
    res = ingest(exports, "canonical_ja", tmp_path / "out")
    assert res.tables["opportunities"]["rows_out"] == 3


XLS = Path(__file__).parent / "fixtures" / "xls" / "opportunities.xls"   # OPPS_CSV's rows as an Excel 97-2003 workbook


def test_an_excel_97_2003_workbook_reads_as_its_csv(tmp_path):
    """Date cells, number cells and Japanese text of a real .xls read to the same table as the CSV (pandas would try
    python-calamine, which is not installed, and the file was refused)."""
    folder = data_folder(tmp_path)
    from_csv = load_workbook(folder).opportunities
    (folder / "opportunities.csv").unlink()
    shutil.copy(XLS, folder / "opportunities.xls")
    from_xls = load_workbook(folder).opportunities
    assert from_xls["outcome"].tolist() == ["won", "lost", "open"]
    assert from_xls["amount"].sum() == 2_500_000.0
    assert from_xls["industry"].tolist()[:2] == ["製造", "金融"]
    for column in ("created_at", "closed_at", "amount", "owner", "loss_reason"):
        pd.testing.assert_series_equal(from_xls[column], from_csv[column], check_dtype=True)


def test_an_xls_export_goes_through_a_mapping(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(XLS, exports / "opportunities.xls")
    res = ingest(exports, "canonical_ja", tmp_path / "out")
    assert res.tables["opportunities"]["rows_out"] == 3
    out = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert out["created_at"].tolist() == ["2025-04-12", "2025-05-01", "2025-06-10"]
    assert out["amount"].astype(float).sum() == 2_500_000.0


def test_serials_of_an_xls_in_the_1904_date_system_count_from_1904(tmp_path):
    """tests/fixtures/xls/1904/opportunities.xls: the fixture's workbook with its DATEMODE record set to 1 (Excel's
    1904 date system) and O1's created_at cell formatted General, so it holds the serial 45759 (2025-04-12 in the 1900
    system). In the 1904 system 45759 is 1904-01-01 + 45759 days = 2029-04-13, the day the date cells of the same
    workbook also read 1,462 days later (2029-05-02, 2029-06-11); before, the serial alone was read in the 1900 system."""
    import datetime as dt

    from helpers.data.files import EXCEL_EPOCH_1900, EXCEL_EPOCH_1904, excel_epoch

    xls_1904 = XLS.parent / "1904" / "opportunities.xls"
    assert (excel_epoch(xls_1904), excel_epoch(XLS)) == (EXCEL_EPOCH_1904, EXCEL_EPOCH_1900)
    assert dt.date(1904, 1, 1) + dt.timedelta(days=45759) == dt.date(2029, 4, 13)
    exports = tmp_path / "exports"
    exports.mkdir()
    shutil.copy(xls_1904, exports / "opportunities.xls")
    ingest(exports, "canonical_ja", tmp_path / "out")
    out = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert out["created_at"].tolist() == ["2029-04-13", "2029-05-02", "2029-06-11"]


def test_an_xls_with_a_csv_name_is_named_and_the_rename_it_advises_works(tmp_path):
    folder = data_folder(tmp_path)
    shutil.copy(XLS, folder / "opportunities.csv")
    exc = refused(folder)
    assert error_params(exc, "opportunities.csv")["variant"] == "xls"
    assert "Rename it to opportunities.xls" in str(exc)
    (folder / "opportunities.csv").rename(folder / "opportunities.xls")   # the fix
    assert load_workbook(folder).opportunities["amount"].sum() == 2_500_000.0


def test_an_old_xls_and_a_web_page_with_a_csv_name(tmp_path):
    folder = data_folder(tmp_path)
    (folder / "leads.csv").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00\x3e\x00\x03" + b"\xff" * 600)
    (folder / "opportunities.csv").write_text("<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>...</body></html>")
    exc = refused(folder)
    assert error_params(exc, "leads.csv")["variant"] == "xls"
    assert error_params(exc, "opportunities.csv")["variant"] == "html"
    assert "Excel 97-2003" in str(exc) and "failed download" in str(exc)


def test_a_gzip_or_pdf_named_csv_is_refused_as_binary_after_one_block(tmp_path, monkeypatch):
    import gzip
    import random

    folder = data_folder(tmp_path)
    noise = random.Random(21).randbytes(3 << 20)                  # 3 MiB that does not compress: one block is read
    (folder / "leads.csv").write_bytes(gzip.compress(LEADS_CSV.encode() + noise))
    (folder / "opportunities.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + noise)
    counter = ReadCounter(monkeypatch, tmp_path)
    exc = refused(folder)
    monkeypatch.undo()
    assert error_params(exc, "leads.csv")["variant"] == "binary"
    assert error_params(exc, "opportunities.csv")["variant"] == "binary"
    assert "a compressed file, a PDF, an image" in str(exc)
    assert counter.bytes <= 4 * SNIFF_BYTES, counter.bytes


def test_a_csv_with_an_excel_or_parquet_name_is_told_to_be_renamed(tmp_path):
    folder = write_folder(tmp_path / "data", {"leads.xlsx": LEADS_CSV, "opportunities.parquet": CSV_OPPS})
    exc = refused(folder)
    assert error_params(exc, "leads.xlsx")["variant"] == "text_as_excel"
    assert error_params(exc, "opportunities.parquet")["variant"] == "text_as_excel"
    assert "not an Excel workbook" in str(exc) and "not a Parquet file" in str(exc) and "Rename it to leads.csv" in str(exc)
    (folder / "leads.xlsx").rename(folder / "leads.csv")
    (folder / "opportunities.parquet").rename(folder / "opportunities.csv")
    assert len(load_workbook(folder).leads) == 3


@pytest.mark.parametrize("head, fmt, kind", [
    (b"lead_id,created_at\nL1,2025-04-01\n", "csv", None),
    ("リードID,作成日\nL1,2025/04/01\n".encode("cp932"), "csv", None),
    (b"\xef\xbb\xbfPK,x\n", "csv", None),                       # a header cell that starts PK, after the BOM
    (b"PK\x03\x04" + b"\x14" * 40, "excel", None),
    (b"PAR1" + b"\x00" * 40, "parquet", None),
    ("a,b\n1,2\n".encode("utf-16-le"), "csv", "utf16"),
    (b"\x00" * 100 + b"a,b\n" * 5, "csv", "nul"),
    ("名前,金額\n田中,¥1,200\n".encode("euc_jp"), "csv", None),
    ("Café,Straße\n€5,—\n".encode("cp1252"), "csv", None),
])
def test_file_kind_of_first_blocks(head, fmt, kind):
    assert file_kind(head, fmt) == kind


def test_a_stray_file_that_is_not_text_is_named_not_called_unused(tmp_path):
    # the deals fit; the contacts export beside them is an .xlsx with a .csv name: its real cause, not "matches no table"
    exports = write_folder(tmp_path / "exports", {"opportunities.csv": CSV_OPPS})
    pd.read_csv(io.StringIO(LEADS_CSV), dtype=str).to_excel(exports / "contacts.csv", index=False)
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "canonical_ja", tmp_path / "out")
    assert info.value.code == "file_kind" and info.value.params["file"] == "contacts.csv"
    assert "Rename it to contacts.xlsx" in info.value.fix


def test_a_printable_view_saved_as_xls_is_named_a_web_page(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "report1700000000000.xls").write_text(
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta charset="utf-8"></head><body>'
        "<table><tr><td>Opportunity ID</td><td>Stage</td></tr></table></body></html>", encoding="utf-8")
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "salesforce_en", tmp_path / "out")
    assert info.value.code == "file_kind" and info.value.params["variant"] == "html"
    assert "not an Excel workbook" in str(info.value) and '"Details Only"' in info.value.fix


# =========================================================================== 2. links out of the folder
SECRET = "s3cr3t-line-of-another-file:x:0:0\n"


def outside_file(tmp_path: Path, name: str, text: str = SECRET) -> Path:
    path = tmp_path / "elsewhere" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_data_table_linked_out_of_the_data_folder_is_refused_without_its_content(tmp_path):
    folder = write_folder(tmp_path / "data", {"opportunities.csv": CSV_OPPS})
    (folder / "leads.csv").symlink_to(outside_file(tmp_path, "team_leads.csv"))
    exc = refused(folder)
    assert error_params(exc, "leads.csv")["error"] == "link_outside"
    assert "s3cr3t" not in str(exc) and "s3cr3t" not in exc.in_language("ja")
    assert "leads.csv: a link (shortcut) that leads outside the folder 'data'" in str(exc)


@pytest.mark.parametrize("name", ["opportunities.xlsx", "opportunities.parquet"])
def test_excel_and_parquet_linked_out_are_refused_too(tmp_path, name):
    folder = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV})
    target = tmp_path / "elsewhere" / name
    target.parent.mkdir()
    frame = pd.read_csv(io.StringIO(CSV_OPPS), dtype=str)
    frame.to_excel(target, index=False) if name.endswith("xlsx") else frame.to_parquet(target)
    (folder / name).symlink_to(target)
    assert error_params(refused(folder), name)["error"] == "link_outside"


def test_a_link_inside_the_folder_and_a_shared_checklist_link_still_read(tmp_path):
    folder = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "deals_v2.csv": CSV_OPPS})
    (folder / "opportunities.csv").symlink_to(folder / "deals_v2.csv")     # inside the folder: read
    shared = outside_file(tmp_path, "team_checklist.csv",
                          "respondent,department,answered_on,item,answer\nmk-01,marketing,2025-06-01,1,yes\n"
                          "sa-01,sales,2025-06-01,1,partial\n")
    (folder / "checklist.csv").symlink_to(shared)                           # the team's shared answers: read
    wb = load_workbook(folder)
    assert wb.opportunities["opportunity_id"].tolist() == ["O1", "O2", "O3"]
    assert wb.checklist["answer"].tolist() == [1.0, 0.5]


def test_an_export_linked_out_of_the_exports_folder_is_refused_without_its_content(tmp_path):
    exports = write_folder(tmp_path / "exports", {"opportunities.csv": CSV_OPPS})
    (exports / "contacts_q2.csv").symlink_to(outside_file(tmp_path, "shadow"))
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "canonical_ja", tmp_path / "out")
    assert info.value.code == "link_outside" and info.value.params["file"] == "contacts_q2.csv"
    assert "s3cr3t" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_the_exports_folders_settings_linked_out_are_refused(tmp_path):
    exports = write_folder(tmp_path / "exports", {"opportunities.csv": CSV_OPPS})
    (exports / "workbook.yaml").symlink_to(outside_file(tmp_path, "settings.yaml", "language: ja\n# s3cr3t\n"))
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "canonical_ja", tmp_path / "out")
    assert info.value.code == "link_outside" and "s3cr3t" not in str(info.value)


def test_an_exports_folder_reached_through_a_link_is_fine(tmp_path):
    real = write_folder(tmp_path / "real_exports", {"opportunities.csv": CSV_OPPS})
    (tmp_path / "exports").symlink_to(real, target_is_directory=True)
    assert ingest(tmp_path / "exports", "canonical_ja", tmp_path / "out").tables["opportunities"]["rows_out"] == 3


# =========================================================================== 3. a Salesforce formatted report
def formatted_report(path: Path) -> None:
    """A Salesforce "Formatted Report" .xlsx in Japanese: title, filters, blank, header, group rows, subtotals."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [["商談パイプライン(今四半期)"], ["絞り込み条件:"], ["    完了予定日 等しい 今四半期"], [],
                [None, "商談名", "商談ID", "作成日", "完了予定日", "金額"],
                ["フェーズ: Closed Won (1)"], [None, "A社 導入", "0065g00000AbCd1", "2025/01/10", "2025/02/01", 120000],
                ["小計", None, None, None, None, 120000],
                ["フェーズ: Closed Lost (1)"], [None, "B社 増設", "0065g00000AbCd2", "2025/01/12", "2025/02/20", 50000],
                ["小計", None, None, None, None, 50000], ["総計", None, None, None, None, 170000]]:
        ws.append(row)
    wb.save(path)


def test_a_formatted_report_says_export_details_only(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    formatted_report(exports / "商談パイプライン.xlsx")
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "salesforce_ja", tmp_path / "out")
    exc = info.value
    assert exc.code == "rows_above_header" and '"Details Only"' in exc.fix
    ja = exc.in_language("ja")
    assert "詳細のみ" in ja and "フォーマット済みレポート" in ja


def test_a_formatted_report_in_a_data_folder_is_named_too(tmp_path):
    folder = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV})
    formatted_report(folder / "opportunities.xlsx")
    assert error_params(refused(folder), "opportunities.xlsx")["error"] == "rows_above_header"


# =========================================================================== 3. Excel's "Unicode text" (.txt)
def test_unicode_text_txt_is_named_and_renaming_it_to_csv_reads_it(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "商談一覧.txt").write_bytes(CSV_OPPS.replace(",", "\t").encode("utf-16"))  # BOM + tabs, as Excel saves it
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "canonical_ja", tmp_path / "out")
    text = str(info.value)
    assert "not read, as text files: 商談一覧.txt" in text and "商談一覧.txt -> 商談一覧.csv" in text
    (exports / "商談一覧.txt").rename(exports / "商談一覧.csv")   # the fix
    res = ingest(exports, "canonical_ja", tmp_path / "out")
    assert res.tables["opportunities"]["rows_out"] == 3 and res.tables["opportunities"]["encoding"] == "utf-16"


def test_an_optional_table_saved_as_unicode_text_is_a_warning(tmp_path):
    exports = write_folder(tmp_path / "exports", {"opportunities.csv": CSV_OPPS})
    (exports / "leads.txt").write_bytes(LEADS_CSV.replace(",", "\t").encode("utf-16"))
    ingest(exports, "canonical_ja", tmp_path / "out")
    report = json.loads((tmp_path / "out" / "ingest_report.json").read_text(encoding="utf-8"))
    skipped = [w for w in report["warnings"] if w["code"] == "text_file_skipped"]
    assert [(w["file"], w["params"]["variant"]) for w in skipped] == [("leads.txt", "unicode_text")]
    assert "Rename it to leads.csv" in skipped[0]["fix"]


def test_a_data_folders_table_saved_as_txt_is_named(tmp_path):
    folder = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV})
    (folder / "opportunities.txt").write_text(CSV_OPPS.replace(",", "\t"), encoding="utf-8")
    wb = load_workbook(folder)
    skipped = [w for w in wb.warnings if w.code == "text_file_skipped"]
    assert [(w.file, w.params["variant"]) for w in skipped] == [("opportunities.txt", "tab_text")]


# =========================================================================== 3. kintone table rows
KINTONE = ("レコードの開始行,レコード番号,商談ID,商談作成日,完了日,結果,金額,品目,数量\n"
           "*,101,K-1,2025/01/08,2025/02/03,受注,300000,ライセンス,10\n"
           ",101,K-1,2025/01/08,2025/02/03,受注,300000,保守,1\n"
           ",101,K-1,2025/01/08,2025/02/03,受注,300000,研修,2\n"
           "*,102,K-2,2025/01/15,2025/03/01,失注,90000,ライセンス,3\n"
           "*,103,K-3,2025/02/01,,進行中,150000,ライセンス,5\n"
           ",103,K-3,2025/02/01,,進行中,150000,保守,1\n")


def test_kintone_table_rows_are_refused_with_the_drop_if_line_that_works(tmp_path):
    exports = write_folder(tmp_path / "exports", {"商談_kintone.csv": KINTONE})
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "canonical_ja", tmp_path / "out")
    exc = info.value
    assert exc.code == "kintone_subtable"
    assert "3 rows have an empty 'レコードの開始行'" in str(exc) and "rows 3, 4, 7" in str(exc)
    line = re.search(r"drop_if: \[\{.*?\}\]", exc.fix).group(0)
    assert line == 'drop_if: [{column: "レコードの開始行", empty: true, reason: kintone table rows}]'
    assert line in exc.in_language("ja")
    m = tmp_path / "kintone.yaml"     # the fix, pasted under tables.opportunities
    m.write_text(f"extends: canonical_ja\ntables:\n  opportunities:\n    {line}\n", encoding="utf-8")
    res = ingest(exports, m, tmp_path / "out")
    wb = load_workbook(tmp_path / "out")
    assert wb.opportunities["opportunity_id"].tolist() == ["K-1", "K-2", "K-3"]
    assert wb.opportunities.loc[wb.opportunities["outcome"] == "won", "amount"].sum() == 300_000.0  # once, not 3 times
    assert res.tables["opportunities"]["dropped"][0]["rows"] == [3, 4, 7]


def test_kintone_table_rows_with_the_record_fields_left_empty_are_refused_too(tmp_path):
    # the other layout: a record's fields on its first row only, the table's rows below with them empty
    text = "".join(",,,,,,," + ln.split(",", 7)[7] + "\n" if ln.startswith(",") else ln + "\n" for ln in KINTONE.splitlines())
    exports = write_folder(tmp_path / "exports", {"案件.csv": text})
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "canonical_ja", tmp_path / "out")
    assert info.value.code == "kintone_subtable" and info.value.params["count"] == 3


def test_a_first_column_of_stars_without_table_rows_reads(tmp_path):
    exports = write_folder(tmp_path / "exports", {"商談.csv": "\n".join(ln for ln in KINTONE.splitlines() if ln[0] != ",") + "\n"})
    res = ingest(exports, "canonical_ja", tmp_path / "out")
    assert res.tables["opportunities"]["rows_out"] == 3


# =========================================================================== 3. a relative extends:
def test_a_relative_extends_is_read_from_the_mapping_files_folder(tmp_path, monkeypatch):
    team = tmp_path / "mappings" / "team"
    team.mkdir(parents=True)
    (tmp_path / "mappings" / "base.yaml").write_text(
        "tables:\n  opportunities:\n    file: \"*\"\n    columns:\n      opportunity_id: Deal\n      created_at: Opened\n"
        "      closed_at: {column: Decided, optional: true}\n      outcome: {column: Result, values: {W: won, L: lost}, open: [O]}\n"
        "      amount: {column: Value, optional: true}\n", encoding="utf-8")
    (team / "ours.yaml").write_text("extends: ../base.yaml\ntables:\n  opportunities:\n    columns:\n"
                                    "      outcome: {values: {Gewonnen: won}}\n", encoding="utf-8")
    elsewhere = tmp_path / "cwd"
    (elsewhere / "..").resolve().mkdir(exist_ok=True)
    elsewhere.mkdir()
    (tmp_path / "base.yaml").write_text("not: [the, right, file\n", encoding="utf-8")   # what ../base.yaml is from cwd/
    monkeypatch.chdir(elsewhere)
    m = load_mapping(team / "ours.yaml")
    rule = next(r for r in m.tables["opportunities"].columns if r.target == "outcome")
    assert rule.columns == ("Result",) and dict(rule.values)["gewonnen"] == "won"


def test_an_extends_that_names_nothing_says_where_it_looked(tmp_path):
    (tmp_path / "m.yaml").write_text("extends: ./shared/base.yaml\n", encoding="utf-8")
    with pytest.raises(WorkbookError) as info:
        load_mapping(tmp_path / "m.yaml")
    assert str(tmp_path / "shared" / "base.yaml") in str(info.value) and "relative to the folder of m.yaml" in str(info.value)


# =========================================================================== 3. --config naming a folder
def test_config_naming_a_folder_in_the_ingest_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    exports = write_folder(tmp_path / "exports", {"opportunities.csv": CSV_OPPS})
    settings = tmp_path / "settings"
    settings.mkdir()
    status = ingest_main(["--exports", str(exports), "--mapping", "canonical_ja", "--out", str(tmp_path / "out"),
                          "--config", str(settings)])
    err = capsys.readouterr().err
    assert status == 2 and "設定ファイル(YAML)ではありません" in err and "my_settings.yaml" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content", ["truncated", "not_ole2", "empty"])
def test_an_xls_whose_date_system_cannot_be_read_counts_from_1900(tmp_path, content):
    """xls_date1904 raises nothing on a file xlrd cannot open (the reader names the file's own problem): the 1904
    fixture cut to its first 2,048 bytes, a CSV named .xls, and an empty file all give the 1900 system."""
    from helpers.data.files import EXCEL_EPOCH_1900, excel_epoch
    from helpers.data.xls_datemode import xls_date1904

    whole = (XLS.parent / "1904" / "opportunities.xls").read_bytes()
    body = {"truncated": whole[:2048], "not_ole2": CSV_OPPS.encode(), "empty": b""}[content]
    path = tmp_path / "opportunities.xls"
    path.write_bytes(body)
    assert xls_date1904(path) is False
    assert excel_epoch(path) == EXCEL_EPOCH_1900
