"""The shipped mappings against the data dictionary, and a new user's exports (tests/fixtures/newuser2, README there):
canonical_ja reads every Japanese name docs/data_dictionary.md documents (the sales feedback columns, touches); a
column named like a contract column that a mapping leaves unread is named (columns_not_mapped); a leads-only export
ingests as a leads-only folder (leads_only_export); an amount headed 金額（千円） is refused naming its unit; the
HubSpot Japanese portal's deal headers; an "Opportunities with Products" report refused as such; every mistake of a
mapping reported at once. Expected values by hand from the fixtures' rows."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data.ingest import IngestValidationError, ingest
from helpers.data.load import load_workbook
from helpers.data.mapping import load_mapping
from helpers.data.mapping_values import _header_key
from helpers.data.periods import parse_period
from helpers.data.schema import JA_NAMES, TABLES
from helpers.errors import WorkbookError
from helpers.metrics.core import core_metrics
from helpers.metrics.lead_feedback import feedback_of
from helpers.metrics.source import FrameSource

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "fixtures" / "newuser2"


def _documented() -> dict[str, dict[str, tuple[str, ...]]]:
    """docs/data_dictionary.md's tables: {table: {column: its Japanese names}} from each `## NAME.csv` section's rows
    `| column | 日本語 | ...` (`industry, company_size | 業種, 企業規模` pairs the names; `金額 (費用)` is 金額 or 費用)."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    table = None
    for line in (ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8").splitlines():
        head = re.match(r"## (\w+)\.csv", line)
        if head:
            table = head.group(1)
            out[table] = {}
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if table is None or len(cells) < 3 or not re.fullmatch(r"[a-z_]+(, [a-z_]+)*", cells[0]) or cells[0] == "column":
            continue
        names = [n.strip() for n in cells[0].split(",")]
        ja = [re.sub(r"[()]", " ", j).split() for j in cells[1].split(",")]
        for name, jas in zip(names, ja if len(ja) == len(names) else [sum(ja, [])] * len(names)):
            out[table][name] = tuple(jas)
    return out


def test_the_dictionary_the_schema_and_canonical_ja_name_the_same_columns():
    documented = _documented()
    assert set(documented) == set(TABLES)
    for table, columns in documented.items():
        assert list(columns) == TABLES[table].column_names, table
        assert columns == JA_NAMES[table], table
    mp = load_mapping("canonical_ja")
    assert set(mp.tables) == set(TABLES)
    for table, columns in JA_NAMES.items():
        for column, ja in columns.items():
            rule = mp.tables[table].rule(column)
            assert rule is not None, (table, column)
            keys = {_header_key(c) for c in rule.columns}
            for name in (column, *ja):
                assert _header_key(name) in keys, (table, column, name)


def test_the_shipped_mappings_map_only_canonical_columns_and_read_every_name_twice_at_most():
    from helpers.data.mapping_spec import shipped_mappings

    for name in shipped_mappings():
        mp = load_mapping(name)
        for table, tm in mp.tables.items():
            assert {r.target for r in tm.columns} <= set(TABLES[table].column_names), (name, table)


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    out = tmp_path_factory.mktemp("fb") / "data"
    return ingest(CASES / "canonical-ja-feedback-touches", "canonical_ja", out)


def test_canonical_ja_reads_the_sales_feedback_and_the_touches(feedback):
    out = feedback.out
    leads = pd.read_csv(out / "leads.csv", dtype=str, keep_default_na=False)
    assert list(leads.columns) == ["lead_id", "created_at", "channel", "industry", "company_size", "mql_at", "sql_at",
                                   "opportunity_id", "disqualified_at", "disqualify_reason", "recycled_at"]
    assert leads[["disqualified_at", "disqualify_reason", "recycled_at"]].values.tolist() == [
        ["", "", ""], ["2024-04-20", "予算なし", ""], ["", "", "2024-05-10"], ["", "", ""]]
    touches = pd.read_csv(out / "touches.csv", dtype=str)
    assert touches.values.tolist() == [["T1", "L1", "2024-04-01", "広告", "ad_click"], ["T2", "L1", "2024-04-02", "ウェブ", "form"]]
    text = "".join(p.read_text(encoding="utf-8") for p in out.glob("*.csv"))
    assert "山田" not in text and "@example.jp" not in text   # 氏名 / メール never written
    codes = [w["code"] for w in json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))["warnings"]]
    assert "columns_not_mapped" not in codes and "file_not_used" not in codes


