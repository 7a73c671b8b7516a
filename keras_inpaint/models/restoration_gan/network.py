"""Seed 002's restoration GAN (`restoration_gan`): the deblur-gan ResNet generator and its critic.

Seed 002: "Die neue Struktur wurde von einem Open-Source-Projekt [7] zur Wiederherstellung verwischter Bilder
inspiriert und Teile des Codes angepasst übernommen" ([7] = RaphaelMeudec/deblur-gan, the Keras DeblurGAN of
Kupyn et al. 2018); "ResNet-Blöcke"; the image is first reduced by convolutions. Layer tables:
`shared/spec/models.md` §5 (R-DB `deblurgan/model.py`, `layer_utils.py`, ngf = ndf = 64, 9 ResBlocks), adapted
from 256 to 128 px. Every layer is named after its row.

  G (11,399,171 parameters, 11,388,675 trainable; independent of the image size): ReflectionPad 3 + Conv 7x7
    64 -> Conv 3x3/2 128 -> Conv 3x3/2 256 (BN + ReLU each) -> 9 x ResBlock [ReflPad 1, Conv 3x3 256, BN, ReLU,
    Dropout 0.5, ReflPad 1, Conv 3x3 256, BN, + identity] -> 2 x [UpSampling x2, Conv 3x3 128/64, BN, ReLU] ->
    ReflectionPad 3 + Conv 7x7 3, tanh -> global skip: (input + that) / 2.
  Critic (2,901,762 parameters at 128x128): Conv 4x4/2 64 LReLU -> Conv 4x4/2 64, 128, 256 (BN, LReLU 0.2) ->
    Conv 4x4/1 512 (BN, LReLU) -> Conv 4x4/1 1 -> Flatten -> Dense 1024 tanh -> Dense 1 sigmoid (R-DB; with the
    WGAN-GP variant of the DeblurGAN paper the last Dense is linear, same parameter count).

Value range [-1, 1] (R-DB `preprocess_image`: (x - 127.5) / 127.5).
"""
from __future__ import annotations

import keras
from keras import layers

from keras_inpaint.models.layers import check_divisible
from keras_inpaint.precision import OUTPUT_DTYPE

@keras.saving.register_keras_serializable(package="keras_inpaint")
class ReflectionPadding2D(layers.Layer):
    """Reflection padding of the two spatial axes of NHWC tensors (R-DB `layer_utils.ReflectionPadding2D`).

    Input float `[N, H, W, C]`; output `[N, H + 2p, W + 2p, C]` (p = `padding`, an int or (ph, pw)), padded
    with `mode="REFLECT"` (the border pixel is not repeated; requires p < H and p < W), or with
    `mode="symmetric"` (the border pixel repeated; requires p <= H and p <= W, so a 1-pixel map can be padded by
    1). No weights.
    """

    def __init__(self, padding=1, mode: str = "reflect", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("reflect", "symmetric"):
            raise ValueError(f"mode must be 'reflect' or 'symmetric', got {mode!r}")
        self.padding = (padding, padding) if isinstance(padding, int) else tuple(padding)
        self.mode = mode

    def call(self, x):
        ph, pw = self.padding
        return keras.ops.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]], mode=self.mode)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        ph, pw = self.padding
        return (n, None if h is None else h + 2 * ph, None if w is None else w + 2 * pw, c)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "mode": self.mode}


