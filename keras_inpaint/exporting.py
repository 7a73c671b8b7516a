"""Writing a SavedModel export (SPEC §4): TF Serving layout, uint8 signatures with paste-back inside, and a model card.

`saved_models/<model>/<version>/` holds a SavedModel whose `serving_default` takes uint8 `images` (plus a
float32 `mask` for models that accept arbitrary masks) and returns uint8 `images` (restored, known pixels
untouched) and model-specific extras (e.g. `fill`). Corruption, value-range conversion and paste-back are the
same TF functions as in training (`keras_inpaint.tasks`), traced into the graph, so
`tf.saved_model.load(path)` works in plain TensorFlow with no `keras_inpaint` import.
The model card is `assets/model_card.json`. Reading an export back (the card, its signatures, the bare network)
is `keras_inpaint.artifact`'s, on the floor below; rebuilding the task a card describes (`card_task`, which
needs the registry) is here.
"""
from __future__ import annotations

import json
import os
import re
import shutil

import keras
import tensorflow as tf

from keras_inpaint import metrics, precision, registry
from keras_inpaint.artifact import CARD_FILE, NETWORK_SIGNATURE, load_model_card
from keras_inpaint.training import checkpoints
from keras_inpaint.training.config import Run


def next_version(model_root: str) -> int:
    """1 + the largest integer sub-directory of `model_root` (1 if none): TF Serving's version numbering."""
    if not os.path.isdir(model_root):
        return 1
    versions = [int(d) for d in os.listdir(model_root) if re.fullmatch(r"\d+", d)]
    return max(versions, default=0) + 1


def _remove_stale_partials(model_root: str) -> None:
    """Deletes `<N>.partial-<pid>` folders of exports whose process is gone (killed with SIGKILL or a power cut
    mid-write: nothing could clean up). A live process's partial folder is left alone."""
    if not os.path.isdir(model_root):
        return
    for name in os.listdir(model_root):
        m = re.fullmatch(r"\d+\.partial-(\d+)", name)
        if not m or int(m.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(m.group(1)), 0)       # signal 0: only asks whether the process exists
        except ProcessLookupError:
            shutil.rmtree(os.path.join(model_root, name), ignore_errors=True)
        except PermissionError:               # exists, another user's
            pass


def export_network(spec: registry.ModelSpec, network: keras.Model, path: str, card: dict, task=None) -> str:
    """Writes `network` wrapped in its task's signatures to `path` and the model card to `path/assets`.

    `task` is the run's task object (default: the model's task with default options).

    The SavedModel is written to `<path>.partial-<pid>` and renamed to `path` only when complete; an error or
    interruption removes the partial folder, so `path` either holds a whole export or does not exist.

    Raises:
      FileExistsError: if `path` already exists (versions are never overwritten).
    """
    if os.path.exists(path):
        raise FileExistsError(f"{path} already exists; export to a new version")
    task = task or spec.task()
    archive = keras.export.ExportArchive()
    signatures = task.serving_signatures()
    endpoints = {name: archive.add_endpoint(name, bind_signature(fn, network, input_signature),
                                            input_signature=input_signature)
                 for name, (fn, input_signature) in signatures.items()}
    # `.variables` / `.trainable_variables` / `.non_trainable_variables` of the loaded SavedModel list the
    # network's weights (for counting, inspecting, fine-tuning). They hold the very tf.Variables the signatures
    # capture, so each weight is stored once: `archive.track(network)` (or a collection of the Keras variable
    # wrappers) would store every weight a second time with Keras 3.15 / TF 2.21.
    for collection, weights in (("variables", network.weights), ("trainable_variables", network.trainable_weights),
                                ("non_trainable_variables", network.non_trainable_weights)):
        archive.add_variable_collection(collection, [v.value for v in weights])   # weights: no RNG states
    # The bare network (model value range in and out, inference mode): what `evaluate.py` scores through,
    # with the run's own evaluation protocol around it (SavedModelNetwork).
    network_spec = tf.TensorSpec([None, *network.input_shape[1:]], tf.float32, name="inputs")
    archive.add_endpoint(NETWORK_SIGNATURE, _network_outputs(network), input_signature=[network_spec])
    card = dict(card)
    card["signatures"] = {name: {"inputs": _signature_inputs(sig), "outputs": _output_specs(endpoints[name])}
                          for name, (_, sig) in signatures.items()}
    card["network_signature"] = {"name": NETWORK_SIGNATURE, "input_shape": network_spec.shape.as_list(),
                                 "dict_output": isinstance(network.output, dict),
                                 "value_range": list(spec.value_range)}
    card["variables"] = int(sum(int(v.numpy().size) for v in network.weights))
    card.update(serving_card(task))
    # Written under a temporary name and renamed into place when complete: a crash or Ctrl-C mid-export leaves
    # no half-written version that a reader could load or that `next_version` would count.
    partial = f"{path.rstrip(os.sep)}.partial-{os.getpid()}"
    _remove_stale_partials(os.path.dirname(os.path.abspath(path)))
    shutil.rmtree(partial, ignore_errors=True)
    try:
        archive.write_out(partial, verbose=False)
        os.makedirs(os.path.join(partial, "assets"), exist_ok=True)
        with open(os.path.join(partial, CARD_FILE), "w") as f:
            json.dump(card, f, indent=2)
        os.rename(partial, path)          # atomic; fails if another export took the version meanwhile
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        if os.path.exists(path):
            raise FileExistsError(f"{path} already exists; export to a new version") from None
        raise
    return path


