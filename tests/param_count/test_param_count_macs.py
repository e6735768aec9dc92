"""Tests of `param_count.layer_macs` and `param_count.layer_output_shape`.

Output shapes are compared with what Keras computes for a real layer. MACs
are compared with three things nobody here wrote the formula for:
TensorFlow's profiler (Dense and convolutions), the sizes of the weights Keras
creates (every kernel weight is used once per output position, or per input
position for a transposed convolution, or per time step), and hand-worked
cases whose arithmetic is in the comments.
"""

import json
import math

import keras
import pytest
import strategies  # tests/strategies.py, on `sys.path` through tests/conftest.py
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_recipes.param_count import layer_macs, layer_output_shape

L = keras.layers

# === Helpers ===


def serialized(layer):
    """`(class_name, config, build_config)` of a layer, as a `.keras` file's JSON stores them."""
    data = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))
    return data["class_name"], data["config"], data.get("build_config")


def call(layer, *input_shapes):
    """Call `layer` on symbolic inputs of the given shapes (no batch axis); return its output."""
    inputs = [keras.Input(shape=shape) for shape in input_shapes]
    return layer(inputs[0] if len(inputs) == 1 else inputs)


def analyzed(layer, *input_shapes):
    """Call `layer`, then return `(our output shape, our MACs, Keras's output shape)`.

    Layers without a `build()` of their own record no build config (Keras
    saves none for them); for those the test passes the input shape, as the
    model walker does from the layer's inbound tensors.
    """
    output = call(layer, *input_shapes)
    class_name, config, build_config = serialized(layer)
    if build_config is None:
        shapes = [[None, *shape] for shape in input_shapes]
        build_config = {"input_shape": shapes[0] if len(shapes) == 1 else shapes}
    keras_shape = tree_shape(output)
    return (
        layer_output_shape(class_name, config, build_config),
        layer_macs(class_name, config, build_config),
        keras_shape,
    )


def tree_shape(output):
    """The shape of a symbolic output, or a tuple of shapes for several outputs."""
    if isinstance(output, (list, tuple)):
        return tuple(tuple(tensor.shape) for tensor in output)
    return tuple(output.shape)


def size(weight):
    """The number of entries of a Keras weight."""
    return math.prod(weight.shape)


# The oracle traces a Keras layer into a TensorFlow graph: a TensorFlow-backend
# layer only. The formulas it checks are backend-free, so one backend suffices.
_PROFILER_IS_TENSORFLOW = "the oracle is TensorFlow's graph profiler, which needs TensorFlow-backend layers"


def profiler_flops(layer, input_shape):
    """Float operations TensorFlow's profiler counts for `layer` on one sample.

    The keras-flops recipe: trace the model for a batch of one, freeze its
    variables into constants, and ask `tf.compat.v1.profiler` for
    `float_operation` on the frozen graph.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2_as_graph,
    )

    inputs = keras.Input(shape=input_shape, batch_size=1)
    model = keras.Model(inputs, layer(inputs))
    function = tf.function(lambda x: model(x))
    concrete = function.get_concrete_function(tf.TensorSpec((1, *input_shape), tf.float32))
    _, graph_def = convert_variables_to_constants_v2_as_graph(concrete)
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    with tf.Graph().as_default() as graph:
        tf.graph_util.import_graph_def(graph_def, name="")
        profile = tf.compat.v1.profiler.profile(
            graph=graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op", options=options
        )
    return profile.total_float_ops


# === The profiler oracle ===

# The profiler counts 2 float operations per multiply-accumulate of MatMul,
# BatchMatMul, Conv2D, Conv3D, DepthwiseConv2dNative and (see below)
# Conv2DBackpropInput, plus one per output element for the bias add
# (Keras adds the bias with an elementwise add, which the profiler counts
# per element). With a linear activation nothing else is counted, so for one
# sample:   profiler FLOPs == 2 * layer_macs + (output size if use_bias else 0).
# Left out because the profiler does not see or mis-sees them: grouped
# convolutions (TensorFlow wraps them in a function call the profiler counts
# as 0), dilated convolutions (run as SpaceToBatchND + Conv2D on a padded
# grid, which the profiler over-counts), Conv3DTranspose (no flops
# registered for Conv3DBackpropInputV2), and transposed convolutions whose
# output is not input x stride (the profiler's Conv2DBackpropInput rule
# divides the output size by the stride, an approximation; see
# `test_profiler_transposed_convolution_rule`).
PROFILED = [
    (L.Dense, {"units": 3}, (5,)),
    (L.Dense, {"units": 4, "use_bias": False}, (3, 5)),
    (L.Conv1D, {"filters": 3, "kernel_size": 2}, (6, 2)),
    (L.Conv1D, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (7, 3)),
    (L.Conv2D, {"filters": 3, "kernel_size": 2, "strides": 2}, (6, 6, 2)),
    (L.Conv2D, {"filters": 4, "kernel_size": 3, "data_format": "channels_first"}, (2, 5, 5)),
    (L.Conv3D, {"filters": 3, "kernel_size": 2, "padding": "same"}, (3, 4, 3, 2)),
    (L.Conv2DTranspose, {"filters": 3, "kernel_size": 2, "strides": 2, "padding": "same"}, (4, 3, 2)),
    (L.Conv1DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (4, 2)),
    (L.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2}, (5, 5, 2)),
    (L.DepthwiseConv1D, {"kernel_size": 2, "use_bias": False}, (5, 3)),
    (L.SeparableConv2D, {"filters": 3, "kernel_size": 3, "padding": "same"}, (5, 4, 2)),
    (L.SeparableConv1D, {"filters": 3, "kernel_size": 3}, (5, 2)),
]


@pytest.mark.backend("tensorflow", reason=_PROFILER_IS_TENSORFLOW)
@pytest.mark.parametrize(
    "layer_class, keywords, input_shape",
    PROFILED,
    ids=[f"{case[0].__name__}-{index}" for index, case in enumerate(PROFILED)],
)
def test_macs_match_the_tensorflow_profiler(layer_class, keywords, input_shape):
    """Profiler FLOPs for one sample are 2 x layer_macs, plus one per output element for the bias."""
    layer = layer_class(**keywords)
    flops = profiler_flops(layer, input_shape)
    class_name, config, build_config = serialized(layer)
    macs = layer_macs(class_name, config, build_config)
    output = layer_output_shape(class_name, config, build_config)
    bias_adds = math.prod(output[1:]) if config["use_bias"] else 0
    assert flops == 2 * macs + bias_adds


@pytest.mark.backend("tensorflow", reason=_PROFILER_IS_TENSORFLOW)
def test_profiler_transposed_convolution_rule():
    """For a 'valid' transposed convolution the profiler's rule differs from ours exactly as its formula says."""
    # Conv2DTranspose(3, 3, strides=2) on 4x4x2 gives 9x9x3. We count the
    # scatter: 4*4 input positions x 3*3 taps x 2 channels x 3 filters = 864.
    # The profiler's Conv2DBackpropInput rule is
    # 2 * output elements * kernel size / (filters * stride product)
    # = 2 * (9*9*3) * (3*3*2*3) / (3 * 2*2) = 2187, plus 243 bias adds.
    layer = L.Conv2DTranspose(3, 3, strides=2)
    flops = profiler_flops(layer, (4, 4, 2))
    assert layer_macs(*serialized(layer)) == 864
    assert flops == 2187 + 243


