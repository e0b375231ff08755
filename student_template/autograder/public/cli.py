"""The student's command line: ``python -m autograder {check,ci-step,ci-summary}``.

This module is part of the public subpackage shipped in every student repository.
The teacher's command line (:mod:`autograder.cli`) adds ``grade``, ``report`` and
``demo`` to the same commands through :func:`add_public_commands`.

``check --json FILE`` also writes the results in machine-readable form
(:mod:`autograder.public.ci`); ``ci-step CHECK_ID`` is one step of the generated
GitHub Actions workflow (one per public check, one evaluation per push:
:mod:`autograder.public.ci_step`); ``ci-summary`` turns the steps' outputs
(``Q1_SHAPE_RESULTS``...) and the shared evaluation file into the French job
summary and never imports TensorFlow.

Exit statuses: 0 success (a submission scoring zero is not an error), 1 a
``check`` with at least one failed check, 2 a usage error, a missing path or an
unsupported environment (Python outside ``autograder.public.versions.REQUIRES_PYTHON``,
TensorFlow or Keras missing).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

from autograder.public.assignment import AUTO_QUESTIONS, NOTEBOOK, QUESTION_TITLES

EXIT_OK, EXIT_FAILED_CHECKS, EXIT_USAGE = 0, 1, 2

LABELS = {
    "fr": {
        "title": "Vérification de {nb} (contrôles publics)",
        "expected": "",
        "hint": "Piste : ",
        "total": "Total : {p} / {m} points publics ; {f} contrôle(s) échoué(s) sur {n}.",
        "all_ok": "Tous les contrôles publics passent. Les contrôles cachés et la "
        "question écrite seront évalués lors de la correction.",
        "some_fail": "Corrigez les contrôles marqués ✘ puis relancez cette commande.",
        "no_checks": "Aucun contrôle exécuté pour {q}.",
    },
    "en": {
        "title": "Checking {nb} (public checks)",
        "expected": "",
        "hint": "Hint: ",
        "total": "Total: {p} / {m} public points; {f} failed check(s) out of {n}.",
        "all_ok": "Every public check passes. Hidden checks and the written question "
        "are assessed at grading time.",
        "some_fail": "Fix the checks marked ✘ and run this command again.",
        "no_checks": "No check ran for {q}.",
    },
}


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: erreur : {message} (voir --help)\n")


def fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"autograder: {message}", file=sys.stderr)
    return code


@contextlib.contextmanager
def quiet_native_stderr():
    """Hide what native code (TensorFlow's absl logging at import) writes on fd 2.

    What was captured is replayed when the block raises, so nothing useful is lost.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            tmp.seek(0)
            sys.stderr.write(tmp.read().decode("utf-8", "replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _fmt(x) -> str:
    x = round(float(x), 4)
    return str(int(x)) if x == int(x) else f"{x:g}"


def add_public_commands(sub) -> None:
    """Add ``check``, ``ci-step`` and ``ci-summary`` to an argparse subparsers object."""
    c = sub.add_parser(
        "check",
        help="vérifier son notebook (contrôles publics)",
        description="Contrôles publics d'un notebook ; code de sortie non nul "
        "si un contrôle échoue.",
    )
    c.add_argument("notebook", metavar="NOTEBOOK")
    c.add_argument("-q", "--question", choices=AUTO_QUESTIONS, default=None)
    c.add_argument("--lang", choices=("fr", "en"), default="fr")
    c.add_argument(
        "--json",
        metavar="FILE",
        default=None,
        help="écrire aussi les résultats au format JSON dans FILE",
    )
    c.set_defaults(handler=cmd_check)

    st = sub.add_parser(
        "ci-step",
        help="une étape GitHub Actions : une vérification publique",
        description="Une étape du workflow GitHub Actions : affiche le résultat d'une "
        "vérification publique ; le notebook n'est évalué qu'une fois par run (fichier "
        "resultats-autograder/evaluation.json, lié au sha256 du notebook). Code de sortie "
        "0 si la vérification passe.",
    )
    st.add_argument("check", metavar="VERIFICATION", help="par exemple q1.shape")
    st.add_argument("--notebook", default=NOTEBOOK, help="défaut : " + NOTEBOOK)
    st.add_argument(
        "--results",
        metavar="DIR",
        default="resultats-autograder",
        help="dossier du fichier d'évaluation partagé (défaut : resultats-autograder)",
    )
    st.set_defaults(handler=cmd_ci_step)

    s = sub.add_parser(
        "ci-summary",
        help="résumé en français d'un run GitHub Actions",
        description="Résumé en français des vérifications d'un run GitHub "
        "Actions, à partir des sorties des étapes (Q1_SHAPE_RESULTS...) et du "
        "fichier d'évaluation partagé.",
    )
    s.add_argument(
        "--results",
        metavar="DIR",
        default="resultats-autograder",
        help="dossier du fichier evaluation.json (défaut : resultats-autograder)",
    )
    s.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="dossier où écrire resume.md, retours.txt, resultats.json "
        "(défaut : celui de --results)",
    )
    s.add_argument(
        "--points",
        metavar="ID=PTS,...",
        default=None,
        help="points de chaque vérification publique, dans l'ordre, par exemple "
        "q1.shape=1,q1.order=1 (défaut : toutes les vérifications publiques)",
    )
    s.add_argument("--notebook", default=NOTEBOOK, help=argparse.SUPPRESS)
    s.set_defaults(handler=cmd_ci_summary)


def build_parser() -> argparse.ArgumentParser:
    """The student's ``python -m autograder`` argument parser."""
    parser = Parser(
        prog="python -m autograder", description="Vérification du TP « ResNet à la main »."
    )
    sub = parser.add_subparsers(
        dest="command", metavar="{check,ci-step,ci-summary}", parser_class=Parser
    )
    sub.required = True
    add_public_commands(sub)
    return parser


def _print_reason(r, lang: str) -> None:
    msg = r.message_en if lang == "en" and r.message_en else r.message
    hint = r.hint_en if lang == "en" and r.hint_en else r.hint
    if msg:
        print(f"      {msg}")
    if hint:
        print(f"      {LABELS[lang]['hint']}{hint}")


def _print_checks(results, notebook: str, lang: str, question=None) -> int:
    lab = LABELS[lang]
    print(lab["title"].format(nb=notebook))
    by_q: dict[str, list] = {}
    for r in results:
        by_q.setdefault(r.question, []).append(r)
    questions = [question] if question else sorted(set(by_q) | set(AUTO_QUESTIONS))
    failed = total = earned = possible = 0
    for q in questions:
        rs = by_q.get(q, [])
        pts = sum(r.points for r in rs)
        mx = sum(r.max_points for r in rs)
        print(f"\n{q} — {QUESTION_TITLES.get(q, q)} : {_fmt(pts)} / {_fmt(mx)}")
        if not rs:
            print("  " + lab["no_checks"].format(q=q))
        # A question that could not run fails every check with one message: say it once.
        shared = (
            len(rs) > 1
            and all(not r.passed for r in rs)
            and len({(r.message, r.hint) for r in rs}) == 1
        )
        for r in rs:
            total += 1
            earned += r.points
            possible += r.max_points
            title = r.title_en if lang == "en" and r.title_en else r.title
            print(f"  {'✔' if r.passed else '✘'} {title}")
            if not r.passed:
                failed += 1
                if not shared:
                    _print_reason(r, lang)
        if shared:
            _print_reason(rs[0], lang)
    print("\n" + lab["total"].format(p=_fmt(earned), m=_fmt(possible), f=failed, n=total))
    print(lab["some_fail"] if failed or not total else lab["all_ok"])
    return EXIT_FAILED_CHECKS if failed or not total else EXIT_OK


def _public_specs() -> list[dict]:
    """Public checks of the registry (no TensorFlow import), read from source without numpy."""
    try:
        from autograder.public.checks import registry

        return [s for s in registry() if s["visibility"] == "public" and not s.get("manual")]
    except Exception:  # noqa: BLE001 - numpy missing, unsupported Python
        from autograder.public import ci

        return ci.public_specs_from_source()


def public_evaluation(notebook: str, question: str | None = None, lang: str = "fr"):
    """The public evaluation behind ``check`` and every workflow step.

    Args:
        notebook: the notebook's path, as given.
        question: one question, or None for all.
        lang: the language of the error lines (the JSON document stays French).

    Returns:
        ``(payload, results, exit_status, errors)``: the ``check --json``
        document (:func:`autograder.public.ci.check_payload`; every selected check
        failed, with the reason, when nothing could be checked), the check results
        (None when nothing could be checked), the exit status ``check`` uses when
        nothing could be checked, and the French error lines to print then.
    """
    from autograder.public import ci, versions

    errors, warnings = versions.environment_problems()

    def failed(message, hint="", code=EXIT_USAGE, lines=None):
        payload = ci.failed_payload(_public_specs(), notebook, question, message, hint, warnings)
        return payload, None, code, lines or [message]

    if errors:
        return failed(errors[0], lines=versions.environment_problems(lang=lang)[0] or errors)
    nb = Path(notebook)
    if not nb.is_file():
        return failed(
            f"notebook introuvable : {notebook}",
            "Le notebook doit s'appeler resnet_a_la_main.ipynb, à la racine du dépôt.",
            lines=[
                f"notebook not found: {notebook}"
                if lang == "en"
                else f"notebook introuvable : {notebook}"
            ],
        )
    try:
        from autograder.public.pipeline import check_notebook
    except ImportError as exc:
        return failed(
            f"module de vérification indisponible ({exc})",
            lines=[
                f"checking module unavailable ({exc})"
                if lang == "en"
                else f"module de vérification indisponible ({exc})"
            ],
        )
    from autograder.public.extract import NotebookError

    try:
        with quiet_native_stderr():
            results = check_notebook(nb, question=question)
    except NotebookError as exc:
        return failed(
            str(exc),
            "Ouvrez le notebook dans Jupyter, enregistrez-le, puis relancez la vérification.",
            EXIT_FAILED_CHECKS,
            [exc.message_en if lang == "en" else str(exc)],
        )
    return ci.check_payload(results, notebook, question, warnings=warnings), results, EXIT_OK, []


def cmd_check(args) -> int:
    """``check NOTEBOOK [-q Q] [--json FILE]``: public checks, exit 1 when any fails."""
    from autograder.public import ci, versions

    payload, results, code, errors = public_evaluation(args.notebook, args.question, args.lang)
    shown = (
        payload["warnings"] if args.lang == "fr" else versions.environment_problems(lang="en")[1]
    )
    for line in shown:
        print(line, file=sys.stderr)
    if args.json:
        ci.write_json(args.json, payload)
    if results is None:
        for line in errors:
            print(f"autograder: {line}", file=sys.stderr)
        return code
    return _print_checks(results, args.notebook, args.lang, args.question)


def cmd_ci_step(args) -> int:
    """``ci-step CHECK_ID``: one workflow step; the notebook is evaluated once per push."""
    from autograder.public import ci_step

    specs = _public_specs()
    spec = next((s for s in specs if s["id"] == args.check), None)
    if spec is None:
        return fail(f"vérification publique inconnue : {args.check}")
    payload, origin, rejected = ci_step.evaluation_for(
        args.notebook,
        specs,
        args.results,
        lambda: public_evaluation(args.notebook)[0],
    )
    lines, code = ci_step.report(spec, payload, origin, rejected)
    if payload.get("error"):
        lines.insert(1, payload["error"])
    print("\n".join(lines))
    return code


def cmd_ci_summary(args) -> int:
    """``ci-summary``: the French job summary of a GitHub Actions run (no TensorFlow)."""
    from autograder.public import ci_summary

    try:
        points = ci_summary.parse_points(args.points)
    except ValueError as exc:
        return fail(f"--points : {exc}")
    s = ci_summary.run_summary(
        ci_summary.specs_for(points), args.results, args.out, notebook=args.notebook
    )
    print(s["markdown"])
    return EXIT_OK


#: The teacher's commands, absent from a student repository.
TEACHER_COMMANDS = ("grade", "report", "demo")


def main(argv=None) -> int:
    """Parse ``argv`` and run the subcommand; returns the exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in TEACHER_COMMANDS:
        return fail(
            f"la commande {args[0]} nécessite le kit complet de l'enseignant·e ; "
            "ce dépôt ne contient que les vérifications publiques (check)."
        )
    return run(build_parser(), argv)


def run(parser: argparse.ArgumentParser, argv=None) -> int:
    """Parse ``argv`` with ``parser`` and run the chosen command's handler."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError):
            pass
    args = parser.parse_args(argv)
    return args.handler(args)
