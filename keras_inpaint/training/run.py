"""One training run: resolved configuration, run directory, `fit()` with resume, evaluation, export (SPEC §4-5).

Run directory layout (default `runs/<model>-<dataset>`):
  config.json    resolved settings, library versions, git hash
  logs/          TensorBoard: losses, learning rate, validation metrics, image grid (logs/images)
  checkpoints/   `keras.callbacks.BackupAndRestore` state (weights + optimizer + epoch); re-running the same
                 command resumes from it
  history.csv    per-epoch training losses and validation metrics (continued across resumes)
  metrics.json   test-set metrics of the model and its baseline
  grid.png       the latest evaluation image grid
Under a multi-worker strategy only the chief (worker 0) writes these (training/distribute.py).

`train` runs six named stages, each a short function handing a `_Training` state to the next: `_build` (seeds,
strategy, config.json, the model), `_restore` (checkpoint or warm start), `_inputs` (the training stream and the
validation batches), `_callbacks`, `_fit` and `_finish` (BatchNorm re-estimation, test evaluation, export). Each
input pipeline is built once per run: the training source and stream, the validation images, the test images.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time

import keras
import tensorflow as tf

from keras_inpaint import data, evaluation, exporting, precision, registry
from keras_inpaint.training import batchnorm, distribute
from keras_inpaint.training.callbacks import (DeferredCtrlC, ImageMetricsCallback, RunProgress, StopOnNaN,
                                            TrainingScalars)
# The run's configuration and its trained model live in config.py and checkpoints.py; their names are
# re-exported here, the module a user of `train` / `evaluate` imports.
from keras_inpaint.training.checkpoints import (CHECKPOINT_DIR, WEIGHTS_FILE, build_training_model,  # noqa: F401
                                                inference_network, load_run, load_trained_model, restore_checkpoint,
                                                resume_point, trained_steps)
from keras_inpaint.training.config import (RUN_EXPORT, DataConfig, Run, RunConfig, RuntimeConfig,  # noqa: F401
                                           TaskConfig, TrainerConfig, default_output_dir, resolve, setting_fields,
                                           write_config)

GRID_IMAGES = 8
HISTORY_FILE = "history.csv"   # per-epoch losses and validation metrics (CSVLogger)
LOG_EVERY = 100      # training-loss scalars every N iterations (TensorBoard logs/train, batch_<name>)


def as_run(config: RunConfig | Run) -> Run:
    """`config` resolved (`resolve`), or the already resolved `Run` itself (nothing is resolved twice)."""
    return config if isinstance(config, Run) else resolve(config)


PHOTO_VALIDATION_CROP = 128   # photo models validate each epoch on the centre 128x128 of each test photo


def _images(run: Run, split: str, limit: int | None = None, validation: bool = False) -> tf.data.Dataset:
    """The run's uint8 images of `split`; photo models (crop "patches") get whole photos at their native size,
    or with `validation`, equal-size centre crops (`PHOTO_VALIDATION_CROP`) that batch for the per-epoch check."""
    config, spec = run.config, run.spec
    size, crop = spec.image_shape[:2], spec.crop
    if validation and crop == data.PATCHES:
        size, crop = (PHOTO_VALIDATION_CROP, PHOTO_VALIDATION_CROP), "centre"
    return data.load_images(config.data.dataset, split, size, spec.image_shape[2], data_dir=config.data.data_dir,
                            crop=crop, max_examples=limit, download=config.data.download, test_ids=spec.test_ids)


def training_stream(run: Run, seed: int, images: tf.data.Dataset | None = None) -> tf.data.Dataset:
    """The infinite stream of global training batches: random patches of native-size photos for photo models
    (`data.patch_pipeline`), else the images fitted to the model's size (`data.training_pipeline`).

    `images` is the run's training source (`_images(run, "train", ...)`) when it is built already; None builds
    it here."""
    config, spec, task = run.config, run.spec, run.task
    if images is None:
        images = _images(run, "train", config.data.max_examples)
    if spec.crop == data.PATCHES:
        return data.patch_pipeline(images, spec.image_shape[0], config.trainer.batch_size, task.make_pair, seed=seed,
                                   patches_per_photo=spec.patches_per_photo)
    return data.training_pipeline(images, config.trainer.batch_size, task.make_pair, seed=seed)


def _first_images(ds: tf.data.Dataset, n: int, run: Run | None = None, split: str = "test") -> tf.Tensor:
    """The first `n` images of `ds` as one uint8 batch.

    Raises:
      data.DatasetError: `ds` yields no image (e.g. a folder whose every file failed to decode).
    """
    try:
        return next(iter(ds.batch(n)))
    except StopIteration:
        name = run.config.data.dataset if run is not None else "the dataset"
        raise data.DatasetError(f"{name}: no readable image in its {split!r} split (every file failed to decode: "
                                "not an image, truncated or empty)") from None


def train(config: RunConfig | Run, extra_callbacks=(), verbose=None,
          strategy: tf.distribute.Strategy | None = None) -> dict:
    """Trains (or resumes) `config.task.model`, evaluates it on the test split and exports it.

    `config` is resolved once (`resolve`; or pass the `Run` it returned) and that `Run` (settings, registry
    entry, task, trainer options) is what the training, the test evaluation and the export use. `strategy` is
    the run's `tf.distribute` strategy when the caller made it already (train.py makes it first of all); None
    makes it from `config.runtime.strategy` (`distribute.make_strategy`). The run goes through the stages of the
    module docstring, each input pipeline built once.

    Returns a dict with `run_dir`, `history` (Keras logs per epoch of this invocation), `metrics` (test set)
    and `export_path` (`<export_dir>/<model>/<N>`, by default inside the run directory, `<output_dir>/export`;
    None if `export_dir` is None).
    Raises:
      ValueError: unknown model id or bad settings; data.DatasetError: dataset not found or empty.
    """
    run = as_run(config)
    with precision.policy_scope(run.config.trainer.precision):
        state = _build(run, strategy)
        try:
            _restore(state)
            _inputs(state)
            _callbacks(state, extra_callbacks, verbose)
            _fit(state)
        finally:
            if state.scratch:
                shutil.rmtree(state.scratch, ignore_errors=True)
        return _finish(state)


@dataclasses.dataclass
class _Training:
    """What one run's training stages (`train`) hand on, each filling in its part."""

    run: Run
    strategy: tf.distribute.Strategy
    chief: bool                              # the one writer of the run directory (multi-worker: worker 0)
    model: keras.Model                       # the compiled training model (a GAN's trainer)
    network: keras.Model                     # its inference network
    checkpoints: str = ""                    # the BackupAndRestore folder (other workers: a scratch copy)
    scratch: str | None = None               # that scratch copy, removed when the run ends
    done: int = 0                            # completed epochs restored from the checkpoint
    train_images: tf.data.Dataset | None = None    # the training source, built once (stream, check, finish)
    train_ds: object = None                  # the training stream (a DistributedDataset under a strategy)
    val_task: object = None                  # the task of the per-epoch validation (`Task.validation_view`)
    val_images: tf.Tensor | None = None
    val_ds: tf.data.Dataset | None = None
    callbacks: list = dataclasses.field(default_factory=list)
    verbose: int | str = 0
    history: keras.callbacks.History | None = None
    wall: float = 0.0                        # seconds of this invocation's fit()

    @property
    def log_dir(self) -> str:
        """The run's TensorBoard folder."""
        return os.path.join(self.run.config.runtime.output_dir, "logs")


