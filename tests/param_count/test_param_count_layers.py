"""Tests of the layer formulas in `keras_recipes.param_count` against Keras.

The expected side of every comparison comes from Keras itself (a real layer
built on a concrete input, and its weights) or from a published number, never
from the formula under test.
"""

import math

import keras
import numpy
import pytest
import strategies  # tests/strategies.py, on `sys.path` through tests/conftest.py
from hypothesis import example, given
from hypothesis import strategies as st

from keras_recipes import param_count
from keras_recipes.param_count import ZERO, ParamCount

# === Helpers ===


def keras_count(layer):
    """The `ParamCount` of a built Keras layer or model, from its weights."""
    return ParamCount(
        sum(math.prod(weight.shape) for weight in layer.trainable_weights),
        sum(math.prod(weight.shape) for weight in layer.non_trainable_weights),
    )


def build(layer, input_shape, dtype="float32"):
    """Call `layer` on a symbolic `keras.Input(input_shape)`, and return it built."""
    layer(keras.Input(shape=input_shape, dtype=dtype))
    return layer


def assert_counts_equal(count, layer):
    """Check a formula's `count` against a built `layer`: the total and the split."""
    expected = keras_count(layer)
    assert count.total == layer.count_params()
    # Part by part, so that the check does not rest on `ParamCount.__eq__`.
    assert (count.trainable, count.non_trainable) == (
        expected.trainable,
        expected.non_trainable,
    )


def formula_rank(rank, kernel_size, omit_rank):
    """The `rank=` to pass a formula: `None` when it can be left to the default.

    The default is the length of a tuple `kernel_size`, or 2 for an int.
    """
    if omit_rank and (isinstance(kernel_size, tuple) or rank == 2):
        return None
    return rank


CONVOLUTIONS = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}
CONVOLUTION_TRANSPOSES = {
    1: keras.layers.Conv1DTranspose,
    2: keras.layers.Conv2DTranspose,
    3: keras.layers.Conv3DTranspose,
}
DEPTHWISE_CONVOLUTIONS = {
    1: keras.layers.DepthwiseConv1D,
    2: keras.layers.DepthwiseConv2D,
}
SEPARABLE_CONVOLUTIONS = {
    1: keras.layers.SeparableConv1D,
    2: keras.layers.SeparableConv2D,
}
CONVOLUTIONAL_LSTMS = {
    1: keras.layers.ConvLSTM1D,
    2: keras.layers.ConvLSTM2D,
    3: keras.layers.ConvLSTM3D,
}
RECURRENT_LAYERS = {
    "simple_rnn": (keras.layers.SimpleRNN, param_count.simple_rnn),
    "lstm": (keras.layers.LSTM, param_count.lstm),
    "gru": (keras.layers.GRU, param_count.gru),
}


# === Each formula against the Keras layer of the same name ===


@given(
    input_shape=strategies.input_shapes(max_size=strategies.MAX_SIZE),
    units=strategies.sizes(),
    use_bias=strategies.flags(),
)
def test_dense_matches_keras(input_shape, units, use_bias):
    """`dense` equals Keras's `Dense` on inputs of rank 2 to 4 (the last axis only)."""
    layer = build(keras.layers.Dense(units, use_bias=use_bias), input_shape)
    assert_counts_equal(
        param_count.dense(input_shape[-1], units, use_bias=use_bias), layer
    )


@given(
    input_dim=strategies.sizes(),
    output_dim=strategies.sizes(),
    length=strategies.sizes(),
)
def test_embedding_matches_keras(input_dim, output_dim, length):
    """`embedding` equals Keras's `Embedding`, whatever the sequence length."""
    layer = build(keras.layers.Embedding(input_dim, output_dim), (length,), "int32")
    assert_counts_equal(param_count.embedding(input_dim, output_dim), layer)


@given(
    shapes=strategies.convolution_shapes(),
    channels=strategies.grouped_channels(),
    use_bias=strategies.flags(),
    omit_rank=strategies.flags(),
)
def test_conv_matches_keras(shapes, channels, use_bias, omit_rank):
    """`conv` equals Keras's `Conv1D/2D/3D`, grouped or not, with or without bias."""
    rank, kernel_size, spatial_shape = shapes
    in_channels, filters, groups = channels
    layer = CONVOLUTIONS[rank](
        filters, kernel_size, groups=groups, use_bias=use_bias, padding="same"
    )
    build(layer, spatial_shape + (in_channels,))
    count = param_count.conv(
        in_channels,
        filters,
        kernel_size,
        rank=formula_rank(rank, kernel_size, omit_rank),
        groups=groups,
        use_bias=use_bias,
    )
    assert_counts_equal(count, layer)


@given(
    shapes=strategies.convolution_shapes(),
    in_channels=strategies.sizes(),
    filters=strategies.sizes(),
    use_bias=strategies.flags(),
    omit_rank=strategies.flags(),
)
def test_conv_transpose_matches_keras(
    shapes, in_channels, filters, use_bias, omit_rank
):
    """`conv_transpose` equals Keras's `Conv1D/2D/3DTranspose`."""
    rank, kernel_size, spatial_shape = shapes
    layer = CONVOLUTION_TRANSPOSES[rank](
        filters, kernel_size, use_bias=use_bias, padding="same"
    )
    build(layer, spatial_shape + (in_channels,))
    count = param_count.conv_transpose(
        in_channels,
        filters,
        kernel_size,
        rank=formula_rank(rank, kernel_size, omit_rank),
        use_bias=use_bias,
    )
    assert_counts_equal(count, layer)


