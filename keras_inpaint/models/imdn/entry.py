"""Registry entries of photo super-resolution (issue 32): IMDN in LR space, one model per scale."""
from __future__ import annotations

import functools

from keras_inpaint import tasks
from keras_inpaint.model_spec import PHOTOS, SET5_SET14, ModelSpec, register
from keras_inpaint.models.imdn import network as imdn

# The authors' train_IMDN.py: HR patches of 192x192 ("--patch_size 192, output patch size") for every scale, so LR
# patches of 96 / 64 / 48 pixels at x2 / x3 / x4; batch 16; Adam 2e-4 halved every 200 of 1,000 epochs of 1,000
# iterations (1,000,000 iterations on DIV2K's 800 photos, data/DIV2K.py repeat = 1000 // (800 // 16)).
IMDN_PATCH = 192
IMDN_HALVINGS = ((0.2, 0.5), (0.4, 0.25), (0.6, 0.125), (0.8, 0.0625))   # 2e-4 halved at 1/5, 2/5, 3/5, 4/5
# Stated CPU schedule (issue 32): 10,000 iterations of batch 16 (1 % of the paper's 1,000,000; 200 BSDS500 photos, DIV2K
# is not offline). Measured on the 2-core AMX-BF16 CPU with nothing else running (python benchmarks/throughput.py
# --models=imdn_x3 --precision=mixed_bfloat16 --steps=6): a train step on one batch of 16 192x192 HR patches at x3
# runs at 9.4 patches/s, so the schedule is ~4.7 h of training per scale (resumable across sessions).
IMDN_STEPS = 10_000
# Parameters per scale, counted in network.py's docstring (the paper's Table 3: 694K, 703K, 715K).
PARAMS = {2: 694_404, 3: 703_059, 4: 715_176}


def _imdn_spec(scale: int) -> ModelSpec:
    """The registry entry of IMDN at `scale` (2, 3, 4): one trained model per scale, as the paper's Table 3."""
    return ModelSpec(
        id=f"imdn_x{scale}",
        paper="IMDN (Hui, Gao, Yang, Wang, ACM MM 2019, §3.1-3.2, Figs. 2-3: 6 IMDBs of 64 channels, distillation "
              "rate 1/4, contrast-aware channel attention, 1x1 fusion, 3x3 conv + sub-pixel upsampler in LR space; "
              "Table 3: x2 694K, x3 703K, x4 715K parameters)",
        description=f"x{scale} super-resolution of photos of any size, in low-resolution space (IMDN, L1 loss)",
        build_network=functools.partial(imdn.build_imdn, scale),
        make_task=functools.partial(tasks.PhotoSuperResolution, scale=scale),
        image_shape=(IMDN_PATCH, IMDN_PATCH, 3),   # HR patch; LR 192 / scale
        value_range=(0.0, 1.0),          # the authors' rgb_range = 1; linear output, clipped at inference
        default_dataset=PHOTOS,          # BSDS500 train/ (the paper: DIV2K's 800 photos, not offline); test: B100
        crop="patches",
        patches_per_photo=64,            # 12,800 HR patches per pass over the 200 photos (800 batches of 16)
        test_ids=None,                   # the test split is all 100 val/ photos: B100 (SR's BSD100)
        batch_size=16,                   # the authors' --batch_size 16
        learning_rate=2e-4,              # the authors' --lr 2e-4 (Adam, beta 0.9 / 0.999)
        lr_drops=IMDN_HALVINGS,          # the paper's shape: halved every fifth of the schedule
        steps=IMDN_STEPS,
        params=PARAMS[scale],
        loss="mae",                      # L1 (the authors' nn.L1Loss)
        benchmarks=SET5_SET14,           # + the test split B100: the paper's three natural-image test sets
        # the authors train x2 first and start x3 / x4 from it (Zheng222/IMDN issue 19); here any scale may start
        # another: only the upsampler differs
        warm_start_ids=tuple(f"imdn_x{s}" for s in imdn.SCALES if s != scale),
        # issue 32 (AMX-BF16 CPU under load, train step on one batch of 16 192x192 patches at x3): 2.4 vs 1.5
        # patches/s (1.60x); inference (one 240x160 LR photo) only 1.08x. Parity (0.1 dB) not measured yet
        precision="mixed_bfloat16",
    )


for _scale in imdn.SCALES:
    register(_imdn_spec(_scale))
