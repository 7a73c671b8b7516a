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
def _additive_gaussian(images: tf.Tensor, seed, level, what: str) -> tuple[tf.Tensor, tf.Tensor]:
    """`images + s * N(0, 1)`, not clipped, with s = `level` (a float, or a `(lo, hi)` tuple: s drawn per image
    uniformly in [lo, hi]) in `images`' units; the N(0, 1) field depends on `seed` only. Returns (noisy images,
    s `[N, 1, 1, 1]`). Raises ValueError (naming `what`) for a negative level or lo > hi."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    shape = tf.shape(images)
    if isinstance(level, (tuple, list)):
        lo, hi = (float(v) for v in level)
        if not 0.0 <= lo <= hi:
            raise ValueError(f"{what} range must satisfy 0 <= lo <= hi, got {level!r}")
        s = tf.random.stateless_uniform(tf.stack([shape[0], 1, 1, 1]), seeds[1], lo, hi, dtype=images.dtype)
    else:
        if float(level) < 0.0:
            raise ValueError(f"{what} must be >= 0, got {level!r}")
        s = tf.fill(tf.stack([shape[0], 1, 1, 1]), tf.cast(level, images.dtype))
    return images + s * tf.random.stateless_normal(shape, seeds[0], dtype=images.dtype), s


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
    return tf.clip_by_value(_additive_gaussian(images, seed, stddev, "noise stddev")[0], 0.0, 1.0)


def white_gaussian_noise(images: tf.Tensor, seed, sigma) -> tuple[tf.Tensor, tf.Tensor]:
    """Additive white Gaussian noise (AWGN) of standard deviation `sigma` on the 0-255 scale, NOT clipped: the
    corruption of the Gaussian-denoising papers (DnCNN, FFDNet: noise added to the float image).

    Args:
      images: float `[N, H, W, C]` in [0, 1].
      seed: int32/int64 `[2]` stateless seed; the same seed gives the same N(0, 1) field whatever `sigma` is
        (and the same field as `gaussian_noise` with that seed).
      sigma: noise level on the 0-255 scale: a Python float (every image) or a `(lo, hi)` tuple, sigma drawn per
        image uniformly in [lo, hi] (FFDNet trains with sigma in [0, 75]).
    Returns:
      (noisy float `[N, H, W, C]`, values outside [0, 1] kept; sigma of each image `[N, 1, 1, 1]` in [0, 1] units,
      i.e. sigma / 255), both of `images`' dtype.
    Raises:
      ValueError: negative sigma, or lo > hi.
    """
    scaled = tuple(float(v) / 255.0 for v in sigma) if isinstance(sigma, (tuple, list)) else float(sigma) / 255.0
    return _additive_gaussian(images, seed, scaled, "noise level sigma")


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


def bicubic_upscale(images: tf.Tensor, scale: int, builtin_ops: bool = False) -> tf.Tensor:
    """Bicubic up-sampling by the integer `scale` (`tf.image.resize(..., 'bicubic')`), clipped to [0, 1].

    The second half of `bicubic_degrade`, the "bicubic" output of the super-resolution SavedModels, and the
    network input of `sr_autoencoder`, whose signature gets a low-resolution photo and up-samples it in the graph
    (seed 003 §5.2: LR 40x40 "se volvieron a escalar a 120x120").

    Args:
      images: float `[N, h, w, C]` in [0, 1]; scale: integer >= 1.
      builtin_ops: compute the same resampling with slices, multiplies and reshapes only
        (`_bicubic_upscale_builtin`) instead of TensorFlow's `ScaleAndTranslate` op, which neither ONNX
        (tf2onnx) nor LiteRT has; equal to the default within float32 rounding (tested to 1e-5). Used by the
        ONNX / LiteRT exports (`keras_inpaint.portable`).
    Returns:
      float32 `[N, scale*h, scale*w, C]` in [0, 1].
    Raises:
      ValueError: `scale` not a positive integer.
    """
    _check_scale(scale)
    if builtin_ops:
        return tf.clip_by_value(_bicubic_upscale_builtin(tf.cast(images, tf.float32), scale), 0.0, 1.0)
    h, w = _spatial_size(images)
    up = tf.image.resize(tf.cast(images, tf.float32), (h * scale, w * scale), method="bicubic", antialias=True)
    return tf.clip_by_value(up, 0.0, 1.0)


def _keys_cubic(x: float) -> float:
    """Keys' cubic convolution kernel with a = -0.5 (TensorFlow's "keyscubic", the kernel of its bicubic)."""
    x = abs(x)
    if x >= 2.0:
        return 0.0
    if x >= 1.0:
        return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return (1.5 * x - 2.5) * x * x + 1.0


def _bicubic_upscale_builtin(images: tf.Tensor, scale: int) -> tf.Tensor:
    """`tf.image.resize(images, scale x size, 'bicubic', antialias=True)` for an integer `scale`, written with
    ops every converter has (pad, strided slices, multiply-adds, stack, reshape), on float32 `[N, h, w, C]` of
    any (dynamic) size -> float32 `[N, scale*h, scale*w, C]` (not clipped).

    Up-sampling by an integer factor with half-pixel centres puts output pixel `scale*i + r` at input position
    `i + d_r`, d_r = (r + 0.5) / scale - 0.5, so each phase r is a fixed 5-tap filter (offsets -2..2, Keys
    weights at distances |k - d_r|) along each axis. TensorFlow's `ScaleAndTranslate` drops the taps that fall
    outside the image and renormalises the rest to sum 1; here the image is zero-padded and each output divided
    by the same filter applied to the padded ones, which is that renormalisation.
    """
    def along(x, axis):
        size = tf.shape(x)[axis]
        pads = [[0, 0]] * 4
        pads[axis] = [2, 2]
        padded = tf.pad(x, pads)
        ones = tf.pad(tf.ones(tf.stack([size]), tf.float32), [[2, 2]])
        phases = []
        for r in range(scale):
            d = (r + 0.5) / scale - 0.5
            acc, norm = None, None
            for k in range(-2, 3):
                wgt = _keys_cubic(k - d)
                if wgt == 0.0:
                    continue
                window = [slice(None)] * 4
                window[axis] = slice(2 + k, 2 + k + size)
                term = wgt * padded[tuple(window)]
                nterm = wgt * ones[2 + k:2 + k + size]
                acc = term if acc is None else acc + term
                norm = nterm if norm is None else norm + nterm
            shape = [1, 1, 1, 1]
            shape[axis] = -1
            phases.append(acc / tf.reshape(norm, shape))
        stacked = tf.stack(phases, axis=axis + 1)          # [..., size, scale, ...]
        # static sizes stay Python ints (a converter then knows e.g. the channel count the convolutions need)
        dims = [d if d is not None else tf.shape(x)[i] for i, d in enumerate(x.shape.as_list())]
        dims[axis] = dims[axis] * scale
        return tf.reshape(stacked, tf.stack(dims))

    if scale == 1:
        return images
    return along(along(images, 1), 2)


def bicubic_downscale(images: tf.Tensor, scale: int, quantize: bool = True) -> tf.Tensor:
    """The low-resolution image of every super-resolution model here: bicubic down-sampling by `scale`.

    Bicubic with anti-aliasing (`tf.image.resize(..., 'bicubic', antialias=True)`, the kernel widened by `scale`,
    as MATLAB `imresize`, the SR literature's degradation) to `(H // scale, W // scale)`, clipped to [0, 1] and,
    by default, rounded to the 256 uint8 levels as a stored low-resolution photo would be, so that training
    inputs match what an exported model receives (uint8 LR images). It is the LR input of the LR-space
    super-resolvers (`tasks.PhotoSuperResolution`, IMDN) and the first half of `bicubic_degrade` (seed 003),
    in training, in evaluation (SPEC §3) and nowhere else. Deterministic (no randomness).

    Args:
      images: float `[N, H, W, C]` in [0, 1]. H and W should be multiples of `scale` (the SR tasks crop HR
        images to multiples first, "modcrop"); else the whole image is resized to `H // scale` x `W // scale`,
        a factor slightly above `scale`.
      scale: integer >= 1.
      quantize: round the result to uint8 levels (default True).
    Returns:
      float32 `[N, H // scale, W // scale, C]` in [0, 1].
    Raises:
      ValueError: `scale` not a positive integer.
    """
    _check_scale(scale)
    h, w = _spatial_size(images)
    low = tf.image.resize(tf.cast(images, tf.float32), (h // scale, w // scale), method="bicubic", antialias=True)
    low = tf.clip_by_value(low, 0.0, 1.0)
    if quantize:
        low = tf.round(low * 255.0) / 255.0
    return low


def bicubic_degrade(images: tf.Tensor, scale: int, quantize_low_res: bool = True) -> tf.Tensor:
    """Seed 003's low-resolution input: bicubic down by `scale` (`bicubic_downscale`: antialiased, clipped, by
    default rounded to uint8 levels), then bicubic back up to the original size (`bicubic_upscale`, clipped to
    [0, 1]). Seed 003 §5.2: 120x120 crops "se escalaron ... a 40x40 ... posteriormente se volvieron a escalar a
    120x120"; §4: "el núcleo bicúbico". The up-sampled image is also the bicubic baseline of every SR table.
    Deterministic (no randomness).

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
    return bicubic_upscale(bicubic_downscale(images, scale, quantize_low_res), scale)


