"""Display formatting of figures (money in the workbook currency, rates as percents); null shows as n/a."""
from __future__ import annotations

import math

from helpers.config import Config
from helpers.labels import t


def _is_null(value) -> bool:
    """None, NaN, NaT or pd.NA (an Int64 column's missing value): shown as n/a, never as text like <NA>."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if pd.api.types.is_scalar(value) else False
    except (TypeError, ValueError):
        return False


def money(value, config: Config) -> str:
    """Money in the workbook currency with its decimals: ¥1,234,568 (JPY, 0 decimals)."""
    if _is_null(value):
        return t("not_available", config.language)
    sign = "-" if value < 0 else ""
    return f"{sign}{config.currency_symbol}{abs(value):,.{config.currency_decimals}f}"


def rate(value, lang: str = "en", decimals: int = 1) -> str:
    """A fraction shown as a percent: 0.1774 -> 17.7%."""
    if _is_null(value):
        return t("not_available", lang)
    return f"{value * 100:.{decimals}f}%"


def number(value, lang: str = "en", decimals: int = 0) -> str:
    """A count or measure with thousands separators: 1234.5 -> 1,234 (decimals=0)."""
    if _is_null(value):
        return t("not_available", lang)
    return f"{value:,.{decimals}f}"


def points(diff, lang: str = "en") -> str:
    """A change of a rate (after − before, as fractions) in percentage points: 0.021 -> +2.1 pt.

    One decimal, more (up to 4) while one decimal would round a real change to 0 (17.46% vs 17.44%
    reads +0.02 pt, never +0.0 pt); an exact 0 reads "no change" (label ``no_change``); null reads n/a.
    """
    if _is_null(diff):
        return t("not_available", lang)
    value = float(diff) * 100
    if abs(value) < 1e-9:
        return t("no_change", lang)
    decimals = 1
    while decimals < 4 and round(abs(value), decimals) == 0:
        decimals += 1
    return f"{value:+.{decimals}f} {t('unit_points', lang)}"
