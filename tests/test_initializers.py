"""Tests of `keras_recipes.initializers`: PyTorch's default initialisation as a Keras initializer.

The expected bound is PyTorch's documented one for `nn.Linear` and
`nn.ConvNd` weights and biases, U(-sqrt(k), sqrt(k)) with k = 1 / fan_in
(fan_in = in_features, or in_channels * prod(kernel_size)).
"""

import math

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from strategies import invalid_sizes  # tests/strategies.py

from keras_recipes import initializers
from keras_recipes.initializers import FanInUniform


def _values(initializer, shape):
    return keras.ops.convert_to_numpy(initializer(shape, dtype="float32"))


# (kernel shape, PyTorch's fan-in): a Dense, a Conv2D (3x3, 16 in, 32 out) and a
# Conv2DTranspose (Keras's kernel is (3, 3, filters, inputs); PyTorch's
# weight (inputs, filters, 3, 3) has fan-in filters * 9).
_KERNELS = [((300, 200), 300), ((3, 3, 16, 32), 144), ((3, 3, 24, 40), 216)]


@pytest.mark.parametrize(("shape", "fan_in"), _KERNELS, ids=str)
def test_a_kernel_draws_uniformly_within_one_over_root_fan_in(shape, fan_in):
    """A kernel's values fill U(-1/sqrt(fan_in), 1/sqrt(fan_in)): none beyond, near it at the edge, its spread."""
    bound = 1 / math.sqrt(fan_in)
    values = _values(FanInUniform(seed=0), shape)
    assert initializers.kernel_fan_in(shape) == fan_in
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() >= 0.99 * bound
    # At least 4,608 values: a uniform sample's standard deviation is within 5%.
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert abs(values.mean()) < 0.05 * bound


def test_a_bias_takes_its_layers_fan_in():
    """Given fan_in, a bias's values use that bound, whatever the bias's own length."""
    values = _values(FanInUniform(fan_in=16, seed=1), (4000,))
    assert np.abs(values).max() <= 0.25
    assert values.std() == pytest.approx(0.25 / math.sqrt(3), rel=0.05)


@pytest.mark.parametrize("shape", [(7,), ()], ids=str)
def test_a_bias_without_fan_in_is_refused(shape):
    """A shape of rank below 2 gives no fan-in: ValueError naming it and saying to pass fan_in."""
    with pytest.raises(ValueError, match=r"shape.*fan_in="):
        FanInUniform(seed=0)(shape)


@settings(max_examples=60, deadline=None)
@given(invalid_sizes(huge=False).filter(lambda value: value is not None))
def test_an_invalid_fan_in_is_refused(value):
    """fan_in must be None or a positive integer: anything else is refused, naming fan_in."""
    with pytest.raises((TypeError, ValueError), match="fan_in"):
        FanInUniform(fan_in=value)


def test_seeded_values_repeat_and_seeds_differ():
    """An integer seed gives the same values at every call; another seed gives others."""
    first, again = _values(FanInUniform(seed=3), (20, 10)), _values(FanInUniform(seed=3), (20, 10))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, _values(FanInUniform(seed=4), (20, 10)))


def test_it_serializes_and_loads_back_safely():
    """Its config holds fan_in and seed only, and Keras's safe deserialisation rebuilds it by its registered name."""
    initializer = FanInUniform(fan_in=12, seed=5)
    assert initializer.get_config() == {"fan_in": 12, "seed": 5}
    config = keras.saving.serialize_keras_object(initializer)
    assert config["registered_name"] == "keras_recipes>FanInUniform"
    loaded = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert isinstance(loaded, FanInUniform)
    np.testing.assert_array_equal(_values(loaded, (30,)), _values(initializer, (30,)))


def test_get_knows_the_librarys_names_only():
    """`get` makes the named initializer, unseeded, and answers None for a Keras name."""
    assert type(initializers.get("fan_in_uniform")) is FanInUniform
    assert initializers.get("fan_in_uniform").fan_in is None
    assert initializers.get("glorot_uniform") is None
