"""Every registered model, under every precision policy (issues 11 and 12).

For each id of the registry: the network builds with the parameter counts of spec/models.md; the quick run
trains, evaluates and exports on real data under the model's default precision; under every policy one training
step runs on a tiny batch (losses finite, variables float32, outputs float32), the task's evaluation runs and the
model exports (three ids in the default run, every id in the `slow` run); every export's signatures have SPEC §4
dtypes (the every-precision exports loaded in a process that cannot import keras_inpaint, the quick runs' in the
test's own process: `tf.saved_model.load` runs no project code either way, and the subprocess costs a TensorFlow
start-up per id). A new registry entry gets this coverage automatically.
"""
import inspect
import json
import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import QUICK_RUN_TASK_OPTIONS

from keras_inpaint import artifact, exporting, precision, registry
from keras_inpaint.training import run

def probe_signatures(paths: list[str]) -> dict:
    """Loads every export of `paths` with `tf.saved_model.load` and calls each signature on constant tensors of
    its declared spec (any-size nets: 8x8; masks: a hole); {path: {"signatures": {name: {"inputs": {name: dtype},
    "outputs": {name: dtype}, "finite": bool}}, "variables": weight count}}. Self-contained (its source is also
    run in a process that cannot import keras_inpaint)."""
    import numpy as np
    import tensorflow as tf
    report = {}
    for path in paths:
        m = tf.saved_model.load(path)
        sigs = {}
        for name, fn in m.signatures.items():
            args = {}
            for k, spec in fn.structured_input_signature[1].items():
                shape = [2] + [8 if d is None else d for d in spec.shape[1:]]   # any-size nets: multiples of 4
                if k == "mask":
                    a = np.zeros(shape, np.float32)
                    a[:, shape[1] // 4: shape[1] // 2, shape[2] // 4: shape[2] // 2] = 1
                else:
                    a = np.full(shape, 128, spec.dtype.as_numpy_dtype)
                args[k] = tf.constant(a)
            out = fn(**args)
            sigs[name] = {"inputs": {k: s.dtype.name for k, s in fn.structured_input_signature[1].items()},
                          "outputs": {k: v.dtype.name for k, v in out.items()},
                          "finite": bool(all(np.isfinite(v.numpy().astype(np.float64)).all() for v in out.values()))}
        report[path] = {"signatures": sigs, "variables": sum(int(np.prod(v.shape)) for v in m.variables)}
    return report


# `probe_signatures` in a fresh process that cannot import keras_inpaint, on the paths of its command line.
SIGNATURE_PROBE = (inspect.getsource(probe_signatures)
                   + '\nimport json, sys\nprint("REPORT" + json.dumps(probe_signatures(sys.argv[1:])))\n')


SPEC_MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "spec",
                           "models.md")
# spec/models.md's summary row named dcgan_inpaint is the authors' code (its header note), i.e. the `dcgan` id; the
# `dcgan_inpaint` id is SPEC §1.1's conditional GAN, which the summary does not count (SPEC wins).
SPEC_ROW = {"dcgan": "dcgan_inpaint", "dcgan_inpaint": None}
TESTS = os.path.dirname(os.path.abspath(__file__))


def stated_in_a_test_file(count: int) -> bool:
    """Whether `count` is written as a literal (`1_131_711`) in one of the test files besides this one."""
    for name in os.listdir(TESTS):
        if name.startswith("test_") and name.endswith(".py") and name != os.path.basename(__file__):
            with open(os.path.join(TESTS, name), encoding="utf-8") as f:
                if re.search(rf"\b{count:_}\b", f.read()):
                    return True
    return False


