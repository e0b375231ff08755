"""The per-submission job: one notebook in, one record out, in a trusted grading process.

The client (:mod:`autograder.engine.scheduler`) builds a job with
:func:`make_job`: the notebook's bytes (the grading process needs no access to
the class folder), its hash, and the tamper evidence of the student's
repository, gathered on the client. :func:`grade_job` runs in a long-lived
trusted process, a local pool's or a Dask worker's
(:mod:`autograder.engine.executors`), and returns the record as a dictionary
(the wire format, :meth:`SubmissionRecord.to_dict`). Student code runs only in
the sandbox that :func:`autograder.public.pipeline.grade_notebook` starts.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from autograder.engine.discovery import Submission
from autograder.engine.records import (
    STATUS_ERROR,
    STATUS_GRADED,
    STATUS_INVALID,
    QuestionResult,
    SubmissionRecord,
    base_record,
    now_iso,
    question_max_points,
)
from autograder.public.assignment import AUTO_QUESTIONS
from autograder.public.assignment import NOTEBOOK as NOTEBOOK_NAME
from autograder.public.fsutil import sha256_file

#: A notebook larger or more deeply nested than this is not read.
NOTEBOOK_MAX_BYTES = 50 * 1024**2
#: Memory cap of a trusted grading process (TensorFlow, the loaded models, the
#: grader's training); what it loads is bounded first (autograder.public.bounded).
TRUSTED_MEMORY_BYTES = 8 * 1024**3
# Environment of every grading process (and, by inheritance, of its sandboxes):
# one thread each, so that --jobs processes never oversubscribe the CPU.
THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "CUDA_VISIBLE_DEVICES": "",
}


def validate_notebook(path: Path) -> str | None:
    """Whether ``path`` can be read as a notebook, before anything runs.

    The engine refuses symbolic links and files over :data:`NOTEBOOK_MAX_BYTES`
    itself; everything else is the reader every path shares
    (:func:`autograder.public.extract.read_notebook`), so ``grade`` gives an
    invalid notebook the same reason as ``check``, the notebook and the zip.

    Args:
        path: the notebook.

    Returns:
        None when it is a readable notebook, else a French message.
    """
    from autograder.public.extract import NotebookError, read_notebook

    if path.is_symlink():
        return "Le notebook est un lien symbolique : la correction ne suit pas les liens."
    try:
        if path.stat().st_size > NOTEBOOK_MAX_BYTES:
            return (
                f"Le notebook dépasse {NOTEBOOK_MAX_BYTES // 1024**2} Mo : effacez les "
                "sorties (Édition > Effacer toutes les sorties) et réenregistrez-le."
            )
    except OSError as exc:
        return f"Le notebook est illisible ({exc.strerror})."
    try:
        read_notebook(path)
    except NotebookError as exc:
        return str(exc)
    return None


def tamper_evidence(sub: Submission) -> list[str]:
    """Protected files of the student's repository that differ from the template.

    Evidence for the teacher only, gathered on the client (the grading
    process only receives the notebook); never fatal.

    Args:
        sub: the submission (``root`` None: a loose notebook, no evidence).

    Returns:
        One line per difference.
    """
    if sub.root is None:
        return []
    from autograder.delivery import tamper_report  # teacher side, heavy: only when needed

    try:
        return list(tamper_report(sub.root))
    except Exception as exc:  # noqa: BLE001 - evidence only, never fatal
        return [f"tamper check failed: {exc}"]


def grade_submission(
    sub: Submission,
    *,
    timeout_s: float,
    memory_gb: float,
    maxima: dict[str, float] | None = None,
    isolation: str = "bubblewrap",
) -> SubmissionRecord:
    """Grade one submission in this process and return its record.

    Student code runs only in the sandbox that
    :func:`autograder.public.pipeline.grade_notebook` starts.

    Args:
        sub: the submission (``notebook`` set, ``status`` None).
        timeout_s: wall-clock limit per question, in seconds.
        memory_gb: memory cap of the sandbox, in GiB.
        maxima: maximum points per question (computed when None).
        isolation: ``"bubblewrap"`` or ``"process"`` (see :mod:`autograder.public.isolation`).

    Returns:
        The submission record (schema in docs/architecture.md).
    """
    from autograder.public.extract import NotebookError
    from autograder.public.pipeline import grade_notebook

    maxima = maxima or question_max_points()
    start = time.monotonic()
    record = base_record(sub, maxima)
    record.notebook_sha256 = sha256_file(sub.notebook)
    problem = validate_notebook(sub.notebook)
    if problem:
        record.status, record.message = STATUS_INVALID, problem
    else:
        details: dict = {}
        try:
            questions = grade_notebook(
                sub.notebook,
                questions=AUTO_QUESTIONS,
                visibility=("public", "hidden"),
                timeout_s=timeout_s,
                memory_gb=memory_gb,
                isolation=isolation,
                details=details,
            )
        except NotebookError as exc:
            record.status, record.message = STATUS_INVALID, str(exc)
        else:
            record.questions = {q: QuestionResult.from_dict(r) for q, r in questions.items()}
            record.status, record.message = STATUS_GRADED, ""
            if details.get("cell_errors"):
                record.cell_errors = details["cell_errors"]
    record.tamper = tamper_evidence(sub)
    record.seconds = round(time.monotonic() - start, 2)
    record.graded_at = now_iso()
    return record.finish(maxima)


def peak_memory_mb() -> dict:
    """Peak resident memory of this process and of its largest finished child, in MB."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"worker_mb": round(self_kb / 1024, 1), "sandbox_max_mb": round(kids_kb / 1024, 1)}


