"""Statistics of the teacher report: records read back, aggregates, tables.

Reads what the engine wrote in a grading directory (``submissions/<id>.json``
and ``run.json``, schemas in ``docs/architecture.md``), fills the defaults of
every record so that the report never trips on one, and computes what the page
shows: class statistics, pass rates per question and per check, the most
frequent mistakes (anonymised), the students' table and the grading parameters.
Nothing here renders or writes anything.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote

from autograder.public.assignment import (
    QUESTION_OK,
    QUESTION_STATUS_LABELS,
    STATUS_LABELS,
)

EXAMPLE_MESSAGE_MAX = 300
#: What a failed check's message says when the function is still the template's stub
#: (``autograder.public.probe``'s "not-implemented" failure): not a mistake, work not done.
NOT_IMPLEMENTED_MARK = "NotImplementedError"
#: Lists of ``run.json`` longer than this are summarised in the parameters table.
LIST_SHOWN = 8


# --------------------------------------------------------------------------- records


def num(value, default: float = 0.0) -> float:
    """A finite float read from an untrusted record field.

    Args:
        value: anything (a number, a string, ``None``...).
        default: returned when ``value`` is not a finite number.

    Returns:
        ``float(value)``, or ``default``.
    """
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


def fmt(value: float | None) -> str:
    """Points as the report prints them: at most two decimals, no trailing zeros.

    Args:
        value: a number of points, or ``None``.

    Returns:
        ``"6.5"`` for 6.5, ``"7"`` for 7.0, ``"—"`` for ``None``.
    """
    return f"{value:.2f}".rstrip("0").rstrip(".") if value is not None else "—"


def normalise_record(record: dict, fallback_id: str) -> dict:
    """Fill the defaults of a submission record so the report never trips on it.

    Args:
        record: a record as read from ``submissions/<id>.json`` (untrusted shape).
        fallback_id: the id used when the record has none (the file's stem).

    Returns:
        A new record whose fields all exist with the expected types.
    """
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
            "score": num(q.get("score")),
            "max_score": num(q.get("max_score")),
            "status": str(q.get("status") or "ok"),
            "message": str(q.get("message") or ""),
            "seconds": num(q.get("seconds")),
            "checks": checks,
        }
    rec["questions"] = clean_q
    rec["total"] = num(rec.get("total"), sum(q["score"] for q in clean_q.values()))
    rec["max_total"] = num(rec.get("max_total"), sum(q["max_score"] for q in clean_q.values()))
    default_pct = 100.0 * rec["total"] / rec["max_total"] if rec["max_total"] else 0.0
    rec["percent"] = num(rec.get("percent"), default_pct)
    tamper = rec.get("tamper") or []
    rec["tamper"] = [str(t) for t in (tamper if isinstance(tamper, list) else [tamper])]
    same = rec.get("identical_to") or []
    rec["identical_to"] = [str(t) for t in same][:50] if isinstance(same, list) else []
    rec["seconds"] = num(rec.get("seconds"), sum(q["seconds"] for q in clean_q.values()))
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
            data = {
                "id": path.stem,
                "status": "unreadable-record",
                "message": f"Fiche de correction illisible ({type(exc).__name__}) : "
                "relancez la correction.",
            }
        records.append(normalise_record(data, path.stem))
    records.sort(key=lambda r: r["id"].lower())
    return records


def load_run(out_dir: str | os.PathLike) -> dict:
    """Read ``run.json`` (the grading parameters).

    Args:
        out_dir: the directory given to ``grade --out``.

    Returns:
        Its content, or ``{}`` when it is absent, unreadable or not an object.
    """
    try:
        data = json.loads((Path(out_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ------------------------------------------------------------------------ statistics

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
        text = re.sub(
            r"(?<!\w)" + re.escape(sid) + r"(?!\w)", "«étudiant·e»", text, flags=re.IGNORECASE
        )
    if len(text) > EXAMPLE_MESSAGE_MAX:
        text = text[: EXAMPLE_MESSAGE_MAX - 1] + "…"
    return text


def question_ids(records: list[dict]) -> list[str]:
    """Every question id of the records, in natural order (``q2`` before ``q10``).

    Args:
        records: normalised records.

    Returns:
        The sorted question ids.
    """
    ids = {q for r in records for q in r["questions"]}
    return sorted(ids, key=lambda q: (len(q), q))


def _question_rows(records: list[dict], graded: list[dict]) -> list[dict]:
    """Per question: mean fraction of the points over graded submissions."""
    rows = []
    for qid in question_ids(records):
        qs = [r["questions"][qid] for r in graded if qid in r["questions"]]
        max_score = max((q["max_score"] for q in qs), default=0.0)
        manual = all(
            q["status"] == "manual" or (q["status"] == "ok" and not q["checks"]) for q in qs
        )
        rate = (
            statistics.fmean(q["score"] / q["max_score"] if q["max_score"] else 0.0 for q in qs)
            if qs and max_score and not manual
            else None
        )
        problems = Counter(q["status"] for q in qs if q["status"] not in QUESTION_OK)
        rows.append(
            {
                "id": qid,
                "max_score": max_score,
                "rate": rate,
                "n": len(qs),
                "problems": [
                    (QUESTION_STATUS_LABELS.get(s, s), n) for s, n in problems.most_common()
                ],
            }
        )
    return rows


def not_implemented(check: dict) -> bool:
    """Whether a failed check failed only because a function is still a stub.

    The probe reports a function that raises ``NotImplementedError`` (the
    template's ``raise NotImplementedError``, or a stub it calls) as the
    "not-implemented" failure, whose message names the exception; every check
    of that question then fails with it. That is work not done yet, not a
    mistake.
    """
    return not check.get("passed") and NOT_IMPLEMENTED_MARK in str(check.get("message") or "")


def _check_rows(
    graded: list[dict],
) -> tuple[dict[str, dict], dict[str, list[str]], dict[str, int]]:
    """Per check: pass count over the graded submissions where it ran; failure messages.

    Also counts, per question, the submissions whose function is still a stub
    (:func:`not_implemented`); their failed checks are not mistakes.
    """
    checks: dict[str, dict] = {}
    failures: dict[str, list[str]] = defaultdict(list)
    stubs: Counter = Counter()
    for r in graded:
        for qid, q in r["questions"].items():
            stub = False
            for c in q["checks"]:
                cid = str(c.get("id") or f"{qid}.?")
                entry = checks.setdefault(
                    cid,
                    {
                        "id": cid,
                        "question": str(c.get("question") or qid),
                        "title": str(c.get("title") or ""),
                        "visibility": str(c.get("visibility") or ""),
                        "max_points": num(c.get("max_points")),
                        "passed": 0,
                        "n": 0,
                    },
                )
                entry["n"] += 1
                if c.get("passed"):
                    entry["passed"] += 1
                elif not_implemented(c):
                    stub = True
                else:
                    failures[cid].append(str(c.get("message") or ""))
            if stub:
                stubs[qid] += 1
            if q["status"] not in QUESTION_OK:
                label = QUESTION_STATUS_LABELS.get(q["status"], q["status"])
                failures[f"{qid} · {label}"].append(q["message"] or f"Question {qid} : {label}.")
    for entry in checks.values():
        entry["rate"] = entry["passed"] / entry["n"] if entry["n"] else 0.0
    return checks, failures, dict(stubs)


def _mistakes(
    checks: dict[str, dict], failures: dict[str, list[str]], n_graded: int, ids: list[str]
) -> list[dict]:
    """The frequent mistakes, most frequent first, each with an anonymised example."""
    mistakes = []
    for key, messages in failures.items():
        common = Counter(m for m in messages if m).most_common(1)
        mistakes.append(
            {
                "id": key,
                "title": checks[key]["title"]
                if key in checks
                else "Problème d'exécution de la question",
                "count": len(messages),
                "share": len(messages) / n_graded if n_graded else 0.0,
                "example": anonymise(common[0][0], ids) if common else "",
            }
        )
    mistakes.sort(key=lambda m: (-m["count"], m["id"]))
    return mistakes


def summarise(records: list[dict]) -> dict:
    """Class statistics shown by the page.

    Args:
        records: normalised records (see :func:`load_records`).

    Returns:
        A dictionary: counts per status, score statistics over graded
        submissions, per-question and per-check pass rates, the most frequent
        mistakes with an anonymised example message (checks that failed only
        because a function is still a stub are not mistakes:
        ``not_implemented`` counts those submissions per question instead).
    """
    graded = [r for r in records if r["status"] == "graded"]
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
    stats["questions"] = _question_rows(records, graded)
    checks, failures, stubs = _check_rows(graded)
    stats["checks"] = sorted(
        checks.values(), key=lambda e: (len(e["question"]), e["question"], e["id"])
    )
    stats["mistakes"] = _mistakes(checks, failures, len(graded), [r["id"] for r in records])
    stats["not_implemented"] = sorted(stubs.items(), key=lambda kv: (len(kv[0]), kv[0]))
    return stats


# ---------------------------------------------------------------------------- tables


def student_rows(records: list[dict], out_dir: str | os.PathLike, qids: list[str]) -> list[dict]:
    """The rows of the students' table.

    Args:
        records: normalised records.
        out_dir: the grading directory (a row links its feedback file when it exists).
        qids: the question columns (see :func:`question_ids`).

    Returns:
        One dictionary per record: raw values for sorting, texts for display.
    """
    rows = []
    for r in records:
        feedback = Path(out_dir) / "feedback" / f"{r['id']}.md"
        problems = [
            f"{qid} : {QUESTION_STATUS_LABELS.get(q['status'], q['status'])}"
            for qid, q in r["questions"].items()
            if q["status"] not in QUESTION_OK
        ]
        rows.append(
            {
                "id": r["id"],
                "total": r["total"],
                "total_txt": fmt(r["total"]),
                "max_total_txt": fmt(r["max_total"]),
                "percent": r["percent"],
                "percent_txt": f"{r['percent']:.1f}",
                "status": r["status"],
                "status_label": STATUS_LABELS.get(r["status"], r["status"]),
                "message": r["message"],
                "problems": problems,
                "questions": [
                    (
                        qid,
                        r["questions"][qid]["score"] if qid in r["questions"] else None,
                        fmt(r["questions"][qid]["score"]) if qid in r["questions"] else "—",
                        r["questions"].get(qid, {}).get("status", ""),
                    )
                    for qid in qids
                ],
                "tamper": r["tamper"],
                "seconds": r["seconds"],
                "seconds_txt": f"{r['seconds']:.1f}",
                "feedback": (
                    ("feedback/" + quote(f"{r['id']}.md", safe="")) if feedback.is_file() else None
                ),
            }
        )
    return rows


def flatten_parameters(data, prefix: str = "") -> list[tuple[str, str]]:
    """``run.json`` as rows of the parameters table.

    Args:
        data: the grading parameters (nested dictionaries).
        prefix: the dotted key of ``data`` itself (for the recursion).

    Returns:
        ``(dotted key, text)`` rows; lists longer than :data:`LIST_SHOWN` are summarised.
    """
    rows = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) and value:
                rows.extend(flatten_parameters(value, name))
            elif isinstance(value, str):
                rows.append((name, value))
            elif isinstance(value, list) and len(value) > LIST_SHOWN:
                head = ", ".join(
                    v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                    for v in value[:LIST_SHOWN]
                )
                rows.append((name, f"{len(value)} éléments : {head}, …"))
            else:
                rows.append((name, json.dumps(value, ensure_ascii=False)))
    return rows


#: French names of the sections of ``run.json`` (its first-level keys) in the parameters table.
RUN_SECTIONS_FR = {
    "run_id": "identifiant du passage",
    "status": "état",
    "started": "début",
    "finished": "fin",
    "seconds": "durée (s)",
    "grader_fingerprint": "empreinte du correcteur",
    "grader_version": "version du correcteur",
    "parameters": "paramètres",
    "versions": "versions",
    "check_parameters": "paramètres des vérifications",
    "max_points": "points maximaux",
    "thresholds": "seuils",
    "seeds": "graines",
    "timeout": "délai (s)",
    "memory_gb": "mémoire (Go)",
    "jobs": "processus",
    "inputs": "entrées",
    "roster": "liste d'appel",
    "submissions": "copies",
    "graded": "corrigées lors de ce passage",
    "reused": "reprises sans changement",
    "errors": "erreurs du correcteur",
    "missing": "non rendues",
    "statuses": "statuts",
}
#: French values of ``run.json``'s ``status``.
RUN_STATUS_FR = {"running": "en cours", "finished": "terminée", "interrupted": "interrompue"}


def parameter_rows(run: dict) -> list[tuple[str, str, bool, str]]:
    """The parameters table in French: ``(section, detail, detail is code, text)`` rows.

    The section is the French name of ``run.json``'s first-level key
    (:data:`RUN_SECTIONS_FR`; an unknown key is shown as it is), the detail the
    rest of the dotted key (a technical name, shown as code), a submission
    status its French label.

    Args:
        run: ``run.json`` without its scale (see :func:`split_scale`).

    Returns:
        The rows, in :func:`flatten_parameters` order.
    """
    rows = []
    for key, text in flatten_parameters(run):
        head, _, rest = key.partition(".")
        code = head != "statuses"
        if not code:
            rest = STATUS_LABELS.get(rest, rest)
        if key == "status":
            text = RUN_STATUS_FR.get(text, text)
        rows.append((RUN_SECTIONS_FR.get(head, head), rest, code, text))
    return rows


def split_scale(run: dict) -> tuple[dict, list[dict]]:
    """Split the registry of checks (``run["checks"]``) from the other parameters.

    Args:
        run: the content of ``run.json``.

    Returns:
        ``(other parameters, scale)``, the scale being one dictionary per check
        (``id``, ``title``, ``points``, ``visibility``, ``manual``); ``(run, [])``
        when ``run`` holds no list of checks.
    """
    checks = run.get("checks")
    if isinstance(checks, list) and checks and all(isinstance(c, dict) for c in checks):
        rest = {k: v for k, v in run.items() if k != "checks"}
        return rest, [
            {
                "id": str(c.get("id", "")),
                "title": str(c.get("title", "")),
                "points": num(c.get("points")),
                "visibility": str(c.get("visibility", "")),
                "manual": bool(c.get("manual")),
            }
            for c in checks
        ]
    return run, []
