"""keras_inpaint.latent_inpainting: the z-search inpainter (Yeh et al. 2017; seed 004 §2.3, seed 001's code),
its importance weights, its loss on a real face, paste-back, the SavedModel export and the image CLI."""
import glob
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import corruptions, data, exporting, latent_inpainting, registry
from keras_inpaint.cli import compare, inpaint
from keras_inpaint.models.dcgan import network as dcgan
from keras_inpaint.models.lsgan import network as lsgan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PLAIN_TF_PROBE = r"""
import numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
mask = np.zeros(x.shape[:3] + (1,), np.float32); mask[:, 10:40, 20:50] = 1.0
out = m.signatures["serving_default"](images=tf.constant(x), mask=tf.constant(mask))
centre = m.signatures["centre_mask"](images=tf.constant(x))
np.savez(sys.argv[3], mask=mask, centre=centre["images"].numpy(), **{k: v.numpy() for k, v in out.items()})
"""


@pytest.fixture(scope="module")
def faces(faces_dir):
    """Four real 64x64 CelebA face crops (held-back split), uint8."""
    ds = data.load_images(f"folder:{faces_dir}/celeba_img_align", "test", (64, 64), 3, crop="face108",
                          max_examples=4)
    return next(iter(ds.batch(4))).numpy()


@pytest.fixture(scope="module")
def prior():
    tf.keras.utils.set_random_seed(0)
    return latent_inpainting.prior_network(lsgan.build_lsgan_generator(), registry.get("lsgan").adversarial.discriminator())


def test_importance_weights_follow_spec_mask_polarity():
    mask = corruptions.centre_mask(1, 64, 64, 32)                 # SPEC: 1.0 = missing, rows/cols 16..47
    w = latent_inpainting.importance_weights(mask, 7)[0, ..., 0].numpy()
    assert np.all(w[16:48, 16:48] == 0)                            # the hole itself
    assert w[32, 15] == pytest.approx(3 * 7 / 49)                  # next to the hole: 3 of 7 columns missing
    assert w[32, 13] == pytest.approx(1 * 7 / 49) and w[32, 12] == 0  # farther than 3 px: no weight
    assert w[0, 0] == 0 and np.all(w >= 0) and np.all(w <= 1)
    binary = latent_inpainting.context_weights(mask, "binary")[0, ..., 0].numpy()
    np.testing.assert_array_equal(binary, 1 - mask[0, ..., 0].numpy())


def test_presets():
    g, d = dcgan.build_dcgan_generator(), registry.get("dcgan").adversarial.discriminator()
    dc = latent_inpainting.LatentInpainter(g, d, preset="dcgan")
    assert (dc.prior_loss, dc.prior_weight, dc.weighting, dc.iterations) == ("bce", 0.1, "binary", 500)
    assert (dc.learning_rate, dc.beta_1, dc.beta_2, dc.epsilon) == (0.01, 0.9, 0.9, 1e-9)
    ls = latent_inpainting.PRESETS["lsgan"]
    assert (ls["prior_loss"], ls["prior_weight"], ls["weighting"], ls["window"], ls["iterations"]) == (
        "least_squares", 10.0, "importance", 7, 1500)
    assert (ls["beta_2"], ls["epsilon"]) == (0.999, 1e-8)
    with pytest.raises(ValueError, match="preset"):
        latent_inpainting.LatentInpainter(g, d, preset="nope")
    with pytest.raises(ValueError, match="unknown"):
        latent_inpainting.LatentInpainter(g, d, lam=3)


@pytest.mark.parametrize("prior_loss", ["least_squares", "log"])
def test_search_lowers_the_loss_on_a_real_face_and_keeps_known_pixels(faces, prior, prior_loss):
    inpainter = latent_inpainting.LatentInpainter(prior, prior_loss=prior_loss)
    rng = np.random.default_rng(0)
    mask = np.zeros((2, 64, 64, 1), np.float32)
    mask[0, 16:48, 16:48] = 1.0                                     # centre square
    mask[1] = (rng.random((64, 64, 1)) < 0.2)                       # random pixels (R-BA --mask random)
    r = inpainter.inpaint(faces[:2], mask, iterations=15)
    curve = r["loss_curve"]
    assert curve.shape == (15,) and np.all(np.isfinite(curve))
    assert curve[-1] < curve[0] and r["loss"].mean() < curve[0]
    assert r["z"].shape == (2, 100) and np.abs(r["z"]).max() <= 1.0
    known = mask[..., 0] == 0
    assert r["images"].dtype == np.uint8
    np.testing.assert_array_equal(r["images"][known], faces[:2][known])   # bit-exact outside the mask


def test_per_image_latents_are_independent(faces, prior):
    """Each image has its own z and gradient (R-576's g[0] broadcast, 001-e, is not reproduced)."""
    inpainter = latent_inpainting.LatentInpainter(prior)
    a = inpainter.inpaint(faces[[0, 1]], iterations=5, seed=(3, 4))
    b = inpainter.inpaint(faces[[0, 2]], iterations=5, seed=(3, 4))
    np.testing.assert_allclose(a["z"][0], b["z"][0], atol=1e-5)
    assert not np.allclose(a["z"][1], b["z"][1])


@pytest.fixture(scope="module")
def exported(tmp_path_factory, prior):
    spec = registry.get("lsgan")
    path = str(tmp_path_factory.mktemp("latent") / "lsgan" / "1")
    exporting.export_network(spec, prior, path, {"id": "lsgan"}, task=spec.task(iterations=5))
    return path


