"""A warehouse's date and number columns read as a data folder's parse reads their cells (helpers.data.parse), in SQL.

- Dates and datetimes (:func:`datetime_value`): text of ISO_DATE_PATTERN's shapes is cast to a timestamp; text that
  ends in a UTC offset (OFFSET_PATTERN: 2025-04-01T23:30:00-05:00, Z, +0900, +09) and a column typed as a timestamp
  WITH time zone are converted to the clock time of the settings' time zone (naive), as the folder converts an offset
  written in a cell (a Parquet column with a time zone reaches the folder as such text). Without the conversion a cast
  keeps the clock time as written (text) or the session's time zone (a timestamptz column), and a day could differ
  from the folder's. PostgreSQL and DuckDB convert with their ``timezone(zone, timestamptz)`` (DuckDB's from its ICU
  extension, built into the Python package: no download).
- Numbers (:func:`number_value`): plain numbers (NUMBER_PATTERN) cast to a float, amounts with a Japanese unit
  (1,200万円, 1.5億, 2億5千万, 500千円: :data:`JA_AMOUNT_PATTERN`, helpers.data.values.parse_ja_units' rule) computed
  from their groups; a number a float cannot hold (:func:`out_of_float_range`: 1e309, which overflows to inf, or
  1e-400, which underflows to 0) is null, as the folder refuses both (bad_number), never cast (PostgreSQL's cast
  stops the query there).

Every expression is Ibis, the same SQL on both backends; text that is none of these is null (helpers.metrics.
warehouse_cells.value_findings refuses it first).
"""
from __future__ import annotations

from helpers.data.parse import ISO_DATE_PATTERN, NUMBER_PATTERN, OFFSET_PATTERN
from helpers.data.schema import TABLES

#: The significant digits of the smallest number that rounds to inf (2^1024 - 2^970, the midpoint between the largest
#: double and 2^1024; ties go to even, which is inf) and of the largest that rounds to 0 (2^-1075 = 5^1075 / 10^1075):
#: a decimal 0.d x 10^E overflows when E > 309 or E = 309 and d >= OVERFLOW_DIGITS, underflows to 0 when E < -323 or
#: E = -323 and d <= UNDERFLOW_DIGITS (Python's float, pandas and the warehouses all round correctly).
OVERFLOW_DIGITS, OVERFLOW_EXP = str(2 ** 1024 - 2 ** 970), 309
UNDERFLOW_DIGITS, UNDERFLOW_EXP = str(5 ** 1075), -323

#: Full-width forms NFKC folds to the characters of a Japanese amount (the folder normalizes a cell with NFKC first).
FULL_WIDTH = ("０１２３４５６７８９，．－＋\u3000", "0123456789,.-+ ")
#: A coefficient as parse_ja_units accepts it (1,200 / 1200 / 1.5), optionally times 千.
_COEF = "([0-9]{1,3}(,[0-9]{3})*([.][0-9]+)?|[0-9]+([.][0-9]+)?)千?"
#: An amount with Japanese units as the folder reads it, after NFKC, trimming, one trailing 円 and spaces removed:
#: a sign, then coefficients before 兆, 億, 万 in that order and a last one without a unit, at least one unit.
JA_AMOUNT_PATTERN = f"^[-+]?({_COEF}兆)?({_COEF}億)?({_COEF}万)?({_COEF})?$"
JA_UNITS = (("兆", 12), ("億", 8), ("万", 4), ("", 0))


def _timezone():
    """The backends' ``timezone(zone, timestamptz)``: the naive clock time of a moment in `zone`."""
    import ibis
    import ibis.expr.datatypes as dt

    def timezone(zone, ts):
        """PostgreSQL's and DuckDB's (ICU) timezone()."""

    return ibis.udf.scalar.builtin(timezone, signature=((dt.string, dt.Timestamp(timezone="UTC")), dt.timestamp))


def text_cells(column):
    """`column` as a cell's text: trimmed, empty = null (helpers.metrics.warehouse_cells' reading)."""
    import ibis

    text = column.cast("string").strip()
    return ibis.ifelse(text == "", ibis.null().cast("string"), text)


def datetime_value(column, timezone: str):
    """A date or datetime column as naive timestamps in `timezone`'s clock time (see the module): text with a UTC
    offset and a timestamp with a time zone converted, other ISO text cast, text of no ISO shape null."""
    import ibis
    import ibis.expr.datatypes as dt

    kind = column.type()
    if kind.is_timestamp() and kind.timezone is not None:
        return _timezone()(timezone, column)
    if not kind.is_string():
        return column
    text = text_cells(column)
    iso = text.re_search(ISO_DATE_PATTERN).fill_null(False)
    offset = iso & text.re_search(OFFSET_PATTERN).fill_null(False)
    written = text.re_replace(" (Z|[+-][0-9]{2}(:?[0-9]{2})?)$", "\\1")   # DuckDB reads no space before the offset
    return ibis.cases((offset, _timezone()(timezone, written.cast(dt.Timestamp(timezone="UTC")))),
                      (iso, text.cast("timestamp")), else_=ibis.null("timestamp"))


