"""Crash-safe training state (issue 14): NaN stops keep the last good checkpoint, a corrupted latest checkpoint
falls back to the previous one, and Ctrl-C says where the run will resume."""
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_inpaint.training import callbacks, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(tmp_path, tfds_dir, **kw):
    base = dict(model="context_encoder", dataset="cifar10", data_dir=tfds_dir, output_dir=str(tmp_path / "run"),
                steps=20, steps_per_epoch=10, batch_size=16, max_examples=128, val_examples=16, test_examples=64,
                export_dir=None)
    base.update(kw)
    return run.RunConfig.of(**base)


class PoisonAtEpoch(keras.callbacks.Callback):
    """Sets the generator's output kernel (before its tanh) to NaN at the start of epoch `epoch`, so that the
    next training losses are NaN (a ReLU could turn NaN into 0, a tanh cannot)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            w = self.model.generator.get_layer("fill").kernel
            w.assign(np.full(w.shape, np.nan, np.float32))


def test_stop_on_nan_checks_every_logged_loss():
    cb = callbacks.StopOnNaN()
    cb.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    cb.model.compile(optimizer="adam", loss="mse")
    cb.on_train_batch_end(0, {"d_loss": 0.5, "g_loss": 1.0})                  # finite: nothing happens
    with pytest.raises(callbacks.TrainingDiverged, match=r"training diverged at step 0: g_loss = nan"):
        cb.on_train_batch_end(1, {"d_loss": 0.5, "g_loss": float("nan")})    # a GAN tracker, not `loss`


def test_a_diverged_run_stops_keeps_the_last_good_checkpoint_and_resumes(tmp_path, tfds_dir):
    config = _config(tmp_path, tfds_dir, model="context_encoder_gan")   # GAN trackers: d_loss, g_loss, ...
    with pytest.raises(callbacks.TrainingDiverged, match="training diverged at step 1[01]: .*g_loss = nan"):
        run.train(config, extra_callbacks=[PoisonAtEpoch(1)], verbose=0)
    meta = json.load(open(os.path.join(config.runtime.output_dir, "checkpoints", "training_metadata.json")))
    assert meta["epoch"] == 1                                    # epoch 2 (diverged) was never saved
    kept = run.load_trained_model(config.resolved())
    assert all(np.isfinite(w.numpy()).all() for w in kept.weights)
    result = run.train(config, verbose=0)                       # resumes from the good epoch and finishes
    assert len(result["history"]["g_loss"]) == 1 and result["metrics"]["steps"] == 20


def test_a_corrupted_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, tfds_dir, capsys):
    config = _config(tmp_path, tfds_dir)
    run.train(config, verbose=0)
    ckpt = os.path.join(config.runtime.output_dir, "checkpoints", run.WEIGHTS_FILE)
    assert os.path.exists(ckpt + ".bkp")                          # double_checkpoint keeps the previous epoch
    with open(ckpt, "r+b") as f:                                  # what a kill during the write leaves
        f.truncate(os.path.getsize(ckpt) // 2)
    model = run.load_trained_model(config.resolved())
    assert "restoring the previous checkpoint" in capsys.readouterr().out
    assert all(np.isfinite(w.numpy()).all() for w in model.weights)


def test_a_kill_inside_a_checkpoint_write_resumes_at_the_weights_epoch(tmp_path, tfds_dir, capsys,
                                                                       interrupt_after_epoch):
    """BackupAndRestore writes the weights, then training_metadata.json. A kill inside the metadata write leaves
    a file that is not JSON (before: the resume crashed on it); a kill between the two writes leaves the metadata
    one epoch behind the weights (before: the resume trained one epoch too many, as in CI's kill -9 test). Both
    resume after the epoch the weights hold and end at exactly the schedule's step count."""
    config = _config(tmp_path, tfds_dir, steps=6, steps_per_epoch=2, batch_size=8, max_examples=32, val_examples=8,
                     test_examples=8)
    meta = os.path.join(config.runtime.output_dir, "checkpoints", "training_metadata.json")
    with pytest.raises(KeyboardInterrupt):
        run.train(config, extra_callbacks=[interrupt_after_epoch(0)], verbose=0)   # epoch 1 saved: 2 steps
    with open(meta, "w") as f:
        f.write('{"epo')                                                          # cut short by the kill
    with pytest.raises(KeyboardInterrupt):
        run.train(config, extra_callbacks=[interrupt_after_epoch(1)], verbose=0)   # resumes after epoch 1
    assert "is missing or unreadable but the weights beside it hold 2 steps" in capsys.readouterr().out
    assert json.load(open(meta))["epoch"] == 2
    with open(meta, "w") as f:                     # weights of epoch 2 written, the metadata not yet
        json.dump({"epoch": 1, "batch": 0}, f)
    assert run.resume_point(config) == (1, 2)      # what the metadata alone says
    result = run.train(config, verbose=0)
    assert "says epoch 1 but the weights beside it hold 4 steps" in capsys.readouterr().out
    assert len(result["history"]["loss"]) == 1 and result["metrics"]["steps"] == 6
    assert json.load(open(meta))["epoch"] == 3


def test_ctrl_c_prints_where_the_run_resumes(tmp_path, tfds_dir):
    out = str(tmp_path / "cli")
    env = dict(os.environ, TFDS_DATA_DIR=tfds_dir)
    args = [sys.executable, "train.py", "--model=context_encoder", "--dataset=cifar10", f"--output_dir={out}",
            "--steps=100000", "--steps_per_epoch=5", "--batch_size=8", "--max_examples=64", "--val_examples=8",
            "--export_dir="]
    p = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    meta = os.path.join(out, "checkpoints", "training_metadata.json")
    deadline = time.time() + 240
    while not os.path.exists(meta) and time.time() < deadline and p.poll() is None:
        time.sleep(0.5)
    assert os.path.exists(meta), "no epoch completed in time"
    # One Ctrl-C is enough: training.callbacks.DeferredCtrlC raises it at the next batch end. (Before it, a first
    # SIGINT was lost twice under the loaded 2-worker suite, most likely raised inside a TensorFlow finaliser.)
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("train.py did not stop within 120 s of one SIGINT")
    assert p.returncode != 0
    assert "interrupted:" in err and "re-run the same command to resume from there" in err, err[-2000:]
    assert "Traceback" not in err


def test_ctrl_c_during_fit_is_kept_until_the_next_batch_end():
    """DeferredCtrlC: the first SIGINT only records the request (nothing raised inside TensorFlow code), the next
    batch end raises KeyboardInterrupt, a second SIGINT raises at once, and the previous handler comes back."""
    before = signal.getsignal(signal.SIGINT)
    ctrl_c = callbacks.DeferredCtrlC()
    with ctrl_c:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)                                   # the handler runs: nothing raised here
        assert ctrl_c.requested
        with pytest.raises(KeyboardInterrupt):
            ctrl_c.on_train_batch_end(0)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.slow
