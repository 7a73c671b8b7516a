"""Reading an export (issue 35): its model card, its signatures and its bare network as a callable.

An export is a SavedModel directory (`saved_models/<model>/<N>`, TF Serving layout) whose
`assets/model_card.json` is the model card. This module only reads: it imports nothing of the project, so that
running a shipped model (`keras_inpaint.prediction`, `predict.py`, `app.py`) needs neither the registry nor a
model builder. Writing an export (the signatures, the card) is `keras_inpaint.exporting`'s, on the floor above.

The card's serving fields (`SERVING_FIELDS`; README "Using an exported model from plain TensorFlow") describe
the model enough for prediction and for a one-line summary:

  family          "inpainting", "restoration", "super_resolution" or "latent" (`tasks.Task.family`)
  value_range     [lo, hi]: the network's value range ([0, 1] or [-1, 1])
  takes_mask      `serving_default` takes a float32 `mask` [N, H, W, 1] (1.0 = fill) besides uint8 `images`
  input_size      [H, W] of a fixed-size model's `serving_default`, null for a model of any size
  scale           output side / input side of `serving_default` (super-resolution: 2, 3 or 4), else 1
  multiple        H and W are padded inside the signature to a multiple of this (tiles keep it), else 1
  hole            {"shape": "centre_square", "side": S, "fixed": F}: the centred S x S square the task cuts
                  (F true: the model fills that square whatever it is given, having no mask input; false: its
                  training / evaluation hole, any mask being accepted); null for a task without a hole
  report          [[metric key, label], ...]: the task's own metrics in print order (`Task.report`), the
                  first being the one a summary quotes from the card's `metrics`
  baseline_name   what the metrics' `baseline_` twins score (`Task.baseline_name`)

Cards written before these fields existed (issue 35) still load (`load_model_card`); what needs the fields
(`serving_fields`, and hence `prediction.Predictor`) refuses them with one line naming the fix:
`python export.py --refresh_card --saved_model=PATH` rewrites only the card, the SavedModel untouched.
"""
from __future__ import annotations

import dataclasses
import json
import os

import tensorflow as tf

NETWORK_SIGNATURE = "network"   # the raw float network endpoint of every export (exporting.export_network)
CARD_FILE = os.path.join("assets", "model_card.json")
SERVING_FIELDS = ("family", "value_range", "takes_mask", "input_size", "scale", "multiple", "hole", "report",
                  "baseline_name")
REFRESH_COMMAND = "python export.py --refresh_card --saved_model={path}"


def load_model_card(path: str) -> dict:
    """The `assets/model_card.json` of the export at `path`, as a dict (old cards too: nothing is checked but
    that it exists).

    Raises:
      FileNotFoundError: `path` is not a directory holding a SavedModel with a keras_inpaint model card.
    """
    if not os.path.exists(os.path.join(path, "saved_model.pb")):
        raise FileNotFoundError(f"{path!r} is not a SavedModel directory (no saved_model.pb); expected "
                                "saved_models/<model>/<version>")
    card_path = os.path.join(path, CARD_FILE)
    if not os.path.exists(card_path):
        raise FileNotFoundError(f"{card_path} not found: {path!r} is a SavedModel, but not a keras_inpaint export")
    with open(card_path) as f:
        return json.load(f)


def serving_fields(card: dict, path: str = "this export") -> dict:
    """{field: value} of the card's `SERVING_FIELDS` (module docstring), checked to be all there.

    Raises:
      ValueError: the card predates them (written before issue 35): one line naming the missing fields and the
        command that adds them (`REFRESH_COMMAND`).
    """
    missing = [k for k in SERVING_FIELDS if k not in card]
    if missing:
        raise ValueError(f"{path}: its model card has no {', '.join(missing)} (written before issue 35); add them "
                         f"with {REFRESH_COMMAND.format(path=path)}")
    return {k: card[k] for k in SERVING_FIELDS}


