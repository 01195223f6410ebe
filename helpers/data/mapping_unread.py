"""Export columns a mapping leaves unread that the data contract would take: a column named like a canonical column
(its English or Japanese name, docs/data_dictionary.md) that no rule of the mapping mentions, and an amount whose
header carries its unit (金額（千円）), which is never read as yen.

Used by helpers.data.mapping.apply_mapping: the first is a note (warning columns_not_mapped, named in the ingest
summary), the second a refusal (error amount_unit_in_header) naming the column, its unit and the fix. A column a rule
names is also found with a currency in brackets after its name (金額（円）, 金額[JPY], amount (USD)): the amounts, and
that currency for the cells that carry none (:func:`currency_header`). Any other near miss of an absent optional
column (金額（税抜）, 受注金額, 業種（大分類）) is refused (error column_near_miss) naming the column and the mapping
line to write (:func:`refuse_near_miss`): an optional column with a close match is never silently left out.
"""
from __future__ import annotations

import re

from helpers.data.cells import find_column
from helpers.data.mapping_types import TableMapping
from helpers.data.mapping_values import _header_key
from helpers.data.schema import JA_NAMES, TABLES
from helpers.errors import Phrase, coded_error

#: A unit written in an amount's header, with what it multiplies: 千円 (thousands of yen), 万円, 百万円, 億円.
HEADER_UNITS = {"千円": 1_000, "千": 1_000, "万円": 10_000, "万": 10_000, "百万円": 1_000_000, "百万": 1_000_000,
                "億円": 100_000_000, "億": 100_000_000}


def mentioned_keys(tm: TableMapping) -> set[str]:
    """The header keys of every export column table mapping `tm` names: its rules' columns, flags and currency columns,
    drop_if and keep columns, and the columns its joins read or bring."""
    names: list[str] = list(tm.keep)
    for r in tm.columns:
        names += [*r.columns, *r.currency_column, *r.converted_column, *r.converted_currency_column]
        names += [c for _, cols in r.flags for c in cols]
    names += [c for d in tm.drop_if for c in d.columns]
    for j in tm.joins:
        names += [*j.on, *(name for _, name in j.columns)]
    return {_header_key(n) for n in names}


def unmapped_contract_columns(raw_columns, tm: TableMapping) -> list[tuple[str, str]]:
    """(export column, canonical column) for each export column named like a column of table `tm.table` (its canonical
    name or a Japanese name of schema.JA_NAMES, ignoring case, width and spaces) that the mapping does not name."""
    if tm.table not in TABLES:
        return []
    wanted: dict[str, str] = {}
    for target in TABLES[tm.table].column_names:
        for name in (target, *JA_NAMES.get(tm.table, {}).get(target, ())):
            wanted.setdefault(_header_key(name), target)
    known = mentioned_keys(tm)
    return [(str(c), wanted[_header_key(c)]) for c in raw_columns
            if _header_key(c) in wanted and _header_key(c) not in known]


#: A header with a bracketed note after the name: 金額（千円） -> (金額, 千円) on the header key (NFKC: （） are ()).
_NOTE = re.compile(r"(.+?)[(\[【]([^()\[\]【】]+)[)\]】]")


def _note_currency(text: str) -> str | None:
    """The ISO 4217 code a header's bracketed note names: 円 / ¥ / ￥ -> JPY, $ -> USD, an ISO code in any case
    (JPY, usd); None for anything else (税抜, 千円, 大分類)."""
    from helpers.config import iso_currency_code
    from helpers.data.values import SYMBOLS

    text = text.strip()
    if text in SYMBOLS:
        return SYMBOLS[text]
    return iso_currency_code(text) if re.fullmatch(r"[A-Za-z]{3}", text) else None


def currency_header(raw_columns, names: tuple[str, ...]) -> tuple[str, str] | None:
    """(export column, currency code) of the column named as one of `names` with a currency in brackets after it
    (金額（円）, 金額(円), 金額[円], 金額【JPY】, amount (USD)) when no column is named exactly so; None otherwise. The
    bracket states the currency of the values (never a factor: 千円 is :func:`refuse_unit_header`'s)."""
    if find_column(raw_columns, names) is not None:
        return None
    keys = {_header_key(n) for n in names}
    for col in raw_columns:
        found = _NOTE.fullmatch(_header_key(col))
        code = _note_currency(found.group(2)) if found and found.group(1) in keys else None
        if code:
            return str(col), code
    return None


def near_misses(raw_columns, tm: TableMapping, names: tuple[str, ...]) -> list[str]:
    """Export columns the mapping does not name that look like the column `names` name: the name with a bracketed
    note after it (金額（税抜）, 業種（大分類）, Amount (net)), or, for a Japanese name, the name inside a longer
    header (受注金額, 金額合計). Exact names are :func:`find_column`'s; units and currencies are checked first."""
    keys = {_header_key(n) for n in names}
    known = mentioned_keys(tm)
    out = []
    for col in raw_columns:
        key = _header_key(col)
        if key in known:
            continue
        found = _NOTE.fullmatch(key)
        if (found and found.group(1) in keys) or any(not k.isascii() and k in key for k in keys):
            out.append(str(col))
    return out


def refuse_near_miss(raw_columns, tm: TableMapping, names: tuple[str, ...], target: str, source: str) -> None:
    """Stop on an optional column the export lacks under the mapping's `names` while it holds a column like it
    (:func:`near_misses`): WorkbookError column_near_miss naming the column(s), the canonical column and the mapping
    line that reads it. Nothing when the column is there or nothing is like it."""
    if find_column(raw_columns, names) is not None:
        return
    close = near_misses(raw_columns, tm, names)
    if close:
        from helpers.data.mapping_spec import shipped_mappings

        label = tm.where.split(":")[0]
        stem = label.rsplit(".", 1)[0]
        how = Phrase("part_where_extends", stem=stem) if stem in shipped_mappings() else Phrase("part_where_in", label=label)
        raise coded_error("column_near_miss", source, columns=", ".join(repr(c) for c in close), target=target,
                          names=", ".join(repr(n) for n in names), where=tm.where.split(": ", 1)[-1], how=how, column=close[0],
                          line=f"{target}: {{column: [\"{close[0]}\"], optional: true}}", name=names[0])


def refuse_unit_header(raw_columns, tm: TableMapping, names: tuple[str, ...], target: str, source: str) -> None:
    """Stop on an amount the export holds under its name with a unit (`金額（千円）`, `金額[万円]`) when the mapping's
    `names` are absent: the values are in thousands (ten thousands, ...) and would be read as yen. WorkbookError
    amount_unit_in_header naming the column, the unit, its factor and the fix; nothing when there is none."""
    if find_column(raw_columns, names) is not None:
        return
    keys = {_header_key(n) for n in names}
    for col in raw_columns:
        found = re.fullmatch(r"(.+?)[(\[【]([^()\[\]【】]+)[)\]】]", _header_key(col))
        if found and found.group(1) in keys and found.group(2) in HEADER_UNITS:
            raise coded_error("amount_unit_in_header", source, column=str(col), target=target, unit=found.group(2),
                              factor=f"{HEADER_UNITS[found.group(2)]:,}", name=names[0], where=tm.where)
