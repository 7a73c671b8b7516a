"""Seed 002 autoencoders: denoising / white-rectangle removal on MNIST, Fashion-MNIST and 128x128 faces.

Layer tables: `shared/spec/models.md` §4a/4b (28x28x1, latent 32 or 64) and §4c (128x128x3, latent 1024).
What the seed fixes is the latent size (MNIST: "eine kleinere Repräsentation aus 32 Zahlenwerten"; Fashion: "ein
vergrößerter Latent Space", 64 is a proposal; faces: "je vier Convolution- und Deconvolutionblöcke, wodurch der
Latent Space insgesamt aus 1024 Werten bestand"). The layers are the spec's proposal, the keras.io VAE pattern:
stride-2 3x3 convs, a linear Dense bottleneck, a ReLU Dense back to the last feature map, mirrored stride-2
Conv2DTranspose layers and a 3x3 sigmoid output conv. No normalisation layers. Every layer is named after its
table row.

Input and output of every network: float32 `[N, H, W, C]` in [0, 1] (sigmoid output).
"""
from __future__ import annotations

import keras
from keras import layers

from keras_inpaint.precision import OUTPUT_DTYPE


def _autoencoder(input_shape, latent: int, filters: tuple[int, ...], name: str) -> keras.Model:
    """Conv(3x3, s2, ReLU) x len(filters) -> Flatten -> Dense(latent) -> Dense(ReLU) -> Reshape ->
    ConvT(3x3, s2, ReLU) x len(filters) (filters reversed) -> Conv(3x3, s1, sigmoid, C channels)."""
    h, w, c = input_shape
    stride = 2 ** len(filters)
    if h % stride or w % stride:
        raise ValueError(f"input {h}x{w} must be divisible by {stride} ({len(filters)} stride-2 convs)")
    x_in = keras.Input(input_shape, name="noisy_image")
    x = x_in
    for i, f in enumerate(filters, start=1):
        x = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu", name=f"conv{i}")(x)
    shape = tuple(x.shape[1:])
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(latent, name="latent")(x)  # linear code: the seed's "Latent Space"
    x = layers.Dense(shape[0] * shape[1] * shape[2], activation="relu", name="dense")(x)
    x = layers.Reshape(shape, name="reshape")(x)
    for i, f in enumerate(reversed(filters), start=1):
        x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu", name=f"deconv{i}")(x)
    x = layers.Conv2D(c, 3, padding="same", activation="sigmoid", name="output", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(x_in, x, name=name)


def build_denoising_ae(input_shape, latent: int) -> keras.Model:
    """The MNIST / Fashion-MNIST autoencoder of spec/models.md §4a/4b.

    Parameters: 278,369 with `latent=32` (`denoising_ae_mnist`), 479,105 with `latent=64`
    (`denoising_ae_fashion`), at 28x28x1.

    Table: Conv 3x3/2 32 ReLU (14x14x32) -> Conv 3x3/2 64 ReLU (7x7x64) -> Flatten (3136) -> Dense `latent`
    (linear) -> Dense 3136 ReLU -> Reshape 7x7x64 -> ConvT 3x3/2 64 ReLU (14x14x64) -> ConvT 3x3/2 32 ReLU
    (28x28x32) -> Conv 3x3/1 C sigmoid (28x28xC).

    Args:
      input_shape: (H, W, C) with H and W divisible by 4.
      latent: size of the Dense code (seed 002: 32 for MNIST; "larger" for Fashion, 64 proposed).
    Returns:
      keras.Model float32 `[N, H, W, C]` in [0, 1] -> float32 `[N, H, W, C]` in [0, 1].
    Raises:
      ValueError: H or W not divisible by 4.
    """
    return _autoencoder(tuple(input_shape), latent, (32, 64), name=f"denoising_ae_latent{latent}")


def build_denoising_ae_ffhq(input_shape, latent: int) -> keras.Model:
    """The 128x128 face autoencoder of spec/models.md §4c, four conv and four deconv blocks, 1024-value code.

    Parameters: 34,938,499 at 128x128x3 (the Dense variant, the spec's default reading of 002-c).

    Table: Conv 3x3/2 32, 64, 128, 256 ReLU (64 -> 32 -> 16 -> 8x8x256) -> Flatten (16384) -> Dense 1024
    (linear) -> Dense 16384 ReLU -> Reshape 8x8x256 -> ConvT 3x3/2 256, 128, 64, 32 ReLU (16 -> 32 -> 64 ->
    128x128x32) -> Conv 3x3/1 3 sigmoid. 1024 / (128*128*3) = 2.08 %, the seed's "ungefähr 2%".

    Args:
      input_shape: (H, W, C) with H and W divisible by 16.
      latent: size of the Dense code (1024, seed 002).
    Returns:
      keras.Model float32 `[N, H, W, C]` in [0, 1] -> float32 `[N, H, W, C]` in [0, 1].
    Raises:
      ValueError: H or W not divisible by 16.
    """
    return _autoencoder(tuple(input_shape), latent, (32, 64, 128, 256), name="denoising_ae_ffhq")
