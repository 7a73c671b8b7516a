"""Score an exported SavedModel on a dataset, with the same protocol as a training run's own test evaluation.

  python evaluate.py --saved_model=saved_models/context_encoder/1 --dataset=cifar10
  python evaluate.py --saved_model=saved_models/sr_autoencoder/1 --dataset=folder:my_photos --split=all \\
      --benchmarks=../shared/data/benchmarks/Set5,../shared/data/benchmarks/Set14 --output=sr.json
  python evaluate.py --saved_model=saved_models/imdn_x3/1      # B100 (its test split), then Set5 and Set14
  python evaluate.py --saved_model=saved_models/sr_autoencoder/1 --max_examples=1 \\
      --benchmarks=B100=../shared/data/photos/bsds500/val   # the seed 003 model on B100
  python evaluate.py --saved_model=saved_models/refinement_ae/1 --prior=saved_models/lsgan/1

Only the SavedModel is needed (loaded with `tf.saved_model.load`; no checkpoint or run directory). Its model
card (`assets/model_card.json`) says which model it is; the corruptions, seeds, metrics (SPEC §3) and
baselines (mean colour / noisy or corrupted input / bicubic; for lama_ffc also OpenCV Telea and Navier-Stokes and
scikit-image biharmonic inpainting, the `[eval]` extra) are those of `python train.py --evaluate_only`.
"""
import json
import sys

from keras_inpaint.startup import quiet_start  # noqa: E402

quiet_start()   # before anything imports TensorFlow: hides its C++ start-up lines

from absl import app, flags, logging  # noqa: E402

from keras_inpaint import artifact, data, evaluation, registry, tasks  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("saved_model", None, "Export directory, e.g. saved_models/context_encoder/1.")
flags.DEFINE_string("dataset", None, "tfds name or folder:PATH (default: the dataset in the model card).")
flags.DEFINE_string("data_dir", None, "tensorflow-datasets directory (default: $TFDS_DATA_DIR).")
flags.DEFINE_enum("split", "test", ["test", "all"], "test: the held-back split a training run scores; all: "
                  "every image (a folder of your own images is scored whole, no hash split).")
flags.DEFINE_enum("mask", None, list(tasks.MASK_KINDS), "dcgan_inpaint, free_form_inpaint: hole to score "
                  "with (default: the card's): centre, random_box, LaMa's free_form:thin|medium|thick, DeepFill "
                  "v2's brush, or mixed. Masks are seeded by the pixels: every model is scored on the same holes, "
                  "and the table adds PSNR per hole-area bin. (lama_ffc always scores LaMa's thin, medium and thick "
                  "masks, next to OpenCV's and scikit-image's classical inpainting.)")
flags.DEFINE_bool("self_ensemble", None, "ffdnet_inpaint, ffdnet: score with the geometric self-ensemble (the "
                  "mean over the photo's 8 flips / rotations) or, --noself_ensemble, one pass. Default: the card's.")
flags.DEFINE_list("benchmarks", None, "Folders of whole images scored at full size after the split (any-size "
                  "models: sr_autoencoder, imdn_x2/3/4, ffdnet), each PATH or NAME=PATH, e.g. "
                  "../shared/data/benchmarks/Set5,B100=../shared/data/photos/bsds500/val. Default: the model's own "
                  "(sr_autoencoder and imdn_x*: Set5 and Set14 where present), as train.py; empty to skip.")
flags.DEFINE_string("prior", None, "refinement_ae only: an exported lsgan/dcgan SavedModel (e.g. "
                    "saved_models/lsgan/1). The refiner is scored as seed 004 Table 3.2 does: on the prior's z-search "
                    "completions of the centre hole, against the unrefined completions (its input).")
flags.DEFINE_integer("max_examples", None, "Score only the first N images.")
flags.DEFINE_string("output", None, "Write the results as JSON to this file.")
flags.mark_flag_as_required("saved_model")


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    options = {k: v for k, v in (("mask", FLAGS.mask), ("self_ensemble", FLAGS.self_ensemble)) if v is not None}
    try:
        benchmarks = FLAGS.benchmarks
        if benchmarks is None:   # the model's benchmark folders where this checkout has them (as train.py)
            benchmarks = registry.get(artifact.load_model_card(FLAGS.saved_model)["id"]).default_benchmarks()
        results = evaluation.evaluate_saved_model(
            FLAGS.saved_model, FLAGS.dataset, FLAGS.split, data_dir=FLAGS.data_dir, task_options=options,
            benchmarks=[b for b in benchmarks if b], max_examples=FLAGS.max_examples, prior=FLAGS.prior,
            progress=sys.stdout.isatty())
    except (data.DatasetError, FileNotFoundError, ValueError) as e:
        sys.exit(f"error: {e}")
    if FLAGS.output:
        with open(FLAGS.output, "w") as f:
            json.dump(results, f, indent=2)
        print(f"Wrote {FLAGS.output}")


if __name__ == "__main__":
    app.run(main)
