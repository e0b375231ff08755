"""The public subpackage: everything a student's repository needs, and nothing else.

Copied whole into ``student_template/autograder/public/`` by ``make assign`` and staged
whole into every sandbox. Teacher-only code (hidden checks, grading engine, report,
delivery, assign) lives outside this folder, in :mod:`autograder`, and must never be
imported from here: ``tests/test_assign.py`` proves a generated student repository
cannot import it.

The stages of one submission, in order: :mod:`.extract` (keep the graded definitions),
:mod:`.sandbox` (run them isolated; files come back, nothing else), :mod:`.probe`
(load those files, bounded), :mod:`.checks` (score), then the teacher's record.
"""
