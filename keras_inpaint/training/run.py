"""One training run: resolved configuration, run directory, `fit()` with resume, evaluation, export (SPEC §4-5).

Run directory layout (default `runs/<model>-<dataset>`):
  config.json    resolved settings, library versions, git hash
  logs/          TensorBoard: losses, learning rate, validation metrics, image grid (logs/images)
  checkpoints/   `keras.callbacks.BackupAndRestore` state (weights + optimizer + epoch); re-running the same
                 command resumes from it
  metrics.json   test-set metrics of the model and its baseline
  grid.png       the latest evaluation image grid
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time

import keras
import tensorflow as tf

from keras_inpaint import data, evaluation, precision, registry

CHECKPOINT_DIR = "checkpoints"
WEIGHTS_FILE = "latest.weights.h5"   # written by BackupAndRestore
GRID_IMAGES = 8
LOG_EVERY = 100      # training-loss scalars every N iterations (TensorBoard logs/train, batch_<name>)


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
    export_dir: str | None = "saved_models"
    task_options: dict | None = None       # e.g. {"mask": "random_box"}; see ModelSpec.task_options
    trainer_options: dict | None = None    # e.g. {"d_steps": 5}; see ModelSpec.trainer_options (GANs)
    benchmarks: list[str] | None = None    # full-size benchmark folders; None = the model's (ModelSpec.benchmarks)
    precision: str | None = None           # Keras dtype policy; None = precision.default_for(ModelSpec.precision)

    def resolved(self) -> "RunConfig":
        """A copy with every registry default filled in (raises ValueError for an unknown model id)."""
        spec = registry.get(self.model)
        c = dataclasses.replace(self)
        c.dataset = c.dataset or spec.default_dataset
        c.steps = c.steps or spec.steps
        c.batch_size = c.batch_size or spec.batch_size
        c.learning_rate = c.learning_rate or spec.learning_rate
        c.output_dir = c.output_dir or default_output_dir(c.model, c.dataset)
        c.data_dir = data.resolve_data_dir(c.data_dir)
        c.precision = precision.check(c.precision or precision.default_for(spec.precision))
        if c.steps <= 0 or c.batch_size <= 0 or c.steps_per_epoch <= 0:
            raise ValueError("steps, batch_size and steps_per_epoch must be positive")
        c.steps_per_epoch = min(c.steps_per_epoch, c.steps)
        c.task_options = {k: v for k, v in (c.task_options or {}).items() if v is not None}
        c.trainer_options = {k: v for k, v in (c.trainer_options or {}).items() if v is not None}
        task = spec.task(**c.task_options)               # fail now, not after loading data, on a bad option
        spec.resolve_trainer_options(c.trainer_options)
        quick = c.steps < spec.steps or c.max_examples is not None
        if c.test_examples is None and quick and getattr(task, "quick_run_test_images", None):
            c.test_examples = task.quick_run_test_images  # z-search models: a smoke run's test stays quick (issue 15)
        if c.test_examples is not None and c.test_examples <= 0:
            raise ValueError(f"test_examples must be positive, got {c.test_examples}")
        if c.benchmarks is None:                         # the model's defaults, where this checkout has them
            c.benchmarks = [b for b in spec.benchmarks if os.path.isdir(b)]
        else:
            c.benchmarks = [b for b in c.benchmarks if b]
            if c.benchmarks and not getattr(task, "any_size", False):
                raise ValueError(f"--benchmarks scores whole images of any size; model {c.model!r} takes fixed "
                                 f"{spec.image_shape[0]}x{spec.image_shape[1]} images (use it with sr_autoencoder)")
            for b in c.benchmarks:
                data.list_folder_images(b, "all")        # DatasetError now if a folder is missing or empty
        return c

    def task(self):
        """The task object of this run (the model's task with this run's `task_options`)."""
        return registry.get(self.model).task(**(self.task_options or {}))

    @property
    def epochs(self) -> int:
        """Number of Keras epochs (an epoch is `steps_per_epoch` iterations: the logging/checkpoint interval)."""
        return math.ceil(self.steps / self.steps_per_epoch)

    @staticmethod
    def load(run_dir: str) -> "RunConfig":
        """Reads `<run_dir>/config.json` (written by `train`). Raises FileNotFoundError with the path."""
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


def write_config(config: RunConfig) -> None:
    """Writes `<output_dir>/config.json`: resolved settings, versions, git hash, time."""
    os.makedirs(config.output_dir, exist_ok=True)
    spec = registry.get(config.model)
    payload = {"config": dataclasses.asdict(config), "paper": spec.paper, "value_range": spec.value_range,
               "image_shape": spec.image_shape, "versions": _versions(), "git": _git_hash(),
               "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    with open(os.path.join(config.output_dir, "config.json"), "w") as f:
        json.dump(payload, f, indent=2)


def build_training_model(spec: registry.ModelSpec, config: RunConfig) -> keras.Model:
    """The compiled Keras model that `fit()` trains, built in the current `tf.distribute` strategy scope.

    Models with a `spec.build_trainer` (the GANs) get it: a compiled `keras.Model` whose `train_step` trains
    several networks (e.g. `keras_inpaint.training.adversarial.AdversarialTrainer`, with a `generator`).
    """
    if spec.build_trainer is not None:
        return spec.build_trainer(spec, config)
    model = spec.build_network()
    model.compile(optimizer=spec.make_optimizer(config.learning_rate), loss=spec.loss,
                  jit_compile=config.jit_compile, steps_per_execution=config.steps_per_execution)
    return model


def inference_network(model: keras.Model) -> keras.Model:
    """The network used at inference: the model itself, a GAN trainer's `generator`, or what a trainer's
    `inference_network()` returns (the z -> {image, score} prior of the unconditional `lsgan` / `dcgan`)."""
    if callable(getattr(model, "inference_network", None)):
        return model.inference_network()
    return getattr(model, "generator", model)


def trained_steps(model: keras.Model) -> int:
    """Training iterations done: optimizer updates divided by the generator updates per step (`g_steps`, 2 for
    `dcgan`, else 1)."""
    if model.optimizer is None:
        return 0
    return int(model.optimizer.iterations.numpy()) // int(getattr(model, "g_steps", 1))


def load_trained_model(config: RunConfig) -> keras.Model:
    """Builds the run's model (in the run's `precision`) and loads its latest checkpoint.

    Raises FileNotFoundError if there is none."""
    spec = registry.get(config.model)
    path = os.path.join(config.output_dir, CHECKPOINT_DIR, WEIGHTS_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}: train the run first (python train.py ...)")
    with precision.policy_scope(config.precision or spec.precision):
        model = build_training_model(spec, config)
    model.optimizer.build(model.trainable_variables)
    try:
        model.load_weights(path)
    except (OSError, ValueError) as e:   # e.g. a kill while the latest checkpoint was being written
        backup = path + ".bkp"           # BackupAndRestore(double_checkpoint=True): the previous epoch's state
        if not os.path.exists(backup):
            raise
        print(f"warning: {path} is unreadable ({type(e).__name__}); restoring the previous checkpoint {backup}")
        shutil.copy(backup, path)        # as BackupAndRestore itself does (load_weights needs .weights.h5)
        model.load_weights(path)
    return model


def resume_point(config: RunConfig) -> tuple[int, int]:
    """(completed epochs, training step) that re-running `config`'s command resumes from (0, 0 if none)."""
    done = _completed_epochs(config)
    return done, done * config.steps_per_epoch


