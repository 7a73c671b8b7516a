"""The task protocol (`Task`) and what every task shares: seeds derived from pixels, padding, signature specs.

A task ties one corruption (`keras_inpaint.corruptions`) to one network output layout, so that training
(`make_pair`), evaluation (`evaluate_batch`), the TensorBoard image grid (`grid`) and the exported SavedModel
(`serving_signatures`) all run the same code path. Inputs to every method are uint8 image batches
`[N, H, W, C]` as stored; conversion to the network's value range happens through `keras_inpaint.data`.

Callers never probe a task with `hasattr`: what a task can do is declared by the class attributes of `Task`
(`takes_mask`, `any_size`, `latent_search`, `refines_prior`, `family`, ...) and its methods have the defaults
below.
"""
from __future__ import annotations

import abc

import tensorflow as tf


class Task(abc.ABC):
    """What a registry entry's task does for training, evaluation, the image grid and export.

    Declared capabilities (class attributes; a subclass sets the ones that differ):
      family: "inpainting" (conditional inpainters that take a mask: context encoder, dcgan_inpaint,
        free_form_inpaint), "restoration" (denoising / artifact removal), "super_resolution" or "latent"
        (z -> image priors served as z-search inpainters, and the refinement autoencoder).
      takes_mask: the exported `serving_default` takes a float32 `mask` `[N, H, W, 1]` (1.0 = fill) besides
        the uint8 `images` (SPEC §4).
      any_size: `serving_default` (and `restore`) take images of any H, W (fully convolutional networks), so
        whole benchmark images can be scored.
      latent_search: `inpainter(network)` returns a `latent_inpainting.LatentInpainter` (z-search).
      refines_prior: the model refines a z-search prior's completions (refinement_ae): `on_prior(prior_task,
        prior_network)` returns the task scored on them (`evaluate.py --prior`).
      scale: output side / input side of `serving_default` (super-resolution: 3), else 1.
      multiple: H and W of the network input are padded to a multiple of this (`run_padded`), else 1.
      self_ensemble: inference (`restore` outside training: evaluation, export, prediction) averages the
        network over the 8 flips / rotations of its input (`run_self_ensemble`); ffdnet_inpaint, ffdnet.
      hole: side of the centred square hole the task cuts (the centre-hole inpainters and z-search priors; an
        instance attribute there), None for tasks without one. A task with a hole and no `takes_mask` always
        fills that square (the context encoders); the model card records it (`exporting.serving_card`).
      quick_run_test_images: test images scored at the end of a run shorter than its schedule (or with
        `--max_examples`) unless `--test_examples` says otherwise, and at most as many validated per epoch
        (None: the whole split and `--val_examples`; issue 15).
      training_only_options: task options that only make training pairs (e.g. refinement_ae's cache file):
        recorded in an export's model card, left out when the card's task is rebuilt (`exporting.card_task`).
      builtin_ops: trace the serving functions with ops that the ONNX and LiteRT converters have (e.g.
        `corruptions.bicubic_upscale(..., builtin_ops=True)`), equal to TensorFlow's own within float32
        rounding; set on the task that `keras_inpaint.portable` converts, False for SavedModels and training.
      extra_baselines: ((name, label), ...): baselines scored besides the main one, each metric under the key
        `baseline_<name>_<metric>` (the photo inpainter's classical methods); printed as extra columns and
        counted by `metrics.beats_baseline`. Empty for most tasks.
    Instance attributes every task sets: `image_shape` (H, W, C) of the stored training images,
    `value_range` ((0, 1) or (-1, 1): the range of `make_pair` / `restore` tensors), `report` ((metric key,
    label), ... in print order) and `baseline_name`.
    """

    family: str = "inpainting"
    takes_mask: bool = False
    any_size: bool = False
    latent_search: bool = False
    refines_prior: bool = False
    scale: int = 1
    multiple: int = 1
    self_ensemble: bool = False
    hole: int | None = None
    quick_run_test_images: int | None = None
    training_only_options: tuple[str, ...] = ()
    builtin_ops: bool = False
    extra_baselines: tuple[tuple[str, str], ...] = ()

    @abc.abstractmethod
    def make_pair(self, images: tf.Tensor, seed=None):
        """uint8 `[N, H, W, C]` -> (network input, target), float32 in the network's range. `seed` (int64 `[2]`,
        or None: derived from the pixels) drives random corruptions."""

    @abc.abstractmethod
    def restore(self, network, images: tf.Tensor, **kwargs) -> dict[str, tf.Tensor]:
        """Corrupts (or masks) uint8 `images` the way evaluation does and runs `network`; returns a dict of
        tensors including `input` and `restored`."""

    @abc.abstractmethod
    def serving_signatures(self) -> dict:
        """{signature name: (function of (network, *inputs), list of input `tf.TensorSpec`)} (SPEC §4)."""

    @abc.abstractmethod
    def evaluate_batch(self, network, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Per-image metrics `[N]` of the model and, prefixed `baseline_`, of the task's baseline (SPEC §3; and
        `baseline_<name>_` for each of `extra_baselines`). A key `mask_area` (or `mask_area_<suffix>`) holds each
        image's hole fraction, which `evaluation.evaluate` bins the metrics (ending in `_<suffix>`) by."""

    @abc.abstractmethod
    def grid(self, network, images: tf.Tensor) -> tf.Tensor:
        """uint8 `[1, N*H, K*W, C]` image grid, one row per image (TensorBoard, grid.png)."""

    def validation_view(self, val_examples: int) -> tuple["Task", int]:
        """The task and test-image count of the per-epoch validation: this task and `val_examples` (z-search
        tasks return a cheaper copy; issue 15)."""
        return self, int(val_examples)

    def inpainter(self, network, refiner=None):
        """The z-search inpainter over `network` (tasks with `latent_search` only). Raises TypeError otherwise."""
        raise TypeError(f"{type(self).__name__} has no latent search (latent_search = False)")

    def on_prior(self, prior_task: "Task", prior_network) -> "Task":
        """This task scored on the completions of a z-search prior (tasks with `refines_prior` only). Raises
        TypeError otherwise."""
        raise TypeError(f"{type(self).__name__} does not refine a prior's completions (refines_prior = False)")


