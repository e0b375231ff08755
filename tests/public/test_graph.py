"""Graph walking over Keras 3 private structures, classification by behaviour, probes."""

import re
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers, ops

from autograder.public import blocks as B
from autograder.public import graph as G
from autograder.public.load import load_artefacts, roundtrip
from autograder.public.probe import ProbeFailure, probe, save_artefacts

ROOT = Path(__file__).resolve().parents[2]


def test_private_keras_api():
    """Fails loudly when the private structures graph.py relies on change."""
    inp = keras.Input((4, 4, 2))
    y = layers.Conv2D(2, 3, padding="same")(inp)
    out = ops.relu(y + inp)
    model = keras.Model(inp, out)
    op, node_index, tensor_index = out._keras_history
    assert isinstance(node_index, int) and tensor_index == 0
    node = op._inbound_nodes[node_index]
    assert node.operation is op
    assert [id(t) for t in node.outputs] == [id(out)]
    add_op, add_index, _ = node.input_tensors[0]._keras_history
    add_node = add_op._inbound_nodes[add_index]
    assert any(t is inp for t in add_node.input_tensors), "tensor identity lost"
    args, kwargs = add_node.arguments.fill_in(
        {id(t): np.ones((1, 4, 4, 2), "float32") for t in add_node.input_tensors}
    )
    assert len(args) == 2 and kwargs == {}
    assert inp._keras_history[0]._inbound_nodes[0].is_input
    assert len(model.operations) == 4  # input, conv, add op, relu op: ops are graph nodes


def test_pinned_version_documented():
    doc = (ROOT / "docs" / "checks.md").read_text()
    pinned = re.search(r"Keras \*\*([\d.]+)\*\*", doc).group(1)
    assert keras.__version__ == pinned, (
        f"Keras {keras.__version__} differs from the version pinned in docs/checks.md ({pinned}): "
        "re-run the graph and gallery tests, then update the pin"
    )


def _kind_of(fn, n_inputs=1, shape=(3, 3, 2)):
    ins = [keras.Input(shape) for _ in range(n_inputs)]
    out = fn(*ins)
    graph = G.Graph(keras.Model(ins, out))
    return graph.producer(out).kind


@pytest.mark.parametrize(
    "fn,kind",
    [
        (lambda a, b: a + b, G.ADD),
        (lambda a, b: ops.add(b, a), G.ADD),
        (lambda a, b: layers.Add()([a, b]), G.ADD),
        (lambda a, b: layers.add([a, b]), G.ADD),
        (lambda a, b: layers.Subtract()([a, b]), G.OTHER),
        (lambda a, b: layers.Concatenate()([a, b]), G.CONCAT),
        (lambda a, b: ops.concatenate([a, b], axis=-1), G.CONCAT),
        (lambda a, b: layers.Multiply()([a, b]), G.OTHER),
    ],
)
def test_binary_ops_by_behaviour(fn, kind):
    assert _kind_of(fn, 2) == kind


@pytest.mark.parametrize(
    "fn,kind",
    [
        (lambda a: layers.ReLU()(a), G.RELU),
        (lambda a: layers.Activation("relu")(a), G.RELU),
        (lambda a: layers.Activation(keras.activations.relu)(a), G.RELU),
        (lambda a: ops.relu(a), G.RELU),
        (lambda a: layers.ReLU(max_value=6.0)(a), G.OTHER),
        (lambda a: layers.LeakyReLU()(a), G.OTHER),
        (lambda a: layers.Dropout(0.5)(a), G.IDENTITY),
        (lambda a: layers.Activation("linear")(a), G.IDENTITY),
        (lambda a: layers.Softmax()(a), G.SOFTMAX),
        (lambda a: layers.BatchNormalization()(a), G.BN),
        (lambda a: layers.Conv2D(2, 3)(a), G.CONV),
        (lambda a: layers.SeparableConv2D(2, 3)(a), G.OTHER),
    ],
)
def test_unary_ops(fn, kind):
    assert _kind_of(fn) == kind


