"""Lead quality computed per lead with pandas (contract section 5): the independent expectation the engine versions
are tested against.

The workbook computes the section on a Source (helpers.metrics.lead_source, lead_engine, lead_score_cells,
lead_feedback.feedback_of): only counts come back from the engine. The functions here compute the same figures from
every lead's row, the way the definitions read (docs/glossary.md, "Lead quality"); tests/test_lead_quality.py and
tests/test_lead_engine.py compare the two. They left helpers/metrics (lead_quality, lead_score, lead_feedback,
lead_conditions) when no shipped code called them any more; the shared definitions (counted_audit, Design, fit,
points, counted_conditions, counted_guard, ...) stay there and are imported.

- lead_frame: one row per lead created by as_of (observed, converted, won revenue, mql in H, channel).
- evaluate_rule / audit / audit_rule / threshold_at: the MQL rule per lead and its audit.
- attribute_counts / conditions / guard: the conditions table and the leakage guard.
- split / design / score / same_size_rule: the lead score over every lead.
- feedback: sales' feedback on the period's MQLs.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.metrics.lead_conditions import OTHER, bin_codes, counted_conditions, counted_guard
from helpers.metrics.lead_feedback import FEEDBACK_COLUMNS, NO_REASON, STATUSES, UNKNOWN_WITHOUT
from helpers.metrics.lead_quality import LeadColumns, _first_opportunity, counted_audit
from helpers.metrics.lead_score import (DECILES, MAX_FIT_LEADS, SPLIT_SEED, TEST_SHARE, Design, dropped_notes, fit,
                                        points, predict, too_few)
from helpers.metrics.lead_stats import delong_interval
from helpers.metrics.pipeline import dates, day, ratio


# --------------------------------------------------------------------------- the lead frame and the rule audit
def _channels(leads: pd.DataFrame) -> pd.Series:
    """Each lead's channel as a categorical, an empty one ``unknown``."""
    channel = leads["channel"] if "channel" in leads.columns else pd.Series(None, index=leads.index, dtype=object)
    channel = channel.astype("category") if not isinstance(channel.dtype, pd.CategoricalDtype) else channel
    channel = channel.cat.rename_categories([str(c) for c in channel.cat.categories])
    if channel.isna().any():
        channel = channel.cat.add_categories([c for c in ["unknown"] if c not in set(channel.cat.categories)]).fillna("unknown")
    return channel


def lead_frame(leads: pd.DataFrame, opps: pd.DataFrame, as_of, horizon: int, bulk: bool = False) -> pd.DataFrame:
    """One row per lead created by as_of (index as in `leads`): ``lead_id, created_at, channel (categorical), observed,
    converted, won_revenue, mql_in_horizon``.

    observed: as_of − created_at ≥ H. converted: an opportunity linked to the lead was created within H days
    of created_at (and by as_of). won_revenue: the won amounts of those opportunities (closed by as_of).
    mql_in_horizon: mql_at within H days of created_at (the rule in use when none is written).
    bulk (every lead shares one created_at): every lead is observed and converted means "has an opportunity".
    """
    a = day(as_of)
    created = dates(leads, "created_at")
    keep = (created <= a).to_numpy(dtype=bool)
    ids = leads["lead_id"].astype("string")[keep]
    frame = pd.DataFrame({"lead_id": ids, "created_at": created[keep], "channel": _channels(leads)[keep]})
    pairs = _first_opportunity(leads, opps, as_of)
    linked = ids.isin(pairs["lead_id"]).to_numpy(dtype=bool)   # the leads with a deal, by their row in the frame
    rows = pd.DataFrame({"lead_id": ids[linked].astype(object).to_numpy(), "row": np.flatnonzero(linked),
                         "created_at": frame["created_at"].to_numpy()[linked]})
    pairs = pairs.merge(rows, on="lead_id")
    within = pairs["opp_created"] <= pairs["created_at"] + pd.Timedelta(days=horizon)
    if not bulk:
        pairs = pairs[within]
    converted = np.zeros(len(frame), dtype=bool)
    converted[pairs["row"].to_numpy()] = True
    won = pairs[pairs["won"]].groupby("row")["amount"].sum(min_count=1)
    revenue = np.zeros(len(frame))
    revenue[won.index.to_numpy()] = won.fillna(0.0).to_numpy(dtype=float)
    frame["observed"] = True if bulk else ((a - frame["created_at"]).dt.days >= horizon)
    frame["converted"] = converted
    frame["won_revenue"] = revenue
    mql = dates(leads, "mql_at")[keep]
    frame["mql_in_horizon"] = mql.notna() & (mql <= a) & (bulk | (mql <= frame["created_at"] + pd.Timedelta(days=horizon)))
    return frame


