""""Pour aller plus loin": do residual connections matter? (issue 7)

A reproducible comparison of the reference ResNet and plain CNN
(``solutions/resnet_a_la_main.py``) over several trainings, and a depth study
of plain vs residual networks.

Command line (from the repository root)::

    python -m solutions.experiment [all|compare|depth|report]
        [--quick] [--runs K] [--epochs E] [--out DIR] [--max-runs N]

* ``compare``: trains ``build_resnet`` and ``build_cnn`` K times each (seeds
  0..K-1, same data subset, same budget), then writes the summary, the
  statistics and the plots under ``DIR/comparison``.
* ``depth``: plain vs residual networks of increasing depth, under ``DIR/depth``.
* ``all`` (default): both. ``report``: summary and plots from the saved runs,
  without training.

Every run is written to its own JSON file as soon as it finishes (atomic
write), keyed by model, seed and a hash of the configuration: rerunning an
interrupted experiment trains only the missing runs. ``--max-runs N`` stops
after N new trainings (used to simulate an interruption).

In a notebook: ``from solutions.experiment import show_summary; show_summary()``
shows the committed plots and prints a French interpretation computed from the
saved numbers.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SCHEMA = 1
MODELS = ("resnet", "cnn")
MODEL_LABELS = {"resnet": "ResNet", "cnn": "CNN classique",
                "plain": "sans connexion résiduelle", "residual": "résiduel"}


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------
@dataclass
class Config:
    """Budget and data of one study; every field but ``runs`` enters the hash.

    Args:
        study: ``"comparison"`` or ``"depth"``.
        runs: number of trainings (seeds) per model or per (kind, depth).
        epochs: training epochs per run.
        train_size: images of the fixed training subset (taken from the 80 %
            training split).
        val_size: images of the fixed validation subset (from the 20 % split).
        test_size: images of the test set used for the final accuracy
            (``None``: all 10,000).
        batch_size: minibatch size.
        learning_rate: Adam learning rate.
        data_seed: seed of the 80/20 split and of the subsets (same for all runs).
        seed0: first training seed; run i uses ``seed0 + i``.
        depths: residual/plain block counts (depth study only).
        width: filters of every convolution (depth study only).
    """

    study: str = "comparison"
    runs: int = 5
    epochs: int = 5
    train_size: int = 10000
    val_size: int = 2000
    test_size: int | None = None
    batch_size: int = 64
    learning_rate: float = 1e-3
    data_seed: int = 0
    seed0: int = 0
    depths: tuple = ()
    width: int = 0

    def hashed(self) -> dict:
        """Fields that define a run (everything except the number of runs)."""
        data = dataclasses.asdict(self)
        data.pop("runs")
        data["depths"] = list(self.depths)
        return data

    def digest(self) -> str:
        """Short, stable hash of :meth:`hashed`."""
        text = json.dumps(self.hashed(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


def comparison_config(quick: bool = False, runs=None, epochs=None) -> Config:
    """Default (or ``--quick``) budget of the ResNet vs CNN comparison."""
    if quick:
        cfg = Config("comparison", runs=2, epochs=1, train_size=256, val_size=128,
                     test_size=256, batch_size=64)
    else:
        cfg = Config("comparison", runs=5, epochs=5, train_size=10000, val_size=2000,
                     test_size=None, batch_size=64)
    if runs is not None:
        cfg.runs = runs
    if epochs is not None:
        cfg.epochs = epochs
    return cfg


def depth_config(quick: bool = False, runs=None, epochs=None) -> Config:
    """Default (or ``--quick``) budget of the depth study."""
    if quick:
        cfg = Config("depth", runs=1, epochs=1, train_size=256, val_size=128,
                     test_size=256, batch_size=64, depths=(1, 2), width=4)
    else:
        cfg = Config("depth", runs=2, epochs=3, train_size=4000, val_size=1000,
                     test_size=2000, batch_size=32, depths=(2, 6, 12, 20), width=8)
    if runs is not None:
        cfg.runs = runs
    if epochs is not None:
        cfg.epochs = epochs
    return cfg


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------
_DATA_CACHE: dict = {}


def load_data(cfg: Config):
    """The notebook's preprocessing, then fixed subsets.

    80/20 ``train_test_split`` of the 60,000 training images (seeded by
    ``cfg.data_seed``), ``StandardScaler`` fitted on the 80 % split, then the
    first ``train_size`` / ``val_size`` / ``test_size`` images of each part.

    Args:
        cfg: the study configuration.

    Returns:
        dict with ``x_train, y_train, x_val, y_val, x_test, y_test``
        (float32 images of shape (n, 28, 28, 1), uint8 labels).
    """
    key = (cfg.data_seed, cfg.train_size, cfg.val_size, cfg.test_size)
    if key in _DATA_CACHE:
        return _DATA_CACHE[key]
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from autograder.data import load_fashion_mnist

    (x_full, y_full), (x_test, y_test) = load_fashion_mnist()
    x_train, x_val, y_train, y_val = train_test_split(
        x_full, y_full, train_size=0.8, random_state=cfg.data_seed)
    scaler = StandardScaler()
    scaler.fit(x_train.astype(np.float32).reshape(-1, 28 * 28))

    def prep(x):
        return scaler.transform(x.astype(np.float32).reshape(-1, 28 * 28)) \
            .astype(np.float32).reshape(-1, 28, 28, 1)

    n_test = cfg.test_size or len(x_test)
    data = {
        "x_train": prep(x_train[:cfg.train_size]), "y_train": y_train[:cfg.train_size],
        "x_val": prep(x_val[:cfg.val_size]), "y_val": y_val[:cfg.val_size],
        "x_test": prep(x_test[:n_test]), "y_test": y_test[:n_test],
    }
    _DATA_CACHE.clear()
    _DATA_CACHE[key] = data
    return data


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------
def build_deep(kind: str, blocks: int, width: int = 8, input_shape=(28, 28, 1),
               num_classes: int = 10):
    """Plain or residual network with ``blocks`` blocks of two convolutions.

    The residual block is the reference ``ResidualBlock``; the plain block is
    the same layers without the shortcut (Conv-BN-ReLU-Conv-BN-ReLU).

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

    if kind not in ("plain", "residual"):
        raise ValueError(f"kind must be 'plain' or 'residual', got {kind!r}")
    inputs = keras.layers.Input(shape=input_shape)
    x = keras.layers.Conv2D(width, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
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


@dataclass
class RunSpec:
    """One training: a model, its parameters, a seed, a configuration."""

    model: str
    seed: int
    cfg: Config
    params: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        extra = "".join(f"-{k}{v}" for k, v in sorted(self.params.items()))
        return f"{self.model}{extra}-seed{self.seed}-{self.cfg.digest()}"

    def build(self):
        """Build the (uncompiled) Keras model of this run."""
        if self.cfg.study == "depth":
            return build_deep(self.model, self.params["blocks"], self.cfg.width)
        from solutions import resnet_a_la_main as ref

        return {"resnet": ref.build_resnet, "cnn": ref.build_cnn}[self.model]()


def plan_runs(cfg: Config) -> list[RunSpec]:
    """Every run of a study, in training order (seeds interleaved across models)."""
    seeds = [cfg.seed0 + i for i in range(cfg.runs)]
    if cfg.study == "depth":
        return [RunSpec(kind, s, cfg, {"blocks": d}) for s in seeds
                for d in cfg.depths for kind in ("plain", "residual")]
    return [RunSpec(m, s, cfg) for s in seeds for m in MODELS]


# --------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------
def atomic_write_json(path: Path, data) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_run(path: Path, spec: RunSpec | None = None) -> dict | None:
    """A finished run's record, or None when missing, unreadable or foreign."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        return None
    if spec is not None and record.get("key") != spec.key:
        return None
    if "test_accuracy" not in record:
        return None
    return record


def train_one(spec: RunSpec, data: dict, on_epoch: Callable | None = None) -> dict:
    """Train one model and return its record (history, test accuracy, timings).

    Args:
        spec: the run.
        data: arrays from :func:`load_data`.
        on_epoch: called with no argument after every epoch (progress bar).

    Returns:
        JSON-serialisable dict.
    """
    import logging

    from tensorflow import keras

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices
    keras.backend.clear_session()
    keras.utils.set_random_seed(spec.seed)
    model = spec.build()
    model.compile(optimizer=keras.optimizers.Adam(spec.cfg.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._t0)
            if on_epoch is not None:
                on_epoch()

    timer = Timer()
    t0 = time.perf_counter()
    history = model.fit(data["x_train"], data["y_train"], epochs=spec.cfg.epochs,
                        batch_size=spec.cfg.batch_size, shuffle=True,
                        validation_data=(data["x_val"], data["y_val"]),
                        callbacks=[timer], verbose=0)
    train_seconds = time.perf_counter() - t0
    test_loss, test_acc = model.evaluate(data["x_test"], data["y_test"],
                                         batch_size=256, verbose=0)
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return {
        "schema": SCHEMA, "key": spec.key, "study": spec.cfg.study,
        "model": spec.model, "seed": spec.seed, "params": spec.params,
        "config": spec.cfg.hashed(), "config_hash": spec.cfg.digest(),
        "history": {
            "loss": hist["loss"], "accuracy": hist["accuracy"],
            "val_loss": hist["val_loss"], "val_accuracy": hist["val_accuracy"],
        },
        "test_loss": float(test_loss), "test_accuracy": float(test_acc),
        "n_params": int(model.count_params()),
        "n_trainable": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "epoch_seconds": timer.seconds, "train_seconds": train_seconds,
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


@dataclass
class RunReport:
    """What :func:`run_study` did."""

    trained: list = field(default_factory=list)   # keys trained in this call
    skipped: list = field(default_factory=list)   # keys already on disk
    pending: list = field(default_factory=list)   # keys left (max_runs reached)
    records: list = field(default_factory=list)   # every finished record
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.pending


def run_study(cfg: Config, out_dir: Path, max_runs: int | None = None,
              progress: bool = True) -> RunReport:
    """Train every missing run of ``cfg``; save each to ``out_dir/runs/<key>.json``.

    Args:
        cfg: the study configuration.
        out_dir: study directory (``.../comparison`` or ``.../depth``).
        max_runs: stop after this many new trainings (None: all).
        progress: show a tqdm progress bar (epochs, with ETA) on stderr.

    Returns:
        A :class:`RunReport`.
    """
    out_dir = Path(out_dir)
    runs_dir = out_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    report = RunReport()
    todo = []
    for spec in plan_runs(cfg):
        record = read_run(runs_dir / f"{spec.key}.json", spec)
        if record is None:
            todo.append(spec)
        else:
            report.skipped.append(spec.key)
            report.records.append(record)
    if max_runs is not None:
        todo, rest = todo[:max_runs], todo[max_runs:]
        report.pending = [s.key for s in rest]
    t0 = time.perf_counter()
    if todo:
        from tqdm.auto import tqdm

        data = load_data(cfg)
        bar = tqdm(total=len(todo) * cfg.epochs, unit="epoch", disable=not progress,
                   desc=f"{cfg.study} ({len(todo)} runs)", file=sys.stderr)
        try:
            for spec in todo:
                bar.set_postfix_str(spec.key.rsplit("-", 1)[0])
                record = train_one(spec, data, on_epoch=lambda: bar.update(1))
                atomic_write_json(runs_dir / f"{spec.key}.json", record)
                report.trained.append(spec.key)
                report.records.append(record)
        finally:
            bar.close()
    report.seconds = time.perf_counter() - t0
    return report


def load_records(cfg: Config, out_dir: Path) -> list[dict]:
    """Finished records of ``cfg`` found under ``out_dir/runs`` (plan order)."""
    runs_dir = Path(out_dir) / "runs"
    records = []
    for spec in plan_runs(cfg):
        record = read_run(runs_dir / f"{spec.key}.json", spec)
        if record is not None:
            records.append(record)
    return records


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------
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
    return {"n": n, "mean": mean, "std": std, "sem": sem, "ci_low": low,
            "ci_high": high, "confidence": confidence,
            "min": float(x.min()) if n else math.nan,
            "max": float(x.max()) if n else math.nan}


def compare_samples(a, b) -> dict:
    """Welch's t-test and Mann–Whitney U of ``a`` vs ``b``, with effect sizes.

    Effect sizes are signed: positive when ``a`` tends to be larger.
    Cohen's d uses the pooled standard deviation; Hedges' g is d times the
    small-sample correction ``1 - 3 / (4 (n_a + n_b) - 9)``; the rank-biserial
    correlation is ``2 U_a / (n_a n_b) - 1``.

    Raises ValueError when a sample has fewer than 2 values.
    Degenerate samples (both constant) give p = 1 and zero effect when the
    means are equal, and p = 0 with an infinite d when they differ.

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
    va = a.var(ddof=1) if na > 1 and np.ptp(a) > 0 else 0.0
    vb = b.var(ddof=1) if nb > 1 and np.ptp(b) > 0 else 0.0
    out = {"n_a": int(na), "n_b": int(nb), "mean_diff": diff}
    if va == 0 and vb == 0:
        same = diff == 0
        out.update(welch_t=0.0 if same else math.copysign(math.inf, diff),
                   welch_df=math.nan, welch_p=1.0 if same else 0.0,
                   cohen_d=0.0 if same else math.copysign(math.inf, diff))
    else:
        res = stats.ttest_ind(a, b, equal_var=False)
        se2a, se2b = va / na, vb / nb
        df = (se2a + se2b) ** 2 / (se2a ** 2 / max(na - 1, 1) + se2b ** 2 / max(nb - 1, 1))
        pooled = math.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
        out.update(welch_t=float(res.statistic), welch_df=float(df),
                   welch_p=float(res.pvalue), cohen_d=diff / pooled)
    correction = 1 - 3 / (4 * (na + nb) - 9) if na + nb > 3 else math.nan
    out["hedges_g"] = out["cohen_d"] * correction if out["cohen_d"] != 0 else 0.0
    mwu = stats.mannwhitneyu(a, b, alternative="two-sided")
    u = float(mwu.statistic)
    p = float(mwu.pvalue)
    out.update(mwu_u=u, mwu_p=1.0 if math.isnan(p) else p,
               rank_biserial=2 * u / (na * nb) - 1,
               # smallest two-sided p-value the exact test can reach at these n
               mwu_min_p=min(1.0, 2 / math.comb(na + nb, na)))
    return out


def summarize_comparison(records: list[dict]) -> dict:
    """Per-model statistics and the ResNet-vs-CNN tests from run records."""
    by_model = {m: [r for r in records if r["model"] == m] for m in MODELS}
    summary = {"models": {}, "config": records[0]["config"] if records else None}
    for m, recs in by_model.items():
        if not recs:
            continue
        acc = [r["test_accuracy"] for r in recs]
        epoch_s = [s for r in recs for s in r["epoch_seconds"][1:] or r["epoch_seconds"]]
        summary["models"][m] = {
            "test_accuracy": describe(acc),
            "seeds": [r["seed"] for r in recs],
            "test_accuracies": acc,
            "final_train_loss": describe([r["history"]["loss"][-1] for r in recs]),
            "final_val_accuracy": describe([r["history"]["val_accuracy"][-1] for r in recs]),
            "n_params": recs[0]["n_params"],
            "n_trainable": recs[0]["n_trainable"],
            "epoch_seconds_median": float(np.median(epoch_s)),
            "train_seconds_mean": float(np.mean([r["train_seconds"] for r in recs])),
        }
    if all(len(by_model[m]) >= 2 for m in MODELS):
        summary["tests"] = compare_samples(summary["models"]["resnet"]["test_accuracies"],
                                           summary["models"]["cnn"]["test_accuracies"])
    return summary


def summarize_depth(records: list[dict]) -> dict:
    """Per (kind, depth) statistics of the depth study."""
    rows = []
    keys = sorted({(r["model"], r["params"]["blocks"]) for r in records},
                  key=lambda kd: (kd[0], kd[1]))
    for kind, blocks in keys:
        recs = [r for r in records if r["model"] == kind and r["params"]["blocks"] == blocks]
        rows.append({
            "kind": kind, "blocks": blocks, "conv_layers": 2 * blocks + 1,
            "n_runs": len(recs), "n_params": recs[0]["n_params"],
            "test_accuracy": describe([r["test_accuracy"] for r in recs]),
            "final_train_loss": describe([r["history"]["loss"][-1] for r in recs]),
            "final_train_accuracy": describe([r["history"]["accuracy"][-1] for r in recs]),
            "epoch_seconds_median": float(np.median(
                [s for r in recs for s in (r["epoch_seconds"][1:] or r["epoch_seconds"])])),
        })
    summary = {"config": records[0]["config"] if records else None, "rows": rows}
    summary["degradation"] = detect_degradation(rows)
    return summary


def detect_degradation(rows: list[dict]) -> dict:
    """Does the deepest plain net train worse than the shallowest one?

    Degradation (He et al., 2016) means a *higher training loss* for the deeper
    plain network, not only a lower test accuracy. It is called "shown" when
    the deepest plain net's final training loss exceeds the shallowest one's by
    more than both spreads (max-min over seeds) and the residual net of the
    same depth trains better.
    """
    plain = sorted((r for r in rows if r["kind"] == "plain"), key=lambda r: r["blocks"])
    resid = {r["blocks"]: r for r in rows if r["kind"] == "residual"}
    if len(plain) < 2:
        return {"shown": False, "reason": "fewer than two depths"}
    shallow, deep = plain[0], plain[-1]
    spread = max(shallow["final_train_loss"]["max"] - shallow["final_train_loss"]["min"],
                 deep["final_train_loss"]["max"] - deep["final_train_loss"]["min"])
    gap = deep["final_train_loss"]["mean"] - shallow["final_train_loss"]["mean"]
    res = resid.get(deep["blocks"])
    residual_better = res is not None and (
        res["final_train_loss"]["mean"] < deep["final_train_loss"]["mean"])
    return {
        "shown": bool(gap > spread and gap > 0 and residual_better),
        "shallow_blocks": shallow["blocks"], "deep_blocks": deep["blocks"],
        "plain_loss_shallow": shallow["final_train_loss"]["mean"],
        "plain_loss_deep": deep["final_train_loss"]["mean"],
        "residual_loss_deep": res["final_train_loss"]["mean"] if res else None,
        "plain_acc_shallow": shallow["test_accuracy"]["mean"],
        "plain_acc_deep": deep["test_accuracy"]["mean"],
        "residual_acc_deep": res["test_accuracy"]["mean"] if res else None,
        "residual_acc_deep_min": res["test_accuracy"]["min"] if res else None,
        "residual_acc_deep_max": res["test_accuracy"]["max"] if res else None,
        "loss_gap": gap, "loss_spread": spread, "residual_better": residual_better,
    }


# --------------------------------------------------------------------------
# Tables and plots
# --------------------------------------------------------------------------
def curves_frame(records: list[dict]):
    """Long DataFrame: one row per (run, epoch, split, metric)."""
    import pandas as pd

    rows = []
    for r in records:
        for name, values in r["history"].items():
            split = "validation" if name.startswith("val_") else "entraînement"
            metric = name.removeprefix("val_")
            for epoch, value in enumerate(values, start=1):
                rows.append({"model": r["model"], "blocks": r["params"].get("blocks"),
                             "seed": r["seed"], "epoch": epoch, "split": split,
                             "metric": metric, "value": value})
    return pd.DataFrame(rows)


def runs_frame(records: list[dict]):
    """One row per run: final figures."""
    import pandas as pd

    return pd.DataFrame([{
        "key": r["key"], "model": r["model"], "blocks": r["params"].get("blocks"),
        "seed": r["seed"], "test_accuracy": r["test_accuracy"], "test_loss": r["test_loss"],
        "final_train_loss": r["history"]["loss"][-1],
        "final_train_accuracy": r["history"]["accuracy"][-1],
        "final_val_accuracy": r["history"]["val_accuracy"][-1],
        "n_params": r["n_params"], "train_seconds": r["train_seconds"],
        "epoch_seconds_median": float(np.median(r["epoch_seconds"])),
    } for r in records])


def _pyplot():
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    return plt, sns


def plot_comparison(records: list[dict], out_dir: Path) -> list[Path]:
    """Learning curves (band over runs) and final test accuracies (box + strip)."""
    plt, sns = _pyplot()
    out_dir = Path(out_dir)
    df = curves_frame(records)
    df["modèle"] = df["model"].map(MODEL_LABELS)
    df = df.rename(columns={"split": "données"})
    grid = sns.relplot(data=df, x="epoch", y="value", hue="modèle", style="données",
                       col="metric", kind="line", errorbar=("pi", 100), marker="o",
                       facet_kws={"sharey": False}, height=3.6, aspect=1.25)
    grid.set_axis_labels("époque", "")
    for ax, title in zip(grid.axes.flat, grid.col_names):
        ax.set_xticks(sorted(df["epoch"].unique()))
        ax.set_title({"loss": "perte (entropie croisée)", "accuracy": "exactitude"}[title])
    n = len({r["seed"] for r in records})
    grid.figure.suptitle(f"Courbes d'apprentissage : moyenne et étendue sur {n} entraînements",
                         y=1.03)
    curves = out_dir / "learning_curves.png"
    grid.savefig(curves, dpi=110, bbox_inches="tight")
    plt.close(grid.figure)

    runs = runs_frame(records)
    runs["modèle"] = runs["model"].map(MODEL_LABELS)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    order = [MODEL_LABELS[m] for m in MODELS if m in set(runs["model"])]
    with warnings.catch_warnings():  # seaborn 0.13 + matplotlib 3.11 "vert" notice
        warnings.simplefilter("ignore", DeprecationWarning)
        sns.boxplot(data=runs, x="modèle", y="test_accuracy", order=order, ax=ax,
                    color="white", width=0.45, showfliers=False)
    sns.stripplot(data=runs, x="modèle", y="test_accuracy", order=order, ax=ax,
                  hue="modèle", size=8, jitter=0.08, legend=False)
    ax.set_xlabel("")
    ax.set_ylabel("exactitude sur le jeu de test")
    ax.set_title(f"Exactitude finale, {n} entraînements par modèle")
    final = out_dir / "final_accuracy.png"
    fig.savefig(final, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return [curves, final]


def plot_depth(records: list[dict], out_dir: Path) -> Path:
    """Test accuracy and final training loss against depth, plain vs residual."""
    plt, sns = _pyplot()
    runs = runs_frame(records)
    runs["réseau"] = runs["model"].map(MODEL_LABELS)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, col, label in ((axes[0], "test_accuracy", "exactitude sur le test"),
                           (axes[1], "final_train_loss", "perte d'entraînement finale")):
        sns.lineplot(data=runs, x="blocks", y=col, hue="réseau", style="réseau",
                     markers=True, errorbar=("pi", 100), ax=ax)
        sns.stripplot(data=runs, x="blocks", y=col, hue="réseau", ax=ax, native_scale=True,
                      legend=False, alpha=0.5, size=4, jitter=0.15)
        ax.set_xlabel("nombre de blocs (2 convolutions chacun)")
        ax.set_ylabel(label)
        ax.set_xticks(sorted(runs["blocks"].unique()))
    fig.suptitle("Profondeur : réseaux sans et avec connexions résiduelles")
    path = Path(out_dir) / "depth.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _clean(obj):
    """JSON-safe copy: NaN/inf become None."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_comparison_outputs(records: list[dict], out_dir: Path) -> dict:
    """summary.json, summary.csv, runs.csv, curves.csv and the two PNGs."""
    import pandas as pd

    out_dir = Path(out_dir)
    summary = summarize_comparison(records)
    summary["interpretation_fr"] = interpret_comparison(_clean(summary))
    atomic_write_json(out_dir / "summary.json", _clean(summary))
    rows = []
    for m, s in summary["models"].items():
        t = s["test_accuracy"]
        rows.append({"model": m, "n": t["n"], "mean": t["mean"], "std": t["std"],
                     "ci95_low": t["ci_low"], "ci95_high": t["ci_high"],
                     "min": t["min"], "max": t["max"], "n_params": s["n_params"],
                     "epoch_seconds_median": s["epoch_seconds_median"]})
    pd.DataFrame(rows).to_csv(out_dir / "summary.csv", index=False)
    if "tests" in summary:
        pd.DataFrame([summary["tests"]]).to_csv(out_dir / "tests.csv", index=False)
    runs_frame(records).to_csv(out_dir / "runs.csv", index=False)
    curves_frame(records).to_csv(out_dir / "curves.csv", index=False)
    plot_comparison(records, out_dir)
    return summary


def write_depth_outputs(records: list[dict], out_dir: Path) -> dict:
    """summary.json, summary.csv, runs.csv and depth.png of the depth study."""
    import pandas as pd

    out_dir = Path(out_dir)
    summary = summarize_depth(records)
    summary["interpretation_fr"] = interpret_depth(_clean(summary))
    atomic_write_json(out_dir / "summary.json", _clean(summary))
    pd.DataFrame([{
        "kind": r["kind"], "blocks": r["blocks"], "conv_layers": r["conv_layers"],
        "n_runs": r["n_runs"], "n_params": r["n_params"],
        "test_accuracy_mean": r["test_accuracy"]["mean"],
        "test_accuracy_min": r["test_accuracy"]["min"],
        "test_accuracy_max": r["test_accuracy"]["max"],
        "final_train_loss_mean": r["final_train_loss"]["mean"],
        "final_train_loss_min": r["final_train_loss"]["min"],
        "final_train_loss_max": r["final_train_loss"]["max"],
        "epoch_seconds_median": r["epoch_seconds_median"],
    } for r in summary["rows"]]).to_csv(out_dir / "summary.csv", index=False)
    runs_frame(records).to_csv(out_dir / "runs.csv", index=False)
    plot_depth(records, out_dir)
    return summary


# --------------------------------------------------------------------------
# French interpretation (generated from the saved numbers)
# --------------------------------------------------------------------------
def pct(x) -> str:
    """0.8734 -> '87,34 %' (French decimal comma)."""
    return f"{100 * x:.2f}".replace(".", ",") + " %"


def pts(x) -> str:
    """0.0123 -> '1,23 point(s)': a difference of accuracies in percentage points."""
    return f"{100 * x:.2f}".replace(".", ",") + " point" + ("s" if abs(100 * x) >= 2 else "")


def num(x, digits: int = 2) -> str:
    """French decimal number."""
    return f"{x:.{digits}f}".replace(".", ",")


def blocs(n: int) -> str:
    """'1 bloc', '6 blocs'."""
    return f"{n} bloc" + ("s" if n > 1 else "")


def pval(p) -> str:
    """p-value in French: 'p = 0,031' or 'p < 0,001'."""
    return "p < 0,001" if p < 0.001 else "p = " + num(p, 3)


def interpret_comparison(summary: dict) -> str:
    """Short French interpretation of a comparison summary (numbers from it only).

    Args:
        summary: the content of ``comparison/summary.json``.

    Returns:
        French text, one paragraph per line.
    """
    models = summary.get("models", {})
    if not all(m in models for m in MODELS):
        return "Résultats incomplets : il faut au moins un entraînement de chaque modèle."
    cfg = summary.get("config") or {}
    r, c = models["resnet"], models["cnn"]
    ra, ca = r["test_accuracy"], c["test_accuracy"]
    n = min(ra["n"], ca["n"])
    lines = [
        f"Budget : {cfg.get('train_size')} images d'entraînement, {cfg.get('epochs')} "
        f"époque(s), {ra['n']} entraînements du ResNet et {ca['n']} du CNN classique "
        "(graines différentes, mêmes données).",
    ]
    for label, s in (("ResNet", ra), ("CNN classique", ca)):
        if s["std"] is None:
            lines.append(f"{label} : exactitude de test {pct(s['mean'])} (un seul entraînement).")
        else:
            lines.append(
                f"{label} : exactitude de test moyenne {pct(s['mean'])}, écart-type "
                f"{pts(s['std'])}, intervalle de confiance à 95 % "
                f"[{pct(s['ci_low'])} ; {pct(s['ci_high'])}].")
    if r["n_params"] == c["n_params"]:
        size = f"Les deux modèles ont le même nombre de paramètres ({r['n_params']})"
    else:
        size = (f"Nombre de paramètres : {r['n_params']} (ResNet) contre "
                f"{c['n_params']} (CNN)")
    ratio = max(r["epoch_seconds_median"], c["epoch_seconds_median"]) / max(
        min(r["epoch_seconds_median"], c["epoch_seconds_median"]), 1e-9)
    fair = ("la comparaison est équitable en taille et en coût"
            if r["n_params"] == c["n_params"] and ratio < 1.25 else
            "tenez compte de cette différence de taille ou de coût dans la comparaison")
    lines.append(
        f"{size} ; une époque prend {num(r['epoch_seconds_median'])} s (ResNet) contre "
        f"{num(c['epoch_seconds_median'])} s (CNN), temps médians mesurés pendant "
        f"l'expérience : {fair}.")
    t = summary.get("tests")
    if not t:
        lines.append("Il faut au moins deux entraînements par modèle pour mesurer la "
                     "dispersion et faire les tests : relancez l'expérience pour la compléter.")
        return "\n".join(lines)
    diff = t["mean_diff"]
    better = "le ResNet" if diff > 0 else "le CNN classique"
    lines.append(
        f"Écart moyen : {pts(abs(diff))} en faveur du {better.split(' ', 1)[1]} ; "
        f"test t de Welch {pval(t['welch_p'])}, test de Mann-Whitney {pval(t['mwu_p'])}, "
        f"taille d'effet g de Hedges = {num(t['hedges_g'])}, "
        f"corrélation rang-bisériale = {num(t['rank_biserial'])}."
        if diff != 0 else
        f"Écart moyen nul ; test t de Welch {pval(t['welch_p'])}, test de Mann-Whitney "
        f"{pval(t['mwu_p'])}.")
    spread = max(x for x in (ra["std"], ca["std"]) if x is not None) \
        if (ra["std"] is not None or ca["std"] is not None) else 0.0
    significant = t["welch_p"] < 0.05 and t["mwu_p"] < 0.05
    if significant:
        lines.append(
            f"Ce que les données soutiennent : avec ce budget, {better} obtient une "
            "meilleure exactitude de test, et l'écart dépasse la variabilité d'un "
            "entraînement à l'autre (les deux tests concluent au seuil de 5 %).")
    elif abs(diff) <= spread:
        lines.append(
            f"Ce que les données ne soutiennent pas : avec {n} entraînements par modèle, "
            f"l'écart ({pts(abs(diff))}) est plus petit que la dispersion d'un "
            f"entraînement à l'autre (écart-type jusqu'à {pts(spread)}) ; ce n'est pas "
            "une preuve qu'un modèle est meilleur.")
    else:
        lines.append(
            f"Ce que les données ne soutiennent pas : l'écart ({pts(abs(diff))}) dépasse "
            "l'écart-type, mais les tests ne concluent pas au seuil de 5 % avec "
            f"{n} entraînements par modèle ; ce n'est pas une preuve qu'un modèle est "
            "meilleur.")
    if not significant:
        lines.append(
            "Absence de preuve n'est pas preuve d'absence : ne concluez pas non plus que "
            "les deux modèles sont équivalents ; il faudrait davantage d'entraînements.")
    if t.get("mwu_min_p") is not None and t["mwu_min_p"] >= 0.05:
        lines.append(
            f"Avec si peu d'entraînements, le test de Mann-Whitney ne peut pas descendre "
            f"sous {pval(t['mwu_min_p'])} : il ne peut rien conclure.")
    lines.append(
        "Limites : un seul budget (sous-ensemble des données, peu d'époques) et des "
        "réseaux peu profonds ; les connexions résiduelles servent surtout à entraîner "
        "des réseaux profonds (voir l'étude de profondeur).")
    return "\n".join(lines)


def interpret_depth(summary: dict) -> str:
    """Short French interpretation of the depth study (numbers from it only)."""
    deg = summary.get("degradation") or {}
    cfg = summary.get("config") or {}
    if "deep_blocks" not in deg:
        return "Étude de profondeur incomplète : il faut au moins deux profondeurs."
    lines = [
        f"Budget : {cfg.get('train_size')} images d'entraînement, {cfg.get('epochs')} "
        f"époque(s), {cfg.get('width')} filtres par convolution.",
        f"Réseau sans connexion résiduelle : perte d'entraînement finale "
        f"{num(deg['plain_loss_shallow'], 3)} avec {blocs(deg['shallow_blocks'])}, "
        f"{num(deg['plain_loss_deep'], 3)} avec {blocs(deg['deep_blocks'])} ; exactitude de "
        f"test {pct(deg['plain_acc_shallow'])} puis {pct(deg['plain_acc_deep'])}.",
    ]
    if deg.get("residual_loss_deep") is not None:
        lines.append(
            f"Réseau résiduel à {blocs(deg['deep_blocks'])} : perte d'entraînement "
            f"{num(deg['residual_loss_deep'], 3)}, exactitude de test "
            f"{pct(deg['residual_acc_deep'])} (de {pct(deg['residual_acc_deep_min'])} à "
            f"{pct(deg['residual_acc_deep_max'])} selon la graine).")
    lines.append(
        "Avec un budget aussi court, l'exactitude de test dépend beaucoup de la graine ; "
        "c'est la perte d'entraînement qui renseigne sur la difficulté d'optimisation.")
    if deg["shown"]:
        lines.append(
            "Dégradation observée : le réseau profond sans connexion résiduelle s'entraîne "
            "moins bien (perte d'entraînement plus élevée) que le réseau peu profond, alors "
            "que le réseau résiduel de même profondeur s'entraîne mieux. Ce n'est pas du "
            "surapprentissage : c'est l'optimisation qui devient difficile, et les "
            "connexions résiduelles la facilitent.")
    else:
        lines.append(
            "Avec ce budget, la dégradation du réseau profond sans connexion résiduelle "
            f"n'apparaît pas nettement : {_why_not(deg)}. Ce n'est pas une preuve que les "
            "connexions résiduelles sont inutiles : la BatchNormalization, le faible nombre "
            "d'époques et le petit sous-ensemble atténuent l'effet, qui apparaît dans "
            "l'article original avec des réseaux bien plus profonds et des entraînements "
            "complets.")
    return "\n".join(lines)


def _why_not(deg: dict) -> str:
    """French reason why :func:`detect_degradation` did not call it shown."""
    if deg["loss_gap"] <= 0:
        return (f"le réseau à {blocs(deg['deep_blocks'])} n'a pas une perte d'entraînement "
                f"plus élevée que celui à {blocs(deg['shallow_blocks'])}")
    if deg["loss_gap"] <= deg["loss_spread"]:
        return (f"l'écart de perte d'entraînement ({num(deg['loss_gap'], 3)}) ne dépasse "
                f"pas la variabilité entre graines ({num(deg['loss_spread'], 3)})")
    return "le réseau résiduel de même profondeur ne s'entraîne pas mieux"


def show_summary(results_dir=None, display_images: bool = True) -> str:
    """Show the committed plots and print the French interpretation.

    Args:
        results_dir: root of the results (default: ``solutions/results``).
        display_images: display the PNGs (in IPython/Jupyter only).

    Returns:
        The printed French text.
    """
    root = Path(results_dir) if results_dir is not None else RESULTS_DIR
    parts = []
    images = []
    comp = root / "comparison" / "summary.json"
    depth = root / "depth" / "summary.json"
    if comp.is_file():
        parts.append("Comparaison ResNet / CNN classique\n"
                     + interpret_comparison(json.loads(comp.read_text())))
        images += [root / "comparison" / "learning_curves.png",
                   root / "comparison" / "final_accuracy.png"]
    if depth.is_file():
        parts.append("Étude de profondeur\n" + interpret_depth(json.loads(depth.read_text())))
        images.append(root / "depth" / "depth.png")
    if not parts:
        parts.append(f"Aucun résultat dans {root} : lancez d'abord "
                     "« python -m solutions.experiment ».")
    if display_images:
        try:
            from IPython import get_ipython
            from IPython.display import Image, display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            for image in images:
                if image.is_file():
                    display(Image(filename=str(image)))
    text = "\n\n".join(parts)
    print(text)
    return text


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
def versions() -> dict:
    """Versions of the libraries the figures depend on."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in ("tensorflow-cpu", "tensorflow", "keras", "numpy", "scipy",
                 "scikit-learn", "pandas", "seaborn", "matplotlib"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def machine() -> dict:
    """CPU count, platform and load averages (the machine may be shared)."""
    info = {"platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def _study(cfg: Config, out_dir: Path, writer, args, command: str) -> bool:
    out_dir.mkdir(parents=True, exist_ok=True)
    started = _dt.datetime.now(_dt.timezone.utc)
    machine_start = machine()
    if args.action == "report":
        report = RunReport()
    else:
        report = run_study(cfg, out_dir, max_runs=args.max_runs, progress=not args.no_progress)
    records = load_records(cfg, out_dir)
    total = len(plan_runs(cfg))
    print(f"[{cfg.study}] {len(report.trained)} run(s) trained now, "
          f"{len(records)}/{total} available in {out_dir}", file=sys.stderr)
    if not records:
        return False
    writer(records, out_dir)
    meta_path = out_dir / "metadata.json"
    try:
        previous = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        previous = {}
    if previous.get("config_hash") != cfg.digest():
        previous = {}
    sessions = previous.get("sessions", [])
    if report.trained:
        sessions.append({
            "command": command, "started": started.isoformat(timespec="seconds"),
            "ended": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(report.seconds, 1), "runs_trained": len(report.trained),
            "machine_start": machine_start, "machine_end": machine(),
        })
    atomic_write_json(meta_path, _clean({
        "study": cfg.study, "config": cfg.hashed(), "runs_per_model": cfg.runs,
        "config_hash": cfg.digest(), "runs_available": len(records), "runs_planned": total,
        "complete": len(records) == total, "versions": versions(),
        "sessions": sessions,
        "training_wall_seconds_total": round(sum(s["wall_seconds"] for s in sessions), 1),
        "sum_of_run_train_seconds": round(sum(r["train_seconds"] for r in records), 1),
        "note": "machine shared with other engineers' jobs; see loadavg",
    }))
    return len(records) == total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m solutions.experiment",
        description="ResNet vs plain CNN over several seeds, and a depth study.")
    parser.add_argument("action", nargs="?", default="all",
                        choices=("all", "compare", "depth", "report"))
    parser.add_argument("--quick", action="store_true",
                        help="tiny subset, 1 epoch, K=2, tiny depths (tests)")
    parser.add_argument("--runs", type=int, help="trainings per model (default 5)")
    parser.add_argument("--epochs", type=int, help="epochs per training")
    parser.add_argument("--depth-runs", type=int, help="seeds per depth (default 2)")
    parser.add_argument("--depth-epochs", type=int, help="epochs per depth-study training")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results root")
    parser.add_argument("--max-runs", type=int, help="stop after N new trainings per study")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    command = " ".join(["python -m solutions.experiment",
                        *(argv if argv is not None else sys.argv[1:])])
    ok = True
    if args.action in ("all", "compare", "report"):
        cfg = comparison_config(args.quick, args.runs, args.epochs)
        ok &= _study(cfg, args.out / "comparison", write_comparison_outputs, args, command)
    if args.action in ("all", "depth", "report"):
        cfg = depth_config(args.quick, args.depth_runs, args.depth_epochs)
        ok &= _study(cfg, args.out / "depth", write_depth_outputs, args, command)
    if args.action != "report" or ok:
        show_summary(args.out, display_images=False)
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
