"""A mapping file's tables parsed: each `tables.NAME` entry into a TableMapping, its columns into ColumnRules, its
drop_if rules into DropRules and its joins into JoinRules (format: docs/ingest.md). Every mistake is a
`WorkbookError` with a `fix`; the mistakes of a table's column rules, and of the tables, are raised together
(:func:`raise_all`: coded error mapping_errors when there are several). helpers.data.mapping_spec.load_mapping reads
the file and calls :func:`_parse_table` per table.
"""
from __future__ import annotations

import re
from typing import Any

from helpers.data.mapping_types import (COLUMN_KEYS, DATE_KINDS, DROP_KEYS, DROP_OPS, FLAG_KEYS, JOIN_KEYS, SQL_KEYS,
                                        TABLE_KEYS, ColumnRule, DropRule, JoinRule, SqlSource, TableMapping)
from helpers.data.mapping_values import (_as_text, _check_keys, _close, _key, _text_list, check_date_format,
                                         check_date_order, normalize_encoding)
from helpers.data.schema import OUTCOMES, TABLES, meaning
from helpers.errors import Phrase, PhraseList, WorkbookError, coded_error, error_keys


# --------------------------------------------------------------------------- one column
def _parse_rule(target: str, spec, table: str, where: str) -> ColumnRule:
    """The rule filling canonical column `target` of `table` from its mapping entry `spec` (an export column name, a
    list of alternatives, or a mapping of COLUMN_KEYS); `where` names the entry in messages. WorkbookError with a fix
    for the first mistake, checked in the order of the keys below."""
    kind = TABLES[table].column(target).kind
    if isinstance(spec, str) or isinstance(spec, list):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        raise coded_error("mapping_rule_shape", where, value=repr(spec))
    _check_keys(spec, COLUMN_KEYS, where)
    kw: dict[str, Any] = {}
    _rule_source(spec, target, where, kw)
    if "format" in spec:
        if kind not in DATE_KINDS:
            raise coded_error("mapping_date_key", where, key="format", target=target, kind=kind)
        formats = _text_list(spec["format"], where, "format")
        for f in formats:
            check_date_format(f, f"{where}.format")
        kw["formats"] = formats
    _rule_value_map(spec, target, where, kw)
    _rule_cells(spec, kind, where, kw)
    _rule_conditions(spec, kind, table, where, kw)
    if "date_order" in spec:
        if kind not in DATE_KINDS:
            raise coded_error("mapping_date_key", where, key="date_order", target=target, kind=kind)
        kw["date_order"] = check_date_order(spec["date_order"], f"{where}.date_order")
    for key in ("currency_column", "converted_column", "converted_currency_column"):
        if key in spec:
            if target != "amount":
                raise coded_error("mapping_amount_key", where, key=key)
            # [] states that there is none: a mapping that extends another one drops the base's column so
            kw[key] = () if spec[key] == [] else _text_list(spec[key], f"{where}.{key}", key)
    rule = ColumnRule(target=target, kind=kind, **kw)
    if rule.period_filter and (kind not in ("date", "datetime") or not rule.columns):
        raise coded_error("mapping_period_filter_date", where)
    return rule


def _rule_source(spec: dict, target: str, where: str, kw: dict[str, Any]) -> None:
    """Where a column's values come from, into `kw` (ColumnRule's fields): exactly one of column (export columns),
    constant (one value) or flags (the outcome from boolean columns; with column too, the stage column's value map
    serves an export without the flags)."""
    sources = [k for k in ("column", "constant", "flags") if k in spec]
    if sources == ["column", "flags"] and target == "outcome":
        sources = ["flags"]  # flags when the export has them, else the stage column's value map
    if len(sources) != 1:
        raise coded_error("mapping_rule_source", where, got=", ".join(sources) or Phrase("part_none"))
    if "column" in spec:
        kw["columns"] = _text_list(spec["column"], where, "column")
    if "constant" in spec:
        if spec["constant"] is None or isinstance(spec["constant"], (dict, list)):
            raise coded_error("mapping_one_value", where, key="constant", example="unknown")
        kw["constant"] = _as_text(spec["constant"])
    if "flags" in spec:
        flags = spec["flags"]
        if target != "outcome":
            raise coded_error("mapping_flags_target", where)
        if not isinstance(flags, dict):
            raise coded_error("mapping_flags_shape", where)
        _check_keys(flags, FLAG_KEYS, f"{where}.flags")
        if "won" not in flags or not ({"lost", "closed"} & set(flags)):
            raise coded_error("mapping_flags_roles", f"{where}.flags")
        kw["flags"] = tuple((k, _text_list(flags[k], f"{where}.flags.{k}", "a flag column")) for k in FLAG_KEYS if k in flags)


