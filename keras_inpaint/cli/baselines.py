"""Score an inpainting model's baselines alone, before any model is trained (issue 37): the mean colour and the
classical methods (OpenCV Telea and Navier-Stokes, scikit-image biharmonic) on the holes its evaluation uses.

  python -m keras_inpaint.cli.baselines --model=lama_ffc          # CBSD68, LaMa thin / medium / thick masks
  python -m keras_inpaint.cli.baselines --model=lama_ffc --max_examples=5 --methods=telea --output=b.json

The images, masks (seeded by each photo's pixels), metrics and table are exactly those of
`python evaluate.py --saved_model=<a lama_ffc export>` (the model's column is "-"), so the numbers printed here
are the baseline columns a trained model will be printed beside. Needs the `[eval]` extra (`pip install -e
".[eval]"`). Also prints the time each method took per photo: wall seconds and the CPU seconds of the thread
that ran it (which a busy machine does not inflate).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from keras_inpaint import classical, data, evaluation, registry


def main(argv=None) -> int:
    """`python -m keras_inpaint.cli.baselines --model=ID [--dataset=...]`: the baselines' table (module docstring)."""
    p = argparse.ArgumentParser(description="Score a model's inpainting baselines (mean colour, OpenCV Telea and "
                                "Navier-Stokes, scikit-image biharmonic) on its evaluation images and masks, "
                                "without a model.")
    p.add_argument("--model", default="lama_ffc", help="registry id whose evaluation is reproduced (default "
                   "lama_ffc: CBSD68 at full size, LaMa thin / medium / thick masks)")
    p.add_argument("--dataset", default=None, help="tfds name or folder:PATH (default: the model's)")
    p.add_argument("--data_dir", default=None, help="tfds directory (default $TFDS_DATA_DIR)")
    p.add_argument("--split", default="test", choices=["test", "all"], help="as evaluate.py --split")
    p.add_argument("--methods", default=",".join(classical.METHODS),
                   help=f"classical methods, comma-separated, of {', '.join(classical.METHODS)}")
    p.add_argument("--max_examples", type=int, default=None, help="score only the first N images")
    p.add_argument("--output", default=None, help="write the results as JSON here")
    args = p.parse_args(argv)

    spec = registry.get(args.model)
    methods = tuple(m for m in args.methods.split(",") if m)
    try:
        task = spec.make_task(spec.image_shape, value_range=spec.value_range, **spec.task_options, classical=methods)
    except TypeError:
        sys.exit(f"error: {args.model} has no classical baselines (its task is {type(spec.task()).__name__})")
    except ValueError as e:
        sys.exit(f"error: {e}")
    if methods and not classical.available():
        sys.exit(f"error: {classical.INSTALL_HINT}")
    dataset = args.dataset or spec.default_dataset
    try:
        images = data.load_images(dataset, args.split, spec.image_shape[:2], spec.image_shape[2],
                                  data_dir=data.resolve_data_dir(args.data_dir), crop=spec.crop,
                                  max_examples=args.max_examples, test_ids=spec.test_ids)
        start = time.perf_counter()
        results = evaluation.evaluate(task, None, images, progress=sys.stdout.isatty())
    except (data.DatasetError, ValueError) as e:
        sys.exit(f"error: {e}")
    wall = time.perf_counter() - start
    n = results["num_images"]
    results.update({"model": args.model, "dataset": dataset, "split": args.split, "wall_seconds": round(wall, 1),
                    "seconds_per_image": {m: round(classical.SECONDS.get(m, 0.0) / n, 3) for m in methods},
                    "cpu_seconds_per_image": {m: round(classical.CPU_SECONDS.get(m, 0.0) / n, 3) for m in methods}})
    print(evaluation.format_table(results, task, title=f"baselines of {args.model} on {dataset} {args.split} "
                                                       f"split (no model)"))
    per = ", ".join(f"{m} {v:.2f} s ({results['cpu_seconds_per_image'][m]:.2f} CPU-s)"
                    for m, v in results["seconds_per_image"].items())
    print(f"\nWall time {wall:.0f} s for {n} images; per image and method, over the {len(task.eval_masks)} masks: "
          f"{per}")
    if args.output:
        with open(args.output, "w") as f:
            json.dump(results, f, indent=2)
        print(f"Wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
