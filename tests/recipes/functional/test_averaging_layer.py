"""Tests of `keras_recipes.averaging_layer`: each sample's output is its feature mean.

The lecture's `Lambda(lambda x: K.mean(x))` averaged the whole batch into one
number; these tests check each row is averaged on its own, against numpy.
"""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import numpy as np
import pytest

from keras_recipes import averaging_layer
from keras_recipes.layers import FeatureMean


@pytest.mark.parametrize(
    ("batch", "input_dim", "seed"),
    [(1, 3, 0), (7, 3, 1), (7, 5, 2), (4, 1, 3), (32, 10, 4)],
)
def test_output_is_the_mean_of_each_row(batch, input_dim, seed):
    """predict(x) equals numpy x.mean(axis=1, keepdims=True), row by row."""
    model = averaging_layer(input_dim)
    x = helpers.inputs(batch, input_dim, seed=seed)
    actual = model.predict(x, verbose=0)
    assert actual.shape == (batch, 1)
    np.testing.assert_allclose(actual, x.mean(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_lecture_example_values():
    """The rows [1, 2, 6] and [0, 0, 3] average to 3 and 1, not to one batch-wide 2."""
    model = averaging_layer(3)
    actual = model.predict(np.array([[1.0, 2.0, 6.0], [0.0, 0.0, 3.0]]), verbose=0)
    np.testing.assert_allclose(actual, [[3.0], [1.0]])


def test_rows_are_independent_of_the_batch():
    """Predicting a batch of 7 gives, for each row, what predicting that row alone gives (no K.mean over the batch)."""
    model = averaging_layer(4)
    x = helpers.inputs(7, 4, seed=5)
    x[3] += 100.0  # an outlier row would leak into every row if the batch were averaged
    together = model.predict(x, batch_size=7, verbose=0)
    alone = np.concatenate([model.predict(x[i : i + 1], verbose=0) for i in range(7)])
    np.testing.assert_allclose(together, alone, rtol=1e-6)
    assert np.ptp(together) > 1.0  # rows are not all one value


def test_model_has_no_parameters():
    """The averaging model has 0 parameters and no weights at all."""
    model = averaging_layer(5)
    assert model.count_params() == 0
    assert model.weights == []


def test_model_has_no_lambda_layer():
    """The model uses the registered FeatureMean layer, never a Lambda."""
    model = averaging_layer(3)
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)
    assert [type(layer) for layer in model.layers[1:]] == [FeatureMean]
    assert [layer.name for layer in model.layers] == [
        "averaging_layer_input",
        "averaging_layer_mean",
    ]


def test_output_shape_is_batch_by_one():
    """The model maps (batch, input_dim) to (batch, 1)."""
    model = averaging_layer(6)
    assert tuple(model.input.shape) == (None, 6)
    assert tuple(model.output.shape) == (None, 1)


def test_saved_model_reloads_safely(tmp_path):
    """The model saves to .keras and loads with the default safe_mode=True, predicting the same values."""
    model = averaging_layer(3, name="avg")
    path = tmp_path / "avg.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = helpers.inputs(5, 3, seed=6)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_compiled_with_the_given_loss_and_metrics():
    """evaluate reports the given loss and metrics, matching numpy on the row means."""
    model = averaging_layer(3, loss="mae", metrics=["mse"])
    x = helpers.inputs(8, 3, seed=7)
    y = helpers.inputs(8, 1, seed=8)
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    error = y - x.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(results["loss"], np.mean(np.abs(error)), rtol=1e-5)
    np.testing.assert_allclose(results["mse"], np.mean(error**2), rtol=1e-5)


# === Bad input ===

_VALID = [
    ("input_dim", {"input_dim": 1}),
    ("input_dim", {"input_dim": np.int32(4)}),
    ("loss", {"loss": "mae"}),
    ("loss", {"loss": keras.losses.MeanSquaredError()}),
    ("loss", {"loss": lambda y_true, y_pred: keras.ops.mean(keras.ops.abs(y_true - y_pred))}),
    ("optimizer", {"optimizer": "sgd"}),
    ("optimizer", {"optimizer": keras.optimizers.Adam()}),
    ("metrics", {"metrics": None}),
    ("metrics", {"metrics": ["mae", keras.metrics.MeanSquaredError()]}),
    ("name", {"name": "avg"}),
]

_INVALID = [
    ("input_dim", {"input_dim": "3"}, TypeError),
    ("input_dim", {"input_dim": 2.5}, TypeError),
    ("input_dim", {"input_dim": True}, TypeError),
    ("input_dim", {"input_dim": [3]}, TypeError),
    ("input_dim", {"input_dim": 0}, ValueError),
    ("input_dim", {"input_dim": -1}, ValueError),
    ("loss", {"loss": "msex"}, ValueError),
    ("loss", {"loss": 3}, TypeError),
    ("optimizer", {"optimizer": "adamx"}, ValueError),
    ("optimizer", {"optimizer": None}, TypeError),
    ("metrics", {"metrics": "mae"}, TypeError),
    ("metrics", {"metrics": ["maex"]}, ValueError),
    ("metrics", {"metrics": [3]}, TypeError),
    ("name", {"name": "a/b"}, ValueError),
    ("name", {"name": ""}, ValueError),
    ("name", {"name": 3}, TypeError),
]


@pytest.mark.parametrize(("argument", "kwargs"), _VALID, ids=helpers.case_ids(_VALID))
def test_valid_argument_builds(argument, kwargs):
    """A valid value of each argument builds a compiled (batch, 1) model."""
    model = helpers.assert_builds(averaging_layer, {"input_dim": 3, **kwargs})
    assert tuple(model.output.shape) == (None, 1)


@pytest.mark.parametrize(("argument", "kwargs", "error"), _INVALID, ids=helpers.case_ids(_INVALID))
def test_invalid_argument_raises_before_building(no_building, argument, kwargs, error):
    """An invalid value raises TypeError/ValueError naming `argument` with "Received:", before any layer is built."""
    helpers.assert_invalid(averaging_layer, {"input_dim": 3, **kwargs}, argument, error)


def test_no_building_fixture_catches_building(no_building):
    """Control for the fixture: a valid call does reach the patched Keras constructors."""
    with pytest.raises(no_building):
        averaging_layer(3)


@pytest.mark.parametrize("argument", ["activation", "output_activation", "seed"])
def test_weightless_model_takes_no_weight_arguments(argument):
    """A model without weights has no activation, output_activation or seed argument."""
    with pytest.raises(TypeError, match=argument):
        averaging_layer(3, **{argument: None})
