"""Which top-level statements of a notebook the grading keeps (the extraction rule).

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
"""

from __future__ import annotations

import ast
import types

#: Callee names (plain name or last attribute) that make an assignment dropped.
FORBIDDEN_CALLS = frozenset(
    {
        # training, evaluation, prediction
        "fit",
        "fit_generator",
        "train_on_batch",
        "evaluate",
        "evaluate_generator",
        "predict",
        "predict_on_batch",
        "predict_proba",
        "predict_generator",
        "compile",
        "summary",
        "cross_val_score",
        "cross_validate",
        "GridSearchCV",
        # data
        "load_data",
        "load_fashion_mnist",
        "train_test_split",
        "fit_transform",
        "transform",
        "inverse_transform",
        "partial_fit",
        "to_categorical",
        "StandardScaler",
        "MinMaxScaler",
        "RobustScaler",
        "Normalizer",
        "LabelEncoder",
        "OneHotEncoder",
        "PCA",
        "DataFrame",
        "read_json",
        "get_file",
        "fetch_openml",
        "image_dataset_from_directory",
        "from_tensor_slices",
        "read_csv",
        "read_parquet",
        "load",
        "loadtxt",
        "genfromtxt",
        "fromfile",
        "load_model",
        "load_weights",
        "save",
        "save_weights",
        "savez",
        "savefig",
        "dump",
        "dumps",
        "pickle",
        # plots and display
        "plot",
        "plot_model",
        "show",
        "subplots",
        "subplot",
        "figure",
        "imshow",
        "lineplot",
        "barplot",
        "boxplot",
        "histplot",
        "scatterplot",
        "heatmap",
        "display",
        "print",
        "pprint",
        # processes, files, interpreter
        "get_ipython",
        "open",
        "input",
        "exec",
        "eval",
        "compile_",
        "__import__",
        "system",
        "popen",
        "Popen",
        "run",
        "call",
        "check_call",
        "check_output",
        "sleep",
        "exit",
        "quit",
        "_exit",
        "abort",
        "kill",
        "fork",
        "remove",
        "unlink",
        "rmtree",
        "rmdir",
        "mkdir",
        "makedirs",
        "urlopen",
        "urlretrieve",
        "Notebook",
        "check",
        "check_all",
        "export",
    }
)

#: Top-level imports of these packages are dropped (grading tools, not student code).
DROPPED_MODULES = frozenset({"otter", "autograder"})

_CELL_MAGIC_BODY_KEPT = ("time", "timeit", "capture", "prun")


# ---------------------------------------------------------------- magics


def transform_magics(src: str) -> str | None:
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
        lines = [("" if ln.lstrip().startswith(("%", "!")) else ln) for ln in src.split("\n")]
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
        names += [
            n
            for it in stmt.items
            if it.optional_vars is not None
            for n in (_bound_names(it.optional_vars) or [])
        ]
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


class Analyser:
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
                if (
                    isinstance(node.func, ast.Name)
                    and name in self.dropped
                    and name not in self.available
                ):
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
            return (
                stmt.value is not None
                and _bound_names(stmt.target) is not None
                and self.simple(stmt.value)
            )
        if isinstance(stmt, ast.AugAssign):
            names = _bound_names(stmt.target)
            return (
                names is not None
                and all(n in self.available for n in names)
                and self.simple(stmt.value)
            )
        if isinstance(stmt, ast.If):
            return self.simple(stmt.test) and self._block(stmt.body + stmt.orelse)
        if isinstance(stmt, ast.Try):
            handlers_ok = all(self.simple(h.type) and self._block(h.body) for h in stmt.handlers)
            return handlers_ok and self._block(stmt.body + stmt.orelse + stmt.finalbody)
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
                    isinstance(value, ast.Name) and value.id in self.functions
                ):
                    self.functions.update(names)
        else:
            for name in names:
                self.dropped.setdefault(name, cell)
        return names


def global_names(code: types.CodeType) -> set[str]:
    """Global names a compiled function may read, its nested functions and lambdas included.

    Args:
        code: a function's ``__code__``.

    Returns:
        Every name in ``co_names`` of ``code`` and of the code objects it contains.
    """
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= global_names(const)
    return names
