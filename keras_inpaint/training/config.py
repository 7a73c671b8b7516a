"""The configuration of one run: `RunConfig` (settings, grouped as tensorflow/models' `ExperimentConfig` groups an
experiment's: `task`, `data`, `trainer`, `runtime`), `resolve` (registry defaults filled in, the task built, once
per process) into a `Run`, and the provenance written to `<run_dir>/config.json`.

Every setting is declared once, as a field of its group's dataclass with its type, default and help text
(`setting`); train.py makes one flag per field (`setting_fields`: same name, type, default and help), beside the
task and trainer options' flags (`registry.TaskOptions`, `registry.TrainerOptions`).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import subprocess
import time
import typing

import keras
import tensorflow as tf

from keras_inpaint import data, precision, registry, tasks


# `RuntimeConfig.export_dir` default: the run directory's own `export/` folder (`<output_dir>/export/<model>/<N>/`),
# resolved by `resolve`. A run exports into `saved_models/` (the shipped models) only when told to.
RUN_EXPORT = "<output_dir>/export"


def setting(default=dataclasses.MISSING, *, help: str, choices=None, flag: bool = True):
    """A field of a `RunConfig` group: its default (none: required), its help text (train.py's flag help,
    `--helpfull`), for a setting with a fixed set of values its `choices` (an enum flag), and whether train.py
    makes a flag of it (`flag=False`: the task / trainer options, which have a flag per option)."""
    metadata = {"help": help, "flag": flag}
    if choices is not None:
        metadata["choices"] = tuple(choices)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass
class TaskConfig:
    """What is learnt: the model (its registry entry: network, task, paper defaults) and its task's options."""

    model: str = setting(help="Model id (SPEC §1).", choices=sorted(registry.REGISTRY))
    task_options: dict | None = setting(
        None, flag=False, help="Task options, e.g. {'mask': 'random_box'} (see ModelSpec.task_options and "
        "registry.TaskOptions; one flag each); None/absent = the model's default.")

    def build(self) -> tasks.Task:
        """A new task object of this run (the model's task with this run's `task_options`). Inside a run use
        `Run.task`, built once by `resolve`."""
        return registry.get(self.model).task(**(self.task_options or {}))


@dataclasses.dataclass
class DataConfig:
    """The images: the dataset, how much of it is used, and the benchmark folders scored after the test split."""

    dataset: str | None = setting(
        None, help="tfds name (e.g. cifar10, mnist, celeb_a) or folder:PATH for a folder of JPEG/PNG images (split "
        "~90/10 train/test by file-name hash). Default: the model's paper dataset.")
    data_dir: str | None = setting(
        None, help="tensorflow-datasets directory (default: $TFDS_DATA_DIR, else ~/tensorflow_datasets), e.g. "
        "../shared/data/tensorflow_datasets.")
    download: bool = setting(
        False, help="Let tfds download and prepare a tfds dataset that is not in --data_dir on first use (needs "
        "the network; the output says so). Off by default: without it a missing dataset stops with a clear error "
        "(nothing is fetched at run time).")
    max_examples: int | None = setting(None, help="Use only the first N training images (quick runs).")
    val_examples: int = setting(1000, help="Test images scored at each epoch end (val_psnr, val_ssim, ...).")
    test_examples: int | None = setting(
        None, help="Score only the first N test images in the final evaluation (quick runs). Default: the whole "
        "test split, the papers' protocol; lsgan/dcgan runs shorter than the schedule (or with --max_examples) "
        "score 64, since each image costs a z-search.")
    benchmarks: list[str] | None = setting(
        None, help="Folders of full-size HR images scored whole after the test split, each PATH or NAME=PATH "
        "(sr_autoencoder and imdn_x* default: ../shared/data/benchmarks/Set5,../shared/data/benchmarks/Set14 "
        "where present; e.g. B100=../shared/data/photos/bsds500/val); empty to skip.")


