"""``model.summary()``: the Keras table of layers, output shapes and parameters."""


def _fmt_shape(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _fmt_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024


def _is_chain(model):
    """A graph whose every node reads the previous node's one output (Keras then
    prints the plain three-column table)."""
    nodes = getattr(model, "_nodes", [])
    if len(model.inputs if hasattr(model, "inputs") else []) != 1:
        return False
    previous = model.inputs[0]
    for node in nodes:
        if node.inputs != [previous] or len(node.outputs) != 1:
            return False
        previous = node.outputs[0]
    return True


def _connections(model, layer):
    """``["conv2d[0][0]", ...]``: the tensors each call of ``layer`` in ``model`` reads,
    as ``<layer>[<call>][<output>]``, Keras's notation."""
    texts = []
    for node in model._nodes:
        if node.layer is layer:
            for t in node.inputs:
                source = t.node.layer
                call = source.__dict__.get("_inbound_nodes", []).index(t.node)
                texts.append(f"{source.name}[{call}][{t.index}]")
    return texts or ["-"]


def summary_lines(model, widths=None):
    """The lines of the summary table, also used by tests and ``minicnn.demos.inspect``.

    A graph model (branches, several inputs, shared layers) gets Keras's fourth
    column, "Connected to": the tensors each layer reads."""
    if not model.built:
        return [f'Model: "{model.name}" (unbuilt: give it an Input or call it on data)']
    graph = not _is_chain(model)
    widths = widths or ((33, 24, 15, 22) if graph else (33, 24, 15))
    cells = lambda values, edge, sep: edge[0] + sep.join(                 # noqa: E731
        f" {v:<{w - 2}} " if i != 2 else f" {v:>{w - 2}} "
        for i, (v, w) in enumerate(zip(values, widths))) + edge[1]
    rule = lambda l, m, r, c: l + m.join(c * w for w in widths) + r       # noqa: E731
    titles = ["Layer (type)", "Output Shape", "Param #", "Connected to"][:len(widths)]
    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"),
             cells(titles, "┃┃", "┃"), rule("┡", "╇", "┩", "━")]
    for layer in model.layers:
        shape = layer.output_shape
        shape_text = (", ".join(_fmt_shape(s) for s in shape) if isinstance(shape, list)
                      else _fmt_shape(shape))
        row = [f"{layer.name} ({type(layer).__name__})", shape_text, f"{layer.count_params():,}"]
        if not graph:
            lines.append(cells(row, "││", "│"))
            continue
        for i, connection in enumerate(_connections(model, layer)):
            lines.append(cells(row + [connection] if i == 0 else ["", "", "", connection],
                               "││", "│"))
    lines.append(rule("└", "┴", "┘", "─"))
    itemsize = model.dtype.itemsize
    trainable = sum(w.size for w in model.trainable_weights)
    frozen = sum(w.size for w in model.non_trainable_weights)
    for label, count in (("Total", trainable + frozen), ("Trainable", trainable),
                         ("Non-trainable", frozen)):
        lines.append(f" {label} params: {count:,} ({_fmt_bytes(count * itemsize)})")
    return lines
