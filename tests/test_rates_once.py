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
    real = fa.rate_tables_of   # the view computes on the session's source (helpers.metrics.source)
    monkeypatch.setattr(fa, "rate_tables_of", lambda *a, **k: calls.append(list(a[1])) or real(*a, **k))
    s = open_session(str(SAMPLE_DATA_DIR), theme=False)
    fv.rate_view(s, "channel")
    fv.rate_chart(s, "channel", "lead_to_opportunity_rate")
    fv.rate_chart(s, "channel", "win_rate")
    fv.rate_view(s, "industry")
    fv.segment_views(s)
    fv.target_fit_view(s)
    # every dimension of the page in the first computation (issue 26: the queries of one rate table, not of five)
    assert calls == [fv.dimensions(s)] and {"channel", "industry", "company_size", "owner", "target_fit"} <= set(calls[0])
    import matplotlib.pyplot as plt

    plt.close("all")


def test_the_rate_tables_of_several_dimensions_are_each_dimensions_own_table():
    """fa.rate_tables_of groups every column in one pass per table; each table equals rate_table_of of its column
    alone, value for value (the sample's five dimensions, with the workbook's facts, both rankings)."""
    from helpers.metrics.limits import workbook_facts
    from helpers.report.session import open_session
    from helpers.views import funnel_views as fv

    s = open_session(str(SAMPLE_DATA_DIR), theme=False)
    dims, facts = fv.dimensions(s), workbook_facts(s.wb, s.source)
    assert len(dims) == 5
    for rank_by in ("lead_to_opportunity_rate", "win_rate"):
        together = fa.rate_tables_of(s.source, dims, s.period.start, s.period.end, s.as_of, rank_by=rank_by, facts=facts)
        assert list(together) == dims
        for d in dims:
            alone = fa.rate_table_of(s.source, d, s.period.start, s.period.end, s.as_of, rank_by=rank_by, facts=facts)
            pd.testing.assert_frame_equal(together[d], alone, check_exact=True)
