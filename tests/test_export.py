"""Export (SPEC §4): TF Serving layout, uint8 signature, paste-back inside, plain-TF loading, model card."""
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import artifact, data, evaluation, exporting, registry
from keras_inpaint.training import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Run by the `plain_tf` fixture: a fresh interpreter where keras_inpaint cannot be imported (an outside user).
PLAIN_TF_PROBE = r"""
import sys
import numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
out = m.signatures["serving_default"](images=tf.constant(x))
np.savez(sys.argv[3], **{k: v.numpy() for k, v in out.items()})
"""


# The first N test images (`--test_examples` / evaluate.py `--max_examples`): the same images on both sides.
# The whole-split default is covered by test_training / test_denoising.
TEST_EXAMPLES = 512


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tfds_dir):
    tmp = tmp_path_factory.mktemp("export")
    config = run.RunConfig.of(model="context_encoder", dataset="cifar10", data_dir=tfds_dir,
                              output_dir=str(tmp / "run"), steps=20, steps_per_epoch=10, batch_size=32,
                              max_examples=256, val_examples=32, test_examples=TEST_EXAMPLES,
                              export_dir=str(tmp / "saved_models"))
    result = run.train(config, verbose=0)
    images = next(iter(data.load_images("cifar10", "test", (32, 32), 3, data_dir=tfds_dir,
                                        max_examples=8).batch(8))).numpy()
    return result, images, tmp


def test_export_layout_and_model_card(trained):
    result, _, tmp = trained
    path = result["export_path"]
    assert path == os.path.join(str(tmp / "saved_models"), "context_encoder", "1")
    assert os.path.exists(os.path.join(path, "saved_model.pb"))
    # every weight stored once: float32 parameters (+ small overhead), not twice
    var_dir = os.path.join(path, "variables")
    var_bytes = sum(os.path.getsize(os.path.join(var_dir, f)) for f in os.listdir(var_dir))
    assert 4 * 4_365_635 <= var_bytes < 1.2 * 4 * 4_365_635
    card = json.load(open(os.path.join(path, "assets", "model_card.json")))
    assert card["id"] == "context_encoder" and card["dataset"] == "cifar10" and card["steps"] == 20
    assert card["parameters"] == 4_365_635 and card["value_range"] == [0.0, 1.0]
    assert card["metrics"]["num_images"] == TEST_EXAMPLES   # --test_examples bounds it
    sig = card["signatures"]["serving_default"]
    assert sig["inputs"] == {"images": "uint8[None, 32, 32, 3]"}
    assert sig["outputs"] == {"images": "uint8[None, 32, 32, 3]", "fill": "float32[None, 16, 16, 3]"}
    # the serving fields (issue 35, keras_inpaint/artifact.py): what prediction reads instead of the registry
    assert artifact.serving_fields(card) == {
        "family": "inpainting", "value_range": [0.0, 1.0], "takes_mask": False, "input_size": [32, 32], "scale": 1,
        "multiple": 1, "hole": {"shape": "centre_square", "side": 16, "fixed": True},
        "report": [list(r) for r in registry.get("context_encoder").task().report],
        "baseline_name": "mean colour of the known pixels"}
    assert "; test PSNR whole image after paste-back (dB) " in artifact.card_summary(card)
    assert "(mean colour of the known pixels: " in artifact.card_summary(card)


