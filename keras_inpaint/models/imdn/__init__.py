"""`imdn_x2`, `imdn_x3`, `imdn_x4` (IMDN photo super-resolvers; issue 32).

`network.py`: the networks (importing only `keras_inpaint.precision` and other networks); `entry.py`: their
registry entries, imported by `keras_inpaint.registry` and never from here, so that a network imports without the
tasks or the registry.
"""
