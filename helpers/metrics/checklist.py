"""Sales x marketing alignment checklist (contract section 3, "Checklist").

Every figure function here is pure: it reads the frames it is given, never
changes them, and returns plain Python values or small frames. The answer
form's save path (:func:`append_answers`, :func:`remove_answers`) lives in
helpers.metrics.checklist_answers and is importable from here.

Definitions (the glossary section, docs/glossary.md, section "Alignment checklist", uses the same words):

- an item value is yes = 1, partial = 0.5, no = 0; a row whose answer is
  empty is not an answer (an unanswered item);
- respondent score = 100 × mean of the items the respondent answered;
- department score = mean of its respondents' scores; every department
  present is scored (sales, marketing and any other value), but only sales
  and marketing enter the overall score;
- the answers used for a period P (the *answer set*): those answered in P,
  only each respondent's latest answered_on date in P; if nobody answered in
  P, each respondent's latest answers dated on or before the end of P (the
  report says so through ``info["rule"]``). Nothing dated after as_of counts.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import pandas as pd

from helpers.data.schema import department_key
from helpers.errors import WorkbookError  # noqa: F401  (ck.WorkbookError, as before)
from helpers.metrics.checklist_answers import (  # noqa: F401  (the save path, public here as before)
    ANSWER_TEXT, BACKUPS_KEPT, FILE_COLUMNS, DuplicateAnswersError, append_answers, backups, remove_answers)
from helpers.metrics.pipeline import dates, day

#: Department names that make up the overall score, in display order.
CORE_DEPARTMENTS = ("sales", "marketing")
#: Checklist item numbers.
ITEMS = tuple(range(1, 16))
#: An item counts as met (and a department as "answering yes") at a mean value of at least this.
MET_THRESHOLD = 0.75
#: Evidence thresholds: the CRM measure supports the item when value >= threshold.
EVIDENCE_THRESHOLDS = {3: 0.8, 5: 0.8, 6: 0.8, 7: 0.8, 8: 1.0, 9: 1.0, 10: 0.8}
#: Evidence measure key of each item the CRM data can speak to.
EVIDENCE_MEASURES = {
    3: "sql_with_mql_date_share",
    5: "follow_up_sla_hit_rate",
    6: "lost_with_reason_share",
    7: "opportunities_linked_share",
    8: "lead_to_opportunity_rate_computable",
    9: "win_rate_computable",
    10: "revenue_traceable_share",
}
ANSWER_VALUE = {"yes": 1.0, "partial": 0.5, "no": 0.0}
#: Text code of a contradiction (label key of its sentence).
CONTRADICTION_CODE = "checklist_claim_not_supported"


# --------------------------------------------------------------------------- small pieces
def _departments(series: pd.Series) -> pd.Series:
    """Department names in canonical form (schema.department_key: 営業 -> sales, マーケ -> marketing); empty -> 'other'."""
    return series.astype(object).map(lambda v: department_key(v) or "other").astype(object)


def _dept_order(names) -> list[str]:
    """sales, marketing, then the other departments in sorted order."""
    names = set(names)
    return [d for d in CORE_DEPARTMENTS if d in names] + sorted(names - set(CORE_DEPARTMENTS))


#: Cleaned tables kept by content (:func:`_kept`): a period's notebook cleans the same answers for its figures, its
#: views and each period of the trend (about 20 times on the sample).
_KEPT: OrderedDict = OrderedDict()
_KEPT_SIZE = 64


def _kept(kind: str, frame: pd.DataFrame, compute, mark: tuple | None = None) -> pd.DataFrame:
    """``compute(frame)`` kept by `kind` and `frame`'s content (:func:`_fingerprint`: columns, dtypes, rows and index;
    `mark` when the caller has it), the last :data:`_KEPT_SIZE` of them; each call gets its own shallow copy
    (copy-on-write: a change to it leaves the kept frame as it was). A frame pandas cannot hash is computed every time."""
    mark = mark or _fingerprint(frame)
    if mark is None:
        return compute(frame)
    key = (kind, mark)
    with _KEPT_LOCK:
        found = _KEPT.get(key)
        if found is not None:
            _KEPT.move_to_end(key)
    if found is None:
        found = compute(frame)
        with _KEPT_LOCK:
            _KEPT[key] = found
            while len(_KEPT) > _KEPT_SIZE:
                _KEPT.popitem(last=False)
    return found.copy(deep=False)


_KEPT_LOCK = threading.Lock()


def _normalized(checklist: pd.DataFrame, mark: tuple | None = None) -> pd.DataFrame:
    """`checklist`'s rows with normalized respondent (trimmed text, None when empty), department
    (:func:`_departments`), answered_on (calendar days), item and answer (numbers, NaN when not one); its index.
    Kept by content (:func:`_kept`; `mark` its :func:`_fingerprint` when the caller has it)."""
    return _kept("normalized", checklist, _compute_normalized, mark)


def _compute_normalized(checklist: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "respondent": checklist["respondent"].astype(object).map(lambda v: None if pd.isna(v) else str(v).strip()),
        "department": _departments(checklist["department"]),
        "answered_on": dates(checklist, "answered_on"),
        "item": pd.to_numeric(checklist["item"], errors="coerce"),
        "answer": pd.to_numeric(checklist["answer"], errors="coerce").astype("float64"),
    }, index=checklist.index)


def _clean(answers: pd.DataFrame) -> pd.DataFrame:
    """Answered rows only, with normalized respondent/department/date/item/answer; one row per respondent × item (the latest date wins, then the last row).

    Kept by content (:func:`_kept`): the figures and views of a period ask for the same answers' clean rows."""
    if answers is None or len(answers) == 0:
        return pd.DataFrame({"respondent": pd.Series(dtype=object), "department": pd.Series(dtype=object),
                             "answered_on": pd.Series(dtype="datetime64[ns]"), "item": pd.Series(dtype="int64"),
                             "answer": pd.Series(dtype="float64")})
    return _kept("clean", answers, _compute_clean)


