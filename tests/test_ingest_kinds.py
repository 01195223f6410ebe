"""Real exports are read right or refused, kind by kind (docs/ingest.md, "What the ingest does with ...").

Two sources of inputs:
- the example exports in tests/fixtures/cases/exports/ (their README states the right figures), each through
  `helpers.data.ingest` here and through `helpers.report.run --mapping` in tests/test_ingest_cases_run.py;
- small inputs made here for each kind: one that must read right and one that must be refused.
Every expected figure is worked out by hand in the comments.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from helpers.data.ingest import ingest, main
from helpers.data.load import load_workbook
from helpers.data.mapping import load_mapping, parse_datetime
from helpers.data.values import parse_wareki
from helpers.errors import WorkbookError
from helpers.metrics.pipeline import pipeline_metrics

CASES = Path(__file__).parent / "fixtures" / "cases" / "exports"
Q1 = (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-31"))


def case(name: str) -> Path:
    return CASES / name


def q1(wb) -> dict:
    """Pipeline figures of calendar 2025Q1."""
    return pipeline_metrics(wb.opportunities, Q1[0], Q1[1], wb.as_of)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def mapping(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    return write(tmp_path / name, text)


def report_json(out: Path) -> dict:
    return json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))


def codes(out: Path) -> dict[str, int]:
    return {w["code"]: w["count"] for w in report_json(out)["warnings"]}


SF_HEADER = '"Opportunity Name","Opportunity ID","Created Date","Close Date","Stage","Amount","Lead Source"\n'


# =========================================================================== 1. day-first dates
def test_case_03_ambiguous_day_first_is_refused_then_read_with_date_order(tmp_path):
    with pytest.raises(WorkbookError) as info:
        ingest(case("03-day-first-dates"), "salesforce_en", tmp_path / "out")
    text = str(info.value)
    assert "column 'Created Date' -> created_at (rows 2, 3, 4, 5): every date has day and month both 12 or less" in text
    assert "date_order: dmy" in text and "extends: salesforce_en" in info.value.fix
    assert not (tmp_path / "out").exists()

    m = mapping(tmp_path, "extends: salesforce_en\ndate_order: dmy\n")
    res = ingest(case("03-day-first-dates"), m, tmp_path / "out")
    assert res.tables["opportunities"]["date_order"]["created_at"]["order"] == "dmy"
    wb = load_workbook(tmp_path / "out")
    f = q1(wb)
    # created 3/2, 5/1, 7/1, 2/3 (all Q1); won A 3 Feb -> 10 Mar (35 d), B 5 Jan -> 11 Feb (37 d), D 2 Mar -> 4 Mar (2 d)
    assert (f["opportunities_created"], f["won_count"], f["lost_count"]) == (4, 3, 1)
    assert f["win_rate"] == 0.75
    assert f["won_revenue"] == 36_000.0  # 10,000 + 20,000 + 6,000
    assert f["sales_cycle_days"] == pytest.approx((35 + 37 + 2) / 3)  # 24.67


def test_case_03b_one_day_over_12_settles_the_column(tmp_path):
    res = ingest(case("03b-day-first-mixed"), "salesforce_en", tmp_path / "out")
    d = res.tables["opportunities"]["date_order"]
    assert d["created_at"]["order"] == "dmy" and "'15/01/2025' (row 6)" in d["created_at"]["how"]
    assert "numeric dates read day-first (dmy" in res.summary()
    assert codes(tmp_path / "out")["date_order_detected"] == 5
    raw = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert raw["created_at"].tolist() == ["2025-02-03", "2025-01-05", "2025-01-07", "2025-03-02", "2025-01-15"]
    f = q1(load_workbook(tmp_path / "out"))
    # won A 10,000 + B 20,000 + D 6,000 + E 8,000 = 44,000; lost C
    assert (f["opportunities_created"], f["won_count"], f["lost_count"], f["won_revenue"]) == (5, 4, 1, 44_000.0)


def test_day_first_settled_by_another_column_of_the_same_export(tmp_path):
    # Created Date is ambiguous by itself (04/01, 06/02); Close Date 25/02 proves day-first for the whole export
    exports = tmp_path / "exports"
    write(exports / "report1.csv", SF_HEADER + '"A","0065g00000XyZa1","04/01/2025","25/02/2025","Closed Won","1,000.00","Web"\n'
                                              '"B","0065g00000XyZa2","06/02/2025","03/03/2025","Closed Lost","500.00","Web"\n')
    res = ingest(exports, "salesforce_en", tmp_path / "out")
    assert res.tables["opportunities"]["date_order"]["created_at"]["how"] == "from column 'Close Date' of the same export (day-first)"
    raw = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert raw["created_at"].tolist() == ["2025-01-04", "2025-02-06"]
    assert raw["closed_at"].tolist() == ["2025-02-25", "2025-03-03"]


def test_month_first_us_export_and_full_width_digits_still_read(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", SF_HEADER + '"A","0065g00000XyZa1","1/22/2025","２/３/２０２５","Closed Won","1,000.00","Web"\n'
                                              '"B","0065g00000XyZa2","1/5/2025 9:05 PM","3/4/2025","Closed Lost","500.00","Web"\n')
    ingest(exports, "salesforce_en", tmp_path / "out")
    raw = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert raw["created_at"].tolist() == ["2025-01-22", "2025-01-05"]  # 9:05 PM parsed, the day kept
    assert raw["closed_at"].tolist() == ["2025-02-03", "2025-03-04"]  # month-first, as 1/22 proves


def test_two_orders_in_one_column_are_refused(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", SF_HEADER + '"A","0065g00000XyZa1","1/22/2025","2/25/2025","Closed Won","1,000.00","Web"\n'
                                              '"B","0065g00000XyZa2","22/01/2025","3/4/2025","Closed Lost","500.00","Web"\n')
    with pytest.raises(WorkbookError, match=r"mixes day-first dates such as '22/01/2025' \(row 3\) and month-first dates "
                                            r"such as '1/22/2025' \(row 2\) in one column"):
        ingest(exports, "salesforce_en", tmp_path / "out")


def test_stated_order_contradicted_by_a_value_is_refused(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", SF_HEADER + '"A","0065g00000XyZa1","1/22/2025","2/25/2025","Closed Won","1,000.00","Web"\n')
    m = mapping(tmp_path, "extends: salesforce_en\ndate_order: dmy\n")
    with pytest.raises(WorkbookError, match=r"date_order is dmy but '1/22/2025' \(row 2\) can only be month-first"):
        ingest(exports, m, tmp_path / "out")


# =========================================================================== 2. Japanese era dates
@pytest.mark.parametrize("text, expected", [
    ("令和6年10月7日", dt.datetime(2024, 10, 7)),
    ("令和06年10月07日", dt.datetime(2024, 10, 7)),
    ("R6.10.7", dt.datetime(2024, 10, 7)),
    ("r06/10/07", dt.datetime(2024, 10, 7)),
    ("令和元年5月1日", dt.datetime(2019, 5, 1)),       # the first day of Reiwa
    ("平成31年4月30日", dt.datetime(2019, 4, 30)),     # the last day of Heisei
    ("平成元年1月8日", dt.datetime(1989, 1, 8)),       # the first day of Heisei
    ("H1.1.8", dt.datetime(1989, 1, 8)),
    ("昭和64年1月7日", dt.datetime(1989, 1, 7)),       # the last day of Showa
    ("昭和50年4月1日", dt.datetime(1975, 4, 1)),       # Showa 1 = 1926: 1926 + 49
    ("S50.4.1", dt.datetime(1975, 4, 1)),
    ("令和６年１０月７日", dt.datetime(2024, 10, 7)),  # full-width digits
    ("令和6年10月7日 14:30", dt.datetime(2024, 10, 7, 14, 30)),
])
def test_wareki_dates(text, expected):
    assert parse_wareki(text) == expected
    assert parse_datetime(text, ("%Y/%m/%d",)) == expected  # read whatever the format list says


@pytest.mark.parametrize("text", ["平成31年5月1日", "令和元年4月30日", "昭和64年1月8日", "平成1年1月7日", "令和0年1月1日",
                                  "令和6年13月1日", "令和6年2月30日", "X6.10.7"])
def test_wareki_dates_outside_their_era_are_refused(text):
    with pytest.raises(ValueError):
        parse_wareki(text)


@pytest.mark.parametrize("fmt", ["%y/%m/%d", "令和%y年%m月%d日", "%d.%m.%y"])
def test_two_digit_year_formats_are_forbidden(tmp_path, fmt):
    m = mapping(tmp_path, f"""
