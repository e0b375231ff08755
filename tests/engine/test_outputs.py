"""Outputs (autograder.engine.outputs): grades.csv, Gradescope results, Markdown feedback."""

from __future__ import annotations

import csv
import io
import json

from autograder.engine.discovery import Submission
from autograder.engine.outputs import grades_csv, md, render_feedback, write_outputs
from autograder.engine.records import base_record
from autograder.report.html import write_gradebook
from autograder.report.stats import normalise_record
from tests.engine.test_records import MAXIMA, graded_record

#: The feedback of :func:`tests.test_records.graded_record`. Issue 13 removed the
#: double blank lines after a question's note (the only change to this golden).
GRADED_FEEDBACK = """\
# Retour de correction : bob

**Note automatique : 3 / 20** (15,0 %)

> Fichiers protégés modifiés par rapport au modèle : tests/q1\\_x.py.

## q1 — ResidualBlock : 3 / 7

- ✔ **Titre q1.shape** — 3 / 3
- ✘ **Titre q1.order** *(contrôle caché)* — 0 / 4
  - attendu 2 convolutions, reçu 1
  - Piste : relisez la consigne du bloc

## q2 — build_resnet : 0 / 8

> ⚠ Le code de cette question a dépassé le temps limite (9 s) : vérifiez qu'aucune boucle sans \
fin ni aucun entraînement ne s'exécute dans vos fonctions.

## q3 — build_cnn : 0 / 5

> ⚠ Cette question n'a pas été corrigée.

## q4 — question écrite (corrigée à la main) : sur 4

Cette question est corrigée à la main par l'enseignant·e ; elle n'est pas comptée dans la note \
automatique ci-dessus.
"""


