"""The check library: every grading check, public and hidden.

Public API::

    run_checks(question, artefacts, visibility=("public",)) -> list[CheckResult]
    registry() -> list[dict]          # id, question, title, points, visibility, manual
    max_points(question=None, visibility=("public", "hidden")) -> float

Public checks live in :mod:`autograder.public.checks.public`. Hidden checks live in
:mod:`autograder.hidden.structure` and :mod:`autograder.hidden.training`, which
are not shipped in the student template: importing :mod:`autograder.hidden` registers
them (the teacher's side does), and :func:`run_checks` works without them.
"""

from __future__ import annotations

import warnings

from autograder.public.assignment import QUESTIONS  # noqa: E402
from autograder.public.checks import public  # noqa: F401  (registers the public checks)
from autograder.public.checks.base import CheckFailed, CheckResult, CheckSpec, specs

__all__ = [
    "CheckFailed",
    "CheckResult",
    "CheckSpec",
    "run_checks",
    "registry",
    "max_points",
    "QUESTIONS",
    "hidden_available",
]


def hidden_available() -> bool:
    """Whether the hidden checks are registered (:mod:`autograder.hidden` imported)."""
    return any(s.visibility == "hidden" and not s.manual for s in specs())


def _selected(question, visibility, include_manual=False):
    if isinstance(visibility, str):
        visibility = (visibility,)
    return [
        s
        for s in specs()
        if (question is None or s.question == question)
        and s.visibility in visibility
        and (include_manual or not s.manual)
    ]


def registry() -> list[dict]:
    """Every registered check: id, question, title, points, visibility, manual."""
    return [s.to_dict() for s in specs()]


def max_points(
    question: str | None = None, visibility=("public", "hidden"), include_manual: bool = False
) -> float:
    """Points at stake.

    Args:
        question: ``"q1"``... or None for every question.
        visibility: a visibility or a tuple of them.
        include_manual: count the hand-graded question (q4) too.

    Returns:
        The sum of the maximum points of the selected checks.
    """
    return float(sum(s.points for s in _selected(question, visibility, include_manual)))


def _result(
    spec: CheckSpec,
    passed: bool,
    message: str,
    hint: str = "",
    message_en: str | None = None,
    hint_en: str | None = None,
) -> CheckResult:
    return CheckResult(
        id=spec.id,
        question=spec.question,
        title=spec.title,
        points=spec.points if passed else 0.0,
        max_points=spec.points,
        passed=passed,
        visibility=spec.visibility,
        message=message,
        hint=hint,
        message_en=message_en,
        title_en=spec.title_en or None,
        hint_en=hint_en if hint else None,
    )


#: Keras warnings that are noise for students and in grading logs: a model built with
#: ``inputs=[x]`` called on one array works, but Keras warns on every call.
NOISE_WARNINGS = (r"The structure of `?inputs`? doesn't match the expected structure",)


def run_one(spec: CheckSpec, artefacts: dict) -> CheckResult:
    """Run one check; never raises."""
    try:
        with warnings.catch_warnings():
            for pattern in NOISE_WARNINGS:
                warnings.filterwarnings("ignore", message=pattern)
            spec.func(artefacts)
    except CheckFailed as exc:
        return _result(spec, False, exc.message, exc.hint, exc.message_en, exc.hint_en)
    except Exception as exc:  # a defect or an unexpected model: fail, do not crash
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return _result(
            spec,
            False,
            f"attendu : une vérification menée à son terme, reçu : une erreur inattendue ({detail}).",
            "Vérifiez que votre fonction renvoie bien ce que demande l'énoncé ; "
            "si le problème persiste, montrez ce message à votre enseignant.",
            f"expected a check run to completion, got an unexpected error ({detail}).",
            "Check that your function returns what the assignment asks for; if the problem "
            "persists, show this message to your teacher.",
        )
    return _result(spec, True, "Vérification réussie.", "", "Check passed.")


def run_checks(question: str, artefacts: dict, visibility=("public",)) -> list[CheckResult]:
    """Run the checks of ``question`` on probe artefacts.

    Args:
        question: ``"q1"``, ``"q2"`` or ``"q3"`` (``"q4"`` is graded by hand:
            no result).
        artefacts: ``{name: keras.Model | ProbeFailure}`` as returned by
            :func:`autograder.public.probe.probe` or :func:`autograder.public.load.load_artefacts`.
        visibility: a visibility or a tuple of them, e.g. ``("public", "hidden")``.

    Returns:
        One :class:`CheckResult` per selected check, in registration order.
        Never raises.
    """
    try:
        selected = _selected(question, visibility)
    except Exception:  # pragma: no cover - defensive
        return []
    return [run_one(spec, artefacts if isinstance(artefacts, dict) else {}) for spec in selected]
