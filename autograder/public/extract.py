"""Notebook -> definition-only code (trusted; runs in the grader's process).

Grading never re-runs a student's training: :func:`extract_notebook` keeps from
each code cell only what the graded functions may need, and the sandboxed child
(:mod:`autograder.public.untrusted`) executes only that.

Rule (applied to each top-level statement of each code cell, in notebook order):

* **kept**: ``import`` / ``from ... import`` (except of :data:`DROPPED_MODULES`); ``def`` and ``class`` (always,
  decorators and defaults included); assignments to plain names (``x = ...``,
  ``a, b = ...``, ``x: int = ...``, ``x += ...``) whose value is *simple*; ``if`` /
  ``try`` blocks made only of kept statements (``pass`` allowed), e.g.
  ``try: import keras`` / ``except ImportError: from tensorflow import keras``.
* a value is *simple* when evaluating it calls none of :data:`FORBIDDEN_CALLS`
  (training, prediction, data loading, files, plots, shell...), none of the
  student's own functions or classes, and reads no name bound only by a dropped
  statement (so ``X_train = scaler.fit_transform(...)`` is dropped, and then
  ``input_shape = X_train.shape[1:]`` too). Calls inside a ``lambda`` do not
  count (they do not run at assignment time). So ``INPUT_SHAPE = (28, 28, 1)``,
  ``conv_kwargs = dict(filters=32, kernel_size=3)``,
  ``Conv = partial(keras.layers.Conv2D, padding="same")`` or
  ``init = keras.initializers.HeNormal(seed=0)`` are kept.
* **dropped**: everything else: expressions (``model.fit(...)``, ``print``,
  plots, ``grader.check("q1")``), loops, ``with`` blocks, assignments to
  attributes or subscripts (monkeypatches, ``plt.rcParams[...]``), ``del``,
  ``assert``, IPython magics (``%...``, ``%%...``) and shell escapes (``!...``),
  which IPython's own transformer turns into ``get_ipython()`` calls first.
  The bodies of the cell magics ``%%time``, ``%%timeit`` and ``%%capture`` are
  treated as ordinary code; any other cell magic drops its cell.

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

from autograder.public.bounded import json_depth

#: Question id -> the student's function graded by that question.
from autograder.public.assignment import QUESTION_FUNCTIONS  # noqa: F401 - re-exported

#: Callee names (plain name or last attribute) that make an assignment dropped.
FORBIDDEN_CALLS = frozenset({
    # training, evaluation, prediction
    "fit", "fit_generator", "train_on_batch", "evaluate", "evaluate_generator",
    "predict", "predict_on_batch", "predict_proba", "predict_generator",
    "compile", "summary", "cross_val_score", "cross_validate", "GridSearchCV",
    # data
    "load_data", "load_fashion_mnist", "train_test_split", "fit_transform",
    "transform", "inverse_transform", "partial_fit", "to_categorical",
    "StandardScaler", "MinMaxScaler", "RobustScaler", "Normalizer", "LabelEncoder",
    "OneHotEncoder", "PCA", "DataFrame", "read_json",
    "get_file", "fetch_openml", "image_dataset_from_directory",
    "from_tensor_slices", "read_csv", "read_parquet", "load", "loadtxt",
    "genfromtxt", "fromfile", "load_model", "load_weights", "save",
    "save_weights", "savez", "savefig", "dump", "dumps", "pickle",
    # plots and display
    "plot", "plot_model", "show", "subplots", "subplot", "figure", "imshow",
    "lineplot", "barplot", "boxplot", "histplot", "scatterplot", "heatmap",
    "display", "print", "pprint",
    # processes, files, interpreter
    "get_ipython", "open", "input", "exec", "eval", "compile_", "__import__",
    "system", "popen", "Popen", "run", "call", "check_call", "check_output",
    "sleep", "exit", "quit", "_exit", "abort", "kill", "fork", "remove",
    "unlink", "rmtree", "rmdir", "mkdir", "makedirs", "urlopen", "urlretrieve",
    "Notebook", "check", "check_all", "export",
})

#: Top-level imports of these packages are dropped (grading tools, not student code).
DROPPED_MODULES = frozenset({"otter", "autograder"})

_CELL_MAGIC_BODY_KEPT = ("time", "timeit", "capture", "prun")
_DEF_RE = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_]\w*)", re.M)
_ASSIGN_RE = re.compile(r"^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)", re.M)


class NotebookError(Exception):
    """The submission's notebook cannot be read; ``str(exc)`` is French.

    Attributes:
        message: French one-line reason, for the student and the gradebook.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
    """

    cell: int
    line: int | None
    message: str
    names: list[str] = field(default_factory=list)


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
    """

    path: str
    cells: list[CodeCell] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)

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
        return (f"la fonction {name} est introuvable dans le notebook : vérifiez "
                f"son nom exact ({name}) et qu'elle est définie dans une cellule "
                f"de code")

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
    def from_dict(cls, data: dict) -> "Extracted":
        """Inverse of :meth:`to_dict`."""
        return cls(path=data["path"],
                   cells=[CodeCell(**c) for c in data.get("cells", [])],
                   problems=[CellProblem(**p) for p in data.get("problems", [])],
                   functions=list(data.get("functions", [])),
                   unavailable=dict(data.get("unavailable", {})))


