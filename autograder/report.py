"""Teacher report: ``report.html`` and ``gradebook.csv`` from a grading output directory.

The engine (:mod:`autograder.engine`) writes, in ``DIR``, one record per
submission in ``submissions/<id>.json`` and the grading parameters in
``run.json`` (schemas in ``docs/architecture.md``). This module only reads
them (it never runs student code) and writes:

- ``DIR/report.html``: a self-contained French page for the teacher (plots
  embedded as base64 PNG, inline CSS and JavaScript, a Content Security Policy
  that forbids any network access) with the score distribution, the pass rate
  of every question and check, the most frequent mistakes, the grading time of
  every submission, a sortable table of students linking their feedback, and
  the grading parameters;
- ``DIR/gradebook.csv``: ``student_id,total,percent,status``, one row per
  submission, missing students included (0 points).

Every student text (ids, messages, tamper reasons) is untrusted and goes
through Jinja2's autoescaping. Both files are written atomically.

Entry points: :func:`write_report` (``python -m autograder report DIR``, and
the end of ``grade``) and :func:`run_demo` (``python -m autograder demo``).
"""
from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import re
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from autograder.public.fsutil import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "report.html.j2"

from autograder.public.assignment import (  # noqa: E402 - the assignment's facts
    QUESTION_OK,
    QUESTION_STATUS_LABELS,
    STATUS_LABELS,
)

#: Files of the grading directory linked from the page: (relative path, French label).
OUTPUT_FILES = (
    ("gradebook.csv", "carnet de notes (identifiant, total, pourcentage)"),
    ("grades.csv", "notes par question (format otter-grader)"),
    ("feedback/", "retours individuels (Markdown)"),
    ("results/", "résultats au format Gradescope (JSON)"),
)
#: Plot ids, in page order; the Chromium test expects exactly these.
PLOT_IDS = ("plot-distribution", "plot-questions", "plot-checks", "plot-timing")
#: Beyond this many submissions the timing plot becomes a histogram.
TIMING_BARS_MAX = 60
EXAMPLE_MESSAGE_MAX = 300


# --------------------------------------------------------------------------- I/O

def _num(value, default: float = 0.0) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


def _normalise(record: dict, fallback_id: str) -> dict:
    """Fill the defaults of a submission record so the report never trips on it."""
    rec = dict(record) if isinstance(record, dict) else {}
    rec["id"] = str(rec.get("id") or fallback_id)
    rec["status"] = str(rec.get("status") or "graded")
    rec["message"] = str(rec.get("message") or "")
    questions = rec.get("questions") if isinstance(rec.get("questions"), dict) else {}
    clean_q = {}
    for qid, q in questions.items():
        q = q if isinstance(q, dict) else {}
        checks = [c for c in (q.get("checks") or []) if isinstance(c, dict)]
        clean_q[str(qid)] = {
            "score": _num(q.get("score")),
            "max_score": _num(q.get("max_score")),
            "status": str(q.get("status") or "ok"),
            "message": str(q.get("message") or ""),
            "seconds": _num(q.get("seconds")),
            "checks": checks,
        }
    rec["questions"] = clean_q
    rec["total"] = _num(rec.get("total"), sum(q["score"] for q in clean_q.values()))
    rec["max_total"] = _num(rec.get("max_total"), sum(q["max_score"] for q in clean_q.values()))
    default_pct = 100.0 * rec["total"] / rec["max_total"] if rec["max_total"] else 0.0
    rec["percent"] = _num(rec.get("percent"), default_pct)
    tamper = rec.get("tamper") or []
    rec["tamper"] = [str(t) for t in (tamper if isinstance(tamper, list) else [tamper])]
    same = rec.get("identical_to") or []
    rec["identical_to"] = [str(t) for t in same][:50] if isinstance(same, list) else []
    rec["seconds"] = _num(rec.get("seconds"), sum(q["seconds"] for q in clean_q.values()))
    return rec


