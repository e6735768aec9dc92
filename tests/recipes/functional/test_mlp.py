"""Tests of `keras_recipes.mlp`: the lecture's plain stack of Dense layers.

Expected values come from the lecture's numbers, from numpy recomputations of
the forward pass out of the layers' own weights, or from Keras itself.
"""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import numpy as np
import pytest
from keras import ops

from keras_recipes import mlp


# === Helpers ===


def _kernels(model):
    """The kernel of every layer of `model` that has weights, as numpy arrays."""
    return [layer.kernel.numpy() for layer in model.layers if layer.weights]


def _learnable_data(n=32):
    """A tiny linear problem that a one-layer linear mlp can learn exactly."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 2)).astype("float32")
    y = (x @ np.array([[1.5], [-2.0]]) + 0.5).astype("float32")
    return x, y


def _mean_absolute_error(y_true, y_pred):
    """The lecture's custom-loss idea: a loss written with keras.ops."""
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


# === The lecture's model ===


def test_lecture_model_has_26_params_and_named_layers():
    """The lecture's mlp(2, [3, 2, 3]) has 9 + 8 + 9 = 26 params and layers mlp_input, mlp_dense_0..2."""
    model = mlp(2, [3, 2, 3], activation=None, output_activation="sigmoid")
    assert model.count_params() == 26
    assert [layer.name for layer in model.layers] == [
        "mlp_input",
        "mlp_dense_0",
        "mlp_dense_1",
        "mlp_dense_2",
    ]
    assert [layer.count_params() for layer in model.layers[1:]] == [9, 8, 9]
    assert tuple(model.input.shape) == (None, 2)
    assert tuple(model.output.shape) == (None, 3)


def test_lecture_model_forward_pass_matches_numpy():
    """With linear hidden layers and a sigmoid output, predict equals sigmoid(((xW0+b0)W1+b1)W2+b2)."""
    model = mlp(2, [3, 2, 3], activation=None, output_activation="sigmoid")
    helpers.randomize(model)
    x = helpers.inputs(6, 2, seed=5)
    (w0, b0), (w1, b1), (w2, b2) = (
        model.get_layer(f"mlp_dense_{i}").get_weights() for i in range(3)
    )
    expected = helpers.sigmoid(((x @ w0 + b0) @ w1 + b1) @ w2 + b2)
    actual = model.predict(x, verbose=0)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_default_activations_are_relu_hidden_and_linear_output():
    """By default every hidden layer is relu and the output layer is linear."""
    model = mlp(3, [4, 5, 2])
    helpers.randomize(model, seed=3)
    x = helpers.inputs(16, 3, seed=6)
    (w0, b0), (w1, b1), (w2, b2) = (
        model.get_layer(f"mlp_dense_{i}").get_weights() for i in range(3)
    )
    pre_0 = x @ w0 + b0
    pre_1 = helpers.relu(pre_0) @ w1 + b1
    # Every relu clips something, so a missing activation would show.
    for pre in (pre_0, pre_1):
        assert (pre < 0).any() and (pre > 0).any()
    expected = helpers.relu(pre_1) @ w2 + b2
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_builds_one_dense_layer_per_width():
    """`units` lists every Dense width in order, the last one being the output width."""
    model = mlp(5, [7, 1, 4])
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [7, 1, 4]
    assert [tuple(layer.kernel.shape) for layer in dense] == [(5, 7), (7, 1), (1, 4)]


# === Names ===


