"""The runner checks the lead_quality settings against the data's lead columns before any notebook runs (a new user's
round 3: a setting naming a column the leads lack failed only in notebook 05, after notebooks 00-04, one at a time and
in English under --lang ja): every problem listed at once, in the run's language
(helpers.metrics.lead_source.check_lead_settings, called by helpers.report.run)."""
from __future__ import annotations

import pytest

LEADS = """lead_id,created_at,channel,industry,company_size,web_visits
L1,2025-01-05,web,Retail,1-49,3
L2,2025-01-10,ads,Software,50-299,8
L3,2025-02-01,web,Retail,1-49,
"""
OPPORTUNITIES = """opportunity_id,created_at,closed_at,outcome,amount,lead_id
O1,2025-01-20,2025-02-20,won,1000,L1
O2,2025-02-10,,open,,L2
"""
#: The new user's bad_rule.yaml (attributes naming 'rating', the rule a missing column), plus a rule on a text column.
BAD_RULE = """lead_quality:
  mql_rule: {any: [{column: visits, op: ">=", value: 5}, {column: channel, op: ">=", value: 5}]}
  attributes: [rating]
"""


def _run(tmp_path, settings: str, lang: str):
    from helpers.report import run

    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "leads.csv").write_text(LEADS, encoding="utf-8")
    (data / "opportunities.csv").write_text(OPPORTUNITIES, encoding="utf-8")
    config = tmp_path / f"settings_{lang}.yaml"
    config.write_text(settings, encoding="utf-8")
    notebooks = tmp_path / "notebooks"   # notebook 05 listed (the check runs only for a run that includes it), never run:
    notebooks.mkdir(exist_ok=True)      # a run past the settings' check stops at the kernel preflight (no such kernel)
    (notebooks / "05_lead_quality.ipynb").write_text("{}", encoding="utf-8")
    kernel = run.KERNEL_NAME
    run.KERNEL_NAME = "no-such-kernel-for-this-test"
    try:
        return run.main(["--data", str(data), "--config", str(config), "--notebooks", str(notebooks), "--period",
                         "2025Q1", "--out", str(tmp_path / f"out_{lang}"), "--lang", lang])
    finally:
        run.KERNEL_NAME = kernel


def test_every_lead_setting_problem_is_listed_before_any_notebook_in_japanese(tmp_path, capsys):
    assert _run(tmp_path, BAD_RULE, "ja") == 2
    usable = "channel, industry, company_size, web_visits"
    assert capsys.readouterr().err == (
        "error: lead_quality の設定3件がリードの列に合いません:\n"
        f"  - 設定「lead_quality.attributes」が列 'rating' を指定していますが、leads.csv にその列はありません。対処方法: リードの次の列から選んでください: {usable}。\n"
        f"  - 設定「lead_quality.mql_rule.any.0.column」が列 'visits' を指定していますが、leads.csv にその列はありません。対処方法: リードの次の列から選んでください: {usable}。\n"
        "  - 設定「lead_quality.mql_rule.any.1」: op '>=' には数値の列が必要ですが、'channel' は文字列の列です。"
        "対処方法: 列の値に対して op '==' か 'in' を使うか、数値の列を使ってください。\n"
        "  対処方法: 一覧の各設定を直してください(対処方法は各行にあります)。\n")
    assert not (tmp_path / "out_ja").exists()   # nothing run, nothing written


def test_every_lead_setting_problem_is_listed_in_english_and_one_is_said_alone(tmp_path, capsys):
    assert _run(tmp_path, BAD_RULE, "en") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 3 lead_quality settings do not fit the leads' columns:\n"
                          "  - setting 'lead_quality.attributes' names the column 'rating', which leads.csv does not have "
                          "(how to fix: Use one of the lead columns: channel, industry, company_size, web_visits.)\n")
    assert err.endswith("  How to fix: Correct each listed setting (its fix is on its line).\n") and err.count("\n  - ") == 3
    assert _run(tmp_path, "lead_quality: {attributes: [rating]}\n", "en") == 2
    assert capsys.readouterr().err == (
        "error: setting 'lead_quality.attributes' names the column 'rating', which leads.csv does not have\n"
        "  How to fix: Use one of the lead columns: channel, industry, company_size, web_visits.\n")


@pytest.mark.parametrize("settings", ["lead_quality: {attributes: [web_visits]}\n",
                                      "lead_quality: {mql_rule: {column: web_visits, op: '>=', value: 5}}\n"])
def test_lead_settings_that_fit_the_data_pass_the_check(settings, tmp_path, capsys):
    assert _run(tmp_path, settings, "en") == 2
    assert "the Jupyter kernel 'no-such-kernel-for-this-test' is not installed" in capsys.readouterr().err   # past the check


def test_a_run_without_notebook_05_is_not_refused_for_its_settings(tmp_path, capsys):
    """The settings of notebook 05 are checked only when the run includes it (--notebooks with 00 only: a warehouse
    of the contract's columns and the sample's lead_quality settings, tests/test_warehouse.py)."""
    from helpers.report import run

    assert _run(tmp_path, "lead_quality: {attributes: [rating]}\n", "en") == 2   # with 05: refused
    assert "names the column 'rating'" in capsys.readouterr().err
    (tmp_path / "notebooks" / "05_lead_quality.ipynb").rename(tmp_path / "notebooks" / "00_data_health.ipynb")
    assert not any(p.name == run.LEAD_QUALITY_NOTEBOOK for p in run.notebook_paths(tmp_path / "notebooks"))