def _build(run: Run, strategy: tf.distribute.Strategy | None) -> _Training:
    """Stage `build`: seeds, the strategy (made here unless given), config.json (the chief), and the compiled
    training model built in the strategy's scope with the run's resolved trainer options."""
    config = run.config
    keras.utils.set_random_seed(config.runtime.seed)
    if config.runtime.deterministic:
        # Every op (tf.data included) runs its deterministic kernel: the same seed gives the same weights,
        # run after run, at some cost in speed. It holds for the rest of the process.
        tf.config.experimental.enable_op_determinism()
    if strategy is None:
        strategy = distribute.make_strategy(config.runtime.strategy, config.runtime.devices, config.runtime.tpu)
    chief = distribute.is_chief(strategy)
    if chief:
        write_config(run)
    with strategy.scope():
        model = run.model = build_training_model(run.spec, config, run.trainer_options)
    return _Training(run, strategy, chief, model, inference_network(model))


def _restore(state: _Training) -> None:
    """Stage `restore`: the last completed epoch's weights and optimizer state, if any (workers other than the
    chief restore a scratch copy of the chief's checkpoints and write theirs there); a fresh run with
    `init_from` starts from that export's weights instead (`warm_start`)."""
    config = state.run.config
    state.checkpoints = os.path.join(config.runtime.output_dir, CHECKPOINT_DIR)
    if not state.chief:
        state.scratch = tempfile.mkdtemp(prefix=f"keras_inpaint-worker{distribute.worker_index(state.strategy)}-")
        if os.path.isdir(state.checkpoints):
            shutil.copytree(state.checkpoints, state.scratch, dirs_exist_ok=True)
        state.checkpoints = state.scratch
    with state.strategy.scope():
        state.done = restore_checkpoint(state.model, state.checkpoints, config.trainer.steps_per_epoch)
    if state.done and state.chief:
        print(f"Resuming {config.runtime.output_dir} from epoch {state.done}/{config.trainer.epochs} "
              f"(step {state.done * config.trainer.steps_per_epoch}).")
    if config.trainer.init_from and not state.done:     # a resumed run continues from its own checkpoint instead
        warm_start(state.network, config.trainer.init_from, config.task.model)


