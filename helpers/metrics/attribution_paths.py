"""Data-driven attribution over channel paths (contract section 6): Markov removal effects and Shapley values,
with 95% bootstrap intervals, and the metrics.json section ``attribution``.

- :func:`lead_paths`: one path per observed lead with touches (its channels in order, cut at its won deal's
  closed_at or at as_of), converted = its opportunity was won by as_of.
- :func:`markov_shares`: first-order Markov chain (start, channels, conversion, null); removal effect of channel
  c = 1 − P(conversion without c) / P(conversion), absorbing-chain algebra; shares = effects scaled to 1.
- :func:`shapley_shares`: v(S) = conversion rate of the paths whose set of channels is a subset of S (0 when no
  path is, v(∅) = 0); exact Shapley values (subset sums over bit masks); share = value / v(all channels).
- :func:`path_figures`: the paths counted by distinct path, and the won revenue of the converted paths (each won
  deal once, however many of its leads converted).
- :func:`data_driven`: both, with intervals from resampling paths (fixed seed), channels beyond 12 folded
  into ``other``, null with a reason under 30 converted paths.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd

from helpers.metrics import attribution_chains as C
from helpers.metrics.attribution import allocate
from helpers.metrics.pipeline import day

#: Fewest converted paths for data-driven shares.
MIN_CONVERTED_PATHS = 30
#: Most channels the exact Shapley values (and the Markov chain, for the same table) are computed over.
MAX_CHANNELS = 12
OTHER = "other"
#: The resampling seed (intervals are reproducible).
SEED = 20240401
START, CONV, NULL = "(start)", "(conversion)", "(null)"
#: Resamples drawn at a time (a draw holds one count per distinct path).
BOOTSTRAP_CHUNK = 50
#: Most counted (deal, touch) pairs kept as a temporary table for a source's life (the sample's: a few thousand; 1M
#: leads: about 1.1 million, computed again for each period instead).
KEEP_PAIRS = 200_000


def _engine_tables(touches, leads, opps):
    from helpers.metrics.attribution import engine_tables

    return engine_tables(touches, leads, opps)


def _without_paths(touches, leads) -> bool:
    """No table, or an empty frame: no path (an engine table is not counted here; its query finds none)."""
    return any(t is None or (isinstance(t, pd.DataFrame) and t.empty) for t in (leads, touches))


def _steps(touches, leads, opps, as_of, horizon_days: int, window_start=None, window_end=None):
    """:func:`helpers.metrics.attribution_engine.path_steps_expr` on pandas frames or engine tables."""
    from helpers.metrics import engine as E
    from helpers.metrics.attribution_engine import path_steps_expr

    t, ld, o = _engine_tables(touches, leads, opps)
    return path_steps_expr(t, ld, o, E._day(as_of), int(horizon_days),
                           None if window_start is None else E._day(window_start),
                           None if window_end is None else E._day(window_end))


def _fetch(expr, backend=None) -> pd.DataFrame:
    from helpers.metrics import engine as E

    con = backend or E.default_backend()
    return E.to_arrow(con, expr).to_pandas()


def _path_rows(expr_of, cols: list[str], touches, leads, opps, as_of, horizon_days, window_start, window_end, backend):
    """`expr_of` (an expression of the paths' steps) run in the engine: its `cols`, paths as tuples, revenue as float
    (an empty frame without leads or touches)."""
    if _without_paths(touches, leads):
        return pd.DataFrame(columns=cols)
    out = _fetch(expr_of(_steps(touches, leads, opps, as_of, horizon_days, window_start, window_end)), backend)
    out["path"] = [tuple(p) for p in out["path"]]
    out["revenue"] = out["revenue"].astype(float)
    return out[cols]


def lead_paths(touches: pd.DataFrame, leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, horizon_days: int,
               window_start=None, window_end=None, backend=None) -> pd.DataFrame:
    """One row per lead with touches: lead_id, path (tuple of channels in the contract's order), converted (bool),
    revenue (won amount of its won deals, NaN when none or unknown); sorted by lead_id.

    Leads: created in [window_start, window_end] (either may be None: open) and observed (created_at ≤ as_of −
    horizon_days). A lead's touches: its own and those carrying its opportunity's id, dated (calendar day) on or
    before its won deal's closed_at (the first, when several), else as_of. Computed in the engine
    (:func:`helpers.metrics.attribution_engine.lead_paths_expr`)."""
    from helpers.metrics.attribution_engine import lead_paths_expr

    out = _path_rows(lead_paths_expr, ["lead_id", "path", "converted", "revenue"], touches, leads, opps, as_of, horizon_days,
                     window_start, window_end, backend)
    return out.sort_values("lead_id", kind="stable").reset_index(drop=True)


def path_counts(touches: pd.DataFrame, leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, horizon_days: int,
                window_start=None, window_end=None, backend=None) -> pd.DataFrame:
    """The distinct paths of :func:`lead_paths` with how many leads follow each: path (tuple), converted (bool), n
    (leads), revenue (their won amounts' sum, NaN when none known); sorted by (path, converted). One grouped count
    in the engine (:func:`helpers.metrics.attribution_engine.path_counts_expr`): only these rows leave it."""
    from helpers.metrics.attribution_engine import path_counts_expr

    out = _path_rows(path_counts_expr, ["path", "converted", "n", "revenue"], touches, leads, opps, as_of, horizon_days,
                     window_start, window_end, backend)
    return _by_path(out)


def _by_path(paths: pd.DataFrame) -> pd.DataFrame:
    """`paths` sorted by (path, converted), sorted on plain lists (a pandas lookup per comparison is slow on 50k paths)."""
    keys = list(zip(paths["path"].tolist(), (bool(c) for c in paths["converted"].tolist())))
    return paths.iloc[sorted(range(len(paths)), key=keys.__getitem__)].reset_index(drop=True)


def path_figures(touches: pd.DataFrame, leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, horizon_days: int,
                 window_start=None, window_end=None, backend=None) -> tuple[pd.DataFrame, float | None]:
    """``(paths, revenue)``: :func:`path_counts`, and the won revenue of the converted paths with each won deal counted
    once (None when none of those deals has an amount; 0.0 without converted paths), from one computation of the
    paths' steps kept in the engine (:func:`helpers.metrics.attribution_engine.converted_revenue_expr`).

    Not the sum of the paths' revenue column: two leads of one won deal (a buying committee) are two converted paths,
    and that sum would count the deal's amount twice."""
    from helpers.metrics import engine as E
    from helpers.metrics.attribution_engine import converted_revenue_expr, path_counts_expr

    cols = ["path", "converted", "n", "revenue"]
    if _without_paths(touches, leads):
        return pd.DataFrame(columns=cols), 0.0
    _, ld, o = _engine_tables(touches, leads, opps)
    with E.materialized(_steps(touches, leads, opps, as_of, horizon_days, window_start, window_end), backend) as steps:
        counts = _fetch(path_counts_expr(steps), backend)
        won = _fetch(converted_revenue_expr(steps, ld, o, E._day(as_of)), backend).iloc[0]
    counts["path"] = [tuple(p) for p in counts["path"]]
    counts["revenue"] = counts["revenue"].astype(float)
    revenue = float(won["revenue"]) if int(won["known"]) else (0.0 if not counts["converted"].any() else None)
    return _by_path(counts)[cols], revenue


def transitions(paths: pd.DataFrame) -> pd.Series:
    """The Markov chain's transition counts ``{(from, to): count}`` (states START, the channels, CONV, NULL) over
    `paths` (:func:`lead_paths` or :func:`path_counts`: a path followed by n leads counts n times); a Series indexed
    by (from, to), sorted. Equal to one grouped count of the steps over every lead's touches."""
    counts: dict[tuple, int] = {}
    weights = paths["n"] if "n" in paths.columns else pd.Series(1, index=paths.index)
    for path, conv, n in zip(paths["path"], paths["converted"], weights):
        states = (START, *path, CONV if conv else NULL)
        for edge in zip(states[:-1], states[1:]):
            counts[edge] = counts.get(edge, 0) + int(n)
    index = pd.MultiIndex.from_tuples(sorted(counts), names=["from", "to"]) if counts else pd.MultiIndex.from_tuples([], names=["from", "to"])
    return pd.Series([counts[k] for k in index], index=index, dtype="int64")


def fold_channels(paths: pd.DataFrame, max_channels: int = MAX_CHANNELS) -> tuple[pd.DataFrame, list[str]]:
    """Paths with the channels on the fewest paths folded into ``other`` so at most `max_channels` remain
    (ties: later name folded first); returns the paths and the folded channels (empty when none). A row with a
    count ``n`` (:func:`path_counts`) stands for n paths."""
    weights = paths["n"] if "n" in paths.columns else pd.Series(1, index=paths.index)
    on = pd.Series(dtype="int64")
    if len(paths):
        on = pd.Series([c for p in paths["path"] for c in set(p)], dtype=object)
        on = pd.Series(np.repeat(weights.to_numpy(dtype=np.int64), [len(set(p)) for p in paths["path"]])).groupby(on.to_numpy()).sum()
    if len(on) <= max_channels:
        return paths, []
    ranked = sorted(on.index, key=lambda c: (-on[c], str(c)))
    keep = set(ranked[:max_channels - 1])
    folded = sorted(c for c in ranked if c not in keep)
    return paths.assign(path=[tuple(c if c in keep else OTHER for c in p) for p in paths["path"]]), folded


# --------------------------------------------------------------------------- Markov
def transition_counts(paths: pd.DataFrame, channels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The chain's transitions as one grouped count: ``(codes, counts)`` per distinct path, where `codes` is an
    (edges, 3) array of (path index, from state, to state) with states 0 = start, 1..m = channels, m+1 =
    conversion, m+2 = null, and `counts` the edges' multiplicity."""
    index = {c: i + 1 for i, c in enumerate(channels)}
    m = len(channels)
    rows = []
    for pid, (path, conv) in enumerate(zip(paths["path"], paths["converted"])):
        states = [0] + [index[c] for c in path] + [m + 1 if conv else m + 2]
        rows.extend((pid, a, b) for a, b in zip(states[:-1], states[1:]))
    edges = pd.DataFrame(rows, columns=["pid", "a", "b"])
    grouped = edges.groupby(["pid", "a", "b"]).size().reset_index(name="n")
    return grouped[["pid", "a", "b"]].to_numpy(), grouped["n"].to_numpy()


def markov_from_matrix(counts: np.ndarray, m: int) -> np.ndarray | None:
    """Shares (length m) from a transition count matrix ((m+3)×(m+3)); None when conversion or every removal effect
    is 0 (:func:`helpers.metrics.attribution_chains.markov_batch` of one chain)."""
    shares = C.markov_batch(np.asarray(counts)[None], m)[0]
    return None if np.isnan(shares).any() else shares


def markov_shares(paths: pd.DataFrame) -> dict[str, float] | None:
    """{channel: share} of the Markov removal effects (see the module docstring); None when undefined."""
    channels = sorted({c for p in paths["path"] for c in p})
    if not channels:
        return None
    codes, counts = transition_counts(paths, channels)
    shares = markov_from_matrix(C.chain_counts(codes, counts, np.ones(len(paths)), len(channels))[0], len(channels))
    return None if shares is None else dict(zip(channels, shares.tolist()))


# --------------------------------------------------------------------------- Shapley
def _masks(paths: pd.DataFrame, channels: list[str]) -> np.ndarray:
    index = {c: 1 << i for i, c in enumerate(channels)}
    return np.array([sum(index[c] for c in set(p)) for p in paths["path"]], dtype=np.int64)


def shapley_from_counts(paths_n: np.ndarray, conv_n: np.ndarray, m: int) -> np.ndarray | None:
    """Shapley values (length m) of v(S) = converted / paths over the paths whose channel set ⊆ S, from per-mask
    counts; None when v(all) = 0 (:func:`helpers.metrics.attribution_chains.shapley_batch` of one weighting)."""
    values = C.shapley_batch(np.asarray(paths_n)[None], np.asarray(conv_n)[None], m)[0]
    return None if np.isnan(values).any() else values


def shapley_shares(paths: pd.DataFrame) -> dict[str, float] | None:
    """{channel: share} = Shapley value / v(all channels) (negative for a channel that lowers conversion); None when undefined."""
    channels = sorted({c for p in paths["path"] for c in p})
    if not channels:
        return None
    m = len(channels)
    masks = _masks(paths, channels)
    conv = paths["converted"].to_numpy(dtype=bool)
    values = shapley_from_counts(np.bincount(masks, minlength=1 << m), np.bincount(masks[conv], minlength=1 << m), m)
    if values is None:
        return None
    return dict(zip(channels, (values / values.sum()).tolist()))


# --------------------------------------------------------------------------- both, with intervals
#: data_driven's default `revenue`: the sum of the converted paths' revenue column.
FROM_PATHS = "from_paths"


def data_driven(paths: pd.DataFrame, samples: int = 1000, seed: int = SEED, decimals: int = 0,
                revenue: float | None | str = FROM_PATHS) -> dict:
    """``{markov: {channel: {share, low, high, revenue}}, shapley: {...}, paths, converted_paths, revenue, folded,
    null_reasons}``: shares of each model with 95% percentile intervals over `samples` resamples of the paths
    (with replacement, fixed `seed`); revenue = share × the won revenue of the converted paths, rounded to the
    currency's smallest unit by the largest remainder so that each model's channels add up to it exactly (None
    without amounts). Under MIN_CONVERTED_PATHS converted paths both models are {} with the reason ``few_converted_paths``.

    `revenue`: the won revenue of the converted paths with each won deal once (:func:`path_figures`; None: no
    amount); by default (FROM_PATHS) the sum of the converted rows' ``revenue``, right only when no won deal is
    linked to two of the leads.

    `paths`: one row per lead (:func:`lead_paths`) or per distinct path with its count ``n`` (:func:`path_counts`);
    the same result either way. The resampling draws the distinct (path, converted) rows' counts from one
    multinomial of all the paths (the same distribution as drawing the paths themselves with replacement), so its
    cost grows with the distinct paths, not the leads."""
    n = paths["n"].to_numpy(dtype=np.int64) if "n" in paths.columns else np.ones(len(paths), dtype=np.int64)
    conv_rows = paths["converted"].to_numpy(dtype=bool) if len(paths) else np.zeros(0, dtype=bool)
    converted = int(n[conv_rows].sum())
    if isinstance(revenue, str):
        won = paths.loc[conv_rows, "revenue"] if len(paths) else pd.Series(dtype=float)
        revenue = float(math.fsum(won.dropna())) if converted and won.notna().any() else (0.0 if not converted else None)
    has_revenue = bool(converted and revenue is not None)
    out = {"paths": int(n.sum()), "converted_paths": converted, "revenue": revenue if has_revenue else None,
           "folded": [], "markov": {}, "shapley": {}, "null_reasons": {}}
    if converted < MIN_CONVERTED_PATHS:
        out["null_reasons"] = {"markov": "few_converted_paths", "shapley": "few_converted_paths"}
        return out
    paths, out["folded"] = fold_channels(paths.assign(n=n))
    channels = sorted({c for p in paths["path"] for c in p})
    m = len(channels)
    distinct = paths.groupby([paths["path"], paths["converted"]])["n"].sum().reset_index(name="n")
    codes, counts = transition_counts(distinct, channels)
    masks = _masks(distinct, channels)
    conv = distinct["converted"].to_numpy(dtype=bool)
    weights = distinct["n"].to_numpy(dtype=float)

    def both(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Markov shares and Shapley shares (B, m) of B weightings `w` (B, distinct paths); NaN rows: undefined."""
        mk = C.markov_batch(C.chain_counts(codes, counts, w, m), m)
        sv = C.shapley_batch(C.mask_counts(masks, w, m), C.mask_counts(masks[conv], w[:, conv], m), m)
        sv = np.ascontiguousarray(sv)
        return mk, sv / sv.sum(axis=-1, keepdims=True)

    point = [None if np.isnan(x[0]).any() else x[0] for x in both(weights[None])]
    rng = np.random.default_rng(seed)
    boot = {"markov": [], "shapley": []}
    for first in range(0, samples, BOOTSTRAP_CHUNK):   # the same draws as one size=samples call, in bounded memory
        draws = rng.multinomial(int(weights.sum()), weights / weights.sum(), size=min(BOOTSTRAP_CHUNK, samples - first))
        mk, sv = both(draws.astype(float))
        boot["markov"].append(mk)
        boot["shapley"].append(sv)
    for name, shares in zip(("markov", "shapley"), point):
        if shares is None:
            out["null_reasons"][name] = "no_conversions"
            continue
        out[name] = _model_shares(shares, boot[name], channels, revenue if has_revenue else None, decimals)
    return out


def _model_shares(shares: np.ndarray, boot: list[np.ndarray], channels: list[str], revenue: float | None,
                  decimals: int) -> dict:
    """One model's figures of :func:`data_driven`, {channel: {share, low, high, revenue}}: the point `shares` (one per
    channel), the 95% percentile interval of the bootstrap chunks `boot` (each (B, channels); NaN rows left out) and
    the share of `revenue` allocated to the smallest unit so the channels add up to it exactly (None without revenue)."""
    b = np.concatenate(boot) if boot else np.empty((0, len(channels)))
    low, high = np.nanpercentile(b, 2.5, axis=0), np.nanpercentile(b, 97.5, axis=0)
    money = (allocate({c: float(shares[i]) * revenue for i, c in enumerate(channels)}, revenue, decimals)
             if revenue is not None else {})   # to the smallest unit, adding up to the revenue exactly
    return {c: {"share": float(shares[i]), "low": float(low[i]), "high": float(high[i]), "revenue": money.get(c)}
            for i, c in enumerate(channels)}


# --------------------------------------------------------------------------- the metrics.json section
def settings(config) -> dict:
    """The attribution settings with their documented defaults (helpers/default_config.yaml)."""
    a = dict(getattr(config, "attribution", None) or {})
    return {"lookback_days": int(a.get("lookback_days", 365)), "half_life_days": float(a.get("half_life_days", 7)),
            "marketing_channels": list(a.get("marketing_channels") or []),
            "bootstrap_samples": int(a.get("bootstrap_samples", 1000))}


def attribution_section(wb, start, end, samples: int | None = None, warning_codes=()) -> dict:
    """metrics.json ``attribution`` for period [start, end] of the workbook `wb` (contract section 6).

    ``{lookback_days, half_life_days, horizon_days, models: {<model>: {won: {<channel>: {revenue, deals}},
    pipeline: {<channel>: {amount, deals}}}}, data_driven: {markov: {<channel>: {share, low, high, revenue}},
    shapley: {...}, paths, converted_paths, revenue, folded, window_start, window_end, bulk_created_at}, sourced,
    influenced, by_department, marketing_channels, coverage, content, null_reasons}``. Without a touches table every figure
    is empty with the reason ``no_touches_table`` (``no_touch_rows`` for a table without rows); without amounts the money is None (``no_amounts``: credits in
    deals only; ``no_opportunities`` without any deal, helpers.metrics.pipeline.amounts_reason). `samples` overrides ``attribution.bootstrap_samples``.

    The paths' leads are the observed ones of section 5: when the leads' created_at is a bulk-load stamp
    (:func:`helpers.metrics.lead_section.bulk_created`, with the ingest's `warning_codes` such as
    ``one_created_at:leads``) every lead existing on as_of is observed and no window of creation dates applies
    (window_start None, window_end as_of, horizon_days None, ``bulk_created_at`` true): the stamp says nothing of
    a lead's age, and the lookback window or H would keep all of the leads or none of them. For the same reason
    the LC milestone is then FT (no known lead creation)."""
    out = attribution_figures(wb.touches, wb.leads, wb.opportunities, wb.config, wb.as_of, start, end, samples,
                              warning_codes)
    return out if getattr(wb, "has_opportunities", True) else section_deals_unknown(out)


def attribution_of(source, config, as_of, start, end, samples: int | None = None, warning_codes=()) -> dict:
    """:func:`attribution_section` computed on a :class:`helpers.metrics.source.Source` (a notebook's ``s.source``):
    :func:`attribution_figures` on its touches, leads and opportunities as engine tables, run on its backend (a
    folder's frames in the in-process DuckDB, or the warehouse's tables in the warehouse: only aggregates and the
    distinct paths come back, never a lead, deal or touch row). `as_of` is the data's (a Timestamp).

    The figures that do not depend on the period (whether the touches have rows, the leads' bulk stamp and H, the
    data-driven shares: their paths are the leads created in the lookback window before as_of) are computed once per
    source and as_of (:meth:`helpers.metrics.source.Source.memo`): the periods of a run share them."""
    from helpers.metrics.source import memoized

    out = attribution_figures(source.touches(), source.leads(), source.opps(), config, as_of, start, end, samples,
                              warning_codes, backend=source.backend,
                              memo=lambda key, compute: memoized(source, key, compute))
    return out if source.has_opportunities else section_deals_unknown(out)


#: The touch coverage's counts of deals: unknown without an opportunities table (no_opportunities), not 0.
COVERAGE_DEALS = ("won_deals_with_touches", "won_deals_without_touches", "touches_after_close")


def section_deals_unknown(out: dict) -> dict:
    """The attribution section of a source without an opportunities table (a leads-only folder): every count of
    deals None with the reason no_opportunities, not 0 (no deals table: the count is unknown). The models' credits
    in deals, the sourced / influenced / by-department counts, the data-driven converted paths and the coverage's
    counts of deals (the touches after a deal's close too); the touches' own counts stay. Without touches (no
    figure at all) `out` is returned as it is."""
    if not out.get("models"):
        return out
    reasons = out["null_reasons"]
    for model in out["models"].values():
        for kind in ("won", "pipeline"):
            model[kind] = {ch: dict(cell, deals=None) for ch, cell in model[kind].items()}
    reasons["models.deals"] = "no_opportunities"
    for name in ("sourced", "influenced"):
        out[name] = {kind: dict(fig, count=None) for kind, fig in out[name].items()}
        reasons[f"{name}.count"] = "no_opportunities"
    out["by_department"] = {dept: {kind: dict(fig, count=None) for kind, fig in figs.items()}
                            for dept, figs in out["by_department"].items()}
    reasons["by_department.count"] = "no_opportunities"
    if out.get("data_driven"):
        out["data_driven"] = dict(out["data_driven"], converted_paths=None)
        reasons["data_driven.converted_paths"] = "no_opportunities"
        for key in ("data_driven.markov", "data_driven.shapley"):   # no converted path: no deal to convert to
            if key in reasons:
                reasons[key] = "no_opportunities"
    if out["coverage"] is not None:
        out["coverage"] = deals_unknown(out["coverage"])
        reasons.update({f"coverage.{k}": "no_opportunities" for k in COVERAGE_DEALS})
    return out


def deals_unknown(coverage: dict) -> dict:
    """A touch coverage (:func:`helpers.metrics.attribution.coverage`) of a source without an opportunities table:
    its counts of deals None (the touches' own counts stay)."""
    return dict(coverage, **dict.fromkeys(COVERAGE_DEALS))


def lead_dates_key(as_of, setting, warning_codes=()) -> tuple:
    """The memo key (:meth:`helpers.metrics.source.Source.memo`) of :func:`_lead_dates`' answer for as_of (its day),
    the horizon setting and the leads' warning codes: notebook 05's lead quality
    (helpers.metrics.lead_source.horizon_and_bulk) and notebook 06's attribution read the one answer of a source."""
    from helpers.metrics import engine as E

    return ("lead_dates", E._day(as_of), setting, tuple(warning_codes))


def _lead_dates(leads, opps, as_of, setting, warning_codes, backend) -> tuple[bool, int]:
    """(bulk_created_at, H) of the leads (kept by a source under :func:`lead_dates_key`): a frame read in pandas (helpers.metrics.lead_quality.bulk_created,
    helpers.metrics.lead_quality.horizon_days), an engine table by one row of aggregates
    (:func:`helpers.metrics.attribution_engine.lead_dates_expr`)."""
    from helpers.metrics.attribution import _run, engine_tables, is_table
    from helpers.metrics.attribution_engine import lead_dates_expr
    from helpers.metrics.lead_quality import HORIZON_QUANTILE, MIN_HORIZON_DAYS, bulk_created, horizon_days

    if leads is None:
        return False, int(setting) if setting is not None else MIN_HORIZON_DAYS
    if not is_table(leads):
        bulk = len(leads) > 0 and bulk_created(leads, as_of, warning_codes)
        return bulk, horizon_days(leads, opps, as_of, setting)
    from helpers.metrics import engine as E

    _, ld, o = engine_tables(None, leads, opps)
    row = _run(lead_dates_expr(ld, o, E._day(as_of), HORIZON_QUANTILE / 100), backend)[0]
    bulk = (row["created_n"] >= 2 and row["created_days"] == 1) or "one_created_at:leads" in set(warning_codes)
    if setting is not None:
        return bulk, int(setting)
    q = row["h_q"]
    return bulk, MIN_HORIZON_DAYS if q is None else max(MIN_HORIZON_DAYS, int(math.ceil(float(q))))


def attribution_figures(touches, leads, opps, config, as_of, start, end, samples: int | None = None, warning_codes=(),
                        backend=None, memo=None) -> dict:
    """:func:`attribution_section` of the tables themselves: pandas frames (a folder's, run in DuckDB in process) or
    Ibis tables of `backend` in canonical form (:func:`helpers.metrics.attribution.engine_tables`; a warehouse's,
    helpers.metrics.warehouse.attribution_tables), where only aggregates are fetched: the position credits, deal
    figures, coverage and content as grouped sums and counts, the paths as one grouped count of distinct paths
    (the Markov transitions and the bootstrap are computed from it here). `as_of` is the data's (a Timestamp).

    `memo`: a function (key, compute) -> ``compute()``'s result, kept by the caller for the tables' life
    (:meth:`helpers.metrics.source.Source.memo`; :func:`attribution_of` passes its source's): the figures that depend
    only on the tables, as_of and the settings (not on the period) are then computed once (:func:`_period_free`)."""
    from helpers.metrics import attribution as A
    from helpers.metrics import engine as E

    cfg = settings(config)
    memo = memo or (lambda key, compute: compute())
    out = {"lookback_days": cfg["lookback_days"], "half_life_days": cfg["half_life_days"], "horizon_days": None,
           "models": {}, "data_driven": {}, "sourced": None, "influenced": None, "by_department": None,
           "marketing_channels": sorted(cfg["marketing_channels"]), "coverage": None, "content": [], "null_reasons": {}}
    if touches is None or not memo(("attribution_touch_rows",), lambda: has_rows(touches, backend)):
        out["null_reasons"] = {"attribution": "no_touches_table" if touches is None else "no_touch_rows"}
        return out
    decimals = int(config.currency_decimals)
    setting = (getattr(config, "lead_quality", None) or {}).get("horizon_days") or None
    bulk, h = memo(lead_dates_key(as_of, setting, warning_codes),
                   lambda: _lead_dates(leads, opps, as_of, setting, warning_codes, backend))
    with E.reusing_tables():
        kept, figures, amounts = _period_pairs(touches, leads, opps, cfg, as_of, start, end, bulk, backend, memo)
        pairs = kept.table   # the temporary table lives while `kept` does
        out["models"] = A.position_credits(pairs, opps, leads, start, end, as_of, decimals, backend, figures, amounts)
        si = A.sourced_influenced(pairs, opps, leads, start, end, as_of, cfg["marketing_channels"], backend, decimals,
                                  amounts, figures)
        out.update(sourced=si["sourced"], influenced=si["influenced"], by_department=si["by_department"])
        out["coverage"] = _coverage(touches, leads, opps, as_of, start, end, decimals, backend, memo, pairs, figures,
                                    amounts)
        out["content"] = A.content_in_deals(pairs, opps, start, end, as_of, backend)
        if not amounts:   # no_opportunities or no_amounts (helpers.metrics.pipeline.amounts_reason)
            out["null_reasons"]["revenue"] = memo(("attribution_amounts_code",), lambda: A.amounts_code(opps, backend))
    samples = samples if samples is not None else cfg["bootstrap_samples"]
    key = ("attribution_data_driven", day(as_of), bool(bulk), h, cfg["lookback_days"], samples, decimals)
    dd = copy.deepcopy(memo(key, lambda: _period_free(touches, leads, opps, as_of, bulk, h, cfg["lookback_days"], samples,
                                                      decimals, backend)))
    out["horizon_days"] = None if bulk else h
    out["null_reasons"].update({f"data_driven.{k}": v for k, v in dd.pop("null_reasons").items()})
    out["data_driven"] = dd
    return out


def _period_pairs(touches, leads, opps, cfg: dict, as_of, start, end, bulk: bool, backend, memo):
    """(pairs, figures, amounts) of period [start, end]: the counted pairs (:func:`helpers.metrics.attribution.pairs_table`,
    period-free) as a :class:`helpers.metrics.engine.KeptTable` (the caller holds it while it reads the table), kept by
    `memo` (computed once per source, as_of, settings and `bulk`) when it holds at most :data:`KEEP_PAIRS` rows, else
    computed again for each period (at 10M leads a run's kernel would hold it through notebook 05's peak), the period's
    :func:`~helpers.metrics.attribution.period_deal_figures` with the settings' marketing channels (once per those and
    the period: notebook 00's coverage and notebook 06's credits, coverage and sourced / influenced deals read them) and
    whether some opportunity has an amount (:func:`~helpers.metrics.attribution.amounts_code`, once per source)."""
    from helpers.metrics import attribution as A
    from helpers.metrics import engine as E

    key = ("attribution_pairs", day(as_of), cfg["lookback_days"], cfg["half_life_days"], bool(bulk))
    fresh = None

    def pairs():
        return E.KeptTable(A.pairs_table(touches, leads, opps, as_of, cfg["lookback_days"], cfg["half_life_days"], bulk),
                           backend)

    def first():
        nonlocal fresh
        fresh = pairs()
        t = fresh.table
        rows = E.to_arrow(backend or E.default_backend(), t.aggregate(n=t.count())).to_pylist()[0]["n"]
        return fresh if rows <= KEEP_PAIRS else None   # None kept: too large to hold, computed for each period

    kept = memo(key, first) or fresh or pairs()
    channels = tuple(sorted(set(cfg["marketing_channels"] or ())))
    figures = memo(("attribution_deal_figures", key, day(start), day(end), channels),
                   lambda: A.period_deal_figures(kept.table, opps, leads, start, end, as_of, backend, channels))
    amounts = memo(("attribution_amounts_code",), lambda: A.amounts_code(opps, backend)) is None
    return kept, dict(figures), amounts


def _coverage(touches, leads, opps, as_of, start, end, decimals: int, backend, memo, pairs, figures, amounts) -> dict:
    """:func:`helpers.metrics.attribution.coverage` of the period, the touches' counts once per source and as_of (`memo`)."""
    from helpers.metrics import attribution as A

    counts = memo(("attribution_touch_counts", day(as_of)), lambda: A.touch_counts(touches, leads, opps, as_of, backend))
    return A.coverage(pairs, touches, opps, leads, start, end, as_of, backend, decimals, figures, amounts, dict(counts))


def coverage_of(source, config, as_of, start, end) -> dict | None:
    """Touch coverage of period [start, end] (:func:`helpers.metrics.attribution.coverage`; notebook 00) on a
    :class:`helpers.metrics.source.Source`, over the pairs of every lead's own created_at (no bulk-load stamp assumed);
    None without touches or without a touch row; its counts of deals None without an opportunities table
    (:func:`deals_unknown`). The pairs, the period's deal figures and the touches' counts are those
    :func:`attribution_of` keeps in the source's memo (computed once for both notebooks)."""
    from helpers.metrics import engine as E
    from helpers.metrics.source import memoized

    def memo(key, compute):
        return memoized(source, key, compute)

    touches, backend = source.touches(), source.backend
    if touches is None or not memo(("attribution_touch_rows",), lambda: has_rows(touches, backend)):
        return None
    leads, opps = source.leads(), source.opps()
    with E.reusing_tables():
        kept, figures, amounts = _period_pairs(touches, leads, opps, settings(config), as_of, start, end, False,
                                               backend, memo)
        out = _coverage(touches, leads, opps, as_of, start, end, int(config.currency_decimals), backend, memo,
                        kept.table, figures, amounts)
    return out if source.has_opportunities else deals_unknown(out)


def _period_free(touches, leads, opps, as_of, bulk: bool, h: int, lookback_days: int, samples: int, decimals: int,
                 backend=None) -> dict:
    """The section's ``data_driven`` with its null_reasons (:func:`data_driven` of :func:`path_figures`): the leads
    observed on as_of (created in the `lookback_days` before it and at least `h` days before it; every lead when
    `bulk`) and their paths, which no period bound enters."""
    from helpers.metrics import engine as E

    h = 0 if bulk else h
    window_start = None if bulk else day(as_of) - pd.Timedelta(days=lookback_days)
    with E.reusing_tables():
        paths, won = path_figures(touches, leads, opps, as_of, h, window_start, as_of, backend)
    won = None if won is None else float(round(won, decimals))   # the engine's float sum, to the currency's unit
    dd = data_driven(paths, samples, SEED, decimals, won)
    dd.update(window_start=window_start, window_end=day(as_of) - pd.Timedelta(days=h), bulk_created_at=bool(bulk))
    return dd


def has_rows(table, backend=None) -> bool:
    """A frame or engine table holds a row (an engine table: one count fetched)."""
    from helpers.metrics.attribution import _run, is_table

    if is_table(table):
        return bool(_run(table.aggregate(n=table.count()), backend)[0]["n"])
    return bool(len(table))
