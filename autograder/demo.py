"""``python -m autograder demo``: grade the bundled examples and write their report.

Teacher tooling that knows the repository's layout: the examples live in
``examples/`` (each folder holds only what its student changed), the pristine
student repository in ``student_template/``; the examples are rebuilt as full
repositories in ``build/demo-repos/`` and graded into ``out/demo/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.public.assignment import QUESTION_OK, QUESTION_STATUS_LABELS, STATUS_LABELS
from autograder.report import fmt, load_records, write_report

ROOT = Path(__file__).resolve().parents[1]
#: Files of the template and of the examples never copied into a demo repository.
DEMO_IGNORE = ("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints")


def summary_lines(records: list[dict]) -> str:
    """One line per graded example: points, percentage, status and problems.

    Args:
        records: normalised records (see :func:`autograder.report.load_records`).

    Returns:
        The lines, joined with newlines.
    """
    lines = []
    width = max((len(r["id"]) for r in records), default=10)
    for r in records:
        status = STATUS_LABELS.get(r["status"], r["status"])
        flags = [
            f"{qid} {QUESTION_STATUS_LABELS.get(q['status'], q['status'])}"
            for qid, q in r["questions"].items()
            if q["status"] not in QUESTION_OK
        ]
        if r["tamper"]:
            flags.append("fichier protégé modifié")
        lines.append(
            f"  {r['id']:<{width}}  {fmt(r['total']):>5} / {fmt(r['max_total']):<5}"
            f" {r['percent']:5.1f} %  {status}" + (f"  ({', '.join(flags)})" if flags else "")
        )
    return "\n".join(lines)


def stage_examples(examples: Path, template: Path, staging: Path) -> list[Path]:
    """Rebuild full student repositories from the examples.

    Each folder of ``examples/`` holds only what its student changed (the
    notebook, sometimes planted files); a cloned GitHub Classroom repository
    also holds the rest of the template (README, tests/, autograder/, workflow).
    Every example becomes ``staging/<name>/`` = ``template/`` overlaid with the
    example's files, so the demo's tamper check sees what a teacher would see.
    A bare ``.ipynb`` example, or any example when ``template`` is absent, is
    used as is.

    Args:
        examples: the examples folder.
        template: ``student_template/``.
        staging: where the repositories are rebuilt (emptied first).

    Returns:
        The submissions to grade, sorted by name.
    """
    subs = sorted(
        p
        for p in examples.iterdir()
        if not p.name.startswith(".") and (p.is_dir() or p.suffix == ".ipynb")
    )
    if not template.is_dir():
        return subs
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    staged = []
    ignore = shutil.ignore_patterns(*DEMO_IGNORE)
    for sub in subs:
        if not sub.is_dir():
            staged.append(sub)
            continue
        target = staging / sub.name
        shutil.copytree(template, target, ignore=ignore)
        shutil.copytree(sub, target, ignore=ignore, dirs_exist_ok=True)
        staged.append(target)
    return staged


def run_demo(
    examples_dir: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    extra_args=(),
) -> Path:
    """Grade the bundled example submissions and write their report.

    Rebuilds each example as a full student repository under
    ``build/demo-repos/`` (see :func:`stage_examples`), runs
    ``python -m autograder grade build/demo-repos/* --out out/demo`` (the
    engine's command line, so the demo exercises exactly what a teacher runs;
    a rerun only regrades changed notebooks), then
    :func:`autograder.report.write_report`, and prints the report's path and a
    summary.

    Args:
        examples_dir: folder of example submissions (default ``examples/``).
        out_dir: output folder (default ``out/demo``).
        extra_args: extra arguments for ``grade`` (e.g. ``["--jobs", "2"]``).

    Returns:
        The path of ``report.html``.

    Raises:
        SystemExit: when there is no example, or the engine fails and produced no record.
    """
    examples = Path(examples_dir) if examples_dir else ROOT / "examples"
    out = Path(out_dir) if out_dir else ROOT / "out" / "demo"
    if not examples.is_dir():
        raise SystemExit(f"demo: dossier d'exemples introuvable : {examples}")
    subs = stage_examples(examples, ROOT / "student_template", ROOT / "build" / "demo-repos")
    if not subs:
        raise SystemExit(f"demo: aucune soumission d'exemple dans {examples}")
    print(
        f"Correction de {len(subs)} soumissions d'exemple ({examples}) dans {out} ...",
        file=sys.stderr,
        flush=True,
    )
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        *map(str, subs),
        "--out",
        str(out),
        "--no-report",
        *extra_args,
    ]
    proc = subprocess.run(cmd, cwd=str(ROOT))
    records = load_records(out)
    if proc.returncode != 0:
        print(f"demo: la correction s'est terminée avec le code {proc.returncode}", file=sys.stderr)
        if not records:
            raise SystemExit(proc.returncode or 1)
    report = write_report(out)
    print("\nRésultats des exemples :")
    print(summary_lines(records))
    print(f"\nRapport : {report}")
    print(f"Carnet de notes : {out / 'gradebook.csv'}")
    return report
