"""Student-facing behaviour of issue 13: notebook-variable policy, fresh notebook results,
messages (rounded numbers, inner activations, translated Keras errors, clean unloadable
messages, silenced Keras warnings, complete English version).

Each behaviour has a wrong variant (fails with the message) and a correct one (passes).
"""

import re
import textwrap
import warnings

import numpy as np
import pytest

import autograder.hidden  # noqa: F401  (registers the hidden checks)
from autograder.public.checks import registry, run_checks
from autograder.public.load import roundtrip
from autograder.public.notebook import evaluation, format_report, results, verifier
from autograder.public.probe import ProbeFailure, explain_name_errors, probe

IMPORTS = "import numpy as np\nimport keras\nfrom keras import layers\n"

BLOCK = """
def ResidualBlock(input, **kwargs):
    x = layers.Conv2D(padding="same", **kwargs)(input)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(padding="same", **kwargs)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Add()([input, x])
    return layers.ReLU()(x)
"""
# activation inside the first Conv2D and no separate ReLU
BLOCK_INNER_RELU = BLOCK.replace(
    'layers.Conv2D(padding="same", **kwargs)(input)',
    'layers.Conv2D(padding="same", activation="relu", **kwargs)(input)',
).replace("    x = layers.ReLU()(x)\n    x = layers.Conv2D", "    x = layers.Conv2D")
BLOCK_VALID = BLOCK.replace('padding="same", ', "")

CNN = """
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    inputs = layers.Input(shape=SHAPE)
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))
"""
CNN_DATA = CNN.replace("SHAPE", "X_train.shape[1:]")
CNN_OK = CNN.replace("SHAPE", "input_shape")
DATA_CELL = "X_train = scaler.fit_transform(X_raw)"

FRENCH = re.compile(r"\b(attendu|reçu|Piste|Vérifiez|votre|vos)\b")
LONG_FLOAT = re.compile(r"\d\.\d{6,}")


def namespace(*cells, history=True, data=False):
    """A notebook's globals after running ``cells`` (``In`` holds them when ``history``)."""
    ns = {"__name__": "__main__"}
    exec(IMPORTS, ns)
    if data:
        ns["X_train"] = np.zeros((4, 28, 28, 1), dtype="float32")
    for cell in cells:
        if cell != DATA_CELL:
            exec(textwrap.dedent(cell), ns)
    if history:
        ns["In"] = ["", IMPORTS, *cells]
    return ns


def run_cell(ns, cell):
    """Run one more cell in the notebook's kernel (IPython appends it to ``In``)."""
    exec(textwrap.dedent(cell), ns)
    ns["In"].append(cell)


def results_by_id(question, ns, visibility=("public", "hidden")):
    return {r.id: r for r in results(question, ns, visibility)}


# ---------------------------------------------------------------- item 2: notebook variables

NOTEBOOK_VARIABLE = "reçu : une lecture de la variable `X_train`"


def test_extraction_lists_notebook_variables():
    from autograder.public.extract import extract_sources

    ex = extract_sources([(1, IMPORTS), (2, DATA_CELL), (3, CNN_DATA), (4, "SHAPE = (28, 28, 1)")])
    assert ex.variables == ["X_train"]
    assert "SHAPE" in ex.defined and "build_cnn" in ex.defined


def test_probe_names_the_variable_and_the_parameter():
    ns = namespace(CNN_DATA, history=False)
    ns["build_cnn"] = explain_name_errors(ns["build_cnn"], {"X_train": "…"}, ["X_train"])
    arts = probe("q3", ns)
    failure = arts["model"]
    assert isinstance(failure, ProbeFailure) and failure.kind == "notebook-variable"
    assert NOTEBOOK_VARIABLE in failure.message_fr
    assert "`input_shape`" in failure.hint_fr and "`input_shape`" in failure.hint_en
    assert not FRENCH.search(failure.message_en + failure.hint_en)


def test_verifier_applies_the_extraction_rule():
    """In the notebook X_train exists, but the diagnosis is the grader's."""
    wrong = namespace(DATA_CELL, CNN_DATA, data=True)
    with pytest.raises(AssertionError, match="variable `X_train`"):
        verifier("q3", wrong, quiet=True)
    r = results_by_id("q3", wrong, ("public",))["q3.output"]
    assert NOTEBOOK_VARIABLE in r.message and "`input_shape`" in r.hint
    right = namespace(DATA_CELL, CNN_OK, data=True)
    assert all(r.passed for r in verifier("q3", right, quiet=True))


def test_assert_check_without_history_reads_the_saved_notebook(tmp_path, monkeypatch):
    """No IPython history: the saved notebook of the current directory is evaluated."""
    import nbformat

    from autograder.public.notebook import assert_check

    monkeypatch.chdir(tmp_path)
    ns = namespace(CNN_OK, history=False, data=True)  # the live namespace is not read
    with pytest.raises(AssertionError, match="introuvable"):
        assert_check("q3.output", ns)
    for cnn, passes in ((CNN_DATA, False), (CNN_OK, True)):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c) for c in (IMPORTS, DATA_CELL, cnn)]
        nbformat.write(nb, tmp_path / "resnet_a_la_main.ipynb")
        if passes:
            assert assert_check("q3.output", ns).passed
        else:
            with pytest.raises(AssertionError, match="variable `X_train`"):
                assert_check("q3.output", ns)


