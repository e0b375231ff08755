"""Constants and budgets of the experiment: :class:`Config` and the three studies' settings."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "solutions" / "results"
SCHEMA = 2
MODELS = ("resnet", "cnn")
KINDS = ("plain", "residual")
MODEL_LABELS = {
    "resnet": "ResNet",
    "cnn": "CNN classique",
    "plain": "sans connexion résiduelle",
    "residual": "résiduel",
}
BUDGET_LABELS = {"short": "budget court", "main": "budget principal", "long": "budget long"}
#: power and level of the minimum detectable effect
POWER, ALPHA = 0.8, 0.05
#: seeds per point needed before the depth study may claim a degradation
MIN_SEEDS = 3


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
        cfgs = [
            Config(
                "comparison",
                "main",
                runs=2,
                epochs=2,
                train_size=128,
                val_size=64,
                test_size=128,
                batch_size=32,
                bn_images=128,
            ),
            Config(
                "comparison",
                "short",
                runs=2,
                epochs=1,
                train_size=128,
                val_size=64,
                test_size=128,
                batch_size=32,
                bn_images=128,
            ),
        ]
    else:
        cfgs = [
            Config("comparison", "main", runs=10, epochs=4, train_size=12000),
            Config("comparison", "short", runs=10, epochs=4, train_size=2400),
        ]
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
        cfg = Config(
            "depth",
            "depth",
            runs=1,
            epochs=1,
            train_size=128,
            val_size=0,
            test_size=128,
            batch_size=32,
            bn_images=128,
            train_eval_size=64,
            depths=(1, 2),
            width=4,
        )
    else:
        cfg = Config(
            "depth",
            "depth",
            runs=3,
            epochs=8,
            train_size=4000,
            val_size=0,
            test_size=2000,
            batch_size=32,
            bn_images=2048,
            train_eval_size=1024,
            depths=(2, 8, 16),
            width=16,
        )
    if runs is not None:
        cfg.runs = runs
    return cfg


def long_config(quick: bool = False, runs=None) -> Config:
    """The documented longer budget (target: 0.90 test accuracy).

    Default: the whole 80 % training split (48,000 images), 10 epochs, batch
    32 (15,000 optimizer steps), peak learning rate 4e-3, 2,000 validation
    images for the curves, the full test set once at the end; one seed per
    model (``--runs`` adds more). ``quick``: tiny subsets (tests).

    Committed run (docs/benchmarks.md): test accuracy 0.9146 (ResNet) and
    0.9195 (CNN), 887 s and 969 s of training on 2 shared cores (load ≈ 9).
    """
    if quick:
        cfg = Config(
            "long",
            "long",
            runs=1,
            epochs=2,
            train_size=128,
            val_size=64,
            test_size=128,
            batch_size=32,
            bn_images=128,
        )
    else:
        cfg = Config(
            "long",
            "long",
            runs=1,
            epochs=10,
            train_size=48000,
            val_size=2000,
            test_size=None,
            batch_size=32,
            learning_rate=4e-3,
        )
    if runs is not None:
        cfg.runs = runs
    return cfg
