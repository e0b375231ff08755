"""Delivery: tamper evidence for GitHub repositories, and the Gradescope / otter autograder zip.

Command line::

    python -m autograder.delivery zip [--out build/autograder.zip]   # = make autograder-zip
    python -m autograder.delivery tamper DIR [DIR...]                # protected files report

**Protected files.** A student repository created from ``student_template/``
carries files that decide what its GitHub Actions run reports: the workflow
(``.github/workflows/``), the public otter tests (``tests/``), the copy of the
check library (``autograder/``) and ``requirements.txt`` (a changed requirement
could install a patched Keras in CI). The teacher-side grading never runs any of
them (the engine reads only the notebook), so changing them cannot raise a grade;
:func:`tamper_report` lists the differences as evidence for the teacher (French
lines, as they appear in the grade report).

**Autograder zip.** :func:`build_autograder_zip` wraps ``otter generate``: the
otter tests of ``autograder/otter/`` (hidden ones included), the check library
(the whole ``autograder`` package but the engine, the report and the delivery
code) under ``files/``, and an environment pinned to the kit's
``requirements.txt`` on Python 3.11. Its ``setup.sh`` also puts Fashion-MNIST
in Keras's cache when the Gradescope image is built, and its ``run_otter.py``
deletes any ``autograder/`` or ``tests/`` folder a submission brings along
before grading.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import io
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = ROOT / "student_template"
OTTER_DIR = ROOT / "autograder" / "otter"
DEFAULT_ZIP = ROOT / "build" / "autograder.zip"
KIT_REQUIREMENTS = ROOT / "requirements.txt"
PYTHON_VERSION = "3.11"

#: Paths (files or folders, relative to the repository root) whose content must
#: stay identical to the template's.
PROTECTED = (".github/workflows", "tests", "autograder", "requirements.txt")

#: Generated files that running the checks or Jupyter leaves behind: never evidence.
IGNORED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store"}
IGNORED_SUFFIXES = (".pyc", ".pyo")

#: Files at the repository root that change how Python starts or how pytest runs.
STARTUP_FILES = {"sitecustomize.py", "usercustomize.py", "conftest.py"}

MAX_LINES = 40
#: A protected file this much larger than the template's copy is reported without reading it.
_MAX_READ = 8 * 1024 * 1024

#: Parts of the package the zip does not need (teacher-side only).
ZIP_EXCLUDE = {"engine.py", "report.py", "delivery.py", "assign.py", "otter", "templates",
               "__pycache__", "__main__.py"}
#: Kit requirements that the grading image does not need (otter pins its own version).
ZIP_DROP_REQUIREMENTS = {"otter-grader", "pytest"}


# --------------------------------------------------------------------------- tamper


def _ignored(rel: str) -> bool:
    parts = rel.split("/")
    return any(p in IGNORED_NAMES for p in parts) or rel.endswith(IGNORED_SUFFIXES)


def _files_under(base: Path, rel: str) -> list[str]:
    """Regular files and links under ``base/rel`` (a file or a folder), relative, sorted.

    Symbolic links are listed, never followed.
    """
    top = base / rel
    if top.is_symlink() or top.is_file():
        return [] if _ignored(rel) else [rel]
    if not top.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_NAMES)
        here = Path(dirpath)
        # A symlinked folder is reported as an entry, not walked.
        for d in list(dirnames):
            if (here / d).is_symlink():
                dirnames.remove(d)
                filenames.append(d)
        for name in filenames:
            r = (here / name).relative_to(base).as_posix()
            if not _ignored(r):
                found.append(r)
    return sorted(found)


def _digest(path: Path) -> str:
    """SHA-256 of a file's bytes, line endings normalised (a Windows checkout is no tampering)."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def protected_files(template_dir: str | os.PathLike = TEMPLATE_DIR) -> list[str]:
    """Every protected file of the pristine template.

    Args:
        template_dir: the pristine ``student_template/``.

    Returns:
        Relative POSIX paths, sorted.
    """
    base = Path(template_dir)
    return sorted(f for rel in PROTECTED for f in _files_under(base, rel))


