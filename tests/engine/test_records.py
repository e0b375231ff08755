"""Records (autograder.engine.records): typed records, their JSON form, totals."""

from __future__ import annotations

import json

import pytest

from autograder.engine.discovery import Submission
from autograder.engine.records import (
    QuestionResult,
    SubmissionRecord,
    base_record,
    format_points,
    question_max_points,
)
from autograder.public.assignment import QUESTIONS

MAXIMA = {"q1": 7.0, "q2": 8.0, "q3": 5.0, "q4": 4.0}


def _check(cid, passed, pts, vis="public"):
    return {
        "id": cid,
        "question": cid.split(".")[0],
        "title": f"Titre {cid}",
        "points": pts if passed else 0.0,
        "max_points": pts,
        "passed": passed,
        "visibility": vis,
        "message": "" if passed else "attendu 2 convolutions, reçu 1",
        "hint": "" if passed else "relisez la consigne du bloc",
        "message_en": None,
    }


def graded_record(sid="alice") -> SubmissionRecord:
    """A graded record: q1 half right, q2 timed out, q3 absent (not graded)."""
    rec = base_record(Submission(id=sid, source=sid), MAXIMA)
    rec.status = "graded"
    rec.questions = {
        "q1": QuestionResult.from_dict(
            {
                "score": 3.0,
                "max_score": 7.0,
                "status": "ok",
                "message": "",
                "seconds": 1.0,
                "peak_rss_mb": 310.5,
                "checks": [_check("q1.shape", True, 3.0), _check("q1.order", False, 4.0, "hidden")],
            }
        ),
        "q2": QuestionResult.from_dict(
            {"score": 0.0, "max_score": 8.0, "status": "timeout", "seconds": 9.0, "checks": []}
        ),
    }
    return rec.finish(MAXIMA)


def test_finish_fills_questions_and_totals():
    rec = graded_record().to_dict()
    assert set(rec["questions"]) == {"q1", "q2", "q3"}
    assert rec["questions"]["q3"] == {
        "score": 0.0,
        "max_score": 5.0,
        "status": "not-graded",
        "seconds": 0.0,
        "checks": [],
    }
    assert rec["total"] == 3.0 and rec["max_total"] == 7.0 + 8.0 + 5.0
    assert rec["percent"] == pytest.approx(15.0)


def test_to_dict_keeps_the_engine_key_order():
    """The JSON written by every version: base keys, totals, then the optional keys."""
    rec = graded_record()
    rec.cell_errors = [{"cell": 3, "line": 1, "error": "x"}]
    rec.run_id, rec.resources, rec.identical_to = "abc", {"worker_mb": 1.0}, ["bob"]
    assert list(rec.to_dict()) == [
        "id",
        "source",
        "notebook",
        "notebook_sha256",
        "status",
        "message",
        "questions",
        "tamper",
        "seconds",
        "grader_version",
        "grader_fingerprint",
        "graded_at",
        "total",
        "max_total",
        "percent",
        "cell_errors",
        "run_id",
        "resources",
        "identical_to",
    ]
    assert list(rec.to_dict()["questions"]["q1"]) == [
        "score",
        "max_score",
        "status",
        "message",
        "seconds",
        "peak_rss_mb",
        "checks",
    ]
    bare = base_record(Submission(id="x", source="", status="missing"), MAXIMA).to_dict()
    assert list(bare)[-3:] == ["total", "max_total", "percent"]  # unset optional keys absent


def test_from_dict_round_trip_is_exact_and_keeps_unknown_keys():
    data = graded_record().to_dict()
    data["identical_to"] = []
    data["future_field"] = {"a": 1}
    data["questions"]["q2"]["future"] = 1
    data["seconds"] = 0  # an int stays an int: the JSON bytes do not change
    text = json.dumps(data, ensure_ascii=False, indent=2)
    again = SubmissionRecord.from_dict(json.loads(text)).to_dict()
    assert json.dumps(again, ensure_ascii=False, indent=2) == text


def test_base_record_of_a_status():
    sub = Submission(id="eve", source="eve", status="no-notebook", message="Aucun\nnotebook")
    rec = base_record(sub, MAXIMA)
    assert rec.status == "no-notebook" and rec.message == "Aucun notebook"
    assert rec.total == 0 and rec.max_total == 20.0 and rec.notebook is None
    assert base_record(Submission(id="x", source="x"), MAXIMA).status == "error"


def test_question_max_points_counts_the_hidden_and_manual_checks():
    maxima = question_max_points()
    assert list(maxima) == list(QUESTIONS)
    assert all(isinstance(v, float) and v > 0 for v in maxima.values())


def test_format_points():
    assert [format_points(x) for x in (3.0, 2.5, 0, 16.66666)] == ["3", "2.5", "0", "16.6667"]
