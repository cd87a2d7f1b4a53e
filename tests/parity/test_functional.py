"""The functional API against Keras: the same graph code, built with minicnn and with
keras, the same weights, the same batch -> the same outputs, losses and gradients.

Each builder takes a namespace ``K`` (``minicnn`` or ``keras``) so one function
writes both models, exactly as a user would port a script by changing imports.
"""
import numpy as np
import pytest

import minicnn
from minicnn.parity.compare import TOLERANCES

tf = pytest.importorskip("tensorflow", reason="the Keras reference needs TensorFlow")
keras = tf.keras

FWD = TOLERANCES["forward"]["cpu"]        # (rtol, atol)
GRAD = TOLERANCES["grad"]["cpu"]


def _close(ours, theirs, tol):
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=tol[0], atol=tol[1])


def chapter_convnet(K):
    """The Keras chapter's functional MNIST convnet: 104,202 parameters."""
    inputs = K.Input(shape=(28, 28, 1))
    x = K.layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
    x = K.layers.MaxPooling2D(pool_size=2)(x)
    x = K.layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = K.layers.MaxPooling2D(pool_size=2)(x)
    x = K.layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = K.layers.Flatten()(x)
    outputs = K.layers.Dense(10, activation="softmax")(x)
    return K.Model(inputs=inputs, outputs=outputs)


def two_inputs_two_outputs(K):
    """A layer shared by two inputs, a tensor read by two layers, two heads."""
    a, b = K.Input((6,), name="a"), K.Input((6,), name="b")
    shared = K.layers.Dense(5, activation="tanh", name="shared")
    ha, hb = shared(a), shared(b)
    side = K.layers.Dense(5, activation="sigmoid", name="side")(ha)     # ha feeds two layers
    head1 = K.layers.Dense(3, activation="softmax", name="head1")(side)
    head2 = K.layers.Dense(2, name="head2")(ha)
    head2b = K.layers.Dense(2, name="head2b")(hb)
    return K.Model([a, b], [head1, head2, head2b])


def nested_base(K):
    """A Sequential convolutional base used as one layer of a functional model."""
    base = K.Sequential([K.Input((10, 10, 3)), K.layers.Conv2D(4, 3, activation="relu"),
                         K.layers.BatchNormalization(), K.layers.MaxPooling2D(2)],
                        name="base")
    inputs = K.Input((10, 10, 3))
    x = base(inputs, training=False)
    x = K.layers.Flatten()(x)
    outputs = K.layers.Dense(4, activation="softmax")(x)
    return K.Model(inputs, outputs), base


def _pair(build, seed=0):
    minicnn.clear_session()
    keras.backend.clear_session()
    ours, theirs = build(minicnn), build(keras)
    ours, theirs = (ours[0], theirs[0]) if isinstance(ours, tuple) else (ours, theirs)
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(w.shape).astype(np.float32) * 0.3
               if w.ndim else w for w in theirs.get_weights()]
    for i, w in enumerate(theirs.get_weights()):       # batch-norm variances stay positive
        if "variance" in theirs.weights[i].path:
            weights[i] = np.abs(weights[i]) + 0.5
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs, rng


def test_chapter_convnet_counts_and_predicts_like_keras():
    ours, theirs, rng = _pair(chapter_convnet)
    assert ours.count_params() == theirs.count_params() == 104_202
    assert [l.name for l in ours.layers][0] == "input_layer"
    assert len(ours.layers) == len(theirs.layers) == 8
    x = rng.random((3, 28, 28, 1), dtype=np.float32)
    _close(ours.predict(x), theirs.predict(x, verbose=0), FWD)


def test_summary_has_keras_connected_to_column_for_graphs():
    ours, theirs, _ = _pair(two_inputs_two_outputs)
    lines = []
    ours.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text
    assert "shared[0][0]" in text and "shared[1][0]" in text     # both calls of the shared layer
    assert f"Total params: {theirs.count_params():,}" in text


