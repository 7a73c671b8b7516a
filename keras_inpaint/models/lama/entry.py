"""Registry entries of photo inpainting (issue 37): a small LaMa, trained on random crops of BSDS500 train/,
scored on CBSD68."""
from __future__ import annotations

import functools

from keras_inpaint import tasks
from keras_inpaint.model_spec import PHOTOS, Adversarial, ModelSpec, gan_options, register
from keras_inpaint.models.free_form import network as free_form
from keras_inpaint.models.free_form.entry import DISCRIMINATOR_PARAMS
from keras_inpaint.models.lama import network as lama

LAMA_CROP = 192   # training crop side (see the entry's image_shape comment)

register(ModelSpec(
    id="lama_ffc",
    paper="LaMa (Suvorov et al., WACV 2022, §3.1 and Fig. 2: fast Fourier convolution ResNet generator; §3.3: "
          "wide stroke and box training masks; losses without the pretrained perceptual loss), at ~1/13 of "
          "LaMa-Fourier's parameters, started from a pull-push membrane fill of the hole (Gortler et al. 1996; "
          "proposal); PatchGAN (Isola et al. 2017) with pix2pixHD feature matching (Wang et al. 2018)",
    description="inpaint free-form holes (strokes, boxes: object removal) in natural photos of any size (FFC "
                "ResNet generator, L1 + adversarial + feature matching)",
    build_network=lama.build_lama_generator,
    make_task=functools.partial(tasks.PhotoInpainting, multiple=lama.MULTIPLE),
    task_options={"mask": "lama"},   # LaMa thin / medium / thick strokes and box masks, a quarter each
    # D sees the composite (prediction pasted into the hole, as free_form_inpaint) and the real crop; the
    # PatchGAN of free_form_inpaint at any input size (LaMa: pix2pixHD's NLayer discriminator, ndf 64, 4 layers)
    adversarial=Adversarial(functools.partial(free_form.build_patch_discriminator, input_shape=(None, None, 3)),
                            loss="bce_logits",    # LaMa: non-saturating logistic loss on patch logits
                            generator_takes_sync=False),   # its BatchNorm has no synchronized option
    trainer_options=gan_options(
        # LaMa's L1 is on the known pixels only (weight 10) and its hole is driven by the 30-weighted
        # ResNet50-dilated perceptual loss (HRF PL), which needs downloaded ADE20k weights: left out (SPEC §5). In
        # its place the L1 of the composite, i.e. of the hole (the generator pastes back itself), pix2pix-weighted
        # as free_form_inpaint (proposal)
        content_loss="l1",
        content_weight=100.0,
        # measured (README "Training so far"): with the smooth prefill these two terms took the CBSD68 PSNR 0.3-0.7
        # dB under the untrained fill by 2,500 steps, where --adversarial_weight=0 --feature_matching=0 stayed at it
        adversarial_weight=1.0,      # proposal (LaMa: 10 beside its 30-weighted HRF PL); --adversarial_weight
        feature_matching=10.0,       # pix2pixHD λ = 10 (LaMa: 100 of its discriminator feature matching)
        d_learning_rate=1e-4,        # LaMa default_optimizers: D Adam 1e-4 (G 1e-3)
        real_label_smoothing=0.0,
        # LaMa's R1 gradient penalty (weight 0.001) is not in the shared trainer (its gradient_penalty is WGAN-GP's)
    ),
    # Training crops of LAMA_CROP x LAMA_CROP (LaMa: 256x256). Measured (issue 37, CPU seconds of a train step on
    # a batch of 8 held in memory, AMX-BF16 CPU under load, float32): 1.33 at 128, 3.7 at 192, 6.6 at 256. LaMa's
    # FFCs are resolution-robust (its Fig. 1: trained at 256, used on high-resolution photos), and the CBSD68
    # photos (481x321) are scored at full size; masks are sized for the image (LaMa's 256-pixel sizes x 0.75 on a
    # 192 crop, x 1.25 on a CBSD68 photo), so at 192 a test hole is 1.7x a training hole of its preset, within the
    # 2x LaMa itself generalises over (256 -> 512); at 128 it would be 2.5x, at 256 each step costs 1.8x more.
    image_shape=(LAMA_CROP, LAMA_CROP, 3),
    value_range=(0.0, 1.0),          # LaMa: images in [0, 1] (its sigmoid output; here fill + residual clipped)
    default_dataset=PHOTOS,          # BSDS500 train/ (LaMa: Places365); never val/
    crop="patches",
    patches_per_photo=8,             # 1,600 crops per pass over the 200 photos (200 batches of 8)
    test_ids="cbsd68_ids.txt",       # CBSD68: 68 of BSDS500's val/ photos, scored whole
    batch_size=8,                    # LaMa abl-04-256-mh-dist: batch 8 (per GPU)
    learning_rate=1e-3,              # LaMa default_optimizers: G Adam 1e-3 (betas 0.9, 0.999)
    # Stated CPU schedule (issue 37): 8,000 steps of 8 crops (64,000 crops: 40 passes of 8 crops per photo), ~1.8 h
    # at the 0.78-0.87 s a step (9-10 crops/s, validation included) measured in training on the 2-core
    # AVX-512-BF16 AMD CPU (float32: no native bfloat16 there), ~3 h at the 5.8 crops/s of the AMX-BF16 CPU
    # (mixed_bfloat16, measured before the prefill; float32 3.9):
    # `python benchmarks/throughput.py --models=lama_ffc --precision=float32,mixed_bfloat16 --steps=5`. LaMa trains
    # for days on 8 GPUs; this is the CPU budget, extended only if the CBSD68 bar is missed.
    steps=8_000,
    lr_drops=((0.75, 0.1),),         # proposal (LaMa: constant rates): G's 1e-3 to 1e-4 for the last quarter
    params=2_005_903,                # network.py's docstring table (w 32, M 128, 9 blocks)
    discriminator_params=DISCRIMINATOR_PARAMS,   # free_form_inpaint's PatchGAN, any size
    # issue 37, measured on the quiet 2-core AMX-BF16 CPU (train step on one batch of 8 192x192 crops held in memory):
    # mixed_bfloat16 5.8 crops/s against float32 3.9 (1.49x, above issue 12's 1.3x bar; the FFTs run in float32).
    # Under load the ratio was 1.29x. Parity (0.1 dB) not measured yet, as for imdn_x*.
    precision="mixed_bfloat16",
    # BatchNorm's statistics re-estimated on 200 training batches of the final weights (training/batchnorm.py):
    # measured on this model's checkpoint at 2,500 steps (12 CBSD68 photos, per-batch mask kinds), PSNR after
    # paste-back thin / medium / thick 21.07 / 17.98 / 15.32 dB with the moving averages, 24.61 / 23.35 / 20.29
    # re-estimated on 100 batches.
    bn_reestimation=200,
))
