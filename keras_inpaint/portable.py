"""ONNX and LiteRT (TensorFlow Lite) files of a trained model (issue 34): `export.py --format=onnx|litert`.

What is converted is the export's `serving_default` as `exporting.export_network` traces it (the task's
serving function around the network: uint8 `images` in, pre-processing, the network, post-processing and
paste-back, uint8 `images` out), traced again with `Task.builtin_ops` (ops both converters have; equal to
TensorFlow's within float32 rounding) around a float32 copy of the network:

  * the weights come from a SavedModel directory (its `variables`, in the order of the registry network's
    `weights`) or from a run directory (its latest checkpoint); the network is rebuilt from the registry in
    float32, whatever precision it trained in (neither onnxruntime's CPU kernels nor LiteRT's builtins run
    bfloat16), so a mixed_bfloat16 model's file differs from its SavedModel by bfloat16 rounding (tested:
    at most 1 uint8 level on 99.9 % of pixels, like float32 models);
  * ONNX (tf2onnx, opset `ONNX_OPSET`): inputs keep their names, dtypes and shapes, with the batch and, for
    models of any size, height and width dynamic; ONNX needs distinct input and output names, so the output
    `images` is called `restored` (`OUTPUT_NAMES`); the other outputs keep theirs (`bicubic`, `fill`). The
    model card is the metadata property `keras_inpaint.model_card` (JSON).
  * LiteRT (`tf.lite.TFLiteConverter`, builtin ops only, no Flex delegate): one signature `serving_default` with
    the same input and output names as the ONNX file; the batch, height and width stay dynamic
    (`shape_signature` -1): `Interpreter.get_signature_runner()` resizes the inputs to each call's arrays, so
    no fixed tile size is needed. The model card is the metadata entry `keras_inpaint.model_card`.

Models whose serving is a z-search (`lsgan`, `dcgan`: `Task.latent_search`) cannot be exported: their
signature runs Adam steps on z (1,500 or 500), each taking the generator's gradient inside the graph, which neither
format can express (`NotExportable`, with that reason).

Files are written to `<output>.partial-<pid>` and renamed into place when complete; an existing file is never
replaced.
"""
from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

from keras_inpaint import artifact, exporting, precision, registry
from keras_inpaint.models.layers import BuiltinOpsLayer
from keras_inpaint.training import checkpoints

FORMATS = {"onnx": ".onnx", "litert": ".tflite"}
ONNX_OPSET = 17
OUTPUT_NAMES = {"images": "restored"}     # the SavedModel's output name -> the ONNX / LiteRT file's
CARD_KEY = "keras_inpaint.model_card"


class NotExportable(ValueError):
    """The model's serving cannot be written in the requested format; the message says why."""


def why_not_exportable(task) -> str | None:
    """Why `task`'s `serving_default` cannot be converted to ONNX / LiteRT, or None when it can."""
    if task.latent_search:
        return ("its serving is a z-search (Adam steps on the latent z, each with the generator's gradient inside "
                "the graph), which ONNX and LiteRT cannot express; export the refinement_ae or an inpainter instead")
    return None


def _check_exportable(card: dict):
    """The card's task; raises NotExportable (with `why_not_exportable`'s reason) for a z-search model."""
    task = exporting.card_task(card)
    reason = why_not_exportable(task)
    if reason:
        raise NotExportable(f"{card['id']} cannot be exported to ONNX or LiteRT: {reason}")
    return task


def load_source(source: str):
    """-> (card, task, float32 network) of a SavedModel directory or a run directory.

    The task is the card's (`exporting.card_task`) with `builtin_ops` on; the network is the registry's,
    built in float32, holding the source's weights, with `builtin_ops` on in every `BuiltinOpsLayer`
    (`lama_ffc`'s FFT layers compute their transforms as DFT matrix products: tf2onnx and the LiteRT converter do
    not convert RFFT2D / IRFFT2D with complex tensors).

    Raises:
      FileNotFoundError: neither an export nor a trained run. NotExportable: a z-search model.
      ValueError: the weights do not fit the registry's network (another architecture version).
    """
    if os.path.exists(os.path.join(source, "saved_model.pb")):
        card = artifact.load_model_card(source)
        _check_exportable(card)                    # before the (slow) load
        loaded = tf.saved_model.load(source)
        try:                                       # a file-format version, not a capability: older exports
            variables = loaded.variables           # have no `variables` collection
        except AttributeError:
            raise ValueError(f"{source}: the SavedModel lists no variables (exported by an older keras_inpaint); "
                             "convert its run directory instead") from None
        weights = [v.numpy() for v in variables]
    elif os.path.exists(os.path.join(source, "config.json")):
        run = checkpoints.load_run(source)
        card = exporting.run_card(run, run.model)
        weights = [np.asarray(w.numpy()) for w in checkpoints.inference_network(run.model).weights]
    else:
        raise FileNotFoundError(f"{source!r} is neither a SavedModel directory (saved_model.pb) nor a run directory "
                                "(config.json)")
    task = _check_exportable(card)
    task.builtin_ops = True
    spec = registry.get(card["id"])
    with precision.policy_scope("float32"):
        network = spec.build_network()
    if len(weights) != len(network.weights) or any(
            tuple(w.shape) != tuple(v.shape) for w, v in zip(network.weights, weights)):
        raise ValueError(f"{source}: its {len(weights)} weights do not fit the registry's {card['id']} network "
                         f"({len(network.weights)} weights)")
    for w, v in zip(network.weights, weights):
        w.assign(v)
    for layer in network.layers:                   # e.g. lama_ffc's FFT layers: DFT matrix products
        if isinstance(layer, BuiltinOpsLayer):
            layer.builtin_ops = True
    return card, task, network


