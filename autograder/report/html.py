"""The report's files: ``report.html`` (Jinja2 template) and ``gradebook.csv``.

The page is ``autograder/templates/report.html.j2`` rendered with autoescaping
(every student text is untrusted), its plots embedded as base64 PNG. Both files
are written atomically.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup, escape

from autograder.public.assignment import QUESTION_OK, QUESTION_STATUS_LABELS, STATUS_LABELS
from autograder.public.fsutil import atomic_write_text
from autograder.report.plots import make_plots
from autograder.report.stats import (
    fmt,
    load_records,
    load_run,
    parameter_rows,
    question_ids,
    split_scale,
    student_rows,
    summarise,
)

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"


def code_spans(text) -> Markup:
    """Escaped text whose Markdown-style code spans (```x```) become ``<code>x</code>``.

    Check titles and messages mark code with backticks (they are Markdown in
    the feedback); the page shows them as code, never as raw backticks. Every
    part is HTML-escaped; an unbalanced backtick is dropped.

    Args:
        text: any value (``str()`` is taken); untrusted.

    Returns:
        Safe markup.
    """
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # odd number of backticks: the last one opens nothing
        parts[-2:] = [parts[-2] + parts[-1]]
    return Markup("").join(
        Markup("<code>{}</code>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts)
    )


TEMPLATE_NAME = "report.html.j2"

#: Files of the grading directory linked from the page: (relative path, French label).
OUTPUT_FILES = (
    ("gradebook.csv", "carnet de notes (identifiant, total, pourcentage)"),
    ("grades.csv", "notes par question (format otter-grader)"),
    ("feedback/", "retours individuels (Markdown)"),
    ("results/", "résultats au format Gradescope (JSON)"),
)


def render_html(records: list[dict], run: dict, out_dir: str | os.PathLike) -> str:
    """Render the report page.

    Args:
        records: normalised records (see :func:`autograder.report.stats.load_records`).
        run: the content of ``run.json``.
        out_dir: the grading directory (feedback links are relative to it).

    Returns:
        The HTML text.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["code"] = code_spans
    stats = summarise(records)
    qids = question_ids(records)
    rest, scale = split_scale(run)
    return env.get_template(TEMPLATE_NAME).render(
        title="Rapport de correction : ResNet à la main",
        generated=datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M"),
        out_dir=str(Path(out_dir).resolve().name),
        stats=stats,
        plots=make_plots(records, stats),
        rows=student_rows(records, out_dir, qids),
        qids=qids,
        params=parameter_rows(rest),
        scale=scale,
        files=[(name, label) for name, label in OUTPUT_FILES if (Path(out_dir) / name).exists()],
        fmt=fmt,
        tampered=[r for r in records if r["tamper"]],
        identical=[r for r in records if r["identical_to"]],
        attention=[
            r
            for r in records
            if r["status"] != "graded"
            or any(q["status"] not in QUESTION_OK for q in r["questions"].values())
        ],
        qlabels=QUESTION_STATUS_LABELS,
        qok=QUESTION_OK,
        slabels=STATUS_LABELS,
    )


def write_gradebook(records: list[dict], path: str | os.PathLike) -> Path:
    """Write the gradebook CSV: ``student_id,total,percent,status,statut``, one row per student.

    ``status`` is the record's status code (machine-readable), ``statut`` its French
    label (:data:`~autograder.public.assignment.STATUS_LABELS`).

    Args:
        records: normalised records; a submission that is not graded counts 0 points.
        path: the CSV file to write (atomically).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student_id", "total", "percent", "status", "statut"])
    for r in records:
        total = r["total"] if r["status"] == "graded" else 0.0
        percent = r["percent"] if r["status"] == "graded" else 0.0
        label = STATUS_LABELS.get(r["status"], r["status"])
        writer.writerow([r["id"], f"{total:.2f}", f"{percent:.2f}", r["status"], label])
    atomic_write_text(Path(path), buf.getvalue())
    return Path(path)


def write_report(out_dir: str | os.PathLike) -> Path:
    """Write ``report.html`` and ``gradebook.csv`` into a grading directory.

    Args:
        out_dir: the directory given to ``grade --out`` (holds
            ``submissions/*.json`` and ``run.json``).

    Returns:
        The path of ``report.html``.
    """
    out = Path(out_dir)
    records = load_records(out)
    run = load_run(out)
    write_gradebook(records, out / "gradebook.csv")
    html = render_html(records, run, out)
    report = out / "report.html"
    atomic_write_text(report, html)
    return report