@pytest.mark.parametrize(
    "application, published_millions",
    [
        # Howard et al. 2017, "MobileNets", Table 8: 1.0 MobileNet-224,
        # 569 million Mult-Adds.
        ("MobileNet", 569),
        # Zoph et al. 2018, "Learning Transferable Architectures", Table 2:
        # NASNet-A (4 @ 1056), 564M mult-adds.
        pytest.param(
            "NASNetMobile",
            564,
            marks=pytest.mark.backend(
                "tensorflow", "jax", reason="Keras 3.15 refuses to build NASNetMobile on PyTorch"
            ),
        ),
    ],
)
def test_applications_match_their_published_mult_adds(application, published_millions):
    """keras.applications models sum to the mult-adds their papers publish (to the million)."""
    # Every layer counts from its serialized config alone; weightless layers
    # (no build config saved) count 0.
    model = getattr(keras.applications, application)(weights=None)
    macs = [layer_macs(*serialized(layer)) for layer in model.layers]
    assert None not in macs
    assert round(sum(macs) / 1e6) == published_millions


# === Convolutions: shapes against Keras, MACs against the weights ===


@st.composite
def convolutions(draw):
    """`(kind, rank, keyword arguments, input shape)` of a valid convolution layer."""
    kind = draw(st.sampled_from(["conv", "transpose", "depthwise", "separable"]))
    rank = draw(strategies.ranks(2 if kind in ("depthwise", "separable") else 3))
    kernel = draw(strategies.kernel_sizes(rank))
    kernel_sizes = (kernel,) * rank if isinstance(kernel, int) else kernel
    # Keras refuses strides > 1 together with dilation > 1.
    if draw(strategies.flags()):
        strides, dilation = draw(st.integers(1, 3)), 1
    else:
        strides, dilation = 1, draw(st.integers(1, 2))
    paddings = ["valid", "same"] + (["causal"] if kind == "conv" and rank == 1 else [])
    padding = draw(st.sampled_from(paddings))
    data_format = draw(st.sampled_from(["channels_last", "channels_first"]))
    channels, filters, groups = draw(strategies.grouped_channels(max_groups=2, max_per_group=3))
    # A spatial size the kernel fits, so that "valid" padding is valid too.
    spatial = tuple(
        draw(st.integers(dilation * (size - 1) + 1, dilation * (size - 1) + 4)) for size in kernel_sizes
    )
    arguments = {
        "kernel_size": kernel,
        "strides": strides,
        "padding": padding,
        "dilation_rate": dilation,
        "data_format": data_format,
    }
    if kind == "conv":
        arguments.update(filters=filters, groups=groups)
    elif kind == "transpose":
        arguments["filters"] = filters
        if strides > 1 and draw(strategies.flags()):
            arguments["output_padding"] = draw(st.integers(0, strides - 1))
    else:
        arguments["depth_multiplier"] = draw(st.integers(1, 2))
        if kind == "separable":
            arguments["filters"] = filters
    if padding == "causal":
        arguments["data_format"] = data_format = "channels_last"
    shape = (*spatial, channels) if data_format == "channels_last" else (channels, *spatial)
    return kind, rank, arguments, shape


CONVOLUTION_CLASSES = {
    "conv": {1: L.Conv1D, 2: L.Conv2D, 3: L.Conv3D},
    "transpose": {1: L.Conv1DTranspose, 2: L.Conv2DTranspose, 3: L.Conv3DTranspose},
    "depthwise": {1: L.DepthwiseConv1D, 2: L.DepthwiseConv2D},
    "separable": {1: L.SeparableConv1D, 2: L.SeparableConv2D},
}


@given(convolutions())
@settings(max_examples=60)
def test_convolution_shapes_and_macs(convolution):
    """Convolution output shapes equal Keras's; MACs are each kernel weight times the positions it is applied at."""
    kind, rank, arguments, shape = convolution
    layer = CONVOLUTION_CLASSES[kind][rank](**arguments)
    ours, macs, keras_shape = analyzed(layer, shape)
    assert ours == keras_shape == tuple(layer.compute_output_shape((None, *shape)))
    channels_last = arguments["data_format"] == "channels_last"
    output_positions = math.prod(keras_shape[1:-1] if channels_last else keras_shape[2:])
    input_positions = math.prod(shape[:-1] if channels_last else shape[1:])
    if kind == "conv":
        # The kernel (k, ..., channels / groups, filters) runs once per output position.
        expected = size(layer.kernel) * output_positions
    elif kind == "transpose":
        # The kernel scatters once from every input position.
        expected = size(layer.kernel) * input_positions
    elif kind == "depthwise":
        expected = size(layer.kernel) * output_positions
    else:
        expected = (size(layer.depthwise_kernel) + size(layer.pointwise_kernel)) * output_positions
    assert macs == expected


