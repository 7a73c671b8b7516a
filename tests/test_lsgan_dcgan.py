"""The z -> image face priors `lsgan` (seed 004, spec/models.md §7) and `dcgan` (seed 001's code, §3): networks,
registry entries, one adversarial step each (dcgan: 1 D update then 2 G updates), and their task's pairs/grid."""
import numpy as np
import pytest
import tensorflow as tf

from keras_inpaint import registry, tasks
from keras_inpaint.models.dcgan import network as dcgan
from keras_inpaint.models.lsgan import network as lsgan
from keras_inpaint.training import adversarial, run
from keras_inpaint.training.adversarial import AdversarialTrainer


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


# (builder, total params, trainable params, input shape, output shape); totals include BN moving statistics.
NETWORKS = {
    "lsgan G": (lsgan.build_lsgan_generator, 7_844_611, 7_840_771, (100,), (64, 64, 3)),
    "lsgan D": (lsgan.build_lsgan_discriminator, 4_318_337, 4_316_545, (64, 64, 3), (1,)),
    "dcgan G": (dcgan.build_dcgan_generator, 5_136_323, 5_134_403, (100,), (64, 64, 3)),
    "dcgan D": (dcgan.build_dcgan_discriminator, 4_317_441, 4_315_649, (64, 64, 3), (1,)),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_parameter_counts_and_output_shapes(name):
    build, total, trainable, in_shape, out_shape = NETWORKS[name]
    model = build() if name.endswith("G") else build(in_shape)   # G: z of LATENT_DIM
    assert model.count_params() == total and _trainable(model) == trainable
    assert tuple(model.input_shape[1:]) == in_shape and tuple(model.output_shape[1:]) == out_shape
    y = model(np.random.default_rng(0).uniform(-1, 1, (2, *in_shape)).astype("float32"), training=False)
    assert y.shape == (2, *out_shape)
    if name.endswith("G"):
        assert float(tf.reduce_max(tf.abs(y))) < 1.0          # tanh
    else:
        assert model.get_layer(model.layers[-1].name).activation.__name__ == "linear"  # LS score / logits


def test_tables_row_by_row():
    g = lsgan.build_lsgan_generator()
    assert [tuple(g.get_layer(f"deconv{i}").output.shape[1:]) for i in (1, 2, 3, 4)] == [
        (4, 4, 1024), (8, 8, 512), (16, 16, 256), (32, 32, 128)]
    assert g.get_layer("deconv1").kernel_size == (4, 4) and g.get_layer("deconv2").kernel_size == (3, 3)
    assert g.get_layer("deconv1_dropout").rate == pytest.approx(0.3)
    d = registry.get("lsgan").adversarial.discriminator()
    assert d.get_layer("flatten").output.shape[-1] == 8192       # seed: "linear vector space of 8192 size"
    dg = dcgan.build_dcgan_generator()
    assert dg.get_layer("project").units == 8192 and not dg.get_layer("project_bn").scale
    assert dg.get_layer("deconv1").kernel_size == (5, 5)
    dd = registry.get("dcgan").adversarial.discriminator()
    assert dd.get_layer("conv1_lrelu").negative_slope == pytest.approx(0.2)
    assert not dd.get_layer("conv2_bn").scale


def test_registry_entries_and_paper_defaults():
    ls, dc = registry.get("lsgan"), registry.get("dcgan")
    for spec in (ls, dc):
        assert spec.build_network().count_params() == spec.params
        assert spec.value_range == (-1.0, 1.0) and spec.image_shape == (64, 64, 3) and spec.crop == "face108"
        assert spec.default_dataset == "celeb_a"          # SPEC §1; tests pass the shared faces explicitly
        assert isinstance(spec.task(), tasks.UnconditionalGeneration)
        with pytest.raises(ValueError, match="no trainer option"):
            spec.resolve_trainer_options({"content_loss": "l1"})   # unconditional: no content loss
    assert (ls.params, ls.discriminator_params) == (7_844_611, 4_318_337)
    assert (dc.params, dc.discriminator_params) == (5_136_323, 4_317_441)
    assert (ls.batch_size, ls.learning_rate, ls.beta_1, ls.steps) == (32, 2e-4, 0.5, 100_000)
    assert (dc.batch_size, dc.learning_rate, dc.beta_1) == (128, 2e-4, 0.5)
    assert dc.trainer_options["g_steps"] == 2 and dc.trainer_options["real_label_smoothing"] == 0.1
    assert ls.task().preset == "lsgan" and ls.task().iterations == 1500
    assert dc.task().preset == "dcgan" and dc.task().iterations == 500
    with pytest.raises(ValueError):
        ls.task(prior_loss="nope")


@pytest.mark.parametrize("model_id,g_updates", [("lsgan", 1), ("dcgan", 2)])
def test_one_train_step_changes_both_networks(model_id, g_updates):
    spec = registry.get(model_id)
    config = run.RunConfig.of(model=model_id).resolved()
    trainer = adversarial.build_trainer(spec, config)
    assert isinstance(trainer, AdversarialTrainer) and trainer.g_steps == g_updates
    task = config.task.build()
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3)), tf.uint8)
    z, x = task.make_pair(images, tf.constant([0, 1], tf.int64))
    assert z.shape == (4, 100) and float(tf.reduce_max(tf.abs(z))) <= 1.0 and x.shape == (4, 64, 64, 3)
    g0 = [w.numpy().copy() for w in trainer.generator.trainable_weights]
    d0 = [w.numpy().copy() for w in trainer.discriminator.trainable_weights]
    logs = trainer.train_on_batch(z, x, return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "g_adv", "d_real", "d_fake"}      # no content term
    assert all(np.isfinite(v) for v in logs.values()) and logs["g_loss"] == pytest.approx(logs["g_adv"])
    # every kernel of both networks moved (BN-free biases included)
    assert all(not np.array_equal(a, w.numpy()) for a, w in zip(g0, trainer.generator.trainable_weights))
    assert all(not np.array_equal(a, w.numpy()) for a, w in zip(d0, trainer.discriminator.trainable_weights))
    # dcgan: 1 D update, then 2 G updates per step
    assert int(trainer.d_optimizer.iterations) == 1 and int(trainer.optimizer.iterations) == g_updates
    assert run.trained_steps(trainer) == 1          # reported training steps count steps, not G updates
    # the inference network is the z -> {image, score} prior sharing the trained weights
    prior = run.inference_network(trainer)
    out = prior(z, training=False)
    np.testing.assert_allclose(out["image"], trainer.generator(z, training=False), atol=1e-6)
    assert prior.count_params() == spec.params + spec.discriminator_params


