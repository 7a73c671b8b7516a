"""Image-quality metrics with the conventions of SPEC §3.

Conventions (every function here):
  * inputs are float images in [0, 1] `[N, H, W, C]` (RGB or gray); predictions are first clipped and rounded
    to the 256 uint8 levels (`quantize`), as a saved PNG would be, so reported numbers match exported images;
  * PSNR is in dB with peak 1.0 (`tf.image.psnr`; an exact match scores `MAX_PSNR`, 100 dB), SSIM is `tf.image.ssim` with its defaults (Gaussian 11x11,
    sigma 1.5), always on whole images;
  * every function returns per-image values `[N]`; callers average over the test set;
  * "hole" metrics (Pathak et al. 2016, seed 000's reference [7]) look only at pixels where the mask is 1:
    mean L1, mean L2 (MSE) in [0, 1] units, and PSNR of that MSE.
"""
from __future__ import annotations

import tensorflow as tf


def quantize(images: tf.Tensor) -> tf.Tensor:
    """Clips float images to [0, 1] and rounds them to uint8 levels (k / 255); float32 out."""
    return tf.round(tf.clip_by_value(tf.cast(images, tf.float32), 0.0, 1.0) * 255.0) / 255.0


MAX_PSNR = 100.0  # dB: the PSNR of an exact match (MSE 0), = 10*log10(1 / 1e-10), `hole_metrics`' MSE floor


