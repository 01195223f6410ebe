"""The new-user tester's null and refusal cases (tests/fixtures/newuser/README.md): hand-computed expectations."""
import shutil

import pytest

import helpers.data.load as load
from helpers.errors import DataValidationError
from helpers.paths import PROJ_ROOT

CASES = PROJ_ROOT / "tests" / "fixtures" / "newuser"


def _refusal(folder, fast: bool, monkeypatch) -> list[tuple]:
    monkeypatch.setattr(load, "FAST_CSV", fast)
    with pytest.raises(DataValidationError) as caught:
        load.load_workbook(folder)
    return [(f.code, f.column, f.rows, f.count) for f in caught.value.findings if f.severity == "error"]


@pytest.mark.parametrize("fast", [True, False])
def test_an_unparseable_date_is_not_also_a_missing_close_date(fast, monkeypatch):
    # row 2 (O1): created_at 令和7年4月8日 and closed_at 令和7年5月20日, a won deal: two bad_date errors, nothing else
    assert _refusal(CASES / "wareki-canonical", fast, monkeypatch) == [
        ("bad_date", "created_at", (2,), 1), ("bad_date", "closed_at", (2,), 1)]


@pytest.mark.parametrize("fast", [True, False])
def test_unparseable_cells_are_refused_once_and_empty_ones_still_missing(fast, monkeypatch, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(CASES / "wareki-canonical", folder)
    with open(folder / "opportunities.csv", "a", encoding="utf-8") as f:
        f.write("O3,2025-04-25,2025-06-01,won,abc,L3,web\n"   # row 4: an amount that is not a number (not "missing")
                "O4,2025-04-26,,won,,L3,web\n")               # row 5: a won deal with no close date and no amount
    assert _refusal(folder, fast, monkeypatch) == [
        ("bad_date", "created_at", (2,), 1), ("bad_date", "closed_at", (2,), 1), ("bad_number", "amount", (4,), 1),
        ("missing_closed_at", "closed_at", (5,), 1)]
    monkeypatch.setattr(load, "FAST_CSV", fast)
    with pytest.raises(DataValidationError) as caught:
        load.load_workbook(folder)
    won_without = [f for f in caught.value.findings if f.code == "won_without_amount"]
    assert [(f.rows, f.count) for f in won_without] == [((5,), 1)]   # row 4's 'abc' is written, only row 5 has none


# --------------------------------------------------------------------------- the young cohort's projection
def _young(opened: int, outcome: str | None):
    """20 leads created 2023-09-01 (old: past the 365-day horizon on as_of 2024-06-30), the first `opened` of them with an
    opportunity 5 days later (`outcome`: None = still open, else won/lost 30 days after creation), and 20 leads
    created on as_of (age 0, the cohort of 2024-04-01..2024-06-30)."""
    import pandas as pd

    from conftest import as_dates

    as_of, old = pd.Timestamp("2024-06-30"), pd.Timestamp("2023-09-01")
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(40)], "created_at": [old] * 20 + [as_of] * 20,
                          "channel": "web"})
    opps = pd.DataFrame({"opportunity_id": [f"O{i}" for i in range(opened)],
                         "created_at": [old + pd.Timedelta(days=5)] * opened,
                         "closed_at": [pd.NaT if outcome is None else old + pd.Timedelta(days=30)] * opened,
                         "outcome": outcome or "open", "amount": 1.0, "lead_id": [f"L{i}" for i in range(opened)]})
    return as_dates(leads, "created_at"), as_dates(opps, "created_at", "closed_at"), as_of


def _projected(leads, opps, as_of):
    from helpers.metrics import goals

    return goals.projected_cohort_rates(leads, opps, "2024-04-01", "2024-06-30", as_of, refits=5, simulations=5)


def test_projection_without_lost_deals_has_no_won_rate():
    # 10 of the 20 old leads became opportunities on day 5 (the cohort's 20 are censored at age 0): F_opp(H) = 10/20,
    # each cohort lead converts with 0.5 -> projected 0.5. All 10 deals won, none lost: no projected won rate.
    out = _projected(*_young(10, "won"))
    assert out["projected_lead_to_opportunity_rate"]["expected"] == pytest.approx(0.5)
    assert out["projected_lead_to_won_rate"] is None
    assert out["null_reasons"] == {"projected_lead_to_won_rate": "projection_no_lost_deals"}


def test_projection_with_nothing_closed_or_no_opportunity_is_null():
    out = _projected(*_young(10, None))   # the 10 deals are all open
    assert out["projected_lead_to_opportunity_rate"]["expected"] == pytest.approx(0.5)
    assert out["projected_lead_to_won_rate"] is None
    assert out["null_reasons"] == {"projected_lead_to_won_rate": "projection_nothing_closed"}
    out = _projected(*_young(0, None))    # no lead ever became an opportunity: no curve (not 0%)
    assert out == {"projected_lead_to_opportunity_rate": None, "projected_lead_to_won_rate": None,
                   "null_reasons": {"projected_lead_to_opportunity_rate": "no_conversion_curve",
                                    "projected_lead_to_won_rate": "projection_nothing_closed"}}


