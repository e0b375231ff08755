"""Hidden checks (teacher grading only; not shipped in the student template).

q1: +4 (sequence 1, shortcut 1, numeric 2); q2: blocks 2 (+ accuracy 2 in
training.py); q3: no_skip 1 (+ accuracy 2 in training.py); q4: 3, by hand.
"""

from __future__ import annotations

import numpy as np

from autograder.public.checks.base import CheckFailed, check, register_manual
from autograder.public.checks.public import graph_of, need, predict

HINT_ORDER = (
    "Relisez les 7 étapes du bloc résiduel dans l'énoncé et comparez-les, une à une, "
    "aux couches de votre fonction."
)
HINT_ORDER_EN = (
    "Read again the 7 steps of the residual block in the assignment and compare "
    "them, one by one, with the layers of your function."
)


@check(
    "q1.sequence",
    1,
    "hidden",
    title_en="ResidualBlock: complete sequence, no activation inside the convolutions, "
    "no extra layer.",
)
def q1_sequence(artefacts):
    """ResidualBlock : séquence complète, sans activation dans les convolutions ni couche en trop."""
    from autograder.public.blocks import EXPECTED_EN, EXPECTED_FR, main_path, order_problem
    from autograder.public.graph import CONV, IDENTITY, INPUT

    model = need(artefacts, "block_8x8x4")
    graph = graph_of(model)
    path = main_path(graph)
    problem = order_problem(path)
    if problem:
        raise CheckFailed(
            f"attendu : {EXPECTED_FR}, reçu : {problem[0]}.",
            HINT_ORDER,
            f"expected {EXPECTED_EN}, got {problem[1]}.",
            HINT_ORDER_EN,
        )
    for i, conv in enumerate([n for n in path if n.kind == CONV], 1):
        act = conv.attrs["activation"]
        if act != "linear":
            raise CheckFailed(
                f"attendu : une Conv2D n°{i} sans activation (la ReLU est une couche à part, "
                f'après la BatchNormalization), reçu : activation="{act}" dans la Conv2D.',
                "Dans le bloc résiduel, la normalisation se place entre la convolution et "
                "l'activation : retirez l'activation de la couche de convolution.",
                f"expected Conv2D #{i} without activation (the ReLU is a separate layer, after "
                f'the BatchNormalization), got activation="{act}" inside the Conv2D.',
                "In the residual block, the normalisation sits between the convolution and the "
                "activation: remove the activation from the convolution layer.",
            )
        if conv.attrs["padding"] != "same" or conv.attrs["strides"] != (1, 1):
            raise CheckFailed(
                f"attendu : une Conv2D n°{i} qui conserve la taille de l'image, reçu : "
                f'padding="{conv.attrs["padding"]}", strides={conv.attrs["strides"]}.',
                "Le bloc doit fixer lui-même le padding de ses convolutions.",
                f"expected Conv2D #{i} to keep the image size, got "
                f'padding="{conv.attrs["padding"]}", strides={conv.attrs["strides"]}.',
                "The block must set the padding of its convolutions itself.",
            )
    extra = [n for n in graph.nodes if n.kind not in (INPUT, IDENTITY) and n not in path]
    if extra:
        raise CheckFailed(
            f"attendu : seulement les 7 étapes du bloc, reçu : en plus, "
            f"{', '.join(n.label for n in extra)}.",
            "Le raccourci est l'entrée du bloc elle-même, sans transformation ; retirez les "
            "couches qui ne font pas partie des 7 étapes.",
            "expected only the 7 steps of the block, got, in addition, "
            f"{', '.join(n.label_en for n in extra)}.",
            "The shortcut is the block's input itself, untransformed; remove the layers that "
            "are not among the 7 steps.",
        )


