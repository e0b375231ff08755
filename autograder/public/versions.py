"""Supported interpreters and tested library versions: the one source of these facts.

Shipped in the student template (standard library only, importable without
TensorFlow). ``make assign`` writes the student's ``requirements-checks.txt``
and ``pyproject.toml`` from :data:`CHECK_REQUIREMENTS` and
:data:`REQUIRES_PYTHON`; the generated GitHub Actions workflow and the
Classroom 50 autograder pin :data:`CI_PYTHON`. ``python -m autograder check``
calls :func:`environment_problems` first and prints its French messages.

Why bounded: the checks walk Keras graphs through private Keras 3 structures
(see ``autograder/public/graph.py``), tested only with the versions of
:data:`TESTED`; TensorFlow publishes no wheel for Python 3.14 in that range,
so pip cannot install the checks' requirements there.
"""

from __future__ import annotations

import sys

#: Python versions the checks support, as a PEP 440 specifier (``requires-python``).
REQUIRES_PYTHON = ">=3.11,<3.14"
PYTHON_MIN = (3, 11)
#: First unsupported minor version.
PYTHON_STOP = (3, 14)
#: The interpreter the generated workflows and the Classroom 50 runtime use.
CI_PYTHON = "3.12"

#: distribution -> (lowest tested version, first untested version), compared on (major, minor).
TESTED = {
    "tensorflow": ((2, 21), (2, 22)),
    "keras": ((3, 15), (3, 16)),
}

#: The requirements of ``python -m autograder check`` alone (GitHub Actions, Classroom 50).
#: ``tensorflow-cpu`` (no CUDA libraries) where it exists, ``tensorflow`` elsewhere.
CHECK_REQUIREMENTS = (
    'tensorflow-cpu>=2.21,<2.22; sys_platform == "linux" and platform_machine == "x86_64"',
    'tensorflow>=2.21,<2.22; sys_platform != "linux" or platform_machine != "x86_64"',
    "keras>=3.15,<3.16",
    "numpy>=1.26,<3",
    "psutil>=5.9",
    "nbformat>=5.9",
    "ipython>=8.18",
)

#: The distributions that provide the ``tensorflow`` module.
TENSORFLOW_DISTS = ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos")

CHECKS_FILE = "requirements-checks.txt"
SKIP_ENV = "AUTOGRADER_IGNORE_VERSIONS"


def _fmt(v) -> str:
    return ".".join(str(x) for x in v)


def _minor(version: str) -> tuple[int, int] | None:
    parts = []
    for piece in version.split(".")[:2]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            return None
        parts.append(int(digits))
    return (parts[0], parts[1]) if len(parts) == 2 else None


def _installed(dists) -> tuple[str, str] | None:
    from importlib import metadata

    for dist in dists:
        try:
            return dist, metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def python_problem(version_info=None, lang: str = "fr") -> str | None:
    """French (or English, ``lang="en"``) message when the interpreter is outside
    :data:`REQUIRES_PYTHON`, else None."""
    v = tuple(version_info or sys.version_info)[:2]
    if PYTHON_MIN <= v < PYTHON_STOP:
        return None
    if lang == "en":
        return (
            f"Python {_fmt(v)} is not supported by the checks: they need Python "
            f"{_fmt(PYTHON_MIN)} to {PYTHON_STOP[0]}.{PYTHON_STOP[1] - 1} (TensorFlow "
            f"{_fmt(TESTED['tensorflow'][0])} does not exist for Python {_fmt(v)}). Create "
            f"the environment with a supported version, for example: python{CI_PYTHON} -m "
            f"venv .venv, then pip install -r requirements.txt."
        )
    return (
        f"Python {_fmt(v)} n'est pas pris en charge par les vérifications : il faut "
        f"Python {_fmt(PYTHON_MIN)} à {PYTHON_STOP[0]}.{PYTHON_STOP[1] - 1} "
        f"(TensorFlow {_fmt(TESTED['tensorflow'][0])} n'existe pas pour "
        f"Python {_fmt(v)}). Créez l'environnement avec une version prise en charge, "
        f"par exemple : python{CI_PYTHON} -m venv .venv, puis "
        f"pip install -r requirements.txt."
    )