tables:
  opportunities:
    file: x.csv
    columns: {{opportunity_id: Id, created_at: {{column: Created, format: "{fmt}"}}, outcome: {{constant: open}}}}
""")
    with pytest.raises(WorkbookError, match=r"uses %y \(a two-digit year\): it reads 令和06年 or 06/10/07 as 2006") as info:
        load_mapping(m)
    assert "%Y" in info.value.fix


def test_case_07_wareki_serials_full_width_and_yen_signs(tmp_path):
    res = ingest(case("07-ja-wareki-dates"), "salesforce_ja", tmp_path / "out")
    assert res.tables["opportunities"]["encoding"] == "cp932"
    raw = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    # 2024/10/01, 2024-10-03, ２０２４/１０/０５, 令和6年10月7日; closes 2024/12/21, 45647 (Excel serial), ２０２４/１２/２０, 令和6年12月24日
    assert raw["created_at"].tolist() == ["2024-10-01", "2024-10-03", "2024-10-05", "2024-10-07"]
    assert raw["closed_at"].tolist() == ["2024-12-21", "2024-12-21", "2024-12-20", "2024-12-24"]
    assert raw["amount"].tolist() == ["1200000", "1500000", "800000", "900000"]  # ￥, 円, \ (cp932 yen), plain
    assert raw["owner"].tolist() == ["髙橋", "山﨑", "㈱テスト担当", "髙橋"]  # 髙, 﨑, ㈱ kept (cp932, not shift_jis)
    wb = load_workbook(tmp_path / "out")
    f = pipeline_metrics(wb.opportunities, pd.Timestamp("2024-10-01"), pd.Timestamp("2024-12-31"), wb.as_of)
    assert (f["won_count"], f["lost_count"], f["won_revenue"]) == (3, 1, 3_600_000.0)
    assert f["win_rate_by_amount"] == pytest.approx(3_600_000 / 4_400_000)


def test_case_07b_two_digit_era_year_is_never_2006(tmp_path):
    ingest(case("07b-ja-wareki-two-digit"), "salesforce_ja", tmp_path / "out")
    raw = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert raw["created_at"].tolist() == ["2024-10-07", "2024-10-08"]
    assert raw["closed_at"].tolist() == ["2024-12-24", "2024-12-25"]


def test_wareki_in_an_export_and_an_era_date_outside_its_era_refused(tmp_path):
    header = "商談名,商談ID,作成日,完了予定日,フェーズ,金額\n"
    exports = tmp_path / "exports"
    write(exports / "商談.csv", header + "A,006J000000AaAa1,平成31年4月26日,令和元年5月7日,成立,100000\n", "cp932")
    ingest(exports, "salesforce_ja", tmp_path / "out")
    raw = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert (raw["created_at"][0], raw["closed_at"][0]) == ("2019-04-26", "2019-05-07")
    bad = tmp_path / "bad"
    write(bad / "商談.csv", header + "A,006J000000AaAa1,平成31年5月7日,令和元年5月8日,成立,100000\n", "cp932")
    with pytest.raises(WorkbookError, match=r"column '作成日' -> created_at \(row 2\): dates that cannot be read as written: '平成31年5月7日': not a day of the 平成 era"):
        ingest(bad, "salesforce_ja", tmp_path / "out2")


# =========================================================================== 3. several currencies
RATES_USD = """currency:
  code: USD
  symbol: "$"
  decimals: 2
  rates:
    - {currency: JPY, rate: 0.0066667}
    - {currency: EUR, rate: 1.08}
