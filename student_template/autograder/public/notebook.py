"""Helpers for the student notebook's check cells (public checks only).

Usage in a notebook cell (or a student-side otter test)::

    from autograder.public.notebook import verifier, assert_check
    verifier("q1", globals())              # all public checks of q1, French report
    verifier("q1", globals(), lang="en")   # the same report in English
    assert_check("q1.shape", globals())    # one check

One evaluation, many views: both evaluate the definitions the kernel has
executed (IPython's input history, see :func:`notebook_code`) with the
evaluation every other path uses (:func:`autograder.public.pipeline.evaluate`:
the same extraction rule, the same definitions runner and probes, the same
``.keras`` files reloaded in safe mode, the same checks and messages), so the
notebook shows what ``check`` and the grader show. Nothing is read from the
kernel's live variables: a cell fixed and re-run is in the history, a data
variable computed by a dropped cell is not in the evaluated code. The stages
run in the kernel's process (:func:`autograder.public.pipeline.run_in_process`):
the code is the student's own, already running there. They work in the student
template, where the hidden checks are absent.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from autograder.public.assignment import NOTEBOOK
from autograder.public.checks import CheckResult
from autograder.public.checks.base import specs

#: (digest of the extracted code, questions, visibility) -> evaluation; the few most recent only.
_CACHE: dict = {}
_CACHE_SIZE = 6

#: Raised when the notebook's code cannot be found.
NO_SOURCE = (
    "le code du notebook est introuvable : exécutez cette cellule dans le notebook "
    "(Jupyter, VS Code, Colab) ou enregistrez-le sous le nom {nb} dans le dossier courant"
)


def _namespace(namespace, depth=2):
    if namespace is None:
        namespace = sys._getframe(depth).f_globals
    return namespace


def _history(namespace: dict) -> list[str] | None:
    """Sources of the executed cells, entry 0 empty; None outside IPython.

    The raw sources (as typed, magics included) of the IPython shell whose
    namespace this is; else the namespace's ``In`` / ``_ih`` (IPython's
    transformed sources).
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and getattr(shell, "user_ns", None) is namespace:
        raw = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
        if isinstance(raw, list) and len(raw) > 1 and all(isinstance(s, str) for s in raw):
            return raw
    history = namespace.get("_ih", namespace.get("In"))
    if isinstance(history, list) and len(history) > 1 and all(isinstance(s, str) for s in history):
        return history
    return None


def _saved_cells(path: Path) -> list[tuple[int, str]]:
    """``(position, source)`` of the code cells of the saved notebook (empty if unreadable)."""
    from autograder.public.extract import NotebookError, read_notebook

    try:
        nb = read_notebook(path) if path.is_file() else None
    except (NotebookError, OSError, ValueError):
        nb = None
    if nb is None:
        return []
    out = []
    for number, cell in enumerate(nb.cells, start=1):
        src = cell.get("source")
        if cell.get("cell_type") == "code" and isinstance(src, str):
            out.append((number, src))
    return out