@check(
    "q1.shortcut",
    1,
    "hidden",
    title_en="ResidualBlock: the addition joins the block's input and the branch's output.",
)
def q1_shortcut(artefacts):
    """ResidualBlock : l'addition relie l'entrée du bloc à la sortie de la branche."""
    from autograder.public.blocks import branch_kinds
    from autograder.public.graph import ADD, CONCAT, CONV

    model = need(artefacts, "block_8x8x4")
    graph = graph_of(model)
    inp = graph.inputs[0]
    adds = graph.of_kind(ADD)
    if not adds:
        found = "une concaténation" if graph.of_kind(CONCAT) else "aucune addition"
        found_en = "a concatenation" if graph.of_kind(CONCAT) else "no addition"
        raise CheckFailed(
            f"attendu : une addition de l'entrée du bloc et de la sortie de la branche, reçu : {found}.",
            "Le raccourci s'ajoute (somme terme à terme) à la sortie de la branche : les "
            "formes restent identiques.",
            f"expected an addition of the block's input and the branch's output, got {found_en}.",
            "The shortcut is added (element-wise sum) to the branch's output: the shapes stay "
            "the same.",
        )
    add = adds[-1]
    ins = [graph.skip_identity(t) for t in add.inputs]
    if len(ins) != 2:
        raise CheckFailed(
            f"attendu : une addition de deux tenseurs, reçu : une addition de {len(ins)} tenseurs.",
            "Additionnez exactement l'entrée du bloc et la sortie de la branche.",
            f"expected an addition of two tensors, got an addition of {len(ins)} tensors.",
            "Add exactly the block's input and the branch's output.",
        )
    direct = [t for t in ins if t is inp]
    if not direct:
        prods = [graph.producer(t) for t in ins]
        if any(
            p is not None
            and p.kind == CONV
            and graph.skip_identity(p.inputs[0]) is inp
            and len(graph.consumers(p.outputs[0])) == 1
            for p in prods
        ):
            raise CheckFailed(
                "attendu : un raccourci identité (l'entrée du bloc ajoutée telle quelle), reçu : "
                "un raccourci qui passe par une convolution (projection).",
                "Dans ce bloc, l'entrée et la sortie ont le même nombre de canaux : le raccourci "
                "n'a besoin d'aucune couche.",
                "expected an identity shortcut (the block's input added as is), got a shortcut "
                "through a convolution (projection).",
                "In this block, the input and the output have the same number of channels: the "
                "shortcut needs no layer.",
            )
        labels = " et ".join(p.label if p is not None else "?" for p in prods)
        labels_en = " and ".join(p.label_en if p is not None else "?" for p in prods)
        raise CheckFailed(
            "attendu : l'addition de l'entrée du bloc et de la sortie de sa branche, reçu : "
            f"l'addition des sorties de {labels}.",
            "Gardez une référence vers l'entrée du bloc avant la première convolution et "
            "ajoutez-la à la fin de la branche.",
            "expected the addition of the block's input and its branch's output, got the "
            f"addition of the outputs of {labels_en}.",
            "Keep a reference to the block's input before the first convolution and add it at "
            "the end of the branch.",
        )
    other = ins[1] if ins[0] is inp else ins[0]
    if other is inp or branch_kinds(graph, other, inp) is None:
        raise CheckFailed(
            "attendu : l'addition de l'entrée du bloc et de la sortie de sa branche "
            "(Conv2D, BatchNormalization...), reçu : une autre combinaison de tenseurs.",
            "La branche part de l'entrée du bloc ; le raccourci aussi.",
            "expected the addition of the block's input and its branch's output (Conv2D, "
            "BatchNormalization...), got another combination of tensors.",
            "The branch starts from the block's input; so does the shortcut.",
        )


def _conv(x, layer):
    import keras

    y = keras.ops.conv(x, layer.kernel, strides=1, padding="same")
    if layer.use_bias:
        y = y + layer.bias
    return y


