"""Fiscal periods (contract section 2).

A period is a fiscal quarter of the configured fiscal calendar, inclusive of
both its start and end dates. With ``fiscal_year_start_month == 1`` quarters are
calendar quarters labelled ``2025Q3``; with any other start month the label is
``FY2025Q1`` where the fiscal year is named by the calendar year it *starts*
in (the Japanese convention: FY2025Q1 = April-June 2025). pandas' ``Q-MAR``
frequency names the same quarter ``2026Q1`` (by the year the fiscal year ends
in), so this module never uses pandas' fiscal period names.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from helpers.errors import WorkbookError, coded_error

_LABEL = re.compile(r"^(?P<fy>FY)?(?P<year>\d{4})Q(?P<q>[1-4])$")
#: A period label written another way (after NFKC: full-width letters and digits made plain): lower case, spaces or
#: a dash between its parts, a two-digit year, 1Q for Q1, the Japanese 2024年度第1四半期 (年度: a fiscal year) or
#: 2025年第1四半期 (年: a calendar year).
_NEAR = re.compile(r"^(?P<fy>FY)?[\s\-_/.]*(?P<year>\d{4}|\d{2})(?P<nendo>年度|年)?[\s\-_/.]*第?"
                   r"(?:Q(?P<q>[1-4])|(?P<qj>[1-4])\s*(?:四半期|Q))$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Period:
    """One fiscal quarter: [start, end], both dates inclusive."""

    start: pd.Timestamp
    end: pd.Timestamp
    fiscal_year: int
    quarter: int
    fiscal_year_start_month: int = 1

    @property
    def label(self) -> str:
        """`2025Q3` for calendar quarters, `FY2025Q1` for other fiscal calendars."""
        prefix = "" if self.fiscal_year_start_month == 1 else "FY"
        return f"{prefix}{self.fiscal_year}Q{self.quarter}"

    @property
    def days(self) -> int:
        """Number of days in the period, both ends included."""
        return (self.end - self.start).days + 1

    def contains(self, when) -> bool:
        """True when the date lies in [start, end]."""
        day = pd.Timestamp(when).normalize()
        return self.start <= day <= self.end

    def shift(self, quarters: int) -> "Period":
        """The period `quarters` quarters later (negative: earlier)."""
        index = self.fiscal_year * 4 + (self.quarter - 1) + quarters
        return make_period(index // 4, index % 4 + 1, self.fiscal_year_start_month)

    def __str__(self) -> str:
        return self.label


def _check_start_month(fiscal_year_start_month: int) -> None:
    if not isinstance(fiscal_year_start_month, int) or not 1 <= fiscal_year_start_month <= 12:
        raise coded_error("fiscal_start_month", None, value=repr(fiscal_year_start_month))


def make_period(fiscal_year: int, quarter: int, fiscal_year_start_month: int = 1) -> Period:
    """The quarter `quarter` (1-4) of fiscal year `fiscal_year` (named by its start year)."""
    _check_start_month(fiscal_year_start_month)
    if quarter not in (1, 2, 3, 4):
        raise coded_error("quarter_range", None, value=repr(quarter))
    first_month = fiscal_year_start_month - 1 + 3 * (quarter - 1)  # months after January of fiscal_year
    start = pd.Timestamp(year=fiscal_year + first_month // 12, month=first_month % 12 + 1, day=1)
    end = (start + pd.DateOffset(months=3)) - pd.Timedelta(days=1)
    return Period(start, end, fiscal_year, quarter, fiscal_year_start_month)


def period_of(when, fiscal_year_start_month: int = 1) -> Period:
    """The fiscal quarter that contains the date `when`."""
    _check_start_month(fiscal_year_start_month)
    day = pd.Timestamp(when)
    months_into_fy = (day.month - fiscal_year_start_month) % 12
    fiscal_year = day.year if day.month >= fiscal_year_start_month else day.year - 1
    return make_period(fiscal_year, months_into_fy // 3 + 1, fiscal_year_start_month)


def parse_period(label: str, fiscal_year_start_month: int = 1) -> Period:
    """Resolve a label (`2025Q3`, `FY2025Q1`) to its period under the configured fiscal calendar; WorkbookError for
    anything else: the coded error period_calendar (:func:`label_hint`) when the label is one written another way
    (``fy2024q1``, ``FY24Q1``, ``2025 Q1``) or of the other calendar, saying the label to write."""
    _check_start_month(fiscal_year_start_month)
    match = _LABEL.match(str(label).strip())
    if not match:
        hint = label_hint(label, fiscal_year_start_month)
        if hint is not None:
            raise coded_error("period_calendar", str(label).strip(), hint[0], **hint[1])
        example = "2025Q3" if fiscal_year_start_month == 1 else "FY2025Q1"
        raise coded_error("not_a_period", None, label=label, example=example)
    is_fy = match.group("fy") is not None
    if is_fy != (fiscal_year_start_month != 1):
        variant, params = other_calendar_hint(int(match.group("year")), int(match.group("q")), is_fy, fiscal_year_start_month)
        raise coded_error("period_calendar", str(label).strip(), variant, **params)
    return make_period(int(match.group("year")), int(match.group("q")), fiscal_year_start_month)


def near_label(label) -> tuple[int, int, bool] | None:
    """(year, quarter, is_fy) of a period label written another way than ``2025Q1`` / ``FY2025Q1`` (:data:`_NEAR`:
    ``FY2024 Q1``, ``fy2024q1``, ``FY24Q1`` (a two-digit year is 20xx), ``2025 Q1``, ``2024年度第1四半期``), or of a
    well-written one; None for anything else."""
    match = _NEAR.match(unicodedata.normalize("NFKC", str(label)).strip())
    if match is None:
        return None
    year = int(match.group("year"))
    return (year + 2000 if year < 100 else year, int(match.group("q") or match.group("qj")),
            match.group("fy") is not None or match.group("nendo") == "年度")


def label_hint(label, fiscal_year_start_month: int) -> tuple[str, dict] | None:
    """What to say of a label that is not a period of the configured calendar, as (variant, params) of the coded
    errors period_calendar and bad_period: ``near`` with the label to write (``{typed, label, start, end, fy, style}``)
    for the configured calendar's label written another way (:func:`near_label`); the other calendar's hint
    (:func:`other_calendar_hint`, with ``typed``) for a label of the other calendar; None for no label at all."""
    from helpers.errors import Phrase

    near = near_label(label)
    if near is None:
        return None
    year, quarter, is_fy = near
    if is_fy != (fiscal_year_start_month != 1):
        variant, params = other_calendar_hint(year, quarter, is_fy, fiscal_year_start_month)
        return variant, {**params, "typed": str(label).strip()}
    p = make_period(year, quarter, fiscal_year_start_month)
    style = Phrase("part_period_style_calendar" if fiscal_year_start_month == 1 else "part_period_style_fiscal")
    return "near", {"typed": str(label).strip(), "label": p.label, "start": f"{p.start:%Y-%m}", "end": f"{p.end:%Y-%m}",
                    "fy": fiscal_year_start_month, "style": style}


def other_calendar_hint(year: int, quarter: int, is_fy: bool, fiscal_year_start_month: int) -> tuple[str, dict]:
    """What to say of a label of the other calendar (``FY<year>Q<quarter>`` when `is_fy`, else ``<year>Q<quarter>``):
    ``("same_months", {fy, same, start, end})`` when the configured calendar has a quarter of the same three months
    (2026Q3 = FY2026Q2 with an April year); ``("fy_label", {..., same, typed, april_start, april_end})`` for an FY label
    under calendar quarters (the calendar quarter of its months in an April fiscal year: FY2025Q1 = 2025Q2); else the style of the configured calendar (:func:`style_example`:
    variant "calendar" or "fiscal"). The variants of the coded errors period_calendar and bad_period."""
    if not is_fy:
        months = make_period(year, quarter, 1)
        same = period_of(months.start, fiscal_year_start_month)
        if same.start == months.start:
            return "same_months", {"fy": fiscal_year_start_month, "same": same.label,
                                   "start": f"{months.start:%Y-%m}", "end": f"{months.end:%Y-%m}"}
    elif fiscal_year_start_month == 1:   # an FY label under calendar quarters: its months in an April year (Japan's)
        april = make_period(year, quarter, 4)
        return "fy_label", {**style_example(year, quarter, 1), "same": period_of(april.start, 1).label,
                            "typed": f"FY{year}Q{quarter}", "april_start": f"{april.start:%Y-%m}", "april_end": f"{april.end:%Y-%m}"}
    return ("calendar" if is_fy else "fiscal"), style_example(year, quarter, fiscal_year_start_month)


def style_example(year: int, quarter: int, fiscal_year_start_month: int) -> dict:
    """The label of the configured calendar written with the SAME year and quarter numbers as a label of the other
    calendar, and its months: an example of the style, never a conversion (FY2026Q2 under calendar quarters is no
    quarter at all; 2026Q2 is shown as the style, with its own months, April to June 2026). Params of the coded
    error period_calendar: ``{fy, example, start, end}``."""
    p = make_period(year, quarter, fiscal_year_start_month)
    return {"fy": fiscal_year_start_month, "example": p.label, "start": f"{p.start:%Y-%m}", "end": f"{p.end:%Y-%m}"}


def periods_between(first, last, fiscal_year_start_month: int = 1) -> list[Period]:
    """Every period from the one containing `first` to the one containing `last`, in order."""
    current = period_of(first, fiscal_year_start_month)
    stop = period_of(last, fiscal_year_start_month)
    out = []
    while current <= stop:
        out.append(current)
        current = current.shift(1)
    return out


def latest_period(first_date, as_of, fiscal_year_start_month: int = 1, last_date=None) -> tuple[Period, bool]:
    """The default period and whether it is complete: the latest complete period (:func:`complete_periods`) that
    does not start after the data's last record date `last_date` (None: not known), else the period holding the
    earlier of as_of and `last_date` (covered in part). One rule for the runner, the notebooks and the lab's panel:
    never a period after the data's end, which the runner's --period refuses."""
    last = None if last_date is None or pd.isna(last_date) else pd.Timestamp(last_date).normalize()
    complete = [p for p in complete_periods(first_date, as_of, fiscal_year_start_month) if last is None or p.start <= last]
    if complete:
        return complete[-1], True
    end = pd.Timestamp(as_of) if last is None else min(pd.Timestamp(as_of), last)
    return period_of(end, fiscal_year_start_month), False


def complete_periods(first_date, as_of, fiscal_year_start_month: int = 1) -> list[Period]:
    """Periods wholly covered by the data: start >= the first data date and end <= as_of."""
    if first_date is None or pd.isna(first_date) or as_of is None or pd.isna(as_of):
        return []
    first, last = pd.Timestamp(first_date).normalize(), pd.Timestamp(as_of).normalize()
    return [p for p in periods_between(first, last, fiscal_year_start_month) if p.start >= first and p.end <= last]