def test_master_example_cell_does_not_read_data_shape():
    import json
    from pathlib import Path

    nb = json.loads(
        (Path(__file__).resolve().parents[2] / "assignment" / "resnet_a_la_main.ipynb").read_text(
            encoding="utf-8"
        )
    )
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any("shape=X_train.shape" in c for c in code)


# ---------------------------------------------------------------- item 4: fresh results


def test_verifier_probes_again_after_a_fix():
    ns = namespace(BLOCK_VALID, open_part("resnet_builder"))
    with pytest.raises(AssertionError, match="formes"):
        verifier("q2", ns, quiet=True)
    run_cell(ns, BLOCK)  # the student fixes ResidualBlock and re-runs its cell only
    assert all(r.passed for r in verifier("q2", ns, quiet=True))


def test_verifier_sees_a_fixed_helper():
    helper_wrong = "def entree(shape):\n    return layers.Input(shape=(28, 28, 1))\n"
    helper_right = "def entree(shape):\n    return layers.Input(shape=shape)\n"
    cnn = CNN_OK.replace("layers.Input(shape=input_shape)", "entree(input_shape)")
    ns = namespace(helper_wrong, cnn)
    with pytest.raises(AssertionError, match="32, 32, 3"):
        verifier("q3", ns, quiet=True)
    run_cell(ns, helper_right)
    assert all(r.passed for r in verifier("q3", ns, quiet=True))


def test_cache_reused_when_nothing_changed():
    ns = namespace(CNN_OK)
    first = evaluation(ns, ["q3"])
    assert evaluation(ns, ["q3"]) is first
    run_cell(ns, "print(build_cnn)")  # a cell without definitions: same code
    assert evaluation(ns, ["q3"]) is first
    run_cell(ns, "SHAPE = 1")  # new code: evaluated again
    assert evaluation(ns, ["q3"]) is not first


def open_part(name):
    from pathlib import Path

    return (Path(__file__).resolve().parents[1] / "gallery" / "parts" / f"{name}.py").read_text(
        encoding="utf-8"
    )


# ---------------------------------------------------------------- item 6: messages


def test_numbers_are_rounded():
    from autograder.public.checks.public import number, number_list

    assert number_list(np.float32([-0.176, 1.0, 2.5e-5])) == "[-0.176, 1, 2.5e-05]"
    assert number(np.float32(0.1)) == "0.1"
    logits = CNN_OK.replace('activation="softmax"', "")
    r = results_by_id("q3", namespace(logits), ("public",))["q3.output"]
    assert not r.passed and "probabilités" in r.message
    assert not LONG_FLOAT.search(r.message + (r.message_en or "")), r.message
    assert results_by_id("q3", namespace(CNN_OK), ("public",))["q3.output"].passed


def test_activation_inside_conv_is_named():
    wrong = results_by_id("q1", namespace(BLOCK_INNER_RELU))
    assert 'activation="relu" dans la Conv2D n°1' in wrong["q1.order"].message
    assert 'Conv2D(activation="relu")' in wrong["q1.order"].message
    assert 'activation="relu" inside Conv2D #1' in wrong["q1.order"].message_en
    assert not wrong["q1.sequence"].passed and "activation" in wrong["q1.sequence"].message
    right = results_by_id("q1", namespace(BLOCK))
    assert right["q1.order"].passed and right["q1.sequence"].passed


def test_padding_valid_error_is_translated():
    wrong = probe("q1", namespace(BLOCK_VALID))["block_8x8x4"]
    assert isinstance(wrong, ProbeFailure)
    assert "additionne des tenseurs de même forme" in wrong.message_fr
    assert "reçu : une addition de tenseurs de formes (8, 8, 4) et" in wrong.message_fr
    assert "ValueError" not in wrong.message_fr and "Inputs have" not in wrong.message_fr
    assert wrong.hint_fr and "padding" not in wrong.hint_fr  # a hint, not the answer
    assert not FRENCH.search(wrong.message_en + wrong.hint_en)
    empty = probe("q1", namespace(BLOCK_VALID))["block_kwargs"]  # 7x7 -> 3x3, then a 5x5 kernel
    assert (
        "reçu : une convolution de noyau 5 × 5 appliquée à une image réduite à 3 × 3"
        in empty.message_fr
        and "ValueError" not in empty.message_fr
    )
    assert not FRENCH.search(empty.message_en + empty.hint_en)
    assert not isinstance(probe("q1", namespace(BLOCK))["block_8x8x4"], ProbeFailure)
    assert not isinstance(probe("q1", namespace(BLOCK))["block_kwargs"], ProbeFailure)


