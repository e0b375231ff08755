"""One grading run: plan -> execute -> finalise.

- :func:`autograder.engine.plan.plan` discovers the submissions and decides
  what needs grading (new, changed, failed or graded by other code).
- :func:`execute` grades it in parallel (:func:`autograder.engine.job.grade_job`
  in a :class:`~autograder.engine.executors.LocalPool` or on a Dask cluster)
  and writes ``out/submissions/<id>.json`` atomically as each record arrives:
  a killed run resumes where it stopped.
- :func:`finalise` flags byte-identical notebooks, moves aside records of ids no
  longer among the inputs, rebuilds the outputs (:mod:`autograder.engine.outputs`),
  ``run.json`` and the report, and writes the summary.

:func:`run` chains the three. Nothing here prints: warnings, progress and the
summary go through a :class:`~autograder.engine.summary.Reporter`.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from autograder.engine.executors import DaskExecutor, LocalPool, threads_per_process
from autograder.engine.job import error_record, grade_job, make_job, prepare_process
from autograder.engine.outputs import write_outputs
from autograder.engine.plan import Plan, Settings, plan
from autograder.engine.records import (
    STATUS_ERROR,
    SubmissionRecord,
    format_points,
    now_iso,
    save_record,
)
from autograder.engine.summary import Reporter
from autograder.public.assignment import DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT_S
from autograder.public.fsutil import atomic_write_json


def execute(p: Plan, settings: Settings, reporter: Reporter) -> None:
    """Grade the plan's submissions, saving each record as it arrives.

    SIGTERM is turned into KeyboardInterrupt while grading (main thread only),
    so that the executor's processes and sandboxes are killed on the way out.

    Args:
        p: the plan (its records, graded and failed lists are updated).
        settings: the run's settings.
        reporter: shows the progress.

    Raises:
        KeyboardInterrupt: interrupted (the records written so far are kept).
    """
    out, scheduler = settings.out, settings.scheduler
    # The grader's training is deterministic for a given architecture (the
    # grader initialises the weights itself), so its result is memoised on
    # disk, keyed by the architecture's fingerprint, under this version of the
    # grading code. Only trusted grading processes write there.
    cache_dir = (
        None if scheduler else str((out / ".cache" / "accuracy" / p.fingerprint[:16]).resolve())
    )
    workers = min(settings.jobs, max(1, len(p.todo)))
    threads = 1 if scheduler else threads_per_process(workers)
    by_id = {sub.id: sub for sub in p.todo}
    jobs = (
        make_job(
            sub,
            timeout_s=settings.timeout_s,
            memory_gb=settings.memory_gb,
            maxima=p.maxima,
            isolation=settings.isolation,
            run_id=p.run_id,
            threads=threads,
            cache_dir=cache_dir,
        )
        for sub in p.todo
    )
    reporter.start(len(p.todo))
    previous_term = None
    if threading.current_thread() is threading.main_thread():

        def _on_term(signum, frame):
            raise KeyboardInterrupt

        previous_term = signal.signal(signal.SIGTERM, _on_term)
    executor = None
    interrupted = False
    try:
        executor = (
            DaskExecutor(scheduler)
            if scheduler
            else LocalPool(workers, prepare_process, (threads, cache_dir))
        )
        for job, result in executor.run(grade_job, jobs):
            sub = by_id[job["id"]]
            if isinstance(result, dict) and result.get("run_id") == p.run_id:
                rec = SubmissionRecord.from_dict(result)
            else:
                rec = error_record(sub, result, p.maxima, p.run_id)
                p.log(f"error {sub.id}: {type(result).__name__}: {str(result)[:300]}")
            p.records[sub.id] = save_record(out, rec)
            if rec.status == STATUS_ERROR:
                p.failed.append(sub.id)
            else:
                p.graded.append(sub.id)
                p.log(
                    f"graded {sub.id}: {format_points(rec.total)}/"
                    f"{format_points(rec.max_total)} status={rec.status} in {rec.seconds}s"
                )
            reporter.advance(sub.id)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if executor is not None:
            executor.close(kill=interrupted)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
        reporter.stop()


def flag_identical(records: list[SubmissionRecord], out: Path) -> None:
    """Set ``identical_to`` (other ids with a byte-identical notebook) on each record.

    Evidence for the teacher only: no score changes. Records whose flag
    changed are rewritten.

    Args:
        records: the run's records.
        out: the output folder.
    """
    by_hash: dict[str, list[str]] = {}
    for r in records:
        if r.notebook_sha256:
            by_hash.setdefault(r.notebook_sha256, []).append(r.id)
    for r in records:
        same = sorted(i for i in by_hash.get(r.notebook_sha256 or "", []) if i != r.id)
        if same != (r.identical_to or []):
            r.identical_to = same
            save_record(out, r)


def finalise(p: Plan, settings: Settings, reporter: Reporter) -> dict:
    """Rebuild every output from the run's records, then ``run.json``, the report, the summary.

    Args:
        p: the executed plan.
        settings: the run's settings.
        reporter: writes the warnings and the summary.

    Returns:
        The ``run.json`` content.
    """
    out = settings.out
    ordered = [p.records[s.id] for s in p.subs] + [p.records[sid] for sid in p.missing]
    flag_identical(ordered, out)
    # Records of ids no longer among the inputs are moved aside, never mixed in.
    current = {r.id for r in ordered}
    for f in (out / "submissions").glob("*.json"):
        if f.stem not in current:
            (out / "stale").mkdir(exist_ok=True)
            os.replace(f, out / "stale" / f.name)
    dicts = [r.to_dict() for r in ordered]
    write_outputs(out, dicts, p.maxima, settings.lang, p.params)
    run_info = p.run_info
    run_info.update(
        status="finished",
        finished=now_iso(),
        seconds=round(time.monotonic() - p.t0, 2),
        submissions=[r.id for r in ordered],
        graded=p.graded,
        reused=p.reused,
        errors=p.failed,
        missing=p.missing,
        statuses={
            k: sum(1 for r in ordered if r.status == k) for k in sorted({r.status for r in ordered})
        },
    )
    atomic_write_json(out / "run.json", run_info)
    p.log(
        f"run {p.run_id} end: graded={len(p.graded)} reused={len(p.reused)} "
        f"errors={len(p.failed)} missing={len(p.missing)}"
    )
    report_path = None
    if settings.report:
        from autograder.report import write_report  # matplotlib: only when a report is asked

        try:
            report_path = write_report(out)
        except Exception as exc:  # noqa: BLE001 - the grades are already written
            reporter.warn(f"rapport HTML non généré ({exc})")
    reporter.summary(dicts, run_info, out, report_path)
    return run_info


def run(
    paths,
    out,
    *,
    jobs: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_gb: float = DEFAULT_MEMORY_GB,
    lang: str = "fr",
    roster: Path | None = None,
    force: bool = False,
    progress: bool = True,
    report: bool = True,
    stream=None,
    isolation: str = "bubblewrap",
    scheduler: str | None = None,
    reporter: Reporter | None = None,
) -> dict:
    """Grade every submission under ``paths`` into ``out``: :func:`plan`, :func:`execute`, :func:`finalise`.

    Args:
        paths: submissions (see :func:`autograder.engine.discovery.discover`).
        out: output folder.
        jobs: parallel grading processes (default: number of cores).
        timeout_s: wall-clock limit per question.
        memory_gb: memory cap of a sandbox.
        lang: feedback language (``"fr"`` or ``"en"``).
        roster: optional CSV of expected student ids.
        force: regrade everything, even unchanged notebooks.
        progress: show a progress bar on stderr (ignored when ``reporter`` is given).
        report: also write report.html.
        stream: where the summary goes (default stdout; ignored when ``reporter`` is given).
        isolation: ``"bubblewrap"`` (default; refused when it does not work
            here) or ``"process"`` (the teacher's explicit opt-out).
        scheduler: address of a Dask distributed scheduler
            (``tcp://HOST:PORT``): one task per submission on that cluster
            instead of the local pool.
        reporter: where warnings, progress and the summary go (default:
            ``Reporter(stream, progress)``).

    Returns:
        The ``run.json`` content (parameters, counts, per-id lists).

    Raises:
        DiscoveryError: a path does not exist.
        autograder.public.isolation.IsolationUnavailable: bubblewrap required and missing.
    """
    from autograder.public.isolation import resolve_isolation

    if not scheduler:  # on a cluster, each worker checks its own sandbox
        isolation = resolve_isolation(isolation)
    settings = Settings(
        paths=tuple(paths),
        out=Path(out),
        jobs=max(1, int(jobs or os.cpu_count() or 1)),
        timeout_s=timeout_s,
        memory_gb=memory_gb,
        lang=lang,
        roster=roster,
        force=force,
        report=report,
        isolation=isolation,
        scheduler=scheduler,
    )
    reporter = reporter or Reporter(stream, progress)
    p = plan(settings, reporter)
    execute(p, settings, reporter)
    return finalise(p, settings, reporter)
