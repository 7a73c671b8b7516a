"""What a registry entry is (SPEC §1): `ModelSpec` and the types its fields use, and `register`.

The entries themselves live with their networks, one folder per model family (`keras_inpaint/models/<family>/`:
`network.py` the builders, `entry.py` the `register(ModelSpec(...))` calls, registered where they are defined);
`keras_inpaint.registry` imports every family and is where callers look a model up (`registry.get`,
`registry.REGISTRY`): `REGISTRY` here is complete only once the registry has imported the families. This module
imports nothing of the models, so a family's entry can import it.
"""
from __future__ import annotations

import dataclasses
import os
import typing
from typing import Callable

import keras

from keras_inpaint import data, latent_inpainting, losses, tasks


@dataclasses.dataclass(frozen=True)
class Adversarial:
    """How a GAN entry is trained, as data: `keras_inpaint.training.adversarial.build_trainer(spec, config)` turns
    it into a compiled `AdversarialTrainer` (SPEC §5).

    Attributes:
      discriminator: the discriminator/critic builder (the generator is the entry's `build_network`, the
        exported network).
      loss: adversarial loss, a key of `keras_inpaint.losses.ADVERSARIAL_LOSSES`.
      content: False for unconditional z -> image GANs (no content term whatever the options).
      view: what D sees of the generator output and the target: None (as they are), a (top, left, h, w) box or
        a callable.
      inference: None (the exported network is the generator) or `(generator, discriminator) -> keras.Model`
        (lsgan, dcgan: the z -> {image, score} prior searched by the z-search inpainter).
      discriminator_options: None, or `(trainer options) -> extra keyword arguments of discriminator`.
      generator_takes_sync, discriminator_takes_sync: the generator (`build_network`) / discriminator builder
        takes `synchronized=` (cross-replica BatchNorm): it receives the resolved `sync_bn` trainer option (on iff
        the strategy has several replicas). tests/test_gan_models.py checks each against the builder's parameters.
    """

    discriminator: Callable[..., keras.Model]
    loss: str
    content: bool = True
    view: object = None
    inference: Callable | None = None
    discriminator_options: Callable[[dict], dict] | None = None
    generator_takes_sync: bool = True
    discriminator_takes_sync: bool = True


def _option(default, help: str, choices=None):
    """A field of `TrainerOptions` / `TaskOptions`: its default, its help text (train.py's flag help, `--helpfull`)
    and, for an option with a fixed set of values, its `choices` (train.py: an enum flag)."""
    metadata = {"help": help} if choices is None else {"help": help, "choices": tuple(choices)}
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class TrainerOptions:
    """Every option of the GAN trainer (`keras_inpaint.training.adversarial`), declared once with its type, default
    and help text (issue 35): the value an option takes when the entry does not list it, and `AdversarialTrainer`'s
    own keyword defaults. An entry's `trainer_options` (built with `gan_options`) names the options its trainer
    accepts with the paper's values; train.py makes one flag per field (`option_fields`), default None = the
    model's value."""

    d_steps: int = _option(1, "GANs: discriminator (critic) updates per generator update (restoration_gan: 5).")
    g_steps: int = _option(1, "GANs: generator updates per step (dcgan: 2, as seed 001's code).")
    content_loss: str = _option("mse", "GANs: generator content loss; perceptual = VGG16 block3_conv3 features, "
                                "needs --vgg_weights.", choices=losses.CONTENT_LOSSES)
    content_weight: float = _option(1.0, "GANs: weight of the content loss in the generator loss.")
    adversarial_weight: float = _option(1.0, "GANs: weight of the adversarial term in the generator loss.")
    gradient_penalty: float = _option(0.0, "GANs: WGAN-GP weight (e.g. 10 for DeblurGAN's variant); 0 = off.")
    real_label_smoothing: float = _option(0.0, "GANs with BCE: one-sided label smoothing s (real label 1 - s).")
    d_learning_rate: float | None = _option(None, "GANs: discriminator Adam learning rate (default: the paper's).")
    vgg_weights: str | None = _option(None, "Local VGG16 no-top weights file (.h5) for --content_loss=perceptual; "
                                      "never downloaded.")
    vgg_preprocess: bool = _option(False, "Perceptual loss: feed VGG mean-subtracted 0..255 images instead of "
                                   "[-1, 1] images (deblur-gan feeds [-1, 1]).")
    sync_bn: bool | None = _option(None, "GANs: synchronized BatchNorm across replicas (default: on when the "
                                   "tf.distribute strategy has several replicas).")
    feature_matching: float = _option(0.0, "GANs whose discriminator returns its features (free_form_inpaint, "
                                      "lama_ffc): weight of pix2pixHD's discriminator feature-matching loss in the "
                                      "generator loss; 0 = off.")