def _bn(x, layer):

    if layer.axis not in (-1, 3):
        raise CheckFailed(
            f"attendu : une BatchNormalization sur l'axe des canaux (axis=-1), reçu : axis={layer.axis}.",
            "Laissez l'axe par défaut de BatchNormalization.",
            "expected a BatchNormalization over the channel axis (axis=-1), got "
            f"axis={layer.axis}.",
            "Keep BatchNormalization's default axis.",
        )
    inv = 1.0 / np.sqrt(np.asarray(layer.moving_variance) + layer.epsilon)
    gamma = np.asarray(layer.gamma) if layer.scale else 1.0
    beta = np.asarray(layer.beta) if layer.center else 0.0
    return (x - np.asarray(layer.moving_mean)) * inv * gamma + beta


def _randomise(model, rng):
    saved = model.get_weights()
    new = []
    for w in model.weights:
        shape = tuple(w.shape)
        if "variance" in w.path:
            new.append(rng.uniform(0.5, 2.0, shape).astype("float32"))
        else:
            new.append((rng.standard_normal(shape) * 0.3).astype("float32"))
    model.set_weights(new)
    return saved


@check(
    "q1.numeric",
    2,
    "hidden",
    title_en="ResidualBlock: output = relu(input + branch(input)), computed with the "
    "block's weights.",
)
def q1_numeric(artefacts):
    """ResidualBlock : sortie = relu(entrée + branche(entrée)), calculée avec les poids du bloc."""
    import keras

    from autograder.public.blocks import main_path
    from autograder.public.graph import BN, CONV

    for name in ("block_8x8x4", "block_kwargs"):
        model = need(artefacts, name)
        graph = graph_of(model)
        path = main_path(graph)
        convs = [n.op for n in path if n.kind == CONV]
        bns = [n.op for n in path if n.kind == BN]
        if len(convs) != 2 or len(bns) != 2:
            raise CheckFailed(
                "attendu : deux Conv2D et deux BatchNormalization dans la branche, pour "
                f"recalculer la sortie du bloc, reçu : {len(convs)} Conv2D et {len(bns)} "
                "BatchNormalization.",
                HINT_ORDER,
                "expected two Conv2D and two BatchNormalization in the branch, to compute the "
                f"block's output again, got {len(convs)} Conv2D and {len(bns)} "
                "BatchNormalization.",
                HINT_ORDER_EN,
            )
        rng = np.random.default_rng(7)
        saved = _randomise(model, rng)
        try:
            shape = tuple(model.inputs[0].shape[1:])
            # large inputs: a capped activation (ReLU(max_value=6)) differs from ReLU
            x, got = predict(model, shape, batch=3, seed=11, scale=4.0)
            h = _bn(np.asarray(keras.ops.convert_to_numpy(_conv(x, convs[0]))), bns[0])
            h = np.maximum(h, 0.0)
            h = _bn(np.asarray(keras.ops.convert_to_numpy(_conv(h, convs[1]))), bns[1])
            expected = np.maximum(x + h, 0.0)
        finally:
            model.set_weights(saved)
        if got.shape != expected.shape:
            raise CheckFailed(
                f"attendu : une sortie de forme {expected.shape}, reçu : {got.shape}.",
                HINT_ORDER,
                f"expected an output of shape {expected.shape}, got {got.shape}.",
                HINT_ORDER_EN,
            )
        err = float(np.max(np.abs(got - expected)))
        if not np.allclose(got, expected, rtol=1e-3, atol=1e-3):
            raise CheckFailed(
                "attendu : une sortie égale à relu(entrée + BN(Conv(ReLU(BN(Conv(entrée)))))) "
                f"calculée avec les poids de votre bloc, reçu : un écart maximal de {err:.3g}.",
                "Vérifiez que chaque couche reçoit bien la sortie de la précédente, sans "
                "activation cachée, et que l'addition porte sur l'entrée du bloc.",
                "expected an output equal to relu(input + BN(Conv(ReLU(BN(Conv(input)))))) "
                f"computed with your block's weights, got a maximum difference of {err:.3g}.",
                "Check that each layer receives the previous one's output, with no hidden "
                "activation, and that the addition uses the block's input.",
            )


