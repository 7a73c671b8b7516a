"""`ffdnet_inpaint` (a photo inpainter: FFDNet's layers refining a smooth fill of the hole; issue 37).

`network.py`: the network (importing only other networks and `keras_inpaint.precision`); `entry.py`: its registry
entry, imported by `keras_inpaint.registry` and never from here.
"""
