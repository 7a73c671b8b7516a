"""Registry entries of seed 002: the restoration GAN (spec/models.md §5)."""
from __future__ import annotations

import functools

from keras_inpaint import tasks
from keras_inpaint.model_spec import Adversarial, ModelSpec, gan_options, register
from keras_inpaint.models.restoration_gan import network as restoration_gan

IMAGE_SHAPE = (128, 128, 3)   # the generator's input and output, the critic's input

register(ModelSpec(
    id="restoration_gan",
    paper="seed 002 (GAN after RaphaelMeudec/deblur-gan, Kupyn et al. 2018; spec/models.md §5)",
    description="remove white rectangles from 128x128 faces (ResNet generator + critic, 5 critic updates per G update)",
    build_network=functools.partial(restoration_gan.build_restoration_generator, IMAGE_SHAPE),
    make_task=tasks.WhiteBoxRestoration,  # white boxes in [0, 1] units, the network in value_range (-1, 1)
    # the critic sees the whole 128x128 image
    adversarial=Adversarial(
        functools.partial(restoration_gan.build_restoration_critic, IMAGE_SHAPE),
        loss="wasserstein",          # R-DB wasserstein_loss (see losses.wasserstein_critic_loss for the sign)
        # R-DB: sigmoid output, no gradient penalty; the DeblurGAN paper's WGAN-GP critic is linear (002-d)
        discriminator_options=lambda o: {"sigmoid_output": not o["gradient_penalty"]}),
    trainer_options=gan_options(
        d_steps=5,                   # R-DB critic_updates = 5; seed: "fünfmal so oft ... wie der Generator"
        content_loss="l1",           # proposal (no weights file needed); R-DB: "perceptual" (VGG16 block3_conv3)
        content_weight=100.0,        # R-DB loss_weights = [100, 1]
        d_learning_rate=None,        # R-DB: Adam 1e-4 for both networks (D's rate = G's)
        gradient_penalty=0.0,        # R-DB: none; DeblurGAN paper: 10 (WGAN-GP, linear critic)
        vgg_weights=None,            # local VGG16 no-top weights for content_loss="perceptual"
        vgg_preprocess=False,        # R-DB feeds [-1, 1] images to VGG unchanged
    ),
    image_shape=IMAGE_SHAPE,
    value_range=(-1.0, 1.0),         # R-DB preprocess_image: (x - 127.5) / 127.5
    # SPEC §1: "a 128x128 face folder" (FFHQ thumbnails; not in tfds): pass --dataset=folder:PATH. The default is
    # the public face set tfds has, aligned CelebA, resized to 128x128 (shipped runs: a UTKFace folder).
    default_dataset="celeb_a",
    batch_size=16,                   # R-DB CLI default
    learning_rate=1e-4,              # R-DB: Adam 1e-4, beta_1 0.9, beta_2 0.999 (both networks)
    steps=560,                       # R-DB default 4 epochs x 140 batches of 16 over the folder's 2,247 train images
    params=11_399_171,
    discriminator_params=2_901_762,  # at 128x128
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py --steps=8): 2.9 vs 0.9 train img/s (3.22x); parity
    # (10 iterations, seed 0): test PSNR 18.352 vs 18.287 dB float32 (+0.065)
    precision="mixed_bfloat16",
))