@dataclasses.dataclass
class TrainerConfig:
    """How it is trained: schedule, batch, optimiser, compilation, numeric precision, starting weights, and the
    GAN trainer's options."""

    steps: int | None = setting(None, help="Training iterations (mini-batches). Default: the paper's schedule.")
    batch_size: int | None = setting(None, help="Global batch size. Default: the paper's.")
    learning_rate: float | None = setting(None, help="Adam learning rate. Default: the paper's.")
    clipnorm: float | None = setting(
        None, help="Clip the (generator's) gradients to this global L2 norm before each Adam update. Default: the "
        "model's (none, except where its registry entry states one).")
    steps_per_epoch: int = setting(1000, help="Iterations per Keras epoch: the interval of validation, image grid "
                                   "and checkpoint.")
    steps_per_execution: int = setting(1, help="Training steps per compiled call (fewer Python round trips).")
    jit_compile: bool = setting(False, help="Compile the train step with XLA (measured slower on CPU; see "
                                "benchmarks/).")
    precision: str | None = setting(
        None, choices=["float32", "mixed_bfloat16", "mixed_float16"], help="Keras dtype policy of training and the "
        "exported graph: float32, mixed_bfloat16 (bfloat16 compute, float32 weights; fast on CPUs with AMX-BF16 "
        "and on TPUs) or mixed_float16 (GPUs; loss scaling on). Default: the model's measured choice (see the "
        "README's precision table); a mixed_bfloat16 default falls back to float32 on CPUs without AMX-BF16 "
        "(AVX-512-BF16 alone measured 0.93-1.38x; AVX2 emulates bfloat16).")
    init_from: str | None = setting(
        None, help="Fine-tune: start a new run from the weights of this SavedModel of the same model (e.g. "
        "saved_models/free_form_inpaint/3; a GAN's discriminator and the optimisers start fresh), or of another "
        "scale of IMDN (imdn_x2 from imdn_x3: all but the upsampler). A resumed run continues from its own "
        "checkpoint.")
    trainer_options: dict | None = setting(
        None, flag=False, help="GAN trainer options, e.g. {'d_steps': 5} (see ModelSpec.trainer_options and "
        "registry.TrainerOptions; one flag each); None/absent = the model's.")

    @property
    def epochs(self) -> int:
        """Number of Keras epochs (an epoch is `steps_per_epoch` iterations: the logging/checkpoint interval)."""
        return math.ceil(self.steps / self.steps_per_epoch)


@dataclasses.dataclass
class RuntimeConfig:
    """Where and how the run executes: seeding and determinism, the tf.distribute strategy and its devices, the
    run directory and the export."""

    seed: int = setting(0, help="Seed for initialisation, data order and corruptions.")
    deterministic: bool = setting(
        False, help="Deterministic ops (tf.config.experimental.enable_op_determinism) with --seed: two runs of the "
        "same command give identical weights (slower).")
    strategy: str = setting(
        "default", choices=["default", "mirrored", "multi_worker", "tpu"], help="tf.distribute strategy: default "
        "(one device), mirrored (all local GPUs, or --devices), multi_worker (the cluster in $TF_CONFIG; run the "
        "same command on every worker, worker 0 writes the run directory) or tpu (--tpu). --batch_size stays the "
        "global batch size (README: Multi-GPU and multi-worker).")
    devices: list[str] | None = setting(
        None, help="--strategy=mirrored: the local devices, e.g. /gpu:0,/gpu:1 (default: every GPU).")
    tpu: str | None = setting(
        None, help="--strategy=tpu: the TPU name or grpc:// address (default: the local TPU).")
    output_dir: str | None = setting(
        None, help="Run directory (default runs/<model>-<dataset>): config.json, logs/ (TensorBoard), checkpoints/ "
        "(resume), metrics.json, grid.png.")
    export_dir: str | None = setting(
        RUN_EXPORT, help="Where the trained model is exported at the end (<export_dir>/<model>/<version>/): by "
        "default into the run directory; empty to skip the export. The shipped models (saved_models/) change "
        "only when told to: python export.py --run_dir=RUN --export_dir=saved_models (or "
        "--export_dir=saved_models here).")


