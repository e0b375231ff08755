"""The shared training recipe (autograder/public/recipe.py): BN re-estimation, cosine schedule, data order."""

import keras
import numpy as np
import pytest

from autograder.public import recipe


def planted_bn_model():
    """x -> BatchNorm (no scale, no shift) -> softmax that reads the sign of the normalised x.

    The data are centred on 10: with its initial moving averages (mean 0,
    variance 1) the BN layer leaves x near 10 and every image falls in class 1;
    with the data's own statistics it centres x and the sign gives the label.
    """
    inp = keras.Input((1,))
    x = keras.layers.BatchNormalization(center=False, scale=False)(inp)
    out = keras.layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inp, out)
    model.layers[-1].set_weights([np.array([[-5.0, 5.0]], np.float32), np.zeros(2, np.float32)])
    return model


def planted_data(n=512, seed=0):
    rng = np.random.default_rng(seed)
    x = (10 + rng.normal(size=(n, 1))).astype(np.float32)
    return x, (x[:, 0] > 10).astype(int)


def test_reestimation_changes_inference_accuracy_on_a_planted_case():
    model = planted_bn_model()
    x, y = planted_data()
    bn = recipe.batch_norm_layers(model)[0]
    before = [w.numpy() for w in model.weights if w.trainable]
    raw = recipe.evaluate(model, x, y)
    assert raw["accuracy"] == pytest.approx(np.mean(y == 1))  # everything in class 1
    assert recipe.reestimate_batch_norm(model, x, n_images=256) == 1
    fixed = recipe.evaluate(model, x, y)
    assert fixed["accuracy"] > 0.97 and fixed["loss"] < raw["loss"]
    assert float(np.asarray(bn.moving_mean)[0]) == pytest.approx(10, abs=0.2)
    assert bn.momentum == 0.99  # momentum restored
    after = [w.numpy() for w in model.weights if w.trainable]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))  # weights untouched


def test_evaluate_both_reports_raw_and_reestimated_and_can_restore():
    model = planted_bn_model()
    x, y = planted_data()
    state = recipe.batch_norm_state(model)
    both = recipe.evaluate_both(model, x, y, x, n_images=256, keep=False)
    assert both["raw_accuracy"] < 0.6 and both["accuracy"] > 0.97
    for (m0, v0), (m1, v1) in zip(state, recipe.batch_norm_state(model)):
        assert np.array_equal(m0, m1) and np.array_equal(v0, v1)  # moving averages back
    kept = recipe.evaluate_both(model, x, y, x, n_images=256, keep=True)
    assert recipe.evaluate(model, x, y)["accuracy"] == pytest.approx(kept["accuracy"])


def test_model_without_bn_is_left_alone():
    inp = keras.Input((1,))
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(inp))
    x, _ = planted_data(32)
    assert recipe.reestimate_batch_norm(model, x) == 0


def test_cosine_schedule_starts_at_peak_and_reaches_zero():
    schedule = recipe.cosine_learning_rate(4e-3, 100)
    values = [float(schedule(step)) for step in (0, 50, 100, 150)]
    assert values[0] == pytest.approx(4e-3)
    assert values[1] == pytest.approx(2e-3, rel=1e-5)  # half-way: half the peak
    assert values[2] == pytest.approx(0.0, abs=1e-12)
    assert values[3] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        recipe.cosine_learning_rate(1e-3, 0)


def test_data_order_is_explicit_and_seeded():
    a = recipe.data_order(50, 3, seed=7)
    assert a.shape == (3, 50)
    assert all(sorted(row) == list(range(50)) for row in a)  # permutations
    assert np.array_equal(a, recipe.data_order(50, 3, seed=7))
    assert not np.array_equal(a, recipe.data_order(50, 3, seed=8))
    assert not np.array_equal(a[0], a[1])  # reshuffled per epoch


def tiny_cnn():
    inp = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(4, 3, padding="same")(inp)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, keras.layers.Dense(10, activation="softmax")(x))


def test_train_runs_the_schedule_to_zero_and_records_both_accuracies():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    keras.utils.set_random_seed(0)
    model = tiny_cnn()
    seen = []
    hist = recipe.train(
        model,
        x,
        y,
        epochs=2,
        batch_size=32,
        validation=(x[:16], y[:16]),
        train_eval=(x[:16], y[:16]),
        bn_images=32,
        on_epoch=lambda epoch, logs: seen.append(epoch),
    )
    assert seen == [0, 1] and hist.steps == 4
    h = hist.history
    assert h["step"] == [2, 4]
    assert h["learning_rate"][0] > 0 and h["learning_rate"][-1] == pytest.approx(0, abs=1e-12)
    for name in (
        "loss",
        "accuracy",
        "val_accuracy",
        "val_accuracy_raw",
        "val_loss",
        "train_eval_loss",
        "train_eval_accuracy_raw",
    ):
        assert len(h[name]) == 2, name
    assert len(hist.epoch_seconds) == 2
