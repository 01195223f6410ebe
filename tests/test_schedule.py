"""make test's schedule (tests/conftest.py): every costly group CPU_SECONDS lists is one the suite still has, and the
costliest groups, the CI-only browser tests among them, are handed out first.

A renamed test or module left in CPU_SECONDS would count ESTIMATE seconds a test and start late: JupyterLab's browser
test, unlisted, started last in .ci/run and ran alone for minutes while the other workers had finished."""
from __future__ import annotations

import re

from conftest import BY_LANGUAGE, CPU_SECONDS, ESTIMATE, group_costs, xdist_group_of
from helpers.paths import PROJ_ROOT


def test_every_listed_group_names_a_module_and_test_that_exist():
    languages = {f"{group}-{lang}" for group in BY_LANGUAGE.values() for lang in ("en", "ja")}
    for group in CPU_SECONDS:
        if group in languages:
            continue
        module, _, rest = group.partition("::")
        path = PROJ_ROOT / module
        assert path.is_file(), group
        for name in filter(None, rest.split("::")):
            assert re.search(rf"^\s*(def|class) {re.escape(name)}\b", path.read_text(encoding="utf-8"), re.M), group


def test_the_lab_and_sample_runs_go_first_and_an_unlisted_group_counts_its_tests():
    nodeids = ["tests/test_lab_browser.py::test_funnel_explorer_shows_the_chosen_channel",
               "tests/test_label_values_all_periods.py::test_every_period_shows_its_win_rate_with_its_scope[en]",
               "tests/test_unlisted_example.py::test_a", "tests/test_unlisted_example.py::test_b"]
    costs = group_costs(nodeids)
    assert xdist_group_of(nodeids[1]) == "sample-all-en"
    assert costs == {"tests/test_lab_browser.py": CPU_SECONDS["tests/test_lab_browser.py"],
                     "sample-all-en": CPU_SECONDS["sample-all-en"],
                     "tests/test_unlisted_example.py": 2 * ESTIMATE}
    assert max(costs, key=costs.get) == "tests/test_lab_browser.py"
