"""Every shipped model, re-scored and run as a user runs it (issue 36).

The list of shipped models is `saved_models/SHA256SUMS` (`shipped_models()`): a model listed there whose folder
is missing or renamed fails; an export that is not listed (a local, untracked one) is ignored. For each:

* `evaluate.py`'s code (`evaluation.evaluate_saved_model`) scores a fixed small subset of its test data
  (`SUBSETS`) and must reproduce the numbers recorded for that subset in `tests/golden/<id>_<version>.json`
  (PSNR to 0.01 dB, the other metrics to 1e-4) and beat its baseline on every reported metric. The golden
  numbers are what the shipped weights scored when they were recorded; a changed export, metric, corruption or
  data pipeline moves them. Re-record (only after checking why they moved) with
  the command in `RECORD_COMMAND`.
* `predict.py` runs it from the command line on a real photo of another size than its own; the written files
  are checked (`test_predict_cli_*`).
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import BENCHMARKS_DIR, FACES_DIR, ROOT, TFDS_DIR, shipped_models

SAVED = os.path.join(ROOT, "saved_models")

# predict.py as its command line runs it (`runpy`, as `__main__`, with its own argv), in a process where the
# registry, the model builders, the tasks and everything above prediction's floor cannot be imported (issue
# 35): a shipped model runs from its export (signatures and model card) alone, or the import fails the run.
BLOCKED = ("keras_inpaint.registry", "keras_inpaint.models", "keras_inpaint.tasks", "keras_inpaint.exporting",
           "keras_inpaint.training", "keras_inpaint.evaluation", "keras_inpaint.latent_inpainting")
PREDICT_WITHOUT_REGISTRY = f"""
import importlib.abc, runpy, sys
BLOCKED = {BLOCKED!r}
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{{name}} is blocked: predict.py must run an export without it")
sys.meta_path.insert(0, _Block())
sys.argv = sys.argv[1:]
sys.path.insert(0, ".")
runpy.run_path(sys.argv[0], run_name="__main__")
"""
GOLDEN = os.path.join(ROOT, "tests", "golden")
RECORD = os.environ.get("KERAS_INPAINT_RECORD_GOLDEN") == "1"
SHORT_SEARCH = {"eval_iterations": 20}     # z-search priors: 20 Adam steps per face (the export's own 1,500 / 500
                                           # run once, on one face, in test_predict_cli_runs_the_shipped_model_...)

# model id -> evaluate_saved_model keyword arguments: a fixed, CI-affordable subset of its test data
SUBSETS = {
    "context_encoder": dict(max_examples=64),
    "context_encoder_gan": dict(max_examples=64),
    "dcgan_inpaint": dict(max_examples=16),
    "free_form_inpaint": dict(max_examples=16),
    "dcgan": dict(max_examples=4, task_options=SHORT_SEARCH),
    "lsgan": dict(max_examples=4, task_options=SHORT_SEARCH),
    "refinement_ae": dict(max_examples=4, prior="lsgan/1"),
    "sr_autoencoder": dict(max_examples=4, benchmarks=["Set5"]),
    "denoising_ae_mnist": dict(max_examples=64),
    "denoising_ae_fashion": dict(max_examples=64),
    "ffdnet": dict(max_examples=2),
    "imdn_x2": dict(max_examples=4, benchmarks=["Set5"]),
    "imdn_x3": dict(max_examples=4, benchmarks=["Set5"]),
    "imdn_x4": dict(max_examples=4, benchmarks=["Set5"]),
    "lama_ffc": dict(max_examples=2),
    "ffdnet_inpaint": dict(max_examples=2),
}
META = {"dataset", "split", "saved_model", "steps", "precision", "prior", "benchmarks", "num_images"}


def _flat(results: dict, prefix: str = "") -> dict:
    """The numeric leaves of `evaluate_saved_model`'s results, with `benchmarks/<folder>/` prefixes."""
    out = {}
    for key, value in results.items():
        if key == "benchmarks" and isinstance(value, dict):
            for folder, scores in value.items():
                out.update(_flat(scores, f"{prefix}benchmarks/{os.path.basename(folder.rstrip('/'))}/"))
        elif isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}/"))
        elif key not in META and isinstance(value, (int, float)) and not isinstance(value, bool):
            out[prefix + key] = float(value)
    out[prefix + "num_images"] = results.get("num_images")
    return out


