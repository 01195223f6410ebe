"""Dates read by Arrow's cast (helpers.data.arrowtyping.plain_iso_dates) are the dates parse_cells gives, and every
column with a cell of another shape, a day or time that does not exist, or a year outside DATE_RANGE goes to the
exact parse (which names the bad cells)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from helpers.data import arrowtyping
from helpers.data.parse import parse_cells
from helpers.data.schema import TABLES

DATE, DATETIME = TABLES["leads"].column("created_at"), TABLES["leads"].column("first_sales_touch_at")


def exact(col, cells):
    """parse_cells' answer on the same cells (the exact reader's)."""
    return parse_cells(col, pd.Series(cells, dtype=object), "Asia/Tokyo")


def chunked(cells):
    """The cells as pyarrow reads them: a string column in two chunks, the second sliced (offset not zero)."""
    whole = pa.array(["x"] + cells, pa.string())
    return pa.chunked_array([whole.slice(1, len(cells) // 2), whole.slice(1 + len(cells) // 2)])


@pytest.mark.parametrize("col, cells", [
    (DATE, ["2025-04-01", None, "2024-02-29", "1678-01-01", "2261-12-31", None]),
    (DATE, ["2025-04-01T23:59:59", "2025-04-02 00:00:00", None, "1969-12-31T12:00:00"]),   # cut to the day
    (DATETIME, ["2025-04-01T09:30:00", None, "2025-04-01 23:59:59", "1900-03-01T00:00:01"]),
    (DATETIME, ["2025-04-01", "2000-02-29", None, None]),
])
def test_plain_iso_cells_read_by_arrow_give_parse_cells_values(col, cells):
    parsed, present = arrowtyping.plain_iso_dates(col, chunked(cells))
    want, want_present = exact(col, cells)
    assert parsed.dtype == want.dtype == np.dtype("datetime64[ns]")
    pd.testing.assert_series_equal(parsed, want.reset_index(drop=True), check_names=False)
    assert present.tolist() == want_present.tolist()


@pytest.mark.parametrize("odd", [
    "2023-02-29", "2025-13-01", "2025-04-31", "2025-04-01T24:00:00", "2025-04-01T10:00:60", "1677-12-31",
    "2262-01-01", " 2025-04-01", "2025-04-01 ", "2025-4-01", "2025/04/01", "20250401", "2025-04", "2025",
    "2025-04-01T10", "2025-04-01T10:00", "2025-04-01T10:00:00Z", "2025-04-01T10:00:00+09:00", "2025-04-01T10:00:00.5",
    "2025-04-01t10:00:00", "２０２５-04-01", "2025-04-01T10:00:0", "abcdefghij", "",
])
@pytest.mark.parametrize("col", [DATE, DATETIME])
def test_any_other_cell_sends_the_column_to_the_exact_parse(col, odd):
    plain = "2025-04-01" if len(odd.encode()) != 19 else "2025-04-01T10:00:00"
    assert arrowtyping.plain_iso_dates(col, chunked([plain, odd, plain, None])) is None
    assert arrowtyping.plain_iso_dates(col, chunked([plain, plain, None])) is not None


def test_dates_and_datetimes_mixed_or_no_cell_go_to_the_exact_parse():
    assert arrowtyping.plain_iso_dates(DATETIME, chunked(["2025-04-01", "2025-04-01T10:00:00"])) is None
    assert arrowtyping.plain_iso_dates(DATE, chunked([None, None])) is None
