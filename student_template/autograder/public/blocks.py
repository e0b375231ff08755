"""Recognise residual blocks in a walked graph (:mod:`autograder.public.graph`).

:func:`match_block` compares the computation ending at a tensor with the q1 block
(Conv2D → BatchNormalization → ReLU → Conv2D → BatchNormalization → addition with
the block's input → ReLU) and says, in French and in English, the first difference;
:func:`find_blocks` finds every block of a model; :func:`main_path` and
:func:`order_problem` describe a single block's layer sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.public.graph import (
    ADD,
    BN,
    CONCAT,
    CONV,
    IDENTITY,
    INPUT,
    RELU,
    Graph,
    GraphNode,
)


@dataclass
class BlockMatch:
    """Result of :func:`match_block` on the output tensor of a candidate block.

    Attributes:
        ok: the block has exactly the q1 form (identity shortcut).
        problem: French description of the first difference (empty when ok).
        problem_en: the same in English.
        code: short machine code of the problem (tests, statistics).
        block_input: the tensor the shortcut starts from (when found).
        branch: kinds along the residual branch, input to output, as French labels.
        convs, bns: GraphNodes of the branch's Conv2D and BatchNormalization.
    """

    ok: bool
    problem: str = ""
    problem_en: str = ""
    code: str = ""
    block_input: object = None
    branch: list = field(default_factory=list)
    convs: list = field(default_factory=list)
    bns: list = field(default_factory=list)


EXPECTED_BRANCH = [CONV, BN, RELU, CONV, BN]
EXPECTED_FR = "Conv2D → BatchNormalization → ReLU → Conv2D → BatchNormalization → addition → ReLU"
EXPECTED_EN = EXPECTED_FR


def branch_kinds(graph: Graph, start, stop) -> list[GraphNode] | None:
    """Nodes on the single-input chain from ``start`` back to ``stop``.

    Follows the first input of each node backwards from tensor ``start`` until
    tensor ``stop`` (by identity) and returns the nodes, input side first,
    identities removed; None when ``stop`` is not reached along the chain.
    """
    chain = []
    tensor = start
    for _ in range(200):
        if tensor is stop:
            return list(reversed(chain))
        p = graph.producer(tensor)
        if p is None or p.kind == INPUT or not p.inputs:
            return None
        if p.kind != IDENTITY:
            chain.append(p)
        if len(p.inputs) != 1:
            return None if tensor is not stop else list(reversed(chain))
        tensor = p.inputs[0]
    return None


def _chain_to_any_merge(graph: Graph, tensor):
    """Walk back single-input nodes from ``tensor``; return (nodes input-first, origin tensor)."""
    chain = []
    for _ in range(200):
        p = graph.producer(tensor)
        if p is None or p.kind == INPUT or len(p.inputs) != 1:
            return list(reversed(chain)), tensor
        if p.kind != IDENTITY:
            chain.append(p)
        tensor = p.inputs[0]
    return list(reversed(chain)), tensor


def describe(nodes, lang: str = "fr") -> str:
    if not nodes:
        return "(rien)" if lang == "fr" else "(nothing)"
    return " → ".join(n.label_en if lang == "en" else n.label for n in nodes)


def _inner_activations(path) -> list[tuple[int, str]]:
    """``(number, activation)`` of the Conv2D of ``path`` that hold an activation."""
    convs = [n for n in path if n.kind == CONV]
    return [
        (i, c.attrs.get("activation"))
        for i, c in enumerate(convs, 1)
        if c.attrs.get("activation") not in (None, "linear")
    ]


def match_block(graph: Graph, out_tensor, strict: bool = True) -> BlockMatch:
    """Does ``out_tensor`` end a residual block of the q1 form?

    Expected, identities aside: ``relu(s + bn(conv(relu(bn(conv(s))))))``
    where ``s`` is one tensor (the shortcut, taken by identity), the addition
    in either order, and (when ``strict``) Conv2D layers without activation.

    Args:
        graph: the model's :class:`Graph`.
        out_tensor: candidate block output.
        strict: also require linear convolutions with padding "same" and strides 1.

    Returns:
        A :class:`BlockMatch`.
    """
    last = graph.real_producer(out_tensor)
    if last is None or last.kind == INPUT:
        return BlockMatch(
            False,
            "la sortie du bloc est directement son entrée",
            "block output is its input",
            "empty",
        )
    final_relu = None
    if last.kind == RELU:
        final_relu = last
        add = graph.real_producer(last.inputs[0])
    else:
        add = last
    if add is None or add.kind != ADD:
        if add is not None and add.kind == CONCAT or any(n.kind == CONCAT for n in graph.nodes):
            return BlockMatch(
                False,
                "une concaténation (Concatenate) au lieu d'une addition",
                "Concatenate instead of an addition",
                "concat",
            )
        if final_relu is None and any(n.kind == ADD for n in graph.nodes):
            return BlockMatch(
                False,
                f"pas de ReLU après l'addition : le bloc se termine par {last.label}",
                "no ReLU after the addition",
                "no_final_relu",
            )
        return BlockMatch(
            False,
            f"pas d'addition avant la dernière activation (reçu : {last.label} en sortie)",
            "no addition",
            "no_add",
        )
    if final_relu is None:
        for t in add.inputs:
            chains = [
                branch_kinds(graph, t, graph.skip_identity(u)) for u in add.inputs if u is not t
            ]
            chain = next((c for c in chains if c), None)
            if chain and chain[0].kind in (BN, RELU):
                return BlockMatch(
                    False,
                    f"la branche commence par {chain[0].label} "
                    f"(bloc à pré-activation ?) : {describe(chain)}",
                    "pre-activation block",
                    "preact",
                )
        return BlockMatch(
            False,
            "pas de ReLU après l'addition : le bloc se termine par l'addition",
            "no ReLU after the addition",
            "no_final_relu",
        )
    if len(add.inputs) != 2:
        return BlockMatch(
            False,
            f"une addition de {len(add.inputs)} tenseurs au lieu de 2",
            "addition of more than two tensors",
            "add_arity",
        )
    best = None
    for s_t, b_t in ((add.inputs[0], add.inputs[1]), (add.inputs[1], add.inputs[0])):
        s = graph.skip_identity(s_t)
        chain = branch_kinds(graph, b_t, s)
        if chain is None or b_t is s:
            continue
        kinds = [n.kind for n in chain]
        convs = [n for n in chain if n.kind == CONV]
        bns = [n for n in chain if n.kind == BN]
        m = BlockMatch(False, block_input=s, branch=chain, convs=convs, bns=bns)
        if kinds == EXPECTED_BRANCH:
            m.ok = True
            if strict:
                for i, c in enumerate(convs, 1):
                    if c.attrs["activation"] != "linear":
                        m.ok, m.code = False, "conv_activation"
                        m.problem = (
                            f"la Conv2D n°{i} contient une activation "
                            f'(activation="{c.attrs["activation"]}")'
                        )
                        m.problem_en = "activation inside a convolution"
                        break
                    if c.attrs["padding"] != "same" or c.attrs["strides"] != (1, 1):
                        m.ok, m.code = False, "conv_padding"
                        m.problem = (
                            f'la Conv2D n°{i} a padding="{c.attrs["padding"]}", '
                            f"strides={c.attrs['strides']}"
                        )
                        m.problem_en = "convolution does not keep the size"
                        break
            return m
        prefix, _ = _chain_to_any_merge(graph, s)
        full = [n.kind for n in prefix + chain]
        if len(chain) < len(EXPECTED_BRANCH) and full[-len(EXPECTED_BRANCH) :] == EXPECTED_BRANCH:
            # the right layers, but the shortcut starts inside the branch
            m.code, m.problem_en = "wrong_skip", "skip from the wrong tensor"
            m.problem = (
                "l'addition ne relie pas l'entrée du bloc à la sortie de sa branche : "
                f"le raccourci part de la sortie de {graph.producer(s).label}"
            )
            best = m
            continue
        m.code, m.problem_en = "order", "wrong branch order"
        m.problem = _order_problem(chain)
        best = m
    if best is not None:
        return best
    # no branch leads back to the shortcut tensor: wrong skip or projection
    s_nodes = [graph.real_producer(t) for t in add.inputs]
    for s_t in add.inputs:
        p = graph.real_producer(s_t)
        if p is not None and p.kind == CONV and len(graph.consumers(p.outputs[0])) == 1:
            return BlockMatch(
                False,
                "le raccourci passe par une convolution (projection) au lieu "
                "d'être l'entrée du bloc elle-même",
                "projection shortcut",
                "projection",
            )
    labels = ", ".join(p.label for p in s_nodes if p is not None)
    return BlockMatch(
        False,
        "l'addition ne relie pas l'entrée du bloc à la sortie de sa "
        f"branche (elle additionne les sorties de : {labels})",
        "skip from the wrong tensor",
        "wrong_skip",
    )


def _order_problem(chain) -> str:
    kinds = [n.kind for n in chain]
    seq = describe(chain)
    if kinds.count(CONV) == 3:
        return f"trois convolutions dans la branche (goulot d'étranglement ?) : {seq}"
    if kinds and kinds[0] in (BN, RELU):
        return f"la branche commence par {chain[0].label} (pré-activation ?) : {seq}"
    if kinds.count(BN) < 2:
        return f"il manque une BatchNormalization : {seq}"
    for a, b in zip(kinds, kinds[1:]):
        if a == RELU and b == BN:
            return f"une BatchNormalization après une ReLU : {seq}"
    return f"branche : {seq}"


def find_blocks(graph: Graph, strict: bool = True) -> tuple[list[BlockMatch], list[BlockMatch]]:
    """Residual blocks of the q1 form in the model.

    Every addition of the graph is a candidate; a block ends at the ReLU that
    consumes it (or at the addition itself when no ReLU follows).

    Returns:
        ``(blocks, failures)``: matches that are ok, and those that are not.
    """
    ok, bad = [], []
    for n in graph.nodes:
        if n.kind not in (ADD, CONCAT) and n not in graph.merges():
            continue
        out = n.outputs[0]
        cons = [c for c in graph.consumers(out) if c.kind != IDENTITY]
        if len(cons) == 1 and cons[0].kind == RELU:
            out = cons[0].outputs[0]
        m = match_block(graph, out, strict=strict)
        (ok if m.ok else bad).append(m)
    return ok, bad


def main_path(graph: Graph, tensor=None) -> list[GraphNode]:
    """Non-identity nodes along the longest path from an input to ``tensor``.

    At each merge (addition...), the walk follows the deepest input, so for a
    residual block it lists the branch, then the merge, then what follows.
    """
    tensor = graph.outputs[0] if tensor is None else tensor
    depth: dict[int, int] = {}
    for n in graph.nodes:
        d = (
            0
            if n.kind == INPUT
            else max((depth.get(id(t), 0) for t in n.inputs), default=0) + (n.kind != IDENTITY)
        )
        for t in n.outputs:
            depth[id(t)] = d
    path = []
    for _ in range(10000):
        p = graph.producer(tensor)
        if p is None or p.kind == INPUT or not p.inputs:
            break
        if p.kind != IDENTITY:
            path.append(p)
        tensor = max(p.inputs, key=lambda t: depth.get(id(t), 0))
    return list(reversed(path))


def order_problem(path: list[GraphNode]) -> tuple[str, str] | None:
    """French and English description of how ``path`` differs from the q1 order.

    An activation inside a Conv2D (``Conv2D(..., activation="relu")``) is named
    explicitly: it is the usual reason why a ReLU seems to be missing.

    Returns:
        None when the kinds are exactly conv, bn, relu, conv, bn, add, relu.
    """
    kinds = [n.kind for n in path]
    if kinds == EXPECTED_BRANCH + [ADD, RELU]:
        return None
    seq, seq_en = describe(path), describe(path, "en")
    inner = _inner_activations(path)
    if inner:
        expanded = []
        for n in path:
            expanded.append(n.kind)
            if n.kind == CONV and n.attrs.get("activation") == "relu":
                expanded.append(RELU)
        i, act = inner[0]
        if expanded == EXPECTED_BRANCH + [ADD, RELU]:
            return (
                f'activation="{act}" dans la Conv2D n°{i}, au lieu d\'une couche ReLU à '
                f"part après la BatchNormalization : {seq}",
                f'activation="{act}" inside Conv2D #{i} instead of a separate ReLU layer '
                f"after the BatchNormalization: {seq_en}",
            )
        problem = _kinds_problem(kinds, path, seq, seq_en)
        return (
            f'{problem[0]} (et activation="{act}" dans la Conv2D n°{i})',
            f'{problem[1]} (and activation="{act}" inside Conv2D #{i})',
        )
    return _kinds_problem(kinds, path, seq, seq_en)


def _kinds_problem(kinds, path, seq, seq_en) -> tuple[str, str]:
    if CONCAT in kinds:
        return (
            f"une concaténation au lieu d'une addition : {seq}",
            f"a concatenation instead of an addition: {seq_en}",
        )
    if ADD not in kinds:
        return (
            f"aucune addition avec le raccourci : {seq}",
            f"no addition with the shortcut: {seq_en}",
        )
    if kinds and kinds[0] in (BN, RELU):
        return (
            f"la branche commence par {path[0].label} (pré-activation ?) : {seq}",
            f"the branch starts with {path[0].label_en} (pre-activation?): {seq_en}",
        )
    if kinds[-1] == ADD:
        return f"pas de ReLU après l'addition : {seq}", f"no ReLU after the addition: {seq_en}"
    if kinds.count(CONV) >= 3:
        return (
            f"{kinds.count(CONV)} convolutions (goulot d'étranglement ?) : {seq}",
            f"{kinds.count(CONV)} convolutions (bottleneck?): {seq_en}",
        )
    if kinds.count(BN) < 2:
        return (
            f"il manque une BatchNormalization : {seq}",
            f"a BatchNormalization is missing: {seq_en}",
        )
    for a, b in zip(kinds, kinds[1:]):
        if a == RELU and b == BN:
            return (
                f"une BatchNormalization après une ReLU : {seq}",
                f"a BatchNormalization after a ReLU: {seq_en}",
            )
    return seq, seq_en


# ---------------------------------------------------------------- the student's own block


def _node_signature(node: GraphNode) -> tuple:
    """What a node computes, independent of sizes (filters, kernel size) and weights."""
    if node.kind == CONV:
        a = node.attrs
        return (CONV, a.get("activation"), a.get("padding"), a.get("strides"))
    if node.kind in (ADD, CONCAT, RELU, BN, INPUT):
        return (node.kind,)
    return (node.kind, type(node.op).__name__, node.attrs.get("activation"))


class _Signatures:
    """Canonical ids of computations relative to a start tensor (shared intern table)."""

    def __init__(self):
        self.table: dict[tuple, int] = {}

    def intern(self, key: tuple) -> int:
        return self.table.setdefault(key, len(self.table))

    def of(self, graph: Graph, start) -> dict[int, int]:
        """``{id(tensor): signature id}`` of every tensor, ``start`` being the block input."""
        sig: dict[int, int] = {id(graph.skip_identity(start)): self.intern(("IN",))}
        source = self.intern(("SRC",))
        for n in graph.nodes:
            for t in n.outputs:
                if id(t) in sig:
                    continue
                if n.kind == IDENTITY and len(n.inputs) == 1:
                    sig[id(t)] = sig.get(id(n.inputs[0]), source)
                    continue
                if n.kind == INPUT or not n.inputs:
                    sig[id(t)] = source
                    continue
                ins = [sig.get(id(u), source) for u in n.inputs]
                if n.kind == ADD:
                    ins.sort()
                sig[id(t)] = self.intern(
                    (_node_signature(n), len(n.outputs), n.outputs.index(t), tuple(ins))
                )
        return sig


def own_block_form(block_graph: Graph, table: _Signatures) -> int | None:
    """Signature id of a block model ``Model(x, ResidualBlock(x))``; None when not residual.

    A block whose computation merges no two tensors (no addition, no
    concatenation) is not a residual block: it has no form to recognise.
    """
    if not block_graph.merges() or not block_graph.inputs:
        return None
    sig = table.of(block_graph, block_graph.inputs[0])
    out = sig.get(id(block_graph.outputs[0]))
    return None if out == table.intern(("IN",)) else out


def find_own_blocks(graph: Graph, block_graph: Graph) -> tuple[int, list] | None:
    """Blocks of ``graph`` that compute what the student's own block computes.

    A block of the model is recognised when the computation from one tensor
    (its input) to another (its output) has exactly the form of
    ``block_graph`` (the student's ``ResidualBlock`` on a probe input): the
    same operations in the same arrangement, the sizes (filters, kernel
    size) aside, whatever that form is (even when question 1 is wrong).

    Returns:
        None when the student's block is not residual (no merge); else
        ``(number of blocks found, merges of the model outside every such block)``.
    """
    table = _Signatures()
    form = own_block_form(block_graph, table)
    if form is None:
        return None
    found = []  # (start tensor, end tensor)
    starts = [t for n in graph.nodes for t in n.outputs if n.kind != IDENTITY]
    for start in starts:
        sig = table.of(graph, start)
        for n in graph.nodes:
            for t in n.outputs:
                if sig.get(id(t)) == form and n.kind != IDENTITY:
                    found.append((start, t))
    ends = {id(t) for _, t in found}
    covered: set[int] = set()
    for start, end in found:
        stop = id(graph.skip_identity(start))
        todo = [end]
        while todo:
            t = todo.pop()
            if id(t) == stop:
                continue
            p = graph.producer(t)
            if p is None or id(p) in covered or p.kind == INPUT:
                continue
            covered.add(id(p))
            todo += p.inputs
    return len(ends), [m for m in graph.merges() if id(m) not in covered]
