"""Seed 002 denoising autoencoders: networks (spec/models.md §4), the Denoising task, training, export."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_inpaint import artifact, data, exporting, registry
from keras_inpaint.cli import compare
from keras_inpaint.models.denoising import network as denoising
from keras_inpaint.training import run


@pytest.mark.parametrize("model_id,params,shape,latent", [
    ("denoising_ae_mnist", 278_369, (28, 28, 1), 32),
    ("denoising_ae_fashion", 479_105, (28, 28, 1), 64),
    ("denoising_ae_ffhq", 34_938_499, (128, 128, 3), 1024),
])
def test_network_parameter_count_and_shapes(model_id, params, shape, latent):
    spec = registry.get(model_id)
    net = spec.build_network()
    assert net.count_params() == params == spec.params
    assert spec.image_shape == shape and spec.value_range == (0.0, 1.0)
    assert net.get_layer("latent").output.shape == (None, latent)
    assert net.output_shape == (None, *shape)
    out = net(tf.random.uniform((2, *shape)))
    assert out.shape == (2, *shape)
    assert float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 1.0   # sigmoid


def test_mnist_layer_table():
    net = denoising.build_denoising_ae((28, 28, 1), 32)
    rows = [(l.name, tuple(l.output.shape[1:]), l.count_params()) for l in net.layers[1:]]
    assert rows == [("conv1", (14, 14, 32), 320), ("conv2", (7, 7, 64), 18_496), ("flatten", (3136,), 0),
                    ("latent", (32,), 100_384), ("dense", (3136,), 103_488), ("reshape", (7, 7, 64), 0),
                    ("deconv1", (14, 14, 64), 36_928), ("deconv2", (28, 28, 32), 18_464),
                    ("output", (28, 28, 1), 289)]
    with pytest.raises(ValueError):
        denoising.build_denoising_ae((30, 30, 1), 32)


def _digits(n=8, seed=0):
    # Smooth random blobs in uint8, 28x28x1 (no dataset needed).
    x = tf.random.stateless_uniform([n, 7, 7, 1], [seed, 1])
    return tf.cast(tf.round(tf.image.resize(x, (28, 28)) * 255.0), tf.uint8)


def test_task_options_and_training_pairs():
    spec = registry.get("denoising_ae_mnist")
    images = _digits()
    seed = tf.constant([1, 2], tf.int64)
    clean = images.numpy() / 255.0
    # default: random strength noise, clean target
    x, y = spec.task().make_pair(images, seed)
    np.testing.assert_allclose(y.numpy(), clean, atol=1e-6)
    assert not np.allclose(x.numpy(), clean) and x.numpy().min() >= 0 and x.numpy().max() <= 1
    np.testing.assert_array_equal(x.numpy(), spec.task().make_pair(images, seed)[0].numpy())  # deterministic
    # --train_noise=none: the plain autoencoder of the seed's MNIST text
    x, y = spec.task(train_noise="none").make_pair(images, seed)
    np.testing.assert_array_equal(x.numpy(), y.numpy())
    # fixed strength (flag strings are accepted)
    x, _ = spec.task(train_noise="0.3").make_pair(images, seed)
    assert spec.task(train_noise="0.3").train_noise == 0.3
    # white boxes
    task = spec.task(corruption="white_box")
    x, y = task.make_pair(images, seed)
    assert (x.numpy() == 1.0).sum() >= 7 * 7 * 8
    # validation pairs (no seed) are deterministic in the pixels
    np.testing.assert_array_equal(task.make_pair(images)[0].numpy(), task.make_pair(images)[0].numpy())
    with pytest.raises(ValueError, match="train_noise"):
        spec.task(corruption="white_box", train_noise="random")
    with pytest.raises(ValueError):
        spec.task(train_noise="loud")
    with pytest.raises(ValueError):
        spec.task(corruption="salt")
    with pytest.raises(ValueError, match="valid options"):
        spec.task(scale=3)
    assert registry.get("denoising_ae_ffhq").task().corruption == "white_box"


def _identity(x, training=False):
    return x


def test_evaluate_batch_reports_model_and_noisy_input_baseline():
    images = _digits(16)
    task = registry.get("denoising_ae_mnist").task()
    out = task.evaluate_batch(_identity, images)
    keys = {f"{p}{m}_f{f}" for p in ("", "baseline_") for m in ("psnr", "ssim") for f in ("0.1", "0.3", "0.5")}
    assert set(out) == keys
    assert all(v.shape == (16,) for v in out.values())
    # the identity "denoiser" is exactly the noisy-input baseline; more noise, lower PSNR
    for f in ("0.1", "0.3", "0.5"):
        np.testing.assert_allclose(out[f"psnr_f{f}"].numpy(), out[f"baseline_psnr_f{f}"].numpy(), rtol=1e-6)
    assert np.mean(out["psnr_f0.1"]) > np.mean(out["psnr_f0.3"]) > np.mean(out["psnr_f0.5"])
    assert 19.0 < np.mean(out["baseline_psnr_f0.1"]) < 21.0   # f = 0.1 -> ~20 dB (some clipping)
    assert [k for k, _ in task.report] == ["psnr_f0.1", "ssim_f0.1", "psnr_f0.3", "ssim_f0.3",
                                           "psnr_f0.5", "ssim_f0.5"]

    box = registry.get("denoising_ae_fashion").task(corruption="white_box")
    out = box.evaluate_batch(lambda x, training=False: tf.ones_like(x) * 0.5, images)
    assert set(out) == {f"{p}{m}" for p in ("", "baseline_") for m in ("psnr", "ssim", "box_psnr", "pasted_psnr")}
    # pasting the output into the box never changes the known pixels: pasted PSNR >= whole-output PSNR here
    assert np.all(out["pasted_psnr"].numpy() >= out["psnr"].numpy())
    np.testing.assert_allclose(out["baseline_pasted_psnr"].numpy(), out["baseline_psnr"].numpy(), rtol=1e-6)
    grid = box.grid(_identity, images[:3])
    assert grid.shape == (1, 3 * 28, 3 * 28, 1) and grid.dtype == tf.uint8


def test_ffhq_white_box_pairs_on_real_faces(faces_dir):
    spec = registry.get("denoising_ae_ffhq")
    ds = data.load_images(f"folder:{os.path.join(faces_dir, 'utkface_aligned_cropped')}", "test",
                          spec.image_shape[:2], 3, max_examples=4)
    images = next(iter(ds.batch(4)))
    assert images.shape == (4, 128, 128, 3)
    x, y = spec.task().make_pair(images, tf.constant([0, 1], tf.int64))
    box = np.all(x.numpy() == 1.0, axis=-1) & ~np.all(y.numpy() == 1.0, axis=-1)
    area = box.reshape(4, -1).sum(axis=1)
    assert (area >= 32 * 32 * 0.5).all() and (area <= 64 * 64).all()


def test_mnist_short_training_loss_decreases_and_exports(tfds_dir, tmp_path):
    """Real MNIST (../shared/data/tensorflow_datasets): a few hundred steps lower the loss; export works."""
    config = run.RunConfig.of(model="denoising_ae_mnist", data_dir=tfds_dir, steps=120, batch_size=64,
                              steps_per_epoch=60, max_examples=2048, val_examples=128, test_examples=256, seed=1,
                              output_dir=str(tmp_path / "run"), export_dir=str(tmp_path / "sm"))
    result = run.train(config, verbose=0)
    loss = result["history"]["loss"]
    assert len(loss) == 2 and loss[-1] < loss[0] * 0.8
    m = result["metrics"]
    assert m["num_images"] == 256            # the first 256 test images (--test_examples)
    for f in ("0.1", "0.3", "0.5"):
        assert f"psnr_f{f}" in m and f"baseline_psnr_f{f}" in m
    assert m["psnr_f0.5"] > m["baseline_psnr_f0.5"]       # even a short run beats the noisy input at f = 0.5
    assert result["export_path"] == str(tmp_path / "sm" / "denoising_ae_mnist" / "1")
    # the card records the corruption even when the run used the registry's default
    assert artifact.load_model_card(result["export_path"])["task_options"] == {"corruption": "noise"}

    loaded = tf.saved_model.load(result["export_path"])   # the TF Serving layout, plain TF loader
    images = tf.cast(tf.random.uniform((3, 28, 28, 1), 0, 256, tf.int32), tf.uint8)
    out = loaded.signatures["serving_default"](images=images)["images"]
    assert out.shape == (3, 28, 28, 1) and out.dtype == tf.uint8
    mask = np.zeros((3, 28, 28, 1), np.float32)
    mask[:, 5:12, 5:12] = 1.0
    pasted = loaded.signatures["with_mask"](images=images, mask=tf.constant(mask))["images"].numpy()
    np.testing.assert_array_equal(pasted[mask[..., 0] == 0], images.numpy()[mask[..., 0] == 0])
    np.testing.assert_array_equal(pasted[mask[..., 0] == 1], out.numpy()[mask[..., 0] == 1])
    with pytest.raises(tf.errors.InvalidArgumentError):
        loaded.signatures["with_mask"](images=images, mask=tf.constant(mask * 0.5))


def test_fashion_mnist_white_box_short_training_on_real_data(tfds_dir, tmp_path):
    """Real Fashion-MNIST (../shared/data/tensorflow_datasets/fashion_mnist): the white-box variant trains (the
    loss falls), scores 256 test images with the box metrics, writes its grid, and its export's
    card records the corruption; `python -m keras_inpaint.cli.compare --saved_models` puts two exports side by
    side."""
    images = next(iter(data.load_images("fashion_mnist", "test", (28, 28), 1, data_dir=tfds_dir,
                                        max_examples=512).batch(512)))
    # clothes, not digits: Fashion-MNIST's mean intensity is ~0.29 (MNIST's ~0.13)
    assert 0.2 < float(tf.reduce_mean(tf.cast(images, tf.float32))) / 255.0 < 0.4
    config = run.RunConfig.of(model="denoising_ae_fashion", data_dir=tfds_dir, steps=120, batch_size=64,
                              steps_per_epoch=60, max_examples=2048, val_examples=128, test_examples=256, seed=1,
                              task_options={"corruption": "white_box"},
                              output_dir=str(tmp_path / "run"), export_dir=str(tmp_path / "sm"))
    result = run.train(config, verbose=0)
    loss = result["history"]["loss"]
    assert len(loss) == 2 and loss[-1] < loss[0]
    m = result["metrics"]
    assert m["dataset"] == "fashion_mnist" and m["num_images"] == 256
    assert {"psnr", "ssim", "box_psnr", "pasted_psnr"} <= set(m)
    assert m["box_psnr"] > m["baseline_box_psnr"]          # any grey fill beats a white box on clothes
    assert os.path.exists(tmp_path / "run" / "grid.png")
    card = artifact.load_model_card(result["export_path"])
    assert card["dataset"] == "fashion_mnist" and card["task_options"] == {"corruption": "white_box"}

    # `python -m keras_inpaint.cli.compare --saved_models`: the same weights exported twice give identical
    # columns and scores on one shared baseline (evaluation.compare_saved_models)
    again = exporting.export_run(result["run_dir"], str(tmp_path / "sm"), version=2)
    out, png = tmp_path / "compare.json", tmp_path / "compare.png"
    assert compare.main([f"--saved_models=plain={result['export_path']},again={again}", f"--data_dir={tfds_dir}",
                         "--num_images=64", "--grid_images=4", f"--grid={png}", "--grid_scale=2",
                         f"--output={out}"]) == 0
    results = json.loads(out.read_text())
    assert list(results) == ["plain", "again"] and results["plain"]["num_images"] == 64
    assert results["plain"]["psnr"] == results["again"]["psnr"]
    grid = np.asarray(Image.open(png))[::2, ::2]                  # grey PNG, upscaled 2x
    assert grid.shape == (4 * 28, 4 * 28)
    np.testing.assert_array_equal(grid[:, 28:56], grid[:, 56:84])  # corrupted input | plain | again | original
    assert not np.array_equal(grid[:, :28], grid[:, -28:])
    with pytest.raises(SystemExit, match="one model id"):
        compare.main([f"--saved_models={again},saved_models/denoising_ae_mnist/1"])


def test_white_box_training_pipeline_runs():
    """The --corruption=white_box path through data.training_pipeline and fit (a few steps, synthetic data)."""
    spec = registry.get("denoising_ae_fashion")
    task = spec.task(corruption="white_box")
    ds = data.training_pipeline(tf.data.Dataset.from_tensor_slices(_digits(64)), 16, task.make_pair, seed=0)
    net = spec.build_network()
    net.compile(optimizer=spec.make_optimizer(), loss=spec.loss)
    history = net.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
