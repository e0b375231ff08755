"""The French CI summary of the generated workflow (standard library only).

``python -m autograder ci-summary``, run by the workflow's ``if: always()``
step, reads what each per-check step left (``Q1_SHAPE_RESULTS``... of
``classroom-resources/autograding-command-grader``: base64 JSON, ``status``
``pass``/``fail``/``error``, ``max_score``, ``tests[].score``) and the
evaluation file the steps share (:data:`~autograder.public.ci.EVALUATION_FILE`,
read with bounds by :func:`~autograder.public.ci.read_check_file`), and writes
the French job summary (``resume.md``), the French feedback (``retours.txt``)
and ``resultats.json``. Points come from the steps (what Actions and the
reporter count); the evaluation file only supplies the messages.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from autograder.public.assignment import NOTEBOOK
from autograder.public.assignment import QUESTION_FUNCTIONS as FUNCTIONS
from autograder.public.bounded import clean_text
from autograder.public.ci import (
    EVALUATION_FILE,
    EVALUATION_LIMIT,
    RESULTS_DIR,
    VERDICTS,
    as_number,
    fmt,
    notebook_hash,
    plain_number,
    public_specs_from_source,
    read_check_file,
    step_id,
    write_json,
)

SUMMARY_SCHEMA = "resnet-a-la-main/ci-summary/v1"
MAX_FEEDBACK = 60000
#: Verdict of a check in the feedback text (one symbol).
MARKS = {"pass": "✔", "fail": "✘", "timeout": "⏱️", "error": "⚠️", "skipped": "⚠️"}


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
    total = sum(as_number(t.get("score")) or 0.0 for t in _runner_tests(res))
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
        "earned": plain_number(earned),
        "possible": plain_number(possible),
        "notebook_sha256": sha,
        "evaluation": state or "absent",
        "checks": {
            s["id"]: {
                **statuses[s["id"]],
                "points": plain_number(statuses[s["id"]]["points"]),
                "max": plain_number(s["points"]),
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