RECORD_COMMAND = "KERAS_INPAINT_RECORD_GOLDEN=1 python -m pytest tests/test_shipped_models.py -k golden"


def _score(name: str) -> tuple[dict, dict]:
    """(evaluate_saved_model's results on the model's `SUBSETS` entry, its model card)."""
    from keras_inpaint import artifact, evaluation

    card = artifact.load_model_card(os.path.join(SAVED, name))
    assert card["id"] in SUBSETS, f"{name}: add its test subset to SUBSETS in {__file__}"
    kwargs = dict(SUBSETS[card["id"]])
    if "prior" in kwargs:
        kwargs["prior"] = os.path.join(SAVED, kwargs["prior"])
    if "benchmarks" in kwargs:
        kwargs["benchmarks"] = [os.path.join(BENCHMARKS_DIR, b) for b in kwargs["benchmarks"]]
    results = evaluation.evaluate_saved_model(os.path.join(SAVED, name), data_dir=TFDS_DIR, verbose=False, **kwargs)
    return results, card


@pytest.mark.parametrize("name", shipped_models())
def test_shipped_model_reproduces_its_golden_scores_and_beats_its_baseline(name):
    from keras_inpaint import exporting, metrics

    results, card = _score(name)
    got = _flat(results)
    path = os.path.join(GOLDEN, name.replace("/", "_") + ".json")
    if RECORD:
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as f:
            json.dump({"subset": SUBSETS[card["id"]], "scores": got}, f, indent=1, sort_keys=True)
    assert os.path.exists(path), f"no golden scores for {name}: record them with {RECORD_COMMAND}"
    want = json.load(open(path))["scores"]
    assert sorted(got) == sorted(want), set(got) ^ set(want)
    for key, value in want.items():
        tolerance = 0.01 if "psnr" in key.rsplit("/", 1)[-1] else 1e-4
        assert got[key] == pytest.approx(value, abs=tolerance), (name, key, got[key], value)
    task = exporting.card_task(card)
    assert metrics.beats_baseline(results, task), (name, {k: (results.get(k), results.get(f"baseline_{k}"))
                                                          for k, _ in task.report})


# --- predict.py on a real photo of another size --------------------------------------------------------------

def _photo_for(model_id: str) -> np.ndarray:
    """A real photo of another size than the model's: a raw 178x218 CelebA test face for the face models, a
    150x110 crop of Set14's first photo for the others."""
    from keras_inpaint import data

    if model_id in ("dcgan_inpaint", "free_form_inpaint", "dcgan", "lsgan", "refinement_ae"):
        folder = os.path.join(FACES_DIR, "celeba_img_align")
        name = sorted(f for f in os.listdir(folder) if data.folder_split(f) == "test")[0]
        return np.asarray(Image.open(os.path.join(folder, name)).convert("RGB"))
    first = sorted(os.listdir(os.path.join(BENCHMARKS_DIR, "Set14")))[0]
    img = np.asarray(Image.open(os.path.join(BENCHMARKS_DIR, "Set14", first)).convert("RGB"))
    return np.ascontiguousarray(img[20:130, 30:180])


def _box(shape, x, y, w, h) -> np.ndarray:
    m = np.zeros(shape[:2], np.float32)
    m[y:y + h, x:x + w] = 1.0
    return m


def _hole_psnr(out: np.ndarray, photo: np.ndarray, hole: np.ndarray) -> float:
    return 10 * np.log10(255.0 ** 2 / np.mean((out[hole].astype(float) - photo[hole].astype(float)) ** 2))


