"""Row-level checks of the canonical tables as engine queries: each check a count, with its first offending rows fetched.

The checks of leads, opportunities, spend and touches that look at values and links (duplicate ids, unknown
outcomes, close dates, amounts, stage dates before created_at, dangling links, dates after as_of or far from
the rest, touches after their deal closed) are written once, as Ibis expressions, and run wherever the tables
are:

- a data folder: its typed tables (helpers.data.load) enter DuckDB in process with their row position (column
  ``_row``), so a finding names the rows as a spreadsheet numbers them (header = row 1), as it always did;
- a warehouse: its tables as they are (:func:`warehouse_findings`); a table has no row numbers there, so a
  finding names the first offending ids (``Finding.ids``, in id order) instead, beside the same values and count.

Per table one query counts every check (``COUNT(*) FILTER (WHERE ...)``); only a check that found something fetches
its first MAX_ROWS_SHOWN rows (ordered by ``_row``, else by id). Nothing else comes back: the cost in the
warehouse does not grow with the rows fetched. Cross-table links (an opportunity's lead_id, a touch's deal close)
are joins or ``IN`` sub-queries in the same engine.

Values enter as the loader types them: ids and text trimmed, empty = null, outcome lower case, dates as calendar
days, amounts as numbers. A folder's tables already are (the loader typed them); a warehouse's are made so in the
query (helpers.data.checks_tables.canonical_tables). The findings' codes, messages and fixes are those of docs/data_dictionary.md
("What the workbook checks"). Checks about a file itself (encoding, parse errors, unreadable cells, missing
columns, label cells) stay in the folder reader (helpers.data.load, helpers.data.categories); the small tables a
person writes (checklist, targets) are checked in pandas (helpers.data.validate): their rules read period labels
and department names in Python.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from helpers.data.checks_tables import (  # noqa: F401 (re-exported: these were defined here)
    COLUMNS, ROW, _VIEWS, CheckTables, _arrow_column, _complete, _day_or_number, _quiet, _utf8_bytes, canonical_tables,
    code_point_order, folder_backend, folder_tables, unread)
from helpers.data.schema import OUTCOMES
from helpers.errors import Finding, Phrase, error, warning

#: Rows (or ids) a finding names; the count says how many there are in all.
MAX_ROWS_SHOWN = 5
#: A date separated from the rest of the data by more than this gap is a likely typo (2206 for 2026, 1900 for 2019).
FAR_GAP = pd.Timedelta(days=730)
#: ... when the dates beyond the gap are at most this share of all dates (at least one).
FAR_SHARE = 0.05
#: Fewest opportunities for "all share one created_at" to mean a bulk load (as helpers.data.ingest checks).
MIN_ROWS_FOR_BULK_CHECK = 2
#: Most distinct unknown outcome values read to choose the fix's wording (canonical_ja or not).
OUTCOME_VALUES_READ = 1000

#: The codes of the findings these checks make (the folder reader's own codes are others).
CODES = frozenset({"duplicate_id", "bad_outcome", "missing_closed_at", "closed_before_created", "no_amounts",
                   "won_without_amount", "lost_amounts_zero", "negative_amount", "no_lost_deals", "one_created_at",
                   "open_with_closed_at", "unknown_lead_id", "stage_before_created", "unknown_opportunity_id", "after_as_of",
                   "far_date_after", "far_date_before", "duplicate_month_channel", "touch_unknown_lead",
                   "touch_unknown_opportunity", "touch_after_close", "reason_without_disqualified_at"})
#: The unique id of each table (spend has none: its rows are ordered by all its columns).
KEYS = {"leads": "lead_id", "opportunities": "opportunity_id", "touches": "touch_id"}
DATE_COLUMNS = {"leads": ("created_at", "mql_at", "sql_at", "first_sales_touch_at"),
                "opportunities": ("created_at", "closed_at")}
#: The outcomes whose closed_at is a record date: an open deal's closed_at is an expected close date, ignored.
DECIDED = ("won", "lost")


def record_dates(t, name: str) -> dict:
    """The record dates of table `name` (leads or opportunities; an Ibis table `t`): {column: Ibis date expression} for
    every column of :data:`DATE_COLUMNS` it has, an opportunity's closed_at null unless the deal is won or lost (an
    open deal's closed_at is an expected close date: it never sets the data's last date, the default as_of or a far
    date). The one rule of a folder and a warehouse; pandas frames: helpers.data.validate.latest_date."""
    import ibis

    out = {}
    for col in DATE_COLUMNS[name]:
        if col not in t.columns:
            continue
        expr = t[col]
        if name == "opportunities" and col == "closed_at" and "outcome" in t.columns:
            expr = ibis.ifelse(t.outcome.isin(DECIDED), expr, ibis.null(expr.type()))
        out[col] = expr
    return out


# --------------------------------------------------------------------------- counts and first rows
class _Counted:
    """One table's checks: every mask counted in one query (:meth:`count`), the first rows of a mask on demand."""

    def __init__(self, src: CheckTables, name: str, t=None):
        self.src, self.name, self.t = src, name, src.get(name) if t is None else t
        self.file = src.files.get(name, f"{name}.csv")

    def count(self, masks: dict, **reductions) -> dict:
        """{name: rows where the mask holds} for `masks` and {name: value} for `reductions`, in one query."""
        t = self.t
        exprs = {k: t.count(where=m) for k, m in masks.items()} | reductions
        if not exprs:
            return {}
        with _quiet():
            return self.src.con.to_pyarrow(t.aggregate(**exprs)).to_pylist()[0]

    def _order(self, t) -> list:
        """The order the first rows are taken in: a folder's file order; a warehouse's id (spend: all its columns),
        text by code point whatever the database's collation (:func:`code_point_order`)."""
        if self.src.positions:
            return [ROW]
        key = KEYS.get(self.name)
        names = [key] if key else [c for c in COLUMNS[self.name] if c in t.columns]
        return [code_point_order(t[c], self.src.con) if t[c].type().is_string() else t[c] for c in names]

    def first(self, mask, value=None, t=None) -> tuple[tuple[int, ...], tuple[str, ...], tuple[str, ...]]:
        """(spreadsheet rows, values shown, ids) of the first MAX_ROWS_SHOWN rows where `mask` holds; rows in a folder,
        ids in a warehouse; `value` (a column expression) gives the values shown, dates as YYYY-MM-DD."""
        t = self.t if t is None else t
        key = KEYS.get(self.name)
        picked = {"_v": value} if value is not None else {}
        if self.src.positions:
            picked[ROW] = t[ROW]
        elif key:
            picked["_id"] = t[key]
        query = t.filter(mask).order_by(self._order(t)).limit(MAX_ROWS_SHOWN).select(**picked) if picked else None
        if query is None:
            return (), (), ()
        with _quiet():
            rows = self.src.con.to_pyarrow(query).to_pylist()
        shown = tuple(_text(r["_v"]) for r in rows) if value is not None else ()
        if self.src.positions:
            return tuple(int(r[ROW]) + 2 for r in rows), shown, ()
        return (), shown, tuple(str(r["_id"]) for r in rows) if key else ()

    def error(self, code: str, column: str, mask, count: int, value=None, **params) -> Finding:
        """The coded error `code` (helpers.errors.error: its sentence and fix from the label table, `params` kept) for
        the `count` rows where `mask` holds, the first named (rows or ids) with their `value`."""
        rows, values, ids = self.first(mask, value)
        return dataclasses.replace(error(self.file, code, column, rows, values, int(count), **params), ids=ids)


