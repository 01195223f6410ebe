"""Export columns a mapping leaves unread that the data contract would take: a column named like a canonical column
(its English or Japanese name, docs/data_dictionary.md) that no rule of the mapping mentions, and an amount whose
header carries its unit (金額（千円）), which is never read as yen.

Used by helpers.data.mapping.apply_mapping: the first is a note (warning columns_not_mapped, named in the ingest
summary), the second a refusal (error amount_unit_in_header) naming the column, its unit and the fix.
"""
from __future__ import annotations

import re

from helpers.data.cells import find_column
from helpers.data.mapping_types import TableMapping
from helpers.data.mapping_values import _header_key
from helpers.data.schema import JA_NAMES, TABLES
from helpers.errors import coded_error

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
