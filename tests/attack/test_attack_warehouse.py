"""Attack: the warehouse and the old command names, as a scheduled job meets them (real processes).

- a DuckDB-file warehouse read through the old name `python -m helpers.run` (the DuckDB URL crashed inside Ibis on
  DuckDB 2): a typo in --table is refused naming the schema's tables; a DuckDB path that is not there is refused
  and never created;
- passwords of every shape in a warehouse URL, fuzzed: no message says any piece of one (helpers.errors.redact_url
  and the refusal of @ / ? # written as they are);
- a ${VAR} in a mapping's SQL url: `python -m helpers.ingest` (old name) never prints its value;
- `python -m helpers.warehouse` (old name) with a bad period, a missing table and a settings file in the current
  folder: errors without a traceback, and only --config is read.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.errors import WorkbookError, redact_url
from helpers_attack import assert_no_traceback


def python_m(module: str, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m module args` as a scheduled job runs it (no PYTHONPATH: the installed package)."""
    import os

    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **(env or {})))


@pytest.fixture
def crm(tmp_path) -> str:
    """A DuckDB file holding a CRM replica in schema sales: deals (3 opportunities, one won) and prospects (leads)."""
    import duckdb

    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA sales")
    con.execute("CREATE TABLE sales.deals AS SELECT * FROM (VALUES ('D1', DATE '2025-04-03', DATE '2025-05-20', 'won', "
                "1200.0, 'P1', 'web'), ('D2', DATE '2025-04-10', NULL, 'open', 800.0, 'P2', 'event'), ('D3', DATE "
                "'2025-05-02', DATE '2025-06-11', 'lost', 500.0, NULL, 'web')) t(opportunity_id, created_at, "
                "closed_at, outcome, amount, lead_id, channel)")
    con.execute("CREATE TABLE sales.prospects AS SELECT * FROM (VALUES ('P1', DATE '2025-04-01', 'web', 'D1'), "
                "('P2', DATE '2025-04-02', 'event', 'D2')) t(lead_id, created_at, channel, opportunity_id)")
    con.close()
    return f"duckdb://{path}"


def test_the_old_runner_name_on_a_duckdb_file_refuses_a_table_typo(crm, tmp_path):
    out = tmp_path / "reports"
    done = python_m("helpers.run", "--warehouse", crm, "--schema", "sales", "--table", "opportunities=deals",
                    "--table", "leads=prospect", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert ("--warehouse: the warehouse has no table prospect (--table leads=prospect) in schema sales; its tables: "
            "deals, prospects\n  How to fix: Did you mean prospects?") in done.stderr
    assert_no_traceback(done.stdout, done.stderr)
    assert not [p for p in out.rglob("*") if p.suffix in (".html", ".json")]  # no report, no run record


def test_the_duckdb_copy_reads_every_row(crm, tmp_path):
    """The runner's copy of the DuckDB tables (what --warehouse reports from): 3 deals, 1 won of 1,200, 2 leads."""
    from helpers.data.load import load_workbook
    from helpers.metrics.warehouse import export_folder

    folder = export_folder(crm, tmp_path / "_data", "sales", {"opportunities": "deals", "leads": "prospects"})
    wb = load_workbook(folder)
    assert len(wb.opportunities) == 3 and len(wb.leads) == 2
    won = wb.opportunities[wb.opportunities["outcome"] == "won"]
    assert list(won["opportunity_id"]) == ["D1"] and float(won["amount"].sum()) == 1200.0


def test_a_duckdb_url_naming_no_file_creates_none(tmp_path):
    done = python_m("helpers.warehouse", "--warehouse", "duckdb://quarter/crm.duckdb", cwd=tmp_path)
    assert done.returncode == 2 and "which does not exist (none was created)" in done.stderr
    assert not (tmp_path / "quarter").exists()
    assert_no_traceback(done.stdout, done.stderr)


def test_the_old_warehouse_name_reads_only_config_and_says_errors(crm, tmp_path):
    (tmp_path / "workbook.yaml").write_text("fiscal_year_start_month: 4\n", encoding="utf-8")
    base = ["--warehouse", crm, "--schema", "sales", "--leads-table", "prospects", "--opportunities-table", "deals"]
    done = python_m("helpers.warehouse", *base, "--period", "2025Q2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["period"] == "2025Q2"  # calendar quarters: ./workbook.yaml (April) was not read
    assert (figures["pipeline"]["won_count"], figures["pipeline"]["won_revenue"]) == (1, 1200.0)
    for args, expected in ((["--period", "Q2-2025"], "'Q2-2025' is not a period label"),
                           (["--opportunities-table", "deal"], "no table deal (--opportunities-table deal)")):
        done = python_m("helpers.warehouse", *base, *args, cwd=tmp_path)
        assert done.returncode == 2 and expected in done.stderr and done.stdout == ""
        assert_no_traceback(done.stderr)


PASSWORD = st.text(alphabet=st.sampled_from("abcXYZ0189@:/?#%+!$&*=-_.~ ;"), min_size=1, max_size=16)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(password=PASSWORD)
def test_no_piece_of_a_fuzzed_password_is_ever_said(password):
    """Whatever the password, connect() (port 1: refused at once) fails with a message that names the URL as
    ``user:***@host`` and holds no piece of the password of 3 or more characters; redact_url never shows it."""
    from helpers.metrics.warehouse import connect

    url = f"postgresql://ana:{password}@127.0.0.1:1/crm"
    assert redact_url(url) == "postgresql://ana:***@127.0.0.1:1/crm"
    with pytest.raises(WorkbookError) as err:
        connect(url)
    text = str(err.value)
    pieces = {p for p in [*re.split(r"[@:/?#]", password), password] if len(p) >= 3}
    assert not [p for p in pieces if p in text.replace("postgresql://ana:***@127.0.0.1:1/crm", "")], text
    assert "postgresql://ana:***@127.0.0.1:1/crm" in text


def test_a_variable_in_a_mapping_sql_url_is_never_printed(tmp_path):
    """The ${VAR} holds a private folder: the old ingest name says the file is missing naming ${CRM_VAULT}, not it."""
    mapping = tmp_path / "crm.yaml"
    mapping.write_text("tables:\n  opportunities:\n    sql: {url: \"duckdb:///${CRM_VAULT}/crm.duckdb\", table: deals}\n"
                       "    columns: {opportunity_id: id, created_at: created, outcome: {column: stage, values: "
                       "{Won: won}, open: [Open]}}\n", encoding="utf-8")
    done = python_m("helpers.ingest", "--mapping", str(mapping), "--out", str(tmp_path / "data"), cwd=tmp_path,
                    env={"CRM_VAULT": "/srv/vault-q7x/finance"})
    assert done.returncode == 2, done.stderr
    assert "vault-q7x" not in done.stdout + done.stderr
    assert "${CRM_VAULT}/crm.duckdb does not exist" in done.stderr
    assert_no_traceback(done.stdout, done.stderr)