# Keras requires output_padding below the stride, and refuses strides > 1
# together with dilation > 1: stride 3 with every output_padding, and
# dilation 2 (stride 1) with output_padding None or 0.
TRANSPOSE_CASES = [
    (padding, output_padding, kernel_size, strides, dilation_rate)
    for padding in ("valid", "same")
    for kernel_size in (2, 3)
    for strides, dilation_rate, paddings in ((3, 1, (None, 0, 1, 2)), (1, 2, (None, 0)))
    for output_padding in paddings
]


@pytest.mark.parametrize("padding, output_padding, kernel_size, strides, dilation_rate", TRANSPOSE_CASES)
def test_transposed_convolution_output_padding(padding, output_padding, kernel_size, strides, dilation_rate):
    """Conv1DTranspose: Keras's output length for every output_padding, padding, stride and dilation."""
    layer = L.Conv1DTranspose(
        2, kernel_size, strides=strides, padding=padding,
        output_padding=output_padding, dilation_rate=dilation_rate,
    )
    ours, macs, keras_shape = analyzed(layer, (4, 3))
    assert ours == keras_shape
    # 4 input positions scatter kernel_size taps of 3 channels into 2 filters.
    assert macs == 4 * kernel_size * 3 * 2


# === Dense, EinsumDense, Embedding ===


@given(input_shape=strategies.input_shapes(max_rank=3), units=strategies.sizes())
def test_dense_shape_and_macs(input_shape, units):
    """Dense: Keras's output shape; MACs are the kernel's size times the positions before the last axis."""
    layer = L.Dense(units)
    ours, macs, keras_shape = analyzed(layer, input_shape)
    assert ours == keras_shape
    assert macs == size(layer.kernel) * math.prod(input_shape[:-1])


EINSUM_CASES = [
    # (equation, output_shape, bias_axes, input shape without batch, MACs by hand)
    # "ab,bc->ac" is a Dense: b=5, c=7 -> 5*7 = 35.
    ("ab,bc->ac", 7, "c", (5,), 35),
    # "abc,cd->abd", input (4, 5), output (None, 7): b=4, c=5, d=7 -> 140.
    ("abc,cd->abd", (None, 7), "d", (4, 5), 140),
    # MultiHeadAttention's query projection "abc,cde->abde" with 2 heads of 3:
    # b=4, c=5, d=2, e=3 -> 4*5*2*3 = 120.
    ("abc,cde->abde", (None, 2, 3), "de", (4, 5), 120),
    # Its output projection "abcd,cde->abe": b=4, c=2 heads, d=3, e=5 -> 120.
    ("abcd,cde->abe", (None, 5), "e", (4, 2, 3), 120),
    # Left ellipsis "...b,bc->...c" on (3, 4, 5): the elided (3, 4) are
    # positions, b=5, c=6 -> 3*4*5*6 = 360. (Keras's static output shape
    # lists the elided axes reversed, (None, 4, 3, 6); ours follows it.)
    ("...b,bc->...c", 6, None, (3, 4, 5), 360),
    # Right ellipsis "ab...,bc->ac...": b=4, c=2, elided (3,) -> 4*2*3 = 24.
    ("ab...,bc->ac...", 2, None, (4, 3), 24),
]


@pytest.mark.parametrize("equation, output_shape, bias_axes, input_shape, expected", EINSUM_CASES)
def test_einsum_dense_shape_and_macs(equation, output_shape, bias_axes, input_shape, expected):
    """EinsumDense: Keras's output shape; MACs the product of every index size but the batch."""
    layer = L.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes)
    ours, macs, keras_shape = analyzed(layer, input_shape)
    assert ours == keras_shape
    assert macs == expected


@given(input_shape=strategies.input_shapes(max_rank=2), output_dim=strategies.sizes())
def test_embedding_is_a_lookup(input_shape, output_dim):
    """Embedding: Keras's output shape and 0 MACs."""
    layer = L.Embedding(10, output_dim)
    output = layer(keras.Input(shape=input_shape, dtype="int32"))
    ours = layer_output_shape(*serialized(layer))
    assert ours == tuple(output.shape)
    assert layer_macs(*serialized(layer)) == 0


# === Recurrent layers ===

RECURRENT = {"simple_rnn": L.SimpleRNN, "lstm": L.LSTM, "gru": L.GRU}


@given(
    kind=strategies.recurrent_kinds(),
    steps=strategies.sizes(),
    features=strategies.sizes(),
    units=strategies.sizes(),
    return_sequences=strategies.flags(),
    return_state=strategies.flags(),
)
def test_recurrent_shapes_and_macs(kind, steps, features, units, return_sequences, return_state):
    """RNN outputs and states have Keras's shapes; MACs are both kernels' sizes times the steps."""
    layer = RECURRENT[kind](units, return_sequences=return_sequences, return_state=return_state)
    ours, macs, keras_shape = analyzed(layer, (steps, features))
    assert ours == keras_shape
    cell = layer.cell
    assert macs == steps * (size(cell.kernel) + size(cell.recurrent_kernel))


def test_recurrent_macs_by_hand():
    """SimpleRNN, LSTM and GRU over 10 steps of 4 features with 5 units, worked by hand."""
    build = {"input_shape": [None, 10, 4]}
    # Per step the gates multiply [x (4), h (5)] by a (9, gates*5) matrix:
    # SimpleRNN 1 gate: 9*5 = 45 -> 450 over 10 steps.
    assert layer_macs("SimpleRNN", {"units": 5}, build) == 450
    # LSTM 4 gates: 9*20 = 180 -> 1800.
    assert layer_macs("LSTM", {"units": 5, "return_sequences": True}, build) == 1800
    # GRU 3 gates: 9*15 = 135 -> 1350, whichever side of the recurrent
    # product the reset gate is applied.
    assert layer_macs("GRU", {"units": 5, "reset_after": False}, build) == 1350
    assert layer_macs("GRU", {"units": 5}, build) == 1350


