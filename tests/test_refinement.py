"""`refinement_ae` (seed 004 §2.2.4, spec/models.md §9): the network, its training pairs (noisy originals by
default, cached latent-inpainting completions when a cache is given), the cache builder and the export."""
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import data, exporting, latent_inpainting, registry, tasks
from keras_inpaint.models.lsgan import network as lsgan
from keras_inpaint.models.refinement import network as refinement

PROBE = r"""
import numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
mask = np.zeros(x.shape[:3] + (1,), np.float32); mask[:, 16:48, 16:48] = 1.0
out = m.signatures["serving_default"](images=tf.constant(x), mask=tf.constant(mask))
whole = m.signatures["refine"](images=tf.constant(x))
np.savez(sys.argv[3], images=out["images"].numpy(), whole=whole["images"].numpy())
"""


@pytest.fixture(scope="module")
def faces(faces_dir):
    ds = data.load_images(f"folder:{faces_dir}/celeba_img_align", "train", (64, 64), 3, crop="face108",
                          max_examples=3)
    return next(iter(ds.batch(3))).numpy()


def test_network_parameter_count_and_layers():
    net = registry.get("refinement_ae").build_network()
    assert net.count_params() == 3_124_803 == registry.get("refinement_ae").params
    assert sum(int(np.prod(w.shape)) for w in net.trainable_weights) == 3_121_923
    assert net.get_layer("code").output.shape[-1] == 8192              # seed: "relevant layer of size 8192"
    assert [tuple(net.get_layer(f"enc{i}_pool").output.shape[1:]) for i in (1, 2, 3, 4)] == [
        (32, 32, 64), (16, 16, 128), (8, 8, 256), (4, 4, 512)]
    y = net(np.zeros((2, 64, 64, 3), np.float32), training=False)
    assert y.shape == (2, 64, 64, 3) and float(tf.reduce_max(tf.abs(y))) < 1.0


def test_registry_defaults():
    spec = registry.get("refinement_ae")
    assert (spec.batch_size, spec.learning_rate, spec.steps, spec.loss) == (32, 1e-3, 2000, "mse")
    assert spec.adversarial is None and spec.value_range == (-1.0, 1.0)
    task = spec.task()
    assert isinstance(task, tasks.Refinement) and task.cache is None and task.noise == 0.1
    with pytest.raises(FileNotFoundError, match="refinement cache"):
        spec.task(refinement_cache="/nonexistent/cache.npz")


def test_noise_pairs_by_default(faces):
    task = registry.get("refinement_ae").task()
    x, y = task.make_pair(tf.constant(faces), tf.constant([0, 1], tf.int64))
    clean = faces.astype(np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(y, clean, atol=1e-6)
    assert x.shape == y.shape and float(tf.reduce_max(tf.abs(x))) <= 1.0
    diff = (x.numpy() - clean)[np.abs(clean) < 0.6]                  # away from the clipping
    assert 0.08 < diff.std() < 0.12                                   # σ 0.1 in [-1, 1] units


def test_cache_pairs_use_the_latent_inpainting_completions(faces, tmp_path):
    tf.keras.utils.set_random_seed(0)
    inpainter = latent_inpainting.LatentInpainter(lsgan.build_lsgan_generator(), registry.get("lsgan").adversarial.discriminator())
    path = latent_inpainting.build_refinement_cache(inpainter, faces[:2], str(tmp_path / "cache.npz"),
                                                    iterations=3, batch_size=2)
    with np.load(path) as f:
        np.testing.assert_array_equal(f["original"], faces[:2])
        completed = f["completed"]
        assert int(f["iterations"]) == 3 and f["mask"].shape == (64, 64, 1)
    known = np.ones((64, 64), bool)
    known[16:48, 16:48] = False
    np.testing.assert_array_equal(completed[:, known], faces[:2, known])
    task = registry.get("refinement_ae").task(refinement_cache=path, input_noise=0.0)
    x, y = task.make_pair(tf.constant(faces), tf.constant([0, 1], tf.int64))
    to_range = lambda a: a.astype(np.float32) / 127.5 - 1.0  # noqa: E731
    np.testing.assert_allclose(x[:2], to_range(completed), atol=1e-6)     # cached: the completion
    np.testing.assert_allclose(x[2], to_range(faces[2]), atol=1e-6)       # not cached: the original
    np.testing.assert_allclose(y, to_range(faces), atol=1e-6)
    # the lookup also runs inside tf.data, as in training
    ds = data.training_pipeline(tf.data.Dataset.from_tensor_slices(faces[:2]), 2, task.make_pair, seed=0)
    bx, _ = next(iter(ds))
    assert bx.shape == (2, 64, 64, 3)


def test_one_fit_step_and_export_pastes_into_the_hole(faces, tmp_path, plain_tf):
    spec = registry.get("refinement_ae")
    task = spec.task()
    net = spec.build_network()
    net.compile(optimizer=spec.make_optimizer(), loss=spec.loss)
    before = [w.numpy().copy() for w in net.trainable_weights]
    net.train_on_batch(*task.make_pair(tf.constant(faces), tf.constant([0, 0], tf.int64)))
    assert all(not np.array_equal(a, w.numpy()) for a, w in zip(before, net.trainable_weights))
    m = task.evaluate_batch(net, tf.constant(faces))
    assert set(m) == {"psnr", "ssim", "baseline_psnr", "baseline_ssim"} and m["psnr"].shape == (3,)
    path = str(tmp_path / "refinement_ae" / "1")
    exporting.export_network(spec, net, path, {"id": "refinement_ae"}, task=task)
    np.save(tmp_path / "x.npy", faces)
    r = plain_tf(PROBE, path, tmp_path / "x.npy", tmp_path / "o.npz")
    assert r.returncode == 0, r.stderr[-3000:]
    out = np.load(tmp_path / "o.npz")
    known = np.ones((64, 64), bool)
    known[16:48, 16:48] = False
    np.testing.assert_array_equal(out["images"][:, known], faces[:, known])
    np.testing.assert_array_equal(out["images"][:, ~known], out["whole"][:, ~known])
    assert os.path.exists(os.path.join(path, "assets", "model_card.json"))


def test_latent_inpainter_with_refiner_pastes_the_refined_output(faces):
    tf.keras.utils.set_random_seed(0)
    refiner = registry.get("refinement_ae").build_network()
    g, d = lsgan.build_lsgan_generator(), registry.get("lsgan").adversarial.discriminator()
    plain = latent_inpainting.LatentInpainter(g, d).inpaint(faces[:2], iterations=2)
    refined = latent_inpainting.LatentInpainter(g, d, refiner=refiner).inpaint(faces[:2], iterations=2)
    known = np.ones((64, 64), bool)
    known[16:48, 16:48] = False
    np.testing.assert_array_equal(refined["images"][:, known], faces[:2, known])
    np.testing.assert_allclose(refined["z"], plain["z"], atol=1e-6)          # same search ...
    assert not np.array_equal(refined["images"][:, ~known], plain["images"][:, ~known])  # ... refined fill
