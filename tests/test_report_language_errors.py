"""What a Japanese run or ingest says is Japanese: the data contract's findings, the encoding's reason in a mojibake
refusal, a column's meaning in a mapping's error, a drop_if rule in the ingest summary, the lock errors, the commands'
--help (helpers.errors coded errors and Phrases, helpers.cli_help).

Each Japanese text is asserted whole, with its file, rows and column filled in; every coded error and warning has a
Japanese text of its own (never the English copied); no module of the report's path raises an English sentence of
its own (an AST check, as tests/test_ingest_language.py does for the ingest).
"""
from __future__ import annotations

import ast
import re
import threading
from pathlib import Path

import pytest

from helpers.errors import (ERROR_CODES, WARNING_CODES, DataValidationError, Phrase, WorkbookError, error_keys,
                            warning_keys)
from helpers.labels import label_table

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
HEADER_JA = "入力データに{n}件の問題があります。レポートは作成しておらず、入力ファイルも変更していません:\n"


def refused(folder: Path) -> DataValidationError:
    from helpers.data.load import load_workbook

    with pytest.raises(DataValidationError) as info:
        load_workbook(folder)
    return info.value


# =========================================================================== the data contract's findings
def test_the_row_checks_findings_read_in_japanese(tmp_path):
    (tmp_path / "opportunities.csv").write_text("opportunity_id,created_at,closed_at,outcome,amount\n"
                                                "O1,2025-01-05,2025-02-01,won,100\nO1,2025-01-06,,lost,-5\n"
                                                "O3,2025-13-01,2025-01-01,maybe,10\n", encoding="utf-8")
    (tmp_path / "checklist.csv").write_text("respondent,department,answered_on,item,answer\nr1,slaes,2025-01-01,16,yes\n",
                                            encoding="utf-8")
    exc = refused(tmp_path)
    assert exc.in_language("ja") == HEADER_JA.format(n=7) + (
        "  - opportunities.csv、4行目、列 'created_at': 正しい日付(YYYY-MM-DD、1678〜2261年)でない値があります(値: '2025-13-01')\n"
        "    対処方法: 日付は YYYY-MM-DD(例: 2025-04-01)または ISO 形式の日時(2025-04-01T10:30:00)で書いてください。"
        "ほかの形式は列マッピングで読み込みます。2025/04/01、2025年4月1日、令和7年4月1日、Excel のシリアル値(と ¥1,200,000 のような金額)は"
        "同梱のマッピング canonical_ja が読むので、--mapping canonical_ja を付けてもう一度実行してください(レポートの実行、または "
        "python -m helpers.data.ingest --exports フォルダ --mapping canonical_ja --out 新しいフォルダ)。\n"
        "  - opportunities.csv、2, 3行目、列 'opportunity_id': 同じ 'opportunity_id' が複数の行にあります(最初の行と重複した行)(値: 'O1', 'O1')\n"
        "    対処方法: opportunity_id がすべて一意になるようにしてください(重複した行を削除するか、1行にまとめてください)。\n"
        "  - opportunities.csv、4行目、列 'outcome': outcome に不明な値があります(値: 'maybe')\n"
        "    対処方法: open、won、lost のどれかを使ってください('Closed Won' のようなステージを持つエクスポートは列マッピングで読み込みます)。\n"
        "  - opportunities.csv、3行目、列 'closed_at': 受注または失注の商談に完了日(closed_at)がありません\n"
        "    対処方法: 受注・失注のすべての商談に closed_at(決まった日)を入力してください。\n"
        "  - opportunities.csv、3行目、列 'amount': 金額がマイナスです(値: '-5.0')\n"
        "    対処方法: 金額は0以上にしてください。返金は別に記録してください。\n"
        "  - checklist.csv、2行目、列 'item': チェックリストの項目番号が1〜15の範囲外です(値: '16.0')\n"
        "    対処方法: 項目は記事のチェックリストと同じ1〜15で番号を付けてください。\n"
        "  - checklist.csv、2行目、列 'department': つづり誤りと思われる部門名があります: 'slaes'('sales' のことですか?)(値: 'slaes')\n"
        "    対処方法: 部門は sales または marketing(Sales, 営業, セールス / Marketing, マーケ, マーケティング も可。"
        "docs/data_dictionary.md 参照) と書いてください。")
    # the English is unchanged
    assert "  - opportunities.csv, rows 2, 3, column 'opportunity_id': the same 'opportunity_id' is on more than one row (the first " \
           "row and its repeats) (values: 'O1', 'O1')\n" \
           "    How to fix: Make every opportunity_id unique (remove duplicate rows or merge them).\n" in str(exc)
    assert "'slaes' (did you mean 'sales'?)" in str(exc) and "How to fix: Write the department as sales or marketing (also " \
           "Sales, 営業, セールス / Marketing, マーケ, マーケティング; see docs/data_dictionary.md)." in str(exc)


def test_a_missing_column_says_its_meaning_and_a_missing_table_its_folder_in_japanese(tmp_path):
    (tmp_path / "opportunities.csv").write_text("opportunity_id,created_at,outcome\nO1,2025-01-05,open\n", encoding="utf-8")
    (tmp_path / "leads.csv").write_text("lead_id,created_at,chanel\nL1,2025-01-01,web\n", encoding="utf-8")
    assert refused(tmp_path).in_language("ja") == HEADER_JA.format(n=1) + (
        "  - leads.csv、列 'channel': 必須の列 'channel'(リードの獲得元・チャネル)がありません\n"
        "    対処方法: 列 'channel' を追加するか列名を変えるか、エクスポートを列マッピングで読み込んでください(docs/ingest.md)。"
        "ファイルには列 'chanel' があります。列名を 'channel' に変えてください。")
    spend = tmp_path / "spend_only"
    spend.mkdir()
    (spend / "spend.csv").write_text("month,channel,amount\n2025-01,web,3\n", encoding="utf-8")
    assert refused(spend).in_language("ja") == HEADER_JA.format(n=1) + (
        f"  - opportunities.csv: 必須の表 'opportunities' が {spend} にありません\n"
        "    対処方法: opportunities.csv(または .xlsx/.parquet)をデータフォルダに置いてください。")


