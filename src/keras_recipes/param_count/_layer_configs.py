"""Parameter counts of Keras layers from their config and build config: one function per family.

A layer's weights depend only on its constructor arguments (`get_config()`)
and on the shape it was built on (`get_build_config()`), and both are in a
`.keras` file's `config.json`. So each function here counts a layer from
those two dicts alone, `(class_name, config, build_config) -> ParamCount`,
with the formulas of `_layers.py`: the same code counts a live layer and a
saved one, and it needs no Keras. Which class uses which function is the
table in `_rules.py`. A config no layer of the class could have raises
`_readers.ConfigError` (a `ValueError` and a `TypeError`) naming the key.

Example:

>>> dense("Dense", {"units": 3}, {"input_shape": [None, 2]})
ParamCount(trainable=9, non_trainable=0)
"""

import math
import re

from keras_recipes.param_count._readers import (
    MAX_RANK,
    build_shape,
    choice,
    flag,
    get,
    int_tuple,
    invalid,
    is_size,
    positive,
)
from keras_recipes._counting import layers as _layers
from keras_recipes._counting.record import ZERO, ParamCount

# This library's functional `keras.Model` subclasses: they override
# `compute_loss` or `get_config` but add no weights of their own, so their
# graph is walked like a Functional model's. A subclass from anywhere else
# may create weights the graph does not show, so it is not trusted.
GRAPH_SUBCLASSES = frozenset(
    {
        "keras_recipes>Autoencoder",
        "keras_recipes>SplitBrainAutoencoder",
        "keras_recipes>VariationalAutoencoder",
    }
)


def _dim(shape, axis, key="input_shape"):
    """The size of `shape[axis]`, which must be known."""
    if not -len(shape) <= axis < len(shape) or not shape[axis]:
        raise invalid(key, f"a shape with a known size on axis {axis}", shape)
    return shape[axis]


def _channels(config, shape, first_axis=1):
    """Input channels: the last axis, or `first_axis` with channels_first."""
    if choice(config, "data_format", "channels_last", ("channels_last", "channels_first")) == "channels_first":
        return _dim(shape, first_axis)
    return _dim(shape, -1)


def _rank(class_name):
    return int(re.search(r"(\d)D", class_name).group(1))


def quantized(config):
    """Quantized layers swap their variables; this module does not model them."""
    return bool(get(config, "quantization_config")) or bool(get(config, "quantization_mode"))


# === One function per layer family: (class_name, config, build_config) -> ParamCount ===


def dense(class_name, config, build):
    return _layers.dense(
        _dim(build_shape(build), -1),
        positive(config, "units"),
        use_bias=flag(config, "use_bias", True),
    )


def embedding(class_name, config, build):
    return _layers.embedding(
        positive(config, "input_dim"),
        positive(config, "output_dim"),
    )


def reversible_embedding(class_name, config, build):
    # An Embedding whose `reverse=True` call projects back onto the
    # vocabulary, with the transposed embeddings (`tie_weights=True`) or a
    # matrix of its own.
    tied = flag(config, "tie_weights", True)
    return embedding(class_name, config, build) * (1 if tied else 2)


def conv(class_name, config, build):
    rank = _rank(class_name)
    shape = build_shape(build)
    return _layers.conv(
        _channels(config, shape),
        positive(config, "filters"),
        int_tuple(config, "kernel_size", rank),
        rank=rank,
        groups=positive(config, "groups", 1),
        use_bias=flag(config, "use_bias", True),
    )


def conv_transpose(class_name, config, build):
    rank = _rank(class_name)
    shape = build_shape(build)
    return _layers.conv_transpose(
        _channels(config, shape),
        positive(config, "filters"),
        int_tuple(config, "kernel_size", rank),
        rank=rank,
        use_bias=flag(config, "use_bias", True),
    )


def depthwise_conv(class_name, config, build):
    rank = _rank(class_name)
    shape = build_shape(build)
    return _layers.depthwise_conv(
        _channels(config, shape),
        int_tuple(config, "kernel_size", rank),
        rank=rank,
        depth_multiplier=positive(config, "depth_multiplier", 1),
        use_bias=flag(config, "use_bias", True),
    )


