"""Outputs: the files built from the records, for the teacher, the students and the LMS.

- ``grades.csv``: otter-grader's ``final_grades.csv`` columns (:func:`grades_csv`);
- ``results/<id>.json``: Gradescope's ``results.json`` schema (:func:`results_json`);
- ``feedback/<id>.md``: French feedback rendered from
  ``autograder/templates/feedback.md.j2`` (:func:`render_feedback`).

Everything is rebuilt from the records of the run by :func:`write_outputs`,
atomically. Student-reachable text (check messages, tamper reasons, cell
errors) is made inert by :func:`md` before it reaches Markdown. The report
(``report.html``, ``gradebook.csv``) is :mod:`autograder.report`'s.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from pathlib import Path

import jinja2

from autograder.engine.records import STATUS_GRADED, format_points
from autograder.public.assignment import (
    AUTO_QUESTIONS,
    DEFAULT_MEMORY_GB,
    DEFAULT_TIMEOUT_S,
    MANUAL_QUESTIONS,
    QUESTION_OK,
    QUESTION_TITLES,
    QUESTIONS,
    STATUS_LABELS,
)
from autograder.public.bounded import clean_text
from autograder.public.fsutil import atomic_write_json, atomic_write_text

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
FEEDBACK_TEMPLATE = "feedback.md.j2"

#: What a question's status means, for the student (``{timeout}``, ``{memory}``: the limits).
QUESTION_STATUS_FR = {
    "timeout": "le code de cette question a dépassé le temps limite ({timeout} s) : "
    "vérifiez qu'aucune boucle sans fin ni aucun entraînement ne s'exécute "
    "dans vos fonctions.",
    "memory": "le code de cette question a dépassé la mémoire autorisée ({memory} Go) : "
    "vérifiez la taille de ce que vos fonctions construisent.",
    "crashed": "le processus qui exécutait votre code s'est arrêté brutalement.",
    "exited": "votre code a appelé sys.exit() ou os._exit() : retirez ces appels des fonctions.",
    "error": "votre code n'a pas pu être exécuté.",
    "not-graded": "cette question n'a pas été corrigée.",
}

_BLANK_LINES = re.compile(r"\n{3,}")
_MD_SPECIAL = re.compile(r"([\\*_\[\]#|<>~])")  # links need [, HTML <, headings #


def md(text) -> str:
    """Student-reachable text made inert in Markdown: one line, no markup but code spans.

    The text is cleaned first (:func:`autograder.public.bounded.clean_text`: control
    characters, newlines); outside backtick spans every character with a
    Markdown meaning is escaped, so no heading, link, emphasis, table or HTML
    can be injected; an unbalanced backtick is dropped.

    Args:
        text: any value (``str()`` is taken).

    Returns:
        The escaped line.
    """
    parts = clean_text(str(text), 2000).split("`")
    if len(parts) % 2 == 0:  # odd number of backticks: the last one opens nothing
        parts[-2:] = [parts[-2] + parts[-1]]
    for i in range(0, len(parts), 2):
        parts[i] = _MD_SPECIAL.sub(r"\\\1", parts[i])
    return "`".join(parts)


def check_message(check: dict, lang: str) -> str:
    """A check's message in ``lang`` (``"en"``: the English one when the check gives it)."""
    if lang == "en" and check.get("message_en"):
        return check["message_en"]
    return check.get("message", "")


def question_note(q: dict, params: dict) -> str:
    """Why a question did not run normally (its own message, else the status's), or ``""``."""
    status = q.get("status", "ok")
    if status in QUESTION_OK:
        return ""
    own = q.get("message") or ""
    generic = QUESTION_STATUS_FR.get(status, "").format(
        timeout=format_points(params.get("timeout_s", DEFAULT_TIMEOUT_S)),
        memory=format_points(params.get("memory_gb", DEFAULT_MEMORY_GB)),
    )
    return own or generic


