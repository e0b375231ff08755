"""A sound, short training recipe shared by the notebook, the solution and the experiment.

Two things make short trainings of small BatchNormalization networks give
meaningful numbers:

1. **Adam with a cosine-decayed learning rate.** The rate starts at its peak
   and decays to exactly 0 at the last step (:func:`cosine_learning_rate`), so
   the weights settle at the end of the budget instead of still moving.
2. **Re-estimated BatchNormalization statistics before any evaluation.** In
   inference mode a BatchNormalization layer uses moving averages of the batch
   statistics (momentum 0.99 by default). After a few hundred steps these
   averages still remember the first steps, when the weights were different:
   inference-mode accuracy can then be much lower than the model deserves.
   :func:`reestimate_batch_norm` replaces them with the exact statistics of
   one training-mode pass over a few thousand training images (momentum 0).

:func:`train` combines both, with an explicit, seeded data order (two models
trained with the same seed see the same batches in the same order), and
records, per epoch, the training loss and the validation accuracy *before*
(``val_accuracy_raw``) and *after* (``val_accuracy``) re-estimation.

This module is public: it is copied into the student repository.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: peak learning rate of Adam (the cosine schedule starts there)
LEARNING_RATE = 4e-3
#: training images of the training-mode pass that re-estimates BN statistics
BN_IMAGES = 2048
#: images per forward pass when evaluating
EVAL_BATCH = 500


# --------------------------------------------------------------------------
# Learning rate
# --------------------------------------------------------------------------
def cosine_learning_rate(peak: float, total_steps: int):
    """Cosine decay from ``peak`` at step 0 to exactly 0 at ``total_steps``.

    Args:
        peak: learning rate of the first step.
        total_steps: number of optimizer steps of the whole training.

    Returns:
        A ``keras.optimizers.schedules.CosineDecay`` schedule.
    """
    import keras

    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak, decay_steps=int(total_steps), alpha=0.0
    )


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    """Optimizer steps of one epoch (the last, smaller batch counts)."""
    return int(math.ceil(n_images / batch_size))


# --------------------------------------------------------------------------
# BatchNormalization statistics
# --------------------------------------------------------------------------
def batch_norm_layers(model) -> list:
    """Every ``BatchNormalization`` layer of ``model`` (nested models included)."""
    import keras

    return [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def batch_norm_state(model) -> list:
    """Copy of the moving means and variances of every BN layer (see :func:`set_batch_norm_state`)."""
    return [
        (np.array(layer.moving_mean.numpy()), np.array(layer.moving_variance.numpy()))
        for layer in batch_norm_layers(model)
    ]


def set_batch_norm_state(model, state: list) -> None:
    """Restore moving means and variances saved by :func:`batch_norm_state`."""
    for layer, (mean, var) in zip(batch_norm_layers(model), state):
        layer.moving_mean.assign(mean)
        layer.moving_variance.assign(var)


def reestimate_batch_norm(model, x, n_images: int = BN_IMAGES, seed: int = 0) -> int:
    """Replace the BN moving averages by the statistics of ``n_images`` training images.

    Every BatchNormalization layer gets momentum 0, the model runs once in
    training mode on the images (one batch: the statistics are exact), then
    the momenta are restored. Weights are not changed.

    Args:
        model: a keras.Model.
        x: training images (never test images).
        n_images: how many images (drawn without replacement, seeded).
        seed: seed of the draw.

    Returns:
        The number of BN layers updated (0: nothing to do).
    """
    layers = batch_norm_layers(model)
    if not layers:
        return 0
    n = min(int(n_images), len(x))
    idx = np.sort(np.random.default_rng(seed).permutation(len(x))[:n])
    saved = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0
        model(x[idx], training=True)
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum
    return len(layers)


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------
def predict_proba(model, x, batch_size: int = EVAL_BATCH) -> np.ndarray:
    """Inference-mode outputs of ``model`` on ``x``, as a NumPy array."""
    import keras

    parts = [
        np.asarray(keras.ops.convert_to_numpy(model(x[i : i + batch_size], training=False)))
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def evaluate(model, x, y, batch_size: int = EVAL_BATCH) -> dict:
    """Accuracy and mean cross-entropy of a softmax classifier in inference mode.

    Args:
        model: a keras.Model whose outputs are class probabilities.
        x: images.
        y: integer labels.
        batch_size: images per forward pass.

    Returns:
        ``{"accuracy": float, "loss": float}``.
    """
    probs = predict_proba(model, x, batch_size)
    y = np.asarray(y).astype(int)
    picked = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
    return {
        "accuracy": float((probs.argmax(axis=-1) == y).mean()),
        "loss": float(-np.log(picked).mean()),
    }


def evaluate_both(
    model, x, y, x_bn, n_images: int = BN_IMAGES, seed: int = 0, keep: bool = True
) -> dict:
    """Evaluate with the moving averages, then after re-estimating BN statistics.

    Args:
        model: a trained keras.Model.
        x: evaluation images.
        y: evaluation labels.
        x_bn: training images for :func:`reestimate_batch_norm`.
        n_images: images of the re-estimation pass.
        seed: seed of the re-estimation draw.
        keep: keep the re-estimated statistics (otherwise restore the moving
            averages, e.g. in the middle of a training).

    Returns:
        ``{"accuracy", "loss"}`` after re-estimation and ``{"raw_accuracy",
        "raw_loss"}`` before.
    """
    raw = evaluate(model, x, y)
    state = None if keep else batch_norm_state(model)
    reestimate_batch_norm(model, x_bn, n_images, seed)
    fixed = evaluate(model, x, y)
    if state is not None:
        set_batch_norm_state(model, state)
    return {
        "accuracy": fixed["accuracy"],
        "loss": fixed["loss"],
        "raw_accuracy": raw["accuracy"],
        "raw_loss": raw["loss"],
    }


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------
def data_order(n_images: int, epochs: int, seed: int) -> np.ndarray:
    """Explicit data order: one seeded permutation of ``range(n_images)`` per epoch.

    Args:
        n_images: size of the training set.
        epochs: number of epochs.
        seed: seed of the order (independent of the weights' initialisation).

    Returns:
        Integer array of shape (epochs, n_images).
    """
    rng = np.random.default_rng(seed)
    return (
        np.stack([rng.permutation(n_images) for _ in range(epochs)])
        if epochs
        else np.zeros((0, n_images), dtype=int)
    )


@dataclass
class History:
    """What :func:`train` measured, per epoch (like ``keras.callbacks.History``).

    ``history`` maps a metric name to one value per epoch: ``loss`` and
    ``accuracy`` (training, running averages over the epoch's batches),
    ``val_loss`` / ``val_accuracy`` (validation, after BN re-estimation),
    ``val_loss_raw`` / ``val_accuracy_raw`` (validation, with the moving
    averages), ``train_eval_loss`` / ``train_eval_accuracy`` (fixed training
    subset, inference mode, after re-estimation), ``learning_rate`` (at the end
    of the epoch) and ``step`` (optimizer steps done).
    """

    history: dict = field(default_factory=dict)
    epoch_seconds: list = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0

    def add(self, name: str, value) -> None:
        """Append one epoch's value of metric ``name``."""
        self.history.setdefault(name, []).append(float(value))


def compile_model(model, total_steps: int, learning_rate: float = LEARNING_RATE) -> None:
    """Compile with Adam, a cosine-decayed learning rate and sparse cross-entropy.

    Args:
        model: a keras.Model whose outputs are class probabilities.
        total_steps: optimizer steps of the whole training (the rate reaches 0 there).
        learning_rate: peak learning rate.
    """
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(cosine_learning_rate(learning_rate, total_steps)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def current_learning_rate(model) -> float:
    """The learning rate the optimizer would use at its current step."""
    opt = model.optimizer
    lr = opt.learning_rate
    return float(np.asarray(lr(opt.iterations) if callable(lr) else lr))


def train(
    model,
    x,
    y,
    epochs: int,
    batch_size: int = 64,
    learning_rate: float = LEARNING_RATE,
    seed: int = 0,
    validation=None,
    train_eval=None,
    bn_images: int = BN_IMAGES,
    reestimate_at_end: bool = True,
    on_epoch: Callable | None = None,
    verbose: int = 0,
) -> History:
    """Train ``model`` with Adam and a cosine schedule; evaluate with re-estimated BN.

    The data order is explicit (:func:`data_order` with ``seed``): two models
    trained with the same seed see the same batches. After every epoch the
    validation set (and the fixed training subset ``train_eval``) is evaluated
    twice, with the moving averages and after :func:`reestimate_batch_norm`;
    the moving averages are then put back, so training goes on unchanged.

    Args:
        model: an uncompiled (or compiled: it is recompiled) keras.Model with
            softmax outputs.
        x: training images.
        y: integer training labels.
        epochs: passes over ``x``.
        batch_size: images per step.
        learning_rate: peak learning rate of the cosine schedule.
        seed: seed of the data order and of the re-estimation draws.
        validation: ``(x_val, y_val)`` or None.
        train_eval: ``(x_sub, y_sub)``, a fixed training subset evaluated in
            inference mode after re-estimation (training loss curves), or None.
        bn_images: training images of each re-estimation pass.
        reestimate_at_end: leave the model with re-estimated BN statistics
            (otherwise with its moving averages, e.g. to measure both).
        on_epoch: called with ``(epoch, logs)`` after every epoch.
        verbose: 1 prints one line per epoch.

    Returns:
        A :class:`History`.
    """
    total = epochs * steps_per_epoch(len(x), batch_size)
    compile_model(model, total, learning_rate)
    order = data_order(len(x), epochs, seed)
    result = History()
    start = time.perf_counter()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        idx = order[epoch]
        fit = model.fit(x[idx], y[idx], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        result.epoch_seconds.append(time.perf_counter() - t0)
        result.add("loss", fit.history["loss"][-1])
        result.add("accuracy", fit.history["accuracy"][-1])
        result.add("step", int(model.optimizer.iterations))
        result.add("learning_rate", current_learning_rate(model))
        for prefix, pair in (("val_", validation), ("train_eval_", train_eval)):
            if pair is None:
                continue
            both = evaluate_both(model, pair[0], pair[1], x, bn_images, seed, keep=False)
            result.add(prefix + "accuracy", both["accuracy"])
            result.add(prefix + "loss", both["loss"])
            result.add(prefix + "accuracy_raw", both["raw_accuracy"])
            result.add(prefix + "loss_raw", both["raw_loss"])
        logs = {k: v[-1] for k, v in result.history.items()}
        if verbose:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in logs.items())
            print(f"époque {epoch + 1}/{epochs} ({result.epoch_seconds[-1]:.1f} s) : {shown}")
        if on_epoch is not None:
            on_epoch(epoch, logs)
    result.steps = int(model.optimizer.iterations)
    if reestimate_at_end:
        reestimate_batch_norm(model, x, bn_images, seed)
    result.seconds = time.perf_counter() - start
    return result
