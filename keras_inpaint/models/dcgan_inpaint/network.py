"""Seed 001 (text): the conditional, fully convolutional DCGAN inpainter `dcgan_inpaint` (SPEC §1.1).

The seed's text (not its code, which is the separate `dcgan` z -> image prior) describes an image-to-image
DCGAN: the corrupted 64x64x3 face goes in, the repaired 64x64x3 face comes out; "The pooling layer is
eliminated" (strided conv down, transposed conv up); "batch normalization for each layer after convolution
before activation"; "Delete the dense layer" / "Delete the flatten layer" (fully convolutional); LeakyReLU in
the generator with a tanh output, ReLU in the discriminator ("judge network") with a sigmoid output.
The layer widths are SPEC §1.1's proposal (pix2pix/DCGAN 4x4 stride-2 convolutions, 64 -> 512 filters):

  G: Conv 4x4/2 64 (no BN) -> Conv 4x4/2 128 -> 256 -> 512 (4x4x512 at 64x64), each BN -> LeakyReLU(0.2);
     ConvT 4x4/2 256 -> 128 -> 64, each BN -> LeakyReLU(0.2); ConvT 4x4/2 3, tanh.
     5,517,955 parameters (5,515,267 trainable) -- computed here, SPEC gives no count.
  D: Conv 4x4/2 64 (no BN) -> Conv 4x4/2 128 -> 256 -> 512, each BN -> ReLU; Conv 4x4 valid 1 -> 1x1x1, sigmoid.
     2,768,321 parameters (2,766,529 trainable) -- computed here.

Every conv keeps its bias (as in the seed-000 and seed-001-code tables, whose counts include biases before BN).
Every layer is named after its row. Value range [-1, 1] ("divide each pixel by 255 multiply by 2 and subtract 1").
"""
from __future__ import annotations

import keras
from keras import layers

from keras_inpaint.models.layers import check_divisible
from keras_inpaint.precision import OUTPUT_DTYPE

def build_dcgan_inpaint_generator(input_shape, synchronized: bool = False) -> keras.Model:
    """Conditional generator of SPEC §1.1: corrupted image -> repaired image, 5,517,955 parameters.

    Input: float32 `[N, H, W, 3]` in [-1, 1], the image with its hole filled with 0 (H, W divisible by 16;
    64x64 in the seed; `input_shape=(None, None, 3)` builds the same weights for any such size).
    Output: float32 `[N, H, W, 3]` in (-1, 1) (tanh), the whole repaired image; the task pastes its hole
    region back into the input (SPEC §2).

    Args:
      input_shape: (H, W, C).
      synchronized: BatchNorm with cross-replica statistics (SPEC §5) for multi-replica strategies.
    Raises:
      ValueError: a static H or W not divisible by 16.
    """
    check_divisible(input_shape, 16, "four stride-2 convolutions")
    x_in = keras.Input(input_shape, name="masked_image")
    x = layers.Conv2D(64, 4, strides=2, padding="same", name="conv1")(x_in)
    x = layers.LeakyReLU(0.2, name="conv1_lrelu")(x)
    for i, f in enumerate((128, 256, 512), start=2):
        x = layers.Conv2D(f, 4, strides=2, padding="same", name=f"conv{i}")(x)
        x = layers.BatchNormalization(synchronized=synchronized, name=f"conv{i}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(x)
    for i, f in enumerate((256, 128, 64), start=1):
        x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", name=f"deconv{i}")(x)
        x = layers.BatchNormalization(synchronized=synchronized, name=f"deconv{i}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"deconv{i}_lrelu")(x)
    x = layers.Conv2DTranspose(input_shape[-1], 4, strides=2, padding="same", activation="tanh", name="image",
                               dtype=OUTPUT_DTYPE)(x)
    return keras.Model(x_in, x, name="dcgan_inpaint_generator")


def build_dcgan_inpaint_discriminator(input_shape, synchronized: bool = False) -> keras.Model:
    """Fully convolutional discriminator of SPEC §1.1, 2,768,321 parameters.

    Input: float32 `[N, 64, 64, 3]` in [-1, 1], a real image or a generated one. Output: float32
    `[N, 1, 1, 1]` in (0, 1) (sigmoid), the probability that the image is real (at other sizes divisible by
    16 the output is a `[N, H/16 - 3, W/16 - 3, 1]` patch map; losses average it per example).

    Args: as `build_dcgan_inpaint_generator`.
    """
    x_in = keras.Input(input_shape, name="image")
    x = layers.Conv2D(64, 4, strides=2, padding="same", name="conv1")(x_in)
    x = layers.ReLU(name="conv1_relu")(x)
    for i, f in enumerate((128, 256, 512), start=2):
        x = layers.Conv2D(f, 4, strides=2, padding="same", name=f"conv{i}")(x)
        x = layers.BatchNormalization(synchronized=synchronized, name=f"conv{i}_bn")(x)
        x = layers.ReLU(name=f"conv{i}_relu")(x)
    x = layers.Conv2D(1, 4, padding="valid", activation="sigmoid", name="score", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(x_in, x, name="dcgan_inpaint_discriminator")
