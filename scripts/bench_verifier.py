"""Time the notebook's ``verifier("q2")`` on the reference, as a student's kernel runs it.

    .venv/bin/python scripts/bench_verifier.py [--root CHECKOUT] [--runs N]

Each run is a fresh process that imports Keras first (a kernel that has run the
notebook's import cell), defines the reference functions (gallery parts) with
``In`` holding the cells, then times three calls: ``cold`` (the first), ``after_fix``
(``ResidualBlock`` redefined with other code and its cell re-run) and ``unchanged``
(the same call again: the cache). ``--root`` times another checkout (e.g. an
export of an older commit), so that the figures before and after a change are
measured the same way. Prints one JSON line per run and the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, tempfile, time
root = sys.argv[1]
sys.path.insert(0, root)
os.chdir(tempfile.mkdtemp())
t0 = time.perf_counter()
import keras
from keras import layers
t_import = time.perf_counter() - t0
parts = os.path.join(root, "tests", "gallery", "parts")
part = lambda n: open(os.path.join(parts, n + ".py"), encoding="utf-8").read()
cells = [part("imports"), part("ref_block"), part("resnet_builder"), part("cnn_builder")]
ns = {"__name__": "__main__"}
for c in cells:
    exec(c, ns)
ns["In"] = ["", *cells]
from autograder.public.notebook import verifier
def timed():
    t = time.perf_counter()
    r = verifier("q2", ns, quiet=True, raise_on_failure=False)
    assert r and all(x.passed for x in r), [(x.id, x.message) for x in r]
    return time.perf_counter() - t
cold = timed()
fixed = part("ref_block").replace("layers.Add()([input, x])", "layers.Add()([x, input])")
exec(fixed, ns)
ns["In"].append(fixed)
after_fix = timed()
unchanged = timed()
print(json.dumps({"import_keras": round(t_import, 2), "cold": round(cold, 2),
                  "after_fix": round(after_fix, 2), "unchanged": round(unchanged, 4)}))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="checkout to time (default: this one)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONDONTWRITEBYTECODE": "1"}
    rows = []
    for _ in range(args.runs):
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(Path(args.root).resolve())],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]))
    medians = {k: round(statistics.median(r[k] for r in rows), 4) for k in rows[0]}
    print("median " + json.dumps(medians))
    return 0


if __name__ == "__main__":
    sys.exit(main())
