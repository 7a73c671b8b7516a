"""Photo inpainting (issue 37): the LaMa-style FFC generator, its masks and training pairs, the classical baselines
(OpenCV Telea / Navier-Stokes, scikit-image biharmonic) in the evaluation, a smoke training with export and
serving signature, and predict.py's crop strategy for large photos.

Networks here are tiny (`TINY`: width 8, one FFC block) where the weights do not matter; the parameter count test
builds the registry's network. Real photos come from ../shared/data (BSDS500 train/ and CBSD68).
"""
import dataclasses
import functools
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_inpaint import (artifact, classical, corruptions, data, evaluation, exporting, metrics, precision,
                           prediction, registry, tasks)
from keras_inpaint.cli import baselines as baselines_cli
from keras_inpaint.models.ffdnet_inpaint import network as ffdnet_inpaint
from keras_inpaint.models.lama import network as lama
from keras_inpaint.training import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BSDS = os.path.join(ROOT, "..", "shared", "data", "photos", "bsds500")
TINY = dict(width=8, max_width=16, blocks=1)   # 3 downsamplings to 16 channels, one FFC ResNet block

needs_eval = pytest.mark.skipif(not classical.available(), reason=classical.INSTALL_HINT)


def _cbsd68_photo(index=0):
    assert os.path.isdir(BSDS), f"{BSDS} not found (../shared/data beside the checkout)"
    return np.asarray(Image.open(data.list_folder_images(BSDS, "test", "cbsd68_ids.txt")[index]).convert("RGB"))


def _lama_params(w, m, blocks, d=3, ratio=0.75, skips=False):
    """The module docstring's layer table, counted: convolutions without bias except the transposed ones and the
    last; BatchNorm 4 per channel (gamma, beta and the two moving statistics)."""
    c = [min(m, w * 2 ** i) for i in range(d + 1)]
    big = c[-1]
    g = int(big * ratio)
    loc, half = big - g, g // 2
    count = 49 * 4 * c[0] + 4 * c[0]                                            # init 7x7
    count += sum(9 * c[i - 1] * c[i] + 4 * c[i] for i in range(1, d))            # down1, down2
    count += 9 * c[d - 1] * big + 4 * big                                        # down3: local and global parts
    spectral = g * half + 4 * half + (2 * half) ** 2 + 4 * 2 * half + half * g
    ffc = 9 * big * loc + 9 * loc * g + spectral + 4 * big                       # l2l+g2l, l2g, g2g, BNs
    count += blocks * 2 * ffc
    skip = [0] * (d + 1) if not skips else [c[i] for i in range(d)] + [0]       # channels joined at H/2**i
    count += sum(9 * (c[d - i + 1] + skip[d - i + 1]) * c[d - i] + c[d - i] + 4 * c[d - i]
                 for i in range(1, d + 1))                                        # up1..3
    return count + 49 * (c[0] + skip[0] + 4) * 3 + 3                               # image 7x7 of [up3, F, mask]


def test_lama_parameter_count_is_the_layer_table():
    g = lama.build_lama_generator()
    assert g.count_params() == _lama_params(32, 128, 9) == registry.get("lama_ffc").params == 2_005_903
    assert lama.build_lama_generator(**TINY).count_params() == _lama_params(8, 16, 1)
    assert lama.build_lama_generator(**TINY, skips=True).count_params() == _lama_params(8, 16, 1, skips=True)
    # the discriminator is free_form_inpaint's PatchGAN, at any input size
    spec = registry.get("lama_ffc")
    assert spec.adversarial.discriminator().count_params() == spec.discriminator_params == 431_201


