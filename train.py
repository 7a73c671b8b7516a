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
flags.DEFINE_enum("model", None, sorted(registry.REGISTRY), "Model id (SPEC §1).")
flags.DEFINE_string("dataset", None, "tfds name (e.g. cifar10, mnist, celeb_a) or folder:PATH for a folder of "
                    "JPEG/PNG images (split ~90/10 train/test by file-name hash). Default: the model's paper dataset.")
flags.DEFINE_string("data_dir", None, "tensorflow-datasets directory (default: $TFDS_DATA_DIR, else "
                    "~/tensorflow_datasets), e.g. ../shared/data/tensorflow_datasets.")
flags.DEFINE_bool("download", False, "Let tfds download and prepare a tfds dataset that is not in --data_dir on "
                  "first use (needs the network; the output says so). Off by default: without it a missing "
                  "dataset stops with a clear error (nothing is fetched at run time).")
flags.DEFINE_bool("no_download", False, "Never download a dataset (the default; overrides --download).")
flags.DEFINE_string("output_dir", None, "Run directory (default runs/<model>-<dataset>): config.json, logs/ "
                    "(TensorBoard), checkpoints/ (resume), metrics.json, grid.png.")
flags.DEFINE_integer("steps", None, "Training iterations (mini-batches). Default: the paper's schedule.")
flags.DEFINE_integer("batch_size", None, "Global batch size. Default: the paper's.")
flags.DEFINE_float("learning_rate", None, "Adam learning rate. Default: the paper's.")
flags.DEFINE_integer("seed", 0, "Seed for initialisation, data order and corruptions.")
flags.DEFINE_integer("max_examples", None, "Use only the first N training images (quick runs).")
flags.DEFINE_integer("test_examples", None, "Score only the first N test images in the final evaluation (quick "
                     "runs). Default: the whole test split, the papers' protocol; lsgan/dcgan runs shorter than "
                     "the schedule (or with --max_examples) score 64, since each image costs a z-search.")
flags.DEFINE_integer("val_examples", 1000, "Test images scored at each epoch end (val_psnr, val_ssim, ...).")
flags.DEFINE_integer("steps_per_epoch", 1000, "Iterations per Keras epoch: the interval of validation, image "
                     "grid and checkpoint.")
flags.DEFINE_integer("steps_per_execution", 1, "Training steps per compiled call (fewer Python round trips).")
flags.DEFINE_enum("precision", None, ["float32", "mixed_bfloat16", "mixed_float16"], "Keras dtype policy of "
                  "training and the exported graph: float32, mixed_bfloat16 (bfloat16 compute, float32 weights; "
                  "fast on CPUs with AMX-BF16 and on TPUs) or mixed_float16 (GPUs; loss scaling on). "
                  "Default: the model's measured choice (see the README's precision table); a mixed_bfloat16 "
                  "default falls back to float32 on CPUs without AMX-BF16 (AVX-512-BF16 alone measured "
                  "0.93-1.38x; AVX2 emulates bfloat16).")
flags.DEFINE_bool("deterministic", False, "Deterministic ops (tf.config.experimental.enable_op_determinism) with "
                  "--seed: two runs of the same command give identical weights (slower).")
flags.DEFINE_bool("jit_compile", False, "Compile the train step with XLA (measured slower on CPU; see benchmarks/).")
flags.DEFINE_list("benchmarks", None, "Folders of full-size HR images scored whole after the test split, each "
                  "PATH or NAME=PATH (sr_autoencoder and imdn_x* default: ../shared/data/benchmarks/Set5,"
                  "../shared/data/benchmarks/Set14 where present; e.g. B100=../shared/data/photos/bsds500/val); "
                  "empty to skip.")
flags.DEFINE_bool("evaluate_only", False, "Do not train: load the run's checkpoint, evaluate on the test split, "
                  "write metrics.json and print the table.")
flags.DEFINE_string("init_from", None, "Fine-tune: start a new run from the weights of this SavedModel of the same "
                    "model (e.g. saved_models/free_form_inpaint/3; a GAN's discriminator and the optimisers start "
                    "fresh), or of another scale of IMDN (imdn_x2 from imdn_x3: all but the upsampler). A resumed "
                    "run continues from its own checkpoint.")
flags.DEFINE_string("export_dir", run.RUN_EXPORT, "Where the trained model is exported at the end "
                    "(<export_dir>/<model>/<version>/): by default into the run directory; empty to skip the "
                    "export. The shipped models (saved_models/) change only when told to: python export.py "
                    "--run_dir=RUN --export_dir=saved_models (or --export_dir=saved_models here).")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker", "tpu"], "tf.distribute "
                  "strategy: default (one device), mirrored (all local GPUs, or --devices), multi_worker (the "
                  "cluster in $TF_CONFIG; run the same command on every worker, worker 0 writes the run directory) "
                  "or tpu (--tpu). --batch_size stays the global batch size (README: Multi-GPU and multi-worker).")
flags.DEFINE_list("devices", None, "--strategy=mirrored: the local devices, e.g. /gpu:0,/gpu:1 (default: every GPU).")
flags.DEFINE_string("tpu", None, "--strategy=tpu: the TPU name or grpc:// address (default: the local TPU).")
flags.mark_flag_as_required("model")


def _define_option_flags(options_class) -> tuple[str, ...]:
    """One flag per field of `options_class` (`registry.TaskOptions`, `registry.TrainerOptions`), with the field's
    help text and choices, default None (the model's default); returns their names."""
    define = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer, float: flags.DEFINE_float, str: flags.DEFINE_string}
    for option in registry.option_fields(options_class):
        if option.choices is not None:
            flags.DEFINE_enum(option.name, None, list(option.choices), option.help)
        else:
            define[option.type](option.name, None, option.help)
    return tuple(option.name for option in registry.option_fields(options_class))


# Model-specific options (SPEC §1); a model that has no such option rejects the flag with the valid ones.
TASK_FLAGS = _define_option_flags(registry.TaskOptions)
TRAINER_FLAGS = _define_option_flags(registry.TrainerOptions)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # tfds/TF info lines drown the progress bar
    config = run.RunConfig(
        model=FLAGS.model, dataset=FLAGS.dataset, data_dir=FLAGS.data_dir, output_dir=FLAGS.output_dir,
        steps=FLAGS.steps, batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate, seed=FLAGS.seed,
        max_examples=FLAGS.max_examples, val_examples=FLAGS.val_examples, test_examples=FLAGS.test_examples,
        steps_per_epoch=FLAGS.steps_per_epoch,
        steps_per_execution=FLAGS.steps_per_execution, jit_compile=FLAGS.jit_compile,
        deterministic=FLAGS.deterministic, download=FLAGS.download and not FLAGS.no_download,
        precision=FLAGS.precision, strategy=FLAGS.strategy, devices=FLAGS.devices, tpu=FLAGS.tpu,
        init_from=FLAGS.init_from, export_dir=FLAGS.export_dir or None, benchmarks=FLAGS.benchmarks,
        task_options={k: FLAGS[k].value for k in TASK_FLAGS if FLAGS[k].value is not None},
        trainer_options={k: FLAGS[k].value for k in TRAINER_FLAGS if FLAGS[k].value is not None})
    resolved = None
    try:
        # first: a multi-worker or TPU strategy must be set up before any other TensorFlow work
        strategy = distribute.make_strategy(config.strategy, config.devices, config.tpu)
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
        sys.exit(f"\ninterrupted: {c.output_dir} keeps epoch {epoch}/{c.epochs} (step {step}); "
                 "re-run the same command to resume from there.")


if __name__ == "__main__":
    app.run(main)