def _check_scale(scale) -> None:
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")


# ---------------------------------------------------------------------------------------------------------
# Free-form masks (issue 13): LaMa's stroke-and-box recipe and DeepFill v2's brush strokes, batched and seeded.
# Strokes are polylines of capsule segments (a segment of width w covers every pixel centre within w / 2 of it,
# as a round-capped `cv2.line` does); lengths and widths are given for a 256-pixel image and scaled by
# min(H, W) / 256, so a preset covers the same fraction of any image size.
# ---------------------------------------------------------------------------------------------------------
# LaMa (Suvorov et al. 2022, configs/training/data/*: `random_{thin,medium,thick}_256`): `strokes` (min, max)
# polylines of 1-5 segments, each segment 10 + U[0, max_len) long and 5 + U[0, max_width) wide; with probability
# `box_proba` also `boxes` (min, max) axis-aligned boxes with sides U[bbox_min, bbox_max) at `margin` from the edge.
FREE_FORM_PRESETS = {
    "thin": dict(strokes=(4, 50), max_len=40, max_width=10, box_proba=0.0, boxes=(0, 0), bbox=(0, 0), margin=0),
    "medium": dict(strokes=(4, 5), max_len=100, max_width=50, box_proba=0.3, boxes=(1, 5), bbox=(10, 50), margin=0),
    "thick": dict(strokes=(1, 5), max_len=200, max_width=100, box_proba=0.3, boxes=(1, 3), bbox=(30, 150),
                  margin=10),
    # LaMa's box masks alone (§3.3 "box masks"; its training config's `box_kwargs`: 1-4 boxes, sides 30-150 px at
    # 256x256, 10 px from the border), the box half of LaMa's training mixture
    "boxes": dict(strokes=(0, 0), max_len=0, max_width=0, box_proba=1.0, boxes=(1, 4), bbox=(30, 150), margin=10),
}
MAX_HOLE_FRACTION = 0.5   # issue 13: a mask covering more of the image is redrawn
_MAX_SEGMENTS = 5         # LaMa: 1 + randint(5) segments per stroke
_REDRAWS = 6              # draws per image before the smallest one is kept