@dataclasses.dataclass(frozen=True)
class TaskOptions:
    """Every task option (the keyword arguments of `ModelSpec.make_task` that entries list in `task_options`),
    declared once with its type, help text and choices (issue 35). Each default is None: the model's default (its
    entry's `task_options`, else the task's own). train.py makes one flag per field (`option_fields`)."""

    mask: str | None = _option(None, "dcgan_inpaint, free_form_inpaint: training/evaluation hole: the centre 32x32 "
                               "square (dcgan_inpaint's default), one random rectangle of 1/16 to 1/4 of the area, "
                               "LaMa's free-form strokes and boxes (thin / medium / thick), DeepFill v2's brush "
                               "strokes, 'mixed' (free_form_inpaint's default: one of centre, box, thin, medium, "
                               "thick per batch, centre 1/4 of them) or 'mixed_centre' (the same kinds, centre half "
                               "of the batches).", choices=tasks.MASK_KINDS)
    self_ensemble: bool | None = _option(None, "ffdnet_inpaint, ffdnet: evaluate, export and predict with the "
                                         "geometric self-ensemble (the mean over the photo's 8 flips / 90-degree "
                                         "rotations; 8x the inference time; default: on for ffdnet_inpaint, off "
                                         "for ffdnet).")
    corruption: str | None = _option(None, "Denoising autoencoders: additive Gaussian noise (default for "
                                     "mnist/fashion) or white rectangles (default for denoising_ae_ffhq).",
                                     choices=tasks.CORRUPTIONS)
    train_noise: str | None = _option(None, "Denoising autoencoders: training noise strength f: 'random' (f ~ U(0, "
                                      "0.5) per image, default), a number such as 0.3, or 'none' (plain "
                                      "clean->clean autoencoder).")
    iterations: int | None = _option(None, "lsgan/dcgan: Adam steps of the latent (z) search in the exported "
                                     "inpainter (presets: lsgan 1500, dcgan 500).")
    eval_iterations: int | None = _option(None, "lsgan/dcgan: z-search steps used in evaluation and the image grid "
                                          "(default 100, where seed 004 sees the loss flatten).")
    prior_weight: float | None = _option(None, "lsgan/dcgan inpainter: λ of the prior loss (presets: lsgan 10, "
                                         "dcgan 0.1).")
    prior_loss: str | None = _option(None, "lsgan/dcgan inpainter: prior loss ((D(G(z)) - 1)^2, log(1 - D(G(z))) "
                                     "or BCE).", choices=latent_inpainting.PRIOR_LOSSES)
    context_weighting: str | None = _option(None, "lsgan/dcgan inpainter: contextual L1 weights: Yeh et al.'s 7x7 "
                                            "importance weighting or plain known-pixel mask.",
                                            choices=latent_inpainting.CONTEXT_WEIGHTINGS)
    refinement_cache: str | None = _option(None, "refinement_ae: .npz of inpainter outputs (python -m "
                                           "keras_inpaint.cli.refinement_cache --run_dir=... --cache=PATH); "
                                           "default: noisy originals.")
    input_noise: float | None = _option(None, "refinement_ae: Gaussian noise sigma added to its inputs ([-1, 1] "
                                        "units, default 0.1).")


@dataclasses.dataclass(frozen=True)
class OptionField:
    """One field of `TrainerOptions` or `TaskOptions` as a command-line flag declares it.

    Attributes:
      name: the option (and flag) name.
      type: its value type without None (bool, int, float or str).
      default: the dataclass's default.
      help: the help text.
      choices: the allowed values (a str option with a fixed set), else None.
    """

    name: str
    type: type
    default: object
    help: str
    choices: tuple | None = None


def option_fields(options_class) -> tuple[OptionField, ...]:
    """The fields of an options dataclass (`TrainerOptions`, `TaskOptions`) in declaration order, each with its
    value type (the annotation, None removed), default, help text and choices."""
    hints = typing.get_type_hints(options_class)
    out = []
    for f in dataclasses.fields(options_class):
        types = [t for t in typing.get_args(hints[f.name]) if t is not type(None)] or [hints[f.name]]
        out.append(OptionField(f.name, types[0], f.default, f.metadata["help"], f.metadata.get("choices")))
    return tuple(out)