def _warn(c: _Counted, code: str, column: str, mask=None, count: int = 0, value=None, **params) -> Finding:
    """The warning `code` of table `c` (its sentence the label of `code`, helpers.errors.warning) for the rows where
    `mask` holds, `count` of them; no rows named when `mask` is None."""
    rows, values, ids = c.first(mask, value) if mask is not None else ((), (), ())
    return dataclasses.replace(warning(c.file, code, column, rows, values, int(count), **params), ids=ids)


def _text(value) -> str:
    """A value as a finding shows it: a day as YYYY-MM-DD, anything else as str()."""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _known(ids_table, column: str):
    """The non-null values of `column` in `ids_table` (an IN sub-query never sees a null, so NOT IN is exact)."""
    return ids_table.filter(ids_table[column].notnull())[column]


def _unknown(values, ids_table, column: str):
    """values that are not null and not among `ids_table`'s `column` (all of them when `ids_table` is None)."""
    if ids_table is None:
        return values.notnull()
    return values.notnull() & ~values.isin(_known(ids_table, column))


def _duplicates(c: _Counted, key: str) -> list[Finding]:
    """Ids must be unique: every row holding an id another row holds too (the first and its repeats) is named by the
    error (:func:`_id_counts` counted alone, then :func:`_duplicate_findings`)."""
    return _duplicate_findings(c, key, c.count({}, **_id_counts(c, key)))