def _compute_clean(answers: pd.DataFrame) -> pd.DataFrame:
    return _clean_rows(_compute_normalized(answers))


def _clean_rows(out: pd.DataFrame) -> pd.DataFrame:
    """:func:`_clean` of rows already normalized (:func:`_normalized`)."""
    out = out[out["answer"].notna() & out["item"].notna() & out["respondent"].notna()]
    out = out.assign(item=out["item"].astype("int64")).sort_values("answered_on", kind="stable")
    return out.drop_duplicates(["respondent", "item"], keep="last").sort_index()


def _mean(values) -> float | None:
    values = [float(v) for v in values if v is not None and not pd.isna(v)]
    return float(np.mean(values)) if values else None


def _none(value):
    """NaN -> None, numpy float -> float."""
    if value is None or pd.isna(value):
        return None
    return float(value)


# --------------------------------------------------------------------------- answer set and scores
def answer_set(checklist: pd.DataFrame | None, period, as_of=None) -> tuple[pd.DataFrame, dict]:
    """The answers used for period P: those answered in P (each respondent's latest date in P); if none, each respondent's latest answers before the end of P.

    Rows with an empty answer are not answers. With ``as_of`` given, answers
    dated after it are ignored (the last day that counts is min(end, as_of)).
    Returns ``(answers, info)`` where ``answers`` holds the original rows used
    and ``info = {"rule": "in_period" | "latest_before_end" | "none",
    "respondents": n, "from": earliest answered_on used, "to": latest used,
    "after_as_of": rows ignored for being dated after as_of}``.
    """
    if checklist is None or len(checklist) == 0:
        return (checklist.iloc[0:0] if checklist is not None else _clean(None)), dict(_EMPTY_INFO)
    chosen, info = _used_rows(_normalized(checklist), period, as_of)
    return (checklist.iloc[0:0] if chosen is None else checklist[chosen]), info


_EMPTY_INFO = {"rule": "none", "respondents": 0, "from": None, "to": None, "after_as_of": 0}


