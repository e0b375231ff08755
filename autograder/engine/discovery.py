"""Discovery: command-line paths -> :class:`Submission` objects with unique ids.

A path is a notebook, a student repository, a class folder of those (``gh
classroom clone`` and Classroom 50 ``gh teacher download`` layouts included),
or a zip of any of these. Zips are extracted under a budget shared by the
whole run (zip bombs, nested zips, oversized members); symlinks are never
followed out of a submission. A path holding no usable notebook still gives a
submission, with a status and a French message (see :mod:`autograder.engine.records`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.public.assignment import NOTEBOOK as NOTEBOOK_NAME
from autograder.public.assignment import STATUS_INVALID, STATUS_NO_NOTEBOOK
from autograder.public.fsutil import sha256_file

#: Bytes one zip may expand to.
ZIP_MAX_BYTES = 2 * 1024**3
#: Bytes extracted from every zip of one run, nested zips included.
RUN_EXTRACT_MAX_BYTES = 8 * 1024**3
#: Zips inside zips are opened this many levels deep, no further.
ZIP_MAX_DEPTH = 2
#: Largest expansion of one zip member (uncompressed / compressed).
ZIP_MAX_RATIO = 200
#: Folders never looked into.
IGNORED_DIRS = frozenset({".ipynb_checkpoints", "__MACOSX", "__pycache__", "node_modules"})
#: Classroom 50's ``gh teacher download`` folder: ``<classroom>-<assignment>_submissions_<timestamp>``.
C50_DOWNLOAD = re.compile(r"^(?P<slug>.+)_submissions(?:_\d{4}_\d{2}_\d{2}_T_\d{2}_\d{2}_\d{2})?$")


class DiscoveryError(Exception):
    """A PATH given on the command line does not exist or cannot be read."""


@dataclass
class Submission:
    """One student's submission as found on disk.

    Attributes:
        id: unique, sanitised id (from the folder or file name).
        source: the path as found (given on the command line or inside it).
        notebook: the notebook to grade, or None.
        root: the student's repository folder (for tamper evidence), or None.
        status: None when gradable, else a submission status.
        message: French one-liner when ``status`` is set.
    """

    id: str
    source: str
    notebook: Path | None = None
    root: Path | None = None
    status: str | None = None
    message: str = ""


def sanitize_id(name: str) -> str:
    """A file-name-safe submission id from a folder or file name.

    Accents are folded to ASCII, anything but letters, digits, ``.``, ``_`` and
    ``-`` becomes ``-``; an empty result becomes ``"submission"``.

    Args:
        name: a folder, file or login name.

    Returns:
        The id, at most 100 characters.
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return text[:100] or "submission"


def is_repo(folder: Path) -> bool:
    """Whether ``folder`` is one student's repository (notebook at its top, or git)."""
    return (
        (folder / NOTEBOOK_NAME).is_file()
        or (folder / ".git").exists()
        or (folder / ".github").is_dir()
    )


def class_prefix(folder: Path) -> str:
    """The repository-name prefix that a class folder's name implies.

    ``gh classroom clone`` names repositories ``<slug>-<user>`` in
    ``<slug>-submissions``; Classroom 50's ``gh teacher download`` names them
    ``<classroom>-<assignment>-<user>`` in
    ``<classroom>-<assignment>_submissions_<timestamp>``.

    Args:
        folder: the class folder.

    Returns:
        The prefix, or ``""``.
    """
    if folder.name.endswith("-submissions"):
        return folder.name[: -len("submissions")]
    m = C50_DOWNLOAD.match(folder.name)
    if m:
        return m.group("slug").lower() + "-"
    return ""


def repo_id(folder: Path) -> str:
    """A student repository's id: its name without the class prefix of its parent folder.

    The same whether the class folder or a glob of its repositories is given.

    Args:
        folder: the repository folder.

    Returns:
        The sanitised id.
    """
    name = folder.name
    prefix = class_prefix(folder.parent)
    if prefix and name.lower().startswith(prefix.lower()) and len(name) > len(prefix):
        name = name[len(prefix) :]
    return sanitize_id(name)


