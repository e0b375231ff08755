""""Pour aller plus loin": do residual connections matter? (issues 7 and 15)

A paired, powered comparison of the reference ResNet and plain CNN
(``solutions/resnet_a_la_main.py``) at two training budgets, and a depth study
of plain vs residual networks. Every training uses the kit's recipe
(``autograder/public/recipe.py``): Adam with a cosine-decayed learning rate, an
explicit seeded data order, and BatchNormalization statistics re-estimated on
2,048 training images before any evaluation (raw accuracies, with the moving
averages, are saved too).

Command line (from the repository root)::

    python -m solutions.experiment [all|compare|depth|report]
        [--quick] [--runs K] [--depth-runs K] [--out DIR] [--max-runs N]

* ``compare``: for each budget (about 300 and 1,500 optimizer steps), trains
  ``build_resnet`` and ``build_cnn`` with seeds 0..K-1. Seed i gives both
  models the same initial weights (same layer creation order) and the same
  data order: run i of each model forms a pair. Writes the per-run table, the
  paired analysis (mean paired difference with its 95 % t interval, Wilcoxon
  signed-rank test, minimum detectable effect at 80 % power) and the plots
  under ``DIR/comparison``.
* ``depth``: plain vs residual networks of 2, 8 and 16 blocks, width 16;
  training loss measured on a fixed training subset in inference mode after
  BN re-estimation, after every epoch; under ``DIR/depth``.
* ``all`` (default): both. ``report``: summaries and plots from the saved
  runs, without training.

Every run is written to its own JSON file as soon as it finishes (atomic
write), keyed by model, seed and a hash of the configuration: rerunning an
interrupted experiment trains only the missing runs. ``--max-runs N`` stops
after N new trainings (used to simulate an interruption).

In a notebook: ``from solutions.experiment import show_summary; show_summary()``
shows the committed plots, the paired analysis table and a French
interpretation computed from the saved numbers.
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
SCHEMA = 2
MODELS = ("resnet", "cnn")
KINDS = ("plain", "residual")
MODEL_LABELS = {"resnet": "ResNet", "cnn": "CNN classique",
                "plain": "sans connexion résiduelle", "residual": "résiduel"}
BUDGET_LABELS = {"short": "budget court", "main": "budget principal"}
#: power and level of the minimum detectable effect
POWER, ALPHA = 0.8, 0.05
#: seeds per point needed before the depth study may claim a degradation
MIN_SEEDS = 3


# --------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------
@dataclass
class Config:
    """Budget and data of one set of runs; every field but ``runs`` enters the hash.

    Args:
        study: ``"comparison"`` or ``"depth"``.
        budget: name of the budget (``"short"``, ``"main"``, ``"depth"``).
        runs: number of trainings (seeds) per model or per (kind, depth).
        epochs: training epochs per run.
        train_size: images of the fixed training subset (taken from the 80 %
            training split).
        val_size: images of the fixed validation subset (from the 20 % split;
            0: no validation curve).
        test_size: images of the test set used once, at the end of each run
            (``None``: all 10,000).
        batch_size: minibatch size.
        learning_rate: peak learning rate of the cosine schedule (Adam).
        data_seed: seed of the 80/20 split (same for all runs).
        seed0: first training seed; run i uses ``seed0 + i`` for the initial
            weights and for the data order.
        bn_images: training images of each BN re-estimation pass.
        train_eval_size: first training images evaluated after every epoch
            in inference mode (training loss curves; 0: none).
        depths: residual/plain block counts (depth study only).
        width: filters of every convolution (depth study only).
    """

    study: str = "comparison"
    budget: str = "main"
    runs: int = 10
    epochs: int = 4
    train_size: int = 12000
    val_size: int = 2000
    test_size: int | None = None
    batch_size: int = 32
    learning_rate: float = 4e-3
    data_seed: int = 0
    seed0: int = 0
    bn_images: int = 2048
    train_eval_size: int = 0
    depths: tuple = ()
    width: int = 0

    @property
    def steps(self) -> int:
        """Optimizer steps of one run."""
        return self.epochs * math.ceil(self.train_size / self.batch_size)

    def hashed(self) -> dict:
        """Fields that define a run (everything except the number of runs)."""
        data = dataclasses.asdict(self)
        data.pop("runs")
        data["depths"] = list(self.depths)
        data["schema"] = SCHEMA
        return data

    def digest(self) -> str:
        """Short, stable hash of :meth:`hashed`."""
        text = json.dumps(self.hashed(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


def comparison_configs(quick: bool = False, runs=None) -> list[Config]:
    """The two budgets of the ResNet vs CNN comparison (main first, then short).

    Default: about 300 steps (2,400 images, 4 epochs) and 1,500 steps (12,000
    images, 4 epochs), batch 32, peak learning rate 4e-3, K = 10 pairs.
    ``quick``: tiny subsets, 2 pairs (tests).
    """
    if quick:
        cfgs = [Config("comparison", "main", runs=2, epochs=2, train_size=128, val_size=64,
                       test_size=128, batch_size=32, bn_images=128),
                Config("comparison", "short", runs=2, epochs=1, train_size=128, val_size=64,
                       test_size=128, batch_size=32, bn_images=128)]
    else:
        cfgs = [Config("comparison", "main", runs=10, epochs=4, train_size=12000),
                Config("comparison", "short", runs=10, epochs=4, train_size=2400)]
    for cfg in cfgs:
        if runs is not None:
            cfg.runs = runs
    return cfgs


def depth_config(quick: bool = False, runs=None) -> Config:
    """Default (or ``--quick``) budget of the depth study.

    Default: width 16; 2, 8 and 16 blocks; 3 seeds; 1,000 steps (4,000 images,
    8 epochs, batch 32); training loss on the first 1,024 training images.
    """
    if quick:
        cfg = Config("depth", "depth", runs=1, epochs=1, train_size=128, val_size=0,
                     test_size=128, batch_size=32, bn_images=128, train_eval_size=64,
                     depths=(1, 2), width=4)
    else:
        cfg = Config("depth", "depth", runs=3, epochs=8, train_size=4000, val_size=0,
                     test_size=2000, batch_size=32, bn_images=2048, train_eval_size=1024,
                     depths=(2, 8, 16), width=16)
    if runs is not None:
        cfg.runs = runs
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
        cfg: the configuration.

    Returns:
        dict with ``x_train, y_train, x_val, y_val, x_test, y_test``
        (float32 images of shape (n, 28, 28, 1), uint8 labels).
    """
    key = (cfg.data_seed, cfg.train_size, cfg.val_size, cfg.test_size)
    if key in _DATA_CACHE:
        return _DATA_CACHE[key]
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from autograder.public.data import load_fashion_mnist

    (x_full, y_full), (x_test, y_test) = load_fashion_mnist()
    x_train, x_val, y_train, y_val = train_test_split(
        x_full, y_full, train_size=0.8, random_state=cfg.data_seed)
    scaler = StandardScaler()
    scaler.fit(x_train.astype(np.float32).reshape(-1, 28 * 28))

    def prep(x):
        if not len(x):
            return np.zeros((0, 28, 28, 1), np.float32)
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
def build_deep(kind: str, blocks: int, width: int = 16, input_shape=(28, 28, 1),
               num_classes: int = 10):
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


