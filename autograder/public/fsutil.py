"""Files written whole or not at all, JSON, and hashes (standard library only).

Every file the kit writes for someone else to read (grading outputs, the
sandbox's answers to its parent, the accuracy memo, the Actions summary) goes
through :func:`atomic_write_text`: a reader never sees half a file, and a run
killed mid-write leaves the previous version in place (plus, at worst, a
``.<name>.*.tmp`` file that the grading engine removes on its next run).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file + ``os.replace``).

    Args:
        path: destination file; its directory is created if needed.
        text: UTF-8 content, written as is (no newline translation).

    Returns:
        The destination path.
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
    return path


def atomic_write_json(path, data, *, indent: int | None = 2) -> Path:
    """Write ``data`` as UTF-8 JSON (non-ASCII kept, a final newline), atomically.

    Args:
        path: destination file; its directory is created if needed.
        data: a JSON-serialisable value.
        indent: indentation, or None for one compact line.

    Returns:
        The destination path.
    """
    return atomic_write_text(path, json.dumps(data, indent=indent, ensure_ascii=False) + "\n")


def read_json(path):
    """The JSON content of a file, or None when it is absent or unreadable.

    Args:
        path: the file.

    Returns:
        The decoded value, or None.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def sha256_file(path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks.

    Args:
        path: the file.

    Returns:
        64 hex digits.

    Raises:
        OSError: the file cannot be read.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
