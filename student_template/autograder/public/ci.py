"""Machine-readable check results and the French CI summary (standard library only).

Shipped in the student template. Nothing here imports TensorFlow, Keras or
numpy, so ``python -m autograder ci-summary`` works even when the install
step of a workflow failed.

- :func:`check_payload` is what ``python -m autograder check --json FILE``
  writes (schema :data:`CHECK_SCHEMA`): per check its id, question, title,
  points, max, passed, message and hint, and the notebook's sha256.
- :func:`validate_payload` is the one reader of such a document: it was
  written by a process that ran student code (or planted in the repository), so
  it is read with bounds and checked against the registry's public checks
  (ids, maxima, all-or-nothing points) before anything in it is shown or counted.
- :mod:`autograder.public.ci_summary` turns the generated workflow's per-check step outputs
  (``Q1_SHAPE_RESULTS``... of ``classroom-resources/autograding-command-grader``:
  base64 JSON, ``status`` ``pass``/``fail``/``error``, ``max_score``,
  ``tests[].score``) and the evaluation file the steps share
  (:data:`EVALUATION_FILE`, see :mod:`autograder.public.ci_step`) into the
  French job summary (``resume.md``), the French feedback (``retours.txt``)
  and ``resultats.json``: the ``ci-summary`` subcommand, run by the workflow's
  ``if: always()`` step. Points come from the steps (what Actions and the
  reporter count); the file only supplies the messages.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from autograder.public.bounded import clean_text, read_json_bounded
from autograder.public.fsutil import atomic_write_json, sha256_file

CHECK_SCHEMA = "resnet-a-la-main/check/v1"
RESULTS_DIR = "resultats-autograder"
#: The evaluation every workflow step shares: ``check --json`` of the whole notebook.
EVALUATION_FILE = "evaluation.json"
#: Largest evaluation file read back (a few KB in practice).
EVALUATION_LIMIT = 256 * 1024
#: Longest message or hint kept from an evaluation file.
TEXT_LIMIT = 600

VERDICTS = {
    "pass": "✅ réussie",
    "fail": "❌ à revoir",
    "timeout": "⏱️ temps dépassé",
    "error": "⚠️ erreur d'exécution",
    "skipped": "⚠️ non exécutée",
}


def plain_number(x) -> float | int:
    x = round(float(x), 4)
    return int(x) if x == int(x) else x


def fmt(x) -> str:
    """Points as a short French-neutral string: ``3``, ``1.5``."""
    x = round(float(x), 4)
    return str(int(x)) if x == int(x) else f"{x:g}"


# --------------------------------------------------------------------------- check --json


def check_entry(result) -> dict:
    """One check of ``check --json``: a :class:`~autograder.public.checks.CheckResult` or its dict."""
    d = result if isinstance(result, dict) else result.to_dict()
    return {
        "id": d["id"],
        "question": d["question"],
        "title": d.get("title", ""),
        "points": plain_number(d.get("points", 0)),
        "max": plain_number(d.get("max_points", d.get("max", 0))),
        "passed": bool(d.get("passed")),
        "message": d.get("message") or "",
        "hint": d.get("hint") or "",
    }


def check_payload(
    results,
    notebook: str,
    question: str | None = None,
    error: str | None = None,
    warnings=(),
    notebook_sha256: str | None = None,
) -> dict:
    """The document ``check --json`` writes.

    Args:
        results: check results (objects or dicts), public checks only.
        notebook: the notebook as given on the command line.
        question: the ``-q`` question, or None for all.
        error: French message when the checks could not run (every check then fails).
        warnings: French environment warnings (untested versions).
        notebook_sha256: the sha256 of the notebook's bytes (default: computed
            from ``notebook`` when it is a readable file, else None).

    Returns:
        A JSON-ready dict (schema :data:`CHECK_SCHEMA`).
    """
    checks = [check_entry(r) for r in results]
    if notebook_sha256 is None:
        notebook_sha256 = notebook_hash(notebook)
    return {
        "schema": CHECK_SCHEMA,
        "notebook": str(notebook),
        "notebook_sha256": notebook_sha256,
        "question": question,
        "status": "error" if error else "ok",
        "error": error,
        "warnings": list(warnings),
        "points": plain_number(sum(c["points"] for c in checks)),
        "max": plain_number(sum(c["max"] for c in checks)),
        "passed": bool(checks) and all(c["passed"] for c in checks) and not error,
        "checks": checks,
    }


def failed_payload(
    specs,
    notebook: str,
    question: str | None,
    message: str,
    hint: str = "",
    warnings=(),
    notebook_sha256: str | None = None,
) -> dict:
    """``check --json`` when nothing could be checked: every selected public check fails.

    Args:
        specs: registry entries (dicts with id, question, title, points).
        notebook, question: as for :func:`check_payload`.
        message: French reason, repeated on every check.
        hint: French hint.
    """
    results = [
        {
            "id": s["id"],
            "question": s["question"],
            "title": s.get("title", ""),
            "points": 0,
            "max_points": s["points"],
            "passed": False,
            "message": message,
            "hint": hint,
        }
        for s in specs
        if question is None or s["question"] == question
    ]
    return check_payload(
        results,
        notebook,
        question,
        error=message,
        warnings=warnings,
        notebook_sha256=notebook_sha256,
    )


def notebook_hash(path) -> str | None:
    """The sha256 of a notebook's bytes, or None when it cannot be read."""
    try:
        return sha256_file(path) if Path(path).is_file() else None
    except OSError:
        return None


