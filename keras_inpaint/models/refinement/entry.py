"""Registry entries of seed 004: the refinement autoencoder (spec/models.md §9)."""
from __future__ import annotations

import functools

from keras_inpaint import tasks
from keras_inpaint.model_spec import ModelSpec, register
from keras_inpaint.models.refinement import network as refinement

IMAGE_SHAPE = (64, 64, 3)   # the LSGAN's images, refined

register(ModelSpec(
    id="refinement_ae",
    paper="seed 004 §2.2.4 (refinement autoencoder, 4 levels, 8192 code, BN, MSE; spec/models.md §9)",
    description="refine 64x64 latent-inpainting completions (autoencoder; pasted into the hole)",
    build_network=functools.partial(refinement.build_refinement_ae, IMAGE_SHAPE),
    make_task=tasks.Refinement,
    # refinement_cache: .npz of latent-inpainting completions (latent_inpainting.build_refinement_cache); None
    # (default): noisy originals (spec `--ae-input noise`). input_noise: σ in [-1, 1] units.
    task_options={"refinement_cache": None, "input_noise": 0.1},
    image_shape=IMAGE_SHAPE,
    value_range=(-1.0, 1.0),         # the LSGAN's range (tanh output, proposal)
    default_dataset="celeb_a",       # SPEC §1
    crop="face108",
    batch_size=32,                   # seed: batch 32
    learning_rate=1e-3,              # proposal
    steps=2_000,                     # seed "trained till 2000 epochs", read as iterations (004-d)
    params=3_124_803,
    loss="mse",                      # seed: MSE
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py): mixed_bfloat16 1.92x faster but 0.146 dB lower after the
    # same 60 iterations (14.314 vs 14.460): float32
    precision="float32",
))
