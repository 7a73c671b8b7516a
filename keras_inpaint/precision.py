"""Numeric precision of training and inference: Keras dtype policies (issue 12).

Three policies, chosen per run with `--precision` (default: the model's `ModelSpec.precision`, measured):

  float32          every layer computes and stores in float32.
  mixed_bfloat16   layers compute in bfloat16, variables stay float32 (Keras mixed precision). On CPUs with
                   AMX-BF16 / AVX-512-BF16, oneDNN runs bfloat16 convolutions on those units (2-3x faster here);
                   on TPUs it is the native format. bfloat16 has float32's exponent range: no loss scaling.
  mixed_float16    layers compute in float16 (GPUs with tensor cores). Keras' `Model.compile` wraps the
                   optimiser in a `keras.optimizers.LossScaleOptimizer` to keep small gradients from
                   underflowing; the adversarial trainer does the same for its discriminator optimiser.

The conventions every builder, loss and task follows so that a mixed policy changes speed, not results:
  * the last layer of every network (image output, discriminator score) is built with `dtype="float32"`
    (`OUTPUT_DTYPE`), so network outputs, losses, paste-back and metrics are float32 under any policy;
  * regularisation losses are cast to float32 before they are summed with the loss;
  * exported signatures keep SPEC §4 dtypes (uint8 images in and out, float32 masks and extras).

The policy is process-global state in Keras; `policy_scope` sets it for a block and restores the previous one.
"""
from __future__ import annotations

import contextlib
import re

import keras

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
OUTPUT_DTYPE = "float32"   # dtype of every network's last layer (see the module docstring)


def check(name: str) -> str:
    """Returns `name` if it is a supported policy.

    Raises:
      ValueError: `name` is not one of `POLICIES` (the message lists them).
    """
    if name not in POLICIES:
        raise ValueError(f"precision must be one of {', '.join(POLICIES)}; got {name!r}")
    return name


@contextlib.contextmanager
def policy_scope(name: str):
    """Sets the global Keras dtype policy to `name` inside the block (layers built there use it) and restores
    the previous policy afterwards, even on error.

    Raises:
      ValueError: unknown policy name.
    """
    check(name)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def current() -> str:
    """Name of the global Keras dtype policy in force (e.g. 'float32', 'mixed_bfloat16')."""
    return keras.config.dtype_policy().name


def native_bfloat16() -> bool:
    """True where mixed_bfloat16 is the faster policy for the models that prefer it: a GPU or TPU is visible,
    or the CPU has AMX-BF16 tiles (`amx_bf16` in /proc/cpuinfo; oneDNN's avx512_core_amx kernels, 2.9x on a
    64-channel conv stack). AVX-512-BF16 without AMX (e.g. AMD Zen 4) only adds bfloat16 dot products: measured
    there with `benchmarks/throughput.py` (issue 12), mixed_bfloat16 / float32 training speed was 1.38x for
    dcgan_inpaint, 1.21x free_form_inpaint, 1.01x denoising_ae_mnist and 0.93x sr_autoencoder, so it counts
    as not native. AVX2-only CPUs emulate bfloat16 (slower than float32)."""
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU") or tf.config.list_physical_devices("TPU"):
        return True
    return "amx_bf16" in _cpu_flags()


def default_for(preferred: str) -> str:
    """The policy a run uses when `--precision` is not given: the model's measured `preferred` policy
    (`ModelSpec.precision`), except that 'mixed_bfloat16' falls back to 'float32' on hardware without native
    bfloat16 (`native_bfloat16`), where it was measured slower (issue 12: e.g. free_form_inpaint 6.6 img/s in
    float32 and far less under mixed_bfloat16 on an AVX2-only CPU). `--precision` always wins.

    Raises:
      ValueError: unknown policy name.
    """
    check(preferred)
    if preferred == "mixed_bfloat16" and not native_bfloat16():
        return "float32"
    return preferred


def _cpu_flags() -> set[str]:
    """The CPU feature flags of /proc/cpuinfo (empty where it cannot be read, e.g. not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            return set(re.search(r"^flags\s*:(.*)$", f.read(), re.M).group(1).split())
    except (OSError, AttributeError):
        return set()


def cpu_isa() -> str:
    """The best oneDNN instruction set this CPU offers for bfloat16 convolutions, read from /proc/cpuinfo:
    'avx512_core_amx (AMX-BF16)', 'avx512_core_bf16', 'avx512_core (no BF16)', 'avx2 (no BF16)' or 'unknown'.
    It explains the float32 / mixed_bfloat16 ratio a benchmark measures (without BF16 units bfloat16 is
    emulated and slower)."""
    flags = _cpu_flags()
    if "amx_bf16" in flags:
        return "avx512_core_amx (AMX-BF16)"
    if "avx512_bf16" in flags:
        return "avx512_core_bf16"
    if "avx512f" in flags:
        return "avx512_core (no BF16)"
    if "avx2" in flags:
        return "avx2 (no BF16)"
    return "unknown"
