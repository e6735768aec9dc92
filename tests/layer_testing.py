"""One contract check for every custom Keras class of the library, after Keras's own `run_layer_test`.

Keras tests each of its layers with `TestCase.run_layer_test` and
`run_class_serialization_test` (keras/src/testing/test_case.py); these are the
same checks, as plain functions for pytest:

- `run_serialization_test(instance, registered_name)`: the class is
  registered under that name, `from_config(get_config())` gives an equal
  config through JSON, and `serialize_keras_object` /
  `deserialize_keras_object` round-trip through the registered name. Layers
  and losses alike.
- `run_layer_test(layer_class, init_kwargs, input_data, ...)`: the above,
  every constructor argument listed in `get_config`, a layer rebuilt from its
  config computing what the original does, the weight counts, the output
  shape against `compute_output_shape` eagerly and symbolically, and a save
  to `.keras` loaded with `safe_mode=True` that goes on computing what the
  original computes.

Test modules `import layer_testing` (`tests/conftest.py` puts this folder on
`sys.path`).
"""

import json
from typing import NamedTuple

import keras
import numpy as np


class LayerTestResult(NamedTuple):
    """What `run_layer_test` built: `layer`, called eagerly, and `loaded`, the layer of the model loaded from `.keras`."""

    layer: keras.layers.Layer
    loaded: keras.layers.Layer


def _numpy(tensors):
    return [keras.ops.convert_to_numpy(tensor) for tensor in keras.tree.flatten(tensors)]


def _assert_same(actual, expected, what):
    actual, expected = _numpy(actual), _numpy(expected)
    assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, expected {len(expected)}"
    for got, want in zip(actual, expected):
        np.testing.assert_array_equal(got, want, err_msg=what)


def run_serialization_test(instance, registered_name):
    """Check `instance`'s class is registered as `registered_name` and its config round-trips.

    Returns the instance rebuilt by `deserialize_keras_object`, for checks of
    what it computes.
    """
    cls = type(instance)
    assert keras.saving.get_registered_name(cls) == registered_name, (
        f"{cls.__name__} is not registered as {registered_name!r}: "
        f"{keras.saving.get_registered_name(cls)!r}"
    )
    assert keras.saving.get_registered_object(registered_name) is cls

    # get_config -> JSON -> from_config gives the same config.
    config = instance.get_config()
    config_json = json.dumps(config, sort_keys=True)
    revived = cls.from_config(json.loads(config_json))
    assert type(revived) is cls
    assert revived.get_config() == config
    assert json.dumps(revived.get_config(), sort_keys=True) == config_json

    # The saved form names the registered class, and is enough to rebuild it.
    serialized = keras.saving.serialize_keras_object(instance)
    assert serialized["registered_name"] == registered_name
    revived = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(revived) is cls
    assert json.dumps(revived.get_config(), sort_keys=True) == config_json
    return revived


