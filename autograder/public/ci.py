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
- :func:`summarize` turns the generated workflow's per-check step outputs
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

import base64
import json
import math
import os
import re
from pathlib import Path

from autograder.public.assignment import NOTEBOOK
from autograder.public.assignment import QUESTION_FUNCTIONS as FUNCTIONS
from autograder.public.bounded import clean_text, read_json_bounded
from autograder.public.fsutil import atomic_write_json, sha256_file

CHECK_SCHEMA = "resnet-a-la-main/check/v1"
SUMMARY_SCHEMA = "resnet-a-la-main/ci-summary/v1"
RESULTS_DIR = "resultats-autograder"
#: The evaluation every workflow step shares: ``check --json`` of the whole notebook.
EVALUATION_FILE = "evaluation.json"
#: Largest evaluation file read back (a few KB in practice).
EVALUATION_LIMIT = 256 * 1024
#: Longest message or hint kept from an evaluation file.
TEXT_LIMIT = 600
MAX_FEEDBACK = 60000

VERDICTS = {
    "pass": "✅ réussie",
    "fail": "❌ à revoir",
    "timeout": "⏱️ temps dépassé",
    "error": "⚠️ erreur d'exécution",
    "skipped": "⚠️ non exécutée",
}
#: Verdict of a check in the feedback text (one symbol).
MARKS = {"pass": "✔", "fail": "✘", "timeout": "⏱️", "error": "⚠️", "skipped": "⚠️"}


def _num(x) -> float | int:
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
        "points": _num(d.get("points", 0)),
        "max": _num(d.get("max_points", d.get("max", 0))),
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
        "points": _num(sum(c["points"] for c in checks)),
        "max": _num(sum(c["max"] for c in checks)),
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


