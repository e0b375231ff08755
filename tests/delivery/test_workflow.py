"""Delivery: the GitHub Actions workflow's structure (autograder/delivery/workflow.py, facts.py).

The workflow is generated (``autograder.delivery.render_workflow``) from the
assignment's facts: one grader step per public check, worth that check's points,
all served by one evaluation per push (``python -m autograder ci-step CHECK``:
the first step evaluates, the next ones read ``resultats-autograder/evaluation.json``).
Its grader commands are run for real, as the grader action runs them
(``/bin/sh -c COMMAND`` in the repository, environment reduced to PATH and HOME),
in copies of ``student_template/`` holding the reference-filled notebook, the
untouched template and a beginner's mistake from the gallery (one evaluation
each, per module); the steps' points must add up to ``check``'s total (the
gallery's hand-written golden outcome). A first step killed while evaluating
turns every step into a timeout, 0 out of every point. Then the summary step
(``python -m autograder ci-summary``) runs on what they left. Nothing
downloads: the install step's requirements are checked to be satisfied by the
kit's environment instead of being installed. Tamper evidence:
tests/delivery/test_tamper.py; the otter zip: tests/delivery/test_otter_zip.py.
"""

from __future__ import annotations

import copy
import importlib.metadata
import re

import pytest
import yaml

from autograder import delivery
from autograder.public import ci
from tests.delivery.repos import (
    ALIASES,
    GRADER,
    REPORTER,
    TEMPLATE,
    WORKFLOW_REL,
    load_workflow,
    public_points,
    require_template,
    workflow_problems,
)

# --------------------------------------------------------------------------- workflow structure


def test_workflow_structure():
    assert workflow_problems(load_workflow(), public_points()) == []


def test_template_workflow_is_the_generated_one():
    require_template()
    assert (TEMPLATE / WORKFLOW_REL).read_text(encoding="utf-8") == delivery.render_workflow()


def test_workflow_follows_the_facts():
    """Other facts (other points) give another workflow, still well formed."""
    facts = delivery.assignment_facts()
    facts["questions"][0]["checks"][0]["points"] = 4.0
    facts["public_total"] += 3
    wf = yaml.safe_load(delivery.render_workflow(facts))
    first = next(iter(public_points()))
    points = {**public_points(), first: 4.0}
    assert workflow_problems(wf, points) == []
    assert workflow_problems(wf, public_points()) != []  # the check sees the difference
    facts["questions"][0]["checks"][0]["points"] = 1.5
    with pytest.raises(ValueError, match="integer"):
        delivery.render_workflow(facts)


def test_one_grader_step_per_public_check_worth_its_points():
    steps = next(iter(load_workflow()["jobs"].values()))["steps"]
    graders = [s for s in steps if s.get("uses", "").startswith(GRADER)]
    assert [(s["with"]["command"].split()[-1], s["with"]["max-score"]) for s in graders] == [
        (c, int(p)) for c, p in public_points().items()
    ]
    assert sum(s["with"]["max-score"] for s in graders) == sum(public_points().values())
    for s in graders:  # the French title in the step's name
        cid = s["with"]["command"].split()[-1]
        assert s["name"].startswith(f"{cid} — ") and s["name"] == s["with"]["test-name"]


def test_workflow_is_short_and_makes_no_false_claims():
    text = delivery.render_workflow()
    code = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert len(code) < 120, len(code)
    assert "PYEOF" not in text and "python - " not in text  # no inline Python
    assert "finds the job" not in text and "looks for the check run" not in text


