"""Memory of one long-lived grading process over many submissions (issue 12, item 1).

Usage::

    .venv/bin/python scripts/bench_memory.py [--count 50] [--threads 1]

Grades ``--count`` *distinct* correct submissions (the synthetic class of
``scripts/bench_class.py``: widths, pooling and heads vary, so the grader
trains every one) one after the other in **this** process, with the trusted
job function a pool process or a Dask worker runs (:func:`grade_job`, Keras
state cleared after each), and prints the process's resident memory after
each submission. A pool process is replaced after
``executors.TASKS_PER_PROCESS`` submissions; a Dask worker is not, so what
matters is that the resident memory levels off.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    import psutil
    from bench_class import synthetic_class

    from autograder.engine.discovery import Submission
    from autograder.engine.job import grade_job, make_job, prepare_process
    from autograder.engine.records import question_max_points
    from autograder.public.assignment import DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT_S, NOTEBOOK

    work = Path(tempfile.mkdtemp())
    folders = sorted(synthetic_class(work / "classe", args.count).iterdir())
    # the synthetic class has 48 distinct architectures: beyond, repeats (memoised)
    prepare_process(args.threads, None)
    maxima = question_max_points()
    me = psutil.Process()
    rows = []
    t0 = time.perf_counter()
    for i in range(args.count):
        folder = folders[i % len(folders)]
        sub = Submission(id=folder.name, source=str(folder), notebook=folder / NOTEBOOK)
        job = make_job(
            sub,
            timeout_s=DEFAULT_TIMEOUT_S,
            memory_gb=DEFAULT_MEMORY_GB,
            maxima=maxima,
            isolation="bubblewrap",
            run_id="bench",
            threads=args.threads,
            cache_dir=None,
        )
        record = grade_job(job)
        rss = me.memory_info().rss / 1024**2
        rows.append((i + 1, folder.name, record["total"] == record["max_total"], rss))
        print(
            f"{i + 1:3d} {folder.name:28s} {record['total']:5.1f}/{record['max_total']:g} "
            f"RSS {rss:7.0f} MiB  {time.perf_counter() - t0:6.0f} s",
            flush=True,
        )
    rss = [r[3] for r in rows]
    summary = {
        "count": args.count,
        "rss_after_1_mb": round(rss[0]),
        "rss_after_10_mb": round(rss[min(9, len(rss) - 1)]),
        "rss_after_25_mb": round(rss[min(24, len(rss) - 1)]),
        "rss_after_last_mb": round(rss[-1]),
        "rss_max_mb": round(max(rss)),
        "rss_median_last_10_mb": round(statistics.median(rss[-10:])),
        "seconds": round(time.perf_counter() - t0),
        "full_marks": sum(1 for r in rows if r[2]),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