def plan_runs(cfgs) -> list[RunSpec]:
    """Every run of one or several configurations, in training order.

    Seeds are interleaved across models, so that an interrupted study leaves
    complete pairs behind.
    """
    cfgs = [cfgs] if isinstance(cfgs, Config) else list(cfgs)
    specs = []
    for cfg in cfgs:
        seeds = [cfg.seed0 + i for i in range(cfg.runs)]
        if cfg.study == "depth":
            specs += [RunSpec(kind, s, cfg, {"blocks": d}) for s in seeds
                      for d in cfg.depths for kind in KINDS]
        else:
            specs += [RunSpec(m, s, cfg) for s in seeds for m in MODELS]
    return specs


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


def weights_digest(model) -> str:
    """sha256 (16 hex digits) of a model's weights, in creation order."""
    h = hashlib.sha256()
    for w in model.weights:
        h.update(np.ascontiguousarray(w.numpy(), dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


def train_one(spec: RunSpec, data: dict, on_epoch: Callable | None = None) -> dict:
    """Train one model with the kit's recipe and return its record.

    The test set is evaluated once, at the end: with the moving averages
    (``test_accuracy_raw``) and after BN re-estimation (``test_accuracy``).

    Args:
        spec: the run.
        data: arrays from :func:`load_data`.
        on_epoch: called with no argument after every epoch (progress bar).

    Returns:
        JSON-serialisable dict.
    """
    import logging

    from tensorflow import keras

    from autograder.public import recipe

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices
    cfg = spec.cfg
    keras.backend.clear_session()
    keras.utils.set_random_seed(spec.seed)
    model = spec.build()
    init = weights_digest(model)
    order = recipe.data_order(len(data["x_train"]), cfg.epochs, spec.seed)
    validation = (data["x_val"], data["y_val"]) if cfg.val_size else None
    train_eval = ((data["x_train"][:cfg.train_eval_size], data["y_train"][:cfg.train_eval_size])
                  if cfg.train_eval_size else None)
    hist = recipe.train(model, data["x_train"], data["y_train"], epochs=cfg.epochs,
                        batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
                        seed=spec.seed, validation=validation, train_eval=train_eval,
                        bn_images=cfg.bn_images, reestimate_at_end=False,
                        on_epoch=(lambda *_: on_epoch()) if on_epoch else None)
    test = recipe.evaluate_both(model, data["x_test"], data["y_test"], data["x_train"],
                                cfg.bn_images, spec.seed, keep=True)
    return {
        "schema": SCHEMA, "key": spec.key, "study": cfg.study, "budget": cfg.budget,
        "model": spec.model, "seed": spec.seed, "params": spec.params,
        "config": cfg.hashed(), "config_hash": cfg.digest(),
        "history": hist.history, "steps": hist.steps,
        "test_accuracy": test["accuracy"], "test_loss": test["loss"],
        "test_accuracy_raw": test["raw_accuracy"], "test_loss_raw": test["raw_loss"],
        "init_digest": init,
        "order_digest": hashlib.sha256(order.astype(np.int64).tobytes()).hexdigest()[:16],
        "n_params": int(model.count_params()),
        "n_trainable": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "epoch_seconds": hist.epoch_seconds, "train_seconds": hist.seconds,
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


def run_study(cfgs, out_dir: Path, max_runs: int | None = None,
              progress: bool = True, shard: tuple[int, int] = (0, 1)) -> RunReport:
    """Train every missing run of ``cfgs``; save each to ``out_dir/runs/<key>.json``.

    Args:
        cfgs: a configuration or a list of them (one per budget).
        out_dir: study directory (``.../comparison`` or ``.../depth``).
        max_runs: stop after this many new trainings (None: all).
        progress: show a tqdm progress bar (epochs, with ETA) on stderr.
        shard: ``(i, n)``: train only the runs whose seed is ``i`` modulo ``n``
            (pairs stay together), so that ``n`` processes can share a study.
            A run finished by another process meanwhile is not retrained.

    Returns:
        A :class:`RunReport`.
    """
    out_dir = Path(out_dir)
    runs_dir = out_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    report = RunReport()
    todo = []
    index, count = shard
    for spec in plan_runs(cfgs):
        record = read_run(runs_dir / f"{spec.key}.json", spec)
        if record is None:
            if spec.seed % count == index:
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

        bar = tqdm(total=sum(s.cfg.epochs for s in todo), unit="epoch", disable=not progress,
                   desc=f"{todo[0].cfg.study} ({len(todo)} runs)", file=sys.stderr)
        try:
            for spec in todo:
                done = read_run(runs_dir / f"{spec.key}.json", spec)
                if done is not None:  # finished by another process meanwhile
                    report.skipped.append(spec.key)
                    report.records.append(done)
                    bar.update(spec.cfg.epochs)
                    continue
                bar.set_postfix_str(spec.key.rsplit("-", 1)[0] + f" {spec.cfg.budget}")
                record = train_one(spec, load_data(spec.cfg), on_epoch=lambda: bar.update(1))
                atomic_write_json(runs_dir / f"{spec.key}.json", record)
                report.trained.append(spec.key)
                report.records.append(record)
        finally:
            bar.close()
    report.seconds = time.perf_counter() - t0
    return report


def load_records(cfgs, out_dir: Path) -> list[dict]:
    """Finished records of ``cfgs`` found under ``out_dir/runs`` (plan order)."""
    runs_dir = Path(out_dir) / "runs"
    records = []
    for spec in plan_runs(cfgs):
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


def minimum_detectable_effect(sd: float, n: int, power: float = POWER,
                              alpha: float = ALPHA) -> float:
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
        return float(optimize.brentq(lambda e: paired_t_power(e, sd, n, alpha) - power,
                                     0.0, high, xtol=1e-12 * sd))
    except ValueError:
        return math.nan


def paired_analysis(a, b, confidence: float = 0.95, power: float = POWER,
                    alpha: float = ALPHA) -> dict:
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
    out = {"n": n, "mean_diff": desc["mean"], "sd_diff": desc["std"], "sem_diff": desc["sem"],
           "ci_low": desc["ci_low"], "ci_high": desc["ci_high"], "confidence": confidence,
           "df": n - 1, "power": power, "alpha": alpha,
           "n_positive": int((d > 0).sum()), "n_negative": int((d < 0).sum())}
    if desc["std"] == 0:
        same = desc["mean"] == 0
        out.update(t=0.0 if same else math.copysign(math.inf, desc["mean"]),
                   t_p=1.0 if same else 0.0)
    else:
        res = stats.ttest_rel(a, b)
        out.update(t=float(res.statistic), t_p=float(res.pvalue))
    if np.all(d == 0):
        out.update(wilcoxon_w=0.0, wilcoxon_p=1.0)
    else:
        w = stats.wilcoxon(a, b)
        out.update(wilcoxon_w=float(w.statistic), wilcoxon_p=float(w.pvalue))
    out["correlation"] = (float(stats.pearsonr(a, b).statistic)
                          if np.ptp(a) > 0 and np.ptp(b) > 0 else math.nan)
    out["mde"] = minimum_detectable_effect(desc["std"], n, power, alpha)
    return out


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
        if "val_accuracy" in recs[0]["history"] else None,
        "n_params": recs[0]["n_params"], "n_trainable": recs[0]["n_trainable"],
        "epoch_seconds_median": float(np.median(epoch_s)),
        "train_seconds_median": float(np.median([r["train_seconds"] for r in recs])),
    }


def summarize_budget(records: list[dict]) -> dict:
    """Per-model statistics and the paired ResNet − CNN analysis of one budget."""
    by_model = {m: [r for r in records if r["model"] == m] for m in MODELS}
    first = records[0]
    cfg = first["config"]
    out = {"budget": first.get("budget"), "config": cfg, "steps": first["steps"],
           "models": {m: _model_summary(recs) for m, recs in by_model.items() if recs}}
    res = {r["seed"]: r for r in by_model["resnet"]}
    cnn = {r["seed"]: r for r in by_model["cnn"]}
    seeds = sorted(set(res) & set(cnn))
    out["pairs"] = [{
        "seed": s, "resnet": res[s]["test_accuracy"], "cnn": cnn[s]["test_accuracy"],
        "diff": res[s]["test_accuracy"] - cnn[s]["test_accuracy"],
        "resnet_raw": res[s]["test_accuracy_raw"], "cnn_raw": cnn[s]["test_accuracy_raw"],
        "same_init": res[s]["init_digest"] == cnn[s]["init_digest"],
        "same_order": res[s]["order_digest"] == cnn[s]["order_digest"],
    } for s in seeds]
    if len(seeds) >= 2:
        a = [p["resnet"] for p in out["pairs"]]
        b = [p["cnn"] for p in out["pairs"]]
        out["paired"] = paired_analysis(a, b)
        out["paired_raw"] = paired_analysis([p["resnet_raw"] for p in out["pairs"]],
                                            [p["cnn_raw"] for p in out["pairs"]])
        out["unpaired"] = compare_samples(a, b)
    return out


def summarize_comparison(records: list[dict]) -> dict:
    """Summary of every budget found in ``records`` (see :func:`summarize_budget`)."""
    budgets = {}
    for name in ("short", "main"):
        recs = [r for r in records if r.get("budget") == name]
        if recs:
            budgets[name] = summarize_budget(recs)
    return {"budgets": budgets, "primary": "main" if "main" in budgets else next(iter(budgets), None)}


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
        rows.append({
            "kind": kind, "blocks": blocks, "conv_layers": 2 * blocks + 1,
            "n_runs": len(recs), "n_params": recs[0]["n_params"],
            "seeds": [r["seed"] for r in recs],
            "final_train_losses": final,
            "final_train_loss": describe(final),
            "test_accuracy": describe([r["test_accuracy"] for r in recs]),
            "test_accuracy_raw": describe([r["test_accuracy_raw"] for r in recs]),
            "loss_curve_mean": np.mean([r["history"]["train_eval_loss"] for r in recs],
                                       axis=0).tolist(),
            "steps": recs[0]["history"]["step"],
            "epoch_seconds_median": float(np.median(
                [s for r in recs for s in (r["epoch_seconds"][1:] or r["epoch_seconds"])])),
        })
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
        "shown": bool(shown), "slower": bool(not shown and bool(above)),
        "epochs_above": above,
        "shallow_blocks": shallow["blocks"], "deep_blocks": deep["blocks"],
        "plain_loss_shallow": float(np.mean(s_final)), "plain_loss_deep": float(np.mean(d_final)),
        "plain_loss_shallow_min": min(s_final), "plain_loss_shallow_max": max(s_final),
        "plain_loss_deep_min": min(d_final), "plain_loss_deep_max": max(d_final),
        "plain_acc_shallow": shallow["test_accuracy"]["mean"],
        "plain_acc_deep": deep["test_accuracy"]["mean"],
        "n_seeds": n_seeds, "min_seeds": MIN_SEEDS,
    }
    if res is not None:
        r_final = res["final_train_losses"]
        out.update(residual_loss_deep=float(np.mean(r_final)),
                   residual_loss_deep_min=min(r_final), residual_loss_deep_max=max(r_final),
                   residual_acc_deep=res["test_accuracy"]["mean"],
                   residual_below_plain=bool(max(r_final) < min(d_final)),
                   residual_above_plain=bool(min(r_final) > max(d_final)))
    return out


# --------------------------------------------------------------------------
# Tables and plots
# --------------------------------------------------------------------------
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
                rows.append({"budget": r.get("budget"), "model": r["model"],
                             "blocks": r["params"].get("blocks"), "seed": r["seed"],
                             "epoch": epoch, "step": hist["step"][epoch - 1],
                             "metric": name, "value": value})
    return pd.DataFrame(rows)


def runs_frame(records: list[dict]):
    """One row per run: final figures, raw and re-estimated test accuracy."""
    import pandas as pd

    return pd.DataFrame([{
        "key": r["key"], "budget": r.get("budget"), "steps": r["steps"], "model": r["model"],
        "blocks": r["params"].get("blocks"), "seed": r["seed"],
        "test_accuracy": r["test_accuracy"], "test_accuracy_raw": r["test_accuracy_raw"],
        "test_loss": r["test_loss"], "test_loss_raw": r["test_loss_raw"],
        "final_train_loss": r["history"]["loss"][-1],
        "final_train_eval_loss": (r["history"].get("train_eval_loss") or [math.nan])[-1],
        "final_val_accuracy": (r["history"].get("val_accuracy") or [math.nan])[-1],
        "final_val_accuracy_raw": (r["history"].get("val_accuracy_raw") or [math.nan])[-1],
        "init_digest": r["init_digest"], "order_digest": r["order_digest"],
        "n_params": r["n_params"], "train_seconds": r["train_seconds"],
        "epoch_seconds_median": float(np.median(r["epoch_seconds"])),
    } for r in records])


def paired_frame(summary: dict):
    """The paired analysis table: one row per budget (ResNet − CNN, test accuracy)."""
    import pandas as pd

    rows = []
    for name, b in summary["budgets"].items():
        if "paired" not in b:
            continue
        for what, p in (("re-estimated", b["paired"]), ("raw", b["paired_raw"])):
            rows.append({
                "budget": name, "steps": b["steps"], "bn_statistics": what, "pairs": p["n"],
                "resnet_mean": float(np.mean([x["resnet" if what != "raw" else "resnet_raw"]
                                              for x in b["pairs"]])),
                "cnn_mean": float(np.mean([x["cnn" if what != "raw" else "cnn_raw"]
                                           for x in b["pairs"]])),
                "mean_diff": p["mean_diff"], "ci95_low": p["ci_low"], "ci95_high": p["ci_high"],
                "sd_diff": p["sd_diff"], "paired_t": p["t"], "paired_t_p": p["t_p"],
                "wilcoxon_w": p["wilcoxon_w"], "wilcoxon_p": p["wilcoxon_p"],
                "correlation": p["correlation"], "mde_80": p["mde"],
                "same_init_pairs": sum(x["same_init"] for x in b["pairs"]),
                "same_order_pairs": sum(x["same_order"] for x in b["pairs"]),
            })
    return pd.DataFrame(rows)


def _pyplot():
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    return plt, sns


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
            {"val_accuracy": "ré-estimées", "val_accuracy_raw": "moyennes mobiles"})
        sns.lineplot(data=acc, x="step", y="value", hue="modèle", style="statistiques BN",
                     errorbar=("pi", 100), marker="o", ax=row[0])
        row[0].set(xlabel="pas d'optimisation", ylabel="exactitude (validation)",
                   title=f"{BUDGET_LABELS[name]} : validation (bande = étendue)")
        loss = sub[sub["metric"] == "loss"]
        sns.lineplot(data=loss, x="step", y="value", hue="modèle", errorbar=("pi", 100),
                     marker="o", ax=row[1])
        row[1].set(xlabel="pas d'optimisation", ylabel="perte d'entraînement",
                   title=f"{BUDGET_LABELS[name]} : entraînement")
    fig.tight_layout()
    curves = out_dir / "learning_curves.png"
    fig.savefig(curves, dpi=100, bbox_inches="tight")
    plt.close(fig)

    runs = runs_frame(records)
    long = runs.melt(id_vars=["budget", "model", "seed"],
                     value_vars=["test_accuracy_raw", "test_accuracy"],
                     var_name="mesure", value_name="exactitude")
    long["mesure"] = long["mesure"].map({"test_accuracy_raw": "moyennes mobiles",
                                         "test_accuracy": "BN ré-estimée"})
    long["modèle"] = long["model"].map(MODEL_LABELS) + " — " + long["budget"].map(BUDGET_LABELS)
    fig, ax = plt.subplots(figsize=(9, 4))
    sns.stripplot(data=long, x="modèle", y="exactitude", hue="mesure", dodge=True, size=6,
                  jitter=0.12, ax=ax)
    ax.set(xlabel="", ylabel="exactitude sur le jeu de test",
           title="Une graine = un point : avant et après ré-estimation des statistiques BN")
    ax.tick_params(axis="x", labelsize=8)
    final = out_dir / "final_accuracy.png"
    fig.savefig(final, dpi=100, bbox_inches="tight")
    plt.close(fig)

    pairs = [{"budget": BUDGET_LABELS[n], "seed": p["seed"], "diff": 100 * p["diff"]}
             for n in budgets for p in summary["budgets"][n]["pairs"]]
    import pandas as pd

    pdf = pd.DataFrame(pairs)
    fig, ax = plt.subplots(figsize=(7, 4))
    if len(pdf):
        sns.stripplot(data=pdf, x="budget", y="diff", size=7, jitter=0.1, ax=ax, color="0.4")
        for i, n in enumerate(budgets):
            p = summary["budgets"][n].get("paired")
            if p:
                ax.errorbar([i + 0.25], [100 * p["mean_diff"]],
                            yerr=[[100 * (p["mean_diff"] - p["ci_low"])],
                                  [100 * (p["ci_high"] - p["mean_diff"])]],
                            fmt="D", color="C3", capsize=6, label="moyenne et IC à 95 %" if i == 0 else None)
    ax.axhline(0, color="black", lw=1)
    ax.set(xlabel="", ylabel="ResNet − CNN (points d'exactitude)",
           title="Différences appariées (même graine : mêmes poids initiaux, mêmes lots)")
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
    fig, axes = plt.subplots(1, len(depths), figsize=(4.2 * len(depths), 3.8),
                             sharey=True, squeeze=False)
    for ax, d in zip(axes[0], depths):
        sub = df[df["blocks"] == d]
        sns.lineplot(data=sub, x="step", y="value", hue="réseau", units="seed", estimator=None,
                     marker="o", ax=ax, hue_order=[MODEL_LABELS[k] for k in KINDS])
        ax.set(xlabel="pas d'optimisation", ylabel="perte d'entraînement (sous-ensemble fixe)",
               title=f"{blocs(int(d))} ({2 * int(d) + 1} convolutions)", yscale="log")
    fig.suptitle("Profondeur : perte mesurée en inférence après ré-estimation BN, une ligne par graine",
                 y=1.02)
    fig.tight_layout()
    path = Path(out_dir) / "depth.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _clean(obj):
    """JSON-safe copy: NaN/inf become None."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_comparison_outputs(records: list[dict], out_dir: Path) -> dict:
    """summary.json, paired.csv, runs.csv, curves.csv and the three PNGs."""
    import pandas as pd

    out_dir = Path(out_dir)
    summary = summarize_comparison(records)
    summary["interpretation_fr"] = interpret_comparison(_clean(summary))
    atomic_write_json(out_dir / "summary.json", _clean(summary))
    rows = []
    for name, b in summary["budgets"].items():
        for m, s in b["models"].items():
            t, raw = s["test_accuracy"], s["test_accuracy_raw"]
            rows.append({"budget": name, "steps": b["steps"], "model": m, "n": t["n"],
                         "mean": t["mean"], "std": t["std"], "ci95_low": t["ci_low"],
                         "ci95_high": t["ci_high"], "min": t["min"], "max": t["max"],
                         "raw_mean": raw["mean"], "raw_std": raw["std"],
                         "n_params": s["n_params"],
                         "train_seconds_median": s["train_seconds_median"]})
    pd.DataFrame(rows).to_csv(out_dir / "summary.csv", index=False)
    paired_frame(summary).to_csv(out_dir / "paired.csv", index=False)
    runs_frame(records).to_csv(out_dir / "runs.csv", index=False)
    curves_frame(records).to_csv(out_dir / "curves.csv", index=False)
    for stale in ("tests.csv",):  # written by the unpaired analysis of issue 7
        (out_dir / stale).unlink(missing_ok=True)
    plot_comparison(records, summary, out_dir)
    return summary


def write_depth_outputs(records: list[dict], out_dir: Path) -> dict:
    """summary.json, summary.csv, runs.csv, curves.csv and depth.png of the depth study."""
    import pandas as pd

    out_dir = Path(out_dir)
    summary = summarize_depth(records)
    summary["interpretation_fr"] = interpret_depth(_clean(summary))
    atomic_write_json(out_dir / "summary.json", _clean(summary))
    pd.DataFrame([{
        "kind": r["kind"], "blocks": r["blocks"], "conv_layers": r["conv_layers"],
        "n_runs": r["n_runs"], "n_params": r["n_params"],
        "final_train_loss_mean": r["final_train_loss"]["mean"],
        "final_train_loss_min": r["final_train_loss"]["min"],
        "final_train_loss_max": r["final_train_loss"]["max"],
        "test_accuracy_mean": r["test_accuracy"]["mean"],
        "test_accuracy_min": r["test_accuracy"]["min"],
        "test_accuracy_max": r["test_accuracy"]["max"],
        "test_accuracy_raw_mean": r["test_accuracy_raw"]["mean"],
        "epoch_seconds_median": r["epoch_seconds_median"],
    } for r in summary["rows"]]).to_csv(out_dir / "summary.csv", index=False)
    runs_frame(records).to_csv(out_dir / "runs.csv", index=False)
    curves_frame(records).to_csv(out_dir / "curves.csv", index=False)
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


def spts(x) -> str:
    """Signed difference in points: '+1,23' or '-0,40'."""
    return ("+" if x >= 0 else "-") + f"{abs(100 * x):.2f}".replace(".", ",")


def spts_unit(x) -> str:
    """Signed difference with its unit: '+1,23 point', '-2,40 points'."""
    return spts(x) + " point" + ("s" if abs(100 * x) >= 2 else "")


def num(x, digits: int = 2) -> str:
    """French decimal number."""
    return f"{x:.{digits}f}".replace(".", ",")


def plural(n: int, word: str) -> str:
    """'1 époque', '4 époques'."""
    return f"{n} {word}" + ("s" if n > 1 else "")


def blocs(n: int) -> str:
    """'1 bloc', '6 blocs'."""
    return plural(n, "bloc")


def rate(x: float) -> str:
    """A learning rate in French notation: 0.004 -> '0,004'."""
    return f"{x:g}".replace(".", ",")


def pval(p) -> str:
    """p-value in French: 'p = 0,031' or 'p < 0,001'."""
    return "p < 0,001" if p < 0.001 else "p = " + num(p, 3)


def _budget_line(name: str, b: dict) -> str:
    cfg = b["config"]
    return (f"{BUDGET_LABELS.get(name, name).capitalize()} : {b['steps']} pas d'optimisation "
            f"({cfg['train_size']} images d'entraînement, {plural(cfg['epochs'], 'époque')}, "
            f"lots de {cfg['batch_size']}, Adam avec un taux d'apprentissage en cosinus partant "
            f"de {rate(cfg['learning_rate'])}), {plural(len(b['pairs']), 'paire')} "
            "d'entraînements.")


def interpret_budget(name: str, b: dict) -> list[str]:
    """French lines for one budget: accuracies, BN artefact, paired analysis."""
    models = b["models"]
    lines = [_budget_line(name, b)]
    for m in MODELS:
        if m not in models:
            continue
        s, raw = models[m]["test_accuracy"], models[m]["test_accuracy_raw"]
        spread = "" if s["std"] is None else f" (écart-type {pts(s['std'])})"
        lines.append(
            f"{MODEL_LABELS[m]} : exactitude de test moyenne {pct(s['mean'])}{spread} après "
            f"ré-estimation des statistiques de BatchNormalization, {pct(raw['mean'])} avec "
            "les moyennes mobiles.")
    p = b.get("paired")
    if not p:
        lines.append("Il faut au moins deux paires d'entraînements pour l'analyse appariée : "
                     "relancez l'expérience pour la compléter.")
        return lines
    same = sum(x["same_init"] and x["same_order"] for x in b["pairs"])
    lines.append(
        f"Différence appariée ResNet − CNN (même graine : {same} paires sur {p['n']} ont les "
        f"mêmes poids initiaux et les mêmes lots) : {spts_unit(p['mean_diff'])} en moyenne, "
        f"intervalle de confiance à 95 % [{spts(p['ci_low'])} ; {spts(p['ci_high'])}] points "
        f"(t apparié, {pval(p['t_p'])}) ; test des rangs signés de Wilcoxon {pval(p['wilcoxon_p'])}.")
    mde = pts(p["mde"]) if p["mde"] is not None else "impossible à calculer avec si peu de paires"
    if p["mde"] is not None:
        lines.append(
            f"Puissance : avec {p['n']} paires et un écart-type des différences de "
            f"{pts(p['sd_diff'])}, le plus petit effet que ce plan détecte 8 fois sur 10 (t apparié "
            f"bilatéral au seuil de 5 %) est de {pts(p['mde'])}.")
    excludes = p["ci_low"] > 0 or p["ci_high"] < 0
    if excludes:
        better = "du ResNet" if p["mean_diff"] > 0 else "du CNN classique"
        agree = p["wilcoxon_p"] < 0.05
        lines.append(
            f"Ce que les données soutiennent : avec ce budget, l'écart est en faveur {better} ; "
            "l'intervalle de confiance exclut 0"
            + (" et le test de Wilcoxon va dans le même sens." if agree else
               ", mais le test de Wilcoxon ne conclut pas au seuil de 5 % : résultat fragile."))
    else:
        lines.append(
            "Ce que les données ne soutiennent pas : l'intervalle de confiance contient 0, "
            "donc aucune différence n'est démontrée ; et comme un effet réel plus petit que "
            f"l'effet minimal détectable ({mde}) passerait probablement inaperçu, on ne peut pas "
            "non plus conclure que les deux modèles sont équivalents.")
    return lines


def interpret_comparison(summary: dict) -> str:
    """French interpretation of a comparison summary (numbers from it only).

    Args:
        summary: the content of ``comparison/summary.json``.

    Returns:
        French text, one paragraph per line.
    """
    budgets = summary.get("budgets") or {}
    if not budgets:
        return "Résultats incomplets : aucun entraînement terminé."
    lines = []
    for name in ("main", "short"):
        if name in budgets:
            lines += interpret_budget(name, budgets[name])
    gaps = []
    for name in ("main", "short"):
        models = budgets.get(name, {}).get("models", {})
        if all(m in models for m in MODELS):
            gap = {m: models[m]["test_accuracy"]["mean"] - models[m]["test_accuracy_raw"]["mean"]
                   for m in MODELS}
            gaps.append(f"{spts_unit(gap['resnet'])} (ResNet) et {spts_unit(gap['cnn'])} (CNN) "
                        f"au {BUDGET_LABELS[name]}")
            params = (models["resnet"]["n_params"], models["cnn"]["n_params"])
    if gaps:
        lines.append(
            f"Les deux modèles ont {params[0]} et {params[1]} paramètres et le même coût par "
            "image. Ré-estimer les statistiques BN avant l'évaluation change l'exactitude de "
            "test moyenne de " + ", et de ".join(gaps) + " : après peu de pas, les moyennes "
            "mobiles sont en retard sur les poids.")
    lines.append(
        "Limites : deux budgets courts sur un sous-ensemble des données et des réseaux de deux "
        "blocs seulement ; les connexions résiduelles servent surtout à entraîner des réseaux "
        "profonds (voir l'étude de profondeur).")
    return "\n".join(lines)


def interpret_depth(summary: dict) -> str:
    """French interpretation of the depth study (numbers from it only).

    Claims a degradation only when every seed of the deepest plain net ends
    above every seed of the shallowest one (:func:`detect_degradation`).
    """
    deg = summary.get("degradation") or {}
    cfg = summary.get("config") or {}
    if "deep_blocks" not in deg:
        return "Étude de profondeur incomplète : il faut au moins deux profondeurs."
    sb, db = deg["shallow_blocks"], deg["deep_blocks"]
    lines = [
        f"Budget : {cfg.get('train_size')} images d'entraînement, "
        f"{plural(cfg.get('epochs'), 'époque')}, lots de {cfg.get('batch_size')}, "
        f"{cfg.get('width')} filtres par convolution, {plural(deg['n_seeds'], 'graine')} "
        "par point. La perte d'entraînement est mesurée après chaque "
        f"époque sur les {cfg.get('train_eval_size')} premières images d'entraînement, en mode "
        "inférence, après ré-estimation des statistiques de BatchNormalization.",
        f"Réseau sans connexion résiduelle : perte d'entraînement finale de "
        f"{num(deg['plain_loss_shallow_min'], 3)} à {num(deg['plain_loss_shallow_max'], 3)} avec "
        f"{blocs(sb)}, de {num(deg['plain_loss_deep_min'], 3)} à "
        f"{num(deg['plain_loss_deep_max'], 3)} avec {blocs(db)} (selon la graine) ; exactitude de "
        f"test moyenne {pct(deg['plain_acc_shallow'])} puis {pct(deg['plain_acc_deep'])}.",
    ]
    if deg.get("residual_loss_deep") is not None:
        lines.append(
            f"Réseau résiduel à {blocs(db)} : perte d'entraînement finale de "
            f"{num(deg['residual_loss_deep_min'], 3)} à {num(deg['residual_loss_deep_max'], 3)}, "
            f"exactitude de test moyenne {pct(deg['residual_acc_deep'])}.")
    if deg["n_seeds"] < deg.get("min_seeds", MIN_SEEDS):
        lines.append(
            f"Avec {plural(deg['n_seeds'], 'graine')} par point, il y a trop peu de graines pour "
            "conclure sur une dégradation ; relancez l'étude avec davantage de graines.")
    elif deg["shown"]:
        lines.append(
            f"Dégradation observée : pour chaque graine, le réseau sans connexion résiduelle à "
            f"{blocs(db)} termine avec une perte d'entraînement plus élevée que celui à "
            f"{blocs(sb)} (aucun chevauchement entre graines). Ce n'est pas du surapprentissage, "
            "puisque c'est la perte sur les images d'entraînement qui augmente : l'optimisation "
            "devient plus difficile avec la profondeur.")
    elif deg["slower"]:
        lines.append(
            f"Le réseau profond sans connexion résiduelle optimise plus lentement : sa perte "
            f"d'entraînement moyenne reste au-dessus de celle du réseau à {blocs(sb)} après "
            f"{len(deg['epochs_above'])} des {cfg.get('epochs')} époques, mais les graines se "
            "chevauchent en fin d'entraînement : ce budget ne montre pas de dégradation.")
    else:
        lines.append(
            f"Avec ce budget, le réseau sans connexion résiduelle à {blocs(db)} s'optimise aussi "
            f"vite que celui à {blocs(sb)} : ni dégradation ni ralentissement visibles.")
    if deg.get("residual_loss_deep") is not None:
        if deg.get("residual_below_plain"):
            lines.append(
                f"À {blocs(db)}, le réseau résiduel termine sous le réseau sans connexion "
                "résiduelle pour toutes les graines : le raccourci identité facilite l'optimisation.")
        elif deg.get("residual_above_plain"):
            lines.append(
                f"À {blocs(db)}, le réseau résiduel termine au-dessus du réseau sans connexion "
                "résiduelle pour toutes les graines : pas d'avantage du raccourci à ce budget.")
        else:
            lines.append(
                f"À {blocs(db)}, les pertes finales des réseaux résiduel et sans connexion "
                "résiduelle se chevauchent selon la graine : pas d'avantage net du raccourci à ce budget.")
    return "\n".join(lines)


def show_summary(results_dir=None, display_images: bool = True) -> str:
    """Show the committed plots and paired table, and print the French interpretation.

    Args:
        results_dir: root of the results (default: ``solutions/results``).
        display_images: display the PNGs and the table (in IPython/Jupyter only).

    Returns:
        The printed French text.
    """
    root = Path(results_dir) if results_dir is not None else RESULTS_DIR
    parts = []
    images = []
    table = None
    comp = root / "comparison" / "summary.json"
    depth = root / "depth" / "summary.json"
    if comp.is_file():
        parts.append("Comparaison ResNet / CNN classique\n"
                     + interpret_comparison(json.loads(comp.read_text())))
        images += [root / "comparison" / name for name in
                   ("learning_curves.png", "final_accuracy.png", "paired_differences.png")]
        table = root / "comparison" / "paired.csv"
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
            if table is not None and table.is_file():
                import pandas as pd

                display(pd.read_csv(table).round(4))
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


def _digest(cfgs) -> str:
    return "+".join(c.digest() for c in cfgs)


def _study(cfgs: list[Config], out_dir: Path, writer, args, command: str) -> bool:
    out_dir.mkdir(parents=True, exist_ok=True)
    started = _dt.datetime.now(_dt.timezone.utc)
    machine_start = machine()
    if args.action == "report":
        report = RunReport()
    else:
        report = run_study(cfgs, out_dir, max_runs=args.max_runs,
                           progress=not args.no_progress, shard=args.shard)
    records = load_records(cfgs, out_dir)
    total = len(plan_runs(cfgs))
    study = cfgs[0].study
    print(f"[{study}] {len(report.trained)} run(s) trained now, "
          f"{len(records)}/{total} available in {out_dir}", file=sys.stderr)
    if not records:
        return False
    writer(records, out_dir)
    meta_path = out_dir / "metadata.json"
    try:
        previous = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        previous = {}
    if previous.get("config_hash") != _digest(cfgs):
        previous = {}
    sessions = previous.get("sessions", [])
    if report.trained:
        sessions.append({
            "command": command, "started": started.isoformat(timespec="seconds"),
            "ended": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(report.seconds, 1), "runs_trained": len(report.trained),
            "machine_start": machine_start, "machine_end": machine(),
        })
    by_budget = {}
    for r in records:
        by_budget.setdefault(r.get("budget"), []).append(r["train_seconds"])
    atomic_write_json(meta_path, _clean({
        "study": study, "configs": [c.hashed() for c in cfgs],
        "runs_per_model": {c.budget: c.runs for c in cfgs},
        "config_hash": _digest(cfgs), "runs_available": len(records), "runs_planned": total,
        "complete": len(records) == total, "versions": versions(),
        "sessions": sessions,
        "training_wall_seconds_total": round(sum(s["wall_seconds"] for s in sessions), 1),
        "sum_of_run_train_seconds": round(sum(r["train_seconds"] for r in records), 1),
        "run_train_seconds_median": {k: round(float(np.median(v)), 1)
                                     for k, v in by_budget.items()},
        "note": "machine shared with other engineers' jobs; see loadavg",
    }))
    return len(records) == total


def _shard(text: str) -> tuple[int, int]:
    """'1/2' -> (1, 2)."""
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N, got {text!r}") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"need 0 <= I < N, got {text!r}")
    return index, count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m solutions.experiment",
        description="Paired ResNet vs plain CNN comparison at two budgets, and a depth study.")
    parser.add_argument("action", nargs="?", default="all",
                        choices=("all", "compare", "depth", "report"))
    parser.add_argument("--quick", action="store_true",
                        help="tiny subsets, K=2, tiny depths (tests; under a minute)")
    parser.add_argument("--runs", type=int, help="pairs per budget (default 10)")
    parser.add_argument("--depth-runs", type=int, help="seeds per depth (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results root")
    parser.add_argument("--max-runs", type=int, help="stop after N new trainings per study")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--shard", type=_shard, default=(0, 1), metavar="I/N",
                        help="train only the seeds equal to I modulo N (N parallel processes)")
    args = parser.parse_args(argv)
    command = " ".join(["python -m solutions.experiment",
                        *(argv if argv is not None else sys.argv[1:])])
    ok = True
    if args.action in ("all", "compare", "report"):
        cfgs = comparison_configs(args.quick, args.runs)
        ok &= _study(cfgs, args.out / "comparison", write_comparison_outputs, args, command)
    if args.action in ("all", "depth", "report"):
        cfgs = [depth_config(args.quick, args.depth_runs)]
        ok &= _study(cfgs, args.out / "depth", write_depth_outputs, args, command)
    if args.action != "report" or ok:
        show_summary(args.out, display_images=False)
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
