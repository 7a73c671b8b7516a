"""Classical (training-free) inpainting baselines, computed by well-kept libraries (issue 37).

The photo inpainter (`lama_ffc`) is scored next to three methods that need no training, on the same holes:

  * "telea": OpenCV `cv2.inpaint(..., cv2.INPAINT_TELEA)`, the fast marching method of A. Telea, "An Image
    Inpainting Technique Based on the Fast Marching Method", J. Graphics Tools 9(1), 2004;
  * "navier_stokes": OpenCV `cv2.inpaint(..., cv2.INPAINT_NS)`, M. Bertalmio, A. L. Bertozzi, G. Sapiro,
    "Navier-Stokes, Fluid Dynamics, and Image and Video Inpainting", CVPR 2001;
    both with an inpainting radius of `RADIUS` = 5 pixels (the neighbourhood each filled pixel is estimated from);
  * "biharmonic": scikit-image `skimage.restoration.inpaint_biharmonic` (Damelin & Hoang 2018), the smooth
    (biharmonic) surface through the known pixels around each hole, per channel.

The libraries are the `[eval]` extra of setup.py (`pip install -e ".[eval]"`; `[test]` pulls it too), not core
dependencies: predict.py and training never need them. `available()` says whether they import.

Conventions: a photo is uint8 `[H, W, C]`, its mask `[H, W]` (nonzero = hole, SPEC §2). Each method sees the
photo with its hole set to 0, so no hidden pixel can leak into a baseline, and returns uint8 `[H, W, C]` with
every known pixel unchanged (paste-back). `fill` runs a method on a float batch inside TensorFlow
(`tf.numpy_function`, so it works in `tf.function`-traced evaluation but not inside an exported SavedModel).

Cost (measured on CBSD68's 481x321 photos with LaMa's three mask presets, 2-core CPU shared with a training; CPU
seconds of the calling thread per photo and mask, `CPU_SECONDS`): Telea ~0.1, Navier-Stokes ~0.1, biharmonic ~0.5
on average and up to ~2.4 for a 45 % hole (it solves one sparse linear system over the hole pixels, so its cost
grows with the hole area, not the photo size). No speed-up is applied: skimage's `split_into_regions=True` (one
system per connected hole) gave bit-identical results and was no faster on these photos.
"""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

RADIUS = 5   # cv2.inpaint's inpaintRadius (issue 37: radius 5)
METHODS = {
    "telea": "OpenCV Telea (r=5)",
    "navier_stokes": "OpenCV Navier-Stokes (r=5)",
    "biharmonic": "skimage biharmonic",
}
INSTALL_HINT = 'the classical inpainting baselines need OpenCV and scikit-image: pip install -e ".[eval]"'
SECONDS: dict[str, float] = {}      # wall seconds spent in each method in this process (`inpaint` adds to it)
CPU_SECONDS: dict[str, float] = {}  # CPU seconds of the calling thread in each method (robust to a busy machine)
CALLS: dict[str, int] = {}          # photos inpainted by each method in this process


def available() -> bool:
    """True when OpenCV (`cv2`) and scikit-image import (the `[eval]` extra)."""
    try:
        import cv2  # noqa: F401
        import skimage.restoration  # noqa: F401
    except ImportError:
        return False
    return True


def inpaint(method: str, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fills the hole of one photo with a classical method.

    Args:
      method: a key of `METHODS`.
      image: uint8 `[H, W, C]` (C = 1 or 3).
      mask: `[H, W]` or `[H, W, 1]`, nonzero = hole.
    Returns:
      uint8 `[H, W, C]`: the hole filled, known pixels exactly as given.
    Raises:
      ValueError: unknown method. ImportError: the `[eval]` extra is not installed (the message says so).
    """
    if method not in METHODS:
        raise ValueError(f"classical method must be one of {', '.join(METHODS)}, got {method!r}")
    hole = np.asarray(mask).reshape(image.shape[:2]) > 0
    known = np.where(hole[..., None], 0, image).astype(np.uint8)
    start, cpu = time.perf_counter(), time.thread_time()
    try:
        if method == "biharmonic":
            from skimage.restoration import inpaint_biharmonic

            filled = inpaint_biharmonic(known.astype(np.float64) / 255.0, hole, channel_axis=-1)
            filled = np.clip(np.round(filled * 255.0), 0, 255).astype(np.uint8)
        else:
            import cv2

            flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
            filled = cv2.inpaint(known, hole.astype(np.uint8), RADIUS, flag).reshape(image.shape)
    except ImportError as e:
        raise ImportError(f"{INSTALL_HINT} ({e})") from None
    SECONDS[method] = SECONDS.get(method, 0.0) + time.perf_counter() - start
    CPU_SECONDS[method] = CPU_SECONDS.get(method, 0.0) + time.thread_time() - cpu
    CALLS[method] = CALLS.get(method, 0) + 1
    return np.where(hole[..., None], filled, image).astype(np.uint8)


def fill(method: str, images: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """`inpaint` on a batch inside TensorFlow: float `images` `[N, H, W, C]` in [0, 1] (rounded to uint8 levels
    first) and `mask` float32 `[N, H, W, 1]` (1.0 = hole) -> float32 `[N, H, W, C]` in [0, 1], known pixels kept."""
    def run(x, m):
        x = np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)
        return np.stack([inpaint(method, a, b) for a, b in zip(x, m)]).astype(np.float32) / 255.0

    out = tf.numpy_function(run, [tf.cast(images, tf.float32), tf.cast(mask, tf.float32)], tf.float32,
                            stateful=False)
    return tf.ensure_shape(out, images.shape)
