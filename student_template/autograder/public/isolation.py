"""Which isolation the sandbox uses: bubblewrap when it works here, a plain process otherwise.

bubblewrap (``bwrap``, the namespace sandbox behind Flatpak) is probed once per
process (:func:`bubblewrap`); :func:`bwrap_base` lists its options without the
job's own binds (see :mod:`autograder.public.sandbox` and docs/security.md).
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys

ISOLATIONS = ("bubblewrap", "process")


class IsolationUnavailable(RuntimeError):
    """bubblewrap was required but does not work on this machine (French message)."""


def bwrap_base() -> list[str]:
    """bubblewrap's options, without the job's own binds."""
    args = [
        "--unshare-all",
        "--unshare-user",
        "--new-session",
        "--die-with-parent",
        "--cap-drop",
        "ALL",
        "--uid",
        "65534",
        "--gid",
        "65534",
        "--hostname",
        "sandbox",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for f in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf"):
        if os.path.exists(f):
            args += ["--ro-bind", f, f]
    for root in python_roots():
        args += ["--ro-bind", root, root]
    return args + ["--proc", "/proc", "--dev", "/dev"]


def python_roots() -> list[str]:
    """Folders the interpreter needs: its prefixes and site-packages, outside /usr."""
    roots = []
    candidates = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
        *site.getsitepackages(),
    ]
    for c in candidates:
        real = os.path.realpath(c)
        if not os.path.isdir(real) or real == "/" or real.startswith("/usr/"):
            continue
        if any(real == r or real.startswith(r + os.sep) for r in roots):
            continue
        roots = [r for r in roots if not r.startswith(real + os.sep)] + [real]
        if c != real and os.path.isdir(c):  # a venv reached through a symlink
            roots.append(os.path.abspath(c))
    return sorted(set(roots))


@functools.lru_cache(maxsize=1)
def bubblewrap() -> str | None:
    """Path of a ``bwrap`` that can build this module's sandbox here, else None."""
    path = shutil.which("bwrap")
    if not path:
        return None
    try:
        probe = subprocess.run(
            [path, *bwrap_base(), "--", os.path.realpath(sys.executable), "-S", "-c", "pass"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return path if probe.returncode == 0 else None


INSTALL_HINT = (
    "installez bubblewrap (Debian/Ubuntu : `sudo apt install bubblewrap` ; "
    "Fedora : `sudo dnf install bubblewrap`), ou, en connaissance de cause, "
    "relancez avec --sans-isolation"
)


def resolve_isolation(isolation: str) -> str:
    """``"auto"`` -> the best available; ``"bubblewrap"`` -> checked to work.

    Raises:
        IsolationUnavailable: bubblewrap was required and does not work here.
    """
    if isolation == "process":
        return "process"
    if bubblewrap():
        return "bubblewrap"
    if isolation == "auto":
        return "process"
    raise IsolationUnavailable(
        "le bac à sable bubblewrap (bwrap) est introuvable ou ne fonctionne pas sur "
        "cette machine : sans lui, le code des étudiant·es pourrait lire les autres "
        "copies et les contrôles cachés, ou agir hors de la correction ; " + INSTALL_HINT
    )


def child_environment(job: str) -> dict:
    """The whole environment of the sandboxed child, whose job folder is ``job``."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": f"{job}/work",
        "TMPDIR": f"{job}/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": f"{job}/lib",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "KERAS_BACKEND": "tensorflow",
        "KERAS_HOME": f"{job}/work/.keras",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{job}/tmp",
        "CUDA_VISIBLE_DEVICES": "-1",
    }