"""


def test_case_02_converted_column_in_usd(tmp_path):
    res = ingest(case("02-multicurrency-columns"), "salesforce_en", tmp_path / "out")
    assert res.currency["code"] == "USD" and "Amount (converted)" in res.currency["how"]
    assert "Amounts are in USD" in res.summary() and "the reports show USD" in res.summary()
    assert report_json(tmp_path / "out")["currency"]["code"] == "USD"
    assert codes(tmp_path / "out")["currency_converted_column"] == 4
    wb = load_workbook(tmp_path / "out")
    f = q1(wb)
    # won A 10,000 (converted from JPY 1,500,000) + B 10,000; lost C 5,400 (EUR 5,000 converted)
    assert (f["won_count"], f["won_revenue"], f["avg_deal_size"]) == (2, 20_000.0, 10_000.0)
    assert f["win_rate_by_amount"] == pytest.approx(20_000 / 25_400)  # 0.7874
    from helpers.views import fmt

    assert (wb.config.currency_code, wb.config.currency_symbol, wb.config.currency_decimals) == ("USD", "$", 2)
    assert fmt.money(f["won_revenue"], wb.config) == "$20,000.00"


def test_case_02b_inline_currencies_refused_without_rates_then_converted(tmp_path):
    with pytest.raises(WorkbookError) as info:
        ingest(case("02b-multicurrency-inline"), "salesforce_en", tmp_path / "out")
    assert "the amounts are in several currencies (USD 2 rows, EUR 1 row, JPY 1 row) and the settings give no exchange rates" in str(info.value)
    assert "currency.rates" in info.value.fix
    settings = write(tmp_path / "settings.yaml", RATES_USD)
    from helpers.config import load_config

    res = ingest(case("02b-multicurrency-inline"), "salesforce_en", tmp_path / "out", config=load_config(None, settings))
    assert res.currency["code"] == "USD"
    raw = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    # 1,500,000 x 0.0066667 = 10,000.05; USD as is; 5,000 x 1.08 = 5,400
    assert raw["amount"].tolist() == ["10000.05", "10000.00", "5400", "8000.00"]
    f = q1(load_workbook(tmp_path / "out"))
    assert f["won_revenue"] == pytest.approx(20_000.05)
    assert codes(tmp_path / "out")["currency_converted_with_rates"] == 2


def test_rates_with_valid_from_and_missing_rate(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", SF_HEADER + '"A","0065g00000XyZa1","1/5/2025","1/20/2025","Closed Won","EUR 100","Web"\n'
                                              '"B","0065g00000XyZa2","1/6/2025","3/20/2025","Closed Won","EUR 100","Web"\n'
                                              '"C","0065g00000XyZa3","1/7/2025","3/21/2025","Closed Won","USD 50","Web"\n')
    from helpers.config import load_config

    settings = write(tmp_path / "s.yaml", "currency:\n  code: USD\n  rates:\n    - {currency: EUR, rate: 1.04}\n"
                                          "    - {currency: EUR, rate: 1.10, valid_from: 2025-03-01}\n")
    ingest(exports, "salesforce_en", tmp_path / "out", config=load_config(None, settings))
    raw = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert raw["amount"].tolist() == ["104", "110", "50"]  # closed 1/20 -> 1.04; closed 3/20 -> 1.10 (valid from 3/1)
    only_gbp = write(tmp_path / "g.yaml", "currency:\n  code: USD\n  rates:\n    - {currency: GBP, rate: 1.25}\n")
    with pytest.raises(WorkbookError, match=r"no exchange rate to USD in the settings for EUR \(2 rows\)"):
        ingest(exports, "salesforce_en", tmp_path / "out2", config=load_config(None, only_gbp))


def test_unmarked_amount_among_several_currencies_is_refused(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", SF_HEADER + '"A","0065g00000XyZa1","1/5/2025","1/20/2025","Closed Won","EUR 100","Web"\n'
                                              '"B","0065g00000XyZa2","1/6/2025","3/20/2025","Closed Won","100","Web"\n'
                                              '"C","0065g00000XyZa3","1/7/2025","3/21/2025","Closed Won","USD 50","Web"\n')
    from helpers.config import load_config

    settings = write(tmp_path / "s.yaml", "currency:\n  code: USD\n  rates:\n    - {currency: EUR, rate: 1.04}\n")
    with pytest.raises(WorkbookError, match=r"amount \(row 3\): amounts without a currency among several currencies"):
        ingest(exports, "salesforce_en", tmp_path / "out", config=load_config(None, settings))


def test_one_inline_currency_becomes_the_report_currency_and_a_conflicting_setting_is_refused(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", SF_HEADER + '"A","0065g00000XyZa1","1/5/2025","1/20/2025","Closed Won","£1,250.50","Web"\n')
    res = ingest(exports, "salesforce_en", tmp_path / "out")
    assert res.currency["code"] == "GBP"
    wb = load_workbook(tmp_path / "out")
    from helpers.views import fmt

    assert fmt.money(1250.5, wb.config) == "£1,250.50"
    (tmp_path / "out" / "workbook.yaml").write_text("currency:\n  code: JPY\n", encoding="utf-8")
    from helpers.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=r"currency.code is JPY but the amounts in .* are in GBP"):
        load_config(tmp_path / "out")


def test_plain_amounts_use_the_settings_currency_and_say_so(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", SF_HEADER + '"A","0065g00000XyZa1","1/5/2025","1/20/2025","Closed Won","1,250","Web"\n')
    res = ingest(exports, "salesforce_en", tmp_path / "out")
    assert res.currency is None and "currency" not in {k for k, v in report_json(tmp_path / "out").items() if v}
    assert codes(tmp_path / "out")["currency_not_in_data"] == 1
    assert load_workbook(tmp_path / "out").config.currency_code == "JPY"  # the settings' currency, as the warning says


CODE_HEADER = '"Opportunity Name","Opportunity ID","Created Date","Close Date","Stage","Amount Currency","Amount","Lead Source"\n'


def coded_deals(codes_written: list[str]) -> str:
    """Three deals of 2025Q1 (won 1,500,000 and 10,000, lost 5,000) with the currency cells `codes_written`."""
    rows = [("A", "0065g00000AbCd1", "1/10/2025", "2/20/2025", "Closed Won", "1,500,000"),
            ("B", "0065g00000AbCd2", "1/12/2025", "2/25/2025", "Closed Won", "10,000"),
            ("C", "0065g00000AbCd3", "1/15/2025", "3/05/2025", "Closed Lost", "5,000")]
    return CODE_HEADER + "".join(f'"{n}","{i}","{c}","{d}","{s}","{code}","{a}","Web"\n'
                                 for (n, i, c, d, s, a), code in zip(rows, codes_written))


@pytest.mark.parametrize("written", [["円", "円", "円"], ["jpy", "JPY", "Jpy"], ["￥", "¥", "JPY"]])
def test_a_currency_column_of_signs_or_codes_in_any_case_reads_as_its_iso_code(tmp_path, written):
    """円 / ¥ / ￥ (the signs an amount cell reads) and jpy in any case in `Amount Currency` are JPY: the reports show
    ¥, never a currency called 円; won 1,500,000 + 10,000 = 1,510,000."""
    exports = tmp_path / "exports"
    write(exports / "report1.csv", coded_deals(written))
    res = ingest(exports, "salesforce_en", tmp_path / "out")
    assert res.currency["code"] == "JPY"
    wb = load_workbook(tmp_path / "out")
    assert wb.config.currency_code == "JPY"
    assert (q1(wb)["won_count"], q1(wb)["won_revenue"]) == (2, 1_510_000.0)


@pytest.mark.parametrize("written, shown, rows", [(["Yen", "Yen", "Yen"], "'Yen'", "rows 2, 3, 4"),
                                                  (["JPY", "JYP", "JPY"], "'JYP'", "row 3"),
                                                  (["USD", "$", "USD"], "'$'", "row 3")])
def test_a_currency_cell_that_is_no_iso_code_is_refused_naming_it(tmp_path, written, shown, rows):
    """A currency name (Yen), a typo (JYP: it was counted as a second currency) or a bare $ (which dollar?) in
    `Amount Currency` is refused with the column, the rows and the cell; the fix's mapping line then reads the
    amounts without the column (currency_column: [], the settings' currency JPY): won 1,510,000."""
    exports = tmp_path / "exports"
    write(exports / "report1.csv", coded_deals(written))
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "salesforce_en", tmp_path / "out")
    assert f"column 'Amount Currency' -> the currency of amount ({rows}): not ISO 4217 currency codes: {shown}" in str(info.value)
    assert "currency_column: []" in info.value.fix
    m = mapping(tmp_path, "extends: salesforce_en\ntables:\n  opportunities:\n    columns:\n"
                          "      amount: {column: Amount, currency_column: []}\n")
    from helpers.config import load_config

    ingest(exports, m, tmp_path / "out", config=load_config(None, write(tmp_path / "s.yaml", "currency:\n  code: JPY\n")))
    wb = load_workbook(tmp_path / "out")
    assert (wb.config.currency_code, q1(wb)["won_revenue"]) == ("JPY", 1_510_000.0)