def test_fourier_unit_is_an_ortho_rfft2_and_its_inverse_in_float32_under_bfloat16():
    x = np.random.default_rng(0).normal(size=(2, 6, 9, 3)).astype(np.float32)     # odd width
    spectrum = lama.RealFFT2D()(x).numpy()
    reference = np.fft.rfft2(np.transpose(x, (0, 3, 1, 2)), norm="ortho")          # [N, C, H, W//2+1]
    np.testing.assert_allclose(spectrum[..., :3], np.transpose(reference.real, (0, 2, 3, 1)), atol=1e-5)
    np.testing.assert_allclose(spectrum[..., 3:], np.transpose(reference.imag, (0, 2, 3, 1)), atol=1e-5)
    back = lama.InverseRealFFT2D()([spectrum, x]).numpy()
    np.testing.assert_allclose(back, x, atol=1e-5)
    with precision.policy_scope("mixed_bfloat16"):
        layer = lama.RealFFT2D()
        out = layer(tf.cast(x, tf.bfloat16))
        assert out.dtype == tf.bfloat16 and lama.InverseRealFFT2D()([out, x]).dtype == tf.bfloat16


def test_fourier_unit_builtin_ops_is_the_same_transform_as_tf_signal():
    """The DFT matrix products that the ONNX / LiteRT files use (`builtin_ops`) equal tf.signal's FFTs, on even,
    odd and 1-pixel maps, and the inverse also on arbitrary spectra (a 1x1 convolution's output is not the
    spectrum of a real map: irfft2d's handling of the W-axis DC and Nyquist terms must be reproduced)."""
    rng = np.random.default_rng(1)
    for h, w in ((8, 8), (6, 9), (7, 5), (1, 1), (3, 2)):
        x = rng.normal(size=(2, h, w, 3)).astype(np.float32)
        plain, builtin = lama.RealFFT2D(), lama.RealFFT2D()
        builtin.builtin_ops = True
        np.testing.assert_allclose(builtin(x).numpy(), plain(x).numpy(), atol=1e-5)
        spectrum = rng.normal(size=(2, h, w // 2 + 1, 6)).astype(np.float32)
        plain, builtin = lama.InverseRealFFT2D(), lama.InverseRealFFT2D()
        builtin.builtin_ops = True
        np.testing.assert_allclose(builtin([spectrum, x]).numpy(), plain([spectrum, x]).numpy(), atol=1e-5)


def test_onnx_and_litert_files_of_a_lama_export_match_it(tiny_export, tmp_path):
    """tf2onnx and the LiteRT converter do not convert RFFT2D / IRFFT2D with complex tensors; the files written
    with `builtin_ops` (DFT matrix products) give the SavedModel's output (the shipped lama_ffc/1 is checked the
    same way by test_portable's slow test)."""
    import onnxruntime
    from ai_edge_litert.interpreter import Interpreter
    from keras_inpaint import portable

    serve = tf.saved_model.load(tiny_export).signatures["serving_default"]
    session = onnxruntime.InferenceSession(portable.export(tiny_export, "onnx", str(tmp_path / "l.onnx")),
                                           providers=["CPUExecutionProvider"])
    runner = Interpreter(model_path=portable.export(tiny_export, "litert", str(tmp_path / "l.tflite"))
                         ).get_signature_runner("serving_default")
    photo = _cbsd68_photo(2)[:90, :70]                       # padded to 96x72 inside
    mask = np.zeros((1, 90, 70, 1), np.float32)
    mask[0, 20:50, 10:40] = 1
    mask[0, 70, 5:65] = 1
    feed = {"images": photo[None], "mask": mask}
    want = serve(**{k: tf.constant(v) for k, v in feed.items()})["images"].numpy()
    assert (want[0][mask[0, ..., 0] == 1] != photo[mask[0, ..., 0] == 1]).any()      # the network did fill
    for got in (session.run(None, feed)[0], runner(**feed)["restored"]):
        assert got.dtype == np.uint8 and got.shape == want.shape
        assert np.abs(got.astype(np.int16) - want).max() <= 1


def test_generator_runs_on_any_multiple_of_8_and_keeps_known_pixels():
    g = lama.build_lama_generator(**TINY)
    rng = np.random.default_rng(1)
    for h, w in ((8, 8), (24, 40)):        # 8x8: a 1x1 bottleneck (symmetric padding)
        x = rng.uniform(0, 1, (2, h, w, 4)).astype(np.float32)
        x[..., 3] = rng.uniform(size=(2, h, w)) > 0.6
        x[..., :3] *= 1 - x[..., 3:]
        y = g(x).numpy()
        assert y.shape == (2, h, w, 3) and y.dtype == np.float32 and 0 <= y.min() and y.max() <= 1
        known = x[..., 3] == 0
        np.testing.assert_array_equal(y[known], x[..., :3][known])
    with pytest.raises(ValueError, match="multiple of 8"):
        lama.build_lama_generator((36, 36, 4))


def test_smooth_fill_keeps_known_pixels_and_fills_holes_smoothly():
    """SmoothFill (lama_ffc's prefill): known pixels unchanged; a hole in a linear ramp is filled with the ramp (a
    harmonic function is its own membrane fill) to within a few grey levels; a constant photo stays constant, at
    odd sizes and beyond the pyramid's 1024 pixels; a photo without known pixels gives 0."""
    h, w = 45, 71
    ramp = np.broadcast_to(np.linspace(0.1, 0.9, w, dtype=np.float32)[None, :, None], (h, w, 3))
    mask = np.zeros((h, w, 1), np.float32)
    mask[10:35, 20:50] = 1
    mask[40, 3:60] = 1
    x = np.concatenate([ramp * (1 - mask), mask], -1)[None]
    y = lama.SmoothFill()(x).numpy()[0]
    assert y.shape == (h, w, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y[mask[..., 0] == 0], ramp[mask[..., 0] == 0])
    assert np.abs(y - ramp).max() < 4 / 255
    for shape, hole_share in (((1, 1), 0.0), ((7, 1300), 0.7), ((5, 6), 1.0)):
        m = (np.random.default_rng(0).uniform(size=(*shape, 1)) < hole_share).astype(np.float32)
        grey = np.concatenate([np.full((*shape, 3), 0.4, np.float32) * (1 - m), m], -1)[None]
        want = 0.0 if hole_share == 1 else 0.4
        np.testing.assert_allclose(lama.SmoothFill()(grey).numpy()[0], np.full((*shape, 3), want), atol=1e-6)


@pytest.mark.parametrize("skips", [False, True])
def test_untrained_generator_outputs_the_smooth_fill(skips):
    """The last convolution is zero-initialised: before training the generator's output is SmoothFill's (with
    and without the U-Net skips)."""
    g = lama.build_lama_generator(**TINY, skips=skips)
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (2, 32, 48, 4)).astype(np.float32)
    x[..., 3] = rng.uniform(size=(2, 32, 48)) > 0.5
    x[..., :3] *= 1 - x[..., 3:]
    np.testing.assert_allclose(g(x).numpy(), lama.SmoothFill()(x).numpy(), atol=1e-6)


def test_ffdnet_inpaint_parameter_count_is_the_layer_table():
    """ffdnet_inpaint (network.py's table): FFDNet's head on [unshuffled fill (12) | pooled mask (1)], 10 middle
    convolutions with bias (no BatchNorm), the tail to 2 x 2 x 3 sub-pixels."""
    w, depth = 64, 12
    count = (9 * 13 * w + w) + (depth - 2) * (9 * w * w + w) + (9 * w * 12 + 12)
    spec = registry.get("ffdnet_inpaint")
    assert ffdnet_inpaint.build_ffdnet_inpaint().count_params() == count == spec.params == 383_756
    assert spec.loss == "mse" and spec.make_optimizer().global_clipnorm == 1e-3


def test_untrained_ffdnet_inpaint_outputs_the_smooth_fill_and_keeps_known_pixels():
    """The last convolution is zero-initialised: before training the output is SmoothFill's, on any even size;
    the known pixels are the input's, bit for bit; a trained-like (random) tail changes only the hole."""
    net = ffdnet_inpaint.build_ffdnet_inpaint()
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (2, 34, 50, 4)).astype(np.float32)
    x[..., 3] = rng.uniform(size=(2, 34, 50)) > 0.6
    x[..., :3] *= 1 - x[..., 3:]
    np.testing.assert_allclose(net(x).numpy(), lama.SmoothFill()(x).numpy(), atol=1e-6)
    tail = net.get_layer("conv12")
    tail.kernel.assign(rng.normal(0, 0.05, tail.kernel.shape))
    y = net(x).numpy()
    known = np.broadcast_to(x[..., 3:] == 0, y.shape)
    np.testing.assert_array_equal(y[known], x[..., :3][known])
    assert np.abs(y - lama.SmoothFill()(x).numpy())[~known].max() > 1e-3 and 0 <= y.min() and y.max() <= 1


