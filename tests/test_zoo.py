"""The model zoo: every builder's summary (shapes, parameters) against the
numbers of the source material and, when TensorFlow is installed, against
the same network written in Keras."""
import numpy as np
import pytest

import minicnn
from minicnn import regularizers, zoo
from minicnn.summary import summary_lines

# name -> (kwargs, [(layer type, output shape without batch, params)], total)
EXPECTED = {
    "keras_mnist_functional": (
        "keras_mnist_functional", {}, [
            ("InputLayer", (28, 28, 1), 0),
            ("Conv2D", (26, 26, 32), 320), ("MaxPooling2D", (13, 13, 32), 0),
            ("Conv2D", (11, 11, 64), 18_496), ("MaxPooling2D", (5, 5, 64), 0),
            ("Conv2D", (3, 3, 128), 73_856), ("Flatten", (1152,), 0),
            ("Dense", (10,), 11_530)], 104_202),
    "keras_mnist_convnet": (
        "keras_mnist_convnet", {}, [
            ("Conv2D", (26, 26, 32), 320), ("MaxPooling2D", (13, 13, 32), 0),
            ("Conv2D", (11, 11, 64), 18_496), ("MaxPooling2D", (5, 5, 64), 0),
            ("Conv2D", (3, 3, 64), 36_928), ("Flatten", (576,), 0),
            ("Dense", (64,), 36_928), ("Dense", (10,), 650)], 93_322),
    "lenet5": (
        "lenet5", {}, [
            ("ZeroPadding2D", (32, 32, 1), 0), ("Conv2D", (28, 28, 6), 156),
            ("MaxPooling2D", (14, 14, 6), 0), ("Conv2D", (10, 10, 16), 2_416),
            ("MaxPooling2D", (5, 5, 16), 0), ("Flatten", (400,), 0),
            ("Dense", (120,), 48_120), ("Dense", (84,), 10_164), ("Dense", (10,), 850)], 61_706),
    "lenet5_tf": (
        "lenet5_tf", {}, [
            ("Conv2D", (28, 28, 32), 320), ("MaxPooling2D", (14, 14, 32), 0),
            ("Dropout", (14, 14, 32), 0),
            ("Conv2D", (14, 14, 64), 18_496), ("MaxPooling2D", (7, 7, 64), 0),
            ("Dropout", (7, 7, 64), 0),
            ("Conv2D", (7, 7, 128), 73_856), ("MaxPooling2D", (4, 4, 128), 0),
            ("Dropout", (4, 4, 128), 0), ("Flatten", (2048,), 0),
            ("Dense", (625,), 1_280_625), ("Dropout", (625,), 0), ("Dense", (10,), 6_260)],
        1_379_557),
    "mnist_deep_head": (
        "mnist_deep_head", {}, [
            ("Conv2D", (28, 28, 32), 832), ("MaxPooling2D", (14, 14, 32), 0),
            ("Conv2D", (14, 14, 64), 51_264), ("MaxPooling2D", (7, 7, 64), 0),
            ("Flatten", (3136,), 0), ("Dense", (1024,), 3_212_288), ("Dropout", (1024,), 0),
            ("Dense", (256,), 262_400), ("Dropout", (256,), 0), ("Dense", (50,), 12_850),
            ("Dropout", (50,), 0), ("Dense", (10,), 510)], 3_540_144),
    "emotion_net": (
        "emotion_net", {}, [
            ("Conv2D", (48, 48, 32), 832), ("MaxPooling2D", (24, 24, 32), 0),
            ("Conv2D", (24, 24, 64), 18_496), ("MaxPooling2D", (12, 12, 64), 0),
            ("Flatten", (9216,), 0), ("Dense", (256,), 2_359_552), ("Dropout", (256,), 0),
            ("Dense", (7,), 1_799)], 2_380_679),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_summary_shapes_and_parameters(case):
    name, kwargs, rows, total = EXPECTED[case]
    model = zoo.MODELS[name](**kwargs)
    assert model.loss is None                       # uncompiled
    got = [(type(l).__name__, l.output_shape[1:], l.count_params()) for l in model.layers]
    assert got == rows
    assert model.count_params() == total
    lines = summary_lines(model)
    assert f" Total params: {total:,}" in "\n".join(lines)


def test_every_model_is_listed_and_runs_forward():
    assert sorted(zoo.MODELS) == sorted(zoo.TRAINING)
    small = {"alexnet": {"input_shape": (67, 67, 3)}, "vgg16": {"input_shape": (32, 32, 3),
             "include_top": False}, "vgg19": {"input_shape": (32, 32, 3), "include_top": False},
             "small_vgg": {"input_shape": (64, 64, 3)}}
    for name, builder in zoo.MODELS.items():
        model = builder(**small.get(name, {}))
        dtype = model.inputs[0].dtype
        x = np.zeros((2, *model.input_shape[1:]), dtype=dtype)
        y = model.predict(x)
        assert y.shape == (2, *model.output_shape[1:])
        if getattr(model.layers[-1], "activation", None) == "softmax":
            np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_lenet5_tf_without_bias_is_the_chapter_network():
    model = zoo.lenet5_tf(use_bias=False, logits=True)
    assert model.count_params() == 1_378_698
    assert model.layers[-1].activation == "linear"
    kernel = model.layers[0].params["kernel"]
    assert 0.007 < kernel.std() < 0.013             # N(0, 0.01)


def test_emotion_net_regularization_is_half_of_1e_2_l2_loss():
    minicnn.set_random_seed(0)
    model = zoo.emotion_net()
    expected = 1e-2 * sum(0.5 * np.sum(w.astype(np.float64) ** 2)
                          for w in model.trainable_weights)     # 1e-2 * tf.nn.l2_loss
    assert model.regularization_loss() == pytest.approx(expected, rel=1e-4)
    assert len([l for l in model.layers if l.params]) * 2 == len(model.trainable_weights)
    for layer in model.layers:
        for key in layer.params:
            assert isinstance(layer._regularizers[key], regularizers.L2)
    kernel = model.layers[2].params["kernel"]
    assert np.abs(kernel).max() <= 2 * 0.02 + 1e-7      # truncated at 2 std
    assert 0.014 < kernel.std() < 0.02                  # truncation shrinks the std
    assert not np.any(model.layers[2].params["bias"])


def test_emotion_net_logits_head():
    model = zoo.emotion_net(logits=True, l2=0)
    assert model.layers[-1].activation == "linear"
    assert model.regularization_loss() == 0


def test_compile_args_and_unknown_names():
    args = zoo.compile_args("mnist_deep_head")
    assert type(args["optimizer"]).__name__ == "Adam"
    assert args["optimizer"].learning_rate == pytest.approx(3e-3)
    assert zoo.compile_args("lenet5_tf")["optimizer"] is not \
        zoo.compile_args("lenet5_tf")["optimizer"]          # a new instance each time
    with pytest.raises(ValueError, match="unknown model 'vgg17'"):
        zoo.build("vgg17")
    with pytest.raises(ValueError, match="unknown model"):
        zoo.compile_args("nope")


# ---------------------------------------------------------------------------
# the same networks written in Keras
# ---------------------------------------------------------------------------
def _keras_model(name, kwargs):
    keras = pytest.importorskip("keras")
    L = keras.layers
    if name == "keras_mnist_functional":              # the chapter's code, as written
        inputs = keras.Input(shape=(28, 28, 1))
        x = L.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
        x = L.MaxPooling2D(pool_size=2)(x)
        x = L.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
        x = L.MaxPooling2D(pool_size=2)(x)
        x = L.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
        x = L.Flatten()(x)
        outputs = L.Dense(10, activation="softmax")(x)
        return keras.Model(inputs=inputs, outputs=outputs)
    if name == "keras_mnist_convnet":
        body = [L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
                L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
                L.Conv2D(64, 3, activation="relu"), L.Flatten(),
                L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")]
        shape = (28, 28, 1)
    elif name == "lenet5":
        body = [L.ZeroPadding2D(2), L.Conv2D(6, 5, activation="relu"), L.MaxPooling2D(2),
                L.Conv2D(16, 5, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                L.Dense(120, activation="relu"), L.Dense(84, activation="relu"),
                L.Dense(10, activation="softmax")]
        shape = (28, 28, 1)
    elif name == "lenet5_tf":
        body = []
        for filters in (32, 64, 128):
            body += [L.Conv2D(filters, 3, padding="same", activation="relu"),
                     L.MaxPooling2D(2, padding="same"), L.Dropout(0.2)]
        body += [L.Flatten(), L.Dense(625, activation="relu"), L.Dropout(0.5),
                 L.Dense(10, activation="softmax")]
        shape = (28, 28, 1)
    elif name == "mnist_deep_head":
        body = [L.Conv2D(32, 5, padding="same", activation="relu"), L.MaxPooling2D(2),
                L.Conv2D(64, 5, padding="same", activation="relu"), L.MaxPooling2D(2),
                L.Flatten(), L.Dense(1024, activation="relu"), L.Dropout(0.5),
                L.Dense(256, activation="relu"), L.Dropout(0.5),
                L.Dense(50, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax")]
        shape = (28, 28, 1)
    else:
        reg = dict(kernel_regularizer=keras.regularizers.L2(0.005),
                   bias_regularizer=keras.regularizers.L2(0.005))
        body = [L.Conv2D(32, 5, padding="same", activation="relu", **reg), L.MaxPooling2D(2),
                L.Conv2D(64, 3, padding="same", activation="relu", **reg), L.MaxPooling2D(2),
                L.Flatten(), L.Dense(256, activation="relu", **reg), L.Dropout(0.5),
                L.Dense(7, activation="softmax", **reg)]
        shape = (48, 48, 1)
    return keras.Sequential([keras.Input(shape), *body])


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_matches_keras(case):
    pytest.importorskip("tensorflow")
    name, kwargs, _, _ = EXPECTED[case]
    ours = zoo.MODELS[name](**kwargs)
    theirs = _keras_model(name, kwargs)
    assert ours.count_params() == theirs.count_params()
    assert [l.output_shape[1:] for l in ours.layers] == \
        [tuple(l.output.shape[1:]) for l in theirs.layers]
    assert [l.count_params() for l in ours.layers] == [l.count_params() for l in theirs.layers]
    # identical weights give identical predictions
    theirs.set_weights(ours.get_weights())
    x = np.random.default_rng(0).random((3, *ours.input_shape[1:]), dtype=np.float32)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)