@given(
    shapes=strategies.convolution_shapes(max_rank=2),
    in_channels=strategies.sizes(),
    depth_multiplier=strategies.sizes(3),
    use_bias=strategies.flags(),
    omit_rank=strategies.flags(),
)
def test_depthwise_conv_matches_keras(
    shapes, in_channels, depth_multiplier, use_bias, omit_rank
):
    """`depthwise_conv` equals Keras's `DepthwiseConv1D/2D`."""
    rank, kernel_size, spatial_shape = shapes
    layer = DEPTHWISE_CONVOLUTIONS[rank](
        kernel_size,
        depth_multiplier=depth_multiplier,
        use_bias=use_bias,
        padding="same",
    )
    build(layer, spatial_shape + (in_channels,))
    count = param_count.depthwise_conv(
        in_channels,
        kernel_size,
        rank=formula_rank(rank, kernel_size, omit_rank),
        depth_multiplier=depth_multiplier,
        use_bias=use_bias,
    )
    assert_counts_equal(count, layer)


@given(
    shapes=strategies.convolution_shapes(max_rank=2),
    in_channels=strategies.sizes(),
    filters=strategies.sizes(),
    depth_multiplier=strategies.sizes(3),
    use_bias=strategies.flags(),
    omit_rank=strategies.flags(),
)
def test_separable_conv_matches_keras(
    shapes, in_channels, filters, depth_multiplier, use_bias, omit_rank
):
    """`separable_conv` equals Keras's `SeparableConv1D/2D`."""
    rank, kernel_size, spatial_shape = shapes
    layer = SEPARABLE_CONVOLUTIONS[rank](
        filters,
        kernel_size,
        depth_multiplier=depth_multiplier,
        use_bias=use_bias,
        padding="same",
    )
    build(layer, spatial_shape + (in_channels,))
    count = param_count.separable_conv(
        in_channels,
        filters,
        kernel_size,
        rank=formula_rank(rank, kernel_size, omit_rank),
        depth_multiplier=depth_multiplier,
        use_bias=use_bias,
    )
    assert_counts_equal(count, layer)


@given(
    timesteps=strategies.sizes(4),
    input_dim=strategies.sizes(),
    units=strategies.sizes(),
    use_bias=strategies.flags(),
)
def test_simple_rnn_matches_keras(timesteps, input_dim, units, use_bias):
    """`simple_rnn` equals Keras's `SimpleRNN`, whatever the sequence length."""
    layer = keras.layers.SimpleRNN(units, use_bias=use_bias)
    build(layer, (timesteps, input_dim))
    count = param_count.simple_rnn(input_dim, units, use_bias=use_bias)
    assert_counts_equal(count, layer)


@given(
    timesteps=strategies.sizes(4),
    input_dim=strategies.sizes(),
    units=strategies.sizes(),
    use_bias=strategies.flags(),
)
def test_lstm_matches_keras(timesteps, input_dim, units, use_bias):
    """`lstm` equals Keras's `LSTM`, whatever the sequence length."""
    layer = build(keras.layers.LSTM(units, use_bias=use_bias), (timesteps, input_dim))
    assert_counts_equal(param_count.lstm(input_dim, units, use_bias=use_bias), layer)


@given(
    timesteps=strategies.sizes(4),
    input_dim=strategies.sizes(),
    units=strategies.sizes(),
    use_bias=strategies.flags(),
    reset_after=strategies.flags(),
)
def test_gru_matches_keras(timesteps, input_dim, units, use_bias, reset_after):
    """`gru` equals Keras's `GRU` with `reset_after` either way."""
    layer = keras.layers.GRU(units, use_bias=use_bias, reset_after=reset_after)
    build(layer, (timesteps, input_dim))
    count = param_count.gru(
        input_dim, units, use_bias=use_bias, reset_after=reset_after
    )
    assert_counts_equal(count, layer)


@given(
    input_dim=strategies.sizes(),
    units=strategies.sizes(),
)
def test_gru_defaults_to_keras_reset_after(input_dim, units):
    """`gru` without `reset_after` equals Keras's `GRU` without it (`True`)."""
    layer = build(keras.layers.GRU(units), (2, input_dim))
    assert_counts_equal(param_count.gru(input_dim, units), layer)


@given(
    shapes=strategies.convolution_shapes(),
    timesteps=strategies.sizes(2),
    in_channels=strategies.sizes(4),
    filters=strategies.sizes(4),
    use_bias=strategies.flags(),
    omit_rank=strategies.flags(),
)
def test_conv_lstm_matches_keras(
    shapes, timesteps, in_channels, filters, use_bias, omit_rank
):
    """`conv_lstm` equals Keras's `ConvLSTM1D/2D/3D` (a full-size recurrent kernel)."""
    rank, kernel_size, spatial_shape = shapes
    layer = CONVOLUTIONAL_LSTMS[rank](
        filters, kernel_size, use_bias=use_bias, padding="same"
    )
    build(layer, (timesteps,) + spatial_shape + (in_channels,))
    count = param_count.conv_lstm(
        in_channels,
        filters,
        kernel_size,
        rank=formula_rank(rank, kernel_size, omit_rank),
        use_bias=use_bias,
    )
    assert_counts_equal(count, layer)


