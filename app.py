"""A local web page for the trained models: upload a photo, brush the hole, run, compare, download the PNG.

  pip install -e ".[app]"
  python app.py                                  # http://127.0.0.1:7860, every export under saved_models/
  python app.py --saved_model=runs/my-run-export/1 --port=8080

The page lists every SavedModel under --models_dir (the shipped ones: saved_models/<model>/<N>) and each
--saved_model given, with its model card in one line (what it does, what it was trained on, its test score).
Upload a photo; for an inpainter brush the hole on it (or upload a mask, or pick a generated one); for a
non-blind denoiser set the noise level (the photo's estimate is filled in); super-resolvers and the other
restorers just run. The result shows as a before / after slider and downloads as a PNG at full resolution.

Every result is computed by `keras_inpaint.prediction.Predictor`, the code path of predict.py, on the uploaded
file as predict.py reads it (`prediction.read_image`), with the mask as predict.py reads a mask file
(`prediction.parse_mask`): the same photo, mask, --tile and --overlap give the same output bits. The drawn
hole is the brush layer's pixels with alpha >= 128; "Mask used" downloads it as a mask PNG (white = hole) that
`predict.py --mask=` accepts. A bad photo or mask shows predict.py's own one-line error in the page.

The same function is an HTTP API (Gradio's; `gradio_client`, see README "Web app"): endpoint /restore.
The server binds to 127.0.0.1 (this machine only) unless --host says otherwise.
"""
from __future__ import annotations

import glob
import os
import re
import sys
import tempfile

from keras_inpaint.startup import quiet_start  # noqa: E402

quiet_start()   # before anything imports TensorFlow: hides its C++ start-up lines

from absl import app, flags, logging  # noqa: E402

from keras_inpaint.prediction import DEFAULT_OVERLAP, DEFAULT_TILE  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("models_dir", "saved_models", "Folder of exports <model>/<N>/ (every folder there with a "
                    "saved_model.pb and a model card is listed).")
flags.DEFINE_multi_string("saved_model", [], "An extra export directory to list (repeat the flag for more), "
                          "e.g. one that train.py or export.py wrote elsewhere.")
flags.DEFINE_string("host", "127.0.0.1", "Address to listen on. The default serves this machine only; "
                    "0.0.0.0 opens the page (and its API) to every machine that can reach this one.")
flags.DEFINE_integer("port", 7860, "TCP port of the page (0: the first free one).")
flags.DEFINE_integer("max_upload_mb", 25, "Largest file (photo or mask) the page accepts, in MB; larger uploads "
                     "are refused by the server before they are read.")
flags.DEFINE_float("max_megapixels", 24.0, "Largest photo, in megapixels (width x height / 1e6), that is "
                   "restored; larger ones get an error line (memory and time grow with the pixel count).")
flags.DEFINE_integer("tile", DEFAULT_TILE, "As predict.py --tile: tile side in input pixels for large photos "
                     "(fully convolutional models).")
flags.DEFINE_integer("overlap", DEFAULT_OVERLAP, "As predict.py --overlap: context pixels around each tile.")

GENERATED = ("centre", "free_form:thin", "free_form:medium", "free_form:thick", "brush")
DRAWN, MASK_FILE = "drawn", "file"
MASK_CHOICES = [("draw it on the photo", DRAWN), ("a mask file (white = hole)", MASK_FILE),
                ("centre square", "centre"), ("generated: free_form:thin", "free_form:thin"),
                ("generated: free_form:medium", "free_form:medium"), ("generated: free_form:thick", "free_form:thick"),
                ("generated: brush strokes", "brush")]


def list_exports(models_dir: str, extra: list[str]) -> list[str]:
    """Export directories to offer: every `<models_dir>/<model>/<N>` holding a saved_model.pb (sorted by model,
    then version), then each of `extra` (not checked here: the page reports one that is not an export)."""
    found = [os.path.dirname(p) for p in glob.glob(os.path.join(models_dir, "*", "*", "saved_model.pb"))
             if re.fullmatch(r"\d+", os.path.basename(os.path.dirname(p)))]
    found.sort(key=lambda p: (os.path.basename(os.path.dirname(p)), int(os.path.basename(p))))
    return found + [p for p in extra if p not in found]


