"""Grade the gallery in-process (training checks aside) and compare with the golden outcomes."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.public.checks import max_points, registry, run_checks
from autograder.public.checks.base import CheckResult
from tests.gallery import CHECK_IDS, build_gallery, case_ids, load_golden, notebook_code
from tests.gallery.grading import grade

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ("q2.accuracy", "q3.accuracy")  # exercised in tests/hidden/test_training.py
GOLDEN = load_golden()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    paths = build_gallery(tmp_path_factory.mktemp("gallery"))
    memo = {}
    out = {
        cid: grade(paths[cid], isolate=GOLDEN[cid]["isolate"], skip=TRAINING, memo=memo)
        for cid in case_ids()
    }
    out["_paths"] = paths
    return out


def test_gallery_size_and_golden_complete():
    assert len(case_ids()) >= 30
    assert set(GOLDEN) == set(case_ids())
    auto = [s["id"] for s in registry() if not s["manual"]]
    assert sorted(auto) == sorted(CHECK_IDS)


@pytest.mark.parametrize("case", case_ids())
def test_gallery_case(graded, case):
    got, want = graded[case], GOLDEN[case]
    assert got["status"] == want["status"]
    diffs = [
        f"{cid}: expected {'pass' if want['checks'][cid] else 'fail'}, got "
        f"{'pass' if r.passed else 'fail'} ({r.message})"
        for cid, r in got["results"].items()
        if r.passed != want["checks"][cid]
    ]
    assert not diffs, "\n".join(diffs)
    if want["status"] == "graded":
        assert set(got["results"]) == set(CHECK_IDS) - set(TRAINING)


def test_every_check_fails_somewhere_and_passes_somewhere(graded):
    for cid in CHECK_IDS:
        golden = [g["checks"][cid] for g in GOLDEN.values() if g["checks"]]
        assert True in golden and False in golden, f"{cid}: golden never passes or never fails"
        if cid in TRAINING:
            continue
        seen = {graded[c]["results"][cid].passed for c in case_ids() if graded[c]["results"]}
        assert seen == {True, False}, f"{cid}: outcomes {seen}"


def test_failure_messages_are_french_and_precise(graded):
    count = 0
    for case in case_ids():
        for r in graded[case]["results"].values():
            if r.passed:
                assert r.points == r.max_points and r.hint == ""
                continue
            count += 1
            assert r.points == 0
            assert "attendu" in r.message and "reçu" in r.message, (case, r.id, r.message)
            assert r.hint and r.message_en and r.hint_en and r.title_en, (case, r.id)
            assert "Traceback" not in r.message
    assert count > 50


def test_specific_messages(graded):
    def msg(case, cid):
        return graded[case]["results"][cid].message

    assert "API fonctionnelle" in msg("reject_subclassed_layer", "q1.shape")
    assert "API fonctionnelle" in msg("reject_lambda_add", "q1.order")
    assert "activation" in msg("reject_conv_activation", "q1.sequence")
    assert "BatchNormalization après une ReLU" in msg("reject_bn_after_relu", "q1.order")
    assert "il manque une BatchNormalization" in msg("reject_missing_bn", "q1.order")
    assert "concaténation" in msg("reject_concatenate", "q1.order")
    assert "pas de ReLU après l'addition" in msg("reject_no_final_relu", "q1.order")
    assert "pré-activation" in msg("reject_preactivation", "q1.order")
    assert "goulot" in msg("reject_bottleneck", "q1.order")
    assert "projection" in msg("reject_projection", "q1.shortcut")
    assert "Conv2D" in msg("reject_wrong_skip", "q1.shortcut")
    assert "Conv2D n°2" in msg("reject_kwargs_first_conv_only", "q1.kwargs")
    assert "reçu : 1 bloc" in msg("reject_one_block", "q2.blocks")
    # issue 13: the q1 mistake is charged once; other messages translated or named
    assert "reçu : 1 bloc construit par votre ResidualBlock" in msg(
        "reject_conv_activation_one_block", "q2.blocks"
    )
    assert "autre jonction" in msg("reject_conv_activation_inline_blocks", "q2.blocks")
    assert "additionne des tenseurs de même forme" in msg("reject_padding_valid", "q1.shape")
    assert 'activation="relu" dans la Conv2D' in msg("reject_conv_activation", "q1.sequence")
    assert "probabilités" in msg("reject_logits", "q2.output")
    assert "jonction" in msg("reject_cnn_with_skips", "q3.no_skip")
    assert "pas encore implémentée" in msg("blank_template", "q2.output")
    assert "build_cnn" in msg("broken_missing_function", "q3.output")


def test_points_and_registry():
    assert max_points("q1", "public") == 3
    assert max_points("q2", "public") == 2
    assert max_points("q3", "public") == 1
    assert max_points() == 17 and max_points(include_manual=True) == 20
    ids = [s["id"] for s in registry()]
    assert len(ids) == len(set(ids)) and "q4.manual" in ids
    assert all(s["title"] and s["visibility"] in ("public", "hidden") for s in registry())
    assert run_checks("q4", {}, ("public", "hidden")) == []


def test_run_checks_never_raises():
    for q in ("q1", "q2", "q3"):
        results = run_checks(q, {"model": 42, "block_8x8x4": object()}, ("public", "hidden"))
        assert results and not any(r.passed for r in results)
        assert all("attendu" in r.message for r in results)
    r = run_checks("q1", {}, ("public",))[0]
    assert CheckResult.from_dict(r.to_dict()) == r


def test_notebook_helpers(graded):
    from autograder.public.notebook import assert_check, verifier

    def kernel(path):  # a notebook's kernel after "Run all": its history holds the cells
        return {"__name__": "__main__", "In": ["", *notebook_code(path)]}

    ns = kernel(graded["_paths"]["reference"])
    results = verifier("q2", ns, quiet=True)
    assert [r.id for r in results] == ["q2.output", "q2.params"] and all(r.passed for r in results)
    assert assert_check("q2.output", ns).passed
    blank = kernel(graded["_paths"]["reject_logits"])
    with pytest.raises(AssertionError, match="probabilités"):
        verifier("q2", blank, quiet=True)
    with pytest.raises(AssertionError, match="attendu"):
        assert_check("q2.params", blank)


def test_student_side_without_hidden_checks(tmp_path):
    """The public checks and the notebook helpers work with the public subpackage alone."""
    from autograder.assign import copy_public_package

    copy_public_package(tmp_path)
    shutil.copy(ROOT / "solutions" / "resnet_a_la_main.py", tmp_path / "ref.py")
    code = (
        "import ref\nfrom autograder.public.checks import hidden_available, max_points\n"
        "from autograder.public.notebook import verifier\n"
        "assert not hidden_available() and max_points() == 6\n"
        "r = verifier('q1', vars(ref))\nassert len(r) == 3 and all(x.passed for x in r)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "✅ q1.kwargs" in proc.stdout and "3/3" in proc.stdout
