""" "Pour aller plus loin": do residual connections matter? (issues 7 and 15)

A paired, powered comparison of the reference ResNet and plain CNN
(``solutions/resnet_a_la_main.py``) at two training budgets, a depth study of
plain vs residual networks, and a longer budget for the reference models
(target: 0.90 test accuracy). Every training uses the kit's recipe
(``autograder/public/recipe.py``): Adam with a cosine-decayed learning rate, an
explicit seeded data order, and BatchNormalization statistics re-estimated on
2,048 training images before any evaluation (raw accuracies, with the moving
averages, are saved too).

Command line (from the repository root)::

    python -m solutions.experiment [all|compare|depth|long|report]
        [--quick] [--runs K] [--depth-runs K] [--out DIR] [--max-runs N]
        [--jobs N] [--shard I/N]

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
  runs, without training (the long budget too, when its runs exist).
* ``long``: the documented longer budget (:func:`~.config.long_config`: the
  whole 48,000-image training split, 10 epochs, 15,000 steps), both models,
  raw and re-estimated test accuracy against the 0.90 target; under
  ``DIR/long`` (not part of ``all``).

Every run is written to its own JSON file as soon as it finishes (atomic
write), keyed by model, seed and a hash of the configuration: rerunning an
interrupted experiment trains only the missing runs. ``--max-runs N`` stops
after N new trainings per process (used to simulate an interruption).
``--jobs N`` (default: 2 on a machine with 2 cores or more) trains in N
processes, each with its share of the pairs (``--shard I/N`` runs one share)
and ``cores // N`` TensorFlow threads; the outputs are written once every
process has finished.

In a notebook: ``from solutions.experiment import show_summary; show_summary()``
shows the committed plots, the paired analysis table and a French
interpretation computed from the saved numbers.

Modules: :mod:`.config` (budgets), :mod:`.data`, :mod:`.runs` (training,
resume, shards), :mod:`.stats` (paired statistics), :mod:`.comparison`,
:mod:`.depth`, :mod:`.long`, :mod:`.records` (JSON and tables), :mod:`.plots`,
:mod:`.text` (French conclusions), :mod:`.report` (``show_summary``) and
:mod:`.cli`.
"""

from .cli import finish_study, machine, main, parse_shard, versions
from .comparison import (
    paired_frame,
    summarize_budget,
    summarize_comparison,
    write_comparison_outputs,
)
from .config import (
    ALPHA,
    BUDGET_LABELS,
    KINDS,
    MIN_SEEDS,
    MODEL_LABELS,
    MODELS,
    POWER,
    RESULTS_DIR,
    SCHEMA,
    Config,
    comparison_configs,
    depth_config,
    long_config,
)
from .data import load_data
from .depth import (
    build_deep,
    depth_curves,
    detect_degradation,
    summarize_depth,
    write_depth_outputs,
)
from .long import TARGET, read_long_summary, summarize_long, write_long_outputs
from .plots import fixed_jitter, plot_comparison, plot_depth, plot_long
from .records import atomic_write_json, curves_frame, json_ready, runs_frame
from .report import show_summary
from .runs import (
    RunReport,
    RunSpec,
    load_records,
    plan_runs,
    read_run,
    run_study,
    train_one,
    weights_digest,
)
from .stats import (
    compare_samples,
    describe,
    minimum_detectable_effect,
    paired_analysis,
    paired_t_power,
)
from .text import (
    blocs,
    interpret_budget,
    interpret_comparison,
    interpret_depth,
    interpret_long,
    num,
    pct,
    plural,
    pts,
    pval,
    rate,
    spts,
    spts_unit,
)

__all__ = [
    "ALPHA",
    "BUDGET_LABELS",
    "KINDS",
    "MIN_SEEDS",
    "MODELS",
    "MODEL_LABELS",
    "POWER",
    "RESULTS_DIR",
    "SCHEMA",
    "TARGET",
    "Config",
    "RunReport",
    "RunSpec",
    "json_ready",
    "parse_shard",
    "finish_study",
    "atomic_write_json",
    "blocs",
    "build_deep",
    "compare_samples",
    "comparison_configs",
    "curves_frame",
    "depth_config",
    "depth_curves",
    "describe",
    "detect_degradation",
    "fixed_jitter",
    "interpret_budget",
    "interpret_comparison",
    "interpret_depth",
    "interpret_long",
    "load_data",
    "load_records",
    "long_config",
    "machine",
    "main",
    "minimum_detectable_effect",
    "num",
    "paired_analysis",
    "paired_frame",
    "paired_t_power",
    "pct",
    "plan_runs",
    "plot_comparison",
    "plot_depth",
    "plot_long",
    "plural",
    "pts",
    "pval",
    "rate",
    "read_long_summary",
    "read_run",
    "run_study",
    "runs_frame",
    "show_summary",
    "spts",
    "spts_unit",
    "summarize_budget",
    "summarize_comparison",
    "summarize_depth",
    "summarize_long",
    "train_one",
    "versions",
    "weights_digest",
    "write_comparison_outputs",
    "write_depth_outputs",
    "write_long_outputs",
]
