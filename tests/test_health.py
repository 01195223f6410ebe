"""Data-health figures (notebook 00), hand-computed on the tiny folder plus three rows."""
import pandas as pd
import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.data.load import load_workbook
from helpers.metrics import health

T = pd.Timestamp


def lead(lead_id, created, channel, opportunity_id=""):
    # lead_id, created_at, channel, campaign, industry, company_size, mql_at, sql_at, first touch, opportunity_id, owner, email
    return ",".join([lead_id, created, channel, "", "", "", "", "", "", opportunity_id, "", ""]) + "\n"


@pytest.fixture
def wb(tmp_path):
    # L4: linked only from the opportunity side (O4.lead_id), no stage dates.
    # L5: linked only from the lead side (L5.opportunity_id = O5); O5 has no lead_id and no channel -> 'unknown'.
    leads = LEADS_CSV + lead("L4", "2025-05-01", "web") + lead("L5", "2025-05-10", "seminar", "O5")
    opps = OPPS_CSV + "O4,2025-05-02,2025-06-20,won,300000,L4,,,,,\nO5,2025-05-11,2025-05-15,won,500000,,,,,,\n"
    return load_workbook(write_folder(tmp_path, {"leads.csv": leads, "opportunities.csv": opps}))


def test_stage_completeness(wb):
    got = health.stage_completeness(wb.leads, wb.opportunities, wb.as_of)
    # 5 leads; MQL dates: L1, L2 (2/5); SQL date: L1 (1/5); linked: L1 (both sides), L4 (opp side), L5 (lead side) = 3/5
    # skipped MQL: reached SQL or an opportunity without an mql_at: L4, L5 = 2; skipped SQL: linked without sql_at: L4, L5 = 2
    assert got == {"leads": 5, "with_mql_at": 2, "with_mql_at_share": 0.4, "with_sql_at": 1, "with_sql_at_share": 0.2,
                   "with_opportunity": 3, "with_opportunity_share": 0.6, "skipped_mql": 2, "skipped_sql": 2}
    assert health.stage_completeness(None, wb.opportunities, wb.as_of) is None


def test_traceability_all_history_and_period(wb):
    got = health.traceability(wb.opportunities, wb.as_of, leads=wb.leads)
    # won: O1 1,200,000 (channel web from L1), O4 300,000 (web from L4), O5 500,000 (unknown) = 2,000,000
    # known channel: 1,500,000 / 2,000,000 = 0.75; linked to a lead: O1, O4 and O5 (lead side) = 1.0
    # without a lead: O2, O3 = 2; unknown channel: O3, O5 = 2
    assert got == {"won_count": 3, "won_revenue": 2_000_000.0, "revenue_traceable_share": 0.75,
                   "revenue_linked_to_lead_share": 1.0, "opportunities_without_lead": 2, "opportunities_unknown_channel": 2}
    # without the leads table only opportunity-side links count: O1, O4 -> 1,500,000 / 2,000,000
    assert health.traceability(wb.opportunities, wb.as_of)["revenue_linked_to_lead_share"] == 0.75
    june = health.traceability(wb.opportunities, wb.as_of, T("2025-06-01"), T("2025-06-30"), leads=wb.leads)
    # closed in June: O1 (06-01), O4 (06-20); O5 closed 05-15 is outside
    assert (june["won_count"], june["won_revenue"], june["revenue_traceable_share"]) == (2, 1_500_000.0, 1.0)
    nothing = health.traceability(wb.opportunities, wb.as_of, T("2025-01-01"), T("2025-03-31"))
    assert nothing["won_count"] == 0 and nothing["revenue_traceable_share"] is None  # null, never 0


def test_stale_open_deals(wb):
    # open at as_of 2025-06-30: only O3 (created 2025-06-10, 800,000): 20 days old
    assert health.stale_open_deals(wb.opportunities, wb.as_of, 10) == {
        "threshold_days": 10, "open": 1, "stale": 1, "stale_amount": 800000.0, "oldest_days": 20}
    assert health.stale_open_deals(wb.opportunities, wb.as_of, 20)["stale"] == 0  # "older than" is strict


