"""`lama_ffc`: a small LaMa generator for photo inpainting (issue 37): fast Fourier convolution ResNet blocks.

Design: Suvorov et al., "Resolution-robust Large Mask Inpainting with Fourier Convolutions" (LaMa, WACV 2022):
§3.1 "Global context within early layers" and Fig. 2 (a ResNet-like inpainting network of 3 downsampling
blocks, residual blocks of fast Fourier convolutions and 3 upsampling blocks; the input is the image with its
hole zeroed and the mask, 4 channels); the FFC itself is Chi, Jiang, Mu, "Fast Fourier Convolution" (NeurIPS
2020, §3). Layer widths, block counts and the channel split follow the authors' released configurations
(advimman/lama `configs/training/generator/ffc_resnet_075.yaml`, "LaMa-Fourier": ngf 64, 3 downsamplings, 9 FFC
ResNet blocks, ratio_g 0.75, sigmoid output; `big-lama.yaml`: 18 blocks), at a width this 2-core CPU can train:
`WIDTH` 32 where LaMa uses 64 and the widths capped at `MAX_WIDTH` 128 where LaMa caps at 1024 (its bottleneck
has 512 channels), i.e. ~1/13 of LaMa-Fourier's parameters (the paper's comparison lists LaMa-Fourier at 27M and
Big LaMa at 51M).

  G (input: the image in [0, 1] with its hole set to 0, and the mask (1.0 = hole), concatenated: [N, H, W, 4];
     H, W multiples of 8 -- `tasks.run_padded` pads other sizes):
     prefill  the hole filled smoothly from its border (`SmoothFill`, no weights; proposal, below): F [N, H, W, 3];
              the network's input is [F, mask] where LaMa's is [image with the hole zeroed, mask]
     init     ReflectionPad 3, Conv 7x7 w (no bias), BN, ReLU                      (H)
     down1    ReflectionPad 1, Conv 3x3 /2 2w (no bias), BN, ReLU                 (H/2)
     down2    ReflectionPad 1, Conv 3x3 /2 min(4w, M), BN, ReLU                   (H/4)
     down3    ReflectionPad 1, Conv 3x3 /2 to C = min(8w, M) channels, split into a local part of l = C - g and
              a global part of g = int(0.75 C) channels (LaMa's ratio_gout 0.75): two convolutions (l2l, l2g),
              each with its BN and ReLU                                           (H/8)
     block1..9  FFC ResNet block: x + FFC_BN_ReLU(FFC_BN_ReLU(x)) on both parts, where one FFC maps (x_l, x_g) to
              y_l = Conv3x3(x_l) + Conv3x3(x_g)   (l2l + g2l; computed as one 3x3 convolution of [x_l, x_g])
              y_g = Conv3x3(x_l) + SpectralTransform(x_g)                          (l2g + g2g)
              all 3x3 convolutions reflection-padded and without bias; then BN + ReLU on y_l and on y_g.
              SpectralTransform(g -> g): Conv 1x1 g/2 (no bias), BN, ReLU -> h;
                FourierUnit(h): real 2-D FFT over H, W ('ortho' norm), real and imaginary parts as 2 x g/2
                channels, Conv 1x1 (no bias), BN, ReLU, inverse real FFT back to H x W;
                out = Conv 1x1 g (no bias) of (h + FourierUnit(h))   (LaMa: enable_lfu False)
     concat   [x_l, x_g] -> C channels
     up1..3   ConvTranspose 3x3 /2 (bias) to min(4w, M), 2w, w channels, BN, ReLU (H/4, H/2, H)
     image    [up3, F, mask] (w + 4 channels), ReflectionPad 3, Conv 7x7 3 (bias, zero-initialised) -> residual R;
              clip(F + R, 0, 1); then paste-back of the known pixels (SPEC §2), float32.
  With w = 32, M = 128, 9 blocks: 2,005,903 parameters (the entry's `params`, BN moving statistics included; the
  test recomputes it from this table). Every FFC has an image-wide receptive field at H/8 through its Fourier unit,
  which is what lets LaMa generalise to photos larger than its training crops (Fig. 1: "generalizes to
  high-resolution images, while trained only in low 256x256 resolution").

Smooth prefill and residual output (a proposal of issue 37, not LaMa's): LaMa zeroes the hole and predicts the
image through a sigmoid from its H/8 bottleneck. Trained on this CPU budget (5,000 steps of 8 crops) that
network filled CBSD68's holes 0.1-0.6 dB *below* OpenCV's Telea, while a smooth membrane fill of the hole from
its border alone (`SmoothFill`: Gortler et al.'s pull-push pyramid, "The Lumigraph", SIGGRAPH 1996, with 3x3
relaxation sweeps at every level, i.e. a multigrid approximation of harmonic inpainting, Shen & Chan 2002) scored
0.5-1.0 dB *above* Telea (first 12 CBSD68 photos, thin / medium / thick, PSNR after paste-back: Telea 25.72 /
23.36 / 20.22, SmoothFill 26.25 / 24.34 / 21.14 dB, the 5,000-step LaMa 25.10 / 23.23 / 19.92). So here the FFC
network starts from that fill: it sees F where LaMa sees zeros, its last convolution also sees F and the mask at
full resolution (a skip over the down/up path) and adds a zero-initialised residual, so an untrained generator
outputs F and training only has to add what the membrane fill lacks (edges, texture, the global structure the
Fourier units see).

Padding: LaMa pads every convolution by reflection (`padding_mode='reflect'`, the border pixel not repeated);
here by symmetric reflection (the border pixel repeated), which also works where a map is 1 pixel wide (the
bottleneck of an 8x8 input), so the network runs on any multiple of 8. Written "ReflectionPad" in the table.

Mixed precision: `tf.signal.rfft2d` / `irfft2d` take float32 only, so the two FFT layers cast their input to
float32, transform, and return the layer's compute dtype (bfloat16 under mixed_bfloat16): the 1x1 convolution
of the Fourier unit then runs in bfloat16 like every other convolution. For the ONNX / LiteRT files
(`keras_inpaint.portable`) the two layers' `builtin_ops` writes the transforms as DFT matrix products instead.

The discriminator is the PatchGAN with feature outputs of `free_form_inpaint`
(`keras_inpaint.models.free_form.network.build_patch_discriminator`), any input size.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from keras_inpaint.models.free_form.network import PasteBack
from keras_inpaint.models.layers import BuiltinOpsLayer
from keras_inpaint.models.restoration_gan.network import ReflectionPadding2D
from keras_inpaint.precision import OUTPUT_DTYPE

WIDTH = 32            # LaMa: ngf 64
MAX_WIDTH = 128       # LaMa: max_features 1024 (bottleneck 8 x 64 = 512)
BLOCKS = 9            # LaMa-Fourier: 9 FFC ResNet blocks (Big LaMa: 18)
DOWNSAMPLINGS = 3     # LaMa: n_downsampling 3
GLOBAL_RATIO = 0.75   # LaMa: ratio_gin = ratio_gout = 0.75 in the ResNet blocks
MULTIPLE = 2 ** DOWNSAMPLINGS   # H and W must be multiples of 8 (tasks pad)
PADDING = "symmetric" # LaMa pads by reflection; symmetric also pads the 1x1 bottleneck of an 8x8 input


def _float32_fft_size(x):
    """(float32 `x`, H, W as float32 scalars) of an NHWC tensor."""
    shape = tf.shape(x)
    return tf.cast(x, tf.float32), tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)


def _dft_cos_sin(n: tf.Tensor, k: tf.Tensor):
    """(cos, sin) of the DFT angles 2 pi t j / n for t in [0, n) (rows) and j in [0, k) (columns): two float32
    `[n, k]` matrices, built from integer products reduced mod n (exact angles at any size)."""
    t = tf.range(n)[:, None]
    j = tf.range(k)[None, :]
    angle = (2.0 * np.pi / tf.cast(n, tf.float32)) * tf.cast(tf.math.floormod(t * j, n), tf.float32)
    return tf.cos(angle), tf.sin(angle)


def _rfft2d_matmul(x: tf.Tensor):
    """`tf.signal.rfft2d` of `[N, C, H, W]` float32 as (real, imag) `[N, C, H, W // 2 + 1]`, written as matrix
    products with DFT matrices (MatMul, Cos, Sin, Range, FloorMod: ops tf2onnx and the LiteRT converter have;
    neither converts RFFT2D with complex outputs). O(HW(H + W)) where the FFT is O(HW log HW): used only for
    the ONNX / LiteRT files, at the generator's H/8 resolution."""
    shape = tf.shape(x)
    h, w = shape[2], shape[3]
    cos_w, sin_w = _dft_cos_sin(w, w // 2 + 1)                       # [W, K]
    cos_h, sin_h = _dft_cos_sin(h, h)                                # [H, H]
    a_re, a_im = tf.matmul(x, cos_w), -tf.matmul(x, sin_w)           # along W: sum_t x[t] e^{-i angle}
    return (tf.matmul(cos_h, a_re) + tf.matmul(sin_h, a_im),        # along H: (cos - i sin)(a_re + i a_im)
            tf.matmul(cos_h, a_im) - tf.matmul(sin_h, a_re))


def _irfft2d_matmul(real: tf.Tensor, imag: tf.Tensor, h: tf.Tensor, w: tf.Tensor):
    """`tf.signal.irfft2d(tf.complex(real, imag), [h, w])` times H * W (no normalisation) as matrix products:
    `[N, C, H, W // 2 + 1]` each -> `[N, C, H, W]` float32. As irfft2d, the imaginary parts of the W-axis DC and
    Nyquist terms are ignored (their sines are 0) and the other W-axis terms count twice (Hermitian symmetry)."""
    k = w // 2 + 1
    cos_h, sin_h = _dft_cos_sin(h, h)
    b_re = tf.matmul(cos_h, real) - tf.matmul(sin_h, imag)          # along H: (cos + i sin)(re + i im)
    b_im = tf.matmul(cos_h, imag) + tf.matmul(sin_h, real)
    cos_w, sin_w = _dft_cos_sin(w, k)                                # [W, K]
    j = tf.range(k)
    twice = tf.where(tf.logical_or(tf.equal(j, 0), tf.equal(2 * j, w)), 1.0, 2.0)   # [K]
    cos_w, sin_w = tf.transpose(cos_w * twice), tf.transpose(sin_w * twice)          # [K, W]
    return tf.matmul(b_re, cos_w) - tf.matmul(b_im, sin_w)


@keras.saving.register_keras_serializable(package="keras_inpaint")
class RealFFT2D(BuiltinOpsLayer):
    """Real 2-D FFT over the spatial axes with 'ortho' normalisation (LaMa's FourierUnit, `torch.fft.rfftn(...,
    norm='ortho')`): `[N, H, W, C]` -> `[N, H, W // 2 + 1, 2C]`, the real parts in channels 0..C-1 and the
    imaginary parts in C..2C-1. Computed in float32 (`tf.signal.rfft2d` takes no bfloat16), returned in the
    layer's compute dtype. No weights.

    `builtin_ops` (`BuiltinOpsLayer`; the ONNX / LiteRT files): the same transform as DFT matrix products
    (`_rfft2d_matmul`), equal within float32 rounding."""

    def call(self, x):
        x, h, w = _float32_fft_size(x)
        x = tf.transpose(x, [0, 3, 1, 2])                                    # [N, C, H, W]
        if self.builtin_ops:
            real, imag = _rfft2d_matmul(x)
        else:
            spectrum = tf.signal.rfft2d(x)                                   # [N, C, H, W//2+1] complex64
            real, imag = tf.math.real(spectrum), tf.math.imag(spectrum)
        spectrum = tf.concat([real, imag], axis=1) / tf.sqrt(h * w)
        return tf.cast(tf.transpose(spectrum, [0, 2, 3, 1]), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, h, None if w is None else w // 2 + 1, 2 * c)


@keras.saving.register_keras_serializable(package="keras_inpaint")
class InverseRealFFT2D(BuiltinOpsLayer):
    """The inverse of `RealFFT2D`: inputs `[spectrum [N, H, W // 2 + 1, 2C], reference [N, H, W, *]]` (the
    reference only gives H and W, as `irfftn(s=x.shape[-2:])` does) -> `[N, H, W, C]`, 'ortho' normalisation,
    float32 inside, the layer's compute dtype out. No weights. `builtin_ops`: as `RealFFT2D`'s
    (`_irfft2d_matmul`)."""

    def call(self, inputs):
        spectrum, reference = inputs
        spectrum = tf.cast(spectrum, tf.float32)
        real, imag = tf.split(tf.transpose(spectrum, [0, 3, 1, 2]), 2, axis=1)   # [N, C, H, W//2+1] each
        shape = tf.shape(reference)
        h, w = shape[1], shape[2]
        if self.builtin_ops:
            x = _irfft2d_matmul(real, imag, h, w) / tf.sqrt(tf.cast(h * w, tf.float32))
        else:
            x = tf.signal.irfft2d(tf.complex(real, imag), fft_length=tf.stack([h, w]))
            x = x * tf.sqrt(tf.cast(h * w, tf.float32))  # irfft2d divides by H * W; 'ortho' by sqrt(H * W)
        return tf.cast(tf.transpose(x, [0, 2, 3, 1]), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        spectrum, reference = input_shape
        return (spectrum[0], reference[1], reference[2], spectrum[3] // 2)


@keras.saving.register_keras_serializable(package="keras_inpaint")
class SmoothFill(layers.Layer):
    """The hole of an image filled smoothly from its border: pull-push (Gortler et al., "The Lumigraph", SIGGRAPH
    1996, hole filling by a pyramid of weighted averages) with `sweeps` relaxation sweeps of a 3x3 binomial average
    inside the hole at every level, coarse to fine (a multigrid approximation of harmonic / membrane inpainting,
    Shen & Chan, SIAM J. Appl. Math. 2002). `lama_ffc`'s prefill (module docstring).

    Input float `[N, H, W, C + 1]` (any H, W >= 1): channels 0..C-1 the image (values in the hole ignored), the
    last the mask (1.0 = hole, SPEC §2; fractional values weight a pixel partly; values outside [0, 1] are clipped
    to it). Output float32 `[N, H, W, C]`: the known pixels unchanged, the hole filled; a photo with no known
    pixel gives 0. Computed in float32 with average pooling, bilinear resizing and a depthwise convolution, ops
    ONNX and LiteRT have. No weights.
    `levels` halvings (10: down to 1x1 from 1024 pixels; at the coarsest level a pixel without known pixels under
    it takes the image's mean known colour)."""

    def __init__(self, levels: int = 10, sweeps: int = 16, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.levels, self.sweeps = int(levels), int(sweeps)

    @staticmethod
    def _average3x3(x, kernel):
        x = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
        return tf.nn.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "VALID")

    def call(self, inputs):
        inputs = tf.cast(inputs, tf.float32)
        binomial = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16.0
        kernel = tf.constant(np.tile(binomial[:, :, None, None], [1, 1, inputs.shape[-1] - 1, 1]), tf.float32)
        known = 1.0 - tf.clip_by_value(inputs[..., -1:], 0.0, 1.0)   # a mask outside [0, 1] would blow the sweeps up
        pyramid = [(inputs[..., :-1] * known, known)]          # (known-weighted colour sums, known share)
        for _ in range(self.levels):
            x, w = pyramid[-1]
            pyramid.append((tf.nn.avg_pool2d(x, 2, 2, "SAME"), tf.nn.avg_pool2d(w, 2, 2, "SAME")))
        x, w = pyramid[0]
        mean = tf.reduce_sum(x, [1, 2], keepdims=True) / tf.maximum(tf.reduce_sum(w, [1, 2], keepdims=True), 1.0)
        x, w = pyramid[-1]
        fill = tf.where(w > 0, x / tf.maximum(w, 1e-6), mean)
        for x, w in reversed(pyramid[:-1]):                    # push: coarse to fine
            fill = tf.image.resize(fill, tf.shape(x)[1:3], "bilinear")
            colour = x / tf.maximum(w, 1e-6)
            for _ in range(self.sweeps):
                fill = self._average3x3(w * colour + (1.0 - w) * fill, kernel)
            fill = w * colour + (1.0 - w) * fill
        return fill

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] - 1)

    def get_config(self):
        return {**super().get_config(), "levels": self.levels, "sweeps": self.sweeps}


def _bn_relu(x, name: str):
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _conv(x, filters: int, kernel: int, name: str, strides: int = 1):
    """LaMa's padded convolution without bias (symmetric padding: module docstring)."""
    x = ReflectionPadding2D(kernel // 2, mode=PADDING, name=f"{name}_pad")(x)
    return layers.Conv2D(filters, kernel, strides=strides, use_bias=False, name=name)(x)


def _spectral_transform(x_g, channels: int, name: str):
    """SpectralTransform (FFC §3.2; LaMa `SpectralTransform`, enable_lfu False): `[N, h, w, g]` -> channels."""
    half = channels // 2
    h = _bn_relu(layers.Conv2D(half, 1, use_bias=False, name=f"{name}_conv1")(x_g), f"{name}_conv1")
    spectrum = RealFFT2D(name=f"{name}_rfft")(h)
    spectrum = _bn_relu(layers.Conv2D(2 * half, 1, use_bias=False, name=f"{name}_fu_conv")(spectrum),
                        f"{name}_fu")
    fu = InverseRealFFT2D(name=f"{name}_irfft")([spectrum, h])
    return layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_conv2")(layers.Add(name=f"{name}_sum")([h, fu]))


def _ffc_bn_relu(x_l, x_g, name: str):
    """One FFC_BN_ACT of a ResNet block (module docstring): (x_l, x_g) -> (y_l, y_g), same channel counts."""
    local, glob = x_l.shape[-1], x_g.shape[-1]
    both = layers.Concatenate(name=f"{name}_cat")([x_l, x_g])
    y_l = _conv(both, local, 3, f"{name}_to_local")                    # l2l + g2l
    y_g = layers.Add(name=f"{name}_global_sum")([_conv(x_l, glob, 3, f"{name}_l2g"),
                                                 _spectral_transform(x_g, glob, f"{name}_g2g")])
    return _bn_relu(y_l, f"{name}_local"), _bn_relu(y_g, f"{name}_global")


def build_lama_generator(input_shape=(None, None, 4), width: int = WIDTH, max_width: int = MAX_WIDTH,
                         blocks: int = BLOCKS, downsamplings: int = DOWNSAMPLINGS,
                         global_ratio: float = GLOBAL_RATIO, skips: bool = False) -> keras.Model:
    """The FFC ResNet generator (module docstring table), fully convolutional.

    Input: float32 `[N, H, W, 4]`: channels 0-2 the image in [0, 1] with the hole set to 0, channel 3 the mask
    (1.0 = hole); H, W multiples of 2**downsamplings (8 by default; `tasks.run_padded` pads other sizes).
    Output: float32 `[N, H, W, 3]` in [0, 1], the prediction pasted into the hole (known pixels unchanged); an
    untrained generator outputs `SmoothFill`'s fill (its last convolution is zero-initialised).

    Args:
      input_shape: (H, W, 4), H and W None (any size) or multiples of 2**downsamplings.
      width: channels of the first convolution (LaMa's ngf).
      max_width: cap on every layer's channels (LaMa's max_features); the ResNet blocks have
        min(width * 2**downsamplings, max_width).
      blocks: FFC ResNet blocks (LaMa-Fourier 9, Big LaMa 18).
      downsamplings: stride-2 convolutions (and transposed convolutions back).
      global_ratio: share of the blocks' channels in the global (Fourier) branch.
      skips: U-Net skip connections (Ronneberger et al. 2015; not LaMa's): the encoder's output at H, H/2, H/4
        (after init, down1, down2) concatenated to the decoder's at the same size (after up3, up2, up1), so the
        upsampling path sees the pixels around a hole at full resolution and not only through the H/8
        bottleneck; up2, up3 and the image convolution take the extra channels.
    Raises:
      ValueError: a static H or W not a multiple of 2**downsamplings, fewer than 2 input channels, or a ratio that
        leaves either branch empty.
    """
    multiple = 2 ** downsamplings
    h, w_, c = input_shape
    if any(s is not None and s % multiple for s in (h, w_)):
        raise ValueError(f"input {h}x{w_} must be a multiple of {multiple} ({downsamplings} stride-2 convolutions)")
    if c is None or c < 2:
        raise ValueError(f"input needs the image channels and the mask channel, got {c} channels")
    widths = [min(max_width, width * 2 ** i) for i in range(downsamplings + 1)]
    bottleneck = widths[-1]
    glob = int(bottleneck * global_ratio)
    local = bottleneck - glob
    if glob < 2 or local < 1:
        raise ValueError(f"global_ratio {global_ratio} leaves {local} local / {glob} global channels of {bottleneck}")

    x_in = keras.Input(input_shape, name="masked_image_and_mask")
    fill = SmoothFill(name="smooth_fill")(x_in)
    filled = layers.Concatenate(name="filled_and_mask", dtype="float32")([fill, x_in[..., -1:]])
    x = _bn_relu(_conv(filled, widths[0], 7, "init"), "init")
    encoder = [x]                                              # at H, H/2, ... H/2**(downsamplings - 1)
    for i in range(1, downsamplings):
        x = _bn_relu(_conv(x, widths[i], 3, f"down{i}", strides=2), f"down{i}")
        encoder.append(x)
    last = f"down{downsamplings}"
    x_l = _bn_relu(_conv(x, local, 3, f"{last}_local", strides=2), f"{last}_local")
    x_g = _bn_relu(_conv(x, glob, 3, f"{last}_global", strides=2), f"{last}_global")
    for b in range(1, blocks + 1):
        y_l, y_g = _ffc_bn_relu(x_l, x_g, f"block{b}_ffc1")
        y_l, y_g = _ffc_bn_relu(y_l, y_g, f"block{b}_ffc2")
        x_l = layers.Add(name=f"block{b}_local_residual")([x_l, y_l])
        x_g = layers.Add(name=f"block{b}_global_residual")([x_g, y_g])
    x = layers.Concatenate(name="concat_local_global")([x_l, x_g])
    for i in range(1, downsamplings + 1):
        x = layers.Conv2DTranspose(widths[downsamplings - i], 3, strides=2, padding="same", name=f"up{i}")(x)
        x = _bn_relu(x, f"up{i}")
        if skips:
            x = layers.Concatenate(name=f"up{i}_skip")([x, encoder[downsamplings - i]])
    x = layers.Concatenate(name="features_filled_and_mask")([x, filled])
    x = ReflectionPadding2D(3, mode=PADDING, name="image_pad")(x)
    residual = layers.Conv2D(c - 1, 7, kernel_initializer="zeros", name="image", dtype=OUTPUT_DTYPE)(x)
    x = layers.Add(name="fill_plus_residual", dtype=OUTPUT_DTYPE)([fill, residual])
    x = layers.ReLU(max_value=1.0, name="clip", dtype=OUTPUT_DTYPE)(x)        # clip to [0, 1]
    out = PasteBack(name="paste_back", dtype=OUTPUT_DTYPE)([x_in, x])
    return keras.Model(x_in, out, name="lama_generator")
