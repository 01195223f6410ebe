"""The lead score (contract section 5): a logistic regression both departments can read, tested out of time.

Pure functions over the observed leads: ``attrs`` ``{name: (values, numeric)}`` (the non-suspect attributes),
``converted`` (booleans) and ``created`` (created_at), aligned.

- :func:`split`: the newest 30% by created_at is the test set (out of time); with one shared created_at a
  stratified random 30% with a fixed seed.
- :func:`design`: the design matrix: text values as indicator columns against the most common value
  (values under ``min_leads`` leads folded into ``other``, empty a value of its own), numbers standardized
  with the training leads' mean and standard deviation (an empty number: 0, plus an indicator column).
- :func:`fit`: statsmodels' logistic regression (GLM, binomial family, logit link) on the training leads,
  aggregated into distinct design rows with their counts (the same fit, fewer rows); when the data are
  (quasi-)separated and the plain fit does not converge, the same model with a light L2 penalty.
- :func:`score`: the whole section: test AUC with its DeLong 95% interval, Brier score, deciles (also the
  reliability curve), and the scorecard: points = coefficient × 20 / ln 2 (+20 points doubles the odds).
- :func:`same_size_rule`: the score's best rule of the same size as the rule in use, on the test leads.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from helpers.metrics.lead_conditions import EMPTY, folded
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


def design(attrs: dict[str, tuple[pd.Series, bool]], train: np.ndarray, min_leads: int) -> tuple[pd.DataFrame, dict]:
    """(X, meta): X has a ``const`` column and one column per indicator or standardized number; meta says per
    attribute how its columns were made ({"kind": "text", "reference", "columns": {value: column}} or
    {"kind": "number", "mean", "sd", "column", "empty"})."""
    index = next(iter(attrs.values()))[0].index if attrs else pd.RangeIndex(0)
    cols: dict[str, np.ndarray] = {"const": np.ones(len(index))}
    meta: dict[str, dict] = {}
    for name, (values, numeric) in attrs.items():
        if numeric:
            x = values.astype(float)
            mean, sd = float(x[train].mean()), float(x[train].std(ddof=0))
            if not np.isfinite(sd) or sd == 0:
                continue
            cols[f"{name}"] = ((x - mean) / sd).fillna(0.0).to_numpy()
            empty = bool(x[train].isna().any())
            if empty:
                cols[f"{name}={EMPTY}"] = x.isna().to_numpy().astype(float)
            meta[name] = {"kind": "number", "mean": mean, "sd": sd, "column": name, "empty": empty}
            continue
        labels = values.astype(object).where(values.notna(), EMPTY).astype(str)
        train_labels = folded(labels[train], min_leads)
        kept = set(train_labels.unique())
        labels = labels.where(labels.isin(kept - {"other"}), "other")
        counts = train_labels.value_counts()
        if len(counts) < 2:
            continue
        reference = str(counts.index[0])
        columns = {}
        for value in counts.index[1:]:
            col = f"{name}={value}"
            cols[col] = (labels == value).to_numpy().astype(float)
            columns[str(value)] = col
        meta[name] = {"kind": "text", "reference": reference, "columns": columns}
    return pd.DataFrame(cols, index=index), meta


def independent_columns(X: pd.DataFrame) -> list[str]:
    """The columns of X that are not linear combinations of earlier ones (pivoted QR of X'X, kept in X's order):
    e.g. when every webinar campaign is a seminar lead, one indicator is dropped and its effect stays in the others."""
    from scipy.linalg import qr

    a = X.to_numpy()
    gram = a.T @ a
    _, r, piv = qr(gram, pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > diag[0] * 1e-10).sum()) if len(diag) and diag[0] > 0 else 0
    keep = sorted(piv[:rank])
    return [X.columns[i] for i in keep]


def _aggregate(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (design row, outcome) pairs with their counts: the same likelihood on fewer rows."""
    both = np.column_stack([X, y])
    rows, counts = np.unique(both, axis=0, return_counts=True)
    return rows[:, :-1], rows[:, -1], counts.astype(float)


