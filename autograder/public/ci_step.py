"""One GitHub Actions step per public check, all served by one evaluation per push.

``python -m autograder ci-step CHECK_ID`` is the command of each grader step of
the generated workflow (:mod:`autograder.delivery.workflow`). Every step runs the
same code:

1. the notebook's sha256 is computed;
2. ``resultats-autograder/evaluation.json`` (:data:`~autograder.public.ci.EVALUATION_FILE`)
   is read with bounds and validated (:func:`autograder.public.ci.read_check_file`):
   the right schema, this notebook's hash, one entry per public check with the
   registry's maximum and all-or-nothing points. A valid finished evaluation is
   reused: the notebook is not evaluated again;
3. otherwise (no file, another notebook's hash, a file too large, garbage,
   impossible points) the step evaluates the notebook with the same code as
   ``python -m autograder check`` (:func:`autograder.public.cli.public_evaluation`, i.e.
   :func:`autograder.public.pipeline.check_notebook`), after leaving a
   ``"running"`` marker, and writes the result. In a run, that is the first step;
4. a step that finds the marker of an evaluation that never finished (the
   evaluating step was stopped by its time limit) does not start another: it
   reports a timeout, 0 point for its check, and marks the file ``"timeout"`` so
   a late writer cannot overwrite it;
5. the step prints its check's verdict in French and exits 0 when it passed, 1
   otherwise: the command grader then gives it its ``max-score`` or 0, so the
   steps add up to ``check``'s total.

Standard library only until an evaluation is needed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

from autograder.public import ci
from autograder.public.fsutil import atomic_write_json

#: A "running" marker older than this (seconds) was left by another run: evaluate again.
STALE_MARKER_S = 45 * 60


def evaluation_for(
    notebook,
    specs: list[dict],
    results_dir,
    evaluate: Callable[[], dict],
    now: Callable[[], float] = time.time,
) -> tuple[dict, str, str]:
    """The shared evaluation of ``notebook``: reused, computed, or unfinished.

    Args:
        notebook: the notebook's path.
        specs: the public checks (``[{"id", "question", "title", "points"}]``, registry order).
        results_dir: the folder of the evaluation file.
        evaluate: runs the public evaluation and returns its ``check --json`` document.
        now: the clock (seconds since the epoch).

    Returns:
        ``(payload, origin, rejected)``: the validated payload (for ``origin``
        ``"timeout"``, the marker: ``state`` and no checks); ``origin`` is
        ``"reused"``, ``"evaluated"`` or ``"timeout"``; ``rejected`` is why an
        existing file was not used (English), or ``""``.
    """
    path = Path(results_dir) / ci.EVALUATION_FILE
    sha = ci.notebook_hash(notebook)
    rejected = ""
    if sha is not None:
        found, rejected = ci.read_check_file(path, specs, sha)
        if rejected == "absent":
            rejected = ""
        if found is not None and found["state"] == "done":
            return found, "reused", ""
        if found is not None and -60 <= now() - found["started"] < STALE_MARKER_S:
            if found["state"] == "running":
                atomic_write_json(
                    path, {**_marker(sha, found["token"], found["started"]), "state": "timeout"}
                )
            return {**found, "state": "timeout"}, "timeout", ""
        if found is not None:
            rejected = "stale marker"
    token = secrets.token_hex(8)
    if sha is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, _marker(sha, token, now()))
    try:
        payload = {**evaluate(), "notebook_sha256": sha, "state": "done"}
        validated, why = ci.validate_payload(payload, specs, sha)
        if validated is None:  # the evaluation disagrees with the registry: never cache it
            raise RuntimeError(f"evaluation does not match the public checks: {why}")
    except Exception:
        # a crash is not a timeout: the next step evaluates again
        if sha is not None and _still_ours(path, specs, sha, token):
            path.unlink(missing_ok=True)
        raise
    if sha is not None and _still_ours(path, specs, sha, token):
        atomic_write_json(path, payload)
    return validated, "evaluated", rejected


def _still_ours(path: Path, specs: list[dict], sha: str, token: str) -> bool:
    """Whether the file is still this step's "running" marker (no later step declared a timeout)."""
    current, _ = ci.read_check_file(path, specs, sha)
    return current is not None and current.get("token") == token and current["state"] == "running"


def _marker(sha: str, token: str, started: float) -> dict:
    return {
        "schema": ci.CHECK_SCHEMA,
        "notebook_sha256": sha,
        "state": "running",
        "token": token,
        "started": started,
    }


REJECTED_FR = "fichier de résultats précédent ignoré ({why}) : le notebook est évalué à nouveau."


def why_fr(reason: str) -> str:
    """A rejection reason of :func:`autograder.public.ci.validate_payload`, in French."""
    if reason.startswith("another notebook"):
        return "il décrit une autre version du notebook"
    if reason.startswith("unreadable"):
        return "illisible, trop volumineux ou trop imbriqué"
    if reason == "stale marker":
        return "évaluation interrompue lors d'un run précédent"
    return "incohérent avec les vérifications publiques"


def report(spec: dict, payload: dict, origin: str, rejected: str = "") -> tuple[list[str], int]:
    """The French lines a step prints for its check, and its exit status.

    Args:
        spec: the step's check (``id``, ``question``, ``title``, ``points``).
        payload: from :func:`evaluation_for`.
        origin: from :func:`evaluation_for`.
        rejected: from :func:`evaluation_for`.

    Returns:
        ``(lines, status)``: 0 when the check passed, 1 otherwise.
    """
    top = ci.fmt(spec["points"])
    lines = [f"Vérification publique {spec['id']} — {spec.get('title') or spec['id']}"]
    sha = (payload.get("notebook_sha256") or "")[:12]
    if rejected:
        lines.append(REJECTED_FR.format(why=why_fr(rejected)))
    if origin == "timeout":
        lines += [
            f"{ci.VERDICTS['timeout']} : 0 / {top}. L'évaluation du notebook, lancée par une "
            "étape précédente, n'a pas fini dans le temps limite de l'étape ; elle n'est pas "
            "relancée. Vérifiez que vos fonctions construisent le modèle sans l'entraîner, "
            "puis lancez python -m autograder check sur votre machine.",
        ]
        return lines, 1
    if origin == "evaluated":
        lines.append(
            f"Notebook évalué (sha256 {sha}…) ; résultat enregistré dans "
            f"{ci.RESULTS_DIR}/{ci.EVALUATION_FILE} pour les étapes suivantes."
        )
    else:
        lines.append(
            f"Résultat repris de {ci.RESULTS_DIR}/{ci.EVALUATION_FILE} (même notebook, "
            f"sha256 {sha}…) : le notebook n'est pas évalué à nouveau."
        )
    entry = next(c for c in payload["checks"] if c["id"] == spec["id"])
    mark = "✔" if entry["passed"] else "✘"
    lines.append(f"  {mark} {entry['title']} : {ci.fmt(entry['points'])} / {top}")
    if not entry["passed"]:
        if entry["message"]:
            lines.append(f"      {entry['message']}")
        if entry["hint"]:
            lines.append(f"      Piste : {entry['hint']}")
    lines.append(
        f"Total des vérifications publiques de ce notebook : {ci.fmt(payload['points'])} / "
        f"{ci.fmt(payload['max'])} (le même que python -m autograder check)."
    )
    return lines, 0 if entry["passed"] else 1
