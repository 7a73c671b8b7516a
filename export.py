"""Export a trained run as a SavedModel: saved_models/<model>/<version>/ (TF Serving layout, SPEC §4).

  python export.py --run_dir=runs/context_encoder-cifar10
  python ../shared/tools/check_export.py saved_models/context_encoder/1

The SavedModel loads with `tf.saved_model.load(path)` alone; `serving_default` takes uint8 `images`.
"""
import json
import sys

from keras_inpaint.startup import quiet_start  # noqa: E402

quiet_start()   # before anything imports TensorFlow: hides its C++ start-up lines

from absl import app, flags, logging  # noqa: E402

from keras_inpaint import exporting  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("run_dir", None, "Run directory written by train.py (holds config.json and checkpoints/).")
flags.DEFINE_string("export_dir", "saved_models", "Root of the exports: <export_dir>/<model>/<version>/.")
flags.DEFINE_integer("version", None, "Version number (default: next free integer).")
flags.DEFINE_string("scores", None, "JSON of test metrics to record in the model card instead of the run's "
                    "metrics.json, as `evaluate.py --output` writes it (e.g. refinement_ae scored with --prior).")
flags.mark_flag_as_required("run_dir")


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # tfds/TF info lines drown the progress bar
    try:
        scores = None
        if FLAGS.scores:
            try:
                with open(FLAGS.scores) as f:
                    scores = json.load(f)
            except (OSError, ValueError) as e:
                raise ValueError(f"--scores {FLAGS.scores}: expected a JSON file of metrics "
                                 f"(evaluate.py --output), got {type(e).__name__}: {e}") from None
        path = exporting.export_run(FLAGS.run_dir, FLAGS.export_dir, version=FLAGS.version, scores=scores)
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        sys.exit(f"error: {e}")
    print(path)


if __name__ == "__main__":
    app.run(main)