def _capsules(h, w, x0, y0, x1, y1, width) -> tf.Tensor:
    """float32 `[N, H, W, 1]`: union of capsule segments `[N, S]` (pixels; width <= 0 draws nothing).

    Loops over the S segments (one `[N, H, W]` distance field at a time, so memory stays O(N·H·W)).
    """
    rows = tf.range(tf.cast(h, tf.float32))[None, :, None] + 0.5
    cols = tf.range(tf.cast(w, tf.float32))[None, None, :] + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = tf.maximum(dx * dx + dy * dy, 1e-6)
    radius2 = tf.square(width / 2.0)
    n = tf.shape(x0)[0]

    def body(s, acc):
        ax, ay = x0[:, s, None, None], y0[:, s, None, None]
        ex, ey = dx[:, s, None, None], dy[:, s, None, None]
        t = tf.clip_by_value(((cols - ax) * ex + (rows - ay) * ey) / length2[:, s, None, None], 0.0, 1.0)
        d2 = tf.square(cols - ax - t * ex) + tf.square(rows - ay - t * ey)
        return s + 1, tf.maximum(acc, tf.cast(d2 <= radius2[:, s, None, None], tf.float32))

    acc = tf.zeros(tf.stack([n, tf.cast(h, tf.int32), tf.cast(w, tf.int32)]), tf.float32)
    _, acc = tf.while_loop(lambda s, _: s < tf.shape(x0)[1], body, [tf.constant(0), acc])
    return acc[..., None]


