"""Run an exported model on image files of any size (issue 13): masks, crops, tiles, paste-back.

`Predictor` wraps one export (`saved_models/<model>/<N>`), loaded with `tf.saved_model.load` through
`keras_inpaint.artifact`, and reads what it needs from the export itself, never from the registry or a model
module (issue 35; a test blocks their import): the `serving_default` signature says whether the model takes a mask
(or a noise level) and whether its input size is fixed; the model card's serving fields (`artifact.SERVING_FIELDS`)
give its SR scale, size multiple and hole. How a photo of another size is handled depends on the kind of model:

  * fully convolutional inpainters (`free_form_inpaint`, `lama_ffc`): photos whose longer side is at most
    `crop_trigger` (800 px) run whole, in one pass. Larger photos take IOPaint's "crop" strategy (its
    `hd_strategy=CROP`, trigger 800, margin 128): the hole's connected groups of pixels (8-connected components,
    `skimage.measure.label`) get each a crop of the photo around their bounding box, `crop_margin` (128) pixels
    wider on every side (clipped at the photo's border); components whose crops overlap (or come within 8-16
    pixels of each other: crops are merged on a grid of 8-pixel cells) share one crop. A crop whose longer side exceeds `crop_size` (1024 px, the largest side a crop is
    inpainted at; IOPaint's resize limit is 1280) is resized down to it (bicubic, antialiased; a pixel of the
    small mask is a hole where any hole pixel touches it), inpainted, and resized back. Only the group's own hole
    pixels are pasted into the photo, at its full resolution; every other hole in a crop is unknown to the model
    but filled from its own crop. Memory and time then grow with the holes' extent, not with the photo's size.
  * other fully convolutional models (`sr_autoencoder`, `imdn_x2/3/4`, `ffdnet`) run at the photo's own
    size. Photos larger than one tile go through overlapping tiles: the image is cut into `tile` x `tile` cores
    (input pixels), each run with `overlap` extra pixels of context on every side, and only each tile's core is
    kept (no blending is needed: away from the photo's border a core sees the same context as in one whole-image
    pass, up to the network's receptive field beyond `overlap`). A super-resolver's tiles are tiles of its input
    (the low-resolution photo) and its output tile is `scale` times the input tile. IMDN's channel attention
    (CCA) pools statistics over the whole tile, so its tiles agree with the whole-photo pass closely but not
    exactly (its 27 3x3 convolutions reach 27 input pixels, inside the default 32-pixel overlap). Tiles with a mask
    but no hole pixel are copied unchanged. Peak memory then depends on the tile size, not on the
    photo size.
  * super-resolvers (`sr_autoencoder`, `imdn_x*`) upscale the whole photo, so they take no mask. An RGBA photo
    keeps its alpha channel: the output is RGBA, the alpha up-sampled bicubically (`corruptions.bicubic_upscale`,
    rounded). Grayscale rule (as for the denoisers, below): a photo whose three channels are equal everywhere is
    super-resolved as RGB and returned grey (each pixel the rounded mean of the three output channels).
  * fixed-size inpainters (`context_encoder` 32x32, `dcgan_inpaint` and the z-search inpainters 64x64): the
    crop strategy of IOPaint ("crop"): the hole's bounding box is covered by square windows of side
    W = max(model side / 2, min(the box's longer side, half the photo's shorter side)); for each window that
    holds hole pixels, the square crop of side 2W with the window as its centre half (the photo reflect-padded
    where a crop passes its border) is resized to the model's size (bicubic, antialiased), the model fills it
    (every hole pixel of the crop marked unknown), the result is resized back to 2W x 2W and only the hole
    pixels of the window are pasted into the photo. Windows are filled in order, so later crops see earlier fills as context. A model without a
    mask input (`context_encoder`) fills its centre square, which is the window.
  * non-blind denoisers (`ffdnet`, whose `serving_default` takes a `noise_level`): fully convolutional, tiled
    as above, at the noise level sigma (0-255 scale) the caller gives, else the level that
    `skimage.restoration.estimate_sigma` (Donoho's wavelet estimator, averaged over the channels) reads from the
    photo (`estimate_noise_level`). Grayscale rule (`_is_grey` / `_grey`, also the super-resolvers'): a photo
    whose three channels are equal everywhere (a grayscale file, which `read_image` expands to RGB) is denoised
    as RGB and returned grey (each pixel the rounded mean of the three output channels, repeated in R, G and B).
  * fixed-size restorers (the denoising autoencoders, `restoration_gan`): the whole photo is resized to the
    model's size (bicubic, antialiased), restored, and resized back to the photo's size; with a mask, only the
    mask's pixels are replaced (the `with_mask` signature).

Known pixels (mask 0) of an inpainted photo are bit-identical to the input.
"""
from __future__ import annotations