def test_an_inline_code_that_is_no_iso_code_is_no_amount():
    """'JYP 1,000' (upper case, no ISO 4217 code) is not an amount, as 'abc 100' was not; real codes in any case are."""
    from helpers.data.values import currency_code_cell, split_currency

    assert split_currency("usd 10,000.00") == ("USD", "10,000.00") and split_currency("JPY 1,500") == ("JPY", "1,500")
    assert split_currency("¥500") == ("JPY", "500") and split_currency("CHF 90") == ("CHF", "90")
    for text in ("JYP 1,000", "ABC 100", "abc 100"):
        with pytest.raises(ValueError):
            split_currency(text)
    assert [currency_code_cell(c) for c in ("円", "¥", "￥", "jpy", " EUR ", "€", "£", "US$", "ＵＳＤ")] == [
        "JPY", "JPY", "JPY", "JPY", "EUR", "EUR", "GBP", "USD", "USD"]


# =========================================================================== 4. stage values nobody mapped
def test_case_04_unmapped_hubspot_stages_refused_then_mapped(tmp_path):
    with pytest.raises(WorkbookError) as info:
        ingest(case("04-hubspot-custom-stages"), "hubspot", tmp_path / "out")
    text = str(info.value)
    assert "'Closed Won Renewal': 2 rows (rows 5, 6), amount 35,000; 'Churned': 1 row (row 7), amount 8,000" in text
    assert "values: {Closed Won Renewal: won, Churned: lost}" in text and "extends: hubspot" in text
    assert not (tmp_path / "out").exists()
    m = mapping(tmp_path, "extends: hubspot\ntables:\n  opportunities:\n    columns:\n      outcome:\n"
                          "        values: {Closed Won Renewal: won, Churned: lost}\n")
    ingest(case("04-hubspot-custom-stages"), m, tmp_path / "out")
    f = q1(load_workbook(tmp_path / "out"))
    # won 12,000 + 20,000 + 15,000; lost New B and Renew C; Contract Sent stays open (listed under open:)
    assert (f["won_count"], f["lost_count"], f["win_rate"], f["won_revenue"]) == (3, 2, 0.6, 47_000.0)


def test_case_04b_numbered_stages_refused_never_four_open_deals(tmp_path):
    with pytest.raises(WorkbookError) as info:
        ingest(case("04b-hubspot-numbered-stages"), "hubspot", tmp_path / "out")
    text = str(info.value)
    assert "'#09 WON': 2 rows (rows 2, 4), amount 32,000; '#05 Proposal': 1 row (row 5), amount 7,000; " \
           "'#10 Closed lost': 1 row (row 3), amount 9,000" in text
    assert 'values: {"#09 WON": won, "#05 Proposal": open, "#10 Closed lost": lost}' in text


