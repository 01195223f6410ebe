"""Report pages a new user read (round 3; inputs copied into tests/fixtures/newuser3): notebook 04 said "no backtest" twice; notebook 03
said "1 quarters" and showed the seasonally adjusted change as "n/a n/a" with no reason beside it. Inputs:
tests/fixtures/newuser3/sf-ja-sjis (the ingested Salesforce JA exports with the user's mapping, April fiscal year)."""
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from helpers.report.session import open_session

FIXTURES = Path(__file__).parent / "fixtures" / "newuser3"
SJIS = FIXTURES / "sf-ja-sjis"


@pytest.mark.parametrize("lang, text", [
    ("en", "No backtest: no past period has 365 days of history before its forecast dates."),
    ("ja", "予測の検証はできません: 予測日の前に365日分の履歴がある過去の期間がありません。")])
def test_no_backtest_is_said_once(lang, text):
    """FY2025Q2 (data from 2025-04-02): no past period has a year of history, so neither forecast day can be tested;
    the view says so and the chart below it adds nothing (it said the same sentence again)."""
    from helpers.views import goals_views as gv

    s = open_session(str(SJIS), period="FY2025Q2", lang=lang)
    g = gv.compute(s)
    assert g.section["backtest"]["periods"] == []
    assert text in gv.backtest_view(s, g).data
    assert gv.backtest_chart(s, g) is None
    plt.close("all")


XLSX = FIXTURES / "canonical-ja-xlsx"   # canonical_ja xlsx exports (exports3 + the user's mapping), FY from April


@pytest.mark.parametrize("lang, text", [
    ("en", "No seasonal decomposition (STL): it needs at least 8 consecutive complete quarters (two years) with a "
           "measurable velocity, and the data holds 1 quarter in all."),
    ("ja", "季節分解(STL)は行いません。ベロシティを測定できる完全な四半期が8期(2年分)以上連続して必要ですが、"
           "データには全部で1四半期しかありません。")])
def test_one_quarter_is_said_in_the_singular(lang, text):
    """Opportunities from 2024-04-08, as of FY2024Q3: one complete quarter (FY2024Q1) has a measurable velocity."""
    from helpers.views import velocity_views as vv

    s = open_session(str(XLSX), period="FY2024Q3", lang=lang)
    assert text in vv.stl_chart(s).data


@pytest.mark.parametrize("lang, card", [
    ("en", '<div class="wb-kpi-value">n/a</div><div class="wb-kpi-note">The data start on 2024-04-08, so &#x27;Before, '
           'a year earlier&#x27; and &#x27;After, a year earlier&#x27; hold no data: the change cannot be adjusted for '
           'season.</div>'),
    ("ja", '<div class="wb-kpi-value">該当なし</div><div class="wb-kpi-note">データは2024-04-08からで、「前年の施策前期間」と'
           '「前年の施策後期間」にはデータがないため、季節調整できません。</div>')])
def test_the_seasonally_adjusted_change_says_why_it_is_not_available(lang, card):
    """共通KPIの設定 (2024-07-01): the last-year windows (from 2023-04-02) lie before the first opportunity (2024-04-08),
    so the adjusted change is n/a once (it read "n/a n/a"), with its reason in the card."""
    from helpers.views import velocity_views as vv

    s = open_session(str(XLSX), period="FY2024Q3", lang=lang)
    vc = vv.comparison(s, None, None)
    assert vc["seasonally_adjusted_change"] is None
    html = vv.headline(s, vc).data
    assert card in html and "n/a n/a" not in html and "該当なし 該当なし" not in html


@pytest.mark.parametrize("lang, cell", [
    ("en", "<td>10.36× (¥14,500,000 of channels with spend ÷ ¥1,400,000)</td>"),
    ("ja", "<td>10.36×(費用のあるチャネルの¥14,500,000 ÷ ¥1,400,000)</td>")])
def test_the_roi_total_row_names_the_revenue_its_ratio_counts(lang, cell):
    """FY2024Q1 leads' won revenue to as_of: ウェブ ¥0 (spend ¥600,000), セミナー ¥14,500,000 (D-001 12,000,000 +
    D-005 2,500,000; spend ¥800,000), 展示会 ¥3,500,000 with no spend: the total row shows ¥18,000,000, while its return
    counts the channels with spend only, 14,500,000 ÷ 1,400,000 = 10.357 -> 10.36×, and now says so in the cell."""
    from helpers.views import funnel_views as fv

    s = open_session(str(XLSX), period="FY2024Q1", lang=lang)
    html = fv.roi_view(s).data
    total = html[html.index("<td>" + ("Total" if lang == "en" else "合計") + "</td>"):]
    assert '<td class="wb-num">¥18,000,000</td>' in total and cell in total
    assert "<td class=\"wb-num\">18.12×</td>" in html   # a channel's own ratio is unchanged


SIZES = FIXTURES / "sf-en-us"   # salesforce_en data (Employees headcounts in company_size) and the user's icp.yaml


@pytest.mark.parametrize("lang, message, fix", [
    ("en", "The target company sizes in the settings (50-299, 300-999) match no company_size of the data (1200, 150, "
           "250, 300, 40, 5000, 80, 900), so every deal with a known size is 'Outside target'",
     "Write target.company_sizes as the data spells its sizes (e.g. [1200, 150]), or, when the export holds headcounts, "
     "map each headcount to its range with a values map on company_size in the mapping ({column: Employees, values: "
     "{'250': 50-299}}): the mapping has no ranges (bins), so each value is listed."),
    ("ja", "設定の対象企業規模(50-299, 300-999)がデータの company_size(1200, 150, 250, 300, 40, 5000, 80, 900)のどれとも"
           "一致しないため、規模の分かる商談はすべて「ターゲット外」になります",
     "target.company_sizes をデータの規模の書き方で指定する(例: [1200, 150])か、エクスポートが従業員数の場合はマッピングの "
     "company_size に値の対応表を書いて各従業員数を範囲に対応させてください({column: Employees, values: {'250': 50-299}})。"
     "マッピングには範囲(ビン)の指定がないため、値ごとに書きます。")])
def test_target_sizes_that_match_no_value_of_the_data_are_warned(lang, message, fix):
    """8 deals with headcounts 250, 40, 1200, 80, 5000, 900, 300, 150; target sizes 50-299 and 300-999 match none
    (compared as text, as the target fit does): a data-health warning, and no size is binned."""
    from helpers.metrics.limits import warning_sentences, workbook_warnings

    s = open_session(str(SIZES), config_path=str(SIZES / "icp.yaml"), lang=lang)
    found = [w for w in workbook_warnings(s.wb, s.source) if w["code"] == "target_sizes_unmatched"]
    assert len(found) == 1 and warning_sentences(found[0], lang) == (message, fix)
    assert sorted(s.wb.opportunities["company_size"].astype(str)) == sorted(
        ["250", "40", "1200", "80", "5000", "900", "300", "150"])


def test_a_matching_target_size_is_not_warned(tmp_path):
    """One value of the data among the targets (250): no warning."""
    from helpers.metrics.limits import workbook_warnings

    (tmp_path / "icp.yaml").write_text('target:\n  company_sizes: ["250", "300-999"]\n', encoding="utf-8")
    s = open_session(str(SIZES), config_path=str(tmp_path / "icp.yaml"), lang="en")
    assert not [w for w in workbook_warnings(s.wb, s.source) if w["code"] == "target_sizes_unmatched"]