def out_of_float_range(text):
    """Boolean: text of NUMBER_PATTERN a float cannot hold: it overflows to inf or a nonzero value underflows to 0
    (:data:`OVERFLOW_DIGITS`). From the text's digits and exponent, never a cast."""
    import ibis

    body = text.re_replace("^[+-]", "")
    mantissa = body.re_replace("[eE].*$", "")
    digits = mantissa.replace(".", "")
    leading = digits.length() - digits.re_replace("^0+", "").length()
    significant = digits.re_replace("^0+", "").re_replace("0+$", "")
    exp_text = ibis.ifelse(body.re_search("[eE]"), body.re_replace("^.*[eE]", ""), "0")
    negative = exp_text.startswith("-")
    exp_digits = exp_text.re_replace("^[+-]?0*", "")
    huge = exp_digits.length() > 6   # |exponent| of a million or more: beyond either end whatever the digits
    exp = ibis.ifelse(huge | (exp_digits == ""), "0", exp_digits).cast("int64")
    scale = mantissa.re_replace("[.].*$", "").length() - leading + ibis.ifelse(negative, -exp, exp)   # value = 0.d x 10^scale

    def head(n: int):   # the first n significant digits, padded with zeros: equal lengths compare alike on every collation
        return significant.substr(0, n).rpad(n, "0")

    over = (huge & ~negative) | (~huge & ((scale > OVERFLOW_EXP) |
                                          ((scale == OVERFLOW_EXP) & (head(len(OVERFLOW_DIGITS)) >= OVERFLOW_DIGITS))))
    n = len(UNDERFLOW_DIGITS)
    at_floor = (head(n) < UNDERFLOW_DIGITS) | ((head(n) == UNDERFLOW_DIGITS) & (significant.length() <= n))
    under = (huge & negative) | (~huge & ((scale < UNDERFLOW_EXP) | ((scale == UNDERFLOW_EXP) & at_floor)))
    return (significant != "") & (over | under)


def ja_amount_text(text):
    """Text `text` (trimmed) as the folder hands it to parse_ja_units: full-width forms folded, one trailing 円 and
    spaces removed (helpers.data.parse._ja_amount)."""
    folded = text.translate(*FULL_WIDTH).strip()
    return folded.re_replace("円$", "").strip().replace(" ", "")


def is_ja_amount(text):
    """Boolean: text (trimmed) that the folder reads as an amount with a Japanese unit (1,200万円)."""
    amount = ja_amount_text(text)
    return (text.re_search("[兆億万千]") & amount.re_search(JA_AMOUNT_PATTERN) & amount.re_search("[0-9]")).fill_null(False)


def ja_amount_value(text):
    """The float of an amount with Japanese units (:func:`is_ja_amount`): each group's coefficient shifted by its unit
    as text (1,200万 -> '1200e4', 5千万 -> '5e7') and cast, the groups added. Equal to the folder's exact Decimal sum
    rounded once whenever the groups are whole numbers below 2^53 (every amount in yen); a fraction of a yen in two
    groups could round differently in the last bit."""
    import ibis

    amount = ja_amount_text(text)
    total = None
    for unit, power in JA_UNITS:
        group = amount.re_extract(f"([0-9.,]+千?){unit}$" if not unit else f"([0-9.,]+千?){unit}", 1).fill_null("")
        shifted = group.replace(",", "").replace("千", "") + "e" + ibis.ifelse(group.endswith("千"), str(power + 3), str(power))
        term = ibis.ifelse(group == "", "0", shifted).cast("float64")
        total = term if total is None else total + term
    return ibis.ifelse(amount.startswith("-"), -total, total)


def number_value(column):
    """A number column as float64, as the folder reads its cells (see the module); text that is no number, or one a
    float cannot hold, null; a float's NaN null (as a folder reads a Parquet column's NaN: an empty cell) and its
    infinities null (refused first: helpers.metrics.warehouse_cells.value_findings)."""
    import ibis

    if not column.type().is_string():
        value = column.cast("float64")
        if column.type().is_integer():
            return value
        return ibis.ifelse(value.isnan() | value.isinf(), ibis.null("float64"), value)
    text = text_cells(column)
    plain = text.re_search(NUMBER_PATTERN).fill_null(False)
    return ibis.cases((plain & ~out_of_float_range(text), text.cast("float64")), (plain, ibis.null("float64")),
                      (is_ja_amount(text), ja_amount_value(text)), else_=ibis.null("float64"))


def typed_table(t, name: str, timezone: str):
    """Warehouse table `t` (canonical table `name`) with its date, datetime and number columns of the contract read as
    a folder's (:func:`datetime_value`, :func:`number_value`); every other column as it is."""
    kinds = {c.name: c.kind for c in TABLES[name].columns} if name in TABLES else {}
    typed = {}
    for column in t.columns:
        kind = kinds.get(column)
        if kind in ("date", "datetime"):
            typed[column] = datetime_value(t[column], timezone)
        elif kind == "number" and column != "target":
            typed[column] = number_value(t[column])
    return t.mutate(**typed) if typed else t


def typed_tables(tables: dict, timezone: str) -> dict:
    """{canonical name: :func:`typed_table`} of `tables` ({canonical name: warehouse table})."""
    return {name: typed_table(t, name, timezone) for name, t in tables.items()}