@pytest.mark.parametrize("preset", ["thin", "medium", "thick", "boxes"])
def test_lama_masks_on_a_cbsd68_sized_photo(preset):
    """SPEC §2 polarity (1 = hole), seeded, at most half the photo; 'boxes' is a union of axis-aligned boxes at
    least 10 x 321/256 px from the border."""
    draw = tf.function(lambda seed: corruptions.free_form_mask([3, 321, 481], seed, preset)[..., 0])
    a = draw(tf.constant([37, 1], tf.int64)).numpy()
    np.testing.assert_array_equal(a, draw(tf.constant([37, 1], tf.int64)).numpy())
    assert not np.array_equal(a, draw(tf.constant([37, 2], tf.int64)).numpy())
    assert set(np.unique(a)) <= {0.0, 1.0}
    area = a.mean(axis=(1, 2))
    assert (area > 0.005).all() and (area <= corruptions.MAX_HOLE_FRACTION).all(), area
    if preset == "boxes":
        margin = int(10 * 321 / 256)
        assert not a[:, :margin].any() and not a[:, -margin:].any() and not a[:, :, :margin].any()
        # every 2x2 window of a union of boxes holds 0, 1, 2 or 4 hole pixels, or 3 only at a concave corner;
        # strokes (round caps, diagonals) would give many windows of 1 or 3
        windows = a[:, :-1, :-1] + a[:, 1:, :-1] + a[:, :-1, 1:] + a[:, 1:, 1:]
        assert np.mean((windows == 1) | (windows == 3)) < 1e-3


