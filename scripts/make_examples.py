"""Build examples/: the bundled example submissions graded by ``make demo``.

Each example is a folder, like a cloned student repository, holding a copy of
the student notebook ``student_template/resnet_a_la_main.ipynb`` whose answer
cells (the ones defining ``ResidualBlock``, ``build_resnet`` and ``build_cnn``)
get a body: the reference solution (taken from ``solutions/resnet_a_la_main.py``)
or a typical mistake. The template's signature and docstring are kept, and so
is every other cell (cell ids and metadata included).

Re-runnable and deterministic: run it after ``make assign`` changes the
template or the solution; ``tests/report/test_demo.py`` fails while examples/ is
stale::

    .venv/bin/python scripts/make_examples.py            # rewrite examples/
    .venv/bin/python scripts/make_examples.py --out DIR  # write elsewhere
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.public.assignment import NOTEBOOK, QUESTION_FUNCTIONS  # noqa: E402

TEMPLATE = ROOT / "student_template" / NOTEBOOK
SOLUTION = ROOT / "solutions" / "resnet_a_la_main.py"
FUNCTIONS = tuple(QUESTION_FUNCTIONS.values())

_RELU_IN_CONV = """
# Erreur typique : l'activation est placée dans la convolution (avant la normalisation).
x = keras.layers.Conv2D(padding="same", activation="relu", **kwargs)(input)
x = keras.layers.BatchNormalization()(x)
x = keras.layers.Conv2D(padding="same", **kwargs)(x)
x = keras.layers.BatchNormalization()(x)
x = keras.layers.Add()([input, x])
return keras.layers.ReLU()(x)
"""

_NO_FINAL_RELU = """
x = keras.layers.Conv2D(padding="same", **kwargs)(input)
x = keras.layers.BatchNormalization()(x)
x = keras.layers.ReLU()(x)
x = keras.layers.Conv2D(padding="same", **kwargs)(x)
x = keras.layers.BatchNormalization()(x)
# Erreur typique : le bloc s'arrête à l'addition, sans la ReLU finale.
return keras.layers.Add()([input, x])
"""

_WRONG_SHORTCUT = """
y = keras.layers.Conv2D(padding="same", **kwargs)(input)
y = keras.layers.BatchNormalization()(y)
y = keras.layers.ReLU()(y)
x = keras.layers.Conv2D(padding="same", **kwargs)(y)
x = keras.layers.BatchNormalization()(x)
# Erreur typique : le raccourci part du milieu du bloc, pas de son entrée.
x = keras.layers.Add()([y, x])
return keras.layers.ReLU()(x)
"""

_LOGITS_RESNET = """
inputs = keras.layers.Input(shape=input_shape)
x = keras.layers.Conv2D(32, 3, padding="same")(inputs)
x = keras.layers.BatchNormalization()(x)
x = keras.layers.ReLU()(x)
x = keras.layers.MaxPooling2D()(x)
x = ResidualBlock(x, filters=32, kernel_size=3)
x = ResidualBlock(x, filters=32, kernel_size=3)
x = keras.layers.GlobalAveragePooling2D()(x)
# Erreur typique : des scores bruts (logits) au lieu de probabilités.
outputs = keras.layers.Dense(num_classes)(x)
return keras.Model(inputs=inputs, outputs=outputs, name="resnet")
"""

_LOGITS_CNN = """
inputs = keras.layers.Input(shape=input_shape)
x = keras.layers.Conv2D(32, 3, padding="same")(inputs)
x = keras.layers.BatchNormalization()(x)
x = keras.layers.ReLU()(x)
x = keras.layers.MaxPooling2D()(x)
for _ in range(4):
    x = keras.layers.Conv2D(32, 3, padding="same")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
x = keras.layers.GlobalAveragePooling2D()(x)
# Erreur typique : des scores bruts (logits) au lieu de probabilités.
outputs = keras.layers.Dense(num_classes)(x)
return keras.Model(inputs=inputs, outputs=outputs, name="cnn")
"""

_SYNTAX_ERROR_CNN = """
inputs = keras.layers.Input(shape=input_shape)
x = keras.layers.Conv2D(32, 3, padding="same")(inputs)
x = keras.layers.BatchNormalization()(x)
x = keras.layers.ReLU()(x)
x = keras.layers.MaxPooling2D()(x)
for _ in range(4)
    x = keras.layers.Conv2D(32, 3, padding="same")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
