"""In-process grading of gallery notebooks (tests only; the engine grades in sandboxes).

``python -m tests.gallery.grading probe <notebook> <outdir>`` runs the probe
of every question in a separate process (used for cases that monkeypatch
numpy or Keras, so that the test process stays clean).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.gallery import ROOT, notebook_code

QUESTIONS = ("q1", "q2", "q3")
_KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def definitions(cells: list[str]) -> list[str]:
    """Definition-only code of each cell (imports, functions, classes, literal constants).

    Magics (``%``, ``!``) are dropped; a cell that does not compile is skipped.
    """
    out = []
    for src in cells:
        lines = [l for l in src.splitlines() if not l.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        body = []
        for node in tree.body:
            if isinstance(node, _KEEP):
                body.append(node)
            elif isinstance(node, ast.Assign):
                try:
                    ast.literal_eval(node.value)
                    body.append(node)
                except ValueError:
                    pass
        if body:
            out.append(ast.unparse(ast.Module(body=body, type_ignores=[])))
    return out


def execute(path) -> dict:
    """Execute the definitions of a notebook in a fresh namespace (cell by cell)."""
    ns: dict = {"__name__": "__student__"}
    for code in definitions(notebook_code(path)):
        try:
            exec(compile(code, str(path), "exec"), ns)
        except Exception:
            pass
    return ns


def question_key(question: str, path) -> tuple:
    """What the outcome of ``question`` depends on: imports + the function and its dependencies.

    Two notebooks with the same key get the same results (grading is
    deterministic), which lets the tests grade shared code once.
    """
    from autograder.public.probe import FUNCTIONS

    defs, imports = {}, []
    for code in definitions(notebook_code(path)):
        for node in ast.parse(code).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defs[node.name] = node
            else:
                imports.append(ast.unparse(node))
    todo, seen = [FUNCTIONS[question]], set()
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        todo += [n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name)]
    return (question, tuple(imports), tuple(ast.unparse(defs[n]) for n in sorted(seen)))


def probe_to(path, outdir) -> None:
    """Probe every question of a notebook and save the artefacts in ``outdir/<q>``."""
    from autograder.public.probe import probe, save_artefacts

    ns = execute(path)
    for q in QUESTIONS:
        save_artefacts(probe(q, ns), Path(outdir) / q)


def grade(path, visibility=("public", "hidden"), isolate=False, skip=(), memo=None) -> dict:
    """Grade one notebook: ``{"status": ..., "results": {check_id: CheckResult}}``.

    Args:
        path: notebook path.
        visibility: visibilities of the checks to run.
        isolate: probe in a subprocess (cheats that monkeypatch libraries).
        skip: check ids not to run (e.g. the training checks).
        memo: optional dict reused across calls: questions whose code is
            identical to an already graded one (:func:`question_key`) reuse its results.
    """
    from autograder.public.checks import run_one
    from autograder.public.checks.base import specs
    from autograder.public.load import load_artefacts
    from autograder.public.probe import probe, save_artefacts

    try:
        notebook_code(path)
    except (ValueError, UnicodeDecodeError):
        return {"status": "invalid-notebook", "results": {}}
    memo = {} if memo is None or isolate else memo
    results = {}
    with tempfile.TemporaryDirectory(prefix="gallery_") as tmp:
        if isolate:
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            subprocess.run(
                [sys.executable, "-m", "tests.gallery.grading", "probe", str(path), tmp],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=600,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        ns = None
        for q in QUESTIONS:
            key = (question_key(q, path), tuple(visibility), tuple(skip))
            if key in memo:
                results.update(memo[key])
                continue
            if not isolate:
                ns = execute(path) if ns is None else ns
                save_artefacts(probe(q, ns), Path(tmp) / q)
            arts = load_artefacts(Path(tmp) / q, q)
            done = {}
            for spec in specs():
                if (
                    spec.question == q
                    and spec.visibility in visibility
                    and not spec.manual
                    and spec.id not in skip
                ):
                    done[spec.id] = run_one(spec, arts)
            memo[key] = done
            results.update(done)
    return {"status": "graded", "results": results}


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "probe":
        probe_to(sys.argv[2], sys.argv[3])
    else:
        print(json.dumps({"usage": "python -m tests.gallery.grading probe NOTEBOOK OUTDIR"}))
        sys.exit(2)
