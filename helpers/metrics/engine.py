"""The metric engine: a period's counts and sums as Ibis expressions, run in DuckDB in process (or in a warehouse).

Only aggregates leave the engine; the rates, averages and velocity are derived
from them in Python by the metric modules' pure derivations
(:func:`helpers.metrics.pipeline.derive_pipeline`, :func:`helpers.metrics.funnel.derive_period`,
:func:`helpers.metrics.funnel.derive_cohort`), so a figure has one definition whatever
computed its counts. Every breakdown is one grouped pass (``GROUP BY`` the key),
so its cost does not grow with the number of values.

Tables enter the engine in the canonical column names (contract section 1):

- opportunities: ``opportunity_id, created_at, closed_at, outcome, amount, lead_id``
  and the breakdown key (built from a frame, also ``pos``: the row's position in the frame, the
  order a per-deal sample keeps: helpers.metrics.velocity.bootstrap_of);
- leads: ``lead_id, created_at, mql_at, sql_at, opportunity_id`` and the key;

with canonical values: ids and keys are text trimmed of whitespace (:data:`WHITESPACE`,
what Ibis' ``strip()`` removes), outcome trimmed and lower case. Each table is made
canonical once where it enters (:func:`opps_table` / :func:`leads_table` in Arrow,
helpers.metrics.warehouse in the warehouse's SQL), not again in every expression.

:func:`opps_table` / :func:`leads_table` (helpers.metrics.engine_frames, public here too) turn pandas frames
(the loaded workbook, or any frame a test builds, missing columns allowed) into such tables; a warehouse
passes its own tables (helpers.metrics.warehouse). The expressions only use portable
operations (filters, CASE, COUNT/SUM/AVG with FILTER, joins, quantile), which Ibis
compiles for DuckDB, PostgreSQL, BigQuery, Snowflake and Spark SQL alike.

The expressions are run on a connection by helpers.metrics.engine_run (:func:`default_backend`, :func:`to_arrow`,
public here too); this module builds them, runs them (:func:`run`) and keeps their results in temporary tables
(:func:`materialized`, :class:`KeptTable`).

Semantics are those of the pandas masks in helpers.metrics.pipeline and helpers.metrics.funnel:
a period is ``[start, min(end, as_of)]`` in calendar days, a null date never
matches, nothing after as_of counts, and a null or blank key is ``'unknown'``.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import weakref

import numpy as np
import pandas as pd
import pyarrow as pa

from helpers.data.duckdb_compat import duckdb_compat  # noqa: F401 - public here too (helpers.metrics.warehouse calls it)
# pandas frames into the engine (helpers.metrics.engine_frames): every name public here too, as before the move
from helpers.metrics.engine_frames import (WHITESPACE, _canonical, _columns_of, _dates, _is_key,  # noqa: F401
                                           _key_column, _key_columns, _leads_table, _numbers, _opps_table, _reused,
                                           _stamps, _texts, _touches_table, leads_columns, leads_table, opps_table,
                                           reusing_tables, share_columns, touches_table)
# running on a connection (helpers.metrics.engine_run): every name public here too, as before the move
from helpers.metrics.engine_run import (_KEPT, _drop_table, _executing, _quiet, _release, _temp_table,  # noqa: F401
                                        _unregister, code_point_text, default_backend, keep_registered, to_arrow)

#: The key of the single row an ungrouped aggregate returns.
ALL = "__all__"
UNKNOWN = "unknown"
KEY = "k"


# --------------------------------------------------------------------------- expressions
def _label(column):
    """The breakdown key of a raw column: trimmed text; null or blank -> 'unknown'."""
    return _key_label(column.cast("string").strip())


def _key_label(key):
    """The breakdown key of an engine table's trimmed key column: null or blank -> 'unknown'."""
    import ibis

    return ibis.ifelse(key.isnull() | (key == ""), ibis.literal(UNKNOWN), key)


def _longer(t, dims: list[str]):
    """One row per (row of t, dimension): columns dim and k (the labelled key), plus ALL/ALL for the total (UNION ALL: portable)."""
    import ibis

    base = [c for c in t.columns if not _is_key(c)]
    parts = [t.select(*base, dim=ibis.literal(ALL), k=ibis.literal(ALL))]
    parts += [t.select(*base, dim=ibis.literal(d), k=_key_label(t[f"k{i}"].cast("string"))) for i, d in enumerate(dims)]
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def _prepared_opps(t):
    keys = [c for c in t.columns if _is_key(c)]
    return t.select(
        opportunity_id=t.opportunity_id.cast("string"), lead_id=t.lead_id.cast("string"),
        created=t.created_at.cast("date"), closed=t.closed_at.cast("date"),
        outcome=t.outcome.cast("string"), amount=t.amount.cast("float64"), **{k: t[k] for k in keys})