def test_lama_mixture_draws_one_of_the_four_kinds_per_image():
    """Each image's mask is one kind's draw for that image alone, from its own seed, and a batch mixes kinds
    (LaMa's per-sample mixture; one kind per batch gave lama_ffc per-kind BatchNorm statistics)."""
    assert sum(p for _, p in tasks.MASK_MIXTURES["lama"]) == pytest.approx(1.0)
    images = tf.zeros([8, 64, 64, 3], tf.uint8)
    kinds = [k for k, _ in tasks.MASK_MIXTURES["lama"]]
    draw = {k: tf.function(lambda seed, k=k: tasks.make_mask(k, images[:1], seed)) for k in kinds}  # traced once
    lama_masks = tf.function(lambda seed: tasks.make_mask("lama", images, seed))
    seen, mixed_batches = [], 0
    for s in range(6):
        seed = tf.constant([s, 3], tf.int64)
        _, inner = tf.unstack(tf.random.experimental.stateless_split(seed, 2))   # make_mask's draw of the masks
        seeds = tf.random.stateless_uniform([8, 2], inner, minval=None, maxval=None, dtype=tf.int64)
        mask = lama_masks(seed).numpy()
        assert mask.shape == (8, 64, 64, 1) and set(np.unique(mask)) <= {0.0, 1.0}
        np.testing.assert_array_equal(mask, lama_masks(seed).numpy())              # deterministic
        batch = []
        for n in range(8):
            match = [k for k in kinds if np.array_equal(mask[n], draw[k](seeds[n]).numpy()[0])]
            assert match, f"image {n} of batch {s}: not any kind's draw for its seed"
            batch.append(match[0])
        seen += batch
        mixed_batches += len(set(batch)) > 1
    assert set(seen) == set(kinds) and mixed_batches == 6     # P(a batch of 8 of one kind) = 4 / 4^8


