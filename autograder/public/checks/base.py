"""Check results and the registry of checks.

A check is a plain function ``check(artefacts) -> None`` decorated with
:func:`check`. It passes by returning, and fails by raising :class:`CheckFailed`
with a French message ("attendu X, reçu Y"), a French hint (the next step,
never the answer) and an optional English message. The French title of a check
is the first line of its docstring. :func:`autograder.public.checks.run_checks` turns
every outcome, unexpected exceptions included, into a :class:`CheckResult`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

VISIBILITIES = ("public", "hidden")


@dataclass
class CheckResult:
    """Outcome of one check on one submission.

    Attributes:
        id: check id, e.g. ``"q1.shape"``.
        question: question id, e.g. ``"q1"``.
        title: French one-line title (the check function's docstring).
        points: points earned.
        max_points: points at stake.
        passed: whether the check passed.
        visibility: ``"public"`` or ``"hidden"``.
        message: French message, "attendu X, reçu Y" when failed.
        hint: French hint (the next step, never the answer); empty when passed.
        message_en: the message in English (``--lang en``).
        title_en: the title in English.
        hint_en: the hint in English.
    """

    id: str
    question: str
    title: str
    points: float
    max_points: float
    passed: bool
    visibility: str
    message: str
    hint: str
    message_en: str | None = None
    title_en: str | None = None
    hint_en: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready dictionary of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CheckResult:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class CheckFailed(Exception):
    """Raised by a check function to fail with a French message and hint.

    Args:
        message: French, "attendu X, reçu Y".
        hint: French, what to look at next (never the answer).
        message_en: the same message in English (optional).
        hint_en: the hint in English (optional).
    """

    def __init__(
        self,
        message: str,
        hint: str = "",
        message_en: str | None = None,
        hint_en: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.message_en = message_en
        self.hint_en = hint_en


@dataclass(frozen=True)
class CheckSpec:
    """One registered check.

    Attributes:
        id: ``"<question>.<name>"``.
        question: ``"q1"`` ... ``"q4"``.
        title: French one-line title.
        points: maximum points.
        visibility: ``"public"`` or ``"hidden"``.
        func: the check function, ``func(artefacts) -> None``; None for manual checks.
        manual: True for questions graded by hand (q4): never run automatically.
        title_en: English title (``--lang en``).
    """

    id: str
    question: str
    title: str
    points: float
    visibility: str
    func: Callable | None = None
    manual: bool = False
    title_en: str = ""

    def to_dict(self) -> dict:
        """JSON-ready description (without the function)."""
        return {
            "id": self.id,
            "question": self.question,
            "title": self.title,
            "points": self.points,
            "visibility": self.visibility,
            "manual": self.manual,
        }


_REGISTRY: dict[str, CheckSpec] = {}


def _title(func: Callable) -> str:
    doc = (func.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else func.__name__


def register(spec: CheckSpec) -> CheckSpec:
    """Add ``spec`` to the registry (re-registering the same id replaces it)."""
    if spec.visibility not in VISIBILITIES:
        raise ValueError(f"bad visibility {spec.visibility!r}")
    _REGISTRY[spec.id] = spec
    return spec


def check(id: str, points: float, visibility: str = "public", title_en: str = ""):
    """Decorator registering a check function under ``id``.

    Args:
        id: ``"<question>.<name>"``, e.g. ``"q1.shape"``.
        points: maximum points.
        visibility: ``"public"`` or ``"hidden"``.
        title_en: the English title (the French one is the docstring's first line).

    Returns:
        The decorator; the function is returned unchanged.
    """

    def decorator(func):
        register(
            CheckSpec(
                id=id,
                question=id.split(".")[0],
                title=_title(func),
                points=float(points),
                visibility=visibility,
                func=func,
                title_en=title_en,
            )
        )
        return func

    return decorator


def register_manual(id: str, points: float, title: str, title_en: str = "") -> CheckSpec:
    """Register a question graded by hand (hidden, never run automatically)."""
    return register(
        CheckSpec(
            id=id,
            question=id.split(".")[0],
            title=title,
            points=float(points),
            visibility="hidden",
            manual=True,
            title_en=title_en,
        )
    )


def specs() -> list[CheckSpec]:
    """Every registered check, in registration order."""
    return list(_REGISTRY.values())
