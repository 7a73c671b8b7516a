"""Training runs on the real CIFAR-10 (SPEC §4-5): fit, logs, metrics, resume after an interruption, CLI."""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from keras_inpaint.training import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(tmp_path, tfds_dir, **kw):
    base = dict(model="context_encoder", dataset="cifar10", data_dir=tfds_dir, output_dir=str(tmp_path / "run"),
                steps=40, steps_per_epoch=20, batch_size=32, max_examples=512, val_examples=64)
    base.update(kw)
    return run.RunConfig.of(**base)


def saved_models_snapshot() -> dict[str, tuple[int, int]]:
    """{path: (size, mtime)} of every file under the repository's saved_models/ (the shipped models)."""
    root = os.path.join(ROOT, "saved_models")
    return {os.path.relpath(os.path.join(d, f), root): (os.stat(os.path.join(d, f)).st_size,
                                                       os.stat(os.path.join(d, f)).st_mtime_ns)
            for d, _, files in os.walk(root) for f in files}


def test_short_run_learns_writes_run_dir_and_beats_nothing_silently(tmp_path, tfds_dir, monkeypatch):
    monkeypatch.chdir(ROOT)                                    # as `python train.py` from the checkout
    shipped = saved_models_snapshot()
    result = run.train(_config(tmp_path, tfds_dir, steps=60, steps_per_epoch=20, test_examples=256), verbose=0)
    # a run that does not say otherwise exports into its own directory, never beside the shipped models (issue 35)
    assert result["export_path"] == os.path.join(result["run_dir"], "export", "context_encoder", "1")
    assert saved_models_snapshot() == shipped
    losses = result["history"]["loss"]
    assert losses[-1] < losses[0], losses                       # the L2 loss falls on real images
    d = result["run_dir"]
    for name in ("config.json", "metrics.json", "grid.png", "checkpoints", "logs"):
        assert os.path.exists(os.path.join(d, name)), name
    cfg = json.load(open(os.path.join(d, "config.json")))
    trainer = cfg["config"]["trainer"]                         # grouped: task, data, trainer, runtime
    assert trainer["batch_size"] == 32 and trainer["steps"] == 60 and "tensorflow" in cfg["versions"]
    m = json.load(open(os.path.join(d, "metrics.json")))
    assert m["num_images"] == 256 and m["steps"] == 60
    # the run's own test scores are what evaluate.py measures on its export (same images, protocol and weights)
    from keras_inpaint import evaluation
    again = evaluation.evaluate_saved_model(result["export_path"], data_dir=tfds_dir, max_examples=256, verbose=False)
    for k in ("psnr", "ssim", "hole_psnr", "hole_l1", "hole_l2"):
        assert m[k] == pytest.approx(again[k], abs=1e-4), k
        assert m[f"baseline_{k}"] == pytest.approx(again[f"baseline_{k}"], abs=1e-6), k
    # per-epoch validation metrics reached the logs
    assert "val_psnr" in result["history"] and "val_hole_psnr" in result["history"]
    assert any(f.startswith("events") for f in os.listdir(os.path.join(d, "logs", "images")))
    assert os.path.isdir(result["export_path"])


def _logged_steps(log_dir: str, tag: str) -> list[int]:
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(log_dir, size_guidance={"tensors": 0})
    acc.Reload()
    return sorted(e.step for e in acc.Tensors(tag)) if tag in acc.Tags()["tensors"] else []


def test_interrupted_run_resumes_from_last_epoch(tmp_path, tfds_dir, monkeypatch, interrupt_after_epoch):
    monkeypatch.setattr(run, "LOG_EVERY", 10)
    config = _config(tmp_path, tfds_dir, export_dir=None, test_examples=256)
    with pytest.raises(KeyboardInterrupt):
        run.train(config, extra_callbacks=[interrupt_after_epoch(0)], verbose=0)
    meta = json.load(open(os.path.join(config.runtime.output_dir, "checkpoints", "training_metadata.json")))
    assert meta["epoch"] == 1
    interrupted = run.load_trained_model(config.resolved())
    assert int(interrupted.optimizer.iterations.numpy()) == 20

    result = run.train(config, verbose=0)
    assert len(result["history"]["loss"]) == 1                 # only the missing epoch was trained
    assert result["metrics"]["steps"] == 40                    # optimizer state (step count) was restored
    # training-loss scalars continue on the global step after the resume (not drawn over steps 10, 20 again)
    assert _logged_steps(os.path.join(config.runtime.output_dir, "logs", "train"), "batch_loss") == [10, 20, 30, 40]

    again = run.train(config, verbose=0)                       # finished run: nothing left to train
    assert again["history"] == {} or len(again["history"].get("loss", [])) == 0
    assert again["metrics"]["steps"] == 40


@pytest.fixture(scope="module")
def help_text():
    """train.py --helpfull's output (one TensorFlow start-up for the tests that read it)."""
    return subprocess.run([sys.executable, "train.py", "--helpfull"], cwd=ROOT, capture_output=True,
                          text=True).stdout


