"""Seed 000 networks: the context encoder (§IV-A) and its adversarial generator/discriminator (§IV-B, Tables I-II).

Layer tables: `shared/spec/models.md` §1 and §2. Every layer is named after its table row so tests can check
shapes, strides and activations row by row.
"""
from __future__ import annotations

import keras
from keras import layers

from keras_inpaint.precision import OUTPUT_DTYPE


def build_context_encoder(input_shape, dropout: float = 0.5) -> keras.Model:
    """Context-encoder autoencoder of seed 000 §IV-A (4,365,635 parameters at 32x32x3).

    Input: float32 `[N, 32, 32, 3]` in [0, 1], the image with its centre 16x16 hole set to the fill value (0).
    Output: float32 `[N, 16, 16, 3]` in [0, inf) (ReLU output, as the table), the predicted centre; the
    caller clips to [0, 1] and pastes it back into the hole.

    Table (seed 000 §IV-A): Conv 3x3/2 ReLU 32 -> Conv 3x3/2 ReLU 64 -> Conv 3x3/2 ReLU 128 -> BatchNorm ->
    Flatten (2048) -> Dropout -> Dense 2048 ReLU -> Reshape 4x4x128 -> Deconv 3x3/2 ReLU 64 -> Deconv 3x3/2
    ReLU 3. The dropout rate (0.5) is a proposal: the seed gives the layer but not its rate.
    """
    x_in = keras.Input(input_shape, name="masked_image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv1")(x_in)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = layers.Conv2D(128, 3, strides=2, padding="same", activation="relu", name="conv3")(x)
    x = layers.BatchNormalization(name="bn3")(x)
    shape = x.shape[1:]
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Dense(shape[0] * shape[1] * shape[2], activation="relu", name="dense")(x)
    x = layers.Reshape(shape, name="reshape")(x)
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu", name="deconv1")(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu", name="fill", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(x_in, x, name="context_encoder")


# ---------------------------------------------------------------------------------------------------------
# Seed 000 §IV-B: the adversarial context encoder (`context_encoder_gan`), Tables I (D) and II (G).
# Each block is Conv -> LeakyReLU(0.2) -> BatchNorm, the seed's order ("ativação LeakyReLU seguida de
# BatchNormalization"); slope 0.2 and the dropout rate 0.5 are proposals (spec/models.md §2, 000-f).
# ---------------------------------------------------------------------------------------------------------
def _lrelu_bn(x, name: str, synchronized: bool):
    x = layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)
    return layers.BatchNormalization(synchronized=synchronized, name=f"{name}_bn")(x)


def build_context_encoder_generator(input_shape, dropout: float = 0.5,
                                    synchronized: bool = False) -> keras.Model:
    """Generator of seed 000 Table II ("REDE GERADORA"): 7,440,643 parameters (7,437,827 trainable) at 32x32x3.

    Input: float32 `[N, 32, 32, 3]` in [-1, 1], the image with its centre 16x16 hole set to 0 (mid-grey).
    Output: float32 `[N, 16, 16, 3]` in (-1, 1) (tanh), the predicted centre, pasted back by the task.

    Rows (kernel/stride, filters): Conv 5x5/2 64 -> Conv 5x5/2 128 -> Conv 3x3/2 256 -> Conv 2x2/2 512
    (2x2x512), each + LeakyReLU + BN -> Flatten (2048) -> Dropout -> Dense 2048 ReLU -> Reshape 2x2x512 ->
    Deconv 3x3/2 256 -> Deconv 5x5/2 128 -> Deconv 5x5/2 64, each + LeakyReLU + BN -> Deconv 5x5/1 3 tanh.
    `same` padding everywhere (every stated output shape of Table II requires it).

    Args:
      input_shape: (H, W, C); 32x32x3 in the seed (H and W must be divisible by 16).
      dropout: rate of the Dropout row (a proposal: the seed gives the layer, not its rate).
      synchronized: BatchNorm with cross-replica statistics (SPEC §5); use it under a multi-replica
        `tf.distribute` strategy so N replicas reproduce the single-device maths.
    """
    x_in = keras.Input(input_shape, name="masked_image")
    x = x_in
    for i, (f, k) in enumerate(((64, 5), (128, 5), (256, 3), (512, 2)), start=1):
        x = layers.Conv2D(f, k, strides=2, padding="same", name=f"conv{i}")(x)
        x = _lrelu_bn(x, f"conv{i}", synchronized)
    shape = tuple(x.shape[1:])
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Dense(shape[0] * shape[1] * shape[2], activation="relu", name="dense")(x)
    x = layers.Reshape(shape, name="reshape")(x)
    for i, (f, k) in enumerate(((256, 3), (128, 5), (64, 5)), start=1):
        x = layers.Conv2DTranspose(f, k, strides=2, padding="same", name=f"deconv{i}")(x)
        x = _lrelu_bn(x, f"deconv{i}", synchronized)
    x = layers.Conv2DTranspose(input_shape[-1], 5, strides=1, padding="same", activation="tanh", name="fill",
                               dtype=OUTPUT_DTYPE)(x)
    return keras.Model(x_in, x, name="context_encoder_generator")


def build_context_encoder_discriminator(input_shape, dropout: float = 0.5,
                                        synchronized: bool = False) -> keras.Model:
    """Discriminator of seed 000 Table I ("REDE DISCRIMINADORA"): 1,440,961 parameters (1,440,001 trainable).

    Input: float32 `[N, 16, 16, 3]` in [-1, 1], a real or a generated centre patch (only the centre: the
    generator's fill, as in Pathak et al.'s non-conditional D). Output: float32 `[N, 1]` in (0, 1) (sigmoid),
    the probability that the patch is real.

    Rows: Conv 3x3/**1** 32 -> Conv 3x3/2 64 -> Conv 3x3/2 128 -> Conv 3x3/2 256 (2x2x256), each + LeakyReLU
    + BN -> Flatten (1024) -> Dropout -> Dense 1024 ReLU -> Dense 1 sigmoid. The seed prints stride 2x2 for the
    first conv but gives it a 16x16x32 output; every later row (8x8x64, 4x4x128, 2x2x256, Flatten 1024) needs
    stride 1 there, so it is 1 (spec/models.md 000-a).

    Args: as `build_context_encoder_generator`.
    """
    x_in = keras.Input(input_shape, name="centre_patch")
    x = x_in
    for i, (f, s) in enumerate(((32, 1), (64, 2), (128, 2), (256, 2)), start=1):
        x = layers.Conv2D(f, 3, strides=s, padding="same", name=f"conv{i}")(x)
        x = _lrelu_bn(x, f"conv{i}", synchronized)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Dense(1024, activation="relu", name="dense")(x)
    x = layers.Dense(1, activation="sigmoid", name="score", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(x_in, x, name="context_encoder_discriminator")
