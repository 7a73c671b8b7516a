"""Photo super-resolution (issue 32): IMDN at x2 / x3 / x4 in low-resolution space, its task, training pairs,
evaluation protocol, export, warm start across scales, and predict.py's tiles, alpha and grayscale rules.

Kept quick (tiny runs, one shared 2-step training); the registry-wide quick runs and precision checks of the three
ids are in test_registry.py.
"""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_inpaint import artifact, corruptions, data, evaluation, exporting, precision, prediction, registry, tasks
from keras_inpaint.models.imdn import network as imdn
from keras_inpaint.models.layers import PixelShuffle
from keras_inpaint.training import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data")
BSDS = os.path.join(SHARED, "photos", "bsds500")
SET5 = os.path.join(SHARED, "benchmarks", "Set5")


def _conv(cin, cout, k):
    return cin * cout * k * k + cout


def _imdn_params_from_the_paper(scale, width=64, blocks=6):
    """IMDN's parameter count from its layer description (Hui et al. 2019 §3.1-3.2, Figs. 2-3), independent of the
    builder: 3x3 feature conv; per IMDB three 3x3 convs to `width` (the first from `width`, the next two from the
    3/4 that are not distilled), a 3x3 conv from 3/4 to the 1/4 distilled width, a CCA (1x1 width -> width/16 ->
    width) and a 1x1 fusion; a 1x1 conv over the concatenated blocks, a 3x3 conv, and the 3x3 upsampler conv to
    3 * scale^2 channels before the pixel shuffle."""
    distilled, remaining = width // 4, width - width // 4
    block = (_conv(width, width, 3) + 2 * _conv(remaining, width, 3) + _conv(remaining, distilled, 3)
             + _conv(width, width // 16, 1) + _conv(width // 16, width, 1) + _conv(width, width, 1))
    return (_conv(3, width, 3) + blocks * block + _conv(blocks * width, width, 1) + _conv(width, width, 3)
            + _conv(width, 3 * scale * scale, 3))


@pytest.mark.parametrize("scale,paper_k,count", [(2, 694, 694_404), (3, 703, 703_059), (4, 715, 715_176)])
def test_imdn_parameter_counts_are_the_papers(scale, paper_k, count):
    expected = _imdn_params_from_the_paper(scale)
    assert round(expected / 1000) == paper_k and expected == count    # Table 3: 694K / 703K / 715K
    assert imdn.build_imdn(scale).count_params() == expected == registry.get(f"imdn_x{scale}").params


def test_imdn_works_in_low_resolution_space_on_any_size_with_float32_output():
    with precision.policy_scope("mixed_bfloat16"):
        net = imdn.build_imdn(4)
    x = np.random.default_rng(0).random((2, 7, 13, 3)).astype(np.float32)
    y = net(x)
    assert y.shape == (2, 28, 52, 3) and y.dtype == tf.float32        # x4; the output layer is float32
    assert float(tf.math.reduce_std(y)) > 1e-3                         # not a constant field
    # the layer names do not depend on the scale (warm start across scales): only the upsampler's shape differs
    names2 = [w.path for w in imdn.build_imdn(2).weights]
    assert names2 == [w.path for w in net.weights]
    with pytest.raises(ValueError, match="2, 3 or 4"):
        imdn.build_imdn(5)


def test_contrast_statistic_is_std_plus_mean_with_a_finite_gradient_on_flat_maps():
    x = np.random.default_rng(1).random((2, 5, 6, 4)).astype(np.float32)
    out = imdn.ContrastStatistic()(x).numpy()
    np.testing.assert_allclose(out, (x.std(axis=(1, 2)) + x.mean(axis=(1, 2)))[:, None, None, :], rtol=1e-5)
    flat = tf.Variable(tf.fill((1, 4, 4, 2), 0.5))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(imdn.ContrastStatistic()(flat))
    assert np.isfinite(tape.gradient(y, flat).numpy()).all()          # sqrt(0) alone would give NaN


def test_pixel_shuffle_is_depth_to_space():
    x = np.random.default_rng(2).random((1, 4, 5, 27)).astype(np.float32)
    np.testing.assert_array_equal(PixelShuffle(3)(x).numpy(), tf.nn.depth_to_space(x, 3).numpy())


def test_training_pairs_are_the_evaluations_downscale_of_the_hr_patch():
    task = registry.get("imdn_x3").task()
    hr = tf.constant(np.random.default_rng(3).integers(0, 256, (2, 192, 192, 3), dtype=np.uint8))
    low, target = task.make_pair(hr, seed=tf.constant([0, 1], tf.int64))
    assert low.shape == (2, 64, 64, 3) and target.shape == (2, 192, 192, 3)
    np.testing.assert_array_equal(target.numpy(), hr.numpy() / np.float32(255))
    # the one degradation: the same function the evaluation and the baseline use, on uint8 levels
    np.testing.assert_array_equal(low.numpy(), corruptions.bicubic_downscale(target, 3).numpy())
    np.testing.assert_array_equal(low.numpy(), task.low_res(hr)[0].numpy())
    np.testing.assert_allclose(low.numpy() * 255, np.round(low.numpy() * 255), atol=1e-4)
    # seed 003's task degrades the same way and up-samples what the LR-space network gets
    seed003, _ = registry.get("sr_autoencoder").task().make_pair(hr)
    np.testing.assert_array_equal(seed003.numpy(), corruptions.bicubic_upscale(low, 3).numpy())
    with pytest.raises(ValueError, match="multiple of the scale"):
        tasks.PhotoSuperResolution((100, 100, 3), scale=3)


def test_training_stream_cuts_hr_patches_of_train_photos_and_downscales_them_in_graph():
    assert os.path.isdir(BSDS), f"{BSDS} not found (../shared/data beside the checkout)"
    resolved = run.resolve(run.RunConfig.of(model="imdn_x4", dataset=f"folder:{BSDS}", batch_size=4, max_examples=2))
    low, target = next(iter(run.training_stream(resolved, seed=0)))
    assert low.shape == (4, 48, 48, 3) and target.shape == (4, 192, 192, 3)       # the authors' HR patch 192
    np.testing.assert_array_equal(low.numpy(), corruptions.bicubic_downscale(target, 4).numpy())


def test_schedule_halves_the_learning_rate_every_fifth_and_the_loss_is_l1():
    spec = registry.get("imdn_x3")
    assert spec.loss == "mae" and spec.batch_size == 16 and spec.learning_rate == 2e-4
    optimizer = spec.make_optimizer(steps=1000)      # the rate follows the optimizer's iteration count
    rates = []
    for step in (0, 200, 201, 400, 401, 601, 801, 999):   # PiecewiseConstantDecay: a boundary b holds to step b
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    np.testing.assert_allclose(rates, [2e-4, 2e-4, 1e-4, 1e-4, 5e-5, 2.5e-5, 1.25e-5, 1.25e-5], rtol=1e-6)


def _bicubic_network(scale):
    """An LR-space 'network' that returns the bicubic up-sampling of its input: it must score exactly the
    baseline."""
    return lambda low, training=False: corruptions.bicubic_upscale(low, scale)


@pytest.mark.parametrize("scale,literature", [(2, 33.66), (3, 30.39), (4, 28.42)])
def test_bicubic_baseline_on_set5_and_a_bicubic_network_scores_it_exactly(scale, literature):
    """SPEC §3 on whole images of any size, batch 1: Set5's bicubic Y-PSNR is the literature's (e.g. VDSR's Table 3:
    33.66 / 30.39 / 28.42 dB at x2 / x3 / x4)."""
    assert os.path.isdir(SET5), f"{SET5} not found (../shared/data beside the checkout)"
    task = registry.get(f"imdn_x{scale}").task()
    scores = evaluation.evaluate(task, _bicubic_network(scale), data.load_benchmark_images(SET5), batch_size=1)
    assert scores["num_images"] == 5
    assert abs(scores["baseline_psnr_y"] - literature) < 0.06, scores["baseline_psnr_y"]
    for key in ("psnr_y", "ssim_y", "psnr_rgb"):
        assert scores[key] == pytest.approx(scores[f"baseline_{key}"], abs=1e-9)


def test_benchmark_entries_may_be_named_and_default_to_set5_and_set14(tmp_path, monkeypatch):
    b100 = "../shared/data/photos/bsds500/val"
    assert data.benchmark_folder(f"B100={b100}") == ("B100", b100)
    assert data.benchmark_folder("../shared/data/benchmarks/Set5/") == ("Set5", "../shared/data/benchmarks/Set5/")
    monkeypatch.chdir(ROOT)                                          # the defaults are relative to the root
    spec = registry.get("imdn_x2")
    assert all(os.path.isdir(b) for b in spec.benchmarks), "Set5 / Set14 not found (../shared/data beside the checkout)"
    resolved = run.RunConfig.of(model="imdn_x2", output_dir=str(tmp_path)).resolved()
    assert resolved.data.benchmarks == list(spec.benchmarks)
    with pytest.raises(data.DatasetError, match="not a directory"):
        run.RunConfig.of(model="imdn_x2", benchmarks=[f"B100={tmp_path / 'nope'}"]).resolved()


# --- one short training through train.py's code path, shared by the export, warm-start and predict tests ------
@pytest.fixture(scope="module")
def trained(quick_run):
    """The shared quick run of imdn_x3 (conftest's `quick_run`: `train.py --model=imdn_x3 --steps=2` on patches
    of 6 BSDS500 training photos, batch 2, the default mixed_bfloat16 where it is native), scored on 2 whole
    test photos (B100) and exported."""
    return quick_run("imdn_x3")


def test_smoke_training_scores_against_bicubic_and_exports_uint8_signatures(trained):
    metrics = trained["metrics"]
    assert metrics["steps"] == 2 and metrics["num_images"] == 2
    assert {"psnr_y", "ssim_y", "psnr_rgb", "baseline_psnr_y"} <= set(metrics)
    assert all(np.isfinite(v) for v in metrics.values() if isinstance(v, float))
    path = trained["export_path"]
    card = artifact.load_model_card(path)
    assert card["id"] == "imdn_x3" and card["parameters"] == registry.get("imdn_x3").params
    loaded = tf.saved_model.load(path)
    low = np.random.default_rng(4).integers(0, 256, (1, 17, 23, 3), dtype=np.uint8)
    out = loaded.signatures["serving_default"](images=tf.constant(low))
    assert out["images"].shape == (1, 51, 69, 3) and out["images"].dtype == tf.uint8
    assert out["bicubic"].shape == (1, 51, 69, 3) and out["bicubic"].dtype == tf.uint8
    np.testing.assert_array_equal(out["bicubic"].numpy(), np.round(corruptions.bicubic_upscale(
        tf.constant(low, tf.float32) / 255.0, 3).numpy() * 255).astype(np.uint8))
    # the same protocol from the SavedModel alone (evaluate.py) gives the run's own numbers
    again = evaluation.evaluate_saved_model(path, max_examples=2, verbose=False)
    assert abs(again["psnr_y"] - metrics["psnr_y"]) < 0.01 and again["baseline_psnr_y"] == pytest.approx(
        metrics["baseline_psnr_y"], abs=1e-6)
    for bad, what in ((np.zeros((1, 8, 8, 3), np.float32), "uint8"), (np.zeros((1, 8, 8, 4), np.uint8), "images")):
        with pytest.raises((tf.errors.InvalidArgumentError, TypeError, ValueError), match=what):
            loaded.signatures["serving_default"](images=tf.constant(bad))


def test_warm_start_across_scales_copies_all_but_the_upsampler(trained, capsys):
    path = trained["export_path"]
    source = {v.name: v.numpy() for v in tf.saved_model.load(path).variables}
    x2 = imdn.build_imdn(2)
    before = {w.path: w.numpy() for w in x2.weights}
    copied = run.warm_start(x2, path, "imdn_x2")
    assert copied == len(x2.weights) - 2
    assert "upsampler_conv/kernel, upsampler_conv/bias start fresh" in capsys.readouterr().out
    loaded = list(tf.saved_model.load(path).variables)
    for w, v in zip(x2.weights, loaded):
        if w.path.startswith("upsampler_conv"):
            np.testing.assert_array_equal(w.numpy(), before[w.path])
        else:
            np.testing.assert_array_equal(w.numpy(), v.numpy())
    assert len(source) == len(loaded)
    with pytest.raises(ValueError, match="not of 'ffdnet'"):
        run.warm_start(registry.get("ffdnet").build_network(), path, "ffdnet")


# --- predict.py ------------------------------------------------------------------------------------------------
def _local_export(tmp_path):
    """An imdn_x3 export whose network is local (three 3x3 convolutions, seeded, then the x3 pixel shuffle: a
    receptive field of 3 input pixels, no global pooling), so that tiles with an overlap of 4 must reproduce the
    whole-photo pass exactly."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="tanh")(inputs)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="tanh")(x)
    x = keras.layers.Conv2D(27, 3, padding="same")(x)
    out = PixelShuffle(3)(keras.layers.Lambda(lambda t: 0.5 + 0.25 * t)(x))
    spec = registry.get("imdn_x3")
    path = str(tmp_path / "local" / "1")
    exporting.export_network(spec, keras.Model(inputs, out), path, {"id": "imdn_x3"}, task=spec.task())
    return path


@pytest.fixture(scope="module")
def lr_photo():
    """A real 100x130 low-resolution crop of a B100 photo (not a multiple of any tile)."""
    assert os.path.isdir(BSDS), f"{BSDS} not found (../shared/data beside the checkout)"
    first = data.list_folder_images(BSDS, "test")[0]
    return np.ascontiguousarray(np.asarray(Image.open(first).convert("RGB"))[100:200, 100:230])


def test_predict_tiles_of_the_input_reproduce_the_whole_pass(lr_photo, tmp_path):
    path = _local_export(tmp_path)
    whole = prediction.Predictor(path, tile=1024).predict(lr_photo)
    tiled = prediction.Predictor(path, tile=24, overlap=4).predict(lr_photo)
    assert whole.shape == tiled.shape == (300, 390, 3)
    assert whole.std() > 5                                            # the output depends on the input
    np.testing.assert_array_equal(tiled, whole)


def test_predict_imdn_tiles_agree_with_the_whole_pass_away_from_borders(lr_photo, trained):
    """IMDN's CCA pools over each tile, so tiles are close to, not equal to, the whole-photo pass."""
    p = prediction.Predictor(trained["export_path"], tile=48, overlap=32)
    assert p.info.kind == "super_resolution" and p.info.scale == 3 and p.tile == 48
    whole = prediction.Predictor(trained["export_path"], tile=1024).predict(lr_photo)
    tiled = p.predict(lr_photo)
    assert whole.shape == tiled.shape == (300, 390, 3)
    assert whole.std() > 5
    diff = np.abs(whole.astype(int) - tiled.astype(int))[24:-24, 24:-24]
    assert diff.mean() < 0.5 and diff.max() <= 4, (diff.mean(), diff.max())


def test_predict_keeps_alpha_greys_grey_and_refuses_a_mask(lr_photo, tmp_path):
    path = _local_export(tmp_path)
    p = prediction.Predictor(path)
    alpha = np.zeros(lr_photo.shape[:2], np.uint8)
    alpha[20:60, 30:90] = 255
    rgba = p.predict(lr_photo, alpha=alpha)
    assert rgba.shape == (300, 390, 4)
    np.testing.assert_array_equal(rgba[..., :3], p.predict(lr_photo))
    expected = corruptions.bicubic_upscale(tf.constant(alpha[None, :, :, None] / 255.0, tf.float32), 3).numpy()[0]
    np.testing.assert_array_equal(rgba[..., 3:], np.round(expected * 255).astype(np.uint8))
    grey = p.predict(np.repeat(lr_photo[..., :1], 3, axis=-1))
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    with pytest.raises(prediction.PredictError, match="takes no mask"):
        p.predict(lr_photo, np.ones(lr_photo.shape[:2], np.float32))
    with pytest.raises(prediction.PredictError, match="alpha channel is"):
        p.predict(lr_photo, alpha=alpha[:-1])
    with pytest.raises(prediction.PredictError, match="uint8 RGB"):
        p.predict(lr_photo.astype(np.float32))


def test_predict_cli_writes_rgba_at_three_times_the_size(lr_photo, tmp_path):
    path = _local_export(tmp_path)
    alpha = np.full(lr_photo.shape[:2], 200, np.uint8)
    Image.fromarray(np.dstack([lr_photo, alpha])).save(tmp_path / "shot.png")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "predict.py"), f"--saved_model={path}",
                        f"--input={tmp_path / 'shot.png'}", f"--output_dir={tmp_path / 'out'}", "--side_by_side"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    with Image.open(tmp_path / "out" / "shot.png") as out:
        assert out.mode == "RGBA" and out.size == (390, 300)
        assert np.all(np.asarray(out)[..., 3] == 200)
    bad = subprocess.run([sys.executable, os.path.join(ROOT, "predict.py"), f"--saved_model={path}",
                          f"--input={tmp_path / 'shot.png'}", f"--output_dir={tmp_path / 'out2'}", "--mask=centre"],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode != 0 and bad.stderr.strip().splitlines()[-1] == (
        "error: imdn_x3 super-resolves whole photos and takes no mask (drop --mask=centre)")
