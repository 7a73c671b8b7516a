"""Inpaint image files with an exported inpainter SavedModel (e.g. the latent-optimisation `lsgan` / `dcgan`).

  python -m keras_inpaint.cli.inpaint --prior=saved_models/lsgan/1 --images='photos/*.jpg' --mask=centre \\
      --output_dir=inpainted

Runs the SavedModel's `serving_default` (uint8 `images` + float32 `mask`, 1.0 = fill; SPEC §4) on image files:
  * `--images`: a file, a directory (searched recursively) or a glob. Each file is read with PIL, converted to
    RGB and fitted to the model's input size: an aligned CelebA image (178x218) gets the 108x108 face crop
    (SPEC §4), any other size its largest centred square, resized bicubically. A file PIL cannot read is
    reported on stderr and skipped; the others are written.
  * `--mask`: `centre` (the centre square of half the side: 32x32 of 64x64), `random` (each pixel missing with
    probability 0.2, seeded by `--seed`; R-BA's random mask) or a mask image file: white (>= 128) = fill, of
    exactly the model's input size (anything else is an error, never a silent resize; SPEC §2).
  * `--refiner` (optional): an exported `refinement_ae` SavedModel; its `serving_default` refines each
    completion and pastes the result into the same hole (seed 004 eq. 2.7).
  * Outputs in `--output_dir`: `<name>.png` (inpainted; known pixels are the fitted input's, bit-exact) and
    `<name>_masked.png` (the fitted input with the hole shown in grey), plus `z.npz` (the latent code of every
    image, when the model returns one).
Only TensorFlow, NumPy and PIL are used (no keras_inpaint code runs the model).
"""
from __future__ import annotations

import argparse
import glob
import os
import sys

import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
CELEBA_ALIGNED_SIZE = (178, 218)  # PIL (width, height)
FACE_CROP = 108


class MaskError(ValueError):
    """A mask file that is not usable (unreadable, wrong size)."""


def expand_images(pattern: str) -> list[str]:
    """Sorted image files named by `pattern`: a directory (recursive), a glob, or one file (any extension)."""
    if os.path.isdir(pattern):
        return sorted(os.path.join(r, f) for r, _, names in os.walk(pattern) for f in names
                      if f.lower().endswith(IMAGE_EXTENSIONS))
    files = sorted(glob.glob(pattern, recursive=True))
    if not files and os.path.exists(pattern):
        files = [pattern]
    return [f for f in files if os.path.isfile(f)]