@pytest.fixture
def small_bsds(tmp_path):
    """BSDS500 layout with 3 real train/ photos and 2 real CBSD68 val/ photos (and the ids file); the val photos
    are their 200x160 top-left crops (PNG), so that scoring the three presets with the classical baselines
    (biharmonic inpainting grows faster than the hole) stays cheap."""
    assert os.path.isdir(BSDS), f"{BSDS} not found (../shared/data beside the checkout)"
    (tmp_path / "train").mkdir()
    for f in data.list_folder_images(BSDS, "train")[:3]:
        shutil.copy(f, tmp_path / "train")
    (tmp_path / "val").mkdir()
    for f in data.list_folder_images(BSDS, "test", "cbsd68_ids.txt")[:2]:
        stem = os.path.splitext(os.path.basename(f))[0]
        Image.open(f).convert("RGB").crop((0, 0, 200, 160)).save(tmp_path / "val" / f"{stem}.png")
    shutil.copy(os.path.join(BSDS, "cbsd68_ids.txt"), tmp_path)
    return tmp_path


def test_training_pairs_from_the_patch_pipeline(small_bsds):
    spec = registry.get("lama_ffc")
    task = spec.task()
    photos = data.load_images(f"folder:{small_bsds}", "train", spec.image_shape[:2], 3, crop=data.PATCHES)

    def pipeline(seed):
        return data.patch_pipeline(photos, spec.image_shape[0], 4, task.make_pair, seed=seed, patches_per_photo=4)

    def batches(ds):
        return [(x.numpy(), y.numpy()) for x, y in ds.take(2)]
    ds = pipeline(0)
    first, again, other = batches(ds), batches(ds), batches(pipeline(1))
    for (x, y), (x2, _), (x3, _) in zip(first, again, other):
        p = spec.image_shape[0]
        assert x.shape == (4, p, p, 4) and y.shape == (4, p, p, 3) and 0 <= y.min() and y.max() <= 1
        mask = x[..., 3:]
        assert set(np.unique(mask)) <= {0.0, 1.0} and 0 < mask.mean() <= 0.5
        np.testing.assert_array_equal(x[..., :3][mask[..., 0] == 1], 0.0)              # hole zeroed (LaMa)
        np.testing.assert_array_equal(x[..., :3][mask[..., 0] == 0], y[mask[..., 0] == 0])
        np.testing.assert_array_equal(x, x2)
        assert not np.array_equal(x, x3)


def _smooth_photo(h=96, w=128):
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    rgb = np.stack([0.5 + 0.4 * np.sin(3 * xx + yy), 0.3 + 0.5 * yy, 0.6 - 0.3 * xx * yy], -1)
    return np.round(rgb * 255).astype(np.uint8)


@needs_eval
def test_classical_baselines_keep_known_pixels_see_no_hidden_pixel_and_beat_mean_colour():
    photo = _smooth_photo()
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[30:60, 40:90] = 1
    hidden_white = np.where(mask[..., None] > 0, 255, photo).astype(np.uint8)
    target = photo.astype(np.float64)

    def hole_psnr(out):
        err = (out.astype(np.float64) - target)[mask > 0]
        return 10 * np.log10(255.0 ** 2 / np.mean(err ** 2))
    mean_colour = np.where(mask[..., None] > 0, photo[mask == 0].mean(axis=0).round(), photo).astype(np.uint8)
    for method in classical.METHODS:
        out = classical.inpaint(method, photo, mask)
        assert out.shape == photo.shape and out.dtype == np.uint8
        np.testing.assert_array_equal(out[mask == 0], photo[mask == 0])
        np.testing.assert_array_equal(out, classical.inpaint(method, hidden_white, mask))   # hole content unused
        assert hole_psnr(out) > hole_psnr(mean_colour) + 5, method
    with pytest.raises(ValueError, match="telea"):
        classical.inpaint("exemplar", photo, mask)


