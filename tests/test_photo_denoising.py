"""Photo denoising (issue 31): the patch pipeline of the photo models, FFDNet, its task, export and predict.py.

The patch-pipeline tests run on small synthetic photos whose pixels encode where they come from (R = row,
G = column, B = photo number), so a patch can be traced back to its photo, position and flip/rotation.
"""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_inpaint import artifact, corruptions, data, exporting, precision, prediction, registry, tasks
from keras_inpaint.models.ffdnet import network as ffdnet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BSDS = os.path.join(ROOT, "..", "shared", "data", "photos", "bsds500")
SHIPPED = os.path.join(ROOT, "saved_models", "ffdnet", "1")
VAL_BLUE = 255   # the blue value of every pixel of the synthetic val/ photos (train/ photos use 0, 40, 80, ...)


def _coded_photo(h, w, number):
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return np.stack([rows, cols, np.full((h, w), number)], axis=-1).astype(np.uint8)


@pytest.fixture
def photo_folder(tmp_path):
    """train/ with 3 photos of different sizes and orientations, val/ with 2 photos (blue = 255), and an ids file
    naming one val photo."""
    for split, sizes in (("train", [(40, 60), (64, 36), (48, 48)]), ("val", [(50, 40), (40, 50)])):
        (tmp_path / split).mkdir()
        for i, (h, w) in enumerate(sizes):
            number = VAL_BLUE if split == "val" else 40 * i
            Image.fromarray(_coded_photo(h, w, number)).save(tmp_path / split / f"{split}{i}.png")
    (tmp_path / "ids.txt").write_text("val1\n")
    return tmp_path


def _dihedral(a, t):
    """The 8 flips / 90-degree rotations of a square patch `[P, P, C]`."""
    a = np.swapaxes(a, 0, 1) if t & 4 else a
    a = a[::-1] if t & 1 else a
    return a[:, ::-1] if t & 2 else a


def _trace(patch, photos):
    """(photo number, transform) such that `patch` is that flip/rotation of an unscaled crop of that photo, else
    None. The crop's top-left corner is the smallest row (R) and column (G) code in the patch."""
    p = patch.shape[0]
    photo = photos.get(int(patch[0, 0, 2]))
    if photo is None:
        return None
    y, x = int(patch[..., 0].min()), int(patch[..., 1].min())
    crop = photo[y:y + p, x:x + p]
    for t in range(8):
        if crop.shape == patch.shape and np.array_equal(_dihedral(crop, t), patch):
            return int(patch[0, 0, 2]), t
    return None


def _batches(folder, seed=0, batch=16, patch=8, count=6):
    photos = data.load_images(f"folder:{folder}", "train", (patch, patch), 3, crop=data.PATCHES)
    ds = data.patch_pipeline(photos, patch, batch, lambda x, s: x, seed=seed, patches_per_photo=16)
    return [b.numpy() for b in ds.take(count)]


def test_patches_are_native_resolution_crops_with_every_flip_and_rotation(photo_folder):
    photos = {40 * i: _coded_photo(h, w, 40 * i) for i, (h, w) in enumerate([(40, 60), (64, 36), (48, 48)])}
    transforms, numbers = set(), set()
    for batch in _batches(photo_folder):
        assert batch.shape == (16, 8, 8, 3) and batch.dtype == np.uint8
        for patch in batch:
            found = _trace(patch, photos)
            assert found is not None, "a patch is not an unscaled crop of a training photo"
            numbers.add(found[0])
            transforms.add(found[1])
    assert numbers == set(photos)                      # every photo contributes in one pass
    assert len(transforms) == 8                        # the whole dihedral group is used


