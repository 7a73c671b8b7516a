"""Seed 004 §2.2.3: the least-squares GAN face prior `lsgan` (z(100) -> 64x64x3), spec/models.md §7.

Generator (seed: "takes an input of 100 latent points", "Conv2D Transpose Layers", "Batch Normalization has been
applied", "Upsample 1024x4x4 to 64x64x3 ... 1024, 512, 256, 128"; table 2.1 "Conv2DT ... lrelu/drop"):

  z [100] -> Reshape 1x1x100 -> ConvT 4x4/1 valid 1024 -> 4x4x1024 -> ConvT 3x3/2 512 -> 8x8 -> 256 -> 16x16
  -> 128 -> 32x32, each ConvT -> BN -> LeakyReLU(0.2) -> Dropout(0.3); ConvT 3x3/2 3, tanh -> 64x64x3.
  7,844,611 parameters (7,840,771 trainable). Kernel 4 of the first row (1x1 -> 4x4), dropout 0.3, slope 0.2
  and tanh are spec proposals (004-e, 004-f).

Discriminator (seed: "4 Conv 2D Layers ... broken down step by step into a linear vector space of 8192 size";
the widths/kernels are the DCGAN proposal):

  Conv 5x5/2 64 -> LeakyReLU(0.2); Conv 5x5/2 128, 256, 512, each BN -> LeakyReLU(0.2); Flatten (4*4*512 =
  8192); Dense 1, linear (least-squares critic, Mao et al. 2017). 4,318,337 parameters (4,316,545 trainable).

Value range [-1, 1] ("normalized in the range of (-1, 1)"). Every layer is named after its row.
"""
from __future__ import annotations

import keras
from keras import layers

from keras_inpaint.precision import OUTPUT_DTYPE

from keras_inpaint.models.dcgan import network as dcgan

LATENT_DIM = 100


def build_lsgan_generator(latent_dim: int = LATENT_DIM, dropout: float = 0.3, synchronized: bool = False
                          ) -> keras.Model:
    """z -> image generator of spec/models.md §7, 7,844,611 parameters.

    Input: float32 `[N, latent_dim]`, z ~ U(-1, 1). Output: float32 `[N, 64, 64, 3]` in (-1, 1) (tanh).

    Args:
      latent_dim: size of z (seed: 100).
      dropout: rate of the Dropout after each hidden ConvT (proposal 0.3; inactive at inference).
      synchronized: BatchNorm with cross-replica statistics (SPEC §5).
    """
    z = keras.Input((latent_dim,), name="z")
    x = layers.Reshape((1, 1, latent_dim), name="z_reshape")(z)
    specs = ((1024, 4, 1, "valid"), (512, 3, 2, "same"), (256, 3, 2, "same"), (128, 3, 2, "same"))
    for i, (filters, kernel, stride, padding) in enumerate(specs, start=1):
        x = layers.Conv2DTranspose(filters, kernel, strides=stride, padding=padding, name=f"deconv{i}")(x)
        x = layers.BatchNormalization(synchronized=synchronized, name=f"deconv{i}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"deconv{i}_lrelu")(x)
        x = layers.Dropout(dropout, name=f"deconv{i}_dropout")(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="tanh", name="image", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(z, x, name="lsgan_generator")


def build_lsgan_discriminator(input_shape, synchronized: bool = False) -> keras.Model:
    """Least-squares critic of spec/models.md §7, 4,318,337 parameters.

    Input: float32 `[N, 64, 64, 3]` in [-1, 1]. Output: float32 `[N, 1]`, an unbounded (linear) score; the LSGAN
    0-1 coding scores real images 1 and generated images 0. The topology is the DCGAN discriminator's (the
    spec's proposal), with BN scale on: `dcgan.build_dcgan_discriminator(bn_scale=True)`.
    """
    return dcgan.build_dcgan_discriminator(input_shape, synchronized=synchronized, bn_scale=True,
                                           output_name="score", name="lsgan_discriminator")
