"""Keras callbacks of the training loop: validation image metrics, the TensorBoard image grid, and training-loss
scalars on the run's global step (continuous across resumes)."""
from __future__ import annotations

import os
import signal
import threading

import keras
import numpy as np
import tensorflow as tf

from keras_inpaint import evaluation
from keras_inpaint.training.checkpoints import trained_steps


class ImageMetricsCallback(keras.callbacks.Callback):
    """At each epoch end: task metrics on a fixed validation set and an image grid of fixed test images.

    Adds `val_<metric>` (e.g. `val_psnr`, `val_ssim`, `val_hole_psnr`) to the epoch logs, so the Keras
    progress bar prints them and the `TensorBoard` callback placed after this one writes them (validation run).
    The grid (masked input | output after paste-back | original, one row per image) goes to
    `<log_dir>/images` as `grid` and is also saved as `<png_path>` (a PNG of the latest epoch).

    Args:
      task: a `keras_inpaint.tasks` object.
      network: the inference network (for a GAN: the generator).
      val_images: uint8 `[N, H, W, C]` tensor of validation images (metrics).
      grid_images: uint8 `[K, H, W, C]` tensor of images shown in the grid.
      log_dir: TensorBoard log directory; png_path: where to write the latest grid (None: don't).
      eval_steps: the run's traced evaluation steps (`Run.eval_steps`): the metrics are traced once for this
        callback and the run's test evaluation (None: traced for this callback alone).
    """

    def __init__(self, task, network, val_images, grid_images, log_dir: str, png_path: str | None = None,
                 batch_size: int = 500, eval_steps: dict | None = None):
        super().__init__()
        self.task, self.network = task, network
        self.val_images, self.grid_images = val_images, grid_images
        self.batch_size = batch_size
        self.png_path = png_path
        self.writer = tf.summary.create_file_writer(os.path.join(log_dir, "images"))
        self._eval = evaluation.evaluation_step(task, network, val_images.shape, eval_steps)
        self._grid = tf.function(lambda x: task.grid(network, x), autograph=False)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        sums, n = {}, 0
        for start in range(0, int(self.val_images.shape[0]), self.batch_size):
            batch = self.val_images[start:start + self.batch_size]
            for k, v in self._eval(batch).items():
                if not k.startswith("baseline_"):
                    sums[k] = sums.get(k, 0.0) + float(tf.reduce_sum(v))
            n += int(batch.shape[0])
        for k, v in sums.items():
            logs[f"val_{k}"] = v / n
        grid = self._grid(self.grid_images)
        step = trained_steps(self.model)
        with self.writer.as_default():
            tf.summary.image("grid (masked input | output | original)", grid, step=step)
        self.writer.flush()
        if self.png_path:
            save_png(grid[0].numpy(), self.png_path)


class TrainingScalars(keras.callbacks.Callback):
    """Every `every` iterations, writes the progress-bar values (`loss`, `d_loss`, `g_loss`, ...; running means
    over the current epoch) to `<log_dir>/train` as `batch_<name>`, at the run's global iteration
    (`trained_steps`). Keras' `TensorBoard(update_freq=N)` counts batches from 0 in every `fit()` call, so a
    resumed run would draw over its own earlier curve; this callback continues it.
    """

    def __init__(self, log_dir: str, every: int = 100):
        super().__init__()
        self.every = every
        self.writer = tf.summary.create_file_writer(os.path.join(log_dir, "train"))

    def on_train_batch_end(self, batch, logs=None):
        if not logs or (batch + 1) % self.every:
            return
        step = trained_steps(self.model)
        with self.writer.as_default():
            for name, value in logs.items():
                tf.summary.scalar(f"batch_{name}", float(value), step=step)

    def on_train_end(self, logs=None):
        self.writer.flush()


