"""Column mappings: how a CRM/MA export's columns and values become the canonical tables (contract section 4).

A mapping is a small YAML file (format: docs/ingest.md; shipped ones in
helpers/data/mappings/). `load_mapping(path)` reads and validates it, raising
`WorkbookError` with a `fix` for every mistake (unknown keys, unknown canonical
columns, bad date formats, ...). `apply_mapping(raw, table_mapping)` is a pure
function: export rows (text cells, as `helpers.data.load.read_raw` returns them) in,
canonical rows out (text cells: ISO dates, plain numbers), plus a report of what
was dropped, defaulted, adjusted and how values were mapped.

Reading the export files and SQL sources, writing the data folder and
validating it is helpers.data.ingest's job.
"""
from __future__ import annotations

import codecs
import datetime as dt
import difflib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.data.categories import LABEL_COLUMNS, MULTI_SEPARATOR, NAME_COLUMNS, excel_dated, multi_valued
from helpers.data.schema import OUTCOMES, TABLES
from helpers.errors import WorkbookError, coded_error
from helpers.yamlfile import Yaml12Loader, read_yaml
from helpers.data.values import (DATE_ORDERS, date_order_evidence, decimal_evidence, is_ambiguous_point, is_scientific,
                            has_ja_unit, parse_ja_units, salesforce_id18, salesforce_id_column, split_currency, is_ambiguous_numeric_date, looks_like_wareki, numeric_date_parts,
                            parse_numeric_date, parse_wareki)

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
DATE_KINDS = ("date", "datetime", "month")
DATE_TOKENS = ("iso", "excel", "salesforce", "numeric")
SALESFORCE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"      # 2024-01-22T16:14:25.000+0000
EXCEL_EPOCH = dt.datetime(1899, 12, 30)           # Excel serial 1 = 1900-01-01 (with the 1900 leap-year bug)
MAX_SHOWN = 5

TOP_KEYS = ("name", "description", "tables", "extends", "date_order", "decimal")
TABLE_KEYS = ("file", "sql", "encoding", "sheet", "columns", "drop_if", "keep", "optional", "date_order", "decimal", "join",
              "headers_unconfirmed")
JOIN_KEYS = ("file", "on", "key", "columns", "fill", "optional")
SQL_KEYS = ("url", "query", "table")
COLUMN_KEYS = ("column", "format", "values", "other", "default", "constant", "flags", "optional",
               "split", "decimal", "not_after", "only_when", "period_filter", "date_order", "open",
               "currency_column", "converted_column", "converted_currency_column")
FLAG_KEYS = ("won", "lost", "closed")
DROP_OPS = ("empty", "equals", "in", "not_in", "matches")
DROP_KEYS = ("column", "reason", "optional") + DROP_OPS
ENCODING_ALIASES = {"shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "s_jis": "cp932", "ms932": "cp932",
                    "windows-31j": "cp932", "cp932": "cp932", "utf-8": "utf-8", "utf8": "utf-8",
                    "utf-8-sig": "utf-8-sig", "utf_8_sig": "utf-8-sig", "utf-16": "utf-16", "utf16": "utf-16", "unicode": "utf-16",
                    "ansi": "cp1252", "windows-1252": "cp1252", "cp1252": "cp1252", "latin-1": "latin-1"}
TRUE_FLAGS = {"1", "1.0", "true", "t", "yes", "y", "x", "はい", "✓"}
FALSE_FLAGS = {"", "0", "0.0", "false", "f", "no", "n", "いいえ"}
FIX_DATE_FORMAT = ("Write formats with strftime codes, e.g. \"%Y/%m/%d\", \"%d.%m.%Y\", \"%Y年%m月%d日\", "
                   "or use one of the tokens iso, numeric (3/2/2025 with the day/month order taken from the column, or date_order), "
                   "excel (serial numbers such as 45312), salesforce (2024-01-22T16:14:25.000+0000). "
                   "Japanese era dates (令和6年10月7日, R6.10.7) are read without a format.")


# --------------------------------------------------------------------------- the mapping objects
@dataclass(frozen=True)
class ColumnRule:
    """How one canonical column is filled (see docs/ingest.md for every key)."""

    target: str                              # canonical column name
    kind: str                                # its contract type (helpers.data.schema)
    columns: tuple[str, ...] = ()            # export column, or alternatives tried in order
    formats: tuple[str, ...] = ()            # date formats tried in order (strftime codes or tokens)
    values: tuple[tuple[str, str], ...] = () # value map: (normalized export value, canonical value)
    labels: tuple[tuple[str, str], ...] = () # the value map as written (export value, canonical value)
    other: str | None = None                 # value for anything the value map does not list
    default: str | None = None               # value for empty cells
    constant: str | None = None              # the same value in every row
    flags: tuple[tuple[str, tuple[str, ...]], ...] = ()  # outcome from boolean columns: (won|lost|closed, export column alternatives)
    optional: bool = False                   # export column may be absent: the canonical column is left out
    split: str | None = None                 # multi-value cells ("1;2"): keep the first value (said in a warning)
    keep_whole: bool = False                 # split: false: a cell holding ';' is one value (no multi-value check)
    decimal: str | None = None               # decimal mark of the export's numbers (None: the table's, else decided from the values)
    not_after: str | None = None             # a date later than this canonical date column is set to it
    only_when: tuple[tuple[str, tuple[str, ...]], ...] = ()  # keep the value only where these canonical values hold
    period_filter: bool = False              # SQL sources: the runner's date range filters this column in the query
    date_order: str | None = None            # numeric dates 3/2/2025: dmy or mdy (None: decided from the values)
    currency_column: tuple[str, ...] = ()    # amounts: the column holding each row's currency code (Amount Currency)
    converted_column: tuple[str, ...] = ()   # amounts: the CRM's converted amount, used when present (Amount (converted))
    converted_currency_column: tuple[str, ...] = ()  # the converted amount's currency (Amount (converted) Currency)

    def describe(self) -> str:
        """One line: where the column comes from."""
        if self.constant is not None:
            return f"constant {self.constant!r}"
        if self.flags:
            return "from flags " + ", ".join(f"{k}={' | '.join(c)}" for k, c in self.flags)
        text = " | ".join(self.columns)
        if self.values:
            text += " (value map)"
        return text


@dataclass(frozen=True)
class DropRule:
    """Drop export rows where `column` is empty / equals / is in / is not in / matches."""

    columns: tuple[str, ...]
    op: str
    values: tuple[str, ...] = ()
    reason: str = ""
    optional: bool = False

    def describe(self) -> str:
        col = self.columns[0]
        if self.op == "empty":
            what = f"'{col}' is empty"
        elif self.op == "matches":
            what = f"'{col}' matches {self.values[0]!r}"
        elif self.op == "not_in":
            what = f"'{col}' is not one of {', '.join(self.values)}"
        else:
            what = f"'{col}' is {' or '.join(self.values)}"
        return f"{what} ({self.reason})" if self.reason else what


@dataclass(frozen=True)
class JoinRule:
    """Columns looked up in another export file: for each row, the first row of `files` whose `key` equals the row's `on`
    cell gives its `columns` (export column -> the name they take in the row). With `fill`, a name the row already has
    is filled only where it is empty. An `optional` join whose file is absent adds empty columns."""

    files: tuple[str, ...]
    on: tuple[str, ...]
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    fill: bool = False
    optional: bool = False

    def describe(self) -> str:
        return (f"{' | '.join(self.files)} by {self.key[0]} = {self.on[0]}: "
                + ", ".join(f"{src} as {name}" for src, name in self.columns))


@dataclass(frozen=True)
class SqlSource:
    """A table read with SQLAlchemy: `url` plus a `query` or a `table` name."""

    url: str
    query: str | None = None
    table: str | None = None


@dataclass(frozen=True)
class TableMapping:
    """How one canonical table is made from one export file (or SQL source)."""

    table: str
    files: tuple[str, ...] = ()
    sql: SqlSource | None = None
    encoding: str | None = None
    sheet: str | int | None = None
    columns: tuple[ColumnRule, ...] = ()
    drop_if: tuple[DropRule, ...] = ()
    keep: tuple[str, ...] = ()
    optional: bool = False
    date_order: str | None = None            # numeric dates of every date column: dmy or mdy (None: from the values)
    decimal: str | None = None               # decimal mark of every number column: "." or "," (None: from the values)
    where: str = ""                          # "salesforce_en.yaml: tables.opportunities" for messages
    joins: tuple[JoinRule, ...] = ()         # columns looked up in other export files (join:)
    headers_unconfirmed: bool = False        # the vendor's header names are not confirmed: a look-alike file stops the ingest

    def rule(self, target: str) -> ColumnRule | None:
        for r in self.columns:
            if r.target == target:
                return r
        return None

    @property
    def period_column(self) -> str | None:
        """The export column the runner's date range filters (SQL sources with `period_filter`)."""
        for r in self.columns:
            if r.period_filter:
                return r.columns[0]
        return None

    def needed_columns(self) -> list[tuple[str, ...]]:
        """Export columns (as alternatives) that must be present: a file qualifies when it has them all."""
        needed = [r.columns for r in self.columns if r.columns and not r.optional]
        needed += [c for r in self.columns if not r.columns for _, c in r.flags]  # flags with a stage column are optional
        needed += [d.columns for d in self.drop_if if not d.optional]
        made = {name for j in self.joins for _, name in j.columns}   # columns a join brings are not in the file
        needed = [names for names in needed if not set(names) & made]
        needed += [j.on for j in self.joins if not j.optional]
        return needed


@dataclass(frozen=True)
class Mapping:
    """A validated column mapping file."""

    name: str
    path: Path
    tables: dict[str, TableMapping] = field(default_factory=dict)
    description: str = ""


def shipped_mappings() -> dict[str, Path]:
    """The mappings shipped in helpers/data/mappings/, by name (salesforce_en, salesforce_ja, ...)."""
    return {p.stem: p for p in sorted(MAPPINGS_DIR.glob("*.yaml"))}


