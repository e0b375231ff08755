"""Plan: the first stage of a run, deciding what to grade.

:func:`plan` discovers the submissions, reads the roster and the records
already in the output folder, and decides what needs grading: new
submissions, notebooks whose sha256 changed, records missing or failed
internally, every record graded by another version of the grading code
(everything with ``force``). Submissions that cannot be graded, and roster
students without a submission, get their record at once. The resulting
:class:`Plan` is carried out by :func:`autograder.engine.scheduler.execute`.
"""

from __future__ import annotations

import platform
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from autograder import __version__
from autograder.engine.discovery import DiscoveryError, Submission, discover
from autograder.engine.records import (
    STATUS_GRADED,
    STATUS_INVALID,
    STATUS_MISSING,
    SubmissionRecord,
    base_record,
    grader_fingerprint,
    now_iso,
    question_max_points,
    save_record,
)
from autograder.engine.roster import read_roster
from autograder.engine.summary import Reporter
from autograder.public.assignment import DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT_S
from autograder.public.bounded import clean_text
from autograder.public.checks import registry as check_registry
from autograder.public.fsutil import atomic_write_json, read_json, sha256_file


@dataclass(frozen=True)
class Settings:
    """What the teacher asked for (``python -m autograder grade`` options).

    Attributes:
        paths: submissions (see :func:`autograder.engine.discovery.discover`).
        out: output folder.
        jobs: parallel grading processes.
        timeout_s: wall-clock limit per question.
        memory_gb: memory cap of a sandbox.
        lang: feedback language (``"fr"`` or ``"en"``).
        roster: CSV of expected student ids, or None.
        force: regrade everything, even unchanged notebooks.
        report: also write report.html.
        isolation: ``"bubblewrap"`` or ``"process"``.
        scheduler: a Dask scheduler's address, or None for the local pool.
    """

    paths: tuple
    out: Path
    jobs: int
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_gb: float = DEFAULT_MEMORY_GB
    lang: str = "fr"
    roster: Path | None = None
    force: bool = False
    report: bool = True
    isolation: str = "bubblewrap"
    scheduler: str | None = None


class GradingLog:
    """Append-only ``grading.log``, one timestamped line per event (thread-safe).

    Args:
        path: the log file.
    """

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, msg: str) -> None:
        """Append ``msg`` with the time."""
        with self.lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(f"{now_iso()} {msg}\n")


