"""`ffdnet_inpaint`: free-form hole filling in photos as spatially variant restoration (issue 37).

Design: FFDNet (Zhang, Zuo, Zhang, "FFDNet: Toward a Fast and Flexible Solution for CNN-Based Image Denoising",
IEEE TIP 2018, §III-A and Fig. 1) takes, beside the degraded image, a map of how degraded each pixel is (its noise
level map, §III), which it argues lets one network handle spatially variant degradations. A hole is
the extreme case: inside it the "noise" is unbounded, outside it zero. So here FFDNet's layers (its reversible
downsampling, a plain stack of 3x3 convolutions at half resolution, the pixel shuffle back) restore a photo whose
hole was first filled smoothly from its border, with the mask as the degradation map:

  input    the photo in [0, 1] with its hole set to 0, and the mask (1.0 = hole, SPEC §2): float32 [N, H, W, 4],
           H, W even (`tasks.run_padded` pads other sizes)
  prefill  `SmoothFill` (lama_ffc's pull-push membrane fill, `keras_inpaint.models.lama.network`): F [N, H, W, 3]
  body     `ffdnet_body(F, mask)` (`keras_inpaint.models.ffdnet.network`): pixel unshuffle of F (12 channels) and
           the mask average-pooled to H/2 (1 channel) -> Conv 3x3 64 + LeakyReLU -> 10 x [Conv 3x3 64 (bias) +
           LeakyReLU] -> Conv 3x3 12 (zero-initialised) -> pixel shuffle: a residual R [N, H, W, 3]
  output   clip(F + R, 0, 1), the known pixels pasted back (SPEC §2), float32.

With depth 12 and width 64: 383,756 parameters (the entry's `params`). The receptive field is 25 pixels at half
resolution (50 at full), so R adds edges and texture near the hole's border and inside thin strokes; the centre
of a hole wider than ~50 pixels keeps the fill.

Differences from FFDNet, each measured on this project's CPU budget (issue 37, README "Photo inpainting"): the
colour FFDNet's 12 layers at the grayscale model's width (64, not 96: 2.25x fewer operations); no BatchNorm
(whose batch statistics differ between strokes and boxes, and the moving averages would need re-estimating);
LeakyReLU (slope 0.1) in place of ReLU: with ReLU the residual "died" in training (every unit inactive, output ==
fill); the residual form (as this project's `ffdnet`, whose module docstring gives the paper's comparison with
DnCNN's residual learning) with a zero-initialised last layer, so an untrained network outputs F exactly and
training only adds what the fill lacks.
"""
from __future__ import annotations

import keras
from keras import layers

from keras_inpaint.models.ffdnet.network import SCALE, ffdnet_body
from keras_inpaint.models.free_form.network import PasteBack
from keras_inpaint.models.lama.network import SmoothFill
from keras_inpaint.precision import OUTPUT_DTYPE

DEPTH = 12      # colour FFDNet's 12 convolution layers (§IV-A)
WIDTH = 64      # grayscale FFDNet's width (§IV-A; the colour model's is 96)
MULTIPLE = SCALE   # H and W must be even (the reversible downsampling)


def build_ffdnet_inpaint(depth: int = DEPTH, width: int = WIDTH, channels: int = 3) -> keras.Model:
    """The FFDNet-on-a-fill inpainter (module docstring), fully convolutional.

    Input: float32 `[N, H, W, C + 1]`, channels 0..C-1 the image in [0, 1] with the hole set to 0, the last the
    mask (1.0 = hole); H, W even. Output: float32 `[N, H, W, C]` in [0, 1], the prediction pasted into the hole
    (known pixels unchanged). Untrained (zero-initialised last layer): `SmoothFill`'s fill.

    Raises:
      ValueError: depth < 3 (`ffdnet_body`).
    """
    x_in = keras.Input((None, None, channels + 1), name="masked_image_and_mask")
    fill = SmoothFill(name="smooth_fill")(x_in)
    mask = layers.Lambda(lambda t: t[..., -1:], name="mask", dtype="float32")(x_in)
    residual = ffdnet_body(fill, mask, depth=depth, width=width, batch_norm=False, activation="leaky_relu",
                           zero_tail=True)
    x = layers.Add(name="fill_plus_residual", dtype=OUTPUT_DTYPE)([fill, residual])
    x = layers.ReLU(max_value=1.0, name="clip", dtype=OUTPUT_DTYPE)(x)        # clip to [0, 1]
    out = PasteBack(name="paste_back", dtype=OUTPUT_DTYPE)([x_in, x])
    return keras.Model(x_in, out, name="ffdnet_inpaint")
