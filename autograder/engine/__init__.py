"""Grading engine: many submissions, parallel bounded workers, resumable outputs.

``python -m autograder grade PATH... --out DIR`` is :func:`run`, in stages,
one module each, each calling only the next:

1. :mod:`~autograder.engine.discovery` turns each PATH (a notebook, a student
   repository, a class folder of those, or a zip of any of these) into
   :class:`Submission` objects with unique ids; :mod:`~autograder.engine.roster`
   reads the expected ids.
2. :mod:`~autograder.engine.plan` decides what to grade (what is new or
   changed, what can be reused); :mod:`~autograder.engine.scheduler` executes
   the plan on an executor
   (:mod:`~autograder.engine.executors`: a local pool of long-lived trusted
   processes, or a Dask cluster) and finalises it.
3. :mod:`~autograder.engine.job` grades one submission in a trusted process
   (the student's code runs in the sandbox of :mod:`autograder.public.pipeline`)
   and returns a record (:mod:`~autograder.engine.records`), written to
   ``DIR/submissions/<id>.json`` as soon as it arrives: a killed run resumes.
4. :mod:`~autograder.engine.outputs` rebuilds ``grades.csv``, ``results/<id>.json``
   (Gradescope) and ``feedback/<id>.md`` (French, from a Jinja template);
   :mod:`~autograder.engine.summary` writes the terminal summary.

Every file in DIR is written atomically (:mod:`autograder.public.fsutil`).

Public API (what the command line, the tests and the scripts use)::

    run(paths, out, *, jobs=None, timeout_s=DEFAULT_TIMEOUT_S, memory_gb=DEFAULT_MEMORY_GB,
        lang="fr", roster=None, force=False, progress=True, report=True, stream=None,
        isolation="bubblewrap", scheduler=None, reporter=None) -> dict   # run.json
    discover(paths, work_dir=None, warn=None, exclude=()) -> list[Submission]
    read_roster(path) -> list[str]
    DiscoveryError, SchedulerUnavailable, Submission, SubmissionRecord, Reporter
    DEFAULT_TIMEOUT_S, DEFAULT_MEMORY_GB, NOTEBOOK_NAME
"""

from __future__ import annotations

from autograder.engine.discovery import DiscoveryError, Submission, discover
from autograder.engine.executors import SchedulerUnavailable
from autograder.engine.records import SubmissionRecord
from autograder.engine.roster import read_roster
from autograder.engine.scheduler import run
from autograder.engine.summary import Reporter
from autograder.public.assignment import DEFAULT_MEMORY_GB, DEFAULT_TIMEOUT_S
from autograder.public.assignment import NOTEBOOK as NOTEBOOK_NAME

__all__ = [
    "DEFAULT_MEMORY_GB",
    "DEFAULT_TIMEOUT_S",
    "NOTEBOOK_NAME",
    "DiscoveryError",
    "Reporter",
    "SchedulerUnavailable",
    "Submission",
    "SubmissionRecord",
    "discover",
    "read_roster",
    "run",
]