def test_models_named_a_and_b_combine_in_one_graph():
    """mlp(name="a") and mlp(name="b") can both be called on one Input inside one functional model."""
    model_a = mlp(2, [3, 1], name="a")
    model_b = mlp(2, [4, 1], name="b")
    assert model_a.name == "a" and model_b.name == "b"
    assert all(layer.name.startswith("a_") for layer in model_a.layers)
    assert all(layer.name.startswith("b_") for layer in model_b.layers)
    inputs = keras.Input(shape=(2,))
    combined = keras.Model(inputs, [model_a(inputs), model_b(inputs)])
    x = helpers.inputs(3, 2, seed=0)
    out_a, out_b = combined.predict(x, verbose=0)
    np.testing.assert_allclose(out_a, model_a.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(out_b, model_b.predict(x, verbose=0), rtol=1e-6)


def test_two_models_with_the_same_name_clash_in_keras():
    """Control for the test above: Keras refuses two sub-models with one name, which is why `name` exists."""
    model_1, model_2 = mlp(2, [3]), mlp(2, [3])
    inputs = keras.Input(shape=(2,))
    with pytest.raises(ValueError, match="unique"):
        keras.Model(inputs, [model_1(inputs), model_2(inputs)])


# === Seeds ===


def test_same_seed_gives_identical_weights():
    """Two models built with seed=1 have exactly the same weights."""
    first = mlp(3, [4, 4, 2], seed=1)
    second = mlp(3, [4, 4, 2], seed=1)
    for w1, w2 in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)


def test_different_seeds_give_different_kernels():
    """seed=1 and seed=2 give a different kernel in every layer."""
    first = _kernels(mlp(3, [4, 4, 2], seed=1))
    second = _kernels(mlp(3, [4, 4, 2], seed=2))
    for k1, k2 in zip(first, second, strict=True):
        assert not np.array_equal(k1, k2)


def test_seeded_layers_of_one_model_have_distinct_kernels():
    """With a seed, layers of the same kernel shape in one model still get different kernels."""
    kernels = _kernels(mlp(4, [4, 4, 4], seed=3))
    assert all(k.shape == (4, 4) for k in kernels)
    for i in range(len(kernels)):
        for j in range(i + 1, len(kernels)):
            assert not np.array_equal(kernels[i], kernels[j]), (i, j)


def test_unseeded_models_differ():
    """Without a seed, two models get different random kernels."""
    first, second = _kernels(mlp(3, [4], seed=None)), _kernels(mlp(3, [4], seed=None))
    assert not np.array_equal(first[0], second[0])


# === Compiling: loss, optimizer, metrics ===


def test_custom_callable_loss_is_used_and_training_decreases_it():
    """A callable (y_true, y_pred) loss is what the model minimises: evaluate equals numpy MAE, and it falls while training."""
    keras.utils.set_random_seed(0)
    x, y = _learnable_data()
    model = mlp(
        2,
        [1],
        loss=_mean_absolute_error,
        optimizer=keras.optimizers.Adam(learning_rate=0.05),
        seed=0,
    )
    assert model.loss is _mean_absolute_error
    before = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(
        before, np.mean(np.abs(y - model.predict(x, verbose=0))), rtol=1e-5
    )
    history = model.fit(x, y, epochs=15, batch_size=32, shuffle=False, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 15
    assert losses[-1] < losses[0]
    after = model.evaluate(x, y, verbose=0)
    assert after < before
    np.testing.assert_allclose(
        after, np.mean(np.abs(y - model.predict(x, verbose=0))), rtol=1e-5
    )


def test_loss_object_is_used():
    """A keras.losses.Loss object is used as given: evaluate equals the numpy Huber loss with its delta."""
    x, y = _learnable_data(16)
    loss = keras.losses.Huber(delta=0.5)
    model = mlp(2, [1], loss=loss, seed=0)
    assert model.loss is loss
    error = np.abs(y - model.predict(x, verbose=0))
    huber = np.where(error <= 0.5, 0.5 * error**2, 0.5 * error - 0.5 * 0.5**2)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), huber.mean(), rtol=1e-5)
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_optimizer_name_and_instance_are_used():
    """An optimizer name or instance becomes the model's optimizer."""
    assert isinstance(mlp(2, [1], optimizer="sgd").optimizer, keras.optimizers.SGD)
    optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
    assert mlp(2, [1], optimizer=optimizer).optimizer is optimizer


