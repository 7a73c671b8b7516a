"""Test-set evaluation with baselines (SPEC §3): averages a task's per-image metrics and prints the table."""
from __future__ import annotations

import tensorflow as tf


def evaluate(task, network, images: tf.data.Dataset, batch_size: int = 256) -> dict[str, float]:
    """Averages `task.evaluate_batch` over every image of `images` (uint8 `[H, W, C]` elements).

    Returns:
      {metric: mean over images} for the model and the task's baseline (keys prefixed `baseline_`), plus
      `num_images`.
    Raises:
      ValueError: if `images` is empty.
    """
    step = tf.function(lambda x: task.evaluate_batch(network, x))
    sums: dict[str, float] = {}
    count = 0
    for batch in images.batch(batch_size).prefetch(tf.data.AUTOTUNE):
        values = step(batch)
        for k, v in values.items():
            sums[k] = sums.get(k, 0.0) + float(tf.reduce_sum(tf.cast(v, tf.float64)))
        count += int(batch.shape[0])
    if count == 0:
        raise ValueError("evaluation set is empty")
    out = {k: v / count for k, v in sums.items()}
    out["num_images"] = count
    return out


def format_table(results: dict[str, float], task, title: str = "test set") -> str:
    """A small text table: one row per reported metric, model vs the task's baseline."""
    rows = [f"{title}: {results.get('num_images', '?')} images; baseline = {task.baseline_name}",
            f"{'metric':<44} {'model':>10} {'baseline':>10}"]
    for key, label in task.report:
        if key in results:
            base = results.get(f"baseline_{key}")
            base_s = f"{base:>10.4f}" if base is not None else f"{'':>10}"
            rows.append(f"{label:<44} {results[key]:>10.4f} {base_s}")
    return "\n".join(rows)
