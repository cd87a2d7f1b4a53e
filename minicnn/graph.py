"""Symbolic tensors and nodes: how ``layer(tensor)`` records a functional graph.

    inputs = minicnn.Input((28, 28, 1))          # a KerasTensor, shape (None, 28, 28, 1)
    x = layers.Conv2D(32, 3)(inputs)              # a Node: Conv2D applied to `inputs`
    outputs = layers.Dense(10)(layers.Flatten()(x))
    model = minicnn.Model(inputs, outputs)        # the nodes between, in running order

No number is computed while the graph is written down: calling a layer on
a ``KerasTensor`` builds the layer for the tensor's shape, records a
``Node`` (the layer, the tensors it reads, the tensors it makes) and
returns the new symbolic output(s). ``Model`` (``minicnn.model``) then sorts
the nodes so that every node runs after the nodes it reads from.
"""
import itertools

import numpy as np

_ids = itertools.count()

# "Functional" -> Model, "Sequential" -> Sequential: each class registers itself, so
# that code rebuilding a model from its config needs to import neither.
MODEL_CLASSES = {}


class KerasTensor:
    """The shape (batch axis first, None where unknown) and dtype a layer's output
    will have, and the node that makes it."""

    def __init__(self, shape, dtype, node=None, index=0, name=None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node              # the Node whose output this is
        self.index = index            # which of that node's outputs
        self.name = name
        self.id = next(_ids)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        shape = "(" + ", ".join("None" if d is None else str(d) for d in self.shape) + \
                ("," if len(self.shape) == 1 else "") + ")"
        return f"<KerasTensor shape={shape}, dtype={self.dtype.name}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError("a KerasTensor is a placeholder in a functional graph, it has no "
                        "values: build a minicnn.Model(inputs, outputs) and call "
                        "model.predict(x) to compute them")


class Node:
    """One call of a layer in a graph: ``outputs = layer(inputs, training=...)``.

    ``multi_input``: the layer was called on a list (Concatenate, Add, ...);
    ``training``: the value given at the call (``base(x, training=False)``
    keeps a batch norm in inference mode while the model trains), or None.
    """

    def __init__(self, layer, inputs, multi_input, output_shapes, multi_output, training=None):
        self.layer = layer
        self.inputs = list(inputs)
        self.multi_input = multi_input
        self.multi_output = multi_output
        self.training = training
        dtype = getattr(layer, "dtype", np.dtype("float32"))
        self.outputs = [KerasTensor(shape, dtype, self, i, name=layer.name)
                        for i, shape in enumerate(output_shapes)]

    def __repr__(self):
        return f"<Node {self.layer.name}: {len(self.inputs)} in, {len(self.outputs)} out>"


def is_symbolic(inputs):
    """True for a KerasTensor or a list/tuple holding one."""
    if isinstance(inputs, KerasTensor):
        return True
    return isinstance(inputs, (list, tuple)) and any(isinstance(t, KerasTensor) for t in inputs)


def _shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _compatible(expected, received):
    """Shapes agree where both are known (the batch axis is never compared)."""
    return len(expected) == len(received) and all(
        e is None or r is None or e == r for e, r in zip(expected[1:], received[1:]))


def _check_call_shape(layer, shape_arg):
    """A built layer called again (a shared layer) must get the shapes it was built for."""
    built = layer.input_shape
    if built is None:
        return
    pairs = (list(zip(built, shape_arg)) if isinstance(shape_arg, list) and isinstance(built, list)
             else [(built, shape_arg)])
    for expected, received in pairs:
        if not _compatible(tuple(expected), tuple(received)):
            raise ValueError(f"{layer.owner} was built for input shape "
                             f"{_shape_text(expected)}, but is called on a tensor of shape "
                             f"{_shape_text(received)}")


