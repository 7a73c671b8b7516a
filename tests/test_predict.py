"""`predict.py` / `keras_inpaint.prediction` on real photos of other sizes than the models' (issue 13).

The shipped exports (saved_models/: context_encoder, dcgan_inpaint, sr_autoencoder) are used as a user would
use them; models that are not shipped are exported untrained here (their weights do not matter for what is
tested: sizes, masks, paste-back, tiles, errors).
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import shipped_models
from keras_inpaint import exporting, prediction, registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(ROOT, "saved_models")


def shipped(model_id):
    """The newest shipped version of `model_id` (saved_models/SHA256SUMS lists it; fails if none is)."""
    versions = [name for name in shipped_models() if name.split("/")[0] == model_id]
    assert versions, f"{model_id} is not shipped (saved_models/SHA256SUMS)"
    return os.path.join(SHIPPED, max(versions, key=lambda n: int(n.split("/")[1])))


@pytest.fixture(scope="module")
def untrained_export(tmp_path_factory):
    made = {}

    def make(model_id):
        if model_id not in made:
            spec = registry.get(model_id)
            path = str(tmp_path_factory.mktemp(model_id) / "1")
            exporting.export_network(spec, spec.build_network(), path, {"id": model_id}, task=spec.task())
            made[model_id] = path
        return made[model_id]
    return make


@pytest.fixture
def photo(benchmarks_dir):
    """A real 150x110 RGB photo (a crop of Set14's first image): another size than any model's."""
    first = sorted(os.listdir(os.path.join(benchmarks_dir, "Set14")))[0]
    img = np.asarray(Image.open(os.path.join(benchmarks_dir, "Set14", first)).convert("RGB"))
    return np.ascontiguousarray(img[20:130, 30:180])


def box_mask(shape, y0, x0, h, w):
    m = np.zeros(shape[:2], np.float32)
    m[y0:y0 + h, x0:x0 + w] = 1.0
    return m


@pytest.mark.parametrize("model_id", ["context_encoder", "dcgan_inpaint"])
def test_fixed_size_inpainters_fill_a_hole_in_a_photo_of_any_size(model_id, photo):
    p = prediction.Predictor(shipped(model_id))
    assert p.info.kind == "inpaint" and p.info.size is not None
    for mask in (box_mask(photo.shape, 40, 60, 20, 30),          # one hole
                 box_mask(photo.shape, 0, 0, 12, 150),           # along the border, wider than a crop
                 np.maximum(box_mask(photo.shape, 5, 5, 10, 10), box_mask(photo.shape, 90, 120, 15, 20))):
        out = p.predict(photo, mask)
        assert out.shape == photo.shape and out.dtype == np.uint8
        known = mask == 0
        np.testing.assert_array_equal(out[known], photo[known])   # known pixels bit-identical
        assert (out[~known] != photo[~known]).any()                # and the hole was filled


def test_any_size_inpainter_runs_whole_or_through_crops_around_its_holes(photo, untrained_export):
    """Up to `crop_trigger` the photo runs whole; above it, through a crop of the hole's box plus `crop_margin`
    (tests/test_photo_inpainting.py checks the crop strategy's paste-back in detail)."""
    path = untrained_export("free_form_inpaint")
    mask = box_mask(photo.shape, 30, 40, 40, 70)
    whole = prediction.Predictor(path).predict(photo, mask)          # 150x110 <= 800: one pass
    cropping = prediction.Predictor(path, crop_trigger=64, crop_margin=24)
    assert [box for box, _ in cropping.hole_groups(mask)[1]] == [(6, 16, 94, 134)]   # hole box + 24, clipped
    calls = []                                   # progress (app.py's bar): before the first crop, after each
    cropped = cropping.predict(photo, mask, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 1), (1, 1)]
    np.testing.assert_array_equal(cropped, cropping.predict(photo, mask))   # progress changes nothing
    for out in (whole, cropped):
        assert out.shape == photo.shape
        np.testing.assert_array_equal(out[mask == 0], photo[mask == 0])
    assert np.mean(np.abs(whole.astype(int) - cropped.astype(int))[mask > 0]) < 8.0


def test_super_resolution_tiles_agree_with_one_pass_away_from_borders(photo):
    path = shipped("sr_autoencoder")
    lr = photo[:64, :96]
    whole = prediction.Predictor(path, tile=1024).predict(lr)
    tiled = prediction.Predictor(path, tile=32, overlap=32).predict(lr)
    assert whole.shape == tiled.shape == (192, 288, 3)
    inner = (slice(12, -12), slice(12, -12))
    diff = np.abs(whole[inner].astype(int) - tiled[inner].astype(int))
    assert diff.max() <= 2, diff.max()


def test_fixed_size_restorer_resizes_and_says_so(photo, untrained_export):
    p = prediction.Predictor(untrained_export("denoising_ae_mnist"))
    assert p.info.kind == "restore" and p.info.size == (28, 28) and p.info.channels == 1
    out = p.predict(photo)
    assert out.shape == photo.shape and out.dtype == np.uint8
    mask = box_mask(photo.shape, 10, 10, 30, 30)
    out = p.predict(photo, mask)                       # with_mask: only the masked pixels are replaced
    np.testing.assert_array_equal(out[mask == 0], photo[mask == 0])


def test_masks_from_files_alpha_and_generators_and_their_errors(photo, tmp_path):
    h, w = photo.shape[:2]
    grey = np.zeros((h, w), np.uint8)
    grey[10:30, 20:60] = 200
    Image.fromarray(grey).save(tmp_path / "mask.png")
    m = prediction.parse_mask(str(tmp_path / "mask.png"), "p.png", photo, None, (0, 0))
    np.testing.assert_array_equal(m, (grey >= 128).astype(np.float32))
    alpha = np.full((h, w), 255, np.uint8)
    alpha[50:70, 50:90] = 0
    Image.fromarray(np.dstack([photo, alpha])).save(tmp_path / "rgba.png")
    image, read_alpha = prediction.read_image(str(tmp_path / "rgba.png"))
    np.testing.assert_array_equal(image, photo)
    np.testing.assert_array_equal(prediction.parse_mask("alpha", "rgba.png", image, read_alpha, (0, 0)),
                                  (alpha < 128).astype(np.float32))
    for kind in ("free_form:thin", "free_form:thick", "brush", "centre", "box:5,6,20,10"):
        a = prediction.parse_mask(kind, "p.png", photo, None, (1, 2))
        assert a.shape == (h, w) and 0 < a.mean() < 1
        np.testing.assert_array_equal(a, prediction.parse_mask(kind, "p.png", photo, None, (1, 2)))
    Image.fromarray(np.zeros((h, w), np.uint8)).save(tmp_path / "empty.png")
    Image.fromarray(np.full((h, w), 255, np.uint8)).save(tmp_path / "full.png")
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small.png")
    for spec, message in ((str(tmp_path / "empty.png"), "no hole pixel"), (str(tmp_path / "full.png"), "whole image"),
                          (str(tmp_path / "small.png"), "must have the image's size"),
                          ("alpha", "no alpha channel"), ("box:140,100,50,50", "does not fit"),
                          ("box:1,2", "box:x,y,w,h")):
        with pytest.raises(prediction.PredictError, match=message):
            prediction.parse_mask(spec, "p.png", photo, None, (0, 0))


def test_cli_writes_every_good_file_one_error_line_per_bad_one_and_never_overwrites(photo, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.fromarray(photo).save(inputs / "a.png")
    Image.fromarray(photo[:80, :100]).save(inputs / "b.jpg")
    (inputs / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    cmd = [sys.executable, os.path.join(ROOT, "predict.py"), f"--saved_model={shipped('dcgan_inpaint')}",
           f"--input={inputs}", f"--output_dir={out}", "--mask=free_form:medium", "--side_by_side"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.png" in errors[0] and "not a readable image" in errors[0]
    assert sorted(os.listdir(out)) == ["a.png", "a_compare.png", "b.png", "b_compare.png"]
    assert np.asarray(Image.open(out / "b.png")).shape == (80, 100, 3)
    assert "Wrote 2 of 3" in r.stdout
    r = subprocess.run(cmd[:3] + [f"--input={inputs / 'a.png'}"] + cmd[4:], capture_output=True, text=True,
                       cwd=ROOT, timeout=600)
    assert r.returncode == 1 and "exists (pass --overwrite" in r.stderr
    r = subprocess.run(cmd[:3] + [f"--input={inputs / 'a.png'}"] + cmd[4:] + ["--overwrite"], capture_output=True,
                       text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr


def test_a_masked_restorer_runs_only_the_tiles_with_hole_pixels(photo, untrained_export, monkeypatch):
    """prediction.py: with a mask, a tiled restorer (ffdnet) copies the tiles without a hole pixel instead of
    running the network on them, and every known pixel comes back unchanged."""
    p = prediction.Predictor(untrained_export("ffdnet"), tile=32, overlap=16)
    calls = []
    run_once = p._run
    monkeypatch.setattr(p, "_run", lambda *args, **kwargs: calls.append(args[0].shape) or run_once(*args, **kwargs))
    mask = box_mask(photo.shape, 40, 40, 10, 10)            # inside the tile at (32, 32) of a 110x150 photo
    out = p.predict(photo, mask, noise_level=10.0)
    assert len(calls) == 1, calls                            # one of the 4 x 5 tiles holds the hole
    np.testing.assert_array_equal(out[mask == 0], photo[mask == 0])
    calls.clear()
    p.predict(photo, None, noise_level=10.0)
    assert len(calls) == 20                                  # without a mask every tile runs
