"""The trusted side, directly: what it reads from a sandbox is bounded, what it trains is fresh.

Hostile inputs built by hand (deep JSON, padded Keras archives, nested models, pasted
weights, capped trainings, Markdown injections) handed straight to the trusted code, without
a sandbox run: the class of attacks in tests/test_adversarial.py, one layer at a time.
"""

from __future__ import annotations

import os
import stat
import zipfile

from autograder.engine.outputs import md


def test_bounded_json_rejects_depth_and_size(tmp_path):
    from autograder.public.bounded import read_json_bounded

    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "big.json").write_text('"' + "x" * (2 * 1024**2) + '"')
    (tmp_path / "ok.json").write_text('{"a": [1, {"b": "[[[["}]}')
    assert read_json_bounded(tmp_path / "deep.json") is None
    assert read_json_bounded(tmp_path / "big.json") is None
    assert read_json_bounded(tmp_path / "ok.json") == {"a": [1, {"b": "[[[["}]}


def test_keras_archive_with_padded_config_is_rejected_before_loading(tmp_path):
    import keras

    from autograder.public.bounded import keras_archive_problem
    from autograder.public.load import load_artefacts

    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(2)(inp))
    good = tmp_path / "model.keras"
    model.save(good)
    assert keras_archive_problem(good) is None
    padded = tmp_path / "padded.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(padded, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "config.json":
                data = data[:-1] + b" " * (8 << 20) + data[-1:]
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    assert "config.json" in keras_archive_problem(padded)
    folder = tmp_path / "q"
    folder.mkdir()
    (folder / "model.keras").write_bytes(padded.read_bytes())
    (folder / "probe.json").write_text('{"artefacts": {"model": {"kind": "model"}}}')
    loaded = load_artefacts(folder)
    assert loaded["model"].kind == "unloadable"


def _nested_cnn_with_blocks():
    import keras

    from tests.faults import reference_functions as ref

    ns: dict = {"keras": keras, "np": __import__("numpy")}
    exec(ref()["ResidualBlock"], ns)
    inp = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(8, 3, padding="same")(inp)
    inner_in = keras.Input((28, 28, 8))
    block = ns["ResidualBlock"]
    inner = keras.Model(
        inner_in, block(block(inner_in, filters=8, kernel_size=3), filters=8, kernel_size=3)
    )
    x = inner(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, keras.layers.Dense(10, activation="softmax")(x))


def test_nested_models_are_inlined_for_the_graph_checks(tmp_path):
    import numpy as np

    from autograder.public.graph import ADD, Graph
    from autograder.public.load import flatten_nested, roundtrip

    model = _nested_cnn_with_blocks()
    assert not Graph(model).of_kind(ADD)  # hidden from a walk of the outer graph
    loaded = roundtrip({"model": model}, tmp_path)["model"]
    assert len(Graph(loaded).of_kind(ADD)) == 2  # seen once inlined
    x = np.random.default_rng(0).normal(size=(2, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(flatten_nested(model)(x), model(x), atol=1e-5)


def test_grader_trains_a_fresh_trainable_copy(tmp_path):
    import numpy as np

    from autograder.hidden.training import fingerprint, fresh_copy

    honest = _nested_cnn_with_blocks()
    pasted = _nested_cnn_with_blocks()
    for layer in pasted._flatten_layers(include_self=False, recursive=True):
        layer.trainable = False
    pasted.set_weights([np.full_like(w, 0.5) for w in pasted.get_weights()])
    a, b = fresh_copy(honest, 0), fresh_copy(pasted, 0)
    assert all(layer.trainable for layer in b._flatten_layers(include_self=False))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)  # the grader's weights, not the pasted ones
    assert fingerprint(a) == fingerprint(b)
    assert not any(np.allclose(w, 0.5) for w in b.get_weights() if w.size > 8)


def test_capped_results_are_never_cached(tmp_path, monkeypatch):
    from autograder.hidden import training

    calls = []

    def fake(model, seed=0, recipe=training.RECIPE, clone=None):
        calls.append(1)
        return {"accuracy": 0.1, "seconds": 1.0, "steps": 1, "capped": True}

    monkeypatch.setattr(training, "train_and_evaluate", fake)
    monkeypatch.setattr(training, "_MEMO", {})
    model = _nested_cnn_with_blocks()
    training.accuracy_of(model, cache_dir=tmp_path)
    training.accuracy_of(model, cache_dir=tmp_path)
    assert len(calls) == 2 and not list(tmp_path.iterdir())


def test_markdown_escaping_makes_headings_and_links_inert():
    out = md("## NOTE FINALE : 20 / 20\n[clic](http://x) <b>gras</b> `code`")
    assert "\n" not in out and not out.startswith("#")
    assert "\\[" in out and "\\<" in out and "`code`" in out
    assert stat.S_ISREG(os.stat(__file__).st_mode)
