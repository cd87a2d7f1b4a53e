"""Synthetic faces: determinism, balance, value range, geometry, difficulty."""
import numpy as np
import pytest

from minicnn.datasets import fer2013, synthetic_faces as sf


@pytest.fixture(scope="module")
def small():
    return sf.load_data(n_train=700, n_test=140, seed=0)


def test_shapes_dtypes_and_range(small):
    (x_train, y_train), (x_test, y_test) = small
    assert x_train.shape == (700, 48, 48) and x_train.dtype == np.uint8
    assert x_test.shape == (140, 48, 48) and x_test.dtype == np.uint8
    assert y_train.shape == (700,) and y_test.shape == (140,)
    assert set(np.unique(y_train).tolist()) == set(range(7))
    assert x_train.min() <= 10 and x_train.max() >= 245       # the full 0..255 range is used
    assert 60 < x_train.mean() < 190
    assert x_train.reshape(700, -1).std(axis=1).min() > 3     # no blank images
    assert sf.CLASS_NAMES == fer2013.CLASS_NAMES


def test_balanced_classes(small):
    (_, y_train), (_, y_test) = small
    assert np.bincount(y_train, minlength=7).tolist() == [100] * 7
    assert np.bincount(y_test, minlength=7).tolist() == [20] * 7
    _, y = sf.generate(100, seed=5)                            # 100 = 7 * 14 + 2
    counts = np.bincount(y, minlength=7)
    assert counts.sum() == 100 and counts.max() - counts.min() == 1
    assert y[:20].tolist() != sorted(y[:20].tolist())         # shuffled, not in blocks


def test_same_seed_same_bytes(small):
    (x_train, y_train), (x_test, y_test) = small
    (x2, y2), (xt2, yt2) = sf.load_data(n_train=700, n_test=140, seed=0)
    assert x2.tobytes() == x_train.tobytes() and y2.tobytes() == y_train.tobytes()
    assert xt2.tobytes() == x_test.tobytes() and yt2.tobytes() == y_test.tobytes()


def test_different_seed_different_faces(small):
    (x_train, _), (x_test, _) = small
    (x_other, _), _ = sf.load_data(n_train=700, n_test=140, seed=1)
    assert np.mean(x_other != x_train) > 0.5
    assert np.mean(x_test != x_train[:140]) > 0.5              # train and test differ too


def test_training_set_does_not_depend_on_test_size(small):
    (x_train, y_train), _ = small
    (x2, y2), (x_test, _) = sf.load_data(n_train=700, n_test=7, seed=0)
    assert np.array_equal(x2, x_train) and np.array_equal(y2, y_train)
    assert x_test.shape == (7, 48, 48)
    (x0, y0), _ = sf.load_data(n_train=0, n_test=7, seed=0)
    assert x0.shape == (0, 48, 48) and y0.shape == (0,)
    with pytest.raises(ValueError, match=">= 0"):
        sf.generate(-1)


def _posed_faces(labels, **overrides):
    """Faces of one identity, upright and centred, no noise, blur or occluder."""
    labels = np.asarray(labels)
    params = sf.sample_parameters(labels, np.random.default_rng(4))
    for name, value in params.items():                        # everybody is face 0
        params[name] = np.full(len(labels), value[0])
    expression = sf.RECIPE_TABLE[labels]                       # full intensity, no jitter
    for i, cue in enumerate(sf.CUES):
        params[cue] = expression[:, i]
    still = dict(angle=0, shift_x=0, shift_y=0, scale=1.1, light_x=0, light_y=0, blur=0,
                 noise=0, occluder=0, contrast=1, has_hair=0, skin=200, background=40)
    for name, value in {**still, **overrides}.items():
        params[name] = np.full(len(labels), float(value))
    return sf.render(params, np.random.default_rng(0)).astype(int)


def test_upright_neutral_face_is_mirror_symmetric():
    neutral, disgust = _posed_faces([sf.NEUTRAL, sf.DISGUST])
    assert np.abs(neutral - neutral[:, ::-1]).max() <= 1        # mirror about x = 23.5
    assert np.abs(disgust - disgust[:, ::-1]).max() > 50        # the lifted lip is one-sided


def test_expressions_change_the_right_regions():
    faces = _posed_faces(range(7))
    neutral = faces[sf.NEUTRAL]
    upper = slice(0, 24)          # brows and eyes (face centre at row 24, eyes above)
    lower = slice(30, 48)         # mouth
    changed = {name: (np.abs(faces[k, upper] - neutral[upper]).sum(),
                      np.abs(faces[k, lower] - neutral[lower]).sum())
               for k, name in enumerate(sf.CLASS_NAMES)}
    assert changed["neutral"] == (0, 0)
    assert changed["happy"][1] > 2 * changed["happy"][0] > 0    # mostly the mouth
    for name in ("angry", "disgust", "fear", "sad", "surprise"):
        assert changed[name][0] > 500 and changed[name][1] > 500, name
    # happy: mouth corners up, sad: corners down (mouth = the dark pixels below the eyes
    # on a face whose background matches the skin and whose nostrils are moved away)
    happy, sad = _posed_faces([sf.HAPPY, sf.SAD], background=200, lip_tone=0.5, nose_y=-100)
    for face, corners_higher in ((happy, True), (sad, False)):
        rows, cols = np.nonzero(face[26:] < 130)
        corner = rows[cols == cols.min()].mean()
        middle = rows[np.abs(cols - 23.5) < 1].mean()
        assert (corner < middle - 1) if corners_higher else (corner > middle + 1)


def test_linear_baseline_on_an_easy_problem():
    rng = np.random.default_rng(0)
    y = np.arange(400) % 2
    x = (rng.integers(0, 100, (400, 8, 8)) + 60 * y[:, None, None]).astype(np.uint8)
    assert sf.linear_baseline_accuracy(x[:300], y[:300], x[300:], y[300:]) > 0.95


def test_linear_classifier_stays_below_60_percent():
    (x_train, y_train), (x_test, y_test) = sf.load_data(n_train=4200, n_test=1400, seed=7)
    accuracy = sf.linear_baseline_accuracy(x_train, y_train, x_test, y_test, l2=1000.0)
    assert 1 / 7 + 0.05 < accuracy <= 0.60                    # learnable, but not linearly