def _prepared_leads(t):
    keys = [c for c in t.columns if _is_key(c)]
    return t.select(
        lead_id=t.lead_id.cast("string"), opportunity_id=t.opportunity_id.cast("string"),
        created=t.created_at.cast("date"), mql=t.mql_at.cast("date"), sqld=t.sql_at.cast("date"), **{k: t[k] for k in keys})


def _won_by(o, start, last, as_of):
    """Won with closed_at in [start, last] and created by as_of (pipeline.closed_mask)."""
    return (o.outcome == "won") & o.closed.between(start, last) & (o.created <= as_of)


def pipeline_expr(opps, start: dt.date, last: dt.date, as_of: dt.date, dims: list[str] = ()):
    """Per (dim, k): created, won, lost, won_amount, lost_amount, won_known, lost_known (rows with an amount), cycle_days
    (mean, won), open_count, open_amount, open_unknown, exists.

    `opps` holds the key columns k0, k1, ... named by `dims`; the total is the row (ALL, ALL).

    With `dims`, one pass over the opportunities counts each combination of the raw keys (a few hundred rows, as
    :func:`lead_funnel_expr`); each (dim, k) row adds up the combinations with that label: counts and sums add up,
    and cycle_days is the sum of the won deals' days over their number (both integers: the mean AVG gives).
    """
    dims = list(dims)
    if not dims:
        o = _longer(_prepared_opps(opps), [])
        return o.group_by(["dim", "k"]).aggregate(**_pipeline_counts(o, start, last, as_of))
    import ibis

    o = _prepared_opps(opps)
    counts = _pipeline_counts(o, start, last, as_of)
    won = _won_by(o, start, last, as_of)
    cycle = o.closed.delta(o.created, unit="day")
    counts.update(cycle_days=cycle.sum(where=won), cycle_n=cycle.count(where=won))
    combos = _longer(o.group_by([f"k{i}" for i in range(len(dims))]).aggregate(**counts), dims)
    summed = combos.group_by(["dim", "k"]).aggregate(**{c: combos[c].sum() for c in counts})
    mean = ibis.ifelse(summed.cycle_n > 0, summed.cycle_days.cast("float64") / summed.cycle_n, ibis.null("float64"))
    return summed.select(*[c for c in summed.columns if c not in ("cycle_days", "cycle_n")], cycle_days=mean)


def _pipeline_counts(o, start, last, as_of):
    """The aggregates of :func:`pipeline_expr` over the rows of `o` (prepared opportunities) for the period [start, last]:
    `start` and `last` are dates, or date columns of `o` (one period per row: :func:`windows_pipeline_expr`)."""
    won = _won_by(o, start, last, as_of)
    lost = (o.outcome == "lost") & o.closed.between(start, last) & (o.created <= as_of)
    closed_by_last = (o.outcome.isin(("won", "lost")) & (o.closed <= last)).fill_null(False)
    open_ = (o.created <= last) & ~closed_by_last
    placeholder = ((o.outcome == "lost") & (o.amount == 0)).fill_null(False)   # pipeline.open_amounts: unknown, not 0
    return dict(
        created=o.count(where=o.created.between(start, last)),
        won=o.count(where=won), lost=o.count(where=lost),
        won_amount=o.amount.sum(where=won), lost_amount=o.amount.sum(where=lost),
        won_known=o.count(where=won & o.amount.notnull()), lost_known=o.count(where=lost & o.amount.notnull()),
        cycle_days=o.closed.delta(o.created, unit="day").cast("float64").mean(where=won),
        open_count=o.count(where=open_), open_amount=o.amount.sum(where=open_ & ~placeholder),
        open_unknown=o.count(where=open_ & (o.amount.isnull() | placeholder)),
        exists=o.count(where=o.created <= as_of))


