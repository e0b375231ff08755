"""Command line: ``python -m solutions.experiment [all|compare|depth|long|report]``."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

from .comparison import write_comparison_outputs
from .config import RESULTS_DIR, Config, comparison_configs, depth_config, long_config
from .depth import write_depth_outputs
from .long import write_long_outputs
from .records import _clean, atomic_write_json
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


def _study(cfgs: list[Config], out_dir: Path, writer, args, command: str) -> bool:
    out_dir.mkdir(parents=True, exist_ok=True)
    started = _dt.datetime.now(_dt.UTC)
    machine_start = machine()
    if args.action == "report":
        report = RunReport()
    else:
        report = run_study(
            cfgs, out_dir, max_runs=args.max_runs, progress=not args.no_progress, shard=args.shard
        )
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
                "machine_start": machine_start,
                "machine_end": machine(),
            }
        )
    by_budget = {}
    for r in records:
        by_budget.setdefault(r.get("budget"), []).append(r["train_seconds"])
    atomic_write_json(
        meta_path,
        _clean(
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


def _shard(text: str) -> tuple[int, int]:
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
        "--shard",
        type=_shard,
        default=(0, 1),
        metavar="I/N",
        help="train only the seeds equal to I modulo N (N parallel processes)",
    )
    args = parser.parse_args(argv)
    command = " ".join(
        ["python -m solutions.experiment", *(argv if argv is not None else sys.argv[1:])]
    )
    ok = True
    if args.action in ("all", "compare", "report"):
        cfgs = comparison_configs(args.quick, args.runs)
        ok &= _study(cfgs, args.out / "comparison", write_comparison_outputs, args, command)
    if args.action in ("all", "depth", "report"):
        cfgs = [depth_config(args.quick, args.depth_runs)]
        ok &= _study(cfgs, args.out / "depth", write_depth_outputs, args, command)
    long_saved = (args.out / "long" / "runs").is_dir()
    if args.action == "long" or (args.action == "report" and long_saved):
        cfgs = [long_config(args.quick, args.runs if args.action == "long" else None)]
        ok &= _study(cfgs, args.out / "long", write_long_outputs, args, command)
    if args.action != "report" or ok:
        show_summary(args.out, display_images=False)
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