def test_flag_columns_decide_whatever_the_stages_are_called(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "hubspot-crm-exports-all-deals.csv",
          "Record ID,Deal Stage,Create Date,Close Date,Amount,Is Closed Won,Is closed\n"
          "1,#09 WON,2025-01-06,2025-02-10,100,true,true\n"
          "2,Churned,2025-01-07,2025-02-11,50,false,true\n"
          "3,#05 Proposal,2025-01-08,,70,false,false\n")
    res = ingest(exports, "hubspot", tmp_path / "out")
    assert res.tables["opportunities"]["value_counts"]["outcome"] == {"lost": 1, "open": 1, "won": 1}
    write(exports / "hubspot-crm-exports-all-deals.csv",
          "Record ID,Deal Stage,Create Date,Close Date,Amount,Is Closed Won,Is closed\n1,#09 WON,2025-01-06,2025-02-10,100,maybe,true\n")
    with pytest.raises(WorkbookError, match=r"Is Closed Won/Is closed \(row 2\): flag values must be"):
        ingest(exports, "hubspot", tmp_path / "out2")


def test_salesforce_report_won_closed_columns_and_explicit_open_list(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", '"Opportunity ID","Created Date","Close Date","Stage","Amount","Won","Closed"\n'
                                   '"0065g00000XyZa1","1/22/2025","2/3/2025","Vertrag unterschrieben","100","1","1"\n'
                                   '"0065g00000XyZa2","1/23/2025","2/4/2025","Verloren","50","0","1"\n'
                                   '"0065g00000XyZa3","1/24/2025","","Angebot","70","0","0"\n')
    res = ingest(exports, "salesforce_en", tmp_path / "out")
    assert res.tables["opportunities"]["value_counts"]["outcome"] == {"lost": 1, "open": 1, "won": 1}
    # without the flag columns the same stages are refused; listed under open: / values: they are read
    write(exports / "report1.csv", '"Opportunity ID","Created Date","Close Date","Stage","Amount"\n'
                                   '"0065g00000XyZa1","1/22/2025","2/3/2025","Vertrag unterschrieben","100"\n'
                                   '"0065g00000XyZa3","1/24/2025","","Angebot","70"\n')
    with pytest.raises(WorkbookError, match=r"'Angebot': 1 row \(row 3\), amount 70; 'Vertrag unterschrieben': 1 row \(row 2\), amount 100"):
        ingest(exports, "salesforce_en", tmp_path / "out2")
    m = mapping(tmp_path, "extends: salesforce_en\ntables:\n  opportunities:\n    columns:\n      outcome:\n"
                          "        values: {Vertrag unterschrieben: won}\n        open: [Angebot]\n")
    res = ingest(exports, m, tmp_path / "out3")
    assert res.tables["opportunities"]["value_counts"]["outcome"] == {"open": 1, "won": 1}


def test_other_open_is_refused_in_a_mapping(tmp_path):
    m = mapping(tmp_path, "tables:\n  opportunities:\n    file: x.csv\n    columns:\n      opportunity_id: Id\n"
                          "      created_at: Created\n      outcome: {column: Stage, values: {Won: won}, other: open}\n")
    with pytest.raises(WorkbookError, match=r"other: is not allowed for the outcome") as info:
        load_mapping(m)
    assert "open: [Prospecting" in info.value.fix


# =========================================================================== 5. encodings other than UTF-8 and cp932
WESTERN = (SF_HEADER + '"Société Générale","0065g00000XyZa1","1/22/2025","2/3/2025","Closed Won","1,000.00","Séminaire"\n'
                       '"Müller GmbH","0065g00000XyZa2","1/23/2025","2/4/2025","Closed Lost","500.00","Séminaire"\n'
                       '"Café Noël","0065g00000XyZa3","1/24/2025","","Prospecting","70.00","Web"\n')


