"""Inpainting tasks: a fixed centred hole (seed 000's context encoders), arbitrary masks (seed 001's
conditional DCGAN, the free-form inpainter of issue 13) and natural photos of any size scored against classical
methods (the photo inpainter of issue 37), with the mask recipes of training and evaluation."""
from __future__ import annotations

import copy

import tensorflow as tf

from keras_inpaint import classical as classical_baselines
from keras_inpaint import corruptions, metrics
from keras_inpaint.data import to_model_range, to_uint8, to_unit_range
from keras_inpaint.tasks.base import (Task, check_mask, content_seed, image_and_mask_specs, rows_grid, run_padded,
                                     run_self_ensemble)


class CentreHoleInpainting(Task):
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

    family = "inpainting"

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
        return rows_grid([to_uint8(r["input"], self.value_range), to_uint8(r["restored"], self.value_range),
                          tf.cast(images, tf.uint8)])

    # Reported in the printed table, in this order, with a short explanation of each.
    report = (
        ("psnr", "PSNR whole image after paste-back (dB)"),
        ("ssim", "SSIM whole image after paste-back"),
        ("hole_psnr", "PSNR of the hole only (dB)"),
        ("hole_l1", "mean L1 of the hole ([0,1] units)"),
        ("hole_l2", "mean L2 of the hole ([0,1] units)"),
    )
    baseline_name = "mean colour of the known pixels"


MASK_EVAL_SEED = 30_01  # first seed word of evaluation random-box masks (the second word hashes the pixels)


MASK_KINDS = ("centre", "random_box", "free_form:thin", "free_form:medium", "free_form:thick", "free_form:boxes",
              "brush", "mixed", "mixed_centre", "lama")
# The mixtures: one kind drawn with these probabilities per batch, or per image for `PER_IMAGE_MIXTURES`. "mixed"
# is the free_form_inpaint training default; "mixed_centre" gives the centre square half the batches (the
# fine-tuning of free_form_inpaint/3); "lama" is lama_ffc's: LaMa's thin / medium / thick strokes and its box
# masks, a quarter each, drawn per image (issue 37).
MASK_MIXTURES = {
    "mixed": (("centre", 0.25), ("random_box", 0.25), ("free_form:thin", 1 / 6), ("free_form:medium", 1 / 6),
              ("free_form:thick", 1 / 6)),
    "mixed_centre": (("centre", 0.5), ("random_box", 0.125), ("free_form:thin", 0.125),
                     ("free_form:medium", 0.125), ("free_form:thick", 0.125)),
    "lama": (("free_form:thin", 0.25), ("free_form:medium", 0.25), ("free_form:thick", 0.25),
             ("free_form:boxes", 0.25)),
}
MIXED_MASKS = MASK_MIXTURES["mixed"]
# Mixtures drawn per image, as LaMa's MixedMaskGenerator draws one kind per sample: a network with BatchNorm
# (lama_ffc) trained on one kind per batch learns with per-kind batch statistics that no single set of inference
# statistics matches. (Issue 37: BatchNorm's inference statistics were lama_ffc's largest error, 3.5-5.4 dB of
# CBSD68 PSNR at 2,500 steps; the per-kind share of it was not measured apart.)
PER_IMAGE_MIXTURES = ("lama",)