def test_a_warehouse_tables_missing_columns_say_the_tables_fix(tmp_path):
    """A --warehouse run's small tables (the runner's copy, helpers.metrics.warehouse_load.small_tables) name the
    warehouse table and its own fix (rename the columns or a view, --table), never a data folder's command (whose
    {folder} only load_workbook fills) or a column mapping; in English and Japanese."""
    from helpers.config import load_config
    from helpers.metrics.warehouse_load import small_tables

    (tmp_path / "spend.csv").write_text("月,チャネル,金額\n2025-01,web,3\n", encoding="utf-8")
    (tmp_path / "checklist.csv").write_text("respondent,departmnt,answered_on,item,answer\nr1,sales,2025-01-01,1,yes\n",
                                            encoding="utf-8")
    _, _, findings = small_tables(tmp_path, load_config(None), {"spend": "crm.spend", "checklist": "crm.checklist"})
    exc = DataValidationError([f for f in findings if f.code == "missing_column"])
    assert "{folder}" not in str(exc) + exc.in_language("ja")
    assert str(exc).split(":\n", 1)[1] == (
        "  - crm.spend, column 'month': the warehouse table has no required columns 'month', 'channel', 'amount': its "
        "columns are the Japanese column names of docs/data_dictionary.md (月 = month, チャネル = channel, 金額 = amount)\n"
        "    How to fix: Rename the columns of the warehouse table crm.spend to the names after each '=' above, or give the "
        "run a view that renames them (CREATE VIEW ... AS SELECT \"月\" AS month, ...) and name the view with --table "
        "spend=VIEW. A warehouse run reads no column mapping (canonical_ja reads files).\n"
        "  - crm.checklist, column 'department': the warehouse table has no required column 'department' "
        "(sales, marketing or other)\n"
        "    How to fix: Add the column 'department' to the warehouse table crm.checklist, or give the run a view over it with "
        "that column (CREATE VIEW ... AS SELECT ..., <its column> AS department) and name the view with --table "
        "checklist=VIEW. A warehouse run reads no column mapping. The table has a column 'departmnt': rename it to "
        "'department' (ALTER TABLE ... RENAME COLUMN, or AS in the view).")
    assert exc.in_language("ja") == HEADER_JA.format(n=2) + (
        "  - crm.spend、列 'month': ウェアハウスのテーブルに必須の列 'month', 'channel', 'amount' がありません。列名が "
        "docs/data_dictionary.md の日本語の列名です(月 = month, チャネル = channel, 金額 = amount)\n"
        "    対処方法: ウェアハウスのテーブル crm.spend の列名を上の各「=」の後の名前に変えるか、列名を変えるビューを作り"
        "(CREATE VIEW ... AS SELECT \"月\" AS month, ...)、--table spend=ビュー名 で指定してください。"
        "ウェアハウスからの実行では列マッピングを読みません(canonical_ja はファイルを読むものです)。\n"
        "  - crm.checklist、列 'department': ウェアハウスのテーブルに必須の列 'department'(sales、marketing またはその他)がありません\n"
        "    対処方法: ウェアハウスのテーブル crm.checklist に列 'department' を追加するか、その列を持つビューを作り"
        "(CREATE VIEW ... AS SELECT ..., <元の列> AS department)、--table checklist=ビュー名 で指定してください。"
        "ウェアハウスからの実行では列マッピングを読みません。テーブルには列 'departmnt' があります。列名を 'department' に"
        "変えてください(ALTER TABLE ... RENAME COLUMN、またはビューの AS で)。")


def test_a_negative_target_and_a_repeated_goal_in_japanese():
    import pandas as pd

    from helpers.data.validate import check_targets

    targets = pd.DataFrame({"period": ["2026Q1", "2026Q1"], "metric": ["leads", "leads"], "target": [-1.0, 5.0],
                            "department": ["sales", "ops"], "channel": [None, None]})
    exc = DataValidationError(check_targets(targets, "targets.csv"))
    assert exc.in_language("ja") == HEADER_JA.format(n=3) + (
        "  - targets.csv、3行目、列 'department': 不明な部門があります(値: 'ops')\n"
        "    対処方法: marketing (Marketing, マーケティング), sales (Sales, 営業), shared (Shared, 共通) のどれかを使うか、department を空欄にしてください。\n"
        "  - targets.csv、2行目、列 'target': 目標がマイナスです(値: '-1.0')\n"
        "    対処方法: 目標は0以上にしてください。\n"
        "  - targets.csv、3行目、列 'metric': 前の行と期間・指標・チャネルが重複しています(値: '2026Q1 leads')\n"
        "    対処方法: 期間・指標・チャネルごとに目標を1つにしてください(どの部門の担当でも、合意した1つの数値)。")


# =========================================================================== the encoding's reason, a column's meaning, drop_if
def test_the_mojibake_refusal_says_how_the_encoding_was_chosen_in_japanese(tmp_path):
    from helpers.data.rawread import decode_csv

    path = tmp_path / "x.csv"
    path.write_text("name,channel\nCafé,Webinar\n".encode("utf-8").decode("cp1252"), encoding="utf-8")
    garbled = ("2行目の文字が化けています: 'CafÃ©,Webinar' の中の 'Ã©'。ある文字コードで保存したファイルを別の文字コードで読んだ"
               "(または保存し直した)ため、このままでは値が誤ります(チャネルが2つに分かれる、名前が読めないなど)\n"
               "  対処方法: CRM から UTF-8 で出力し直して Excel で保存し直さないようにするか、マッピングで正しい文字コードを指定してください"
               "(encoding: cp1252、cp932、utf-8、utf-16)。")
    for stated, how in ((None, "UTF-8 として正しいため"), ("utf-8", "指定どおり")):
        with pytest.raises(WorkbookError) as info:
            decode_csv(path, stated)
        assert info.value.in_language("ja") == f"x.csv: UTF-8 として読むと({how})、" + garbled
    assert str(info.value).startswith("x.csv: read as UTF-8 (stated), the text is garbled (mojibake) at line 2: 'Ã©' in")
    from helpers.charset import detect_encoding

    assert detect_encoding(b"\xef\xbb\xbfa,b\n")[1].in_language("ja") == "BOM(バイト順マーク)による判定"


