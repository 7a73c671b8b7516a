"""IMDN: the information multi-distillation network of Hui, Gao, Yang and Wang, "Lightweight Image Super-Resolution
with Information Multi-distillation Network", ACM Multimedia 2019 (arXiv:1909.11856), for x2, x3 and x4.

The network works in low-resolution (LR) space and upsamples once at the end (paper §3.1, Fig. 2); the
information multi-distillation block (IMDB) is §3.2 and Fig. 3, its contrast-aware channel attention (CCA) §3.2.2.
Layer sizes as the paper describes them and as the authors' code builds them (github.com/Zheng222/IMDN,
`model/architecture.py` `IMDN`, `model/block.py` `IMDModule`, `CCALayer`, `pixelshuffle_block`; read for the
facts, not copied):

  LR image [h, w, 3] -> features: Conv 3x3 64                                                     (F_0)
  -> 6 x IMDB (64 channels, distillation rate 1/4: 16 channels kept, 48 refined at each step):
       Conv 3x3 64->64 + LReLU -> split 16 | 48;  Conv 3x3 48->64 + LReLU -> split 16 | 48;
       Conv 3x3 48->64 + LReLU -> split 16 | 48;  Conv 3x3 48->16;
       concat the four 16-channel parts (64) -> CCA -> Conv 1x1 64->64, + the block's input
     CCA (contrast-aware channel attention): per channel, (standard deviation + mean) over the whole map ->
       Conv 1x1 64->4 + ReLU -> Conv 1x1 4->64 + sigmoid -> rescales the 64 channels
  -> concat the six block outputs (384) -> Conv 1x1 384->64 + LReLU                                (fusion)
  -> Conv 3x3 64->64, + F_0 (the long skip in LR space)
  -> upsampler: Conv 3x3 64 -> 3 s^2, pixel shuffle by s -> the HR image [s h, s w, 3].
  LReLU: negative slope 0.05 (the authors' `activation('lrelu', neg_slope=0.05)`).

Parameter count (weights + biases; no normalisation layers), for scale s:
  features 3*64*9 + 64 = 1,792
  one IMDB: 36,928 (64->64) + 2 x 27,712 (48->64) + 6,928 (48->16) + 580 (CCA: 64*4+4 + 4*64+64) + 4,160 (1x1)
            = 104,020; six: 624,120
  fusion 384*64 + 64 = 24,640;  LR conv 64*64*9 + 64 = 36,928
  upsampler 64 * 3 s^2 * 9 + 3 s^2: x2 6,924, x3 15,579, x4 27,696
  total: x2 694,404, x3 703,059, x4 715,176 (the paper's Table 3: 694K, 703K, 715K).

Choices of this implementation (not in the paper): convolution weights are initialised like PyTorch's default
(uniform, bound 1/sqrt(fan_in): `VarianceScaling(1/3, fan_in, uniform)`), which the authors' code keeps, with zero
biases; the CCA statistics are computed in float32 under every policy, and the standard deviation is
sqrt(variance + 1e-12) so that a channel constant over a whole patch has a finite gradient (the authors'
`pow(0.5)` of 0 has none). The sub-pixel channel order is `tf.nn.depth_to_space`'s (`layers.PixelShuffle`), not
PyTorch's: a learned permutation of the upsampler's filters, which matters only for porting weights.

Input: float32 `[N, h, w, 3]`, the LR image in [0, 1], any h, w >= 1. Output: float32 `[N, s*h, s*w, 3]`, the HR
image in [0, 1] (not clipped). Under a mixed policy the body computes in bfloat16/float16, the upsampler and the
output in float32 (`precision.OUTPUT_DTYPE`). The CCA pools over the whole input, so the output of a pixel depends
a little on every pixel of the image: tiles of one photo agree with the whole-photo pass only approximately (see
`keras_inpaint.prediction`).
"""
from __future__ import annotations

import keras
from keras import layers, ops

from keras_inpaint.models.layers import PixelShuffle
from keras_inpaint.precision import OUTPUT_DTYPE

WIDTH = 64                 # feature channels (paper §4.1; the authors' nf = 64)
BLOCKS = 6                 # IMDBs (the authors' num_modules = 6)
DISTILLATION_RATE = 0.25   # §3.2.1: a quarter of the channels is distilled at each step
CCA_REDUCTION = 16         # CCA squeeze: 64 -> 4 -> 64 (the authors' CCALayer reduction = 16)
NEGATIVE_SLOPE = 0.05      # LReLU (the authors' activation('lrelu', neg_slope=0.05))
SCALES = (2, 3, 4)
STD_EPSILON = 1e-12        # CCA: sqrt(variance + eps) (module docstring)


