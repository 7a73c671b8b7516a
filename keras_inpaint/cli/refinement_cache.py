"""Build the refinement autoencoder's training cache: latent z-search completions of training faces by a
trained lsgan/dcgan run (seed 004 §2.2.4; `refinement_ae --refinement_cache=PATH`).

  python -m keras_inpaint.cli.refinement_cache --run_dir=runs/lsgan-RUN --cache=refine_cache.npz
"""
from __future__ import annotations

import argparse
import sys

from keras_inpaint import data, latent_inpainting
from keras_inpaint.training import checkpoints


def main(argv=None) -> int:
    """`python -m keras_inpaint.cli.refinement_cache --run_dir=RUN --cache=PATH`: builds the refinement cache."""
    p = argparse.ArgumentParser(description=latent_inpainting.build_refinement_cache.__doc__.splitlines()[0])
    p.add_argument("--run_dir", required=True, help="a trained lsgan/dcgan run directory (train.py)")
    p.add_argument("--cache", required=True, help="output .npz")
    p.add_argument("--num_images", type=int, default=latent_inpainting.CACHE_IMAGES, help="first N training images")
    p.add_argument("--iterations", type=int, default=latent_inpainting.CACHE_ITERATIONS, help="Adam steps on z (reduced)")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    run = checkpoints.load_run(args.run_dir)
    config, spec, task = run.config, run.spec, run.task
    if not task.latent_search:
        raise SystemExit(f"error: {args.run_dir} is a {spec.id} run, not a z-search prior (lsgan, dcgan)")
    inpainter = task.inpainter(checkpoints.inference_network(run.model))
    images = data.load_images(config.data.dataset, "train", spec.image_shape[:2], spec.image_shape[2],
                              data_dir=config.data.data_dir, crop=spec.crop, max_examples=args.num_images)
    path = latent_inpainting.build_refinement_cache(inpainter, images, args.cache, iterations=args.iterations,
                                  batch_size=args.batch_size, hole=task.hole, seed=args.seed)
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
