"""Tests of the bundled examples and of the demo (autograder/demo.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autograder import demo
from autograder.delivery import tamper_report
from tests.report.fixtures import graded_record, make_fixture

ROOT = Path(__file__).resolve().parents[2]

EXAMPLES = ROOT / "examples"
NB = "resnet_a_la_main.ipynb"
TEMPLATE = ROOT / "student_template" / "resnet_a_la_main.ipynb"


def _load_make_examples():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_examples", ROOT / "scripts" / "make_examples.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _code(nb_path):
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


@pytest.mark.skipif(
    not TEMPLATE.exists(), reason="student_template/ not generated yet (make assign)"
)
def test_examples_are_up_to_date_with_the_template(tmp_path):
    mod = _load_make_examples()
    mod.build_examples(TEMPLATE, tmp_path)
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*") if p.is_file())
    assert built == shipped, "examples/ is stale: run `.venv/bin/python scripts/make_examples.py`"
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (EXAMPLES / rel).read_bytes(), (
            f"examples/{rel} is stale: run `.venv/bin/python scripts/make_examples.py`"
        )


@pytest.mark.skipif(
    not TEMPLATE.exists(), reason="student_template/ not generated yet (make assign)"
)
def test_examples_carry_their_mistake():
    mod = _load_make_examples()
    names = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    assert names == sorted(mod.VARIANTS)
    ns = {}
    for name in names:
        cells = "\n\n".join(_code(EXAMPLES / name / "resnet_a_la_main.ipynb"))
        ns[name] = cells
        if name == "erreur-de-syntaxe":
            with pytest.raises(SyntaxError):
                compile(cells, name, "exec")
        else:
            compile(cells, name, "exec")  # every other example is valid Python
    template = "\n\n".join(_code(TEMPLATE))
    assert ns["modele-vierge"] == template
    assert (
        ns["relu-dans-conv"].count('activation="relu"')
        == ns["reference"].count('activation="relu"') + 1
    )
    assert (
        ns["logits-sans-softmax"].count('activation="softmax"')
        == ns["reference"].count('activation="softmax"') - 2
    )
    assert "Add()([y, x])" in ns["mauvais-raccourci"]
    assert (EXAMPLES / "logits-sans-softmax" / "tests" / "q2.py").is_file()
    for name in names:
        if name != "modele-vierge":
            assert ns[name] != template and (name == "reference" or ns[name] != ns["reference"])


def test_stage_examples_rebuilds_full_repositories(tmp_path):
    tpl = tmp_path / "tpl"
    (tpl / "tests").mkdir(parents=True)
    (tpl / "tests" / "q1.py").write_text("pristine")
    (tpl / "README.md").write_text("readme")
    (tpl / NB).write_text("template notebook")
    (tpl / "__pycache__").mkdir()
    ex = tmp_path / "examples"
    (ex / "alice").mkdir(parents=True)
    (ex / "alice" / NB).write_text("alice notebook")
    (ex / "bob" / "tests").mkdir(parents=True)
    (ex / "bob" / NB).write_text("bob notebook")
    (ex / "bob" / "tests" / "q1.py").write_text("planted")
    (ex / "README.md").write_text("not a submission")
    (ex / "carol.ipynb").write_text("bare notebook")
    staging = tmp_path / "staging"
    (staging / "stale").mkdir(parents=True)
    subs = demo.stage_examples(ex, tpl, staging)
    assert [p.name for p in subs] == ["alice", "bob", "carol.ipynb"]
    assert not (staging / "stale").exists()
    assert (staging / "alice" / NB).read_text() == "alice notebook"
    assert (staging / "alice" / "tests" / "q1.py").read_text() == "pristine"
    assert (staging / "bob" / "tests" / "q1.py").read_text() == "planted"
    assert (staging / "bob" / "README.md").read_text() == "readme"
    assert not (staging / "alice" / "__pycache__").exists()
    assert subs[2] == ex / "carol.ipynb"
    # Without a template, the examples are graded as they are.
    assert demo.stage_examples(ex, tmp_path / "none", staging)[0] == ex / "alice"


def test_run_demo_grades_staged_examples_and_reports(tmp_path, monkeypatch, capsys):
    """run_demo with the engine replaced by a stub that writes fixture records."""
    calls = []

    def fake_engine(cmd, cwd=None):
        calls.append(cmd)
        out = Path(cmd[cmd.index("--out") + 1])
        subs = cmd[4 : cmd.index("--out")]
        make_fixture(out, [graded_record(Path(s).name) for s in subs])
        return subprocess.CompletedProcess(cmd, 0)

    ex = tmp_path / "examples"
    for name in ("alice", "bob"):
        (ex / name).mkdir(parents=True)
        (ex / name / NB).write_text("{}")
    (tmp_path / "student_template").mkdir()
    (tmp_path / "student_template" / "README.md").write_text("modèle")
    monkeypatch.setattr(demo, "ROOT", tmp_path)  # staging goes to tmp_path/build/demo-repos
    monkeypatch.setattr(demo.subprocess, "run", fake_engine)
    path = demo.run_demo(ex, tmp_path / "out")
    assert calls and calls[0][1:4] == ["-m", "autograder", "grade"] and "--no-report" in calls[0]
    assert [Path(c).parent for c in calls[0][4:6]] == [tmp_path / "build" / "demo-repos"] * 2
    assert (tmp_path / "build" / "demo-repos" / "bob" / "README.md").is_file()
    assert path == tmp_path / "out" / "report.html" and path.is_file()
    printed = capsys.readouterr().out
    assert f"Rapport : {path}" in printed and "alice" in printed and "bob" in printed

    # An engine that fails without writing anything makes the demo fail.
    monkeypatch.setattr(
        demo.subprocess, "run", lambda cmd, cwd=None: subprocess.CompletedProcess(cmd, 3)
    )
    with pytest.raises(SystemExit) as exc:
        demo.run_demo(ex, tmp_path / "empty")
    assert exc.value.code == 3


@pytest.mark.skipif(
    not TEMPLATE.exists(), reason="student_template/ not generated yet (make assign)"
)
def test_demo_repositories_flag_only_the_planted_test(tmp_path):
    subs = demo.stage_examples(EXAMPLES, TEMPLATE.parent, tmp_path)
    flags = {p.name: tamper_report(p, TEMPLATE.parent) for p in subs}
    assert flags["reference"] == [] and flags["modele-vierge"] == []
    assert (
        len(flags["logits-sans-softmax"]) == 1 and "tests/q2.py" in flags["logits-sans-softmax"][0]
    )


@pytest.mark.skipif(
    not TEMPLATE.exists(), reason="student_template/ not generated yet (make assign)"
)
def test_reference_example_builds_the_reference_models():
    """The reference example's functions, executed here, match solutions/ (layer types, params)."""
    keras = pytest.importorskip("keras")
    from solutions import resnet_a_la_main as sol

    mod = _load_make_examples()
    ns = {"keras": keras}
    for src in _code(EXAMPLES / "reference" / "resnet_a_la_main.ipynb"):
        if any(f"def {f}(" in src for f in mod.FUNCTIONS):
            exec(compile(src, "reference", "exec"), ns)
    for name in ("build_resnet", "build_cnn"):
        mine, theirs = ns[name](), getattr(sol, name)()
        assert [type(la).__name__ for la in mine.layers] == [
            type(la).__name__ for la in theirs.layers
        ]
        assert mine.count_params() == theirs.count_params()


def test_teacher_cli_demo_runs_the_demo(monkeypatch):
    from autograder.cli import main as cli_main

    calls = []
    monkeypatch.setattr(demo, "run_demo", lambda: calls.append(1) or Path("report.html"))
    assert cli_main(["demo"]) == 0 and calls == [1]