def library_problems(
    versions: dict[str, str | None] | None = None, lang: str = "fr"
) -> tuple[list[str], list[str]]:
    """Missing or untested TensorFlow / Keras.

    Args:
        versions: ``{"tensorflow": "2.21.0" | None, "keras": ...}`` to judge instead
            of the installed distributions (tests).
        lang: ``"fr"`` (default) or ``"en"``.

    Returns:
        ``(errors, warnings)``: French lines. An error means the checks cannot
        run (a library is missing); a warning means they run with a version
        they were not tested with.
    """
    if versions is None:
        tf = _installed(TENSORFLOW_DISTS)
        ks = _installed(("keras",))
        versions = {"tensorflow": tf[1] if tf else None, "keras": ks[1] if ks else None}
    errors, warnings = [], []
    for name in ("tensorflow", "keras"):
        found = versions.get(name)
        low, stop = TESTED[name]
        if found is None:
            errors.append(
                f"{name} is not installed: install the checks' dependencies with pip "
                f"install -r {CHECKS_FILE} (or pip install -r requirements.txt)."
                if lang == "en"
                else f"{name} n'est pas installé : installez les dépendances des "
                f"vérifications avec pip install -r {CHECKS_FILE} "
                f"(ou pip install -r requirements.txt)."
            )
            continue
        minor = _minor(found)
        if minor is None or not low <= minor < stop:
            warnings.append(
                f"Warning: {name} {found} is installed, but the checks are tested with "
                f"{name} {_fmt(low)}.x; a failure may come from this difference of version. "
                f"Install the intended versions: pip install -r {CHECKS_FILE}."
                if lang == "en"
                else f"Attention : {name} {found} est installé, mais les vérifications sont "
                f"testées avec {name} {_fmt(low)}.x ; un échec peut venir de cette différence "
                f"de version. Installez les versions prévues : pip install -r {CHECKS_FILE}."
            )
    return errors, warnings


def environment_problems(
    version_info=None, versions=None, lang: str = "fr"
) -> tuple[list[str], list[str]]:
    """Everything :func:`python_problem` and :func:`library_problems` report.

    Setting the environment variable ``AUTOGRADER_IGNORE_VERSIONS=1`` turns
    every error into a warning (maintainers trying a new version).

    Returns:
        ``(errors, warnings)``, French lines (English with ``lang="en"``).
    """
    import os

    errors, warnings = [], []
    problem = python_problem(version_info, lang)
    if problem:
        errors.append(problem)
    else:
        errors, warnings = library_problems(versions, lang)
    if os.environ.get(SKIP_ENV) == "1":
        return [], errors + warnings
    return errors, warnings


def requirements_text() -> str:
    """Text of the student's ``requirements-checks.txt``."""
    head = [
        "# Dépendances des seules vérifications automatiques (python -m autograder check),",
        "# installées par GitHub Actions et par Classroom 50. Le notebook complet demande",
        "# aussi requirements.txt (qui inclut ce fichier).",
        f"# Python pris en charge : {REQUIRES_PYTHON} (testé avec {CI_PYTHON}).",
        "# GENERATED by `make assign` from autograder/public/versions.py.",
    ]
    return "\n".join(head + list(CHECK_REQUIREMENTS)) + "\n"


def pyproject_text() -> str:
    """Text of the student's ``pyproject.toml`` (metadata only: nothing to build)."""
    deps = "".join(f"    {_toml_str(r)},\n" for r in CHECK_REQUIREMENTS)
    return (
        "# Métadonnées du TP « ResNet à la main » : versions de Python prises en charge et\n"
        "# dépendances des vérifications (lues par pip, uv et les éditeurs).\n"
        "# GENERATED by `make assign` from autograder/public/versions.py.\n"
        "[project]\n"
        'name = "resnet-a-la-main"\n'
        'version = "1.0.0"\n'
        'description = "TP ResNet à la main (Keras, Fashion-MNIST)"\n'
        f"requires-python = {_toml_str(REQUIRES_PYTHON)}\n"
        f"dependencies = [\n{deps}]\n"
        "\n"
        "[tool.uv]\n"
        "package = false\n"
    )


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
