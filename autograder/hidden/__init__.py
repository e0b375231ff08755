"""Hidden checks: the teacher's side of the check library, never shipped to students.

Importing this package registers the hidden checks (:mod:`.structure`, :mod:`.training`)
and the hand-graded question in the public registry of :mod:`autograder.public.checks`.
The teacher's grading process, the otter/Gradescope zip and the tests import it; a
student repository has only :mod:`autograder.public`, where these checks do not exist.
"""

from __future__ import annotations

from autograder.hidden import structure, training  # noqa: F401  (register the checks)
from autograder.public.checks import CheckResult, run_one
from autograder.public.checks.base import specs


def assert_hidden(check_id: str, env: dict) -> CheckResult:
    """Run one hidden check on a notebook's namespace, as an otter test case does.

    Args:
        check_id: e.g. ``"q1.sequence"``.
        env: the executed notebook's globals.

    Returns:
        The passing :class:`CheckResult`.

    Raises:
        AssertionError: the check failed; the message is the French feedback and its hint.
    """
    from autograder.public.notebook import artefacts_for

    spec = next((s for s in specs() if s.id == check_id), None)
    if spec is None:
        raise AssertionError(f"vérification inconnue : {check_id}")
    result = run_one(spec, artefacts_for(check_id.split(".")[0], env))
    assert result.passed, result.message + " Piste : " + result.hint
    return result