def evaluate_rule(rule: dict, columns: LeadColumns) -> pd.Series:
    """True for each lead the rule holds for (an empty cell never meets a condition). The rule is assumed checked
    (:func:`check_rule`)."""
    if "any" in rule or "all" in rule:
        parts = [evaluate_rule(p, columns) for p in rule.get("any", rule.get("all"))]
        index = next(iter(columns.values())).index
        if not parts:
            return pd.Series("all" in rule, index=index)
        combined = parts[0]
        for p in parts[1:]:
            combined = (combined | p) if "any" in rule else (combined & p)
        return combined
    values, numeric = columns.typed(rule["column"])
    op, value = rule["op"], rule["value"]
    if op == "in":
        wanted = {float(v) if numeric else str(v) for v in value}
        return values.isin(wanted) & values.notna()
    if op == "==":
        return (values == (float(value) if numeric else str(value))) & values.notna()
    compare = {">=": values.ge, ">": values.gt, "<=": values.le, "<": values.lt}[op]
    return compare(float(value)).fillna(False).astype(bool)


def audit(flagged: pd.Series, converted: pd.Series, won_revenue: pd.Series) -> dict:
    """The rule audit over a set of observed leads (aligned boolean series and won revenue per lead).

    precision = converted flagged / flagged; recall = converted flagged / converted; base_rate = converted /
    observed; lift = precision / base_rate; missed = converted leads not flagged (count, their won revenue).
    95% Wilson intervals on precision and recall. A zero denominator is null with its reason; when every lead
    is flagged, recall and lift are null with ``all_flagged`` (the rule separates nothing).
    """
    f, c = flagged.astype(bool), converted.astype(bool)
    missed = c & ~f
    return counted_audit(int(len(f)), int(f.sum()), int(c.sum()), int((f & c).sum()), int(missed.sum()),
                         float(won_revenue[missed].sum()))


def audit_rule(frame: pd.DataFrame, columns: LeadColumns, rule: dict | None) -> dict:
    """:func:`audit` of another rule over the observed leads of `frame` (a :func:`lead_frame`), as the explorer
    tries rules: a rule of no conditions (None) flags nothing."""
    obs = frame[frame["observed"]]
    flagged = (evaluate_rule(rule, columns).reindex(obs.index).fillna(False).astype(bool) if rule
               else pd.Series(False, index=obs.index))
    return audit(flagged, obs["converted"], obs["won_revenue"])


def threshold_at(values: pd.Series, top_share: float) -> float | None:
    """The value at or above which the top `top_share` of the filled values lie (None without values)."""
    filled = values.dropna().astype(float)
    return float(np.quantile(filled, 1 - top_share)) if len(filled) else None


