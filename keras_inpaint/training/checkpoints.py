"""The trained model of a run: building it (`build_training_model`), its step count, its inference network, and
loading it back from the run directory's checkpoint (`load_trained_model`, `load_run`)."""
from __future__ import annotations

import json
import os
import shutil

import keras

from keras_inpaint import precision, registry
from keras_inpaint.training import adversarial
from keras_inpaint.training.config import Run, RunConfig, resolve

CHECKPOINT_DIR = "checkpoints"
WEIGHTS_FILE = "latest.weights.h5"   # written by BackupAndRestore


def build_training_model(spec: registry.ModelSpec, config: RunConfig) -> keras.Model:
    """The compiled Keras model that `fit()` trains, built in the current `tf.distribute` strategy scope.

    GAN entries (`spec.adversarial` set) get `adversarial.build_trainer`: an `AdversarialTrainer` whose
    `train_step` trains the generator and the discriminator; the others the network compiled with `spec.loss`.
    """
    if spec.adversarial is not None:
        return adversarial.build_trainer(spec, config)
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


def load_trained_model(config: RunConfig, spec: registry.ModelSpec | None = None) -> keras.Model:
    """Builds the run's model (in the run's `precision`) and loads its latest checkpoint (the previous one,
    with a warning, when the latest is unreadable).

    Raises FileNotFoundError if there is none."""
    spec = spec or registry.get(config.model)
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


def load_run(run_dir: str) -> Run:
    """The trained run in `run_dir`, as one object: its `config.json` resolved once (with `output_dir` =
    `run_dir`, wherever the run was trained), the registry entry, the task and the model loaded from the
    latest checkpoint. `inference_network(run.model)` is the network to evaluate or export.

    Raises:
      FileNotFoundError: no config.json or no checkpoint in `run_dir`. ValueError: a config of an unknown model.
    """
    config = RunConfig.load(run_dir)
    config.output_dir = run_dir
    run = resolve(config)
    run.model = load_trained_model(run.config, run.spec)
    return run
