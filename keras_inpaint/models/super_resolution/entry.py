"""Registry entries of seed 003: the super-resolution autoencoder (spec/models.md §6)."""
from __future__ import annotations

import functools

from keras_inpaint import tasks
from keras_inpaint.model_spec import SET5_SET14, ModelSpec, register
from keras_inpaint.models.super_resolution import network as super_resolution

register(ModelSpec(
    id="sr_autoencoder",
    paper="seed 003 §5 (residual convolutional autoencoder, 1,110,403 parameters; spec/models.md §6)",
    description="x3 super-resolution of a bicubic-upscaled image (residual autoencoder, fully convolutional)",
    build_network=super_resolution.build_sr_autoencoder,   # fully convolutional: any size (its default shape)
    make_task=functools.partial(tasks.SuperResolution, scale=super_resolution.SCALE),
    image_shape=(120, 120, 3),       # seed: HR crops "a 120x120 píxeles"
    value_range=(0.0, 1.0),          # x/255 ("se normalizaron"); ReLU output, clipped at inference
    default_dataset="celeb_a",       # SPEC §1 (shipped runs: --dataset=folder:PATH of aligned CelebA faces)
    crop="centre",                   # proposal: centre 120x120 of the aligned 178x218 image
    batch_size=16,                   # proposal (R-SR copies use 10-16)
    learning_rate=1e-3,              # R-SR optimizer='adam' (Keras default)
    steps=1_870,                     # seed "10 épocas": 10 x 187 batches of 16 over the folder's 2,980 train images
    params=1_110_403,                # seed: "1,110,403 parámetros"
    loss="mse",                      # seed: MSE
    # seed 003 evaluates on its own test crops; the standard x3 tables (SPEC §3) also score Set5 and Set14.
    benchmarks=SET5_SET14,
    # issue 12: 18.4 vs 3.1 train img/s (5.94x) on the AMX-BF16 CPU (benchmarks/throughput.py --steps=8; 2.87x
    # on an AVX-512-BF16 CPU without AMX); parity (40 iterations, seed 0): test PSNR-Y 27.603 vs 27.546 dB float32
    precision="mixed_bfloat16",
))
