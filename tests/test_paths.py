"""One evaluation, many views (issue 13, item 1): the five grading paths agree.

The paths, each driven through its real entry point:

1. the notebook: ``verifier`` and ``assert_check`` on a kernel namespace whose
   history (``In``) holds the notebook's cells, the current directory being
   the notebook's;
2. ``python -m autograder check NOTEBOOK --json FILE`` (``cli.main``);
3. GitHub Actions: every ``python -m autograder ci-step CHECK`` step of the
   generated workflow (``student_template/.github/workflows/classroom.yml``),
   run in order from the repository's root (the first evaluates the notebook,
   the next ones reuse its result file), points as the grader action counts them;
4. the otter/Gradescope zip: every ``test_case`` of ``autograder/otter/tests/q*.py``
   called as otter calls it, the current directory being the submission's;
5. the teacher's ``grade``: the engine's job (``grade_submission``), its record.

Each path hands the notebook to ``pipeline.evaluate`` and renders its view of
the evaluation: per check ``(points, passed, message when failed)``.

* Whole gallery, cheap (no model built): ``pipeline.evaluate`` is replaced by a
  recorder returning a canned evaluation that is a function of its input (the
  digest of the extracted code). Every path must hand it the same input (the
  notebook: run in the kernel, public checks; ``check`` and Actions: sandbox,
  public; ``grade`` and the zip: sandbox, public and hidden) and show exactly
  the canned results. The comparison is shown able to fail with a planted
  divergent view and a planted divergent input.
* A few cases end to end (slow): the real evaluation, shared between the paths
  that make the same call (``check``'s for the Actions steps;
  ``grade``'s for the zip), so that public results come from three real
  evaluations (in the kernel, sandbox public, sandbox public and hidden).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shlex
from pathlib import Path

import pytest
import yaml

import autograder.hidden
from autograder.public import notebook, pipeline
from autograder.public.assignment import AUTO_QUESTIONS, DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT_S
from autograder.public.checks import CheckResult, max_points
from autograder.public.checks.base import specs
from tests.gallery import build_gallery, case_ids, load_golden, notebook_code

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "student_template" / ".github" / "workflows" / "classroom.yml"
ZIP_TESTS = ROOT / "autograder" / "otter" / "tests"
GOLDEN = load_golden()
INVALID = [c for c in case_ids() if GOLDEN[c]["status"] != "graded"]
PUBLIC = ("public",)
AUTOMATIC = {s.id for s in specs() if not s.manual}
BOTH = ("public", "hidden")


# ---------------------------------------------------------------- the views


def view(points, passed, message) -> tuple:
    """What a path shows of one check."""
    return (float(points), bool(passed), None if passed else message)


def _from_assertion(check_id: str, exc: AssertionError) -> str:
    """The message of ``notebook.failure_text`` (``"<id> : <message>\\nPiste : <hint>"``)."""
    text = str(exc)
    prefix = f"{check_id} : "
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return text.split("\nPiste : ")[0]


def notebook_views(path: Path, history: list[str] | None = None) -> dict[str, dict]:
    """``verifier`` and ``assert_check`` in a kernel whose history holds the notebook's cells."""
    ns = {"__name__": "__main__", "In": ["", *(history or notebook_code(path))]}
    with contextlib.chdir(path.parent):
        shown = {}
        for q in AUTO_QUESTIONS:
            for r in notebook.verifier(q, ns, raise_on_failure=False, quiet=True):
                shown[r.id] = view(r.points, r.passed, r.message)
        asserted = {}
        for s in specs():
            if s.visibility != "public" or s.manual:
                continue
            try:
                r = notebook.assert_check(s.id, ns)
                asserted[s.id] = view(r.points, r.passed, r.message)
            except AssertionError as exc:
                asserted[s.id] = view(0, False, _from_assertion(s.id, exc))
    return {"verifier": shown, "assert_check": asserted}


def _check_json_view(data: dict) -> dict:
    return {c["id"]: view(c["points"], c["passed"], c["message"]) for c in data["checks"]}