def test_deterministic_runs_give_identical_weights(tmp_path, tfds_dir):
    """--deterministic (issue 14): two runs of the same command, each in its own process, end with bit-identical
    weights; and the flag is what turns op determinism on (recorded in config.json). `slow`: on this CPU two
    float32 runs agree even without the flag, so here it cannot fail; the default run keeps the test below, which
    fails when `--deterministic` stops turning op determinism on (the same train.py path, in process)."""
    def weights(name):
        out = tmp_path / name
        r = subprocess.run([sys.executable, "train.py", "--model=context_encoder", "--deterministic", "--steps=3",
                            "--batch_size=16", "--max_examples=64", "--val_examples=16", "--test_examples=16",
                            f"--data_dir={tfds_dir}", f"--output_dir={out}", "--export_dir="],
                           cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
        with open(out / "config.json") as f:
            assert json.load(f)["config"]["runtime"]["deterministic"] is True
        with h5py.File(out / "checkpoints" / "latest.weights.h5", "r") as f:
            arrays = []
            f.visititems(lambda k, v: arrays.append((k, v[()])) if isinstance(v, h5py.Dataset) else None)
        return arrays

    import h5py

    first, second = weights("a"), weights("b")
    assert [k for k, _ in first] == [k for k, _ in second] and len(first) > 10
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(first, second))


