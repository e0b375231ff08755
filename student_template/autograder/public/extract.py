"""Notebook -> definition-only code (trusted; runs in the grader's process).

Grading never re-runs a student's training: :func:`extract_notebook` keeps from
each code cell only what the graded functions may need, and the sandboxed child
(:mod:`autograder.public.untrusted`) executes only that.

Which statements are kept is decided statement by statement in
:mod:`autograder.public.statements` (the rule is written there).

A cell with a syntax error is skipped and recorded (:class:`CellProblem`); the
names it would have defined (``def``/``class``/``NAME =`` found by regular
expression) are reported as unavailable with the syntax error's message, so
only the questions that need them are affected. Cells are numbered from 1 from
the top of the notebook, Markdown cells included.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.public.assignment import QUESTION_FUNCTIONS  # noqa: F401 - re-exported
from autograder.public.bounded import json_depth
from autograder.public.statements import Analyser, transform_magics

_DEF_RE = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_]\w*)", re.M)
_ASSIGN_RE = re.compile(r"^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)", re.M)


class NotebookError(Exception):
    """The submission's notebook cannot be read; ``str(exc)`` is French.

    Attributes:
        message: French one-line reason, for the student and the gradebook.
        message_en: the same reason in English (``--lang en``).
    """

    def __init__(self, message: str, message_en: str = ""):
        super().__init__(message)
        self.message = message
        self.message_en = message_en or message


class InvalidNotebook(NotebookError):
    """The file is not valid JSON or not a Jupyter notebook."""


@dataclass
class CodeCell:
    """One code cell after extraction.

    Attributes:
        index: position of the cell in the notebook, from 1, Markdown included.
        source: the cell's code after IPython's transformation of magics (the
            line numbers are the notebook's).
        keep: indices, in ``ast.parse(source).body``, of the statements to run.
        defines: names bound by the kept statements.
        dropped: names bound only by dropped statements of this cell.
    """

    index: int
    source: str
    keep: list[int] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


@dataclass
class CellProblem:
    """A code cell that could not be used (syntax error).

    Attributes:
        cell: position of the cell in the notebook, from 1.
        line: line of the error in that cell, when known.
        message: French message, "la cellule N contient une erreur de syntaxe...".
        names: names the cell would have defined (best effort).
        message_en: the message in English.
    """

    cell: int
    line: int | None
    message: str
    names: list[str] = field(default_factory=list)
    message_en: str = ""


@dataclass
class Extracted:
    """Definition-only code of one notebook.

    Attributes:
        path: the notebook, as given.
        cells: the code cells that keep at least one statement, in order.
        problems: cells skipped because of a syntax error.
        functions: every function or class name the student defines (broken
            cells included).
        unavailable: name -> French reason, for names the kept code does not
            define because their cell was dropped or broken.
        unavailable_en: the same reasons in English.
        variables: the names among ``unavailable`` bound only by dropped
            statements (notebook data variables such as ``X_train``): a graded
            function reading one fails with :class:`~autograder.public.probe.NotebookVariableError`.
    """

    path: str
    cells: list[CodeCell] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    variables: list[str] = field(default_factory=list)
    unavailable_en: dict[str, str] = field(default_factory=dict)

    @property
    def star_imports(self) -> bool:
        """Whether a kept statement is a ``from ... import *`` (names unknown)."""
        for cell in self.cells:
            body = ast.parse(cell.source).body
            for i in cell.keep:
                for node in ast.walk(body[i]):
                    if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                        return True
        return False

    @property
    def defined(self) -> set[str]:
        """Every name bound by the kept code."""
        return {n for c in self.cells for n in c.defines}

    def why_missing(self, name: str) -> str:
        """French reason why ``name`` is not available to the graded code.

        Args:
            name: a function or variable name, e.g. ``"build_resnet"``.

        Returns:
            The reason recorded for a dropped or broken cell, else a message
            saying the name is not defined in the notebook.
        """
        if name in self.unavailable:
            return self.unavailable[name]
        return (
            f"la fonction {name} est introuvable dans le notebook : vérifiez "
            f"son nom exact ({name}) et qu'elle est définie dans une cellule "
            f"de code"
        )

    def why_missing_en(self, name: str) -> str:
        """:meth:`why_missing` in English."""
        if name in self.unavailable_en:
            return self.unavailable_en[name]
        return (
            f"the function {name} cannot be found in the notebook: check its exact "
            f"name ({name}) and that it is defined in a code cell"
        )

    def code(self) -> str:
        """The kept code as one readable Python source (for humans and tests)."""
        parts = []
        for cell in self.cells:
            body = ast.parse(cell.source).body
            stmts = "\n".join(ast.unparse(body[i]) for i in cell.keep)
            parts.append(f"# cellule {cell.index}\n{stmts}")
        return "\n\n".join(parts) + "\n"

    def to_dict(self) -> dict:
        """JSON-ready dictionary (the sandboxed child receives this)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Extracted:
        """Inverse of :meth:`to_dict`."""
        return cls(
            path=data["path"],
            cells=[CodeCell(**c) for c in data.get("cells", [])],
            problems=[CellProblem(**p) for p in data.get("problems", [])],
            functions=list(data.get("functions", [])),
            unavailable=dict(data.get("unavailable", {})),
            variables=list(data.get("variables", [])),
            unavailable_en=dict(data.get("unavailable_en", {})),
        )


# ---------------------------------------------------------------- reading


def read_notebook(path: Path):
    """Read a notebook with bounds: the one reader of every grading path.

    Args:
        path: the ``.ipynb`` file.

    Returns:
        The ``nbformat`` notebook (version 4).

    Raises:
        NotebookError: the file does not exist.
        InvalidNotebook: not UTF-8, too large or too deeply nested, not JSON, or
            not a Jupyter notebook (French message, English in ``message_en``).
    """
    import nbformat

    if not path.is_file():
        raise NotebookError(
            f"le notebook {path.name} est introuvable", f"the notebook {path.name} was not found"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidNotebook(
            f"le fichier {path.name} est illisible ({exc.__class__.__name__}) : "
            f"ce n'est pas un notebook Jupyter enregistré en UTF-8",
            f"the file {path.name} cannot be read ({exc.__class__.__name__}): "
            f"it is not a Jupyter notebook saved in UTF-8",
        ) from None
    if len(text) > NOTEBOOK_MAX_CHARS or json_depth(text) > NOTEBOOK_MAX_DEPTH:
        raise InvalidNotebook(
            f"le fichier {path.name} est trop volumineux ou trop imbriqué "
            f"pour être lu : effacez les sorties et réenregistrez-le",
            f"the file {path.name} is too large or too deeply nested to be read: "
            f"clear the outputs and save it again",
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidNotebook(
            f"le fichier {path.name} n'est pas un JSON valide (ligne {exc.lineno}, "
            f"colonne {exc.colno}) : rouvrez-le dans Jupyter, enregistrez-le, puis "
            f"soumettez-le à nouveau",
            f"the file {path.name} is not valid JSON (line {exc.lineno}, column "
            f"{exc.colno}): open it again in Jupyter, save it, then submit it again",
        ) from None
    except (ValueError, RecursionError):
        raise InvalidNotebook(
            f"le fichier {path.name} n'est pas un JSON lisible : réenregistrez-le dans Jupyter",
            f"the file {path.name} is not readable JSON: save it again in Jupyter",
        ) from None
    if not isinstance(data, dict) or "cells" not in data:
        raise InvalidNotebook(
            f"le fichier {path.name} est un JSON mais pas un notebook "
            f"Jupyter (pas de liste « cells »)",
            f"the file {path.name} is JSON but not a Jupyter notebook (no “cells” list)",
        )
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many types
        raise InvalidNotebook(
            f"le fichier {path.name} n'est pas un notebook Jupyter "
            f"lisible ({exc.__class__.__name__})",
            f"the file {path.name} is not a readable Jupyter notebook ({exc.__class__.__name__})",
        ) from None
    return nb


#: A notebook larger or more deeply nested than this is not read (bounded parsing).
NOTEBOOK_MAX_CHARS = 50 * 1024**2
NOTEBOOK_MAX_DEPTH = 100


def _first_line(src: str) -> str:
    for line in src.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 40 else line[:39] + "…"
    return ""


def extract_notebook(path) -> Extracted:
    """Keep from a notebook only the code grading needs (see the module rule).

    Args:
        path: path of a ``.ipynb`` file.

    Returns:
        An :class:`Extracted`.

    Raises:
        NotebookError: the file does not exist.
        InvalidNotebook: the file is not valid JSON or not a notebook.
    """
    path = Path(path)
    nb = read_notebook(path)
    sources = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        raw = cell.get("source") or ""
        if isinstance(raw, list):  # pragma: no cover - nbformat normalises
            raw = "".join(raw)
        if isinstance(raw, str):
            sources.append((number, raw))
    return extract_sources(sources, str(path))


def extract_sources(sources, path: str = "") -> Extracted:
    """The extraction rule applied to code cells given as ``[(number, source), ...]``.

    Used by :func:`extract_notebook` and, on the notebook's history, by
    :mod:`autograder.public.notebook` (so that the notebook applies the same rule).
    """
    out = Extracted(path=path)
    parsed: list[tuple[int, str, list[ast.stmt]]] = []
    functions: set[str] = set()
    for number, raw in sources:
        # lone surrogates (valid JSON escapes, invalid text) cannot be compiled or sent
        raw = raw.encode("utf-8", "replace").decode("utf-8")
        src = transform_magics(raw)
        if src is None or not src.strip():
            continue
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            msg = getattr(exc, "msg", None) or str(exc)
            where = f" (ligne {line})" if line else ""
            where_en = f" (line {line})" if line else ""
            names = list(dict.fromkeys(_DEF_RE.findall(raw) + _ASSIGN_RE.findall(raw)))
            out.problems.append(
                CellProblem(
                    cell=number,
                    line=line,
                    names=names,
                    message=(
                        f"la cellule {number} (« {_first_line(raw)} ») contient une "
                        f"erreur de syntaxe{where} : {msg} ; corrigez-la puis "
                        f"ré-exécutez le notebook"
                    ),
                    message_en=(
                        f"cell {number} (“{_first_line(raw)}”) has a syntax "
                        f"error{where_en}: {msg}; fix it, then run the notebook again"
                    ),
                )
            )
            functions.update(_DEF_RE.findall(raw))
            continue
        for stmt in ast.walk(tree):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if stmt in tree.body:
                    functions.add(stmt.name)
        parsed.append((number, src, tree.body))

    analyser = Analyser(functions)
    for number, src, body in parsed:
        cell = CodeCell(index=number, source=src)
        for i, stmt in enumerate(body):
            kept = analyser.keep(stmt)
            names = analyser.record(stmt, kept, number)
            if kept:
                cell.keep.append(i)
                cell.defines += [n for n in names if n not in cell.defines]
            else:
                cell.dropped += [n for n in names if n not in cell.dropped]
        if cell.keep:
            out.cells.append(cell)
    out.functions = sorted(analyser.functions)

    defined = out.defined
    for name, number in analyser.dropped.items():
        if name not in defined:
            out.variables.append(name)
            out.unavailable[name] = (
                f"la variable {name} est calculée dans la cellule {number}, que la "
                f"correction n'exécute pas (entraînement, chargement des données, "
                f"affichage…) : définissez-la dans la fonction ou comme constante"
            )
            out.unavailable_en[name] = (
                f"the variable {name} is computed in cell {number}, which grading does "
                f"not run (training, data loading, display…): define it in the "
                f"function or as a constant"
            )
    for problem in out.problems:
        for name in problem.names:
            if name not in defined:
                out.unavailable[name] = f"{name} n'est pas définie car {problem.message}"
                out.unavailable_en[name] = f"{name} is not defined because {problem.message_en}"
    return out
