"""FFDNet: the fast and flexible colour Gaussian denoiser of Zhang, Zuo and Zhang (IEEE TIP 27(9), 2018).

Architecture (paper §III-A and Fig. 1; §IV-A "the number of convolution layers is set to 15 for grayscale image
and 12 for color image, and the channels of feature maps are set to 64 for grayscale image and 96 for color
image"), for a C-channel image (C = 3 here):

  noisy image y [H, W, C] -> reversible downsampling (pixel unshuffle by 2) -> 4C sub-images [H/2, W/2, 4C]
  noise level map M [H/2, W/2, C] (sigma / 255 per channel; the original colour model's three-channel map)
  concat [H/2, W/2, 5C] -> Conv 3x3 96 + ReLU
                        -> (depth - 2) x [Conv 3x3 96 (no bias) + BatchNorm + ReLU]
                        -> Conv 3x3 4C (linear)
                        -> pixel shuffle by 2 (the inverse of the downsampling) -> the clean image [H, W, C].

Output: the paper's FFDNet predicts the clean sub-images directly; its §III-B compares this with DnCNN's residual
learning (predicting the noise and subtracting it) and reports the two reaching the same accuracy. Here
`residual=True` (the default) subtracts the network's output from the noisy input, so that an untrained network
starts from the noisy photo instead of from zero: on this project's short CPU schedule (issue 31) the direct form
scored 18.7 dB on CBSD68 crops after 250 iterations (worse than the noisy input), which is why the residual form
is the default; `residual=False` is the paper's direct prediction. The layer table and the parameter count are
the same either way.
Initialisation: He (Kaiming) normal for every convolution (He et al. 2015, the DnCNN/FFDNet practice for ReLU
networks), the last one at a tenth of that standard deviation. With Keras' default (Glorot) or full-scale He
initialisation, the BatchNorm layers (batch statistics in training) make the untrained residual a field of
standard deviation ~0.7 (MSE ~0.2, 7x the noise itself), and the first few hundred Adam steps (1e-3) only undo it:
measured on 50x50 BSDS500 patches, batch 32, the training MSE was still at the noisy input's (0.029) after 300
steps, against 0.0127 with the last layer scaled down.
Parameter count of the colour network (C = 3, depth 12, width 96): 13,056 (head, with bias) + 10 x (82,944 conv
+ 384 BatchNorm incl. moving statistics) + 10,380 (tail, with bias) = 856,716 (the entry's `params`).

Input of the Keras network (one tensor, so that every export signature stays single-input): float32
`[N, H, W, 2C]` = the noisy image in [0, 1] (not clipped: the papers' protocol adds noise to the float image)
concatenated with the full-resolution noise level map sigma/255 (`make_input`); H and W even (callers pad with
`tasks.base.run_padded(multiple=2)`). The map is average-pooled to H/2 x W/2 inside the network, which for a
uniform map is exactly FFDNet's downsampled map and for a spatially variant map its local mean.
Output: float32 `[N, H, W, C]` in [0, 1] (not clipped).
"""
from __future__ import annotations

import keras
from keras import layers

from keras_inpaint.models.layers import PixelShuffle, PixelUnshuffle
from keras_inpaint.precision import OUTPUT_DTYPE

SCALE = 2          # the reversible downsampling factor (paper §III-A)
DEPTH = 12         # colour FFDNet: 12 convolution layers (§IV-A)
WIDTH = 96         # colour FFDNet: 96 feature maps (§IV-A)


def ffdnet_body(image, level_map, depth: int = DEPTH, width: int = WIDTH, batch_norm: bool = True,
                activation: str = "relu", zero_tail: bool = False):
    """FFDNet's layers from the reversible downsampling to the pixel shuffle (module docstring table), on Keras
    tensors: `image` float `[N, H, W, C]` (H, W even) and `level_map` float `[N, H, W, K]`, the per-pixel map of
    the degradation's strength (FFDNet: sigma/255; average-pooled to H/2 x W/2) -> float32 `[N, H, W, C]` (the
    network's estimate, not clipped). Shared by `build_ffdnet` and `ffdnet_inpaint`
    (`keras_inpaint.models.ffdnet_inpaint`), whose variations are the arguments:

      batch_norm: the middle layers' BatchNorm (FFDNet) or none (their convolutions then have a bias).
      activation: "relu" (FFDNet) or "leaky_relu" (slope 0.1).
      zero_tail: the last convolution zero-initialised (the network starts at an output of 0) instead of at a
        tenth of He's standard deviation.

    Raises:
      ValueError: depth < 3, or an activation other than "relu" or "leaky_relu".
    """
    if depth < 3:
        raise ValueError(f"FFDNet needs at least 3 convolution layers, got depth={depth}")
    if activation not in ("relu", "leaky_relu"):
        raise ValueError(f"activation must be 'relu' or 'leaky_relu', got {activation!r}")
    channels = image.shape[-1]
    x = layers.Concatenate(name="subimages_and_map")([
        PixelUnshuffle(SCALE, name="downsample")(image),
        layers.AveragePooling2D(SCALE, name="downsample_map")(level_map)])
    he = keras.initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal")

    def act(name):
        return layers.ReLU(name=name) if activation == "relu" else layers.LeakyReLU(0.1, name=name)

    x = act("relu1")(layers.Conv2D(width, 3, padding="same", kernel_initializer=he, name="conv1")(x))
    for i in range(2, depth):
        x = layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm, kernel_initializer=he, name=f"conv{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = act(f"relu{i}")(x)
    tail = ("zeros" if zero_tail else
            keras.initializers.VarianceScaling(2.0 / 100, "fan_in", "untruncated_normal"))   # He / 10 (std)
    x = layers.Conv2D(SCALE * SCALE * channels, 3, padding="same", kernel_initializer=tail, name=f"conv{depth}",
                      dtype=OUTPUT_DTYPE)(x)
    return PixelShuffle(SCALE, name="upsample", dtype=OUTPUT_DTYPE)(x)


def build_ffdnet(channels: int = 3, depth: int = DEPTH, width: int = WIDTH, residual: bool = True) -> keras.Model:
    """The FFDNet denoiser (module docstring; Zhang, Zuo, Zhang 2018, §III-A, §IV-A).

    Args:
      channels: C, 3 for colour (the paper's colour model: depth 12, width 96; grayscale: 1, 15, 64).
      depth: number of convolution layers (head + depth - 2 Conv-BN-ReLU + tail).
      width: feature maps of the hidden layers.
      residual: the network estimates the noise, subtracted from the noisy input in float32 (module docstring);
        False: it predicts the clean image (the paper's form).
    Returns:
      keras.Model float32 `[N, H, W, 2C]` (noisy image in [0, 1] | noise level map sigma/255), H and W even ->
      float32 `[N, H, W, C]`, the clean image in [0, 1] (not clipped). 856,716 parameters with the defaults.
    Raises:
      ValueError: depth < 3 (`ffdnet_body`).
    """
    inputs = keras.Input((None, None, 2 * channels), name="noisy_and_sigma")
    # float32 whatever the policy: the residual form subtracts from it at full precision
    noisy = layers.Lambda(lambda t: t[..., :channels], name="noisy", dtype=OUTPUT_DTYPE)(inputs)
    sigma_map = layers.Lambda(lambda t: t[..., channels:], name="sigma_map")(inputs)
    out = ffdnet_body(noisy, sigma_map, depth=depth, width=width)
    if residual:
        out = layers.Subtract(name="clean", dtype=OUTPUT_DTYPE)([noisy, out])
    return keras.Model(inputs, out, name="ffdnet")
