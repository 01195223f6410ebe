"""The lead score (contract section 5): a logistic regression both departments can read, tested out of time.

Pure functions over the observed leads: ``attrs`` ``{name: (values, numeric)}`` (the non-suspect attributes),
``converted`` (booleans) and ``created`` (created_at), aligned.

- :func:`split`: the newest 30% by created_at is the test set (out of time); with one shared created_at a
  stratified random 30% with a fixed seed.
- :func:`design`: the design (:class:`Design`): text values as indicator columns against the most common value
  (values under ``min_leads`` leads folded into ``other``, empty a value of its own), numbers standardized
  with the training leads' mean and standard deviation (an empty number: 0, plus an indicator column); its
  rows are built only for the leads asked for (the fitted leads, the test leads in chunks).
- :func:`fit`: statsmodels' logistic regression (GLM, binomial family, logit link) on the training leads (at
  most MAX_FIT_LEADS, a seeded sample beyond), aggregated into distinct design rows with their counts (the same
  fit, fewer rows), without the columns aliased with earlier ones (:func:`aliased_columns`, named in the
  scorecard by :func:`dropped_notes`); when the data are (quasi-)separated and the plain fit does not converge,
  the same model with a light L2 penalty.
- :func:`score`: the whole section: test AUC with its DeLong 95% interval, Brier score, deciles (also the
  reliability curve), and the scorecard: points = coefficient × 20 / ln 2 (+20 points doubles the odds).
- :func:`same_size_rule`: the score's best rule of the same size as the rule in use, on the test leads.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from helpers.metrics.lead_conditions import EMPTY, OTHER, bin_codes
from helpers.metrics.lead_stats import delong_interval

#: Share of the observed leads held out as the test set, and the seed of a random split.
TEST_SHARE = 0.30
SPLIT_SEED = 20240401
#: No score below these counts of observed / converted leads.
MIN_OBSERVED, MIN_CONVERTED = 200, 30
#: Scorecard scale: +20 points doubles the odds.
POINTS_PER_DOUBLING = 20
#: The L2 penalty (per lead, on standardized columns) used only when the plain fit does not converge.
L2_ALPHA = 0.001
#: A coefficient this large (in log odds) means the plain fit ran off to infinity (separation).
RUNAWAY_COEF = 15.0
DECILES = 10
#: The model is fitted on at most this many training leads (a seeded random sample beyond it): plenty for a few
#: dozen coefficients, and it keeps the fit's cost flat at a million leads.
MAX_FIT_LEADS = 200_000


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


class Design:
    """The score's design matrix, built for the rows asked for (:meth:`matrix`), never for every lead at once.

    ``columns``: ``const``, then per attribute (in the order given) its standardized number and ``=(empty)``
    indicator, or one indicator per text value but the reference; ``meta``: per attribute how its columns were
    made ({"kind": "text", "reference", "columns": {value: column}} or {"kind": "number", "mean", "sd", "column",
    "empty"}); ``constant``: the attributes with a single value among the training leads (no column)."""

    def __init__(self, n: int):
        self.n = n
        self.columns: list[str] = ["const"]
        self.meta: dict[str, dict] = {}
        self.constant: list[str] = []
        self._parts: list[tuple] = []

    def add_number(self, name: str, z: np.ndarray, empty: np.ndarray | None, meta: dict) -> None:
        self._parts.append(("number", len(self.columns), z, empty))
        self.columns += [name] + ([f"{name}={EMPTY}"] if empty is not None else [])
        self.meta[name] = meta

    def add_text(self, name: str, column_of_lead: np.ndarray, reference: str, values: list[str]) -> None:
        """`column_of_lead`: each lead's value as 0..len(values)-1 (its indicator), -1 for the reference."""
        self._parts.append(("text", len(self.columns), column_of_lead, None))
        self.columns += [f"{name}={v}" for v in values]
        self.meta[name] = {"kind": "text", "reference": reference, "columns": {v: f"{name}={v}" for v in values}}

    def matrix(self, rows: np.ndarray) -> np.ndarray:
        """The design rows of the leads at positions `rows` (float, len(rows) × len(columns))."""
        X = np.zeros((len(rows), len(self.columns)))
        X[:, 0] = 1.0
        for kind, first, values, empty in self._parts:
            if kind == "number":
                X[:, first] = values[rows]
                if empty is not None:
                    X[:, first + 1] = empty[rows]
                continue
            col = values[rows]
            hit = np.flatnonzero(col >= 0)
            X[hit, first + col[hit]] = 1.0
        return X


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


