"""Registry entries of seed 002: the denoising autoencoders (spec/models.md §4)."""
from __future__ import annotations

import functools

from keras_inpaint import tasks
from keras_inpaint.model_spec import ModelSpec, register
from keras_inpaint.models.denoising import network as denoising

# Options (spec.task(**options)): corruption "noise" | "white_box"; train_noise "random" | "none" | f.
_DENOISING_OPTIONS = {"corruption": "noise", "train_noise": None}
MNIST_SHAPE = (28, 28, 1)   # MNIST and Fashion-MNIST digits / garments: 28x28 grey
FACES_128 = (128, 128, 3)   # denoising_ae_ffhq's faces


def _grey_28(latent: int, **fields) -> ModelSpec:
    """The entry of a 28x28 grey autoencoder (MNIST, Fashion-MNIST) with a code of `latent` values, denoising by
    default (options: `_DENOISING_OPTIONS`); what the two share besides (seed 002 gives no schedule: proposals);
    `fields`: the rest of the entry."""
    return ModelSpec(
        build_network=functools.partial(denoising.build_denoising_ae, MNIST_SHAPE, latent=latent),
        make_task=tasks.Denoising,
        task_options=dict(_DENOISING_OPTIONS),
        image_shape=MNIST_SHAPE,
        value_range=(0.0, 1.0),          # sigmoid output
        batch_size=128,                  # proposal (keras.io denoising example)
        learning_rate=1e-3,              # proposal: Keras Adam default
        steps=23_450,                    # proposal: 50 epochs x 469 batches of 128 over the 60,000 training images
        loss="binary_crossentropy",      # proposal (blog.keras.io / keras.io denoising examples; sigmoid output)
        **fields)


# default: noisy input f ~ U(0, 0.5) -> clean target (002-a)
register(_grey_28(
    32,
    id="denoising_ae_mnist",
    paper="seed 002 (MNIST autoencoder, latent 32; spec/models.md §4a)",
    description="remove Gaussian noise from 28x28 MNIST digits (autoencoder, latent 32)",
    default_dataset="mnist",         # seed: "der bekannte MNIST-Datensatz"
    params=278_369,
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py): mixed_bfloat16 1.65x faster but its test PSNR after the
    # same 300 iterations was 0.506 dB lower (16.495 vs 17.001): float32
    precision="float32",
))

# seed: a denoising autoencoder first, then retrained with white boxes (--corruption=white_box)
register(_grey_28(
    64,                              # proposal for "vergrößerter Latent Space" (002-b)
    id="denoising_ae_fashion",
    paper="seed 002 (Fashion-MNIST denoising autoencoder, larger latent; spec/models.md §4b)",
    description="remove Gaussian noise (or, --corruption=white_box, white rectangles) from 28x28 Fashion-MNIST",
    default_dataset="fashion_mnist",  # seed: "MNIST Fashion Datensatz"
    params=479_105,
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py, on MNIST): mixed_bfloat16 2.00x faster but 0.161 dB lower
    # after the same 300 iterations (17.440 vs 17.601): float32
    precision="float32",
))

register(ModelSpec(
    id="denoising_ae_ffhq",
    paper="seed 002 (128x128 face autoencoder, 4+4 blocks, latent 1024; spec/models.md §4c)",
    description="remove white rectangles from 128x128 faces (autoencoder, latent 1024)",
    build_network=functools.partial(denoising.build_denoising_ae_ffhq, FACES_128, latent=1024),
    make_task=tasks.Denoising,
    task_options={"corruption": "white_box", "train_noise": None},  # seed: "mit den gleichen Artefakten"
    image_shape=FACES_128,
    value_range=(0.0, 1.0),
    # SPEC §1: "a 128x128 face folder" (FFHQ thumbnails; not in tfds): pass --dataset=folder:PATH. The default is
    # the public face set tfds has, aligned CelebA, resized to 128x128 (shipped runs: a UTKFace folder).
    default_dataset="celeb_a",
    batch_size=32,                   # proposal
    learning_rate=1e-3,              # proposal
    steps=3_550,                     # proposal "50 epochs": 50 x 71 batches of 32 over the folder's 2,247 train images
    params=34_938_499,
    loss="mse",                      # proposal
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py --steps=30): 47.8 vs 36.1 train img/s (1.32x; 2.09x in an
    # 8-step run); parity (100 iterations, seed 0): mean test PSNR 15.354 vs 14.162 dB float32 (+1.19)
    precision="mixed_bfloat16",
))
