"""Layers shared by several networks: the pixel (un)shuffle of sub-pixel convolution; the input-size check of
the networks with strided convolutions (`check_divisible`); and `BuiltinOpsLayer`, the declared capability of a
layer that can compute itself with the ops the ONNX / LiteRT converters have.

`PixelUnshuffle` (FFDNet's reversible downsampling) and `PixelShuffle` (FFDNet's inverse of it, and the sub-pixel
upsampler of the LR-space super-resolvers: ESPCN, Shi et al. 2016; IMDN, Hui et al. 2019) rearrange pixels and
channels without weights, in the channel order of `tf.nn.space_to_depth` / `tf.nn.depth_to_space`. They are
registered Keras serializables under `keras_inpaint>PixelShuffle` / `keras_inpaint>PixelUnshuffle`.
"""
from __future__ import annotations

import keras
from keras import layers, ops


class BuiltinOpsLayer(layers.Layer):
    """A layer whose op has no ONNX / LiteRT conversion and that can compute the same result (within float32
    rounding) from ops both converters have when its `builtin_ops` is True (e.g. `lama_ffc`'s real FFTs as DFT
    matrix products). `keras_inpaint.portable` sets it on every such layer of the network it converts, as it
    sets `Task.builtin_ops` on the task; False for training and SavedModels."""

    builtin_ops = False


def check_divisible(input_shape, divisor: int, why: str) -> None:
    """Raises ValueError ("input HxW must be divisible by `divisor` (`why`)") when a static H or W of `input_shape`
    (H, W, C; None = any size) is not a multiple of `divisor`."""
    h, w = input_shape[0], input_shape[1]
    if any(s is not None and s % divisor for s in (h, w)):
        raise ValueError(f"input {h}x{w} must be divisible by {divisor} ({why})")


def _rearrange(x, factor: int, down: bool):
    """Pixel unshuffle (`down`: `[N, H, W, C]` -> `[N, H/f, W/f, f*f*C]`) or its inverse, in the channel order of
    `tf.nn.space_to_depth` / `depth_to_space`: channel (dy * f + dx) * C + c. The swap of the two middle axes is
    its own inverse, so both directions are one reshape, that swap and one reshape."""
    f = factor
    shape = ops.shape(x)
    n, h, w, c = shape[0], shape[1], shape[2], x.shape[-1]
    if down:
        x = ops.reshape(x, (n, h // f, f, w // f, f, c))
        return ops.reshape(ops.transpose(x, (0, 1, 3, 2, 4, 5)), (n, h // f, w // f, f * f * c))
    x = ops.reshape(x, (n, h, w, f, f, c // (f * f)))
    return ops.reshape(ops.transpose(x, (0, 1, 3, 2, 4, 5)), (n, h * f, w * f, c // (f * f)))


class _PixelRearrange(layers.Layer):
    """What `PixelUnshuffle` and `PixelShuffle` share: the integer `factor` f and its config."""

    def __init__(self, factor: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="keras_inpaint")
class PixelUnshuffle(_PixelRearrange):
    """Reversible downsampling (FFDNet §III-A; `tf.nn.space_to_depth` order): `[N, H, W, C]` -> `[N, H/f, W/f,
    f*f*C]`, channel index (dy * f + dx) * C + c. H and W must be multiples of `factor`."""

    def call(self, x):
        return _rearrange(x, self.factor, down=True)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        f = self.factor
        return (n, None if h is None else h // f, None if w is None else w // f, c * f * f)


@keras.saving.register_keras_serializable(package="keras_inpaint")
class PixelShuffle(_PixelRearrange):
    """The inverse of `PixelUnshuffle` (sub-pixel upsampling, `tf.nn.depth_to_space` order): `[N, h, w, f*f*C]`
    -> `[N, f*h, f*w, C]`, output pixel (f*y + dy, f*x + dx) channel c = input channel (dy * f + dx) * C + c."""

    def call(self, x):
        return _rearrange(x, self.factor, down=False)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        f = self.factor
        return (n, None if h is None else h * f, None if w is None else w * f, c // (f * f))
