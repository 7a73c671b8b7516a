"""The six adversarial networks (seed 000 Tables I-II, SPEC §1.1, spec/models.md §5), their registry entries and
the masked-inpainting / white-box tasks they are trained and exported with."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import registry, tasks
from keras_inpaint.models.context_encoder import network as context_encoder
from keras_inpaint.models.dcgan_inpaint import network as dcgan_inpaint
from keras_inpaint.models.restoration_gan import network as restoration_gan


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


# (builder, total params, trainable params, input shape, output shape) -- totals include BN moving statistics.
NETWORKS = {
    "context_encoder_gan G": (context_encoder.build_context_encoder_generator, 7_440_643, 7_437_827,
                              (32, 32, 3), (16, 16, 3)),
    "context_encoder_gan D": (context_encoder.build_context_encoder_discriminator, 1_440_961, 1_440_001,
                              (16, 16, 3), (1,)),
    "dcgan_inpaint G": (dcgan_inpaint.build_dcgan_inpaint_generator, 5_517_955, 5_515_267, (64, 64, 3), (64, 64, 3)),
    "dcgan_inpaint D": (dcgan_inpaint.build_dcgan_inpaint_discriminator, 2_768_321, 2_766_529,
                        (64, 64, 3), (1, 1, 1)),
    "restoration_gan G": (restoration_gan.build_restoration_generator, 11_399_171, 11_388_675,
                          (128, 128, 3), (128, 128, 3)),
    "restoration_gan D": (restoration_gan.build_restoration_critic, 2_901_762, 2_899_842, (128, 128, 3), (1,)),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_parameter_counts_and_output_shapes(name):
    build, total, trainable, in_shape, out_shape = NETWORKS[name]
    model = build(in_shape)       # the builders take their shapes from the entries; here the tables'
    assert model.count_params() == total
    assert _trainable(model) == trainable
    assert tuple(model.input_shape[1:]) == in_shape and tuple(model.output_shape[1:]) == out_shape
    y = model(np.random.default_rng(0).uniform(-1, 1, (2, *in_shape)).astype("float32"), training=False)
    assert y.shape == (2, *out_shape) and y.dtype == tf.float32
    if name.endswith("G"):                        # tanh generators: outputs in (-1, 1)
        assert float(tf.reduce_max(tf.abs(y))) < 1.0
    else:                                         # sigmoid discriminators: probabilities
        assert 0.0 < float(tf.reduce_min(y)) and float(tf.reduce_max(y)) < 1.0


def test_context_encoder_tables_row_by_row():
    d = registry.get("context_encoder_gan").adversarial.discriminator()
    # Table I: the first conv keeps 16x16 (stride 1, 000-a); the rest halve; Flatten is 1024 wide.
    assert d.get_layer("conv1").strides == (1, 1)
    assert [d.get_layer(f"conv{i}").strides for i in (2, 3, 4)] == [(2, 2)] * 3
    assert [tuple(d.get_layer(f"conv{i}").output.shape[1:]) for i in (1, 2, 3, 4)] == [
        (16, 16, 32), (8, 8, 64), (4, 4, 128), (2, 2, 256)]
    assert d.get_layer("flatten").output.shape[-1] == 1024
    assert d.get_layer("score").activation.__name__ == "sigmoid"
    g = registry.get("context_encoder_gan").build_network()
    assert [tuple(g.get_layer(f"conv{i}").kernel_size) for i in (1, 2, 3, 4)] == [(5, 5), (5, 5), (3, 3), (2, 2)]
    assert tuple(g.get_layer("conv4").output.shape[1:]) == (2, 2, 512)
    assert g.get_layer("fill").strides == (1, 1) and g.get_layer("fill").activation.__name__ == "tanh"
    # Conv -> LeakyReLU(0.2) -> BN, the seed's order
    names = [layer.name for layer in g.layers]
    assert names.index("conv1") < names.index("conv1_lrelu") < names.index("conv1_bn")
    assert abs(g.get_layer("conv1_lrelu").negative_slope - 0.2) < 1e-7


def test_dcgan_inpaint_is_fully_convolutional_with_bn_before_activation():
    g = registry.get("dcgan_inpaint").build_network()
    kinds = {type(layer).__name__ for layer in g.layers}
    assert not kinds & {"Dense", "Flatten", "MaxPooling2D", "AveragePooling2D"}
    assert "conv1_bn" not in [layer.name for layer in g.layers]           # no BN on the first conv
    names = [layer.name for layer in g.layers]
    assert names.index("conv2") < names.index("conv2_bn") < names.index("conv2_lrelu")
    assert tuple(g.get_layer("conv4").output.shape[1:]) == (4, 4, 512)
    d = registry.get("dcgan_inpaint").adversarial.discriminator()
    assert {type(layer).__name__ for layer in d.layers} & {"Dense", "Flatten"} == set()
    assert "ReLU" in {type(layer).__name__ for layer in d.layers}
    assert d.get_layer("score").padding == "valid"
    any_size = dcgan_inpaint.build_dcgan_inpaint_generator((None, None, 3))
    assert any_size.count_params() == g.count_params()
    assert any_size(np.zeros((1, 32, 48, 3), "float32")).shape == (1, 32, 48, 3)
    with pytest.raises(ValueError, match="divisible by 16"):
        dcgan_inpaint.build_dcgan_inpaint_generator((60, 64, 3))


def test_restoration_generator_reflection_padding_and_global_skip():
    pad = restoration_gan.ReflectionPadding2D(2)
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(pad(x)[0, :, :, 0], np.pad(x[0, :, :, 0], 2, mode="reflect"))
    g = registry.get("restoration_gan").build_network()
    assert sum(1 for layer in g.layers if layer.name.endswith("_add")) == 9
    assert sum(1 for layer in g.layers if type(layer).__name__ == "Dropout") == 9
    assert all(g.get_layer(f"res{i}_dropout").rate == 0.5 for i in range(1, 10))
    # output = (input + tanh(...)) / 2
    x = np.random.default_rng(1).uniform(-1, 1, (1, 128, 128, 3)).astype("float32")
    inner = g.get_layer("conv_out").output
    probe = keras.Model(g.input, [inner, g.output])
    t, out = probe(x, training=False)
    np.testing.assert_allclose(out, (x + t) / 2, atol=1e-6)
    linear = registry.get("restoration_gan").adversarial.discriminator(sigmoid_output=False)
    assert linear.count_params() == 2_901_762 and linear.get_layer("score").activation.__name__ == "linear"
    assert restoration_gan.build_restoration_critic((256, 256, 3)).count_params() == 3_098_370


def test_synchronized_option_builds_synchronized_batchnorm():
    for build in (registry.get("context_encoder_gan").build_network, registry.get("dcgan_inpaint").adversarial.discriminator):
        bns = [layer for layer in build(synchronized=True).layers if type(layer).__name__ == "BatchNormalization"]
        assert bns and all(layer.synchronized for layer in bns)


def test_declared_synchronized_builders_match_their_parameters():
    """registry.Adversarial declares which builders take `synchronized=` (no signature inspection in the
    package, issue 35); the declaration agrees with each builder's parameters."""
    import inspect

    gans = [spec for spec in registry.REGISTRY.values() if spec.adversarial is not None]
    assert len(gans) >= 6
    for spec in gans:
        recipe = spec.adversarial
        for builder, declared in ((spec.build_network, recipe.generator_takes_sync),
                                  (recipe.discriminator, recipe.discriminator_takes_sync)):
            assert ("synchronized" in inspect.signature(builder).parameters) == declared, (spec.id, builder)


