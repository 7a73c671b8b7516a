"""`denoising_ae_mnist`, `denoising_ae_fashion` and `denoising_ae_ffhq` (seed 002's autoencoders).

`network.py`: the networks (importing only `keras_inpaint.precision` and other networks); `entry.py`: their
registry entries, imported by `keras_inpaint.registry` and never from here, so that a network imports without the
tasks or the registry.
"""
