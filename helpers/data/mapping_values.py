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

from helpers.data.mapping_types import DATE_TOKENS, ENCODING_ALIASES
from helpers.data.values import DATE_ORDERS
from helpers.errors import Phrase, PhraseList, coded_error


def _close(word: str, options, n: int = 3) -> str:
    found = difflib.get_close_matches(str(word), [str(o) for o in options], n=n, cutoff=0.6)
    return Phrase("part_did_you_mean", names=PhraseList([repr(f) for f in found], Phrase("part_or"))) if found else ""


def _check_keys(obj: dict, allowed, where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise coded_error("mapping_unknown_key", where, key=key, close=_close(key, allowed), allowed=", ".join(allowed))


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text_list(value, where: str, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or any(v is None or isinstance(v, (dict, list)) for v in items):
        raise coded_error("mapping_names", where, what=what, value=repr(value))
    return tuple(_as_text(v).strip() for v in items)


def check_date_format(fmt: str, where: str) -> None:
    """A date format is a token (iso, excel, salesforce) or strftime codes that strptime accepts."""
    if fmt in DATE_TOKENS:
        return
    if "%y" in fmt:
        raise coded_error("mapping_two_digit_year", where, format=repr(fmt))
    if "%" not in fmt:
        raise coded_error("mapping_date_format", where, "no_codes", format=repr(fmt), tokens=", ".join(DATE_TOKENS))
    sample = dt.datetime(2024, 1, 22, 16, 14, 25, tzinfo=dt.timezone.utc)
    try:
        dt.datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError as exc:
        raise coded_error("mapping_date_format", where, format=repr(fmt), error=str(exc)) from None


def normalize_encoding(name: str, where: str) -> str:
    """A mapping's encoding as the codec to read with: Shift_JIS aliases read as cp932 (what Japanese Excel writes)."""
    key = str(name).strip().lower()
    if key in ENCODING_ALIASES:
        return ENCODING_ALIASES[key]
    try:
        return codecs.lookup(key).name
    except LookupError:
        raise coded_error("mapping_encoding", where, encoding=repr(name)) from None


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
        raise coded_error("mapping_date_order", where, value=repr(value))
    return text