def test_patch_pipeline_is_deterministic_per_seed(photo_folder):
    a, b, c = _batches(photo_folder, seed=3), _batches(photo_folder, seed=3), _batches(photo_folder, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_no_val_photo_reaches_training(photo_folder):
    assert all(f"{os.sep}train{os.sep}" in f for f in data.list_folder_images(str(photo_folder), "train"))
    for batch in _batches(photo_folder, count=12):
        assert not np.any(batch[..., 2] == VAL_BLUE)
    # the test split is val/, narrowed by the ids file when the model names one
    assert [os.path.basename(f) for f in data.list_folder_images(str(photo_folder), "test")] == ["val0.png",
                                                                                                   "val1.png"]
    assert [os.path.basename(f) for f in data.list_folder_images(str(photo_folder), "test", "ids.txt")] == ["val1.png"]


def test_bsds500_splits_train_on_train_and_test_on_cbsd68():
    assert os.path.isdir(BSDS), f"{BSDS} not found (../shared/data beside the checkout)"
    train = data.list_folder_images(BSDS, "train")
    test = data.list_folder_images(BSDS, "test", registry.get("ffdnet").test_ids)
    assert len(train) == 200 and len(test) == 68
    val_names = {os.path.basename(f) for f in os.listdir(os.path.join(BSDS, "val"))}
    assert not val_names & {os.path.basename(f) for f in train}
    assert all(f"{os.sep}val{os.sep}" in f for f in test)


def test_ffdnet_parameter_count_is_the_papers_colour_network():
    # FFDNet §IV-A, colour: 12 conv layers, 96 channels, input 4x3 sub-images + a 3-channel noise level map,
    # output 4x3 sub-images; BatchNorm (gamma, beta and the two moving statistics) on the 10 middle layers.
    head = (12 + 3) * 96 * 9 + 96
    body = 10 * (96 * 96 * 9 + 4 * 96)
    tail = 96 * 12 * 9 + 12
    assert ffdnet.build_ffdnet().count_params() == head + body + tail == 856_716


def test_pixel_unshuffle_is_space_to_depth_and_pixel_shuffle_its_inverse():
    x = np.random.default_rng(0).random((2, 6, 10, 3)).astype(np.float32)
    down = ffdnet.PixelUnshuffle(2)(x)
    np.testing.assert_array_equal(down.numpy(), tf.nn.space_to_depth(x, 2).numpy())
    np.testing.assert_array_equal(ffdnet.PixelShuffle(2)(down).numpy(), x)


def test_training_pairs_carry_unclipped_noise_and_its_level_map():
    task = registry.get("ffdnet").task()
    images = tf.constant(np.full((64, 50, 50, 3), 250, np.uint8))
    x, y = task.make_pair(images, seed=tf.constant([0, 1], tf.int64))
    assert x.shape == (64, 50, 50, 6) and y.shape == (64, 50, 50, 3)
    sigma = x[:, 0, 0, 3].numpy() * 255.0
    assert 0.0 <= sigma.min() and sigma.max() <= 75.0 and sigma.std() > 10     # one level per patch, in [0, 75]
    assert np.ptp(x[..., 3:].numpy(), axis=(1, 2, 3)).max() < 1e-6             # a uniform map per patch
    assert float(tf.reduce_max(x[..., :3])) > 1.0                              # not clipped (papers' protocol)
    noise = (x[..., :3] - y).numpy() * 255.0
    np.testing.assert_allclose(noise.std(axis=(1, 2, 3)), sigma, rtol=0.1, atol=0.5)


def test_awgn_draw_is_fixed_per_photo_and_scaled_by_sigma():
    x = tf.zeros((1, 32, 32, 3))
    seed = tf.constant([5, 6], tf.int64)
    a, level_a = corruptions.white_gaussian_noise(x, seed, 15.0)
    b, level_b = corruptions.white_gaussian_noise(x, seed, 30.0)
    np.testing.assert_allclose(b.numpy(), 2 * a.numpy(), rtol=1e-5, atol=1e-7)
    assert float(level_a[0, 0, 0, 0]) == pytest.approx(15 / 255) and float(level_b[0, 0, 0, 0]) == pytest.approx(30 / 255)
    with pytest.raises(ValueError):
        corruptions.white_gaussian_noise(x, seed, -1.0)


def test_evaluation_scores_both_protocols_against_the_noisy_input():
    task = registry.get("ffdnet").task()
    clean = 108 + _coded_photo(40, 60, 20) // 2      # mid-grey: noise of sigma <= 50 is rarely clipped
    images = tf.constant(clean[None])
    identity = lambda inputs, training=False: inputs[..., :3]      # noqa: E731  "returns the noisy input"
    scores = task.evaluate_batch(identity, images)
    for s in (15, 25, 50):
        for suffix in ("", "_uint8"):
            # the identity's output is the noisy input: model = baseline, and PSNR follows 20 log10(255 / sigma)
            np.testing.assert_allclose(scores[f"psnr_s{s}{suffix}"], scores[f"baseline_psnr_s{s}{suffix}"])
            assert abs(float(scores[f"psnr_s{s}{suffix}"][0]) - 20 * np.log10(255 / s)) < 0.3
    perfect = lambda inputs, training=False: tf.cast(images, tf.float32) / 255.0   # noqa: E731
    assert float(task.evaluate_batch(perfect, images)["psnr_s25"][0]) > 60   # inf: a perfect denoiser


@pytest.fixture(scope="module")
def denoiser(tmp_path_factory):
    """(export path, trained): the shipped photo denoiser `saved_models/ffdnet/1` when this checkout has it, else a
    freshly initialised FFDNet exported under the default policy. The untrained network is no denoiser, but its
    output depends on every pixel of its 50-pixel receptive field (He initialisation), which is what the tiling,
    grayscale and signature tests need; the tests that need it to denoise check that on the shipped one."""
    if os.path.isdir(SHIPPED):
        return SHIPPED, True
    spec = registry.get("ffdnet")
    path = str(tmp_path_factory.mktemp("ffdnet") / "1")
    keras.utils.set_random_seed(0)      # one initialisation, the same in every run
    with precision.policy_scope(precision.default_for(spec.precision)):
        exporting.export_network(spec, spec.build_network(), path, {"id": "ffdnet"}, task=spec.task())
    return path, False


@pytest.fixture(scope="module")
def noisy_photo(tmp_path_factory):
    """A real Set14 photo (not 50x50, not a multiple of the tile) with sigma 25 noise, clipped to uint8 as a file;
    returns (path, clean, noisy)."""
    set14 = os.path.join(ROOT, "..", "shared", "data", "benchmarks", "Set14")
    clean = np.asarray(Image.open(os.path.join(set14, "lenna.png")).convert("RGB"))[:300, :331]
    rng = np.random.default_rng(31)
    noisy = np.clip(np.round(clean + rng.normal(0, 25, clean.shape)), 0, 255).astype(np.uint8)
    path = tmp_path_factory.mktemp("noisy") / "lenna_noisy.png"
    Image.fromarray(noisy).save(path)
    return str(path), clean, noisy


def _psnr(a, b, border=0):
    a = a[border:a.shape[0] - border, border:a.shape[1] - border].astype(np.float64)
    b = b[border:b.shape[0] - border, border:b.shape[1] - border].astype(np.float64)
    return 10 * np.log10(255.0 ** 2 / np.mean((a - b) ** 2))


def test_predict_denoises_a_photo_in_tiles_like_the_whole_photo(noisy_photo, denoiser):
    path, trained = denoiser
    _, clean, noisy = noisy_photo
    whole = prediction.Predictor(path, tile=1024).predict(noisy, noise_level=25)
    tiled = prediction.Predictor(path, tile=96, overlap=32).predict(noisy, noise_level=25)
    assert tiled.shape == whole.shape == clean.shape
    assert np.mean(np.abs(whole.astype(int) - noisy.astype(int))) > 1.0       # the network changed the photo
    assert abs(_psnr(tiled, clean, 16) - _psnr(whole, clean, 16)) < 0.1
    assert np.mean(np.abs(tiled.astype(int) - whole.astype(int))[16:-16, 16:-16]) < 0.5
    if trained:
        assert _psnr(whole, clean) > _psnr(noisy, clean) + 7                    # sigma 25: ~20 dB -> ~30 dB


def test_predict_without_noise_level_prints_the_estimate(noisy_photo, denoiser, tmp_path):
    path, trained = denoiser
    photo_path, clean, _ = noisy_photo
    r = subprocess.run([sys.executable, os.path.join(ROOT, "predict.py"), f"--saved_model={path}",
                        f"--input={photo_path}", f"--output_dir={tmp_path}"], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    line = next(x for x in r.stdout.splitlines() if "estimated noise level sigma =" in x)
    assert abs(float(line.split("=")[1].split()[0]) - 25) < 3
    out = np.asarray(Image.open(tmp_path / "lenna_noisy.png"))
    assert out.shape == clean.shape
    if trained:
        assert _psnr(out, clean) > 28


def test_grayscale_photo_comes_back_grey(noisy_photo, denoiser):
    _, _, noisy = noisy_photo
    grey = np.repeat(noisy[..., :1], 3, axis=-1)
    out = prediction.Predictor(denoiser[0]).predict(grey, noise_level=25)
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])
    assert np.mean(np.abs(out[..., 0].astype(int) - grey[..., 0])) > 1.0