def call_symbolic(layer, inputs, training=None):
    """``layer(inputs)`` on KerasTensors: build the layer, record a Node, return
    its symbolic output (a list when the layer has several outputs)."""
    multi_input = isinstance(inputs, (list, tuple))
    tensors = list(inputs) if multi_input else [inputs]
    for t in tensors:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"{layer.owner} was called on a mix of symbolic tensors and "
                            f"{type(t).__name__}; a functional graph takes KerasTensors only "
                            f"(from minicnn.Input or another layer)")
    shapes = [t.shape for t in tensors]
    shape_arg = shapes if multi_input else shapes[0]
    if not layer.built:
        layer.build(shape_arg)
    else:
        _check_call_shape(layer, shape_arg)
    output_shape = layer.compute_output_shape(shape_arg)
    multi_output = isinstance(output_shape, list)
    node = Node(layer, tensors, multi_input, output_shape if multi_output else [output_shape],
                multi_output, training)
    layer.__dict__.setdefault("_inbound_nodes", []).append(node)
    return node.outputs if multi_output else node.outputs[0]


def layer_tensor(layer, which):
    """``layer.input`` / ``layer.output``: the tensor(s) of the layer's only call."""
    nodes = layer.__dict__.get("_inbound_nodes", [])
    if not nodes:
        raise AttributeError(f"{layer.owner} has never been called on a symbolic tensor, so "
                             f"it has no {which}; call it on minicnn.Input(...) first")
    if len(nodes) > 1:
        raise AttributeError(f"{layer.owner} has been called {len(nodes)} times, so its "
                             f"{which} is ambiguous; use the tensors each call returned")
    node = nodes[0]
    tensors = node.inputs if which == "input" else node.outputs
    multi = node.multi_input if which == "input" else node.multi_output
    return list(tensors) if multi else tensors[0]


def sort_nodes(inputs, outputs):
    """The nodes between ``inputs`` and ``outputs``, each after the nodes it reads.

    A depth-first walk back from the outputs that stops at the inputs; a path
    that reaches an ``Input`` which is not among ``inputs`` means the graph is
    disconnected (Keras raises the same error)."""
    given = set(inputs)
    order, done, active = [], set(), set()

    def visit(tensor):
        if tensor in given:
            return
        node = tensor.node
        if node is None or not node.inputs:          # an Input that was not given
            raise ValueError(f"Graph disconnected: the output depends on {tensor!r}, which is "
                             f"not among the model's inputs {list(inputs)}")
        if node in done:
            return
        if node in active:
            raise ValueError(f"the graph has a cycle through layer '{node.layer.name}'")
        active.add(node)
        for t in node.inputs:
            visit(t)
        active.discard(node)
        done.add(node)
        order.append(node)

    for t in outputs:
        visit(t)
    return order


def keras_layer_order(inputs, outputs):
    """The layers of the graph in the order Keras lists them (``model.layers``, and so
    ``get_weights``): by depth, the layers farthest from the outputs first (a
    layer's depth is the longest path from any of its calls to an output), and
    layers of equal depth in the order a depth-first walk back from the outputs
    first meets them. ``Input`` layers are included."""
    given = set(inputs)
    first_seen, post_order, done = {}, [], set()

    def visit(tensor):
        node = tensor.node
        if node is None or node in done:
            return
        if tensor in given and node.inputs:        # an intermediate tensor given as input
            done.add(node)
            return
        first_seen.setdefault(node.layer, len(first_seen))
        if tensor not in given:
            for t in node.inputs:
                visit(t)
        done.add(node)
        post_order.append(node)

    for t in outputs:
        visit(t)
    in_graph = set(post_order)
    node_depth, layer_depth = {}, {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = node_depth[node] = depth
        for t in node.inputs:
            if t.node in in_graph:
                node_depth[t.node] = max(depth + 1, node_depth.get(t.node, 0))
    for t in inputs:                                 # inputs no output depends on
        if t.node is not None and t.node.layer not in layer_depth:
            layer_depth[t.node.layer], first_seen[t.node.layer] = 0, -1
    return sorted(layer_depth, key=lambda layer: (-layer_depth[layer], first_seen[layer]))