#: A column is aliased when less than this share of its sum of squares is left once the earlier columns explain it.
ALIAS_TOLERANCE = 1e-9


def aliased_columns(X: np.ndarray, weights: np.ndarray | None = None) -> dict[int, np.ndarray]:
    """The columns of X that are linear combinations of the columns before them (weighted by `weights`), in X's
    order: ``{column: its coefficients on every column}`` (0 for the columns not in the combination). A column is
    kept when over ALIAS_TOLERANCE of its sum of squares is not explained by the kept columns before it (the
    Cholesky pivots of XᵀWX taken in order), so the first of two aliased columns stays, deterministically.
    A column of zeros is aliased with nothing (all-zero coefficients)."""
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=float)
    gram = X.T @ (X * w[:, None])
    kept: list[int] = []
    out: dict[int, np.ndarray] = {}
    for j in range(X.shape[1]):
        total = gram[j, j]
        coef = np.zeros(X.shape[1])
        if kept and total > 0:
            b = np.linalg.solve(gram[np.ix_(kept, kept)], gram[kept, j])
            left = total - gram[j, kept] @ b
            coef[kept] = b
        else:
            left = total
        if total > 0 and left > ALIAS_TOLERANCE * total:
            kept.append(j)
        else:
            out[j] = coef if total > 0 else np.zeros(X.shape[1])
    return out


