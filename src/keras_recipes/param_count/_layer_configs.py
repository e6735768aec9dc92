"""Parameter count of one Keras layer from its config and build config.

A layer's weights depend only on its constructor arguments (`get_config()`)
and on the shape it was built on (`get_build_config()`), and both are in a
`.keras` file's `config.json`. So this module counts a layer from those two
dicts alone, with the formulas of `_layers.py`: the same code counts a live
layer and a saved one, and it needs no Keras.

`layer_count(class_name, config, build_config)` returns a `ParamCount`, or
`None` when it does not know the class: the caller then reports the layer as
unsupported (or, on a live model, falls back to `count_params()`). A layer
that it knows but whose config is inconsistent raises `ValueError`.
"""

import math
import re

from keras_recipes._untrusted import shown
from keras_recipes.param_count import _layers
from keras_recipes.param_count._count import ZERO, ParamCount

# Built-in layers that never create a Keras weight. Found by reading the
# `build()` of every class in `keras.layers` (Keras 3.15) for `add_weight`:
# activations, dropout and noise (their seed state is not a weight), pooling,
# reshaping, merging, and the preprocessing and augmentation layers, whose
# lookup tables and statistics are constants, not Keras variables.
WEIGHTLESS = frozenset(
    {
        "Activation", "ActivityRegularization", "AlphaDropout", "Dropout",
        "GaussianDropout", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D",
        "SpatialDropout3D", "ELU", "LeakyReLU", "ReLU", "Softmax", "Identity",
        "Lambda", "Masking", "UnitNormalization",
        # Pooling.
        "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
        "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D",
        "AdaptiveMaxPooling3D", "AveragePooling1D", "AveragePooling2D",
        "AveragePooling3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
        "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
        # Reshaping.
        "Cropping1D", "Cropping2D", "Cropping3D", "Flatten", "Permute",
        "RepeatVector", "Reshape", "UpSampling1D", "UpSampling2D", "UpSampling3D",
        "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
        # Merging.
        "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply",
        "Subtract",
        # Preprocessing and augmentation.
        "AugMix", "AutoContrast", "CategoryEncoding", "CenterCrop",
        "ContrastLimitedAdaptiveHistogramEqualization", "CutMix", "Discretization",
        "Equalization", "HashedCrossing", "Hashing", "MaxNumBoundingBoxes",
        "MelSpectrogram", "MixUp", "RandAugment", "RandomBrightness",
        "RandomColorDegeneration", "RandomColorJitter", "RandomContrast",
        "RandomCrop", "RandomElasticTransform", "RandomErasing", "RandomFlip",
        "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert",
        "RandomPerspective", "RandomPosterization", "RandomRotation",
        "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation",
        "RandomZoom", "Rescaling", "Resizing", "Solarization", "TextVectorization",
        # keras.applications' own layers: ConvNeXt's StochasticDepth drops
        # residual paths, InceptionResNetV2's CustomScaleLayer adds
        # `x + scale * r` with a constant scale.
        "StochasticDepth", "CustomScaleLayer",
    }
)


def _weightless(config, build_config):
    return ZERO


# Counts of this library's own registered layers, keyed by their registered
# name ("package>ClassName", what `config.json` stores as `registered_name`).
# A new custom layer adds one entry: a function of (config, build_config).
# `Sampling`'s one variable is its SeedGenerator state, which Keras does not
# count as a parameter.
REGISTERED = {
    "keras_recipes>FeatureMean": _weightless,
    "keras_recipes>Sampling": _weightless,
    "keras_recipes>SelectChannels": _weightless,
}

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


def _fail(class_name, what, value):
    # A hostile file can hold a value of megabytes, or escape sequences, in
    # any of these: name them escaped and cut short.
    return ConfigError(
        f"Invalid config for layer class `{shown(class_name, 80)}`: expected "
        f"{shown(what, 300)}. Received: {shown(repr(value), 200)}"
    )


def _get(config, key, default=None):
    return config.get(key, default) if isinstance(config, dict) else default


