"""An export's cells and headers as the mappings read them: empty cells, text, dates (ISO, Excel serials, Salesforce
timestamps, strftime formats), amounts as plain number text, flags; and finding a column by its header names.

Pure functions of a cell; used by helpers.data.mapping and its checks.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import unicodedata
from decimal import Decimal

import pandas as pd

from helpers.errors import Phrase, PhraseList, WorkbookError, coded_error
from helpers.data.mapping_types import EXCEL_EPOCH, FALSE_FLAGS, MAX_SHOWN, SALESFORCE_FORMAT, TRUE_FLAGS
from helpers.data.mapping_values import _header_key, _key
from helpers.data.values import (JA_WEEKDAYS, DateAsWritten, MonthWithoutDay, has_ja_unit, ja_clock, parse_ja_units, looks_like_wareki,
                                 parse_numeric_date, parse_wareki, parse_wareki_month, plain_signs, split_ja_weekday)


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


def parse_datetime(v, formats: tuple[str, ...], order: str | None = None, epoch: dt.datetime = EXCEL_EPOCH,
                   kind: str | None = None) -> dt.datetime | None:
    """One cell to a datetime (aware when the export gives an offset); raises ValueError when no format fits.

    Japanese era dates (令和6年10月7日, R6.10.7) are always read (helpers.data.values.parse_wareki). The token
    `numeric` reads 3/2/2025 in `order` (dmy or mdy; None only where day = month); `excel` reads a serial day
    number counted from `epoch` (the workbook's date system: helpers.data.files.excel_epoch). An era month alone
    (令和7年4月) is read as its first day when `kind` is ``month``, else refused (MonthWithoutDay: no day is guessed)."""
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
    if not numeric:
        rest, weekday = split_ja_weekday(text)   # 2024/10/07(月): read without the weekday, which must be the date's
        if weekday is not None:
            value = parse_datetime(rest, formats, order, epoch, kind)
            if value is None:
                raise ValueError(text)
            if value.weekday() != weekday:
                raise DateAsWritten(Phrase("part_date_weekday", text=repr(text), day=value.date().isoformat(),
                                           weekday=_WEEKDAY_NAMES[value.weekday()], weekday_ja=JA_WEEKDAYS[value.weekday()],
                                           written=_WEEKDAY_NAMES[weekday], written_ja=JA_WEEKDAYS[weekday]))
            return value
        month = parse_wareki_month(text)   # 令和7年4月: a month column reads it, a date column refuses it (no day)
        if month is not None:
            if kind == "month":
                return month
            raise MonthWithoutDay(Phrase("part_date_month_only", text=repr(text), month=f"{month:%Y-%m}"))
        if looks_like_wareki(text):
            return parse_wareki(text)
    try:
        return _parse_formats(v, text, numeric, formats, order, epoch)
    except ValueError:
        if not numeric and ja_clock(text) != text:   # 2024年10月7日 14時30分 -> 14:30, for the formats with %H:%M
            return _parse_formats(v, ja_clock(text), numeric, formats, order, epoch)
        if "excel" in formats and re.fullmatch(r"\d{1,4}(?:\.\d+)?", text):
            raise DateAsWritten(Phrase("part_date_short_serial", text=repr(text))) from None
        if not numeric and (two := _TWO_DIGIT_YEAR.match(text)):
            year_last = two.group("last") and (order in ("dmy", "mdy") or not _TWO_DIGIT_YEAR_FIRST.match(text))
            yy = int(two.group("last") if year_last else _TWO_DIGIT_YEAR_FIRST.match(text).group(1))
            raise DateAsWritten(Phrase("part_date_two_digit_year", text=repr(text), early=1900 + yy, late=2000 + yy)) from None
        raise


#: The Excel serial day numbers read as dates: five digits, 10000 (1927-05-18) to 99999 (2173-10-14) in the 1900
#: system. A shorter number in a date column is a year or a typo (2025 would be 1905-07-16), so it is refused.
EXCEL_SERIALS = (10000, 100000)
_ISO_UNPADDED = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: A two-digit year last (4/1/25) or first (24/4/1); each alternative's separator a named group (a numbered
#: back-reference would count the named groups too).
_TWO_DIGIT_YEAR = re.compile(r"^\d{1,2}(?P<sep1>[/.\-])\d{1,2}(?P=sep1)(?P<last>\d{2})(?:\s.*)?$"
                             r"|^(?P<first>\d{2})(?P<sep2>[/.\-])\d{1,2}(?P=sep2)\d{1,2}$")
#: A two-digit year first (24/04/01, the Japanese order): its year, said unless the column's date_order is dmy or mdy.
_TWO_DIGIT_YEAR_FIRST = re.compile(r"^(\d{2})([/.\-])\d{1,2}\2\d{1,2}$")


def _parse_formats(v, text: str, numeric: bool, formats: tuple[str, ...], order: str | None, epoch: dt.datetime) -> dt.datetime:
    """`text` (cell `v` as NFKC text) in the first of `formats` that reads it; ValueError when none does."""
    for fmt in formats or ("iso",):
        try:
            if fmt == "excel":
                serial = float(v) if numeric else float(text)
                if not EXCEL_SERIALS[0] <= serial < EXCEL_SERIALS[1]:   # 2025 is a year (or a typo), never 1905-07-16
                    raise ValueError("not an Excel serial date")
                return epoch + dt.timedelta(days=serial)
            if fmt == "iso":
                if numeric:
                    raise ValueError("a number is not an ISO date")
                if _ISO_UNPADDED.match(text):   # 2025-1-5: year first, so the order is certain; ISO only lacks the zeros
                    return dt.datetime.strptime(text, "%Y-%m-%d")
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
    text = plain_signs(unicodedata.normalize("NFKC", str(v)).strip())   # ▲500 = -500; 1'200 = 1200
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
    wanted = PhraseList([repr(n) for n in names], Phrase("part_or"))
    if close:
        line = Phrase("part_missing_column_close", wanted=wanted, where=where, close=", ".join(repr(c) for c in close[:5]))
    elif len(cols) > 15:
        line = Phrase("part_missing_column_more", wanted=wanted, where=where, columns=", ".join(repr(c) for c in cols[:15]),
                      count=len(cols))
    else:
        line = Phrase("part_missing_column", wanted=wanted, where=where, columns=", ".join(repr(c) for c in cols))
    return coded_error("missing_column", None, _required_variant(where), cls=MissingColumnError, source=source, line=line)


#: Required columns a mapping may fill with one value for every row (``optional: true`` with ``default:``): an export of
#: one channel, or a checklist sheet of one department, has no such column. Ids, dates, amounts and a deal's outcome
#: never take a default: one value for every row would be a guess (helpers.data.mapping_parse allows the key).
DEFAULTABLE = frozenset({"channel", "department"})


def _required_variant(where: str) -> str:
    """The missing_column variant of the rule at `where`: "required_default" for a required column the rule may give
    one value (DEFAULTABLE), "required" for another required column (its rule cannot be marked optional, so the fix
    does not offer that), "" for any other column."""
    if not _required_target(where):
        return ""
    return "required_default" if where.rsplit(".", 1)[-1] in DEFAULTABLE else "required"


def _required_target(where: str) -> bool:
    """Whether `where` ('m.yaml: tables.opportunities.columns.opportunity_id') names a column the contract requires:
    its rule cannot be marked optional, so the fix does not offer that."""
    from helpers.data.schema import TABLES

    found = re.search(r"tables\.(\w+)\.columns\.(\w+)$", where)
    if not found or found.group(1) not in TABLES or found.group(2) not in TABLES[found.group(1)].column_names:
        return False
    return TABLES[found.group(1)].column(found.group(2)).required


def missing_column_line(error: MissingColumnError) -> Phrase:
    """The missing column of `error` (:func:`missing_column_error`) as a line of the export's list of problems, without
    the file's name: "has no column 'Stage' (needed by ...). Close matches in the export: ..."."""
    return error.params["line"]


def _rows_text(positions: list[int]) -> Phrase:
    """The export rows at `positions` (0-based, below the header) as a message names them: "rows 2, 5 (+3 more)"."""
    shown = ", ".join(str(p + 2) for p in positions[:MAX_SHOWN])
    if len(positions) > MAX_SHOWN:
        return Phrase("part_rows_more", rows=shown, more=len(positions) - MAX_SHOWN)
    return Phrase("part_rows" if len(positions) > 1 else "part_row", rows=shown)
