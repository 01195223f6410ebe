"""A mapping file read and checked: the mapping objects (ColumnRule, DropRule, JoinRule, SqlSource, TableMapping,
Mapping) and :func:`load_mapping` (contract section 4; format: docs/ingest.md).

Every mistake is a `WorkbookError` with a `fix` (unknown keys, unknown canonical columns, bad date formats, ...).
Applying a mapping to export rows is helpers.data.mapping's job.
"""
from __future__ import annotations

import codecs
import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from helpers.data.schema import OUTCOMES, TABLES
from helpers.errors import WorkbookError
from helpers.yamlfile import Yaml12Loader, read_yaml
from helpers.data.values import DATE_ORDERS


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
