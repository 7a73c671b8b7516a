"""SavedModel export (SPEC §4): TF Serving layout, uint8 signatures with paste-back inside, and a model card.

`saved_models/<model>/<version>/` holds a SavedModel whose `serving_default` takes uint8 `images` (plus a
float32 `mask` for models that accept arbitrary masks) and returns uint8 `images` (restored, known pixels
untouched) and model-specific extras (e.g. `fill`). Corruption, value-range conversion and paste-back are the
same TF functions as in training (`keras_inpaint.tasks`), traced into the graph, so
`tf.saved_model.load(path)` works in plain TensorFlow with no `keras_inpaint` import.
The model card is `assets/model_card.json`.
"""
from __future__ import annotations

import json
import os
import re

import keras
import tensorflow as tf

from keras_inpaint import registry


def next_version(model_root: str) -> int:
    """1 + the largest integer sub-directory of `model_root` (1 if none): TF Serving's version numbering."""
    if not os.path.isdir(model_root):
        return 1
    versions = [int(d) for d in os.listdir(model_root) if re.fullmatch(r"\d+", d)]
    return max(versions, default=0) + 1


def export_network(spec: registry.ModelSpec, network: keras.Model, path: str, card: dict, task=None) -> str:
    """Writes `network` wrapped in its task's signatures to `path` and the model card to `path/assets`.

    `task` is the run's task object (default: the model's task with default options).

    Raises:
      FileExistsError: if `path` already exists (versions are never overwritten).
    """
    if os.path.exists(path):
        raise FileExistsError(f"{path} already exists; export to a new version")
    task = task or spec.make_task()
    archive = keras.export.ExportArchive()
    # No `archive.track(network)`: add_endpoint already saves every variable the signatures use, and with
    # Keras 3.15 / TF 2.21 tracking the model as well stores each weight twice (the Keras wrapper and the
    # captured tf.Variable), doubling the SavedModel's size.
    signatures = task.serving_signatures()
    for name, (fn, input_signature) in signatures.items():
        archive.add_endpoint(name, _bind(fn, network), input_signature=input_signature)
    archive.write_out(path, verbose=False)
    os.makedirs(os.path.join(path, "assets"), exist_ok=True)
    card = dict(card)
    card["signatures"] = {
        name: {"inputs": {s.name: f"{s.dtype.name}{s.shape.as_list()}" for s in sig},
               "outputs": _output_specs(fn, network, sig)}
        for name, (fn, sig) in signatures.items()}
    with open(os.path.join(path, "assets", "model_card.json"), "w") as f:
        json.dump(card, f, indent=2)
    return path


def _bind(fn, network):
    # ExportArchive names signature inputs after the Python arguments; keep `images` / `mask`.
    names = fn.__code__.co_varnames[1:fn.__code__.co_argcount] if hasattr(fn, "__code__") else None
    if names == ("network", "images"):
        return lambda images: fn(network, images)
    if names == ("network", "images", "mask"):
        return lambda images, mask: fn(network, images, mask)
    raise TypeError(f"serving function {fn} must take (network, images[, mask])")


def _output_specs(fn, network, input_signature) -> dict:
    concrete = tf.function(_bind(fn, network)).get_concrete_function(*input_signature)
    return {k: f"{v.dtype.name}{v.shape.as_list()}" for k, v in concrete.structured_outputs.items()}


def export_run(run_dir: str, export_dir: str = "saved_models", version: int | None = None,
               model: keras.Model | None = None) -> str:
    """Exports the trained run in `run_dir` to `<export_dir>/<model>/<version>/` and returns that path.

    `model` (the in-memory trained model) skips reloading the checkpoint. The card records the model id,
    paper, dataset, training steps, test metrics (from `metrics.json` if present), value range and signatures.
    Raises:
      FileNotFoundError: `run_dir` has no config.json or no checkpoint.
    """
    from keras_inpaint.training import run as run_lib

    config = run_lib.RunConfig.load(run_dir).resolved()
    config.output_dir = run_dir
    spec = registry.get(config.model)
    model = model or run_lib.load_trained_model(config)
    network = run_lib.inference_network(model)
    metrics_path = os.path.join(run_dir, "metrics.json")
    metrics = json.load(open(metrics_path)) if os.path.exists(metrics_path) else None
    root = os.path.join(export_dir, spec.id)
    path = os.path.join(root, str(version or next_version(root)))
    card = {"id": spec.id, "paper": spec.paper, "task": spec.description, "dataset": config.dataset,
            "steps": run_lib.trained_steps(model),
            "batch_size": config.batch_size, "parameters": int(network.count_params()),
            "value_range": list(spec.value_range), "image_shape": list(spec.image_shape),
            "mask_convention": "float32 [N,H,W,1], 1.0 = missing (filled), 0.0 = known",
            "task_options": config.task_options, "trainer_options": config.trainer_options,
            "metrics": metrics, "run_dir": os.path.abspath(run_dir)}
    export_network(spec, network, path, card, task=config.task())
    print(f"Exported {spec.id} to {path}")
    return path
