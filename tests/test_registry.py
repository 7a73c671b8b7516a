"""Every registered model, under every precision policy (issues 11 and 12).

For each id of the registry: the network builds with the parameter counts of spec/models.md; under float32,
mixed_bfloat16 and mixed_float16 one training step runs on a tiny batch (losses finite, variables float32,
outputs float32), the task's restore/evaluation runs, and the export's signatures have SPEC §4 dtypes when
loaded in a process that cannot import keras_inpaint. A new registry entry gets this coverage automatically.
"""
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import exporting, precision, registry
from keras_inpaint.training import run

# Fewer z-search iterations than the presets so that the latent inpainters' evaluation and export are quick.
FAST_TASK_OPTIONS = {"lsgan": {"eval_iterations": 2, "iterations": 2}, "dcgan": {"eval_iterations": 2, "iterations": 2}}

# Loads every export given on the command line and calls each signature on zeros of its declared spec.
SIGNATURE_PROBE = r"""
import json, sys
import numpy as np, tensorflow as tf
report = {}
for path in sys.argv[1:]:
    m = tf.saved_model.load(path)
    sigs = {}
    for name, fn in m.signatures.items():
        args = {}
        for k, spec in fn.structured_input_signature[1].items():
            shape = [2] + [8 if d is None else d for d in spec.shape[1:]]   # any-size nets: multiples of 4
            if k == "mask":
                a = np.zeros(shape, np.float32); a[:, shape[1] // 4: shape[1] // 2, shape[2] // 4: shape[2] // 2] = 1
            else:
                a = np.full(shape, 128, spec.dtype.as_numpy_dtype)
            args[k] = tf.constant(a)
        out = fn(**args)
        sigs[name] = {"inputs": {k: s.dtype.name for k, s in fn.structured_input_signature[1].items()},
                      "outputs": {k: v.dtype.name for k, v in out.items()},
                      "finite": bool(all(np.isfinite(v.numpy().astype(np.float64)).all() for v in out.values()))}
    report[path] = {"signatures": sigs, "variables": sum(int(np.prod(v.shape)) for v in m.variables)}
print("REPORT" + json.dumps(report))
"""


@pytest.mark.parametrize("model_id", sorted(registry.REGISTRY))
def test_network_parameter_counts(model_id):
    spec = registry.get(model_id)
    config = run.RunConfig(model=model_id, precision="float32").resolved()
    model = run.build_training_model(spec, config)
    generator = getattr(model, "generator", model)
    assert generator.count_params() == spec.params
    if spec.discriminator_params is not None:
        assert model.discriminator.count_params() == spec.discriminator_params


def _policies(model_id: str) -> tuple[str, ...]:
    """Every policy, except mixed_float16 for restoration_gan on a machine without a GPU: CPUs have no float16
    convolution kernels for its 128x128 generator's gradients, and its first mixed_float16 step did not finish
    within 15 minutes on the 2-core CPU (float32: 38 s, mixed_bfloat16: 40 s, mostly tracing). The same
    adversarial trainer with loss scaling is covered under mixed_float16 by the other GANs here
    (context_encoder_gan, dcgan_inpaint, free_form_inpaint, lsgan, dcgan)."""
    if model_id == "restoration_gan" and not tf.config.list_physical_devices("GPU"):
        return tuple(p for p in precision.POLICIES if p != "mixed_float16")
    return precision.POLICIES


