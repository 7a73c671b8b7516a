"""Seed 003 network: the residual convolutional autoencoder for x3 super-resolution (1,110,403 parameters).

Layer table: `shared/spec/models.md` §6 (R-SR, the widely copied Keras "Image Super Resolution using
Autoencoders" network, which matches the seed's description and its exact count "1,110,403 parámetros").
Seed 003 §5.3: two encoder blocks [Conv, Conv, MaxPool] with 3x3 filters and ReLU, a last conv; two decoder
blocks [UpSampling, Conv, Conv], a last conv; two residual connections. All convs are 3x3, stride 1, `same`,
ReLU, with `activity_regularizer=l1(10e-10)` as in R-SR (no parameters; computed in float32, `Float32L1`).
No normalisation.

The residual adds follow R-SR (003-a): after the *second* conv of each decoder block (l5 + l10, l2 + l14); the
seed's "capa 5 y 9, 2 y 13" names the first conv. Shapes and the parameter count are identical either way.
"""
from __future__ import annotations

import keras
from keras import layers, ops, regularizers

from keras_inpaint.precision import OUTPUT_DTYPE

SCALE = 3            # seed 003 §5.2: 120x120 -> 40x40 -> 120x120
SIZE_MULTIPLE = 4    # two 2x2 poolings: H and W must be multiples of 4 for the residual adds to line up


class Float32L1(regularizers.Regularizer):
    """`l1 * sum(|x|)` computed in float32, whatever the layer's compute dtype.

    R-SR's `regularizers.l1(10e-10)` activity regulariser, but safe under a mixed dtype policy: Keras' own L1
    returns the activation's dtype (bfloat16 under `mixed_bfloat16`), which `fit()` then fails to add to the
    float32 loss, and a bfloat16 sum over millions of activations also loses most of its digits.
    """

    def __init__(self, l1: float):
        self.l1 = float(l1)

    def __call__(self, x):
        return self.l1 * ops.sum(ops.absolute(ops.cast(x, "float32")))

    def get_config(self):
        return {"l1": self.l1}


def build_sr_autoencoder(input_shape=(None, None, 3), activity_l1: float = 10e-10) -> keras.Model:
    """Residual autoencoder of seed 003 (spec/models.md §6), fully convolutional.

    Table (output shapes for a 120x120 input):
      enc1_conv1 Conv 64 (120x120x64, 1,792) -> enc1_conv2 Conv 64 (36,928) -> pool1 MaxPool 2 (60x60x64) ->
      enc2_conv1 Conv 128 (60x60x128, 73,856) -> enc2_conv2 Conv 128 (147,584) -> pool2 MaxPool 2 (30x30x128)
      -> bottleneck Conv 256 (30x30x256, 295,168) -> up1 UpSampling 2 (60x60x256) -> dec1_conv1 Conv 128
      (295,040) -> dec1_conv2 Conv 128 (147,584) -> add1 = dec1_conv2 + enc2_conv2 -> up2 UpSampling 2
      (120x120x128) -> dec2_conv1 Conv 64 (73,792) -> dec2_conv2 Conv 64 (36,928) -> add2 = dec2_conv2 +
      enc1_conv2 -> output Conv 3 ReLU (120x120x3, 1,731). Total 1,110,403.

    Args:
      input_shape: (H, W, 3); H and W may be None (any size that is a multiple of 4 at call time) or fixed
        multiples of 4 (e.g. (120, 120, 3), seed 003's crop).
      activity_l1: the L1 activity-regularisation factor on every conv (R-SR: `l1(10e-10)`, i.e. 1e-9).
    Returns:
      keras.Model float32 `[N, H, W, 3]` bicubic-upsampled image in [0, 1] -> float32 `[N, H, W, 3]` in
      [0, inf) (ReLU output; callers clip to [0, 1], R-SR: `clip(model.predict(Y), 0, 1)`).
    Raises:
      ValueError: a fixed H or W that is not a multiple of 4.
    """
    for d in input_shape[:2]:
        if d is not None and d % SIZE_MULTIPLE:
            raise ValueError(f"input size {input_shape[:2]} must be a multiple of {SIZE_MULTIPLE} (two poolings)")

    def conv(filters, name, dtype=None):
        return layers.Conv2D(filters, 3, padding="same", activation="relu",
                             activity_regularizer=Float32L1(activity_l1), name=name, dtype=dtype)

    x_in = keras.Input(input_shape, name="bicubic_image")
    l1 = conv(64, "enc1_conv1")(x_in)
    l2 = conv(64, "enc1_conv2")(l1)
    l3 = layers.MaxPooling2D(2, padding="same", name="pool1")(l2)
    l4 = conv(128, "enc2_conv1")(l3)
    l5 = conv(128, "enc2_conv2")(l4)
    l6 = layers.MaxPooling2D(2, padding="same", name="pool2")(l5)
    l7 = conv(256, "bottleneck")(l6)
    l8 = layers.UpSampling2D(2, name="up1")(l7)
    l9 = conv(128, "dec1_conv1")(l8)
    l10 = conv(128, "dec1_conv2")(l9)
    l11 = layers.Add(name="add1")([l5, l10])
    l12 = layers.UpSampling2D(2, name="up2")(l11)
    l13 = conv(64, "dec2_conv1")(l12)
    l14 = conv(64, "dec2_conv2")(l13)
    l15 = layers.Add(name="add2")([l14, l2])
    out = conv(3, "output", dtype=OUTPUT_DTYPE)(l15)
    return keras.Model(x_in, out, name="sr_autoencoder")