def test_serving_default_is_the_tasks_uint8_protocol(noisy_photo, denoiser):
    """The export's serving_default computes what the task's `serve` (the user's protocol of the evaluation table)
    computes through the export's `network` signature, at the given noise level."""
    path, _ = denoiser
    _, _, noisy = noisy_photo
    loaded = tf.saved_model.load(path)
    card = artifact.load_model_card(path)
    task = exporting.card_task(card)
    assert isinstance(task, tasks.GaussianDenoising)
    served = {s: loaded.signatures["serving_default"](images=tf.constant(noisy[None]),
                                                      noise_level=tf.constant([s]))["images"].numpy()
              for s in (10.0, 40.0)}
    again = task.serve(artifact.SavedModelNetwork(loaded, card), tf.constant(noisy[None]), tf.constant([10.0]))
    assert np.abs(served[10.0].astype(int) - again["images"].numpy().astype(int)).max() <= 1
    # the level is used: the untrained fixture's outputs move by about one level on many values (their mean
    # absolute difference was 0.4996 with one unseeded initialisation and over 0.5 with others)
    assert np.mean(served[10.0] != served[40.0]) > 0.1


MIRRORED_PROBE = r"""
import sys, numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from keras_inpaint import data
from keras_inpaint.training import distribute
folder = sys.argv[1]
make = lambda: data.patch_pipeline(data.load_images(f"folder:{folder}", "train", (8, 8), 3, crop=data.PATCHES),
                                   8, 8, lambda x, s: x, seed=5, patches_per_photo=16)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
dist = iter(distribute.distribute_training_input(strategy, make, 8))
plain = iter(make())
halves = {h.tobytes() for _ in range(8) for h in np.split(next(plain).numpy(), 2)}
for _ in range(3):
    parts = [strategy.experimental_local_results(next(dist))[r].numpy() for r in range(2)]
    assert all(p.shape == (4, 8, 8, 3) for p in parts), [p.shape for p in parts]
    assert all(p.tobytes() in halves for p in parts)
print("MIRRORED OK")
"""


