"""Hidden checks: the teacher's side of the check library, never shipped to students.

Importing this package registers the hidden checks (:mod:`.structure`, :mod:`.training`)
and the hand-graded question in the public registry of :mod:`autograder.public.checks`.
The teacher's grading process, the otter/Gradescope zip and the tests import it; a
student repository has only :mod:`autograder.public`, where these checks do not exist.

The otter/Gradescope zip's tests (``autograder/otter/tests/q*.py``) call
:func:`assert_check` (public checks) and :func:`assert_hidden` (hidden checks) of
this module: both report one check of ONE evaluation of the submitted notebook
*file*, :func:`autograder.public.pipeline.grade_notebook` (what ``grade`` runs),
made once per process and notebook content (:func:`submission_evaluation`), not
a probe of otter's kernel. So the zip's results are ``grade``'s, check by check.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from autograder.hidden import structure, training  # noqa: F401  (register the checks)
from autograder.public.assignment import NOTEBOOK
from autograder.public.checks import CheckResult
from autograder.public.checks.base import specs

#: sha256 of a notebook file -> its evaluation (or the French reason it has none).
_EVALUATIONS: dict[str, dict | str] = {}


def submission_path(folder: str | os.PathLike | None = None) -> Path:
    """The notebook otter grades: the only ``.ipynb`` of ``folder`` (otter's rule), else :data:`NOTEBOOK`.

    Args:
        folder: the submission folder (default: the current directory, where otter
            runs the notebook and its tests).

    Raises:
        AssertionError: no notebook, or several and none named :data:`NOTEBOOK`.
    """
    folder = Path(folder or os.getcwd())
    found = sorted(Path(p) for p in glob.glob(str(folder / "*.ipynb")))
    if len(found) == 1:
        return found[0]
    if (folder / NOTEBOOK).is_file():
        return folder / NOTEBOOK
    raise AssertionError(f"notebook introuvable dans la soumission : {NOTEBOOK}")


def submission_evaluation(path: str | os.PathLike | None = None) -> dict:
    """``grade_notebook`` of the submitted file, public and hidden checks, once per content.

    Args:
        path: the notebook (default: :func:`submission_path`).

    Returns:
        ``{question: question_record}``, as in a ``grade`` submission record.

    Raises:
        AssertionError: the notebook is missing or unreadable (French message).
    """
    from autograder.public.extract import NotebookError
    from autograder.public.fsutil import sha256_file
    from autograder.public.pipeline import grade_notebook

    path = Path(path) if path is not None else submission_path()
    if not path.is_file():
        raise AssertionError(f"notebook introuvable dans la soumission : {path.name}")
    digest = sha256_file(path)
    if digest not in _EVALUATIONS:
        try:
            _EVALUATIONS[digest] = grade_notebook(
                path, visibility=("public", "hidden"), isolation="auto"
            )
        except NotebookError as exc:
            _EVALUATIONS[digest] = str(exc)
    found = _EVALUATIONS[digest]
    if isinstance(found, str):
        raise AssertionError(found)
    return found


def submission_result(check_id: str, path: str | os.PathLike | None = None) -> CheckResult:
    """One check's result in :func:`submission_evaluation`."""
    spec = next((s for s in specs() if s.id == check_id and not s.manual), None)
    if spec is None:
        raise AssertionError(f"vérification inconnue : {check_id}")
    record = submission_evaluation(path)
    for c in record.get(spec.question, {}).get("checks", []):
        if c.get("id") == check_id:
            return CheckResult.from_dict(c)
    raise AssertionError(f"{check_id} : aucun résultat")  # pragma: no cover


def _assert(check_id: str, visibility: str) -> CheckResult:
    from autograder.public.notebook import failure_text

    result = submission_result(check_id)
    if result.visibility != visibility:
        raise AssertionError(f"vérification inconnue : {check_id}")
    if not result.passed:
        raise AssertionError(failure_text(result))
    return result


def assert_check(check_id: str, env: dict | None = None) -> CheckResult:
    """One public check of the submitted notebook, as an otter test case of the zip reports it.

    Args:
        check_id: e.g. ``"q1.shape"``.
        env: otter's kernel namespace (unused: the submitted file is evaluated).

    Returns:
        The passing :class:`CheckResult`.

    Raises:
        AssertionError: the check failed (French message and hint), or no notebook.
    """
    return _assert(check_id, "public")


def assert_hidden(check_id: str, env: dict | None = None) -> CheckResult:
    """One hidden check of the submitted notebook, as an otter test case of the zip reports it.

    Args:
        check_id: e.g. ``"q1.sequence"``.
        env: otter's kernel namespace (unused: the submitted file is evaluated).

    Returns:
        The passing :class:`CheckResult`.

    Raises:
        AssertionError: the check failed (French message and hint), or no notebook.
    """
    return _assert(check_id, "hidden")