def test_cli_help_and_evaluate_only(tmp_path, tfds_dir, help_text, quick_run):
    """Every flag is present and explained; `--evaluate_only` re-scores a trained run from the command line
    without training it (on a copy of context_encoder's shared quick run, trained 2 steps): metrics.json then
    holds the new test scores (256 images, still 2 steps) and the printed table shows them. (An unknown --model's
    one-line error: test_bad_input.py; the command line trains in tests/test_distribute.py and
    tests/test_reliability.py.)"""
    env = dict(os.environ, TFDS_DATA_DIR=tfds_dir)
    for flag in ("model", "dataset", "data_dir", "output_dir", "steps", "batch_size", "learning_rate", "seed",
                 "max_examples", "jit_compile", "steps_per_execution", "evaluate_only", "export_dir"):
        assert re.search(rf"--(\[no\])?{flag}: \S", help_text), flag      # present and explained

    out = str(tmp_path / "cli_run")
    shutil.copytree(quick_run("context_encoder")["run_dir"], out)      # the shared run is only read
    before = os.listdir(os.path.join(out, "checkpoints"))
    ev = subprocess.run([sys.executable, "train.py", "--model=context_encoder", "--dataset=cifar10",
                         f"--output_dir={out}", "--test_examples=256", "--evaluate_only"], cwd=ROOT,
                        capture_output=True, text=True, env=env, timeout=300)   # a run that trains instead: fails
    assert ev.returncode == 0, ev.stderr[-2000:]
    m = json.load(open(os.path.join(out, "metrics.json")))
    assert m["num_images"] == 256 and m["steps"] == 2                  # re-scored, not trained
    assert os.listdir(os.path.join(out, "checkpoints")) == before
    assert re.search(rf"PSNR of the hole only \(dB\)\s+{m['hole_psnr']:.4f}", ev.stdout), ev.stdout[-2000:]


def _flag_blocks(help_text: str) -> dict[str, str]:
    """{flag name: its --helpfull entry, "--[no]name: ..." up to the next flag or module heading}."""
    return {m.group(1): m.group(0) for m in
            re.finditer(r"^ +--(?:\[no\])?(\w+): .*(?:\n(?! +--(?:\[no\])?\w+: )(?=\s).*)*", help_text, flags=re.M)}


def _assert_documented_flag(blocks: dict[str, str], name: str, kind: type, help: str, choices) -> str:
    """`--name` is in `blocks` (`_flag_blocks`) as a flag of `kind` (bool: `--[no]name`; int / float / list: absl's
    type note; `choices`: an enum of them) whose help contains `help` (whitespace ignored). Returns its block."""
    block = blocks.get(name)
    assert block is not None, f"--{name}: not a train.py flag"
    squeezed = re.sub(r"\s", "", block)
    assert block.lstrip().startswith("--[no]" if kind is bool else f"--{name}:"), block
    assert re.sub(r"\s", "", help) in squeezed, f"--{name}: help text differs"
    if choices is not None:
        assert f"<{'|'.join(choices)}>" in squeezed, f"--{name}: choices"
    else:
        note = {int: "(an integer)", float: "(a number)", list: "(a comma separated list)"}.get(kind)
        assert note is None or note in block, f"--{name}: not a {kind.__name__} flag"
    return block


def test_every_trainer_and_task_option_is_a_documented_flag(help_text):
    """Trainer and task options are declared once, as typed fields with help text (`registry.TrainerOptions`,
    `registry.TaskOptions`; issue 35): every field is a train.py flag of its type with its help text (and its
    choices), every option a registry entry lists is a field, its value of the field's type (and among its
    choices); and `--download` is off by default."""
    from keras_inpaint import registry

    blocks = _flag_blocks(help_text)
    fields = {}
    for options_class in (registry.TaskOptions, registry.TrainerOptions):
        for option in registry.option_fields(options_class):
            assert option.name not in fields, f"{option.name}: declared twice"
            fields[option.name] = option
            assert option.help.strip(), f"{option.name}: no help text"
            assert option.type in (bool, int, float, str), (option.name, option.type)
            assert option.choices is None or option.type is str and option.choices, option.name
            if options_class is registry.TaskOptions:
                assert option.default is None, f"{option.name}: a task option's default is the model's (None)"
            elif option.default is not None:
                assert type(option.default) is option.type, (option.name, option.default)
                assert option.choices is None or option.default in option.choices, option.name
            block = _assert_documented_flag(blocks, option.name, option.type, option.help, option.choices)
            assert "(default: '" not in block, f"--{option.name}: default not None (the model's)"
    for options_class, listed in ((registry.TaskOptions, "task_options"), (registry.TrainerOptions,
                                                                          "trainer_options")):
        names = {o.name for o in registry.option_fields(options_class)}
        for spec in registry.REGISTRY.values():
            options = spec.task_options if listed == "task_options" else spec.trainer_options
            assert set(options) <= names, f"{spec.id}: {listed} {set(options) - names} not in {options_class.__name__}"
            for name, value in options.items():
                option = fields[name]
                assert value is None or type(value) is option.type, (spec.id, name, value, option.type)
                assert value is None or option.choices is None or value in option.choices, (spec.id, name, value)
    assert re.search(r"--\[no\]download: .*\n(.*\n)*?\s+\(default: 'false'\)", help_text)