def test_a_required_column_not_mapped_says_its_meaning_in_japanese(tmp_path):
    from helpers.data.mapping import load_mapping

    mapping = tmp_path / "m.yaml"
    mapping.write_text("tables:\n  opportunities:\n    file: deals.csv\n    columns:\n      opportunity_id: Id\n      outcome: Stage\n",
                       encoding="utf-8")
    with pytest.raises(WorkbookError) as info:
        load_mapping(mapping)
    assert info.value.in_language("ja") == (
        "m.yaml: tables.opportunities.columns: 必須の列 'created_at'(商談の作成日)が割り当てられていません\n"
        "  対処方法: created_at をエクスポートの列に割り当てるか、constant か default を指定してください(例: channel: {constant: unknown})。")
    assert str(info.value).startswith("m.yaml: tables.opportunities.columns: the required column 'created_at' (opportunity created) "
                                      "is not mapped")


def test_every_column_meaning_is_the_schemas_in_english_and_has_japanese():
    from helpers.data.schema import TABLES, meaning

    for table in TABLES.values():
        for col in table.columns:
            said = meaning(table.name, col.name)
            assert said == col.meaning and CJK.search(said.in_language("ja")), (table.name, col.name)


def test_a_drop_if_rule_is_quoted_in_a_japanese_sentence(tmp_path):
    from helpers.data.ingest import ingest
    from helpers.data.ingest_summary import format_summary

    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "deals.csv").write_text("Id,Stage,Created,Closed,Amount,Pipeline\nD1,Won,2025-01-05,2025-02-01,100,Sales\n"
                                       "D2,Lost,2025-01-06,2025-02-02,0,Partner\nD3,Open,2025-01-07,,,Sales\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("tables:\n  opportunities:\n    file: deals.csv\n    drop_if:\n"
                       "      - {column: Pipeline, not_in: [Sales, Direct], reason: other pipelines}\n"
                       "      - {column: Stage, in: [Churned, Void]}\n    columns:\n      opportunity_id: Id\n"
                       "      created_at: Created\n      closed_at: Closed\n      outcome: {column: Stage, values: {Won: won, Lost: lost, "
                       "Open: open}}\n      amount: Amount\n      channel: {constant: unknown}\n", encoding="utf-8")
    result = ingest(exports, mapping, tmp_path / "out")
    assert "    除外 1行(3行目): 'Pipeline' が Sales、Direct のどれでもない(理由: other pipelines)\n" in format_summary(result, "ja")
    assert "    dropped 1 row (3): 'Pipeline' is not one of Sales, Direct (other pipelines)\n" in format_summary(result, "en")
    from helpers.data.mapping import load_mapping

    rule = load_mapping(mapping).tables["opportunities"].drop_if[1]
    assert (rule.describe(), rule.describe().in_language("ja")) == ("'Stage' is Churned or Void", "'Stage' が Churned または Void")


# =========================================================================== the lock errors
def test_the_lock_errors_name_what_was_being_done_in_japanese(tmp_path):
    from helpers.storage import locked

    what = Phrase("lock_what_save_goals", name="targets.csv")
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    with pytest.raises(WorkbookError) as info, locked(tmp_path / "afile" / "targets.csv", what):
        pass
    assert info.value.in_language("ja").startswith(f"目標を targets.csv に保存: ロックファイル {tmp_path}/afile/.targets.csv.lock を"
                                                   "作れません(OS のメッセージ: ")
    assert info.value.in_language("ja").endswith(")\n  対処方法: フォルダに書き込めるようにしてください(ディスクがいっぱいでないかも"
                                                 "確認してください)。")
    assert str(info.value).startswith(f"Saving the goals to targets.csv: cannot create the lock file {tmp_path}/afile/.targets.csv.lock: ")
    target = tmp_path / "targets.csv"
    held, release = threading.Event(), threading.Event()

    def hold():
        with locked(target, what):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        with pytest.raises(WorkbookError) as info, locked(target, what, timeout=0):
            pass
    finally:
        release.set()
        holder.join()
    assert info.value.in_language("ja") == (f"目標を targets.csv に保存: 別のプロセスがロック {tmp_path}/.targets.csv.lock を0秒を超えて"
                                            "保持しています。何も書き込んでいません\n  対処方法: 別の保存や実行が終わるのを待って、もう一度試してください。")
    assert str(info.value) == (f"Saving the goals to targets.csv: another process has held the lock {tmp_path}/.targets.csv.lock for "
                               "more than 0 s; nothing was written\n  How to fix: Wait until the other save or run has finished and try again.")


def test_a_save_refused_by_the_lock_is_said_in_the_form_language(tmp_path):
    from helpers.errors import coded_error
    from helpers.views.checklist_views import save_error_text

    exc = coded_error("lock_held", Phrase("lock_what_save_checklist", name="checklist.csv"), lock="/d/.checklist.csv.lock", timeout="10")
    assert save_error_text(exc, "ja").startswith("チェックリストの回答を checklist.csv に保存: 別のプロセスがロック /d/.checklist.csv.lock を"
                                                 "10秒を超えて保持しています")


# =========================================================================== --help
@pytest.mark.parametrize("module, line", [
    ("helpers.data.ingest", "エクスポートしたファイルのフォルダ(読むだけで、変更しません)"),
    ("helpers.report.run", "データフォルダ(既定: data/sample)"),
    ("helpers.metrics.warehouse", "ウェアハウスでのリードの表の名前(既定: leads)"),
    ("helpers.data.sample", "リードの数(既定 4400)"),
    ("helpers.report.clean", "レポートの出力フォルダ(既定: reports/)"),
    ("helpers.report.lab", "作業フォルダ: notebooks/(作業用コピー)と data/(既定: work)"),
    ("helpers.report.app", "-- の後の引数は voila に渡します(例: -- --port=8870 --no-browser)。"),
])
def test_help_is_in_the_language_of_lang_else_the_locale(module, line, capsys, monkeypatch):
    import importlib

    main = importlib.import_module(module).main
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert line in out and "  -h, --help" in out and "このヘルプを表示して終了します" in out
    monkeypatch.setenv("LANG", "C.UTF-8")
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "show this help message and exit" in out and not CJK.search(out)
    if module in ("helpers.data.ingest", "helpers.report.run"):   # --lang before or after --help
        for args in (["--help", "--lang", "ja"], ["--lang=ja", "--help"]):
            with pytest.raises(SystemExit):
                main(args)
            assert line in capsys.readouterr().out