@needs_eval
def test_evaluation_scores_the_model_and_every_baseline_per_preset_and_area_bin():
    photo = _cbsd68_photo()[:160, :200]
    task = registry.get("lama_ffc").task()
    images = tf.constant(photo[None])
    perfect = lambda inputs, training=False: tf.cast(images, tf.float32) / 255.0   # noqa: E731
    scores = {k: float(v[0]) for k, v in task.evaluate_batch(perfect, images).items()}
    for preset in tasks.EVAL_PRESETS:
        assert scores[f"psnr_{preset}"] == pytest.approx(100.0) and scores[f"hole_psnr_{preset}"] == pytest.approx(100.0)
        for prefix in ["baseline_"] + [f"baseline_{m}_" for m in classical.METHODS]:
            assert 10 < scores[f"{prefix}psnr_{preset}"] < 60 and 0 < scores[f"{prefix}ssim_{preset}"] < 1
            assert 5 < scores[f"{prefix}hole_psnr_{preset}"] < 40      # the hidden pixels reach no baseline
        # the holes are the fixed evaluation masks: free_form_inpaint's --mask=free_form:<preset> ones
        mask = tasks.make_mask(f"free_form:{preset}", images, tasks.content_seed(images, tasks.MASK_EVAL_SEED))
        assert scores[f"mask_area_{preset}"] == pytest.approx(float(tf.reduce_mean(mask)))
    # the per-epoch validation leaves the classical methods out
    view, _ = task.validation_view(4)
    assert view.extra_baselines == () and not any("telea" in k for k in view.evaluate_batch(perfect, images))
    assert len(task.extra_baselines) == 3
    # baselines alone (network None) through evaluation.evaluate (two photos, batch 1): area bins per preset,
    # one table column per method, "-" for the model
    results = evaluation.evaluate(task, None, tf.data.Dataset.from_tensors(photo).repeat(2))
    assert results["num_images"] == 2 and "psnr_thin" not in results and "baseline_telea_psnr_thin" in results
    for preset in tasks.EVAL_PRESETS:
        bins = results[f"area_bins_{preset}"]
        assert sum(b["num_images"] for b in bins.values()) == 2
        assert all(f"baseline_telea_psnr_{preset}" in b for b in bins.values())
    table = evaluation.format_table(results, task)
    assert "navier_stokes = OpenCV Navier-Stokes (r=5)" in table and "PSNR of the hole only, LaMa thick" in table


def test_beats_baseline_needs_every_classical_method():
    task = tasks.PhotoInpainting((64, 64, 3), eval_masks=("thin",), classical=("telea", "biharmonic"))
    scores = {"psnr_thin": 30.0, "baseline_psnr_thin": 20.0, "baseline_telea_psnr_thin": 29.0,
              "baseline_biharmonic_psnr_thin": 31.0}
    assert metrics.beats_baseline(scores, task) is False
    scores["baseline_biharmonic_psnr_thin"] = 29.5
    assert metrics.beats_baseline(scores, task) is True


@needs_eval
def test_baselines_cli_prints_the_baseline_columns_without_a_model(small_bsds, capsys, tmp_path):
    out = tmp_path / "b.json"
    assert baselines_cli.main([f"--dataset=folder:{small_bsds}", "--methods=telea,navier_stokes",
                               "--max_examples=1", f"--output={out}"]) == 0
    printed = capsys.readouterr().out
    assert "baselines of lama_ffc" in printed and "telea" in printed and "per image and method" in printed
    results = json.loads(out.read_text())
    assert results["num_images"] == 1 and "baseline_telea_psnr_medium" in results and "psnr_medium" not in results
    assert results["cpu_seconds_per_image"]["telea"] > 0
    assert "baseline_biharmonic_psnr_medium" not in results and results["seconds_per_image"]["telea"] > 0


@pytest.fixture
def tiny_lama(monkeypatch):
    """The registry's lama_ffc entry with the TINY generator (everything else, the task, trainer, discriminator
    and data recipe, as registered)."""
    spec = registry.get("lama_ffc")
    tiny = dataclasses.replace(spec, build_network=functools.partial(lama.build_lama_generator, **TINY),
                               params=_lama_params(8, 16, 1), image_shape=(64, 64, 3))
    monkeypatch.setitem(registry.REGISTRY, "lama_ffc", tiny)
    return tiny


@pytest.fixture
def tiny_export(tiny_lama, tmp_path):
    path = str(tmp_path / "lama_ffc" / "1")
    exporting.export_network(tiny_lama, tiny_lama.build_network(), path, {"id": "lama_ffc"}, task=tiny_lama.task())
    return path