@pytest.mark.parametrize(
    "mutation, expected",
    [
        (lambda s: s[3]["with"].update({"max-score": 5}), "q1_shape: max-score"),
        (lambda s: s[4].update({"id": "q9"}), "grader step ids"),
        (lambda s: s[9]["with"].update({"runners": "q1_shape,q1_order"}), "reporter runners"),
        (lambda s: s[9]["env"].pop("Q3_OUTPUT_RESULTS"), "reporter: env"),
        (
            lambda s: s[9]["env"].update(
                {"Q1_SHAPE_RESULTS": "${{ steps.q1_shape.outputs.result }}"}
            ),
            "a skipped q1_shape must count",
        ),
        (lambda s: s[9].pop("if"), "reporter: must run after"),
        (
            lambda s: s[5]["with"].update({"command": "otter check resnet_a_la_main.ipynb"}),
            "q1_kwargs: command",
        ),
        (
            lambda s: s[3]["with"].update(
                {"command": "python -m autograder check resnet_a_la_main.ipynb -q q1"}
            ),
            "q1_shape: command",
        ),
        (lambda s: s[4].pop("if"), "q1_order: must run after a failed check"),
        (lambda s: s[3]["with"].update({"timeout": "600s"}), "q1_shape: timeout"),
        (lambda s: s[1]["with"].pop("cache"), "pip cache"),
        (lambda s: s[10].pop("if"), "summary: must run always()"),
        (
            lambda s: s[10].update(
                {"run": "python -m autograder ci-summary --points q1.shape=1,q1.order=1"}
            ),
            "summary: checks or points",
        ),
        (
            lambda s: s[3]["with"].update({"setup-command": "pip install -r requirements.txt"}),
            "q1_shape: setup-command",
        ),
        (lambda s: s[1]["with"].update({"python-version": "3.14"}), "python-version 3.12"),
        (
            lambda s: s[2].update({"run": "python -m pip install -r requirements.txt"}),
            "installs requirements-checks.txt",
        ),
        (
            lambda s: s[2].update(
                {"run": "python -m pip install --requirement requirements-checks.txt"}
            ),
            "must first remove resultats-autograder",
        ),
        (lambda s: s.insert(3, s.pop(9)), "reporter must come after"),
        (lambda s: s[0].update({"uses": "actions/checkout@v4"}), None),  # harmless: no problem
    ],
)
def test_workflow_structure_check_catches(mutation, expected):
    wf = copy.deepcopy(load_workflow())
    steps = next(iter(wf["jobs"].values()))["steps"]
    assert [s.get("id") for s in steps[3:9]] == [ci.step_id(c) for c in public_points()]
    assert steps[9]["uses"].startswith(REPORTER) and steps[10]["id"] == "summary"
    mutation(steps)
    problems = workflow_problems(wf, public_points())
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_install_step_requirements_are_satisfied_here():
    """The workflow installs requirements-checks.txt, which the kit's environment satisfies."""
    from packaging.requirements import Requirement

    require_template()
    unsatisfied = []
    for line in (TEMPLATE / "requirements-checks.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate():
            continue
        version = None
        # the kit pins tensorflow-cpu: the same `tensorflow` module, at the same version
        for dist in ALIASES.get(req.name.lower(), (req.name,)):
            try:
                version = importlib.metadata.version(dist)
                break
            except importlib.metadata.PackageNotFoundError:
                pass
        if version is None:
            unsatisfied.append(f"{req.name} not installed")
            continue
        if not req.specifier.contains(version, prereleases=True):
            unsatisfied.append(f"{req.name} {version} not in {req.specifier}")
    assert unsatisfied == []


def test_template_ships_lean_and_full_requirements():
    """requirements.txt (notebook) includes requirements-checks.txt (checks only)."""
    require_template()
    full = (TEMPLATE / "requirements.txt").read_text(encoding="utf-8").splitlines()
    lean = (TEMPLATE / "requirements-checks.txt").read_text(encoding="utf-8")
    assert "-r requirements-checks.txt" in full
    names = {
        re.split(r"[<>=!~;\[ ]", l, maxsplit=1)[0].lower()
        for l in lean.splitlines()
        if l.strip() and not l.startswith("#")
    }
    assert names == {
        "tensorflow-cpu",
        "tensorflow",
        "keras",
        "numpy",
        "psutil",
        "nbformat",
        "ipython",
    }
    for heavy in ("otter-grader", "pytest", "scikit-learn", "matplotlib", "pandas", "seaborn"):
        assert heavy not in lean and any(l.startswith(heavy) for l in full), heavy
