"""Teacher report: ``report.html`` and ``gradebook.csv`` from a grading output directory.

The engine writes, in ``DIR``, one record per submission in
``submissions/<id>.json`` and the grading parameters in ``run.json`` (schemas
in ``docs/architecture.md``). This package only reads them (it never runs
student code) and writes:

- ``DIR/report.html``: a self-contained French page for the teacher (plots
  embedded as base64 PNG, inline CSS and JavaScript, a Content Security Policy
  that forbids any network access) with the score distribution, the pass rate
  of every question and check, the most frequent mistakes, the grading time of
  every submission, a sortable table of students linking their feedback, and
  the grading parameters;
- ``DIR/gradebook.csv``: ``student_id,total,percent,status``, one row per
  submission, missing students included (0 points).

Every student text (ids, messages, tamper reasons) is untrusted and goes
through Jinja2's autoescaping. Both files are written atomically.

Modules: :mod:`~autograder.report.stats` (records read back, aggregates,
tables), :mod:`~autograder.report.plots` (one function per plot) and
:mod:`~autograder.report.html` (the page and the gradebook). Entry point:
:func:`write_report` (``python -m autograder report DIR``, and the end of
``grade``).
"""

from autograder.report.html import render_html, write_gradebook, write_report
from autograder.report.plots import PLOT_IDS, make_plots
from autograder.report.stats import (
    anonymise,
    fmt,
    load_records,
    load_run,
    normalise_record,
    summarise,
)

__all__ = [
    "PLOT_IDS",
    "anonymise",
    "fmt",
    "load_records",
    "load_run",
    "make_plots",
    "normalise_record",
    "render_html",
    "summarise",
    "write_gradebook",
    "write_report",
]
