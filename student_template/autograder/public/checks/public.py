"""Public checks (shipped in the student template): q1 3 pts, q2 2 pts, q3 1 pt."""

from __future__ import annotations

import numpy as np

from autograder.public.checks.base import CheckFailed, check
from autograder.public.probe import KWARGS_PROBE, PROBES, ProbeFailure


def need(artefacts: dict, name: str):
    """The model ``name`` or a :class:`CheckFailed` carrying the probe's failure."""
    art = artefacts.get(name)
    if art is None:
        raise CheckFailed(
            "attendu : un modèle construit par votre fonction, reçu : rien.",
            "Exécutez le notebook de haut en bas sans erreur, puis relancez la vérification.",
            "expected a model built by your function, got nothing.",
            "Run the notebook from top to bottom without errors, then check again.",
        )
    if isinstance(art, ProbeFailure):
        raise CheckFailed(art.message_fr, art.hint_fr, art.message_en or None, art.hint_en or None)
    return art


def graph_of(model):
    from autograder.public.graph import Graph

    try:
        return Graph(model)
    except Exception as exc:  # not a functional graph
        raise CheckFailed(
            "attendu : un modèle construit avec l'API fonctionnelle de Keras, reçu : un graphe "
            f"que le correcteur ne sait pas parcourir ({type(exc).__name__}).",
            "Enchaînez des couches Keras avec l'API fonctionnelle : y = Couche(...)(x).",
            "expected a model built with Keras's functional API, got a graph the grader "
            f"cannot walk ({type(exc).__name__}).",
            "Chain Keras layers with the functional API: y = Layer(...)(x).",
        ) from exc


def number(x) -> str:
    """A float for a message: 3 significant digits (``-0.176``, not ``-0.17599999904632568``)."""
    x = float(x)
    return "0" if x == 0 else f"{x:.3g}"


def number_list(values) -> str:
    """``[0.176, 1, 2.5e-05]``: each value rounded by :func:`number`."""
    return "[" + ", ".join(number(v) for v in np.asarray(values).ravel()) + "]"


def shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def predict(model, input_shape, batch=4, seed=0, scale=1.0):
    """Run ``model`` in inference mode on seeded random images."""
    import keras

    x = (np.random.default_rng(seed).standard_normal((batch, *input_shape)) * scale).astype(
        "float32"
    )
    return x, np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))


# ---------------------------------------------------------------- q1


@check("q1.shape", 1, title_en="ResidualBlock: the output has the input's shape (several sizes).")
def q1_shape(artefacts):
    """ResidualBlock : la sortie a la forme de l'entrée (plusieurs tailles)."""
    for name, spec in PROBES["q1"][:3]:
        model = need(artefacts, name)
        expected = (None, *spec["shape"])
        got = tuple(model.outputs[0].shape)
        if got != expected:
            raise CheckFailed(
                f"attendu : une sortie de forme {shape_text(expected)} pour une entrée "
                f"{shape_text(expected)} et filters={spec['shape'][-1]}, reçu : {shape_text(got)}.",
                "Le raccourci additionne l'entrée et la sortie de la branche : elles doivent "
                "garder la même taille (regardez le padding des convolutions et ce que vous "
                "additionnez ou assemblez).",
                f"expected an output of shape {shape_text(expected)} for an input "
                f"{shape_text(expected)} and filters={spec['shape'][-1]}, got {shape_text(got)}.",
                "The shortcut adds the input and the output of the branch: they must keep the "
                "same size (look at the padding of the convolutions and at what you add or "
                "join).",
            )


@check("q1.order", 1, title_en="ResidualBlock: the layers follow the residual block's order.")
def q1_order(artefacts):
    """ResidualBlock : les couches s'enchaînent dans l'ordre du bloc résiduel."""
    from autograder.public.blocks import EXPECTED_EN, EXPECTED_FR, main_path, order_problem

    model = need(artefacts, "block_8x8x4")
    problem = order_problem(main_path(graph_of(model)))
    if problem is None:
        return
    raise CheckFailed(
        f"attendu : {EXPECTED_FR}, reçu : {problem[0]}.",
        "Relisez les 7 étapes du bloc résiduel dans l'énoncé et comparez-les, une à une, "
        "aux couches de votre fonction.",
        f"expected {EXPECTED_EN}, got {problem[1]}.",
        "Read again the 7 steps of the residual block in the assignment and compare them, one "
        "by one, with the layers of your function.",
    )


def _conv_kwargs_problems(conv) -> list[str]:
    a = conv.attrs
    bad = []
    if a["filters"] != KWARGS_PROBE["filters"]:
        bad.append(f"filters={a['filters']}")
    if a["kernel_size"] != (KWARGS_PROBE["kernel_size"],) * 2:
        bad.append(f"kernel_size={a['kernel_size']}")
    if a["kernel_initializer"] != "Ones":
        bad.append(f"kernel_initializer={a['kernel_initializer']}")
    if a["use_bias"] is not KWARGS_PROBE["use_bias"]:
        bad.append(f"use_bias={a['use_bias']}")
    return bad


