"""Registry entries of beyond the seeds (issue 13): free-form inpainting."""
from __future__ import annotations

import functools

from keras_inpaint import tasks
from keras_inpaint.model_spec import Adversarial, ModelSpec, gan_options, register
from keras_inpaint.models.free_form import network as free_form

IMAGE_SHAPE = (64, 64, 3)   # training faces; the generator is fully convolutional (any multiple of MULTIPLE)
DISCRIMINATOR_PARAMS = 431_201   # the PatchGAN (computed; the same at any input size: lama_ffc's discriminator)

register(ModelSpec(
    id="free_form_inpaint",
    paper="beyond the seeds (issue 13): DeepFill v2's gated-convolution generator (Yu et al. 2019, §3.1) with a "
          "PatchGAN (Isola et al. 2017) and pix2pixHD feature matching (Wang et al. 2018), trained on LaMa's "
          "free-form masks (Suvorov et al. 2022)",
    description="inpaint free-form holes (strokes, boxes) in faces of any size (gated convolutions, L1 + "
                "adversarial + feature matching)",
    build_network=free_form.build_free_form_generator,
    make_task=functools.partial(tasks.MaskedInpainting, hole=32, mask_input=True, any_size=True,
                                multiple=free_form.MULTIPLE),
    task_options={"mask": "mixed"},  # tasks.MIXED_MASKS: centre 1/4, random box 1/4, LaMa thin/medium/thick 1/6 each
    # D sees the composite image (prediction pasted into the hole) and the real one
    adversarial=Adversarial(functools.partial(free_form.build_patch_discriminator, IMAGE_SHAPE),
                            loss="bce_logits",   # PatchGAN logits, non-saturating BCE (pix2pix; LaMa's too)
                            generator_takes_sync=False),   # gated convolutions, no BatchNorm
    trainer_options=gan_options(
        content_loss="l1",           # L1 of the composite = L1 of the hole (the generator pastes back itself)
        content_weight=100.0,        # pix2pix weighting, as dcgan_inpaint
        feature_matching=10.0,       # pix2pixHD λ = 10 (eq. 4)
        real_label_smoothing=0.0,
    ),
    image_shape=IMAGE_SHAPE,
    value_range=(-1.0, 1.0),
    default_dataset="celeb_a",       # as dcgan_inpaint (same crop; shipped runs: the aligned CelebA folder)
    crop="face108",
    batch_size=32,                   # proposal
    learning_rate=2e-4,              # pix2pix: Adam 2e-4, beta_1 0.5 (both networks)
    beta_1=0.5,
    steps=6_000,                     # proposal: ~64 epochs of the folder's 2,980 training faces at batch 32
    # (the shipped saved_models/free_form_inpaint/3 is this schedule plus a stated 2,500-iteration fine-tune with
    # --init_from on centre-heavier masks, which took the centre hole from 24.26 to 26.73 dB: README)
    params=1_131_711,                # computed
    discriminator_params=DISCRIMINATOR_PARAMS,
    # issue 12 (AMX-BF16 CPU, benchmarks/throughput.py): mixed_bfloat16 1.69x faster but 0.181 dB lower after the
    # same 100 iterations (20.372 vs 20.553): float32
    precision="float32",
))
