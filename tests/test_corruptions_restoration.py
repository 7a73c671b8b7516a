"""Restoration corruptions (seed 002 noise / white boxes, seed 003 bicubic) and the SR metrics of metrics.py."""
import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import corruptions, metrics, tasks

SEED = tf.constant([3, 7], tf.int64)


def _images(n=4, h=28, w=28, c=1, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(0.0, 1.0, (n, h, w, c)), tf.float32)


# --- gaussian_noise ----------------------------------------------------------------------------------------
def test_gaussian_noise_is_deterministic_given_the_seed():
    x = _images()
    a = corruptions.gaussian_noise(x, SEED, 0.3)
    b = corruptions.gaussian_noise(x, SEED, 0.3)
    c = corruptions.gaussian_noise(x, tf.constant([3, 8], tf.int64), 0.3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), c.numpy())


def test_gaussian_noise_range_and_strength():
    x = tf.fill([8, 64, 64, 1], 0.5)
    y = corruptions.gaussian_noise(x, SEED, 0.1).numpy()
    assert y.min() >= 0.0 and y.max() <= 1.0
    assert abs((y - 0.5).std() - 0.1) < 0.005       # f = 0.1 is 5 std inside [0, 1]: clipping is negligible
    np.testing.assert_array_equal(corruptions.gaussian_noise(x, SEED, 0.0).numpy(), x.numpy())
    # f = 0.5 saturates many pixels but stays in [0, 1]
    z = corruptions.gaussian_noise(x, SEED, 0.5).numpy()
    assert z.min() == 0.0 and z.max() == 1.0


def test_gaussian_noise_random_strength_is_drawn_per_image():
    x = tf.fill([16, 64, 64, 1], 0.5)
    y = corruptions.gaussian_noise(x, SEED, (0.02, 0.12)).numpy()
    stds = (y - 0.5).reshape(16, -1).std(axis=1)
    assert stds.min() > 0.015 and stds.max() < 0.125
    assert stds.max() - stds.min() > 0.02             # strengths differ between images
    # A degenerate range is the fixed strength, on the same N(0, 1) field.
    np.testing.assert_allclose(corruptions.gaussian_noise(x, SEED, (0.2, 0.2)).numpy(),
                               corruptions.gaussian_noise(x, SEED, 0.2).numpy(), atol=1e-6)


@pytest.mark.parametrize("bad", [-0.1, (0.3, 0.1), (-0.1, 0.2)])
def test_gaussian_noise_rejects_bad_strength(bad):
    with pytest.raises(ValueError):
        corruptions.gaussian_noise(_images(), SEED, bad)


# --- white_box ---------------------------------------------------------------------------------------------
def test_white_box_is_white_rectangle_of_the_right_size():
    x = _images(n=32, h=28, w=28, c=3) * 0.9           # no pixel is white before
    y, mask = corruptions.white_box(x, SEED)
    y, mask, x = y.numpy(), mask.numpy(), x.numpy()
    assert mask.shape == (32, 28, 28, 1) and set(np.unique(mask)) == {0.0, 1.0}
    inside = mask[..., 0] == 1.0
    assert (y[inside] == 1.0).all()                     # all channels at the maximum
    np.testing.assert_array_equal(y[~inside], x[~inside])
    sizes = []
    for m in mask[..., 0]:
        rows, cols = np.where(m.any(axis=1))[0], np.where(m.any(axis=0))[0]
        h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
        assert m.sum() == h * w                         # one solid rectangle
        assert 7 <= h <= 14 and 7 <= w <= 14            # sides 0.25-0.5 x 28
        sizes.append((h, w, rows[0], cols[0]))
    assert len(set(sizes)) > 10                         # sizes and positions vary per image


def test_white_box_is_deterministic_and_validates_fractions():
    x = _images(n=4, h=128, w=128, c=3)
    a, ma = corruptions.white_box(x, SEED)
    b, mb = corruptions.white_box(x, SEED)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(ma.numpy(), mb.numpy())
    side = np.sqrt(ma.numpy().reshape(4, -1).sum(axis=1))
    assert (side >= 32).all() and (side <= 64).all()
    with pytest.raises(ValueError):
        corruptions.white_box(x, SEED, 0.6, 0.5)
    with pytest.raises(ValueError):
        corruptions.white_box(x, SEED, 0.0, 0.5)