def _aggregate(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (design row, outcome) pairs with their counts: the same likelihood on fewer rows."""
    both = np.column_stack([X, y])
    rows, counts = np.unique(both, axis=0, return_counts=True)
    return rows[:, :-1], rows[:, -1], counts.astype(float)


def fit(X: np.ndarray, y: np.ndarray, aggregate: bool = True,
        weights: np.ndarray | None = None) -> tuple[np.ndarray, float | None, dict[int, np.ndarray]]:
    """(coefficients in X's column order, the L2 penalty used or None, the aliased columns): statsmodels GLM
    binomial (logit, Newton's method) on the aggregated rows when `aggregate` (rows of indicators only repeat),
    without the columns that are linear combinations of the columns before them (:func:`aliased_columns`; they
    get 0, their effect staying in the columns they combine); refitted with the light L2 penalty when the plain
    fit warns of separation, does not converge, or a coefficient runs off (|b| > 15). No warning escapes.
    `weights`: the rows are already aggregated (distinct design rows with outcome `y`, each counting `weights`
    leads: helpers.metrics.lead_engine), fitted as they are with those frequency weights."""
    from statsmodels.genmod import families   # not statsmodels.api, which imports all of statsmodels (~0.3 CPU s)
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    if weights is not None:
        rows, outcome, counts = X, y.astype(float), np.asarray(weights, dtype=float)
    elif aggregate:
        rows, outcome, counts = _aggregate(X, y.astype(float))
    else:   # a numeric column makes almost every row distinct: nothing to gain from grouping
        rows, outcome, counts = X, y.astype(float), np.ones(len(y))
    aliased = aliased_columns(rows, counts)
    cols = [j for j in range(X.shape[1]) if j not in aliased]
    model = GLM(outcome, rows[:, cols], family=families.Binomial(), freq_weights=counts)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)   # overflow in exp() on the way to a separation, refitted below
        try:
            result = model.fit(method="newton", maxiter=50, disp=0)
            params = np.asarray(result.params)
            if result.mle_retvals.get("converged", False) and np.all(np.isfinite(params)) and np.max(np.abs(params[1:]), initial=0) <= RUNAWAY_COEF:
                return _full(params, cols, X.shape[1]), None, aliased
        except (PerfectSeparationWarning, ConvergenceWarning, np.linalg.LinAlgError, ValueError):
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the penalized fit of a separated design: said in the report (penalty)
        alpha = np.full(len(cols), L2_ALPHA)
        alpha[0] = 0.0  # the intercept is not penalized
        result = model.fit_regularized(method="elastic_net", alpha=alpha, L1_wt=0.0, maxiter=300)
    return _full(np.asarray(result.params), cols, X.shape[1]), L2_ALPHA, aliased


def _full(params: np.ndarray, kept: list[int], width: int) -> np.ndarray:
    """Coefficients for every column of X: the fitted ones, 0 for the aliased columns left out."""
    out = np.zeros(width)
    out[kept] = params
    return out


def predict(X: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Predicted conversion probability of each row."""
    return 1.0 / (1.0 + np.exp(-(np.asarray(X) @ params)))


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


def points(meta: dict, params: pd.Series) -> dict:
    """The scorecard: ``{attribute: {value: points}}`` for text (the reference value 0 points), ``{attribute:
    {"per_unit": points per one unit above the mean, "mean": mean, "step": a round step near one standard
    deviation (1, 10, 1000, ...), "per_step": points per step, "(empty)": points}}`` for numbers;
    points = coefficient × 20 / ln 2."""
    scale = POINTS_PER_DOUBLING / math.log(2)
    out = {}
    for name, m in meta.items():
        if m["kind"] == "text":
            card = {m["reference"]: 0.0}
            card.update({v: float(params[c]) * scale for v, c in m["columns"].items()})
        else:
            step = 10.0 ** math.floor(math.log10(m["sd"]))   # a round step near one standard deviation
            card = {"per_unit": float(params[m["column"]]) / m["sd"] * scale, "mean": m["mean"], "step": step,
                    "per_step": float(params[m["column"]]) / m["sd"] * scale * step}
            if m["empty"]:
                card[EMPTY] = float(params[f"{name}={EMPTY}"]) * scale
        out[name] = card
    return out


def too_few(observed: int, converted: int) -> str | None:
    """The reason there is no score for these counts, or None."""
    if observed < MIN_OBSERVED:
        return "too_few_observed"
    if converted < MIN_CONVERTED:
        return "too_few_converted"
    return None


def dropped_notes(d: Design, aliased: dict[int, np.ndarray]) -> list[dict]:
    """What the scorecard says about the columns the fit left out, as warnings (code ``score_column_dropped``,
    ``{code, variant, attribute, value, with: [{attribute, value}]}``; value None for a number): variant
    ``constant`` per attribute with one value among the training leads; ``aliased`` per column that is a linear
    combination of earlier ones, with the columns of other attributes it goes with (all the combination's columns
    when it involves one attribute only); ``absent`` per value no fitted lead holds (possible when the fit uses a
    sample)."""
    owner = {}
    for name, m in d.meta.items():
        if m["kind"] == "text":
            owner.update({col: (name, value) for value, col in m["columns"].items()})
        else:
            owner[m["column"]] = (name, None)
            owner[f"{name}={EMPTY}"] = (name, EMPTY)
    notes = [{"code": "score_column_dropped", "variant": "constant", "attribute": name, "value": None, "with": []}
             for name in d.constant]
    for j, coef in sorted(aliased.items()):
        attribute, value = owner[d.columns[j]]
        parts = [owner[d.columns[k]] for k in np.flatnonzero(np.abs(coef) > 1e-6) if k != 0]
        others = [p for p in parts if p[0] != attribute] or parts
        notes.append({"code": "score_column_dropped", "variant": "aliased" if parts else "absent", "attribute": attribute,
                      "value": value, "with": [{"attribute": a, "value": v} for a, v in others]})
    return notes


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
