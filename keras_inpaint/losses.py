"""Losses of the adversarial models, with the field's names (SPEC §5): reconstruction ("content"), perceptual,
`*_generator_loss` / `*_discriminator_loss` pairs, and `gradient_penalty`.

Conventions (every function here):
  * Every loss returns **per-example** values, float32 `[N]` (anything beyond the batch axis is averaged), so a
    trainer reduces them with `tf.nn.compute_average_loss(per_example, global_batch_size=...)`: divided by the
    GLOBAL batch size, the per-replica losses sum to the single-device mean under any `tf.distribute` strategy
    (replicas' gradients are summed by the optimizer).
  * Discriminator outputs are probabilities in (0, 1) (sigmoid) unless `from_logits=True`; Wasserstein and
    least-squares critics output unbounded scores. Outputs may be `[N]`, `[N, 1]` or patch maps `[N, h, w, 1]`.
  * Images are float `[N, H, W, C]` in the model's value range; nothing is clipped.
  * Nothing here downloads anything: the perceptual loss loads VGG16 weights only from a local file.

Sources: binary cross-entropy GAN (Goodfellow et al. 2014; seed 000 "Binary Cross Entropy"; seed 001 code,
with one-sided label smoothing 0.9); Wasserstein critic (Arjovsky et al. 2017; R-DB `wasserstein_loss`, see
`wasserstein_critic_loss`); gradient penalty (Gulrajani et al. 2017, WGAN-GP, λ = 10 in DeblurGAN); least squares
(Mao et al. 2017, the 0-1 coding a = 0, b = 1, c = 1, seed 004 eqs. 2.1/2.2); perceptual loss (R-DB
`perceptual_loss`: MSE of VGG16 `block3_conv3` features, Johnson et al. 2016).
"""
from __future__ import annotations

import os

import keras
import tensorflow as tf


def per_example_mean(values: tf.Tensor) -> tf.Tensor:
    """Mean over every axis but the first: `[N, ...]` -> float32 `[N]` (`[N]` is returned as is)."""
    values = tf.cast(values, tf.float32)
    if values.shape.rank is not None and values.shape.rank <= 1:
        return tf.reshape(values, [-1])
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def _bce(target: float, output: tf.Tensor, from_logits: bool) -> tf.Tensor:
    output = tf.cast(output, tf.float32)
    return per_example_mean(keras.ops.binary_crossentropy(tf.fill(tf.shape(output), target), output,
                                                          from_logits=from_logits))


# ---------------------------------------------------------------------------------------------------------
# Reconstruction ("content") losses.
# ---------------------------------------------------------------------------------------------------------
def mse_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """Per-example mean squared error over all pixels and channels, float32 `[N]` (seed 000's L2 / "PG")."""
    return per_example_mean(tf.square(tf.cast(y_pred, tf.float32) - tf.cast(y_true, tf.float32)))


def l1_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """Per-example mean absolute error, float32 `[N]` (pix2pix / SPEC §1.1 `100·L1`)."""
    return per_example_mean(tf.abs(tf.cast(y_pred, tf.float32) - tf.cast(y_true, tf.float32)))


