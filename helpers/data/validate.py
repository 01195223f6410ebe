"""Cross-row and cross-table checks of the canonical tables (errors stop the run, warnings are reported).

Each check returns `Finding`s naming the file, the rows (as a spreadsheet numbers
them: header = row 1), the column and how to fix it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.schema import OUTCOMES, TARGET_DEPARTMENTS, TARGET_METRICS
from helpers.errors import Finding, warning

#: Fewest opportunities for "all share one created_at" to mean a bulk load (as helpers.data.ingest checks).
MIN_ROWS_FOR_BULK_CHECK = 2

DATE_COLUMNS = {"leads": ("created_at", "mql_at", "sql_at", "first_sales_touch_at"),
                "opportunities": ("created_at", "closed_at")}


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
    """Default as_of: the latest date in any date column of leads and opportunities."""
    latest = []
    for name, frame in (("leads", leads), ("opportunities", opps)):
        if frame is None:
            continue
        for col in DATE_COLUMNS[name]:
            if col in frame.columns and frame[col].notna().any():
                latest.append(frame[col].max().normalize())
    return max(latest) if latest else None


def check_duplicates(frame: pd.DataFrame, key: str, fname: str) -> list[Finding]:
    """Ids must be unique: every row whose id appeared on an earlier row is an error."""
    dup = frame[key].duplicated(keep="first") & frame[key].notna()
    if not dup.any():
        return []
    return [finding("error", fname, "duplicate_id", f"'{key}' values repeat an earlier row",
                     f"Make every {key} unique (remove duplicate rows or merge them).", key, dup, frame[key])]


def _mapped_by_canonical_ja(values: pd.Series) -> bool:
    """True when some value is an outcome the shipped mapping canonical_ja reads (受注, 失注, 進行中, ...: its value map,
    compared as the mapping compares)."""
    from helpers.data.mapping import _key, load_mapping

    rule = load_mapping("canonical_ja").tables["opportunities"].rule("outcome")
    words = {k for k, _ in rule.values if k not in OUTCOMES}
    return any(_key(v) in words for v in values.dropna().unique())


def check_opportunities(opps: pd.DataFrame, fname: str, lead_ids) -> list[Finding]:
    """Outcome values, close dates, amounts and links of the opportunities table (`lead_ids`: the leads' ids as
    :func:`isin_ids` takes them, None = no leads table)."""
    out = check_duplicates(opps, "opportunity_id", fname)
    bad_outcome = opps["outcome"].notna() & ~opps["outcome"].isin(OUTCOMES)
    if bad_outcome.any():
        fix = "Use open, won or lost (exports with stages such as 'Closed Won' come in through a column mapping)."
        if _mapped_by_canonical_ja(opps.loc[bad_outcome, "outcome"]):
            fix += (" Outcomes written 受注 / 失注 / 進行中 are read by the shipped mapping canonical_ja: "
                    "make report ARGS=\"--data <this data folder> --mapping canonical_ja\" (docs/ingest.md).")
        out.append(finding("error", fname, "bad_outcome", "unknown outcome values", fix, "outcome", bad_outcome, opps["outcome"]))
    closed = opps["outcome"].isin(("won", "lost"))
    no_close = closed & opps["closed_at"].isna()
    if no_close.any():
        out.append(finding("error", fname, "missing_closed_at", "won or lost deals without a close date",
                            "Fill closed_at for every won or lost deal (the date it was decided).", "closed_at", no_close))
    backwards = closed & (opps["closed_at"] < opps["created_at"])
    if backwards.any():
        out.append(finding("error", fname, "closed_before_created", "closed_at is before created_at",
                            "Correct the dates: a deal cannot close before it was created.", "closed_at", backwards,
                            opps["closed_at"].dt.strftime("%Y-%m-%d")))
    won = opps["outcome"] == "won"
    if "amount" not in opps.columns or not opps["amount"].notna().any():
        # Amount is optional: counts, rates and cycle still work; the money figures are null ("no amounts").
        if won.any():
            out.append(_warn(fname, "no_amounts", "amount", count=int(won.sum())))
    else:
        won_no_amount = won & opps["amount"].isna()
        if won_no_amount.any():
            out.append(_warn(fname, "won_without_amount", "amount", won_no_amount))
    lost = opps["outcome"] == "lost"
    if "amount" in opps.columns and lost.any() and opps["amount"].notna().any() and not (opps.loc[lost, "amount"].fillna(0) > 0).any():
        out.append(_warn(fname, "lost_amounts_zero", "amount", lost))
    negative = opps["amount"] < 0 if "amount" in opps.columns else pd.Series(False, index=opps.index)
    if negative.any():
        out.append(finding("error", fname, "negative_amount", "negative amounts", "Amounts must be 0 or more; record refunds elsewhere.",
                            "amount", negative, opps["amount"]))
    if won.any() and not lost.any():
        out.append(_warn(fname, "no_lost_deals", "outcome", count=int(won.sum())))
    created_days = opps["created_at"].dropna().dt.normalize()
    if len(created_days) >= MIN_ROWS_FOR_BULK_CHECK and created_days.nunique() == 1:
        out.append(_warn(fname, "one_created_at", "created_at", count=int(len(created_days)),
                         day=f"{created_days.iloc[0]:%Y-%m-%d}"))
    open_closed = (opps["outcome"] == "open") & opps["closed_at"].notna()
    if open_closed.any():
        out.append(_warn(fname, "open_with_closed_at", "closed_at", open_closed))
    if lead_ids is not None and "lead_id" in opps.columns:
        orphan = opps["lead_id"].notna() & ~isin_ids(opps["lead_id"], lead_ids)
        if orphan.any():
            out.append(_warn(fname, "unknown_lead_id", "lead_id", orphan, opps["lead_id"]))
    return out


def check_leads(leads: pd.DataFrame, fname: str, opp_ids) -> list[Finding]:
    """Ids, stage-date order and opportunity links of the leads table (`opp_ids`: the opportunities' ids as
    :func:`isin_ids` takes them)."""
    out = check_duplicates(leads, "lead_id", fname)
    for col in ("mql_at", "sql_at"):
        if col in leads.columns:
            early = leads[col] < leads["created_at"]
            if early.any():
                out.append(_warn(fname, "stage_before_created", col, early, leads[col].dt.strftime("%Y-%m-%d")))
    if "opportunity_id" in leads.columns:
        orphan = leads["opportunity_id"].notna() & ~isin_ids(leads["opportunity_id"], opp_ids)
        if orphan.any():
            out.append(_warn(fname, "unknown_opportunity_id", "opportunity_id", orphan, leads["opportunity_id"]))
    return out


def check_after_as_of(frame: pd.DataFrame, table: str, fname: str, as_of: pd.Timestamp) -> list[Finding]:
    """Dates after the snapshot date are warnings: those events are ignored in every figure."""
    out = []
    if as_of is None:
        return out
    for col in DATE_COLUMNS.get(table, ()):
        if col in frame.columns:
            late = frame[col].dt.normalize() > as_of
            if late.any():
                out.append(_warn(fname, "after_as_of", col, late, frame[col].dt.strftime("%Y-%m-%d"), as_of=f"{as_of:%Y-%m-%d}"))
    return out


#: A date separated from the rest of the data by more than this gap is a likely typo (2206 for 2026, 1900 for 2019).
FAR_GAP = pd.Timedelta(days=730)
#: ... when the dates beyond the gap are at most this share of all dates (at least one).
FAR_SHARE = 0.05


def far_date_cuts(typed: dict[str, pd.DataFrame]) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """(low, high): dates before `low` or after `high` lie beyond a gap of more than FAR_GAP from the bulk of the data.

    The bulk is every date of leads and opportunities; the dates beyond the lowest (highest) such gap are
    outliers when they are at most FAR_SHARE of all dates (at least 1). None = no outliers at that end.
    """
    import numpy as np

    values = [typed[t][c].dropna().dt.normalize().to_numpy(dtype="datetime64[ns]") for t, cols in DATE_COLUMNS.items()
              if typed.get(t) is not None for c in cols if c in typed[t].columns]
    # the sorted dates as distinct days with their counts: a date's position is the count of the dates before its day
    days, counts = np.unique(np.concatenate(values), return_counts=True) if values else (np.array([], "datetime64[ns]"), [])
    if len(days) < 2:
        return None, None
    before = np.concatenate(([0], np.cumsum(counts)))
    total = int(before[-1])
    allowed = max(1, int(FAR_SHARE * total))
    big = before[1:-1][np.diff(days) > FAR_GAP.to_timedelta64()]  # positions of the dates just after a big gap
    low = high = None
    if len(big) and big[0] <= allowed:  # the first big[0] dates lie before the lowest gap
        low = pd.Timestamp(days[np.searchsorted(before, big[0])])
    if len(big) and total - big[-1] <= allowed:
        high = pd.Timestamp(days[np.searchsorted(before, big[-1]) - 1])
    return low, high


def check_far_dates(typed: dict[str, pd.DataFrame], fnames: dict[str, str], as_of_given: bool) -> list[Finding]:
    """Dates far outside the bulk of the data (likely typos): warnings with the rows; an error when one would become as_of."""
    low, high = far_date_cuts(typed)
    out = []
    for table, cols in DATE_COLUMNS.items():
        frame = typed.get(table)
        if frame is None:
            continue
        for col in cols:
            if col not in frame.columns:
                continue
            day = frame[col].dt.normalize()
            if high is not None and (late := day > high).any():
                if as_of_given:
                    out.append(_warn(fnames[table], "far_date_after", col, late, frame[col].dt.strftime("%Y-%m-%d"),
                                     years=FAR_GAP.days // 365))
                else:
                    out.append(finding("error", fnames[table], "far_date_after",
                                        f"dates more than {FAR_GAP.days // 365} years after the rest of the data (likely typos) "
                                        "would become the snapshot date as_of", "Correct the dates, or give the snapshot date with "
                                        "--as-of (or as_of: in the settings); later dates are then ignored.", col, late,
                                        frame[col].dt.strftime("%Y-%m-%d")))
            if low is not None and (early := day < low).any():
                out.append(_warn(fnames[table], "far_date_before", col, early, frame[col].dt.strftime("%Y-%m-%d"),
                                 years=FAR_GAP.days // 365))
    return out


def check_spend(spend: pd.DataFrame, fname: str) -> list[Finding]:
    """Spend amounts are >= 0; repeated month x channel rows are summed (warning)."""
    out = []
    negative = spend["amount"] < 0
    if negative.any():
        out.append(finding("error", fname, "negative_amount", "negative spend", "Spend must be 0 or more.", "amount", negative, spend["amount"]))
    dup = spend.duplicated(["month", "channel"], keep="first")
    if dup.any():
        out.append(_warn(fname, "duplicate_month_channel", "month", dup))
    return out


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
        out.append(finding("error", fname, "bad_item", "checklist item numbers outside 1-15",
                            "Number items 1-15 as in the article's checklist.", "item", bad, checklist["item"]))
    dept = checklist["department"].where(checklist["department"].notna())
    known = [n for names in DEPARTMENT_SYNONYMS.values() for n in names]
    accepted = "sales or marketing (also Sales, 営業, セールス / Marketing, マーケ, マーケティング; see docs/data_dictionary.md)"
    others = sorted(set(dept.dropna()) - set(DEPARTMENT_SYNONYMS))
    typos = {d: difflib.get_close_matches(d, known, n=1, cutoff=0.8) for d in others}
    typos = {d: m[0] for d, m in typos.items() if m}
    if typos:
        mask = dept.isin(list(typos))
        hint = ", ".join(f"'{d}' (did you mean '{m}'?)" for d, m in typos.items())
        out.append(finding("error", fname, "unknown_department", f"department names that look like misspellings: {hint}",
                            f"Write the department as {accepted}.", "department", mask, checklist["department"]))
    elif len(dept.dropna()) and not dept.isin(list(DEPARTMENT_SYNONYMS)).any():
        out.append(finding("error", fname, "no_core_department",
                            f"no answer comes from sales or marketing (departments found: {', '.join(others[:5])}), so no score "
                            "or gap between the departments could be computed", f"Write the department as {accepted}.",
                            "department", dept.notna(), checklist["department"]))
    elif others:
        mask = dept.isin(others)
        out.append(_warn(fname, "other_department", "department", mask, checklist["department"],
                         departments=", ".join(others[:5])))
    return out


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
        out.append(finding("error", fname, "unknown_metric", "unknown target metrics",
                            f"Use one of {', '.join(TARGET_METRICS)}.", "metric", bad, metric))
    if "department" in targets.columns:
        dept = targets["department"].astype(object)
        bad = dept.notna() & ~dept.isin(TARGET_DEPARTMENTS)
        if bad.any():
            out.append(finding("error", fname, "unknown_department", "unknown departments",
                                f"Use {', '.join(TARGET_DEPARTMENTS)}, or leave department empty.", "department", bad, dept))
    labels = targets["period"]
    example = "2026Q3 (calendar quarters)" if fiscal_year_start_month == 1 else "FY2026Q1 (fiscal year named by its start year)"

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
        out.append(finding("error", fname, "bad_period",
                            f"period labels that are not quarters of the configured fiscal calendar "
                            f"(fiscal_year_start_month = {fiscal_year_start_month})",
                            f"Write each period as {example}, or change fiscal_year_start_month in the settings.",
                            "period", bad, labels))
    negative = targets["target"] < 0
    if negative.any():
        out.append(finding("error", fname, "negative_target", "negative targets", "Targets must be 0 or more.",
                            "target", negative, targets["target"]))
    channel = targets["channel"].astype(object) if "channel" in targets.columns else pd.Series(None, index=targets.index, dtype=object)
    return out + _duplicate_targets(labels, metric, channel, fname)


def _duplicate_targets(labels: pd.Series, metric: pd.Series, channel: pd.Series, fname: str) -> list[Finding]:
    """The error for rows repeating the (period, metric, channel) of an earlier row; [] when none does."""
    key = pd.DataFrame({"period": labels.astype(object), "metric": metric.astype(object),
                        "channel": channel.where(channel.notna(), "")})
    dup = key.duplicated(keep="first")
    if not dup.any():
        return []
    return [finding("error", fname, "duplicate_target", "repeat the period, metric and channel of an earlier row",
                    "Keep one target per period, metric and channel (one agreed number, whichever department owns it).",
                    "metric", dup, key["period"].fillna("") + " " + key["metric"].fillna(""))]


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
                 fiscal_year_start_month: int = 1) -> list[Finding]:
    """Run every table and cross-table check; returns all findings (errors and warnings)."""
    leads, opps = typed.get("leads"), typed["opportunities"]
    out = check_opportunities(opps, fnames["opportunities"], leads["lead_id"] if leads is not None else None)
    out += check_after_as_of(opps, "opportunities", fnames["opportunities"], as_of)
    if leads is not None:
        out += check_leads(leads, fnames["leads"], opps["opportunity_id"])
        out += check_after_as_of(leads, "leads", fnames["leads"], as_of)
    if "spend" in typed:
        out += check_spend(typed["spend"], fnames["spend"])
    if "checklist" in typed:
        out += check_checklist(typed["checklist"], fnames["checklist"])
    if "targets" in typed:
        out += check_targets(typed["targets"], fnames["targets"], fiscal_year_start_month)
    return out


MAX_ROWS_SHOWN = 5


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


def finding(severity, file, code, message, fix, column=None, mask=None, raw=None) -> Finding:
    """A Finding for the rows where `mask` is True: their first spreadsheet row numbers (header = row 1), count and raw values."""
    rows, count = _rows(mask) if mask is not None else ((), 0)
    values = _values(raw, mask) if raw is not None and mask is not None else ()
    return Finding(severity, file, code, message, fix, column, rows, values, count)