import dataclasses
import glob
import os
import sys
from typing import Callable

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps, UnidentifiedImageError

from keras_inpaint import artifact, corruptions

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
GENERATED_MASKS = ("centre", "free_form:thin", "free_form:medium", "free_form:thick", "free_form:boxes", "brush")
CROP_TRIGGER = 800   # IOPaint hd_strategy_crop_trigger_size: inpainters run whole photos up to this longer side
CROP_MARGIN = 128    # IOPaint hd_strategy_crop_margin: context around each group of holes
CROP_SIZE = 1024     # the longest side a crop is inpainted at; larger crops are resized down to it
_GROUP_CELL = 8      # crops are merged on a grid of 8-pixel cells (module docstring)
DEFAULT_TILE, DEFAULT_OVERLAP = 256, 32   # predict.py's and app.py's --tile / --overlap defaults


class PredictError(ValueError):
    """One input cannot be processed (unreadable, wrong mask, ...); the message names the file and the cause."""


@dataclasses.dataclass
class ModelInfo:
    """What `Predictor` learned from an export: `kind` ('inpaint', 'restore', 'denoise' (takes a noise level) or
    'super_resolution'), `size`
    ((H, W) of a fixed-size model, None for any size), `channels`, `takes_mask` (serving_default has a `mask`),
    `scale` (output / input size), `multiple` (the size multiple tiles keep) and the card."""

    id: str
    kind: str
    size: tuple[int, int] | None
    channels: int
    takes_mask: bool
    scale: int
    multiple: int
    card: dict


def list_inputs(pattern: str) -> list[str]:
    """Image files named by `pattern`: a file, a directory (its image files, sorted, not recursive) or a glob.

    Raises:
      PredictError: nothing matches.
    """
    if os.path.isdir(pattern):
        files = sorted(os.path.join(pattern, f) for f in os.listdir(pattern)
                       if f.lower().endswith(IMAGE_EXTENSIONS))
    elif os.path.isfile(pattern):
        files = [pattern]
    else:
        files = sorted(f for f in glob.glob(pattern) if os.path.isfile(f))
    if not files:
        raise PredictError(f"--input {pattern!r}: no such file, no image file in that directory, or no match")
    return files


def read_image(path: str) -> tuple[np.ndarray, np.ndarray | None]:
    """-> (uint8 RGB `[H, W, 3]`, alpha `[H, W]` uint8 or None) of an image file, EXIF orientation applied.

    Conversion rule: grayscale and palette images are expanded to RGB, CMYK is converted by PIL, RGBA keeps its
    alpha (for `--mask=alpha`) and drops it from the RGB; 16-bit grayscale (PIL modes I;16* / I) is scaled to
    8 bits (value * 255 / 65535, rounded), not clipped.

    Raises:
      PredictError: the file cannot be read as an image.
    """
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            alpha = None
            if img.mode.startswith("I;16") or img.mode == "I":
                wide = np.asarray(img, dtype=np.float64)
                grey = np.clip(np.round(wide * 255.0 / 65535.0), 0, 255).astype(np.uint8)
                return np.repeat(grey[..., None], 3, axis=-1), None
            if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
                img = img.convert("RGBA")
                alpha = np.asarray(img)[..., 3].copy()
            return np.asarray(img.convert("RGB")).copy(), alpha
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise PredictError(f"{path}: not a readable image ({type(e).__name__}: {e})") from None


