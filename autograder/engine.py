"""Grading engine: many submissions, parallel bounded workers, resumable outputs.

Pipeline for ``python -m autograder grade PATH... --out DIR``:

1. :func:`discover` turns each PATH (a notebook, a student repository, a class
   folder of those, or a zip of any of these) into :class:`Submission` objects
   with unique, sanitised ids. Paths that hold no usable notebook still give a
   submission, with a status and a French message.
2. :func:`run` decides what needs grading (new submissions, notebooks whose
   sha256 changed, records missing or failed internally; everything with
   ``force=True``) and grades them in parallel with :func:`grade_job`, either
   in a pool of long-lived trusted processes on this machine (TensorFlow
   imported once per process, the cores shared among them) or as one task per
   submission on a Dask cluster (:mod:`autograder.scheduler`). Each job calls
   :func:`autograder.public.pipeline.grade_notebook` (one bubblewrap sandbox per
   submission for the student's code); the record comes back to this process,
   which writes ``DIR/submissions/<id>.json`` atomically as soon as it
   arrives. A killed run therefore resumes where it stopped.
3. :func:`write_outputs` rebuilds the aggregate files from the records:
   ``grades.csv`` (otter-grader's ``final_grades.csv`` columns),
   ``results/<id>.json`` (Gradescope's ``results.json`` schema) and
   ``feedback/<id>.md`` (French feedback), then ``run.json``.

Every file in DIR is written atomically (temporary file + ``os.replace``).
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import os
import platform
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import autograder.hidden  # noqa: F401 - registers the hidden checks (no TensorFlow import)
from autograder import __version__
from autograder.public.bounded import clean_text
from autograder.scheduler import DaskExecutor, LocalPool, threads_per_process

from autograder.public.assignment import (  # noqa: E402 - the assignment's facts
    AUTO_QUESTIONS,
    DEFAULT_MEMORY_GB,
    DEFAULT_TIMEOUT_S,
    MANUAL_QUESTIONS,
    QUESTION_TITLES,
    QUESTIONS,
    STATUS_ERROR,
    STATUS_GRADED,
    STATUS_INVALID,
    STATUS_MISSING,
    STATUS_NO_NOTEBOOK,
)
from autograder.public.assignment import NOTEBOOK as NOTEBOOK_NAME  # noqa: E402

# Environment of every worker (and, by inheritance, of its sandboxes): one
# thread each, so that --jobs workers never oversubscribe the CPU.
THREAD_ENV = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "CUDA_VISIBLE_DEVICES": "",
}
_ZIP_MAX_BYTES = 2 * 1024 ** 3
#: Bytes extracted from every zip of one run, nested zips included.
RUN_EXTRACT_MAX_BYTES = 8 * 1024 ** 3
#: Zips inside zips are opened this many levels deep, no further.
ZIP_MAX_DEPTH = 2
#: Largest expansion of one zip member (uncompressed / compressed).
ZIP_MAX_RATIO = 200
#: A notebook larger or more deeply nested than this is not read.
NOTEBOOK_MAX_BYTES = 50 * 1024 ** 2
NOTEBOOK_MAX_DEPTH = 100
_IGNORED_DIRS = {".ipynb_checkpoints", "__MACOSX", "__pycache__", "node_modules"}


class DiscoveryError(Exception):
    """A PATH given on the command line does not exist or cannot be read."""


# --------------------------------------------------------------------------- #
# Small utilities
# --------------------------------------------------------------------------- #
def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + ``os.replace``).

    Args:
        path: destination file; its directory is created if needed.
        text: UTF-8 content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_json(path: Path, data) -> None:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def read_json(path: Path):
    """The JSON content of ``path``, or None when absent or unreadable."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sanitize_id(name: str) -> str:
    """A file-name-safe submission id from a folder or file name.

    Accents are folded to ASCII, anything but letters, digits, ``.``, ``_`` and
    ``-`` becomes ``-``; an empty result becomes ``"submission"``.
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return text[:100] or "submission"


def grader_fingerprint() -> str:
    """sha256 (16 hex digits) of every module that decides a score.

    Those are the public subpackage and the hidden checks: a record graded with
    another version of any of them is regraded.
    """
    pkg = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for sub in ("public", "hidden"):
        for f in sorted((pkg / sub).rglob("*.py")):
            h.update(f.relative_to(pkg).as_posix().encode() + b"\0")
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _fmt(x: float) -> str:
    """Compact number: 3.0 -> "3", 2.5 -> "2.5"."""
    x = round(float(x), 4)
    return str(int(x)) if x == int(x) else f"{x:g}"


# --------------------------------------------------------------------------- #
# Discovery
# --------------------------------------------------------------------------- #
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


_EXCLUDED: set[Path] = set()   # the output folder, never a submission


def _visible(p: Path) -> bool:
    if p.name.startswith(".") or p.name in _IGNORED_DIRS:
        return False
    return not (_EXCLUDED and p.is_dir() and p.resolve() in _EXCLUDED)


def _notebooks_in(folder: Path, recursive: bool) -> list[Path]:
    """Notebooks in ``folder`` (skipping hidden and checkpoint folders)."""
    found = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return found
    for entry in entries:
        if not _visible(entry) or entry.is_symlink():  # never followed out of a submission
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            found.append(entry)
        elif recursive and entry.is_dir():
            found.extend(_notebooks_in(entry, True))
    return found


def _is_repo(folder: Path) -> bool:
    return (folder / NOTEBOOK_NAME).is_file() or (folder / ".git").exists() \
        or (folder / ".github").is_dir()


def _repo_submission(folder: Path, sid: str, source: str) -> Submission:
    """The submission of one student repository (or any folder of one student)."""
    notebooks = _notebooks_in(folder, recursive=True)
    sub = Submission(id=sid, source=source, root=folder)
    if not notebooks and (folder / NOTEBOOK_NAME).is_symlink():
        sub.status = STATUS_INVALID
        sub.message = (f"{NOTEBOOK_NAME} est un lien symbolique, pas un fichier : la "
                       f"correction ne suit pas les liens ; déposez le notebook lui-même.")
        return sub
    if not notebooks:
        sub.status = STATUS_NO_NOTEBOOK
        sub.message = (f"Aucun notebook trouvé dans « {folder.name} » : le fichier attendu "
                       f"est {NOTEBOOK_NAME}.")
        return sub
    named = [nb for nb in notebooks if nb.name == NOTEBOOK_NAME]
    if named:
        sub.notebook = min(named, key=lambda p: (len(p.relative_to(folder).parts), str(p)))
    elif len(notebooks) == 1:
        sub.notebook = notebooks[0]
    else:
        names = ", ".join(sorted(nb.name for nb in notebooks)[:5])
        sub.status = STATUS_NO_NOTEBOOK
        sub.message = (f"Plusieurs notebooks ({names}) et aucun ne s'appelle {NOTEBOOK_NAME} : "
                       f"renommez celui à corriger en {NOTEBOOK_NAME}.")
    return sub


def _notebook_submission(nb: Path, source: str) -> Submission:
    name = nb.parent.name if nb.stem == Path(NOTEBOOK_NAME).stem else nb.stem
    return Submission(id=sanitize_id(name or nb.stem), source=source, notebook=nb)


def _is_class_folder(folder: Path, top: bool = False) -> bool:
    """A folder of several students (not itself a repository).

    A repository has the assignment notebook at its top, or ``.git`` or
    ``.github``. A folder given on the command line that is not a repository
    is a class folder when it holds several notebooks, loose (an LMS export)
    or in subfolders, or no loose notebook and any subfolder; one found inside a class folder
    is a nested class folder when it is named ``*-submissions`` (``gh
    classroom clone``) or holds no loose notebook and several subfolders
    with notebooks.
    """
    if _is_repo(folder):
        return False
    if folder.name.endswith("-submissions"):
        return True
    loose = _notebooks_in(folder, recursive=False)
    subdirs = [d for d in folder.iterdir() if d.is_dir() and _visible(d)]
    if top:
        with_nb = sum(1 for d in subdirs if _notebooks_in(d, recursive=True))
        return len(loose) + with_nb >= 2 or (not loose and bool(subdirs))
    if loose:
        return False
    return sum(1 for d in subdirs if _notebooks_in(d, recursive=True)) >= 2


#: Classroom 50's ``gh teacher download`` folder: ``<classroom>-<assignment>_submissions_<timestamp>``.
_C50_DOWNLOAD = re.compile(r"^(?P<slug>.+)_submissions(?:_\d{4}_\d{2}_\d{2}_T_\d{2}_\d{2}_\d{2})?$")


def _class_prefix(folder: Path) -> str:
    """The repository-name prefix that a class folder's name implies.

    ``gh classroom clone`` names repositories ``<slug>-<user>`` in
    ``<slug>-submissions``; Classroom 50's ``gh teacher download`` names them
    ``<classroom>-<assignment>-<user>`` in
    ``<classroom>-<assignment>_submissions_<timestamp>``.
    """
    if folder.name.endswith("-submissions"):
        return folder.name[: -len("submissions")]
    m = _C50_DOWNLOAD.match(folder.name)
    if m:
        return m.group("slug").lower() + "-"
    return ""


def _repo_id(folder: Path) -> str:
    """A student repository's id: its name without the class prefix of its parent folder.

    The same whether the class folder or a glob of its repositories is given.
    """
    name = folder.name
    prefix = _class_prefix(folder.parent)
    if prefix and name.lower().startswith(prefix.lower()) and len(name) > len(prefix):
        name = name[len(prefix):]
    return sanitize_id(name)


@dataclass
class _ExtractBudget:
    """What zips may still expand to in this run (shared by every zip, nested ones too)."""

    bytes_left: int = RUN_EXTRACT_MAX_BYTES

    def take(self, n: int, zpath: Path) -> None:
        self.bytes_left -= n
        if self.bytes_left < 0:
            raise DiscoveryError(f"archives trop volumineuses une fois décompressées "
                                 f"(plus de {RUN_EXTRACT_MAX_BYTES // 1024 ** 3} Go pour "
                                 f"l'ensemble de la correction) : {zpath.name}")


def _extract_zip(zpath: Path, work_dir: Path, budget: _ExtractBudget | None = None) -> Path:
    """Extract ``zpath`` safely under ``work_dir`` and return the folder.

    Members are written byte by byte with their declared and actual sizes
    checked (per zip, per member ratio, and the run's ``budget``); absolute
    paths, ``..``, symlinks and device files are skipped.

    Raises:
        DiscoveryError: unreadable or too large (French message).
    """
    budget = budget or _ExtractBudget()
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
                    raise DiscoveryError(f"archive suspecte (taux de compression anormal) : "
                                         f"{zpath.name}")
                target = tmp.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        total += len(chunk)
                        budget.take(len(chunk), zpath)
                        if total > _ZIP_MAX_BYTES:
                            raise DiscoveryError(f"archive trop volumineuse une fois "
                                                 f"décompressée : {zpath.name}")
                        dst.write(chunk)
        os.replace(tmp, dest)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            EOFError, ValueError, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DiscoveryError(f"archive zip illisible : {zpath.name} "
                             f"({type(exc).__name__})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _unwrap(folder: Path) -> Path:
    """Descend through a lone wrapper folder (as zips often have)."""
    while True:
        entries = [e for e in folder.iterdir() if _visible(e)]
        if len(entries) == 1 and entries[0].is_dir() and not _is_repo(folder):
            folder = entries[0]
        else:
            return folder


def _discover_class(folder: Path, work_dir: Path, out: list[Submission],
                    budget: _ExtractBudget | None = None, depth: int = 0) -> None:
    budget = budget or _ExtractBudget()
    for entry in sorted(folder.iterdir()):
        if not _visible(entry):
            continue
        if entry.is_symlink():
            out.append(Submission(
                id=sanitize_id(entry.stem), source=str(entry), status=STATUS_NO_NOTEBOOK,
                message="lien symbolique ignoré : la correction ne suit pas les liens ; "
                        "déposez la copie elle-même."))
            continue
        if entry.is_dir():
            if _is_class_folder(entry):
                _discover_class(entry, work_dir, out, budget, depth)
            else:
                out.append(_repo_submission(entry, _repo_id(entry), str(entry)))
        elif entry.suffix == ".ipynb":
            out.append(_notebook_submission(entry, str(entry)))
        elif entry.suffix == ".zip":
            _discover_zip(entry, work_dir, out, budget, depth)


def _discover_zip(zpath: Path, work_dir: Path, out: list[Submission],
                  budget: _ExtractBudget | None = None, depth: int = 0) -> None:
    """The submissions of one zip; an unreadable or oversized zip is one row with a status."""
    if depth >= ZIP_MAX_DEPTH:
        out.append(Submission(
            id=sanitize_id(zpath.stem), source=str(zpath), status=STATUS_NO_NOTEBOOK,
            message=f"archive imbriquée trop profondément ({zpath.name}) : déposez le "
                    f"notebook ou le dépôt décompressé."))
        return
    try:
        folder = _unwrap(_extract_zip(zpath, work_dir, budget))
    except DiscoveryError as exc:
        out.append(Submission(id=sanitize_id(zpath.stem), source=str(zpath),
                              status=STATUS_INVALID, message=f"{exc} ; aucune copie lue."))
        return
    if _is_class_folder(folder, top=True):
        _discover_class(folder, work_dir, out, budget, depth + 1)
        return
    out.append(_repo_submission(folder, sanitize_id(zpath.stem), str(zpath)))


def discover(paths, work_dir: Path | None = None, warn=None,
             exclude=()) -> list[Submission]:
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
    warn = warn or (lambda msg: None)
    work_dir = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="autograder-inputs-"))
    _EXCLUDED.clear()
    _EXCLUDED.update(Path(p).resolve() for p in exclude)
    try:
        found = _discover_all(paths, work_dir, warn)
    finally:
        _EXCLUDED.clear()
    seen: dict[str, int] = {}
    for sub in found:
        base = sub.id
        if base in seen:
            seen[base] += 1
            while f"{base}-{seen[base]}" in seen:
                seen[base] += 1
            sub.id = f"{base}-{seen[base]}"
        seen.setdefault(sub.id, 1)
    return found


def _discover_all(paths, work_dir: Path, warn) -> list[Submission]:
    found: list[Submission] = []
    budget = _ExtractBudget()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise DiscoveryError(f"chemin introuvable : {raw}")
        if path.is_file():
            if path.suffix == ".ipynb":
                found.append(_notebook_submission(path, str(raw)))
            elif path.suffix == ".zip":
                work_dir.mkdir(parents=True, exist_ok=True)
                _discover_zip(path, work_dir, found, budget)
            else:
                warn(f"ignoré (ni notebook, ni dossier, ni zip) : {raw}")
            continue
        if not path.is_dir():
            warn(f"ignoré : {raw}")
            continue
        if _is_class_folder(path, top=True):
            work_dir.mkdir(parents=True, exist_ok=True)
            _discover_class(path, work_dir, found, budget)
            continue
        found.append(_repo_submission(path, _repo_id(path.resolve()), str(raw)))
    return found


#: Roster columns that hold the student's GitHub login (= the repository suffix), by priority.
ROSTER_LOGIN_KEYS = ("github_username", "login", "username", "github", "github_login",
                     "id", "student", "student_id", "identifier", "email")
#: Classroom 50 roster roles that are not students.
ROSTER_STAFF_ROLES = {"teacher", "ta", "instructor", "staff"}


def _roster_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        return [row for row in csv.reader(fh, dialect) if any(c.strip() for c in row)]


def _roster_cell(text: str) -> str:
    """A cell as typed: spaces and a spreadsheet's formula-defanging quote removed."""
    text = text.strip()
    return text[1:] if text[:1] == "'" and text[1:2] in "=+-@" and len(text) > 1 else text


def _login_of(value: str) -> str:
    """The id an e-mail or a login gives (an e-mail keeps its local part)."""
    return value.split("@", 1)[0] if "@" in value else value


def read_roster(path: Path) -> list[str]:
    """Student ids from a roster file, whatever its format.

    Formats, told apart by the header (case-insensitive):

    - GitHub Classroom's export, ``identifier,github_username,github_id,name``:
      the id is ``github_username`` (what the repository names end with), or
      the identifier when the student never linked a GitHub account;
    - Classroom 50's ``roster.csv``, ``username,first_name,last_name,email,
      section,github_id,role``: the id is ``username`` (or the e-mail's local part
      for an e-mail-only invitation); teacher and TA rows are skipped;
    - any CSV with one of the columns of :data:`ROSTER_LOGIN_KEYS` (first found wins);
    - a plain list, one login per line, without a header;
    - any other CSV with a header: its first column.

    Args:
        path: the roster file.

    Returns:
        Sanitised ids in file order, without duplicates or blanks.
    """
    rows = _roster_rows(path)
    if not rows:
        return []
    header = [_roster_cell(h).lower() for h in rows[0]]
    key = next((k for k in ROSTER_LOGIN_KEYS if k in header), None)
    fallbacks: list[int] = []
    if key is None and len(rows[0]) == 1:
        body, col = rows, 0          # a plain list of logins, no header
    elif key is None:
        body, col = rows[1:], 0      # an unknown header: its first column
    else:
        body, col = rows[1:], header.index(key)
        fallbacks = [header.index(k) for k in ROSTER_LOGIN_KEYS
                     if k in header and header.index(k) != col]
    role = header.index("role") if key is not None and "role" in header else None
    ids: list[str] = []
    for row in body:
        if role is not None and len(row) > role and \
                _roster_cell(row[role]).lower() in ROSTER_STAFF_ROLES:
            continue
        value = _roster_cell(row[col]) if len(row) > col else ""
        for fb in fallbacks:
            if value:
                break
            value = _roster_cell(row[fb]) if len(row) > fb else ""
        if not value:
            continue
        sid = sanitize_id(_login_of(value))
        if sid not in ids:
            ids.append(sid)
    return ids


# --------------------------------------------------------------------------- #
# Points and records
# --------------------------------------------------------------------------- #
def question_max_points() -> dict[str, float]:
    """Maximum points per question (public + hidden; q4 is the manual one)."""
    try:
        from autograder.public.checks import max_points
    except ImportError:
        return {q: 0.0 for q in QUESTIONS}
    out = {}
    for q in QUESTIONS:
        try:
            out[q] = float(max_points(q, ("public", "hidden"), include_manual=q in MANUAL_QUESTIONS))
        except TypeError:
            out[q] = float(max_points(q, ("public", "hidden")))
    return out


def _finish_record(record: dict, maxima: dict[str, float]) -> dict:
    """Fill automated questions absent from the record, totals and percent.

    The hand-graded question (q4) is not part of the record: ``total``,
    ``max_total`` and ``percent`` are those of the automated questions;
    grades.csv carries q4 as a column at 0 for the teacher to fill in.
    """
    questions = record.setdefault("questions", {})
    for q in AUTO_QUESTIONS:
        if q not in questions:
            questions[q] = {"score": 0.0, "max_score": maxima.get(q, 0.0),
                            "status": "not-graded", "seconds": 0.0, "checks": []}
    total = sum(float(questions[q].get("score", 0.0)) for q in questions)
    max_total = sum(float(questions[q].get("max_score", maxima.get(q, 0.0))) for q in questions)
    record["total"] = round(total, 4)
    record["max_total"] = round(max_total, 4)
    record["percent"] = round(100.0 * total / max_total, 2) if max_total else 0.0
    return record


def base_record(sub: Submission, maxima: dict[str, float]) -> dict:
    """A zero record for a submission that is not graded (status set)."""
    record = {
        "id": sub.id, "source": sub.source,
        "notebook": str(sub.notebook) if sub.notebook else None,
        "notebook_sha256": None, "status": sub.status or STATUS_ERROR,
        "message": clean_text(sub.message, 500), "questions": {}, "tamper": [],
        "seconds": 0.0, "grader_version": __version__,
        "grader_fingerprint": grader_fingerprint(), "graded_at": _now(),
    }
    return _finish_record(record, maxima)


def _validate_notebook(path: Path) -> str | None:
    """None when ``path`` is a readable notebook, else a French message."""
    from autograder.public.bounded import json_depth

    try:
        if path.is_symlink():
            return "Le notebook est un lien symbolique : la correction ne suit pas les liens."
        if path.stat().st_size > NOTEBOOK_MAX_BYTES:
            return (f"Le notebook dépasse {NOTEBOOK_MAX_BYTES // 1024 ** 2} Mo : effacez les "
                    "sorties (Édition > Effacer toutes les sorties) et réenregistrez-le.")
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if json_depth(text) > NOTEBOOK_MAX_DEPTH:
            return ("Le notebook contient des données imbriquées trop profondément pour être "
                    "lues : récupérez une version précédente ou recopiez vos cellules dans "
                    "un notebook neuf.")
        data = json.loads(text)
    except UnicodeDecodeError:
        return "Le notebook n'est pas un fichier texte UTF-8 : ouvrez-le et réenregistrez-le dans Jupyter."
    except json.JSONDecodeError as exc:
        return (f"Le notebook n'est pas un JSON valide ({exc.msg}, ligne {exc.lineno}) : "
                "ouvrez-le dans Jupyter et réenregistrez-le, ou récupérez une version précédente.")
    except (ValueError, RecursionError):
        return "Le notebook n'est pas un JSON lisible : réenregistrez-le dans Jupyter."
    except OSError as exc:
        return f"Le notebook est illisible ({exc.strerror})."
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return "Le fichier ne ressemble pas à un notebook Jupyter (pas de liste « cells »)."
    return None


def _tamper(sub: Submission) -> list[str]:
    if sub.root is None:
        return []
    try:
        from autograder.delivery import tamper_report
    except ImportError:
        return []
    try:
        return list(tamper_report(sub.root))
    except Exception as exc:  # noqa: BLE001 - evidence only, never fatal
        return [f"tamper check failed: {exc}"]


def grade_submission(sub: Submission, *, timeout_s: float, memory_gb: float,
                     maxima: dict[str, float] | None = None,
                     isolation: str = "bubblewrap") -> dict:
    """Grade one submission in this process (the worker) and return its record.

    Student code runs only in the sandboxes that
    :func:`autograder.public.pipeline.grade_notebook` starts, one per question.

    Args:
        sub: the submission (``notebook`` set, ``status`` None).
        timeout_s: wall-clock limit per question, in seconds.
        memory_gb: memory cap per question, in GiB.
        maxima: maximum points per question (computed when None).
        isolation: ``"bubblewrap"`` or ``"process"`` (see :mod:`autograder.public.sandbox`).

    Returns:
        The submission record (schema in docs/architecture.md).
    """
    maxima = maxima or question_max_points()
    start = time.monotonic()
    record = base_record(sub, maxima)
    record["notebook_sha256"] = sha256_file(sub.notebook)
    problem = _validate_notebook(sub.notebook)
    if problem:
        record.update(status=STATUS_INVALID, message=problem)
    else:
        from autograder.public.extract import NotebookError
        from autograder.public.pipeline import grade_notebook
        details: dict = {}
        try:
            questions = grade_notebook(sub.notebook, questions=AUTO_QUESTIONS,
                                       visibility=("public", "hidden"),
                                       timeout_s=timeout_s, memory_gb=memory_gb,
                                       isolation=isolation, details=details)
        except NotebookError as exc:
            record.update(status=STATUS_INVALID, message=str(exc))
        else:
            record["questions"] = dict(questions)
            record.update(status=STATUS_GRADED, message="")
            if details.get("cell_errors"):
                record["cell_errors"] = details["cell_errors"]
    record["tamper"] = _tamper(sub)
    record["seconds"] = round(time.monotonic() - start, 2)
    record["graded_at"] = _now()
    return _finish_record(record, maxima)


# --------------------------------------------------------------------------- #
# Grading process (a local pool's or a Dask worker's)
# --------------------------------------------------------------------------- #
def _peak_mb() -> dict:
    try:
        import resource
    except ImportError:
        return {}
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"worker_mb": round(self_kb / 1024, 1), "sandbox_max_mb": round(kids_kb / 1024, 1)}