def test_recurrent_macs_need_the_sequence_length():
    """An RNN over sequences of unknown length has an output shape but no MAC count."""
    build = {"input_shape": [None, None, 4]}
    assert layer_output_shape("LSTM", {"units": 5, "return_sequences": True}, build) == (None, None, 5)
    assert layer_macs("LSTM", {"units": 5}, build) is None


CONV_LSTMS = {1: L.ConvLSTM1D, 2: L.ConvLSTM2D, 3: L.ConvLSTM3D}


@given(
    rank=strategies.ranks(),
    steps=st.integers(1, 3),
    channels=st.integers(1, 3),
    filters=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]),
    strides=st.integers(1, 2),
    data_format=st.sampled_from(["channels_last", "channels_first"]),
    return_sequences=strategies.flags(),
    return_state=strategies.flags(),
)
def test_conv_lstm_shapes_and_macs(
    rank, steps, channels, filters, padding, strides, data_format, return_sequences, return_state
):
    """ConvLSTM: Keras's output shapes; MACs are both kernels' sizes times output positions times steps."""
    layer = CONV_LSTMS[rank](
        filters,
        2,
        strides=strides,
        padding=padding,
        data_format=data_format,
        return_sequences=return_sequences,
        return_state=return_state,
    )
    spatial = (3,) * rank
    shape = (steps, *spatial, channels) if data_format == "channels_last" else (steps, channels, *spatial)
    ours, macs, keras_shape = analyzed(layer, shape)
    assert ours == keras_shape
    # The last output of a sequence, or the output itself: (None, *grid, F)
    # or (None, F, *grid).
    last = keras_shape[0] if return_state else keras_shape
    grid = last[1:] if return_sequences else last
    positions = math.prod(grid[1:-1] if data_format == "channels_last" else grid[2:])
    cell = layer.cell
    assert macs == steps * positions * (size(cell.kernel) + size(cell.recurrent_kernel))


def test_conv_lstm_macs_by_hand():
    """ConvLSTM2D(2 filters, 3x3, 'same') over 4 steps of 5x5x1, worked by hand."""
    # Per step and output position (5x5 = 25 with "same"): input conv
    # 3*3*1 -> 4*2 gates = 72, recurrent conv 3*3*2 -> 8 = 144, so 216;
    # 25 * 216 = 5400 per step, 21600 over 4 steps.
    config = {"filters": 2, "kernel_size": [3, 3], "padding": "same"}
    assert layer_macs("ConvLSTM2D", config, {"input_shape": [None, 4, 5, 5, 1]}) == 21600


# === Wrappers ===


@given(
    kind=strategies.recurrent_kinds(),
    merge_mode=st.sampled_from(["concat", "sum", "mul", "ave", None]),
    return_sequences=strategies.flags(),
    return_state=strategies.flags(),
)
def test_bidirectional_shapes_and_macs(kind, merge_mode, return_sequences, return_state):
    """Bidirectional: Keras's output shapes; MACs are the forward and the backward layer's."""
    inner = RECURRENT[kind](3, return_sequences=return_sequences, return_state=return_state)
    layer = L.Bidirectional(inner, merge_mode=merge_mode)
    ours, macs, keras_shape = analyzed(layer, (6, 2))
    assert ours == keras_shape
    forward = layer.forward_layer.cell
    assert macs == 2 * 6 * (size(forward.kernel) + size(forward.recurrent_kernel))


def test_bidirectional_with_its_own_backward_layer():
    """A Bidirectional with a different backward layer counts each direction's own MACs."""
    # Forward LSTM(3) on 6 steps of 2: 6 * 4*3*(2+3) = 360.
    # Backward GRU(3): 6 * 3*3*(2+3) = 270. Together 630.
    layer = L.Bidirectional(L.LSTM(3), backward_layer=L.GRU(3, go_backwards=True))
    ours, macs, keras_shape = analyzed(layer, (6, 2))
    assert ours == keras_shape == (None, 6)
    assert macs == 630


@pytest.mark.parametrize(
    "make_inner, input_shape, expected",
    [
        # Dense(3) on 4 features at each of 5 steps: 5 * 4*3 = 60.
        (lambda: L.Dense(3), (5, 4), 60),
        # Conv2D(2, 3) on 5x5x1 images at each of 3 steps: 3x3 output
        # positions * 3*3*1*2 = 162 per step, 486 over 3 steps.
        (lambda: L.Conv2D(2, 3), (3, 5, 5, 1), 486),
        # Flatten has no MACs at any step.
        (lambda: L.Flatten(), (3, 2, 2), 0),
    ],
)
def test_time_distributed_shapes_and_macs(make_inner, input_shape, expected):
    """TimeDistributed: Keras's output shape; MACs are the inner layer's times the steps."""
    layer = L.TimeDistributed(make_inner())
    ours, macs, keras_shape = analyzed(layer, input_shape)
    assert ours == keras_shape
    assert macs == expected


# === Attention ===


def test_multi_head_attention_macs_by_hand():
    """MultiHeadAttention(2 heads, key_dim 3) from 4 query to 6 key steps, worked by hand."""
    layer = L.MultiHeadAttention(num_heads=2, key_dim=3)
    query, value = keras.Input((4, 5)), keras.Input((6, 7))
    output = layer(query, value)
    # Projections: query 4 steps * 5 -> 2*3 = 120; key (= value) 6 * 7 -> 6
    # = 252; value 6 * 7 -> 6 = 252; output 4 steps * (2*3) -> 5 = 120.
    # Scores 2 heads * 4 * 6 * 3 = 144; weighted values 2 * 4 * 6 * 3 = 144.
    # Total 120 + 252 + 252 + 120 + 144 + 144 = 1032.
    assert layer_macs(*serialized(layer)) == 1032
    assert layer_output_shape(*serialized(layer)) == tuple(output.shape)


