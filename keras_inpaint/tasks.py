"""Tasks: how a model id turns clean images into training pairs, restores images, is scored and is served.

A task ties one corruption (`keras_inpaint.corruptions`) to one network output layout, so that training
(`make_pair`), evaluation (`evaluate_batch`), the TensorBoard image grid (`grid`) and the exported SavedModel
(`serve`) all run the same code path. Inputs to every method are uint8 image batches `[N, H, W, C]` as stored;
conversion to the model's value range happens through `keras_inpaint.data`.
"""
from __future__ import annotations

import copy

import numpy as np
import tensorflow as tf

from keras_inpaint import corruptions, latent_inpainting, metrics
from keras_inpaint.data import to_model_range, to_uint8, to_unit_range


class CentreHoleInpainting:
    """Inpainting of a fixed centred hole, the network predicting only the hole ("fill") or the whole image.

    Seed 000 §IV-A: a 16x16 square is cut from the centre of each 32x32 CIFAR-10 image; the image with the
    hole is the input and the cut square is the target. The restored image is the input with the predicted
    fill pasted back (SPEC §2), so every known pixel is kept exactly.

    Args:
      image_shape: (H, W, C) of the model input.
      hole: side of the centred square hole in pixels (16 for seed 000).
      value_range: the network's value range, (0, 1) or (-1, 1).
      fill_value: value written into the hole of the network input, in `value_range` (SPEC §2: 0.0).
      output: "fill" if the network returns only the hole box `[N, hole, hole, C]`, "image" if it returns
        a full `[N, H, W, C]` image.
    """

    accepts_mask = False

    def __init__(self, image_shape, hole: int, value_range, fill_value: float = 0.0, output: str = "fill"):
        if output not in ("fill", "image"):
            raise ValueError(f"output must be 'fill' or 'image', got {output!r}")
        self.image_shape = tuple(image_shape)
        self.hole = hole
        self.value_range = tuple(value_range)
        self.fill_value = fill_value
        self.output = output
        self.box = corruptions.centre_box(self.image_shape[0], self.image_shape[1], hole)

    # --- training -------------------------------------------------------------------------------------
    def mask(self, images: tf.Tensor) -> tf.Tensor:
        """float32 `[N, H, W, 1]` centre mask (1.0 = hole) for a batch `images` `[N, H, W, C]`."""
        return corruptions.centre_mask(tf.shape(images)[0], self.image_shape[0], self.image_shape[1], self.hole)

    def make_pair(self, images: tf.Tensor, seed=None):
        """uint8 `[N, H, W, C]` -> (network input `[N, H, W, C]`, target `[N, hole, hole, C]` or full image).

        Both in the model's value range. `seed` is unused (the centre hole is not random) but accepted so
        every task has the same signature for `data.training_pipeline`.
        """
        x = to_model_range(images, self.value_range)
        masked = corruptions.apply_hole(x, self.mask(x), self.fill_value)
        target = corruptions.crop_box(x, self.box) if self.output == "fill" else x
        return masked, target

    # --- inference ------------------------------------------------------------------------------------
    def restore(self, network, images: tf.Tensor, training: bool = False) -> dict[str, tf.Tensor]:
        """Runs `network` on uint8 `images` `[N, H, W, C]`.

        Returns a dict of float32 tensors in the model's value range: `input` (masked network input), `mask`,
        `prediction` (full-frame network output, hole box placed in the frame for "fill" networks), `fill`
        (`[N, hole, hole, C]`) and `restored` (paste-back of the prediction into the hole).
        """
        x = to_model_range(images, self.value_range)
        mask = self.mask(x)
        masked = corruptions.apply_hole(x, mask, self.fill_value)
        out = network(masked, training=training)
        if self.output == "fill":
            fill = out
            prediction = corruptions.place_in_box(out, self.box, self.image_shape[0], self.image_shape[1])
        else:
            fill = corruptions.crop_box(out, self.box)
            prediction = out
        restored = corruptions.paste_back(x, prediction, mask)
        return {"input": masked, "mask": mask, "prediction": prediction, "fill": fill, "restored": restored}

    def serve(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `serving_default` body (SPEC §4): uint8 `images` -> uint8 `images` (pasted back) and
        float32 `fill` `[N, hole, hole, C]` in [0, 1]."""
        r = self.restore(network, images)
        fill = tf.clip_by_value(to_unit_range(r["fill"], self.value_range), 0.0, 1.0)
        return {"images": to_uint8(r["restored"], self.value_range), "fill": fill}

    def serving_signatures(self):
        """{signature name: (function of the network and inputs, list of input TensorSpecs)} for export."""
        h, w, c = self.image_shape
        spec = [tf.TensorSpec([None, h, w, c], tf.uint8, name="images")]
        return {"serving_default": (self.serve, spec)}

    # --- evaluation -----------------------------------------------------------------------------------
    def evaluate_batch(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per-image metrics `[N]` for the model and for the mean-colour baseline (prefix `baseline_`).

        Whole-image PSNR/SSIM after paste-back; hole PSNR, mean L1 and mean L2 (SPEC §3), all in [0, 1] units;
        `mask_area`, each image's hole fraction (`evaluation.evaluate` reports every metric per area bin).
        """
        r = self.restore(network, images)
        target = tf.cast(images, tf.float32) / 255.0
        out = metrics.inpainting_metrics(to_unit_range(r["restored"], self.value_range), target, r["mask"])
        baseline = corruptions.mean_colour_fill(target, r["mask"])
        out.update({f"baseline_{k}": v for k, v in metrics.inpainting_metrics(baseline, target, r["mask"]).items()})
        out["mask_area"] = tf.reduce_mean(r["mask"], axis=[1, 2, 3])
        return out

    def grid(self, network, images: tf.Tensor) -> tf.Tensor:
        """Image grid, uint8 `[1, N*H, 3*W, C]`: one row per image, masked input | output (pasted back) | original."""
        r = self.restore(network, images)
        cols = [to_uint8(r["input"], self.value_range), to_uint8(r["restored"], self.value_range),
                tf.cast(images, tf.uint8)]
        rows = tf.concat(cols, axis=2)  # [N, H, 3W, C]
        n, h, w3, c = tf.unstack(tf.shape(rows))
        return tf.reshape(rows, [1, n * h, w3, c])

    # Reported in the printed table, in this order, with a short explanation of each.
    report = (
        ("psnr", "PSNR whole image after paste-back (dB)"),
        ("ssim", "SSIM whole image after paste-back"),
        ("hole_psnr", "PSNR of the hole only (dB)"),
        ("hole_l1", "mean L1 of the hole ([0,1] units)"),
        ("hole_l2", "mean L2 of the hole ([0,1] units)"),
    )
    baseline_name = "mean colour of the known pixels"


# ---------------------------------------------------------------------------------------------------------
# Restoration tasks: seed 002 (denoising / white rectangles) and seed 003 (x3 super-resolution).
# ---------------------------------------------------------------------------------------------------------
EVAL_SEED = 20_02  # fixed first seed word of every evaluation corruption (the second word hashes the pixels)


def content_seed(images: tf.Tensor, salt: int) -> tf.Tensor:
    """A stateless seed, int64 `[2]`, = (salt, sum of the batch's uint8 pixel values).

    Used where no seed is passed (validation pairs, evaluation), so that a corruption is a deterministic
    function of the images: the same test batch always gets the same noise or box, and different batches
    get different ones.
    """
    return tf.stack([tf.constant(salt, tf.int64), tf.reduce_sum(tf.cast(images, tf.int64))])


def run_padded(network, images: tf.Tensor, multiple: int, training: bool = False) -> tf.Tensor:
    """Runs a fully convolutional `network` on images of any size by symmetric padding to a size multiple.

    `images` float `[N, H, W, C]` (H, W >= `multiple` - 1, or already multiples) are padded at the bottom and
    right with `tf.pad(mode='SYMMETRIC')` (mirror including the edge pixel) to the next multiple of
    `multiple` (e.g. 4 for the two poolings of `sr_autoencoder`), passed through `network`, and the output is
    cropped back to `[N, H, W, C_out]`. No padding (and static shapes kept) when H and W are multiples already.
    """
    h, w = images.shape[1], images.shape[2]
    if h is not None and w is not None and h % multiple == 0 and w % multiple == 0:
        return network(images, training=training)
    shape = tf.shape(images)
    h, w = shape[1], shape[2]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    padded = tf.pad(images, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="SYMMETRIC")
    return network(padded, training=training)[:, :h, :w, :]


def image_and_mask_specs(image_shape) -> tuple[tf.TensorSpec, tf.TensorSpec]:
    """SPEC §4 signature inputs for `image_shape` (H, W, C): uint8 `images` `[None, H, W, C]` and float32 `mask`
    `[None, H, W, 1]` (1.0 = fill)."""
    h, w, c = image_shape
    return (tf.TensorSpec([None, h, w, c], tf.uint8, name="images"),
            tf.TensorSpec([None, h, w, 1], tf.float32, name="mask"))


def _rows_grid(columns) -> tf.Tensor:
    """uint8 `[N, H, W, C]` tensors side by side, one row per image -> uint8 `[1, N*H, K*W, C]`."""
    rows = tf.concat(columns, axis=2)
    n, h, w3, c = tf.unstack(tf.shape(rows))
    return tf.reshape(rows, [1, n * h, w3, c])


class Denoising:
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
    Raises:
      ValueError: unknown corruption, or a `train_noise` that is not "random", "none" or a number >= 0 (or is
        not None/"none" with white_box).
    """

    accepts_mask = False
    value_range = (0.0, 1.0)  # sigmoid output; the corruptions work in [0, 1] units

    def __init__(self, image_shape, corruption: str = "noise", train_noise=None, noise_range=(0.0, 0.5),
                 box_frac=(0.25, 0.5), eval_levels=(0.1, 0.3, 0.5)):
        if corruption not in ("noise", "white_box"):
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
            return x, x
        if seed is None:
            seed = content_seed(images, EVAL_SEED + 1)
        if self.train_noise == "box":
            return corruptions.white_box(x, seed, *self.box_frac)[0], x
        stddev = self.noise_range if self.train_noise == "random" else self.train_noise
        return corruptions.gaussian_noise(x, seed, stddev), x

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
        out = network(corrupted, training=training)
        result = {"input": corrupted, "prediction": out, "restored": tf.clip_by_value(out, 0.0, 1.0)}
        if mask is not None:
            result["mask"] = mask
        return result

    def serve(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `serving_default` (SPEC §4): uint8 `images` `[N, H, W, C]` (already noisy or carrying an
        artifact) -> uint8 `images`, the network's reconstruction of the whole image."""
        out = network(to_model_range(images, self.value_range), training=False)
        return {"images": to_uint8(out, self.value_range)}

    def serve_with_mask(self, network, images: tf.Tensor, mask: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `with_mask`: uint8 `images` and float32 `mask` `[N, H, W, 1]` (1.0 = artifact, e.g. the
        white box, 0.0 = keep) -> uint8 `images` with the reconstruction pasted into the mask only (SPEC §2).

        Raises (at run time) InvalidArgumentError if `mask` holds values other than 0 and 1 (`check_mask`).
        """
        mask = check_mask(mask, images)
        x = to_model_range(images, self.value_range)
        out = network(x, training=False)
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
        return _rows_grid([to_uint8(r["input"], self.value_range), to_uint8(r["restored"], self.value_range),
                           tf.cast(images, tf.uint8)])


class SuperResolution:
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
    """

    any_size = True   # whole images of any size can be scored (benchmark folders, RunConfig.benchmarks)
    accepts_mask = False
    value_range = (0.0, 1.0)

    def __init__(self, image_shape=(120, 120, 3), scale: int = 3, multiple: int = 4):
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
        out = run_padded(network, lr_up, self.multiple, training=training)
        return {"input": lr_up, "prediction": out, "restored": tf.clip_by_value(out, 0.0, 1.0), "target": x}

    def upscale(self, network, low_res: tf.Tensor) -> dict[str, tf.Tensor]:
        """float LR `[N, h, w, C]` in [0, 1] -> {`bicubic`, `restored`}, float32 `[N, scale*h, scale*w, C]`
        in [0, 1]."""
        bicubic = corruptions.bicubic_upscale(low_res, self.scale)
        out = run_padded(network, bicubic, self.multiple)
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
        return _rows_grid([to_uint8(r["input"], self.value_range), to_uint8(r["restored"], self.value_range),
                           to_uint8(r["target"], self.value_range)])


# ---------------------------------------------------------------------------------------------------------
# Adversarial models (issue 3): masked inpainting with arbitrary masks (dcgan_inpaint) and white-box removal by
# a [-1, 1] generator (restoration_gan).
# ---------------------------------------------------------------------------------------------------------
MASK_EVAL_SEED = 30_01  # first seed word of evaluation random-box masks (the second word hashes the pixels)


def check_mask(mask: tf.Tensor, images: tf.Tensor) -> tf.Tensor:
    """Validates a user mask (SPEC §2) against uint8/float `images` `[N, H, W, C]`; returns it as float32.

    A mask is float32 `[N, H, W, 1]` holding only 0.0 (known) and 1.0 (fill). Raises ValueError when a static
    shape is wrong, and `tf.errors.InvalidArgumentError` (also inside a SavedModel) when the dynamic shape
    differs from the images' or a value is not 0 or 1. Nothing is resized or thresholded silently.
    """
    mask = tf.cast(mask, tf.float32)
    if mask.shape.rank is not None and (mask.shape.rank != 4 or mask.shape[-1] not in (None, 1)):
        raise ValueError(f"mask must be [N, H, W, 1], got shape {mask.shape}")
    for axis in (0, 1, 2):
        a, b = mask.shape[axis], images.shape[axis]
        if a is not None and b is not None and a != b:
            raise ValueError(f"mask shape {mask.shape} does not match images shape {images.shape}")
    binary = tf.reduce_all(tf.logical_or(tf.equal(mask, 0.0), tf.equal(mask, 1.0)))
    checks = [
        tf.debugging.assert_equal(tf.shape(mask)[:3], tf.shape(images)[:3],
                                  message="mask [N, H, W, 1] must match the images [N, H, W, C]"),
        tf.debugging.assert_equal(tf.shape(mask)[3], 1, message="mask must have one channel"),
        tf.debugging.Assert(binary, ["mask values must be 0.0 (known) or 1.0 (fill)"]),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(mask)


MASK_KINDS = ("centre", "random_box", "free_form:thin", "free_form:medium", "free_form:thick", "brush", "mixed")
# "mixed" (the free_form_inpaint training default): per batch, one kind drawn with these probabilities.
MIXED_MASKS = (("centre", 0.25), ("random_box", 0.25), ("free_form:thin", 1 / 6), ("free_form:medium", 1 / 6),
               ("free_form:thick", 1 / 6))


def make_mask(kind: str, images: tf.Tensor, seed, hole: int = 32, box_area=(1 / 16, 1 / 4)) -> tf.Tensor:
    """A float32 `[N, H, W, 1]` mask (1.0 = hole) of `kind` (`MASK_KINDS`) for a batch `images` `[N, H, W, C]`.

    "centre": the centred `hole` x `hole` square (images of a static size); "random_box": one box of
    `box_area` of the image (`corruptions.random_box_mask`); "free_form:thin|medium|thick": LaMa's strokes and
    boxes (`corruptions.free_form_mask`); "brush": DeepFill v2's strokes (`corruptions.brush_stroke_mask`);
    "mixed": one of `MIXED_MASKS` for the whole batch, drawn from `seed`.

    Raises:
      ValueError: unknown kind.
    """
    if kind not in MASK_KINDS:
        raise ValueError(f"mask must be one of {', '.join(MASK_KINDS)}, got {kind!r}")
    shape = tf.shape(images)[:3]
    if kind == "centre":
        h, w = images.shape[1], images.shape[2]
        if h is None or w is None:
            raise ValueError("the centre mask needs images of a static size")
        return corruptions.centre_mask(shape[0], h, w, hole)
    if kind == "random_box":
        return corruptions.random_box_mask(shape, seed, *box_area)
    if kind == "brush":
        return corruptions.brush_stroke_mask(shape, seed)
    if kind.startswith("free_form:"):
        return corruptions.free_form_mask(shape, seed, kind.split(":", 1)[1])
    pick, draw = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2))
    cumulative = tf.cumsum([p for _, p in MIXED_MASKS])
    index = tf.reduce_sum(tf.cast(tf.random.stateless_uniform([], pick) >= cumulative[:-1], tf.int32))
    branches = [lambda k=k: make_mask(k, images, draw, hole, box_area) for k, _ in MIXED_MASKS]
    return tf.switch_case(index, branches)


class MaskedInpainting(CentreHoleInpainting):
    """Inpainting of arbitrary holes by a network that returns the whole image (`dcgan_inpaint`, SPEC §1.1;
    `free_form_inpaint`, issue 13).

    Seed 001 (text): "the input of the generated model is changed from noise to the broken original image ...
    the broken image and the original image are used as the training data pair"; "A simple cropping and
    stitching is performed": the output is pasted back into the hole (SPEC §2). The network input is the image
    with the hole set to `fill_value` (0.0, mid-grey in [-1, 1]), followed by the mask as a fourth channel when
    `mask_input` (the gated-convolution inpainter); the target is the whole original image.

    Masks (`mask` option, `make_mask`): "centre" (the centre `hole` x `hole` square, 32x32 of 64x64: R-576's
    `scale = 0.25`), "random_box" (one rectangle of `box_area` (1/16 to 1/4) of the image anywhere), LaMa's
    free-form presets "free_form:thin|medium|thick", DeepFill v2's "brush" strokes, or "mixed" (one of
    `MIXED_MASKS` per batch). Training masks are drawn from the pipeline's per-batch seed; evaluation masks are
    seeded by the pixels (`content_seed`), so a test image always gets the same hole whichever model is scored
    (a fixed mask set per kind). Metrics and baseline are `CentreHoleInpainting`'s (whole-image PSNR/SSIM after
    paste-back, hole PSNR/L1/L2; mean colour; `mask_area` for the per-area-bin report).

    Export (SPEC §4): `serving_default` takes uint8 `images` `[None, H, W, C]` and a required float32 `mask`
    `[None, H, W, 1]` (1.0 = fill), validated by `check_mask`; `centre_mask` takes `images` alone and inpaints
    the centre square. Both return uint8 `images` (pasted back). With `any_size`, H and W of `serving_default`
    are free (the network must be fully convolutional; inputs are padded to a multiple of `multiple`).

    Args:
      image_shape: (H, W, C) of training and evaluation images, 64x64x3 for dcgan_inpaint.
      hole: side of the centre square (32).
      value_range: the network's range ((-1, 1) for the tanh generators).
      fill_value: hole value of the network input, in `value_range`.
      mask: one of `MASK_KINDS`.
      box_area: (min, max) fraction of the image area of a random box.
      mask_input: the network takes `[image with hole, mask]` (C + 1 channels) instead of the image alone.
      any_size: serve images of any size (fully convolutional networks).
      multiple: the size multiple the network needs (`run_padded`).
    Raises:
      ValueError: unknown `mask`.
    """

    accepts_mask = True

    def __init__(self, image_shape, hole: int = 32, value_range=(-1.0, 1.0), fill_value: float = 0.0,
                 mask: str = "centre", box_area=(1 / 16, 1 / 4), mask_input: bool = False, any_size: bool = False,
                 multiple: int = 16):
        super().__init__(image_shape, hole, value_range, fill_value=fill_value, output="image")
        if mask not in MASK_KINDS:
            raise ValueError(f"mask must be one of {', '.join(MASK_KINDS)}, got {mask!r}")
        self.mask_kind = mask
        self.box_area = tuple(float(v) for v in box_area)
        self.mask_input = bool(mask_input)
        self.any_size = bool(any_size)
        self.multiple = int(multiple)

    def mask(self, images: tf.Tensor, seed=None) -> tf.Tensor:
        """float32 `[N, H, W, 1]` training/evaluation mask for uint8 `images` (1.0 = hole).

        Of the task's kind (`make_mask`), random kinds from `seed` (int64 `[2]`; None derives it from the pixels
        of `images`, which must then be the uint8 batch).
        """
        if self.mask_kind == "centre":
            return CentreHoleInpainting.mask(self, images)  # explicit: autograph mis-resolves super()
        if seed is None:
            seed = content_seed(images, MASK_EVAL_SEED)
        return make_mask(self.mask_kind, images, seed, self.hole, self.box_area)

    def network_input(self, x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        """The network input for float `x` `[N, H, W, C]` in `value_range` and `mask`: the image with its hole
        set to `fill_value`, then (with `mask_input`) the mask as channel C."""
        masked = corruptions.apply_hole(x, mask, self.fill_value)
        return tf.concat([masked, tf.cast(mask, masked.dtype)], axis=-1) if self.mask_input else masked

    def make_pair(self, images: tf.Tensor, seed=None):
        """uint8 `[N, H, W, C]` -> (network input, whole original image), float32 in `value_range`."""
        x = to_model_range(images, self.value_range)
        return self.network_input(x, self.mask(images, seed)), x

    def restore(self, network, images: tf.Tensor, training: bool = False, mask=None) -> dict[str, tf.Tensor]:
        """Inpaints uint8 `images` `[N, H, W, C]` where `mask` is 1 (default: the task's evaluation mask).

        Returns float32 tensors in the model's value range: `input` (masked image), `mask`, `prediction` (whole
        network output), `fill` (the prediction's centre square) and `restored` (paste-back). A given mask is
        validated by `check_mask`.
        """
        mask = self.mask(images) if mask is None else check_mask(mask, images)
        x = to_model_range(images, self.value_range)
        inputs = self.network_input(x, mask)
        if self.any_size:
            out = run_padded(network, inputs, self.multiple, training=training)
        else:
            out = network(inputs, training=training)
        restored = corruptions.paste_back(x, out, mask)
        fill = corruptions.crop_box(out, self.box) if images.shape[1] == self.image_shape[0] else out
        return {"input": inputs[..., :x.shape[-1]], "mask": mask, "prediction": out, "fill": fill,
                "restored": restored}

    def serve(self, network, images: tf.Tensor, mask: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `serving_default`: uint8 `images` + float32 `mask` (1.0 = fill) -> uint8 `images`."""
        r = self.restore(network, images, mask=mask)
        return {"images": to_uint8(r["restored"], self.value_range)}

    def serve_centre(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `centre_mask`: uint8 `images` -> uint8 `images` with the centre square inpainted."""
        mask = corruptions.centre_mask(tf.shape(images)[0], self.image_shape[0], self.image_shape[1], self.hole)
        r = self.restore(network, images, mask=mask)
        return {"images": to_uint8(r["restored"], self.value_range)}

    def serving_signatures(self):
        """{name: (function, input TensorSpecs)}: `serving_default` (images, mask; any H, W with `any_size`) and
        `centre_mask` (images of the training size)."""
        images, mask = image_and_mask_specs(self.image_shape)
        centre = {"centre_mask": (self.serve_centre, [images])}
        if self.any_size:
            images, mask = image_and_mask_specs((None, None, self.image_shape[2]))
        return {"serving_default": (self.serve, [images, mask]), **centre}


class WhiteBoxRestoration(Denoising):
    """`Denoising(corruption="white_box")` for a network working in another value range (`restoration_gan`).

    Seed 002's GAN: the input is the face with one white rectangle ("alle Farbkanäle auf das Maximum gesetzt",
    put on dynamically per batch), the target the clean face; R-DB works in [-1, 1]. The corruption, metrics,
    baseline (the corrupted input), grid and signatures (`serving_default` on images, `with_mask` pasting into
    a given mask) are `Denoising`'s, which works in [0, 1]; this class converts the training pairs to
    `network_range` and wraps the network so that it is called on, and returns, `network_range` values.

    Args:
      image_shape: (H, W, C), 128x128x3 for restoration_gan.
      network_range: the network's value range, (-1, 1).
      box_frac: side range of the rectangle as fractions of the image side (0.25-0.5: 32-64 px at 128).
    """

    def __init__(self, image_shape, network_range=(-1.0, 1.0), box_frac=(0.25, 0.5)):
        super().__init__(image_shape, corruption="white_box", box_frac=box_frac)
        self.network_range = tuple(network_range)

    def _to_network(self, x01: tf.Tensor) -> tf.Tensor:
        lo, hi = self.network_range
        return x01 * (hi - lo) + lo

    def _wrap(self, network):
        return lambda x01, training=False: to_unit_range(network(self._to_network(x01), training=training),
                                                         self.network_range)

    def make_pair(self, images: tf.Tensor, seed=None):
        """uint8 `[N, H, W, C]` -> (image with a white box, clean image), float32 in `network_range`."""
        corrupted, clean = Denoising.make_pair(self, images, seed)  # no super(): autograph mis-resolves it
        return self._to_network(corrupted), self._to_network(clean)

    def restore(self, network, images: tf.Tensor, training: bool = False, level: float | None = None,
                seed=None) -> dict[str, tf.Tensor]:
        """`Denoising.restore` with `network` in `network_range`; the returned tensors are in [0, 1]."""
        return Denoising.restore(self, self._wrap(network), images, training=training, level=level, seed=seed)

    def serve(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `serving_default`: uint8 `images` with an artifact -> uint8 restored `images`."""
        return Denoising.serve(self, self._wrap(network), images)

    def serve_with_mask(self, network, images: tf.Tensor, mask: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `with_mask`: uint8 `images` + float32 `mask` (1.0 = artifact) -> uint8 `images`, pasted."""
        return Denoising.serve_with_mask(self, self._wrap(network), images, mask)


# ---------------------------------------------------------------------------------------------------------
# Issue 5: unconditional z -> image face priors (lsgan, seed 004; dcgan, seed 001's code) served as latent-
# optimisation inpainters, and the refinement autoencoder (refinement_ae, seed 004 §2.2.4).
# ---------------------------------------------------------------------------------------------------------
LATENT_SEED = 40_04  # first seed word of latent codes drawn for validation pairs and inpainting starts


class UnconditionalGeneration:
    """z -> image GAN training (`lsgan`, `dcgan`), evaluated and exported as a latent-optimisation inpainter.

    Training pairs: `make_pair` returns `(z, image)`: z ~ U(-1, 1)^latent_dim drawn from the pipeline's stateless
    per-batch seed (so a run is reproducible from `--seed`), and the real image in [-1, 1] (the discriminator's
    "real" batch). The trainer (`AdversarialTrainer` without a content loss) feeds z to G.

    The "network" every other method receives is the prior `latent_inpainting.prior_network(G, D)`
    (z -> {"image", "score"}), which the trainer's `inference_network()` returns. Inpainting is
    `latent_inpainting.LatentInpainter` with this task's `preset` and options; z starts from a seed derived
    from the pixels (`content_seed`), so the same images always give the same result.

    Evaluation / TensorBoard: the centre `hole` square (32x32 of 64x64, R-576 `scale = 0.25`) is inpainted by
    the latent search with `eval_iterations` Adam steps (default 100, seed 004: the loss "flattens after 100
    iterations"; the export uses `iterations`), scored like `CentreHoleInpainting` (whole-image PSNR/SSIM
    after paste-back, hole PSNR/L1/L2; baseline: mean colour of the known pixels). The grid has one row per
    image: masked input | inpainted | original | a sample G(z) from a FIXED z (the same z every epoch, so the
    samples show the generator's progress).

    Export (SPEC §4): `serving_default` takes uint8 `images` `[None, H, W, 3]` and float32 `mask`
    `[None, H, W, 1]` (1.0 = fill) and returns uint8 `images` (G(z*) pasted into the hole, known pixels
    bit-exact), float32 `z` `[None, latent_dim]` and float32 `loss` (final objective per image); `centre_mask`
    takes `images` alone. The search loop (`iterations` Adam steps) is inside the SavedModel.

    Args:
      image_shape: (64, 64, 3). latent_dim: 100.
      preset: "lsgan" or "dcgan" (`latent_inpainting.PRESETS`).
      hole: side of the centre square of evaluation and `centre_mask`.
      iterations: Adam steps of the exported inpainter (default: the preset's, 1,500 / 500).
      eval_iterations: Adam steps of the per-epoch and test-set evaluation and of the grid.
      prior_weight, prior_loss, context_weighting: overrides of the preset (λ; "least_squares" | "log" |
        "bce"; "importance" | "binary").
    Raises:
      ValueError: unknown preset or option value.
    """

    accepts_mask = True
    value_range = (-1.0, 1.0)
    report = CentreHoleInpainting.report
    baseline_name = CentreHoleInpainting.baseline_name

    def __init__(self, image_shape=(64, 64, 3), latent_dim: int = 100, preset: str = "lsgan", hole: int = 32,
                 iterations: int | None = None, eval_iterations: int = 100, prior_weight: float | None = None,
                 prior_loss: str | None = None, context_weighting: str | None = None, grid_seed: int = 7):
        if preset not in latent_inpainting.PRESETS:
            raise ValueError(f"preset must be one of {sorted(latent_inpainting.PRESETS)}, got {preset!r}")
        self.image_shape = tuple(image_shape)
        self.latent_dim = int(latent_dim)
        self.preset = preset
        self.hole = int(hole)
        self.box = corruptions.centre_box(self.image_shape[0], self.image_shape[1], self.hole)
        self.eval_iterations = int(eval_iterations)
        self.grid_seed = int(grid_seed)
        self.inpainter_options = {k: v for k, v in dict(iterations=iterations, prior_weight=prior_weight,
                                                        prior_loss=prior_loss, weighting=context_weighting).items()
                                  if v is not None}
        options = {**latent_inpainting.PRESETS[preset], **self.inpainter_options}
        if options["prior_loss"] not in latent_inpainting.PRIOR_LOSSES:
            raise ValueError(f"prior_loss must be one of {sorted(latent_inpainting.PRIOR_LOSSES)}, "
                             f"got {options['prior_loss']!r}")
        if options["weighting"] not in ("importance", "binary"):
            raise ValueError(f"context_weighting must be 'importance' or 'binary', got {options['weighting']!r}")
        if int(options["iterations"]) < 0 or self.eval_iterations < 0:
            raise ValueError("iterations and eval_iterations must be >= 0")

    # Per-epoch validation budget (issue 15): the search costs `eval_iterations` generator passes per image, so
    # validating 1,000 (or a folder's 347) test images at 100 steps made a 10-step smoke run take 15 minutes.
    VALIDATION_IMAGES = 32
    VALIDATION_ITERATIONS = 20
    # A run shorter than the schedule (or on --max_examples) scores only this many test images at the end unless
    # --test_examples says otherwise (`RunConfig.resolved`); the paper-scale run scores the whole split.
    quick_run_test_images = 64

    def validation_view(self, val_examples: int) -> tuple["UnconditionalGeneration", int]:
        """The task and image count of the per-epoch validation (`val_*` metrics, grid): a copy of this task
        whose search runs at most `VALIDATION_ITERATIONS` steps, on at most `VALIDATION_IMAGES` of the
        `val_examples` test images. The final test evaluation keeps `eval_iterations` on the whole split."""
        view = copy.copy(self)
        view.eval_iterations = min(self.eval_iterations, self.VALIDATION_ITERATIONS)
        return view, min(int(val_examples), self.VALIDATION_IMAGES)

    def inpainter(self, network, refiner=None):
        """A `latent_inpainting.LatentInpainter` over the prior `network` with this task's settings (and an
        optional `refinement_ae` network `refiner`, seed 004 eq. 2.7)."""
        return latent_inpainting.LatentInpainter(network, preset=self.preset, refiner=refiner,
                                                 **self.inpainter_options)

    @property
    def iterations(self) -> int:
        return int(self.inpainter_options.get("iterations", latent_inpainting.PRESETS[self.preset]["iterations"]))

    # --- training -------------------------------------------------------------------------------------
    def make_pair(self, images: tf.Tensor, seed=None):
        """uint8 `[N, H, W, C]` -> (z `[N, latent_dim]` ~ U(-1, 1), real images in [-1, 1]).

        `seed` (int64 `[2]`) draws z; None (validation pairs) derives it from the pixels.
        """
        if seed is None:
            seed = content_seed(images, LATENT_SEED + 1)
        z = tf.random.stateless_uniform(tf.stack([tf.shape(images)[0], self.latent_dim]), seed, -1.0, 1.0)
        return z, to_model_range(images, self.value_range)

    # --- inference ------------------------------------------------------------------------------------
    def mask(self, images: tf.Tensor) -> tf.Tensor:
        """The centre-square mask `[N, H, W, 1]` (1.0 = hole)."""
        return corruptions.centre_mask(tf.shape(images)[0], self.image_shape[0], self.image_shape[1], self.hole)

    def restore(self, network, images: tf.Tensor, mask=None, iterations=None) -> dict[str, tf.Tensor]:
        """Latent-search inpainting of uint8 `images` where `mask` is 1 (default: the centre square).

        Returns the `LatentInpainter.complete` dict (`images` uint8 pasted, `prediction`, `z`, `loss`,
        `loss_curve`) plus float32 `input` (masked, [-1, 1]), `mask` and `restored` ([-1, 1], pasted back).
        """
        mask = self.mask(images) if mask is None else check_mask(mask, images)
        r = self.inpainter(network).complete(images, mask, content_seed(images, LATENT_SEED), iterations)
        x = to_model_range(images, self.value_range)
        r.update({"input": corruptions.apply_hole(x, mask, 0.0), "mask": mask,
                  "restored": corruptions.paste_back(x, r["prediction"], mask)})
        return r

    def serve(self, network, images: tf.Tensor, mask: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `serving_default`: uint8 `images` + float32 `mask` (1.0 = fill) -> uint8 `images`, `z`,
        `loss`."""
        r = self.restore(network, images, mask=mask)
        return {"images": r["images"], "z": r["z"], "loss": r["loss"]}

    def serve_centre(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `centre_mask`: uint8 `images` -> the centre square inpainted (`images`, `z`, `loss`)."""
        r = self.restore(network, images)
        return {"images": r["images"], "z": r["z"], "loss": r["loss"]}

    def serving_signatures(self):
        """{name: (function, input TensorSpecs)}: `serving_default` (images, mask) and `centre_mask` (images)."""
        images, mask = image_and_mask_specs(self.image_shape)
        return {"serving_default": (self.serve, [images, mask]), "centre_mask": (self.serve_centre, [images])}

    # --- evaluation -----------------------------------------------------------------------------------
    def evaluate_batch(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per-image centre-hole metrics `[N]` of the latent search (`eval_iterations` steps) and, prefixed
        `baseline_`, of the mean-colour fill."""
        r = self.restore(network, images, iterations=self.eval_iterations)
        target = tf.cast(images, tf.float32) / 255.0
        out = metrics.inpainting_metrics(tf.cast(r["images"], tf.float32) / 255.0, target, r["mask"])
        baseline = corruptions.mean_colour_fill(target, r["mask"])
        out.update({f"baseline_{k}": v for k, v in metrics.inpainting_metrics(baseline, target, r["mask"]).items()})
        return out

    def samples(self, network, n) -> tf.Tensor:
        """uint8 `[n, H, W, C]`: G(z) for a FIXED z (seed `grid_seed`): the same latent codes at every call."""
        z = tf.random.stateless_uniform(tf.stack([n, self.latent_dim]),
                                        tf.constant([self.grid_seed, LATENT_SEED], tf.int64), -1.0, 1.0)
        return to_uint8(network(z, training=False)["image"], self.value_range)

    def grid(self, network, images: tf.Tensor) -> tf.Tensor:
        """uint8 `[1, N*H, 4*W, C]`: masked input | inpainted (eval_iterations) | original | sample from fixed z."""
        r = self.restore(network, images, iterations=self.eval_iterations)
        return _rows_grid([to_uint8(r["input"], self.value_range), r["images"], tf.cast(images, tf.uint8),
                           self.samples(network, tf.shape(images)[0])])


class Refinement:
    """`refinement_ae` (seed 004 §2.2.4): an autoencoder that refines latent-inpainting completions.

    Training pairs (`make_pair`, in [-1, 1]): target = the original face; input = a base image plus Gaussian noise
    of standard deviation `input_noise` (0.1 in [-1, 1] units; spec/models.md §9's augmentation), clipped. The base:
      * without `refinement_cache` (the default, spec `--ae-input noise`: cheap, no z-search over the training set): the
        original itself, so the autoencoder learns to denoise;
      * with `refinement_cache=PATH` (an .npz written by `latent_inpainting.build_refinement_cache`: `original`,
        `completed`): the cached latent-inpainting completion of that image ("the completed image produced by
        LSGAN is sent and refined ... compared to the original image"). The pipeline's images are matched to
        the cache by an exact pixel fingerprint, so the usual `folder:`/tfds source, split, shuffling and
        resume are unchanged; training images absent from the cache fall back to noisy originals. Train with
        `--max_examples` equal to the cache's image count to use cached images only.

    Evaluation (cheap, needs no prior): test images with noise σ = `noise`; whole-image PSNR/SSIM of the
    output, next to the noisy input (baseline).

    Export: `serving_default` takes uint8 `images` (e.g. latent-inpainting completions) and float32 `mask`
    `[N, H, W, 1]` (1.0 = the hole) and returns uint8 `images`, the refined output pasted into the hole (seed
    eq. 2.7, `x = M⊙y + (1−M)⊙AE(x_lsgan)`); `refine` takes `images` alone and returns the whole refined image.

    Raises:
      FileNotFoundError: `cache` names a missing file. ValueError: a cache of another image size.
    """

    accepts_mask = True
    value_range = (-1.0, 1.0)
    report = (("psnr", "PSNR whole output image (dB)"), ("ssim", "SSIM whole output image"))

    def __init__(self, image_shape=(64, 64, 3), refinement_cache: str | None = None, input_noise: float = 0.1):
        self.image_shape = tuple(image_shape)
        self.noise = float(input_noise)
        cache = self.cache = refinement_cache
        self.baseline_name = f"the input with Gaussian noise sigma {self.noise:g} in [-1, 1] units"
        self._table = self._completed = None
        if cache:
            self._load_cache(cache)

    def _fingerprint(self, images: tf.Tensor) -> tf.Tensor:
        """int64 `[N]` exact-content key of uint8 images (a fixed random integer weighting of every pixel)."""
        weights = np.random.default_rng(40_04).integers(1, 2 ** 31, self.image_shape, dtype=np.int64)
        return tf.reduce_sum(tf.cast(images, tf.int64) * tf.constant(weights)[None], axis=[1, 2, 3])

    def _load_cache(self, path: str) -> None:
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(f"refinement cache {path!r} not found: build it with `python -m "
                                    "keras_inpaint.latent_inpainting --run_dir=RUN --cache=PATH`, or leave the "
                                    "cache option unset to train on noisy originals")
        with np.load(path) as f:
            original, completed = f["original"], f["completed"]
        if original.shape[1:] != self.image_shape or completed.shape != original.shape:
            raise ValueError(f"cache {path!r} holds images {original.shape[1:]}, expected {self.image_shape}")
        keys = self._fingerprint(tf.constant(original))
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(keys, tf.range(len(original), dtype=tf.int64)), default_value=-1)
        self._completed = tf.constant(completed)

    def _base(self, images: tf.Tensor) -> tf.Tensor:
        """float [-1, 1] base images: the cached completion where the cache has the image, else the image."""
        x = to_model_range(images, self.value_range)
        if self._table is None:
            return x
        index = self._table.lookup(self._fingerprint(images))
        completed = to_model_range(tf.gather(self._completed, tf.maximum(index, 0)), self.value_range)
        return tf.where((index >= 0)[:, None, None, None], completed, x)

    def _noisy(self, x: tf.Tensor, seed) -> tf.Tensor:
        noise = tf.random.stateless_normal(tf.shape(x), tf.cast(seed, tf.int64), stddev=self.noise)
        return tf.clip_by_value(x + noise, -1.0, 1.0)

    def make_pair(self, images: tf.Tensor, seed=None):
        """uint8 `[N, H, W, C]` -> (noisy completion or noisy original, original), float32 in [-1, 1]."""
        if seed is None:
            seed = content_seed(images, EVAL_SEED + 4)
        return self._noisy(self._base(images), seed), to_model_range(images, self.value_range)

    def restore(self, network, images: tf.Tensor, training: bool = False) -> dict[str, tf.Tensor]:
        """Evaluation: noisy uint8 `images` (seeded by their pixels) -> float32 [0, 1] `input`, `restored`."""
        x = to_model_range(images, self.value_range)
        noisy = self._noisy(x, content_seed(images, EVAL_SEED + 5))
        out = network(noisy, training=training)
        return {"input": to_unit_range(noisy, self.value_range),
                "restored": tf.clip_by_value(to_unit_range(out, self.value_range), 0.0, 1.0)}

    def serve(self, network, images: tf.Tensor, mask: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `serving_default`: uint8 completions + float32 `mask` (1.0 = hole) -> uint8 `images`, the
        refined output pasted into the hole (known pixels bit-exact)."""
        mask = check_mask(mask, images)
        out = network(to_model_range(images, self.value_range), training=False)
        return {"images": latent_inpainting.paste_uint8(images, out, mask)}

    def serve_refine(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """SavedModel `refine`: uint8 `images` -> uint8 `images`, the whole refined output."""
        return {"images": to_uint8(network(to_model_range(images, self.value_range), training=False),
                                   self.value_range)}

    def serving_signatures(self):
        """{name: (function, input TensorSpecs)}: `serving_default` (images, mask) and `refine` (images)."""
        images, mask = image_and_mask_specs(self.image_shape)
        return {"serving_default": (self.serve, [images, mask]), "refine": (self.serve_refine, [images])}

    def evaluate_batch(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per-image `psnr`, `ssim` `[N]` of the output and (prefix `baseline_`) of the noisy input."""
        r = self.restore(network, images)
        target = tf.cast(images, tf.float32) / 255.0
        out = {}
        for prefix, img in (("", r["restored"]), ("baseline_", r["input"])):
            out[f"{prefix}psnr"] = metrics.psnr(img, target)
            out[f"{prefix}ssim"] = metrics.ssim(img, target)
        return out

    def grid(self, network, images: tf.Tensor) -> tf.Tensor:
        """uint8 `[1, N*H, 3*W, C]`: noisy input | output | original."""
        r = self.restore(network, images)
        return _rows_grid([to_uint8(r["input"], (0.0, 1.0)), to_uint8(r["restored"], (0.0, 1.0)),
                           tf.cast(images, tf.uint8)])
