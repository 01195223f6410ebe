"""The `lead_quality` section of metrics.json (contract section 5) computed on a
:class:`helpers.metrics.source.Source` (issue 26): a data folder's frames in the in-process DuckDB or a warehouse's
tables, with the same expressions. Only aggregates come back: counts per attribute value, per channel, per status
and per distinct design row of the score; no lead is fetched.

- :func:`lead_rows`: one row per lead created by as_of, as tests/lead_reference.py's lead_frame makes it (observed,
  converted, won revenue, mql in H, channel, in the period, flagged by the rule) plus the attribute columns as read.
- :func:`lead_quality_of`: the whole section and what notebook 05's views need (a
  helpers.metrics.lead_section.LeadQuality); what depends on as_of and the settings but not on the period (H, the
  columns' kinds, the conditions, the leakage guard and the score over the observed leads) is computed once per
  source (:meth:`helpers.metrics.source.Source.memo`: the periods of a run's kernel share it);
  :func:`audit_of` / :func:`threshold_of` / :func:`common_values_of`: the rule explorer's queries.

The score (helpers.metrics.lead_score's model) reads the observed leads' distinct design rows
(helpers.metrics.lead_engine); its test figures are derived from the test leads' distinct design rows by
helpers.metrics.lead_score_cells. What a warehouse cannot give as a folder does (it keeps no row order) is defined
by lead_id: the out-of-time split's ties on created_at and the score's ties at a decile or same-size edge are
broken by lead_id, and the bulk-loaded case's random split is a fixed permutation of the leads in lead_id order
(:func:`_split`).
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import math

import numpy as np

from helpers.metrics import engine, lead_conditions, lead_engine, lead_feedback, lead_quality as lq, lead_score
from helpers.metrics.goals_engine import _fetch
from helpers.metrics.lead_engine import _number_of, _text, column_kinds, ones  # noqa: F401  (column_kinds: public here too)
from helpers.metrics.pipeline import stage_dates_of, stage_dates_reason
from helpers.metrics.source import memoized

#: The bulk-loaded case's split: each class's leads in lead_id order (rank r) are ordered by
#: (r × SPLIT_MULTIPLIER + SPLIT_INCREMENT) mod SPLIT_MODULUS (a fixed permutation, the same integers on every
#: engine) and the first 30% of each class are the test set.
SPLIT_MULTIPLIER, SPLIT_INCREMENT, SPLIT_MODULUS = 1103515245, 12345, 2 ** 31


# --------------------------------------------------------------------------- columns and their kinds
class Columns(dict):
    """{name: None} of every lead column a rule or an attribute may use (what helpers.metrics.lead_quality's checks
    read: membership and order), with each column's kind (:func:`column_kinds`) asked of the source once, on first
    use: :meth:`typed` gives (None, numeric) as lead_quality.LeadColumns.typed gives (values, numeric)."""

    def __init__(self, source, names: list[str], kinds: dict[str, tuple[bool, bool]]):
        super().__init__(dict.fromkeys(names))
        self.source, self.kinds = source, dict(kinds)

    def typed(self, name: str):
        if name not in self.kinds:
            self.kinds.update(column_kinds(self.source, [name]))
        return None, self.kinds[name][0]

    def filled(self, name: str) -> bool:
        self.typed(name)
        return self.kinds[name][1]


def _values(t, name: str, numeric: bool):
    """The values of column `name` of `t`: float numbers (text read with separators removed), or trimmed text; null
    for an empty cell."""
    return _number_of(t[name]) if numeric else _text(t[name])


def rule_expr(rule: dict, t, numeric: dict[str, bool]):
    """The rule per lead (tests/lead_reference.py's evaluate_rule) as an expression of `t`: true for each lead the
    (checked) rule holds for, an empty cell meeting no condition."""
    import ibis

    if "any" in rule or "all" in rule:
        parts = [rule_expr(p, t, numeric) for p in rule.get("any", rule.get("all"))]
        if not parts:
            return ibis.literal("all" in rule)
        return ibis.or_(*parts) if "any" in rule else ibis.and_(*parts)
    is_number = numeric[rule["column"]]
    values = _values(t, rule["column"], is_number)
    op, value = rule["op"], rule["value"]
    if op == "in":
        hit = values.isin([float(v) if is_number else str(v) for v in value])
    elif op == "==":
        hit = values == (float(value) if is_number else str(value))
    else:
        hit = {">=": values >= float(value), ">": values > float(value), "<=": values <= float(value),
               "<": values < float(value)}[op]
    return hit.fill_null(False)


# --------------------------------------------------------------------------- one row per lead
def horizon_and_bulk(source, as_of: dt.date, setting, warning_codes=()) -> tuple[int, bool]:
    """(H, bulk_created_at) as helpers.metrics.lead_quality.horizon_days and lead_section.bulk_created define them,
    from one row of aggregates (helpers.metrics.attribution_engine.lead_dates_expr): the answer notebook 06's
    attribution reads too, computed once per source (helpers.metrics.attribution_paths.lead_dates_key)."""
    from helpers.metrics.attribution_paths import _lead_dates, lead_dates_key

    leads = source.leads() if source.has_leads else None
    bulk, horizon = memoized(source, lead_dates_key(as_of, setting, warning_codes),
                             lambda: _lead_dates(leads, source.opps(), as_of, setting, warning_codes, source.backend))
    return horizon, bulk


def lead_rows(source, columns: list[str], as_of: dt.date, horizon: int, bulk: bool, start: dt.date, last: dt.date,
              rule: dict | None, numeric: dict[str, bool]):
    """One row per lead created by as_of (tests/lead_reference.py's lead_frame figures): ``lead_id, created, channel ('unknown'
    when empty), observed, converted, won_revenue, mql_in_horizon, in_period (created in [start, last]), flagged (the
    rule, else mql_in_horizon)`` and the raw `columns`."""
    import ibis

    raw = source.raw_leads(columns)
    ld = raw.select(lead_id=raw.lead_id.cast("string"), created=raw.created_at.cast("date"), mql=raw.mql_at.cast("date"),
                    **{c: raw[c] for c in columns})
    ld = ld.filter(ld.created <= as_of)
    o = engine._prepared_opps(source.opps())
    o = o.filter(o.created <= as_of)
    p = engine.pairs_expr(source.leads(), source.opps())
    deals = p.join(o, p.opportunity_id == o.opportunity_id).select(
        pl=p.lead_id, oc=o.created, won=((o.outcome == "won") & (o.closed <= as_of)).fill_null(False), amount=o.amount)
    keys = ld.select(kl=ld.lead_id, kc=ld.created).distinct()
    j = keys.join(deals, keys.kl == deals.pl)
    if not bulk:
        j = j.filter(j.oc <= j.kc + ibis.interval(days=int(horizon)))
    per = j.group_by(["kl", "kc"]).aggregate(hit=j.count(),
                                            rev=j.amount.sum(where=j.won & j.amount.notnull()))
    x = ld.left_join(per, (ld.lead_id == per.kl) & (ld.created == per.kc))
    age = ibis.literal(as_of).delta(x.created, unit="day")
    within = x.created + ibis.interval(days=int(horizon))
    mql_in = (x.mql.notnull() & (x.mql <= as_of) & (ibis.literal(bulk) | (x.mql <= within))).fill_null(False)
    rows = x.select(lead_id=x.lead_id, created=x.created,
                    audit_channel=engine._label(x.channel) if "channel" in columns else ibis.literal(engine.UNKNOWN),
                    observed=ibis.literal(True) if bulk else age >= int(horizon),
                    converted=x.hit.notnull(), won_revenue=x.rev.fill_null(0.0).cast("float64"), mql_in_horizon=mql_in,
                    in_period=(x.created >= start) & (x.created <= last), **{c: x[c] for c in columns})
    flagged = rule_expr(rule, rows, numeric) if rule else rows.mql_in_horizon
    return rows.mutate(flagged=flagged)


# --------------------------------------------------------------------------- the audit
def _audit_parts(rows):
    """Observed leads per (channel, in_period): n, flagged, converted, flagged and converted, missed, missed revenue."""
    import ibis

    obs = rows.filter(rows.observed)
    missed = obs.converted & ~obs.flagged
    g = obs.select(ch=obs.audit_channel, per=obs.in_period, f=ones(obs.flagged), c=ones(obs.converted),
                   h=ones(obs.flagged & obs.converted), m=ones(missed),
                   r=ibis.ifelse(missed, obs.won_revenue, 0.0))
    scoped = [g.mutate(scope=ibis.literal("all")), g.filter(g.per).mutate(scope=ibis.literal("period"))]
    parts = []
    for s in scoped:
        agg = dict(n=s.count(), f=s.f.sum(), c=s.c.sum(), h=s.h.sum(), m=s.m.sum(), r=s.r.sum())
        parts.append(s.group_by(["scope", "ch"]).aggregate(**agg))
        parts.append(s.group_by("scope").aggregate(**agg).mutate(ch=ibis.null("string")))
    cols = ["scope", "ch", "n", "f", "c", "h", "m", "r"]
    return ibis.union(*[x.select(*cols) for x in parts], distinct=False)


def audits_of(rows, rule_text: str | None, backend=None) -> dict:
    """lead_section's ``mql_audit``: the rule's audit over the period's observed cohort and all history, and by
    channel (channels by name, each with at least one lead); one query."""
    got = _fetch(_audit_parts(rows), backend).to_pylist()

    def one(r):
        return lq.counted_audit(int(r["n"]), int(r["f"] or 0), int(r["c"] or 0), int(r["h"] or 0), int(r["m"] or 0),
                             float(r["r"] or 0.0))
    total = {r["scope"]: one(r) for r in got if r["ch"] is None}
    by = {scope: {r["ch"]: one(r) for r in sorted((r for r in got if r["scope"] == scope and r["ch"] is not None),
                                                  key=lambda r: r["ch"])} for scope in ("period", "all")}
    empty = lq.counted_audit(0, 0, 0, 0, 0, 0.0)
    return {"rule": rule_text, "rule_in_use": rule_text is None, "period": total.get("period", empty),
            "all_history": total.get("all", empty), "by_channel": by["period"], "by_channel_all_history": by["all"]}


def audit_of(source_rows, rule: dict | None, numeric: dict[str, bool], backend=None) -> dict:
    """The audit (lead_quality.counted_audit) of another rule, as the explorer tries rules: `rule` (None flags nothing)
    over the observed leads of :func:`lead_rows` (tests/lead_reference.py's audit_rule, lead by lead)."""
    import ibis

    rows = source_rows.mutate(flagged=rule_expr(rule, source_rows, numeric) if rule else ibis.literal(False))
    got = _fetch(_audit_parts(rows), backend).to_pylist()
    r = next((r for r in got if r["scope"] == "all" and r["ch"] is None), None)
    if r is None:
        return lq.counted_audit(0, 0, 0, 0, 0, 0.0)
    return lq.counted_audit(int(r["n"]), int(r["f"] or 0), int(r["c"] or 0), int(r["h"] or 0), int(r["m"] or 0),
                         float(r["r"] or 0.0))


def threshold_of(rows, name: str, top_share: float, backend=None) -> float | None:
    """The value at or above which the top `top_share` of the observed leads' filled values of numeric attribute
    `name` lie (None without values): the engine's continuous quantile, numpy's linear one (tests/lead_reference.py's
    threshold_at)."""
    obs = rows.filter(rows.observed)
    x = _number_of(obs[name])
    got = _fetch(obs.aggregate(q=x.quantile(1 - top_share)), backend).to_pylist()[0]["q"]
    return None if got is None else float(got)


def common_values_of(rows, names: list[str], k: int, backend=None) -> dict[str, list[str]]:
    """The `k` values most leads of :func:`lead_rows` hold, per text attribute in `names` (ties by value); one query."""
    import ibis

    if not names:
        return {}
    parts = [rows.select(v=_text(rows[a])).filter(ibis._.v.notnull()).group_by("v").aggregate(n=ibis._.count())
             .mutate(dim=ibis.literal(i, type="int64")) for i, a in enumerate(names)]
    got = _fetch(parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False), backend).to_pylist()
    return {a: [r["v"] for r in sorted((r for r in got if r["dim"] == i), key=lambda r: (-r["n"], r["v"]))][:k]
            for i, a in enumerate(names)}


# --------------------------------------------------------------------------- the score's split
def _test_size(n: int, converted: int, bulk: bool) -> int:
    """How many of `n` observed leads (`converted` of them converted) :func:`_split` puts in the test set."""
    if not bulk:
        return int(math.ceil(lead_score.TEST_SHARE * n))
    return int(round(lead_score.TEST_SHARE * converted)) + int(round(lead_score.TEST_SHARE * (n - converted)))


def _split(obs, n: int, converted: int, bulk: bool, backend=None):
    """The observed leads `obs` with ``train`` (tests/lead_reference.py's split, lead by lead): the newest 30% by created_at are the test
    set, ties on created_at broken by lead_id (a folder's file order when its leads are in lead_id order); bulk
    loaded: in each class the first 30% (rounded) by the fixed permutation of SPLIT_* of its leads in lead_id order.
    Out of time, ``train`` compares each lead with the first test lead (:func:`_time_cut`), so no query that reads it
    sorts the leads."""
    import ibis

    if not bulk:
        return obs.mutate(train=_time_cut(obs, n - _test_size(n, converted, False), backend))
    r = ibis.row_number().over(group_by=obs.converted, order_by=obs.lead_id).cast("int64")
    obs = obs.mutate(_key=(r * SPLIT_MULTIPLIER + SPLIT_INCREMENT) % SPLIT_MODULUS)
    q = ibis.row_number().over(group_by=obs.converted, order_by=[obs._key, obs.lead_id]).cast("int64")
    take = {True: int(round(lead_score.TEST_SHARE * converted)), False: int(round(lead_score.TEST_SHARE * (n - converted)))}
    test = ibis.ifelse(obs.converted, q < take[True], q < take[False])
    return obs.mutate(train=~test).drop("_key")


def _time_cut(obs, k: int, backend=None):
    """True for the first `k` of the observed leads `obs` in (created, lead_id) order (lead ids are unique: the loader
    and the warehouse checks refuse a repeated one), as a comparison with the first lead after them: the leads per
    created day (one grouped query) find its day D and its place j in that day, and the day's lead_id at j (one query
    over that day's leads) ends the training leads. The same leads as a row number over (created, lead_id) below `k`,
    without the window's sort of every observed lead with all its columns (about 0.7 GB at 10M leads)."""
    import ibis

    if k <= 0:
        return ibis.literal(False)
    days = _fetch(obs.group_by("created").aggregate(n=obs.count()), backend).to_pydict()
    order = sorted(range(len(days["n"])), key=lambda i: days["created"][i])
    before = 0
    for i in order:
        day, count = days["created"][i], int(days["n"][i])
        if before + count > k:   # the cut falls inside `day`: its first (k - before) leads by lead_id are training leads
            day_leads = obs.filter(obs.created == day)
            first = _fetch(day_leads.select("lead_id").order_by("lead_id").limit(1, offset=k - before), backend)
            return (obs.created < day) | ((obs.created == day) & (obs.lead_id < first.column("lead_id")[0].as_py()))
        before += count
    return ibis.literal(True)


# --------------------------------------------------------------------------- the section
def _score_of(obs, clean: dict[str, bool], n: int, converted: int, bulk: bool, min_leads: int, backend=None):
    """The score section (and same_size; tests/lead_reference.py's score, lead by lead) for the observed leads `obs` of :func:`lead_rows`: the split
    (:func:`_split`), the fit on the training leads' distinct design rows (lead_engine.fit_score) and the test
    figures from the test leads' (helpers.metrics.lead_score_cells); at most MAX_SCORED_LEADS leads of each side
    read (lead_engine._spaced)."""
    from helpers.metrics.lead_score_cells import test_figures

    out = {"method": "logistic_regression", "penalty": None, "split": "random" if bulk else "out_of_time",
           "train_leads": None, "test_leads": None, "test_converted": None, "auc": None, "auc_low": None,
           "auc_high": None, "brier": None, "deciles": [], "points": {}, "dropped": [], "null_reasons": {}}
    why = lead_score.too_few(n, converted) or (None if clean else "no_score_attributes")
    if why:
        out["null_reasons"] = dict.fromkeys(("auc", "brier", "points"), why)
        return out, None
    t = _split(obs, n, converted, bulk, backend)
    train_n = n - _test_size(n, converted, bulk)
    fitted = lead_engine.fit_score(t, clean, min_leads, backend, train_leads=int(train_n))
    if fitted is None:
        out["dropped"] = [{"code": "score_column_dropped", "variant": "constant", "attribute": a, "value": None, "with": []}
                          for a in clean]
        out["null_reasons"] = dict.fromkeys(("auc", "brier", "points"), "no_score_attributes")
        return out, None
    keys = fitted["design"]["keys"]
    tested = lead_engine._spaced(t.mutate(test=~t.train), "test", n - int(train_n), lead_engine.MAX_SCORED_LEADS)
    tested = tested.filter(tested.test)
    cells = lead_engine._cells(tested, keys, {"f": ones(tested.flagged), "w": tested.won_revenue,
                                              "fw": _if(tested.flagged, tested.won_revenue)}, backend)
    X = lead_engine._design(cells, clean, fitted["design"]).matrix(np.arange(len(cells["n"])))
    figures = test_figures(tested, {a: keys[a] for a in keys}, cells, X, fitted["params"].to_numpy(), backend)
    same = figures.pop("same_size")
    out.update(penalty=fitted["penalty"], train_leads=int(train_n), fit_leads=fitted["fit_leads"], **figures,
               points=fitted["points"], dropped=fitted["dropped"])
    if out["auc"] is None:
        out["null_reasons"] = {"auc": "test_one_class"}
    return out, same


def _if(cond, value):
    import ibis

    return ibis.ifelse(cond, value, 0.0)


def lead_quality_of(source, settings: dict, start, end, as_of, warning_codes=()):
    """helpers.metrics.lead_section.lead_quality on a :class:`helpers.metrics.source.Source` (the module notes): a
    LeadQuality whose ``rows`` is :func:`lead_rows`' expression (the explorer's queries read it) and whose ``attrs``
    are {attribute: (its values as an expression of rows, numeric)}. ConfigError as lead_quality's."""

    names = source.lead_columns() if source.has_leads else []
    if not names:
        return lq.LeadQuality(lq.empty_section("no_leads"))
    a = engine._day(as_of)
    setting = (settings or {}).get("horizon_days")
    horizon, bulk = horizon_and_bulk(source, a, setting, warning_codes)
    settings = settings or {}
    min_leads = int(settings.get("min_leads") or lq.MIN_LEADS)
    rule = settings.get("mql_rule")
    columns = _columns(source, names, settings)
    lq.check_settings(settings, columns)   # every problem at once (the runner checked them before the notebooks)
    specs = lq.attribute_specs(settings, columns, columns.filled)
    late = lq.check_rule(rule, columns, specs) if rule else []
    used = list(dict.fromkeys([*(a.column for a in specs), *(lq_columns(rule) if rule else []), "channel"]))
    used = [c for c in used if c in names]
    numeric = {c: columns.typed(c)[1] for c in used}
    rows = lead_rows(source, used, a, horizon, bulk, engine._day(start), min(engine._day(end), a), rule, numeric)
    with engine.materialized(rows, source.backend) as table:
        section, attrs = _section(source, table, specs, settings, rule, late, horizon, bulk, min_leads, start, end, as_of)
    undated = None if rule else stage_dates_reason("mql_at", (stage_dates_of(source) or {}).get("mql_at", 0))
    if undated:   # the rule in use is "an mql_at within H days" and no lead has one: who was flagged is unknown
        section = dict(section, mql_audit=lq.audits_unflagged(section["mql_audit"], undated))
    if not source.has_opportunities:   # a leads-only folder: the leads' outcomes are unknown, not "none converted"
        section = lq.outcomes_unknown(section)
    known = {s.column: s.known for s in specs}
    attrs = {name: (rows[name], numeric) for name, numeric in attrs.items()}
    return lq.LeadQuality(section, rows, attrs, known, late, rule, numeric, source)


def _columns(source, names: list[str], settings: dict) -> Columns:
    """The :class:`Columns` of the leads' columns `names`, the kinds of the default attributes and the ones the
    settings name asked of `source` once (memoized)."""
    wanted = list(dict.fromkeys(c for c in (*lq.DEFAULT_ATTRIBUTES, *_named(settings)) if c in names))
    return Columns(source, names, memoized(source, ("lead_column_kinds", tuple(wanted)),
                                           lambda: column_kinds(source, wanted)))   # Columns copies it


def check_lead_settings(source, settings: dict | None) -> None:
    """ConfigError listing every problem of the ``lead_quality`` settings against the lead columns of `source` (a
    :class:`helpers.metrics.source.Source`; helpers.metrics.lead_quality.check_settings): the runner's check before
    any notebook runs. Nothing without leads."""
    names = source.lead_columns() if source.has_leads else []
    if names:
        lq.check_settings(settings or {}, _columns(source, names, settings or {}))


def _named(settings: dict) -> list[str]:
    return [e if isinstance(e, str) else e["column"] for e in settings.get("attributes") or []]


def lq_columns(rule: dict) -> list[str]:
    from helpers.config import lead_quality_columns

    return lead_quality_columns({"mql_rule": rule})


def _section(source, rows, specs, settings, rule, late, horizon, bulk, min_leads, start, end, as_of):
    """The section's dict from the materialized :func:`lead_rows` (its queries), and {attribute: numeric}."""
    import ibis

    backend = source.backend
    c = _fetch(rows.aggregate(
        obs=ones(rows.observed).sum(), still=ones(~rows.observed).sum(),
        pobs=ones(rows.observed & rows.in_period).sum(), pstill=ones(~rows.observed & rows.in_period).sum(),
        conv=ones(rows.observed & rows.converted).sum()), backend).to_pylist()[0]
    n_obs, conv = int(c["obs"] or 0), int(c["conv"] or 0)
    kinds = {s.column: s.numeric for s in specs}
    known = {s.column: s.known for s in specs}
    explicit = {s.column for s in specs if s.explicit and s.known == "before_contact"}
    obs = rows.filter(rows.observed)

    def fit():
        both = lead_engine.conditions_and_guard(obs, kinds, known, explicit, min_leads, backend) if kinds else \
            {"suspect": [], "clean": [], "conditions": []}
        clean = {a: kinds[a] for a in both["clean"]}
        return ([] if conv in (0, n_obs) else both["conditions"]), both["suspect"], clean, \
            *_score_of(obs, clean, n_obs, conv, bulk, min_leads, backend)

    # the observed leads are the period's and every other's (created at least H days before as_of): once per source
    key = ("lead_quality_fit", engine._day(as_of), int(horizon), bool(bulk), min_leads, n_obs, conv,
           json.dumps(settings, sort_keys=True, default=str), tuple(kinds.items()), tuple(known.items()),
           tuple(sorted(explicit)))
    conditions, suspect, clean, score, same = copy.deepcopy(memoized(source, key, fit))
    section = {
        "horizon_days": None if bulk else int(horizon), "bulk_created_at": bulk,
        "observed_leads": n_obs, "still_in_play": int(c["still"] or 0),
        "period_observed_leads": int(c["pobs"] or 0), "period_still_in_play": int(c["pstill"] or 0),
        "attributes": [{"attribute": a.column, "known": a.known, "numeric": a.numeric, "explicit": a.explicit} for a in specs],
        "min_leads": min_leads,
        "mql_audit": lq.without_cohort(audits_of(rows, lq.rule_text(rule), backend),
                                       int(c["pobs"] or 0) + int(c["pstill"] or 0)),
        "conditions": conditions, "suspect": suspect, "score": score, "same_size": same,
        "feedback": lead_feedback.feedback_of(source, start, end, as_of),
        "late_rule_columns": late, "null_reasons": {},
    }
    if not clean:
        section["null_reasons"]["conditions"] = "no_attributes" if not specs else "no_clean_attributes"
    del ibis
    return section, kinds