def public_specs_from_source(path=None) -> list[dict]:
    """The public checks, read from ``checks/public.py`` without importing it (no numpy).

    Used when the registry cannot be imported (an environment without numpy or
    on an unsupported Python), so that ``check --json`` still lists every check.

    Returns:
        ``[{"id", "question", "title", "points"}]`` in file order.
    """
    import ast

    path = Path(path) if path else Path(__file__).resolve().parent / "checks" / "public.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return []
    specs = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            if (
                isinstance(dec, ast.Call)
                and getattr(dec.func, "id", None) == "check"
                and len(dec.args) >= 2
                and all(isinstance(a, ast.Constant) for a in dec.args)
            ):
                visibility = dec.args[2].value if len(dec.args) > 2 else "public"
                if visibility != "public":
                    continue
                doc = (ast.get_docstring(node) or node.name).strip().splitlines()[0].strip()
                cid = dec.args[0].value
                specs.append(
                    {
                        "id": cid,
                        "question": cid.split(".")[0],
                        "title": doc,
                        "points": float(dec.args[1].value),
                    }
                )
    return specs


def write_json(path, data) -> Path:
    """Write ``data`` as UTF-8 JSON, creating the parent folders."""
    return atomic_write_json(path, data)


# --------------------------------------------------------------------------- reading back, bounded


def step_id(check_id: str) -> str:
    """The workflow step id of a public check: ``"q1.shape"`` -> ``"q1_shape"``.

    Its upper-cased form names the step's output variable (``Q1_SHAPE_RESULTS``),
    the name ``autograding-grading-reporter`` looks up for each of its ``runners``.

    Raises:
        ValueError: the id cannot make a step id.
    """
    sid = check_id.replace(".", "_")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", sid):
        raise ValueError(f"{check_id!r} cannot be a workflow step id")
    return sid


