"""A mapping file's vocabulary and objects: the keys each level allows, the date tokens, the encodings and flag words a
mapping reads by, and the validated objects (ColumnRule, DropRule, JoinRule, SqlSource, TableMapping, Mapping) that
helpers.data.mapping_spec.load_mapping makes (contract section 4; format: docs/ingest.md).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


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
        """The rule as a message says it, in either language (a helpers.errors.Phrase): its column, values and reason
        as the mapping writes them."""
        from helpers.errors import Phrase, PhraseList

        col = self.columns[0]
        if self.op == "empty":
            what = Phrase("part_drop_empty", column=col)
        elif self.op == "matches":
            what = Phrase("part_drop_matches", column=col, pattern=repr(self.values[0]))
        elif self.op == "not_in":
            what = Phrase("part_drop_not_in", column=col, values=PhraseList(self.values, Phrase("part_comma")))
        else:
            what = Phrase("part_drop_is", column=col, values=PhraseList(self.values, Phrase("part_or")))
        return Phrase("part_drop_reason", what=what, reason=self.reason) if self.reason else what


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
        from helpers.errors import Phrase, PhraseList

        columns = PhraseList([Phrase("part_join_column", source=src, name=name) for src, name in self.columns], Phrase("part_comma"))
        return Phrase("part_join_lookup", files=" | ".join(self.files), key=self.key[0], on=self.on[0], columns=columns)


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