def windows_table(windows):
    """Periods as an engine table: ``i`` (position), ``s`` (first day), ``l`` (last day), ``ch`` (a channel the period
    is limited to, null for every channel), from (first day, last day[, channel]) tuples."""
    import ibis

    return ibis.memtable(pa.table({
        "i": pa.array(range(len(windows)), type=pa.int64()),
        "s": pa.array([w[0] for w in windows], type=pa.date32()), "l": pa.array([w[1] for w in windows], type=pa.date32()),
        "ch": pa.array([w[2] if len(w) > 2 else None for w in windows], type=pa.string())}))


def windowed(t, windows):
    """Each row of `t` once per window of `windows` (:func:`windows_table`'s columns i, s, l, ch added) whose channel is
    null or the row's key k0 (its channel): a cross join with the few windows, so one grouped pass counts them all."""
    w = windows_table(windows)
    j = t.cross_join(w)
    if any(len(x) > 2 and x[2] is not None for x in windows):
        j = j.filter(j.ch.isnull() | (j.k0.cast("string") == j.ch))
    return j


def windows_pipeline_expr(opps, bounds, as_of: dt.date):
    """:func:`pipeline_expr`'s totals for each window of `bounds` ((first day, last day) pairs, as from
    :func:`period_bounds`, or (first day, last day, channel) with the opportunities' key k0 their channel) in one
    query of one grouped pass (the windows a small table joined to every row, so the expression does not grow with
    them): one row per window that has opportunities, ``dim`` 'window' and ``k`` its position as text."""
    import ibis

    j = windowed(_prepared_opps(opps), list(bounds))
    counts = j.group_by("i").aggregate(**_pipeline_counts(j, j.s, j.l, as_of))
    return counts.select(dim=ibis.literal("window"), k=counts.i.cast("string"),
                         **{c: counts[c] for c in counts.columns if c != "i"})


def pairs_expr(leads, opps):
    """The lead-opportunity links: distinct (lead_id, opportunity_id) from leads.opportunity_id OR opps.lead_id (funnel.linked_pairs)."""
    a = leads.select(lead_id=leads.lead_id.cast("string"), opportunity_id=leads.opportunity_id.cast("string"))
    b = opps.select(lead_id=opps.lead_id.cast("string"), opportunity_id=opps.opportunity_id.cast("string"))
    both = a.union(b, distinct=True)
    return both.filter(both.lead_id.notnull() & both.opportunity_id.notnull())


def lead_flags_expr(leads, opps, start: dt.date, last: dt.date, as_of: dt.date):
    """One row per lead (keys k0, k1, ... kept) with its funnel flags: f_won, f_opp, f_sql, f_mql (reached by as_of,
    through any link), f_has_mql, f_has_sql (own stage date by as_of), f_cohort (created in P), f_exists (created by as_of)."""
    ld = _prepared_leads(leads)
    o = _prepared_opps(opps)
    p = pairs_expr(leads, opps)
    j = p.join(o, p.opportunity_id == o.opportunity_id)
    reached = j.group_by(lead=j.lead_id).aggregate(
        opp=(j.created <= as_of).any(),
        won=((j.outcome == "won") & (j.closed <= as_of) & (j.created <= as_of)).any())
    return reached_flags(ld.left_join(reached, ld.lead_id == reached.lead), start, last, as_of).drop("lead", "opp", "won")


def reached_flags(flagged, start: dt.date, last: dt.date, as_of: dt.date):
    """Prepared leads left-joined to their stages reached through a link (columns opp, won: null = none) with the
    flags of :func:`lead_flags_expr` added (f_won ... f_exists)."""
    won = flagged.won.fill_null(False)
    opp = flagged.opp.fill_null(False) | won
    has_mql = (flagged.mql <= as_of).fill_null(False)
    has_sql = (flagged.sqld <= as_of).fill_null(False)
    sql = has_sql | opp
    return flagged.mutate(
        f_won=won, f_opp=opp, f_sql=sql, f_mql=has_mql | sql, f_has_mql=has_mql, f_has_sql=has_sql,
        f_cohort=flagged.created.between(start, last).fill_null(False), f_exists=(flagged.created <= as_of).fill_null(False))


