"""Marketing ROI (helpers.metrics.roi): grouped engine aggregates, three queries whatever the number of channels, and
computed once per period for notebook 02's table and chart (issue 26). The figures themselves are pinned by hand in
tests/test_funnel_analysis.py (test_marketing_roi_*)."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.data import snapshot
from helpers.metrics import engine, roi
from helpers.metrics.funnel_analysis import marketing_roi
from helpers.paths import SAMPLE_DATA_DIR
from test_funnel_analysis import AS_OF, END, START, _leads, _opps, _spend


@pytest.fixture
def queries(monkeypatch):
    """The engine queries run (each call of helpers.metrics.engine.run)."""
    ran = []
    real = engine.run

    def counting(expr, backend=None):
        ran.append(expr)
        return real(expr, backend)

    monkeypatch.setattr(engine, "run", counting)
    return ran


def test_roi_is_three_grouped_queries_whatever_the_channels(queries):
    few = marketing_roi(_spend(), _leads(), _opps(), START, END, AS_OF)
    assert len(queries) == 3 and list(few["channel"]) == ["ads", "partner", "seminar", "web", "total"]
    # every lead and deal a channel of its own: 13 channels + 3 of the spend, still one pass per table
    leads, opps = _leads(), _opps()
    leads["channel"] = [f"c{i}" for i in range(len(leads))]
    opps["channel"] = [f"d{i}" for i in range(len(opps))]
    many = marketing_roi(_spend(), leads, opps, START, END, AS_OF)
    assert len(queries) == 6 and len(many) == len(leads) + len(opps) + 4  # + the spend's ads, seminar, web; the total
    # the total does not depend on how the rows are labelled: 180 spend, 6 leads, 6 deals, 740 pipeline, 600 won
    t1, t2 = few.set_index("channel").loc["total"], many.set_index("channel").loc["total"]
    assert [t2[k] for k in ("spend", "leads", "opportunities_created", "pipeline_amount", "won_revenue")] \
        == [180.0, 6, 6, 740.0, 600.0] == [t1[k] for k in ("spend", "leads", "opportunities_created", "pipeline_amount",
                                                              "won_revenue")]
    # web's cohort revenue (O1 won 100, linked to its lead L1) is now the revenue of L1's own channel
    l1 = leads.loc[leads["lead_id"] == "L1", "channel"].iloc[0]
    assert many.set_index("channel").loc[l1, "cohort_won_revenue"] == 100.0


def test_the_table_and_the_chart_share_one_computation(tmp_path, monkeypatch):
    """Notebook 02's ROI table and chart (and a second session of the same snapshot) compute the period's ROI once."""
    from helpers.report.session import open_session
    from helpers.views import funnel_views as fv

    monkeypatch.setenv(snapshot.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(snapshot.SNAPSHOT_ENV, raising=False)
    computed = []
    real = roi.roi_by_channel

    def counting(*args, **kwargs):
        computed.append(args[-3:])
        return real(*args, **kwargs)

    monkeypatch.setattr(roi, "roi_by_channel", counting)
    roi._MEMO.clear()
    s = open_session(str(SAMPLE_DATA_DIR), theme=False)
    fv.roi_view(s)
    fv.roi_chart(s)
    fv.roi_view(open_session(str(SAMPLE_DATA_DIR), theme=False))
    assert computed == [(s.period.start, s.period.end, s.as_of)]
    expected = marketing_roi(s.wb.spend, s.wb.leads, s.wb.opportunities, s.period.start, s.period.end, s.as_of)
    pd.testing.assert_frame_equal(expected, roi_table_of(s))
    roi._MEMO.clear()


def roi_table_of(s):
    from helpers.metrics.funnel_analysis import roi_table

    return roi_table(roi.roi_rows(s.wb, s.period))
