"""GradientTape and minicnn.ops against tf.GradientTape, and against float64 finite
differences (the chapters' filter visualisation, Grad-CAM and a custom training step)."""
import numpy as np
import pytest

import minicnn
from minicnn import layers as L, ops

from .gradcheck import directional_check

F64 = {"dtype": "float64"}


# -- every op against float64 central differences ------------------------------------------
UNARY = [
    ("square", ops.square, None), ("sqrt", ops.sqrt, "positive"), ("exp", ops.exp, None),
    ("log", ops.log, "positive"), ("abs", ops.abs, "away"), ("negative", ops.negative, None),
    ("relu", ops.relu, "away"), ("sigmoid", ops.sigmoid, None), ("tanh", ops.tanh, None),
    ("softmax", ops.softmax, None), ("mean", lambda x: ops.mean(x, axis=(1, 2)), None),
    ("sum", lambda x: ops.sum(x, axis=0, keepdims=True), None),
    ("max", lambda x: ops.max(x, axis=-1), None), ("min", lambda x: ops.min(x), None),
    ("getitem", lambda x: x[1:, ::2, 0], None), ("reshape", lambda x: ops.reshape(x, (3, -1)), None),
    ("transpose", lambda x: ops.transpose(x, (2, 0, 1)), None), ("power", lambda x: x ** 3, None),
    ("l2_normalize", lambda x: ops.l2_normalize(x, axis=-1), None),
    ("clip", lambda x: ops.clip(x, -0.5, 0.5), "away"),
    ("arithmetic", lambda x: (2.0 - x) * x / (x * x + 1.0) + x[0], None),
    ("matmul", lambda x: ops.matmul(x, ops.transpose(x, (0, 2, 1))), None),
    ("concat", lambda x: ops.concatenate([x, 2 * x[:, :1]], axis=1), None),
    ("stack", lambda x: ops.stack([x, ops.exp(x)], axis=1), None),
]


@pytest.mark.parametrize("name,f,domain", UNARY, ids=[u[0] for u in UNARY])
def test_op_gradients_match_finite_differences(name, f, domain):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 5))
    if domain == "positive":
        x = np.abs(x) + 0.5
    elif domain == "away":                       # 0.05 away from the kinks at 0 and +-0.5
        x = np.where(np.abs(x) < 0.1, x + 0.3, x)
        x = np.where(np.abs(np.abs(x) - 0.5) < 0.05, x + 0.1, x)
    w = rng.standard_normal(np.shape(f(minicnn.Tensor(x)).numpy()))
    xv = minicnn.Variable(x)                       # shares x's memory: the check moves x
    assert xv.numpy() is x
    with minicnn.GradientTape() as tape:
        loss = ops.sum(f(xv) * w)
    grad = tape.gradient(loss, xv)
    directional_check(lambda: float(np.sum(np.asarray(f(minicnn.Tensor(x))) * w)), [x], [grad],
                      rng)


def test_binary_ops_broadcast_and_send_each_input_its_gradient():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3,))
    for f in (ops.add, ops.subtract, ops.multiply, ops.divide, ops.maximum, ops.minimum):
        with minicnn.GradientTape() as tape:
            tape.watch([a, b])
            loss = ops.sum(ops.square(f(a, b)))
        da, db = tape.gradient(loss, [a, b])
        assert da.shape == a.shape and db.shape == b.shape
        directional_check(lambda: float(np.sum(np.asarray(f(a, b)) ** 2)), [a, b], [da, db], rng)


def test_gradient_rules():
    x = minicnn.Variable(np.array([1.0, 2.0, 3.0]))
    with minicnn.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x).tolist() == [2.0, 4.0, 6.0]            # non-scalar: summed
    with pytest.raises(RuntimeError, match="only be used to compute one set"):
        tape.gradient(y, x)
    unrelated = minicnn.Variable(np.ones(2))
    with minicnn.GradientTape(persistent=True) as tape:
        y = ops.sum(x ** 2)
    assert tape.gradient(y, unrelated) is None                        # not connected: None
    assert tape.gradient(y, [x, x])[1].tolist() == [2.0, 4.0, 6.0]    # persistent: again
    with minicnn.GradientTape() as tape:
        z = ops.max(minicnn.Variable(np.array([1.0, 3.0, 3.0])) * 1.0)
    with pytest.raises(ValueError, match="not computed on this tape"):
        tape.gradient(np.ones(1), x)
    y = ops.exp(x)                                                    # no tape: plain values
    np.testing.assert_allclose(y.numpy(), np.exp([1.0, 2.0, 3.0]))
    assert z.numpy() == 3.0


# -- layers and models on the tape, float64 ------------------------------------------------
def _net():
    minicnn.set_random_seed(3)
    return minicnn.Sequential([L.Input((7, 7, 2), **F64), L.Conv2D(3, 3, activation="tanh", **F64),
                               L.MaxPooling2D(2, **F64), L.Flatten(**F64),
                               L.Dense(4, activation="softmax", **F64)])


