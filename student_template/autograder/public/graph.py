"""Walk a Keras 3 functional graph: its nodes, in order, each with what it computes.

Layers AND ``keras.ops`` operations (``x + y``, ``keras.ops.add``,
``keras.ops.relu``) are nodes of the graph, but only layers appear in
``model.layers``. This module walks the graph from the outputs back to the
inputs through Keras 3's private structures (tested against the version pinned
in docs/checks.md, see tests/public/test_graph.py):

- ``tensor._keras_history`` -> ``(operation, node_index, tensor_index)``;
- ``operation._inbound_nodes[node_index]`` -> a ``Node`` with
  ``input_tensors``, ``outputs``, ``operation`` and ``arguments``
  (``arguments.fill_in({id(tensor): value})`` rebuilds the call).

Parameter-free operations are classified by what they compute on probe data
(ReLU, addition of their inputs, identity, softmax, concatenation), never by
their class name or layer name. Tensors are identified by identity (``id``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: kinds of graph nodes
INPUT, CONV, BN, RELU, ADD, IDENTITY, CONCAT, SOFTMAX, DENSE, POOL, OTHER = (
    "input",
    "conv",
    "bn",
    "relu",
    "add",
    "identity",
    "concat",
    "softmax",
    "dense",
    "pool",
    "other",
)

KIND_FR = {
    INPUT: "entrée",
    CONV: "Conv2D",
    BN: "BatchNormalization",
    RELU: "ReLU",
    ADD: "addition",
    IDENTITY: "identité",
    CONCAT: "concaténation",
    SOFTMAX: "softmax",
    DENSE: "Dense",
    POOL: "pooling",
    OTHER: "autre",
}
KIND_EN = {
    **KIND_FR,
    INPUT: "input",
    ADD: "addition",
    IDENTITY: "identity",
    CONCAT: "concatenation",
    OTHER: "other",
}


@dataclass(eq=False)
class GraphNode:
    """One call of an operation in the graph.

    Attributes:
        op: the Keras operation (layer or ``keras.ops`` operation).
        node: the Keras ``Node`` of that call.
        inputs: input KerasTensors, in call order.
        outputs: output KerasTensors.
        kind: one of the kinds above.
        attrs: details (conv: activation, padding, strides, filters, kernel_size...).
    """

    op: object
    node: object
    inputs: list
    outputs: list
    kind: str = OTHER
    attrs: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """French label; a Conv2D with an activation says it (``Conv2D(activation="relu")``)."""
        if self.kind == OTHER:
            return f"{type(self.op).__name__} (opération non reconnue)"
        return KIND_FR[self.kind] + self._activation_suffix()

    @property
    def label_en(self) -> str:
        """English label."""
        if self.kind == OTHER:
            return f"{type(self.op).__name__} (unrecognised operation)"
        return KIND_EN[self.kind] + self._activation_suffix()

    def _activation_suffix(self) -> str:
        act = self.attrs.get("activation") if self.kind == CONV else None
        return f'(activation="{act}")' if act and act != "linear" else ""


def _history(tensor):
    hist = getattr(tensor, "_keras_history", None)
    if hist is None:
        raise TypeError("tensor without _keras_history: not a functional Keras tensor")
    op, node_index, _ = hist
    return op, op._inbound_nodes[node_index]


def _activation_name(act) -> str:
    if act is None:
        return "linear"
    name = getattr(act, "__name__", None) or str(act)
    return name


def _probe_value(shape, rng, scale=3.0):
    concrete = tuple(2 if d is None else int(d) for d in shape)
    value = (rng.standard_normal(concrete) * scale).astype("float32")
    flat = value.reshape(-1)
    flat[: min(3, flat.size)] = [12.0, -12.0, 7.0][: min(3, flat.size)]  # capped activations differ
    return value


def _behaviour(gnode: GraphNode) -> str:
    """Classify a parameter-free operation by its outputs on random data."""
    import keras

    rng = np.random.default_rng(0)
    tensors = gnode.inputs
    if not tensors or len(gnode.outputs) != 1:
        return OTHER
    values = [_probe_value(t.shape, rng) for t in tensors]
    # several occurrences of the same tensor share one value
    by_id = {}
    for t, v in zip(tensors, values):
        by_id.setdefault(id(t), v)
    values = [by_id[id(t)] for t in tensors]
    try:
        args, kwargs = gnode.node.arguments.fill_in(by_id)
        out = gnode.op(*args, **kwargs)
        out = np.asarray(keras.ops.convert_to_numpy(out))
    except Exception:
        return OTHER

    def close(a, b):
        return a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-4)

    if len(values) == 1:
        x = values[0]
        if close(out, x):
            return IDENTITY
        if close(out, np.maximum(x, 0.0)):
            return RELU
        if x.ndim >= 1 and out.shape == x.shape:
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            if close(out, e / e.sum(axis=-1, keepdims=True)):
                return SOFTMAX
        return OTHER
    if all(v.shape == values[0].shape for v in values) and close(out, sum(values)):
        return ADD
    try:
        if close(out, np.concatenate(values, axis=-1)):
            return CONCAT
    except ValueError:
        pass
    return OTHER


def classify(gnode: GraphNode) -> None:
    """Set ``gnode.kind`` and ``gnode.attrs`` (in place)."""
    import keras

    op = gnode.op
    if gnode.node.is_input or isinstance(op, keras.layers.InputLayer):
        gnode.kind = INPUT
        return
    cls = type(op).__name__
    if isinstance(op, keras.layers.Conv2D) and cls == "Conv2D":
        gnode.kind = CONV
        gnode.attrs = {
            "activation": _activation_name(op.activation),
            "padding": op.padding,
            "strides": tuple(op.strides),
            "filters": op.filters,
            "kernel_size": tuple(op.kernel_size),
            "use_bias": op.use_bias,
            "dilation_rate": tuple(op.dilation_rate),
            "groups": getattr(op, "groups", 1),
            "kernel_initializer": type(op.kernel_initializer).__name__,
        }
        return
    if isinstance(op, keras.layers.BatchNormalization):
        gnode.kind = BN
        return
    if isinstance(op, keras.layers.Dense):
        gnode.kind = DENSE
        gnode.attrs = {"activation": _activation_name(op.activation), "units": op.units}
        return
    if "Pooling" in cls:
        gnode.kind = POOL
        return
    if isinstance(op, keras.layers.Concatenate):
        gnode.kind = CONCAT
        return
    if isinstance(op, keras.Model):
        gnode.kind = OTHER
        gnode.attrs = {"submodel": True}
        return
    if getattr(op, "weights", None):
        gnode.kind = OTHER
        return
    gnode.kind = _behaviour(gnode)


class Graph:
    """The computation graph of a functional or Sequential Keras model.

    Args:
        model: a built ``keras.Model`` (functional or ``keras.Sequential``).

    Attributes:
        inputs: the model's input KerasTensors.
        outputs: the model's output KerasTensors.
        nodes: every :class:`GraphNode` reachable from the outputs,
            in topological order (inputs first).
    """

    def __init__(self, model):
        self.model = model
        self.inputs = list(model.inputs)
        self.outputs = list(model.outputs)
        self._producer: dict[int, GraphNode] = {}
        self._consumers: dict[int, list[GraphNode]] = {}
        self.nodes: list[GraphNode] = []
        seen: dict[int, GraphNode] = {}
        order: list[GraphNode] = []

        def visit(tensor):
            op, node = _history(tensor)
            if id(node) in seen:
                return seen[id(node)]
            gnode = GraphNode(
                op=op, node=node, inputs=list(node.input_tensors), outputs=list(node.outputs)
            )
            seen[id(node)] = gnode
            stack = [(gnode, iter(gnode.inputs))]
            while stack:  # iterative DFS (deep models, no recursion limit)
                current, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    stack.pop()
                    order.append(current)
                    continue
                op2, node2 = _history(nxt)
                if id(node2) not in seen:
                    child = GraphNode(
                        op=op2,
                        node=node2,
                        inputs=list(node2.input_tensors),
                        outputs=list(node2.outputs),
                    )
                    seen[id(node2)] = child
                    stack.append((child, iter(child.inputs)))
            return gnode

        for t in self.outputs:
            visit(t)
        for gnode in order:
            classify(gnode)
            for t in gnode.outputs:
                self._producer[id(t)] = gnode
            for t in gnode.inputs:
                self._consumers.setdefault(id(t), []).append(gnode)
        self.nodes = order

    def producer(self, tensor) -> GraphNode | None:
        """The node that computes ``tensor`` (an InputLayer node for inputs)."""
        return self._producer.get(id(tensor))

    def consumers(self, tensor) -> list[GraphNode]:
        """Nodes that take ``tensor`` as an input."""
        return self._consumers.get(id(tensor), [])

    def of_kind(self, *kinds) -> list[GraphNode]:
        return [n for n in self.nodes if n.kind in kinds]

    def skip_identity(self, tensor):
        """Follow identity operations backwards; return the first real tensor."""
        while True:
            p = self.producer(tensor)
            if p is None or p.kind != IDENTITY or len(p.inputs) != 1:
                return tensor
            tensor = p.inputs[0]

    def real_producer(self, tensor) -> GraphNode | None:
        return self.producer(self.skip_identity(tensor))

    def is_input(self, tensor) -> bool:
        t = self.skip_identity(tensor)
        return any(t is i for i in self.inputs)

    def merges(self) -> list[GraphNode]:
        """Nodes joining two or more distinct tensors (add, concat, others)."""
        out = []
        for n in self.nodes:
            distinct = {id(self.skip_identity(t)) for t in n.inputs}
            if len(distinct) >= 2:
                out.append(n)
        return out

    def depth(self, tensor) -> int:
        """Longest number of non-identity operations from an input to ``tensor``."""
        memo: dict[int, int] = {}
        for n in self.nodes:
            d = (
                0
                if n.kind == INPUT
                else max((memo.get(id(t), 0) for t in n.inputs), default=0) + (n.kind != IDENTITY)
            )
            for t in n.outputs:
                memo[id(t)] = d
        return memo.get(id(tensor), 0)
