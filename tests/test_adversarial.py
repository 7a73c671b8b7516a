"""keras_inpaint.training.adversarial: the GAN trainer under fit(), its update schedule, loss scaling,
tf.distribute, XLA, and resume through training.run (SPEC §5)."""
import json
import os
import subprocess
import sys
import textwrap
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from keras_inpaint import registry
from keras_inpaint.training import adversarial, run
from keras_inpaint.training.adversarial import AdversarialTrainer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _options(**trainer_options):
    """A stand-in for RunConfig when a test needs trainer options (the attributes adversarial.build_trainer reads)."""
    return types.SimpleNamespace(
        trainer=types.SimpleNamespace(trainer_options=trainer_options, learning_rate=None, jit_compile=False,
                                      steps_per_execution=1, steps=None, clipnorm=None),
        runtime=types.SimpleNamespace(seed=0))


def _tiny_gan(linear_critic=False):
    """8x8x3 -> 8x8x3 generator and an 8x8x3 -> 1 discriminator, both with BatchNorm (fast to trace and compile)."""
    x_in = keras.Input((8, 8, 3))
    h = layers.Conv2D(8, 3, padding="same")(x_in)
    h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU(0.2)(h)
    g = keras.Model(x_in, layers.Conv2D(3, 3, padding="same", activation="tanh")(h))
    d_in = keras.Input((8, 8, 3))
    h = layers.Conv2D(8, 3, strides=2, padding="same")(d_in)
    h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU(0.2)(layers.Flatten()(h))
    d = keras.Model(d_in, layers.Dense(1, activation=None if linear_critic else "sigmoid")(h))
    return g, d


def _weights(model):
    return [w.numpy().copy() for w in model.trainable_weights]


def _batch(n, shape_x, shape_y, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, *shape_x)).astype("float32"), rng.uniform(-1, 1, (n, *shape_y)).astype("float32")


def test_one_step_updates_both_networks_and_logs_every_term():
    keras.utils.set_random_seed(0)
    spec = registry.get("context_encoder_gan")
    trainer = adversarial.build_trainer(spec, run.RunConfig.of(model="context_encoder_gan").resolved())
    assert isinstance(trainer, AdversarialTrainer) and run.inference_network(trainer) is trainer.generator
    assert float(trainer.optimizer.learning_rate) == pytest.approx(2e-3)
    assert float(trainer.d_optimizer.learning_rate) == pytest.approx(2e-4)
    x, y = _batch(4, (32, 32, 3), (16, 16, 3))
    g0, d0 = _weights(trainer.generator), _weights(trainer.discriminator)
    logs = trainer.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "g_content", "g_adv", "d_real", "d_fake"}
    assert all(np.isfinite(v) for v in logs.values())
    assert all(not np.array_equal(a, b) for a, b in zip(g0, _weights(trainer.generator)))
    assert all(not np.array_equal(a, b) for a, b in zip(d0, _weights(trainer.discriminator)))
    assert int(trainer.optimizer.iterations) == 1 and int(trainer.d_optimizer.iterations) == 1
    # generator loss = 0.999 * MSE + 0.001 * BCE (seed 000 / R-CE weighting)
    assert logs["g_loss"] == pytest.approx(0.999 * logs["g_content"] + 0.001 * logs["g_adv"], rel=1e-5)
    assert 0 < logs["d_real"] < 1 and 0 < logs["d_fake"] < 1
    # validation: the content (MSE) loss of the generator in inference mode, reported as `loss`
    val = trainer.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    expected = float(np.mean((trainer.generator(x, training=False).numpy() - y) ** 2))
    assert set(val) == {"loss"} and val["loss"] == pytest.approx(expected, rel=1e-5)


def test_d_steps_reuse_one_real_and_one_generated_batch():
    class Recorder(keras.Model):
        def __init__(self, inner):
            super().__init__()
            self.inner, self.seen = inner, []

        def call(self, x, training=False):
            self.seen.append(np.asarray(x).copy())
            return self.inner(x, training=training)

    g, d = _tiny_gan()
    g, d = Recorder(g), Recorder(d)
    trainer = AdversarialTrainer(g, d, d_steps=3, content_loss="l1")
    trainer.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), run_eagerly=True)
    x, y = _batch(4, (8, 8, 3), (8, 8, 3))
    trainer.train_on_batch(x, y)
    assert len(g.seen) == 1                                   # one generator pass per step
    assert len(d.seen) == 2 * 3 + 1                           # (real, fake) per critic update + G's adversarial term
    for i in range(3):
        np.testing.assert_array_equal(d.seen[2 * i], y)                      # the same real batch each time
        np.testing.assert_array_equal(d.seen[2 * i + 1], d.seen[1])          # the same generated batch
    assert int(trainer.optimizer.iterations) == 1 and int(trainer.d_optimizer.iterations) == 3