def test_export_runs_in_plain_tensorflow(exported, faces, tmp_path, plain_tf):
    np.save(tmp_path / "x.npy", faces)
    r = plain_tf(PLAIN_TF_PROBE, exported, tmp_path / "x.npy", tmp_path / "out.npz")
    assert r.returncode == 0, r.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    assert out["images"].dtype == np.uint8 and out["images"].shape == faces.shape
    assert out["z"].shape == (4, 100) and np.abs(out["z"]).max() <= 1.0 and out["loss"].shape == (4,)
    known = out["mask"][..., 0] == 0
    np.testing.assert_array_equal(out["images"][known], faces[known])
    assert not np.array_equal(out["images"][~known], faces[~known])
    centre_known = np.ones((64, 64), bool)
    centre_known[16:48, 16:48] = False
    np.testing.assert_array_equal(out["centre"][:, centre_known], faces[:, centre_known])


def test_cli_writes_images_and_skips_bad_files(exported, faces_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for f in sorted(glob.glob(os.path.join(faces_dir, "celeba_img_align", "*.jpg")))[:2]:
        (src / os.path.basename(f)).write_bytes(open(f, "rb").read())
    (src / "broken.jpg").write_bytes(b"not an image")
    out = tmp_path / "out"
    assert inpaint.main([f"--prior={exported}", f"--images={src}/*.jpg", f"--output_dir={out}"]) == 0
    written = sorted(os.listdir(out))
    assert len([f for f in written if f.endswith(".png") and "_masked" not in f]) == 2 and "z.npz" in written
    from PIL import Image

    mask_file = tmp_path / "mask.png"
    Image.new("L", (32, 32), 255).save(mask_file)                 # wrong size: an error, never resized
    assert inpaint.main([f"--prior={exported}", f"--images={src}", f"--output_dir={out}",
                         f"--mask={mask_file}"]) == 2
    with pytest.raises(inpaint.MaskError, match="never resized"):
        inpaint.make_mask(str(mask_file), (64, 64), np.random.default_rng(0))
    good = np.zeros((64, 64), np.uint8)
    good[:10, :10] = 200
    Image.fromarray(good).save(mask_file)
    m = inpaint.make_mask(str(mask_file), (64, 64), np.random.default_rng(0))
    assert m.shape == (64, 64, 1) and m.sum() == 100 and set(np.unique(m)) == {0.0, 1.0}


def test_comparison_scores_every_method_on_the_same_faces(faces, prior):
    """evaluation.compare_inpainters (seed 004 Table 3.2 layout): an oracle scores perfectly, a latent search with
    a refiner yields an unrefined and a refined row from one search, the mean-colour baseline comes last."""
    import keras

    from keras_inpaint import evaluation

    inp = keras.Input((64, 64, 3))
    black = keras.Model(inp, keras.layers.Lambda(lambda x: x * 0.0 - 1.0)(inp))   # a "refiner" painting black
    refined = latent_inpainting.LatentInpainter(prior, preset="lsgan", iterations=3, refiner=black)
    plain = latent_inpainting.LatentInpainter(prior, preset="lsgan", iterations=3)

    def latent(images, mask, i):
        r = refined.complete(images, mask, seed=(7, i))
        unrefined = plain.complete(images, mask, seed=(7, i))["images"]
        np.testing.assert_array_equal(r["images_unrefined"].numpy(), unrefined.numpy())   # the same search
        return {"lsgan": r["images_unrefined"], "lsgan + refinement": r["images"]}

    methods = {"oracle": lambda images, mask, i: images, "latent": latent}
    results, grid = evaluation.compare_inpainters(methods, tf.data.Dataset.from_tensor_slices(faces), hole=32,
                                                  batch_size=3, grid_images=3)
    assert list(results) == ["oracle", "lsgan", "lsgan + refinement", "mean colour (baseline)"]
    assert all(r["num_images"] == 4 for r in results.values())
    assert results["oracle"]["ssim"] == pytest.approx(1.0) and results["oracle"]["hole_l2"] == 0.0
    assert results["lsgan + refinement"]["hole_l2"] != results["lsgan"]["hole_l2"]
    assert results["mean colour (baseline)"]["hole_psnr"] < 30.0
    assert grid.shape == (3 * 64, 6 * 64, 3) and grid.dtype == np.uint8   # masked | 4 rows | original
    table = evaluation.format_comparison(results, "t")
    assert "| oracle | 1.0000 |" in table and "hole PSNR (dB)" in table


def test_comparison_cli_on_trained_runs(quick_run, tmp_path):
    """`python -m keras_inpaint.cli.compare` loads lsgan, dcgan_inpaint and refinement_ae run directories (the
    shared quick runs of conftest's `quick_run`: two training steps each on real faces) and writes the table as
    JSON and the grid as PNG."""
    from PIL import Image

    runs = {model: quick_run(model)["run_dir"] for model in ("lsgan", "dcgan_inpaint", "refinement_ae")}
    out, grid = tmp_path / "table.json", tmp_path / "grid.png"
    assert compare.main([f"--runs={runs['lsgan']},{runs['dcgan_inpaint']}", "--iterations=3",
                         f"--refinement_run={runs['refinement_ae']}", f"--output={out}", f"--grid={grid}"]) == 0
    import json

    results = json.loads(out.read_text())
    assert list(results) == ["lsgan + z-search (3 it.)", "lsgan + z-search (3 it.) + refinement", "dcgan_inpaint",
                             "mean colour (baseline)"]
    assert all(r["num_images"] == 2 for r in results.values())
    assert np.asarray(Image.open(grid)).shape == (2 * 64, 6 * 64, 3)
    with pytest.raises(SystemExit, match="not a face inpainter"):
        compare.main([f"--runs={runs['refinement_ae']}"])