@needs_eval
def test_smoke_training_exports_a_serving_signature_plain_tensorflow_can_call(tiny_lama, small_bsds, tmp_path,
                                                                             plain_tf):
    config = run.RunConfig.of(model="lama_ffc", dataset=f"folder:{small_bsds}", steps=3, steps_per_epoch=3,
                              batch_size=2, val_examples=2, test_examples=1, output_dir=str(tmp_path / "run"),
                              export_dir=str(tmp_path / "export"), precision="float32")
    result = run.train(config, verbose=0)
    m = result["metrics"]
    assert m["steps"] == 3 and m["num_images"] == 1
    assert all(np.isfinite(m[f"{p}psnr_{preset}"]) for preset in tasks.EVAL_PRESETS
               for p in ["", "baseline_", "baseline_telea_", "baseline_navier_stokes_", "baseline_biharmonic_"])
    card = artifact.load_model_card(result["export_path"])
    assert card["id"] == "lama_ffc" and card["task_options"] == {"mask": "lama"}
    assert set(card["signatures"]) == {"serving_default"}
    photo = _cbsd68_photo(1)[:61, :93]                       # odd sizes: padded to 64x96 inside, cropped back
    mask = np.zeros((1, 61, 93, 1), np.float32)
    mask[0, 20:40, 30:70] = 1
    np.save(tmp_path / "photo.npy", photo[None])
    np.save(tmp_path / "mask.npy", mask)
    r = plain_tf("""
import sys, numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
photo, mask = np.load(sys.argv[2]), np.load(sys.argv[3])
out = m.signatures["serving_default"](images=tf.constant(photo), mask=tf.constant(mask))["images"].numpy()
known = mask[..., 0] == 0
print("OK" if out.dtype == np.uint8 and out.shape == photo.shape and np.array_equal(out[known], photo[known])
      and (out[~known] != photo[~known]).any() else "BAD")
""", result["export_path"], tmp_path / "photo.npy", tmp_path / "mask.npy")
    assert r.stdout.strip().endswith("OK"), r.stderr[-2000:]


def _two_groups_mask(h, w):
    mask = np.zeros((h, w), np.float32)
    mask[20:30, 20:40] = 1          # a box ...
    mask[34:40, 45:50] = 1          # ... and a speck 5 px away: one crop for both (their crops overlap)
    mask[h - 25:h - 10, w - 60:w - 30] = 1   # far away: its own crop
    return mask


def test_crop_strategy_pastes_each_groups_own_holes_from_its_crop(tiny_export):
    photo = _cbsd68_photo()[:200, :300]
    mask = _two_groups_mask(*photo.shape[:2])
    p = prediction.Predictor(tiny_export, crop_trigger=100, crop_margin=16)
    labels, crops = p.hole_groups(mask)
    assert labels.max() == 3 and sorted(len(members) for _, members in crops) == [1, 2]
    assert sorted(box for box, _ in crops) == [(4, 4, 56, 66), (159, 224, 200, 286)]
    out = p.predict(photo, mask)
    assert out.shape == photo.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[mask == 0], photo[mask == 0])          # known pixels bit-identical
    for (y0, x0, y1, x1), members in crops:
        own = np.isin(labels[y0:y1, x0:x1], members)
        expected = p._run(photo[y0:y1, x0:x1], mask[y0:y1, x0:x1])          # the model on that crop alone
        np.testing.assert_array_equal(out[y0:y1, x0:x1][own], expected[own])
    # a photo at most crop_trigger on its longer side runs whole, in one pass
    whole = prediction.Predictor(tiny_export).predict(photo, mask)
    np.testing.assert_array_equal(whole, p._run(photo, mask))
    # crops larger than crop_size are inpainted resized down, pasted back at full size
    small = prediction.Predictor(tiny_export, crop_trigger=100, crop_margin=16, crop_size=24).predict(photo, mask)
    np.testing.assert_array_equal(small[mask == 0], photo[mask == 0])
    assert (small[mask > 0] != photo[mask > 0]).any()