PROJECTION_SENTENCES = {
    "projection_no_lost_deals": {
        "en": "No deal linked to the leads created in the 730 days up to the snapshot date was lost by then: a "
              "projected won rate needs losses.",
        "ja": "データ基準日までの730日間に作成されたリードに紐づく商談に、データ基準日までに失注したものがありません。"
              "受注率の予測には失注が必要です。"},
    "projection_nothing_closed": {
        "en": "No deal linked to the leads created in the 730 days up to the snapshot date was won or lost by then: "
              "there are no closed deals to project the won rate from.",
        "ja": "データ基準日までの730日間に作成されたリードに紐づく商談に、データ基準日までに受注・失注したものがありません。"
              "受注率を予測するためのクローズした商談がありません。"},
}


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("history_outcome", ["won", None])
def test_projection_reason_says_the_history_not_the_data(lang, history_outcome):
    # The data holds 3 lost deals: two linked to leads created 2021-01-01 (over 730 days before as_of 2024-06-30,
    # outside the history (2022-07-02 .. 2024-06-30]) and one linked to no lead. The history's 10 deals are all won
    # (or all open): no deal linked to the history's leads was lost (or closed), so the projected won rate is null
    # with the projection's own reason -- not "the data holds no lost deals", which is false here.
    from types import SimpleNamespace

    import pandas as pd

    from helpers.labels import t
    from helpers.metrics.goals_constants import LOOKBACK_DAYS
    from helpers.views import goals_views

    leads, opps, as_of = _young(10, history_outcome)
    ancient = pd.Timestamp("2021-01-01")
    assert (as_of - ancient).days >= LOOKBACK_DAYS == 730
    old_leads = pd.DataFrame({"lead_id": ["X1", "X2"], "created_at": [ancient] * 2, "channel": "web"})
    lost = pd.DataFrame({"opportunity_id": ["OX1", "OX2", "OX3"], "created_at": [ancient + pd.Timedelta(days=5)] * 3,
                         "closed_at": [ancient + pd.Timedelta(days=30)] * 3, "outcome": "lost", "amount": 1.0,
                         "lead_id": ["X1", "X2", None]})
    leads = pd.concat([leads, old_leads.astype({"created_at": leads["created_at"].dtype})], ignore_index=True)
    opps = pd.concat([opps, lost.astype({c: opps[c].dtype for c in ("created_at", "closed_at")})], ignore_index=True)
    assert (opps["outcome"] == "lost").sum() == 3
    out = _projected(leads, opps, as_of)
    code = "projection_no_lost_deals" if history_outcome == "won" else "projection_nothing_closed"
    assert out["projected_lead_to_opportunity_rate"]["expected"] == pytest.approx(0.5)
    assert out["projected_lead_to_won_rate"] is None and out["null_reasons"] == {"projected_lead_to_won_rate": code}
    assert t(f"reason_{code}", lang) == PROJECTION_SENTENCES[code][lang]
    assert str(LOOKBACK_DAYS) in t(f"reason_{code}", lang)   # the window the label names is the code's constant
    cohort = {"lead_to_opportunity_rate": 0.0, "lead_to_won_rate": 0.0, **out}
    html = str(goals_views.projection_view(SimpleNamespace(lang=lang), {"funnel": {"cohort": cohort}}).data)
    assert PROJECTION_SENTENCES[code][lang] in html and t("reason_no_lost_deals", lang) not in html


def test_projection_with_lost_deals_is_made():
    # 10 deals closed day 30: 5 won, 5 lost. F_won(H) = 5/20 = 0.25 and every cohort lead (age 0, undecided: S(0) = 1)
    # wins with 0.25: projected 0.25; lead -> opportunity 0.5 as above
    import pandas as pd

    leads, opps, as_of = _young(10, "won")
    opps = opps.assign(outcome=["won"] * 5 + ["lost"] * 5)
    out = _projected(leads, opps, as_of)
    assert "null_reasons" not in out
    assert out["projected_lead_to_opportunity_rate"]["expected"] == pytest.approx(0.5)
    assert out["projected_lead_to_won_rate"]["expected"] == pytest.approx(0.25)
    assert isinstance(out["projected_lead_to_won_rate"]["low_95"], float) and not pd.isna(out["projected_lead_to_won_rate"]["low_95"])


def _core(folder, period_label: str, as_of=None) -> dict:
    from helpers.data.periods import parse_period
    from helpers.metrics.core import core_metrics

    wb = load.load_workbook(folder, as_of=as_of)
    return core_metrics(wb, parse_period(period_label, wb.config.fiscal_year_start_month), projected=True)


