"""What the goals forecast and its backtest (notebook 04) read from the opportunities, as engine expressions
(helpers.metrics.engine's tables and backend): counts per duration day and per block of days, never the deals' rows.

For each forecast date a (the backtest asks for about twenty in one query) :func:`forecast_counts_expr` returns:

- the history cells: the opportunities created in (a - LOOKBACK_DAYS, a], counted per (duration, event, recent,
  amount): duration = days from created_at to the won/lost close, or to a while open (the survival curves' counts
  per day); event 1 won, 2 lost, 0 open on a (censored); recent = created in the last RATE_DAYS days; amount = the
  won deal's amount (the deal sizes the forecast draws), an open deal's value (``pipeline.open_amounts``), else null;
- the open deals on a (created by a, not won or lost by a) per (age, value): the same cells with event 0;
- the period-effect blocks: the history's opportunities per block of BLOCK_DAYS days of age, and its won deals per
  block of their close with the sum and count of their known amounts;
- the deals won so far in the forecast's period (count and amount);
- the first created_at known on a;

and :func:`won_days_expr` the won deals per (closed_at, amount), for the seasonal term (helpers.metrics.season).

Rows fetched grow with the distinct days and amounts, not with the deals: a table of twice the same deals fetches
the same rows. The bootstrap of the forecast resamples these cells as it resampled deals (a resample of n deals is a
multinomial over the cells with probabilities count ÷ n, whatever the deals' order: tests/test_goals_engine.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from helpers.metrics import engine
from helpers.metrics.goals_constants import LOOKBACK_DAYS, RATE_DAYS

#: Days of age (or since the close) per period-effect block (helpers.metrics.goals_forecast.period_variation).
BLOCK_DAYS = 91
#: Closing blocks used (helpers.metrics.goals_forecast): the newest ones whose closes the lookback holds in full (a
#: deal closed in an older block may have been created before the lookback began).
CLOSING_BLOCKS = 6
#: The kinds of row :func:`forecast_counts_expr` returns (column ``kind``).
CELLS, CREATED_BLOCKS, WON_BLOCKS, WON_SO_FAR, FIRST_CREATED, WON_DAYS = range(6)
EPOCH = dt.date(1970, 1, 1)


def table(opps):
    """The engine table of `opps`: a pandas frame made one (:func:`helpers.metrics.engine.opps_table`, built once per
    frame within ``reusing_tables``), an Ibis table (a warehouse's, canonical columns) as it is."""
    return engine.opps_table(opps) if isinstance(opps, pd.DataFrame) else opps


def _dates_table(dates):
    """The forecast dates as an engine table: i (position), a (as_of), lb (a - LOOKBACK_DAYS: history after it),
    rec (a - RATE_DAYS: recent after it), pf / pl (the period's first day and min(last day, a))."""
    import ibis

    def days(values):
        return pa.array(values, type=pa.date32())

    a = [engine._day(w) for _, w in dates]
    return ibis.memtable(pa.table({
        "i": pa.array(range(len(dates)), type=pa.int64()), "a": days(a),
        "lb": days([x - dt.timedelta(days=LOOKBACK_DAYS) for x in a]), "rec": days([x - dt.timedelta(days=RATE_DAYS) for x in a]),
        "pf": days([engine._day(p.start) for p, _ in dates]), "pl": days([min(engine._day(p.end), x) for (p, _), x in zip(dates, a)])}))


def _row(t, kind: int, i=None, x=None, e=None, r=None, lb=None, amt=None, n=None, s=None, k=None):
    """One kind's rows in the common columns of :func:`forecast_counts_expr` (null where the kind has nothing)."""
    import ibis

    def col(value, dtype):
        return ibis.null(dtype) if value is None else value.cast(dtype)

    return t.select(kind=ibis.literal(kind, type="int8"), i=col(i, "int64"), x=col(x, "int64"), e=col(e, "int8"),
                    r=col(r, "boolean"), lb=col(lb, "boolean"), amt=col(amt, "float64"), n=col(n, "int64"),
                    s=col(s, "float64"), k=col(k, "int64"))


def forecast_counts_expr(opps, dates):
    """The counts every forecast of `dates` ((period, as_of) pairs) needs, in one query (the module docstring): one
    row per (kind, i, x, e, r, lb, amt) with n (rows), s (amount sum), k (known amounts); i = the date's position.

    kind CELLS: x duration days, e event, r recent, lb in the history window, amt (won amount or open value), n;
    CREATED_BLOCKS: x block of age, n; WON_BLOCKS: x block of the close, n, s, k; WON_SO_FAR: n, s;
    FIRST_CREATED: x = the first created_at's day number (days since 1970-01-01); WON_DAYS (i null): the rows of
    :func:`won_days_expr` on the latest date (x the close's day number, amt, n)."""
    import ibis

    o = engine._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    d = _dates_table(dates)
    j = o.join(d, o.created <= d.a)
    won = ((j.outcome == "won") & (j.closed <= j.a)).fill_null(False)
    lost = ((j.outcome == "lost") & (j.closed <= j.a)).fill_null(False)
    event = ibis.ifelse(won, 1, ibis.ifelse(lost, 2, 0))
    end = ibis.ifelse(won | lost, j.closed, j.a)
    duration = ibis.greatest(end.delta(j.created, unit="day"), 0)
    age = j.a.delta(j.created, unit="day")
    placeholder = ((j.outcome == "lost") & (j.amount == 0)).fill_null(False)   # pipeline.open_amounts: unknown
    j = j.mutate(event=event, duration=duration, age=age, in_lb=j.created > j.lb, recent=j.created > j.rec,
                 amt=ibis.ifelse(won | ~(lost | placeholder), j.amount, ibis.null("float64")))
    cells = j.filter(j.in_lb | (j.event == 0))
    cells = cells.group_by(["i", "duration", "event", "recent", "in_lb", "amt"]).aggregate(n=cells.count())
    hist = j.filter(j.in_lb)
    hist = hist.mutate(block=hist.age // BLOCK_DAYS, closed_block=(hist.age - hist.duration) // BLOCK_DAYS)
    created = hist.group_by(["i", "block"]).aggregate(n=hist.count())
    wins = hist.filter(hist.event == 1)
    wins = wins.group_by(["i", "closed_block"]).aggregate(n=wins.count(), s=wins.amount.sum(), k=wins.amount.count())
    so_far = j.filter((j.outcome == "won") & j.closed.between(j.pf, j.pl))
    so_far = so_far.group_by("i").aggregate(n=so_far.count(), s=so_far.amount.sum())
    first = j.group_by("i").aggregate(x=j.created.delta(ibis.date(EPOCH), unit="day").min())
    won_days = won_days_expr(opps, max(engine._day(w) for _, w in dates), season_horizon(dates))
    return ibis.union(
        _row(cells, CELLS, i=cells.i, x=cells.duration, e=cells.event, r=cells.recent, lb=cells.in_lb, amt=cells.amt,
             n=cells.n),
        _row(created, CREATED_BLOCKS, i=created.i, x=created.block, n=created.n),
        _row(wins, WON_BLOCKS, i=wins.i, x=wins.closed_block, n=wins.n, s=wins.s, k=wins.k),
        _row(so_far, WON_SO_FAR, i=so_far.i, n=so_far.n, s=so_far.s),
        _row(first, FIRST_CREATED, i=first.i, x=first.x),
        _row(won_days, WON_DAYS, x=won_days.x, amt=won_days.amount, n=won_days.n), distinct=False)


def season_horizon(dates) -> dt.date:
    """The earliest close day the seasonal term of a forecast of `dates` ((period, as_of) pairs) can read: the same days
    of up to season.MAX_YEARS past years (366 days each, at least a calendar year) and a reference year
    (season.YEAR_DAYS) around them, before the earliest day it measures: its period (at least
    season.MIN_DAYS days ending on the period's end: helpers.metrics.season.same_days_factors) and the
    CLOSING_BLOCKS blocks before as_of it deseasonalises (helpers.metrics.season.deseasonalise). A win closed before
    it changes no figure."""
    from helpers.metrics.season import MAX_YEARS, MIN_DAYS, YEAR_DAYS

    first = min(min(engine._day(a) - dt.timedelta(days=CLOSING_BLOCKS * BLOCK_DAYS), engine._day(p.start),
                    engine._day(p.end) - dt.timedelta(days=MIN_DAYS)) for p, a in dates)
    return first - dt.timedelta(days=366 * MAX_YEARS + YEAR_DAYS + 1)


def won_days_expr(opps, as_of: dt.date, since: dt.date | None = None):
    """The won deals closed on or before as_of (and on or after `since` when given: :func:`season_horizon`) per
    (closed_at, amount): x = the close's day number (days since 1970-01-01), amt (null when unknown), n
    (helpers.metrics.season.known_wins' deals, counted)."""
    import ibis

    o = engine._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    keep = (o.outcome == "won") & (o.closed <= as_of)
    w = o.filter(keep & (o.closed >= since) if since is not None else keep)
    w = w.mutate(x=w.closed.delta(ibis.date(EPOCH), unit="day"))
    return w.group_by(["x", "amount"]).aggregate(n=w.count())


def _won_in(o, first: dt.date, as_of: dt.date):
    """Won with closed_at in [first, as_of] and created by as_of (helpers.metrics.pipeline.closed_mask)."""
    return (o.outcome == "won") & o.closed.between(first, as_of) & (o.created <= as_of)


def recent_deals_expr(opps, leads, as_of: dt.date, days: int):
    """One row over the opportunities of the `days` days ending on as_of: ``recent`` (created then), ``linked`` (those
    linked to a lead through either link column; null when `leads` is None), ``won_n`` / ``won_m`` (the won deals
    closed then, created by as_of, with a known gap >= 0 from created_at to closed_at: their count and median days)."""
    import ibis

    first = as_of - dt.timedelta(days=days - 1)
    o = engine._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    if leads is not None:
        ids = engine.pairs_expr(leads, opps).select("opportunity_id").distinct().mutate(linked=ibis.literal(True))
        o = o.left_join(ids, o.opportunity_id == ids.opportunity_id).select(*o.columns, linked=ids.linked.fill_null(False))
    recent = o.created.between(first, as_of).fill_null(False)
    gap = o.closed.delta(o.created, unit="day").cast("float64")
    ok = (_won_in(o, first, as_of) & gap.notnull() & (gap >= 0)).fill_null(False)
    return o.aggregate(recent=o.count(where=recent),
                       linked=o.count(where=recent & o.linked) if leads is not None else ibis.null("int64"),
                       won_n=o.count(where=ok), won_m=gap.quantile(0.5, where=ok))


def won_amounts_expr(opps, as_of: dt.date, days: int):
    """The known amounts of the deals won (closed) in the `days` days ending on as_of, created by as_of, per amount:
    ``amount``, ``n`` (the reverse funnel's sample of deal sizes, bounded by that window's distinct amounts)."""
    o = engine._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    w = o.filter(_won_in(o, as_of - dt.timedelta(days=days - 1), as_of) & o.amount.notnull())
    return w.group_by("amount").aggregate(n=w.count())


def won_amounts(opps, as_of, days: int, backend=None) -> np.ndarray:
    """:func:`won_amounts_expr` run: the amounts, one per deal, in increasing order."""
    got = _fetch(won_amounts_expr(table(opps), engine._day(as_of), days), backend).to_pydict()
    cells = Cells.sorted({"amount": np.array(got["amount"], dtype=float)}, np.array(got["n"], dtype=np.int64), ("amount",))
    return cells.rows("amount")


def cycle_facts_expr(opps, first: dt.date, last: dt.date, as_of: dt.date):
    """One row for the median sales cycle: created_n (rows with a created_at), created_days (distinct created days),
    won_ever (won by as_of, with a created_at), same_day (those closed on their created day), cohort_won / cohort_open
    (of the deals created in [first, last]: won by as_of / open on as_of)."""
    o = engine._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    won = ((o.outcome == "won") & (o.closed <= as_of)).fill_null(False)
    lost = ((o.outcome == "lost") & (o.closed <= as_of)).fill_null(False)
    won_ever = won & o.created.notnull()
    cohort = o.created.between(first, last).fill_null(False)
    return o.aggregate(created_n=o.created.count(), created_days=o.created.nunique(), won_ever=o.count(where=won_ever),
                       same_day=o.count(where=won_ever & (o.closed == o.created)), cohort_won=o.count(where=cohort & won),
                       cohort_open=o.count(where=cohort & (o.created <= as_of) & ~(won | lost)))


def cycle_days_expr(opps, first: dt.date, last: dt.date, as_of: dt.date):
    """The deals created in [first, last] and not lost by as_of, per (days, won): days from created_at to the won
    close, or to as_of while open (censored; a negative gap counts 0), n."""
    import ibis

    o = engine._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    lost = ((o.outcome == "lost") & (o.closed <= as_of)).fill_null(False)
    keep = o.filter(o.created.between(first, last) & ~lost)
    won = ((keep.outcome == "won") & (keep.closed <= as_of)).fill_null(False)
    days = ibis.greatest(ibis.ifelse(won, keep.closed, ibis.literal(as_of)).delta(keep.created, unit="day"), 0)
    keep = keep.mutate(days=days, won=won)
    return keep.group_by(["days", "won"]).aggregate(n=keep.count())


def first_created_expr(opps):
    """The first created_at of the opportunities (x: its day number; null without one)."""
    import ibis

    o = engine._prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    return o.aggregate(x=o.created.delta(ibis.date(EPOCH), unit="day").min())


def _fetch(expr, backend=None) -> pa.Table:
    con = backend or engine.default_backend()
    return engine.to_arrow(con, expr)


def _day_number(x) -> pd.Timestamp:
    return pd.Timestamp(EPOCH) + pd.Timedelta(days=int(x))


def first_created(opps, backend=None):
    """:func:`first_created_expr` run: the first created_at as a Timestamp (NaT without one)."""
    x = _fetch(first_created_expr(opps), backend).column("x")[0].as_py()
    return pd.NaT if x is None else _day_number(x)


# --------------------------------------------------------------------------- the fetched counts, per forecast date
def _nan_last(values: np.ndarray) -> np.ndarray:
    """A sort key of floats with NaN after every number."""
    return np.where(np.isnan(values), np.inf, values)


@dataclass
class Cells:
    """Rows counted per distinct values, in a fixed order (so the same data give the same draws whatever the order of
    their rows): ``values`` {name: array}, ``n`` (rows per cell)."""

    values: dict
    n: np.ndarray

    @classmethod
    def sorted(cls, values: dict, n: np.ndarray, order: tuple) -> "Cells":
        """Cells in the order of the columns `order` (the first the primary key; NaN after numbers)."""
        keys = [_nan_last(np.asarray(values[c], dtype=float)) for c in reversed(order)]
        idx = np.lexsort(keys) if len(n) else np.zeros(0, dtype=int)
        return cls({c: np.asarray(v)[idx] for c, v in values.items()}, np.asarray(n, dtype=np.int64)[idx])

    def rows(self, name: str) -> np.ndarray:
        """Column `name` repeated once per row (the rows in the cells' order)."""
        return np.repeat(self.values[name], self.n)


@dataclass
class History:
    """What one forecast reads as known on its as_of: ``cells`` (history: duration, event, recent, amount),
    ``open`` (open deals: age, value), ``created`` (history per block of age, blocks 0..oldest), ``won_blocks``
    (block -> (wins, known amount sum, known amounts)), ``so_far`` (won count, won amount in the period),
    ``first`` (the first created_at by as_of)."""

    cells: Cells
    open: Cells
    created: np.ndarray
    won_blocks: dict
    so_far: tuple[int, float]
    first: pd.Timestamp


def _numbers(column) -> np.ndarray:
    """A fetched column as float64, null as NaN (the counts' integers, day numbers and flags are exact in it)."""
    return column.cast("float64").to_numpy(zero_copy_only=False)


def forecast_inputs(opps, dates, backend=None) -> tuple[list[History], Cells | None]:
    """:func:`forecast_counts_expr` run for `dates` ((period, as_of) pairs), one query: one :class:`History` per date,
    in order, and the won deals' cells of the latest date (:func:`known_wins` reads each date's from them)."""
    if not dates:
        return [], None
    got = _fetch(forecast_counts_expr(table(opps), dates), backend)
    cols = {c: _numbers(got.column(c)) for c in got.column_names}   # one array per column, no object per value (issue 26)
    kind, i = cols["kind"].astype(int), np.nan_to_num(cols["i"], nan=-1).astype(int)
    wd = kind == WON_DAYS
    won = Cells.sorted({"closed": cols["x"][wd].astype(np.int64), "amt": cols["amt"][wd]},
                       cols["n"][wd].astype(np.int64), ("closed", "amt"))
    rows_of = {k: np.flatnonzero(kind == k) for k in (CELLS, CREATED_BLOCKS, WON_BLOCKS, WON_SO_FAR, FIRST_CREATED)}
    out = []
    for pos in range(len(dates)):
        def part(k):
            rows = rows_of[k]
            return rows[i[rows] == pos]

        c = part(CELLS)
        lb = cols["lb"][c] == 1
        values = {"t": cols["x"][c], "e": cols["e"][c].astype(int), "r": cols["r"][c] == 1, "amt": cols["amt"][c]}
        n = cols["n"][c].astype(np.int64)
        hist = Cells.sorted({k: v[lb] for k, v in values.items()}, n[lb], ("t", "e", "r", "amt"))
        is_open = values["e"] == 0
        opened = Cells.sorted({"age": values["t"][is_open], "amt": values["amt"][is_open]}, n[is_open], ("age", "amt"))
        b = part(CREATED_BLOCKS)
        blocks = cols["x"][b].astype(int)
        created = np.zeros(blocks.max() + 1 if len(blocks) else 0)
        created[blocks] = cols["n"][b]
        w = part(WON_BLOCKS)
        won_blocks = {int(x): (int(nn), 0.0 if np.isnan(s) else float(s), int(k))
                      for x, nn, s, k in zip(cols["x"][w], cols["n"][w], cols["s"][w], cols["k"][w])}
        f = part(WON_SO_FAR)
        so_far = (int(cols["n"][f][0]), float(np.nan_to_num(cols["s"][f][0]))) if len(f) else (0, 0.0)
        fc = part(FIRST_CREATED)
        first = _day_number(cols["x"][fc][0]) if len(fc) else pd.NaT
        out.append(History(hist, opened, created, won_blocks, so_far, first))
    return out, won


def won_revenue(opps, windows, as_of, backend=None) -> list[float]:
    """The won revenue (helpers.metrics.pipeline.pipeline_metrics) of each (start, end) of `windows`, in order, from one
    query (:func:`helpers.metrics.engine.windows_pipeline_expr`: one row per window)."""
    from helpers.metrics.pipeline import derive_pipeline

    if not windows:
        return []
    a = engine._day(as_of)
    bounds = [engine.period_bounds(start, end, as_of)[:2] for start, end in windows]
    found = engine.run(engine.windows_pipeline_expr(table(opps), bounds, a), backend)
    return [derive_pipeline(found.get(("window", str(i))))["won_revenue"] for i in range(len(windows))]


def known_wins(won: Cells, first: pd.Timestamp, as_of) -> dict:
    """helpers.metrics.season.known_wins from the won deals' cells (:func:`forecast_inputs`, fetched for a date on or after
    as_of) and the first created_at by as_of: the wins closed on or before as_of, sorted by day (then amount)."""
    from helpers.metrics.pipeline import day
    from helpers.metrics.season import WARMUP_DAYS

    cutoff = day(as_of)
    keep = won.values["closed"] <= (cutoff - pd.Timestamp(EPOCH)).days
    n = won.n[keep]
    closed = np.repeat(won.values["closed"][keep], n).astype("datetime64[D]")
    return {"closed": closed, "amount": np.repeat(won.values["amt"][keep], n),
            "covered_from": pd.NaT if pd.isna(first) else first + pd.Timedelta(days=WARMUP_DAYS), "known_until": cutoff}