def check_view(path: Path, tmp: Path) -> dict:
    """``python -m autograder check NOTEBOOK --json FILE``."""
    from autograder.public import cli

    out = tmp / "check.json"
    code = cli.main(["check", str(path), "--json", str(out)])
    data = json.loads(out.read_text(encoding="utf-8"))
    assert code == (0 if data["passed"] else 1)
    return _check_json_view(data)


def workflow_step_checks() -> list[str]:
    """The check ids of the generated workflow's ``python -m autograder ci-step`` steps."""
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    out = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for text in (step.get("run"), (step.get("with") or {}).get("command")):
                for line in (text or "").splitlines():
                    try:
                        args = shlex.split(line)
                    except ValueError:  # a shell line that is not one command
                        continue
                    if args[:4] == ["python", "-m", "autograder", "ci-step"]:
                        out.append(args[4])
    return out


def _step_message(printed: str) -> str:
    """The failure message a ``ci-step`` prints under its ``✘`` line ("" when none)."""
    lines = printed.splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("✘"))
    below = lines[at + 1].strip() if at + 1 < len(lines) else ""
    return "" if below.startswith(("Piste :", "Total des")) else below


def actions_view(path: Path, tmp: Path) -> dict:
    """Every ``ci-step`` of the workflow, run in order in a copy of the repository's root.

    A step's points are what the grader action gives it: its check's points when
    it exits 0, else 0; its message is the one it prints.
    """
    from autograder.public import cli

    checks = workflow_step_checks()
    assert checks, "the workflow runs no `python -m autograder ci-step`"
    top = {s.id: s.points for s in specs()}
    repo = tmp / "repo"
    repo.mkdir()
    (repo / path.name).write_bytes(path.read_bytes())
    shown: dict = {}
    with contextlib.chdir(repo):
        for check_id in checks:
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                passed = cli.main(["ci-step", check_id]) == 0
            message = None if passed else _step_message(printed.getvalue())
            shown[check_id] = view(top[check_id] if passed else 0, passed, message)
    return shown


def zip_views(path: Path) -> dict[str, dict]:
    """Every otter test case of the zip, called as otter calls it, in the submission folder."""
    from otter.test_files import test_case

    public, hidden = {}, {}
    with contextlib.chdir(path.parent):
        for file in sorted(ZIP_TESTS.glob("q*.py")):
            ns: dict = {}
            exec(compile(file.read_text(encoding="utf-8"), str(file), "exec"), ns)
            for case in [v for v in ns.values() if isinstance(v, test_case)]:
                check_id = case.test_func.__name__.removeprefix("test_").replace("_", ".", 1)
                try:
                    case.call_func({"__name__": "__main__"})
                    shown = view(case.points, True, None)
                except AssertionError as exc:
                    shown = view(0, False, _from_assertion(check_id, exc))
                (hidden if case.hidden else public)[check_id] = shown
    return {"public": public, "hidden": hidden}


def grade_record(path: Path) -> dict:
    """The teacher's ``grade``: the engine's job on one submission, its JSON record."""
    from autograder.engine.discovery import Submission
    from autograder.engine.job import grade_submission

    sub = Submission(id=path.parent.name, source=str(path), notebook=path)
    return grade_submission(
        sub, timeout_s=DEFAULT_TIMEOUT_S, memory_gb=DEFAULT_MEMORY_GB, isolation="auto"
    ).to_dict()


def grade_views(record: dict) -> dict[str, dict]:
    out: dict = {"public": {}, "hidden": {}}
    for q in record.get("questions", {}).values():
        for c in q["checks"]:
            if c["id"] in AUTOMATIC:
                out[c["visibility"]][c["id"]] = view(c["points"], c["passed"], c["message"])
    return out


