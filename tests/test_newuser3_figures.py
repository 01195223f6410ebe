"""Figures a new user's data cannot support are null with their reason, never a guess (the trial of 2026-12-08,
tests/fixtures/newuser3/). Every expectation below is counted by hand from the fixture files."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.labels import t
from helpers.metrics.core import core_metrics

NEWUSER3 = Path(__file__).parent / "fixtures" / "newuser3"


def _core(case: str, label: str):
    wb = load_workbook(NEWUSER3 / case)
    period = parse_period(label, wb.config.fiscal_year_start_month)
    return wb, period, core_metrics(wb, period)


# --------------------------------------------------------------------------- 1. no MQL / SQL dates at all
# sf-ja-no-mql: a Salesforce lead report without MQL/SQL columns (leads.csv has no mql_at, no sql_at). FY2025Q1 =
# 2025-04-01..06-30 (April fiscal year), as_of 2025-10-05 (the last date). Leads created in it: LLL01-06, 09, 10, 11
# = 9; of those linked to an opportunity: LLL01-06 = 6. Opportunities created in it: AAA01-05 = 5; won in it: AAA01
# (05-20), AAA03 (06-25) = 2. Before the fix every linked lead counted as an MQL: CVR 6/9 = 66.7%, period MQLs 0.
def test_no_mql_dates_makes_mql_and_sql_figures_null_with_reason():
    _, _, core = _core("sf-ja-no-mql", "FY2025Q1")
    period, cohort = core["funnel"]["period"], core["funnel"]["cohort"]
    assert (period["leads"], period["opportunities"], period["won"]) == (9, 5, 2)
    assert period["mqls"] is None and period["sqls"] is None
    assert period["null_reasons"] == {"mqls": "no_mql_dates", "sqls": "no_sql_dates"}
    assert (cohort["leads"], cohort["opportunity"], cohort["won"]) == (9, 6, 2)
    assert cohort["lead_to_opportunity_rate"] == pytest.approx(6 / 9)
    assert cohort["won_rate"] == pytest.approx(2 / 6)
    for key in ("mql", "sql", "mql_rate", "sql_rate", "opportunity_rate", "skipped_mql", "skipped_sql"):
        assert cohort[key] is None, key
    reasons = cohort["null_reasons"]
    assert (reasons["mql"], reasons["mql_rate"], reasons["sql_rate"], reasons["skipped_mql"]) == ("no_mql_dates",) * 4
    assert (reasons["sql"], reasons["opportunity_rate"], reasons["skipped_sql"]) == ("no_sql_dates",) * 3
    web = core["by_channel"]["Web"]["funnel"]   # Web: LLL01, 03, 05, 09, 10 = 5 leads, 3 with a deal
    assert (web["cohort"]["leads"], web["cohort"]["opportunity"], web["cohort"]["mql_rate"]) == (5, 3, None)
    assert web["cohort"]["null_reasons"]["mql_rate"] == "no_mql_dates"


def test_empty_mql_column_is_no_mql_dates_too(tmp_path):
    """An mql_at column that is empty everywhere says what an absent one says; an sql_at with one date does not."""
    import shutil

    folder = tmp_path / "d"
    shutil.copytree(NEWUSER3 / "sf-ja-no-mql", folder)
    lines = (folder / "leads.csv").read_text(encoding="utf-8").splitlines()
    rows = [lines[0] + ",mql_at,sql_at"] + [line + ",," for line in lines[1:]]
    rows[1] = lines[1] + ",,2025-04-08"   # LLL01 (created 04-02, linked to AAA01) has an sql_at
    (folder / "leads.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    wb = load_workbook(folder)
    core = core_metrics(wb, parse_period("FY2025Q1", 4))
    period, cohort = core["funnel"]["period"], core["funnel"]["cohort"]
    assert period["mqls"] is None and period["sqls"] == 1
    # the cohort's SQLs: LLL01 (its sql_at) and LLL02-06 (a linked deal, a later stage) = 6; sql_rate needs MQLs
    assert cohort["sql"] == 6 and cohort["mql"] is None and cohort["sql_rate"] is None
    assert cohort["opportunity_rate"] == pytest.approx(6 / 6)
    assert cohort["null_reasons"]["sql_rate"] == "no_mql_dates"


def test_no_mql_dates_audit_is_null_not_recall_zero():
    """Notebook 05's audit: the rule in use is "an mql_at within H days" (none written); with no mql_at it cannot be
    read, so flagged, precision, recall, lift and the missed deals are null (before: recall 0.0%, missed 6 deals
    ¥2,700,000); observed 9 and converted 6 (LLL01-06) and the base rate 6/9 stay."""
    from helpers.metrics.lead_section import lead_quality

    wb, period, _ = _core("sf-ja-no-mql", "FY2025Q1")
    section = lead_quality(wb.leads, wb.opportunities, None, {}, period.start, period.end, wb.as_of).section
    audit = section["mql_audit"]["period"]
    assert (audit["observed"], audit["converted"]) == (9, 6)
    assert audit["base_rate"] == pytest.approx(6 / 9)
    for key in ("flagged", "flagged_converted", "precision", "recall", "lift"):
        assert audit[key] is None, key
    assert audit["missed"] == {"count": None, "won_revenue": None}
    assert audit["null_reasons"]["recall"] == "no_mql_dates" and audit["null_reasons"]["missed"] == "no_mql_dates"
    assert all(a["recall"] is None for a in section["mql_audit"]["by_channel"].values())
    assert section["feedback"]["null_reasons"] == {"period": "no_mql_dates"}


@pytest.mark.parametrize("lang, words", [("en", "No lead has an MQL date"), ("ja", "MQL日を持つリードがありません")])
def test_no_mql_dates_reason_is_said(lang, words):
    assert t("reason_no_mql_dates", lang).startswith(words)
    assert t("reason_no_sql_dates", lang)
