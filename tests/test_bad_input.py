"""Bad input at every entry point (issue 14, item 2): each case gets one clear line naming the file or flag, what
was expected and what was found, no Python traceback, and batch jobs go on with the other files. Every file
is written by the test itself."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_inpaint import exporting, prediction, registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
H, W = 40, 50


def _cli(*args, timeout=300):
    r = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=ENV, timeout=timeout)
    assert "Traceback" not in r.stdout + r.stderr, (r.stdout + r.stderr)[-3000:]
    return r


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """{case: path} of the image and mask files of item 2's list, written here."""
    d = tmp_path_factory.mktemp("bad_inputs")
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    f = {}

    def save(name, img, **kw):
        f[name] = str(d / name)
        img.save(f[name], **kw)

    save("ok.png", Image.fromarray(rgb))
    save("full.jpg", Image.fromarray(rgb))
    raw = open(f["full.jpg"], "rb").read()
    f["truncated.jpg"] = str(d / "truncated.jpg")
    open(f["truncated.jpg"], "wb").write(raw[:len(raw) // 2])
    f["empty.jpg"] = str(d / "empty.jpg")
    open(f["empty.jpg"], "wb").close()
    f["text.png"] = str(d / "text.png")
    open(f["text.png"], "w").write("not an image")
    save("rgba.png", Image.fromarray(np.dstack([rgb, np.where(np.arange(W) < 10, 0, 255)[None].repeat(H, 0)
                                                .astype(np.uint8)])))
    save("palette.png", Image.fromarray(rgb).convert("P"))
    save("cmyk.jpg", Image.fromarray(rgb).convert("CMYK"))
    gray16 = np.tile(np.linspace(0, 65535, W).astype(np.uint16), (H, 1))
    save("gray16.png", Image.fromarray(gray16))
    save("gray.png", Image.fromarray(rgb[..., 0]))
    save("one_pixel.png", Image.fromarray(rgb[:1, :1]))
    save("odd_7x9.png", Image.fromarray(rgb[:7, :9]))
    masks = d / "masks"
    masks.mkdir()
    f["mask_dir"] = str(masks)
    for name, m in (("small", np.zeros((10, 10))), ("empty", np.zeros((H, W))), ("full", np.full((H, W), 255)),
                    ("grey", np.where(np.arange(W) < 20, 200, 100)[None].repeat(H, 0))):
        save(f"masks/mask_{name}.png", Image.fromarray(m.astype(np.uint8)))
    for name in ("empty_dir", "unreadable_dir"):
        (d / name).mkdir()
        f[name] = str(d / name)
    for name in ("a.jpg", "b.png"):
        open(os.path.join(f["unreadable_dir"], name), "w").write("not an image")
    return f


# --- reading images: the documented conversion rule ------------------------------------------------------
def test_every_image_mode_is_converted_to_rgb_by_the_documented_rule(files):
    for name in ("ok.png", "full.jpg", "rgba.png", "palette.png", "cmyk.jpg", "gray16.png", "gray.png"):
        image, alpha = prediction.read_image(files[name])
        assert image.dtype == np.uint8 and image.shape == (H, W, 3), name
        assert (alpha is not None) == (name == "rgba.png"), name
    grey16, _ = prediction.read_image(files["gray16.png"])
    assert grey16[0, 0, 0] == 0 and grey16[0, -1, 0] == 255          # 16-bit scaled, not clipped at 255
    assert 120 <= grey16[0, W // 2, 1] <= 135
    gray, _ = prediction.read_image(files["gray.png"])
    assert (gray[..., 0] == gray[..., 2]).all()


@pytest.mark.parametrize("name, found", [("truncated.jpg", "OSError: image file is truncated"),
                                         ("empty.jpg", "UnidentifiedImageError"),
                                         ("text.png", "UnidentifiedImageError")])
def test_unreadable_files_are_one_clear_error(files, name, found):
    with pytest.raises(prediction.PredictError, match=f"{name}: not a readable image \\({found}"):
        prediction.read_image(files[name])


# --- masks ------------------------------------------------------------------------------------------------
def test_mask_errors_name_the_file_and_what_was_expected(files, capsys):
    image, alpha = prediction.read_image(files["ok.png"])
    d, photo = files["mask_dir"], files["ok.png"]
    cases = {
        f"{d}/mask_small.png": f"{photo}: mask {d}/mask_small.png is 10x10, the image is 50x40; a mask file must "
                               "have the image's size",
        f"{d}/mask_empty.png": f"{photo}: the mask has no hole pixel (white >= 128 / transparent): nothing to fill",
        f"{d}/mask_full.png": f"{photo}: the mask covers the whole image: no known pixel to fill from",
        "alpha": f"{photo}: --mask=alpha, but the image has no alpha channel",
        "box:40,30,20,20": f"{photo}: box 40,30,20,20 does not fit in the 50x40 image",
        "box:1,2": "--mask='box:1,2': expected box:x,y,w,h in pixels",
        files["text.png"]: f"--mask {files['text.png']}: not a readable image (UnidentifiedImageError)",
        f"{d}/missing.png": f"--mask {d}/missing.png: no such file (expected a mask image file, alpha, centre, "
                            "box:x,y,w,h, free_form:thin|medium|thick|boxes, brush or brush:x,y,w,h)",
    }
    for spec, line in cases.items():
        with pytest.raises(prediction.PredictError) as e:
            prediction.parse_mask(spec, photo, image, alpha, (0, 0))
        assert str(e.value) == line
    grey = prediction.parse_mask(f"{d}/mask_grey.png", photo, image, alpha, (0, 0))   # threshold 128, warned
    assert grey[:, :20].all() and not grey[:, 20:].any()
    assert f"warning: {photo}: mask {d}/mask_grey.png has grey values; pixels >= 128 are the hole" in \
        capsys.readouterr().err
    rgba, rgba_alpha = prediction.read_image(files["rgba.png"])                      # the alpha channel as mask
    hole = prediction.parse_mask("alpha", files["rgba.png"], rgba, rgba_alpha, (0, 0))
    assert hole[:, :10].all() and not hole[:, 10:].any()


# --- predict.py: a folder of every bad file ---------------------------------------------------------------
def test_predict_cli_writes_every_good_file_and_one_line_per_bad_one(files, tmp_path):
    folder = os.path.dirname(files["ok.png"])
    r = _cli("predict.py", "--saved_model=saved_models/sr_autoencoder/1", f"--input={folder}",
             f"--output_dir={tmp_path / 'out'}")
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3, r.stderr[-3000:]
    for name in ("empty.jpg", "text.png"):
        assert (f"error: {files[name]}: not a readable image (UnidentifiedImageError: cannot identify image file "
                f"'{files[name]}')") in errors
    assert any(e.startswith(f"error: {files['truncated.jpg']}: not a readable image (OSError: image file is "
                            "truncated") for e in errors)
    written = sorted(os.listdir(tmp_path / "out"))
    assert written == sorted(["cmyk.png", "full.png", "gray.png", "gray16.png", "odd_7x9.png", "ok.png",
                              "one_pixel.png", "palette.png", "rgba.png"])
    assert Image.open(tmp_path / "out" / "odd_7x9.png").size == (27, 21)          # x3, the odd size kept
    assert Image.open(tmp_path / "out" / "one_pixel.png").size == (3, 3)
    assert f"Wrote 9 of 12 to {tmp_path / 'out'}; 3 failed" in r.stdout


def test_predict_cli_errors_for_a_missing_model_and_an_empty_input(files, tmp_path):
    r = _cli("predict.py", f"--saved_model={files['empty_dir']}", f"--input={files['ok.png']}",
             f"--output_dir={tmp_path}")
    assert r.returncode != 0 and r.stderr.strip().splitlines()[-1] == (
        f"error: '{files['empty_dir']}' is not a SavedModel directory (no saved_model.pb); expected "
        "saved_models/<model>/<version>")
    r = _cli("predict.py", "--saved_model=saved_models/sr_autoencoder/1", f"--input={files['empty_dir']}",
             f"--output_dir={tmp_path}")
    assert r.returncode != 0 and r.stderr.strip().splitlines()[-1] == (
        f"error: --input '{files['empty_dir']}': no such file, no image file in that directory, or no match")


# --- train.py / evaluate.py / export.py ---------------------------------------------------------------------
# (args, the error line). train.py's `main` ends every settings error with `sys.exit("error: ...")`, which Python
# prints as that one line; those cases run `main` in this process (a TensorFlow start-up less each, issue 36),
# and two of them also through the real command line: absl's own flag error and one `main` error, which checks
# the printing and that no traceback reaches the user.
TRAIN_CASES = [
    (["--model=context_encoder", "--steps=0"], "error: --steps must be a positive integer, got 0"),
    (["--model=context_encoder", "--batch_size=-2"], "error: --batch_size must be a positive integer, got -2"),
    (["--model=sr_autoencoder", "--mask=centre"], "error: model 'sr_autoencoder' has no option(s) mask; valid "
                                                  "options: none"),
    (["--model=dcgan_inpaint", "--dataset=celeb_a"], "error: Dataset 'celeb_a' is not prepared in "),
    (["--model=context_encoder", "--dataset=folder:{empty_dir}"], "error: folder dataset: no image files (.jpg, "
                                                                  ".jpeg, .png, .bmp, .gif) under '{empty_dir}'"),
    (["--model=context_encoder", "--dataset=folder:{unreadable_dir}"],
     "error: folder:{unreadable_dir}: no readable image in its 'train' split (every file failed to decode: not an "
     "image, truncated or empty)"),
    (["--model=context_encoder", "--dataset=folder:{empty_dir}/missing"],
     "error: folder dataset: '{empty_dir}/missing' is not a directory (use --dataset=folder:PATH with a folder of "
     "JPEG/PNG images)"),
    (["--model=context_encoder", "--strategy=multi_worker", "--devices=/gpu:0"],
     "error: --devices only applies to --strategy=mirrored, got --strategy=multi_worker"),
]


@pytest.fixture(scope="module")
def train_main():
    """`train_main(*argv)` parses `argv` as train.py's flags and runs its `main` in this process; returns the
    message `main` exits with (SystemExit's code)."""
    sys.path.insert(0, ROOT)
    import train

    def call(*argv) -> str:
        train.FLAGS.unparse_flags()
        train.FLAGS(["train.py", *argv])
        with pytest.raises(SystemExit) as e:
            train.main([])
        return str(e.value.code)
    yield call
    train.FLAGS.unparse_flags()


@pytest.mark.parametrize("args, line", TRAIN_CASES)
def test_train_bad_settings_end_main_with_one_error_line(files, tmp_path, tfds_dir, train_main, args, line):
    message = train_main(*[a.format(**files) for a in args], "--no_download", f"--data_dir={tfds_dir}",
                         f"--output_dir={tmp_path / 'run'}", "--export_dir=")
    assert "\n" not in message and message.startswith(line.format(**files)), message


@pytest.mark.parametrize("args, line", [
    (["--model=no_such_model"], "FATAL Flags parsing error: flag --model=no_such_model: value should be one of "
                                "<context_encoder|"),
    TRAIN_CASES[0]])
def test_train_cli_bad_settings_are_one_line(files, tmp_path, tfds_dir, args, line):
    r = _cli("train.py", *args, "--no_download", f"--data_dir={tfds_dir}", f"--output_dir={tmp_path / 'run'}",
             "--export_dir=")
    assert r.returncode != 0
    last = [l for l in r.stderr.splitlines() if l.startswith(("error:", "FATAL"))]
    assert last and last[-1].startswith(line), r.stderr[-2000:]


def test_evaluate_and_export_cli_bad_inputs_are_one_line(files, tmp_path, tfds_dir):
    r = _cli("evaluate.py", f"--saved_model={files['empty_dir']}", "--dataset=mnist", f"--data_dir={tfds_dir}")
    assert r.returncode != 0 and r.stderr.strip().splitlines()[-1] == (
        f"error: '{files['empty_dir']}' is not a SavedModel directory (no saved_model.pb); expected "
        "saved_models/<model>/<version>")
    r = _cli("evaluate.py", "--saved_model=saved_models/sr_autoencoder/1", f"--dataset=folder:{files['unreadable_dir']}",
             "--split=all")
    assert r.returncode != 0 and r.stderr.strip().splitlines()[-1] == (
        "error: evaluation set is empty: no readable image (the split has none, or every file failed to decode: "
        "not an image, truncated or empty)")
    r = _cli("export.py", f"--run_dir={files['empty_dir']}")
    assert r.returncode != 0 and r.stderr.strip().splitlines()[-1] == (
        f"error: {files['empty_dir']}/config.json not found: --run_dir must be a directory written by train.py")


# --- the SavedModel signatures --------------------------------------------------------------------------------
def test_signatures_refuse_float_and_wrong_channel_tensors_with_one_clear_line(tmp_path):
    """An RGBA, grayscale or float tensor passed to a uint8 RGB signature fails before any convolution, with a
    message naming the input, the dtype and shape the signature expects and what it got (not "input depth
    must be evenly divisible by filter depth: 4 vs 3"); so do a mask with 3 channels and an unbatched image."""
    spec = registry.get("free_form_inpaint")
    path = str(tmp_path / "1")
    exporting.export_network(spec, spec.build_network(), path, {"id": spec.id}, task=spec.task())
    serve = tf.saved_model.load(path).signatures["serving_default"]
    mask = tf.zeros([1, 8, 8, 1])
    assert serve(images=tf.zeros([1, 8, 8, 3], tf.uint8), mask=mask)["images"].shape == (1, 8, 8, 3)
    rgb = "images: expected uint8 [N, any, any, 3] (RGB: convert RGBA / grayscale images to 3 channels first)"
    for images, mask_in, message in (
            (tf.zeros([1, 8, 8, 4], tf.uint8), mask, f"{rgb}, got uint8 [1, 8, 8, 4]"),      # RGBA
            (tf.zeros([1, 8, 8, 1], tf.uint8), mask, f"{rgb}, got uint8 [1, 8, 8, 1]"),      # grayscale
            (tf.zeros([8, 8, 3], tf.uint8), mask[0], f"{rgb}, got uint8 [8, 8, 3]"),          # no batch axis
            (tf.zeros([1, 8, 8, 3], tf.uint8), tf.zeros([1, 8, 8, 3]),
             "mask: expected float32 [N, any, any, 1], got float32 [1, 8, 8, 3]")):
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            serve(images=images, mask=mask_in)
        msg = str(e.value)
        assert re.search(r"^assertion failed: \[" + re.escape(message) + r"\]$", msg, re.M), msg[:2000]
        assert "filter depth" not in msg and "Conv" not in msg
    # a float tensor is refused by TensorFlow before the graph runs; the function's name lists the inputs
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        serve(images=tf.zeros([1, 8, 8, 3], tf.float32), mask=mask)
    assert re.fullmatch(r"cannot compute __inference_signature_wrapper_images_uint8_N_any_any_3__mask_float32_N_any_"
                        r"any_1_\d+ as input #0\(zero-based\) was expected to be a uint8 tensor but is a float tensor "
                        r"\[Op:__inference_signature_wrapper_images_uint8_N_any_any_3__mask_float32_N_any_any_1_\d+\]",
                        str(e.value)), str(e.value)