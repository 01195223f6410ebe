"""Assemble one period's core figures in the layout of metrics.json (contract section 3a).

The definitions live in helpers.metrics.pipeline, helpers.metrics.funnel and helpers.metrics.breakdown;
this module only puts them together so every notebook and the runner agree.
"""
from __future__ import annotations

import copy
import functools
import threading
from collections import OrderedDict

from helpers.data.load import Workbook
from helpers.data.periods import Period
from helpers.metrics.breakdown import breakdowns_of, segment_columns_of, target_fit
from helpers.metrics.limits import coverage, data_end_of, explain_core, workbook_facts


def has_target(wb: Workbook) -> bool:
    """True when the config defines a target (ICP) by industry or company size."""
    return bool(wb.config.target_industries or wb.config.target_company_sizes)


def with_target_fit(wb: Workbook):
    """(leads, opps) with a `target_fit` column added (copies; the workbook is not changed)."""
    industries, sizes = wb.config.target_industries, wb.config.target_company_sizes
    leads = None if wb.leads is None else wb.leads.assign(target_fit=target_fit(wb.leads, industries, sizes))
    opps = wb.opportunities.assign(target_fit=target_fit(wb.opportunities, industries, sizes))
    return leads, opps


def workbook_source(wb: Workbook):
    """The :class:`helpers.metrics.source.FrameSource` of a loaded workbook: its leads, opportunities and touches in
    the in-process DuckDB, with the key target_fit of its settings' target profile (:func:`with_target_fit`'s)."""
    from helpers.metrics.source import FrameSource

    fit = None
    if has_target(wb):
        industries, sizes = wb.config.target_industries, wb.config.target_company_sizes

        def fit(frame):
            return target_fit(frame, industries, sizes, categorical=True)   # the engine's key: codes, not texts
    # the leads' extra columns are read from the file only when a figure asks for one (notebook 05), not for every source
    return FrameSource(wb.leads, wb.opportunities, wb.touches, fit=fit, extras=functools.partial(wb.extras.get, "leads"),
                       has_opportunities=wb.has_opportunities)


def core_metrics(wb: Workbook, period: Period, projected: bool = False, source=None) -> dict:
    """period/start/end/as_of, pipeline, funnel (period and cohort), by_channel, by_segment, coverage for one period.

    With `projected`, funnel.cohort also holds the censoring-aware projected rates of
    helpers.metrics.goals.projected_cohort_rates (notebook 02 records them; they take a few seconds).
    Every undefined figure is None with its reason code in the section's ``null_reasons``
    (:func:`helpers.metrics.limits.explain_core`; a top-level ``null_reasons`` for a whole null
    section); ``coverage`` is :func:`period_coverage`.

    The breakdowns are computed on `source` (a :class:`helpers.metrics.source.Source`: a notebook passes ``s.source``,
    which is the warehouse in a warehouse run), default the workbook's frames.

    Computed once per process for a Workbook read from a snapshot (``wb.snapshot_id``): the
    notebooks of one period share a kernel (helpers.report.run), so 00 and 02 share these figures
    (:func:`memo_info`); every call gets its own copy.
    """
    key = core_key(wb, period)
    if key is not None:   # the workbook's frames and a warehouse are memoized apart
        key = (*key, "folder" if source is None else source.kind)
    hit = None
    if key is not None:
        with _MEMO_LOCK:
            hit = _MEMO.get(key)
            if hit is not None:
                _MEMO.move_to_end(key)
            _MEMO_COUNTS["hits" if hit is not None else "misses"] += 1
    if hit is None:
        hit = _core_metrics(wb, period, source)
        if key is not None:
            with _MEMO_LOCK:
                _MEMO[key] = hit
                while len(_MEMO) > MEMO_SIZE:
                    _MEMO.popitem(last=False)
    core = copy.deepcopy(hit)
    if projected and core["funnel"] is not None:
        from helpers.metrics.cohort_projection import PROJECTED_KEYS
        from helpers.metrics.goals import projected_cohort_rates

        if not (wb.has_opportunities if source is None else source.has_opportunities):   # no curve to project on
            proj = {**dict.fromkeys(PROJECTED_KEYS), "null_reasons": dict.fromkeys(PROJECTED_KEYS, "no_opportunities")}
        elif source is None:
            proj = projected_cohort_rates(wb.leads, wb.opportunities, period.start, period.end, wb.as_of)
        else:   # the source's engine tables: counts per day come back (helpers.metrics.cohort_projection)
            proj = projected_cohort_rates(source.leads() if source.has_leads else None, source.opps(), period.start,
                                          period.end, wb.as_of, backend=source.backend)
        cohort = core["funnel"]["cohort"]
        proj = dict(proj or {"projected_lead_to_opportunity_rate": None, "projected_lead_to_won_rate": None})
        reasons = {**cohort.pop("null_reasons", {}), **proj.pop("null_reasons", {})}
        cohort.update(proj)
        if reasons:
            cohort["null_reasons"] = reasons  # the reasons stay the cohort's last key, as in metrics.json before
    return core


