"""Network builders, one module per paper family (see `keras_inpaint.registry` for the id -> builder map)."""
