"""The configuration of one run: `RunConfig` (settings), `resolve` (registry defaults filled in, the task built,
once per process) into a `Run`, and the provenance written to `<run_dir>/config.json`."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import subprocess
import time

import keras
import tensorflow as tf

from keras_inpaint import data, precision, registry, tasks


# `RunConfig.export_dir` default: the run directory's own `export/` folder (`<output_dir>/export/<model>/<N>/`),
# resolved by `resolve`. A run exports into `saved_models/` (the shipped models) only when told to.
RUN_EXPORT = "<output_dir>/export"


@dataclasses.dataclass
class RunConfig:
    """Settings of one run. `None` means "the registry's (paper's) default for this model"."""

    model: str
    dataset: str | None = None
    data_dir: str | None = None
    output_dir: str | None = None
    steps: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int = 0
    max_examples: int | None = None
    val_examples: int = 1000
    test_examples: int | None = None       # score only the first N test images (quick runs); None = the whole split
    steps_per_epoch: int = 1000
    steps_per_execution: int = 1
    jit_compile: bool = False
    deterministic: bool = False            # tf.config.experimental.enable_op_determinism() (issue 14)
    download: bool = False
    export_dir: str | None = RUN_EXPORT    # root of the export, <export_dir>/<model>/<N>/; None: no export
    task_options: dict | None = None       # e.g. {"mask": "random_box"}; see ModelSpec.task_options
    trainer_options: dict | None = None    # e.g. {"d_steps": 5}; see ModelSpec.trainer_options (GANs)
    benchmarks: list[str] | None = None    # full-size benchmark folders (or NAME=PATH); None = the model's
    precision: str | None = None           # Keras dtype policy; None = precision.default_for(ModelSpec.precision)
    strategy: str = "default"              # tf.distribute strategy (training/distribute.py make_strategy)
    devices: list[str] | None = None       # mirrored: the local devices (None = every GPU)
    tpu: str | None = None                 # tpu: the TPU name or address (None/"" = the local TPU)
    init_from: str | None = None           # fine-tuning: an export of this model that a fresh run starts from

    def resolved(self) -> "RunConfig":
        """A copy with every registry default filled in (`resolve(self).config`; raises ValueError for an
        unknown model id or a bad setting)."""
        return resolve(self).config

    def _filled(self, spec: registry.ModelSpec) -> tuple["RunConfig", tasks.Task, dict]:
        """(copy with the registry defaults, the task built once with the run's options, the trainer options
        resolved once: `spec.trainer_options` with the run's overrides). See `resolve`."""
        c = dataclasses.replace(self)
        c.dataset = c.dataset or spec.default_dataset
        c.steps = spec.steps if c.steps is None else c.steps          # 0 is an error below, not "the default"
        c.batch_size = spec.batch_size if c.batch_size is None else c.batch_size
        c.learning_rate = spec.learning_rate if c.learning_rate is None else c.learning_rate
        c.output_dir = c.output_dir or default_output_dir(c.model, c.dataset)
        if c.export_dir == RUN_EXPORT:
            c.export_dir = os.path.join(c.output_dir, "export")
        c.data_dir = data.resolve_data_dir(c.data_dir)
        c.precision = precision.check(c.precision or precision.default_for(spec.precision))
        for name in ("steps", "batch_size", "steps_per_epoch", "steps_per_execution"):
            if getattr(c, name) <= 0:
                raise ValueError(f"--{name} must be a positive integer, got {getattr(c, name)}")
        if c.learning_rate <= 0:
            raise ValueError(f"--learning_rate must be positive, got {c.learning_rate}")
        c.steps_per_epoch = min(c.steps_per_epoch, c.steps)
        c.task_options = {k: v for k, v in (c.task_options or {}).items() if v is not None}
        c.trainer_options = {k: v for k, v in (c.trainer_options or {}).items() if v is not None}
        task = spec.task(**c.task_options)               # fail now, not after loading data, on a bad option
        trainer_options = spec.resolve_trainer_options(c.trainer_options)
        quick = c.steps < spec.steps or c.max_examples is not None
        if quick and task.quick_run_test_images:        # a smoke run's evaluation stays quick (issue 15)
            if c.test_examples is None:
                c.test_examples = task.quick_run_test_images
            c.val_examples = min(c.val_examples, task.quick_run_test_images)
        if c.test_examples is not None and c.test_examples <= 0:
            raise ValueError(f"test_examples must be positive, got {c.test_examples}")
        if c.benchmarks is None:                         # the model's defaults, where this checkout has them
            c.benchmarks = spec.default_benchmarks()
        else:
            c.benchmarks = [b for b in c.benchmarks if b]
            if c.benchmarks and not task.any_size:
                raise ValueError(f"--benchmarks scores whole images of any size; model {c.model!r} takes fixed "
                                 f"{spec.image_shape[0]}x{spec.image_shape[1]} images (use it with sr_autoencoder)")
            for b in c.benchmarks:                       # NAME=PATH or PATH (data.benchmark_folder)
                data.list_folder_images(data.benchmark_folder(b)[1], "all")   # DatasetError now if missing/empty
        return c, task, trainer_options

    def task(self) -> tasks.Task:
        """A new task object of this run (the model's task with this run's `task_options`). Inside a run use
        `Run.task`, built once by `resolve`."""
        return registry.get(self.model).task(**(self.task_options or {}))

    @property
    def epochs(self) -> int:
        """Number of Keras epochs (an epoch is `steps_per_epoch` iterations: the logging/checkpoint interval)."""
        return math.ceil(self.steps / self.steps_per_epoch)

    @staticmethod
    def load(run_dir: str) -> "RunConfig":
        """Reads `<run_dir>/config.json` (written by `write_config`). Raises FileNotFoundError with the path."""
        path = os.path.join(run_dir, "config.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} not found: --run_dir must be a directory written by train.py")
        with open(path) as f:
            raw = json.load(f)
        fields = {f.name for f in dataclasses.fields(RunConfig)}
        return RunConfig(**{k: v for k, v in raw["config"].items() if k in fields})


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
    """Writes `<output_dir>/config.json`: the resolved settings, the paper, versions, git hash, time."""
    config, spec = run.config, run.spec
    os.makedirs(config.output_dir, exist_ok=True)
    payload = {"config": dataclasses.asdict(config), "paper": spec.paper, "value_range": spec.value_range,
               "image_shape": spec.image_shape, "versions": _versions(), "git": _git_hash(),
               "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    with open(os.path.join(config.output_dir, "config.json"), "w") as f:
        json.dump(payload, f, indent=2)


@dataclasses.dataclass
class Run:
    """A resolved run: the settings with every default filled in, the registry entry and the task, made once by
    `resolve` and passed down (training, evaluation, export) instead of being re-resolved.

    Attributes:
      config: the resolved `RunConfig` (what `config.json` records).
      spec: the model's `registry.ModelSpec`.
      task: the run's `tasks.Task` (the model's task with `config.task_options`).
      model: the trained Keras model (a GAN's trainer) once built or loaded, else None.
      trainer_options: the trainer options, resolved once (`spec.resolve_trainer_options` of
        `config.trainer_options`, which keeps only the run's overrides, as config.json records them); what a
        GAN's trainer is built with. None (a `Run` made by hand): resolved from `config` where the trainer is built.
    """

    config: RunConfig
    spec: registry.ModelSpec
    task: tasks.Task
    model: keras.Model | None = None
    trainer_options: dict | None = None


def resolve(config: RunConfig) -> Run:
    """Fills in `config`'s registry defaults, builds its task and resolves its trainer options, once.

    Raises:
      ValueError: unknown model id, bad settings or task/trainer options (the message lists the valid ones).
      data.DatasetError: a benchmark folder that is missing or empty.
    """
    spec = registry.get(config.model)
    resolved, task, trainer_options = config._filled(spec)
    return Run(resolved, spec, task, trainer_options=trainer_options)
