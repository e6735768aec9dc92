"""Invalid arguments for every builder, found by Hypothesis: each is refused cleanly, before building.

Each test draws calls with one thing wrong (`invalid_*_calls`, in each family's
`tests/recipes/<family>/strategies.py`):
wrong types (`bool` for an int, floats, strings, `None`, numpy scalars and
arrays, dicts), zero and negative sizes, empty and ragged lists, unknown
choices, sizes that do not fit together, non-finite numbers, and sizes too
big to build. Every call must raise `ValueError` or `TypeError` whose
message names the argument in backticks and shows what was received, and
must raise it before any Keras layer or model is built (the `no_building`
fixture turns building into an `AssertionError`, which `pytest.raises`
does not catch). A backend error, a Keras `AssertionError` or a bare Python
error (`OverflowError`, a `TypeError` without our message) fails the test.

Run with `--hypothesis-show-statistics` to see how many calls each test
drew and which argument they broke (`event`s).
"""

import keras
import numpy as np
import pytest
import strategies
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from recipes.autoencoders import strategies as autoencoder_strategies
from recipes.functional import strategies as functional_strategies
from recipes.split_brain import strategies as split_brain_strategies

import keras_recipes
from keras_recipes import _validation
from keras_recipes.layers import Sampling, SelectChannels
from keras_recipes.losses import ReconstructionError

# Validation alone costs well under a millisecond a call; 300 calls a builder
# is over the 200 the issue asks for, with margin for filtered draws.
EXAMPLES = 300

# `no_building` patches the Keras constructors once for the whole test; every
# example then runs under the same patches, which is what Hypothesis's
# function-scoped-fixture health check warns about and what is wanted here.
per_builder = settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

INVALID_CALLS = {
    "mlp": functional_strategies.invalid_mlp_calls(),
    "shared_mlp": functional_strategies.invalid_shared_mlp_calls(),
    "branch_merge": functional_strategies.invalid_branch_merge_calls(),
    "averaging_layer": functional_strategies.invalid_averaging_layer_calls(),
    "vae": autoencoder_strategies.invalid_vae_calls(),
    "autoencoder": autoencoder_strategies.invalid_autoencoder_calls(),
    "split_brain_ae": split_brain_strategies.invalid_split_brain_ae_calls(),
}


def assert_refused(call, names, built_something):
    """Check that `call()` raises a Keras-style `ValueError`/`TypeError` naming one of `names`."""
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    message = str(info.value)
    assert not isinstance(info.value, built_something)
    assert any(f"`{name}`" in message for name in names), message
    assert "Received:" in message, message
    event(f"{type(info.value).__name__} naming {next(n for n in names if f'`{n}`' in message)}")


def _test_builder(builder):
    @per_builder
    @given(call=INVALID_CALLS[builder])
    def test(call, no_building):
        kwargs, names = call
        assert_refused(lambda: getattr(keras_recipes, builder)(**kwargs), names, no_building)

    test.__name__ = f"test_{builder}_refuses_invalid_arguments_before_building"
    test.__doc__ = (
        f"`{builder}()` refuses every drawn invalid call with an error naming the argument, before building."
    )
    return test


test_mlp_refuses_invalid_arguments_before_building = _test_builder("mlp")
test_shared_mlp_refuses_invalid_arguments_before_building = _test_builder("shared_mlp")
test_branch_merge_refuses_invalid_arguments_before_building = _test_builder("branch_merge")
test_averaging_layer_refuses_invalid_arguments_before_building = _test_builder("averaging_layer")
test_vae_refuses_invalid_arguments_before_building = _test_builder("vae")
test_autoencoder_refuses_invalid_arguments_before_building = _test_builder("autoencoder")
test_split_brain_ae_refuses_invalid_arguments_before_building = _test_builder("split_brain_ae")


# The valid calls the strategies break one argument of: each gets as far as
# building, which `no_building` turns into `BuiltSomething`. Without these the
# tests above would pass for a builder that refused everything.
VALID_BASES = [
    ("mlp", {"input_dim": 2, "units": [3, 2]}),
    ("shared_mlp", {"input_dim": 2, "shared_units": 3, "bridge_units": [2]}),
    (
        "branch_merge",
        {"input_dim": 2, "trunk_units": [3], "branch_units": [[2], [1, 2]], "head_units": [3]},
    ),
    ("averaging_layer", {"input_dim": 3}),
    ("vae", {"input_shape": (6,), "latent_dim": 2, "hidden_units": (4,)}),
    (
        "autoencoder",
        {"input_shape": (4, 4, 1), "latent_dim": 2, "architecture": "conv", "filters": (2,), "intermediate_dim": 3},
    ),
    ("split_brain_ae", {"input_shape": (16, 16, 3), "architecture": "small", "width_multiplier": 0.125}),
]


