"""Run stage: bounded, isolated execution of student code (the parent's side).

:func:`run_questions` runs the student's extracted code and the grader's probes
for several questions in ONE untrusted process (``python -m autograder.public.untrusted``,
see :mod:`autograder.public.untrusted`) per submission, and hands back per question the
files it sent, unread (:mod:`autograder.public.load` is the next stage). When a question hangs, crashes, exits
or exceeds its memory, that process is killed and the remaining questions run
in a fresh one, so a fault costs only its own question; a statement that hangs
at definition time (class body, default argument) is named, skipped and the
questions are run again without it.

Isolation (see docs/security.md):

* **bubblewrap** (``bwrap``, the namespace sandbox behind Flatpak), used
  whenever it works on the machine: new user, PID, mount, network, IPC and UTS
  namespaces; a new session (no controlling terminal); every capability
  dropped; uid/gid 65534; the sandbox dies with its parent; its file system is
  a read-only view of the interpreter, its packages and the system libraries,
  a staged copy of the public subpackage (see :mod:`autograder.public.process`), the job description, and a
  size-limited tmpfs as the only writable folder (no
  disk written at all). Nothing of the kit's checkout, of other submissions,
  of the outputs or of the caches is visible; ``/proc`` shows only the
  sandbox's own processes, ``/dev`` only null, zero, random and the like. When
  the sandbox's first process ends, the kernel kills every process it started.
* **process** (fallback): a child process in its own session with a minimal
  environment, cwd in a fresh temporary folder and Landlock confining its
  writes where the kernel offers it. Enough for a student's own ``check`` on
  their own machine; the teacher's ``grade`` refuses it unless explicitly asked
  for (``--sans-isolation``).

In both, the parent bounds the process: a wall-clock budget per stage (the
definitions, then each question), the memory of the whole process tree
(``RLIMIT_DATA`` set by the child on itself, and a watchdog polling the RSS of
the tree), at most :data:`MAX_PROCESSES`
processes, and what it can hand back: the child's only channel is a pipe
read with bounds (:data:`CHANNEL_LIMIT`, :data:`FILE_LIMIT`); its stdout and
stderr are captured and truncated to :data:`OUTPUT_LIMIT` characters.

Statuses: ``ok`` (the probe ran to its end), ``timeout``, ``memory``,
``crashed`` (killed by a signal: segfault, abort, too many processes...),
``exited`` (``sys.exit``, ``os._exit``), ``error`` (the student's function
raised or is missing, or a syntax error made it unavailable). Each comes with
a French message and its English twin (``message_en``, ``hint_en``).

Which isolation works here is decided in :mod:`autograder.public.isolation`; the
pipes are read by :mod:`autograder.public.channel`; the stages around this one are
chained by :mod:`autograder.public.pipeline`.
"""

from __future__ import annotations

import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.public.assignment import DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT_S
from autograder.public.channel import OUTPUT_LIMIT  # noqa: F401 - re-exported
from autograder.public.extract import QUESTION_FUNCTIONS, Extracted
from autograder.public.isolation import (  # noqa: F401 - re-exported for the callers
    INSTALL_HINT,
    IsolationUnavailable,
    bubblewrap,
    bwrap_base,
    child_environment,
    resolve_isolation,
)
from autograder.public.process import MAX_PROCESSES, SandboxProcess, signal_name

STATUSES = ("ok", "timeout", "memory", "crashed", "exited", "error")

#: Statements that hung at definition time are skipped at most this many times.
MAX_SKIPS = 3


