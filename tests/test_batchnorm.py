"""BatchNorm statistics re-estimated after training (keras_inpaint/training/batchnorm.py, issue 31)."""
import keras
import numpy as np
import pytest

from keras_inpaint.training import batchnorm


def _net():
    inputs = keras.Input((4, 4, 2))
    x = keras.layers.Conv2D(3, 1, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    inner = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.BatchNormalization(name="inner_bn")])
    return keras.Model(inputs, inner(x))


def test_moving_statistics_become_the_average_of_the_batch_statistics():
    net = _net()
    rng = np.random.default_rng(0)
    batches = [(rng.normal(k, 1 + k, (8, 4, 4, 2)).astype(np.float32), None) for k in range(5)]
    assert batchnorm.reestimate_batchnorm(net, iter(batches + batches), 5) == 2
    conv = net.get_layer("conv")
    feats = [conv(x).numpy().reshape(-1, 3) for x, _ in batches]
    bn = net.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), np.mean([f.mean(0) for f in feats], 0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), np.mean([f.var(0) for f in feats], 0), rtol=1e-4)
    assert bn.momentum == 0.99 and net.layers[-1].layers[0].momentum == 0.99     # restored
    assert not np.allclose(net.layers[-1].layers[0].moving_mean.numpy(), 0)     # nested models too
    # the same batches give the same statistics whatever the previous ones were
    before = bn.moving_mean.numpy()
    batchnorm.reestimate_batchnorm(net, iter(batches), 5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), before, rtol=1e-6)


def test_no_batchnorm_and_bad_arguments():
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    assert batchnorm.reestimate_batchnorm(plain, iter([]), 3) == 0
    with pytest.raises(ValueError, match="ended after 1 of 3"):
        batchnorm.reestimate_batchnorm(_net(), iter([(np.zeros((2, 4, 4, 2), np.float32), None)]), 3)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        batchnorm.reestimate_batchnorm(_net(), iter([]), 0)
