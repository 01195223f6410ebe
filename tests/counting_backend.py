"""A warehouse connection that counts the rows the workbook fetches from it (issue 26: fetched rows independent of
the table's size).

`Counting(con)` passes every call through to the Ibis backend `con`; the calls that bring results back
(``to_pyarrow``, ``execute``) add the rows they return to ``fetched`` and the call to ``queries``. The other ways
to fetch (``to_pandas``, batches, raw SQL cursors but an ALTER TABLE's) raise, so a fetch cannot go uncounted.
"""
from __future__ import annotations


class Counting:
    """An Ibis backend wrapper: ``fetched`` = rows returned so far, ``queries`` = result-returning calls so far."""

    def __init__(self, con):
        self._con = con
        self.fetched = 0
        self.queries = 0

    def _count(self, rows: int) -> None:
        self.fetched += rows
        self.queries += 1

    def to_pyarrow(self, expr, *args, **kwargs):
        result = self._con.to_pyarrow(expr, *args, **kwargs)
        self._count(getattr(result, "num_rows", 1))  # a table counts its rows, a scalar one
        return result

    def execute(self, expr, *args, **kwargs):
        result = self._con.execute(expr, *args, **kwargs)
        self._count(len(result) if hasattr(result, "__len__") and not isinstance(result, str) else 1)
        return result

    def _refused(self, *args, **kwargs):
        raise AssertionError("a fetch the counting backend does not count")

    to_pandas = to_pyarrow_batches = to_polars = to_torch = _refused

    def raw_sql(self, query, *args, **kwargs):
        """A statement that returns no rows (ALTER TABLE: a temporary table's collation) passes; any other is refused."""
        if not str(query).lstrip().upper().startswith("ALTER TABLE "):
            self._refused()
        return self._con.raw_sql(query, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)
