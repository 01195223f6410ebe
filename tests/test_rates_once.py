"""Notebook 02's rate table and its two charts of one dimension share one computation (issue 26): the table ranked by
another rate is fa.reranked of it, equal to rate_table(..., rank_by=that rate) row for row."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.metrics import funnel_analysis as fa
from helpers.paths import SAMPLE_DATA_DIR
from test_funnel_analysis import AS_OF, END, START, _leads, _opps


@pytest.mark.parametrize("rank_by", ["win_rate", "lead_to_opportunity_rate"])
@pytest.mark.parametrize("min_group", [1, 2, 20])
def test_reranked_is_rate_table_ranked_by_that_rate(rank_by, min_group):
    base = fa.rate_table(_leads(), _opps(), "channel", START, END, AS_OF, min_group=min_group)
    direct = fa.rate_table(_leads(), _opps(), "channel", START, END, AS_OF, min_group=min_group, rank_by=rank_by)
    pd.testing.assert_frame_equal(fa.reranked(base, "channel", rank_by), direct, check_exact=True)
    with pytest.raises(ValueError):
        fa.reranked(base, "channel", "won_revenue")


def test_reranked_moves_rows_and_flags():
    """With min_group 2 the order differs between the two rates (checked here, so the test above compares orders that
    really differ): by lead-to-opportunity rate and by win rate the first channel is not the same one."""
    base = fa.rate_table(_leads(), _opps(), "channel", START, END, AS_OF, min_group=2)
    by_win = fa.reranked(base, "channel", "win_rate")
    assert list(base["channel"]) != list(by_win["channel"]) and list(by_win["channel"])[-1] == "total"
    assert (by_win["small_group"] == by_win["small_win_rate"]).all()


def test_the_view_and_its_charts_compute_the_rates_once(monkeypatch):
    from helpers.report.session import open_session
    from helpers.views import funnel_views as fv

    calls = []
    real = fa.rate_table_of   # the view computes on the session's source (helpers.metrics.source)
    monkeypatch.setattr(fa, "rate_table_of", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    s = open_session(str(SAMPLE_DATA_DIR), theme=False)
    fv.rate_view(s, "channel")
    fv.rate_chart(s, "channel", "lead_to_opportunity_rate")
    fv.rate_chart(s, "channel", "win_rate")
    fv.rate_view(s, "industry")
    assert calls == ["channel", "industry"]
    import matplotlib.pyplot as plt

    plt.close("all")
