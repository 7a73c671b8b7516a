"""The trained model of a run: building it (`build_training_model`), its step count, its inference network, and
loading it back from the run directory's checkpoint (`load_trained_model`, `load_run`).

The training models are of two declared kinds, and `inference_network` / `trained_steps` ask which one, never
what attributes a model happens to have: a plain model (`spec.adversarial` None) is its own inference network
and makes one optimizer update per training step; a GAN's `adversarial.AdversarialTrainer` declares
`inference_network()` (its generator, or the z -> {image, score} prior of lsgan / dcgan) and `g_steps` (its
generator optimizer's updates per training step).
"""
from __future__ import annotations

import json
import os
import shutil

import keras

from keras_inpaint import precision, registry
from keras_inpaint.training import adversarial
from keras_inpaint.training.config import Run, RunConfig, resolve

CHECKPOINT_DIR = "checkpoints"
WEIGHTS_FILE = "latest.weights.h5"          # written by BackupAndRestore ...
METADATA_FILE = "training_metadata.json"    # ... then this: {"epoch": completed epochs, "batch": 0}
BACKUP_SUFFIX = ".bkp"                      # double_checkpoint=True: the previous epoch's pair


def build_training_model(spec: registry.ModelSpec, config: RunConfig,
                         trainer_options: dict | None = None) -> keras.Model:
    """The compiled Keras model that `fit()` trains, built in the current `tf.distribute` strategy scope.

    GAN entries (`spec.adversarial` set) get `adversarial.build_trainer`: an `AdversarialTrainer` whose
    `train_step` trains the generator and the discriminator, with `trainer_options` (a run's resolved
    `Run.trainer_options`; None: resolved from `config`); the others the network compiled with `spec.loss`.
    """
    if spec.adversarial is not None:
        return adversarial.build_trainer(spec, config, trainer_options)
    model = spec.build_network()
    model.compile(optimizer=spec.make_optimizer(config.trainer.learning_rate, config.trainer.steps,
                                                 config.trainer.clipnorm), loss=spec.loss,
                  jit_compile=config.trainer.jit_compile, steps_per_execution=config.trainer.steps_per_execution)
    return model


def inference_network(model: keras.Model) -> keras.Model:
    """The network used at inference: a plain model itself, or what a GAN trainer's `inference_network()` returns
    (its generator, or the z -> {image, score} prior of the unconditional `lsgan` / `dcgan`)."""
    if isinstance(model, adversarial.AdversarialTrainer):
        return model.inference_network()
    return model


def trained_steps(model: keras.Model) -> int:
    """Training iterations done: optimizer updates divided by the updates per step (a GAN trainer's `g_steps`,
    2 for `dcgan`; 1 for a plain model)."""
    if model.optimizer is None:
        return 0
    updates_per_step = model.g_steps if isinstance(model, adversarial.AdversarialTrainer) else 1
    return int(model.optimizer.iterations.numpy()) // updates_per_step


def load_trained_model(config: RunConfig, spec: registry.ModelSpec | None = None,
                       trainer_options: dict | None = None) -> keras.Model:
    """Builds the run's model (in the run's `precision`; a GAN's with `trainer_options`, see
    `build_training_model`) and loads its latest checkpoint (the previous one, with a warning, when the latest
    is unreadable).

    Raises FileNotFoundError if there is none."""
    spec = spec or registry.get(config.task.model)
    path = os.path.join(config.runtime.output_dir, CHECKPOINT_DIR, WEIGHTS_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}: train the run first (python train.py ...)")
    with precision.policy_scope(config.trainer.precision or spec.precision):
        model = build_training_model(spec, config, trainer_options)
    model.optimizer.build(model.trainable_variables)
    _load_checkpoint(model, os.path.dirname(path))
    return model


def _load_checkpoint(model: keras.Model, checkpoint_dir: str) -> None:
    """Loads `checkpoint_dir`'s latest weights into the built `model`; when they are unreadable (a kill during
    their write), puts the previous epoch's weights and metadata back in place first, with a warning, as
    `BackupAndRestore` itself does (`load_weights` needs a `.weights.h5` name).

    Raises OSError / ValueError when the latest weights are unreadable and no previous ones exist."""
    path = os.path.join(checkpoint_dir, WEIGHTS_FILE)
    try:
        model.load_weights(path)
    except (OSError, ValueError) as e:
        backup = path + BACKUP_SUFFIX
        if not os.path.exists(backup):
            raise
        print(f"warning: {path} is unreadable ({type(e).__name__}); restoring the previous checkpoint {backup}")
        shutil.copy(backup, path)
        meta = os.path.join(checkpoint_dir, METADATA_FILE)
        if os.path.exists(meta + BACKUP_SUFFIX):
            shutil.copy(meta + BACKUP_SUFFIX, meta)
        model.load_weights(path)


