"""Calibrate the grader's minimum-accuracy threshold (q2.accuracy, q3.accuracy).

Trains, with the grader's own recipe (autograder/hidden/training.py), the
reference models and other correct architectures over several seeds, plus
models that cannot learn, and writes the figures into docs/benchmarks.md under
"## Accuracy check calibration".

    .venv/bin/python scripts/calibrate_accuracy.py --seeds 10
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

import solutions.resnet_a_la_main as sol  # noqa: E402
from autograder.hidden import training  # noqa: E402


def block(x, **kw):
    y = layers.Conv2D(padding="same", **kw)(x)
    y = layers.BatchNormalization()(y)
    y = ops.relu(y)
    y = layers.Conv2D(padding="same", **kw)(y)
    y = layers.BatchNormalization()(y)
    return ops.relu(y + x)


def resnet(width=32, stem_bn=True, pool="max", head="gap", strides=1):
    inp = keras.Input((28, 28, 1))
    x = layers.Conv2D(width, 3, strides=strides, padding="same")(inp)
    if stem_bn:
        x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    if pool == "max":
        x = layers.MaxPooling2D()(x)
    elif pool == "avg":
        x = layers.AveragePooling2D(2)(x)
    for _ in range(2):
        x = block(x, filters=width, kernel_size=3)
    if head == "gap":
        x = layers.GlobalAveragePooling2D()(x)
    elif head == "gmp":
        x = layers.GlobalMaxPooling2D()(x)
    else:
        x = layers.Flatten()(x)
        x = layers.Dense(64, activation="relu")(x)
    return keras.Model(inp, layers.Dense(10, activation="softmax")(x))


def plain_cnn(width=32, pool=True):
    """The reference CNN's layout (stem, four convolutions, GAP head), any width and pooling."""
    inp = keras.Input((28, 28, 1))
    x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(width, 3, padding="same")(inp)))
    if pool:
        x = layers.MaxPooling2D()(x)
    for _ in range(4):
        x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(width, 3, padding="same")(x)))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(10, activation="softmax")(x))


def sequential_cnn():
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )


def input_ignored():
    inp = keras.Input((28, 28, 1))
    x = layers.Conv2D(16, 3, padding="same")(inp * 0.0)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(10, activation="softmax")(x))


def features_ignored():
    """The reference's blocks, whose features are multiplied by zero before the head."""
    inp = keras.Input((28, 28, 1))
    x = layers.MaxPooling2D()(layers.ReLU()(layers.Conv2D(32, 3, padding="same")(inp)))
    x = block(block(x, filters=32, kernel_size=3), filters=32, kernel_size=3)
    x = layers.GlobalAveragePooling2D()(x) * 0.0
    return keras.Model(inp, layers.Dense(10, activation="softmax")(x))


CORRECT = {
    "reference build_resnet": sol.build_resnet,
    "reference build_cnn": sol.build_cnn,
    "resnet width 8 (narrow)": lambda: resnet(8),
    "resnet width 8 at 28x28 (narrow, no pooling)": lambda: resnet(8, pool=None),
    "cnn width 8 (narrow)": lambda: plain_cnn(8),
    "resnet, first block at 28x28 (no pooling)": lambda: resnet(32, pool=None),
    "cnn, first convolutions at 28x28 (no pooling)": lambda: plain_cnn(32, pool=False),
    "resnet width 64 at 28x28 (costly)": lambda: resnet(64, pool=None),
    "resnet width 16, Flatten+Dense head": lambda: resnet(16, head="dense"),
    "resnet no stem BN, avg pool, global max head": lambda: resnet(
        32, stem_bn=False, pool="avg", head="gmp"
    ),
    "resnet stride-2 stem, no pooling": lambda: resnet(24, pool=None, strides=2),
    "Sequential CNN (relu in Conv2D)": sequential_cnn,
}
UNLEARNABLE = {
    "input ignored (x * 0)": input_ignored,
    "features ignored (GAP * 0)": features_ignored,
}
COSTLY = "resnet width 64 at 28x28 (costly)"


def run(name, builder, seeds):
    accs, secs, steps = [], [], []
    for seed in range(seeds):
        keras.utils.set_random_seed(seed)
        model = builder()
        r = training.train_and_evaluate(model, seed)
        accs.append(r["accuracy"])
        secs.append(r["seconds"])
        steps.append(r["steps"])
        print(
            f"{name:55s} seed {seed}: acc {r['accuracy']:.3f} {r['seconds']:.1f}s"
            f"{' CAPPED' if r['capped'] else ''}",
            flush=True,
        )
    return accs, secs, steps


