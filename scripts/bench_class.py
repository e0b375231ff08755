"""Class-scale benchmarks of `grade` (docs/benchmarks.md, "Grading a class").

Usage::

    .venv/bin/python scripts/bench_class.py single [--runs 3] [--tree DIR]
    .venv/bin/python scripts/bench_class.py class [--size 40] [--jobs 2] [--tree DIR] [--dask]

``single``: one fresh submission (``grade ONE --out D --force``, no accuracy
memo) of the reference and of a typical student architecture (first residual
block at full 28x28 resolution), each alternated with a bare
``python -c "import tensorflow"`` in the same run; prints medians and the
ratio to the import.

``class``: a synthetic class of ``--size`` *distinct* correct submissions
(widths, pooling and head vary, so the accuracy memo does not hide the work),
graded with ``--jobs``; prints the wall time and submissions per minute.
``--dask`` grades it through a local ``dask scheduler`` and two
``dask worker`` processes started for the purpose (one thread each).

``--tree DIR`` runs the ``grade`` of another checkout (e.g. a worktree of an
older commit) on the same inputs: the baseline. Pass ``--sans-isolation``
through ``--extra`` for trees that do not know it.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _env(tree: Path) -> dict:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(tree),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


def student_functions(width: int, pool: bool, hidden: int) -> dict:
    """Reference sources with another width, pooling choice and head."""
    from tests.faults import reference_functions

    out = {}
    for name, src in reference_functions().items():
        src = src.replace("Conv2D(32, 3", f"Conv2D({width}, 3").replace(
            "filters=32", f"filters={width}"
        )
        if not pool:
            src = src.replace("    x = keras.layers.MaxPooling2D()(x)\n", "")
        if hidden:
            src = src.replace(
                "    x = keras.layers.GlobalAveragePooling2D()(x)\n",
                "    x = keras.layers.GlobalAveragePooling2D()(x)\n"
                f"    x = keras.layers.Dense({hidden}, activation='relu')(x)\n",
            )
        out[name] = src
    return out


def synthetic_class(folder: Path, size: int) -> Path:
    import nbformat

    from tests.faults import NOTEBOOK, make_notebook

    combos = itertools.product((8, 12, 16, 20, 24, 28, 32, 40), (True, False), (0, 32, 64))
    for i, (width, pool, hidden) in zip(range(size), combos):
        sid = f"etu{i:02d}-w{width}{'-pool' if pool else ''}-h{hidden}"
        (folder / sid).mkdir(parents=True)
        nbformat.write(
            make_notebook(student_functions(width, pool, hidden)), folder / sid / NOTEBOOK
        )
    return folder


@functools.lru_cache
def _supports(tree: Path, flag: str) -> bool:
    """Whether the ``grade`` of ``tree`` knows ``flag`` (older trees lack some)."""
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--help"],
        cwd=tree,
        env=_env(tree),
        capture_output=True,
        text=True,
    )
    return flag in proc.stdout


def _grade(tree: Path, inputs, out: Path, *extra) -> float:
    quiet = ["--no-progress"] if _supports(tree, "--no-progress") else []
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            *map(str, inputs),
            "--out",
            str(out),
            *quiet,
            "--no-report",
            "--force",
            *extra,
        ],
        cwd=tree,
        env=_env(tree),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return time.perf_counter() - t0


def _import_tf() -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import tensorflow"], check=True, env=_env(ROOT), capture_output=True
    )
    return time.perf_counter() - t0


def single(args) -> None:
    import nbformat

    from tests.faults import NOTEBOOK, make_notebook, reference_functions

    work = Path(tempfile.mkdtemp())
    cases = {
        "reference": reference_functions(),
        "first block at 28x28": student_functions(32, False, 0),
    }
    paths = {}
    for label, funcs in cases.items():
        d = work / label.replace(" ", "-")
        d.mkdir()
        nbformat.write(make_notebook(funcs), d / NOTEBOOK)
        paths[label] = d
    times = {label: [] for label in [*cases, "import tensorflow"]}
    for _ in range(args.runs):
        for label, d in paths.items():
            times["import tensorflow"].append(_import_tf())
            shutil.rmtree(work / "out", ignore_errors=True)
            times[label].append(_grade(args.tree, [d], work / "out", *args.extra))
    base = statistics.median(times["import tensorflow"])
    print("| submission | runs (s) | median | ratio to `import tensorflow` |")
    print("|---|---|---|---|")
    for label, runs in times.items():
        med = statistics.median(runs)
        print(
            f"| {label} | {', '.join(f'{t:.1f}' for t in runs)} | **{med:.1f} s** | "
            f"{med / base:.1f}x |"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _local_cluster(tree: Path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            cwd=tree,
            env=_env(tree),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]
    for _ in range(2):
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_worker",
                    address,
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    "--no-nanny",
                ],
                cwd=tree,
                env=_env(tree),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
    return address, procs


def klass(args) -> None:
    work = Path(tempfile.mkdtemp())
    cls = synthetic_class(work / "classe", args.size)
    extra = list(args.extra)
    procs = []
    if args.dask:
        address, procs = _local_cluster(args.tree)
        extra += ["--scheduler", address]
    else:
        extra += ["--jobs", str(args.jobs)]
    try:
        seconds = _grade(args.tree, [cls], work / "out", *extra)
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    records = [json.loads(p.read_text()) for p in (work / "out" / "submissions").glob("*.json")]
    full = sum(1 for r in records if r["total"] == r["max_total"])
    print(
        json.dumps(
            {
                "tree": str(args.tree),
                "size": args.size,
                "dask": args.dask,
                "jobs": args.jobs,
                "seconds": round(seconds, 1),
                "per_minute": round(60 * args.size / seconds, 2),
                "full_marks": full,
            }
        )
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("single", "class"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--dask", action="store_true")
    parser.add_argument("--extra", nargs="*", default=[])
    args = parser.parse_args(argv)
    (single if args.what == "single" else klass)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
