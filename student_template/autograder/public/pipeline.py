"""One submission, start to end: extract → run isolated → load → check → record.

Each stage is one module and one call, in this order:

1. :func:`autograder.public.extract.extract_notebook` keeps the graded definitions;
2. :func:`autograder.public.sandbox.run_questions` runs them in a sandbox and hands
   back **files only** (the trust boundary is this one call);
3. :func:`autograder.public.load.load_artefacts` reads those files with bounds and
   reloads the models in Keras's safe mode (trusted side);
4. :func:`autograder.public.checks.run_checks` scores the loaded models;
5. :func:`question_record` writes the question's part of the submission record.

One evaluation, many views: :func:`evaluate` is the only function that turns
extracted definitions into check results. Every path calls it: ``check`` and each
GitHub Actions step (:func:`check_notebook`), the teacher's ``grade`` and the
otter/Gradescope zip (:func:`grade_notebook`, on the submitted file), the
notebook's ``verifier`` and ``assert_check`` (on the definitions the kernel has
executed, :mod:`autograder.public.notebook`). The paths differ only in which
checks count (``visibility``: a path adds the hidden checks, never replaces the
public ones) and in how they show the results (docs/checks.md, "One evaluation,
many views").
"""

from __future__ import annotations

import builtins
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.public.assignment import AUTO_QUESTIONS, DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT_S
from autograder.public.bounded import clean_text
from autograder.public.checks import CheckResult, max_points, run_checks
from autograder.public.checks.base import specs
from autograder.public.extract import Extracted, extract_notebook
from autograder.public.load import load_artefacts
from autograder.public.sandbox import QuestionRun, read_result, run_questions

#: Longest check message shown (it may quote names chosen by the student).
MESSAGE_LIMIT = 600


#: English message and hint of a question whose code did not finish, per status.
NOT_RUN_EN = {
    "timeout": (
        "expected the question's code to finish within the time limit, got a run "
        "stopped at the limit.",
        "Look for a loop that never ends (while, recursion) in your function or those it "
        "calls: building the model must take a few seconds, without training.",
    ),
    "memory": (
        "expected the question's code to stay within the memory limit, got an "
        "allocation refused beyond it.",
        "Your code asks for too much memory: do not load data or create large arrays "
        "in your functions; check the size of your layers.",
    ),
    "crashed": (
        "expected the question's code to finish normally, got a Python process that "
        "stopped abruptly.",
        "Use neither ctypes nor native extensions, start no other process, and run "
        "your function alone in a fresh kernel to reproduce the problem.",
    ),
    "exited": (
        "expected the question's code to return normally, got a call to sys.exit that "
        "stops the program.",
        "Call neither sys.exit(), exit() nor os._exit() in the notebook's code.",
    ),
    "error": (
        "expected the question's code to run, got an error before the checks.",
        "Run the notebook from top to bottom in a fresh kernel (Kernel > Restart and run "
        "all) and fix the first error shown.",
    ),
}


def _not_run_checks(run: QuestionRun, visibility) -> list[CheckResult]:
    """Every check of a question whose code did not finish: zero, with the run's message.

    The English message and hint are the run's twins (:attr:`QuestionRun.message_en`,
    :attr:`QuestionRun.hint_en`), else the status's generic ones (:data:`NOT_RUN_EN`).
    """
    message_en, hint_en = NOT_RUN_EN.get(run.status, NOT_RUN_EN["error"])
    message_en = run.message_en or message_en
    hint_en = run.hint_en or hint_en
    return [
        CheckResult(
            id=s.id,
            question=s.question,
            title=s.title,
            points=0.0,
            max_points=s.points,
            passed=False,
            visibility=s.visibility,
            message=run.message,
            hint=run.hint,
            message_en=message_en,
            title_en=s.title_en or None,
            hint_en=hint_en if run.hint else None,
        )
        for s in specs()
        if s.question == run.question and s.visibility in visibility and not s.manual
    ]


def check_run(run: QuestionRun, visibility) -> list[CheckResult]:
    """Load a question's files and score them; every text cleaned.

    Args:
        run: what the sandbox handed back for one question.
        visibility: which checks count (``("public",)`` or ``("public", "hidden")``).

    Returns:
        The question's check results, in registry order.
    """
    if run.status in ("ok", "error") and run.files is not None:
        results = run_checks(run.question, load_artefacts(run.files, run.question), visibility)
    else:
        results = _not_run_checks(run, visibility)
    for r in results:
        r.message = clean_text(r.message, MESSAGE_LIMIT)
        r.hint = clean_text(r.hint, MESSAGE_LIMIT)
        if r.message_en is not None:
            r.message_en = clean_text(r.message_en, MESSAGE_LIMIT)
        if r.hint_en is not None:
            r.hint_en = clean_text(r.hint_en, MESSAGE_LIMIT)
    return results