def serving_function(task, network):
    """-> (tf.function, input TensorSpecs): `task`'s `serving_default` over `network` (`exporting.bind_signature`)
    with the outputs renamed by `OUTPUT_NAMES`, its inputs named as the SavedModel's."""
    fn, specs = task.serving_signatures()["serving_default"]
    bound = exporting.bind_signature(fn, network, specs)

    def renamed(out):
        return {OUTPUT_NAMES.get(k, k): v for k, v in out.items()}
    names = [s.name for s in specs]
    if names == ["images"]:
        function = tf.function(lambda images: renamed(bound(images)), input_signature=specs)
    elif names == ["images", "mask"]:
        function = tf.function(lambda images, mask: renamed(bound(images, mask)), input_signature=specs)
    elif names == ["images", "noise_level"]:
        function = tf.function(lambda images, noise_level: renamed(bound(images, noise_level)),
                               input_signature=specs)
    else:
        raise TypeError(f"serving_default takes {names}; expected images[, mask | noise_level]")
    return function, specs


def to_onnx(function, specs, card: dict) -> bytes:
    """The ONNX model (serialised) of tf.function `function` over input `specs`, the card as metadata."""
    import tf2onnx   # the export extra: pip install -e ".[export]"

    model, _ = tf2onnx.convert.from_function(function, input_signature=specs, opset=ONNX_OPSET)
    entry = model.metadata_props.add()
    entry.key, entry.value = CARD_KEY, json.dumps(card)
    return model.SerializeToString()


def to_litert(function, specs, card: dict) -> bytes:
    """The LiteRT flatbuffer of tf.function `function` (builtin ops), with a `serving_default` signature
    naming its inputs and outputs, and the card as metadata.

    (`TFLiteConverter.from_concrete_functions` writes no signature for a bare function, and its SavedModel path
    loses the channel counts of Keras' UpSampling2D, so the signature is added to the converted flatbuffer.)
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    concrete = function.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], function)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    model = flatbuffer_utils.read_model_from_bytearray(converter.convert())
    graph = model.subgraphs[0]
    outputs = sorted(concrete.structured_outputs)          # flattened outputs follow the sorted keys
    if len(graph.inputs) != len(specs) or len(graph.outputs) != len(outputs):
        raise ValueError(f"converted model has {len(graph.inputs)} inputs / {len(graph.outputs)} outputs, "
                         f"expected {len(specs)} / {len(outputs)}")

    def tensor_map(name, index):
        entry = schema.TensorMapT()
        entry.name, entry.tensorIndex = name, index
        return entry
    signature = schema.SignatureDefT()
    signature.signatureKey, signature.subgraphIndex = "serving_default", 0
    signature.inputs = [tensor_map(s.name, i) for s, i in zip(specs, graph.inputs)]
    signature.outputs = [tensor_map(n, i) for n, i in zip(outputs, graph.outputs)]
    model.signatureDefs = [signature]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(card).encode(), np.uint8)
    model.buffers.append(buffer)
    metadata = schema.MetadataT()
    metadata.name, metadata.buffer = CARD_KEY, len(model.buffers) - 1
    model.metadata = (model.metadata or []) + [metadata]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def default_output(source: str, card: dict, fmt: str) -> str:
    """`exports/<model id>-<source folder name><extension>`, e.g. exports/sr_autoencoder-1.onnx."""
    return os.path.join("exports", f"{card['id']}-{os.path.basename(os.path.normpath(source))}{FORMATS[fmt]}")


def export(source: str, fmt: str, output: str | None = None) -> str:
    """Writes `source` (a SavedModel or run directory) as `fmt` ('onnx' or 'litert') to `output` (default
    `default_output`) and returns the path.

    Raises:
      ValueError: unknown format. FileExistsError: `output` exists. FileNotFoundError, NotExportable,
        ValueError: from `load_source`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of savedmodel, {', '.join(FORMATS)}; got {fmt!r}")
    card, task, network = load_source(source)
    output = output or default_output(source, card, fmt)
    if os.path.exists(output):
        raise FileExistsError(f"{output} already exists; remove it or give another --output")
    function, specs = serving_function(task, network)
    card = {**card, "converted_from": os.path.abspath(source), "format": fmt,
            "outputs_renamed": OUTPUT_NAMES, "compute_dtype": "float32"}
    data = to_onnx(function, specs, card) if fmt == "onnx" else to_litert(function, specs, card)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    partial = f"{output}.partial-{os.getpid()}"
    try:
        with open(partial, "wb") as f:
            f.write(data)
        os.rename(partial, output)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return output
