"""Registered rules: a user's layer class gets full rows, live and from its file, and only the parts it gives."""

import json
import math
import sys
import textwrap
import zipfile

import keras
import pytest

from keras_recipes import cli, param_count
from keras_recipes.param_count import _rules, count_config, count_model


@keras.saving.register_keras_serializable(package="tests_rules")
class ChannelMix(keras.layers.Layer):
    """A Dense without bias on the last axis: a kernel (channels, units)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.kernel)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


NAME = "tests_rules>ChannelMix"


def channel_mix_count(config, build_config):
    return param_count.ParamCount(build_config["input_shape"][-1] * config["units"])


def channel_mix_macs(config, build_config):
    *positions, channels = build_config["input_shape"][1:]
    return math.prod(positions) * channels * config["units"]


def channel_mix_shape(config, build_config):
    return (None, *build_config["input_shape"][1:-1], config["units"])




def _mixer():
    inputs = keras.Input((4, 4, 3))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    x = ChannelMix(5, name="mix")(x)
    return keras.Model(inputs, keras.layers.Flatten(name="flat")(x), name="mixer")


def test_a_registered_rule_gives_full_rows_live_and_from_the_file(rules, tmp_path):
    """count, MACs and output bytes of the custom layer are known and equal, live and saved."""
    param_count.register(NAME, params=channel_mix_count, macs=channel_mix_macs,
                         output_shape=channel_mix_shape)
    model = _mixer()
    path = tmp_path / "mixer.keras"
    model.save(path)
    live, saved = count_model(model), count_config(path)
    assert [row.to_dict() for row in saved.rows] == [row.to_dict() for row in live.rows]
    row = saved.rows[1]
    # (2, 2, 2) input: kernel 2 x 5 = 10; 4 positions x 2 x 5 = 40 MACs;
    # output (2, 2, 5) float32 = 80 bytes.
    assert (row.path, row.status, row.count.total, row.macs, row.output_bytes) == (
        "mix", "formula", 10, 40, 80
    )
    assert saved.total.total == model.count_params()
    assert saved.macs == live.macs == 4 * 27 * 2 + 40
    # As the last layer its output is read by nothing in the file: its bytes
    # come from the rule's output shape, (3, 5) float32.
    last = keras.Sequential([keras.Input((3, 2)), ChannelMix(5, name="mix")])
    last.save(path)
    assert count_config(path).rows[0].output_bytes == count_model(last).rows[0].output_bytes == 60


def test_a_missing_part_is_unknown_in_its_column_only(rules, tmp_path):
    """A rule with a count only: the count is known, the MACs are `?`."""
    param_count.register(NAME, params=channel_mix_count)
    model = _mixer()
    path = tmp_path / "mixer.keras"
    model.save(path)
    for table in (count_model(model), count_config(path)):
        row = table.rows[1]
        assert (row.status, row.count.total, row.macs) == ("formula", 10, None)
        assert table.total.total == model.count_params()
        assert table.macs is None
        assert "?" in str(table).splitlines()[3]
    # The output bytes come from the graph here (Flatten reads the tensor).
    assert count_config(path).rows[1].output_bytes == count_model(model).rows[1].output_bytes == 80


def test_a_rule_without_a_count_leaves_the_count_unknown(rules, tmp_path):
    """MACs and shape only: live falls back to the weights, the file's row is unsupported."""
    param_count.register(NAME, macs=channel_mix_macs, output_shape=channel_mix_shape)
    model = _mixer()
    path = tmp_path / "mixer.keras"
    model.save(path)
    assert count_model(model).rows[1].status == "fallback"
    assert count_config(path).rows[1].status == "unsupported"


def test_constant_parts_answer_without_a_shape(rules):
    """A ParamCount and an int MACs are constants: known even for an unbuilt layer."""
    param_count.register(NAME, params=param_count.ParamCount(0, 1), macs=0)
    assert param_count.layer_count("ChannelMix", {}, None, registered_name=NAME) == (
        param_count.ParamCount(0, 1)
    )
    assert param_count.layer_macs("ChannelMix", {}, None, registered_name=NAME) == 0
    assert param_count.layer_output_shape("ChannelMix", {}, None, registered_name=NAME) is None


def test_registered_is_the_view_of_the_registered_counts(rules):
    """`REGISTERED[name] = count` registers a count and keeps the rule's MACs; `del` forgets it."""
    param_count.register(NAME, macs=7)
    assert NAME not in param_count.REGISTERED
    param_count.REGISTERED[NAME] = channel_mix_count
    assert param_count.REGISTERED[NAME] is channel_mix_count
    build = {"input_shape": [None, 3]}
    assert param_count.layer_count("ChannelMix", {"units": 2}, build, registered_name=NAME).total == 6
    assert param_count.layer_macs("ChannelMix", {"units": 2}, build, registered_name=NAME) == 7
    del param_count.REGISTERED[NAME]
    assert NAME not in param_count.REGISTERED
    assert param_count.layer_macs("ChannelMix", {}, build, registered_name=NAME) == 7
    with pytest.raises(KeyError):
        del param_count.REGISTERED[NAME]
    for name in ("Sampling", "FeatureMean", "SelectChannels"):
        assert f"keras_recipes>{name}" in param_count.REGISTERED