def question_record(run: QuestionRun, visibility) -> dict:
    """The ``questions[q]`` part of a submission record for one run.

    Args:
        run: what the sandbox handed back for one question.
        visibility: which checks count.

    Returns:
        ``{"score", "max_score", "status", "message", "seconds", "peak_rss_mb",
        "checks": [CheckResult.to_dict(), ...]}``; ``seconds`` includes the checks.
    """
    t0 = time.perf_counter()
    checks = check_run(run, visibility)
    return {
        "score": float(sum(c.points for c in checks)),
        "max_score": float(max_points(run.question, visibility)),
        "status": run.status,
        "message": run.message,
        "seconds": round(run.seconds + time.perf_counter() - t0, 3),
        "peak_rss_mb": round(run.peak_rss_mb, 1),
        "checks": [c.to_dict() for c in checks],
    }


def _importable_roots() -> list[Path]:
    """Folders the sandbox's child imports from: the interpreter's libraries and packages."""
    import site
    import sysconfig

    paths = {Path(p) for p in site.getsitepackages()}
    paths |= {
        Path(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib", "purelib", "platlib")
    }
    return [p.resolve() for p in paths]


def _module_places(root: str) -> list[str] | None:
    """Where the top-level module ``root`` comes from (files or folders); None: built in."""
    import importlib.util
    import sys

    module = sys.modules.get(root)
    if module is not None:
        file = getattr(module, "__file__", None)
        places = list(getattr(module, "__path__", []) or [])
        return [file] if file else (places or None)
    try:
        spec = importlib.util.find_spec(root)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and spec.has_location:
        return [spec.origin]
    return list(spec.submodule_search_locations or []) or None


def sandbox_builtins() -> dict:
    """Builtins whose ``import`` finds only what the sandbox's child finds.

    The child imports from the interpreter's libraries and packages and a copy of
    ``autograder.public`` only (``python -s``, its own ``PYTHONPATH``): a module of
    the student's folder, of the user's site or of the kernel's extra paths is not
    there. :func:`run_in_process` gives its namespace these builtins so that such an
    import fails in the kernel as it fails in ``check`` (``ModuleNotFoundError``).
    """
    roots = _importable_roots()
    real = builtins.__import__

    def allowed(name: str, fromlist) -> bool:
        root = name.partition(".")[0]
        if root == "autograder":
            names = [name] if name != "autograder" else [f"autograder.{f}" for f in fromlist or ()]
            return all(
                n == "autograder.public" or n.startswith("autograder.public.") for n in names
            )
        places = _module_places(root)
        if places is None:
            return True
        for place in places:
            resolved = Path(place).resolve()
            if not any(resolved == r or r in resolved.parents for r in roots):
                return False
        return True

    def sandbox_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name and not allowed(name, fromlist):
            root = name.partition(".")[0]
            raise ModuleNotFoundError(f"No module named '{root}'", name=root)
        return real(name, globals, locals, fromlist, level)

    return {**vars(builtins), "__import__": sandbox_import}


def run_in_process(
    code: Extracted, questions, dest, *, memory_gb: float = DEFAULT_MEMORY_GB
) -> list[QuestionRun]:
    """The sandbox child's stages, run in this process: for the student's own kernel only.

    The same functions as the child (:func:`autograder.public.untrusted.execute`
    on a copy of ``code`` in a fresh namespace, then
    :func:`autograder.public.untrusted.run_question`), the same files, read
    back by the same reader (:func:`autograder.public.sandbox.read_result`).
    Imports find what the child finds (:func:`sandbox_builtins`). Without a
    process there is no time, memory or isolation bound: the
    notebook's helpers use this because the code is the student's own, already
    running in their kernel; ``check`` and ``grade`` never do.

    Args:
        code: the extracted definitions.
        questions: question ids, in order.
        dest: an existing folder: each question's files go to ``dest/<question>/``.
        memory_gb: the memory cap named in memory messages.

    Returns:
        One :class:`QuestionRun` per question, in order.
    """
    from autograder.public import untrusted
    from autograder.public.sandbox import exec_errors, unavailable_run

    code = Extracted.from_dict(code.to_dict())  # execute() records names it could not bind
    runs = {q: unavailable_run(code, q) for q in questions}
    todo = [q for q in questions if runs[q] is None]
    if todo:
        namespace: dict = {"__name__": "__main__", "__builtins__": sandbox_builtins()}
        t0 = time.perf_counter()
        try:
            errors, exit_during_exec = untrusted.execute(code, namespace), None
        except SystemExit as exc:
            errors, exit_during_exec = [], exc
        errors = exec_errors({"errors": errors})
        with tempfile.TemporaryDirectory(prefix="autograder-kernel-") as work:
            for q in todo:
                untrusted.run_question(
                    code, namespace, q, Path(work) / q, memory_gb, exit_during_exec, True
                )
                run = QuestionRun(question=q, status="error", cell_errors=errors)
                if not read_result(Path(work) / q, run, Path(dest)):  # pragma: no cover
                    run.message = "erreur interne du correcteur : aucun résultat"
                run.seconds = time.perf_counter() - t0
                runs[q] = run
                t0 = time.perf_counter()
    return [runs[q] for q in questions]


def evaluate(
    code: Extracted,
    questions=AUTO_QUESTIONS,
    visibility=("public", "hidden"),
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_gb: float = DEFAULT_MEMORY_GB,
    isolation: str = "bubblewrap",
    in_process: bool = False,
    details: dict | None = None,
) -> dict:
    """The one evaluation behind every path: extracted definitions in, question records out.

    Each question is loaded and checked (the grader's own training included) in a
    thread as soon as the sandbox hands it back, while the sandbox builds the next
    one; two questions' trainings may run side by side.

    Args:
        code: the extracted definitions (:func:`autograder.public.extract.extract_notebook`
            or :func:`autograder.public.extract.extract_sources`).
        questions: question ids (the manual ``q4`` is the engine's).
        visibility: which checks count.
        timeout_s: wall-clock budget of each stage (definitions, each question).
        memory_gb: memory cap of the sandbox, in GiB.
        isolation: ``"bubblewrap"``, ``"process"`` or ``"auto"``.
        in_process: run the stages in this process (:func:`run_in_process`; the
            notebook's kernel) instead of a sandbox.
        details: when given, filled with ``"cell_errors"``: the notebook
            statements that raised or were skipped while the definitions ran
            (``cell``, ``line``, ``error``).

    Returns:
        ``{question: question_record(...)}`` (the ``"questions"`` part of a
        submission record).

    Raises:
        autograder.public.sandbox.IsolationUnavailable: bubblewrap is required and
            does not work here.
    """
    if isinstance(visibility, str):
        visibility = (visibility,)
    questions = list(questions)
    with (
        tempfile.TemporaryDirectory(prefix="autograder-files-") as files,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        futures = {}

        def on_run(run):
            futures.setdefault(run.question, pool.submit(question_record, run, visibility))

        if in_process:
            runs = run_in_process(code, questions, files, memory_gb=memory_gb)
            for run in runs:
                on_run(run)
        else:
            runs = run_questions(
                code,
                questions,
                files,
                timeout_s=timeout_s,
                memory_gb=memory_gb,
                isolation=isolation,
                on_run=on_run,
            )
        record = {q: futures[q].result() for q in questions}
    if details is not None:
        details["cell_errors"] = next((r.cell_errors for r in runs if r.cell_errors), [])[:20]
    return record


def record_results(record: dict, visibility=("public", "hidden")) -> list[CheckResult]:
    """The check results of an evaluation (:func:`evaluate`), in question and registry order.

    Args:
        record: ``{question: question_record}``.
        visibility: which checks to keep.

    Returns:
        ``list[CheckResult]``.
    """
    if isinstance(visibility, str):
        visibility = (visibility,)
    return [
        CheckResult.from_dict(c)
        for q in record
        for c in record[q]["checks"]
        if c.get("visibility") in visibility
    ]


def grade_notebook(
    path,
    *,
    questions=AUTO_QUESTIONS,
    visibility=("public", "hidden"),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_gb: float = DEFAULT_MEMORY_GB,
    isolation: str = "bubblewrap",
    details: dict | None = None,
) -> dict:
    """Grade one notebook file: :func:`evaluate` on its extracted definitions.

    Args:
        path: the submission's ``.ipynb``.
        questions, visibility, timeout_s, memory_gb, isolation, details: as for
            :func:`evaluate`.

    Returns:
        The ``"questions"`` part of the submission record:
        ``{question: question_record(...)}``.

    Raises:
        autograder.public.extract.NotebookError: the notebook is missing or invalid
            (``str(exc)`` is a French one-liner).
        autograder.public.sandbox.IsolationUnavailable: bubblewrap is required and
            does not work here.
    """
    return evaluate(
        extract_notebook(path),
        questions,
        visibility,
        timeout_s=timeout_s,
        memory_gb=memory_gb,
        isolation=isolation,
        details=details,
    )


def check_questions(question: str | None) -> list[str]:
    """``[question]`` or every automatic question; ValueError (French) for an unknown one."""
    questions = [question] if question else list(AUTO_QUESTIONS)
    for q in questions:
        if q not in AUTO_QUESTIONS:
            raise ValueError(f"question inconnue : {q} (attendu : {', '.join(AUTO_QUESTIONS)})")
    return questions


def check_notebook(
    path,
    question: str | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_gb: float = DEFAULT_MEMORY_GB,
    isolation: str = "auto",
) -> list:
    """The student's fast local check: :func:`evaluate` with the public checks only.

    Args:
        path: the notebook.
        question: ``"q1"``, ``"q2"`` or ``"q3"``; None for all three.
        timeout_s: wall-clock budget of each stage.
        memory_gb: memory cap of the sandbox, in GiB.
        isolation: ``"auto"`` (bubblewrap when it works here, else a bounded
            child process: a student's own machine), ``"bubblewrap"`` or ``"process"``.

    Returns:
        ``list[CheckResult]`` (public checks only), in question order.

    Raises:
        autograder.public.extract.NotebookError: the notebook is missing or invalid.
        ValueError: unknown question.
    """
    questions = check_questions(question)
    record = evaluate(
        extract_notebook(path),
        questions,
        ("public",),
        timeout_s=timeout_s,
        memory_gb=memory_gb,
        isolation=isolation,
    )
    return record_results(record, ("public",))
