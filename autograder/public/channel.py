"""The parent's side of the sandbox's pipes, read with bounds.

:class:`ChannelReader` reads the child's only channel back (frames: ``S`` stage
markers, ``F`` tar files of an output folder) and unpacks what it accepts;
:class:`OutputCapture` keeps a bounded excerpt of its stdout or stderr. Both run
in threads of the trusted process; nothing they read is trusted beyond "these
files were sent".
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import tarfile
import threading
from pathlib import Path

#: Characters of stdout/stderr kept per child (first and last halves).
OUTPUT_LIMIT = 20_000
#: Bytes the parent reads from the child's channel, in all.
CHANNEL_LIMIT = 128 * 1024**2
#: Largest file the child may hand back (a ``.keras`` archive).
FILE_LIMIT = 32 * 1024**2
#: Files per output folder.
FILES_PER_FOLDER = 16
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


class OutputCapture(threading.Thread):
    """Drain a pipe, keeping the first and last OUTPUT_LIMIT/2 characters."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe, self.head, self.tail, self.dropped = pipe, b"", b"", 0

    def run(self):
        half = OUTPUT_LIMIT // 2
        for chunk in iter(lambda: self.pipe.read1(65536), b""):
            if len(self.head) < half:
                take = half - len(self.head)
                self.head += chunk[:take]
                chunk = chunk[take:]
            self.tail = self.tail + chunk
            if len(self.tail) > half:
                self.dropped += len(self.tail) - half
                self.tail = self.tail[-half:]

    def text(self) -> str:
        middle = f"\n[… {self.dropped} octets omis …]\n" if self.dropped else ""
        return (self.head + middle.encode() + self.tail).decode("utf-8", "replace")


class ChannelReader(threading.Thread):
    """Read the child's frames with bounds; unpack its folders into ``dest``.

    Only the folders ``exec`` and the expected questions, in that order, each
    once, with at most :data:`FILES_PER_FOLDER` regular files of at most
    :data:`FILE_LIMIT` bytes and plain names, are accepted. Anything else stops
    the reading (``violation`` says why) and the child is killed.
    """

    def __init__(self, fd: int, dest: Path, questions: list[str], on_stage):
        super().__init__(daemon=True)
        self.fd, self.dest, self.on_stage = fd, dest, on_stage
        self.arrivals: queue.Queue = queue.Queue()  # folder names, then None at the end
        self.expected = ["exec", *questions]
        self.received: list[str] = []
        self.stage: dict = {"stage": "start"}
        self.violation = ""
        self.total = 0

    def _read(self, n: int) -> bytes | None:
        chunks, need = [], n
        while need:
            chunk = os.read(self.fd, min(need, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            need -= len(chunk)
        return b"".join(chunks)

    def run(self):
        try:
            while not self.violation:
                head = self._read(5)
                if head is None:
                    break
                kind, size = head[:1], int.from_bytes(head[1:], "big")
                self.total += 5 + size
                if self.total > CHANNEL_LIMIT:
                    self.violation = "trop de données renvoyées"
                    break
                if kind == b"S" and size <= 4096:
                    self._stage(self._read(size))
                elif kind == b"F" and size <= FILE_LIMIT * FILES_PER_FOLDER:
                    self._folder(self._read(size))
                else:
                    self.violation = "message illisible"
        except OSError:
            pass
        finally:
            os.close(self.fd)
            self.arrivals.put(None)

    def _stage(self, payload: bytes | None) -> None:
        try:
            marker = json.loads(payload or b"")
        except (ValueError, RecursionError):
            marker = None
        if not isinstance(marker, dict):
            self.violation = "message illisible"
            return
        stage = marker.get("stage")
        if stage == "exec" and not self.received:
            cell, line = marker.get("cell"), marker.get("line")
            if isinstance(cell, int) and isinstance(line, int):
                self.stage = {"stage": "exec", "cell": cell, "line": line}
        elif stage == "question":
            q = marker.get("question")
            pending = [e for e in self.expected if e not in self.received]
            # a question starts once, in order, after the definitions
            if self.received and pending and q == pending[0] and self.stage.get("question") != q:
                self.stage = {"stage": "question", "question": q}
                self.on_stage()

    def _folder(self, payload: bytes | None) -> None:
        pending = [e for e in self.expected if e not in self.received]
        if payload is None or not pending:
            self.violation = "message illisible"
            return
        name = pending[0]
        files: dict[str, bytes] = {}
        try:
            with tarfile.open(fileobj=io.BytesIO(payload), mode="r:") as tar:
                for member in tar:
                    folder, _, fname = member.name.partition("/")
                    if (
                        folder != name
                        or not member.isfile()
                        or not _FILE_NAME.match(fname)
                        or member.size > FILE_LIMIT
                        or fname in files
                        or len(files) >= FILES_PER_FOLDER
                    ):
                        raise ValueError(member.name[:80])
                    files[fname] = tar.extractfile(member).read(FILE_LIMIT + 1)
        except (tarfile.TarError, ValueError, OSError, EOFError):
            self.violation = "fichiers renvoyés non conformes"
            return
        target = self.dest / name
        target.mkdir(parents=True, exist_ok=True)
        for fname, data in files.items():
            (target / fname).write_bytes(data)
        self.received.append(name)
        self.arrivals.put(name)
