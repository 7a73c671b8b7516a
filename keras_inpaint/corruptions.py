"""Image corruptions: plain TensorFlow functions on batched NHWC tensors (SPEC §2).

Every function here works on a whole batch at once (vectorised, so it is cheap inside `tf.data.Dataset.map`
after `.batch()`), is deterministic given its `seed` (stateless RNG: a `[2]` int32/int64 tensor), and is used
unchanged by the training pipelines, by evaluation and inside exported SavedModels. There is one
implementation of each corruption in the project: this one.

Conventions (SPEC §2):
  * images are float32 `[N, H, W, C]` in the model's value range (see `keras_inpaint.data.to_model_range`);
  * a mask is float32 `[N, H, W, 1]` with **1.0 = missing (to be filled)** and **0.0 = known**;
  * paste-back keeps every known pixel exactly: `out = (1 - mask) * input + mask * prediction`.
"""
from __future__ import annotations

import tensorflow as tf


def centre_box(height: int, width: int, hole: int | tuple[int, int]) -> tuple[int, int, int, int]:
    """Returns `(top, left, hole_h, hole_w)` of a hole centred in an image of `height` x `width` pixels.

    Seed 000 §IV-A cuts "um quadrado de tamanho 16x16 no centro" of a 32x32 image: rows/cols 8..23, i.e.
    `centre_box(32, 32, 16) == (8, 8, 16, 16)`.

    Raises:
      ValueError: if the hole does not fit inside the image.
    """
    hh, hw = (hole, hole) if isinstance(hole, int) else hole
    if not (0 < hh <= height and 0 < hw <= width):
        raise ValueError(f"hole {hh}x{hw} does not fit in a {height}x{width} image")
    return (height - hh) // 2, (width - hw) // 2, hh, hw


def centre_mask(batch_size, height: int, width: int, hole: int | tuple[int, int]) -> tf.Tensor:
    """Centre-hole mask, float32 `[batch_size, height, width, 1]`, 1.0 inside the centred `hole` box.

    `batch_size` may be a Python int or a scalar tensor (e.g. `tf.shape(images)[0]`).
    """
    top, left, hh, hw = centre_box(height, width, hole)
    rows = tf.range(height)[:, None]
    cols = tf.range(width)[None, :]
    inside = (rows >= top) & (rows < top + hh) & (cols >= left) & (cols < left + hw)
    mask = tf.cast(inside, tf.float32)[None, :, :, None]
    return tf.tile(mask, tf.stack([batch_size, 1, 1, 1]))


def random_box_mask(shape, seed, min_area: float = 1 / 16, max_area: float = 1 / 4) -> tf.Tensor:
    """One random axis-aligned rectangle per image, float32 `[N, H, W, 1]` (1.0 = hole).

    The rectangle's area is drawn uniformly in `[min_area, max_area]` of the image and its aspect ratio
    log-uniformly in [1/2, 2] (clipped to the image); its position is uniform over all positions where it fits.
    Used by `dcgan_inpaint --mask=random_box` (SPEC §1.1 / issue 3: 1/16 to 1/4 of the area, anywhere).

    Args:
      shape: `[N, H, W]` (ints or a tensor), the batch and image size.
      seed: int32/int64 `[2]` stateless seed.
    """
    n, h, w = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    area = tf.random.stateless_uniform([n], seeds[0], min_area, max_area) * hf * wf
    log_aspect = tf.random.stateless_uniform([n], seeds[1], -0.6931472, 0.6931472)
    aspect = tf.exp(log_aspect)
    bh = tf.clip_by_value(tf.round(tf.sqrt(area * aspect)), 1.0, hf)
    bw = tf.clip_by_value(tf.round(tf.sqrt(area / aspect)), 1.0, wf)
    top = tf.floor(tf.random.stateless_uniform([n], seeds[2]) * (hf - bh + 1.0))
    left = tf.floor(tf.random.stateless_uniform([n], seeds[3]) * (wf - bw + 1.0))
    return _boxes_to_mask(h, w, top, left, bh, bw)


def _boxes_to_mask(h, w, top, left, bh, bw) -> tf.Tensor:
    """Rasterises one box per image ([N] float tensors, pixels) into a float32 `[N, H, W, 1]` mask."""
    rows = tf.range(tf.cast(h, tf.float32))[None, :, None]
    cols = tf.range(tf.cast(w, tf.float32))[None, None, :]
    top, left = top[:, None, None], left[:, None, None]
    inside = ((rows >= top) & (rows < top + bh[:, None, None])
              & (cols >= left) & (cols < left + bw[:, None, None]))
    return tf.cast(inside, tf.float32)[..., None]


