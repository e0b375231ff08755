"""Extraction: notebook -> definition-only code (no TensorFlow needed here)."""

import ast

import nbformat
import pytest

from autograder.public.extract import Extracted, InvalidNotebook, NotebookError, extract_notebook
from autograder.public.untrusted import execute
from tests.faults import reference_notebook


def _write(tmp_path, *sources, name="nb.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# titre")]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def _kept_calls(code: Extracted) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code.code())):
        if isinstance(node, ast.Call):
            f = node.func
            names.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
    return names


def test_reference_notebook_keeps_definitions_and_drops_training(tmp_path):
    path = tmp_path / "resnet_a_la_main.ipynb"
    nbformat.write(reference_notebook(), path)
    code = extract_notebook(path)
    assert {"ResidualBlock", "build_resnet", "build_cnn"} <= code.defined
    assert "keras" in code.defined
    assert code.problems == []
    text = code.code()
    for forbidden in (
        "load_data",
        "load_fashion_mnist",
        "grader.check",
        "verifier(",
        "summary()",
        "historique_resnet",
    ):
        # inside a kept def the text may appear; at top level it must not
        top = [ln for ln in text.splitlines() if not ln.startswith((" ", "\t", "#"))]
        assert not any(forbidden in ln for ln in top), forbidden
    assert "X_train" in code.unavailable and "cellule" in code.unavailable["X_train"]
    assert "historique_resnet" in code.unavailable
    # the kept code runs without TensorFlow-heavy work and defines the functions
    ns = {}
    errors = execute(Extracted.from_dict(code.to_dict()), ns)
    assert errors == []
    assert callable(ns["build_resnet"]) and callable(ns["ResidualBlock"])


def test_magics_shell_escapes_and_cell_magics(tmp_path):
    path = _write(
        tmp_path,
        "%matplotlib inline\nimport math\n!pip install rien\nfichiers = !ls\n",
        "%%time\nTAILLE = 3\n",
        "%%bash\necho bonjour\n",
        "%%capture\nAUTRE = 4\n",
    )
    code = extract_notebook(path)
    assert code.defined == {"math", "TAILLE", "AUTRE"}
    assert "get_ipython" not in code.code()
    assert "fichiers" in code.unavailable


def test_constants_kept_and_dependencies_dropped(tmp_path):
    path = _write(
        tmp_path,
        "from functools import partial\nfrom tensorflow import keras\n"
        "(X_train, y_train), _ = keras.datasets.fashion_mnist.load_data()\n",
        "INPUT_SHAPE = (28, 28, 1)\nFORME = X_train.shape[1:]\n"
        "conv_kwargs = dict(filters=32, kernel_size=3)\n"
        "Conv = partial(keras.layers.Conv2D, padding='same')\n"
        "fabrique = lambda: build_resnet()\n",
        "def build_resnet(input_shape=INPUT_SHAPE):\n    return input_shape\n",
        "model = build_resnet()\nalias = build_resnet\nm2 = alias()\nm3 = fabrique()\n"
        "history = model.fit(X_train)\nkeras.Model.fit = lambda *a, **k: None\n"
        "for e in range(3):\n    perte = e\n"
        "try:\n    import keras as k3\nexcept ImportError:\n    pass\n"
        "if True:\n    print('x')\n",
    )
    code = extract_notebook(path)
    kept = code.defined
    for name in (
        "INPUT_SHAPE",
        "conv_kwargs",
        "Conv",
        "fabrique",
        "build_resnet",
        "alias",
        "k3",
        "partial",
        "keras",
    ):
        assert name in kept, name
    for name in ("X_train", "FORME", "model", "m2", "m3", "history", "perte"):
        assert name not in kept and name in code.unavailable, name
    assert "fit" not in _kept_calls(code) and "print" not in _kept_calls(code)
    assert "FORME" in code.unavailable and "cellule 3" in code.unavailable["FORME"]


def test_syntax_error_costs_only_its_cell(tmp_path):
    path = _write(
        tmp_path,
        "def ResidualBlock(x):\n    return x\n",
        "N = 3\ndef build_cnn(a\n    return a\n",
        "def build_resnet():\n    return 1\n",
    )
    code = extract_notebook(path)
    assert len(code.problems) == 1
    problem = code.problems[0]
    assert problem.cell == 3 and problem.line is not None
    assert "build_cnn" in problem.names and "N" in problem.names
    assert {"ResidualBlock", "build_resnet"} <= code.defined
    assert "build_cnn" not in code.defined
    msg = code.why_missing("build_cnn")
    assert "la cellule 3" in msg and "erreur de syntaxe (ligne" in msg
    assert "introuvable" in code.why_missing("build_tout")


@pytest.mark.parametrize(
    "content, kind",
    [
        ('{"cells": [ {"cell_type": ', InvalidNotebook),
        ("[1, 2, 3]", InvalidNotebook),
        ('{"metadata": {}}', InvalidNotebook),
    ],
)
def test_invalid_notebooks_raise_french_errors(tmp_path, content, kind):
    path = tmp_path / "resnet_a_la_main.ipynb"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(kind) as info:
        extract_notebook(path)
    assert "notebook" in str(info.value) or "JSON" in str(info.value)
    assert info.value.message == str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(NotebookError) as info:
        extract_notebook(tmp_path / "absent.ipynb")
    assert not isinstance(info.value, InvalidNotebook)
    assert "introuvable" in str(info.value)


def test_valid_notebook_is_not_rejected(tmp_path):
    code = extract_notebook(_write(tmp_path, "X = 1\n"))
    assert code.defined == {"X"}


def test_execute_records_errors_and_explains_dropped_globals(tmp_path):
    path = _write(
        tmp_path,
        "donnees = open('absent.csv').read()\n",
        "def utilise():\n    return donnees\ndef defaut(x=donnees):\n    return x\nok = 1\n",
        "casse = 1 / 0\nsuite = 2\n",
    )
    code = extract_notebook(path)
    ns = {}
    errors = execute(code, ns)
    # the failing default argument and the division are recorded, the rest runs
    assert [(e["cell"], e["names"]) for e in errors] == [(3, ["defaut"]), (4, ["casse"])]
    assert "cellule 2" in errors[0]["error"]
    assert ns["ok"] == 1 and ns["suite"] == 2 and "casse" not in ns
    with pytest.raises(NameError) as info:
        ns["utilise"]()
    assert "n'exécute pas" in str(info.value) and "donnees" in str(info.value)
    assert "defaut" in code.unavailable and "cellule 3" in code.unavailable["defaut"]


def test_roundtrip_dict(tmp_path):
    code = extract_notebook(_write(tmp_path, "def f():\n    return 1\n", "def g(:\n"))
    again = Extracted.from_dict(code.to_dict())
    assert again == code and again.code() == code.code()


def test_execute_binds_plotting_imports_lazily(tmp_path):
    path = _write(
        tmp_path, "import IPython as ip\nfrom IPython import display as affichage\nimport json\n"
    )
    ns = {}
    assert execute(extract_notebook(path), ns) == []
    assert type(ns["ip"]).__name__ == "_Lazy" and type(ns["affichage"]).__name__ == "_Lazy"
    assert type(ns["json"]).__name__ == "module"
    import IPython
    from IPython import display

    assert ns["ip"].version_info == IPython.version_info  # loaded on first use
    assert ns["affichage"].display is display.display
