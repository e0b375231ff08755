"""The "Pour aller plus loin" experiment: statistics, resume, quick pipeline."""
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from solutions import experiment as E

ROOT = Path(__file__).resolve().parents[1]


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
    assert t["cohen_d"] == pytest.approx(-2.0)            # pooled sd = 1
    assert t["hedges_g"] == pytest.approx(-2.0 * (1 - 3 / (4 * 6 - 9)))
    assert t["welch_t"] == pytest.approx(-2 / math.sqrt(2 / 3))
    assert t["welch_df"] == pytest.approx(4.0)
    ref = stats.ttest_ind([1, 2, 3], [3, 4, 5], equal_var=False)
    assert t["welch_p"] == pytest.approx(ref.pvalue)
    mwu = stats.mannwhitneyu([1, 2, 3], [3, 4, 5], alternative="two-sided")
    assert t["mwu_u"] == mwu.statistic and t["mwu_p"] == pytest.approx(mwu.pvalue)
    assert t["rank_biserial"] == pytest.approx(2 * 0.5 / 9 - 1)   # U = 0.5 (one tie)


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


def _row(kind, blocks, losses, accs):
    return {"kind": kind, "blocks": blocks, "final_train_loss": E.describe(losses),
            "test_accuracy": E.describe(accs)}


def test_degradation_detection():
    shown = E.detect_degradation([
        _row("plain", 2, [0.50, 0.52], [0.80, 0.81]),
        _row("plain", 20, [0.90, 0.95], [0.65, 0.70]),
        _row("residual", 2, [0.48, 0.50], [0.81, 0.82]),
        _row("residual", 20, [0.45, 0.47], [0.82, 0.83]),
    ])
    assert shown["shown"] and shown["deep_blocks"] == 20
    within_spread = E.detect_degradation([
        _row("plain", 2, [0.50, 0.70], [0.80, 0.81]),
        _row("plain", 20, [0.55, 0.72], [0.79, 0.80]),
        _row("residual", 20, [0.45, 0.47], [0.82, 0.83]),
    ])
    assert not within_spread["shown"]
    residual_worse = E.detect_degradation([
        _row("plain", 2, [0.50, 0.52], [0.80, 0.81]),
        _row("plain", 20, [0.90, 0.95], [0.65, 0.70]),
        _row("residual", 20, [1.00, 1.05], [0.60, 0.62]),
    ])
    assert not residual_worse["shown"]
    assert "n'apparaît pas" in E.interpret_depth(
        {"config": {}, "degradation": E._clean(residual_worse)})
    assert "Dégradation observée" in E.interpret_depth(
        {"config": {}, "degradation": E._clean(shown)})


def _summary_from(acc_resnet, acc_cnn):
    def model(acc):
        return {"test_accuracy": E.describe(acc), "n_params": 1000,
                "epoch_seconds_median": 1.5}
    return E._clean({"config": {"train_size": 100, "epochs": 1},
                     "models": {"resnet": model(acc_resnet), "cnn": model(acc_cnn)},
                     "tests": E.compare_samples(acc_resnet, acc_cnn)})


def test_interpretation_follows_the_statistics():
    sep = E.interpret_comparison(_summary_from([0.90, 0.91, 0.92, 0.905, 0.915],
                                               [0.80, 0.81, 0.82, 0.805, 0.815]))
    assert "Ce que les données soutiennent" in sep and "en faveur du ResNet" in sep
    assert "ne soutiennent pas" not in sep
    close = E.interpret_comparison(_summary_from([0.85, 0.86, 0.84, 0.855, 0.845],
                                                 [0.851, 0.849, 0.856, 0.842, 0.86]))
    assert "ne soutiennent pas" in close and "pas une preuve" in close
    assert "plus petit que la dispersion" in close


