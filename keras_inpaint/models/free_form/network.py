"""`free_form_inpaint`: a fully convolutional gated-convolution inpainter for free-form masks (issue 13).

Beyond the seeds. The generator is the coarse network of DeepFill v2 (Yu et al., "Free-Form Image Inpainting
with Gated Convolution", ICCV 2019, §3.1 and Fig. 3), with DeepFill's layer pattern at a width this CPU can
train (`width=24` where DeepFill v2 uses 48) and dilations 2, 4, 8 (DeepFill's 16 sees only padding at the
16x16 bottleneck of a 64x64 face). Every layer is a gated convolution, `ELU(conv_f(x)) * sigmoid(conv_g(x))`
(§3.1, eq. 2): the learned gate is what lets one network handle holes of any shape. The discriminator is a
PatchGAN (Isola et al. 2017, pix2pix §3.2.2) whose intermediate activations also serve the feature-matching
loss of pix2pixHD (Wang et al. 2018, §3.2, eq. 4). LaMa (Suvorov et al. 2022) is the source of the training
masks (`keras_inpaint.corruptions.free_form_mask`).

  G (input: the image with its hole set to 0 and the mask, concatenated, [N, H, W, 4]; H, W multiples of 4):
     gconv1   5x5      w    (H)        gconv2   3x3 /2  2w   (H/2)      gconv3  3x3  2w
     gconv4   3x3 /2  4w    (H/4)      gconv5   3x3     4w
     atrous1  3x3 d2  4w               atrous2  3x3 d4  4w               atrous3 3x3 d8  4w
     gconv9   3x3     4w
     up1 (nearest x2) gconv 3x3 2w  (H/2)   gconv11 3x3 2w
     up2 (nearest x2) gconv 3x3  w  (H)     gconv13 3x3 w/2
     image    3x3 conv, 3 channels, tanh; then paste-back of the known pixels (SPEC §2), float32.
     At width w = 24: 1,131,711 parameters (computed here).
  D (PatchGAN on a [N, H, W, 3] image in [-1, 1]):
     conv1 4x4/2 w LeakyReLU(0.2); conv2 4x4/2 2w, conv3 4x4/2 4w, conv4 4x4/1 4w, each BN + LeakyReLU(0.2);
     logits 4x4/1 1 (linear: `bce_logits`). Outputs [logits, conv1, conv2, conv3, conv4] (the last four for
     feature matching). 64x64 input -> 8x8 patch logits; at w = 32 (half pix2pix's 64), 431,201 parameters
     (computed here).
"""
from __future__ import annotations

import keras
from keras import layers

from keras_inpaint.precision import OUTPUT_DTYPE

MULTIPLE = 4                # two stride-2 gated convolutions: H and W must be multiples of 4 (tasks pad)
GENERATOR_WIDTH, DISCRIMINATOR_WIDTH = 24, 32   # measured on this 2-core CPU: ~12 training img/s at batch 32


@keras.saving.register_keras_serializable(package="keras_inpaint")
class GatedConv2D(layers.Layer):
    """Gated convolution (Yu et al. 2019, eq. 2): `ELU(W_f * x) * sigmoid(W_g * x)`.

    One `Conv2D` with `2 * filters` output channels (features and gates), 'same' padding.
    Input `[N, H, W, C]` -> `[N, H / strides, W / strides, filters]` in the layer's compute dtype.
    """

    def __init__(self, filters: int, kernel_size: int, strides: int = 1, dilation_rate: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = int(filters), int(kernel_size)
        self.strides, self.dilation_rate = int(strides), int(dilation_rate)
        self.conv = layers.Conv2D(2 * self.filters, self.kernel_size, strides=self.strides,
                                  dilation_rate=self.dilation_rate, padding="same", name="conv",
                                  dtype=self.dtype_policy)

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, x):
        features, gates = keras.ops.split(self.conv(x), 2, axis=-1)
        return keras.activations.elu(features) * keras.activations.sigmoid(gates)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)[:-1] + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "dilation_rate": self.dilation_rate}


@keras.saving.register_keras_serializable(package="keras_inpaint")
class PasteBack(layers.Layer):
    """SPEC §2 paste-back inside the network: `(1 - m) * known + m * prediction`, float32.

    Inputs: `[network_input, prediction]`, network_input `[N, H, W, C + 1]` (the image with its hole, then the
    mask, 1.0 = hole), prediction `[N, H, W, C]`. Output `[N, H, W, C]` float32: known pixels exactly as given.
    """

    def call(self, inputs):
        network_input, prediction = inputs
        network_input = keras.ops.cast(network_input, "float32")
        known, mask = network_input[..., :-1], network_input[..., -1:]
        return known * (1.0 - mask) + keras.ops.cast(prediction, "float32") * mask

    def compute_output_shape(self, input_shape):
        return input_shape[1]


