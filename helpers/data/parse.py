"""A table's text cells typed by the data contract, and the findings about its columns (contract section 1).

The exact reader (helpers.data.rawread) and the fast one (helpers.data.fastcsv) type every column with
:func:`parse_cells` and report its unparseable and missing values with :func:`column_findings`, so both give the same
typed tables and messages; :func:`missing_columns` names the required columns a file lacks (with the closest header,
or the shipped mapping canonical_ja when the headers are the data dictionary's Japanese names). Pure functions of the
cells: no file is read here. Moved out of helpers.data.load, which still exports every public name.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.config import Config
from helpers.data.schema import TABLES, Column, Table, department_key, meaning, target_label_key
from helpers.data.validate import coded
from helpers.errors import Finding, Phrase, error
from helpers.labels import t

ANSWER_VALUES = {"yes": 1.0, "partial": 0.5, "no": 0.0, "はい": 1.0, "一部": 0.5, "いいえ": 0.0,
                 "1": 1.0, "0.5": 0.5, "0": 0.0, "1.0": 1.0, "0.0": 0.0}
#: A UTC offset at the end of an ISO datetime, after its time (Z, +09:00, -0500, +09; a date's own -10 is no offset),
#: as a regular expression both backends run: the folder's parse converts such cells to the configured time zone
#: (an offset left in the plain branch made pandas raise, mixed time zones, not a finding); a warehouse converts them
#: the same way in its SQL (helpers.metrics.warehouse_values.datetime_value), where a plain cast would drop the offset.
OFFSET_PATTERN = "[0-9]:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)? ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def _cell_text(v) -> str | None:
    """A cell as stripped text (dates from Excel/Parquet as ISO text); None when empty."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    text = v.isoformat() if hasattr(v, "isoformat") else str(v).strip()
    return text or None


def _texts(raw: pd.Series) -> pd.Series:
    """Every cell as stripped text, None when empty (:func:`_cell_text`), vectorized when the cells are text (CSV)."""
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        text = raw.astype("string").str.strip()
        text = text.mask(text.eq(""))
        return text.astype(object).where(text.notna(), None)
    return pd.Series([_cell_text(v) for v in raw], index=raw.index, dtype=object)