def separable_conv(class_name, config, build):
    rank = _rank(class_name)
    shape = build_shape(build)
    return _layers.separable_conv(
        _channels(config, shape),
        positive(config, "filters"),
        int_tuple(config, "kernel_size", rank),
        rank=rank,
        depth_multiplier=positive(config, "depth_multiplier", 1),
        use_bias=flag(config, "use_bias", True),
    )


def recurrent(class_name, config, build):
    input_dim = _dim(build_shape(build), -1)
    units = positive(config, "units")
    use_bias = flag(config, "use_bias", True)
    if class_name == "SimpleRNN":
        return _layers.simple_rnn(input_dim, units, use_bias=use_bias)
    if class_name == "LSTM":
        return _layers.lstm(input_dim, units, use_bias=use_bias)
    return _layers.gru(
        input_dim,
        units,
        use_bias=use_bias,
        reset_after=flag(config, "reset_after", True),
    )


def conv_lstm(class_name, config, build):
    rank = _rank(class_name)
    shape = build_shape(build)
    # The input is (batch, time, *spatial, channels), or channels at axis 2.
    return _layers.conv_lstm(
        _channels(config, shape, first_axis=2),
        positive(config, "filters"),
        int_tuple(config, "kernel_size", rank),
        rank=rank,
        use_bias=flag(config, "use_bias", True),
    )


