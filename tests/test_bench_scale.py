"""The scale benchmark's reference (benchmarks.scale_reference: plain DuckDB SQL) agrees with the workbook on the
sample data, figure by figure and validation count by validation count, and pays for nothing but DuckDB."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

from benchmarks.bench_scale import checks, count_figures, differences, reference_settings, sql_figures, workbook_figures
from benchmarks.scale_reference import latest_period
from helpers.paths import PROJ_ROOT, SAMPLE_DATA_DIR
from helpers.storage import to_jsonable


def as_json(tree):
    return json.loads(json.dumps(to_jsonable(tree), default=str))


def test_sql_figures_equal_workbook_figures_on_the_sample():
    workbook = as_json(workbook_figures(SAMPLE_DATA_DIR))
    sql = as_json(sql_figures(SAMPLE_DATA_DIR))
    assert differences(workbook, sql) == []
    assert count_figures(sql) > 500  # pipeline, funnel, channels and 4 segment breakdowns
    assert set(sql["by_segment"]) == {"industry", "company_size", "owner", "target_fit"}
    assert sql["period"] == "FY2026Q2" and sql["checks"] == {} == workbook["checks"]


def test_the_reference_counts_the_workbooks_warnings(tmp_path):
    """On the sample with rows edited by hand, the reference's validation counts are the workbook's findings: two
    leads qualified before they were created (mql_at), one deal open with a close date, one deal linked to a lead
    that does not exist; and with as_of a day before the data's last day (2026-09-30), the dates of that day: 4 leads
    created, 1 MQL, 1 first sales touch, 3 deals created, 1 closed (counted in the sample's files)."""
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    (data / "touches.csv").unlink()  # as the benchmark's folders (the core figures read no touches)
    leads = (data / "leads.csv").read_text(encoding="utf-8").splitlines()
    opps = (data / "opportunities.csv").read_text(encoding="utf-8").splitlines()
    head = leads[0].split(",")
    ci, mi = head.index("created_at"), head.index("mql_at")
    edited = 0
    for i, line in enumerate(leads[1:], 1):
        cells = line.split(",")
        if cells[mi] and cells[ci] >= "2023-05-01" and edited < 2:
            cells[mi] = "2023-04-01"
            leads[i], edited = ",".join(cells), edited + 1
    ohead = opps[0].split(",")
    oc, cl, li = ohead.index("outcome"), ohead.index("closed_at"), ohead.index("lead_id")
    row_open = next(i for i, line in enumerate(opps[1:], 1) if line.split(",")[oc] == "open")
    cells = opps[row_open].split(",")
    cells[cl] = "2025-01-10"
    opps[row_open] = ",".join(cells)
    cells = opps[1].split(",")
    cells[li] = "L99999"
    opps[1] = ",".join(cells)
    (data / "leads.csv").write_text("\n".join(leads) + "\n", encoding="utf-8")
    (data / "opportunities.csv").write_text("\n".join(opps) + "\n", encoding="utf-8")
    (data / "workbook.yaml").write_text((data / "workbook.yaml").read_text(encoding="utf-8") + "\nas_of: 2026-09-29\n",
                                        encoding="utf-8")
    expected = {"leads/stage_before_created/mql_at": 2, "opportunities/open_with_closed_at/closed_at": 1,
                "opportunities/unknown_lead_id/lead_id": 1, "leads/after_as_of/created_at": 4,
                "leads/after_as_of/mql_at": 1, "leads/after_as_of/first_sales_touch_at": 1,
                "opportunities/after_as_of/created_at": 3, "opportunities/after_as_of/closed_at": 1}
    assert as_json(sql_figures(data))["checks"] == expected
    assert as_json(workbook_figures(data))["checks"] == expected


def test_checks_sums_far_dates_per_end():
    from helpers.errors import Finding

    found = [Finding("warning", "leads.csv", "far_date_before", "", column="created_at", count=2),
             Finding("warning", "opportunities.csv", "far_date_before", "", column="closed_at", count=1),
             Finding("warning", "leads.csv", "after_as_of", "", column="mql_at", count=4)]
    assert checks(found) == {"far_date_before": 3, "leads/after_as_of/mql_at": 4}


def test_the_reference_imports_only_duckdb(tmp_path):
    """Run as the benchmark runs it (its own process), the reference loads no pandas, numpy, pyarrow or helpers."""
    out = tmp_path / "r.json"
    probe = ("import runpy, sys; sys.argv = ['ref'] + sys.argv[1:]; "
             "runpy.run_module('benchmarks.scale_reference', run_name='not_main'); "
             "from benchmarks.scale_reference import main; main(sys.argv[1:]); "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'numpy', 'pyarrow', 'helpers'}))")
    done = subprocess.run([sys.executable, "-c", probe, str(SAMPLE_DATA_DIR), json.dumps(reference_settings(SAMPLE_DATA_DIR)),
                           str(out)], capture_output=True, text=True, cwd=PROJ_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert json.loads(out.read_text(encoding="utf-8"))["pipeline"] == as_json(sql_figures(SAMPLE_DATA_DIR))["pipeline"]


def test_latest_period_of_the_reference():
    import datetime as dt

    d = dt.date
    assert latest_period(d(2023, 4, 1), d(2026, 3, 31), 4) == ("FY2025Q4", d(2026, 1, 1), d(2026, 3, 31))
    assert latest_period(d(2023, 4, 1), d(2026, 3, 30), 4) == ("FY2025Q3", d(2025, 10, 1), d(2025, 12, 31))
    assert latest_period(d(2024, 1, 1), d(2025, 2, 14), 1) == ("2024Q4", d(2024, 10, 1), d(2024, 12, 31))


def test_differences_names_each_differing_figure():
    a = {"pipeline": {"win_rate": 0.25, "won_count": 3, "open_pipeline": {"amount": 10.0}}, "x": {"web": 1}}
    b = {"pipeline": {"win_rate": 0.25 * (1 + 1e-12), "won_count": 4, "open_pipeline": {"amount": None}}, "x": {}}
    assert sorted(differences(a, b)) == ["/pipeline/open_pipeline/amount: 10.0 != None", "/pipeline/won_count: 3 != 4",
                                         "/x/web: only in (a)"]