def _used_rows(norm: pd.DataFrame, period, as_of) -> tuple[np.ndarray | None, dict]:
    """:func:`answer_set` on a normalized checklist (:func:`_normalized`): (the mask of the rows used, a NumPy bool
    array, None when no row is; the info)."""
    start, end = day(period.start), day(period.end)
    dated = norm["answered_on"]
    when = dated.to_numpy()
    codes = pd.factorize(norm["respondent"])[0]   # -1: no respondent
    answered = ~np.isnan(norm["answer"].to_numpy()) & (codes >= 0) & ~np.isnat(when)
    after = np.zeros(len(norm), dtype=bool)
    if as_of is not None:
        after = when > day(as_of).to_datetime64()   # NaT: False
        end = min(end, day(as_of))
    usable = answered & ~after
    info = dict(_EMPTY_INFO, after_as_of=int((answered & after).sum()))

    in_period = usable & (when >= start.to_datetime64()) & (when <= end.to_datetime64())
    if in_period.any():
        pool, rule = in_period, "in_period"
    else:
        pool, rule = usable & (when <= end.to_datetime64()), "latest_before_end"
    if not pool.any():
        return None, info
    stamps = when.view("int64")
    latest = np.full(codes.max() + 1, np.iinfo(np.int64).min)
    np.maximum.at(latest, codes[pool], stamps[pool])   # each respondent's latest date in the pool
    chosen = pool & (stamps == latest[codes])
    info.update(rule=rule, respondents=int(len(np.unique(codes[chosen]))),
                **{"from": dated[chosen].min(), "to": dated[chosen].max()})
    return chosen, info


def respondent_scores(answers: pd.DataFrame) -> pd.DataFrame:
    """Per respondent: department, items answered, score = 100 × mean of the items answered.

    One row per respondent with at least one answered item, sorted by department
    (sales, marketing, others) then respondent. A respondent's department is the
    one on their last answered row. Columns: respondent, department,
    items_answered, score.
    """
    return _respondent_scores_of(_clean(answers))


def _respondent_scores_of(clean: pd.DataFrame) -> pd.DataFrame:
    """:func:`respondent_scores` of the clean rows `clean` (:func:`_clean`)."""
    cols = ["respondent", "department", "items_answered", "score"]
    if clean.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "score" else ("int64" if c == "items_answered" else object))
                             for c in cols})
    grouped = clean.groupby("respondent", sort=False)
    out = pd.DataFrame({
        "department": grouped["department"].last(),
        "items_answered": grouped["item"].nunique().astype("int64"),
        "score": grouped["answer"].mean() * 100.0,
    })
    out.index.name = "respondent"
    out = out.reset_index()
    order = {d: i for i, d in enumerate(_dept_order(out["department"]))}
    out = out.assign(_o=out["department"].map(order)).sort_values(["_o", "respondent"], kind="stable").drop(columns="_o")
    return out[cols].reset_index(drop=True)


def department_scores(answers: pd.DataFrame) -> dict:
    """Department score: mean of its respondents' scores, for every department present (sales, marketing, others)."""
    return _department_scores_of(_clean(answers))


def _department_scores_of(clean: pd.DataFrame) -> dict:
    """:func:`department_scores` of the clean rows `clean` (:func:`_clean`)."""
    scores = _respondent_scores_of(clean)
    out = {}
    for dept in _dept_order(scores["department"]):
        out[dept] = _mean(scores.loc[scores["department"] == dept, "score"])
    return out


def overall_score(dept_scores: dict) -> float | None:
    """Overall score: mean of the sales and marketing department scores, only those present; None if neither."""
    return _mean([dept_scores.get(d) for d in CORE_DEPARTMENTS])


def category_scores(answers: pd.DataFrame, categories: dict) -> dict:
    """Category score by department: mean over the department's respondents of 100 × the respondent's mean over the items of the category they answered.

    ``{category: {department: score}}`` for every category and every department
    present in the answers; None where no respondent of that department answered
    any item of the category.
    """
    clean = _clean(answers)
    depts = _dept_order(clean["department"])
    # a respondent belongs to the department of their last answered row (as in respondent_scores)
    dept_of = clean.groupby("respondent", sort=False)["department"].last()
    out: dict = {}
    for name, items in categories.items():
        part = clean[clean["item"].isin([int(i) for i in items])]
        per_resp = part.groupby("respondent")["answer"].mean() * 100.0
        per_dept = per_resp.groupby(per_resp.index.map(dept_of)).mean() if len(per_resp) else pd.Series(dtype="float64")
        out[name] = {d: _none(per_dept.get(d)) for d in depts}
    return out