def _lead_counts(f, start: dt.date, last: dt.date) -> dict:
    """The lead funnel counts of :func:`lead_funnel_expr` over the rows of `f` (flags from :func:`lead_flags_expr`)."""
    cohort, existing = f.f_cohort, f.f_exists
    return dict(
        p_leads=f.count(where=existing & f.created.between(start, last)),
        p_mqls=f.count(where=existing & f.mql.between(start, last)),
        p_sqls=f.count(where=existing & f.sqld.between(start, last)),
        c_leads=f.count(where=cohort), c_mql=f.count(where=cohort & f.f_mql), c_sql=f.count(where=cohort & f.f_sql),
        c_opp=f.count(where=cohort & f.f_opp), c_won=f.count(where=cohort & f.f_won),
        skipped_mql=f.count(where=cohort & f.f_mql & ~f.f_has_mql),
        skipped_sql=f.count(where=cohort & f.f_sql & ~f.f_has_sql),
        exists=f.count(where=existing))


def lead_funnel_expr(flags, start: dt.date, last: dt.date, dims: list[str] = ()):
    """Per (dim, k) of the leads (from :func:`lead_flags_expr`): the period counts (p_leads, p_mqls, p_sqls), the cohort
    counts (c_leads ... c_won, skipped_mql, skipped_sql) and exists; the total is the row (ALL, ALL).

    With `dims`, one pass over the leads counts each combination of the raw keys k0, k1, ... (a few hundred rows);
    each (dim, k) row is the sum of the combinations with that label (counts add up exactly)."""
    dims = list(dims)
    if not dims:
        f = _longer(flags, [])
        return f.group_by(["dim", "k"]).aggregate(**_lead_counts(f, start, last))
    f = _longer(lead_combos_expr(flags, start, last, len(dims)), dims)
    return f.group_by(["dim", "k"]).aggregate(**{name: f[name].sum() for name in _lead_counts(flags, start, last)})


def lead_combos_expr(flags, start: dt.date, last: dt.date, keys: int):
    """Per combination of the raw breakdown keys k0 ... k{keys-1} of the leads (flags from :func:`lead_flags_expr`):
    the counts of :func:`lead_funnel_expr` (one grouped pass; a few hundred rows)."""
    return flags.group_by([f"k{i}" for i in range(keys)]).aggregate(**_lead_counts(flags, start, last))


def lead_cells_expr(flags, start: dt.date, last: dt.date, keys: int):
    """:func:`lead_combos_expr` with each key labelled (null or blank -> 'unknown') and the combinations with the same
    labels added up: the counts of each cell of a cross table of `keys` dimensions (k0 ... as labels)."""
    combos = lead_combos_expr(flags, start, last, keys)
    counts = [c for c in combos.columns if not _is_key(c)]
    names = [f"k{i}" for i in range(keys)]
    labelled = combos.select(**{k: _key_label(combos[k].cast("string")) for k in names}, **{c: combos[c] for c in counts})
    return labelled.group_by(names).aggregate(**{c: labelled[c].sum() for c in counts})


def linked_expr(leads, opps, as_of: dt.date):
    """The links of the existing leads (created by as_of): one row per (lead, linked opportunity), keys k0, k1, ... kept."""
    ld = _prepared_leads(leads)
    p = pairs_expr(leads, opps)
    existing = ld.filter(ld.created <= as_of)
    return p.join(existing, p.lead_id == existing.lead_id).select(*[c for c in existing.columns if _is_key(c)],
                                                                  opportunity_id=p.opportunity_id)


def linked_opps_expr(links, opps, start: dt.date, last: dt.date, as_of: dt.date, dims: list[str]):
    """Per (dim, k) of the leads (links from :func:`linked_expr`): the linked opportunities created in P (opps) and won in P (won)."""
    o = _prepared_opps(opps)
    pairs = _longer(links, list(dims)).select("dim", "k", "opportunity_id").distinct()
    j = pairs.join(o, pairs.opportunity_id == o.opportunity_id)
    return j.group_by(["dim", "k"]).aggregate(opps=j.count(where=j.created.between(start, last)),
                                              won=j.count(where=_won_by(j, start, last, as_of)))


def typical_expr(leads, opps, as_of: dt.date, quantile: float):
    """The `quantile` (linear interpolation) of days from lead created_at to linked opportunity created_at, both by as_of;
    a negative gap (dates running backwards: a data error counted in data health) is left out, never 0 days."""
    ld = _prepared_leads(leads.select("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id"))
    o = _prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    p = pairs_expr(leads, opps)
    j = p.join(ld, p.lead_id == ld.lead_id).join(o, p.opportunity_id == o.opportunity_id)
    j = j.filter((j.created <= as_of) & (j.created_right <= as_of))
    j = j.mutate(gap=j.created_right.delta(j.created, unit="day").cast("float64"))
    j = j.filter(j.gap >= 0)
    return j.aggregate(n=j.count(), q=j.gap.quantile(quantile))