def fit_image(image, size: tuple[int, int]) -> np.ndarray:
    """PIL image -> uint8 `[h, w, 3]` for `size = (h, w)`: CelebA face crop or largest centred crop, bicubic."""
    from PIL import Image

    image = image.convert("RGB")
    h, w = size
    if image.size == CELEBA_ALIGNED_SIZE:
        left, top = (image.size[0] - FACE_CROP) // 2, (image.size[1] - FACE_CROP) // 2
        image = image.crop((left, top, left + FACE_CROP, top + FACE_CROP))
    elif image.size != (w, h):
        iw, ih = image.size
        cw, ch = min(iw, ih * w // h), min(ih, iw * h // w)
        left, top = (iw - cw) // 2, (ih - ch) // 2
        image = image.crop((left, top, left + cw, top + ch))
    if image.size != (w, h):
        image = image.resize((w, h), Image.BICUBIC)
    return np.asarray(image, np.uint8)


def make_mask(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """float32 `[h, w, 1]` mask (1.0 = fill) for `--mask` `kind`: "centre", "random" or a mask image file.

    Raises:
      MaskError: the file cannot be read or is not exactly `size` (h, w).
    """
    h, w = size
    if kind == "centre":
        mask = np.zeros((h, w, 1), np.float32)
        mask[h // 4:h // 4 + h // 2, w // 4:w // 4 + w // 2] = 1.0
        return mask
    if kind == "random":
        return (rng.random((h, w, 1)) < 0.2).astype(np.float32)
    from PIL import Image

    try:
        with Image.open(kind) as f:
            a = np.asarray(f.convert("L"))
    except (OSError, ValueError) as e:
        raise MaskError(f"--mask={kind!r} is neither 'centre', 'random' nor a readable mask image ({e})") from None
    if a.shape != (h, w):
        raise MaskError(f"mask {kind!r} is {a.shape[1]}x{a.shape[0]} (WxH) but the model takes {w}x{h} images; "
                        "masks are never resized: give a mask of exactly that size (white >= 128 = fill)")
    return (a >= 128).astype(np.float32)[..., None]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m keras_inpaint.cli.inpaint", description=__doc__.splitlines()[0])
    p.add_argument("--prior", required=True, help="exported SavedModel directory, e.g. saved_models/lsgan/1")
    p.add_argument("--images", required=True, help="image file, directory or glob")
    p.add_argument("--mask", default="centre", help="centre | random | PATH to a mask image (white = fill)")
    p.add_argument("--output_dir", required=True)
    p.add_argument("--refiner", default=None, help="optional exported refinement_ae SavedModel directory")
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--seed", type=int, default=0, help="seed of --mask=random")
    args = p.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    from PIL import Image

    files = expand_images(args.images)
    if not files:
        print(f"error: no image files match --images={args.images!r}", file=sys.stderr)
        return 1
    try:
        model = tf.saved_model.load(args.prior)
        refiner = tf.saved_model.load(args.refiner).signatures["serving_default"] if args.refiner else None
    except (OSError, ValueError) as e:
        print(f"error: cannot load SavedModel {args.prior!r} / {args.refiner!r}: {e}", file=sys.stderr)
        return 1
    sig = model.signatures["serving_default"]
    inputs = sig.structured_input_signature[1]
    h, w = inputs["images"].shape[1], inputs["images"].shape[2]
    if h is None or w is None:
        print("error: this CLI needs a SavedModel with a fixed image size", file=sys.stderr)
        return 1
    rng = np.random.default_rng(args.seed)
    try:
        fixed_mask = None if args.mask == "random" else make_mask(args.mask, (h, w), rng)
    except MaskError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    loaded, names, failed = [], [], 0
    for f in files:
        try:
            with Image.open(f) as im:
                loaded.append(fit_image(im, (h, w)))
            names.append(os.path.splitext(os.path.basename(f))[0])
        except (OSError, ValueError, SyntaxError) as e:  # PIL: UnidentifiedImageError, truncated files, ...
            failed += 1
            print(f"skipped {f}: not a readable image ({type(e).__name__}: {e})", file=sys.stderr)
    if not loaded:
        print("error: none of the images could be read", file=sys.stderr)
        return 1
    os.makedirs(args.output_dir, exist_ok=True)
    latents = {}
    for start in range(0, len(loaded), args.batch_size):
        batch = np.stack(loaded[start:start + args.batch_size])
        masks = np.stack([fixed_mask if fixed_mask is not None else make_mask("random", (h, w), rng)
                          for _ in batch])
        feed = {"images": tf.constant(batch)}
        if "mask" in inputs:
            feed["mask"] = tf.constant(masks)
        out = sig(**feed)
        result = out["images"].numpy()
        if refiner is not None:
            result = refiner(images=tf.constant(result), mask=tf.constant(masks))["images"].numpy()
        for i, name in enumerate(names[start:start + args.batch_size]):
            Image.fromarray(result[i]).save(os.path.join(args.output_dir, f"{name}.png"))
            shown = np.where(masks[i] > 0.5, np.uint8(128), batch[i])
            Image.fromarray(shown).save(os.path.join(args.output_dir, f"{name}_masked.png"))
            if "z" in out:
                latents[name] = out["z"].numpy()[i]
    if latents:
        np.savez(os.path.join(args.output_dir, "z.npz"), **latents)
    print(f"wrote {len(loaded)} inpainted image(s) to {args.output_dir}" + (f"; skipped {failed}" if failed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
