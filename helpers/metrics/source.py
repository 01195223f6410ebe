"""Where a notebook's figures are computed: the engine tables of the canonical leads, opportunities and touches, and
the backend that runs them (issue 26: one code path, two backends).

A notebook gets its engine tables from its session, ``s.source`` (:attr:`helpers.report.session.Session.source`):

- **a data folder** (the default): a :class:`FrameSource` over the loaded Workbook's frames
  (:func:`helpers.metrics.core.workbook_source`). Its tables are Arrow
  memtables in the in-process DuckDB (:func:`helpers.metrics.engine.opps_table` / ``leads_table`` /
  ``touches_table``, each built once per frame within :func:`helpers.metrics.engine.reusing_tables`);
- **a warehouse** (``python -m helpers.report.run --warehouse URL``: the runner hands the kernels the connection in
  the environment variable :data:`WAREHOUSE_ENV`): a WarehouseSource over the warehouse's tables made
  canonical in its own SQL (:class:`helpers.metrics.warehouse.WarehouseSource` over
  :func:`helpers.metrics.warehouse.canonical`: the loader's opportunity channel fallback,
  owner pseudonyms, target fit), run on the warehouse's connection. Only aggregates come back, plus the bounded
  samples a chart or the bootstrap needs.

A metric function written for both takes a source (its name ends in ``_of``, e.g.
:func:`helpers.metrics.breakdown.breakdowns_of`) and builds its Ibis expressions from :meth:`Source.opps` /
:meth:`Source.leads` (canonical columns and values: helpers.metrics.engine's module notes, plus the breakdown keys
k0, k1, ... of the canonical columns it names), then runs them with :meth:`Source.run` / :meth:`Source.fetch`.
Its older signature over pandas frames wraps the frames in a FrameSource, so a folder's figures are computed exactly
as before.
"""
from __future__ import annotations

import abc
import json
import os
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from helpers.metrics import engine

#: The environment variable the runner sets for the notebook kernels of a warehouse run:
#: JSON ``{"url": ..., "schema": ... or null, "tables": {canonical name: warehouse table}}``.
WAREHOUSE_ENV = "WORKBOOK_WAREHOUSE"


class Source(abc.ABC):
    """Engine tables of one data set and the Ibis backend that runs them (see the module notes).

    Subclasses give :meth:`opps`, :meth:`leads`, :meth:`touches`, :meth:`has_column`, :meth:`has_values`,
    :attr:`has_leads`, :attr:`has_touches` and :attr:`backend` (None: the engine's in-process DuckDB);
    :attr:`has_opportunities` is True unless a subclass says otherwise (a leads-only folder's :class:`FrameSource`)."""

    #: "folder" or "warehouse": which backend the tables live in.
    kind = "folder"
    backend = None

    @property
    @abc.abstractmethod
    def has_leads(self) -> bool:
        """True when there is a leads table."""

    @property
    def has_opportunities(self) -> bool:
        """True when there is an opportunities table (it may hold no row): always in a warehouse (its mapping names
        one); a leads-only folder's stands in empty (helpers.data.load), and its source says so (:class:`FrameSource`'s
        `has_opportunities`): a count of its deals is unknown, not 0."""
        return True

    @abc.abstractmethod
    def opps(self, dims: Sequence[str] = ()):
        """The opportunities as an engine table (helpers.metrics.engine's canonical columns and values) with the
        breakdown keys k0, k1, ... of the canonical columns `dims` (channel, industry, company_size, owner,
        target_fit), trimmed text."""

    @abc.abstractmethod
    def leads(self, dims: Sequence[str] = (), stamps: Sequence[str] = ()):
        """The leads as an engine table with the keys of `dims` (as :meth:`opps`) and the canonical datetime columns
        `stamps` (e.g. first_sales_touch_at) as timestamps, null when the table lacks one; None without a leads
        table."""

    @abc.abstractmethod
    def touches(self):
        """The touches as :func:`helpers.metrics.engine.touches_table` shapes them; None without a touches table.

        Its ``pos`` breaks the ties of the contract's order of touches (touched_at, then touch_id as text, then file
        order: helpers.metrics.attribution_engine.ORDER): a folder's file row order; a warehouse's rank in the touch's
        own columns (:func:`helpers.metrics.warehouse.touches_engine_table`: a SQL table has no row order)."""

    @property
    @abc.abstractmethod
    def has_touches(self) -> bool:
        """True when there is a touches table (it may hold no row)."""

    @abc.abstractmethod
    def lead_columns(self) -> list[str]:
        """The names of the leads table's columns a lead-quality setting may name (the contract's and the extra ones,
        lead_id left out), in the table's order; [] without a leads table."""

    @abc.abstractmethod
    def raw_leads(self, columns: Sequence[str]):
        """The leads as :meth:`leads` shapes them (no keys) plus the columns `columns` of :meth:`lead_columns` as the
        table holds them (text as text, numbers as numbers); None without a leads table."""

    @abc.abstractmethod
    def has_values(self, table: str, column: str) -> bool:
        """True when canonical `column` of `table` ("leads" / "opportunities") holds at least one value that is not
        blank ('unknown' as a breakdown key); False for an absent table or column."""

    @abc.abstractmethod
    def has_column(self, table: str, column: str) -> bool:
        """True when `table` has canonical `column` (a warehouse table lacking an optional one reads it as NULL)."""

    def memo(self, key, compute: Callable[[], object]):
        """``compute()`` once per source and hashable `key`, then the stored result: the source's tables do not change
        while it lives (a FrameSource's frames are the loaded snapshot's, a WarehouseSource reads the temporary copies
        it made), so a figure that depends only on them and `key` is computed once per notebook (notebook 03's
        quarterly velocity, which four of its cells ask for). The caller gets the stored object: copy it to change it."""
        memo = self.__dict__.setdefault("_memo", {})
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def held(self, key):
        """What :meth:`memo` holds for `key`, or None when nothing is computed for it yet (computes nothing; a value
        that is None itself reads as not computed, so memoize None only where computing it again is right)."""
        return self.__dict__.get("_memo", {}).get(key)

    def run(self, expr) -> dict:
        """:func:`helpers.metrics.engine.run` on this source's backend (an aggregate: ``{(dim, k): row}``)."""
        return engine.run(expr, self.backend)

    def fetch(self, expr):
        """The rows of `expr` as an Arrow table, fetched from this source's backend (a bounded result only)."""
        return engine.to_arrow(self.backend or engine.default_backend(), expr)


