"""`dcgan` (seed 001's code: the z -> image DCGAN face prior and its z-search inpainter).

`network.py`: the networks (importing only `keras_inpaint.precision` and other networks); `entry.py`: their
registry entries, imported by `keras_inpaint.registry` and never from here, so that a network imports without the
tasks or the registry.
"""