def apply_hole(images: tf.Tensor, mask: tf.Tensor, fill_value: float = 0.0) -> tf.Tensor:
    """Sets the hole (mask == 1) of `images` to `fill_value`; known pixels are unchanged.

    Args:
      images: float `[N, H, W, C]` in the model's value range.
      mask: float32 `[N, H, W, 1]`, 1.0 = hole.
      fill_value: value written into the hole, in the model's value range (SPEC §2: 0.0 by default).
    Returns:
      float `[N, H, W, C]`, same dtype as `images`.
    """
    mask = tf.cast(mask, images.dtype)
    return images * (1.0 - mask) + tf.cast(fill_value, images.dtype) * mask


def paste_back(images: tf.Tensor, prediction: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """SPEC §2 paste-back: `(1 - mask) * images + mask * prediction`.

    Known pixels (mask == 0) come from `images` bit-exactly; the hole comes from `prediction`.
    All tensors `[N, H, W, C]` (mask `[N, H, W, 1]`) in the same value range.
    """
    mask = tf.cast(mask, images.dtype)
    return images * (1.0 - mask) + tf.cast(prediction, images.dtype) * mask


def crop_box(images: tf.Tensor, box: tuple[int, int, int, int]) -> tf.Tensor:
    """Cuts `box = (top, left, h, w)` out of `images` `[N, H, W, C]` -> `[N, h, w, C]`."""
    top, left, h, w = box
    return images[:, top:top + h, left:left + w, :]


def place_in_box(patch: tf.Tensor, box: tuple[int, int, int, int], height: int, width: int) -> tf.Tensor:
    """Zero-pads `patch` `[N, h, w, C]` so that it sits at `box` in an `[N, height, width, C]` frame."""
    top, left, h, w = box
    return tf.pad(patch, [[0, 0], [top, height - top - h], [left, width - left - w], [0, 0]])


def mean_colour_fill(images: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """The inpainting baseline of SPEC §3: the hole filled with each image's mean known colour.

    Args:
      images: float `[N, H, W, C]`; mask: float32 `[N, H, W, 1]` (1.0 = hole).
    Returns:
      float `[N, H, W, C]`: known pixels unchanged, every hole pixel = the per-image, per-channel mean of the
      known pixels (0 for an image with no known pixel).
    """
    known = 1.0 - tf.cast(mask, images.dtype)
    total = tf.reduce_sum(images * known, axis=[1, 2], keepdims=True)
    count = tf.reduce_sum(known, axis=[1, 2], keepdims=True)
    mean = tf.math.divide_no_nan(total, count)
    return paste_back(images, tf.broadcast_to(mean, tf.shape(images)), mask)


# ---------------------------------------------------------------------------------------------------------
# Restoration corruptions (seed 002 denoising / white rectangles, seed 003 bicubic degradation).
# These work in [0, 1] units: images float `[N, H, W, C]` in [0, 1] (the value range of the seed-002 and
# seed-003 autoencoders, whose outputs are sigmoid/ReLU).
# ---------------------------------------------------------------------------------------------------------
def gaussian_noise(images: tf.Tensor, seed, stddev) -> tf.Tensor:
    """Additive Gaussian noise, clipped: `clip(x + f * N(0, 1), 0, 1)` (seed 002; spec/models.md §4a, R-KB recipe).

    Args:
      images: float `[N, H, W, C]` in [0, 1].
      seed: int32/int64 `[2]` stateless seed. The same seed gives the same N(0, 1) field whatever `stddev`
        is, so evaluating several fixed levels with one seed compares them on the same noise pattern.
      stddev: the noise factor f in [0, 1] units (f = 0.5 is 127.5 grey levels): a Python float (fixed f for
        every image) or a `(lo, hi)` tuple, f drawn per image uniformly in [lo, hi] ("unterschiedliche
        Stärken von Rauschen", seed 002; the spec's training default is (0.0, 0.5)).
    Returns:
      float `[N, H, W, C]` in [0, 1], same dtype as `images`.
    Raises:
      ValueError: negative f, or lo > hi.
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    shape = tf.shape(images)
    if isinstance(stddev, (tuple, list)):
        lo, hi = (float(v) for v in stddev)
        if not 0.0 <= lo <= hi:
            raise ValueError(f"noise range must satisfy 0 <= lo <= hi, got {stddev!r}")
        f = tf.random.stateless_uniform(tf.stack([shape[0], 1, 1, 1]), seeds[1], lo, hi, dtype=images.dtype)
    else:
        if float(stddev) < 0.0:
            raise ValueError(f"noise stddev must be >= 0, got {stddev!r}")
        f = tf.cast(stddev, images.dtype)
    noise = tf.random.stateless_normal(shape, seeds[0], dtype=images.dtype)
    return tf.clip_by_value(images + f * noise, 0.0, 1.0)


def white_box(images: tf.Tensor, seed, min_frac: float = 0.25, max_frac: float = 0.5):
    """One white rectangle per image at a random position (seed 002: "alle Farbkanäle auf das Maximum gesetzt").

    Side lengths are drawn independently, uniformly in `[min_frac, max_frac]` x the image side (spec/models.md
    §4b proposal: 0.25-0.5, i.e. 7-14 px at 28x28, 32-64 px at 128x128) and rounded to whole pixels; the
    position is uniform over all positions where the box fits.

    Args:
      images: float `[N, H, W, C]` in [0, 1].
      seed: int32/int64 `[2]` stateless seed.
      min_frac, max_frac: side-length range as fractions of the image height/width, 0 < min <= max <= 1.
    Returns:
      `(corrupted, box_mask)`: float `[N, H, W, C]` with every channel of the box set to 1.0 (white), other
      pixels unchanged; float32 `[N, H, W, 1]`, 1.0 inside the box (the SPEC §2 mask convention).
    Raises:
      ValueError: fractions outside 0 < min_frac <= max_frac <= 1.
    """
    if not 0.0 < min_frac <= max_frac <= 1.0:
        raise ValueError(f"need 0 < min_frac <= max_frac <= 1, got {min_frac}, {max_frac}")
    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    bh = tf.clip_by_value(tf.round(tf.random.stateless_uniform([n], seeds[0], min_frac, max_frac) * hf), 1.0, hf)
    bw = tf.clip_by_value(tf.round(tf.random.stateless_uniform([n], seeds[1], min_frac, max_frac) * wf), 1.0, wf)
    top = tf.floor(tf.random.stateless_uniform([n], seeds[2]) * (hf - bh + 1.0))
    left = tf.floor(tf.random.stateless_uniform([n], seeds[3]) * (wf - bw + 1.0))
    mask = _boxes_to_mask(h, w, top, left, bh, bw)
    m = tf.cast(mask, images.dtype)
    return images * (1.0 - m) + m, mask


def _spatial_size(images: tf.Tensor):
    """(height, width) as Python ints when static, else scalar int32 tensors."""
    dyn = tf.shape(images)
    h, w = images.shape[1], images.shape[2]
    return (h if h is not None else dyn[1]), (w if w is not None else dyn[2])


def bicubic_upscale(images: tf.Tensor, scale: int) -> tf.Tensor:
    """Bicubic up-sampling by the integer `scale` (`tf.image.resize(..., 'bicubic')`), clipped to [0, 1].

    The second half of `bicubic_degrade`, and the "bicubic" of the `sr_autoencoder` SavedModel, which gets a
    low-resolution photo and up-samples it inside the signature (seed 003 §5.2: LR 40x40 "se volvieron a
    escalar a 120x120").

    Args:
      images: float `[N, h, w, C]` in [0, 1]; scale: integer >= 1.
    Returns:
      float32 `[N, scale*h, scale*w, C]` in [0, 1].
    Raises:
      ValueError: `scale` not a positive integer.
    """
    _check_scale(scale)
    h, w = _spatial_size(images)
    up = tf.image.resize(tf.cast(images, tf.float32), (h * scale, w * scale), method="bicubic", antialias=True)
    return tf.clip_by_value(up, 0.0, 1.0)


def bicubic_degrade(images: tf.Tensor, scale: int, quantize_low_res: bool = True) -> tf.Tensor:
    """Seed 003's low-resolution input: bicubic down by `scale`, then bicubic back up to the original size.

    Down-sampling is bicubic with anti-aliasing (`tf.image.resize(..., 'bicubic', antialias=True)`, the
    kernel widened by `scale`, as MATLAB `imresize`) to `(H // scale, W // scale)`; the low-resolution image is
    clipped to [0, 1] and, by default, rounded to the 256 uint8 levels as a stored low-resolution photo would
    be, so that training inputs match what the exported model receives (uint8 LR images up-sampled in the
    graph by `bicubic_upscale`); it is then up-sampled with `bicubic_upscale` and clipped to [0, 1]. Seed
    003 §5.2: 120x120 crops "se escalaron ... a 40x40 ... posteriormente se volvieron a escalar a 120x120";
    §4: "el núcleo bicúbico". Deterministic (no randomness).

    Args:
      images: float `[N, H, W, C]` in [0, 1]. H and W should be multiples of `scale` (else the output is
        `scale * (H // scale)` by `scale * (W // scale)`; the SR task crops HR images to multiples first).
      scale: integer >= 1 (3 for `sr_autoencoder`).
      quantize_low_res: round the intermediate low-resolution image to uint8 levels (default True).
    Returns:
      float32 `[N, scale*(H//scale), scale*(W//scale), C]` in [0, 1].
    Raises:
      ValueError: `scale` not a positive integer.
    """
    _check_scale(scale)
    h, w = _spatial_size(images)
    low = tf.image.resize(tf.cast(images, tf.float32), (h // scale, w // scale), method="bicubic", antialias=True)
    low = tf.clip_by_value(low, 0.0, 1.0)
    if quantize_low_res:
        low = tf.round(low * 255.0) / 255.0
    return bicubic_upscale(low, scale)


def _check_scale(scale) -> None:
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
