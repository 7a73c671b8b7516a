"""Test-set evaluation with baselines (SPEC §3): averages a task's per-image metrics and prints the table."""
from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from keras_inpaint import artifact, corruptions, data, exporting, metrics, registry


def evaluate(task, network, images: tf.data.Dataset, batch_size: int = 256, progress: bool = False,
             cache: dict | None = None) -> dict[str, float]:
    """Averages `task.evaluate_batch` over every image of `images` (uint8 `[H, W, C]` elements).

    `progress=True` shows a bar of the images scored (`keras.utils.Progbar`: count, images/s and ETA when the
    dataset's size is known); callers pass `sys.stdout.isatty()` so log files get no bar (issue 15). `cache`: a
    run's traced evaluation steps (`evaluation_step`), shared with its per-epoch validation.

    Returns:
      {metric: mean over images} for the model and the task's baseline (keys prefixed `baseline_`), plus
      `num_images`. Inpainting tasks (whose metrics include `mask_area`) also get `area_bins`: {"0-10%", ...,
      "50%+": {metric: mean over the images whose hole covers that fraction of the image, "num_images"}}
      (issue 13), bins without images left out. A task that scores several masks per image returns one
      `mask_area_<suffix>` per mask and its metrics ending in `_<suffix>`; each gets `area_bins_<suffix>` (issue 37).
    Raises:
      ValueError: if `images` is empty.
    """
    if images.element_spec.shape[0] is None:   # photos of different sizes (photo models): one at a time
        batch_size = 1
    step = evaluation_step(task, network, images.element_spec.shape, cache)
    sums: dict[str, float] = {}
    bins: dict[tuple[str, int], dict[str, float]] = {}   # (suffix of the mask_area key, bin) -> sums
    count = 0
    bar = None
    if progress:
        import keras

        size = int(images.cardinality())
        bar = keras.utils.Progbar(size if size > 0 else None, unit_name="image", stateless_metrics=())
    for batch in images.batch(batch_size).prefetch(tf.data.AUTOTUNE):
        values = step(batch)
        for k, v in values.items():
            sums[k] = sums.get(k, 0.0) + float(tf.reduce_sum(tf.cast(v, tf.float64)))
        for area_key in [k for k in values if k == "mask_area" or k.startswith("mask_area_")]:
            suffix = area_key[len("mask_area"):]
            index = corruptions.mask_area_bin(values[area_key][:, None, None, None]).numpy()
            for b in np.unique(index):
                row = bins.setdefault((suffix, int(b)), {"num_images": 0})
                row["num_images"] += int(np.sum(index == b))
                for k, v in values.items():
                    if k.endswith(suffix):
                        row[k] = row.get(k, 0.0) + float(np.sum(np.asarray(v, np.float64)[index == b]))
        count += int(batch.shape[0])
        if bar is not None:
            bar.update(count)
    if bar is not None and bar.target is None:
        bar.update(count, finalize=True)
    if count == 0:
        raise ValueError("evaluation set is empty: no readable image (the split has none, or every file failed to "
                         "decode: not an image, truncated or empty)")
    out = {k: v / count for k, v in sums.items()}
    out["num_images"] = count
    for (suffix, b), row in sorted(bins.items()):
        out.setdefault(f"area_bins{suffix}", {})[_bin_name(b)] = {
            k: (v if k == "num_images" else v / row["num_images"]) for k, v in row.items()}
    return out


