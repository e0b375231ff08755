"""``python -m autograder.delivery``: the delivery commands of the teacher's kit.

::

    python -m autograder.delivery zip [--out build/autograder.zip]   # = make autograder-zip
    python -m autograder.delivery classroom50 [--out build/classroom50]  # = make classroom50
    python -m autograder.delivery workflow                           # print the Actions workflow
    python -m autograder.delivery tamper DIR [DIR...]                # protected files report
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from autograder.delivery.classroom50 import DEFAULT_C50_DIR, build_classroom50
from autograder.delivery.facts import assignment_facts
from autograder.delivery.otter_zip import (
    DEFAULT_ZIP,
    OTTER_DIR,
    PYTHON_VERSION,
    build_autograder_zip,
)
from autograder.delivery.tamper import TEMPLATE_DIR, tamper_report
from autograder.delivery.workflow import render_workflow


def main(argv: list[str] | None = None) -> int:
    """Run one delivery command (see the module docstring).

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 2 when the otter artefacts or a directory are missing.
    """
    parser = argparse.ArgumentParser(
        prog="python -m autograder.delivery",
        description="Delivery: Actions workflow, Classroom 50, Gradescope.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    z = sub.add_parser("zip", help="build the Gradescope / otter autograder zip")
    z.add_argument(
        "--out", default=str(DEFAULT_ZIP), help="zip path (default: build/autograder.zip)"
    )
    z.add_argument("--otter-dir", default=str(OTTER_DIR), help="otter artefacts (make assign)")
    c = sub.add_parser("classroom50", help="write the Classroom 50 autograder folder")
    c.add_argument(
        "--out",
        default=str(DEFAULT_C50_DIR),
        help="destination folder (default: build/classroom50)",
    )
    sub.add_parser("workflow", help="print the generated GitHub Actions workflow")
    t = sub.add_parser("tamper", help="protected files that differ from student_template/")
    t.add_argument("dirs", nargs="+", help="cloned student repositories")
    t.add_argument("--template", default=str(TEMPLATE_DIR), help="pristine template")
    args = parser.parse_args(argv)

    if args.command == "classroom50":
        path = build_classroom50(args.out)
        facts = assignment_facts()
        n = sum(len(q["checks"]) for q in facts["questions"])
        print(
            f"wrote {path}: autograder.py ({n} public checks, "
            f"{facts['public_total']:g} points), requirements-checks.txt, runtime.json "
            f"(Python {facts['python']}), lib/autograder/"
        )
        print(
            "copy it to CLASSROOM/autograders/SLUG/ in your classroom50 configuration "
            "repository (docs/teacher_guide.md, Classroom 50)"
        )
        return 0
    if args.command == "workflow":
        sys.stdout.write(render_workflow())
        return 0

    if args.command == "zip":
        try:
            path = build_autograder_zip(args.out, args.otter_dir)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
        n_tests = sum(1 for n in names if n.startswith("tests/"))
        n_lib = sum(1 for n in names if n.startswith("files/autograder/"))
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        print(
            f"wrote {shown} ({path.stat().st_size // 1024} KiB): {n_tests} otter tests, "
            f"{n_lib} check-library files, Python {PYTHON_VERSION}, pinned requirements"
        )
        print(
            "upload it on Gradescope (Configure Autograder > Zip file upload), "
            "or test it: otter run -a build/autograder.zip resnet_a_la_main.ipynb"
        )
        return 0

    status = 0
    for d in args.dirs:
        if not Path(d).is_dir():
            print(f"error: not a directory: {d}", file=sys.stderr)
            status = 2
            continue
        lines = tamper_report(d, args.template)
        verdict = f"{len(lines)} différence(s)" if lines else "fichiers protégés intacts"
        print(f"{d.rstrip('/') or d}: {verdict}")
        for line in lines:
            print(f"  - {line}")
    return status
