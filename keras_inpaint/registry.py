"""Model registry (SPEC §1): model id -> everything `train.py`, `export.py` and the tests need to know.

Adding a model is one `ModelSpec` entry here plus its builder in `keras_inpaint/models/`. `train.py` and
`export.py` contain nothing model-specific. Defaults are the papers' (seed and table cited per field); any can
be overridden by a command-line flag.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import typing
from typing import Callable

import keras

from keras_inpaint import data, latent_inpainting, losses, tasks
from keras_inpaint.models import context_encoder
from keras_inpaint.models import denoising, super_resolution
from keras_inpaint.models import dcgan_inpaint, restoration_gan
from keras_inpaint.models import dcgan, lsgan, refinement
from keras_inpaint.models import free_form
from keras_inpaint.models import ffdnet, imdn, lama


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
        fact is stated once, here.
      image_shape: (H, W, C) of the stored images the model consumes.
      value_range: the network's value range: (0, 1) for ReLU/sigmoid-output autoencoders, (-1, 1) for tanh
        generators (SPEC §2).
      default_dataset: tfds name or `folder:PATH`.
      crop: `keras_inpaint.data.fit_to_size` recipe for images of another size.
      batch_size: the paper's (global) batch size.
      learning_rate, beta_1, beta_2: Adam settings.
      steps: training iterations (mini-batches) of the paper's schedule.
      loss: Keras loss name for supervised models.
      params: expected total parameter count (including BN moving statistics), from spec/models.md.
      task_options: {option name: default} that `make_task(**options)` accepts (e.g. `corruption`,
        `train_noise` of the seed-002 denoising autoencoders); empty for models without options. Use
        `spec.task(**options)`, which rejects options the model does not have.
      adversarial: None for models trained by plain `fit()` on `build_network()` with `loss`; for GANs, the
        `Adversarial` recipe (generator, discriminator, adversarial loss) that
        `training.checkpoints.build_training_model` builds inside the strategy scope.
      trainer_options: {option name: default} that the GAN trainer reads (`gan_options`: `d_steps`, `content_loss`,
        `gradient_penalty`; every option and its default: `TrainerOptions`); overridden by
        `RunConfig.trainer_options` through `spec.resolve_trainer_options`. Its keys are the options the model
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

    def default_benchmarks(self) -> list[str]:
        """`benchmarks` whose folders exist here (paths relative to the working directory): what train.py and
        evaluate.py score when `--benchmarks` is not given."""
        return [b for b in self.benchmarks if os.path.isdir(data.benchmark_folder(b)[1])]

    def make_optimizer(self, learning_rate: float | None = None, steps: int | None = None
                       ) -> keras.optimizers.Optimizer:
        """Adam with this model's settings (`learning_rate` overrides the paper's). With `lr_drops` and the run's
        `steps`, the rate is a `keras.optimizers.schedules.PiecewiseConstantDecay` over the optimizer's
        iterations (so a resumed run continues the schedule where it stopped)."""
        rate = learning_rate or self.learning_rate
        if self.lr_drops and steps:
            boundaries = [int(round(f * steps)) for f, _ in self.lr_drops]
            values = [rate] + [rate * factor for _, factor in self.lr_drops]
            rate = keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)
        return keras.optimizers.Adam(rate, beta_1=self.beta_1, beta_2=self.beta_2)

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


def get(model_id: str) -> ModelSpec:
    """The spec of `model_id`. Raises ValueError listing the valid ids when it is unknown."""
    try:
        return REGISTRY[model_id]
    except KeyError:
        raise ValueError(f"unknown model id {model_id!r}; valid ids: {', '.join(sorted(REGISTRY))}") from None


# --- seed 000: context encoders (Pathak et al. 2016; spec/models.md §1-2) --------------------------------------
# Both context encoders: the centre 16x16 of a 32x32 image is the hole, the network outputs the fill (seed 000).
_CENTRE_16_FILL = functools.partial(tasks.CentreHoleInpainting, hole=16, output="fill")

# GAN entries: `params` is the generator's count (the exported inference network), `discriminator_params` the
# D's; `trainer_options` are the paper values of options in `TrainerOptions`, overridable per run.
register(ModelSpec(
    id="context_encoder",
    paper="seed 000 §IV-A (context encoder autoencoder; Pathak et al. 2016)",
    description="inpaint the centre 16x16 of a 32x32 image (L2 autoencoder)",
    build_network=context_encoder.build_context_encoder,
    make_task=_CENTRE_16_FILL,
    image_shape=(32, 32, 3),
    value_range=(0.0, 1.0),          # ReLU output (spec/models.md §1, 000-d)
    default_dataset="cifar10",
    batch_size=64,                   # seed: "Batch Size ... 64"
    learning_rate=1e-3,              # proposal: Keras Adam default (seed gives no lr)
    steps=50_000,                    # seed: "50.000 epochs", read as iterations (000-c)
    params=4_365_635,
    loss="mse",                      # seed: "Mean Squared Error"
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py): mixed_bfloat16 1,253 vs 1,175 train img/s (1.07x, under
    # the 1.3x bar; dense-heavy): float32. Parity (500 iterations): -0.078 dB
    precision="float32",
))

register(ModelSpec(
    id="context_encoder_gan",
    paper="seed 000 §IV-B, Tables I-II (adversarial context encoder; Pathak et al. 2016, R-CE train.lua)",
    description="inpaint the centre 16x16 of a 32x32 image (generator + discriminator on the centre, L2 + adversarial)",
    build_network=context_encoder.build_context_encoder_generator,
    make_task=_CENTRE_16_FILL,
    # D sees the 16x16 centre: the generator's fill and the target centre (view None: the fill as it is)
    adversarial=Adversarial(context_encoder.build_context_encoder_discriminator,
                            loss="bce"),     # seed Table I: "Binary Cross Entropy"
    trainer_options=gan_options(     # d_steps 1: seed: D trained once per batch, then the combined network
        content_loss="mse",          # seed Table II: "Mean Squared Error"
        content_weight=0.999,        # seed "0.999 * PG", R-CE wtl2 = 0.999 on the L2 term (000-e)
        adversarial_weight=0.001,    # seed "0.001 * PD": the adversarial BCE of D(G(x)) vs "real"
        d_learning_rate=2e-4,        # Table I: "Adam(LR = 0.0002)", 10x smaller than G's (000-b)
        gradient_penalty=0.0,
        real_label_smoothing=0.0,
    ),
    image_shape=(32, 32, 3),
    value_range=(-1.0, 1.0),         # seed: "Normalizar valores de entrada entre -1 e 1 e usar ativação tanh"
    default_dataset="cifar10",
    batch_size=32,                   # Tables I/II: 32
    learning_rate=2e-3,              # Table II: "Adam(LR = 0.002)" (generator)
    beta_1=0.5,                      # R-CE beta1 = 0.5 (proposal: the seed gives none)
    steps=80_000,                    # seed: "80.000 epochs", read as iterations (000-c)
    params=7_440_643,                # Table II
    discriminator_params=1_440_961,  # Table I (first conv stride 1, 000-a)
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py): mixed_bfloat16 78 vs 108 train img/s (0.72x): float32.
    # Parity (200 iterations): +0.256 dB
    precision="float32",
))


# --- seed 001: conditional DCGAN inpainter (text) and the z -> image DCGAN of its code (spec/models.md §3) -----
# z -> image priors (dcgan here, lsgan under seed 004): the trainer feeds G the z of the task's (z, real image)
# pairs (no content loss) and hands the task the prior z -> {image, score} (latent_inpainting.prior_network): the
# task evaluates, shows and exports the z-search inpainter (latent_inpainting.LatentInpainter), not the raw
# generator. Task options: iterations (exported search, default the preset's), eval_iterations (evaluation/grid
# search), prior_weight (λ), prior_loss ('least_squares' | 'log' | 'bce'), context_weighting ('importance' |
# 'binary').
_LATENT_TASK_OPTIONS = {"iterations": None, "eval_iterations": 100, "prior_weight": None, "prior_loss": None,
                        "context_weighting": None}

register(ModelSpec(
    id="dcgan_inpaint",
    paper="seed 001 (text): conditional fully convolutional DCGAN inpainter (SPEC §1.1; pix2pix-style losses)",
    description="inpaint a 32x32 hole (centre or --mask=random_box) in 64x64 faces (conditional DCGAN, L1 + BCE)",
    build_network=dcgan_inpaint.build_dcgan_inpaint_generator,
    make_task=functools.partial(tasks.MaskedInpainting, hole=32),
    task_options={"mask": "centre"},  # R-576 scale = 0.25 centre square; "random_box": 1/16-1/4 of the area
    # D sees the whole 64x64 image (real, or the generator's output)
    adversarial=Adversarial(dcgan_inpaint.build_dcgan_inpaint_discriminator,
                            loss="bce"),     # SPEC §1.1: D = BCE on real and fake; G adversarial = BCE(D(G(x)), 1)
    trainer_options=gan_options(
        content_loss="l1",           # SPEC §1.1: G = 100·L1(G(x), y) + BCE (pix2pix weighting, proposal)
        content_weight=100.0,
        gradient_penalty=0.0,
        real_label_smoothing=0.0,    # seed 001's code smooths real labels to 0.9 (s = 0.1); SPEC §1.1 does not
    ),
    image_shape=(64, 64, 3),
    value_range=(-1.0, 1.0),         # seed: "divide each pixel by 255 multiply by 2 and subtract 1"
    default_dataset="celeb_a",       # SPEC §1 (shipped runs: --dataset=folder:PATH of aligned CelebA faces)
    crop="face108",                  # SPEC §4: centre 108x108 of the aligned 178x218 image, resized to 64x64
    batch_size=64,                   # SPEC §1.1
    learning_rate=2e-4,              # SPEC §1.1: Adam 2e-4, beta_1 0.5 (both networks)
    beta_1=0.5,
    steps=1_560,                     # proposal: R-576's 10 epochs over the seed's 10,000 training images, batch 64
    params=dcgan_inpaint.GENERATOR_PARAMS,                  # 5,517,955 (computed; SPEC gives no count)
    discriminator_params=dcgan_inpaint.DISCRIMINATOR_PARAMS,  # 2,768,321 (computed)
    # issue 12: 46.9 vs 23.4 train img/s (2.00x) on the AMX-BF16 CPU (benchmarks/throughput.py --steps=30; 2.41x
    # on an AVX-512-BF16 CPU without AMX); parity (100 iterations, seed 0): 19.118 vs 19.080 dB float32 (+0.037)
    precision="mixed_bfloat16",
))

register(ModelSpec(
    id="dcgan",
    paper="seed 001's code (R-576 inpainting.py: z -> image DCGAN, spec/models.md §3) with its latent-optimisation "
          "inpainting (BCE prior, λ 0.1, 500 Adam steps on z)",
    description="64x64 face prior z(100) -> image (DCGAN), exported as a latent-optimisation (z-search) inpainter",
    build_network=dcgan.build_dcgan_generator,
    make_task=functools.partial(tasks.UnconditionalGeneration, latent_dim=dcgan.LATENT_DIM, preset="dcgan"),
    task_options=dict(_LATENT_TASK_OPTIONS),  # preset dcgan: binary L1, BCE prior, λ 0.1, betas 0.9/0.9, 500 steps
    adversarial=Adversarial(dcgan.build_dcgan_discriminator,
                            loss="bce_logits",  # sigmoid_cross_entropy_with_logits
                            content=False, inference=latent_inpainting.prior_network),
    trainer_options=gan_options(     # 1 D update (Adam 2e-4, beta_1 0.5 for both networks) ...
        g_steps=2,                   # ... then 2 G updates per step, each gradient recomputed (proposal, §3)
        real_label_smoothing=0.1,    # R-576 smooth = 0.1: real label 0.9
    ),
    image_shape=(64, 64, 3),
    value_range=(-1.0, 1.0),         # x / 127.5 - 1
    default_dataset="celeb_a",       # SPEC §1; R-576: the first 10,000 sorted files (--max_examples=10000)
    crop="face108",                  # R-576 image_size = 108, resized to 64
    batch_size=128,
    learning_rate=2e-4,
    beta_1=0.5,
    steps=780,                       # 10 epochs x 78 batches of 128 over 10,000 images (--max_examples=10000)
    params=dcgan.GENERATOR_PARAMS,                  # 5,136,323
    discriminator_params=dcgan.DISCRIMINATOR_PARAMS,  # 4,317,441
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py --steps=8): 38.9 vs 25.8 train img/s (1.51x); parity
    # (20 iterations, seed 0): test PSNR 18.632 vs 18.645 dB float32 (-0.013)
    precision="mixed_bfloat16",
))


# --- seed 002: denoising autoencoders and the restoration GAN (spec/models.md §4-5) ----------------------------
# Options (spec.task(**options)): corruption "noise" | "white_box"; train_noise "random" | "none" | f.
_DENOISING_OPTIONS = {"corruption": "noise", "train_noise": None}
MNIST_SHAPE = (28, 28, 1)   # MNIST and Fashion-MNIST digits / garments: 28x28 grey

register(ModelSpec(
    id="denoising_ae_mnist",
    paper="seed 002 (MNIST autoencoder, latent 32; spec/models.md §4a)",
    description="remove Gaussian noise from 28x28 MNIST digits (autoencoder, latent 32)",
    build_network=lambda: denoising.build_denoising_ae(MNIST_SHAPE, latent=32),
    make_task=tasks.Denoising,
    task_options=dict(_DENOISING_OPTIONS),   # default: noisy input f ~ U(0, 0.5) -> clean target (002-a)
    image_shape=MNIST_SHAPE,
    value_range=(0.0, 1.0),          # sigmoid output
    default_dataset="mnist",         # seed: "der bekannte MNIST-Datensatz"
    batch_size=128,                  # proposal (keras.io denoising example)
    learning_rate=1e-3,              # proposal: Keras Adam default
    steps=23_450,                    # proposal: 50 epochs x 469 batches of 128 over the 60,000 training images
    params=278_369,
    loss="binary_crossentropy",      # proposal (blog.keras.io / keras.io denoising examples; sigmoid output)
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py): mixed_bfloat16 1.65x faster but its test PSNR after the
    # same 300 iterations was 0.506 dB lower (16.495 vs 17.001): float32
    precision="float32",
))

register(ModelSpec(
    id="denoising_ae_fashion",
    paper="seed 002 (Fashion-MNIST denoising autoencoder, larger latent; spec/models.md §4b)",
    description="remove Gaussian noise (or, --corruption=white_box, white rectangles) from 28x28 Fashion-MNIST",
    build_network=lambda: denoising.build_denoising_ae(MNIST_SHAPE, latent=64),
    make_task=tasks.Denoising,
    task_options=dict(_DENOISING_OPTIONS),   # seed: denoising AE first, then retrained with white boxes
    image_shape=MNIST_SHAPE,
    value_range=(0.0, 1.0),
    default_dataset="fashion_mnist",  # seed: "MNIST Fashion Datensatz"
    batch_size=128,                  # proposal
    learning_rate=1e-3,              # proposal
    steps=23_450,                    # proposal: 50 epochs x 469 batches of 128 over 60,000 images
    params=479_105,                  # latent 64: proposal for "vergrößerter Latent Space" (002-b)
    loss="binary_crossentropy",      # proposal
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py, on MNIST): mixed_bfloat16 2.00x faster but 0.161 dB lower
    # after the same 300 iterations (17.440 vs 17.601): float32
    precision="float32",
))

register(ModelSpec(
    id="denoising_ae_ffhq",
    paper="seed 002 (128x128 face autoencoder, 4+4 blocks, latent 1024; spec/models.md §4c)",
    description="remove white rectangles from 128x128 faces (autoencoder, latent 1024)",
    build_network=lambda: denoising.build_denoising_ae_ffhq((128, 128, 3), latent=1024),
    make_task=tasks.Denoising,
    task_options={"corruption": "white_box", "train_noise": None},  # seed: "mit den gleichen Artefakten"
    image_shape=(128, 128, 3),
    value_range=(0.0, 1.0),
    # SPEC §1: "a 128x128 face folder" (FFHQ thumbnails; not in tfds): pass --dataset=folder:PATH. The default is
    # the public face set tfds has, aligned CelebA, resized to 128x128 (shipped runs: a UTKFace folder).
    default_dataset="celeb_a",
    batch_size=32,                   # proposal
    learning_rate=1e-3,              # proposal
    steps=3_550,                     # proposal "50 epochs": 50 x 71 batches of 32 over the folder's 2,247 train images
    params=34_938_499,
    loss="mse",                      # proposal
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py --steps=30): 47.8 vs 36.1 train img/s (1.32x; 2.09x in an
    # 8-step run); parity (100 iterations, seed 0): mean test PSNR 15.354 vs 14.162 dB float32 (+1.19)
    precision="mixed_bfloat16",
))

register(ModelSpec(
    id="restoration_gan",
    paper="seed 002 (GAN after RaphaelMeudec/deblur-gan, Kupyn et al. 2018; spec/models.md §5)",
    description="remove white rectangles from 128x128 faces (ResNet generator + critic, 5 critic updates per G update)",
    build_network=restoration_gan.build_restoration_generator,
    make_task=tasks.WhiteBoxRestoration,  # white boxes in [0, 1] units, the network in value_range (-1, 1)
    # the critic sees the whole 128x128 image
    adversarial=Adversarial(
        restoration_gan.build_restoration_critic,
        loss="wasserstein",          # R-DB wasserstein_loss (see losses.wasserstein_critic_loss for the sign)
        # R-DB: sigmoid output, no gradient penalty; the DeblurGAN paper's WGAN-GP critic is linear (002-d)
        discriminator_options=lambda o: {"sigmoid_output": not o["gradient_penalty"]}),
    trainer_options=gan_options(
        d_steps=5,                   # R-DB critic_updates = 5; seed: "fünfmal so oft ... wie der Generator"
        content_loss="l1",           # proposal (no weights file needed); R-DB: "perceptual" (VGG16 block3_conv3)
        content_weight=100.0,        # R-DB loss_weights = [100, 1]
        d_learning_rate=None,        # R-DB: Adam 1e-4 for both networks (D's rate = G's)
        gradient_penalty=0.0,        # R-DB: none; DeblurGAN paper: 10 (WGAN-GP, linear critic)
        vgg_weights=None,            # local VGG16 no-top weights for content_loss="perceptual"
        vgg_preprocess=False,        # R-DB feeds [-1, 1] images to VGG unchanged
    ),
    image_shape=(128, 128, 3),
    value_range=(-1.0, 1.0),         # R-DB preprocess_image: (x - 127.5) / 127.5
    # SPEC §1: "a 128x128 face folder" (FFHQ thumbnails; not in tfds): pass --dataset=folder:PATH. The default is
    # the public face set tfds has, aligned CelebA, resized to 128x128 (shipped runs: a UTKFace folder).
    default_dataset="celeb_a",
    batch_size=16,                   # R-DB CLI default
    learning_rate=1e-4,              # R-DB: Adam 1e-4, beta_1 0.9, beta_2 0.999 (both networks)
    steps=560,                       # R-DB default 4 epochs x 140 batches of 16 over the folder's 2,247 train images
    params=restoration_gan.GENERATOR_PARAMS,          # 11,399,171
    discriminator_params=restoration_gan.CRITIC_PARAMS_128,  # 2,901,762 at 128x128
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py --steps=8): 2.9 vs 0.9 train img/s (3.22x); parity
    # (10 iterations, seed 0): test PSNR 18.352 vs 18.287 dB float32 (+0.065)
    precision="mixed_bfloat16",
))


# --- seed 003: super-resolution autoencoder (spec/models.md §6) ------------------------------------------------
register(ModelSpec(
    id="sr_autoencoder",
    paper="seed 003 §5 (residual convolutional autoencoder, 1,110,403 parameters; spec/models.md §6)",
    description="x3 super-resolution of a bicubic-upscaled image (residual autoencoder, fully convolutional)",
    build_network=lambda: super_resolution.build_sr_autoencoder((None, None, 3)),
    make_task=functools.partial(tasks.SuperResolution, scale=super_resolution.SCALE),
    image_shape=(120, 120, 3),       # seed: HR crops "a 120x120 píxeles"
    value_range=(0.0, 1.0),          # x/255 ("se normalizaron"); ReLU output, clipped at inference
    default_dataset="celeb_a",       # SPEC §1 (shipped runs: --dataset=folder:PATH of aligned CelebA faces)
    crop="centre",                   # proposal: centre 120x120 of the aligned 178x218 image
    batch_size=16,                   # proposal (R-SR copies use 10-16)
    learning_rate=1e-3,              # R-SR optimizer='adam' (Keras default)
    steps=1_870,                     # seed "10 épocas": 10 x 187 batches of 16 over the folder's 2,980 train images
    params=1_110_403,                # seed: "1,110,403 parámetros"
    loss="mse",                      # seed: MSE
    # seed 003 evaluates on its own test crops; the standard x3 tables (SPEC §3) also score Set5 and Set14.
    benchmarks=("../shared/data/benchmarks/Set5", "../shared/data/benchmarks/Set14"),
    # issue 12: 18.4 vs 3.1 train img/s (5.94x) on the AMX-BF16 CPU (benchmarks/throughput.py --steps=8; 2.87x
    # on an AVX-512-BF16 CPU without AMX); parity (40 iterations, seed 0): test PSNR-Y 27.603 vs 27.546 dB float32
    precision="mixed_bfloat16",
))


# --- seed 004: LSGAN face prior, latent-optimisation inpainting, refinement autoencoder (spec/models.md §7-9) ---
register(ModelSpec(
    id="lsgan",
    paper="seed 004 §2.2.3 (least-squares GAN face prior, Mao et al. 2017; spec/models.md §7), served by the "
          "latent-optimisation inpainter of seed 004 §2.3 (Yeh et al. 2017; spec/models.md §8)",
    description="64x64 face prior z(100) -> image (LSGAN), exported as a latent-optimisation (z-search) inpainter",
    build_network=lsgan.build_lsgan_generator,
    make_task=functools.partial(tasks.UnconditionalGeneration, latent_dim=lsgan.LATENT_DIM, preset="lsgan"),
    task_options=dict(_LATENT_TASK_OPTIONS),  # preset lsgan: importance 7x7, (D-1)² prior, λ 10, 1,500 steps
    adversarial=Adversarial(lsgan.build_lsgan_discriminator,
                            loss="least_squares",  # seed eqs. 2.1/2.2, a = 0, b = 1, c = 1 (004-b)
                            content=False, inference=latent_inpainting.prior_network),
    trainer_options=gan_options(g_steps=1),  # proposal: both networks Adam 2e-4, beta_1 0.5
    image_shape=(64, 64, 3),
    value_range=(-1.0, 1.0),         # seed: "normalized in the range of (-1, 1)"
    default_dataset="celeb_a",       # SPEC §1 (shipped runs: --dataset=folder:PATH of aligned CelebA faces)
    crop="face108",                  # proposal: the DCGAN recipe (centre 108 -> 64), as §3
    batch_size=32,                   # seed: "mini-batch size of 32"
    learning_rate=2e-4,              # proposal (seed: "learning rate is kept low")
    beta_1=0.5,
    steps=100_000,                   # seed "trained for 100,000 epochs", read as iterations (004-d)
    params=lsgan.GENERATOR_PARAMS,                  # 7,844,611
    discriminator_params=lsgan.DISCRIMINATOR_PARAMS,  # 4,318,337
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py --steps=30): 33.4 vs 21.9 train img/s (1.53x); parity
    # (60 iterations, seed 0): test PSNR 18.586 vs 18.605 dB float32 (-0.019)
    precision="mixed_bfloat16",
))

register(ModelSpec(
    id="refinement_ae",
    paper="seed 004 §2.2.4 (refinement autoencoder, 4 levels, 8192 code, BN, MSE; spec/models.md §9)",
    description="refine 64x64 latent-inpainting completions (autoencoder; pasted into the hole)",
    build_network=refinement.build_refinement_ae,
    make_task=tasks.Refinement,
    # refinement_cache: .npz of latent-inpainting completions (latent_inpainting.build_refinement_cache); None
    # (default): noisy originals (spec `--ae-input noise`). input_noise: σ in [-1, 1] units.
    task_options={"refinement_cache": None, "input_noise": 0.1},
    image_shape=(64, 64, 3),
    value_range=(-1.0, 1.0),         # the LSGAN's range (tanh output, proposal)
    default_dataset="celeb_a",       # SPEC §1
    crop="face108",
    batch_size=32,                   # seed: batch 32
    learning_rate=1e-3,              # proposal
    steps=2_000,                     # seed "trained till 2000 epochs", read as iterations (004-d)
    params=refinement.PARAMS,        # 3,124,803
    loss="mse",                      # seed: MSE
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py): mixed_bfloat16 1.92x faster but 0.146 dB lower after the
    # same 60 iterations (14.314 vs 14.460): float32
    precision="float32",
))


# --- beyond the seeds (issue 13): free-form inpainting ---------------------------------------------------------
register(ModelSpec(
    id="free_form_inpaint",
    paper="beyond the seeds (issue 13): DeepFill v2's gated-convolution generator (Yu et al. 2019, §3.1) with a "
          "PatchGAN (Isola et al. 2017) and pix2pixHD feature matching (Wang et al. 2018), trained on LaMa's "
          "free-form masks (Suvorov et al. 2022)",
    description="inpaint free-form holes (strokes, boxes) in faces of any size (gated convolutions, L1 + "
                "adversarial + feature matching)",
    build_network=free_form.build_free_form_generator,
    make_task=functools.partial(tasks.MaskedInpainting, hole=32, mask_input=True, any_size=True,
                                multiple=free_form.MULTIPLE),
    task_options={"mask": "mixed"},  # tasks.MIXED_MASKS: centre 1/4, random box 1/4, LaMa thin/medium/thick 1/6 each
    # D sees the composite image (prediction pasted into the hole) and the real one
    adversarial=Adversarial(free_form.build_patch_discriminator,
                            loss="bce_logits",   # PatchGAN logits, non-saturating BCE (pix2pix; LaMa's too)
                            generator_takes_sync=False),   # gated convolutions, no BatchNorm
    trainer_options=gan_options(
        content_loss="l1",           # L1 of the composite = L1 of the hole (the generator pastes back itself)
        content_weight=100.0,        # pix2pix weighting, as dcgan_inpaint
        feature_matching=10.0,       # pix2pixHD λ = 10 (eq. 4)
        real_label_smoothing=0.0,
    ),
    image_shape=(64, 64, 3),
    value_range=(-1.0, 1.0),
    default_dataset="celeb_a",       # as dcgan_inpaint (same crop; shipped runs: the aligned CelebA folder)
    crop="face108",
    batch_size=32,                   # proposal
    learning_rate=2e-4,              # pix2pix: Adam 2e-4, beta_1 0.5 (both networks)
    beta_1=0.5,
    steps=6_000,                     # proposal: ~64 epochs of the folder's 2,980 training faces at batch 32
    # (the shipped saved_models/free_form_inpaint/3 is this schedule plus a stated 2,500-iteration fine-tune with
    # --init_from on centre-heavier masks, which took the centre hole from 24.26 to 26.73 dB: README)
    params=free_form.GENERATOR_PARAMS,                  # 1,131,711 (computed)
    discriminator_params=free_form.DISCRIMINATOR_PARAMS,  # 431,201 (computed)
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py): mixed_bfloat16 1.69x faster but 0.181 dB lower after the
    # same 100 iterations (20.372 vs 20.553): float32
    precision="float32",
))


# --- photo models (issue 31): trained on random patches of natural photos, scored on whole photos --------------
PHOTOS = "folder:../shared/data/photos/bsds500"   # train/ (200 photos) for training; val/ for testing only

register(ModelSpec(
    id="ffdnet",
    paper="FFDNet (Zhang, Zuo, Zhang, IEEE TIP 2018, §III-A, §IV-A: colour model, 12 layers of 96 channels, "
          "noise level map input, sigma in [0, 75])",
    description="remove white Gaussian noise of a given level (sigma 0-75) from colour photos of any size",
    build_network=ffdnet.build_ffdnet,
    make_task=tasks.GaussianDenoising,
    image_shape=(50, 50, 3),         # FFDNet §IV-A: 50x50 colour training patches
    value_range=(0.0, 1.0),
    default_dataset=PHOTOS,          # BSDS500 train/ (the paper adds ImageNet and Waterloo photos; not offline)
    crop="patches",
    patches_per_photo=64,            # 12,800 patches per pass over the 200 photos (200 batches of 64)
    test_ids="cbsd68_ids.txt",       # CBSD68: 68 of BSDS500's val/ photos
    # FFDNet §IV-A: mini-batch 128. Proposal: 64, for twice the iterations in the CPU budget (measured: the
    # untrained network sits at the noisy input's error for the first ~200 iterations whatever the batch size)
    batch_size=64,
    learning_rate=1e-3,              # FFDNet §IV-A: Adam, 1e-3, then 1e-4 when the training error stops falling
    lr_drops=((0.75, 0.1),),         # proposal: the drop to 1e-4 for the last quarter of the stated schedule
    # BatchNorm statistics re-estimated on 200 batches (12,800 patches) of the final weights: the moving averages
    # lag by several dB here (training/batchnorm.py)
    bn_reestimation=200,
    # stated CPU schedule (issue 31): 24,000 x 64 = 1.5 M patches, ~4.7 h at the ~90 patches/s measured here
    # (mixed_bfloat16, AMX-BF16 CPU, resumed across sessions); the paper trains far longer on ~5,500 photos.
    # A first 9,000-iteration schedule scored CBSD68 32.66 / 30.17 / 26.93 dB at sigma 15 / 25 / 50 (with
    # re-estimated BatchNorm statistics), short of CBM3D's 33.52 / 30.71 / 27.38; that run continues to 24,000
    # (its learning rate back at 1e-3 until 18,000).
    steps=24_000,
    params=ffdnet.PARAMS,            # 856,716 (module docstring)
    loss="mse",                      # FFDNet eq. (3): L2 between the output and the clean patch
    # issue 31 (AMX-BF16 CPU, train step on one batch of 128 50x50 patches): 79.4 vs 25.0 patches/s (3.2x)
    precision="mixed_bfloat16",
))


# --- photo super-resolution (issue 32): IMDN in LR space, one model per scale ------------------------------------
SET5_SET14 = ("../shared/data/benchmarks/Set5", "../shared/data/benchmarks/Set14")
# The authors' train_IMDN.py: HR patches of 192x192 ("--patch_size 192, output patch size") for every scale, so LR
# patches of 96 / 64 / 48 pixels at x2 / x3 / x4; batch 16; Adam 2e-4 halved every 200 of 1,000 epochs of 1,000
# iterations (1,000,000 iterations on DIV2K's 800 photos, data/DIV2K.py repeat = 1000 // (800 // 16)).
IMDN_PATCH = 192
IMDN_HALVINGS = ((0.2, 0.5), (0.4, 0.25), (0.6, 0.125), (0.8, 0.0625))   # 2e-4 halved at 1/5, 2/5, 3/5, 4/5
# Stated CPU schedule (issue 32): 10,000 iterations of batch 16 (1 % of the paper's 1,000,000; 200 BSDS500 photos, DIV2K
# is not offline). Measured on the 2-core AMX-BF16 CPU with nothing else running (python benchmarks/throughput.py
# --models=imdn_x3 --precision=mixed_bfloat16 --steps=6): a train step on one batch of 16 192x192 HR patches at x3
# runs at 9.4 patches/s, so the schedule is ~4.7 h of training per scale (resumable across sessions).
IMDN_STEPS = 10_000


def _imdn_spec(scale: int) -> ModelSpec:
    """The registry entry of IMDN at `scale` (2, 3, 4): one trained model per scale, as the paper's Table 3."""
    return ModelSpec(
        id=f"imdn_x{scale}",
        paper="IMDN (Hui, Gao, Yang, Wang, ACM MM 2019, §3.1-3.2, Figs. 2-3: 6 IMDBs of 64 channels, distillation "
              "rate 1/4, contrast-aware channel attention, 1x1 fusion, 3x3 conv + sub-pixel upsampler in LR space; "
              "Table 3: x2 694K, x3 703K, x4 715K parameters)",
        description=f"x{scale} super-resolution of photos of any size, in low-resolution space (IMDN, L1 loss)",
        build_network=functools.partial(imdn.build_imdn, scale),
        make_task=functools.partial(tasks.PhotoSuperResolution, scale=scale),
        image_shape=(IMDN_PATCH, IMDN_PATCH, 3),   # HR patch; LR 192 / scale
        value_range=(0.0, 1.0),          # the authors' rgb_range = 1; linear output, clipped at inference
        default_dataset=PHOTOS,          # BSDS500 train/ (the paper: DIV2K's 800 photos, not offline); test: B100
        crop="patches",
        patches_per_photo=64,            # 12,800 HR patches per pass over the 200 photos (800 batches of 16)
        test_ids=None,                   # the test split is all 100 val/ photos: B100 (SR's BSD100)
        batch_size=16,                   # the authors' --batch_size 16
        learning_rate=2e-4,              # the authors' --lr 2e-4 (Adam, beta 0.9 / 0.999)
        lr_drops=IMDN_HALVINGS,          # the paper's shape: halved every fifth of the schedule
        steps=IMDN_STEPS,
        params=imdn.PARAMS[scale],       # 694,404 / 703,059 / 715,176 (models/imdn.py)
        loss="mae",                      # L1 (the authors' nn.L1Loss)
        benchmarks=SET5_SET14,           # + the test split B100: the paper's three natural-image test sets
        # the authors train x2 first and start x3 / x4 from it (Zheng222/IMDN issue 19); here any scale may start
        # another: only the upsampler differs
        warm_start_ids=tuple(f"imdn_x{s}" for s in imdn.SCALES if s != scale),
        # issue 32 (AMX-BF16 CPU under load, train step on one batch of 16 192x192 patches at x3): 2.4 vs 1.5
        # patches/s (1.60x); inference (one 240x160 LR photo) only 1.08x. Parity (0.1 dB) not measured yet
        precision="mixed_bfloat16",
    )