# --------------------------------------------------------------------------
# Quick pipeline, interrupted then resumed
# --------------------------------------------------------------------------
def _run_files(study_dir):
    return sorted((Path(study_dir) / "runs").glob("*.json"))


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """Kill a real run after its first run file, resume, finish, rerun; then depth."""
    out = tmp_path_factory.mktemp("experiment")
    comp = out / "comparison"
    log = {}
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(
        [sys.executable, "-m", "solutions.experiment", "compare", "--quick",
         "--no-progress", "--out", str(out)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not _run_files(comp) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log["after_kill"] = {p.name: p.read_bytes() for p in _run_files(comp)}
    # A run file left half-written by some other crash must be retrained.
    planned = [s.key for s in E.plan_runs(E.comparison_config(quick=True))]
    garbage = next(k for k in reversed(planned) if f"{k}.json" not in log["after_kill"])
    (comp / "runs" / f"{garbage}.json").write_text('{"schema": 1, "key": "')
    log["garbage"] = garbage

    calls = []
    real_train = E.train_one

    def counting(spec, data, on_epoch=None):
        calls.append(spec.key)
        return real_train(spec, data, on_epoch)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(E, "train_one", counting)
        args = ["--quick", "--no-progress", "--out", str(out)]
        log["rc_limited"] = E.main(["compare", "--max-runs", "1", *args])
        log["calls_limited"] = list(calls)
        log["rc_full"] = E.main(["compare", *args])
        log["calls_full"] = list(calls)
        log["rc_again"] = E.main(["compare", *args])
        log["calls_again"] = list(calls)
        log["rc_depth"] = E.main(["depth", *args])
    log["out"] = out
    log["planned"] = planned
    return log


def test_kill_leaves_only_complete_run_files(quick):
    killed = quick["after_kill"]
    assert 1 <= len(killed) < len(quick["planned"])
    for content in killed.values():
        assert "test_accuracy" in json.loads(content)


def test_resume_trains_only_the_missing_runs(quick):
    planned, killed = quick["planned"], quick["after_kill"]
    missing = [k for k in planned if f"{k}.json" not in killed]
    assert quick["rc_limited"] == 3                      # incomplete: max-runs reached
    assert quick["calls_limited"] == missing[:1]
    assert quick["calls_full"] == missing                # each missing run exactly once
    assert quick["garbage"] in quick["calls_full"]
    assert quick["calls_again"] == missing               # nothing retrained
    assert quick["rc_full"] == 0 and quick["rc_again"] == 0
    comp = quick["out"] / "comparison"
    assert sorted(p.stem for p in _run_files(comp)) == sorted(planned)
    for name, content in killed.items():                 # finished runs untouched
        assert (comp / "runs" / name).read_bytes() == content
    meta = json.loads((comp / "metadata.json").read_text())
    assert [s["runs_trained"] for s in meta["sessions"]] == [1, len(missing) - 1]
    assert meta["complete"] and meta["runs_available"] == len(planned)


def test_quick_outputs_and_summary_fields(quick):
    comp, depth = quick["out"] / "comparison", quick["out"] / "depth"
    for name in ("summary.json", "summary.csv", "tests.csv", "runs.csv", "curves.csv",
                 "learning_curves.png", "final_accuracy.png", "metadata.json"):
        assert (comp / name).stat().st_size > 0, name
    for name in ("summary.json", "summary.csv", "runs.csv", "depth.png", "metadata.json"):
        assert (depth / name).stat().st_size > 0, name
    assert quick["rc_depth"] == 0
    summary = json.loads((comp / "summary.json").read_text())
    records = E.load_records(E.comparison_config(quick=True), comp)
    for model in E.MODELS:
        s = summary["models"][model]
        accs = [r["test_accuracy"] for r in records if r["model"] == model]
        assert s["test_accuracy"]["n"] == 2
        assert s["test_accuracy"]["mean"] == pytest.approx(np.mean(accs))
        assert s["n_params"] > 0 and s["epoch_seconds_median"] > 0
    for key in ("welch_p", "mwu_p", "hedges_g", "cohen_d", "rank_biserial", "mean_diff"):
        assert key in summary["tests"]
    d = json.loads((depth / "summary.json").read_text())
    assert {(r["kind"], r["blocks"]) for r in d["rows"]} == {
        (k, b) for k in ("plain", "residual") for b in (1, 2)}
    meta = json.loads((comp / "metadata.json").read_text())
    assert meta["versions"]["keras"] and meta["config_hash"] == E.comparison_config(True).digest()


def test_interpretation_numbers_are_the_saved_numbers(quick, capsys):
    comp = quick["out"] / "comparison"
    summary = json.loads((comp / "summary.json").read_text())
    text = summary["interpretation_fr"]
    assert text == E.interpret_comparison(summary)
    r, c, t = summary["models"]["resnet"], summary["models"]["cnn"], summary["tests"]
    for value in (r["test_accuracy"]["mean"], c["test_accuracy"]["mean"],
                  r["test_accuracy"]["ci_low"], c["test_accuracy"]["ci_high"]):
        assert E.pct(value) in text
    assert E.pval(t["welch_p"]) in text and E.pval(t["mwu_p"]) in text
    assert E.num(t["hedges_g"]) in text

    # every number printed comes from the JSON (or is the 95 % / 5 % level)
    allowed = {"95", "5"}

    def collect(obj):
        if isinstance(obj, dict):
            for v in obj.values():
                collect(v)
        elif isinstance(obj, list):
            for v in obj:
                collect(v)
        elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
            allowed.update({str(obj), E.num(100 * obj), E.num(obj), E.num(obj, 3),
                            E.num(abs(obj)), E.num(100 * abs(obj))})
    collect(summary)
    printed = E.show_summary(quick["out"], display_images=False)
    assert text in printed and "Étude de profondeur" in printed
    assert printed in capsys.readouterr().out
    for number in re.findall(r"-?\d+(?:,\d+)?", printed):
        if number not in allowed:
            depth = json.loads((quick["out"] / "depth" / "summary.json").read_text())
            collect(depth)
            assert number in allowed, number


def test_partial_results_are_reported_without_tests():
    with pytest.raises(ValueError):
        E.compare_samples([0.8], [0.7, 0.75])
    records = [{"model": m, "seed": 0, "test_accuracy": acc, "n_params": 10,
                "n_trainable": 10, "epoch_seconds": [2.0, 1.0], "train_seconds": 3.0,
                "config": {"train_size": 100, "epochs": 2},
                "history": {"loss": [1.0, 0.5], "val_accuracy": [0.6, 0.7]}}
               for m, acc in (("resnet", 0.8), ("cnn", 0.7))]
    summary = E.summarize_comparison(records)
    assert "tests" not in summary
    assert summary["models"]["cnn"]["epoch_seconds_median"] == 1.0   # first epoch dropped
    text = E.interpret_comparison(E._clean(summary))
    assert "au moins deux entraînements" in text and E.pct(0.8) in text


def test_run_keys_depend_on_the_budget_not_on_the_number_of_runs():
    base = E.comparison_config()
    assert base.runs >= 5
    specs = E.plan_runs(base)
    assert len({s.key for s in specs}) == 2 * base.runs
    assert {s.seed for s in specs if s.model == "resnet"} == {
        s.seed for s in specs if s.model == "cnn"}
    assert E.comparison_config(runs=9).digest() == base.digest()
    assert E.comparison_config(epochs=base.epochs + 1).digest() != base.digest()
    more = {s.key for s in E.plan_runs(E.comparison_config(runs=base.runs + 2))}
    assert {s.key for s in specs} < more          # extending K reuses finished runs
    depth = E.plan_runs(E.depth_config())
    assert {(s.model, s.params["blocks"]) for s in depth} == {
        (k, b) for k in ("plain", "residual") for b in E.depth_config().depths}
