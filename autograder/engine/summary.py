"""What a run tells the teacher on the terminal: warnings, a progress bar, the final summary.

Library code never prints: :mod:`autograder.engine.scheduler` goes through a
:class:`Reporter`, which the command line creates (and a test may replace).
"""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.engine.records import STATUS_GRADED, format_points
from autograder.public.assignment import (
    AUTO_QUESTIONS,
    QUESTION_STATUS_LABELS,
    QUESTION_TITLES,
    STATUS_LABELS,
)
from autograder.public.bounded import clean_text


class Reporter:
    """The run's voice: one-line warnings on stderr, a progress bar, the summary on ``stream``.

    Args:
        stream: where the summary goes (default: ``sys.stdout`` when it is written).
        progress: show a progress bar (tqdm, on stderr) while submissions are graded.
    """

    def __init__(self, stream=None, progress: bool = True):
        self.stream = stream
        self.progress = progress
        self._bar = None

    def warn(self, message: str) -> None:
        """One ``autograder: ...`` line on stderr."""
        print(f"autograder: {message}", file=sys.stderr)

    def start(self, total: int) -> None:
        """Grading of ``total`` submissions begins (a progress bar when asked and ``total``)."""
        if total and self.progress:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, file=sys.stderr, unit="copie", desc="Correction", dynamic_ncols=True
            )

    def advance(self, sid: str) -> None:
        """One more submission graded (``sid``)."""
        if self._bar is not None:
            self._bar.set_postfix_str(sid[:20])
            self._bar.update(1)

    def stop(self) -> None:
        """Grading ended (or was interrupted): close the progress bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def summary(self, records: list[dict], run_info: dict, out: Path, report_path) -> None:
        """Write the run's one-screen summary (:func:`print_summary`)."""
        print_summary(records, run_info, out, report_path, self.stream or sys.stdout)


def full_marks(full: int, n: int) -> str:
    """How many of ``n`` copies have a question's maximum, as a French phrase.

    ``"aucune copie sur 6 n'a la note maximale"``, ``"1 copie sur 6 a la note
    maximale"``, ``"3 copies sur 6 ont la note maximale"``.
    """
    if full == 0:
        return f"aucune copie sur {n} n'a la note maximale"
    if full == 1:
        return f"1 copie sur {n} a la note maximale"
    return f"{full} copies sur {n} ont la note maximale"


def print_summary(records: list[dict], run_info: dict, out: Path, report_path, stream) -> None:
    """One-screen French summary of a run.

    Args:
        records: the run's records (dictionaries), in output order.
        run_info: the ``run.json`` content.
        out: the output folder.
        report_path: ``report.html``'s path, or None.
        stream: where to write.
    """
    n = len(records)
    graded = [r for r in records if r["status"] == STATUS_GRADED]
    w = stream.write
    w(
        f"\nCorrection terminée : {n} copie(s) en {run_info.get('seconds', 0):.0f} s "
        f"({len(run_info.get('graded', []))} corrigée(s), {len(run_info.get('reused', []))} "
        f"inchangée(s) reprise(s)).\n"
    )
    if run_info.get("statuses"):
        w(
            "Statuts : "
            + ", ".join(f"{STATUS_LABELS.get(k, k)} ({v})" for k, v in run_info["statuses"].items())
            + "\n"
        )
    if graded:
        mean = sum(r["total"] for r in graded) / len(graded)
        maxt = graded[0]["max_total"]
        w(f"Moyenne (copies corrigées) : {mean:.2f} / {format_points(maxt)}\n")
        for q in AUTO_QUESTIONS:
            scores = [r["questions"].get(q, {}).get("score", 0) for r in graded]
            mx = graded[0]["questions"].get(q, {}).get("max_score", 0)
            full = sum(1 for r in graded if r["questions"].get(q, {}).get("score", 0) >= mx > 0)
            bad: dict[str, int] = {}
            for r in graded:
                st = r["questions"].get(q, {}).get("status", "ok")
                if st != "ok":
                    bad[st] = bad.get(st, 0) + 1
            extra = (
                (
                    " ; "
                    + ", ".join(f"{QUESTION_STATUS_LABELS.get(k, k)} ({v})" for k, v in bad.items())
                )
                if bad
                else ""
            )
            w(
                f"  {q} {QUESTION_TITLES[q]:<14} moyenne {sum(scores) / len(scores):5.2f} / "
                f"{format_points(mx):<3} {full_marks(full, len(graded))}{extra}\n"
            )
    problems = [r for r in records if r["status"] != STATUS_GRADED]
    for r in problems[:8]:
        label = STATUS_LABELS.get(r["status"], r["status"])
        w(f"  ! {r['id']} : {label} — {clean_text(r.get('message', ''), 300)}\n")
    if len(problems) > 8:
        w(f"  … et {len(problems) - 8} autre(s) (voir grades.csv)\n")
    tampered = [r["id"] for r in records if r.get("tamper")]
    if tampered:
        w(f"Fichiers protégés modifiés : {', '.join(tampered[:10])}\n")
    identical = [r["id"] for r in records if r.get("identical_to")]
    if identical:
        w(
            f"Notebooks identiques à une autre copie (à examiner) : {', '.join(identical[:10])}"
            + (" …" if len(identical) > 10 else "")
            + "\n"
        )
    w(f"Notes : {out / 'grades.csv'}   retours : {out / 'feedback'}/\n")
    if report_path:
        w(f"Rapport : {report_path}\n")