def evaluation_step(task, network, image_shape, cache: dict | None = None
                    ) -> tf.types.experimental.PolymorphicFunction:
    """`task.evaluate_batch(network, images)` as one `tf.function` for uint8 images `[any N, H, W, C]` (H, W:
    those of `image_shape`, any size where it has None), traced once for every batch size.

    With a `cache` (a run's `Run.eval_steps`), the step is kept there per task, network and image size and
    shared by every caller: a run's per-epoch validation metrics (`training.callbacks.ImageMetricsCallback`) and
    its test evaluation of images of the training size trace it once, not once each (tracing a task's metrics and
    baselines costs seconds), and whole photos of every size (a photo model's test split and benchmark folders)
    share one trace. The cache lives as long as its owner (the run), not the process.

    Args:
      task: a `keras_inpaint.tasks` object. network: the inference network (a Keras model or an export's
        `artifact.SavedModelNetwork`; None: the task's baselines alone, where the task allows it).
      image_shape: `[H, W, C]` or `[N, H, W, C]` of the images it will score (`tf.data` element shape or tensor
        shape; H, W None for photos of any size).
      cache: a dict to keep and share the step in (None: a new step each call).
    """
    shape = (None, *list(image_shape)[-3:])
    key = (id(task), id(network), shape)
    if cache is None or key not in cache:
        step = tf.function(lambda x: task.evaluate_batch(network, x), input_signature=[tf.TensorSpec(shape, tf.uint8)],
                           autograph=False)   # explicit tf.while_loop / tf.cond only (as exports are traced)
        if cache is None:
            return step
        cache[key] = (task, network, step)    # task and network kept with it, so their ids are not reused
    return cache[key][2]


def _bin_name(index: int) -> str:
    edges = [int(round(100 * e)) for e in corruptions.MASK_AREA_BINS]
    return f"{edges[index]}%+" if index == len(edges) - 1 else f"{edges[index]}-{edges[index + 1]}%"


def evaluate_saved_model(path: str, dataset: str | None = None, split: str = "test", *, data_dir: str | None = None,
                         task_options: dict | None = None, benchmarks=None, max_examples: int | None = None,
                         prior: str | None = None, verbose: bool = True, progress: bool = False) -> dict:
    """Scores an export (`saved_models/<model>/<N>`) with the protocol of a run's own test evaluation.

    The SavedModel is loaded with `tf.saved_model.load` alone (no checkpoint, no run directory); its model
    card names the model id, dataset and task options. The task (corruptions, fixed seeds, metrics, baseline)
    is the same object a run evaluates with, and it calls the export's `network` signature
    (`artifact.SavedModelNetwork`), so a run's `metrics.json` and this agree to rounding.

    Args:
      path: SavedModel directory written by `export.py` / `train.py`.
      dataset: tfds name or `folder:PATH` (default: the card's dataset).
      split: 'test' (the held-back split, as a run evaluates) or 'all' (every image; for folders no hash split,
        so any folder of one's own images can be scored; for tfds every split).
      data_dir: tfds directory (default `$TFDS_DATA_DIR`).
      task_options: overrides of the card's task options (e.g. {"mask": "random_box"}).
      benchmarks: folders of whole images scored at full size (any-size models only), `PATH` or `NAME=PATH`
        (e.g. `B100=../shared/data/photos/bsds500/val`); None = none (evaluate.py passes the model's defaults,
        `ModelSpec.default_benchmarks`, when `--benchmarks` is not given).
      max_examples: score only the first N images.
      prior: `refinement_ae` only: an exported `lsgan`/`dcgan` SavedModel whose z-search completions the refiner
        is scored on (`tasks.Refinement.on_prior`, seed 004 Table 3.2; baseline: the unrefined completions).
      verbose: print the table(s). progress: show a progress bar of the images scored (a terminal).
    Returns:
      {metric: mean} for the model and the baseline (`baseline_` keys), `num_images`, `dataset`, `split`,
      `saved_model`, and `benchmarks: {folder: metrics}` when given.
    Raises:
      FileNotFoundError: not a keras_inpaint SavedModel. ValueError: unknown split, option or id.
      data.DatasetError: dataset missing or empty.
    """
    if split not in ("test", "all"):
        raise ValueError(f"--split must be 'test' or 'all', got {split!r}")
    card = artifact.load_model_card(path)
    spec = registry.get(card["id"])
    task = exporting.card_task(card, task_options)
    if prior:
        if not task.refines_prior:
            raise ValueError(f"--prior scores a refinement_ae export on a prior's completions; {path} is a "
                             f"{spec.id} export")
        prior_card = artifact.load_model_card(prior)
        prior_task = exporting.card_task(prior_card)
        task = task.on_prior(prior_task, artifact.SavedModelNetwork(tf.saved_model.load(prior), prior_card))
    network = artifact.SavedModelNetwork(tf.saved_model.load(path), card)
    dataset = dataset or card["dataset"]
    images = data.load_images(dataset, split, spec.image_shape[:2], spec.image_shape[2],
                              data_dir=data.resolve_data_dir(data_dir), crop=spec.crop, max_examples=max_examples,
                              test_ids=spec.test_ids)
    steps = {}                                      # the test split and the benchmark folders share a trace
    results = evaluate(task, network, images, progress=progress, cache=steps)
    results.update({"dataset": dataset, "split": split, "saved_model": os.path.abspath(path),
                    "steps": card.get("steps"), "precision": card.get("precision")})
    if prior:
        results["prior"] = os.path.abspath(prior)
    tables = [format_table(results, task, title=f"{spec.id} ({path}) on {dataset} {split} split")]
    if benchmarks and not task.any_size:
        raise ValueError(f"--benchmarks scores whole images of any size; {spec.id!r} takes fixed "
                         f"{spec.image_shape[0]}x{spec.image_shape[1]} images")
    tables += evaluate_benchmarks(task, network, benchmarks, spec.image_shape[-1], spec.id, results, steps)
    if verbose:
        if task.refines_prior and not prior:
            tables.append(f"{spec.id} refines a z-search prior's completions; this is its cheap training check. "
                          "Score it for that purpose with --prior=saved_models/lsgan/1 (seed 004 Table 3.2).")
        print("\n\n".join(tables))
    return results


