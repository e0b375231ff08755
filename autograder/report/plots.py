"""Plots of the teacher report, one function per plot (seaborn on matplotlib's Agg).

Every function returns ``{"id", "title", "alt", "src"}``, ``src`` being the
PNG as a ``data:image/png;base64`` URI that the page embeds (no file, no
network). :func:`make_plots` returns them all in :data:`PLOT_IDS` order.
"""

from __future__ import annotations

import base64
import io

from autograder.report.stats import question_ids

#: Plot ids, in page order; the Chromium test expects exactly these.
PLOT_IDS = ("plot-distribution", "plot-questions", "plot-checks", "plot-timing")
#: Beyond this many submissions the timing plot becomes a histogram.
TIMING_BARS_MAX = 60


def _palette():
    """Set the seaborn theme of the report; returns its colour palette."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    return sns.color_palette("deep")


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png_data_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _empty(ax, text="Aucune soumission corrigée") -> None:
    ax.text(
        0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=12, color="#666"
    )
    ax.set_xticks([])
    ax.set_yticks([])


def plot_distribution(records: list[dict], stats: dict) -> dict:
    """Score distribution of every submission (non-graded ones score 0), with the median.

    Args:
        records: normalised records (see :func:`autograder.report.stats.load_records`).
        stats: output of :func:`autograder.report.stats.summarise`.

    Returns:
        The plot ``{"id", "title", "alt", "src"}``.
    """
    import pandas as pd
    import seaborn as sns

    palette = _palette()
    fig = _figure(7.5, 3.6)
    ax = fig.add_subplot()
    if records:
        df = pd.DataFrame(
            {
                "percent": [r["percent"] for r in records],
                "statut": [
                    "corrigé" if r["status"] == "graded" else "non corrigé" for r in records
                ],
            }
        )
        sns.histplot(
            data=df,
            x="percent",
            hue="statut",
            hue_order=["corrigé", "non corrigé"],
            bins=list(range(0, 105, 5)),
            multiple="stack",
            ax=ax,
            palette={"corrigé": palette[0], "non corrigé": palette[3]},
        )
        ax.set_xlim(0, 100)
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), title="statut", fontsize=8)
        if stats["median"] is not None:
            ax.axvline(stats["median"], color="#333", ls="--", lw=1)
            ax.annotate(
                f"médiane {stats['median']:.0f} %",
                (stats["median"], ax.get_ylim()[1] * 0.92),
                xytext=(4, 0),
                textcoords="offset points",
                fontsize=9,
            )
        ax.yaxis.get_major_locator().set_params(integer=True)
    else:
        _empty(ax, "Aucune soumission")
    ax.set_xlabel("Note (% des points)")
    ax.set_ylabel("Nombre d'étudiant·es")
    ax.set_title("Distribution des notes")
    return {
        "id": PLOT_IDS[0],
        "title": "Distribution des notes",
        "alt": "Histogramme des notes en pourcentage, toutes soumissions confondues",
        "src": _png_data_uri(fig),
    }


def plot_questions(stats: dict) -> dict:
    """Mean share of the points obtained at every automatically graded question.

    Args:
        stats: output of :func:`autograder.report.stats.summarise`.

    Returns:
        The plot ``{"id", "title", "alt", "src"}``.
    """
    import seaborn as sns

    palette = _palette()
    qrows = [q for q in stats["questions"] if q["rate"] is not None]
    fig = _figure(7.5, 3.0)
    ax = fig.add_subplot()
    if qrows:
        names = [f"{q['id']} ({q['max_score']:g} pts)" for q in qrows]
        values = [100 * q["rate"] for q in qrows]
        sns.barplot(x=names, y=values, ax=ax, color=palette[0])
        for i, v in enumerate(values):
            ax.text(i, v + 1.5, f"{v:.0f} %", ha="center", fontsize=9)
        ax.set_ylim(0, 110)
    else:
        _empty(ax)
    ax.set_ylabel("Points obtenus (%)")
    ax.set_title("Réussite moyenne par question")
    return {
        "id": PLOT_IDS[1],
        "title": "Réussite par question",
        "alt": "Diagramme en barres : pourcentage moyen des points obtenus à chaque question",
        "src": _png_data_uri(fig),
    }


def plot_checks(stats: dict) -> dict:
    """Pass rate of every check, coloured by question.

    Args:
        stats: output of :func:`autograder.report.stats.summarise`.

    Returns:
        The plot ``{"id", "title", "alt", "src"}``.
    """
    import pandas as pd
    import seaborn as sns

    _palette()
    checks = stats["checks"]
    fig = _figure(7.5, max(2.6, 0.3 * len(checks) + 1.2))
    ax = fig.add_subplot()
    if checks:
        df = pd.DataFrame(
            {
                "check": [c["id"] for c in checks],
                "rate": [100 * c["rate"] for c in checks],
                "question": [c["question"] for c in checks],
            }
        )
        sns.barplot(data=df, y="check", x="rate", hue="question", dodge=False, ax=ax, orient="h")
        ax.set_xlim(0, 100)
        ax.legend(title="question", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    else:
        _empty(ax)
    ax.set_xlabel("Taux de réussite (%)")
    ax.set_ylabel("")
    ax.set_title("Taux de réussite par vérification")
    return {
        "id": PLOT_IDS[2],
        "title": "Réussite par vérification",
        "alt": "Diagramme en barres horizontales : taux de réussite de chaque vérification",
        "src": _png_data_uri(fig),
    }


def plot_timing(records: list[dict]) -> dict:
    """Grading time of every submission, split by question (a histogram beyond
    :data:`TIMING_BARS_MAX` submissions).

    Args:
        records: normalised records; missing students are left out.

    Returns:
        The plot ``{"id", "title", "alt", "src"}``.
    """
    import seaborn as sns

    palette = _palette()
    timed = [r for r in records if r["status"] != "missing"]
    if 0 < len(timed) <= TIMING_BARS_MAX:
        fig = _figure(7.5, max(2.6, 0.28 * len(timed) + 1.2))
        ax = fig.add_subplot()
        left = [0.0] * len(timed)
        labels = [r["id"] for r in timed]
        for i, qid in enumerate(question_ids(timed)):
            vals = [r["questions"].get(qid, {}).get("seconds", 0.0) for r in timed]
            ax.barh(labels, vals, left=left, label=qid, color=palette[i % len(palette)])
            left = [a + b for a, b in zip(left, vals)]
        rest = [max(0.0, r["seconds"] - done) for r, done in zip(timed, left)]
        ax.barh(labels, rest, left=left, label="autre", color="#bbbbbb")
        ax.invert_yaxis()
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        ax.set_xlabel("Durée de correction (s)")
    elif timed:
        fig = _figure(7.5, 3.2)
        ax = fig.add_subplot()
        sns.histplot(x=[r["seconds"] for r in timed], ax=ax, color=palette[2])
        ax.set_xlabel("Durée de correction (s)")
        ax.set_ylabel("Nombre de soumissions")
    else:
        fig = _figure(7.5, 2.6)
        ax = fig.add_subplot()
        _empty(ax, "Aucune soumission chronométrée")
    ax.set_title("Durée de correction par soumission")
    return {
        "id": PLOT_IDS[3],
        "title": "Durée de correction",
        "alt": "Durée de correction de chaque soumission, détaillée par question",
        "src": _png_data_uri(fig),
    }


def make_plots(records: list[dict], stats: dict) -> list[dict]:
    """Render the four plots of the page.

    Args:
        records: normalised records.
        stats: output of :func:`autograder.report.stats.summarise`.

    Returns:
        ``[{"id", "title", "alt", "src"}]`` in :data:`PLOT_IDS` order.
    """
    return [
        plot_distribution(records, stats),
        plot_questions(stats),
        plot_checks(stats),
        plot_timing(records),
    ]