@dataclass
class Plan:
    """A run's state between its stages.

    Attributes:
        run_id: 12 hex digits, in every record this run grades.
        t0: ``time.monotonic()`` at the start.
        log: the run's ``grading.log``.
        subs: the discovered submissions, in order.
        missing: roster ids without a submission.
        maxima: maximum points per question.
        fingerprint: the grading code's fingerprint.
        params: the grading parameters (``run.json`` ``parameters``).
        run_info: the ``run.json`` content.
        records: the record of every id decided so far.
        todo: submissions to grade.
        reused: ids whose record was kept.
        graded: ids graded by this run.
        failed: ids whose grading failed (status ``error``).
    """

    run_id: str
    t0: float
    log: GradingLog
    subs: list[Submission]
    missing: list[str]
    maxima: dict[str, float]
    fingerprint: str
    params: dict
    run_info: dict
    records: dict[str, SubmissionRecord] = field(default_factory=dict)
    todo: list[Submission] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    graded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def versions() -> dict:
    """Versions of Python, the kit, the platform and the grading libraries."""
    out = {
        "python": platform.python_version(),
        "autograder": __version__,
        "platform": platform.platform(),
    }
    for dist in ("keras", "tensorflow-cpu", "tensorflow", "numpy", "otter-grader"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def check_parameters() -> dict:
    """Seeds and thresholds the scores depend on, by the module that defines them."""
    from autograder.hidden import training
    from autograder.public import probe

    return {
        "autograder.hidden.training": {
            "THRESHOLD": training.THRESHOLD,
            "REFERENCE_ACCURACY": training.REFERENCE_ACCURACY,
        },
        "autograder.public.probe": {"SEED": probe.SEED},
    }


def needs_grading(
    sub: Submission, existing: dict | None, force: bool, fingerprint: str | None = None
) -> bool:
    """Whether ``sub`` must be (re)graded.

    Args:
        sub: a gradable submission.
        existing: its record in the output folder (dictionary), or None.
        force: regrade anyway.
        fingerprint: the grading code's fingerprint (computed when None).

    Returns:
        True when forced, without a usable record, or when the grader or the notebook changed.
    """
    if force or existing is None:
        return True
    if existing.get("status") not in (STATUS_GRADED, STATUS_INVALID):
        return True
    if existing.get("grader_version") != __version__ or existing.get("grader_fingerprint") != (
        fingerprint or grader_fingerprint()
    ):
        return True
    return existing.get("notebook_sha256") != sha256_file(sub.notebook)


def _prepare_folder(out: Path) -> None:
    """Create the output folders and remove temporary files of a run killed mid-write."""
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("submissions", "results", "feedback"):
        (out / sub).mkdir(exist_ok=True)
    for leftover in list(out.glob("*/.*.tmp")) + list(out.glob(".*.tmp")):
        leftover.unlink(missing_ok=True)


def _missing_ids(
    subs: list[Submission], roster_ids: list[str], roster: Path | None, reporter: Reporter
) -> list[str]:
    """Roster ids without a submission (a warning lists submissions absent from the roster)."""
    known = {s.id for s in subs}
    # GitHub logins are case-insensitive: a roster's "Alice" is the repository "...-alice".
    known_ci = {k.lower() for k in known}
    missing = [sid for sid in roster_ids if sid.lower() not in known_ci]
    if roster_ids:
        roster_ci = {r.lower() for r in roster_ids}
        extra = sorted(k for k in known if k.lower() not in roster_ci)
        if extra:
            reporter.warn(
                f"{len(extra)} copie(s) absente(s) de la liste "
                f"{Path(roster).name} (notées quand même) : {', '.join(extra[:10])}"
                + (" …" if len(extra) > 10 else "")
            )
    return missing


def plan(settings: Settings, reporter: Reporter) -> Plan:
    """Discover, read what is already graded, and decide what to grade.

    Writes ``run.json`` (status ``running``) and the records of submissions
    that cannot be graded and of roster students without a submission.

    Args:
        settings: the run's settings.
        reporter: receives the discovery warnings.

    Returns:
        The plan :func:`execute` carries out.

    Raises:
        DiscoveryError: a path does not exist, or nothing to grade.
    """
    out = settings.out
    _prepare_folder(out)
    log = GradingLog(out / "grading.log")
    started, t0 = now_iso(), time.monotonic()
    run_id = uuid.uuid4().hex[:12]
    warnings: list[str] = []
    subs = discover(settings.paths, out / ".inputs", warn=warnings.append, exclude=[out])
    for w in warnings:
        reporter.warn(clean_text(w, 400))
    if not subs and not settings.roster:
        raise DiscoveryError(
            "aucune copie à corriger dans les chemins donnés "
            "(notebooks, dossiers ou archives zip attendus)"
        )
    roster_ids = read_roster(Path(settings.roster)) if settings.roster else []
    maxima = question_max_points()
    fingerprint = grader_fingerprint()
    params = {
        "timeout_s": float(settings.timeout_s),
        "memory_gb": float(settings.memory_gb),
        "jobs": settings.jobs,
        "lang": settings.lang,
        "force": settings.force,
        "max_points": maxima,
        "isolation": settings.isolation,
        "scheduler": settings.scheduler,
    }
    run_info = {
        "run_id": run_id,
        "status": "running",
        "started": started,
        "finished": None,
        "grader_fingerprint": fingerprint,
        "parameters": params,
        "versions": versions(),
        "check_parameters": check_parameters(),
        "max_points": maxima,
        "checks": check_registry(),
        "inputs": [str(p) for p in settings.paths],
        "roster": str(settings.roster) if settings.roster else None,
    }
    atomic_write_json(out / "run.json", run_info)
    log(
        f"run {run_id} start: {len(subs)} submission(s), jobs={settings.jobs}, "
        f"timeout={settings.timeout_s}s, memory={settings.memory_gb}GB, force={settings.force}"
    )
    missing = _missing_ids(subs, roster_ids, settings.roster, reporter)
    p = Plan(
        run_id=run_id,
        t0=t0,
        log=log,
        subs=subs,
        missing=missing,
        maxima=maxima,
        fingerprint=fingerprint,
        params=params,
        run_info=run_info,
    )
    for sub in subs:
        rec_path = out / "submissions" / f"{sub.id}.json"
        if sub.status is not None:
            p.records[sub.id] = save_record(out, base_record(sub, maxima, fingerprint))
            log(f"status {sub.id}: {sub.status}")
            continue
        existing = read_json(rec_path)
        if needs_grading(sub, existing, settings.force, fingerprint):
            p.todo.append(sub)
            continue
        rec = SubmissionRecord.from_dict(existing)
        if rec.source != sub.source or rec.notebook != str(sub.notebook):
            rec.source, rec.notebook = sub.source, str(sub.notebook)
            save_record(out, rec)
        p.records[sub.id] = rec
        p.reused.append(sub.id)
        log(f"reused {sub.id} (notebook unchanged)")
    for sid in missing:
        absent = Submission(
            id=sid,
            source="",
            status=STATUS_MISSING,
            message="Aucun rendu trouvé pour cet·te étudiant·e.",
        )
        p.records[sid] = save_record(out, base_record(absent, maxima, fingerprint))
        log(f"status {sid}: missing (roster)")
    return p