# The groups of `RunConfig`, by attribute name, in config.json's order.
GROUPS: dict[str, type] = {"task": TaskConfig, "data": DataConfig, "trainer": TrainerConfig,
                           "runtime": RuntimeConfig}
# Each setting's group: setting names are unique across the groups (`RunConfig.of` takes them flat).
GROUP_OF: dict[str, str] = {f.name: group for group, cls in GROUPS.items() for f in dataclasses.fields(cls)}
assert len(GROUP_OF) == sum(len(dataclasses.fields(cls)) for cls in GROUPS.values()), "a setting name repeats"


@dataclasses.dataclass(frozen=True)
class SettingField:
    """One `RunConfig` setting as train.py's flag declares it.

    Attributes:
      group: its group (`task`, `data`, `trainer` or `runtime`).
      name: the setting (and flag) name.
      type: its value type without None: bool, int, float, str or list (a list of str: a comma-separated flag).
      default: the dataclass's default (None for a required setting: `model`).
      help: the help text.
      choices: the allowed values (a str setting with a fixed set), else None.
      required: no default (the flag must be given).
    """

    group: str
    name: str
    type: type
    default: object
    help: str
    choices: tuple | None = None
    required: bool = False


def setting_fields() -> tuple[SettingField, ...]:
    """The settings that train.py makes flags of (every field of every group but the task and trainer options,
    which have a flag per option), group by group in declaration order."""
    out = []
    for group, cls in GROUPS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if not f.metadata["flag"]:
                continue
            types = [t for t in typing.get_args(hints[f.name]) if t is not type(None)] or [hints[f.name]]
            kind = typing.get_origin(types[0]) or types[0]          # list[str] -> list
            required = f.default is dataclasses.MISSING
            out.append(SettingField(group, f.name, kind, None if required else f.default, f.metadata["help"],
                                    f.metadata.get("choices"), required))
    return tuple(out)


