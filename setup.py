"""keras_inpaint: Keras 3 / TensorFlow image inpainting, denoising and super-resolution from five papers.

Tested ranges: Python 3.10-3.12, TensorFlow 2.16-2.21 with Keras 3 (3.3-3.15), tensorflow-datasets 4.9.
CI installs exactly the versions pinned in .ci/run (TF 2.21.0, Keras 3.15.1, tfds 4.9.10). Extras: `app` (the
web page, app.py), `export` (ONNX / LiteRT files), `browser` (the browser test); `test` holds all three.
"""
from setuptools import find_packages, setup

# python app.py (the local web page) and its API client; tested: gradio 6.31.0, gradio_client 2.7.2
APP = ["gradio>=6.31,<7", "gradio_client>=2.7,<3"]
# export.py --format=onnx|litert and running the files; tested: tf2onnx 1.17.0, onnx 1.23.2, onnxruntime 1.31.1,
# ai-edge-litert 2.3.0
EXPORT = ["tf2onnx>=1.17,<2", "onnx>=1.17,<2", "onnxruntime>=1.20,<2", "ai-edge-litert>=2.0,<3"]
# the browser test drives Debian's chromium through its chromedriver; tested: selenium 4.50.0
BROWSER = ["selenium>=4.20,<5"]
# `[eval]`: the classical inpainting baselines of the photo inpainter's evaluation (keras_inpaint/classical.py):
# OpenCV's cv2.inpaint (Telea, Navier-Stokes); scikit-image (biharmonic) is a core dependency already. `[test]`
# pulls it too. Tested: opencv-python-headless 5.1.0.95.
EVAL = ["opencv-python-headless>=4.8,<6"]

setup(
    name="keras_inpaint",
    version="0.1.0",
    description="Keras 3 image reconstruction (inpainting, denoising, super-resolution) reproducing five papers",
    long_description=open("README.md", encoding="utf-8").read() if __import__("os").path.exists("README.md") else "",
    long_description_content_type="text/markdown",
    packages=find_packages(include=["keras_inpaint", "keras_inpaint.*"]),
    python_requires=">=3.10,<3.13",
    install_requires=[
        "tensorflow>=2.16,<2.22",
        "keras>=3.3,<3.16",
        "tensorflow-datasets>=4.9,<4.10",
        "numpy>=1.26,<3",
        "pillow>=10,<14",
        "absl-py>=2,<3",
        "tensorboard>=2.16,<2.22",
        # photo denoising: skimage.restoration.estimate_sigma (predict.py without --noise_level) needs PyWavelets
        "scikit-image>=0.22,<0.27",
        "PyWavelets>=1.4,<2",
    ],
    extras_require={
        # the tests need every extra below (tests/test_app.py also needs Debian's chromium and chromium-driver,
        # which .ci/run installs with apt)
        "test": ["pytest>=8,<10", "pytest-xdist>=3.5,<4", *EVAL, *APP, *EXPORT, *BROWSER],
        "eval": EVAL,
        "app": APP,
        "export": EXPORT,
        "browser": BROWSER,
    },
)
