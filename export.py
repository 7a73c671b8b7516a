"""Export a trained run as a SavedModel (saved_models/<model>/<version>/, TF Serving layout, SPEC §4), or a run
or an existing SavedModel as an ONNX or LiteRT file (issue 34).

  python export.py --run_dir=runs/context_encoder-cifar10
  python ../shared/tools/check_export.py saved_models/context_encoder/1
  python export.py --format=onnx --saved_model=saved_models/sr_autoencoder/1      # -> exports/sr_autoencoder-1.onnx
  python export.py --format=litert --saved_model=saved_models/free_form_inpaint/3 --output=ff.tflite
  python export.py --refresh_card --saved_model=runs/lsgan-faces/export/lsgan/1    # an older export's card

The SavedModel loads with `tf.saved_model.load(path)` alone; `serving_default` takes uint8 `images`.
ONNX / LiteRT files (`pip install -e ".[export]"`) hold the same `serving_default`, uint8 in and out, computed
in float32 (see keras_inpaint/portable.py for names, dynamic sizes and tolerances); z-search models (lsgan,
dcgan) cannot be converted and say why.
`--refresh_card` adds the serving fields that predict.py reads (family, scale, size multiple, hole, ...;
keras_inpaint/artifact.py) to the model card of an export written before they existed (issue 35), from the
registry: only `assets/model_card.json` is rewritten.
"""
import json
import sys

from keras_inpaint.startup import quiet_start  # noqa: E402

quiet_start()   # before anything imports TensorFlow: hides its C++ start-up lines

from absl import app, flags, logging  # noqa: E402

from keras_inpaint import exporting  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_enum("format", "savedmodel", ["savedmodel", "onnx", "litert"], "What to write: a SavedModel "
                  "(from --run_dir), an ONNX file (tf2onnx; dynamic batch, height and width) or a LiteRT / "
                  "TensorFlow Lite file (builtin ops, dynamic shapes), from --run_dir or --saved_model.")
flags.DEFINE_string("run_dir", None, "Run directory written by train.py (holds config.json and checkpoints/).")
flags.DEFINE_string("saved_model", None, "--format=onnx|litert: convert this export (e.g. saved_models/"
                    "sr_autoencoder/1) instead of a run; --refresh_card: the export whose card is rewritten.")
flags.DEFINE_string("output", None, "--format=onnx|litert: the file to write (default exports/<model>-<run or "
                    "version folder name>.onnx|.tflite); an existing file is not replaced.")
flags.DEFINE_string("export_dir", "saved_models", "Root of the exports: <export_dir>/<model>/<version>/.")
flags.DEFINE_integer("version", None, "Version number (default: next free integer).")
flags.DEFINE_bool("refresh_card", False, "Rewrite only the model card of the export --saved_model, adding the "
                  "serving fields predict.py needs (family, value range, mask, input size, scale, size multiple, "
                  "hole, metrics) from the registry: for exports written before those fields existed.")
flags.DEFINE_enum("precision", None, ["float32", "mixed_bfloat16", "mixed_float16"], "Keras dtype policy of the "
                  "exported graph (default: the run's). E.g. float32 for a network trained under mixed_bfloat16: "
                  "the same float32 weights, computed in float32 (slower, a little more accurate); the card "
                  "records both. Not for GANs.")
flags.DEFINE_string("scores", None, "JSON of test metrics to record in the model card instead of the run's "
                    "metrics.json, as `evaluate.py --output` writes it (e.g. refinement_ae scored with --prior).")


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # tfds/TF info lines drown the progress bar
    if FLAGS.refresh_card:
        return refresh_card()
    if FLAGS.format != "savedmodel":
        return convert()
    if not FLAGS.run_dir or FLAGS.saved_model:
        sys.exit("error: --format=savedmodel exports a run: give --run_dir (--saved_model is for "
                 "--format=onnx|litert)")
    try:
        scores = None
        if FLAGS.scores:
            try:
                with open(FLAGS.scores) as f:
                    scores = json.load(f)
            except (OSError, ValueError) as e:
                raise ValueError(f"--scores {FLAGS.scores}: expected a JSON file of metrics "
                                 f"(evaluate.py --output), got {type(e).__name__}: {e}") from None
        path = exporting.export_run(FLAGS.run_dir, FLAGS.export_dir, version=FLAGS.version, scores=scores,
                                    policy=FLAGS.precision)
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        sys.exit(f"error: {e}")
    print(path)


def refresh_card():
    """--refresh_card: the serving fields written into --saved_model's card (`exporting.refresh_card`)."""
    if not FLAGS.saved_model or FLAGS.run_dir or FLAGS.format != "savedmodel":
        sys.exit("error: --refresh_card rewrites the card of one export: give --saved_model=PATH alone "
                 "(no --run_dir or --format)")
    try:
        exporting.refresh_card(FLAGS.saved_model)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"error: {e}")
    print(f"Refreshed the model card of {FLAGS.saved_model}")


def convert():
    """--format=onnx|litert: one file from --run_dir or --saved_model (keras_inpaint.portable)."""
    if bool(FLAGS.run_dir) == bool(FLAGS.saved_model):
        sys.exit(f"error: --format={FLAGS.format} converts one source: give --run_dir or --saved_model")
    try:
        from keras_inpaint import portable

        path = portable.export(FLAGS.saved_model or FLAGS.run_dir, FLAGS.format, FLAGS.output)
    except ImportError as e:
        sys.exit(f'error: --format={FLAGS.format} needs the export extra (pip install -e ".[export]"): {e}')
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        sys.exit(f"error: {e}")
    print(path)


if __name__ == "__main__":
    app.run(main)
