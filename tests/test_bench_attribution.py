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


def _edited_sample(tmp_path, edits: dict, as_of: str = "2026-09-29"):
    """The sample copied with touches.csv's cells edited ({(row, column): value}, rows counted from 1 after the header)
    and as_of set."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    lines = (data / "touches.csv").read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    for (row, column), value in edits.items():
        cells = lines[row].split(",")
        cells[head.index(column)] = value
        lines[row] = ",".join(cells)
    (data / "touches.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (data / "workbook.yaml").write_text((data / "workbook.yaml").read_text(encoding="utf-8") + f"\nas_of: {as_of}\n",
                                        encoding="utf-8")
    return data, lines


#: With as_of 2026-09-29, the sample's dates of 2026-09-30 (counted in its files, as tests/test_bench_scale.py's).
LATE = {"leads/after_as_of/created_at": 4, "leads/after_as_of/mql_at": 1, "leads/after_as_of/first_sales_touch_at": 1,
        "opportunities/after_as_of/created_at": 3, "opportunities/after_as_of/closed_at": 1}


def test_the_reference_counts_the_workbooks_touch_warnings(tmp_path):
    """Touches edited by hand: one unknown lead, one unknown deal, one channel cell of two values (split), one touch
    carried on a won deal dated after its close; and with as_of a day before the data's last day, the touches of that
    day. The reference's counts are the workbook's findings, count by count, and the figures still agree."""
    import csv

    opps = list(csv.DictReader((SAMPLE_DATA_DIR / "opportunities.csv").open(encoding="utf-8")))
    won = {o["opportunity_id"] for o in opps if o["outcome"] == "won" and o["closed_at"] < "2026-09-01"}
    rows = (SAMPLE_DATA_DIR / "touches.csv").read_text(encoding="utf-8").splitlines()
    carried = next(i for i, line in enumerate(rows[1:], 1) if line.split(",")[-1] in won)
    data, lines = _edited_sample(tmp_path, {(3, "lead_id"): "L99999", (6, "opportunity_id"): "O99999",
                                            (7, "channel"): "ad;web", (carried, "touched_at"): "2026-09-28T10:00:00"})
    late_touches = sum(1 for line in lines[1:] if line.split(",")[2].startswith("2026-09-30"))
    assert late_touches == 65
    expected = LATE | {"touches/touch_unknown_lead/lead_id": 1, "touches/touch_unknown_opportunity/opportunity_id": 1,
                       "touches/touches_split/channel,campaign": 1, "touches/touch_after_close/touched_at": 1,
                       "touches/after_as_of/touched_at": late_touches}
    a, b = workbook_attribution(data), sql_attribution(data)
    assert a["checks"] == expected == b["checks"]
    # the split touch (ad;web) is one touch per channel in the workbook only: that one deal's credits may differ
    assert all(line.startswith(("won/", "pipeline/")) for line in differences(a, b))


def test_the_reference_counts_the_workbooks_touch_errors(tmp_path):
    """A repeated touch_id, an unparseable touched_at and an empty channel: the workbook refuses the folder with these
    errors, and the reference counts the same."""
    import pytest

    from benchmarks.bench_scale import checks
    from helpers.data.load import load_workbook
    from helpers.errors import DataValidationError

    rows = (SAMPLE_DATA_DIR / "touches.csv").read_text(encoding="utf-8").splitlines()
    data, _ = _edited_sample(tmp_path, {(1, "touch_id"): rows[2].split(",")[0], (4, "touched_at"): "2023-13-45",
                                        (5, "channel"): ""})
    with pytest.raises(DataValidationError) as refused:
        load_workbook(data)
    expected = LATE | {"touches/duplicate_id/touch_id": 2, "touches/bad_datetime/touched_at": 1,
                       "touches/missing_value/channel": 1, "touches/after_as_of/touched_at": 65}
    assert checks(refused.value.findings) == expected == sql_attribution(data)["checks"]


def test_the_attribution_reference_imports_only_duckdb(tmp_path):
    """Run as the benchmark runs it (its own process), the reference loads no pandas, numpy, pyarrow or helpers."""
    import json
    import subprocess
    import sys

    from benchmarks.bench_attribution import reference_settings
    from helpers.paths import PROJ_ROOT

    out = tmp_path / "r.json"
    probe = ("import sys; from benchmarks.attribution_reference import main; main(sys.argv[1:]); "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'numpy', 'pyarrow', 'helpers'}))")
    done = subprocess.run([sys.executable, "-c", probe, str(SAMPLE_DATA_DIR), json.dumps(reference_settings(SAMPLE_DATA_DIR)),
                           str(out)], capture_output=True, text=True, cwd=PROJ_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert json.loads(out.read_text(encoding="utf-8"))["transitions"] == sql_attribution(SAMPLE_DATA_DIR)["transitions"]