def _number(x) -> float | None:
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
        started = _number(data.get("started"))
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
        top, points, passed = float(spec["points"]), _number(e.get("points")), e.get("passed")
        if _number(e.get("max")) != top:
            return None, f"{spec['id']}: maximum differs from the registry's"
        if points is None or not isinstance(passed, bool) or points != (top if passed else 0.0):
            return None, f"{spec['id']}: points outside 0 or {top:g}, or not matching passed"
        checks.append(
            {
                "id": spec["id"],
                "question": spec["question"],
                "title": spec.get("title") or spec["id"],
                "points": _num(points),
                "max": _num(top),
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
        "points": _num(earned),
        "max": _num(sum(c["max"] for c in checks)),
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


def decode_runner_result(raw: str | None) -> dict | None:
    """The command grader's ``result`` output (base64 JSON), or None when absent or unreadable."""
    raw = (raw or "").strip()
    if not raw or len(raw) > EVALUATION_LIMIT:
        return None
    for decode in (lambda s: base64.b64decode(s, validate=True).decode("utf-8"), lambda s: s):
        try:
            data = json.loads(decode(raw))
        except Exception:  # noqa: BLE001 - not this encoding
            continue
        if isinstance(data, dict):
            return data
    return None


def _runner_tests(res: dict) -> list[dict]:
    tests = res.get("tests")
    return [t for t in tests[:100] if isinstance(t, dict)] if isinstance(tests, list) else []


def _runner_points(res: dict, top: float) -> float:
    total = sum(_number(t.get("score")) or 0.0 for t in _runner_tests(res))
    return min(max(total, 0.0), top)


def _runner_message(res: dict) -> str:
    parts = [str(res.get("message") or "")[:1000]]
    parts += [str(t.get("message") or "")[:1000] for t in _runner_tests(res)]
    return clean_text(" ".join(p for p in parts if p), 500)


def _timed_out(res: dict) -> bool:
    text = _runner_message(res).lower()
    return "timed out" in text or "timeout" in text or "time limit" in text


def runner_fallback(check_id: str, points: int) -> str:
    """The ``result`` a skipped step stands for (base64 JSON): 0 points out of ``points``.

    The workflow gives it to the reporter (``steps.X.outputs.result || '...'``) so
    that a skipped step still counts in the total's denominator.
    """
    res = {
        "version": 1,
        "status": "error",
        "max_score": points,
        "tests": [
            {
                "name": check_id,
                "status": "error",
                "score": 0,
                "message": "étape non exécutée",
                "test_code": "",
                "filename": "",
                "line_no": 0,
                "duration": 0,
            }
        ],
    }
    return base64.b64encode(json.dumps(res, separators=(",", ":")).encode()).decode()


# --------------------------------------------------------------------------- summary


def check_status(spec: dict, entry: dict | None, state: str | None, runner: dict | None) -> dict:
    """Verdict and points of one public check from what its workflow step left.

    Points are the step's (what Actions and the reporter count): ``max`` when it
    passed, else 0. Precedence: no step output (the step was skipped); a grader
    ``error`` (killed: a timeout when it says so); a failure while the shared
    evaluation never finished (``state`` running or timeout: a timeout); the
    step's pass/fail. The evaluation ``entry`` only supplies the messages.
    """
    top = float(spec["points"])
    base = {"id": spec["id"], "question": spec["question"], "max": top, "detail": ""}
    if runner is None or runner.get("status") not in ("pass", "fail", "error"):
        return {**base, "status": "skipped", "points": 0.0}
    unfinished = entry is None and (state in ("running", "timeout") or _timed_out(runner))
    if runner["status"] == "error" or (runner["status"] == "fail" and unfinished):
        kind = "timeout" if _timed_out(runner) or state in ("running", "timeout") else "error"
        return {**base, "status": kind, "points": 0.0, "detail": _runner_message(runner)}
    ok = runner["status"] == "pass"
    points = _runner_points(runner, top) if "tests" in runner else (top if ok else 0.0)
    if ok and not points:
        points = top
    if not ok:
        points = 0.0
    return {**base, "status": "pass" if ok else "fail", "points": points}


def _reason(st: dict) -> str:
    return {
        "timeout": "l'évaluation du notebook a dépassé le temps limite de l'étape ; vérifiez "
        "que vos fonctions construisent le modèle sans l'entraîner.",
        "error": "l'étape n'a pas pu s'exécuter"
        + (f" ({st['detail']})" if st["detail"] else "")
        + ".",
        "skipped": "l'étape n'a pas été lancée (une étape précédente, par exemple "
        "l'installation, a échoué : voir le journal du run).",
    }[st["status"]]


def render_feedback(specs, statuses: dict[str, dict], payload: dict | None) -> str:
    """The French feedback, question by question, as ``python -m autograder check`` prints it."""
    entries = {c["id"]: c for c in (payload or {}).get("checks", [])}
    error = (payload or {}).get("error")
    lines = []
    questions = list(dict.fromkeys(s["question"] for s in specs))
    for q in questions:
        qs = [s for s in specs if s["question"] == q]
        earned = sum(statuses[s["id"]]["points"] for s in qs)
        top = sum(float(s["points"]) for s in qs)
        lines.append(f"{q} — {FUNCTIONS.get(q, q)} : {fmt(earned)} / {fmt(top)}")
        failed = [s for s in qs if statuses[s["id"]]["status"] == "fail"]
        shared = (
            len(failed) > 1
            and len(
                {
                    (entries.get(s["id"], {}).get("message"), entries.get(s["id"], {}).get("hint"))
                    for s in failed
                }
            )
            == 1
        )
        for s in qs:
            st = statuses[s["id"]]
            lines.append(f"  {MARKS[st['status']]} {s.get('title') or s['id']}")
            if st["status"] in ("timeout", "error", "skipped"):
                lines.append(f"      {VERDICTS[st['status']]} : {_reason(st)}")
                continue
            e = entries.get(s["id"])
            if st["status"] != "fail" or shared or error:
                continue
            if e is None:
                lines.append(
                    "      Retours détaillés indisponibles (aucun fichier de résultats) : "
                    "lancez la vérification sur votre machine."
                )
                continue
            if e["message"]:
                lines.append(f"      {e['message']}")
            if e["hint"]:
                lines.append(f"      Piste : {e['hint']}")
        if shared and not error:
            e = entries[failed[0]["id"]]
            if e["message"]:
                lines.append(f"      {e['message']}")
            if e["hint"]:
                lines.append(f"      Piste : {e['hint']}")
        lines.append("")
    if error:
        lines.insert(0, f"{error}\n")
    for w in (payload or {}).get("warnings") or []:
        lines.append(w)
    return "\n".join(lines).rstrip() + "\n"


def summarize(
    specs=None,
    results_dir=RESULTS_DIR,
    env=None,
    notebook: str = NOTEBOOK,
) -> dict:
    """Everything the summary step shows and saves.

    Args:
        specs: the public checks, in order, ``[{"id", "question", "title", "points"}]``
            (default: read from ``checks/public.py`` without importing it).
        results_dir: folder of the shared evaluation file (:data:`EVALUATION_FILE`).
        env: environment holding each step's ``<STEP_ID>_RESULTS`` (default ``os.environ``).
        notebook: the notebook, whose hash the evaluation file must carry.

    Returns:
        ``{"markdown", "feedback", "data"}``; the total's maximum is every public
        check's, whatever the steps did.
    """
    env = os.environ if env is None else env
    specs = list(specs) if specs is not None else public_specs_from_source()
    sha = notebook_hash(notebook)
    found = None  # without a notebook, no file can be matched to it
    if sha is not None:
        found, _ = read_check_file(Path(results_dir) / EVALUATION_FILE, specs, sha)
    state = found["state"] if found else None
    payload = found if state == "done" else None
    entries = {c["id"]: c for c in (payload or {}).get("checks", [])}
    statuses = {}
    for s in specs:
        runner = decode_runner_result(env.get(f"{step_id(s['id']).upper()}_RESULTS"))
        statuses[s["id"]] = check_status(s, entries.get(s["id"]), state, runner)
    earned = sum(st["points"] for st in statuses.values())
    possible = sum(float(s["points"]) for s in specs)
    rows = []
    for s in specs:
        st = statuses[s["id"]]
        got = "–" if st["status"] == "skipped" else fmt(st["points"])
        title = (s.get("title") or s["id"]).replace("|", "\\|")
        rows.append(
            f"| {s['question']} | `{s['id']}` {title} | {VERDICTS[st['status']]} | "
            f"{got} / {fmt(s['points'])} |"
        )
    feedback = render_feedback(specs, statuses, payload)
    shown = (
        feedback
        if len(feedback) <= MAX_FEEDBACK
        else feedback[:MAX_FEEDBACK] + "\n[… sortie tronquée : voir l'artifact]"
    )
    shown = shown.replace("~~~", "~ ~ ~")
    markdown = "\n".join(
        [
            "## Vérifications publiques : ResNet à la main",
            "",
            "| Question | Vérification | Résultat | Points |",
            "|---|---|---|---|",
            *rows,
            "",
            f"**Total des vérifications publiques : {fmt(earned)} / {fmt(possible)} points.**",
            "",
            "Une étape du run par vérification publique, chacune valant ses points ; le "
            "notebook n'est évalué qu'une fois (première étape), les suivantes relisent "
            f"`{RESULTS_DIR}/{EVALUATION_FILE}`. Ces points ne concernent que les "
            "vérifications publiques. La note finale comprend aussi des vérifications "
            "cachées (dont un entraînement mené par le correcteur) et la question q4, "
            "corrigée à la main.",
            "",
            "### Retours détaillés",
            "",
            f"Les mêmes retours s'obtiennent sur votre machine avec "
            f"`python -m autograder check {notebook}` :",
            "",
            "~~~text",
            shown.rstrip(),
            "~~~",
            "",
        ]
    )
    data = {
        "schema": SUMMARY_SCHEMA,
        "earned": _num(earned),
        "possible": _num(possible),
        "notebook_sha256": sha,
        "evaluation": state or "absent",
        "checks": {
            s["id"]: {
                **statuses[s["id"]],
                "points": _num(statuses[s["id"]]["points"]),
                "max": _num(s["points"]),
                "title": s.get("title") or s["id"],
                "message": entries.get(s["id"], {}).get("message", ""),
                "hint": entries.get(s["id"], {}).get("hint", ""),
            }
            for s in specs
        },
    }
    return {"markdown": markdown, "feedback": feedback, "data": data}


def parse_points(text: str | None) -> dict[str, float]:
    """``"q1.shape=1,q2.output=1"`` -> ``{"q1.shape": 1.0, ...}`` (raises ValueError when malformed)."""
    out = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        q, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"attendu VÉRIFICATION=POINTS, reçu : {part!r}")
        out[q.strip()] = float(value)
    return out


def specs_for(points: dict[str, float] | None) -> list[dict]:
    """The public checks the summary covers: ``points`` (the workflow's facts) in order,
    titled from ``checks/public.py``; every public check when ``points`` is empty."""
    known = {s["id"]: s for s in public_specs_from_source()}
    if not points:
        return list(known.values())
    return [
        {
            "id": cid,
            "question": cid.split(".")[0],
            "title": known.get(cid, {}).get("title", cid),
            "points": float(p),
        }
        for cid, p in points.items()
    ]


def run_summary(
    specs=None,
    results_dir=RESULTS_DIR,
    out_dir=None,
    env=None,
    notebook: str = NOTEBOOK,
) -> dict:
    """:func:`summarize`, then write ``resume.md``, ``retours.txt``, ``resultats.json``
    in ``out_dir`` (default: ``results_dir``) and append to ``$GITHUB_STEP_SUMMARY``."""
    env = os.environ if env is None else env
    s = summarize(specs, results_dir, env, notebook)
    out = Path(out_dir or results_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "resume.md").write_text(s["markdown"], encoding="utf-8")
    (out / "retours.txt").write_text(s["feedback"], encoding="utf-8")
    write_json(out / "resultats.json", s["data"])
    target = env.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(s["markdown"])
    return s
