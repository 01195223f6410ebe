"""The new-user tester's second round (tests/fixtures/newuser/README.md): a quarter without leads says so (not "still
in play", no immaturity note, the null marker with its reason beside it), a channel flagging every lead says why its
recall and lift are n/a on its row, and a disqualify reason without its date is a data-health warning.
Hand-computed expectations; sentences from the label table in both languages."""
import pytest

from helpers.labels import t
from helpers.paths import PROJ_ROOT
from helpers.report.session import open_session

CASES = PROJ_ROOT / "tests" / "fixtures" / "newuser"
FY_APRIL = CASES / "fy-april-hand"   # April fiscal year; FY2024Q2 (Jul-Sep 2024) has no lead; as_of 2024-11-09
AUDIT_RATES = ("precision", "recall", "base_rate", "lift")


def _lead_quality(period: str, lang: str):
    from helpers.views import lead_views as lv

    s = open_session(str(FY_APRIL), period=period, lang=lang)
    return s, lv.compute(s)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_quarter_without_leads_says_no_lead_was_created(lang):
    from helpers.views import lead_views as lv

    s, lq = _lead_quality("FY2024Q2", lang)
    assert (s.period.label, f"{s.as_of:%Y-%m-%d}") == ("FY2024Q2", "2024-11-09")
    sec = lq.section
    assert (sec["period_observed_leads"], sec["period_still_in_play"]) == (0, 0)
    period = sec["mql_audit"]["period"]
    assert period["observed"] == 0 and all(period[k] is None for k in AUDIT_RATES)
    assert period["null_reasons"] == dict.fromkeys(AUDIT_RATES, "no_cohort_leads")
    assert sec["mql_audit"]["all_history"]["null_reasons"] == {}   # the 11 observed leads of other periods: figures
    no_lead, young = t("reason_no_cohort_leads", lang), t("reason_no_observed_leads", lang)
    assert no_lead == {"en": "No lead was created in this period.", "ja": "この期間に作成されたリードがありません。"}[lang]
    table = str(lv.channel_table(s, lq).data)
    assert no_lead in table and young not in table
    rule = str(lv.rule_view(s, lq).data)
    figures = t("list_separator", lang).join(t(k, lang) for k in AUDIT_RATES)
    assert f"<li>{figures}: {no_lead}</li>" in rule and young not in rule
    assert rule.count(f">{t('not_available', lang)}<") == 4   # the period row: precision, recall, base rate, lift


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_cohort_without_leads_is_not_called_immature(lang):
    from helpers.metrics.core import core_metrics
    from helpers.views import funnel_views as fv

    s = open_session(str(FY_APRIL), period="FY2024Q2", lang=lang)
    cohort = core_metrics(s.wb, s.period, source=s.source)["funnel"]["cohort"]
    assert cohort["leads"] == 0 and cohort["immature"] is None
    assert cohort["null_reasons"]["immature"] == "no_cohort_leads"
    assert fv.maturity_note(s, {"funnel": {"cohort": cohort}}) is None
    q1 = open_session(str(FY_APRIL), period="FY2024Q1", lang=lang)   # 10 leads, 132 to 222 days old: mature
    assert core_metrics(q1.wb, q1.period, source=q1.source)["funnel"]["cohort"]["immature"] is not None


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_index_line_shows_the_null_marker_with_the_reason_beside_it(lang):
    from helpers.report.index_page import lead_quality_lines

    reasons = dict.fromkeys(AUDIT_RATES, "no_cohort_leads")
    empty = {"observed": 0, "precision": None, "recall": None, "null_reasons": reasons}
    line, = lead_quality_lines([("FY2024Q2", {"lead_quality": {"mql_audit": {"period": empty}}}, [])], lang)
    na, no_lead = t("not_available", lang), t("reason_no_cohort_leads", lang)
    assert line == {
        "en": f"FY2024Q2: MQL rule — precision {na}, recall {na} (0 observed leads); Precision, Recall n/a: {no_lead}",
        "ja": f"FY2024Q2: MQLルール — 適合率 {na}、再現率 {na}(観測済みリード0件)。適合率、再現率は該当なし: {no_lead}"}[lang]
    assert line.count(no_lead) == 1
    full = {"observed": 10, "precision": 0.625, "recall": 1.0, "null_reasons": {}}
    line, = lead_quality_lines([("FY2024Q1", {"lead_quality": {"mql_audit": {"period": full}}}, [])], lang)
    assert line == {"en": "FY2024Q1: MQL rule — precision 62.5%, recall 100.0% (10 observed leads)",
                    "ja": "FY2024Q1: MQLルール — 適合率 62.5%、再現率 100.0%(観測済みリード10件)"}[lang]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_channel_flagging_every_lead_says_why_on_its_row(lang):
    """FY2024Q1, H = 30 days, every lead observed: seminar's L03, L04, L10 all have mql_at (flagged 3 of 3), L03 and
    L10 became opportunities: precision = base rate = 2/3, recall and lift n/a (all_flagged) with the reason on the
    row; ad (1 of 2 flagged) and web (4 of 5) have every figure and an empty reason cell."""
    import bs4

    from helpers.views import lead_views as lv
    from helpers.views.common import channel_label

    s, lq = _lead_quality("FY2024Q1", lang)
    seminar = lq.section["mql_audit"]["by_channel"]["seminar"]
    assert (seminar["observed"], seminar["flagged"], seminar["converted"]) == (3, 3, 2)
    assert seminar["precision"] == pytest.approx(2 / 3) and seminar["base_rate"] == pytest.approx(2 / 3)
    assert seminar["null_reasons"] == {"recall": "all_flagged", "lift": "all_flagged"}
    soup = bs4.BeautifulSoup(str(lv.channel_table(s, lq).data), "html.parser")
    head = [th.get_text() for th in soup.find("thead").find_all("th")]
    rows = {tr.find("td").get_text(): dict(zip(head, (td.get_text() for td in tr.find_all("td"))))
            for tr in soup.find("tbody").find_all("tr")}
    rows = {ch: rows[channel_label(s.config, ch, lang)] for ch in ("ad", "seminar", "web")}
    why, na = t("lq_null_why", lang), t("not_available", lang)
    reason = f"{t('list_separator', lang).join([t('recall', lang), t('lift', lang)])}: {t('reason_all_flagged', lang)}"
    assert [rows["seminar"][k] for k in (t("recall", lang), t("lift", lang), why)] == [na, na, reason]
    assert rows["ad"][why] == rows["web"][why] == ""   # nothing n/a there: the cell stays empty