def test_the_feedback_of_fy2024q1_is_the_hand_count(feedback):
    wb = load_workbook(feedback.out, load_config(feedback.out))
    period = parse_period("FY2024Q1", 4)
    got = feedback_of(FrameSource(wb.leads, wb.opportunities), period.start, period.end, wb.as_of)
    # MQLs L1..L4 (Apr-May 2024): L1, L4 accepted (SQL日), L2 disqualified 2024-04-20 (予算なし), L3 recycled 2024-05-10
    assert got["columns_missing"] == []
    p = got["period"]
    assert (p["mqls"], p["accepted"], p["disqualified"], p["recycled"], p["pending"]) == (4, 2, 1, 1, 0)
    assert p["disqualify_reasons"] == {"予算なし": 1.0}
    assert len(wb.touches) == 2


def test_a_contract_column_a_mapping_leaves_unread_is_named(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "opportunities.csv").write_text("商談ID,商談作成日,結果\nS1,2024-04-01,open\n", encoding="utf-8")
    (exports / "leads.csv").write_text("リードID,作成日,チャネル,失格日,失格理由,氏名\nL1,2024-04-01,web,2024-04-05,予算なし,山田\n",
                                       encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("tables:\n  opportunities:\n    file: opportunities.csv\n    columns:\n      opportunity_id: 商談ID\n"
                       "      created_at: 商談作成日\n      outcome: 結果\n  leads:\n    file: leads.csv\n    columns:\n"
                       "      lead_id: リードID\n      created_at: 作成日\n      channel: チャネル\n", encoding="utf-8")
    result = ingest(exports, mapping, tmp_path / "out")
    found = [w for w in result.warnings if w.code == "columns_not_mapped"]
    assert len(found) == 1 and found[0].file == "leads.csv" and found[0].count == 2
    assert found[0].message == ("the export's column(s) '失格日', '失格理由' look like the data dictionary's leads columns, but "
                                "the mapping does not read them: they were left out of leads.csv")
    assert found[0].fix == ("To use them, map them in a mapping that extends this one, under m.yaml: tables.leads.columns: "
                            "disqualified_at: 失格日; disqualify_reason: 失格理由.")
    assert "失格日" in result.summary("ja") and "データ辞書の leads の列に見えますが" in result.summary("ja")


@pytest.mark.parametrize("case, mapping, source, leads", [
    ("hubspot-contacts-only", "hubspot", "hubspot-crm-exports-all-contacts-2025-04-01.xlsx", 4),
    ("sf-lead-report-only", "salesforce_en", "report1790000000300.csv", 3)])
def test_a_leads_only_export_ingests_as_a_leads_only_folder(tmp_path, case, mapping, source, leads):
    result = ingest(CASES / case, mapping, tmp_path / "out")
    assert not (tmp_path / "out" / "opportunities.csv").exists()
    assert len(pd.read_csv(tmp_path / "out" / "leads.csv")) == leads
    only = [w for w in result.warnings if w.code == "leads_only_export"]
    assert len(only) == 1 and only[0].file == source
    assert only[0].message == (f"{source} is a leads export (it has the columns of tables.leads, not those of "
                               "tables.opportunities), and the folder holds no opportunities export: the data folder holds "
                               "leads only. The lead funnel is reported; every figure that needs deals (pipeline, win rate, revenue, velocity) is "
                               "left empty with the reason no_opportunities, not 0")
    assert f"{mapping}.yaml: tables.opportunities" in only[0].fix
    assert f"{source} はリードの出力です" in result.summary("ja")
    text = (tmp_path / "out" / "leads.csv").read_text(encoding="utf-8")
    assert "@example.com" not in text and "Ann" not in text


def test_the_hubspot_contacts_funnel_of_2025q1(tmp_path):
    ingest(CASES / "hubspot-contacts-only", "hubspot", tmp_path / "out")
    wb = load_workbook(tmp_path / "out", load_config(tmp_path / "out"))
    funnel = core_metrics(wb, parse_period("2025Q1", 1))["funnel"]["period"]
    assert (funnel["leads"], funnel["mqls"], funnel["sqls"]) == (4, 2, 1)
    assert funnel["opportunities"] is None and funnel["null_reasons"]["opportunities"] == "no_opportunities"


def test_a_deals_export_lacking_its_id_is_refused_without_offering_optional(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "report1.csv").write_text("Opportunity Name,Created Date,Close Date,Stage,Amount\nA,1/10/2025,2/20/2025,"
                                         "Closed Won,100\n", encoding="utf-8")
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "salesforce_en", tmp_path / "out")
    assert err.value.code == "missing_column" and err.value.params["variant"] == "required"
    assert "optional" not in err.value.fix and "optional" not in err.value.in_language("ja").split("対処方法")[1]
    assert err.value.fix == ("Put the export's exact header in the mapping (in a mapping that extends this one), or export "
                             "again with that column: the contract needs it in every export of this table.")