def all_views(path: Path, tmp: Path, history: list[str] | None = None) -> dict[str, dict]:
    """Every path's view of one notebook: ``{path name: {check id: view}}``."""
    autograder.hidden._EVALUATIONS.clear()
    notebook._CACHE.clear()
    zipped = zip_views(path)
    graded = grade_views(grade_record(path))
    return {
        **notebook_views(path, history),
        "check": check_view(path, tmp),
        "actions": actions_view(path, tmp),
        "zip": zipped["public"],
        "grade": graded["public"],
        "zip (hidden)": zipped["hidden"],
        "grade (hidden)": graded["hidden"],
    }


def disagreements(views: dict[str, dict], public: dict, hidden: dict) -> list[str]:
    """Each view that is not the expected public or hidden results, check by check."""
    out = []
    for name, shown in views.items():
        want = hidden if name.endswith("(hidden)") else public
        for cid in sorted(set(shown) | set(want)):
            if shown.get(cid) != want.get(cid):
                out.append(f"{name} {cid}: shows {shown.get(cid)}, expected {want.get(cid)}")
    return out


# ---------------------------------------------------------------- whole gallery, one canned evaluation


def canned_evaluation(code, questions, visibility) -> dict:
    """An evaluation record that depends only on the input: the extracted code and the call."""
    digest = notebook.code_digest(code)
    record = {}
    for q in questions:
        checks = []
        for s in specs():
            if s.question != q or s.visibility not in visibility or s.manual:
                continue
            h = hashlib.sha256(f"{digest}:{s.id}".encode()).hexdigest()
            passed = int(h[0], 16) % 2 == 0
            checks.append(
                CheckResult(
                    id=s.id,
                    question=q,
                    title=s.title,
                    points=s.points if passed else 0.0,
                    max_points=s.points,
                    passed=passed,
                    visibility=s.visibility,
                    message=f"attendu : {s.id}, reçu : {h[:12]}",
                    hint="" if passed else f"piste {h[12:20]}",
                ).to_dict()
            )
        record[q] = {
            "score": float(sum(c["points"] for c in checks)),
            "max_score": float(max_points(q, visibility)),
            "status": "ok",
            "message": "",
            "seconds": 0.0,
            "peak_rss_mb": 0.0,
            "checks": checks,
        }
    return record


def expected_views(record: dict) -> tuple[dict, dict]:
    out: dict = {"public": {}, "hidden": {}}
    for q in record.values():
        for c in q["checks"]:
            out[c["visibility"]][c["id"]] = view(c["points"], c["passed"], c["message"])
    return out["public"], out["hidden"]


class Recorder:
    """Stands in for ``pipeline.evaluate``: records each call's input, returns the canned record."""

    def __init__(self):
        self.calls = []

    def __call__(self, code, questions=AUTO_QUESTIONS, visibility=BOTH, **kwargs):
        visibility = (visibility,) if isinstance(visibility, str) else tuple(visibility)
        self.calls.append(
            (notebook.code_digest(code), tuple(visibility), bool(kwargs.get("in_process")))
        )
        if kwargs.get("details") is not None:
            kwargs["details"]["cell_errors"] = []
        return canned_evaluation(code, list(questions), visibility)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    return build_gallery(tmp_path_factory.mktemp("paths"))


def canned_disagreements(path: Path, tmp: Path, monkeypatch) -> list[str]:
    """Run the five paths on ``path`` with the canned evaluation; what does not agree."""
    from autograder.public.extract import extract_notebook

    recorder = Recorder()
    monkeypatch.setattr(pipeline, "evaluate", recorder)
    views = all_views(path, tmp)
    code = extract_notebook(path)
    digest = notebook.code_digest(code)
    problems = [
        f"an evaluation of other code ({d[:8]}, {v}, in_process={p})"
        for d, v, p in recorder.calls
        if d != digest
    ]
    calls = {(v, p) for _, v, p in recorder.calls}
    if calls != {(PUBLIC, True), (PUBLIC, False), (BOTH, False)}:
        problems.append(f"unexpected evaluation calls {sorted(calls)}")
    public, _ = expected_views(canned_evaluation(code, AUTO_QUESTIONS, PUBLIC))
    _, hidden = expected_views(canned_evaluation(code, AUTO_QUESTIONS, BOTH))
    return problems + disagreements(views, public, hidden)