class FrameSource(Source):
    """A :class:`Source` over pandas frames (a loaded Workbook's, or any a test builds), run in the in-process DuckDB
    (or on `backend`).

    `extras`: the leads' extra columns (a loaded Workbook's ``extras["leads"]``, the leads' rows in order), read only by
    :meth:`lead_columns` and :meth:`raw_leads`; or a function giving them, called on first use (a Workbook's extra
    columns stay in the file until then: helpers.data.extras).

    `fit` (a frame -> Series function, e.g. helpers.metrics.core.workbook_source's target profile) gives the key
    ``target_fit`` of a frame that lacks that column (computed once per table); without it a frame's own target_fit
    column, if any, is used.

    Its engine tables are built from the frames once per source and dims and kept while the source lives (a session's
    ``s.source``: one per process and run snapshot, helpers.report.session), so the frames must not change meanwhile
    (as for :meth:`Source.memo`).

    `has_opportunities` False: `opps` is the empty table a leads-only folder's Workbook stands in for the missing one
    (:attr:`helpers.data.load.Workbook.has_opportunities`), which the frame alone cannot tell from an empty export."""

    kind = "folder"

    def __init__(self, leads: pd.DataFrame | None, opps: pd.DataFrame, touches: pd.DataFrame | None = None,
                 fit: Callable[[pd.DataFrame], pd.Series] | None = None, backend=None,
                 extras: pd.DataFrame | Callable[[], pd.DataFrame | None] | None = None, has_opportunities: bool = True):
        self.frames = {"leads": leads, "opportunities": opps}
        self._has_opportunities = bool(has_opportunities)
        self._extras = extras
        self._raw: dict[str, object] = {}
        self.touches_frame = touches
        self.fit = fit
        self.backend = backend
        self._fitted: dict[str, pd.DataFrame] = {}
        self._tables: dict = {}   # engine tables built from the frames, kept for the source's life (engine.reusing_tables)

    @property
    def has_leads(self) -> bool:
        return self.frames["leads"] is not None

    @property
    def has_opportunities(self) -> bool:
        return self._has_opportunities

    @property
    def extras(self) -> pd.DataFrame | None:
        """The leads' extra columns (`extras` of the constructor; a function given there is called once, here)."""
        if callable(self._extras):
            self._extras = self._extras()
        return self._extras

    def frame(self, table: str, dims: Sequence[str] = ()) -> pd.DataFrame | None:
        """The frame of `table`, with a target_fit column when `dims` asks for one it lacks (computed once)."""
        frame = self.frames[table]
        if frame is None or "target_fit" not in dims or "target_fit" in frame.columns:
            return frame
        if self.fit is None:
            return frame
        if table not in self._fitted:
            self._fitted[table] = frame.assign(target_fit=self.fit(frame))
        engine.share_columns(self._fitted[table], frame)   # its engine tables share the frame's canonical columns
        return self._fitted[table]

    def opps(self, dims: Sequence[str] = ()):
        with engine.reusing_tables(self._tables):
            return engine.keep_registered(engine.opps_table(self.frame("opportunities", dims), _keys(dims)))

    def leads(self, dims: Sequence[str] = (), stamps: Sequence[str] = ()):
        with engine.reusing_tables(self._tables):
            frame = self.frame("leads", dims)
            return None if frame is None else engine.keep_registered(engine.leads_table(frame, _keys(dims), tuple(stamps)))

    def touches(self):
        if self.touches_frame is None:
            return None
        with engine.reusing_tables(self._tables):
            return engine.keep_registered(engine.touches_table(self.touches_frame))

    def lead_columns(self) -> list[str]:
        leads = self.frames["leads"]
        if leads is None:
            return []
        names = [str(c) for c in leads.columns if c != "lead_id"]
        return names + [str(c) for c in (self.extras.columns if self.extras is not None else ()) if str(c) not in names]

    def raw_leads(self, columns: Sequence[str]):
        import ibis
        import pyarrow as pa

        leads = self.frames["leads"]
        if leads is None:
            return None
        with engine.reusing_tables(self._tables):
            base = engine.leads_columns(leads)
        cols = {}
        for name in columns:
            if name in base:
                continue
            if name not in self._raw:   # each column converted once per source
                series = leads[name] if name in leads.columns else self.extras[name]
                self._raw[name] = _raw_array(series if len(series) != len(leads) or series.index.equals(leads.index)
                                             else series.set_axis(leads.index))
            cols[name] = self._raw[name]
        return ibis.memtable(pa.table({**base, **cols}))

    @property
    def has_touches(self) -> bool:
        return self.touches_frame is not None

    def has_column(self, table: str, column: str) -> bool:
        frame = self.frames[table]
        return frame is not None and (column in frame.columns or (column == "target_fit" and self.fit is not None))

    def has_values(self, table: str, column: str) -> bool:
        frame = self.frame(table, (column,))
        if frame is None or column not in frame.columns:
            return False
        from helpers.data.codes import factorized

        # the distinct values (the loader's factorization of the column, kept: nothing hashed again)
        distinct = pd.Series(np.asarray(factorized(frame[column])[1], dtype=object), dtype=object).astype("string").str.strip()
        return bool((distinct.ne("") & distinct.ne(engine.UNKNOWN)).any())   # breakdown keys: blank -> 'unknown'