def check_range(task: str, value_range, expected) -> tuple[float, float]:
    """`value_range` as a float tuple; ValueError unless it equals `expected` (a task whose network works in one
    range only, e.g. a sigmoid-output autoencoder in (0, 1))."""
    value_range = tuple(float(v) for v in value_range)
    if value_range != tuple(float(v) for v in expected):
        raise ValueError(f"{task} works in the value range {tuple(expected)}, got {value_range}")
    return value_range


EVAL_SEED = 20_02  # fixed first seed word of every evaluation corruption (the second word hashes the pixels)


def content_seed(images: tf.Tensor, salt: int) -> tf.Tensor:
    """A stateless seed, int64 `[2]`, = (salt, sum of the batch's uint8 pixel values).

    Used where no seed is passed (validation pairs, evaluation), so that a corruption is a deterministic
    function of the images: the same test batch always gets the same noise or box, and different batches
    get different ones.
    """
    return tf.stack([tf.constant(salt, tf.int64), tf.reduce_sum(tf.cast(images, tf.int64))])


def run_padded(network, images: tf.Tensor, multiple: int, training: bool = False,
               builtin_ops: bool = False) -> tf.Tensor:
    """Runs a fully convolutional `network` on images of any size by symmetric padding to a size multiple.

    `images` float `[N, H, W, C]` (H, W >= `multiple` - 1, or already multiples) are padded at the bottom and
    right with `tf.pad(mode='SYMMETRIC')` (mirror including the edge pixel) to the next multiple of
    `multiple` (e.g. 4 for the two poolings of `sr_autoencoder`), passed through `network`, and the output is
    cropped back to `[N, H, W, C_out]`. No padding (and static shapes kept) when H and W are multiples already.
    `builtin_ops` (the ONNX / LiteRT exports, `Task.builtin_ops`): the same padding written as reversed slices
    concatenated (`symmetric_pad_end`), as tf2onnx converts run-time SYMMETRIC pads to a wrong size and LiteRT
    loses the channel count through them.
    """
    h, w = images.shape[1], images.shape[2]
    if h is not None and w is not None and h % multiple == 0 and w % multiple == 0:
        return network(images, training=training)
    shape = tf.shape(images)
    h, w = shape[1], shape[2]
    # (m - h % m) % m, not (-h) % m: tf2onnx converts an integer floor-mod of a negative number with a
    # truncating division (-10 % 4 gives -2 there)
    pad_h, pad_w = (multiple - h % multiple) % multiple, (multiple - w % multiple) % multiple
    if builtin_ops:
        padded = symmetric_pad_end(images, pad_h, pad_w)
    else:
        padded = tf.pad(images, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="SYMMETRIC")
    return network(padded, training=training)[:, :h, :w, :]


