"""Bounded execution of student code, one OS process per question (trusted side).

:func:`run_question` starts ``python -m autograder.worker`` (see
:mod:`autograder.worker`) with:

* a new session (its own process group, killed as a whole), stdin closed,
  stdout/stderr captured and truncated to :data:`OUTPUT_LIMIT` characters;
* cwd in a fresh temporary folder, ``HOME``/``TMPDIR`` inside it, a minimal
  environment (no variable of the grader's is passed on), TensorFlow/OpenMP/BLAS
  limited to one thread;
* a staged copy of ``autograder/{__init__,extract,probe,worker}.py`` as its only
  package path: the checks, hidden ones included, are not importable there, and
  the worker is never told where the grader writes its outputs;
* file writes confined to the job's temporary folder (and ``/dev``) with
  Linux's Landlock where the kernel offers it (:func:`autograder.worker.restrict_writes`;
  reading stays allowed: Python needs its libraries);
* bounds: a wall-clock timeout (the whole process group is killed), a memory
  cap enforced twice: ``RLIMIT_DATA`` set by the worker on itself (an
  allocation beyond it fails at once, without touching the machine's memory;
  unlike ``RLIMIT_AS`` it does not count TensorFlow's address-space
  reservations) and a watchdog that polls the RSS of the whole process tree
  every :data:`POLL_S` seconds and kills it beyond the cap (children, native
  allocators).

Statuses: ``ok`` (the probe ran to its end), ``timeout``, ``memory``,
``crashed`` (killed by a signal: segfault, abort...), ``exited`` (``sys.exit``,
``os._exit``), ``error`` (the student's function raised or is missing, or a
syntax error made it unavailable). Each comes with a French message.

Scores are computed here, by trusted code: the artefacts come back as ``.keras``
files loaded with ``safe_mode=True`` (:func:`autograder.probe.load_artefacts`),
then :func:`autograder.checks.run_checks` grades them.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.extract import QUESTION_FUNCTIONS, Extracted, extract_notebook

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MEMORY_GB = 4.0
OUTPUT_LIMIT = 20_000
POLL_S = 0.05
STATUSES = ("ok", "timeout", "memory", "crashed", "exited", "error")

_PACKAGE = Path(__file__).resolve().parent
_STAGED = ("__init__.py", "extract.py", "probe.py", "worker.py")
_CHECKS_READY = threading.Event()

_HINTS = {
    "timeout": ("Cherchez une boucle qui ne se termine pas (while, récursion) dans votre "
                "fonction ou celles qu'elle appelle : construire le modèle doit prendre "
                "quelques secondes, sans entraînement."),
    "memory": ("Votre code demande trop de mémoire : ne chargez pas de données et ne créez "
               "pas de grands tableaux dans vos fonctions ; vérifiez la taille de vos couches."),
    "crashed": ("Le processus Python s'est arrêté brutalement : n'utilisez ni ctypes ni "
                "extension native, et exécutez votre fonction seule dans un noyau neuf pour "
                "reproduire le problème."),
    "exited": "N'appelez ni sys.exit(), ni exit(), ni os._exit() dans le code du notebook.",
    "error": ("Exécutez le notebook de haut en bas dans un noyau neuf (Noyau > Redémarrer et "
              "tout exécuter) et corrigez la première erreur affichée."),
}


@dataclass
class QuestionRun:
    """What one bounded run of one question gave back.

    Attributes:
        question: ``"q1"``...
        status: one of :data:`STATUSES`.
        message: French one-liner, empty when ``status == "ok"``.
        seconds: wall time of the worker process (shared by every question of a
            multi-question run).
        artefacts: ``{name: keras.Model | ProbeFailure}`` loaded in safe mode;
            empty unless the worker finished the question (``ok`` or ``error``).
        peak_rss_mb: peak resident memory of the worker's process tree.
        returncode: the worker's exit status (negative: killed by a signal).
        stdout: the worker's standard output, truncated.
        stderr: the worker's standard error, truncated.
        cell_errors: statements of kept cells that raised (``cell``, ``line``,
            ``names``, ``error``).
        finished: whether the worker reported on this question itself.
        confined: whether the worker's file writes were confined to its own
            temporary folder (Landlock, Linux 5.13+).
    """

    question: str
    status: str
    message: str = ""
    seconds: float = 0.0
    artefacts: dict = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    cell_errors: list = field(default_factory=list)
    finished: bool = False
    confined: bool = False

    @property
    def hint(self) -> str:
        """French hint for a failed run."""
        return "" if self.status == "ok" else _HINTS.get(self.status, "")


# ---------------------------------------------------------------- the process


class _Capture(threading.Thread):
    """Drain a pipe, keeping the first and last OUTPUT_LIMIT/2 characters."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe, self.head, self.tail, self.dropped = pipe, b"", b"", 0

    def run(self):
        half = OUTPUT_LIMIT // 2
        for chunk in iter(lambda: self.pipe.read1(65536), b""):
            if len(self.head) < half:
                take = half - len(self.head)
                self.head += chunk[:take]
                chunk = chunk[take:]
            self.tail = (self.tail + chunk)
            if len(self.tail) > half:
                self.dropped += len(self.tail) - half
                self.tail = self.tail[-half:]

    def text(self) -> str:
        middle = f"\n[… {self.dropped} octets omis …]\n" if self.dropped else ""
        return (self.head + middle.encode() + self.tail).decode("utf-8", "replace")