def item_table(answers: pd.DataFrame) -> pd.DataFrame:
    """Per item 1-15: mean value by department (sales, marketing), the perception gap = marketing − sales, and answers per department.

    Columns: item, sales, marketing, gap, overall, n_sales, n_marketing. A mean
    is NaN when the department gave no answer to the item; gap is NaN unless both
    departments answered it; overall = mean of the sales and marketing means
    present (each department weighs the same, as in the overall score).
    Sorted by item.
    """
    clean = _clean(answers)
    core = clean[clean["department"].isin(CORE_DEPARTMENTS)]
    # each (item, department)'s answers in the clean rows' order, as a mask per item and department selects them
    groups = dict(iter(core.groupby(["item", "department"], sort=False)["answer"]))
    rows = []
    for item in ITEMS:
        row = {"item": item}
        for dept in CORE_DEPARTMENTS:
            vals = groups.get((item, dept))
            row[dept] = float(vals.mean()) if vals is not None and len(vals) else np.nan
            row[f"n_{dept}"] = 0 if vals is None else int(len(vals))
        row["gap"] = row["marketing"] - row["sales"]
        present = [row[d] for d in CORE_DEPARTMENTS if not np.isnan(row[d])]
        row["overall"] = float(np.mean(present)) if present else np.nan
        rows.append(row)
    out = pd.DataFrame(rows, columns=["item", "sales", "marketing", "gap", "overall", "n_sales", "n_marketing"])
    return out.astype({"item": "int64", "sales": "float64", "marketing": "float64", "gap": "float64",
                       "overall": "float64", "n_sales": "int64", "n_marketing": "int64"})


def largest_gaps(items: pd.DataFrame, n: int = 3) -> list[dict]:
    """The items where the departments disagree most: the n largest |gap| (non-zero, both departments answered).

    Ties keep the lower item number first. Each entry: item, sales, marketing, gap.
    """
    known = items[items["gap"].notna() & (items["gap"] != 0)]
    known = known.assign(_abs=known["gap"].abs()).sort_values(["_abs", "item"], ascending=[False, True], kind="stable")
    return [{"item": int(r.item), "sales": float(r.sales), "marketing": float(r.marketing), "gap": float(r.gap)}
            for r in known.head(n).itertuples()]


def score_trend(checklist: pd.DataFrame | None, periods, as_of=None, source=None) -> pd.DataFrame:
    """Per period with answers in it: respondents, overall and department scores from that period's answer set (in-period rule only).

    Columns: period (label), start, end, respondents, overall, then one column
    per department in the whole table (sales, marketing, others; NaN where that
    department did not answer in the period). Periods without answers are left out.

    With `source` (a :class:`helpers.metrics.source.Source`; notebook 01 passes ``s.source``) each period's row is
    computed once per source, checklist content, period and as_of (:func:`helpers.metrics.source.memoized`): a run's
    kernel asks for every earlier period's row again in each later period. A row is stored as a tuple of immutable
    values; each call builds its own frame from it.
    """
    depts = _dept_order(_departments(checklist["department"])) if checklist is not None and len(checklist) else []
    mark = _fingerprint(checklist) if checklist is not None else None
    norm = _normalized(checklist, mark) if checklist is not None and len(checklist) else None
    rows = []
    for period in periods:
        row = _trend_row(norm, depts, period, as_of, source if mark is not None else None, mark)
        if row is not None:
            rows.append(dict(row))
    out = pd.DataFrame(rows, columns=["period", "start", "end", "respondents", "overall", *depts])
    return out.astype({c: "float64" for c in ["overall", *depts]})


def _trend_row(norm: pd.DataFrame | None, depts: list, period, as_of, source, mark) -> tuple | None:
    """:func:`score_trend`'s row of `period` as ``((column, value), ...)``, None when the period has no answers in it;
    `norm` the checklist normalized (:func:`_normalized`; None without rows); memoized on `source` under the
    checklist's fingerprint `mark` (:func:`_fingerprint`), else (no source) computed."""
    if source is None:
        return _compute_trend_row(norm, depts, period, as_of)
    from helpers.metrics.source import memoized

    key = ("checklist_trend_row", mark, period.label, day(period.start), day(period.end),
           None if as_of is None else day(as_of))
    return memoized(source, key, lambda: _compute_trend_row(norm, depts, period, as_of))


