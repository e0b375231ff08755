"""Fault-case submissions for the sandbox and the engine.

:func:`build_faults` writes every case under a destination folder and returns
``{case id: path}``; a path is a submission as the engine takes it (a notebook,
or a folder holding one). The expected outcome of each case is in
``tests/faults/expected.yaml`` (:func:`expected`): the submission status, and
for graded ones each question's status and score (``max`` = every point of the
selected checks, ``0`` = none).

The notebooks are the student template (``student_template/resnet_a_la_main.ipynb``)
with its three stubs replaced by the reference solution (or by a faulty
version), so they also carry the template's data loading, training and
``grader.check`` cells that grading must skip. When the template is absent, a
small notebook of the same shape is built instead.
"""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "student_template" / "resnet_a_la_main.ipynb"
SOLUTION = ROOT / "solutions" / "resnet_a_la_main.py"
NOTEBOOK = "resnet_a_la_main.ipynb"
FUNCTIONS = ("ResidualBlock", "build_resnet", "build_cnn")


def reference_functions() -> dict[str, str]:
    """Source of each reference function, ``{name: "def name(...): ..."}``."""
    text = SOLUTION.read_text(encoding="utf-8")
    tree = ast.parse(text)
    return {
        node.name: ast.get_source_segment(text, node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def _inject(source: str, code: str) -> str:
    """Insert ``code`` (indented as the function body) right after the docstring."""
    tree = ast.parse(source)
    func = tree.body[0]
    first = func.body[1] if isinstance(func.body[0], ast.Expr) else func.body[0]
    lines = source.splitlines()
    indent = " " * first.col_offset
    block = textwrap.indent(textwrap.dedent(code).strip("\n"), indent).splitlines()
    lines[first.lineno - 1 : first.lineno - 1] = block
    return "\n".join(lines)


def _fallback_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# ResNet à la main"),
        nbformat.v4.new_code_cell("import numpy as np\nfrom tensorflow import keras\n"),
        nbformat.v4.new_code_cell(
            "(X_train, y_train), (X_test, y_test) = keras.datasets.fashion_mnist.load_data()\n"
        ),
        nbformat.v4.new_code_cell(
            "def ResidualBlock(input, **kwargs):\n    raise NotImplementedError\n"
        ),
        nbformat.v4.new_code_cell('grader.check("q1")'),
        nbformat.v4.new_code_cell(
            "def build_resnet(input_shape=(28, 28, 1), num_classes=10):\n"
            "    raise NotImplementedError\n"
        ),
        nbformat.v4.new_code_cell("model = build_resnet()\nmodel.fit(X_train, y_train)\n"),
        nbformat.v4.new_code_cell(
            "def build_cnn(input_shape=(28, 28, 1), num_classes=10):\n"
            "    raise NotImplementedError\n"
        ),
    ]
    return nb


def _template():
    if TEMPLATE.is_file():
        return nbformat.read(TEMPLATE, as_version=4)
    return _fallback_notebook()


def make_notebook(functions: dict[str, str | None] | None = None, extra_cells=()) -> dict:
    """The template with some stubs replaced.

    Args:
        functions: ``{name: source}``: the cell defining ``name`` gets
            ``source`` instead (None deletes the cell's definition, leaving a
            comment). Names not given keep the template's stub.
        extra_cells: code sources appended before the last cell.

    Returns:
        An nbformat notebook node.
    """
    nb = _template()
    functions = functions or {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for name, source in functions.items():
            if cell.source.lstrip().startswith(f"def {name}("):
                cell.source = source if source is not None else f"# {name} : à faire\n"
    for src in extra_cells:
        nb.cells.insert(len(nb.cells) - 1, nbformat.v4.new_code_cell(src))
    return nb


def reference_notebook() -> dict:
    """The template filled with the reference solution."""
    return make_notebook(reference_functions())


def fault_notebooks() -> dict[str, dict]:
    """Every notebook-shaped fault case, ``{case id: notebook}``."""
    ref = reference_functions()
    cases = {"reference": make_notebook(ref)}
    cases["infinite_loop_q1"] = make_notebook(
        {
            **ref,
            "ResidualBlock": _inject(
                ref["ResidualBlock"],
                """
            while True:
                pass
        """,
            ),
        }
    )
    cases["memory_hog_q2"] = make_notebook(
        {
            **ref,
            "build_resnet": _inject(
                ref["build_resnet"],
                """
            import numpy as np
            hog = np.ones(20 * 1024 ** 3 // 8)  # 20 Go
        """,
            ),
        }
    )
    cases["memory_hog_shared_q2"] = make_notebook(
        {
            **ref,
            "build_resnet": _inject(
                ref["build_resnet"],
                """
            import mmap
            hog = mmap.mmap(-1, 20 * 1024 ** 3)  # 20 Go partagés : hors RLIMIT_DATA
            chunk = b"x" * (64 * 1024 ** 2)
            for start in range(0, len(hog), len(chunk)):
                hog[start:start + len(chunk)] = chunk
        """,
            ),
        }
    )
    cases["sys_exit_q2"] = make_notebook(
        {
            **ref,
            "build_resnet": _inject(
                ref["build_resnet"],
                """
            import sys
            sys.exit(3)
        """,
            ),
        }
    )
    cases["os_exit_q3"] = make_notebook(
        {
            **ref,
            "build_cnn": _inject(
                ref["build_cnn"],
                """
            import os
            os._exit(0)
        """,
            ),
        }
    )
    cases["segfault_q3"] = make_notebook(
        {
            **ref,
            "build_cnn": _inject(
                ref["build_cnn"],
                """
            import ctypes
            ctypes.string_at(0)
        """,
            ),
        }
    )
    cases["syntax_error_q3"] = make_notebook(
        {
            **ref,
            "build_cnn": ref["build_cnn"].replace(
                "def build_cnn(input_shape=(28, 28, 1), num_classes=10):",
                "def build_cnn(input_shape=(28, 28, 1), num_classes=10)",
                1,
            ),
        }
    )
    cases["missing_q2"] = make_notebook({**ref, "build_resnet": None})
    cases["dropped_global_q2"] = make_notebook(
        {
            **ref,
            "build_resnet": ref["build_resnet"].replace(
                "inputs = keras.layers.Input(shape=input_shape)",
                "inputs = keras.layers.Input(shape=X_train.shape[1:])",
                1,
            ),
        }
    )
    # the pattern issue 13 reports: the notebook-variable policy names X_train on every path
    cases["notebook_variable_q3"] = make_notebook(
        {**ref, "build_cnn": _set_input_shape(ref["build_cnn"], "X_train.shape[1:]")}
    )
    return cases


def _set_input_shape(source: str, expression: str) -> str:
    """``source`` with its ``Input(shape=input_shape)`` reading ``expression`` instead."""
    new = source.replace("shape=input_shape", f"shape={expression}", 1)
    assert new != source, "the reference build_cnn no longer uses shape=input_shape"
    return new


def build_faults(dest_dir) -> dict[str, Path]:
    """Write every fault case under ``dest_dir``.

    Args:
        dest_dir: destination folder (created).

    Returns:
        ``{case id: path}``: notebooks are ``<id>/resnet_a_la_main.ipynb``
        folders (a cloned repository), except ``invalid_json`` (a bare
        ``.ipynb`` file) and ``empty_dir`` (an empty folder).
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for case, nb in fault_notebooks().items():
        folder = dest / case
        folder.mkdir(exist_ok=True)
        nbformat.write(nb, folder / NOTEBOOK)
        paths[case] = folder
    # blank template + planted tests, conftest, results.json and a boast
    planted = dest / "planted_tests"
    (planted / "tests").mkdir(parents=True, exist_ok=True)
    nb = make_notebook(extra_cells=['print("All tests passed!")'])
    nbformat.write(nb, planted / NOTEBOOK)
    (planted / "tests" / "q1.py").write_text(
        'test = {"name": "q1", "points": 7, "suites": [{"cases": [{"code": ">>> True\\nTrue"}]}]}\n',
        encoding="utf-8",
    )
    (planted / "conftest.py").write_text(
        "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n",
        encoding="utf-8",
    )
    (planted / "results.json").write_text(
        json.dumps(
            {
                "score": 20,
                "tests": [
                    {"name": q, "score": 7, "max_score": 7, "output": "All tests passed!"}
                    for q in ("q1", "q2", "q3")
                ],
            }
        ),
        encoding="utf-8",
    )
    paths["planted_tests"] = planted
    bad = dest / "invalid_json.ipynb"
    bad.write_text(
        '{"cells": [ {"cell_type": "code", "source": "def ResidualBlock(', encoding="utf-8"
    )
    paths["invalid_json"] = bad
    empty = dest / "empty_dir"
    empty.mkdir(exist_ok=True)
    paths["empty_dir"] = empty
    return paths


def expected() -> dict:
    """The expected outcomes (tests/faults/expected.yaml), ``{case id: dict}``."""
    import yaml

    return yaml.safe_load((Path(__file__).with_name("expected.yaml")).read_text(encoding="utf-8"))