def as_number(x) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def validate_payload(data, specs, sha: str | None = None) -> tuple[dict | None, str]:
    """A ``check --json`` document checked against the expected public checks.

    The document was written by a process that ran student code, or planted in
    the repository: nothing in it is trusted. It must have the schema, the
    expected notebook hash (when ``sha`` is given), and exactly one entry per
    expected check whose maximum is the registry's and whose points are that
    maximum when it passed and 0 when it failed (a check is all or nothing).
    Titles come from ``specs``; messages and hints are cleaned and cut.

    An evaluation file may also be a marker left while the evaluation runs
    (``"state": "running"``) or after a step found it unfinished
    (``"state": "timeout"``): it is returned with its state and no checks.

    Args:
        data: the decoded JSON (read with :func:`read_json_bounded`).
        specs: the expected public checks, ``[{"id", "question", "title", "points"}]``.
        sha: the sha256 of the notebook the document must describe, or None.

    Returns:
        ``(payload, "")`` with a normalised payload (``state``, ``status``,
        ``error``, ``warnings``, ``points``, ``max``, ``passed``, ``checks`` in
        ``specs`` order, ``notebook_sha256``), or ``(None, reason)`` (English).
    """
    if not isinstance(data, dict) or data.get("schema") != CHECK_SCHEMA:
        return None, "not a check document"
    got_sha = data.get("notebook_sha256")
    if sha is not None and got_sha != sha:
        return None, "another notebook's hash"
    if got_sha is not None and not (
        isinstance(got_sha, str) and re.fullmatch(r"[0-9a-f]{64}", got_sha)
    ):
        return None, "malformed hash"
    state = data.get("state", "done")
    if state in ("running", "timeout"):
        started = as_number(data.get("started"))
        token = data.get("token")
        if started is None or not isinstance(token, str) or len(token) > 64:
            return None, "malformed marker"
        return {"state": state, "notebook_sha256": got_sha, "started": started, "token": token}, ""
    if state != "done":
        return None, "unknown state"
    status, error = data.get("status"), data.get("error")
    if status not in ("ok", "error") or not (error is None or isinstance(error, str)):
        return None, "malformed status"
    entries = data.get("checks")
    if not isinstance(entries, list) or len(entries) != len(specs):
        return None, "not one entry per public check"
    by_id = {}
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("id"), str) or e["id"] in by_id:
            return None, "malformed or repeated entry"
        by_id[e["id"]] = e
    checks = []
    for spec in specs:
        e = by_id.get(spec["id"])
        if e is None:
            return None, f"no entry for {spec['id']}"
        top, points, passed = float(spec["points"]), as_number(e.get("points")), e.get("passed")
        if as_number(e.get("max")) != top:
            return None, f"{spec['id']}: maximum differs from the registry's"
        if points is None or not isinstance(passed, bool) or points != (top if passed else 0.0):
            return None, f"{spec['id']}: points outside 0 or {top:g}, or not matching passed"
        checks.append(
            {
                "id": spec["id"],
                "question": spec["question"],
                "title": spec.get("title") or spec["id"],
                "points": plain_number(points),
                "max": plain_number(top),
                "passed": passed,
                "message": clean_text(e.get("message"), TEXT_LIMIT),
                "hint": clean_text(e.get("hint"), TEXT_LIMIT),
            }
        )
    warnings = data.get("warnings")
    warnings = (
        [clean_text(w, TEXT_LIMIT) for w in warnings[:10]] if isinstance(warnings, list) else []
    )
    earned = sum(c["points"] for c in checks)
    return {
        "schema": CHECK_SCHEMA,
        "state": "done",
        "notebook_sha256": got_sha,
        "status": status,
        "error": clean_text(error, TEXT_LIMIT) if error else None,
        "warnings": [w for w in warnings if w],
        "points": plain_number(earned),
        "max": plain_number(sum(c["max"] for c in checks)),
        "passed": bool(checks) and all(c["passed"] for c in checks) and status == "ok",
        "checks": checks,
    }, ""


def read_check_file(path, specs, sha: str | None = None) -> tuple[dict | None, str]:
    """A ``check --json`` or evaluation file, read with bounds and validated.

    Returns:
        As :func:`validate_payload`; ``(None, "absent")`` when there is no file,
        ``(None, "unreadable")`` when it is too large, too deep or not JSON.
    """
    if not Path(path).is_file():
        return None, "absent"
    data = read_json_bounded(path, EVALUATION_LIMIT)
    if data is None:
        return None, "unreadable (too large, too deep or not JSON)"
    return validate_payload(data, specs, sha)
