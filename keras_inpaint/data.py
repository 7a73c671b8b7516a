"""Image sources (tfds and image folders), held-back splits, crops, and value-range conversion.

Everything that turns stored images into `tf.data` pipelines lives here (SPEC §2, §4):

  * `to_model_range` / `to_uint8` are the one place where stored `uint8` [0, 255] images are converted to a
    model's float range ([0, 1] or [-1, 1]) and back (rounded and clipped).
  * `load_images` reads a dataset by name: any tfds name (`tfds.load(name, data_dir=...)`, honouring
    `TFDS_DATA_DIR`, never downloading unless asked) or `folder:PATH`, a folder of JPEG/PNG images searched
    recursively and split deterministically ~90/10 into train/test by a hash of the file name.
  * `fit_to_size` crops and resizes each image the way the model's recipe says (CelebA-style 108x108 face crop,
    centre square crop, or none when the size already matches).
  * `training_pipeline` / `evaluation_pipeline` add cache, shuffle, repeat, batch, the batched (vectorised)
    corruption map and prefetch.
  * Photo models (crop "patches": the photo denoiser, super-resolver and inpainter) train on `patch_pipeline`:
    random P x P patches of photos kept at their native resolution, and are scored on whole photos.

Photo folders with fixed splits (`split_folders`): a folder holding `train/` and `val/` (or `test/`) subfolders,
such as `../shared/data/photos/bsds500`, trains on `train/` only and tests on `val/` (or `test/`), never the
other way; an ids file (`test_ids`, e.g. `cbsd68_ids.txt`, one photo name per line without extension) narrows
the test split to the benchmark's photos (CBSD68 = the 68 listed `val/` photos; B100 = all 100 `val/` photos).
"""
from __future__ import annotations

import hashlib
import os
from typing import Callable

import tensorflow as tf

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
FOLDER_PREFIX = "folder:"
PATCHES = "patches"   # ModelSpec.crop of the photo models: native-size photos, random patches for training
# Aligned CelebA (178 wide x 218 high): the DCGAN recipe's centre 108x108 face crop (rows 55:163, cols 35:143).
CELEBA_ALIGNED_SHAPE = (218, 178)
CELEBA_FACE_CROP = 108


class DatasetError(ValueError):
    """A dataset could not be found or read; the message says what was searched and how to fix it."""


# ---------------------------------------------------------------------------------------------------------
# Value ranges (SPEC §2: "Conversion happens in one place").
# ---------------------------------------------------------------------------------------------------------
def to_model_range(images: tf.Tensor, value_range: tuple[float, float]) -> tf.Tensor:
    """uint8 [0, 255] (or any real dtype holding 0..255) -> float32 in `value_range` ((0, 1) or (-1, 1))."""
    lo, hi = value_range
    x = tf.cast(images, tf.float32) / 255.0
    return x * (hi - lo) + lo


def to_unit_range(images: tf.Tensor, value_range: tuple[float, float]) -> tf.Tensor:
    """float32 in `value_range` -> float32 in [0, 1] (not clipped)."""
    lo, hi = value_range
    return (tf.cast(images, tf.float32) - lo) / (hi - lo)


def to_uint8(images: tf.Tensor, value_range: tuple[float, float]) -> tf.Tensor:
    """float in `value_range` -> uint8 [0, 255], clipped and rounded to the nearest level."""
    x = tf.clip_by_value(to_unit_range(images, value_range), 0.0, 1.0)
    return tf.cast(tf.round(x * 255.0), tf.uint8)