#: Memory cap of a trusted grading process (TensorFlow, the loaded models, the
#: grader's training); what it loads is bounded first (autograder.public.bounded).
TRUSTED_MEMORY_BYTES = 8 * 1024 ** 3
_PREPARED = False


def prepare_process(threads: int = 1, cache_dir: str | None = None) -> None:
    """Set up a trusted grading process, once: thread limits and memory cap.

    Thread limits only take effect before TensorFlow's import, which happens
    once per process, during the first submission, while its sandbox starts
    (:func:`autograder.public.sandbox.run_questions`); later submissions pay none of it.

    Args:
        threads: TensorFlow/BLAS threads of this process (the cores, shared
            among the grading processes).
        cache_dir: folder of the accuracy memo on disk (None: in memory only).
    """
    global _PREPARED
    from autograder.hidden.training import CACHE_ENV

    if cache_dir:
        os.environ[CACHE_ENV] = cache_dir
    else:
        os.environ.pop(CACHE_ENV, None)
    if _PREPARED:
        return
    os.environ.update(THREAD_ENV)
    for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                 "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(max(1, int(threads)))
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (TRUSTED_MEMORY_BYTES, TRUSTED_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not Linux, or lower already
        pass
    _PREPARED = True


def grade_job(job: dict) -> dict:
    """Grade one submission (a job built by :func:`run`) and return its record.

    Runs in a long-lived trusted process: a local pool's or a Dask worker's.
    The notebook arrives as bytes, so the process needs no access to the
    class folder; tamper evidence was gathered by the client. Keras's state
    is cleared afterwards.

    Args:
        job: ``id``, ``source``, ``notebook_display``, ``notebook_bytes``,
            ``sha256``, ``tamper``, ``timeout_s``, ``memory_gb``, ``maxima``,
            ``isolation``, ``run_id``, ``threads``, ``cache_dir``.

    Returns:
        The submission record.
    """
    prepare_process(job.get("threads", 1), job.get("cache_dir"))
    tmp = Path(tempfile.mkdtemp(prefix="autograder-submission-"))
    try:
        notebook = tmp / NOTEBOOK_NAME
        notebook.write_bytes(job["notebook_bytes"])
        sub = Submission(id=job["id"], source=job["source"], notebook=notebook)
        record = grade_submission(sub, timeout_s=job["timeout_s"], memory_gb=job["memory_gb"],
                                  maxima=job.get("maxima"), isolation=job["isolation"])
        record.update(notebook=job["notebook_display"], notebook_sha256=job["sha256"],
                      tamper=list(job.get("tamper") or []), run_id=job["run_id"],
                      resources=_peak_mb())
        return record
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            import gc

            import keras

            keras.backend.clear_session()
            gc.collect()
        except Exception:  # noqa: BLE001 - cleaning only
            pass


# --------------------------------------------------------------------------- #
# Outputs
# --------------------------------------------------------------------------- #
def _lang_message(check: dict, lang: str) -> str:
    if lang == "en" and check.get("message_en"):
        return check["message_en"]
    return check.get("message", "")


QUESTION_STATUS_FR = {
    "timeout": "le code de cette question a dépassé le temps limite ({timeout} s) : "
               "vérifiez qu'aucune boucle sans fin ni aucun entraînement ne s'exécute "
               "dans vos fonctions.",
    "memory": "le code de cette question a dépassé la mémoire autorisée ({memory} Go) : "
              "vérifiez la taille de ce que vos fonctions construisent.",
    "crashed": "le processus qui exécutait votre code s'est arrêté brutalement.",
    "exited": "votre code a appelé sys.exit() ou os._exit() : retirez ces appels des fonctions.",
    "error": "votre code n'a pas pu être exécuté.",
    "not-graded": "cette question n'a pas été corrigée.",
}


def _question_note(q: dict, params: dict) -> str:
    status = q.get("status", "ok")
    if status in ("ok", "manual"):
        return ""
    own = q.get("message") or ""
    generic = QUESTION_STATUS_FR.get(status, "").format(
        timeout=_fmt(params.get("timeout_s", DEFAULT_TIMEOUT_S)),
        memory=_fmt(params.get("memory_gb", DEFAULT_MEMORY_GB)))
    return own or generic


_MD_SPECIAL = re.compile(r"([\\*_\[\]#|<>~])")  # links need [, HTML <, headings #


def _md(text) -> str:
    """Student-reachable text made inert in Markdown: one line, no markup but code spans.

    The text is cleaned first (:func:`autograder.public.bounded.clean_text`: control
    characters, newlines); outside backtick spans every character with a
    Markdown meaning is escaped, so no heading, link, emphasis, table or HTML
    can be injected; an unbalanced backtick is dropped.
    """
    from autograder.public.bounded import clean_text

    parts = clean_text(str(text), 2000).split("`")
    if len(parts) % 2 == 0:  # odd number of backticks: the last one opens nothing
        parts[-2:] = [parts[-2] + parts[-1]]
    for i in range(0, len(parts), 2):
        parts[i] = _MD_SPECIAL.sub(r"\\\1", parts[i])
    return "`".join(parts)


def render_feedback(record: dict, lang: str = "fr", params: dict | None = None) -> str:
    """The French feedback of one submission, as Markdown.

    Args:
        record: a submission record.
        lang: ``"fr"`` (default) or ``"en"`` for the checks' English messages when given.
        params: grading parameters (timeout, memory) used in status messages.

    Returns:
        Markdown text: total, then per question each check with passed or not,
        what was expected and found, and a hint.
    """
    params = params or {}
    lines = [f"# Retour de correction : {record['id']}", ""]
    lines.append(f"**Note automatique : {_fmt(record['total'])} / {_fmt(record['max_total'])}** "
                 f"({record['percent']:.1f} %)".replace(".", ","))
    lines.append("")
    if record["status"] != STATUS_GRADED:
        lines += [f"> {_md(record.get('message') or record['status'])}", ""]
    if record.get("tamper"):
        lines.append("> Fichiers protégés modifiés par rapport au modèle : "
                     + "; ".join(_md(t) for t in record["tamper"]) + ".")
        lines.append("")
    if record.get("cell_errors"):
        lines += ["## Cellules en erreur pendant la correction", "",
                  "Ces instructions du notebook ont échoué ou ont été ignorées ; les "
                  "questions qui en dépendent peuvent en pâtir :", ""]
        lines += [f"- {_md(e.get('error', ''))}" for e in record["cell_errors"][:10]]
        lines.append("")
    if record.get("identical_to"):
        lines += ["> Ce notebook est identique, octet pour octet, à au moins une autre copie "
                  "de la classe ; l'enseignant·e en est informé·e (aucune pénalité automatique).",
                  ""]
    for q in QUESTIONS:
        qd = record["questions"].get(q, {})
        if q in MANUAL_QUESTIONS:
            mx = (params.get("max_points") or {}).get(q)
            lines.append(f"## {q} — {QUESTION_TITLES[q]}"
                         + (f" : sur {_fmt(mx)}" if mx else ""))
            lines += ["", "Cette question est corrigée à la main par l'enseignant·e ; "
                      "elle n'est pas comptée dans la note automatique ci-dessus.", ""]
            continue
        lines.append(f"## {q} — {QUESTION_TITLES[q]} : {_fmt(qd.get('score', 0))} / "
                     f"{_fmt(qd.get('max_score', 0))}")
        lines.append("")
        note = _question_note(qd, params) if record["status"] == STATUS_GRADED else ""
        checks = qd.get("checks") or []
        # A question that did not run fails every check with the same message:
        # say it once, with its hint, instead of once per check.
        shared = bool(note) and all(not c.get("passed") and c.get("message") == qd.get("message")
                                    for c in checks)
        if note:
            lines.append(f"> ⚠ {_md(note[0].upper() + note[1:])}")
            hint = next((c.get("hint") for c in checks if c.get("hint")), "")
            if shared and hint:
                lines += [">", f"> Piste : {_md(hint)}"]
            lines.append("")
        if not checks and record["status"] == STATUS_GRADED and not note:
            lines += ["Aucun contrôle n'a pu être exécuté pour cette question.", ""]
        for c in checks:
            mark = "✔" if c.get("passed") else "✘"
            tag = " *(contrôle caché)*" if c.get("visibility") == "hidden" else ""
            lines.append(f"- {mark} **{_md(c.get('title', c.get('id')))}**{tag} — "
                         f"{_fmt(c.get('points', 0))} / {_fmt(c.get('max_points', 0))}")
            if c.get("passed") or shared:
                continue
            msg = _lang_message(c, lang)
            if msg:
                lines.append(f"  - {_md(msg)}")
            if c.get("hint"):
                lines.append(f"  - Piste : {_md(c['hint'])}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def results_json(record: dict, lang: str = "fr") -> dict:
    """The record in Gradescope's ``results.json`` schema.

    Public checks are ``visible``; hidden checks are ``after_published`` (the
    student sees them once grades are published).
    """
    tests = []
    for q in AUTO_QUESTIONS:
        qd = record["questions"].get(q, {})
        checks = qd.get("checks") or []
        if not checks:
            tests.append({"name": f"{q} — {QUESTION_TITLES[q]}", "score": float(qd.get("score", 0)),
                          "max_score": float(qd.get("max_score", 0)),
                          "visibility": "visible",
                          "output": (record.get("message") if record["status"] != STATUS_GRADED
                                     else _question_note(qd, {}))})
            continue
        note = _question_note(qd, {})
        for c in checks:
            out = "Réussi." if c.get("passed") else _lang_message(c, lang)
            if note and not c.get("passed"):
                out = f"{note[0].upper() + note[1:]}\n{out}"
            if c.get("hint") and not c.get("passed"):
                out += f"\nPiste : {c['hint']}"
            tests.append({"name": f"{c.get('id')} — {c.get('title', '')}",
                          "score": float(c.get("points", 0)),
                          "max_score": float(c.get("max_points", 0)),
                          "visibility": "visible" if c.get("visibility") == "public"
                          else "after_published",
                          "output": out})
    summary = f"Note automatique : {_fmt(record['total'])} / {_fmt(record['max_total'])}."
    if record["status"] != STATUS_GRADED:
        summary += " " + (record.get("message") or record["status"])
    return {"score": float(record["total"]), "output": summary, "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def grades_csv(records: list[dict], maxima: dict[str, float]) -> str:
    """otter-grader's ``final_grades.csv``: a points-per-question row, then one row per id.

    ``percent_correct`` is a fraction of every point, the hand-graded q4
    included (as in otter), so it changes once q4 is filled in.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["file", *QUESTIONS, "total_points_earned", "percent_correct", "grading_status"])
    possible = sum(maxima.get(q, 0.0) for q in QUESTIONS)
    writer.writerow(["points-per-question", *(_fmt(maxima.get(q, 0.0)) for q in QUESTIONS),
                     _fmt(possible), "1", "--"])
    for r in sorted(records, key=lambda r: r["id"]):
        scores = {q: float(r["questions"].get(q, {}).get("score", 0)) for q in QUESTIONS}
        total = sum(scores.values())
        if r["status"] == STATUS_GRADED:
            status = "Completed"
        else:
            status = f"{r['status']}: {r.get('message', '')}".strip().rstrip(":")
        percent = f"{(total / possible) if possible else 0:.4f}".rstrip("0").rstrip(".")
        writer.writerow([r["id"], *(_fmt(scores[q]) for q in QUESTIONS), _fmt(total),
                         percent, status])
    return buf.getvalue()


def write_outputs(out: Path, records: list[dict], maxima: dict[str, float], lang: str = "fr",
                  params: dict | None = None) -> None:
    """(Re)build grades.csv, results/ and feedback/ from the records, atomically.

    Args:
        out: the output folder.
        records: one record per submission of this run (roster included).
        maxima: maximum points per question.
        lang: feedback language.
        params: grading parameters for status messages.
    """
    out = Path(out)
    ids = {r["id"] for r in records}
    for r in records:
        atomic_write_json(out / "results" / f"{r['id']}.json", results_json(r, lang))
        atomic_write_text(out / "feedback" / f"{r['id']}.md", render_feedback(r, lang, params))
    for sub, ext in (("results", ".json"), ("feedback", ".md")):
        for f in (out / sub).glob(f"*{ext}"):
            if f.stem not in ids:
                f.unlink()
    atomic_write_text(out / "grades.csv", grades_csv(records, maxima))


# --------------------------------------------------------------------------- #
# Run
# --------------------------------------------------------------------------- #
def _versions() -> dict:
    from importlib import metadata
    out = {"python": platform.python_version(), "autograder": __version__,
           "platform": platform.platform()}
    for dist in ("keras", "tensorflow-cpu", "tensorflow", "numpy", "otter-grader"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def _check_parameters() -> dict:
    """Seeds, thresholds and recipe constants exposed by the checks modules."""
    import importlib
    found = {}
    for name in ("autograder.hidden.training", "autograder.hidden.structure",
                 "autograder.public.checks.public", "autograder.public.probe"):
        try:
            mod = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - optional
            continue
        params = getattr(mod, "PARAMETERS", None)
        if isinstance(params, dict):
            found[name] = params
            continue
        consts = {k: v for k, v in vars(mod).items()
                  if k.isupper() and not k.startswith("_")
                  and isinstance(v, (int, float, str, bool, tuple))
                  and any(w in k for w in ("SEED", "THRESHOLD", "MIN_", "EPOCH", "STEP",
                                           "BATCH", "SAMPLES", "TRAIN", "LR", "ACCURACY"))}
        if consts:
            found[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in consts.items()}
    return found


def _registry() -> list[dict]:
    try:
        from autograder.public.checks import registry
        return registry()
    except Exception:  # noqa: BLE001
        return []


class _Log:
    """Append-only ``grading.log`` (one line per event) plus optional echo."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, msg: str) -> None:
        with self.lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(f"{_now()} {msg}\n")


def _needs_grading(sub: Submission, existing: dict | None, force: bool,
                   fingerprint: str | None = None) -> bool:
    """Whether ``sub`` must be (re)graded: forced, no usable record, grader or notebook changed."""
    if force or existing is None:
        return True
    if existing.get("status") not in (STATUS_GRADED, STATUS_INVALID):
        return True
    if existing.get("grader_version") != __version__ or \
            existing.get("grader_fingerprint") != (fingerprint or grader_fingerprint()):
        return True
    return existing.get("notebook_sha256") != sha256_file(sub.notebook)


def run(paths, out, *, jobs: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_gb: float = DEFAULT_MEMORY_GB, lang: str = "fr", roster: Path | None = None,
        force: bool = False, progress: bool = True, report: bool = True,
        stream=None, isolation: str = "bubblewrap", scheduler: str | None = None) -> dict:
    """Grade every submission under ``paths`` into ``out``.

    Args:
        paths: submissions (see :func:`discover`).
        out: output folder.
        jobs: parallel workers (default: number of cores).
        timeout_s: wall-clock limit per question.
        memory_gb: memory cap per question.
        lang: feedback language (``"fr"`` or ``"en"``).
        roster: optional CSV of expected student ids.
        force: regrade everything, even unchanged notebooks.
        progress: show a progress bar on stderr.
        report: also write report.html when the report module is available.
        stream: where the summary goes (default stdout).
        isolation: ``"bubblewrap"`` (default; refused when it does not work
            here) or ``"process"`` (the teacher's explicit opt-out).
        scheduler: address of a Dask distributed scheduler
            (``tcp://HOST:PORT``): one task per submission on that cluster
            instead of the local pool.

    Returns:
        The ``run.json`` content (parameters, counts, per-id lists).

    Raises:
        DiscoveryError: a path does not exist.
        autograder.public.sandbox.IsolationUnavailable: bubblewrap required and missing.
    """
    from autograder.public.sandbox import IsolationUnavailable, resolve_isolation

    if not scheduler:  # on a cluster, each worker checks its own sandbox
        isolation = resolve_isolation(isolation)
    stream = stream or sys.stdout
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("submissions", "results", "feedback"):
        (out / sub).mkdir(exist_ok=True)
    for leftover in list(out.glob("*/.*.tmp")) + list(out.glob(".*.tmp")):
        leftover.unlink(missing_ok=True)      # from a run killed mid-write
    log = _Log(out / "grading.log")
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    started, t0 = _now(), time.monotonic()
    run_id = uuid.uuid4().hex[:12]

    warnings: list[str] = []
    subs = discover(paths, out / ".inputs", warn=warnings.append, exclude=[out])
    for w in warnings:
        print(f"autograder: {clean_text(w, 400)}", file=sys.stderr)
    if not subs and not roster:
        raise DiscoveryError("aucune copie à corriger dans les chemins donnés "
                             "(notebooks, dossiers ou archives zip attendus)")
    roster_ids = read_roster(Path(roster)) if roster else []
    maxima = question_max_points()
    fingerprint = grader_fingerprint()
    params = {"timeout_s": float(timeout_s), "memory_gb": float(memory_gb), "jobs": jobs,
              "lang": lang, "force": force, "max_points": maxima, "isolation": isolation,
              "scheduler": scheduler}
    run_info = {"run_id": run_id, "status": "running", "started": started, "finished": None,
                "grader_fingerprint": fingerprint,
                "parameters": params, "versions": _versions(),
                "check_parameters": _check_parameters(), "max_points": maxima,
                "checks": _registry(), "inputs": [str(p) for p in paths],
                "roster": str(roster) if roster else None}
    atomic_write_json(out / "run.json", run_info)
    log(f"run {run_id} start: {len(subs)} submission(s), jobs={jobs}, timeout={timeout_s}s, "
        f"memory={memory_gb}GB, force={force}")

    records: dict[str, dict] = {}
    todo: list[Submission] = []
    reused: list[str] = []
    for sub in subs:
        rec_path = out / "submissions" / f"{sub.id}.json"
        if sub.status is not None:
            rec = base_record(sub, maxima)
            atomic_write_json(rec_path, rec)
            records[sub.id] = rec
            log(f"status {sub.id}: {sub.status}")
            continue
        existing = read_json(rec_path)
        if _needs_grading(sub, existing, force, fingerprint):
            todo.append(sub)
        else:
            if existing.get("source") != sub.source or \
                    existing.get("notebook") != str(sub.notebook):
                existing.update(source=sub.source, notebook=str(sub.notebook))
                atomic_write_json(rec_path, existing)
            records[sub.id] = existing
            reused.append(sub.id)
            log(f"reused {sub.id} (notebook unchanged)")
    known = {s.id for s in subs}
    # GitHub logins are case-insensitive: a roster's "Alice" is the repository "...-alice".
    known_ci = {k.lower() for k in known}
    missing = [sid for sid in roster_ids if sid.lower() not in known_ci]
    if roster_ids:
        roster_ci = {r.lower() for r in roster_ids}
        extra = sorted(k for k in known if k.lower() not in roster_ci)
        if extra:
            print(f"autograder: {len(extra)} copie(s) absente(s) de la liste "
                  f"{Path(roster).name} (notées quand même) : {', '.join(extra[:10])}"
                  + (" …" if len(extra) > 10 else ""), file=sys.stderr)
    for sid in missing:
        rec = base_record(Submission(id=sid, source="", status=STATUS_MISSING,
                                     message="Aucun rendu trouvé pour cet·te étudiant·e."), maxima)
        atomic_write_json(out / "submissions" / f"{sid}.json", rec)
        records[sid] = rec
        log(f"status {sid}: missing (roster)")

    graded: list[str] = []
    failed: list[str] = []
    # The grader's training is deterministic for a given architecture (the
    # grader initialises the weights itself), so its result is memoised on
    # disk, keyed by the architecture's fingerprint, under this version of the
    # grading code. Only trusted grading processes write there.
    cache_dir = None if scheduler else str((out / ".cache" / "accuracy" / fingerprint[:16])
                                            .resolve())
    threads = 1 if scheduler else threads_per_process(min(jobs, max(1, len(todo))))
    by_id = {sub.id: sub for sub in todo}

    def make_job(sub: Submission) -> dict:
        data = Path(sub.notebook).read_bytes()  # read once: sent, and hashed
        return {"id": sub.id, "source": sub.source, "notebook_display": str(sub.notebook),
                "notebook_bytes": data, "sha256": hashlib.sha256(data).hexdigest(),
                "tamper": _tamper(sub),
                "timeout_s": float(timeout_s), "memory_gb": float(memory_gb),
                "maxima": maxima, "isolation": isolation, "run_id": run_id,
                "threads": threads, "cache_dir": cache_dir}

    def error_record(sub: Submission, problem) -> dict:
        rec = base_record(sub, maxima)
        rec["notebook_sha256"] = sha256_file(sub.notebook)
        rec["status"] = STATUS_ERROR
        rec["message"] = (f"Erreur interne du correcteur ({type(problem).__name__}) : cette "
                          f"copie sera recorrigée au prochain lancement.")
        if isinstance(problem, IsolationUnavailable):
            rec["message"] += f" Sur la machine qui l'a corrigée, {problem}"
        rec["run_id"] = run_id
        return rec

    bar = None
    if todo and progress:
        try:
            from tqdm import tqdm
            bar = tqdm(total=len(todo), file=sys.stderr, unit="copie", desc="Correction",
                       dynamic_ncols=True)
        except ImportError:
            bar = None
    previous_term = None
    if threading.current_thread() is threading.main_thread():
        def _on_term(signum, frame):
            raise KeyboardInterrupt
        previous_term = signal.signal(signal.SIGTERM, _on_term)
    executor = None
    interrupted = False
    try:
        executor = (DaskExecutor(scheduler) if scheduler else
                    LocalPool(min(jobs, max(1, len(todo))), prepare_process,
                              (threads, cache_dir)))
        for job, result in executor.run(grade_job, (make_job(sub) for sub in todo)):
            sub = by_id[job["id"]]
            if isinstance(result, dict) and result.get("run_id") == run_id:
                rec = result
            else:
                rec = error_record(sub, result)
                log(f"error {sub.id}: {type(result).__name__}: {str(result)[:300]}")
            atomic_write_json(out / "submissions" / f"{sub.id}.json", rec)
            records[sub.id] = rec
            if rec["status"] == STATUS_ERROR:
                failed.append(sub.id)
            else:
                graded.append(sub.id)
                log(f"graded {sub.id}: {_fmt(rec['total'])}/{_fmt(rec['max_total'])} "
                    f"status={rec['status']} in {rec.get('seconds', 0)}s")
            if bar is not None:
                bar.set_postfix_str(sub.id[:20])
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if executor is not None:
            executor.close(kill=interrupted)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        if bar is not None:
            bar.close()

    ordered = [records[s.id] for s in subs] + [records[sid] for sid in missing]
    _flag_identical(ordered, out)
    # Records of ids no longer among the inputs are moved aside, never mixed in.
    current = {r["id"] for r in ordered}
    for f in (out / "submissions").glob("*.json"):
        if f.stem not in current:
            (out / "stale").mkdir(exist_ok=True)
            os.replace(f, out / "stale" / f.name)
    write_outputs(out, ordered, maxima, lang, params)
    run_info.update(status="finished", finished=_now(),
                    seconds=round(time.monotonic() - t0, 2),
                    submissions=[r["id"] for r in ordered], graded=graded, reused=reused,
                    errors=failed, missing=missing,
                    statuses={k: sum(1 for r in ordered if r["status"] == k)
                              for k in sorted({r["status"] for r in ordered})})
    atomic_write_json(out / "run.json", run_info)
    log(f"run {run_id} end: graded={len(graded)} reused={len(reused)} errors={len(failed)} "
        f"missing={len(missing)}")
    report_path = None
    if report:
        try:
            from autograder.report import write_report
        except ImportError:
            write_report = None
        if write_report is not None:
            try:
                report_path = write_report(out)
            except Exception as exc:  # noqa: BLE001 - the grades are already written
                print(f"autograder: rapport HTML non généré ({exc})", file=sys.stderr)
    print_summary(ordered, run_info, out, report_path, stream)
    return run_info


def _flag_identical(records: list[dict], out: Path) -> None:
    """Set ``identical_to`` (other ids with a byte-identical notebook) on each record.

    Evidence for the teacher only: no score changes. Records whose flag
    changed are rewritten.
    """
    by_hash: dict[str, list[str]] = {}
    for r in records:
        if r.get("notebook_sha256"):
            by_hash.setdefault(r["notebook_sha256"], []).append(r["id"])
    for r in records:
        same = sorted(i for i in by_hash.get(r.get("notebook_sha256") or "", []) if i != r["id"])
        if same != (r.get("identical_to") or []):
            r["identical_to"] = same
            atomic_write_json(out / "submissions" / f"{r['id']}.json", r)


def print_summary(records: list[dict], run_info: dict, out: Path, report_path, stream) -> None:
    """One-screen summary of a run."""
    n = len(records)
    graded = [r for r in records if r["status"] == STATUS_GRADED]
    w = stream.write
    w(f"\nCorrection terminée : {n} copie(s) en {run_info.get('seconds', 0):.0f} s "
      f"({len(run_info.get('graded', []))} corrigée(s), {len(run_info.get('reused', []))} "
      f"inchangée(s) reprise(s)).\n")
    if run_info.get("statuses"):
        w("Statuts : " + ", ".join(f"{k} {v}" for k, v in run_info["statuses"].items()) + "\n")
    if graded:
        mean = sum(r["total"] for r in graded) / len(graded)
        maxt = graded[0]["max_total"]
        w(f"Moyenne (copies corrigées) : {mean:.2f} / {_fmt(maxt)}\n")
        for q in AUTO_QUESTIONS:
            scores = [r["questions"].get(q, {}).get("score", 0) for r in graded]
            mx = graded[0]["questions"].get(q, {}).get("max_score", 0)
            full = sum(1 for r in graded if r["questions"].get(q, {}).get("score", 0) >= mx > 0)
            bad = {}
            for r in graded:
                st = r["questions"].get(q, {}).get("status", "ok")
                if st != "ok":
                    bad[st] = bad.get(st, 0) + 1
            extra = (" ; " + ", ".join(f"{k} {v}" for k, v in bad.items())) if bad else ""
            w(f"  {q} {QUESTION_TITLES[q]:<14} moyenne {sum(scores) / len(scores):5.2f} / "
              f"{_fmt(mx):<3} note maximale : {full}/{len(graded)}{extra}\n")
    problems = [r for r in records if r["status"] != STATUS_GRADED]
    for r in problems[:8]:
        w(f"  ! {r['id']} : {r['status']} — {clean_text(r.get('message', ''), 300)}\n")
    if len(problems) > 8:
        w(f"  … et {len(problems) - 8} autre(s) (voir grades.csv)\n")
    tampered = [r["id"] for r in records if r.get("tamper")]
    if tampered:
        w(f"Fichiers protégés modifiés : {', '.join(tampered[:10])}\n")
    identical = [r["id"] for r in records if r.get("identical_to")]
    if identical:
        w(f"Notebooks identiques à une autre copie (à examiner) : {', '.join(identical[:10])}"
          + (" …" if len(identical) > 10 else "") + "\n")
    w(f"Notes : {out / 'grades.csv'}   retours : {out / 'feedback'}/\n")
    if report_path:
        w(f"Rapport : {report_path}\n")