@given(
    forward_kind=strategies.recurrent_kinds(),
    backward_kind=strategies.recurrent_kinds(),
    input_dim=strategies.sizes(),
    forward_units=strategies.sizes(),
    backward_units=strategies.sizes(),
    with_backward_layer=strategies.flags(),
)
def test_bidirectional_matches_keras(
    forward_kind,
    backward_kind,
    input_dim,
    forward_units,
    backward_units,
    with_backward_layer,
):
    """`bidirectional` equals Keras's `Bidirectional`, given a backward layer or not."""
    forward_class, forward_formula = RECURRENT_LAYERS[forward_kind]
    forward_count = forward_formula(input_dim, forward_units)
    if with_backward_layer:
        backward_class, backward_formula = RECURRENT_LAYERS[backward_kind]
        backward_layer = backward_class(backward_units, go_backwards=True)
        backward_count = backward_formula(input_dim, backward_units)
    else:
        backward_layer = None
        backward_count = None
    layer = keras.layers.Bidirectional(
        forward_class(forward_units), backward_layer=backward_layer
    )
    build(layer, (3, input_dim))
    assert_counts_equal(param_count.bidirectional(forward_count, backward_count), layer)


@given(
    input_shape=strategies.input_shapes(),
    axis_index=st.integers(min_value=0),
    negative_axis=strategies.flags(),
    center=strategies.flags(),
    scale=strategies.flags(),
    renorm=strategies.flags(),
)
def test_batch_norm_matches_keras(
    input_shape, axis_index, negative_axis, center, scale, renorm
):
    """`batch_norm` equals Keras's `BatchNormalization` on any axis, renorm or not."""
    axis = 1 + axis_index % len(input_shape)
    keras_axis = axis - 1 - len(input_shape) if negative_axis else axis
    layer = keras.layers.BatchNormalization(
        axis=keras_axis, center=center, scale=scale, renorm=renorm
    )
    build(layer, input_shape)
    count = param_count.batch_norm(
        input_shape[axis - 1], center=center, scale=scale, renorm=renorm
    )
    assert_counts_equal(count, layer)


@given(
    input_shape=strategies.input_shapes(),
    axis_index=st.integers(min_value=0),
    negative_axis=strategies.flags(),
    center=strategies.flags(),
    scale=strategies.flags(),
)
def test_layer_norm_on_one_axis_matches_keras(
    input_shape, axis_index, negative_axis, center, scale
):
    """`layer_norm(size)` equals Keras's `LayerNormalization(axis=one_axis)`."""
    axis = 1 + axis_index % len(input_shape)
    keras_axis = axis - 1 - len(input_shape) if negative_axis else axis
    layer = keras.layers.LayerNormalization(axis=keras_axis, center=center, scale=scale)
    build(layer, input_shape)
    count = param_count.layer_norm(input_shape[axis - 1], center=center, scale=scale)
    assert_counts_equal(count, layer)


@given(
    shape_and_axes=strategies.normalized_axes(),
    center=strategies.flags(),
    scale=strategies.flags(),
)
def test_layer_norm_on_several_axes_matches_keras(shape_and_axes, center, scale):
    """`layer_norm((sizes...))` equals Keras's `LayerNormalization(axis=[axes...])`."""
    input_shape, axes = shape_and_axes
    layer = keras.layers.LayerNormalization(axis=axes, center=center, scale=scale)
    build(layer, input_shape)
    sizes = tuple(input_shape[axis - 1] for axis in axes)
    count = param_count.layer_norm(sizes, center=center, scale=scale)
    assert_counts_equal(count, layer)


@given(
    spatial_shape=strategies.input_shapes(min_rank=0, max_rank=2),
    channels=strategies.sizes(),
    center=strategies.flags(),
    scale=strategies.flags(),
    data=st.data(),
)
def test_group_norm_matches_keras(spatial_shape, channels, center, scale, data):
    """`group_norm` equals Keras's `GroupNormalization` for every valid `groups`."""
    groups = data.draw(strategies.group_norm_groups(channels), label="groups")
    layer = keras.layers.GroupNormalization(groups=groups, center=center, scale=scale)
    build(layer, spatial_shape + (channels,))
    count = param_count.group_norm(channels, groups=groups, center=center, scale=scale)
    assert_counts_equal(count, layer)


# === Algebraic properties ===


@given(
    width=strategies.sizes(),
    use_bias=strategies.flags(),
    two_inputs=strategies.flags(),
)
def test_layer_applied_twice_counts_once(width, use_bias, two_inputs):
    """A layer applied twice in a functional model counts once in `count_params()`."""
    shared = keras.layers.Dense(width, use_bias=use_bias)
    first = keras.Input(shape=(width,))
    if two_inputs:
        second = keras.Input(shape=(width,))
        inputs = [first, second]
        outputs = keras.layers.Concatenate()([shared(first), shared(second)])
    else:
        inputs = first
        outputs = shared(shared(first))
    model = keras.Model(inputs, outputs)
    assert_counts_equal(param_count.dense(width, width, use_bias=use_bias), model)


