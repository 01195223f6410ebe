"""The scale benchmark's independent DuckDB SQL agrees with the workbook on the sample data, figure by figure."""
from __future__ import annotations

import json

from helpers.paths import SAMPLE_DATA_DIR
from benchmarks.bench_scale import count_figures, differences, sql_figures, workbook_figures
from helpers.storage import to_jsonable


def test_sql_figures_equal_workbook_figures_on_the_sample():
    workbook = json.loads(json.dumps(to_jsonable(workbook_figures(SAMPLE_DATA_DIR))))
    sql = json.loads(json.dumps(to_jsonable(sql_figures(SAMPLE_DATA_DIR))))
    assert differences(workbook, sql) == []
    assert count_figures(sql) > 500  # pipeline, funnel, channels and 4 segment breakdowns
    assert set(sql["by_segment"]) == {"industry", "company_size", "owner", "target_fit"}


def test_differences_names_each_differing_figure():
    a = {"pipeline": {"win_rate": 0.25, "won_count": 3, "open_pipeline": {"amount": 10.0}}, "x": {"web": 1}}
    b = {"pipeline": {"win_rate": 0.25 * (1 + 1e-12), "won_count": 4, "open_pipeline": {"amount": None}}, "x": {}}
    assert sorted(differences(a, b)) == ["/pipeline/open_pipeline/amount: 10.0 != None", "/pipeline/won_count: 3 != 4",
                                         "/x/web: only in (a)"]
