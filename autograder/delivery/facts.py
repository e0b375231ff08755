"""What every delivery path states about the assignment, and where the kit lives.

:func:`assignment_facts` gathers the notebook's name, the automatically checked
questions, their functions, their public checks and points (from the check
registry, which imports no TensorFlow) and the supported Python versions
(:mod:`autograder.public.versions`). The workflow (:mod:`.workflow`) and the
Classroom 50 folder (:mod:`.classroom50`) are generated from them.
"""

from __future__ import annotations

from pathlib import Path

from autograder.public import versions
from autograder.public.assignment import NOTEBOOK, QUESTION_FUNCTIONS

#: The kit's repository root.
ROOT = Path(__file__).resolve().parents[2]


def assignment_facts() -> dict:
    """What the delivery paths state about the assignment (no TensorFlow import).

    Returns:
        ``{"notebook", "questions": [{"id", "function", "points", "checks": [...]}],
        "public_total", "python", "requires_python", "check_requirements"}``;
        each check is ``{"id", "question", "title", "points"}``.
    """
    from autograder.public.checks import registry

    public = [s for s in registry() if s["visibility"] == "public" and not s.get("manual")]
    questions = []
    for q, func in QUESTION_FUNCTIONS.items():
        checks = [
            {"id": s["id"], "question": q, "title": s["title"], "points": float(s["points"])}
            for s in public
            if s["question"] == q
        ]
        questions.append(
            {
                "id": q,
                "function": func,
                "checks": checks,
                "points": sum(c["points"] for c in checks),
            }
        )
    return {
        "notebook": NOTEBOOK,
        "questions": questions,
        "public_total": sum(q["points"] for q in questions),
        "python": versions.CI_PYTHON,
        "requires_python": versions.REQUIRES_PYTHON,
        "check_requirements": list(versions.CHECK_REQUIREMENTS),
    }


def int_points(x: float, what: str) -> int:
    """Points as an integer, as GitHub Actions' max-score and Classroom 50 scores require.

    Args:
        x: a number of points.
        what: what the points belong to (for the error message).

    Returns:
        ``int(x)``.

    Raises:
        ValueError: when ``x`` is not a whole number.
    """
    if float(x) != int(x):
        raise ValueError(
            f"{what}: {x} points is not an integer (Actions max-score and "
            f"Classroom 50 scores are integers)"
        )
    return int(x)