def test_multi_head_attention_over_two_axes_by_hand():
    """MultiHeadAttention attending over both axes of 3x4 inputs, worked by hand."""
    layer = L.MultiHeadAttention(num_heads=1, key_dim=2, value_dim=3, attention_axes=(1, 2))
    query = keras.Input((3, 4, 5))
    output = layer(query, query)
    # 12 positions. Projections: query 12*5*2 = 120, key 120, value
    # 12*5*3 = 180, output 12*3*5 = 180. Scores: all 12 query positions
    # against all 12 key positions: 144 * 2 = 288; values 144 * 3 = 432.
    # Total 120 + 120 + 180 + 180 + 288 + 432 = 1320.
    assert layer_macs(*serialized(layer)) == 1320
    assert layer_output_shape(*serialized(layer)) == tuple(output.shape)


@given(
    heads=st.integers(1, 3),
    key_dim=st.integers(1, 3),
    value_dim=st.none() | st.integers(1, 3),
    output_shape=st.none() | st.integers(1, 4),
    query_steps=st.integers(1, 4),
    key_steps=st.integers(1, 4),
    with_key=strategies.flags(),
    use_gate=strategies.flags(),
)
def test_multi_head_attention_shapes_and_macs(
    heads, key_dim, value_dim, output_shape, query_steps, key_steps, with_key, use_gate
):
    """MultiHeadAttention: Keras's output shape; MACs are its projections' weights times positions plus the two attention products."""
    layer = L.MultiHeadAttention(
        heads, key_dim, value_dim=value_dim, output_shape=output_shape, use_gate=use_gate
    )
    query, value = keras.Input((query_steps, 5)), keras.Input((key_steps, 3))
    key = keras.Input((key_steps, 2)) if with_key else None
    output = layer(query, value, key=key)
    assert layer_output_shape(*serialized(layer)) == tuple(output.shape)
    kernels = {name: size(getattr(layer, f"_{name}_dense").kernel) for name in ("query", "key", "value", "output")}
    expected = (
        query_steps * (kernels["query"] + kernels["output"])
        + key_steps * (kernels["key"] + kernels["value"])
        + heads * query_steps * key_steps * (key_dim + (value_dim or key_dim))
    )
    if use_gate:
        expected += query_steps * size(layer._gate_dense.kernel)
    assert layer_macs(*serialized(layer)) == expected


@given(
    query_heads_per_group=st.integers(1, 2),
    key_value_heads=st.integers(1, 2),
    head_dim=st.integers(1, 3),
    query_steps=st.integers(1, 4),
    key_steps=st.integers(1, 4),
    use_gate=strategies.flags(),
)
def test_grouped_query_attention_shapes_and_macs(
    query_heads_per_group, key_value_heads, head_dim, query_steps, key_steps, use_gate
):
    """GroupedQueryAttention: Keras's output shape; projections' weights times positions plus both products over the query heads."""
    query_heads = query_heads_per_group * key_value_heads
    layer = L.GroupQueryAttention(head_dim, query_heads, key_value_heads, use_gate=use_gate)
    query, value = keras.Input((query_steps, 4)), keras.Input((key_steps, 4))
    output = layer(query, value, key=keras.Input((key_steps, 3)))
    assert layer_output_shape(*serialized(layer)) == tuple(output.shape)
    kernels = {name: size(getattr(layer, f"_{name}_dense").kernel) for name in ("query", "key", "value", "output")}
    expected = (
        query_steps * (kernels["query"] + kernels["output"])
        + key_steps * (kernels["key"] + kernels["value"])
        + 2 * query_heads * query_steps * key_steps * head_dim
    )
    if use_gate:
        expected += query_steps * size(layer._gate_dense.kernel)
    assert layer_macs(*serialized(layer)) == expected


def test_grouped_query_attention_by_hand():
    """GroupedQueryAttention(head_dim 2, 4 query heads, 2 key/value heads), 3 to 5 steps of 6, by hand."""
    layer = L.GroupQueryAttention(2, 4, 2)
    layer(keras.Input((3, 6)), keras.Input((5, 6)))
    # Query 3*6*(4*2) = 144; key and value 5*6*(2*2) = 120 each; output
    # 3*(4*2)*6 = 144; scores and weighted values 4 heads*3*5*2 = 120 each.
    # Total 144 + 120 + 120 + 144 + 120 + 120 = 768.
    assert layer_macs(*serialized(layer)) == 768
    # Saved as "GroupQueryAttention"; a live layer's type is GroupedQueryAttention.
    assert layer_macs(type(layer).__name__, layer.get_config(), layer.get_build_config()) == 768


def test_spectral_normalization_counts_the_wrapped_layer():
    """SpectralNormalization(Conv2D) has the convolution's output shape and inference MACs."""
    layer = L.SpectralNormalization(L.Conv2D(2, 3))
    ours, macs, keras_shape = analyzed(layer, (5, 5, 1))
    assert ours == keras_shape == (None, 3, 3, 2)
    # 3x3 output positions * 3*3*1 taps * 2 filters = 162.
    assert macs == 162


@pytest.mark.parametrize(
    "layer_class, keywords",
    [(L.Attention, {}), (L.Attention, {"score_mode": "concat", "use_scale": True}), (L.AdditiveAttention, {})],
)
def test_dot_and_additive_attention_by_hand(layer_class, keywords):
    """Attention and AdditiveAttention from 4 query steps to 6 key steps, worked by hand."""
    layer = layer_class(**keywords)
    # Query (4, 5), value (6, 3), key (6, 5).
    ours, macs, keras_shape = analyzed(layer, (4, 5), (6, 3), (6, 5))
    assert ours == keras_shape == (None, 4, 3)
    # Scores 4 * 6 * 5 = 120 (a dot product, or the sum of the tanh terms
    # over the 5 features), then the weighted values 4 * 6 * 3 = 72.
    assert macs == 192
    # Without a key, the value is the key: 4*6*5 + 4*6*5 = 240.
    class_name, config, _ = serialized(layer)
    assert layer_macs(class_name, config, {"input_shape": [[None, 4, 5], [None, 6, 5]]}) == 240


