"""A new user's inputs refused with the fix that works (the second trial, tests/fixtures/newuser2/): a header below
row 1 found by the table's column names, the table on another sheet, period labels written another way, the
runner's messages about --out, --data and --as-of, a two-digit year's two centuries, notes files that are not
tables, and the runner's language rule (README, "Language")."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers.data.ingest import ingest
from helpers.data.load import load_workbook
from helpers.errors import DataValidationError, WorkbookError

CASES = Path(__file__).parent / "fixtures" / "newuser2"


def _refused(folder):
    with pytest.raises(DataValidationError) as caught:
        load_workbook(folder)
    return caught.value, [f for f in caught.value.findings if f.severity == "error"]


# --------------------------------------------------------------------------- 1. the header's row, the table's sheet
def test_group_row_above_the_header_of_an_export(tmp_path):
    with pytest.raises(WorkbookError) as caught:
        ingest(CASES / "xlsx-merged-header", "salesforce_ja", tmp_path / "out")
    err = caught.value
    assert (err.code, err.params["header_row"], err.params["above"]) == ("rows_above_header", 2, "1")
    assert str(err) == (
        "商談レポート.xlsx: the table's header is on row 2, below 1 row(s) of title or notes (row(s) 1); the first row must "
        "be the header, so no row would be read right\n  How to fix: Delete the rows above the header (row(s) 1) so that "
        "the header is row 1, and save. (One cause: a Salesforce report exported as \"Formatted Report\"; export it "
        "again with \"Details Only\".)")
    assert err.in_language("ja").startswith("商談レポート.xlsx: 表の見出し行が2行目にあり、その上にタイトルやメモの行が1行あります(1行目)")
    assert "商談情報" not in str(err)   # never offered as a column name


def test_group_row_above_the_header_of_a_data_folder():
    exc, (only,) = _refused(CASES / "xlsx-merged-header-datafolder")
    assert only.file == "opportunities.xlsx" and only.params["error"] == "rows_above_header"
    assert (only.params["header_row"], only.params["above"]) == (2, "1")
    assert "required column" not in str(exc)
    assert "opportunities.xlsx: 表の見出し行が2行目にあり" in exc.in_language("ja")


def test_title_lines_above_a_csv_header(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "商談.csv").write_text("商談レポート 2024年度\n抽出日: 2024/07/01\n\n商談ID,商談名,フェーズ,作成日,完了予定日,金額\n"
                                      "006A1,A社,成約,2024/04/01,2024/05/01,1000000\n", encoding="utf-8")
    with pytest.raises(WorkbookError) as caught:
        ingest(exports, "salesforce_ja", tmp_path / "out")
    assert (caught.value.code, caught.value.params["header_row"], caught.value.params["above"]) == ("rows_above_header", 4, "1-3")


def test_table_on_the_second_sheet_of_an_export(tmp_path):
    with pytest.raises(WorkbookError) as caught:
        ingest(CASES / "xlsx-data-on-second-sheet", "salesforce_ja", tmp_path / "out")
    err = caught.value
    assert err.code == "data_on_other_sheet"
    assert str(err) == (
        "商談.xlsx: the first sheet '説明' does not hold the table's columns; the sheet '商談一覧' does (sheets: '説明', "
        "'商談一覧')\n  How to fix: Add the line `sheet: 商談一覧` under tables.opportunities in the mapping (for a "
        "shipped mapping, in a small file that starts with `extends: salesforce_ja`: docs/ingest.md, Extending a shipped "
        "mapping), or move the sheet '商談一覧' to the first position (drag its tab to the left) and save.")
    assert err.in_language("ja") == (
        "商談.xlsx: 1枚目のシート '説明' に表の列がありません。表はシート「商談一覧」にあります(シート: '説明', '商談一覧')\n"
        "  対処方法: マッピングの tables.opportunities の下に `sheet: 商談一覧` の行を追加してください(同梱のマッピングなら、"
        "`extends: salesforce_ja` で始まる小さなファイルに書きます: docs/ingest.md「Extending a shipped mapping」)。または、"
        "シート「商談一覧」を先頭に移動して(タブを左端へドラッグ)保存してください。")
    # the fix works: the mapping with that line reads the sheet
    mapping = tmp_path / "m.yaml"
    mapping.write_text("extends: salesforce_ja\ntables:\n  opportunities:\n    sheet: 商談一覧\n", encoding="utf-8")
    result = ingest(CASES / "xlsx-data-on-second-sheet", str(mapping), tmp_path / "out")
    assert (result.tables["opportunities"]["rows_out"], result.tables["opportunities"]["value_counts"]["outcome"]) == (2, {"lost": 1, "won": 1})


def test_table_on_the_second_sheet_of_a_data_folder(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["Exported by the sales team every month"])
    data = book.create_sheet("deals")
    data.append(["opportunity_id", "created_at", "closed_at", "outcome", "amount"])
    data.append(["O1", "2025-01-05", "2025-02-01", "won", 1000])
    folder = tmp_path / "d"
    folder.mkdir()
    book.save(folder / "opportunities.xlsx")
    exc, (only,) = _refused(folder)
    assert only.params["error"] == "data_on_other_sheet"
    assert only.render() == (
        "opportunities.xlsx: the first sheet 'notes' does not hold the table's columns; the sheet 'deals' does (sheets: "
        "'notes', 'deals'); a data folder's workbook is read from its first sheet\n    How to fix: Move the sheet 'deals' "
        "to the first position (drag its tab to the left) and save, or save that sheet as opportunities.csv; or read the "
        "export through a mapping with `sheet: deals` (docs/ingest.md).")
    assert "1枚目のシート 'notes' に表の列がありません。表はシート「deals」にあります" in exc.in_language("ja")


# --------------------------------------------------------------------------- 2. period labels written another way
def test_targets_labels_of_an_april_year():
    exc, (only,) = _refused(CASES / "targets-ja-labels")
    assert (only.code, only.rows) == ("bad_period", (2, 3, 4))
    assert only.message == ("period labels not written as the configured fiscal calendar writes them (fiscal_year_start_month"
                            " = 4: fiscal quarters, written like FY2025Q1, FY named by the year it starts in)")
    assert only.fix == "Write them as 'FY2024 Q1' → FY2024Q1, '2024年度第1四半期' → FY2024Q1, 'fy2024q1' → FY2024Q1."
    assert "fiscal_year_start_month = 1" not in str(exc)
    ja = exc.in_language("ja")
    assert ("設定の会計年度の書き方と違う期間があります(fiscal_year_start_month = 4: 会計年度の四半期。FY2025Q1 のように書き、"
            "FYは開始年で表します)") in ja
    assert "次のように書いてください: 'FY2024 Q1' → FY2024Q1, '2024年度第1四半期' → FY2024Q1, 'fy2024q1' → FY2024Q1。" in ja


def test_targets_fy_label_under_calendar_quarters():
    exc, (only,) = _refused(CASES / "targets-calendar-fylabel")
    assert (only.code, only.rows, only.values) == ("bad_period", (2,), ("FY2025Q1",))
    assert only.fix == ("Write each period as the calendar quarter of its months: in a fiscal year starting in April, "
                        "FY2025Q1 is 2025-04 to 2025-06, the calendar quarter 2025Q2. Or set fiscal_year_start_month in the "
                        "settings to the month your fiscal year starts (4 for April) and keep the FY labels.")
    assert "4月始まりの会計年度なら FY2025Q1 は 2025-04〜2025-06 で、暦の四半期では 2025Q2 です。" in exc.in_language("ja")


@pytest.mark.parametrize("label, start_month, variant, fix", [
    ("fy2024q1", 4, "near", "Write it as FY2024Q1 (2024-04 to 2024-06)."),
    ("FY24Q1", 4, "near", "Write it as FY2024Q1 (2024-04 to 2024-06)."),
    ("2024年度第1四半期", 4, "near", "Write it as FY2024Q1 (2024-04 to 2024-06)."),
    ("2025 Q1", 1, "near", "Write it as 2025Q1 (2025-01 to 2025-03)."),
    ("FY24Q1", 1, "fy_label", "in a fiscal year starting in April, FY24Q1 is 2024-04 to 2024-06, the calendar quarter 2024Q2."),
    ("FY2025Q1", 1, "fy_label", "in a fiscal year starting in April, FY2025Q1 is 2025-04 to 2025-06, the calendar quarter 2025Q2."),
])
def test_period_label_written_another_way(label, start_month, variant, fix):
    from helpers.data.periods import parse_period

    with pytest.raises(WorkbookError) as caught:
        parse_period(label, start_month)
    assert caught.value.code == "period_calendar" and caught.value.params["variant"] == variant
    assert fix in caught.value.fix


def test_period_label_written_another_way_in_japanese():
    from helpers.data.periods import parse_period

    with pytest.raises(WorkbookError) as caught:
        parse_period("fy2024q1", 4)
    assert caught.value.in_language("ja") == (
        "fy2024q1: 期間の書き方が設定の会計年度の書き方と違います(fiscal_year_start_month = 4: 会計年度の四半期。FY2025Q1 "
        "のように書き、FYは開始年で表します)\n  対処方法: FY2024Q1 と書いてください(2024-04〜2024-06)。")
    with pytest.raises(WorkbookError, match="'xx' is not a period label"):
        parse_period("xx", 4)


# --------------------------------------------------------------------------- 3. the runner's messages
def _run(capsys, *argv):
    from helpers.report.run import main

    status = main(list(argv))
    return status, capsys.readouterr().err


def test_out_is_a_file(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    (tmp_path / "report.html").write_text("x", encoding="utf-8")
    status, err = _run(capsys, "--data", str(CASES / "targets-ja-labels"), "--out", str(tmp_path / "report.html"))
    assert status == 2 and err == (f"error: --out {tmp_path / 'report.html'} is a file, not a folder\n  How to fix: Pick a "
                                   "folder with --out: the reports are written inside it, one folder per period (the reports folder of an "
                                   "earlier run is fine: its periods are replaced).\n")


def test_data_is_a_file(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    folder = tmp_path / "d"
    shutil.copytree(CASES / "targets-calendar-fylabel", folder)
    status, err = _run(capsys, "--data", str(folder / "leads.csv"), "--out", str(tmp_path / "out"))
    assert status == 2 and err == (f"error: --data {folder / 'leads.csv'} is a file, not a folder: --data takes the folder "
                                   f"that holds the data files\n  How to fix: Pass its folder: --data {folder}\n")
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")   # the locale, as the ingest
    status, err = _run(capsys, "--data", str(folder / "leads.csv"), "--out", str(tmp_path / "out"))
    assert err == (f"error: --data {folder / 'leads.csv'} はファイルで、フォルダではありません。--data にはデータのファイルが入った"
                   f"フォルダを指定します\n  対処方法: そのファイルのフォルダを指定してください: --data {folder}\n")


@pytest.mark.parametrize("typed, said", [
    ("2024-02-30", "--as-of 2024-02-30 is not a day: 2024-02 has 29 days\n  How to fix: Give a day of that month, e.g. "
                   "--as-of 2024-02-29 (its last day)."),
    ("2025-04-31", "--as-of 2025-04-31 is not a day: 2025-04 has 30 days\n  How to fix: Give a day of that month, e.g. "
                   "--as-of 2025-04-30 (its last day)."),
])
def test_as_of_day_that_does_not_exist(tmp_path, capsys, monkeypatch, typed, said):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    status, err = _run(capsys, "--data", str(CASES / "targets-calendar-fylabel"), "--out", str(tmp_path / "o"), "--as-of", typed)
    assert status == 2 and err == f"error: the command line: {said}\n"


def test_as_of_day_that_does_not_exist_in_japanese():
    from helpers.config import ConfigError, load_config

    with pytest.raises(ConfigError) as caught:
        load_config(None, overrides={"as_of": "2025-02-29"})
    assert caught.value.in_language("ja").endswith(
        "--as-of の 2025-02-29 という日はありません(2025-02 は28日までです)\n  対処方法: その月にある日を指定してください。"
        "例: --as-of 2025-02-28(月末日)。")


@pytest.mark.parametrize("text, order, pair", [("24/04/01", None, "(1924 or 2024?)"), ("01/04/99", "dmy", "(1999 or 2099?)"),
                                               ("4/1/25", None, "(1925 or 2025?)"), ("24/4/1", None, "(1924 or 2024?)"),
                                               ("24-4-1", None, "(1924 or 2024?)"), ("24/04/1", None, "(1924 or 2024?)"),
                                               ("99.4.1", None, "(1999 or 2099?)")])
def test_two_digit_year_said_with_its_own_centuries(text, order, pair):
    from helpers.data.cells import DateAsWritten, parse_datetime

    with pytest.raises(DateAsWritten) as caught:
        parse_datetime(text, ("%Y/%m/%d",), order)
    assert str(caught.value) == f"'{text}': a two-digit year is never guessed {pair}"
    assert caught.value.args[0].in_language("ja").endswith(f"2桁の年は推測しません({pair[1:5]}年か{pair[9:13]}年か分かりません)")


# --------------------------------------------------------------------------- 4. notes files are not tables
def test_notes_file_is_not_a_table_saved_as_text(tmp_path):
    from helpers.data.files import skipped_text_tables

    (tmp_path / "README.txt").write_text("Exports of March, by the sales team.\nAsk Sato, or the CRM admin, for more.\n",
                                         encoding="utf-8")
    (tmp_path / "NOTE.txt").write_text((CASES / "xlsx-merged-header" / "NOTE.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "deals.txt").write_text("id\tstage\tamount\nO1\twon\t100\nO2\tlost\t50\n", encoding="utf-8")
    (tmp_path / "leads.txt").write_text("lead_id,created_at\n", encoding="utf-8")   # a header of the contract: a table
    assert [(p.name, kind) for p, kind in skipped_text_tables(tmp_path)] == [("deals.txt", "tab_text"), ("leads.txt", "tab_text")]


# --------------------------------------------------------------------------- 5. the runner's language rule
@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-16"])
def test_the_stated_language_is_read_as_the_settings_are(tmp_path, encoding):
    """stated_language reads workbook.yaml and --config with load_config's reader (its encoding detection): a cp932
    file saved by Japanese Excel or Notepad states ja (yaml.safe_load of UTF-8 text said nothing: the locale's)."""
    from helpers.config import load_config, stated_language

    text = "# 設定(営業部)\nlanguage: ja\nfiscal_year_start_month: 4\n"
    (tmp_path / "workbook.yaml").write_bytes(text.encode(encoding))
    assert stated_language(tmp_path) == "ja" == load_config(tmp_path, data_currency=False).language
    given = tmp_path / "given.yaml"
    given.write_bytes("# 英語で\nlanguage: en\n".encode(encoding))
    assert stated_language(tmp_path, given) == "en"
    (tmp_path / "workbook.yaml").write_text("language: ja\nlanguage: en\n", encoding="utf-8")   # refused by load_config too
    assert stated_language(tmp_path) is None


def test_runner_errors_in_the_data_folders_language(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    status, err = _run(capsys, "--data", str(CASES / "targets-ja-labels"), "--out", str(tmp_path / "o"))
    assert status == 2 and "期間があります" not in err   # workbook.yaml states no language: the locale's (en)
    folder = tmp_path / "d"
    shutil.copytree(CASES / "targets-ja-labels", folder)
    with open(folder / "workbook.yaml", "a", encoding="utf-8") as fh:
        fh.write("language: ja\n")
    status, err = _run(capsys, "--data", str(folder), "--out", str(tmp_path / "o"))
    assert status == 2 and err.startswith("error: 入力データに1件の問題があります。")
    status, err = _run(capsys, "--data", str(folder), "--out", str(tmp_path / "o"), "--lang", "en")   # --lang first
    assert err.startswith("error: The input data has 1 problem(s)")
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")   # no language setting: the locale
    status, err = _run(capsys, "--data", str(CASES / "targets-calendar-fylabel"), "--out", str(tmp_path / "o"))
    assert err.startswith("error: 入力データに1件の問題があります。")


def test_runner_notes_in_the_data_folders_language(tmp_path, capsys, monkeypatch):
    """The --all partial-period note follows the same language rule as the runner's errors (settings' language: ja
    under an English locale): one language per run, not an English note before a Japanese error."""
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    folder = tmp_path / "d"
    shutil.copytree(CASES / "targets-ja-labels", folder)
    (folder / "targets.csv").unlink()   # its labels are the refused part; without it the folder is valid
    with open(folder / "workbook.yaml", "a", encoding="utf-8") as fh:
        fh.write("language: ja\n")
    (tmp_path / "nb").mkdir()   # no notebooks: refused after the periods are chosen (and noted)
    from helpers.report.run import main

    status = main(["--data", str(folder), "--out", str(tmp_path / "o"), "--all", "--notebooks", str(tmp_path / "nb")])
    said = capsys.readouterr()
    assert status == 2 and said.err.startswith(f"error: {tmp_path / 'nb'} に NN_*.ipynb という名前のノートブックがありません")
    assert said.out == "注意: データは FY2024Q1, FY2024Q3 の一部しかありません。それらのレポートには「一部」と示します\n"