def make_mask(kind: str, images: tf.Tensor, seed, hole: int = 32, box_area=(1 / 16, 1 / 4)) -> tf.Tensor:
    """A float32 `[N, H, W, 1]` mask (1.0 = hole) of `kind` (`MASK_KINDS`) for a batch `images` `[N, H, W, C]`.

    "centre": the centred `hole` x `hole` square (images of a static size); "random_box": one box of
    `box_area` of the image (`corruptions.random_box_mask`); "free_form:thin|medium|thick": LaMa's strokes and
    boxes, "free_form:boxes" LaMa's box masks alone (`corruptions.free_form_mask`); "brush": DeepFill v2's strokes
    (`corruptions.brush_stroke_mask`); "mixed" / "mixed_centre": one kind of `MASK_MIXTURES[kind]` for the whole
    batch, drawn from `seed`; "lama" (`PER_IMAGE_MIXTURES`): one kind per image, each image's mask drawn alone
    from its own seed (a seed pair per image from `seed`).

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
    mixture = MASK_MIXTURES[kind]
    if kind in PER_IMAGE_MIXTURES:
        index = tf.random.stateless_categorical(tf.math.log([[p for _, p in mixture]]), shape[0], pick)[0]
        seeds = tf.random.stateless_uniform([shape[0], 2], draw, minval=None, maxval=None, dtype=tf.int64)

        def one(args):
            i, s, image = args
            return tf.switch_case(tf.cast(i, tf.int32), [lambda k=k: make_mask(k, image[None], s, hole, box_area)[0]
                                                         for k, _ in mixture])
        return tf.map_fn(one, (index, seeds, images), fn_output_signature=tf.TensorSpec([None, None, 1], tf.float32))
    cumulative = tf.cumsum([p for _, p in mixture])
    index = tf.reduce_sum(tf.cast(tf.random.stateless_uniform([], pick) >= cumulative[:-1], tf.int32))
    branches = [lambda k=k: make_mask(k, images, draw, hole, box_area) for k, _ in mixture]
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
    free-form presets "free_form:thin|medium|thick", DeepFill v2's "brush" strokes, or "mixed" /
    "mixed_centre" (one kind of `MASK_MIXTURES[mask]` per batch). Training masks are drawn from the pipeline's
    per-batch seed; evaluation masks are seeded by the pixels (`content_seed`), so a test image always gets the
    same hole whichever model is scored (a fixed mask set per kind). Metrics and baseline are
    `CentreHoleInpainting`'s (whole-image PSNR/SSIM after paste-back, hole PSNR/L1/L2; mean colour; `mask_area`
    for the per-area-bin report).

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

    takes_mask = True

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
            return corruptions.centre_mask(tf.shape(images)[0], self.image_shape[0], self.image_shape[1],
                                           self.hole)
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
            run = run_self_ensemble if self.self_ensemble and not training else run_padded
            out = run(network, inputs, self.multiple, training=training, builtin_ops=self.builtin_ops)
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


EVAL_PRESETS = ("thin", "medium", "thick")   # LaMa's evaluation masks (its random_{thin,medium,thick} sets)


class PhotoInpainting(MaskedInpainting):
    """Free-form inpainting of natural photos of any size, scored against classical methods (issue 37: `lama_ffc`).

    Training (`make_pair`, on random P x P crops of photos from `data.patch_pipeline`): the crop in [0, 1] with
    its hole set to `fill_value` (0, as LaMa's `img * (1 - mask)`) and the mask as a fourth channel (SPEC §2,
    1.0 = hole); target the whole crop. Masks of kind `mask` (default "lama": one of LaMa's thin / medium / thick
    strokes or its box masks per image, `MASK_MIXTURES`), drawn in the input pipeline from its per-batch seed and
    sized for the crop (`corruptions.free_form_mask`: LaMa's 256-pixel sizes scaled by min(H, W) / 256).

    Evaluation (`evaluate_batch`, whole photos, batch 1): for each of `eval_masks` (LaMa's thin, medium and thick
    presets, sized for the photo: x1.25 on a 481x321 CBSD68 photo) one fixed mask per photo, seeded by its pixels
    (`content_seed(images, MASK_EVAL_SEED)`: the same holes `free_form_inpaint` gets with `--mask=free_form:<p>`,
    whichever model or baseline is scored); PSNR / SSIM of the whole photo after paste-back and the hole's PSNR /
    L1 / L2 (SPEC §3), keys suffixed `_<preset>` (`psnr_thin`, ...), with `mask_area_<preset>` for the per-area
    bins (`evaluation.evaluate`). Baselines on the same holes: the mean colour of the known pixels
    (`baseline_<metric>_<preset>`, SPEC §3) and each of the `classical` methods (`keras_inpaint.classical`:
    OpenCV Telea and Navier-Stokes, radius 5, and scikit-image's biharmonic inpainting;
    `baseline_<method>_<metric>_<preset>`; listed in `extra_baselines`). Without the `[eval]` extra the classical
    baselines are skipped with a warning. `network=None` scores the baselines alone
    (`python -m keras_inpaint.cli.baselines`).

    Export (SPEC §4): `serving_default` takes uint8 `images` `[N, H, W, C]` of any size and a float32 `mask`
    `[N, H, W, 1]`; returns uint8 `images`, known pixels unchanged. No `centre_mask` signature (photos have no
    fixed hole). Inputs are padded to a multiple of `multiple` (8) and cropped back (`run_padded`), with the
    geometric self-ensemble when `self_ensemble` (`run_self_ensemble`).

    Args:
      image_shape: (P, P, C), the training crop.
      value_range: the network's range ((0, 1): LaMa's images; `lama_ffc` clips its output to it).
      fill_value: hole value of the network input.
      mask: training mask kind (`MASK_KINDS`; default "lama").
      eval_masks: LaMa presets of the evaluation (`corruptions.FREE_FORM_PRESETS`).
      classical: classical baselines of the evaluation (keys of `classical.METHODS`; () for none).
      multiple: the network's size multiple.
      hole: side of the centre square that `fill` reports (unused by photos; `MaskedInpainting`'s).
      self_ensemble: evaluation, export and prediction run the network on the 8 flips / rotations of the photo
        and average (`run_self_ensemble`; 8x the time); training sees one view.
    Raises:
      ValueError: unknown mask kind, evaluation preset or classical method.
    """

    # a quick run (shorter than the schedule, or --max_examples) scores 8 test photos unless --test_examples says
    # otherwise: each photo costs 3 masks x (the model + 3 classical methods; biharmonic ~1-2 s)
    quick_run_test_images = 8

    def __init__(self, image_shape, value_range=(0.0, 1.0), fill_value: float = 0.0, mask: str = "lama",
                 eval_masks=EVAL_PRESETS, classical=tuple(classical_baselines.METHODS), multiple: int = 8,
                 hole: int = 32, self_ensemble: bool = False):
        super().__init__(image_shape, hole=hole, value_range=value_range, fill_value=fill_value, mask=mask,
                         mask_input=True, any_size=True, multiple=multiple)
        self.self_ensemble = bool(self_ensemble)
        unknown = sorted(set(eval_masks) - set(corruptions.FREE_FORM_PRESETS))
        if unknown or not eval_masks:
            raise ValueError(f"eval_masks must be LaMa presets ({', '.join(corruptions.FREE_FORM_PRESETS)}), got "
                             f"{tuple(eval_masks)!r}")
        unknown = sorted(set(classical) - set(classical_baselines.METHODS))
        if unknown:
            raise ValueError(f"classical baselines must be among {', '.join(classical_baselines.METHODS)}, got "
                             f"{', '.join(unknown)}")
        self.eval_masks = tuple(eval_masks)
        self.classical = tuple(classical)
        self.extra_baselines = tuple((m, classical_baselines.METHODS[m]) for m in self.classical)
        self.report = tuple(item for p in self.eval_masks for item in (
            (f"psnr_{p}", f"PSNR whole photo after paste-back, LaMa {p} (dB)"),
            (f"ssim_{p}", f"SSIM whole photo after paste-back, LaMa {p}"),
            (f"hole_psnr_{p}", f"PSNR of the hole only, LaMa {p} (dB)")))
        self._warned = False

    def eval_mask(self, preset: str, images: tf.Tensor) -> tf.Tensor:
        """The fixed evaluation mask of LaMa `preset` for uint8 `images` `[N, H, W, C]`, float32 `[N, H, W, 1]`."""
        return make_mask(f"free_form:{preset}", images, content_seed(images, MASK_EVAL_SEED))

    def _methods(self) -> tuple[str, ...]:
        if self.classical and not classical_baselines.available():
            if not self._warned:
                print(f"warning: {classical_baselines.INSTALL_HINT}; they are left out of this evaluation")
                self._warned = True
            return ()
        return self.classical

    def evaluate_batch(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per-photo metrics `[N]` for every evaluation preset (class docstring): the model's (none when `network`
        is None), the mean colour's (`baseline_`) and each classical method's (`baseline_<method>_`)."""
        target = tf.cast(images, tf.float32) / 255.0
        methods = self._methods()
        out = {}
        for preset in self.eval_masks:
            mask = self.eval_mask(preset, images)
            filled = {"baseline_": corruptions.mean_colour_fill(target, mask)}
            for method in methods:
                filled[f"baseline_{method}_"] = classical_baselines.fill(method, target, mask)
            if network is not None:
                filled[""] = to_unit_range(self.restore(network, images, mask=mask)["restored"], self.value_range)
            for prefix, restored in filled.items():
                for k, v in metrics.inpainting_metrics(restored, target, mask).items():
                    out[f"{prefix}{k}_{preset}"] = v
            out[f"mask_area_{preset}"] = tf.reduce_mean(mask, axis=[1, 2, 3])
        return out

    def grid(self, network, images: tf.Tensor) -> tf.Tensor:
        """Image grid, uint8 `[1, N*H, K*W, C]`, with the middle evaluation preset's masks (LaMa medium): masked
        input | output (pasted back) | OpenCV Telea (when it is one of `classical` and installed) | original."""
        mask = self.eval_mask(self.eval_masks[len(self.eval_masks) // 2], images)
        r = self.restore(network, images, mask=mask)
        columns = [to_uint8(r["input"], self.value_range), to_uint8(r["restored"], self.value_range)]
        if "telea" in self._methods():
            telea = classical_baselines.fill("telea", tf.cast(images, tf.float32) / 255.0, mask)
            columns.append(to_uint8(telea, (0.0, 1.0)))
        return rows_grid(columns + [tf.cast(images, tf.uint8)])

    def validation_view(self, val_examples: int):
        """The per-epoch validation: this task without the classical baselines (they do not change during
        training, and need the `[eval]` extra), on `val_examples` images."""
        view = copy.copy(self)
        view.classical, view.extra_baselines = (), ()
        return view, int(val_examples)

    def serving_signatures(self):
        """{name: (function, input TensorSpecs)}: `serving_default` only (images and mask of any size)."""
        images, mask = image_and_mask_specs((None, None, self.image_shape[2]))
        return {"serving_default": (self.serve, [images, mask])}
