"""The ingest says every error in English or Japanese (helpers.errors: coded errors, Phrases; `--lang`, the locale).

The shared example exports (tests/fixtures/cases/exports/, README there) are refused with the full Japanese message
and fix asserted word for word; every code and part the ingest modules say has both languages with the same
placeholders; no ingest module raises a WorkbookError with an English sentence of its own (an AST check); the
command prints in the language of --lang, else of the terminal's locale.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from helpers.data.ingest import ingest
from helpers.data.ingest import main as ingest_main
from helpers.data.mapping import load_mapping
from helpers.errors import ERROR_CODES, ERROR_SHARED_FIX, Phrase, WorkbookError, error_keys
from helpers.labels import label_table

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).parent / "fixtures" / "cases" / "exports"
#: The modules of the ingest path (python -m helpers.ingest): reading exports, the mapping file, applying it.
INGEST_MODULES = [ROOT / "helpers" / "data" / f"{name}.py" for name in (
    "ingest", "ingest_files", "ingest_checks", "ingest_join", "ingest_summary", "mapping", "mapping_parse", "mapping_spec",
    "mapping_values", "mapping_checks", "mapping_types", "rawread", "files", "cells", "values", "csvshape", "sql_source")]
INGEST_MODULES.append(ROOT / "helpers" / "charset.py")
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"(?<!\{)\{(\w+)\}", text))


def refusal(tmp_path: Path, case: str, mapping: str) -> WorkbookError:
    with pytest.raises(WorkbookError) as info:
        ingest(CASES / case, mapping, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    return info.value


# =========================================================================== the shared cases, in Japanese
def test_04_unmapped_stage_in_japanese(tmp_path):
    exc = refusal(tmp_path, "04-hubspot-custom-stages", "hubspot")
    assert exc.in_language("ja") == (
        "hubspot-crm-exports-all-deals-2025-04-01.csv: マッピングで変換できない値があります(hubspot.yaml: tables.opportunities):\n"
        "  - 列 'Deal Stage' -> outcome: マッピングで won(受注)・lost(失注)・open(進行中)のどれにも割り当てていないステージがあります"
        "(気づかないうちに進行中の商談として数えないよう、すべてのステージを割り当てる必要があります): "
        "'Closed Won Renewal': 2行(5, 6行目)、金額 35,000; 'Churned': 1行(7行目)、金額 8,000。これらをマッピングに加えてください。"
        "例えば `extends: hubspot` と書いたファイル my_mapping.yaml に次の行を書きます:\n"
        "      tables:\n        opportunities:\n          columns:\n            outcome:\n"
        "              values: {Closed Won Renewal: won, Churned: lost}   # それぞれ won・lost・open のどれか確認してください\n"
        "  対処方法: マッピングで、挙げた各ステージを won・lost・open のどれかに割り当て(上の行)、もう一度実行してください。")
    # the English is the one the runner's tests read (tests/test_ingest_cases_run.py), and the fix's lines work
    assert "'Closed Won Renewal': 2 rows (rows 5, 6), amount 35,000; 'Churned': 1 row (row 7), amount 8,000" in str(exc)
    fixed = tmp_path / "hs.yaml"
    fixed.write_text("extends: hubspot\ntables:\n  opportunities:\n    columns:\n      outcome:\n"
                     "        values: {Closed Won Renewal: won, Churned: lost}   # それぞれ won・lost・open のどれか確認してください\n",
                     encoding="utf-8")
    result = ingest(CASES / "04-hubspot-custom-stages", fixed, tmp_path / "data")
    assert result.tables["opportunities"]["value_counts"]["outcome"] == {"won": 3, "lost": 2, "open": 1}


def test_03_ambiguous_dates_in_japanese(tmp_path):
    exc = refusal(tmp_path, "03-day-first-dates", "salesforce_en")
    both = ("どの日付も日と月がともに12以下です({shown})。03/02/2025 は2月3日とも3月2日とも読め、エクスポートのどこにもどちらかを"
            "決める手がかりがありません。マッピングで順序を指定してください: date_order: dmy(日が先: en_GB・de・fr の出力)または "
            "date_order: mdy(月が先: en_US)")
    assert exc.in_language("ja") == (
        "report1743500000003.csv: マッピングで変換できない値があります(salesforce_en.yaml: tables.opportunities):\n"
        "  - 列 'Created Date' -> created_at(2, 3, 4, 5行目): "
        + both.format(shown="'03/02/2025', '05/01/2025', '07/01/2025', '02/03/2025'") + "\n"
        "  - 列 'Close Date' -> closed_at(2, 3, 4, 5行目): "
        + both.format(shown="'10/03/2025', '11/02/2025', '12/03/2025', '04/03/2025'") + "\n"
        "  対処方法: マッピングで日と月の順序を指定してください: `extends: salesforce_en` の行を書いたファイル `my_mapping.yaml` に "
        "`date_order: dmy`(日が先)または `date_order: mdy`(月が先)の行を書き、そのマッピングでもう一度実行してください"
        "(--mapping my_mapping.yaml)。")
    mapping = tmp_path / "my_mapping.yaml"   # the fix, as it says: extends and date_order
    mapping.write_text("extends: salesforce_en\ndate_order: dmy\n", encoding="utf-8")
    result = ingest(CASES / "03-day-first-dates", mapping, tmp_path / "data")
    assert result.tables["opportunities"]["date_order"]["created_at"]["order"] == "dmy"


def test_02b_mixed_currencies_in_japanese(tmp_path):
    exc = refusal(tmp_path, "02b-multicurrency-inline", "salesforce_en")
    assert exc.in_language("ja") == (
        "report1743500000002.csv: マッピングで変換できない値があります(salesforce_en.yaml: tables.opportunities):\n"
        "  - 列 'Amount' -> amount: 金額が複数の通貨(USD 2行、EUR 1行、JPY 1行)で、設定に為替レートがありません。"
        "1つの通貨として合計すると誤った金額になります\n"
        "  対処方法: 設定に為替レートを書くか(currency.code: レポートの通貨、currency.rates: [{currency: JPY, rate: 0.0067}, ...]。"
        "docs/ingest.md を参照)、換算済みの金額の列(Salesforce の Amount (converted))を出力して、すべての金額を1つの通貨にしてください。")
    assert "several currencies (USD 2 rows, EUR 1 row, JPY 1 row)" in str(exc)


def test_a_missing_column_and_a_date_no_format_reads_in_japanese(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "deals.csv").write_text("Id,Stage,Created\nD1,Closed Won,令和6年13月1日\nD2,Open,2024/10/07(火)\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("tables:\n  opportunities:\n    file: deals.csv\n    columns:\n      opportunity_id: Id\n"
                       "      created_at: {column: Created, format: ['%Y/%m/%d']}\n      outcome: {column: Stage, values: "
                       "{Closed Won: won, Open: open}}\n      amount: Amount\n      channel: {constant: unknown}\n", encoding="utf-8")
    with pytest.raises(WorkbookError) as info:
        ingest(exports, mapping, tmp_path / "out")
    assert info.value.in_language("ja") == (
        "deals.csv: マッピングに必要な列がなく、変換できない値もあります(m.yaml: tables.opportunities):\n"
        "  - 列 'Amount' がありません(m.yaml: tables.opportunities.columns.amount で必要)。エクスポートの列: 'Id', 'Stage', 'Created'。\n"
        "  - 列 'Created' -> created_at(2, 3行目): 書かれたとおりには読めない日付です: '令和6年13月1日': 存在しない日付です(2024-13-01); "
        "'2024/10/07(火)': 2024-10-07 は月曜日(Monday)で、火曜日(Tuesday)ではありません\n"
        "  対処方法: エクスポートの見出しをそのままマッピングに書くか、その列を含めて出力し直すか、列がないこともあるなら規則に "
        "optional: true を付けてください。エクスポートのコピーで挙げたセルを直すか、出力し直してください(どの日付書式でも読めません)。"
        "和暦の日付はその元号の期間内(平成31年5月1日は令和元年5月1日、2019-05-01)、曜日はその日付の曜日、年は4桁である必要があります"
        "(Salesforce: 年を4桁で表示するロケールにするか、データエクスポートの ISO 形式の日付を使います)。")
    assert "'2024/10/07(火)': 2024-10-07 is a Monday (月), not a Tuesday (火)" in str(info.value)
    (exports / "deals.csv").write_text("Id,Stage,Created\nD1,Closed Won,2024/10/01\n", encoding="utf-8")
    with pytest.raises(WorkbookError) as info:   # the missing column alone: the file named first
        ingest(exports, mapping, tmp_path / "out")
    assert info.value.in_language("ja") == (
        "deals.csv に列 'Amount' がありません(m.yaml: tables.opportunities.columns.amount で必要)。エクスポートの列: 'Id', 'Stage', "
        "'Created'。\n  対処方法: エクスポートの見出しをそのままマッピングに書くか、その列を含めて出力し直すか、列がないこともあるなら"
        "規則に optional: true を付けてください。")


def test_a_mapping_mistake_in_japanese(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("tables:\n  opportunities:\n    file: deals.csv\n    colums: {}\n", encoding="utf-8")
    with pytest.raises(WorkbookError) as info:
        load_mapping(mapping)
    assert str(info.value).startswith("m.yaml: tables.opportunities: unknown key 'colums' (did you mean 'columns'?)")
    assert info.value.in_language("ja").startswith("m.yaml: tables.opportunities: 不明なキー 'colums' です('columns' のことですか?)\n"
                                                   "  対処方法: ここで使えるキーは次のものだけです: ")


# =========================================================================== every code: both languages, same placeholders
def _literal_first_args(name: str) -> set[str]:
    found = set()
    for path in INGEST_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def test_every_ingest_code_and_phrase_has_both_languages_with_the_same_placeholders():
    labels = label_table()
    codes = _literal_first_args("coded_error")
    assert {"unconvertible", "missing_column", "no_export_file", "mapping_unknown_key", "mojibake"} <= codes
    assert codes <= set(ERROR_CODES), codes - set(ERROR_CODES)
    keys = {key for code in codes for variant in ERROR_CODES[code] for key in error_keys(code, variant)}
    # the Phrases: named as they are, or built from a prefix (problem_not_{what}, part_order_{order}, part_stage_line...)
    keys |= _literal_first_args("Phrase") | {k for k in labels if k.startswith(("part_", "problem_", "fix_topic_"))}
    assert len(keys) > 250
    for key in sorted(keys):
        assert key in labels, key
        en, ja = labels[key]["en"], labels[key]["ja"]
        assert (en.strip() and ja.strip()) or key in ("part_comma", "part_or"), key   # separators
        assert placeholders(ja) == placeholders(en), key
        assert CJK.search(ja) or not re.sub(r"\{\w+\}|[\s,;:.()、]|or", "", ja), key   # a join of parts may hold only them
        assert len(CJK.findall(en)) < 12, key   # English (a few Japanese examples such as 令和06年 allowed)
    assert set(ERROR_SHARED_FIX.values()) <= set(labels)


def test_a_phrase_says_its_parts_in_either_language():
    rows = Phrase("part_rows_more", rows="2, 3", more=4)
    assert (rows, rows.in_language("ja")) == ("rows 2, 3 (+4 more)", "2, 3行目ほか4行")
    line = Phrase("part_stage_line_amount", value="'X'", count=Phrase("part_count_row", count=1), rows=Phrase("part_row", rows="7"),
                  amount="8,000")
    assert (line, line.in_language("ja")) == ("'X': 1 row (row 7), amount 8,000", "'X': 1行(7行目)、金額 8,000")
    import pickle

    assert pickle.loads(pickle.dumps(line)).in_language("ja") == line.in_language("ja")


# =========================================================================== no English sentence of its own left
def test_no_ingest_module_raises_a_workbook_error_with_an_english_sentence():
    left = []
    for path in INGEST_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("WorkbookError", "MissingColumnError",
                                                                                  "ConfigError", "DateAsWritten", "MonthWithoutDay"):
                if node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp)):
                    left.append(f"{path.name}:{node.lineno}")
    assert left == []


# =========================================================================== the command's language
def test_the_command_speaks_lang_else_the_locale(tmp_path, capsys, monkeypatch):
    args = ["--exports", str(CASES / "02b-multicurrency-inline"), "--mapping", "salesforce_en"]
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    for var in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    assert ingest_main(args + ["--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: report1743500000002.csv: マッピングで変換できない値があります") and "対処方法: 設定に為替レート" in err
    assert ingest_main(args + ["--out", str(tmp_path / "b"), "--lang", "en"]) == 2
    assert capsys.readouterr().err.startswith("error: report1743500000002.csv: values the mapping cannot convert")
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert ingest_main(args + ["--out", str(tmp_path / "c"), "--lang", "ja"]) == 2
    assert "金額が複数の通貨(USD 2行、EUR 1行、JPY 1行)" in capsys.readouterr().err
    assert ingest_main(["--mapping", "salesforce_en", "--lang", "ja"]) == 2
    assert capsys.readouterr().err.endswith("error: --mapping と --out を指定してください(ファイルのエクスポートを読むときは --exports も)\n")
    assert ingest_main(args + ["--out", str(tmp_path / "d"), "--start", "2025/04/01", "--lang", "ja"]) == 2
    assert capsys.readouterr().err == ("error: --start は YYYY-MM-DD の日付で指定してください(指定された値: '2025/04/01')\n"
                                       "  対処方法: 例: --start 2025-04-01\n")