def test_a_rule_is_found_by_registered_name_only(rules):
    """A Keras class or an unregistered class of the same name never takes a user's rule."""
    param_count.register("tests_rules>Dense", params=param_count.ParamCount(1))
    build = {"input_shape": [None, 2]}
    assert param_count.layer_count("Dense", {"units": 3}, build).total == 9
    assert param_count.layer_count("Dense", {"units": 3}, build,
                                   registered_name="tests_rules>Dense").total == 1


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"name": "ChannelMix"}, ValueError, "Received: name='ChannelMix'"),
        ({"name": "tests_rules>"}, ValueError, "Received: name='tests_rules>'"),
        ({"name": 3}, TypeError, "Received: name=3"),
        ({"params": 10}, TypeError, "Received: params=10"),
        ({"macs": -1}, ValueError, "Received: macs=-1"),
        ({"macs": True}, TypeError, "Received: macs=True"),
        ({"output_shape": (None, 3)}, TypeError, r"Received: output_shape=\(None, 3\)"),
    ],
    ids=["no-package", "no-class", "name-type", "params-int", "macs-negative", "macs-bool",
         "shape-tuple"],
)
def test_register_refuses_bad_arguments(rules, kwargs, error, fragment):
    """A bad name or part raises, naming the argument and the value received."""
    arguments = {"name": NAME, **kwargs}
    with pytest.raises(error, match=fragment):
        param_count.register(arguments.pop("name"), **arguments)
    assert NAME not in _rules._REGISTERED


def test_register_accepts_valid_arguments(rules):
    """The valid pair of the cases above: a name with a package and every kind of part."""
    param_count.register(NAME, params=param_count.ZERO, macs=0, output_shape=channel_mix_shape)
    assert _rules._REGISTERED[NAME].output_shape is channel_mix_shape


def test_a_rule_returning_no_param_count_is_refused(rules):
    """A count function returning something else names the rule in a ValueError."""
    param_count.register(NAME, params=lambda config, build: 3)
    with pytest.raises(ValueError, match="tests_rules>ChannelMix"):
        param_count.layer_count("ChannelMix", {}, {"input_shape": [None, 2]}, registered_name=NAME)


def test_a_rule_that_cannot_read_a_config_is_a_value_error(rules):
    """A count function tripping on a crafted config (no input shape) gives a ValueError naming the class."""
    param_count.register(NAME, params=channel_mix_count)
    with pytest.raises(ValueError, match="ChannelMix(.|\n)*KeyError"):
        param_count.layer_count("ChannelMix", {"units": 2}, {}, registered_name=NAME)


# === The CLI's --rules ===

_RULES_MODULE = """
from keras_recipes import param_count

param_count.register(
    "tests_rules>ChannelMix",
    params=lambda config, build: param_count.ParamCount(build["input_shape"][-1] * config["units"]),
    macs=0,
)
"""


@pytest.fixture
def rules_module(rules, tmp_path, monkeypatch):
    """An importable module `counting_rules_<n>` that registers a ChannelMix count."""
    name = f"counting_rules_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(_RULES_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_count_with_rules_counts_the_custom_layer(rules_module, tmp_path, capsys):
    """`count PATH --rules MODULE` gives the custom row a count and exits 0; without it, 1."""
    path = tmp_path / "mixer.keras"
    _mixer().save(path)
    assert cli.main(["count", str(path), "--format", "json"]) == 1
    assert rules_module not in sys.modules
    capsys.readouterr()
    assert cli.main(["count", str(path), "--format", "json", "--rules", rules_module]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["status"] for row in data["rows"]] == ["formula"] * 3
    assert data["total"]["total"] == _mixer().count_params()


def test_count_imports_rules_only_after_the_file_passed_the_reader(rules_module, tmp_path, capsys):
    """A file the bounded reader refuses is refused before the rules module is imported."""
    path = tmp_path / "broken.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{not json")
    assert cli.main(["count", str(path), "--rules", rules_module]) == 2
    assert rules_module not in sys.modules
    assert "valid JSON" in capsys.readouterr().err


def test_count_with_a_missing_rules_module_is_one_line_and_status_2(saved_dense, capsys):
    """A module that cannot be imported: one error line naming it, status 2."""
    assert cli.main(["count", str(saved_dense), "--rules", "no_such_rules_module"]) == 2
    err = capsys.readouterr().err
    assert "no_such_rules_module" in err and "ModuleNotFoundError" in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def saved_dense(tmp_path):
    path = tmp_path / "dense.keras"
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]).save(path)
    return path
