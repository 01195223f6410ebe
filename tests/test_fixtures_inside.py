"""Tests read only files inside the repository: every input is in tests/fixtures/ (or made in tmp_path), so
`make test` in a fresh clone anywhere runs every test, and no test is skipped for a missing fixture.

The example exports (tests/fixtures/cases/exports/) and the Salesforce object export
(tests/fixtures/salesforce_export/) were copied in from the project's shared folder, with their READMEs.
"""
from __future__ import annotations

import re
from pathlib import Path

from helpers.paths import PROJ_ROOT

TESTS = PROJ_ROOT / "tests"
#: What points outside the repository: the machine's /work folder, the shared folder beside the checkout (a relative
#: path up into it), a path climbing above tests/'s parent.
OUTSIDE = re.compile(r"/work/|\.\./shared|parents\[[2-9]\]|\.\.[\"']\s*/\s*[\"']shared")
#: A skip decided by whether a file or folder exists: a fixture that may be missing.
SKIP_ON_A_FILE = re.compile(r"skip.*\b(is_dir|is_file|exists)\(")


def test_no_test_reads_a_file_outside_the_repository():
    offenders = [f"{path.relative_to(PROJ_ROOT)}:{n}: {line.strip()}"
                 for path in sorted([*TESTS.rglob("*.py"), *TESTS.rglob("*.md")])   # a fixture's notes too: its
                 if path != Path(__file__).resolve()                             # inputs must be in the repository
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if OUTSIDE.search(line) or SKIP_ON_A_FILE.search(line)]
    assert offenders == []


def test_the_check_sees_an_outside_path():
    # the outside paths below are built from parts, so that a plain search of the tests for them finds real reads only
    assert OUTSIDE.search("Path(__file__).resolve().parents[" + '2] / "sha' + 'red" / "cases"')
    assert OUTSIDE.search("tests/fixtures/.." + "/sha" + "red/cases")
    assert OUTSIDE.search("reads /work/shared/fixtures/salesforce_export")
    assert SKIP_ON_A_FILE.search('pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason="...")')
    assert not OUTSIDE.search('Path(__file__).parent / "fixtures" / "cases" / "exports"')


def test_the_copied_fixtures_are_complete():
    cases = TESTS / "fixtures" / "cases" / "exports"
    folders = sorted(p.name for p in cases.iterdir() if p.is_dir())
    assert len(folders) == 10 and folders[0] == "01-footer-id-first" and (cases / "README.md").is_file()
    assert all(any(p.suffix == ".csv" for p in (cases / f).iterdir()) for f in folders)
    salesforce = TESTS / "fixtures" / "salesforce_export"
    assert sorted(p.name for p in salesforce.iterdir()) == ["Account.csv", "Campaign.csv", "CampaignMember.csv",
                                                             "Lead.csv", "Opportunity.csv", "README.md"]
