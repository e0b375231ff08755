"""Delivery: the Actions workflow, the Classroom 50 bundle, tamper evidence, the otter zip.

Modules:

- :mod:`~autograder.delivery.facts`: what every delivery path states about the
  assignment (:func:`assignment_facts`);
- :mod:`~autograder.delivery.workflow`: the student repository's GitHub Actions
  workflow (:func:`render_workflow`, written by ``make assign``);
- :mod:`~autograder.delivery.classroom50`: the Classroom 50 per-assignment folder
  (:func:`build_classroom50`, ``make classroom50``);
- :mod:`~autograder.delivery.tamper`: protected files of a student repository that
  differ from the template (:func:`tamper_report`, read by the grading engine);
- :mod:`~autograder.delivery.otter_zip`: the Gradescope / ``otter run`` autograder
  zip (:func:`build_autograder_zip`, ``make autograder-zip``);
- :mod:`~autograder.delivery.cli`: ``python -m autograder.delivery
  {zip,classroom50,workflow,tamper}``.
"""

from autograder.delivery.classroom50 import build_classroom50
from autograder.delivery.cli import main
from autograder.delivery.facts import assignment_facts
from autograder.delivery.otter_zip import RUN_OTTER_PY, build_autograder_zip, zip_requirements
from autograder.delivery.tamper import MAX_LINES, protected_files, tamper_report
from autograder.delivery.workflow import WORKFLOW_REL, render_workflow

__all__ = [
    "MAX_LINES",
    "RUN_OTTER_PY",
    "WORKFLOW_REL",
    "assignment_facts",
    "build_autograder_zip",
    "build_classroom50",
    "main",
    "protected_files",
    "render_workflow",
    "tamper_report",
    "zip_requirements",
]