def test_two_inputs_two_outputs_shared_layer_gradients_match_keras():
    ours, theirs, rng = _pair(two_inputs_two_outputs)
    xa = rng.standard_normal((5, 6)).astype(np.float32)
    xb = rng.standard_normal((5, 6)).astype(np.float32)
    y1 = rng.integers(0, 3, 5)
    y2 = rng.standard_normal((5, 2)).astype(np.float32)
    y3 = rng.standard_normal((5, 2)).astype(np.float32)
    ours.compile("sgd", loss=["sparse_categorical_crossentropy", "mse", "mse"],
                 loss_weights=[1.0, 0.5, 2.0])
    value, grads = ours.compute_gradients([xa, xb], [y1, y2, y3], training=False)
    losses = [keras.losses.SparseCategoricalCrossentropy(), keras.losses.MeanSquaredError(),
              keras.losses.MeanSquaredError()]
    with tf.GradientTape() as tape:
        outs = theirs([xa, xb], training=False)
        total = sum(w * l(y, o) for w, l, y, o in zip((1.0, 0.5, 2.0), losses, (y1, y2, y3),
                                                      outs))
    ref = tape.gradient(total, theirs.trainable_weights)
    _close(value, float(total), FWD)
    assert len(grads) == len(ref) == 10
    for g, r in zip(grads, ref):
        _close(g, r, GRAD)


def test_input_gradients_sum_over_every_reader():
    """dL/dinput through a tensor that feeds two layers equals Keras's."""
    ours, theirs, rng = _pair(two_inputs_two_outputs)
    xa = rng.standard_normal((4, 6)).astype(np.float32)
    xb = rng.standard_normal((4, 6)).astype(np.float32)
    dys = [rng.standard_normal((4, n)).astype(np.float32) for n in (3, 2, 2)]
    ours.forward([xa, xb])
    dxa, dxb = ours.backward(dys)
    ta, tb = tf.constant(xa), tf.constant(xb)
    with tf.GradientTape() as tape:
        tape.watch([ta, tb])
        outs = theirs([ta, tb])
        total = sum(tf.reduce_sum(o * d) for o, d in zip(outs, dys))
    ra, rb = tape.gradient(total, [ta, tb])
    _close(dxa, ra, GRAD)
    _close(dxb, rb, GRAD)


def test_nested_model_trains_like_keras_with_its_base_frozen():
    ours, theirs, rng = _pair(nested_base)
    base = ours.get_layer("base")
    base.trainable = False
    theirs.get_layer("base").trainable = False
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 2
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights) == 6
    x = rng.random((6, 10, 10, 3), dtype=np.float32)
    y = rng.integers(0, 4, 6)
    before = [w.copy() for w in base.get_weights()]
    ours.compile(minicnn.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    theirs.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                   run_eagerly=True)
    for _ in range(3):
        loss = ours.train_on_batch(x, y)
        ref = theirs.train_on_batch(x, y)
    _close(loss, ref, GRAD)
    for w, b in zip(base.get_weights(), before):
        np.testing.assert_array_equal(w, b)                     # frozen: not one bit moved
    for w, r in zip(ours.get_weights(), theirs.get_weights()):
        _close(w, r, GRAD)


def test_activation_model_from_a_trained_sequential():
    """The chapters' picture code: Model(inputs=model.input, outputs=[layer.output ...])."""
    minicnn.clear_session()
    model = minicnn.Sequential([minicnn.Input((12, 12, 1)),
                                minicnn.layers.Conv2D(4, 3, activation="relu"),
                                minicnn.layers.MaxPooling2D(2),
                                minicnn.layers.Conv2D(6, 3, activation="relu"),
                                minicnn.layers.Flatten(), minicnn.layers.Dense(3)])
    activations = minicnn.Model(inputs=model.input,
                                outputs=[layer.output for layer in model.layers[:3]])
    x = np.random.default_rng(0).random((2, 12, 12, 1), dtype=np.float32)
    maps = activations.predict(x)
    assert [m.shape for m in maps] == [(2, 10, 10, 4), (2, 5, 5, 4), (2, 3, 3, 6)]
    np.testing.assert_array_equal(maps[2], model.forward(x, upto=2))


