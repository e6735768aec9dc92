"""Tests of `keras_recipes.layers.SelectChannels`, the split-brain towers' input layer."""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import layer_testing  # tests/layer_testing.py, likewise
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_recipes.layers import SelectChannels


def test_select_channels_saves_and_reloads(tmp_path):
    """SelectChannels passes the shared layer check (registered name, config round trip, no weights,
    output shape, a safe_mode .keras round trip) and keeps its channels through get_config and the file."""
    x = helpers.inputs(2, 5, 3)
    result = layer_testing.run_layer_test(
        SelectChannels,
        {"channels": [2, 0], "name": "pick"},
        x,
        registered_name="keras_recipes>SelectChannels",
        directory=tmp_path,
        expected_output=x[..., [2, 0]],
    )
    assert result.layer.get_config()["channels"] == [2, 0]
    assert result.loaded.channels == [2, 0]


@pytest.mark.parametrize("channels", [[], [-1], [0.5], [True]])
def test_select_channels_refuses_bad_channels(channels):
    """Empty, negative or non-integer channel lists are ValueErrors naming `channels`."""
    with pytest.raises(ValueError, match=r"`channels`.*Received: channels="):
        SelectChannels(channels)


@settings(max_examples=60, deadline=None)
@given(
    num_channels=st.integers(1, 4),
    data=st.data(),
)
def test_select_channels_refuses_an_index_beyond_the_input(num_channels, data):
    """An index at or beyond the input's channel count (huge ones included) is refused when the
    layer meets the input, eagerly or symbolically, naming `channels` and the channel count;
    indices below it select those channels."""
    inside = st.integers(0, num_channels - 1)
    beyond = st.one_of(st.integers(num_channels, 64), st.sampled_from([2**31, 2**63, 10**400]))
    channels = data.draw(st.lists(inside, max_size=2)) + [data.draw(beyond)]
    channels = data.draw(st.permutations(channels))
    images = np.arange(2 * 3 * num_channels, dtype="float32").reshape(2, 3, num_channels)
    for call in (lambda: SelectChannels(channels)(images),
                 lambda: SelectChannels(channels)(keras.Input((3, num_channels)))):
        with pytest.raises(ValueError, match=f"`channels`.*{num_channels} channels") as info:
            call()
        assert "Received: channels=" in str(info.value)
    valid = data.draw(st.lists(inside, min_size=1, max_size=3))
    selected = keras.ops.convert_to_numpy(SelectChannels(valid)(images))
    np.testing.assert_array_equal(selected, images[..., valid])
