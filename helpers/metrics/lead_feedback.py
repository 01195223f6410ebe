"""Sales' feedback on the MQLs it got (contract section 5): accepted, disqualified (with reasons), recycled, pending.

Computed on a :class:`helpers.metrics.source.Source` (:func:`feedback_of`: one grouped query, counts only) over the
leads table (canonical columns ``mql_at``, ``sql_at``, ``channel`` and the optional feedback columns
``disqualified_at``, ``disqualify_reason``, ``recycled_at``); tests/lead_reference.py computes it lead by lead.

Each MQL of the period (mql_at in it) gets one status, sales' first decision known by as_of: the earliest of
sql_at (accepted), disqualified_at (disqualified) and recycled_at (recycled: sent back to marketing for
nurturing); on the same day accepted wins over disqualified, disqualified over recycled. An MQL without any of
them is pending. The four counts add up to the MQLs.
"""
from __future__ import annotations

import datetime as dt

from helpers.metrics.goals_engine import _fetch
from helpers.metrics.pipeline import ratio

#: The optional lead columns that carry sales' feedback.
FEEDBACK_COLUMNS = ("disqualified_at", "disqualify_reason", "recycled_at")
STATUSES = ("accepted", "disqualified", "recycled", "pending")
#: A reason left empty.
NO_REASON = "(no reason)"


#: The statuses a missing feedback column leaves unknown: without disqualified_at (or recycled_at) an MQL that sales
#: turned down reads as pending, so disqualified (recycled) and pending are null, never 0.
UNKNOWN_WITHOUT = {"disqualified_at": ("disqualified", "pending"), "recycled_at": ("recycled", "pending")}


def feedback_of(source, start, end, as_of) -> dict:
    """Sales' feedback on the MQLs with mql_at in [start, min(end, as_of)]: ``{columns_missing, period: {mqls,
    accepted, disqualified, recycled, pending, <status>_share, disqualify_reasons: {reason: share},
    median_days_to_accept, null_reasons}, by_channel: {channel: the same}, null_reasons}``.
    median_days_to_accept = median of sql_at − mql_at (days) over the accepted MQLs. ``columns_missing`` lists
    the feedback columns the leads table lacks (or that are empty everywhere); without disqualified_at or recycled_at
    that status and pending are null with the reason ``feedback_column_missing`` (an MQL turned down would read as
    pending).

    On a :class:`helpers.metrics.source.Source`, from one grouped query (MQLs per channel, status and disqualify
    reason, and the accepted ones per channel and days to acceptance; the medians are taken from those counts). Reasons of equal share are listed in the order of their first MQL by lead_id (a
    folder's file order when its leads are in lead_id order: a warehouse keeps no row order)."""
    import ibis

    from helpers.metrics import engine
    from helpers.metrics.lead_engine import _text, column_kinds
    from helpers.metrics.pipeline import stage_dates_of, stage_dates_reason

    names = source.lead_columns()
    if "mql_at" not in names or stage_dates_reason("mql_at", (stage_dates_of(source) or {}).get("mql_at", 0)):
        return {"columns_missing": list(FEEDBACK_COLUMNS), "period": None, "by_channel": {},
                "null_reasons": {"period": "no_mql_dates"}}
    present = [c for c in FEEDBACK_COLUMNS if c in names]
    kinds = column_kinds(source, present)
    missing = [c for c in FEEDBACK_COLUMNS if c not in names or not kinds[c][1]]
    a, last = engine._day(as_of), min(engine._day(end), engine._day(as_of))
    t = source.raw_leads([c for c in ("channel", *present) if c in names])
    mql = t.mql_at.cast("date")
    t = t.filter(mql.between(engine._day(start), last))
    never = ibis.literal(dt.date(9999, 12, 31))
    events = [t.sql_at.cast("date")] + [t[c].cast("date") if c in present else ibis.null("date")
                                        for c in ("disqualified_at", "recycled_at")]
    events = [ibis.ifelse(e.notnull() & (e <= a), e, never) for e in events]
    first = ibis.least(*events)
    status = ibis.cases((first == never, "pending"), (events[0] == first, "accepted"), (events[1] == first, "disqualified"),
                        else_="recycled")
    reason = (_text(t.disqualify_reason) if "disqualify_reason" in present else ibis.null("string")).fill_null(NO_REASON)
    channel = engine._label(t.channel) if "channel" in names else ibis.literal(engine.UNKNOWN)
    days = t.sql_at.cast("date").delta(t.mql_at.cast("date"), unit="day")
    x = t.select(lead_id=t.lead_id, ch=channel, st=status, re=ibis.ifelse(status == "disqualified", reason, ibis.null("string")),
                 d=ibis.ifelse((status == "accepted") & days.notnull(), days, ibis.null("int64")).cast("int64"))
    got = _fetch(x.group_by(["ch", "st", "re", "d"]).aggregate(n=x.count(), first=x.lead_id.min()), source.backend).to_pylist()
    return counted_feedback(got, missing)


def counted_feedback(cells: list[dict], missing: list[str]) -> dict:
    """:func:`feedback_of`'s section from the MQL counts per (ch channel, st status, re reason when disqualified, d days to
    acceptance when accepted): ``n`` and ``first`` (the least lead_id)."""
    def summary(rows):
        n = sum(r["n"] for r in rows)
        unknown = {s for c in missing for s in UNKNOWN_WITHOUT.get(c, ())}
        counts = {s: (None if s in unknown else sum(r["n"] for r in rows if r["st"] == s)) for s in STATUSES}
        reasons: dict[str, int] = {}
        first: dict[str, str] = {}
        for r in rows:
            if r["st"] == "disqualified":
                reasons[r["re"]] = reasons.get(r["re"], 0) + r["n"]
                first[r["re"]] = min(first.get(r["re"], r["first"]), r["first"])
        disq = sum(reasons.values())
        days = sorted((r["d"], r["n"]) for r in rows if r["st"] == "accepted" and r["d"] is not None)
        out = {"mqls": n, **counts, **{f"{s}_share": None if s in unknown else ratio(counts[s], n) for s in STATUSES},
               "disqualify_reasons": {k: v / disq for k, v in sorted(reasons.items(), key=lambda kv: (-kv[1], first[kv[0]]))},
               "median_days_to_accept": _median(days), "null_reasons": {}}
        if n == 0:
            out["null_reasons"] = {f"{s}_share": "no_mqls" for s in STATUSES} | {"median_days_to_accept": "no_mqls"}
        elif not days:
            out["null_reasons"] = {"median_days_to_accept": "none_accepted"}
        for s in sorted(unknown):
            out["null_reasons"][s] = out["null_reasons"][f"{s}_share"] = "feedback_column_missing"
        return out
    channels = sorted({r["ch"] for r in cells})
    return {"columns_missing": missing, "period": summary(cells),
            "by_channel": {ch: summary([r for r in cells if r["ch"] == ch]) for ch in channels}, "null_reasons": {}}


def _median(counts: list[tuple[int, int]]) -> float | None:
    """The median of the values (value, count) sorted by value (the middle one, or the mean of the two middle ones)."""
    total = sum(n for _, n in counts)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]
    found, seen = [], 0
    for value, n in counts:
        while wanted and wanted[0] < seen + n:
            found.append(float(value))
            wanted.pop(0)
        seen += n
    return (found[0] + found[1]) / 2
