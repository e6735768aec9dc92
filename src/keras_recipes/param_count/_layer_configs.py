"""Parameter counts of Keras layers from their config and build config: one function per family.

A layer's weights depend only on its constructor arguments (`get_config()`)
and on the shape it was built on (`get_build_config()`), and both are in a
`.keras` file's `config.json`. So each function here counts a layer from
those two dicts alone, `(class_name, config, build_config) -> ParamCount`,
with the formulas of `_layers.py`: the same code counts a live layer and a
saved one, and it needs no Keras. Which class uses which function is the
table in `_rules.py`. A config no layer of the class could have raises
`ConfigError`, a `ValueError`.

Example:

>>> dense("Dense", {"units": 3}, {"input_shape": [None, 2]})
ParamCount(trainable=9, non_trainable=0)
"""

import math
import re

from keras_recipes._untrusted import shown
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


class ConfigError(ValueError):
    """A layer config that a Keras layer of that class could not have."""


def fail(class_name, what, value):
    # A hostile file can hold a value of megabytes, or escape sequences, in
    # any of these: name them escaped and cut short.
    return ConfigError(
        f"Invalid config for layer class `{shown(class_name, 80)}`: expected "
        f"{shown(what, 300)}. Received: {shown(repr(value), 200)}"
    )


def get(config, key, default=None):
    return config.get(key, default) if isinstance(config, dict) else default


def _flag(class_name, config, key, default):
    value = get(config, key, default)
    if not isinstance(value, bool):
        raise fail(class_name, f"`{key}` to be true or false", value)
    return value


# No tensor axis is longer than this, and no layer has more axes than
# `MAX_RANK`: bounds that keep a hostile config from making the arithmetic
# slow (a product of a million 4,000-digit sizes).
MAX_AXIS = 2**48
MAX_RANK = 32


