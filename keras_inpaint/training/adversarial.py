"""The adversarial trainer: a `keras.Model` whose `train_step` trains a generator and a discriminator (SPEC §5).

`AdversarialTrainer` wraps two built Keras networks and overrides `train_step` / `test_step` with explicit
`tf.GradientTape`s and two optimisers, in the style of keras-io's `dcgan_overriding_train_step.py`, so that
everything `fit()` offers keeps working: callbacks and progress bars (the loss trackers are returned from
`train_step`), `BackupAndRestore` resume (both networks, both optimisers and the trackers are saved by
`save_weights`), `jit_compile`, `steps_per_execution`, and `tf.distribute` strategies (every loss is a mean over
the GLOBAL batch: per-example losses reduced with `tf.nn.compute_average_loss`, replicas' gradients summed),
and Keras dtype policies (`keras_inpaint.precision`: the networks' outputs are float32, losses are computed in
float32, and under `mixed_float16` both optimisers scale the loss (`LossScaleOptimizer`)).

One training step, on a batch `(network_input, target)` exactly as a task's `make_pair` produces it:

  1. `fake = G(network_input)` (training mode), computed once;
  2. `d_steps` discriminator updates, all on the same real batch `view(target)` and the same generated batch
     `view(fake)` (deblur-gan's `critic_updates = 5`; seed 002: "der Diskriminator fünfmal so oft ...
     trainiert wie der Generator"). Real and fake go through D in separate calls (seed 000: "em batches
     separados"), so each has its own BatchNorm statistics; each update minimises
     `d_loss = discriminator_loss(D(real), D(fake)) [+ gradient_penalty_weight * gradient_penalty]`;
  3. one generator update on `g_loss = content_weight * content(target, fake) + adversarial_weight *
     generator_loss(D(view(fake)))`, with D as updated in step 2;
  4. `g_steps - 1` further generator updates on the same batch, each RECOMPUTING G(network_input), D's verdict
     and the gradient with the generator as just updated (seed 001's code does 1 D update then 2 G updates;
     R-BA "run g_optim twice").

With both adversarial terms weighted 0 (`adversarial_weight` and `feature_matching_weight`, e.g. `train.py
--adversarial_weight=0 --feature_matching=0`) D cannot reach the generator: the step is steps 1, 3 and 4 on the
content loss alone, D is never run (its weights, statistics and optimiser stay as they are) and only `g_loss` and
`g_content` are logged (`content_only`).

Unconditional GANs (`lsgan`, `dcgan`: z -> image) use the same step with `content_loss=None`: the task's
`make_pair` returns `(z, real image)` with z ~ U(-1, 1) drawn from the pipeline's stateless per-batch seed, the
generator loss is the adversarial term alone, and `g_content` is not logged. Their `inference_network()` is
not the bare generator but `inference_builder(generator, discriminator)` (the z -> {image, score} prior that
the latent-optimisation inpainter searches), which `training.checkpoints.inference_network` hands to the task.

`view` is what the discriminator sees (a trainer option): the generator output / target as they are (the 16x16
centre fill for `context_encoder_gan`, the whole image for the others), a `(top, left, h, w)` box of them, or
any callable.

Logged (progress bar, History, TensorBoard): `d_loss`, `g_loss`, `g_content` and `g_adv` (the unweighted
generator terms), `d_real` = mean D(x), `d_fake` = mean D(G(x)) (over the step's critic updates), and `d_gp` when
the gradient penalty is on. Validation (`test_step`) reports the content loss of G in inference mode as `loss`
(so `val_loss` in the logs). `trainer.optimizer` is the generator's optimiser: its `iterations` counts
generator updates (`g_steps` per training step; 1 except for `dcgan`); `trainer.d_optimizer.iterations` counts
`d_steps` per training step.

Differences from the Keras-2 reference code (`train_on_batch` on D, then on a frozen-D combined model),
chosen so that one `train_step` is one graph and one fake batch:
  * R-DB and seed 000 make the fake batch with `G.predict` (inference mode) and then recompute G(x) in training
    mode inside the combined model; here G runs once, in training mode, and that output is used for D's updates
    (as a constant) and for G's loss (the keras-io / TF DCGAN-tutorial practice);
  * a Keras-2 D step is two `train_on_batch` calls (two optimiser updates: real, then fake); here it is one
    update on the sum of the real and fake terms;
  * D runs in training mode while G's adversarial loss is computed (a frozen Keras-2 D ran BN in inference mode).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import keras
import tensorflow as tf

from keras_inpaint import losses, registry

_DEFAULT = registry.TrainerOptions()   # every trainer option's default, stated once (model_spec.py)


class AdversarialTrainer(keras.Model):
    """A generator and a discriminator trained adversarially by `fit()` (see the module docstring).

    Args:
      generator: built Keras model, `network_input -> image` in the model's value range.
      discriminator: built Keras model, `view(image) -> score` `[N, ...]` (probability, or a critic score).
      adversarial_loss: 'bce', 'wasserstein' or 'least_squares' (`keras_inpaint.losses.ADVERSARIAL_LOSSES`).
      content_loss: 'mse', 'l1', a callable `(target, prediction) -> [N]` (e.g. `losses.PerceptualLoss`), or
        None: no content term (unconditional z -> image GANs, whose "target" is just a real image).
      content_weight, adversarial_weight: the generator loss is
        `content_weight * content + adversarial_weight * adversarial` (seed 000: 0.999 / 0.001; pix2pix and
        SPEC §1.1: 100 / 1; R-DB: 100 / 1). With a content loss and `adversarial_weight` and
        `feature_matching_weight` both 0, the trainer is `content_only` (module docstring): D is never run.
      d_steps: discriminator updates per generator update (>= 1).
      g_steps: generator updates per training step (>= 1); every one after the first recomputes its gradient.
      gradient_penalty_weight: λ of `losses.gradient_penalty` added to the discriminator loss (0 = off).
      real_label_smoothing: one-sided label smoothing of the BCE discriminator loss.
      discriminator_view: None (D sees the generator output and the target as they are), a `(top, left, h, w)`
        box cut from both, or a callable `images -> images`.
      global_batch_size: the batch size the losses are divided by; None (default) = per-replica batch x
        replicas, i.e. the global batch of each step (also right for a smaller last validation batch).
      seed: seed of the gradient-penalty interpolation weights (stateless, so reproducible and resumable).
      inference_builder: None, or `(generator, discriminator) -> keras.Model`: what `inference_network()`
        returns instead of the generator (e.g. `latent_inpainting.prior_network`, z -> {image, score}).
      feature_matching_weight: weight of the feature-matching term added to the generator loss (pix2pixHD,
        Wang et al. 2018, eq. 4): the mean over D's feature layers of the per-example mean |D_l(real) -
        D_l(fake)|, real features held constant; logged as `g_fm`. When > 0 (or whenever D returns a list),
        D returns `[score, feature_1, ...]` and only the score enters the adversarial losses.
    Raises:
      ValueError: unknown adversarial or content loss, d_steps or g_steps < 1, negative weights.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, adversarial_loss: str = "bce",
                 content_loss: str | Callable = _DEFAULT.content_loss,
                 content_weight: float = _DEFAULT.content_weight,
                 adversarial_weight: float = _DEFAULT.adversarial_weight, d_steps: int = _DEFAULT.d_steps,
                 gradient_penalty_weight: float = _DEFAULT.gradient_penalty,
                 real_label_smoothing: float = _DEFAULT.real_label_smoothing,
                 discriminator_view=None, global_batch_size: int | None = None, seed: int = 0,
                 g_steps: int = _DEFAULT.g_steps, inference_builder: Callable | None = None,
                 feature_matching_weight: float = _DEFAULT.feature_matching, name: str = "adversarial_trainer",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        if adversarial_loss not in losses.ADVERSARIAL_LOSSES:
            raise ValueError(f"adversarial_loss must be one of {sorted(losses.ADVERSARIAL_LOSSES)}, "
                             f"got {adversarial_loss!r}")
        if int(d_steps) < 1 or int(g_steps) < 1:
            raise ValueError(f"d_steps and g_steps must be >= 1, got {d_steps}, {g_steps}")
        if min(content_weight, adversarial_weight, gradient_penalty_weight, feature_matching_weight) < 0:
            raise ValueError("loss weights must be >= 0")
        if real_label_smoothing and adversarial_loss not in ("bce", "bce_logits"):
            raise ValueError("real_label_smoothing applies only to adversarial_loss='bce' or 'bce_logits'")
        self.generator = generator
        self.discriminator = discriminator
        self.adversarial_loss = adversarial_loss
        self._g_adv_fn, d_fn = losses.ADVERSARIAL_LOSSES[adversarial_loss]
        if adversarial_loss in ("bce", "bce_logits"):
            self._d_loss_fn = lambda r, f: d_fn(r, f, real_label_smoothing=real_label_smoothing)
        else:
            self._d_loss_fn = d_fn
        self._content_fn = losses.content_loss(content_loss) if isinstance(content_loss, str) else content_loss
        self.g_steps = int(g_steps)
        self._inference_builder = inference_builder
        self.content_weight = float(content_weight)
        self.adversarial_weight = float(adversarial_weight)
        self.d_steps = int(d_steps)
        self.gradient_penalty_weight = float(gradient_penalty_weight)
        self.feature_matching_weight = float(feature_matching_weight)
        self._view_fn = _make_view(discriminator_view)
        self.global_batch_size = global_batch_size
        self.seed = int(seed)
        # Neither adversarial term weighs on the generator (e.g. `--adversarial_weight=0 --feature_matching=0`):
        # the step trains the generator on its content loss alone and never runs the discriminator, whose
        # updates could not reach the generator (measured, lama_ffc's train step on 8 192x192 crops, float32, 2-core
        # AVX-512 CPU: 0.69 -> 0.58 s).
        self.content_only = (self._content_fn is not None and self.adversarial_weight == 0
                             and self.feature_matching_weight == 0)
        names = ["d_loss", "g_loss", "g_content", "g_adv", "d_real", "d_fake"]
        if self.content_only:
            names = ["g_loss", "g_content"]
        elif self._content_fn is None:
            names.remove("g_content")
        if self.gradient_penalty_weight > 0 and not self.content_only:
            names.append("d_gp")
        if self.feature_matching_weight > 0:
            names.append("g_fm")
        self._trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.d_optimizer = None
        self.built = True  # both networks are built functional models

    # --- Keras plumbing ---------------------------------------------------------------------------------
    def compile(self, g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer,
                **kwargs):
        """Sets the two optimisers (`g_optimizer` becomes `self.optimizer`) and builds their state at once.

        `kwargs` go to `keras.Model.compile` (`jit_compile`, `steps_per_execution`, `run_eagerly`); `loss`
        and `metrics` are not accepted (the losses are the trainer's). Building the optimisers here means a
        checkpoint (e.g. `BackupAndRestore`, or `load_trained_model`) restores both optimisers' slots and
        step counters, although `BackupAndRestore` itself only knows `model.optimizer`.
        """
        for bad in ("loss", "metrics", "optimizer"):
            if kwargs.get(bad) is not None:
                raise TypeError(f"AdversarialTrainer.compile does not take {bad!r}")
            kwargs.pop(bad, None)
        super().compile(optimizer=g_optimizer, **kwargs)
        self.d_optimizer = d_optimizer
        self.optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def metrics(self):
        return list(self._trackers.values())

    def inference_network(self) -> keras.Model:
        """The network used at inference and export: the generator, or `inference_builder(G, D)` if given."""
        if self._inference_builder is None:
            return self.generator
        return self._inference_builder(self.generator, self.discriminator)

    def call(self, inputs, training=False):
        """The generator: `network_input -> image` (what `predict()` and the exported network compute)."""
        return self.generator(inputs, training=training)

    # --- losses -------------------------------------------------------------------------------------------
    def _average(self, per_example: tf.Tensor) -> tf.Tensor:
        """Per-example losses `[n]` of this replica -> their sum divided by the GLOBAL batch size."""
        return tf.nn.compute_average_loss(per_example, global_batch_size=self.global_batch_size)

    @staticmethod
    def _regularization(model: keras.Model) -> tf.Tensor | float:
        # float32 whatever the dtype policy (a layer's own losses may come in its compute dtype)
        if not model.losses:
            return 0.0
        return tf.nn.scale_regularization_loss(tf.add_n([tf.cast(l, tf.float32) for l in model.losses]))

    def _track(self, name: str, per_example: tf.Tensor) -> None:
        # Local mean weighted by the local batch size: Keras' on-read metric variables then sum totals and
        # counts over replicas, so the result is the global mean (as Keras' own loss tracker does).
        per_example = tf.cast(per_example, tf.float32)
        self._trackers[name].update_state(tf.reduce_mean(per_example), sample_weight=tf.shape(per_example)[0])

    def _score(self, images: tf.Tensor, training: bool = True):
        """-> (D's score, D's feature maps or []) for `images`; D may return a score or [score, *features]."""
        out = self.discriminator(images, training=training)
        if isinstance(out, (list, tuple)):
            return out[0], list(out[1:])
        return out, []

    def _gp_seed(self) -> tf.Tensor:
        ctx = tf.distribute.get_replica_context()
        replica = tf.cast(ctx.replica_id_in_sync_group if ctx is not None else 0, tf.int64)
        return tf.stack([tf.constant(self.seed, tf.int64) * 1009 + replica,
                         tf.cast(self.d_optimizer.iterations, tf.int64)])

    # --- steps --------------------------------------------------------------------------------------------
    def _discriminator_step(self, real: tf.Tensor, fake: tf.Tensor) -> None:
        with tf.GradientTape() as tape:
            d_real, _ = self._score(real)
            d_fake, _ = self._score(fake)
            per_example = self._d_loss_fn(d_real, d_fake)
            self._track("d_loss", per_example)
            if self.gradient_penalty_weight > 0:
                gp = losses.gradient_penalty(self.discriminator, real, fake, seed=self._gp_seed())
                self._track("d_gp", gp)
                per_example = per_example + self.gradient_penalty_weight * gp
            loss = self._average(per_example) + self._regularization(self.discriminator)
            scaled = self.d_optimizer.scale_loss(loss)
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        self._track("d_real", losses.per_example_mean(d_real))
        self._track("d_fake", losses.per_example_mean(d_fake))

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as g_tape:
            fake = self.generator(x, training=True)
            with g_tape.stop_recording():
                self._discriminator_steps(y, fake)
            per_example, terms, scaled = self._generator_loss(y, fake)
        variables = self.generator.trainable_variables
        self.optimizer.apply_gradients(zip(g_tape.gradient(scaled, variables), variables))
        for _ in range(self.g_steps - 1):  # unrolled: g_steps is small (seed 001's code: 2)
            with tf.GradientTape() as tape:
                per_example, terms, scaled = self._generator_loss(y, self.generator(x, training=True))
            self.optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        self._track("g_loss", per_example)
        for name, value in terms.items():
            self._track(name, value)
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def _discriminator_steps(self, y, fake) -> None:
        """Step 2 of the module docstring: `d_steps` updates of D on `view(y)` and `view(fake)` (none when
        `content_only`)."""
        if self.content_only:
            return
        real_view = self._view_fn(y)
        fake_view = tf.stop_gradient(self._view_fn(fake))
        if self.d_steps == 1 or tf.distribute.has_strategy():
            # unrolled: under a tf.distribute strategy each update synchronises the replicas (gradient
            # all-reduce, synchronised BatchNorm), which TensorFlow does not allow inside a graph loop
            for _ in range(self.d_steps):
                self._discriminator_step(real_view, fake_view)
        else:
            # A graph loop: one copy of the critic update in the graph. Unrolled, restoration_gan's 5
            # copies made its first step (graph build and optimisation) ~90 s on 2 CPU cores.
            def d_update(i):
                self._discriminator_step(real_view, fake_view)
                return [i + 1]
            tf.while_loop(lambda i: i < self.d_steps, d_update, [tf.constant(0)])

    def _generator_loss(self, y, fake):
        """-> (per-example generator loss, {logged name: unweighted per-example term}, scaled mean loss)."""
        terms, per_example = {}, 0.0
        if self._content_fn is not None:
            terms["g_content"] = self._content_fn(y, fake)
            per_example = self.content_weight * terms["g_content"]
        if not self.content_only:
            score, fake_features = self._score(self._view_fn(fake))
            terms["g_adv"] = self._g_adv_fn(score)
            per_example = per_example + self.adversarial_weight * terms["g_adv"]
            if self.feature_matching_weight > 0:
                _, real_features = self._score(self._view_fn(y))
                if not fake_features:
                    raise ValueError("feature_matching needs a discriminator that returns [score, *features]")
                terms["g_fm"] = tf.add_n([losses.per_example_mean(tf.abs(tf.stop_gradient(r) - f))
                                          for r, f in zip(real_features, fake_features)]) / len(fake_features)
                per_example = per_example + self.feature_matching_weight * terms["g_fm"]
        g_loss = self._average(per_example) + self._regularization(self.generator)
        return per_example, terms, self.optimizer.scale_loss(g_loss)

    def test_step(self, data):
        """Validation: the generator's content loss in inference mode, reported as `loss` (`val_loss`).

        Without a content loss (z -> image GANs): the discriminator loss in inference mode on held-out real
        images and on G(z) (`val_loss`; it rises when D over-fits the training images).
        """
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if self._content_fn is None:
            fake = self._view_fn(self.generator(x, training=False))
            d_loss = self._d_loss_fn(self._score(self._view_fn(y), training=False)[0],
                                     self._score(fake, training=False)[0])
            self._track("d_loss", d_loss)
            return {"loss": self._trackers["d_loss"].result()}
        content = self._content_fn(y, self.generator(x, training=False))
        self._track("g_content", content)
        return {"loss": self._trackers["g_content"].result()}