def _flag(class_name, config, key, default):
    value = _get(config, key, default)
    if not isinstance(value, bool):
        raise _fail(class_name, f"`{key}` to be true or false", value)
    return value


# No tensor axis is longer than this, and no layer has more axes than
# `MAX_RANK`: bounds that keep a hostile config from making the arithmetic
# slow (a product of a million 4,000-digit sizes).
MAX_AXIS = 2**48
MAX_RANK = 32


def _is_size(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_AXIS


def _positive(class_name, config, key, default=None):
    value = _get(config, key, default)
    if not _is_size(value):
        raise _fail(class_name, f"`{key}` to be a positive integer up to {MAX_AXIS}", value)
    return value


def _shape(class_name, build_config, key="input_shape"):
    """The build shape under `key`: a list of ints and `None`s."""
    shape = _get(build_config, key)
    if not isinstance(shape, (list, tuple)) or len(shape) > MAX_RANK or not all(
        dim is None or (type(dim) is int and dim == 0) or _is_size(dim) for dim in shape
    ):
        raise _fail(class_name, f"a build config with `{key}`, a list of sizes", build_config)
    return list(shape)


def _dim(class_name, shape, axis):
    """The size of `shape[axis]`, which must be known."""
    if not -len(shape) <= axis < len(shape) or not shape[axis]:
        raise _fail(class_name, f"a known size on axis {axis} of the build shape", shape)
    return shape[axis]


def _sizes(class_name, value, rank, key):
    """`kernel_size`-like config value as a tuple of `rank` positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value] * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank or not all(
        _is_size(v) for v in value
    ):
        raise _fail(class_name, f"`{key}` of {rank} positive integers", value)
    return tuple(value)


def _channels(class_name, config, shape, first_axis=1):
    """Input channels: the last axis, or `first_axis` with channels_first."""
    if _get(config, "data_format", "channels_last") == "channels_first":
        return _dim(class_name, shape, first_axis)
    return _dim(class_name, shape, -1)


def _rank(class_name):
    return int(re.search(r"(\d)D", class_name).group(1))


def _quantized(config):
    """Quantized layers swap their variables; this module does not model them."""
    return bool(_get(config, "quantization_config")) or bool(_get(config, "quantization_mode"))


# === One function per layer family: (class_name, config, build_config) -> ParamCount ===


def _dense(class_name, config, build):
    return _layers.dense(
        _dim(class_name, _shape(class_name, build), -1),
        _positive(class_name, config, "units"),
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def _embedding(class_name, config, build):
    return _layers.embedding(
        _positive(class_name, config, "input_dim"),
        _positive(class_name, config, "output_dim"),
    )


def _conv(class_name, config, build):
    rank = _rank(class_name)
    shape = _shape(class_name, build)
    return _layers.conv(
        _channels(class_name, config, shape),
        _positive(class_name, config, "filters"),
        _sizes(class_name, _get(config, "kernel_size"), rank, "kernel_size"),
        rank=rank,
        groups=_positive(class_name, config, "groups", 1),
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def _conv_transpose(class_name, config, build):
    rank = _rank(class_name)
    shape = _shape(class_name, build)
    return _layers.conv_transpose(
        _channels(class_name, config, shape),
        _positive(class_name, config, "filters"),
        _sizes(class_name, _get(config, "kernel_size"), rank, "kernel_size"),
        rank=rank,
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def _depthwise_conv(class_name, config, build):
    rank = _rank(class_name)
    shape = _shape(class_name, build)
    return _layers.depthwise_conv(
        _channels(class_name, config, shape),
        _sizes(class_name, _get(config, "kernel_size"), rank, "kernel_size"),
        rank=rank,
        depth_multiplier=_positive(class_name, config, "depth_multiplier", 1),
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def _separable_conv(class_name, config, build):
    rank = _rank(class_name)
    shape = _shape(class_name, build)
    return _layers.separable_conv(
        _channels(class_name, config, shape),
        _positive(class_name, config, "filters"),
        _sizes(class_name, _get(config, "kernel_size"), rank, "kernel_size"),
        rank=rank,
        depth_multiplier=_positive(class_name, config, "depth_multiplier", 1),
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def _recurrent(class_name, config, build):
    input_dim = _dim(class_name, _shape(class_name, build), -1)
    units = _positive(class_name, config, "units")
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


def _conv_lstm(class_name, config, build):
    rank = _rank(class_name)
    shape = _shape(class_name, build)
    # The input is (batch, time, *spatial, channels), or channels at axis 2.
    return _layers.conv_lstm(
        _channels(class_name, config, shape, first_axis=2),
        _positive(class_name, config, "filters"),
        _sizes(class_name, _get(config, "kernel_size"), rank, "kernel_size"),
        rank=rank,
        use_bias=_flag(class_name, config, "use_bias", True),
    )


def _batch_norm(class_name, config, build):
    shape = _shape(class_name, build)
    axis = _get(config, "axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise _fail(class_name, "`axis` to be one integer", axis)
    return _layers.batch_norm(
        _dim(class_name, shape, axis),
        center=_flag(class_name, config, "center", True),
        scale=_flag(class_name, config, "scale", True),
        renorm=_flag(class_name, config, "renorm", False),
    )


def _axes(class_name, config, default=-1):
    axis = _get(config, "axis", default)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    if not axes or len(axes) > MAX_RANK or not all(type(a) is int for a in axes):
        raise _fail(class_name, "`axis` to be an integer or a list of them", axis)
    return axes


def _layer_norm(class_name, config, build):
    shape = _shape(class_name, build)
    size = math.prod(_dim(class_name, shape, a) for a in _axes(class_name, config))
    rms_scaling = _flag(class_name, config, "rms_scaling", False)
    scale = _flag(class_name, config, "scale", True) or rms_scaling
    center = _flag(class_name, config, "center", True) and not rms_scaling
    return ParamCount(size * (int(scale) + int(center)))


def _rms_norm(class_name, config, build):
    shape = _shape(class_name, build)
    return ParamCount(math.prod(_dim(class_name, shape, a) for a in _axes(class_name, config)))


def _group_norm(class_name, config, build):
    shape = _shape(class_name, build)
    return _layers.group_norm(
        _dim(class_name, shape, _get(config, "axis", -1)),
        groups=_get(config, "groups", 32),
        center=_flag(class_name, config, "center", True),
        scale=_flag(class_name, config, "scale", True),
    )


def _normalization(class_name, config, build):
    # Mean and variance passed to the constructor are stored as constants;
    # otherwise `build()` makes three non-trainable weights: mean and
    # variance over the kept axes, and a scalar `count`.
    if _get(config, "mean") is not None or _get(config, "variance") is not None:
        return ZERO
    shape = _shape(class_name, build)
    size = math.prod(_dim(class_name, shape, a) for a in _axes(class_name, config))
    return ParamCount(0, 2 * size + 1)


def _prelu(class_name, config, build):
    shape = _shape(class_name, build)
    alpha = list(shape[1:])
    shared = _get(config, "shared_axes")
    if shared is not None:
        shared = shared if isinstance(shared, list) else [shared]
        for axis in shared:
            # Keras indexes `param_shape[axis - 1]`, so a negative axis sets
            # the wrong entry; mirror it rather than "fix" it.
            if not isinstance(axis, int) or isinstance(axis, bool) or not -len(alpha) < axis <= len(alpha):
                raise _fail(class_name, "`shared_axes` within the input rank", shared)
            alpha[axis - 1] = 1
    if not all(alpha):
        raise _fail(class_name, "a fully known input shape", shape)
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
        raise _fail("EinsumDense", "an equation `X,Y->Z`, `...X,Y->...Z` or `X...,Y->Z...`", equation)
    input_spec, weight_spec, output_spec = match.groups()
    input_shape = list(input_shape)
    if len(input_shape) < len(input_spec) or not input_shape:
        raise _fail("EinsumDense", f"an input of rank {len(input_spec)} or more for {equation!r}", input_shape)
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
        raise _fail("EinsumDense", f"`output_shape` matching the equation {equation!r}", output_shape)
    kernel = []
    for letter in weight_spec:
        if letter in output_index:
            kernel.append(output[output_index[letter]])
        elif letter in input_index:
            kernel.append(input_shape[input_index[letter]])
        else:
            raise _fail("EinsumDense", f"every weight letter of {equation!r} in the input or output", equation)
    bias = None
    if bias_axes:
        if any(letter not in output_spec for letter in bias_axes):
            raise _fail("EinsumDense", f"`bias_axes` letters of the output spec {output_spec!r}", bias_axes)
        first = min(output_spec.find(letter) for letter in bias_axes)
        bias = [
            output[i + offset] if letter in bias_axes else 1
            for i, letter in enumerate(output_spec[first:], start=first)
        ]
    return kernel, bias


def _einsum_dense(class_name, config, build):
    shape = _shape(class_name, build)
    equation = _get(config, "equation")
    output_shape = _get(config, "output_shape")
    if not isinstance(equation, str) or len(equation) > 200:
        raise _fail(class_name, "`equation` to be an einsum string", equation)
    if not (
        _is_size(output_shape)
        or (
            isinstance(output_shape, (list, tuple))
            and len(output_shape) <= MAX_RANK
            and all(size is None or _is_size(size) for size in output_shape)
        )
    ):
        raise _fail(class_name, "`output_shape` to be a size or a list of sizes", output_shape)
    kernel, bias = einsum_dense_shapes(equation, _get(config, "bias_axes"), shape, output_shape)
    sizes = kernel + (bias or [])
    if not all(_is_size(size) for size in sizes):
        raise _fail(class_name, "weight sizes known from the build shape", build)
    return ParamCount(math.prod(kernel) + (math.prod(bias) if bias else 0))


def _mha(class_name, config, build):
    shapes = _get(build, "shapes_dict")
    query = _shape(class_name, shapes, "query_shape")
    value = _shape(class_name, shapes, "value_shape")
    key = _shape(class_name, shapes, "key_shape") if _get(shapes, "key_shape") else value
    heads = _positive(class_name, config, "num_heads")
    key_dim = _positive(class_name, config, "key_dim")
    value_dim = _get(config, "value_dim") or key_dim
    if isinstance(value_dim, bool) or not isinstance(value_dim, int) or value_dim < 1:
        raise _fail(class_name, "`value_dim` to be a positive integer", value_dim)
    query_dim = _dim(class_name, query, -1)
    output = _get(config, "output_shape")
    if output is None:
        output = [query_dim]
    elif isinstance(output, int) and not isinstance(output, bool):
        output = [output]
    if not isinstance(output, (list, tuple)) or len(output) > MAX_RANK or not all(
        _is_size(o) for o in output
    ):
        raise _fail(class_name, "`output_shape` of positive integers", output)
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


def _grouped_query_attention(class_name, config, build):
    shapes = _get(build, "shapes_dict")
    query = _dim(class_name, _shape(class_name, shapes, "query_shape"), -1)
    value_shape = _shape(class_name, shapes, "value_shape")
    key_shape = _shape(class_name, shapes, "key_shape") if _get(shapes, "key_shape") else value_shape
    head_dim = _positive(class_name, config, "head_dim")
    query_heads = _positive(class_name, config, "num_query_heads")
    key_value_heads = _positive(class_name, config, "num_key_value_heads")
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


def _attention(class_name, config, build):
    scale = int(_flag(class_name, config, "use_scale", False))
    concat = int(_get(config, "score_mode", "dot") == "concat")
    return ParamCount(scale + concat)


def _additive_attention(class_name, config, build):
    if not _flag(class_name, config, "use_scale", True):
        return ZERO
    shapes = _get(build, "input_shape")
    if not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(shapes[0], (list, tuple)):
        raise _fail(class_name, "a build config with the query and value shapes", build)
    return ParamCount(_dim(class_name, _shape(class_name, {"input_shape": shapes[0]}), -1))


def _lora_kernel(class_name, config, build):
    """The shape of the kernel that LoRA freezes, for the layers that support it."""
    shape = _shape(class_name, build)
    if class_name == "Dense":
        return [_dim(class_name, shape, -1), _positive(class_name, config, "units")]
    if class_name == "Embedding":
        return [_positive(class_name, config, "input_dim"), _positive(class_name, config, "output_dim")]
    if class_name == "EinsumDense":
        kernel, _ = einsum_dense_shapes(
            _get(config, "equation"), _get(config, "bias_axes"), shape, _get(config, "output_shape")
        )
        return kernel
    rank = _rank(class_name)
    groups = _positive(class_name, config, "groups", 1)
    return [
        *_sizes(class_name, _get(config, "kernel_size"), rank, "kernel_size"),
        _channels(class_name, config, shape) // groups,
        _positive(class_name, config, "filters"),
    ]


_LORA = frozenset({"Dense", "Embedding", "EinsumDense", "Conv1D", "Conv2D", "Conv3D"})


def _with_lora(class_name, config, build, count):
    """`count` after `enable_lora(rank)`: the kernel becomes non-trainable, and
    two trainable adapters `kernel.shape[:-1] + (rank,)` and `(rank,
    kernel.shape[-1])` are added."""
    rank = _positive(class_name, config, "lora_rank")
    kernel = _lora_kernel(class_name, config, build)
    frozen = math.prod(kernel)
    adapters = math.prod(kernel[:-1]) * rank + rank * kernel[-1]
    return ParamCount(count.trainable - frozen + adapters, count.non_trainable + frozen)


def _layer_scale(class_name, config, build):
    # keras.applications' ConvNeXt scales each channel by a learnt `gamma`.
    return ParamCount(_positive(class_name, config, "projection_dim"))


_FAMILIES = {
    "Dense": _dense,
    "EinsumDense": _einsum_dense,
    "Embedding": _embedding,
    **dict.fromkeys(("Conv1D", "Conv2D", "Conv3D"), _conv),
    **dict.fromkeys(("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"), _conv_transpose),
    **dict.fromkeys(("DepthwiseConv1D", "DepthwiseConv2D"), _depthwise_conv),
    **dict.fromkeys(("SeparableConv1D", "SeparableConv2D"), _separable_conv),
    **dict.fromkeys(("SimpleRNN", "LSTM", "GRU"), _recurrent),
    **dict.fromkeys(("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"), _conv_lstm),
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "RMSNormalization": _rms_norm,
    "GroupNormalization": _group_norm,
    "Normalization": _normalization,
    "PReLU": _prelu,
    "MultiHeadAttention": _mha,
    "Attention": _attention,
    "AdditiveAttention": _additive_attention,
    "LayerScale": _layer_scale,
    # The class is GroupedQueryAttention; configs name it by its export,
    # keras.layers.GroupQueryAttention.
    **dict.fromkeys(("GroupedQueryAttention", "GroupQueryAttention"), _grouped_query_attention),
}

_BUILDS_SUBLAYERS = frozenset(
    {"MultiHeadAttention", "GroupedQueryAttention", "GroupQueryAttention"}
)

WRAPPERS = frozenset({"Bidirectional", "TimeDistributed", "SpectralNormalization"})

# The config key that gives the last axis of each layer's `kernel` (or
# `embeddings`), which sizes SpectralNormalization's `vector_u`.
_KERNEL_OUTPUT = {
    "Dense": "units", "Embedding": "output_dim",
    "Conv1D": "filters", "Conv2D": "filters", "Conv3D": "filters",
}
SUPPORTED = frozenset(_FAMILIES) | WEIGHTLESS | WRAPPERS

_MAX_WRAPPER_DEPTH = 32


def _serialized(class_name, value, key):
    if not isinstance(value, dict) or not isinstance(value.get("class_name"), str):
        raise _fail(class_name, f"`{key}` to be a serialized layer", value)
    return value


def _inner(class_name, config, key, outer_build, depth, frozen):
    inner = _serialized(class_name, _get(config, key), key)
    build = inner.get("build_config")
    if build is None and outer_build is not None and class_name == "TimeDistributed":
        # Keras builds the wrapped layer on the input shape without time.
        shape = _shape(class_name, outer_build)
        build = {"input_shape": shape[:1] + shape[2:]}
    return layer_count(
        inner["class_name"],
        inner.get("config"),
        build,
        registered_name=inner.get("registered_name"),
        module=inner.get("module"),
        _depth=depth + 1,
        _frozen=frozen,
    )


def layer_count(
    class_name, config, build_config, *, registered_name=None, module=None, _depth=0, _frozen=False
):
    """The `ParamCount` of one layer, or `None` if its class is not known here.

    Args:
        class_name: the layer's class name, as in a config's `"class_name"`.
        config: the layer's `get_config()` dict.
        build_config: the layer's `get_build_config()` dict (`None` when
            the layer was never built).
        registered_name: the config's `"registered_name"`; custom layers are
            looked up in `REGISTERED` by it. Defaults to `None`.
        module: the config's `"module"`; a class name is taken as Keras's
            own only when the module is Keras's (or not given). Defaults to
            `None`.

    Returns:
        A `ParamCount` with `trainable=False` applied, or `None`.

    Raises:
        ValueError: the config or build shape is not one a Keras layer of
            that class could have.
    """
    if _depth > _MAX_WRAPPER_DEPTH:
        raise ConfigError(f"Layer wrappers nested more than {_MAX_WRAPPER_DEPTH} deep.")
    if not isinstance(registered_name, (str, type(None))) or not isinstance(
        module, (str, type(None))
    ):
        return None
    frozen = _frozen or _get(config, "trainable", True) is False
    if class_name in _BUILDS_SUBLAYERS and not _frozen:
        # MultiHeadAttention creates its EinsumDense sublayers in `build()`,
        # after its own `trainable=False` was applied, so their weights stay
        # trainable: that is what Keras gives on loading such a layer (and on
        # building one frozen before its first call). Freezing it after it
        # was built does make its weights non-trainable; `count_model` sees
        # that on the live variables.
        frozen = False
    if registered_name in REGISTERED:
        count = REGISTERED[registered_name](config, build_config)
        return count.frozen() if frozen else count
    if registered_name not in (None, class_name) or (
        module is not None and not (module == "keras" or module.startswith("keras."))
    ):
        return None
    if registered_name is not None and module is None:
        # Keras saves a class defined in `__main__` (a script, a notebook)
        # with no module and its class name as registered name: a user's
        # class, maybe `class Dense(keras.layers.Dense)` with extra weights.
        return None
    if class_name in WEIGHTLESS:
        return ZERO
    if _quantized(config) or (_get(config, "lora_rank") and class_name not in _LORA):
        return None
    if class_name in _FAMILIES:
        if build_config is None:
            raise _fail(class_name, "a built layer (the config has no build_config)", None)
        try:
            count = _FAMILIES[class_name](class_name, config, build_config)
            if _get(config, "lora_rank"):
                count = _with_lora(class_name, config, build_config, count)
        except (IndexError, KeyError, TypeError, AttributeError) as error:
            # A config no Keras layer could have (a hostile or corrupted
            # file) that slipped past the checks: still a clear ValueError.
            raise _fail(class_name, "a config Keras could have built", f"{type(error).__name__}: {error}") from None
        return count.frozen() if frozen else count
    if class_name == "TimeDistributed":
        return _inner(class_name, config, "layer", build_config, _depth, frozen)
    if class_name == "SpectralNormalization":
        inner = _serialized(class_name, _get(config, "layer"), "layer")
        key = _KERNEL_OUTPUT.get(inner["class_name"])
        count = _inner(class_name, config, "layer", build_config, _depth, frozen)
        if key is None or count is None:
            return None
        # `vector_u` (1, kernel.shape[-1]) is a non-trainable weight.
        return count + ParamCount(0, _positive(inner["class_name"], inner.get("config"), key))
    if class_name == "Bidirectional":
        forward = _inner(class_name, config, "layer", build_config, _depth, frozen)
        if _get(config, "backward_layer") is None:
            backward = forward
        else:
            backward = _inner(class_name, config, "backward_layer", build_config, _depth, frozen)
        if forward is None or backward is None:
            return None
        return _layers.bidirectional(forward, backward)
    return None
