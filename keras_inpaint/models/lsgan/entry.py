"""Registry entries of seed 004: the LSGAN face prior and its latent-optimisation inpainting (spec/models.md §7-8)."""
from __future__ import annotations

from keras_inpaint.model_spec import gan_options, register
from keras_inpaint.models.dcgan.entry import z_prior
from keras_inpaint.models.lsgan import network as lsgan

# preset lsgan: importance 7x7, (D-1)² prior, λ 10, 1,500 steps; value range [-1, 1] (seed: "normalized in the range
# of (-1, 1)")
register(z_prior(
    "lsgan", lsgan.build_lsgan_generator, lsgan.build_lsgan_discriminator, lsgan.LATENT_DIM,
    loss="least_squares",            # seed eqs. 2.1/2.2, a = 0, b = 1, c = 1 (004-b)
    paper="seed 004 §2.2.3 (least-squares GAN face prior, Mao et al. 2017; spec/models.md §7), served by the "
          "latent-optimisation inpainter of seed 004 §2.3 (Yeh et al. 2017; spec/models.md §8)",
    description="64x64 face prior z(100) -> image (LSGAN), exported as a latent-optimisation (z-search) inpainter",
    trainer_options=gan_options(g_steps=1),  # proposal: both networks Adam 2e-4, beta_1 0.5
    default_dataset="celeb_a",       # SPEC §1 (shipped runs: --dataset=folder:PATH of aligned CelebA faces)
    crop="face108",                  # proposal: the DCGAN recipe (centre 108 -> 64), as §3
    batch_size=32,                   # seed: "mini-batch size of 32"
    learning_rate=2e-4,              # proposal (seed: "learning rate is kept low")
    beta_1=0.5,
    steps=100_000,                   # seed "trained for 100,000 epochs", read as iterations (004-d)
    params=7_844_611,
    discriminator_params=4_318_337,
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py --steps=30): 33.4 vs 21.9 train img/s (1.53x); parity
    # (60 iterations, seed 0): test PSNR 18.586 vs 18.605 dB float32 (-0.019)
    precision="mixed_bfloat16",
))