# === Weightless layers ===

WEIGHTLESS = [
    (lambda: L.Activation("relu"), [(3, 4)]),
    (lambda: L.ReLU(), [(3,)]),
    (lambda: L.LeakyReLU(), [(3,)]),
    (lambda: L.PReLU(), [(2, 3)]),
    (lambda: L.ELU(), [(3,)]),
    (lambda: L.Softmax(), [(3, 2)]),
    (lambda: L.BatchNormalization(), [(4, 3)]),
    (lambda: L.LayerNormalization(axis=[1, 2]), [(4, 3)]),
    (lambda: L.GroupNormalization(groups=2), [(4, 4)]),
    (lambda: L.UnitNormalization(), [(3,)]),
    (lambda: L.Normalization(), [(3,)]),
    (lambda: L.Dropout(0.5), [(3,)]),
    (lambda: L.SpatialDropout2D(0.5), [(3, 3, 2)]),
    (lambda: L.GaussianNoise(0.1), [(3,)]),
    (lambda: L.GaussianDropout(0.1), [(3,)]),
    (lambda: L.AlphaDropout(0.1), [(3,)]),
    (lambda: L.ActivityRegularization(), [(3,)]),
    (lambda: L.Identity(), [(3,)]),
    (lambda: L.Masking(), [(3, 2)]),
    (lambda: L.Rescaling(0.5), [(3, 2)]),
    (lambda: L.RandomFlip(), [(4, 4, 3)]),
    (lambda: L.RandomRotation(0.1), [(4, 4, 3)]),
    (lambda: L.RandomTranslation(0.1, 0.1), [(4, 4, 3)]),
    (lambda: L.RandomZoom(0.1), [(4, 4, 3)]),
    (lambda: L.RandomContrast(0.1), [(4, 4, 3)]),
    (lambda: L.RandomBrightness(0.1), [(4, 4, 3)]),
    (lambda: L.Flatten(), [(3, 2, 2)]),
    (lambda: L.Flatten(data_format="channels_first"), [(3, 2, 2)]),
    (lambda: L.Reshape((-1, 2)), [(3, 4)]),
    (lambda: L.Reshape((2, 6)), [(3, 4)]),
    (lambda: L.Permute((2, 3, 1)), [(2, 3, 4)]),
    (lambda: L.RepeatVector(3), [(4,)]),
    (lambda: L.Cropping1D((1, 2)), [(6, 2)]),
    (lambda: L.Cropping2D(((1, 0), (2, 1))), [(6, 5, 2)]),
    (lambda: L.Cropping2D(1, data_format="channels_first"), [(2, 6, 5)]),
    (lambda: L.Cropping3D(((1, 0), (0, 1), (1, 1))), [(3, 3, 3, 1)]),
    (lambda: L.ZeroPadding1D(2), [(5, 2)]),
    (lambda: L.ZeroPadding2D(((1, 2), (0, 1))), [(3, 3, 2)]),
    (lambda: L.ZeroPadding3D(1, data_format="channels_first"), [(1, 2, 2, 2)]),
    (lambda: L.UpSampling1D(3), [(2, 1)]),
    (lambda: L.UpSampling2D((2, 3)), [(2, 2, 1)]),
    (lambda: L.UpSampling3D(2, data_format="channels_first"), [(1, 2, 2, 2)]),
    (lambda: L.MaxPooling1D(2), [(5, 2)]),
    (lambda: L.MaxPooling2D(3, strides=2, padding="same"), [(7, 6, 2)]),
    (lambda: L.AveragePooling2D(2, data_format="channels_first"), [(2, 5, 4)]),
    (lambda: L.AveragePooling3D(2, strides=1), [(3, 3, 3, 1)]),
    (lambda: L.MaxPooling3D((1, 2, 2), padding="same"), [(3, 3, 3, 1)]),
    (lambda: L.GlobalAveragePooling1D(), [(5, 2)]),
    (lambda: L.GlobalMaxPooling2D(keepdims=True), [(3, 3, 2)]),
    (lambda: L.GlobalAveragePooling3D(data_format="channels_first", keepdims=True), [(2, 3, 3, 3)]),
    (lambda: L.GlobalMaxPooling3D(), [(3, 3, 3, 2)]),
    (lambda: L.Resizing(4, 5), [(3, 3, 2)]),
    (lambda: L.CenterCrop(2, 2), [(3, 4, 2)]),
    (lambda: L.Add(), [(3, 4), (3, 4)]),
    (lambda: L.Subtract(), [(3,), (3,)]),
    (lambda: L.Multiply(), [(3, 4), (1, 4)]),
    (lambda: L.Average(), [(2,), (2,), (2,)]),
    (lambda: L.Maximum(), [(3, 1), (3, 4)]),
    (lambda: L.Minimum(), [(4,), (4,)]),
    (lambda: L.Concatenate(), [(3, 4), (3, 2)]),
    (lambda: L.Concatenate(axis=1), [(3, 4), (5, 4)]),
]


@pytest.mark.parametrize(
    "make_layer, input_shapes",
    WEIGHTLESS,
    ids=[f"{make_layer().__class__.__name__}-{index}" for index, (make_layer, _) in enumerate(WEIGHTLESS)],
)
def test_weightless_layer_shapes(make_layer, input_shapes):
    """Weightless and normalisation layers: Keras's output shape, and 0 MACs with or without a shape."""
    layer = make_layer()
    ours, macs, keras_shape = analyzed(layer, *input_shapes)
    assert ours == keras_shape == tuple(layer.compute_output_shape(
        [(None, *shape) for shape in input_shapes] if len(input_shapes) > 1 else (None, *input_shapes[0])
    ))
    assert macs == 0
    class_name, config, _ = serialized(layer)
    assert layer_macs(class_name, config, None) == 0


def test_input_layer_shape():
    """An InputLayer's output is its batch shape, with a None batch axis."""
    inputs = keras.Input((3, 4), batch_size=2)
    class_name, config, build_config = serialized(inputs._keras_history.operation)
    assert layer_output_shape(class_name, config, build_config) == (None, 3, 4)
    assert layer_macs(class_name, config, build_config) == 0