def test_an_old_card_is_refused_by_prediction_and_refreshed_by_export_py(tmp_path):
    """A card written before the serving fields (issue 35) still loads, but `Predictor` refuses it with one line
    naming `export.py --refresh_card`; that command rewrites only the card, to exactly what the shipped cards
    hold (they were refreshed so), and refuses a card whose recorded signatures its task no longer serves."""
    from keras_inpaint import prediction

    shipped = os.path.join(ROOT, "saved_models", "denoising_ae_mnist", "1")
    path = str(tmp_path / "denoising_ae_mnist" / "1")
    shutil.copytree(shipped, path)
    card_file = os.path.join(path, "assets", "model_card.json")
    card = json.load(open(card_file))
    old = {k: v for k, v in card.items() if k not in artifact.SERVING_FIELDS or k == "value_range"}
    json.dump(old, open(card_file, "w"), indent=2)
    assert artifact.load_model_card(path) == old                       # old cards load
    assert "scores not described" in artifact.card_summary(old)
    with pytest.raises(ValueError, match=r"no family, takes_mask, .* \(written before issue 35\); add them with "
                                         r"python export.py --refresh_card --saved_model="):
        prediction.Predictor(path)
    def savedmodel_files():
        return {os.path.relpath(os.path.join(d, f), path): open(os.path.join(d, f), "rb").read()
                for d, _, fs in os.walk(path) for f in fs if f != "model_card.json"}
    before = savedmodel_files()
    r = subprocess.run([sys.executable, os.path.join(ROOT, "export.py"), "--refresh_card", f"--saved_model={path}"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert open(card_file, "rb").read() == open(os.path.join(shipped, "assets", "model_card.json"), "rb").read()
    assert savedmodel_files() == before                                 # the SavedModel is untouched
    assert prediction.Predictor(path).info.kind == "restore"
    old["signatures"]["serving_default"]["inputs"]["images"] = "uint8[None, 32, 32, 1]"
    json.dump(old, open(card_file, "w"), indent=2)
    with pytest.raises(ValueError, match="re-export its run instead"):
        exporting.refresh_card(path)


def test_plain_tensorflow_load_matches_in_memory_model(trained, tmp_path, plain_tf):
    result, images, _ = trained
    np.save(tmp_path / "x.npy", images)
    r = plain_tf(PLAIN_TF_PROBE, result["export_path"], tmp_path / "x.npy", tmp_path / "out.npz")
    assert r.returncode == 0, r.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    assert out["images"].dtype == np.uint8 and out["images"].shape == (8, 32, 32, 3)
    assert out["fill"].dtype == np.float32 and out["fill"].shape == (8, 16, 16, 3)
    assert out["fill"].min() >= 0.0 and out["fill"].max() <= 1.0
    # known pixels are returned untouched; the hole holds the fill
    known = np.ones((32, 32), bool)
    known[8:24, 8:24] = False
    np.testing.assert_array_equal(out["images"][:, known], images[:, known])
    np.testing.assert_array_equal(out["images"][:, 8:24, 8:24],
                                  np.round(out["fill"] * 255).astype(np.uint8))
    # ... and equal the in-memory model's output
    model = run.load_trained_model(run.RunConfig.load(result["run_dir"]).resolved())
    task = registry.get("context_encoder").task()
    expected = task.serve(run.inference_network(model), tf.constant(images))
    np.testing.assert_allclose(out["fill"], expected["fill"].numpy(), atol=1e-5)
    assert np.abs(out["images"].astype(int) - expected["images"].numpy().astype(int)).max() <= 1


def test_export_cli_writes_next_version_and_passes_shared_checker(trained):
    """Also `--scores`: the card records the given metrics (e.g. `evaluate.py --output`) and judges the baseline
    on them, instead of the run's metrics.json; an unreadable scores file is a clear error."""
    result, _, tmp = trained
    root = str(tmp / "saved_models")
    scores = tmp / "scores.json"
    scores.write_text(json.dumps({"psnr": 10.0, "baseline_psnr": 12.0, "num_images": 3}))
    r = subprocess.run([sys.executable, "export.py", f"--run_dir={result['run_dir']}", f"--export_dir={root}",
                        f"--scores={scores}"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert exporting.next_version(os.path.join(root, "context_encoder")) == 3
    card = artifact.load_model_card(os.path.join(root, "context_encoder", "2"))
    assert card["metrics"]["psnr"] == 10.0 and card["beats_baseline"] is False
    scores.write_text("{not json")
    bad = subprocess.run([sys.executable, "export.py", f"--run_dir={result['run_dir']}", f"--export_dir={root}",
                          f"--scores={scores}"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert f"--scores {scores}: expected a JSON" in bad.stderr
    assert exporting.next_version(os.path.join(root, "context_encoder")) == 3
    checker = os.path.join(ROOT, "..", "shared", "tools", "check_export.py")
    assert os.path.exists(checker), f"{checker} not found (../shared beside the checkout)"
    c = subprocess.run([sys.executable, checker, os.path.join(root, "context_encoder", "2")],
                       capture_output=True, text=True)
    assert c.returncode == 0, c.stdout[-2000:] + c.stderr[-2000:]
    assert "OK" in c.stdout


def test_export_cli_errors_clearly_on_a_wrong_run_dir(tmp_path):
    r = subprocess.run([sys.executable, "export.py", f"--run_dir={tmp_path}"], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode != 0 and "config.json not found" in r.stderr and "Traceback" not in r.stderr


VARIABLES_PROBE = r"""
import sys
import numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
print("COUNT", sum(int(np.prod(v.shape)) for v in m.variables), len(m.trainable_variables),
      len(m.non_trainable_variables))
before = m.signatures["serving_default"](images=tf.zeros([1, 32, 32, 3], tf.uint8))["fill"].numpy()
for v in m.trainable_variables:
    v.assign(tf.zeros_like(v))      # the listed variables are the ones the signature computes with
after = m.signatures["serving_default"](images=tf.zeros([1, 32, 32, 3], tf.uint8))["fill"].numpy()
print("CHANGED", bool(np.abs(before - after).max() > 0), "ZERO", bool(np.abs(after).max() == 0))
"""


def test_export_lists_its_weights_once_and_loads_as_a_tfsm_layer(trained, plain_tf):
    result, images, _ = trained
    r = plain_tf(VARIABLES_PROBE, result["export_path"])
    assert r.returncode == 0, r.stderr[-3000:]
    count = r.stdout.split("COUNT", 1)[1].split()
    assert int(count[0]) == 4_365_635                # spec/models.md count, every variable listed once
    network = registry.get("context_encoder").build_network()
    assert int(count[1]) == len(network.trainable_weights) and int(count[2]) == len(network.non_trainable_weights)
    assert "CHANGED True ZERO True" in r.stdout
    layer = keras.layers.TFSMLayer(result["export_path"], call_endpoint="serving_default")
    out = layer(tf.constant(images))
    assert out["images"].dtype == tf.uint8 and tuple(out["images"].shape) == images.shape
    assert sum(int(np.prod(w.shape)) for w in layer.weights) == 4_365_635


def _assert_same_scores(ours: dict, run_metrics: dict):
    keys = [k for k, v in run_metrics.items() if isinstance(v, float)]
    assert keys
    for k in keys:
        tol = 0.01 if "psnr" in k else 1e-4          # dB for PSNR keys; [0, 1] units otherwise
        assert abs(ours[k] - run_metrics[k]) <= tol, (k, ours[k], run_metrics[k])
    assert ours["num_images"] == run_metrics["num_images"]


def test_evaluate_saved_model_reproduces_the_runs_own_metrics(trained, tfds_dir):
    result, _, _ = trained
    ours = evaluation.evaluate_saved_model(result["export_path"], data_dir=tfds_dir, max_examples=TEST_EXAMPLES,
                                           verbose=False)
    _assert_same_scores(ours, result["metrics"])
    assert ours["dataset"] == "cifar10" and ours["split"] == "test"


def test_evaluate_saved_model_denoiser_noise_levels(tmp_path, tfds_dir):
    config = run.RunConfig.of(model="denoising_ae_mnist", dataset="mnist", data_dir=tfds_dir,
                              output_dir=str(tmp_path / "run"), steps=10, steps_per_epoch=10, batch_size=32,
                              max_examples=256, val_examples=32, test_examples=TEST_EXAMPLES,
                              export_dir=str(tmp_path / "saved_models"))
    result = run.train(config, verbose=0)
    ours = evaluation.evaluate_saved_model(result["export_path"], data_dir=tfds_dir, max_examples=TEST_EXAMPLES,
                                           verbose=False)
    _assert_same_scores(ours, result["metrics"])


def test_evaluate_cli_scores_an_export_and_writes_json(trained, tmp_path, tfds_dir, capsys):
    result, _, _ = trained
    out = tmp_path / "scores.json"
    env = dict(os.environ, TFDS_DATA_DIR=tfds_dir)
    r = subprocess.run([sys.executable, "evaluate.py", f"--saved_model={result['export_path']}",
                        "--dataset=cifar10", "--max_examples=64", f"--output={out}"], cwd=ROOT,
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "PSNR of the hole only" in r.stdout and "mean colour of the known pixels" in r.stdout
    scores = json.load(open(out))
    same = evaluation.evaluate_saved_model(result["export_path"], "cifar10", data_dir=tfds_dir, max_examples=64,
                                           verbose=False)
    assert scores["num_images"] == 64 and abs(scores["psnr"] - same["psnr"]) < 1e-6
    assert "/image" not in r.stdout                     # no progress bar in a log file (stdout is not a terminal)
    capsys.readouterr()
    evaluation.evaluate_saved_model(result["export_path"], "cifar10", data_dir=tfds_dir, max_examples=64,
                                    verbose=False, progress=True)
    bar = capsys.readouterr().out
    assert "64/" in bar and "/image" in bar               # the bar evaluate.py shows on a terminal (issue 15)
    bad = subprocess.run([sys.executable, "evaluate.py", f"--saved_model={tmp_path}"], cwd=ROOT,
                         capture_output=True, text=True, env=env)
    assert bad.returncode != 0 and "not a SavedModel directory" in bad.stderr and "Traceback" not in bad.stderr


def test_an_interrupted_export_leaves_no_version_behind(trained, tmp_path, monkeypatch):
    result, _, _ = trained
    root = tmp_path / "exports"
    archive_class = type(keras.export.ExportArchive())      # the backend's class (ExportArchive.__new__)
    real_write_out = archive_class.write_out

    def write_then_die(self, filepath, *args, **kwargs):
        real_write_out(self, filepath, *args, **kwargs)     # the variables are on disk ...
        raise KeyboardInterrupt                             # ... when Ctrl-C (or a crash) lands

    monkeypatch.setattr(archive_class, "write_out", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        exporting.export_run(result["run_dir"], str(root))
    assert not os.path.exists(root / "context_encoder" / "1")
    assert os.listdir(root / "context_encoder") == []            # no partial folder either
    assert exporting.next_version(str(root / "context_encoder")) == 1
    monkeypatch.undo()
    path = exporting.export_run(result["run_dir"], str(root))     # the next export takes version 1, whole
    assert path.endswith(os.path.join("context_encoder", "1"))
    with pytest.raises(FileExistsError):
        exporting.export_run(result["run_dir"], str(root), version=1)   # never overwritten