def test_an_amount_in_thousands_of_yen_is_refused_naming_its_unit(tmp_path):
    with pytest.raises(WorkbookError) as err:
        ingest(CASES / "canonical-ja-senen-header", "canonical_ja", tmp_path / "out")
    e = err.value
    assert e.code == "amount_unit_in_header" and not (tmp_path / "out").exists()
    assert str(e).split("\n")[0] == ("商談.csv: no column '金額' (amount); the column '金額（千円）' is it with its unit in the header: 千円, so "
                      "each value is in units of 1,000 (1,200 means 1,000 × 1,200). A unit in a header is not read, and the "
                      "values would be taken as whole currency units (1,000 times too small)")
    assert e.in_language("ja") == (
        "商談.csv: 列 '金額'(amount)がありません。列 '金額（千円）' が見出しに単位を書いたその列です。単位は 千円 で、値は 1,000 単位です"
        "(1,200 は 1,200 × 1,000)。見出しの単位は読み取らないため、そのままでは値を 1,000 分の1 に読んでしまいます\n"
        "  対処方法: 列の値を円などの1単位に直し(各値に 1,000 を掛ける。Excel などで)、列名を '金額' にしてから、もう一度取り込んでください。"
        "マッピングに単位の指定はありません(単位を推測することはしません)。")


def test_the_hubspot_japanese_portal_deal_headers_are_read(tmp_path):
    ingest(CASES / "hubspot-ja", "hubspot", tmp_path / "out")
    opps = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str, keep_default_na=False)
    assert opps[["opportunity_id", "outcome", "amount", "closed_at"]].values.tolist() == [
        ["9001", "won", "1200000", "2025-02-10"], ["9002", "lost", "800000", "2025-03-01"],
        ["9003", "open", "500000", ""]]
    assert opps["owner"].tolist() == ["山田 太郎", "山田 太郎", "佐藤 花子"]


def test_an_opportunities_with_products_report_is_refused_as_such(tmp_path):
    with pytest.raises(WorkbookError) as err:
        ingest(CASES / "sf-opps-with-products", "salesforce_en", tmp_path / "out")
    e = err.value
    assert e.code == "products_report"
    assert str(e).split("\n")[0] == ("report1790000000200.csv looks like an 'Opportunities with Products' report: one row per product line, "
                      "the deal repeated. Opportunity ID '0065g00000AbCdE' is on rows 2 and 3, which differ only in the "
                      "product columns ('Product Name', 'Quantity', 'Total Price'); 1 such repeat(s)")
    assert e.fix.startswith("Export the opportunities report instead (report type Opportunities, without products")
    assert e.in_language("ja").startswith("report1790000000200.csv は「商品を含む商談」レポートのようです(商品の明細ごとに1行で、"
                                          "商談が繰り返されます)。商談ID '0065g00000AbCdE' が 2 行目と 3 行目にあり")