_HINTS = {
    "timeout": (
        "Cherchez une boucle qui ne se termine pas (while, récursion) dans votre "
        "fonction ou celles qu'elle appelle : construire le modèle doit prendre "
        "quelques secondes, sans entraînement."
    ),
    "memory": (
        "Votre code demande trop de mémoire : ne chargez pas de données et ne créez "
        "pas de grands tableaux dans vos fonctions ; vérifiez la taille de vos couches."
    ),
    "crashed": (
        "Le processus Python s'est arrêté brutalement : n'utilisez ni ctypes ni "
        "extension native, ne lancez pas d'autres processus, et exécutez votre "
        "fonction seule dans un noyau neuf pour reproduire le problème."
    ),
    "exited": "N'appelez ni sys.exit(), ni exit(), ni os._exit() dans le code du notebook.",
    "error": (
        "Exécutez le notebook de haut en bas dans un noyau neuf (Noyau > Redémarrer et "
        "tout exécuter) et corrigez la première erreur affichée."
    ),
}


#: The hints in English (``--lang en``).
_HINTS_EN = {
    "timeout": (
        "Look for a loop that never ends (while, recursion) in your function or those it "
        "calls: building the model must take a few seconds, without training."
    ),
    "memory": (
        "Your code asks for too much memory: do not load data or create large arrays in "
        "your functions; check the size of your layers."
    ),
    "crashed": (
        "The Python process stopped abruptly: use neither ctypes nor native extensions, "
        "start no other process, and run your function alone in a fresh kernel to "
        "reproduce the problem."
    ),
    "exited": "Call neither sys.exit(), exit() nor os._exit() in the notebook's code.",
    "error": (
        "Run the notebook from top to bottom in a fresh kernel (Kernel > Restart and run "
        "all) and fix the first error shown."
    ),
}


@dataclass
class QuestionRun:
    """What the bounded run of one question gave back.

    Attributes:
        question: ``"q1"``...
        status: one of :data:`STATUSES`.
        message: French one-liner, empty when ``status == "ok"``.
        message_en: the same in English (``--lang en``).
        seconds: wall time of the question (its share of the child's time).
        files: the folder of files the child handed back for this question
            (``probe.json`` and ``.keras`` archives, untrusted until
            :mod:`autograder.public.load` reads them); None unless the child
            finished the question (``ok`` or ``error``).
        peak_rss_mb: peak resident memory of the child's process tree.
        returncode: the child's exit status (negative: killed by a signal).
        stdout: the child's standard output, truncated (student-written).
        stderr: the child's standard error, truncated (student-written).
        cell_errors: statements of kept cells that raised or were skipped
            (``cell``, ``line``, ``names``, ``error``).
        confined: whether the child's file writes were confined (bubblewrap,
            or Landlock in the process fallback).
        isolation: ``"bubblewrap"`` or ``"process"`` (empty: no process ran).
    """

    question: str
    status: str
    message: str = ""
    message_en: str = ""
    seconds: float = 0.0
    files: Path | None = None
    peak_rss_mb: float = 0.0
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    cell_errors: list = field(default_factory=list)
    confined: bool = False
    isolation: str = ""

    @property
    def hint(self) -> str:
        """French hint for a failed run."""
        return "" if self.status == "ok" else _HINTS.get(self.status, "")

    @property
    def hint_en(self) -> str:
        """English hint for a failed run."""
        return "" if self.status == "ok" else _HINTS_EN.get(self.status, "")


#: The channel's violations (:attr:`autograder.public.channel.Channel.violation`) in English.
_VIOLATIONS_EN = {
    "trop de données renvoyées": "too much data sent back",
    "message illisible": "an unreadable message",
    "fichiers renvoyés non conformes": "files sent back that do not conform",
}