@pytest.mark.parametrize(
    "axes, shapes, expected",
    [
        # Two (3, 4) matrices dotted over axis 2: a (3, 3) output, each
        # entry a sum of 4 products -> 36.
        (2, [(3, 4), (3, 4)], 36),
        # Over axes (1, 2) of (3, 4) and (5, 3): a (4, 5) output of sums of
        # 3 products -> 60.
        ((1, 2), [(3, 4), (5, 3)], 60),
        # Two vectors of 6: one sum of 6 products, output (None, 1).
        (1, [(6,), (6,)], 6),
    ],
)
def test_dot_macs_by_hand(axes, shapes, expected):
    """Dot is a contraction: one MAC per product summed, and Keras's output shape."""
    layer = L.Dot(axes=axes)
    ours, macs, keras_shape = analyzed(layer, *shapes)
    assert ours == keras_shape
    assert macs == expected


# === Live configs ===


@pytest.mark.parametrize(
    "make_layer, input_shapes",
    [
        (lambda: L.Conv2D(4, 3, strides=2), [(7, 7, 2)]),
        (lambda: L.Bidirectional(L.LSTM(3, return_sequences=True)), [(5, 2)]),
        (lambda: L.TimeDistributed(L.Dense(3)), [(5, 2)]),
        (lambda: L.Concatenate(), [(3, 2), (3, 4)]),
        (lambda: L.EinsumDense("abc,cd->abd", output_shape=(None, 4)), [(3, 2)]),
    ],
)
def test_live_configs_give_what_saved_configs_give(make_layer, input_shapes):
    """A live layer's get_config()/get_build_config() (tuples, not lists) are read as the saved JSON is."""
    layer = make_layer()
    call(layer, *input_shapes)
    live = (type(layer).__name__, layer.get_config(), layer.get_build_config())
    saved = serialized(layer)
    assert layer_macs(*live) == layer_macs(*saved) is not None
    assert layer_output_shape(*live) == layer_output_shape(*saved) is not None


def test_live_multi_head_attention_config():
    """MultiHeadAttention's live shapes_dict build config is read as the saved one."""
    layer = L.MultiHeadAttention(2, 3, output_shape=4)
    layer(keras.Input((4, 5)), keras.Input((6, 7)), key=keras.Input((6, 2)))
    live = ("MultiHeadAttention", layer.get_config(), layer.get_build_config())
    assert "shapes_dict" in live[2]
    assert layer_macs(*live) == layer_macs(*serialized(layer))
    assert layer_output_shape(*live) == (None, 4, 4)


# === What it cannot tell, and what it refuses ===


def test_unknown_class_and_missing_shape_give_none():
    """An unknown class, or a weighted layer without a build config, gives None for both."""
    assert layer_macs("MyCustomLayer", {}, {"input_shape": [None, 3]}) is None
    assert layer_output_shape("MyCustomLayer", {}, {"input_shape": [None, 3]}) is None
    assert layer_macs("Dense", {"units": 3}, None) is None
    assert layer_output_shape("Dense", {"units": 3}, None) is None


def test_unknown_sizes_give_none_macs_but_a_partial_shape():
    """A None spatial size leaves that axis None and the MACs unknown."""
    config = {"filters": 4, "kernel_size": [3, 3], "padding": "same"}
    build = {"input_shape": [None, None, 8, 3]}
    assert layer_output_shape("Conv2D", config, build) == (None, None, 8, 4)
    assert layer_macs("Conv2D", config, build) is None


def test_time_distributed_weightless_layer_over_unknown_steps():
    """TimeDistributed(Flatten) over an unknown number of steps has 0 MACs; TimeDistributed(Dense) has None."""
    build = {"input_shape": [None, None, 2, 3]}
    flatten = {"layer": {"class_name": "Flatten", "config": {}}}
    dense = {"layer": {"class_name": "Dense", "config": {"units": 4}}}
    assert layer_macs("TimeDistributed", flatten, build) == 0
    assert layer_output_shape("TimeDistributed", flatten, build) == (None, None, 6)
    assert layer_macs("TimeDistributed", dense, build) is None


def test_batch_axis_is_left_out():
    """A build shape with a fixed batch size gives the same MACs and a None batch axis."""
    config = {"units": 3}
    assert layer_macs("Dense", config, {"input_shape": [32, 4]}) == 12
    assert layer_output_shape("Dense", config, {"input_shape": [32, 4]}) == (None, 3)


@pytest.mark.parametrize(
    "class_name, config, build_config, error, argument",
    [
        ("Dense", {"units": 0}, {"input_shape": [None, 4]}, ValueError, "units"),
        ("Dense", {"units": "3"}, {"input_shape": [None, 4]}, TypeError, "units"),
        ("Conv2D", {"filters": 2, "kernel_size": [3]}, {"input_shape": [None, 5, 5, 1]}, ValueError, "kernel_size"),
        ("Conv2D", {"filters": 2, "kernel_size": 3, "padding": "full"}, {"input_shape": [None, 5, 5, 1]}, ValueError, "padding"),
        ("Conv2D", {"filters": 2, "kernel_size": 3}, {"input_shape": [None, 2, 5, 1]}, ValueError, "input_shape"),
        ("Dense", {"units": 3}, {"input_shape": [None, -4]}, ValueError, "input_shape"),
        ("Dense", {"units": 3}, {"input_shape": "(None, 4)"}, TypeError, "input_shape"),
        ("Dense", {"units": 3}, [None, 4], TypeError, "build_config"),
        ("Concatenate", {}, {"input_shape": [[None, [3]], [None, 3]]}, ValueError, "input_shape"),
        ("Dense", "units=3", {"input_shape": [None, 4]}, TypeError, "config"),
        ("EinsumDense", {"equation": "ab->b", "output_shape": 3}, {"input_shape": [None, 4]}, ValueError, "equation"),
        ("LSTM", {"units": 3}, {"input_shape": [None, 4]}, ValueError, "input_shape"),
        ("Cropping1D", {"cropping": [2, 3]}, {"input_shape": [None, 5, 1]}, ValueError, "cropping"),
        ("Reshape", {"target_shape": [-1, 4]}, {"input_shape": [None, 2, 3]}, ValueError, "target_shape"),
        ("Reshape", {"target_shape": [5]}, {"input_shape": [None, 2, 3]}, ValueError, "target_shape"),
    ],
)
def test_refused_configs_name_the_key(class_name, config, build_config, error, argument):
    """A config or build config Keras would refuse raises, naming the key and the value received."""
    with pytest.raises(error, match=rf"`{argument}`(.|\n)*Received: {argument}="):
        layer_macs(class_name, config, build_config)