def numbered_history(history: list[str], saved: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Number each executed cell as in the saved notebook, so messages name the same cells.

    An executed source equal to a code cell of the saved notebook (searched
    from the cell after the previous match, then from the top) gets that cell's
    position (Markdown cells counted, as ``check`` and ``grade`` number them);
    any other keeps its execution number. A saved cell executed several times
    counts once, at its last execution: "Run all" twice is the saved notebook.

    Args:
        history: the executed sources, entry 0 empty (IPython's ``In``).
        saved: ``(position, source)`` of the saved notebook's code cells.

    Returns:
        ``[(number, source), ...]`` in execution order.
    """
    out, start = [], 0
    for count, src in enumerate(history[1:], start=1):
        number, key = count, src.strip()
        for k in [*range(start, len(saved)), *range(0, start)]:
            if saved[k][1].strip() == key:
                number, start = saved[k][0], k + 1
                break
        out.append((number, src))
    last = {(number, src.strip()): i for i, (number, src) in enumerate(out)}
    return [entry for i, entry in enumerate(out) if last[entry[0], entry[1].strip()] == i]


def notebook_code(namespace: dict):
    """The notebook's extracted definitions, as the evaluation receives them.

    In order of preference: the kernel's input history (every executed cell, in
    execution order: the latest definition wins, as in the kernel), numbered as
    in the saved notebook; the source file of a module's namespace
    (``__file__``); the notebook file :data:`NOTEBOOK` of the current directory.

    Args:
        namespace: the notebook's globals.

    Returns:
        An :class:`autograder.public.extract.Extracted`.

    Raises:
        AssertionError: no source found (French message).
    """
    from autograder.public.extract import NotebookError, extract_notebook, extract_sources

    history = _history(namespace)
    if history is not None:
        return extract_sources(numbered_history(history, _saved_cells(Path(NOTEBOOK))), NOTEBOOK)
    file = namespace.get("__file__")
    if isinstance(file, str) and file.endswith(".py") and Path(file).is_file():
        return extract_sources([(1, Path(file).read_text(encoding="utf-8"))], file)
    if Path(NOTEBOOK).is_file():
        try:
            return extract_notebook(NOTEBOOK)
        except NotebookError as exc:
            raise AssertionError(str(exc)) from None
    raise AssertionError(NO_SOURCE.format(nb=NOTEBOOK))


def code_digest(code) -> str:
    """Digest of extracted definitions (its file path aside): the evaluation's whole input."""
    data = {k: v for k, v in code.to_dict().items() if k != "path"}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()


def evaluation(namespace: dict, questions, visibility=("public",)) -> dict:
    """:func:`autograder.public.pipeline.evaluate` on the notebook's code (:func:`notebook_code`).

    Cached on the extracted code itself (:func:`code_digest`): a fixed cell,
    helper or constant, once re-run, is new code and evaluated again; running a
    check cell again with nothing changed is not (a student-side otter test file
    runs several checks of one question on one evaluation). Six entries at most.

    Args:
        namespace: the notebook's globals.
        questions: question ids.
        visibility: which checks count.

    Returns:
        ``{question: question_record}``.
    """
    from autograder.public.pipeline import evaluate

    code = notebook_code(namespace)
    key = (code_digest(code), tuple(questions), tuple(visibility))
    record = _CACHE.get(key)
    if record is None:
        record = evaluate(code, list(questions), tuple(visibility), in_process=True)
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = record
    return record


def results(question: str, namespace: dict, visibility=("public",)) -> list[CheckResult]:
    """The check results of ``question`` for the notebook's code (fresh objects)."""
    from autograder.public.pipeline import check_questions, record_results

    questions = check_questions(question)
    return record_results(evaluation(namespace, questions, visibility), visibility)


LABELS = {
    "fr": {"hint": "Piste : ", "total": "Total des vérifications publiques : {e}/{t}"},
    "en": {"hint": "Hint: ", "total": "Total of the public checks: {e}/{t}"},
}


def _texts(r: CheckResult, lang: str) -> tuple[str, str, str]:
    if lang == "en":
        return (r.title_en or r.title, r.message_en or r.message, r.hint_en or r.hint)
    return r.title, r.message, r.hint


def failure_text(r: CheckResult) -> str:
    """The ``AssertionError`` text of a failed check (notebook and otter tests alike)."""
    return f"{r.id} : {r.message}\nPiste : {r.hint}"


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
    found = results(question, namespace, ("public",))
    if not quiet:
        print(format_report(found, lang))
    failed = [r for r in found if not r.passed]
    if failed and raise_on_failure:
        hint = LABELS.get(lang, LABELS["fr"])["hint"].strip()
        raise AssertionError(
            "\n".join(f"{r.id} : {_texts(r, lang)[1]} {hint} {_texts(r, lang)[2]}" for r in failed)
        )
    return found


def assert_check(check_id: str, namespace: dict | None = None) -> CheckResult:
    """Run one public check; raise ``AssertionError`` with its French message if it fails.

    Args:
        check_id: e.g. ``"q1.shape"``.
        namespace: the notebook's globals (default: the caller's globals).

    Returns:
        The passing :class:`CheckResult`.
    """
    namespace = _namespace(namespace)
    spec = next((s for s in specs() if s.id == check_id and s.visibility == "public"), None)
    if spec is None:
        raise AssertionError(f"vérification inconnue : {check_id}")
    r = next((r for r in results(spec.question, namespace, ("public",)) if r.id == check_id), None)
    if r is None:  # pragma: no cover - every check of a question has a result
        raise AssertionError(f"{check_id} : aucun résultat")
    if not r.passed:
        raise AssertionError(failure_text(r))
    return r