def _network_outputs(network):
    def call(inputs):
        out = network(inputs, training=False)
        return dict(out) if isinstance(out, dict) else {"output": out}
    return call


def task_options(spec, options: dict | None) -> dict:
    """The task options an export's card records: the registry entry's defaults (`spec.task_options`, those
    that are not None) with the run's `options` on top, so that the card says what the export does (e.g.
    denoising_ae_fashion's `corruption`, "noise" or "white_box") even when the run used the default, and
    `card_task` rebuilds the same task should a registry default change later."""
    defaults = {k: v for k, v in spec.task_options.items() if v is not None}
    return {**defaults, **(options or {})}


def card_task(card: dict, overrides: dict | None = None):
    """The task (`keras_inpaint.tasks.Task`) an export's model card describes: its model id's task with the
    card's `task_options` and `overrides` on top, except the task's `training_only_options` (e.g.
    refinement_ae's cache file, which serving and scoring do not read and a fresh clone does not have).

    Raises:
      ValueError: unknown model id or option value.
    """
    spec = registry.get(card["id"])
    skip = spec.task().training_only_options          # a class attribute; the default task is cheap to build
    options = {k: v for k, v in (card.get("task_options") or {}).items() if k not in skip}
    return spec.task(**{**options, **(overrides or {})})


def bind_signature(fn, network, input_signature):
    """`fn(network, *inputs)` (a task's serving function) as a function of the named inputs alone (`images`,
    plus `mask` or `noise_level`: the names of the `input_signature` TensorSpecs, in order), each checked at run
    time against its spec (`_checked`): what `export_network` traces into the SavedModel and
    `keras_inpaint.portable` converts.

    The function is named after its inputs (`signature_name`, e.g. `images_uint8_N_any_any_3`), so that
    TensorFlow's own dtype error, raised before the graph runs (a float32 tensor passed to uint8 `images`),
    names them too: "cannot compute __inference_signature_wrapper_images_uint8_N_any_any_3_<n> as input
    #0(zero-based) was expected to be a uint8 tensor but is a float tensor".

    Raises:
      TypeError: the specs name other inputs.
    """
    # ExportArchive names signature inputs after the Python arguments: one function per declared input list.
    specs = list(input_signature)
    names = tuple(s.name for s in specs)
    if names == ("images",):
        bound = lambda images: fn(network, *_checked([images], specs))  # noqa: E731
    elif names == ("images", "mask"):
        bound = lambda images, mask: fn(network, *_checked([images, mask], specs))  # noqa: E731
    elif names == ("images", "noise_level"):     # non-blind denoisers (ffdnet): sigma per image
        bound = lambda images, noise_level: fn(network, *_checked([images, noise_level], specs))  # noqa: E731
    else:
        raise TypeError(f"serving function {fn}: its input TensorSpecs must be named (images[, mask | "
                        f"noise_level]), got {names}")
    bound.__name__ = signature_name(specs)
    return bound


def _shown(spec: tf.TensorSpec) -> list[str]:
    """A signature input's dimensions as words: the batch "N", a free size "any", a fixed size its number."""
    return ["N" if i == 0 and d is None else ("any" if d is None else str(d))
            for i, d in enumerate(spec.shape.as_list())]


def signature_name(specs) -> str:
    """A function name listing the signature's inputs: e.g. `images_uint8_N_any_any_3__mask_float32_N_any_any_1`
    for uint8 `images` [N, any, any, 3] and float32 `mask` [N, any, any, 1]."""
    return "__".join("_".join([s.name, s.dtype.name, *_shown(s)]) for s in specs)