def _environment(job_dir: Path, work: Path) -> dict:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(work), "TMPDIR": str(job_dir / "tmp"),
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "PYTHONPATH": str(job_dir / "lib"), "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "KERAS_BACKEND": "tensorflow", "KERAS_HOME": str(work / ".keras"),
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(job_dir / "tmp"),
        "CUDA_VISIBLE_DEVICES": "-1",
    }
    return env


def _stage(job_dir: Path) -> None:
    lib = job_dir / "lib" / "autograder"
    lib.mkdir(parents=True)
    for name in _STAGED:
        shutil.copyfile(_PACKAGE / name, lib / name)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _Worker:
    """One worker process and its watchdog."""

    def __init__(self, code: Extracted, questions: list[str], timeout_s: float,
                 memory_gb: float):
        self.questions, self.timeout_s, self.memory_gb = questions, timeout_s, memory_gb
        self.root = Path(tempfile.mkdtemp(prefix="autograder-"))
        self.job_dir = self.root / "job"
        work = self.job_dir / "work"
        for d in (work, self.job_dir / "tmp", self.job_dir / "out"):
            d.mkdir(parents=True)
        _stage(self.job_dir)
        (self.job_dir / "job.json").write_text(json.dumps(
            {"code": code.to_dict(), "questions": questions, "memory_gb": memory_gb},
            ensure_ascii=False), encoding="utf-8")
        self.killed_for: str | None = None
        self.peak_rss = 0
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-s", "-m", "autograder.worker", str(self.job_dir)],
            cwd=work, env=_environment(self.job_dir, work), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            close_fds=True)
        self.out, self.err = _Capture(self.proc.stdout), _Capture(self.proc.stderr)
        self.out.start()
        self.err.start()
        self.watchdog = threading.Thread(target=self._watch, daemon=True)
        self.watchdog.start()

    def _watch(self) -> None:
        import psutil

        cap = self.memory_gb * 1024 ** 3
        try:
            root = psutil.Process(self.proc.pid)
        except psutil.Error:
            return
        known: dict[int, psutil.Process] = {}
        while self.proc.poll() is None:
            try:
                tree = [root] + root.children(recursive=True)
            except psutil.Error:
                tree = [root]
            rss = 0
            for p in tree:
                known.setdefault(p.pid, p)
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_rss = max(self.peak_rss, rss)
            if rss > cap:
                self._kill("memory", known)
                return
            if time.perf_counter() - self.started > self.timeout_s:
                self._kill("timeout", known)
                return
            time.sleep(POLL_S)
        self._kill(None, known)  # stragglers left in the group or escaped

    def _kill(self, reason, known) -> None:
        if reason and self.killed_for is None:
            self.killed_for = reason
        try:
            if hasattr(os, "killpg"):
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:  # pragma: no cover - not POSIX
                self.proc.kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass
        for p in known.values():
            try:
                if p.pid != os.getpid():
                    p.kill()
            except Exception:  # noqa: BLE001 - already gone
                pass

    def wait(self) -> float:
        self.proc.wait()
        self.watchdog.join()
        self.out.join(timeout=5)
        self.err.join(timeout=5)
        return time.perf_counter() - self.started

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _failed_message(worker: _Worker, question: str, seconds: float) -> tuple[str, str]:
    """Status and French message of a question without result.json."""
    name = QUESTION_FUNCTIONS.get(question, "le code du notebook")
    rc = worker.proc.returncode
    if worker.killed_for == "timeout":
        return "timeout", (f"attendu : `{name}` rend son résultat dans le temps limite de "
                           f"{worker.timeout_s:g} s, reçu : toujours en cours au bout de "
                           f"{worker.timeout_s:g} s (exécution arrêtée).")
    if worker.killed_for == "memory" or (rc == -signal.SIGKILL and worker.killed_for is None):
        return "memory", (f"attendu : au plus {worker.memory_gb:g} Go de mémoire, reçu : "
                          f"une consommation au-delà (exécution arrêtée).")
    stderr = worker.err.text()
    if any(m in stderr for m in ("MemoryError", "bad_alloc", "ResourceExhausted",
                                 "Unable to allocate")):
        return "memory", (f"attendu : au plus {worker.memory_gb:g} Go de mémoire, reçu : "
                          f"une allocation refusée au-delà de cette limite.")
    if (rc is not None and rc > 0 and not (worker.job_dir / "out" / "exec.json").exists()
            and "Traceback" in stderr):
        return "error", ("erreur interne du correcteur avant l'exécution de votre code : "
                         "montrez ce message à votre enseignant·e. "
                         + stderr.strip().splitlines()[-1][:200])
    if rc is not None and rc < 0:
        return "crashed", (f"attendu : `{name}` s'exécute normalement, reçu : un arrêt "
                           f"brutal du processus ({_signal_name(-rc)}).")
    return "exited", (f"attendu : `{name}` rend la main normalement, reçu : le processus "
                      f"s'est terminé (code {rc}) sans rendre de résultat (sys.exit, "
                      f"os._exit ?).")


