"""Statistics used by analysis, each a thin call into scipy.stats (no hand-written formulas).

- ``mean_ci``: Student-t interval of a mean (``scipy.stats.t.interval`` with ``sem``).
- ``paired_difference``: mean of paired differences, its t interval, the paired t-test
  (``ttest_rel``) and the Wilcoxon signed-rank test.
- ``mcnemar_exact``: McNemar's exact test on discordant pairs (``binomtest``, p = 0.5).
- ``auc``: area under the ROC curve from the Mann-Whitney U statistic (U / (n1·n0)).
- ``bootstrap_ci``: BCa bootstrap interval of any statistic (``scipy.stats.bootstrap``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {"value": _num(self.value), "low": _num(self.low), "high": _num(self.high),
                "n": self.n}


def _num(x: float) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 6)


def mean_ci(values: Sequence[float] | np.ndarray, level: float = LEVEL) -> Estimate:
    """Mean with a Student-t confidence interval; a single value has no interval (NaN)."""
    from scipy import stats  # imported on use: scipy.stats takes ~1 s to import

    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    sem = float(stats.sem(x))
    if sem == 0:
        return Estimate(mean, mean, mean, n)
    low, high = stats.t.interval(level, n - 1, loc=mean, scale=sem)
    return Estimate(mean, float(low), float(high), n)


@dataclass(frozen=True)
class PairedResult:
    difference: Estimate  # mean of (b - a) with its t interval
    t_p: float  # paired t-test
    wilcoxon_p: float  # Wilcoxon signed-rank (NaN when every difference is zero)

    def as_dict(self) -> dict[str, Any]:
        return {"difference": self.difference.as_dict(), "t_test_p": _num(self.t_p),
                "wilcoxon_p": _num(self.wilcoxon_p)}


def paired_difference(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> PairedResult:
    from scipy import stats  # imported on use: scipy.stats takes ~1 s to import

    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = xb - xa
    est = mean_ci(diff, level)
    if diff.size < 2 or not np.any(diff):
        return PairedResult(est, math.nan if diff.size < 2 else 1.0, math.nan)
    with warnings.catch_warnings():
        # Identical non-zero differences: the t statistic is undefined (NaN), said as such.
        warnings.simplefilter("ignore", RuntimeWarning)
        t_p = math.nan if np.ptp(diff) == 0 else float(stats.ttest_rel(xb, xa).pvalue)
        w_p = float(stats.wilcoxon(xb, xa).pvalue)
    return PairedResult(est, t_p, w_p)


def mcnemar_exact(a_correct: Sequence[bool], b_correct: Sequence[bool]) -> dict[str, Any]:
    """Exact McNemar test: among pairs where exactly one is right, is each equally likely?"""
    from scipy import stats  # imported on use: scipy.stats takes ~1 s to import

    a, b = np.asarray(a_correct, dtype=bool), np.asarray(b_correct, dtype=bool)
    only_a = int(np.sum(a & ~b))
    only_b = int(np.sum(b & ~a))
    n = only_a + only_b
    p = 1.0 if n == 0 else float(stats.binomtest(only_b, n, 0.5).pvalue)
    return {"only_first": only_a, "only_second": only_b, "p": p}


def auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """ROC AUC (probability a positive outranks a negative, ties half) via Mann-Whitney U."""
    from scipy import stats  # imported on use: scipy.stats takes ~1 s to import

    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    pos, neg = s[y], s[~y]
    if pos.size == 0 or neg.size == 0:
        return math.nan
    u = stats.mannwhitneyu(pos, neg, alternative="two-sided").statistic
    return float(u) / (pos.size * neg.size)


def bootstrap_ci(
    statistic: Callable[..., float],
    *samples: Sequence[Any],
    level: float = LEVEL,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Estimate:
    """``statistic(*samples)`` with a paired BCa bootstrap interval (percentile if BCa fails,
    e.g. on a degenerate resample). Samples are resampled together (rows stay paired)."""
    from scipy import stats  # imported on use: scipy.stats takes ~1 s to import

    arrays = [np.asarray(s) for s in samples]
    n = int(arrays[0].size) if arrays else 0
    value = float(statistic(*arrays)) if n else math.nan
    if n < 3 or math.isnan(value):
        return Estimate(value, math.nan, math.nan, n)
    low = high = math.nan
    for method in ("BCa", "percentile"):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a degenerate resample: we fall back below
            res = stats.bootstrap(
                tuple(arrays), statistic, paired=True, vectorized=False,
                confidence_level=level, n_resamples=n_resamples, method=method,
                rng=np.random.default_rng(seed),
            )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if not (math.isnan(low) or math.isnan(high)):
            break
    return Estimate(value, low, high, n)