@pytest.mark.parametrize("case", [c for c in case_ids() if c not in INVALID])
def test_every_path_renders_one_evaluation(gallery, case, tmp_path, monkeypatch):
    assert canned_disagreements(gallery[case], tmp_path, monkeypatch) == []


def test_a_divergent_view_is_caught(gallery, tmp_path, monkeypatch):
    """Planted: the JSON of ``check --json`` shows the opposite outcome for one check."""
    from autograder.public import ci

    real = ci.check_entry

    def lying(result):
        entry = real(result)
        if entry["id"] == "q2.output":
            passed = not entry["passed"]
            entry.update(passed=passed, points=entry["max"] if passed else 0, message="planted")
        return entry

    monkeypatch.setattr(ci, "check_entry", lying)
    found = canned_disagreements(gallery["blank_template"], tmp_path, monkeypatch)
    assert found and {f.split()[0] for f in found} == {"check", "actions"}, found
    assert all("q2.output" in f for f in found)


def test_a_divergent_input_is_caught(gallery, tmp_path, monkeypatch):
    """Planted: the notebook evaluates its history without its first cell (the imports)."""
    real = notebook.numbered_history
    monkeypatch.setattr(notebook, "numbered_history", lambda h, s: real(h[:1] + h[2:], s))
    found = canned_disagreements(gallery["reference"], tmp_path, monkeypatch)
    assert any(f.startswith("an evaluation of other code") for f in found), found
    assert {f.split()[0] for f in found if not f.startswith("an ")} <= {"verifier", "assert_check"}


@pytest.mark.parametrize("case", INVALID)
def test_an_invalid_notebook_fails_on_every_path(gallery, case, tmp_path, monkeypatch):
    """No kernel runs an invalid file; every other path, ``grade`` included, gives 0 with the
    same reason."""
    from autograder.public.extract import NotebookError, extract_notebook

    monkeypatch.setattr(pipeline, "evaluate", Recorder())
    path = gallery[case]
    with pytest.raises(NotebookError) as err:
        extract_notebook(path)
    autograder.hidden._EVALUATIONS.clear()
    views = {"check": check_view(path, tmp_path), **zip_views(path)}
    for name, shown in views.items():
        assert shown and all(v == (0.0, False, str(err.value)) for v in shown.values()), name
    record = grade_record(path)
    assert record["status"] == "invalid-notebook" and record["total"] == 0
    assert record["message"] == str(err.value)  # the same reader, the same reason


# ---------------------------------------------------------------- a few cases end to end (slow)

#: A beginner's notebook (the untouched template), the notebook-variable policy, and a
#: top-level cell that fails (the reference plus that cell: full marks on every path).
E2E_CASES = ["blank_template", "reject_notebook_variable", "broken_failing_cell"]


class SharedEvaluation:
    """The real ``pipeline.evaluate``, made once per input, runner and question, then shared.

    ``check`` (all questions, public) serves the Actions steps (the first step
    makes that same call, the others reuse its file); ``grade`` (sandbox, public and hidden) serves the zip. The notebook's
    evaluation (in the kernel), ``check``'s and ``grade``'s stay three real ones.
    """

    def __init__(self, real):
        self.real, self.memo, self.runs = real, {}, []

    def __call__(self, code, questions=AUTO_QUESTIONS, visibility=BOTH, **kwargs):
        visibility = (visibility,) if isinstance(visibility, str) else tuple(visibility)
        key = (notebook.code_digest(code), visibility, bool(kwargs.get("in_process")))
        missing = [q for q in questions if (key, q) not in self.memo]
        if missing:
            details: dict = {}
            kwargs = {k: v for k, v in kwargs.items() if k != "details"}
            record = self.real(code, missing, visibility, details=details, **kwargs)
            self.runs.append((key, tuple(missing)))
            self.memo.update({(key, q): record[q] for q in missing})
            self.memo[key, "cell_errors"] = details["cell_errors"]
        if kwargs.get("details") is not None:
            kwargs["details"]["cell_errors"] = list(self.memo[key, "cell_errors"])
        return {q: json.loads(json.dumps(self.memo[key, q])) for q in questions}