def test_wrappers_nested_too_deep_are_refused():
    """A TimeDistributed nested beyond the depth limit raises instead of recursing."""
    layer = {"class_name": "Dense", "config": {"units": 2}}
    for _ in range(40):
        layer = {"class_name": "TimeDistributed", "config": {"layer": layer}}
    # A shape within the rank bound (32 axes), so that the depth limit, not
    # the rank bound, is what refuses it.
    shape = {"input_shape": [None, *([2] * 31)]}
    with pytest.raises(ValueError, match="`config`"):
        layer_macs(layer["class_name"], layer["config"], shape)
    # Two levels, as in real models, are answered: 3 * 4 * (2 * 5) = 120.
    nested = {"class_name": "TimeDistributed", "config": {"layer": {"class_name": "Dense", "config": {"units": 5}}}}
    assert layer_macs("TimeDistributed", {"layer": nested}, {"input_shape": [None, 3, 4, 2]}) == 120


# A valid config for every kind of layer; the property below feeds each one
# arbitrary build shapes (any rank, unknown and zero sizes, lists of shapes,
# shapes dicts) and drops one key.
FUZZ_CONFIGS = {
    "Dense": {"units": 3},
    "EinsumDense": {"equation": "abc,cd->abd", "output_shape": [None, 4], "bias_axes": "d"},
    "Embedding": {"output_dim": 3},
    "Conv1D": {"filters": 2, "kernel_size": [2], "padding": "causal"},
    "Conv3D": {"filters": 2, "kernel_size": 2, "data_format": "channels_first"},
    "Conv2DTranspose": {"filters": 2, "kernel_size": [3, 3], "strides": [2, 2], "output_padding": [1, 1]},
    "DepthwiseConv2D": {"kernel_size": [3, 3], "depth_multiplier": 2},
    "SeparableConv1D": {"filters": 3, "kernel_size": [2]},
    "LSTM": {"units": 3, "return_state": True},
    "ConvLSTM2D": {"filters": 2, "kernel_size": [2, 2], "return_state": True},
    "Bidirectional": {"layer": {"class_name": "GRU", "config": {"units": 3}}, "merge_mode": None},
    "TimeDistributed": {"layer": {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 2}}},
    "MultiHeadAttention": {"num_heads": 2, "key_dim": 3, "attention_axes": [1, 2], "output_shape": [2, 3]},
    "GroupQueryAttention": {"head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 1},
    "Attention": {},
    "Dot": {"axes": [1, 2]},
    "Concatenate": {"axis": 1},
    "Add": {},
    "Reshape": {"target_shape": [-1, 2]},
    "Permute": {"dims": [2, 1]},
    "Cropping2D": {"cropping": [[1, 0], [0, 1]]},
    "UpSampling2D": {"size": [2, 2]},
    "MaxPooling2D": {"pool_size": [2, 2], "strides": [1, 1]},
    "GlobalAveragePooling3D": {"keepdims": True},
    "Resizing": {"height": 2, "width": 3},
}
_ANY_SHAPE = st.lists(st.none() | st.integers(0, 5), max_size=6)


@given(
    class_name=st.sampled_from(sorted(FUZZ_CONFIGS)),
    build_config=st.one_of(
        st.fixed_dictionaries({"input_shape": _ANY_SHAPE | st.lists(_ANY_SHAPE, max_size=3)}),
        st.fixed_dictionaries(
            {"shapes_dict": st.dictionaries(st.sampled_from(["query_shape", "value_shape", "key_shape"]), _ANY_SHAPE)}
        ),
    ),
    dropped=st.none() | st.sampled_from(["units", "filters", "kernel_size", "layer", "equation", "axes", "num_heads"]),
)
@settings(max_examples=300)
def test_any_build_shape_gives_an_answer_or_a_clear_error(class_name, build_config, dropped):
    """Arbitrary build shapes give a non-negative int or None, or raise ValueError/TypeError: nothing else."""
    config = {key: value for key, value in FUZZ_CONFIGS[class_name].items() if key != dropped}
    try:
        macs = layer_macs(class_name, config, build_config)
        output = layer_output_shape(class_name, config, build_config)
    except (ValueError, TypeError):
        return
    assert macs is None or (type(macs) is int and macs >= 0)
    shapes = [] if output is None else output if isinstance(output[0], tuple) else [output]
    assert all(size is None or (type(size) is int and size >= 0) for shape in shapes for size in shape)


def test_valid_counterparts_of_the_refused_configs():
    """The same configs with valid values are answered."""
    assert layer_macs("Dense", {"units": 3}, {"input_shape": [None, 4]}) == 12
    assert layer_macs("Conv2D", {"filters": 2, "kernel_size": 3}, {"input_shape": [None, 3, 5, 1]}) == 3 * 9 * 2
    assert layer_macs("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 3}, {"input_shape": [None, 4]}) == 12
    assert layer_output_shape("Cropping1D", {"cropping": [2, 2]}, {"input_shape": [None, 5, 1]}) == (None, 1, 1)
    assert layer_output_shape("Reshape", {"target_shape": [-1, 3]}, {"input_shape": [None, 2, 3]}) == (None, 2, 3)
    assert layer_output_shape("Reshape", {"target_shape": [6]}, {"input_shape": [None, 2, 3]}) == (None, 6)