def test_ansi_cp1252_export_is_detected_and_said(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", WESTERN, "cp1252")
    res = ingest(exports, "salesforce_en", tmp_path / "out")
    assert res.tables["opportunities"]["encoding"] == "cp1252"
    assert "csv, cp1252 (Windows Western, Excel's \"ANSI\")" in res.summary()
    assert codes(tmp_path / "out")["encoding_detected"] == 3
    wb = load_workbook(tmp_path / "out")
    # one channel 'Séminaire' (2 deals), not two garbled spellings
    assert wb.opportunities["channel"].value_counts().to_dict() == {"Séminaire": 2, "Web": 1}


def test_excel_unicode_text_utf16_tab_separated(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", WESTERN.replace('","', "\t").replace('"', ""), "utf-16")
    res = ingest(exports, "salesforce_en", tmp_path / "out")
    assert res.tables["opportunities"]["encoding"] == "utf-16" and res.tables["opportunities"]["rows_out"] == 3
    raw = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert raw["channel"].tolist() == ["Séminaire", "Séminaire", "Web"] and raw["amount"].tolist() == ["1000.00", "500.00", "70.00"]


def test_mojibake_is_refused_not_guessed(tmp_path):
    exports = tmp_path / "exports"
    # UTF-8 text that was once decoded as cp1252 and saved again: 'Société' became 'SociÃ©tÃ©'
    write(exports / "report1.csv", WESTERN.encode("utf-8").decode("cp1252"), "utf-8")
    with pytest.raises(WorkbookError, match=r"report1.csv: read as UTF-8 \(valid UTF-8\), the text is garbled \(mojibake\) at line 2: 'Ã©'"):
        ingest(exports, "salesforce_en", tmp_path / "out")
    # Japanese UTF-8 read as cp932 and saved again
    write(exports / "report1.csv", SF_HEADER + '"A","0065g00000XyZa1","1/22/2025","2/3/2025","Closed Won","1","' +
          "セミナー".encode("utf-8").decode("cp932", errors="replace") + '"\n', "utf-8")
    with pytest.raises(WorkbookError, match=r"garbled \(mojibake\) at line 2"):
        ingest(exports, "salesforce_en", tmp_path / "out")


def test_stated_encoding_that_does_not_fit_is_refused(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", WESTERN, "cp1252")
    m = mapping(tmp_path, "extends: salesforce_en\ntables:\n  opportunities:\n    encoding: utf-8\n")
    with pytest.raises(WorkbookError, match=r"report1.csv: cannot be read as utf-8-sig text"):
        ingest(exports, m, tmp_path / "out")
    m = mapping(tmp_path, "extends: salesforce_en\ntables:\n  opportunities:\n    encoding: ANSI\n", "m2.yaml")
    res = ingest(exports, m, tmp_path / "out")
    assert res.tables["opportunities"]["encoding"] == "cp1252" and "encoding_detected" not in codes(tmp_path / "out")


# =========================================================================== 6. delimiters and decimal commas
def test_case_06_semicolons_decimal_comma_and_day_first(tmp_path):
    res = ingest(case("06-semicolon-decimal-comma"), "salesforce_en", tmp_path / "out")
    assert "(csv, UTF-8, semicolon-separated)" in res.summary()
    assert res.tables["opportunities"]["delimiter"] == ";"
    found = codes(tmp_path / "out")
    assert found["decimal_comma_detected"] == 2 and found["date_order_detected"] == 2
    raw = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert raw["amount"].tolist() == ["12000.00", "8000.50"]
    assert raw["created_at"].tolist() == ["2025-01-10", "2025-01-12"]   # 20/02/2025 settles day-first for the export
    f = q1(load_workbook(tmp_path / "out"))
    assert (f["won_count"], f["lost_count"], f["won_revenue"]) == (1, 1, 12_000.0)


def test_tab_and_pipe_separated_exports_read(tmp_path):
    for sep in ("\t", "|"):
        exports = tmp_path / f"exports{ord(sep)}"
        write(exports / "report1.csv", "Opportunity ID{s}Created Date{s}Close Date{s}Stage{s}Amount\n"
                                       "0065g00000XyZa1{s}2025-01-22{s}2025-02-03{s}Closed Won{s}1,200.50\n".replace("{s}", sep))
        ingest(exports, "salesforce_en", tmp_path / f"out{ord(sep)}")
        assert pd.read_csv(tmp_path / f"out{ord(sep)}" / "opportunities.csv", dtype=str)["amount"].tolist() == ["1200.50"]


def test_ambiguous_thousands_point_is_refused_then_read_with_decimal_setting(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", "Opportunity ID;Created Date;Close Date;Stage;Amount\n"
                                   "0065g00000XyZa1;2025-01-22;2025-02-03;Closed Won;1.500\n"
                                   "0065g00000XyZa2;2025-01-23;2025-02-04;Closed Lost;12.000\n")
    with pytest.raises(WorkbookError, match=r"'1.500', '12.000' could be decimals .* state decimal: \",\"") as info:
        ingest(exports, "salesforce_en", tmp_path / "out")
    assert 'decimal: \\",\\"' in info.value.fix or 'decimal: ","' in info.value.fix
    assert "column 'A;B;C' not found" not in str(info.value) and "Opportunity ID;" not in str(info.value)
    m = mapping(tmp_path, 'extends: salesforce_en\ndecimal: ","\n')
    ingest(exports, m, tmp_path / "out")
    assert pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)["amount"].tolist() == ["1500", "12000"]


def test_decimal_comma_and_point_mixed_in_one_column_is_refused(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", "Opportunity ID;Created Date;Close Date;Stage;Amount\n"
                                   "0065g00000XyZa1;2025-01-22;2025-02-03;Closed Won;1.200,50\n"
                                   "0065g00000XyZa2;2025-01-23;2025-02-04;Closed Lost;1,200.50\n")
    with pytest.raises(WorkbookError, match=r"mixes decimal commas such as '1.200,50' \(row 2\) and decimal points such as '1,200.50' \(row 3\)"):
        ingest(exports, "salesforce_en", tmp_path / "out")


# =========================================================================== 7. values Excel destroyed
HS_DEALS_HEADER = "Record ID,Deal Stage,Create Date,Close Date,Amount\n"


def test_ids_in_scientific_notation_are_refused_with_the_real_cause(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "hubspot-crm-exports-all-deals.csv", HS_DEALS_HEADER +
          "1.23457E+11,closedwon,2025-01-06,2025-02-10,100\n1.23457E+11,closedlost,2025-01-07,2025-02-11,50\n"
          "123456789013,closedwon,2025-01-08,2025-02-12,70\n")
    with pytest.raises(WorkbookError) as info:
        ingest(exports, "hubspot", tmp_path / "out")
    text = str(info.value)
    assert "column 'Record ID' -> opportunity_id (rows 2, 3): these ids were rounded by Excel" in text
    assert "'1.23457E+11', '1.23457E+11'" in text and "data import wizard" in info.value.fix
    assert "duplicate" not in text.lower()


def test_ids_that_lost_their_leading_zeros_are_refused_and_intact_ids_read(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "hubspot-crm-exports-all-deals.csv", HS_DEALS_HEADER +
          "000123,closedwon,2025-01-06,2025-02-10,100\n124,closedlost,2025-01-07,2025-02-11,50\n")
    with pytest.raises(WorkbookError, match=r"opportunity_id \(row 3\): these ids lost their leading zeros \(other ids are 6 digits, "
                                            r"such as '000123'\): '124'"):
        ingest(exports, "hubspot", tmp_path / "out")
    write(exports / "hubspot-crm-exports-all-deals.csv", HS_DEALS_HEADER +
          "000123,closedwon,2025-01-06,2025-02-10,100\n000124,closedlost,2025-01-07,2025-02-11,50\n")
    ingest(exports, "hubspot", tmp_path / "out")
    assert pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)["opportunity_id"].tolist() == ["000123", "000124"]


def test_company_size_ranges_turned_into_dates_are_refused(tmp_path):
    exports = tmp_path / "exports"
    header = '"Opportunity ID","Created Date","Close Date","Stage","Amount","Employees"\n'
    write(exports / "report1.csv", header + '"0065g00000XyZa1","2025-01-22","2025-02-03","Closed Won","100","10-Jan"\n'
                                            '"0065g00000XyZa2","2025-01-23","2025-02-04","Closed Lost","50","11-50"\n'
                                            '"0065g00000XyZa3","2025-01-24","","Prospecting","70","45667"\n')
    with pytest.raises(WorkbookError, match=r"column 'Employees' -> company_size \(rows 2, 4\): category values that Excel turned "
                                            r"into dates or day numbers .*'10-Jan', '45667'"):
        ingest(exports, "salesforce_en", tmp_path / "out")
    write(exports / "report1.csv", header + '"0065g00000XyZa1","2025-01-22","2025-02-03","Closed Won","100","1-10"\n'
                                            '"0065g00000XyZa2","2025-01-23","2025-02-04","Closed Lost","50","11-50"\n'
                                            '"0065g00000XyZa3","2025-01-24","","Prospecting","70","10000+"\n')
    ingest(exports, "salesforce_en", tmp_path / "out")
    assert pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)["company_size"].tolist() == ["1-10", "11-50", "10000+"]


