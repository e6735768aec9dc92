"""The shared layer check, `tests/layer_testing.py`, fails a layer that breaks its contract.

Each broken layer here breaks one clause (an argument missing from its
config, no registration, a wrong `compute_output_shape`, weights not counted,
a state lost in the file); the control layer breaks none and passes.
"""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import layer_testing  # tests/layer_testing.py, likewise
import pytest

# A package of their own, so these test classes never show among the
# library's registered names (`keras_recipes>...`).
_PACKAGE = "layer_testing_test"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Scale(keras.layers.Layer):
    """Multiplies by `factor`: a layer that keeps the contract."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ForgetfulScale(Scale):
    """Leaves `factor` out of its config: rebuilt, it multiplies by the default."""

    def get_config(self):
        config = super().get_config()
        del config["factor"]
        return config


class UnregisteredScale(Scale):
    """Never registered: a file holding it does not load under safe_mode."""


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MisshapenScale(Scale):
    """Claims an output shape it does not produce."""

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class WeightedScale(Scale):
    """Has one trainable weight, which a check expecting none must notice."""

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.kernel * self.factor


def _check(layer_class, tmp_path, **kwargs):
    return layer_testing.run_layer_test(
        layer_class,
        {"factor": 3.0, "name": "scale"},
        helpers.inputs(2, 4),
        registered_name=f"{_PACKAGE}>{layer_class.__name__}",
        directory=tmp_path,
        **kwargs,
    )


def test_a_layer_that_keeps_the_contract_passes(tmp_path):
    """Control: a registered layer with a full config, right shape and counted weights passes."""
    result = _check(Scale, tmp_path, expected_output=helpers.inputs(2, 4) * 3.0)
    assert type(result.loaded) is Scale and result.loaded.factor == 3.0
    _check(WeightedScale, tmp_path, expected_num_trainable_weights=1)


@pytest.mark.parametrize(
    ("layer_class", "match"),
    [
        (ForgetfulScale, "constructor argument `factor`"),
        (UnregisteredScale, "not registered as"),
        (MisshapenScale, "compute_output_shape says"),
        (WeightedScale, "1 trainable weights, expected 0"),
    ],
    ids=["config-lacks-an-argument", "unregistered", "wrong-output-shape", "uncounted-weight"],
)
def test_a_layer_that_breaks_the_contract_fails(layer_class, match, tmp_path):
    """Each broken clause fails the check with an AssertionError."""
    with pytest.raises(AssertionError, match=match):
        _check(layer_class, tmp_path)


def test_a_serialization_round_trip_that_loses_a_value_fails():
    """`run_serialization_test` fails an instance whose rebuilt config differs from its own."""

    @keras.saving.register_keras_serializable(package=_PACKAGE)
    class Counter(Scale):
        # Each construction counts up, so no rebuilt instance has the same config.
        built = 0

        def __init__(self, factor=2.0, **kwargs):
            type(self).built += 1
            super().__init__(factor=factor + type(self).built, **kwargs)

    with pytest.raises(AssertionError):
        layer_testing.run_serialization_test(Counter(), f"{_PACKAGE}>Counter")
