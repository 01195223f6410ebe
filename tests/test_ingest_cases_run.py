"""The example exports (tests/fixtures/cases/exports/, README there) through the runner: `helpers.report.run --mapping`.

Each folder gives the figures its README states (read from the run's metrics.json, written by the data
health notebook) or the refusal it states (exit status 2, the message on stderr, no report). To keep the
suite quick the runner executes only the data health notebook (`--notebooks`), which records the core
figures; the ingest itself is the same code path as a full run. Runner preflight (kind 11): braces in
--out / --data, and a missing Jupyter kernel found before any notebook runs.
"""
from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest

from helpers.paths import NOTEBOOKS_DIR
from helpers.report import run

CASES = Path(__file__).parent / "fixtures" / "cases" / "exports"

RATES_USD = "currency:\n  code: USD\n  rates:\n    - {currency: JPY, rate: 0.0066667}\n    - {currency: EUR, rate: 1.08}\n"


@pytest.fixture(scope="module")
def one_notebook(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("nb")
    shutil.copy(NOTEBOOKS_DIR / "00_data_health.ipynb", folder)
    return folder


def run_case(tmp_path: Path, notebooks: Path, folder: str, mapping: str, *extra: str, period: str = "2025Q1"):
    out = tmp_path / "out"
    code = run.main(["--data", str(CASES / folder), "--mapping", mapping, "--out", str(out), "--period", period,
                     "--notebooks", str(notebooks), *extra])
    return code, out


def figures(out: Path, period: str = "2025Q1") -> dict:
    return json.loads((out / period / "metrics.json").read_text(encoding="utf-8"))["pipeline"]


def currency(out: Path) -> str:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))["settings"]["currency"]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def case_01_in_braces(tmp_path_factory, one_notebook) -> tuple[int, Path, str]:
    """(exit status, output folder, what the runner printed) of case 01 through the runner from a folder `exports
    {2025}` into `reports {draft}` (braces in --data and --out: kind 11), made once for test_01_footer_id_first and
    test_braces_in_out_and_data_paths_work (each ran case 01 with the same mapping, period and notebook)."""
    tmp = tmp_path_factory.mktemp("braces")
    data, out, printed = tmp / "exports {2025}", tmp / "reports {draft}", io.StringIO()
    shutil.copytree(CASES / "01-footer-id-first", data)
    with contextlib.redirect_stdout(printed):
        code = run.main(["--data", str(data), "--mapping", "salesforce_en", "--out", str(out), "--period", "2025Q1",
                         "--notebooks", str(one_notebook)])
    return code, out, printed.getvalue()


def test_01_footer_id_first(case_01_in_braces):
    code, out, printed = case_01_in_braces
    assert code == 0 and "dropped 5 rows (8, 9, 10, 11, 12): report footer" in printed
    f = figures(out)
    assert (f["opportunities_created"], f["won_count"], f["lost_count"]) == (4, 2, 1)
    assert f["win_rate"] == pytest.approx(2 / 3) and f["won_revenue"] == 30_000.0  # 10,000 + 20,000


def test_02_converted_amounts_in_usd(tmp_path, one_notebook, capsys):
    code, out = run_case(tmp_path, one_notebook, "02-multicurrency-columns", "salesforce_en")
    assert code == 0 and "Amounts are in USD" in capsys.readouterr().out
    f = figures(out)
    assert (f["won_count"], f["won_revenue"], f["avg_deal_size"]) == (2, 20_000.0, 10_000.0)
    assert f["win_rate_by_amount"] == pytest.approx(20_000 / 25_400)  # lost 5,400 (converted)
    assert currency(out) == "USD"


def test_02b_inline_currencies_refused_then_converted_with_rates(tmp_path, one_notebook, capsys):
    code, out = run_case(tmp_path, one_notebook, "02b-multicurrency-inline", "salesforce_en")
    err = capsys.readouterr().err
    assert code == 2 and "several currencies (USD 2 rows, EUR 1 row, JPY 1 row)" in err and "currency.rates" in err
    assert not (out / "2025Q1").exists()
    settings = write(tmp_path / "settings.yaml", RATES_USD)
    code, out = run_case(tmp_path, one_notebook, "02b-multicurrency-inline", "salesforce_en", "--config", settings)
    assert code == 0
    assert figures(out)["won_revenue"] == pytest.approx(20_000.05)  # 1,500,000 x 0.0066667 + 10,000
    assert currency(out) == "USD"