def test_metrics_appear_in_history():
    """Every metric in `metrics` is reported by fit, next to the loss, with the value Keras computes in numpy terms."""
    x, y = _learnable_data(16)
    model = mlp(
        2,
        [3, 1],
        metrics=["mae", keras.metrics.RootMeanSquaredError(name="rmse")],
        seed=0,
    )
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert {"loss", "mae", "rmse"} <= set(history.history)
    assert len(history.history["mae"]) == 2
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    error = y - model.predict(x, verbose=0)
    np.testing.assert_allclose(results["mae"], np.mean(np.abs(error)), rtol=1e-5)
    np.testing.assert_allclose(results["rmse"], np.sqrt(np.mean(error**2)), rtol=1e-5)
    np.testing.assert_allclose(results["loss"], np.mean(error**2), rtol=1e-5)


def test_no_metrics_means_only_the_loss():
    """metrics=None reports the loss alone."""
    x, y = _learnable_data(8)
    history = mlp(2, [1]).fit(x, y, epochs=1, verbose=0)
    assert set(history.history) == {"loss"}


# === Bad input ===
# Every validated argument gets valid and invalid values; the invalid ones
# must raise the right type, name the argument in backticks, and end in the
# Keras "Received:" form, before any layer is built.

_BASE = {"input_dim": 2, "units": [3, 1]}

_VALID = [
    ("input_dim", {"input_dim": 5}),
    ("input_dim", {"input_dim": np.int64(2)}),
    ("units", {"units": [4, 4, 2]}),
    ("units", {"units": (3, 1)}),
    ("units", {"units": [1]}),
    ("activation", {"activation": "tanh"}),
    ("activation", {"activation": None}),
    ("activation", {"activation": keras.activations.gelu}),
    ("activation", {"activation": lambda z: z * 2.0}),
    ("output_activation", {"output_activation": "sigmoid"}),
    ("output_activation", {"output_activation": "softmax", "units": [3, 2]}),
    ("loss", {"loss": "mae"}),
    ("loss", {"loss": keras.losses.MeanSquaredError()}),
    ("loss", {"loss": _mean_absolute_error}),
    ("optimizer", {"optimizer": "sgd"}),
    ("optimizer", {"optimizer": keras.optimizers.Adam()}),
    ("metrics", {"metrics": None}),
    ("metrics", {"metrics": []}),
    ("metrics", {"metrics": ["mae", "accuracy"]}),
    ("metrics", {"metrics": (keras.metrics.MeanSquaredError(),)}),
    ("seed", {"seed": None}),
    ("seed", {"seed": 0}),
    ("seed", {"seed": 12345}),
    ("name", {"name": "my_mlp"}),
]

_INVALID = [
    ("input_dim", {"input_dim": "3"}, TypeError),
    ("input_dim", {"input_dim": 2.5}, TypeError),
    ("input_dim", {"input_dim": True}, TypeError),
    ("input_dim", {"input_dim": [2]}, TypeError),
    ("input_dim", {"input_dim": None}, TypeError),
    ("input_dim", {"input_dim": 0}, ValueError),
    ("input_dim", {"input_dim": -1}, ValueError),
    ("units", {"units": {"a": 3}}, TypeError),
    ("units", {"units": "3"}, TypeError),
    ("units", {"units": 3}, TypeError),
    ("units", {"units": [3, 2.5]}, TypeError),
    ("units", {"units": [True]}, TypeError),
    ("units", {"units": ["3"]}, TypeError),
    ("units", {"units": []}, ValueError),
    ("units", {"units": [3, 0]}, ValueError),
    ("units", {"units": [-1]}, ValueError),
    ("activation", {"activation": "relux"}, ValueError),
    ("activation", {"activation": ""}, ValueError),
    ("activation", {"activation": 3}, TypeError),
    ("output_activation", {"output_activation": "relux"}, ValueError),
    ("output_activation", {"output_activation": 1}, TypeError),
    ("loss", {"loss": "msex"}, ValueError),
    ("loss", {"loss": 3}, TypeError),
    ("loss", {"loss": None}, TypeError),
    ("optimizer", {"optimizer": "adamx"}, ValueError),
    ("optimizer", {"optimizer": 0.01}, TypeError),
    ("optimizer", {"optimizer": None}, TypeError),
    ("metrics", {"metrics": "mae"}, TypeError),
    ("metrics", {"metrics": {"out": "mae"}}, TypeError),
    ("metrics", {"metrics": [3]}, TypeError),
    ("metrics", {"metrics": ["maex"]}, ValueError),
    ("seed", {"seed": -1}, ValueError),
    ("seed", {"seed": 2.5}, TypeError),
    ("seed", {"seed": True}, TypeError),
    ("seed", {"seed": "1"}, TypeError),
    ("name", {"name": "a/b"}, ValueError),
    ("name", {"name": ""}, ValueError),
    ("name", {"name": 3}, TypeError),
    ("name", {"name": None}, TypeError),
]


