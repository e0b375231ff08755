"""Tests of the report's statistics (autograder/report/stats.py) on fixture records."""

from __future__ import annotations

import re

import pytest

from autograder import report
from tests.report.fixtures import graded_record, make_fixture


@pytest.fixture
def records_dir(tmp_path):
    out = tmp_path / "out"
    return out, make_fixture(out)


def test_statistics_from_records(records_dir):
    out, records = records_dir
    stats = report.summarise(report.load_records(out))
    assert stats["n"] == 8 and stats["graded"] == 5
    checks = {c["id"]: c for c in stats["checks"]}
    # q1.final_relu fails for bob, chloe, dan; passes for alice and eve.
    assert (checks["q1.final_relu"]["passed"], checks["q1.final_relu"]["n"]) == (2, 5)
    # chloe's q2 timed out: her q2 checks count as failed.
    assert checks["q2.blocks"]["passed"] == 4
    mistakes = stats["mistakes"]
    assert mistakes[0]["id"] == "q1.final_relu" and mistakes[0]["count"] == 3
    assert any(m["id"].startswith("q2 · délai dépassé") and m["count"] == 1 for m in mistakes)
    shortcut = next(m for m in mistakes if m["id"] == "q1.shortcut")
    assert (
        not re.search(r"\bdan\b", shortcut["example"]) and "/tmp/grading" not in shortcut["example"]
    )
    assert "reçu : Add(conv, BN) dans …/" in shortcut["example"]
    assert (
        "«étudiant·e»" in shortcut["example"] and "…/resnet_a_la_main.ipynb" in shortcut["example"]
    )
    q1 = next(q for q in stats["questions"] if q["id"] == "q1")
    q1_scores = [r["questions"]["q1"]["score"] / 7.0 for r in records if r["status"] == "graded"]
    assert q1["rate"] == pytest.approx(sum(q1_scores) / len(q1_scores))


def test_manual_question_has_no_rate():
    recs = [
        report.normalise_record(graded_record("alice"), "alice"),
        report.normalise_record(graded_record("bob", ("q1.shape",)), "bob"),
    ]
    for r in recs:
        r["questions"]["q4"] = {
            "score": 0.0,
            "max_score": 3.0,
            "status": "manual",
            "seconds": 0.0,
            "checks": [],
        }
    recs[1]["questions"]["q3"]["status"] = "not-graded"
    recs[1]["questions"]["q3"]["checks"] = []
    recs[1]["questions"]["q3"]["score"] = 0.0
    stats = report.summarise(recs)
    rates = {q["id"]: q["rate"] for q in stats["questions"]}
    assert rates["q4"] is None  # "corrigée à la main", not 0 %
    assert rates["q3"] == pytest.approx(0.5)
    assert rates["q1"] == pytest.approx((1 + 6 / 7) / 2)
    assert [m["id"] for m in stats["mistakes"]] == ["q1.shape", "q3 · non corrigée"]


STUB = (
    "attendu : une fonction `build_resnet` implémentée, reçu : NotImplementedError "
    "(la fonction n'est pas encore implémentée)."
)


def test_a_stub_is_not_a_frequent_mistake():
    """Checks failed only because a function still raises NotImplementedError (issue 13)."""
    stub_q2 = {cid: STUB for cid in ("q2.output", "q2.blocks", "q2.accuracy")}
    recs = [
        report.normalise_record(graded_record("alice"), "alice"),
        report.normalise_record(
            graded_record("bob", failed=("q1.shape", *stub_q2), messages=stub_q2), "bob"
        ),
        report.normalise_record(
            graded_record("chloe", failed=tuple(stub_q2), messages=stub_q2), "chloe"
        ),
    ]
    stats = report.summarise(recs)
    assert [m["id"] for m in stats["mistakes"]] == ["q1.shape"]
    assert stats["not_implemented"] == [("q2", 2)]
    checks = {c["id"]: c for c in stats["checks"]}
    assert checks["q2.output"]["passed"] == 1  # the pass rate still counts them as not passed


def test_parameters_table_is_in_french():
    """run.json's sections get French names, statuses their labels (issue 13)."""
    rows = report.stats.parameter_rows(
        {"status": "finished", "statuses": {"graded": 6, "missing": 1}, "parameters": {"jobs": 2}}
    )
    assert rows == [
        ("état", "", True, "terminée"),
        ("statuts", "corrigé", False, "6"),
        ("statuts", "non rendu", False, "1"),
        ("paramètres", "jobs", True, "2"),
    ]