# =========================================================================== 8. Salesforce id forms
@pytest.mark.parametrize("id15, id18", [
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),  # 001A0: A at 3 -> 8 = I; 00000 -> A; 6Vm9r: V at 1 -> 2 = C
    ("0065g00000AbCd1", "0065g00000AbCd1AAF"),  # 0065g -> A; 00000 -> A; AbCd1: A at 0, C at 2 -> 1 + 4 = 5 = F
    ("00QJ0000001AAAA", "00QJ0000001AAAAMA4"),  # 00QJ0: 4 + 8 = 12 = M; 1AAAA: 2 + 4 + 8 + 16 = 30 = 4
    ("ABCDEABCDEABCDE", "ABCDEABCDEABCDE555"),  # all five upper: 31 = 5
])
def test_salesforce_id18_checksum(id15, id18):
    from helpers.data.values import salesforce_id18

    assert salesforce_id18(id15) == id18
    assert salesforce_id18(id18) == id18


def test_links_match_across_15_and_18_character_ids(tmp_path):
    exports = tmp_path / "exports"
    # the opportunity report has 15-character ids; the lead export (Data Loader) has the 18-character ones
    write(exports / "report_opportunities.csv",
          '"Opportunity ID","Lead ID","Created Date","Close Date","Stage","Amount"\n'
          '"0065g00000AbCd1","00QJ0000001AAAA","1/22/2025","2/3/2025","Closed Won","100"\n')
    write(exports / "report_leads.csv", '"Lead ID","Created Date","Lead Source","Converted Opportunity ID"\n'
                                        '"00QJ0000001AAAAMA4","1/15/2025","Web","0065g00000AbCd1AAF"\n')
    ingest(exports, "salesforce_en", tmp_path / "out")
    assert codes(tmp_path / "out")["salesforce_id_18"] == 1
    wb = load_workbook(tmp_path / "out")
    assert wb.opportunities["opportunity_id"].tolist() == ["0065g00000AbCd1AAF"]
    assert wb.opportunities["lead_id"].tolist() == wb.leads["lead_id"].tolist() == ["00QJ0000001AAAAMA4"]
    assert wb.opportunities["channel"].tolist() == ["Web"]  # taken from the linked lead: the link holds


def test_ids_that_are_not_salesforce_ids_are_left_alone(tmp_path):
    exports = tmp_path / "exports"
    # 15 digits (no letter) and an 18-character id whose check characters are wrong: not Salesforce ids, kept as exported
    write(exports / "report1.csv", '"Opportunity ID","Created Date","Close Date","Stage","Amount"\n'
                                   '"123456789012345","1/22/2025","2/3/2025","Closed Won","100"\n')
    ingest(exports, "salesforce_en", tmp_path / "out")
    assert pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)["opportunity_id"].tolist() == ["123456789012345"]
    write(exports / "report1.csv", '"Opportunity ID","Created Date","Close Date","Stage","Amount"\n'
                                   '"0065g00000AbCd1ZZZ","1/22/2025","2/3/2025","Closed Won","100"\n'
                                   '"0065g00000AbCd2","1/22/2025","2/3/2025","Closed Won","100"\n')
    ingest(exports, "salesforce_en", tmp_path / "out2")
    assert pd.read_csv(tmp_path / "out2" / "opportunities.csv", dtype=str)["opportunity_id"].tolist() == [
        "0065g00000AbCd1ZZZ", "0065g00000AbCd2"]


# =========================================================================== 9. report footers wherever they are
def test_case_01_footer_after_an_id_first_report_is_dropped_and_said(tmp_path):
    res = ingest(case("01-footer-id-first"), "salesforce_en", tmp_path / "out")
    opp = res.tables["opportunities"]
    assert [(d["reason"], d["count"], d["rows"]) for d in opp["dropped"]] == [
        ("blank row", 2, [6, 7]), ("report footer", 5, [8, 9, 10, 11, 12])]
    assert "values" not in opp["dropped"][1]   # counted and located, never quoted (a footer names who ran the report)
    assert "Example Opportunity Report" not in (tmp_path / "out" / "ingest_report.json").read_text(encoding="utf-8")
    assert codes(tmp_path / "out")["footer_dropped"] == 5
    f = q1(load_workbook(tmp_path / "out"))
    assert (f["opportunities_created"], f["won_count"], f["lost_count"]) == (4, 2, 1)
    assert f["win_rate"] == pytest.approx(2 / 3) and f["won_revenue"] == 30_000.0


def test_footer_without_a_blank_line_is_recognized_by_its_words(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", '"Opportunity ID","Created Date","Close Date","Stage","Amount"\n'
                                   '"0065g00000XyZa1","2025-01-22","2025-02-03","Closed Won","100"\n'
                                   '"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."\n'
                                   '"機密情報 - 転送禁止"\n')
    res = ingest(exports, "salesforce_en", tmp_path / "out")
    assert [(d["reason"], d["rows"]) for d in res.tables["opportunities"]["dropped"]] == [("report footer", [3, 4])]


def test_a_short_data_row_at_the_end_is_not_taken_for_a_footer(tmp_path):
    exports = tmp_path / "exports"
    # the last row has only its id: a broken data row, not a footer (no blank line before it, no footer words)
    write(exports / "report1.csv", '"Opportunity ID","Created Date","Close Date","Stage","Amount"\n'
                                   '"0065g00000XyZa1","2025-01-22","2025-02-03","Closed Won","100"\n'
                                   '"0065g00000XyZa2","","","",""\n')
    with pytest.raises(WorkbookError, match=r"row 3, column 'created_at': a required value is empty"):
        ingest(exports, "salesforce_en", tmp_path / "out")


