"""Registry entries of seed 001 (text): the conditional DCGAN inpainter (SPEC §1.1)."""
from __future__ import annotations

import functools

from keras_inpaint import tasks
from keras_inpaint.model_spec import Adversarial, ModelSpec, gan_options, register
from keras_inpaint.models.dcgan_inpaint import network as dcgan_inpaint

IMAGE_SHAPE = (64, 64, 3)   # the generator's input and output, the discriminator's input

register(ModelSpec(
    id="dcgan_inpaint",
    paper="seed 001 (text): conditional fully convolutional DCGAN inpainter (SPEC §1.1; pix2pix-style losses)",
    description="inpaint a 32x32 hole (centre or --mask=random_box) in 64x64 faces (conditional DCGAN, L1 + BCE)",
    build_network=functools.partial(dcgan_inpaint.build_dcgan_inpaint_generator, IMAGE_SHAPE),
    make_task=functools.partial(tasks.MaskedInpainting, hole=32),
    task_options={"mask": "centre"},  # R-576 scale = 0.25 centre square; "random_box": 1/16-1/4 of the area
    # D sees the whole 64x64 image (real, or the generator's output)
    adversarial=Adversarial(functools.partial(dcgan_inpaint.build_dcgan_inpaint_discriminator, IMAGE_SHAPE),
                            loss="bce"),     # SPEC §1.1: D = BCE on real and fake; G adversarial = BCE(D(G(x)), 1)
    trainer_options=gan_options(
        content_loss="l1",           # SPEC §1.1: G = 100·L1(G(x), y) + BCE (pix2pix weighting, proposal)
        content_weight=100.0,
        gradient_penalty=0.0,
        real_label_smoothing=0.0,    # seed 001's code smooths real labels to 0.9 (s = 0.1); SPEC §1.1 does not
    ),
    image_shape=IMAGE_SHAPE,
    value_range=(-1.0, 1.0),         # seed: "divide each pixel by 255 multiply by 2 and subtract 1"
    default_dataset="celeb_a",       # SPEC §1 (shipped runs: --dataset=folder:PATH of aligned CelebA faces)
    crop="face108",                  # SPEC §4: centre 108x108 of the aligned 178x218 image, resized to 64x64
    batch_size=64,                   # SPEC §1.1
    learning_rate=2e-4,              # SPEC §1.1: Adam 2e-4, beta_1 0.5 (both networks)
    beta_1=0.5,
    steps=1_560,                     # proposal: R-576's 10 epochs over the seed's 10,000 training images, batch 64
    params=5_517_955,                # computed (SPEC gives no count; network.py's table)
    discriminator_params=2_768_321,  # computed
    # issue 12: 46.9 vs 23.4 train img/s (2.00x) on the AMX-BF16 CPU (benchmarks/throughput.py --steps=30; 2.41x
    # on an AVX-512-BF16 CPU without AMX); parity (100 iterations, seed 0): 19.118 vs 19.080 dB float32 (+0.037)
    precision="mixed_bfloat16",
))