@pytest.mark.parametrize("name", shipped_models())
def test_predict_cli_runs_the_shipped_model_on_a_photo_of_another_size(name, tmp_path):
    """predict.py from the command line, as a user runs it, with the registry and every model module blocked
    (`PREDICT_WITHOUT_REGISTRY`): the output has the photo's size (x scale), is what
    the export itself computes (any-size models: its `serving_default` on the whole photo; fixed-size ones:
    the library's `Predictor`, whose crop strategy tests/test_predict.py checks), keeps every known pixel of an
    inpainted photo, and `--save_masked` / `--side_by_side` write the masked input and [masked | output]. The
    z-search priors run the export's full 1,500-step search here, once, on one face (their golden scores use a
    20-step search)."""
    import tensorflow as tf

    from keras_inpaint import prediction

    path = os.path.join(SAVED, name)
    predictor = prediction.Predictor(path)
    info = predictor.info
    photo = _photo_for(info.id)
    h, w = photo.shape[:2]
    mask, level, args = None, None, []
    if info.kind == "inpaint":
        x, y, bw, bh = w // 3, h // 3, w // 4, h // 5
        mask = _box(photo.shape, x, y, bw, bh)
        args = [f"--mask=box:{x},{y},{bw},{bh}", "--save_masked", "--side_by_side"]
    elif info.kind == "denoise":
        noise = np.random.default_rng(0).normal(0.0, 25.0, photo.shape)
        photo = np.clip(np.round(photo + noise), 0, 255).astype(np.uint8)
        level, args = 25.0, ["--noise_level=25"]
    Image.fromarray(photo).save(tmp_path / "photo.png")
    r = subprocess.run([sys.executable, "-c", PREDICT_WITHOUT_REGISTRY, os.path.join(ROOT, "predict.py"),
                        f"--saved_model={path}", f"--input={tmp_path / 'photo.png'}",
                        f"--output_dir={tmp_path / 'out'}", *args], capture_output=True, text=True, cwd=ROOT,
                       timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    out = np.asarray(Image.open(tmp_path / "out" / "photo.png"))
    s = info.scale
    assert out.shape == (h * s, w * s, 3) and out.dtype == np.uint8
    latent = "z" in predictor.card["signatures"]["serving_default"]["outputs"]     # a z-search inpainter
    if info.size is None:          # the export's own output on the whole photo
        feed = {"images": tf.constant(photo[None])}
        if info.kind == "denoise":
            feed["noise_level"] = tf.constant([level], tf.float32)
        if mask is not None:
            feed["mask"] = tf.constant(mask[None, :, :, None])
        own = tf.saved_model.load(path).signatures["serving_default"](**feed)["images"].numpy()[0]
        np.testing.assert_array_equal(out, own if mask is None else np.where(mask[..., None] > 0, own, photo))
    elif not latent:               # (a second 1,500-step search would double the test's cost)
        np.testing.assert_array_equal(out, predictor.predict(photo, mask, noise_level=level))
    if mask is not None:
        hole = mask > 0
        np.testing.assert_array_equal(out[~hole], photo[~hole])            # known pixels bit-identical
        if latent:                 # a face prior's full search on a face fills it better than its mean colour
            mean_fill = np.where(hole[..., None], photo[~hole].mean(axis=0).round(), photo).astype(np.uint8)
            assert _hole_psnr(out, photo, hole) > _hole_psnr(mean_fill, photo, hole), name
        masked = np.asarray(Image.open(tmp_path / "out" / "photo_masked.png"))
        np.testing.assert_array_equal(masked, np.where(hole[..., None], 255, photo))
        compare = np.asarray(Image.open(tmp_path / "out" / "photo_compare.png"))
        np.testing.assert_array_equal(compare, np.concatenate([masked, out], axis=1))
    else:
        assert not (tmp_path / "out" / "photo_masked.png").exists()