def test_a_handful_of_leads_projects_nothing():
    # single-lead: one lead created on as_of (2025-04-02), no opportunities file; 2025Q2 (calendar quarters)
    cohort = _core(CASES / "single-lead", "2025Q2")["funnel"]["cohort"]
    assert cohort["leads"] == 1 and cohort["projected_lead_to_opportunity_rate"] is None
    assert cohort["projected_lead_to_won_rate"] is None
    # no opportunities file: no conversion curve at all, the reason before the cohort's size (one rule, as every
    # figure of the opportunities: helpers.metrics.core)
    assert cohort["null_reasons"]["projected_lead_to_opportunity_rate"] == "no_opportunities"
    assert cohort["null_reasons"]["projected_lead_to_won_rate"] == "no_opportunities"
    # only-won as of 2025-05-01, FY2025Q1 (April start): L1, L2, L3 created by then; L1, L2 have opportunities
    cohort = _core(CASES / "only-won", "FY2025Q1", "2025-05-01")["funnel"]["cohort"]
    assert (cohort["leads"], cohort["opportunity"], cohort["won"]) == (3, 2, 0)
    assert cohort["lead_to_opportunity_rate"] == pytest.approx(2 / 3)
    assert cohort["projected_lead_to_opportunity_rate"] is None and cohort["projected_lead_to_won_rate"] is None
    assert cohort["null_reasons"] == {"projected_lead_to_opportunity_rate": "too_few_cohort_leads",
                                      "projected_lead_to_won_rate": "too_few_cohort_leads"}


def test_the_funnels_won_step_is_a_share_of_opportunities_not_a_win_rate():
    # only-won, as_of = its last date 2025-06-10: the cohort L1..L4; L1 -> O1 won 05-20, L2 -> O2 won 06-10; no lost deal.
    # The contract's step rate won/opportunity = 2/2 and lead_to_won_rate = won/leads = 2/4 stay defined; the win
    # rate (won / (won + lost)) is null with no_lost_deals.
    core = _core(CASES / "only-won", "FY2025Q1")
    cohort = core["funnel"]["cohort"]
    assert (cohort["leads"], cohort["opportunity"], cohort["won"]) == (4, 2, 2)
    assert (cohort["won_rate"], cohort["lead_to_won_rate"]) == (1.0, 0.5)
    assert core["pipeline"]["win_rate"] is None and core["pipeline"]["null_reasons"]["win_rate"] == "no_lost_deals"
    assert cohort["projected_lead_to_won_rate"] is None
    assert cohort["null_reasons"]["projected_lead_to_won_rate"] == "too_few_cohort_leads"


# --------------------------------------------------------------------------- breakdowns by a leads-only column
def test_segment_rows_say_the_opportunities_have_no_such_column():
    # only-won: industry and company_size are columns of leads.csv only; owner is in both files
    from helpers.metrics.pipeline import PIPELINE_KEYS

    core = _core(CASES / "only-won", "FY2025Q1")
    for column in ("industry", "company_size"):
        for value, row in core["by_segment"][column].items():
            assert row["opportunities_created"] is None and row["won_count"] is None, (column, value)
            assert row["null_reasons"] == dict.fromkeys(PIPELINE_KEYS, "segment_not_in_opportunities"), (column, value)
    seizo = core["by_segment"]["industry"]["製造"]   # L1 (opportunity O1, won) and L3: 2 leads, 1 opportunity
    assert (seizo["funnel"]["cohort"]["leads"], seizo["funnel"]["cohort"]["opportunity"]) == (2, 1)
    owner = core["by_segment"]["owner"]
    assert all("segment_not_in_opportunities" not in (row.get("null_reasons") or {}).values() for row in owner.values())
    assert sum(row["opportunities_created"] for row in owner.values()) == 3   # O1, O2, O3 created in FY2025Q1


@pytest.mark.parametrize("lang, sentence", [
    ("en", "the opportunities have no column industry"), ("ja", "商談データに「industry」の列がありません")])
def test_the_segment_table_says_why_its_deal_figures_are_empty(lang, sentence):
    from helpers.report.session import open_session
    from helpers.views import funnel_views

    s = open_session(str(CASES / "only-won"), period="FY2025Q1", lang=lang, theme=False)
    assert sentence in funnel_views.rate_view(s, "industry").data
    assert funnel_views._missing_column_lines(s, "owner") == []


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_projection_table_shows_the_reason_not_a_rate(lang):
    from types import SimpleNamespace

    from helpers.labels import t
    from helpers.views import goals_views

    reasons = {"projected_lead_to_opportunity_rate": "too_few_cohort_leads",
               "projected_lead_to_won_rate": "projection_nothing_closed"}
    cohort = {"lead_to_opportunity_rate": 2 / 3, "lead_to_won_rate": 0.0, "projected_lead_to_opportunity_rate": None,
              "projected_lead_to_won_rate": None, "null_reasons": reasons}
    html = str(goals_views.projection_view(SimpleNamespace(lang=lang), {"funnel": {"cohort": cohort}}).data)
    for code in reasons.values():
        assert t(f"reason_{code}", lang).split("(")[0].split("(")[0] in html
    assert "66.7%" in html and "0.0% [" not in html and "100.0% [" not in html
    assert html.count(t("not_available", lang)) == 2