def _checked(inputs: list, specs: list) -> list:
    """`inputs`, each first checked at run time against its signature's shape (rank and every fixed dimension),
    so that an RGBA, grayscale or wrong-size tensor fails before any convolution (`InvalidArgumentError`) with
    one message naming the input, what the signature expects and what it got, e.g. "images: expected uint8
    [N, any, any, 3] (RGB: convert RGBA / grayscale images to 3 channels first), got uint8 [1, 8, 8, 4]".
    (A wrong dtype is refused by TensorFlow before the graph runs; see `bind_signature`.)

    The shape is padded with zeros to rank + 1 and compared entry by entry (each fixed dimension, and the
    zero after the last one: no extra dimension); `tf.rank` would not do, as TensorFlow folds it to the
    signature's own rank when the function is optimised."""
    out = []
    for x, spec in zip(inputs, specs + [None] * (len(inputs) - len(specs))):
        if spec is not None and spec.shape.rank is not None:
            want = spec.shape.as_list()
            shape = tf.shape(x)
            padded = tf.concat([shape, tf.zeros([len(want) + 1], tf.int32)], axis=0)
            fixed = [(i, d) for i, d in enumerate(want) if d is not None] + [(len(want), 0)]
            ok = tf.reduce_all(tf.stack([tf.equal(padded[i], d) for i, d in fixed]))
            hint = " (RGB: convert RGBA / grayscale images to 3 channels first)" if want[-1] == 3 else ""
            got = tf.strings.reduce_join(tf.strings.as_string(shape), separator=", ")
            message = tf.strings.join([f"{spec.name}: expected {spec.dtype.name} [{', '.join(_shown(spec))}]{hint},"
                                       f" got {spec.dtype.name} [", got, "]"])
            with tf.control_dependencies([tf.debugging.Assert(ok, [message])]):
                x = tf.identity(x)
        out.append(x)
    return out


def _signature_inputs(input_signature) -> dict:
    """{input name: "<dtype>[shape]"} of a signature's input TensorSpecs, as the card's `signatures` record them
    (e.g. {"images": "uint8[None, 32, 32, 3]"})."""
    return {s.name: f"{s.dtype.name}{s.shape.as_list()}" for s in input_signature}


def serving_card(task) -> dict:
    """The model card's serving fields of an export of `task` (`artifact.SERVING_FIELDS`, described in
    `keras_inpaint.artifact`): family, value range, whether it takes a mask, fixed input size, scale, size multiple,
    hole geometry, its own metrics (`report`) and `baseline_name`, all from the task's declared attributes and
    its `serving_default` input spec. JSON-ready (lists, ints, floats, strings, None)."""
    images = task.serving_signatures()["serving_default"][1][0]
    size = images.shape.as_list()[1:3]
    hole = None if task.hole is None else {"shape": "centre_square", "side": int(task.hole),
                                           "fixed": not task.takes_mask}
    return {"family": task.family, "value_range": [float(v) for v in task.value_range],
            "takes_mask": bool(task.takes_mask), "input_size": None if None in size else [int(d) for d in size],
            "scale": int(task.scale), "multiple": int(task.multiple), "hole": hole,
            "report": [[key, label] for key, label in task.report], "baseline_name": task.baseline_name}