def resolve_mapping(name_or_path: str | Path) -> Path:
    """A mapping file path: an existing path, else a shipped mapping's name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_mappings()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    close = difflib.get_close_matches(str(name_or_path), list(shipped), n=2, cutoff=0.5)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise WorkbookError(f"mapping '{name_or_path}' is neither a file nor a shipped mapping.{hint}",
                        fix=f"Give a YAML file path, or one of the shipped mappings: {', '.join(shipped)}.")


def _close(word: str, options, n: int = 3) -> str:
    found = difflib.get_close_matches(str(word), [str(o) for o in options], n=n, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(f) for f in found)}?)" if found else ""


def _check_keys(obj: dict, allowed, where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise WorkbookError(f"{where}: unknown key '{key}'{_close(key, allowed)}",
                                fix=f"Use only these keys here: {', '.join(allowed)} (docs/ingest.md lists them all).")


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text_list(value, where: str, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or any(v is None or isinstance(v, (dict, list)) for v in items):
        raise WorkbookError(f"{where}: {what} must be a name or a list of names, got {value!r}",
                            fix=f"Write {what} as text, e.g. \"Close Date\", or a list of alternatives [\"Close Date\", \"Closed Date\"].")
    return tuple(_as_text(v).strip() for v in items)


def check_date_format(fmt: str, where: str) -> None:
    """A date format is a token (iso, excel, salesforce) or strftime codes that strptime accepts."""
    if fmt in DATE_TOKENS:
        return
    if "%y" in fmt:
        raise WorkbookError(f"{where}: the date format {fmt!r} uses %y (a two-digit year): it reads 令和06年 or 06/10/07 as 2006 "
                            "and 25 as 2025 or 1925 by a fixed cutoff, so it is not allowed",
                            fix="Use %Y (four-digit years). Japanese era dates (令和6年10月7日, 令和06年10月07日, R6.10.7) are read "
                                "without any format; export two-digit years with four digits instead.")
    if "%" not in fmt:
        raise WorkbookError(f"{where}: bad date format {fmt!r}: it has no % codes and is not one of {', '.join(DATE_TOKENS)}",
                            fix=FIX_DATE_FORMAT)
    sample = dt.datetime(2024, 1, 22, 16, 14, 25, tzinfo=dt.timezone.utc)
    try:
        dt.datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError as exc:
        raise WorkbookError(f"{where}: bad date format {fmt!r}: {exc}", fix=FIX_DATE_FORMAT) from None


def normalize_encoding(name: str, where: str) -> str:
    """A mapping's encoding as the codec to read with: Shift_JIS aliases read as cp932 (what Japanese Excel writes)."""
    key = str(name).strip().lower()
    if key in ENCODING_ALIASES:
        return ENCODING_ALIASES[key]
    try:
        return codecs.lookup(key).name
    except LookupError:
        raise WorkbookError(f"{where}: unknown encoding {name!r}",
                            fix="Use utf-8, utf-8-sig, cp932 (Shift_JIS), cp1252 (Excel's \"ANSI\" in Western locales) or utf-16 (Excel's \"Unicode text\"), or leave encoding out to detect it.") from None


def _key(value) -> str:
    """Value-map and header comparison key: NFKC, case-folded, stripped."""
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


def _header_key(value) -> str:
    """Header comparison key: like _key, and blind to spaces ('商談 所有者' = '商談所有者')."""
    return re.sub(r"\s+", "", _key(value))


def _parse_rule(target: str, spec, table: str, where: str) -> ColumnRule:
    kind = TABLES[table].column(target).kind
    if isinstance(spec, str) or isinstance(spec, list):
        spec = {"column": spec}
    if not isinstance(spec, dict):
        raise WorkbookError(f"{where}: expected an export column name or a rule (column, format, values, ...), got {spec!r}",
                            fix="Write `canonical_name: Export Column` or `canonical_name: {column: Export Column, ...}`.")
    _check_keys(spec, COLUMN_KEYS, where)
    sources = [k for k in ("column", "constant", "flags") if k in spec]
    if sources == ["column", "flags"] and target == "outcome":
        sources = ["flags"]  # flags when the export has them, else the stage column's value map
    if len(sources) != 1:
        raise WorkbookError(f"{where}: give exactly one of column, constant or flags (got {', '.join(sources) or 'none'})",
                            fix="column: the export column to read; constant: one value for every row; flags: outcome from IsWon/IsClosed-style columns.")
    kw: dict[str, Any] = {}
    if "column" in spec:
        kw["columns"] = _text_list(spec["column"], where, "column")
    if "constant" in spec:
        if spec["constant"] is None or isinstance(spec["constant"], (dict, list)):
            raise WorkbookError(f"{where}: constant must be one value", fix="For example constant: unknown.")
        kw["constant"] = _as_text(spec["constant"])
    if "flags" in spec:
        flags = spec["flags"]
        if target != "outcome":
            raise WorkbookError(f"{where}: flags only derive the outcome column", fix="Use flags under outcome:, e.g. flags: {won: IsWon, closed: IsClosed}.")
        if not isinstance(flags, dict):
            raise WorkbookError(f"{where}: flags must be a mapping such as {{won: IsWon, closed: IsClosed}}", fix="List the boolean columns by role.")
        _check_keys(flags, FLAG_KEYS, f"{where}.flags")
        if "won" not in flags or not ({"lost", "closed"} & set(flags)):
            raise WorkbookError(f"{where}.flags: needs won and one of lost or closed",
                                fix="For example flags: {won: IsWon, closed: IsClosed} (won if IsWon; lost if closed and not won; else open).")
        kw["flags"] = tuple((k, _text_list(flags[k], f"{where}.flags.{k}", "a flag column")) for k in FLAG_KEYS if k in flags)
    if "format" in spec:
        if kind not in DATE_KINDS:
            raise WorkbookError(f"{where}: format applies to date columns only ('{target}' is {kind})", fix="Remove format: from this column.")
        formats = _text_list(spec["format"], where, "format")
        for f in formats:
            check_date_format(f, f"{where}.format")
        kw["formats"] = formats
    if "values" in spec:
        values = spec["values"]
        if not isinstance(values, dict) or not values:
            raise WorkbookError(f"{where}: values must map export values to canonical ones, e.g. {{Closed Won: won}}",
                                fix="Write one `export value: canonical value` pair per line under values:.")
        labels = tuple((_as_text(k), _as_text(v)) for k, v in values.items())
        kw["labels"] = labels
        kw["values"] = tuple((_key(k), v) for k, v in labels)
    if target == "outcome" and "other" in spec:
        raise WorkbookError(f"{where}: other: is not allowed for the outcome: it would turn every stage nobody mapped "
                            f"(a renamed or new stage, another pipeline's stages) into {spec['other']!r} without a word",
                            fix="Map the closed stages under values: ({Closed Won: won, Closed Lost: lost}) and list the open ones "
                                "under open: [Prospecting, Negotiation/Review, ...]; a stage in neither stops the ingest with the list.")
    if "open" in spec:
        if target != "outcome":
            raise WorkbookError(f"{where}: open: lists open stages and applies to outcome only", fix="Remove open: from this column.")
        opens = _text_list(spec["open"], f"{where}.open", "open")
        kw["labels"] = kw.get("labels", ()) + tuple((o, "open") for o in opens)
        kw["values"] = kw.get("values", ()) + tuple((_key(o), "open") for o in opens)
    for key in ("other", "default"):
        if key in spec:
            if spec[key] is None or isinstance(spec[key], (dict, list)):
                raise WorkbookError(f"{where}: {key} must be one value", fix=f"For example {key}: open.")
            kw[key] = _as_text(spec[key])
    if target == "outcome":
        used = [v for _, v in kw.get("values", ())] + [kw[k] for k in ("other", "default", "constant") if k in kw]
        bad = sorted({v for v in used if v.strip().lower() not in OUTCOMES})
        if bad:
            raise WorkbookError(f"{where}: outcome values must be open, won or lost; got {', '.join(repr(b) for b in bad)}",
                                fix="Map every stage to open, won or lost, e.g. values: {Closed Won: won, Closed Lost: lost} with open: [Prospecting, ...].")
    for key in ("optional", "period_filter"):
        if key in spec:
            if not isinstance(spec[key], bool):
                raise WorkbookError(f"{where}: {key} must be true or false, got {spec[key]!r}", fix=f"Write {key}: true.")
            kw[key] = spec[key]
    if "split" in spec:
        if spec["split"] is False:
            kw["keep_whole"] = True   # cells holding ';' are single values (prose, names): no check
        elif not isinstance(spec["split"], str) or not spec["split"]:
            raise WorkbookError(f"{where}: split must be a separator such as \";\" (the first value of a multi-valued cell is kept), "
                                "or false (each cell is one value, ';' and all)",
                                fix="Write split: \";\" (or split: false).")
        else:
            kw["split"] = spec["split"]
    if "decimal" in spec:
        if kind not in ("number", "int") or spec["decimal"] not in (".", ","):
            raise WorkbookError(f"{where}: decimal must be \".\" or \",\" and applies to number columns only",
                                fix="Write decimal: \",\" for exports like 1.200,50.")
        kw["decimal"] = spec["decimal"]
    if "not_after" in spec:
        other = str(spec["not_after"])
        if kind not in ("date", "datetime") or other not in TABLES[table].column_names or \
                TABLES[table].column(other).kind not in ("date", "datetime"):
            raise WorkbookError(f"{where}: not_after must name another date column of {table} (e.g. closed_at), got {other!r}",
                                fix="Write not_after: closed_at on created_at (a creation date later than the close date is set to the close date).")
        kw["not_after"] = other
    if "only_when" in spec:
        cond = spec["only_when"]
        if not isinstance(cond, dict) or not cond:
            raise WorkbookError(f"{where}: only_when must map a canonical column to the values that keep this one, e.g. {{outcome: [won, lost]}}",
                                fix="Write only_when: {outcome: [won, lost]}.")
        parsed = []
        for col, vals in cond.items():
            if col not in TABLES[table].column_names:
                raise WorkbookError(f"{where}.only_when: unknown canonical column '{col}'{_close(col, TABLES[table].column_names)}",
                                    fix=f"Use a column of {table}: {', '.join(TABLES[table].column_names)}.")
            parsed.append((str(col), tuple(v.lower() for v in _text_list(vals, f"{where}.only_when.{col}", "the values"))))
        kw["only_when"] = tuple(parsed)
    if "date_order" in spec:
        if kind not in DATE_KINDS:
            raise WorkbookError(f"{where}: date_order applies to date columns only ('{target}' is {kind})", fix="Remove date_order: from this column.")
        kw["date_order"] = check_date_order(spec["date_order"], f"{where}.date_order")
    for key in ("currency_column", "converted_column", "converted_currency_column"):
        if key in spec:
            if target != "amount":
                raise WorkbookError(f"{where}: {key} applies to the amount column only", fix=f"Remove {key}: from this column.")
            kw[key] = _text_list(spec[key], f"{where}.{key}", key)
    rule = ColumnRule(target=target, kind=kind, **kw)
    if rule.period_filter and (kind not in ("date", "datetime") or not rule.columns):
        raise WorkbookError(f"{where}: period_filter needs a date column read from the source", fix="Put period_filter: true on created_at or closed_at.")
    return rule


