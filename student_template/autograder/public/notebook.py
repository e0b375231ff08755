"""Helpers for the student notebook's check cells (public checks only).

Usage in a notebook cell (or an otter test)::

    from autograder.public.notebook import verifier, assert_check
    verifier("q1", globals())              # all public checks of q1, French report
    verifier("q1", globals(), lang="en")   # the same report in English
    assert_check("q1.shape", globals())    # one check

Both probe the student's functions exactly as grading does (same fixed
arguments, same seed, same extraction rule: see :func:`graded_namespace`) and
round-trip the models through ``.keras`` files with ``safe_mode=True``, so the
notebook sees what the grader sees. They work in the student template, where
the hidden checks are absent.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
import tempfile
import types
from pathlib import Path

from autograder.public.assignment import NOTEBOOK
from autograder.public.checks import CheckResult, run_checks, run_one
from autograder.public.checks.base import specs
from autograder.public.load import roundtrip
from autograder.public.probe import FUNCTIONS, explain_name_errors, probe
from autograder.public.statements import global_names

#: (id(namespace), question, fingerprint) -> artefacts; the few most recent only.
_CACHE: dict = {}
_CACHE_SIZE = 6

#: Types of values that are data whatever their origin (used when the notebook's
#: source is unknown): module name prefix and class name.
_DATA_TYPES = (
    ("numpy", "ndarray"),
    ("pandas", "DataFrame"),
    ("pandas", "Series"),
    ("tensorflow", "EagerTensor"),
    ("tensorflow", "Tensor"),
    ("keras", "History"),
)


def _namespace(namespace, depth=2):
    if namespace is None:
        namespace = sys._getframe(depth).f_globals
    return namespace


def _history(namespace: dict) -> list[str] | None:
    """Sources of the executed cells (IPython's ``In``), or None outside IPython."""
    history = namespace.get("_ih", namespace.get("In"))
    if isinstance(history, list) and len(history) > 1 and all(isinstance(s, str) for s in history):
        return history
    return None


def notebook_variables(namespace: dict) -> set[str]:
    """Names of ``namespace`` that grading does not compute (the notebook-variable policy).

    The extraction rule (:mod:`autograder.public.statements`) is applied to the
    notebook's source: the executed cells (IPython history) in a notebook,
    else the notebook file of the current directory (otter runs there); the
    names bound only by dropped statements (``X_train = ...``) are the
    notebook's data variables. Without any source, values of data types
    (arrays, data frames, tensors) are taken as data variables.
    """
    from autograder.public.extract import NotebookError, extract_notebook, extract_sources

    extracted = None
    history = _history(namespace)
    if history is not None:
        extracted = extract_sources(list(enumerate(history))[1:])
    elif Path(NOTEBOOK).is_file():
        try:
            extracted = extract_notebook(NOTEBOOK)
        except (NotebookError, OSError, ValueError):
            extracted = None
    if extracted is not None:
        return {n for n in extracted.variables if n in namespace}
    out = set()
    for name, value in namespace.items():
        t = type(value)
        if any(t.__module__.split(".")[0] == mod and t.__name__ == cls for mod, cls in _DATA_TYPES):
            out.add(name)
    return out


def graded_namespace(namespace: dict, variables: set[str]) -> dict:
    """``namespace`` as grading sees it: without the notebook's data ``variables``.

    The notebook's functions are rebound to the new namespace, and reading one
    of ``variables`` raises :class:`~autograder.public.probe.NotebookVariableError`,
    as in the sandbox. Returns ``namespace`` itself when ``variables`` is empty.
    """
    if not variables:
        return namespace
    ns = {k: v for k, v in namespace.items() if k not in variables}
    for name, value in list(ns.items()):
        if isinstance(value, types.FunctionType) and value.__globals__ is namespace:
            func = types.FunctionType(
                value.__code__, ns, value.__name__, value.__defaults__, value.__closure__
            )
            func.__kwdefaults__ = value.__kwdefaults__
            func.__qualname__, func.__doc__ = value.__qualname__, value.__doc__
            func.__dict__.update(value.__dict__)
            if global_names(value.__code__) & variables:
                func = explain_name_errors(func, {}, variables)
            ns[name] = func
    return ns


def _simple(value, depth=0) -> bool:
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return True
    if isinstance(value, (tuple, list, set, frozenset)) and depth < 3 and len(value) <= 64:
        return all(_simple(v, depth + 1) for v in value)
    if isinstance(value, dict) and depth < 3 and len(value) <= 64:
        return all(_simple(k, depth + 1) and _simple(v, depth + 1) for k, v in value.items())
    return False


def fingerprint(question: str, namespace: dict) -> str:
    """Digest of everything the probed function of ``question`` depends on in ``namespace``.

    Walks the globals the function reads, transitively through the notebook's
    functions and classes: the bytecode and constants of each function (so
    redefining a helper with other code changes the digest, re-running the same
    code does not), the value of simple constants, and the identity of any
    other object (module, class, instance).
    """
    digest = hashlib.sha256()
    todo, seen = [FUNCTIONS.get(question, "")], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name not in namespace:
            continue
        value = namespace[name]
        digest.update(name.encode() + b"\0")
        codes = []
        if isinstance(value, types.FunctionType):
            codes.append(value)
        elif isinstance(value, type) and value.__module__ == namespace.get("__name__"):
            digest.update(f"class {id(value)}".encode())
            codes += [v for v in vars(value).values() if isinstance(v, types.FunctionType)]
        elif isinstance(value, types.ModuleType):
            digest.update(f"module {value.__name__}".encode())
        elif _simple(value):
            digest.update(repr(value).encode("utf-8", "replace")[:4096])
        else:
            digest.update(f"{type(value).__qualname__} {id(value)}".encode())
        for func in codes:
            code = func.__code__
            try:
                digest.update(marshal.dumps(code))
            except ValueError:  # pragma: no cover - unusual constants
                digest.update(f"code {id(code)}".encode())
            for default in (func.__defaults__ or ()) + tuple((func.__kwdefaults__ or {}).values()):
                digest.update(
                    (
                        repr(default)
                        if _simple(default)
                        else f"{type(default).__qualname__} {id(default)}"
                    ).encode()[:4096]
                )
            for cell in func.__closure__ or ():
                try:
                    digest.update(f"cell {id(cell.cell_contents)}".encode())
                except ValueError:  # empty cell
                    pass
            todo += sorted(global_names(code))
    return digest.hexdigest()


def artefacts_for(question: str, namespace: dict) -> dict:
    """Probe ``question`` in ``namespace`` as grading does, round-tripping the models.

    The notebook's data variables are hidden first (:func:`notebook_variables`).
    Results are cached on the content the probe depends on (:func:`fingerprint`):
    fixing a helper, the function or a constant and re-running its cell probes
    again; re-running a check cell with nothing changed does not (an otter test
    file runs several checks of one question on the same artefacts).
    """
    variables = notebook_variables(namespace)
    key = (id(namespace), question, fingerprint(question, namespace), frozenset(variables))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is namespace:
        return cached[1]
    graded = graded_namespace(namespace, variables)
    with tempfile.TemporaryDirectory(prefix="verif_") as tmp:
        arts = roundtrip(probe(question, graded), tmp, question)
    while len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (namespace, arts)
    return arts


LABELS = {
    "fr": {"hint": "Piste : ", "total": "Total des vérifications publiques : {e}/{t}"},
    "en": {"hint": "Hint: ", "total": "Total of the public checks: {e}/{t}"},
}


def _texts(r: CheckResult, lang: str) -> tuple[str, str, str]:
    if lang == "en":
        return (r.title_en or r.title, r.message_en or r.message, r.hint_en or r.hint)
    return r.title, r.message, r.hint


def format_report(results: list[CheckResult], lang: str = "fr") -> str:
    """Short report (French, or English with ``lang="en"``), one line per check."""
    lab = LABELS.get(lang, LABELS["fr"])
    lines = []
    for r in results:
        title, message, hint = _texts(r, lang)
        mark = "✅" if r.passed else "❌"
        lines.append(f"{mark} {r.id} ({r.points:g}/{r.max_points:g}) : {title}")
        if not r.passed:
            lines.append(f"    {message}")
            if hint:
                lines.append(f"    {lab['hint']}{hint}")
    earned = sum(r.points for r in results)
    total = sum(r.max_points for r in results)
    lines.append(lab["total"].format(e=f"{earned:g}", t=f"{total:g}"))
    return "\n".join(lines)


def verifier(
    question: str,
    namespace: dict | None = None,
    raise_on_failure: bool = True,
    quiet: bool = False,
    lang: str = "fr",
) -> list[CheckResult]:
    """Run the public checks of ``question`` and print a French report.

    Args:
        question: ``"q1"``, ``"q2"`` or ``"q3"``.
        namespace: the notebook's globals (default: the caller's globals).
        raise_on_failure: raise ``AssertionError`` when a check fails.
        quiet: do not print the report.
        lang: ``"fr"`` (default) or ``"en"``.

    Returns:
        The list of :class:`CheckResult`.
    """
    namespace = _namespace(namespace)
    results = run_checks(question, artefacts_for(question, namespace), ("public",))
    if not quiet:
        print(format_report(results, lang))
    failed = [r for r in results if not r.passed]
    if failed and raise_on_failure:
        hint = LABELS.get(lang, LABELS["fr"])["hint"].strip()
        raise AssertionError(
            "\n".join(f"{r.id} : {_texts(r, lang)[1]} {hint} {_texts(r, lang)[2]}" for r in failed)
        )
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
