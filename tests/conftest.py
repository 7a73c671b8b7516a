"""Shared test fixtures: where the real data in ../shared/data is, and small helpers.

Tests that need the real data FAIL with the path they looked for when ../shared/data is absent (issue 36: CI
must not go green on skipped tests; `.ci/run` stops before the tests when it is missing). Nothing here downloads
anything.
"""
import fcntl
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.environ.get("KERAS_INPAINT_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
TFDS_DIR = os.path.join(SHARED_DATA, "tensorflow_datasets")
FACES_DIR = os.path.join(SHARED_DATA, "faces")
BENCHMARKS_DIR = os.path.join(SHARED_DATA, "benchmarks")


def shipped_models() -> list[str]:
    """The shipped exports, `<id>/<version>` (e.g. `free_form_inpaint/3`), as `saved_models/SHA256SUMS` lists
    them: the checksummed list is the shipped set, so a listed model whose folder is missing fails its tests and
    an untracked local export is not picked up."""
    with open(os.path.join(ROOT, "saved_models", "SHA256SUMS")) as f:
        return sorted({"/".join(line.split(None, 1)[1].strip().lstrip("*").removeprefix("./").split("/")[:2])
                       for line in f if line.strip()})


@pytest.fixture(scope="session")
def tfds_dir():
    """The prepared tensorflow-datasets directory (cifar10, mnist, fashion_mnist); fails when absent."""
    if not os.path.isdir(os.path.join(TFDS_DIR, "cifar10")):
        pytest.fail(f"real CIFAR-10 not found at {TFDS_DIR} (../shared/data beside the checkout; KERAS_INPAINT_SHARED_DATA points elsewhere)")
    return TFDS_DIR


@pytest.fixture(scope="session")
def faces_dir():
    """../shared/data/faces (celeba_img_align, utkface_aligned_cropped); fails when absent."""
    if not os.path.isdir(FACES_DIR):
        pytest.fail(f"face folders not found at {FACES_DIR} (../shared/data beside the checkout; KERAS_INPAINT_SHARED_DATA points elsewhere)")
    return FACES_DIR


@pytest.fixture(scope="session")
def benchmarks_dir():
    """../shared/data/benchmarks (Set5, Set14, BSD68); fails when absent."""
    if not os.path.isdir(BENCHMARKS_DIR):
        pytest.fail(f"benchmark images not found at {BENCHMARKS_DIR} (../shared/data beside the checkout; KERAS_INPAINT_SHARED_DATA points elsewhere)")
    return BENCHMARKS_DIR


def copy_faces(faces_dir: str, dest, n_train: int, n_test: int) -> str:
    """Copies the first `n_train` / `n_test` real aligned CelebA faces of each folder split (`data.folder_split`)
    into the new folder `dest`; returns its path."""
    from keras_inpaint import data

    src = os.path.join(faces_dir, "celeba_img_align")
    names = sorted(os.listdir(src))
    picked = ([f for f in names if data.folder_split(f) == "train"][:n_train]
              + [f for f in names if data.folder_split(f) == "test"][:n_test])
    os.makedirs(dest)
    for f in picked:
        shutil.copy(os.path.join(src, f), dest)
    return str(dest)


@pytest.fixture
def small_face_folder(faces_dir, tmp_path):
    """`small_face_folder(n_train, n_test)` copies that many real aligned CelebA faces of each folder split
    (`data.folder_split`) into a new folder under `tmp_path` and returns its path (for quick real-data runs)."""
    def make(n_train: int = 6, n_test: int = 2) -> str:
        return copy_faces(faces_dir, tmp_path / f"faces_{n_train}_{n_test}", n_train, n_test)
    return make


# Per-id options of the shared quick run: fewer z-search iterations than the presets (the latent inpainters'
# evaluation and export stay quick); sr_autoencoder also scores Set5 whole (tests/test_super_resolution.py).
QUICK_RUN_TASK_OPTIONS = {"lsgan": {"eval_iterations": 2, "iterations": 2},
                          "dcgan": {"eval_iterations": 2, "iterations": 2}}
QUICK_RUN_BENCHMARKS = {"sr_autoencoder": ["Set5"]}


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory, tfds_dir, faces_dir, benchmarks_dir):
    """`quick_run(model_id)`: the registry-wide quick run of `model_id` (issue 36: one end-to-end run per id
    serves tests/test_registry.py and the per-module tests that read a trained run or its export): `train.py
    --model=ID --steps=2 --batch_size=2 --max_examples=6 --val_examples=2 --test_examples=2` on real data under
    the model's default precision (the `celeb_a` models on 6 + 2 real aligned CelebA faces, the photo models on
    patches of 6 BSDS500 training photos and 2 whole test photos), exported into its run directory.

    It runs once per test session: the run directories live in the session's base temp folder, which pytest-xdist
    workers share, and a file lock per id makes a second worker wait for the first one's run and read its result.
    Tests must only read the run directory and the export. Returns {"run_dir", "export_path", "metrics",
    "dataset"}."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "quick_runs"
    root.mkdir(exist_ok=True)

    def get(model_id: str) -> dict:
        from keras_inpaint import registry
        from keras_inpaint.training import run

        with open(root / f"{model_id}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)          # released when the file closes
            done = root / f"{model_id}.json"
            if done.exists():
                return json.loads(done.read_text())
            spec = registry.get(model_id)
            if spec.default_dataset == "celeb_a":     # no offline CelebA in tfds form: real aligned CelebA faces
                dataset = f"folder:{copy_faces(faces_dir, root / model_id / 'faces', 6, 2)}"
            else:
                dataset = spec.default_dataset
            config = run.RunConfig.of(
                model=model_id, dataset=dataset, data_dir=TFDS_DIR, steps=2, steps_per_epoch=2, batch_size=2,
                max_examples=6, val_examples=2, test_examples=2, output_dir=str(root / model_id / "run"),
                export_dir=str(root / model_id / "export"),
                benchmarks=[os.path.join(benchmarks_dir, b) for b in QUICK_RUN_BENCHMARKS.get(model_id, [])],
                task_options=QUICK_RUN_TASK_OPTIONS.get(model_id))
            result = run.train(config, verbose=0)
            summary = {"run_dir": result["run_dir"], "export_path": result["export_path"],
                       "metrics": result["metrics"], "dataset": dataset}
            done.with_suffix(".tmp").write_text(json.dumps(summary))
            os.replace(done.with_suffix(".tmp"), done)
            return summary
    return get


# Prepended to every plain-TensorFlow probe: importing keras_inpaint fails, as it would for an outside user.
_BLOCK_KERAS_INPAINT = """
import sys, importlib.abc
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "keras_inpaint":
            raise ImportError("keras_inpaint is blocked: an export must load without the project's code")
