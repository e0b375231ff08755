"""Untrusted side of the sandbox: ``python -m autograder.public.untrusted JOB_DIR``.

Started by :mod:`autograder.public.sandbox`, inside a bubblewrap sandbox when one is
available (new user, PID, mount, network and IPC namespaces, a new session,
no capabilities, uid 65534, a read-only view of the interpreter and of a
staged copy of the public subpackage (:mod:`autograder.public`), and a size-limited tmpfs as its only writable
folder), otherwise as a plain child process.

``JOB_DIR/job.json`` holds ``{"code": Extracted.to_dict(), "questions": [...],
"memory_gb": float, "channel_fd": int, "skip": [{"cell", "line", "message", "message_en"}]}``.
The child caps its own memory (``RLIMIT_DATA``), core files and file sizes,
limits TensorFlow to one thread, executes the kept statements one by one in a
fresh namespace (errors are recorded, never fatal; the statements listed in
``skip``, which hung in an earlier run, are not executed), then for each
question calls :func:`probe` and :func:`save_artefacts` into
``JOB_DIR/out/<question>/`` with a ``result.json`` (``status``, ``message``, ``message_en``,
``seconds``).

The child's only way to hand anything back is the channel (file descriptor
``channel_fd``): a stream of frames ``kind (1 byte) + length (4 bytes, big
endian) + payload``. Kind ``S`` is a stage marker (JSON: ``{"stage": "exec",
"cell": n, "line": l}`` before each kept statement, ``{"stage": "question",
"question": q}`` before each question) that lets the parent enforce a time
budget per stage and name the statement that hung; kind ``F`` is an
uncompressed tar of one output folder (``exec`` or a question). The parent
reads the channel with bounds and trusts nothing in it beyond "these files
were sent": models are reloaded with Keras's safe mode and scores are
computed in the parent.

A question that calls ``sys.exit`` is recorded as ``exited`` and the next
question still runs; ``os._exit``, a crash or a kill leave no result and the
parent tells why from the exit status.
"""

from __future__ import annotations

import ast
import builtins
import json
import linecache
import os
import sys
import time
import types
from pathlib import Path

from autograder.public.fsutil import atomic_write_json
from autograder.public.statements import global_names

GIB = 1024**3


