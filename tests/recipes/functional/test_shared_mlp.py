"""Tests of `keras_recipes.shared_mlp`: one Dense layer `f` used at both ends.

    u = activation(f(x)); v = bridge(u); y = output_activation(f(v))

Expected values come from the lecture's numbers and from numpy
recomputations out of the layers' own weights.
"""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import numpy as np
import pytest

from keras_recipes import shared_mlp


# === Parameters and sharing ===


def test_lecture_model_has_17_params():
    """shared_mlp(2, 3, [2]) has 9 (shared Dense 2->3) + 8 (bridge Dense 3->2) = 17 params."""
    model = shared_mlp(2, 3, [2])
    assert model.count_params() == 17
    assert model.get_layer("shared_mlp_shared").count_params() == 9
    assert model.get_layer("shared_mlp_bridge_dense_0").count_params() == 8
    assert tuple(model.input.shape) == (None, 2)
    assert tuple(model.output.shape) == (None, 3)


def test_shared_layer_is_one_set_of_variables():
    """The shared layer owns exactly one kernel and one bias, which appear once among the model's trainable weights."""
    model = shared_mlp(2, 3, [2])
    shared = model.get_layer("shared_mlp_shared")
    assert len(shared.weights) == 2
    assert tuple(shared.kernel.shape) == (2, 3)
    assert sum(w is shared.kernel for w in model.trainable_weights) == 1
    assert sum(w is shared.bias for w in model.trainable_weights) == 1
    # shared kernel + bias, bridge kernel + bias: nothing else.
    assert len(model.trainable_weights) == 4
    dense_layers = [l for l in model.layers if isinstance(l, keras.layers.Dense)]
    assert len(dense_layers) == 2