def evaluate_benchmarks(task, network, folders, channels: int, model_id: str, results: dict,
                        cache: dict | None = None) -> list[str]:
    """Scores every folder of whole benchmark images (e.g. Set5, Set14; entries `PATH` or `NAME=PATH`,
    `data.benchmark_folder`) at full size, batch 1, adding `results["benchmarks"][name] = metrics`; returns one
    printed table per folder. `cache`: as `evaluate`'s."""
    tables = []
    for entry in folders or []:
        name, folder = data.benchmark_folder(entry)
        scores = evaluate(task, network, data.load_benchmark_images(folder, channels), batch_size=1, cache=cache)
        results.setdefault("benchmarks", {})[name] = scores
        tables.append(format_table(scores, task, title=f"{model_id} on {name} (whole images)"))
    return tables


def format_table(results: dict[str, float], task, title: str = "test set") -> str:
    """A small text table: one row per reported metric, model vs the task's baseline (and its
    `extra_baselines`, one column each); "-" where a value is missing (e.g. baselines scored alone). Below it,
    PSNR after paste-back per hole-area bin for each `area_bins*` group with more than one bin."""
    extras = list(task.extra_baselines)
    prefixes = ["", "baseline_"] + [f"baseline_{name}_" for name, _ in extras]
    width = max([44] + [len(label) for _, label in task.report])
    rows = [f"{title}: {results.get('num_images', '?')} images; baseline = {task.baseline_name}"
            + "".join(f"; {name} = {label}" for name, label in extras),
            f"{'metric':<{width}} {'model':>10} {'baseline':>10}" + "".join(f" {name[:13]:>13}" for name, _ in extras)]

    def cell(value, w, digits=4):
        return f"{value:>{w}.{digits}f}" if value is not None else f"{'-':>{w}}"

    for key, label in task.report:
        values = [results.get(p + key) for p in prefixes]
        if any(v is not None for v in values):
            rows.append(f"{label:<{width}} {cell(values[0], 10)} {cell(values[1], 10)}"
                        + "".join(f" {cell(v, 13)}" for v in values[2:]))
    for group in sorted(k for k in results if k.startswith("area_bins")):
        if len(results[group]) < 2:
            continue
        suffix = group[len("area_bins"):]
        names = " / ".join(["model", "baseline"] + [name for name, _ in extras])
        rows.append(f"by hole area{' (' + suffix[1:] + ')' if suffix else ''}, mean hole fraction: PSNR after "
                    f"paste-back (dB), {names}")
        for name, row in results[group].items():
            psnrs = " / ".join("-" if row.get(f"{p}psnr{suffix}") is None else f"{row[f'{p}psnr{suffix}']:.2f}"
                               for p in prefixes)
            rows.append(f"  {name:<10} {row['num_images']:>6} images {row[f'mask_area{suffix}']:>8.3f}   {psnrs}")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------------------