@check("q1.kwargs", 1, title_en="ResidualBlock: the **kwargs reach both convolutions.")
def q1_kwargs(artefacts):
    """ResidualBlock : les **kwargs parviennent aux deux convolutions."""
    from autograder.public.graph import CONV

    call = 'ResidualBlock(x, filters=8, kernel_size=5, kernel_initializer="ones", use_bias=False)'
    model = need(artefacts, "block_kwargs")
    from autograder.public.blocks import main_path

    convs = [n for n in main_path(graph_of(model)) if n.kind == CONV]
    if len(convs) < 2:
        raise CheckFailed(
            f"attendu : deux Conv2D dans le bloc construit par {call}, reçu : {len(convs)}.",
            "Le bloc contient deux couches Conv2D, chacune recevant les **kwargs.",
            f"expected two Conv2D in the block built by {call}, got {len(convs)}.",
            "The block holds two Conv2D layers, each receiving the **kwargs.",
        )
    for i, conv in enumerate(convs, 1):
        bad = _conv_kwargs_problems(conv)
        if bad:
            raise CheckFailed(
                f"attendu : avec {call}, chaque Conv2D reçoit ces arguments, reçu : la Conv2D "
                f"n°{i} a {', '.join(bad)}.",
                "Transmettez les arguments nommés reçus par ResidualBlock (**kwargs) à chacune "
                "des convolutions, sans les remplacer par des valeurs fixées.",
                f"expected, with {call}, each Conv2D to get these arguments, got: Conv2D "
                f"#{i} has {', '.join(bad)}.",
                "Pass the keyword arguments ResidualBlock receives (**kwargs) to each "
                "convolution, without replacing them with fixed values.",
            )


# ---------------------------------------------------------------- q2, q3


def _check_output(model, input_shape, num_classes, call):
    expected = (None, num_classes)
    got_in = tuple(model.inputs[0].shape) if model.inputs else None
    if got_in != (None, *input_shape):
        raise CheckFailed(
            f"attendu : avec {call}, une entrée de forme {shape_text((None, *input_shape))}, "
            f"reçu : {shape_text(got_in) if got_in else 'aucune entrée'}.",
            "Utilisez le paramètre input_shape pour créer l'entrée du modèle au lieu d'une "
            "forme écrite en dur.",
            f"expected, with {call}, an input of shape {shape_text((None, *input_shape))}, "
            f"got {shape_text(got_in) if got_in else 'no input'}.",
            "Use the input_shape parameter to create the model's input instead of a "
            "hard-coded shape.",
        )
    got = tuple(model.outputs[0].shape)
    if got != expected:
        raise CheckFailed(
            f"attendu : avec {call}, une sortie de forme {shape_text(expected)}, "
            f"reçu : {shape_text(got)}.",
            "La dernière couche doit produire une valeur par classe (num_classes) pour chaque "
            "image ; pensez à aplatir ou à regrouper les cartes de caractéristiques avant.",
            f"expected, with {call}, an output of shape {shape_text(expected)}, "
            f"got {shape_text(got)}.",
            "The last layer must produce one value per class (num_classes) for each image; "
            "think of flattening or pooling the feature maps first.",
        )
    _, y = predict(model, input_shape)
    sums = y.sum(axis=-1)
    if not (np.all(np.isfinite(y)) and np.all(y >= -1e-6) and np.allclose(sums, 1.0, atol=1e-3)):
        got_sums = number_list(sums[:3])
        raise CheckFailed(
            "attendu : des probabilités (valeurs positives dont chaque ligne somme à 1), "
            f"reçu : des lignes de somme {got_sums}, valeur minimale "
            f"{number(np.nanmin(y))}.",
            "La sortie doit être une distribution de probabilités sur les classes : "
            "quelle activation convient à la dernière couche d'un classifieur ?",
            "expected probabilities (non-negative values, each row summing to 1), got rows "
            f"summing to {got_sums}, minimum value {number(np.nanmin(y))}.",
            "The output must be a probability distribution over the classes: which "
            "activation suits the last layer of a classifier?",
        )


@check("q2.output", 1, title_en="build_resnet(): output (None, 10) of probabilities.")
def q2_output(artefacts):
    """build_resnet() : sortie (None, 10) de probabilités."""
    _check_output(need(artefacts, "model"), (28, 28, 1), 10, "build_resnet()")


@check("q2.params", 1, title_en="build_resnet: input_shape and num_classes are respected.")
def q2_params(artefacts):
    """build_resnet : input_shape et num_classes sont respectés."""
    _check_output(
        need(artefacts, "model_alt"),
        (32, 32, 3),
        5,
        "build_resnet(input_shape=(32, 32, 3), num_classes=5)",
    )


@check(
    "q3.output",
    1,
    title_en="build_cnn: output of probabilities, input_shape and num_classes respected.",
)
def q3_output(artefacts):
    """build_cnn : sortie de probabilités, input_shape et num_classes respectés."""
    _check_output(need(artefacts, "model"), (28, 28, 1), 10, "build_cnn()")
    _check_output(
        need(artefacts, "model_alt"),
        (32, 32, 3),
        5,
        "build_cnn(input_shape=(32, 32, 3), num_classes=5)",
    )
