"""Planning, training and resuming runs: one JSON file per finished training.

Runs are keyed by model, seed and a hash of their :class:`~.config.Config`;
:func:`run_study` trains only the runs whose file is missing or unreadable, so
an interrupted study resumes where it stopped, and ``shard`` lets several
processes share a study.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import KINDS, MODELS, SCHEMA, Config
from .data import load_data
from .depth import build_deep
from .records import atomic_write_json


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
            specs += [
                RunSpec(kind, s, cfg, {"blocks": d})
                for s in seeds
                for d in cfg.depths
                for kind in KINDS
            ]
        else:
            specs += [RunSpec(m, s, cfg) for s in seeds for m in MODELS]
    return specs


def pair_units(specs) -> list[int]:
    """Index of each run's pair, in plan order.

    A pair is what the analysis compares: ResNet and CNN of one seed and one
    budget, or plain and residual networks of one seed and one depth. Shards
    split pairs, never a pair, so an interrupted shard leaves whole pairs.
    """
    units: dict = {}
    return [
        units.setdefault((s.cfg.budget, s.seed, tuple(sorted(s.params.items()))), len(units))
        for s in specs
    ]


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
    train_eval = (
        (data["x_train"][: cfg.train_eval_size], data["y_train"][: cfg.train_eval_size])
        if cfg.train_eval_size
        else None
    )
    hist = recipe.train(
        model,
        data["x_train"],
        data["y_train"],
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        seed=spec.seed,
        validation=validation,
        train_eval=train_eval,
        bn_images=cfg.bn_images,
        reestimate_at_end=False,
        on_epoch=(lambda *_: on_epoch()) if on_epoch else None,
    )
    test = recipe.evaluate_both(
        model, data["x_test"], data["y_test"], data["x_train"], cfg.bn_images, spec.seed, keep=True
    )
    return {
        "schema": SCHEMA,
        "key": spec.key,
        "study": cfg.study,
        "budget": cfg.budget,
        "model": spec.model,
        "seed": spec.seed,
        "params": spec.params,
        "config": cfg.hashed(),
        "config_hash": cfg.digest(),
        "history": hist.history,
        "steps": hist.steps,
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "test_accuracy_raw": test["raw_accuracy"],
        "test_loss_raw": test["raw_loss"],
        "init_digest": init,
        "order_digest": hashlib.sha256(order.astype(np.int64).tobytes()).hexdigest()[:16],
        "n_params": int(model.count_params()),
        "n_trainable": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "epoch_seconds": hist.epoch_seconds,
        "train_seconds": hist.seconds,
        "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


@dataclass
class RunReport:
    """What :func:`run_study` did."""

    trained: list = field(default_factory=list)  # keys trained in this call
    skipped: list = field(default_factory=list)  # keys already on disk
    pending: list = field(default_factory=list)  # keys left (max_runs reached)
    records: list = field(default_factory=list)  # every finished record
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.pending


def run_study(
    cfgs,
    out_dir: Path,
    max_runs: int | None = None,
    progress: bool = True,
    shard: tuple[int, int] = (0, 1),
) -> RunReport:
    """Train every missing run of ``cfgs``; save each to ``out_dir/runs/<key>.json``.

    Args:
        cfgs: a configuration or a list of them (one per budget).
        out_dir: study directory (``.../comparison`` or ``.../depth``).
        max_runs: stop after this many new trainings (None: all).
        progress: show a tqdm progress bar (epochs, with ETA) on stderr.
        shard: ``(i, n)``: train only the pairs (see :func:`pair_units`)
            whose index is ``i`` modulo ``n``, so that ``n`` processes can
            share a study.
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
    specs = plan_runs(cfgs)
    for spec, unit in zip(specs, pair_units(specs)):
        record = read_run(runs_dir / f"{spec.key}.json", spec)
        if record is None:
            if unit % count == index:
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

        bar = tqdm(
            total=sum(s.cfg.epochs for s in todo),
            unit="epoch",
            disable=not progress,
            desc=f"{todo[0].cfg.study} ({len(todo)} runs)",
            file=sys.stderr,
        )
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
