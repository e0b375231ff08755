"""Probe stage: call the student's functions with the grader's fixed arguments.

:func:`probe` and :func:`save_artefacts` run in the UNTRUSTED process (the
student's code has been executed there); :func:`load_artefacts` runs in the
trusted process and is the only way the checks see the student's models:
``keras.models.load_model(path, safe_mode=True, compile=False)``, so a model
only reaches the checks as Keras's own layers and operations.

Artefact names per question (see :data:`PROBES`):

- ``q1``: ``block_8x8x4``, ``block_6x10x3``, ``block_5x5x16`` (``filters=C,
  kernel_size=3``) and ``block_kwargs`` (input 7x7x8, ``filters=8,
  kernel_size=5, kernel_initializer="ones", use_bias=False``); each is
  ``keras.Model(inp, ResidualBlock(inp, **kwargs))``.
- ``q2``: ``model`` (``build_resnet()``) and ``model_alt``
  (``build_resnet(input_shape=(32, 32, 3), num_classes=5)``).
- ``q3``: the same with ``build_cnn``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

SEED = 20240
from autograder.public.assignment import QUESTION_FUNCTIONS as FUNCTIONS
KWARGS_PROBE = dict(filters=8, kernel_size=5, kernel_initializer="ones", use_bias=False)

#: question -> list of (artefact name, call description)
PROBES: dict[str, list[tuple[str, dict]]] = {
    "q1": [
        ("block_8x8x4", {"shape": (8, 8, 4), "kwargs": {"filters": 4, "kernel_size": 3}}),
        ("block_6x10x3", {"shape": (6, 10, 3), "kwargs": {"filters": 3, "kernel_size": 3}}),
        ("block_5x5x16", {"shape": (5, 5, 16), "kwargs": {"filters": 16, "kernel_size": 3}}),
        ("block_kwargs", {"shape": (7, 7, 8), "kwargs": dict(KWARGS_PROBE)}),
    ],
    "q2": [
        ("model", {"kwargs": {}}),
        ("model_alt", {"kwargs": {"input_shape": (32, 32, 3), "num_classes": 5}}),
    ],
    "q3": [
        ("model", {"kwargs": {}}),
        ("model_alt", {"kwargs": {"input_shape": (32, 32, 3), "num_classes": 5}}),
    ],
}

FUNCTIONAL_HINT = (
    "Construisez votre modèle avec l'API fonctionnelle et les couches fournies par Keras "
    "(keras.layers.Conv2D, BatchNormalization, ReLU, Add...) : pas de sous-classe de "
    "keras.layers.Layer ou de keras.Model, pas de couche Lambda."
)


@dataclass
class ProbeFailure:
    """Why an artefact could not be built (or loaded).

    Attributes:
        kind: ``"missing"``, ``"not-implemented"``, ``"error"``,
            ``"wrong-type"``, ``"save"``, ``"unloadable"`` or ``"absent"``.
        message_fr: French message, "attendu X, reçu Y".
        hint_fr: French hint.
        message_en: English message for maintainers.
    """

    kind: str
    message_fr: str
    hint_fr: str = ""
    message_en: str = ""

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message_fr": self.message_fr,
                "hint_fr": self.hint_fr, "message_en": self.message_en}


FAILURE_KINDS = ("missing", "not-implemented", "error", "wrong-type", "save", "unloadable",
                 "absent")

Artefact = Union["keras.Model", ProbeFailure]  # noqa: F821


def _short(exc: BaseException, limit: int = 240) -> str:
    text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call_text(question: str, spec: dict) -> str:
    name = FUNCTIONS[question]
    args = ", ".join(f"{k}={v!r}" for k, v in spec.get("kwargs", {}).items())
    if question == "q1":
        return f"{name}(keras.Input(shape={tuple(spec['shape'])}){', ' + args if args else ''})"
    return f"{name}({args})"


def missing_function(question: str) -> ProbeFailure:
    name = FUNCTIONS[question]
    return ProbeFailure(
        "missing",
        f"attendu : une fonction `{name}` définie dans le notebook, reçu : aucune fonction de ce nom.",
        f"Vérifiez l'orthographe de `{name}` (majuscules comprises) et que sa cellule s'exécute sans erreur.",
        f"no function named {name} in the notebook")


def _build_one(question: str, func, spec: dict):
    import keras

    keras.utils.set_random_seed(SEED)
    if question == "q1":
        inp = keras.Input(shape=tuple(spec["shape"]))
        out = func(inp, **spec["kwargs"])
        if not keras.backend.is_keras_tensor(out):
            return ProbeFailure(
                "wrong-type",
                f"attendu : `{_call_text(question, spec)}` renvoie un tenseur Keras, "
                f"reçu : un objet de type {type(out).__name__}.",
                "Votre fonction doit renvoyer la sortie de la dernière couche (un tenseur), "
                "pas une couche ni un modèle.",
                f"ResidualBlock returned {type(out).__name__}, not a KerasTensor")
        return keras.Model(inp, out, name="residual_block_probe")
    model = func(**spec["kwargs"])
    if not isinstance(model, keras.Model):
        return ProbeFailure(
            "wrong-type",
            f"attendu : `{_call_text(question, spec)}` renvoie un keras.Model, "
            f"reçu : un objet de type {type(model).__name__}.",
            "Terminez votre fonction par `return keras.Model(inputs=..., outputs=...)`.",
            f"{FUNCTIONS[question]} returned {type(model).__name__}, not a keras.Model")
    if not model.built:
        shape = spec["kwargs"].get("input_shape", (28, 28, 1))
        model.build((None, *shape))
    return model


def probe(question: str, namespace: dict) -> dict[str, Any]:
    """Build the grader's artefacts for ``question`` from the student's namespace.

    Runs in the untrusted process. Every failure is caught and reported as a
    :class:`ProbeFailure`; this function never raises (except on
    ``KeyboardInterrupt``/``SystemExit``).

    Args:
        question: ``"q1"``, ``"q2"`` or ``"q3"``.
        namespace: globals of the executed student code.

    Returns:
        ``{artefact name: keras.Model | ProbeFailure}`` in :data:`PROBES` order.
    """
    if question not in PROBES:
        return {}
    func = namespace.get(FUNCTIONS[question])
    if not callable(func):
        failure = missing_function(question)
        return {name: failure for name, _ in PROBES[question]}
    artefacts: dict[str, Any] = {}
    for name, spec in PROBES[question]:
        try:
            artefacts[name] = _build_one(question, func, spec)
        except NotImplementedError:
            artefacts[name] = ProbeFailure(
                "not-implemented",
                f"attendu : une fonction `{FUNCTIONS[question]}` implémentée, reçu : "
                "NotImplementedError (la fonction n'est pas encore implémentée).",
                "Remplacez la ligne `raise NotImplementedError` par votre code, puis relancez la cellule.",
                f"{FUNCTIONS[question]} raises NotImplementedError")
        except Exception as exc:  # student code: anything may happen
            artefacts[name] = ProbeFailure(
                "error",
                f"attendu : `{_call_text(question, spec)}` s'exécute sans erreur, "
                f"reçu : {_short(exc)}.",
                "Exécutez cet appel vous-même dans une cellule du notebook pour lire l'erreur complète.",
                f"{_call_text(question, spec)} raised {_short(exc)}")
    return artefacts


def save_artefacts(artefacts: dict, directory) -> Path:
    """Write each model as ``<name>.keras`` and a ``probe.json`` index.

    Args:
        artefacts: as returned by :func:`probe`.
        directory: destination folder (created if needed).

    Returns:
        The path of ``probe.json``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    index: dict[str, Any] = {"artefacts": {}}
    try:
        import keras
        index["keras_version"] = keras.__version__
    except Exception:  # pragma: no cover
        pass
    for name, art in artefacts.items():
        if isinstance(art, ProbeFailure):
            index["artefacts"][name] = {**art.to_dict(), "failure_kind": art.kind,
                                        "kind": "failure"}
            continue
        path = directory / f"{name}.keras"
        try:
            art.save(path)
            index["artefacts"][name] = {"kind": "model", "file": path.name}
        except Exception as exc:
            failure = ProbeFailure(
                "save",
                "attendu : un modèle que Keras sait enregistrer (model.save), "
                f"reçu : {_short(exc)}.",
                FUNCTIONAL_HINT, f"model.save failed: {_short(exc)}")
            index["artefacts"][name] = {**failure.to_dict(), "failure_kind": failure.kind,
                                        "kind": "failure"}
    out = directory / "probe.json"
    out.write_text(json.dumps(index, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")

NESTED_HINT = ("Appelez directement les couches Keras (et votre fonction ResidualBlock) dans "
               "le modèle, sans les emballer dans un sous-modèle keras.Model ou keras.Sequential.")


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

    if not any(isinstance(layer, keras.Model)
               for layer in model._flatten_layers(include_self=False, recursive=True)):
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
                clean_text(entry.get("hint_fr")), clean_text(entry.get("message_en")))
            continue
        if not path.is_file() or path.is_symlink():
            result[name] = ProbeFailure(
                "absent",
                "attendu : un modèle construit par votre fonction, reçu : rien "
                "(l'exécution s'est arrêtée avant).",
                "Exécutez le notebook de haut en bas : il doit aller au bout sans erreur.",
                f"{name}.keras was not written")
            continue
        problem = keras_archive_problem(path)
        if problem:
            result[name] = ProbeFailure(
                "unloadable",
                "attendu : un modèle Keras enregistré normalement (model.save), reçu : un "
                "fichier .keras hors des limites du correcteur.",
                FUNCTIONAL_HINT, f"archive rejected: {problem}")
            continue
        try:
            model = keras.models.load_model(path, safe_mode=True, compile=False)
            if not isinstance(model, keras.Model):
                raise TypeError(type(model).__name__)
        except Exception as exc:
            result[name] = ProbeFailure(
                "unloadable",
                "attendu : un modèle fait de couches Keras standard, assemblées avec l'API "
                "fonctionnelle, reçu : un modèle que le correcteur ne peut pas recharger "
                f"({clean_text(_short(exc, 160), 160)}).",
                FUNCTIONAL_HINT, f"load_model(safe_mode=True) failed: {_short(exc)}")
            continue
        try:
            result[name] = flatten_nested(model)
        except Exception as exc:  # noqa: BLE001 - any failure to inline is the student's
            result[name] = ProbeFailure(
                "unloadable",
                "attendu : un modèle dont le correcteur peut lire toutes les couches, reçu : "
                "un sous-modèle imbriqué qu'il ne sait pas déplier.",
                NESTED_HINT, f"nested model could not be inlined: {_short(exc)}")
    return result
def roundtrip(artefacts: dict, directory, question: str | None = None) -> dict:
    """Save then load ``artefacts`` through ``directory`` (what grading sees)."""
    save_artefacts(artefacts, directory)
    return load_artefacts(directory, question)
