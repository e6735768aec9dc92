"""MACs and output shapes of this library's layers, and of layers whose file records no build shape.

The main job's model (`keras-recipes train vae`, then `keras-recipes count`)
holds a `Sampling` layer, a `Reshape` at the decoder's end and two nested
models: its table must have no unknown MACs or output bytes, from the saved
file as from the live model.
"""

import keras
import pytest

import keras_recipes
from keras_recipes.layers import FeatureMean, Sampling, SelectChannels
from keras_recipes.param_count import count_config, count_model, layer_macs, layer_output_shape

# (layer, registered name, input shape as build() gets it)
OWN_LAYERS = [
    (Sampling(seed=1), "keras_recipes>Sampling", [(None, 3), (None, 3)]),
    (Sampling(), "keras_recipes>Sampling", [(None, 4, 2), (None, 4, 2)]),
    (FeatureMean(), "keras_recipes>FeatureMean", (None, 3)),
    (FeatureMean(), "keras_recipes>FeatureMean", (None, 5, 4, 2)),
    (SelectChannels([2, 0]), "keras_recipes>SelectChannels", (None, 4, 4, 3)),
    (SelectChannels([1]), "keras_recipes>SelectChannels", (None, 6)),
]


def _as_lists(shape):
    return [list(item) for item in shape] if isinstance(shape, list) else list(shape)


@pytest.mark.parametrize(
    "layer, registered_name, input_shape", OWN_LAYERS, ids=lambda value: str(value)[:40]
)
def test_own_layers_match_their_compute_output_shape(layer, registered_name, input_shape):
    """Our registered layers: output shape == the live layer's compute_output_shape, 0 MACs."""
    assert keras.saving.get_registered_name(type(layer)) == registered_name
    class_name, config = type(layer).__name__, layer.get_config()
    build = {"input_shape": _as_lists(input_shape)}
    expected = tuple(layer.compute_output_shape(input_shape))
    shape = layer_output_shape(class_name, config, build, registered_name=registered_name)
    assert shape == expected
    assert layer_macs(class_name, config, build, registered_name=registered_name) == 0


@pytest.mark.parametrize("registered_name", [None, "my_package>Sampling", "Sampling"])
def test_a_class_merely_named_like_ours_stays_unknown(registered_name):
    """`Sampling` known only as `keras_recipes>Sampling`: a bare or foreign name gives None."""
    build = {"input_shape": [[None, 3], [None, 3]]}
    assert layer_macs("Sampling", {}, build, registered_name=registered_name) is None
    assert layer_output_shape("Sampling", {}, build, registered_name=registered_name) is None


def test_a_foreign_registered_class_named_like_a_keras_layer_stays_unknown():
    """A registered `my_package>Dense` is not Keras's Dense; Keras's own needs no name."""
    build = {"input_shape": [None, 4]}
    assert layer_macs("Dense", {"units": 3}, build, registered_name="my_package>Dense") is None
    assert layer_macs("Dense", {"units": 3}, build, registered_name="Dense") == 12
    assert layer_macs("Flatten", {}, None, registered_name="my_package>Flatten") is None


def test_own_layers_have_0_macs_even_without_a_build_shape():
    """Elementwise or gathering layers are 0 MACs by convention; their shape needs the input."""
    for name in ("Sampling", "FeatureMean", "SelectChannels"):
        registered = f"keras_recipes>{name}"
        assert layer_macs(name, {"channels": [0]}, None, registered_name=registered) == 0
        assert layer_output_shape(name, {"channels": [0]}, None, registered_name=registered) is None


def test_bad_own_layer_configs_are_refused():
    """A config our layers could not have raises, naming the key."""
    build = {"input_shape": [None, 4, 3]}
    with pytest.raises(ValueError, match="`channels`.*Received: channels=\\[\\]"):
        layer_output_shape("SelectChannels", {"channels": []}, build,
                           registered_name="keras_recipes>SelectChannels")
    with pytest.raises(ValueError, match="input_shape"):
        layer_output_shape("Sampling", {}, build, registered_name="keras_recipes>Sampling")
    with pytest.raises(TypeError, match="`registered_name`"):
        layer_macs("Dense", {"units": 3}, {"input_shape": [None, 4]}, registered_name=3)