def test_lambda_message_is_clean(tmp_path):
    lam = BLOCK.replace(
        "layers.Add()([input, x])", "layers.Lambda(lambda t: t[0] + t[1])([input, x])"
    )
    wrong = roundtrip(probe("q1", namespace(lam)), tmp_path / "a", "q1")["block_8x8x4"]
    assert isinstance(wrong, ProbeFailure) and wrong.kind == "unloadable"
    assert "reçu : une couche Lambda" in wrong.message_fr
    assert wrong.message_fr.endswith(".") and "…" not in wrong.message_fr
    assert "a Lambda layer" in wrong.message_en
    right = roundtrip(probe("q1", namespace(BLOCK)), tmp_path / "b", "q1")["block_8x8x4"]
    assert not isinstance(right, ProbeFailure)


def test_input_structure_warning_silenced(tmp_path):
    listed = CNN_OK.replace("keras.Model(inputs,", "keras.Model([inputs],")
    ns = namespace(listed)
    arts = roundtrip(probe("q3", ns), tmp_path, "q3")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        arts["model"](np.zeros((1, 28, 28, 1), "float32"))  # Keras warns outside the checks
    assert any("structure" in str(w.message) for w in seen)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        checked = run_checks("q3", arts, ("public",))
    assert all(r.passed for r in checked)
    assert not [w for w in seen if "structure" in str(w.message)]


def test_english_version_is_complete(capsys):
    for spec in registry():
        assert spec["id"] and spec.get("manual") is not None
    from autograder.public.checks.base import specs

    assert all(s.title_en and not FRENCH.search(s.title_en) for s in specs())
    found = results("q1", namespace(BLOCK_INNER_RELU), ("public", "hidden"))
    failed = [r for r in found if not r.passed]
    assert failed
    for r in failed:
        assert r.title_en and r.message_en and r.hint_en, r.id
        assert not FRENCH.search(r.title_en + r.message_en + r.hint_en), (r.id, r.message_en)
    report = format_report(found, "en")
    assert "Hint: " in report and "Piste" not in report and not FRENCH.search(report)
    from autograder.public.cli import _print_checks

    _print_checks(found, "nb.ipynb", "en", "q1")
    out = capsys.readouterr().out
    assert "Hint: " in out and not FRENCH.search(out)
    _print_checks(found, "nb.ipynb", "fr", "q1")
    assert "Piste : " in capsys.readouterr().out


# ---------------------------------------------------------------- end to end (slow)


# ``check`` and the notebook give the same diagnosis for X_train (and for every
# other case): tests/test_paths.py, the five paths on reject_notebook_variable.


@pytest.mark.slow
def test_nbclient_fix_and_rerun(tmp_path):
    """A student fixes ResidualBlock, re-runs its cell, then the q2 check cell: fresh result."""
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    root = Path(__file__).resolve().parents[2]
    np.save(tmp_path / "x.npy", np.zeros((2, 28, 28, 1), "float32"))
    resnet = open_part("resnet_builder").replace(
        "keras.Model(inputs=inputs, outputs=outputs)",
        "keras.Model(inputs=[inputs], outputs=[outputs])",
    )
    cells = [
        f"import sys\nsys.path.insert(0, {str(root)!r})\n{IMPORTS}"
        "from autograder.public.notebook import verifier",
        BLOCK_VALID,
        resnet,
        'r = verifier("q2", raise_on_failure=False)',
        BLOCK,
        'r = verifier("q2", raise_on_failure=False)',
        'X_train = np.load("x.npy")',
        CNN_DATA,
        'r = verifier("q3", raise_on_failure=False)',
        CNN_OK,
        'r = verifier("q3", raise_on_failure=False)',
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()

    def text(i):
        return "".join(o.get("text", "") for o in nb.cells[i].outputs)

    assert "❌ q2.output" in text(3) and "formes" in text(3), text(3)
    assert "Total des vérifications publiques : 2/2" in text(5), text(5)
    assert "variable `X_train`" in text(8) and "`input_shape`" in text(8), text(8)
    assert "Total des vérifications publiques : 1/1" in text(10), text(10)
    for i in (3, 5):
        assert "structure of" not in text(i) and "UserWarning" not in text(i), text(i)


def test_english_for_probe_failures_and_runs_that_did_not_finish():
    from autograder.public.pipeline import _not_run_checks
    from autograder.public.sandbox import QuestionRun

    blank = namespace(
        "def build_resnet(input_shape=(28, 28, 1), num_classes=10):\n"
        "    raise NotImplementedError\n"
    )
    for ns in (blank, namespace()):  # not implemented, then missing
        found = results("q2", ns, ("public", "hidden"))
        assert found and not any(r.passed for r in found)
        for r in found:
            assert "attendu" in r.message and r.hint
            assert r.message_en and r.hint_en and not FRENCH.search(r.message_en + r.hint_en)
    for status in ("timeout", "memory", "crashed", "exited", "error"):
        run = QuestionRun(question="q1", status=status, message="attendu : …, reçu : …")
        for r in _not_run_checks(run, ("public",)):
            assert r.title_en and r.message_en and not FRENCH.search(r.message_en)
            assert (r.hint_en is None) == (not r.hint)