def spec_parameter_counts() -> dict[str, tuple[int, int | None]]:
    """{model id: (network, discriminator or None)} parsed from the summary table of ../shared/spec/models.md
    (the bold numbers of its "params (total)" column: "**N**", or "G **N**; D **M**")."""
    counts = {}
    with open(SPEC_MODELS, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\| `(\w+)` \|[^|]*\|[^|]*\|([^|]*)\|", line)
            numbers = [int(n.replace(",", "")) for n in re.findall(r"\*\*([\d,]+)\*\*", m.group(2))] if m else []
            if numbers:
                counts[m.group(1)] = (numbers[0], numbers[1] if "D **" in m.group(2) else None)
    return counts


def test_the_spec_summary_table_is_read():
    counts = spec_parameter_counts()
    assert counts["context_encoder_gan"] == (7_440_643, 1_440_961) and counts["sr_autoencoder"] == (1_110_403, None)
    assert len(counts) >= 10


@pytest.mark.parametrize("model_id", sorted(registry.REGISTRY))
def test_network_parameter_counts(model_id):
    """Built networks have the counts their registry entry states (each stated once, there), and those are
    spec/models.md's; a model that file does not list has its counts written as literals in its family's test file
    (counted there from the paper's or the network's layer table), so adding a model is one folder and its test
    file."""
    spec = registry.get(model_id)
    config = run.RunConfig.of(model=model_id, precision="float32").resolved()
    model = run.build_training_model(spec, config)
    generator = getattr(model, "generator", model)
    discriminator = model.discriminator.count_params() if spec.discriminator_params is not None else None
    stated = (spec.params, spec.discriminator_params)
    assert (generator.count_params(), discriminator) == stated
    row = SPEC_ROW.get(model_id, model_id)
    expected = spec_parameter_counts().get(row) if row else None
    if expected:
        assert stated == expected, f"{model_id}: spec/models.md's summary gives {expected}"
    else:
        missing = [n for n in stated if n is not None and not stated_in_a_test_file(n)]
        assert not missing, f"{model_id}: not in spec/models.md; write its counts {missing} in its test file"


def test_a_count_outside_the_spec_must_be_in_a_test_file():
    """Guards the check above against a search that finds everything (or nothing)."""
    assert stated_in_a_test_file(1_131_711) and stated_in_a_test_file(856_716)     # free_form_inpaint, ffdnet
    assert not stated_in_a_test_file(1_131_712)


def _train_step_on_this_machine(spec, policy: str) -> bool:
    """Whether the one-step training check runs for `policy` here. Always, except mixed_float16 on a machine
    without a GPU for networks above 32x32: CPUs have no float16 kernels for convolution gradients, so TF
    emulates them (measured on the 2-core CPU: sr_autoencoder's first mixed_float16 step 129 s against 4 s in
    float32, restoration_gan's did not finish in 15 minutes). On CPUs the float16 step with loss scaling is
    covered by the 32x32 models (the plain trainer: context_encoder, denoising_ae_mnist/fashion; the adversarial
    trainer: context_encoder_gan), and every model still builds, evaluates and exports under it; on a GPU every
    model takes the step."""
    if policy != "mixed_float16" or tf.config.list_physical_devices("GPU"):
        return True
    return spec.image_shape[0] * spec.image_shape[1] <= 32 * 32


def _export_under(policy, spec, model_id, images, path):
    """Builds `model_id` under `policy`, takes one training step on `images` where `_train_step_on_this_machine`
    (finite losses, float32 variables), checks the inference network's outputs are float32 (before paste-back),
    runs the task's evaluation and exports it to `path`. Returns the exported network's parameter count."""
    config = run.RunConfig.of(model=model_id, precision=policy, task_options=QUICK_RUN_TASK_OPTIONS.get(model_id)).resolved()
    task = config.task.build()
    with precision.policy_scope(policy):
        model = run.build_training_model(spec, config)
        x, y = task.make_pair(images, seed=tf.constant([1, 2], tf.int64))
        if _train_step_on_this_machine(spec, policy):
            logs = model.train_on_batch(x, y, return_dict=True)
            assert logs and all(np.isfinite(float(v)) for v in logs.values()), (policy, logs)
        assert all(v.dtype == "float32" for v in model.trainable_variables), policy
        network = run.inference_network(model)
        outputs = network(x[:1] if not isinstance(x, dict) else x, training=False)
        for out in tf.nest.flatten(outputs):
            assert out.dtype == tf.float32, (policy, out.dtype)        # float32 before paste-back
        scores = task.evaluate_batch(network, images)
        assert all(np.isfinite(v.numpy()).all() for v in scores.values()), (policy, scores)
        exporting.export_network(spec, network, path, {"id": model_id, "precision": policy}, task=task)
        return network.count_params()


def _check_signatures(exports: dict[str, str], params: int, plain_tf=None) -> None:
    """Loads every export of `exports` {policy: path} (with `plain_tf`: in a process that cannot import
    keras_inpaint; else in this one): SPEC §4 dtypes (uint8 images in and out, float32 masks and extras), finite
    outputs, every weight listed once (`params`), and the same signatures whatever the training precision."""
    if plain_tf is None:
        report = probe_signatures(list(exports.values()))
    else:
        r = plain_tf(SIGNATURE_PROBE, *exports.values())
        assert r.returncode == 0, r.stderr[-3000:]
        report = json.loads(r.stdout.split("REPORT", 1)[1])
    reference = None
    for path, entry in report.items():
        sigs = entry["signatures"]
        assert entry["variables"] == params, path               # `.variables` lists every weight, once
        assert "serving_default" in sigs, path
        network_sig = sigs.pop(artifact.NETWORK_SIGNATURE)     # the bare float network (evaluate.py)
        assert network_sig["inputs"] == {"inputs": "float32"} and network_sig["finite"], (path, network_sig)
        assert set(network_sig["outputs"].values()) == {"float32"}, (path, network_sig)
        for name, s in sigs.items():
            assert s["inputs"]["images"] == "uint8" and s["inputs"].get("mask", "float32") == "float32", (path, s)
            assert s["outputs"]["images"] == "uint8", (path, name, s)
            # extras: float32 (fill, z, ...) or uint8 images (sr_autoencoder's bicubic), never a compute dtype
            assert all(v in ("float32", "uint8") for v in s["outputs"].values()), (path, name, s)
            assert s["finite"], (path, name)
        reference = reference or sigs
        assert sigs == reference      # the same signatures whatever the training precision


# lama_ffc's quick run (its 2M-parameter FFC generator, CBSD68 photos scored whole with three classical
# baselines) takes about 3.5 minutes on the 2-core CPU: `slow`; the default run trains the registered entry with a
# tiny generator (tests/test_photo_inpainting.py::test_smoke_training_exports_a_serving_signature_...).
# imdn_x2 and imdn_x4 (about 30 s each) are imdn_x3 with another scale: the same builder, task class, trainer,
# pipeline and signatures; the default run keeps imdn_x3's quick run (tests/test_photo_super_resolution.py reads
# it) and tests the other scales where they differ: parameter counts, the x4 training stream, bicubic at x2 / x4,
# the warm start from x3 to x2.
QUICK_RUN_SLOW = {"lama_ffc", "imdn_x2", "imdn_x4"}


@pytest.mark.parametrize("model_id", [
    pytest.param(m, marks=pytest.mark.slow) if m in QUICK_RUN_SLOW else m for m in sorted(registry.REGISTRY)])
def test_quick_run_trains_evaluates_and_exports(model_id, quick_run):
    """For every registered id (issues 11, 15; a new entry gets this coverage by being registered): the quick run
    `train.py --model=ID --steps=2 --max_examples=6` end to end on real data under the model's default precision
    (conftest's `quick_run`: the shared CIFAR-10 / MNIST / Fashion-MNIST, for the `celeb_a` models a folder of
    real aligned CelebA faces, for the photo models their BSDS500 photo folder: patches of 6 training photos, 2
    whole test photos); its export, loaded with `tf.saved_model.load`, has SPEC §4 dtypes and lists every weight
    once."""
    spec = registry.get(model_id)
    result = quick_run(model_id)
    metrics = result["metrics"]
    assert metrics["steps"] == 2 and metrics["num_images"] == 2
    assert all(np.isfinite(v) for k, v in metrics.items() if isinstance(v, float)), metrics
    card = artifact.load_model_card(result["export_path"])
    assert card["id"] == model_id and card["steps"] == 2
    with open(os.path.join(result["run_dir"], "config.json")) as f:
        recorded = json.load(f)["config"]
    assert recorded["task"]["model"] == model_id and recorded["data"]["test_examples"] == 2
    assert recorded["trainer"]["precision"] == precision.default_for(spec.precision) == card["precision"]
    _check_signatures({card["precision"]: result["export_path"]}, card["parameters"])


# Every id takes every policy in the `slow` run; the default run keeps context_encoder_gan: its generator is a
# plain network under the policy, trained by the adversarial trainer (the photo models train the plain trainer
# under their default mixed_bfloat16 in their quick runs, whose exports' SPEC §4 dtypes the quick-run test checks;
# tests/test_precision.py checks the policy choice itself).
PRECISION_DEFAULT_RUN = {"context_encoder_gan"}


@pytest.mark.parametrize("model_id", [
    m if m in PRECISION_DEFAULT_RUN else pytest.param(m, marks=pytest.mark.slow) for m in sorted(registry.REGISTRY)])
def test_every_precision_trains_evaluates_and_exports(model_id, tmp_path, plain_tf):
    """Issue 12: under every policy, one training step on a tiny batch (losses finite, variables float32,
    outputs float32 before paste-back), the task's evaluation and an export (`_export_under`); the exports have
    SPEC §4 dtypes and the same signatures whatever the training precision, and the policy scope is restored."""
    spec = registry.get(model_id)
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (2, *spec.image_shape), dtype=np.uint8))
    exports = {}
    for policy in precision.POLICIES:
        exports[policy] = str(tmp_path / policy)
        params = _export_under(policy, spec, model_id, images, exports[policy])
        assert artifact.load_model_card(exports[policy])["precision"] == policy
    assert precision.current() == keras.config.dtype_policy().name == "float32"   # the scope restored it
    _check_signatures(exports, params, plain_tf)