def check_date_order(value, where: str) -> str:
    """A date_order setting: dmy (3/2/2025 = 3 February) or mdy (= 2 March)."""
    text = str(value).strip().lower()
    if text not in DATE_ORDERS:
        raise WorkbookError(f"{where}: date_order must be dmy or mdy, got {value!r}",
                            fix="date_order: dmy reads 03/02/2025 as 3 February 2025 (en_GB, de, fr exports); mdy as March 2 (en_US).")
    return text


def _parse_drop(spec, where: str) -> DropRule:
    if not isinstance(spec, dict):
        raise WorkbookError(f"{where}: each drop_if rule is a mapping such as {{column: Opportunity ID, empty: true}}",
                            fix="Write drop_if as a list of rules, each with column and one of empty, equals, in, not_in, matches.")
    _check_keys(spec, DROP_KEYS, where)
    if "column" not in spec:
        raise WorkbookError(f"{where}: a drop_if rule needs column", fix="Name the export column the rule tests.")
    ops = [k for k in DROP_OPS if k in spec]
    if len(ops) != 1:
        raise WorkbookError(f"{where}: give exactly one of {', '.join(DROP_OPS)} (got {', '.join(ops) or 'none'})",
                            fix="For example {column: Opportunity ID, empty: true}.")
    op = ops[0]
    if op == "empty":
        if spec["empty"] is not True:
            raise WorkbookError(f"{where}: write empty: true", fix="empty: true drops rows whose column is empty.")
        values: tuple[str, ...] = ()
    elif op == "matches":
        values = (str(spec["matches"]),)
        try:
            re.compile(values[0])
        except re.error as exc:
            raise WorkbookError(f"{where}: bad regular expression {values[0]!r}: {exc}", fix="Fix the pattern (Python re syntax).") from None
    else:
        values = tuple(_as_text(v) for v in (spec[op] if isinstance(spec[op], list) else [spec[op]]))
    optional = spec.get("optional", False)
    if not isinstance(optional, bool):
        raise WorkbookError(f"{where}: optional must be true or false", fix="Write optional: true.")
    return DropRule(_text_list(spec["column"], where, "column"), op, values, str(spec.get("reason") or ""), optional)


def _merge_mapping(base: dict, override: dict) -> dict:
    """`extends`: the base mapping with the override's keys on top; mappings merge key by key, an `open:` list of stages
    is added to the base's, other lists and values replace."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge_mapping(base[key], value)
        elif key == "open" and isinstance(value, list) and isinstance(base.get(key), list):
            out[key] = base[key] + [v for v in value if v not in base[key]]
        else:
            out[key] = value
    return out


def _read_yaml(path: Path, label: str):
    """A mapping file's value (helpers.yamlfile: size cap, encoding detection, no aliases, merge keys or duplicate
    keys; YAML 1.2 booleans, so `yes` and `no` stay text)."""
    return read_yaml(path, label, loader=Yaml12Loader)


def _parse_table(name, spec, label: str) -> TableMapping:
    where = f"{label}: tables.{name}"
    if name not in TABLES:
        raise WorkbookError(f"{label}: unknown canonical table '{name}'{_close(name, TABLES)}",
                            fix=f"Use one of the canonical tables: {', '.join(TABLES)} (docs/data_dictionary.md).")
    if not isinstance(spec, dict):
        raise WorkbookError(f"{where}: expected file/sql, columns, ... (a mapping), got {spec!r}", fix="See docs/ingest.md for the table keys.")
    _check_keys(spec, TABLE_KEYS, where)
    kw: dict[str, Any] = {}
    if ("file" in spec) == ("sql" in spec):
        raise WorkbookError(f"{where}: give exactly one of file (an export file name or glob) or sql",
                            fix="For example file: \"*Opportunit*.csv\", or sql: {url: \"duckdb:///crm.duckdb\", table: opportunities}.")
    if "file" in spec:
        kw["files"] = _text_list(spec["file"], f"{where}.file", "file")
    else:
        sql = spec["sql"]
        if not isinstance(sql, dict):
            raise WorkbookError(f"{where}.sql: expected {{url: ..., query: ...}} or {{url: ..., table: ...}}", fix="See docs/ingest.md, SQL sources.")
        _check_keys(sql, SQL_KEYS, f"{where}.sql")
        if not sql.get("url") or ("query" in sql) == ("table" in sql):
            raise WorkbookError(f"{where}.sql: needs url and exactly one of query or table",
                                fix="For example sql: {url: \"sqlite:///crm.db\", query: \"select * from opportunity\"}.")
        kw["sql"] = SqlSource(str(sql["url"]), str(sql["query"]) if "query" in sql else None,
                              str(sql["table"]) if "table" in sql else None)
        for key in ("encoding", "sheet"):
            if key in spec:
                raise WorkbookError(f"{where}: {key} applies to export files, not to sql sources", fix=f"Remove {key}:.")
    if "encoding" in spec:
        kw["encoding"] = normalize_encoding(spec["encoding"], f"{where}.encoding")
    if "sheet" in spec:
        if not isinstance(spec["sheet"], (str, int)) or isinstance(spec["sheet"], bool):
            raise WorkbookError(f"{where}.sheet: a sheet name or a 0-based position", fix="For example sheet: Deals, or sheet: 0.")
        kw["sheet"] = spec["sheet"]
    for key in ("optional", "headers_unconfirmed"):
        if key in spec:
            if not isinstance(spec[key], bool):
                raise WorkbookError(f"{where}.{key}: must be true or false", fix=f"Write {key}: true.")
            kw[key] = spec[key]
    if spec.get("date_order") is not None:
        kw["date_order"] = check_date_order(spec["date_order"], f"{where}.date_order")
    if spec.get("decimal") is not None:
        if spec["decimal"] not in (".", ","):
            raise WorkbookError(f"{where}.decimal: must be \".\" or \",\", got {spec['decimal']!r}", fix="Write decimal: \",\" for exports like 12.000,00.")
        kw["decimal"] = spec["decimal"]
    columns = spec.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise WorkbookError(f"{where}: columns is missing or empty",
                            fix="Under columns:, map each canonical column to its export column, e.g. opportunity_id: Opportunity ID.")
    table = TABLES[name]
    rules = []
    for target, rule in columns.items():
        if target not in table.column_names:
            raise WorkbookError(f"{where}.columns: unknown canonical column '{target}'{_close(target, table.column_names)}",
                                fix=f"The columns of {name} are: {', '.join(table.column_names)} (docs/data_dictionary.md). "
                                    "Other export columns can be carried with keep:.")
        rules.append(_parse_rule(str(target), rule, name, f"{where}.columns.{target}"))
    for col in table.columns:
        mapped = next((r for r in rules if r.target == col.name), None)
        if col.required and (mapped is None or (mapped.optional and mapped.default is None)):
            state = "is not mapped" if mapped is None else "is marked optional without a default"
            raise WorkbookError(f"{where}.columns: the required column '{col.name}' ({col.meaning}) {state}",
                                fix=f"Map {col.name} to an export column, or give it a constant or default (e.g. channel: {{constant: unknown}}).")
    targets = {r.target for r in rules}
    for r in rules:
        for other in ([r.not_after] if r.not_after else []) + [c for c, _ in r.only_when]:
            if other not in targets:
                raise WorkbookError(f"{where}.columns.{r.target}: refers to '{other}', which this table does not map",
                                    fix=f"Map {other} too, or remove the rule.")
    filters = [r.target for r in rules if r.period_filter]
    if filters and "sql" not in spec:
        raise WorkbookError(f"{where}: period_filter works with sql sources only (an export file is always read whole)",
                            fix="Remove period_filter, or read the table with sql:.")
    if len(filters) > 1:
        raise WorkbookError(f"{where}: period_filter is set on {', '.join(filters)}; set it on one column",
                            fix="Choose the date the runner's period range should filter (usually created_at).")
    kw["columns"] = tuple(rules)
    drops = spec.get("drop_if") or []
    if not isinstance(drops, list):
        drops = [drops]
    kw["drop_if"] = tuple(_parse_drop(d, f"{where}.drop_if[{i}]") for i, d in enumerate(drops))
    if "keep" in spec:
        keep = _text_list(spec["keep"], f"{where}.keep", "keep")
        clash = [k for k in keep if k in table.column_names]
        if clash:
            raise WorkbookError(f"{where}.keep: {', '.join(clash)} would overwrite canonical columns", fix="Map them under columns: instead.")
        kw["keep"] = keep
    joins = spec.get("join") or []
    kw["joins"] = tuple(_parse_join(j, f"{where}.join[{i}]") for i, j in enumerate(joins if isinstance(joins, list) else [joins]))
    return TableMapping(table=name, where=where, **kw)


def _parse_join(spec, where: str) -> JoinRule:
    """One `join:` entry: {file, on, key, columns: {export column: name}, fill, optional}."""
    if not isinstance(spec, dict):
        raise WorkbookError(f"{where}: expected {{file, on, key, columns}}", fix="For example {file: Campaign.csv, on: CampaignId, "
                            "key: Id, columns: {Type: Campaign Type}}.")
    _check_keys(spec, JOIN_KEYS, where)
    for key in ("file", "on", "key", "columns"):
        if not spec.get(key):
            raise WorkbookError(f"{where}: {key} is missing", fix="A join needs file, on (this export's column), key (the other "
                                "file's column) and columns (what to bring, and the name it takes).")
    if not isinstance(spec["columns"], dict):
        raise WorkbookError(f"{where}.columns: a mapping of the other file's columns to the names they take",
                            fix="For example columns: {Type: Campaign Type}.")
    for key in ("fill", "optional"):
        if key in spec and not isinstance(spec[key], bool):
            raise WorkbookError(f"{where}.{key}: must be true or false", fix=f"Write {key}: true.")
    return JoinRule(files=_text_list(spec["file"], f"{where}.file", "file"), on=_text_list(spec["on"], f"{where}.on", "on"),
                    key=_text_list(spec["key"], f"{where}.key", "key"),
                    columns=tuple((_as_text(k), _as_text(v)) for k, v in spec["columns"].items()),
                    fill=bool(spec.get("fill", False)), optional=bool(spec.get("optional", False)))


def _extends_path(value: str, path: Path, label: str) -> Path:
    """The mapping file an ``extends:`` names: a relative path is relative to the folder of the mapping file that says
    it (`path`), not to the current folder; a bare name is a shipped mapping."""
    given = Path(value).expanduser()
    candidate = given if given.is_absolute() else path.resolve().parent / given
    if candidate.is_file():
        return candidate
    shipped = shipped_mappings()
    if value in shipped:
        return shipped[value]
    close = difflib.get_close_matches(value, list(shipped), n=2, cutoff=0.5)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise WorkbookError(f"{label}: extends {value!r} is neither a file ({candidate}; a relative path is relative to the "
                        f"folder of {label}) nor a shipped mapping.{hint}",
                        fix=f"Write the path of the base mapping relative to {label}'s folder (or an absolute path), "
                            f"or name a shipped mapping: {', '.join(shipped)}.")


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file (a path, or the name of a shipped mapping such as salesforce_en)."""
    path = resolve_mapping(path)
    label = path.name
    data = _read_yaml(path, label)
    if not isinstance(data, dict):
        raise WorkbookError(f"{label}: the top level must be a mapping with a tables: key", fix="See docs/ingest.md for an example.")
    _check_keys(data, TOP_KEYS, label)
    if "extends" in data:
        base_path = _extends_path(str(data["extends"]), path, label)
        if base_path.resolve() == path.resolve():
            raise WorkbookError(f"{label}: extends names the mapping itself", fix="Name a shipped mapping, e.g. extends: salesforce_en.")
        base = _read_yaml(base_path, base_path.name)
        if not isinstance(base, dict) or "extends" in base:
            raise WorkbookError(f"{label}: extends {data['extends']!r} must name a mapping that extends nothing",
                                fix="Name a shipped mapping (salesforce_en, salesforce_ja, salesforce_api, hubspot, canonical_ja) or a complete mapping file.")
        data = _merge_mapping(base, {k: v for k, v in data.items() if k != "extends"})
        if "name" not in {k for k in _read_yaml(path, label)}:
            data["name"] = path.stem
    order = check_date_order(data["date_order"], f"{label}: date_order") if data.get("date_order") is not None else None
    for key, value in (("date_order", order), ("decimal", data.get("decimal"))):
        if value is not None and isinstance(data.get("tables"), dict):
            for spec in data["tables"].values():
                if isinstance(spec, dict):
                    spec.setdefault(key, value)
    tables = data.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise WorkbookError(f"{label}: tables is missing or empty", fix="Add tables: with at least opportunities:.")
    parsed = {str(name): _parse_table(str(name), spec, label) for name, spec in tables.items()}
    if "opportunities" not in parsed:
        raise WorkbookError(f"{label}: the mapping has no opportunities table (required in every data folder)",
                            fix="Add tables: opportunities: with the opportunity export's file and columns.")
    return Mapping(name=str(data.get("name") or path.stem), path=path, tables=parsed, description=str(data.get("description") or ""))