def run_self_ensemble(network, images: tf.Tensor, multiple: int, training: bool = False,
                      builtin_ops: bool = False) -> tf.Tensor:
    """`run_padded` with the geometric self-ensemble: the mean of `network`'s outputs on the 8 flips / 90-degree
    rotations of `images` (the dihedral group), each output turned back first (Timofte, Rothe, Van Gool, "Seven
    ways to improve example-based single image super resolution", CVPR 2016, §2.1 "enhanced prediction"; Lim et
    al., EDSR, CVPRW 2017, §3.4 "geometric self-ensemble"). For a network trained on flipped and rotated crops it
    averages 8 estimates of the same image: 8x the inference time, no weights.

    `images` float `[N, H, W, C]` (any H, W: each view is padded as `run_padded` pads) -> the network's float
    output `[N, H, W, C_out]`. The network's own output must be spatially aligned with its input (a fully
    convolutional image-to-image network).

    Raises:
      ValueError: `training` (an ensemble is an inference protocol; training sees one view).
    """
    if training:
        raise ValueError("the self-ensemble is for inference only (training=True given)")
    outputs = []
    for quarter_turns in range(4):
        for flip in (False, True):
            view = tf.image.rot90(images, quarter_turns)
            view = tf.reverse(view, [2]) if flip else view
            out = run_padded(network, view, multiple, builtin_ops=builtin_ops)
            out = tf.reverse(out, [2]) if flip else out
            outputs.append(tf.image.rot90(out, (4 - quarter_turns) % 4))
    return tf.add_n(outputs) / float(len(outputs))


def symmetric_pad_end(images: tf.Tensor, pad_h, pad_w) -> tf.Tensor:
    """`tf.pad(images, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode='SYMMETRIC')` (pads <= H, W; ints or scalar
    int32 tensors) from reverse, slice and concat, which every converter has; same values, static C kept."""
    images = tf.concat([images, tf.reverse(images, [1])[:, :pad_h]], axis=1)
    return tf.concat([images, tf.reverse(images, [2])[:, :, :pad_w]], axis=2)


def image_and_mask_specs(image_shape) -> tuple[tf.TensorSpec, tf.TensorSpec]:
    """SPEC §4 signature inputs for `image_shape` (H, W, C): uint8 `images` `[None, H, W, C]` and float32 `mask`
    `[None, H, W, 1]` (1.0 = fill)."""
    h, w, c = image_shape
    return (tf.TensorSpec([None, h, w, c], tf.uint8, name="images"),
            tf.TensorSpec([None, h, w, 1], tf.float32, name="mask"))


def rows_grid(columns) -> tf.Tensor:
    """uint8 `[N, H, W, C]` tensors side by side, one row per image -> uint8 `[1, N*H, K*W, C]`."""
    rows = tf.concat(columns, axis=2)
    n, h, w3, c = tf.unstack(tf.shape(rows))
    return tf.reshape(rows, [1, n * h, w3, c])


def check_mask(mask: tf.Tensor, images: tf.Tensor) -> tf.Tensor:
    """Validates a user mask (SPEC §2) against uint8/float `images` `[N, H, W, C]`; returns it as float32.

    A mask is float32 `[N, H, W, 1]` holding only 0.0 (known) and 1.0 (fill). Raises ValueError when a static
    shape is wrong, and `tf.errors.InvalidArgumentError` (also inside a SavedModel) when the dynamic shape
    differs from the images' or a value is not 0 or 1. Nothing is resized or thresholded silently.
    """
    mask = tf.cast(mask, tf.float32)
    if mask.shape.rank is not None and (mask.shape.rank != 4 or mask.shape[-1] not in (None, 1)):
        raise ValueError(f"mask must be [N, H, W, 1], got shape {mask.shape}")
    for axis in (0, 1, 2):
        a, b = mask.shape[axis], images.shape[axis]
        if a is not None and b is not None and a != b:
            raise ValueError(f"mask shape {mask.shape} does not match images shape {images.shape}")
    binary = tf.reduce_all(tf.logical_or(tf.equal(mask, 0.0), tf.equal(mask, 1.0)))
    checks = [
        tf.debugging.assert_equal(tf.shape(mask)[:3], tf.shape(images)[:3],
                                  message="mask [N, H, W, 1] must match the images [N, H, W, C]"),
        tf.debugging.assert_equal(tf.shape(mask)[3], 1, message="mask must have one channel"),
        tf.debugging.Assert(binary, ["mask values must be 0.0 (known) or 1.0 (fill)"]),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(mask)
