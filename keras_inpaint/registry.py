"""Model registry (SPEC §1): model id -> everything `train.py`, `export.py` and the tests need to know.

Each model family is one folder, `keras_inpaint/models/<family>/`: `network.py` (the builders) and `entry.py`
(its `register(ModelSpec(...))` entries: id, citation, defaults with their sources, parameter counts, measured
precision; registered where they are defined). This module imports every family's entry, in the order the ids were
registered before the split (by paper), and is where callers look a model up: `get`, `REGISTRY`. `train.py` and
`export.py` contain nothing model-specific. Defaults are the papers' (seed and table cited per field); any can be
overridden by a command-line flag. What an entry is (`ModelSpec`, `Adversarial`, the option dataclasses) is
`keras_inpaint.model_spec`, re-exported here.
"""
from __future__ import annotations

# What an entry is, re-exported for the callers of `registry.ModelSpec`, `registry.TrainerOptions`, ...
from keras_inpaint.model_spec import (PHOTOS, REGISTRY, SET5_SET14, Adversarial, ModelSpec,  # noqa: F401
                                      OptionField, TaskOptions, TrainerOptions, gan_options, option_fields,
                                      register)
# The families: importing an entry module registers its ids.
from keras_inpaint.models.context_encoder import entry as context_encoder      # seed 000
from keras_inpaint.models.dcgan_inpaint import entry as dcgan_inpaint          # seed 001 (text)
from keras_inpaint.models.dcgan import entry as dcgan                          # seed 001 (code)
from keras_inpaint.models.denoising import entry as denoising                  # seed 002
from keras_inpaint.models.restoration_gan import entry as restoration_gan      # seed 002
from keras_inpaint.models.super_resolution import entry as super_resolution    # seed 003
from keras_inpaint.models.lsgan import entry as lsgan                          # seed 004
from keras_inpaint.models.refinement import entry as refinement                # seed 004
from keras_inpaint.models.free_form import entry as free_form                  # issue 13
from keras_inpaint.models.ffdnet import entry as ffdnet                        # issue 31
from keras_inpaint.models.imdn import entry as imdn                            # issue 32
from keras_inpaint.models.lama import entry as lama                            # issue 37
from keras_inpaint.models.ffdnet_inpaint import entry as ffdnet_inpaint        # issue 37

# Family constants other modules may name as `registry.X`.
MNIST_SHAPE = denoising.MNIST_SHAPE
IMDN_PATCH, IMDN_HALVINGS, IMDN_STEPS = imdn.IMDN_PATCH, imdn.IMDN_HALVINGS, imdn.IMDN_STEPS
LAMA_CROP = lama.LAMA_CROP


def get(model_id: str) -> ModelSpec:
    """The spec of `model_id`. Raises ValueError listing the valid ids when it is unknown."""
    try:
        return REGISTRY[model_id]
    except KeyError:
        raise ValueError(f"unknown model id {model_id!r}; valid ids: {', '.join(sorted(REGISTRY))}") from None
