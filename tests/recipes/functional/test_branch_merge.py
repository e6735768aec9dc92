"""Tests of `keras_recipes.branch_merge`: trunk -> branches -> merge -> heads.

Expected values come from the lecture's numbers, from hand counts of Dense
parameters, and from numpy recomputations out of the layers' own weights and
the branch outputs Keras computes.
"""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import numpy as np
import pytest

from keras_recipes import branch_merge, param_count


# === Helpers ===


def _weights(model, layer_name):
    """The weights of the layer of `model` named `layer_name`, as numpy arrays."""
    return model.get_layer(layer_name).get_weights()


# === The lecture's examples ===


def test_lecture_example_has_11_params():
    """branch_merge(2, [1], [[], [2]], [1]) has trunk 3 + branch 4 + head 4 = 11 params."""
    model = branch_merge(2, [1], [[], [2]], [1], output_activation="sigmoid")
    assert model.count_params() == 11
    assert model.get_layer("branch_merge_trunk_dense_0").count_params() == 3
    assert model.get_layer("branch_merge_branch_1_dense_0").count_params() == 4
    assert model.get_layer("branch_merge_head_0_dense_0").count_params() == 4
    assert model.get_layer("branch_merge_merge").weights == []


def test_lecture_challenge_has_40_params():
    """branch_merge(2, [3], [[2], [1, 2]], [3]) has 9 + 8 + (4 + 4) + 15 = 40 params."""
    model = branch_merge(2, [3], [[2], [1, 2]], [3])
    assert model.count_params() == 40
    counts = {
        "branch_merge_trunk_dense_0": 9,
        "branch_merge_branch_0_dense_0": 8,
        "branch_merge_branch_1_dense_0": 4,
        "branch_merge_branch_1_dense_1": 4,
        "branch_merge_head_0_dense_0": 15,
    }
    for name, count in counts.items():
        assert model.get_layer(name).count_params() == count, name


def test_lecture_example_forward_pass_matches_numpy():
    """The 11-param model computes sigmoid(concat[t, relu(t W1 + b1)] Wh + bh) with t = relu(x Wt + bt)."""
    model = branch_merge(2, [1], [[], [2]], [1], output_activation="sigmoid")
    helpers.randomize(model, seed=1)
    wt, bt = _weights(model, "branch_merge_trunk_dense_0")
    w1, b1 = _weights(model, "branch_merge_branch_1_dense_0")
    wh, bh = _weights(model, "branch_merge_head_0_dense_0")
    x = helpers.inputs(16, 2)
    pre_t = x @ wt + bt
    t = helpers.relu(pre_t)
    pre_1 = t @ w1 + b1
    for pre in (pre_t, pre_1):
        assert (pre < 0).any() and (pre > 0).any()
    merged = np.concatenate([t, helpers.relu(pre_1)], axis=1)
    expected = helpers.sigmoid(merged @ wh + bh)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


# === Merging ===


@pytest.mark.parametrize(
    ("input_dim", "trunk_units", "branch_units", "width"),
    [
        (2, [3], [[2], [1, 4]], 2 + 4),
        (2, [3], [[], [2]], 3 + 2),  # the empty branch passes the trunk's 3 on
        (5, [], [[], [2]], 5 + 2),  # no trunk: the empty branch passes the input on
        (2, [3], [[1], [2], [], [4]], 1 + 2 + 3 + 4),
        ([4, 6], [], [[], []], 4 + 6),
    ],
)
def test_concatenate_width_is_sum_of_branch_widths(
    input_dim, trunk_units, branch_units, width
):
    """With concatenate the merge layer's width is the sum of branch output widths; an empty branch adds the trunk (or input) width."""
    model = branch_merge(input_dim, trunk_units, branch_units, [1])
    assert model.get_layer("branch_merge_merge").output.shape[-1] == width
    head = model.get_layer("branch_merge_head_0_dense_0")
    assert tuple(head.kernel.shape) == (width, 1)


_NUMPY_MERGES = {
    "concatenate": lambda outputs: np.concatenate(outputs, axis=-1),
    "add": lambda outputs: np.sum(outputs, axis=0),
    "average": lambda outputs: np.mean(outputs, axis=0),
    "multiply": lambda outputs: np.prod(outputs, axis=0),
    "maximum": lambda outputs: np.max(outputs, axis=0),
}