def _raw_array(series: pd.Series):
    """A lead column as an Arrow array as a table would hold it: numbers (not booleans) as float64, dates as
    timestamps, anything else as text (each distinct value converted once)."""
    import pyarrow as pa

    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return pa.array(pd.to_numeric(series, errors="coerce").astype("float64"), type=pa.float64(), from_pandas=True)
    if pd.api.types.is_datetime64_any_dtype(series):
        return pa.array(series.astype("datetime64[ns]"), type=pa.timestamp("ns"), from_pandas=True)
    return engine._texts(series.to_frame("v"), "v")


def memoized(source, key, compute: Callable[[], object]):
    """:meth:`Source.memo` of `source`, or ``compute()`` each time for a source object that keeps no memo."""
    return source.memo(key, compute) if hasattr(source, "memo") else compute()


def memoized_figure(function: Callable) -> Callable:
    """`function(source, *args, **kwargs)` computed once per source and arguments (:func:`memoized`; the arguments
    must be hashable), for a figure that depends only on the source's tables and its arguments (notebook 00's data
    health: a run's kernel asks for the same ones every period). Each call gets its own deep copy."""
    import copy
    import functools

    @functools.wraps(function)
    def once(source, *args, **kwargs):
        key = (function.__module__, function.__qualname__, args, tuple(sorted(kwargs.items())))
        return copy.deepcopy(memoized(source, key, lambda: function(source, *args, **kwargs)))

    return once


def _keys(dims: Sequence[str]) -> dict[str, str]:
    """engine.opps_table's dims (key name -> column) of the columns `dims`, one key each (a column named twice too)."""
    return dict(zip(dims, dims)) if len(set(dims)) == len(dims) else {f"k{i}": d for i, d in enumerate(dims)}


def warehouse_spec() -> dict | None:
    """The warehouse the runner named for this process (:data:`WAREHOUSE_ENV`), else None (a data folder)."""
    text = os.environ.get(WAREHOUSE_ENV)
    return json.loads(text) if text else None