# --------------------------------------------------------------------------- conditions and the leakage guard
def attribute_counts(attrs: dict[str, tuple[pd.Series, bool]], converted: pd.Series) -> dict[str, pd.DataFrame]:
    """Per attribute: ``n`` and ``converted`` leads per label of bin_codes (labels held by no lead left out),
    indexed by label in bin_codes' order (a text "(empty)" is the empty value); counted lead by lead with numpy."""
    y = converted.to_numpy(dtype=bool)
    out = {}
    for name, (values, numeric) in attrs.items():
        codes, labels = bin_codes(values, numeric)
        n = np.bincount(codes, minlength=len(labels))
        conv = np.bincount(codes[y], minlength=len(labels))
        held = np.flatnonzero(n)
        frame = pd.DataFrame({"label": [labels[k] for k in held], "n": n[held].astype("int64"),
                              "converted": conv[held].astype("int64")})
        out[name] = frame.groupby("label", sort=False)[["n", "converted"]].sum()
    return out


def conditions(attrs: dict[str, tuple[pd.Series, bool]], converted: pd.Series, min_leads: int,
               counts: dict[str, pd.DataFrame] | None = None) -> list[dict]:
    """The conditions table: one row per value of each attribute (``{name: (values, numeric)}``), values under
    `min_leads` folded into ``other`` (tested when ``other`` itself reaches `min_leads`), each row
    ``{attribute, value, n, converted, rate, odds_ratio, low, high, p, q}``; sorted by odds ratio, largest
    first. The reference of each odds ratio is every other observed lead; q is Benjamini–Hochberg over all
    rows. [] without attributes or without both converted and unconverted leads. `counts`: the attributes'
    :func:`attribute_counts`, when already made."""
    total, conv = len(converted), int(converted.sum())
    if not attrs or conv == 0 or conv == total:
        return []
    counts = counts if counts is not None else attribute_counts(attrs, converted)
    return counted_conditions(counts, {name: numeric for name, (_, numeric) in attrs.items()}, total, conv, min_leads)


def guard(attrs: dict[str, tuple[pd.Series, bool]], known: dict[str, str], converted: pd.Series,
          counts: dict[str, pd.DataFrame] | None = None) -> list[dict]:
    """The suspect attributes, ``[{attribute, reason, auc, empty_unconverted, filled_converted}]``, in the order
    given. Reasons: ``marked_after_contact`` (the settings say so), ``separates_alone`` (alone it separates
    converted from unconverted leads with AUC ≥ 0.90), ``filled_after`` (empty for ≥ 95% of the unconverted
    leads and filled for ≥ 50% of the converted: filled in mostly after the lead became a deal). Everything from
    the attributes' value counts (:func:`attribute_counts`, made here unless given)."""
    counts = counts if counts is not None else attribute_counts(attrs, converted)
    return counted_guard(counts, list(attrs), known, int(len(converted)), int(converted.sum()))


# --------------------------------------------------------------------------- the score
def split(created: pd.Series, converted: pd.Series, bulk: bool) -> np.ndarray:
    """Boolean test mask: the newest 30% of leads by created_at (ties kept in the leads' order), or with one
    shared created_at (`bulk`) a stratified random 30% (seed SPLIT_SEED)."""
    n = len(created)
    test = np.zeros(n, dtype=bool)
    if bulk:
        rng = np.random.default_rng(SPLIT_SEED)
        y = converted.to_numpy().astype(bool)
        for cls in (True, False):
            idx = np.flatnonzero(y == cls)
            take = int(round(TEST_SHARE * len(idx)))
            test[rng.permutation(idx)[:take]] = True
        return test
    order = np.argsort(created.to_numpy(), kind="stable")
    test[order[n - int(math.ceil(TEST_SHARE * n)):]] = True
    return test


