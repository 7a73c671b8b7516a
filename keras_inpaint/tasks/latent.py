"""Latent tasks (seed 004, seed 001's code): z -> image face priors trained as GANs and served as latent-
optimisation (z-search) inpainters, and the refinement autoencoder that polishes their completions."""
from __future__ import annotations

import copy

import numpy as np
import tensorflow as tf

from keras_inpaint import corruptions, latent_inpainting, metrics
from keras_inpaint.data import to_model_range, to_uint8, to_unit_range
from keras_inpaint.tasks.base import EVAL_SEED, Task, check_mask, check_range, content_seed, image_and_mask_specs, \
    rows_grid
from keras_inpaint.tasks.inpainting import CentreHoleInpainting

LATENT_SEED = 40_04  # first seed word of latent codes drawn for validation pairs and inpainting starts


class UnconditionalGeneration(Task):
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
      value_range: the generator's range; must be (-1, 1) (tanh).
    Raises:
      ValueError: unknown preset or option value, another value range.
    """

    family = "latent"
    takes_mask = True
    latent_search = True
    value_range = (-1.0, 1.0)
    report = CentreHoleInpainting.report
    baseline_name = CentreHoleInpainting.baseline_name

    def __init__(self, image_shape=(64, 64, 3), latent_dim: int = 100, preset: str = "lsgan", hole: int = 32,
                 iterations: int | None = None, eval_iterations: int = 100, prior_weight: float | None = None,
                 prior_loss: str | None = None, context_weighting: str | None = None, grid_seed: int = 7,
                 value_range=(-1.0, 1.0)):
        check_range(type(self).__name__, value_range, (-1.0, 1.0))
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
        if options["weighting"] not in latent_inpainting.CONTEXT_WEIGHTINGS:
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
        return rows_grid([to_uint8(r["input"], self.value_range), r["images"], tf.cast(images, tf.uint8),
                           self.samples(network, tf.shape(images)[0])])


class Refinement(Task):
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
    output, next to the noisy input (baseline). `on_prior` gives the protocol of the model's purpose (seed 004
    Table 3.2): refining a trained prior's z-search completions, against the unrefined completions.

    Export: `serving_default` takes uint8 `images` (e.g. latent-inpainting completions) and float32 `mask`
    `[N, H, W, 1]` (1.0 = the hole) and returns uint8 `images`, the refined output pasted into the hole (seed
    eq. 2.7, `x = M⊙y + (1−M)⊙AE(x_lsgan)`); `refine` takes `images` alone and returns the whole refined image.

    Raises:
      FileNotFoundError: `cache` names a missing file. ValueError: a cache of another image size.
    """

    family = "latent"
    takes_mask = True
    refines_prior = True
    value_range = (-1.0, 1.0)
    report = (("psnr", "PSNR whole output image (dB)"), ("ssim", "SSIM whole output image"))
    training_only_options = ("refinement_cache",)   # an export is scored and served without the cache file
    prior = None   # (prior task, prior network) in the view `on_prior` returns

    def __init__(self, image_shape=(64, 64, 3), refinement_cache: str | None = None, input_noise: float = 0.1,
                 value_range=(-1.0, 1.0)):
        check_range(type(self).__name__, value_range, (-1.0, 1.0))
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
                                    "keras_inpaint.cli.refinement_cache --run_dir=RUN --cache=PATH`, or leave the "
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

    def on_prior(self, prior_task, prior_network) -> "Refinement":
        """This task scored as seed 004 Table 3.2 scores "LSGAN+AutoEncoder" against "LSGAN": a copy whose
        evaluation completes each test image's centre hole by the z-search of `prior_task` on `prior_network`
        (a trained `lsgan`/`dcgan` prior: the prior's own evaluation protocol, `eval_iterations` Adam steps from
        the same pixel-seeded z start, so the baseline equals the prior's scores), refines the uint8 completion
        and pastes the output into the hole (eq. 2.7). Metrics: those of `CentreHoleInpainting` (whole image
        after paste-back, hole alone); baseline: the unrefined completion, i.e. the refiner's own input.

        Raises:
          ValueError: `prior_task` is not a z-search prior, or works on another image size.
        """
        if not prior_task.latent_search:
            raise ValueError(f"the prior must be a z-search prior (lsgan, dcgan), got a {type(prior_task).__name__}")
        if tuple(prior_task.image_shape) != self.image_shape:
            raise ValueError(f"the prior completes {tuple(prior_task.image_shape)} images, the refiner takes "
                             f"{self.image_shape}")
        view = copy.copy(self)
        view.prior = (prior_task, prior_network)
        view.report = CentreHoleInpainting.report
        view.baseline_name = (f"the unrefined z-search completion ({prior_task.eval_iterations} steps, "
                              f"{prior_task.preset} preset)")
        return view

    def evaluate_batch(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per-image `psnr`, `ssim` `[N]` of the output and (prefix `baseline_`) of the noisy input; on a prior
        (`on_prior`), the inpainting metrics of the refined and (`baseline_`) the unrefined completion."""
        target = tf.cast(images, tf.float32) / 255.0
        if self.prior is not None:
            prior_task, prior_network = self.prior
            r = prior_task.restore(prior_network, images, iterations=prior_task.eval_iterations)
            completed, mask = r["images"], r["mask"]
            out = network(to_model_range(completed, self.value_range), training=False)
            refined = latent_inpainting.paste_uint8(completed, out, mask)
            scores = metrics.inpainting_metrics(tf.cast(refined, tf.float32) / 255.0, target, mask)
            unrefined = metrics.inpainting_metrics(tf.cast(completed, tf.float32) / 255.0, target, mask)
            return {**scores, **{f"baseline_{k}": v for k, v in unrefined.items()}}
        r = self.restore(network, images)
        out = {}
        for prefix, img in (("", r["restored"]), ("baseline_", r["input"])):
            out[f"{prefix}psnr"] = metrics.psnr(img, target)
            out[f"{prefix}ssim"] = metrics.ssim(img, target)
        return out

    def grid(self, network, images: tf.Tensor) -> tf.Tensor:
        """uint8 `[1, N*H, 3*W, C]`: noisy input | output | original."""
        r = self.restore(network, images)
        return rows_grid([to_uint8(r["input"], (0.0, 1.0)), to_uint8(r["restored"], (0.0, 1.0)),
                           tf.cast(images, tf.uint8)])