@given(
    kind=strategies.recurrent_kinds(),
    input_dim=strategies.sizes(),
    units=strategies.sizes(),
)
def test_bidirectional_counts_twice_the_wrapped_layer(kind, input_dim, units):
    """`Bidirectional(layer)` counts twice `layer`, and `bidirectional` agrees."""
    layer_class, formula = RECURRENT_LAYERS[kind]
    wrapped = build(layer_class(units), (3, input_dim))
    wrapper = build(keras.layers.Bidirectional(layer_class(units)), (3, input_dim))
    assert wrapper.count_params() == 2 * wrapped.count_params()
    assert_counts_equal(param_count.bidirectional(formula(input_dim, units)), wrapper)


@given(
    input_dim=strategies.sizes(),
    units=strategies.sizes(),
    use_bias=strategies.flags(),
    activation=strategies.activations(),
)
def test_activations_never_change_the_count(input_dim, units, use_bias, activation):
    """An `activation` argument or an `Activation` layer adds no parameter."""
    inputs = keras.Input(shape=(input_dim,))
    dense = keras.layers.Dense(units, activation=activation, use_bias=use_bias)
    activation_layer = keras.layers.Activation(activation)
    model = keras.Model(inputs, activation_layer(dense(inputs)))
    assert activation_layer.count_params() == 0
    assert keras_count(activation_layer) == ParamCount(0, 0)
    assert_counts_equal(param_count.dense(input_dim, units, use_bias=use_bias), dense)
    assert_counts_equal(param_count.dense(input_dim, units, use_bias=use_bias), model)


FROZEN_CASES = {
    "dense": lambda width, units: (
        keras.layers.Dense(units),
        (width,),
        param_count.dense(width, units),
    ),
    "conv": lambda width, units: (
        keras.layers.Conv2D(units, 3, padding="same"),
        (4, 4, width),
        param_count.conv(width, units, 3),
    ),
    "batch_norm": lambda width, units: (
        keras.layers.BatchNormalization(),
        (units, width),
        param_count.batch_norm(width),
    ),
    "batch_renorm": lambda width, units: (
        keras.layers.BatchNormalization(renorm=True),
        (units, width),
        param_count.batch_norm(width, renorm=True),
    ),
    "layer_norm": lambda width, units: (
        keras.layers.LayerNormalization(),
        (units, width),
        param_count.layer_norm(width),
    ),
    "lstm": lambda width, units: (
        keras.layers.LSTM(units),
        (3, width),
        param_count.lstm(width, units),
    ),
    "bidirectional_gru": lambda width, units: (
        keras.layers.Bidirectional(keras.layers.GRU(units)),
        (3, width),
        param_count.bidirectional(param_count.gru(width, units)),
    ),
}


@given(
    kind=st.sampled_from(sorted(FROZEN_CASES)),
    width=strategies.sizes(),
    units=strategies.sizes(),
    freeze_before_build=strategies.flags(),
)
def test_frozen_layer_counts_as_frozen_formula(kind, width, units, freeze_before_build):
    """`layer.trainable = False` gives `formula.frozen()`: same total, all frozen."""
    layer, input_shape, count = FROZEN_CASES[kind](width, units)
    if freeze_before_build:
        layer.trainable = False
    build(layer, input_shape)
    layer.trainable = False
    assert_counts_equal(count.frozen(), layer)
    assert count.frozen().total == count.total


