"""Seed 001's code (R-576 `inpainting.py`): the z -> image DCGAN face prior `dcgan`, spec/models.md §3.

This is the network the seed's authors actually trained and inpainted with by latent optimisation (their
text's conditional design is the separate `dcgan_inpaint`, SPEC §1.1).

Generator (R-576 `Generator`): z [100] -> Dense 8192 -> Reshape 4x4x512 -> BN(scale=False) -> ReLU ->
  ConvT 5x5/2 256 -> 128 -> 64, each BN(scale=False) -> ReLU; ConvT 5x5/2 3, tanh -> 64x64x3.
  5,136,323 parameters (5,134,403 trainable).
Discriminator (R-576 `Discriminator`): Conv 5x5/2 64 -> LeakyReLU(0.2); Conv 5x5/2 128, 256, 512, each
  BN(scale=False) -> LeakyReLU(0.2); Flatten 8192; Dense 1 = logits (the sigmoid is in the BCE loss).
  4,317,441 parameters (4,315,649 trainable).

Value range [-1, 1] (x / 127.5 - 1). Every layer is named after its row.
"""
from __future__ import annotations

import keras
from keras import layers

from keras_inpaint.precision import OUTPUT_DTYPE

LATENT_DIM = 100


def build_dcgan_generator(latent_dim: int = LATENT_DIM, synchronized: bool = False) -> keras.Model:
    """R-576 generator, 5,136,323 parameters: float32 z `[N, latent_dim]` in [-1, 1] -> `[N, 64, 64, 3]` (tanh)."""
    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(4 * 4 * 512, name="project")(z)
    x = layers.Reshape((4, 4, 512), name="project_reshape")(x)
    x = layers.BatchNormalization(scale=False, synchronized=synchronized, name="project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    for i, f in enumerate((256, 128, 64), start=1):
        x = layers.Conv2DTranspose(f, 5, strides=2, padding="same", name=f"deconv{i}")(x)
        x = layers.BatchNormalization(scale=False, synchronized=synchronized, name=f"deconv{i}_bn")(x)
        x = layers.ReLU(name=f"deconv{i}_relu")(x)
    x = layers.Conv2DTranspose(3, 5, strides=2, padding="same", activation="tanh", name="image", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(z, x, name="dcgan_generator")


def build_dcgan_discriminator(input_shape, synchronized: bool = False, bn_scale: bool = False,
                              output_name: str = "logits", name: str = "dcgan_discriminator") -> keras.Model:
    """R-576 discriminator, 4,317,441 parameters: `[N, 64, 64, 3]` in [-1, 1] -> raw score `[N, 1]` (linear).

    Conv 5x5/2 64 -> LeakyReLU(0.2); Conv 5x5/2 128, 256, 512, each BN -> LeakyReLU(0.2); Flatten 8192; Dense 1.
    R-576 uses BN(scale=False) and reads the output as logits. `lsgan` (spec/models.md §7) uses the same
    topology with `bn_scale=True` and a least-squares score (4,318,337 parameters).
    """
    x_in = keras.Input(input_shape, name="image")
    x = layers.Conv2D(64, 5, strides=2, padding="same", name="conv1")(x_in)
    x = layers.LeakyReLU(0.2, name="conv1_lrelu")(x)
    for i, f in enumerate((128, 256, 512), start=2):
        x = layers.Conv2D(f, 5, strides=2, padding="same", name=f"conv{i}")(x)
        x = layers.BatchNormalization(scale=bn_scale, synchronized=synchronized, name=f"conv{i}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1, name=output_name, dtype=OUTPUT_DTYPE)(x)
    return keras.Model(x_in, x, name=name)
