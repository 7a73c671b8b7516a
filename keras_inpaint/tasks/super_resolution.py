"""Super-resolution task (seed 003): bicubic degradation, any-size inference, Y-channel metrics."""
from __future__ import annotations

import tensorflow as tf

from keras_inpaint import corruptions, metrics
from keras_inpaint.data import to_model_range, to_uint8
from keras_inpaint.tasks.base import Task, check_range, rows_grid, run_padded


class SuperResolution(Task):
    """Seed 003: x`scale` single-image super-resolution of a bicubic-degraded image by a fully convolutional net.

    Training pair (seed 003 §5.2): target = the HR crop X in [0, 1] (120x120 for `sr_autoencoder`), input =
    `corruptions.bicubic_degrade(X, scale)` (down by 3 to 40x40 and back up to 120x120, bicubic). HR images
    whose sides are not multiples of `scale` are cropped to multiples first (top-left kept, "modcrop").
    The network runs on any size through `run_padded` (symmetric padding to a multiple of `multiple`).

    Metrics (SPEC §3, `metrics.super_resolution_metrics`): `psnr_y`, `ssim_y` on the BT.601 Y channel (16-235,
    MATLAB `rgb2ycbcr`) and `psnr_rgb`, all with `scale` pixels shaved from each border; baseline = the
    bicubic input on the same images.

    SavedModel `serving_default`: uint8 `images` `[N, h, w, 3]`, a LOW-resolution photo of any size ->
    uint8 `images` `[N, scale*h, scale*w, 3]` (bicubic up-sampling, symmetric padding to a multiple of 4, the
    network, crop back), plus uint8 `bicubic`, the plain bicubic up-sampling, for comparison.

    Args:
      image_shape: (H, W, C) of the HR training crops (120, 120, 3).
      scale: integer up-sampling factor (3).
      multiple: the network's size multiple (4: two 2x2 poolings).
      value_range: the network's range; must be (0, 1).
    """

    family = "super_resolution"
    any_size = True   # whole images of any size can be scored (benchmark folders, RunConfig.benchmarks)
    value_range = (0.0, 1.0)

    def __init__(self, image_shape=(120, 120, 3), scale: int = 3, multiple: int = 4, value_range=(0.0, 1.0)):
        check_range(type(self).__name__, value_range, (0.0, 1.0))
        self.image_shape = tuple(image_shape)
        self.scale = int(scale)
        self.multiple = int(multiple)
        self.report = (
            ("psnr_y", f"PSNR Y (BT.601 16-235), shave {self.scale} px (dB)"),
            ("ssim_y", f"SSIM Y (BT.601 16-235), shave {self.scale} px"),
            ("psnr_rgb", f"PSNR RGB, shave {self.scale} px (dB)"),
        )
        self.baseline_name = f"bicubic x{self.scale} (antialiased down, then up)"

    def _modcrop(self, images: tf.Tensor) -> tf.Tensor:
        h, w = images.shape[1], images.shape[2]
        if h is not None and w is not None:
            return images[:, :h - h % self.scale, :w - w % self.scale, :]
        shape = tf.shape(images)
        return images[:, :shape[1] - shape[1] % self.scale, :shape[2] - shape[2] % self.scale, :]

    def make_pair(self, images: tf.Tensor, seed=None):
        """uint8 HR `[N, H, W, C]` -> (bicubic-degraded input, HR target), float32 in [0, 1]. `seed` is unused
        (the degradation is deterministic) but accepted like every task's."""
        x = self._modcrop(to_model_range(images, self.value_range))
        return corruptions.bicubic_degrade(x, self.scale), x

    def restore(self, network, images: tf.Tensor, training: bool = False) -> dict[str, tf.Tensor]:
        """Degrades uint8 HR `images` and super-resolves them.

        Returns float32 tensors: `input` (bicubic, in [0, 1]), `prediction` (network output), `restored`
        (clipped to [0, 1]) and `target` (the modcropped HR image), all `[N, H', W', C]`.
        """
        lr_up, x = self.make_pair(images)
        out = run_padded(network, lr_up, self.multiple, training=training, builtin_ops=self.builtin_ops)
        return {"input": lr_up, "prediction": out, "restored": tf.clip_by_value(out, 0.0, 1.0), "target": x}

    def upscale(self, network, low_res: tf.Tensor) -> dict[str, tf.Tensor]:
        """float LR `[N, h, w, C]` in [0, 1] -> {`bicubic`, `restored`}, float32 `[N, scale*h, scale*w, C]`
        in [0, 1]."""
        bicubic = corruptions.bicubic_upscale(low_res, self.scale, builtin_ops=self.builtin_ops)
        out = run_padded(network, bicubic, self.multiple, builtin_ops=self.builtin_ops)
        return {"bicubic": bicubic, "restored": tf.clip_by_value(out, 0.0, 1.0)}

    def serve(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `serving_default`: uint8 LR `images` `[N, h, w, 3]` -> uint8 `images` and `bicubic`
        `[N, scale*h, scale*w, 3]`."""
        r = self.upscale(network, to_model_range(images, self.value_range))
        return {"images": to_uint8(r["restored"], self.value_range),
                "bicubic": to_uint8(r["bicubic"], self.value_range)}

    def serving_signatures(self):
        """{name: (function, input TensorSpecs)}: `serving_default` on LR uint8 images of any size."""
        spec = [tf.TensorSpec([None, None, None, self.image_shape[2]], tf.uint8, name="images")]
        return {"serving_default": (self.serve, spec)}

    def evaluate_batch(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per-image `psnr_y`, `ssim_y`, `psnr_rgb` `[N]` of the output and (prefix `baseline_`) of bicubic."""
        r = self.restore(network, images)
        out = metrics.super_resolution_metrics(r["restored"], r["target"], self.scale)
        base = metrics.super_resolution_metrics(r["input"], r["target"], self.scale)
        out.update({f"baseline_{k}": v for k, v in base.items()})
        return out

    def grid(self, network, images: tf.Tensor) -> tf.Tensor:
        """Image grid, uint8 `[1, N*H, 3*W, C]`: bicubic input | output | original (HR)."""
        r = self.restore(network, images)
        return rows_grid([to_uint8(r["input"], self.value_range), to_uint8(r["restored"], self.value_range),
                           to_uint8(r["target"], self.value_range)])