def _failed_message(child: SandboxProcess, question: str) -> tuple[str, str, str]:
    """Status, French and English messages of a question the child did not report on."""
    name = QUESTION_FUNCTIONS.get(question, "")
    fr_name = f"`{name}`" if name else "le code du notebook"
    en_name = f"`{name}`" if name else "the notebook's code"
    rc = child.returncode
    if child.killed_for == "timeout":
        t = f"{child.timeout_s:g}"
        return (
            "timeout",
            f"attendu : {fr_name} rend son résultat dans le temps limite de {t} s, reçu : "
            f"toujours en cours au bout de {t} s (exécution arrêtée).",
            f"expected {en_name} to return within the time limit of {t} s, got: still "
            f"running after {t} s (stopped).",
        )
    if child.killed_for == "processes":
        return (
            "crashed",
            f"attendu : {fr_name} s'exécute dans un seul processus, reçu : plus "
            f"de {MAX_PROCESSES} processus lancés (exécution arrêtée).",
            f"expected {en_name} to run in a single process, got: more than "
            f"{MAX_PROCESSES} processes started (stopped).",
        )
    if child.killed_for == "channel":
        return (
            "crashed",
            f"attendu : {fr_name} laisse le correcteur enregistrer le modèle, "
            f"reçu : des {child.channel.violation} (exécution arrêtée).",
            f"expected {en_name} to let the grader save the model, got: "
            f"{_VIOLATIONS_EN.get(child.channel.violation, 'a broken channel')} (stopped).",
        )
    gb = f"{child.memory_gb:g}"
    if child.killed_for == "memory" or (rc == -signal.SIGKILL and child.killed_for is None):
        return (
            "memory",
            f"attendu : au plus {gb} Go de mémoire, reçu : une consommation au-delà "
            f"(exécution arrêtée).",
            f"expected at most {gb} GB of memory, got: more than that (stopped).",
        )
    stderr = child.err.text()
    if any(
        m in stderr for m in ("MemoryError", "bad_alloc", "ResourceExhausted", "Unable to allocate")
    ):
        return (
            "memory",
            f"attendu : au plus {gb} Go de mémoire, reçu : une allocation refusée au-delà "
            f"de cette limite.",
            f"expected at most {gb} GB of memory, got: an allocation refused beyond that limit.",
        )
    if rc is not None and rc > 0 and not child.channel.received and "Traceback" in stderr:
        line = _internal_error_line(stderr)
        return (
            "error",
            "erreur interne du correcteur avant l'exécution de votre code : "
            "montrez ce message à votre enseignant·e. " + line,
            "internal error of the grader before your code ran: show this message to "
            "your teacher. " + line,
        )
    if rc is not None and rc < 0:
        sig = signal_name(-rc)
        return (
            "crashed",
            f"attendu : {fr_name} s'exécute normalement, reçu : un arrêt brutal du "
            f"processus ({sig}).",
            f"expected {en_name} to run normally, got: the process stopped abruptly ({sig}).",
        )
    return (
        "exited",
        f"attendu : {fr_name} rend la main normalement, reçu : le processus s'est terminé "
        f"(code {rc}) sans rendre de résultat (sys.exit, os._exit ?).",
        f"expected {en_name} to return normally, got: the process ended (code {rc}) "
        f"without a result (sys.exit, os._exit?).",
    )


def _internal_error_line(stderr: str) -> str:
    """The exception line of the grader's own traceback (never the student's text)."""
    from autograder.public.bounded import clean_text

    lines = stderr.strip().splitlines()
    return clean_text(lines[-1].split(":")[0] if lines else "", 80)


def _exec_info(child: SandboxProcess) -> tuple[list, bool]:
    from autograder.public.bounded import read_json_bounded

    data = read_json_bounded(child.received / "exec" / "exec.json")
    if not isinstance(data, dict):
        return [], False
    confined = child.isolation == "bubblewrap" or data.get("writes_confined") is True
    return exec_errors(data), confined


def exec_errors(data: dict) -> list[dict]:
    """The statements that raised while the definitions ran, as the untrusted side listed them.

    Args:
        data: ``exec.json`` (untrusted): ``{"errors": [{"cell", "line", "error"}, ...]}``.

    Returns:
        At most 50 ``{"cell", "line", "error"}`` with bounded, cleaned text.
    """
    from autograder.public.bounded import clean_text

    errors = []
    for e in data.get("errors", [])[:50] if isinstance(data.get("errors"), list) else []:
        if isinstance(e, dict) and isinstance(e.get("cell"), int):
            errors.append(
                {
                    "cell": e["cell"],
                    "line": e.get("line") if isinstance(e.get("line"), int) else None,
                    "error": clean_text(e.get("error")),
                }
            )
    return errors