@pytest.mark.parametrize(("argument", "kwargs"), _VALID, ids=helpers.case_ids(_VALID))
def test_valid_argument_builds(argument, kwargs):
    """A valid value of each argument builds a compiled model."""
    model = helpers.assert_builds(mlp, {**_BASE, **kwargs})
    assert tuple(model.output.shape) == (None, list(kwargs.get("units", _BASE["units"]))[-1])


@pytest.mark.parametrize(("argument", "kwargs", "error"), _INVALID, ids=helpers.case_ids(_INVALID))
def test_invalid_argument_raises_before_building(no_building, argument, kwargs, error):
    """An invalid value raises TypeError/ValueError naming `argument` with "Received:", before any layer is built."""
    helpers.assert_invalid(mlp, {**_BASE, **kwargs}, argument, error)


def test_no_building_fixture_catches_building(no_building):
    """Control for the fixture: a valid call does reach the patched Keras constructors."""
    with pytest.raises(no_building):
        mlp(**_BASE)


@pytest.mark.parametrize(
    "output_activation", ["softmax", keras.activations.softmax], ids=["name", "function"]
)
def test_softmax_on_one_unit_output_suggests_sigmoid(no_building, output_activation):
    """A softmax over a 1-wide output is refused, and the message suggests 'sigmoid'."""
    with pytest.raises(
        ValueError, match=r"`output_activation`(.|\n)*Received: output_activation=(.|\n)*sigmoid"
    ):
        mlp(2, [3, 1], output_activation=output_activation)


def test_softmax_output_rows_sum_to_one():
    """output_activation="softmax" on a 2-wide output gives rows of probabilities summing to 1."""
    model = mlp(2, [1, 2], output_activation="softmax")
    x = helpers.inputs(4, 2, seed=0)
    np.testing.assert_allclose(model.predict(x, verbose=0).sum(axis=1), 1.0, rtol=1e-5)


def test_hidden_softmax_over_one_unit_is_refused(no_building):
    """activation="softmax" with a 1-wide hidden layer is refused, naming `activation`."""
    with pytest.raises(ValueError, match=r"`activation`(.|\n)*Received: activation='softmax'"):
        mlp(2, [1, 3], activation="softmax")


def test_hidden_softmax_over_several_units_builds():
    """activation="softmax" on hidden layers wider than one unit is allowed."""
    assert mlp(2, [2, 3], activation="softmax").count_params() == 6 + 9


def test_seeds_do_not_repeat_kernels_across_models():
    """Layer 1 of a seed=1 model never has the kernel of layer 0 of a seed=2 model."""
    first = _kernels(mlp(3, [3, 3, 3], seed=1))
    second = _kernels(mlp(3, [3, 3, 3], seed=2))
    assert not np.array_equal(first[1], second[0])
    assert not np.array_equal(first[2], second[1])


def test_any_non_negative_seed_builds_reproducibly():
    """Seeds past 64 bits still build, and the same seed gives the same weights."""
    first = mlp(2, [3, 3], seed=2**70)
    second = mlp(2, [3, 3], seed=2**70)
    for w1, w2 in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)


def test_an_optimizer_already_built_for_another_model_is_refused():
    """Passing one optimizer instance to a second builder raises, naming `optimizer`."""
    optimizer = keras.optimizers.Adam()
    mlp(2, [3], optimizer=optimizer)
    with pytest.raises(ValueError, match=r"`optimizer`(.|\n)*Received: optimizer="):
        mlp(2, [3], optimizer=optimizer)
