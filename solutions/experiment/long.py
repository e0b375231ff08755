"""The longer budget: how far the reference models go with the whole training split.

One or a few seeds per model at :func:`~.config.long_config` (15,000 steps by
default); the question is not ResNet vs CNN (the paired comparison answers
that) but whether the reference architecture reaches :data:`TARGET` test
accuracy with the kit's recipe.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .config import MODELS, RESULTS_DIR
from .plots import plot_long
from .records import atomic_write_json, curves_frame, json_ready, runs_frame
from .stats import describe
from .text import interpret_long

#: test accuracy the longer budget should reach (issue 15)
TARGET = 0.90
#: where the longer budget's results go, under the results root
LONG_DIR = "long"


def long_run_row(record: dict) -> dict:
    """The figures of one long run that the summary keeps.

    Args:
        record: a run record (:func:`~.runs.train_one`).

    Returns:
        dict ``model, seed, test_accuracy, test_accuracy_raw, test_loss, steps,
        images, epochs, images_seen, batch_size, learning_rate, train_seconds,
        final_val_accuracy, final_val_accuracy_raw, final_train_loss, n_params``.
    """
    cfg, hist = record["config"], record["history"]
    return {
        "model": record["model"],
        "seed": record["seed"],
        "test_accuracy": record["test_accuracy"],
        "test_accuracy_raw": record["test_accuracy_raw"],
        "test_loss": record["test_loss"],
        "steps": record["steps"],
        "images": cfg["train_size"],
        "epochs": cfg["epochs"],
        "images_seen": cfg["train_size"] * cfg["epochs"],
        "batch_size": cfg["batch_size"],
        "learning_rate": cfg["learning_rate"],
        "train_seconds": record["train_seconds"],
        "final_val_accuracy": (hist.get("val_accuracy") or [None])[-1],
        "final_val_accuracy_raw": (hist.get("val_accuracy_raw") or [None])[-1],
        "final_train_loss": hist["loss"][-1],
        "n_params": record["n_params"],
    }


def summarize_long(records: list[dict], target: float = TARGET) -> dict:
    """Per-run and per-model figures of the longer budget, against ``target``.

    Args:
        records: finished long-budget records (any number of seeds per model).
        target: test accuracy to reach (after BN re-estimation).

    Returns:
        dict ``budget, config, steps, target, runs`` (one row per run, see
        :func:`long_run_row`), ``models`` (per model: ``n``, ``seeds``,
        ``test_accuracy`` and ``test_accuracy_raw`` descriptions,
        ``reached``: every seed at or above ``target``, ``train_seconds_median``)
        and ``all_reached``.
    """
    if not records:
        raise ValueError("no finished run of the long budget")
    rows = [long_run_row(r) for r in records]
    models = {}
    for m in MODELS:
        mine = [r for r in rows if r["model"] == m]
        if not mine:
            continue
        accs = [r["test_accuracy"] for r in mine]
        models[m] = {
            "n": len(mine),
            "seeds": [r["seed"] for r in mine],
            "test_accuracy": describe(accs),
            "test_accuracy_raw": describe([r["test_accuracy_raw"] for r in mine]),
            "reached": bool(min(accs) >= target),
            "train_seconds_median": float(np.median([r["train_seconds"] for r in mine])),
            "n_params": mine[0]["n_params"],
        }
    return {
        "budget": "long",
        "config": records[0]["config"],
        "steps": records[0]["steps"],
        "target": target,
        "runs": rows,
        "models": models,
        "all_reached": bool(models) and all(s["reached"] for s in models.values()),
    }


def write_long_outputs(records: list[dict], out_dir: Path) -> dict:
    """summary.json (with the French text), runs.csv, curves.csv and long_curves.png.

    Args:
        records: finished long-budget records.
        out_dir: the study directory (``.../long``).

    Returns:
        The summary written to ``summary.json``.
    """
    out_dir = Path(out_dir)
    summary = summarize_long(records)
    summary["interpretation_fr"] = interpret_long(json_ready(summary))
    atomic_write_json(out_dir / "summary.json", json_ready(summary))
    runs_frame(records).to_csv(out_dir / "runs.csv", index=False)
    curves_frame(records).to_csv(out_dir / "curves.csv", index=False)
    plot_long(records, summary["target"], out_dir)
    return summary


def read_long_summary(results_dir=None) -> dict | None:
    """The saved summary of the longer budget, or None when it was never run.

    Args:
        results_dir: results root (default ``solutions/results``).

    Returns:
        The content of ``<results_dir>/long/summary.json``, or None.
    """
    root = Path(results_dir) if results_dir is not None else RESULTS_DIR
    try:
        return json.loads((root / LONG_DIR / "summary.json").read_text())
    except (OSError, ValueError):
        return None