def test_model_call_gradients_wrt_input_and_weights_match_finite_differences():
    model = _net()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 7, 7, 2))
    with minicnn.GradientTape() as tape:
        tape.watch(x)
        p = model(x)
        loss = ops.mean(ops.log(p[:, 1])) + 0.5 * ops.sum(p * p)
    dx, *dw = tape.gradient(loss, [x, *model.trainable_weights])

    def f():
        p = model.predict(x)
        return float(np.mean(np.log(p[:, 1])) + 0.5 * np.sum(p * p))

    directional_check(f, [x, *model.trainable_weights], [dx, *dw], rng)


def test_a_layer_called_twice_on_one_tape_sums_both_calls():
    dense = L.Dense(3, activation="tanh", **F64)
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    dense.build((None, 4))
    with minicnn.GradientTape() as tape:
        tape.watch([a, b])
        loss = ops.sum(dense(a) * dense(b))
    grads = tape.gradient(loss, [a, b, dense.kernel, dense.bias])

    def f():
        return float(np.sum(dense.forward(a) * dense.forward(b)))

    directional_check(f, [a, b, dense.kernel, dense.bias], grads, rng)


# -- against tf.GradientTape: the chapters' uses -------------------------------------------
@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow", reason="the reference needs TensorFlow")


def _pair(tf):
    keras = tf.keras
    minicnn.clear_session()
    keras.backend.clear_session()

    def build(K):
        inputs = K.Input((12, 12, 1))
        x = K.layers.Conv2D(4, 3, activation="relu", name="conv_a")(inputs)
        x = K.layers.Conv2D(6, 3, activation="relu", name="last_conv")(x)
        x = K.layers.GlobalAveragePooling2D()(x)
        return K.Model(inputs, K.layers.Dense(3, activation="softmax", name="pred")(x))

    ours, theirs = build(minicnn), build(keras)
    rng = np.random.default_rng(6)
    weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.5 for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs, rng.random((2, 12, 12, 1), dtype=np.float32)


def test_filter_visualisation_gradient_ascent_matches_tensorflow(tf):
    """The chapter's loop: loss = mean of one filter's activation, L2-normalized gradient."""
    ours, theirs, img = _pair(tf)
    extractor = minicnn.Model(ours.inputs, ours.get_layer("conv_a").output)
    textractor = tf.keras.Model(theirs.inputs, theirs.get_layer("conv_a").output)
    x, tx = minicnn.Variable(img.copy()), tf.Variable(img.copy())
    for _ in range(3):
        with minicnn.GradientTape() as tape:
            loss = ops.mean(extractor(x)[:, 2:-2, 2:-2, 1])
        grads = ops.l2_normalize(tape.gradient(loss, x))
        x.assign_add(10.0 * grads.numpy())
        with tf.GradientTape() as ttape:
            tloss = tf.reduce_mean(textractor(tx)[:, 2:-2, 2:-2, 1])
        tgrads = tf.math.l2_normalize(ttape.gradient(tloss, tx))
        tx.assign_add(10.0 * tgrads)
        np.testing.assert_allclose(float(loss), float(tloss), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-4, atol=1e-4)


def test_grad_cam_gradient_of_a_class_score_wrt_the_last_conv_output(tf):
    """Keras's Grad-CAM example: a model with two outputs, the gradient of the class
    channel with respect to the *intermediate* output."""
    ours, theirs, img = _pair(tf)
    grad_model = minicnn.Model(ours.inputs, [ours.get_layer("last_conv").output, ours.output])
    tgrad_model = tf.keras.Model(theirs.inputs,
                                 [theirs.get_layer("last_conv").output, theirs.output])
    with minicnn.GradientTape() as tape:
        conv_output, preds = grad_model(img)
        class_channel = preds[:, 2]
    grads = tape.gradient(class_channel, conv_output)
    with tf.GradientTape() as ttape:
        tconv, tpreds = tgrad_model(img)
        tclass = tpreds[:, 2]
    tgrads = ttape.gradient(tclass, tconv)
    np.testing.assert_allclose(grads, tgrads.numpy(), rtol=1e-4, atol=1e-6)
    pooled = ops.mean(grads, axis=(0, 1, 2)).numpy()
    np.testing.assert_allclose(pooled, tf.reduce_mean(tgrads, axis=(0, 1, 2)).numpy(),
                               rtol=1e-4, atol=1e-6)


def test_custom_training_step_gradients_match_tensorflow(tf):
    ours, theirs, img = _pair(tf)
    y = np.array([0, 2])
    with minicnn.GradientTape() as tape:
        p = ours(img, training=True)
        loss = -ops.mean(ops.log(p[np.arange(2), y]))
    grads = tape.gradient(loss, ours.trainable_weights)
    with tf.GradientTape() as ttape:
        tp = theirs(img, training=True)
        tloss = tf.keras.losses.sparse_categorical_crossentropy(y, tp)
        tloss = tf.reduce_mean(tloss)
    tgrads = ttape.gradient(tloss, theirs.trainable_weights)
    np.testing.assert_allclose(float(loss), float(tloss), rtol=1e-5)
    for g, t in zip(grads, tgrads):
        np.testing.assert_allclose(g, t.numpy(), rtol=1e-4, atol=1e-5)
