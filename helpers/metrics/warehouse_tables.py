"""The warehouse's tables found and checked: the runner's ``--table NAME=TABLE`` options, the canonical tables a
schema holds (a table named by an option, or a required one, missing is a coded error naming the schema's tables and
the close matches), each table's required columns of the contract, and the leads, opportunities, spend and touches
as the warehouse holds them.

Part of helpers.metrics.warehouse (every name here stays importable from there).
"""
from __future__ import annotations

import difflib

from helpers.errors import coded_error
from helpers.metrics import engine


def parse_table_options(items: list[str]) -> dict[str, str]:
    """The runner's ``--table NAME=TABLE`` options as {canonical table name: warehouse table}. WorkbookError (coded
    table_option) for an item without '=', a NAME that is no canonical table (with the close matches) or a NAME
    given twice."""
    from helpers.data.schema import TABLES

    out: dict[str, str] = {}
    for item in items:
        name, eq, table = (part.strip() for part in item.partition("="))
        where = f"--table {item}"
        if not eq or not name or not table:
            raise coded_error("table_option", where, "format")
        if name not in TABLES:
            close = difflib.get_close_matches(name.lower(), list(TABLES), n=2, cutoff=0.6)
            raise coded_error("table_option", where, "unknown_close" if close else "unknown", name=name,
                              close=" / ".join(close), names=", ".join(TABLES))
        if name in out and out[name] != table:
            raise coded_error("table_option", where, "twice", name=name, first=out[name], second=table)
        out[name] = table
    return out


def _schema_name(con, schema: str | None) -> str:
    """The schema as a message names it: `schema`, else the connection's current one (main, public, ...)."""
    if schema:
        return schema
    try:
        return str(con.current_database)
    except Exception:  # noqa: BLE001 - a backend without the notion
        return "(default)"


def _listing(names, limit: int = 30) -> str:
    names = sorted(names)
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _close(name: str, options) -> list[str]:
    """Names in `options` close to `name`, case-insensitively (PostgreSQL folds unquoted names to lower case)."""
    lower = {o.lower(): o for o in options}
    found = difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.6)
    return [lower[f] for f in found]


def source_tables(con, schema: str | None, named: dict[str, str], how: dict[str, str],
                  required: tuple[str, ...] = ("opportunities",)) -> dict[str, str]:
    """{canonical name: warehouse table} of the tables present: each of `named` (canonical name -> the table the user
    named, or its default name) that exists in `schema`. WorkbookError (coded warehouse_table_missing), naming the
    schema, the tables it has and the close matches, when a table the user named (`how` holds the option that named
    it, e.g. "--leads-table ") or a `required` one is missing: nothing is skipped silently."""
    try:
        existing = list(con.list_tables(database=schema))
    except Exception as exc:  # noqa: BLE001 - a schema the backend cannot list: its own error type
        raise coded_error("warehouse_list", "--warehouse", schema=_schema_name(con, schema),
                          error=f"{type(exc).__name__}: {str(exc).strip()}") from None
    missing = [name for name in named if named[name] not in existing and (name in how or name in required)]
    if not missing:
        return {name: table for name, table in named.items() if table in existing}
    option = {name: how.get(name, f"--table {name}=") for name in missing}
    close = list(dict.fromkeys(c for name in missing for c in _close(named[name], existing)))
    params = {"missing": "; ".join(f"{named[name]} ({option[name]}{named[name]})" for name in missing),
              "schema": _schema_name(con, schema), "tables": _listing(existing), "close": " / ".join(close),
              "options": " / ".join(dict.fromkeys(f"{option[name]}TABLE" for name in missing))}
    if not existing:
        try:
            schemas = [d for d in con.list_databases() if d not in ("information_schema", "pg_catalog")]
        except Exception:  # noqa: BLE001
            schemas = []
        raise coded_error("warehouse_table_missing", "--warehouse", "empty", schemas=_listing(schemas), **params)
    raise coded_error("warehouse_table_missing", "--warehouse", "close" if close else "", **params)


def check_columns(t, name: str, source: str, schema: str) -> None:
    """WorkbookError (coded warehouse_column_missing) when warehouse table `source` (read as canonical table `name`,
    in `schema`) lacks a required column of the contract; the message lists its columns and the close ones."""
    from helpers.data.schema import TABLES

    missing = [c.name for c in TABLES[name].columns if c.required and c.name not in t.columns]
    if not missing:
        return
    close = list(dict.fromkeys(c for m in missing for c in _close(m, t.columns)))
    raise coded_error("warehouse_column_missing", "--warehouse", "close" if close else "", table=source, schema=schema,
                      name=name, missing=", ".join(missing), columns=_listing(t.columns), close=" / ".join(close),
                      first=missing[0])


def raw_tables(con, schema: str | None, named: dict[str, str]) -> dict:
    """{canonical name: the warehouse's table as it is} of the leads and opportunities (both must exist) and of the
    spend and touches when `named` names them or the schema has them under their own names; each checked for the
    contract's required columns. WorkbookError as :func:`source_tables` / :func:`check_columns`."""
    wanted = {name: named.get(name, name) for name in ("leads", "opportunities", "spend", "touches")}
    found = source_tables(con, schema, wanted, {"leads": "--leads-table ", "opportunities": "--opportunities-table ",
                                                **{n: f"--table {n}=" for n in ("spend", "touches") if n in named}},
                          required=("leads", "opportunities"))
    where = _schema_name(con, schema)
    with engine._quiet():
        out = {name: con.table(table, database=schema) for name, table in found.items()}
    for name, t in out.items():
        check_columns(t, name, found[name], where)
    return out