x = keras.layers.GlobalAveragePooling2D()(x)
outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
return keras.Model(inputs=inputs, outputs=outputs, name="cnn")
"""

_PLANTED_TEST = '''\
"""Test « modifié » par l'étudiant·e : il passe toujours (le correcteur l'ignore)."""
OK_FORMAT = False
name = "q2"
points = 2


def test_q2_output(env):
    assert True
'''

#: example id -> (French description, {function: body or None for the template's stub},
#:                {extra file: content})
VARIANTS: dict[str, tuple[str, dict, dict]] = {
    "reference": ("La solution de référence : toutes les vérifications passent.", {}, {}),
    "modele-vierge": (
        "Le notebook distribué, rendu sans modification : zéro point, sans erreur.",
        {f: None for f in FUNCTIONS},
        {},
    ),
    "relu-dans-conv": (
        "q1 : l'activation ReLU est placée dans la première convolution "
        '(`activation="relu"`) au lieu de suivre la normalisation.',
        {"ResidualBlock": _RELU_IN_CONV},
        {},
    ),
    "sans-relu-finale": (
        "q1 : le bloc renvoie l'addition sans la ReLU finale.",
        {"ResidualBlock": _NO_FINAL_RELU},
        {},
    ),
    "mauvais-raccourci": (
        "q1 : le raccourci additionne la sortie de la première convolution "
        "au lieu de l'entrée du bloc.",
        {"ResidualBlock": _WRONG_SHORTCUT},
        {},
    ),
    "logits-sans-softmax": (
        "q2 et q3 : la dernière couche renvoie des logits (pas de softmax) ; "
        "le dépôt contient aussi un test modifié, signalé comme « fichier protégé "
        "modifié », et un faux `results.json` ; ni l'un ni l'autre ne change la note.",
        {"build_resnet": _LOGITS_RESNET, "build_cnn": _LOGITS_CNN},
        {
            "tests/q2.py": _PLANTED_TEST,
            "results.json": json.dumps({"score": 20, "tests": []}) + "\n",
        },
    ),
    "erreur-de-syntaxe": (
        "q3 : une erreur de syntaxe (deux-points oublié) dans la cellule de "
        "`build_cnn` ; elle ne coûte que la question 3.",
        {"build_cnn": _SYNTAX_ERROR_CNN},
        {},
    ),
}


def reference_bodies(solution: Path = SOLUTION) -> dict[str, str]:
    """The body (after the docstring) of each function of the reference solution."""
    source = solution.read_text(encoding="utf-8")
    lines = source.splitlines()
    bodies = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name in FUNCTIONS:
            start = node.body[0]
            first = (
                start.end_lineno
                if (
                    isinstance(start, ast.Expr)
                    and isinstance(getattr(start, "value", None), ast.Constant)
                    and isinstance(start.value.value, str)
                )
                else start.lineno - 1
            )
            body = [ln for ln in lines[first : node.end_lineno] if "SOLUTION" not in ln]
            bodies[node.name] = textwrap.dedent("\n".join(body)).strip("\n")
    missing = set(FUNCTIONS) - set(bodies)
    if missing:
        raise SystemExit(f"make_examples: {sorted(missing)} missing from {solution}")
    return bodies


def _fill_cell(source: str, bodies: dict[str, str | None]) -> str:
    """Give each function of ``bodies`` defined in ``source`` its new body.

    Keeps the template's signature and docstring, drops its stub body.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    out, cursor = [], 0
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name in bodies and bodies[node.name]):
            continue
        first = node.body[0]
        has_doc = (
            isinstance(first, ast.Expr)
            and isinstance(getattr(first, "value", None), ast.Constant)
            and isinstance(first.value.value, str)
        )
        keep_until = first.end_lineno if has_doc else first.lineno - 1
        out.extend(lines[cursor:keep_until])
        out.append(textwrap.indent(textwrap.dedent(bodies[node.name]).strip("\n"), "    "))
        cursor = node.end_lineno
    out.extend(lines[cursor:])
    return "\n".join(out)


def build_examples(
    template: Path = TEMPLATE, out_dir: Path = ROOT / "examples", solution: Path = SOLUTION
) -> list[Path]:
    """Write every example of :data:`VARIANTS` (and a README) under ``out_dir``.

    Args:
        template: the student notebook generated by ``make assign``.
        out_dir: destination; its previous example folders are replaced.
        solution: the reference solution module.

    Returns:
        The notebooks written.
    """
    import nbformat

    reference = reference_bodies(solution)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.iterdir():  # drop examples that no longer exist
        if old.is_dir() and (old / NOTEBOOK).exists() and old.name not in VARIANTS:
            shutil.rmtree(old)
    written = []
    for name, (_, overrides, extra) in VARIANTS.items():
        nb = nbformat.read(template, as_version=4)
        bodies = {f: overrides.get(f, reference[f]) for f in FUNCTIONS}
        found = set()
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            try:
                defined = {
                    n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)
                }
            except SyntaxError:
                continue
            mine = defined & set(FUNCTIONS)
            if mine:
                found |= mine
                cell.source = _fill_cell(cell.source, {f: bodies[f] for f in mine})
                cell.outputs = []
                cell.execution_count = None
        if found != set(FUNCTIONS):
            raise SystemExit(
                f"make_examples: {sorted(set(FUNCTIONS) - found)} not found in {template}"
            )
        target = out_dir / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        nbformat.write(nb, target / NOTEBOOK)
        for rel, content in extra.items():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_text(content, encoding="utf-8")
        written.append(target / NOTEBOOK)
    (out_dir / "README.md").write_text(_readme(), encoding="utf-8")
    return written


def _readme() -> str:
    lines = [
        "# Exemples de soumissions",
        "",
        "Soumissions d'exemple corrigées par `make demo` (rapport dans `out/demo/report.html`).",
        "Chaque dossier ne contient que ce que l'étudiant·e a changé par rapport à",
        "`student_template/` (le notebook, parfois des fichiers ajoutés) : `make demo` reconstitue",
        "les dépôts complets (modèle + ces fichiers) dans `build/demo-repos/` avant de les corriger,",
        "comme après un `gh classroom clone student-repos`. Fichiers GÉNÉRÉS par",
        "`.venv/bin/python scripts/make_examples.py` à partir de",
        "`student_template/resnet_a_la_main.ipynb` et de `solutions/resnet_a_la_main.py` :",
        "ne pas les modifier à la main.",
        "",
        "| Dossier | Contenu |",
        "|---|---|",
    ]
    lines += [f"| `{name}/` | {desc} |" for name, (desc, _, _) in VARIANTS.items()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """Command line: rewrite examples/ (or ``--out DIR``) from the template."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--out", type=Path, default=ROOT / "examples")
    args = parser.parse_args(argv)
    if not args.template.is_file():
        print(
            f"make_examples: {args.template} is missing: run `make assign` first", file=sys.stderr
        )
        return 2
    for path in build_examples(args.template, args.out):
        print(path.relative_to(args.out.parent) if args.out.parent in path.parents else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
