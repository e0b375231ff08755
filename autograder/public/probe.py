"""Probe stage: call the student's functions with the grader's fixed arguments.

:func:`probe` and :func:`save_artefacts` run in the UNTRUSTED process (the
student's code has been executed there). The next stage, :mod:`autograder.public.load`,
runs in the trusted process and is the only way the checks see the student's models.

Artefact names per question (see :data:`PROBES`):

- ``q1``: ``block_8x8x4``, ``block_6x10x3``, ``block_5x5x16`` (``filters=C,
  kernel_size=3``) and ``block_kwargs`` (input 7x7x8, ``filters=8,
  kernel_size=5, kernel_initializer="ones", use_bias=False``); each is
  ``keras.Model(inp, ResidualBlock(inp, **kwargs))``.
- ``q2``: ``model`` (``build_resnet()``) and ``model_alt``
  (``build_resnet(input_shape=(32, 32, 3), num_classes=5)``), and the auxiliary
  ``own_block`` (the student's ``ResidualBlock`` on an 8x8x4 input, ``filters=4,
  kernel_size=3``) with which ``q2.blocks`` recognises the student's own blocks.
- ``q3``: the same with ``build_cnn``.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from autograder.public.assignment import QUESTION_FUNCTIONS as FUNCTIONS

SEED = 20240
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
        (
            "own_block",
            {"block": True, "shape": (8, 8, 4), "kwargs": {"filters": 4, "kernel_size": 3}},
        ),
    ],
    "q3": [
        ("model", {"kwargs": {}}),
        ("model_alt", {"kwargs": {"input_shape": (32, 32, 3), "num_classes": 5}}),
    ],
}

#: Artefacts that only help a check (their failure is not the question's failure).
AUXILIARY = frozenset({"own_block"})
#: The function that builds blocks (``own_block``).
BLOCK_FUNCTION = FUNCTIONS["q1"]

FUNCTIONAL_HINT = (
    "Construisez votre modèle avec l'API fonctionnelle et les couches fournies par Keras "
    "(keras.layers.Conv2D, BatchNormalization, ReLU, Add...) : pas de sous-classe de "
    "keras.layers.Layer ou de keras.Model, pas de couche Lambda."
)
FUNCTIONAL_HINT_EN = (
    "Build your model with the functional API and the layers Keras provides "
    "(keras.layers.Conv2D, BatchNormalization, ReLU, Add...): no subclass of "
    "keras.layers.Layer or keras.Model, no Lambda layer."
)


@dataclass
class ProbeFailure:
    """Why an artefact could not be built (or loaded).

    Attributes:
        kind: ``"missing"``, ``"not-implemented"``, ``"error"``,
            ``"wrong-type"``, ``"save"``, ``"unloadable"`` or ``"absent"``.
        message_fr: French message, "attendu X, reçu Y".
        hint_fr: French hint.
        message_en: English message.
        hint_en: English hint (empty: none).
    """

    kind: str
    message_fr: str
    hint_fr: str = ""
    message_en: str = ""
    hint_en: str = ""

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "message_fr": self.message_fr,
            "hint_fr": self.hint_fr,
            "message_en": self.message_en,
            "hint_en": self.hint_en,
        }


FAILURE_KINDS = (
    "missing",
    "not-implemented",
    "error",
    "wrong-type",
    "save",
    "unloadable",
    "absent",
    "notebook-variable",
)


class NotebookVariableError(NameError):
    """A graded function read a notebook variable that grading does not compute.

    The notebook-variable policy (docs/checks.md): grading runs only the
    definitions of the notebook (:mod:`autograder.public.statements`), so a
    variable computed by a dropped statement (``X_train = ...``) does not
    exist for the graded functions, on every path (sandbox, ``verifier``,
    otter tests). Reading one fails with this error, turned by :func:`probe`
    into a ``"notebook-variable"`` failure naming the variable and the
    parameter to use.
    """

    def __init__(self, name: str, reason: str = ""):
        super().__init__(
            reason
            or f"la variable {name} est calculée dans une cellule que la correction n'exécute pas",
            name=name,
        )


class ExplainedNameError(NameError):
    """A NameError whose message says why the name is missing (a broken cell)."""


ExplainedNameError.__name__ = ExplainedNameError.__qualname__ = "NameError"


def explain_name_errors(func, unavailable: dict, variables=()):
    """``func`` wrapped so that a NameError on a name grading lacks says why.

    Args:
        func: a student's function.
        unavailable: name -> French reason (:attr:`Extracted.unavailable`).
        variables: names that are notebook data variables
            (:attr:`Extracted.variables`): reading one raises
            :class:`NotebookVariableError`.
    """
    variables = frozenset(variables)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (NotebookVariableError, ExplainedNameError):
            raise
        except NameError as exc:
            name = getattr(exc, "name", None)
            if name in variables:
                raise NotebookVariableError(name, unavailable.get(name, "")) from None
            if name in unavailable:
                raise ExplainedNameError(unavailable[name], name=name) from None
            raise

    return wrapper


def _variable_failure(question: str, name: str) -> ProbeFailure:
    func = FUNCTIONS[question]
    if question == "q1":
        fr = (
            "le bloc reçoit son entrée en paramètre et ses réglages par **kwargs, "
            "déduisez tout le reste de ces paramètres"
        )
        en = (
            "the block receives its input as a parameter and its settings as **kwargs: "
            "derive everything else from them"
        )
    else:
        fr = (
            "la forme des images arrive par le paramètre `input_shape` (et le nombre de "
            "classes par `num_classes`), car le correcteur appelle la fonction avec "
            "d'autres valeurs que celles de vos données"
        )
        en = (
            "the image shape comes from the `input_shape` parameter (and the number of "
            "classes from `num_classes`), because the grader calls the function with other "
            "values than your data's"
        )
    return ProbeFailure(
        "notebook-variable",
        f"attendu : `{func}` n'utilise que ses paramètres (et des constantes), reçu : une "
        f"lecture de la variable `{name}`, calculée dans une cellule du notebook que la "
        "correction n'exécute pas (chargement des données, entraînement…).",
        f"N'utilisez pas `{name}` dans `{func}` ; {fr}.",
        f"expected `{func}` to use only its parameters (and constants), got: it reads the "
        f"notebook variable `{name}`, computed in a cell grading does not run (data loading, "
        "training...).",
        f"Do not use `{name}` in `{func}`; {en}.",
    )


Artefact = Union["keras.Model", ProbeFailure]  # noqa: F821


_SHAPES = re.compile(
    r"Inputs have incompatible shapes\. Received shapes (\([^)]*\)) and "
    r"(\([^)]*\))"
)
_CONCAT = re.compile(r"`Concatenate` layer requires inputs with matching shapes")
_EMPTY = re.compile(
    r"Computed output size would be zero or negative\. Received `inputs "
    r"shape=\(None, (\d+), (\d+), \d+\)`, `kernel shape=\((\d+), (\d+),"
)
_SIZE_HINT = (
    "La branche du bloc doit garder la taille de l'image de son entrée : comparez la "
    "forme de chaque couche à celle de l'entrée (model.summary()) et regardez les "
    "arguments des convolutions qui la réduisent."
)
_SIZE_HINT_EN = (
    "The block's branch must keep the image size of its input: compare the shape of "
    "each layer with the input's (model.summary()) and look at the arguments of the "
    "convolutions that shrink it."
)


def translate_error(exc: BaseException, call: str) -> ProbeFailure | None:
    """A known Keras/TensorFlow error as "attendu / reçu / piste"; None when unknown.

    The addition of two tensors of different shapes (convolutions with Keras's
    default ``padding="valid"`` shrink the image) raises ``ValueError: Inputs
    have incompatible shapes...`` deep inside Keras: the student reads which
    shapes met and where to look, not a stack of TensorFlow words.
    """
    text = str(exc)
    m = _SHAPES.search(text)
    if m:
        a, b = m.group(1), m.group(2)
        return ProbeFailure(
            "error",
            f"attendu : `{call}` additionne des tenseurs de même forme, reçu : une addition "
            f"de tenseurs de formes {a} et {b}, que Keras refuse.",
            _SIZE_HINT,
            f"expected `{call}` to add tensors of the same shape, got an addition of tensors "
            f"of shapes {a} and {b}, which Keras refuses.",
            _SIZE_HINT_EN,
        )
    m = _EMPTY.search(text)
    if m:
        h, w, kh, kw = m.groups()
        return ProbeFailure(
            "error",
            f"attendu : `{call}` s'exécute sans erreur, reçu : une convolution de noyau "
            f"{kh} × {kw} appliquée à une image réduite à {h} × {w}, dont la sortie serait "
            "vide, ce que Keras refuse.",
            _SIZE_HINT,
            f"expected `{call}` to run without errors, got a convolution with a {kh} × {kw} "
            f"kernel applied to an image shrunk to {h} × {w}, whose output would be empty, "
            "which Keras refuses.",
            _SIZE_HINT_EN,
        )
    if _CONCAT.search(text):
        return ProbeFailure(
            "error",
            f"attendu : `{call}` s'exécute sans erreur, reçu : une concaténation de tenseurs "
            "de tailles d'image différentes, que Keras refuse.",
            "Comparez la forme de chaque couche à celle de l'entrée du bloc (model.summary()).",
            f"expected `{call}` to run without errors, got a concatenation of tensors of "
            "different image sizes, which Keras refuses.",
            "Compare the shape of each layer with the block input's (model.summary()).",
        )
    return None


def short_error(exc: BaseException, limit: int = 240) -> str:
    text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call_text(question: str, spec: dict) -> str:
    name = BLOCK_FUNCTION if spec.get("block") else FUNCTIONS[question]
    args = ", ".join(f"{k}={v!r}" for k, v in spec.get("kwargs", {}).items())
    if question == "q1" or spec.get("block"):
        return f"{name}(keras.Input(shape={tuple(spec['shape'])}){', ' + args if args else ''})"
    return f"{name}({args})"


def missing_function(question: str) -> ProbeFailure:
    name = FUNCTIONS[question]
    return ProbeFailure(
        "missing",
        f"attendu : une fonction `{name}` définie dans le notebook, reçu : aucune fonction de ce nom.",
        f"Vérifiez l'orthographe de `{name}` (majuscules comprises) et que sa cellule s'exécute sans erreur.",
        f"expected a function `{name}` defined in the notebook, got no function of that name.",
        f"Check the spelling of `{name}` (capitals included) and that its cell runs without "
        "errors.",
    )


def _build_one(question: str, func, spec: dict):
    import keras

    keras.utils.set_random_seed(SEED)
    if question == "q1" or spec.get("block"):
        inp = keras.Input(shape=tuple(spec["shape"]))
        out = func(inp, **spec["kwargs"])
        if not keras.backend.is_keras_tensor(out):
            return ProbeFailure(
                "wrong-type",
                f"attendu : `{_call_text(question, spec)}` renvoie un tenseur Keras, "
                f"reçu : un objet de type {type(out).__name__}.",
                "Votre fonction doit renvoyer la sortie de la dernière couche (un tenseur), "
                "pas une couche ni un modèle.",
                f"expected `{_call_text(question, spec)}` to return a Keras tensor, got an "
                f"object of type {type(out).__name__}.",
                "Your function must return the output of the last layer (a tensor), not a "
                "layer or a model.",
            )
        return keras.Model(inp, out, name="residual_block_probe")
    model = func(**spec["kwargs"])
    if not isinstance(model, keras.Model):
        return ProbeFailure(
            "wrong-type",
            f"attendu : `{_call_text(question, spec)}` renvoie un keras.Model, "
            f"reçu : un objet de type {type(model).__name__}.",
            "Terminez votre fonction par `return keras.Model(inputs=..., outputs=...)`.",
            f"expected `{_call_text(question, spec)}` to return a keras.Model, got an object "
            f"of type {type(model).__name__}.",
            "End your function with `return keras.Model(inputs=..., outputs=...)`.",
        )
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
        builder = namespace.get(BLOCK_FUNCTION) if spec.get("block") else func
        if not callable(builder):
            artefacts[name] = missing_function("q1")
            continue
        try:
            artefacts[name] = _build_one(question, builder, spec)
        except NotebookVariableError as exc:
            artefacts[name] = _variable_failure(question, exc.name)
        except NotImplementedError:
            artefacts[name] = ProbeFailure(
                "not-implemented",
                f"attendu : une fonction `{FUNCTIONS[question]}` implémentée, reçu : "
                "NotImplementedError (la fonction n'est pas encore implémentée).",
                "Remplacez la ligne `raise NotImplementedError` par votre code, puis relancez la cellule.",
                f"expected an implemented function `{FUNCTIONS[question]}`, got "
                "NotImplementedError (the function is not implemented yet).",
                "Replace the line `raise NotImplementedError` with your code, then run the cell "
                "again.",
            )
        except Exception as exc:  # student code: anything may happen
            artefacts[name] = translate_error(exc, _call_text(question, spec)) or ProbeFailure(
                "error",
                f"attendu : `{_call_text(question, spec)}` s'exécute sans erreur, "
                f"reçu : {short_error(exc)}.",
                "Exécutez cet appel vous-même dans une cellule du notebook pour lire l'erreur complète.",
                f"expected `{_call_text(question, spec)}` to run without errors, got "
                f"{short_error(exc)}.",
                "Run this call yourself in a notebook cell to read the whole error.",
            )
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
            index["artefacts"][name] = {
                **art.to_dict(),
                "failure_kind": art.kind,
                "kind": "failure",
            }
            continue
        path = directory / f"{name}.keras"
        try:
            art.save(path)
            index["artefacts"][name] = {"kind": "model", "file": path.name}
        except Exception as exc:
            failure = ProbeFailure(
                "save",
                "attendu : un modèle que Keras sait enregistrer (model.save), "
                f"reçu : {short_error(exc)}.",
                FUNCTIONAL_HINT,
                f"expected a model Keras can save (model.save), got {short_error(exc)}.",
                FUNCTIONAL_HINT_EN,
            )
            index["artefacts"][name] = {
                **failure.to_dict(),
                "failure_kind": failure.kind,
                "kind": "failure",
            }
    out = directory / "probe.json"
    out.write_text(json.dumps(index, ensure_ascii=False, indent=1), encoding="utf-8")
    return out