def _shadowing(name: str) -> bool:
    """Whether a top-level file or folder ``name`` would hide a module the checks import."""
    mod = name[:-3] if name.endswith(".py") else name
    if not mod.isidentifier():
        return False
    if mod in sys.stdlib_module_names:
        return True
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


def _compare(sub: Path, tpl: Path, rel: str) -> str | None:
    p, t = sub / rel, tpl / rel
    parts = rel.split("/")
    for i in range(1, len(parts)):  # a linked folder on the way: never read through it
        if (sub.joinpath(*parts[:i])).is_symlink():
            return f"dossier protégé remplacé par un lien symbolique : {'/'.join(parts[:i])}"
    if not os.path.lexists(p):
        return f"fichier protégé supprimé : {rel}"
    if p.is_symlink():
        return f"fichier protégé remplacé par un lien symbolique : {rel}"
    if p.is_dir():
        return f"fichier protégé remplacé par un dossier : {rel}"
    if not p.is_file():
        return f"fichier protégé remplacé par un fichier spécial : {rel}"
    size, ref_size = p.stat().st_size, t.stat().st_size
    if size > 2 * ref_size + _MAX_READ:
        return f"fichier protégé modifié : {rel}"
    if _digest(p) != _digest(t):
        return f"fichier protégé modifié : {rel}"
    return None


def _report(sub: Path, tpl: Path) -> list[str]:
    expected = protected_files(tpl)
    looks_like_repo = (sub / ".git").exists() or any(
        os.path.lexists(sub / rel) for rel in PROTECTED)
    if not looks_like_repo:  # a bare notebook folder (e-mail, LMS export): nothing to compare
        return []
    lines = list(dict.fromkeys(line for rel in expected if (line := _compare(sub, tpl, rel))))
    known = set(expected)
    for rel in PROTECTED:
        if (tpl / rel).is_dir() or not (tpl / rel).exists():
            for extra in _files_under(sub, rel):
                if extra not in known:
                    lines.append(f"fichier ajouté dans un dossier protégé : {extra}")
    template_top = {p.name for p in tpl.iterdir()}
    for entry in sorted(sub.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name in template_top or name.startswith(".") or _ignored(name):
            continue
        if name in STARTUP_FILES or name.endswith(".pth"):
            lines.append(f"fichier ajouté qui modifie le démarrage de Python : {name}")
        elif (name.endswith(".py") or (entry.is_dir() and (entry / "__init__.py").exists())) \
                and _shadowing(name):
            lines.append(f"fichier ajouté qui porte le nom d'un module Python et peut le "
                         f"masquer : {name}")
    return lines


def tamper_report(submission_dir, template_dir: str | os.PathLike | None = None) -> list[str]:
    """Protected files of a student repository that differ from the pristine template.

    Compares, by SHA-256 (line endings normalised), the workflow, ``tests/``,
    ``autograder/`` and ``requirements.txt`` of a submission with the template's,
    and reports added files in those folders and root files that would hide a
    module or change how Python starts. A directory holding none of the
    protected paths and no ``.git`` (a bare notebook folder) gives ``[]``. Never
    raises, never follows symbolic links, never runs anything.

    Args:
        submission_dir: a cloned student repository (a notebook path gives ``[]``).
        template_dir: the pristine template, ``student_template/`` by default.

    Returns:
        French lines such as ``"fichier protégé modifié : .github/workflows/classroom.yml"``;
        empty when nothing differs.
    """
    sub = Path(submission_dir)
    tpl = Path(template_dir) if template_dir is not None else TEMPLATE_DIR
    try:
        if not sub.is_dir() or sub.is_symlink() or not tpl.is_dir():
            return []
        lines = _report(sub, tpl)
    except OSError as exc:
        return [f"vérification des fichiers protégés impossible : {type(exc).__name__}"]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"… et {len(lines) - MAX_LINES} autres différences"]
    return lines


