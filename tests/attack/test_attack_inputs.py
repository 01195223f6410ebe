"""Attack: every bad input ends in the workbook's own error (file, row, column, fix) or the right figure.

Built from the tiny data of tests/conftest.py; the loader is also fuzzed with hypothesis for a bounded time.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.errors import ConfigError, DataValidationError, WorkbookError
from helpers.metrics.pipeline import pipeline_metrics

SPEND_CSV = "month,channel,amount\n2025-04,web,100000\n2025-05,seminar,50000\n"
CHECKLIST_CSV = "respondent,department,answered_on,item,answer\nS1,sales,2025-05-01,1,yes\nM1,marketing,2025-05-01,1,no\n"
INITIATIVES_CSV = "name,started_on,items\nlead criteria,2025-05-01,3;4\n"
ALL = {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV, "spend.csv": SPEND_CSV,
       "checklist.csv": CHECKLIST_CSV, "initiatives.csv": INITIATIVES_CSV}


def folder(tmp_path: Path, **changes) -> Path:
    files = dict(ALL)
    files.update({k.replace("_", "."): v for k, v in changes.items()})
    return write_folder(tmp_path / "data", {k: v for k, v in files.items() if v is not None})


def refused(path: Path, *expected: str) -> str:
    with pytest.raises(WorkbookError) as err:
        load_workbook(path)
    text = str(err.value)
    for e in expected:
        assert e in text, text
    return text


@pytest.mark.parametrize("name", list(ALL))
def test_an_empty_file_of_any_table_is_refused_by_name(tmp_path, name):
    data = folder(tmp_path)
    (data / name).write_bytes(b"")
    refused(data, f"{name}: the file is empty (0 bytes), not even a header row", "How to fix: Export the table again")


@pytest.mark.parametrize("name", ["opportunities.xlsx", "opportunities.parquet"])
def test_a_file_that_is_not_its_format_is_refused(tmp_path, name):
    data = folder(tmp_path, opportunities_csv=None)
    (data / name).write_text(OPPS_CSV, encoding="utf-8")  # a CSV renamed: its first block says so (issue 21)
    kind = "an Excel workbook" if name.endswith("xlsx") else "a Parquet file"
    refused(data, f"{name}: the file holds text (a CSV), not {kind}", "How to fix: Rename it to opportunities.csv.")


@pytest.mark.parametrize("name", ["opportunities.xlsx", "opportunities.parquet"])
def test_a_damaged_file_that_is_not_its_format_is_refused(tmp_path, name):
    data = folder(tmp_path, opportunities_csv=None)
    (data / name).write_bytes(bytes(range(1, 256)) * 8)  # neither its format nor text
    kind = "Excel workbook" if name.endswith("xlsx") else "Parquet file"
    article = "an" if name.endswith("xlsx") else "a"
    text = refused(data, f"{name}: not a readable {kind} (", f"How to fix: Export the table again as {article} {kind}")
    assert "readable an " not in text and "readable a " not in text   # the sentence read "not a readable an Excel workbook"


def test_real_excel_and_parquet_still_load(tmp_path):
    data = folder(tmp_path, opportunities_csv=None, leads_csv=None)
    pd.read_csv(io.StringIO(OPPS_CSV), dtype=str).to_excel(data / "opportunities.xlsx", index=False)
    pd.read_csv(io.StringIO(LEADS_CSV), dtype=str).to_parquet(data / "leads.parquet")
    wb = load_workbook(data)
    assert sorted(wb.opportunities["opportunity_id"]) == ["O1", "O2", "O3"] and len(wb.leads) == 3


@pytest.mark.parametrize("month", ["2025-13", "2025-00", "0000-01"])
def test_spend_month_that_is_not_a_month(tmp_path, month):
    data = folder(tmp_path, spend_csv=SPEND_CSV.replace("2025-05", month))
    refused(data, "spend.csv, row 3, column 'month': values that are not valid months", f"'{month}'")


@pytest.mark.parametrize("value", ["9999-12-31", "9999-12-31T00:00:00+09:00", "1000-01-01", "2262-05-01T00:00:00Z"])
def test_dates_outside_the_supported_range(tmp_path, value):
    data = folder(tmp_path, opportunities_csv=OPPS_CSV.replace("2025-06-01", value))
    refused(data, "opportunities.csv, row 2, column 'closed_at': values that are not valid dates (YYYY-MM-DD, years 1678-2261)",
            f"'{value}'")


@pytest.mark.parametrize("value", ["inf", "1e309", "-inf", "Infinity", "nan"])
def test_non_finite_amounts_are_refused(tmp_path, value):
    data = folder(tmp_path, opportunities_csv=OPPS_CSV.replace("1200000", value))
    refused(data, "opportunities.csv, row 2, column 'amount': values that are not valid finite numbers", f"'{value}'")


def test_non_finite_spend_is_refused(tmp_path):
    data = folder(tmp_path, spend_csv=SPEND_CSV.replace("50000", "1e400"))
    refused(data, "spend.csv, row 3, column 'amount': values that are not valid finite numbers")


@pytest.mark.parametrize("header", ["opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel,industry,company_size,owner,amount",
                                    "opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel,industry,company_size,owner, amount "])
def test_two_columns_with_the_same_header(tmp_path, header):
    body = OPPS_CSV.split("\n", 1)[1]
    data = folder(tmp_path, opportunities_csv=header + "\n" + body)
    refused(data, "opportunities.csv", "the header names a column more than once ('amount' in columns 5, 11)")


def test_same_header_in_excel(tmp_path):
    data = folder(tmp_path, opportunities_csv=None)
    frame = pd.read_csv(io.StringIO(OPPS_CSV), dtype=str)
    frame.insert(2, "outcome ", frame["outcome"])
    frame.to_excel(data / "opportunities.xlsx", index=False)
    refused(data, "opportunities.xlsx", "'outcome' in columns 3, 5")


def test_far_future_typo_date_is_refused_not_made_as_of(tmp_path):
    data = folder(tmp_path, opportunities_csv=OPPS_CSV.replace("2025-06-10,,open", "2206-06-02,,open"))
    refused(data, "opportunities.csv, row 4, column 'created_at': dates more than 2 years after the rest of the data",
            "would become the snapshot date as_of", "'2206-06-02'", "--as-of")
    # with an explicit as_of the typo is only a warning (its row is after as_of and ignored)
    wb = load_workbook(data, load_config(data, overrides={"as_of": "2025-06-30"}))
    assert wb.as_of == pd.Timestamp("2025-06-30")
    assert [(f.code, f.rows) for f in wb.warnings if f.code == "far_date_after"] == [("far_date_after", (4,))]


def test_far_past_typo_date_is_a_warning_and_all_refuses(tmp_path, capsys):
    from helpers.report.run import main

    data = folder(tmp_path, opportunities_csv=OPPS_CSV.replace("2025-05-01,2025-06-30", "1900-04-01,2025-06-30"))
    wb = load_workbook(data)
    far = [f for f in wb.warnings if f.code == "far_date_before"]
    assert [(f.file, f.column, f.rows, f.values) for f in far] == [("opportunities.csv", "created_at", (3,), ("1900-04-01",))]
    assert main(["--data", str(data), "--out", str(tmp_path / "out"), "--all"]) == 2
    err = capsys.readouterr().err
    assert "--all starts at the first created_at date" in err and "1900-04-01" in err
    assert not (tmp_path / "out").exists()


def test_all_refuses_hundreds_of_periods_without_being_told(tmp_path, capsys):
    from helpers.report.run import main

    # a real deal every 2 years from 1950-01-10 (no far-out gap): --all runs every period the data touches,
    # the partly covered 1950Q1 included: 1950Q1 .. 2025Q2 = 75 * 4 + 2 = 302
    rows = "".join(f"H{y},{y}-01-10,{y}-02-10,lost,1,,web,,,,\n" for y in range(1950, 2025, 2))
    data = folder(tmp_path, opportunities_csv=OPPS_CSV + rows)
    assert main(["--data", str(data), "--out", str(tmp_path / "out"), "--all"]) == 2
    err = capsys.readouterr().err
    assert "--all would run 302 periods (1950Q1 to 2025Q2), more than --max-periods 40" in err
    assert "confirm with --all --max-periods 302" in err


@pytest.mark.parametrize("sales, marketing", [("営業", "マーケ"), ("Sales", "MARKETING"), ("セールス", "マーケティング部"),
                                              ("ｾｰﾙｽ", "Marketing Team")])
def test_department_synonyms_are_scored(tmp_path, sales, marketing):
    from helpers.metrics.checklist import checklist_metrics

    text = CHECKLIST_CSV.replace(",sales,", f",{sales},").replace(",marketing,", f",{marketing},")
    data = folder(tmp_path, checklist_csv=text)
    wb = load_workbook(data)
    assert sorted(set(wb.checklist["department"])) == ["marketing", "sales"]
    from helpers.data.periods import parse_period

    ck = checklist_metrics(wb.checklist, wb.leads, wb.opportunities, parse_period("2025Q2"), wb.as_of, wb.config)
    # item 1: sales yes (1.0), marketing no (0.0): gap = 0 - 1 = -1
    assert ck["by_department"] == {"sales": 100.0, "marketing": 0.0}
    assert ck["by_item"][1] == {"sales": 1.0, "marketing": 0.0, "gap": -1.0}


@pytest.mark.parametrize("sales, marketing, message", [
    ("slaes", "marketing", "'slaes' (did you mean 'sales'?)"),
    ("Vertrieb", "Werbung", "no answer comes from sales or marketing (departments found: vertrieb, werbung)"),
])
def test_unknown_departments_are_refused(tmp_path, sales, marketing, message):
    text = CHECKLIST_CSV.replace(",sales,", f",{sales},").replace(",marketing,", f",{marketing},")
    refused(folder(tmp_path, checklist_csv=text), "checklist.csv", "column 'department'", message)


def test_no_gap_claim_without_both_departments():
    from types import SimpleNamespace

    from helpers.views.checklist_views import gap_sentences

    s = SimpleNamespace(lang="en")
    only_sales = {"largest_gaps": [], "by_item": {1: {"sales": 1.0, "marketing": None, "gap": None}}}
    assert gap_sentences(s, only_sales) == ["The gap between the departments cannot be computed: no item was answered by both sales and marketing."]
    both_agree = {"largest_gaps": [], "by_item": {1: {"sales": 1.0, "marketing": 1.0, "gap": 0.0}}}
    assert gap_sentences(s, both_agree) == ["No item shows a gap of 0.25 or more between the departments."]


def test_figures_stay_finite_and_right(tmp_path):
    """The figures the attack saw as '¥inf' are hand-computed on clean data: won revenue 1,200,000, average deal 1,200,000."""
    wb = load_workbook(folder(tmp_path))
    m = pipeline_metrics(wb.opportunities, pd.Timestamp("2025-04-01"), pd.Timestamp("2025-06-30"), wb.as_of)
    assert m["won_revenue"] == 1200000.0 and m["avg_deal_size"] == 1200000.0
    assert all(v is None or not isinstance(v, float) or math.isfinite(v) for v in m.values())


# --------------------------------------------------------------------------- charts
@pytest.mark.parametrize("how", ["seaborn", "set_xticks"])
@pytest.mark.parametrize("name", ["$\\foo$ web", "$x^{2$", "x" * (1 << 20)])
def test_chart_text_from_data_is_plain_and_short(name, how):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from helpers.views.theme import finish

    fig, ax = plt.subplots()
    if how == "seaborn":  # category axis
        sns.barplot(pd.DataFrame({"channel": [name, "web"], "rate": [0.5, 0.25]}), x="rate", y="channel", hue="channel", ax=ax)
    else:  # explicit labels (a FuncFormatter in matplotlib 3.11)
        ax.plot([0.5, 0.25], [0, 1], "o")
        ax.set_yticks([0, 1], [name, "web"])
    ax.set_title(f"Rate by channel: {name}")
    png, meta = finish(fig)._repr_png_()
    assert png[:4] == b"\x89PNG"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[1] == "web"
    # a label of a million characters: wrapped into MAX_LINES lines of 40, the last marked as cut (issue 24: only
    # a label too long for four lines is cut)
    assert labels[0] == (name if len(name) <= 40 else "\n".join(["x" * 40] * 3 + ["x" * 40 + " …"]))
    assert len(ax.get_title()) <= 400


# --------------------------------------------------------------------------- fuzzing (bounded time)
CELL = st.one_of(st.text(max_size=12), st.sampled_from(["", "inf", "-1", "1e309", "2025-13", "9999-12-31", "2025-04-01",
                                                          "2025-04-01T10:00:00+09:00", "won", "lost", "open", "=1+1", "$x^{2$",
                                                          "\x00", "\ufeff", '"', ",", "\n", "NaN", "はい", "営業"]))
OPP_COLUMNS = ["opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id", "channel"]


def _csv(columns, rows) -> str:
    return pd.DataFrame(rows, columns=columns).to_csv(index=False)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(rows=st.lists(st.lists(CELL, min_size=len(OPP_COLUMNS), max_size=len(OPP_COLUMNS)), max_size=6),
       header_cut=st.integers(min_value=0, max_value=len(OPP_COLUMNS)), raw_tail=st.binary(max_size=40))
def test_fuzzed_opportunities_load_or_are_refused(tmp_path_factory, rows, header_cut, raw_tail):
    data = tmp_path_factory.mktemp("fuzz")
    text = _csv(OPP_COLUMNS[: max(header_cut, 1)] + OPP_COLUMNS[max(header_cut, 1):], rows)
    (data / "opportunities.csv").write_bytes(text.encode("utf-8") + raw_tail)
    (data / "leads.csv").write_text(LEADS_CSV, encoding="utf-8")
    try:
        wb = load_workbook(data)
    except (DataValidationError, WorkbookError):
        return
    amounts = wb.opportunities["amount"].dropna()
    assert all(math.isfinite(a) and a >= 0 for a in amounts)
    assert wb.as_of is not None and pd.Timestamp("1678-01-01") <= wb.as_of <= pd.Timestamp("2262-01-01")


SETTING_VALUE = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=True),
                                       st.text(max_size=8), st.dates().map(str)),
                             lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                             max_leaves=6)
KEYS = ["fiscal_year_start_month", "language", "currency", "timezone", "as_of", "target", "sla", "privacy",
        "stale_open_days", "velocity", "checklist", "initiatives_catalog"]


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(settings_=st.dictionaries(st.sampled_from(KEYS), SETTING_VALUE, max_size=4))
def test_fuzzed_settings_load_or_give_a_config_error(tmp_path_factory, settings_):
    import yaml

    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_text(yaml.safe_dump(settings_, allow_unicode=True), encoding="utf-8")
    try:
        config = load_config(path=path)
    except ConfigError as exc:
        assert "How to fix:" in str(exc)
        return
    assert 1 <= config.fiscal_year_start_month <= 12 and config.language in ("en", "ja")
    assert config.sla_hours > 0 and math.isfinite(config.sla_hours)
