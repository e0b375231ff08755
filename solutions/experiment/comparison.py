"""ResNet vs CNN comparison: per-model summaries, paired analysis per budget, outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import MODELS
from .plots import plot_comparison
from .records import atomic_write_json, curves_frame, json_ready, runs_frame
from .stats import compare_samples, describe, paired_analysis
from .text import interpret_comparison


def _model_summary(recs: list[dict]) -> dict:
    epoch_s = [s for r in recs for s in (r["epoch_seconds"][1:] or r["epoch_seconds"])]
    return {
        "test_accuracy": describe([r["test_accuracy"] for r in recs]),
        "test_accuracy_raw": describe([r["test_accuracy_raw"] for r in recs]),
        "seeds": [r["seed"] for r in recs],
        "test_accuracies": [r["test_accuracy"] for r in recs],
        "test_accuracies_raw": [r["test_accuracy_raw"] for r in recs],
        "final_train_loss": describe([r["history"]["loss"][-1] for r in recs]),
        "final_val_accuracy": describe([r["history"]["val_accuracy"][-1] for r in recs])
        if "val_accuracy" in recs[0]["history"]
        else None,
        "n_params": recs[0]["n_params"],
        "n_trainable": recs[0]["n_trainable"],
        "epoch_seconds_median": float(np.median(epoch_s)),
        "train_seconds_median": float(np.median([r["train_seconds"] for r in recs])),
    }


def summarize_budget(records: list[dict]) -> dict:
    """Per-model statistics and the paired ResNet − CNN analysis of one budget."""
    by_model = {m: [r for r in records if r["model"] == m] for m in MODELS}
    first = records[0]
    cfg = first["config"]
    out = {
        "budget": first.get("budget"),
        "config": cfg,
        "steps": first["steps"],
        "models": {m: _model_summary(recs) for m, recs in by_model.items() if recs},
    }
    res = {r["seed"]: r for r in by_model["resnet"]}
    cnn = {r["seed"]: r for r in by_model["cnn"]}
    seeds = sorted(set(res) & set(cnn))
    out["pairs"] = [
        {
            "seed": s,
            "resnet": res[s]["test_accuracy"],
            "cnn": cnn[s]["test_accuracy"],
            "diff": res[s]["test_accuracy"] - cnn[s]["test_accuracy"],
            "resnet_raw": res[s]["test_accuracy_raw"],
            "cnn_raw": cnn[s]["test_accuracy_raw"],
            "same_init": res[s]["init_digest"] == cnn[s]["init_digest"],
            "same_order": res[s]["order_digest"] == cnn[s]["order_digest"],
        }
        for s in seeds
    ]
    if len(seeds) >= 2:
        a = [p["resnet"] for p in out["pairs"]]
        b = [p["cnn"] for p in out["pairs"]]
        out["paired"] = paired_analysis(a, b)
        out["paired_raw"] = paired_analysis(
            [p["resnet_raw"] for p in out["pairs"]], [p["cnn_raw"] for p in out["pairs"]]
        )
        out["unpaired"] = compare_samples(a, b)
    return out


def summarize_comparison(records: list[dict]) -> dict:
    """Summary of every budget found in ``records`` (see :func:`summarize_budget`)."""
    budgets = {}
    for name in ("short", "main"):
        recs = [r for r in records if r.get("budget") == name]
        if recs:
            budgets[name] = summarize_budget(recs)
    return {
        "budgets": budgets,
        "primary": "main" if "main" in budgets else next(iter(budgets), None),
    }


def paired_frame(summary: dict):
    """The paired analysis table: one row per budget (ResNet − CNN, test accuracy)."""
    import pandas as pd

    rows = []
    for name, b in summary["budgets"].items():
        if "paired" not in b:
            continue
        for what, p in (("re-estimated", b["paired"]), ("raw", b["paired_raw"])):
            rows.append(
                {
                    "budget": name,
                    "steps": b["steps"],
                    "bn_statistics": what,
                    "pairs": p["n"],
                    "resnet_mean": float(
                        np.mean(
                            [x["resnet" if what != "raw" else "resnet_raw"] for x in b["pairs"]]
                        )
                    ),
                    "cnn_mean": float(
                        np.mean([x["cnn" if what != "raw" else "cnn_raw"] for x in b["pairs"]])
                    ),
                    "mean_diff": p["mean_diff"],
                    "ci95_low": p["ci_low"],
                    "ci95_high": p["ci_high"],
                    "sd_diff": p["sd_diff"],
                    "paired_t": p["t"],
                    "paired_t_p": p["t_p"],
                    "wilcoxon_w": p["wilcoxon_w"],
                    "wilcoxon_p": p["wilcoxon_p"],
                    "correlation": p["correlation"],
                    "mde_80": p["mde"],
                    "same_init_pairs": sum(x["same_init"] for x in b["pairs"]),
                    "same_order_pairs": sum(x["same_order"] for x in b["pairs"]),
                }
            )
    return pd.DataFrame(rows)


def write_comparison_outputs(records: list[dict], out_dir: Path) -> dict:
    """summary.json, paired.csv, runs.csv, curves.csv and the three PNGs."""
    import pandas as pd

    out_dir = Path(out_dir)
    summary = summarize_comparison(records)
    summary["interpretation_fr"] = interpret_comparison(json_ready(summary))
    atomic_write_json(out_dir / "summary.json", json_ready(summary))
    rows = []
    for name, b in summary["budgets"].items():
        for m, s in b["models"].items():
            t, raw = s["test_accuracy"], s["test_accuracy_raw"]
            rows.append(
                {
                    "budget": name,
                    "steps": b["steps"],
                    "model": m,
                    "n": t["n"],
                    "mean": t["mean"],
                    "std": t["std"],
                    "ci95_low": t["ci_low"],
                    "ci95_high": t["ci_high"],
                    "min": t["min"],
                    "max": t["max"],
                    "raw_mean": raw["mean"],
                    "raw_std": raw["std"],
                    "n_params": s["n_params"],
                    "train_seconds_median": s["train_seconds_median"],
                }
            )
    pd.DataFrame(rows).to_csv(out_dir / "summary.csv", index=False)
    paired_frame(summary).to_csv(out_dir / "paired.csv", index=False)
    runs_frame(records).to_csv(out_dir / "runs.csv", index=False)
    curves_frame(records).to_csv(out_dir / "curves.csv", index=False)
    for stale in ("tests.csv",):  # written by the unpaired analysis of issue 7
        (out_dir / stale).unlink(missing_ok=True)
    plot_comparison(records, summary, out_dir)
    return summary