# Every recipe with a custom layer, a layer saved without a build shape or a
# nested model: (builder, args, kwargs).
SAVED = [
    ("vae", ((6,), 2), {"hidden_units": (5, 3), "seed": 1}),
    ("vae", ((4, 4, 1), 2), {"hidden_units": (3,), "seed": 1}),
    ("vae", ((8, 8, 2), 3), {"architecture": "conv", "filters": (2, 3), "intermediate_dim": 4}),
    ("autoencoder", ((4, 4, 3), 2), {"architecture": "conv", "filters": (2,), "intermediate_dim": 3}),
    ("split_brain_ae", ((16, 16, 3),), {"architecture": "small", "width_multiplier": 0.125}),
    ("averaging_layer", (3,), {}),
]


def _row_values(table):
    return [(row.path, row.class_name, row.count, row.macs, row.output_bytes, row.status)
            for row in table.rows]


@pytest.mark.parametrize("name, args, kwargs", SAVED, ids=[f"{row[0]}-{row[1]}" for row in SAVED])
def test_saved_recipes_have_every_mac_and_output_size(name, args, kwargs, tmp_path):
    """count_config on a saved recipe: no unknown MACs or output bytes, and count_model agrees row by row."""
    model = getattr(keras_recipes, name)(*args, **kwargs)
    path = tmp_path / "model.keras"
    model.save(path)
    saved = count_config(path)
    unknown = [row.path for row in saved.rows if row.macs is None or row.output_bytes is None]
    assert unknown == []
    assert saved.macs is not None
    live = count_model(model)
    # count_model measures output bytes on the live tensors: agreement means
    # the file's shapes are the ones Keras computes.
    assert _row_values(saved) == _row_values(live)


def _reshape_at_the_end():
    inputs = keras.Input((6,), name="numbers")
    hidden = keras.layers.Dense(8, name="dense")(inputs)
    outputs = keras.layers.Reshape((2, -1), name="reshape")(hidden)
    return keras.Model(inputs, outputs, name="tail")


def test_a_layer_without_build_shape_is_measured_on_the_shape_it_was_called_on():
    """A model's last layer (read by no other) with no build config: shape from its inbound node."""
    model = _reshape_at_the_end()
    config = model.get_config()
    reshape = next(layer for layer in config["layers"] if layer["name"] == "reshape")
    assert reshape.get("build_config") is None
    (row,) = [row for row in count_config(config).rows if row.path == "reshape"]
    assert row.output_bytes == 8 * 4
    assert model.outputs[0].shape == (None, 2, 4)


def test_a_nested_model_row_measures_the_inner_models_outputs():
    """A nested model that is the outer model's output: its row's bytes are its outputs' bytes."""
    inner = _reshape_at_the_end()
    inputs = keras.Input((6,))
    sequential = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(4, name="d"), keras.layers.Reshape((2, 2), name="r")],
        name="seq",
    )
    model = keras.Model(inputs, [inner(inputs), sequential(inputs)], name="outer")
    saved = count_config(model.get_config())
    rows = {row.path: row for row in saved.rows}
    assert rows["tail"].output_bytes == 8 * 4
    assert rows["seq"].output_bytes == rows["seq/r"].output_bytes == 4 * 4
    assert _row_values(saved) == _row_values(count_model(model))


def test_a_hostile_inbound_shape_leaves_the_value_unknown():
    """A recorded input shape Keras could not have made gives `None`, not an error."""
    config = _reshape_at_the_end().get_config()
    reshape = next(layer for layer in config["layers"] if layer["name"] == "reshape")
    for shape in ([None, -5], "abc", [None, 7], [[None, 8]] * 100):
        reshape["inbound_nodes"][0]["args"][0]["config"]["shape"] = shape
        (row,) = [row for row in count_config(config).rows if row.path == "reshape"]
        assert row.output_bytes is None


def test_an_operation_on_several_tensors_is_measured_on_all_of_them():
    """`x + y` as the model's output: its saved node's two inputs give its shape, as live."""
    inputs = keras.Input((4,))
    left = keras.layers.Dense(3, name="a")(inputs)
    right = keras.layers.Dense(1, name="b")(inputs)
    model = keras.Model(inputs, left + right)
    saved, live = count_config(model.get_config()), count_model(model)
    # (None, 3) + (None, 1) broadcasts to (None, 3): 3 float32 numbers.
    assert saved.rows[-1].output_bytes == 12
    assert _row_values(saved) == _row_values(live)
