"""Latent-optimisation inpainting (Yeh et al. 2017; seed 004 §2.3 and seed 001's code; spec/models.md §3, §8).

An inference procedure, not a model: for each image, search the latent code z of a trained z -> image GAN
(`lsgan` or `dcgan`) so that G(z) matches the known pixels, then paste G(z) into the hole (SPEC §2):

    z* = argmin_z  L_c(z) + λ · L_p(z),   z ~ U(-1, 1)^100 at the start, clipped to [-1, 1] after every step
    L_c(z) = Σ_pixels |W ⊙ (G(z) - y)|                     contextual loss, per image (L1 sum)
    L_p(z) = prior(D(G(z)))                                prior ("perceptual") loss, per image
    out    = (1 - mask) · y + mask · G(z*)                 paste-back (optionally of a refined G(z*))

Mask polarity: masks here follow SPEC §2, **mask = 1.0 where the pixel is MISSING**. Yeh's M is the opposite
(M = 1 on known pixels), so his importance weights W_i = M_i · mean_{j ∈ N(i)} (1 - M_j) are, in SPEC terms,
`W = (1 - mask) · boxfilter_7x7(mask)` (`importance_weights`; R-YEH `tools.py createWeightedMask(nsize=7)`, box
filter with symmetric boundary): known pixels within 3 px of the hole get weight > 0, the hole and far known
pixels 0. `weighting="binary"` uses W = 1 - mask (seed 004's eq. §3.2.1, R-576, R-BA).

Prior losses on the discriminator's raw output s = D(G(z)) (`PRIOR_LOSSES`): "least_squares" (s - 1)² (the LSGAN
generator objective, bounded: the default for the linear `lsgan` critic, spec 004-c), "log" log(1 - σ(s)) =
-softplus(s) (Yeh's / the seed's form, on logits), "bce" BCE(σ(s), 1) = softplus(-s) (R-576's generator loss;
`dcgan` preset).

Optimiser: Adam on z written out in TF ops (bias-corrected, `m̂ / (sqrt(v̂) + ε)` as R-BA / R-576), so that the
whole search is one `tf.while_loop` that traces into a SavedModel: `tasks.UnconditionalGeneration.serve`
exports it, and `tf.saved_model.load(path).signatures["serving_default"](images=..., mask=...)` runs it in plain
TensorFlow. Every image has its own z and its own gradient (the loss is a sum of per-image terms; R-576's
`g[0]` bug, 001-e, is not reproduced).

Presets (`PRESETS`):
  * "lsgan" (seed 004): importance weighting (7x7), least-squares prior, λ = 10 ("we have chosen λ as 10"),
    Adam lr 0.01, betas 0.9 / 0.999, ε 1e-8, 1,500 iterations (P-YEH; the seed: the loss "flattens after 100
    iterations").
  * "dcgan" (seed 001's code R-576): binary weighting (plain L1 of the known pixels), BCE prior, λ = 0.1,
    Adam lr 0.01, betas 0.9 / 0.9, ε 1e-9, 500 iterations.

Python:   LatentInpainter(generator, discriminator, preset="lsgan").inpaint(uint8 images, mask)
CLI:      python -m keras_inpaint.cli.inpaint --prior=saved_models/lsgan/1 --images='faces/*.jpg' --output_dir=out
Cache:    python -m keras_inpaint.cli.refinement_cache --run_dir=runs/lsgan-... --cache=refine_cache.npz
          (inpainter completions of training faces for `refinement_ae`, see `build_refinement_cache`).
"""
from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from keras_inpaint import corruptions
from keras_inpaint.data import to_model_range, to_uint8

VALUE_RANGE = (-1.0, 1.0)

PRESETS = {
    "lsgan": dict(prior_loss="least_squares", prior_weight=10.0, weighting="importance", window=7,
                  learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8, iterations=1500),
    "dcgan": dict(prior_loss="bce", prior_weight=0.1, weighting="binary", window=7,
                  learning_rate=0.01, beta_1=0.9, beta_2=0.9, epsilon=1e-9, iterations=500),
}


def _per_image(score: tf.Tensor) -> tf.Tensor:
    score = tf.cast(score, tf.float32)
    return tf.reduce_mean(tf.reshape(score, [tf.shape(score)[0], -1]), axis=1)


