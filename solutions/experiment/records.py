"""Writing results safely and turning run records into tables.

Every function here works on *records*: the JSON dicts written by
:func:`solutions.experiment.runs.train_one`, one per finished training.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from autograder.public.fsutil import atomic_write_text


def atomic_write_json(path: Path, data) -> None:
    """Write JSON to ``path`` atomically, in the experiment's format (sorted keys, indent 1)."""
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True))


def json_ready(obj):
    """JSON-safe copy: NaN/inf become None."""
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def curves_frame(records: list[dict]):
    """Long DataFrame: one row per (run, epoch, metric) of the per-epoch history."""
    import pandas as pd

    rows = []
    for r in records:
        hist = r["history"]
        for name, values in hist.items():
            if name == "step":
                continue
            for epoch, value in enumerate(values, start=1):
                rows.append(
                    {
                        "budget": r.get("budget"),
                        "model": r["model"],
                        "blocks": r["params"].get("blocks"),
                        "seed": r["seed"],
                        "epoch": epoch,
                        "step": hist["step"][epoch - 1],
                        "metric": name,
                        "value": value,
                    }
                )
    return pd.DataFrame(rows)


def runs_frame(records: list[dict]):
    """One row per run: final figures, raw and re-estimated test accuracy."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "key": r["key"],
                "budget": r.get("budget"),
                "steps": r["steps"],
                "model": r["model"],
                "blocks": r["params"].get("blocks"),
                "seed": r["seed"],
                "test_accuracy": r["test_accuracy"],
                "test_accuracy_raw": r["test_accuracy_raw"],
                "test_loss": r["test_loss"],
                "test_loss_raw": r["test_loss_raw"],
                "final_train_loss": r["history"]["loss"][-1],
                "final_train_eval_loss": (r["history"].get("train_eval_loss") or [math.nan])[-1],
                "final_val_accuracy": (r["history"].get("val_accuracy") or [math.nan])[-1],
                "final_val_accuracy_raw": (r["history"].get("val_accuracy_raw") or [math.nan])[-1],
                "init_digest": r["init_digest"],
                "order_digest": r["order_digest"],
                "n_params": r["n_params"],
                "train_seconds": r["train_seconds"],
                "epoch_seconds_median": float(np.median(r["epoch_seconds"])),
            }
            for r in records
        ]
    )