def _id_counts(c: _Counted, key: str) -> dict:
    """The reductions :func:`_duplicate_findings` reads (``_ids``: ids present, ``_distinct``: distinct ids), to be
    counted in the table's one query beside its other checks. In the in-process DuckDB the distinct ids are distinct
    64-bit hashes of the ids (as helpers.data.touches._distinct counts them: equal ids hash equal, so a repeat always
    lowers the count)."""
    t = c.t
    present = t[key].notnull()   # DuckDB hashes a null too: counted among the ids present only
    distinct = t[key].hash().nunique(where=present) if c.src.con.name == "duckdb" else t[key].nunique()
    return {"_ids": t.count(where=present), "_distinct": distinct}


def _duplicate_findings(c: _Counted, key: str, n: dict) -> list[Finding]:
    """The duplicate_id error of `key` from the counts of :func:`_id_counts` in `n`: every row whose id another row
    holds too, the first occurrence and the repeats alike (so "rows 2, 8" says where both are), counted exactly and
    the first MAX_ROWS_SHOWN named (a folder's rows in file order, a warehouse's ids in id order) by a window that
    runs only when there are fewer distinct ids than ids (which also clears a hash collision)."""
    if int(n["_ids"]) <= int(n["_distinct"] or 0):
        return []
    t = c.t
    marked = t.mutate(_holders=t.count().over(group_by=t[key]))
    shared = (marked._holders > 1) & marked[key].notnull()
    with _quiet():
        sharing = int(c.src.con.to_pyarrow(marked.count(where=shared)).as_py())
    if not sharing:
        return []
    rows, values, ids = c.first(shared, marked[key], marked)
    return [dataclasses.replace(error(c.file, "duplicate_id", key, rows, values, sharing, key=key), ids=ids)]


# --------------------------------------------------------------------------- dates: far from the rest, after as_of
def date_days(src: CheckTables) -> tuple[np.ndarray, np.ndarray]:
    """(distinct days, rows per day) over every record date of leads and opportunities (:func:`record_dates`: not an
    open deal's closed_at), in day order: one grouped query whose size is the number of distinct days, not of rows."""
    import ibis

    parts = [src.get(name).select(d=d) for name in DATE_COLUMNS if src.get(name) is not None
             for d in record_dates(src.get(name), name).values()]
    if not parts:
        return np.array([], "datetime64[ns]"), np.array([], np.int64)
    days = ibis.union(*parts, distinct=False)
    days = days.filter(days.d.notnull())
    days = days.group_by("d").aggregate(n=days.count()).order_by("d")
    with _quiet():
        found = src.con.to_pyarrow(days)
    return (np.array(found["d"].to_numpy(zero_copy_only=False), dtype="datetime64[ns]"),
            found["n"].to_numpy(zero_copy_only=False).astype(np.int64))


def latest_day(days: np.ndarray) -> pd.Timestamp | None:
    """The default as_of: the latest record date of leads and opportunities (:func:`date_days`; an open deal's
    closed_at is not one)."""
    return pd.Timestamp(days[-1]) if len(days) else None


def far_cuts(days: np.ndarray, counts) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """(low, high): dates before `low` or after `high` lie beyond a gap of more than FAR_GAP from the bulk of the data.

    `days` are the distinct days of every date of leads and opportunities, sorted, `counts` the dates on each; the
    dates beyond the lowest (highest) such gap are outliers when they are at most FAR_SHARE of all dates (at least 1).
    None = no outliers at that end."""
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


def far_date_findings(src: CheckTables, as_of_given: bool, days=None) -> list[Finding]:
    """Dates far outside the bulk of the data (likely typos, :func:`far_cuts`): warnings with the rows; an error when
    one would become as_of (no as_of given). `days`: :func:`date_days`' result when already computed."""
    low, high = far_cuts(*(days if days is not None else date_days(src)))
    if low is None and high is None:
        return []
    years = FAR_GAP.days // 365
    out = []
    for name, cols in DATE_COLUMNS.items():
        if src.get(name) is None:
            continue
        c = _Counted(src, name)
        t = c.t
        dates = record_dates(t, name)
        masks = {}
        for col in cols:
            if high is not None:
                masks[f"after_{col}"] = dates[col] > high.date()
            if low is not None:
                masks[f"before_{col}"] = dates[col] < low.date()
        n = c.count(masks)
        for col in cols:
            if n.get(f"after_{col}"):
                if as_of_given:
                    out.append(_warn(c, "far_date_after", col, masks[f"after_{col}"], n[f"after_{col}"], t[col], years=years))
                else:
                    out.append(c.error("far_date_after", col, masks[f"after_{col}"], n[f"after_{col}"], t[col], years=years))
            if n.get(f"before_{col}"):
                out.append(_warn(c, "far_date_before", col, masks[f"before_{col}"], n[f"before_{col}"], t[col], years=years))
    return out


