"""The experiment's statistics and French conclusions, on fixed arrays (no training)."""

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from solutions import experiment as E

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------
# Statistics on known inputs
# --------------------------------------------------------------------------
def test_describe_hand_computed():
    d = E.describe([1, 2, 3, 4, 5])
    assert d["n"] == 5 and d["mean"] == 3.0
    assert d["std"] == pytest.approx(math.sqrt(2.5))
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)  # t(0.975, 4)
    assert d["ci_low"] == pytest.approx(3 - half)
    assert d["ci_high"] == pytest.approx(3 + half)
    low, high = stats.t.interval(0.95, 4, loc=3, scale=stats.sem([1, 2, 3, 4, 5]))
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((low, high))


def test_describe_interval_contains_mean_and_degenerate_cases():
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.normal(0.85, 0.01, size=5)
        d = E.describe(x)
        assert d["ci_low"] < d["mean"] < d["ci_high"]
    one = E.describe([0.8])
    assert one["mean"] == 0.8 and math.isnan(one["std"]) and math.isnan(one["ci_low"])
    const = E.describe([0.8, 0.8, 0.8])
    assert const["std"] == 0 and const["ci_low"] == const["ci_high"] == pytest.approx(0.8)


def test_compare_hand_computed_effect_sizes():
    t = E.compare_samples([1, 2, 3], [3, 4, 5])
    assert t["mean_diff"] == -2
    assert t["cohen_d"] == pytest.approx(-2.0)  # pooled sd = 1
    assert t["hedges_g"] == pytest.approx(-2.0 * (1 - 3 / (4 * 6 - 9)))
    assert t["welch_t"] == pytest.approx(-2 / math.sqrt(2 / 3))
    assert t["welch_df"] == pytest.approx(4.0)
    ref = stats.ttest_ind([1, 2, 3], [3, 4, 5], equal_var=False)
    assert t["welch_p"] == pytest.approx(ref.pvalue)
    mwu = stats.mannwhitneyu([1, 2, 3], [3, 4, 5], alternative="two-sided")
    assert t["mwu_u"] == mwu.statistic and t["mwu_p"] == pytest.approx(mwu.pvalue)
    assert t["rank_biserial"] == pytest.approx(2 * 0.5 / 9 - 1)  # U = 0.5 (one tie)


def test_identical_samples_show_no_effect():
    x = [0.81, 0.83, 0.85, 0.84, 0.82]
    t = E.compare_samples(x, list(x))
    assert t["welch_p"] == pytest.approx(1.0) and t["mwu_p"] == pytest.approx(1.0)
    assert t["cohen_d"] == 0 and t["hedges_g"] == 0 and t["rank_biserial"] == 0
    const = E.compare_samples([0.8] * 4, [0.8] * 4)
    assert const["welch_p"] == 1.0 and const["mwu_p"] == pytest.approx(1.0)
    assert const["cohen_d"] == 0


def test_separated_samples_are_significant_with_the_right_sign():
    a = [0.90, 0.91, 0.92, 0.905, 0.915]
    b = [0.80, 0.81, 0.82, 0.805, 0.815]
    t = E.compare_samples(a, b)
    assert t["welch_p"] < 0.05 and t["mwu_p"] < 0.05
    assert t["cohen_d"] > 0 and 0 < t["hedges_g"] < t["cohen_d"]
    assert t["rank_biserial"] == 1.0
    assert t["mwu_min_p"] == pytest.approx(2 / 252)
    r = E.compare_samples(b, a)
    assert r["cohen_d"] < 0 and r["hedges_g"] < 0 and r["rank_biserial"] == -1.0
    assert r["welch_p"] == pytest.approx(t["welch_p"])


def test_overlapping_samples_are_not_significant():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.85, 0.01, 5), rng.normal(0.851, 0.01, 5)
    t = E.compare_samples(a, b)
    assert t["welch_p"] > 0.05 and t["mwu_p"] > 0.05


