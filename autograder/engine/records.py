"""Records: what grading one submission produced, typed, and its JSON form.

A :class:`SubmissionRecord` is written as ``<out>/submissions/<id>.json``
(schema in docs/architecture.md) and read back by the next run (resume) and by
the report. :meth:`SubmissionRecord.to_dict` gives exactly the dictionary the
engine has always written: keys in the same order, optional keys absent when
unset, values as they came (no type coercion), keys this version does not know
kept at the end. Scores of the hand-graded question (q4) are not in a record:
``total``, ``max_total`` and ``percent`` are those of the automated questions.

Submission statuses and their French labels live in
:mod:`autograder.public.assignment`; this module re-exports the statuses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import autograder.hidden  # noqa: F401 - registers the hidden checks (no TensorFlow import)
from autograder import __version__
from autograder.public.assignment import (
    AUTO_QUESTIONS,
    MANUAL_QUESTIONS,
    QUESTIONS,
    STATUS_ERROR,
    STATUS_GRADED,
    STATUS_INVALID,
    STATUS_MISSING,
    STATUS_NO_NOTEBOOK,
)
from autograder.public.bounded import clean_text
from autograder.public.checks import max_points
from autograder.public.fsutil import atomic_write_json

__all__ = [
    "QUESTION_NOT_GRADED",
    "STATUS_ERROR",
    "STATUS_GRADED",
    "STATUS_INVALID",
    "STATUS_MISSING",
    "STATUS_NO_NOTEBOOK",
    "QuestionResult",
    "SubmissionRecord",
    "base_record",
    "format_points",
    "grader_fingerprint",
    "now_iso",
    "question_max_points",
    "save_record",
]

#: Status of an automated question absent from a record (not run at all).
QUESTION_NOT_GRADED = "not-graded"


def now_iso() -> str:
    """The local time with its UTC offset, to the second (``2026-11-29T06:00:00+01:00``)."""
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def format_points(x: float) -> str:
    """Compact number: 3.0 -> "3", 2.5 -> "2.5" (rounded to 4 decimals)."""
    x = round(float(x), 4)
    return str(int(x)) if x == int(x) else f"{x:g}"


def grader_fingerprint() -> str:
    """sha256 (16 hex digits) of every module that decides a score.

    Those are the public subpackage and the hidden checks: a record graded with
    another version of any of them is regraded.

    Returns:
        16 hex digits.
    """
    pkg = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for sub in ("public", "hidden"):
        for f in sorted((pkg / sub).rglob("*.py")):
            h.update(f.relative_to(pkg).as_posix().encode() + b"\0")
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def question_max_points() -> dict[str, float]:
    """Maximum points per question: public + hidden checks, the manual q4 included.

    Returns:
        ``{question: points}`` for every question, in order.
    """
    return {
        q: float(max_points(q, ("public", "hidden"), include_manual=q in MANUAL_QUESTIONS))
        for q in QUESTIONS
    }


def _split(cls, data: dict) -> tuple[dict, dict]:
    """``data``'s known fields of ``cls`` and the other keys (in their order)."""
    names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
    return (
        {k: v for k, v in data.items() if k in names},
        {k: v for k, v in data.items() if k not in names},
    )


