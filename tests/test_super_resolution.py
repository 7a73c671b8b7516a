"""Seed 003 super-resolution autoencoder (spec/models.md §6), the SuperResolution task and its SavedModel."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import data, registry
from keras_inpaint.models.super_resolution import network as super_resolution
from keras_inpaint.training import run


def test_parameter_count_matches_the_seed_and_layer_table():
    spec = registry.get("sr_autoencoder")
    net = spec.build_network()
    assert net.count_params() == spec.params == 1_110_403        # seed 003: "1,110,403 parámetros"
    fixed = super_resolution.build_sr_autoencoder((120, 120, 3))
    assert fixed.count_params() == 1_110_403
    rows = [(l.name, tuple(l.output.shape[1:]), l.count_params()) for l in fixed.layers[1:]]
    assert rows == [
        ("enc1_conv1", (120, 120, 64), 1_792), ("enc1_conv2", (120, 120, 64), 36_928),
        ("pool1", (60, 60, 64), 0), ("enc2_conv1", (60, 60, 128), 73_856), ("enc2_conv2", (60, 60, 128), 147_584),
        ("pool2", (30, 30, 128), 0), ("bottleneck", (30, 30, 256), 295_168), ("up1", (60, 60, 256), 0),
        ("dec1_conv1", (60, 60, 128), 295_040), ("dec1_conv2", (60, 60, 128), 147_584), ("add1", (60, 60, 128), 0),
        ("up2", (120, 120, 128), 0), ("dec2_conv1", (120, 120, 64), 73_792), ("dec2_conv2", (120, 120, 64), 36_928),
        ("add2", (120, 120, 64), 0), ("output", (120, 120, 3), 1_731)]
    # residual adds: l5 + l10 and l14 + l2 (R-SR, spec 003-a)
    assert [t.name for t in fixed.get_layer("add1").input] == [fixed.get_layer("enc2_conv2").output.name,
                                                               fixed.get_layer("dec1_conv2").output.name]
    assert all(l.activity_regularizer is not None for l in fixed.layers if "conv" in l.name or l.name in
               ("bottleneck", "output"))


def test_fully_convolutional_shapes():
    net = super_resolution.build_sr_autoencoder()
    for h, w in ((120, 120), (48, 64)):
        out = net(tf.random.uniform((1, h, w, 3)))
        assert out.shape == (1, h, w, 3) and float(tf.reduce_min(out)) >= 0.0   # ReLU output
    with pytest.raises(ValueError):
        super_resolution.build_sr_autoencoder((122, 120, 3))


def _identity(x, training=False):
    return x


def test_task_pairs_metrics_and_serving_on_any_size():
    task = registry.get("sr_autoencoder").task()
    assert task.scale == 3 and registry.get("sr_autoencoder").crop == "centre"
    hr = tf.cast(tf.random.uniform((2, 120, 120, 3), 0, 256, tf.int32), tf.uint8)
    x, y = task.make_pair(hr)
    assert x.shape == y.shape == (2, 120, 120, 3)
    out = task.evaluate_batch(_identity, hr)
    assert set(out) == {f"{p}{m}" for p in ("", "baseline_") for m in ("psnr_y", "ssim_y", "psnr_rgb")}
    for k in ("psnr_y", "ssim_y", "psnr_rgb"):          # identity network == bicubic baseline
        np.testing.assert_allclose(out[k].numpy(), out[f"baseline_{k}"].numpy(), rtol=1e-6)
    # HR sizes that are not multiples of the scale are cropped to multiples ("modcrop")
    odd = tf.cast(tf.random.uniform((1, 31, 26, 3), 0, 256, tf.int32), tf.uint8)
    assert task.restore(_identity, odd)["restored"].shape == (1, 30, 24, 3)
    # serving: a low-resolution image of any size -> exactly 3x, uint8, through the padded network
    net = super_resolution.build_sr_autoencoder()
    lr = tf.cast(tf.random.uniform((1, 13, 17, 3), 0, 256, tf.int32), tf.uint8)
    served = task.serve(net, lr)
    assert served["images"].shape == (1, 39, 51, 3) and served["images"].dtype == tf.uint8
    assert served["bicubic"].shape == (1, 39, 51, 3)
    grid = task.grid(_identity, hr)
    assert grid.shape == (1, 240, 360, 3) and grid.dtype == tf.uint8


def test_bicubic_baseline_on_set5_matches_the_literature(benchmarks_dir):
    """Bicubic x3 on Set5, Y channel, 3 px shaved: 30.39 dB / SSIM 0.8682 in the SR literature (MATLAB imresize
    and rgb2ycbcr, e.g. the VDSR/EDSR tables). The degradation, Y conversion and shave reproduce it."""
    task = registry.get("sr_autoencoder").task()
    psnr, ssim = [], []
    for name in ("baby", "bird", "butterfly", "head", "woman"):
        img = tf.io.decode_png(tf.io.read_file(os.path.join(benchmarks_dir, "Set5", f"{name}.png")), channels=3)
        out = task.evaluate_batch(_identity, img[None])
        psnr.append(float(out["baseline_psnr_y"][0]))
        ssim.append(float(out["baseline_ssim_y"][0]))
    assert abs(np.mean(psnr) - 30.39) < 0.05, psnr
    assert abs(np.mean(ssim) - 0.8682) < 0.003, ssim


PLAIN_TF_SCRIPT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    model_dir, png = sys.argv[1], sys.argv[2]
    loaded = tf.saved_model.load(model_dir)
    hr = tf.io.decode_png(tf.io.read_file(png), channels=3)
    h, w = hr.shape[0] // 3, hr.shape[1] // 3
    low = tf.image.resize(tf.cast(hr, tf.float32), (h, w), method="bicubic", antialias=True)
    low = tf.cast(tf.round(tf.clip_by_value(low, 0.0, 255.0)), tf.uint8)[None]
    out = loaded.signatures["serving_default"](images=low)
    card = json.load(open(model_dir + "/assets/model_card.json"))
    print(json.dumps({"hr": hr.shape.as_list(), "low": low.shape.as_list(), "images": out["images"].shape.as_list(),
                      "dtype": out["images"].dtype.name, "bicubic": out["bicubic"].shape.as_list(),
                      "modules": sorted(m for m in sys.modules if m.startswith("keras_inpaint")),
                      "card_id": card["id"]}))
""")


