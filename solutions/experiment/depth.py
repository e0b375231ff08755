"""Depth study: plain vs residual networks of several depths, and the degradation criterion."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import KINDS, MIN_SEEDS
from .plots import plot_depth
from .records import atomic_write_json, curves_frame, json_ready, runs_frame
from .stats import describe
from .text import interpret_depth


def build_deep(
    kind: str, blocks: int, width: int = 16, input_shape=(28, 28, 1), num_classes: int = 10
):
    """Plain or residual network with ``blocks`` blocks of two convolutions.

    The residual block is the reference ``ResidualBlock``; the plain block is
    the same layers without the shortcut (Conv-BN-ReLU-Conv-BN-ReLU). Both
    start with a convolution, BN, ReLU and two 2x2 max poolings (the blocks
    work on 7x7 maps, which keeps a 16-block study within its time budget),
    and end with global average pooling and a softmax layer.

    Args:
        kind: ``"residual"`` or ``"plain"``.
        blocks: number of blocks (2 convolutions each).
        width: filters of every convolution.
        input_shape: shape of one image.
        num_classes: number of classes.

    Returns:
        An uncompiled keras.Model.
    """
    from tensorflow import keras

    from solutions.resnet_a_la_main import ResidualBlock

    if kind not in KINDS:
        raise ValueError(f"kind must be 'plain' or 'residual', got {kind!r}")
    inputs = keras.layers.Input(shape=input_shape)
    x = keras.layers.Conv2D(width, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.MaxPooling2D()(x)
    for _ in range(blocks):
        if kind == "residual":
            x = ResidualBlock(x, filters=width, kernel_size=3)
        else:
            for _ in range(2):
                x = keras.layers.Conv2D(width, 3, padding="same")(x)
                x = keras.layers.BatchNormalization()(x)
                x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=f"{kind}_{blocks}")


def depth_curves(records: list[dict]) -> dict:
    """Mean training-subset loss per (kind, blocks) after every epoch."""
    out = {}
    for r in records:
        key = (r["model"], r["params"]["blocks"])
        out.setdefault(key, []).append(r["history"]["train_eval_loss"])
    return {k: np.mean(np.array(v), axis=0).tolist() for k, v in out.items()}


def summarize_depth(records: list[dict]) -> dict:
    """Per (kind, depth) statistics of the depth study, and the degradation criterion."""
    rows = []
    keys = sorted({(r["model"], r["params"]["blocks"]) for r in records})
    for kind, blocks in keys:
        recs = [r for r in records if r["model"] == kind and r["params"]["blocks"] == blocks]
        final = [r["history"]["train_eval_loss"][-1] for r in recs]
        rows.append(
            {
                "kind": kind,
                "blocks": blocks,
                "conv_layers": 2 * blocks + 1,
                "n_runs": len(recs),
                "n_params": recs[0]["n_params"],
                "seeds": [r["seed"] for r in recs],
                "final_train_losses": final,
                "final_train_loss": describe(final),
                "test_accuracy": describe([r["test_accuracy"] for r in recs]),
                "test_accuracy_raw": describe([r["test_accuracy_raw"] for r in recs]),
                "loss_curve_mean": np.mean(
                    [r["history"]["train_eval_loss"] for r in recs], axis=0
                ).tolist(),
                "steps": recs[0]["history"]["step"],
                "epoch_seconds_median": float(
                    np.median(
                        [s for r in recs for s in (r["epoch_seconds"][1:] or r["epoch_seconds"])]
                    )
                ),
            }
        )
    summary = {"config": records[0]["config"] if records else None, "rows": rows}
    summary["degradation"] = detect_degradation(rows)
    return summary


def detect_degradation(rows: list[dict]) -> dict:
    """Does the deepest plain net end with a higher training loss than the shallowest?

    Degradation (He et al., 2016) means a *higher training loss* for the deeper
    plain network. It is "shown" only when every seed of the deepest plain
    net ends above every seed of the shallowest one (non-overlapping seeds;
    losses measured on a fixed training subset in inference mode after BN
    re-estimation). Otherwise, when the deep plain net's mean loss was above
    the shallow one's after some epoch, it "optimises more slowly".

    Args:
        rows: from :func:`summarize_depth` (``kind, blocks, final_train_losses``
            and, optionally, ``loss_curve_mean``).

    Returns:
        dict with ``shown``, ``slower`` and the numbers the text quotes.
    """
    plain = sorted((r for r in rows if r["kind"] == "plain"), key=lambda r: r["blocks"])
    resid = {r["blocks"]: r for r in rows if r["kind"] == "residual"}
    if len(plain) < 2:
        return {"shown": False, "slower": False, "reason": "fewer than two depths"}
    shallow, deep = plain[0], plain[-1]
    s_final, d_final = shallow["final_train_losses"], deep["final_train_losses"]
    n_seeds = min(len(s_final), len(d_final))
    shown = n_seeds >= MIN_SEEDS and min(d_final) > max(s_final)
    s_curve, d_curve = shallow.get("loss_curve_mean"), deep.get("loss_curve_mean")
    above = [i + 1 for i, (s, d) in enumerate(zip(s_curve or [], d_curve or [])) if d > s]
    res = resid.get(deep["blocks"])
    out = {
        "shown": bool(shown),
        "slower": bool(not shown and bool(above)),
        "epochs_above": above,
        "shallow_blocks": shallow["blocks"],
        "deep_blocks": deep["blocks"],
        "plain_loss_shallow": float(np.mean(s_final)),
        "plain_loss_deep": float(np.mean(d_final)),
        "plain_loss_shallow_min": min(s_final),
        "plain_loss_shallow_max": max(s_final),
        "plain_loss_deep_min": min(d_final),
        "plain_loss_deep_max": max(d_final),
        "plain_acc_shallow": shallow["test_accuracy"]["mean"],
        "plain_acc_deep": deep["test_accuracy"]["mean"],
        "n_seeds": n_seeds,
        "min_seeds": MIN_SEEDS,
    }
    if res is not None:
        r_final = res["final_train_losses"]
        out.update(
            residual_loss_deep=float(np.mean(r_final)),
            residual_loss_deep_min=min(r_final),
            residual_loss_deep_max=max(r_final),
            residual_acc_deep=res["test_accuracy"]["mean"],
            residual_below_plain=bool(max(r_final) < min(d_final)),
            residual_above_plain=bool(min(r_final) > max(d_final)),
        )
    return out


def write_depth_outputs(records: list[dict], out_dir: Path) -> dict:
    """summary.json, summary.csv, runs.csv, curves.csv and depth.png of the depth study."""
    import pandas as pd

    out_dir = Path(out_dir)
    summary = summarize_depth(records)
    summary["interpretation_fr"] = interpret_depth(json_ready(summary))
    atomic_write_json(out_dir / "summary.json", json_ready(summary))
    pd.DataFrame(
        [
            {
                "kind": r["kind"],
                "blocks": r["blocks"],
                "conv_layers": r["conv_layers"],
                "n_runs": r["n_runs"],
                "n_params": r["n_params"],
                "final_train_loss_mean": r["final_train_loss"]["mean"],
                "final_train_loss_min": r["final_train_loss"]["min"],
                "final_train_loss_max": r["final_train_loss"]["max"],
                "test_accuracy_mean": r["test_accuracy"]["mean"],
                "test_accuracy_min": r["test_accuracy"]["min"],
                "test_accuracy_max": r["test_accuracy"]["max"],
                "test_accuracy_raw_mean": r["test_accuracy_raw"]["mean"],
                "epoch_seconds_median": r["epoch_seconds_median"],
            }
            for r in summary["rows"]
        ]
    ).to_csv(out_dir / "summary.csv", index=False)
    runs_frame(records).to_csv(out_dir / "runs.csv", index=False)
    curves_frame(records).to_csv(out_dir / "curves.csv", index=False)
    plot_depth(records, out_dir)
    return summary