@pytest.mark.parametrize("merge", list(_NUMPY_MERGES))
def test_merge_output_matches_numpy_of_branch_outputs(merge):
    """The merge layer outputs the numpy sum/mean/product/maximum (or concatenation) of the three branch outputs."""
    model = branch_merge(
        3, [4], [[2], [5, 2], [2]], [1], merge=merge, activation="tanh", seed=0
    )
    helpers.randomize(model)
    branch_layers = [
        "branch_merge_branch_0_dense_0",
        "branch_merge_branch_1_dense_1",
        "branch_merge_branch_2_dense_0",
    ]
    probe = keras.Model(
        model.inputs,
        [model.get_layer(name).output for name in branch_layers]
        + [model.get_layer("branch_merge_merge").output],
    )
    *branches, merged = probe.predict(helpers.inputs(7, 3), verbose=0)
    expected = _NUMPY_MERGES[merge](np.stack(branches))
    assert merged.shape == expected.shape
    np.testing.assert_allclose(merged, expected, rtol=1e-5, atol=1e-6)
    # The branch outputs really differ, so that every merge mode is told apart.
    assert not np.allclose(branches[0], branches[2])


@pytest.mark.parametrize("merge", ["add", "average", "multiply", "maximum"])
def test_unequal_widths_refused_for_elementwise_merges(no_building, merge):
    """add/average/multiply/maximum refuse branches of different widths with ValueError, before building."""
    with pytest.raises(ValueError, match=r"`branch_units`(.|\n)*Received: branch_units="):
        branch_merge(2, [3], [[2], [4]], [1], merge=merge)


@pytest.mark.parametrize("merge", ["add", "average", "multiply", "maximum"])
def test_empty_branch_counts_as_trunk_width_for_elementwise_merges(no_building, merge):
    """An empty branch has the trunk's width: [[], [2]] after a 3-wide trunk cannot be merged element-wise."""
    with pytest.raises(ValueError, match=r"widths \[3, 2\]"):
        branch_merge(2, [3], [[], [2]], [1], merge=merge)


def test_elementwise_merge_with_empty_branch_of_equal_width_builds():
    """An empty branch after a 2-wide trunk adds element-wise to a branch ending at 2."""
    model = branch_merge(2, [2], [[], [5, 2]], [1], merge="add")
    assert model.get_layer("branch_merge_merge").output.shape[-1] == 2


# === Several inputs ===


def test_list_input_dim_gives_one_input_per_branch():
    """input_dim=[4, 6] gives two inputs of widths 4 and 6, and branch i reads input i."""
    model = branch_merge([4, 6], [], [[8], [8]], [1], merge="add")
    assert [tuple(t.shape) for t in model.inputs] == [(None, 4), (None, 6)]
    assert [layer.name for layer in model.layers[:2]] == [
        "branch_merge_input_0",
        "branch_merge_input_1",
    ]
    assert tuple(model.get_layer("branch_merge_branch_0_dense_0").kernel.shape) == (4, 8)
    assert tuple(model.get_layer("branch_merge_branch_1_dense_0").kernel.shape) == (6, 8)
    helpers.randomize(model)
    x0, x1 = helpers.inputs(5, 4, seed=1), helpers.inputs(5, 6, seed=2)
    w0, b0 = _weights(model, "branch_merge_branch_0_dense_0")
    w1, b1 = _weights(model, "branch_merge_branch_1_dense_0")
    wh, bh = _weights(model, "branch_merge_head_0_dense_0")
    pre_0, pre_1 = x0 @ w0 + b0, x1 @ w1 + b1
    for pre in (pre_0, pre_1):
        assert (pre < 0).any() and (pre > 0).any()
    expected = (helpers.relu(pre_0) + helpers.relu(pre_1)) @ wh + bh
    np.testing.assert_allclose(
        model.predict([x0, x1], verbose=0), expected, rtol=1e-5, atol=1e-5
    )


def test_trunk_is_shared_by_several_inputs():
    """With input_dim=[3, 3] one trunk serves both inputs: its weights appear once and 16 + 10 + 10 + 5 = 41 params."""
    model = branch_merge([3, 3], [4], [[2], [2]], [1])
    trunk = model.get_layer("branch_merge_trunk_dense_0")
    assert sum(w is trunk.kernel for w in model.weights) == 1
    assert sum(w is trunk.bias for w in model.weights) == 1
    assert len([l for l in model.layers if l.name.startswith("branch_merge_trunk")]) == 1
    assert model.count_params() == 41
    assert model.count_params() == param_count.branch_merge([3, 3], [4], [[2], [2]], [1]).total