def test_restoration_gan_runs_five_critic_updates_per_generator_update():
    keras.utils.set_random_seed(0)
    spec = registry.get("restoration_gan")
    trainer = run.build_training_model(spec, run.RunConfig.of(model="restoration_gan").resolved())
    assert trainer.d_steps == 5 and trainer.content_weight == 100.0 and trainer.adversarial_loss == "wasserstein"
    x, y = _batch(2, (128, 128, 3), (128, 128, 3))
    logs = trainer.train_on_batch(x, y, return_dict=True)
    assert int(trainer.optimizer.iterations) == 1 and int(trainer.d_optimizer.iterations) == 5
    assert all(np.isfinite(v) for v in logs.values())
    assert logs["d_loss"] == pytest.approx(logs["d_fake"] - logs["d_real"], abs=1e-5)   # D(G(x)) - D(x)


def test_losses_are_divided_by_the_global_batch_size():
    g, d = _tiny_gan()
    per_example = tf.constant([1.0, 2.0, 3.0, 6.0])
    assert float(AdversarialTrainer(g, d)._average(per_example)) == pytest.approx(3.0)        # 12 / 4
    assert float(AdversarialTrainer(g, d, global_batch_size=8)._average(per_example)) == pytest.approx(1.5)


def test_options_learning_rates_and_perceptual_loss_without_weights_fails_at_start():
    spec = registry.get("context_encoder_gan")
    cfg = _options()
    cfg.trainer.learning_rate = 1e-3                                   # --learning_rate keeps the paper's G:D ratio 10:1
    assert float(adversarial.build_trainer(spec, cfg).d_optimizer.learning_rate) == pytest.approx(1e-4)
    trainer = adversarial.build_trainer(spec, _options(d_learning_rate=5e-4, d_steps=2))
    assert float(trainer.d_optimizer.learning_rate) == pytest.approx(5e-4) and trainer.d_steps == 2
    with pytest.raises(ValueError, match="no trainer option"):
        adversarial.build_trainer(spec, _options(vgg_weights="x.h5"))
    rg = registry.get("restoration_gan")
    with pytest.raises(ValueError, match="--vgg_weights"):
        adversarial.build_trainer(rg, _options(content_loss="perceptual"))
    wgan_gp = adversarial.build_trainer(rg, _options(gradient_penalty=10.0))
    assert wgan_gp.gradient_penalty_weight == 10.0
    assert wgan_gp.discriminator.get_layer("score").activation.__name__ == "linear"   # WGAN-GP critic


def test_jit_compile_steps_per_execution_and_gradient_penalty():
    keras.utils.set_random_seed(0)
    g, d = _tiny_gan(linear_critic=True)
    trainer = AdversarialTrainer(g, d, adversarial_loss="wasserstein", content_loss="l1", content_weight=100.0,
                                 d_steps=2, gradient_penalty_weight=10.0)
    trainer.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4), jit_compile=True,
                    steps_per_execution=2)
    assert trainer.jit_compile is True
    x, y = _batch(16, (8, 8, 3), (8, 8, 3))
    history = trainer.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(4), epochs=1, verbose=0)
    assert int(trainer.optimizer.iterations) == 4 and int(trainer.d_optimizer.iterations) == 8
    assert history.history["d_gp"][0] > 0 and all(np.isfinite(v[0]) for v in history.history.values())


