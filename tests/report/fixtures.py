"""Grading directories shaped like the engine's outputs, for the report and demo tests.

:func:`make_fixture` writes ``submissions/*.json``, ``feedback/*.md`` and
``run.json`` (docs/architecture.md) for :func:`fixture_records`: a perfect
student, a missing final ReLU, a timeout with a tamper flag, an invalid
notebook, a student with no notebook, a student on the roster who submitted
nothing, and a student whose id and messages carry HTML/JavaScript.
"""

from __future__ import annotations

import json
from pathlib import Path

MALICIOUS = "<script>alert('pwned')</script>"
EVIL_ID = "eve<b>"  # file names may hold HTML metacharacters

QMAX = {"q1": 7.0, "q2": 6.0, "q3": 4.0}  # q4 is graded by hand: not in the records
CHECKS = {  # check id -> (title, points, visibility)
    "q1.shape": ("La sortie a la forme de l'entrée", 1, "public"),
    "q1.order": ("Les couches sont dans l'ordre de l'article", 1, "public"),
    "q1.kwargs": ("Les kwargs atteignent les deux convolutions", 1, "public"),
    "q1.shortcut": ("Le raccourci part de l'entrée du bloc", 2, "hidden"),
    "q1.final_relu": ("Une ReLU suit l'addition", 2, "hidden"),
    "q2.output": ("La sortie est une distribution de probabilités", 2, "public"),
    "q2.blocks": ("Deux blocs résiduels", 2, "hidden"),
    "q2.accuracy": ("Précision après entraînement du correcteur", 2, "hidden"),
    "q3.output": ("La sortie est une distribution de probabilités", 1, "public"),
    "q3.no_shortcut": ("Aucune connexion résiduelle", 3, "hidden"),
}


def check_record(cid, passed, message=None):
    title, points, vis = CHECKS[cid]
    return {
        "id": cid,
        "question": cid.split(".")[0],
        "title": title,
        "points": float(points) if passed else 0.0,
        "max_points": float(points),
        "passed": passed,
        "visibility": vis,
        "message": message
        or (
            "Vérification réussie." if passed else f"attendu : {title.lower()}, reçu : autre chose."
        ),
        "hint": "" if passed else "Relisez l'énoncé de la question.",
        "message_en": None,
    }


def question_record(qid, failed=(), status="ok", seconds=3.0, messages=None):
    messages = messages or {}
    checks = [
        check_record(cid, status == "ok" and cid not in failed, messages.get(cid))
        for cid in CHECKS
        if cid.startswith(qid + ".")
    ]
    return {
        "score": sum(c["points"] for c in checks),
        "max_score": QMAX[qid],
        "status": status,
        "seconds": seconds,
        "checks": checks,
    }


def graded_record(sid, failed=(), statuses=None, tamper=(), messages=None):
    statuses = statuses or {}
    questions = {
        q: question_record(
            q,
            failed,
            statuses.get(q, "ok"),
            seconds=30.0 if statuses.get(q) == "timeout" else 2.0 + len(sid) % 3,
            messages=messages,
        )
        for q in QMAX
    }
    total = sum(q["score"] for q in questions.values())
    max_total = sum(QMAX.values())
    return {
        "id": sid,
        "source": f"subs/{sid}",
        "notebook": f"subs/{sid}/resnet_a_la_main.ipynb",
        "notebook_sha256": "0" * 64,
        "status": "graded",
        "message": "",
        "questions": questions,
        "total": total,
        "max_total": max_total,
        "percent": round(100 * total / max_total, 2),
        "tamper": list(tamper),
        "seconds": sum(q["seconds"] for q in questions.values()) + 1.5,
        "grader_version": "0.1.0",
    }


def ungraded_record(sid, status, message):
    return {
        "id": sid,
        "source": f"subs/{sid}",
        "notebook": None,
        "notebook_sha256": None,
        "status": status,
        "message": message,
        "questions": {},
        "total": 0.0,
        "max_total": sum(QMAX.values()),
        "percent": 0.0,
        "tamper": [],
        "seconds": 0.0 if status == "missing" else 0.2,
        "grader_version": "0.1.0",
    }


def fixture_records() -> list[dict]:
    """Realistic engine records covering every status the report must show."""
    return [
        graded_record("alice"),
        graded_record("bob", failed=("q1.final_relu", "q2.accuracy")),
        graded_record(
            "chloe",
            failed=("q1.final_relu",),
            statuses={"q2": "timeout"},
            tamper=["tests/q1.py differs from the template", "results.json added"],
        ),
        graded_record(
            "dan",
            failed=("q1.shortcut", "q1.final_relu", "q3.no_shortcut"),
            messages={
                "q1.shortcut": "attendu : Add(entrée, BN), reçu : Add(conv, BN) "
                "dans /tmp/grading/dan/resnet_a_la_main.ipynb (dan)"
            },
        ),
        graded_record(
            EVIL_ID,
            failed=("q3.output",),
            messages={"q3.output": MALICIOUS},
            tamper=['<img src=x onerror="alert(1)">'],
        ),
        ungraded_record(
            "farid",
            "invalid-notebook",
            "Le fichier resnet_a_la_main.ipynb n'est pas un notebook JSON valide.",
        ),
        ungraded_record("gaelle", "no-notebook", "Aucun notebook dans le dépôt."),
        ungraded_record(
            "hugo", "missing", "Aucune soumission reçue (présent dans la liste d'appel)."
        ),
    ]


def make_fixture(out_dir: Path, records=None) -> list[dict]:
    """Write submissions/*.json, feedback/*.md and run.json like the engine does."""
    records = fixture_records() if records is None else records
    (out_dir / "submissions").mkdir(parents=True, exist_ok=True)
    (out_dir / "feedback").mkdir(exist_ok=True)
    for rec in records:
        (out_dir / "submissions" / f"{rec['id']}.json").write_text(
            json.dumps(rec, ensure_ascii=False), encoding="utf-8"
        )
        (out_dir / "feedback" / f"{rec['id']}.md").write_text(
            f"# Retour pour {rec['id']}\n", encoding="utf-8"
        )
    run = {
        "grader_version": "0.1.0",
        "versions": {"python": "3.11.2", "keras": "3.15.1", "tensorflow": "2.21.0"},
        "thresholds": {"q2.accuracy": 0.80},
        "seeds": {"probe": 20240, "training": 0},
        "timeout": 120,
        "memory_gb": 3.0,
        "jobs": 2,
        "started": "2026-11-28T16:00:00+00:00",
        "finished": "2026-11-28T16:05:00+00:00",
    }
    (out_dir / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return records
