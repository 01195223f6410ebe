"""The lead score (contract section 5): a logistic regression both departments can read, tested out of time.

The shared parts of the score: the section itself is computed on a Source (helpers.metrics.lead_source,
lead_engine, lead_score_cells: counts per distinct design row); tests/lead_reference.py computes it lead by lead
(split, design, score, same_size_rule) as the tests' expectation.

- The split: the newest 30% (TEST_SHARE) by created_at is the test set (out of time); with one shared created_at a
  stratified random 30% with a fixed seed (SPLIT_SEED).
- :class:`Design`: the design: text values as indicator columns against the most common value
  (values under ``min_leads`` leads folded into ``other``, empty a value of its own), numbers standardized
  with the training leads' mean and standard deviation (an empty number: 0, plus an indicator column); its
  rows are built only for the leads asked for.
- :func:`fit`: statsmodels' logistic regression (GLM, binomial family, logit link) on the training leads (at
  most MAX_FIT_LEADS, a seeded sample beyond), aggregated into distinct design rows with their counts (the same
  fit, fewer rows), without the columns aliased with earlier ones (:func:`aliased_columns`, named in the
  scorecard by :func:`dropped_notes`); when the data are (quasi-)separated and the plain fit does not converge,
  the same model with a light L2 penalty.
- :func:`points`: the scorecard: points = coefficient × 20 / ln 2 (+20 points doubles the odds); the section also
  holds the test AUC with its DeLong 95% interval, Brier score and deciles (also the reliability curve), and the
  same-size comparison with the rule in use (helpers.metrics.lead_score_cells).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from helpers.metrics.lead_conditions import EMPTY

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


