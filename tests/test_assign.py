"""The assignment kit's generated outputs: in sync, working, and working alone.

Expensive parts (one nbclient execution of the blank student notebook, one of
the filled one, two command-line checks in an isolated copy of the template)
are shared through module-scoped fixtures.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from autograder import assign

ROOT = assign.ROOT
TEMPLATE = ROOT / assign.STUDENT_TEMPLATE
PUBLIC_QUESTIONS = ("q1", "q2", "q3")

#: appended to the executed notebooks (tests only): runs the public otter tests
#: in the notebook's namespace, as otter's grader would, and prints the scores.
OTTER_CELL = """
import json as _json
from otter.test_files import ExceptionTestFile as _ETF
_scores = {}
for _q in ("q1", "q2", "q3"):
    _t = _ETF.from_file(f"tests/{_q}.py")
    _t.run(globals())
    _scores[_q] = [_t.score, _t.possible, [r.message for r in _t.test_case_results]]
print("OTTER-SCORES " + _json.dumps(_scores, ensure_ascii=False))
"""


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def otter_build(tmp_path_factory):
    """A fresh ``otter assign`` of the master notebook."""
    return assign.run_otter_assign(tmp_path_factory.mktemp("otter") / "otter")


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _filled(nb, solutions: list[str]):
    """The student notebook with each stub cell replaced by the reference code."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    answers = [c for c in nb.cells if c.cell_type == "code" and assign.ANSWER_TAG in _tags(c)]
    assert len(answers) == len(solutions) == 3, "one stub cell per question q1-q3 expected"
    for cell, source in zip(answers, solutions):
        cell.source = source
    return nb


def _without_training(nb):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells = [c for c in nb.cells if assign.TRAINING_TAG not in _tags(c)]
    nb.cells.append(nbformat.v4.new_code_cell(OTTER_CELL.strip()))
    return nb


def _isolated_env(directory: Path) -> dict:
    """PATH and HOME only (plus quiet TensorFlow): no access to the kit."""
    env = {
        k: os.environ[k]
        for k in ("PATH", "HOME", "FASHION_MNIST_DIR", "KERAS_HOME")
        if k in os.environ
    }
    env.update(PYTHONPATH=str(directory), TF_CPP_MIN_LOG_LEVEL="3", PYTHONNOUSERSITE="1")
    return env


def _execute(nb, directory: Path, monkeypatch):
    """Execute ``nb`` with nbclient in ``directory`` (kernel sees only that directory)."""
    from nbclient import NotebookClient

    for key in list(os.environ):
        if key not in ("PATH", "HOME", "FASHION_MNIST_DIR", "KERAS_HOME", "TMPDIR"):
            monkeypatch.delenv(key, raising=False)
    for key, value in _isolated_env(directory).items():
        monkeypatch.setenv(key, value)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(directory)}},
        record_timing=False,
    )
    client.execute()
    return nb


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
        else:
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "".join(parts)


def _verifier_cells(nb) -> dict[str, object]:
    found = {}
    for cell in nb.cells:
        match = re.search(r'verifier\("(q\d)"', cell.source) if cell.cell_type == "code" else None
        if match:
            found[match.group(1)] = cell
    return found


def _otter_scores(nb) -> dict:
    line = next(l for l in _text(nb.cells[-1]).splitlines() if l.startswith("OTTER-SCORES "))
    return json.loads(line[len("OTTER-SCORES ") :])


def _public_points(question: str) -> float:
    from autograder.public.checks import max_points

    return max_points(question, ("public",))


@pytest.fixture(scope="module")
def isolated_template(tmp_path_factory):
    """The committed student template, copied alone into an empty directory."""
    directory = tmp_path_factory.mktemp("student_repo") / "repo"
    shutil.copytree(TEMPLATE, directory, ignore=shutil.ignore_patterns("__pycache__"))
    return directory


@pytest.fixture(scope="module")
def filled_notebook(otter_build):
    nb = nbformat.read(str(TEMPLATE / assign.NOTEBOOK), as_version=4)
    return _filled(nb, assign.solution_code_cells(otter_build))


# ----------------------------------------------------------------------------- (a) staleness


def test_generated_files_are_in_sync():
    problems = assign.check_in_sync()
    assert not problems, (
        "generated files differ from assignment/resnet_a_la_main.ipynb and the kit: "
        "run `make assign`\n" + "\n".join(problems)
    )


