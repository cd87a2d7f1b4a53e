"""The source chapters' Keras code, run on minicnn with only its imports changed.

Each block below is written once, as the chapter writes it, against the names
``keras``, ``layers``, ``models`` and ``tf``; ``run`` hands it either minicnn
(``import minicnn as keras``, ``from minicnn import layers, models``, ``from
minicnn import ops as tf``) or, when installed, Keras and TensorFlow
themselves. Data sizes and epochs are cut down and ``weights="imagenet"`` is
``weights=None``; nothing else is edited. On minicnn every block must build,
train (the loss goes down) and give Keras's parameter counts and output shapes.
"""
import types

import numpy as np
import pytest

import minicnn
from minicnn import ops as minicnn_ops

RNG = np.random.default_rng(0)


def libraries():
    """``[(name, namespace)]``: minicnn always, Keras/TensorFlow when installed."""
    libs = [("minicnn", types.SimpleNamespace(keras=minicnn, layers=minicnn.layers,
                                              models=minicnn.models, tf=minicnn_ops))]
    try:
        import tensorflow as tf
        from tensorflow import keras
        libs.append(("keras", types.SimpleNamespace(keras=keras, layers=keras.layers,
                                                    models=keras.models, tf=tf)))
    except ImportError:
        pass
    return libs


def run(block, **data):
    """Run ``block`` on every library; returns ``{name: result}``. Results are dicts
    with a "model" (its parameter count and output shape are compared) and, on
    minicnn, a "history" whose loss must go down."""
    results = {}
    for name, lib in libraries():
        if name == "keras":
            lib.keras.backend.clear_session()
        else:
            minicnn.clear_session()
            minicnn.set_random_seed(0)
        results[name] = block(lib, **data)
    ours = results["minicnn"]
    if "history" in ours:
        losses = ours["history"].history["loss"]
        assert losses[-1] < losses[0], f"training did not lower the loss: {losses}"
    if "keras" in results:
        theirs = results["keras"]
        assert ours["model"].count_params() == theirs["model"].count_params()
        shape = lambda m: [tuple(t.shape[1:]) for t in (m.outputs if hasattr(m, "outputs")  # noqa: E731
                                                         else [m.output])]
        assert shape(ours["model"]) == shape(theirs["model"])
    return results


def mnist(n=600):
    (x, y), _ = minicnn.datasets.mnist.load_data()
    return (x[:n, ..., None] / 255).astype("float32"), y[:n]


# -- Keras chapter, 5.1: the Sequential MNIST convnet ---------------------------------------------
def sequential_convnet(lib, train_images, train_labels):
    layers, models = lib.layers, lib.models
    to_categorical = lib.keras.utils.to_categorical
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train_images, to_categorical(train_labels), epochs=3, batch_size=64,
                        verbose=0)
    return {"model": model, "history": history}


def test_sequential_mnist_convnet():
    x, y = mnist()
    result = run(sequential_convnet, train_images=x, train_labels=y)
    assert result["minicnn"]["model"].count_params() == 93_322


# -- Keras chapter, the functional MNIST convnet ----------------------------------------------------
def functional_convnet(lib, train_images, train_labels):
    keras, layers = lib.keras, lib.layers
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(train_images, train_labels, epochs=3, batch_size=64, verbose=0)
    return {"model": model, "history": history}


def test_functional_mnist_convnet():
    x, y = mnist()
    result = run(functional_convnet, train_images=x, train_labels=y)
    assert result["minicnn"]["model"].count_params() == 104_202