# ---------------------------------------------------------------- magics

def _transform_magics(src: str) -> str | None:
    """Turn IPython syntax into plain Python; None when the cell is dropped."""
    stripped = src.lstrip()
    if stripped.startswith("%%"):
        first, _, rest = stripped.partition("\n")
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in _CELL_MAGIC_BODY_KEPT:
            return None
        # keep line numbers: the magic line becomes an empty line
        offset = src[: len(src) - len(stripped)].count("\n")
        src = "\n" * (offset + 1) + rest
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        lines = [("" if ln.lstrip().startswith(("%", "!")) else ln)
                 for ln in src.split("\n")]
        return "\n".join(lines)
    try:
        return TransformerManager().transform_cell(src)
    except Exception:  # noqa: BLE001 - a tokenizer error: let ast report it
        return src


# ---------------------------------------------------------------- analysis

def _bound_names(target: ast.AST) -> list[str] | None:
    """Names bound by an assignment target; None if it is not plain names."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        out = []
        for elt in target.elts:
            names = _bound_names(elt)
            if names is None:
                return None
            out += names
        return out
    return None


def statement_binds(stmt: ast.stmt) -> list[str]:
    """Names a top-level statement binds (best effort, for bookkeeping)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"]
    if isinstance(stmt, ast.Assign):
        return [n for t in stmt.targets for n in (_bound_names(t) or [])]
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        return _bound_names(stmt.target) or []
    names = []
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        names += _bound_names(stmt.target) or []
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        names += [n for it in stmt.items if it.optional_vars is not None
                  for n in (_bound_names(it.optional_vars) or [])]
    for child in ast.iter_child_nodes(stmt):
        if isinstance(child, ast.stmt):
            names += statement_binds(child)
        elif isinstance(child, ast.ExceptHandler):
            for sub in child.body:
                names += statement_binds(sub)
    return names


def _evaluated_nodes(node: ast.AST):
    """Nodes evaluated when ``node`` is evaluated (lambda bodies excluded)."""
    yield node
    if isinstance(node, ast.Lambda):
        for d in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            yield from _evaluated_nodes(d)
        return
    for child in ast.iter_child_nodes(node):
        yield from _evaluated_nodes(child)


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


class _Analyser:
    def __init__(self, functions: set[str]):
        self.functions = set(functions)
        self.available: set[str] = set()
        self.dropped: dict[str, int] = {}

    def simple(self, expr: ast.AST | None) -> bool:
        if expr is None:
            return True
        for node in _evaluated_nodes(expr):
            if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
                return False
            if isinstance(node, ast.Call):
                name = _callee(node)
                if name in FORBIDDEN_CALLS or name in self.functions:
                    return False
                if isinstance(node.func, ast.Name) and name in self.dropped \
                        and name not in self.available:
                    return False
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in self.dropped and node.id not in self.available:
                    return False
        return True

    def keep(self, stmt: ast.stmt) -> bool:
        if isinstance(stmt, ast.Import):
            return not any(a.name.split(".")[0] in DROPPED_MODULES for a in stmt.names)
        if isinstance(stmt, ast.ImportFrom):
            return (stmt.module or "").split(".")[0] not in DROPPED_MODULES
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return True
        if isinstance(stmt, ast.Assign):
            if any(_bound_names(t) is None for t in stmt.targets):
                return False
            return self.simple(stmt.value)
        if isinstance(stmt, ast.AnnAssign):
            return (stmt.value is not None and _bound_names(stmt.target) is not None
                    and self.simple(stmt.value))
        if isinstance(stmt, ast.AugAssign):
            names = _bound_names(stmt.target)
            return (names is not None and all(n in self.available for n in names)
                    and self.simple(stmt.value))
        if isinstance(stmt, ast.If):
            return self.simple(stmt.test) and self._block(stmt.body + stmt.orelse)
        if isinstance(stmt, ast.Try):
            handlers_ok = all(self.simple(h.type) and self._block(h.body)
                              for h in stmt.handlers)
            return (handlers_ok and self._block(stmt.body + stmt.orelse + stmt.finalbody))
        return False

    def _block(self, stmts: list[ast.stmt]) -> bool:
        return all(isinstance(s, ast.Pass) or self.keep(s) for s in stmts)

    def record(self, stmt: ast.stmt, kept: bool, cell: int) -> list[str]:
        names = statement_binds(stmt)
        if kept:
            self.available.update(names)
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                value = stmt.value
                if isinstance(value, ast.Lambda) or (
                        isinstance(value, ast.Name) and value.id in self.functions):
                    self.functions.update(names)
        else:
            for name in names:
                self.dropped.setdefault(name, cell)
        return names


