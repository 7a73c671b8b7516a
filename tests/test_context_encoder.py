"""Seed 000 §IV-A context encoder: the layer table, row by row (spec/models.md §1)."""
import keras
import pytest

from keras_inpaint import registry

# (layer name, class, output shape, strides, activation, params) — spec/models.md §1, rows 1-10.
TABLE = [
    ("conv1", "Conv2D", (16, 16, 32), (2, 2), "relu", 896),
    ("conv2", "Conv2D", (8, 8, 64), (2, 2), "relu", 18_496),
    ("conv3", "Conv2D", (4, 4, 128), (2, 2), "relu", 73_856),
    ("bn3", "BatchNormalization", (4, 4, 128), None, None, 512),
    ("flatten", "Flatten", (2048,), None, None, 0),
    ("dropout", "Dropout", (2048,), None, None, 0),
    ("dense", "Dense", (2048,), None, "relu", 4_196_352),
    ("reshape", "Reshape", (4, 4, 128), None, None, 0),
    ("deconv1", "Conv2DTranspose", (8, 8, 64), (2, 2), "relu", 73_792),
    ("fill", "Conv2DTranspose", (16, 16, 3), (2, 2), "relu", 1_731),
]


@pytest.fixture(scope="module")
def model():
    return registry.get("context_encoder").build_network()


def test_parameter_count_matches_paper_table(model):
    assert model.count_params() == 4_365_635
    assert sum(int(w.numpy().size) for w in model.trainable_weights) == 4_365_379
    assert registry.get("context_encoder").params == model.count_params()


@pytest.mark.parametrize("name,cls,shape,strides,activation,params", TABLE)
def test_each_layer_matches_table_row(model, name, cls, shape, strides, activation, params):
    layer = model.get_layer(name)
    assert type(layer).__name__ == cls
    assert tuple(layer.output.shape[1:]) == shape
    assert layer.count_params() == params
    if strides is not None:
        assert tuple(layer.strides) == strides
        assert layer.kernel_size == (3, 3)
        assert layer.padding == "same"
    if activation is not None:
        assert layer.activation is keras.activations.get(activation)


def test_layer_order_is_the_table_order(model):
    names = [l.name for l in model.layers[1:]]
    assert names == [row[0] for row in TABLE]


def test_input_and_output_shapes(model):
    assert tuple(model.input.shape[1:]) == (32, 32, 3)
    assert tuple(model.output.shape[1:]) == (16, 16, 3)