for _scale in imdn.SCALES:
    register(_imdn_spec(_scale))


# --- photo inpainting (issue 37): a small LaMa, trained on random crops of BSDS500 train/, scored on CBSD68 -------
LAMA_CROP = 192   # training crop side (see the entry's image_shape comment)

register(ModelSpec(
    id="lama_ffc",
    paper="LaMa (Suvorov et al., WACV 2022, §3.1 and Fig. 2: fast Fourier convolution ResNet generator; §3.3: "
          "wide stroke and box training masks; losses without the pretrained perceptual loss), at ~1/13 of "
          "LaMa-Fourier's parameters; PatchGAN (Isola et al. 2017) with pix2pixHD feature matching (Wang et al. 2018)",
    description="inpaint free-form holes (strokes, boxes: object removal) in natural photos of any size (FFC "
                "ResNet generator, L1 + adversarial + feature matching)",
    build_network=lama.build_lama_generator,
    make_task=functools.partial(tasks.PhotoInpainting, multiple=lama.MULTIPLE),
    task_options={"mask": "lama"},   # LaMa thin / medium / thick strokes and box masks, a quarter each
    # D sees the composite (prediction pasted into the hole, as free_form_inpaint) and the real crop; the
    # PatchGAN of free_form_inpaint at any input size (LaMa: pix2pixHD's NLayer discriminator, ndf 64, 4 layers)
    adversarial=Adversarial(functools.partial(free_form.build_patch_discriminator, input_shape=(None, None, 3)),
                            loss="bce_logits",    # LaMa: non-saturating logistic loss on patch logits
                            generator_takes_sync=False),   # its BatchNorm has no synchronized option
    trainer_options=gan_options(
        # LaMa's L1 is on the known pixels only (weight 10) and its hole is driven by the 30-weighted
        # ResNet50-dilated perceptual loss (HRF PL), which needs downloaded ADE20k weights: left out (SPEC §5). In
        # its place the L1 of the composite, i.e. of the hole (the generator pastes back itself), pix2pix-weighted
        # as free_form_inpaint (proposal)
        content_loss="l1",
        content_weight=100.0,
        adversarial_weight=1.0,      # proposal (LaMa: 10 beside its 30-weighted HRF PL); --adversarial_weight
        feature_matching=10.0,       # pix2pixHD λ = 10 (LaMa: 100 of its discriminator feature matching)
        d_learning_rate=1e-4,        # LaMa default_optimizers: D Adam 1e-4 (G 1e-3)
        real_label_smoothing=0.0,
        # LaMa's R1 gradient penalty (weight 0.001) is not in the shared trainer (its gradient_penalty is WGAN-GP's)
    ),
    # Training crops of LAMA_CROP x LAMA_CROP (LaMa: 256x256). Measured (issue 37, CPU seconds of a train step on
    # a batch of 8 held in memory, AMX-BF16 CPU under load, float32): 1.33 at 128, 3.7 at 192, 6.6 at 256. LaMa's
    # FFCs are resolution-robust (its Fig. 1: trained at 256, used on high-resolution photos), and the CBSD68
    # photos (481x321) are scored at full size; masks are sized for the image (LaMa's 256-pixel sizes x 0.75 on a
    # 192 crop, x 1.25 on a CBSD68 photo), so at 192 a test hole is 1.7x a training hole of its preset, within the
    # 2x LaMa itself generalises over (256 -> 512); at 128 it would be 2.5x, at 256 each step costs 1.8x more.
    image_shape=(LAMA_CROP, LAMA_CROP, 3),
    value_range=(0.0, 1.0),          # LaMa: images in [0, 1], sigmoid output
    default_dataset=PHOTOS,          # BSDS500 train/ (LaMa: Places365); never val/
    crop="patches",
    patches_per_photo=8,             # 1,600 crops per pass over the 200 photos (200 batches of 8)
    test_ids="cbsd68_ids.txt",       # CBSD68: 68 of BSDS500's val/ photos, scored whole
    batch_size=8,                    # LaMa abl-04-256-mh-dist: batch 8 (per GPU)
    learning_rate=1e-3,              # LaMa default_optimizers: G Adam 1e-3 (betas 0.9, 0.999)
    # Stated CPU schedule (issue 37): 12,000 steps of 8 crops (96,000 crops: 60 passes of 8 crops per photo), ~4.6 h
    # at the 5.8 crops/s measured on the 2-core AMX-BF16 CPU with nothing else running (mixed_bfloat16; float32 3.9,
    # ~6.8 h): `python benchmarks/throughput.py --models=lama_ffc --precision=float32,mixed_bfloat16 --steps=5`.
    # LaMa trains for days on 8 GPUs; this is the CPU budget, extended only if the CBSD68 bar is missed.
    steps=12_000,
    params=lama.PARAMS,                                   # 2,005,315 (module docstring table)
    discriminator_params=free_form.DISCRIMINATOR_PARAMS,  # 431,201 (free_form_inpaint's PatchGAN, any size)
    # issue 37, measured on the quiet 2-core AMX-BF16 CPU (train step on one batch of 8 192x192 crops held in memory):
    # mixed_bfloat16 5.8 crops/s against float32 3.9 (1.49x, above issue 12's 1.3x bar; the FFTs run in float32).
    # Under load the ratio was 1.29x. Parity (0.1 dB) not measured yet, as for imdn_x*.
    precision="mixed_bfloat16",
))