@dataclass
class QuestionResult:
    """The grading of one automated question.

    Attributes:
        score: points earned (sum of the passed checks).
        max_score: points at stake.
        status: ``ok``, ``timeout``, ``memory``, ``crashed``, ``exited``,
            ``error`` or ``not-graded``.
        message: French one-liner about the status (None: not stated).
        seconds: grading time of the question.
        peak_rss_mb: peak memory of the sandbox (None: not measured).
        checks: ``CheckResult.to_dict()`` of every check, in order.
        extra: keys of a newer or older schema, kept as they are.
    """

    score: float = 0.0
    max_score: float = 0.0
    status: str = QUESTION_NOT_GRADED
    message: str | None = None
    seconds: float = 0.0
    peak_rss_mb: float | None = None
    checks: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON form (``message`` and ``peak_rss_mb`` absent when None)."""
        out = {"score": self.score, "max_score": self.max_score, "status": self.status}
        if self.message is not None:
            out["message"] = self.message
        out["seconds"] = self.seconds
        if self.peak_rss_mb is not None:
            out["peak_rss_mb"] = self.peak_rss_mb
        out["checks"] = self.checks
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> QuestionResult:
        """Inverse of :meth:`to_dict`.

        Args:
            data: a question's dictionary (as ``grade_notebook`` returns or a record holds).

        Returns:
            The question result; unknown keys go to ``extra``.
        """
        known, extra = _split(cls, data)
        return cls(**known, extra=extra)


@dataclass
class SubmissionRecord:
    """Everything about one submission's grading (``submissions/<id>.json``).

    Attributes:
        id: the submission id.
        source: the path as found.
        notebook: the graded notebook's path, or None.
        notebook_sha256: sha256 of the notebook's bytes, or None.
        status: a submission status (:mod:`autograder.public.assignment`).
        message: French one-liner when ``status`` is not ``graded``.
        questions: ``{question: QuestionResult}`` of the automated questions.
        tamper: protected files of the student's repository that differ from the template.
        seconds: grading time of the submission.
        grader_version: the kit's version.
        grader_fingerprint: :func:`grader_fingerprint` of the grading code.
        graded_at: :func:`now_iso` when graded.
        total: points of the automated questions.
        max_total: their maximum.
        percent: ``100 * total / max_total``, two decimals.
        cell_errors: notebook statements that failed while the definitions ran (None: unset).
        run_id: the run that graded it (None: not graded by a job).
        resources: peak memory of the grading process and sandboxes (None: unset).
        identical_to: other ids with a byte-identical notebook (None: never compared).
        extra: keys of a newer or older schema, kept as they are.
    """

    id: str
    source: str
    notebook: str | None = None
    notebook_sha256: str | None = None
    status: str = STATUS_ERROR
    message: str = ""
    questions: dict = field(default_factory=dict)
    tamper: list = field(default_factory=list)
    seconds: float = 0.0
    grader_version: str = __version__
    grader_fingerprint: str = ""
    graded_at: str = ""
    total: float = 0.0
    max_total: float = 0.0
    percent: float = 0.0
    cell_errors: list | None = None
    run_id: str | None = None
    resources: dict | None = None
    identical_to: list | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON form, keys in the engine's order; unset optional keys absent."""
        out = {
            "id": self.id,
            "source": self.source,
            "notebook": self.notebook,
            "notebook_sha256": self.notebook_sha256,
            "status": self.status,
            "message": self.message,
            "questions": {q: r.to_dict() for q, r in self.questions.items()},
            "tamper": self.tamper,
            "seconds": self.seconds,
            "grader_version": self.grader_version,
            "grader_fingerprint": self.grader_fingerprint,
            "graded_at": self.graded_at,
            "total": self.total,
            "max_total": self.max_total,
            "percent": self.percent,
        }
        for name in ("cell_errors", "run_id", "resources", "identical_to"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionRecord:
        """Inverse of :meth:`to_dict`.

        Args:
            data: a record's dictionary (read from ``submissions/<id>.json`` or
                returned by a grading job).

        Returns:
            The record; unknown keys go to ``extra``.
        """
        known, extra = _split(cls, data)
        known["questions"] = {
            q: QuestionResult.from_dict(v) for q, v in (known.get("questions") or {}).items()
        }
        return cls(**known, extra=extra)

    def finish(self, maxima: dict[str, float]) -> SubmissionRecord:
        """Add the automated questions absent from the record, then the totals and percent.

        Args:
            maxima: maximum points per question (:func:`question_max_points`).

        Returns:
            The record itself.
        """
        for q in AUTO_QUESTIONS:
            if q not in self.questions:
                self.questions[q] = QuestionResult(max_score=maxima.get(q, 0.0))
        total = sum(float(r.score) for r in self.questions.values())
        max_total = sum(float(r.max_score) for r in self.questions.values())
        self.total = round(total, 4)
        self.max_total = round(max_total, 4)
        self.percent = round(100.0 * total / max_total, 2) if max_total else 0.0
        return self


def base_record(sub, maxima: dict[str, float], fingerprint: str | None = None) -> SubmissionRecord:
    """A zero record for a submission: not graded (status set) or about to be.

    Args:
        sub: the :class:`autograder.engine.discovery.Submission`.
        maxima: maximum points per question.
        fingerprint: :func:`grader_fingerprint` (computed when None).

    Returns:
        The finished record, status ``sub.status`` (``error`` when None).
    """
    record = SubmissionRecord(
        id=sub.id,
        source=sub.source,
        notebook=str(sub.notebook) if sub.notebook else None,
        status=sub.status or STATUS_ERROR,
        message=clean_text(sub.message, 500),
        grader_fingerprint=fingerprint or grader_fingerprint(),
        graded_at=now_iso(),
    )
    return record.finish(maxima)


def save_record(out: Path, rec: SubmissionRecord) -> SubmissionRecord:
    """Write ``out/submissions/<id>.json`` atomically.

    Args:
        out: the output folder.
        rec: the record.

    Returns:
        The record itself.
    """
    atomic_write_json(out / "submissions" / f"{rec.id}.json", rec.to_dict())
    return rec