def build_free_form_generator(input_shape=(None, None, 4), width: int = GENERATOR_WIDTH) -> keras.Model:
    """The gated-convolution generator (module docstring table), fully convolutional.

    Input: float32 `[N, H, W, 4]`: channels 0-2 the image in [-1, 1] with the hole set to 0, channel 3 the
    mask (1.0 = hole); H, W multiples of `MULTIPLE` (4) -- `tasks.run_padded` pads other sizes.
    Output: float32 `[N, H, W, 3]` in [-1, 1], the prediction pasted into the hole (known pixels unchanged).

    Args:
      input_shape: (H, W, 4), H and W None (any size) or multiples of 4.
      width: channels of the first layer (w in the table; `GENERATOR_WIDTH` gives the entry's `params`).
    Raises:
      ValueError: a static H or W not a multiple of 4, or fewer than 2 input channels.
    """
    h, w_, c = input_shape
    if any(s is not None and s % MULTIPLE for s in (h, w_)):
        raise ValueError(f"input {h}x{w_} must be a multiple of {MULTIPLE} (two stride-2 convolutions)")
    if c is None or c < 2:
        raise ValueError(f"input needs the image channels and the mask channel, got {c} channels")
    x_in = keras.Input(input_shape, name="masked_image_and_mask")
    x = GatedConv2D(width, 5, name="gconv1")(x_in)
    x = GatedConv2D(2 * width, 3, strides=2, name="gconv2")(x)
    x = GatedConv2D(2 * width, 3, name="gconv3")(x)
    x = GatedConv2D(4 * width, 3, strides=2, name="gconv4")(x)
    x = GatedConv2D(4 * width, 3, name="gconv5")(x)
    for i, rate in enumerate((2, 4, 8), start=1):
        x = GatedConv2D(4 * width, 3, dilation_rate=rate, name=f"atrous{i}")(x)
    x = GatedConv2D(4 * width, 3, name="gconv9")(x)
    x = layers.UpSampling2D(2, interpolation="nearest", name="up1_resize")(x)
    x = GatedConv2D(2 * width, 3, name="up1")(x)
    x = GatedConv2D(2 * width, 3, name="gconv11")(x)
    x = layers.UpSampling2D(2, interpolation="nearest", name="up2_resize")(x)
    x = GatedConv2D(width, 3, name="up2")(x)
    x = GatedConv2D(width // 2, 3, name="gconv13")(x)
    x = layers.Conv2D(c - 1, 3, padding="same", activation="tanh", name="image", dtype=OUTPUT_DTYPE)(x)
    out = PasteBack(name="paste_back", dtype=OUTPUT_DTYPE)([x_in, x])
    return keras.Model(x_in, out, name="free_form_generator")


def build_patch_discriminator(input_shape, width: int = DISCRIMINATOR_WIDTH,
                              synchronized: bool = False) -> keras.Model:
    """PatchGAN discriminator with feature outputs (module docstring table).

    Input: float32 `[N, H, W, 3]` in [-1, 1]. Outputs: `[logits, f1, f2, f3, f4]`: logits float32
    `[N, H/8, W/8, 1]` (linear, one real/fake verdict per patch), f1..f4 the activations after each conv block
    (float32, for `AdversarialTrainer`'s feature-matching loss).

    Args:
      input_shape: (H, W, C), H and W multiples of 8.
      width: channels of conv1 (conv2-conv4: 2, 4 and 4 times as many).
      synchronized: BatchNorm with cross-replica statistics (SPEC §5) for multi-replica strategies.
    """
    x_in = keras.Input(input_shape, name="image")
    x = layers.Conv2D(width, 4, strides=2, padding="same", name="conv1")(x_in)
    features = [layers.LeakyReLU(0.2, name="conv1_lrelu")(x)]
    for i, (f, s) in enumerate(((2 * width, 2), (4 * width, 2), (4 * width, 1)), start=2):
        x = layers.Conv2D(f, 4, strides=s, padding="same", name=f"conv{i}")(features[-1])
        x = layers.BatchNormalization(synchronized=synchronized, name=f"conv{i}_bn")(x)
        features.append(layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(x))
    logits = layers.Conv2D(1, 4, padding="same", name="logits", dtype=OUTPUT_DTYPE)(features[-1])
    features = [layers.Activation("linear", dtype=OUTPUT_DTYPE, name=f"feature{i}")(f)
                for i, f in enumerate(features, start=1)]
    return keras.Model(x_in, [logits, *features], name="patch_discriminator")