def _compute_trend_row(norm: pd.DataFrame | None, depts: list, period, as_of) -> tuple | None:
    """:func:`score_trend`'s row of `period` computed from its answer set (:func:`answer_set` on the normalized
    checklist `norm`); None unless the in-period rule applies."""
    if norm is None:
        return None
    chosen, info = _used_rows(norm, period, as_of)
    if info["rule"] != "in_period":
        return None
    scores = _department_scores_of(_clean_rows(norm[chosen]))
    row = {"period": period.label, "start": day(period.start), "end": day(period.end),
           "respondents": info["respondents"], "overall": overall_score(scores)}
    row.update({d: scores.get(d) for d in depts})
    return tuple(row.items())


def _fingerprint(checklist: pd.DataFrame | None) -> tuple | None:
    """A key of `checklist`'s content: its columns, dtypes and a SHA-256 of its rows' hashes (index included); None
    for a table whose values pandas cannot hash (then nothing is memoized)."""
    import hashlib

    if checklist is None:
        return ("none",)
    try:
        hashed = pd.util.hash_pandas_object(checklist, index=True).to_numpy()
    except TypeError:
        return None
    return (tuple(map(str, checklist.columns)), tuple(map(str, checklist.dtypes)),
            hashlib.sha256(hashed.tobytes()).hexdigest())


# --------------------------------------------------------------------------- evidence from the CRM data
def _entry(item: int, value, n) -> dict:
    threshold = EVIDENCE_THRESHOLDS[item]
    supports = None if value is None else bool(value >= threshold)
    return {"measure": EVIDENCE_MEASURES[item], "value": value, "threshold": threshold, "supports": supports, "n": n}


def evidence(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, sla_hours: float, source=None) -> dict:
    """What the CRM data (all history known on as_of) says about the checklist items it can speak to.

    ``{item: {"measure", "value", "threshold", "supports", "n"}}``; supports =
    value >= threshold, None when the value is None; n = the denominator.

    - 3 ``sql_with_mql_date_share``: of the leads that reached SQL or a linked
      opportunity, the share carrying an MQL date (written criteria are applied
      consistently). None without leads, without an mql_at column, or with no such lead.
    - 5 ``follow_up_sla_hit_rate``: of the MQLs whose SLA deadline (mql_at 00:00 +
      sla_hours) had passed by the end of as_of, the share with first_sales_touch_at
      on or before the deadline (untouched = miss). None without leads, without the
      mql_at / first_sales_touch_at columns, or with no such MQL.
    - 6 ``lost_with_reason_share``: of the deals lost by as_of, the share with a
      non-blank loss_reason. None without a loss_reason column or with no lost deal.
    - 7 ``opportunities_linked_share``: of the opportunities created by as_of, the
      share linked to a lead (leads.opportunity_id or opps.lead_id, to a lead that
      exists; without a leads table a non-blank opps.lead_id). None when neither
      table carries a link column, or with no opportunity.
    - 8 ``lead_to_opportunity_rate_computable``: 1.0 when leads exist and at least
      one of them links to an existing opportunity, else 0.0. None without leads.
    - 9 ``win_rate_computable``: 1.0 when at least one deal was won or lost by as_of and the
      data holds a lost deal (without any loss the win rate is null: no_lost_deals), else 0.0.
    - 10 ``revenue_traceable_share``: of the won revenue (closed by as_of), the share
      whose channel is known (not null/blank/'unknown'). None when that revenue is 0.

    Without an opportunities table (a leads-only folder) items 6-10 have no evidence: value, supports and n None, and
    ``null_reasons`` {value, supports, n} = no_opportunities (helpers.metrics.checklist_evidence.DEAL_ITEMS).

    Computed on `source` (a :class:`helpers.metrics.source.Source`; notebook 01 passes ``s.source``), default the
    frames, as aggregates (helpers.metrics.checklist_evidence).
    """
    from helpers.metrics.checklist_evidence import evidence_of
    from helpers.metrics.source import FrameSource

    return evidence_of(source or FrameSource(leads, opps), as_of, sla_hours, _entry)


def _as_item_table(items_or_answers: pd.DataFrame) -> pd.DataFrame:
    if "answer" in items_or_answers.columns:
        return item_table(items_or_answers)
    return items_or_answers