# =========================================================================== 10. nothing silently ignored
OPP_REPORT = ('"Opportunity ID","Created Date","Close Date","Stage","Amount"\n'
              '"0065g00000XyZa1","2025-01-22","2025-02-03","Closed Won","100"\n')


def test_unused_files_incomplete_exports_and_missing_tables_are_said(tmp_path, capsys):
    exports = tmp_path / "exports"
    write(exports / "report_opportunities.csv", OPP_REPORT)
    write(exports / "report_leads.csv", '"Lead Name","Created Date","Lead Source"\n"X","2025-01-02","Web"\n')  # no Lead ID
    write(exports / "notes.xlsx.csv", '"Foo";"Bar"\n"1";"2"\n')
    assert main(["--exports", str(exports), "--mapping", "salesforce_en", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    warnings = {w["code"]: w for w in report_json(tmp_path / "out")["warnings"]}
    assert warnings["file_lacks_columns"]["message"] == (
        "report_leads.csv looks like the leads export by its name but has no column 'Lead ID' or 'Lead Id': it was not read "
        "and there is no leads table")
    assert warnings["table_not_found"]["message"].startswith("the mapping's leads table found no export in the folder")
    assert warnings["file_not_used"]["message"].startswith("notes.xlsx.csv matches no table of the mapping salesforce_en")
    for w in report_json(tmp_path / "out")["warnings"]:
        assert set(w) >= {"code", "message", "count"} and w["count"] >= 1
        assert w["message"] in printed
    assert not (tmp_path / "out" / "leads.csv").exists()


def test_one_export_feeds_two_tables(tmp_path):
    exports = tmp_path / "exports"
    # a lead export that also carries the outcome of the deal each lead became
    write(exports / "leads_export.csv", "Lead ID,Created,Source,Deal ID,Deal Created,Deal Closed,Deal Stage,Deal Amount\n"
                                        "L1,2025-01-02,Web,D1,2025-01-10,2025-02-01,Won,100\n"
                                        "L2,2025-01-03,Seminar,D2,2025-01-11,2025-02-02,Lost,50\n")
    m = mapping(tmp_path, """
tables:
  opportunities:
    file: leads_export.csv
    columns:
      opportunity_id: Deal ID
      lead_id: Lead ID
      created_at: Deal Created
      closed_at: Deal Closed
      outcome: {column: Deal Stage, values: {Won: won, Lost: lost}}
      amount: Deal Amount
  leads:
    file: leads_export.csv
    columns:
      lead_id: Lead ID
      created_at: Created
      channel: Source
      opportunity_id: Deal ID
""")
    res = ingest(exports, m, tmp_path / "out")
    assert res.tables["opportunities"]["source"] == res.tables["leads"]["source"] == "leads_export.csv"
    assert "file_not_used" not in codes(tmp_path / "out")
    wb = load_workbook(tmp_path / "out")
    assert wb.opportunities["channel"].tolist() == ["Web", "Seminar"]  # through the lead link


def test_a_required_table_with_no_export_is_refused(tmp_path):
    exports = tmp_path / "exports"
    # a file that is no leads export either (no Created Date): a leads export alone is a leads-only folder (kind 10)
    write(exports / "report_leads.csv", '"Lead ID","Lead Source"\n"00QJ0000001AAAA","Web"\n')
    with pytest.raises(WorkbookError, match=r"salesforce_en.yaml: tables.opportunities: no export in .* matches|"
                                            r"report_leads.csv has no column 'Opportunity ID'"):
        ingest(exports, "salesforce_en", tmp_path / "out")


def test_a_bare_dollar_is_read_as_usd_said_and_the_settings_may_name_another_dollar(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "report1.csv", SF_HEADER + '"A","0065g00000XyZa1","1/5/2025","1/20/2025","Closed Won","$1,250.50","Web"\n')
    res = ingest(exports, "salesforce_en", tmp_path / "out")
    assert res.currency == {"code": "USD", "how": "opportunities: from the amounts in 'Amount'", "assumed": "$"}
    assert codes(tmp_path / "out")["currency_dollar_assumed"] == 1
    assert load_workbook(tmp_path / "out").config.currency_code == "USD"
    (tmp_path / "out" / "workbook.yaml").write_text("currency:\n  code: CAD\n  symbol: CA$\n", encoding="utf-8")
    config = load_workbook(tmp_path / "out").config
    assert (config.currency_code, config.currency_symbol) == ("CAD", "CA$")
    (tmp_path / "out" / "workbook.yaml").write_text("currency:\n  code: EUR\n", encoding="utf-8")
    from helpers.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=r"currency.code is EUR but the amounts .* are in USD"):
        load_config(tmp_path / "out")


def test_links_that_lost_their_leading_zeros_are_refused(tmp_path):
    exports = tmp_path / "exports"
    write(exports / "hubspot-crm-exports-all-deals.csv", "Record ID,Deal Stage,Create Date,Close Date,Amount,Associated Contact IDs\n"
                                                         "9001,closedwon,2025-01-06,2025-02-10,100,123\n")
    write(exports / "hubspot-crm-exports-all-contacts.csv", "Record ID,Create Date,Original Source\n000123,2025-01-02,Web\n")
    with pytest.raises(WorkbookError, match=r"lead_id: 1 id\(s\) lost their leading zeros \('123' are '000123' in "
                                            r"hubspot-crm-exports-all-contacts.csv\)"):
        ingest(exports, "hubspot", tmp_path / "out")
    write(exports / "hubspot-crm-exports-all-deals.csv", "Record ID,Deal Stage,Create Date,Close Date,Amount,Associated Contact IDs\n"
                                                         "9001,closedwon,2025-01-06,2025-02-10,100,000123\n")
    ingest(exports, "hubspot", tmp_path / "out")
    assert load_workbook(tmp_path / "out").opportunities["channel"].tolist() == ["Web"]
