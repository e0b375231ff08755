"""``show_summary``: the committed results, as the solution notebook shows them."""

from __future__ import annotations

import json
from pathlib import Path

from .config import RESULTS_DIR
from .text import interpret_comparison, interpret_depth, interpret_long


def show_summary(results_dir=None, display_images: bool = True) -> str:
    """Show the committed plots and paired table, and print the French interpretation.

    Sections: the comparison, the longer budget (when it was run), the depth study.

    Args:
        results_dir: root of the results (default: ``solutions/results``).
        display_images: display the PNGs and the table (in IPython/Jupyter only).

    Returns:
        The printed French text.
    """
    root = Path(results_dir) if results_dir is not None else RESULTS_DIR
    parts = []
    images = []
    table = None
    comp = root / "comparison" / "summary.json"
    long = root / "long" / "summary.json"
    depth = root / "depth" / "summary.json"
    if comp.is_file():
        parts.append(
            "Comparaison ResNet / CNN classique\n"
            + interpret_comparison(json.loads(comp.read_text()))
        )
        images += [
            root / "comparison" / name
            for name in ("learning_curves.png", "final_accuracy.png", "paired_differences.png")
        ]
        table = root / "comparison" / "paired.csv"
    if long.is_file():
        parts.append("Budget long\n" + interpret_long(json.loads(long.read_text())))
        images.append(root / "long" / "long_curves.png")
    if depth.is_file():
        parts.append("Étude de profondeur\n" + interpret_depth(json.loads(depth.read_text())))
        images.append(root / "depth" / "depth.png")
    if not parts:
        parts.append(
            f"Aucun résultat dans {root} : lancez d'abord « python -m solutions.experiment »."
        )
    if display_images:
        try:
            from IPython import get_ipython
            from IPython.display import Image, display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            if table is not None and table.is_file():
                import pandas as pd

                display(pd.read_csv(table).round(4))
            for image in images:
                if image.is_file():
                    display(Image(filename=str(image)))
    text = "\n\n".join(parts)
    print(text)
    return text