@pytest.mark.parametrize("model_id", ["context_encoder_gan", "dcgan_inpaint", "restoration_gan"])
def test_registry_entries(model_id):
    spec = registry.get(model_id)
    assert spec.adversarial is not None and spec.value_range == (-1.0, 1.0)
    assert spec.build_network().count_params() == spec.params
    assert NETWORKS[f"{model_id} D"][1] == spec.discriminator_params
    with pytest.raises(ValueError, match="no trainer option"):
        spec.resolve_trainer_options({"nope": 1})
    assert spec.resolve_trainer_options({"d_steps": 3, "content_loss": None})["d_steps"] == 3


def test_registry_paper_defaults():
    ce = registry.get("context_encoder_gan")
    assert (ce.batch_size, ce.learning_rate, ce.beta_1, ce.steps) == (32, 2e-3, 0.5, 80_000)
    assert ce.trainer_options["d_learning_rate"] == 2e-4
    assert (ce.trainer_options["content_weight"], ce.trainer_options["adversarial_weight"]) == (0.999, 0.001)
    task = ce.task()
    assert isinstance(task, tasks.CentreHoleInpainting) and task.output == "fill" and task.value_range == (-1, 1)
    dc = registry.get("dcgan_inpaint")
    assert (dc.batch_size, dc.learning_rate, dc.beta_1, dc.crop) == (64, 2e-4, 0.5, "face108")
    assert (dc.trainer_options["content_loss"], dc.trainer_options["content_weight"]) == ("l1", 100.0)
    assert dc.task().mask_kind == "centre" and dc.task(mask="random_box").mask_kind == "random_box"
    rg = registry.get("restoration_gan")
    assert (rg.batch_size, rg.learning_rate, rg.trainer_options["d_steps"]) == (16, 1e-4, 5)
    assert (rg.trainer_options["content_loss"], rg.trainer_options["content_weight"]) == ("l1", 100.0)


# --- tasks -------------------------------------------------------------------------------------------------
def _faces(n=4, size=64, seed=0):
    return tf.constant(np.random.default_rng(seed).integers(0, 256, (n, size, size, 3)), tf.uint8)


