"""Corruptions and paste-back (SPEC §2): masks, hole filling, exact known pixels, mean-colour baseline."""
import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import corruptions


def test_centre_box_seed000():
    assert corruptions.centre_box(32, 32, 16) == (8, 8, 16, 16)
    assert corruptions.centre_box(64, 64, 32) == (16, 16, 32, 32)
    with pytest.raises(ValueError):
        corruptions.centre_box(32, 32, 33)


def test_centre_mask_marks_exactly_rows_and_cols_8_to_23():
    m = corruptions.centre_mask(2, 32, 32, 16).numpy()
    assert m.shape == (2, 32, 32, 1) and m.dtype == np.float32
    expected = np.zeros((32, 32), np.float32)
    expected[8:24, 8:24] = 1.0
    np.testing.assert_array_equal(m[1, :, :, 0], expected)


def test_apply_hole_and_paste_back_keep_known_pixels_exactly():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((3, 32, 32, 3)), tf.float32)
    pred = tf.constant(rng.random((3, 32, 32, 3)), tf.float32)
    m = corruptions.centre_mask(3, 32, 32, 16)
    holed = corruptions.apply_hole(x, m, 0.0).numpy()
    assert (holed[:, 8:24, 8:24] == 0).all()
    known = m.numpy()[..., 0] == 0
    np.testing.assert_array_equal(holed[known], x.numpy()[known])
    out = corruptions.paste_back(x, pred, m).numpy()
    np.testing.assert_array_equal(out[known], x.numpy()[known])
    np.testing.assert_array_equal(out[:, 8:24, 8:24], pred.numpy()[:, 8:24, 8:24])


def test_crop_and_place_are_inverse():
    patch = tf.random.stateless_uniform([2, 16, 16, 3], [1, 2])
    box = corruptions.centre_box(32, 32, 16)
    framed = corruptions.place_in_box(patch, box, 32, 32)
    assert framed.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(corruptions.crop_box(framed, box).numpy(), patch.numpy())


def test_mean_colour_fill_uses_only_known_pixels():
    x = np.zeros((1, 32, 32, 3), np.float32)
    x[..., 0] = 0.25            # known red level
    x[:, 8:24, 8:24, :] = 0.9   # what is in the hole must not leak into the mean
    m = corruptions.centre_mask(1, 32, 32, 16)
    out = corruptions.mean_colour_fill(tf.constant(x), m).numpy()
    np.testing.assert_allclose(out[0, 16, 16], [0.25, 0.0, 0.0], atol=1e-6)
    np.testing.assert_array_equal(out[0, 0, 0], x[0, 0, 0])


def test_random_box_mask_is_deterministic_and_in_area_range():
    a = corruptions.random_box_mask([64, 64, 64], tf.constant([3, 4])).numpy()
    b = corruptions.random_box_mask([64, 64, 64], tf.constant([3, 4])).numpy()
    c = corruptions.random_box_mask([64, 64, 64], tf.constant([3, 5])).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    frac = a.mean(axis=(1, 2, 3))
    assert set(np.unique(a)) <= {0.0, 1.0}
    assert frac.min() >= 1 / 16 * 0.7 and frac.max() <= 1 / 4 * 1.3
