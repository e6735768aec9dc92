"""One error for every config no layer could have: `ConfigError` naming the layer path, class and key."""

import keras
import pytest

from keras_recipes import param_count
from keras_recipes.param_count import ConfigError, _readers, count_config
from param_count.test_param_count_saved import DENSE, sequential


# === The readers ===

# (reader, arguments it refuses, the key named, arguments it accepts, what they give)
READERS = [
    (_readers.positive, ({"units": 0}, "units"), "units", ({"units": 3}, "units"), 3),
    (_readers.positive, ({"units": "3"}, "units"), "units", ({}, "units", 2), 2),
    (_readers.positive, ({"units": _readers.MAX_AXIS + 1}, "units"), "units",
     ({"units": _readers.MAX_AXIS}, "units"), _readers.MAX_AXIS),
    (_readers.non_negative, ({"size": -1}, "size"), "size", ({"size": 0}, "size"), 0),
    (_readers.flag, ({"use_bias": "yes"}, "use_bias", True), "use_bias",
     ({}, "use_bias", True), True),
    (_readers.int_tuple, ({"kernel_size": [3]}, "kernel_size", 2), "kernel_size",
     ({"kernel_size": 3}, "kernel_size", 2), (3, 3)),
    (_readers.int_tuple, ({"padding": [-1, 0]}, "padding", 2, None, 0), "padding",
     ({"padding": [1, 0]}, "padding", 2, None, 0), (1, 0)),
    (_readers.shape, ([None, -4],), "input_shape", ([None, 4],), [None, 4]),
    (_readers.shape, ([None] + [2] * _readers.MAX_RANK,), "input_shape",
     ([None] + [2] * (_readers.MAX_RANK - 1),), [None] + [2] * (_readers.MAX_RANK - 1)),
    (_readers.shape, ("(None, 4)",), "input_shape", ((None, 4),), [None, 4]),
    (_readers.build_shape, ({"input_shape": [None, True]},), "input_shape",
     ({"input_shape": [None, 0]},), [None, 0]),
    (_readers.layer, ({"layer": {"config": {}}}, "layer"), "layer",
     ({"layer": {"class_name": "Dense"}}, "layer"), {"class_name": "Dense"}),
    (_readers.choice, ({"padding": "full"}, "padding", "valid", ("valid", "same")), "padding",
     ({"padding": "SAME"}, "padding", "valid", ("valid", "same")), "same"),
]


@pytest.mark.parametrize("reader, refused, key, accepted, expected", READERS,
                         ids=[f"{row[0].__name__}-{index}" for index, row in enumerate(READERS)])
def test_every_reader_raises_the_one_error_naming_the_key(reader, refused, key, accepted, expected):
    """Each reader refuses a bad value with a ConfigError (a ValueError and a TypeError) naming
    the key and the value received, and gives the value for its valid pair."""
    with pytest.raises(ConfigError, match=rf"argument `{key}`(.|\n)*Received: {key}=") as info:
        reader(*refused)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    assert info.value.key == key
    assert reader(*accepted) == expected


def test_the_message_names_path_class_and_key_in_keras_style():
    """The message reads `Cannot count layer 'path': Invalid value for argument `key` of a
    `Class` layer: expected ... Received: key=value`, and `where` fills in only what is unknown."""
    error = _readers.invalid("units", "a positive integer", 0)
    assert str(error) == "Invalid value for argument `units`: expected a positive integer. Received: units=0"
    located = error.where(class_name="Dense").where(class_name="Other", path="model/d")
    assert (located.class_name, located.path, located.key, located.value) == ("Dense", "model/d", "units", 0)
    assert str(located) == (
        "Cannot count layer 'model/d': Invalid value for argument `units` of a `Dense` layer: "
        "expected a positive integer. Received: units=0"
    )
    assert located.where(path="elsewhere") is located


def test_a_value_from_a_file_is_shown_escaped_and_cut():
    """An escape sequence or a huge value in a config is shown escaped and cut short."""
    error = ConfigError("units", "a positive integer", "\x1b[2J" + "9" * 10_000, class_name="De\x1bnse")
    assert "\x1b" not in str(error)
    assert len(str(error)) < 1000


# === Both columns, from the rule table ===


@pytest.mark.parametrize(
    "config, build_config, key",
    [
        ({"units": 0}, {"input_shape": [None, 2]}, "units"),
        ({"units": "3"}, {"input_shape": [None, 2]}, "units"),
        ({"units": 3}, {"input_shape": [None, -2]}, "input_shape"),
        ({"units": 3}, {"input_shape": "(None, 2)"}, "input_shape"),
    ],
)
def test_the_count_the_macs_and_the_shape_raise_the_same_error(config, build_config, key):
    """A bad Dense config raises ConfigError naming the class and the key from all three rules;
    its valid counterpart is answered by all three."""
    for function in (param_count.layer_count, param_count.layer_macs, param_count.layer_output_shape):
        with pytest.raises(ConfigError) as info:
            function("Dense", config, build_config)
        assert (info.value.class_name, info.value.key) == ("Dense", key), function.__name__
        assert f"`{key}` of a `Dense` layer" in str(info.value)
    build = {"input_shape": [None, 2]}
    assert param_count.layer_count("Dense", {"units": 3}, build).total == 9
    assert param_count.layer_macs("Dense", {"units": 3}, build) == 6
    assert param_count.layer_output_shape("Dense", {"units": 3}, build) == (None, 3)