def test_a_products_report_names_each_repeats_own_first_row(tmp_path):
    """Deals F, A, G, A, G, A (export rows 2-7), A and G on product lines: the repeats are rows 5 (A, first on row 3),
    6 (G, first on 4) and 7 (A, first on 3); the first pair named is rows 3 and 5, 3 repeats (counted by hand)."""
    exports = tmp_path / "exports"
    exports.mkdir()
    head, a1, a2, f, g = (CASES / "sf-opps-with-products" / "report1790000000200.csv").read_text(encoding="utf-8").splitlines()[:5]
    g2, a3 = g.replace('"Licence","6"', '"Onboarding","1"'), a2.replace('"Onboarding"', '"Training"')
    (exports / "r.csv").write_text("\n".join([head, f, a1, g, a2, g2, a3]) + "\n", encoding="utf-8")
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "salesforce_en", tmp_path / "out")
    e = err.value
    assert (e.code, e.params["first"], e.params["repeat"], e.params["count"]) == ("products_report", 3, 5, 3)
    assert str(e).split("\n")[0] == ("r.csv looks like an 'Opportunities with Products' report: one row per product line, "
                                     "the deal repeated. Opportunity ID '0065g00000AbCdE' is on rows 3 and 5, which differ "
                                     "only in the product columns ('Product Name', 'Quantity', 'Total Price'); 3 such repeat(s)")


def test_a_repeated_id_names_its_first_row(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    lines = (CASES / "sf-opps-with-products" / "report1790000000200.csv").read_text(encoding="utf-8").splitlines()
    lines = [lines[0], lines[1], lines[3], lines[4], lines[3].replace("Closed Lost", "Closed Won")]
    (exports / "r.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(IngestValidationError) as err:
        ingest(exports, "salesforce_en", tmp_path / "out")
    (f,) = [f for f in err.value.findings if f.code == "duplicate_id"]
    assert f.rows == (3, 5) and "rows 3, 5 of out.rejected/opportunities.csv" in f.message   # the first row and the repeat
    assert "同じ 'opportunity_id' が複数の行にあります" in err.value.in_language("ja")


def test_every_mistake_of_a_mapping_is_reported_at_once():
    with pytest.raises(WorkbookError) as err:
        load_mapping(CASES / "mappings" / "bad_typo.yaml")
    e = err.value
    assert e.code == "mapping_errors" and e.params["count"] == 2
    text = str(e)
    assert text.startswith("bad_typo.yaml: 2 problems in the mapping:\n")
    assert ("  - bad_typo.yaml: tables.opportunities.columns.outcome: unknown key 'vaules' (did you mean 'values'?)" in text
            and "  - bad_typo.yaml: tables.opportunities.columns: unknown canonical column 'closed_date' (did you mean "
                "'closed_at'?)" in text)
    ja = e.in_language("ja")
    assert "マッピングに 2 件の問題があります" in ja and "不明なキー 'vaules' です('values' のことですか?)" in ja
    assert "不明な正規の列 'closed_date' です('closed_at' のことですか?)" in ja


def test_a_leads_export_lacking_its_channel_is_offered_a_default():
    """channel is required, yet one value may be right for every row of an export (one channel): its fix offers
    optional: true with a default (helpers.data.cells.DEFAULTABLE), which an id's or an outcome's fix never does."""
    from helpers.data.cells import missing_column_error

    err = missing_column_error(("Lead Source",), ["Lead ID", "Created Date"], "leads.csv",
                               "m.yaml: tables.leads.columns.channel")
    assert err.code == "missing_column" and err.params["variant"] == "required_default"
    assert err.fix.endswith("If the export never has it and one value is right for every row (a single channel, "
                            "say), give the rule that value: optional: true with default: VALUE.")
    assert "optional: true と default: 値" in err.in_language("ja")
    for rule in ("opportunities.columns.outcome", "leads.columns.lead_id"):
        err = missing_column_error(("Stage",), ["Lead ID"], "x.csv", f"m.yaml: tables.{rule}")
        assert err.params["variant"] == "required" and "default" not in err.fix
