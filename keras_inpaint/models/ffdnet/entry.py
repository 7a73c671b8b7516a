"""Registry entries of photo denoising (issue 31): trained on random patches of natural photos, scored on whole photos."""
from __future__ import annotations

from keras_inpaint import tasks
from keras_inpaint.model_spec import PHOTOS, ModelSpec, register
from keras_inpaint.models.ffdnet import network as ffdnet

register(ModelSpec(
    id="ffdnet",
    paper="FFDNet (Zhang, Zuo, Zhang, IEEE TIP 2018, §III-A, §IV-A: colour model, 12 layers of 96 channels, "
          "noise level map input, sigma in [0, 75])",
    description="remove white Gaussian noise of a given level (sigma 0-75) from colour photos of any size",
    build_network=ffdnet.build_ffdnet,
    make_task=tasks.GaussianDenoising,
    image_shape=(50, 50, 3),         # FFDNet §IV-A: 50x50 colour training patches
    value_range=(0.0, 1.0),
    default_dataset=PHOTOS,          # BSDS500 train/ (the paper adds ImageNet and Waterloo photos; not offline)
    # self_ensemble (task option; EDSR's geometric self-ensemble, `tasks.base.run_self_ensemble`): off by default,
    # so serving_default and predict.py run one pass (8x faster: the 4000x3000 bound of issue 31); on with
    # evaluate.py --self_ensemble (README "Photo denoising")
    task_options={"self_ensemble": False},
    crop="patches",
    patches_per_photo=64,            # 12,800 patches per pass over the 200 photos (200 batches of 64)
    test_ids="cbsd68_ids.txt",       # CBSD68: 68 of BSDS500's val/ photos
    # FFDNet §IV-A: mini-batch 128. Proposal: 64, for twice the iterations in the CPU budget (measured: the
    # untrained network sits at the noisy input's error for the first ~200 iterations whatever the batch size)
    batch_size=64,
    learning_rate=1e-3,              # FFDNet §IV-A: Adam, 1e-3, then 1e-4 when the training error stops falling
    # proposal: 1e-4 from 60% of the stated schedule, 1e-5 for its last 10% (the paper ends with a smaller rate too)
    lr_drops=((0.6, 0.1), (0.9, 0.01)),
    # BatchNorm statistics re-estimated on 200 batches (12,800 patches) of the final weights: the moving averages
    # lag by several dB here (training/batchnorm.py)
    bn_reestimation=200,
    # stated CPU schedule (issue 31): 13,000 x 64 = 0.83 M patches, ~1.5 h at the ~155 patches/s measured on the
    # 2-core AMX-BF16 CPU (mixed_bfloat16): one session, because a run directory does not outlive its machine
    # (two multi-session runs were lost with theirs). Longer training continues from an export with
    # `--init_from` (a warm restart of the same schedule). The paper trains far longer on ~5,500 photos. Earlier
    # schedules on CBSD68 (sigma 15 / 25 / 50, re-estimated BatchNorm statistics, one pass in bfloat16): 9,000
    # iterations 32.66 / 30.17 / 26.93 dB; 24,000 (its learning rate back at 1e-3 from 9,000 to 18,000)
    # 33.07 / 30.51 / 27.31 dB, short of CBM3D's 33.52 / 30.71 / 27.38 (README "Photo denoising").
    steps=13_000,
    params=856_716,                  # network.py's docstring: 13,056 + 10 x 83,328 + 10,380
    loss="mse",                      # FFDNet eq. (3): L2 between the output and the clean patch
    # issue 31 (AMX-BF16 CPU, train step on one batch of 128 50x50 patches): 79.4 vs 25.0 patches/s (3.2x)
    precision="mixed_bfloat16",
))