def test_deterministic_flag_turns_op_determinism_on_and_only_then(tmp_path, tfds_dir, monkeypatch):
    """On this CPU two float32 runs happen to agree even without it, so the identical-weights test above alone
    could not fail: this one checks that `--deterministic` is what calls enable_op_determinism."""
    import tensorflow as tf

    calls = []
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism", lambda: calls.append(1))
    for flag in (False, True):
        run.train(run.RunConfig.of(model="context_encoder", deterministic=flag, steps=1, batch_size=8, max_examples=16,
                                   val_examples=8, test_examples=8, data_dir=tfds_dir,
                                   output_dir=str(tmp_path / str(flag)), export_dir=None), verbose=0)
        assert len(calls) == int(flag)
        with open(tmp_path / str(flag) / "config.json") as f:
            assert json.load(f)["config"]["runtime"]["deterministic"] is flag   # recorded with the run


def _completed(meta_path):
    try:
        with open(meta_path) as f:
            return json.load(f)["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow   # a randomised soak (about 2 minutes); the default run kills deterministically inside the write
def test_repeated_sigkill_at_random_moments_always_resumes(tmp_path, tfds_dir):
    """Issue 14: kill -9 a training subprocess five times at random moments (2-step epochs, so kills often land
    in a checkpoint write); each restart resumes, the completed-epoch count never goes back by more than one
    epoch, nothing is corrupted, and the last run finishes the whole schedule."""
    out = str(tmp_path / "killed")
    args = [sys.executable, "train.py", "--model=context_encoder", "--dataset=cifar10", f"--data_dir={tfds_dir}",
            f"--output_dir={out}", "--steps=60", "--steps_per_epoch=2", "--batch_size=8", "--max_examples=64",
            "--val_examples=8", "--test_examples=8", "--export_dir="]
    meta = os.path.join(out, "checkpoints", "training_metadata.json")
    rng = np.random.default_rng(14)
    best = 0
    for kill in range(5):
        p = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        start = _completed(meta)
        deadline = time.time() + 240
        while _completed(meta) <= start and time.time() < deadline and p.poll() is None:
            time.sleep(0.05)                                   # this run has saved at least one epoch ...
        assert p.poll() is None, p.communicate()[0][-3000:]
        time.sleep(rng.uniform(0.0, 1.5))                      # ... then dies at a random moment
        p.kill()
        p.communicate()
        now = _completed(meta)
        assert now >= best - 1, f"kill {kill}: epoch went back from {best} to {now}"
        best = max(best, now)
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert "Resuming" in r.stdout and "Traceback" not in r.stderr
    assert "Trained 60 steps" in r.stdout
    assert _completed(meta) == 30


def test_a_sigkill_during_export_leaves_no_visible_version(tmp_path, tfds_dir):
    """export.py killed with SIGKILL while it writes: no `<model>/<N>` folder appears (only a `.partial-<pid>`
    one, which the next export deletes), and the next export is version 1, complete."""
    from keras_inpaint import exporting

    config = _config(tmp_path, tfds_dir, steps=2, steps_per_epoch=2)
    run.train(config, verbose=0)
    root = tmp_path / "exports"
    args = [sys.executable, "export.py", f"--run_dir={config.runtime.output_dir}", f"--export_dir={root}"]
    p = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    model_root = root / "context_encoder"
    deadline = time.time() + 240
    while time.time() < deadline and p.poll() is None and not (
            model_root.is_dir() and any(".partial-" in d for d in os.listdir(model_root))):
        time.sleep(0.02)
    assert p.poll() is None, "export finished before it could be killed: " + p.communicate()[0][-2000:]
    p.kill()
    p.communicate()
    names = os.listdir(model_root)
    assert names and all(".partial-" in d for d in names), names      # nothing a reader could take for a version
    assert exporting.next_version(str(model_root)) == 1
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert os.listdir(model_root) == ["1"]                            # the stale partial folder is gone
    assert os.path.exists(model_root / "1" / "assets" / "model_card.json")
