"""Registry entries of seed 001's code: the z -> image DCGAN face prior (spec/models.md §3)."""
from __future__ import annotations

import functools

from keras_inpaint import latent_inpainting, tasks
from keras_inpaint.model_spec import Adversarial, ModelSpec, gan_options, register
from keras_inpaint.models.dcgan import network as dcgan

# z -> image priors (dcgan here; lsgan, models/lsgan/, takes its LATENT_TASK_OPTIONS from here): the trainer feeds
# G the z of the task's (z, real image) pairs (no content loss) and hands the task the prior z -> {image, score}
# (latent_inpainting.prior_network): the task evaluates, shows and exports the z-search inpainter
# (latent_inpainting.LatentInpainter), not the raw generator. Task options: iterations (exported search, default
# the preset's), eval_iterations (evaluation/grid search), prior_weight (λ), prior_loss ('least_squares' | 'log' |
# 'bce'), context_weighting ('importance' | 'binary').
LATENT_TASK_OPTIONS = {"iterations": None, "eval_iterations": 100, "prior_weight": None, "prior_loss": None,
                       "context_weighting": None}
IMAGE_SHAPE = (64, 64, 3)   # the generator's output, the discriminator's input (dcgan and lsgan)


def z_prior(preset: str, generator, discriminator, latent_dim: int, loss: str, **fields) -> ModelSpec:
    """The entry of a z -> image face prior served as a z-search inpainter (dcgan here; lsgan, models/lsgan/): id
    and latent task preset `preset`, `generator` (z of `latent_dim` -> IMAGE_SHAPE in [-1, 1], tanh) the exported
    network, `discriminator` (built at IMAGE_SHAPE) trained with the adversarial `loss` and no content term, the
    prior z -> {image, score} handed to the task; `fields`: the rest of the entry."""
    return ModelSpec(
        id=preset,
        build_network=generator,
        make_task=functools.partial(tasks.UnconditionalGeneration, latent_dim=latent_dim, preset=preset),
        task_options=dict(LATENT_TASK_OPTIONS),
        adversarial=Adversarial(functools.partial(discriminator, IMAGE_SHAPE), loss=loss, content=False,
                                inference=latent_inpainting.prior_network),
        image_shape=IMAGE_SHAPE,
        value_range=(-1.0, 1.0),
        **fields)


# preset dcgan: binary L1, BCE prior, λ 0.1, betas 0.9/0.9, 500 steps; value range [-1, 1] (R-576: x / 127.5 - 1)
register(z_prior(
    "dcgan", dcgan.build_dcgan_generator, dcgan.build_dcgan_discriminator, dcgan.LATENT_DIM,
    loss="bce_logits",               # sigmoid_cross_entropy_with_logits
    paper="seed 001's code (R-576 inpainting.py: z -> image DCGAN, spec/models.md §3) with its latent-optimisation "
          "inpainting (BCE prior, λ 0.1, 500 Adam steps on z)",
    description="64x64 face prior z(100) -> image (DCGAN), exported as a latent-optimisation (z-search) inpainter",
    trainer_options=gan_options(     # 1 D update (Adam 2e-4, beta_1 0.5 for both networks) ...
        g_steps=2,                   # ... then 2 G updates per step, each gradient recomputed (proposal, §3)
        real_label_smoothing=0.1,    # R-576 smooth = 0.1: real label 0.9
    ),
    default_dataset="celeb_a",       # SPEC §1; R-576: the first 10,000 sorted files (--max_examples=10000)
    crop="face108",                  # R-576 image_size = 108, resized to 64
    batch_size=128,
    learning_rate=2e-4,
    beta_1=0.5,
    steps=780,                       # 10 epochs x 78 batches of 128 over 10,000 images (--max_examples=10000)
    params=5_136_323,
    discriminator_params=4_317_441,
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py --steps=8): 38.9 vs 25.8 train img/s (1.51x); parity
    # (20 iterations, seed 0): test PSNR 18.632 vs 18.645 dB float32 (-0.013)
    precision="mixed_bfloat16",
))