def test_multi_output_fit_logs_each_output_and_lowers_the_loss():
    ours, _, rng = _pair(two_inputs_two_outputs)
    x = [rng.standard_normal((64, 6)).astype(np.float32) for _ in range(2)]
    y = [rng.integers(0, 3, 64), rng.standard_normal((64, 2)).astype(np.float32),
         rng.standard_normal((64, 2)).astype(np.float32)]
    ours.compile("adam", loss={"head1": "sparse_categorical_crossentropy", "head2": "mse",
                               "head2b": "mse"},
                 metrics=[["accuracy"], ["mae"], None])
    history = ours.fit(x, y, batch_size=16, epochs=4, verbose=0, validation_split=0.25)
    h = history.history
    assert {"loss", "head1_loss", "head2_loss", "head2b_loss", "head1_accuracy", "head2_mae",
            "val_loss", "val_head2_loss"} <= set(h)
    assert h["loss"][-1] < h["loss"][0]
    np.testing.assert_allclose(h["loss"][0], h["head1_loss"][0] + h["head2_loss"][0]
                               + h["head2b_loss"][0], rtol=1e-5)
    preds = ours.predict(x, batch_size=10)
    assert [p.shape for p in preds] == [(64, 3), (64, 2), (64, 2)]


def test_split_batches_give_the_same_multi_output_gradients():
    """Two workers (one shard each) and one thread agree on a graph model."""
    results = []
    for count in (1, 2):
        minicnn.set_num_threads(count)
        try:
            ours, _, rng = _pair(two_inputs_two_outputs)
            x = [rng.standard_normal((16, 6)).astype(np.float32) for _ in range(2)]
            y = [rng.integers(0, 3, 16), rng.standard_normal((16, 2)).astype(np.float32),
                 rng.standard_normal((16, 2)).astype(np.float32)]
            ours.compile("sgd", ["sparse_categorical_crossentropy", "mse", "mse"])
            results.append(ours.compute_gradients(x, y))
        finally:
            minicnn.set_num_threads(None)
    _close(results[1][0], results[0][0], FWD)
    for a, b in zip(results[1][1], results[0][1]):
        _close(a, b, GRAD)


def test_graph_errors_name_what_is_wrong():
    a, b = minicnn.Input((4,)), minicnn.Input((4,))
    out = minicnn.layers.Dense(2)(b)
    with pytest.raises(ValueError, match="Graph disconnected"):
        minicnn.Model(a, out)
    dense = minicnn.layers.Dense(3)
    dense(minicnn.Input((4,)))
    with pytest.raises(ValueError, match=r"built for input shape \(None, 4\).*\(None, 5\)"):
        dense(minicnn.Input((5,)))
    model = minicnn.Model(a, minicnn.layers.Dense(2)(a))
    with pytest.raises(ValueError, match="expects 1 input array, received a list of 2"):
        model.predict([np.zeros((1, 4), np.float32)] * 2)
    with pytest.raises(TypeError, match="KerasTensor is a placeholder"):
        np.asarray(a)
    shared = minicnn.layers.Dense(2)
    shared(a), shared(b)
    with pytest.raises(AttributeError, match="called 2 times"):
        shared.output


@pytest.mark.parametrize("build", [two_inputs_two_outputs, nested_base, chapter_convnet])
def test_save_and_load_a_graph_model_keeps_predictions_and_training_state(build, tmp_path):
    ours, _, rng = _pair(build)
    if build is two_inputs_two_outputs:
        x = [rng.standard_normal((8, 6)).astype(np.float32) for _ in range(2)]
        y = [rng.integers(0, 3, 8), rng.standard_normal((8, 2)).astype(np.float32),
             rng.standard_normal((8, 2)).astype(np.float32)]
        ours.compile("adam", ["sparse_categorical_crossentropy", "mse", "mse"],
                     loss_weights=[1.0, 0.5, 0.25], metrics=[["accuracy"], [], ["mae"]])
    else:
        x = rng.random((8, *ours.input_shape[1:]), dtype=np.float32)
        y = rng.integers(0, ours.output_shape[-1], 8)
        ours.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    ours.train_on_batch(x, y)
    ours.save(tmp_path / "m.npz")
    again = minicnn.load_model(tmp_path / "m.npz")
    assert [l.name for l in again.layers] == [l.name for l in ours.layers]
    assert again.count_params() == ours.count_params()
    for a, b in zip(_as_list(again.predict(x)), _as_list(ours.predict(x))):
        np.testing.assert_array_equal(a, b)
    # the optimizer state came back: one more step gives the same weights
    ours.train_on_batch(x, y)
    again.train_on_batch(x, y)
    for a, b in zip(again.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(a, b)


def _as_list(v):
    return v if isinstance(v, list) else [v]