PRIOR_LOSSES = {
    "least_squares": lambda s: _per_image(tf.square(s - 1.0)),   # (D(G(z)) - 1)²
    "log": lambda s: _per_image(-tf.nn.softplus(s)),            # log(1 - sigmoid(D(G(z))))
    "bce": lambda s: _per_image(tf.nn.softplus(-s)),            # BCE-with-logits(D(G(z)), 1)
}
CONTEXT_WEIGHTINGS = ("importance", "binary")   # Yeh et al.'s importance weighting, or the plain known-pixel mask


def prior_network(generator: keras.Model, discriminator: keras.Model) -> keras.Model:
    """The searched prior as one Keras model: z `[N, latent]` -> {"image": G(z), "score": D(G(z))}.

    Shares the layers (and so the weights) of `generator` and `discriminator`; this is what the `lsgan`/`dcgan`
    trainers hand to their task (`AdversarialTrainer.inference_network`) and what is exported.
    """
    z = keras.Input(generator.input_shape[1:], name="z")
    image = generator(z)
    return keras.Model(z, {"image": image, "score": discriminator(image)}, name=f"{generator.name}_prior")


def importance_weights(mask: tf.Tensor, window: int = 7) -> tf.Tensor:
    """Yeh et al.'s importance weights for a SPEC mask (1.0 = missing): `(1 - mask) · boxfilter(mask)`.

    `mask` float32 `[N, H, W, 1]`; the box filter is the mean over a `window` x `window` neighbourhood with
    symmetric (mirror) boundary. Returns float32 `[N, H, W, 1]` in [0, 1]: 0 in the hole and on known pixels
    farther than `window // 2` from it.
    """
    mask = tf.cast(mask, tf.float32)
    r = window // 2
    padded = tf.pad(mask, [[0, 0], [r, r], [r, r], [0, 0]], mode="SYMMETRIC")
    box = tf.nn.avg_pool2d(padded, window, strides=1, padding="VALID")
    return (1.0 - mask) * box


def context_weights(mask: tf.Tensor, weighting: str = "importance", window: int = 7) -> tf.Tensor:
    """W of the contextual loss: `importance_weights` or, `weighting="binary"`, 1 - mask (every known pixel)."""
    if weighting == "importance":
        return importance_weights(mask, window)
    if weighting == "binary":
        return 1.0 - tf.cast(mask, tf.float32)
    raise ValueError(f"weighting must be 'importance' or 'binary', got {weighting!r}")


