"""Photo denoising (issue 31): additive white Gaussian noise of a known or estimated level, removed by a network
that takes the noise level as an input (FFDNet, Zhang, Zuo, Zhang 2018), on photos of any size."""
from __future__ import annotations

import tensorflow as tf

from keras_inpaint import corruptions, metrics
from keras_inpaint.data import to_model_range, to_uint8
from keras_inpaint.tasks.base import (EVAL_SEED, Task, check_range, content_seed, rows_grid, run_padded,
                                     run_self_ensemble)

MAX_SIGMA = 255.0   # noise levels are on the 0-255 scale; the network's map holds sigma / 255


class GaussianDenoising(Task):
    """Non-blind colour Gaussian denoising of photos (FFDNet, §III and §IV-A).

    Training pair: a clean uint8 patch x (`data.patch_pipeline`), y = x/255 + (sigma/255) * N(0, 1), NOT clipped,
    with sigma ~ U(`noise_levels`) per patch ([0, 75] on the 0-255 scale: FFDNet's range), one model for every
    level. Network input: y concatenated with the noise level map sigma/255 (`network_input`), float32
    `[N, H, W, 2C]`; target: x in [0, 1].

    Evaluation (`evaluate_batch`, on whole photos, batch 1) at each `eval_levels` sigma (15, 25, 50), with a
    fixed noise draw per photo (a stateless seed from its pixels, the same N(0, 1) field at every sigma), under
    two protocols, each with the noisy input as the baseline:
      * the papers' (`psnr_s<sigma>`, `ssim_s<sigma>`): noise added to the float photo and not clipped, the
        network told the true sigma;
      * the user's (`psnr_s<sigma>_uint8`, `ssim_s<sigma>_uint8`): the noisy photo clipped and rounded to uint8,
        as a file holds it, then denoised exactly as the export's `serving_default` does (`serve`).
    RGB PSNR (dB, peak 1) and SSIM of the output rounded to uint8 (`keras_inpaint.metrics`), whole photo.

    SavedModel `serving_default` (`serve`): uint8 `images` `[N, H, W, 3]` of any size (already noisy) and float32
    `noise_level` `[N]` (sigma on the 0-255 scale) -> uint8 `images`, the denoised photos.

    Args:
      image_shape: (P, P, C), the training patch (FFDNet's colour patches: 50x50).
      noise_levels: (lo, hi) of the training sigma, 0-255 scale.
      eval_levels: the sigmas of the evaluation table.
      multiple: the network's size multiple (2: the reversible downsampling); other sizes are padded.
      value_range: must be (0, 1).
      self_ensemble: evaluation, export and prediction average the network over the 8 flips / 90-degree
        rotations of the noisy photo (`run_self_ensemble`; 8x the time; EDSR's "+" results); training sees one
        view. Both protocols use it when on.
    Raises:
      ValueError: another value range, or a negative / reversed noise range.
    """

    family = "restoration"
    any_size = True
    value_range = (0.0, 1.0)

    def __init__(self, image_shape=(50, 50, 3), noise_levels=(0.0, 75.0), eval_levels=(15, 25, 50),
                 multiple: int = 2, value_range=(0.0, 1.0), self_ensemble: bool = False):
        check_range(type(self).__name__, value_range, (0.0, 1.0))
        lo, hi = (float(v) for v in noise_levels)
        if not 0.0 <= lo <= hi:
            raise ValueError(f"noise_levels must satisfy 0 <= lo <= hi (0-255 scale), got {noise_levels!r}")
        self.image_shape = tuple(image_shape)
        self.noise_levels = (lo, hi)
        self.eval_levels = tuple(int(s) if float(s).is_integer() else float(s) for s in eval_levels)
        self.multiple = int(multiple)
        self.self_ensemble = bool(self_ensemble)
        self.report = tuple(
            item for s in self.eval_levels for item in (
                (f"psnr_s{s}", f"PSNR, sigma {s}, float noisy input (dB)"),
                (f"ssim_s{s}", f"SSIM, sigma {s}, float noisy input"),
                (f"psnr_s{s}_uint8", f"PSNR, sigma {s}, uint8 noisy file (dB)"),
                (f"ssim_s{s}_uint8", f"SSIM, sigma {s}, uint8 noisy file")))
        self.baseline_name = "the noisy input (no denoising)"

    # --- the network's input ---------------------------------------------------------------------------
    @staticmethod
    def network_input(noisy: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
        """float32 noisy photos `[N, H, W, C]` in [0, 1] (may exceed it) and sigma/255 (`[N, 1, 1, 1]`, or a map
        `[N, H, W, C]`) -> the network input `[N, H, W, 2C]` (photo | noise level map)."""
        noisy = tf.cast(noisy, tf.float32)
        return tf.concat([noisy, tf.broadcast_to(tf.cast(sigma, tf.float32), tf.shape(noisy))], axis=-1)

    def denoise(self, network, noisy: tf.Tensor, sigma: tf.Tensor, training: bool = False) -> tf.Tensor:
        """float32 noisy photos `[N, H, W, C]` (any H, W) with sigma/255 `[N, 1, 1, 1]` -> the network's clean
        estimate, float32 `[N, H, W, C]` (not clipped). Odd sizes are padded symmetrically (`run_padded`); outside
        training with `self_ensemble`, the mean over the 8 views (`run_self_ensemble`)."""
        run = run_self_ensemble if self.self_ensemble and not training else run_padded
        return run(network, self.network_input(noisy, sigma), self.multiple, training=training,
                   builtin_ops=self.builtin_ops)

    def make_pair(self, images: tf.Tensor, seed=None):
        """uint8 patches `[N, P, P, C]` -> (network input `[N, P, P, 2C]`, clean target `[N, P, P, C]` in
        [0, 1]); sigma ~ U(`noise_levels`) per patch, seeded by `seed` (None: derived from the pixels)."""
        x = to_model_range(images, self.value_range)
        seed = content_seed(images, EVAL_SEED + 1) if seed is None else seed
        noisy, sigma = corruptions.white_gaussian_noise(x, seed, self.noise_levels)
        return self.network_input(noisy, sigma), x

    # --- inference -------------------------------------------------------------------------------------
    def restore(self, network, images: tf.Tensor, training: bool = False, sigma: float | None = None, seed=None,
                as_file: bool = False) -> dict[str, tf.Tensor]:
        """Adds noise of level `sigma` (0-255; default the middle evaluation level, 25) to clean uint8 `images`
        and denoises them. `as_file`: the noisy photo is clipped and rounded to uint8 first (the user's protocol).

        Returns float32 `[N, H, W, C]`: `input` (noisy; unclipped unless `as_file`), `prediction` (network
        output), `restored` (clipped to [0, 1]).
        """
        sigma = self.eval_levels[len(self.eval_levels) // 2] if sigma is None else sigma
        x = to_model_range(images, self.value_range)
        seed = content_seed(images, EVAL_SEED) if seed is None else seed
        noisy, level = corruptions.white_gaussian_noise(x, seed, float(sigma))
        if as_file:
            noisy = metrics.quantize(noisy)
        out = self.denoise(network, noisy, level, training=training)
        return {"input": noisy, "prediction": out, "restored": tf.clip_by_value(out, 0.0, 1.0)}

    def serve(self, network, images: tf.Tensor, noise_level: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `serving_default`: uint8 noisy `images` `[N, H, W, C]` (any size) and float32 `noise_level`
        `[N]` (sigma, 0-255 scale) -> uint8 `images`, the denoised photos."""
        sigma = tf.reshape(tf.cast(noise_level, tf.float32), [-1, 1, 1, 1]) / MAX_SIGMA
        out = self.denoise(network, to_model_range(images, self.value_range), sigma)
        return {"images": to_uint8(out, self.value_range)}

    def serving_signatures(self):
        """{name: (function, input TensorSpecs)}: `serving_default` (images of any size, noise_level)."""
        images = tf.TensorSpec([None, None, None, self.image_shape[2]], tf.uint8, name="images")
        level = tf.TensorSpec([None], tf.float32, name="noise_level")
        return {"serving_default": (self.serve, [images, level])}

    # --- evaluation ------------------------------------------------------------------------------------
    def evaluate_batch(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per-photo metrics `[N]` of both protocols at every `eval_levels` sigma, and (prefix `baseline_`) of the
        noisy input (class docstring)."""
        target = tf.cast(images, tf.float32) / 255.0
        seed = content_seed(images, EVAL_SEED)
        out = {}
        for s in self.eval_levels:
            for suffix, as_file in (("", False), ("_uint8", True)):
                r = self.restore(network, images, sigma=s, seed=seed, as_file=as_file)
                for prefix, img in (("", r["restored"]), ("baseline_", r["input"])):
                    out[f"{prefix}psnr_s{s}{suffix}"] = metrics.psnr(img, target)
                    out[f"{prefix}ssim_s{s}{suffix}"] = metrics.ssim(img, target)
        return out

    def grid(self, network, images: tf.Tensor) -> tf.Tensor:
        """Image grid, uint8 `[1, N*H, 3*W, C]`: noisy input (sigma 25, as a file) | output | clean."""
        r = self.restore(network, images, as_file=True)
        return rows_grid([to_uint8(r["input"], self.value_range), to_uint8(r["restored"], self.value_range),
                          tf.cast(images, tf.uint8)])