def notebook_submission(nb: Path, source: str) -> Submission:
    """The submission of a loose notebook (named after its folder when it has the assignment's name)."""
    name = nb.parent.name if nb.stem == Path(NOTEBOOK_NAME).stem else nb.stem
    return Submission(id=sanitize_id(name or nb.stem), source=source, notebook=nb)


@dataclass
class ExtractBudget:
    """What zips may still expand to in this run (shared by every zip, nested ones too)."""

    bytes_left: int = RUN_EXTRACT_MAX_BYTES

    def take(self, n: int, zpath: Path) -> None:
        """Spend ``n`` bytes extracted from ``zpath``.

        Raises:
            DiscoveryError: the run's budget is exhausted (French message).
        """
        self.bytes_left -= n
        if self.bytes_left < 0:
            raise DiscoveryError(
                f"archives trop volumineuses une fois décompressées "
                f"(plus de {RUN_EXTRACT_MAX_BYTES // 1024**3} Go pour "
                f"l'ensemble de la correction) : {zpath.name}"
            )


def extract_zip(zpath: Path, work_dir: Path, budget: ExtractBudget | None = None) -> Path:
    """Extract ``zpath`` safely under ``work_dir`` and return the folder.

    Members are written byte by byte with their declared and actual sizes
    checked (per zip, per member ratio, and the run's ``budget``); absolute
    paths, ``..``, symlinks and device files are skipped. A zip already
    extracted (same name and content hash) is not extracted again.

    Args:
        zpath: the zip.
        work_dir: where its folder is created.
        budget: the run's extraction budget (a fresh one when None).

    Returns:
        The extracted folder.

    Raises:
        DiscoveryError: unreadable or too large (French message).
    """
    budget = budget or ExtractBudget()
    try:
        digest = sha256_file(zpath)[:10]
    except OSError as exc:
        raise DiscoveryError(f"archive illisible : {zpath.name} ({exc.strerror})") from None
    dest = work_dir / f"{sanitize_id(zpath.stem)}-{digest}"
    if dest.is_dir():
        return dest
    tmp = Path(tempfile.mkdtemp(dir=work_dir, prefix=".unzip-"))
    total = 0
    try:
        with zipfile.ZipFile(zpath) as zf:
            for info in zf.infolist():
                name = info.filename.replace("\\", "/")
                parts = [p for p in name.split("/") if p not in ("", ".")]
                if not parts or ".." in parts or name.startswith("/") or info.is_dir():
                    continue
                if (info.external_attr >> 16) & 0o170000 not in (0, 0o100000):  # links, devices
                    continue
                if info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1024):
                    raise DiscoveryError(
                        f"archive suspecte (taux de compression anormal) : {zpath.name}"
                    )
                target = tmp.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        total += len(chunk)
                        budget.take(len(chunk), zpath)
                        if total > ZIP_MAX_BYTES:
                            raise DiscoveryError(
                                f"archive trop volumineuse une fois décompressée : {zpath.name}"
                            )
                        dst.write(chunk)
        os.replace(tmp, dest)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        EOFError,
        ValueError,
        OSError,
    ) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DiscoveryError(
            f"archive zip illisible : {zpath.name} ({type(exc).__name__})"
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


@dataclass
class Finder:
    """One discovery: where zips go, what they may still expand to, what is never looked at.

    Attributes:
        work_dir: where zips are extracted.
        excluded: resolved folders never taken as submissions (the output folder).
        warn: receives one-line warnings (ignored paths).
        budget: the extraction budget shared by every zip of the run.
    """

    work_dir: Path
    excluded: frozenset = frozenset()
    warn: object = None
    budget: ExtractBudget = field(default_factory=ExtractBudget)

    def visible(self, p: Path) -> bool:
        """Neither hidden, nor an ignored folder, nor an excluded one."""
        if p.name.startswith(".") or p.name in IGNORED_DIRS:
            return False
        return not (self.excluded and p.is_dir() and p.resolve() in self.excluded)

    def notebooks_in(self, folder: Path, recursive: bool) -> list[Path]:
        """Notebooks in ``folder`` (skipping hidden and checkpoint folders, never following links)."""
        found = []
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return found
        for entry in entries:
            if not self.visible(entry) or entry.is_symlink():
                continue
            if entry.is_file() and entry.suffix == ".ipynb":
                found.append(entry)
            elif recursive and entry.is_dir():
                found.extend(self.notebooks_in(entry, True))
        return found

    def is_class_folder(self, folder: Path, top: bool = False) -> bool:
        """Whether ``folder`` holds several students (and is not itself a repository).

        A repository has the assignment notebook at its top, or ``.git`` or
        ``.github``. A folder given on the command line (``top``) that is not a
        repository is a class folder when it holds several notebooks, loose (an
        LMS export) or in subfolders, or no loose notebook and any subfolder;
        one found inside a class folder is a nested class folder when it is
        named ``*-submissions`` (``gh classroom clone``) or holds no loose
        notebook and several subfolders with notebooks.
        """
        if is_repo(folder):
            return False
        if folder.name.endswith("-submissions"):
            return True
        loose = self.notebooks_in(folder, recursive=False)
        subdirs = [d for d in folder.iterdir() if d.is_dir() and self.visible(d)]
        if top:
            with_nb = sum(1 for d in subdirs if self.notebooks_in(d, recursive=True))
            return len(loose) + with_nb >= 2 or (not loose and bool(subdirs))
        if loose:
            return False
        return sum(1 for d in subdirs if self.notebooks_in(d, recursive=True)) >= 2

    def repo_submission(self, folder: Path, sid: str, source: str) -> Submission:
        """The submission of one student repository (or any folder of one student)."""
        notebooks = self.notebooks_in(folder, recursive=True)
        sub = Submission(id=sid, source=source, root=folder)
        if not notebooks and (folder / NOTEBOOK_NAME).is_symlink():
            sub.status = STATUS_INVALID
            sub.message = (
                f"{NOTEBOOK_NAME} est un lien symbolique, pas un fichier : la "
                f"correction ne suit pas les liens ; déposez le notebook lui-même."
            )
            return sub
        if not notebooks:
            sub.status = STATUS_NO_NOTEBOOK
            sub.message = (
                f"Aucun notebook trouvé dans « {folder.name} » : le fichier attendu "
                f"est {NOTEBOOK_NAME}."
            )
            return sub
        named = [nb for nb in notebooks if nb.name == NOTEBOOK_NAME]
        if named:
            sub.notebook = min(named, key=lambda p: (len(p.relative_to(folder).parts), str(p)))
        elif len(notebooks) == 1:
            sub.notebook = notebooks[0]
        else:
            names = ", ".join(sorted(nb.name for nb in notebooks)[:5])
            sub.status = STATUS_NO_NOTEBOOK
            sub.message = (
                f"Plusieurs notebooks ({names}) et aucun ne s'appelle "
                f"{NOTEBOOK_NAME} : renommez celui à corriger en {NOTEBOOK_NAME}."
            )
        return sub

    def unwrap(self, folder: Path) -> Path:
        """Descend through a lone wrapper folder (as zips often have)."""
        while True:
            entries = [e for e in folder.iterdir() if self.visible(e)]
            if len(entries) == 1 and entries[0].is_dir() and not is_repo(folder):
                folder = entries[0]
            else:
                return folder

    def class_folder(self, folder: Path, out: list[Submission], depth: int = 0) -> None:
        """Append the submissions of a class folder to ``out``."""
        for entry in sorted(folder.iterdir()):
            if not self.visible(entry):
                continue
            if entry.is_symlink():
                out.append(
                    Submission(
                        id=sanitize_id(entry.stem),
                        source=str(entry),
                        status=STATUS_NO_NOTEBOOK,
                        message="lien symbolique ignoré : la correction ne suit pas les liens ; "
                        "déposez la copie elle-même.",
                    )
                )
                continue
            if entry.is_dir():
                if self.is_class_folder(entry):
                    self.class_folder(entry, out, depth)
                else:
                    out.append(self.repo_submission(entry, repo_id(entry), str(entry)))
            elif entry.suffix == ".ipynb":
                out.append(notebook_submission(entry, str(entry)))
            elif entry.suffix == ".zip":
                self.zip(entry, out, depth)

    def zip(self, zpath: Path, out: list[Submission], depth: int = 0) -> None:
        """Append the submissions of one zip; an unreadable or oversized zip is one row with a status."""
        if depth >= ZIP_MAX_DEPTH:
            out.append(
                Submission(
                    id=sanitize_id(zpath.stem),
                    source=str(zpath),
                    status=STATUS_NO_NOTEBOOK,
                    message=f"archive imbriquée trop profondément ({zpath.name}) : déposez le "
                    f"notebook ou le dépôt décompressé.",
                )
            )
            return
        try:
            folder = self.unwrap(extract_zip(zpath, self.work_dir, self.budget))
        except DiscoveryError as exc:
            out.append(
                Submission(
                    id=sanitize_id(zpath.stem),
                    source=str(zpath),
                    status=STATUS_INVALID,
                    message=f"{exc} ; aucune copie lue.",
                )
            )
            return
        if self.is_class_folder(folder, top=True):
            self.class_folder(folder, out, depth + 1)
            return
        out.append(self.repo_submission(folder, sanitize_id(zpath.stem), str(zpath)))

    def paths(self, paths) -> list[Submission]:
        """The submissions under the command line's paths, in order (ids not yet unique).

        Raises:
            DiscoveryError: a path does not exist.
        """
        warn = self.warn or (lambda msg: None)
        found: list[Submission] = []
        for raw in paths:
            path = Path(raw)
            if not path.exists():
                raise DiscoveryError(f"chemin introuvable : {raw}")
            if path.is_file():
                if path.suffix == ".ipynb":
                    found.append(notebook_submission(path, str(raw)))
                elif path.suffix == ".zip":
                    self.work_dir.mkdir(parents=True, exist_ok=True)
                    self.zip(path, found)
                else:
                    warn(f"ignoré (ni notebook, ni dossier, ni zip) : {raw}")
                continue
            if not path.is_dir():
                warn(f"ignoré : {raw}")
                continue
            if self.is_class_folder(path, top=True):
                self.work_dir.mkdir(parents=True, exist_ok=True)
                self.class_folder(path, found)
                continue
            found.append(self.repo_submission(path, repo_id(path.resolve()), str(raw)))
        return found


def unique_ids(subs: list[Submission]) -> list[Submission]:
    """Make ids unique in place (``alice``, ``alice-2``...), in discovery order."""
    seen: dict[str, int] = {}
    for sub in subs:
        base = sub.id
        if base in seen:
            seen[base] += 1
            while f"{base}-{seen[base]}" in seen:
                seen[base] += 1
            sub.id = f"{base}-{seen[base]}"
        seen.setdefault(sub.id, 1)
    return subs


def discover(paths, work_dir: Path | None = None, warn=None, exclude=()) -> list[Submission]:
    """Find the submissions under the given paths.

    Each path is a notebook, a student repository (the notebook is
    ``resnet_a_la_main.ipynb`` or the only notebook there), a class folder of
    repositories or notebooks (``gh classroom clone student-repos`` layout
    included), or a zip of any of these. A path holding no usable notebook
    still yields a submission with a status and a French message.

    Args:
        paths: paths as given on the command line.
        work_dir: where zips are extracted (default: a temporary folder).
        warn: callable receiving one-line warnings (ignored files).
        exclude: folders never taken as submissions (the output folder).

    Returns:
        Submissions with unique ids, in discovery order.

    Raises:
        DiscoveryError: a path does not exist.
    """
    work_dir = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="autograder-inputs-"))
    finder = Finder(work_dir, frozenset(Path(p).resolve() for p in exclude), warn)
    return unique_ids(finder.paths(paths))