@dataclasses.dataclass
class RunConfig:
    """Settings of one run, grouped as tensorflow/models' `ExperimentConfig` groups an experiment's: `task` (the
    model and its task options), `data` (the images), `trainer` (schedule, optimiser, precision, GAN options) and
    `runtime` (seed, distribution, run directory, export). `None` means "the registry's (paper's) default for
    this model", filled in once by `resolve`.

    `RunConfig.of(model=..., steps=..., ...)` builds one from flat settings, each going to its group; `flat()`
    and `replace(**settings)` read and change it by the same names.
    """

    task: TaskConfig
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    trainer: TrainerConfig = dataclasses.field(default_factory=TrainerConfig)
    runtime: RuntimeConfig = dataclasses.field(default_factory=RuntimeConfig)

    @classmethod
    def of(cls, **settings) -> "RunConfig":
        """A `RunConfig` from flat settings (`model=` required; the others default), each put in its group:
        `RunConfig.of(model="context_encoder", steps=100)` is
        `RunConfig(TaskConfig("context_encoder"), trainer=TrainerConfig(steps=100))`.

        Raises:
          TypeError: a name that is no setting (the message lists the settings), or no `model`.
        """
        unknown = sorted(set(settings) - set(GROUP_OF))
        if unknown:
            raise TypeError(f"RunConfig.of() got unknown setting(s) {', '.join(unknown)}; the settings are: "
                            f"{', '.join(GROUP_OF)}")
        if "model" not in settings:
            raise TypeError("RunConfig.of() needs model= (the model id)")
        grouped = {group: {} for group in GROUPS}
        for name, value in settings.items():
            grouped[GROUP_OF[name]][name] = value
        return cls(**{group: GROUPS[group](**values) for group, values in grouped.items()})

    def flat(self) -> dict:
        """{setting name: value} of every setting, the groups merged (the keys `RunConfig.of` takes)."""
        return {name: getattr(getattr(self, group), name) for name, group in GROUP_OF.items()}

    def replace(self, **settings) -> "RunConfig":
        """A copy (new group objects) with the flat `settings` changed. Raises TypeError for an unknown name."""
        return RunConfig.of(**{**self.flat(), **settings})

    def resolved(self) -> "RunConfig":
        """A copy with every registry default filled in (`resolve(self).config`; raises ValueError for an
        unknown model id or a bad setting)."""
        return resolve(self).config

    def _filled(self, spec: registry.ModelSpec) -> tuple["RunConfig", tasks.Task, dict]:
        """(copy with the registry defaults, the task built once with the run's options, the trainer options
        resolved once: `spec.trainer_options` with the run's overrides). See `resolve`."""
        c = self.replace()
        task, images, trainer, runtime = c.task, c.data, c.trainer, c.runtime
        images.dataset = images.dataset or spec.default_dataset
        trainer.steps = spec.steps if trainer.steps is None else trainer.steps   # 0: an error below, not the default
        trainer.batch_size = spec.batch_size if trainer.batch_size is None else trainer.batch_size
        trainer.learning_rate = spec.learning_rate if trainer.learning_rate is None else trainer.learning_rate
        runtime.output_dir = runtime.output_dir or default_output_dir(task.model, images.dataset)
        if runtime.export_dir == RUN_EXPORT:
            runtime.export_dir = os.path.join(runtime.output_dir, "export")
        images.data_dir = data.resolve_data_dir(images.data_dir)
        trainer.precision = precision.check(trainer.precision or precision.default_for(spec.precision))
        for name in ("steps", "batch_size", "steps_per_epoch", "steps_per_execution"):
            if getattr(trainer, name) <= 0:
                raise ValueError(f"--{name} must be a positive integer, got {getattr(trainer, name)}")
        if trainer.learning_rate <= 0:
            raise ValueError(f"--learning_rate must be positive, got {trainer.learning_rate}")
        trainer.steps_per_epoch = min(trainer.steps_per_epoch, trainer.steps)
        task.task_options = {k: v for k, v in (task.task_options or {}).items() if v is not None}
        trainer.trainer_options = {k: v for k, v in (trainer.trainer_options or {}).items() if v is not None}
        built = spec.task(**task.task_options)           # fail now, not after loading data, on a bad option
        trainer_options = spec.resolve_trainer_options(trainer.trainer_options)
        quick = trainer.steps < spec.steps or images.max_examples is not None
        if quick and built.quick_run_test_images:       # a smoke run's evaluation stays quick (issue 15)
            if images.test_examples is None:
                images.test_examples = built.quick_run_test_images
            images.val_examples = min(images.val_examples, built.quick_run_test_images)
        if images.test_examples is not None and images.test_examples <= 0:
            raise ValueError(f"test_examples must be positive, got {images.test_examples}")
        if images.benchmarks is None:                    # the model's defaults, where this checkout has them
            images.benchmarks = spec.default_benchmarks()
        else:
            images.benchmarks = [b for b in images.benchmarks if b]
            if images.benchmarks and not built.any_size:
                raise ValueError(f"--benchmarks scores whole images of any size; model {task.model!r} takes fixed "
                                 f"{spec.image_shape[0]}x{spec.image_shape[1]} images (use it with sr_autoencoder)")
            for b in images.benchmarks:                  # NAME=PATH or PATH (data.benchmark_folder)
                data.list_folder_images(data.benchmark_folder(b)[1], "all")   # DatasetError now if missing/empty
        return c, built, trainer_options

    @staticmethod
    def load(run_dir: str) -> "RunConfig":
        """Reads `<run_dir>/config.json` (written by `write_config`), in either of its two formats.

        The rule: its `"config"` object is grouped when its `"task"` is an object
        (`{"task": {"model": ...}, "data": {...}, "trainer": {...}, "runtime": {...}}`, as written since the
        settings were grouped), else flat (`{"model": ..., "steps": ..., ...}`, the run directories written
        before, which `python export.py --run_dir=...` still exports). Either way each setting goes to its
        current group by name (a setting that moved between groups still loads), settings this version does not
        know are ignored and missing ones take their defaults.

        Raises FileNotFoundError with the path."""
        path = os.path.join(run_dir, "config.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} not found: --run_dir must be a directory written by train.py")
        with open(path) as f:
            raw = json.load(f)["config"]
        if isinstance(raw.get("task"), dict):            # grouped
            raw = {name: value for group in GROUPS for name, value in (raw.get(group) or {}).items()}
        return RunConfig.of(**{k: v for k, v in raw.items() if k in GROUP_OF})


