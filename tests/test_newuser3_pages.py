"""Report pages a new user read (round 3, /work/newuser-cases3): notebook 04 said "no backtest" twice; notebook 03
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