# --------------------------------------------------------------------------
# Paired statistics, against scipy on fixed arrays
# --------------------------------------------------------------------------
RESNET = np.array([0.861, 0.855, 0.870, 0.848, 0.866, 0.859, 0.872, 0.851, 0.863, 0.857])
CNN = np.array([0.853, 0.850, 0.861, 0.846, 0.855, 0.857, 0.860, 0.849, 0.852, 0.851])


def test_paired_analysis_matches_scipy():
    p = E.paired_analysis(RESNET, CNN)
    d = RESNET - CNN
    assert p["n"] == 10 and p["df"] == 9
    assert p["mean_diff"] == pytest.approx(d.mean())
    assert p["sd_diff"] == pytest.approx(d.std(ddof=1))
    low, high = stats.t.interval(0.95, 9, loc=d.mean(), scale=stats.sem(d))
    assert (p["ci_low"], p["ci_high"]) == pytest.approx((low, high))
    ref = stats.ttest_rel(RESNET, CNN)
    assert p["t"] == pytest.approx(ref.statistic) and p["t_p"] == pytest.approx(ref.pvalue)
    w = stats.wilcoxon(RESNET, CNN)
    assert p["wilcoxon_w"] == pytest.approx(w.statistic)
    assert p["wilcoxon_p"] == pytest.approx(w.pvalue)
    assert p["correlation"] == pytest.approx(np.corrcoef(RESNET, CNN)[0, 1])
    assert p["n_positive"] == 10 and p["n_negative"] == 0
    # the paired test sees what the unpaired one, on the same numbers, cannot
    assert p["t_p"] < 0.01 < E.compare_samples(RESNET, CNN)["welch_p"]
    swapped = E.paired_analysis(CNN, RESNET)
    assert swapped["mean_diff"] == pytest.approx(-p["mean_diff"])
    assert swapped["ci_high"] == pytest.approx(-p["ci_low"])


def test_minimum_detectable_effect_has_the_stated_power():
    sd, n = 0.01, 10
    mde = E.minimum_detectable_effect(sd, n)
    crit = stats.t.ppf(0.975, n - 1)
    nc = mde / sd * math.sqrt(n)
    power = stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc)
    assert power == pytest.approx(0.8, abs=1e-6)
    normal = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * sd / math.sqrt(n)
    assert normal < mde < 1.2 * normal  # t is a little wider than the normal
    assert E.minimum_detectable_effect(sd, 40) < mde  # more pairs, smaller effects
    assert E.minimum_detectable_effect(0.0, 10) == 0.0
    assert math.isnan(E.minimum_detectable_effect(sd, 1))
    assert E.paired_analysis(RESNET, CNN)["mde"] == pytest.approx(
        E.minimum_detectable_effect((RESNET - CNN).std(ddof=1), 10)
    )


def test_paired_analysis_degenerate_cases():
    same = E.paired_analysis(RESNET, RESNET)
    assert same["mean_diff"] == 0 and same["t_p"] == 1.0 and same["wilcoxon_p"] == 1.0
    shifted = E.paired_analysis(RESNET + 0.01, RESNET)
    assert shifted["t_p"] == 0.0 and shifted["ci_low"] == pytest.approx(0.01)
    with pytest.raises(ValueError):
        E.paired_analysis([0.8], [0.7])
    with pytest.raises(ValueError):
        E.paired_analysis([0.8, 0.9], [0.7, 0.8, 0.9])


def _row(kind, blocks, losses, curve=None):
    return {
        "kind": kind,
        "blocks": blocks,
        "final_train_losses": list(losses),
        "final_train_loss": E.describe(losses),
        "test_accuracy": E.describe([0.8] * len(losses)),
        "loss_curve_mean": curve if curve is not None else [np.mean(losses)],
    }