# -- the 5x5 MNIST net with its Dense 1024-256-50 head ------------------------------------------------
def deep_head(lib, train_images, train_labels):
    keras, layers = lib.keras, lib.layers
    model = keras.Sequential([
        layers.Conv2D(32, (5, 5), padding="same", activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, (5, 5), padding="same", activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dense(1024, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(50, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=keras.optimizers.Adam(learning_rate=0.003), metrics=["accuracy"])
    history = model.fit(train_images, train_labels, batch_size=100, epochs=3, verbose=0)
    return {"model": model, "history": history}


def test_mnist_deep_head():
    x, y = mnist(400)
    result = run(deep_head, train_images=x, train_labels=y)
    assert result["minicnn"]["model"].count_params() == 3_540_144


# -- Keras chapter, visualising what convnets learn -------------------------------------------------
def activation_model(lib, model, img_tensor):
    models = lib.models
    layer_outputs = [layer.output for layer in model.layers[:4]]
    # the chapter writes inputs=model.input; Keras 3 refuses that on a Sequential model
    # built from input_shape= (minicnn takes both), so the block uses model.inputs
    activation_model = models.Model(inputs=model.inputs, outputs=layer_outputs)
    activations = activation_model.predict(img_tensor, verbose=0)
    first_layer_activation = activations[0]
    return {"model": activation_model, "shape": first_layer_activation.shape,
            "channel": first_layer_activation[0, :, :, 4]}


def filter_patterns(lib, model, layer_name, filter_index):
    """The chapter's gradient ascent in input space (tf.GradientTape version)."""
    keras, tf = lib.keras, lib.tf
    layer = model.get_layer(name=layer_name)
    feature_extractor = keras.Model(inputs=model.inputs, outputs=layer.output)

    def compute_loss(image, filter_index):
        activation = feature_extractor(image)
        filter_activation = activation[:, 2:-2, 2:-2, filter_index]
        return tf.reduce_mean(filter_activation)

    def gradient_ascent_step(image, filter_index, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(image)
            loss = compute_loss(image, filter_index)
        grads = tape.gradient(loss, image)
        grads = tf.math.l2_normalize(grads)
        image += learning_rate * grads
        return image, loss

    # the chapter draws with tf.random.uniform(minval=0.4, maxval=0.6, shape=...); the same
    # numbers for both libraries here
    image = tf.convert_to_tensor(np.random.default_rng(1).uniform(0.4, 0.6, (1, 28, 28, 1))
                                 .astype("float32"))
    losses = []
    for _ in range(10):
        image, loss = gradient_ascent_step(image, filter_index, 10.0)
        losses.append(float(loss))
    return {"model": feature_extractor, "losses": losses, "image": np.asarray(image)}


def grad_cam(lib, model, img_array, last_conv_layer_name):
    """Keras's Grad-CAM example, line for line."""
    keras, tf = lib.keras, lib.tf
    grad_model = keras.Model(model.inputs, [model.get_layer(last_conv_layer_name).output,
                                            model.output])
    with tf.GradientTape() as tape:
        last_conv_layer_output, preds = grad_model(img_array)
        pred_index = tf.argmax(preds[0])
        class_channel = preds[:, pred_index]
    grads = tape.gradient(class_channel, last_conv_layer_output)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
    last_conv_layer_output = last_conv_layer_output[0]
    heatmap = last_conv_layer_output @ pooled_grads[..., tf.newaxis]
    heatmap = tf.squeeze(heatmap)
    heatmap = tf.maximum(heatmap, 0) / tf.math.reduce_max(heatmap)
    return {"model": grad_model, "heatmap": np.asarray(heatmap)}


def test_activation_model_filter_patterns_and_grad_cam():
    x, y = mnist(300)
    trained = {}
    for name, lib in libraries():     # the chapters inspect a Sequential and a functional net
        trained[name] = (lib, sequential_convnet(lib, x, y)["model"],
                         functional_convnet(lib, x, y)["model"])
    if "keras" in trained:                       # the same weights in both libraries
        for i in (1, 2):
            trained["keras"][i].set_weights(trained["minicnn"][i].get_weights())
    ours = trained["minicnn"][1]
    start = np.random.default_rng(1).uniform(0.4, 0.6, (1, 28, 28, 1)).astype("float32")
    alive = int(np.argmax(ours.forward(start, upto=2)[0, 2:-2, 2:-2].mean(axis=(0, 1))))
    results = {}
    for name, (lib, model, functional) in trained.items():
        conv_names = [l.name for l in model.layers if "conv" in l.name]
        last_conv = [l.name for l in functional.layers if "conv" in l.name][-1]
        results[name] = (activation_model(lib, model, x[:1]),
                         filter_patterns(lib, model, conv_names[1], alive),
                         grad_cam(lib, functional, x[:1], last_conv))
    act, patterns, cam = results["minicnn"]
    assert act["shape"] == (1, 26, 26, 32)
    assert patterns["losses"][-1] > patterns["losses"][0]          # the ascent climbs
    assert cam["heatmap"].shape == (3, 3) and cam["heatmap"].max() == pytest.approx(1.0)
    if "keras" in results:
        k_act, k_patterns, k_cam = results["keras"]
        np.testing.assert_allclose(act["channel"], k_act["channel"], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(patterns["losses"], k_patterns["losses"], rtol=1e-3,
                                   atol=1e-4)
        np.testing.assert_allclose(cam["heatmap"], k_cam["heatmap"], rtol=1e-3, atol=1e-4)


# -- Keras chapter, depthwise separable convolutions ---------------------------------------------
def separable_convnet(lib, x, y):
    keras, layers = lib.keras, lib.layers
    height, width, channels, num_classes = 64, 64, 3, 10
    model = keras.Sequential()
    model.add(layers.SeparableConv2D(32, 3, activation="relu",
                                     input_shape=(height, width, channels,)))
    model.add(layers.SeparableConv2D(64, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))
    model.add(layers.SeparableConv2D(64, 3, activation="relu"))
    model.add(layers.SeparableConv2D(128, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))
    model.add(layers.SeparableConv2D(64, 3, activation="relu"))
    model.add(layers.SeparableConv2D(128, 3, activation="relu"))
    model.add(layers.GlobalAveragePooling2D())
    model.add(layers.Dense(32, activation="relu"))
    model.add(layers.Dense(num_classes, activation="softmax"))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
    return {"model": model, "history": history}


def test_separable_convnet():
    x = RNG.random((48, 64, 64, 3), dtype=np.float32)
    labels = (x[:, :32].mean(axis=(1, 2, 3)) > x[:, 32:].mean(axis=(1, 2, 3))).astype(int)
    y = minicnn.utils.to_categorical(labels * 9, 10)
    result = run(separable_convnet, x=x, y=y)
    assert result["minicnn"]["model"].count_params() == 38_949


# -- Keras chapter, a 1D convnet on word sequences -------------------------------------------------
def conv1d_text(lib, sequences, y_train):
    keras, layers = lib.keras, lib.layers
    max_features, max_len = 500, 60
    pad_sequences = getattr(keras.preprocessing, "sequence", None)
    pad = (pad_sequences.pad_sequences if pad_sequences is not None
           and hasattr(pad_sequences, "pad_sequences") else keras.utils.pad_sequences)
    x_train = pad(sequences, maxlen=max_len)
    model = keras.Sequential()
    model.add(layers.Embedding(max_features, 128))
    model.add(layers.Conv1D(32, 7, activation="relu"))
    model.add(layers.MaxPooling1D(5))
    model.add(layers.Conv1D(32, 7, activation="relu"))
    model.add(layers.GlobalMaxPooling1D())
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                  loss="binary_crossentropy", metrics=["acc"])
    history = model.fit(x_train, y_train, epochs=4, batch_size=32, validation_split=0.2,
                        verbose=0)
    return {"model": model, "history": history}


def test_conv1d_text_classifier():
    lengths = RNG.integers(20, 90, 80)
    sequences = [list(RNG.integers(1, 500, n)) for n in lengths]
    y = np.array([int(np.mean(s) > 250) for s in sequences], dtype="float32")
    result = run(conv1d_text, sequences=sequences, y_train=y)
    history = result["minicnn"]["history"].history
    assert {"loss", "acc", "val_loss", "val_acc"} <= set(history)


# -- Keras chapter, cats vs dogs: a folder of images, ImageDataGenerator, a VGG16 base ----------
@pytest.fixture(scope="module")
def image_folders(tmp_path_factory):
    """train/ and validation/ folders of two classes of small generated JPEG "photos"."""
    from PIL import Image
    base = tmp_path_factory.mktemp("cats_and_dogs_small")
    rng = np.random.default_rng(3)
    for split, count in (("train", 24), ("validation", 8)):
        for label, (lo, hi) in (("cats", (0, 120)), ("dogs", (130, 255))):
            folder = base / split / label
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(lo, hi, (48, 48, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{label}.{i}.jpg")
    return str(base / "train"), str(base / "validation")


def _generator_module(lib, name):
    if name == "minicnn":
        from minicnn.preprocessing.image import ImageDataGenerator
    else:
        from keras.src.legacy.preprocessing.image import ImageDataGenerator
    return ImageDataGenerator


def augmented_convnet(lib, train_dir, validation_dir, ImageDataGenerator):
    layers, models, optimizers = lib.layers, lib.models, lib.keras.optimizers
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(64, 64, 3)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=optimizers.RMSprop(learning_rate=1e-3),
                  metrics=["acc"])
    train_datagen = ImageDataGenerator(rescale=1. / 255, rotation_range=40,
                                       width_shift_range=0.2, height_shift_range=0.2,
                                       shear_range=0.2, zoom_range=0.2, horizontal_flip=True)
    test_datagen = ImageDataGenerator(rescale=1. / 255)
    train_generator = train_datagen.flow_from_directory(train_dir, target_size=(64, 64),
                                                        batch_size=8, class_mode="binary")
    validation_generator = test_datagen.flow_from_directory(validation_dir,
                                                            target_size=(64, 64),
                                                            batch_size=8, class_mode="binary")
    history = model.fit(train_generator, steps_per_epoch=6, epochs=4,
                        validation_data=validation_generator, validation_steps=2, verbose=0)
    return {"model": model, "history": history,
            "classes": sorted(train_generator.class_indices.items())}


def test_augmentation_with_image_data_generator(image_folders):
    results = {}
    for name, lib in libraries():
        minicnn.set_random_seed(0)
        results[name] = augmented_convnet(lib, *image_folders, _generator_module(lib, name))
    ours = results["minicnn"]
    assert ours["classes"] == [("cats", 0), ("dogs", 1)]
    assert {"loss", "acc", "val_loss", "val_acc"} <= set(ours["history"].history)
    assert ours["history"].history["loss"][-1] < ours["history"].history["loss"][0]
    if "keras" in results:
        assert ours["model"].count_params() == results["keras"]["model"].count_params()
        assert ours["classes"] == results["keras"]["classes"]


def vgg16_feature_extraction_and_fine_tuning(lib, train_dir, validation_dir, ImageDataGenerator):
    layers, models, optimizers = lib.layers, lib.models, lib.keras.optimizers
    VGG16 = lib.keras.applications.VGG16
    conv_base = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    model = models.Sequential()
    model.add(conv_base)
    model.add(layers.Flatten())
    model.add(layers.Dense(256, activation="relu"))
    model.add(layers.Dense(1, activation="sigmoid"))
    trainable_before = len(model.trainable_weights)
    conv_base.trainable = False
    trainable_frozen = len(model.trainable_weights)
    datagen = ImageDataGenerator(rescale=1. / 255, horizontal_flip=True)
    train_generator = datagen.flow_from_directory(train_dir, target_size=(32, 32), batch_size=8,
                                                  class_mode="binary")
    validation_generator = ImageDataGenerator(rescale=1. / 255).flow_from_directory(
        validation_dir, target_size=(32, 32), batch_size=8, class_mode="binary")
    model.compile(loss="binary_crossentropy", optimizer=optimizers.RMSprop(learning_rate=2e-4),
                  metrics=["acc"])
    base_before = [w.copy() for w in conv_base.get_weights()]
    history = model.fit(train_generator, steps_per_epoch=6, epochs=3,
                        validation_data=validation_generator, validation_steps=2, verbose=0)
    frozen_unchanged = all(np.array_equal(a, b)
                           for a, b in zip(conv_base.get_weights(), base_before))
    conv_base.trainable = True                       # fine-tuning: unfreeze block 5 only
    set_trainable = False
    for layer in conv_base.layers:
        if layer.name == "block5_conv1":
            set_trainable = True
        if set_trainable:
            layer.trainable = True
        else:
            layer.trainable = False
    model.compile(loss="binary_crossentropy", optimizer=optimizers.RMSprop(learning_rate=1e-5),
                  metrics=["acc"])
    model.fit(train_generator, steps_per_epoch=3, epochs=1, verbose=0)
    return {"model": model, "history": history, "counts": (trainable_before, trainable_frozen,
                                                           len(model.trainable_weights)),
            "frozen_unchanged": frozen_unchanged}


def test_vgg16_feature_extraction_and_fine_tuning(image_folders):
    results = {}
    for name, lib in libraries():
        minicnn.set_random_seed(0)
        results[name] = vgg16_feature_extraction_and_fine_tuning(
            lib, *image_folders, _generator_module(lib, name))
    ours = results["minicnn"]
    assert ours["counts"] == (30, 4, 10)        # all; the head; the head and block 5 (3 convs)
    assert ours["frozen_unchanged"]
    assert ours["history"].history["loss"][-1] < ours["history"].history["loss"][0]
    if "keras" in results:
        assert ours["counts"] == results["keras"]["counts"]
        assert ours["model"].count_params() == results["keras"]["model"].count_params()


# -- the facial-expression chapter: the emotion net and the tuning iterations 3 and 4 ------------
def emotion_net(lib, x, y):
    """The emotion net in Keras notation (the chapter's own code is TF1 graph code)."""
    keras, layers = lib.keras, lib.layers
    reg = keras.regularizers.l2(0.005)
    init = keras.initializers.TruncatedNormal(stddev=0.02)
    model = keras.Sequential([
        keras.Input(shape=(48, 48, 1)),
        layers.Conv2D(32, 5, padding="same", activation="relu", kernel_initializer=init,
                      kernel_regularizer=reg, bias_regularizer=reg),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer=init,
                      kernel_regularizer=reg, bias_regularizer=reg),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(256, activation="relu", kernel_initializer=init, kernel_regularizer=reg,
                     bias_regularizer=reg),
        layers.Dropout(0.5),
        layers.Dense(7, activation="softmax", kernel_initializer=init, kernel_regularizer=reg,
                     bias_regularizer=reg),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=64, epochs=3, validation_split=0.1, verbose=0)
    return {"model": model, "history": history}


def tuning_iteration(lib, x, y, pool_first):
    """Iterations 3 and 4 of the tuning study: a 3x3 first layer and one conv block
    (iteration 4 adds pooling right after the first convolution)."""
    keras, layers = lib.keras, lib.layers
    model = keras.models.Sequential()
    model.add(layers.Conv2D(64, (3, 3), activation="relu", input_shape=(48, 48, 1)))
    if pool_first:
        model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(7, activation="softmax"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(),
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    return {"model": model, "history": history}


def _faces(n=256):
    (x, y), _ = minicnn.datasets.synthetic_faces.load_data(n_train=n, n_test=10, seed=0)
    x = x.astype("float32").reshape(len(x), 48, 48, 1)
    return (x - x.mean(axis=(1, 2, 3), keepdims=True)) / (x.std(axis=(1, 2, 3), keepdims=True)
                                                        + 1e-6), y


def test_emotion_net():
    x, y = _faces()
    result = run(emotion_net, x=x, y=y)
    assert result["minicnn"]["model"].count_params() == minicnn.zoo.emotion_net().count_params()


@pytest.mark.parametrize("pool_first,study_name", [(False, "iteration3"), (True, "iteration4")])
def test_tuning_iterations(pool_first, study_name):
    from minicnn.experiments import fer_tuning
    x, y = _faces()
    result = run(tuning_iteration, x=x, y=y, pool_first=pool_first)
    assert result["minicnn"]["model"].count_params() == \
        fer_tuning.build(study_name).count_params()
