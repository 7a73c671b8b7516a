"""tf.distribute strategies from the command line (`train.py --strategy=...`, issue 14), and the training input a
strategy gets.

Strategies (`make_strategy`):
  default       the current device (one GPU if there is one, else the CPU).
  mirrored      `tf.distribute.MirroredStrategy` over all local GPUs, or over `devices` ("/gpu:0,/gpu:1").
  multi_worker  `tf.distribute.MultiWorkerMirroredStrategy` over the cluster of the `TF_CONFIG` environment
                variable (every worker runs the same command; worker 0 is the chief). Without TF_CONFIG: one
                local worker.
  tpu           `tf.distribute.TPUStrategy` on the TPU named by `tpu` ("" = the local / Colab TPU).

What a strategy changes and what it does not:
  * `--batch_size` stays the GLOBAL batch size: each of the N replicas gets batch_size / N images (an error if it
    does not divide), and the losses are scaled for the global batch (losses.py), so the maths is the
    single-device run's; GAN BatchNorms synchronise across replicas (`sync_bn`).
  * Training input (`distribute_training_input`): every worker builds the same seeded pipeline of GLOBAL batches
    (order, masks, noise and downscaling exactly the single-device run's) and keeps its own replicas' slices of each
    batch; so no tf.data auto-sharding policy is used for training data (auto-sharding rewrites the pipeline, which
    changed the shuffle order in our measurements). Validation batches are sharded with `AutoShardPolicy.DATA`.
  * Only the chief (`is_chief`) writes config.json, TensorBoard logs, the image grid, checkpoints, metrics.json
    and the export; the other workers restore from the chief's checkpoint (the run directory must be on a
    shared filesystem for multi-worker resume) and keep their own state in a scratch folder.

Keras 3 (3.15) `fit()` cannot run under a plain `MultiWorkerMirroredStrategy`: it reduces nested structures and
scalar metrics with `strategy.reduce`, which the collective strategy rejects (keras-team/keras#20585).
`MultiWorkerStrategy` is that strategy with a `reduce` that accepts both; nothing else differs.
"""
from __future__ import annotations

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")
_CREATED: dict[tuple, tf.distribute.Strategy] = {}


class MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """`tf.distribute.MultiWorkerMirroredStrategy` whose `reduce` also takes a nested structure of per-replica
    values, and reduces a scalar (rank-0) value across replicas when asked for `axis=0`: the two calls Keras 3's
    `fit()` makes (the first data batch, the per-replica metrics), which the parent class rejects."""

    def reduce(self, reduce_op, value, axis):
        def one(v):
            local = self.experimental_local_results(v)[0]
            return super(MultiWorkerStrategy, self).reduce(reduce_op, v, None if local.shape.rank == 0 else axis)
        return tf.nest.map_structure(one, value)


def make_strategy(name: str = "default", devices: list[str] | None = None, tpu: str | None = None
                  ) -> tf.distribute.Strategy:
    """The strategy `name` (module docstring), created once per process (a second call returns the same object:
    `MultiWorkerMirroredStrategy` and `TPUStrategy` may only be set up once, before other TensorFlow work).

    Raises:
      ValueError: unknown name, `devices` with a strategy other than mirrored, or a `TF_CONFIG` that is not a
        JSON object with a `cluster` and a `task`; the TPU cannot be found (the message names `--tpu`).
    """
    if name not in STRATEGIES:
        raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
    if devices and name != "mirrored":
        raise ValueError(f"--devices only applies to --strategy=mirrored, got --strategy={name}")
    key = (name, tuple(devices or ()), tpu)
    if key in _CREATED:
        return _CREATED[key]
    if name == "default":
        strategy = tf.distribute.get_strategy()
    elif name == "mirrored":
        strategy = tf.distribute.MirroredStrategy(list(devices) if devices else None)
    elif name == "multi_worker":
        _check_tf_config()
        strategy = MultiWorkerStrategy()
    else:
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, tf.errors.OpError) as e:
            raise ValueError(f"--strategy=tpu: no TPU found for --tpu={tpu or ''!r} ({e})") from None
        strategy = tf.distribute.TPUStrategy(resolver)
    _CREATED[key] = strategy
    return strategy


def _check_tf_config() -> None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return
    try:
        cfg = json.loads(raw)
        ok = isinstance(cfg, dict) and "cluster" in cfg and "task" in cfg
    except json.JSONDecodeError:
        ok = False
    if not ok:
        raise ValueError('TF_CONFIG must be a JSON object like {"cluster": {"worker": ["host1:port", ...]}, '
                         f'"task": {{"type": "worker", "index": 0}}}}, got {raw[:200]!r}')


def num_workers(strategy: tf.distribute.Strategy) -> int:
    """Workers (machines) of the strategy: >1 only for a multi-worker cluster."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or strategy.cluster_resolver is None:
        return 1
    cluster = strategy.cluster_resolver.cluster_spec().as_dict()
    return max(1, len(cluster.get("worker", ())) + len(cluster.get("chief", ())))


def worker_index(strategy: tf.distribute.Strategy) -> int:
    """This worker's index in the cluster (0 for everything but a multi-worker strategy's other workers)."""
    if num_workers(strategy) == 1:       # else a multi-worker strategy with its cluster resolver
        return 0
    resolver = strategy.cluster_resolver
    return int(resolver.task_id or 0) + (1 if resolver.task_type == "worker" and
                                         "chief" in resolver.cluster_spec().as_dict() else 0)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the one process that writes logs, checkpoints, metrics and the export (worker 0, or the `chief`
    task of a TF_CONFIG that names one)."""
    return worker_index(strategy) == 0


def distribute_training_input(strategy: tf.distribute.Strategy, make_dataset, global_batch_size: int):
    """The training input for `fit()` under `strategy`.

    `make_dataset()` builds the pipeline of GLOBAL batches (a nested structure of tensors whose first dimension is
    `global_batch_size`), identical on every worker. With the default strategy it is returned as it is; otherwise
    each worker keeps its replicas' consecutive slices of each global batch (replica r of the whole cluster gets
    rows [r * b, (r + 1) * b), b = global_batch_size / replicas), as a `tf.distribute.DistributedDataset`.

    Raises:
      ValueError: `global_batch_size` is not a multiple of the number of replicas.
    """
    replicas = strategy.num_replicas_in_sync
    if strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy():   # the default strategy
        return make_dataset()
    if global_batch_size % replicas:
        raise ValueError(f"--batch_size {global_batch_size} (the global batch) must be a multiple of the "
                         f"{replicas} replicas of the strategy")
    per_replica = global_batch_size // replicas

    def dataset_fn(context: tf.distribute.InputContext):
        local = replicas // context.num_input_pipelines
        first = context.input_pipeline_id * local

        def keep(*batch):
            def rows(t):
                t = tf.reshape(t, tf.concat([[replicas, per_replica], tf.shape(t)[1:]], 0))
                return t[first:first + local]
            return tf.nest.map_structure(rows, batch if len(batch) > 1 else batch[0])
        return make_dataset().map(keep).unbatch()

    return strategy.distribute_datasets_from_function(dataset_fn)


def validation_input(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset` with `AutoShardPolicy.DATA`: under a multi-worker strategy each worker scores its share of the
    elements (finite validation sets from memory have no files to shard by)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)
