"""Command line: ``python -m autograder {grade,check,report,demo,ci-summary}``.

This module is also shipped in the student template, which lacks the engine,
the report, the delivery module and the hidden checks: everything beyond
``check`` is imported lazily, and ``grade`` says in one line that it needs the
full kit.

``check --json FILE`` also writes the results in machine-readable form
(:mod:`autograder.ci`); ``ci-summary`` turns such files and the GitHub
Actions command grader's ``Q*_RESULTS`` into the French job summary and
never imports TensorFlow.

Exit statuses: 0 success (a submission scoring zero is not an error), 1 a
``check`` with at least one failed check, 2 a usage error, a missing path, an
unsupported environment (Python outside ``autograder.versions.REQUIRES_PYTHON``,
TensorFlow or Keras missing) or a command unavailable in this installation.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

EXIT_OK, EXIT_FAILED_CHECKS, EXIT_USAGE = 0, 1, 2

LABELS = {
    "fr": {"title": "Vérification de {nb} (contrôles publics)",
           "expected": "", "hint": "Piste : ", "total": "Total : {p} / {m} points publics ; "
           "{f} contrôle(s) échoué(s) sur {n}.",
           "all_ok": "Tous les contrôles publics passent. Les contrôles cachés et la "
                     "question écrite seront évalués lors de la correction.",
           "some_fail": "Corrigez les contrôles marqués ✘ puis relancez cette commande.",
           "no_checks": "Aucun contrôle exécuté pour {q}."},
    "en": {"title": "Checking {nb} (public checks)", "expected": "", "hint": "Hint: ",
           "total": "Total: {p} / {m} public points; {f} failed check(s) out of {n}.",
           "all_ok": "Every public check passes. Hidden checks and the written question "
                     "are assessed at grading time.",
           "some_fail": "Fix the checks marked ✘ and run this command again.",
           "no_checks": "No check ran for {q}."},
}
QUESTION_TITLES = {"q1": "ResidualBlock", "q2": "build_resnet", "q3": "build_cnn",
                   "q4": "question écrite"}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: erreur : {message} (voir --help)\n")


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"autograder: {message}", file=sys.stderr)
    return code


@contextlib.contextmanager
def _quiet_native_stderr():
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


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m autograder`` argument parser."""
    parser = _Parser(prog="python -m autograder",
                     description="Correction automatique du TP « ResNet à la main ».")
    sub = parser.add_subparsers(dest="command", metavar="{grade,check,report,demo,ci-summary}",
                                parser_class=_Parser)
    sub.required = True

    g = sub.add_parser("grade", help="corriger des copies (enseignant·e)",
                       description="Corrige des copies : notebooks, dépôts d'étudiant·es, "
                                   "dossiers de classe ou archives zip.")
    g.add_argument("paths", nargs="+", metavar="PATH")
    g.add_argument("--out", required=True, metavar="DIR", help="dossier de sortie")
    g.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="copies corrigées en parallèle (défaut : nombre de cœurs)")
    g.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="temps limite par question (défaut : 120)")
    g.add_argument("--memory", type=float, default=None, metavar="GB",
                   help="mémoire maximale par question, en Go (défaut : 4)")
    g.add_argument("--lang", choices=("fr", "en"), default="fr")
    g.add_argument("--roster", metavar="CSV",
                   help="liste des étudiant·es : export de GitHub Classroom, roster.csv de "
                        "Classroom 50, ou un identifiant GitHub par ligne")
    g.add_argument("--force", action="store_true",
                   help="tout recorriger, même les notebooks inchangés")
    g.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)
    g.add_argument("--no-report", action="store_true", help="ne pas écrire report.html")
    g.add_argument("--scheduler", metavar="tcp://HOTE:PORT", default=None,
                   help="corriger sur un cluster Dask existant (une tâche par copie) "
                        "au lieu des processus de cette machine")
    g.add_argument("--sans-isolation", action="store_true",
                   help="DANGEREUX : exécuter le code des étudiant·es sans le bac à sable "
                        "bubblewrap (il pourra lire les autres copies et les contrôles cachés)")

    c = sub.add_parser("check", help="vérifier son notebook (contrôles publics)",
                       description="Contrôles publics d'un notebook ; code de sortie non nul "
                                   "si un contrôle échoue.")
    c.add_argument("notebook", metavar="NOTEBOOK")
    c.add_argument("-q", "--question", choices=("q1", "q2", "q3"), default=None)
    c.add_argument("--lang", choices=("fr", "en"), default="fr")
    c.add_argument("--json", metavar="FILE", default=None,
                   help="écrire aussi les résultats au format JSON dans FILE")

    s = sub.add_parser("ci-summary", help="résumé en français d'un run GitHub Actions",
                       description="Résumé en français des vérifications d'un run GitHub "
                                   "Actions, à partir des fichiers de check --json et des "
                                   "variables Q1_RESULTS... du correcteur de commandes.")
    s.add_argument("--results", metavar="DIR", default="resultats-autograder",
                   help="dossier des fichiers <question>.json (défaut : resultats-autograder)")
    s.add_argument("--out", metavar="DIR", default=None,
                   help="dossier où écrire resume.md, retours.txt, resultats.json "
                        "(défaut : celui de --results)")
    s.add_argument("--questions", metavar="Q1,Q2", default="q1,q2,q3",
                   help="questions, dans l'ordre (défaut : q1,q2,q3)")
    s.add_argument("--points", metavar="Q=PTS,...", default=None,
                   help="points publics de chaque question, par exemple q1=3,q2=2,q3=1")
    s.add_argument("--notebook", default="resnet_a_la_main.ipynb", help=argparse.SUPPRESS)

    r = sub.add_parser("report", help="(ré)écrire report.html d'un dossier de correction")
    r.add_argument("dir", metavar="DIR")

    sub.add_parser("demo", help="corriger les exemples fournis et écrire le rapport")
    return parser