def _set_limits(memory_gb: float) -> None:
    """Cap this process (soft = hard, so student code cannot raise them)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX: the parent's watchdog only
        return
    limit = int(memory_gb * GIB)
    for res, value in (
        (resource.RLIMIT_DATA, limit),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, 512 * 1024**2),
    ):
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):  # pragma: no cover - already lower
            pass


_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446


def restrict_writes(allowed: list[Path]) -> bool:
    """Forbid file creation, writing and deletion outside ``allowed`` (Landlock).

    Reading stays allowed everywhere (Python needs its libraries). Linux 5.13+
    with Landlock enabled only; elsewhere nothing is restricted.

    Args:
        allowed: folders (and their subtrees) where writing stays allowed.

    Returns:
        Whether the restriction is in force.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        syscall = libc.syscall
        syscall.restype = ctypes.c_long
        abi = syscall(_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
        if abi < 1:
            return False
        write = 1 << 1
        handled = write | sum(1 << b for b in range(4, 13))  # remove / make *
        if abi >= 2:
            handled |= 1 << 13  # refer (rename, link across folders)
        if abi >= 3:
            handled |= 1 << 14  # truncate

        class RulesetAttr(ctypes.Structure):
            _fields_ = [("handled_access_fs", ctypes.c_uint64)]

        class PathBeneath(ctypes.Structure):
            _pack_ = 1
            _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

        attr = RulesetAttr(handled)
        fd = syscall(
            _LANDLOCK_CREATE_RULESET,
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
            ctypes.c_uint32(0),
        )
        if fd < 0:
            return False
        try:
            rules = [(Path(p), handled) for p in allowed] + [
                (Path("/dev"), write | (handled & (1 << 14)))
            ]
            for path, access in rules:
                try:
                    pfd = os.open(path, os.O_PATH)
                except OSError:
                    continue
                try:
                    rule = PathBeneath(access, pfd)
                    if (
                        syscall(
                            _LANDLOCK_ADD_RULE,
                            ctypes.c_int(fd),
                            ctypes.c_int(1),
                            ctypes.byref(rule),
                            ctypes.c_uint32(0),
                        )
                        != 0
                    ):
                        return False
                finally:
                    os.close(pfd)
            if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
                return False
            return syscall(_LANDLOCK_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) == 0
        finally:
            os.close(fd)
    except Exception:  # noqa: BLE001 - never fatal: the other bounds still hold
        return False


def _limit_threads() -> None:
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except Exception:  # noqa: BLE001 - TensorFlow missing or already initialised
        pass


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Channel:
    """The frame stream back to the parent (see the module docstring)."""

    def __init__(self, fd: int | None):
        self.fd = fd

    def send(self, kind: bytes, payload: bytes) -> None:
        if self.fd is None:
            return
        data = kind + len(payload).to_bytes(4, "big") + payload
        try:
            while data:
                data = data[os.write(self.fd, data) :]
        except OSError:  # the parent stopped listening: nothing else to do
            self.fd = None

    def stage(self, **marker) -> None:
        self.send(b"S", json.dumps(marker).encode())

    def folder(self, path: Path) -> None:
        """Send ``path`` (a folder of regular files) as one tar frame."""
        import io
        import tarfile

        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for f in sorted(path.iterdir()) if path.is_dir() else []:
                if f.is_file() and not f.is_symlink():
                    tar.add(f, arcname=f"{path.name}/{f.name}", recursive=False)
        self.send(b"F", buf.getvalue())


class _Skipped(Exception):
    """A statement not executed because it hung in an earlier run."""


#: Top-level imports of these packages are bound to lazy proxies: plotting, data
#: and notebook libraries cost seconds to import and graded functions seldom
#: use them; the first real use (attribute, call, subclassing) imports them.
LAZY_PACKAGES = frozenset(
    {"matplotlib", "seaborn", "pandas", "sklearn", "scipy", "plotly", "IPython", "tqdm", "PIL"}
)


class _Lazy:
    """Stand-in for a module or an object imported from a module, loaded on use."""

    __slots__ = ("_lazy_module", "_lazy_attr", "_lazy_also", "_lazy_value")

    def __init__(self, module: str, attr: str | None = None, also: tuple = ()):
        object.__setattr__(self, "_lazy_module", module)
        object.__setattr__(self, "_lazy_attr", attr)
        object.__setattr__(self, "_lazy_also", also)

    def _lazy_load(self):
        try:
            return object.__getattribute__(self, "_lazy_value")
        except AttributeError:
            pass
        import importlib

        module = importlib.import_module(self._lazy_module)
        for extra in self._lazy_also:
            importlib.import_module(extra)
        value = module
        if self._lazy_attr is not None:
            try:
                value = getattr(module, self._lazy_attr)
            except AttributeError:
                value = importlib.import_module(f"{self._lazy_module}.{self._lazy_attr}")
        object.__setattr__(self, "_lazy_value", value)
        return value

    def __getattr__(self, name):
        return getattr(self._lazy_load(), name)

    def __setattr__(self, name, value):
        setattr(self._lazy_load(), name, value)

    def __call__(self, *args, **kwargs):
        return self._lazy_load()(*args, **kwargs)

    def __mro_entries__(self, bases):
        return (self._lazy_load(),)

    def __instancecheck__(self, obj):
        return isinstance(obj, self._lazy_load())

    def __subclasscheck__(self, cls):
        return issubclass(cls, self._lazy_load())

    def __getitem__(self, key):
        return self._lazy_load()[key]

    def __iter__(self):
        return iter(self._lazy_load())

    def __dir__(self):
        return dir(self._lazy_load())

    def __repr__(self):
        return repr(self._lazy_load())


def _lazy_bindings(stmt) -> dict | None:
    """Name -> lazy proxy for an import of :data:`LAZY_PACKAGES`; None otherwise."""
    if isinstance(stmt, ast.Import):
        if not all(a.name.split(".")[0] in LAZY_PACKAGES for a in stmt.names):
            return None
        out = {}
        for a in stmt.names:
            if a.asname:
                out[a.asname] = _Lazy(a.name)
            else:
                root = a.name.split(".")[0]
                out[root] = _Lazy(root, also=(a.name,) if a.name != root else ())
        return out
    if (
        isinstance(stmt, ast.ImportFrom)
        and stmt.level == 0
        and stmt.module
        and stmt.module.split(".")[0] in LAZY_PACKAGES
        and all(a.name != "*" for a in stmt.names)
    ):
        return {a.asname or a.name: _Lazy(stmt.module, a.name) for a in stmt.names}
    return None


def execute(code, namespace: dict, skip: dict | None = None, channel=None) -> list[dict]:
    """Run the kept statements of ``code`` in ``namespace``, one at a time.

    Top-level imports of :data:`LAZY_PACKAGES` bind lazy proxies instead.

    Args:
        code: an :class:`autograder.public.extract.Extracted`.
        namespace: the globals to fill.
        skip: ``{(cell, line): French message}`` or ``{(cell, line): (French,
            English)}`` of statements not to run (they hung in an earlier run);
            each is recorded as an error.
        channel: a :class:`Channel` told which statement starts (or None).

    Returns:
        One dict per statement that raised: ``cell``, ``line``, ``names``,
        ``error`` (French). ``code.unavailable`` (and ``code.unavailable_en``) is
        extended with the names the failing statements would have bound.
        ``SystemExit`` propagates.
    """
    from autograder.public.probe import explain_name_errors
    from autograder.public.statements import statement_binds

    errors = []
    for cell in code.cells:
        filename = f"<cellule {cell.index}>"
        linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True), filename)
        body = ast.parse(cell.source, filename).body
        for i in cell.keep:
            stmt = body[i]
            lazy = _lazy_bindings(stmt)
            if lazy is not None:
                namespace.update(lazy)
                continue
            if channel is not None:
                channel.stage(stage="exec", cell=cell.index, line=stmt.lineno)
            try:
                if (cell.index, stmt.lineno) in (skip or {}):
                    raise _Skipped(skip[(cell.index, stmt.lineno)])
                exec(compile(ast.Module([stmt], []), filename, "exec"), namespace)
            except Exception as exc:  # noqa: BLE001 - student code
                names = statement_binds(stmt)
                if isinstance(exc, NameError) and getattr(exc, "name", None) in code.unavailable:
                    detail = code.unavailable[exc.name]
                    detail_en = code.unavailable_en.get(exc.name, detail)
                else:
                    detail = detail_en = _short(exc)
                where = f"(ligne {stmt.lineno})"
                message = f"la cellule {cell.index} {where} a levé une erreur : {detail}"
                message_en = f"cell {cell.index} (line {stmt.lineno}) raised an error: {detail_en}"
                if isinstance(exc, _Skipped):
                    given = exc.args[0]
                    message, message_en = given if isinstance(given, tuple) else (given, given)
                errors.append(
                    {"cell": cell.index, "line": stmt.lineno, "names": names, "error": message}
                )
                for name in names:
                    if name not in namespace:
                        code.unavailable.setdefault(name, f"{name} n'est pas définie car {message}")
                        code.unavailable_en.setdefault(
                            name, f"{name} is not defined because {message_en}"
                        )
    for name, value in list(namespace.items()):
        if (
            isinstance(value, types.FunctionType)
            and value.__globals__ is namespace
            and global_names(value.__code__) & set(code.unavailable)
        ):
            namespace[name] = explain_name_errors(value, code.unavailable, code.variables)
    return errors