def _completed_epochs(config: RunConfig) -> int:
    path = os.path.join(config.output_dir, CHECKPOINT_DIR, "training_metadata.json")
    if os.path.exists(path):
        with open(path) as f:
            return int(json.load(f).get("epoch", 0))
    return 0


def _images(config: RunConfig, split: str, limit: int | None = None) -> tf.data.Dataset:
    spec = registry.get(config.model)
    return data.load_images(config.dataset, split, spec.image_shape[:2], spec.image_shape[2],
                            data_dir=config.data_dir, crop=spec.crop, max_examples=limit, download=config.download)


def _first_images(ds: tf.data.Dataset, n: int) -> tf.Tensor:
    return next(iter(ds.batch(n)))


def train(config: RunConfig, extra_callbacks=(), verbose=None) -> dict:
    """Trains (or resumes) `config.model`, evaluates it on the test split and exports it.

    Returns a dict with `run_dir`, `history` (Keras logs per epoch of this invocation), `metrics` (test set)
    and `export_path` (or None if `export_dir` is None).
    Raises:
      ValueError: unknown model id or bad settings; data.DatasetError: dataset not found or empty.
    """
    config = config.resolved()
    with precision.policy_scope(config.precision):
        return _train(config, extra_callbacks, verbose)


def _train(config: RunConfig, extra_callbacks, verbose) -> dict:
    spec = registry.get(config.model)
    task = config.task()
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        # Every op (tf.data included) runs its deterministic kernel: the same seed gives the same weights,
        # run after run, at some cost in speed. It holds for the rest of the process.
        tf.config.experimental.enable_op_determinism()
    write_config(config)
    done, _ = resume_point(config)
    if done:
        print(f"Resuming {config.output_dir} from epoch {done}/{config.epochs} "
              f"(step {done * config.steps_per_epoch}).")

    strategy = tf.distribute.get_strategy()
    with strategy.scope():
        model = build_training_model(spec, config)
    network = inference_network(model)

    # Data: seed offset by the completed epochs so a resumed run does not replay the first batches.
    train_images = _images(config, "train", config.max_examples)
    train_ds = data.training_pipeline(train_images, config.batch_size, task.make_pair, seed=config.seed + done)
    val_task, val_examples = task, config.val_examples
    if hasattr(task, "validation_view"):   # z-search tasks: a cheaper per-epoch validation (issue 15)
        val_task, val_examples = task.validation_view(config.val_examples)
        print(f"Validation each epoch: {val_examples} test images, {val_task.eval_iterations} z-search steps "
              f"(the final test evaluation: the whole split, {task.eval_iterations} steps).", flush=True)
    val_images = _first_images(_images(config, "test", val_examples), val_examples)
    val_ds = tf.data.Dataset.from_tensor_slices(val_images).batch(config.batch_size).map(task.make_pair)

    log_dir = os.path.join(config.output_dir, "logs")
    callbacks = [
        # double_checkpoint: the previous epoch's state is kept beside the latest, which a kill during a write
        # can corrupt; BackupAndRestore then falls back to it.
        keras.callbacks.BackupAndRestore(os.path.join(config.output_dir, CHECKPOINT_DIR), delete_checkpoint=False,
                                         double_checkpoint=True),
        *_logging_callbacks(val_task, network, val_images, log_dir, config.output_dir),
        keras.callbacks.TensorBoard(log_dir, update_freq="epoch", write_graph=False),
        *extra_callbacks,
    ]
    if verbose is None:   # a terminal: one bar for the whole run; a log file: one line per epoch
        verbose = "run" if sys.stdout.isatty() else 2
    if verbose == "run":
        from keras_inpaint.training.callbacks import RunProgress

        callbacks.append(RunProgress(config.steps, done * config.steps_per_epoch))
        verbose = 0
    print(f"Training {config.model} for {config.steps} steps ({config.epochs} epochs of {config.steps_per_epoch}, "
          f"batch {config.batch_size}, {config.precision}); logs: tensorboard --logdir {log_dir}", flush=True)
    start = time.time()
    history = model.fit(train_ds, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                        validation_data=val_ds, callbacks=callbacks, verbose=verbose, shuffle=False)
    wall = time.time() - start
    steps_done = trained_steps(model)
    print(f"Trained {steps_done} steps ({config.epochs} epochs of {config.steps_per_epoch}, {config.precision}); "
          f"this invocation: {wall:.0f} s.")

    results = evaluate(config, model=model)
    export_path = None
    if config.export_dir:
        from keras_inpaint import exporting
        export_path = exporting.export_run(config.output_dir, config.export_dir, model=model)
    return {"run_dir": config.output_dir, "history": history.history, "metrics": results,
            "export_path": export_path, "wall_seconds": wall}