def parse_mask(spec: str | None, path: str, image: np.ndarray, alpha: np.ndarray | None,
               seed: tuple[int, int]) -> np.ndarray | None:
    """The hole of `image` (`[H, W, 3]`) as float32 `[H, W]` (1.0 = hole, SPEC §2), or None for `spec` None.

    `spec`: a mask image file (white, >= 128, = hole, with a warning if it has grey values; it must have the
    photo's size), 'alpha' (transparent
    pixels, alpha < 128, = hole), 'centre' (the centred square of half the photo's shorter side),
    'box:x,y,w,h' (pixels), a generated free-form mask ('free_form:thin|medium|thick|boxes', 'brush'; seeded by
    `seed`, so reruns give the same holes), or 'brush:x,y,w,h': DeepFill v2's brush strokes drawn inside that box
    only (a brushed-over object; seeded the same way).

    Raises:
      PredictError: unreadable mask, wrong size, no alpha channel, bad box, or a mask with no hole pixel or
        no known pixel.
    """
    if spec is None:
        return None
    h, w = image.shape[:2]
    if spec == "alpha":
        if alpha is None:
            raise PredictError(f"{path}: --mask=alpha, but the image has no alpha channel")
        mask = (alpha < 128).astype(np.float32)
    elif spec == "centre":
        side = min(h, w) // 2
        mask = np.zeros((h, w), np.float32)
        mask[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side] = 1.0
    elif spec.startswith(("box:", "brush:")):
        kind, _, numbers = spec.partition(":")
        try:
            x, y, bw, bh = (int(v) for v in numbers.split(","))
        except ValueError:
            raise PredictError(f"--mask={spec!r}: expected {kind}:x,y,w,h in pixels") from None
        if bw <= 0 or bh <= 0 or x < 0 or y < 0 or x + bw > w or y + bh > h:
            raise PredictError(f"{path}: box {x},{y},{bw},{bh} does not fit in the {w}x{h} image")
        mask = np.zeros((h, w), np.float32)
        if kind == "box":
            mask[y:y + bh, x:x + bw] = 1.0
        else:
            mask[y:y + bh, x:x + bw] = corruptions.brush_stroke_mask([1, bh, bw], tf.constant(seed, tf.int64)
                                                                     ).numpy()[0, :, :, 0]
    elif spec in GENERATED_MASKS:
        stateless = tf.constant(seed, tf.int64)
        if spec == "brush":
            mask = corruptions.brush_stroke_mask([1, h, w], stateless)
        else:
            mask = corruptions.free_form_mask([1, h, w], stateless, spec.split(":", 1)[1])
        mask = mask.numpy()[0, :, :, 0]
    else:
        if not os.path.isfile(spec):
            raise PredictError(f"--mask {spec}: no such file (expected a mask image file, alpha, centre, "
                               "box:x,y,w,h, free_form:thin|medium|thick|boxes, brush or brush:x,y,w,h)")
        try:
            with Image.open(spec) as m:
                grey = np.asarray(ImageOps.exif_transpose(m).convert("L"))
        except (UnidentifiedImageError, OSError, ValueError) as e:
            raise PredictError(f"--mask {spec}: not a readable image ({type(e).__name__})") from None
        if grey.shape != (h, w):
            raise PredictError(f"{path}: mask {spec} is {grey.shape[1]}x{grey.shape[0]}, the image is {w}x{h}; "
                               "a mask file must have the image's size")
        mask = (grey >= 128).astype(np.float32)
        if np.any((grey > 0) & (grey < 255)):
            print(f"warning: {path}: mask {spec} has grey values; pixels >= 128 are the hole, the rest known",
                  file=sys.stderr)
    if not mask.any():
        raise PredictError(f"{path}: the mask has no hole pixel (white >= 128 / transparent): nothing to fill")
    if mask.all():
        raise PredictError(f"{path}: the mask covers the whole image: no known pixel to fill from")
    return mask


def _report(progress: Callable[[int, int], None] | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def comparison_input(image: np.ndarray, mask: np.ndarray | None, size: tuple[int, int] | None = None
                     ) -> np.ndarray:
    """The "before" picture of a result: uint8 RGB `image` `[H, W, 3]` with the hole (float32 `mask` `[H, W]`,
    1.0 = hole; None: no hole) painted white, resized with nearest neighbours to `size` (H', W') when given
    (a super-resolved output's size), so that it lies pixel for pixel beside the output. predict.py's
    `--save_masked` / `--side_by_side` and app.py's before / after view."""
    shown = image if mask is None else np.where(mask[..., None] > 0, 255, image).astype(np.uint8)
    if size is not None and tuple(size) != shown.shape[:2]:
        shown = np.asarray(Image.fromarray(shown).resize((size[1], size[0]), Image.NEAREST))
    return shown


def _is_grey(image: np.ndarray) -> bool:
    """Whether the three channels of uint8 RGB `image` are equal everywhere (a grayscale file read as RGB)."""
    return bool(np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2]))


