"""Data health (notebook 00) as engine queries on a :class:`helpers.metrics.source.Source`: counts and sums only.

Each function here is the engine form of a figure of :mod:`helpers.metrics.health` / :mod:`helpers.metrics.limits`
(same definition, same result on a data folder): it builds Ibis expressions on ``source.opps()`` / ``source.leads()``
/ ``source.touches()`` and runs them with :meth:`~helpers.metrics.source.Source.fetch`, so on a warehouse only
aggregates come back, whatever the size of the tables:

- :func:`rows_per_period_of`: one row per (table, month) with rows;
- :func:`value_counts_of`: one row per (table, value);
- :func:`stage_completeness_of`, :func:`negative_intervals_of`, :func:`stale_open_deals_of`, :func:`traceability_of`:
  one row each;
- :func:`table_rows_of`: one row per table (rows, first and last date);
- :func:`channel_values_of`: one row per distinct channel spelling (what helpers.data.channels.check_channel_names
  compares the display names with).

Each of these but :func:`rows_per_period_of` depends only on the source's tables and its arguments, and is computed
once per source and arguments (:func:`helpers.metrics.source.memoized_figure`): a report run's kernel shares one
source between its notebooks and periods (helpers.report.session), and notebook 00 asks for them every period.

Dates are compared as calendar days (the loader's ``date`` columns are days already), amounts as float64.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from helpers.data.periods import Period, period_of
from helpers.metrics.engine import UNKNOWN, _key_label, pairs_expr
from helpers.metrics.pipeline import amounts_reason, day, last_day, ratio, stage_dates_of, stage_dates_reason
from helpers.metrics.source import memoized_figure

#: "All history" as a window start (helpers.metrics.health.EARLIEST).
EARLIEST = pd.Timestamp("1900-01-01")


def _date(value) -> dt.date:
    return day(value).date()


def _one(source, table) -> dict:
    """The single row of an ungrouped aggregate, fetched from `source`."""
    return source.fetch(table).to_pylist()[0]


# --------------------------------------------------------------------------- rows per period
def rows_per_period_of(source, periods: list[Period], as_of, fy_start: int) -> pd.DataFrame:
    """helpers.metrics.health.rows_per_period on `source`: per period label of `periods`, leads created (a column only
    with a leads table), opportunities created and deals closed (won or lost), each dated on or before as_of; int64.
    One query: rows per (series, month) come back, a month being a whole part of a fiscal quarter."""
    import ibis

    cutoff = _date(as_of)
    o = source.opps()
    parts = {"opportunities_created": (o, o.created_at, None),
             "closed": (o, o.closed_at, o.outcome.isin(("won", "lost")))}
    if source.has_leads:
        ld = source.leads()
        parts = {"leads": (ld, ld.created_at, None), **parts}
    grouped = []
    for name, (t, column, keep) in parts.items():
        d = column.cast("date")
        x = t.select(d=d, keep=ibis.literal(True) if keep is None else keep)
        x = x.filter(x.d.notnull() & (x.d <= cutoff) & x.keep.fill_null(False))
        grouped.append(x.group_by(y=x.d.year(), m=x.d.month()).aggregate(n=x.count()).mutate(what=ibis.literal(name)))
    rows = source.fetch(ibis.union(*grouped, distinct=False)).to_pylist()
    labels = [p.label for p in periods]
    out = pd.DataFrame(index=labels)
    for name in parts:
        counts = {}
        for r in rows:
            if r["what"] == name:
                label = period_of(pd.Timestamp(year=int(r["y"]), month=int(r["m"]), day=1), fy_start).label
                counts[label] = counts.get(label, 0) + int(r["n"])
        out[name] = pd.Series(counts, dtype="int64").reindex(out.index, fill_value=0).astype("int64")
    out.index.name = "period"
    return out.reset_index()


# --------------------------------------------------------------------------- values of a segment column
@memoized_figure
def value_counts_of(source, column: str) -> pd.DataFrame:
    """helpers.metrics.health.value_counts on `source`: rows per value of `column` in the leads and the opportunities
    that have it (null or blank shown as 'unknown'), most frequent first (ties in value order); columns value, leads,
    opportunities (the tables that have the column; a source without an opportunities table, a leads-only folder,
    has no opportunities column: its counts are unknown, not 0). One grouped count per table."""
    parts = {}
    for name in ("leads", "opportunities"):
        if name == "leads" and not source.has_leads or name == "opportunities" and not source.has_opportunities:
            continue
        if not source.has_column(name, column):
            continue
        t = source.leads((column,)) if name == "leads" else source.opps((column,))
        x = t.select(value=_key_label(t.k0.cast("string")))
        got = source.fetch(x.group_by("value").aggregate(n=x.count())).to_pylist()
        got.sort(key=lambda r: (-r["n"], r["value"]))
        parts[name] = pd.Series([r["n"] for r in got], index=[r["value"] for r in got], dtype="int64")
    if not parts:
        return pd.DataFrame(columns=["value"])
    out = pd.DataFrame(parts).fillna(0).astype("int64")
    out = out.sort_values(list(parts), ascending=False, kind="stable")
    out.index.name = "value"
    return out.reset_index()


# --------------------------------------------------------------------------- funnel stages
def _linked_lead_ids(source):
    """The lead ids linked (from either table) to an opportunity that exists."""
    o, ld = source.opps(), source.leads()
    p = pairs_expr(ld, o)
    return p.filter(p.opportunity_id.isin(o.opportunity_id.cast("string"))).lead_id


@memoized_figure
def stage_completeness_of(source, as_of) -> dict | None:
    """helpers.metrics.health.stage_completeness on `source`: of the leads created on or before as_of, those with an
    mql_at, an sql_at, a linked opportunity (a link from either table to an opportunity that exists), and the leads
    that skipped MQL or SQL; None without a leads table. Without an opportunities table the figures of a link
    (:data:`LINKED_KEYS`) are null with no_opportunities, not 0. One aggregate row."""
    if not source.has_leads:
        return None
    ld = source.leads()
    ld = ld.filter(ld.created_at.cast("date") <= _date(as_of))
    linked = ld.lead_id.cast("string").isin(_linked_lead_ids(source)).fill_null(False)
    mql, sql = ld.mql_at.notnull(), ld.sql_at.notnull()
    row = _one(source, ld.aggregate(n=ld.count(), mql=ld.count(where=mql), sql=ld.count(where=sql),
                                    linked=ld.count(where=linked), skipped_mql=ld.count(where=(sql | linked) & ~mql),
                                    skipped_sql=ld.count(where=linked & ~sql)))
    n = int(row["n"])
    out = {
        "leads": n,
        "with_mql_at": int(row["mql"]), "with_mql_at_share": ratio(int(row["mql"]), n),
        "with_sql_at": int(row["sql"]), "with_sql_at_share": ratio(int(row["sql"]), n),
        "with_opportunity": int(row["linked"]), "with_opportunity_share": ratio(int(row["linked"]), n),
        "skipped_mql": int(row["skipped_mql"]),
        "skipped_sql": int(row["skipped_sql"]),
    }
    dated = stage_dates_of(source) or {}
    undated = {key: code for key, column in (("skipped_mql", "mql_at"), ("skipped_sql", "sql_at"))
               if (code := stage_dates_reason(column, dated.get(column, 0)))}
    if undated:   # a stage no lead has a date of is not recorded: nothing "skipped" it (no_mql_dates / no_sql_dates)
        out = dict(out, **dict.fromkeys(undated), null_reasons=undated)
    if not source.has_opportunities:
        out = dict(_no_opportunities(out, LINKED_KEYS), null_reasons={**undated, **dict.fromkeys(LINKED_KEYS, "no_opportunities")})
    return out


#: The stage completeness figures that count a lead's link to an opportunity: unknown without an opportunities table.
LINKED_KEYS = ("with_opportunity", "with_opportunity_share", "skipped_sql")


@memoized_figure
def negative_intervals_of(source, as_of) -> dict:
    """helpers.metrics.limits.negative_intervals on `source`: linked lead-opportunity pairs (both created on or before
    as_of) whose opportunity was created, or won, before the lead was created; zeros without a leads table, null
    with no_opportunities without an opportunities table (no pair to check: unknown, not 0). One aggregate row."""
    import ibis

    if not source.has_opportunities:
        return _no_opportunities({}, ("opportunity_before_lead", "won_before_lead"))
    if not source.has_leads:
        return {"opportunity_before_lead": 0, "won_before_lead": 0}
    cutoff = _date(as_of)
    ld, o = source.leads(), source.opps()
    p = pairs_expr(ld, o)
    lead_days = ld.select(l_id=ld.lead_id.cast("string"), lead_created=ld.created_at.cast("date"))
    opp_days = o.select(o_id=o.opportunity_id.cast("string"), opp_created=o.created_at.cast("date"),
                        won_at=ibis.ifelse(o.outcome == "won", o.closed_at.cast("date"), ibis.null("date")))
    j = p.join(lead_days, p.lead_id == lead_days.l_id).join(opp_days, p.opportunity_id == opp_days.o_id)
    j = j.filter((j.lead_created <= cutoff) & (j.opp_created <= cutoff))
    won = j.won_at.notnull() & (j.won_at <= cutoff)
    row = _one(source, j.aggregate(before=j.count(where=j.opp_created < j.lead_created),
                                   won=j.count(where=won & (j.won_at < j.lead_created))))
    return {"opportunity_before_lead": int(row["before"]), "won_before_lead": int(row["won"])}


# --------------------------------------------------------------------------- open deals past an age
@memoized_figure
def stale_open_deals_of(source, as_of, days: int) -> dict:
    """helpers.metrics.health.stale_open_deals on `source`: deals open on as_of (created by then, not won or lost by
    then) older than `days` days: count, known amount (None with its reason when the data has no amounts or no
    opportunity at all, helpers.metrics.pipeline.amounts_reason, or no stale deal has one) and the oldest open deal's age
    (None without open deals). Without an opportunities table (``source.has_opportunities`` False: a leads-only
    folder) every figure but the threshold is null with no_opportunities, never 0. One aggregate row."""
    import ibis

    if not source.has_opportunities:
        return _no_opportunities({"threshold_days": days}, ("open", "stale", "stale_amount", "oldest_days"))
    cutoff = _date(as_of)
    o = source.opps()
    created, closed = o.created_at.cast("date"), o.closed_at.cast("date")
    closed_by = (o.outcome.isin(("won", "lost")) & (closed <= cutoff)).fill_null(False)
    open_now = (created <= cutoff).fill_null(False) & ~closed_by
    age = ibis.literal(cutoff).delta(created, unit="day")
    stale = open_now & (age > days).fill_null(False)
    row = _one(source, o.aggregate(rows=o.count(), open=o.count(where=open_now), stale=o.count(where=stale),
                                   stale_known=o.count(where=stale & o.amount.notnull()),
                                   stale_amount=o.amount.sum(where=stale), amounts=o.count(where=o.amount.notnull()),
                                   oldest=age.max(where=open_now)))
    whole = amounts_reason(int(row["rows"]), int(row["amounts"]))
    stale_amount = None
    if whole is None and (row["stale_known"] or not row["stale"]):
        stale_amount = float(row["stale_amount"] or 0.0)
    out = {"threshold_days": days, "open": int(row["open"]), "stale": int(row["stale"]), "stale_amount": stale_amount,
           "oldest_days": int(row["oldest"]) if row["open"] else None}
    reasons = {}
    if out["stale_amount"] is None:
        reasons["stale_amount"] = whole or "no_stale_amounts"
    if out["oldest_days"] is None:
        reasons["oldest_days"] = "no_open_deals"
    return dict(out, null_reasons=reasons) if reasons else out


#: The figures of :func:`traceability_of` (every one null with no_opportunities without an opportunities table).
TRACEABILITY_KEYS = ("won_count", "won_revenue", "revenue_traceable_share", "revenue_linked_to_lead_share",
                     "opportunities_without_lead", "opportunities_unknown_channel")


# --------------------------------------------------------------------------- traceability
@memoized_figure
def traceability_of(source, as_of, start=None, end=None) -> dict:
    """helpers.metrics.health.traceability on `source`: of the revenue won in [start, end] (default all history up to
    as_of; deals created by as_of), the shares whose channel is known and whose deal links to a lead (a link from either
    table); over all opportunities, those without a lead and those of unknown channel. The money figures' reason: the
    data's first (helpers.metrics.pipeline.amounts_reason: no_opportunities, no_amounts), else no_won_deals, else
    won_amounts_missing / no_closed_amounts (won deals, none with an amount). Without an opportunities table (as
    :func:`stale_open_deals_of`) every figure is null with no_opportunities. One aggregate row."""
    if not source.has_opportunities:
        return _no_opportunities({}, TRACEABILITY_KEYS)
    first = _date(start if start is not None else EARLIEST)
    last = last_day(end if end is not None else as_of, as_of).date()
    o = source.opps(("channel",))
    p = pairs_expr(source.leads(), o) if source.has_leads else pairs_expr(_no_leads(o), o)
    closed, created = o.closed_at.cast("date"), o.created_at.cast("date")
    won = ((o.outcome == "won") & closed.between(first, last) & (created <= _date(as_of))).fill_null(False)
    known_channel = _key_label(o.k0.cast("string")) != UNKNOWN
    has_lead = o.opportunity_id.cast("string").isin(p.opportunity_id).fill_null(False)
    row = _one(source, o.aggregate(
        rows=o.count(), amounts=o.count(where=o.amount.notnull()),
        won=o.count(where=won), total=o.amount.sum(where=won), known=o.count(where=won & o.amount.notnull()),
        traceable=o.amount.sum(where=won & known_channel), linked=o.amount.sum(where=won & has_lead),
        without_lead=o.count(where=~has_lead), unknown_channel=o.count(where=~known_channel)))
    total = float(row["total"] or 0.0)
    n = int(row["won"])
    whole = amounts_reason(int(row["rows"]), int(row["amounts"]))
    out = {
        "won_count": n, "won_revenue": total if whole is None and (row["known"] or not n) else None,
        "revenue_traceable_share": ratio(float(row["traceable"] or 0.0), total) if total else None,
        "revenue_linked_to_lead_share": ratio(float(row["linked"] or 0.0), total) if total else None,
        "opportunities_without_lead": int(row["without_lead"]),
        "opportunities_unknown_channel": int(row["unknown_channel"]),
    }
    reasons = {}
    if out["won_revenue"] is None:
        reasons["won_revenue"] = whole or "won_amounts_missing"
    for key in ("revenue_traceable_share", "revenue_linked_to_lead_share"):
        if out[key] is None:
            reasons[key] = whole or ("no_won_deals" if not n else "no_closed_amounts")
    return dict(out, null_reasons=reasons) if reasons else out


def _no_opportunities(out: dict, keys) -> dict:
    """`out` with each figure of `keys` None and its reason no_opportunities (there is no opportunities table)."""
    return dict(out, **dict.fromkeys(keys), null_reasons=dict.fromkeys(keys, "no_opportunities"))


def _no_leads(o):
    """An empty leads table in the engine's shape (a source without leads: the links come from the opportunities only)."""
    import ibis

    return o.select(lead_id=o.lead_id, opportunity_id=ibis.null("string")).filter(ibis.literal(False))


