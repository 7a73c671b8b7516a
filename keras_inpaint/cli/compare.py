"""Compare face inpainters trained in run directories on the same held-back faces and centre hole (seed 004
Table 3.2 layout): latent z-search priors (lsgan, dcgan), with or without the refinement autoencoder, and
conditional inpainters (dcgan_inpaint, free_form_inpaint).

  python -m keras_inpaint.cli.compare --runs=runs/lsgan-RUN,runs/dcgan_inpaint-RUN \\
      [--refinement_run=runs/refinement_ae-RUN] [--num_images=N] [--output=table.json] [--grid=grid.png]

With --saved_models instead: exports of one model side by side on the same corruptions, each scored as
`evaluate.py` scores it, in one table and one grid (corrupted input | each export | original), e.g. seed 002's
plain autoencoder against the denoising one (README "Results: denoising_ae_fashion"):

  python -m keras_inpaint.cli.compare --saved_models="plain AE=EXPORT_A,denoising AE=EXPORT_B" \\
      --dataset=fashion_mnist --data_dir=../shared/data/tensorflow_datasets --grid=grid.png --grid_scale=3
"""
from __future__ import annotations

import argparse
import json

import tensorflow as tf

from keras_inpaint import artifact, data, evaluation, exporting, tasks
from keras_inpaint.data import to_uint8
from keras_inpaint.training import callbacks, checkpoints


def main(argv=None) -> int:
    """`python -m keras_inpaint.cli.compare --runs=RUN[,RUN...] [--refinement_run=RUN]`: Table 3.2 comparison;
    `--saved_models=[NAME=]PATH,...`: exports of one model on the same corruptions."""

    p = argparse.ArgumentParser(description="Compare trained face inpainters on the same held-back faces and "
                                "centre holes (seed 004 Table 3.2 layout): SSIM, PSNR and hole PSNR after paste-back, "
                                "next to the mean-colour baseline; or (--saved_models) exports of one model on the "
                                "same corrupted test images, next to the task's baseline.")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--runs", help="comma-separated run directories of lsgan, dcgan (latent "
                       "z-search inpainters) and/or dcgan_inpaint")
    which.add_argument("--saved_models", help="comma-separated exports of one model, each NAME=PATH or PATH "
                       "(e.g. 'plain AE=A,denoising AE=B'): scored on the same corruptions, outputs side by side")
    p.add_argument("--dataset", default=None, help="--saved_models: tfds name or folder:PATH (default: the "
                   "first card's)")
    p.add_argument("--data_dir", default=None, help="--saved_models: tfds directory (default $TFDS_DATA_DIR)")
    p.add_argument("--grid_images", type=int, default=8, help="--saved_models: test images in the grid")
    p.add_argument("--grid_scale", type=int, default=1, help="upscale the grid PNG by this factor (nearest)")
    p.add_argument("--refinement_run", default=None, help="a refinement_ae run directory: adds a '+ refinement' "
                   "row for each latent inpainter (same search, refined output pasted into the hole)")
    p.add_argument("--iterations", type=int, default=None, help="z-search Adam steps (default: each run's "
                   "eval_iterations, 100)")
    p.add_argument("--num_images", type=int, default=None, help="first N held-back faces (default: all)")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--output", default=None, help="write the results as JSON here")
    p.add_argument("--grid", default=None, help="write a PNG grid here (--runs: the first 6 faces; "
                   "--saved_models: the first --grid_images test images)")
    args = p.parse_args(argv)
    if args.saved_models:
        return _compare_saved_models(args)

    refiner = None
    if args.refinement_run:
        run = checkpoints.load_run(args.refinement_run)
        if run.spec.id != "refinement_ae":
            raise SystemExit(f"error: {args.refinement_run} is a {run.spec.id} run")
        refiner = checkpoints.inference_network(run.model)
    methods, first, hole = {}, None, None
    for run_dir in args.runs.split(","):
        run = checkpoints.load_run(run_dir)
        config, task, network = run.config, run.task, checkpoints.inference_network(run.model)
        first = first or run
        if task.latent_search:
            inpainter = task.inpainter(network, refiner=refiner)
            iterations = args.iterations or task.eval_iterations
            name = f"{config.task.model} + z-search ({iterations} it.)"

            def latent(images, mask, i, inpainter=inpainter, iterations=iterations, name=name):
                # the z start the task's own evaluation uses (seeded by the pixels, so every row sees the same z)
                r = inpainter.complete(images, mask, tasks.content_seed(images, tasks.LATENT_SEED), iterations)
                if "images_unrefined" not in r:
                    return r["images"]
                return {name: r["images_unrefined"], f"{name} + refinement": r["images"]}

            methods[name] = tf.function(latent)
        elif task.family == "inpainting" and task.takes_mask:
            def conditional(images, mask, i, task=task, network=network):
                return to_uint8(task.restore(network, images, mask=mask)["restored"], task.value_range)

            methods[config.task.model] = tf.function(conditional)
        else:
            raise SystemExit(f"error: {run_dir} is a {config.task.model} run, not a face inpainter "
                             "(lsgan, dcgan or dcgan_inpaint)")
        hole = hole or task.hole
    spec, first = first.spec, first.config
    images = data.load_images(first.data.dataset, "test", spec.image_shape[:2], spec.image_shape[2],
                              data_dir=first.data.data_dir, crop=spec.crop, max_examples=args.num_images)
    results, grid = evaluation.compare_inpainters(methods, images, hole, args.batch_size,
                                                  grid_images=6 if args.grid else 0)
    n = next(iter(results.values()))["num_images"]
    title = f"{n} held-back faces of {first.data.dataset}, centre {hole}x{hole} hole"
    print(evaluation.format_comparison(results, title))
    return _write(args, results, grid, "masked")


def _compare_saved_models(args) -> int:
    """--saved_models: `evaluation.compare_saved_models` (each export's evaluate.py table, then one table with
    a column per export, and the grid)."""
    exports = {}
    for item in args.saved_models.split(","):
        name, _, path = item.rpartition("=")
        exports[name or path] = path
    try:
        results, grid = evaluation.compare_saved_models(
            exports, args.dataset, data_dir=args.data_dir, max_examples=args.num_images,
            grid_images=args.grid_images if args.grid else 0)
    except (data.DatasetError, FileNotFoundError, ValueError) as e:
        raise SystemExit(f"error: {e}") from None
    first = next(iter(results.values()))
    task = exporting.card_task(artifact.load_model_card(next(iter(exports.values()))))
    print("\n" + evaluation.format_saved_model_comparison(
        results, task, f"{first['num_images']} {first['dataset']} {first['split']} images"))
    return _write(args, results, grid, "corrupted input")


def _write(args, results: dict, grid, first_column: str) -> int:
    """Writes `--output` (the results as JSON) and `--grid` (uint8 grid PNG, `first_column` | each method |
    original) where asked; returns the exit status 0."""
    if args.output:
        with open(args.output, "w") as f:
            json.dump(results, f, indent=2)
    if args.grid is not None and grid is not None:
        callbacks.save_png(grid, args.grid, scale=args.grid_scale)
        print(f"Wrote {args.grid} ({first_column} | {' | '.join(results)} | original)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
