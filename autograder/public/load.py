"""Load stage: the files a sandbox handed back become models the checks can read.

This runs in the TRUSTED process. :func:`load_artefacts` is the only way the checks
see the student's models: ``probe.json`` (written by untrusted code) is read with
size and depth bounds, each ``.keras`` archive is inspected before
``keras.models.load_model(path, safe_mode=True, compile=False)`` opens it, so a model
only reaches the checks as Keras's own layers and operations; nested models are
inlined (:func:`flatten_nested`) so the graph checks see every layer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from autograder.public.probe import (
    FAILURE_KINDS,
    FUNCTIONAL_HINT,
    FUNCTIONAL_HINT_EN,
    PROBES,
    ProbeFailure,
    save_artefacts,
)

_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")

NESTED_HINT = (
    "Appelez directement les couches Keras (et votre fonction ResidualBlock) dans "
    "le modèle, sans les emballer dans un sous-modèle keras.Model ou keras.Sequential."
)
NESTED_HINT_EN = (
    "Call the Keras layers (and your ResidualBlock function) directly in the "
    "model, without wrapping them in a keras.Model or keras.Sequential sub-model."
)

_CLASS_NAME = re.compile(
    r"(?:class_name['\"]?\s*[:=]\s*['\"]|Could not locate class ['\"])"
    r"([A-Za-z_][A-Za-z0-9_]{0,63})"
)
_KERAS_CLASSES = {"Functional", "Model", "Sequential", "InputLayer"}


def _unloadable_what(exc: BaseException) -> tuple[str, str]:
    """What made a model unloadable, in French and English, without the raw error text.

    A ``Lambda`` layer (arbitrary code, refused in safe mode) or a class Keras
    does not know (a subclass written in the notebook) are named; any other
    cause is described generically (the raw text is long and cut mid-word).
    """
    text = str(exc)
    if "Lambda" in text:
        return (
            "une couche Lambda (du code Python arbitraire, que le correcteur refuse)",
            "a Lambda layer (arbitrary Python code, refused by the grader)",
        )
    names = [n for n in _CLASS_NAME.findall(text) if n not in _KERAS_CLASSES]
    custom = next((n for n in names if not hasattr(_keras_layers(), n)), None)
    if custom:
        return (
            f"une classe `{custom}` écrite dans le notebook, que le correcteur ne peut pas "
            "recharger",
            f"a class `{custom}` written in the notebook, which the grader cannot load",
        )
    return (
        "un modèle que le correcteur ne peut pas recharger (couche ou modèle personnalisé ?)",
        "a model the grader cannot load (custom layer or model?)",
    )


def _keras_layers():
    import keras

    return keras.layers


def flatten_nested(model):
    """The same computation with every nested functional or Sequential model inlined.

    The graph checks see layers, not sub-models: a block hidden in a nested
    ``keras.Model`` is thus checked like any other. Layers are reused (same
    weights), so the flattened model computes exactly what ``model`` computes.

    Args:
        model: a loaded functional or Sequential ``keras.Model``.

    Returns:
        ``model`` itself when it nests no model, else a new functional model.

    Raises:
        ValueError: a nested model that cannot be inlined (subclassed, several
            calls with different structures).
    """
    import keras

    if not any(
        isinstance(layer, keras.Model)
        for layer in model._flatten_layers(include_self=False, recursive=True)
    ):
        return model
    inputs = [keras.Input(batch_shape=t.shape, dtype=t.dtype) for t in model.inputs]
    outputs = _replay(model, inputs, depth=0)
    return keras.Model(inputs, outputs, name=model.name)


def _replay(model, inputs: list, depth: int) -> list:
    """Call ``model``'s operations again on ``inputs``, inlining nested models."""
    import keras
    from keras import tree

    from autograder.public.graph import Graph

    if depth > 8 or not hasattr(model, "inputs") or not model.inputs:
        raise ValueError("nested model that cannot be inlined")
    values = {id(t): v for t, v in zip(model.inputs, inputs)}
    for gnode in Graph(model).nodes:
        if gnode.node.is_input:
            continue
        args, kwargs = gnode.node.arguments.fill_in(values)
        if isinstance(gnode.op, keras.Model):
            flat = [a for a in tree.flatten((args, kwargs)) if keras.backend.is_keras_tensor(a)]
            result = _replay(gnode.op, flat, depth + 1)
        else:
            result = gnode.op(*args, **kwargs)
        produced = tree.flatten(result)
        if len(produced) != len(gnode.outputs):
            raise ValueError("nested model that cannot be inlined")
        for t, v in zip(gnode.outputs, produced):
            values[id(t)] = v
    return [values[id(t)] for t in model.outputs]