def test_shared_trunk_applies_the_same_weights_to_each_input():
    """Branch i's output is relu(relu(x_i Wt + bt) W_i + b_i) with the one trunk (Wt, bt) for both inputs."""
    model = branch_merge([3, 3], [4], [[2], [2]], [1])
    helpers.randomize(model, seed=1)
    wt, bt = _weights(model, "branch_merge_trunk_dense_0")
    x0, x1 = helpers.inputs(16, 3, seed=1), helpers.inputs(16, 3, seed=2)
    probe = keras.Model(
        model.inputs,
        [model.get_layer(f"branch_merge_branch_{i}_dense_0").output for i in (0, 1)],
    )
    outputs = probe.predict([x0, x1], verbose=0)
    for index, (x, actual) in enumerate(zip([x0, x1], outputs, strict=True)):
        w, b = _weights(model, f"branch_merge_branch_{index}_dense_0")
        pre_t = x @ wt + bt
        pre_b = helpers.relu(pre_t) @ w + b
        for pre in (pre_t, pre_b):
            assert (pre < 0).any() and (pre > 0).any()
        expected = helpers.relu(pre_b)
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def test_unequal_input_widths_with_trunk_raise(no_building):
    """Inputs of different widths cannot share a non-empty trunk: ValueError naming `input_dim`, before building."""
    with pytest.raises(
        ValueError, match=r"`input_dim`(.|\n)*trunk(.|\n)*Received: input_dim=\[4, 6\]"
    ):
        branch_merge([4, 6], [3], [[2], [2]], [1])


def test_input_count_must_match_branch_count(no_building):
    """A list input_dim needs exactly one input per branch."""
    with pytest.raises(ValueError, match=r"`input_dim`(.|\n)*Received: input_dim=\[4, 4, 4\]"):
        branch_merge([4, 4, 4], [], [[2], [2]], [1])


# === Several outputs ===


def test_list_of_lists_head_units_gives_several_outputs():
    """head_units=[[1], [4, 3]] gives two outputs of widths 1 and 3, each head reading the merge."""
    model = branch_merge([4, 6], [], [[8], [8]], [[1], [4, 3]], merge="add")
    assert isinstance(model.outputs, list) and len(model.outputs) == 2
    assert [tuple(t.shape) for t in model.outputs] == [(None, 1), (None, 3)]
    predictions = model.predict([helpers.inputs(5, 4), helpers.inputs(5, 6)], verbose=0)
    assert [p.shape for p in predictions] == [(5, 1), (5, 3)]
    assert tuple(model.get_layer("branch_merge_head_0_dense_0").kernel.shape) == (8, 1)
    assert tuple(model.get_layer("branch_merge_head_1_dense_0").kernel.shape) == (8, 4)


def test_flat_head_units_gives_one_output_tensor():
    """A flat head_units list is one head: the model has a single output tensor, not a list."""
    model = branch_merge(3, [], [[2], [2]], [4, 2])
    assert len(model.outputs) == 1
    assert model.predict(helpers.inputs(3, 3), verbose=0).shape == (3, 2)


