"""Helpers for the student notebook's check cells (public checks only).

Usage in a notebook cell (or an otter test)::

    from autograder.public.notebook import verifier, assert_check
    verifier("q1", globals())              # all public checks of q1, French report
    assert_check("q1.shape", globals())    # one check

Both probe the student's functions exactly as grading does (same fixed
arguments, same seed) and round-trip the models through ``.keras`` files with
``safe_mode=True``, so the notebook sees what the grader sees. They work in
the student template, where the hidden checks are absent.
"""
from __future__ import annotations

import sys
import tempfile

from autograder.public.checks import CheckResult, run_checks, run_one
from autograder.public.checks.base import specs
from autograder.public.load import roundtrip
from autograder.public.probe import FUNCTIONS, probe

_CACHE: dict = {}


def _namespace(namespace, depth=2):
    if namespace is None:
        namespace = sys._getframe(depth).f_globals
    return namespace


def artefacts_for(question: str, namespace: dict) -> dict:
    """Probe ``question`` in ``namespace`` and round-trip the models (cached).

    The cache key holds the namespace and the student's function object, so
    re-running the cell that defines the function probes again.
    """
    func = namespace.get(FUNCTIONS.get(question, ""))
    key = (id(namespace), question, id(func))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is func:
        return cached[1]
    with tempfile.TemporaryDirectory(prefix="verif_") as tmp:
        arts = roundtrip(probe(question, namespace), tmp, question)
    _CACHE[key] = (func, arts)
    return arts


def format_report(results: list[CheckResult]) -> str:
    """Short French report, one line per check, with message and hint on failures."""
    lines = []
    for r in results:
        mark = "✅" if r.passed else "❌"
        lines.append(f"{mark} {r.id} ({r.points:g}/{r.max_points:g}) : {r.title}")
        if not r.passed:
            lines.append(f"    {r.message}")
            if r.hint:
                lines.append(f"    Piste : {r.hint}")
    earned = sum(r.points for r in results)
    total = sum(r.max_points for r in results)
    lines.append(f"Total des vérifications publiques : {earned:g}/{total:g}")
    return "\n".join(lines)


def verifier(question: str, namespace: dict | None = None, raise_on_failure: bool = True,
             quiet: bool = False) -> list[CheckResult]:
    """Run the public checks of ``question`` and print a French report.

    Args:
        question: ``"q1"``, ``"q2"`` or ``"q3"``.
        namespace: the notebook's globals (default: the caller's globals).
        raise_on_failure: raise ``AssertionError`` (French messages) when a check fails.
        quiet: do not print the report.

    Returns:
        The list of :class:`CheckResult`.
    """
    namespace = _namespace(namespace)
    results = run_checks(question, artefacts_for(question, namespace), ("public",))
    if not quiet:
        print(format_report(results))
    failed = [r for r in results if not r.passed]
    if failed and raise_on_failure:
        raise AssertionError("\n".join(f"{r.id} : {r.message} Piste : {r.hint}" for r in failed))
    return results


def assert_check(check_id: str, namespace: dict | None = None) -> CheckResult:
    """Run one public check; raise ``AssertionError`` with its French message if it fails.

    Args:
        check_id: e.g. ``"q1.shape"``.
        namespace: the notebook's globals (default: the caller's globals).

    Returns:
        The passing :class:`CheckResult`.
    """
    namespace = _namespace(namespace)
    question = check_id.split(".")[0]
    spec = next((s for s in specs() if s.id == check_id and s.visibility == "public"), None)
    if spec is None:
        raise AssertionError(f"vérification inconnue : {check_id}")
    r = run_one(spec, artefacts_for(question, namespace))
    if not r.passed:
        raise AssertionError(f"{r.id} : {r.message}\nPiste : {r.hint}")
    return r