class PerceptualLoss:
    """Per-example MSE between VGG16 features of the target and of the prediction (R-DB `perceptual_loss`).

    The feature extractor is VGG16 (ImageNet, `include_top=False`) cut at `layer` (default `block3_conv3`),
    frozen. Its weights are read **only** from the local file `weights_path` (e.g. Keras'
    `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`, or a `.weights.h5` saved by Keras): nothing is
    downloaded, and without a path the constructor fails at once (SPEC §5).

    R-DB feeds the [-1, 1] images to VGG as they are; `preprocess=True` instead maps them from `value_range` to
    0..255 and applies `keras.applications.vgg16.preprocess_input` (RGB -> BGR, ImageNet mean subtraction).

    This is a plain Python object (not a Keras layer or loss), so a trainer holding it does not save the VGG
    weights in its checkpoints.

    Args:
      weights_path: local VGG16 no-top weights file.
      input_shape: (H, W, 3) of the images (VGG16 needs H, W >= 32).
      layer: VGG16 layer whose output is compared.
      preprocess: see above. value_range: the images' range, used by `preprocess`.
    Call: `(y_true, y_pred)` float `[N, H, W, 3]` -> float32 `[N]`.
    Raises:
      ValueError: `weights_path` is None or empty, or the image is not 3-channel.
      FileNotFoundError: `weights_path` does not exist.
    """

    def __init__(self, weights_path: str | None, input_shape=(128, 128, 3), layer: str = "block3_conv3",
                 preprocess: bool = False, value_range=(-1.0, 1.0)):
        if not weights_path:
            raise ValueError(
                "the perceptual (VGG16) content loss needs local ImageNet VGG16 weights: pass --vgg_weights=PATH "
                "(e.g. vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5); nothing is downloaded. Or choose "
                "--content_loss=l1 / mse.")
        if not os.path.exists(weights_path):
            raise FileNotFoundError(f"VGG16 weights file {weights_path!r} not found (--vgg_weights)")
        if input_shape[-1] != 3:
            raise ValueError(f"the perceptual loss needs RGB images, got input shape {input_shape}")
        vgg = keras.applications.VGG16(weights=weights_path, include_top=False, input_shape=tuple(input_shape))
        self.features = keras.Model(vgg.input, vgg.get_layer(layer).output, name=f"vgg16_{layer}")
        self.features.trainable = False
        self.preprocess = preprocess
        self.value_range = tuple(value_range)

    def _prepare(self, images):
        images = tf.cast(images, tf.float32)
        if not self.preprocess:
            return images
        lo, hi = self.value_range
        return keras.applications.vgg16.preprocess_input((images - lo) / (hi - lo) * 255.0)

    def __call__(self, y_true, y_pred):
        # VGG computes in the dtype policy in force (bfloat16 under mixed_bfloat16); its features are compared
        # in float32.
        f_true = tf.stop_gradient(tf.cast(self.features(self._prepare(y_true), training=False), tf.float32))
        f_pred = tf.cast(self.features(self._prepare(y_pred), training=False), tf.float32)
        return per_example_mean(tf.square(f_pred - f_true))


CONTENT_LOSSES = ("mse", "l1", "perceptual")


def content_loss(name: str, *, vgg_weights: str | None = None, input_shape=None, vgg_preprocess: bool = False,
                 value_range=(-1.0, 1.0)):
    """The content loss `(y_true, y_pred) -> [N]` called `name`: 'mse', 'l1' or 'perceptual' (VGG16 block3_conv3,
    needs `vgg_weights`, a local file). Raises ValueError for an unknown name or a perceptual loss without weights."""
    if name == "mse":
        return mse_loss
    if name == "l1":
        return l1_loss
    if name == "perceptual":
        return PerceptualLoss(vgg_weights, input_shape, preprocess=vgg_preprocess, value_range=value_range)
    raise ValueError(f"content loss must be one of {CONTENT_LOSSES}, got {name!r}")


# ---------------------------------------------------------------------------------------------------------
# Adversarial losses: (generator, discriminator) pairs.
# ---------------------------------------------------------------------------------------------------------
def bce_generator_loss(fake_output: tf.Tensor, from_logits: bool = False) -> tf.Tensor:
    """Non-saturating GAN generator loss `-log D(G(x))` = BCE(D(G(x)), 1), float32 `[N]`.

    Seed 000 (Pathak et al.): the 0.001-weighted adversarial term, BCE of D(G(x)) against the label "real".
    """
    return _bce(1.0, fake_output, from_logits)


def bce_discriminator_loss(real_output: tf.Tensor, fake_output: tf.Tensor, real_label_smoothing: float = 0.0,
                           from_logits: bool = False) -> tf.Tensor:
    """GAN discriminator loss BCE(D(x), 1 - s) + BCE(D(G(x)), 0), float32 `[N]`.

    `real_label_smoothing` s is one-sided label smoothing (seed 001's code: real label 0.9, i.e. s = 0.1);
    0 gives the plain loss. Real and fake outputs come from separate discriminator calls (seed 000: "Treinar
    imagens verdadeiras e preditas ... em batches separados"), so each batch has its own BN statistics.
    Raises ValueError for s outside [0, 1).
    """
    if not 0.0 <= real_label_smoothing < 1.0:
        raise ValueError(f"real_label_smoothing must be in [0, 1), got {real_label_smoothing}")
    return _bce(1.0 - real_label_smoothing, real_output, from_logits) + _bce(0.0, fake_output, from_logits)


def wasserstein_generator_loss(fake_output: tf.Tensor) -> tf.Tensor:
    """WGAN generator loss `-D(G(x))`, float32 `[N]` (the critic scores real images high)."""
    return -per_example_mean(fake_output)


