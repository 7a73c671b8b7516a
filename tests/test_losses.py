"""keras_inpaint.losses: per-example values of the GAN, reconstruction and perceptual losses, and the gradient
penalty; the perceptual loss reads VGG16 weights only from a local file."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import losses


def test_reconstruction_losses_are_per_example():
    a = np.zeros((3, 4, 4, 2), "float32")
    b = np.zeros_like(a)
    b[1] = 2.0
    b[2, 0, 0, 0] = 32.0                                   # one pixel of 32 elements -> mean 1
    np.testing.assert_allclose(losses.mse_loss(a, b), [0.0, 4.0, 32.0])
    np.testing.assert_allclose(losses.l1_loss(a, b), [0.0, 2.0, 1.0])
    assert losses.content_loss("l1") is losses.l1_loss and losses.content_loss("mse") is losses.mse_loss
    with pytest.raises(ValueError, match="content loss"):
        losses.content_loss("ssim")


def test_bce_losses():
    half = tf.fill([4, 1], 0.5)
    np.testing.assert_allclose(losses.bce_generator_loss(half), [math.log(2)] * 4, rtol=1e-5)
    np.testing.assert_allclose(losses.bce_discriminator_loss(half, half), [2 * math.log(2)] * 4, rtol=1e-5)
    real = tf.constant([[0.9], [0.99]])
    fake = tf.constant([[0.1], [0.01]])
    plain = losses.bce_discriminator_loss(real, fake).numpy()
    np.testing.assert_allclose(plain, -np.log([0.9, 0.99]) * 2, rtol=1e-4)
    smoothed = losses.bce_discriminator_loss(real, fake, real_label_smoothing=0.1).numpy()
    expected = -(0.9 * np.log([0.9, 0.99]) + 0.1 * np.log([0.1, 0.01])) - np.log([0.9, 0.99])
    np.testing.assert_allclose(smoothed, expected, rtol=1e-4)
    logits = tf.constant([[2.0], [-1.0]])
    np.testing.assert_allclose(losses.bce_generator_loss(logits, from_logits=True),
                               losses.bce_generator_loss(tf.sigmoid(logits)), rtol=1e-5)
    patch = tf.fill([2, 3, 3, 1], 0.5)                     # patch discriminators are averaged per example
    assert losses.bce_generator_loss(patch).shape == (2,)
    with pytest.raises(ValueError):
        losses.bce_discriminator_loss(real, fake, real_label_smoothing=1.0)


def test_wasserstein_and_least_squares_losses():
    real = tf.constant([[3.0], [1.0]])
    fake = tf.constant([[-1.0], [2.0]])
    np.testing.assert_allclose(losses.wasserstein_critic_loss(real, fake), [-4.0, 1.0])
    np.testing.assert_allclose(losses.wasserstein_generator_loss(fake), [1.0, -2.0])
    assert losses.wasserstein_discriminator_loss is losses.wasserstein_critic_loss
    np.testing.assert_allclose(losses.least_squares_discriminator_loss(real, fake),
                               [0.5 * (4 + 1), 0.5 * (0 + 4)])
    np.testing.assert_allclose(losses.least_squares_generator_loss(fake), [0.5 * 4, 0.5 * 1])


def test_gradient_penalty_of_a_linear_critic_is_exact():
    w = np.random.default_rng(0).normal(size=(1, 4, 4, 3)).astype("float32")

    def critic(x, training=True):
        return tf.reduce_sum(x * w, axis=[1, 2, 3])[:, None]     # gradient = w everywhere

    real = tf.random.normal([5, 4, 4, 3])
    fake = tf.random.normal([5, 4, 4, 3])
    gp = losses.gradient_penalty(critic, real, fake, seed=tf.constant([1, 2], tf.int64))
    np.testing.assert_allclose(gp, [(np.linalg.norm(w) - 1.0) ** 2] * 5, rtol=1e-4)
    # differentiable w.r.t. the critic's weights (WGAN-GP is used inside the critic's tape)
    v = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        pen = losses.gradient_penalty(lambda x, training=True: v * tf.reduce_sum(x, axis=[1, 2, 3]), real, fake,
                                      epsilon=tf.fill([5, 1, 1, 1], 0.5))
        total = tf.reduce_sum(pen)
    size = 4 * 4 * 3
    np.testing.assert_allclose(pen, [(2.0 * math.sqrt(size) - 1) ** 2] * 5, rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(total, v), 5 * 2 * (2 * math.sqrt(size) - 1) *
                               math.sqrt(size), rtol=1e-4)


def test_perceptual_loss_loads_only_a_local_file(tmp_path):
    with pytest.raises(ValueError, match="--vgg_weights"):
        losses.PerceptualLoss(None, (32, 32, 3))
    with pytest.raises(FileNotFoundError):
        losses.PerceptualLoss(str(tmp_path / "missing.h5"), (32, 32, 3))
    # A local weights file (random weights here: no download in tests) in Keras' own format.
    path = str(tmp_path / "vgg16_notop.weights.h5")
    keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)).save_weights(path)
    loss = losses.content_loss("perceptual", vgg_weights=path, input_shape=(32, 32, 3))
    assert loss.features.output_shape[1:] == (8, 8, 256)          # block3_conv3 at 32x32
    assert not loss.features.trainable_weights
    a = tf.random.uniform([2, 32, 32, 3], -1, 1)
    b = tf.random.uniform([2, 32, 32, 3], -1, 1)
    np.testing.assert_allclose(loss(a, a), [0.0, 0.0], atol=1e-7)
    assert loss(a, b).shape == (2,) and float(tf.reduce_min(loss(a, b))) > 0.0
    pre = losses.PerceptualLoss(path, (32, 32, 3), preprocess=True)
    assert float(tf.reduce_min(pre(a, b))) > 0.0