def test_changing_the_shared_kernel_affects_both_uses():
    """Assigning the one shared kernel changes both uses: predictions match numpy with the new W in both places."""
    model = shared_mlp(2, 3, [2], activation=None)
    helpers.randomize(model)
    shared = model.get_layer("shared_mlp_shared")
    new_kernel = helpers.inputs(2, 3, seed=9)
    shared.kernel.assign(new_kernel)
    w, b = shared.get_weights()
    np.testing.assert_array_equal(w, new_kernel)
    wb, bb = model.get_layer("shared_mlp_bridge_dense_0").get_weights()
    x = helpers.inputs(5, 2)
    expected = ((x @ new_kernel + b) @ wb + bb) @ new_kernel + b
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_one_sgd_step_sums_the_gradients_of_both_uses():
    """One full-batch SGD step moves the shared kernel by the numpy gradient summed over its two uses."""
    lr = 0.05
    model = shared_mlp(
        2, 3, [2], activation=None, optimizer=keras.optimizers.SGD(learning_rate=lr)
    )
    helpers.randomize(model, seed=4)
    w, b = (a.astype("float64") for a in model.get_layer("shared_mlp_shared").get_weights())
    wb, bb = (a.astype("float64") for a in model.get_layer("shared_mlp_bridge_dense_0").get_weights())
    x = helpers.inputs(8, 2, seed=2)
    target = helpers.inputs(8, 3, seed=3)

    # Forward and backward pass of the linear model, by hand, for the MSE loss.
    u = x @ w + b
    v = u @ wb + bb
    y = v @ w + b
    dy = 2.0 * (y - target) / y.size
    dv = dy @ w.T
    du = dv @ wb.T
    grad_w = x.T @ du + v.T @ dy  # first use + second use
    grad_b = du.sum(axis=0) + dy.sum(axis=0)

    model.fit(x, target, epochs=1, batch_size=8, shuffle=False, verbose=0)
    new_w, new_b = model.get_layer("shared_mlp_shared").get_weights()
    np.testing.assert_allclose(new_w, w - lr * grad_w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(new_b, b - lr * grad_b, rtol=1e-4, atol=1e-5)
    # Only the second use's gradient would be a different update.
    assert not np.allclose(x.T @ du, 0.0)


# === Forward pass ===


def test_forward_pass_matches_numpy():
    """predict equals out_act(W relu(bridge(relu(W x + b))) + b) with one W, b for both uses."""
    model = shared_mlp(2, 3, [4, 2], output_activation="sigmoid")
    helpers.randomize(model, seed=0)
    w, b = model.get_layer("shared_mlp_shared").get_weights()
    w0, b0 = model.get_layer("shared_mlp_bridge_dense_0").get_weights()
    w1, b1 = model.get_layer("shared_mlp_bridge_dense_1").get_weights()
    x = helpers.inputs(32, 2)
    pre_u = x @ w + b
    pre_h = helpers.relu(pre_u) @ w0 + b0
    pre_v = helpers.relu(pre_h) @ w1 + b1
    # Every relu clips something, so a missing activation would show.
    for pre in (pre_u, pre_h, pre_v):
        assert (pre < 0).any() and (pre > 0).any()
    expected = helpers.sigmoid(helpers.relu(pre_v) @ w + b)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_activation_layers_hold_no_weights():
    """The activations after each use of f are weightless layers; only Dense layers have parameters."""
    model = shared_mlp(2, 3, [2], activation="tanh", output_activation="sigmoid")
    for index in (0, 1):
        layer = model.get_layer(f"shared_mlp_shared_activation_{index}")
        assert isinstance(layer, keras.layers.Activation)
        assert layer.weights == []


def test_empty_bridge_gives_f_of_f():
    """With shared_units == input_dim an empty bridge is allowed and y = f(f(x))."""
    model = shared_mlp(3, 3, [], activation=None)
    helpers.randomize(model, seed=2)
    assert model.count_params() == 12
    w, b = model.get_layer("shared_mlp_shared").get_weights()
    x = helpers.inputs(4, 3)
    expected = (x @ w + b) @ w + b
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_empty_bridge_keeps_the_activation_between_uses():
    """With an empty bridge and relu, y = f(relu(f(x))): the hidden activation still sits between the uses."""
    model = shared_mlp(3, 3, [])
    helpers.randomize(model, seed=3)
    w, b = model.get_layer("shared_mlp_shared").get_weights()
    x = helpers.inputs(16, 3)
    pre_u = x @ w + b
    assert (pre_u < 0).any() and (pre_u > 0).any()
    expected = helpers.relu(pre_u) @ w + b
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_bridge_must_end_at_input_dim():
    """A bridge whose last width is not input_dim raises ValueError naming `bridge_units` and explaining why."""
    with pytest.raises(ValueError) as info:
        shared_mlp(2, 3, [3])
    message = str(info.value)
    assert "`bridge_units`" in message
    assert "Received: bridge_units=[3]" in message
    assert "input_dim=2" in message
    assert "because the shared layer is applied again" in message


def test_empty_bridge_needs_shared_units_equal_to_input_dim():
    """An empty bridge with shared_units != input_dim raises, and the message says so."""
    with pytest.raises(ValueError, match=r"`bridge_units`(.|\n)*shared_units == input_dim"):
        shared_mlp(2, 3, [])


def test_layer_names_use_the_model_name():
    """Every layer is prefixed with the model's name; the shared layer is f"{name}_shared"."""
    model = shared_mlp(2, 3, [2], name="tied")
    assert model.name == "tied"
    assert [layer.name for layer in model.layers] == [
        "tied_input",
        "tied_shared",
        "tied_shared_activation_0",
        "tied_bridge_dense_0",
        "tied_shared_activation_1",
    ]


def test_seed_reproducible_and_layers_distinct():
    """seed=1 twice gives the same weights, and the shared and bridge kernels of one shape differ."""
    first = shared_mlp(3, 3, [3, 3], seed=1)
    second = shared_mlp(3, 3, [3, 3], seed=1)
    for w1, w2 in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)
    kernels = [l.kernel.numpy() for l in first.layers if isinstance(l, keras.layers.Dense)]
    assert len(kernels) == 3
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.array_equal(kernels[i], kernels[j]), (i, j)
    other = shared_mlp(3, 3, [3, 3], seed=2)
    assert not np.array_equal(
        first.get_layer("shared_mlp_shared").kernel.numpy(),
        other.get_layer("shared_mlp_shared").kernel.numpy(),
    )


# === Bad input ===

_BASE = {"input_dim": 2, "shared_units": 3, "bridge_units": [2]}

_VALID = [
    ("input_dim", {"input_dim": 4, "bridge_units": [5, 4]}),
    ("input_dim", {"input_dim": np.int64(2)}),
    ("shared_units", {"shared_units": 1}),
    ("shared_units", {"shared_units": 2, "bridge_units": []}),
    ("bridge_units", {"bridge_units": [6, 2]}),
    ("bridge_units", {"bridge_units": (2,)}),
    ("activation", {"activation": "tanh"}),
    ("activation", {"activation": None}),
    ("activation", {"activation": keras.activations.elu}),
    ("output_activation", {"output_activation": "sigmoid"}),
    ("output_activation", {"output_activation": "softmax"}),
    ("loss", {"loss": "mae"}),
    ("loss", {"loss": keras.losses.Huber()}),
    ("loss", {"loss": lambda y_true, y_pred: keras.ops.mean((y_true - y_pred) ** 2)}),
    ("optimizer", {"optimizer": "rmsprop"}),
    ("optimizer", {"optimizer": keras.optimizers.SGD()}),
    ("metrics", {"metrics": None}),
    ("metrics", {"metrics": ["mae"]}),
    ("seed", {"seed": 0}),
    ("seed", {"seed": 7}),
    ("name", {"name": "tied"}),
]