def restore_checkpoint(model: keras.Model, checkpoint_dir: str, steps_per_epoch: int) -> int:
    """Loads the checkpoint in `checkpoint_dir` (if any) into the built, compiled `model` and returns the
    completed epochs it holds, first making the pair that `keras.callbacks.BackupAndRestore` resumes from agree.

    BackupAndRestore saves at each epoch end in two steps, neither atomic: the weights (optimizer step count
    included), then `training_metadata.json` (the completed epochs). A SIGKILL between the two leaves weights one
    epoch ahead of the metadata, and resuming from them trained one epoch too many (tests/test_reliability.py's
    kill -9 test once ended a 60-step run past 60); a kill inside the metadata write leaves a file that is not
    JSON. The weights are the truth: when their step count is a whole number of epochs that the metadata does
    not say, or the metadata is missing or unreadable, it is rewritten (atomically) to their epoch. Unreadable
    latest weights fall back to the previous epoch's pair first (`_load_checkpoint`). BackupAndRestore reads the
    same files again as `fit` begins (a second read of at most ~170 MB, restoration_gan's): its loader is not
    public API, so it is not replaced.

    Args:
      model: the training model of `build_training_model`, built in the strategy scope it trains in.
      checkpoint_dir: the BackupAndRestore folder (`<run>/checkpoints`, or a worker's scratch copy).
      steps_per_epoch: the run's `steps_per_epoch` (training iterations per epoch).
    Returns:
      completed epochs to resume after, 0 when there is no checkpoint.
    Raises:
      OSError / ValueError: the latest weights are unreadable and there are no previous ones to fall back to.
    """
    if not os.path.exists(os.path.join(checkpoint_dir, WEIGHTS_FILE)):
        return 0
    model.optimizer.build(model.trainable_variables)
    _load_checkpoint(model, checkpoint_dir)
    meta = os.path.join(checkpoint_dir, METADATA_FILE)
    recorded = _read_epoch(meta)
    steps = trained_steps(model)
    epoch = steps // steps_per_epoch
    if recorded is not None and (steps % steps_per_epoch or epoch == recorded):
        return recorded      # agreeing (or a step count between epoch ends: the metadata is kept)
    said = "is missing or unreadable" if recorded is None else f"says epoch {recorded}"
    print(f"warning: {meta} {said} but the weights beside it hold {steps} steps: the run was killed inside a "
          f"checkpoint write; resuming after epoch {epoch}")
    tmp = f"{meta}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump({"epoch": epoch, "batch": 0}, f)
    os.replace(tmp, meta)
    return epoch


def _read_epoch(meta_path: str) -> int | None:
    """The completed epochs recorded in a `training_metadata.json`; None when it is missing or unreadable."""
    try:
        with open(meta_path) as f:
            return int(json.load(f)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resume_point(config: RunConfig) -> tuple[int, int]:
    """(completed epochs, training step) that re-running `config`'s command resumes from (0, 0 if none)."""
    done = _read_epoch(os.path.join(config.runtime.output_dir, CHECKPOINT_DIR, METADATA_FILE)) or 0
    return done, done * config.trainer.steps_per_epoch


def load_run(run_dir: str) -> Run:
    """The trained run in `run_dir`, as one object: its `config.json` resolved once (with `output_dir` =
    `run_dir`, wherever the run was trained), the registry entry, the task and the model loaded from the
    latest checkpoint. `inference_network(run.model)` is the network to evaluate or export.

    Raises:
      FileNotFoundError: no config.json or no checkpoint in `run_dir`. ValueError: a config of an unknown model.
    """
    config = RunConfig.load(run_dir)
    config.runtime.output_dir = run_dir
    run = resolve(config)
    run.model = load_trained_model(run.config, run.spec, run.trainer_options)
    return run