def run_layer_test(
    layer_class,
    init_kwargs,
    input_data,
    *,
    registered_name,
    directory,
    expected_output_shape=None,
    expected_output=None,
    expected_num_trainable_weights=0,
    expected_num_non_trainable_weights=0,
    expected_num_non_trainable_variables=None,
    deterministic=True,
):
    """Check a custom layer's whole contract with Keras; returns a `LayerTestResult`.

    Args:
        layer_class: the layer class under test.
        init_kwargs: the constructor arguments, a dict; each must appear in
            `get_config()` with the same JSON value (`name` included if given).
        input_data: a numpy array, or a list of them for a layer called on a
            list; the first axis is the batch.
        registered_name: the name Keras saves the class under,
            `"keras_recipes>ClassName"`.
        directory: a folder to write the `.keras` file in (`tmp_path`).
        expected_output_shape: the output's shape on `input_data`, or `None`
            to check it against `compute_output_shape` only.
        expected_output: the output on `input_data`, or `None`; also the
            output of the reloaded model where `deterministic`.
        expected_num_trainable_weights: trainable weights once built.
        expected_num_non_trainable_weights: non-trainable weights once built.
        expected_num_non_trainable_variables: non-trainable variables once
            built (a `SeedGenerator`'s state is one), or `None` not to check.
        deterministic: whether two layers built from one config compute the
            same output (`False` for a random layer without a seed); the
            saved-and-loaded model must go on computing what the original
            computes either way.
    """
    inputs_list = input_data if isinstance(input_data, (list, tuple)) else [input_data]
    call_input = list(inputs_list) if isinstance(input_data, (list, tuple)) else input_data

    # === Config and registration ===
    layer = layer_class(**init_kwargs)
    config = layer.get_config()
    for argument, value in init_kwargs.items():
        assert argument in config, f"get_config() lacks the constructor argument `{argument}`"
        if argument != "dtype":
            assert json.dumps(config[argument]) == json.dumps(_plain(value)), (
                f"get_config()[{argument!r}] is {config[argument]!r}, built with {value!r}"
            )
    rebuilt = run_serialization_test(layer, registered_name)
    if "name" in init_kwargs:
        assert rebuilt.name == init_kwargs["name"]

    # === Eager call: outputs, shape, weights ===
    # The original and the rebuilt layer are both called here for the first
    # time, so a seeded random layer draws the same numbers in both.
    output = layer(call_input)
    if deterministic:
        _assert_same(rebuilt(call_input), output, "a layer rebuilt from get_config()")
    if expected_output is not None:
        _assert_same(output, expected_output, "the layer's output")
    input_shapes = [tuple(array.shape) for array in inputs_list]
    computed_shape = layer.compute_output_shape(
        input_shapes if isinstance(input_data, (list, tuple)) else input_shapes[0]
    )
    assert tuple(output.shape) == tuple(computed_shape), (
        f"output shape {tuple(output.shape)}, compute_output_shape says {tuple(computed_shape)}"
    )
    if expected_output_shape is not None:
        assert tuple(output.shape) == tuple(expected_output_shape)
    assert len(layer.trainable_weights) == expected_num_trainable_weights, (
        f"{len(layer.trainable_weights)} trainable weights, expected {expected_num_trainable_weights}"
    )
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights, (
        f"{len(layer.non_trainable_weights)} non-trainable weights, "
        f"expected {expected_num_non_trainable_weights}"
    )
    assert layer.count_params() == sum(int(np.prod(weight.shape)) for weight in layer.weights)
    if expected_num_non_trainable_variables is not None:
        assert len(layer.non_trainable_variables) == expected_num_non_trainable_variables

    # === Symbolic call, saved to .keras and loaded with safe_mode=True ===
    symbolic = [keras.Input(shape=array.shape[1:], dtype=array.dtype) for array in inputs_list]
    model_input = symbolic if isinstance(input_data, (list, tuple)) else symbolic[0]
    name = init_kwargs.get("name", "layer_under_test")
    saved_layer = layer_class(**{**init_kwargs, "name": name})
    model_output = saved_layer(model_input)
    symbolic_shapes = [tuple(tensor.shape) for tensor in symbolic]
    assert tuple(model_output.shape) == tuple(
        saved_layer.compute_output_shape(
            symbolic_shapes if isinstance(input_data, (list, tuple)) else symbolic_shapes[0]
        )
    )
    model = keras.Model(model_input, model_output)
    # One call before saving moves a random layer's stream past its start:
    # the loaded copy must take up the stream where the original is.
    # `predict`, as a user would: the compiled path, not only eager calls.
    model.predict(call_input, verbose=0)
    path = directory / f"{layer_class.__name__}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    loaded_layer = loaded.get_layer(name)
    assert type(loaded_layer) is layer_class
    assert loaded_layer.get_config() == saved_layer.get_config()
    reloaded_output = loaded.predict(call_input, verbose=0)
    _assert_same(reloaded_output, model.predict(call_input, verbose=0), "the model loaded with safe_mode=True")
    if expected_output is not None and deterministic:
        _assert_same(reloaded_output, expected_output, "the loaded model's output")
    return LayerTestResult(layer=layer, loaded=loaded_layer)


def _plain(value):
    """`value` as `get_config` stores it: numpy scalars as Python numbers, tuples as lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