def test_03_ambiguous_dates_refused_then_read_with_date_order(tmp_path, one_notebook, capsys):
    code, out = run_case(tmp_path, one_notebook, "03-day-first-dates", "salesforce_en")
    assert code == 2 and "date_order: dmy" in capsys.readouterr().err
    mapping = write(tmp_path / "gb.yaml", "extends: salesforce_en\ndate_order: dmy\n")
    code, out = run_case(tmp_path, one_notebook, "03-day-first-dates", mapping)
    assert code == 0
    f = figures(out)
    assert (f["opportunities_created"], f["won_count"], f["lost_count"], f["win_rate"]) == (4, 3, 1, 0.75)
    assert f["won_revenue"] == 36_000.0 and f["sales_cycle_days"] == pytest.approx(74 / 3)  # (35 + 37 + 2) / 3
    assert currency(out) == "GBP"


def test_03b_day_first_settled_by_a_value(tmp_path, one_notebook, capsys):
    code, out = run_case(tmp_path, one_notebook, "03b-day-first-mixed", "salesforce_en")
    assert code == 0 and "numeric dates read day-first" in capsys.readouterr().out
    f = figures(out)
    assert (f["opportunities_created"], f["won_count"], f["lost_count"], f["won_revenue"]) == (5, 4, 1, 44_000.0)


def test_04_unmapped_stages_refused_then_mapped(tmp_path, one_notebook, capsys):
    code, out = run_case(tmp_path, one_notebook, "04-hubspot-custom-stages", "hubspot")
    err = capsys.readouterr().err
    assert code == 2 and "'Closed Won Renewal': 2 rows (rows 5, 6), amount 35,000; 'Churned': 1 row (row 7), amount 8,000" in err
    mapping = write(tmp_path / "hs.yaml", "extends: hubspot\ntables:\n  opportunities:\n    columns:\n      outcome:\n"
                                          "        values: {Closed Won Renewal: won, Churned: lost}\n")
    code, out = run_case(tmp_path, one_notebook, "04-hubspot-custom-stages", mapping)
    assert code == 0
    f = figures(out)
    assert (f["won_count"], f["lost_count"], f["win_rate"], f["won_revenue"]) == (3, 2, 0.6, 47_000.0)


def test_04b_numbered_stages_refused(tmp_path, one_notebook, capsys):
    code, out = run_case(tmp_path, one_notebook, "04b-hubspot-numbered-stages", "hubspot")
    err = capsys.readouterr().err
    assert code == 2 and "'#09 WON': 2 rows" in err and "'#10 Closed lost': 1 row" in err and "'#05 Proposal': 1 row" in err
    assert not (out / "2025Q1").exists()


def test_06_semicolons_and_decimal_commas(tmp_path, one_notebook, capsys):
    code, out = run_case(tmp_path, one_notebook, "06-semicolon-decimal-comma", "salesforce_en")
    assert code == 0 and "semicolon-separated" in capsys.readouterr().out
    f = figures(out)
    assert (f["won_count"], f["lost_count"], f["won_revenue"]) == (1, 1, 12_000.0)
    assert f["win_rate_by_amount"] == pytest.approx(12_000 / 20_000.5)  # lost 8,000.50


def test_07_wareki_cp932(tmp_path, one_notebook):
    code, out = run_case(tmp_path, one_notebook, "07-ja-wareki-dates", "salesforce_ja", period="2024Q4")
    assert code == 0
    f = figures(out, "2024Q4")
    assert (f["won_count"], f["lost_count"], f["won_revenue"]) == (3, 1, 3_600_000.0)
    assert currency(out) == "JPY"


def test_07b_two_digit_era_year(tmp_path, one_notebook):
    code, out = run_case(tmp_path, one_notebook, "07b-ja-wareki-two-digit", "salesforce_ja", period="2024Q4")
    assert code == 0
    f = figures(out, "2024Q4")
    # 令和06年10月07日 = 2024-10-07 (never 2006): created in 2024Q4, won 900,000 on 令和06年12月24日
    assert (f["opportunities_created"], f["won_count"], f["lost_count"], f["won_revenue"]) == (2, 1, 1, 900_000.0)


# --------------------------------------------------------------------------- 11. runner preflight
def test_braces_in_out_and_data_paths_work(case_01_in_braces):
    code, out, _ = case_01_in_braces
    assert code == 0
    assert (out / "2025Q1" / "00_data_health.html").is_file()
    assert figures(out)["won_revenue"] == 30_000.0


def test_missing_kernel_is_found_before_any_notebook_runs(tmp_path, one_notebook, monkeypatch, capsys):
    monkeypatch.setattr(run, "KERNEL_NAME", "no-such-workbook-kernel")
    code, out = run_case(tmp_path, one_notebook, "01-footer-id-first", "salesforce_en")
    err = capsys.readouterr().err
    assert code == 2
    assert "the Jupyter kernel 'no-such-workbook-kernel' is not installed" in err
    assert "-m ipykernel install --sys-prefix --name no-such-workbook-kernel" in err
    assert not (out / "2025Q1").exists() and not list(out.glob(".staging-*"))