def _after_as_of(c: _Counted, as_of, cols) -> tuple[dict, list]:
    """The masks of dates after the snapshot date (their events are ignored in every figure) and a function making
    their warnings from the counts."""
    if as_of is None:
        return {}, lambda n: []
    day = pd.Timestamp(as_of).date()
    dates = record_dates(c.t, c.name) if c.name in DATE_COLUMNS else {}   # an open deal's closed_at is not late
    masks = {f"late_{col}": dates.get(col, c.t[col]) > day for col in cols}

    def findings(n: dict) -> list[Finding]:
        return [_warn(c, "after_as_of", col, masks[f"late_{col}"], n[f"late_{col}"], c.t[col], as_of=f"{as_of:%Y-%m-%d}")
                for col in cols if n[f"late_{col}"]]

    return masks, findings


def after_as_of_findings(src: CheckTables, name: str, as_of) -> list[Finding]:
    """The after_as_of warnings of one table's date columns (leads, opportunities) alone."""
    c = _Counted(src, name)
    masks, findings = _after_as_of(c, as_of, DATE_COLUMNS[name])
    return findings(c.count(masks))


# --------------------------------------------------------------------------- opportunities, leads, spend
def _mapped_by_canonical_ja(values) -> bool:
    """True when some value is an outcome the shipped mapping canonical_ja reads (受注, 失注, 進行中, ...: its value map,
    compared as the mapping compares)."""
    from helpers.data.mapping import _key, load_mapping

    rule = load_mapping("canonical_ja").tables["opportunities"].rule("outcome")
    words = {k for k, _ in rule.values if k not in OUTCOMES}
    return any(_key(v) in words for v in values if v is not None)


def opportunity_findings(src: CheckTables, as_of) -> list[Finding]:
    """Ids, outcome values, close dates, amounts and lead links of the opportunities, then their dates after as_of
    (docs/data_dictionary.md lists each check)."""
    import ibis

    c = _Counted(src, "opportunities")
    o = c.t
    closed, won, lost = o.outcome.isin(("won", "lost")), o.outcome == "won", o.outcome == "lost"
    # a cell the loader refused as unparseable (bad_date, bad_number) is written, not missing: no second finding
    written_close, written_amount = o.closed_at.notnull() | unread(o, "closed_at"), o.amount.notnull() | unread(o, "amount")
    m = {"bad_outcome": o.outcome.notnull() & ~o.outcome.isin(OUTCOMES), "no_close": closed & ~written_close,
         "backwards": closed & (o.closed_at < o.created_at), "won": won, "lost": lost, "amounts": written_amount,
         "won_no_amount": won & ~written_amount, "lost_paid": lost & (o.amount.fill_null(0) > 0),
         "negative": o.amount < 0, "created": o.created_at.notnull(),
         "open_closed": (o.outcome == "open") & o.closed_at.notnull(),
         "orphan": _unknown(o.lead_id, src.get("leads"), "lead_id") if src.get("leads") is not None else ibis.literal(False)}
    late, late_findings = _after_as_of(c, as_of, DATE_COLUMNS["opportunities"])
    # one query: every check's count and the ids' (duplicates), read by one scan of the table
    n = c.count(m | late, _days=o.created_at.nunique(), _first=o.created_at.min(), **_id_counts(c, "opportunity_id"))
    out = _duplicate_findings(c, "opportunity_id", n)
    if n["bad_outcome"]:
        bad = o.filter(m["bad_outcome"]).select("outcome").distinct().limit(OUTCOME_VALUES_READ)
        with _quiet():
            values = src.con.to_pyarrow(bad)["outcome"].to_pylist()
        also = Phrase("part_outcomes_canonical_ja") if _mapped_by_canonical_ja(values) else ""
        out.append(c.error("bad_outcome", "outcome", m["bad_outcome"], n["bad_outcome"], o.outcome, also=also))
    if n["no_close"]:
        out.append(c.error("missing_closed_at", "closed_at", m["no_close"], n["no_close"]))
    if n["backwards"]:
        out.append(c.error("closed_before_created", "closed_at", m["backwards"], n["backwards"], o.closed_at))
    if not n["amounts"]:
        # Amount is optional: counts, rates and cycle still work; the money figures are null ("no amounts").
        if n["won"]:
            out.append(_warn(c, "no_amounts", "amount", count=n["won"]))
    elif n["won_no_amount"]:
        out.append(_warn(c, "won_without_amount", "amount", m["won_no_amount"], n["won_no_amount"]))
    if n["lost"] and n["amounts"] and not n["lost_paid"]:
        out.append(_warn(c, "lost_amounts_zero", "amount", m["lost"], n["lost"]))
    if n["negative"]:
        out.append(c.error("negative_amount", "amount", m["negative"], n["negative"], o.amount))
    if n["won"] and not n["lost"]:
        out.append(_warn(c, "no_lost_deals", "outcome", count=n["won"]))
    if n["created"] >= MIN_ROWS_FOR_BULK_CHECK and n["_days"] == 1:
        out.append(_warn(c, "one_created_at", "created_at", count=n["created"], day=f"{n['_first']:%Y-%m-%d}"))
    if n["open_closed"]:
        out.append(_warn(c, "open_with_closed_at", "closed_at", m["open_closed"], n["open_closed"]))
    if n["orphan"]:
        out.append(_warn(c, "unknown_lead_id", "lead_id", m["orphan"], n["orphan"], o.lead_id))
    return out + late_findings(n)