def _block(x, shortcut_first=True, skip_from=None, final_relu=True, **kw):
    y = layers.Conv2D(padding="same", **kw)(x)
    first = y
    y = layers.BatchNormalization()(y)
    y = ops.relu(y)
    y = layers.Conv2D(padding="same", **kw)(y)
    y = layers.BatchNormalization()(y)
    s = {"input": x, "first": first}[skip_from or "input"]
    y = s + y if shortcut_first else layers.Add()([y, s])
    return layers.ReLU()(y) if final_relu else y


@pytest.mark.parametrize("first", [True, False])
def test_match_block_either_order(first):
    inp = keras.Input((6, 6, 3))
    out = _block(inp, shortcut_first=first, filters=3, kernel_size=3)
    graph = G.Graph(keras.Model(inp, out))
    m = B.match_block(graph, out)
    assert m.ok, m.problem
    assert m.block_input is inp
    assert [n.kind for n in B.main_path(graph)] == B.EXPECTED_BRANCH + [G.ADD, G.RELU]
    assert B.order_problem(B.main_path(graph)) is None


def test_match_block_problems():
    inp = keras.Input((6, 6, 3))
    wrong = _block(inp, skip_from="first", filters=3, kernel_size=3)
    m = B.match_block(G.Graph(keras.Model(inp, wrong)), wrong)
    assert not m.ok and m.code == "wrong_skip"
    no_relu = _block(inp, final_relu=False, filters=3, kernel_size=3)
    g = G.Graph(keras.Model(inp, no_relu))
    assert B.match_block(g, no_relu).code == "no_final_relu"
    assert "ReLU après l'addition" in B.order_problem(B.main_path(g))[0]


def test_sequential_and_blocks_count():
    seq = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    g = G.Graph(seq)
    assert [n.kind for n in g.nodes] == [G.INPUT, G.CONV, G.OTHER, G.DENSE]
    assert g.merges() == []
    inp = keras.Input((8, 8, 4))
    x = _block(_block(inp, filters=4, kernel_size=3), filters=4, kernel_size=3)
    x = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling2D()(x))
    ok, bad = B.find_blocks(G.Graph(keras.Model(inp, x)))
    assert len(ok) == 2 and not bad


def test_probe_failures_and_roundtrip(tmp_path):
    assert probe("q1", {})["block_8x8x4"].kind == "missing"

    def not_impl(input_shape=(28, 28, 1), num_classes=10):
        raise NotImplementedError

    arts = probe("q2", {"build_resnet": not_impl})
    assert arts["model"].kind == "not-implemented"
    assert "pas encore implémentée" in arts["model"].message_fr
    arts = probe("q3", {"build_cnn": lambda **kw: 42})
    assert arts["model"].kind == "wrong-type" and "int" in arts["model"].message_fr
    arts = probe("q3", {"build_cnn": lambda **kw: 1 / 0})
    assert arts["model"].kind == "error" and "ZeroDivisionError" in arts["model"].message_fr

    def seq_cnn(input_shape=(28, 28, 1), num_classes=10):
        return keras.Sequential(
            [layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(num_classes, activation="softmax")]
        )

    loaded = roundtrip(probe("q3", {"build_cnn": seq_cnn}), tmp_path / "seq", "q3")
    assert isinstance(loaded["model_alt"], keras.Model)
    assert tuple(loaded["model_alt"].outputs[0].shape) == (None, 5)

    def lambda_cnn(input_shape=(28, 28, 1), num_classes=10):
        inp = keras.Input(input_shape)
        x = layers.Lambda(lambda t: t * 2)(inp)
        x = layers.Dense(num_classes, activation="softmax")(layers.Flatten()(x))
        return keras.Model(inp, x)

    save_artefacts(probe("q3", {"build_cnn": lambda_cnn}), tmp_path / "lam")
    loaded = load_artefacts(tmp_path / "lam", "q3")
    assert isinstance(loaded["model"], ProbeFailure) and loaded["model"].kind == "unloadable"
    assert "API fonctionnelle" in loaded["model"].message_fr
    # a forged or missing probe directory never raises
    assert load_artefacts(tmp_path / "nothing", "q2")["model"].kind == "absent"
