"""Every run status and notebook-level error has an English twin (``--lang en``, issue 13).

The sandbox's statuses (timeout, memory, crash, exit, error, each way a child can
end), the messages the child writes, the definition-time faults, the notebook
errors (missing, not UTF-8, not JSON, not a notebook, too large, syntax error,
missing function, data variable) and the status labels: both languages present,
and different. Nothing here starts a sandbox or imports TensorFlow.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder.public import assignment, sandbox, untrusted
from autograder.public.extract import NotebookError, extract_notebook, extract_sources

FRENCH = re.compile(r"\b(attendu|reçu|Piste|Vérifiez|votre|vos|cellule|n'est|pas)\b")


def twins(fr: str, en: str) -> None:
    assert fr and en and fr != en, (fr, en)
    assert not FRENCH.search(en), en


def child(killed_for=None, rc=None, stderr="", received=None, violation=""):
    """A stand-in for :class:`SandboxProcess` after the run: only what the messages read."""
    return SimpleNamespace(
        killed_for=killed_for,
        returncode=rc,
        timeout_s=12.0,
        memory_gb=2.0,
        channel=SimpleNamespace(violation=violation, received=received or {}),
        err=SimpleNamespace(text=lambda: stderr),
    )


ENDINGS = {
    "timeout": child("timeout", -signal.SIGKILL),
    "processes": child("processes", -signal.SIGKILL),
    "channel": child("channel", -signal.SIGKILL, violation="message illisible"),
    "memory-killed": child("memory", -signal.SIGKILL),
    "memory-oom": child(None, -signal.SIGKILL),
    "memory-stderr": child(None, 1, stderr="MemoryError: Unable to allocate"),
    "internal": child(None, 1, stderr="Traceback (most recent call last):\nKeyError: 'x'"),
    "signal": child(None, -signal.SIGSEGV),
    "exit": child(None, 3, received={"exec": True}),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_every_way_a_child_ends_is_said_in_both_languages(ending):
    status, fr, en = sandbox._failed_message(ENDINGS[ending], "q1")
    assert status in sandbox.STATUSES and status != "ok"
    twins(fr, en)
    assert "illisible" not in en
    assert "ResidualBlock" in en or ending.startswith(("memory", "internal"))


def test_every_channel_violation_has_its_english_twin():
    import inspect

    from autograder.public import channel

    said = set(re.findall(r'self\.violation = "([^"]+)"', inspect.getsource(channel)))
    assert said and said == set(sandbox._VIOLATIONS_EN)


def test_the_endings_cover_every_status():
    got = {sandbox._failed_message(c, "q2")[0] for c in ENDINGS.values()}
    assert got == set(sandbox.STATUSES) - {"ok"}


@pytest.mark.parametrize("status", [s for s in sandbox.STATUSES if s != "ok"])
def test_every_status_has_a_hint_in_both_languages(status):
    run = sandbox.QuestionRun(question="q1", status=status)
    twins(run.hint, run.hint_en)
    assert sandbox.QuestionRun(question="q1", status="ok").hint_en == ""


@pytest.mark.parametrize("status", [s for s in sandbox.STATUSES if s != "ok"])
def test_a_run_that_did_not_finish_gives_its_own_english_message(status):
    from autograder.public.pipeline import _not_run_checks

    run = sandbox.QuestionRun(
        question="q1",
        status=status,
        message="attendu : x, reçu : y.",
        message_en="expected x, got y.",
    )
    results = _not_run_checks(run, ("public",))
    assert results
    for r in results:
        assert (r.message, r.message_en) == ("attendu : x, reçu : y.", "expected x, got y.")
        twins(r.hint, r.hint_en)


def test_definition_time_faults_in_both_languages():
    stage = {"cell": 4, "line": 2}
    for c in (ENDINGS["timeout"], ENDINGS["signal"]):
        twins(*sandbox._exec_fault_message(c, stage, "q1"))


def test_what_the_child_writes_in_both_languages():
    twins(*untrusted._memory_message(2.0, "MemoryError"))
    for name in ("build_cnn", None):
        twins(*untrusted._exit_message(SystemExit(2), name))
    assert set(untrusted._result("error", "a", "b")) == {"status", "message", "message_en"}


def test_a_skipped_statement_is_explained_in_both_languages():
    code = extract_sources([(1, "import math\n"), (2, "def build_cnn():\n    return 1\n")])
    ns: dict = {}
    errors = untrusted.execute(code, ns, {(2, 1): ("la cellule 2 bloque", "cell 2 hangs")})
    assert errors[0]["error"] == "la cellule 2 bloque"
    twins(code.unavailable["build_cnn"], code.unavailable_en["build_cnn"])


def test_a_statement_that_raises_is_explained_in_both_languages():
    code = extract_sources([(1, "def f():\n    return 1\nbuild_cnn = f()[0]\n")])
    untrusted.execute(code, {})
    if "build_cnn" in code.unavailable:  # kept and raised (TypeError)
        twins(code.unavailable["build_cnn"], code.unavailable_en["build_cnn"])


def test_unavailable_functions_in_both_languages():
    missing = sandbox.unavailable_run(extract_sources([(1, "x = 1\n")]), "q1")
    twins(missing.message, missing.message_en)
    broken = extract_sources([(3, "def ResidualBlock(input, **kwargs)\n    return input\n")])
    run = sandbox.unavailable_run(broken, "q1")
    assert run is not None and run.status == "error"
    twins(run.message, run.message_en)
    twins(broken.problems[0].message, broken.problems[0].message_en)
    data = extract_sources(
        [(1, "X_train = load()\n"), (2, "def build_cnn():\n    return X_train.shape\n")]
    )
    twins(data.unavailable["X_train"], data.unavailable_en["X_train"])
    twins(data.why_missing("build_resnet"), data.why_missing_en("build_resnet"))
    # the English reasons reach the sandboxed child with the code
    again = type(data).from_dict(json.loads(json.dumps(data.to_dict())))
    assert again.unavailable_en == data.unavailable_en


def _write(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


NOTEBOOKS = {
    "missing": None,
    "not utf-8": b"\xff\xfe{",
    "not json": '{"cells": [',
    "json, not a notebook": '{"a": 1}',
    "too deep": "[" * 200 + "]" * 200,
    "not a readable notebook": '{"cells": 3, "nbformat": 4}',
}


@pytest.mark.parametrize("kind", list(NOTEBOOKS))
def test_notebook_errors_in_both_languages(tmp_path, kind):
    path = tmp_path / "resnet_a_la_main.ipynb"
    if NOTEBOOKS[kind] is not None:
        _write(path, NOTEBOOKS[kind])
    with pytest.raises(NotebookError) as info:
        extract_notebook(path)
    twins(str(info.value), info.value.message_en)


def test_check_says_a_notebook_error_in_english(tmp_path):
    from autograder.public.cli import public_evaluation

    path = _write(tmp_path / "resnet_a_la_main.ipynb", '{"cells": [')
    for lang, word in (("fr", "JSON valide"), ("en", "not valid JSON")):
        payload, results, code, lines = public_evaluation(str(path), None, lang)
        assert results is None and code == 1 and word in lines[0]
        assert "JSON valide" in payload["error"]  # the JSON document stays French
    _, _, _, lines = public_evaluation(str(tmp_path / "absent.ipynb"), None, "en")
    assert lines == [f"notebook not found: {tmp_path / 'absent.ipynb'}"]


@pytest.mark.parametrize(
    "fr, en",
    [
        (assignment.STATUS_LABELS, assignment.STATUS_LABELS_EN),
        (assignment.QUESTION_STATUS_LABELS, assignment.QUESTION_STATUS_LABELS_EN),
    ],
)
def test_status_labels_in_both_languages(fr, en):
    assert set(fr) == set(en)
    for k in fr:
        assert fr[k] and en[k]
        if k != "ok":  # "ok" reads the same in both
            assert fr[k] != en[k], k


def test_environment_problems_in_both_languages():
    from autograder.public import versions

    twins(versions.python_problem((3, 10)), versions.python_problem((3, 10), "en"))
    for found in ({"tensorflow": None, "keras": None}, {"tensorflow": "1.0.0", "keras": "1.0.0"}):
        fr = versions.library_problems(found)
        en = versions.library_problems(found, "en")
        assert [len(x) for x in fr] == [len(x) for x in en] and sum(len(x) for x in fr)
        for a, b in zip(fr[0] + fr[1], en[0] + en[1], strict=True):
            twins(a, b)
    fr = versions.environment_problems((3, 10))
    en = versions.environment_problems((3, 10), lang="en")
    twins(fr[0][0], en[0][0])
