"""Seed 004 §2.2.4: the refinement autoencoder `refinement_ae` (64x64x3 -> 64x64x3), spec/models.md §9.

Seed: "Convolutions ... followed by pooling layer which is then passed through ReLu"; an encoder to a "relevant
layer of size 8192"; a decoder "by using UpSampling"; "Encoder 4 levels 1x8092" (typo for 8192), "Decoder 4
levels 64x64x3"; "Batch Normalization has been used in the AutoEncoder Model"; MSE.

  4 x [Conv 3x3 (64, 128, 256, 512) -> BN -> ReLU -> MaxPool 2] -> 4x4x512, Flatten = the 8192 code (Reshape
  back); 4 x [UpSampling 2 -> Conv 3x3 (256, 128, 64, 32) -> BN -> ReLU]; Conv 3x3 3, tanh -> 64x64x3.
  3,124,803 parameters (3,121,923 trainable). Filters, 3x3 kernels and tanh are spec proposals.

Value range [-1, 1] (the LSGAN's): input = a latent-inpainting completion (or, `--ae_input` noise mode, a noisy
original), output = the refined image, pasted into the hole by the task (seed eq. 2.7).
"""
from __future__ import annotations

import keras
from keras import layers

from keras_inpaint.precision import OUTPUT_DTYPE

def build_refinement_ae(input_shape, synchronized: bool = False) -> keras.Model:
    """The refinement autoencoder, 3,124,803 parameters: `[N, 64, 64, 3]` in [-1, 1] -> same shape (tanh)."""
    x_in = keras.Input(input_shape, name="completed_image")
    x = x_in
    for i, f in enumerate((64, 128, 256, 512), start=1):
        x = layers.Conv2D(f, 3, padding="same", name=f"enc{i}_conv")(x)
        x = layers.BatchNormalization(synchronized=synchronized, name=f"enc{i}_bn")(x)
        x = layers.ReLU(name=f"enc{i}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
    shape = tuple(x.shape[1:])
    x = layers.Flatten(name="code")(x)  # seed: the 8192-wide code
    x = layers.Reshape(shape, name="code_reshape")(x)
    for i, f in enumerate((256, 128, 64, 32), start=1):
        x = layers.UpSampling2D(2, name=f"dec{i}_up")(x)
        x = layers.Conv2D(f, 3, padding="same", name=f"dec{i}_conv")(x)
        x = layers.BatchNormalization(synchronized=synchronized, name=f"dec{i}_bn")(x)
        x = layers.ReLU(name=f"dec{i}_relu")(x)
    x = layers.Conv2D(input_shape[-1], 3, padding="same", activation="tanh", name="image", dtype=OUTPUT_DTYPE)(x)
    return keras.Model(x_in, x, name="refinement_ae")