def write_section(text: str, path: Path):
    title = "## Accuracy check calibration"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    if title in old:
        head, rest = old.split(title, 1)
        nxt = rest.find("\n## ")
        old = head + (rest[nxt + 1 :] if nxt >= 0 else "")
        old = old.rstrip() + "\n\n"
    else:
        old = old.rstrip() + "\n\n"
    path.write_text(old + text)


def render(rows, seeds, elapsed, done, load) -> str:
    r = training.RECIPE
    correct = [x for x in rows if x[0] == "correct"]
    bad = [x for x in rows if x[0] == "unlearnable"]
    lines = [
        "## Accuracy check calibration",
        "",
        f"Command: `.venv/bin/python scripts/calibrate_accuracy.py --seeds {seeds}` "
        f"({time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, {os.cpu_count()} cores, Keras "
        f"{keras.__version__}, one process with every core; load average {load[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after). Accuracies do not depend on the machine's load; "
        "times do."
        + ("" if done else " **Partial run** (interrupted): the rows below are complete."),
        "",
        f"Recipe (autograder/hidden/training.py, version {r['version']}): a fresh copy of the "
        f"architecture initialised by the grader, Adam lr {r['learning_rate']}, steps of "
        f"{r['batch_size']} images from a fixed {r['train_size']}-image training subset "
        "(per-pixel standardisation as in the notebook), BatchNormalization statistics "
        f"re-estimated over {r['bn_batch']} training images (training-mode passes of "
        f"{r['bn_chunk']}), accuracy on "
        f"{r['test_size']} held-out test images. Same training time for every model: the "
        f"reference trains {r['budget_steps']} steps, a model whose step costs k times the "
        f"reference's (multiply-accumulates + {r['activation_weight']} x activation elements, "
        f"`step_cost`) {r['budget_steps']}/k steps, within [{r['min_steps']}, "
        f"{r['max_steps']}]; a last-resort wall-clock cap stops training after "
        f"{r['time_cap_s']:.0f} s.",
        "",
        f"**Threshold: {training.THRESHOLD:.2f}** (`training.THRESHOLD`).",
    ]
    if correct:
        lines.append(
            f"Lowest accuracy of a correct model over all seeds: {min(x[6] for x in correct):.3f}."
        )
    if bad:
        lines.append(f"Highest accuracy of an unlearnable model: {max(x[8] for x in bad):.3f}.")
    lines += [
        "",
        "| group | model | step cost / reference | steps | seeds passing | min acc | median acc "
        "| max acc | s/model (median) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for g, name, ratio, steps, passed, n, lo, med, hi, sec in rows:
        lines.append(
            f"| {g} | {name} | {ratio:.2f} | {steps} | {passed}/{n} | {lo:.3f} | {med:.3f} "
            f"| {hi:.3f} | {sec:.1f} |"
        )
    lines += ["", f"Calibration wall time: {elapsed:.0f} s.", ""]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    p.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="run only the models whose name contains one of these strings",
    )
    p.add_argument(
        "--timing-only",
        type=int,
        default=0,
        metavar="RUNS",
        help="only time the reference and the costly model, alternately (same load)",
    )
    args = p.parse_args()
    t0, load = time.time(), os.getloadavg()
    if args.timing_only:
        ref, costly = [], []
        for _ in range(args.timing_only):
            ref += run("reference build_resnet", sol.build_resnet, 1)[1]
            costly += run(COSTLY, CORRECT[COSTLY], 1)[1]
        print(
            f"Timing ({args.timing_only} alternate runs): reference "
            f"{statistics.median(ref):.1f} s median; {COSTLY} "
            f"{statistics.median(costly):.1f} s median; ratio "
            f"{statistics.median(costly) / statistics.median(ref):.1f}."
        )
        return
    rows = []
    out = Path(args.out)
    for group, models in (("correct", CORRECT), ("unlearnable", UNLEARNABLE)):
        for name, builder in models.items():
            if args.only is not None and not any(o in name for o in args.only):
                continue
            accs, secs, steps = run(name, builder, args.seeds)
            ratio = training.step_cost(builder()) / training.reference_step_cost()
            passed = sum(a >= training.THRESHOLD for a in accs)
            rows.append(
                (
                    group,
                    name,
                    ratio,
                    steps[0],
                    passed,
                    len(accs),
                    min(accs),
                    statistics.median(accs),
                    max(accs),
                    statistics.median(secs),
                )
            )
            write_section(render(rows, args.seeds, time.time() - t0, False, load), out)
    text = render(rows, args.seeds, time.time() - t0, True, load)
    print(text)
    write_section(text, out)


if __name__ == "__main__":
    main()
