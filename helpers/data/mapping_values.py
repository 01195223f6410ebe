"""A mapping file's single values checked: keys against the allowed ones (with close matches), names and lists of
names, date formats, date orders, encodings, and the comparison keys of values and headers. Each mistake is a
`WorkbookError` with a `fix`; used by helpers.data.mapping_parse and the cells (helpers.data.cells).
"""
from __future__ import annotations

import codecs
import datetime as dt
import difflib
import re
import unicodedata

from helpers.data.mapping_types import DATE_TOKENS, ENCODING_ALIASES, FIX_DATE_FORMAT
from helpers.data.values import DATE_ORDERS
from helpers.errors import WorkbookError


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


def check_date_order(value, where: str) -> str:
    """A date_order setting: dmy (3/2/2025 = 3 February) or mdy (= 2 March)."""
    text = str(value).strip().lower()
    if text not in DATE_ORDERS:
        raise WorkbookError(f"{where}: date_order must be dmy or mdy, got {value!r}",
                            fix="date_order: dmy reads 03/02/2025 as 3 February 2025 (en_GB, de, fr exports); mdy as March 2 (en_US).")
    return text
