"""Reading what untrusted code handed back, with bounds (trusted side).

Everything the sandboxed child writes is hostile until proven otherwise: a
JSON file may be nested 100,000 deep or weigh gigabytes, a ``.keras`` archive
may hide a 1.5 GB ``config.json`` behind 1.5 MB of compressed padding, a
message may carry terminal escapes, Markdown headings or a lone surrogate.
This module is the one place that turns such bytes into Python values:

* :func:`read_json_bounded`: size and nesting depth checked before parsing;
* :func:`keras_archive_problem`: a ``.keras`` file's members, sizes and
  ``config.json`` depth checked before Keras opens it;
* :func:`clean_text`: student-written text made safe to show anywhere
  (control and bidirectional characters removed, whitespace folded, length
  capped); escaping for a given format (Markdown, HTML) stays with the writer
  of that format.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from pathlib import Path

#: Largest JSON file read back from a sandboxed child.
JSON_LIMIT = 1024**2
#: Deepest nesting accepted in any JSON read back (a Keras config needs about 12).
DEPTH_LIMIT = 64
#: Members of a ``.keras`` archive and their size caps (uncompressed bytes).
KERAS_MEMBERS = {
    "config.json": 2 * 1024**2,
    "metadata.json": 64 * 1024,
    "model.weights.h5": 32 * 1024**2,
}
#: Default length of a student-written message once cleaned.
TEXT_LIMIT = 300

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}


def json_depth(text: str) -> int:
    """Deepest nesting of arrays and objects in a JSON text (strings ignored)."""
    depth = deepest = 0
    for ch in _STRING.sub("", text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads_bounded(text: str | bytes, max_bytes: int = JSON_LIMIT, max_depth: int = DEPTH_LIMIT):
    """``json.loads`` of a text checked for size and depth first.

    Raises:
        ValueError: too large, too deep, not UTF-8 or not JSON.
    """
    if len(text) > max_bytes:
        raise ValueError(f"JSON larger than {max_bytes} bytes")
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if json_depth(text) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth}")
    try:
        return json.loads(text)
    except RecursionError as exc:  # pragma: no cover - depth is checked first
        raise ValueError("JSON nested too deep") from exc


def read_json_bounded(path, max_bytes: int = JSON_LIMIT, max_depth: int = DEPTH_LIMIT):
    """The JSON content of ``path``, or None when absent, too large, too deep or invalid."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
        return loads_bounded(data, max_bytes, max_depth)
    except (OSError, ValueError):
        return None


def keras_archive_problem(path) -> str | None:
    """Why ``path`` is not a ``.keras`` archive safe to hand to Keras (English), or None.

    Only the members Keras writes are accepted, each under its size cap
    (:data:`KERAS_MEMBERS`, sizes as declared and as actually decompressed),
    and ``config.json`` must be JSON no deeper than :data:`DEPTH_LIMIT`.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > 2 * len(KERAS_MEMBERS):
                return f"{len(infos)} members"
            names = set()
            for info in infos:
                name = info.filename.rstrip("/")
                if name == "assets" or name.startswith("assets/") and info.file_size == 0:
                    continue
                cap = KERAS_MEMBERS.get(name)
                if cap is None:
                    return f"unexpected member {name[:60]!r}"
                if info.file_size > cap or name in names:
                    return f"member {name} of {info.file_size} bytes"
                names.add(name)
            if "config.json" not in names:
                return "no config.json"
            with zf.open("config.json") as fh:
                config = fh.read(KERAS_MEMBERS["config.json"] + 1)
            loads_bounded(config, KERAS_MEMBERS["config.json"])
            if "model.weights.h5" in names:
                with zf.open("model.weights.h5") as fh:
                    size = 0
                    while chunk := fh.read(1 << 20):  # as decompressed, whatever the header says
                        size += len(chunk)
                        if size > KERAS_MEMBERS["model.weights.h5"]:
                            return "weights larger than declared"
    except (OSError, ValueError, zipfile.BadZipFile, RuntimeError, EOFError) as exc:
        return f"{type(exc).__name__}: {str(exc)[:80]}"
    return None


def clean_text(text, limit: int = TEXT_LIMIT) -> str:
    """Student-written text made safe to show: one line, printable, at most ``limit`` characters.

    Non-strings give ``""``. Control, format (bidirectional overrides,
    zero-width), surrogate and unassigned characters are removed, runs of white
    space become one space, and a longer text is cut with "…".
    """
    if not isinstance(text, str):
        return ""
    text = text[: limit * 4]
    kept = []
    for ch in text:
        if ch in "\t\n\r":
            kept.append(" ")
        elif unicodedata.category(ch) not in _INVISIBLE:
            kept.append(ch)
    text = " ".join("".join(kept).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_relative_file(root: Path, candidate: Path) -> bool:
    """Whether ``candidate`` is a regular file inside ``root`` reached without any symlink."""
    try:
        rel = candidate.relative_to(root)
    except ValueError:
        return False
    current = root
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            return False
    return candidate.is_file()
