"""Model: layers wired into a graph, trained with backpropagation.

    inputs = minicnn.Input((28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    ...
    model = minicnn.Model(inputs, outputs)

The whole of training is three lines, repeated for every batch:

    y_pred = model.forward(x, training=True)            # node by node
    loss, dy = loss_fn.value_and_gradient(y, y_pred)    # dL/dy_pred
    model.backward(dy)                                  # node by node, in reverse

after which every layer's ``grads`` holds dL/dw and the optimizer updates the
weights. ``fit`` adds batching, shuffling, metrics, callbacks and a progress
bar (``minicnn.training``).

A *node* is one call of a layer (``minicnn.graph``). ``forward`` runs the
nodes in an order where every node comes after the nodes it reads from,
keeping each node's cache; ``backward`` visits them in the reverse order,
adding up the gradient of every tensor that feeds several nodes. A layer
called twice (a shared layer) has two nodes: its weight gradients are the
sum over both calls. A ``Model`` is itself a layer, so a model can be a
node of another model (a convolutional base under a new head).
``Sequential`` (``minicnn.sequential``) is the case of a chain.
"""
import numpy as np

from . import checks, losses, metrics as metrics_module, optimizers
from .graph import MODEL_CLASSES, KerasTensor, keras_layer_order, sort_nodes
from .layers import InputLayer, Layer, serialize
from .layers.base import unique_name
from .saving import save_model
from .summary import summary_lines
from .training import TrainingMixin


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