def test_fit_with_several_outputs_reports_a_loss_per_output():
    """fit with a list of targets reports a loss per output, each equal to numpy MSE of that head, plus their sum."""
    model = branch_merge(3, [4], [[2], [2]], [[1], [2]], seed=0)
    output_names = list(model.output_names)
    assert len(output_names) == 2
    x = helpers.inputs(16, 3)
    y = [helpers.inputs(16, 1, seed=2), helpers.inputs(16, 2, seed=3)]
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for name in output_names:
        assert f"{name}_loss" in history.history
        assert len(history.history[f"{name}_loss"]) == 2
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    predictions = model.predict(x, verbose=0)
    per_output = [np.mean((t - p) ** 2) for t, p in zip(y, predictions, strict=True)]
    for name, expected in zip(output_names, per_output, strict=True):
        np.testing.assert_allclose(results[f"{name}_loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(results["loss"], sum(per_output), rtol=1e-5)


def test_metric_names_are_tracked_per_output():
    """metrics=["mae"] with two heads reports each head's own MAE, matching numpy."""
    model = branch_merge(3, [4], [[2], [2]], [[1], [2]], metrics=["mae"], seed=0)
    x = helpers.inputs(16, 3)
    # Targets of very different scales, so per-output values cannot coincide.
    y = [10.0 * helpers.inputs(16, 1, seed=2), helpers.inputs(16, 2, seed=3)]
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    predictions = model.predict(x, verbose=0)
    for name, target, prediction in zip(model.output_names, y, predictions, strict=True):
        assert f"{name}_mae" in history.history
        np.testing.assert_allclose(
            results[f"{name}_mae"], np.mean(np.abs(target - prediction)), rtol=1e-5
        )


def test_metric_objects_are_tracked_per_output():
    """A keras.metrics.Metric object with two heads reports each head's own value, matching numpy."""
    model = branch_merge(
        3, [4], [[2], [2]], [[1], [2]],
        metrics=[keras.metrics.MeanAbsoluteError(name="m")], seed=0,
    )
    x = helpers.inputs(16, 3)
    y = [10.0 * helpers.inputs(16, 1, seed=2), helpers.inputs(16, 2, seed=3)]
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    predictions = model.predict(x, verbose=0)
    for name, target, prediction in zip(model.output_names, y, predictions, strict=True):
        np.testing.assert_allclose(
            results[f"{name}_m"], np.mean(np.abs(target - prediction)), rtol=1e-5
        )


# === Seeds and names ===


def test_seed_reproducible_and_layers_distinct():
    """seed=1 twice gives the same weights, and no two same-shaped kernels of one model are equal."""
    args = (3, [3], [[3], [3]], [3])
    first = branch_merge(*args, merge="add", seed=1)
    second = branch_merge(*args, merge="add", seed=1)
    for w1, w2 in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(w1, w2)
    kernels = [l.kernel.numpy() for l in first.layers if isinstance(l, keras.layers.Dense)]
    assert len(kernels) == 4 and all(k.shape == (3, 3) for k in kernels)
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.array_equal(kernels[i], kernels[j]), (i, j)


def test_layer_names_use_the_model_name():
    """Every layer name starts with the model's name, following the documented scheme."""
    model = branch_merge(2, [3], [[2], []], [[1], [2]], name="bm")
    assert model.name == "bm"
    assert [layer.name for layer in model.layers] == [
        "bm_input",
        "bm_trunk_dense_0",
        "bm_branch_0_dense_0",
        "bm_merge",
        "bm_head_0_dense_0",
        "bm_head_1_dense_0",
    ]


# === Bad input ===

_BASE = {"input_dim": 2, "trunk_units": [3], "branch_units": [[2], [2]], "head_units": [1]}

_VALID = [
    ("input_dim", {"input_dim": 5}),
    ("input_dim", {"input_dim": [4, 6], "trunk_units": []}),
    ("input_dim", {"input_dim": (3, 3)}),
    ("trunk_units", {"trunk_units": []}),
    ("trunk_units", {"trunk_units": [4, 3]}),
    ("branch_units", {"branch_units": [[], [2]]}),
    ("branch_units", {"branch_units": [[2], [2], [1, 2]]}),
    ("branch_units", {"branch_units": ([2], (3, 2))}),
    ("head_units", {"head_units": [4, 1]}),
    ("head_units", {"head_units": [[1], [3]]}),
    ("merge", {"merge": "concatenate"}),
    ("merge", {"merge": "add"}),
    ("merge", {"merge": "average"}),
    ("merge", {"merge": "multiply"}),
    ("merge", {"merge": "maximum"}),
    ("activation", {"activation": "tanh"}),
    ("activation", {"activation": None}),
    ("output_activation", {"output_activation": "sigmoid"}),
    ("output_activation", {"output_activation": "softmax", "head_units": [[2], [3]]}),
    ("loss", {"loss": "mae"}),
    ("loss", {"loss": keras.losses.MeanAbsoluteError()}),
    ("loss", {"loss": lambda y_true, y_pred: keras.ops.mean(keras.ops.abs(y_true - y_pred))}),
    ("optimizer", {"optimizer": "sgd"}),
    ("optimizer", {"optimizer": keras.optimizers.Adam(learning_rate=0.01)}),
    ("metrics", {"metrics": None}),
    ("metrics", {"metrics": ["mae"], "head_units": [[1], [2]]}),
    ("seed", {"seed": 0}),
    ("seed", {"seed": 3}),
    ("name", {"name": "bm"}),
]

_INVALID = [
    ("input_dim", {"input_dim": "2"}, TypeError),
    ("input_dim", {"input_dim": 2.5}, TypeError),
    ("input_dim", {"input_dim": True}, TypeError),
    ("input_dim", {"input_dim": 0}, ValueError),
    ("input_dim", {"input_dim": -1}, ValueError),
    ("input_dim", {"input_dim": []}, ValueError),
    ("input_dim", {"input_dim": [4, "6"], "trunk_units": []}, TypeError),
    ("input_dim", {"input_dim": [4, 0], "trunk_units": []}, ValueError),
    ("input_dim", {"input_dim": [4, 6]}, ValueError),
    ("input_dim", {"input_dim": [2, 2, 2]}, ValueError),
    ("trunk_units", {"trunk_units": 3}, TypeError),
    ("trunk_units", {"trunk_units": {"w": 3}}, TypeError),
    ("trunk_units", {"trunk_units": [2.5]}, TypeError),
    ("trunk_units", {"trunk_units": [0]}, ValueError),
    ("trunk_units", {"trunk_units": [3, -1]}, ValueError),
    ("branch_units", {"branch_units": 2}, TypeError),
    ("branch_units", {"branch_units": "ab"}, TypeError),
    ("branch_units", {"branch_units": [2, 2]}, TypeError),
    ("branch_units", {"branch_units": [[2], 2]}, TypeError),
    ("branch_units", {"branch_units": [[2], [2.5]]}, TypeError),
    ("branch_units", {"branch_units": [[2]]}, ValueError),
    ("branch_units", {"branch_units": []}, ValueError),
    ("branch_units", {"branch_units": [[2], [0]]}, ValueError),
    ("branch_units", {"branch_units": [[2], [3]], "merge": "add"}, ValueError),
    ("head_units", {"head_units": 1}, TypeError),
    ("head_units", {"head_units": "1"}, TypeError),
    ("head_units", {"head_units": [[1], 3]}, TypeError),
    ("head_units", {"head_units": [1.5]}, TypeError),
    ("head_units", {"head_units": []}, ValueError),
    ("head_units", {"head_units": [0]}, ValueError),
    ("head_units", {"head_units": [[1], []]}, ValueError),
    ("merge", {"merge": "concat"}, ValueError),
    ("merge", {"merge": "Add"}, ValueError),
    ("merge", {"merge": "subtract"}, ValueError),
    ("merge", {"merge": None}, TypeError),
    ("merge", {"merge": keras.layers.Add}, TypeError),
    ("activation", {"activation": "relux"}, ValueError),
    ("activation", {"activation": 1}, TypeError),
    ("output_activation", {"output_activation": "relux"}, ValueError),
    ("output_activation", {"output_activation": []}, TypeError),
    ("output_activation", {"output_activation": "softmax"}, ValueError),
    ("output_activation", {"output_activation": "softmax", "head_units": [[3], [1]]}, ValueError),
    ("loss", {"loss": "msex"}, ValueError),
    ("loss", {"loss": ["mse"]}, TypeError),
    ("optimizer", {"optimizer": "adamx"}, ValueError),
    ("optimizer", {"optimizer": 1e-3}, TypeError),
    ("metrics", {"metrics": "mae"}, TypeError),
    ("metrics", {"metrics": ["maex"]}, ValueError),
    ("metrics", {"metrics": [1]}, TypeError),
    ("seed", {"seed": -5}, ValueError),
    ("seed", {"seed": 0.5}, TypeError),
    ("seed", {"seed": True}, TypeError),
    ("name", {"name": "a/b"}, ValueError),
    ("name", {"name": ""}, ValueError),
    ("name", {"name": ["bm"]}, TypeError),
]


@pytest.mark.parametrize(("argument", "kwargs"), _VALID, ids=helpers.case_ids(_VALID))
def test_valid_argument_builds(argument, kwargs):
    """A valid value of each argument builds a compiled model."""
    helpers.assert_builds(branch_merge, {**_BASE, **kwargs})


@pytest.mark.parametrize(("argument", "kwargs", "error"), _INVALID, ids=helpers.case_ids(_INVALID))
def test_invalid_argument_raises_before_building(no_building, argument, kwargs, error):
    """An invalid value raises TypeError/ValueError naming `argument` with "Received:", before any layer is built."""
    helpers.assert_invalid(branch_merge, {**_BASE, **kwargs}, argument, error)


def test_no_building_fixture_catches_building(no_building):
    """Control for the fixture: a valid call does reach the patched Keras constructors."""
    with pytest.raises(no_building):
        branch_merge(**_BASE)


def test_fewer_than_two_branches_says_why(no_building):
    """One branch is refused with a message explaining that a merge needs two branches."""
    with pytest.raises(
        ValueError, match=r"`branch_units`(.|\n)*Received: branch_units=\[\[2\]\](.|\n)*two branches"
    ):
        branch_merge(2, [3], [[2]], [1])


def test_softmax_on_one_unit_head_suggests_sigmoid(no_building):
    """A softmax on any 1-wide head is refused, and the message suggests 'sigmoid'."""
    with pytest.raises(
        ValueError, match=r"`output_activation`(.|\n)*Received: (.|\n)*sigmoid"
    ):
        branch_merge(2, [3], [[2], [2]], [[3], [1]], output_activation="softmax")