def test_a_run_ends_with_batchnorm_statistics_of_its_final_weights(tmp_path, monkeypatch):
    """ffdnet's `bn_reestimation` finish stage: the exported and checkpointed BatchNorm statistics are the
    average over fresh training batches of the final weights (not the lagging moving averages), the same when
    the finished run's command is run again. The run builds its training source once (the stream, the check that
    an image decodes and the re-estimation batches share it), its validation and its test images once (issue 35)."""
    from keras_inpaint.training import batchnorm, run

    sources = []
    load_images = data.load_images
    monkeypatch.setattr(data, "load_images", lambda dataset, split, *a, **k: sources.append(split) or
                        load_images(dataset, split, *a, **k))

    rng = np.random.default_rng(5)
    for split, count in (("train", 3), ("val", 1)):
        (tmp_path / "photos" / split).mkdir(parents=True)
        for i in range(count):
            smooth = np.kron(rng.integers(0, 256, (10, 10, 3)), np.ones((14, 14, 1)))   # 140x140 blocks
            Image.fromarray(smooth.astype(np.uint8)).save(tmp_path / "photos" / split / f"{split}{i}.png")
    config = run.RunConfig.of(model="ffdnet", dataset=f"folder:{tmp_path / 'photos'}", steps=3, steps_per_epoch=3,
                              batch_size=4, val_examples=1, output_dir=str(tmp_path / "run"), export_dir=None,
                              precision="float32")
    result = run.train(config, verbose=0)
    assert sorted(sources) == ["test", "test", "train"], sources     # validation, test; training
    trained = run.load_run(result["run_dir"])
    stream = run.training_stream(trained, config.runtime.seed + run.BN_STREAM_SEED)
    layers = batchnorm.batchnorm_layers(run.inference_network(trained.model))
    saved = [layer.moving_mean.numpy().copy() for layer in layers]
    assert len(layers) == 10
    batchnorm.reestimate_batchnorm(run.inference_network(trained.model), stream, 3)
    for layer, before in zip(layers, saved):
        np.testing.assert_allclose(layer.moving_mean.numpy(), before, rtol=1e-5, atol=1e-6)
    again = run.train(config, verbose=0)                      # the finished run's command, run again
    assert again["metrics"]["psnr_s25"] == pytest.approx(result["metrics"]["psnr_s25"], abs=1e-6)


