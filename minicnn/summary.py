"""``model.summary()``: the Keras table of layers, output shapes and parameters."""


def _fmt_shape(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _fmt_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024


def summary_lines(model, widths=(33, 24, 15)):
    """The lines of the summary table, also used by tests and ``minicnn.demos.inspect``."""
    if not model.built:
        return [f'Model: "{model.name}" (unbuilt: give it an Input or call it on data)']
    w1, w2, w3 = widths
    rule = lambda l, m, r: l + "━" * w1 + m + "━" * w2 + m + "━" * w3 + r   # noqa: E731
    row = lambda a, b, c: f"│ {a:<{w1 - 2}} │ {b:<{w2 - 2}} │ {c:>{w3 - 2}} │"  # noqa: E731
    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓"),
             f"┃ {'Layer (type)':<{w1 - 2}} ┃ {'Output Shape':<{w2 - 2}} ┃ {'Param #':>{w3 - 2}} ┃",
             rule("┡", "╇", "┩")]
    for layer in model.layers:
        lines.append(row(f"{layer.name} ({type(layer).__name__})",
                         _fmt_shape(layer.output_shape), f"{layer.count_params():,}"))
    lines.append("└" + "─" * w1 + "┴" + "─" * w2 + "┴" + "─" * w3 + "┘")
    itemsize = model.dtype.itemsize
    trainable = sum(w.size for w in model.trainable_weights)
    frozen = sum(w.size for w in model.non_trainable_weights)
    for label, count in (("Total", trainable + frozen), ("Trainable", trainable),
                         ("Non-trainable", frozen)):
        lines.append(f" {label} params: {count:,} ({_fmt_bytes(count * itemsize)})")
    return lines