def psnr(prediction: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Whole-image PSNR in dB, `[N]`; prediction quantized to uint8 levels, peak 1.0. An exact match scores
    `MAX_PSNR` (100 dB) instead of inf, so a test-set mean stays finite (e.g. a white box that fell on plain
    black Fashion-MNIST background, restored exactly and pasted back)."""
    return tf.minimum(tf.image.psnr(quantize(prediction), tf.cast(target, tf.float32), max_val=1.0), MAX_PSNR)


def ssim(prediction: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Whole-image SSIM (Gaussian 11x11, sigma 1.5), `[N]`; prediction quantized; images must be >= 11x11."""
    return tf.image.ssim(quantize(prediction), tf.cast(target, tf.float32), max_val=1.0)


def hole_metrics(prediction: tf.Tensor, target: tf.Tensor, mask: tf.Tensor) -> dict[str, tf.Tensor]:
    """Pathak et al.'s hole measures over the pixels where `mask` == 1, per image.

    Args:
      prediction, target: float `[N, H, W, C]` in [0, 1] (prediction quantized here).
      mask: float32 `[N, H, W, 1]`, 1.0 = hole.
    Returns:
      dict of `[N]` float32: `hole_l1` (mean |error|), `hole_l2` (mean squared error), `hole_psnr` (dB,
      10*log10(1 / hole_l2)).
    """
    p, t = quantize(prediction), tf.cast(target, tf.float32)
    m = tf.cast(mask, tf.float32)
    count = tf.reduce_sum(tf.broadcast_to(m, tf.shape(p)), axis=[1, 2, 3])
    l1 = tf.math.divide_no_nan(tf.reduce_sum(tf.abs(p - t) * m, axis=[1, 2, 3]), count)
    l2 = tf.math.divide_no_nan(tf.reduce_sum(tf.square(p - t) * m, axis=[1, 2, 3]), count)
    hole_psnr = 10.0 * tf.math.log(1.0 / tf.maximum(l2, 1e-10)) / tf.math.log(10.0)
    return {"hole_l1": l1, "hole_l2": l2, "hole_psnr": hole_psnr}


def inpainting_metrics(restored: tf.Tensor, target: tf.Tensor, mask: tf.Tensor) -> dict[str, tf.Tensor]:
    """SPEC §3 inpainting report: whole-image `psnr`/`ssim` after paste-back plus the hole metrics, per image `[N]`."""
    out = {"psnr": psnr(restored, target), "ssim": ssim(restored, target)}
    out.update(hole_metrics(restored, target, mask))
    return out


# ---------------------------------------------------------------------------------------------------------
# Super-resolution (SPEC §3): BT.601 Y channel, studio range, `scale` pixels shaved from each border.
# ---------------------------------------------------------------------------------------------------------
# MATLAB `rgb2ycbcr` luma row for R, G, B in [0, 1]: Y = 16 + 65.481 R + 128.553 G + 24.966 B (in 0..255).
_BT601_Y = (65.481, 128.553, 24.966)


def rgb_to_y(images: tf.Tensor) -> tf.Tensor:
    """BT.601 luma in the 16-235 studio range, as MATLAB `rgb2ycbcr` on uint8 images, `[N, H, W, 1]`.

    Args:
      images: float `[N, H, W, 3]` RGB in [0, 1] (quantized to uint8 levels first), or `[N, H, W, 1]` gray,
        returned unchanged (quantized), the usual convention for gray benchmark images.
    Returns:
      float32 `[N, H, W, 1]`: `round(16 + 65.481 R + 128.553 G + 24.966 B) / 255`, i.e. values k/255 with
      k in 16..235, exactly the uint8 Y plane MATLAB's `rgb2ycbcr` returns for a uint8 image, divided by 255.
    Raises:
      ValueError: the channel count is not 1 or 3.
    """
    channels = images.shape[-1]
    if channels == 1:
        return quantize(images)
    if channels != 3:
        raise ValueError(f"rgb_to_y needs 1 or 3 channels, got {channels}")
    # uint8 levels as exact integers, then MATLAB's double arithmetic and rounding to uint8.
    levels = tf.round(tf.clip_by_value(tf.cast(images, tf.float64), 0.0, 1.0) * 255.0)
    y = 16.0 + tf.reduce_sum(levels * tf.constant(_BT601_Y, tf.float64), axis=-1, keepdims=True) / 255.0
    return tf.cast(tf.round(y) / 255.0, tf.float32)


def shave(images: tf.Tensor, border: int) -> tf.Tensor:
    """Removes `border` pixels from each side of `[N, H, W, C]` images (the SR evaluation convention)."""
    if border <= 0:
        return images
    return images[:, border:-border, border:-border, :]


def super_resolution_metrics(prediction: tf.Tensor, target: tf.Tensor, scale: int) -> dict[str, tf.Tensor]:
    """SPEC §3 super-resolution report, per image `[N]`.

    Args:
      prediction, target: float `[N, H, W, 3]` RGB in [0, 1] (prediction quantized to uint8 levels here).
      scale: the up-sampling factor; `scale` pixels are shaved from each border before every measure.
    Returns:
      `psnr_y` (dB) and `ssim_y` on the BT.601 Y channel (`rgb_to_y`, peak 1.0 = 255 levels) and `psnr_rgb`
      (dB, all three channels, same shaved region).
    """
    p, t = shave(quantize(prediction), scale), shave(tf.cast(target, tf.float32), scale)
    py, ty = rgb_to_y(p), rgb_to_y(t)
    return {"psnr_y": tf.image.psnr(py, ty, max_val=1.0), "ssim_y": tf.image.ssim(py, ty, max_val=1.0),
            "psnr_rgb": tf.image.psnr(p, t, max_val=1.0)}


def beats_baseline(results: dict, task) -> bool:
    """True when the model is better than the task's baseline, and each of its `extra_baselines` (issue 37: the
    classical inpainting methods), on every metric of `task.report` that has that baseline, on the test split and
    on every benchmark folder in `results["benchmarks"]` (PSNR/SSIM higher, L1/L2 lower). False when nothing
    could be compared."""
    compared = False
    prefixes = ["baseline_"] + [f"baseline_{name}_" for name, _ in task.extra_baselines]
    for scores in [results, *(results.get("benchmarks") or {}).values()]:
        for key, _ in task.report:
            for prefix in prefixes:
                if key in scores and f"{prefix}{key}" in scores:
                    compared = True
                    lower_is_better = key.endswith(("_l1", "_l2"))
                    model, base = scores[key], scores[f"{prefix}{key}"]
                    if (model >= base) if lower_is_better else (model <= base):
                        return False
    return compared
