"""The teacher's command line: ``python -m autograder {grade,check,report,demo,ci-step,ci-summary}``.

``check``, ``ci-step`` and ``ci-summary`` are the student's commands (:mod:`autograder.public.cli`,
shipped in every student repository); this module adds the teacher-only ones, whose
modules never leave the teacher's kit.

Exit statuses: as :mod:`autograder.public.cli`; ``grade`` also exits with 2 when
bubblewrap is unavailable or the Dask scheduler cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder.public.cli import EXIT_OK, Parser, add_public_commands, fail, quiet_native_stderr
from autograder.public.cli import run as run_parser


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m autograder`` argument parser."""
    parser = Parser(
        prog="python -m autograder",
        description="Correction automatique du TP « ResNet à la main ».",
    )
    sub = parser.add_subparsers(
        dest="command", metavar="{grade,check,report,demo,ci-step,ci-summary}", parser_class=Parser
    )
    sub.required = True

    g = sub.add_parser(
        "grade",
        help="corriger des copies (enseignant·e)",
        description="Corrige des copies : notebooks, dépôts d'étudiant·es, "
        "dossiers de classe ou archives zip.",
    )
    g.add_argument("paths", nargs="+", metavar="PATH")
    g.add_argument("--out", required=True, metavar="DIR", help="dossier de sortie")
    g.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="copies corrigées en parallèle (défaut : nombre de cœurs)",
    )
    g.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="temps limite par question (défaut : 120)",
    )
    g.add_argument(
        "--memory",
        type=float,
        default=None,
        metavar="GB",
        help="mémoire maximale par question, en Go (défaut : 4)",
    )
    g.add_argument("--lang", choices=("fr", "en"), default="fr")
    g.add_argument(
        "--roster",
        metavar="CSV",
        help="liste des étudiant·es : export de GitHub Classroom, roster.csv de "
        "Classroom 50, ou un identifiant GitHub par ligne",
    )
    g.add_argument(
        "--force", action="store_true", help="tout recorriger, même les notebooks inchangés"
    )
    g.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)
    g.add_argument("--no-report", action="store_true", help="ne pas écrire report.html")
    g.add_argument(
        "--scheduler",
        metavar="tcp://HOTE:PORT",
        default=None,
        help="corriger sur un cluster Dask existant (une tâche par copie) "
        "au lieu des processus de cette machine",
    )
    g.add_argument(
        "--sans-isolation",
        action="store_true",
        help="DANGEREUX : exécuter le code des étudiant·es sans le bac à sable "
        "bubblewrap (il pourra lire les autres copies et les contrôles cachés)",
    )
    g.set_defaults(handler=cmd_grade)
    add_public_commands(sub)

    r = sub.add_parser("report", help="(ré)écrire report.html d'un dossier de correction")
    r.add_argument("dir", metavar="DIR")
    r.set_defaults(handler=cmd_report)

    d = sub.add_parser("demo", help="corriger les exemples fournis et écrire le rapport")
    d.set_defaults(handler=cmd_demo)
    return parser


def cmd_grade(args) -> int:
    """``grade PATH... --out DIR``: the grading engine."""
    from autograder import engine

    if args.jobs is not None and args.jobs < 1:
        return fail("--jobs doit être un entier ≥ 1")
    if args.timeout is not None and args.timeout <= 0:
        return fail("--timeout doit être un nombre de secondes > 0")
    if args.memory is not None and args.memory <= 0:
        return fail("--memory doit être un nombre de Go > 0")
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        return fail(f"chemin introuvable : {missing[0]}")
    if args.roster and not os.path.isfile(args.roster):
        return fail(f"liste d'étudiant·es introuvable : {args.roster}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return fail(f"--out n'est pas un dossier : {args.out}")
    from autograder.public.sandbox import IsolationUnavailable

    if args.sans_isolation:
        print(
            "autograder: ATTENTION, --sans-isolation : le code des étudiant·es s'exécute "
            "SANS bac à sable. Il peut lire les autres copies, les contrôles cachés et vos "
            "fichiers, et agir sur cette machine. À n'utiliser que pour des copies de "
            "confiance.",
            file=sys.stderr,
        )
    with quiet_native_stderr():
        import autograder.hidden  # noqa: F401 - the check library and TensorFlow, quietly
    try:
        engine.run(
            args.paths,
            out,
            jobs=args.jobs,
            isolation="process" if args.sans_isolation else "bubblewrap",
            scheduler=args.scheduler,
            timeout_s=args.timeout or engine.DEFAULT_TIMEOUT_S,
            memory_gb=args.memory or engine.DEFAULT_MEMORY_GB,
            lang=args.lang,
            roster=args.roster,
            force=args.force,
            progress=not args.no_progress,
            report=not args.no_report,
        )
    except (engine.DiscoveryError, IsolationUnavailable, engine.SchedulerUnavailable) as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return fail(
            "interrompu ; relancez la même commande pour reprendre là où "
            "la correction s'est arrêtée.",
            130,
        )
    return EXIT_OK


def cmd_report(args) -> int:
    """``report DIR``: (re)write report.html from a grading folder."""
    d = Path(args.dir)
    if not d.is_dir():
        return fail(f"dossier introuvable : {args.dir}")
    if not (d / "submissions").is_dir():
        return fail(f"{args.dir} n'est pas un dossier de correction (pas de submissions/)")
    from autograder.report import write_report

    path = write_report(d)
    print(f"Rapport : {path}")
    return EXIT_OK


def cmd_demo(args) -> int:
    """``demo``: grade ``examples/`` into ``out/demo`` and write the report."""
    from autograder.demo import run_demo

    run_demo()
    return EXIT_OK


def main(argv=None) -> int:
    """Parse ``argv`` and run the subcommand; returns the exit status."""
    return run_parser(build_parser(), argv)
