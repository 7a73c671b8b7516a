"""Registry entry of `ffdnet_inpaint` (issue 37): FFDNet's layers refining a smooth fill of free-form holes in
natural photos, trained on random crops of BSDS500 train/, scored on CBSD68."""
from __future__ import annotations

import functools

from keras_inpaint import tasks
from keras_inpaint.model_spec import PHOTOS, ModelSpec, register
from keras_inpaint.models.ffdnet_inpaint import network as ffdnet_inpaint
from keras_inpaint.models.lama.entry import LAMA_CROP

register(ModelSpec(
    id="ffdnet_inpaint",
    paper="FFDNet (Zhang, Zuo, Zhang, IEEE TIP 2018, §III-A, Fig. 1: reversible downsampling, 3x3 convolution "
          "stack, degradation-level map input) with the hole mask as its map, on lama_ffc's pull-push membrane "
          "fill (Gortler et al. 1996); LaMa's training masks (Suvorov et al. 2022, §3.3)",
    description="inpaint free-form holes (strokes, boxes: object removal) in natural photos of any size (FFDNet "
                "layers refining a smooth fill; L2)",
    build_network=ffdnet_inpaint.build_ffdnet_inpaint,
    make_task=functools.partial(tasks.PhotoInpainting, multiple=ffdnet_inpaint.MULTIPLE),
    # LaMa's thin / medium / thick strokes and boxes per image. Measured (issue 37, README "Photo inpainting"): from
    # a fresh network this mixture teaches nothing (the large holes' errors dominate and the residual stays 0),
    # while thin strokes alone teach at once; the stated schedule is a thin-stroke warm-up run, then this
    # mixture from its export (--init_from), README "Photo inpainting".
    # self_ensemble: evaluation, export and predict.py average the 8 flips / rotations of the photo (EDSR's
    # geometric self-ensemble, `tasks.base.run_self_ensemble`): +0.08 / +0.09 / +0.11 dB after paste-back on CBSD68
    # thin / medium / thick for ffdnet_inpaint/1 (README "Photo inpainting"), at 8x the network's time.
    task_options={"mask": "lama", "self_ensemble": True},
    loss="mse",                      # FFDNet eq. (3), L2; the output is pasted back, so only the hole counts
    image_shape=(LAMA_CROP, LAMA_CROP, 3),   # lama_ffc's crops and mask sizes (its entry explains the 192)
    value_range=(0.0, 1.0),
    default_dataset=PHOTOS,          # BSDS500 train/; never val/
    crop="patches",
    patches_per_photo=8,
    test_ids="cbsd68_ids.txt",       # CBSD68, scored whole
    batch_size=8,
    learning_rate=1e-3,              # FFDNet §IV-A: Adam 1e-3, then 1e-4
    lr_drops=((0.6, 0.1),),          # the drop to 1e-4 at step 6,600 of the 11,000
    # Measured (issue 37): after the thin-stroke warm-up the mixture's first batches diverge an unclipped Adam
    # (hole MSE ~1e5); with the gradients' global norm clipped, the network keeps learning. The norm of a batch's
    # gradient at initialisation is 0.01-0.2 on the mixture, 0.002-0.03 on thin strokes (12 batches each, whole-crop
    # MSE), so 1e-3 rescales nearly every step to the same length (Adam then sees normalised gradients).
    clipnorm=1e-3,
    # Stated schedule (README "Photo inpainting", shipped as ffdnet_inpaint/1): a 500-step thin-stroke warm-up run,
    # then 11,000 steps of the mixture from its export (88,000 crops, 55 passes of 8 crops per photo): 76 minutes
    # at 0.41 s a step (validation included) on the 2-core AMX-BF16 Intel CPU in mixed_bfloat16. (Issue 37's first
    # run, float32 on the AMD VM: 10,000 steps at 0.62-0.74 s a step, 0.07 dB short on thick; README.)
    steps=11_000,
    params=383_756,                  # network.py's docstring
    # `python benchmarks/throughput.py --models=ffdnet_inpaint --precision=float32,mixed_bfloat16 --steps=15` on
    # the AMX CPU: 10.7 -> 23.5 crops/s in training (2.2x), 1.0 -> 2.1 megapixels/s in inference; where bfloat16
    # is not native (AMD AVX-512-BF16, AVX2) `precision.default_for` falls back to float32.
    precision="mixed_bfloat16",
))