def load_artefacts(directory, question: str | None = None) -> dict[str, Any]:
    """Load the artefacts written by :func:`save_artefacts` (trusted side).

    ``probe.json`` was written by the untrusted process: it is read with size
    and depth bounds and only its failure messages are used, cleaned and
    truncated; each ``.keras`` archive is inspected (members, sizes, depth)
    before ``keras.models.load_model(path, safe_mode=True, compile=False)``
    opens it, and nested models are inlined (:func:`flatten_nested`).

    Args:
        directory: folder written by :func:`save_artefacts`.
        question: when given, exactly the artefact names of :data:`PROBES`
            for that question are returned (absent ones become failures).

    Returns:
        ``{name: keras.Model | ProbeFailure}``.
    """
    import keras

    from autograder.public.bounded import clean_text, keras_archive_problem, read_json_bounded

    directory = Path(directory)
    index = read_json_bounded(directory / "probe.json")
    entries = index.get("artefacts", {}) if isinstance(index, dict) else {}
    if not isinstance(entries, dict):
        entries = {}
    if question is not None:
        names = [n for n, _ in PROBES.get(question, [])]
    else:
        names = [n for n in list(entries)[:16] if isinstance(n, str) and _NAME.match(n)]
    result: dict[str, Any] = {}
    for name in names:
        entry = entries.get(name) if isinstance(entries.get(name), dict) else {}
        path = directory / f"{name}.keras"
        if entry.get("kind") == "failure" and not path.exists():
            kind = clean_text(entry.get("failure_kind"), 32)
            result[name] = ProbeFailure(
                kind if kind in FAILURE_KINDS else "error",
                clean_text(entry.get("message_fr")) or "attendu : un modèle, reçu : une erreur.",
                clean_text(entry.get("hint_fr")),
                clean_text(entry.get("message_en")),
                clean_text(entry.get("hint_en")),
            )
            continue
        if not path.is_file() or path.is_symlink():
            result[name] = ProbeFailure(
                "absent",
                "attendu : un modèle construit par votre fonction, reçu : rien "
                "(l'exécution s'est arrêtée avant).",
                "Exécutez le notebook de haut en bas : il doit aller au bout sans erreur.",
                "expected a model built by your function, got nothing (the run stopped before).",
                "Run the notebook from top to bottom: it must finish without errors.",
            )
            continue
        problem = keras_archive_problem(path)
        if problem:
            result[name] = ProbeFailure(
                "unloadable",
                "attendu : un modèle Keras enregistré normalement (model.save), reçu : un "
                "fichier .keras hors des limites du correcteur.",
                FUNCTIONAL_HINT,
                "expected a Keras model saved normally (model.save), got a .keras file beyond "
                "the grader's limits.",
                FUNCTIONAL_HINT_EN,
            )
            continue
        try:
            model = keras.models.load_model(path, safe_mode=True, compile=False)
            if not isinstance(model, keras.Model):
                raise TypeError(type(model).__name__)
        except Exception as exc:
            what_fr, what_en = _unloadable_what(exc)
            result[name] = ProbeFailure(
                "unloadable",
                "attendu : un modèle fait de couches Keras standard, assemblées avec l'API "
                f"fonctionnelle, reçu : {what_fr}.",
                FUNCTIONAL_HINT,
                "expected a model made of standard Keras layers, assembled with the functional "
                f"API, got {what_en}.",
                FUNCTIONAL_HINT_EN,
            )
            continue
        try:
            result[name] = flatten_nested(model)
        except Exception as exc:  # noqa: BLE001 - any failure to inline is the student's
            result[name] = ProbeFailure(
                "unloadable",
                "attendu : un modèle dont le correcteur peut lire toutes les couches, reçu : "
                "un sous-modèle imbriqué qu'il ne sait pas déplier.",
                NESTED_HINT,
                "expected a model whose every layer the grader can read, got a nested "
                f"sub-model it cannot unfold ({type(exc).__name__}).",
                NESTED_HINT_EN,
            )
    return result


def roundtrip(artefacts: dict, directory, question: str | None = None) -> dict:
    """Save then load ``artefacts`` through ``directory`` (what grading sees)."""
    save_artefacts(artefacts, directory)
    return load_artefacts(directory, question)
