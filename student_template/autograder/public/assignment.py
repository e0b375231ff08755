"""The assignment's facts, stated once: notebook, questions, functions, limits, statuses.

Every other module (extraction, sandbox, checks, command lines, grading engine,
report, delivery and the generated workflow) reads these names from here. Points
are not stated here: each check declares its own (:mod:`autograder.public.checks`),
and a question's maximum is the sum of its checks' points.

This module imports nothing: the student's command line and the Actions summary
read it without numpy or TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The notebook a submission must contain (at the root of a student repository).
NOTEBOOK = "resnet_a_la_main.ipynb"


@dataclass(frozen=True)
class Question:
    """One question of the assignment.

    Attributes:
        id: ``"q1"``...
        function: the graded function's name, or ``""`` for a written question.
        title: the French title shown in every output.
        manual: graded by hand (no automatic check).
    """

    id: str
    function: str
    title: str
    manual: bool = False


QUESTIONS_LIST = (
    Question("q1", "ResidualBlock", "ResidualBlock"),
    Question("q2", "build_resnet", "build_resnet"),
    Question("q3", "build_cnn", "build_cnn"),
    Question("q4", "", "question écrite (corrigée à la main)", manual=True),
)
#: Every question id, in order.
QUESTIONS = tuple(q.id for q in QUESTIONS_LIST)
#: Questions graded automatically, in order.
AUTO_QUESTIONS = tuple(q.id for q in QUESTIONS_LIST if not q.manual)
#: Questions graded by hand.
MANUAL_QUESTIONS = tuple(q.id for q in QUESTIONS_LIST if q.manual)
#: Graded function of each automatic question.
QUESTION_FUNCTIONS = {q.id: q.function for q in QUESTIONS_LIST if not q.manual}
#: French title of each question.
QUESTION_TITLES = {q.id: q.title for q in QUESTIONS_LIST}

#: Time budget of one question in the sandbox, in seconds.
DEFAULT_TIMEOUT_S = 120.0
#: Memory budget of one submission's sandbox, in GB.
DEFAULT_MEMORY_GB = 4.0

# Statuses of a whole submission. "error" means the grader itself failed (its
# process crashed or timed out): such records are regraded on the next run.
STATUS_GRADED = "graded"
STATUS_NO_NOTEBOOK = "no-notebook"
STATUS_INVALID = "invalid-notebook"
STATUS_MISSING = "missing"
STATUS_UNREADABLE = "unreadable-record"
STATUS_ERROR = "error"
#: French label of each submission status (unknown statuses are shown as they are).
STATUS_LABELS = {
    STATUS_GRADED: "corrigé",
    STATUS_NO_NOTEBOOK: "pas de notebook",
    STATUS_INVALID: "notebook invalide",
    STATUS_MISSING: "non rendu",
    STATUS_UNREADABLE: "fiche illisible",
    STATUS_ERROR: "erreur du correcteur",
}
#: English label of each submission status (``--lang en``).
STATUS_LABELS_EN = {
    STATUS_GRADED: "graded",
    STATUS_NO_NOTEBOOK: "no notebook",
    STATUS_INVALID: "invalid notebook",
    STATUS_MISSING: "not submitted",
    STATUS_UNREADABLE: "unreadable record",
    STATUS_ERROR: "grader error",
}
#: French label of each question status.
QUESTION_STATUS_LABELS = {
    "ok": "ok",
    "timeout": "délai dépassé",
    "memory": "mémoire dépassée",
    "crashed": "plantage",
    "exited": "sortie prématurée",
    "error": "erreur",
    "not-graded": "non corrigée",
    "manual": "correction manuelle",
}
#: English label of each question status (``--lang en``).
QUESTION_STATUS_LABELS_EN = {
    "ok": "ok",
    "timeout": "time limit exceeded",
    "memory": "memory limit exceeded",
    "crashed": "crash",
    "exited": "early exit",
    "error": "error",
    "not-graded": "not graded",
    "manual": "graded by hand",
}
#: Question statuses that are not incidents.
QUESTION_OK = ("ok", "manual")
