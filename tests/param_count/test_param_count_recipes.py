"""param_count's recipe counts against the models the builders really make."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keras_recipes
import strategies
from keras_recipes import param_count


def _keras_split(model):
    return (
        sum(math.prod(weight.shape) for weight in model.trainable_weights),
        sum(math.prod(weight.shape) for weight in model.non_trainable_weights),
    )


def _check(name, call):
    args, kwargs = call
    model = getattr(keras_recipes, name)(*args, **kwargs)
    expected = getattr(param_count, name)(*args, **kwargs)
    assert model.count_params() == expected.total
    assert _keras_split(model) == (expected.trainable, expected.non_trainable)


@given(strategies.mlp_arguments())
def test_mlp_count_equals_keras(call):
    """param_count.mlp equals count_params() of mlp() for every valid call."""
    _check("mlp", call)


@given(strategies.shared_mlp_arguments())
def test_shared_mlp_count_equals_keras(call):
    """param_count.shared_mlp equals count_params() of shared_mlp() for every valid call."""
    _check("shared_mlp", call)


@given(strategies.branch_merge_arguments())
def test_branch_merge_count_equals_keras(call):
    """param_count.branch_merge equals count_params() of branch_merge() for every valid call."""
    _check("branch_merge", call)


@given(strategies.averaging_layer_arguments())
def test_averaging_layer_count_equals_keras(call):
    """param_count.averaging_layer equals count_params() of averaging_layer(): zero."""
    _check("averaging_layer", call)


@given(
    input_dim=st.one_of(st.integers(-1, 4), st.lists(st.integers(0, 4), max_size=3)),
    trunk_units=st.lists(st.integers(0, 3), max_size=2),
    branch_units=st.lists(st.lists(st.integers(0, 3), max_size=2), max_size=3),
    head_units=st.one_of(
        st.lists(st.integers(0, 3), max_size=2),
        st.lists(st.lists(st.integers(0, 3), max_size=2), max_size=2),
    ),
    merge=st.sampled_from([*strategies.MERGE_MODES, "sum"]),
)
def test_branch_merge_accepts_exactly_what_param_count_accepts(
    input_dim, trunk_units, branch_units, head_units, merge
):
    """The builder and param_count reject the same sizes, with the same error."""
    args = (input_dim, trunk_units, branch_units, head_units)
    try:
        expected = param_count.branch_merge(*args, merge=merge)
    except (TypeError, ValueError) as error:
        with pytest.raises(type(error)) as raised:
            keras_recipes.branch_merge(*args, merge=merge)
        assert str(raised.value) == str(error)
    else:
        assert keras_recipes.branch_merge(*args, merge=merge).count_params() == expected.total


@settings(max_examples=6)
@given(strategies.split_brain_ae_arguments())
def test_split_brain_ae_count_equals_keras(call):
    """param_count.split_brain_ae equals count_params() of split_brain_ae() (tiny widths; the full AlexNet is in test_split_brain_ae.py)."""
    _check("split_brain_ae", call)
