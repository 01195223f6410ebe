"""Cross-row and cross-table checks of the canonical tables (errors stop the run, warnings are reported).

Each check returns `Finding`s naming the file, the rows (as a spreadsheet numbers
them: header = row 1), the column and how to fix it. The checks of leads, opportunities, spend and
touches are engine queries written once in helpers.data.checks_engine (a warehouse runs the same ones):
:func:`check_rows` runs them all on a loaded folder, and :func:`check_tables`, :func:`check_opportunities`,
... run them on the frames given. The checklist's and targets' rules are read here in pandas.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.checks_engine import (DATE_COLUMNS, DECIDED, FAR_GAP, FAR_SHARE, MAX_ROWS_SHOWN,  # noqa: F401 (public here)
                                        MIN_ROWS_FOR_BULK_CHECK)
from helpers.data.schema import TARGET_DEPARTMENTS, TARGET_METRICS
from helpers.errors import DataValidationError, Finding, Phrase, PhraseList, coded_error, error, warning


def _warn(fname: str, code: str, column: str | None = None, mask=None, raw=None, count: int | None = None, **params) -> Finding:
    """A warning naming the flagged rows (and their values), its sentence the label of `code` (helpers.errors.warning)."""
    where = finding("warning", fname, code, "", "", column, mask, raw)
    return warning(fname, code, column, where.rows, where.values, where.count if count is None else count, **params)


def isin_ids(values: pd.Series, ids) -> pd.Series:
    """values.isin(ids) in one hashed pass (pandas' text isin converts every id one by one: slow on large tables).

    `ids` is a collection of ids, or a pandas Series of text ids (nulls ignored): then the test runs in Arrow
    (pyarrow.compute.is_in) without making a Python object of each id. A null value is never in `ids`."""
    if isinstance(ids, pd.Series):
        import pyarrow as pa
        import pyarrow.compute as pc

        def text(series: pd.Series) -> pa.Array:
            return pa.array(series.astype("string"), type=pa.string(), from_pandas=True)

        found = pc.is_in(text(values), value_set=text(ids.dropna()), skip_nulls=True).fill_null(False)
        return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)
    return values.astype(object).isin(pd.Index(list(ids), dtype=object))


def latest_date(leads: pd.DataFrame | None, opps: pd.DataFrame) -> pd.Timestamp | None:
    """Default as_of, the data's last record date: the latest date in any date column of leads and opportunities, an
    opportunity's closed_at only when it is won or lost (an open deal's closed_at is an expected close date, ignored:
    the rule of helpers.data.checks_engine.record_dates). A Timestamp; None when no row has one."""
    latest = []
    for name, frame in (("leads", leads), ("opportunities", opps)):
        if frame is None:
            continue
        for col in DATE_COLUMNS[name]:
            if col not in frame.columns:
                continue
            values = frame[col]
            if name == "opportunities" and col == "closed_at" and "outcome" in frame.columns:
                values = values[frame["outcome"].isin(DECIDED).to_numpy(dtype=bool, na_value=False)]
            if values.notna().any():
                latest.append(values.max().normalize())
    return max(latest) if latest else None


def check_duplicates(frame: pd.DataFrame, key: str, fname: str) -> list[Finding]:
    """Ids must be unique: every row whose id appeared on an earlier row is an error (`key`: lead_id, opportunity_id
    or touch_id; the check of helpers.data.checks_engine on this one table)."""
    from helpers.data import checks_engine as ce

    name = next(n for n, k in ce.KEYS.items() if k == key)
    with ce.folder_tables({name: frame}, {name: fname}) as src:
        return ce._duplicates(ce._Counted(src, name), key)


def check_opportunities(opps: pd.DataFrame, fname: str, lead_ids) -> list[Finding]:
    """Outcome values, close dates, amounts and links of the opportunities table (`lead_ids`: the leads' ids, a pandas
    Series, None = no leads table): helpers.data.checks_engine.opportunity_findings on these frames."""
    from helpers.data import checks_engine as ce

    leads = None if lead_ids is None else pd.DataFrame({"lead_id": pd.Series(lead_ids, dtype=object).reset_index(drop=True)})
    with ce.folder_tables({"opportunities": opps, "leads": leads}, {"opportunities": fname}) as src:
        return ce.opportunity_findings(src, None)


def check_leads(leads: pd.DataFrame, fname: str, opp_ids) -> list[Finding]:
    """Ids, stage-date order and opportunity links of the leads table (`opp_ids`: the opportunities' ids, a pandas
    Series): helpers.data.checks_engine.lead_findings on these frames."""
    from helpers.data import checks_engine as ce

    opps = pd.DataFrame({"opportunity_id": pd.Series(opp_ids, dtype=object).reset_index(drop=True)})
    with ce.folder_tables({"leads": leads, "opportunities": opps}, {"leads": fname}) as src:
        return ce.lead_findings(src, None)


def check_after_as_of(frame: pd.DataFrame, table: str, fname: str, as_of: pd.Timestamp) -> list[Finding]:
    """Dates after the snapshot date are warnings: those events are ignored in every figure."""
    from helpers.data import checks_engine as ce

    if as_of is None or table not in DATE_COLUMNS:
        return []
    with ce.folder_tables({table: frame}, {table: fname}) as src:
        return ce.after_as_of_findings(src, table, as_of)


def far_date_cuts(typed: dict[str, pd.DataFrame]) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """(low, high): dates before `low` or after `high` lie beyond a gap of more than FAR_GAP from the bulk of the data
    (helpers.data.checks_engine.far_cuts over every date of leads and opportunities). None = no outliers at that end."""
    from helpers.data import checks_engine as ce

    with ce.folder_tables(typed, {}) as src:
        return ce.far_cuts(*ce.date_days(src))


def check_far_dates(typed: dict[str, pd.DataFrame], fnames: dict[str, str], as_of_given: bool) -> list[Finding]:
    """Dates far outside the bulk of the data (likely typos): warnings with the rows; an error when one would become as_of."""
    from helpers.data import checks_engine as ce

    with ce.folder_tables(typed, fnames) as src:
        return ce.far_date_findings(src, as_of_given)


def check_spend(spend: pd.DataFrame, fname: str) -> list[Finding]:
    """Spend amounts are >= 0; repeated month x channel rows are summed (warning): helpers.data.checks_engine.spend_findings."""
    from helpers.data import checks_engine as ce

    with ce.folder_tables({"spend": spend}, {"spend": fname}) as src:
        return ce.spend_findings(src)


def check_checklist(checklist: pd.DataFrame, fname: str) -> list[Finding]:
    """Checklist items must be 1-15; departments must include sales or marketing, and no name may look like a misspelling of them.

    Departments are already canonical (schema.department_key maps 営業, Sales, マーケ, ... to sales / marketing).
    Other department names are allowed by the contract: a warning lists them (scored on their own, not in
    the overall score). A name close to an accepted one (difflib ratio >= 0.8, e.g. 'slaes', 'marketting')
    is refused as a likely typo, and so is a table whose answers come from neither sales nor marketing.
    """
    import difflib

    from helpers.data.schema import DEPARTMENT_SYNONYMS

    out = []
    bad = checklist["item"].notna() & ~checklist["item"].isin(range(1, 16))
    if bad.any():
        out.append(coded(fname, "bad_item", "item", bad, checklist["item"]))
    out += _repeated_answers(checklist, fname)
    dept = checklist["department"].where(checklist["department"].notna())
    known = [n for names in DEPARTMENT_SYNONYMS.values() for n in names]
    accepted = Phrase("part_departments_accepted", synonyms="Sales, 営業, セールス / Marketing, マーケ, マーケティング")
    others = sorted(set(dept.dropna()) - set(DEPARTMENT_SYNONYMS))
    typos = {d: difflib.get_close_matches(d, known, n=1, cutoff=0.8) for d in others}
    typos = {d: m[0] for d, m in typos.items() if m}
    if typos:
        mask = dept.isin(list(typos))
        hint = PhraseList([Phrase("part_value_did_you_mean", value=d, match=m) for d, m in typos.items()], Phrase("part_comma"))
        out.append(coded(fname, "unknown_department", "department", mask, checklist["department"], hint=hint, accepted=accepted))
    elif len(dept.dropna()) and not dept.isin(list(DEPARTMENT_SYNONYMS)).any():
        out.append(coded(fname, "no_core_department", "department", dept.notna(), checklist["department"],
                         departments=", ".join(others[:5]), accepted=accepted))
    elif others:
        mask = dept.isin(others)
        out.append(_warn(fname, "other_department", "department", mask, checklist["department"],
                         departments=", ".join(others[:5])))
    return out


def _repeated_answers(checklist: pd.DataFrame, fname: str) -> list[Finding]:
    """One respondent answering one item twice on one day (respondent trimmed, answered_on's day, item): different
    answers are an error naming every row of each such group (which one is meant cannot be told: the answer form
    never writes that, a hand-edited sheet does); the same answer repeated is a warning (counted once)."""
    answered = checklist["answer"].notna() & checklist["item"].notna() & checklist["respondent"].notna()
    if not answered.any():
        return []
    key = pd.DataFrame({"r": checklist["respondent"].astype(str).str.strip(),
                        "d": pd.to_datetime(checklist["answered_on"], errors="coerce").dt.normalize(),
                        "i": checklist["item"], "a": checklist["answer"]})[answered]
    size = key.groupby(["r", "d", "i"], dropna=False)["a"].transform("size")
    answers = key.groupby(["r", "d", "i"], dropna=False)["a"].transform("nunique")
    differ = pd.Series(False, index=checklist.index)
    differ[key.index] = (size > 1) & (answers > 1)
    same = pd.Series(False, index=checklist.index)
    same[key.index] = (size > 1) & (answers == 1)
    out, items = [], checklist["item"].astype("Int64")   # the values named: the item numbers (3, not 3.0)
    if differ.any():
        out.append(coded(fname, "checklist_answer_twice", "answer", differ, items))
    if same.any():
        out.append(_warn(fname, "checklist_answer_repeated", "answer", same, items))
    return out


def _accepted_names(keys) -> str:
    """The values a targets column accepts, each key with its label-table names: 'won_revenue (Won revenue, 受注金額), ...'."""
    from helpers.labels import t

    return ", ".join(f"{k} ({t(k, 'en')}, {t(k, 'ja')})" for k in keys)


def check_targets(targets: pd.DataFrame, fname: str, fiscal_year_start_month: int = 1) -> list[Finding]:
    """Targets: known metric and department, a period label of the configured fiscal calendar, target >= 0,
    one row per (period, metric, channel).

    Errors name the rows; a period label of the other fiscal calendar (`2026Q3` with an April fiscal year,
    `FY2026Q1` with calendar quarters) is refused, never converted.
    """
    from helpers.errors import WorkbookError
    from helpers.data.periods import parse_period

    out = []
    metric = targets["metric"]
    bad = metric.notna() & ~metric.isin(TARGET_METRICS)
    if bad.any():
        out.append(coded(fname, "unknown_metric", "metric", bad, metric, metrics=_accepted_names(TARGET_METRICS)))
    if "department" in targets.columns:
        dept = targets["department"].astype(object)
        bad = dept.notna() & ~dept.isin(TARGET_DEPARTMENTS)
        if bad.any():
            out.append(coded(fname, "unknown_department", "department", bad, dept, variant="targets",
                             departments=_accepted_names(TARGET_DEPARTMENTS)))
    labels = targets["period"]

    def wrong(label) -> bool:
        if label is None or pd.isna(label):
            return False
        try:
            parse_period(label, fiscal_year_start_month)
        except WorkbookError:
            return True
        return False

    bad = labels.map(wrong).astype(bool)
    if bad.any():
        out.append(_bad_periods(labels, bad, fname, fiscal_year_start_month))
    negative = targets["target"] < 0
    if negative.any():
        out.append(coded(fname, "negative_target", "target", negative, targets["target"]))
    channel = targets["channel"].astype(object) if "channel" in targets.columns else pd.Series(None, index=targets.index, dtype=object)
    return out + _duplicate_targets(labels, metric, channel, fname)


def _bad_periods(labels: pd.Series, bad: pd.Series, fname: str, fiscal_year_start_month: int) -> Finding:
    """The coded error bad_period for the `bad` period labels: its example is the configured calendar's label with the
    year and quarter numbers of the first bad label that has them (2026Q2 for FY2026Q2 under calendar quarters), as
    a style with its months, never a conversion; the label of the same months when there is one
    (helpers.data.periods.other_calendar_hint)."""
    from helpers.data.periods import label_hint, style_example
    from helpers.errors import error

    hints = [(str(v).strip(), label_hint(v, fiscal_year_start_month)) for v in dict.fromkeys(labels[bad])]
    hinted = [(typed, h) for typed, h in hints if h is not None]
    if hinted and hinted[0][1][0] == "near":   # the configured calendar's labels written another way: each one's label
        near = [(typed, h[1]) for typed, h in hinted if h[0] == "near"]
        variant, params = "near", {**hinted[0][1][1], "corrections": ", ".join(
            f"'{typed}' → {p['label']}" for typed, p in near[:5])}
    elif hinted:
        variant, params = hinted[0][1]
    else:   # no label of either calendar: the configured calendar's style
        variant, params = ("calendar" if fiscal_year_start_month == 1 else "fiscal"), style_example(2026, 1, fiscal_year_start_month)
    rows, count = _rows(bad)
    return error(fname, "bad_period", "period", rows, _values(labels, bad), count, variant=variant, **params)


def _duplicate_targets(labels: pd.Series, metric: pd.Series, channel: pd.Series, fname: str) -> list[Finding]:
    """The error for rows repeating the (period, metric, channel) of an earlier row; [] when none does."""
    key = pd.DataFrame({"period": labels.astype(object), "metric": metric.astype(object),
                        "channel": channel.where(channel.notna(), "")})
    dup = key.duplicated(keep="first")
    if not dup.any():
        return []
    return [coded(fname, "duplicate_target", "metric", dup, key["period"].fillna("") + " " + key["metric"].fillna(""))]


#: Close matches named for a target's unknown channel (difflib ratio on the folded labels, at most this many).
CLOSE_MATCH_CUTOFF = 0.6
CLOSE_MATCHES = 3


def check_target_channels(targets: pd.DataFrame, fname: str, frames, fold: bool) -> tuple[pd.DataFrame, list[Finding]]:
    """Target channels against the channels of the data: (targets, warnings).

    `frames`: the leads, opportunities and spend tables (None = absent), channels already normalized
    (helpers.data.channels). A target channel that differs from a data channel only in case or width (the same
    :func:`helpers.data.channels.channel_key`) takes the data's spelling when `fold` (channels.normalize);
    a target channel that no row has is kept and warned about (code ``target_channel_unknown``, one warning per
    channel naming its rows and up to CLOSE_MATCHES close matches by difflib's ratio on the folded labels,
    variant ``no_match`` listing the data's channels instead): its goal has no actual, never 0 (notebook 04). Two
    rows that fold to the same period, metric and channel are the error ``duplicate_target``.
    """
    import difflib

    from helpers.data.channels import channel_key

    if "channel" not in targets.columns or not targets["channel"].notna().any():
        return targets, []
    known: dict[str, str] = {}   # folded label -> the data's spelling
    for frame in frames:
        if frame is not None and "channel" in frame.columns:
            for value in frame["channel"].dropna().astype(str).unique():
                known.setdefault(channel_key(value), value)
    spellings = set(known.values())
    channel = targets["channel"].astype(object)
    if fold:
        channel = channel.map(lambda v: v if v is None or pd.isna(v) or v in spellings else known.get(channel_key(v), v))
    out = _duplicate_targets(targets["period"], targets["metric"], channel, fname)   # 'Web' and 'web' rows now collide
    for value in sorted(set(channel.dropna()) - spellings, key=str):
        mask = channel == value
        close = difflib.get_close_matches(channel_key(value) or "", list(known), n=CLOSE_MATCHES, cutoff=CLOSE_MATCH_CUTOFF)
        if close:
            out.append(_warn(fname, "target_channel_unknown", "channel", mask, targets["channel"], channel=value,
                             matches=", ".join(f"'{known[k]}'" for k in close)))
        else:
            listed = ", ".join(f"'{v}'" for v in sorted(spellings)[:10]) + (", ..." if len(spellings) > 10 else "")
            out.append(_warn(fname, "target_channel_unknown", "channel", mask, targets["channel"], channel=value,
                             channels=listed or "-", variant="no_match"))
    return targets.assign(channel=channel), out


def check_tables(typed: dict[str, pd.DataFrame], fnames: dict[str, str], as_of: pd.Timestamp,
                 fiscal_year_start_month: int = 1, unread: dict | None = None, skip: dict | None = None) -> list[Finding]:
    """Run every table and cross-table check but the touches'; returns all findings (errors and warnings). `unread`:
    the cells the loader refused as unparseable, `skip`: the rows no check reads ({table: positions}, total rows)
    (helpers.data.checks_tables.folder_tables)."""
    from helpers.data import checks_engine as ce

    with ce.folder_tables(typed, fnames, unread, skip) as src:
        return ce.table_findings(src, as_of) + _written_tables(typed, fnames, fiscal_year_start_month)


def _written_tables(typed: dict[str, pd.DataFrame], fnames: dict[str, str], fiscal_year_start_month: int) -> list[Finding]:
    """The checks of the tables a person writes (checklist, targets): read in pandas (period labels, department names)."""
    out = []
    if "checklist" in typed:
        out += check_checklist(typed["checklist"], fnames["checklist"])
    if "targets" in typed:
        out += check_targets(typed["targets"], fnames["targets"], fiscal_year_start_month)
    return out


def check_rows(typed: dict[str, pd.DataFrame], fnames: dict[str, str], as_of: pd.Timestamp | None,
               fiscal_year_start_month: int = 1, unread: dict | None = None,
               skip: dict | None = None) -> tuple[list[Finding], pd.Timestamp | None]:
    """Every row check of a loaded folder, in one pass of the engine (helpers.data.checks_engine): far dates, the tables'
    checks, then the touches'; ``(findings, as_of)``, `as_of` None = the latest date of leads and opportunities.
    `unread`: the cells the loader refused as unparseable ({table: {column: bool array}}), not read as empty; `skip`:
    the rows no check reads ({table: positions}: a file's total rows, helpers.data.total_rows)."""
    from helpers.data import checks_engine as ce

    with ce.folder_tables(typed, fnames, unread, skip) as src:
        days = ce.date_days(src)
        given = as_of is not None
        as_of = as_of if given else ce.latest_day(days[0])
        out = ce.far_date_findings(src, given, days) + ce.table_findings(src, as_of)
        out += _written_tables(typed, fnames, fiscal_year_start_month)
        if src.get("touches") is not None:
            out += ce.touch_findings(src, as_of)
    return out, as_of


def checked_as_of(findings: list[Finding], as_of: pd.Timestamp | None, where: str) -> pd.Timestamp:
    """The as_of the row checks resolved, once they passed: DataValidationError with every finding when one is an
    error; WorkbookError naming `where` (the opportunities' file, or a warehouse's table) when no date gave an as_of.
    One rule for a folder (helpers.data.load) and a warehouse (helpers.metrics.warehouse_load)."""
    if any(f.severity == "error" for f in findings):
        raise DataValidationError(findings)
    if as_of is None:
        raise coded_error("no_as_of", where)
    return as_of


def _rows(mask: pd.Series) -> tuple[tuple[int, ...], int]:
    """Spreadsheet row numbers (header = row 1) of the first flagged rows, and how many there are."""
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    return tuple(int(p) + 2 for p in positions[:MAX_ROWS_SHOWN]), int(len(positions))


def _values(raw, mask) -> tuple[str, ...]:
    """The first flagged cells as text; `raw` is a pandas Series or a pyarrow array of the same length as `mask`."""
    if isinstance(raw, pd.Series):
        return tuple(str(v) for v in raw[np.asarray(mask, dtype=bool)].head(MAX_ROWS_SHOWN))
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))[:MAX_ROWS_SHOWN]
    return tuple(str(v) for v in raw.take(positions).to_pylist())


def coded(file: str, code: str, column: str | None = None, mask=None, raw=None, **params) -> Finding:
    """The coded error `code` (helpers.errors.error: its sentence and fix in the label table, `params` kept so it can be
    said in Japanese too) for the rows where `mask` holds, as :func:`finding` names them."""
    where = finding("error", file, code, "", "", column, mask, raw)
    return error(file, code, column, where.rows, where.values, where.count, **params)


def finding(severity, file, code, message, fix, column=None, mask=None, raw=None) -> Finding:
    """A Finding for the rows where `mask` is True: their first spreadsheet row numbers (header = row 1), count and raw values."""
    rows, count = _rows(mask) if mask is not None else ((), 0)
    values = _values(raw, mask) if raw is not None and mask is not None else ()
    return Finding(severity, file, code, message, fix, column, rows, values, count)
