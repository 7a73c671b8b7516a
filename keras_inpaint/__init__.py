"""keras_inpaint: Keras 3 / TensorFlow image reconstruction (inpainting, denoising, super-resolution) from five
papers (see README.md and SPEC). Modules: registry (model ids), models/ (builders), data, corruptions, tasks,
losses/metrics, training/, evaluation, exporting (writing an export), artifact (reading one), prediction."""

__version__ = "0.1.0"