def lead_to_won_expr(leads, opps, as_of: dt.date, quantile: float):
    """The `quantile` (linear interpolation) of days from lead created_at to the linked opportunity's closed_at, over the
    links whose deal was won by as_of (created by as_of) and whose lead was created by as_of; a negative interval is left out."""
    ld = _prepared_leads(leads.select("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id"))
    o = _prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    p = pairs_expr(leads, opps)
    j = p.join(ld, p.lead_id == ld.lead_id).join(o, p.opportunity_id == o.opportunity_id)
    j = j.filter((j.created <= as_of) & (j.outcome == "won") & (j.closed <= as_of) & (j.created_right <= as_of))
    j = j.mutate(gap=j.closed.delta(j.created, unit="day").cast("float64"))
    j = j.filter(j.gap >= 0)
    return j.aggregate(n=j.count(), q=j.gap.quantile(quantile))


def day_quantiles_expr(leads, opps, as_of: dt.date, typical_quantile: float, won_quantile: float):
    """:func:`typical_expr` and :func:`lead_to_won_expr` in one pass over the linked pairs (one join, two filtered
    quantiles): ``n``/``q`` of days from lead created_at to the linked opportunity's created_at (`typical_quantile`)
    and ``n_won``/``q_won`` of days to its closed_at over the pairs won by as_of (`won_quantile`); both over the pairs
    whose lead and opportunity were created by as_of, a negative interval left out (the same rows, so the same values)."""
    ld = _prepared_leads(leads.select("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id"))
    o = _prepared_opps(opps.select("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"))
    p = pairs_expr(leads, opps)
    j = p.join(ld, p.lead_id == ld.lead_id).join(o, p.opportunity_id == o.opportunity_id)
    j = j.filter(j.created <= as_of)
    links = j.select(lead_created=j.created, created=j.created_right, closed=j.closed, outcome=j.outcome)
    return link_quantiles_expr(links, as_of, typical_quantile, won_quantile)


def link_quantiles_expr(links, as_of: dt.date, typical_quantile: float, won_quantile: float):
    """:func:`day_quantiles_expr`'s row over `links`: one row per linked pair of a lead created by as_of, with the lead's
    ``lead_created`` and the opportunity's ``created``, ``closed``, ``outcome`` (helpers.metrics.engine_links.links_expr
    of the same as_of)."""
    j = links.filter(links.created <= as_of)
    j = j.mutate(gap=j.created.delta(j.lead_created, unit="day").cast("float64"),
                 won_gap=j.closed.delta(j.lead_created, unit="day").cast("float64"))
    typical = j.gap >= 0
    won = (j.outcome == "won") & (j.closed <= as_of) & (j.won_gap >= 0)
    return j.aggregate(n=j.count(where=typical), q=j.gap.quantile(typical_quantile, where=typical),
                       n_won=j.count(where=won), q_won=j.won_gap.quantile(won_quantile, where=won))


def value_counts_expr(t, columns: list[str]):
    """Per value of each of `columns` (integer codes) of `t`: ``n`` rows and ``converted`` (the sum of the 0/1 column
    ``c``), as rows (dim = the column's position in `columns`, k = the code); one UNION ALL of grouped counts."""
    import ibis

    parts = [t.group_by(k=t[c]).aggregate(n=t.count(), converted=t.c.sum()).mutate(dim=ibis.literal(i))
             for i, c in enumerate(columns)]
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


# --------------------------------------------------------------------------- running
def _day(value) -> dt.date:
    return pd.Timestamp(value).normalize().date()


def period_bounds(start, end, as_of) -> tuple[dt.date, dt.date, dt.date]:
    """(first day, last day = min(end, as_of), as_of) as dates."""
    return _day(start), min(_day(end), _day(as_of)), _day(as_of)


def run(expr, backend=None) -> dict:
    """Execute an aggregate expression; ``{(dim, k): {column: value}}`` (plain Python values), or ``{ALL: row}`` when ungrouped."""
    rows = to_arrow(backend or default_backend(), expr).to_pylist()
    if rows and "dim" in rows[0]:
        return {(row.pop("dim"), row.pop("k")): row for row in rows}
    return {ALL: rows[0]} if rows else {}