def batch_norm(class_name, config, build):
    shape = build_shape(build)
    axis = get(config, "axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise invalid("axis", "one integer", axis)
    return _layers.batch_norm(
        _dim(shape, axis),
        center=flag(config, "center", True),
        scale=flag(config, "scale", True),
        renorm=flag(config, "renorm", False),
    )


def _axes(config, default=-1):
    axis = get(config, "axis", default)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    if not axes or len(axes) > MAX_RANK or not all(type(a) is int for a in axes):
        raise invalid("axis", f"an integer or a list of at most {MAX_RANK} of them", axis)
    return axes


def layer_norm(class_name, config, build):
    shape = build_shape(build)
    size = math.prod(_dim(shape, a) for a in _axes(config))
    rms_scaling = flag(config, "rms_scaling", False)
    scale = flag(config, "scale", True) or rms_scaling
    center = flag(config, "center", True) and not rms_scaling
    return ParamCount(size * (int(scale) + int(center)))


def rms_norm(class_name, config, build):
    shape = build_shape(build)
    return ParamCount(math.prod(_dim(shape, a) for a in _axes(config)))


def group_norm(class_name, config, build):
    shape = build_shape(build)
    return _layers.group_norm(
        _dim(shape, get(config, "axis", -1)),
        groups=get(config, "groups", 32),
        center=flag(config, "center", True),
        scale=flag(config, "scale", True),
    )


def normalization(class_name, config, build):
    # Mean and variance passed to the constructor are stored as constants;
    # otherwise `build()` makes three non-trainable weights: mean and
    # variance over the kept axes, and a scalar `count`.
    if get(config, "mean") is not None or get(config, "variance") is not None:
        return ZERO
    shape = build_shape(build)
    size = math.prod(_dim(shape, a) for a in _axes(config))
    return ParamCount(0, 2 * size + 1)


def prelu(class_name, config, build):
    shape = build_shape(build)
    alpha = list(shape[1:])
    shared = get(config, "shared_axes")
    if shared is not None:
        shared = shared if isinstance(shared, list) else [shared]
        for axis in shared:
            # Keras indexes `param_shape[axis - 1]`, so a negative axis sets
            # the wrong entry; mirror it rather than "fix" it.
            if not isinstance(axis, int) or isinstance(axis, bool) or not -len(alpha) < axis <= len(alpha):
                raise invalid("shared_axes", "axes within the input rank", shared)
            alpha[axis - 1] = 1
    if not all(alpha):
        raise invalid("input_shape", "a fully known input shape", shape)
    return ParamCount(math.prod(alpha))


def einsum_dense_shapes(equation, bias_axes, input_shape, output_shape):
    """Kernel and bias shapes of `EinsumDense(equation, output_shape, bias_axes)`.

    Follows Keras's `_analyze_split_string`: a weight letter takes its size
    from the (full) output shape if it appears in the output spec, otherwise
    from the input shape; the bias spans the output spec from its first bias
    letter on, with 1 for the letters not in `bias_axes`.
    """
    text = re.sub(r"\.\.\.", "0", equation)
    left_elided = False
    match = re.fullmatch("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", text)
    if not match:
        match = re.fullmatch("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", text)
        left_elided = bool(match)
    if not match:
        match = re.fullmatch("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", text)
    if not match:
        raise invalid("equation", "an equation `X,Y->Z`, `...X,Y->...Z` or `X...,Y->Z...`", equation)
    input_spec, weight_spec, output_spec = match.groups()
    input_shape = list(input_shape)
    if len(input_shape) < len(input_spec) or not input_shape:
        raise invalid("input_shape", f"an input of rank {len(input_spec)} or more for {equation!r}", input_shape)
    elided = len(input_shape) - len(input_spec)
    output = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    output.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            output.insert(1, input_shape[i])
    elif elided > 0:
        output.extend(input_shape[len(input_shape) - elided :])
    offset = elided if left_elided else 0
    if left_elided:
        input_index = {d: i + elided - len(input_shape) for i, d in enumerate(input_spec)}
    else:
        input_index = {d: i for i, d in enumerate(input_spec)}
    output_index = {d: i + offset for i, d in enumerate(output_spec)}
    if len(output) != len(output_spec) + (elided if elided > 0 else 0):
        raise invalid("output_shape", f"sizes matching the equation {equation!r}", output_shape)
    kernel = []
    for letter in weight_spec:
        if letter in output_index:
            kernel.append(output[output_index[letter]])
        elif letter in input_index:
            kernel.append(input_shape[input_index[letter]])
        else:
            raise invalid("equation", f"every weight letter of {equation!r} in the input or output", equation)
    bias = None
    if bias_axes:
        if any(letter not in output_spec for letter in bias_axes):
            raise invalid("bias_axes", f"letters of the output spec {output_spec!r}", bias_axes)
        first = min(output_spec.find(letter) for letter in bias_axes)
        bias = [
            output[i + offset] if letter in bias_axes else 1
            for i, letter in enumerate(output_spec[first:], start=first)
        ]
    return kernel, bias


def einsum_dense(class_name, config, build):
    shape = build_shape(build)
    equation = get(config, "equation")
    output_shape = get(config, "output_shape")
    if not isinstance(equation, str) or len(equation) > 200:
        raise invalid("equation", "an einsum string", equation)
    if not (
        is_size(output_shape)
        or (
            isinstance(output_shape, (list, tuple))
            and len(output_shape) <= MAX_RANK
            and all(size is None or is_size(size) for size in output_shape)
        )
    ):
        raise invalid("output_shape", "a size or a list of sizes", output_shape)
    kernel, bias = einsum_dense_shapes(equation, get(config, "bias_axes"), shape, output_shape)
    sizes = kernel + (bias or [])
    if not all(is_size(size) for size in sizes):
        raise invalid("build_config", "weight sizes known from the build shape", build)
    return ParamCount(math.prod(kernel) + (math.prod(bias) if bias else 0))


def multi_head_attention(class_name, config, build):
    shapes = get(build, "shapes_dict")
    query = build_shape(shapes, "query_shape")
    value = build_shape(shapes, "value_shape")
    key = build_shape(shapes, "key_shape") if get(shapes, "key_shape") else value
    heads = positive(config, "num_heads")
    key_dim = positive(config, "key_dim")
    value_dim = get(config, "value_dim") or key_dim
    if isinstance(value_dim, bool) or not isinstance(value_dim, int) or value_dim < 1:
        raise invalid("value_dim", "a positive integer", value_dim)
    query_dim = _dim(query, -1)
    output = get(config, "output_shape")
    if output is None:
        output = [query_dim]
    elif isinstance(output, int) and not isinstance(output, bool):
        output = [output]
    if not isinstance(output, (list, tuple)) or len(output) > MAX_RANK or not all(
        is_size(o) for o in output
    ):
        raise invalid("output_shape", "a list of positive integers", output)
    output_size = math.prod(output)
    use_bias = flag(config, "use_bias", True)
    kernels = heads * key_dim * (query_dim + _dim(key, -1)) + heads * value_dim * (
        _dim(value, -1) + output_size
    )
    biases = 2 * heads * key_dim + heads * value_dim + output_size
    if flag(config, "use_gate", False):
        # The gate is an EinsumDense from the query to (heads, value_dim).
        kernels += heads * value_dim * query_dim
        biases += heads * value_dim
    return ParamCount(kernels + (biases if use_bias else 0))


def grouped_query_attention(class_name, config, build):
    shapes = get(build, "shapes_dict")
    query = _dim(build_shape(shapes, "query_shape"), -1)
    value_shape = build_shape(shapes, "value_shape")
    key_shape = build_shape(shapes, "key_shape") if get(shapes, "key_shape") else value_shape
    head_dim = positive(config, "head_dim")
    query_heads = positive(config, "num_query_heads")
    key_value_heads = positive(config, "num_key_value_heads")
    use_bias = flag(config, "use_bias", True)
    gates = 2 if flag(config, "use_gate", False) else 1
    # Query (and gate) project to (query_heads, head_dim), key and value to
    # (key_value_heads, head_dim), the output back to the query's last axis.
    kernels = head_dim * (
        gates * query_heads * query
        + key_value_heads * (_dim(key_shape, -1) + _dim(value_shape, -1))
        + query_heads * query
    )
    biases = gates * query_heads * head_dim + 2 * key_value_heads * head_dim + query
    return ParamCount(kernels + (biases if use_bias else 0))


def attention(class_name, config, build):
    scale = int(flag(config, "use_scale", False))
    concat = int(get(config, "score_mode", "dot") == "concat")
    return ParamCount(scale + concat)


def additive_attention(class_name, config, build):
    if not flag(config, "use_scale", True):
        return ZERO
    shapes = get(build, "input_shape")
    if not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(shapes[0], (list, tuple)):
        raise invalid("build_config", "the query and value shapes", build)
    return ParamCount(_dim(build_shape({"input_shape": shapes[0]}), -1))


def _lora_kernel(class_name, config, build):
    """The shape of the kernel that LoRA freezes, for the layers that support it."""
    shape = build_shape(build)
    if class_name == "Dense":
        return [_dim(shape, -1), positive(config, "units")]
    if class_name == "Embedding":
        return [positive(config, "input_dim"), positive(config, "output_dim")]
    if class_name == "EinsumDense":
        kernel, _ = einsum_dense_shapes(
            get(config, "equation"), get(config, "bias_axes"), shape, get(config, "output_shape")
        )
        return kernel
    rank = _rank(class_name)
    groups = positive(config, "groups", 1)
    return [
        *int_tuple(config, "kernel_size", rank),
        _channels(config, shape) // groups,
        positive(config, "filters"),
    ]


LORA = frozenset({"Dense", "Embedding", "EinsumDense", "Conv1D", "Conv2D", "Conv3D"})


def with_lora(class_name, config, build, count):
    """`count` after `enable_lora(rank)`: the kernel becomes non-trainable, and
    two trainable adapters `kernel.shape[:-1] + (rank,)` and `(rank,
    kernel.shape[-1])` are added."""
    rank = positive(config, "lora_rank")
    kernel = _lora_kernel(class_name, config, build)
    frozen = math.prod(kernel)
    adapters = math.prod(kernel[:-1]) * rank + rank * kernel[-1]
    return ParamCount(count.trainable - frozen + adapters, count.non_trainable + frozen)


def layer_scale(class_name, config, build):
    # keras.applications' ConvNeXt scales each channel by a learnt `gamma`.
    return ParamCount(positive(config, "projection_dim"))
