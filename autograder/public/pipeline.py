"""One submission, start to end: extract → run isolated → load → check → record.

Each stage is one module and one call, in this order:

1. :func:`autograder.public.extract.extract_notebook` keeps the graded definitions;
2. :func:`autograder.public.sandbox.run_questions` runs them in a sandbox and hands
   back **files only** (the trust boundary is this one call);
3. :func:`autograder.public.load.load_artefacts` reads those files with bounds and
   reloads the models in Keras's safe mode (trusted side);
4. :func:`autograder.public.checks.run_checks` scores the loaded models;
5. :func:`question_record` writes the question's part of the submission record.

The student's ``check`` and the teacher's ``grade`` both go through here; they
differ only in which checks count (``visibility``).
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from autograder.public.assignment import AUTO_QUESTIONS, DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT_S
from autograder.public.bounded import clean_text
from autograder.public.checks import CheckResult, max_points, run_checks
from autograder.public.checks.base import specs
from autograder.public.extract import extract_notebook
from autograder.public.load import load_artefacts
from autograder.public.sandbox import QuestionRun, run_questions

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
    """Grade one notebook: one sandbox for the questions, scores computed here.

    Each question is loaded and checked (the grader's own training included) in a
    thread as soon as the sandbox hands it back, while the sandbox builds the next
    one; two questions' trainings may run side by side.

    Args:
        path: the submission's ``.ipynb``.
        questions: question ids to grade (the manual ``q4`` is the engine's).
        visibility: which checks count.
        timeout_s: wall-clock budget of each stage (definitions, each question).
        memory_gb: memory cap of the sandbox, in GiB.
        isolation: ``"bubblewrap"`` (default: required), ``"process"`` or ``"auto"``.
        details: when given, filled with ``"cell_errors"``: the notebook
            statements that raised or were skipped while the definitions ran
            (``cell``, ``line``, ``error``).

    Returns:
        The ``"questions"`` part of the submission record:
        ``{question: question_record(...)}``.

    Raises:
        autograder.public.extract.NotebookError: the notebook is missing or invalid
            (``str(exc)`` is a French one-liner).
        autograder.public.sandbox.IsolationUnavailable: bubblewrap is required and
            does not work here.
    """
    if isinstance(visibility, str):
        visibility = (visibility,)
    code = extract_notebook(path)
    with (
        tempfile.TemporaryDirectory(prefix="autograder-files-") as files,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        futures = {}
        runs = run_questions(
            code,
            list(questions),
            files,
            timeout_s=timeout_s,
            memory_gb=memory_gb,
            isolation=isolation,
            on_run=lambda run: futures.setdefault(
                run.question, pool.submit(question_record, run, visibility)
            ),
        )
        record = {q: futures[q].result() for q in questions}
    if details is not None:
        details["cell_errors"] = next((r.cell_errors for r in runs if r.cell_errors), [])[:20]
    return record


def check_notebook(
    path,
    question: str | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_gb: float = DEFAULT_MEMORY_GB,
    isolation: str = "auto",
) -> list:
    """The student's fast local check: public checks, one sandbox for every question.

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
    questions = [question] if question else list(AUTO_QUESTIONS)
    for q in questions:
        if q not in AUTO_QUESTIONS:
            raise ValueError(f"question inconnue : {q} (attendu : {', '.join(AUTO_QUESTIONS)})")
    code = extract_notebook(path)
    results = []
    with tempfile.TemporaryDirectory(prefix="autograder-files-") as files:
        for run in run_questions(
            code, questions, files, timeout_s=timeout_s, memory_gb=memory_gb, isolation=isolation
        ):
            results += check_run(run, ("public",))
    return results