@pytest.mark.parametrize("model_id", sorted(registry.REGISTRY))
def test_train_step_evaluate_and_export_under_each_precision(model_id, tmp_path, plain_tf):
    spec = registry.get(model_id)
    rng = np.random.default_rng(0)
    images = tf.constant(rng.integers(0, 256, (2, *spec.image_shape), dtype=np.uint8))
    exports = []
    for policy in _policies(model_id):
        config = run.RunConfig(model=model_id, precision=policy,
                               task_options=FAST_TASK_OPTIONS.get(model_id)).resolved()
        task = config.task()
        with precision.policy_scope(policy):
            model = run.build_training_model(spec, config)
            x, y = task.make_pair(images, seed=tf.constant([1, 2], tf.int64))
            logs = model.train_on_batch(x, y, return_dict=True)
            assert logs and all(np.isfinite(float(v)) for v in logs.values()), (policy, logs)
            assert all(v.dtype == "float32" for v in model.trainable_variables), policy
            network = run.inference_network(model)
            outputs = network(x[:1] if not isinstance(x, dict) else x, training=False)
            for out in tf.nest.flatten(outputs):
                assert out.dtype == tf.float32, (policy, out.dtype)        # float32 before paste-back
            scores = task.evaluate_batch(network, images)
            assert all(np.isfinite(v.numpy()).all() for v in scores.values()), (policy, scores)
            path = str(tmp_path / policy)
            exporting.export_network(spec, network, path, {"id": model_id, "precision": policy}, task=task)
            exported_params = network.count_params()
        card = json.load(open(os.path.join(path, "assets", "model_card.json")))
        assert card["precision"] == policy
        exports.append(path)
    assert precision.current() == keras.config.dtype_policy().name == "float32"   # the scope restored it

    r = plain_tf(SIGNATURE_PROBE, *exports)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout.split("REPORT", 1)[1])
    float32_signatures = None
    for path, entry in report.items():
        sigs = entry["signatures"]
        assert entry["variables"] == exported_params, path      # `.variables` lists every weight, once
        assert "serving_default" in sigs, path
        network_sig = sigs.pop(exporting.NETWORK_SIGNATURE)     # the bare float network (evaluate.py)
        assert network_sig["inputs"] == {"inputs": "float32"} and network_sig["finite"], (path, network_sig)
        assert set(network_sig["outputs"].values()) == {"float32"}, (path, network_sig)
        for name, s in sigs.items():
            assert s["inputs"]["images"] == "uint8" and s["inputs"].get("mask", "float32") == "float32", (path, s)
            assert s["outputs"]["images"] == "uint8", (path, name, s)
            # extras: float32 (fill, z, ...) or uint8 images (sr_autoencoder's bicubic), never a compute dtype
            assert all(v in ("float32", "uint8") for v in s["outputs"].values()), (path, name, s)
            assert s["finite"], (path, name)
        float32_signatures = float32_signatures or sigs
        assert sigs == float32_signatures      # the same signatures whatever the training precision


@pytest.mark.parametrize("model_id", sorted(registry.REGISTRY))
def test_quick_run_of_every_model_trains_evaluates_and_exports(model_id, tmp_path, tfds_dir, small_face_folder):
    """`train.py --model=ID --steps=N --max_examples=M` end to end for every registered id (issue 15), on real
    data: the shared CIFAR-10 / MNIST (Fashion-MNIST has no offline copy: MNIST, the same 28x28x1 shape) or,
    for the `celeb_a` models, a folder of real aligned CelebA faces. A twelfth model gets this coverage by being registered."""
    spec = registry.get(model_id)
    if spec.default_dataset == "celeb_a":       # no offline CelebA in tfds form: real aligned CelebA faces
        dataset = f"folder:{small_face_folder(6, 2)}"
    else:
        dataset = "mnist" if spec.default_dataset == "fashion_mnist" else spec.default_dataset
    config = run.RunConfig(model=model_id, dataset=dataset, data_dir=tfds_dir, steps=2, steps_per_epoch=2,
                           batch_size=2, max_examples=6, val_examples=2, test_examples=4,
                           output_dir=str(tmp_path / "run"),
                           export_dir=str(tmp_path / "export"), benchmarks=[],
                           task_options=FAST_TASK_OPTIONS.get(model_id))
    result = run.train(config, verbose=0)
    metrics = result["metrics"]
    assert metrics["steps"] == 2 and metrics["num_images"] == (2 if dataset.startswith("folder:") else 4)
    assert all(np.isfinite(v) for k, v in metrics.items() if isinstance(v, float)), metrics
    card = exporting.load_model_card(result["export_path"])
    assert card["id"] == model_id and card["steps"] == 2
    with open(os.path.join(result["run_dir"], "config.json")) as f:
        recorded = json.load(f)["config"]
    assert recorded["model"] == model_id and recorded["test_examples"] == 4
