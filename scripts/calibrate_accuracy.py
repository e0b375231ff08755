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


def frozen():
    model = sol.build_resnet()
    for layer in model.layers:
        layer.trainable = False
    return model


CORRECT = {
    "reference build_resnet": sol.build_resnet,
    "reference build_cnn": sol.build_cnn,
    "resnet width 16, Flatten+Dense head": lambda: resnet(16, head="dense"),
    "resnet no stem BN, avg pool, global max head": lambda: resnet(
        32, stem_bn=False, pool="avg", head="gmp"
    ),
    "resnet stride-2 stem, no pooling": lambda: resnet(24, pool=None, strides=2),
    "Sequential CNN (relu in Conv2D)": sequential_cnn,
}
UNLEARNABLE = {"input ignored (x * 0)": input_ignored, "frozen reference (trainable=False)": frozen}
FOUR_X = ("resnet width 64 (4x FLOPs of the reference)", lambda: resnet(64))


def run(name, builder, seeds):
    accs, secs = [], []
    for seed in range(seeds):
        keras.utils.set_random_seed(seed)
        model = builder()
        r = training.train_and_evaluate(model, seed)
        accs.append(r["accuracy"])
        secs.append(r["seconds"])
        print(
            f"{name:55s} seed {seed}: acc {r['accuracy']:.3f} {r['seconds']:.1f}s"
            f"{' CAPPED' if r['capped'] else ''}",
            flush=True,
        )
    return accs, secs


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


def render(rows, four_secs, seeds, elapsed, done) -> str:
    r = training.RECIPE
    correct = [x for x in rows if x[0] == "correct"]
    bad = [x for x in rows if x[0] == "unlearnable"]
    lines = [
        "## Accuracy check calibration",
        "",
        f"Command: `.venv/bin/python scripts/calibrate_accuracy.py --seeds {seeds}` "
        f"({time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, {os.cpu_count()} cores, Keras "
        f"{keras.__version__}). The 2-core machine was shared with six other engineers running "
        "TensorFlow (load average 10 to 17), so times are pessimistic, several times the unloaded "
        "figures."
        + ("" if done else " **Partial run** (interrupted): the rows below are complete."),
        "",
        f"Recipe (autograder/hidden/training.py, version {r['version']}): Adam lr {r['learning_rate']}, "
        f"{r['steps']} steps of {r['batch_size']} images from a fixed {r['train_size']}-image "
        "training subset (per-pixel standardisation as in the notebook), BatchNormalization "
        f"statistics re-estimated on one {r['bn_batch']}-image training batch, accuracy on "
        f"{r['test_size']} held-out test images. Models above {r['max_macs_ratio']:g}x the "
        f"reference's multiply-accumulates train proportionally fewer steps (at least "
        f"{r['min_steps']}); a last-resort wall-clock cap stops training after "
        f"{r['time_cap_s']:.0f} s.",
        "",
        f"Threshold: **{training.THRESHOLD:.2f}**.",
    ]
    if correct:
        lines.append(
            f"Lowest accuracy of a correct model over all seeds: {min(x[4] for x in correct):.3f}."
        )
    if bad:
        lines.append(f"Highest accuracy of an unlearnable model: {max(x[6] for x in bad):.3f}.")
    lines += [
        "",
        "| group | model | seeds passing | min acc | median acc | max acc | s/model (median of first 5 seeds) |",
        "|---|---|---|---|---|---|---|",
    ]
    for g, name, passed, n, lo, med, hi, sec in rows:
        lines.append(
            f"| {g} | {name} | {passed}/{n} | {lo:.3f} | {med:.3f} | {hi:.3f} | {sec:.1f} |"
        )
    ref = [x[7] for x in rows if x[1] == "reference build_resnet"]
    if four_secs and ref:
        four = statistics.median(four_secs)
        lines += [
            "",
            f"Time of the accuracy check (training + evaluation): reference {ref[0]:.1f} s "
            f"(median of 5); {FOUR_X[0]}: {four:.1f} s (median of {len(four_secs)}, ratio "
            f"{four / ref[0]:.1f}; full {r['steps']} steps since it is within the "
            f"{r['max_macs_ratio']:g}x budget; a bigger model trains fewer steps).",
        ]
    lines += ["", f"Calibration wall time: {elapsed:.0f} s.", ""]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--four-x-runs", type=int, default=5)
    p.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    p.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="run only the models whose name contains one of these strings",
    )
    p.add_argument(
        "--timing-only",
        action="store_true",
        help="only time the reference and the 4x model, alternately (same load)",
    )
    args = p.parse_args()
    t0 = time.time()
    if args.timing_only:
        ref, four = [], []
        for _ in range(args.four_x_runs):
            ref += run("reference build_resnet", sol.build_resnet, 1)[1]
            four += run(FOUR_X[0], FOUR_X[1], 1)[1]
        text = (
            f"Timing ({args.four_x_runs} alternate runs, same load; `--timing-only`): "
            f"reference {statistics.median(ref):.1f} s median (min {min(ref):.1f}); "
            f"{FOUR_X[0]} {statistics.median(four):.1f} s median (min {min(four):.1f}); "
            f"ratio of medians {statistics.median(four) / statistics.median(ref):.1f}.\n"
        )
        print(text)
        Path(args.out).write_text(text)
        return
    rows, four_secs = [], []
    out = Path(args.out)
    for group, models in (("correct", CORRECT), ("unlearnable", UNLEARNABLE)):
        for name, builder in models.items():
            if args.only is not None and not any(o in name for o in args.only):
                continue
            accs, secs = run(name, builder, args.seeds)
            passed = sum(a >= training.THRESHOLD for a in accs)
            rows.append(
                (
                    group,
                    name,
                    passed,
                    len(accs),
                    min(accs),
                    statistics.median(accs),
                    max(accs),
                    statistics.median(secs[:5]),
                )
            )
            write_section(render(rows, four_secs, args.seeds, time.time() - t0, False), out)
    if args.four_x_runs:
        _, four_secs = run(FOUR_X[0], FOUR_X[1], args.four_x_runs)
    text = render(rows, four_secs, args.seeds, time.time() - t0, True)
    print(text)
    write_section(text, out)


if __name__ == "__main__":
    main()