def test_masked_inpainting_pairs_centre_and_random_box():
    images = _faces()
    centre = tasks.MaskedInpainting((64, 64, 3), mask="centre")
    x, y = centre.make_pair(images, tf.constant([1, 2], tf.int64))
    assert x.shape == y.shape == (4, 64, 64, 3)
    np.testing.assert_array_equal(x[:, 16:48, 16:48], 0.0)                    # hole filled with 0 (mid-grey)
    np.testing.assert_allclose(y, images.numpy() / 127.5 - 1.0, atol=1e-6)    # target: whole image in [-1, 1]
    boxes = tasks.MaskedInpainting((64, 64, 3), mask="random_box")
    m1 = boxes.mask(images, tf.constant([1, 2], tf.int64))
    m2 = boxes.mask(images, tf.constant([1, 3], tf.int64))
    area = tf.reduce_mean(m1, axis=[1, 2, 3]).numpy()
    assert np.all(area >= 1 / 16 - 0.02) and np.all(area <= 1 / 4 + 0.02)
    assert not np.array_equal(m1, m2)                                         # the pipeline seed moves the boxes
    np.testing.assert_array_equal(boxes.mask(images), boxes.mask(images))     # evaluation boxes: deterministic
    with pytest.raises(ValueError, match="mask must be"):
        tasks.MaskedInpainting((64, 64, 3), mask="stroke")


def test_masked_inpainting_keeps_known_pixels_and_rejects_bad_masks():
    task = tasks.MaskedInpainting((64, 64, 3))
    images = _faces(2)
    net = lambda x, training=False: tf.zeros_like(x) + 0.5          # noqa: E731
    mask = np.zeros((2, 64, 64, 1), "float32")
    mask[0, 5:20, 30:60] = 1.0
    mask[1, 40:64, 0:10] = 1.0
    out = task.serve(net, images, tf.constant(mask))["images"].numpy()
    known = mask[..., 0] == 0
    np.testing.assert_array_equal(out[known], images.numpy()[known])
    assert np.all(out[~known] == 191)                                         # 0.5 in [-1, 1] -> 191
    centre = task.serve_centre(net, images)["images"].numpy()
    np.testing.assert_array_equal(centre[:, :16], images.numpy()[:, :16])
    with pytest.raises(tf.errors.InvalidArgumentError):
        task.serve(net, images, tf.constant(mask * 0.5))
    with pytest.raises(ValueError, match="does not match"):
        task.serve(net, images, tf.zeros((2, 32, 32, 1)))
    with pytest.raises(ValueError, match=r"\[N, H, W, 1\]"):
        task.serve(net, images, tf.zeros((2, 64, 64, 3)))
    assert set(task.serving_signatures()) == {"serving_default", "centre_mask"}


def test_white_box_restoration_works_in_minus_one_one():
    task = tasks.WhiteBoxRestoration((32, 32, 3), box_frac=(0.25, 0.5))
    images = _faces(3, 32)
    x, y = task.make_pair(images, tf.constant([4, 5], tf.int64))
    np.testing.assert_allclose(y, images.numpy() / 127.5 - 1.0, atol=1e-6)
    white = np.all(np.isclose(x.numpy(), 1.0), axis=-1)
    assert 0 < white.mean() < 0.3 and float(tf.reduce_min(x)) >= -1.0
    identity = lambda v, training=False: v                            # noqa: E731
    r = task.restore(identity, images)                                        # results in [0, 1]
    np.testing.assert_allclose(r["restored"], r["input"], atol=1e-6)
    metrics = task.evaluate_batch(identity, images)
    np.testing.assert_allclose(metrics["psnr"], metrics["baseline_psnr"], atol=1e-3)
    out = task.serve(lambda v, training=False: v * 0 - 1.0, images)["images"]   # network says black
    assert int(tf.reduce_max(out)) == 0


def test_dcgan_inpaint_export_takes_a_mask_and_has_a_centre_signature(tmp_path):
    from keras_inpaint import exporting

    spec = registry.get("dcgan_inpaint")
    path = exporting.export_network(spec, spec.build_network(), str(tmp_path / "1"), {"id": spec.id})
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "centre_mask", "network"}   # network: evaluate.py
    images = _faces(2)
    mask = np.zeros((2, 64, 64, 1), "float32")
    mask[:, 8:24, 30:50] = 1.0
    out = loaded.signatures["serving_default"](images=images, mask=tf.constant(mask))["images"].numpy()
    known = mask[..., 0] == 0
    np.testing.assert_array_equal(out[known], images.numpy()[known])          # known pixels untouched
    centre = loaded.signatures["centre_mask"](images=images)["images"].numpy()
    np.testing.assert_array_equal(centre[:, :16], images.numpy()[:, :16])
    with pytest.raises(tf.errors.InvalidArgumentError):
        loaded.signatures["serving_default"](images=images, mask=tf.constant(mask * 0.3))
