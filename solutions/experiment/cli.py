"""Command line: ``python -m solutions.experiment [all|compare|depth|long|report]``."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .comparison import write_comparison_outputs
from .config import RESULTS_DIR, ROOT, Config, comparison_configs, depth_config, long_config
from .depth import write_depth_outputs
from .long import write_long_outputs
from .records import atomic_write_json, json_ready
from .report import show_summary
from .runs import RunReport, load_records, plan_runs, run_study


def versions() -> dict:
    """Versions of the libraries the figures depend on."""
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in (
        "tensorflow-cpu",
        "tensorflow",
        "keras",
        "numpy",
        "scipy",
        "scikit-learn",
        "pandas",
        "seaborn",
        "matplotlib",
    ):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def machine() -> dict:
    """CPU count, platform and load averages (the machine may be shared)."""
    info = {"platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def _digest(cfgs) -> str:
    return "+".join(c.digest() for c in cfgs)


def default_jobs() -> int:
    """Training processes by default: 2 on a machine with 2 cores or more."""
    return min(2, os.cpu_count() or 1)


def _child_command(args, index: int, jobs: int) -> list[str]:
    """The command line of training process ``index`` of ``jobs`` (no outputs)."""
    cmd = [sys.executable, "-m", "solutions.experiment", args.action, "--out", str(args.out)]
    cmd += ["--shard", f"{index}/{jobs}", "--jobs", "1", "--train-only", "--no-progress"]
    if args.quick:
        cmd.append("--quick")
    for flag, value in (
        ("--runs", args.runs),
        ("--depth-runs", args.depth_runs),
        ("--max-runs", args.max_runs),
    ):
        if value is not None:
            cmd += [flag, str(value)]
    return cmd


def train_studies(studies, args) -> dict:
    """Train the missing runs of every study, in ``args.jobs`` processes.

    With ``--jobs N`` (N > 1), N - 1 child processes train shards 1..N-1 of
    every study while this one trains shard 0; each process gets
    ``cores // N`` TensorFlow threads (unless ``TF_NUM_INTRAOP_THREADS`` is
    set). Run files are written atomically, so the shards never conflict and
    an interrupted run resumes as usual.

    Returns:
        ``{out_dir: RunReport}``; ``trained`` lists every run finished during
        the call, by any process, and ``seconds`` the wall time of the call.
    """
    jobs, shard = args.jobs, args.shard
    before = {out: {r["key"] for r in load_records(cfgs, out)} for cfgs, out, _ in studies}
    children = []
    started = time.perf_counter()
    if jobs > 1 and shard == (0, 1):
        threads = {
            "TF_NUM_INTRAOP_THREADS": str(max(1, (os.cpu_count() or 1) // jobs)),
            "TF_NUM_INTEROP_THREADS": "1",
        }
        env = {**threads, **os.environ}
        if "tensorflow" not in sys.modules:  # this process's threads are not fixed yet
            os.environ.update(env)
        children = [
            subprocess.Popen(_child_command(args, i, jobs), cwd=ROOT, env=env)
            for i in range(1, jobs)
        ]
        shard = (0, jobs)
    reports = {}
    try:
        for cfgs, out, _ in studies:
            reports[out] = run_study(
                cfgs, out, max_runs=args.max_runs, progress=not args.no_progress, shard=shard
            )
    except BaseException:
        for child in children:
            child.terminate()
        raise
    finally:
        failed = [c.args for c in children if c.wait() != 0]
    for cmd in failed:
        print(f"a training process failed: {' '.join(cmd[1:])}", file=sys.stderr)
    seconds = time.perf_counter() - started
    for cfgs, out, _ in studies:
        now = {r["key"] for r in load_records(cfgs, out)}
        reports[out].trained = sorted(now - before[out])
        reports[out].seconds = seconds
    return reports


def finish_study(
    cfgs: list[Config],
    out_dir: Path,
    writer,
    args,
    command: str,
    report: RunReport | None,
    started: tuple[_dt.datetime, dict],
) -> bool:
    out_dir.mkdir(parents=True, exist_ok=True)
    started, machine_start = started
    report = report or RunReport()
    records = load_records(cfgs, out_dir)
    total = len(plan_runs(cfgs))
    study = cfgs[0].study
    print(
        f"[{study}] {len(report.trained)} run(s) trained now, "
        f"{len(records)}/{total} available in {out_dir}",
        file=sys.stderr,
    )
    if not records:
        return False
    writer(records, out_dir)
    meta_path = out_dir / "metadata.json"
    try:
        previous = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        previous = {}
    if previous.get("config_hash") != _digest(cfgs):
        previous = {}
    sessions = previous.get("sessions", [])
    if report.trained:
        sessions.append(
            {
                "command": command,
                "started": started.isoformat(timespec="seconds"),
                "ended": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "wall_seconds": round(report.seconds, 1),
                "runs_trained": len(report.trained),
                "jobs": args.jobs,
                "machine_start": machine_start,
                "machine_end": machine(),
            }
        )
    by_budget = {}
    for r in records:
        by_budget.setdefault(r.get("budget"), []).append(r["train_seconds"])
    atomic_write_json(
        meta_path,
        json_ready(
            {
                "study": study,
                "configs": [c.hashed() for c in cfgs],
                "runs_per_model": {c.budget: c.runs for c in cfgs},
                "config_hash": _digest(cfgs),
                "runs_available": len(records),
                "runs_planned": total,
                "complete": len(records) == total,
                "versions": versions(),
                "sessions": sessions,
                "training_wall_seconds_total": round(sum(s["wall_seconds"] for s in sessions), 1),
                "sum_of_run_train_seconds": round(sum(r["train_seconds"] for r in records), 1),
                "run_train_seconds_median": {
                    k: round(float(np.median(v)), 1) for k, v in by_budget.items()
                },
                "note": "machine shared with other engineers' jobs; see loadavg",
            }
        ),
    )
    return len(records) == total


def parse_shard(text: str) -> tuple[int, int]:
    """'1/2' -> (1, 2)."""
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N, got {text!r}") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"need 0 <= I < N, got {text!r}")
    return index, count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m solutions.experiment",
        description="Paired ResNet vs plain CNN comparison at two budgets, a depth study, "
        "and a longer budget ('long', not part of 'all').",
    )
    parser.add_argument(
        "action", nargs="?", default="all", choices=("all", "compare", "depth", "long", "report")
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny subsets, K=2, tiny depths, tiny long budget (tests)",
    )
    parser.add_argument(
        "--runs", type=int, help="pairs per budget (default 10); with 'long': seeds per model"
    )
    parser.add_argument("--depth-runs", type=int, help="seeds per depth (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results root")
    parser.add_argument("--max-runs", type=int, help="stop after N new trainings per study")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        help="training processes sharing the work (default: 2 on 2 cores or more); "
        "--max-runs applies to each",
    )
    parser.add_argument("--train-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--shard",
        type=parse_shard,
        default=(0, 1),
        metavar="I/N",
        help="train only the seeds equal to I modulo N (N parallel processes)",
    )
    args = parser.parse_args(argv)
    command = " ".join(
        ["python -m solutions.experiment", *(argv if argv is not None else sys.argv[1:])]
    )
    studies = []
    if args.action in ("all", "compare", "report"):
        cfgs = comparison_configs(args.quick, args.runs)
        studies.append((cfgs, args.out / "comparison", write_comparison_outputs))
    if args.action in ("all", "depth", "report"):
        cfgs = [depth_config(args.quick, args.depth_runs)]
        studies.append((cfgs, args.out / "depth", write_depth_outputs))
    long_saved = (args.out / "long" / "runs").is_dir()
    if args.action == "long" or (args.action == "report" and long_saved):
        cfgs = [long_config(args.quick, args.runs if args.action == "long" else None)]
        studies.append((cfgs, args.out / "long", write_long_outputs))
    started = (_dt.datetime.now(_dt.UTC), machine())
    reports = {} if args.action == "report" else train_studies(studies, args)
    if args.train_only:
        return 0
    ok = True
    for cfgs, out, writer in studies:
        ok &= finish_study(cfgs, out, writer, args, command, reports.get(out), started)
    if args.action != "report" or ok:
        show_summary(args.out, display_images=False)
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
