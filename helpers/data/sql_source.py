"""A mapping's SQL source (docs/ingest.md, "SQL sources"): the url (${VAR} from the environment), the statement
with the period pushed in as bound parameters, and the rows read read-only through SQLAlchemy.

No message shows a value taken from the environment or any piece of a password: the url is named as the mapping
writes it (``${VAR}`` unexpanded, the password as ``***``: helpers.errors.redact_url), and a driver's text passes
through :func:`_hide`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from helpers.data.mapping import TableMapping
from helpers.errors import check_url_password, coded_error, redact_url, scrub, url_secrets


def _expand(url: str, where: str) -> tuple[str, dict[str, str]]:
    """${VAR} in a SQL url comes from the environment (keep passwords out of mapping files): (the expanded url,
    {VAR: value} of the variables used). A message never shows the values (:func:`_hide`)."""
    used: dict[str, str] = {}

    def sub(m):
        if m.group(1) not in os.environ:
            raise coded_error("sql_env_unset", f"{where}.sql.url", name=m.group(1))
        used[m.group(1)] = os.environ[m.group(1)]
        return os.environ[m.group(1)]
    return re.sub(r"\$\{(\w+)\}", sub, url), used


def _hide(text: str, url: str, used: dict[str, str]) -> str:
    """`text` (a driver's message, a path) as a message may show it: each ${VAR} value put back as ${VAR}, and the
    password and secret parameters of the expanded `url` as ***."""
    for name, value in sorted(used.items(), key=lambda item: len(item[1]), reverse=True):
        text = scrub(text, [value], f"${{{name}}}")
    return scrub(text, url_secrets(url))


_PLACEHOLDER = re.compile(r"(?<![:\w]):(start|end_exclusive|end)\b")


def build_sql(tm: TableMapping, start=None, end=None):
    """The SQLAlchemy statement and bound parameters for a SQL source.

    With `period_filter` on a column and a start and/or end date, the range is pushed into the
    query as bound parameters: `col >= :start AND col < :end` where :end is bound to the day after
    `end` (so timestamps on the last day count). A `table` becomes `SELECT * FROM table WHERE ...`;
    a `query` is wrapped as a subquery, unless it uses the placeholders itself: :start (first day),
    :end (last day, inclusive) and :end_exclusive (the day after) are then bound directly.
    """
    import sqlalchemy as sa

    start = pd.Timestamp(start).date() if start is not None else None
    end_excl = (pd.Timestamp(end) + pd.Timedelta(days=1)).date() if end is not None else None
    params: dict = {}
    sql = tm.sql
    if sql.query is not None and _PLACEHOLDER.search(sql.query):
        used = set(_PLACEHOLDER.findall(sql.query))
        values = {"start": start, "end": pd.Timestamp(end).date() if end is not None else None, "end_exclusive": end_excl}
        unset = sorted(f":{k}" for k in used if values[k] is None)
        if unset:
            raise coded_error("sql_no_period", None, where=f"{tm.where}.sql.query", placeholders=", ".join(unset))
        binds = [sa.bindparam(name, type_=sa.Date) for name in sorted(used)]
        return sa.text(sql.query).bindparams(*binds), {k: values[k] for k in sorted(used)}
    if sql.table is not None:
        schema, _, name = sql.table.rpartition(".")
        source = sa.table(name, schema=schema or None)
    else:
        source = sa.text(f"({sql.query.strip().rstrip(';')}) AS src")
    stmt = sa.select(sa.literal_column("*")).select_from(source)
    column = tm.period_column
    if column is not None:
        if start is not None:
            stmt = stmt.where(sa.column(column) >= sa.bindparam("start", type_=sa.Date))
            params["start"] = start
        if end_excl is not None:
            stmt = stmt.where(sa.column(column) < sa.bindparam("end_exclusive", type_=sa.Date))
            params["end_exclusive"] = end_excl
    return stmt, params


def _engine(url: str, where: str, shown: str, hide):
    """A SQLAlchemy engine for the expanded `url`; SQLite and DuckDB files are opened read-only and must exist.
    Messages name the url as `shown` (as written, password hidden) and pass the driver's text through `hide`."""
    import sqlite3

    import sqlalchemy as sa

    check_url_password(url, f"{where}.sql.url {shown}")
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):  # the parser's text may quote a piece of the url: not shown
        raise coded_error("sql_bad_url", f"{where}.sql.url", url=shown) from None
    backend = parsed.get_backend_name()
    db = parsed.database
    if backend in ("sqlite", "duckdb") and db and db != ":memory:":
        if not Path(db).is_file():
            raise coded_error("sql_no_database_file", f"{where}.sql.url {shown}", path=hide(db))
        if backend == "sqlite":
            path = Path(db).resolve()
            return sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True))
        return sa.create_engine(parsed, connect_args={"read_only": True})
    try:
        return sa.create_engine(parsed)
    except Exception as exc:  # noqa: BLE001 - a missing driver etc.
        raise coded_error("sql_driver", f"{where}.sql.url", url=shown, error=hide(str(exc))) from None


def read_sql_source(tm: TableMapping, start=None, end=None) -> tuple[pd.DataFrame, str]:
    """Run a mapping's SQL source; returns the rows as cells (None for NULL) and a description for the report.
    The url is named as the mapping writes it (${VAR} unexpanded, password hidden: helpers.errors.redact_url)."""
    import sqlalchemy as sa

    url, used = _expand(tm.sql.url, tm.where)
    shown = redact_url(tm.sql.url)

    def hide(text: str) -> str:
        return _hide(text, url, used)

    engine = _engine(url, tm.where, shown, hide)
    stmt, params = build_sql(tm, start, end)
    try:
        conn = engine.connect()
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise coded_error("sql_connect", f"{tm.where}.sql.url", url=shown, error=hide(str(getattr(exc, "orig", None) or exc))) from None
    try:
        with conn:
            frame = pd.read_sql(stmt, conn, params=params or None)
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ is not None else exc
        raise coded_error("sql_query", f"{tm.where}.sql", error=hide(str(getattr(cause, "orig", None) or cause))) from None
    finally:
        engine.dispose()
    frame.columns = [str(c).strip() for c in frame.columns]
    what = f"table {tm.sql.table}" if tm.sql.table else "query"
    described = f"sql {shown} ({what})"
    if params:
        how = f"on {tm.period_column}" if tm.period_column else "through the query's placeholders"
        described += f", rows from {start or 'the start'} to {end or 'the end'} only (filtered {how})"
    return frame.astype(object).where(frame.notna(), None), described