# --- bicubic -----------------------------------------------------------------------------------------------
def test_bicubic_degrade_shape_range_and_determinism():
    x = _images(n=2, h=120, w=120, c=3)
    y = corruptions.bicubic_degrade(x, 3)
    assert y.shape == (2, 120, 120, 3) and y.dtype == tf.float32
    assert float(tf.reduce_min(y)) >= 0.0 and float(tf.reduce_max(y)) <= 1.0
    np.testing.assert_array_equal(y.numpy(), corruptions.bicubic_degrade(x, 3).numpy())
    assert float(tf.reduce_mean(tf.abs(y - x))) > 0.05  # white noise loses its detail
    # A constant image survives down-and-up exactly (up to float rounding).
    flat = tf.fill([1, 30, 30, 3], 0.4)
    np.testing.assert_allclose(corruptions.bicubic_degrade(flat, 3, quantize_low_res=False).numpy(), 0.4, atol=1e-5)


def test_bicubic_degrade_dynamic_shapes_and_bad_scale():
    fn = tf.function(lambda im: corruptions.bicubic_degrade(im, 3),
                     input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    assert fn(_images(n=1, h=33, w=24, c=3)).shape == (1, 33, 24, 3)
    assert corruptions.bicubic_upscale(_images(n=1, h=5, w=7, c=3), 3).shape == (1, 15, 21, 3)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError):
            corruptions.bicubic_degrade(_images(n=1, h=6, w=6, c=3), bad)


def test_run_padded_pads_to_the_multiple_and_crops_back():
    seen = []

    def network(x, training=False):
        seen.append(tuple(x.shape))
        return x * 2.0

    x = _images(n=1, h=10, w=13, c=3)
    out = tasks.run_padded(network, x, 4)
    assert seen[-1] == (1, 12, 16, 3)
    np.testing.assert_allclose(out.numpy(), x.numpy() * 2.0)


# --- Y channel and SR metrics --------------------------------------------------------------------------------
def _y_numpy(rgb_uint8):
    r, g, b = [rgb_uint8[..., i].astype(np.float64) for i in range(3)]
    return np.round(16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0)  # MATLAB rgb2ycbcr, uint8 in/out


def test_rgb_to_y_matches_matlab_rgb2ycbcr():
    px = np.array([[[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0]],
                    [[0, 0, 255], [128, 64, 32], [12, 200, 99], [250, 251, 3]]]], np.uint8)
    y = metrics.rgb_to_y(tf.constant(px, tf.float32) / 255.0).numpy()[..., 0] * 255.0
    np.testing.assert_allclose(y, _y_numpy(px), atol=1e-4)
    np.testing.assert_allclose(y[0, 0, :3], [16.0, 235.0, 81.0], atol=1e-4)   # black, white, pure red
    gray = tf.constant(np.full((1, 4, 4, 1), 0.5), tf.float32)
    np.testing.assert_allclose(metrics.rgb_to_y(gray).numpy(), np.round(0.5 * 255) / 255.0)


def test_y_channel_psnr_with_shave_against_a_hand_computation():
    rng = np.random.default_rng(1)
    target = rng.integers(0, 256, (2, 24, 20, 3)).astype(np.uint8)
    pred = np.clip(target.astype(int) + rng.integers(-20, 21, target.shape), 0, 255).astype(np.uint8)
    pred[:, :3] = 0                                      # damage the border: shaved away, must not count
    scale = 3
    out = metrics.super_resolution_metrics(tf.constant(pred, tf.float32) / 255.0,
                                           tf.constant(target, tf.float32) / 255.0, scale)
    yp, yt = _y_numpy(pred)[:, 3:-3, 3:-3], _y_numpy(target)[:, 3:-3, 3:-3]
    mse = ((yp - yt) ** 2).reshape(2, -1).mean(axis=1)
    np.testing.assert_allclose(out["psnr_y"].numpy(), 10 * np.log10(255.0 ** 2 / mse), atol=1e-3)
    p, t = pred[:, 3:-3, 3:-3].astype(np.float64), target[:, 3:-3, 3:-3].astype(np.float64)
    mse_rgb = ((p - t) ** 2).reshape(2, -1).mean(axis=1)
    np.testing.assert_allclose(out["psnr_rgb"].numpy(), 10 * np.log10(255.0 ** 2 / mse_rgb), atol=1e-3)
    assert out["ssim_y"].shape == (2,) and (out["ssim_y"].numpy() < 1.0).all()
    same = metrics.super_resolution_metrics(tf.constant(target, tf.float32) / 255.0,
                                            tf.constant(target, tf.float32) / 255.0, scale)
    np.testing.assert_allclose(same["ssim_y"].numpy(), 1.0, atol=1e-6)
