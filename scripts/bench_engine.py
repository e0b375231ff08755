"""Benchmark of the grading engine and the ``check`` command (docs/benchmarks.md, "## Grading engine").

Measures, in one run on this machine:

1. one submission end to end: ``python -m autograder grade REF --out D --force``
   (median of ``--repeats``, at least 3);
2. ``python -m autograder check REF`` (median of 5);
3. a batch of the first 30 gallery submissions with the default ``--jobs``
   (throughput in submissions per minute) and the peak memory of each worker
   (the grading worker's own RSS and its largest sandbox process, from the
   records);
4. the baseline: ``otter run -a autograder.zip REF`` on the same reference
   notebook, which re-executes the notebook and so its training, and the
   ratio otter / engine for one submission.

Usage::

    .venv/bin/python scripts/bench_engine.py [--repeats 3] [--batch 30] [--skip-otter]
        [--write-docs]

``--write-docs`` replaces the "## Grading engine" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
SECTION = "## Grading engine"


def _timed(cmd, cwd=ROOT, timeout=7200, ok=(0,)) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout
    )
    dt = time.perf_counter() - t0
    if proc.returncode not in ok:
        raise RuntimeError(f"{cmd[:4]} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return dt, proc


def _loadavg() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def batch_figures(out: Path, wall_s: float | None = None) -> dict:
    """Throughput and peak memory of a finished ``grade`` output folder."""
    recs = [json.loads(p.read_text()) for p in (out / "submissions").glob("*.json")]
    run = json.loads((out / "run.json").read_text())
    workers = [r["resources"]["worker_mb"] for r in recs if r.get("resources")]
    sandboxes = [r["resources"]["sandbox_max_mb"] for r in recs if r.get("resources")]
    if wall_s is None and "seconds" not in run:
        # a run still in progress: the submissions it finished so far, up to the last one
        from datetime import datetime

        mine = [r for r in recs if r.get("run_id") == run["run_id"] and r.get("graded_at")]
        last = max(datetime.fromisoformat(r["graded_at"]) for r in mine)
        wall_s = (last - datetime.fromisoformat(run["started"])).total_seconds()
        n = len(mine)
    else:
        n = len(run.get("graded", recs))
    wall = wall_s if wall_s is not None else run["seconds"]
    return {
        "submissions": n,
        "jobs": run["parameters"]["jobs"],
        "wall_s": wall,
        "per_minute": n / (wall / 60),
        "worker_peak_mb": {"median": statistics.median(workers), "max": max(workers)},
        "sandbox_peak_mb": {"median": statistics.median(sandboxes), "max": max(sandboxes)},
        "statuses": run.get("statuses"),
        "source": str(out),
    }


def bench(
    repeats: int,
    batch: int,
    skip_otter: bool,
    work: Path,
    batch_from: Path | None = None,
    otter_repeats: int = 3,
) -> dict:
    import nbformat

    from tests.faults import reference_notebook
    from tests.gallery import build_gallery

    res = {
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "load_before": _loadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    ref_dir = work / "reference"
    ref_dir.mkdir(parents=True)
    ref = ref_dir / "resnet_a_la_main.ipynb"
    nbformat.write(reference_notebook(), ref)

    # 1. one submission end to end
    times = []
    for i in range(repeats):
        dt, _ = _timed(
            [
                PY,
                "-m",
                "autograder",
                "grade",
                ref_dir,
                "--out",
                work / "one",
                "--force",
                "--no-progress",
                "--no-report",
            ]
        )
        times.append(dt)
        print(f"grade one submission #{i + 1}: {dt:.1f} s", file=sys.stderr)
    rec = json.loads((work / "one" / "submissions" / "reference.json").read_text())
    res["one"] = {
        "runs_s": times,
        "median_s": statistics.median(times),
        "score": f"{rec['total']:g}/{rec['max_total']:g}",
        "per_question_s": {q: v["seconds"] for q, v in rec["questions"].items()},
    }

    # 2. check
    times = []
    for i in range(5):
        dt, proc = _timed([PY, "-m", "autograder", "check", ref])
        times.append(dt)
        print(f"check #{i + 1}: {dt:.1f} s", file=sys.stderr)
    res["check"] = {"runs_s": times, "median_s": statistics.median(times)}

    # 3. batch of gallery submissions, default --jobs
    if batch_from is not None:
        res["batch"] = batch_figures(batch_from)
        res["batch"]["reused_run"] = True
    else:
        cls = work / "class"
        paths = build_gallery(work / "gallery-all")
        cls.mkdir()
        for cid in sorted(paths)[:batch]:
            shutil.copytree(paths[cid].parent, cls / cid)
        dt, proc = _timed(
            [
                PY,
                "-m",
                "autograder",
                "grade",
                cls,
                "--out",
                work / "batch",
                "--no-progress",
                "--no-report",
            ]
        )
        res["batch"] = batch_figures(work / "batch", dt)
        print(f"batch of {res['batch']['submissions']}: {dt:.1f} s", file=sys.stderr)

    # 4. otter baseline
    res["otter"] = None
    if not skip_otter:
        zip_path = ROOT / "build" / "autograder.zip"
        if not zip_path.is_file():
            try:
                _timed([PY, "-m", "autograder.delivery", "zip", "--out", work / "autograder.zip"])
                zip_path = work / "autograder.zip"
            except Exception as exc:  # noqa: BLE001
                res["otter"] = {"error": f"no autograder zip: {exc}"[:300]}
        if res["otter"] is None:
            otter = Path(PY).with_name("otter")
            times = []
            for i in range(max(1, otter_repeats)):
                out_dir = work / f"otter-{i}"
                out_dir.mkdir()
                dt, proc = _timed([otter, "run", "-a", zip_path, "-o", out_dir, "--no-logo", ref])
                times.append(dt)
                print(f"otter run #{i + 1}: {dt:.1f} s", file=sys.stderr)
            results = json.loads((out_dir / "results.json").read_text())
            score = results.get("score", sum(t.get("score", 0) for t in results.get("tests", [])))
            res["otter"] = {
                "runs_s": times,
                "median_s": statistics.median(times),
                "score": score,
                "ratio_vs_engine": statistics.median(times) / res["one"]["median_s"],
            }
    res["load_after"] = _loadavg()
    return res


def markdown(res: dict, command: str) -> str:
    one, chk, b, ot = res["one"], res["check"], res["batch"], res.get("otter")
    runs = lambda xs: ", ".join(f"{x:.1f}" for x in xs)  # noqa: E731
    lines = [
        SECTION,
        "",
        f"Command: `{command}` ({res['started']}; {res['machine']}; load average "
        f"{res['load_before']} before, {res['load_after']} after). The machine was shared "
        "with other engineers' TensorFlow jobs during the run: figures are upper bounds.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| one submission end to end (`grade REF --force`, median of {len(one['runs_s'])}) | "
        f"**{one['median_s']:.1f} s** (runs: {runs(one['runs_s'])}; score {one['score']}) |",
        f"| `check` on the reference notebook (median of {len(chk['runs_s'])}) | "
        f"**{chk['median_s']:.1f} s** (runs: {runs(chk['runs_s'])}) |",
        (
            f"| batch: the first {b['submissions']} submissions (gallery + fault cases, as "
            f"graded by the engine test's `grade` run, default `--jobs` = {b['jobs']}; "
            f"from `{b['source']}`) | "
            if b.get("reused_run")
            else f"| batch of {b['submissions']} gallery submissions, default `--jobs` ({b['jobs']}) | "
        )
        + f"{b['wall_s']:.0f} s, **{b['per_minute']:.2f} submissions/minute** |",
        f"| peak memory per grading worker (its own RSS) | median {b['worker_peak_mb']['median']:.0f} MiB, "
        f"max {b['worker_peak_mb']['max']:.0f} MiB |",
        f"| peak memory of a worker's largest sandbox | median {b['sandbox_peak_mb']['median']:.0f} MiB, "
        f"max {b['sandbox_peak_mb']['max']:.0f} MiB"
        + (
            " (the max is a memory-hog fault case, stopped at the memory cap)"
            if b["sandbox_peak_mb"]["max"] > 3000
            else ""
        )
        + " |",
    ]
    if ot and "median_s" in ot:
        lines.append(
            f"| baseline: `otter run -a autograder.zip REF` (re-executes the notebook and its "
            f"training; median of {len(ot['runs_s'])}) | **{ot['median_s']:.1f} s** "
            f"(runs: {runs(ot['runs_s'])}; score {ot['score']}); "
            f"ratio otter / engine = **{ot['ratio_vs_engine']:.2f}** (the engine took "
            f"{1 / ot['ratio_vs_engine']:.1f}× otter's time here) |"
        )
    elif ot:
        lines.append(f"| baseline: `otter run` | not measured: {ot['error']} |")
    else:
        lines.append("| baseline: `otter run` | skipped (`--skip-otter`) |")
    if ot and "median_s" in ot:
        lines += [
            "",
            "`otter run` re-executes the whole reference notebook, whose training "
            "cells are deliberately short (6,000 images, 2 epochs): its time grows with "
            "the student's training, the engine's does not. The engine pays four "
            "TensorFlow start-ups per submission (one sandbox per question plus the "
            "trusted worker) and the grader's own training for q2 and q3; under the "
            "load of this run, those start-ups dominate.",
        ]
    lines += [
        "",
        "Per-question wall time of the single submission: "
        + ", ".join(f"{q} {s:.1f} s" for q, s in one["per_question_s"].items())
        + " (each question is its own sandbox process, TensorFlow's import included, "
        "plus the grader's own training for q2 and q3).",
        "",
    ]
    return "\n".join(lines)


def write_docs(text: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    body = doc.read_text(encoding="utf-8") if doc.is_file() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(body):
        body = pattern.sub(lambda m: text + "\n", body)
    else:
        body = body.rstrip("\n") + "\n\n" + text + "\n"
    tmp = doc.with_suffix(".md.tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, doc)


def _rerender(json_file: Path) -> str:
    """The Markdown section from the JSON a previous run printed (first JSON object)."""
    text = json_file.read_text(encoding="utf-8")
    res, _ = json.JSONDecoder().raw_decode(text[text.index("{") :])
    return res


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=30)
    parser.add_argument("--skip-otter", action="store_true")
    parser.add_argument("--otter-repeats", type=int, default=3)
    parser.add_argument(
        "--batch-from",
        type=Path,
        default=None,
        help="take the batch figures from a finished grade --out folder "
        "instead of grading the gallery again",
    )
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument(
        "--rerender",
        type=Path,
        default=None,
        help="rewrite the Markdown from a previous run's printed output",
    )
    args = parser.parse_args(argv)
    if args.rerender:
        res = _rerender(args.rerender)
        text = markdown(res, res.get("command", "python scripts/bench_engine.py"))
        print(text)
        if args.write_docs:
            write_docs(text)
        return 0
    command = "python scripts/bench_engine.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        res = bench(
            max(1, args.repeats),
            args.batch,
            args.skip_otter,
            Path(tmp),
            args.batch_from,
            args.otter_repeats,
        )
    res["command"] = command.strip()
    text = markdown(res, command.strip())
    print(json.dumps(res, indent=2))
    print(text)
    if args.write_docs:
        write_docs(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