def test_degradation_needs_non_overlapping_seeds():
    shown = E.detect_degradation(
        [
            _row("plain", 2, [0.30, 0.31, 0.32]),
            _row("plain", 16, [0.40, 0.42, 0.45]),
            _row("residual", 16, [0.25, 0.26, 0.27]),
        ]
    )
    assert shown["shown"] and not shown["slower"] and shown["residual_below_plain"]
    overlap = E.detect_degradation(
        [
            _row("plain", 2, [0.30, 0.31, 0.41], curve=[0.9, 0.5, 0.34]),
            _row("plain", 16, [0.40, 0.33, 0.45], curve=[1.2, 0.7, 0.39]),
            _row("residual", 16, [0.25, 0.26, 0.27]),
        ]
    )
    assert not overlap["shown"] and overlap["slower"] and overlap["epochs_above"] == [1, 2, 3]
    two_seeds = E.detect_degradation(
        [_row("plain", 2, [0.30, 0.31]), _row("plain", 16, [0.40, 0.42])]
    )
    assert not two_seeds["shown"]
    never_above = E.detect_degradation(
        [
            _row("plain", 2, [0.30, 0.31, 0.32], curve=[0.9, 0.31]),
            _row("plain", 16, [0.20, 0.21, 0.22], curve=[0.8, 0.21]),
        ]
    )
    assert not never_above["shown"] and not never_above["slower"]

    def text(deg):
        return E.interpret_depth({"config": {"epochs": 3}, "degradation": E.json_ready(deg)})

    assert "Dégradation observée" in text(shown) and "plus lentement" not in text(shown)
    assert "optimise plus lentement" in text(overlap) and "Dégradation observée" not in text(
        overlap
    )
    assert "trop peu de graines" in text(two_seeds)
    assert "Dégradation" not in text(never_above) and "plus lentement" not in text(never_above)


def _budget_records(resnet, cnn, budget="main"):
    records = []
    for seed, (a, b) in enumerate(zip(resnet, cnn)):
        for model, acc in (("resnet", a), ("cnn", b)):
            records.append(
                {
                    "model": model,
                    "seed": seed,
                    "budget": budget,
                    "steps": 1500,
                    "test_accuracy": acc,
                    "test_accuracy_raw": acc - 0.01,
                    "n_params": 1000,
                    "n_trainable": 1000,
                    "epoch_seconds": [2.0, 1.0],
                    "train_seconds": 3.0,
                    "init_digest": f"w{seed}",
                    "order_digest": f"o{seed}",
                    "config": {
                        "train_size": 12000,
                        "epochs": 4,
                        "batch_size": 32,
                        "learning_rate": 0.004,
                    },
                    "history": {"loss": [1.0, 0.5], "val_accuracy": [0.6, 0.7]},
                }
            )
    return records


def test_interpretation_follows_the_paired_statistics():
    sep = E.summarize_comparison(_budget_records(RESNET, CNN))
    text = E.interpret_comparison(E.json_ready(sep))
    assert "Ce que les données soutiennent" in text and "en faveur du ResNet" in text
    p = sep["budgets"]["main"]["paired"]
    assert f"[{E.spts(p['ci_low'])} ; {E.spts(p['ci_high'])}]" in text
    assert E.pts(p["mde"]) in text and "10 paires sur 10" in text
    rng = np.random.default_rng(3)
    noise = CNN + rng.normal(0, 0.006, 10)
    close = E.interpret_comparison(
        E.json_ready(E.summarize_comparison(_budget_records(noise, CNN)))
    )
    assert "ne soutiennent pas" in close and "équivalents" in close


def test_pairs_are_matched_by_seed_and_partial_results_have_no_tests():
    records = _budget_records(RESNET[:3], CNN[:3])
    records = [r for r in records if not (r["model"] == "cnn" and r["seed"] == 1)]
    b = E.summarize_comparison(records)["budgets"]["main"]
    assert [p["seed"] for p in b["pairs"]] == [0, 2]
    assert b["pairs"][1]["diff"] == pytest.approx(RESNET[2] - CNN[2])
    assert all(p["same_init"] and p["same_order"] for p in b["pairs"])
    one = E.summarize_comparison(_budget_records(RESNET[:1], CNN[:1]))
    assert "paired" not in one["budgets"]["main"]
    assert "au moins deux paires" in E.interpret_comparison(E.json_ready(one))
