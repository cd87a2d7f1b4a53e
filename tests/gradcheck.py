"""One helper for every float64 gradient check: central differences along random directions.

Chainer-style directional check: for a random direction v, the analytic
directional derivative <grad, v> must equal (f(w + eps v) - f(w - eps v)) / (2 eps).
A few directions test every entry of the gradient at the cost of a few
forward passes, so even large layers are cheap to check.
"""

# docs/keras_semantics.md "Tolerances": float64 central finite differences (eps 1e-6):
# rtol 1e-3, atol 1e-5
EPS, RTOL, ATOL = 1e-6, 1e-3, 1e-5


def directional_check(f, arrays, grads, rng, directions=3):
    """f() -> scalar loss reading ``arrays`` in place; grads[i] = dloss/darrays[i]."""
    for _ in range(directions):
        vs = [rng.standard_normal(a.shape) for a in arrays]
        analytic = sum(float((g * v).sum()) for g, v in zip(grads, vs))
        for a, v in zip(arrays, vs):
            a += EPS * v
        plus = f()
        for a, v in zip(arrays, vs):
            a -= 2 * EPS * v
        minus = f()
        for a, v in zip(arrays, vs):
            a += EPS * v
        numeric = (plus - minus) / (2 * EPS)
        assert abs(analytic - numeric) <= ATOL + RTOL * abs(numeric), (analytic, numeric)


def check_layer(layer, x, rng, training=False, directions=3):
    """Check dx and every weight gradient of a built float64 layer at input x."""
    y = layer.forward(x, training=training)
    w_out = rng.standard_normal(y.shape)            # loss = sum(w_out * y): dy = w_out
    dx = layer.backward(w_out.copy())
    keys = list(layer.params)
    grads = [dx] + [layer.grads[k].copy() for k in keys]
    arrays = [x] + [layer.params[k] for k in keys]

    def loss():
        state = {k: v.copy() for k, v in layer.state.items()}   # no moving-stat drift
        value = float((layer.forward(x, training=training) * w_out).sum())
        for k, v in state.items():
            layer.state[k][...] = v
        return value

    directional_check(loss, arrays, grads, rng, directions)