def _make_view(view):
    if view is None:
        return lambda images: images
    if callable(view):
        return view
    top, left, h, w = (int(v) for v in view)
    return lambda images: images[:, top:top + h, left:left + w, :]


def build_trainer(spec, config, options: dict | None = None) -> AdversarialTrainer:
    """The compiled `AdversarialTrainer` of a GAN registry entry: `spec.adversarial` (a
    `keras_inpaint.registry.Adversarial`: discriminator, adversarial loss; the generator is `spec.build_network`)
    with the resolved trainer options `options` (a run's `Run.trainer_options`, resolved once by
    `training.config.resolve`; None: `spec.resolve_trainer_options(config.trainer.trainer_options)`,
    `spec.trainer_options` overridden by `config.trainer.trainer_options`). Call inside the strategy scope.

    `options["sync_bn"]` is resolved to a bool (True iff the current `tf.distribute` strategy has more than one
    replica, unless set) and passed as `synchronized=` to each network builder that the recipe declares takes it
    (`generator_takes_sync`, `discriminator_takes_sync`: the networks with synchronizable BatchNorm). Options
    the entry does not list take their `registry.TrainerOptions` default. Both optimisers are Adam with the
    spec's betas; the generator's learning rate is `config.trainer.learning_rate` (else the spec's), the
    discriminator's `options["d_learning_rate"]` scaled by the same factor as the generator's unless it was
    overridden explicitly (None: the generator's). An entry with `content=False` is an unconditional (z -> image) GAN: no
    content loss, whatever the options.

    Raises:
      ValueError: not a GAN entry; unknown trainer option; perceptual content loss without `vgg_weights` (at
        once, before any training).
      FileNotFoundError: `vgg_weights` names a missing file.
    """
    recipe = spec.adversarial
    if recipe is None:
        raise ValueError(f"model {spec.id!r} is not a GAN (its registry entry has no `adversarial` recipe)")
    overrides = dict(config.trainer.trainer_options or {})     # what the run set (d_learning_rate: kept as it is)
    if options is None:
        options = spec.resolve_trainer_options(overrides)
    opts = {**dataclasses.asdict(_DEFAULT), **options}
    if opts["sync_bn"] is None:
        opts["sync_bn"] = tf.distribute.get_strategy().num_replicas_in_sync > 1
    g_lr = config.trainer.learning_rate or spec.learning_rate
    if overrides.get("d_learning_rate") is not None:
        d_lr = float(overrides["d_learning_rate"])
    elif opts["d_learning_rate"] is not None:
        d_lr = float(opts["d_learning_rate"]) * g_lr / spec.learning_rate
    else:
        d_lr = g_lr
    generator = _build(spec.build_network, recipe.generator_takes_sync, opts["sync_bn"])
    discriminator = _build(recipe.discriminator, recipe.discriminator_takes_sync, opts["sync_bn"],
                           **(recipe.discriminator_options(opts) if recipe.discriminator_options else {}))
    content_fn = opts["content_loss"] if recipe.content else None
    if content_fn == "perceptual":
        content_fn = losses.PerceptualLoss(opts["vgg_weights"], tuple(generator.output_shape[1:]),
                                        preprocess=bool(opts["vgg_preprocess"]), value_range=spec.value_range)
    trainer = AdversarialTrainer(
        generator, discriminator, adversarial_loss=recipe.loss, content_loss=content_fn,
        content_weight=opts["content_weight"], adversarial_weight=opts["adversarial_weight"],
        d_steps=opts["d_steps"], gradient_penalty_weight=opts["gradient_penalty"],
        real_label_smoothing=opts["real_label_smoothing"], discriminator_view=recipe.view, seed=config.runtime.seed,
        g_steps=opts["g_steps"], inference_builder=recipe.inference,
        feature_matching_weight=opts["feature_matching"], name=f"{spec.id}_trainer")
    d_optimizer = keras.optimizers.Adam(d_lr, beta_1=spec.beta_1, beta_2=spec.beta_2, name="d_adam")
    if trainer.dtype_policy.name == "mixed_float16":
        # Model.compile wraps the generator's optimiser itself; the discriminator's is the trainer's job.
        d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer, name="d_loss_scale")
    trainer.compile(
        # G: the entry's optimiser (its lr_drops schedule and clipnorm, --learning_rate / --clipnorm applied)
        spec.make_optimizer(g_lr, config.trainer.steps, config.trainer.clipnorm, name="g_adam"),
        d_optimizer,
        jit_compile=config.trainer.jit_compile, steps_per_execution=config.trainer.steps_per_execution)
    return trainer


def _build(builder, takes_sync: bool, synchronized: bool, **kwargs) -> keras.Model:
    """Calls a network builder, with `synchronized=` if its entry declares that it takes it
    (`registry.Adversarial.generator_takes_sync` / `discriminator_takes_sync`)."""
    if takes_sync:
        kwargs["synchronized"] = synchronized
    return builder(**kwargs)
