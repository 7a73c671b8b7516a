"""Restoration tasks (seed 002): denoising and white-rectangle removal by autoencoders and by the restoration GAN."""
from __future__ import annotations

import tensorflow as tf

from keras_inpaint import corruptions, metrics
from keras_inpaint.data import to_model_range, to_uint8, to_unit_range
from keras_inpaint.tasks.base import EVAL_SEED, Task, check_mask, check_range, content_seed, image_and_mask_specs, \
    rows_grid


CORRUPTIONS = ("noise", "white_box")   # `Denoising(corruption=...)`: Gaussian noise or white rectangles


class Denoising(Task):
    """Seed 002: an autoencoder that removes Gaussian noise or a white rectangle; the target is the clean image.

    Corruptions (`keras_inpaint.corruptions`, in [0, 1] units):
      * `corruption="noise"`: `gaussian_noise`, x + f*N(0, 1) clipped. Training strength `train_noise`:
        "random" (default; f ~ U(noise_range) per image, noise_range (0, 0.5): "unterschiedliche Stärken von
        Rauschen"), a fixed float f (or its string, e.g. "0.5"), or "none" (plain autoencoder, clean -> clean,
        the variant the seed's MNIST text describes first; spec/models.md 002-a).
        Evaluation: fixed f in `eval_levels` (0.1, 0.3, 0.5) on the same N(0, 1) field; metrics `psnr_f0.1`,
        `ssim_f0.1`, ... of the output, and `baseline_psnr_f0.1`, ... of the noisy input.
      * `corruption="white_box"`: `white_box`, one white rectangle with sides in `box_frac` (0.25-0.5) of the
        image side at a random position, "dynamisch" per batch. `train_noise` may only be None (train on
        boxes) or "none" (plain autoencoder). Evaluation: `psnr`/`ssim` of the whole output, `box_psnr` (the
        box region only) and `pasted_psnr` (the output pasted into the box, SPEC §2 paste-back), next to the
        same numbers for the corrupted input (baseline).
    The network sees the whole corrupted image and returns the whole image (no mask input).

    Args:
      image_shape: (H, W, C) of the network input.
      corruption: "noise" or "white_box".
      train_noise: see above; None means the corruption's default ("random" for noise, boxes for white_box).
      noise_range: (lo, hi) of f for `train_noise="random"`.
      box_frac: (min_frac, max_frac) of the white rectangle's sides.
      eval_levels: fixed noise factors f of the evaluation table.
      value_range: the network's range; must be (0, 1) (the registry passes its entry's).
    Raises:
      ValueError: a value range other than (0, 1), unknown corruption, or a `train_noise` that is not "random", "none" or a number >= 0 (or is
        not None/"none" with white_box).
    """

    family = "restoration"
    value_range = (0.0, 1.0)  # sigmoid output; the corruptions work in [0, 1] units

    def __init__(self, image_shape, corruption: str = "noise", train_noise=None, noise_range=(0.0, 0.5),
                 box_frac=(0.25, 0.5), eval_levels=(0.1, 0.3, 0.5), value_range=(0.0, 1.0)):
        check_range(type(self).__name__, value_range, (0.0, 1.0))
        if corruption not in CORRUPTIONS:
            raise ValueError(f"corruption must be 'noise' or 'white_box', got {corruption!r}")
        self.image_shape = tuple(image_shape)
        self.corruption = corruption
        self.noise_range = tuple(float(v) for v in noise_range)
        self.box_frac = tuple(float(v) for v in box_frac)
        self.eval_levels = tuple(float(v) for v in eval_levels)
        self.train_noise = self._parse_train_noise(train_noise)
        if corruption == "noise":
            self.report = tuple(
                item for f in self.eval_levels for item in (
                    (f"psnr_f{f:g}", f"PSNR, noise f={f:g} (dB)"), (f"ssim_f{f:g}", f"SSIM, noise f={f:g}")))
            self.baseline_name = "the noisy input (no denoising)"
        else:
            self.report = (
                ("psnr", "PSNR whole output image (dB)"),
                ("ssim", "SSIM whole output image"),
                ("box_psnr", "PSNR of the white-box region only (dB)"),
                ("pasted_psnr", "PSNR, output pasted into the box (dB)"),
            )
            self.baseline_name = "the corrupted input (white box left in)"

    def _parse_train_noise(self, value):
        """-> "none", "random", a float f (noise), or "box" (white_box)."""
        if isinstance(value, str):
            value = value.strip().lower()
        if self.corruption == "white_box":
            if value in (None, "", "box", "white_box"):
                return "box"
            if value == "none":
                return "none"
            raise ValueError(f"train_noise={value!r} applies only to corruption='noise'; with 'white_box' use "
                             "the default (train on boxes) or 'none' (plain autoencoder)")
        if value in (None, "", "random"):
            return "random"
        if value == "none":
            return "none"
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"train_noise must be 'random', 'none' or a noise factor f >= 0, got {value!r}") from None
        if f < 0:
            raise ValueError(f"train_noise must be >= 0, got {f}")
        return f

    # --- corruption -----------------------------------------------------------------------------------
    def corrupt(self, x: tf.Tensor, seed, level: float | None = None):
        """The evaluation corruption of float `x` `[N, H, W, C]` in [0, 1] -> (input, box mask or None).

        Noise at the fixed factor `level` (default: the largest evaluation level, 0.5, the spec's figure
        level), or one white box.
        """
        if self.corruption == "noise":
            level = max(self.eval_levels) if level is None else level
            return corruptions.gaussian_noise(x, seed, float(level)), None
        return corruptions.white_box(x, seed, *self.box_frac)

    # --- training -------------------------------------------------------------------------------------
    def make_pair(self, images: tf.Tensor, seed=None):
        """uint8 `[N, H, W, C]` -> (corrupted input, clean target), float32 `[N, H, W, C]` in [0, 1].

        `seed` (int64 `[2]`) drives the corruption; None (validation pairs) derives it from the pixels.
        With `train_noise="none"` the input is the clean image.
        """
        x = to_model_range(images, self.value_range)
        if self.train_noise == "none":
            corrupted = x
        else:
            if seed is None:
                seed = content_seed(images, EVAL_SEED + 1)
            if self.train_noise == "box":
                corrupted = corruptions.white_box(x, seed, *self.box_frac)[0]
            else:
                stddev = self.noise_range if self.train_noise == "random" else self.train_noise
                corrupted = corruptions.gaussian_noise(x, seed, stddev)
        return self.to_network(corrupted), self.to_network(x)

    # --- the network's value range (hooks: [0, 1] here; WhiteBoxRestoration's network works in [-1, 1]) ----
    def to_network(self, x01: tf.Tensor) -> tf.Tensor:
        """float [0, 1] images -> the network's value range (identity here)."""
        return x01

    def wrap(self, network):
        """`network` as a function of [0, 1] images returning [0, 1] images (itself here)."""
        return network

    # --- inference ------------------------------------------------------------------------------------
    def restore(self, network, images: tf.Tensor, training: bool = False, level: float | None = None,
                seed=None) -> dict[str, tf.Tensor]:
        """Corrupts clean uint8 `images` `[N, H, W, C]` (see `corrupt`) and runs `network` on them.

        Returns float32 tensors in [0, 1]: `input` (corrupted), `prediction` (network output), `restored`
        (the output clipped to [0, 1]) and, for white boxes, `mask` `[N, H, W, 1]` (1.0 = box).
        """
        x = to_model_range(images, self.value_range)
        seed = content_seed(images, EVAL_SEED) if seed is None else seed
        corrupted, mask = self.corrupt(x, seed, level)
        out = self.wrap(network)(corrupted, training=training)
        result = {"input": corrupted, "prediction": out, "restored": tf.clip_by_value(out, 0.0, 1.0)}
        if mask is not None:
            result["mask"] = mask
        return result

    def serve(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `serving_default` (SPEC §4): uint8 `images` `[N, H, W, C]` (already noisy or carrying an
        artifact) -> uint8 `images`, the network's reconstruction of the whole image."""
        out = self.wrap(network)(to_model_range(images, self.value_range), training=False)
        return {"images": to_uint8(out, self.value_range)}

    def serve_with_mask(self, network, images: tf.Tensor, mask: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `with_mask`: uint8 `images` and float32 `mask` `[N, H, W, 1]` (1.0 = artifact, e.g. the
        white box, 0.0 = keep) -> uint8 `images` with the reconstruction pasted into the mask only (SPEC §2).

        Raises (at run time) InvalidArgumentError if `mask` holds values other than 0 and 1 (`check_mask`).
        """
        mask = check_mask(mask, images)
        x = to_model_range(images, self.value_range)
        out = self.wrap(network)(x, training=False)
        return {"images": to_uint8(corruptions.paste_back(x, out, mask), self.value_range)}

    def serving_signatures(self):
        """{name: (function, input TensorSpecs)}: `serving_default` (images) and `with_mask` (images, mask)."""
        images, mask = image_and_mask_specs(self.image_shape)
        return {"serving_default": (self.serve, [images]), "with_mask": (self.serve_with_mask, [images, mask])}

    # --- evaluation -----------------------------------------------------------------------------------
    def evaluate_batch(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per-image metrics `[N]` of the output and, prefixed `baseline_`, of the corrupted input (SPEC §3).

        All PSNR in dB on [0, 1] images (outputs quantized to uint8 levels, `keras_inpaint.metrics`). Keys:
        noise: `psnr_f<f>`, `ssim_f<f>` for f in `eval_levels`; white_box: `psnr`, `ssim`, `box_psnr`,
        `pasted_psnr`.
        """
        target = tf.cast(images, tf.float32) / 255.0
        seed = content_seed(images, EVAL_SEED)
        out = {}
        if self.corruption == "noise":
            for f in self.eval_levels:
                r = self.restore(network, images, level=f, seed=seed)
                for prefix, img in (("", r["restored"]), ("baseline_", r["input"])):
                    out[f"{prefix}psnr_f{f:g}"] = metrics.psnr(img, target)
                    out[f"{prefix}ssim_f{f:g}"] = metrics.ssim(img, target)
            return out
        r = self.restore(network, images, seed=seed)
        for prefix, img in (("", r["restored"]), ("baseline_", r["input"])):
            out[f"{prefix}psnr"] = metrics.psnr(img, target)
            out[f"{prefix}ssim"] = metrics.ssim(img, target)
            out[f"{prefix}box_psnr"] = metrics.hole_metrics(img, target, r["mask"])["hole_psnr"]
            out[f"{prefix}pasted_psnr"] = metrics.psnr(corruptions.paste_back(r["input"], img, r["mask"]), target)
        return out

    def grid(self, network, images: tf.Tensor) -> tf.Tensor:
        """Image grid, uint8 `[1, N*H, 3*W, C]`: corrupted input (noise at the largest level, or white box) |
        output | original."""
        r = self.restore(network, images)
        return rows_grid([to_uint8(r["input"], self.value_range), to_uint8(r["restored"], self.value_range),
                           tf.cast(images, tf.uint8)])


class WhiteBoxRestoration(Denoising):
    """`Denoising(corruption="white_box")` for a network working in another value range (`restoration_gan`).

    Seed 002's GAN: the input is the face with one white rectangle ("alle Farbkanäle auf das Maximum gesetzt",
    put on dynamically per batch), the target the clean face; R-DB works in [-1, 1]. The corruption, metrics,
    baseline (the corrupted input), grid and signatures (`serving_default` on images, `with_mask` pasting into
    a given mask) are `Denoising`'s, which works in [0, 1]; this class converts the training pairs to
    the network's range and wraps the network so that it is called on, and returns, values in that range
    (the `to_network` / `wrap` hooks of `Denoising`). `value_range` (the task's tensors) stays [0, 1].

    Args:
      image_shape: (H, W, C), 128x128x3 for restoration_gan.
      value_range: the network's value range, (-1, 1) (the registry entry's; kept as `network_range`).
      box_frac: side range of the rectangle as fractions of the image side (0.25-0.5: 32-64 px at 128).
    """

    # A run shorter than its schedule (a smoke run) validates and tests on 64 images: the 128x128 generator
    # restores ~8 images/s here, so the 247 held-back faces cost a minute per pass (issue 15).
    quick_run_test_images = 64

    def __init__(self, image_shape, value_range=(-1.0, 1.0), box_frac=(0.25, 0.5)):
        super().__init__(image_shape, corruption="white_box", box_frac=box_frac)
        self.network_range = tuple(float(v) for v in value_range)

    def to_network(self, x01: tf.Tensor) -> tf.Tensor:
        """float [0, 1] images -> `network_range`."""
        lo, hi = self.network_range
        return x01 * (hi - lo) + lo

    def wrap(self, network):
        """`network` (in `network_range`) as a function of [0, 1] images returning [0, 1] images."""
        return lambda x01, training=False: to_unit_range(network(self.to_network(x01), training=training),
                                                         self.network_range)