def test_patch_pipeline_under_a_mirrored_strategy(photo_folder):
    """Under a MirroredStrategy of two replicas (two logical CPUs) each replica gets half-batches of the global
    batches a one-device run makes (`distribute.distribute_training_input`; which half reaches which replica at
    which step is the strategy's business, as for every model)."""
    r = subprocess.run([sys.executable, "-c", MIRRORED_PROBE, str(photo_folder)], capture_output=True, text=True,
                       cwd=ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert "MIRRORED OK" in r.stdout, (r.stdout + r.stderr)[-3000:]


def test_ffdnet_self_ensemble_is_an_option_of_inference_only():
    """ffdnet denoises with one pass by default (serving_default, predict.py) and, with `self_ensemble=True`
    (evaluate.py --self_ensemble, an export's card), with the mean over the 8 flips / rotations; training pairs and
    `training=True` calls see one view."""
    spec = registry.get("ffdnet")
    assert not spec.task().self_ensemble
    task = spec.task(self_ensemble=True)
    rng = np.random.default_rng(7)
    kernel = rng.normal(0, 0.1, size=(3, 3, 6, 3)).astype(np.float32)
    net = lambda x, training=False: tf.nn.conv2d(x, kernel, 1, "SAME")      # noqa: E731  not flip-invariant
    images = tf.constant(rng.integers(0, 256, (1, 20, 26, 3)).astype(np.uint8))
    noisy = tf.cast(images, tf.float32) / 255.0
    sigma = tf.fill([1, 1, 1, 1], 25.0 / 255.0)
    x = task.network_input(noisy, sigma)
    ensembled = task.denoise(net, noisy, sigma).numpy()
    np.testing.assert_allclose(ensembled, tasks.base.run_self_ensemble(net, x, 2).numpy(), atol=1e-6)
    single = spec.task().denoise(net, noisy, sigma).numpy()
    np.testing.assert_allclose(single, net(x).numpy(), atol=1e-6)
    np.testing.assert_allclose(task.denoise(net, noisy, sigma, training=True).numpy(), single, atol=1e-6)
    assert np.abs(ensembled - single).max() > 1e-3
    served = task.serve(net, images, tf.constant([25.0]))["images"].numpy().astype(int)
    assert np.abs(served - np.clip(np.round(ensembled * 255), 0, 255)).max() <= 1


def test_a_run_exports_at_another_precision(tmp_path):
    """`export.py --precision` (`exporting.export_run(policy=...)`): the run's float32 weights computed under
    another dtype policy; the card records both precisions."""
    from keras_inpaint.training import run

    rng = np.random.default_rng(8)
    (tmp_path / "photos" / "train").mkdir(parents=True)
    (tmp_path / "photos" / "val").mkdir()
    for split in ("train", "val"):
        Image.fromarray(rng.integers(0, 256, (60, 60, 3)).astype(np.uint8)).save(tmp_path / "photos" / split / "a.png")
    config = run.RunConfig.of(model="ffdnet", dataset=f"folder:{tmp_path / 'photos'}", steps=1, steps_per_epoch=1,
                              batch_size=2, val_examples=1, output_dir=str(tmp_path / "run"), export_dir=None,
                              precision="float32")
    run_dir = run.train(config, verbose=0)["run_dir"]
    same = exporting.export_run(run_dir, str(tmp_path / "exports"), version=1)
    other = exporting.export_run(run_dir, str(tmp_path / "exports"), version=2, policy="mixed_bfloat16")
    assert artifact.load_model_card(same)["precision"] == "float32"
    assert "training_precision" not in artifact.load_model_card(same)
    card = artifact.load_model_card(other)
    assert (card["precision"], card["training_precision"]) == ("mixed_bfloat16", "float32")
    x = tf.constant(rng.uniform(size=(1, 32, 32, 6)).astype(np.float32))
    a, b = (np.asarray(artifact.SavedModelNetwork(tf.saved_model.load(p), artifact.load_model_card(p))(x))
            for p in (same, other))
    assert 0 < np.abs(a - b).max() < 0.05          # the same weights, rounded computations
    with pytest.raises(ValueError, match="precision must be one of"):
        exporting.export_run(run_dir, str(tmp_path / "exports"), version=3, policy="float64")
