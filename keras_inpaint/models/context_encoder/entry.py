"""Registry entries of seed 000: context encoders (Pathak et al. 2016; spec/models.md §1-2)."""
from __future__ import annotations

import functools

from keras_inpaint import tasks
from keras_inpaint.model_spec import Adversarial, ModelSpec, gan_options, register
from keras_inpaint.models.context_encoder import network as context_encoder

# Both context encoders: the centre 16x16 of a 32x32 image is the hole, the network outputs the fill (seed 000).
IMAGE_SHAPE = (32, 32, 3)
HOLE = 16
_CENTRE_16_FILL = dict(
    make_task=functools.partial(tasks.CentreHoleInpainting, hole=HOLE, output="fill"),
    image_shape=IMAGE_SHAPE,
    default_dataset="cifar10",
)

# GAN entries: `params` is the generator's count (the exported inference network), `discriminator_params` the
# D's; `trainer_options` are the paper values of options in `TrainerOptions`, overridable per run.
register(ModelSpec(
    id="context_encoder",
    paper="seed 000 §IV-A (context encoder autoencoder; Pathak et al. 2016)",
    description="inpaint the centre 16x16 of a 32x32 image (L2 autoencoder)",
    build_network=functools.partial(context_encoder.build_context_encoder, IMAGE_SHAPE),
    **_CENTRE_16_FILL,
    value_range=(0.0, 1.0),          # ReLU output (spec/models.md §1, 000-d)
    batch_size=64,                   # seed: "Batch Size ... 64"
    learning_rate=1e-3,              # proposal: Keras Adam default (seed gives no lr)
    steps=50_000,                    # seed: "50.000 epochs", read as iterations (000-c)
    params=4_365_635,
    loss="mse",                      # seed: "Mean Squared Error"
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py): mixed_bfloat16 1,253 vs 1,175 train img/s (1.07x, under
    # the 1.3x bar; dense-heavy): float32. Parity (500 iterations): -0.078 dB
    precision="float32",
))

register(ModelSpec(
    id="context_encoder_gan",
    paper="seed 000 §IV-B, Tables I-II (adversarial context encoder; Pathak et al. 2016, R-CE train.lua)",
    description="inpaint the centre 16x16 of a 32x32 image (generator + discriminator on the centre, L2 + adversarial)",
    build_network=functools.partial(context_encoder.build_context_encoder_generator, IMAGE_SHAPE),
    **_CENTRE_16_FILL,
    # D sees the 16x16 centre: the generator's fill and the target centre (view None: the fill as it is)
    adversarial=Adversarial(functools.partial(context_encoder.build_context_encoder_discriminator,
                                              (HOLE, HOLE, IMAGE_SHAPE[-1])),
                            loss="bce"),     # seed Table I: "Binary Cross Entropy"
    trainer_options=gan_options(     # d_steps 1: seed: D trained once per batch, then the combined network
        content_loss="mse",          # seed Table II: "Mean Squared Error"
        content_weight=0.999,        # seed "0.999 * PG", R-CE wtl2 = 0.999 on the L2 term (000-e)
        adversarial_weight=0.001,    # seed "0.001 * PD": the adversarial BCE of D(G(x)) vs "real"
        d_learning_rate=2e-4,        # Table I: "Adam(LR = 0.0002)", 10x smaller than G's (000-b)
        gradient_penalty=0.0,
        real_label_smoothing=0.0,
    ),
    value_range=(-1.0, 1.0),         # seed: "Normalizar valores de entrada entre -1 e 1 e usar ativação tanh"
    batch_size=32,                   # Tables I/II: 32
    learning_rate=2e-3,              # Table II: "Adam(LR = 0.002)" (generator)
    beta_1=0.5,                      # R-CE beta1 = 0.5 (proposal: the seed gives none)
    steps=80_000,                    # seed: "80.000 epochs", read as iterations (000-c)
    params=7_440_643,                # Table II
    discriminator_params=1_440_961,  # Table I (first conv stride 1, 000-a)
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py): mixed_bfloat16 78 vs 108 train img/s (0.72x): float32.
    # Parity (200 iterations): +0.256 dB
    precision="float32",
))