class Models:
    """The listed exports, each loaded (`prediction.Predictor`) on first use and kept. `labels[path]` names an
    export in the page and the API ("<model id>/<version folder>", or the path where that is taken)."""

    def __init__(self, paths: list[str], tile: int, overlap: int):
        from keras_inpaint import artifact

        self.paths, self.tile, self.overlap, self._loaded = paths, tile, overlap, {}
        # every file the page writes (results, masks, the photo as shown) lies here; removed at exit
        self._work = tempfile.TemporaryDirectory(prefix="keras_inpaint_app_")
        self.work_dir = self._work.name
        self.labels, self.summaries = {}, {}
        for path in paths:
            try:
                card = artifact.load_model_card(path)
                self.labels[path] = f"{card['id']}/{os.path.basename(os.path.normpath(path))}"
                self.summaries[path] = artifact.card_summary(card)
            except (FileNotFoundError, ValueError, KeyError) as e:
                self.labels[path] = path
                self.summaries[path] = f"error: {e}"
            if list(self.labels.values()).count(self.labels[path]) > 1:   # e.g. a --saved_model of the same
                self.labels[path] = path                                  # id and version: named by its path

    def resolve(self, model: str) -> str:
        """The listed export path of `model`: a path, or its label such as "sr_autoencoder/1" (the API accepts
        either). Raises PredictError when it is not listed."""
        from keras_inpaint import prediction

        path = model if model in self.labels else next((p for p, l in self.labels.items() if l == model), None)
        if path is None:
            raise prediction.PredictError(f"model {model!r} is not listed; one of: {', '.join(self.labels.values())}")
        return path

    def get(self, model: str):
        """The `Predictor` of `model` (see `resolve`). Raises PredictError (not listed, or not an export)."""
        from keras_inpaint import prediction

        path = self.resolve(model)
        if path not in self._loaded:
            try:
                self._loaded[path] = prediction.Predictor(path, tile=self.tile, overlap=self.overlap)
            except (FileNotFoundError, ValueError) as e:
                raise prediction.PredictError(str(e)) from None
        return self._loaded[path]


def read_photo(path: str, name: str, max_megapixels: float):
    """`prediction.read_image(path)` after a header-only size check: -> (uint8 RGB `[H, W, 3]`, alpha or None).

    Raises:
      PredictError: over `max_megapixels`, or not a readable image (predict.py's message, naming `name`).
    """
    from PIL import Image

    from keras_inpaint import prediction

    try:
        with Image.open(path) as img:
            w, h = img.size
    except Exception:   # noqa: BLE001 -- read_image below says what is wrong with the file, in predict.py's words
        w = h = 0
    if w * h > max_megapixels * 1e6:
        raise prediction.PredictError(f"{name}: {w}x{h} is {w * h / 1e6:.1f} megapixels, more than this page "
                                      f"accepts (--max_megapixels={max_megapixels:g})")
    try:
        return prediction.read_image(path)
    except prediction.PredictError as e:
        raise prediction.PredictError(str(e).replace(path, name)) from None


def drawn_mask(editor, shape, out_path: str) -> str:
    """Writes the hole brushed in the image editor as a mask PNG (white 255 = hole, black = known; a pixel is
    hole where any brush layer has alpha >= 128) to `out_path` and returns it.

    `editor`: the ImageEditor value ({"background", "layers", "composite"}, file paths). `shape`: (H, W) of the
    photo. Raises PredictError when nothing was drawn (the size check is parse_mask's, as for a mask file)."""
    import numpy as np
    from PIL import Image

    from keras_inpaint import prediction

    layers = [p for p in ((editor or {}).get("layers") or []) if p]
    if not layers:
        raise prediction.PredictError("no hole drawn: brush over the photo (or pick another mask)")
    hole = None
    for path in layers:
        with Image.open(path) as layer:
            alpha = np.asarray(layer.convert("RGBA"))[..., 3] >= 128
        hole = alpha if hole is None else (hole | alpha if hole.shape == alpha.shape else alpha)
    Image.fromarray((hole * 255).astype(np.uint8)).save(out_path)
    return out_path


