"""Command lines beyond the top-level train.py / export.py / evaluate.py / predict.py: `python -m keras_inpaint.cli.<name>`."""
