"""Cost of the bubblewrap sandbox: one question, and a whole `check`, vs the process fallback.

Usage::

    .venv/bin/python scripts/bench_isolation.py --runs 5 [--baseline-tree DIR]

Each run times, alternated so that every variant sees the same load, in a
fresh interpreter (TensorFlow's import in the parent included):

* ``run_question(q1)`` and ``check_notebook`` (q1-q3) with ``isolation="bubblewrap"``;
* the same with ``isolation="process"`` (no sandbox, the kit's fallback);
* with ``--baseline-tree DIR`` (a checkout of an older commit, e.g.
  ``git worktree add /tmp/base d0df587``), the same two calls in that tree.

Prints a Markdown table of medians and ratios for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SNIPPET = """
import json, sys, tempfile, time
t0 = time.perf_counter()
from autograder.public.extract import extract_notebook
from autograder.public.pipeline import check_notebook
from autograder.public.sandbox import run_question
kw = {} if sys.argv[3] == "-" else {"isolation": sys.argv[3]}
if sys.argv[2] == "question":
    run = run_question(extract_notebook(sys.argv[1]), "q1", tempfile.mkdtemp(), **kw)
    ok = run.status == "ok"
else:
    ok = all(r.passed for r in check_notebook(sys.argv[1], **kw))
print(json.dumps({"seconds": time.perf_counter() - t0, "ok": ok}))
"""


def _time(tree: Path, notebook: Path, what: str, isolation: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", SNIPPET, str(notebook), what, isolation],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=900,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path.home()),
            "PYTHONPATH": str(tree),
            "TF_CPP_MIN_LOG_LEVEL": "3",
        },
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["ok"]:
        raise SystemExit(f"{tree} {what} {isolation}: the reference did not pass")
    return result["seconds"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-tree", type=Path, default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import nbformat

    from tests.faults import reference_notebook

    notebook = Path(tempfile.mkdtemp()) / "resnet_a_la_main.ipynb"
    nbformat.write(reference_notebook(), notebook)
    variants = [("bubblewrap", ROOT, "bubblewrap"), ("process (fallback)", ROOT, "process")]
    if args.baseline_tree:
        variants.append(("baseline tree (one process per question)", args.baseline_tree, "-"))
    times = {(name, what): [] for name, _, _ in variants for what in ("question", "check")}
    for _ in range(args.runs):
        for what in ("question", "check"):
            for name, tree, isolation in variants:
                times[(name, what)].append(_time(tree, notebook, what, isolation))
    print("| call | variant | runs (s) | median | ratio to the baseline (last row, else first) |")
    print("|---|---|---|---|---|")
    for what, label in (("question", "`run_question(q1)`"), ("check", "`check_notebook` (q1-q3)")):
        base = (
            statistics.median(times[(variants[-1][0], what)])
            if args.baseline_tree
            else statistics.median(times[(variants[0][0], what)])
        )
        for name, _, _ in variants:
            runs = times[(name, what)]
            med = statistics.median(runs)
            print(
                f"| {label} | {name} | {', '.join(f'{t:.1f}' for t in runs)} | "
                f"**{med:.1f} s** | {med / base:.2f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