def test_staleness_check_detects_changes(tmp_path):
    assign.generate(tmp_path, verbose=False)
    assert assign.diff_outputs(tmp_path, tmp_path) == []
    other = tmp_path / "other"
    shutil.copytree(tmp_path / "student_template", other / "student_template")
    shutil.copytree(tmp_path / "autograder", other / "autograder")
    (other / "solutions").mkdir()
    shutil.copy(tmp_path / assign.SOLUTION_MODULE, other / assign.SOLUTION_MODULE)
    assert assign.diff_outputs(tmp_path, other) == []
    (other / "student_template" / "tests" / "q1.py").write_text("# edited\n")
    (other / "student_template" / "stray.txt").write_text("x")
    (other / "autograder" / "otter" / "tests" / "q3.py").unlink()
    problems = assign.diff_outputs(tmp_path, other)
    assert "differs: student_template/tests/q1.py" in problems
    assert "extra (no longer generated): student_template/stray.txt" in problems
    assert "missing: autograder/otter/tests/q3.py" in problems


def test_generation_is_deterministic(tmp_path):
    assign.generate(tmp_path / "one", verbose=False)
    assign.generate(tmp_path / "two", verbose=False)
    assert assign.diff_outputs(tmp_path / "one", tmp_path / "two") == []


def test_template_ships_only_the_public_kit():
    """The student's package is the public subpackage, whole and unchanged, plus two
    generated entry files; nothing else of the teacher's kit."""
    package = TEMPLATE / "autograder"
    shipped = {
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    public = assign.PUBLIC_PACKAGE
    expected = {"__init__.py", "__main__.py"} | {
        "public/" + p.relative_to(public).as_posix()
        for p in public.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert shipped == expected
    for rel in expected - {"__init__.py", "__main__.py"}:
        assert (package / rel).read_bytes() == (public.parent / rel).read_bytes(), rel
    assert (package / "__init__.py").read_text(encoding="utf-8") == assign.PUBLIC_INIT
    assert (TEMPLATE / "README.md").read_text(encoding="utf-8").startswith("# ResNet à la main")
    assert (TEMPLATE / "requirements.txt").is_file()
    for hidden_file in (TEMPLATE / "tests").glob("*.py"):
        assert "hidden=True" not in hidden_file.read_text()


def _otter_test_cases(path: Path) -> list[tuple[str, float, bool]]:
    from otter.test_files import ExceptionTestFile

    test = ExceptionTestFile.from_file(str(path))
    text = path.read_text()
    ids = re.findall(
        r"""(?:assert_check\(|assert_hidden\(|s\.id == )['"](q\d\.[\w.-]+)['"]""", text
    )
    assert len(ids) == len(test.test_cases), f"{path}: one check id per test case expected"
    return [(i, float(tc.points), bool(tc.hidden)) for i, tc in zip(ids, test.test_cases)]


def test_otter_tests_match_the_check_registry():
    from autograder.public.checks import registry

    reg = [r for r in registry() if not r["manual"] and r["question"] in PUBLIC_QUESTIONS]
    public = sorted((r["id"], r["points"]) for r in reg if r["visibility"] == "public")
    student = sorted(
        (i, p)
        for q in PUBLIC_QUESTIONS
        for i, p, hidden in _otter_test_cases(TEMPLATE / "tests" / f"{q}.py")
    )
    assert student == public, "student_template/tests/ must hold one case per public check"
    full = [
        case
        for q in PUBLIC_QUESTIONS
        for case in _otter_test_cases(ROOT / assign.OTTER_DIR / "tests" / f"{q}.py")
    ]
    assert sorted((i, p) for i, p, hidden in full if not hidden) == public
    hidden_reg = sorted((r["id"], r["points"]) for r in reg if r["visibility"] == "hidden")
    if hidden_reg:  # the hidden checks are installed in the kit
        assert sorted((i, p) for i, p, hidden in full if hidden) == hidden_reg


def test_solution_module_is_importable_and_builds_models():
    from solutions import resnet_a_la_main as solution

    text = (ROOT / assign.SOLUTION_MODULE).read_text(encoding="utf-8")
    assert "GENERATED" in text.split("\n\n")[0] + text.split("\n\n")[1]
    assert "NotImplementedError" not in text and "BEGIN SOLUTION" not in text
    model = solution.build_resnet(input_shape=(12, 12, 3), num_classes=4)
    assert tuple(model.output.shape) == (None, 4)
    assert tuple(solution.build_cnn().output.shape) == (None, 10)


def test_clean_solution_source_strips_markers_and_prompts():
    source = "\n".join(
        [
            "def f(x):",
            '    """Doc."""',
            "    # BEGIN SOLUTION NO PROMPT",
            "    y = x + 1",
            "    # END SOLUTION",
            '    """ # BEGIN PROMPT',
            "    raise NotImplementedError",
            '    """ # END PROMPT',
            "    return y  # SOLUTION",
        ]
    )
    assert assign.clean_solution_source(source) == (
        'def f(x):\n    """Doc."""\n    y = x + 1\n    return y'
    )


# ----------------------------------------------------------------------------- (b) notebook runs


@pytest.mark.slow
def test_blank_template_fails_its_checks_in_french(isolated_template, monkeypatch):
    nb = nbformat.read(str(isolated_template / assign.NOTEBOOK), as_version=4)
    stubs = [c for c in nb.cells if assign.ANSWER_TAG in _tags(c) and c.cell_type == "code"]
    assert all("raise NotImplementedError" in c.source for c in stubs)
    nb = _execute(_without_training(nb), isolated_template, monkeypatch)
    cells = _verifier_cells(nb)
    assert sorted(cells) == list(PUBLIC_QUESTIONS)
    for question, cell in cells.items():
        text = _text(cell)
        assert "Traceback" not in text and not any(
            o.output_type == "error" for o in cell.outputs
        ), text
        assert "❌" in text and "✅" not in text, text
        assert f"0/{_public_points(question):g}" in text, text
        assert re.search(r"attendu|reçu", text), text
    scores = _otter_scores(nb)
    for question in PUBLIC_QUESTIONS:
        score, possible, messages = scores[question]
        assert score == 0 and possible == _public_points(question)
        assert all("Traceback" not in m for m in messages)
        assert any(re.search(r"attendu|reçu", m) for m in messages), messages
    # the sanity cells stop on the stub with its French message
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and all(o.ename == "NotImplementedError" for o in errors)
    assert "pas encore écrite" in errors[0].evalue


@pytest.mark.slow
def test_filled_template_passes_its_checks(isolated_template, filled_notebook, monkeypatch):
    nb = _execute(_without_training(filled_notebook), isolated_template, monkeypatch)
    errors = [
        (c.source[:60], o.get("evalue"))
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors
    for question, cell in _verifier_cells(nb).items():
        total = _public_points(question)
        assert f"{total:g}/{total:g}" in _text(cell) and "❌" not in _text(cell), _text(cell)
    for question, (score, possible, messages) in _otter_scores(nb).items():
        assert score == possible == _public_points(question), messages


# ----------------------------------------------------------------------------- (c) alone


def _cli_check(directory: Path, notebook: str, *extra: str):
    """``python -m autograder check`` in a student repository, with PATH and HOME only."""
    env = {"PATH": os.environ["PATH"], "HOME": str(directory.parent)}
    return subprocess.run(
        [sys.executable, "-m", "autograder", "check", notebook, *extra],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


TEACHER_ONLY = (
    "autograder.hidden",
    "autograder.hidden.training",
    "autograder.engine",
    "autograder.report",
    "autograder.delivery",
    "autograder.assign",
    "autograder.engine.scheduler",
    "autograder.cli",
    "autograder.demo",
)


@pytest.mark.slow
def test_no_teacher_module_is_importable_from_a_student_repository(isolated_template):
    # Python without `site` (-S), then the environment's packages added as a plain folder:
    # an editable install of the kit (a .pth finder in site-packages) is not a student's
    # environment and must not make the teacher's modules importable here.
    purelib = sysconfig.get_paths()["purelib"]
    code = (
        f"import sys; sys.path.append({purelib!r})\n"
        "import importlib, json, pkgutil\n"
        "import autograder.public as pub\n"
        "mods = [m.name for m in pkgutil.walk_packages(pub.__path__, 'autograder.public.')]\n"
        "for m in mods: importlib.import_module(m)\n"
        "found = []\n"
        f"for m in {TEACHER_ONLY!r}:\n"
        "    try:\n"
        "        importlib.import_module(m); found.append(m)\n"
        "    except ImportError:\n"
        "        pass\n"
        "print(json.dumps({'public': len(mods), 'teacher': found}))\n"
    )
    env = {"PATH": os.environ["PATH"], "HOME": str(isolated_template.parent)}
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=isolated_template,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["teacher"] == [] and result["public"] >= 15, result
    # the same probe from the teacher's checkout does find them: the test can fail
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert set(json.loads(proc.stdout.strip().splitlines()[-1])["teacher"]) >= {
        "autograder.hidden",
        "autograder.engine",
    }


@pytest.mark.slow
def test_template_checks_run_alone(isolated_template, filled_notebook):
    if not (isolated_template / "autograder" / "public" / "cli.py").is_file():
        pytest.fail("student_template/autograder/public/cli.py is missing: run `make assign`")
    blank = _cli_check(isolated_template, assign.NOTEBOOK)
    out = blank.stdout + blank.stderr
    assert blank.returncode == 1, out  # 1 = at least one check failed (2 = usage error)
    assert "✅" not in out and re.search(r"attendu|reçu", out), out
    assert "Traceback" not in out, out
    nbformat.write(filled_notebook, str(isolated_template / "rempli.ipynb"))
    filled = _cli_check(isolated_template, "rempli.ipynb")
    assert filled.returncode == 0, filled.stdout + filled.stderr


# ----------------------------------------------------------------------------- (d) solution


@pytest.mark.slow
def test_solution_notebook_matches_master(otter_build):
    path = ROOT / assign.SOLUTION_NOTEBOOK
    assert path.is_file(), "run `python -m autograder.assign --execute-solution`"
    committed = nbformat.read(str(path), as_version=4)
    expected = assign.solution_notebook(otter_build)
    code = lambda nb: [c.source for c in nb.cells if c.cell_type == "code"]  # noqa: E731
    assert code(committed) == code(expected), (
        "solutions/resnet_a_la_main.ipynb is stale: run "
        "`python -m autograder.assign --execute-solution`"
    )
    assert all(c.execution_count for c in committed.cells if c.cell_type == "code"), (
        "the solution notebook must be executed"
    )
    assert not [
        o for c in committed.cells for o in c.get("outputs", []) if o.output_type == "error"
    ]


# ----------------------------------------------------------------------------- otter artefacts


def _run_otter_tests(path: Path, env: dict):
    from otter.test_files import ExceptionTestFile

    test = ExceptionTestFile.from_file(str(path))
    test.run(env)
    return test


def test_full_otter_tests_grade_q1_with_hidden_checks(tmp_path, monkeypatch):
    """autograder/otter/tests/q1.py (public + hidden): full marks on the reference, partial on a bug.

    The zip's tests evaluate the submitted notebook file of the current folder, not
    otter's kernel namespace (docs/checks.md, "One evaluation, many views").
    """
    import autograder.hidden
    from autograder.public.checks import hidden_available, max_points

    if not hidden_available():
        pytest.fail("the hidden checks (autograder/hidden/structure.py) are not importable")
    parts = ROOT / "tests" / "gallery" / "parts"
    imports = (parts / "imports.py").read_text(encoding="utf-8")
    block = (parts / "ref_block.py").read_text(encoding="utf-8")
    no_final_relu = block.replace("    return layers.ReLU()(x)", "    return x")
    assert no_final_relu != block
    path = ROOT / assign.OTTER_DIR / "tests" / "q1.py"
    runs = {}
    for name, cell in (("reference", block), ("buggy", no_final_relu)):
        folder = tmp_path / name
        folder.mkdir()
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(imports), nbformat.v4.new_code_cell(cell)]
        nbformat.write(nb, folder / assign.NOTEBOOK)
        monkeypatch.chdir(folder)
        runs[name] = _run_otter_tests(path, {"ResidualBlock": "not read"})
    assert len(autograder.hidden._EVALUATIONS) >= 2  # one evaluation per submitted file
    reference = runs["reference"]
    assert reference.score == reference.possible == max_points("q1"), [
        r.message for r in reference.test_case_results
    ]
    buggy = runs["buggy"]
    assert 0 < buggy.score < buggy.possible
    failed = [r.message for r in buggy.test_case_results if not r.passed]
    assert failed and all("Traceback" not in m and "attendu" in m for m in failed), failed