class LatentInpainter:
    """z-search inpainter over a trained z -> image GAN (see the module docstring).

    Args:
      generator: z `[N, latent]` -> image `[N, H, W, C]` in [-1, 1]; or, with `discriminator=None`, a
        `prior_network` (z -> {"image", "score"}).
      discriminator: image -> raw score (logits or least-squares score), or None (see above).
      preset: "lsgan" or "dcgan" (`PRESETS`); the keyword arguments below override its values.
      iterations: Adam steps on z. prior_loss: "least_squares", "log" or "bce". prior_weight: λ.
      weighting: "importance" or "binary"; window: the importance box-filter size.
      learning_rate, beta_1, beta_2, epsilon: Adam on z.
      refiner: optional Keras model (`refinement_ae`) applied to the pasted completion; its output is pasted
        into the hole in turn (seed 004 eq. 2.7).
    Raises:
      ValueError: unknown preset, prior loss or weighting.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model | None = None, *, preset: str = "lsgan",
                 refiner: keras.Model | None = None, **overrides):
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
        unknown = sorted(set(overrides) - set(PRESETS[preset]))
        if unknown:
            raise ValueError(f"unknown LatentInpainter option(s) {unknown}; valid: {sorted(PRESETS[preset])}")
        options = {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}
        if options["prior_loss"] not in PRIOR_LOSSES:
            raise ValueError(f"prior_loss must be one of {sorted(PRIOR_LOSSES)}, got {options['prior_loss']!r}")
        if options["weighting"] not in CONTEXT_WEIGHTINGS:
            raise ValueError(f"weighting must be 'importance' or 'binary', got {options['weighting']!r}")
        self.preset = preset
        self.options = options
        self.prior = generator if discriminator is None else prior_network(generator, discriminator)
        self.latent_dim = int(self.prior.input_shape[-1])
        self.refiner = refiner
        self._compiled = None

    def __getattr__(self, name):  # options as attributes: inpainter.iterations, inpainter.prior_weight, ...
        options = self.__dict__.get("options", {})
        if name in options:
            return options[name]
        raise AttributeError(name)

    # --- the search (graph-compatible) -----------------------------------------------------------------
    def objective(self, z: tf.Tensor, target: tf.Tensor, weights: tf.Tensor):
        """-> (per-image loss `[N]` = contextual + λ·prior, G(z) `[N, H, W, C]`)."""
        out = self.prior(z, training=False)
        image = tf.cast(out["image"], tf.float32)
        contextual = tf.reduce_sum(tf.abs(weights * (image - target)), axis=[1, 2, 3])
        prior = PRIOR_LOSSES[self.options["prior_loss"]](out["score"])
        return contextual + float(self.options["prior_weight"]) * prior, image

    def search(self, target: tf.Tensor, mask: tf.Tensor, z0: tf.Tensor, iterations=None) -> dict[str, tf.Tensor]:
        """Adam on z as a `tf.while_loop` (traces into a SavedModel).

        Args:
          target: float32 `[N, H, W, C]` in [-1, 1] (hole pixels are ignored: their weight is 0).
          mask: float32 `[N, H, W, 1]`, 1.0 = missing.
          z0: float32 `[N, latent]` start, in [-1, 1].
          iterations: int or scalar int32 tensor (default: the preset's).
        Returns:
          {"z": `[N, latent]`, "image": G(z) `[N, H, W, C]`, "loss": final per-image loss `[N]`,
           "loss_curve": `[iterations, N]`, the per-image loss at each step's z before its update}.
        """
        o = self.options
        iterations = tf.cast(o["iterations"] if iterations is None else iterations, tf.int32)
        target = tf.cast(target, tf.float32)
        weights = context_weights(mask, o["weighting"], o["window"])
        b1, b2 = tf.constant(o["beta_1"], tf.float32), tf.constant(o["beta_2"], tf.float32)
        lr, eps = tf.constant(o["learning_rate"], tf.float32), tf.constant(o["epsilon"], tf.float32)
        z0 = tf.cast(z0, tf.float32)

        def body(i, z, m, v, curve):
            with tf.GradientTape() as tape:
                tape.watch(z)
                per_image, _ = self.objective(z, target, weights)
                total = tf.reduce_sum(per_image)  # sum: each z gets its own image's gradient
            g = tape.gradient(total, z)
            t = tf.cast(i + 1, tf.float32)
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * tf.square(g)
            step = lr * (m / (1.0 - tf.pow(b1, t))) / (tf.sqrt(v / (1.0 - tf.pow(b2, t))) + eps)
            return i + 1, tf.clip_by_value(z - step, -1.0, 1.0), m, v, curve.write(i, per_image)

        curve = tf.TensorArray(tf.float32, size=iterations, element_shape=tf.TensorShape([None]))
        _, z, _, _, curve = tf.while_loop(
            lambda i, *_: i < iterations, body,
            (tf.constant(0), z0, tf.zeros_like(z0), tf.zeros_like(z0), curve))
        loss, image = self.objective(z, target, weights)
        return {"z": z, "image": image, "loss": loss, "loss_curve": curve.stack()}

    def complete(self, images: tf.Tensor, mask: tf.Tensor, seed, iterations=None) -> dict[str, tf.Tensor]:
        """uint8 `images` `[N, H, W, C]` + float32 `mask` (1.0 = fill) -> the search and the pasted result.

        z starts at U(-1, 1) drawn from the stateless `seed` (int `[2]`). Returns the `search` dict plus
        "prediction" (G(z), refined if a refiner is set, [-1, 1]) and "images" (uint8, known pixels copied
        from the input bit-exactly, the hole from the prediction); with a refiner also "images_unrefined" (G(z)
        pasted back before refinement, so one search scores both).
        """
        images = tf.convert_to_tensor(images)
        mask = tf.cast(mask, tf.float32)
        x = to_model_range(images, VALUE_RANGE)
        z0 = tf.random.stateless_uniform(tf.stack([tf.shape(x)[0], self.latent_dim]), tf.cast(seed, tf.int64),
                                         -1.0, 1.0)
        result = self.search(x, mask, z0, iterations)
        prediction = result["image"]
        if self.refiner is not None:
            result["images_unrefined"] = paste_uint8(images, prediction, mask)
            prediction = self.refiner(corruptions.paste_back(x, prediction, mask), training=False)
        result["prediction"] = prediction
        result["images"] = paste_uint8(images, prediction, mask)
        return result

    def inpaint(self, images, mask=None, *, iterations=None, seed=(0, 0)) -> dict[str, np.ndarray]:
        """Python API: uint8 `images` `[N, H, W, C]` (array or tensor), `mask` float `[N, H, W, 1]` (1.0 = fill;
        default the centre square of half the side, R-576 `scale = 0.25`) -> numpy dict with "images" (uint8,
        pasted back), "z", "loss" (final per image) and "loss_curve" (`[iterations]`, mean over the images)."""
        images = tf.convert_to_tensor(images, tf.uint8)
        if mask is None:
            n, h, w = images.shape[:3]
            mask = corruptions.centre_mask(n, h, w, (h // 2, w // 2))
        if self._compiled is None:
            self._compiled = tf.function(lambda x, m, s, it: self.complete(x, m, s, it))
        it = tf.constant(self.options["iterations"] if iterations is None else iterations, tf.int32)
        r = self._compiled(images, tf.cast(mask, tf.float32), tf.constant(seed, tf.int64), it)
        out = {k: r[k].numpy() for k in ("images", "z", "loss")}
        out["loss_curve"] = tf.reduce_mean(r["loss_curve"], axis=1).numpy() if int(it) else np.zeros([0], np.float32)
        return out


def paste_uint8(images: tf.Tensor, prediction: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """SPEC §2 paste-back at the uint8 level: the input's pixels where mask == 0 (bit-exact), the prediction
    (float in [-1, 1], converted by `to_uint8`) where mask == 1."""
    hole = tf.broadcast_to(tf.cast(mask, tf.float32) > 0.5, tf.shape(images))
    # selected as int32 (the same values): LiteRT has no uint8 select (`keras_inpaint.portable`)
    picked = tf.where(hole, tf.cast(to_uint8(prediction, VALUE_RANGE), tf.int32), tf.cast(images, tf.int32))
    return tf.cast(picked, tf.uint8)


# ---------------------------------------------------------------------------------------------------------
# Training pairs for `refinement_ae` (seed 004 §2.2.1: "the completed image produced by LSGAN is sent and refined").
# ---------------------------------------------------------------------------------------------------------
CACHE_ITERATIONS = 100   # reduced from 1,500: seed 004, "the loss flattens after 100 iterations"
CACHE_IMAGES = 1000


def build_refinement_cache(inpainter: LatentInpainter, images, path: str, *, iterations: int = CACHE_ITERATIONS,
                           batch_size: int = 64, hole: int = 32, seed: int = 0) -> str:
    """Inpaints the centre `hole` square of each image and writes the pairs to the .npz `path`.

    Args:
      inpainter: a `LatentInpainter` over the trained prior.
      images: `tf.data.Dataset` of uint8 `[H, W, C]` images (e.g. `data.load_images(dataset, "train", (64, 64),
        3, crop="face108", max_examples=CACHE_IMAGES)`) or a uint8 array `[N, H, W, C]`.
      iterations: Adam steps on z per batch (reduced, `CACHE_ITERATIONS`).
    Writes `original` and `completed` (uint8 `[N, H, W, C]`, the completion pasted into the hole), `mask`
    (float32 `[H, W, 1]`) and `iterations`; `tasks.Refinement(cache=path)` trains on them.
    Returns `path`.
    """
    if not isinstance(images, tf.data.Dataset):
        images = tf.data.Dataset.from_tensor_slices(np.asarray(images, np.uint8))
    originals, completed, mask = [], [], None
    for i, batch in enumerate(images.batch(batch_size)):
        n, h, w = batch.shape[:3]
        mask = corruptions.centre_mask(n, h, w, hole)
        r = inpainter.inpaint(batch, mask, iterations=iterations, seed=(seed, i))
        originals.append(batch.numpy())
        completed.append(r["images"])
        print(f"  cache: {sum(len(o) for o in originals)} images, mean final loss {r['loss'].mean():.3f}")
    if not originals:
        raise ValueError("no images to cache")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    np.savez_compressed(path, original=np.concatenate(originals), completed=np.concatenate(completed),
                        mask=mask[0].numpy(), iterations=np.int64(iterations))
    return path