@functools.cache
def _environment() -> jinja2.Environment:
    """The Markdown templates' environment (no autoescape: :func:`md` does the escaping)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md, points=format_points, comma=lambda s: str(s).replace(".", ","))
    return env


def _question_view(q: str, qd: dict, graded: bool, lang: str, params: dict) -> dict:
    """What the feedback template shows of one automated question.

    A message is said once per question: when every failed check fails for the
    same reason (a function that could not run, a question that timed out),
    the reason and its hint come once above the checks; otherwise a check
    whose message was already given refers to the first check that gave it.
    """
    note = question_note(qd, params) if graded else ""
    checks = qd.get("checks") or []
    failed = [c for c in checks if not c.get("passed")]
    reasons = {(check_message(c, lang), c.get("hint") or "") for c in failed}
    # A question that did not run fails every check with the same message, and a
    # function that could not be called fails every check that needs it: say it
    # once, with its hint, instead of once per check.
    shared = bool(failed) and (
        (bool(note) and all(c.get("message") == qd.get("message") for c in failed))
        or (len(failed) >= 2 and len(reasons) == 1)
    )
    shared_message, shared_hint = ("", "")
    if shared:
        shared_message, shared_hint = next(iter(reasons)) if len(reasons) == 1 else ("", "")
        shared_hint = shared_hint or next((c.get("hint") for c in failed if c.get("hint")), "")
        if note and (not shared_message or shared_message == qd.get("message")):
            shared_message = ""  # the note already says it
    views = []
    given: dict[str, str] = {}  # message -> title of the first check that gave it
    hints: set[str] = set()
    for c in checks:
        title = c.get("title", c.get("id"))
        message = hint = same_as = ""
        if not (c.get("passed") or shared):
            message = check_message(c, lang)
            hint = c.get("hint") or ""
            if message and message in given:
                same_as, message = given[message], ""
            elif message:
                given[message] = title
            if hint in hints:
                hint = ""
            elif hint:
                hints.add(hint)
        views.append(
            {
                "passed": bool(c.get("passed")),
                "title": title,
                "hidden": c.get("visibility") == "hidden",
                "points": c.get("points", 0),
                "max_points": c.get("max_points", 0),
                "message": message,
                "hint": hint,
                "same_as": same_as,
            }
        )
    return {
        "id": q,
        "title": QUESTION_TITLES[q],
        "manual": False,
        "score": qd.get("score", 0),
        "max_score": qd.get("max_score", 0),
        "note": note[0].upper() + note[1:] if note else "",
        "shared_message": shared_message,
        "shared_count": len(failed),
        "shared_hint": shared_hint if shared else "",
        "nothing_ran": not checks and graded and not note,
        "checks": views,
    }


def render_feedback(record: dict, lang: str = "fr", params: dict | None = None) -> str:
    """The French feedback of one submission, as Markdown.

    Args:
        record: a submission record (its dictionary).
        lang: ``"fr"`` (default) or ``"en"`` for the checks' English messages when given.
        params: grading parameters (timeout, memory, max points) used in status messages.

    Returns:
        Markdown text: total, then per question each check with passed or not,
        what was expected and found, and a hint (a reason shared by several
        checks is said once). A submission that was not graded gets its total
        and the reason only.
    """
    params = params or {}
    graded = record["status"] == STATUS_GRADED
    questions = []
    # A submission that was not graded (absent, no notebook, invalid notebook)
    # gets its reason only: no empty question sections.
    for q in QUESTIONS if graded else ():
        if q in MANUAL_QUESTIONS:
            questions.append(
                {
                    "id": q,
                    "title": QUESTION_TITLES[q],
                    "manual": True,
                    "max_points": (params.get("max_points") or {}).get(q),
                }
            )
        else:
            questions.append(
                _question_view(q, record["questions"].get(q, {}), graded, lang, params)
            )
    text = (
        _environment()
        .get_template(FEEDBACK_TEMPLATE)
        .render(
            id=record["id"],
            total=record["total"],
            max_total=record["max_total"],
            percent=record["percent"],
            problem=None if graded else (record.get("message") or record["status"]),
            tamper=record.get("tamper") or [],
            cell_errors=[e.get("error", "") for e in (record.get("cell_errors") or [])[:10]],
            identical=bool(record.get("identical_to")),
            questions=questions,
        )
    )
    return _BLANK_LINES.sub("\n\n", text).rstrip() + "\n"


def results_json(record: dict, lang: str = "fr") -> dict:
    """The record in Gradescope's ``results.json`` schema.

    Public checks are ``visible``; hidden checks are ``after_published`` (the
    student sees them once grades are published).

    Args:
        record: a submission record (its dictionary).
        lang: ``"fr"`` or ``"en"`` (the checks' English messages when given).

    Returns:
        The ``results.json`` dictionary.
    """
    tests = []
    for q in AUTO_QUESTIONS:
        qd = record["questions"].get(q, {})
        checks = qd.get("checks") or []
        if not checks:
            tests.append(
                {
                    "name": f"{q} — {QUESTION_TITLES[q]}",
                    "score": float(qd.get("score", 0)),
                    "max_score": float(qd.get("max_score", 0)),
                    "visibility": "visible",
                    "output": (
                        record.get("message")
                        if record["status"] != STATUS_GRADED
                        else question_note(qd, {})
                    ),
                }
            )
            continue
        note = question_note(qd, {})
        for c in checks:
            out = "Réussi." if c.get("passed") else check_message(c, lang)
            if note and not c.get("passed"):
                out = f"{note[0].upper() + note[1:]}\n{out}"
            if c.get("hint") and not c.get("passed"):
                out += f"\nPiste : {c['hint']}"
            tests.append(
                {
                    "name": f"{c.get('id')} — {c.get('title', '')}",
                    "score": float(c.get("points", 0)),
                    "max_score": float(c.get("max_points", 0)),
                    "visibility": "visible"
                    if c.get("visibility") == "public"
                    else "after_published",
                    "output": out,
                }
            )
    summary = (
        f"Note automatique : {format_points(record['total'])} / "
        f"{format_points(record['max_total'])}."
    )
    if record["status"] != STATUS_GRADED:
        summary += " " + (record.get("message") or record["status"])
    return {
        "score": float(record["total"]),
        "output": summary,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def grades_csv(records: list[dict], maxima: dict[str, float]) -> str:
    """otter-grader's ``final_grades.csv``: a points-per-question row, then one row per id.

    A hand-graded question (q4) is left blank in every student row, for the
    teacher to fill in; its maximum is in the points-per-question row.
    ``total_points_earned`` and ``percent_correct`` cover the automatically
    graded questions only: ``percent_correct`` is the fraction (0 to 1) of the
    automatic points, the same figure as ``gradebook.csv``'s ``percent``
    divided by 100 (a perfect automatic score reads 1 in both). A submission
    that is not graded counts 0, as in ``gradebook.csv``.
    ``grading_status`` stays machine-readable (otter's ``Completed``, else the
    record's status code: ``missing``, ``no-notebook``...); ``statut`` is the
    French label of :data:`~autograder.public.assignment.STATUS_LABELS`, with the
    record's French message when it is not graded.

    Args:
        records: submission records (dictionaries).
        maxima: maximum points per question.

    Returns:
        The CSV text, rows sorted by id.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        ["file", *QUESTIONS, "total_points_earned", "percent_correct", "grading_status", "statut"]
    )
    possible = sum(maxima.get(q, 0.0) for q in AUTO_QUESTIONS)
    writer.writerow(
        [
            "points-per-question",
            *(format_points(maxima.get(q, 0.0)) for q in QUESTIONS),
            format_points(possible),
            "1",
            "--",
            "--",
        ]
    )
    for r in sorted(records, key=lambda r: r["id"]):
        graded = r["status"] == STATUS_GRADED
        scores = {
            q: float(r["questions"].get(q, {}).get("score", 0)) if graded else 0.0
            for q in AUTO_QUESTIONS
        }
        total = sum(scores.values())
        status = "Completed" if graded else r["status"]
        label = STATUS_LABELS.get(r["status"], r["status"])
        if not graded and r.get("message"):
            label = f"{label} : {r['message']}"
        # Rounded as gradebook.csv's percent (two decimals of a percentage).
        percent = round(100 * total / possible, 2) / 100 if possible else 0.0
        writer.writerow(
            [
                r["id"],
                *(format_points(scores[q]) if q in scores else "" for q in QUESTIONS),
                format_points(total),
                f"{percent:.4f}".rstrip("0").rstrip("."),
                status,
                label,
            ]
        )
    return buf.getvalue()


def write_outputs(
    out: Path,
    records: list[dict],
    maxima: dict[str, float],
    lang: str = "fr",
    params: dict | None = None,
) -> None:
    """(Re)build grades.csv, results/ and feedback/ from the records, atomically.

    Results and feedback of ids that are not among ``records`` are removed.

    Args:
        out: the output folder.
        records: one record (dictionary) per submission of this run (roster included).
        maxima: maximum points per question.
        lang: feedback language.
        params: grading parameters for status messages.
    """
    out = Path(out)
    ids = {r["id"] for r in records}
    for r in records:
        atomic_write_json(out / "results" / f"{r['id']}.json", results_json(r, lang))
        atomic_write_text(out / "feedback" / f"{r['id']}.md", render_feedback(r, lang, params))
    for sub, ext in (("results", ".json"), ("feedback", ".md")):
        for f in (out / sub).glob(f"*{ext}"):
            if f.stem not in ids:
                f.unlink()
    atomic_write_text(out / "grades.csv", grades_csv(records, maxima))