class RunProgress(keras.callbacks.Callback):
    """One progress bar for the whole run, not per epoch (issue 15): the iterations of this invocation (the
    remaining schedule when resuming), the training losses (running means of the epoch, as Keras shows them),
    the latest validation metrics once an epoch has ended, and the ETA of the run (`keras.utils.Progbar`). Used
    by `training.run.train` on a terminal, with `fit(verbose=0)`; off a terminal the run prints Keras' one line
    per epoch instead, which keeps log files readable.

    Args:
      total_steps: iterations of the schedule; initial_step: iterations already done (a resumed run).
    """

    def __init__(self, total_steps: int, initial_step: int = 0):
        super().__init__()
        self.total, self.initial = int(total_steps), int(initial_step)
        self._bar = None
        self._val = {}

    def _update(self, logs, finalize=False):
        done = min(trained_steps(self.model), self.total) - self.initial
        values = [(k, float(v)) for k, v in {**(logs or {}), **self._val}.items() if np.size(v) == 1]
        self._bar.update(max(done, 0), values=values, finalize=finalize)

    def on_train_begin(self, logs=None):
        # stateless_metrics=(): every value is shown as given (Keras' logs are already running means)
        self._bar = keras.utils.Progbar(self.total - self.initial, unit_name="step", stateless_metrics=())

    def on_train_batch_end(self, batch, logs=None):
        self._update(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._val = {k: v for k, v in (logs or {}).items() if k.startswith("val_")}

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._update(logs, finalize=True)


def save_png(image: np.ndarray, path: str, scale: int = 1) -> None:
    """Writes a uint8 `[H, W, C]` array as PNG (optionally upscaled by an integer factor, nearest)."""
    from PIL import Image

    img = Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    img.save(path)



class TrainingDiverged(RuntimeError):
    """Raised by `StopOnNaN`: a training loss became NaN or infinite (the message names it and the step)."""


class StopOnNaN(keras.callbacks.Callback):
    """Stops a diverging run at the first training batch whose logged losses are not finite.

    Like `keras.callbacks.TerminateOnNaN`, but it checks every logged value, so the GAN trackers (`d_loss`,
    `g_loss`, ...) are covered too, not only `loss`; and it raises `TrainingDiverged` instead of setting
    `stop_training`, so the epoch never ends and `BackupAndRestore` never saves the diverged weights: the last
    good checkpoint (the previous epoch) stays, and re-running the command resumes from it.
    """

    def on_train_batch_end(self, batch, logs=None):
        bad = {k: float(v) for k, v in (logs or {}).items()
               if np.ndim(v) == 0 and not np.isfinite(float(v))}
        if bad:
            step = trained_steps(self.model)
            names = ", ".join(f"{k} = {v}" for k, v in sorted(bad.items()))
            raise TrainingDiverged(
                f"training diverged at step {step}: {names}. The checkpoint of the last completed epoch is kept; "
                "lower --learning_rate (or fix the data) and re-run the same command to resume from it.")


class DeferredCtrlC(keras.callbacks.Callback):
    """Ctrl-C (SIGINT) during `fit` stops training at the next batch end, as `KeyboardInterrupt` raised there.

    Python turns SIGINT into `KeyboardInterrupt` in whatever Python code the main thread runs next. Inside
    TensorFlow that can be an object finaliser (`__del__` of a tensor or resource), where Python prints
    "Exception ignored in ..." and drops the exception: the run goes on as if Ctrl-C was never pressed (the
    likely cause of a first SIGINT lost in tests/test_reliability.py's Ctrl-C test under a loaded CPU). Here the
    signal handler only records the request and this callback raises it at the next training or validation
    batch end (or epoch end), a place where it always reaches `train.py` (which prints the resume point). A
    second Ctrl-C before that raises at once, as Python's default handler does.

    Use as a context manager around `fit` (it installs the handler on entry, in the main thread only, and
    restores the previous one on exit, also when `fit` raises) and pass it in `callbacks`.
    """

    def __init__(self):
        super().__init__()
        self.requested = False
        self._previous = None

    def __enter__(self):
        self.requested = False
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def _raise_if_requested(self, *args, **kwargs):
        if self.requested:
            raise KeyboardInterrupt

    on_train_batch_end = on_test_batch_end = on_epoch_end = on_epoch_begin = _raise_if_requested
