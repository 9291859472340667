"""The statistics helpers on small, hand-checkable data (and against scipy called directly)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from engine.analysis.aggregate import clopper_pearson, t_intervals
from engine.analysis.stats import auc, bootstrap_ci, mcnemar_exact, mean_ci, paired_difference


def test_mean_ci_matches_the_t_interval() -> None:
    x = [1.0, 2.0, 3.0, 4.0]
    est = mean_ci(x)
    # mean 2.5, sd 1.2910, sem 0.6455, t(0.975, 3) = 3.1824 -> 2.5 ± 2.0543
    assert est.value == 2.5 and est.n == 4
    assert math.isclose(est.low, 2.5 - 3.182446 * 0.645497, rel_tol=1e-5)
    assert math.isclose(est.high, 2.5 + 3.182446 * 0.645497, rel_tol=1e-5)
    one = mean_ci([7.0])
    assert one.value == 7.0 and math.isnan(one.low)


def test_vectorised_intervals_equal_the_single_ones() -> None:
    groups = [[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 6.0], [3.0]]
    mean = np.array([np.mean(g) for g in groups])
    std = np.array([np.std(g, ddof=1) if len(g) > 1 else 0.0 for g in groups])
    low, high = t_intervals(mean, std, np.array([len(g) for g in groups]))
    for i, g in enumerate(groups[:2]):
        single = mean_ci(g)
        assert math.isclose(low[i], single.low) and math.isclose(high[i], single.high)
    assert math.isnan(low[2]) and math.isnan(high[2])


def test_clopper_pearson_equals_binomtest() -> None:
    for k, n in [(0, 10), (3, 10), (10, 10), (440, 10000), (1, 1)]:
        ci = stats.binomtest(k, n).proportion_ci(0.95)
        low, high = clopper_pearson(k, n)
        assert math.isclose(low, ci.low, abs_tol=1e-12)
        assert math.isclose(high, ci.high, abs_tol=1e-12)
    # 0 of 10: the upper end is 1 - 0.025 ** (1/10), the lower end 0.
    assert clopper_pearson(0, 10)[0] == 0.0
    assert math.isclose(clopper_pearson(0, 10)[1], 1 - 0.025 ** 0.1)


def test_paired_difference_uses_ttest_rel_and_wilcoxon() -> None:
    a = [5.0, 6.0, 7.0, 5.5, 6.5, 7.5]
    b = [6.0, 6.5, 8.0, 6.0, 7.5, 9.0]
    res = paired_difference(a, b)
    assert math.isclose(res.difference.value, np.mean(np.subtract(b, a)))
    assert math.isclose(res.t_p, stats.ttest_rel(b, a).pvalue)
    assert math.isclose(res.wilcoxon_p, stats.wilcoxon(b, a).pvalue)
    # Every difference positive (6 pairs): the exact two-sided Wilcoxon p is 2/64.
    assert math.isclose(res.wilcoxon_p, 2 / 64)


def test_mcnemar_exact_counts_discordant_pairs() -> None:
    first = [True, True, False, False, True, False, False, False]
    second = [True, False, True, True, True, True, True, False]
    res = mcnemar_exact(first, second)
    assert res["only_first"] == 1 and res["only_second"] == 4
    # Binomial(5, 0.5), two-sided P(X <= 1 or X >= 4) = 12/32.
    assert math.isclose(res["p"], 12 / 32)


def test_auc_known_values() -> None:
    assert auc([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]) == 1.0
    assert auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    # One of four positive/negative pairs is misordered and one tied: (2 + 0.5) / 4.
    assert auc([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.95]) == 0.375
    assert math.isnan(auc([1, 1], [0.2, 0.3]))


def test_bootstrap_ci_brackets_the_statistic_and_is_reproducible() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(5.0, 1.0, 60)
    est = bootstrap_ci(lambda v: float(np.mean(v)), x)
    assert est.low < est.value < est.high
    assert math.isclose(est.value, float(np.mean(x)))
    again = bootstrap_ci(lambda v: float(np.mean(v)), x)
    assert (again.low, again.high) == (est.low, est.high)
    # Close to the t interval for a mean of normal data.
    t = mean_ci(x)
    assert abs(est.low - t.low) < 0.1 and abs(est.high - t.high) < 0.1