def gan_options(**options) -> dict:
    """`ModelSpec.trainer_options` of a GAN: the options every GAN entry shares (one D update per step, unit
    adversarial weight, D's Adam at 2e-4, BatchNorm synchronized iff several replicas) with `options` on top."""
    defaults = dataclasses.asdict(TrainerOptions())
    shared = {name: defaults[name] for name in ("d_steps", "adversarial_weight", "sync_bn")}
    return {**shared, "d_learning_rate": 2e-4, **options}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model id.

    Attributes:
      id: registry id (SPEC §1).
      paper: where the architecture and recipe come from (seed file, section, table).
      description: one line for `--help` and the README table.
      build_network: () -> keras.Model, the inference network (input/output in `value_range`).
      make_task: (image_shape, value_range=..., **task_options) -> `keras_inpaint.tasks.Task` (corruption,
        paste-back, metrics, export signature): a task class, or a `functools.partial` of one with the entry's
        fixed arguments. `spec.task(**options)` passes this entry's `image_shape` and `value_range`, so each
        fact is stated once, here (builders likewise take their input shapes from the entry).
      image_shape: (H, W, C) of the stored images the model consumes.
      value_range: the network's value range: (0, 1) for ReLU/sigmoid-output autoencoders, (-1, 1) for tanh
        generators (SPEC §2).
      default_dataset: tfds name or `folder:PATH`.
      crop: `keras_inpaint.data.fit_to_size` recipe for images of another size.
      batch_size: the paper's (global) batch size.
      learning_rate, beta_1, beta_2: Adam settings.
      steps: training iterations (mini-batches) of the paper's schedule.
      loss: Keras loss name for supervised models.
      params: expected total parameter count (including BN moving statistics), stated here only: the tests build
        the network and compare both with spec/models.md's summary table, or for models it does not list with a
        literal in the family's test file.
      task_options: {option name: default} that `make_task(**options)` accepts (e.g. `corruption`,
        `train_noise` of the seed-002 denoising autoencoders); empty for models without options. Use
        `spec.task(**options)`, which rejects options the model does not have.
      adversarial: None for models trained by plain `fit()` on `build_network()` with `loss`; for GANs, the
        `Adversarial` recipe (generator, discriminator, adversarial loss) that
        `training.checkpoints.build_training_model` builds inside the strategy scope.
      trainer_options: {option name: default} that the GAN trainer reads (`gan_options`: `d_steps`, `content_loss`,
        `gradient_penalty`; every option and its default: `TrainerOptions`); overridden by
        `RunConfig.trainer.trainer_options` through `spec.resolve_trainer_options`. Its keys are the options the model
        accepts; an option it does not list takes its `TrainerOptions` default.
      discriminator_params: expected total parameter count of a GAN's discriminator (`params` is the
        generator's, the exported network).
      benchmarks: folders of full-size benchmark images (e.g. Set5, Set14) scored whole after the test split;
        paths relative to the working directory, like `default_dataset`, or `NAME=PATH` (`data.benchmark_folder`).
        Missing default folders are skipped (`default_benchmarks`).
      lr_drops: ((fraction of the schedule, learning-rate factor), ...): the learning rate is multiplied by the
        factor from that fraction of the run's `steps` on (a piecewise-constant schedule, e.g. FFDNet's 1e-3 ->
        1e-4); empty: constant.
      bn_reestimation: training batches over which BatchNorm's moving statistics are re-estimated at the end of
        a run, before its test evaluation and export (`keras_inpaint.training.batchnorm`); 0: the moving
        averages are kept.
      patches_per_photo: crop "patches" (photo models) only: patches cut from every photo per pass over the
        training photos (`data.patch_pipeline`).
      test_ids: photo folders with fixed splits only: the file naming the test photos (e.g. CBSD68's
        `cbsd68_ids.txt` in the BSDS500 folder; `data.list_folder_images`).
      precision: default Keras dtype policy of training (`keras_inpaint.precision.POLICIES`): the faster of
        float32 and mixed_bfloat16 where it is >= 1.3x faster and keeps the test metrics within 0.1 dB
        (issue 12; the measurement is cited at each entry), else float32. `--precision` overrides it.
      warm_start_ids: ids of other models whose exports `--init_from` may start this one from (IMDN's other
        scales): the networks have the same layers, and the weights whose shapes differ (IMDN: the upsampler
        convolution, 3 s^2 filters) keep their fresh initialisation (`training.run.warm_start`). Exports of this
        id itself are always accepted, and must match weight for weight.
      clipnorm: the generator optimiser's gradients rescaled to at most this global L2 norm before each Adam
        update (`keras.optimizers.Adam(global_clipnorm=...)`); None: not clipped. `--clipnorm` overrides it.
    """

    id: str
    paper: str
    description: str
    build_network: Callable[[], keras.Model]
    make_task: Callable[..., object]
    image_shape: tuple[int, int, int]
    value_range: tuple[float, float]
    default_dataset: str
    batch_size: int
    learning_rate: float
    steps: int
    params: int
    beta_1: float = 0.9
    beta_2: float = 0.999
    loss: str = "mse"
    crop: str = "auto"
    task_options: dict = dataclasses.field(default_factory=dict)
    adversarial: Adversarial | None = None
    trainer_options: dict = dataclasses.field(default_factory=dict)
    discriminator_params: int | None = None
    benchmarks: tuple[str, ...] = ()
    precision: str = "float32"
    lr_drops: tuple[tuple[float, float], ...] = ()
    bn_reestimation: int = 0
    patches_per_photo: int = 64
    test_ids: str | None = None
    warm_start_ids: tuple[str, ...] = ()
    clipnorm: float | None = None

    def default_benchmarks(self) -> list[str]:
        """`benchmarks` whose folders exist here (paths relative to the working directory): what train.py and
        evaluate.py score when `--benchmarks` is not given."""
        return [b for b in self.benchmarks if os.path.isdir(data.benchmark_folder(b)[1])]

    def make_optimizer(self, learning_rate: float | None = None, steps: int | None = None,
                       clipnorm: float | None = None, name: str | None = None) -> keras.optimizers.Optimizer:
        """Adam with this model's settings (`learning_rate` and `clipnorm` override the entry's). With `lr_drops`
        and the run's `steps`, the rate is a `keras.optimizers.schedules.PiecewiseConstantDecay` over the
        optimizer's iterations (so a resumed run continues the schedule where it stopped); with a `clipnorm`, the
        gradients' global norm is clipped to it (`global_clipnorm`)."""
        rate = learning_rate or self.learning_rate
        if self.lr_drops and steps:
            boundaries = [int(round(f * steps)) for f, _ in self.lr_drops]
            values = [rate] + [rate * factor for _, factor in self.lr_drops]
            rate = keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)
        kwargs = {"name": name} if name else {}
        return keras.optimizers.Adam(rate, beta_1=self.beta_1, beta_2=self.beta_2,
                                     global_clipnorm=clipnorm or self.clipnorm, **kwargs)

    def task(self, **options):
        """The task object with `options` overriding `task_options` (values None are ignored: "use the default").

        Raises:
          ValueError: an option this model does not have (the message lists the valid ones), or a bad value.
        """
        options = {k: v for k, v in options.items() if v is not None}
        unknown = sorted(set(options) - set(self.task_options))
        if unknown:
            valid = ", ".join(sorted(self.task_options)) or "none"
            raise ValueError(f"model {self.id!r} has no option(s) {', '.join(unknown)}; valid options: {valid}")
        return self.make_task(self.image_shape, value_range=self.value_range, **{**self.task_options, **options})

    def resolve_trainer_options(self, overrides: dict | None = None) -> dict:
        """`trainer_options` with `overrides` applied (values None are ignored: "use the default").

        Raises:
          ValueError: an option this model's trainer does not have (the message lists the valid ones).
        """
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = sorted(set(overrides) - set(self.trainer_options))
        if unknown:
            valid = ", ".join(sorted(self.trainer_options)) or "none"
            raise ValueError(f"model {self.id!r} has no trainer option(s) {', '.join(unknown)}; valid: {valid}")
        return {**self.trainer_options, **overrides}


REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Adds `spec` to the registry. Raises ValueError on a duplicate id."""
    if spec.id in REGISTRY:
        raise ValueError(f"model id {spec.id!r} registered twice")
    REGISTRY[spec.id] = spec
    return spec


# Folders of natural photos that several families train or score on (paths relative to the working directory, like
# every `default_dataset`).
PHOTOS = "folder:../shared/data/photos/bsds500"   # train/ (200 photos) for training; val/ for testing only
SET5_SET14 = ("../shared/data/benchmarks/Set5", "../shared/data/benchmarks/Set14")