def wasserstein_critic_loss(real_output: tf.Tensor, fake_output: tf.Tensor) -> tf.Tensor:
    """WGAN critic loss `D(G(x)) - D(x)`, float32 `[N]` (minimised: real scored high, generated low).

    R-DB writes it as `mean(y_true * y_pred)` with labels +1 (real) / -1 (generated), i.e. with the opposite
    sign: its critic scores real images LOW. That is this loss for the critic `-D` (for R-DB's sigmoid output,
    `1 - D`, i.e. the same network with the last logit negated), so the two are the same model up to that sign.
    R-DB logs 0.5 x (real + fake); this returns the sum of the two terms. Add `gradient_penalty` for WGAN-GP.
    """
    return per_example_mean(fake_output) - per_example_mean(real_output)


wasserstein_discriminator_loss = wasserstein_critic_loss


def least_squares_generator_loss(fake_output: tf.Tensor, c: float = 1.0) -> tf.Tensor:
    """LSGAN generator loss `½ (D(G(z)) - c)²`, float32 `[N]` (Mao et al. 2017; seed 004 eq. 2.2, c = 1)."""
    return 0.5 * per_example_mean(tf.square(tf.cast(fake_output, tf.float32) - c))


def least_squares_discriminator_loss(real_output: tf.Tensor, fake_output: tf.Tensor, a: float = 0.0,
                                     b: float = 1.0) -> tf.Tensor:
    """LSGAN discriminator loss `½ (D(x) - b)² + ½ (D(G(z)) - a)²`, float32 `[N]` (seed 004 eq. 2.1; a=0, b=1)."""
    real = per_example_mean(tf.square(tf.cast(real_output, tf.float32) - b))
    fake = per_example_mean(tf.square(tf.cast(fake_output, tf.float32) - a))
    return 0.5 * (real + fake)


def gradient_penalty(critic, real: tf.Tensor, fake: tf.Tensor, *, seed=None, epsilon: tf.Tensor | None = None,
                     training: bool = True, target_norm: float = 1.0) -> tf.Tensor:
    """WGAN-GP penalty `(‖∇ D(x̂)‖₂ - 1)²` at x̂ = ε·x + (1 - ε)·G(z), per example, float32 `[N]`.

    Gulrajani et al. 2017; the DeblurGAN paper weights it by λ = 10 (R-DB defines it but does not use it).
    Differentiable with respect to the critic's weights (call it inside the critic's GradientTape).

    Args:
      critic: callable `[N, H, W, C] -> [N, ...]`, e.g. a Keras model.
      real, fake: float `[N, H, W, C]`, the same shape (gradients do not flow into `fake`'s generator).
      seed: int32/int64 `[2]` stateless seed for ε ~ U(0, 1) per example (ignored if `epsilon` is given;
        None uses the stateful global generator).
      epsilon: optional float `[N, 1, 1, 1]` (or broadcastable) interpolation weights.
      training: the critic's mode (BatchNorm in training mode mixes the examples of the batch, which the
        original WGAN-GP avoids by having no BN in the critic; R-DB's critic has BN).
      target_norm: the gradient norm the penalty pulls towards (1).
    """
    real = tf.cast(real, tf.float32)
    fake = tf.stop_gradient(tf.cast(fake, tf.float32))
    if epsilon is None:
        shape = tf.stack([tf.shape(real)[0], 1, 1, 1])
        epsilon = (tf.random.stateless_uniform(shape, seed) if seed is not None else tf.random.uniform(shape))
    interpolated = epsilon * real + (1.0 - epsilon) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        score = critic(interpolated, training=training)
    grads = tape.gradient(score, interpolated)
    norm = tf.sqrt(tf.reduce_sum(tf.square(tf.reshape(grads, [tf.shape(grads)[0], -1])), axis=1) + 1e-12)
    return tf.square(norm - target_norm)


ADVERSARIAL_LOSSES = {
    "bce": (bce_generator_loss, bce_discriminator_loss),
    "wasserstein": (wasserstein_generator_loss, wasserstein_critic_loss),
    "least_squares": (least_squares_generator_loss, least_squares_discriminator_loss),
    # BCE on logits (a linear last layer, the sigmoid inside the loss): seed 001's code (R-576 `dcgan`)
    "bce_logits": (lambda fake_output: bce_generator_loss(fake_output, from_logits=True),
                   lambda real_output, fake_output, real_label_smoothing=0.0: bce_discriminator_loss(
                       real_output, fake_output, real_label_smoothing=real_label_smoothing, from_logits=True)),
}