def _collect(
    child: SandboxProcess, question: str, seconds: float, errors: list, confined: bool, dest: Path
) -> QuestionRun:
    qdir = child.received / question
    run = QuestionRun(
        question=question,
        status="error",
        seconds=seconds,
        peak_rss_mb=child.peak_rss / 1024**2,
        returncode=child.returncode,
        stdout=child.out.text(),
        stderr=child.err.text(),
        cell_errors=errors,
        confined=confined,
        isolation=child.isolation,
    )
    if not read_result(qdir, run, dest):
        run.status, run.message, run.message_en = _failed_message(child, question)
    return run


def read_result(qdir: Path, run: QuestionRun, dest: Path) -> bool:
    """Fill ``run`` from a question's ``result.json``, written by untrusted code.

    Args:
        qdir: the question's folder as the untrusted side wrote it.
        run: the run to fill (``status``, ``message``, ``files``).
        dest: the caller's folder: the question's files move to ``dest/<question>/``.

    Returns:
        Whether ``qdir`` held a valid result (False: ``run`` is left as it was).
    """
    from autograder.public.bounded import clean_text, read_json_bounded

    result = read_json_bounded(qdir / "result.json")
    if not isinstance(result, dict) or result.get("status") not in STATUSES:
        return False
    run.status = result["status"]
    run.message = clean_text(result.get("message"))
    run.message_en = clean_text(result.get("message_en"))
    if run.status in ("ok", "error") and (qdir / "probe.json").exists():
        run.files = Path(shutil.move(str(qdir), str(Path(dest) / run.question)))
    return True


def unavailable_run(code: Extracted, question: str) -> QuestionRun | None:
    """A question whose function is broken, dropped or absent: no process needed."""
    from autograder.public.probe import missing_function

    name = QUESTION_FUNCTIONS.get(question)
    if not name or name in code.defined or code.star_imports:
        return None
    missing = missing_function(question)
    if name in code.unavailable:
        message, message_en = code.unavailable[name], code.unavailable_en.get(name, "")
    else:
        message, message_en = missing.message_fr, missing.message_en
    return QuestionRun(question=question, status="error", message=message, message_en=message_en)


def _exec_fault_message(child: SandboxProcess, stage: dict, question: str) -> tuple[str, str]:
    """French and English messages naming the statement that stopped the definitions."""
    cell, line = stage["cell"], stage["line"]
    if child.killed_for == "timeout":
        t = f"{child.timeout_s:g}"
        what = (
            f"ne se termine pas : toujours en cours au bout de {t} s pendant les "
            f"définitions (corps de classe, valeur par défaut, boucle au niveau du notebook)"
        )
        what_en = (
            f"does not finish: still running after {t} s during the definitions (class "
            f"body, default value, loop at the notebook's level)"
        )
    else:
        status, _, _ = _failed_message(child, question)
        what = f"a arrêté l'exécution pendant les définitions ({status})"
        what_en = f"stopped the run during the definitions ({status})"
    return (
        f"la cellule {cell} (ligne {line}) {what} ; la correction l'a ignorée",
        f"cell {cell} (line {line}) {what_en}; grading skipped it",
    )