def _inputs(state: _Training) -> None:
    """Stage `inputs`: the training stream and the validation batches, each source built once.

    The stream's seed is offset by the completed epochs so a resumed run does not replay the first batches.
    Under a strategy every worker builds these global batches and keeps its replicas' slices (distribute.py),
    its training source built where the strategy builds its input (once per worker process)."""
    run, config, task = state.run, state.run.config, state.run.task

    def stream() -> tf.data.Dataset:
        state.train_images = _images(run, "train", config.data.max_examples)
        # a clear error, not a hang, when no training image decodes (all of them are tried, not just the first)
        _first_images(state.train_images, 1, run, "train")
        return training_stream(run, config.runtime.seed + state.done, state.train_images)

    state.train_ds = distribute.distribute_training_input(state.strategy, stream, config.trainer.batch_size)
    state.val_task, val_examples = task.validation_view(config.data.val_examples)
    if state.val_task is not task and state.chief and task.latent_search:   # a cheaper per-epoch z-search (issue 15)
        print(f"Validation each epoch: {val_examples} test images, {state.val_task.eval_iterations} z-search "
              f"steps (the final test evaluation: the whole split, {task.eval_iterations} steps).", flush=True)
    state.val_images = _first_images(_images(run, "test", val_examples, validation=True), val_examples, run, "test")
    state.val_ds = distribute.validation_input(
        tf.data.Dataset.from_tensor_slices(state.val_images).batch(config.trainer.batch_size).map(
            data.no_autograph(task.make_pair)))


def _callbacks(state: _Training, extra_callbacks, verbose) -> None:
    """Stage `callbacks`: fit()'s callbacks (checkpoints and NaN stop; on the chief the per-epoch image metrics
    and grid, training scalars, TensorBoard and history.csv; then `extra_callbacks`) and its verbosity (None:
    one bar for the whole run on a terminal, one line per epoch in a log file; silent off the chief)."""
    config = state.run.config
    state.callbacks = [
        # double_checkpoint: the previous epoch's state is kept beside the latest, which a kill during a write
        # can corrupt; BackupAndRestore then falls back to it.
        keras.callbacks.BackupAndRestore(state.checkpoints, delete_checkpoint=False, double_checkpoint=True),
        StopOnNaN(),
    ]
    if state.chief:
        state.callbacks += [
            ImageMetricsCallback(state.val_task, state.network, state.val_images, state.val_images[:GRID_IMAGES],
                                 state.log_dir, png_path=os.path.join(config.runtime.output_dir, "grid.png"),
                                 eval_steps=state.run.eval_steps),
            TrainingScalars(state.log_dir, every=LOG_EVERY),
            keras.callbacks.TensorBoard(state.log_dir, update_freq="epoch", write_graph=False),
            # per-epoch losses and validation metrics as text, continued across resumes
            keras.callbacks.CSVLogger(os.path.join(config.runtime.output_dir, HISTORY_FILE), append=True),
        ]
    state.callbacks += list(extra_callbacks)
    if verbose is None:   # a terminal: one bar for the whole run; a log file: one line per epoch
        verbose = "run" if sys.stdout.isatty() else 2
    if not state.chief:
        verbose = 0
    if verbose == "run":
        state.callbacks.append(RunProgress(config.trainer.steps, state.done * config.trainer.steps_per_epoch))
        verbose = 0
    state.verbose = verbose