# =========================================================================== every code and label: Japanese of its own
def test_every_coded_error_and_warning_has_a_japanese_text_unlike_the_english():
    labels = label_table()
    keys = {k for code, variants in ERROR_CODES.items() for v in variants for k in error_keys(code, v)}
    keys |= {k for code, variants in WARNING_CODES.items() for v in variants for k in warning_keys(code, v) if k}
    keys |= {k for k in labels if k.startswith(("cli_", "meaning_", "lock_what_", "part_encoding_", "part_drop_", "run_note_", "schema_",
                                                "setting_invalid_line", "settings_from_", "checklist_bad_", "checklist_new_row",
                                                "checklist_day_of", "run_progress_", "run_read_", "run_recovered_", "lab_", "clean_",
                                                "index_metrics_"))}
    assert len(keys) > 600
    for key in sorted(keys):
        en, ja = labels[key]["en"], labels[key]["ja"]
        if not re.sub(r"\{\w+\}|\s", "", ja):   # a sentence put together from parts: only its placeholders
            continue
        assert ja != en and CJK.search(ja), key


#: Labels whose Japanese says a param its English does not (every caller passes it): the counts with 行, the codec's
#: own name, the columns as a list.
JA_ONLY_PARAMS = {"warning_currency_converted_with_rates": {"counts_ja"}, "warning_encoding_detected": {"encoding"},
                  "warning_file_lacks_columns": {"column_list"}, "warning_file_lacks_columns_read_other": {"column_list"}}


class _AnyValue:
    """A param's value for any format spec, index or attribute ({count:,}, {x[0]}, {x.y})."""

    def __format__(self, spec):
        return "v"

    def __getitem__(self, key):
        return self

    def __getattr__(self, name):
        return self


def test_every_codes_japanese_fills_from_the_english_params():
    """Each coded error's and warning's Japanese sentence and fix, and each part of a message (part_, problem_,
    fix_topic_), formats with the params its English takes (the English is filled when the error is made, so a param
    it lacks fails there): a Japanese placeholder the code is not given would otherwise be said in English at run
    time (DataValidationError.in_language's fallback, an UntranslatedFinding warning: an error under pytest)."""
    import string

    def fields(text: str) -> set[str]:
        return {re.split(r"[.\[]", name)[0] for _, name, _, _ in string.Formatter().parse(text) if name is not None}

    labels = label_table()
    keys = {k for code, variants in ERROR_CODES.items() for v in variants for k in error_keys(code, v)}
    keys |= {k for code, variants in WARNING_CODES.items() for v in variants for k in warning_keys(code, v) if k}
    keys |= {k for k in labels if k.startswith(("part_", "problem_", "fix_topic_"))}
    assert len(keys) > 700
    unfilled = {}
    for key in sorted(keys):
        en, ja = labels[key]["en"], labels[key]["ja"]
        given = fields(en) | JA_ONLY_PARAMS.get(key, set())
        assert "" not in fields(ja) and not any(name.isdigit() for name in fields(ja)), key   # no positional {} / {0}
        try:
            ja.format(**{name: _AnyValue() for name in given})
        except (KeyError, IndexError, ValueError) as exc:
            unfilled[key] = repr(exc)
    assert unfilled == {}


def test_a_finding_its_japanese_cannot_fill_is_said_in_english_with_a_warning():
    """The runtime fallback: a coded finding without the params its Japanese needs (e.g. from an older snapshot) is
    listed in English and warned about (UntranslatedFinding), never dropped."""
    from helpers.errors import Finding, UntranslatedFinding

    f = Finding("error", "spend.csv", "missing_column", "the required column 'amount' (spend) is missing", "Add it.",
                "amount", params={"variant": "table"})
    with pytest.warns(UntranslatedFinding, match="spend.csv: the finding 'missing_column' is said in English: its ja "
                                                 "text needs 'meaning'"):
        text = DataValidationError([f]).in_language("ja")
    assert text == HEADER_JA.format(n=1) + ("  - spend.csv、列 'amount': the required column 'amount' (spend) is missing\n"
                                            "    対処方法: Add it.")


#: The modules of a report run's and a data folder's path (the ingest's are tests/test_ingest_language.py's).
REPORT_MODULES = [ROOT / "helpers" / f"{name}.py" for name in (
    "data/load", "data/parse", "data/validate", "data/checks_engine", "data/periods", "data/extras", "data/targets_file",
    "data/categories", "data/total_rows", "data/touches", "yamlfile", "storage", "charset", "cli_help", "report/run",
    "report/clean", "report/record", "metrics/warehouse_cells", "metrics/warehouse_load", "config", "settings_schema",
    "metrics/lead_quality", "metrics/velocity", "metrics/velocity_change", "metrics/checklist_answers", "report/kernel", "report/lab")]


def test_no_module_of_the_report_path_raises_an_english_sentence_of_its_own():
    left = []
    for path in REPORT_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            args = node.args
            text = None
            if name in ("WorkbookError", "ConfigError") and args:
                text = args[0]
            elif name in ("Finding", "finding") and len(args) > 3:
                text = args[3]   # the message: '' for a Finding whose sentence comes from its code
            if isinstance(text, ast.BinOp):
                text = text.left
            if isinstance(text, ast.JoinedStr) or isinstance(text, ast.Constant) and isinstance(text.value, str) and text.value:
                said = text.value if isinstance(text, ast.Constant) else ast.unparse(text)
                left.append(f"{path.name}:{node.lineno}: {said[:60]}")
    assert left == []