def default_output_dir(model: str, dataset: str) -> str:
    """`runs/<model>-<dataset>` with the dataset name made file-system safe."""
    safe = dataset.replace("folder:", "folder-").strip("/").replace("/", "_").replace(":", "-")
    return os.path.join("runs", f"{model}-{safe}")


def _git_hash() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions() -> dict[str, str]:
    import numpy as np

    out = {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
           "numpy": np.__version__}
    try:
        import tensorflow_datasets as tfds
        out["tensorflow_datasets"] = tfds.__version__
    except ImportError:
        pass
    return out


def write_config(run: "Run") -> None:
    """Writes `<output_dir>/config.json`: the resolved settings, grouped as `RunConfig` is (`{"config": {"task":
    {...}, "data": {...}, "trainer": {...}, "runtime": {...}}, ...}`; `RunConfig.load` reads it back), the paper,
    versions, git hash, time."""
    config, spec = run.config, run.spec
    os.makedirs(config.runtime.output_dir, exist_ok=True)
    payload = {"config": dataclasses.asdict(config), "paper": spec.paper, "value_range": spec.value_range,
               "image_shape": spec.image_shape, "versions": _versions(), "git": _git_hash(),
               "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    with open(os.path.join(config.runtime.output_dir, "config.json"), "w") as f:
        json.dump(payload, f, indent=2)


@dataclasses.dataclass
class Run:
    """A resolved run: the settings with every default filled in, the registry entry and the task, made once by
    `resolve` and passed down (training, evaluation, export) instead of being re-resolved.

    Attributes:
      config: the resolved `RunConfig` (what `config.json` records).
      spec: the model's `registry.ModelSpec`.
      task: the run's `tasks.Task` (the model's task with `config.task.task_options`).
      model: the trained Keras model (a GAN's trainer) once built or loaded, else None.
      trainer_options: the trainer options, resolved once (`spec.resolve_trainer_options` of
        `config.trainer.trainer_options`, which keeps only the run's overrides, as config.json records them); what a
        GAN's trainer is built with. None (a `Run` made by hand): resolved from `config` where the trainer is built.
      eval_steps: the run's traced evaluation functions (`evaluation.evaluation_step`'s cache), shared by its
        per-epoch validation and its test evaluation.
    """

    config: RunConfig
    spec: registry.ModelSpec
    task: tasks.Task
    model: keras.Model | None = None
    trainer_options: dict | None = None
    eval_steps: dict = dataclasses.field(default_factory=dict, repr=False)


def resolve(config: RunConfig) -> Run:
    """Fills in `config`'s registry defaults, builds its task and resolves its trainer options, once.

    Raises:
      ValueError: unknown model id, bad settings or task/trainer options (the message lists the valid ones).
      data.DatasetError: a benchmark folder that is missing or empty.
    """
    spec = registry.get(config.task.model)
    resolved, task, trainer_options = config._filled(spec)
    return Run(resolved, spec, task, trainer_options=trainer_options)