def _text_part(values: pd.Series, train: np.ndarray, min_leads: int) -> tuple[np.ndarray, list[str]] | None:
    """(each lead's value index, values in column order: the reference first) of a text attribute: labels as the
    conditions table's (empty its own value), values under `min_leads` training leads (and values unseen in
    training) as ``other``; ordered by training count, ties by first appearance among the training leads. None
    when the training leads hold fewer than two values."""
    codes, labels = bin_codes(values, False)
    names, merged = np.unique(np.asarray(labels, dtype=object), return_inverse=True)   # a text "(empty)" is empty
    lead_label = merged[codes]
    train_counts = np.bincount(lead_label[train], minlength=len(names))
    kept = (train_counts >= min_leads) & (names != OTHER)
    groups = np.append(names[kept], OTHER)                      # kept values, then other
    group_of_label = np.where(kept, np.cumsum(kept) - 1, len(groups) - 1)
    lead_group = group_of_label[lead_label]
    in_train = lead_group[train]
    counts = np.bincount(in_train, minlength=len(groups))
    present = np.flatnonzero(counts)
    if len(present) < 2:
        return None
    first = np.full(len(groups), len(in_train))
    seen, at = np.unique(in_train, return_index=True)
    first[seen] = at
    order = present[np.lexsort((first[present], -counts[present]))]
    position = np.full(len(groups), -1)
    position[order] = np.arange(len(order)) - 1                 # the reference (and absent groups): -1
    return position[lead_group].astype(np.int32), [str(groups[g]) for g in order]


def design(attrs: dict[str, tuple[pd.Series, bool]], train: np.ndarray, min_leads: int) -> Design:
    """The score's :class:`Design` from the attributes (``{name: (values, numeric)}``, aligned) and the training
    mask: text values as indicators against the most common training value (:func:`_text_part`), numbers
    standardized with the training leads' mean and standard deviation (an empty number: 0, plus an
    ``=(empty)`` indicator when a training lead has one). An attribute with one value (or no spread) among the
    training leads gets no column and is listed in ``constant``."""
    n = len(next(iter(attrs.values()))[0]) if attrs else 0
    out = Design(n)
    for name, (values, numeric) in attrs.items():
        if numeric:
            x = values.astype(float)
            mean, sd = float(x[train].mean()), float(x[train].std(ddof=0))
            if not np.isfinite(sd) or sd == 0:
                out.constant.append(name)
                continue
            empty = bool(x[train].isna().any())
            out.add_number(name, ((x - mean) / sd).fillna(0.0).to_numpy(),
                           x.isna().to_numpy().astype(float) if empty else None,
                           {"kind": "number", "mean": mean, "sd": sd, "column": name, "empty": empty})
            continue
        part = _text_part(values, train, min_leads)
        if part is None:
            out.constant.append(name)
            continue
        column_of_lead, ordered = part
        out.add_text(name, column_of_lead, ordered[0], ordered[1:])
    return out


#: Test leads are scored this many at a time (their design rows are never all built at once).
PREDICT_CHUNK = 100_000


def predict_rows(d: Design, rows: np.ndarray, params: np.ndarray) -> np.ndarray:
    """:func:`predict` for the leads at positions `rows`, built and scored PREDICT_CHUNK at a time."""
    parts = [predict(d.matrix(rows[i:i + PREDICT_CHUNK]), params) for i in range(0, len(rows), PREDICT_CHUNK)]
    return np.concatenate(parts) if parts else np.zeros(0)


def deciles(p: np.ndarray, y: np.ndarray) -> list[dict]:
    """Test leads in ten groups by predicted probability, highest first: ``{decile, leads, predicted, observed,
    lift}`` (lift = the group's observed rate ÷ the test leads' rate)."""
    order = np.argsort(-p, kind="stable")
    base = float(y.mean()) if len(y) else None
    out = []
    for i, idx in enumerate(np.array_split(order, DECILES), start=1):
        if not len(idx):
            continue
        obs = float(y[idx].mean())
        out.append({"decile": i, "leads": int(len(idx)), "predicted": float(p[idx].mean()), "observed": obs,
                    "lift": obs / base if base else None})
    return out