# =========================================================================== the runner's refusals
def test_the_runner_refuses_in_japanese(tmp_path, capsys):
    from helpers.report import run

    data = tmp_path / "data"
    data.mkdir()
    (data / "opportunities.csv").write_text("opportunity_id,created_at,closed_at,outcome,amount\n" + "".join(
        f"O{i},2025-0{1 + i % 3}-1{i},,open,\n" for i in range(8)) + "O9,1901-01-14,,open,\n", encoding="utf-8")
    empty = tmp_path / "notebooks"
    empty.mkdir()
    common = ["--data", str(data), "--notebooks", str(empty), "--out", str(tmp_path / "out"), "--lang", "ja"]
    assert run.main([*common, "--all"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --all は最初の created_at の日付から始まりますが、次の日付があります: opportunities.csv、10行目、"
                          "列 'created_at': ")
    assert err.endswith("  対処方法: それらの日付を修正するか、レポートする期間を --period で指定してください。\n") and "How to fix" not in err
    assert run.main([*common, "--period", "2026Q1"]) == 2
    assert capsys.readouterr().err == (
        "error: 期間 2026Q1 はデータの最後の日付 2025-03-15(リードと商談の最新の日付)より後に始まります。データがありません\n"
        "  対処方法: 2025Q1 以前を選んでください。--as-of を後にしてもデータは増えません。\n")
    assert run.main([*common, "--period", "2025Q1", "--as-of", "1900-01-01"]) == 2
    assert capsys.readouterr().err == (
        "error: as_of 1900-01-01 がデータの最初の日付 1901-01-14(リードと商談の最も早い created_at)より前です。それまでのデータはありません\n"
        "  対処方法: --as-of(または設定の as_of)に 1901-01-14 以降を指定するか、省略してください(データの最新の日付になります)。"
        "データのある最初の期間は 1901Q1 です。\n")


def test_a_missing_or_non_mapping_settings_file_is_refused_in_japanese(tmp_path):
    from helpers.config import _read_yaml
    from helpers.errors import ConfigError
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as exc:
        _read_yaml(missing)
    assert exc.value.in_language("ja") == (
        f"設定ファイル {missing} がありません\n  対処方法: --config に指定したパスを確かめてください。")
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        _read_yaml(listed)
    assert exc.value.in_language("ja") == (
        f"{listed}: 最上位は設定のマッピング(キー: 値)でなければなりませんが、list でした\n"
        "  対処方法: 設定は1行に1つ「キー: 値」の形で書いてください(例: fiscal_year_start_month: 4)。")


def test_an_unknown_setting_is_refused_in_japanese():
    from helpers.config import _merge
    from helpers.errors import ConfigError
    with pytest.raises(ConfigError) as exc:
        _merge({"b": 1, "a": 2}, {"zz": 3}, "w.yaml")
    assert exc.value.in_language("ja") == (
        "w.yaml: 不明な設定「zz」です\n  対処方法: 次のいずれかを使ってください: a, b(helpers/default_config.yaml を参照)。")


# =========================================================================== the settings' checks (helpers.config, settings_schema)
def _refused_settings(tmp_path, text: str, **kwargs):
    from helpers.config import load_config
    from helpers.errors import ConfigError

    f = tmp_path / "c.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path=f, **kwargs)
    return info.value


def test_a_settings_value_refused_by_its_check_is_said_in_japanese(tmp_path):
    exc = _refused_settings(tmp_path, "timezone: Mars/Olympus\n")
    assert exc.in_language("ja") == ("default_config.yaml + c.yaml: timezone 'Mars/Olympus' は既知のタイムゾーンではありません\n"
                                     "  対処方法: Asia/Tokyo、Europe/Berlin、UTC のような IANA のタイムゾーン名を使ってください。")
    assert str(exc) == ("default_config.yaml + c.yaml: timezone 'Mars/Olympus' is not a known time zone\n"
                        "  How to fix: Use an IANA zone name such as Asia/Tokyo, Europe/Berlin or UTC.")
    exc = _refused_settings(tmp_path, "currency: {code: Yen}\n")
    assert exc.in_language("ja") == ("default_config.yaml + c.yaml: currency.code は ISO 4217 の通貨コードにしてください(指定された値: 'Yen')\n"
                                     "  対処方法: 3文字の通貨コードで書いてください。円(¥)なら JPY、ほかに USD、EUR、GBP などです。")
    exc = _refused_settings(tmp_path, "currency: {code: USD, rates: [{currency: JYP, rate: 0.0067}]}\n")
    assert exc.in_language("ja") == (
        "default_config.yaml + c.yaml: currency.rates[0].currency は currency.code(USD)以外の ISO 4217 通貨コードにしてください"
        "(指定された値: 'JYP')\n  対処方法: 換算レートは [{currency: JPY, rate: 0.0066667}, {currency: EUR, rate: 1.08, "
        "valid_from: 2025-01-01}] のようなリストで書いてください。")
    exc = _refused_settings(tmp_path, "checklist: {categories: {a: [1, 2], b: [2, 3]}}\n")
    assert exc.in_language("ja") == ("default_config.yaml + c.yaml: チェックリストの項目 [2] が複数のカテゴリに入っています\n"
                                     "  対処方法: 各項目はちょうど1つのカテゴリに入れてください。")


def test_a_rate_row_and_its_valid_from_are_refused_in_japanese():
    from helpers.config import _currency_rates
    from helpers.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        _currency_rates([{"currency": "EUR", "rate": 1.1, "valid_from": "soon"}], "USD", "w.yaml")
    assert info.value.in_language("ja").startswith(
        "w.yaml: currency.rates[0].valid_from は YYYY-MM-DD 形式の日付にしてください(指定された値: 'soon')\n  対処方法: 換算レートは")
    assert str(info.value).startswith("w.yaml: currency.rates[0].valid_from must be a date YYYY-MM-DD, got 'soon'\n")


def test_the_settings_schemas_problems_are_listed_in_japanese(tmp_path):
    exc = _refused_settings(tmp_path, "language: fr\nstale_open_days: -1\ncurrency: {rates: [{currency: EUR}]}\n"
                                      "checklist: {items: {16: {ja: a, en: b}}}\n")
    assert exc.in_language("ja") == (
        "4件の設定が正しくありません:\n"
        "  - c.yaml: 設定「checklist.items.16」はここで使える名前ではありません(名前の形: 項目番号(1〜15))。"
        "対処方法: 項目番号は1〜15のままにし、文言だけを編集してください。\n"
        "  - c.yaml: 設定「currency.rates.0.rate」がありません。対処方法: 例: {currency: EUR, rate: 1.08, valid_from: 2025-01-01}。\n"
        "  - c.yaml: 設定「language」は次の形にしてください: en, ja のいずれか(指定された値: 'fr')。"
        "対処方法: language: en または language: ja と書いてください。\n"
        "  - c.yaml: 設定「stale_open_days」は次の形にしてください: 1以上の整数(指定された値: -1)。対処方法: 例: 180。\n"
        "  対処方法: 一覧の各設定を直してください(すべての設定は helpers/default_config.yaml で説明しています)。")
    assert str(exc).startswith("4 settings are not valid:\n  - c.yaml: setting 'checklist.items.16' is not a valid name here: "
                               "the names must be an item number 1-15 (how to fix: Keep the item numbers 1-15; edit only their texts.)\n")
    exc = _refused_settings(tmp_path, "target: {industries: 5}\n")
    assert exc.in_language("ja") == ("c.yaml: 設定「target.industries」は次の形にしてください: 業種名のリスト、または null(指定された値: 5)\n"
                                     "  対処方法: industries: [製造, IT・通信] のように書いてください。[] はすべての業種です。")
    exc = _refused_settings(tmp_path, "", overrides={"sla": {"follow_up_hours": "soon"}})
    assert exc.in_language("ja") == ("コマンドライン: 設定「sla.follow_up_hours」は次の形にしてください: 0より大きい数値(指定された値: 'soon')\n"
                                     "  対処方法: 例: 48。")


def test_every_text_of_the_settings_schema_is_said_in_both_languages():
    from helpers.settings_schema import SETTINGS, Text

    def walk(node):
        if isinstance(node, Text):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    texts = list(walk(SETTINGS))
    assert len(texts) > 100
    for text in texts:
        phrase = text.phrase()
        assert phrase and CJK.search(phrase.in_language("ja")) and phrase.in_language("ja") != str(phrase), text


def test_amounts_in_another_currency_than_the_settings_say_are_refused_in_japanese(tmp_path):
    import json

    (tmp_path / "ingest_report.json").write_text(json.dumps({"currency": {"code": "GBP", "how": "the '£' marks of amount"}}),
                                                 encoding="utf-8")
    exc = _refused_settings(tmp_path, "currency: {code: JPY}\n", data_dir=tmp_path)
    assert exc.in_language("ja") == (
        f"{tmp_path / 'c.yaml'}: currency.code は JPY ですが、{tmp_path} の金額は GBP です(the '£' marks of amount)。"
        "このままではレポートの通貨表示が誤ります\n"
        "  対処方法: currency.code: GBP にする(または削除する)か、currency.rates に JPY への換算レートを書いて取り込み直してください"
        "(docs/ingest.md)。")


# =========================================================================== a warning rendered directly
def test_a_warning_renders_its_own_sentence_in_japanese():
    from helpers.errors import Finding, warning

    found = warning("opportunities.csv", "far_date_after", "created_at", rows=(3, 9), values=("2205-01-01",), count=2, years=5)
    assert found.render("ja") == ("opportunities.csv、3, 9行目、列 'created_at': ほかのデータより5年以上後の日付です。入力ミスの可能性があります"
                                  "(値: '2205-01-01')\n    対処方法: 日付を修正してください(データ基準日より後のため、集計には含めていません)。")
    assert found.render() == ("opportunities.csv, rows 3, 9, column 'created_at': dates more than 5 years after the rest of the data: "
                              "likely typos (values: '2205-01-01')\n    How to fix: Correct the dates (they are after as_of, so they "
                              "are ignored).")
    kept = Finding("warning", "leads.csv", "far_date_after", "as an old snapshot said it", "its fix")   # no params: as it was
    assert kept.render("ja") == "leads.csv: as an old snapshot said it\n    対処方法: its fix"


# =========================================================================== lead quality, velocity, the checklist's save
def test_the_lead_quality_settings_are_refused_in_japanese():
    import pandas as pd

    from helpers.errors import ConfigError
    from helpers.metrics.lead_quality import LeadColumns, check_rule

    columns = LeadColumns({"lead_id": pd.Series(["L1", "L2"]), "web_visits": pd.Series(["3", "7"]),
                           "channel": pd.Series(["web", "ad"])})
    said = {}
    for name, rule in (("column", {"column": "visits", "op": ">=", "value": 5}),
                       ("op", {"column": "web_visits", "op": "=>", "value": 5}),
                       ("in_list", {"column": "channel", "op": "in", "value": "web"}),
                       ("numeric_op", {"column": "channel", "op": ">=", "value": 5}),
                       ("value_number", {"column": "web_visits", "op": ">=", "value": "abc"})):
        with pytest.raises(ConfigError) as info:
            check_rule(rule, columns, [])
        said[name] = info.value.in_language("ja")
        assert "How to fix" in str(info.value) and "対処方法" in said[name]
    assert said["column"].startswith("設定「lead_quality.mql_rule.column」が列 'visits' を指定していますが、leads.csv にその列はありません\n"
                                     "  対処方法: リードの次の列から選んでください: ")
    assert said["op"] == ("設定「lead_quality.mql_rule.op」の '=>' は演算子ではありません\n"
                          "  対処方法: 次のいずれかを使ってください: >=, >, <=, <, ==, in。")
    assert said["in_list"] == ("設定「lead_quality.mql_rule.value」は op 'in' ではリストにしてください(指定された値: 'web')\n"
                               "  対処方法: value: [web] のように、条件に合う値のリストで書いてください。")
    assert said["numeric_op"] == ("設定「lead_quality.mql_rule」: op '>=' には数値の列が必要ですが、'channel' は文字列の列です\n"
                                  "  対処方法: 列の値に対して op '==' か 'in' を使うか、数値の列を使ってください。")
    assert said["value_number"] == ("設定「lead_quality.mql_rule.value」は 'abc' ですが、'web_visits' は数値の列です\n"
                                    "  対処方法: 数値を書いてください。例: {column: web_visits, op: '>=', value: 5}。")


def test_an_initiative_choice_and_the_velocity_settings_are_refused_in_japanese():
    import pandas as pd

    from helpers.metrics.velocity import select_initiative
    from helpers.metrics.velocity_change import windows

    initiatives = pd.DataFrame({"name": ["SFA", "MA"], "started_on": ["2025-01-01", "2025-02-01"]})
    with pytest.raises(WorkbookError) as info:
        select_initiative(initiatives, "2025-03-31", "CRM")
    assert info.value.in_language("ja") == ("'CRM' という名前の施策はありません\n"
                                            "  対処方法: initiatives.csv にある名前(MA, SFA)か、YYYY-MM-DD 形式の開始日を指定してください。")
    assert str(info.value) == ("No initiative named 'CRM'\n  How to fix: Use a name from initiatives.csv (MA, SFA) or a start date "
                               "written YYYY-MM-DD.")
    with pytest.raises(WorkbookError) as info:
        select_initiative(None, "2025-03-31", "CRM")
    assert "(none listed)" in str(info.value) and "initiatives.csv にある名前(現在は登録なし)" in info.value.in_language("ja")
    with pytest.raises(WorkbookError) as info:
        select_initiative(initiatives, "2025-03-31", "2025-02-30")
    assert info.value.in_language("ja") == "'2025-02-30' は正しい日付ではありません\n  対処方法: 日付は YYYY-MM-DD 形式で書いてください。"
    with pytest.raises(WorkbookError) as info:
        windows("2025-02-01", 0)
    assert info.value.in_language("ja") == ("velocity.window_days は正の整数にしてください(指定された値: 0)\n"
                                            "  対処方法: 設定で velocity.window_days を指定してください(例: 90)。")


def test_the_checklist_save_refusals_are_said_in_japanese(tmp_path):
    import pandas as pd

    from helpers.metrics.checklist_answers import DuplicateAnswersError, append_answers
    from helpers.views.checklist_views import save_error_text

    rows = pd.DataFrame({"respondent": ["a", ""], "department": ["sales", "sales"], "answered_on": ["2025-01-01", "soon"],
                         "item": [1, 16], "answer": ["yes", "maybe"]})
    with pytest.raises(WorkbookError) as info:
        append_answers(tmp_path / "checklist.csv", rows)
    assert info.value.in_language("ja") == (
        "チェックリストの回答を保存できません。何も書き込んでいません:\n"
        "  - 新しい行2(回答者 ''、項目 '16'): 回答者(respondent)が空欄です。回答日(answered_on)の 'soon' が YYYY-MM-DD 形式の日付では"
        "ありません。項目(item)の '16' が1〜15の整数ではありません。回答(answer)の 'maybe' が yes、partial、no(はい/一部/いいえ、1/0.5/0)"
        "のどれでもありません\n  対処方法: 一覧の行を直して、もう一度保存してください。")
    assert str(info.value) == (
        "Cannot save the checklist answers; nothing was written:\n"
        "  - new row 2 (respondent '', item '16'): respondent is empty; answered_on 'soon' is not a date YYYY-MM-DD; item '16' is not "
        "a whole number 1-15; answer 'maybe' is not yes, partial or no (はい/一部/いいえ, 1/0.5/0)\n"
        "  How to fix: Correct the listed rows and save again.")
    twice = pd.DataFrame({"respondent": ["a", "a"], "department": ["sales"] * 2, "answered_on": ["2025-01-01"] * 2,
                          "item": [3, 3], "answer": ["yes", "no"]})
    with pytest.raises(WorkbookError) as info:
        append_answers(tmp_path / "checklist.csv", twice)
    assert info.value.in_language("ja").startswith("チェックリストの回答を保存できません。同じ回答者・同じ日付で同じ項目に2回回答しています: "
                                                   "新しい行1(回答者 'a'、項目 3)、新しい行2(回答者 'a'、項目 3)\n")
    append_answers(tmp_path / "checklist.csv", rows.iloc[:1])
    with pytest.raises(DuplicateAnswersError) as info:
        append_answers(tmp_path / "checklist.csv", rows.iloc[:1])
    assert info.value.duplicates == [("a", "2025-01-01")]
    assert str(info.value).startswith("checklist.csv already has answers of 'a' on 2025-01-01; nothing was written\n")
    assert save_error_text(info.value, "ja") == (
        "checklist.csv には'a'の2025-01-01の回答がすでにあります。何も書き込んでいません 対処方法: 置き換えるには「同じ日の回答を置き換える」"
        "(replace_same_day=True)にチェックを入れるか、別の日付を使ってください。")
    (tmp_path / "checklist.xlsx").write_bytes(b"PK")
    with pytest.raises(WorkbookError) as info:
        append_answers(tmp_path / "checklist.xlsx", rows.iloc[:1])
    assert info.value.in_language("ja") == ("checklist.xlsx: 回答は CSV ファイルにしか保存できません\n"
                                            "  対処方法: チェックリストはデータフォルダの checklist.csv(UTF-8)に保存してください。")


# =========================================================================== the runner's progress lines
def test_a_failed_period_and_a_recovered_folder_are_said_in_japanese(tmp_path, capsys):
    from helpers.report.record import make_own_dir, recover_publish
    from helpers.report.run import FAILED_DIR, KERNEL_LOG, PeriodResult, _publish_period

    out = tmp_path / "out"
    staging = make_own_dir(out / ".staging-2025Q1-1")
    result = PeriodResult("2025Q1", ok=False, failed_notebook="02_funnel.ipynb", failed_cell=7,
                          error="DataValidationError: ...")
    _publish_period(result, staging, out, "ja")
    failed = out / FAILED_DIR / "2025Q1"
    assert capsys.readouterr().out == (
        "[2025Q1] 02_funnel.ipynb が失敗しました(セル 7): DataValidationError: ...\n"
        f"[2025Q1]   実行したノートブックを {failed / '02_funnel.ipynb'} に残しました(カーネルのログ: {failed / KERNEL_LOG})\n")
    make_own_dir(out / ".staging-2025Q2-1")
    (line,) = recover_publish(out)
    assert (line, line.in_language("ja")) == ("removed .staging-2025Q2-1/ left by an interrupted run",
                                              "中断された実行が残した .staging-2025Q2-1/ を削除しました")


def test_the_runners_lines_have_the_same_placeholders_in_both_languages():
    labels = label_table()
    for key in (k for k in labels if k.startswith(("run_progress_", "run_read_", "run_recovered_", "run_note_"))):
        en, ja = labels[key]["en"], labels[key]["ja"]
        assert sorted(re.findall(r"\{\w+\}", en)) == sorted(re.findall(r"\{\w+\}", ja)), key


# =========================================================================== make lab / make app
def test_the_lab_notices_are_said_in_japanese(tmp_path, capsys):
    import argparse
    import json

    from helpers.report import lab

    args = argparse.Namespace(work=str(tmp_path / "work"), data=str(tmp_path / "nope"), lang="ja", prepare_only=True)
    assert lab.prepare_workspace(args, "make lab") is None
    assert capsys.readouterr().err == (f"データフォルダ {tmp_path / 'nope'} がありません。存在するフォルダを指定してください: "
                                       "make lab DATA=path/to/folder\n")
    src = tmp_path / "src" / "01_x.ipynb"
    src.parent.mkdir()
    src.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    lab.prepare_notebooks(tmp_path / "copies", [src])
    src.write_text(json.dumps({"cells": [], "metadata": {"x": 1}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    (notice,) = lab.prepare_notebooks(tmp_path / "copies", [src], command="make app")
    assert notice.in_language("ja") == (f"{src} は作業用コピー {tmp_path / 'copies' / '01_x.ipynb'} を作った後に変更されています。"
                                        "コピーはそのまま残しています。新しい版を使うには、コピーの名前を変えてから make app をもう一度実行してください。")
    assert notice.startswith(f"{src} has changed since your working copy ")


def test_a_missing_kernel_is_refused_in_japanese():
    from helpers.report.kernel import check_kernel

    with pytest.raises(WorkbookError) as info:
        check_kernel("no-such-workbook-kernel")
    assert info.value.in_language("ja").startswith(
        "Jupyter カーネル 'no-such-workbook-kernel' がインストールされていないため、ノートブックを実行できません\n"
        "  対処方法: ワークブックのパッケージが入った Python にカーネルを登録してください: `")
    assert str(info.value).startswith("the Jupyter kernel 'no-such-workbook-kernel' is not installed, so no notebook can run\n"
                                      "  How to fix: Register the kernel for the Python that has the workbook's packages: `")


# =========================================================================== an error in a notebook's traceback
def test_a_notebook_shows_a_workbook_error_in_the_reports_language(tmp_path, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from helpers.report.session import say_errors_in

    (tmp_path / "opportunities.csv").write_text("opportunity_id,created_at,closed_at,outcome,amount\n"
                                                "O1,2025-01-05,2025-02-01,won,-5\n", encoding="utf-8")
    shell = InteractiveShell.instance()
    try:
        say_errors_in("ja")
        shell.user_ns["folder"] = str(tmp_path)
        result = shell.run_cell("from helpers.data.load import load_workbook\nload_workbook(folder)")
    finally:
        InteractiveShell.clear_instance()
    shown = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)   # the traceback's colours
    assert isinstance(result.error_in_exec, DataValidationError)
    assert "DataValidationError: " + HEADER_JA.format(n=1) + (
        "  - opportunities.csv、2行目、列 'amount': 金額がマイナスです(値: '-5.0')\n"
        "    対処方法: 金額は0以上にしてください。返金は別に記録してください。") in shown
    exc = result.error_in_exec
    assert str(exc) == exc.in_language("ja") and exc.in_language("en").startswith("The input data has 1 problem(s)")
    exc.shown_in = "en"
    assert str(exc).startswith("The input data has 1 problem(s)")


# =========================================================================== ingest_report.json in both languages
def test_ingest_report_keeps_its_english_keys_and_adds_the_japanese(tmp_path):
    import json

    from helpers.data.ingest import ingest
    from helpers.metrics.limits import ingest_warnings, warning_sentences

    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "deals.csv").write_text("Id,Stage,Created,Closed,Amount,Pipeline\nD1,Won,2025-01-05,2025-02-01,$100,Sales\n"
                                       "D2,Lost,2025-01-06,2025-02-02,$0,Partner\nD3,Open,2025-01-07,,,Sales\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("tables:\n  opportunities:\n    file: deals.csv\n    drop_if:\n"
                       "      - {column: Pipeline, not_in: [Sales, Direct], reason: other pipelines}\n    columns:\n"
                       "      opportunity_id: Id\n      created_at: Created\n      closed_at: Closed\n"
                       "      outcome: {column: Stage, values: {Won: won, Lost: lost, Open: open}}\n      amount: Amount\n"
                       "      channel: {constant: unknown}\n", encoding="utf-8")
    ingest(exports, mapping, tmp_path / "out")
    record = json.loads((tmp_path / "out" / "ingest_report.json").read_text(encoding="utf-8"))
    assert (record["currency"]["how"], record["currency"]["how_ja"]) == ("opportunities: from the amounts in 'Amount'",
                                                                         "opportunities の'Amount' の金額から読み取り")
    dropped = record["tables"]["opportunities"]["dropped"][0]
    assert (dropped["reason"], dropped["reason_ja"]) == ("'Pipeline' is not one of Sales, Direct (other pipelines)",
                                                         "'Pipeline' が Sales、Direct のどれでもない(理由: other pipelines)")
    (note,) = [w for w in record["warnings"] if w["code"] == "currency_dollar_assumed"]
    assert note["message"].startswith("amounts written with '$' alone in 'Amount' are read as US dollars (USD)")
    assert note["message_ja"].startswith("「Amount」の「$」だけが付いた金額は米ドル(USD)として読み取りました")
    (read,) = [w for w in ingest_warnings(tmp_path / "out") if w["code"] == "currency_dollar_assumed"]
    assert warning_sentences(read, "ja")[0] == note["message_ja"]
    settings = tmp_path / "c.yaml"
    settings.write_text("currency: {code: JPY}\n", encoding="utf-8")
    from helpers.config import load_config
    from helpers.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "out", settings)
    assert "の金額は USD です(opportunities の'Amount' の金額から読み取り)。" in info.value.in_language("ja")
    assert "are in USD (opportunities: from the amounts in 'Amount')" in str(info.value)


def test_clean_and_a_channel_named_on_the_command_line_are_said_in_japanese(tmp_path, capsys, monkeypatch):
    from helpers.config import load_config
    from helpers.data.channels import check_channel_names
    from helpers.report import clean

    monkeypatch.setenv("LC_ALL", "ja_JP.UTF-8")
    assert clean.main(["--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"{tmp_path} からレポートの項目を0件削除しました。それ以外のものはそのまま残しています。\n"
    config = load_config(overrides={"labels": {"channels": {"semnar": "セミナー"}}})
    (found,) = check_channel_names(config.settings_channel_names, {}, config.channel_names_from)
    assert found.render("ja").startswith("コマンドライン、列 'labels.channels.semnar': ")
    assert found.render().startswith("the command line, column 'labels.channels.semnar': ")
