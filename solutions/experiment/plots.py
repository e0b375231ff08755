"""Seaborn figures of the comparison and of the depth study (PNG files)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

from .config import BUDGET_LABELS, KINDS, MODEL_LABELS
from .records import curves_frame, runs_frame
from .text import blocs


def _pyplot():
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    return plt, sns


@contextlib.contextmanager
def fixed_jitter(seed: int = 0):
    """Seed NumPy's global generator (seaborn's stripplot jitter) and restore it on exit.

    Without it the jittered points move at every call and ``report`` does not
    reproduce the committed PNGs.

    Args:
        seed: seed of the jitter.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def plot_comparison(records: list[dict], summary: dict, out_dir: Path) -> list[Path]:
    """Learning curves, raw vs re-estimated test accuracy, paired differences (seaborn)."""
    plt, sns = _pyplot()
    out_dir = Path(out_dir)
    budgets = [b for b in ("short", "main") if b in summary["budgets"]]

    df = curves_frame(records)
    df["modèle"] = df["model"].map(MODEL_LABELS)
    fig, axes = plt.subplots(len(budgets), 2, figsize=(11, 3.6 * len(budgets)), squeeze=False)
    for row, name in zip(axes, budgets):
        sub = df[df["budget"] == name]
        acc = sub[sub["metric"].isin(["val_accuracy", "val_accuracy_raw"])].copy()
        acc["statistiques BN"] = acc["metric"].map(
            {"val_accuracy": "ré-estimées", "val_accuracy_raw": "moyennes mobiles"}
        )
        sns.lineplot(
            data=acc,
            x="step",
            y="value",
            hue="modèle",
            style="statistiques BN",
            errorbar=("pi", 100),
            marker="o",
            ax=row[0],
        )
        row[0].set(
            xlabel="pas d'optimisation",
            ylabel="exactitude (validation)",
            title=f"{BUDGET_LABELS[name]} : validation (bande = étendue)",
        )
        loss = sub[sub["metric"] == "loss"]
        sns.lineplot(
            data=loss,
            x="step",
            y="value",
            hue="modèle",
            errorbar=("pi", 100),
            marker="o",
            ax=row[1],
        )
        row[1].set(
            xlabel="pas d'optimisation",
            ylabel="perte d'entraînement",
            title=f"{BUDGET_LABELS[name]} : entraînement",
        )
    fig.tight_layout()
    curves = out_dir / "learning_curves.png"
    fig.savefig(curves, dpi=100, bbox_inches="tight")
    plt.close(fig)

    runs = runs_frame(records)
    long = runs.melt(
        id_vars=["budget", "model", "seed"],
        value_vars=["test_accuracy_raw", "test_accuracy"],
        var_name="mesure",
        value_name="exactitude",
    )
    long["mesure"] = long["mesure"].map(
        {"test_accuracy_raw": "moyennes mobiles", "test_accuracy": "BN ré-estimée"}
    )
    long["modèle"] = long["model"].map(MODEL_LABELS) + " — " + long["budget"].map(BUDGET_LABELS)
    fig, ax = plt.subplots(figsize=(9, 4))
    with fixed_jitter():
        sns.stripplot(
            data=long,
            x="modèle",
            y="exactitude",
            hue="mesure",
            dodge=True,
            size=6,
            jitter=0.12,
            ax=ax,
        )
    ax.set(
        xlabel="",
        ylabel="exactitude sur le jeu de test",
        title="Une graine = un point : avant et après ré-estimation des statistiques BN",
    )
    ax.tick_params(axis="x", labelsize=8)
    final = out_dir / "final_accuracy.png"
    fig.savefig(final, dpi=100, bbox_inches="tight")
    plt.close(fig)

    pairs = [
        {"budget": BUDGET_LABELS[n], "seed": p["seed"], "diff": 100 * p["diff"]}
        for n in budgets
        for p in summary["budgets"][n]["pairs"]
    ]
    import pandas as pd

    pdf = pd.DataFrame(pairs)
    fig, ax = plt.subplots(figsize=(7, 4))
    if len(pdf):
        with fixed_jitter():
            sns.stripplot(data=pdf, x="budget", y="diff", size=7, jitter=0.1, ax=ax, color="0.4")
        for i, n in enumerate(budgets):
            p = summary["budgets"][n].get("paired")
            if p:
                ax.errorbar(
                    [i + 0.25],
                    [100 * p["mean_diff"]],
                    yerr=[
                        [100 * (p["mean_diff"] - p["ci_low"])],
                        [100 * (p["ci_high"] - p["mean_diff"])],
                    ],
                    fmt="D",
                    color="C3",
                    capsize=6,
                    label="moyenne et IC à 95 %" if i == 0 else None,
                )
    ax.axhline(0, color="black", lw=1)
    ax.set(
        xlabel="",
        ylabel="ResNet − CNN (points d'exactitude)",
        title="Différences appariées (même graine : mêmes poids initiaux, mêmes lots)",
    )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")
    diffs = out_dir / "paired_differences.png"
    fig.savefig(diffs, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return [curves, final, diffs]


def plot_depth(records: list[dict], out_dir: Path) -> Path:
    """Training-subset loss against steps, one panel per depth, every seed drawn."""
    plt, sns = _pyplot()
    df = curves_frame(records)
    df = df[df["metric"] == "train_eval_loss"].copy()
    df["réseau"] = df["model"].map(MODEL_LABELS)
    depths = sorted(df["blocks"].unique())
    fig, axes = plt.subplots(
        1, len(depths), figsize=(4.2 * len(depths), 3.8), sharey=True, squeeze=False
    )
    for ax, d in zip(axes[0], depths):
        sub = df[df["blocks"] == d]
        sns.lineplot(
            data=sub,
            x="step",
            y="value",
            hue="réseau",
            units="seed",
            estimator=None,
            marker="o",
            ax=ax,
            hue_order=[MODEL_LABELS[k] for k in KINDS],
        )
        ax.set(
            xlabel="pas d'optimisation",
            ylabel="perte d'entraînement (sous-ensemble fixe)",
            title=f"{blocs(int(d))} ({2 * int(d) + 1} convolutions)",
            yscale="log",
        )
    fig.suptitle(
        "Profondeur : perte mesurée en inférence après ré-estimation BN, une ligne par graine",
        y=1.02,
    )
    fig.tight_layout()
    path = Path(out_dir) / "depth.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_long(records: list[dict], target: float, out_dir: Path) -> Path:
    """Validation accuracy per epoch of the longer budget, with the target line.

    Args:
        records: finished long-budget records.
        target: the test accuracy the budget aims at (drawn as a dashed line).
        out_dir: where ``long_curves.png`` goes.

    Returns:
        The path of the PNG.
    """
    plt, sns = _pyplot()
    df = curves_frame(records)
    df = df[df["metric"].isin(["val_accuracy", "val_accuracy_raw"])].copy()
    df["modèle"] = df["model"].map(MODEL_LABELS)
    df["statistiques BN"] = df["metric"].map(
        {"val_accuracy": "ré-estimées", "val_accuracy_raw": "moyennes mobiles"}
    )
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(
        data=df,
        x="step",
        y="value",
        hue="modèle",
        style="statistiques BN",
        units="seed",
        estimator=None,
        marker="o",
        ax=ax,
    )
    ax.axhline(target, color="black", lw=1, ls="--", label="objectif")
    ax.set(
        xlabel="pas d'optimisation",
        ylabel="exactitude (validation)",
        title=f"{BUDGET_LABELS['long'].capitalize()} : une ligne par graine",
    )
    ax.legend(loc="lower right", fontsize=8)
    path = Path(out_dir) / "long_curves.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
