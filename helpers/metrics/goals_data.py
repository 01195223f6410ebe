"""What the goals' targets, progress, coverage, funnel rates and plan (notebook 04) read from a source, as engine
aggregates fetched in batches (issue 26: every figure computed where the data lives, one query per table).

:class:`GoalData` over a :class:`helpers.metrics.source.Source` and as_of gives

- the data-wide facts in one row (:meth:`GoalData.facts`): the opportunities' helpers.metrics.limits.DataFacts, the
  first created_at of the opportunities and leads (helpers.data.load.first_data_date's day), the leads' last
  created_at and how many leads carry an mql_at / sql_at (helpers.metrics.goals_targets.lead_metric_gap);
- the pipeline aggregates (:meth:`GoalData.pipeline`: helpers.metrics.pipeline.pipeline_metrics) and the lead counts
  (:meth:`GoalData.lead_counts`: funnel_period's leads, mqls, sqls and funnel_cohort's counts) of any windows
  (first day, last day, channel or None): every window asked for (:meth:`GoalData.want`) before a figure is read is
  fetched with it, in one query per table (helpers.metrics.engine.windowed: the windows a small table joined to the
  rows, so neither the expression nor the rows fetched grow with the table), one row per window;
- the channels the leads and opportunities hold (:meth:`GoalData.channels`, one row per channel).

A window's channel limits the opportunities (and leads) to those whose channel is it, as the frames' filter
``channel == goal channel`` did; its cohort counts follow the leads to any linked deal.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from helpers.metrics import engine

#: A window: (first day, last day = min(end, as_of), channel or None).
Window = tuple


def lead_windows_expr(leads, opps, windows, as_of: dt.date):
    """Per window i of `windows` (the leads' key k0 their channel): p_leads, p_mqls, p_sqls (leads existing on as_of
    with created_at / mql_at / sql_at in the window: helpers.metrics.engine.lead_funnel_expr's period counts) and
    c_leads, c_mql, c_sql, c_opp, c_won (the leads created in the window, followed to as_of: its cohort counts)."""
    flags = engine.lead_flags_expr(leads, opps, as_of, as_of, as_of)
    f = engine.windowed(flags, windows)
    existing = f.f_exists
    cohort = f.created.between(f.s, f.l).fill_null(False)
    return f.group_by("i").aggregate(
        p_leads=f.count(where=existing & f.created.between(f.s, f.l)), p_mqls=f.count(where=existing & f.mql.between(f.s, f.l)),
        p_sqls=f.count(where=existing & f.sqld.between(f.s, f.l)), c_leads=f.count(where=cohort),
        c_mql=f.count(where=cohort & f.f_mql), c_sql=f.count(where=cohort & f.f_sql), c_opp=f.count(where=cohort & f.f_opp),
        c_won=f.count(where=cohort & f.f_won))


def facts_row_expr(opps, leads, as_of):
    """One row: helpers.metrics.limits.facts_expr's opportunity facts, ``first`` (the opportunities' first created day)
    and, with `leads`, ``leads_first`` / ``leads_last`` (their first and last created day) and ``mql_at`` / ``sql_at``
    (leads carrying that date)."""
    from helpers.metrics.limits import facts_expr

    row = facts_expr(opps, as_of, first=opps.created_at.cast("date").min())
    if leads is None:
        return row
    created = leads.created_at.cast("date")
    return row.cross_join(leads.aggregate(leads_first=created.min(), leads_last=created.max(),
                                          mql_at=leads.mql_at.count(), sql_at=leads.sql_at.count()))


def channels_expr(leads, opps):
    """The distinct channels (key k0, null left out) of the opportunities and leads: column ``c``."""
    import ibis

    parts = [t.select(c=t.k0.cast("string")) for t in (opps, leads) if t is not None]
    both = parts[0].distinct() if len(parts) == 1 else ibis.union(*parts, distinct=True)
    return both.filter(both.c.notnull())


class GoalData:
    """The goals' reads of `source` on `as_of` (the module notes): facts, window aggregates, channels; each fetched once.

    `warning_codes`: the load's warning codes (helpers.metrics.limits.warning_codes), which the facts read."""

    def __init__(self, source, as_of, warning_codes=()):
        self.source, self.as_of, self.a = source, as_of, engine._day(as_of)
        self.codes = list(warning_codes)
        self._pipeline: dict = {}
        self._leads: dict = {}
        self._pending: dict = {"opps": [], "leads": []}
        self._facts = None
        self._channels = None

    # ----------------------------------------------------------------------------------------------- the tables
    def opps(self):
        """The opportunities' engine table with the key k0 = channel."""
        return self.source.opps(("channel",))

    def leads(self):
        """The leads' engine table with the key k0 = channel (None without a leads table)."""
        return self.source.leads(("channel",)) if self.source.has_leads else None

    # ----------------------------------------------------------------------------------------------- windows
    def window(self, start, end, channel: str | None = None) -> Window:
        """The window of the period [start, end] (as known on as_of) limited to `channel` (None: every channel)."""
        first, last, _ = engine.period_bounds(start, end, self.as_of)
        return first, last, channel

    def want(self, *windows, sides=("opps", "leads")) -> None:
        """Ask for windows (:meth:`window`'s tuples, or (start, end[, channel])) to be fetched with the next read of
        each of `sides` ("opps": :meth:`pipeline`, "leads": :meth:`lead_counts`; a window only the pipeline reads
        is not counted over every lead)."""
        for w in windows:
            key = self.window(*w)
            for side in sides:
                if key not in self._pending[side]:
                    self._pending[side].append(key)

    def _fetch(self, store: dict, side: str) -> None:
        todo = [w for w in self._pending[side] if w not in store]
        if not todo:
            return
        if side == "opps":
            found = self.source.run(engine.windows_pipeline_expr(self.opps(), todo, self.a))
            rows = {int(k): row for (_, k), row in found.items()}
        else:
            got = self.source.fetch(lead_windows_expr(self.leads(), self.opps(), todo, self.a)).to_pylist()
            rows = {row.pop("i"): row for row in got}
        for i, w in enumerate(todo):
            store[w] = rows.get(i)

    def pipeline(self, start, end, channel: str | None = None) -> dict:
        """helpers.metrics.pipeline.pipeline_metrics of the period [start, end] on as_of (of one channel when given)."""
        from helpers.metrics.pipeline import derive_pipeline

        key = self.window(start, end, channel)
        if key not in self._pipeline:
            self.want(key, sides=("opps",))
            self._fetch(self._pipeline, "opps")
        return derive_pipeline(self._pipeline[key])

    def lead_counts(self, start, end, channel: str | None = None) -> dict | None:
        """The leads of the period [start, end] on as_of (of one channel when given): {leads, mqls, sqls}
        (helpers.metrics.funnel.funnel_period's) and {cohort: the counts helpers.metrics.funnel.derive_cohort reads};
        None without a leads table."""
        if not self.source.has_leads:
            return None
        key = self.window(start, end, channel)
        if key not in self._leads:
            self.want(key, sides=("leads",))
            self._fetch(self._leads, "leads")
        row = self._leads[key] or {}
        return {"leads": int(row.get("p_leads", 0)), "mqls": int(row.get("p_mqls", 0)), "sqls": int(row.get("p_sqls", 0)),
                "cohort": {k: int(row.get(k, 0)) for k in ("c_leads", "c_mql", "c_sql", "c_opp", "c_won")}}

    # ----------------------------------------------------------------------------------------------- one-row facts
    def facts(self) -> dict:
        """{facts: DataFacts, first: the first created_at day of opportunities and leads (None without one),
        leads: None without a leads table, else {last: the last lead created_at day (None), mql_at, sql_at: leads
        carrying that date}} (one row fetched, once); the facts' ``no_opportunities`` also when the source has no
        opportunities table (its ``has_opportunities``, as helpers.metrics.limits.data_facts_of)."""
        if self._facts is None:
            from helpers.metrics.limits import facts_from_row

            row = self.source.fetch(facts_row_expr(self.source.opps(), self.leads(), self.as_of)).to_pylist()[0]
            firsts = [pd.Timestamp(d) for d in (row["first"], row.get("leads_first")) if d is not None]
            leads = None if not self.source.has_leads else {
                "last": None if row["leads_last"] is None else pd.Timestamp(row["leads_last"]),
                "mql_at": int(row["mql_at"]), "sql_at": int(row["sql_at"])}
            codes = tuple(self.codes) + (() if self.source.has_opportunities else ("no_opportunities",))   # as data_facts_of
            self._facts = {"facts": facts_from_row(row, codes), "first": min(firsts) if firsts else None, "leads": leads}
        return self._facts

    def channels(self) -> set[str]:
        """The channels the opportunities and leads hold (one row per channel fetched, once)."""
        if self._channels is None:
            got = self.source.fetch(channels_expr(self.leads(), self.opps())).column("c").to_pylist()
            self._channels = set(got)
        return self._channels


def frames_data(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of) -> GoalData:
    """A :class:`GoalData` over pandas frames (helpers.metrics.source.FrameSource): the functions over frames use it."""
    from helpers.metrics.source import FrameSource

    return GoalData(FrameSource(leads, opps), as_of)
