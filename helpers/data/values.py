"""Reading export cells that tools and locales write in several ways: pure functions, no I/O.

- numeric dates `3/2/2025`: which part is the day (`numeric_date_parts`, `date_order_evidence`);
- Japanese era dates (和暦) `令和6年10月7日`, `R6.10.7`, `平成31年4月30日` (`parse_wareki`);
- Salesforce record ids in their 15- and 18-character forms (`salesforce_id18`);
- currencies written inline (`USD 10,000.00`, `£5,000`, `1,200,000円`) (`split_currency`);
- Japanese units of amounts (`1,200万円`, `1.5億円`) (`parse_ja_units`);
- decimal commas (`12.000,00`) (`decimal_evidence`);
- values Excel destroyed (`1.23457E+11`, `1-10` turned into `10-Jan`) (`excel_damage`).

Used by helpers.data.mapping when it converts an export's columns (docs/ingest.md).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

from helpers.errors import Phrase

# --------------------------------------------------------------------------- numeric dates: day or month first
DATE_ORDERS = ("dmy", "mdy")
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?)?$")


def numeric_date_parts(text: str) -> tuple[int, int, int, tuple[int, int, int, str | None] | None] | None:
    """`3/2/2025`, `03.02.2025`, `3-2-2025 9:05 PM` -> (first, second, year, time or None); None for other text.

    Only a four-digit year written last qualifies (two-digit years are never guessed)."""
    m = _NUMERIC_DATE.match(unicodedata.normalize("NFKC", text).strip())
    if not m:
        return None
    a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    clock = None
    if m.group(5) is not None:
        ampm = m.group(8).replace(".", "").lower() if m.group(8) else None
        clock = (int(m.group(5)), int(m.group(6)), int(m.group(7) or 0), ampm)
    return a, b, year, clock


def date_order_evidence(texts) -> set[str]:
    """The orders a column's numeric dates prove: {'dmy'} when a first part is over 12 (15/01/2025),
    {'mdy'} when a second part is (1/15/2025), both when the column mixes them, empty when every value
    is ambiguous (both parts 12 or less) or there are no numeric dates."""
    found: set[str] = set()
    for text in texts:
        parts = numeric_date_parts(text) if isinstance(text, str) else None
        if parts is None:
            continue
        a, b = parts[0], parts[1]
        if a > 12 >= b:
            found.add("dmy")
        elif b > 12 >= a:
            found.add("mdy")
    return found


def is_ambiguous_numeric_date(text: str) -> bool:
    """True for a numeric date whose day and month could be swapped (both 1-12 and different)."""
    parts = numeric_date_parts(text)
    return parts is not None and parts[0] <= 12 and parts[1] <= 12 and parts[0] != parts[1]


def parse_numeric_date(text: str, order: str | None) -> dt.datetime:
    """A numeric date in the given order (dmy or mdy); order None works only when it cannot matter
    (day = month). Raises ValueError when the text is not such a date or the order is needed but unknown."""
    parts = numeric_date_parts(text)
    if parts is None:
        raise ValueError(text)
    a, b, year, clock = parts
    if order is None:
        if a != b:
            raise ValueError(f"ambiguous day/month order: {text}")
        order = "dmy"
    day, month = (a, b) if order == "dmy" else (b, a)
    hour = minute = second = 0
    if clock is not None:
        hour, minute, second, ampm = clock
        if ampm is not None:
            if not 1 <= hour <= 12:
                raise ValueError(text)
            hour = hour % 12 + (12 if ampm == "pm" else 0)
    return dt.datetime(year, month, day, hour, minute, second)


# --------------------------------------------------------------------------- Japanese era dates (和暦)
# (name forms, first day). Each era runs until the day before the next one starts.
ERAS = (
    (("明治", "M"), dt.date(1873, 1, 1)),   # Gregorian calendar in Japan from Meiji 6 (1873-01-01)
    (("大正", "T"), dt.date(1912, 7, 30)),
    (("昭和", "S"), dt.date(1926, 12, 25)),
    (("平成", "H"), dt.date(1989, 1, 8)),
    (("令和", "R"), dt.date(2019, 5, 1)),
)
ERA_FIRST_YEAR = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
_ERA_BY_NAME = {form: names[0] for names, _ in ERAS for form in names}
_WAREKI = re.compile(
    r"^(明治|大正|昭和|平成|令和|[MTSHR])\s*(元|\d{1,2})\s*(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?|[./\-](\d{1,2})[./\-](\d{1,2}))"
    r"(?:\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?$", re.IGNORECASE)
_JA_CLOCK = re.compile(r"(\d{1,2})\s*時\s*(\d{1,2})\s*分(?:\s*(\d{1,2})\s*秒)?")


class DateAsWritten(ValueError):
    """A cell that says which day it means but is no day as written (an era date outside its era, 2月30日, a weekday
    that is not the date's, a two-digit year): no date format can read it, the cell itself must be corrected."""


class MonthWithoutDay(DateAsWritten):
    """A month written without its day (令和7年4月) in a date column: the day is never guessed (the 1st?), so the
    export must give it (a month column reads such a month: helpers.data.cells.parse_datetime)."""


_WAREKI_MONTH = re.compile(r"^(明治|大正|昭和|平成|令和|[MTSHR])\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月$", re.IGNORECASE)


def parse_wareki_month(text: str) -> dt.datetime | None:
    """A Japanese era month alone ('令和7年4月', NFKC) as the first day of that month (2025-04-01), None when the text is
    not one. DateAsWritten when it is no month of its era (令和元年4月 is still Heisei: Reiwa began 2019-05-01) or no
    month (13月)."""
    m = _WAREKI_MONTH.match(text.strip())
    if not m:
        return None
    era = _ERA_BY_NAME[m.group(1).upper() if len(m.group(1)) == 1 else m.group(1)]
    names = [n[0] for n, _ in ERAS]
    i = names.index(era)
    year = ERA_FIRST_YEAR[era] + (1 if m.group(2) == "元" else int(m.group(2))) - 1
    month = int(m.group(3))
    if m.group(2) != "元" and int(m.group(2)) < 1 or not 1 <= month <= 12:
        raise DateAsWritten(Phrase("part_date_no_era_month", text=repr(text), era=era))
    first = dt.datetime(year, month, 1)
    last_day = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    era_last = ERAS[i + 1][1] - dt.timedelta(days=1) if i + 1 < len(ERAS) else None
    if last_day.date() < ERAS[i][1] or (era_last is not None and first.date() > era_last):
        raise DateAsWritten(Phrase("part_date_month_outside_era", text=repr(text), month=f"{year}-{month:02d}", era=era))
    return first


def ja_clock(text: str) -> str:
    """Japanese clock times as H:MM[:SS]: '2024年10月7日 14時30分' -> '2024年10月7日 14:30' (the text unchanged without 時)."""
    return _JA_CLOCK.sub(lambda m: f"{int(m[1])}:{int(m[2]):02d}" + (f":{int(m[3]):02d}" if m[3] else ""), text)


#: A Japanese weekday written after a date: 2024/10/07(月), 令和6年10月7日（月曜日）, in datetime.weekday() order.
JA_WEEKDAYS = "月火水木金土日"
_JA_WEEKDAY = re.compile(r"\s*\(([月火水木金土日])(?:曜日?)?\)")


def split_ja_weekday(text: str) -> tuple[str, int | None]:
    """A date text (NFKC: full-width brackets already plain) without its Japanese weekday, and that weekday (0 = 月)
    or None: '2024/10/07(月) 9:30' -> ('2024/10/07 9:30', 0). The caller checks the weekday against the date."""
    m = _JA_WEEKDAY.search(text)
    if not m:
        return text, None
    after = text[m.end():].strip()
    return (text[:m.start()].strip() + (" " + after if after else "")), JA_WEEKDAYS.index(m.group(1))


def looks_like_wareki(text: str) -> bool:
    """True when the text starts like a Japanese era date (令和, 平成, 昭和, ... or R6.10.7)."""
    return bool(_WAREKI.match(ja_clock(unicodedata.normalize("NFKC", text).strip())))


def parse_wareki(text: str) -> dt.datetime:
    """A Japanese era date to a datetime: `令和6年10月7日`, `令和06年10月07日`, `令和元年5月1日`, `R6.10.7`,
    `H31/4/30`, `平成31年4月30日 9:30`. Year 1 of an era (元年) is the era's first Gregorian year.

    Raises ValueError when the text is not an era date or the day is outside the era (平成31年5月1日 is Reiwa,
    令和1年4月30日 is still Heisei): such a date is refused, never moved. Era first days: Meiji 1873-01-01
    (Gregorian calendar), Taisho 1912-07-30, Showa 1926-12-25, Heisei 1989-01-08, Reiwa 2019-05-01."""
    m = _WAREKI.match(ja_clock(unicodedata.normalize("NFKC", text).strip()))
    if not m:
        raise ValueError(text)
    era = _ERA_BY_NAME[m.group(1).upper() if len(m.group(1)) == 1 else m.group(1)]
    names = [n[0] for n, _ in ERAS]
    i = names.index(era)
    first = ERAS[i][1]
    last = ERAS[i + 1][1] - dt.timedelta(days=1) if i + 1 < len(ERAS) else None
    span = (Phrase("part_era_span", era=era, first=first.isoformat(), last=last.isoformat()) if last
            else Phrase("part_era_span_open", era=era, first=first.isoformat()))
    year_in_era = 1 if m.group(2) == "元" else int(m.group(2))
    if year_in_era < 1:
        raise DateAsWritten(Phrase("part_date_era_year_0", text=repr(text), era=era, span=span))
    month = int(m.group(3) or m.group(5))
    day = int(m.group(4) or m.group(6))
    try:
        value = dt.datetime(ERA_FIRST_YEAR[era] + year_in_era - 1, month, day,
                            int(m.group(7) or 0), int(m.group(8) or 0), int(m.group(9) or 0))
    except ValueError:
        raise DateAsWritten(Phrase("part_date_no_such_day", text=repr(text),
                                   day=f"{ERA_FIRST_YEAR[era] + year_in_era - 1}-{month:02d}-{day:02d}")) from None
    if value.date() < first or (last is not None and value.date() > last):
        raise DateAsWritten(Phrase("part_date_outside_era", text=repr(text), era=era, span=span, day=value.date().isoformat(),
                                   wareki=wareki_name(value.date())))
    return value


def wareki_name(day: dt.date) -> str:
    """A Gregorian day as its Japanese era date: 2019-05-01 -> '令和元年5月1日'."""
    era = next((names[0] for names, start in reversed(ERAS) if day >= start), None)
    if era is None:
        return "before the Gregorian calendar in Japan (1873-01-01)"
    year = day.year - ERA_FIRST_YEAR[era] + 1
    return f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"


# --------------------------------------------------------------------------- Salesforce ids
_SF_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SF_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")


def salesforce_id18(id15: str) -> str:
    """The 18-character (case-safe) form of a 15-character Salesforce id: the id plus three check characters.

    Each 5-character chunk gives one character: bit i is set when character i of the chunk is an
    uppercase letter A-Z; the 5-bit number indexes 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'. An 18-character
    id is returned as it is. Source: Salesforce Help "Id field type" / the CASESAFEID() formula."""
    if len(id15) == 18:
        return id15
    if len(id15) != 15 or not id15.isalnum():
        raise ValueError(f"not a 15-character Salesforce id: {id15!r}")
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _SF_SUFFIX[bits]
    return id15 + suffix


def salesforce_id_column(texts: list[str]) -> bool:
    """True when every value is a Salesforce id (15 alphanumerics, or 18 whose check characters agree),
    at least one holds a letter and at least one is in the 15-character form (so there is something to do)."""
    if not texts:
        return False
    for t in texts:
        if not _SF_ID.match(t):
            return False
        if len(t) == 18 and salesforce_id18(t[:15]) != t:
            return False
    return any(len(t) == 15 for t in texts) and any(c.isalpha() for t in texts for c in t)


# --------------------------------------------------------------------------- currencies written with the amount
# Symbols to ISO 4217 codes. '$' alone is read as USD (said in the summary: a Canadian or Australian export
# states its code with currency.code in the settings); '\' is cp932's yen sign.
SYMBOLS = {"¥": "JPY", "￥": "JPY", "円": "JPY", "\\": "JPY", "$": "USD", "US$": "USD", "€": "EUR", "£": "GBP",
           "₩": "KRW", "元": "CNY", "₹": "INR", "CHF": "CHF", "A$": "AUD", "C$": "CAD", "S$": "SGD", "HK$": "HKD"}
_CODE = r"[A-Za-z]{3}"   # an ISO 4217 code, in any case; only a real one (:func:`_currency_code`)
_SYM = "|".join(re.escape(s) for s in sorted(SYMBOLS, key=len, reverse=True))
_INLINE = re.compile(rf"^\(?\s*(?:(?P<pre>{_CODE}|{_SYM})\s*)?(?P<num>[-+(]?[\d.,\s]*\d[\d.,兆億万千百]*\)?)\s*(?:(?P<post>{_CODE}|{_SYM}))?\s*\)?$")


#: Minus signs other than '-': U+2212 (a typeset minus) and ▲ / △, the minus of Japanese accounts (▲500,000 = -500,000).
_MINUS = str.maketrans({"\u2212": "-", "▲": "-", "△": "-"})
_APOSTROPHE_GROUP = re.compile(r"(?<=\d)['\u2019](?=\d{3}(?!\d))")   # 1'200'000.50 (Swiss): thousands
_SIGNED_MARK = re.compile(rf"^([-+])\s*({_CODE}|{_SYM})\s*(?=\d)")     # -¥500, -$5,000.00: the sign before the currency


_BAD_SPACE_GROUP = re.compile(r"\d\s+(?!\d{3}(?!\d))\d")   # a space inside a number that does not start a group of 3


def plain_signs(text: str) -> str:
    """An amount text with its minus signs as '-' and Swiss thousands apostrophes dropped: '▲500,000' -> '-500,000',
    '−1,200' -> '-1,200', "1'200'000.50" -> '1200000.50'. Raises ValueError for a space inside the digits that is
    no thousands separator ('12 5': never read as 125; '1 200 000' is fine)."""
    if _BAD_SPACE_GROUP.search(text):
        raise ValueError(text)
    return _APOSTROPHE_GROUP.sub("", text.translate(_MINUS))


def _currency_code(mark: str, text: str) -> str:
    """A three-letter currency mark as its ISO 4217 code, in any case ('USD', 'usd', 'Eur') when its upper case is a
    code of ISO 4217 (CLDR's list via babel); other letters ('abc 100', 'JYP 100': a typo is no currency) raise
    ValueError (the cell is not an amount). The rule is the settings' (helpers.config.iso_currency_code)."""
    from helpers.config import iso_currency_code

    code = iso_currency_code(mark)
    if code is None:
        raise ValueError(text)
    return code


def currency_code_cell(text: str) -> str:
    """A currency column's cell (Salesforce `Amount Currency`) as its ISO 4217 code: a code in any case ('JPY',
    'usd': :func:`_currency_code`) or a currency sign an amount cell reads too (円, ¥, ￥, €, £, US$, A$, ...:
    :data:`SYMBOLS`), after NFKC. Raises ValueError for anything else: a name ('Yen', 'US Dollar'), a code that is none
    ('JYP'), and '$' alone (which dollar? a cell of its own says nothing more)."""
    mark = unicodedata.normalize("NFKC", text).strip()
    if mark in SYMBOLS and mark != "$":
        return SYMBOLS[mark]
    if re.fullmatch(_CODE, mark):
        return _currency_code(mark, text)
    raise ValueError(text)


def split_currency(text: str) -> tuple[str | None, str]:
    """An amount cell as (currency code or None, the number text): 'USD 10,000.00' -> ('USD', '10,000.00'),
    '£5,000' -> ('GBP', '5,000'), '1,200,000円' -> ('JPY', '1,200,000'), '900,000' -> (None, '900,000'),
    '-¥500' -> ('JPY', '-500'), '▲500,000' -> (None, '-500,000') (:func:`plain_signs`), 'usd 10,000' -> ('USD',
    '10,000') (an ISO 4217 code in any case: :func:`_currency_code`).
    Raises ValueError for text that is not an amount (two currencies, letters, ...)."""
    raw = plain_signs(text.strip())
    negative = raw.startswith("(") and raw.endswith(")")
    body = raw[1:-1].strip() if negative else raw
    signed = _SIGNED_MARK.match(body)
    if signed:   # the sign goes to the number: -¥500 = ¥-500
        body = signed.group(2) + signed.group(1) + body[signed.end():]
    m = _INLINE.match(body)
    if not m:
        raise ValueError(text)
    pre, post = m.group("pre"), m.group("post")
    if pre and post:
        raise ValueError(text)
    mark = pre or post
    code = (SYMBOLS[mark] if mark in SYMBOLS else _currency_code(mark, text)) if mark else None
    num = m.group("num").replace(" ", "")
    return code, ("-" + num.lstrip("-+") if negative else num)


# --------------------------------------------------------------------------- Japanese units of amounts (万, 億)
#: Japanese number units written after an amount: 1,200万 = 12,000,000; 1.5億 = 150,000,000; 2億5千万 = 250,000,000.
#: 万, 億 and 兆 are groups of four digits (a coefficient before each); 千 multiplies the coefficient it follows
#: (5千万 = 5,000 x 10^4, 500千円 = 500,000). Never guessed: they are what the characters mean.
JA_UNITS = {"兆": 10 ** 12, "億": 10 ** 8, "万": 10 ** 4}
_COEF = r"(\d[\d,]*(?:\.\d+)?)([千百])?"
_JA_AMOUNT = re.compile(rf"^([-+]?)(?:{_COEF}兆)?(?:{_COEF}億)?(?:{_COEF}万)?(?:{_COEF})?$")
_UNIT_CHARS = re.compile("[兆億万千百]")


def has_ja_unit(text: str) -> bool:
    """True when an amount text holds a Japanese unit (万, 億, 兆, 千 or 百)."""
    return bool(_UNIT_CHARS.search(text))


def parse_ja_units(text: str):
    """An amount written with Japanese units as an exact Decimal: '1,200万' -> 12000000, '1.5億' -> 150000000,
    '2億5千万' -> 250000000, '1億2,000万' -> 120000000, '500千' -> 500000, '12万3,456' -> 123456, '2.5百万' -> 2500000 (百 multiplies like 千).

    `text` is the number alone (currency signs such as 円 removed first; see :func:`split_currency`), NFKC.
    Commas are thousands separators. Raises ValueError for anything else (units out of order, 万万, no digit)."""
    from decimal import Decimal, InvalidOperation

    m = _JA_AMOUNT.match(text.replace(" ", ""))
    if not m or not any(m.group(i) for i in (2, 4, 6, 8)):
        raise ValueError(text)
    total = Decimal(0)
    for i, scale in ((2, 10 ** 12), (4, 10 ** 8), (6, 10 ** 4), (8, 1)):
        coef, thousand = m.group(i), m.group(i + 1)
        if coef is None:
            continue
        if not re.fullmatch(r"\d{1,3}(?:,\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?", coef):
            raise ValueError(text)
        try:
            value = Decimal(coef.replace(",", ""))
        except InvalidOperation:
            raise ValueError(text) from None
        total += value * {"千": 1000, "百": 100, None: 1}[thousand] * scale
    return -total if m.group(1) == "-" else total


# --------------------------------------------------------------------------- decimal comma or point
_THOUSANDS_POINT = re.compile(r"^[-+]?\d{1,3}(?:\.\d{3})+$")   # 1.500 / 12.000.000: thousands or decimals?
_THOUSANDS_COMMA = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+$")    # 1,500
_INDIAN_GROUPS = re.compile(r"^[-+]?\d{1,2}(?:,\d{2})+,\d{3}$")  # 12,00,000 (India: lakh groups): thousands, never decimals


def decimal_evidence(number: str) -> str | None:
    """Which decimal mark a number text proves: ',' for '12.000,00', '8000,5', '1,25'; '.' for '1,200.50',
    '12.5', '1200.125'; None when it proves nothing (no separator, or only '1.500' / '1,500' groups)."""
    s = number.strip().lstrip("+-")
    if has_ja_unit(s):  # 1,200万: each group's digits prove what they prove on their own
        marks = {decimal_evidence(part) for part in _UNIT_CHARS.split(s) if part} - {None}
        return marks.pop() if len(marks) == 1 else None
    has_p, has_c = "." in s, "," in s
    if has_p and has_c:
        return "," if s.rfind(",") > s.rfind(".") else "."
    if has_c:
        if _THOUSANDS_COMMA.match(s) or _INDIAN_GROUPS.match(s):
            return None
        return ","
    if has_p:
        if _THOUSANDS_POINT.match(s):
            return None
        return "."
    return None


def is_ambiguous_point(number: str) -> bool:
    """'1.500' / '12.000' (a point followed by groups of three digits): 1.5 or 1500 depending on the locale."""
    return bool(_THOUSANDS_POINT.match(number.strip()))


# --------------------------------------------------------------------------- values Excel destroyed
_SCIENTIFIC = re.compile(r"^[-+]?\d(?:[.,]\d+)?[Ee][+]\d{1,3}$")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_EXCEL_DATE_TEXT = re.compile(
    rf"^(?:\d{{1,2}}[-\s](?:{_MONTHS})(?:[-\s]\d{{2,4}})?|(?:{_MONTHS})[-\s]\d{{2,4}}|\d{{1,2}}月\d{{1,2}}日"
    r"|\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:[ T]00:00(?::00)?)?|\d{1,2}/\d{1,2}/\d{2,4})$", re.IGNORECASE)
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")


def is_scientific(text: str) -> bool:
    """'1.23457E+11': a number Excel displayed (and saved) in scientific notation, its digits rounded away."""
    return bool(_SCIENTIFIC.match(text.strip()))


def looks_like_excel_date(text: str) -> bool:
    """A category such as a company-size range ('1-10', '11/50') that Excel turned into a date:
    '10-Jan', 'Jan-50', '2025-01-10', '1/10/2025', '1月10日', or a serial day number such as 45667."""
    t = text.strip()
    return bool(_EXCEL_DATE_TEXT.match(t) or _SERIAL.match(t))


#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralize_cell(value):
    """A text cell safe to open in a spreadsheet: a leading `'` before =, +, -, @, tab or CR (OWASP).

    Plain numbers (`-5`, `+1.5e3`) and a lone `-` are left alone (no formula), as is anything
    that is not text. `helpers.data.load` removes the apostrophe again when reading (round trip).
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and value != "-" and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralize_text_columns(frame, table_name: str):
    """`frame` with neutralize_cell applied to every column that is not a date or number column of the contract table."""
    from helpers.data.schema import TABLES

    typed = {c.name for c in TABLES[table_name].columns if c.kind not in ("text", "category")} if table_name in TABLES else set()
    return frame.assign(**{str(c): frame[c].map(neutralize_cell) for c in frame.columns if c not in typed})


def unneutralize_cell(value):
    """Undo neutralize_cell: drop a leading `'` that precedes a formula character."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value
