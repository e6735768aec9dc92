"""Tests of `keras_recipes.testing.assert_param_count`."""

import keras
import pytest

from keras_recipes.param_count import ParamCount
from keras_recipes.testing import assert_param_count


@pytest.fixture
def lecture_model():
    """The lecture's Dense 2 -> 3 -> 2 -> 3 stack, 26 parameters, with a batch norm (4 more, 2 frozen)."""
    return keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(3, name="first"),
            keras.layers.Dense(2, name="second"),
            keras.layers.Dense(3, name="third"),
            keras.layers.BatchNormalization(name="norm", center=False, scale=False),
        ],
        name="lecture",
    )


@pytest.mark.parametrize(
    "expected",
    [
        32,
        ParamCount(26, 6),
        {"first": 9, "second": 8, "third": 9, "norm": ParamCount(0, 6)},
        {"first": 9, "second": ParamCount(8), "third": 9, "norm": 6},
    ],
)
def test_passes_when_the_counts_match(lecture_model, expected):
    """An int total, a ParamCount split, or a per-layer dict that match raise nothing."""
    assert_param_count(lecture_model, expected)


def test_int_mismatch_shows_the_per_layer_table(lecture_model):
    """A wrong total fails with both totals and the per-layer table."""
    with pytest.raises(AssertionError) as error:
        assert_param_count(lecture_model, 26)
    message = str(error.value)
    assert "expected 26, got 32 (26 trainable, 6 non-trainable)" in message
    assert "second" in message and "norm" in message


def test_split_mismatch_fails_even_when_the_total_matches(lecture_model):
    """A ParamCount with the right total but the wrong split fails."""
    with pytest.raises(AssertionError, match="expected 32 \\(32 trainable"):
        assert_param_count(lecture_model, ParamCount(32, 0))


def test_dict_mismatch_names_only_the_differing_layers(lecture_model):
    """A per-layer dict fails with one line per differing, unlisted or unknown layer."""
    expected = {"first": 9, "second": 6, "norm": 6, "fourth": 1}
    with pytest.raises(AssertionError) as error:
        assert_param_count(lecture_model, expected)
    lines = str(error.value).splitlines()
    assert lines[0] == "Parameter counts differ in 3 layers of model 'lecture':"
    assert lines[1:] == [
        "  second: expected 6, got 8 (8 trainable, 0 non-trainable)",
        "  third: not in expected, has 9 (9 trainable, 0 non-trainable)",
        "  fourth: expected 1, but the model has no such layer",
    ]


@pytest.mark.parametrize("expected, error", [(-1, ValueError), ("26", TypeError),
                                             ({"first": "9"}, TypeError), ({1: 9}, TypeError)])
def test_bad_expected(lecture_model, expected, error):
    """A negative or non-integer expectation is refused before comparing."""
    with pytest.raises(error, match="`expected"):
        assert_param_count(lecture_model, expected)
