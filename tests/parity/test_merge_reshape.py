"""Merge, reshaping, global pooling and advanced activation layers, and the new
activation functions, against Keras: the output, every input's gradient and
PReLU's alpha gradient (the grids of minicnn.parity.cases / cases_merge);
the gradients at the kinks and on ties, which must be TensorFlow's bit for
bit; drawn geometries (hypothesis); and the constructors' signatures,
configs and refusals.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn import layers as L
from minicnn.parity import cases, cases_merge
from minicnn.parity.compare import compare
from tests.layers.test_keras_signatures import signature_differences

NEW_LAYERS = ["Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum",
              "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
              "GlobalMaxPooling1D", "Reshape", "Permute", "Cropping2D", "UpSampling2D",
              "LeakyReLU", "ELU", "PReLU"]


# -- the grids -------------------------------------------------------------------------
@pytest.mark.parametrize("case", cases_merge.MERGE_CASES, ids=lambda c: c.label)
def test_merge_layers_match_keras(case, reference, assert_parity):
    assert_parity(cases_merge.run_merge_case(case, reference), "merge", reference.device)


@pytest.mark.parametrize("case", cases.RESHAPING_CASES + cases.GLOBAL_POOLING_CASES,
                         ids=lambda c: c.label)
def test_reshaping_and_global_pooling_match_keras(case, reference, assert_parity):
    assert_parity(cases.run_layer_case(case, reference), case.layer, reference.device)


@pytest.mark.parametrize("case", cases.ADVANCED_ACTIVATION_CASES, ids=lambda c: c.label)
def test_advanced_activations_match_keras(case, reference, assert_parity):
    assert_parity(cases.run_layer_case(case, reference), "advanced_activation",
                  reference.device)


# -- kinks and ties: TensorFlow's choices, bit for bit --------------------------------------
def _vjp_on(case, x, reference, weights=None):
    """minicnn's and Keras's (output, dx) for the layer of ``case`` at input x."""
    ours = cases.minicnn_layer(case)
    theirs = cases.keras_model(cases.keras_layers(case, reference.keras), x.shape[1:],
                               reference.keras)
    if weights is not None:
        ours.set_weights(weights)
        theirs.set_weights(weights)
    dy = np.random.default_rng(0).standard_normal(ours.compute_output_shape(x.shape))
    dy = dy.astype(np.float32)
    ref = reference.layer_vjp(theirs, x, dy, False)
    y = ours.forward(x.copy())
    return (y, ours.backward(dy.copy())), (ref["output"], ref["dx"])


KINKS = np.array([-3.0, -1.0, -1e-30, 0.0, 1e-30, 3.0, 6.0], dtype=np.float32)
KINK_CASES = [cases.LayerCase("Activation", {"activation": a}, (2, 7))
              for a in ("leaky_relu", "elu", "selu", "hard_sigmoid", "softsign")] + [
    cases.LayerCase("LeakyReLU", {}, (2, 7)), cases.LayerCase("ELU", {"alpha": 0.5}, (2, 7)),
    cases.LayerCase("ELU", {}, (2, 7)), cases.LayerCase("PReLU", {}, (2, 7))]


@pytest.mark.parametrize("case", KINK_CASES, ids=lambda c: c.label)
def test_gradients_at_the_kinks_are_tensorflows(case, reference, assert_parity):
    """At z = 0 (and -3, 3 for hard_sigmoid) the slope is TF's choice; dx must equal it.

    The tiny +-1e-30 check that elu and selu compute e^z - 1 as TensorFlow does
    (0 there, so y = 0 and TF's slope at 0), not expm1 (a tiny negative y)."""
    x = np.stack([KINKS, -KINKS])
    weights = [np.full((7,), 0.25, np.float32)] if case.layer == "PReLU" else None
    (y, dx), (ref_y, ref_dx) = _vjp_on(case, x, reference, weights)
    kinks = [0.0, 1e-30] + ([3.0] if "hard_sigmoid" in case.label else [])
    at_kink = np.isin(np.abs(KINKS), np.float32(kinks))       # the columns that are kinks
    device = reference.device
    results = [compare("output", y, ref_y, "forward", device),
               compare("dx", dx[:, at_kink], ref_dx[:, at_kink], "exact", device),
               compare("dx", dx, ref_dx, "grad", device)]     # e^z: last-bit differences
    assert_parity(results, "advanced_activation (kinks)", device)


@pytest.mark.parametrize("layer, shape", [("GlobalMaxPooling2D", (2, 3, 4, 2)),
                                          ("GlobalMaxPooling1D", (3, 6, 2))])
def test_global_max_pooling_ties_share_the_gradient_as_tensorflow(layer, shape, reference,
                                                                  assert_parity):
    x = np.random.default_rng(1).integers(-1, 2, shape).astype(np.float32)   # many ties
    (y, dx), (ref_y, ref_dx) = _vjp_on(cases.LayerCase(layer, {}, shape), x, reference)
    assert (dx != 0).sum() > shape[0] * shape[-1], "the input has no ties"
    assert_parity([compare("output", y, ref_y, "exact", reference.device),
                   compare("dx", dx, ref_dx, "grad", reference.device)],
                  "global_pooling (ties)", reference.device)


# -- drawn geometries ---------------------------------------------------------------------
def _draw_hw(data, low=1, high=7):
    return data.draw(st.integers(low, high), "h"), data.draw(st.integers(low, high), "w")


@settings(max_examples=8)
@given(data=st.data())
def test_drawn_upsampling_and_cropping_match_keras(data, reference, assert_parity):
    h, w = _draw_hw(data)
    shape = (data.draw(st.integers(1, 3), "n"), h, w, data.draw(st.integers(1, 3), "c"))
    size = (data.draw(st.integers(1, 4), "sh"), data.draw(st.integers(1, 4), "sw"))
    interpolation = data.draw(st.sampled_from(["nearest", "bilinear"]), "interpolation")
    top = data.draw(st.integers(0, h - 1), "top")
    left = data.draw(st.integers(0, w - 1), "left")
    cropping = ((top, data.draw(st.integers(0, h - 1 - top), "bottom")),
                (left, data.draw(st.integers(0, w - 1 - left), "right")))
    results = cases.run_layer_case(cases.LayerCase(
        "UpSampling2D", {"size": size, "interpolation": interpolation}, shape), reference)
    results += cases.run_layer_case(cases.LayerCase(
        "Cropping2D", {"cropping": cropping}, shape, exact=("output", "dx")), reference)
    assert_parity(results, "reshaping (hypothesis)", reference.device)


@settings(max_examples=8)
@given(data=st.data())
def test_drawn_reshape_permute_and_global_pooling_match_keras(data, reference, assert_parity):
    dims = tuple(data.draw(st.integers(1, 4), f"d{i}") for i in range(3))
    shape = (data.draw(st.integers(1, 3), "n"), *dims)
    perm = tuple(data.draw(st.permutations([1, 2, 3]), "perm"))
    split = data.draw(st.sampled_from([(-1, dims[2]), (dims[0], -1), (dims[0] * dims[1],
                                                                    dims[2])]), "target")
    keepdims = data.draw(st.booleans(), "keepdims")
    move = ("output", "dx")
    results = []
    for case in (cases.LayerCase("Permute", {"dims": perm}, shape, exact=move),
                 cases.LayerCase("Reshape", {"target_shape": split}, shape, exact=move),
                 cases.LayerCase("GlobalAveragePooling2D", {"keepdims": keepdims}, shape),
                 cases.LayerCase("GlobalMaxPooling2D", {"keepdims": keepdims}, shape,
                                 data="distinct"),
                 cases.LayerCase("GlobalAveragePooling1D", {"keepdims": keepdims}, shape[:3]),
                 cases.LayerCase("GlobalMaxPooling1D", {}, shape[:3], data="distinct")):
        results += cases.run_layer_case(case, reference)
    assert_parity(results, "reshaping (hypothesis)", reference.device)


# -- constructors: signatures, Keras's configs, what Keras refuses --------------------------
@pytest.mark.parametrize("name", NEW_LAYERS)
def test_signature_matches_keras(name, reference):
    assert signature_differences(name, getattr(L, name),
                                 getattr(reference.keras.layers, name)) == []


def _keras_layers(K):
    return [K.Concatenate(axis=1), K.Add(), K.Subtract(), K.Multiply(), K.Average(),
            K.Maximum(), K.GlobalAveragePooling2D(keepdims=True), K.GlobalMaxPooling2D(),
            K.GlobalAveragePooling1D(), K.GlobalMaxPooling1D(keepdims=True),
            K.Reshape((-1, 3)), K.Permute((2, 1)), K.Cropping2D(((1, 2), (0, 3))),
            K.UpSampling2D((2, 3), interpolation="bilinear"), K.LeakyReLU(0.1),
            K.ELU(alpha=0.5), K.PReLU(shared_axes=[1, 2])]


def _plain(value):
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("index", range(17), ids=lambda i: NEW_LAYERS[i])
def test_keras_config_builds_the_same_layer(index, reference):
    theirs = _keras_layers(reference.keras.layers)[index]
    config = theirs.get_config()
    if isinstance(config.get("dtype"), dict):          # a Keras dtype policy
        config["dtype"] = config["dtype"]["config"]["name"]
    for key in [k for k in config if k.endswith("_initializer")]:
        config[key] = config[key]["class_name"]
    ours = getattr(L, type(theirs).__name__).from_config(config)
    mine = ours.get_config()
    assert set(mine) == set(config)
    for key in config:
        if not key.endswith(("_initializer", "_regularizer", "_constraint")):
            assert _plain(mine[key]) == _plain(config[key]), key


REFUSED = [
    ("Reshape", {"target_shape": (-1, -1)}), ("Permute", {"dims": (1, 3)}),
    ("Permute", {"dims": (0, 1)}), ("Cropping2D", {"cropping": -1}),
    ("Cropping2D", {"cropping": (1, 2, 3)}), ("UpSampling2D", {"size": 0}),
    ("LeakyReLU", {"negative_slope": -0.5}), ("LeakyReLU", {"negative_slope": None}),
]


@pytest.mark.parametrize("name, kwargs", REFUSED, ids=str)
def test_refuses_what_keras_refuses(name, kwargs, reference):
    with pytest.raises(ValueError):
        getattr(reference.keras.layers, name)(**kwargs)
    with pytest.raises(ValueError, match=name):
        getattr(L, name)(**kwargs)


@pytest.mark.parametrize("name, shapes", [
    ("Concatenate", [(2, 3, 4), (2, 4, 5)]), ("Add", [(2, 3), (2, 4)]),
    ("Subtract", [(2, 3), (2, 3), (2, 3)]), ("Maximum", [(2, 3, 2), (2, 4, 2)])], ids=str)
def test_mismatched_inputs_refused_as_keras(name, shapes, reference):
    xs = [np.zeros(s, np.float32) for s in shapes]
    with pytest.raises(ValueError):
        getattr(reference.keras.layers, name)()([reference.keras.Input(s[1:]) for s in shapes])
    with pytest.raises(ValueError, match=name):
        getattr(L, name)()(xs)


# -- a small functional graph: every new family together ---------------------------------------
def _inception_block(K):
    """Two branches of different depth joined by Concatenate, a residual Add, global pooling."""
    inputs = K.Input(shape=(6, 6, 3))
    a = K.layers.Conv2D(4, 1, padding="same", activation="gelu", name="a")(inputs)
    b = K.layers.Conv2D(4, 3, padding="same", name="b")(inputs)
    b = K.layers.PReLU(shared_axes=[1, 2], name="prelu")(b)
    x = K.layers.Concatenate()([a, b])                                     # (6, 6, 8)
    x = K.layers.Add()([x, K.layers.UpSampling2D(interpolation="bilinear")(
        K.layers.Cropping2D(((1, 2), (2, 1)))(x))])                         # 3x3 -> 6x6
    x = K.layers.Maximum()([K.layers.GlobalAveragePooling2D()(x),
                            K.layers.GlobalMaxPooling2D()(x)])
    outputs = K.layers.Dense(3, activation="softmax", name="head")(K.layers.ELU()(x))
    return K.Model(inputs=inputs, outputs=outputs)


def test_a_functional_graph_with_the_new_layers_matches_keras(reference, assert_parity):
    import minicnn
    tf = reference.backend_module
    if not reference.device.startswith("tf"):
        pytest.skip("the input gradient is taken with tf.GradientTape here")
    ours, theirs = _inception_block(minicnn), _inception_block(reference.keras)
    rng = np.random.default_rng(5)
    for name in ("a", "b", "prelu", "head"):          # by name: the two orders may differ
        weights = [(0.3 * rng.standard_normal(w.shape)).astype(np.float32)
                   for w in theirs.get_layer(name).get_weights()]
        ours.get_layer(name).set_weights(weights)
        theirs.get_layer(name).set_weights(weights)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    dy = rng.standard_normal((2, 3)).astype(np.float32)
    with reference.placement():
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y_ref = theirs(xt)
        dx_ref = tape.gradient(y_ref, xt, output_gradients=tf.constant(dy))
    y = ours.forward(x)
    dx = ours.backward(dy)
    assert_parity([compare("output", y, y_ref.numpy(), "forward", reference.device),
                   compare("dx", dx, dx_ref.numpy(), "grad", reference.device)],
                  "merge (functional graph)", reference.device)