def prepare_process(threads: int = 1, cache_dir: str | None = None) -> None:
    """Set up a trusted grading process: thread limits, memory cap, accuracy memo.

    Idempotent: a local pool calls it once per process (its initializer), and
    every job calls it again (a Dask worker has no initializer). Thread limits
    only take effect before TensorFlow's import, which happens once per
    process, during its first submission; later calls change nothing there.

    Args:
        threads: TensorFlow/BLAS threads of this process (the cores, shared
            among the grading processes).
        cache_dir: folder of the accuracy memo on disk (None: in memory only).
    """
    from autograder.hidden.training import CACHE_ENV

    if cache_dir:
        os.environ[CACHE_ENV] = cache_dir
    else:
        os.environ.pop(CACHE_ENV, None)
    os.environ.update(THREAD_ENV)
    for name in (
        "TF_NUM_INTRAOP_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
    ):
        os.environ[name] = str(max(1, int(threads)))
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (TRUSTED_MEMORY_BYTES, TRUSTED_MEMORY_BYTES))
    except (ValueError, OSError):  # pragma: no cover - a lower limit is already set
        pass


def make_job(
    sub: Submission,
    *,
    timeout_s: float,
    memory_gb: float,
    maxima: dict[str, float],
    isolation: str,
    run_id: str,
    threads: int,
    cache_dir: str | None,
) -> dict:
    """The job of one submission, built on the client (the notebook read once: sent and hashed).

    Args:
        sub: a gradable submission.
        timeout_s: wall-clock limit per question.
        memory_gb: memory cap of the sandbox.
        maxima: maximum points per question.
        isolation: ``"bubblewrap"`` or ``"process"``.
        run_id: the run's id (a result without it is not this run's).
        threads: threads of the grading process.
        cache_dir: accuracy memo folder, or None.

    Returns:
        The job dictionary :func:`grade_job` takes.
    """
    data = Path(sub.notebook).read_bytes()
    return {
        "id": sub.id,
        "source": sub.source,
        "notebook_display": str(sub.notebook),
        "notebook_bytes": data,
        "sha256": hashlib.sha256(data).hexdigest(),
        "tamper": tamper_evidence(sub),
        "timeout_s": float(timeout_s),
        "memory_gb": float(memory_gb),
        "maxima": maxima,
        "isolation": isolation,
        "run_id": run_id,
        "threads": threads,
        "cache_dir": cache_dir,
    }


def grade_job(job: dict) -> dict:
    """Grade one submission (a job built by :func:`make_job`) and return its record.

    Runs in a long-lived trusted process: a local pool's or a Dask worker's.
    The notebook arrives as bytes, so the process needs no access to the
    class folder; tamper evidence was gathered by the client. Keras's state
    is cleared afterwards.

    Args:
        job: ``id``, ``source``, ``notebook_display``, ``notebook_bytes``,
            ``sha256``, ``tamper``, ``timeout_s``, ``memory_gb``, ``maxima``,
            ``isolation``, ``run_id``, ``threads``, ``cache_dir``.

    Returns:
        The submission record, as a dictionary (:meth:`SubmissionRecord.to_dict`).
    """
    prepare_process(job.get("threads", 1), job.get("cache_dir"))
    tmp = Path(tempfile.mkdtemp(prefix="autograder-submission-"))
    try:
        notebook = tmp / NOTEBOOK_NAME
        notebook.write_bytes(job["notebook_bytes"])
        sub = Submission(id=job["id"], source=job["source"], notebook=notebook)
        record = grade_submission(
            sub,
            timeout_s=job["timeout_s"],
            memory_gb=job["memory_gb"],
            maxima=job.get("maxima"),
            isolation=job["isolation"],
        )
        record.notebook, record.notebook_sha256 = job["notebook_display"], job["sha256"]
        record.tamper = list(job.get("tamper") or [])
        record.run_id, record.resources = job["run_id"], peak_memory_mb()
        return record.to_dict()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        release_memory()


def release_memory() -> None:
    """Drop Keras's state and hand freed memory back to the system (between submissions).

    ``clear_session`` (with its garbage collection) frees the submission's
    models and traced functions; ``malloc_trim(0)`` hands the heap pages glibc
    still keeps back to the system (about 20 MB after a training; TensorFlow's
    own buffers stay at the largest model the process has trained, see
    docs/cluster.md).
    """
    try:
        import keras

        keras.backend.clear_session(free_memory=True)  # includes gc.collect()
    except Exception:  # noqa: BLE001 - cleaning only
        import gc

        gc.collect()
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def error_record(
    sub: Submission,
    problem: BaseException,
    maxima: dict[str, float],
    run_id: str,
    fingerprint: str | None = None,
) -> SubmissionRecord:
    """The record of a submission whose job failed (regraded on the next run).

    Args:
        sub: the submission.
        problem: what the executor returned instead of a record.
        maxima: maximum points per question.
        run_id: the run's id.
        fingerprint: :func:`autograder.engine.records.grader_fingerprint` (computed when None).

    Returns:
        A zero record with status ``error`` and a French message.
    """
    from autograder.public.isolation import IsolationUnavailable

    rec = base_record(sub, maxima, fingerprint)
    rec.notebook_sha256 = sha256_file(sub.notebook)
    rec.status = STATUS_ERROR
    rec.message = (
        f"Erreur interne du correcteur ({type(problem).__name__}) : cette "
        f"copie sera recorrigée au prochain lancement."
    )
    if isinstance(problem, IsolationUnavailable):
        rec.message += f" Sur la machine qui l'a corrigée, {problem}"
    rec.run_id = run_id
    return rec