# --------------------------------------------------------------------------- cell conversion
def _empty(v) -> bool:
    if v is None or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def cell_text(v) -> str | None:
    """A cell as stripped text; whole-number floats (Excel ids such as 1234.0) without '.0'; None when empty."""
    if _empty(v):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (pd.Timestamp, dt.datetime, dt.date)):
        return v.isoformat()
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
        return cell_text(v.item())
    return str(v).strip()


def parse_datetime(v, formats: tuple[str, ...], order: str | None = None) -> dt.datetime | None:
    """One cell to a datetime (aware when the export gives an offset); raises ValueError when no format fits.

    Japanese era dates (令和6年10月7日, R6.10.7) are always read (helpers.data.values.parse_wareki). The token
    `numeric` reads 3/2/2025 in `order` (dmy or mdy; None only where day = month)."""
    if _empty(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    numeric = isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)
    text = unicodedata.normalize("NFKC", cell_text(v) or "")
    if not numeric and looks_like_wareki(text):
        return parse_wareki(text)
    for fmt in formats or ("iso",):
        try:
            if fmt == "excel":
                serial = float(v) if numeric else float(text)
                if not 1 <= serial < 2958466:
                    raise ValueError("not an Excel serial date")
                return EXCEL_EPOCH + dt.timedelta(days=serial)
            if fmt == "iso":
                if numeric:
                    raise ValueError("a number is not an ISO date")
                return dt.datetime.fromisoformat(text)
            if fmt == "salesforce":
                return dt.datetime.strptime(text, SALESFORCE_FORMAT)
            if fmt == "numeric":
                return parse_numeric_date(text, order)
            return dt.datetime.strptime(text, fmt)
        except (ValueError, OverflowError):
            continue
    raise ValueError(text)