def run_questions(
    code: Extracted,
    questions,
    dest,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_gb: float = DEFAULT_MEMORY_GB,
    isolation: str = "auto",
    on_run=None,
) -> list[QuestionRun]:
    """Run several questions of the extracted code, one sandbox per attempt.

    One child runs every question in turn. When it ends before reporting on a
    question (hang, crash, exit, memory), that question gets the matching status
    and the remaining ones run in a fresh child. When it hangs or dies while
    executing the notebook's definitions, the statement at fault is skipped
    (and named in the messages) and the questions are run again.

    Args:
        code: the result of :func:`autograder.public.extract.extract_notebook`.
        questions: question ids (``"q1"``...), in order.
        dest: an existing folder owned by the caller: each question's files are
            moved to ``dest/<question>/`` (:attr:`QuestionRun.files`).
        timeout_s: wall-clock budget of each stage (the definitions, then each
            question), TensorFlow's import included in the first.
        memory_gb: memory cap of the child's process tree, in GiB.
        isolation: ``"bubblewrap"`` (required), ``"process"`` or ``"auto"``.
        on_run: called with each :class:`QuestionRun` as soon as it is known,
            while the child goes on with the next questions (the caller can
            grade it meanwhile).

    Returns:
        One :class:`QuestionRun` per question, in order; never raises because
        of the student's code. Files only: nothing the child wrote is loaded here.

    Raises:
        IsolationUnavailable: ``isolation="bubblewrap"`` and it does not work here.
    """
    dest = Path(dest)
    mode = resolve_isolation(isolation)
    runs: dict[str, QuestionRun | None] = {q: unavailable_run(code, q) for q in questions}
    for run in runs.values():
        if run is not None and on_run is not None:
            on_run(run)
    todo = [q for q in questions if runs[q] is None]
    skip: list[dict] = []

    def deliver(q: str, run: QuestionRun) -> None:
        runs[q] = run
        if on_run is not None:
            on_run(run)

    while todo:
        child = SandboxProcess(code, todo, float(timeout_s), float(memory_gb), mode, skip)
        try:
            import keras  # noqa: F401 - this process's TensorFlow import overlaps the child's

            errors, confined = [], False
            while (name := child.channel.arrivals.get()) is not None:
                if name == "exec":
                    errors, confined = _exec_info(child)
                elif name in todo:  # graded while the child builds the next question
                    start = child.stage_times.get(name) or child.started
                    deliver(
                        name,
                        _collect(child, name, time.perf_counter() - start, errors, confined, dest),
                    )
            seconds = child.wait()
            stage, received = child.channel.stage, child.channel.received
            if "exec" not in received:
                if stage.get("stage") == "exec" and len(skip) < MAX_SKIPS:
                    # the definitions never finished: skip the statement at fault
                    fr, en = _exec_fault_message(child, stage, todo[0])
                    skip.append(
                        {
                            "cell": stage["cell"],
                            "line": stage["line"],
                            "message": fr,
                            "message_en": en,
                        }
                    )
                    continue
                failed = list(todo)  # nothing ran: every question gets the failure
            else:
                # the first question the child did not report on ended it
                failed = [q for q in todo if q not in received][:1]
            for q in failed:
                start = child.stage_times.get(q) or child.started
                deliver(
                    q,
                    _collect(
                        child, q, max(child.started + seconds - start, 0.0), errors, confined, dest
                    ),
                )
            todo = [q for q in todo if runs[q] is None]
        finally:
            child.cleanup()
    return [runs[q] for q in questions]


def run_question(
    code: Extracted,
    question: str,
    dest,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_gb: float = DEFAULT_MEMORY_GB,
    isolation: str = "auto",
) -> QuestionRun:
    """Run one question of the extracted code in its own bounded process.

    Args:
        code: the result of :func:`autograder.public.extract.extract_notebook`.
        question: ``"q1"``, ``"q2"`` or ``"q3"``.
        dest: an existing folder that receives the question's files.
        timeout_s: wall-clock budget of each stage (definitions, question).
        memory_gb: memory cap of the process tree, in GiB.
        isolation: ``"bubblewrap"``, ``"process"`` or ``"auto"``.

    Returns:
        A :class:`QuestionRun`; never raises because of the student's code.
    """
    return run_questions(
        code, [question], dest, timeout_s=timeout_s, memory_gb=memory_gb, isolation=isolation
    )[0]