def _logging_callbacks(task, network, val_images, log_dir, run_dir):
    from keras_inpaint.training.callbacks import ImageMetricsCallback, StopOnNaN, TrainingScalars

    return [StopOnNaN(), ImageMetricsCallback(task, network, val_images, val_images[:GRID_IMAGES], log_dir,
                                 png_path=os.path.join(run_dir, "grid.png")),
            TrainingScalars(log_dir, every=LOG_EVERY)]


def evaluate(config: RunConfig, model: keras.Model | None = None, verbose: bool = True) -> dict:
    """Scores the run's model and the task's baseline on the test split (SPEC §3; the whole split unless
    `config.test_examples` bounds it, with a bar of the images scored on a terminal), then on each folder of
    `config.benchmarks` at full image size (batch 1; results under `"benchmarks": {folder name: metrics}`).

    Writes `<output_dir>/metrics.json` and TensorBoard scalars under `logs/test`, prints the table, and
    returns the metrics dict (adds `steps`, the number of training iterations done).
    """
    config = config.resolved()
    with precision.policy_scope(config.precision):
        return _evaluate(config, model, verbose)


def _evaluate(config: RunConfig, model: keras.Model | None, verbose: bool) -> dict:
    task = config.task()
    model = model or load_trained_model(config)
    network = inference_network(model)
    if config.test_examples is not None and verbose:
        print(f"Test evaluation on the first {config.test_examples} test images (--test_examples; the whole split "
              f"unless bounded, or for z-search models in a run shorter than the schedule).", flush=True)
    results = evaluation.evaluate(task, network, _images(config, "test", config.test_examples),
                                  progress=verbose and sys.stdout.isatty())
    results["precision"] = config.precision
    results["steps"] = trained_steps(model)
    results["dataset"] = config.dataset
    tables = [evaluation.format_table(results, task, title=f"{config.model} on {config.dataset} test split")]
    channels = registry.get(config.model).image_shape[-1]
    tables += evaluation.evaluate_benchmarks(task, network, config.benchmarks, channels, config.model, results)
    with open(os.path.join(config.output_dir, "metrics.json"), "w") as f:
        json.dump(results, f, indent=2)
    writer = tf.summary.create_file_writer(os.path.join(config.output_dir, "logs", "test"))
    with writer.as_default():
        for k, v in results.items():
            if isinstance(v, float):
                tf.summary.scalar(f"test/{k}", v, step=results["steps"] or 0)
        for name, scores in results.get("benchmarks", {}).items():
            for k, v in scores.items():
                if isinstance(v, float):
                    tf.summary.scalar(f"{name}/{k}", v, step=results["steps"] or 0)
    writer.flush()
    if verbose:
        print("\n\n".join(tables))
    return results