def _print_reason(r, lang: str) -> None:
    msg = r.message_en if lang == "en" and r.message_en else r.message
    if msg:
        print(f"      {msg}")
    if r.hint:
        print(f"      {LABELS[lang]['hint']}{r.hint}")


def _print_checks(results, notebook: str, lang: str, question=None) -> int:
    lab = LABELS[lang]
    print(lab["title"].format(nb=notebook))
    by_q: dict[str, list] = {}
    for r in results:
        by_q.setdefault(r.question, []).append(r)
    questions = [question] if question else sorted(set(by_q) | {"q1", "q2", "q3"})
    failed = total = earned = possible = 0
    for q in questions:
        rs = by_q.get(q, [])
        pts = sum(r.points for r in rs)
        mx = sum(r.max_points for r in rs)
        print(f"\n{q} — {QUESTION_TITLES.get(q, q)} : {_fmt(pts)} / {_fmt(mx)}")
        if not rs:
            print("  " + lab["no_checks"].format(q=q))
        # A question that could not run fails every check with one message: say it once.
        shared = len(rs) > 1 and all(not r.passed for r in rs) \
            and len({(r.message, r.hint) for r in rs}) == 1
        for r in rs:
            total += 1
            earned += r.points
            possible += r.max_points
            print(f"  {'✔' if r.passed else '✘'} {r.title}")
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
        from autograder.checks import registry
        return [s for s in registry() if s["visibility"] == "public" and not s.get("manual")]
    except Exception:  # noqa: BLE001 - numpy missing, unsupported Python
        from autograder import ci
        return ci.public_specs_from_source()


def _write_failed_json(args, message: str, hint: str = "", warnings=()) -> None:
    if not args.json:
        return
    from autograder import ci
    ci.write_json(args.json, ci.failed_payload(_public_specs(), args.notebook, args.question,
                                               message, hint, warnings))


def cmd_check(args) -> int:
    """``check NOTEBOOK [-q Q] [--json FILE]``: public checks, exit 1 when any fails."""
    from autograder import versions

    errors, warnings = versions.environment_problems()
    for line in warnings:
        print(line, file=sys.stderr)
    if errors:
        _write_failed_json(args, errors[0], warnings=warnings)
        for line in errors:
            print(f"autograder: {line}", file=sys.stderr)
        return EXIT_USAGE
    nb = Path(args.notebook)
    if not nb.is_file():
        _write_failed_json(args, f"notebook introuvable : {args.notebook}",
                           "Le notebook doit s'appeler resnet_a_la_main.ipynb, à la racine du "
                           "dépôt.", warnings)
        return _fail(f"notebook introuvable : {args.notebook}")
    try:
        from autograder.sandbox import check_notebook
    except ImportError as exc:
        _write_failed_json(args, f"module de vérification indisponible ({exc})",
                           warnings=warnings)
        return _fail(f"module de vérification indisponible ({exc})")
    from autograder.extract import NotebookError
    try:
        with _quiet_native_stderr():
            results = check_notebook(nb, question=args.question)
    except NotebookError as exc:
        _write_failed_json(args, str(exc), "Ouvrez le notebook dans Jupyter, enregistrez-le, "
                                           "puis relancez la vérification.", warnings)
        return _fail(str(exc), EXIT_FAILED_CHECKS)
    if args.json:
        from autograder import ci
        ci.write_json(args.json, ci.check_payload(results, args.notebook, args.question,
                                                  warnings=warnings))
    return _print_checks(results, str(nb), args.lang, args.question)