sys.meta_path.insert(0, _Block())
"""


@pytest.fixture(scope="session")
def plain_tf():
    """`plain_tf(script, *args)` runs `script` (reading `sys.argv[1:]`) in a fresh Python process in which
    `keras_inpaint` cannot be imported; returns the `subprocess.CompletedProcess` (text output captured)."""
    def run(script: str, *args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", _BLOCK_KERAS_INPAINT + script, *map(str, args)],
                              capture_output=True, text=True)
    return run


# The default run's longest tests outside test_registry.py (20-70 s each on the 2-core CPU with three workers,
# `--durations=90`; none of them uses a module-scoped fixture, so moving them does not rebuild one), longest first.
LONG_TESTS = (
    "test_predict_cli_runs_the_shipped_model_on_a_photo_of_another_size[lsgan/1]",   # the full 1,500-step search
    "test_a_two_worker_gan_resumes_matches_one_worker_and_only_the_chief_writes",
    "test_smoke_training_exports_a_serving_signature_plain_tensorflow_can_call",
    "test_short_run_learns_writes_run_dir_and_beats_nothing_silently",
    "test_mirrored_strategy_reproduces_the_single_device_losses",
    "test_mnist_short_training_loss_decreases_and_exports",
    "test_interrupted_gan_run_resumes_both_optimizers",
    "test_a_run_ends_with_batchnorm_statistics_of_its_final_weights",
    "test_fashion_mnist_white_box_short_training_on_real_data",
    "test_a_diverged_run_stops_keeps_the_last_good_checkpoint_and_resumes",
    "test_one_train_run_resolves_once_and_builds_each_input_once",
    "test_a_sigkill_during_export_leaves_no_visible_version",
    "test_a_run_fine_tunes_from_a_shipped_model",
)


def pytest_collection_modifyitems(config, items):
    """Puts the long tests at the head of every pytest-xdist worker's share; order matters to no test.

    The long tests: the registry-wide ones (a quick run and the precisions per model, 10-45 s each, which later
    tests read through `quick_run`), then `LONG_TESTS`, longest first. `--dist worksteal` (the README's test
    command) first hands worker i the i-th contiguous share of the collection, and an idle worker later takes the
    *end* of the longest queue; so the long tests are dealt round-robin to the heads of the shares and the other
    tests keep their file order behind them. The run then ends on short tests on every core, not with one long
    test running alone while the other core idles. Without xdist: the long tests first."""
    rank = {name: i for i, name in enumerate(LONG_TESTS)}
    long_ = sorted((item for item in items if item.path.name == "test_registry.py" or item.name in rank),
                   key=lambda item: (item.path.name != "test_registry.py", rank.get(item.name, 0)))
    chosen = set(map(id, long_))
    rest = [item for item in items if id(item) not in chosen]
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    ordered, left, start = [], len(items), 0
    for i in range(workers):               # xdist's first split: len // workers_left items to each in turn
        share = left // (workers - i)
        head = long_[i::workers]
        body = rest[start:start + max(0, share - len(head))]
        ordered += head + body
        start += len(body)
        left -= share
    ordered += rest[start:]
    assert len(ordered) == len(items)
    items[:] = ordered


@pytest.fixture
def interrupt_after_epoch():
    """`interrupt_after_epoch(epoch)` is a Keras callback that raises KeyboardInterrupt (what Ctrl-C raises) at
    the end of epoch `epoch` (0-based), after BackupAndRestore has checkpointed it (`run.train` puts that
    callback first)."""
    import keras

    class InterruptAfterEpoch(keras.callbacks.Callback):
        def __init__(self, epoch):
            super().__init__()
            self.epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            if epoch == self.epoch:
                raise KeyboardInterrupt
    return InterruptAfterEpoch
