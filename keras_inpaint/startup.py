"""Quiet start-up for the command-line entry points (issue 15): no TensorFlow C++ start-up lines by default.

TensorFlow's native libraries write several lines to file descriptor 2 while they load and probe devices
("Could not find cuda drivers", "failed call to cuInit", "This TensorFlow binary is optimized to use ..."),
some of them through C++ logging that `TF_CPP_MIN_LOG_LEVEL` does not reach. `quiet_start()` imports
TensorFlow and runs its device discovery with descriptor 2 pointed at /dev/null, then restores it, so that
everything after (the project's output, Python warnings, tracebacks, real errors) shows as usual.

Set `TF_CPP_MIN_LOG_LEVEL` yourself (e.g. `TF_CPP_MIN_LOG_LEVEL=0 python train.py ...`) to see those lines.
This module imports nothing of TensorFlow at module level, so entry points can call it first.
"""
from __future__ import annotations

import os
import sys


def quiet_start() -> None:
    """Imports TensorFlow (and lists its devices) with the native start-up lines hidden, unless the user set
    `TF_CPP_MIN_LOG_LEVEL`. An import error is raised normally, after stderr is restored."""
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        import tensorflow  # noqa: F401   the user asked for TensorFlow's own log level: show what it prints
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()     # CUDA / device probing logs here
        tf.constant(0.0) + 1.0                # the first kernel: CPU feature guard
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