def _rule_value_map(spec: dict, target: str, where: str, kw: dict[str, Any]) -> None:
    """A column's value map, into `kw`: values (export value -> canonical value), open (the outcome's open stages),
    other and default; an outcome's values must all be open, won or lost, and it takes no other:."""
    if "values" in spec:
        values = spec["values"]
        if not isinstance(values, dict) or not values:
            raise coded_error("mapping_values_shape", where)
        labels = tuple((_as_text(k), _as_text(v)) for k, v in values.items())
        kw["labels"] = labels
        kw["values"] = tuple((_key(k), v) for k, v in labels)
    if target == "outcome" and "other" in spec:
        raise coded_error("mapping_outcome_other", where, other=repr(spec["other"]))
    if "open" in spec:
        if target != "outcome":
            raise coded_error("mapping_open_target", where, key="open")
        opens = _text_list(spec["open"], f"{where}.open", "open")
        kw["labels"] = kw.get("labels", ()) + tuple((o, "open") for o in opens)
        kw["values"] = kw.get("values", ()) + tuple((_key(o), "open") for o in opens)
    for key in ("other", "default"):
        if key in spec:
            if spec[key] is None or isinstance(spec[key], (dict, list)):
                raise coded_error("mapping_one_value", where, key=key, example="open")
            kw[key] = _as_text(spec[key])
    if target == "outcome":
        used = [v for _, v in kw.get("values", ())] + [kw[k] for k in ("other", "default", "constant") if k in kw]
        bad = sorted({v for v in used if v.strip().lower() not in OUTCOMES})
        if bad:
            raise coded_error("mapping_outcome_values", where, values=", ".join(repr(b) for b in bad))


def _rule_cells(spec: dict, kind: str, where: str, kw: dict[str, Any]) -> None:
    """How a column's cells are read, into `kw`: optional and period_filter (true or false), split (a separator, or
    false: one value a cell) and decimal (a number column's decimal mark)."""
    for key in ("optional", "period_filter"):
        if key in spec:
            if not isinstance(spec[key], bool):
                raise coded_error("mapping_true_false", where, "got", key=key, value=repr(spec[key]))
            kw[key] = spec[key]
    if "split" in spec:
        if spec["split"] is False:
            kw["keep_whole"] = True   # cells holding ';' are single values (prose, names): no check
        elif not isinstance(spec["split"], str) or not spec["split"]:
            raise coded_error("mapping_split", where)
        else:
            kw["split"] = spec["split"]
    if "decimal" in spec:
        if kind not in ("number", "int") or spec["decimal"] not in (".", ","):
            raise coded_error("mapping_decimal_rule", where)
        kw["decimal"] = spec["decimal"]


def _rule_conditions(spec: dict, kind: str, table: str, where: str, kw: dict[str, Any]) -> None:
    """A column's rules over other canonical columns of `table`, into `kw`: not_after (a date later than that date
    column is set to it) and only_when (the value is kept only where those columns hold those values)."""
    if "not_after" in spec:
        other = str(spec["not_after"])
        if kind not in ("date", "datetime") or other not in TABLES[table].column_names or \
                TABLES[table].column(other).kind not in ("date", "datetime"):
            raise coded_error("mapping_not_after", where, table=table, other=repr(other))
        kw["not_after"] = other
    if "only_when" in spec:
        cond = spec["only_when"]
        if not isinstance(cond, dict) or not cond:
            raise coded_error("mapping_only_when", where)
        parsed = []
        for col, vals in cond.items():
            if col not in TABLES[table].column_names:
                raise coded_error("mapping_only_when_column", f"{where}.only_when", column=col, table=table,
                                  close=_close(col, TABLES[table].column_names), columns=", ".join(TABLES[table].column_names))
            parsed.append((str(col), tuple(v.lower() for v in _text_list(vals, f"{where}.only_when.{col}", "the values"))))
        kw["only_when"] = tuple(parsed)