@check(
    "q2.blocks",
    2,
    "hidden",
    title_en="build_resnet: exactly two residual blocks built by your ResidualBlock.",
)
def q2_blocks(artefacts):
    """build_resnet : exactement deux blocs résiduels construits par votre ResidualBlock."""
    from autograder.public.blocks import find_blocks, find_own_blocks
    from autograder.public.probe import ProbeFailure

    model = need(artefacts, "model")
    graph = graph_of(model)
    blocks, bad = find_blocks(graph, strict=True)
    if len(blocks) == 2 and not bad:
        return
    # A mistake of question 1 is charged in question 1 only: blocks with the form of the
    # student's own ResidualBlock count here (docs/checks.md, "Charge a mistake once").
    own = None
    block = artefacts.get("own_block")
    if block is not None and not isinstance(block, ProbeFailure):
        try:
            own = find_own_blocks(graph, graph_of(block))
        except CheckFailed:
            own = None
    if own is not None and own[0] == 2 and not own[1]:
        return
    n = len(blocks)
    detail = f"{n} bloc{'s' if n > 1 else ''} conforme{'s' if n > 1 else ''}"
    detail_en = f"{n} matching block{'s' if n > 1 else ''}"
    if own is not None and not blocks:
        k = own[0]
        s = "s" if k > 1 else ""
        detail = f"{k} bloc{s} construit{s} par votre ResidualBlock"
        detail_en = f"{k} block{'s' if k > 1 else ''} built by your ResidualBlock"
        # describe a merge outside the student's blocks, not the q1 mistake again
        bad = [m for m in bad if any(_ends_at(graph, merge, m) for merge in own[1])]
    if bad:
        detail += " ; autre jonction : " + bad[0].problem
        detail_en += "; other merge: " + bad[0].problem_en
    raise CheckFailed(
        f"attendu : exactement 2 blocs résiduels construits par votre ResidualBlock, reçu : "
        f"{detail}.",
        "Construisez le modèle en appelant votre ResidualBlock le nombre de fois demandé, "
        "sans autre raccourci.",
        f"expected exactly 2 residual blocks built by your ResidualBlock, got {detail_en}.",
        "Build the model by calling your ResidualBlock the number of times asked, with no "
        "other shortcut.",
    )


def _ends_at(graph, merge, match) -> bool:
    """Whether the block described by ``match`` is the one whose merge is ``merge``."""
    from autograder.public.blocks import match_block

    out = merge.outputs[0]
    cons = graph.consumers(out)
    ends = [out] + [c.outputs[0] for c in cons if len(cons) == 1]
    return any(match_block(graph, t).problem == match.problem for t in ends)


@check(
    "q3.no_skip",
    1,
    "hidden",
    title_en="build_cnn: no residual connection, at least two convolutions.",
)
def q3_no_skip(artefacts):
    """build_cnn : aucune connexion résiduelle, au moins deux convolutions."""
    from autograder.public.graph import CONV

    model = need(artefacts, "model")
    graph = graph_of(model)
    merges = graph.merges()
    if merges:
        raise CheckFailed(
            "attendu : un CNN classique, sans connexion résiduelle, reçu : "
            f"{len(merges)} jonction{'s' if len(merges) > 1 else ''} ({merges[0].label}).",
            "Pour la comparaison, chaque couche ne doit recevoir que la sortie de la précédente.",
            "expected a plain CNN, with no residual connection, got "
            f"{len(merges)} merge{'s' if len(merges) > 1 else ''} ({merges[0].label_en}).",
            "For the comparison, each layer must receive only the previous one's output.",
        )
    convs = graph.of_kind(CONV)
    if len(convs) < 2:
        raise CheckFailed(
            f"attendu : au moins deux couches Conv2D, reçu : {len(convs)}.",
            "Le CNN de comparaison doit rester un réseau convolutif de profondeur comparable.",
            f"expected at least two Conv2D layers, got {len(convs)}.",
            "The CNN of the comparison must remain a convolutional network of comparable depth.",
        )


register_manual(
    "q4.manual",
    3,
    "Comparaison ResNet / CNN sur plusieurs entraînements (corrigée à la main)",
    "ResNet / CNN comparison over several trainings (graded by hand)",
)