def restore(models: Models, max_megapixels: float, model: str, photo: str | None, mask_choice: str | None,
            editor: dict | None, mask_file: str | None, seed: float | None, noise_level: float | None,
            progress=None):
    """One run of the page (and of the /restore API): -> (before / after pair of PNG paths, result PNG path,
    mask PNG path or None, one info line).

    `photo`: the uploaded file. `mask_choice`: DRAWN (the editor's brush layers), MASK_FILE (`mask_file`) or
    a generated mask name (`prediction.GENERATED_MASKS`, seeded by (`seed`, 0) as predict.py's first file);
    only inpainters read it (other models restore the whole photo). `noise_level`: sigma (0-255)
    for non-blind denoisers; None: the photo's estimate. `progress(done, total)`: tiles and crops done.

    Raises:
      PredictError: no photo, an unreadable photo or mask, a mask of the wrong size, no hole, ... (the line
        predict.py prints for the same input).
    """
    import numpy as np
    from PIL import Image

    from keras_inpaint import prediction

    predictor = models.get(model)
    info = predictor.info
    if not photo:
        raise prediction.PredictError("no photo: upload one first")
    name = os.path.basename(photo)
    image, alpha = read_photo(photo, name, max_megapixels)
    out_dir = tempfile.mkdtemp(dir=models.work_dir)
    stem = os.path.splitext(name)[0]
    mask_choice = mask_choice or DRAWN
    spec = None
    if info.kind == "inpaint":      # the other kinds restore the whole photo
        if mask_choice == DRAWN:
            spec = drawn_mask(editor, image.shape[:2], os.path.join(out_dir, stem + "_mask.png"))
        elif mask_choice == MASK_FILE:
            if not mask_file:
                raise prediction.PredictError("no mask file: upload one (white >= 128 = hole), or pick another mask")
            spec = mask_file
        elif mask_choice in GENERATED:
            spec = mask_choice
        else:
            raise prediction.PredictError(f"unknown mask choice {mask_choice!r}; one of: "
                                          f"{', '.join(v for _, v in MASK_CHOICES)}")
    seed = int(seed or 0)
    try:
        mask = prediction.parse_mask(spec, name, image, alpha, (seed, 0))
    except prediction.PredictError as e:   # name the upload, not the server's temporary copy
        raise prediction.PredictError(str(e).replace(str(mask_file), os.path.basename(str(mask_file)))) from None
    level = None
    if info.kind == "denoise":
        level = predictor.estimate_noise_level(image) if noise_level is None else float(noise_level)
    # as predict.py: a super-resolved RGBA photo keeps its alpha (up-sampled); other kinds ignore it
    out = predictor.predict(image, mask, noise_level=level, progress=progress, alpha=alpha)
    result = os.path.join(out_dir, stem + ".png")
    Image.fromarray(out).save(result)
    mask_path = None
    if mask is not None:
        mask_path = os.path.join(out_dir, stem + "_mask.png")
        Image.fromarray((mask > 0).astype(np.uint8) * 255).save(mask_path)
    before = os.path.join(out_dir, stem + "_before.png")
    Image.fromarray(prediction.comparison_input(image, mask, out.shape[:2])).save(before)
    line = (f"{models.labels[models.resolve(model)]}: {name} {image.shape[1]}x{image.shape[0]}"
            f" -> {out.shape[1]}x{out.shape[0]}" + (f", {int(mask.sum()):,} hole pixels" if mask is not None else "")
            + (f", noise level sigma {level:.1f}" if level is not None else ""))
    return (before, result), result, mask_path, line