def refresh_card(path: str) -> dict:
    """Writes the serving fields (`serving_card`) into the model card of the export at `path`, computed from the
    card's task (`card_task`: the registry entry of its id with its recorded task options), exactly as
    `export_network` writes them today; returns the new card. Only `assets/model_card.json` is rewritten
    (through a temporary file, renamed into place): the SavedModel, its signatures and weights are untouched,
    every other field keeps its value and place, and a card that has the fields already gets them recomputed.
    `python export.py --refresh_card --saved_model=PATH` (issue 35: cards written before these fields existed).

    Raises:
      FileNotFoundError: not a keras_inpaint export. ValueError: unknown model id or task option, or a card whose
        recorded signature inputs or value range differ from what its task serves today (the registry entry
        changed since the export: re-export its run instead).
    """
    card = load_model_card(path)
    task = card_task(card)
    serving = serving_card(task)
    recorded = {name: sig.get("inputs") for name, sig in (card.get("signatures") or {}).items()}
    expected = {name: _signature_inputs(sig) for name, (_, sig) in task.serving_signatures().items()}
    if recorded != expected:
        raise ValueError(f"{path}: the card's signature inputs {recorded} are not what {card.get('id')!r}'s task "
                         f"serves today ({expected}); re-export its run instead of refreshing the card")
    if "value_range" in card and [float(v) for v in card["value_range"]] != serving["value_range"]:
        raise ValueError(f"{path}: the card's value range {card['value_range']} is not {card.get('id')!r}'s "
                         f"{serving['value_range']}; re-export its run instead of refreshing the card")
    card.update(serving)
    card_path = os.path.join(path, CARD_FILE)
    partial = f"{card_path}.partial-{os.getpid()}"
    try:
        with open(partial, "w") as f:
            json.dump(card, f, indent=2)
        os.replace(partial, card_path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return card


def _output_specs(endpoint) -> dict:
    """The outputs of an archive endpoint (the `tf.function` `ExportArchive.add_endpoint` returns), as the card
    lists them: `{name: "float32[None, 64, 64, 3]"}`. Traced here once; the write-out reuses that trace."""
    concrete = endpoint.get_concrete_function()
    return {k: f"{v.dtype.name}{v.shape.as_list()}" for k, v in concrete.structured_outputs.items()}


def export_run(run: str | Run, export_dir: str = "saved_models", version: int | None = None,
               model: keras.Model | None = None, scores: dict | None = None, policy: str | None = None) -> str:
    """Exports a trained run to `<export_dir>/<model>/<version>/` and returns that path.

    `run` is a run directory (loaded with `checkpoints.load_run`) or the resolved `Run` of the training that
    just finished (its in-memory `model`, nothing reloaded or re-resolved). `model` overrides `run.model`.
    The card records the model id, paper, dataset, training steps, test metrics (`scores`, default the run
    directory's `metrics.json` if present), task options (`task_options`: the registry's defaults and the
    run's), value range and signatures.
    `policy`: the Keras dtype policy of the exported graph when it differs from the run's (e.g. "float32" for
    a network trained under mixed_bfloat16: the same float32 weights, computed in float32; `recast`); the card
    then records it as `precision` and the run's as `training_precision`.
    Raises:
      FileNotFoundError: a run directory without config.json or checkpoint.
      ValueError: an unknown `policy`, or one given for a GAN trainer (their networks are not one registry
        network).
    """
    if isinstance(run, str):
        run = checkpoints.load_run(run)
    spec, task = run.spec, run.task
    model = model or run.model or checkpoints.load_trained_model(run.config, spec, run.trainer_options)
    network = checkpoints.inference_network(model)
    card = run_card(run, model, scores)
    if policy and policy != card["precision"]:
        if network is not model:
            raise ValueError(f"{spec.id}: a GAN's generator is exported in its training precision "
                             f"({card['precision']}); --precision applies to plain networks")
        network = recast(spec, network, policy)
        card.update(precision=policy, training_precision=card["precision"])
    root = os.path.join(export_dir, spec.id)
    path = os.path.join(root, str(version or next_version(root)))
    path = export_network(spec, network, path, card, task=task)
    print(f"Exported {spec.id} to {path}")
    return path


def recast(spec, network: keras.Model, policy: str) -> keras.Model:
    """`spec`'s network built under the Keras dtype `policy` (`precision.policy_scope`) with `network`'s weights
    (mixed policies keep float32 weights, so nothing is rounded): the same function computed at another
    precision. Raises ValueError: an unknown policy, or weights of another layout than the registry's network."""
    with precision.policy_scope(policy):
        clone = spec.build_network()
    try:
        clone.set_weights(network.get_weights())
    except ValueError as e:
        raise ValueError(f"{spec.id}: the trained weights do not fit the registry's network: {e}") from None
    return clone


def run_card(run: Run, model: keras.Model, scores: dict | None = None) -> dict:
    """The model card of trained `run` (its trainer or network `model`; `scores`: test metrics, default the run
    directory's metrics.json if present), as `export_run` writes it (`export_network` adds the signatures) and
    the ONNX / LiteRT files carry it (`keras_inpaint.portable`)."""
    config, spec, task = run.config, run.spec, run.task
    network = checkpoints.inference_network(model)
    if scores is None:
        metrics_path = os.path.join(config.runtime.output_dir, "metrics.json")
        scores = json.load(open(metrics_path)) if os.path.exists(metrics_path) else None
    trainer = config.trainer
    card = {"id": spec.id, "paper": spec.paper, "task": spec.description, "dataset": config.data.dataset,
            "steps": checkpoints.trained_steps(model), "schedule_steps": trainer.steps, "paper_steps": spec.steps,
            "learning_rate": trainer.learning_rate, "seed": config.runtime.seed,
            "beats_baseline": metrics.beats_baseline(scores, task) if scores else None,
            "batch_size": trainer.batch_size, "parameters": int(network.count_params()),
            "value_range": list(spec.value_range), "image_shape": list(spec.image_shape),
            "mask_convention": "float32 [N,H,W,1], 1.0 = missing (filled), 0.0 = known",
            "precision": trainer.precision,
            "task_options": task_options(spec, config.task.task_options), "trainer_options": trainer.trainer_options,
            "metrics": scores, "run_dir": os.path.abspath(config.runtime.output_dir)}
    if trainer.init_from:   # fine-tuned: the steps before this run's are the source export's
        source = load_model_card(trainer.init_from)
        before = int(source.get("total_steps", source.get("steps")) or 0)   # the source may be fine-tuned too
        card["init_from"] = {"path": trainer.init_from, "id": source.get("id"), "steps": before}
        card["total_steps"] = before + card["steps"]
    return card
