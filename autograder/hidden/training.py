"""The grader's own minimum-accuracy check (hidden): q2.accuracy, q3.accuracy.

The grader never trusts a number, history or weight produced by student code.
It takes the freshly built model artefact (Keras's own layers, loaded with
``safe_mode=True``) and trains a *fresh copy* of its architecture
(:func:`fresh_copy`): every layer trainable, every weight initialised by the
grader (Keras's default initialisers, seeded), so weights or ``trainable=False``
flags pasted by the student count for nothing. It compiles that copy with its
own optimizer and loss, trains it with a fixed, seeded recipe on a fixed Fashion-MNIST subset
standardised like the notebook (per-pixel StandardScaler fitted on the training
subset), re-estimates BatchNormalization statistics on a large training batch
(short trainings leave the moving averages far from the data statistics, which
makes inference-mode accuracy unreliable), and measures accuracy on held-out
test images with its own code.

Every architecture gets the same training time (:func:`step_budget`): the
reference trains ``budget_steps`` steps, a model whose step costs k times the
reference's (:func:`step_cost`, a deterministic estimate from the graph)
``budget_steps / k`` (within ``[min_steps, max_steps]``), and training stops
after ``time_cap_s`` seconds whatever the model (a last resort; documented in
docs/checks.md).
Results are memoised by model fingerprint (the fresh copy's architecture with
layer names canonicalised, the grader's initialisation and the recipe: nothing
the student's process chose beyond the architecture), in memory and, when
``AUTOGRADER_ACCURACY_CACHE`` names a directory (or ``cache_dir`` is given), on
disk. A result stopped by the wall-clock cap depends on the machine's load: it
is never memoised.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from pathlib import Path

import numpy as np

from autograder.public.bounded import read_json_bounded
from autograder.public.checks.base import CheckFailed, check
from autograder.public.checks.public import need
from autograder.public.fsutil import atomic_write_json

#: Minimum test accuracy (calibrated by scripts/calibrate_accuracy.py, see docs/benchmarks.md).
THRESHOLD = 0.26

RECIPE = {
    "version": 4,
    "train_size": 6000,  # first images of a seeded permutation of the training set
    "test_size": 1000,  # first images of a seeded permutation of the test set
    "batch_size": 64,
    # Equal training time for every architecture: the reference trains
    # `budget_steps` steps; a model whose step costs k times the reference's
    # (step_cost: multiply-accumulates plus `activation_weight` per activation
    # element) trains budget_steps / k steps, within [min_steps, max_steps].
    "budget_steps": 80,
    "min_steps": 30,
    "max_steps": 300,
    "activation_weight": 500,
    "learning_rate": 2e-3,
    "bn_batch": 512,  # training images over which BN statistics are re-estimated
    "bn_chunk": 256,  # ... in training-mode passes of this many (bounded memory)
    "time_cap_s": 300.0,  # last-resort wall-clock cap on training (loaded machines)
    "data_seed": 0,
}

#: median accuracy of the reference build_resnet under RECIPE (docs/benchmarks.md)
REFERENCE_ACCURACY = 0.71

#: multiply-accumulates per 28x28x1 image of the reference build_resnet (and build_cnn)
REFERENCE_MACS = 7_451_456
#: activation elements per 28x28x1 image of the reference build_resnet (:func:`model_activations`)
REFERENCE_ACTIVATIONS = 169_386

CACHE_ENV = "AUTOGRADER_ACCURACY_CACHE"
_MEMO: dict[str, dict] = {}
_DATA: dict = {}


def load_data(recipe: dict = RECIPE):
    """Fixed, standardised subsets: ``(x_train, y_train, x_test, y_test)``."""
    key = (recipe["train_size"], recipe["test_size"], recipe["data_seed"])
    if key in _DATA:
        return _DATA[key]
    from autograder.public.data import load_fashion_mnist

    (x_tr, y_tr), (x_te, y_te) = load_fashion_mnist()
    rng = np.random.default_rng(recipe["data_seed"])
    i_tr = rng.permutation(len(x_tr))[: recipe["train_size"]]
    i_te = rng.permutation(len(x_te))[: recipe["test_size"]]
    x_tr = x_tr[i_tr].astype(np.float32).reshape(-1, 784)
    x_te = x_te[i_te].astype(np.float32).reshape(-1, 784)
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    std[std == 0] = 1.0  # as StandardScaler
    x_tr = ((x_tr - mean) / std).reshape(-1, 28, 28, 1)
    x_te = ((x_te - mean) / std).reshape(-1, 28, 28, 1)
    _DATA[key] = (x_tr, y_tr[i_tr].astype(np.int64), x_te, y_te[i_te].astype(np.int64))
    return _DATA[key]


#: Initialiser of each weight kind in the grader's fresh copy (Keras's defaults).
INITIALIZERS = {
    "kernel_initializer": "glorot_uniform",
    "bias_initializer": "zeros",
    "depthwise_initializer": "glorot_uniform",
    "pointwise_initializer": "glorot_uniform",
    "beta_initializer": "zeros",
    "gamma_initializer": "ones",
    "moving_mean_initializer": "zeros",
    "moving_variance_initializer": "ones",
    "embeddings_initializer": "uniform",
    "alpha_initializer": "zeros",
    "recurrent_initializer": "orthogonal",
}
#: Version of the grader's own initialisation (part of the fingerprint).
INIT_VERSION = 1
_INIT_LOCK = threading.Lock()


def fresh_copy(model, seed: int = 0):
    """The architecture of ``model`` with the grader's weights, every layer trainable.

    Initialisers are reset to Keras's defaults (:data:`INITIALIZERS`),
    constraints and regularisers removed, ``trainable`` set, then the copy is
    initialised under ``keras.utils.set_random_seed(seed)``.

    Args:
        model: a loaded functional ``keras.Model`` (nested models inlined).
        seed: the grader's initialisation seed.

    Returns:
        A new, built ``keras.Model`` sharing nothing with ``model``.
    """
    import keras

    from autograder.public.load import flatten_nested

    model = flatten_nested(model)  # nested models' layers get the same treatment

    def rebuild(layer):
        config = layer.get_config()
        for key in list(config):
            if key.endswith("_initializer"):
                config[key] = INITIALIZERS.get(key, "glorot_uniform")
            elif key.endswith(("_constraint", "_regularizer")):
                config[key] = None
        if "trainable" in config:
            config["trainable"] = True
        return layer.__class__.from_config(config)

    with _INIT_LOCK:  # Keras's seed is global: one initialisation at a time
        keras.utils.set_random_seed(seed)
        clone = keras.models.clone_model(model, clone_function=rebuild)
        for layer in clone._flatten_layers(include_self=True, recursive=True):
            layer.trainable = True
    return clone


def fingerprint(model, recipe: dict = RECIPE) -> str:
    """SHA-256 of the architecture (layer names canonicalised), the grader's init and recipe.

    Args:
        model: the grader's fresh copy (:func:`fresh_copy`), so that pasted
            initialisers, weights or flags never reach the key.
    """
    config = json.dumps(
        {"class": type(model).__name__, "config": model.get_config()}, sort_keys=True, default=str
    )
    names = [layer.name for layer in model.layers] + [model.name]
    names += [op.name for op in getattr(model, "operations", [])]
    mapping = {}
    for n in names:
        mapping.setdefault(n, f"N{len(mapping)}")
    config = re.sub(
        r'"([^"\\]*)"',
        lambda m: f'"{mapping[m.group(1)]}"' if m.group(1) in mapping else m.group(0),
        config,
    )
    h = hashlib.sha256(config.encode())
    h.update(f"init-{INIT_VERSION}".encode())
    h.update(json.dumps(recipe, sort_keys=True).encode())
    return h.hexdigest()


def _bn_layers(model):
    import keras

    out = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            out.append(layer)
    return out


def _reestimate_bn(model, images, recipe: dict = RECIPE) -> None:
    """Set every BatchNormalization's moving statistics to their mean over ``images``.

    Training-mode passes over chunks of ``bn_chunk`` images (each normalises
    with its own chunk's statistics, so chunks do not interact); the k-th pass
    uses momentum (k-1)/k, which leaves in the moving averages the mean of the
    chunks' statistics: the large batch's mean exactly, its variance less the
    (small) spread of the chunks' means, at a fraction of its memory.
    """
    bns = _bn_layers(model)
    if not bns:
        return
    saved = [layer.momentum for layer in bns]
    try:
        chunk = recipe["bn_chunk"]
        for k, i in enumerate(range(0, len(images), chunk), start=1):
            for layer in bns:
                layer.momentum = (k - 1) / k
            model(images[i : i + chunk], training=True)
    finally:
        for layer, m in zip(bns, saved):
            layer.momentum = m


def _graph_sizes(model) -> tuple[int, int]:
    """Multiply-accumulates and activation elements per image, in one graph walk."""
    import keras

    from autograder.public.graph import INPUT, Graph

    macs = activations = 0
    for n in Graph(model).nodes:
        op = n.op
        if n.kind != INPUT:
            for out in n.outputs:
                activations += int(np.prod([d for d in out.shape[1:] if d]))
        if isinstance(op, keras.layers.Conv2D) and n.outputs:
            shape = n.outputs[0].shape
            cin = n.inputs[0].shape[-1]
            kh, kw = op.kernel_size
            macs += int(shape[1] * shape[2] * kh * kw * (cin // op.groups) * op.filters)
        elif isinstance(op, keras.layers.Dense) and n.inputs:
            lead = (
                int(np.prod([d for d in n.inputs[0].shape[1:-1] if d]))
                if len(n.inputs[0].shape) > 2
                else 1
            )
            macs += int(lead * n.inputs[0].shape[-1] * op.units)
    return macs, activations


def model_macs(model) -> int:
    """Multiply-accumulates per image of the Conv2D and Dense layers (graph walk)."""
    return _graph_sizes(model)[0]


def model_activations(model) -> int:
    """Elements of every tensor the graph computes from one image (graph walk, input excluded)."""
    return _graph_sizes(model)[1]


def step_cost(model, recipe: dict = RECIPE) -> int:
    """Deterministic cost of one training step: MACs + ``activation_weight`` x activations.

    On a CPU, a training step of these small convolutional networks is bound by
    memory traffic as much as by arithmetic: a width-8 model at 28x28 does a
    quarter of the reference's multiply-accumulates but takes 0.7x its step
    time. With both terms, weighted as fitted on the project's machine
    (docs/benchmarks.md, "Grader's step cost"), the time per unit of cost
    varies by 13 % (standard deviation over mean) across the synthetic class of
    28 models, against 54 % for multiply-accumulates alone.
    """
    return _cost(*_graph_sizes(model), recipe)


def reference_step_cost(recipe: dict = RECIPE) -> int:
    """:func:`step_cost` of the reference ``build_resnet`` (the unit of :func:`step_budget`)."""
    return _cost(REFERENCE_MACS, REFERENCE_ACTIVATIONS, recipe)


def _cost(macs: int, activations: int, recipe: dict) -> int:
    return macs + recipe["activation_weight"] * activations


def step_budget(model, recipe: dict = RECIPE) -> int:
    """Training steps for ``model``: the same training time for every architecture.

    The reference trains ``budget_steps`` steps; a model whose step costs
    ``k`` times the reference's (:func:`step_cost`) trains ``budget_steps / k``
    steps, rounded, within ``[min_steps, max_steps]``. A narrow model thus
    trains more steps (it learns less per step), a costly one fewer (it does
    not cost the class more time); deterministic, unlike a time cap, which
    depends on the machine's load.
    """
    try:
        cost = step_cost(model, recipe)
    except Exception:
        return recipe["budget_steps"]
    if cost <= 0:
        return recipe["max_steps"]
    steps = round(recipe["budget_steps"] * reference_step_cost(recipe) / cost)
    return int(min(recipe["max_steps"], max(recipe["min_steps"], steps)))


def _step_function(model, loss, recipe: dict = RECIPE):
    """One compiled training step of ``model``: gradient tape, then TensorFlow's Adam kernel.

    The update is Keras's ``Adam(learning_rate)`` (beta 0.9 / 0.999, epsilon
    1e-7) on every trainable variable, applied by TensorFlow's fused
    ``ResourceApplyAdam``. Keras's optimizer traced inside a ``tf.function``
    leaves about 4 MiB behind per model in a long-lived process (Keras 3.15,
    docs/benchmarks.md), ``Model.train_on_batch`` about 20 MiB; this step
    leaves nothing measurable, and traces in half ``train_on_batch``'s time.
    """
    import tensorflow as tf

    variables = model.trainable_variables
    slots = [
        (
            tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False),
            tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False),
        )
        for v in variables
    ]
    count = tf.Variable(0.0, trainable=False)
    beta_1, beta_2 = 0.9, 0.999

    @tf.function(autograph=False)
    def step(x, y):
        with tf.GradientTape() as tape:
            value = loss(y, model(x, training=True))
        grads = tape.gradient(value, variables)
        count.assign_add(1.0)
        scalars = {
            "beta1_power": tf.pow(beta_1, count),
            "beta2_power": tf.pow(beta_2, count),
            "lr": tf.constant(recipe["learning_rate"]),
            "beta1": tf.constant(beta_1),
            "beta2": tf.constant(beta_2),
            "epsilon": tf.constant(1e-7),
        }
        for grad, var, (m, v) in zip(grads, variables, slots):
            if grad is None:  # a variable the loss does not reach
                continue
            tf.raw_ops.ResourceApplyAdam(
                var=var.handle, m=m.handle, v=v.handle, grad=grad, **scalars
            )
        return value

    return step


def train_and_evaluate(model, seed: int = 0, recipe: dict = RECIPE, clone=None) -> dict:
    """Train a fresh copy of ``model`` with the grader's recipe and measure its accuracy.

    Args:
        model: the student's model (input 28x28x1, 10 classes); only its
            architecture is used (:func:`fresh_copy`).
        seed: seed of the shuffling and of Keras's random state.
        recipe: the training recipe (:data:`RECIPE`).
        clone: ``fresh_copy(model, seed)`` when the caller already made it
            (trained in place).

    Returns:
        ``{"accuracy", "seconds", "steps", "capped"}``.
    """
    import keras

    x_tr, y_tr, x_te, y_te = load_data(recipe)
    clone = fresh_copy(model, seed) if clone is None else clone
    # probabilities -> usual loss; anything else is treated as logits (the
    # output checks already penalise a missing softmax)
    sample = np.asarray(keras.ops.convert_to_numpy(clone(x_tr[:32], training=False)))
    probs_out = bool(np.all(sample >= -1e-6) and np.allclose(sample.sum(-1), 1.0, atol=1e-3))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=not probs_out)
    step_fn = _step_function(clone, loss, recipe)
    rng = np.random.default_rng(seed)
    bs, steps = recipe["batch_size"], step_budget(model, recipe)
    order = np.concatenate(
        [rng.permutation(len(x_tr)) for _ in range(int(np.ceil(steps * bs / len(x_tr))))]
    )
    start = time.perf_counter()
    done, capped = 0, False
    for step in range(steps):
        idx = order[step * bs : (step + 1) * bs]
        step_fn(x_tr[idx], y_tr[idx])
        done += 1
        if time.perf_counter() - start > recipe["time_cap_s"]:
            capped = True
            break
    _reestimate_bn(clone, x_tr[rng.permutation(len(x_tr))[: recipe["bn_batch"]]], recipe)
    probs = []
    for i in range(0, len(x_te), 500):
        probs.append(
            np.asarray(keras.ops.convert_to_numpy(clone(x_te[i : i + 500], training=False)))
        )
    pred = np.concatenate(probs).argmax(axis=-1)
    return {
        "accuracy": float((pred == y_te).mean()),
        "seconds": time.perf_counter() - start,
        "steps": done,
        "capped": capped,
    }


def accuracy_of(model, cache_dir=None, recipe: dict = RECIPE) -> dict:
    """Memoised :func:`train_and_evaluate` (seed 0) by :func:`fingerprint`.

    Args:
        model: the freshly built model artefact.
        cache_dir: on-disk cache directory (default: ``$AUTOGRADER_ACCURACY_CACHE`` if set).

    Returns:
        The result dictionary, with ``"cached"``.
    """
    clone = fresh_copy(model, 0)
    key = fingerprint(clone, recipe)
    if key in _MEMO:
        return {**_MEMO[key], "cached": True}
    cache_dir = cache_dir or os.environ.get(CACHE_ENV)
    path = Path(cache_dir) / f"{key}.json" if cache_dir else None
    if path is not None and path.is_file():
        result = _valid_result(read_json_bounded(path, 4096))
        if result is not None:
            _MEMO[key] = result
            return {**result, "cached": True}
    result = train_and_evaluate(model, 0, recipe, clone=clone)
    if result["capped"]:  # depends on the machine's load: never reused
        return {**result, "cached": False}
    _MEMO[key] = result
    if path is not None:
        try:
            atomic_write_json(path, result)  # a concurrent reader never sees half a file
        except OSError:
            pass
    return {**result, "cached": False}


def _valid_result(data) -> dict | None:
    """A cached result as written by :func:`accuracy_of`, or None."""
    if not isinstance(data, dict) or data.get("capped") is not False:
        return None
    acc = data.get("accuracy")
    if not isinstance(acc, float) or not 0.0 <= acc <= 1.0:
        return None
    return {
        "accuracy": acc,
        "seconds": float(data.get("seconds") or 0.0),
        "steps": int(data.get("steps") or 0),
        "capped": False,
    }


def _budget_text(steps: int, recipe: dict = RECIPE) -> str:
    return (
        f"{steps} pas de {recipe['batch_size']} images tirées de "
        f"{_thousands(recipe['train_size'])} images d'entraînement"
    )


def _budget_text_en(steps: int, recipe: dict = RECIPE) -> str:
    return (
        f"{steps} steps of {recipe['batch_size']} images drawn from "
        f"{recipe['train_size']:,} training images"
    )


def _thousands(n: int) -> str:
    """6000 -> "6 000" (French thin space)."""
    return f"{n:,}".replace(",", "\u202f")


def _accuracy_check(artefacts, builder):
    model = need(artefacts, "model")
    got = tuple(model.outputs[0].shape)
    if tuple(model.inputs[0].shape) != (None, 28, 28, 1) or got != (None, 10):
        raise CheckFailed(
            f"attendu : un modèle {builder}() d'entrée (None, 28, 28, 1) et de sortie (None, 10) "
            f"pour l'entraîner, reçu : une sortie {got}.",
            "Corrigez d'abord les vérifications publiques de cette question.",
            f"expected a model {builder}() with input (None, 28, 28, 1) and output (None, 10) "
            f"to train it, got an output {got}.",
            "First fix the public checks of this question.",
        )
    result = accuracy_of(model)
    acc = result["accuracy"]
    if not np.isfinite(acc) or acc < THRESHOLD:
        steps = step_budget(model)
        raise CheckFailed(
            f"attendu : une exactitude d'au moins {THRESHOLD:.0%} sur {_thousands(RECIPE['test_size'])} "
            f"images de test après l'entraînement court du correcteur ({_budget_text(steps)}, "
            f"où le modèle de référence obtient environ {REFERENCE_ACCURACY:.0%} ; rien à voir "
            f"avec votre propre entraînement, plus long), reçu : {acc:.1%}.",
            "Votre modèle apprend mal : vérifiez la sortie (probabilités), les activations et "
            "que l'entrée est bien utilisée par toutes les couches.",
            f"expected an accuracy of at least {THRESHOLD:.0%} on {RECIPE['test_size']} test "
            f"images after the grader's short training ({_budget_text_en(steps)}, where the "
            f"reference model gets about {REFERENCE_ACCURACY:.0%}; unrelated to your own, "
            f"longer training), got {acc:.1%}.",
            "Your model learns poorly: check the output (probabilities), the activations and "
            "that every layer uses the input.",
        )


@check(
    "q2.accuracy",
    2,
    "hidden",
    title_en="build_resnet: the model reaches the minimum accuracy after the grader's training.",
)
def q2_accuracy(artefacts):
    """build_resnet : le modèle atteint l'exactitude minimale après l'entraînement du correcteur."""
    _accuracy_check(artefacts, "build_resnet")


@check(
    "q3.accuracy",
    2,
    "hidden",
    title_en="build_cnn: the model reaches the minimum accuracy after the grader's training.",
)
def q3_accuracy(artefacts):
    """build_cnn : le modèle atteint l'exactitude minimale après l'entraînement du correcteur."""
    _accuracy_check(artefacts, "build_cnn")
