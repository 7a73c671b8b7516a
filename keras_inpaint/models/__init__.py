"""The model families, one folder each (`<family>/network.py`: the builders, the paper's layer tables;
`<family>/entry.py`: the family's registry entries, registered where they are defined), and `layers.py`, the layers
several networks share. `keras_inpaint.registry` imports every family's entry."""