def test_every_run_setting_is_a_documented_flag(help_text):
    """The run's settings are declared once, as typed fields of `RunConfig`'s groups (task, data, trainer, runtime)
    with help text (issue 35): every one but the task / trainer options (a flag per option) is a train.py flag of
    its type, default, help text and choices, and `RunConfig.of` takes them all by name."""
    blocks = _flag_blocks(help_text)
    settings = run.setting_fields()
    assert [s.group for s in settings if s.required] == ["task"] and settings[0].name == "model"
    assert {s.group for s in settings} == {"task", "data", "trainer", "runtime"}
    names = [s.name for s in settings]
    assert len(names) == len(set(names))
    assert set(run.RunConfig.of(model="context_encoder").flat()) == set(names) | {"task_options", "trainer_options"}
    for s in settings:
        assert s.help.strip(), f"{s.name}: no help text"
        block = _assert_documented_flag(blocks, s.name, s.type, s.help, s.choices)
        if s.default is None:
            assert "(default: '" not in block, f"--{s.name}: default not None"
        else:
            shown = str(s.default).lower() if isinstance(s.default, bool) else str(s.default)
            assert f"(default:'{shown}')" in re.sub(r"\s", "", block), f"--{s.name}: default differs"


def test_config_json_is_grouped_and_old_flat_ones_still_load(tmp_path):
    """`<run_dir>/config.json` records the resolved settings grouped (task, data, trainer, runtime) and
    `RunConfig.load` reads them back; it also reads the flat format of run directories written before the grouping
    (settings it does not know ignored, missing ones at their defaults), so old runs still export."""
    resolved = run.resolve(run.RunConfig.of(model="context_encoder", steps=7, max_examples=64, seed=3,
                                            output_dir=str(tmp_path / "new")))
    run.write_config(resolved)
    written = json.load(open(tmp_path / "new" / "config.json"))["config"]
    assert list(written) == ["task", "data", "trainer", "runtime"]
    assert (written["task"]["model"], written["trainer"]["steps"], written["runtime"]["seed"]) == ("context_encoder",
                                                                                                    7, 3)
    assert run.RunConfig.load(str(tmp_path / "new")) == resolved.config

    flat = {"model": "imdn_x3", "dataset": "folder:../shared/data/photos/bsds500", "data_dir": None,
            "output_dir": "/somewhere/runs/imdn_x3", "steps": 10000, "batch_size": 16, "learning_rate": 0.0002,
            "seed": 0, "max_examples": None, "val_examples": 1000, "test_examples": None, "steps_per_epoch": 500,
            "steps_per_execution": 1, "jit_compile": False, "deterministic": False, "download": False,
            "export_dir": "/somewhere/runs/imdn_x3_export", "task_options": {}, "trainer_options": {},
            "benchmarks": ["../shared/data/benchmarks/Set5", "../shared/data/benchmarks/Set14"],
            "precision": "mixed_bfloat16", "strategy": "default", "devices": None,
            "a_retired_setting": 1}                      # no tpu, init_from: written before they existed
    (tmp_path / "old").mkdir()
    with open(tmp_path / "old" / "config.json", "w") as f:
        json.dump({"config": flat, "paper": "IMDN", "versions": {}, "git": "unknown"}, f)
    old = run.RunConfig.load(str(tmp_path / "old"))
    assert old == run.RunConfig.of(**{k: v for k, v in flat.items() if k != "a_retired_setting"})
    assert (old.task.model, old.data.dataset, old.trainer.steps, old.trainer.precision, old.runtime.export_dir,
            old.trainer.init_from, old.runtime.tpu) == ("imdn_x3", flat["dataset"], 10000, "mixed_bfloat16",
                                                        flat["export_dir"], None, None)
    with pytest.raises(TypeError, match="unknown setting.*stepz"):
        run.RunConfig.of(model="context_encoder", stepz=1)


def test_missing_dataset_is_a_clear_cli_error(tmp_path):
    r = subprocess.run([sys.executable, "train.py", "--model=context_encoder", f"--data_dir={tmp_path}",
                        "--no_download", f"--output_dir={tmp_path / 'r'}"], cwd=ROOT, capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "TFDS_DATA_DIR"})
    assert r.returncode != 0
    assert "error: Dataset 'cifar10' is not prepared" in r.stderr and "Traceback" not in r.stderr
    assert "train.py --download" in r.stderr      # says how it would download (off by default)