def build_page(models: Models, max_megapixels: float, max_upload_mb: int):
    """The Gradio page (gr.Blocks) over `models`; its Run button is the /restore API endpoint."""
    import gradio as gr

    from keras_inpaint import prediction

    paths = models.paths
    first = next((p for p in paths if models.labels[p].startswith("free_form_inpaint/")), paths[0] if paths else None)
    first = models.labels.get(first)

    def kind_of(path):
        try:
            return models.get(path).info.kind
        except prediction.PredictError:
            return None

    def on_model(label):
        path = models.resolve(label)
        kind = kind_of(path)
        return (f"**{label}**: {models.summaries[path]}",
                gr.update(visible=kind == "inpaint"), gr.update(visible=kind == "denoise"))

    def on_photo(path, model):
        """Shows the uploaded photo in the editor (as predict.py reads it) and estimates its noise level."""
        from PIL import Image

        if not path:
            return None, None, ""
        try:
            image, _ = read_photo(path, os.path.basename(path), max_megapixels)
        except prediction.PredictError as e:
            raise gr.Error(f"error: {e}", duration=None) from None
        shown = os.path.join(tempfile.mkdtemp(dir=models.work_dir), "photo.png")
        Image.fromarray(image).save(shown)
        level, kind = None, kind_of(model)
        if kind == "denoise":
            level = round(prediction.Predictor.estimate_noise_level(image), 1)
        line = f"{os.path.basename(path)}: {image.shape[1]}x{image.shape[0]}" + (
            f", estimated noise level sigma {level}" if level is not None else "") + (
            "; brush the hole on it, then Run" if kind == "inpaint" else "; Run")
        return {"background": shown, "layers": [], "composite": shown}, level, line

    def run(model, photo, mask_choice, editor, mask_file, seed, noise_level, progress=gr.Progress()):
        """Restores `photo` with `model` (an export path or its label such as "sr_autoencoder/1").

        mask_choice: "drawn" (the editor's brush layer), "file" (mask_file, white = hole), or a generated mask:
        centre, free_form:thin|medium|thick, brush. Inpainters need one. noise_level: sigma on the 0-255 scale for
        non-blind denoisers (empty: estimated). Returns the before / after pair, the result PNG, the mask PNG
        used (white = hole) and one info line. A bad input raises an error with predict.py's message.
        """
        def report(done, total):
            progress((done, total), desc="restoring", unit="tiles")
        try:
            return restore(models, max_megapixels, model, photo, mask_choice, editor, mask_file, seed, noise_level,
                           report)
        except prediction.PredictError as e:
            raise gr.Error(f"error: {e}", duration=None, print_exception=False) from None

    # delete_cache: Gradio's copies of uploads and results older than a day go, checked hourly
    with gr.Blocks(title="keras_inpaint", analytics_enabled=False, delete_cache=(3600, 86400)) as page:
        gr.Markdown("## keras_inpaint: restore a photo\nPick a model, upload a photo, run. Inpainters fill the hole "
                    "you brush (white). Results are computed exactly as `predict.py` computes them.")
        with gr.Row():
            with gr.Column():
                model = gr.Dropdown(choices=[models.labels[p] for p in paths], value=first, label="Model",
                                    elem_id="model")
                card = gr.Markdown(elem_id="card")
                photo = gr.File(label=f"Photo (PNG, JPEG, ...; at most {max_upload_mb} MB and {max_megapixels:g} "
                                      "megapixels)", file_types=["image"], type="filepath", elem_id="photo")
                with gr.Group(visible=True) as inpaint_group:
                    mask_choice = gr.Radio(MASK_CHOICES, value=DRAWN, label="Hole", elem_id="mask_choice")
                    editor = gr.ImageEditor(label="Brush the hole on the photo", type="filepath", format="png",
                                            image_mode="RGBA", sources=(), transforms=(), layers=False,
                                            brush=gr.Brush(colors=["#ffffff"], default_color="#ffffff",
                                                           color_mode="fixed", default_size=12),
                                            elem_id="editor")
                    mask_file = gr.File(label="Mask file (for 'a mask file')", file_types=["image"], type="filepath",
                                        elem_id="mask_file")
                    seed = gr.Number(0, precision=0, label="Seed of a generated mask", elem_id="seed")
                with gr.Group(visible=False) as noise_group:
                    noise = gr.Number(None, label="Noise level sigma (0-255; filled in with the photo's estimate)",
                                      elem_id="noise")
                go = gr.Button("Run", variant="primary", elem_id="run")
            with gr.Column():
                compare = gr.ImageSlider(label="Before (hole in white) / after", type="filepath", format="png",
                                         elem_id="compare")
                result = gr.File(label="Result (PNG, full resolution)", elem_id="result")
                mask_used = gr.File(label="Mask used (PNG, white = hole; predict.py --mask=<this file> gives the "
                                          "same result)", elem_id="mask_used")
                status = gr.Markdown(label="info", elem_id="status")
        page.load(on_model, inputs=model, outputs=[card, inpaint_group, noise_group])
        model.change(on_model, inputs=model, outputs=[card, inpaint_group, noise_group])
        photo.change(on_photo, inputs=[photo, model], outputs=[editor, noise, status], api_visibility="private")
        go.click(run, inputs=[model, photo, mask_choice, editor, mask_file, seed, noise],
                 outputs=[compare, result, mask_used, status], api_name="restore")
    return page


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio  # noqa: F401
    except ImportError:
        sys.exit('error: the web app needs Gradio: pip install -e ".[app]"')
    paths = list_exports(FLAGS.models_dir, FLAGS.saved_model)
    if not paths:
        sys.exit(f"error: no export found under --models_dir={FLAGS.models_dir!r} and no --saved_model given")
    if FLAGS.max_upload_mb <= 0 or FLAGS.max_megapixels <= 0:
        sys.exit("error: --max_upload_mb and --max_megapixels must be > 0")
    models = Models(paths, FLAGS.tile, FLAGS.overlap)
    page = build_page(models, FLAGS.max_megapixels, FLAGS.max_upload_mb)
    print(f"{len(paths)} model(s): {', '.join(models.labels.values())}", flush=True)
    page.queue(default_concurrency_limit=1).launch(
        server_name=FLAGS.host, server_port=FLAGS.port or None, max_file_size=f"{FLAGS.max_upload_mb}mb",
        inbrowser=False, share=False, show_error=True, quiet=False)


if __name__ == "__main__":
    app.run(main)