def score(attrs: dict[str, tuple[pd.Series, bool]], converted: pd.Series, created: pd.Series, bulk: bool,
          min_leads: int) -> dict:
    """The score section: ``{method, penalty, split, train_leads, fit_leads (at most MAX_FIT_LEADS), test_leads,
    test_converted, auc, auc_low, auc_high, brier, deciles, points, dropped, null_reasons}`` plus the test leads'
    predictions under ``_test`` (index, p, y) for the same-size rule; figures null with a reason when there are
    too few leads (< 200 observed or < 30 converted), no usable attribute, or a test set of one class.
    ``dropped``: the scorecard's notes on columns left out of the fit (:func:`dropped_notes`). The design rows are
    built only for the fitted leads and, in chunks, for the test leads."""
    y = converted.to_numpy().astype(bool)
    out = {"method": "logistic_regression", "penalty": None, "split": "random" if bulk else "out_of_time",
           "train_leads": None, "test_leads": None, "test_converted": None, "auc": None, "auc_low": None,
           "auc_high": None, "brier": None, "deciles": [], "points": {}, "dropped": [], "null_reasons": {}}
    why = too_few(len(y), int(y.sum())) or (None if attrs else "no_score_attributes")
    if why:
        out["null_reasons"] = dict.fromkeys(("auc", "brier", "points"), why)
        return out
    test = split(created, converted, bulk)
    d = design(attrs, ~test, min_leads)
    if not d.meta:
        out["dropped"] = dropped_notes(d, {})
        out["null_reasons"] = dict.fromkeys(("auc", "brier", "points"), "no_score_attributes")
        return out
    train = np.flatnonzero(~test)
    if len(train) > MAX_FIT_LEADS:
        train = np.sort(np.random.default_rng(SPLIT_SEED).choice(train, MAX_FIT_LEADS, replace=False))
    params, penalty, aliased = fit(d.matrix(train), y[train], aggregate=not any(m["kind"] == "number" for m in d.meta.values()))
    rows = np.flatnonzero(test)
    p = predict_rows(d, rows, params)
    yt = y[test]
    area, low, high = delong_interval(p, yt)
    out.update(penalty=penalty, train_leads=int((~test).sum()), fit_leads=int(len(train)), test_leads=int(test.sum()),
               test_converted=int(yt.sum()), auc=area, auc_low=low, auc_high=high, brier=float(np.mean((p - yt) ** 2)),
               deciles=deciles(p, yt), points=points(d.meta, pd.Series(params, index=d.columns)),
               dropped=dropped_notes(d, aliased))
    if area is None:
        out["null_reasons"] = {"auc": "test_one_class"}
    out["_test"] = pd.DataFrame({"p": p, "y": yt}, index=converted.index[rows])
    return out


def same_size_rule(test: pd.DataFrame, flagged: pd.Series, won_revenue: pd.Series) -> dict | None:
    """The rule in use against the score's best rule of the same size on the test leads: the score flags the
    same number of leads, those with the highest predicted probability. ``{size, test_leads, rule: {flagged,
    converted, won_revenue, precision}, score: {...}}``; None without test predictions."""
    if test is None or not len(test):
        return None
    f = flagged.reindex(test.index).fillna(False).astype(bool).to_numpy()
    k = int(f.sum())
    top = np.zeros(len(test), dtype=bool)
    top[np.argsort(-test["p"].to_numpy(), kind="stable")[:k]] = True
    y, won = test["y"].to_numpy().astype(bool), won_revenue.reindex(test.index).fillna(0.0).to_numpy()

    def caught(mask):
        hit = int((mask & y).sum())
        return {"flagged": int(mask.sum()), "converted": hit, "won_revenue": float(won[mask & y].sum()),
                "precision": hit / int(mask.sum()) if mask.any() else None}
    return {"size": k, "test_leads": int(len(test)), "test_converted": int(y.sum()), "rule": caught(f), "score": caught(top)}