_INVALID = [
    ("input_dim", {"input_dim": "2"}, TypeError),
    ("input_dim", {"input_dim": 2.0}, TypeError),
    ("input_dim", {"input_dim": True}, TypeError),
    ("input_dim", {"input_dim": 0}, ValueError),
    ("input_dim", {"input_dim": -1}, ValueError),
    ("shared_units", {"shared_units": "3"}, TypeError),
    ("shared_units", {"shared_units": 2.5}, TypeError),
    ("shared_units", {"shared_units": True}, TypeError),
    ("shared_units", {"shared_units": [3]}, TypeError),
    ("shared_units", {"shared_units": 0}, ValueError),
    ("shared_units", {"shared_units": -3}, ValueError),
    ("bridge_units", {"bridge_units": 2}, TypeError),
    ("bridge_units", {"bridge_units": {"w": 2}}, TypeError),
    ("bridge_units", {"bridge_units": "2"}, TypeError),
    ("bridge_units", {"bridge_units": [2.5]}, TypeError),
    ("bridge_units", {"bridge_units": [False, 2]}, TypeError),
    ("bridge_units", {"bridge_units": [0, 2]}, ValueError),
    ("bridge_units", {"bridge_units": [3]}, ValueError),
    ("bridge_units", {"bridge_units": [2, 4]}, ValueError),
    ("bridge_units", {"bridge_units": []}, ValueError),
    ("activation", {"activation": "relux"}, ValueError),
    ("activation", {"activation": 0}, TypeError),
    ("output_activation", {"output_activation": "sigmoidd"}, ValueError),
    ("output_activation", {"output_activation": 2.0}, TypeError),
    ("output_activation", {"output_activation": "softmax", "shared_units": 1}, ValueError),
    ("loss", {"loss": "nope"}, ValueError),
    ("loss", {"loss": 1}, TypeError),
    ("optimizer", {"optimizer": "adamx"}, ValueError),
    ("optimizer", {"optimizer": keras.optimizers.Adam}, TypeError),
    ("metrics", {"metrics": "mae"}, TypeError),
    ("metrics", {"metrics": ["maex"]}, ValueError),
    ("metrics", {"metrics": [None]}, TypeError),
    ("seed", {"seed": -1}, ValueError),
    ("seed", {"seed": 1.0}, TypeError),
    ("seed", {"seed": False}, TypeError),
    ("name", {"name": "x/y"}, ValueError),
    ("name", {"name": ""}, ValueError),
    ("name", {"name": b"bytes"}, TypeError),
]


@pytest.mark.parametrize(("argument", "kwargs"), _VALID, ids=helpers.case_ids(_VALID))
def test_valid_argument_builds(argument, kwargs):
    """A valid value of each argument builds a compiled model of output width shared_units."""
    arguments = {**_BASE, **kwargs}
    model = helpers.assert_builds(shared_mlp, arguments)
    assert tuple(model.output.shape) == (None, arguments["shared_units"])


@pytest.mark.parametrize(("argument", "kwargs", "error"), _INVALID, ids=helpers.case_ids(_INVALID))
def test_invalid_argument_raises_before_building(no_building, argument, kwargs, error):
    """An invalid value raises TypeError/ValueError naming `argument` with "Received:", before any layer is built."""
    helpers.assert_invalid(shared_mlp, {**_BASE, **kwargs}, argument, error)


def test_no_building_fixture_catches_building(no_building):
    """Control for the fixture: a valid call does reach the patched Keras constructors."""
    with pytest.raises(no_building):
        shared_mlp(**_BASE)


def test_softmax_on_one_unit_output_suggests_sigmoid(no_building):
    """A softmax over shared_units=1 is refused and the message suggests 'sigmoid'."""
    with pytest.raises(
        ValueError, match=r"`output_activation`(.|\n)*Received: (.|\n)*sigmoid"
    ):
        shared_mlp(2, 1, [2], output_activation="softmax")
