"""Tasks: how a model id turns clean images into training pairs, restores images, is scored and is served.

`Task` (base.py) is the protocol with its declared capabilities; the implementations are split by family:
inpainting.py (centre hole, arbitrary masks, photos), restoration.py (denoising, white-box removal), gaussian_denoising.py
(photo denoising, FFDNet), super_resolution.py (seed 003's x3 SR and the LR-space photo super-resolvers, IMDN),
latent.py (z-search priors, refinement). Everything is re-exported here, so `tasks.MaskedInpainting` and
`tasks.content_seed` name the one definition.
"""
from keras_inpaint.tasks.base import (EVAL_SEED, Task, check_mask, check_range, content_seed,
                                      image_and_mask_specs, rows_grid, run_padded)
from keras_inpaint.tasks.gaussian_denoising import GaussianDenoising
from keras_inpaint.tasks.inpainting import (EVAL_PRESETS, MASK_EVAL_SEED, MASK_KINDS, MASK_MIXTURES, MIXED_MASKS,
                                            CentreHoleInpainting, MaskedInpainting, PhotoInpainting, make_mask)
from keras_inpaint.tasks.latent import LATENT_SEED, Refinement, UnconditionalGeneration
from keras_inpaint.tasks.restoration import CORRUPTIONS, Denoising, WhiteBoxRestoration
from keras_inpaint.tasks.super_resolution import PhotoSuperResolution, SuperResolution

__all__ = ["CORRUPTIONS", "EVAL_PRESETS", "EVAL_SEED", "LATENT_SEED", "MASK_EVAL_SEED", "MASK_KINDS", "MASK_MIXTURES",
           "MIXED_MASKS", "CentreHoleInpainting", "Denoising", "GaussianDenoising", "MaskedInpainting",
           "PhotoInpainting", "PhotoSuperResolution", "Refinement", "SuperResolution", "Task",
           "UnconditionalGeneration", "WhiteBoxRestoration", "check_mask", "check_range", "content_seed",
           "image_and_mask_specs", "make_mask", "rows_grid", "run_padded"]
