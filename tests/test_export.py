"""Export (SPEC §4): TF Serving layout, uint8 signature, paste-back inside, plain-TF loading, model card."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import data, exporting, registry
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


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tfds_dir):
    tmp = tmp_path_factory.mktemp("export")
    config = run.RunConfig(model="context_encoder", dataset="cifar10", data_dir=tfds_dir,
                           output_dir=str(tmp / "run"), steps=20, steps_per_epoch=10, batch_size=32,
                           max_examples=256, val_examples=32, export_dir=str(tmp / "saved_models"))
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
    assert card["metrics"]["num_images"] == 10_000
    sig = card["signatures"]["serving_default"]
    assert sig["inputs"] == {"images": "uint8[None, 32, 32, 3]"}
    assert sig["outputs"] == {"images": "uint8[None, 32, 32, 3]", "fill": "float32[None, 16, 16, 3]"}


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
    task = registry.get("context_encoder").make_task()
    expected = task.serve(run.inference_network(model), tf.constant(images))
    np.testing.assert_allclose(out["fill"], expected["fill"].numpy(), atol=1e-5)
    assert np.abs(out["images"].astype(int) - expected["images"].numpy().astype(int)).max() <= 1


def test_export_cli_writes_next_version_and_passes_shared_checker(trained):
    result, _, tmp = trained
    root = str(tmp / "saved_models")
    r = subprocess.run([sys.executable, "export.py", f"--run_dir={result['run_dir']}", f"--export_dir={root}"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert exporting.next_version(os.path.join(root, "context_encoder")) == 3
    checker = os.path.join(ROOT, "..", "shared", "tools", "check_export.py")
    if not os.path.exists(checker):
        pytest.skip("shared/tools/check_export.py not present")
    c = subprocess.run([sys.executable, checker, os.path.join(root, "context_encoder", "2")],
                       capture_output=True, text=True)
    assert c.returncode == 0, c.stdout[-2000:] + c.stderr[-2000:]
    assert "OK" in c.stdout


def test_export_cli_errors_clearly_on_a_wrong_run_dir(tmp_path):
    r = subprocess.run([sys.executable, "export.py", f"--run_dir={tmp_path}"], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode != 0 and "config.json not found" in r.stderr and "Traceback" not in r.stderr