def _bn_relu(x, name, synchronized):
    x = layers.BatchNormalization(synchronized=synchronized, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _res_block(x, filters: int, name: str, dropout: float, synchronized: bool):
    """R-DB `res_block(use_dropout=True)`: two reflection-padded 3x3 convs with BN, ReLU + Dropout between."""
    y = ReflectionPadding2D(1, name=f"{name}_pad1")(x)
    y = layers.Conv2D(filters, 3, padding="valid", name=f"{name}_conv1")(y)
    y = _bn_relu(y, f"{name}_conv1", synchronized)
    y = layers.Dropout(dropout, name=f"{name}_dropout")(y)
    y = ReflectionPadding2D(1, name=f"{name}_pad2")(y)
    y = layers.Conv2D(filters, 3, padding="valid", name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(synchronized=synchronized, name=f"{name}_conv2_bn")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def build_restoration_generator(input_shape, n_blocks: int = 9, ngf: int = 64,
                                dropout: float = 0.5, synchronized: bool = False) -> keras.Model:
    """deblur-gan ResNet generator (spec/models.md §5): 11,399,171 parameters.

    Input: float32 `[N, H, W, 3]` in [-1, 1], a face with a white-rectangle artifact (H, W divisible by 4 and
    >= 8; 128x128 in the seed; `(None, None, 3)` builds the same weights for any such size).
    Output: float32 `[N, H, W, 3]` in (-1, 1): `(input + tanh(...)) / 2`, R-DB's global skip connection.

    Args:
      input_shape: (H, W, C).
      n_blocks: ResBlocks (R-DB `n_blocks_gen = 9`).
      ngf: filters of the first conv (R-DB 64); the bottleneck has 4 * ngf.
      dropout: rate inside each ResBlock (R-DB `use_dropout=True`, 0.5).
      synchronized: BatchNorm with cross-replica statistics (SPEC §5).
    Raises:
      ValueError: a static H or W not divisible by 4.
    """
    check_divisible(input_shape, 4, "two stride-2 convolutions")
    x_in = keras.Input(input_shape, name="corrupted_image")
    x = ReflectionPadding2D(3, name="conv_in_pad")(x_in)
    x = layers.Conv2D(ngf, 7, padding="valid", name="conv_in")(x)
    x = _bn_relu(x, "conv_in", synchronized)
    for i, mult in enumerate((2, 4), start=1):
        x = layers.Conv2D(ngf * mult, 3, strides=2, padding="same", name=f"down{i}")(x)
        x = _bn_relu(x, f"down{i}", synchronized)
    for i in range(1, n_blocks + 1):
        x = _res_block(x, ngf * 4, f"res{i}", dropout, synchronized)
    for i, mult in enumerate((2, 1), start=1):
        x = layers.UpSampling2D(2, name=f"up{i}_upsample")(x)
        x = layers.Conv2D(ngf * mult, 3, padding="same", name=f"up{i}")(x)
        x = _bn_relu(x, f"up{i}", synchronized)
    x = ReflectionPadding2D(3, name="conv_out_pad")(x)
    x = layers.Conv2D(input_shape[-1], 7, padding="valid", activation="tanh", name="conv_out", dtype=OUTPUT_DTYPE)(x)
    x = layers.Average(name="global_skip", dtype=OUTPUT_DTYPE)([x, x_in])  # R-DB: Add([x, inputs]) then Lambda(z / 2)
    return keras.Model(x_in, x, name="restoration_generator")


def build_restoration_critic(input_shape, ndf: int = 64, sigmoid_output: bool = True,
                             synchronized: bool = False) -> keras.Model:
    """deblur-gan discriminator (spec/models.md §5): 2,901,762 parameters at 128x128 (3,098,370 at 256x256).

    Input: float32 `[N, H, W, 3]` in [-1, 1], a clean or a restored face (static H, W divisible by 16).
    Output: float32 `[N, 1]`: in (0, 1) with `sigmoid_output=True` (R-DB, trained with its Wasserstein-style
    loss and no gradient penalty), else an unbounded critic score (the DeblurGAN paper's WGAN-GP critic).

    Args:
      input_shape: (H, W, C), static (the head is Flatten + Dense).
      ndf: filters of the first conv (R-DB 64); then ndf * min(2**n, 8) for n = 0, 1, 2 and ndf * 8.
      sigmoid_output: last Dense activation, sigmoid (True) or linear (False).
      synchronized: BatchNorm with cross-replica statistics (SPEC §5).
    """
    x_in = keras.Input(input_shape, name="image")
    x = layers.Conv2D(ndf, 4, strides=2, padding="same", name="conv1")(x_in)
    x = layers.LeakyReLU(0.2, name="conv1_lrelu")(x)
    for i, n in enumerate(range(3), start=2):
        x = layers.Conv2D(ndf * min(2 ** n, 8), 4, strides=2, padding="same", name=f"conv{i}")(x)
        x = layers.BatchNormalization(synchronized=synchronized, name=f"conv{i}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(x)
    x = layers.Conv2D(ndf * 8, 4, strides=1, padding="same", name="conv5")(x)
    x = layers.BatchNormalization(synchronized=synchronized, name="conv5_bn")(x)
    x = layers.LeakyReLU(0.2, name="conv5_lrelu")(x)
    x = layers.Conv2D(1, 4, strides=1, padding="same", name="conv6")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1024, activation="tanh", name="dense")(x)
    x = layers.Dense(1, activation="sigmoid" if sigmoid_output else None, name="score", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(x_in, x, name="restoration_critic")