def fit(X: pd.DataFrame, y: np.ndarray, aggregate: bool = True) -> tuple[np.ndarray, float | None]:
    """(coefficients in X's column order, the L2 penalty used or None): statsmodels GLM binomial (logit, Newton's
    method) on the aggregated rows when `aggregate` (rows of indicators only repeat), without the columns that are linear combinations of others (they get 0: their effect stays in
    the others, :func:`independent_columns`); refitted with the light L2 penalty when the plain fit warns of separation, does not
    converge, or a coefficient runs off (|b| > 15)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning, SingularMatrixWarning

    cols = independent_columns(X)
    if aggregate:
        rows, outcome, counts = _aggregate(X[cols].to_numpy(), y.astype(float))
    else:   # a numeric column makes almost every row distinct: nothing to gain from grouping
        rows, outcome, counts = X[cols].to_numpy(), y.astype(float), np.ones(len(y))
    model = sm.GLM(outcome, rows, family=sm.families.Binomial(), freq_weights=counts)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", SingularMatrixWarning)   # collinear columns: the minimum-norm solution
        try:
            result = model.fit(method="newton", maxiter=50, disp=0)
            params = np.asarray(result.params)
            if result.mle_retvals.get("converged", False) and np.all(np.isfinite(params)) and np.max(np.abs(params[1:]), initial=0) <= RUNAWAY_COEF:
                return _full(params, cols, X.columns), None
        except (PerfectSeparationWarning, ConvergenceWarning, np.linalg.LinAlgError, ValueError):
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alpha = np.full(rows.shape[1], L2_ALPHA)
        alpha[0] = 0.0  # the intercept is not penalized
        result = model.fit_regularized(method="elastic_net", alpha=alpha, L1_wt=0.0, maxiter=300)
    return _full(np.asarray(result.params), cols, X.columns), L2_ALPHA


def _full(params: np.ndarray, kept: list[str], columns) -> np.ndarray:
    """Coefficients for every column of X: the fitted ones, 0 for the dependent columns left out."""
    out = pd.Series(0.0, index=columns)
    out[kept] = params
    return out.to_numpy()


def predict(X: pd.DataFrame, params: np.ndarray) -> np.ndarray:
    """Predicted conversion probability of each row."""
    return 1.0 / (1.0 + np.exp(-(X.to_numpy() @ params)))


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


def score(attrs: dict[str, tuple[pd.Series, bool]], converted: pd.Series, created: pd.Series, bulk: bool,
          min_leads: int) -> dict:
    """The score section: ``{method, penalty, split, train_leads, fit_leads (at most MAX_FIT_LEADS), test_leads, test_converted, auc, auc_low,
    auc_high, brier, deciles, points, null_reasons}`` plus the test leads' predictions under ``_test``
    (index, p, y) for the same-size rule; figures null with a reason when there are too few leads
    (< 200 observed or < 30 converted), no usable attribute, or a test set of one class."""
    y = converted.to_numpy().astype(bool)
    out = {"method": "logistic_regression", "penalty": None, "split": "random" if bulk else "out_of_time",
           "train_leads": None, "test_leads": None, "test_converted": None, "auc": None, "auc_low": None,
           "auc_high": None, "brier": None, "deciles": [], "points": {}, "null_reasons": {}}
    why = too_few(len(y), int(y.sum())) or (None if attrs else "no_score_attributes")
    if why:
        out["null_reasons"] = dict.fromkeys(("auc", "brier", "points"), why)
        return out
    test = split(created, converted, bulk)
    X, meta = design(attrs, ~test, min_leads)
    if not meta:
        out["null_reasons"] = dict.fromkeys(("auc", "brier", "points"), "no_score_attributes")
        return out
    train = np.flatnonzero(~test)
    if len(train) > MAX_FIT_LEADS:
        train = np.sort(np.random.default_rng(SPLIT_SEED).choice(train, MAX_FIT_LEADS, replace=False))
    params, penalty = fit(X.iloc[train], y[train], aggregate=not any(m["kind"] == "number" for m in meta.values()))
    p = predict(X[test], params)
    yt = y[test]
    area, low, high = delong_interval(p, yt)
    out.update(penalty=penalty, train_leads=int((~test).sum()), fit_leads=int(len(train)), test_leads=int(test.sum()), test_converted=int(yt.sum()),
               auc=area, auc_low=low, auc_high=high, brier=float(np.mean((p - yt) ** 2)), deciles=deciles(p, yt),
               points=points(meta, pd.Series(params, index=X.columns)))
    if area is None:
        out["null_reasons"] = {"auc": "test_one_class"}
    out["_test"] = pd.DataFrame({"p": p, "y": yt}, index=X.index[test])
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
