"""Run a trained model on your own photos: inpaint holes, denoise, super-resolve, at the photo's size.

  python predict.py --saved_model=saved_models/sr_autoencoder/1 --input=photo.png --output_dir=out
  python predict.py --saved_model=saved_models/imdn_x3/1 --input=photo.png --output_dir=out   # x3, LR-space IMDN
  python predict.py --saved_model=saved_models/free_form_inpaint/3 --input=faces/ --mask=free_form:medium \\
      --output_dir=out --side_by_side
  python predict.py --saved_model=saved_models/dcgan_inpaint/1 --input='shots/*.jpg' --mask=mask.png --output_dir=out

Only the SavedModel is needed (`tf.saved_model.load`); its signature and model card say what the model takes.
Fully convolutional inpainters run whole photos up to 800 px and larger ones through crops around each group of
holes (IOPaint's crop strategy), other fully convolutional models at full size (large photos in overlapping
tiles), fixed-size inpainters fill the hole through crops around it, fixed-size restorers resize the photo (see
keras_inpaint/prediction.py). Every output is `<output_dir>/<name>.png`; known pixels of an inpainted photo are
unchanged; a super-resolved RGBA photo keeps its alpha (up-sampled bicubically), a grayscale one comes back grey.
A file that cannot be
used gets one error line and the others are still written; the exit status is 1 if any file failed.
"""
import os
import sys

from keras_inpaint.startup import quiet_start  # noqa: E402

quiet_start()   # before anything imports TensorFlow: hides its C++ start-up lines

from absl import app, flags, logging  # noqa: E402

from keras_inpaint.prediction import (CROP_MARGIN, CROP_SIZE, CROP_TRIGGER, DEFAULT_OVERLAP,  # noqa: E402
                                      DEFAULT_TILE)

FLAGS = flags.FLAGS
flags.DEFINE_string("saved_model", None, "Export directory, e.g. saved_models/sr_autoencoder/1.")
flags.DEFINE_string("input", None, "An image file, a directory of images, or a quoted glob ('photos/*.jpg').")
flags.DEFINE_string("output_dir", None, "Where <name>.png outputs are written (created if missing).")
flags.DEFINE_string("mask", None, "Inpainters: the hole. A mask image of the photo's size (white >= 128 = "
                    "hole), 'alpha' (the photo's transparent pixels), 'centre' (a centred square of half the "
                    "shorter side), 'box:x,y,w,h' (pixels), or a generated free-form mask: 'free_form:thin', "
                    "'free_form:medium', 'free_form:thick', 'free_form:boxes' (LaMa's presets), 'brush' (DeepFill "
                    "v2's strokes) or 'brush:x,y,w,h' (brush strokes inside that box: a brushed-over object). "
                    "Restorers with a with_mask signature (denoisers, restoration_gan) then replace only the "
                    "masked pixels.")
flags.DEFINE_float("noise_level", None, "Non-blind denoisers (ffdnet): the noise level sigma on the 0-255 scale "
                   "(e.g. 25). Omitted: estimated from each photo (skimage.restoration.estimate_sigma) and printed. "
                   "The model removes white Gaussian noise; real camera noise and JPEG artefacts are another kind.")
flags.DEFINE_integer("seed", 0, "Seed of generated masks (file i gets seed (seed, i)).")
flags.DEFINE_bool("overwrite", False, "Replace existing outputs (default: a file whose output exists fails).")
flags.DEFINE_bool("save_masked", False, "Also write <name>_masked.png: the input with the hole painted white.")
flags.DEFINE_bool("side_by_side", False, "Also write <name>_compare.png: input (hole in white) | output.")
flags.DEFINE_integer("tile", DEFAULT_TILE, "Fully convolutional restorers (denoisers, super-resolvers): tile side "
                     "in input pixels for large photos (super-resolvers: low-resolution pixels; the output tile is scale times larger).")
flags.DEFINE_integer("overlap", DEFAULT_OVERLAP, "Context pixels around each tile (only each tile's core is kept).")
flags.DEFINE_integer("crop_trigger", CROP_TRIGGER, "Fully convolutional inpainters: photos with a longer side above this are "
                     "inpainted through crops around each group of holes (IOPaint's crop strategy); smaller photos "
                     "run whole.")