def test_outputs_schema_and_french_feedback(tmp_path):
    recs = [
        graded_record("bob").to_dict(),
        base_record(
            Submission(id="alice", source="", status="missing", message="Aucun rendu trouvé."),
            MAXIMA,
        ).to_dict(),
    ]
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "stale.json").write_text("{}")
    write_outputs(tmp_path, recs, MAXIMA, params={"timeout_s": 9, "max_points": MAXIMA})
    rows = list(csv.reader(io.StringIO((tmp_path / "grades.csv").read_text())))
    assert rows[0] == [
        "file",
        "q1",
        "q2",
        "q3",
        "q4",
        "total_points_earned",
        "percent_correct",
        "grading_status",
        "statut",
    ]
    # q4's maximum is listed; the total is the automatic points' (issue 13: was 24, q4 included)
    assert rows[1][0] == "points-per-question" and rows[1][4:6] == ["4", "20"]
    assert [r[0] for r in rows[2:]] == ["alice", "bob"]
    # q4 (hand-graded) is blank, not 0 (issue 13)
    assert rows[3][1:7] == ["3", "0", "0", "", "3", "0.15"] and rows[3][7] == "Completed"
    assert rows[2][5] == "0" and rows[2][7] == "missing"
    # the teacher reads French labels (issue 13: "graded", "error" were shown as they are)
    assert rows[3][8] == "corrigé" and rows[2][8].startswith("non rendu")
    res = json.loads((tmp_path / "results" / "bob.json").read_text())
    assert res["score"] == 3.0
    for t in res["tests"]:
        assert set(t) >= {"name", "score", "max_score", "visibility", "output"}
        assert t["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert sum(t["max_score"] for t in res["tests"]) == 20.0
    assert not (tmp_path / "results" / "stale.json").exists()
    fb = (tmp_path / "feedback" / "bob.md").read_text()
    assert "✔" in fb and "✘" in fb and "attendu 2 convolutions, reçu 1" in fb
    assert "Piste : relisez la consigne du bloc" in fb
    assert "temps limite (9 s)" in fb  # q2 timeout explained
    assert "corrigée à la main" in fb  # q4
    assert "Aucun rendu trouvé." in (tmp_path / "feedback" / "alice.md").read_text()
    assert not list(tmp_path.rglob("*.tmp"))


def test_feedback_template_renders_the_same_markdown():
    """feedback.md.j2 gives, byte for byte, the expected Markdown of a graded record."""
    rec = graded_record("bob")
    rec.tamper = ["tests/q1_x.py"]
    params = {"timeout_s": 9, "max_points": MAXIMA}
    assert render_feedback(rec.to_dict(), "fr", params) == GRADED_FEEDBACK


def test_feedback_of_a_status_and_of_student_text_is_inert():
    rec = base_record(
        Submission(
            id="eve", source="", status="invalid-notebook", message="## NOTE : 20/20 [x](http://y)"
        ),
        MAXIMA,
    ).to_dict()
    rec["cell_errors"] = [{"error": "<script>`a`"}]
    rec["identical_to"] = ["bob"]
    text = render_feedback(rec)
    assert "> \\#\\# NOTE : 20/20 \\[x\\](http://y)" in text
    assert "- \\<script\\>`a`" in text and "octet pour octet" in text
    # Not graded: the reason only, no question sections (issue 13; it used to end with q4's).
    assert "## q" not in text and text.endswith("(aucune pénalité automatique).\n")


def test_md_escapes_markup_outside_code_spans():
    assert md("a_b `c_d` *e*") == "a\\_b `c_d` \\*e\\*"
    assert md("un ` seul") == "un  seul"
    assert md("ligne\nsuivante") == "ligne suivante"


def test_grades_csv_and_gradebook_agree_on_the_percentage(tmp_path):
    """percent_correct is the fraction of the automatic points, as gradebook.csv (issue 13).

    A perfect automatic score read 0.85 in grades.csv (q4's points counted
    against it) while gradebook.csv said 100.00; q4 read 0 before it was graded.
    """
    perfect = graded_record("ann").to_dict()
    for q in ("q1", "q2", "q3"):
        perfect["questions"][q]["score"] = MAXIMA[q]
    perfect["total"], perfect["percent"] = 20.0, 100.0
    absent = base_record(
        Submission(id="zoe", source="", status="missing", message="Aucun rendu trouvé."), MAXIMA
    ).to_dict()
    recs = [perfect, graded_record("bob").to_dict(), absent]
    rows = {r[0]: r for r in csv.reader(io.StringIO(grades_csv(recs, MAXIMA)))}
    assert rows["ann"][1:7] == ["7", "8", "5", "", "20", "1"]
    assert rows["zoe"][4:7] == ["", "0", "0"]
    gradebook = write_gradebook(
        [normalise_record(r, r["id"]) for r in recs], tmp_path / "gradebook.csv"
    )
    book = {r["student_id"]: r for r in csv.DictReader(gradebook.open())}
    assert book["ann"]["percent"] == "100.00"
    for sid in ("ann", "bob", "zoe"):
        assert f"{100 * float(rows[sid][6]):.2f}" == book[sid]["percent"]
        assert float(rows[sid][5]) == float(book[sid]["total"])
    # both say the status in French, beside its code
    assert (book["ann"]["status"], book["ann"]["statut"]) == ("graded", "corrigé")
    assert (book["zoe"]["status"], book["zoe"]["statut"]) == ("missing", "non rendu")
    assert rows["zoe"][7:] == ["missing", "non rendu : Aucun rendu trouvé."]


def test_feedback_of_an_absent_student_has_no_empty_section():
    """Issue 13: an absent student's feedback had a heading per question and nothing under it."""
    rec = base_record(
        Submission(id="zoe", source="", status="missing", message="Aucun rendu trouvé."), MAXIMA
    ).to_dict()
    assert render_feedback(rec, params={"max_points": MAXIMA}) == (
        "# Retour de correction : zoe\n\n**Note automatique : 0 / 20** (0,0 %)\n\n"
        "> Aucun rendu trouvé.\n"
    )


STUB = (
    "attendu : une fonction `ResidualBlock` implémentée, reçu : NotImplementedError "
    "(la fonction n'est pas encore implémentée)."
)
STUB_HINT = "Remplacez la ligne `raise NotImplementedError` par votre code."


def _stub_record(messages: dict[str, str]) -> dict:
    rec = graded_record("blanche").to_dict()
    rec["questions"]["q1"]["checks"] = [
        {
            "id": f"q1.c{i}",
            "question": "q1",
            "title": f"Contrôle {i}",
            "points": 0.0,
            "max_points": 1.0,
            "passed": False,
            "visibility": "public",
            "message": messages.get(f"q1.c{i}", STUB),
            "hint": STUB_HINT,
            "message_en": None,
        }
        for i in range(5)
    ]
    return rec


def test_feedback_says_a_shared_reason_once():
    """Issue 13: the same message five times for a question whose function could not run."""
    text = render_feedback(_stub_record({}), params={"max_points": MAXIMA})
    q1 = text[text.index("## q1") : text.index("## q2")]
    assert q1.count("NotImplementedError (la fonction") == 1
    assert q1.count("Piste") == 1 and q1.count("✘") == 5
    assert "Les 5 contrôles en échec ci-dessous échouent pour la même raison : attendu" in q1


def test_feedback_refers_to_a_message_already_given():
    other = {"q1.c1": "attendu 2 convolutions, reçu 1"}
    text = render_feedback(_stub_record(other), params={"max_points": MAXIMA})
    q1 = text[text.index("## q1") : text.index("## q2")]
    assert q1.count("NotImplementedError (la fonction") == 1 and "reçu 1" in q1
    assert q1.count("Même raison que pour « Contrôle 0 ».") == 3
    assert q1.count("Piste") == 1
