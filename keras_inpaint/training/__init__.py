"""Training loops: `run.train` (fit with resume, TensorBoard, evaluation and export) and its callbacks."""
