"""The follow-up SLA's counts as engine expressions of a source (notebook 02's SLA views, notebook 01's checklist
evidence item 5): one grouped query, a row per value of the breakdown, whatever the number of leads.

:func:`helpers.metrics.funnel_analysis.follow_up_sla` defines the figures; :func:`sla_expr` counts them. Times are
compared as timestamps: an MQL's clock starts at midnight of its mql_at day (a date), its deadline is that midnight
plus the SLA's hours, and a touch (first_sales_touch_at, a timestamp) counts when it is known before the end of the
as_of day. The hours to touch are fetched as the median of whole microseconds (linear interpolation), so a folder and
a warehouse derive the same hours from the same integer.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from helpers.metrics import engine

#: Microseconds in one hour (the hours to touch are fetched in microseconds).
HOUR_US = 3_600_000_000


def due_by(as_of, sla_hours: float) -> dt.date:
    """The last mql_at day whose deadline (that day's midnight + `sla_hours`) has passed by the end of the as_of day."""
    end_of_as_of = pd.Timestamp(engine._day(as_of)) + pd.Timedelta(days=1)
    return (end_of_as_of - pd.Timedelta(hours=float(sla_hours))).normalize().date()


def sla_expr(leads, as_of, sla_hours: float, start=None, end=None, dims=()):
    """Per (dim, k) of the leads' breakdown keys k0, k1, ... (`dims`; the total is (ALL, ALL)), over the leads created
    by as_of: ``exists``, ``in_window`` (mql_at in [start, min(end, as_of)], or by as_of when start is None),
    ``mqls`` (of those, due: deadline passed by the end of as_of), ``hit`` (touched by the deadline), ``late``,
    ``untouched``, ``median_us`` (median microseconds from the MQL's midnight to the touch of the touched due MQLs, a
    touch before it counted as 0). `leads` holds first_sales_touch_at as a timestamp
    (:meth:`helpers.metrics.source.Source.leads`'s `stamps`)."""
    import ibis

    a = engine._day(as_of)
    end_of_as_of = ibis.literal(pd.Timestamp(a) + pd.Timedelta(days=1)).cast("timestamp")
    t = leads.mutate(mql=leads.mql_at.cast("date"), touch=leads.first_sales_touch_at.cast("timestamp"))
    t = t.filter(t.created_at.cast("date") <= a)
    if start is None:
        in_window = t.mql.notnull() & (t.mql <= a)
    else:
        s, last = engine.period_bounds(start, end if end is not None else as_of, as_of)[:2]
        in_window = t.mql.between(s, last)
    in_window = in_window.fill_null(False)
    due = in_window & (t.mql <= due_by(as_of, sla_hours))
    midnight = t.mql.cast("timestamp")
    known = (t.touch.notnull() & (t.touch < end_of_as_of)).fill_null(False)
    hit = (due & known & (t.touch <= midnight + ibis.interval(microseconds=int(round(float(sla_hours) * HOUR_US)))))
    hit = hit.fill_null(False)
    wait = t.touch.delta(midnight, unit="microsecond")
    t = t.mutate(f_in=in_window, f_due=due, f_known=known, f_hit=hit,
                 us=ibis.ifelse(due & known, ibis.greatest(wait, 0), ibis.null("int64")))
    o = engine._longer(t.select("f_in", "f_due", "f_known", "f_hit", "us", *[c for c in t.columns if engine._is_key(c)]),
                       list(dims))
    return o.group_by(["dim", "k"]).aggregate(
        exists=o.count(), in_window=o.count(where=o.f_in), mqls=o.count(where=o.f_due),
        hit=o.count(where=o.f_hit), late=o.count(where=o.f_due & o.f_known & ~o.f_hit),
        untouched=o.count(where=o.f_due & ~o.f_known), median_us=o.us.quantile(0.5))
