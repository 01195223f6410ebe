"""Small statistics of the lead-quality section (contract section 5), each with its source.

Pure functions on counts or arrays; nothing here knows about leads or settings.

- :func:`wilson`: 95% Wilson score interval of a proportion (Wilson 1927; statsmodels'
  ``proportion_confint(method="wilson")``).
- :func:`odds_ratio`: the odds ratio of a 2×2 table with Woolf's logit interval (Woolf 1955),
  0.5 added to every cell when any cell is 0 (Haldane–Anscombe), and Fisher's exact p
  (``scipy.stats.fisher_exact``).
- :func:`bh_q`: Benjamini–Hochberg q values (Benjamini & Hochberg 1995; statsmodels'
  ``multipletests(method="fdr_bh")``).
- :func:`auc` / :func:`delong_interval`: the area under the ROC curve as the Mann–Whitney
  statistic (ties count one half) and its 95% interval from DeLong's variance (DeLong, DeLong &
  Clarke-Pearson 1988, in the fast midrank form of Sun & Xu 2014).
"""
from __future__ import annotations

import math

import numpy as np

#: The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson(successes: int, n: int) -> tuple[float | None, float | None]:
    """95% Wilson score interval (low, high) of successes / n; (None, None) when n is 0."""
    if not n:
        return None, None
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(int(successes), int(n), alpha=0.05, method="wilson")
    return float(low), float(high)


def odds_ratio(a: int, b: int, c: int, d: int) -> dict:
    """Odds ratio of the 2×2 table [[a, b], [c, d]] (a, b: converted and not converted with the value; c, d: the
    rest): ``{odds_ratio, low, high, p}``.

    OR = (a·d) / (b·c); its 95% interval is exp(ln OR ± 1.96·√(1/a + 1/b + 1/c + 1/d)) (Woolf's logit
    interval). When any cell is 0, 0.5 is added to every cell for the ratio and the interval (Haldane–Anscombe),
    so both stay finite. ``p`` is Fisher's exact two-sided p of the table as counted (scipy.stats.fisher_exact).
    """
    from scipy.stats import fisher_exact

    cells = [float(a), float(b), float(c), float(d)]
    if min(cells) == 0:
        cells = [x + 0.5 for x in cells]
    ca, cb, cc, cd = cells
    ratio = (ca * cd) / (cb * cc)
    se = math.sqrt(1 / ca + 1 / cb + 1 / cc + 1 / cd)
    log = math.log(ratio)
    p = fisher_exact([[int(a), int(b)], [int(c), int(d)]], alternative="two-sided").pvalue
    return {"odds_ratio": ratio, "low": math.exp(log - Z95 * se), "high": math.exp(log + Z95 * se), "p": float(p)}


def bh_q(pvalues) -> list[float]:
    """Benjamini–Hochberg q values of a list of p values (same order); [] for none."""
    if len(pvalues) == 0:
        return []
    from statsmodels.stats.multitest import multipletests

    return [float(q) for q in multipletests(np.asarray(pvalues, dtype=float), method="fdr_bh")[1]]


def _midranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, method="average")


def auc(scores, labels) -> float | None:
    """Area under the ROC curve: P(score of a converted lead > score of one not converted), ties counting ½
    (the Mann–Whitney U statistic divided by n₁·n₀). None when either class is empty."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return None
    ranks = _midranks(s)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def delong_interval(scores, labels) -> tuple[float | None, float | None, float | None]:
    """(AUC, low, high): the AUC with its 95% interval from DeLong's variance (normal approximation, clipped to
    [0, 1]); Nones when either class has fewer than 2 leads."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    pos, neg = s[y], s[~y]
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        return None, None, None
    tx, ty, tz = _midranks(pos), _midranks(neg), _midranks(np.concatenate([pos, neg]))
    area = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (tz[:m] - tx) / n          # structural components of the converted leads
    v01 = 1.0 - (tz[m:] - ty) / m    # ... and of the others
    var = np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n
    se = math.sqrt(max(var, 0.0))
    return float(area), float(max(0.0, area - Z95 * se)), float(min(1.0, area + Z95 * se))