@pytest.mark.parametrize(("builder", "kwargs"), VALID_BASES, ids=[row[0] for row in VALID_BASES])
def test_valid_base_call_reaches_building(builder, kwargs, no_building):
    """The valid call each strategy breaks passes validation and starts building."""
    with pytest.raises(no_building):
        getattr(keras_recipes, builder)(**kwargs)


# === Sizes too big to build ===

TOO_BIG = [
    ("mlp", {"input_dim": 200_000, "units": [200_000]}, "units"),
    ("mlp", {"input_dim": 2, "units": [10**9, 3]}, "units"),
    ("shared_mlp", {"input_dim": 2, "shared_units": 10**9, "bridge_units": [2]}, "shared_units"),
    ("branch_merge", {"input_dim": 2, "trunk_units": [10**5], "branch_units": [[10**5], []], "head_units": [1]}, "branch_units"),
    ("vae", {"input_shape": (2**15, 2**15)}, "input_shape"),
    ("vae", {"input_shape": (64,), "latent_dim": 2**40}, "latent_dim"),
    ("autoencoder", {"input_shape": (8, 8, 1), "latent_dim": 2, "architecture": "conv", "intermediate_dim": 10**12}, "intermediate_dim"),
    ("split_brain_ae", {"input_shape": (32, 32, 3), "architecture": "small", "width_multiplier": 200.0}, "width_multiplier"),
    ("split_brain_ae", {"input_shape": (32, 32, 3), "architecture": "small", "num_l_bins": 2**24}, "num_l_bins"),
]


@pytest.mark.parametrize(("builder", "kwargs", "argument"), TOO_BIG, ids=[row[0] for row in TOO_BIG])
def test_models_too_big_to_build_are_refused_with_their_count(builder, kwargs, argument, no_building):
    """A model over `MAX_PARAMS` is refused before building, naming the argument and giving the count."""
    with pytest.raises(ValueError) as info:
        getattr(keras_recipes, builder)(**kwargs)
    message = str(info.value)
    assert f"`{argument}`" in message
    count = getattr(keras_recipes.param_count, builder)(**kwargs).total
    assert count > _validation.MAX_PARAMS
    assert f"{count:,} parameters" in message or "a sample of at most" in message


