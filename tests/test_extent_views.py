"""A period outside the data's extent, opened in the lab (the runner refuses it): each chart of no data is a sentence
saying why, never an empty chart (the sample: leads from 2023-04-01, every date up to 2026-09-30)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from IPython.display import HTML

from helpers.labels import t
from helpers.metrics import health
from helpers.paths import SAMPLE_DATA_DIR
from helpers.report.session import open_session
from helpers.views import attribution_views as av
from helpers.views import funnel_views as fv
from helpers.views import health_views


def _is_note(view, text: str) -> None:
    assert isinstance(view, HTML) and text in view.data, view
    assert not plt.get_fignums()   # no figure left drawn behind the sentence


@pytest.mark.parametrize("period", ["FY2022Q4", "FY2010Q1"])
def test_rows_per_period_before_the_data_is_a_sentence(period):
    s = open_session(str(SAMPLE_DATA_DIR), period=period, theme=False)
    frame = health.rows_per_period(s.wb, health.periods_to(s.wb, s.period, s.source), s.source)
    assert len(frame) == 0   # no period from the first data date (FY2023Q1) up to one that ends before it
    plt.close("all")
    _is_note(health_views.rows_per_period_chart(frame, "ja"), t("health_rows_per_period_empty", "ja"))
    _is_note(health_views.coverage_note(s), f"{period} is outside the data, which runs from 2023-04-01 to 2026-09-30")


def test_the_charts_of_a_period_after_the_data_are_sentences():
    s = open_session(str(SAMPLE_DATA_DIR), period="FY2027Q1", as_of="2027-06-30", theme=False)
    plt.close("all")
    # as_of 2027-06-30 adds no data: the data still ends on its last date
    _is_note(health_views.coverage_note(s), "FY2027Q1 is outside the data, which runs from 2023-04-01 to 2026-09-30")
    _is_note(fv.roi_chart(s), t("funnel_roi_empty", "en").format(period="FY2027Q1"))
    _is_note(av.models_chart(s, av.compute(s)), t("attribution_chart_empty", "en").format(period="FY2027Q1"))