# ---------------------------------------------------------------------------------------------------------
# Crops.
# ---------------------------------------------------------------------------------------------------------
def fit_to_size(image: tf.Tensor, size: tuple[int, int], crop: str = "auto") -> tf.Tensor:
    """Crops and resizes one uint8 image `[H, W, C]` to `size = (h, w)`; returns uint8 `[h, w, C]`.

    crop:
      * "auto": no-op when the image already has `size`; aligned CelebA 178x218 images get the DCGAN face crop
        (centre 108x108, SPEC §4); anything else gets its largest centred crop of the target aspect ratio.
      * "centre": centre crop of exactly `size` when the image is at least that big (e.g. the 120x120
        `sr_autoencoder` crop), else as "auto".
      * "face108": always the centre 108x108 crop first.
    Resizing is bicubic with anti-aliasing (tf.image.resize), then rounded back to uint8.

    Raises:
      ValueError: unknown `crop`.
    """
    if crop not in ("auto", "centre", "face108"):
        raise ValueError(f"crop must be 'auto', 'centre' or 'face108', got {crop!r}")
    th, tw = size
    shape = tf.shape(image)
    h, w = shape[0], shape[1]

    def centre_crop(img, ch, cw):
        return img[(tf.shape(img)[0] - ch) // 2:, (tf.shape(img)[1] - cw) // 2:][:ch, :cw]

    def aspect_crop(img):
        ih, iw = tf.shape(img)[0], tf.shape(img)[1]
        # largest crop with aspect th:tw
        ch = tf.minimum(ih, (iw * th) // tw)
        cw = tf.minimum(iw, (ih * tw) // th)
        return centre_crop(img, ch, cw)

    def resize(img):
        out = tf.image.resize(img, (th, tw), method="bicubic", antialias=True)
        return tf.cast(tf.round(tf.clip_by_value(out, 0.0, 255.0)), tf.uint8)

    if crop == "face108":
        cropped = centre_crop(image, CELEBA_FACE_CROP, CELEBA_FACE_CROP)
    else:
        is_celeba = tf.logical_and(tf.equal(h, CELEBA_ALIGNED_SHAPE[0]), tf.equal(w, CELEBA_ALIGNED_SHAPE[1]))
        big_enough = tf.logical_and(h >= th, w >= tw)
        if crop == "centre":
            cropped = tf.cond(big_enough, lambda: centre_crop(image, th, tw), lambda: aspect_crop(image))
        else:
            cropped = tf.cond(is_celeba, lambda: centre_crop(image, CELEBA_FACE_CROP, CELEBA_FACE_CROP),
                              lambda: aspect_crop(image))
    same = tf.logical_and(tf.equal(tf.shape(cropped)[0], th), tf.equal(tf.shape(cropped)[1], tw))
    out = tf.cond(same, lambda: tf.cast(cropped, tf.uint8), lambda: resize(cropped))
    return tf.ensure_shape(out, [th, tw, None])


# ---------------------------------------------------------------------------------------------------------
# Sources.
# ---------------------------------------------------------------------------------------------------------
def resolve_data_dir(data_dir: str | None) -> str | None:
    """`--data_dir` if given, else `$TFDS_DATA_DIR`, else None (tfds' default, ~/tensorflow_datasets)."""
    return data_dir or os.environ.get("TFDS_DATA_DIR") or None


def _split_digest(path: str) -> bytes:
    return hashlib.sha1(os.path.basename(path).encode("utf-8")).digest()


def folder_split(path: str) -> str:
    """Deterministic ~90/10 train/test split of a file by a hash of its base name: returns 'train' or 'test'."""
    return "test" if _split_digest(path)[0] % 10 == 0 else "train"


_warned_small: set[str] = set()


def split_folders(folder: str) -> tuple[str, str] | None:
    """(train folder, test folder) when `folder` holds a `train/` subfolder and a `val/` (or `test/`) one (a photo
    set with fixed splits, e.g. BSDS500), else None (the hash split applies)."""
    train = os.path.join(folder, "train")
    for name in ("val", "test"):
        test = os.path.join(folder, name)
        if os.path.isdir(train) and os.path.isdir(test):
            return train, test
    return None


def _read_ids(path: str) -> set[str]:
    with open(path) as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


def list_folder_images(folder: str, split: str, test_ids: str | None = None) -> list[str]:
    """Sorted image files (JPEG/PNG/BMP/GIF, recursive) of `folder` that belong to `split` ('train', 'test', 'all').

    A folder with `train/` and `val/` (or `test/`) subfolders (`split_folders`) has fixed splits: 'train' lists
    `train/` only, 'test' the test subfolder, narrowed to the names in `<folder>/<test_ids>` when that file exists
    (e.g. `cbsd68_ids.txt`: CBSD68 is 68 of the 100 BSDS500 `val/` photos); 'all' lists every subfolder. Any
    other folder is split ~90/10 by a hash of the file name (`folder_split`).

    Small folders (issue 15): when the hash split (`folder_split`) leaves the test split empty, which happens to
    most folders of fewer than ~20 images, the test split is the one image that comes first in hash order and
    the training split the rest; a warning says so once per folder (the evaluation then rests on one image).

    Raises:
      DatasetError: folder missing, or no image file in it, or a single image (nothing left to train on), or no
        test photo named in the `test_ids` file.
    """
    if not os.path.isdir(folder):
        raise DatasetError(f"folder dataset: {folder!r} is not a directory (use --dataset=folder:PATH with a "
                           "folder of JPEG/PNG images)")
    fixed = split_folders(folder)
    if fixed and split in ("train", "test"):
        files = list_folder_images(fixed[0] if split == "train" else fixed[1], "all")
        ids_path = os.path.join(folder, test_ids) if test_ids else None
        if split == "test" and ids_path and os.path.exists(ids_path):
            ids = _read_ids(ids_path)
            files = [f for f in files if os.path.splitext(os.path.basename(f))[0] in ids]
            if not files:
                raise DatasetError(f"folder dataset: no photo of {fixed[1]!r} is named in {ids_path}")
        return files
    files = sorted(
        os.path.join(root, f) for root, _, names in os.walk(folder) for f in names
        if f.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise DatasetError(f"folder dataset: no image files ({', '.join(IMAGE_EXTENSIONS)}) under {folder!r}")
    if split == "all":
        return files
    test = [f for f in files if folder_split(f) == "test"]
    if not test or len(test) == len(files):
        if len(files) < 2:
            raise DatasetError(f"folder dataset: {folder!r} holds one image; a run needs at least two (one is "
                               "held back for the test split)")
        test = [min(files, key=_split_digest)]
        if folder not in _warned_small:
            _warned_small.add(folder)
            print(f"warning: folder {folder!r} has {len(files)} images, too few for the ~10 % hash test split: "
                  f"{os.path.basename(test[0])} is held back as the only test image, so the evaluation rests on "
                  "one image")
    return test if split == "test" else [f for f in files if f not in test]


def _decode_file(path: tf.Tensor, channels: int) -> tf.Tensor:
    data = tf.io.read_file(path)
    image = tf.io.decode_image(data, channels=channels, expand_animations=False)
    return image


def _tfds_source(name: str, split: str, data_dir: str | None, download: bool) -> tf.data.Dataset:
    import tensorflow_datasets as tfds  # imported lazily: slow, and only needed for tfds names

    data_dir = resolve_data_dir(data_dir)
    where = data_dir or "~/tensorflow_datasets (tfds default)"
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # tfds raises DatasetNotFoundError and friends
        raise DatasetError(f"Unknown dataset {name!r}: not a tfds name ({type(e).__name__}: {e}). Use a tfds "
                           "name such as 'cifar10', or --dataset=folder:PATH for a folder of images.") from None
    prepared = tf.io.gfile.exists(os.path.join(builder.data_dir, "dataset_info.json"))
    if not prepared:
        if not download:
            raise DatasetError(
                f"Dataset {name!r} is not prepared in {where} (looked for {builder.data_dir}). Point --data_dir "
                f"(or TFDS_DATA_DIR) at a tensorflow-datasets directory that holds it, e.g. "
                f"--data_dir=../shared/data/tensorflow_datasets, let tfds download it (train.py --download), "
                f"or pass --dataset=folder:PATH to train on a folder of images "
                f"(e.g. --dataset=folder:../shared/data/faces/celeba_img_align for the face models).")
        print(f"Dataset {name!r} is not prepared in {where}: tfds downloads and prepares it into "
              f"{builder.data_dir} now (first use only; asked for by --download).", flush=True)
        try:
            builder.download_and_prepare()
        except Exception as e:  # no network, proxy, disk full: tfds raises many types
            raise DatasetError(
                f"Could not download dataset {name!r} into {builder.data_dir} ({type(e).__name__}: "
                f"{str(e)[:300]}). Offline? Point --data_dir (or TFDS_DATA_DIR) at a tensorflow-datasets "
                f"directory that holds it, e.g. --data_dir=../shared/data/tensorflow_datasets, prepare it by "
                f"hand as tfds' catalog page for {name!r} says (CelebA needs a manual download), or pass "
                f"--dataset=folder:PATH to train on a folder of images.") from None
    splits = builder.info.splits
    if split == "test" and "test" not in splits:
        split = "validation" if "validation" in splits else "train[90%:]"
    elif split == "train" and "test" not in splits and "validation" not in splits:
        split = "train[:90%]"
    ds = builder.as_dataset(split=split, shuffle_files=False)
    return ds.map(lambda ex: ex["image"], num_parallel_calls=tf.data.AUTOTUNE)


def load_images(dataset: str, split: str, size: tuple[int, int], channels: int, *, data_dir: str | None = None,
                crop: str = "auto", max_examples: int | None = None, download: bool = False,
                test_ids: str | None = None) -> tf.data.Dataset:
    """A `tf.data.Dataset` of uint8 images `[size[0], size[1], channels]` from a tfds name or `folder:PATH`.

    Args:
      dataset: tfds name (e.g. 'cifar10', 'mnist', 'celeb_a') or 'folder:PATH'.
      split: 'train' or 'test' (for folders, the held-back ~10% chosen by file-name hash; for tfds sets without
        a test split, 'validation' or the last 10% of 'train').
      size: target (height, width) in pixels; images are cropped/resized with `fit_to_size(crop=crop)`, except
        with `crop="patches"` (photo models): images keep their native size (`patch_pipeline` cuts training
        patches of `size`; evaluation scores whole photos, batch 1).
      channels: 1 (grayscale) or 3 (RGB); images are converted.
      data_dir: tfds data directory (else $TFDS_DATA_DIR, else tfds' default). Ignored for folders.
      max_examples: keep only the first N images (quick runs).
      download: allow tfds to download and prepare a missing dataset (train.py --download; off by default,
        and never in tests/CI, whose data is prepared). A failed download is a DatasetError naming the dataset.
      test_ids: folders with fixed splits only: a file in the folder naming the test photos (`list_folder_images`).
    Raises:
      DatasetError: unknown dataset, not prepared and `download` is False (or the download failed), or
        empty/missing folder.
    Unreadable files in a folder are skipped with a logged warning instead of stopping the job.
    """
    if dataset.startswith(FOLDER_PREFIX):
        files = list_folder_images(os.path.expanduser(dataset[len(FOLDER_PREFIX):]), split, test_ids)
        if max_examples:
            files = files[:max_examples]
        ds = tf.data.Dataset.from_tensor_slices(files)
        ds = ds.map(no_autograph(lambda p: _decode_file(p, channels)), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = _tfds_source(dataset, split, data_dir, download)
        if max_examples:
            ds = ds.take(max_examples)
        ds = ds.map(lambda im: _to_channels(im, channels), num_parallel_calls=tf.data.AUTOTUNE)
    if crop == PATCHES:
        ds = ds.map(lambda im: tf.ensure_shape(im, [None, None, channels]))
    else:
        ds = ds.map(no_autograph(lambda im: fit_to_size(im, size, crop)), num_parallel_calls=tf.data.AUTOTUNE)
    # A bad file (truncated JPEG, wrong format) is logged and skipped; the rest of the job goes on.
    return ds.ignore_errors(log_warning=True)


def benchmark_folder(entry: str) -> tuple[str, str]:
    """(name, folder) of a benchmark entry (`--benchmarks`, `ModelSpec.benchmarks`): `NAME=PATH` names the folder
    (e.g. `B100=../shared/data/photos/bsds500/val`, the SR benchmark that is BSDS500's val/ folder), a plain
    `PATH` is named after its last component (`../shared/data/benchmarks/Set5` -> `Set5`)."""
    name, sep, path = entry.partition("=")
    if sep and name and os.sep not in name and "/" not in name:
        return name, path
    return os.path.basename(os.path.normpath(entry)), entry


def load_benchmark_images(folder: str, channels: int = 3) -> tf.data.Dataset:
    """Every image of a benchmark folder (e.g. Set5, Set14) at its full size, in sorted file order.

    Unlike `load_images`, nothing is cropped, resized or split: benchmark tables score whole images.

    Returns:
      A `tf.data.Dataset` of uint8 `[H, W, channels]` images (sizes differ; batch with batch size 1).
    Raises:
      DatasetError: the folder is missing or holds no image file.
    Unreadable files are skipped with a logged warning.
    """
    files = list_folder_images(os.path.expanduser(folder), "all")
    ds = tf.data.Dataset.from_tensor_slices(files)
    ds = ds.map(lambda p: _to_channels_dynamic(_decode_file(p, 0), channels))
    return ds.ignore_errors(log_warning=True)


def _to_channels_dynamic(image: tf.Tensor, channels: int) -> tf.Tensor:
    """`_to_channels` for decoded images whose channel count is only known at run time (1, 3 or 4)."""
    c = tf.shape(image)[-1]
    rgb = tf.cond(c == 1, lambda: tf.tile(image, [1, 1, 3]), lambda: image[..., :3])
    rgb = tf.ensure_shape(rgb, [None, None, 3])
    return rgb if channels == 3 else _to_channels(rgb, channels)


def _to_channels(image: tf.Tensor, channels: int) -> tf.Tensor:
    c = image.shape[-1]
    if c == channels:
        return image
    if channels == 3 and c == 1:
        return tf.image.grayscale_to_rgb(image)
    if channels == 1 and c == 3:
        return tf.cast(tf.round(tf.image.rgb_to_grayscale(tf.cast(image, tf.float32))), tf.uint8)
    raise DatasetError(f"cannot convert {c}-channel images to {channels} channels")


def no_autograph(fn: Callable) -> Callable:
    """`fn` (for `Dataset.map`) traced without autograph's source conversion. The project's pipeline functions
    (decoding, cropping, corruptions, masks, `make_pair`) use explicit `tf.while_loop` / `tf.cond` and no Python
    control flow on tensors, so converting their call trees only cost time: 1-5 s of CPU at every run's start
    (measured on quick runs; the free-form and LaMa mask mixtures the most)."""
    return tf.autograph.experimental.do_not_convert(fn)


# ---------------------------------------------------------------------------------------------------------
# Pipelines.
# ---------------------------------------------------------------------------------------------------------
def training_pipeline(images: tf.data.Dataset, batch_size: int, make_pair: Callable, *, seed: int,
                      shuffle_buffer: int = 10_000) -> tf.data.Dataset:
    """Infinite training stream: cache -> stateless shuffle per pass -> batch -> batched `make_pair` -> prefetch.

    `make_pair(images_uint8 [B, H, W, C], seed [2] int64) -> (inputs, targets)` runs once per batch
    (vectorised); its seed is `(seed, batch index)`, so a run is reproducible from `--seed`.
    Decoded, cropped images are cached in memory after the first pass.

    Shuffling is stateless, so that every iterator of the returned dataset yields the same batches: pass p over
    the (cached) images is cut into chunks of `shuffle_buffer` images in stored order, and chunk c is permuted
    with `tf.random.experimental.stateless_shuffle` seeded by `(seed, p * 1,000,003 + c)`. Datasets of up to
    `shuffle_buffer` images are thus reshuffled uniformly every pass; larger ones within each chunk (like a
    shuffle buffer, images move within ~`shuffle_buffer` places). Keras opens and discards one training
    iterator for its symbolic build under a tf.distribute strategy, which with `Dataset.shuffle`'s per-iterator
    reshuffle gave such runs another batch order than a one-device run (issue 14). The first batch waits for one
    chunk, as it waited for a shuffle buffer to fill.
    """
    cached = images.cache()
    seed_t = tf.constant(seed, tf.int64)

    def one_pass(p):
        def permute(c, chunk):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(tf.shape(chunk, out_type=tf.int64)[0]), seed=tf.stack([seed_t, p * 1_000_003 + c]))
            return tf.gather(chunk, order)

        return cached.batch(shuffle_buffer).enumerate().map(permute).unbatch()

    ds = tf.data.Dataset.counter().flat_map(one_pass)
    ds = ds.batch(batch_size, drop_remainder=True)
    counter = tf.data.Dataset.counter()
    ds = tf.data.Dataset.zip((ds, counter)).map(
        no_autograph(lambda x, i: make_pair(x, tf.stack([tf.constant(seed, tf.int64), i]))),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def evaluation_pipeline(images: tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
    """Finite, ordered stream of uint8 batches `[B, H, W, C]` (last batch may be smaller) for evaluation."""
    return images.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def patch_pipeline(photos: tf.data.Dataset, patch_size: int, batch_size: int, make_pair: Callable, *, seed: int,
                   patches_per_photo: int = 64) -> tf.data.Dataset:
    """Infinite training stream of random `patch_size` x `patch_size` patches of photos at their native resolution.

    `photos` yields uint8 `[H, W, C]` photos of any sizes (`load_images(crop="patches")`). They are decoded once
    and kept in memory as one zero-padded stack `[N, H_max, W_max, C]` (BSDS500's 200 training photos: 139 MB;
    a folder of many large photos needs that much memory). Photos smaller than the patch on a side are skipped.
    Each pass over the set cuts `patches_per_photo` patches from every photo, in an order shuffled per pass, so a
    pass is `N * patches_per_photo // batch_size` batches. Each patch has a uniformly random position inside its
    photo and one of the 8 flips/90-degree rotations (the dihedral group, the DnCNN/FFDNet augmentation); cutting
    and transforming are one vectorised gather per batch. Then, as in `training_pipeline`,
    `make_pair(patches uint8 [B, P, P, C], seed int64 [2])` runs once per batch with seed `(seed, batch index)`.

    Everything is stateless and seeded by `seed` (permutation: `(seed, pass)`, positions and transforms:
    `(seed, pass * 1,000,003 + batch)`), so every iterator of the returned dataset yields the same batches (under
    a tf.distribute strategy too, issue 14) and a run is reproducible from `--seed`.

    Raises:
      DatasetError: no photo is at least `patch_size` on both sides.
    """
    p = int(patch_size)
    usable = photos.filter(lambda im: tf.logical_and(tf.shape(im)[0] >= p, tf.shape(im)[1] >= p))
    count = int(usable.reduce(tf.constant(0, tf.int64), lambda k, _: k + 1))   # one decoding pass
    if count == 0:
        raise DatasetError(f"no training photo is at least {p}x{p} pixels (and decodes): nothing to cut patches from")
    # every photo in one element: [N, H_max, W_max, C] (zero-padded), sizes [N, 2]
    stack = usable.map(lambda im: (im, tf.shape(im)[:2])).padded_batch(count).take(1).cache()
    seed_t = tf.constant(seed, tf.int64)
    u = tf.range(p)
    rows0, cols0 = tf.meshgrid(u, u, indexing="ij")   # [P, P]

    def cut(images, sizes, photo_index, batch_seed):
        n = tf.shape(photo_index)[0]
        size = tf.gather(sizes, photo_index)                                            # [B, 2]
        pos = tf.random.stateless_uniform([n, 2], batch_seed, 0.0, 1.0)
        top_left = tf.cast(pos * tf.cast(size - p + 1, tf.float32), tf.int32)          # [B, 2] in [0, side - P]
        t = tf.random.stateless_uniform([n], tf.random.experimental.stateless_fold_in(batch_seed, 1), 0, 8,
                                        dtype=tf.int32)                                 # dihedral transform
        transpose = tf.reshape(tf.bitwise.bitwise_and(t, 4) > 0, [n, 1, 1])
        flip_r = tf.reshape(tf.bitwise.bitwise_and(t, 1) > 0, [n, 1, 1])
        flip_c = tf.reshape(tf.bitwise.bitwise_and(t, 2) > 0, [n, 1, 1])
        r = tf.where(transpose, cols0, rows0)
        c = tf.where(transpose, rows0, cols0)
        r = tf.where(flip_r, p - 1 - r, r) + top_left[:, 0, None, None]
        c = tf.where(flip_c, p - 1 - c, c) + top_left[:, 1, None, None]
        b = tf.broadcast_to(tf.reshape(photo_index, [n, 1, 1]), [n, p, p])
        return tf.gather_nd(images, tf.stack([b, r, c], axis=-1))                     # [B, P, P, C]

    def one_pass(pass_index, element):
        images, sizes = element
        n = tf.shape(sizes, out_type=tf.int64)[0]
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n * patches_per_photo), seed=tf.stack([seed_t, pass_index])) // patches_per_photo
        batches = (n * patches_per_photo) // batch_size

        def batch(b):
            index = order[b * batch_size:(b + 1) * batch_size]
            return cut(images, sizes, tf.cast(index, tf.int32), tf.stack([seed_t, pass_index * 1_000_003 + b]))

        return tf.data.Dataset.range(batches).map(batch)

    ds = stack.repeat().enumerate().flat_map(one_pass)
    counter = tf.data.Dataset.counter()
    ds = tf.data.Dataset.zip((ds, counter)).map(
        no_autograph(lambda x, i: make_pair(x, tf.stack([seed_t, i]))), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
