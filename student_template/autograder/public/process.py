"""One untrusted child process: staged, started, watched, read, then cleaned up.

:class:`SandboxProcess` stages the public subpackage and the job, starts
``python -m autograder.public.untrusted`` inside bubblewrap (or as a plain child
process), reads its channel (:mod:`autograder.public.channel`) and enforces the
budgets: wall-clock per stage, memory of the process tree, number of processes.
:mod:`autograder.public.sandbox` decides what to run and what its end means.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder.public.channel import ChannelReader, OutputCapture
from autograder.public.extract import Extracted
from autograder.public.isolation import bubblewrap, bwrap_base, child_environment

#: Seconds between two looks of the watchdog at the process tree.
POLL_S = 0.05
#: Size of the sandbox's only writable folder (a tmpfs).
TMPFS_BYTES = 256 * 1024**2
#: Processes the sandbox may run at once (a fork bomb is stopped there).
MAX_PROCESSES = 64
#: The public subpackage, staged whole into every sandbox (nothing teacher-only is in it).
_PUBLIC = Path(__file__).resolve().parent
_JOB = "/job"  # the job folder as the sandboxed child sees it


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class SandboxProcess:
    """One untrusted child process (sandboxed or not), its channel and its watchdog."""

    def __init__(
        self,
        code: Extracted,
        questions: list[str],
        timeout_s: float,
        memory_gb: float,
        isolation: str,
        skip: list[dict],
    ):
        self.questions, self.timeout_s, self.memory_gb = questions, timeout_s, memory_gb
        self.isolation = isolation
        self.root = Path(tempfile.mkdtemp(prefix="autograder-"))
        host_job = self.root / "job"  # what the child sees (process mode)
        self.received = self.root / "received"  # what the parent unpacked from the channel
        lib = self.root / "lib" / "autograder"
        shutil.copytree(
            _PUBLIC, lib / "public", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        (lib / "__init__.py").write_text("", encoding="utf-8")
        read_fd, write_fd = os.pipe()
        job = {
            "code": code.to_dict(),
            "questions": questions,
            "memory_gb": memory_gb,
            "channel_fd": write_fd,
            "skip": skip,
        }
        (self.root / "job.json").write_text(
            json.dumps(job, ensure_ascii=False, default=str), encoding="utf-8"
        )
        if isolation == "bubblewrap":
            cmd = [
                bubblewrap(),
                *bwrap_base(),
                "--size",
                str(TMPFS_BYTES),
                "--tmpfs",
                _JOB,
                "--dir",
                f"{_JOB}/work",
                "--dir",
                f"{_JOB}/tmp",
                "--dir",
                f"{_JOB}/out",
                "--ro-bind",
                str(self.root / "lib"),
                f"{_JOB}/lib",
                "--ro-bind",
                str(self.root / "job.json"),
                f"{_JOB}/job.json",
                "--chdir",
                f"{_JOB}/work",
                "--clearenv",
            ]
            for k, v in child_environment(_JOB).items():
                cmd += ["--setenv", k, v]
            cmd += ["--", sys.executable, "-s", "-m", "autograder.public.untrusted", _JOB]
            cwd, env = "/", {"PATH": "/usr/bin:/bin"}
        else:
            for d in ("work", "tmp", "out"):
                (host_job / d).mkdir(parents=True)
            shutil.move(str(self.root / "lib"), host_job / "lib")
            shutil.move(str(self.root / "job.json"), host_job / "job.json")
            cmd = [sys.executable, "-s", "-m", "autograder.public.untrusted", str(host_job)]
            cwd, env = host_job / "work", child_environment(str(host_job))
        self.killed_for: str | None = None
        self.peak_rss = 0
        self.started = self.stage_started = time.perf_counter()
        self.stage_times: dict[str, float] = {}
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        self.channel = ChannelReader(read_fd, self.received, questions, self._next_stage)
        self.out, self.err = OutputCapture(self.proc.stdout), OutputCapture(self.proc.stderr)
        for t in (self.channel, self.out, self.err):
            t.start()
        self.watchdog = threading.Thread(target=self._watch, daemon=True)
        self.watchdog.start()

    def _next_stage(self) -> None:
        now = time.perf_counter()
        self.stage_times[self.channel.stage.get("question", "")] = now
        self.stage_started = now

    def _watch(self) -> None:
        import psutil

        cap = self.memory_gb * 1024**3
        # every stage (the definitions, then each question) has its own budget,
        # and the whole run at most one budget per stage
        hard = self.timeout_s * (len(self.questions) + 1)
        try:
            root = psutil.Process(self.proc.pid)
        except psutil.Error:
            return
        known: dict[int, psutil.Process] = {}
        while self.proc.poll() is None:
            try:
                tree = [root] + root.children(recursive=True)
            except psutil.Error:
                tree = [root]
            rss = 0
            for p in tree:
                known.setdefault(p.pid, p)
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_rss = max(self.peak_rss, rss)
            now = time.perf_counter()
            if rss > cap:
                return self._kill("memory", known)
            if len(tree) > MAX_PROCESSES + 2:  # bwrap and its init are not the student's
                return self._kill("processes", known)
            if self.channel.violation:
                return self._kill("channel", known)
            if now - self.stage_started > self.timeout_s or now - self.started > hard:
                return self._kill("timeout", known)
            time.sleep(POLL_S)
        self._kill(None, known)  # stragglers left in the group

    def _kill(self, reason, known) -> None:
        if reason and self.killed_for is None:
            self.killed_for = reason
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass
        for p in known.values():
            try:
                if p.pid != os.getpid():
                    p.kill()
            except Exception:  # noqa: BLE001 - already gone
                pass

    def wait(self) -> float:
        self.proc.wait()
        self.watchdog.join()
        self.channel.join(timeout=10)
        self.out.join(timeout=5)
        self.err.join(timeout=5)
        return time.perf_counter() - self.started

    @property
    def returncode(self) -> int | None:
        """The child's exit status; negative when a signal killed it.

        bubblewrap reports a child killed by signal N as exit status 128 + N.
        """
        rc = self.proc.returncode
        if self.isolation == "bubblewrap" and rc is not None and 128 < rc < 128 + 65:
            return -(rc - 128)
        return rc

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
