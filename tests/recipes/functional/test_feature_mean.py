"""Tests of `keras_recipes.layers.FeatureMean`, the registered layer of `averaging_layer()`."""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import layer_testing  # tests/layer_testing.py, likewise
import numpy as np
import pytest

from keras_recipes.layers import FeatureMean


def test_rank_2_input_averages_each_row():
    """On (batch, d) input the output is numpy x.mean(axis=1, keepdims=True)."""
    x = helpers.inputs(7, 5, seed=0)
    actual = keras.ops.convert_to_numpy(FeatureMean()(x))
    np.testing.assert_allclose(actual, x.mean(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 3, 5), (1, 2, 6), (3, 2, 2, 2)])
def test_higher_rank_input_averages_all_non_batch_axes(shape):
    """On (batch, d1, ..., dn) input the output is (batch, 1): each sample's mean over all its features."""
    x = helpers.inputs(*shape, seed=1)
    actual = keras.ops.convert_to_numpy(FeatureMean()(x))
    expected = x.reshape(shape[0], -1).mean(axis=1, keepdims=True)
    assert actual.shape == (shape[0], 1)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_rank_3_symbolic_output_shape():
    """Inside a functional model a (None, 3, 4) input gives a (None, 1) output with the per-sample mean."""
    inputs = keras.Input(shape=(3, 4))
    outputs = FeatureMean()(inputs)
    assert tuple(outputs.shape) == (None, 1)
    model = keras.Model(inputs, outputs)
    x = helpers.inputs(6, 3, 4, seed=2)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), x.mean(axis=(1, 2))[:, None], rtol=1e-5, atol=1e-6
    )


def test_batch_is_never_averaged():
    """Each sample's output depends on that sample only, not on the rest of the batch."""
    x = helpers.inputs(5, 3, 2, seed=3)
    together = keras.ops.convert_to_numpy(FeatureMean()(x))
    alone = np.concatenate(
        [keras.ops.convert_to_numpy(FeatureMean()(x[i : i + 1])) for i in range(5)]
    )
    np.testing.assert_allclose(together, alone, rtol=1e-6)


@pytest.mark.parametrize(
    ("input_shape", "output_shape"),
    [((None, 4), (None, 1)), ((None, 3, 4), (None, 1)), ((8, 2, 2, 2), (8, 1))],
)
def test_compute_output_shape(input_shape, output_shape):
    """compute_output_shape keeps the batch size and returns one feature."""
    assert tuple(FeatureMean().compute_output_shape(input_shape)) == output_shape


def test_rank_1_input_is_refused():
    """A rank-1 input has no feature axis: ValueError naming the layer, with "Received:"."""
    with pytest.raises(ValueError, match=r"`FeatureMean`(.|\n)*Received: inputs.shape="):
        FeatureMean()(np.array([1.0, 2.0, 3.0], dtype="float32"))


@pytest.mark.parametrize(
    ("init_kwargs", "input_data"),
    [
        ({"name": "fm", "dtype": "float64"}, helpers.inputs(3, 4, seed=0).astype("float64")),
        ({"name": "mean"}, helpers.inputs(5, 3, 4, seed=4)),
    ],
    ids=["float64", "rank-3"],
)
def test_feature_mean_passes_the_layer_check(init_kwargs, input_data, tmp_path):
    """FeatureMean is registered as "keras_recipes>FeatureMean", round-trips its config through JSON,
    has no weights, and a model holding it reloads with safe_mode=True computing the same."""
    layer_testing.run_layer_test(
        FeatureMean,
        init_kwargs,
        input_data,
        registered_name="keras_recipes>FeatureMean",
        directory=tmp_path,
        expected_output_shape=(len(input_data), 1),
    )


def test_lambda_control_is_refused_by_safe_mode(tmp_path):
    """Control: the lecture's Lambda version does not load with safe_mode=True, which is why FeatureMean exists."""
    inputs = keras.Input(shape=(3,))
    outputs = keras.layers.Lambda(
        lambda x: keras.ops.mean(x, axis=1, keepdims=True), output_shape=(1,)
    )(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        keras.saving.load_model(path)