_MEMORY_MARKS = (
    "MemoryError",
    "ResourceExhausted",
    "bad_alloc",
    "Unable to allocate",
    "OOM when allocating",
)


def _memory_message(memory_gb: float, detail: str) -> tuple[str, str]:
    return (
        f"attendu : au plus {memory_gb:g} Go de mémoire, reçu : une allocation "
        f"refusée au-delà de cette limite ({detail[:200]}).",
        f"expected at most {memory_gb:g} GB of memory, got: an allocation refused "
        f"beyond that limit ({detail[:200]}).",
    )


def _classify(artefacts: dict, memory_gb: float) -> tuple[str, str, str]:
    from autograder.public.probe import AUXILIARY, ProbeFailure

    artefacts = {k: v for k, v in artefacts.items() if k not in AUXILIARY}
    failures = [a for a in artefacts.values() if isinstance(a, ProbeFailure)]
    for f in failures:
        text = f"{f.message_fr} {f.message_en}"
        for mark in _MEMORY_MARKS:
            if mark in text:
                return "memory", *_memory_message(memory_gb, text[text.index(mark) :].strip(" ."))
    if artefacts and len(failures) == len(artefacts):
        return "error", failures[0].message_fr, failures[0].message_en
    return "ok", "", ""


def run_question(
    code,
    namespace: dict,
    question: str,
    qdir: Path,
    memory_gb: float,
    exit_during_exec: SystemExit | None = None,
    interruptible: bool = False,
) -> dict:
    """Probe one question in ``namespace`` and write its files into ``qdir``.

    The child does this for each question; the notebook's helpers
    (:func:`autograder.public.pipeline.run_in_process`) do it in the kernel.

    Args:
        code: the :class:`~autograder.public.extract.Extracted` that filled ``namespace``.
        namespace: the globals :func:`execute` filled.
        question: ``"q1"``...
        qdir: folder that receives ``probe.json``, the ``.keras`` archives and
            ``result.json`` (``status``, ``message``, ``seconds``).
        memory_gb: the memory cap named in memory messages.
        exit_during_exec: the ``SystemExit`` the definitions raised, if any.
        interruptible: let ``KeyboardInterrupt`` through (a kernel's interrupt button).

    Returns:
        The ``result.json`` document.
    """
    from autograder.public.extract import QUESTION_FUNCTIONS
    from autograder.public.probe import probe, save_artefacts

    t0 = time.perf_counter()
    qdir.mkdir(parents=True, exist_ok=True)
    name = QUESTION_FUNCTIONS.get(question, "")
    if exit_during_exec is not None:
        result = _result("exited", *_exit_message(exit_during_exec, None))
    elif name and name in code.unavailable and not callable(namespace.get(name)):
        result = _result("error", code.unavailable[name], code.unavailable_en.get(name, ""))
    else:
        try:
            artefacts = probe(question, namespace)
            save_artefacts(artefacts, qdir)
            result = _result(*_classify(artefacts, memory_gb))
        except SystemExit as exc:
            result = _result("exited", *_exit_message(exc, name))
        except MemoryError as exc:
            result = _result("memory", *_memory_message(memory_gb, _short(exc)))
        except BaseException as exc:  # noqa: BLE001 - keep going to the next question
            if interruptible and isinstance(exc, KeyboardInterrupt):
                raise
            result = _result(
                "error",
                f"erreur inattendue pendant la construction : {_short(exc)}",
                f"unexpected error while building: {_short(exc)}",
            )
    result["seconds"] = time.perf_counter() - t0
    atomic_write_json(qdir / "result.json", result, indent=None)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    job_dir = Path(argv[0]).resolve()
    job = json.loads((job_dir / "job.json").read_text(encoding="utf-8"))
    memory_gb = float(job.get("memory_gb", 4.0))
    channel = Channel(job.get("channel_fd"))
    _set_limits(memory_gb)
    out = job_dir / "out"
    _limit_threads()
    confined = restrict_writes([job_dir / d for d in ("out", "work", "tmp")])

    from autograder.public.extract import Extracted

    code = Extracted.from_dict(job["code"])
    skip = {
        (int(s["cell"]), int(s["line"])): (str(s["message"]), str(s.get("message_en") or ""))
        for s in job.get("skip", [])
    }
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    started = time.perf_counter()
    try:
        errors = execute(code, namespace, skip, channel)
        exit_during_exec = None
    except SystemExit as exc:
        errors, exit_during_exec = [], exc
    atomic_write_json(
        out / "exec" / "exec.json",
        {"errors": errors, "writes_confined": confined, "seconds": time.perf_counter() - started},
        indent=None,
    )
    channel.folder(out / "exec")
    for question in job["questions"]:
        channel.stage(stage="question", question=question)
        run_question(code, namespace, question, out / question, memory_gb, exit_during_exec)
        channel.folder(out / question)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip TensorFlow's slow teardown and any student atexit hook


def _result(status: str, message: str, message_en: str) -> dict:
    """A question's ``result.json``: status, French message and its English twin."""
    return {"status": status, "message": message, "message_en": message_en}


def _exit_message(exc: SystemExit, name: str | None) -> tuple[str, str]:
    where = f"`{name}`" if name else "le code du notebook"
    where_en = f"`{name}`" if name else "the notebook's code"
    return (
        f"attendu : {where} rend la main normalement, reçu : un appel à sys.exit"
        f"({exc.code!r}) qui arrête le programme.",
        f"expected {where_en} to return normally, got: a call to sys.exit({exc.code!r}) "
        f"that stops the program.",
    )


if __name__ == "__main__":
    main()