def test_rows_per_period_and_value_counts(wb):
    from helpers.data.periods import parse_period

    rows = health.rows_per_period(wb, [parse_period("2025Q1"), parse_period("2025Q2")])
    # leads L1-L5 created in Q2; opportunities O1-O5 created in Q2; closed (won/lost): O1, O2, O4, O5
    assert rows.to_dict("records") == [{"period": "2025Q1", "leads": 0, "opportunities_created": 0, "closed": 0},
                                       {"period": "2025Q2", "leads": 5, "opportunities_created": 5, "closed": 4}]
    counts = health.value_counts(wb, "channel")
    # leads: web L1, L3, L4 = 3; seminar L2, L5 = 2. opportunities: web O1, O4; outbound O2; unknown O3, O5
    assert counts.set_index("value").to_dict("index") == {
        "web": {"leads": 3, "opportunities": 2}, "seminar": {"leads": 2, "opportunities": 0},
        "unknown": {"leads": 0, "opportunities": 2}, "outbound": {"leads": 0, "opportunities": 1}}


def test_rows_per_period_in_a_fiscal_year_from_april():
    from types import SimpleNamespace

    from helpers.data.periods import parse_period

    opps = pd.DataFrame({"created_at": pd.to_datetime(["2025-03-31", "2025-04-01", "2025-04-01 15:00", "2025-06-30", "2025-07-01"], format="ISO8601"),
                         "closed_at": pd.to_datetime(["2025-04-02", None, None, None, None]),
                         "outcome": ["won", "open", "open", "open", "open"]})
    wb = SimpleNamespace(config=SimpleNamespace(fiscal_year_start_month=4), as_of=pd.Timestamp("2025-06-30"), leads=None,
                         opportunities=opps)
    rows = health.rows_per_period(wb, [parse_period("FY2024Q4", 4), parse_period("FY2025Q1", 4)])
    # March 31 is the last day of FY2024Q4, April 1 (twice) and June 30 are FY2025Q1, July 1 is after as_of;
    # the deal won on April 2 closed in FY2025Q1
    assert rows.to_dict("records") == [{"period": "FY2024Q4", "opportunities_created": 1, "closed": 0},
                                       {"period": "FY2025Q1", "opportunities_created": 3, "closed": 1}]


def test_rows_per_period_legend_sits_beside_the_bars(tiny_folder):
    from helpers.report.session import open_session
    from helpers.views import health_views

    s = open_session(str(tiny_folder), theme=False)
    chart = health_views.rows_per_period_chart(health.rows_per_period(s.wb, health.periods_to(s.wb, s.period)), "en")
    chart.fig.canvas.draw()
    ax = chart.fig.axes[0]
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1  # never over a bar


def test_overview_row_counts_have_thousands_separators():
    from helpers.data.load import load_workbook
    from helpers.paths import SAMPLE_DATA_DIR
    from helpers.views.health_views import overview_view

    html = overview_view(load_workbook(SAMPLE_DATA_DIR), "en").data
    assert '<td class="wb-num">4,400</td>' in html and '<td class="wb-num">1,257</td>' in html   # the sample's leads and checklist rows


def test_spelling_variants_sentence_follows_the_data(tmp_path):
    """Issue 24: the channel list says spelling variants exist only when the loader found some (Web and web here)."""
    from helpers.config import load_config
    from helpers.labels import t
    from helpers.views.health_views import value_counts_view

    clean = write_folder(tmp_path / "clean", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    html = value_counts_view(load_workbook(clean, load_config(clean)), "channel", "en").data
    assert t("health_no_channel_variants", "en") in html and t("health_channel_variants", "en") not in html
    varied = write_folder(tmp_path / "varied", {"leads.csv": LEADS_CSV.replace("L3,2025-05-20,web", "L3,2025-05-20,Web"),
                                                "opportunities.csv": OPPS_CSV})
    html = value_counts_view(load_workbook(varied, load_config(varied)), "channel", "ja").data
    assert t("health_channel_variants", "ja") in html and t("health_no_channel_variants", "ja") not in html
