"""Protected files: evidence that a student repository changed what decides its CI result.

A student repository created from ``student_template/`` carries files that
decide what its GitHub Actions run reports: the workflow
(``.github/workflows/``), the public otter tests (``tests/``), the copy of the
check library (``autograder/``) and the requirements files (a changed
requirement could install a patched Keras in CI). The teacher-side grading never
runs any of them (the engine reads only the notebook), so changing them cannot
raise a grade; :func:`tamper_report` lists the differences as evidence for the
teacher (French lines, as they appear in the grade report).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

from autograder.delivery.facts import ROOT

TEMPLATE_DIR = ROOT / "student_template"

#: Paths (files or folders, relative to the repository root) whose content must
#: stay identical to the template's.
PROTECTED = (
    ".github/workflows",
    "tests",
    "autograder",
    "requirements.txt",
    "requirements-checks.txt",
)

#: What each protected path is, for the student README (French, one entry per
#: :data:`PROTECTED` path; :func:`protected_list_markdown` writes the list).
PROTECTED_DESCRIPTIONS = {
    ".github/workflows": "le workflow GitHub Actions qui lance les vérifications à chaque `push`",
    "tests": "les tests publics de chaque question",
    "autograder": "la bibliothèque des vérifications (`python -m autograder check`, `verifier`)",
    "requirements.txt": "les paquets du TP",
    "requirements-checks.txt": "les paquets des vérifications, installés par GitHub Actions",
}


def protected_list_markdown() -> str:
    """The protected paths as a French Markdown list, for the student README.

    One line per :data:`PROTECTED` path (a folder ends with ``/``), so the
    README states exactly what :func:`tamper_report` compares. ``make assign``
    writes it in place of :data:`README_MARKER`.

    Returns:
        The list, one ``- `path` : description`` line per path, newline-terminated.
    """
    lines = []
    for rel in PROTECTED:
        shown = rel if Path(rel).suffix else rel + "/"
        lines.append(f"- `{shown}` : {PROTECTED_DESCRIPTIONS[rel]} ;")
    lines[-1] = lines[-1][: -len(" ;")] + "."
    startup = ", ".join(f"`{name}`" for name in sorted(STARTUP_FILES))
    lines += [
        "",
        f"N'ajoutez pas non plus à la racine du dépôt de fichier qui change le démarrage de "
        f"Python ({startup}, `*.pth`) ou qui porte le nom d'un module Python (`keras.py`, "
        f"`numpy.py`…).",
    ]
    return "\n".join(lines) + "\n"


#: The line of ``assignment/student_files/README.md`` replaced by :func:`protected_list_markdown`.
README_MARKER = "<!-- liste des fichiers protégés : écrite par make assign -->"

#: Generated files that running the checks or Jupyter leaves behind: never evidence.
IGNORED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store"}
IGNORED_SUFFIXES = (".pyc", ".pyo")

#: Files at the repository root that change how Python starts or how pytest runs.
STARTUP_FILES = {"sitecustomize.py", "usercustomize.py", "conftest.py"}

MAX_LINES = 40
#: A protected file this much larger than the template's copy is reported without reading it.
_MAX_READ = 8 * 1024 * 1024


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
        os.path.lexists(sub / rel) for rel in PROTECTED
    )
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
        elif (
            name.endswith(".py") or (entry.is_dir() and (entry / "__init__.py").exists())
        ) and _shadowing(name):
            lines.append(
                f"fichier ajouté qui porte le nom d'un module Python et peut le masquer : {name}"
            )
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