def contradictions(items_table_or_answers: pd.DataFrame, evidence_: dict) -> list[dict]:
    """Claims the data does not back: a department's mean answer to an item is >= 0.75 (yes on average) while the item's evidence has supports = False.

    Each entry: item, department, claimed (the department's mean answer), seen
    (the evidence value), measure, threshold, code. Ordered by item, sales before marketing.
    """
    items = _as_item_table(items_table_or_answers).set_index("item")
    out = []
    for item, ev in sorted(evidence_.items()):
        if ev.get("supports") is not False or int(item) not in items.index:
            continue
        for dept in CORE_DEPARTMENTS:
            claimed = items.at[int(item), dept] if dept in items.columns else np.nan
            if pd.notna(claimed) and claimed >= MET_THRESHOLD:
                out.append({"item": int(item), "department": dept, "claimed": float(claimed), "seen": ev["value"],
                            "measure": ev["measure"], "threshold": ev["threshold"], "code": CONTRADICTION_CODE})
    return out


def unmet_items(items: pd.DataFrame, contradictions_: list[dict] | None = None) -> list[int]:
    """Unmet items: the overall mean (of the sales and marketing means) is below 0.75, or a contradiction was flagged on it."""
    items = _as_item_table(items)
    low = {int(r.item) for r in items.itertuples() if pd.notna(r.overall) and r.overall < MET_THRESHOLD}
    flagged = {int(c["item"]) for c in (contradictions_ or [])}
    return sorted(low | flagged)


def recommendations(items: pd.DataFrame, catalog: dict, contradictions_: list[dict] | None = None) -> list[dict]:
    """The catalog initiatives that address unmet items, easiest first, then highest impact (impact = opportunities + win_rate + cycle).

    Ties keep the catalog order (the seed's order: target definition, lead
    criteria, shared KPIs ...). Each entry: key, ja, en, items_addressed (the
    unmet items it covers), impacts {opportunities, win_rate, cycle}, impact
    (their sum), difficulty. Initiatives covering no unmet item are left out.
    """
    unmet = set(unmet_items(items, contradictions_))
    out = []
    for order, (key, spec) in enumerate(catalog.items()):
        addressed = sorted(unmet.intersection(int(i) for i in spec.get("items", []) or []))
        if not addressed:
            continue
        impacts = {k: int(spec.get(k, 0) or 0) for k in ("opportunities", "win_rate", "cycle")}
        out.append({"key": key, "ja": spec.get("ja", ""), "en": spec.get("en", ""), "items_addressed": addressed,
                    "impacts": impacts, "impact": sum(impacts.values()),
                    "difficulty": int(spec.get("difficulty", 0) or 0), "_order": order})
    out.sort(key=lambda r: (r["difficulty"], -r["impact"], r["_order"]))
    for r in out:
        del r["_order"]
    return out


def checklist_metrics(checklist: pd.DataFrame | None, leads: pd.DataFrame | None, opps: pd.DataFrame,
                      period, as_of, config, source=None) -> dict | None:
    """The metrics.json ``checklist`` section of period P; None when there is no checklist table. The evidence is
    computed on `source` (:func:`evidence`), default the frames `leads` and `opps`."""
    if checklist is None:
        return None
    answers, info = answer_set(checklist, period, as_of=as_of)
    scores = respondent_scores(answers)
    by_dept = department_scores(answers)
    items = item_table(answers)
    ev = evidence(leads, opps, as_of, config.sla_hours, source=source)
    flags = contradictions(items, ev)
    return {
        "overall_score": overall_score(by_dept),
        "by_department": by_dept,
        "respondent_count": int(len(scores)),
        "respondents_by_department": {d: int((scores["department"] == d).sum()) for d in _dept_order(scores["department"])},
        "answer_set": info,
        "by_category": category_scores(answers, config.checklist_categories),
        "by_item": {int(r.item): {"sales": _none(r.sales), "marketing": _none(r.marketing), "gap": _none(r.gap)}
                    for r in items.itertuples()},
        "largest_gaps": largest_gaps(items),
        "evidence": ev,
        "contradictions": flags,
        "unmet_items": unmet_items(items, flags),
        "recommendations": recommendations(items, config.initiatives_catalog, flags),
    }