def test_a_4000x3000_photo_with_a_brushed_region(tiny_export):
    """Issue 37: a 12-megapixel photo made from a CBSD68 photo, a brushed-over region: finished, every known
    pixel bit-identical, the hole filled through one crop (benchmarks/throughput.py --photo times the registry's
    network on the same input)."""
    small = Image.fromarray(_cbsd68_photo(2))
    photo = np.asarray(small.resize((4000, 3000), Image.BICUBIC))
    mask = prediction.parse_mask("brush:1600,1200,800,600", "photo", photo, None, (0, 0))
    assert mask[:1200].sum() == mask[1800:].sum() == mask[:, :1600].sum() == mask[:, 2400:].sum() == 0
    p = prediction.Predictor(tiny_export)
    labels, crops = p.hole_groups(mask)
    assert len(crops) == 1
    (y0, x0, y1, x1), _ = crops[0]
    assert y0 >= 1200 - 128 and x0 >= 1600 - 128 and y1 <= 1800 + 128 and x1 <= 2400 + 128
    out = p.predict(photo, mask)
    assert out.shape == photo.shape
    known = mask == 0
    np.testing.assert_array_equal(out[known], photo[known])
    assert (out[~known] != photo[~known]).any()


def test_self_ensemble_averages_the_eight_flips_and_rotations():
    """run_self_ensemble of a linear convolution (zero padding, even size: no run_padded padding) is the same
    convolution with its kernel averaged over the dihedral group: each view's output is turned back exactly."""
    rng = np.random.default_rng(5)
    kernel = rng.normal(size=(3, 3, 2, 1)).astype(np.float32)
    conv = lambda x, training=False: tf.nn.conv2d(x, kernel, 1, "SAME")   # noqa: E731
    views = [np.rot90(kernel, k) for k in range(4)]
    symmetric = np.mean(views + [v[:, ::-1] for v in views], axis=0)
    x = tf.constant(rng.uniform(size=(2, 12, 18, 2)).astype(np.float32))
    np.testing.assert_allclose(tasks.base.run_self_ensemble(conv, x, multiple=2).numpy(),
                               tf.nn.conv2d(x, symmetric, 1, "SAME").numpy(), atol=1e-5)
    assert not np.allclose(tasks.base.run_padded(conv, x, 2).numpy(), tf.nn.conv2d(x, symmetric, 1, "SAME").numpy())
    odd = tasks.base.run_self_ensemble(conv, x[:, :11, :17], multiple=2)      # padded per view, cropped back
    assert odd.shape == (2, 11, 17, 1)
    with pytest.raises(ValueError, match="inference only"):
        tasks.base.run_self_ensemble(conv, x, multiple=2, training=True)


def test_ffdnet_inpaint_scores_and_serves_with_the_self_ensemble():
    """ffdnet_inpaint's task (its entry's default, recorded in an export's card) restores with the self-ensemble,
    --noself_ensemble / lama_ffc with one pass; training pairs are unaffected."""
    task = registry.get("ffdnet_inpaint").task()
    assert task.self_ensemble and not registry.get("ffdnet_inpaint").task(self_ensemble=False).self_ensemble
    assert not registry.get("lama_ffc").task().self_ensemble
    rng = np.random.default_rng(6)
    kernel = rng.normal(0, 0.1, size=(3, 3, 4, 3)).astype(np.float32)
    net = lambda x, training=False: tf.nn.conv2d(x, kernel, 1, "SAME")      # noqa: E731  not flip-invariant
    images = tf.constant(rng.integers(0, 256, (1, 20, 26, 3)).astype(np.uint8))
    mask = tf.constant((rng.uniform(size=(1, 20, 26, 1)) > 0.5).astype(np.float32))
    x = task.network_input(tf.cast(images, tf.float32) / 255.0, mask)
    ensembled = task.restore(net, images, mask=mask)["prediction"].numpy()
    np.testing.assert_allclose(ensembled, tasks.base.run_self_ensemble(net, x, 2).numpy(), atol=1e-6)
    single = registry.get("ffdnet_inpaint").task(self_ensemble=False).restore(net, images, mask=mask)["prediction"]
    np.testing.assert_allclose(single.numpy(), net(x).numpy(), atol=1e-6)
    assert np.abs(ensembled - single.numpy()).max() > 1e-3