# --------------------------------------------------------------------------- drop rules and joins
def _parse_drop(spec, where: str) -> DropRule:
    if not isinstance(spec, dict):
        raise coded_error("mapping_drop_shape", where)
    _check_keys(spec, DROP_KEYS, where)
    if "column" not in spec:
        raise coded_error("mapping_drop_column", where)
    ops = [k for k in DROP_OPS if k in spec]
    if len(ops) != 1:
        raise coded_error("mapping_drop_op", where, ops=", ".join(DROP_OPS), got=", ".join(ops) or Phrase("part_none"))
    op = ops[0]
    if op == "empty":
        if spec["empty"] is not True:
            raise coded_error("mapping_drop_empty", where)
        values: tuple[str, ...] = ()
    elif op == "matches":
        values = (str(spec["matches"]),)
        try:
            re.compile(values[0])
        except re.error as exc:
            raise coded_error("mapping_drop_pattern", where, pattern=repr(values[0]), error=str(exc)) from None
    else:
        values = tuple(_as_text(v) for v in (spec[op] if isinstance(spec[op], list) else [spec[op]]))
    optional = spec.get("optional", False)
    if not isinstance(optional, bool):
        raise coded_error("mapping_true_false", where, "named", key="optional")
    return DropRule(_text_list(spec["column"], where, "column"), op, values, str(spec.get("reason") or ""), optional)


def _parse_join(spec, where: str) -> JoinRule:
    """One `join:` entry: {file, on, key, columns: {export column: name}, fill, optional}."""
    if not isinstance(spec, dict):
        raise coded_error("mapping_join_shape", where)
    _check_keys(spec, JOIN_KEYS, where)
    for key in ("file", "on", "key", "columns"):
        if not spec.get(key):
            raise coded_error("mapping_join_key", where, key=key)
    if not isinstance(spec["columns"], dict):
        raise coded_error("mapping_join_columns", f"{where}.columns")
    for key in ("fill", "optional"):
        if key in spec and not isinstance(spec[key], bool):
            raise coded_error("mapping_true_false", f"{where}.{key}", key=key)
    return JoinRule(files=_text_list(spec["file"], f"{where}.file", "file"), on=_text_list(spec["on"], f"{where}.on", "on"),
                    key=_text_list(spec["key"], f"{where}.key", "key"),
                    columns=tuple((_as_text(k), _as_text(v)) for k, v in spec["columns"].items()),
                    fill=bool(spec.get("fill", False)), optional=bool(spec.get("optional", False)))


# --------------------------------------------------------------------------- one table
def _parse_table(name, spec, label: str) -> TableMapping:
    """The TableMapping of `tables.NAME` entry `spec` of mapping file `label`: where the table is read from, its
    settings, its column rules, drop_if rules, keep and joins. WorkbookError with a fix for the first mistake."""
    where = f"{label}: tables.{name}"
    if name not in TABLES:
        raise coded_error("mapping_unknown_table", label, name=name, close=_close(name, TABLES), tables=", ".join(TABLES))
    if not isinstance(spec, dict):
        raise coded_error("mapping_table_shape", where, value=repr(spec))
    _check_keys(spec, TABLE_KEYS, where)
    kw: dict[str, Any] = {}
    _table_source(spec, where, kw)
    _table_settings(spec, where, kw)
    table = TABLES[name]
    kw["columns"] = _table_columns(spec, name, where)
    drops = spec.get("drop_if") or []
    if not isinstance(drops, list):
        drops = [drops]
    kw["drop_if"] = tuple(_parse_drop(d, f"{where}.drop_if[{i}]") for i, d in enumerate(drops))
    if "keep" in spec:
        keep = _text_list(spec["keep"], f"{where}.keep", "keep")
        clash = [k for k in keep if k in table.column_names]
        if clash:
            raise coded_error("mapping_keep_clash", f"{where}.keep", columns=", ".join(clash))
        kw["keep"] = keep
    joins = spec.get("join") or []
    kw["joins"] = tuple(_parse_join(j, f"{where}.join[{i}]") for i, j in enumerate(joins if isinstance(joins, list) else [joins]))
    return TableMapping(table=name, where=where, **kw)


