"""Machine-readable check results and the French CI summary (standard library only).

Shipped in the student template. Nothing here imports TensorFlow, Keras or
numpy, so ``python -m autograder ci-summary`` works even when the install
step of a workflow failed.

- :func:`check_payload` is what ``python -m autograder check --json FILE``
  writes (schema :data:`CHECK_SCHEMA`): per check its id, question, title,
  points, max, passed, message and hint.
- :func:`summarize` turns those files and/or the ``Q1_RESULTS``...
  environment variables of ``classroom-resources/autograding-command-grader``
  (base64 JSON: ``status`` ``pass``/``fail``/``error``, ``max_score``,
  ``tests[].score``) into the French job summary (``resume.md``), the French
  feedback (``retours.txt``) and ``resultats.json``: the ``ci-summary``
  subcommand, run by the generated workflow's ``if: always()`` step.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from autograder.public.assignment import NOTEBOOK
from autograder.public.assignment import QUESTION_FUNCTIONS as FUNCTIONS
from autograder.public.fsutil import atomic_write_json

CHECK_SCHEMA = "resnet-a-la-main/check/v1"
SUMMARY_SCHEMA = "resnet-a-la-main/ci-summary/v1"
RESULTS_DIR = "resultats-autograder"
MAX_FEEDBACK = 60000

VERDICTS = {
    "pass": "✅ réussie",
    "fail": "❌ à revoir",
    "timeout": "⏱️ temps dépassé",
    "error": "⚠️ erreur d'exécution",
    "skipped": "⚠️ non exécutée",
}


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
    results, notebook: str, question: str | None = None, error: str | None = None, warnings=()
) -> dict:
    """The document ``check --json`` writes.

    Args:
        results: check results (objects or dicts), public checks only.
        notebook: the notebook as given on the command line.
        question: the ``-q`` question, or None for all.
        error: French message when the checks could not run (every check then fails).
        warnings: French environment warnings (untested versions).

    Returns:
        A JSON-ready dict (schema :data:`CHECK_SCHEMA`).
    """
    checks = [check_entry(r) for r in results]
    return {
        "schema": CHECK_SCHEMA,
        "notebook": str(notebook),
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
    specs, notebook: str, question: str | None, message: str, hint: str = "", warnings=()
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
    return check_payload(results, notebook, question, error=message, warnings=warnings)


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


# --------------------------------------------------------------------------- inputs


def decode_runner_result(raw: str | None) -> dict | None:
    """The command grader's ``result`` output (base64 JSON), or None when absent or unreadable."""
    raw = (raw or "").strip()
    if not raw:
        return None
    for decode in (lambda s: base64.b64decode(s, validate=True).decode("utf-8"), lambda s: s):
        try:
            data = json.loads(decode(raw))
        except Exception:  # noqa: BLE001 - not this encoding
            continue
        if isinstance(data, dict):
            return data
    return None