# --------------------------------------------------------------------------- zip

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

SETUP_SH_EXTRA = '''
# ResNet à la main: put Fashion-MNIST in Keras's cache while the image is built,
# so that grading never downloads it (the loader verifies its checksums).
cd {autograder_dir}/source/files && mamba run -n otter-env python -c \\
    "from autograder.data import load_fashion_mnist; load_fashion_mnist()" || true
'''


def _otter_tests_dir(otter_dir: Path) -> Path:
    tests = otter_dir / "tests"
    return tests if tests.is_dir() else otter_dir


def zip_requirements(requirements: str | os.PathLike = KIT_REQUIREMENTS) -> list[str]:
    """Pinned requirement lines of the kit that the grading image installs.

    Args:
        requirements: the kit's ``requirements.txt``.

    Returns:
        Requirement lines (comments, otter-grader and pytest removed).
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


def build_autograder_zip(out: str | os.PathLike = DEFAULT_ZIP,
                         otter_dir: str | os.PathLike = OTTER_DIR,
                         requirements: str | os.PathLike = KIT_REQUIREMENTS) -> Path:
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
        shutil.copytree(ROOT / "autograder", stage / "autograder",
                        ignore=lambda d, names: [n for n in names if n in ZIP_EXCLUDE
                                                 or n.endswith(IGNORED_SUFFIXES)])
        (stage / "requirements.txt").write_text("\n".join(zip_requirements(requirements)) + "\n",
                                                encoding="utf-8")
        (stage / "otter_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        with _chdir(stage):
            otter_generate(tests_dir="tests", output_path=str(out), config="otter_config.json",
                           requirements="requirements.txt", no_environment=True,
                           files=["autograder"], python_version=PYTHON_VERSION)
    _rewrite(out,
             replace={"run_otter.py": RUN_OTTER_PY.replace("{autograder_dir}", autograder_dir)},
             append={"setup.sh": SETUP_SH_EXTRA.replace("{autograder_dir}", autograder_dir)})
    return out


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m autograder.delivery",
                                     description="GitHub Classroom / Gradescope delivery.")
    sub = parser.add_subparsers(dest="command", required=True)
    z = sub.add_parser("zip", help="build the Gradescope / otter autograder zip")
    z.add_argument("--out", default=str(DEFAULT_ZIP), help="zip path (default: build/autograder.zip)")
    z.add_argument("--otter-dir", default=str(OTTER_DIR), help="otter artefacts (make assign)")
    t = sub.add_parser("tamper", help="protected files that differ from student_template/")
    t.add_argument("dirs", nargs="+", help="cloned student repositories")
    t.add_argument("--template", default=str(TEMPLATE_DIR), help="pristine template")
    args = parser.parse_args(argv)

    if args.command == "zip":
        try:
            path = build_autograder_zip(args.out, args.otter_dir)
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
        n_tests = sum(1 for n in names if n.startswith("tests/"))
        n_lib = sum(1 for n in names if n.startswith("files/autograder/"))
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        print(f"wrote {shown} ({path.stat().st_size // 1024} KiB): {n_tests} otter tests, "
              f"{n_lib} check-library files, Python {PYTHON_VERSION}, pinned requirements")
        print("upload it on Gradescope (Configure Autograder > Zip file upload), "
              "or test it: otter run -a build/autograder.zip resnet_a_la_main.ipynb")
        return 0

    status = 0
    for d in args.dirs:
        if not Path(d).is_dir():
            print(f"error: not a directory: {d}", file=sys.stderr)
            status = 2
            continue
        lines = tamper_report(d, args.template)
        verdict = f"{len(lines)} différence(s)" if lines else "fichiers protégés intacts"
        print(f"{d.rstrip('/') or d}: {verdict}")
        for line in lines:
            print(f"  - {line}")
    return status


if __name__ == "__main__":
    sys.exit(main())