def _fit(state: _Training) -> None:
    """Stage `fit`: `model.fit` over the epochs left; Ctrl-C stops at the next batch end, never lost inside
    TensorFlow (`DeferredCtrlC`)."""
    trainer = state.run.config.trainer
    print(f"Training {state.run.config.task.model} for {trainer.steps} steps ({trainer.epochs} epochs of "
          f"{trainer.steps_per_epoch}, batch {trainer.batch_size}, {trainer.precision}); logs: tensorboard --logdir "
          f"{state.log_dir}", flush=True)
    start = time.time()
    ctrl_c = DeferredCtrlC()
    with ctrl_c:
        state.history = state.model.fit(
            state.train_ds, epochs=trainer.epochs, steps_per_epoch=trainer.steps_per_epoch,
            validation_data=state.val_ds, callbacks=state.callbacks + [ctrl_c], verbose=state.verbose, shuffle=False)
    state.wall = time.time() - start


def _finish(state: _Training) -> dict:
    """Stage `finish`: on the chief, BatchNorm re-estimation (entries with `bn_reestimation`, from the run's
    training source), the test evaluation and the export; other workers only report. Returns `train`'s dict."""
    run, config = state.run, state.run.config
    result = {"run_dir": config.runtime.output_dir, "history": state.history.history, "metrics": None,
              "export_path": None, "wall_seconds": state.wall}
    steps_done = trained_steps(state.model)
    if not state.chief:
        print(f"Worker {distribute.worker_index(state.strategy)}: trained {steps_done} steps; the chief (worker 0) "
              "evaluates and exports.")
        return result
    print(f"Trained {steps_done} steps ({config.trainer.epochs} epochs of {config.trainer.steps_per_epoch}, "
          f"{config.trainer.precision}); this invocation: {state.wall:.0f} s.")
    if run.spec.bn_reestimation:
        _reestimate_batchnorm(run, state.model, state.network, state.train_images)
    result["metrics"] = evaluate(run, model=state.model)
    if config.runtime.export_dir:
        result["export_path"] = exporting.export_run(run, config.runtime.export_dir, scores=result["metrics"])
    return result


def warm_start(network: keras.Model, path: str, model_id: str) -> int:
    """Copies the weights of the export at `path` (a SavedModel that `export.py` / `train.py` wrote for
    `model_id`, e.g. a shipped `saved_models/<model>/<N>`) into `network`, the freshly built inference network of
    a run (a GAN's generator; its discriminator and both optimisers start fresh): fine-tuning a trained model on
    other data, masks or schedules. The export lists the network's weights in order (`.variables`, issue 16).

    An export of another id that the model's `ModelSpec.warm_start_ids` names (IMDN's other scales, issue 32) is
    accepted too: weights of equal shape are copied in order, and those whose shapes differ (the upsampler
    convolution: 3 s^2 filters) keep their fresh initialisation; the log names them.

    Returns the number of weights copied.
    Raises:
      FileNotFoundError: `path` is not a keras_inpaint SavedModel directory.
      ValueError: the export is of another model id (not in `warm_start_ids`), or its weights do not match
        `network`'s (names the first mismatch; across ids only the shapes may differ, not the number of weights).
    """
    card = exporting.load_model_card(path)
    source_id = card.get("id")
    across = source_id != model_id and source_id in registry.get(model_id).warm_start_ids
    if source_id != model_id and not across:
        raise ValueError(f"--init_from={path} is an export of {source_id!r}, not of {model_id!r}")
    loaded = tf.saved_model.load(path)
    source = list(loaded.variables)
    if len(source) != len(network.weights):
        raise ValueError(f"--init_from={path}: {len(source)} weights in the export, {len(network.weights)} in the "
                         f"{model_id} network (exported by another version of the model?)")
    kept = []
    for weight, value in zip(network.weights, source):
        if tuple(weight.shape) != tuple(value.shape):
            if across:
                kept.append(weight.path)
                continue
            raise ValueError(f"--init_from={path}: weight {weight.path} has shape {tuple(weight.shape)}, the "
                             f"export's {value.name} {tuple(value.shape)}")
        weight.assign(value)
    steps = card.get("total_steps", card.get("steps"))      # a fine-tuned source counts its own source's steps
    copied = len(source) - len(kept)
    fresh = f"; {', '.join(kept)} start fresh (another shape in {source_id})" if kept else ""
    print(f"Initialised {model_id} from {path} ({copied} weights of {source_id}, {steps} trained steps){fresh}.",
          flush=True)
    return copied