def by_dim(result: dict, dim: str) -> dict:
    """The rows of one dimension of a :func:`run` result: ``{k: aggregates}``."""
    return {k: row for (d, k), row in result.items() if d == dim}


def total(result: dict) -> dict | None:
    """The total row (ALL, ALL) of a :func:`run` result (None when the table is empty)."""
    return result.get((ALL, ALL))


def pipeline_aggregates(opps: pd.DataFrame, start, end, as_of, dims: dict[str, str] | None = None, backend=None) -> dict:
    """:func:`pipeline_expr` on a pandas frame; `dims` maps a dimension name to the frame's column."""
    s, last, a = period_bounds(start, end, as_of)
    dims = dims or {}
    return run(pipeline_expr(opps_table(opps, dims), s, last, a, list(dims)), backend)


def value_counts(flags, codes: list, backend=None) -> dict[int, dict[int, dict]]:
    """:func:`value_counts_expr` over aligned numpy arrays: `flags` (booleans, e.g. converted) and integer `codes`
    per column; ``{column position: {code: {"n", "converted"}}}`` (codes no row holds left out)."""
    import ibis
    import numpy as np

    if not codes:
        return {}
    table = ibis.memtable(pa.table({"c": pa.array(np.asarray(flags).astype(np.int8)),
                                    **{f"a{i}": pa.array(np.asarray(c)) for i, c in enumerate(codes)}}))
    out: dict[int, dict[int, dict]] = {}
    for (dim, k), row in run(value_counts_expr(table, [f"a{i}" for i in range(len(codes))]), backend).items():
        out.setdefault(int(dim), {})[int(k)] = row
    return out


def windows_pipeline_aggregates(opps: pd.DataFrame, windows, as_of, backend=None) -> list[dict | None]:
    """:func:`windows_pipeline_expr` on a pandas frame: the pipeline aggregates of each (start, end) of `windows`, in
    order (one query, one row per window; None for a window of an empty table)."""
    if not windows:
        return []
    a = _day(as_of)
    bounds = [period_bounds(start, end, as_of)[:2] for start, end in windows]
    found = run(windows_pipeline_expr(opps_table(opps), bounds, a), backend)
    return [found.get(("window", str(i))) for i in range(len(windows))]


@contextlib.contextmanager
def materialized(expr, backend=None):
    """`expr` computed once into a temporary table of the backend (so a UNION ALL over dimensions reads it, not its
    joins); the table is dropped on exit."""
    con = backend or default_backend()
    name, table = _temp_table(con, expr)
    try:
        yield table
    finally:
        with _quiet():
            con.drop_table(name, force=True)


class KeptTable:
    """`expr` computed once into a temporary table of the backend (`table`, an Ibis table), dropped when this object
    is collected: kept in a :meth:`helpers.metrics.source.Source.memo`, the table lives as long as the source (the
    periods of a run read it; notebook 06's counted attribution pairs), and goes with it."""

    def __init__(self, expr, backend=None):
        con = backend or default_backend()
        name, self.table = _temp_table(con, expr)
        weakref.finalize(self, _drop_table, con, name)


def lead_funnel_aggregates(leads: pd.DataFrame, opps: pd.DataFrame, start, end, as_of, dims: dict[str, str] | None = None,
                           backend=None) -> dict:
    """:func:`lead_funnel_expr` on pandas frames; `dims` maps a dimension name to the leads' column."""
    s, last, a = period_bounds(start, end, as_of)
    dims = dims or {}
    flags = lead_flags_expr(leads_table(leads, dims), opps_table(opps), s, last, a)
    return run(lead_funnel_expr(flags, s, last, list(dims)), backend)


def typical_days(leads: pd.DataFrame, opps: pd.DataFrame, as_of, quantile: float, backend=None) -> float | None:
    """:func:`typical_expr` on pandas frames: the quantile in days, None when no linked pair exists by as_of."""
    row = run(typical_expr(leads_table(leads), opps_table(opps), _day(as_of), quantile), backend)[ALL]
    return None if not row["n"] else float(row["q"])


def lead_to_won_quantile(leads: pd.DataFrame, opps: pd.DataFrame, as_of, quantile: float, backend=None) -> float | None:
    """:func:`lead_to_won_expr` on pandas frames: the quantile in days, None when no lead was won (linked) by as_of."""
    row = run(lead_to_won_expr(leads_table(leads), opps_table(opps), _day(as_of), quantile), backend)[ALL]
    return None if not row["n"] else float(row["q"])
