"""Ibis 12.0.0's DuckDB backend on DuckDB 2: the result-reading method Ibis calls, under its current name.

Ibis 12.0.0 reads a few small results (``list_tables``, ``list_databases``, ``list_catalogs``, a table's schema, the
schema of raw SQL) with ``fetch_arrow_table()``. DuckDB 2 removed that method from connections and deprecated it on
relations (a DeprecationWarning at every call); its replacement is ``to_arrow_table()``, which returns the same Arrow
table (duckdb-python PR 287, "Unified arrow API"; Ibis switched to it upstream in PR 12001, after 12.0.0, and 12.0.0
is the newest release). :func:`duckdb_compat` makes the old name call the current method on both, so Ibis reads
through ``to_arrow_table()`` and no deprecation is raised. Nothing changes where DuckDB still has the method as its
own (DuckDB 1.x), except that a relation's old name is its current method wherever that exists.
"""
from __future__ import annotations

import functools
import warnings


@functools.lru_cache(maxsize=1)
def duckdb_compat() -> None:
    """Give DuckDB 2's connections and relations ``fetch_arrow_table`` as their current ``to_arrow_table`` (call
    before Ibis connects; once per process). Without it every ``duckdb://`` warehouse failed in ``list_tables``
    with AttributeError, and every table schema Ibis read warned that fetch_arrow_table() is deprecated."""
    import duckdb

    connection = duckdb.DuckDBPyConnection
    if not hasattr(connection, "fetch_arrow_table"):
        def fetch_arrow_table(self, *args, **kwargs):
            with warnings.catch_warnings():   # a DB-API result is copied once more: a few rows of catalog names
                warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
                return self.to_arrow_table(*args, **kwargs)

        connection.fetch_arrow_table = fetch_arrow_table
    relation = duckdb.DuckDBPyRelation
    if hasattr(relation, "to_arrow_table"):   # the same Arrow table, without the deprecation
        relation.fetch_arrow_table = relation.to_arrow_table
    if hasattr(relation, "to_arrow_reader"):  # Ibis's to_pyarrow_batches: fetch_record_batch(rows_per_batch=...)
        relation.fetch_record_batch = lambda self, rows_per_batch=1_000_000: self.to_arrow_reader(rows_per_batch)