MIRRORED_SCRIPT = textwrap.dedent("""
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np
    from keras_inpaint.models.context_encoder import network as ce
    from keras_inpaint.training.adversarial import AdversarialTrainer

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    y = rng.uniform(-1, 1, (8, 16, 16, 3)).astype("float32")
    keras.utils.set_random_seed(0)
    # dropout 0: the replicas of a MirroredStrategy draw other dropout masks than one device does
    init = [ce.build_context_encoder_generator((32, 32, 3), dropout=0.0).get_weights(),
            ce.build_context_encoder_discriminator((16, 16, 3), dropout=0.0).get_weights()]

    def run(strategy):
        with strategy.scope():
            g = ce.build_context_encoder_generator((32, 32, 3), dropout=0.0, synchronized=True)
            d = ce.build_context_encoder_discriminator((16, 16, 3), dropout=0.0, synchronized=True)
            g.set_weights(init[0]); d.set_weights(init[1])
            t = AdversarialTrainer(g, d, content_weight=0.999, adversarial_weight=0.001, d_steps=2)
            t.compile(keras.optimizers.Adam(2e-3, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5))
        h = t.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(4), epochs=2, steps_per_epoch=1, verbose=0)
        return h.history, int(t.d_optimizer.iterations.numpy())

    def default_sync(strategy):
        # the registry's context_encoder_gan as train.py builds it, sync_bn left at its default (None)
        from keras_inpaint import registry
        from keras_inpaint.training import checkpoints, config
        spec = registry.get("context_encoder_gan")
        with strategy.scope():
            m = checkpoints.build_training_model(spec,
                                                 config.RunConfig.of(model=spec.id, precision="float32").resolved())
        return [bool(layer.synchronized) for net in (m.generator, m.discriminator) for layer in net.layers
                if isinstance(layer, keras.layers.BatchNormalization)]

    single, single_it = run(tf.distribute.get_strategy())
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    mirrored, mirrored_it = run(strategy)
    print("RESULT" + json.dumps({"single": single, "mirrored": mirrored, "replicas": strategy.num_replicas_in_sync,
                                 "iterations": [single_it, mirrored_it],
                                 "sync_default": {"single": default_sync(tf.distribute.get_strategy()),
                                                  "mirrored": default_sync(strategy)}}))
""")


def test_mirrored_strategy_reproduces_the_single_device_losses():
    """context_encoder_gan, global batch 4: one device vs two replicas of 2 (synchronized BatchNorm, SPEC §5); and
    the registry's context_encoder_gan, built as train.py builds it, synchronises its BatchNorm exactly when the
    strategy has several replicas (the `sync_bn` default)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    r = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], cwd=ROOT, capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.split("RESULT", 1)[1])
    assert out["replicas"] == 2 and out["iterations"] == [4, 4]
    for key in ("d_loss", "g_loss", "g_content", "g_adv", "d_real", "d_fake"):
        np.testing.assert_allclose(out["mirrored"][key], out["single"][key], rtol=2e-3, atol=1e-5, err_msg=key)
    # README: BatchNorm is synchronised across replicas by default (sync_bn None = on iff several replicas)
    sync = out["sync_default"]
    assert sync["mirrored"] and all(sync["mirrored"]), sync
    assert len(sync["single"]) == len(sync["mirrored"]) and not any(sync["single"]), sync


class _KeepModelAndInterrupt(keras.callbacks.Callback):
    """Keeps a reference to the trained model, then raises KeyboardInterrupt after epoch `epoch`'s checkpoint."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch, self.kept = epoch, None

    def on_epoch_end(self, epoch, logs=None):
        self.kept = self.model
        if epoch == self.epoch:
            raise KeyboardInterrupt


def _image_folder(path, n=40, size=32):
    from PIL import Image

    from keras_inpaint import data

    os.makedirs(path)
    rng = np.random.default_rng(0)
    for i in range(n):
        base = rng.integers(0, 256, (1, 1, 3))
        img = np.clip(base + rng.integers(-40, 40, (size, size, 3)), 0, 255).astype("uint8")
        Image.fromarray(img).save(os.path.join(path, f"img{i:03d}.png"))
    assert data.list_folder_images(path, "test")                # the hash split holds back a few
    return path