# Exports of one model compared on the same corruptions (e.g. seed 002: plain vs denoising autoencoder, issue 33).
# ---------------------------------------------------------------------------------------------------------
def compare_saved_models(exports: dict[str, str], dataset: str | None = None, *, data_dir: str | None = None,
                         max_examples: int | None = None, grid_images: int = 0
                         ) -> tuple[dict[str, dict], np.ndarray | None]:
    """Scores several exports of one model id with `evaluate_saved_model` (each prints its own table, the same
    numbers as `evaluate.py`) and puts their outputs side by side on the same corrupted test images.

    The corruptions are seeded by the pixels (`tasks.content_seed`), so every export sees the same noise or
    box, and the baselines agree; the exports may differ in training-only options (e.g. `train_noise`).

    Args:
      exports: {column name: SavedModel directory}, all of the same model id and task corruption.
      dataset, data_dir, max_examples: as `evaluate_saved_model` (default dataset: the first card's).
      grid_images: if > 0, also a uint8 grid `[n*H, (2 + len(exports))*W, C]` of the first n test images:
        corrupted input | each export's output | original (each task's `grid` is input | output | original).
    Returns:
      ({name: evaluate_saved_model results}, grid or None).
    Raises:
      ValueError: no export, exports of different models, or baselines that differ (different corruptions).
    """
    if not exports:
        raise ValueError("no export to compare")
    cards = {name: artifact.load_model_card(path) for name, path in exports.items()}
    ids = {card["id"] for card in cards.values()}
    if len(ids) != 1:
        raise ValueError(f"compare exports of one model id, got {sorted(ids)}")
    results = {name: evaluate_saved_model(path, dataset, data_dir=data_dir, max_examples=max_examples)
               for name, path in exports.items()}
    first = next(iter(results.values()))
    for name, r in results.items():
        base = {k: v for k, v in r.items() if k.startswith("baseline_")}
        if any(abs(v - first[k]) > 1e-6 for k, v in base.items()) or base.keys() != \
                {k for k in first if k.startswith("baseline_")}:
            raise ValueError(f"{name}: its baseline differs from {next(iter(results))}'s: not the same corruption")
    grid = None
    if grid_images > 0:
        spec = registry.get(ids.pop())
        images = data.load_images(first["dataset"], "test", spec.image_shape[:2], spec.image_shape[2],
                                  data_dir=data.resolve_data_dir(data_dir), crop=spec.crop,
                                  max_examples=grid_images, test_ids=spec.test_ids)
        batch = next(iter(images.batch(grid_images)))
        grids = [exporting.card_task(cards[name]).grid(
            artifact.SavedModelNetwork(tf.saved_model.load(path), cards[name]), batch)[0].numpy()
            for name, path in exports.items()]
        w = spec.image_shape[1]
        for name, g in zip(exports, grids):   # same input and original columns: the same corruption
            if not (np.array_equal(g[:, :w], grids[0][:, :w]) and np.array_equal(g[:, -w:], grids[0][:, -w:])):
                raise ValueError(f"{name}: its grid's input or original column differs from the first export's")
        grid = np.concatenate([grids[0][:, :w]] + [g[:, w:-w] for g in grids] + [grids[0][:, -w:]], axis=1)
    return results, grid


