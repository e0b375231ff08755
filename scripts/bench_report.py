"""Benchmark of the teacher report: ``write_report`` on synthetic classes.

Writes N synthetic submission records (the fixture records of
tests/report/fixtures.py, repeated with fresh ids), then times ``write_report``
(median of ``--repeat`` runs) for each class size. The baseline, measured in
the same run, is the smallest class: the table gives the ratio of every size
to it, i.e. how the report scales with the class.

    .venv/bin/python scripts/bench_report.py [--sizes 30 300] [--repeat 3]
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
sys.path[:0] = [str(ROOT)]

from autograder import report  # noqa: E402
from tests.report.fixtures import fixture_records, make_fixture  # noqa: E402


def synthetic(n: int) -> list[dict]:
    """``n`` records cycling through the fixture's cases, with unique ids."""
    base = [r for r in fixture_records() if "<" not in r["id"]]
    out = []
    for i in range(n):
        rec = json.loads(json.dumps(base[i % len(base)]))
        rec["id"] = f"etudiant{i:04d}"
        out.append(rec)
    return out


def time_report(n: int, repeat: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of ``write_report`` on ``n`` submissions, and the HTML size."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        make_fixture(out, synthetic(n))
        wall, cpu = [], []
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            path = report.write_report(out)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        return statistics.median(wall), statistics.median(cpu), path.stat().st_size


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 300])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    time_report(5, 1)  # warm-up: imports of matplotlib, seaborn, jinja2
    rows = [(n, *time_report(n, args.repeat)) for n in sorted(args.sizes)]
    base = rows[0][1]
    base_cpu = rows[0][2]
    print(
        f"| submissions | wall, median of {args.repeat} (s) | ratio to {rows[0][0]} "
        f"| CPU, median (s) | CPU ratio to {rows[0][0]} | report.html (KiB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n, sec, cpu, size in rows:
        print(
            f"| {n} | {sec:.2f} | {sec / base:.2f} | {cpu:.2f} | {cpu / base_cpu:.2f} | {size / 1024:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