@keras.saving.register_keras_serializable(package="keras_inpaint")
class ContrastStatistic(layers.Layer):
    """CCA's channel statistic (IMDN §3.2.2): per image and channel, the standard deviation plus the mean of the
    feature map over all of its pixels, `[N, H, W, C]` -> `[N, 1, 1, C]`, computed in float32 and returned in
    the layer's compute dtype. Standard deviation: the population one, sqrt(mean((x - mean)^2) + 1e-12)."""

    def call(self, x):
        x = ops.cast(x, "float32")
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        variance = ops.mean(ops.square(x - mean), axis=(1, 2), keepdims=True)
        return ops.cast(ops.sqrt(variance + STD_EPSILON) + mean, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, 1, input_shape[-1])


def _conv(filters: int, kernel: int, name: str, **kwargs) -> layers.Conv2D:
    init = keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")   # PyTorch's default conv init
    return layers.Conv2D(filters, kernel, padding="same", kernel_initializer=init, name=name, **kwargs)


def _imdb(x, name: str, width: int = WIDTH):
    """One information multi-distillation block (§3.2, Fig. 3) on `x` `[N, h, w, width]`; same shape out."""
    distilled = int(width * DISTILLATION_RATE)     # 16 kept at each step, width - 16 = 48 refined
    parts, y = [], x
    for step in (1, 2, 3):
        y = _conv(width, 3, f"{name}_c{step}")(y)
        y = layers.LeakyReLU(NEGATIVE_SLOPE, name=f"{name}_lrelu{step}")(y)
        parts.append(layers.Lambda(lambda t: t[..., :distilled], name=f"{name}_distilled{step}")(y))
        y = layers.Lambda(lambda t: t[..., distilled:], name=f"{name}_remaining{step}")(y)
    parts.append(_conv(distilled, 3, f"{name}_c4")(y))
    y = layers.Concatenate(name=f"{name}_concat")(parts)                       # 4 x 16 = 64 channels
    # contrast-aware channel attention (§3.2.2)
    a = ContrastStatistic(name=f"{name}_cca_statistic")(y)
    a = _conv(width // CCA_REDUCTION, 1, f"{name}_cca_down", activation="relu")(a)
    a = _conv(width, 1, f"{name}_cca_up", activation="sigmoid")(a)
    y = layers.Multiply(name=f"{name}_cca")([y, a])
    y = _conv(width, 1, f"{name}_c5")(y)
    return layers.Add(name=f"{name}_residual")([y, x])


def build_imdn(scale: int = 3, width: int = WIDTH, blocks: int = BLOCKS, channels: int = 3) -> keras.Model:
    """The IMDN super-resolver for an integer `scale` (module docstring; Hui et al. 2019, §3, Figs. 2-3).

    Args:
      scale: 2, 3 or 4 (the paper's factors; the upsampler has 3 * scale^2 output channels).
      width: feature channels (64); blocks: number of IMDBs (6); channels: image channels (3, RGB).
    Returns:
      keras.Model float32 `[N, h, w, channels]` (LR, [0, 1]) -> float32 `[N, scale*h, scale*w, channels]` (HR,
      [0, 1], not clipped), named `imdn_x<scale>`: 694,404 / 703,059 / 715,176 parameters for x2 / x3 / x4
      (the entries' `params`). The layer names do not depend on the scale, so the weights of one scale load into
      another except the upsampler's (`upsampler_conv`).
    Raises:
      ValueError: a scale other than 2, 3, 4, or a width not divisible by 4 and by the CCA reduction.
    """
    if scale not in SCALES:
        raise ValueError(f"IMDN upscales by 2, 3 or 4, got scale={scale!r}")
    if width % 4 or width % CCA_REDUCTION:
        raise ValueError(f"IMDN's width must be a multiple of 4 and of {CCA_REDUCTION}, got {width}")
    inputs = keras.Input((None, None, channels), name="low_res")
    features = _conv(width, 3, "features")(inputs)
    x, outputs = features, []
    for i in range(1, blocks + 1):
        x = _imdb(x, f"imdb{i}", width)
        outputs.append(x)
    x = layers.Concatenate(name="blocks_concat")(outputs)
    x = _conv(width, 1, "fusion")(x)
    x = layers.LeakyReLU(NEGATIVE_SLOPE, name="fusion_lrelu")(x)
    x = _conv(width, 3, "lr_conv")(x)
    x = layers.Add(name="long_skip")([x, features])
    x = _conv(channels * scale * scale, 3, "upsampler_conv", dtype=OUTPUT_DTYPE)(x)
    out = PixelShuffle(scale, name="upsample", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(inputs, out, name=f"imdn_x{scale}")