def format_saved_model_comparison(results: dict[str, dict], task, title: str) -> str:
    """Markdown table: one row per metric of `task.report`, one column per export, the baseline last (best model
    value in bold: higher is better for every PSNR / SSIM)."""
    names = list(results)
    lines = [title, "", "| metric | " + " | ".join(names) + f" | {task.baseline_name} |",
             "|---|" + "---|" * (len(names) + 1)]
    for key, label in task.report:
        values = [results[n][key] for n in names]
        best = max(values)
        digits = 3 if "ssim" in key else 2
        cells = [f"**{v:.{digits}f}**" if v == best and len(values) > 1 else f"{v:.{digits}f}" for v in values]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {results[names[0]][f'baseline_{key}']:.{digits}f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Face-inpainter comparison in the layout of seed 004 Table 3.2 (issue 5): several methods, same images and masks.
# ---------------------------------------------------------------------------------------------------------
COMPARISON_REPORT = (("ssim", "SSIM"), ("psnr", "PSNR (dB)"), ("hole_psnr", "hole PSNR (dB)"))


def compare_inpainters(methods: dict, images: tf.data.Dataset, hole: int, batch_size: int = 64,
                       grid_images: int = 0) -> tuple[dict[str, dict[str, float]], np.ndarray | None]:
    """Scores inpainting methods on the same images and centre holes (seed 004 Table 3.2 layout, SPEC §3).

    Args:
      methods: {name: fn(uint8 images `[N, H, W, C]`, float32 mask `[N, H, W, 1]`, batch index) -> uint8 images
        with the hole filled and known pixels kept} or -> {name: uint8 images} for a function that yields
        several rows at once (e.g. a latent search scored before and after refinement).
      images: `tf.data.Dataset` of uint8 `[H, W, C]` test images (e.g. held-back faces).
      hole: side of the centre square hole in pixels (SPEC §2: mask 1.0 = missing).
      grid_images: if > 0, also returns a uint8 grid `[n*H, (2 + rows)*W, C]` of the first n images: masked
        input | each method | original.
    Returns:
      ({row name: {"psnr", "ssim", "hole_psnr", "hole_l1", "hole_l2", "num_images"}}, grid or None). The mean-
      colour baseline is always the last row.
    Raises:
      ValueError: `images` is empty.
    """
    sums: dict[str, dict[str, float]] = {}
    count, grid_rows = 0, []
    for i, batch in enumerate(images.batch(batch_size)):
        n, h, w = batch.shape[:3]
        mask = corruptions.centre_mask(n, h, w, hole)
        target = tf.cast(batch, tf.float32) / 255.0
        outputs = {}
        for name, fn in methods.items():
            out = fn(batch, mask, i)
            outputs.update(out if isinstance(out, dict) else {name: out})
        outputs["mean colour (baseline)"] = metrics.quantize(corruptions.mean_colour_fill(target, mask)) * 255.0
        for name, restored in outputs.items():
            values = metrics.inpainting_metrics(tf.cast(restored, tf.float32) / 255.0, target, mask)
            row = sums.setdefault(name, {})
            for k, v in values.items():
                row[k] = row.get(k, 0.0) + float(tf.reduce_sum(tf.cast(v, tf.float64)))
        if len(grid_rows) < grid_images:
            masked = tf.cast(batch, tf.float32) * (1.0 - mask) + 127.0 * mask
            cols = [masked] + [tf.cast(o, tf.float32) for o in outputs.values()] + [tf.cast(batch, tf.float32)]
            grid_rows.extend(np.concatenate([c.numpy().astype(np.uint8) for c in cols], axis=2)[:grid_images
                                                                                                 - len(grid_rows)])
        count += int(n)
        print(f"  compared {count} images", flush=True)
    if count == 0:
        raise ValueError("comparison set is empty")
    results = {name: {**{k: v / count for k, v in row.items()}, "num_images": count} for name, row in sums.items()}
    return results, (np.concatenate(grid_rows, axis=0) if grid_rows else None)


def format_comparison(results: dict[str, dict[str, float]], title: str) -> str:
    """Markdown table: one row per method, columns SSIM, PSNR, hole PSNR (seed 004 Table 3.2 layout)."""
    lines = [title, "", "| method | " + " | ".join(label for _, label in COMPARISON_REPORT) + " |",
             "|---|" + "---|" * len(COMPARISON_REPORT)]
    for name, row in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[k]:.4f}" if k == "ssim" else f"{row[k]:.2f}"
                                                  for k, _ in COMPARISON_REPORT) + " |")
    return "\n".join(lines)