def cmd_ci_summary(args) -> int:
    """``ci-summary``: the French job summary of a GitHub Actions run (no TensorFlow)."""
    from autograder import ci
    try:
        points = ci.parse_points(args.points)
    except ValueError as exc:
        return _fail(f"--points : {exc}")
    questions = [q.strip() for q in args.questions.split(",") if q.strip()]
    if not questions:
        return _fail("--questions : aucune question")
    s = ci.run_summary(questions, args.results, args.out, points=points, notebook=args.notebook)
    print(s["markdown"])
    return EXIT_OK


def cmd_grade(args) -> int:
    """``grade PATH... --out DIR``: the grading engine."""
    try:
        from autograder import engine
    except ImportError:
        return _fail("la commande grade nécessite le kit complet de l'enseignant·e "
                     "(autograder/engine.py absent de cette copie).")
    if args.jobs is not None and args.jobs < 1:
        return _fail("--jobs doit être un entier ≥ 1")
    if args.timeout is not None and args.timeout <= 0:
        return _fail("--timeout doit être un nombre de secondes > 0")
    if args.memory is not None and args.memory <= 0:
        return _fail("--memory doit être un nombre de Go > 0")
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        return _fail(f"chemin introuvable : {missing[0]}")
    if args.roster and not os.path.isfile(args.roster):
        return _fail(f"liste d'étudiant·es introuvable : {args.roster}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return _fail(f"--out n'est pas un dossier : {args.out}")
    from autograder.sandbox import IsolationUnavailable
    from autograder.scheduler import SchedulerUnavailable

    if args.sans_isolation:
        print("autograder: ATTENTION, --sans-isolation : le code des étudiant·es s'exécute "
              "SANS bac à sable. Il peut lire les autres copies, les contrôles cachés et vos "
              "fichiers, et agir sur cette machine. À n'utiliser que pour des copies de "
              "confiance.", file=sys.stderr)
    with _quiet_native_stderr():
        try:
            import autograder.checks  # noqa: F401 - TensorFlow's import, quietly
        except ImportError:
            pass
    try:
        engine.run(args.paths, out, jobs=args.jobs,
                   isolation="process" if args.sans_isolation else "bubblewrap",
                   scheduler=args.scheduler,
                   timeout_s=args.timeout or engine.DEFAULT_TIMEOUT_S,
                   memory_gb=args.memory or engine.DEFAULT_MEMORY_GB, lang=args.lang,
                   roster=args.roster, force=args.force, progress=not args.no_progress,
                   report=not args.no_report)
    except (engine.DiscoveryError, IsolationUnavailable, SchedulerUnavailable) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrompu ; relancez la même commande pour reprendre là où "
                     "la correction s'est arrêtée.", 130)
    return EXIT_OK


def cmd_report(args) -> int:
    """``report DIR``: (re)write report.html from a grading folder."""
    d = Path(args.dir)
    if not d.is_dir():
        return _fail(f"dossier introuvable : {args.dir}")
    if not (d / "submissions").is_dir():
        return _fail(f"{args.dir} n'est pas un dossier de correction (pas de submissions/)")
    try:
        from autograder.report import write_report
    except ImportError:
        return _fail("la commande report nécessite le kit complet de l'enseignant·e.")
    path = write_report(d)
    print(f"Rapport : {path}")
    return EXIT_OK


def cmd_demo(args) -> int:
    """``demo``: grade ``examples/`` and write the report (report module)."""
    try:
        from autograder.report import run_demo
    except ImportError:
        return _fail("la commande demo nécessite le kit complet de l'enseignant·e.")
    result = run_demo()
    return result if isinstance(result, int) else EXIT_OK


def main(argv=None) -> int:
    """Parse ``argv`` and run the subcommand; returns the exit status."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError):
            pass
    args = build_parser().parse_args(argv)
    return {"grade": cmd_grade, "check": cmd_check, "report": cmd_report,
            "demo": cmd_demo, "ci-summary": cmd_ci_summary}[args.command](args)