def lead_findings(src: CheckTables, as_of) -> list[Finding]:
    """Ids, stage-date order and opportunity links of the leads, a disqualify_reason without its disqualified_at, then
    their dates after as_of."""
    c = _Counted(src, "leads")
    t = c.t
    m = {f"early_{col}": t[col] < t.created_at for col in ("mql_at", "sql_at")}
    m["orphan"] = _unknown(t.opportunity_id, src.get("opportunities"), "opportunity_id")
    reason = t.disqualify_reason.strip()   # sales' feedback half filled (contract section 5); a missing column is null
    m["undated_reason"] = (reason.notnull() & (reason != "") & t.disqualified_at.isnull()).fill_null(False)
    late, late_findings = _after_as_of(c, as_of, DATE_COLUMNS["leads"])
    n = c.count(m | late, **_id_counts(c, "lead_id"))   # the ids' counts (duplicates) in the same scan
    out = _duplicate_findings(c, "lead_id", n)
    for col in ("mql_at", "sql_at"):
        if n[f"early_{col}"]:
            out.append(_warn(c, "stage_before_created", col, m[f"early_{col}"], n[f"early_{col}"], t[col]))
    if n["orphan"]:
        out.append(_warn(c, "unknown_opportunity_id", "opportunity_id", m["orphan"], n["orphan"], t.opportunity_id))
    if n["undated_reason"]:   # a status needs its date: the lead counts as not disqualified (glossary, "feedback")
        out.append(_warn(c, "reason_without_disqualified_at", "disqualified_at", m["undated_reason"], n["undated_reason"],
                         t.disqualify_reason))
    return out + late_findings(n)


def spend_findings(src: CheckTables) -> list[Finding]:
    """Spend amounts are >= 0 (error); repeated month x channel rows are summed (warning)."""
    import ibis

    c = _Counted(src, "spend")
    t = c.t
    # month x channel pairs, nulls included (as pandas' duplicated counts them): the day's fixed-width text, then the channel
    pair = t.month.cast("string").fill_null("-") + "|" + t.channel.fill_null("")
    n = c.count({"negative": t.amount < 0}, _rows=t.count(), _keys=pair.nunique())
    out = []
    if n["negative"]:
        out.append(c.error("negative_amount", "amount", t.amount < 0, n["negative"], t.amount, variant="spend"))
    if n["_rows"] > n["_keys"]:
        order = t[ROW] if src.positions else [t.amount]
        marked = t.mutate(_later=ibis.row_number().over(group_by=[t.month, t.channel], order_by=order) > 0)
        rows, _, ids = c.first(marked._later, None, marked)
        out.append(dataclasses.replace(warning(c.file, "duplicate_month_channel", "month", rows, (), n["_rows"] - n["_keys"]),
                                       ids=ids))
    return out