# ---------------------------------------------------------------- reading

def _read(path: Path):
    import nbformat

    if not path.is_file():
        raise NotebookError(f"le notebook {path.name} est introuvable")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidNotebook(f"le fichier {path.name} est illisible ({exc.__class__.__name__}) : "
                              f"ce n'est pas un notebook Jupyter enregistré en UTF-8") from None
    if len(text) > NOTEBOOK_MAX_CHARS or json_depth(text) > NOTEBOOK_MAX_DEPTH:
        raise InvalidNotebook(f"le fichier {path.name} est trop volumineux ou trop imbriqué "
                              f"pour être lu : effacez les sorties et réenregistrez-le")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidNotebook(
            f"le fichier {path.name} n'est pas un JSON valide (ligne {exc.lineno}, "
            f"colonne {exc.colno}) : rouvrez-le dans Jupyter, enregistrez-le, puis "
            f"soumettez-le à nouveau") from None
    except (ValueError, RecursionError):
        raise InvalidNotebook(f"le fichier {path.name} n'est pas un JSON lisible : "
                              f"réenregistrez-le dans Jupyter") from None
    if not isinstance(data, dict) or "cells" not in data:
        raise InvalidNotebook(f"le fichier {path.name} est un JSON mais pas un notebook "
                              f"Jupyter (pas de liste « cells »)")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many types
        raise InvalidNotebook(f"le fichier {path.name} n'est pas un notebook Jupyter "
                              f"lisible ({exc.__class__.__name__})") from None
    return nb


#: A notebook larger or more deeply nested than this is not read (bounded parsing).
NOTEBOOK_MAX_CHARS = 50 * 1024 ** 2
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
    nb = _read(path)
    out = Extracted(path=str(path))
    parsed: list[tuple[int, str, list[ast.stmt]]] = []
    functions: set[str] = set()
    for number, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        raw = cell.get("source") or ""
        if isinstance(raw, list):  # pragma: no cover - nbformat normalises
            raw = "".join(raw)
        if not isinstance(raw, str):
            continue
        # lone surrogates (valid JSON escapes, invalid text) cannot be compiled or sent
        raw = raw.encode("utf-8", "replace").decode("utf-8")
        src = _transform_magics(raw)
        if src is None or not src.strip():
            continue
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            msg = getattr(exc, "msg", None) or str(exc)
            where = f" (ligne {line})" if line else ""
            names = list(dict.fromkeys(_DEF_RE.findall(raw) + _ASSIGN_RE.findall(raw)))
            out.problems.append(CellProblem(
                cell=number, line=line, names=names,
                message=(f"la cellule {number} (« {_first_line(raw)} ») contient une "
                         f"erreur de syntaxe{where} : {msg} ; corrigez-la puis "
                         f"ré-exécutez le notebook")))
            functions.update(_DEF_RE.findall(raw))
            continue
        for stmt in ast.walk(tree):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if stmt in tree.body:
                    functions.add(stmt.name)
        parsed.append((number, src, tree.body))

    analyser = _Analyser(functions)
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
            out.unavailable[name] = (
                f"la variable {name} est calculée dans la cellule {number}, que la "
                f"correction n'exécute pas (entraînement, chargement des données, "
                f"affichage…) : définissez-la dans la fonction ou comme constante")
    for problem in out.problems:
        for name in problem.names:
            if name not in defined:
                out.unavailable[name] = (f"{name} n'est pas définie car "
                                         f"{problem.message}")
    return out
