"""Sandbox benchmarks: the student's check, one submission graded, memory bounds.

Usage::

    .venv/bin/python scripts/bench_sandbox.py [--check-runs 5] [--grade-runs 3]

Measures, on the student template filled with the reference solution
(``tests/faults``):

* a baseline, in the same run: ``python -c "import tensorflow"`` (median);
* ``check_notebook`` (public checks, one worker), median of ``--check-runs``;
* ``grade_notebook`` (public + hidden checks, one worker per question), median
  of ``--grade-runs``; peak RSS of each question's worker process tree;
* the two 20 GiB memory hogs of ``tests/faults`` with the default 4 GiB cap:
  status, seconds, the worker's peak RSS and the machine's lowest available
  memory while they ran.

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _timed(func, runs):
    times, last = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        last = func()
        times.append(time.perf_counter() - t0)
    return times, last


def _fmt(times):
    return (
        f"{statistics.median(times):.1f} s (min {min(times):.1f}, "
        f"max {max(times):.1f}, n={len(times)})"
    )


class _LowestAvailable(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        import psutil

        self.psutil, self.lowest, self.stop = psutil, float("inf"), threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.lowest = min(self.lowest, self.psutil.virtual_memory().available)
            time.sleep(0.05)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-runs", type=int, default=5)
    parser.add_argument("--grade-runs", type=int, default=3)
    parser.add_argument("--skip-hogs", action="store_true")
    args = parser.parse_args(argv)

    from autograder.public.extract import extract_notebook
    from autograder.public.pipeline import check_notebook, grade_notebook
    from autograder.public.sandbox import DEFAULT_MEMORY_GB, run_question
    from tests.faults import NOTEBOOK, build_faults

    tmp = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    faults = build_faults(tmp)
    reference = faults["reference"] / NOTEBOOK
    rows = []

    base, _ = _timed(
        lambda: subprocess.run(
            [sys.executable, "-c", "import tensorflow"],
            check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        ),
        args.check_runs,
    )
    rows.append(('baseline: `python -c "import tensorflow"`', _fmt(base), ""))

    times, results = _timed(lambda: check_notebook(reference), args.check_runs)
    ok = sum(r.passed for r in results)
    rows.append(
        (
            "`check_notebook` (reference, 3 questions, public)",
            _fmt(times),
            f"{ok}/{len(results)} checks passed; "
            f"{statistics.median(times) / statistics.median(base):.1f}× the TF import",
        )
    )

    times, record = _timed(lambda: grade_notebook(reference), args.grade_runs)
    score = sum(q["score"] for q in record.values())
    top = sum(q["max_score"] for q in record.values())
    per_q = ", ".join(
        f"{q} {r['seconds']:.1f} s / {r['peak_rss_mb']:.0f} MiB" for q, r in record.items()
    )
    rows.append(
        (
            "`grade_notebook` (reference, public + hidden)",
            _fmt(times),
            f"score {score:g}/{top:g}; last run per question (time / peak RSS): {per_q}",
        )
    )

    if not args.skip_hogs:
        for case in ("memory_hog_q2", "memory_hog_shared_q2"):
            code = extract_notebook(faults[case] / NOTEBOOK)
            watch = _LowestAvailable()
            watch.start()
            t0 = time.perf_counter()
            run = run_question(code, "q2", tmp, timeout_s=300, memory_gb=DEFAULT_MEMORY_GB)
            seconds = time.perf_counter() - t0
            watch.stop.set()
            watch.join()
            rows.append(
                (
                    f"20 GiB hog `{case}` (cap {DEFAULT_MEMORY_GB:g} GiB)",
                    f"{seconds:.1f} s",
                    f"status {run.status}; worker peak RSS {run.peak_rss_mb:.0f} MiB; "
                    f"machine's lowest available memory {watch.lowest / 1024**3:.1f} GiB",
                )
            )

    print("| measure | wall time | notes |")
    print("|---|---|---|")
    for name, t, note in rows:
        print(f"| {name} | {t} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