class Model(TrainingMixin, Layer):
    """A graph of layers from ``inputs`` to ``outputs`` (Keras's functional ``Model``).

        inputs = minicnn.Input((28, 28, 1))
        x = layers.Conv2D(32, 3, activation="relu")(inputs)
        outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
        model = minicnn.Model(inputs=inputs, outputs=outputs)

    Args:
        inputs: a KerasTensor from ``minicnn.Input``, or a list of them.
        outputs: the tensor (or list of tensors) the model computes.
        name: the model's name (default ``functional``, ``functional_1``, ...).
        trainable: False freezes every layer inside.

    A model is a layer too: call it on a tensor to nest it in another model.
    """

    config_class = "Functional"          # how a saved file names this kind of model

    def __init__(self, inputs=None, outputs=None, name: str | None = None,
                 trainable: bool = True, **kwargs):
        if inputs is None or outputs is None:
            raise TypeError("Model(inputs, outputs): minicnn builds models from the "
                            "functional API (or use Sequential); subclassed models are "
                            "not supported")
        Layer.__init__(self, name=name or unique_name("functional"), trainable=trainable,
                       **kwargs)
        self._reset_compile()
        self._set_graph(inputs, outputs)

    def _reset_compile(self):
        self.optimizer = self.loss = None
        self.loss_weights = None
        self.metrics = []
        self.stop_training = False

    # -- the graph ------------------------------------------------------------------
    def _set_graph(self, inputs, outputs):
        """Sort the nodes between ``inputs`` and ``outputs`` and list the layers."""
        for what, value in (("inputs", inputs), ("outputs", outputs)):
            if not all(isinstance(t, KerasTensor) for t in _as_list(value)):
                raise TypeError(f"Model {what} must be KerasTensors (from minicnn.Input and "
                                f"layer calls), received {value!r}")
        self._single_input = not isinstance(inputs, (list, tuple))
        self._single_output = not isinstance(outputs, (list, tuple))
        self.inputs, self.outputs = _as_list(inputs), _as_list(outputs)
        self._nodes = sort_nodes(self.inputs, self.outputs)
        self._position = {}                       # layer -> its first node's position
        for k, node in enumerate(self._nodes):
            self._position.setdefault(node.layer, k)
        at = {node: k for k, node in enumerate(self._nodes)}
        self._output_nodes = [at.get(t.node) for t in self.outputs]   # None: an input
        self._layer_order = keras_layer_order(self.inputs, self.outputs)
        names = [layer.name for layer in self._layer_order]
        for name in dict.fromkeys(n for n in names if names.count(n) > 1):
            raise ValueError(f"The name {name!r} is used {names.count(name)} times in the "
                             f"model. All layer names should be unique (Keras's rule too)")
        self.input_layers = [l for l in self._layer_order if isinstance(l, InputLayer)]
        self._own_layers = [l for l in self._layer_order if not isinstance(l, InputLayer)]
        self._shared = self._shared_leaves()
        self.input_shape = self._structure([t.shape for t in self.inputs], self._single_input)
        self.output_shape = self._structure([t.shape for t in self.outputs],
                                            self._single_output)
        self.built = True

    @staticmethod
    def _structure(items, single):
        return items[0] if single else list(items)

    @property
    def layers(self):
        """Every layer, ``Input`` layers included, in Keras's order (farthest from the
        outputs first; see ``graph.keras_layer_order``): weights follow this order."""
        return list(self._layer_order)

    @property
    def input(self):
        """The model's input tensor (a list for several inputs)."""
        return self._structure(self.inputs, self._single_input)

    @property
    def output(self):
        """The model's output tensor (a list for several outputs)."""
        return self._structure(self.outputs, self._single_output)

    @property
    def dtype(self):
        """The dtype of the (first) output: what ``backward`` takes."""
        outputs = self.__dict__.get("outputs")
        return outputs[0].dtype if outputs else self.__dict__["_dtype"]

    @dtype.setter
    def dtype(self, value):
        self.__dict__["_dtype"] = value

    @property
    def trainable(self):
        """False freezes every layer inside (setting it sets theirs, as in Keras)."""
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value):
        """``model.trainable = False`` freezes every layer inside, as in Keras."""
        self.__dict__["_trainable"] = bool(value)
        for layer in self.__dict__.get("_own_layers", []):
            layer.trainable = bool(value)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or ``layers[index]`` (a ValueError lists the names)."""
        layers = self.layers
        if index is not None:
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; layers are {[l.name for l in layers]}")

    def _node_position(self, layer, what):
        """A layer given as an index into ``layers``, a name or the layer -> its node."""
        if isinstance(layer, (int, np.integer)):
            layers = self.layers
            if not -len(layers) <= layer < len(layers):
                raise ValueError(f"{what}={layer} is out of range for a model of "
                                 f"{len(layers)} layers")
            layer = layers[int(layer)]
        for candidate, k in self._position.items():
            if candidate is layer or candidate.name == layer:
                return k
        raise ValueError(f"{what}: no layer {layer!r} in model '{self.name}'; layers are "
                         f"{[l.name for l in self.layers]}")

    # -- as a layer inside another model ---------------------------------------------
    def build(self, input_shape):
        """A graph model is built when it is made; nothing to do."""
        return None

    def compute_output_shape(self, input_shape):
        """The output shape(s) for an input of ``input_shape`` (batch axis kept)."""
        batch = (input_shape[0] if not isinstance(input_shape, list) else input_shape[0][0])
        shapes = [(batch, *t.shape[1:]) for t in self.outputs]
        return self._structure(shapes, self._single_output)

    def leaf_layers(self):
        """The layers that hold weights or compute, nested models opened up."""
        leaves = []
        for layer in self._own_layers:
            leaves.extend(layer.leaf_layers() if isinstance(layer, Model) else [layer])
        return leaves

    # -- the two passes --------------------------------------------------------------
    def prepare_input(self, inputs):
        """The input(s) as arrays of the right dtype, checked against the input shapes;
        a list for a model with several inputs."""
        if self._single_input and isinstance(inputs, (list, tuple)) and len(inputs) > 1 \
                and all(isinstance(x, np.ndarray) for x in inputs):
            raise ValueError(f"Model '{self.name}' expects 1 input array, received a list of "
                             f"{len(inputs)} arrays")
        xs = _as_list(inputs) if not self._single_input else [inputs]
        if len(xs) != len(self.inputs):
            raise ValueError(f"Model '{self.name}' expects {len(self.inputs)} inputs, "
                             f"received {len(xs)}")
        out = []
        for i, (x, t) in enumerate(zip(xs, self.inputs)):
            what = "x" if self._single_input else f"x[{i}]"
            if t.dtype.kind in "iu":
                x = np.asarray(x)
                if x.dtype.kind not in "iu":
                    raise TypeError(f"{what} must be an integer array (token ids), received "
                                    f"dtype {x.dtype}")
                x = np.ascontiguousarray(x, dtype=t.dtype)
            else:
                x = checks.as_float_input(x, t.dtype, what)
            checks.check_input_shape(x, t.shape[1:], self.name)
            out.append(x)
        if any(len(x) != len(out[0]) for x in out):
            raise ValueError(f"Model '{self.name}': every input needs the same number of "
                             f"samples, received {[len(x) for x in out]}")
        return out[0] if self._single_input else out

    def forward(self, inputs, training=False, upto=None):
        """Run the nodes in order; returns the output(s), or the output of layer ``upto``
        (an index into ``layers``, a name or the layer) to stop there."""
        stop = len(self._nodes) - 1 if upto is None else self._node_position(upto, "upto")
        values = self._run(inputs, training, stop)
        if upto is not None:
            return values[self._nodes[stop].outputs[0]]
        return self._structure([values[t] for t in self.outputs], self._single_output)

    def _run(self, inputs, training, stop, record=None):
        """Run nodes 0..stop; returns ``{tensor: array}``. ``record``: a list that
        receives ``(layer, output)`` for every node."""
        xs = self.prepare_input(inputs)
        values = dict(zip(self.inputs, [xs] if self._single_input else xs))
        caches, workspaces = {}, self.workspace
        for k in range(stop + 1):
            node = self._nodes[k]
            layer = node.layer
            args = [values[t] for t in node.inputs]
            # Each node keeps its own cache and work arrays, so a layer called twice
            # (shared) keeps both calls' values for backward.
            layer.cache = {}
            layer.workspace = workspaces.setdefault(k, {})
            y = layer.forward(args if node.multi_input else args[0],
                              training=training if node.training is None else node.training)
            caches[k] = layer.cache
            values.update(zip(node.outputs, y if node.multi_output else [y]))
            if record is not None:
                record.append((layer, y))
        self.cache = {"nodes": caches, "stop": stop}
        return values

    def call(self, inputs, training=False):
        """Keras's name for the forward pass on arrays."""
        return self.forward(inputs, training=training)

    def layer_outputs(self, x, training=False):
        """Every node's output for input x, as a list of ``(layer, array)`` pairs."""
        record = []
        self._run(x, training, len(self._nodes) - 1, record)
        return record

    def _trains_below(self):
        """For each tensor: does a trained weight lie under it (so its gradient is needed)?"""
        below = {}
        for node in self._nodes:
            trained = any(leaf.trainable and leaf.params for leaf in _leaves(node.layer))
            flag = trained or any(below.get(t, False) for t in node.inputs)
            for t in node.outputs:
                below[t] = flag
        return below

    def backward(self, dy, from_logits=False, upto=None, down_to=None, compute_dx=True,
                 output_totals=None):
        """Backpropagate dy = dL/d(output) (a list for several outputs) through the
        nodes in reverse; fills every visited layer's ``grads``.

        Returns dL/d(input) (a list for several inputs), or dL/d(output of layer
        ``down_to``) when given. ``upto``: dy is the gradient of that layer's
        output instead. ``from_logits`` (one flag, or one per output): dy is the
        gradient of the output layer's pre-activation (a fused softmax +
        cross-entropy). ``compute_dx=False``: only the weight gradients are
        needed; nodes with nothing trained below them are skipped and None is
        returned (what training does). ``output_totals``: a list that receives, for
        each model output, its whole gradient (dy plus what flows back into it from
        the outputs computed from it), as ``GradientTape`` needs for an
        intermediate output."""
        run = self.cache
        if "nodes" not in run:
            raise RuntimeError(f"Model '{self.name}': backward needs a forward pass first "
                               f"(in the same thread)")
        caches = run["nodes"]
        top = run["stop"] if upto is None else self._node_position(upto, "upto")
        bottom = -1 if down_to is None else self._node_position(down_to, "down_to")
        gradient, fused = {}, set()
        if upto is None:
            dys = [dy] if self._single_output else _as_list(dy)
            flags = _as_list(from_logits) if isinstance(from_logits, (list, tuple)) \
                else [from_logits] * len(dys)
            for t, g, flag in zip(self.outputs, dys, flags, strict=True):
                _accumulate(gradient, t, np.asarray(g, dtype=self.dtype))
                if flag:
                    fused.add(t.node)
        else:
            node = self._nodes[top]
            gradient[node.outputs[0]] = np.asarray(dy, dtype=self.dtype)
            if from_logits:
                fused.add(node)
        below = None if compute_dx else self._trains_below()
        totals = {}
        sums, seen = {}, set()
        shared = self._shared
        for k in range(top, bottom, -1):
            node = self._nodes[k]
            douts = [gradient.pop(t, None) for t in node.outputs]
            if output_totals is not None:
                totals.update((t, d) for t, d in zip(node.outputs, douts) if d is not None)
            if all(d is None for d in douts):
                continue                        # no loss depends on this node
            douts = [np.zeros((len(next(d for d in douts if d is not None)), *t.shape[1:]),
                              self.dtype) if d is None else d
                     for d, t in zip(douts, node.outputs)]
            need_dx = compute_dx or any(below.get(t, False) for t in node.inputs)
            leaves = _leaves(node.layer)
            if not need_dx and not any(leaf.trainable and leaf.params for leaf in leaves):
                continue
            layer = node.layer
            layer.cache = caches[k]
            layer.workspace = self.workspace.setdefault(k, {})
            dx = layer.backward(douts if node.multi_output else douts[0],
                                from_logits=node in fused, compute_dx=need_dx)
            for leaf in leaves:                 # a shared layer: sum over its calls
                if leaf in shared:
                    if leaf in sums:
                        for key, g in leaf.grads.items():
                            sums[leaf][key] = sums[leaf][key] + g
                    else:
                        sums[leaf] = {key: g.copy() for key, g in leaf.grads.items()}
                seen.add(leaf)
            if need_dx:
                for t, g in zip(node.inputs, dx if node.multi_input else [dx]):
                    if g is not None:
                        _accumulate(gradient, t, g)
        for leaf, grads in sums.items():
            leaf.grads = grads
        if output_totals is not None:
            output_totals[:] = [totals.get(t, gradient.get(t)) for t in self.outputs]
        for node in self._nodes[bottom + 1:top + 1]:     # trained, but no loss reached it
            for leaf in _leaves(node.layer):
                if leaf not in seen and leaf.trainable:
                    leaf.grads = {key: np.zeros_like(w) for key, w in leaf.params.items()}
        if down_to is not None:
            return gradient.get(self._nodes[bottom].outputs[0])
        if not compute_dx:
            return None
        dxs = [gradient.get(t) for t in self.inputs]
        return self._structure(dxs, self._single_input)

    def _shared_leaves(self):
        """Leaf layers run by more than one node (counting nested models' nodes)."""
        counts = {}
        for node in self._nodes:
            for leaf in _leaves(node.layer, all_calls=True):
                counts[leaf] = counts.get(leaf, 0) + 1
        return {leaf for leaf, n in counts.items() if n > 1}

    # -- weights ---------------------------------------------------------------------
    def _trainable_slots(self):
        """``(layer, key)`` for every trained weight, in ``trainable_weights`` order."""
        if not self.trainable:
            return []
        slots = []
        for layer in self._own_layers:
            if isinstance(layer, Model):
                slots.extend(layer._trainable_slots())
            elif layer.trainable:
                slots.extend((layer, key) for key in layer.params)
        return slots

    @property
    def trainable_weights(self):
        """The arrays the optimizer updates, in Keras's order (frozen layers left out)."""
        return [layer.params[key] for layer, key in self._trainable_slots()]

    @property
    def gradients(self):
        """The gradients of the last ``backward`` in this thread, aligned with
        ``trainable_weights``."""
        return [layer.grads[key] for layer, key in self._trainable_slots()]

    @gradients.setter
    def gradients(self, values):
        for (layer, key), value in zip(self._trainable_slots(), values, strict=True):
            layer.grads[key] = value

    @property
    def non_trainable_weights(self):
        """Frozen layers' weights, then every layer's state (batch-norm statistics)."""
        trained = {id(layer.params[key]) for layer, key in self._trainable_slots()}
        leaves = self.leaf_layers()
        frozen = [w for l in leaves for w in l.params.values() if id(w) not in trained]
        return frozen + [w for l in leaves for w in l.state.values()]

    @property
    def weights(self):
        """Every weight array itself (not a copy), in ``get_weights`` order."""
        return [w for layer in self._own_layers for w in _layer_weights(layer)]

    def weight_keys(self):
        """``"<layer>/<key>"`` for every weight of the leaf layers, in order."""
        return [f"{layer.name}/{key}" for layer in self.leaf_layers()
                for key in layer.weight_keys()]

    def get_weights(self) -> list:
        """Copies of every weight array, layer by layer in ``layers`` order (Keras's)."""
        return [w for layer in self._own_layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        """Set every weight from a list in ``get_weights`` order (shapes are checked)."""
        weights = list(weights)
        counts = [len(layer.get_weights()) for layer in self._own_layers]
        if len(weights) != sum(counts):
            raise ValueError(f"Model '{self.name}' expects {sum(counts)} weight arrays, "
                             f"received {len(weights)}")
        for layer, n in zip(self._own_layers, counts):
            layer.set_weights(weights[:n])
            weights = weights[n:]

    def count_params(self) -> int:
        """The number of weights (trained and not), as ``summary`` totals them."""
        return sum(layer.count_params() for layer in self._own_layers)

    @property
    def params(self):
        """Empty: a model's weights live in its layers."""
        return {}

    @params.setter
    def params(self, value):
        pass

    @property
    def state(self):
        """Empty: a model's state lives in its layers."""
        return {}

    @state.setter
    def state(self, value):
        pass

    # -- compile, regularization, constraints ----------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None) -> None:
        """Set the optimizer, the loss and the metrics, as Keras's ``compile``.

        Args:
            optimizer: a name (``"rmsprop"``, ``"adam"``, ...) or an optimizer object.
            loss: a name (``"sparse_categorical_crossentropy"``, ``"mse"``, ...) or a
                loss object; a model with several outputs takes one per output (a
                list, or a dict keyed by output layer name).
            metrics: metric names (``"accuracy"`` resolves from the loss); for several
                outputs, a list per output or a dict.
            loss_weights: several outputs: the loss is ``sum_i weight_i * loss_i``.
            weighted_metrics: metrics weighted by ``sample_weight`` / ``class_weight``
                (the plain ``metrics`` are not, as in Keras 3); logged under their
                name, or ``weighted_<name>`` when a plain metric has it.

        Example: ``model.compile("rmsprop", "sparse_categorical_crossentropy",
        metrics=["accuracy"])``."""
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='sparse_categorical_crossentropy'")
        self.optimizer = optimizers.get(optimizer)
        per_output = self._per_output(loss, "loss")
        self.output_losses = [losses.get(l) for l in per_output]
        self.loss = self.output_losses[0] if self._single_output else self.output_losses
        weights = [1.0] * len(self.output_names) if loss_weights is None else \
            self._per_output(loss_weights, "loss_weights")
        self.loss_weights = None if loss_weights is None else [float(w) for w in weights]
        self._loss_weights = [float(w) for w in weights]
        self.output_metrics = self._resolve_metrics(metrics, "metrics")
        self.output_weighted_metrics = self._resolve_metrics(weighted_metrics,
                                                             "weighted_metrics")
        self.metrics = [m for entry in self.output_metrics for m in entry]
        self.weighted_metrics = [m for entry in self.output_weighted_metrics for m in entry]

    def _resolve_metrics(self, metrics, what):
        """One list of ``(name, metric)`` per output. One output: a list of metrics;
        several: one entry per output (a list, or a dict by output name), each a
        metric or a list of metrics, as Keras 3 asks."""
        if self._single_output:
            return [[metrics_module.resolve(m, self.loss) for m in (metrics or [])]]
        per_output = self._per_output(metrics or [None] * len(self.output_names), what)
        return [[metrics_module.resolve(m, loss) for m in _as_list(entry) if m is not None]
                for entry, loss in zip(per_output, self.output_losses)]

    def _per_output(self, value, what):
        """One entry per output from a single value, a list, or a dict of output names."""
        names = self.output_names
        if isinstance(value, dict):
            missing = [n for n in names if n not in value]
            if missing or set(value) - set(names):
                raise ValueError(f"{what}: expected a dict keyed by the output names "
                                 f"{names}, received keys {sorted(value)}")
            return [value[n] for n in names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError(f"{what}: expected {len(names)} entries (one per output "
                                 f"{names}), received {len(value)}")
            return list(value)
        return [value] * len(names)

    @property
    def output_names(self):
        """The names of the layers that make the outputs (how losses and logs name them)."""
        if "outputs" not in self.__dict__:               # a Sequential not built yet
            return [self.layers[-1].name] if self.layers else [self.name]
        return [t.node.layer.name for t in self.outputs]

    @property
    def output_activation(self):
        """The activation of the (first) output layer ("softmax", "relu", ...), or None."""
        return self._output_attribute(0, "activation")

    def _output_attribute(self, i, name):
        node = self.outputs[i].node
        if node is None or isinstance(node.layer, InputLayer):
            return None
        layer = node.layer
        if isinstance(layer, Model):
            return getattr(layer, "output_" + name, None)
        return getattr(layer, name, None)

    def output_activations(self):
        """The activation of every output layer, in output order."""
        return [self._output_attribute(i, "activation") for i in range(len(self.outputs))]

    @property
    def output_logits(self):
        """The (first) output layer's pre-softmax values of the last forward pass."""
        return self.all_output_logits()[0]

    def all_output_logits(self):
        """Each output layer's logits of the last forward pass in this thread (or None)."""
        caches = self.cache.get("nodes", {})
        logits = []
        for k in self._output_nodes:
            if k not in caches:                   # an input, or a node not run yet
                logits.append(None)
                continue
            node = self._nodes[k]
            node.layer.cache = caches[k]
            logits.append(getattr(node.layer, "logits", None) if not isinstance(
                node.layer, Model) else node.layer.output_logits)
        return logits

    @property
    def logits(self):
        """The output logits of the last forward pass (a nested model's, for a fused loss)."""
        return self.output_logits

    @property
    def losses(self):
        """The regularization penalty of every layer, one float each (Keras's
        ``model.losses``); training adds their sum to the loss."""
        return [layer.regularization_loss() for layer in self.leaf_layers()]

    def regularization_loss(self):
        """The sum of ``losses``: what training adds to the loss."""
        return sum(self.losses)

    def add_regularization_gradients(self):
        """Add each penalty's gradient to the ``grads`` of the trained layers."""
        for layer in dict.fromkeys(layer for layer, _ in self._trainable_slots()):
            layer.add_regularization_grads()

    add_regularization_grads = add_regularization_gradients

    def apply_constraints(self):
        """Project the trained weights back onto their constraints (after an update)."""
        for layer in dict.fromkeys(layer for layer, _ in self._trainable_slots()):
            layer.apply_constraints()

    def draw_batch_noise(self, rows):
        """None: the layers inside draw their own (see ``Layer.draw_batch_noise``)."""
        return None

    # -- inspection and persistence ----------------------------------------------------
    def summary(self, print_fn=print):
        """Print the Keras-style table: layer (type), output shape, parameter count
        (and, for a graph, what each layer is connected to)."""
        for line in summary_lines(self):
            print_fn(line)

    def get_config(self):
        """The graph, as ``save`` stores it: the layers (``Input`` layers first, a model
        inside as its own config) and the nodes in running order, each naming the
        layer it calls and the tensors it reads: ``["input", k]`` (the k-th model
        input) or ``["node", p, j]`` (output j of node p)."""
        layers = self.layers
        position = {layer: i for i, layer in enumerate(layers)}
        refs = {t: ["input", k] for k, t in enumerate(self.inputs)}
        nodes = []
        for p, node in enumerate(self._nodes):
            nodes.append({"layer": position[node.layer], "inputs": [refs[t] for t in node.inputs],
                          "multi_input": node.multi_input, "training": node.training})
            refs.update({t: ["node", p, j] for j, t in enumerate(node.outputs)})
        return {"name": self.name, "class_name": "Functional",
                "layers": [serialize_model_or_layer(layer) for layer in layers],
                "inputs": [position[t.node.layer] for t in self.inputs],
                "nodes": nodes, "outputs": [refs[t] for t in self.outputs],
                "single_input": self._single_input, "single_output": self._single_output}

    def save_weights(self, filepath, overwrite=True):
        """The weights alone: ``*.weights.npz`` (minicnn's) or ``*.weights.h5`` (Keras's,
        through Keras). See ``minicnn.weights_file``."""
        from .weights_file import save_weights
        save_weights(self, filepath, overwrite)

    def load_weights(self, filepath):
        """Weights written by ``save_weights`` (or a Keras ``.weights.h5`` file)."""
        from .weights_file import load_weights
        load_weights(self, filepath)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model with fresh weights from ``get_config()`` (Keras's ``from_config``)."""
        from .rebuild import model_from_config
        return model_from_config(config, custom_objects)

    def save(self, path) -> None:
        """Write architecture, weights and optimizer state to ``path``.

        ``*.npz``: minicnn's own file (JSON architecture + arrays, written
        atomically, read back by ``minicnn.load_model`` without pickle).
        ``*.keras`` / ``*.h5``: a real Keras file, through ``minicnn.to_keras``
        (needs Keras 3). Example: ``model.save("mnist.npz")``."""
        save_model(self, path)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _leaves(layer, all_calls=False):
    """The leaf layers a node of ``layer`` runs (a nested model: all of its layers)."""
    if isinstance(layer, Model):
        if all_calls:
            return [leaf for node in layer._nodes for leaf in _leaves(node.layer, True)]
        return layer.leaf_layers()
    return [layer]


MODEL_CLASSES["Functional"] = Model


def serialize_model_or_layer(layer):
    """``{"class_name", "config"}`` of a layer; a model inside a model is its class name
    ("Sequential" or "Functional") and its own config."""
    if isinstance(layer, Model):
        return {"class_name": layer.config_class, "config": layer.get_config()}
    return serialize(layer)


def _layer_weights(layer):
    if isinstance(layer, Model):
        return layer.weights
    return [layer.params.get(k, layer.state.get(k)) for k in layer.weight_keys()]


def _accumulate(gradient, tensor, g):
    """Add g to the gradient of ``tensor`` (a tensor read by several nodes sums them)."""
    gradient[tensor] = gradient[tensor] + g if tensor in gradient else g


__all__ = ["Model"]
