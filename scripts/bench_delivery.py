"""Timing of the GitHub Actions grader steps and of the autograder zip build.

Runs the grader steps' commands of the student workflow in order, as one push does
(as the grader action does: ``sh -c``, environment reduced to PATH and HOME; the
first step evaluates the notebook, the others reuse its result) in a copy of
``student_template/`` holding the reference-filled notebook, ``--repeat`` times
(the shared result removed before each), and reports medians, with
the time of a bare ``import tensorflow`` measured in the same run as the baseline.

Usage::

    .venv/bin/python scripts/bench_delivery.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.delivery.repos import (  # noqa: E402
    GRADER,
    VENV_BIN,
    filled_notebook,
    load_workflow,
    make_repo,
    offline_home,
    reference_sources,
    run_command,
)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    steps = next(iter(load_workflow()["jobs"].values()))["steps"]
    graders = [s for s in steps if s.get("uses", "").startswith(GRADER)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = offline_home(tmp)
        repo = make_repo(tmp, "reference", filled_notebook(reference_sources()))
        base = [
            timed(lambda: run_command(f"{VENV_BIN}/python -c 'import tensorflow'", repo, home))
            for _ in range(args.repeat)
        ]
        rows.append(("baseline: python -c 'import tensorflow'", base))
        times = {s["id"]: [] for s in graders}
        for _ in range(args.repeat):  # one push: the first step evaluates, the others reuse
            shutil.rmtree(repo / "resultats-autograder", ignore_errors=True)
            for s in graders:

                def step(s=s):
                    proc = run_command(s["with"]["command"], repo, home)
                    assert proc.returncode == 0, proc.stdout + proc.stderr

                times[s["id"]].append(timed(step))
        for s in graders:
            rows.append((f"step {s['id']}: {s['with']['command']}", times[s["id"]]))
        out = tmp / "autograder.zip"
        rows.append(
            (
                "python -m autograder.delivery zip",
                [
                    timed(
                        lambda: subprocess.run(
                            [sys.executable, "-m", "autograder.delivery", "zip", "--out", str(out)],
                            cwd=ROOT,
                            check=True,
                            capture_output=True,
                        )
                    )
                    for _ in range(args.repeat)
                ],
            )
        )
    b = statistics.median(base)
    print("| what | median (s) | runs (s) | ratio to baseline |")
    print("|---|---|---|---|")
    for what, times in rows:
        m = statistics.median(times)
        print(f"| `{what}` | {m:.1f} | {', '.join(f'{t:.1f}' for t in times)} | {m / b:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