def date_text(value: dt.datetime, kind: str) -> str:
    """A parsed date as canonical ISO text: YYYY-MM-DD, a datetime with its offset kept (the loader converts it
    to the configured timezone), or YYYY-MM for months."""
    if kind == "month":
        return f"{value.year:04d}-{value.month:02d}"
    if value.tzinfo is not None:
        return value.isoformat(timespec="seconds")
    if kind == "date" or (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
        return value.date().isoformat()
    return value.isoformat(timespec="seconds")


_CURRENCY = re.compile(r"^(?:[A-Z]{3}\s*)|(?:\s*[A-Z]{3})$")
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def number_text(v, decimal: str | None = ".") -> str | None:
    """An amount as plain number text: '¥1,200,000' -> '1200000', '$1,200.50' -> '1200.50',
    'USD 1,200.50' -> '1200.50', '1,200,000円' -> '1200000', '(500)' -> '-500', '1,200万円' -> '12000000',
    '1.5億円' -> '150000000' (Japanese units, helpers.data.values.parse_ja_units); raises ValueError otherwise."""
    if _empty(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, bool):
        raise ValueError(str(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v != v.to_integral_value() else str(int(v))
    text = unicodedata.normalize("NFKC", str(v)).strip()
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    text = _CURRENCY.sub("", text).strip()
    text = re.sub(r"[¥$€£₩円\\\s]", "", text)  # a backslash is the yen sign of cp932 (0x5C)
    if has_ja_unit(text):  # 1,200万円, 1.5億円: the units are read (helpers.data.values.parse_ja_units)
        value = parse_ja_units(text.replace(".", "").replace(",", ".") if decimal == "," else text)
        value = -abs(value) if negative else value
        return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))
    text = text.replace(".", "").replace(",", ".") if decimal == "," else text.replace(",", "")
    if not _NUMBER.match(text):
        raise ValueError(str(v))
    if negative and not text.startswith("-"):
        text = "-" + text.lstrip("+")
    return text.lstrip("+")


def flag_value(v) -> bool:
    """A boolean export cell: 1/true/yes -> True; empty/0/false/no -> False; raises ValueError otherwise."""
    if isinstance(v, bool):
        return v
    key = _key(cell_text(v) or "")
    if key in TRUE_FLAGS:
        return True
    if key in FALSE_FLAGS:
        return False
    raise ValueError(str(v))


# --------------------------------------------------------------------------- applying a table mapping
def find_column(raw_columns, names: tuple[str, ...]) -> str | None:
    """The export column matching one of `names`: exact first, then ignoring case, width and spaces."""
    cols = [str(c) for c in raw_columns]
    for name in names:
        if name in cols:
            return name
    keyed = {}
    for c in cols:
        keyed.setdefault(_header_key(c), c)
    for name in names:
        if _header_key(name) in keyed:
            return keyed[_header_key(name)]
    return None


class MissingColumnError(WorkbookError):
    """An export lacks a column the mapping needs (apply_mapping lists it with the file's other problems)."""


FIX_MISSING_COLUMN = ("Put the export's exact header in the mapping, re-export with that column, "
                      "or mark the rule optional: true if the column may be missing.")


def missing_column_error(names: tuple[str, ...], raw_columns, source: str, where: str) -> MissingColumnError:
    """'Opportunity.csv has no column 'Stage' ... close matches: 'StageName'' with a fix."""
    cols = [str(c) for c in raw_columns]
    close: list[str] = []
    for name in names:
        close += [c for c in difflib.get_close_matches(name, cols, n=3, cutoff=0.5) if c not in close]
        close += [c for c in cols if c not in close and (_header_key(name) in _header_key(c) or _header_key(c) in _header_key(name))]
    wanted = " or ".join(repr(n) for n in names)
    if close:
        hint = f" Close matches in the export: {', '.join(repr(c) for c in close[:5])}."
    else:
        shown = ", ".join(repr(c) for c in cols[:15]) + (f", ... ({len(cols)} columns)" if len(cols) > 15 else "")
        hint = f" The export's columns are: {shown}."
    return MissingColumnError(f"{source} has no column {wanted} (needed by {where}).{hint}", fix=FIX_MISSING_COLUMN)


def _rows_text(positions: list[int]) -> str:
    shown = ", ".join(str(p + 2) for p in positions[:MAX_SHOWN])
    more = f" (+{len(positions) - MAX_SHOWN} more)" if len(positions) > MAX_SHOWN else ""
    return f"row{'s' if len(positions) > 1 else ''} {shown}{more}"


FOOTER_WORDS = re.compile(r"copyright|confidential|generated by|all rights reserved|機密情報|作成者|著作権|転送禁止", re.IGNORECASE)


def footer_rows(raw: pd.DataFrame) -> list[int]:
    """Positions of a report export's footer: at the end of the file, lines with only the first column filled (report
    name, Copyright, Confidential Information, Generated By, the company name) after a blank line, or, without the
    blank line, from the first such line that reads like a footer (Copyright, 機密情報, ...). Wherever the id column is."""
    if len(raw.columns) < 2 or not len(raw):
        return []
    blank, first_only = {}, {}   # of the trailing rows only: the footer is the last block of such rows
    tail = len(raw)
    while tail > 0:
        cells = [_empty(v) for v in raw.iloc[tail - 1]]
        is_blank, is_first_only = all(cells), not cells[0] and all(cells[1:])
        if not (is_blank or is_first_only):
            break
        tail -= 1
        blank[tail], first_only[tail] = is_blank, is_first_only
    block = range(tail, len(raw))
    gap = next((i for i in block if blank[i]), None)
    if gap is not None:
        return [i for i in block if i > gap and first_only[i]]
    start = next((i for i in block if FOOTER_WORDS.search(str(raw.iat[i, 0]))), None)
    return [i for i in block if start is not None and i >= start]


def _drop_mask(rule: DropRule, cells: list) -> list[bool]:
    texts = [cell_text(v) for v in cells]
    if rule.op == "empty":
        return [t is None for t in texts]
    if rule.op == "matches":
        pattern = re.compile(rule.values[0])
        return [t is not None and bool(pattern.search(t)) for t in texts]
    wanted = {_key(v) for v in rule.values}
    hit = [t is not None and _key(t) in wanted for t in texts]
    return [not h for h in hit] if rule.op == "not_in" else hit


#: kintone's start-of-record mark: the first column holds it on the first row of each record, and is empty on the
#: other rows of a record that has a table (サブテーブル) inside it.
RECORD_START_MARK = "*"


def check_record_rows(raw: pd.DataFrame, kept: list[int], tm: TableMapping, source: str) -> None:
    """Refuse (coded error kintone_subtable, with the drop_if line that fixes it) a kintone export whose records span
    several rows: a first column the mapping does not use, holding only ``*`` and empty cells, with both among the
    rows kept. `kept` are the row positions left after the drop rules."""
    if not len(raw.columns) or not kept:
        return
    first = str(raw.columns[0])
    used = [r.columns for r in tm.columns if r.columns] + [d.columns for d in tm.drop_if] + [tm.keep]
    if any(find_column([first], names) is not None for names in used if names):
        return
    values = [cell_text(raw.iat[i, 0]) for i in kept]
    if any(v not in (None, RECORD_START_MARK) for v in values) or RECORD_START_MARK not in values:
        return
    empty = [i + 2 for i, v in zip(kept, values) if v is None]
    if empty:
        raise coded_error("kintone_subtable", source, count=len(empty), column=first, table=tm.table,
                          rows=", ".join(map(str, empty[:5])) + (", ..." if len(empty) > 5 else ""))


def apply_mapping(raw: pd.DataFrame, table_mapping: TableMapping, source: str | None = None, *,
                  rates: tuple = (), target_currency: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Turn export rows into canonical rows (text cells) following `table_mapping`; pure (`raw` is not changed).

    Returns the canonical frame (canonical columns in contract order, then any `keep` columns;
    cells are text: ISO dates, plain numbers, None for empty) and a report dict: rows in/out,
    `dropped` (reason, count, export row numbers), `columns` (canonical <- export), `skipped`
    optional columns, `defaulted`, `adjusted`, `value_counts` of mapped values, and `dates`
    (count, min, max and distinct days of each date column before adjustments).
    `report['currency']` says which currency the amounts are in and how that was found (helpers.data.mapping.resolve_currency);
    `rates` ((code, Decimal rate to `target_currency`, valid_from date or None), ...) convert mixed currencies.
    Raises WorkbookError naming the export file and column for a missing column or values
    that do not convert (dates in another format, text in an amount, unknown flags, mixed currencies without rates).
    """
    tm = table_mapping
    source = source or tm.table
    rows_in = len(raw)
    raw = raw.reset_index(drop=True)
    report: dict[str, Any] = {"table": tm.table, "source": source, "rows_in": rows_in, "dropped": [], "columns": {},
                              "skipped": [], "defaulted": [], "adjusted": [], "value_counts": {}, "split": [], "dates": {}}

    # 1. drop rows (before converting: report footers and blank lines hold no dates or amounts)
    keep_mask = [True] * rows_in
    blank = [int(i) for i in (raw.map(_empty).all(axis=1).to_numpy().nonzero()[0] if rows_in and len(raw.columns) else [])]
    for i in blank:
        keep_mask[i] = False
    if blank:
        report["dropped"].append({"reason": "blank row", "count": len(blank), "rows": [i + 2 for i in blank[:MAX_SHOWN]]})
    footer = footer_rows(raw)
    for i in footer:
        keep_mask[i] = False
    if footer:
        texts = [cell_text(raw.iat[i, 0]) for i in footer]
        report["dropped"].append({"reason": "report footer", "count": len(footer), "rows": [i + 2 for i in footer[:MAX_SHOWN]],
                                  "values": texts[:MAX_SHOWN]})
        note(report, "footer_dropped", len(footer), None, [i + 2 for i in footer],
             lines=", ".join(repr(t[:40]) for t in texts[:3]) + (", ..." if len(texts) > 3 else ""))
    missing: list[MissingColumnError] = []   # reported with every other problem of the file, in one go
    for rule in tm.drop_if:
        col = find_column(raw.columns, rule.columns)
        if col is None:
            if not rule.optional:
                missing.append(missing_column_error(rule.columns, raw.columns, source, f"{tm.where}.drop_if"))
            continue
        mask = _drop_mask(rule, list(raw[col]))
        hits = [i for i in range(rows_in) if keep_mask[i] and mask[i]]
        for i in hits:
            keep_mask[i] = False
        if hits:
            report["dropped"].append({"reason": rule.describe(), "count": len(hits), "rows": [i + 2 for i in hits[:MAX_SHOWN]]})
    kept = [i for i in range(rows_in) if keep_mask[i]]
    check_record_rows(raw, kept, tm, source)
    rows = raw.iloc[kept]

    # 2. convert each canonical column (numeric dates in the day/month order decided from the whole export)
    out: dict[str, list] = {}
    problems: list[str] = []
    orders = decide_date_orders(tm, rows, kept, report, problems)
    amounts = None
    for rule in tm.columns:
        try:
            if rule.target == "amount" and rule.kind == "number" and rule.columns:
                amounts = read_amounts(rule, rows, kept, source, tm, report, problems)
                values = amounts[0]
            else:
                values = _convert(rule, rows, kept, source, tm, report, problems, orders.get(rule.target))
        except _Skip:
            continue
        except MissingColumnError as exc:
            missing.append(exc)
            continue
        out[rule.target] = values
    if amounts is not None and not problems and not missing:
        out["amount"] = resolve_currency(amounts, out, kept, report, problems, rates, target_currency)
    for target in (t for t in ("opportunity_id", "lead_id") if t in out):
        texts = [v for v in out[target] if v]
        if salesforce_id_column(texts):
            short = sum(1 for v in texts if len(v) == 15)
            out[target] = [salesforce_id18(v) if v and len(v) == 15 else v for v in out[target]]
            note(report, "salesforce_id_18", short, target)

    for name in tm.keep:
        if find_column(raw.columns, (name,)) is None:
            missing.append(missing_column_error((name,), raw.columns, source, f"{tm.where}.keep"))
    named = {}
    for m in missing:   # a column needed by two rules (drop_if and the id) is said once
        named.setdefault(m.message.split(" (needed by")[0], m)
    missing = list(named.values())
    if len(missing) == 1 and not problems:
        raise missing[0]
    if problems or missing:
        label = tm.where.split(":")[0]
        stem = label.rsplit(".", 1)[0]
        where = (f"a file `my_mapping.yaml` holding the line `extends: {stem}` and" if stem in shipped_mappings()
                 else f"in {label}, add")
        fixes = [FIX_BY_TOPIC[k].format(where=where, stem=stem) for k in FIX_BY_TOPIC if any(k in p for p in problems)]
        if problems and not fixes:
            fixes = ["Add the format these values use to the column's format: list (or fix the values in the export); "
                     "amounts may carry currency signs and thousands separators but nothing else."]
        what = ("columns the mapping needs are missing" + (", and values it cannot convert" if problems else "")
                if missing else "values the mapping cannot convert")
        lines = [m.message.removeprefix(f"{source} ") for m in missing] + problems
        raise WorkbookError(f"{source}: {what} ({tm.where}):\n" + "\n".join(f"  - {p}" for p in lines),
                            fix=" ".join(([FIX_MISSING_COLUMN] if missing else []) + fixes))

    # 3. profile the dates as exported (before adjustments): a bulk load shows as one distinct day
    for rule in tm.columns:
        if rule.target in out and rule.kind in ("date", "datetime"):
            days = sorted({v[:10] for v in out[rule.target] if v})
            report["dates"][rule.target] = {"count": sum(1 for v in out[rule.target] if v), "distinct_days": len(days),
                                            "min": days[0] if days else None, "max": days[-1] if days else None}

    # 4. adjustments that refer to other canonical columns: only_when first (an open deal's expected
    #    close date must not move its creation date), then not_after
    for rule in tm.columns:
        if rule.target not in out:
            continue
        for col, allowed in rule.only_when:
            if col not in out:
                continue
            cleared = [i for i, (v, c) in enumerate(zip(out[rule.target], out[col]))
                       if v is not None and (c or "").strip().lower() not in allowed]
            for i in cleared:
                out[rule.target][i] = None
            if cleared:
                report["adjusted"].append({"column": rule.target, "count": len(cleared), "rows": [kept[i] + 2 for i in cleared[:MAX_SHOWN]],
                                           "rule": f"only_when {col} in {', '.join(allowed)}",
                                           "what": f"{rule.target} cleared where {col} is not {' or '.join(allowed)}"})
    for rule in tm.columns:
        if rule.target in out and rule.not_after and rule.not_after in out:
            later, same_day = [], []
            for i, (v, limit) in enumerate(zip(out[rule.target], out[rule.not_after])):
                if v is None or limit is None:
                    continue
                if v[:10] > limit[:10]:
                    later.append(i)
                elif v[:10] == limit[:10] and _has_offset(v) and v != limit:
                    same_day.append(i)  # the loader's timezone may move this timestamp to the next day
                else:
                    continue
                out[rule.target][i] = limit
            for moved, rule_name, what in (
                    (later, f"not_after {rule.not_after}", f"{rule.target} later than {rule.not_after}: set to {rule.not_after}"),
                    (same_day, f"not_after {rule.not_after} (same day)",
                     f"{rule.target} a timestamp on {rule.not_after}'s day: set to that day (a timezone could move it past)")):
                if moved:
                    report["adjusted"].append({"column": rule.target, "count": len(moved), "rows": [kept[i] + 2 for i in moved[:MAX_SHOWN]],
                                               "rule": rule_name, "what": what})

    for name in tm.keep:
        col = find_column(raw.columns, (name,))
        if col is None:
            raise missing_column_error((name,), raw.columns, source, f"{tm.where}.keep")
        out[name] = [cell_text(v) for v in rows[col]]

    order = [c for c in TABLES[tm.table].column_names if c in out] + [k for k in tm.keep if k in out]
    frame = pd.DataFrame({c: pd.Series(out[c], dtype=object) for c in order}, columns=order)
    report["rows_out"] = len(kept)
    return frame, report


FIX_BY_TOPIC = {
    "changed by Excel": "Export again from the CRM and open the CSV with Excel's data import wizard (Data > From Text/CSV, "
                        "column type Text), or use the CRM's .xlsx export; do not remove rows or fix ids by hand.",
    "decimal:": "State the decimal mark in the mapping: {where} `decimal: \",\"` (12.000,00 = twelve thousand) or `decimal: \".\"`.",
    "stage values the mapping does not": "Map each listed stage to won, lost or open in the mapping (the lines above), then run again.",
    "several currencies": "Give exchange rates in the settings (currency.code: the report currency, and currency.rates: "
                          "[{{currency: JPY, rate: 0.0067}}, ...], docs/ingest.md), or export the converted amount column "
                          "(Salesforce: Amount (converted)) so every amount is in one currency.",
    "date_order": "State the day/month order in the mapping: {where} the line `date_order: dmy` (day first) or "
                  "`date_order: mdy` (month first), then run again with that mapping (--mapping my_mapping.yaml).",
    "mixes day-first": "Export again with one date format, or correct the listed cells in a copy of the export.",
    "several values joined": "Read them with split: {where} the split line shown above (under tables: and the table's "
                             "columns:), then run again with that mapping (--mapping my_mapping.yaml).",
}


def read_amounts(rule: ColumnRule, rows: pd.DataFrame, kept: list[int], source: str, tm: TableMapping,
                 report: dict, problems: list[str]) -> tuple[list, list, dict]:
    """The amount column as (number texts, each row's currency code or None, how): the converted column when the
    export has it (`converted_column`), else the amount column with each row's currency from `currency_column`
    or written with the amount (`USD 10,000.00`, `£5,000`, `1,200,000円`)."""
    conv = find_column(rows.columns, rule.converted_column) if rule.converted_column else None
    col = conv or find_column(rows.columns, rule.columns)
    if col is None:
        if rule.optional:
            report["skipped"].append({"column": rule.target, "export": list(rule.columns)})
            raise _Skip
        raise missing_column_error(rule.columns, rows.columns, source, f"{tm.where}.columns.{rule.target}")
    code_names = rule.converted_currency_column if conv else rule.currency_column
    code_col = find_column(rows.columns, code_names) if code_names else None
    report["columns"][rule.target] = col
    decimal = rule.decimal or tm.decimal or decide_decimal(col, rows[col], kept, report, problems)
    values, codes, bad, bad_values = [], [], [], []
    bare_dollar = explicit_usd = False
    for pos, v in enumerate(rows[col]):
        text = cell_text(v)
        code = None
        try:
            if text is not None and isinstance(v, str):
                code, number = split_currency(unicodedata.normalize("NFKC", text))
                if code == "USD":
                    explicit = "USD" in text.upper() or "US$" in text.upper()
                    explicit_usd, bare_dollar = explicit_usd or explicit, bare_dollar or not explicit
                text = number_text(number, decimal)
            else:
                text = number_text(v, decimal)
        except ValueError:
            bad.append(pos)
            bad_values.append(cell_text(v) or "")
            values.append(None)
            codes.append(None)
            continue
        if code_col is not None:
            stated = cell_text(rows[code_col].iat[pos])
            stated = stated.upper() if stated else None
            if stated and code and stated != code:
                bad.append(pos)
                bad_values.append(f"{cell_text(v)} with {code_col} {stated}")
                values.append(None)
                codes.append(None)
                continue
            code = stated or code
        values.append(text)
        codes.append(code if text is not None else None)
    if bad:
        shown = ", ".join(repr(b) for b in bad_values[:MAX_SHOWN])
        problems.append(f"column '{col}' -> {rule.target} ({_rows_text([kept[i] for i in bad])}): not numbers: {shown}")
    how = {"column": col, "code_column": code_col, "converted": conv is not None, "bare_dollar": bare_dollar and not explicit_usd and code_col is None}
    return values, codes, how


def decide_decimal(col: str, cells, kept: list[int], report: dict, problems: list[str]) -> str:
    """The decimal mark of an amount column whose mapping does not state one: ',' when its values prove it
    (12.000,00, 8000,5), '.' when they prove that or prove nothing. Values proving both, or only values such
    as 1.500 (1.5 or 1500?) with nothing to settle them, add a problem (the ingest refuses)."""
    numbers = []
    for pos, v in enumerate(cells):
        if isinstance(v, str) and v.strip():
            try:
                numbers.append((pos, split_currency(unicodedata.normalize("NFKC", v))[1]))
            except ValueError:
                continue
    proof: dict[str, int] = {}
    for pos, n in numbers:
        mark = decimal_evidence(n)
        if mark is not None:
            proof.setdefault(mark, pos)
    if len(proof) == 2:
        problems.append(f"column '{col}' -> amount: mixes decimal commas such as {cell_text(cells.iat[proof[',']])!r} (row "
                        f"{kept[proof[',']] + 2}) and decimal points such as {cell_text(cells.iat[proof['.']])!r} (row {kept[proof['.']] + 2}); "
                        "state decimal: in the mapping")
        return "."
    if "," in proof:
        note(report, "decimal_comma_detected", len(numbers), "amount", source_column=col,
             example=repr(cell_text(cells.iat[proof[","]])), row=kept[proof[","]] + 2)
        return ","
    if not proof:
        ambiguous = [pos for pos, n in numbers if is_ambiguous_point(n)]
        if ambiguous:
            shown = ", ".join(repr(cell_text(cells.iat[p])) for p in ambiguous[:MAX_SHOWN])
            problems.append(f"column '{col}' -> amount ({_rows_text([kept[p] for p in ambiguous])}): {shown} could be decimals "
                            "(1.500 = one and a half) or thousands (1.500 = 1500, European exports) and no value settles it; "
                            "state decimal: \",\" (or \".\") in the mapping")
    return "."


def resolve_currency(amounts: tuple[list, list, dict], out: dict, kept: list[int], report: dict, problems: list[str],
                     rates: tuple = (), target: str | None = None) -> list:
    """One currency for the amounts: the single currency they carry (unmarked amounts take it), or, when several
    are mixed, each converted to `target` with `rates` (the latest rate whose valid_from is on or before the row's
    closed_at, else created_at). Mixed currencies without rates, amounts without a currency among mixed ones and
    currencies without a rate add a problem listing them with counts. Sets report['currency'] = {code, how, found}."""
    values, codes, how = amounts
    col = how["column"]
    found: dict[str, int] = {}
    for v, c in zip(values, codes):
        if v is not None and c is not None:
            found[c] = found.get(c, 0) + 1
    unmarked = [i for i, (v, c) in enumerate(zip(values, codes)) if v is not None and c is None]
    counts = ", ".join(f"{c} {n} row{'s' if n != 1 else ''}" for c, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))
    source = f"column '{how['code_column']}'" if how["code_column"] else f"the amounts in '{col}'"
    if how["converted"]:
        source = f"'{col}' (the CRM's converted amounts" + (f", currency from '{how['code_column']}')" if how["code_column"] else ")")
    if not found:
        report["currency"] = {"code": None, "how": f"the amounts in '{col}' carry no currency", "found": {}}
        return values
    if len(found) == 1:
        code = next(iter(found))
        report["currency"] = {"code": code, "how": f"from {source}", "found": found}
        if code == "USD" and how.get("bare_dollar"):
            report["currency"]["assumed"] = "$"
            note(report, "currency_dollar_assumed", found[code], "amount", source_column=col)
        if how["converted"]:
            note(report, "currency_converted_column", sum(found.values()), "amount", source_column=col, currency=code)
        if unmarked:
            note(report, "currency_unmarked", len(unmarked), "amount", [kept[i] + 2 for i in unmarked], source_column=col, currency=code)
        return values
    if how["converted"]:
        problems.append(f"column '{col}' -> amount: the converted amounts are in several currencies ({counts}); "
                        "several currencies cannot be added up")
        return values
    if not rates or not target:
        problems.append(f"column '{col}' -> amount: the amounts are in several currencies ({counts}) and the settings give no "
                        "exchange rates; adding them up as one currency would be wrong")
        return values
    if unmarked:
        problems.append(f"column '{col}' -> amount ({_rows_text([kept[i] for i in unmarked])}): amounts without a currency among "
                        f"several currencies ({counts}): their currency is unknown; several currencies need a code on every amount")
        return values
    table = {}
    for code, rate, since in rates:
        table.setdefault(code, []).append((since, rate))
    missing = sorted(c for c in found if c != target and c not in table)
    if missing:
        problems.append(f"column '{col}' -> amount: no exchange rate to {target} in the settings for "
                        f"{', '.join(f'{c} ({found[c]} rows)' for c in missing)} (the amounts are in several currencies: {counts})")
        return values
    converted, undated = [], []
    dates = out.get("closed_at") or [None] * len(values)
    created = out.get("created_at") or [None] * len(values)
    for i, (v, c) in enumerate(zip(values, codes)):
        if v is None or c == target:
            converted.append(v)
            continue
        day = (dates[i] or created[i] or "")[:10]
        usable = sorted(((since, rate) for since, rate in table[c] if since is None or (day and str(since) <= day)),
                        key=lambda sr: str(sr[0] or ""))
        if not usable:
            undated.append(i)
            converted.append(None)
            continue
        value = Decimal(v) * usable[-1][1]
        converted.append(format(value.normalize(), "f"))
    if undated:
        problems.append(f"column '{col}' -> amount ({_rows_text([kept[i] for i in undated])}): no exchange rate valid on the deal's date "
                        "(every rate for its currency has a later valid_from)")
    report["currency"] = {"code": target, "how": f"converted to {target} with the settings' rates ({counts} in the export)", "found": found}
    note(report, "currency_converted_with_rates", sum(n for c, n in found.items() if c != target), "amount",
         currencies=", ".join(c for c in found if c != target), currency=target, counts=counts,
         counts_ja=", ".join(f"{c} {n}行" for c, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))))
    return converted


_WON_WORDS = re.compile(r"\bwon\b|\bwin\b|受注|成約|成立|契約", re.IGNORECASE)
_LOST_WORDS = re.compile(r"\blost\b|\bchurn|失注|不成立|解約|見送", re.IGNORECASE)


def unmapped_stages_problem(unmapped: dict[str, list[int]], col: str, rows: pd.DataFrame, kept: list[int], tm: TableMapping) -> str:
    """The refusal for stage values the mapping does not account for: each value with its rows and amount, and the
    mapping lines to add (a guess per value from its words, to be checked: won, lost, else open)."""
    amount_rule = tm.rule("amount")
    amount_col = find_column(rows.columns, amount_rule.columns) if amount_rule is not None and amount_rule.columns else None
    lines, adds = [], []
    for value, positions in sorted(unmapped.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        total, unknown = Decimal(0), 0
        for pos in positions:
            try:
                cell = rows[amount_col].iat[pos] if amount_col else None
                num = number_text(split_currency(unicodedata.normalize("NFKC", cell))[1] if isinstance(cell, str) else cell)
            except ValueError:
                num = None
            if num is None:
                unknown += 1
            else:
                total += Decimal(num)
        amount = f", amount {total:,.2f}".rstrip("0").rstrip(".") if amount_col else ""
        amount += f" (+{unknown} without an amount)" if unknown and amount_col else ""
        lines.append(f"{value!r}: {len(positions)} row{'s' if len(positions) != 1 else ''} ({_rows_text([kept[i] for i in positions])}){amount}")
        guess = "lost" if _LOST_WORDS.search(value) else "won" if _WON_WORDS.search(value) else "open"
        adds.append(f"{_yaml_key(value)}: {guess}")
    label = tm.where.split(":")[0]
    name = label.rsplit(".", 1)[0]
    where = f"e.g. a file my_mapping.yaml with `extends: {name}` and" if name in shipped_mappings() else f"in {label}:"
    return (f"column '{col}' -> outcome: stage values the mapping does not map to won, lost or open (every stage must be "
            f"accounted for, so none becomes an open deal unnoticed): {'; '.join(lines)}. Add them to the mapping, {where}"
            f"\n      tables:\n        {tm.table}:\n          columns:\n            outcome:\n"
            f"              values: {{{', '.join(adds)}}}   # check each: won, lost or open")


def _yaml_key(value: str) -> str:
    return value if re.fullmatch(r"[\w][\w ./-]*", value) and value.strip().lower() not in ("yes", "no", "true", "false", "on", "off", "null") \
        else '"' + value.replace('"', '\\"') + '"'


ID_TARGETS = ("opportunity_id", "lead_id")
EXCEL_FIX = ("these values were changed by Excel (opening a CSV by double-click converts them): export again and open it "
             "with Excel's data import wizard (Data > From Text/CSV, column type Text), or use the .xlsx export from the CRM")


def excel_damage_problems(rule: ColumnRule, col: str, cells: list, kept: list[int], report: dict | None = None) -> list[str]:
    """Values Excel destroyed, in a text or category column: ids shown in scientific notation (1.23457E+11, their
    digits rounded away), ids that lost their leading zeros (00123 next to 123), and categories such as company-size
    ranges (1-10, 11-50) turned into dates (10-Jan, 2025-01-10) or serial day numbers (45667)
    (helpers.data.categories.excel_dated). Returns the problems; a company_size of nothing but day numbers is a
    note in `report` (warning ``excel_serial_category``: they could be head counts)."""
    if rule.kind not in ("text", "category") or rule.values:
        return []
    text_of = _Distinct(cell_text)
    texts = [(i, text_of(v)) for i, v in enumerate(cells)]
    texts = [(i, t) for i, t in texts if t]
    found = []

    def listed(positions, what):
        shown = ", ".join(repr(dict(texts)[p]) for p in positions[:MAX_SHOWN])
        found.append(f"column '{col}' -> {rule.target} ({_rows_text([kept[p] for p in positions])}): {what}: {shown}; {EXCEL_FIX}")

    if rule.target in ID_TARGETS:
        sci = [i for i, t in texts if is_scientific(t)]
        if sci:
            listed(sci, "these ids were rounded by Excel (scientific notation keeps 6 digits, so different records "
                        "now share one id)")
        digits = [(i, t) for i, t in texts if t.isdigit()]
        padded = [t for _, t in digits if t.startswith("0") and len(t) > 1]
        if padded:
            width = max(len(t) for t in padded)
            short = [i for i, t in digits if len(t) < width and not t.startswith("0")]
            if short:
                listed(short, f"these ids lost their leading zeros (other ids are {width} digits, such as {padded[0]!r})")
        return found
    if rule.kind != "category":
        return found
    positions, sure = excel_dated(rule.target, [t for _, t in texts])
    if positions and sure:
        listed([texts[p][0] for p in positions], "category values that Excel turned into dates or day numbers (a range such as 1-10 becomes 10-Jan)")
    elif positions and report is not None:
        shown = list(dict.fromkeys(texts[p][1] for p in positions))[:3]
        note(report, "excel_serial_category", len(positions), rule.target, [kept[texts[p][0]] + 2 for p in positions],
             examples=", ".join(repr(v) for v in shown))
    for i, v in enumerate(cells):
        if isinstance(v, (dt.datetime, dt.date, pd.Timestamp)) and rule.target not in ID_TARGETS:
            found.append(f"column '{col}' -> {rule.target} ({_rows_text([kept[i]])}): a date cell ({cell_text(v)!r}) in a category "
                         f"column: Excel turned the value into a date; {EXCEL_FIX}")
            break
    return found


def _has_offset(text: str) -> bool:
    return bool(re.search(r"(Z|[+-]\d{2}:?\d{2})$", text))


class _Skip(Exception):
    """An optional column absent from the export: the canonical column is left out."""


def note(report: dict, code: str, count: int, column: str | None = None, rows: list[int] | None = None, **params) -> None:
    """Record something the ingest decided or noticed (shown in the summary, and a warning in ingest_report.json): its
    message and fix are the English sentences of `code` in the label table (helpers.errors.warning), `params` what
    fills them (kept, so a report says the same in its own language)."""
    from helpers.errors import warning

    w = warning(report.get("source") or "", code, column, count=int(count), **params)
    report.setdefault("notes", []).append({"code": code, "message": w.message, "fix": w.fix, "count": int(count), "column": column,
                                           "rows": list(rows or [])[:MAX_SHOWN], "params": w.params})


def decide_date_orders(tm: TableMapping, rows: pd.DataFrame, kept: list[int], report: dict, problems: list[str]) -> dict[str, str | None]:
    """The day/month order of each date column read with the `numeric` token: stated (`date_order` on the column,
    table or mapping), else proven by the column's own values (a part over 12), else by the other date columns of
    the same export (one export comes from one locale). A column mixing both orders, or one whose values are all
    ambiguous with nothing to settle them, adds a problem (the ingest refuses). Records `report['date_order']`."""
    evidence: dict[str, tuple[str, set[str], list]] = {}
    for rule in tm.columns:
        if rule.kind not in DATE_KINDS or "numeric" not in rule.formats or not rule.columns:
            continue
        col = find_column(rows.columns, rule.columns)
        if col is None:
            continue
        texts = [cell_text(v) for v in rows[col]]
        evidence[rule.target] = (col, date_order_evidence([t for t in texts if t]), texts)
    orders: dict[str, str | None] = {}
    proven = {next(iter(found)) for _, found, _ in evidence.values() if len(found) == 1}
    report["date_order"] = {}

    def example_parts(texts, order) -> dict:
        for i, t in enumerate(texts):
            parts = numeric_date_parts(t) if t else None
            if parts and ((order == "dmy" and parts[0] > 12 >= parts[1]) or (order == "mdy" and parts[1] > 12 >= parts[0])):
                return {"example": repr(t), "row": kept[i] + 2}
        return {"example": "", "row": ""}

    def example(texts, order):
        found = example_parts(texts, order)
        return f"{found['example']} (row {found['row']})" if found["example"] else ""

    for rule in tm.columns:
        if rule.target not in evidence:
            continue
        col, found, texts = evidence[rule.target]
        stated = rule.date_order or tm.date_order
        name = {"dmy": "day-first", "mdy": "month-first"}
        if len(found) == 2:
            problems.append(f"column '{col}' -> {rule.target}: mixes day-first dates such as {example(texts, 'dmy')} and month-first "
                            f"dates such as {example(texts, 'mdy')} in one column; one of them is read wrong whichever order is used. "
                            "Export the report again with one date format (or fix those cells)")
            continue
        if stated:
            orders[rule.target] = stated
            if found and stated not in found:
                problems.append(f"column '{col}' -> {rule.target}: date_order is {stated} but {example(texts, next(iter(found)))} "
                                f"can only be {name[next(iter(found))]}; check date_order in the mapping")
            report["date_order"][rule.target] = {"order": stated, "how": "stated in the mapping (date_order)"}
            continue
        if found:
            order = next(iter(found))
            orders[rule.target] = order
            report["date_order"][rule.target] = {"order": order, "how": f"from the column's values: {example(texts, order)} is {name[order]}"}
            if order == "dmy":
                note(report, "date_order_detected", sum(1 for t in texts if t and numeric_date_parts(t)), rule.target,
                     source_column=col, **example_parts(texts, order))
            continue
        ambiguous = [i for i, t in enumerate(texts) if t and is_ambiguous_numeric_date(t)]
        if len(proven) == 1:
            order = next(iter(proven))
            orders[rule.target] = order
            if ambiguous:
                by = next(c for c, f, _ in evidence.values() if f == {order})
                report["date_order"][rule.target] = {"order": order, "how": f"from column '{by}' of the same export ({name[order]})"}
                if order == "dmy":
                    note(report, "date_order_detected", len(ambiguous), rule.target, variant="like_column", source_column=col, by=by)
            continue
        orders[rule.target] = None
        if ambiguous:
            shown = ", ".join(repr(texts[i]) for i in ambiguous[:MAX_SHOWN])
            problems.append(f"column '{col}' -> {rule.target} ({_rows_text([kept[i] for i in ambiguous])}): every date has day and month "
                            f"both 12 or less ({shown}), so 03/02/2025 could be 3 February or March 2 and nothing in the export tells "
                            "which. State the order in the mapping: date_order: dmy (day first: en_GB, de, fr exports) or "
                            "date_order: mdy (month first: en_US)")
    return orders


class _Distinct:
    """`fn` of a cell, computed once per distinct cell (keyed by type and value: 1, 1.0 and True stay apart); unhashable
    cells are computed each time. For pure functions of one cell only."""

    def __init__(self, fn):
        self.fn, self.seen = fn, {}

    def __call__(self, v):
        try:
            key = (type(v), v)
            return self.seen[key]
        except KeyError:
            self.seen[key] = out = self.fn(v)
            return out
        except TypeError:
            return self.fn(v)


def _convert(rule: ColumnRule, rows: pd.DataFrame, kept: list[int], source: str, tm: TableMapping,
             report: dict, problems: list[str], order: str | None = None) -> list:
    n = len(rows)
    if rule.constant is not None:
        report["columns"][rule.target] = rule.describe()
        return [rule.constant] * n
    flag_cols = {role: find_column(rows.columns, names) for role, names in rule.flags}
    if rule.flags and (all(flag_cols.values()) or not rule.columns):
        cols = {}
        for role, names in rule.flags:
            if flag_cols[role] is None:
                raise missing_column_error(names, rows.columns, source, f"{tm.where}.columns.outcome.flags")
            cols[role] = flag_cols[role]
        outcome, bad = [], []
        for pos in range(n):
            try:
                won = flag_value(rows[cols["won"]].iat[pos])
                lost = flag_value(rows[cols["lost"]].iat[pos]) if "lost" in cols else False
                closed = flag_value(rows[cols["closed"]].iat[pos]) if "closed" in cols else False
            except ValueError:
                bad.append(pos)
                outcome.append(None)
                continue
            outcome.append("won" if won else "lost" if (lost or closed) else "open")
        if bad:
            problems.append(f"{'/'.join(cols.values())} ({_rows_text([kept[i] for i in bad])}): flag values must be 1/true/yes or empty/0/false/no")
        report["columns"][rule.target] = rule.describe() + f" ({', '.join(cols.values())})"
        report["value_counts"][rule.target] = _counts(outcome)
        return outcome

    col = find_column(rows.columns, rule.columns)
    if col is None:
        if rule.optional:
            if rule.default is not None:
                report["columns"][rule.target] = f"default {rule.default!r} (no column {' | '.join(rule.columns)})"
                report["defaulted"].append({"column": rule.target, "value": rule.default, "count": n, "why": "column absent"})
                return [rule.default] * n
            report["skipped"].append({"column": rule.target, "export": list(rule.columns)})
            raise _Skip
        raise missing_column_error(rule.columns, rows.columns, source, f"{tm.where}.columns.{rule.target}")
    report["columns"][rule.target] = col
    cells = list(rows[col])
    values: list = []
    bad: list[int] = []
    bad_values: list[str] = []
    multi = 0
    mapped: dict[tuple[str, str], int] = {}
    unmapped: dict[str, list[int]] = {}
    value_map = dict(rule.values)
    formats = tuple(rule.formats or ("iso",))
    if rule.kind == "month" and "iso" in formats:
        formats += ("%Y-%m",)   # a month in ISO 8601 is YYYY-MM

    def convert(v) -> tuple[str, str | None]:
        """("ok", text), ("skip", None): an ambiguous numeric date (reported once by decide_date_orders), or ("bad", cell)."""
        try:
            if rule.kind in DATE_KINDS:
                if order is None and "numeric" in rule.formats and isinstance(v, str) and is_ambiguous_numeric_date(v):
                    return "skip", None
                parsed = parse_datetime(v, formats, order)
                return "ok", date_text(parsed, rule.kind) if parsed is not None else None
            if rule.kind in ("number", "int") and not rule.values and rule.target != "answer":  # answers: yes/はい/1 (the loader reads them)
                text = number_text(v, rule.decimal or tm.decimal or ".")
                if text is not None and rule.kind == "int" and not float(text).is_integer():
                    raise ValueError(text)
                if text is not None and rule.kind == "int":
                    text = str(int(float(text)))
                return "ok", text
            return "ok", cell_text(v)
        except ValueError:
            return "bad", cell_text(v) or ""

    converted = _Distinct(convert)   # a column repeats its values (dates, stages): each distinct cell converted once
    for pos, v in enumerate(cells):
        if rule.split and isinstance(v, str) and rule.split in v:
            parts = [p.strip() for p in v.split(rule.split) if p.strip()]
            multi += len(parts) > 1
            v = parts[0] if parts else None
        status, text = converted(v)
        if status == "skip":
            values.append(None)
            continue
        if status == "bad":
            bad.append(pos)
            bad_values.append(text)
            values.append(None)
            continue
        if text is not None and rule.values:
            hit = value_map.get(_key(text))
            if hit is not None:
                mapped[(text, hit)] = mapped.get((text, hit), 0) + 1
                text = hit
            elif rule.other is not None:
                mapped[(text, rule.other)] = mapped.get((text, rule.other), 0) + 1
                text = rule.other
            elif rule.target == "outcome" and text.strip().lower() not in OUTCOMES:
                unmapped.setdefault(text, []).append(pos)
        values.append(text)
    if unmapped:
        problems.append(unmapped_stages_problem(unmapped, col, rows, kept, tm))
    problems.extend(excel_damage_problems(rule, col, list(rows[col]), kept, report))
    if bad:
        what = {"date": "dates", "datetime": "dates", "month": "months", "number": "numbers", "int": "whole numbers"}.get(rule.kind, "values")
        extra = f" in the format(s) {', '.join(rule.formats or ('iso',))}" if rule.kind in DATE_KINDS else ""
        shown = ", ".join(repr(b) for b in bad_values[:MAX_SHOWN])
        problems.append(f"column '{col}' -> {rule.target} ({_rows_text([kept[i] for i in bad])}): not {what}{extra}: {shown}")
    if rule.default is not None:
        failed = set(bad)
        empty = [i for i, v in enumerate(values) if v is None and i not in failed]
        for i in empty:
            values[i] = rule.default
        if empty:
            report["defaulted"].append({"column": rule.target, "value": rule.default, "count": len(empty), "why": f"'{col}' empty"})
    if multi:
        report["split"].append({"column": rule.target, "count": multi, "kept": "first value"})
        joined = [v for v in (cell_text(c) for c in cells) if v and rule.split in v]
        note(report, "split_first_kept", multi, rule.target, [kept[i] + 2 for i, c in enumerate(cells)
                                                              if isinstance(c, str) and rule.split in c],
             source_column=col, separator=rule.split, examples=", ".join(repr(v) for v in list(dict.fromkeys(joined))[:3]))
    elif not rule.split and not rule.keep_whole and rule.target in LABEL_COLUMNS + NAME_COLUMNS:
        problems.extend(multi_value_problems(rule, col, values, kept, tm.table))   # after the value map: what would be read
    if rule.values or rule.target == "outcome":
        report["value_counts"][rule.target] = _counts(values)
        if mapped:
            report.setdefault("value_map", {})[rule.target] = [
                {"from": k[0], "to": k[1], "count": c} for k, c in sorted(mapped.items(), key=lambda kv: (-kv[1], kv[0]))]
    return values


def multi_value_problems(rule: ColumnRule, col: str, cells: list, kept: list[int], table: str) -> list[str]:
    """The refusal of a label column whose cells hold several values joined by ';' (a CRM multiple-choice field,
    helpers.data.categories.multi_valued): the rows, examples and the mapping line that reads them."""
    texts = [cell_text(c) for c in cells]
    positions = multi_valued(rule.target, texts)
    if not positions:
        return []
    shown = ", ".join(repr(v) for v in list(dict.fromkeys(texts[i] for i in positions))[:MAX_SHOWN])
    return [f"column '{col}' -> {rule.target} ({_rows_text([kept[i] for i in positions])}): {len(positions)} cell(s) hold several "
            f"values joined by '{MULTI_SEPARATOR}' ({shown}), as a CRM exports a multiple-choice field (HubSpot multiple "
            f"checkboxes, a Salesforce multi-select picklist); each would count as a {rule.target} of its own. Say how to read "
            f"them (tables: {table}: columns:): {rule.target}: {{column: {_yaml_key(col)}, split: \"{MULTI_SEPARATOR}\"}} keeps the first value of each "
            "cell (a warning counts them), or split: false if ';' is part of the values"]


def _counts(values: list) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        key = v if v is not None else "(empty)"
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))