@given(
    input_dim=strategies.sizes(),
    units=strategies.sizes(),
    rate=st.floats(min_value=0.1, max_value=0.9),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_seeded_noise_layers_add_nothing(input_dim, units, rate, seed):
    """`Dropout`, `GaussianNoise`, `GaussianDropout` add nothing to `count_params()`."""
    noise_layers = [
        keras.layers.Dropout(rate, seed=seed),
        keras.layers.GaussianNoise(rate, seed=seed),
        keras.layers.GaussianDropout(rate, seed=seed),
    ]
    inputs = keras.Input(shape=(input_dim,))
    outputs = keras.layers.Dense(units)(inputs)
    for noise_layer in noise_layers:
        outputs = noise_layer(outputs)
    model = keras.Model(inputs, keras.layers.Dense(input_dim)(outputs))
    for noise_layer in noise_layers:
        # The seed generator's state is a variable, but not a weight.
        assert noise_layer.non_trainable_variables
        assert noise_layer.count_params() == 0
        assert keras_count(noise_layer) == ParamCount(0, 0)
    count = param_count.dense(input_dim, units) + param_count.dense(units, input_dim)
    assert_counts_equal(count, model)


# === ParamCount arithmetic ===


@given(first=strategies.count_pairs(), second=strategies.count_pairs())
def test_addition_adds_each_part(first, second):
    """`a + b` adds the trainable and the non-trainable counts separately."""
    total = ParamCount(*first) + ParamCount(*second)
    assert total == ParamCount(first[0] + second[0], first[1] + second[1])
    assert total.total == sum(first) + sum(second)


@given(
    first=strategies.count_pairs(),
    second=strategies.count_pairs(),
    third=strategies.count_pairs(),
)
def test_addition_is_associative_and_commutative(first, second, third):
    """`(a + b) + c == a + (b + c)` and `a + b == b + a`."""
    a, b, c = ParamCount(*first), ParamCount(*second), ParamCount(*third)
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a


@given(pair=strategies.count_pairs())
def test_zero_is_the_identity(pair):
    """`ZERO` has no parameters, and `a + ZERO == ZERO + a == a`."""
    count = ParamCount(*pair)
    assert (ZERO.trainable, ZERO.non_trainable, ZERO.total) == (0, 0, 0)
    assert count + ZERO == count
    assert ZERO + count == count


@given(pairs=st.lists(strategies.count_pairs(), max_size=6))
def test_sum_adds_every_count(pairs):
    """`sum(counts)` and `sum(counts, ZERO)` add every count, part by part."""
    counts = [ParamCount(*pair) for pair in pairs]
    expected = ParamCount(
        sum(trainable for trainable, _ in pairs),
        sum(non_trainable for _, non_trainable in pairs),
    )
    assert sum(counts, ZERO) == expected
    if counts:
        assert sum(counts) == expected
    else:
        assert sum(counts) == 0


@given(
    pair=strategies.count_pairs(),
    other_pair=strategies.count_pairs(),
    times=strategies.multipliers(),
    other_times=strategies.multipliers(),
)
def test_multiplication_repeats_addition(pair, other_pair, times, other_times):
    """`n * a == a * n` is `a` added `n` times, and distributes over `+`."""
    count, other = ParamCount(*pair), ParamCount(*other_pair)
    expected = ParamCount(times * pair[0], times * pair[1])
    assert times * count == expected
    assert count * times == expected
    assert sum([count] * times, ZERO) == expected
    for numpy_times in (numpy.int64(times), numpy.int32(times)):
        assert isinstance(numpy_times * count, ParamCount)
        assert numpy_times * count == expected
        assert count * numpy_times == expected
    assert (times + other_times) * count == times * count + other_times * count
    assert times * (count + other) == times * count + times * other
    assert 0 * count == ZERO
    assert 1 * count == count


@given(pair=strategies.count_pairs())
def test_frozen_keeps_the_total(pair):
    """`a.frozen()` has the same total as `a`, all of it non-trainable."""
    assert ParamCount(*pair).frozen() == ParamCount(0, sum(pair))


@given(pair=strategies.count_pairs())
def test_counts_are_plain_ints(pair):
    """Counts built from NumPy integers are stored as plain Python `int`s."""
    count = ParamCount(numpy.int64(pair[0]), numpy.int32(min(pair[1], 2**31 - 1)))
    assert type(count.trainable) is int
    assert type(count.non_trainable) is int
    assert count.trainable == pair[0]


# === Published numbers ===


def test_gru_anchor():
    """GRU(5) on 4 features has 165 parameters with `reset_after=True`, 150 without."""
    assert param_count.gru(4, 5).total == 165
    assert param_count.gru(4, 5, reset_after=True).total == 165
    assert param_count.gru(4, 5, reset_after=False).total == 150
    assert build(keras.layers.GRU(5), (3, 4)).count_params() == 165
    assert build(keras.layers.GRU(5, reset_after=False), (3, 4)).count_params() == 150


class Sampling(keras.layers.Layer):
    """The keras.io VAE's sampling layer: `z = mean + exp(log_var / 2) * noise`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(
            shape=keras.ops.shape(z_mean), seed=self.seed_generator
        )
        return z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon


VAE_ENCODER_PARAMETERS = 69_076
VAE_DECODER_PARAMETERS = 65_089
LATENT_DIM = 2


def test_vae_encoder_anchor():
    """The keras.io VAE encoder has 69,076 parameters, by the formulas and in Keras."""
    # 28x28 -> 14x14 -> 7x7 with strides 2 and "same" padding.
    formulas = (
        param_count.conv(1, 32, 3)
        + param_count.conv(32, 64, 3)
        + param_count.dense(7 * 7 * 64, 16)
        + 2 * param_count.dense(16, LATENT_DIM)
    )
    assert formulas == ParamCount(VAE_ENCODER_PARAMETERS, 0)

    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(inputs)
    x = keras.layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(16, activation="relu")(x)
    z_mean = keras.layers.Dense(LATENT_DIM, name="z_mean")(x)
    z_log_var = keras.layers.Dense(LATENT_DIM, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")
    assert encoder.count_params() == VAE_ENCODER_PARAMETERS
    assert keras_count(encoder) == ParamCount(VAE_ENCODER_PARAMETERS, 0)


def test_vae_decoder_anchor():
    """The keras.io VAE decoder has 65,089 parameters, by the formulas and in Keras."""
    formulas = (
        param_count.dense(LATENT_DIM, 7 * 7 * 64)
        + param_count.conv_transpose(64, 64, 3)
        + param_count.conv_transpose(64, 32, 3)
        + param_count.conv_transpose(32, 1, 3)
    )
    assert formulas == ParamCount(VAE_DECODER_PARAMETERS, 0)

    inputs = keras.Input(shape=(LATENT_DIM,))
    x = keras.layers.Dense(7 * 7 * 64, activation="relu")(inputs)
    x = keras.layers.Reshape((7, 7, 64))(x)
    x = keras.layers.Conv2DTranspose(
        64, 3, activation="relu", strides=2, padding="same"
    )(x)
    x = keras.layers.Conv2DTranspose(
        32, 3, activation="relu", strides=2, padding="same"
    )(x)
    outputs = keras.layers.Conv2DTranspose(
        1, 3, activation="sigmoid", padding="same"
    )(x)
    decoder = keras.Model(inputs, outputs, name="decoder")
    assert decoder.count_params() == VAE_DECODER_PARAMETERS
    assert keras_count(decoder) == ParamCount(VAE_DECODER_PARAMETERS, 0)


# === Invalid arguments ===

# A valid call of every formula; each invalid case changes one argument.
VALID_CALLS = {
    "dense": (param_count.dense, {"input_dim": 4, "units": 3, "use_bias": True}),
    "embedding": (param_count.embedding, {"input_dim": 10, "output_dim": 3}),
    "conv": (
        param_count.conv,
        {
            "in_channels": 4,
            "filters": 6,
            "kernel_size": 3,
            "rank": 2,
            "groups": 1,
            "use_bias": True,
        },
    ),
    "conv_transpose": (
        param_count.conv_transpose,
        {"in_channels": 4, "filters": 6, "kernel_size": 3, "rank": 2, "use_bias": True},
    ),
    "depthwise_conv": (
        param_count.depthwise_conv,
        {
            "in_channels": 4,
            "kernel_size": 3,
            "rank": 2,
            "depth_multiplier": 2,
            "use_bias": True,
        },
    ),
    "separable_conv": (
        param_count.separable_conv,
        {
            "in_channels": 4,
            "filters": 6,
            "kernel_size": 3,
            "rank": 2,
            "depth_multiplier": 2,
            "use_bias": True,
        },
    ),
    "simple_rnn": (
        param_count.simple_rnn,
        {"input_dim": 4, "units": 5, "use_bias": True},
    ),
    "lstm": (param_count.lstm, {"input_dim": 4, "units": 5, "use_bias": True}),
    "gru": (
        param_count.gru,
        {"input_dim": 4, "units": 5, "use_bias": True, "reset_after": True},
    ),
    "conv_lstm": (
        param_count.conv_lstm,
        {"in_channels": 2, "filters": 3, "kernel_size": 3, "rank": 2, "use_bias": True},
    ),
    "bidirectional": (
        param_count.bidirectional,
        {"forward": ParamCount(10), "backward": ParamCount(8)},
    ),
    "batch_norm": (
        param_count.batch_norm,
        {"channels": 4, "center": True, "scale": True, "renorm": False},
    ),
    "layer_norm": (
        param_count.layer_norm,
        {"shape": (4, 5), "center": True, "scale": True},
    ),
    "group_norm": (
        param_count.group_norm,
        {"channels": 8, "groups": 1, "center": True, "scale": True},
    ),
}

CONVOLUTION_FORMULAS = (
    "conv",
    "conv_transpose",
    "depthwise_conv",
    "separable_conv",
    "conv_lstm",
)

# Arguments that take a positive integer, and nothing else.
SIZE_ARGUMENTS = [
    (name, argument)
    for name, (_, arguments) in VALID_CALLS.items()
    for argument in arguments
    if argument
    in (
        "input_dim",
        "units",
        "output_dim",
        "in_channels",
        "filters",
        "kernel_size",
        "depth_multiplier",
        "channels",
    )
    or (name, argument) == ("conv", "groups")
]

FLAG_ARGUMENTS = [
    (name, argument)
    for name, (_, arguments) in VALID_CALLS.items()
    for argument in arguments
    if argument in ("use_bias", "reset_after", "center", "scale", "renorm")
]


def call(name, **changes):
    """Call the formula `name` with its valid arguments, some of them changed."""
    function, arguments = VALID_CALLS[name]
    return function(**{**arguments, **changes})


def assert_is_count(result):
    """Check that `result` is a `ParamCount` of plain `int`s."""
    assert isinstance(result, ParamCount)
    assert type(result.trainable) is int
    assert type(result.non_trainable) is int


def case_id(value):
    """A readable test id for a parameter value."""
    return repr(value)


def test_every_formula_is_checked():
    """The invalid-argument tables cover every formula `param_count` exports."""
    layer_formulas = {
        name
        for name in param_count.__all__
        if getattr(getattr(param_count, name), "__module__", None)
        == "keras_recipes._counting.layers"
    }
    assert set(VALID_CALLS) == layer_formulas


@pytest.mark.parametrize("name, argument", SIZE_ARGUMENTS)
@given(value=st.sampled_from([1, 2, numpy.int64(2), numpy.int32(1)]))
def test_size_arguments_accept_positive_integers(name, argument, value):
    """Every size argument accepts a positive integer, NumPy integers included."""
    assert_is_count(call(name, **{argument: value}))


@pytest.mark.parametrize("name, argument", SIZE_ARGUMENTS)
@given(value=strategies.non_positive_integers())
@example(value=0)
@example(value=-1)
def test_size_arguments_reject_non_positive_integers(name, argument, value):
    """Every size argument raises `ValueError`, naming itself, for 0 or less."""
    with pytest.raises(ValueError, match=f"`{argument}`"):
        call(name, **{argument: value})


@pytest.mark.parametrize("name, argument", SIZE_ARGUMENTS)
@given(value=strategies.non_integers())
@example(value=True)
@example(value=False)
@example(value=2.0)
@example(value="2")
@example(value=None)
def test_size_arguments_reject_non_integers(name, argument, value):
    """Every size argument raises `TypeError`, naming itself, for a non-int or bool."""
    with pytest.raises(TypeError, match=f"`{argument}`"):
        call(name, **{argument: value})


@pytest.mark.parametrize("name, argument", FLAG_ARGUMENTS)
@pytest.mark.parametrize("value", [True, False])
def test_flags_accept_booleans(name, argument, value):
    """Every flag accepts `True` and `False`."""
    assert_is_count(call(name, **{argument: value}))


@pytest.mark.parametrize("name, argument", FLAG_ARGUMENTS)
@given(value=strategies.non_booleans())
@example(value=1)
@example(value=0)
@example(value="True")
@example(value=None)
@example(value=numpy.bool_(True))
def test_flags_reject_non_booleans(name, argument, value):
    """Every flag raises `TypeError`, naming itself, for anything but a `bool`."""
    with pytest.raises(TypeError, match=f"`{argument}`"):
        call(name, **{argument: value})


# Valid values of the arguments that are more than a size or a flag:
# (formula, changed arguments).
VALID_SPECIAL_CASES = [
    *[
        (name, changes)
        for name in CONVOLUTION_FORMULAS
        for changes in (
            {"kernel_size": (3, 1)},
            {"kernel_size": [3, 1]},
            {"kernel_size": (numpy.int64(3), 1)},
            {"rank": 1, "kernel_size": (3,)},
            {"rank": 1, "kernel_size": 3},
            {"rank": 2, "kernel_size": (3, 3)},
            {"rank": None, "kernel_size": 3},
            {"rank": None, "kernel_size": (3,)},
            {"rank": numpy.int64(2)},
        )
    ],
    *[
        (name, {"rank": 3, "kernel_size": (3, 3, 3)})
        for name in ("conv", "conv_transpose", "conv_lstm")
    ],
    *[
        (name, {"rank": None, "kernel_size": (3, 3, 3)})
        for name in ("conv", "conv_transpose", "conv_lstm")
    ],
    ("conv", {"groups": 2}),
    ("conv", {"in_channels": 6, "groups": 6}),
    ("group_norm", {"groups": -1}),
    ("group_norm", {"groups": 8}),
    ("group_norm", {"groups": numpy.int64(4)}),
    ("layer_norm", {"shape": 4}),
    ("layer_norm", {"shape": (4,)}),
    ("layer_norm", {"shape": [4, 5, 6]}),
    ("layer_norm", {"shape": (numpy.int64(4), 1)}),
    ("bidirectional", {"backward": None}),
    ("bidirectional", {"forward": ZERO, "backward": ZERO}),
]


@pytest.mark.parametrize("name, changes", VALID_SPECIAL_CASES, ids=case_id)
def test_special_arguments_accept_valid_values(name, changes):
    """Kernel sizes, ranks, groups, shapes and wrapped counts accept valid forms."""
    assert_is_count(call(name, **changes))


# Invalid values of the arguments that are more than a size or a flag:
# (formula, changed arguments, exception, argument the message must name).
INVALID_SPECIAL_CASES = [
    *[
        (name, changes, exception, argument)
        for name in CONVOLUTION_FORMULAS
        for changes, exception, argument in (
            ({"kernel_size": (3, 0)}, ValueError, "kernel_size"),
            ({"kernel_size": (3, -1)}, ValueError, "kernel_size"),
            ({"kernel_size": (3, 3, 3)}, ValueError, "kernel_size"),
            ({"kernel_size": (3,)}, ValueError, "kernel_size"),
            ({"kernel_size": ()}, ValueError, "kernel_size"),
            ({"kernel_size": (3, 3, 3, 3), "rank": None}, ValueError, "kernel_size"),
            ({"kernel_size": (3, True)}, TypeError, "kernel_size"),
            ({"kernel_size": (3, 2.0)}, TypeError, "kernel_size"),
            ({"kernel_size": (3, "3")}, TypeError, "kernel_size"),
            ({"kernel_size": {3}}, TypeError, "kernel_size"),
            ({"kernel_size": "33"}, TypeError, "kernel_size"),
            ({"rank": 4}, ValueError, "rank"),
            ({"rank": 4, "kernel_size": (3, 3, 3, 3)}, ValueError, "rank"),
            ({"rank": 0}, ValueError, "rank"),
            ({"rank": -1}, ValueError, "rank"),
            ({"rank": True}, TypeError, "rank"),
            ({"rank": 2.0}, TypeError, "rank"),
            ({"rank": "2"}, TypeError, "rank"),
            ({"rank": 1, "kernel_size": (3, 3)}, ValueError, "kernel_size"),
        )
    ],
    ("conv", {"groups": 4}, ValueError, "groups"),  # Divides in_channels=4 only.
    ("conv", {"groups": 3}, ValueError, "groups"),  # Divides filters=6 only.
    ("conv", {"groups": 5}, ValueError, "groups"),
    ("group_norm", {"groups": 3}, ValueError, "groups"),
    ("group_norm", {"groups": 16}, ValueError, "groups"),
    ("group_norm", {"groups": 0}, ValueError, "groups"),
    ("group_norm", {"groups": -2}, ValueError, "groups"),
    ("group_norm", {"groups": True}, TypeError, "groups"),
    ("group_norm", {"groups": 2.0}, TypeError, "groups"),
    ("group_norm", {"groups": None}, TypeError, "groups"),
    ("group_norm", {"channels": 16, "groups": 32}, ValueError, "groups"),
    ("layer_norm", {"shape": 0}, ValueError, "shape"),
    ("layer_norm", {"shape": -3}, ValueError, "shape"),
    ("layer_norm", {"shape": (4, 0)}, ValueError, "shape"),
    ("layer_norm", {"shape": (4, -2)}, ValueError, "shape"),
    ("layer_norm", {"shape": (4, True)}, TypeError, "shape"),
    ("layer_norm", {"shape": (4, 2.0)}, TypeError, "shape"),
    ("layer_norm", {"shape": True}, TypeError, "shape"),
    ("layer_norm", {"shape": 4.0}, TypeError, "shape"),
    ("layer_norm", {"shape": "45"}, TypeError, "shape"),
    ("layer_norm", {"shape": None}, TypeError, "shape"),
    ("bidirectional", {"forward": 10}, TypeError, "forward"),
    ("bidirectional", {"forward": None}, TypeError, "forward"),
    ("bidirectional", {"forward": (10, 0)}, TypeError, "forward"),
    ("bidirectional", {"backward": 8}, TypeError, "backward"),
    ("bidirectional", {"backward": (8, 0)}, TypeError, "backward"),
]


@pytest.mark.parametrize(
    "name, changes, exception, argument", INVALID_SPECIAL_CASES, ids=case_id
)
def test_special_arguments_reject_invalid_values(name, changes, exception, argument):
    """Bad kernel sizes, ranks, groups, shapes or counts raise, naming the argument."""
    with pytest.raises(exception, match=f"`{argument}`"):
        call(name, **changes)


def test_layer_norm_rejects_an_empty_shape_with_value_error():
    """`layer_norm(shape=())` raises `ValueError` naming `shape`: a wrong value."""
    with pytest.raises(ValueError, match="`shape`"):
        call("layer_norm", shape=())


@pytest.mark.parametrize("argument", ["trainable", "non_trainable"])
@given(value=strategies.negative_integers())
@example(value=-1)
def test_param_count_rejects_negative_counts(argument, value):
    """`ParamCount` raises `ValueError`, naming the part, for a negative count."""
    with pytest.raises(ValueError, match=f"`{argument}`"):
        ParamCount(**{argument: value})


@pytest.mark.parametrize("argument", ["trainable", "non_trainable"])
@given(value=strategies.non_integers())
@example(value=True)
@example(value=1.0)
def test_param_count_rejects_non_integer_counts(argument, value):
    """`ParamCount` raises `TypeError`, naming the part, for a non-integer or a bool."""
    with pytest.raises(TypeError, match=f"`{argument}`"):
        ParamCount(**{argument: value})


@pytest.mark.parametrize("argument", ["trainable", "non_trainable"])
@pytest.mark.parametrize("value", [0, 1, numpy.int64(7)])
def test_param_count_accepts_non_negative_integers(argument, value):
    """`ParamCount` accepts 0 and positive integers, NumPy integers included."""
    assert_is_count(ParamCount(**{argument: value}))


@given(times=strategies.negative_integers())
def test_multiplying_by_a_negative_integer_raises(times):
    """`count * n` raises `ValueError` naming `times` when `n` is negative."""
    with pytest.raises(ValueError, match="`times`"):
        ParamCount(3, 1) * times
    with pytest.raises(ValueError, match="`times`"):
        times * ParamCount(3, 1)


@pytest.mark.parametrize("operand", [1.5, 2.0, True, "2", None, [2]], ids=case_id)
def test_multiplying_by_a_non_integer_raises(operand):
    """`count * x` and `x * count` raise `TypeError` unless `x` is an integer."""
    with pytest.raises(TypeError, match="unsupported operand|can't multiply"):
        ParamCount(3, 1) * operand
    with pytest.raises(TypeError, match="unsupported operand|can't multiply"):
        operand * ParamCount(3, 1)


@pytest.mark.parametrize("operand", [1, 0.0, 3, "a", None, (1, 2)], ids=case_id)
def test_adding_anything_but_a_count_raises(operand):
    """`count + x` raises `TypeError` unless `x` is a `ParamCount` (or a left `0`)."""
    with pytest.raises(TypeError, match="unsupported operand|can only concatenate"):
        ParamCount(3, 1) + operand
    if operand != 0:
        with pytest.raises(TypeError, match="unsupported operand|can only concatenate"):
            operand + ParamCount(3, 1)


@pytest.mark.parametrize("formula", [param_count.depthwise_conv, param_count.separable_conv])
def test_depthwise_and_separable_refuse_rank_three(formula):
    """Keras has no DepthwiseConv3D or SeparableConv3D, so rank 3 is a ValueError naming `rank`."""
    arguments = (4, 3) if formula is param_count.depthwise_conv else (4, 4, 3)
    with pytest.raises(ValueError, match=r"`rank`(.|\n)*Received: rank=3"):
        formula(*arguments, rank=3)
    with pytest.raises(ValueError, match="`kernel_size`"):
        formula(*arguments[:-1], (3, 3, 3))
