"""The attribution benchmark's plain DuckDB SQL (an independent computation of contract section 6's position models, won and pipeline, and
Markov transitions) agrees with the workbook on the sample data."""
from helpers.paths import SAMPLE_DATA_DIR
from benchmarks.bench_attribution import differences, sql_attribution, workbook_attribution


def test_sql_attribution_equals_workbook_on_the_sample():
    a, b = workbook_attribution(SAMPLE_DATA_DIR), sql_attribution(SAMPLE_DATA_DIR)
    assert differences(a, b) == []
    assert len(a["won"]) == len(a["pipeline"]) == 8 and a["transitions"] and a["horizon_days"] == 30
    assert a["pipeline"]["linear"] and sum(a["pipeline"]["first_touch"].values()) == sum(a["pipeline"]["linear"].values())
    # the check can fail: a channel's credit moved by more than a yen is found
    b["won"]["linear"]["seminar"] += 2
    assert differences(a, b) == [f"won/linear/seminar: {a['won']['linear']['seminar']} != {b['won']['linear']['seminar']}"]