FEEDBACK_PARTIAL = CASES / "feedback-partial"   # sales feedback half filled: L08 has a reason, no disqualified_at


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_disqualify_reason_without_its_date_is_a_data_health_warning(lang):
    """leads.csv row 9 (L08, MQL 2024-06-11): disqualify_reason 競合利用中, disqualified_at empty. The status needs
    the decision's day (contract section 5: sales' first decision known by as_of), so L08 stays pending and its
    reason out of the shares; the warning names the file, the row, the column and the reason. FY2024Q1 MQLs: L01,
    L02, L03, L07, L10 accepted (sql_at), L04 and L05 disqualified (L04 with no reason, L05 時期尚早 on 05-12 before
    its recycling on 05-20), L08 pending: 8 MQLs = 5 + 2 + 0 + 1."""
    import helpers.data.load as load
    from helpers.errors import warning_text
    from helpers.metrics.lead_feedback import NO_REASON

    wb = load.load_workbook(FEEDBACK_PARTIAL)
    found = [(w.file, w.code, w.column, w.rows, w.values, w.count) for w in wb.warnings]
    assert found == [("leads.csv", "reason_without_disqualified_at", "disqualified_at", (9,), ("競合利用中",), 1)]
    sentence, fix = warning_text("reason_without_disqualified_at", {}, lang, 1, "leads.csv", "disqualified_at")
    assert sentence == t("warning_reason_without_disqualified_at", lang) and fix == t("fix_reason_without_disqualified_at", lang)
    assert {"en": "the lead counts as not disqualified", "ja": "失格として数えず"}[lang] in sentence
    assert {"en": "Fill disqualified_at", "ja": "disqualified_at に入力"}[lang] in fix

    from helpers.views import lead_views as lv

    s = open_session(str(FEEDBACK_PARTIAL), period="FY2024Q1", lang=lang)
    fb = lv.compute(s).section["feedback"]["period"]
    assert (fb["mqls"], fb["accepted"], fb["disqualified"], fb["recycled"], fb["pending"]) == (8, 5, 2, 0, 1)
    assert fb["disqualify_reasons"] == {NO_REASON: 0.5, "時期尚早": 0.5}   # shares of the 2 disqualified: 100%