flags.DEFINE_integer("crop_margin", CROP_MARGIN, "Inpainters' crop strategy: context pixels around each group of holes.")
flags.DEFINE_integer("crop_size", CROP_SIZE, "Inpainters' crop strategy: the longest side a crop is inpainted at; "
                     "larger crops are resized down to it and the fill resized back.")
flags.mark_flags_as_required(["saved_model", "input", "output_dir"])


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    import numpy as np
    from PIL import Image

    import keras

    from keras_inpaint import prediction

    try:
        predictor = prediction.Predictor(FLAGS.saved_model, tile=FLAGS.tile, overlap=FLAGS.overlap,
                                         crop_trigger=FLAGS.crop_trigger, crop_margin=FLAGS.crop_margin,
                                         crop_size=FLAGS.crop_size)
        files = prediction.list_inputs(FLAGS.input)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"error: {e}")
    info = predictor.info
    if info.kind == "inpaint" and FLAGS.mask is None:
        sys.exit(f"error: {info.id} fills holes: give --mask (a file, alpha, centre, box:x,y,w,h, "
                 "free_form:thin|medium|thick|boxes, brush or brush:x,y,w,h)")
    if info.kind == "super_resolution" and FLAGS.mask is not None:
        sys.exit(f"error: {info.id} super-resolves whole photos and takes no mask (drop --mask={FLAGS.mask})")
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    how = (f"at full size up to {predictor.crop_trigger} px, larger photos through crops around each group of "
           f"holes ({predictor.crop_margin} px of context, inpainted at most {predictor.crop_size} px wide)"
           if info.size is None and info.kind == "inpaint" else
           "at full size" + (f", in {predictor.tile}-pixel tiles when larger" if info.size is None else "")
           if info.size is None else
           f"through {info.size[0]}x{info.size[1]} crops around the hole" if info.kind == "inpaint" else
           f"resized to {info.size[0]}x{info.size[1]} and back (the model's fixed input size)")
    print(f"{info.id}: {len(files)} image(s), {how}.")
    failed = 0
    bar = keras.utils.Progbar(len(files), unit_name="image") if sys.stdout.isatty() else None
    for i, path in enumerate(files):
        stem = os.path.splitext(os.path.basename(path))[0]
        out_path = os.path.join(FLAGS.output_dir, stem + ".png")
        try:
            if os.path.exists(out_path) and not FLAGS.overwrite:
                raise prediction.PredictError(f"{path}: {out_path} exists (pass --overwrite to replace it)")
            image, alpha = prediction.read_image(path)
            mask = prediction.parse_mask(FLAGS.mask, path, image, alpha, (FLAGS.seed, i))
            level = FLAGS.noise_level
            if info.kind == "denoise" and level is None:
                level = predictor.estimate_noise_level(image)
                print(f"  {path}: estimated noise level sigma = {level:.1f} (0-255 scale; set it with "
                      "--noise_level)", flush=True)
            out = predictor.predict(image, mask, noise_level=level, alpha=alpha)   # RGBA: super-resolvers keep alpha
            Image.fromarray(out).save(out_path)
            if FLAGS.save_masked:
                Image.fromarray(prediction.comparison_input(image, mask)).save(
                    os.path.join(FLAGS.output_dir, stem + "_masked.png"))
            if FLAGS.side_by_side:
                left = prediction.comparison_input(image, mask, out.shape[:2])
                Image.fromarray(np.concatenate([left, out[..., :3]], axis=1)).save(
                    os.path.join(FLAGS.output_dir, stem + "_compare.png"))
            if bar is None:
                print(f"  {path} -> {out_path} ({out.shape[1]}x{out.shape[0]})", flush=True)
        except (prediction.PredictError, OSError) as e:
            failed += 1
            print(f"error: {e}", file=sys.stderr, flush=True)
        if bar is not None:
            bar.update(i + 1)
    print(f"Wrote {len(files) - failed} of {len(files)} to {FLAGS.output_dir}" + (f"; {failed} failed" if failed
                                                                                   else "."))
    return 1 if failed else 0


if __name__ == "__main__":
    app.run(main)