def card_summary(card: dict) -> str:
    """One line saying what an export does, what it was trained on and its test score, from its model card alone:
    "<task>; trained on <dataset>, <steps> steps; test <label> <value> (<baseline name>: <value>)". The score
    is the first metric of the card's `report` found in its `metrics`, with its `baseline_` twin; a card without
    metrics says "not scored", one without a `report` (written before issue 35) "scores not described"."""
    parts = [card.get("task") or card.get("id", "?")]
    steps = card.get("total_steps", card.get("steps"))
    parts.append(f"trained on {card.get('dataset', '?')}" + (f", {int(steps):,} steps" if steps else ""))
    scores = card.get("metrics") or {}
    report = card.get("report")
    if scores and report is None:
        parts.append("scores not described (a card older than issue 35)")
        return "; ".join(parts)
    key, label = next(((k, l) for k, l in report or () if k in scores), (None, None))
    if key is None:
        parts.append("not scored")
    else:
        score = f"test {label} {scores[key]:.4g}"
        if f"baseline_{key}" in scores:
            score += f" ({card.get('baseline_name', 'baseline')}: {scores[f'baseline_{key}']:.4g})"
        parts.append(score)
    return "; ".join(parts)


class SavedModelNetwork:
    """A loaded export's `network` signature, callable like the Keras network it was exported from.

    `network(x, training=False)` with float32 `x` of the card's `network_signature.input_shape` in the model's
    value range returns what the Keras network returned (a float32 tensor, or a dict of them for the z -> image
    priors). Lets the project's tasks run their own evaluation protocol on the exported weights
    (`keras_inpaint.evaluation.evaluate_saved_model`). `training=True` is refused: an export is inference-only.

    Args:
      loaded: the object `tf.saved_model.load(path)` returned.
      card: the export's `assets/model_card.json` contents.
    Raises:
      ValueError: the export has no `network` signature (written before it existed: re-export the run).
    """

    def __init__(self, loaded, card: dict):
        meta = card.get("network_signature")
        if not meta or NETWORK_SIGNATURE not in loaded.signatures:
            raise ValueError("this SavedModel has no 'network' signature (exported by an older keras_inpaint); "
                             "re-export its run with python export.py --run_dir=...")
        self._loaded = loaded      # keeps the variables alive: a signature holds only weak references
        self._fn = loaded.signatures[NETWORK_SIGNATURE]
        self._dict_output = bool(meta["dict_output"])
        self.input_shape = tuple(meta["input_shape"])
        self.name = card.get("id", "saved_model")

    def __call__(self, inputs, training=False):
        if training:
            raise ValueError("an exported network runs in inference mode only")
        out = self._fn(inputs=tf.cast(inputs, tf.float32))
        return out if self._dict_output else out["output"]


@dataclasses.dataclass(frozen=True)
class Export:
    """One loaded export: `path`, its model `card` (dict) and `loaded` (what `tf.saved_model.load` returned,
    which keeps the variables alive). See `load`."""

    path: str
    card: dict
    loaded: object

    def signature(self, name: str = "serving_default"):
        """The concrete function of signature `name` (e.g. "serving_default", "with_mask", "refine"), or None
        when the export has no such signature."""
        return self.loaded.signatures.get(name)

    def inputs(self, name: str = "serving_default") -> dict[str, tf.TensorSpec]:
        """{input name: tf.TensorSpec} of signature `name` (e.g. uint8 `images` [None, H, W, C], float32 `mask`,
        float32 `noise_level`). Raises KeyError when the export has no such signature."""
        return dict(self.loaded.signatures[name].structured_input_signature[1])


def load(path: str, serving: bool = False) -> Export:
    """The export at `path` (`saved_models/<model>/<N>`): its card (`load_model_card`) and its SavedModel.
    `serving=True`: the card must hold the serving fields (`serving_fields`), checked before the (slow) load.

    Raises:
      FileNotFoundError: not a keras_inpaint SavedModel directory. ValueError: `serving` and an old card.
    """
    card = load_model_card(path)
    if serving:
        serving_fields(card, path)
    return Export(path, card, tf.saved_model.load(path))