def load_records(out_dir: str | os.PathLike) -> list[dict]:
    """Read every ``submissions/*.json`` of a grading directory.

    Args:
        out_dir: the directory given to ``grade --out``.

    Returns:
        Normalised records sorted by id. A file that cannot be read becomes a
        record with status ``"unreadable-record"`` (so no student disappears).
    """
    sub_dir = Path(out_dir) / "submissions"
    records = []
    for path in sorted(sub_dir.glob("*.json")) if sub_dir.is_dir() else []:
        if path.name.startswith("."):
            continue  # a temporary file of an atomic write in progress
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            data = {"id": path.stem, "status": "unreadable-record",
                    "message": f"Fiche de correction illisible ({type(exc).__name__}) : relancez la correction."}
        records.append(_normalise(data, path.stem))
    records.sort(key=lambda r: r["id"].lower())
    return records


def load_run(out_dir: str | os.PathLike) -> dict:
    """Read ``run.json`` (grading parameters); ``{}`` when absent or unreadable."""
    try:
        data = json.loads((Path(out_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ------------------------------------------------------------------ statistics

_PATH_RE = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/'\"<>:]+){2,}[\\/]?")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def anonymise(message: str, student_ids=()) -> str:
    """Strip what could identify a student from a message.

    Args:
        message: a check or status message.
        student_ids: ids to mask (every id of the class).

    Returns:
        The message with student ids, e-mail addresses and file paths masked,
        cut to :data:`EXAMPLE_MESSAGE_MAX` characters.
    """
    text = _EMAIL_RE.sub("«courriel»", str(message))
    text = _PATH_RE.sub(lambda m: "…/" + re.split(r"[\\/]", m.group(0).rstrip("\\/"))[-1], text)
    for sid in sorted({s for s in student_ids if len(s) >= 3}, key=len, reverse=True):
        text = re.sub(r"(?<!\w)" + re.escape(sid) + r"(?!\w)", "«étudiant·e»", text, flags=re.IGNORECASE)
    if len(text) > EXAMPLE_MESSAGE_MAX:
        text = text[:EXAMPLE_MESSAGE_MAX - 1] + "…"
    return text


def _question_ids(records) -> list[str]:
    ids = {q for r in records for q in r["questions"]}
    return sorted(ids, key=lambda q: (len(q), q))


def summarise(records: list[dict]) -> dict:
    """Class statistics used by the page and by :func:`run_demo`.

    Args:
        records: normalised records (see :func:`load_records`).

    Returns:
        A dictionary: counts per status, score statistics over graded
        submissions, per-question and per-check pass rates, the most frequent
        mistakes with an anonymised example message.
    """
    graded = [r for r in records if r["status"] == "graded"]
    ids = [r["id"] for r in records]
    by_status = Counter(r["status"] for r in records)
    pcts = [r["percent"] for r in graded]
    stats = {
        "n": len(records),
        "graded": len(graded),
        "by_status": [(s, STATUS_LABELS.get(s, s), n) for s, n in sorted(by_status.items())],
        "tampered": sum(1 for r in records if r["tamper"]),
        "mean": statistics.fmean(pcts) if pcts else None,
        "median": statistics.median(pcts) if pcts else None,
        "min": min(pcts) if pcts else None,
        "max": max(pcts) if pcts else None,
        "max_total": max((r["max_total"] for r in records), default=0.0),
    }
    # Per question: mean fraction of the points over graded submissions.
    questions = []
    for qid in _question_ids(records):
        qs = [r["questions"][qid] for r in graded if qid in r["questions"]]
        max_score = max((q["max_score"] for q in qs), default=0.0)
        manual = all(q["status"] == "manual" or (q["status"] == "ok" and not q["checks"]) for q in qs)
        rate = (statistics.fmean(q["score"] / q["max_score"] if q["max_score"] else 0.0 for q in qs)
                if qs and max_score and not manual else None)
        problems = Counter(q["status"] for q in qs if q["status"] not in QUESTION_OK)
        questions.append({"id": qid, "max_score": max_score, "rate": rate, "n": len(qs),
                          "problems": [(QUESTION_STATUS_LABELS.get(s, s), n) for s, n in problems.most_common()]})
    stats["questions"] = questions
    # Per check: pass rate over the graded submissions where the check ran.
    checks: dict[str, dict] = {}
    failures: dict[str, list[str]] = defaultdict(list)
    for r in graded:
        for qid, q in r["questions"].items():
            for c in q["checks"]:
                cid = str(c.get("id") or f"{qid}.?")
                entry = checks.setdefault(cid, {"id": cid, "question": str(c.get("question") or qid),
                                                "title": str(c.get("title") or ""),
                                                "visibility": str(c.get("visibility") or ""),
                                                "max_points": _num(c.get("max_points")),
                                                "passed": 0, "n": 0})
                entry["n"] += 1
                if c.get("passed"):
                    entry["passed"] += 1
                else:
                    failures[cid].append(str(c.get("message") or ""))
            if q["status"] not in QUESTION_OK:
                key = f"{qid} · {QUESTION_STATUS_LABELS.get(q['status'], q['status'])}"
                failures[key].append(q["message"] or
                                     f"Question {qid} : {QUESTION_STATUS_LABELS.get(q['status'], q['status'])}.")
    for entry in checks.values():
        entry["rate"] = entry["passed"] / entry["n"] if entry["n"] else 0.0
    stats["checks"] = sorted(checks.values(), key=lambda e: (len(e["question"]), e["question"], e["id"]))
    mistakes = []
    for key, messages in failures.items():
        common = Counter(m for m in messages if m).most_common(1)
        mistakes.append({
            "id": key,
            "title": checks[key]["title"] if key in checks else "Problème d'exécution de la question",
            "count": len(messages),
            "share": len(messages) / len(graded) if graded else 0.0,
            "example": anonymise(common[0][0], ids) if common else "",
        })
    mistakes.sort(key=lambda m: (-m["count"], m["id"]))
    stats["mistakes"] = mistakes
    return stats


# ----------------------------------------------------------------------- plots

def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png_data_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _empty(ax, text="Aucune soumission corrigée") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=12, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def make_plots(records: list[dict], stats: dict) -> list[dict]:
    """Render the four plots of the page.

    Args:
        records: normalised records.
        stats: output of :func:`summarise`.

    Returns:
        ``[{"id", "title", "alt", "src"}]`` in :data:`PLOT_IDS` order, ``src``
        being a ``data:image/png;base64`` URI.
    """
    import pandas as pd
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    palette = sns.color_palette("deep")
    plots = []
    graded = [r for r in records if r["status"] == "graded"]

    # 1. Score distribution (every submission; non-graded ones score 0).
    fig = _figure(7.5, 3.6)
    ax = fig.add_subplot()
    if records:
        df = pd.DataFrame({"percent": [r["percent"] for r in records],
                           "statut": ["corrigé" if r["status"] == "graded" else "non corrigé"
                                      for r in records]})
        sns.histplot(data=df, x="percent", hue="statut", hue_order=["corrigé", "non corrigé"],
                     bins=list(range(0, 105, 5)), multiple="stack", ax=ax,
                     palette={"corrigé": palette[0], "non corrigé": palette[3]})
        ax.set_xlim(0, 100)
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), title="statut", fontsize=8)
        if stats["median"] is not None:
            ax.axvline(stats["median"], color="#333", ls="--", lw=1)
            ax.annotate(f"médiane {stats['median']:.0f} %", (stats["median"], ax.get_ylim()[1] * 0.92),
                        xytext=(4, 0), textcoords="offset points", fontsize=9)
        ax.yaxis.get_major_locator().set_params(integer=True)
    else:
        _empty(ax, "Aucune soumission")
    ax.set_xlabel("Note (% des points)")
    ax.set_ylabel("Nombre d'étudiant·es")
    ax.set_title("Distribution des notes")
    plots.append({"id": PLOT_IDS[0], "title": "Distribution des notes",
                  "alt": "Histogramme des notes en pourcentage, toutes soumissions confondues",
                  "src": _png_data_uri(fig)})

    # 2. Per-question mean success.
    qrows = [q for q in stats["questions"] if q["rate"] is not None]
    fig = _figure(7.5, 3.0)
    ax = fig.add_subplot()
    if qrows:
        names = [f"{q['id']} ({q['max_score']:g} pts)" for q in qrows]
        values = [100 * q["rate"] for q in qrows]
        sns.barplot(x=names, y=values, ax=ax, color=palette[0])
        for i, v in enumerate(values):
            ax.text(i, v + 1.5, f"{v:.0f} %", ha="center", fontsize=9)
        ax.set_ylim(0, 110)
    else:
        _empty(ax)
    ax.set_ylabel("Points obtenus (%)")
    ax.set_title("Réussite moyenne par question")
    plots.append({"id": PLOT_IDS[1], "title": "Réussite par question",
                  "alt": "Diagramme en barres : pourcentage moyen des points obtenus à chaque question",
                  "src": _png_data_uri(fig)})

    # 3. Per-check pass rate.
    checks = stats["checks"]
    fig = _figure(7.5, max(2.6, 0.3 * len(checks) + 1.2))
    ax = fig.add_subplot()
    if checks:
        df = pd.DataFrame({"check": [c["id"] for c in checks],
                           "rate": [100 * c["rate"] for c in checks],
                           "question": [c["question"] for c in checks]})
        sns.barplot(data=df, y="check", x="rate", hue="question", dodge=False, ax=ax, orient="h")
        ax.set_xlim(0, 100)
        ax.legend(title="question", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    else:
        _empty(ax)
    ax.set_xlabel("Taux de réussite (%)")
    ax.set_ylabel("")
    ax.set_title("Taux de réussite par vérification")
    plots.append({"id": PLOT_IDS[2], "title": "Réussite par vérification",
                  "alt": "Diagramme en barres horizontales : taux de réussite de chaque vérification",
                  "src": _png_data_uri(fig)})

    # 4. Grading time per submission.
    timed = [r for r in records if r["status"] != "missing"]
    if 0 < len(timed) <= TIMING_BARS_MAX:
        fig = _figure(7.5, max(2.6, 0.28 * len(timed) + 1.2))
        ax = fig.add_subplot()
        qids = _question_ids(timed)
        left = [0.0] * len(timed)
        labels = [r["id"] for r in timed]
        for i, qid in enumerate(qids):
            vals = [r["questions"].get(qid, {}).get("seconds", 0.0) for r in timed]
            ax.barh(labels, vals, left=left, label=qid, color=palette[i % len(palette)])
            left = [a + b for a, b in zip(left, vals)]
        rest = [max(0.0, r["seconds"] - l) for r, l in zip(timed, left)]
        ax.barh(labels, rest, left=left, label="autre", color="#bbbbbb")
        ax.invert_yaxis()
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        ax.set_xlabel("Durée de correction (s)")
    elif timed:
        fig = _figure(7.5, 3.2)
        ax = fig.add_subplot()
        sns.histplot(x=[r["seconds"] for r in timed], ax=ax, color=palette[2])
        ax.set_xlabel("Durée de correction (s)")
        ax.set_ylabel("Nombre de soumissions")
    else:
        fig = _figure(7.5, 2.6)
        ax = fig.add_subplot()
        _empty(ax, "Aucune soumission chronométrée")
    ax.set_title("Durée de correction par soumission")
    plots.append({"id": PLOT_IDS[3], "title": "Durée de correction",
                  "alt": "Durée de correction de chaque soumission, détaillée par question",
                  "src": _png_data_uri(fig)})
    return plots


# ----------------------------------------------------------------------- page

LIST_SHOWN = 8


def _flatten(data, prefix="") -> list[tuple[str, str]]:
    """``run.json`` as (dotted key, text) rows; long lists are summarised."""
    rows = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) and value:
                rows.extend(_flatten(value, name))
            elif isinstance(value, str):
                rows.append((name, value))
            elif isinstance(value, list) and len(value) > LIST_SHOWN:
                head = ", ".join(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                                 for v in value[:LIST_SHOWN])
                rows.append((name, f"{len(value)} éléments : {head}, …"))
            else:
                rows.append((name, json.dumps(value, ensure_ascii=False)))
    return rows


def _scale(run: dict) -> tuple[dict, list[dict]]:
    """Split the registry of checks (``run["checks"]``, a list of dicts) from the other parameters."""
    checks = run.get("checks")
    if isinstance(checks, list) and checks and all(isinstance(c, dict) for c in checks):
        rest = {k: v for k, v in run.items() if k != "checks"}
        return rest, [{"id": str(c.get("id", "")), "title": str(c.get("title", "")),
                       "points": _num(c.get("points")), "visibility": str(c.get("visibility", "")),
                       "manual": bool(c.get("manual"))} for c in checks]
    return run, []


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value is not None else "—"


def _table_rows(records, out_dir: Path, qids) -> list[dict]:
    rows = []
    for r in records:
        feedback = out_dir / "feedback" / f"{r['id']}.md"
        problems = [f"{qid} : {QUESTION_STATUS_LABELS.get(q['status'], q['status'])}"
                    for qid, q in r["questions"].items() if q["status"] not in QUESTION_OK]
        rows.append({
            "id": r["id"],
            "total": r["total"], "total_txt": _fmt(r["total"]), "max_total_txt": _fmt(r["max_total"]),
            "percent": r["percent"], "percent_txt": f"{r['percent']:.1f}",
            "status": r["status"], "status_label": STATUS_LABELS.get(r["status"], r["status"]),
            "message": r["message"],
            "problems": problems,
            "questions": [(qid, r["questions"][qid]["score"] if qid in r["questions"] else None,
                           _fmt(r["questions"][qid]["score"]) if qid in r["questions"] else "—",
                           r["questions"].get(qid, {}).get("status", ""))
                          for qid in qids],
            "tamper": r["tamper"],
            "seconds": r["seconds"], "seconds_txt": f"{r['seconds']:.1f}",
            "feedback": ("feedback/" + quote(f"{r['id']}.md", safe="")) if feedback.is_file() else None,
        })
    return rows


def render_html(records: list[dict], run: dict, out_dir: str | os.PathLike) -> str:
    """Render the report page.

    Args:
        records: normalised records (see :func:`load_records`).
        run: the content of ``run.json``.
        out_dir: the grading directory (feedback links are relative to it).

    Returns:
        The HTML text.
    """
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    stats = summarise(records)
    qids = _question_ids(records)
    rest, scale = _scale(run)
    params = _flatten(rest)
    return env.get_template(TEMPLATE_NAME).render(
        title="Rapport de correction : ResNet à la main",
        generated=datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M"),
        out_dir=str(Path(out_dir).resolve().name),
        stats=stats,
        plots=make_plots(records, stats),
        rows=_table_rows(records, Path(out_dir), qids),
        qids=qids,
        params=params,
        scale=scale,
        files=[(name, label) for name, label in OUTPUT_FILES if (Path(out_dir) / name).exists()],
        fmt=_fmt,
        tampered=[r for r in records if r["tamper"]],
        identical=[r for r in records if r["identical_to"]],
        attention=[r for r in records if r["status"] != "graded"
                   or any(q["status"] not in QUESTION_OK for q in r["questions"].values())],
        qlabels=QUESTION_STATUS_LABELS,
        qok=QUESTION_OK,
        slabels=STATUS_LABELS,
    )


def write_gradebook(records: list[dict], path: str | os.PathLike) -> Path:
    """Write the gradebook CSV: ``student_id,total,percent,status``, one row per student."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student_id", "total", "percent", "status"])
    for r in records:
        total = r["total"] if r["status"] == "graded" else 0.0
        percent = r["percent"] if r["status"] == "graded" else 0.0
        writer.writerow([r["id"], f"{total:.2f}", f"{percent:.2f}", r["status"]])
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


# ------------------------------------------------------------------------ demo

def _demo_summary(records: list[dict]) -> str:
    lines = []
    width = max((len(r["id"]) for r in records), default=10)
    for r in records:
        status = STATUS_LABELS.get(r["status"], r["status"])
        flags = []
        flags += [f"{qid} {QUESTION_STATUS_LABELS.get(q['status'], q['status'])}"
                  for qid, q in r["questions"].items() if q["status"] not in QUESTION_OK]
        if r["tamper"]:
            flags.append("alerte")
        lines.append(f"  {r['id']:<{width}}  {_fmt(r['total']):>5} / {_fmt(r['max_total']):<5}"
                     f" {r['percent']:5.1f} %  {status}" + (f"  ({', '.join(flags)})" if flags else ""))
    return "\n".join(lines)


DEMO_IGNORE = ("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints")


def stage_examples(examples: Path, template: Path, staging: Path) -> list[Path]:
    """Rebuild full student repositories from the examples.

    Each folder of ``examples/`` holds only what its student changed (the
    notebook, sometimes planted files); a cloned GitHub Classroom repository
    also holds the rest of the template (README, tests/, autograder/, workflow).
    Every example becomes ``staging/<name>/`` = ``template/`` overlaid with the
    example's files, so the demo's tamper check sees what a teacher would see.
    A bare ``.ipynb`` example, or any example when ``template`` is absent, is
    used as is.

    Args:
        examples: the examples folder.
        template: ``student_template/``.
        staging: where the repositories are rebuilt (emptied first).

    Returns:
        The submissions to grade, sorted by name.
    """
    import shutil

    subs = sorted(p for p in examples.iterdir()
                  if not p.name.startswith(".") and (p.is_dir() or p.suffix == ".ipynb"))
    if not template.is_dir():
        return subs
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    staged = []
    ignore = shutil.ignore_patterns(*DEMO_IGNORE)
    for sub in subs:
        if not sub.is_dir():
            staged.append(sub)
            continue
        target = staging / sub.name
        shutil.copytree(template, target, ignore=ignore)
        shutil.copytree(sub, target, ignore=ignore, dirs_exist_ok=True)
        staged.append(target)
    return staged


def run_demo(examples_dir: str | os.PathLike | None = None,
             out_dir: str | os.PathLike | None = None, extra_args=()) -> Path:
    """Grade the bundled example submissions and write their report.

    Rebuilds each example as a full student repository under
    ``build/demo-repos/`` (see :func:`stage_examples`), runs
    ``python -m autograder grade build/demo-repos/* --out out/demo`` (the
    engine's command line, so the demo exercises exactly what a teacher runs;
    a rerun only regrades changed notebooks), then :func:`write_report`, and
    prints the report's path and a summary.

    Args:
        examples_dir: folder of example submissions (default ``examples/``).
        out_dir: output folder (default ``out/demo``).
        extra_args: extra arguments for ``grade`` (e.g. ``["--jobs", "2"]``).

    Returns:
        The path of ``report.html``.

    Raises:
        SystemExit: when there is no example, or the engine fails and produced no record.
    """
    examples = Path(examples_dir) if examples_dir else ROOT / "examples"
    out = Path(out_dir) if out_dir else ROOT / "out" / "demo"
    if not examples.is_dir():
        raise SystemExit(f"demo: dossier d'exemples introuvable : {examples}")
    subs = stage_examples(examples, ROOT / "student_template", ROOT / "build" / "demo-repos")
    if not subs:
        raise SystemExit(f"demo: aucune soumission d'exemple dans {examples}")
    print(f"Correction de {len(subs)} soumissions d'exemple ({examples}) dans {out} ...",
          file=sys.stderr, flush=True)
    cmd = [sys.executable, "-m", "autograder", "grade", *map(str, subs), "--out", str(out),
           "--no-report", *extra_args]
    proc = subprocess.run(cmd, cwd=str(ROOT))
    records = load_records(out)
    if proc.returncode != 0:
        print(f"demo: la correction s'est terminée avec le code {proc.returncode}", file=sys.stderr)
        if not records:
            raise SystemExit(proc.returncode or 1)
    report = write_report(out)
    print("\nRésultats des exemples :")
    print(_demo_summary(records))
    print(f"\nRapport : {report}")
    print(f"Carnet de notes : {out / 'gradebook.csv'}")
    return report


def main(argv=None) -> int:
    """``python -m autograder.report DIR``: write the report of a grading directory."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.report", description=main.__doc__)
    parser.add_argument("out_dir", help="grading directory (holds submissions/ and run.json)")
    args = parser.parse_args(argv)
    if not (Path(args.out_dir) / "submissions").is_dir():
        print(f"report: {args.out_dir} n'a pas de dossier submissions/ (lancez d'abord grade)", file=sys.stderr)
        return 2
    print(write_report(args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