def test_parameter_limit_is_inclusive(no_building):
    """A model of exactly `MAX_PARAMS` parameters passes the limit; one more is refused."""
    # mlp(1, [units]) has 2 * units parameters.
    with pytest.raises(no_building):
        keras_recipes.mlp(1, [_validation.MAX_PARAMS // 2])
    with pytest.raises(ValueError, match="`units`.* 2,147,483,650 parameters"):
        keras_recipes.mlp(1, [_validation.MAX_PARAMS // 2 + 1])


def test_sample_size_limit_is_inclusive(no_building):
    """A sample of `MAX_SAMPLE_SIZE` numbers passes; one more number is refused, by builder and count alike."""
    with pytest.raises(no_building):
        keras_recipes.averaging_layer(_validation.MAX_SAMPLE_SIZE)
    for call in (keras_recipes.averaging_layer, keras_recipes.param_count.averaging_layer):
        with pytest.raises(ValueError, match="`input_dim`.*a sample of at most"):
            call(_validation.MAX_SAMPLE_SIZE + 1)


# === submodel, layers and losses ===


@pytest.fixture(scope="module")
def small_model():
    """A tiny built functional model to cut parts from."""
    return keras_recipes.mlp(2, [3, 2], name="small")


def _invalid_submodel_calls():
    from hypothesis import strategies as st

    bad_spec = st.one_of(
        st.text(max_size=6).filter(lambda text: text not in ("small_input", "small_dense_0", "small_dense_1")),
        st.sampled_from([None, 0, 1.5, True, b"small_dense_0", [], (), [0], ["small_dense_0", 1], {"a": 1}]),
        st.sampled_from([np.array("small_dense_0"), np.zeros(2), object()]),
    )
    return st.one_of(
        bad_spec.map(lambda value: ({"outputs": value}, ("outputs",))),
        bad_spec.filter(lambda value: value is not None).map(
            lambda value: ({"outputs": "small_dense_1", "inputs": value}, ("inputs",))
        ),
        strategies.invalid_names().filter(lambda value: value is not None).map(lambda value: ({"outputs": "small_dense_1", "name": value}, ("name",))),
    )


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=_invalid_submodel_calls())
def test_submodel_refuses_invalid_arguments(call, small_model):
    """`submodel()` refuses unknown layer names, wrong types and bad names, naming the argument."""
    kwargs, names = call
    assert_refused(lambda: keras_recipes.submodel(small_model, **kwargs), names, type(None))


def _invalid_channels():
    from hypothesis import strategies as st

    bad_index = st.one_of(strategies.wrong_size_types(), st.integers(max_value=-1))
    return st.one_of(
        st.sampled_from([[], (), 3, 3.0, None, True, np.int64(2), {"a": 1}, object()]),
        st.tuples(st.lists(strategies.sizes(), max_size=2), bad_index).map(
            lambda parts: [*parts[0], parts[1]]
        ),
    )


@settings(max_examples=100)
@given(channels=_invalid_channels())
def test_select_channels_refuses_invalid_channels(channels):
    """`SelectChannels(channels)` refuses anything but a non-empty list of indices, naming `channels`."""
    assert_refused(lambda: SelectChannels(channels), ("channels",), type(None))


@settings(max_examples=100)
@given(value=strategies.unknown_choices(("binary_crossentropy", "squared_error")))
def test_reconstruction_error_refuses_unknown_losses(value):
    """`ReconstructionError(reconstruction_loss)` refuses unknown names and non-strings, naming the argument."""
    assert_refused(lambda: ReconstructionError(value), ("reconstruction_loss",), type(None))



# === Model names ===


@settings(max_examples=300)
@given(name=strategies.invalid_names())
def test_the_shared_name_check_refuses_names_a_backend_cannot_train(name):
    """`_validation.check_name` refuses every name outside the rule every backend trains under, naming `name`."""
    assert_refused(lambda: _validation.check_name(name), ("name",), type(None))


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
@settings(max_examples=25, deadline=None)
@given(
    name=st.one_of(strategies.valid_names(), st.text(max_size=8)),
    builder=st.sampled_from(["mlp", "averaging_layer"]),
)
def test_a_name_is_refused_at_build_time_or_the_model_fits(name, builder):
    """Any text as `name`: the builder refuses it with an error naming `name`, or the model
    it builds fits one step (on TensorFlow, the first `fit` opens a scope of that name)."""
    try:
        model = getattr(keras_recipes, builder)(2, *([[1]] if builder == "mlp" else []), name=name)
    except ValueError as error:
        assert "`name`" in str(error) and "Received: name=" in str(error)
        event("refused")
        return
    event("built")
    inputs = np.zeros((2, 2), dtype="float32")
    history = model.fit(inputs, model.predict(inputs, verbose=0), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# === Colour functions ===


def _invalid_bin_counts():
    return st.one_of(
        strategies.invalid_sizes(huge=False),
        st.sampled_from([1, np.int64(1), 2**24 + 1, 2**31, *strategies.BEYOND_FLOAT, 2**64]),
    )


@settings(max_examples=150)
@given(num_bins=_invalid_bin_counts(), function=st.sampled_from(["quantize_l", "dequantize_l"]))
def test_l_quantisers_refuse_invalid_bin_counts(num_bins, function):
    """`quantize_l`/`dequantize_l` refuse a `num_bins` that is not an integer in [2, 2**24],
    10**400 and 2**1024 included, naming `num_bins` (never an OverflowError)."""
    call = getattr(keras_recipes.color, function)
    assert_refused(lambda: call([50.0], num_bins=num_bins), ("num_bins",), type(None))


def _finite_pairs(value):
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError, OverflowError):
        return False
    return array.ndim == 2 and array.shape[1] == 2 and bool(np.all(np.abs(array) < 3e38))


@settings(max_examples=100)
@given(
    # One row, or equal rows, are valid here: the builder alone asks for
    # two distinct centres or more.
    centers=split_brain_strategies.invalid_bin_centers().filter(lambda value: not _finite_pairs(value)),
    function=st.sampled_from(["quantize_ab", "dequantize_ab"]),
)
def test_ab_quantisers_refuse_invalid_bin_centres(centers, function):
    """`quantize_ab`/`dequantize_ab` refuse centres that are not rows (a, b) of finite float32
    numbers (10**400 and 1e39 included), naming `bin_centers`."""
    call = getattr(keras_recipes.color, function)
    argument = [[0.0, 0.0]] if function == "quantize_ab" else [0]
    with pytest.raises((ValueError, TypeError)) as info:
        call(argument, centers)
    assert "`bin_centers`" in str(info.value) and "Received: bin_centers" in str(info.value)


# === Numbers beyond range, every numeric argument ===

# (builder, base call, argument, how the number goes in). The autoencoders'
# arguments that the base call's architecture does not use are in too:
# they build nothing, but are held to the widest layer all the same.
_NUMERIC_ARGUMENTS = [
    ("mlp", 0, "input_dim", None), ("mlp", 0, "units", "list"),
    ("shared_mlp", 1, "input_dim", None), ("shared_mlp", 1, "shared_units", None),
    ("shared_mlp", 1, "bridge_units", "list"),
    ("branch_merge", 2, "input_dim", None), ("branch_merge", 2, "trunk_units", "list"),
    ("branch_merge", 2, "branch_units", "branches"), ("branch_merge", 2, "head_units", "list"),
    ("averaging_layer", 3, "input_dim", None),
    ("vae", 4, "input_shape", "list"), ("vae", 4, "latent_dim", None),
    ("vae", 4, "hidden_units", "list"), ("vae", 4, "beta", None),
    ("vae", 4, "filters", "list"), ("vae", 4, "intermediate_dim", None),
    ("autoencoder", 5, "hidden_units", "list"),
    ("vae", 4, "steps_per_execution", None), ("vae", 4, "free_bits", None),
    ("vae", 4, "num_samples", None),
    ("autoencoder", 5, "input_shape", "list"), ("autoencoder", 5, "latent_dim", None),
    ("autoencoder", 5, "filters", "list"), ("autoencoder", 5, "intermediate_dim", None),
    ("autoencoder", 5, "noise_stddev", None), ("autoencoder", 5, "steps_per_execution", None),
    ("split_brain_ae", 6, "input_shape", "list"), ("split_brain_ae", 6, "num_l_bins", None),
    ("split_brain_ae", 6, "width_multiplier", None), ("split_brain_ae", 6, "ab_bin_centers", "pair"),
    ("split_brain_ae", 6, "channel_groups", "group"),
]
_PLACED = {
    None: lambda value: value,
    "list": lambda value: [value],
    "branches": lambda value: [[value], [2]],
    "pair": lambda value: [[value, 0], [1, 1]],
    "group": lambda value: ((0,), (1, value)),
}


@pytest.mark.parametrize("value", [*strategies.BEYOND_FLOAT[:2], -(10**400), float("inf"), float("nan")],
                         ids=["10**400", "2**1024", "-10**400", "inf", "nan"])
@pytest.mark.parametrize(("builder", "base", "argument", "placed"), _NUMERIC_ARGUMENTS,
                         ids=[f"{row[0]}-{row[2]}" for row in _NUMERIC_ARGUMENTS])
def test_numbers_beyond_range_are_refused_naming_the_argument(builder, base, argument, placed,
                                                              value, no_building):
    """Every numeric argument of every builder refuses 10**400, 2**1024, -10**400, inf and nan
    with a ValueError/TypeError naming it, before building; never an OverflowError."""
    kwargs = {**VALID_BASES[base][1], argument: _PLACED[placed](value)}
    assert VALID_BASES[base][0] == builder
    with pytest.raises((ValueError, TypeError)) as info:
        getattr(keras_recipes, builder)(**kwargs)
    assert not isinstance(info.value, no_building)
    assert f"`{argument}`" in str(info.value) and "Received:" in str(info.value)


@settings(max_examples=100)
@given(beta=strategies.invalid_numbers())
def test_vae_loss_refuses_invalid_betas(beta):
    """`losses.vae_loss(..., beta=...)` refuses negative, non-finite and beyond-float betas
    (10**400, 2**1024) and non-numbers, naming `beta`, as `vae()` does."""
    from keras_recipes import losses

    ones = np.ones((2, 3), dtype="float32")
    zeros = np.zeros((2, 2), dtype="float32")
    assert_refused(lambda: losses.vae_loss(ones, ones, zeros, zeros, beta=beta), ("beta",), type(None))


@settings(max_examples=100)
@given(seed=st.one_of(strategies.invalid_seeds(), st.sampled_from(strategies.BEYOND_FLOAT)))
def test_sampling_refuses_invalid_seeds(seed):
    """`Sampling(seed=...)` refuses negative, non-integer and huge seeds (10**400), naming `seed`."""
    assert_refused(lambda: Sampling(seed=seed), ("seed",), type(None))
