"""The Gradescope / ``otter run`` autograder zip.

:func:`build_autograder_zip` wraps ``otter generate``: the otter tests of
``autograder/otter/`` (hidden ones included), the check library (the public
subpackage and the hidden checks, copied by
:func:`autograder.assign.copy_public_package`) under ``files/``, and an
environment pinned to the kit's ``requirements.txt`` on Python 3.11. Its
``setup.sh`` also puts Fashion-MNIST in Keras's cache when the Gradescope image
is built, and its ``run_otter.py`` deletes any ``autograder/`` or ``tests/``
folder a submission brings along before grading.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from autograder.assign import copy_public_package
from autograder.delivery.facts import ROOT

OTTER_DIR = ROOT / "autograder" / "otter"
DEFAULT_ZIP = ROOT / "build" / "autograder.zip"
KIT_REQUIREMENTS = ROOT / "requirements.txt"
PYTHON_VERSION = "3.11"

#: Kit requirements that the grading image does not need (otter pins its own version;
#: the others are the maintainers' test and lint tools).
ZIP_DROP_REQUIREMENTS = {"otter-grader", "pytest", "pytest-xdist", "ruff"}


RUN_OTTER_PY = '''\
"""Runs Otter-Grader's autograding (ResNet à la main).

Before grading, deletes any ``autograder/`` or ``tests/`` a submission brings
along: otter would otherwise keep the submission's copy of the check library.
"""
import os
import shutil

AUTOGRADER_DIR = os.environ.get("RESNET_AUTOGRADER_DIR", "{autograder_dir}")


def remove_submitted_library(autograder_dir):
    """Delete ``autograder`` and ``tests`` from the submission folder, links included."""
    for name in ("autograder", "tests"):
        path = os.path.join(autograder_dir, "submission", name)
        if os.path.islink(path) or os.path.isfile(path):
            os.remove(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)


if __name__ == "__main__":
    remove_submitted_library(AUTOGRADER_DIR)
    from otter.run.run_autograder import main as run_autograder
    run_autograder(AUTOGRADER_DIR)
'''

SETUP_SH_EXTRA = """
# ResNet à la main: put Fashion-MNIST in Keras's cache while the image is built,
# so that grading never downloads it (the loader verifies its checksums).
cd {autograder_dir}/source/files && mamba run -n otter-env python -c \\
    "from autograder.public.data import load_fashion_mnist; load_fashion_mnist()" || true
"""


def _otter_tests_dir(otter_dir: Path) -> Path:
    tests = otter_dir / "tests"
    return tests if tests.is_dir() else otter_dir


def zip_requirements(requirements: str | os.PathLike = KIT_REQUIREMENTS) -> list[str]:
    """Pinned requirement lines of the kit that the grading image installs.

    Args:
        requirements: the kit's ``requirements.txt``.

    Returns:
        Requirement lines (comments and :data:`ZIP_DROP_REQUIREMENTS` removed).
    """
    keep = []
    for line in Path(requirements).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name = line.split("[")[0]
        for sep in ("==", ">=", "<=", "~=", "<", ">", "!="):
            name = name.split(sep)[0]
        if name.strip().lower().replace("_", "-") not in ZIP_DROP_REQUIREMENTS:
            keep.append(line)
    return keep


@contextlib.contextmanager
def _chdir(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _rewrite(zip_path: Path, replace: dict[str, str], append: dict[str, str]) -> None:
    """Replace or extend text entries of a zip file in place."""
    buf = io.BytesIO()
    with zipfile.ZipFile(zip_path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename in replace:
                data = replace[info.filename].encode("utf-8")
            elif info.filename in append:
                data = data + append[info.filename].encode("utf-8")
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    zip_path.write_bytes(buf.getvalue())


def build_autograder_zip(
    out: str | os.PathLike = DEFAULT_ZIP,
    otter_dir: str | os.PathLike = OTTER_DIR,
    requirements: str | os.PathLike = KIT_REQUIREMENTS,
) -> Path:
    """Build the Gradescope / ``otter run`` autograder zip.

    Args:
        out: where to write the zip (its folder is created).
        otter_dir: the otter artefacts written by ``make assign`` (``tests/*.py``,
            hidden tests included, and an optional ``otter_config.json``).
        requirements: the kit's pinned requirements.

    Returns:
        The path of the zip.

    Raises:
        FileNotFoundError: when ``otter_dir`` holds no test file (run ``make assign``).
    """
    from otter.generate import main as otter_generate

    out = Path(out).resolve()
    otter_dir = Path(otter_dir).resolve()
    tests = sorted(_otter_tests_dir(otter_dir).glob("*.py"))
    tests = [t for t in tests if t.name != "__init__.py"]
    if not tests:
        raise FileNotFoundError(f"no otter test in {otter_dir}: run `make assign` first")
    config = {"lang": "python"}
    config_file = otter_dir / "otter_config.json"
    if config_file.is_file():
        config.update(json.loads(config_file.read_text(encoding="utf-8")))
    for key in ("token", "course_id", "assignment_id"):  # never ship credentials
        config.pop(key, None)
    # otter's stdout lists every test, hidden ones included: keep it for instructors.
    config["show_stdout"] = False
    autograder_dir = config.get("autograder_dir", "/autograder")

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autograder-zip-") as tmp:
        stage = Path(tmp)
        (stage / "tests").mkdir()
        for t in tests:
            shutil.copy2(t, stage / "tests" / t.name)
        copy_public_package(stage, extra=("hidden",))
        (stage / "requirements.txt").write_text(
            "\n".join(zip_requirements(requirements)) + "\n", encoding="utf-8"
        )
        (stage / "otter_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        with _chdir(stage):
            otter_generate(
                tests_dir="tests",
                output_path=str(out),
                config="otter_config.json",
                requirements="requirements.txt",
                no_environment=True,
                files=["autograder"],
                python_version=PYTHON_VERSION,
            )
    _rewrite(
        out,
        replace={"run_otter.py": RUN_OTTER_PY.replace("{autograder_dir}", autograder_dir)},
        append={"setup.sh": SETUP_SH_EXTRA.replace("{autograder_dir}", autograder_dir)},
    )
    return out