BN_STREAM_SEED = 1_000_003   # offset of the re-estimation batches' seed from the run's: not the training batches


def _reestimate_batchnorm(run: Run, model: keras.Model, network: keras.Model,
                          images: tf.data.Dataset | None = None) -> None:
    """The finish stage of entries with `bn_reestimation` (training/batchnorm.py): BatchNorm statistics of the
    final weights from that many fresh training batches (a fixed seed: re-running a finished run's command gives
    the same statistics) of the training source `images` (None: built here), written into the run's checkpoint
    (atomically) so that export.py and evaluate use them."""
    config, spec = run.config, run.spec
    start = time.time()
    stream = training_stream(run, config.runtime.seed + BN_STREAM_SEED, images)
    batches = min(spec.bn_reestimation, config.trainer.steps)     # a quick run of a few steps: as many batches
    with precision.policy_scope(config.trainer.precision):
        n = batchnorm.reestimate_batchnorm(network, stream, batches)
    path = os.path.join(config.runtime.output_dir, CHECKPOINT_DIR, WEIGHTS_FILE)
    if n and os.path.isdir(os.path.dirname(path)):
        partial = path.replace(".weights.h5", ".partial.weights.h5")
        model.save_weights(partial)
        os.replace(partial, path)
    print(f"Re-estimated the statistics of {n} BatchNorm layers on {batches} training batches "
          f"({time.time() - start:.0f} s).", flush=True)


def evaluate(config: RunConfig | Run, model: keras.Model | None = None, verbose: bool = True) -> dict:
    """Scores the run's model and the task's baseline on the test split (SPEC §3; the whole split unless
    `config.data.test_examples` bounds it, with a bar of the images scored on a terminal), then on each folder of
    `config.data.benchmarks` at full image size (batch 1; results under `"benchmarks": {folder name: metrics}`).

    Writes `<output_dir>/metrics.json` and TensorBoard scalars under `logs/test`, prints the table, and
    returns the metrics dict (adds `steps`, the number of training iterations done). `config` is resolved
    unless it is a `Run` already; `model` (default: `run.model`, else the run's checkpoint) is what is scored.
    """
    run = as_run(config)
    with precision.policy_scope(run.config.trainer.precision):
        return _evaluate(run, model, verbose)


def _evaluate(run: Run, model: keras.Model | None, verbose: bool) -> dict:
    config, spec, task = run.config, run.spec, run.task
    model = run.model = model or run.model or load_trained_model(config, spec, run.trainer_options)
    network = inference_network(model)
    if config.data.test_examples is not None and verbose:
        print(f"Test evaluation on the first {config.data.test_examples} test images (--test_examples; the whole "
              f"split unless bounded, or for z-search models in a run shorter than the schedule).", flush=True)
    results = evaluation.evaluate(task, network, _images(run, "test", config.data.test_examples),
                                  progress=verbose and sys.stdout.isatty(), cache=run.eval_steps)
    results["precision"] = config.trainer.precision
    results["steps"] = trained_steps(model)
    results["dataset"] = config.data.dataset
    tables = [evaluation.format_table(results, task, title=f"{config.task.model} on {config.data.dataset} test split")]
    tables += evaluation.evaluate_benchmarks(task, network, config.data.benchmarks, spec.image_shape[-1], spec.id,
                                             results, run.eval_steps)
    with open(os.path.join(config.runtime.output_dir, "metrics.json"), "w") as f:
        json.dump(results, f, indent=2)
    writer = tf.summary.create_file_writer(os.path.join(config.runtime.output_dir, "logs", "test"))
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