def table_findings(src: CheckTables, as_of) -> list[Finding]:
    """The checks of opportunities, leads and spend, in the order a folder's load reports them."""
    out = opportunity_findings(src, as_of)
    if src.get("leads") is not None:
        out += lead_findings(src, as_of)
    if src.get("spend") is not None:
        out += spend_findings(src)
    return out


# --------------------------------------------------------------------------- touches
def _with_close_limit(src: CheckTables):
    """The touches with ``_limit``: the earliest close day of a won or lost deal each is linked to (a deal of its lead,
    through the lead's opportunity_id or the deal's lead_id, or the deal it carries); null when none. Each lead's
    earliest close is found once (a grouped join), so there is no touch x deal join."""
    import ibis

    t, o, leads = src.get("touches"), src.get("opportunities"), src.get("leads")
    closed = o.filter(o.outcome.isin(("won", "lost")) & o.closed_at.notnull() & o.opportunity_id.notnull())
    closed = closed.group_by(c_id=closed.opportunity_id).aggregate(c_day=closed.closed_at.min())
    links = [o.filter(o.lead_id.notnull()).select(p_lead=o.lead_id, p_opp=o.opportunity_id)]
    if leads is not None:
        links.insert(0, leads.filter(leads.opportunity_id.notnull()).select(p_lead=leads.lead_id, p_opp=leads.opportunity_id))
    pairs = ibis.union(*links, distinct=False) if len(links) > 1 else links[0]
    pairs = pairs.join(closed, pairs.p_opp == closed.c_id)
    by_lead = pairs.filter(pairs.p_lead.notnull()).group_by(l_id=pairs.p_lead).aggregate(l_day=pairs.c_day.min())
    joined = t.left_join(by_lead, t.lead_id == by_lead.l_id).left_join(closed, t.opportunity_id == closed.c_id)
    limit = ibis.cases((joined.l_day.isnull(), joined.c_day), (joined.c_day.isnull(), joined.l_day),
                       (joined.c_day < joined.l_day, joined.c_day), else_=joined.l_day)
    return joined.mutate(_limit=limit).drop("l_id", "l_day", "c_id", "c_day")


def touch_findings(src: CheckTables, as_of) -> list[Finding]:
    """The checks of the touches against leads and opportunities (helpers.data.touches' module notes): repeated
    touch_id (error), unknown lead or opportunity, a touch dated after its deal closed or after as_of (warnings)."""
    t = _with_close_limit(src)
    c = _Counted(src, "touches", t)
    out = _duplicates(_Counted(src, "touches"), "touch_id")
    m = {"lead": _unknown(t.lead_id, src.get("leads"), "lead_id"),
         "opp": _unknown(t.opportunity_id, src.get("opportunities"), "opportunity_id"),
         "late": t.touched_at > t._limit}
    late, late_findings = _after_as_of(c, as_of, ("touched_at",))
    n = c.count(m | late)
    if n["lead"]:
        out.append(_warn(c, "touch_unknown_lead", "lead_id", m["lead"], n["lead"], t.lead_id))
    if n["opp"]:
        out.append(_warn(c, "touch_unknown_opportunity", "opportunity_id", m["opp"], n["opp"], t.opportunity_id))
    if n["late"]:
        out.append(_warn(c, "touch_after_close", "touched_at", m["late"], n["late"], t.touched_at))
    return out + late_findings(n)


# --------------------------------------------------------------------------- a warehouse's findings
def warehouse_findings(con, sources: dict, files: dict[str, str] | None = None, as_of=None) -> tuple[list[Finding], pd.Timestamp | None]:
    """Every row check of :func:`table_findings`, :func:`far_date_findings` and :func:`touch_findings` run in a
    warehouse: ``(findings, as_of)``.

    `sources` maps canonical names (leads, opportunities, spend, touches) to Ibis tables of `con` with the contract's
    columns (helpers.metrics.warehouse checks the required ones); `files` names each in the findings (default: the
    table's name). `as_of` None = the latest date of leads and opportunities (as a folder's). The findings are a
    folder's of the same rows, but for where they point: no row numbers (a table has none), the first offending ids
    in id order instead (``Finding.ids``), and the values shown of those rows."""
    src = canonical_tables(con, sources, {name: (files or {}).get(name, name) for name in sources})
    days = date_days(src)
    given = as_of is not None
    as_of = pd.Timestamp(as_of).normalize() if given else latest_day(days[0])
    out = far_date_findings(src, given, days) + table_findings(src, as_of)
    if src.get("touches") is not None:
        out += touch_findings(src, as_of)
    return out, as_of