def test_short_training_export_and_set5_in_plain_tensorflow(quick_run, benchmarks_dir, tmp_path):
    """The shared quick run of sr_autoencoder (conftest's `quick_run`: 2 steps on real faces, Set5 scored whole)
    exported via run.train; a Set5 image goes through the SavedModel in a fresh process that imports only
    TensorFlow."""
    result = quick_run("sr_autoencoder")
    assert result["metrics"]["num_images"] == 2
    assert {"psnr_y", "baseline_psnr_y", "ssim_y", "psnr_rgb"} <= set(result["metrics"])
    # Set5 scored whole (batch 1, sizes 228x344 .. 512x512); the bicubic baseline is the literature's 30.39 dB
    bench = result["metrics"]["benchmarks"]["Set5"]
    assert bench["num_images"] == 5
    assert abs(bench["baseline_psnr_y"] - 30.39) < 0.05
    assert np.isfinite(bench["psnr_y"]) and 0.0 < bench["ssim_y"] <= 1.0
    with open(os.path.join(result["run_dir"], "metrics.json")) as f:
        assert json.load(f)["benchmarks"]["Set5"]["num_images"] == 5
    path = result["export_path"]
    script = tmp_path / "plain_tf.py"
    script.write_text(PLAIN_TF_SCRIPT)
    png = os.path.join(benchmarks_dir, "Set5", "woman.png")    # 344x228 -> LR 114x76 -> 342x228 (342 padded to 344)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH="")
    proc = subprocess.run([sys.executable, str(script), path, png], capture_output=True, text=True, timeout=300,
                          cwd=str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["hr"] == [344, 228, 3] and out["low"] == [1, 114, 76, 3]
    assert out["images"] == [1, 342, 228, 3] and out["bicubic"] == [1, 342, 228, 3]   # exactly 3x the input
    assert out["dtype"] == "uint8"
    assert out["modules"] == [] and out["card_id"] == "sr_autoencoder"


def test_benchmarks_config_defaults_and_errors(benchmarks_dir, tmp_path, monkeypatch):
    """sr_autoencoder scores Set5/Set14 by default where the folders exist; a missing folder or a fixed-size
    model fails before any data is loaded."""
    monkeypatch.chdir(os.path.join(os.path.dirname(__file__), ".."))     # defaults are relative to the root
    resolved = run.RunConfig.of(model="sr_autoencoder", output_dir=str(tmp_path)).resolved()
    expected = [p for p in registry.get("sr_autoencoder").benchmarks if os.path.isdir(p)]
    assert resolved.data.benchmarks == expected and len(expected) == 2
    none = run.RunConfig.of(model="sr_autoencoder", benchmarks=[], output_dir=str(tmp_path)).resolved()
    assert none.data.benchmarks == []
    with pytest.raises(data.DatasetError, match="not a directory"):
        run.RunConfig.of(model="sr_autoencoder", benchmarks=[str(tmp_path / "nope")]).resolved()
    with pytest.raises(ValueError, match="fixed 32x32"):
        run.RunConfig.of(model="context_encoder", benchmarks=[os.path.join(benchmarks_dir, "Set5")]).resolved()
