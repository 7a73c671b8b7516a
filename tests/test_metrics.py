"""Metrics conventions (SPEC §3): quantization, PSNR against a hand computation, hole measures."""
import numpy as np
import tensorflow as tf

from keras_inpaint import corruptions, metrics


def test_quantize_rounds_to_uint8_levels_and_clips():
    q = metrics.quantize(tf.constant([-0.5, 0.6 / 255, 0.3, 1.7])).numpy()
    np.testing.assert_allclose(q, [0.0, 1 / 255, round(0.3 * 255) / 255, 1.0], rtol=1e-6)


def test_psnr_matches_hand_computation():
    rng = np.random.default_rng(1)
    t = np.round(rng.random((2, 16, 16, 3)) * 255) / 255
    p = np.clip(t + (rng.integers(-3, 4, t.shape) / 255), 0, 1)
    mse = ((p - t) ** 2).mean(axis=(1, 2, 3))
    expected = 10 * np.log10(1 / mse)
    np.testing.assert_allclose(metrics.psnr(tf.constant(p, tf.float32), tf.constant(t, tf.float32)).numpy(),
                               expected, rtol=1e-4)


def test_an_exact_match_scores_the_finite_psnr_cap():
    """A white box on plain black background restored exactly (pasted back: the whole image matches) scores
    MAX_PSNR, the same 100 dB as a zero hole MSE, not inf, so a test-set mean stays finite."""
    t = np.zeros((2, 28, 28, 1), np.float32)
    t[1, 5:9, 5:9] = 128 / 255             # a uint8 level, so quantizing leaves it unchanged
    values = metrics.psnr(tf.constant(t), tf.constant(t)).numpy()
    assert metrics.MAX_PSNR == 100.0 and np.all(values == metrics.MAX_PSNR)
    np.testing.assert_allclose(
        metrics.hole_metrics(tf.constant(t), tf.constant(t), tf.ones((2, 28, 28, 1)))["hole_psnr"].numpy(), 100.0)


def test_hole_metrics_only_look_at_the_hole():
    t = np.full((1, 32, 32, 3), 128 / 255, np.float32)
    p = t.copy()
    p[:, 8:24, 8:24] = (128 + 20) / 255     # error of exactly 20 levels in the hole
    p[:, :8] = 0.0                          # big error outside the hole must be ignored
    m = corruptions.centre_mask(1, 32, 32, 16)
    h = {k: v.numpy()[0] for k, v in metrics.hole_metrics(tf.constant(p), tf.constant(t), m).items()}
    np.testing.assert_allclose(h["hole_l1"], 20 / 255, rtol=1e-4)
    np.testing.assert_allclose(h["hole_l2"], (20 / 255) ** 2, rtol=1e-4)
    np.testing.assert_allclose(h["hole_psnr"], 10 * np.log10(1 / (20 / 255) ** 2), rtol=1e-4)