# --------------------------------------------------------------------------- sales' feedback
def statuses(leads: pd.DataFrame, as_of) -> pd.Series:
    """Each lead's first decision by as_of: accepted / disqualified / recycled, else pending."""
    a = day(as_of)
    events = [dates(leads, c) for c in ("sql_at", "disqualified_at", "recycled_at")]
    events = [e.where(e <= a) for e in events]
    stacked = np.column_stack([e.to_numpy(dtype="datetime64[ns]").astype("int64") for e in events])
    nat = np.iinfo("int64").min
    stacked = np.where(stacked == nat, np.iinfo("int64").max, stacked)
    first = stacked.argmin(axis=1)
    none = (stacked == np.iinfo("int64").max).all(axis=1)
    names = np.array(STATUSES[:3], dtype=object)[first]
    return pd.Series(np.where(none, "pending", names), index=leads.index)


def _summary(status: pd.Series, reasons: pd.Series, days: pd.Series, missing=()) -> dict:
    n = int(len(status))
    unknown = {s for c in missing for s in UNKNOWN_WITHOUT.get(c, ())}
    counts = {s: (None if s in unknown else int((status == s).sum())) for s in STATUSES}
    disq = reasons[status == "disqualified"]
    shares = (disq.value_counts(normalize=True).sort_values(ascending=False) if len(disq) else pd.Series(dtype=float))
    acc = days[status == "accepted"].dropna()
    out = {"mqls": n, **counts, **{f"{s}_share": None if s in unknown else ratio(counts[s], n) for s in STATUSES},
           "disqualify_reasons": {str(k): float(v) for k, v in shares.items()},
           "median_days_to_accept": float(acc.median()) if len(acc) else None, "null_reasons": {}}
    if n == 0:
        out["null_reasons"] = {f"{s}_share": "no_mqls" for s in STATUSES} | {"median_days_to_accept": "no_mqls"}
    elif not len(acc):
        out["null_reasons"] = {"median_days_to_accept": "none_accepted"}
    for s in sorted(unknown):
        out["null_reasons"][s] = out["null_reasons"][f"{s}_share"] = "feedback_column_missing"
    return out


def feedback(leads: pd.DataFrame | None, start, end, as_of) -> dict:
    """Sales' feedback on the MQLs with mql_at in [start, min(end, as_of)]: ``{columns_missing, period: {mqls,
    accepted, disqualified, recycled, pending, <status>_share, disqualify_reasons: {reason: share},
    median_days_to_accept, null_reasons}, by_channel: {channel: the same}, null_reasons}``.
    median_days_to_accept = median of sql_at − mql_at (days) over the accepted MQLs. ``columns_missing`` lists
    the feedback columns the leads table lacks (or that are empty everywhere); without disqualified_at or recycled_at
    that status and pending are null with the reason ``feedback_column_missing`` (an MQL turned down would read as
    pending)."""
    if leads is None or "mql_at" not in leads.columns:
        return {"columns_missing": list(FEEDBACK_COLUMNS), "period": None, "by_channel": {},
                "null_reasons": {"period": "no_mql_dates"}}
    missing = [c for c in FEEDBACK_COLUMNS if c not in leads.columns or not leads[c].notna().any()]
    mql = dates(leads, "mql_at")
    last = min(day(end), day(as_of))
    rows = leads[(mql >= day(start)) & (mql <= last)]
    status = statuses(rows, as_of)
    reasons = (rows["disqualify_reason"].astype("string").str.strip().replace("", pd.NA).fillna(NO_REASON)
               if "disqualify_reason" in rows.columns else pd.Series(NO_REASON, index=rows.index))
    days = (dates(rows, "sql_at") - dates(rows, "mql_at")).dt.days
    channel = rows["channel"].astype("string").fillna("unknown")
    by_channel = {str(ch): _summary(status[channel == ch], reasons[channel == ch], days[channel == ch], missing)
                  for ch in sorted(channel.unique())}
    return {"columns_missing": missing, "period": _summary(status, reasons, days, missing), "by_channel": by_channel,
            "null_reasons": {}}
