"""How well the grader's step-cost estimate predicts a training step's time.

Times one training step of the grader (``autograder.hidden.training``) on one
thread, as a grading process of ``grade --jobs 2`` runs it, for the ResNet and
the CNN of the synthetic class of ``scripts/bench_class.py`` (widths 8 to 32,
with or without pooling before the blocks), and compares the time with two
estimates: multiply-accumulates alone (recipe version 3) and ``step_cost``
(multiply-accumulates plus ``activation_weight`` times the activation
elements, version 4). Also fits, by least squares without intercept, the
weight of activations that best predicts the times.

    .venv/bin/python scripts/bench_step_cost.py [--steps 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

for _name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ[_name] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from bench_class import student_functions  # noqa: E402

from autograder.hidden import training  # noqa: E402

BUILDERS = ("build_resnet", "build_cnn")


def step_ms(model, steps: int) -> float:
    """Median time of one grader training step (after tracing), in milliseconds."""
    x_tr, y_tr, _, _ = training.load_data()
    clone = training.fresh_copy(model, 0)
    step = training._step_function(clone, keras.losses.SparseCategoricalCrossentropy())
    step(x_tr[:64], y_tr[:64])  # tracing
    times = []
    for i in range(steps):
        batch = slice(64 * i, 64 * (i + 1))
        t0 = time.perf_counter()
        step(x_tr[batch], y_tr[batch])
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def spread(ratios) -> str:
    """Coefficient of variation and max/min of time per unit of estimate."""
    mean = statistics.mean(ratios)
    return f"{statistics.pstdev(ratios) / mean:.0%} (max/min {max(ratios) / min(ratios):.1f}x)"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    ref = None
    rows = []
    for width in (8, 12, 16, 20, 24, 28, 32):
        for pool in (True, False):
            namespace = {"keras": keras, "np": np}
            for src in student_functions(width, pool, 0).values():
                exec(src, namespace)  # trusted: the reference's own sources, rewritten
            for builder in BUILDERS:
                model = namespace[builder]()
                macs, acts = training.model_macs(model), training.model_activations(model)
                cost, steps = training.step_cost(model), training.step_budget(model)
                ms = step_ms(model, args.steps)
                rows.append((width, pool, builder, macs, acts, cost, ms, steps))
                if width == 32 and pool and builder == "build_resnet":
                    ref = rows[-1]
                keras.backend.clear_session()
    print(
        "| model | MACs / reference | step cost / reference | step time (ms) "
        "| time / reference | steps v3 | steps v4 | training time v3 (s) | v4 (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for width, pool, builder, macs, _acts, cost, ms, v4 in rows:
        # version 3: 100 steps divided by the MACs ratio, within [40, 300]
        v3 = min(300, max(40, round(100 * training.REFERENCE_MACS / macs)))
        print(
            f"| {builder} width {width}{', pooling' if pool else ', 28x28'} | {macs / training.REFERENCE_MACS:.2f} "
            f"| {cost / training.reference_step_cost():.2f} | {ms:.0f} | {ms / ref[6]:.2f} | {v3} | {v4} "
            f"| {v3 * ms / 1000:.1f} | {v4 * ms / 1000:.1f} |"
        )
    times = [row[6] for row in rows]
    print()
    print(
        f"Time per multiply-accumulate: spread {spread([t / row[3] for t, row in zip(times, rows)])}"
    )
    print(
        f"Time per unit of step_cost: spread {spread([t / row[5] for t, row in zip(times, rows)])}"
    )
    for weight in (200, 500, 1000):
        ratios = [t / (row[3] + weight * row[4]) for t, row in zip(times, rows)]
        print(f"Time per unit of MACs + {weight} x activations: spread {spread(ratios)}")
    x = np.array([[row[3], row[4]] for row in rows], float)
    coef, *_ = np.linalg.lstsq(x, np.array(times), rcond=None)
    print(f"Least-squares weight of an activation element: {coef[1] / coef[0]:.0f} MACs")


if __name__ == "__main__":
    main()