def _grey(out: np.ndarray) -> np.ndarray:
    """The grayscale rule's output: each pixel the rounded mean of the three channels of uint8 `out`, repeated in
    R, G and B."""
    return np.repeat(np.round(out.astype(np.float64).mean(axis=-1, keepdims=True)).astype(np.uint8), 3, -1)


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 `[H, W, C]` -> uint8 `[size[0], size[1], C]`, bicubic with antialiasing (tf.image.resize)."""
    if image.shape[:2] == tuple(size):
        return image
    out = tf.image.resize(tf.cast(image, tf.float32), size, method="bicubic", antialias=True)
    return np.clip(np.round(out.numpy()), 0, 255).astype(np.uint8)


class Predictor:
    """One export, ready to run on photos (see the module docstring for the rules per kind of model).

    Args:
      path: export directory (`saved_models/<model>/<N>`).
      tile: core tile side in input pixels for fully convolutional restorers (rounded down to the model's size
        multiple); photos whose sides are both <= tile run in one piece.
      overlap: context pixels added on each side of a tile (rounded up to the size multiple).
      crop_trigger, crop_margin, crop_size: fully convolutional inpainters: the longer side above which a photo
        is inpainted through crops around its holes, the context around each group of holes, and the longest
        side a crop is inpainted at (module docstring).
    Raises:
      FileNotFoundError: not a keras_inpaint SavedModel. ValueError: a model card without the serving fields
        (written before issue 35; the message names `export.py --refresh_card`), a fixed hole that is not the
        centre half of the model's input, or crop settings that are not positive.
    """

    def __init__(self, path: str, tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP, crop_trigger: int = CROP_TRIGGER,
                 crop_margin: int = CROP_MARGIN, crop_size: int = CROP_SIZE):
        if min(crop_trigger, crop_size) <= 0 or crop_margin < 0:
            raise ValueError(f"crop_trigger and crop_size must be positive and crop_margin >= 0, got "
                             f"{crop_trigger}, {crop_size}, {crop_margin}")
        self.crop_trigger, self.crop_margin, self.crop_size = int(crop_trigger), int(crop_margin), int(crop_size)
        export = artifact.load(path, serving=True)
        self.card = export.card
        serving = artifact.serving_fields(self.card, path)
        self._loaded = export.loaded
        self._serve = export.signature("serving_default")
        self._with_mask = export.signature("with_mask")
        inputs = export.inputs("serving_default")
        shape = inputs["images"].shape.as_list()
        scale = int(serving["scale"])
        takes_mask = "mask" in inputs
        hole = serving["hole"]
        fixed_hole = hole is not None and hole["fixed"]
        size = None if shape[1] is None else (shape[1], shape[2])
        if fixed_hole and (size is None or hole["shape"] != "centre_square" or 2 * hole["side"] != min(size)):
            raise ValueError(f"{path}: its fixed hole {hole} is not the centred square of half the model's "
                             f"{size} input, which the crop strategy fills")
        if scale > 1:
            kind = "super_resolution"
        elif "noise_level" in inputs:
            kind = "denoise"
        elif takes_mask or fixed_hole:
            kind = "inpaint"
        else:
            kind = "restore"
        multiple = int(serving["multiple"])
        self.info = ModelInfo(self.card["id"], kind, size, int(shape[3]), takes_mask, scale, multiple, self.card)
        self.tile = max(multiple, tile // multiple * multiple)
        self.overlap = -(-overlap // multiple) * multiple

    # --- one call of the export -------------------------------------------------------------------------
    def _channels_in(self, image: np.ndarray) -> np.ndarray:
        if self.info.channels == 1:
            return np.asarray(Image.fromarray(image).convert("L"))[..., None]
        return image

    def _run(self, image: np.ndarray, mask: np.ndarray | None = None, noise_level: float | None = None
             ) -> np.ndarray:
        """One batch-of-1 call: uint8 `[H, W, C]` (+ float32 `[H, W]` mask; a denoiser's sigma) -> uint8
        `[H', W', C]`."""
        feed = {"images": tf.constant(image[None])}
        if self.info.kind == "denoise":
            feed["noise_level"] = tf.constant([noise_level], tf.float32)
        if mask is not None and self.info.takes_mask:
            feed["mask"] = tf.constant(mask[None, :, :, None].astype(np.float32))
            return self._serve(**feed)["images"].numpy()[0]
        if mask is not None and self._with_mask is not None:
            feed["mask"] = tf.constant(mask[None, :, :, None].astype(np.float32))
            return self._with_mask(**feed)["images"].numpy()[0]
        return self._serve(**feed)["images"].numpy()[0]

    # --- photos -------------------------------------------------------------------------------------------
    @staticmethod
    def estimate_noise_level(image: np.ndarray) -> float:
        """The white Gaussian noise level sigma (0-255 scale) of uint8 `image` `[H, W, C]`, estimated with
        `skimage.restoration.estimate_sigma` (wavelet median absolute deviation, Donoho & Johnstone 1994),
        averaged over the channels. It reads synthetic white noise well; real camera noise (signal-dependent,
        spatially correlated after demosaicking) and JPEG artefacts are not what it measures."""
        from skimage.restoration import estimate_sigma   # imported lazily: only denoising needs it

        return float(estimate_sigma(image.astype(np.float64) / 255.0, channel_axis=-1, average_sigmas=True) * 255.0)

    def predict(self, image: np.ndarray, mask: np.ndarray | None = None, noise_level: float | None = None,
                progress: Callable[[int, int], None] | None = None, alpha: np.ndarray | None = None
                ) -> np.ndarray:
        """Restores one photo: uint8 RGB `[H, W, 3]` (+ float32 `[H, W]` mask, 1.0 = hole) -> uint8 `[H', W', 3]`
        (H' = H, or scale x H for super-resolution). Inpainted photos keep every known pixel bit-exactly.
        Denoisers (kind 'denoise') use `noise_level` (sigma, 0-255 scale), else `estimate_noise_level(image)`;
        other models ignore it. `progress(done, total)`, if given, is called before the first and after each
        model call (tiles, crops; total 1 for a photo that runs in one piece); it does not change the output.
        Super-resolvers given the photo's `alpha` (uint8 `[H, W]`, from `read_image`) return RGBA `[H', W', 4]`
        with the alpha up-sampled bicubically; other models ignore it.

        Raises:
          PredictError: an inpainter without a mask, a super-resolver with one; a negative noise level; an
            image that is not uint8 RGB `[H, W, 3]`, or an alpha of another size.
        """
        info = self.info
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3 or min(image.shape[:2]) < 1:
            raise PredictError(f"expected a uint8 RGB image [H, W, 3] (read_image converts files), got "
                               f"{image.dtype} {list(image.shape)}")
        grey = _is_grey(image)
        if info.kind == "denoise":
            if noise_level is None:
                noise_level = self.estimate_noise_level(image)
            if not np.isfinite(noise_level) or noise_level < 0:
                raise PredictError(f"--noise_level must be a sigma >= 0 on the 0-255 scale, got {noise_level}")
            out = self._tiled(image, mask, float(noise_level), progress)
            if grey:   # the grayscale rule (module docstring)
                out = _grey(out)
            return np.where(mask[..., None] > 0, out, image) if mask is not None else out
        if info.kind == "super_resolution":
            if mask is not None:
                raise PredictError(f"{info.id} super-resolves the whole photo and takes no mask (drop --mask)")
            if alpha is not None and alpha.shape != image.shape[:2]:
                raise PredictError(f"the alpha channel is {alpha.shape[1]}x{alpha.shape[0]}, the image "
                                   f"{image.shape[1]}x{image.shape[0]}")
            out = self._tiled(image, None, progress=progress)
            if grey:   # the grayscale rule (module docstring)
                out = _grey(out)
            if alpha is not None:
                up = corruptions.bicubic_upscale(tf.constant(alpha[None, :, :, None], tf.float32) / 255.0, info.scale)
                up = np.round(up.numpy()[0] * 255.0).astype(np.uint8)
                out = np.concatenate([out, up], axis=-1)
            return out
        if info.kind == "inpaint" and mask is None:
            raise PredictError(f"{info.id} fills holes: give --mask (a file, alpha, centre, box:x,y,w,h or "
                               f"{'|'.join(GENERATED_MASKS[1:])})")
        x = self._channels_in(image)
        if info.size is None and info.kind == "inpaint":
            if max(x.shape[:2]) > self.crop_trigger:
                out = self._hole_crops(x, mask, progress)
            else:
                _report(progress, 0, 1)
                out = self._run(x, mask)
                _report(progress, 1, 1)
        elif info.size is None:
            out = self._tiled(x, mask, progress=progress)
        elif info.kind == "inpaint":
            out = self._crops(x, mask, progress)
        else:
            _report(progress, 0, 1)
            small = self._run(_resize(x, info.size),
                              None if mask is None else (_resize((mask[..., None] * 255).astype(np.uint8),
                                                                 info.size)[..., 0] >= 128).astype(np.float32))
            out = _resize(small, x.shape[:2])
            _report(progress, 1, 1)
        if out.shape[-1] == 1:
            out = np.repeat(out, 3, axis=-1)
        if mask is not None:
            if out.shape[:2] == image.shape[:2]:
                out = np.where(mask[..., None] > 0, out, image)   # known pixels bit-identical
        return out

    def hole_groups(self, mask: np.ndarray) -> tuple[np.ndarray, list[tuple[tuple[int, int, int, int], list[int]]]]:
        """The crops of the crop strategy (module docstring) for `mask` `[H, W]` (nonzero = hole).

        Returns (labels int `[H, W]`: 0 known, k the hole's k-th 8-connected component; [((y0, x0, y1, x1) of a
        crop, [component labels it pastes]), ...]). Each component belongs to exactly one crop.
        """
        from skimage.measure import label, regionprops   # a core dependency; imported when a photo needs it

        h, w = mask.shape[:2]
        labels = label(mask > 0, connectivity=2)
        regions = regionprops(labels)
        if not regions:
            return labels, []
        m, cell = self.crop_margin, _GROUP_CELL
        boxes = np.array([r.bbox for r in regions], np.int64)                   # y0, x0, y1, x1 (ends exclusive)
        boxes = np.stack([np.maximum(boxes[:, 0] - m, 0), np.maximum(boxes[:, 1] - m, 0),
                          np.minimum(boxes[:, 2] + m, h), np.minimum(boxes[:, 3] + m, w)], axis=1)
        coarse = np.zeros((-(-h // cell), -(-w // cell)), bool)                 # the crops, drawn on 8x8 cells
        for y0, x0, y1, x1 in boxes:
            coarse[y0 // cell:-(-y1 // cell), x0 // cell:-(-x1 // cell)] = True
        group = label(coarse, connectivity=1)[boxes[:, 0] // cell, boxes[:, 1] // cell]
        crops = []
        for g in np.unique(group):
            members = np.nonzero(group == g)[0]
            box = (int(boxes[members, 0].min()), int(boxes[members, 1].min()), int(boxes[members, 2].max()),
                   int(boxes[members, 3].max()))
            crops.append((box, [regions[i].label for i in members]))
        return labels, crops

    def _hole_crops(self, x: np.ndarray, mask: np.ndarray, progress: Callable[[int, int], None] | None = None
                    ) -> np.ndarray:
        """Fully convolutional inpainters on large photos: the crop strategy of the module docstring."""
        labels, crops = self.hole_groups(mask)
        out = x.copy()
        _report(progress, 0, len(crops))
        for done, ((y0, x0, y1, x1), members) in enumerate(crops, 1):
            crop, crop_mask = x[y0:y1, x0:x1], mask[y0:y1, x0:x1]
            if (crop_mask > 0).all():
                raise PredictError("the hole fills a whole crop: no known pixel around it")
            side = max(y1 - y0, x1 - x0)
            if side > self.crop_size:
                size = (max(1, round((y1 - y0) * self.crop_size / side)), max(1, round((x1 - x0) * self.crop_size
                                                                                        / side)))
                small_mask = (_resize((crop_mask[..., None] > 0).astype(np.uint8) * 255, size)[..., 0] > 0)
                if small_mask.all():
                    raise PredictError("the hole fills a whole crop: no known pixel around it")
                filled = _resize(self._run(_resize(crop, size), small_mask.astype(np.float32)), (y1 - y0, x1 - x0))
            else:
                filled = self._run(crop, crop_mask)
            own = np.isin(labels[y0:y1, x0:x1], members)
            out[y0:y1, x0:x1][own] = filled[own]
            _report(progress, done, len(crops))
        return out

    def _tiled(self, x: np.ndarray, mask: np.ndarray | None, noise_level: float | None = None,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Fully convolutional restorers: whole photo, or overlapping tiles keeping each tile's core."""
        h, w = x.shape[:2]
        s, t, o = self.info.scale, self.tile, self.overlap
        if h <= t and w <= t:
            _report(progress, 0, 1)
            out = self._run(x, mask, noise_level)
            _report(progress, 1, 1)
            return out
        out = np.zeros((h * s, w * s, x.shape[2]), np.uint8)
        total, done = len(range(0, h, t)) * len(range(0, w, t)), 0
        _report(progress, 0, total)
        for y0 in range(0, h, t):
            for x0 in range(0, w, t):
                y1, x1 = min(y0 + t, h), min(x0 + t, w)
                done += 1
                if mask is not None and not mask[y0:y1, x0:x1].any():
                    out[y0:y1, x0:x1] = x[y0:y1, x0:x1]           # no hole here: nothing to inpaint
                    _report(progress, done, total)
                    continue
                wy0, wx0, wy1, wx1 = max(y0 - o, 0), max(x0 - o, 0), min(y1 + o, h), min(x1 + o, w)
                piece = self._run(x[wy0:wy1, wx0:wx1], None if mask is None else mask[wy0:wy1, wx0:wx1],
                                  noise_level)
                out[y0 * s:y1 * s, x0 * s:x1 * s] = piece[(y0 - wy0) * s:(y1 - wy0) * s,
                                                          (x0 - wx0) * s:(x1 - wx0) * s]
                _report(progress, done, total)
        return out

    def _crops(self, x: np.ndarray, mask: np.ndarray, progress: Callable[[int, int], None] | None = None
               ) -> np.ndarray:
        """Fixed-size inpainters: the crop strategy of the module docstring."""
        h, w = x.shape[:2]
        model_side = self.info.size[0]
        ys, xs = np.nonzero(mask)
        by0, by1, bx0, bx1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        # the window (the centre half of a crop, where it fills) covers the hole's bounding box when the photo
        # leaves as much context around it; never smaller than half the model's side (no needless upscaling)
        window = max(model_side // 2, min(max(by1 - by0, bx1 - bx0), min(h, w) // 2))
        side, quarter = 2 * window, window // 2
        # reflect-pad so that every crop is centred on its window, also at the photo's border
        pad = side
        out = np.pad(x, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
        unknown = np.pad(mask, pad, mode="reflect")              # reflected holes are unknown to the model too
        total, done = len(range(by0, by1, window)) * len(range(bx0, bx1, window)), 0
        _report(progress, 0, total)
        for wy in range(by0, by1, window):
            for wx in range(bx0, bx1, window):
                wy1, wx1 = min(wy + window, by1), min(wx + window, bx1)
                done += 1
                if not mask[wy:wy1, wx:wx1].any():
                    _report(progress, done, total)
                    continue
                cy, cx = pad + wy - quarter, pad + wx - quarter  # crop [cy, cy + side): window in its centre half
                crop = out[cy:cy + side, cx:cx + side]
                small_mask = None
                if self.info.takes_mask:
                    small_mask = (_resize((unknown[cy:cy + side, cx:cx + side, None] * 255).astype(np.uint8),
                                          self.info.size)[..., 0] > 0).astype(np.float32)
                    if small_mask.all():
                        raise PredictError("the hole fills a whole crop: no known pixel around it")
                filled = _resize(self._run(_resize(crop, self.info.size), small_mask), (side, side))
                region = np.zeros((side, side, 1), bool)
                region[quarter:quarter + (wy1 - wy), quarter:quarter + (wx1 - wx), 0] = \
                    mask[wy:wy1, wx:wx1] > 0
                out[cy:cy + side, cx:cx + side] = np.where(region, filled, crop)
                unknown[cy:cy + side, cx:cx + side][region[..., 0]] = 0.0   # filled pixels are context now
                _report(progress, done, total)
        return out[pad:pad + h, pad:pad + w]