# --------------------------------------------------------------------------- table sizes
@memoized_figure
def table_rows_of(source) -> dict[str, tuple[int, pd.Timestamp | None, pd.Timestamp | None]]:
    """{table: (rows, first date, last date)} of the leads (created_at), opportunities (created_at) and touches
    (touched_at) `source` has: one aggregate row per table (dates as calendar days, None when none is set). Without an
    opportunities table (``source.has_opportunities`` False) its entry is (None, None, None): not counted, unknown
    rather than 0 rows."""
    tables = {"opportunities": (source.opps(), "created_at")} if source.has_opportunities else {}
    if source.has_leads:
        tables = {"leads": (source.leads(), "created_at"), **tables}
    touches = source.touches()
    if touches is not None:
        tables["touches"] = (touches, "d")
    out = {} if source.has_opportunities else {"opportunities": (None, None, None)}
    for name, (t, column) in tables.items():
        d = t[column].cast("date")
        row = _one(source, t.aggregate(n=t.count(), lo=d.min(), hi=d.max()))
        out[name] = (int(row["n"]), *(None if row[k] is None else pd.Timestamp(row[k]) for k in ("lo", "hi")))
    return out


@memoized_figure
def touch_channels_of(source) -> list[str]:
    """The distinct channel spellings of the touches of `source` (nulls left out; [] without a touches table): what
    helpers.data.channels.check_marketing_channels compares attribution.marketing_channels with."""
    touches = source.touches()
    if touches is None:
        return []
    values = touches.select(v=touches.channel.cast("string")).distinct()
    values = values.filter(values.v.notnull())
    return sorted(r["v"] for r in source.fetch(values).to_pylist())


@memoized_figure
def channel_values_of(source) -> list[str]:
    """The distinct channel spellings of the leads, opportunities and touches of `source` (nulls left out; one row per
    spelling comes back): the names helpers.data.channels.check_channel_names compares the display names with."""
    import ibis

    parts = []
    if source.has_leads and source.has_column("leads", "channel"):
        ld = source.leads(("channel",))
        parts.append(ld.select(v=ld.k0.cast("string")))
    if source.has_column("opportunities", "channel"):
        o = source.opps(("channel",))
        parts.append(o.select(v=o.k0.cast("string")))
    touches = source.touches()
    if touches is not None:
        parts.append(touches.select(v=touches.channel.cast("string")))
    if not parts:
        return []
    values = (ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]).distinct()
    values = values.filter(values.v.notnull())
    return sorted(r["v"] for r in source.fetch(values).to_pylist())
