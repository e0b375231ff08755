"""Statistics of the comparison: descriptions, unpaired tests, paired analysis, power."""

from __future__ import annotations

import math

import numpy as np

from .config import ALPHA, POWER


def describe(values, confidence: float = 0.95) -> dict:
    """Mean, sample standard deviation and t-distribution confidence interval.

    Args:
        values: 1-D sequence of numbers.
        confidence: level of the interval.

    Returns:
        dict ``n, mean, std, sem, ci_low, ci_high, min, max`` (std, sem and the
        interval are NaN when n < 2; the interval is the mean when std is 0).
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    if n >= 2:
        std = float(x.std(ddof=1)) if np.ptp(x) > 0 else 0.0
        sem = std / math.sqrt(n)
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sem
        low, high = mean - half, mean + half
    else:
        std = sem = low = high = math.nan
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "sem": sem,
        "ci_low": low,
        "ci_high": high,
        "confidence": confidence,
        "min": float(x.min()) if n else math.nan,
        "max": float(x.max()) if n else math.nan,
    }


def compare_samples(a, b) -> dict:
    """Welch's t-test and Mann–Whitney U of ``a`` vs ``b``, with effect sizes (unpaired).

    Kept as a secondary, unpaired view; the primary analysis is
    :func:`paired_analysis`. Effect sizes are signed: positive when ``a``
    tends to be larger. Cohen's d uses the pooled standard deviation; Hedges'
    g is d times ``1 - 3 / (4 (n_a + n_b) - 9)``; the rank-biserial
    correlation is ``2 U_a / (n_a n_b) - 1``.

    Raises ValueError when a sample has fewer than 2 values.

    Args:
        a: first sample (e.g. ResNet test accuracies).
        b: second sample (e.g. CNN test accuracies).

    Returns:
        dict with ``mean_diff, welch_t, welch_df, welch_p, mwu_u, mwu_p,
        mwu_min_p, cohen_d, hedges_g, rank_biserial``.
    """
    from scipy import stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    na, nb = a.size, b.size
    if na < 2 or nb < 2:
        raise ValueError(f"need at least 2 values per sample, got {na} and {nb}")
    diff = float(a.mean() - b.mean())
    va = a.var(ddof=1) if np.ptp(a) > 0 else 0.0
    vb = b.var(ddof=1) if np.ptp(b) > 0 else 0.0
    out = {"n_a": int(na), "n_b": int(nb), "mean_diff": diff}
    if va == 0 and vb == 0:
        same = diff == 0
        out.update(
            welch_t=0.0 if same else math.copysign(math.inf, diff),
            welch_df=math.nan,
            welch_p=1.0 if same else 0.0,
            cohen_d=0.0 if same else math.copysign(math.inf, diff),
        )
    else:
        res = stats.ttest_ind(a, b, equal_var=False)
        se2a, se2b = va / na, vb / nb
        df = (se2a + se2b) ** 2 / (se2a**2 / max(na - 1, 1) + se2b**2 / max(nb - 1, 1))
        pooled = math.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
        out.update(
            welch_t=float(res.statistic),
            welch_df=float(df),
            welch_p=float(res.pvalue),
            cohen_d=diff / pooled,
        )
    correction = 1 - 3 / (4 * (na + nb) - 9) if na + nb > 3 else math.nan
    out["hedges_g"] = out["cohen_d"] * correction if out["cohen_d"] != 0 else 0.0
    mwu = stats.mannwhitneyu(a, b, alternative="two-sided")
    u = float(mwu.statistic)
    p = float(mwu.pvalue)
    out.update(
        mwu_u=u,
        mwu_p=1.0 if math.isnan(p) else p,
        rank_biserial=2 * u / (na * nb) - 1,
        # smallest two-sided p-value the exact test can reach at these n
        mwu_min_p=min(1.0, 2 / math.comb(na + nb, na)),
    )
    return out


def paired_t_power(effect: float, sd: float, n: int, alpha: float = ALPHA) -> float:
    """Power of the two-sided paired t-test for a true mean difference ``effect``.

    Args:
        effect: true mean of the paired differences.
        sd: standard deviation of the paired differences.
        n: number of pairs.
        alpha: level of the test.

    Returns:
        The probability of rejecting "mean difference = 0" (noncentral t).
    """
    from scipy import stats

    df = n - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    nc = effect / sd * math.sqrt(n)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))


def minimum_detectable_effect(
    sd: float, n: int, power: float = POWER, alpha: float = ALPHA
) -> float:
    """Smallest true mean paired difference detected with probability ``power``.

    Two-sided paired t-test at level ``alpha`` with ``n`` pairs whose
    differences have standard deviation ``sd`` (noncentral t; about
    ``(z_{1-alpha/2} + z_power) sd / sqrt(n)`` for large n).

    Returns:
        The effect, in the units of ``sd`` (NaN when n < 2 or sd is unknown).
    """
    from scipy import optimize

    if n < 2 or sd is None or not math.isfinite(sd):
        return math.nan
    if sd == 0:
        return 0.0
    high = sd
    for _ in range(60):
        reached = paired_t_power(high, sd, n, alpha)
        if not math.isfinite(reached):  # noncentral t unstable (n = 2, huge effects)
            return math.nan
        if reached >= power:
            break
        high *= 2
    try:
        return float(
            optimize.brentq(
                lambda e: paired_t_power(e, sd, n, alpha) - power, 0.0, high, xtol=1e-12 * sd
            )
        )
    except ValueError:
        return math.nan


def paired_analysis(
    a, b, confidence: float = 0.95, power: float = POWER, alpha: float = ALPHA
) -> dict:
    """Paired comparison of ``a`` and ``b`` (same length, pair i = same seed).

    Primary result: the mean of ``a - b`` with its t confidence interval and
    the paired t-test; robustness check: the Wilcoxon signed-rank test; design:
    the correlation between the two arms and the minimum detectable effect.

    Args:
        a: first arm (e.g. ResNet accuracies, seed order).
        b: second arm (same seeds, same order).
        confidence: level of the interval.
        power: power of the minimum detectable effect.
        alpha: level of the tests.

    Returns:
        dict ``n, mean_diff, sd_diff, sem_diff, ci_low, ci_high, t, df, t_p,
        wilcoxon_w, wilcoxon_p, correlation, mde, power, alpha, n_positive,
        n_negative``. Raises ValueError with fewer than 2 pairs.
    """
    from scipy import stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired samples must be 1-D of the same length: {a.shape}, {b.shape}")
    n = int(a.size)
    if n < 2:
        raise ValueError(f"need at least 2 pairs, got {n}")
    d = a - b
    desc = describe(d, confidence)
    out = {
        "n": n,
        "mean_diff": desc["mean"],
        "sd_diff": desc["std"],
        "sem_diff": desc["sem"],
        "ci_low": desc["ci_low"],
        "ci_high": desc["ci_high"],
        "confidence": confidence,
        "df": n - 1,
        "power": power,
        "alpha": alpha,
        "n_positive": int((d > 0).sum()),
        "n_negative": int((d < 0).sum()),
    }
    if desc["std"] == 0:
        same = desc["mean"] == 0
        out.update(
            t=0.0 if same else math.copysign(math.inf, desc["mean"]), t_p=1.0 if same else 0.0
        )
    else:
        res = stats.ttest_rel(a, b)
        out.update(t=float(res.statistic), t_p=float(res.pvalue))
    if np.all(d == 0):
        out.update(wilcoxon_w=0.0, wilcoxon_p=1.0)
    else:
        w = stats.wilcoxon(a, b)
        out.update(wilcoxon_w=float(w.statistic), wilcoxon_p=float(w.pvalue))
    out["correlation"] = (
        float(stats.pearsonr(a, b).statistic) if np.ptp(a) > 0 and np.ptp(b) > 0 else math.nan
    )
    out["mde"] = minimum_detectable_effect(desc["std"], n, power, alpha)
    return out
