"""The bounded sandbox: fault cases, isolation, and the student's local check.

Each test starts real worker processes (TensorFlow import included), so the
cases are chosen to cover every status with as few processes as possible.
Timeouts are generous for a loaded 2-core machine, except where the timeout
itself is under test.
"""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.public.extract import extract_notebook
from autograder.public.load import load_artefacts
from autograder.public.pipeline import check_notebook, grade_notebook
from autograder.public.probe import ProbeFailure
from autograder.public.sandbox import OUTPUT_LIMIT, run_question
from tests.faults import (
    NOTEBOOK,
    _inject,
    build_faults,
    expected,
    make_notebook,
    reference_functions,
)

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120
MEMORY = 2.0


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    return build_faults(tmp_path_factory.mktemp("faults"))


@pytest.fixture(scope="module")
def golden():
    return expected()


def _notebook(path: Path) -> Path:
    return path / NOTEBOOK if path.is_dir() else path


def _assert_question(record: dict, want: dict):
    assert record["status"] == want["status"], record["message"]
    assert record["max_score"] > 0
    if want["score"] == "max":
        assert record["score"] == record["max_score"], [
            c["message"] for c in record["checks"] if not c["passed"]
        ]
        assert all(c["passed"] for c in record["checks"])
    else:
        assert record["score"] == want["score"]
        assert record["checks"] and not any(c["passed"] for c in record["checks"])
        assert record["message"]
    if "message" in want:
        assert want["message"] in record["message"]


def test_memory_hog_costs_only_its_question(faults, golden):
    """20 GiB asked in build_resnet: q2 at zero, q1 and q3 graded normally."""
    record = grade_notebook(
        _notebook(faults["memory_hog_q2"]),
        visibility=("public",),
        timeout_s=TIMEOUT,
        memory_gb=MEMORY,
    )
    assert list(record) == ["q1", "q2", "q3"]
    for question, want in golden["memory_hog_q2"]["questions"].items():
        _assert_question(record[question], want)
        assert record[question]["checks"][0]["visibility"] == "public"
    # the failed question's checks carry the status message and a hint
    failed = record["q2"]["checks"][0]
    assert failed["message"] == record["q2"]["message"] and failed["hint"]


# (case, question, timeout, memory): one faulty question per case
FAULTY = [
    ("infinite_loop_q1", "q1", 20, MEMORY),
    ("memory_hog_shared_q2", "q2", 150, 1.5),
    ("sys_exit_q2", "q2", TIMEOUT, MEMORY),
    ("os_exit_q3", "q3", TIMEOUT, MEMORY),
    ("segfault_q3", "q3", TIMEOUT, MEMORY),
    ("syntax_error_q3", "q3", TIMEOUT, MEMORY),
    ("missing_q2", "q2", TIMEOUT, MEMORY),
    ("dropped_global_q2", "q2", TIMEOUT, MEMORY),
    ("notebook_variable_q3", "q3", TIMEOUT, MEMORY),
]


@pytest.mark.parametrize("case, question, timeout, memory", FAULTY, ids=[c[0] for c in FAULTY])
def test_fault_case(faults, golden, case, question, timeout, memory):
    record = grade_notebook(
        _notebook(faults[case]),
        questions=(question,),
        visibility=("public",),
        timeout_s=timeout,
        memory_gb=memory,
    )
    want = golden[case]["questions"][question]
    assert want["status"] != "ok"
    _assert_question(record[question], want)


def test_expected_file_covers_every_case(faults, golden):
    assert set(golden) == set(faults)
    statuses = {w["status"] for case in golden.values() for w in case.get("questions", {}).values()}
    assert statuses == {"ok", "timeout", "memory", "crashed", "exited", "error"}


def test_check_notebook_reference_passes_and_blank_template_fails(faults):
    results = check_notebook(_notebook(faults["reference"]), timeout_s=TIMEOUT, memory_gb=MEMORY)
    assert {r.question for r in results} == {"q1", "q2", "q3"}
    assert all(r.visibility == "public" for r in results)
    assert all(r.passed for r in results), [r.message for r in results if not r.passed]
    blank = check_notebook(_notebook(faults["planted_tests"]), timeout_s=TIMEOUT, memory_gb=MEMORY)
    assert [r.id for r in blank] == [r.id for r in results]
    assert not any(r.passed for r in blank)
    assert all("NotImplementedError" in r.message or "implémentée" in r.message for r in blank)