def _parse_datetime(raw: pd.Series, timezone: str) -> pd.Series:
    """ISO dates/datetimes to naive local datetime64; values with an offset are converted to `timezone`.

    Only cells matching ISO_DATE_PATTERN are parsed (RE2, the warehouse's rule): others, such as 2025, 2025-04,
    20250401 or 2025/04/01, which pandas' ISO8601 parse would read as a guessed day, become NaT (``bad_date``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _texts(raw)
    cells = pa.array(text, type=pa.string(), from_pandas=True)

    def matches(pattern: str):
        return pc.fill_null(pc.match_substring_regex(cells, pattern), False).to_numpy(zero_copy_only=False)

    present = text.notna().to_numpy() & matches(ISO_DATE_PATTERN)
    offset = present & matches(OFFSET_PATTERN)  # RE2, as in the warehouse
    plain = present & ~offset
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if plain.any():
        out[plain] = _in_range(pd.to_datetime(text[plain], format="ISO8601", errors="coerce"))
    if offset.any():
        aware = pd.to_datetime(text[offset], format="ISO8601", errors="coerce", utc=True)
        out[offset] = _in_range(aware.dt.tz_convert(timezone).dt.tz_localize(None))
    return out


#: The dates the workbook can compute with (pandas' nanosecond range, whole days); others are refused.
DATE_RANGE = (pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31"))


def _in_range(parsed: pd.Series) -> pd.Series:
    """Naive datetimes as datetime64[ns]; values outside DATE_RANGE become NaT (reported as invalid dates)."""
    inside = parsed.notna() & (parsed >= DATE_RANGE[0]) & (parsed < DATE_RANGE[1] + pd.Timedelta(days=1))
    return parsed.where(inside).astype("datetime64[ns]")


def _parse_number(raw: pd.Series) -> pd.Series:
    """Plain numbers, and amounts with a Japanese unit (1,200万円, 1.5億円: :func:`_ja_amount`); others -> NaN, as are
    numbers a float cannot hold (1e309 overflows to inf, 1e-400 underflows to 0; helpers.metrics.warehouse_values
    decides both from a warehouse's text the same way)."""
    texts = _texts(raw)
    parsed = pd.to_numeric(texts, errors="coerce").astype("float64")
    unit = (parsed.isna() & texts.astype("string").str.contains("[万億兆千]", regex=True).fillna(False)).to_numpy(dtype=bool)
    if unit.any():
        parsed[unit] = [_ja_amount(t) for t in texts[unit]]
    tiny = (parsed.eq(0) & texts.astype("string").str.contains("^[+-]?[0-9.]*[1-9]", regex=True).fillna(False)).to_numpy(dtype=bool)
    parsed[tiny] = np.nan   # 1e-400 underflows to 0: refused (a nonzero amount read as 0), as a warehouse refuses it
    return parsed.where(np.isfinite(parsed))  # inf, -inf, 1e309: refused by the caller like any bad number


def _ja_amount(text: str) -> float:
    """'1,200万円' -> 12000000.0, '1.5億' -> 150000000.0 (helpers.data.values.parse_ja_units; an optional 円 after
    the number, nothing else); NaN when the text is not such an amount."""
    import unicodedata

    from helpers.data.values import parse_ja_units

    try:
        return float(parse_ja_units(unicodedata.normalize("NFKC", text).strip().removesuffix("円").strip()))
    except ValueError:
        return float("nan")


def _parse_column(raw: pd.Series, kind: str, timezone: str) -> pd.Series:
    """Parse one column of text cells into its contract type (unparseable -> null, caught by the caller)."""
    if kind in ("date", "datetime"):
        parsed = _parse_datetime(raw, timezone)
        return parsed.dt.normalize() if kind == "date" else parsed
    if kind in ("number", "int"):
        return _parse_number(raw)
    if kind == "month":
        text = _texts(raw).astype("string")
        ok = (text.str.len().isin((7, 10, 19)) & text.str[:7].str.fullmatch(r"\d{4}-\d{2}")).fillna(False).astype(bool)
        out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
        if ok.any():  # 2025-13 and years outside DATE_RANGE become NaT (refused by the caller)
            out[ok] = _in_range(pd.to_datetime(text[ok].str[:7] + "-01", format="%Y-%m-%d", errors="coerce"))
        return out
    from helpers.data.values import unneutralize_cell  # the apostrophe the workbook puts before =, +, -, @ (CSV injection)

    return _texts(raw).map(unneutralize_cell).astype("str")


FIX_DATE = t("fix_bad_date")

#: A valid date in the shapes FIX_DATE names, as a regular expression a warehouse can run (PostgreSQL's ``~``, DuckDB's
#: regexp_matches, RE2): YYYY-MM-DD, a real day of a month (29 February in leap years only), years 1678-2261
#: (DATE_RANGE), optionally a time T or space HH:MM[:SS[.fraction]] (00:00-23:59:59) and a UTC offset (Z, +09:00,
#: -0500, +09). The one rule of text dates on both backends: the folder's parse reads only cells that match it
#: (:func:`_parse_datetime`) and a warehouse checks its text dates with it before any cast, since PostgreSQL has no
#: TRY_CAST (helpers.metrics.warehouse_cells.value_findings); 2025, 2025-04, 20250401 and 2025/04/01 are bad_date on both.
_YEAR = "(167[89]|16[89][0-9]|1[7-9][0-9][0-9]|20[0-9][0-9]|21[0-9][0-9]|22[0-5][0-9]|226[01])"
_LEAP_YEAR = ("(16(8[048]|9[26])|1[7-9](0[48]|[2468][048]|[13579][26])|2000|2[01](0[48]|[2468][048]|[13579][26])"
              "|22(0[48]|[24][048]|[135][26]|60))")
_MONTH_DAY = "((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
_TIME = "([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]+)?)?( ?(Z|[+-][0-9]{2}(:?[0-9]{2})?))?)?"
ISO_DATE_PATTERN = f"^({_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29){_TIME}$"
#: A plain number as FIX_NUMBER writes it (1200000, -3, .5, 1e5), as a regular expression a warehouse can run: what
#: the folder's parse (:func:`_parse_number`) reads but the Japanese units (1,200万円) and the numbers a float cannot
#: hold (1e309, 1e-400), which a warehouse reads and refuses by helpers.metrics.warehouse_values' own expressions;
#: never inf or nan, which the folder refuses too.
NUMBER_PATTERN = "^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"
FIX_NUMBER = t("fix_bad_number")


#: The targets columns read by their keys or the label table's display names (schema.target_label_key).
TARGET_LABEL_COLUMNS = tuple(c for c in TABLES["targets"].columns if c.name in ("metric", "department"))


def parse_cells(col: Column, cells: pd.Series, timezone: str) -> tuple[pd.Series, pd.Series]:
    """One column's cells (text, or Excel/Parquet values) typed by its contract kind: ``(parsed, present)``.

    `parsed` is the typed column (unparseable -> null); `present` (bool) marks the cells that are not empty
    after trimming. Element-wise: the same cell gives the same result wherever it is (the fast CSV reader,
    read_csv_typed, parses each distinct cell once with this function)."""
    texts = _texts(cells)
    present = texts.notna().astype(bool)
    if col.name == "answer":
        return texts.astype("string").str.lower().map(ANSWER_VALUES).astype("float64"), present
    parsed = _parse_column(texts, col.kind, timezone)
    if col.name == "outcome":
        parsed = parsed.str.lower()
    elif col in TARGET_LABEL_COLUMNS:   # 受注金額 -> won_revenue, 共通 -> shared: the goals report's own words
        parsed = parsed.map(lambda v: v if pd.isna(v) else target_label_key(v, col.name)).astype(parsed.dtype)
    elif col.name == "department":  # 営業, Sales, マーケ ... -> sales / marketing (schema.DEPARTMENT_SYNONYMS)
        parsed = pd.Series([department_key(v) for v in parsed], index=parsed.index, dtype=object).astype("str")
    return parsed, present


def column_findings(col: Column, parsed: pd.Series, present, cells, fname: str, findings: list[Finding],
                    unread: dict | None = None) -> None:
    """Append the findings of one typed column: unparseable values (with the raw `cells` shown) and empty required cells.

    `present` is a bool array; `cells` the raw cells (a pandas Series, or a pyarrow array of the file's text). With
    `unread` (a dict), a date or number column with unparseable cells is recorded there as {column: bool array of those
    cells}: the row checks read them as written, not as empty (helpers.data.checks_tables.folder_tables: a cell
    refused as bad_date is not also a missing close date)."""
    if col.name == "answer":
        bad = present & parsed.isna().to_numpy()
        if bad.any():
            findings.append(coded(fname, "bad_answer", col.name, bad, cells))
    elif col.kind not in ("text", "category"):
        bad = present & parsed.isna().to_numpy()
        if bad.any():
            findings.append(coded(fname, f"bad_{col.kind}", col.name, bad, cells))
            if unread is not None:
                unread[col.name] = np.asarray(bad, dtype=bool)
    if col.required and col.name != "amount":
        missing = ~present
        if missing.any():
            findings.append(coded(fname, "missing_value", col.name, missing))


def parse_table(table: Table, raw: pd.DataFrame, fname: str, config: Config, findings: list[Finding],
                unread: dict | None = None) -> pd.DataFrame:
    """Typed canonical columns of one table; every unparseable or missing required value becomes a finding (the
    unparseable cells of each column also go to `unread`, when given: :func:`column_findings`)."""
    out = pd.DataFrame(index=raw.index)
    for col in table.columns:
        if col.name not in raw.columns:
            continue
        cells = raw[col.name]
        parsed, present = parse_cells(col, cells, config.timezone)
        column_findings(col, parsed, present.to_numpy(), cells, fname, findings, unread)
        out[col.name] = parsed
    return out


def missing_columns(table: Table, raw: pd.DataFrame, fname: str, *, warehouse: bool = False) -> list[Finding]:
    """A finding per required column absent from the file, with the closest header as a hint. `warehouse`: `raw` is
    the copy of a warehouse table named `fname` (a --warehouse run), whose fix is the table's (rename its columns or
    a view, --table), never a data folder's command or a column mapping."""
    import difflib

    found = []
    missing = [col for col in table.columns if col.required and col.name not in raw.columns]
    japanese = _japanese_headers(table.name, raw.columns) if missing else {}
    if japanese:   # one finding for the file: its headers are the data dictionary's Japanese names
        named = ", ".join(f"{header} = {canonical}" for canonical, header in japanese.items())
        columns = ", ".join(repr(c.name) for c in missing)
        if warehouse:
            canonical, header = next(iter(japanese.items()))
            return [error(fname, "missing_column", missing[0].name, variant="warehouse_ja_headers", named=named,
                          columns=columns, table=fname, name=table.name, header=header, canonical=canonical)]
        return [error(fname, "missing_column", missing[0].name, variant="ja_headers", named=named, columns=columns,
                      how=Phrase("part_ja_headers_command", folder="{folder}"))]
    for col in missing:
        close = difflib.get_close_matches(col.name, [str(c) for c in raw.columns], n=1, cutoff=0.6)
        rename = "part_rename_close_warehouse_column" if warehouse else "part_rename_close_column"
        hint = Phrase(rename, close=close[0], column=col.name) if close else ""
        where = {"variant": "warehouse", "table": fname, "name": table.name} if warehouse else {"variant": "table"}
        found.append(error(fname, "missing_column", col.name, meaning=meaning(table.name, col.name), hint=hint, **where))
    return found


#: The fix of a file with Japanese headers (missing_column, variant ja_headers): {folder} is the data folder (filled in
#: by :func:`load_workbook`, which also gives the full command once and JA_HEADERS_AGAIN for the other files).
JA_HEADERS_FIX = t("fix_missing_column_ja_headers").format(how=t("part_ja_headers_command"))
JA_HEADERS_AGAIN = t("fix_missing_column_ja_headers").format(how=t("part_ja_headers_above"))


def japanese_fixes(findings: list[Finding], data_dir: Path) -> list[Finding]:
    """The canonical_ja fix with the real folder in its command on the first file that needs it, a short pointer on the others."""
    out, first = [], True
    for f in findings:
        if f.code == "missing_column" and f.params.get("variant") == "ja_headers":
            how = Phrase("part_ja_headers_command", folder=str(data_dir)) if first else Phrase("part_ja_headers_above")
            f = error(f.file, f.code, f.column, f.rows, f.values, f.count, **{**f.params, "how": how})
            first = False
        out.append(f)
    return out


def _japanese_headers(table: str, headers) -> dict[str, str]:
    """{canonical column: header} for the headers that are a required column's Japanese name (the shipped mapping
    canonical_ja, which holds the names of docs/data_dictionary.md); empty when there is none."""
    from helpers.data.mapping import find_column, load_mapping

    tm = load_mapping("canonical_ja").tables.get(table)
    if tm is None:
        return {}
    out = {}
    for rule in tm.columns:
        if rule.optional or not rule.columns:
            continue
        header = find_column(headers, tuple(name for name in rule.columns if name != rule.target))
        if header is not None:
            out[rule.target] = header
    return out


def absent_closed_at(opps: pd.DataFrame, fname: str) -> list[Finding]:
    """closed_at is required only for won and lost deals (contract): without the column, a table of open deals gets
    it empty (added in place), while won or lost deals make it a missing column (their rows named)."""
    if "closed_at" in opps.columns or "outcome" not in opps.columns:
        return []
    decided = opps["outcome"].isin(("won", "lost")).to_numpy()
    if not decided.any():
        opps["closed_at"] = pd.Series(pd.NaT, index=opps.index, dtype="datetime64[ns]")
        return []
    return [coded(fname, "missing_column", "closed_at", decided, variant="closed_at", meaning=meaning("opportunities", "closed_at"),
                  decided=f"{int(decided.sum()):,}")]
