"""One label, one number on every period of the sample, in both languages (issue 24, done-when point 1).

tests/test_report_language.py reads the latest period's pages; here the runner renders every period of the sample
(`--all`: FY2023Q1 to FY2026Q2, the partly covered ones included) once per language, and within each period every
visible (label, value) pair of its seven pages must agree (tests/report_scan.label_conflicts). Early periods have
no prior year, young cohorts and empty sections: the cases the latest period cannot show. The slowest module of
the suite (one runner invocation per language over fourteen periods: conftest.sample_all_periods, whose runs
tests/test_report_language.py reads too; make test runs the two languages on two workers at once).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers.labels import scoped
from helpers.report.run import notebook_paths
from report_scan import figure_pairs, label_conflicts


@pytest.fixture(scope="module", params=("en", "ja"))
def every_period(request, sample_all_periods) -> tuple[str, list[Path]]:
    """(lang, the period folders) of one `--all` run over the sample."""
    out = sample_all_periods(request.param)
    return request.param, sorted(p for p in out.iterdir() if p.is_dir() and (p / "metrics.json").is_file())


def test_one_label_shows_one_value_on_every_page_of_every_period(every_period):
    lang, periods = every_period
    assert [p.name for p in periods][:2] == ["FY2023Q1", "FY2023Q2"] and periods[-1].name == "FY2026Q2"
    assert len(periods) == 14
    found = []
    for period in periods:
        pages = sorted(period.glob("*.html"))
        assert len(pages) == len(notebook_paths()), period.name
        found += [f"{period.name}: {line}" for line in label_conflicts(pages)]
    assert not found, "one label, two values:\n" + "\n".join(found)


def test_every_period_shows_its_win_rate_with_its_scope(every_period):
    """The pairs the check compares are there in every period: the period's win rate, labelled with its scope."""
    lang, periods = every_period
    label = scoped("win_rate", "this_period", lang)
    for period in periods:
        pairs = [pair for page in sorted(period.glob("*.html")) for pair in figure_pairs(page.read_text(encoding="utf-8"))]
        assert len(pairs) > 50, period.name
        assert label in {name for name, _ in pairs}, period.name