def test_extra_generator_update_recomputes_its_gradient():
    """g_steps=2 with plain SGD: the second update uses the gradient at the updated weights, not the first one."""
    import keras

    keras.utils.set_random_seed(1)
    zin = keras.Input((3,))
    g = keras.Model(zin, keras.layers.Dense(2, activation="tanh")(zin))
    din = keras.Input((2,))
    d = keras.Model(din, keras.layers.Dense(1)(keras.layers.Dense(4, activation="tanh")(din)))
    z = np.random.default_rng(0).uniform(-1, 1, (8, 3)).astype("float32")
    y = np.random.default_rng(1).uniform(-1, 1, (8, 2)).astype("float32")
    results = []
    for g_steps in (1, 2):
        gg, dd = keras.models.clone_model(g), keras.models.clone_model(d)
        gg.set_weights(g.get_weights())
        dd.set_weights(d.get_weights())
        t = AdversarialTrainer(gg, dd, adversarial_loss="least_squares", content_loss=None, g_steps=g_steps)
        t.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
        t.train_on_batch(z, y)
        results.append([w.numpy() for w in gg.trainable_weights])
    w0 = g.get_weights()
    first = [a - b for a, b in zip(results[0], w0)]                 # -lr * grad at w0
    second = [a - b for a, b in zip(results[1], results[0])]        # -lr * grad at w1 (recomputed)
    assert any(not np.allclose(f, s, atol=1e-7) for f, s in zip(first, second))
    assert all(np.linalg.norm(s) > 0 for s in second)


def test_grid_shows_samples_from_a_fixed_z():
    spec = registry.get("lsgan")
    task = spec.task(eval_iterations=2)
    prior = run.inference_network(adversarial.build_trainer(spec, run.RunConfig.of(model="lsgan").resolved()))
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3)), tf.uint8)
    grid = task.grid(prior, images)
    assert grid.shape == (1, 2 * 64, 4 * 64, 3) and grid.dtype == tf.uint8
    np.testing.assert_array_equal(task.samples(prior, 2), task.samples(prior, 2))      # the same z every call
    np.testing.assert_array_equal(grid[0, :64, 3 * 64:], task.samples(prior, 2)[0])
