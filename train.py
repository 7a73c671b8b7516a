"""Train, evaluate and export a keras_inpaint model.

  python train.py --model=context_encoder --dataset=cifar10
  python train.py --model=context_encoder --dataset=folder:/path/to/images --steps=2000
  python train.py --model=context_encoder --evaluate_only        # re-score an existing run

Every default (dataset, batch size, learning rate, number of steps) is the paper's, from the model registry;
each flag overrides it. Re-running the same command resumes from the last checkpoint. Run `--helpfull` for
every flag.
"""
import os
import sys

from keras_inpaint.startup import quiet_start  # noqa: E402

quiet_start()   # before anything imports TensorFlow: hides its C++ start-up lines

from absl import app, flags, logging  # noqa: E402

from keras_inpaint import data, registry  # noqa: E402
from keras_inpaint.training import distribute, run  # noqa: E402
from keras_inpaint.training.callbacks import TrainingDiverged  # noqa: E402

FLAGS = flags.FLAGS


def _define_flag(name: str, kind: type, default, help: str, choices=None) -> None:
    """One flag of a declared setting or option: an enum flag when it has `choices`, else by its type."""
    if choices is not None:
        flags.DEFINE_enum(name, default, list(choices), help)
    else:
        define = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer, float: flags.DEFINE_float,
                  str: flags.DEFINE_string, list: flags.DEFINE_list}
        define[kind](name, default, help)


def _define_setting_flags() -> tuple[str, ...]:
    """One flag per run setting (`run.setting_fields`: the fields of `RunConfig`'s task, data, trainer and
    runtime groups, the task / trainer options aside), with the field's type, default, help text and choices; a
    setting without a default (--model) is required. Returns their names."""
    settings = run.setting_fields()
    for setting in settings:
        _define_flag(setting.name, setting.type, setting.default, setting.help, setting.choices)
        if setting.required:
            flags.mark_flag_as_required(setting.name)
    return tuple(setting.name for setting in settings)


def _define_option_flags(options_class) -> tuple[str, ...]:
    """One flag per field of `options_class` (`registry.TaskOptions`, `registry.TrainerOptions`), with the field's
    help text and choices, default None (the model's default); returns their names."""
    for option in registry.option_fields(options_class):
        _define_flag(option.name, option.type, None, option.help, option.choices)
    return tuple(option.name for option in registry.option_fields(options_class))


# The run's settings (training/config.py), each declared once with its type, default and help text.
SETTING_FLAGS = _define_setting_flags()
# Model-specific options (SPEC §1); a model that has no such option rejects the flag with the valid ones.
TASK_FLAGS = _define_option_flags(registry.TaskOptions)
TRAINER_FLAGS = _define_option_flags(registry.TrainerOptions)
# Command-line only: what this invocation does, and --download's opposite.
flags.DEFINE_bool("no_download", False, "Never download a dataset (the default; overrides --download).")
flags.DEFINE_bool("evaluate_only", False, "Do not train: load the run's checkpoint, evaluate on the test split, "
                  "write metrics.json and print the table.")


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # tfds/TF info lines drown the progress bar
    settings = {name: FLAGS[name].value for name in SETTING_FLAGS}
    config = run.RunConfig.of(
        **{**settings, "download": FLAGS.download and not FLAGS.no_download, "export_dir": FLAGS.export_dir or None},
        task_options={k: FLAGS[k].value for k in TASK_FLAGS if FLAGS[k].value is not None},
        trainer_options={k: FLAGS[k].value for k in TRAINER_FLAGS if FLAGS[k].value is not None})
    resolved = None
    try:
        # first: a multi-worker or TPU strategy must be set up before any other TensorFlow work
        strategy = distribute.make_strategy(config.runtime.strategy, config.runtime.devices, config.runtime.tpu)
        resolved = run.resolve(config)   # the one resolution of this run: train, evaluate and export share it
        if FLAGS.evaluate_only:
            run.evaluate(resolved)
        else:
            result = run.train(resolved, strategy=strategy)
            print(f"Run directory: {result['run_dir']}")
            if result["export_path"]:
                print(f"SavedModel: {result['export_path']}")
                if not os.path.abspath(result["export_path"]).startswith(os.path.abspath("saved_models") + os.sep):
                    print(f"To ship it: python export.py --run_dir={result['run_dir']} --export_dir=saved_models")
    except (data.DatasetError, FileNotFoundError, ValueError, TrainingDiverged) as e:
        sys.exit(f"error: {e}")
    except KeyboardInterrupt:
        if resolved is None:
            sys.exit("\ninterrupted before training started")
        c = resolved.config
        epoch, step = run.resume_point(c)
        sys.exit(f"\ninterrupted: {c.runtime.output_dir} keeps epoch {epoch}/{c.trainer.epochs} (step {step}); "
                 "re-run the same command to resume from there.")


if __name__ == "__main__":
    app.run(main)