def test_check_notebook_survives_os_exit_in_one_question(tmp_path):
    """os._exit in build_resnet ends the shared worker; q3 is rerun in a new one."""
    ref = reference_functions()
    nb = make_notebook(
        {**ref, "build_resnet": _inject(ref["build_resnet"], "import os\nos._exit(7)\n")}
    )
    path = tmp_path / NOTEBOOK
    nbformat.write(nb, path)
    results = check_notebook(path, timeout_s=TIMEOUT, memory_gb=MEMORY)
    by_q = {}
    for r in results:
        by_q.setdefault(r.question, []).append(r)
    assert all(r.passed for r in by_q["q1"] + by_q["q3"])
    assert not any(r.passed for r in by_q["q2"])
    assert "code 7" in by_q["q2"][0].message


def _landlock_available() -> bool:
    code = (
        "import sys; from autograder.public.untrusted import restrict_writes; "
        "print(restrict_writes([__import__('pathlib').Path('/tmp')]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    return out.stdout.strip() == "True"


def test_child_is_isolated_and_output_truncated(tmp_path, monkeypatch):
    """The child sees no grader variable, no teacher-only module, no repository cwd,
    and cannot write outside its own temporary folder (where Landlock exists)."""
    monkeypatch.setenv("AUTOGRADER_TEST_SECRET", "fuite")
    outside = tmp_path / "sortie_du_correcteur"
    outside.mkdir()
    ref = reference_functions()
    spy = f"""
        import os, sys
        fuites = []
        try:
            with open({str(outside / "triche.json")!r}, "w") as f:
                f.write("{{}}")
        except OSError:
            pass
        if "AUTOGRADER_TEST_SECRET" in os.environ:
            fuites.append("environnement")
        for teacher_only in ("autograder.hidden", "autograder.engine", "autograder.report"):
            try:
                __import__(teacher_only)
                fuites.append(teacher_only + " importable")
            except ImportError:
                pass
        if os.getcwd().startswith({str(ROOT)!r}) or {str(ROOT)!r} in sys.path:
            fuites.append("dépôt visible")
        if not sys.stdin or not sys.stdin.closed and sys.stdin.read(1):
            fuites.append("stdin")
        print("x" * 200_000)
        if fuites:
            raise RuntimeError("fuite : " + ", ".join(fuites))
    """
    nb = make_notebook({**ref, "ResidualBlock": _inject(ref["ResidualBlock"], spy)})
    path = tmp_path / NOTEBOOK
    nbformat.write(nb, path)
    files = tmp_path / "files"
    files.mkdir()
    run = run_question(extract_notebook(path), "q1", files, timeout_s=TIMEOUT, memory_gb=MEMORY)
    assert run.status == "ok", run.message
    assert run.files == files / "q1" and run.peak_rss_mb > 0
    assert all(not isinstance(m, ProbeFailure) for m in load_artefacts(run.files, "q1").values())
    assert len(run.stdout) < OUTPUT_LIMIT + 100 and "omis" in run.stdout
    assert run.confined == _landlock_available()
    assert (outside / "triche.json").exists() is not run.confined


def test_hang_in_q1_lets_q2_and_q3_score(tmp_path):
    """One worker for the three questions: a hang in q1 costs q1 only (fresh worker after it).

    The hang sleeps (the spinning kind is the fault golden ``infinite_loop_q1``): what
    matters here is the fresh worker after the timeout, not burning a core for 30 s.
    """
    ref = reference_functions()
    nb = make_notebook(
        {
            **ref,
            "ResidualBlock": _inject(
                ref["ResidualBlock"],
                """
        if tuple(input.shape[1:3]) == (6, 10):  # only the grader's 6x10x3 q1 probe hangs
            import time

            while True:
                time.sleep(0.5)
    """,
            ),
        }
    )
    path = tmp_path / NOTEBOOK
    nbformat.write(nb, path)
    record = grade_notebook(
        path, visibility=("public",), timeout_s=30, memory_gb=MEMORY, isolation="auto"
    )
    assert record["q1"]["status"] == "timeout" and record["q1"]["score"] == 0
    for q in ("q2", "q3"):
        assert record[q]["status"] == "ok" and record[q]["score"] == record[q]["max_score"]


def test_hang_at_definition_time_names_the_cell(tmp_path):
    """A class body that never ends (a spinning loop) is named, skipped, and costs no question."""
    nb = make_notebook(
        reference_functions(), extra_cells=["class Piege:\n    while True:\n        pass\n"]
    )
    path = tmp_path / NOTEBOOK
    nbformat.write(nb, path)
    details: dict = {}
    record = grade_notebook(
        path,
        visibility=("public",),
        timeout_s=30,
        memory_gb=MEMORY,
        isolation="auto",
        details=details,
    )
    assert all(record[q]["score"] == record[q]["max_score"] for q in ("q1", "q2", "q3"))
    [error] = details["cell_errors"]
    cell = next(i for i, c in enumerate(nb.cells, start=1) if "class Piege" in c.source)
    assert error["cell"] == cell and f"cellule {cell}" in error["error"]
    assert "ne se termine pas" in error["error"]