def _table_source(spec: dict, where: str, kw: dict[str, Any]) -> None:
    """Where a table is read from, into `kw` (TableMapping's fields): exactly one of file (names or globs) or sql
    ({url, query} or {url, table}); encoding and sheet, for export files only."""
    if ("file" in spec) == ("sql" in spec):
        raise coded_error("mapping_table_source", where)
    if "file" in spec:
        kw["files"] = _text_list(spec["file"], f"{where}.file", "file")
    else:
        sql = spec["sql"]
        if not isinstance(sql, dict):
            raise coded_error("mapping_sql_shape", f"{where}.sql")
        _check_keys(sql, SQL_KEYS, f"{where}.sql")
        if not sql.get("url") or ("query" in sql) == ("table" in sql):
            raise coded_error("mapping_sql_keys", f"{where}.sql")
        kw["sql"] = SqlSource(str(sql["url"]), str(sql["query"]) if "query" in sql else None,
                              str(sql["table"]) if "table" in sql else None)
        for key in ("encoding", "sheet"):
            if key in spec:
                raise coded_error("mapping_file_key", where, key=key)
    if "encoding" in spec:
        kw["encoding"] = normalize_encoding(spec["encoding"], f"{where}.encoding")
    if "sheet" in spec:
        if not isinstance(spec["sheet"], (str, int)) or isinstance(spec["sheet"], bool):
            raise coded_error("mapping_sheet", f"{where}.sheet")
        kw["sheet"] = spec["sheet"]


def _table_settings(spec: dict, where: str, kw: dict[str, Any]) -> None:
    """A table's settings, into `kw`: optional and headers_unconfirmed (true or false), date_order and decimal (for
    every column of the table; a column's own setting wins)."""
    for key in ("optional", "headers_unconfirmed"):
        if key in spec:
            if not isinstance(spec[key], bool):
                raise coded_error("mapping_true_false", f"{where}.{key}", key=key)
            kw[key] = spec[key]
    if spec.get("date_order") is not None:
        kw["date_order"] = check_date_order(spec["date_order"], f"{where}.date_order")
    if spec.get("decimal") is not None:
        if spec["decimal"] not in (".", ","):
            raise coded_error("mapping_decimal_table", f"{where}.decimal", value=repr(spec["decimal"]))
        kw["decimal"] = spec["decimal"]


def _table_columns(spec: dict, name: str, where: str) -> tuple[ColumnRule, ...]:
    """The column rules of table `name`: each a canonical column of the table, every required column mapped (an
    optional one with a default), not_after and only_when naming mapped columns, period_filter on one column of an
    sql source at most."""
    columns = spec.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise coded_error("mapping_no_columns", where)
    table = TABLES[name]
    rules = []
    errors: list[WorkbookError] = []   # every rule's mistakes, said together
    failed = set()
    for target, rule in columns.items():
        try:
            if target not in table.column_names:
                raise coded_error("mapping_unknown_column", f"{where}.columns", column=target, table=name,
                                  close=_close(target, table.column_names), columns=", ".join(table.column_names))
            rules.append(_parse_rule(str(target), rule, name, f"{where}.columns.{target}"))
        except WorkbookError as exc:
            errors.append(exc)
            failed.add(target)
    raise_all(errors)
    for col in table.columns:
        mapped = next((r for r in rules if r.target == col.name), None)
        if col.required and col.name not in failed and (mapped is None or (mapped.optional and mapped.default is None)):
            raise coded_error("mapping_required_column", f"{where}.columns", "not_mapped" if mapped is None else "optional",
                              column=col.name, meaning=meaning(name, col.name))
    targets = {r.target for r in rules}
    for r in rules:
        for other in ([r.not_after] if r.not_after else []) + [c for c, _ in r.only_when]:
            if other not in targets:
                raise coded_error("mapping_refers_unmapped", f"{where}.columns.{r.target}", other=other)
    filters = [r.target for r in rules if r.period_filter]
    if filters and "sql" not in spec:
        raise coded_error("mapping_period_filter_file", where)
    if len(filters) > 1:
        raise coded_error("mapping_period_filter_twice", where, columns=", ".join(filters))
    return tuple(rules)


def raise_all(errors: list[WorkbookError], label: str | None = None) -> None:
    """Raise the mapping's mistakes `errors` together: one of them as it is, several as one coded error
    mapping_errors listing each with its place and fix (in the error's language); nothing when there is none. An error
    that already lists several (its ``errors``) is flattened."""
    flat = [e for err in errors for e in getattr(err, "errors", None) or [err]]
    if not flat:
        return
    if len(flat) == 1:
        raise flat[0]
    items = []
    for e in flat:
        if e.code is None:
            items.append(f"  - {e}")
            continue
        message_key, fix_key = error_keys(e.code, str(e.params.get("variant", "")))
        where = e.params.get("file")
        items.append(PhraseList(["  - ", f"{where}: " if where else "", Phrase(message_key, **e.params), "\n    ",
                                 Phrase("part_how_to_fix", fix=Phrase(fix_key, **e.params))], ""))
    err = coded_error("mapping_errors", label, count=len(flat), problems=PhraseList(items, "\n"))
    err.errors = flat
    raise err