def _collect(worker: _Worker, question: str, seconds: float, errors: list,
             load: bool, confined: bool) -> QuestionRun:
    qdir = worker.job_dir / "out" / question
    run = QuestionRun(question=question, status="error", seconds=seconds,
                      peak_rss_mb=worker.peak_rss / 1024 ** 2,
                      returncode=worker.proc.returncode, stdout=worker.out.text(),
                      stderr=worker.err.text(), cell_errors=errors, confined=confined)
    result = None
    try:
        result = json.loads((qdir / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    if not isinstance(result, dict) or result.get("status") not in STATUSES:
        run.status, run.message = _failed_message(worker, question, seconds)
        return run
    run.status, run.finished = result["status"], True
    run.message = str(result.get("message") or "")[:600]
    if run.status in ("ok", "error") and load and (qdir / "probe.json").exists():
        from autograder.probe import load_artefacts

        run.artefacts = load_artefacts(qdir, question)
    return run


def _start(code: Extracted, questions: list[str], timeout_s: float,
           memory_gb: float) -> _Worker:
    return _Worker(code, list(questions), float(timeout_s), float(memory_gb))


def _finish(worker: _Worker, questions: list[str], load: bool = True) -> list[QuestionRun]:
    seconds = worker.wait()
    try:
        errors, confined = [], False
        try:
            data = json.loads((worker.job_dir / "out" / "exec.json").read_text("utf-8"))
            errors = [e for e in data.get("errors", []) if isinstance(e, dict)][:50]
            confined = data.get("writes_confined") is True
        except (OSError, ValueError, AttributeError):
            pass
        return [_collect(worker, q, seconds, errors, load, confined) for q in questions]
    finally:
        worker.cleanup()


def _unavailable_run(code: Extracted, question: str) -> QuestionRun | None:
    """A question whose function is broken, dropped or absent: no process needed."""
    name = QUESTION_FUNCTIONS.get(question)
    if not name or name in code.defined or code.star_imports:
        return None
    if name in code.unavailable:
        message = code.unavailable[name]
    else:
        try:
            from autograder.probe import _missing

            message = _missing(question).message_fr
        except ImportError:  # pragma: no cover - probe.py always ships
            message = code.why_missing(name)
    return QuestionRun(question=question, status="error", message=message)


def run_question(code: Extracted, question: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 memory_gb: float = DEFAULT_MEMORY_GB) -> QuestionRun:
    """Run one question of the extracted code in its own bounded process.

    Args:
        code: the result of :func:`autograder.extract.extract_notebook`.
        question: ``"q1"``, ``"q2"`` or ``"q3"``.
        timeout_s: wall-clock limit of the process (TensorFlow's import included).
        memory_gb: memory cap of the process tree, in GiB.

    Returns:
        A :class:`QuestionRun`; never raises because of the student's code.
    """
    early = _unavailable_run(code, question)
    if early is not None:
        return early
    worker = _start(code, [question], timeout_s, memory_gb)
    import autograder.probe  # noqa: F401 - overlaps the worker's start
    import keras  # noqa: F401
    return _finish(worker, [question])[0]


# ---------------------------------------------------------------- grading


def _failed_checks(question: str, visibility, run: QuestionRun) -> list:
    from autograder.checks import CheckResult
    from autograder.checks.base import specs

    return [CheckResult(id=s.id, question=s.question, title=s.title, points=0.0,
                        max_points=s.points, passed=False, visibility=s.visibility,
                        message=run.message, hint=run.hint,
                        message_en=f"question not graded: {run.status}")
            for s in specs()
            if s.question == question and s.visibility in visibility and not s.manual]


def _checks_for(run: QuestionRun, visibility) -> list:
    from autograder.checks import run_checks

    if run.status in ("ok", "error") and run.artefacts:
        return run_checks(run.question, run.artefacts, visibility)
    return _failed_checks(run.question, visibility, run)


def _question_record(run: QuestionRun, visibility) -> dict:
    from autograder.checks import max_points

    checks = _checks_for(run, visibility)
    return {"score": float(sum(c.points for c in checks)),
            "max_score": float(max_points(run.question, visibility)),
            "status": run.status, "message": run.message,
            "seconds": round(run.seconds, 3), "peak_rss_mb": round(run.peak_rss_mb, 1),
            "checks": [c.to_dict() for c in checks]}


def grade_notebook(path, *, questions=("q1", "q2", "q3"), visibility=("public", "hidden"),
                   timeout_s: float = DEFAULT_TIMEOUT_S,
                   memory_gb: float = DEFAULT_MEMORY_GB) -> dict:
    """Grade one notebook: one bounded process per question, scores computed here.

    Args:
        path: the submission's ``.ipynb``.
        questions: question ids to grade (the manual ``q4`` is the engine's).
        visibility: which checks count.
        timeout_s: per-question wall-clock limit.
        memory_gb: per-question memory cap, in GiB.

    Returns:
        The ``"questions"`` part of the submission record:
        ``{question: {"score", "max_score", "status", "message", "seconds",
        "peak_rss_mb", "checks": [CheckResult.to_dict(), ...]}}``.

    Raises:
        autograder.extract.NotebookError: the notebook is missing or invalid
            (``str(exc)`` is a French one-liner).
    """
    if isinstance(visibility, str):
        visibility = (visibility,)
    code = extract_notebook(path)
    record = {}
    for question in questions:
        early = _unavailable_run(code, question)
        if early is not None:
            run = early
        else:
            t0 = time.perf_counter()
            worker = _start(code, [question], timeout_s, memory_gb)
            import autograder.checks  # noqa: F401 - overlaps the worker's TF import
            run = _finish(worker, [question])[0]
            run.seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        record[question] = _question_record(run, visibility)
        record[question]["seconds"] = round(run.seconds + time.perf_counter() - t0, 3)
    return record


def check_notebook(path, question: str | None = None, *,
                   timeout_s: float = DEFAULT_TIMEOUT_S,
                   memory_gb: float = DEFAULT_MEMORY_GB) -> list:
    """The student's fast local check: public checks, one worker for every question.

    The worker is started first; the parent imports TensorFlow and the checks
    while it runs, so the two imports overlap.

    Args:
        path: the notebook.
        question: ``"q1"``, ``"q2"`` or ``"q3"``; None for all three.
        timeout_s: wall-clock limit of the single worker.
        memory_gb: memory cap of the worker, in GiB.

    Returns:
        ``list[CheckResult]`` (public checks only), in question order.

    Raises:
        autograder.extract.NotebookError: the notebook is missing or invalid.
        ValueError: unknown question.
    """
    questions = [question] if question else list(QUESTION_FUNCTIONS)
    for q in questions:
        if q not in QUESTION_FUNCTIONS:
            raise ValueError(f"question inconnue : {q} (attendu : "
                             f"{', '.join(QUESTION_FUNCTIONS)})")
    code = extract_notebook(path)
    runs = {q: _unavailable_run(code, q) for q in questions}
    todo = [q for q in questions if runs[q] is None]
    while todo:
        worker = _start(code, todo, timeout_s, memory_gb)
        import autograder.checks  # noqa: F401 - overlaps the worker's TF import
        batch = _finish(worker, todo)
        todo = []
        for i, run in enumerate(batch):
            runs[run.question] = run
            if not run.finished:  # this question ended the worker: rerun the next ones
                todo = [r.question for r in batch[i + 1:]]
                break
    results = []
    for q in questions:
        results += _checks_for(runs[q], ("public",))
    return results
