"""Where submissions are graded: a local pool of long-lived processes, or a Dask cluster.

Both executors run the same trusted function (:func:`autograder.engine.job.grade_job`)
on job dictionaries and yield ``(job, record or exception)`` as results come
back, so :mod:`autograder.engine.scheduler` writes every output the same way,
whatever executes the jobs.

* :class:`LocalPool`: ``jobs`` long-lived processes (``spawn``), each paying
  TensorFlow's import once and grading many submissions (Keras state cleared
  between them, each process replaced after :data:`TASKS_PER_PROCESS`
  submissions to keep memory bounded). A process that dies (a hostile model
  crashing the loader, the OOM killer) costs only the submissions it was
  grading: they are retried once, each in a fresh pool of its own.
* :class:`DaskExecutor`: one task per submission on an existing Dask
  distributed cluster (``dask scheduler`` / ``dask worker``, or
  ``dask-jobqueue``); Dask reschedules the tasks of a worker that dies.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

#: Submissions one pool process grades before it is replaced (bounded memory).
TASKS_PER_PROCESS = 25
#: Jobs handed out ahead, per process (or per Dask worker thread).
WINDOW = 2


class SchedulerUnavailable(RuntimeError):
    """The Dask cluster cannot be reached (French message)."""


def _kill_tree(pid: int) -> None:
    """Kill a process and everything below it."""
    try:
        import psutil

        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except Exception:  # noqa: BLE001 - already gone
        return
    for p in procs:
        try:
            p.kill()
        except Exception:  # noqa: BLE001
            pass


class LocalPool:
    """``jobs`` long-lived grading processes on this machine.

    Args:
        jobs: number of processes.
        initializer: called once in each process (thread limits, TensorFlow's import).
        initargs: its arguments.
    """

    def __init__(self, jobs: int, initializer: Callable | None = None, initargs: tuple = ()):
        self.jobs, self.initializer, self.initargs = jobs, initializer, initargs
        self._pools: list[ProcessPoolExecutor] = []

    def _pool(self, workers: int) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=self.initializer,
            initargs=self.initargs,
            max_tasks_per_child=TASKS_PER_PROCESS,
        )
        self._pools.append(pool)
        return pool

    def run(self, func: Callable, jobs: Iterable[dict]) -> Iterator[tuple[dict, object]]:
        """Yield ``(job, func(job) or the exception it raised)`` as each finishes.

        Jobs are taken from ``jobs`` lazily, a few more than there are
        processes at a time, so a large class never sits in memory at once.
        """
        broken: list[dict] = []
        pool = self._pool(self.jobs)

        def submit(job):
            nonlocal pool
            try:
                return pool.submit(func, job)
            except BrokenProcessPool:  # a process died: the next jobs go to a new pool
                pool = self._pool(self.jobs)
                return pool.submit(func, job)

        pending = iter(jobs)
        futures: dict = {}
        while True:
            for job in itertools.islice(pending, max(0, WINDOW * self.jobs - len(futures))):
                futures[submit(job)] = job
            if not futures:
                break
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for fut in done:
                job = futures.pop(fut)
                try:
                    yield job, fut.result()
                except BrokenProcessPool:
                    broken.append(job)
                except Exception as exc:  # noqa: BLE001 - reported as the job's error
                    yield job, exc
        for job in broken:  # alone in a fresh process: whoever broke the pool pays alone
            pool = self._pool(1)
            try:
                yield job, pool.submit(func, job).result()
            except Exception as exc:  # noqa: BLE001
                yield job, exc
            finally:
                pool.shutdown(wait=True)

    def close(self, kill: bool = False) -> None:
        """Stop the processes (``kill``: at once, with their sandboxes)."""
        for pool in self._pools:
            if kill:
                for proc in list(getattr(pool, "_processes", {}).values()):
                    _kill_tree(proc.pid)
            pool.shutdown(wait=not kill, cancel_futures=True)
        self._pools.clear()


class DaskExecutor:
    """One task per submission on an existing Dask distributed cluster.

    Args:
        address: the scheduler's address, e.g. ``tcp://10.0.0.5:8786``.
        timeout: seconds to wait for the connection.
    """

    def __init__(self, address: str, timeout: float = 30.0):
        try:
            from distributed import Client
        except ImportError:
            raise SchedulerUnavailable(
                "le paquet `distributed` (Dask) n'est pas installé : pip install dask distributed"
            ) from None
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, ValueError) as exc:
            raise SchedulerUnavailable(
                f"cluster Dask injoignable à {address} ({type(exc).__name__}) : vérifiez que "
                f"`dask scheduler` tourne à cette adresse et que ce port est ouvert"
            ) from None

    def run(self, func: Callable, jobs: Iterable[dict]) -> Iterator[tuple[dict, object]]:
        """Yield ``(job, func(job) or the exception it raised)`` as each finishes.

        At most :data:`WINDOW` tasks per worker thread are in the cluster at
        once; the next job is submitted as each result comes back.
        """
        from distributed import as_completed

        def submit(job):
            return self.client.submit(
                func, job, pure=False, retries=1, key=f"grade-{job['run_id']}-{job['id']}"
            )

        pending = iter(jobs)
        window = WINDOW * max(1, sum(self.client.nthreads().values()))
        futures = {}
        for job in itertools.islice(pending, window):
            futures[submit(job)] = job
        stream = as_completed(list(futures), loop=self.client.loop)
        for fut in stream:
            job = futures.pop(fut)
            try:
                yield job, fut.result()
            except Exception as exc:  # noqa: BLE001 - reported as the job's error
                yield job, exc
            fut.release()
            nxt = next(pending, None)
            if nxt is not None:
                new = submit(nxt)
                futures[new] = nxt
                stream.add(new)

    def close(self, kill: bool = False) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - already disconnected
            pass


def threads_per_process(jobs: int) -> int:
    """TensorFlow threads for each of ``jobs`` grading processes: the cores, shared."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))
