"""One label, one number on every period of the sample, in both languages (issue 24, done-when point 1).

tests/test_report_language.py reads the latest period's pages; here the runner renders the periods of the sample
once per language, and within each period every visible (label, value) pair of its seven pages must agree
(tests/report_scan.label_conflicts). Early periods have no prior year, young cohorts and empty sections: the cases
the latest period cannot show. The English run renders every period (`--all`: FY2023Q1 to FY2026Q2); the Japanese
one the three periods of conftest.SAMPLE_LANGUAGE_PERIODS (the first, the first with a prior year, the latest),
and the English run shows that those three hold every heading, headline card, table, note and chart count any of
the fourteen periods shows, so the Japanese pages of every kind are checked (the figures of every period are
the English run's to check; metrics.json is the same in both languages, tests/test_report_language.py). The
slowest module of the suite (conftest.sample_all_periods, whose runs tests/test_report_language.py reads too;
make test runs the two languages on two workers at once).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SAMPLE_LANGUAGE_PERIODS
from helpers.labels import scoped
from helpers.report.run import notebook_paths
from report_scan import content_kinds, figure_pairs, label_conflicts

#: The sample's periods, FY2023Q1 to FY2026Q2 (the English run's `--all`).
ALL_PERIODS = [f"FY{year}Q{q}" for year in range(2023, 2027) for q in range(1, 5)][:14]


@pytest.fixture(scope="module", params=("en", "ja"))
def every_period(request, sample_all_periods) -> tuple[str, list[Path]]:
    """(lang, the period folders) of one `--all` run over the sample."""
    out = sample_all_periods(request.param)
    return request.param, sorted(p for p in out.iterdir() if p.is_dir() and (p / "metrics.json").is_file())


def test_one_label_shows_one_value_on_every_page_of_every_period(every_period):
    lang, periods = every_period
    assert [p.name for p in periods] == (ALL_PERIODS if lang == "en" else list(SAMPLE_LANGUAGE_PERIODS))
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


def page_kinds(period: Path) -> set[tuple[str, str, str]]:
    """What kinds of content the pages of one period folder show: (page, kind, text with its figures masked) for
    every heading, headline card label, table header row, note or warning (its first four words) and the page's
    number of charts (report_scan.content_kinds, from the parse the page's figure pairs share)."""
    return {(page.stem, *kind) for page in sorted(period.glob("*.html"))
            for kind in content_kinds(page.read_text(encoding="utf-8"))}


def test_page_kinds_can_fail(tmp_path):
    period = tmp_path / "FY2024Q1"
    period.mkdir()
    (period / "00_a.html").write_text('<h2>Win rate FY2024Q1</h2><div class="wb-warn">Only 3 deals closed here</div>'
                                      '<table><thead><tr><th>Measure</th><th>2025</th></tr></thead></table><img alt="x">',
                                      encoding="utf-8")
    assert page_kinds(period) == {("00_a", "h2", "Win rate #"), ("00_a", "note", "Only # deals closed"),
                                  ("00_a", "table", "Measure|#"), ("00_a", "charts", "1")}


@pytest.mark.parametrize("lang", ["en"])    # read from the English run: its group (conftest.xdist_group_of)
def test_the_japanese_periods_show_every_kind_of_content_of_every_period(sample_all_periods, lang):
    """The Japanese run's periods (conftest.SAMPLE_LANGUAGE_PERIODS) show, in the English run, every heading, card,
    table, note and chart count that any period of the sample shows: the Japanese pages checked by this module and
    tests/test_report_language.py hold every kind of text the reports of the sample have. When a period shows a kind
    the three do not, add that period to SAMPLE_LANGUAGE_PERIODS."""
    out = sample_all_periods(lang)
    kinds = {name: page_kinds(out / name) for name in ALL_PERIODS}
    chosen = set().union(*(kinds[name] for name in SAMPLE_LANGUAGE_PERIODS))
    assert len(chosen) > 150
    missing = {name: sorted(k - chosen) for name, k in kinds.items() if k - chosen}
    assert missing == {}, missing