def _is_size(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_AXIS


def positive(class_name, config, key, default=None):
    value = get(config, key, default)
    if not _is_size(value):
        raise fail(class_name, f"`{key}` to be a positive integer up to {MAX_AXIS}", value)
    return value


def build_input_shape(class_name, build_config, key="input_shape"):
    """The build shape under `key`: a list of ints and `None`s."""
    shape = get(build_config, key)
    if not isinstance(shape, (list, tuple)) or len(shape) > MAX_RANK or not all(
        dim is None or (type(dim) is int and dim == 0) or _is_size(dim) for dim in shape
    ):
        raise fail(class_name, f"a build config with `{key}`, a list of sizes", build_config)
    return list(shape)


def _dim(class_name, shape, axis):
    """The size of `shape[axis]`, which must be known."""
    if not -len(shape) <= axis < len(shape) or not shape[axis]:
        raise fail(class_name, f"a known size on axis {axis} of the build shape", shape)
    return shape[axis]


def _sizes(class_name, value, rank, key):
    """`kernel_size`-like config value as a tuple of `rank` positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value] * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank or not all(
        _is_size(v) for v in value
    ):
        raise fail(class_name, f"`{key}` of {rank} positive integers", value)
    return tuple(value)


def _channels(class_name, config, shape, first_axis=1):
    """Input channels: the last axis, or `first_axis` with channels_first."""
    if get(config, "data_format", "channels_last") == "channels_first":
        return _dim(class_name, shape, first_axis)
    return _dim(class_name, shape, -1)


def _rank(class_name):
    return int(re.search(r"(\d)D", class_name).group(1))


def quantized(config):
    """Quantized layers swap their variables; this module does not model them."""
    return bool(get(config, "quantization_config")) or bool(get(config, "quantization_mode"))


# === One function per layer family: (class_name, config, build_config) -> ParamCount ===


def dense(class_name, config, build):
    return _layers.dense(
        _dim(class_name, build_input_shape(class_name, build), -1),
        positive(class_name, config, "units"),
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def embedding(class_name, config, build):
    return _layers.embedding(
        positive(class_name, config, "input_dim"),
        positive(class_name, config, "output_dim"),
    )


def reversible_embedding(class_name, config, build):
    # An Embedding whose `reverse=True` call projects back onto the
    # vocabulary, with the transposed embeddings (`tie_weights=True`) or a
    # matrix of its own.
    tied = _flag(class_name, config, "tie_weights", True)
    return embedding(class_name, config, build) * (1 if tied else 2)


def conv(class_name, config, build):
    rank = _rank(class_name)
    shape = build_input_shape(class_name, build)
    return _layers.conv(
        _channels(class_name, config, shape),
        positive(class_name, config, "filters"),
        _sizes(class_name, get(config, "kernel_size"), rank, "kernel_size"),
        rank=rank,
        groups=positive(class_name, config, "groups", 1),
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def conv_transpose(class_name, config, build):
    rank = _rank(class_name)
    shape = build_input_shape(class_name, build)
    return _layers.conv_transpose(
        _channels(class_name, config, shape),
        positive(class_name, config, "filters"),
        _sizes(class_name, get(config, "kernel_size"), rank, "kernel_size"),
        rank=rank,
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def depthwise_conv(class_name, config, build):
    rank = _rank(class_name)
    shape = build_input_shape(class_name, build)
    return _layers.depthwise_conv(
        _channels(class_name, config, shape),
        _sizes(class_name, get(config, "kernel_size"), rank, "kernel_size"),
        rank=rank,
        depth_multiplier=positive(class_name, config, "depth_multiplier", 1),
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def separable_conv(class_name, config, build):
    rank = _rank(class_name)
    shape = build_input_shape(class_name, build)
    return _layers.separable_conv(
        _channels(class_name, config, shape),
        positive(class_name, config, "filters"),
        _sizes(class_name, get(config, "kernel_size"), rank, "kernel_size"),
        rank=rank,
        depth_multiplier=positive(class_name, config, "depth_multiplier", 1),
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def recurrent(class_name, config, build):
    input_dim = _dim(class_name, build_input_shape(class_name, build), -1)
    units = positive(class_name, config, "units")
    use_bias = _flag(class_name, config, "use_bias", True)
    if class_name == "SimpleRNN":
        return _layers.simple_rnn(input_dim, units, use_bias=use_bias)
    if class_name == "LSTM":
        return _layers.lstm(input_dim, units, use_bias=use_bias)
    return _layers.gru(
        input_dim,
        units,
        use_bias=use_bias,
        reset_after=_flag(class_name, config, "reset_after", True),
    )


def conv_lstm(class_name, config, build):
    rank = _rank(class_name)
    shape = build_input_shape(class_name, build)
    # The input is (batch, time, *spatial, channels), or channels at axis 2.
    return _layers.conv_lstm(
        _channels(class_name, config, shape, first_axis=2),
        positive(class_name, config, "filters"),
        _sizes(class_name, get(config, "kernel_size"), rank, "kernel_size"),
        rank=rank,
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def batch_norm(class_name, config, build):
    shape = build_input_shape(class_name, build)
    axis = get(config, "axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise fail(class_name, "`axis` to be one integer", axis)
    return _layers.batch_norm(
        _dim(class_name, shape, axis),
        center=_flag(class_name, config, "center", True),
        scale=_flag(class_name, config, "scale", True),
        renorm=_flag(class_name, config, "renorm", False),
    )


def _axes(class_name, config, default=-1):
    axis = get(config, "axis", default)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    if not axes or len(axes) > MAX_RANK or not all(type(a) is int for a in axes):
        raise fail(class_name, "`axis` to be an integer or a list of them", axis)
    return axes


def layer_norm(class_name, config, build):
    shape = build_input_shape(class_name, build)
    size = math.prod(_dim(class_name, shape, a) for a in _axes(class_name, config))
    rms_scaling = _flag(class_name, config, "rms_scaling", False)
    scale = _flag(class_name, config, "scale", True) or rms_scaling
    center = _flag(class_name, config, "center", True) and not rms_scaling
    return ParamCount(size * (int(scale) + int(center)))


def rms_norm(class_name, config, build):
    shape = build_input_shape(class_name, build)
    return ParamCount(math.prod(_dim(class_name, shape, a) for a in _axes(class_name, config)))


def group_norm(class_name, config, build):
    shape = build_input_shape(class_name, build)
    return _layers.group_norm(
        _dim(class_name, shape, get(config, "axis", -1)),
        groups=get(config, "groups", 32),
        center=_flag(class_name, config, "center", True),
        scale=_flag(class_name, config, "scale", True),
    )


def normalization(class_name, config, build):
    # Mean and variance passed to the constructor are stored as constants;
    # otherwise `build()` makes three non-trainable weights: mean and
    # variance over the kept axes, and a scalar `count`.
    if get(config, "mean") is not None or get(config, "variance") is not None:
        return ZERO
    shape = build_input_shape(class_name, build)
    size = math.prod(_dim(class_name, shape, a) for a in _axes(class_name, config))
    return ParamCount(0, 2 * size + 1)


def prelu(class_name, config, build):
    shape = build_input_shape(class_name, build)
    alpha = list(shape[1:])
    shared = get(config, "shared_axes")
    if shared is not None:
        shared = shared if isinstance(shared, list) else [shared]
        for axis in shared:
            # Keras indexes `param_shape[axis - 1]`, so a negative axis sets
            # the wrong entry; mirror it rather than "fix" it.
            if not isinstance(axis, int) or isinstance(axis, bool) or not -len(alpha) < axis <= len(alpha):
                raise fail(class_name, "`shared_axes` within the input rank", shared)
            alpha[axis - 1] = 1
    if not all(alpha):
        raise fail(class_name, "a fully known input shape", shape)
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
        raise fail("EinsumDense", "an equation `X,Y->Z`, `...X,Y->...Z` or `X...,Y->Z...`", equation)
    input_spec, weight_spec, output_spec = match.groups()
    input_shape = list(input_shape)
    if len(input_shape) < len(input_spec) or not input_shape:
        raise fail("EinsumDense", f"an input of rank {len(input_spec)} or more for {equation!r}", input_shape)
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
        raise fail("EinsumDense", f"`output_shape` matching the equation {equation!r}", output_shape)
    kernel = []
    for letter in weight_spec:
        if letter in output_index:
            kernel.append(output[output_index[letter]])
        elif letter in input_index:
            kernel.append(input_shape[input_index[letter]])
        else:
            raise fail("EinsumDense", f"every weight letter of {equation!r} in the input or output", equation)
    bias = None
    if bias_axes:
        if any(letter not in output_spec for letter in bias_axes):
            raise fail("EinsumDense", f"`bias_axes` letters of the output spec {output_spec!r}", bias_axes)
        first = min(output_spec.find(letter) for letter in bias_axes)
        bias = [
            output[i + offset] if letter in bias_axes else 1
            for i, letter in enumerate(output_spec[first:], start=first)
        ]
    return kernel, bias


def einsum_dense(class_name, config, build):
    shape = build_input_shape(class_name, build)
    equation = get(config, "equation")
    output_shape = get(config, "output_shape")
    if not isinstance(equation, str) or len(equation) > 200:
        raise fail(class_name, "`equation` to be an einsum string", equation)
    if not (
        _is_size(output_shape)
        or (
            isinstance(output_shape, (list, tuple))
            and len(output_shape) <= MAX_RANK
            and all(size is None or _is_size(size) for size in output_shape)
        )
    ):
        raise fail(class_name, "`output_shape` to be a size or a list of sizes", output_shape)
    kernel, bias = einsum_dense_shapes(equation, get(config, "bias_axes"), shape, output_shape)
    sizes = kernel + (bias or [])
    if not all(_is_size(size) for size in sizes):
        raise fail(class_name, "weight sizes known from the build shape", build)
    return ParamCount(math.prod(kernel) + (math.prod(bias) if bias else 0))


def multi_head_attention(class_name, config, build):
    shapes = get(build, "shapes_dict")
    query = build_input_shape(class_name, shapes, "query_shape")
    value = build_input_shape(class_name, shapes, "value_shape")
    key = build_input_shape(class_name, shapes, "key_shape") if get(shapes, "key_shape") else value
    heads = positive(class_name, config, "num_heads")
    key_dim = positive(class_name, config, "key_dim")
    value_dim = get(config, "value_dim") or key_dim
    if isinstance(value_dim, bool) or not isinstance(value_dim, int) or value_dim < 1:
        raise fail(class_name, "`value_dim` to be a positive integer", value_dim)
    query_dim = _dim(class_name, query, -1)
    output = get(config, "output_shape")
    if output is None:
        output = [query_dim]
    elif isinstance(output, int) and not isinstance(output, bool):
        output = [output]
    if not isinstance(output, (list, tuple)) or len(output) > MAX_RANK or not all(
        _is_size(o) for o in output
    ):
        raise fail(class_name, "`output_shape` of positive integers", output)
    output_size = math.prod(output)
    use_bias = _flag(class_name, config, "use_bias", True)
    kernels = heads * key_dim * (query_dim + _dim(class_name, key, -1)) + heads * value_dim * (
        _dim(class_name, value, -1) + output_size
    )
    biases = 2 * heads * key_dim + heads * value_dim + output_size
    if _flag(class_name, config, "use_gate", False):
        # The gate is an EinsumDense from the query to (heads, value_dim).
        kernels += heads * value_dim * query_dim
        biases += heads * value_dim
    return ParamCount(kernels + (biases if use_bias else 0))


def grouped_query_attention(class_name, config, build):
    shapes = get(build, "shapes_dict")
    query = _dim(class_name, build_input_shape(class_name, shapes, "query_shape"), -1)
    value_shape = build_input_shape(class_name, shapes, "value_shape")
    key_shape = build_input_shape(class_name, shapes, "key_shape") if get(shapes, "key_shape") else value_shape
    head_dim = positive(class_name, config, "head_dim")
    query_heads = positive(class_name, config, "num_query_heads")
    key_value_heads = positive(class_name, config, "num_key_value_heads")
    use_bias = _flag(class_name, config, "use_bias", True)
    gates = 2 if _flag(class_name, config, "use_gate", False) else 1
    # Query (and gate) project to (query_heads, head_dim), key and value to
    # (key_value_heads, head_dim), the output back to the query's last axis.
    kernels = head_dim * (
        gates * query_heads * query
        + key_value_heads * (_dim(class_name, key_shape, -1) + _dim(class_name, value_shape, -1))
        + query_heads * query
    )
    biases = gates * query_heads * head_dim + 2 * key_value_heads * head_dim + query
    return ParamCount(kernels + (biases if use_bias else 0))


def attention(class_name, config, build):
    scale = int(_flag(class_name, config, "use_scale", False))
    concat = int(get(config, "score_mode", "dot") == "concat")
    return ParamCount(scale + concat)


def additive_attention(class_name, config, build):
    if not _flag(class_name, config, "use_scale", True):
        return ZERO
    shapes = get(build, "input_shape")
    if not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(shapes[0], (list, tuple)):
        raise fail(class_name, "a build config with the query and value shapes", build)
    return ParamCount(_dim(class_name, build_input_shape(class_name, {"input_shape": shapes[0]}), -1))


def _lora_kernel(class_name, config, build):
    """The shape of the kernel that LoRA freezes, for the layers that support it."""
    shape = build_input_shape(class_name, build)
    if class_name == "Dense":
        return [_dim(class_name, shape, -1), positive(class_name, config, "units")]
    if class_name == "Embedding":
        return [positive(class_name, config, "input_dim"), positive(class_name, config, "output_dim")]
    if class_name == "EinsumDense":
        kernel, _ = einsum_dense_shapes(
            get(config, "equation"), get(config, "bias_axes"), shape, get(config, "output_shape")
        )
        return kernel
    rank = _rank(class_name)
    groups = positive(class_name, config, "groups", 1)
    return [
        *_sizes(class_name, get(config, "kernel_size"), rank, "kernel_size"),
        _channels(class_name, config, shape) // groups,
        positive(class_name, config, "filters"),
    ]


LORA = frozenset({"Dense", "Embedding", "EinsumDense", "Conv1D", "Conv2D", "Conv3D"})


def with_lora(class_name, config, build, count):
    """`count` after `enable_lora(rank)`: the kernel becomes non-trainable, and
    two trainable adapters `kernel.shape[:-1] + (rank,)` and `(rank,
    kernel.shape[-1])` are added."""
    rank = positive(class_name, config, "lora_rank")
    kernel = _lora_kernel(class_name, config, build)
    frozen = math.prod(kernel)
    adapters = math.prod(kernel[:-1]) * rank + rank * kernel[-1]
    return ParamCount(count.trainable - frozen + adapters, count.non_trainable + frozen)


def layer_scale(class_name, config, build):
    # keras.applications' ConvNeXt scales each channel by a learnt `gamma`.
    return ParamCount(positive(class_name, config, "projection_dim"))
