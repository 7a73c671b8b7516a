"""app.py, the local web page (issue 34), in a real browser and through its HTTP API.

One app server (python app.py on a free 127.0.0.1 port) serves both tests. The browser test drives Debian's
headless Chromium through its chromedriver (apt packages `chromium` and `chromium-driver`; .ci/run installs
them; nothing is downloaded): it uploads a Set14 photo, brushes a stroke with mouse events on the editor's
canvas, runs free_form_inpaint/3 and checks that the page's PNG equals what `prediction.Predictor` (predict.py's
code path) makes of the same photo and the mask the page used (downloaded from the page, as predict.py would
read it with --mask=<that file>); then a mask of the wrong size shows predict.py's own error line in the page.
Without Chromium the test fails (it does not skip) and says how to install it.

The API test calls the /restore endpoint with gradio_client for the shipped super-resolver and denoiser and
compares with Predictor the same way. Set KERAS_INPAINT_APP_SCREENSHOT=docs/app.png to keep the screenshot.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

from keras_inpaint import prediction

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(ROOT, "saved_models")
CHROMIUM, CHROMEDRIVER = "chromium", "chromedriver"
INSTALL = "apt-get install -y chromium chromium-driver (what .ci/run does)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shipped_denoiser() -> str:
    """The photo denoiser ffdnet if one is shipped (the newest version), else denoising_ae_fashion/1."""
    versions = sorted((int(v) for v in os.listdir(os.path.join(SHIPPED, "ffdnet")) if v.isdigit())
                      if os.path.isdir(os.path.join(SHIPPED, "ffdnet")) else [])
    return f"ffdnet/{versions[-1]}" if versions else "denoising_ae_fashion/1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """URL of `python app.py` on a free localhost port (stopped after the module's tests)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "app.py", f"--port={port}"], cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 240
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{open(log).read()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail(f"app.py did not answer on {url} in 240 s:\n{open(log).read()[-3000:]}")
            time.sleep(1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _predict(model: str, photo: str, mask_file: str | None = None) -> np.ndarray:
    """predict.py's result for `photo` (and `--mask=mask_file`), through the same Predictor."""
    predictor = prediction.Predictor(os.path.join(SHIPPED, model))
    image, alpha = prediction.read_image(photo)
    mask = prediction.parse_mask(mask_file, photo, image, alpha, (0, 0))
    return predictor.predict(image, mask, alpha=alpha)


def _browser():
    missing = [b for b in (CHROMIUM, CHROMEDRIVER) if shutil.which(b) is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: the browser test needs Debian's Chromium: {INSTALL}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1500", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(shutil.which(CHROMEDRIVER)), options=options)


def _download(driver, css: str, dest) -> str:
    """Saves the file linked in the page element `css` (a gr.File output) to `dest`."""
    from selenium.webdriver.common.by import By

    href = driver.find_element(By.CSS_SELECTOR, f"{css} a[href]").get_attribute("href")
    with urllib.request.urlopen(href, timeout=30) as r, open(dest, "wb") as f:
        f.write(r.read())
    return str(dest)


def test_browser_brush_a_hole_and_run_free_form_inpaint(server, benchmarks_dir, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    photo = os.path.realpath(os.path.join(benchmarks_dir, "Set14", "face.png"))   # chromedriver: no ".."
    driver = _browser()
    try:
        driver.get(server)
        wait = WebDriverWait(driver, 180)
        wait.until(lambda d: "free_form_inpaint/3" in d.find_element(By.ID, "card").text)
        driver.find_element(By.CSS_SELECTOR, "#photo input[type=file]").send_keys(photo)
        # the server has read the photo (its line) and put it in the editor; the canvas draws it
        wait.until(lambda d: "face.png: 276x276; brush the hole" in d.find_element(By.ID, "status").text)
        canvas = driver.find_element(By.CSS_SELECTOR, "#editor .pixi-target canvas")
        time.sleep(2)
        # one brush stroke across the middle of the canvas (the photo sits in its centre)
        ActionChains(driver).move_to_element_with_offset(canvas, -40, -10).click_and_hold() \
            .move_by_offset(20, 5).move_by_offset(20, 5).move_by_offset(20, 5).move_by_offset(20, 5) \
            .release().perform()
        time.sleep(1)
        driver.find_element(By.ID, "run").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#result a[href]")
                   and d.find_elements(By.CSS_SELECTOR, "#mask_used a[href]"))
        shot = tmp_path / "app.png"
        driver.save_screenshot(str(shot))
        if os.environ.get("KERAS_INPAINT_APP_SCREENSHOT"):   # docs/app.png: 256 colours keep it ~200 KB
            Image.open(shot).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(
                os.environ["KERAS_INPAINT_APP_SCREENSHOT"], optimize=True)
        result = np.asarray(Image.open(_download(driver, "#result", tmp_path / "result.png")))
        mask_file = _download(driver, "#mask_used", tmp_path / "face_mask.png")
        mask = np.asarray(Image.open(mask_file))
        assert mask.shape == (276, 276) and set(np.unique(mask)) == {0, 255}
        assert 100 < (mask == 255).sum() < 0.2 * mask.size       # a stroke, not nothing nor everything
        np.testing.assert_array_equal(result, _predict("free_form_inpaint/3", photo, mask_file))
        assert np.array_equal(result[mask == 0], np.asarray(Image.open(photo).convert("RGB"))[mask == 0])

        # a bad mask: predict.py's own error line, in the page; the server keeps serving
        small = tmp_path / "small_mask.png"
        Image.new("L", (10, 10), 255).save(small)
        driver.find_element(By.CSS_SELECTOR, "#mask_choice input[value=file]").click()
        driver.find_element(By.CSS_SELECTOR, "#mask_file input[type=file]").send_keys(str(small))
        time.sleep(2)
        driver.find_element(By.ID, "run").click()
        line = ("error: face.png: mask small_mask.png is 10x10, the image is 276x276; a mask file must have the "
                "image's size")
        wait.until(lambda d: line in d.find_element(By.TAG_NAME, "body").text)
    finally:
        driver.quit()
    with urllib.request.urlopen(server, timeout=10) as r:
        assert r.status == 200


def test_api_super_resolves_and_denoises_as_predict_does(server, benchmarks_dir, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    client = Client(server, verbose=False)
    photo = str(tmp_path / "face_crop.png")       # a small crop keeps the test quick; any size works
    Image.open(os.path.join(benchmarks_dir, "Set14", "face.png")).crop((60, 40, 160, 120)).save(photo)
    for model in ("sr_autoencoder/1", shipped_denoiser()):
        pair, result, mask_used, line = client.predict(model, handle_file(photo), "drawn", None, None, 0, None,
                                                       api_name="/restore")
        out = np.asarray(Image.open(result))
        np.testing.assert_array_equal(out, _predict(model, photo))
        scale = 3 if model.startswith("sr_") else 1
        assert out.shape == (80 * scale, 100 * scale, 3) and mask_used is None
        assert line.startswith(f"{model}: face_crop.png 100x80 -> {100 * scale}x{80 * scale}")
    rgba = str(tmp_path / "face_rgba.png")          # an RGBA photo keeps its alpha, as predict.py keeps it
    alpha = np.tile(np.linspace(0, 255, 100).astype(np.uint8), (80, 1))
    Image.fromarray(np.dstack([np.asarray(Image.open(photo).convert("RGB")), alpha])).save(rgba)
    _, result, _, _ = client.predict("sr_autoencoder/1", handle_file(rgba), "drawn", None, None, 0, None,
                                     api_name="/restore")
    out = np.asarray(Image.open(result))
    assert out.shape == (240, 300, 4)
    np.testing.assert_array_equal(out, _predict("sr_autoencoder/1", rgba))
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(AppError, match=r"^error: notes.png: not a readable image \(UnidentifiedImageError: "
                                       r"cannot identify image file 'notes.png'\)$"):
        client.predict("sr_autoencoder/1", handle_file(str(bad)), "drawn", None, None, 0, None, api_name="/restore")