def _uniform_int(shape, seed, lo, hi) -> tf.Tensor:
    """float32 integers uniform in [lo, hi] (inclusive), stateless."""
    return tf.floor(tf.random.stateless_uniform(shape, seed, float(lo), float(hi) + 1.0))


def _lama_strokes(shape, seed, preset: dict, scale) -> tf.Tensor:
    n, h, w = shape[0], shape[1], shape[2]
    lo, hi = preset["strokes"]
    if hi == 0:                                                                       # boxes only
        return tf.zeros(tf.stack([n, h, w, 1]), tf.float32)
    s_max = hi * _MAX_SEGMENTS
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 8)
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    strokes = _uniform_int([n, 1], seeds[0], lo, hi)                                  # polylines per image
    segments = _uniform_int([n, hi, 1], seeds[1], 1, _MAX_SEGMENTS)                   # segments per polyline
    active = (tf.range(hi, dtype=tf.float32)[None, :, None] < strokes[:, :, None]) & (
        tf.range(_MAX_SEGMENTS, dtype=tf.float32)[None, None, :] < segments)          # [N, hi, 5]
    angle = tf.random.stateless_uniform([n, hi, _MAX_SEGMENTS], seeds[2], 0.0, 6.2831853)
    length = (10.0 + tf.random.stateless_uniform([n, hi, _MAX_SEGMENTS], seeds[3], 0.0, preset["max_len"])) * scale
    width = (5.0 + tf.random.stateless_uniform([n, hi, _MAX_SEGMENTS], seeds[4], 0.0, preset["max_width"])) * scale
    start_x = tf.random.stateless_uniform([n, hi, 1], seeds[5]) * wf
    start_y = tf.random.stateless_uniform([n, hi, 1], seeds[6]) * hf
    # vertices: the start, then each end point clipped to the image (as LaMa's np.clip)
    ex = tf.clip_by_value(start_x + tf.cumsum(length * tf.sin(angle), axis=2), 0.0, wf)
    ey = tf.clip_by_value(start_y + tf.cumsum(length * tf.cos(angle), axis=2), 0.0, hf)
    sx = tf.concat([start_x, ex[:, :, :-1]], axis=2)
    sy = tf.concat([start_y, ey[:, :, :-1]], axis=2)
    width = tf.where(active, width, 0.0)
    flat = lambda t: tf.reshape(t, [n, s_max])  # noqa: E731
    return _capsules(h, w, flat(sx), flat(sy), flat(ex), flat(ey), flat(width))