def test_a_negative_cropping_is_refused_as_a_list_of_them_is():
    """A negative int for `cropping` is refused like a negative pair; a non-negative one is answered."""
    build = {"input_shape": [None, 5, 1]}
    for cropping in (-1, [-1, 0]):
        with pytest.raises(ConfigError, match=r"`cropping` of a `Cropping1D` layer(.|\n)*Received: cropping="):
            param_count.layer_output_shape("Cropping1D", {"cropping": cropping}, build)
    assert param_count.layer_output_shape("Cropping1D", {"cropping": 1}, build) == (None, 3, 1)


def test_a_wrapped_layer_error_names_the_wrapped_class():
    """A bad key of the layer inside a TimeDistributed names that layer's class, not the wrapper's."""
    inner = {"class_name": "Dense", "config": {"units": -1}}
    build = {"input_shape": [None, 5, 2]}
    for function in (param_count.layer_count, param_count.layer_macs):
        with pytest.raises(ConfigError) as info:
            function("TimeDistributed", {"layer": inner}, build)
        assert (info.value.class_name, info.value.key) == ("Dense", "units"), function.__name__


def test_a_live_layer_config_edited_gives_the_error_a_file_gives():
    """A live layer's config with one key edited is refused as the same edit in a file is."""
    layer = keras.layers.Dense(3, name="d")
    layer.build((None, 2))
    config = {**layer.get_config(), "units": 0}
    with pytest.raises(ConfigError) as live:
        param_count.layer_count("Dense", config, layer.get_build_config())
    with pytest.raises(ConfigError) as saved:
        count_config(sequential({**DENSE, "config": config, "build_config": layer.get_build_config()}))
    assert (live.value.class_name, live.value.key, live.value.value) == ("Dense", "units", 0)
    assert (saved.value.class_name, saved.value.key, saved.value.value) == ("Dense", "units", 0)
    assert str(saved.value) == f"Cannot count layer 'd': {live.value}"


# === From a file: the path too ===


def test_a_crafted_file_names_the_path_class_and_key():
    """A nested layer with a bad key in a saved config is refused naming its path, class and key."""
    inner = sequential({**DENSE, "config": {"name": "d", "units": 3, "use_bias": "yes"}}, name="inner")
    with pytest.raises(ConfigError) as info:
        count_config(sequential(inner, name="outer"))
    error = info.value
    assert (error.path, error.class_name, error.key) == ("inner/d", "Dense", "use_bias")
    assert str(error).startswith(
        "Cannot count layer 'inner/d': Invalid value for argument `use_bias` of a `Dense` layer"
    )
    assert str(error).endswith("Received: use_bias='yes'")
    # The valid counterpart is counted.
    valid = sequential(sequential(DENSE, name="inner"), name="outer")
    assert count_config(valid).total.total == 9


def test_a_user_rule_may_raise_config_error(rules):
    """A registered rule raising param_count.ConfigError is reported with the layer's path and class."""

    def count(config, build_config):
        units = config.get("units")
        if not isinstance(units, int) or units < 1:
            raise ConfigError("units", "a positive integer", units)
        return param_count.ParamCount(build_config["input_shape"][-1] * units)

    param_count.register("tests_errors>Mix", params=count)
    layer = {"module": None, "class_name": "Mix", "registered_name": "tests_errors>Mix",
             "config": {"name": "mix", "units": 0}, "build_config": {"input_shape": [None, 2]}}
    with pytest.raises(ConfigError) as info:
        count_config(sequential(layer))
    assert (info.value.path, info.value.class_name, info.value.key) == ("mix", "Mix", "units")
    assert str(info.value) == (
        "Cannot count layer 'mix': Invalid value for argument `units` of a `Mix` layer: "
        "expected a positive integer. Received: units=0"
    )
    valid = {**layer, "config": {"name": "mix", "units": 4}}
    assert count_config(sequential(valid)).total.total == 8


def test_a_layer_name_from_a_file_is_shown_escaped_in_the_error():
    """A layer name holding escape sequences reaches the message escaped."""
    layer = {**DENSE, "config": {"name": "d\x1b[2J", "units": 0}}
    with pytest.raises(ConfigError) as info:
        count_config(sequential(layer))
    assert "\x1b" not in str(info.value)
    assert "`units` of a `Dense` layer" in str(info.value)