@pytest.fixture(scope="module")
def shared_evaluation():
    return SharedEvaluation(pipeline.evaluate)


def real_views(path, tmp, shared, monkeypatch, history=None) -> dict:
    monkeypatch.setattr(pipeline, "evaluate", shared)
    return all_views(path, tmp, history)


@pytest.mark.slow
@pytest.mark.parametrize("case", E2E_CASES)
def test_five_paths_end_to_end(gallery, case, tmp_path, shared_evaluation, monkeypatch):
    views = real_views(gallery[case], tmp_path, shared_evaluation, monkeypatch)
    public, hidden = views["check"], views["grade (hidden)"]
    assert disagreements(views, public, hidden) == []
    golden = GOLDEN[case]["checks"]
    assert {c: v[1] for c, v in {**public, **hidden}.items()} == golden
    runners = {(v, p) for (_, v, p), _ in shared_evaluation.runs}
    assert runners >= {(PUBLIC, True), (PUBLIC, False), (BOTH, False)}


@pytest.mark.slow
def test_fixed_and_rerun_cell_is_what_every_path_sees(
    gallery, tmp_path, shared_evaluation, monkeypatch
):
    """Stale cache: the kernel ran a wrong ResidualBlock, then the fixed one (the file's)."""
    path = gallery["reference"]
    cells = notebook_code(path)
    block = next(i for i, c in enumerate(cells) if "def ResidualBlock" in c)
    wrong = cells[block].replace('padding="same"', 'padding="valid"')
    history = [*cells[:block], wrong, *cells[block + 1 :], cells[block]]
    views = real_views(path, tmp_path, shared_evaluation, monkeypatch, history)
    assert disagreements(views, views["check"], views["grade (hidden)"]) == []
    assert all(v[1] for v in views["verifier"].values())
    stale = [*cells[:block], cells[block], *cells[block + 1 :], wrong]
    notebook._CACHE.clear()
    with contextlib.chdir(path.parent):
        ns = {"__name__": "__main__", "In": ["", *stale]}
        assert not any(r.passed for r in notebook.verifier("q1", ns, False, quiet=True))


def test_the_kernel_imports_what_the_sandbox_imports(tmp_path, monkeypatch):
    """In the kernel, the evaluation's imports find only what the sandbox's child finds."""
    (tmp_path / "mes_outils.py").write_text("X = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import mes_outils  # noqa: F401 - importable in the kernel

    ns = {"__builtins__": pipeline.sandbox_builtins()}
    for ok in (
        "import json",
        "import numpy.linalg",
        "from keras import layers",
        "from autograder.public import data",
        "import autograder.public.recipe",
    ):
        exec(ok, ns)
    for refused in (
        "import mes_outils",
        "from mes_outils import X",
        "import autograder.hidden",
        "from autograder import hidden",
    ):
        with pytest.raises(ModuleNotFoundError):
            exec(refused, ns)


def test_run_all_twice_is_the_saved_notebook(gallery, monkeypatch):
    """The kernel's history, numbered as the saved notebook, is the file's extracted code."""
    from autograder.public.extract import extract_notebook

    path = gallery["reject_notebook_variable"]
    cells = notebook_code(path)
    want = notebook.code_digest(extract_notebook(path))
    monkeypatch.chdir(path.parent)
    for history in (cells, cells + cells, cells[:2] + cells):
        assert notebook.code_digest(notebook.notebook_code({"In": ["", *history]})) == want
    edited = [*cells, cells[-1] + "\n# modifiée, pas enregistrée\n"]
    assert notebook.code_digest(notebook.notebook_code({"In": ["", *edited]})) != want