def _lama_boxes(shape, seed, preset: dict, scale) -> tf.Tensor:
    n, h, w = shape[0], shape[1], shape[2]
    lo, hi = preset["boxes"]
    if hi == 0 or preset["box_proba"] == 0:
        return tf.zeros(tf.stack([n, h, w, 1]), tf.float32)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 6)
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    margin = preset["margin"] * scale
    smin, smax = preset["bbox"][0] * scale, preset["bbox"][1] * scale
    bh = tf.minimum(tf.random.stateless_uniform([n, hi], seeds[0], smin, smax), hf - 2 * margin)
    bw = tf.minimum(tf.random.stateless_uniform([n, hi], seeds[1], smin, smax), wf - 2 * margin)
    top = margin + tf.random.stateless_uniform([n, hi], seeds[2]) * (hf - 2 * margin - bh)
    left = margin + tf.random.stateless_uniform([n, hi], seeds[3]) * (wf - 2 * margin - bw)
    count = _uniform_int([n, 1], seeds[4], lo, hi)
    on = tf.random.stateless_uniform([n, 1], seeds[5]) < preset["box_proba"]
    active = (tf.range(hi, dtype=tf.float32)[None, :] < count) & on                     # [N, hi]
    rows = tf.range(hf)[None, None, :, None] + 0.5
    cols = tf.range(wf)[None, None, None, :] + 0.5
    inside = ((rows >= top[..., None, None]) & (rows < (top + bh)[..., None, None])
              & (cols >= left[..., None, None]) & (cols < (left + bw)[..., None, None]) & active[..., None, None])
    return tf.cast(tf.reduce_any(inside, axis=1), tf.float32)[..., None]


