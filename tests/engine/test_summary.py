"""Terminal summary (autograder.engine.summary): French only, clear wording (issue 13)."""

from __future__ import annotations

import io
from pathlib import Path

from autograder.engine.discovery import Submission
from autograder.engine.records import base_record
from autograder.engine.summary import full_marks, print_summary
from tests.engine.test_records import MAXIMA, graded_record


def _summary() -> str:
    full = graded_record("carla").to_dict()
    full["questions"]["q1"]["score"] = 7.0
    recs = [
        graded_record("bob").to_dict(),
        full,
        base_record(
            Submission(id="zoe", source="", status="missing", message="Aucun rendu trouvé."),
            MAXIMA,
        ).to_dict(),
    ]
    recs[2]["status"] = "missing"
    run_info = {"seconds": 3, "graded": ["bob", "carla"], "reused": []}
    run_info["statuses"] = {"graded": 2, "missing": 1}
    stream = io.StringIO()
    print_summary(recs, run_info, Path("out"), None, stream)
    return stream.getvalue()


def test_summary_uses_the_french_labels():
    text = _summary()
    assert "Statuts : corrigé (2), non rendu (1)" in text
    assert "graded" not in text and "missing" not in text
    assert "délai dépassé (2)" in text  # q2 timed out in both graded records
    assert "timeout" not in text and "error" not in text
    assert "! zoe : non rendu — Aucun rendu trouvé." in text


def test_summary_says_how_many_copies_have_full_marks():
    text = _summary()
    assert "note maximale :" not in text
    assert "1 copie sur 2 a la note maximale" in text  # q1: carla only
    assert "aucune copie sur 2 n'a la note maximale" in text  # q2
    assert full_marks(3, 6) == "3 copies sur 6 ont la note maximale"
