"""Super-resolution tasks: seed 003's (the network runs at the output size on a bicubic-upscaled input) and the
photo super-resolvers' (issue 32: the network runs in LR space and upsamples itself). Both share the bicubic
degradation, the modcrop, the Y-channel metrics (SPEC §3), the bicubic baseline and the uint8 serving signature."""
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
    any_size = True   # whole images of any size can be scored (benchmark folders, RunConfig.data.benchmarks)
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

    def low_res(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """uint8 HR `[N, H, W, C]` -> (the LR image `[N, H/s, W/s, C]`, the modcropped HR target `[N, H', W', C]`),
        float32 in [0, 1]: the HR image cropped to multiples of `scale`, then `corruptions.bicubic_downscale`
        (antialiased, rounded to uint8 levels), the one degradation of training, evaluation and the baseline."""
        x = self._modcrop(to_model_range(images, self.value_range))
        return corruptions.bicubic_downscale(x, self.scale), x

    def network_input(self, low_res: tf.Tensor) -> tf.Tensor:
        """What the network sees of an LR image `[N, h, w, C]`: seed 003's bicubic up-sampling to `[N, s*h, s*w, C]`
        (`corruptions.bicubic_upscale`)."""
        return corruptions.bicubic_upscale(low_res, self.scale, builtin_ops=self.builtin_ops)

    def super_resolve(self, network, low_res: tf.Tensor, training: bool = False) -> tf.Tensor:
        """float LR `[N, h, w, C]` in [0, 1] -> the network's HR estimate, float32 `[N, s*h, s*w, C]` (not clipped):
        the network on `network_input(low_res)`, padded to a multiple of `multiple` (`run_padded`)."""
        return run_padded(network, self.network_input(low_res), self.multiple, training=training,
                          builtin_ops=self.builtin_ops)

    def make_pair(self, images: tf.Tensor, seed=None):
        """uint8 HR `[N, H, W, C]` -> (network input, modcropped HR target), float32 in [0, 1]. `seed` is unused
        (the degradation is deterministic) but accepted like every task's."""
        low, x = self.low_res(images)
        return self.network_input(low), x

    def restore(self, network, images: tf.Tensor, training: bool = False) -> dict[str, tf.Tensor]:
        """Degrades uint8 HR `images` and super-resolves them.

        Returns float32 tensors: `input` (the bicubic up-sampled LR image: what the baseline scores and the grid
        shows), `prediction` (network output), `restored` (clipped to [0, 1]) and `target` (the modcropped HR
        image), all `[N, H', W', C]`, and `low_res` `[N, H'/s, W'/s, C]`.
        """
        low, x = self.low_res(images)
        out = self.super_resolve(network, low, training=training)
        return {"input": corruptions.bicubic_upscale(low, self.scale, builtin_ops=self.builtin_ops),
                "low_res": low, "prediction": out,
                "restored": tf.clip_by_value(out, 0.0, 1.0), "target": x}

    def upscale(self, network, low_res: tf.Tensor) -> dict[str, tf.Tensor]:
        """float LR `[N, h, w, C]` in [0, 1] -> {`bicubic`, `restored`}, float32 `[N, scale*h, scale*w, C]`
        in [0, 1]."""
        return {"bicubic": corruptions.bicubic_upscale(low_res, self.scale, builtin_ops=self.builtin_ops),
                "restored": tf.clip_by_value(self.super_resolve(network, low_res), 0.0, 1.0)}

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


class PhotoSuperResolution(SuperResolution):
    """x`scale` super-resolution of photos by a network that works in low-resolution space (issue 32; IMDN, Hui et
    al. 2019): the network takes the LR image itself and returns the HR image (sub-pixel upsampling inside).

    Training pair (`make_pair`): target = an HR patch X in [0, 1] (`data.patch_pipeline`: random 192x192 patches
    of the BSDS500 training photos, one of 8 flips / rotations), input = `corruptions.bicubic_downscale(X, scale)`
    (antialiased bicubic, rounded to uint8 levels), made in the graph: `[N, P/s, P/s, C]` -> `[N, P, P, C]`.

    Everything else is `SuperResolution`'s: evaluation on whole images of any size, batch 1 (SPEC §3: HR cropped to
    a multiple of `scale`, Y channel BT.601, `scale` pixels shaved, plus RGB PSNR; baseline = bicubic up-sampling
    of the same LR image), and the SavedModel `serving_default`: uint8 LR `images` `[N, h, w, 3]` of any size ->
    uint8 `images` and `bicubic` `[N, scale*h, scale*w, 3]`. The network is fully convolutional with no
    downsampling (`multiple` 1), so nothing is padded.

    Args:
      image_shape: (P, P, C) of the HR training patches; P a multiple of `scale`.
      scale: 2, 3 or 4.
      value_range: must be (0, 1).
    Raises:
      ValueError: another value range, or a patch side that is not a multiple of `scale`.
    """

    def __init__(self, image_shape=(192, 192, 3), scale: int = 3, value_range=(0.0, 1.0)):
        super().__init__(image_shape, scale=scale, multiple=1, value_range=value_range)
        if self.image_shape[0] % self.scale or self.image_shape[1] % self.scale:
            raise ValueError(f"the HR training patch {self.image_shape[:2]} must be a multiple of the scale "
                             f"{self.scale}")

    def network_input(self, low_res: tf.Tensor) -> tf.Tensor:
        """The network takes the LR image as it is."""
        return low_res

    def super_resolve(self, network, low_res: tf.Tensor, training: bool = False) -> tf.Tensor:
        """float LR `[N, h, w, C]` in [0, 1] -> the network's output, float32 `[N, s*h, s*w, C]` (not clipped)."""
        return network(low_res, training=training)
