"""The new-user tester's null and refusal cases (tests/fixtures/newuser/README.md): hand-computed expectations."""
import shutil

import pytest

import helpers.data.load as load
from helpers.errors import DataValidationError
from helpers.paths import PROJ_ROOT

CASES = PROJ_ROOT / "tests" / "fixtures" / "newuser"


def _refusal(folder, fast: bool, monkeypatch) -> list[tuple]:
    monkeypatch.setattr(load, "FAST_CSV", fast)
    with pytest.raises(DataValidationError) as caught:
        load.load_workbook(folder)
    return [(f.code, f.column, f.rows, f.count) for f in caught.value.findings if f.severity == "error"]


@pytest.mark.parametrize("fast", [True, False])
def test_an_unparseable_date_is_not_also_a_missing_close_date(fast, monkeypatch):
    # row 2 (O1): created_at 令和7年4月8日 and closed_at 令和7年5月20日, a won deal: two bad_date errors, nothing else
    assert _refusal(CASES / "wareki-canonical", fast, monkeypatch) == [
        ("bad_date", "created_at", (2,), 1), ("bad_date", "closed_at", (2,), 1)]


@pytest.mark.parametrize("fast", [True, False])
def test_unparseable_cells_are_refused_once_and_empty_ones_still_missing(fast, monkeypatch, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(CASES / "wareki-canonical", folder)
    with open(folder / "opportunities.csv", "a", encoding="utf-8") as f:
        f.write("O3,2025-04-25,2025-06-01,won,abc,L3,web\n"   # row 4: an amount that is not a number (not "missing")
                "O4,2025-04-26,,won,,L3,web\n")               # row 5: a won deal with no close date and no amount
    assert _refusal(folder, fast, monkeypatch) == [
        ("bad_date", "created_at", (2,), 1), ("bad_date", "closed_at", (2,), 1), ("bad_number", "amount", (4,), 1),
        ("missing_closed_at", "closed_at", (5,), 1)]
    monkeypatch.setattr(load, "FAST_CSV", fast)
    with pytest.raises(DataValidationError) as caught:
        load.load_workbook(folder)
    won_without = [f for f in caught.value.findings if f.code == "won_without_amount"]
    assert [(f.rows, f.count) for f in won_without] == [((5,), 1)]   # row 4's 'abc' is written, only row 5 has none