#: How many periods' core figures a process keeps (a kernel runs one period; JupyterLab may switch between a few).
MEMO_SIZE = 4
_MEMO: OrderedDict[tuple, dict] = OrderedDict()
_MEMO_COUNTS = {"hits": 0, "misses": 0}
_MEMO_LOCK = threading.Lock()


def core_key(wb: Workbook, period: Period) -> tuple | None:
    """The memo key of `wb`'s core figures for `period`: the snapshot id (input checksums, the settings that
    shaped the tables, as_of), the period, as_of and every setting (``repr`` of the Config); None, so never
    memoized, for a Workbook not read unchanged from a snapshot (loaded directly, or a filtered copy)."""
    if not wb.snapshot_id:
        return None
    return (wb.snapshot_id, period.label, period.start, period.end, wb.as_of, repr(wb.config))


def memo_info() -> dict:
    """The core-figure memo of this process: ``{"hits", "misses", "size"}`` (calls with a key served from it, calls with a
    key computed, entries held); calls without a key (:func:`core_key` None) are not counted."""
    with _MEMO_LOCK:
        return dict(_MEMO_COUNTS, size=len(_MEMO))


def clear_memo() -> None:
    """Forget the memoized core figures and zero the counts of :func:`memo_info`."""
    with _MEMO_LOCK:
        _MEMO.clear()
        _MEMO_COUNTS.update(hits=0, misses=0)


def _core_metrics(wb: Workbook, period: Period, source=None) -> dict:
    """:func:`core_metrics` without the projected rates, computed."""
    from helpers.metrics.engine import reusing_tables

    source = source or workbook_source(wb)
    as_of, start, end = wb.as_of, period.start, period.end
    segments = segment_columns_of(source)
    if has_target(wb):
        segments.append("target_fit")
    # the engine tables of the frames are built once for all the figures below, the coverage and data facts included
    with reusing_tables():
        # Totals, by channel and by every segment: one grouped pass per table (helpers.metrics.engine), the typical
        # days and maturity from the same join of the linked pairs (helpers.metrics.engine_links)
        rows, totals = breakdowns_of(source, ["channel", *segments], start, end, as_of, with_totals=True)
        core = {
            "period": period.label,
            "start": period.start,
            "end": period.end,
            "as_of": as_of,
            "pipeline": totals["pipeline"],
            "funnel": totals["funnel"],
            "by_channel": rows["channel"],
            "by_segment": {col: rows[col] for col in segments},
        }
        cov = period_coverage(wb, period, source)
        core = explain_core(core, workbook_facts(wb, source), leads_end=cov["leads_end"])
    core["coverage"] = cov
    return core


def period_coverage(wb: Workbook, period: Period, source=None) -> dict:
    """:func:`helpers.metrics.limits.coverage` of the period: the first data date, the data's end
    (:func:`helpers.metrics.limits.data_end_of`: as_of, or the data's last record date a month or more before it),
    the last lead created_at (with `source`, a :class:`helpers.metrics.source.Source`, those dates are one aggregate
    row a table of it)."""
    from helpers.data.load import first_data_date, last_data_date

    if source is not None:
        from helpers.metrics.limits import source_dates, source_last_date

        first, last_lead = source_dates(source)
        last = source_last_date(source)
    else:
        first, last = first_data_date(wb), last_data_date(wb)
        last_lead = None
        if wb.leads is not None and wb.leads["created_at"].notna().any():
            last_lead = wb.leads["created_at"].max()
    end = data_end_of(wb.as_of, last)
    leads_end = None if last_lead is None else min(last_lead, wb.as_of)
    return coverage(first, end, period.start, period.end, leads_end=leads_end)