def _redraw_large(draw, shape, seed) -> tf.Tensor:
    """Calls `draw(shape, seed_k)` for k = 0, 1, ... while some image's mask covers more than
    `MAX_HOLE_FRACTION` of it (at most `_REDRAWS` draws); each such image takes the new draw if it is smaller.
    Deterministic: draw k always uses the k-th seed split of `seed`."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), _REDRAWS)
    best = draw(shape, seeds[0])
    best_area = tf.reduce_mean(best, axis=[1, 2, 3])

    def redraw(k, best, best_area):
        mask = draw(shape, tf.gather(seeds, k))
        area = tf.reduce_mean(mask, axis=[1, 2, 3])
        take = (best_area > MAX_HOLE_FRACTION) & (area < best_area)
        mask = tf.where(take[:, None, None, None], mask, best)
        return k + 1, tf.ensure_shape(mask, best.shape), tf.ensure_shape(tf.where(take, area, best_area),
                                                                         best_area.shape)

    # ensure_shape: inside a tf.function a first draw can have a static batch size that the loop body's draws
    # lose (their shape is computed from a tensor); the loop keeps the first draw's shape.
    _, best, _ = tf.while_loop(
        lambda k, _, area: (k < _REDRAWS) & tf.reduce_any(area > MAX_HOLE_FRACTION), redraw,
        [tf.constant(1), best, best_area])
    return best


def free_form_mask(shape, seed, preset: str = "medium") -> tf.Tensor:
    """LaMa's free-form training masks (Suvorov et al. 2022, §3 and its `random_*_256` configs), float32
    `[N, H, W, 1]` (1.0 = hole, SPEC §2).

    Per image: U{lo..hi} strokes (`FREE_FORM_PRESETS[preset]["strokes"]`), each a polyline of 1-5 round-capped
    segments with uniform random direction, length `10 + U[0, max_len)` and width `5 + U[0, max_width)` pixels
    (LaMa draws the angle from 4 integer radians; here it is uniform), starting at a uniform random point, the
    vertices clipped to the image; then, with probability `box_proba`, U{lo..hi} boxes with sides
    U[bbox_min, bbox_max) at least `margin` from the border. All sizes are LaMa's for 256x256 images, scaled by
    min(H, W) / 256 (at 64x64: thin strokes 1.25-3.75 px wide). A mask covering more than 50 % of the image is
    redrawn (up to 5 times, then the smallest draw is kept). Deterministic for a given seed and shape.

    Args:
      shape: `[N, H, W]` (ints or a tensor).
      seed: int32/int64 `[2]` stateless seed.
      preset: 'thin', 'medium', 'thick' or 'boxes' (LaMa's box masks alone: 1-4 boxes, sides 30-150 px at 256,
        at least 10 px from the border).
    Raises:
      ValueError: unknown preset.
    """
    if preset not in FREE_FORM_PRESETS:
        raise ValueError(f"free-form preset must be one of {sorted(FREE_FORM_PRESETS)}, got {preset!r}")
    p = FREE_FORM_PRESETS[preset]

    def draw(shape, seed):
        s1, s2 = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2))
        scale = tf.cast(tf.minimum(shape[1], shape[2]), tf.float32) / 256.0
        return tf.maximum(_lama_strokes(shape, s1, p, scale), _lama_boxes(shape, s2, p, scale))

    return _redraw_large(draw, shape, seed)


def brush_stroke_mask(shape, seed) -> tf.Tensor:
    """DeepFill v2's free-form brush strokes (Yu et al. 2019, Algorithm 1 and its `brush_stroke_mask`), float32
    `[N, H, W, 1]` (1.0 = hole).

    Per image 1-4 strokes; a stroke has 4-12 vertices joined by round-capped segments of one width
    U[12, 40) px (at 256x256, scaled by min(H, W) / 256), each segment turning by an angle alternately
    2π - a and a with a ~ U[2π/5 - 2π/15, 2π/5 + 2π/15], its length ~ N(r, r/2) clipped to [0, 2r] with
    r = sqrt(H² + W²) / 8. Masks over 50 % of the image are redrawn as in `free_form_mask`.

    Args:
      shape: `[N, H, W]`; seed: int32/int64 `[2]` stateless seed.
    """
    def draw(shape, seed):
        n, h, w = shape[0], shape[1], shape[2]
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 8)
        hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
        scale = tf.minimum(hf, wf) / 256.0
        strokes, vertices = 4, 12
        count = _uniform_int([n, 1], seeds[0], 1, strokes)
        nv = _uniform_int([n, strokes, 1], seeds[1], 4, vertices)
        active = (tf.range(strokes, dtype=tf.float32)[None, :, None] < count[:, :, None]) & (
            tf.range(vertices - 1, dtype=tf.float32)[None, None, :] < nv - 1.0)
        mean_angle, angle_range = 6.2831853 / 5, 6.2831853 / 15
        a = tf.random.stateless_uniform([n, strokes, vertices - 1], seeds[2], mean_angle - angle_range,
                                        mean_angle + angle_range)
        a = tf.where(tf.range(vertices - 1)[None, None, :] % 2 == 0, 6.2831853 - a, a)
        r = tf.sqrt(hf * hf + wf * wf) / 8.0
        length = tf.clip_by_value(r + r / 2 * tf.random.stateless_normal([n, strokes, vertices - 1], seeds[3]),
                                  0.0, 2 * r)
        width = tf.random.stateless_uniform([n, strokes, 1], seeds[4], 12.0, 40.0) * scale
        start_x = tf.random.stateless_uniform([n, strokes, 1], seeds[5]) * wf
        start_y = tf.random.stateless_uniform([n, strokes, 1], seeds[6]) * hf
        ex = tf.clip_by_value(start_x + tf.cumsum(length * tf.cos(a), axis=2), 0.0, wf - 1.0)
        ey = tf.clip_by_value(start_y + tf.cumsum(length * tf.sin(a), axis=2), 0.0, hf - 1.0)
        sx = tf.concat([start_x, ex[:, :, :-1]], axis=2)
        sy = tf.concat([start_y, ey[:, :, :-1]], axis=2)
        width = tf.where(active, tf.broadcast_to(width, tf.shape(a)), 0.0)
        flat = lambda t: tf.reshape(t, [n, strokes * (vertices - 1)])  # noqa: E731
        return _capsules(h, w, flat(sx), flat(sy), flat(ex), flat(ey), flat(width))

    return _redraw_large(draw, shape, seed)


MASK_AREA_BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)  # issue 13: per-bin scores, 0-10 %, 10-20 %, ..., 50 %+


def mask_area_bin(mask: tf.Tensor) -> tf.Tensor:
    """int32 `[N]` index into `MASK_AREA_BINS` of each mask's hole fraction (`[N, H, W, 1]`, 1.0 = hole):
    0 for 0-10 %, 1 for 10-20 %, ..., 5 for 50 % and more."""
    area = tf.reduce_mean(tf.cast(mask, tf.float32), axis=[1, 2, 3])
    edges = tf.constant(MASK_AREA_BINS[1:], tf.float32)
    return tf.reduce_sum(tf.cast(area[:, None] >= edges[None, :], tf.int32), axis=1)