def test_interrupted_gan_run_resumes_both_optimizers(tmp_path):
    folder = _image_folder(str(tmp_path / "images"))
    config = run.RunConfig.of(model="context_encoder_gan", dataset=f"folder:{folder}",
                              output_dir=str(tmp_path / "run"), steps=4, steps_per_epoch=2, batch_size=4, val_examples=8, export_dir=None)
    keep = _KeepModelAndInterrupt(0)
    with pytest.raises(KeyboardInterrupt):
        run.train(config, extra_callbacks=[keep], verbose=0)
    saved = keep.kept
    restored = run.load_trained_model(config.resolved())       # what evaluate-only / export load
    assert int(restored.optimizer.iterations) == 2 and int(restored.d_optimizer.iterations) == 2
    for mine, theirs in ((saved.optimizer, restored.optimizer), (saved.d_optimizer, restored.d_optimizer)):
        assert len(mine.variables) == len(theirs.variables) > 2
        for a, b in zip(mine.variables, theirs.variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(saved.weights, restored.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    config.runtime.export_dir = str(tmp_path / "saved_models")
    result = run.train(config, verbose=0)
    assert len(result["history"]["d_loss"]) == 1                # only the missing epoch was trained
    assert result["metrics"]["steps"] == 4
    again = run.load_trained_model(config.resolved())
    assert int(again.optimizer.iterations) == 4 and int(again.d_optimizer.iterations) == 4
    assert "val_loss" in result["history"] and "val_psnr" in result["history"]
    served = tf.saved_model.load(result["export_path"]).signatures["serving_default"]
    images = tf.zeros([2, 32, 32, 3], tf.uint8)
    assert served(images=images)["images"].shape == (2, 32, 32, 3)
    assert run.evaluate(config, verbose=False)["steps"] == 4     # evaluate-only path


def test_without_adversarial_terms_the_discriminator_never_runs():
    """--adversarial_weight=0 --feature_matching=0: a content-only step (D untouched, not even called), the same
    generator update as the content loss alone, and only the generator's terms logged."""
    keras.utils.set_random_seed(0)
    g, d = _tiny_gan()
    calls = []
    d_call = d.call
    d.call = lambda *a, **k: calls.append(1) or d_call(*a, **k)
    x, y = _batch(4, (8, 8, 3), (8, 8, 3))
    trainer = AdversarialTrainer(g, d, content_loss="l1", content_weight=100.0, adversarial_weight=0.0,
                                 feature_matching_weight=0.0, gradient_penalty_weight=10.0, d_steps=2)
    trainer.compile(keras.optimizers.SGD(0.01), keras.optimizers.Adam(1e-3))
    assert trainer.content_only
    # the generator update a plain content-loss step would make
    with tf.GradientTape() as tape:
        loss = 100.0 * tf.reduce_mean(tf.abs(g(x, training=True) - y))
    grads = tape.gradient(loss, g.trainable_variables)
    expected = [w.numpy() - 0.01 * gr.numpy() for w, gr in zip(g.trainable_variables, grads)]
    d0, d_vars0 = _weights(d), [v.numpy().copy() for v in d.non_trainable_weights]
    logs = trainer.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"g_loss", "g_content"}
    assert logs["g_loss"] == pytest.approx(100.0 * logs["g_content"], rel=1e-6)
    assert not calls and int(trainer.d_optimizer.iterations) == 0
    assert all(np.array_equal(a, b) for a, b in zip(d0, _weights(d)))
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(d_vars0, d.non_trainable_weights))
    for w, e in zip(g.trainable_variables, expected):
        np.testing.assert_allclose(w.numpy(), e, rtol=1e-5, atol=1e-6)
    # an adversarial weight brings D back (and the call count shows that the interception above sees D's calls)
    t = AdversarialTrainer(g, d, content_loss="l1", adversarial_weight=1e-3)
    t.compile(keras.optimizers.SGD(0.01), keras.optimizers.Adam(1e-3))
    assert not t.content_only
    assert set(t.train_on_batch(x, y, return_dict=True)) >= {"d_loss", "g_adv"}
    assert calls and int(t.d_optimizer.iterations) == 1


def test_generator_optimiser_follows_the_entrys_schedule_and_clipnorm():
    """A GAN generator's Adam is the entry's (`ModelSpec.make_optimizer`): lama_ffc's lr_drops (1e-3 -> 1e-4 at
    3/4 of the run's steps) apply to G, --clipnorm clips G's gradients' global norm, and D's Adam keeps its own
    constant rate, unclipped."""
    spec = registry.get("lama_ffc")
    config = run.RunConfig.of(model="lama_ffc", steps=100, clipnorm=0.25, precision="float32").resolved()
    trainer = run.build_training_model(spec, config)
    rates = []
    for step in (0, 75, 76, 99):
        trainer.optimizer.iterations.assign(step)
        rates.append(float(trainer.optimizer.learning_rate))
    np.testing.assert_allclose(rates, [1e-3, 1e-3, 1e-4, 1e-4], rtol=1e-6)
    assert trainer.optimizer.global_clipnorm == 0.25
    assert trainer.d_optimizer.global_clipnorm is None
    assert float(trainer.d_optimizer.learning_rate) == pytest.approx(1e-4, rel=1e-6)