def read_check_file(path) -> dict | None:
    """A ``check --json`` file, or None when absent or not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("schema") != CHECK_SCHEMA
        or not isinstance(data.get("checks"), list)
    ):
        return None
    return data


def _runner_points(res: dict) -> float:
    return sum(float(t.get("score") or 0) for t in res.get("tests") or [] if isinstance(t, dict))


def _runner_message(res: dict) -> str:
    parts = [str(res.get("message") or "")]
    parts += [str(t.get("message") or "") for t in res.get("tests") or [] if isinstance(t, dict)]
    return " ".join(p for p in parts if p)


def _timed_out(res: dict) -> bool:
    text = _runner_message(res).lower()
    return "timed out" in text or "timeout" in text or "time limit" in text


# --------------------------------------------------------------------------- summary


def question_status(
    q: str, payload: dict | None, runner: dict | None, max_points: float | None
) -> dict:
    """Verdict, points and maximum of one question from what the workflow left.

    Precedence: a command-grader ``error`` (or a ``fail`` that says it timed out
    and left no file: the step was killed) wins;
    then the ``check --json`` file; then the command grader's pass/fail; with
    neither, the step did not run (``skipped``).
    """
    top = max_points
    killed = runner is not None and (
        runner.get("status") == "error"
        # some grader versions report a killed command as a failure: no file was written
        or (runner.get("status") == "fail" and payload is None and _timed_out(runner))
    )
    if killed:
        kind = "timeout" if _timed_out(runner) else "error"
        top = top if top is not None else float(runner.get("max_score") or 0)
        return {
            "question": q,
            "status": kind,
            "points": 0.0,
            "max": top,
            "detail": _runner_message(runner)[:500],
        }
    if payload is not None:
        earned = float(payload.get("points") or 0)
        top = float(payload.get("max") or 0) if top is None else top
        ok = bool(payload.get("passed"))
        if runner is not None and runner.get("status") in ("pass", "fail"):
            ok = ok and runner["status"] == "pass"
        return {
            "question": q,
            "status": "pass" if ok else "fail",
            "points": earned,
            "max": top,
            "detail": payload.get("error") or "",
        }
    if runner is not None and runner.get("status") in ("pass", "fail"):
        top = float(runner.get("max_score") or 0) if top is None else top
        earned = _runner_points(runner) if "tests" in runner else 0.0
        if runner["status"] == "pass" and not earned:
            earned = top
        return {
            "question": q,
            "status": runner["status"],
            "points": earned,
            "max": top,
            "detail": "",
        }
    return {"question": q, "status": "skipped", "points": 0.0, "max": top, "detail": ""}


def render_feedback(payloads: dict[str, dict | None], statuses: dict[str, dict]) -> str:
    """The French feedback, as ``python -m autograder check`` prints it, from the JSON files."""
    lines = []
    for q, st in statuses.items():
        payload = payloads.get(q)
        head = f"{q} — {FUNCTIONS.get(q, q)} : "
        if st["status"] in ("timeout", "error", "skipped") and payload is None:
            reason = {
                "timeout": "la vérification a dépassé le temps limite de l'étape ; vérifiez "
                "que vos fonctions construisent le modèle sans l'entraîner.",
                "error": "la vérification n'a pas pu s'exécuter"
                + (f" ({st['detail']})" if st["detail"] else "")
                + ".",
                "skipped": "la vérification n'a pas été lancée (une étape précédente, "
                "par exemple l'installation, a échoué : voir le journal du run).",
            }[st["status"]]
            lines += [head + VERDICTS[st["status"]], f"  {reason}", ""]
            continue
        if payload is None:  # the grader's verdict only
            lines += [
                head + f"{fmt(st['points'])} / {fmt(st['max'] or 0)} ({VERDICTS[st['status']]})",
                "  Retours détaillés indisponibles pour cette question (aucun fichier "
                "de résultats) : lancez la vérification sur votre machine.",
                "",
            ]
            continue
        lines.append(head + f"{fmt(payload['points'])} / {fmt(payload['max'])}")
        if payload.get("error"):
            lines.append(f"  {payload['error']}")
        checks = payload.get("checks") or []
        shared = (
            len(checks) > 1
            and all(not c["passed"] for c in checks)
            and len({(c["message"], c["hint"]) for c in checks}) == 1
        )
        for c in checks:
            lines.append(f"  {'✔' if c['passed'] else '✘'} {c.get('title') or c['id']}")
            if not c["passed"] and not shared and not payload.get("error"):
                if c["message"]:
                    lines.append(f"      {c['message']}")
                if c["hint"]:
                    lines.append(f"      Piste : {c['hint']}")
        if shared and not payload.get("error"):
            c = checks[0]
            if c["message"]:
                lines.append(f"      {c['message']}")
            if c["hint"]:
                lines.append(f"      Piste : {c['hint']}")
        for w in payload.get("warnings") or []:
            lines.append(f"  {w}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def summarize(
    questions,
    results_dir=RESULTS_DIR,
    env=None,
    points=None,
    notebook: str = NOTEBOOK,
) -> dict:
    """Everything the summary step shows and saves.

    Args:
        questions: question ids, in order (``["q1", "q2", "q3"]``).
        results_dir: folder of the ``check --json`` files ``<q>.json``.
        env: environment holding ``Q1_RESULTS``... (default ``os.environ``).
        points: ``{question: public points}`` (the workflow's facts); missing
            entries come from the files or the grader's ``max_score``.
        notebook: the notebook name, for the French text.

    Returns:
        ``{"markdown", "feedback", "data"}``.
    """
    env = os.environ if env is None else env
    points = points or {}
    payloads, statuses = {}, {}
    for q in questions:
        payloads[q] = read_check_file(Path(results_dir) / f"{q}.json")
        runner = decode_runner_result(env.get(f"{q.upper()}_RESULTS"))
        statuses[q] = question_status(q, payloads[q], runner, points.get(q))
    earned = sum(s["points"] for s in statuses.values())
    possible = sum(s["max"] or 0 for s in statuses.values())
    rows = []
    for q, s in statuses.items():
        top = "–" if s["max"] is None else fmt(s["max"])
        got = "–" if s["status"] == "skipped" else fmt(s["points"])
        rows.append(f"| {q} | `{FUNCTIONS.get(q, q)}` | {VERDICTS[s['status']]} | {got} / {top} |")
    feedback = render_feedback(payloads, statuses)
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
            "| Question | Fonction | Résultat | Points |",
            "|---|---|---|---|",
            *rows,
            "",
            f"**Total des vérifications publiques : {fmt(earned)} / {fmt(possible)} points.**",
            "",
            "Ces points ne concernent que les vérifications publiques. La note finale comprend "
            "aussi des vérifications cachées (dont un entraînement mené par le correcteur) et "
            "la question q4, corrigée à la main.",
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
        "questions": {
            q: {**statuses[q], "checks": (payloads[q] or {}).get("checks", [])} for q in questions
        },
    }
    return {"markdown": markdown, "feedback": feedback, "data": data}


def parse_points(text: str | None) -> dict[str, float]:
    """``"q1=3,q2=2"`` -> ``{"q1": 3.0, "q2": 2.0}`` (raises ValueError when malformed)."""
    out = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        q, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"attendu QUESTION=POINTS, reçu : {part!r}")
        out[q.strip()] = float(value)
    return out


def run_summary(
    questions,
    results_dir=RESULTS_DIR,
    out_dir=None,
    env=None,
    points=None,
    notebook: str = NOTEBOOK,
) -> dict:
    """:func:`summarize`, then write ``resume.md``, ``retours.txt``, ``resultats.json``
    in ``out_dir`` (default: ``results_dir``) and append to ``$GITHUB_STEP_SUMMARY``."""
    env = os.environ if env is None else env
    s = summarize(questions, results_dir, env, points, notebook)
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
