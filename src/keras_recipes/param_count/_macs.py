"""Multiply-accumulates and output shapes of single Keras layers, from their configs.

Pure Python, like the rest of `param_count`: nothing here imports Keras,
TensorFlow or numpy, so a saved model's `config.json` can be measured where
no framework is installed. Each function takes what a `.keras` file stores
for one layer: its `class_name`, its `config` (`layer.get_config()`) and its
`build_config` (`layer.get_build_config()`, the shapes `build()` received).

Conventions (docs/macs.md spells them out with every formula):

- A MAC is one multiply and one add of a contraction: a matrix product, a
  convolution, an einsum, the two products inside attention, a `Dot`.
  FLOPs = 2 x MACs. Bias adds are not MACs, and neither is elementwise work
  (activations, gates, normalisation, pooling, merges, softmax, scaling).
- One forward pass for ONE sample: the batch axis is left out.
- Weightless layers and normalisation layers have 0 MACs, except `Dot`,
  which is a contraction. `Embedding` is a lookup: 0 MACs.
- Recurrent layers are counted over every time step of the input sequence,
  whether or not they return the whole sequence.

This library's own layers (`Sampling`, `FeatureMean`, `SelectChannels`) are
known by their registered name (`"keras_recipes>Sampling"`, the config's
`registered_name`), never by their bare class name: a user's class that
happens to be called `Sampling` stays unknown.

Both functions return `None` when they cannot tell: an unknown class, or a
shape that is missing or has an unknown (`None`) size where the count needs
it. For layers whose MACs are 0 by convention, `layer_macs` answers 0 even
without a shape. A config or a build config that Keras itself would refuse
raises `ValueError` or `TypeError` naming the key.

Example:

>>> layer_macs("Dense", {"units": 3}, {"input_shape": [None, 4]})
12
>>> layer_output_shape("Conv2D", {"filters": 8, "kernel_size": [3, 3]},
...                    {"input_shape": [None, 32, 32, 3]})
(None, 30, 30, 8)
"""

import math
import re

from keras_recipes import _validation

# === Public functions ===


def layer_macs(class_name, config, build_config, *, registered_name=None):
    """Multiply-accumulates of one forward pass of one layer, for one sample.

    Args:
        class_name: the layer's class name, as in its serialized config
            (`"Dense"`, `"Conv2D"`, ...).
        config: the layer's `get_config()` dict, as stored in a `.keras`
            file's `config.json`.
        build_config: the layer's `get_build_config()` dict, usually
            `{"input_shape": [None, ...]}`, or `None` when the layer was never
            built (or, like most weightless layers, records no build shapes).
        registered_name: the config's `"registered_name"`
            (`"keras_recipes>Sampling"`), for a class registered with
            `keras.saving.register_keras_serializable`. A name other than
            `None` or `class_name` is looked up among this library's layers
            only; any other registered class is unknown. Defaults to `None`
            (a Keras layer, known by its class name).

    Returns:
        An `int`: the MACs with the batch axis left out (multiply by the
        batch size for a batch, by 2 for FLOPs). `None` for an unknown class,
        or when a shape the count needs is missing or partly unknown.

    Raises:
        TypeError, ValueError: for a config or build config Keras would
            refuse (a wrong type, a negative size, an unknown padding).

    Example:

    >>> layer_macs("LSTM", {"units": 5}, {"input_shape": [None, 10, 4]})
    1800
    >>> layer_macs("MaxPooling2D", {"pool_size": [2, 2]}, None)
    0
    """
    result = _analyze(class_name, config, build_config, registered_name=registered_name)
    if result is None:
        if _is_custom(class_name, registered_name):
            return 0 if registered_name in _REGISTERED else None
        return 0 if class_name in _ZERO_MACS else None
    return result[1]


def layer_output_shape(class_name, config, build_config, *, registered_name=None):
    """The output shape of one layer, with `None` for the batch axis.

    The same shape as Keras's `layer.compute_output_shape(input_shape)`
    (axes Keras cannot know are `None` here too), except that the batch
    axis is always `None`. A layer with several outputs (a recurrent layer
    with `return_state=True`, `Bidirectional` with `merge_mode=None`) gets a
    tuple of shapes, one per output, as Keras returns.

    Args:
        class_name: the layer's class name, as in its serialized config.
        config: the layer's `get_config()` dict.
        build_config: the layer's `get_build_config()` dict, or `None`.
        registered_name: the config's `"registered_name"`, as for
            `layer_macs`. Defaults to `None`.

    Returns:
        A tuple of sizes (`int` or `None`), a tuple of such tuples for a
        layer with several outputs, or `None` for an unknown class or a
        missing input shape.

    Raises:
        TypeError, ValueError: for a config or build config Keras would
            refuse.

    Example:

    >>> layer_output_shape("Flatten", {}, {"input_shape": [None, 4, 4, 3]})
    (None, 48)
    """
    result = _analyze(class_name, config, build_config, registered_name=registered_name)
    return None if result is None else result[0]


_MAX_WRAPPER_DEPTH = 16
"""How many wrappers (Bidirectional, TimeDistributed) may nest: real models
use one or two; a config nested deeper is refused rather than recursed into."""


def _is_custom(class_name, registered_name):
    """Whether a layer is a registered class rather than Keras's own.

    Keras saves its own layers with no registered name (or their class name).
    """
    return registered_name is not None and registered_name != class_name


def _analyze(class_name, config, build_config, depth=0, registered_name=None):
    """`(output_shape, macs)` of one layer, or `None` when it cannot tell."""
    if depth > _MAX_WRAPPER_DEPTH:
        raise _validation.invalid(
            "config", f"wrapped layers nested at most {_MAX_WRAPPER_DEPTH} deep", f"<{class_name} nested deeper>"
        )
    if not isinstance(class_name, str):
        raise _validation.wrong_type("class_name", "a string", class_name)
    if not isinstance(config, dict):
        raise _validation.wrong_type("config", "a dict", config)
    if not isinstance(registered_name, (str, type(None))):
        raise _validation.wrong_type("registered_name", "None or a string", registered_name)
    if _is_custom(class_name, registered_name):
        handler = _REGISTERED.get(registered_name)
    elif class_name == "InputLayer":
        return _input_layer(config)
    else:
        handler = _HANDLERS.get(class_name)
    if handler is None:
        return None
    inputs = _build_inputs(build_config)
    if inputs is None:
        return None
    if handler in (_bidirectional, _time_distributed, _spectral_normalization):
        return handler(config, inputs, depth)
    return handler(config, inputs)


# === Reading shapes and configs ===


def _is_size(value):
    return value is None or (_validation.is_int(value) and value >= 0)


def _shape(value):
    """A shape from a build config, as a tuple with a `None` batch axis."""
    sizes = tuple(None if size is None else int(size) for size in value)
    return (None, *sizes[1:]) if sizes else sizes


def _shapes(value):
    """A shape, or a list of shapes (for layers called on several inputs)."""
    expected = "a shape (a list of sizes) or a list of shapes"
    if not _validation.is_sequence(value):
        raise _validation.wrong_type("input_shape", expected, value)
    if all(_is_size(size) for size in value):
        return _shape(value)
    # One level of lists only: no layer this module knows takes nested lists.
    if all(_validation.is_sequence(item) and all(map(_is_size, item)) for item in value):
        return [_shape(item) for item in value]
    raise _validation.invalid("input_shape", expected, value)


def _build_inputs(build_config):
    """The input shape(s) of a build config, or `None` when it has none.

    A shape for `{"input_shape": shape}`, a list of shapes for a layer
    called on a list, and a dict of shapes for `{"shapes_dict": {...}}`
    (layers whose `build()` takes several arguments, like
    `MultiHeadAttention`).
    """
    if build_config is None:
        return None
    if not isinstance(build_config, dict):
        raise _validation.wrong_type("build_config", "None or a dict", build_config)
    if build_config.get("input_shape") is not None:
        return _shapes(build_config["input_shape"])
    shapes_dict = build_config.get("shapes_dict")
    if shapes_dict is None:
        return None
    if not isinstance(shapes_dict, dict):
        raise _validation.wrong_type("shapes_dict", "a dict of shapes", shapes_dict)
    return {
        name: None if shape is None else _shapes(shape)
        for name, shape in shapes_dict.items()
    }


def _one_shape(inputs, rank=None):
    """The single input shape of a layer called on one tensor.

    `rank` (with the batch axis) is checked when given; `None` means any.
    """
    if isinstance(inputs, dict) and len(inputs) == 1:
        inputs = next(iter(inputs.values()))
    if not isinstance(inputs, tuple) or (rank is not None and len(inputs) != rank):
        expected = "one input shape" if rank is None else f"one input shape of rank {rank}"
        raise _validation.invalid("input_shape", expected, inputs)
    return inputs


def _shape_list(inputs, count=None):
    """The input shapes of a layer called on a list of tensors."""
    if isinstance(inputs, dict):
        inputs = list(inputs.values())
    if not isinstance(inputs, list) or not all(isinstance(s, tuple) for s in inputs):
        raise _validation.invalid("input_shape", "a list of input shapes", inputs)
    if count is not None and len(inputs) not in count:
        raise _validation.invalid(
            "input_shape", f"a list of {' or '.join(map(str, count))} input shapes", inputs
        )
    return inputs


def _product(sizes):
    """The product of `sizes`, or `None` when one of them is unknown."""
    total = 1
    for size in sizes:
        if size is None:
            return None
        total *= size
    return total


def _times(*factors):
    """The product of several factors, or `None` when one is `None`."""
    return _product(factors)


def _positive(config, key, default=None):
    value = config.get(key, default)
    return _validation.check_positive_int(key, value)


def _flag(config, key, default):
    return _validation.check_boolean(key, config.get(key, default))


def _int_tuple(config, key, rank, default, minimum=1):
    """`config[key]` (an int or a list of `rank` ints) as a tuple of ints."""
    value = config.get(key, default)
    if _validation.is_int(value):
        value = (value,) * rank
    expected = f"an integer or a list of {rank} integers of at least {minimum}"
    if not _validation.is_sequence(value) or len(value) != rank:
        raise _validation.invalid(key, expected, value)
    if not all(_validation.is_int(item) and item >= minimum for item in value):
        raise _validation.invalid(key, expected, value)
    return tuple(int(item) for item in value)


def _choice(config, key, default, choices):
    value = config.get(key, default)
    if isinstance(value, str):
        value = value.lower()
    return _validation.check_choice(key, value, choices)


def _data_format(config):
    return _choice(config, "data_format", "channels_last", ("channels_last", "channels_first"))


def _split_channels(shape, data_format):
    """`(spatial sizes, channels)` of a channels-last or channels-first shape."""
    if data_format == "channels_last":
        return shape[1:-1], shape[-1]
    return shape[2:], shape[1]


def _join_channels(spatial, channels, data_format):
    """A shape with a `None` batch axis from spatial sizes and channels."""
    if data_format == "channels_last":
        return (None, *spatial, channels)
    return (None, channels, *spatial)


def _nested(config, key):
    """`(class_name, config, build_config)` of a layer serialized in `config[key]`."""
    layer = config.get(key)
    if not isinstance(layer, dict) or not isinstance(layer.get("class_name"), str):
        raise _validation.invalid(key, "a serialized layer (a dict with a class_name)", layer)
    return layer["class_name"], layer.get("config", {}), layer.get("build_config")


# === Convolutions ===


def _conv_length(length, kernel, stride, dilation, padding):
    """One spatial output size of a convolution (keras.src.ops.operation_utils).

    Returns 0 or less for an input shorter than the dilated kernel with
    "valid" padding, which the caller refuses with the whole shape.
    """
    if length is None:
        return None
    if padding == "valid":
        return (length - dilation * (kernel - 1) - 1) // stride + 1
    # "same" and "causal" both keep ceil(length / stride) positions.
    return (length - 1) // stride + 1


def _conv_geometry(config, shape, rank, padding_choices=("valid", "same")):
    """What every convolution reads from its config and input shape.

    Returns `(data_format, spatial, channels, kernel, output spatial)`.
    """
    data_format = _data_format(config)
    if len(shape) != rank + 2:
        raise _validation.invalid(
            "input_shape", f"a shape of rank {rank + 2} for a rank-{rank} convolution", shape
        )
    spatial, channels = _split_channels(shape, data_format)
    kernel = _int_tuple(config, "kernel_size", rank, None)
    strides = _int_tuple(config, "strides", rank, 1)
    dilation = _int_tuple(config, "dilation_rate", rank, 1)
    padding = _choice(config, "padding", "valid", padding_choices)
    out_spatial = tuple(
        _conv_length(length, size, stride, rate, padding)
        for length, size, stride, rate in zip(spatial, kernel, strides, dilation)
    )
    if any(size is not None and size <= 0 for size in out_spatial):
        raise _validation.invalid(
            "input_shape",
            f"spatial sizes of at least the dilated kernel {kernel} (dilation_rate="
            f"{dilation}) with padding='valid'",
            shape,
        )
    return data_format, spatial, channels, kernel, out_spatial


def _conv(rank):
    def handler(config, inputs):
        shape = _one_shape(inputs)
        padding_choices = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
        data_format, _, channels, kernel, out_spatial = _conv_geometry(
            config, shape, rank, padding_choices
        )
        filters = _positive(config, "filters")
        groups = _positive(config, "groups", 1)
        per_group = None if channels is None else channels // groups
        # Each output position of each filter sums kernel x (channels / groups)
        # products: a grouped convolution reads only its group's channels.
        macs = _times(_product(out_spatial), math.prod(kernel), per_group, filters)
        return _join_channels(out_spatial, filters, data_format), macs

    return handler


def _transpose_length(length, kernel, stride, dilation, padding, output_padding):
    """One spatial output size of a transposed convolution (Keras's TF-padding rule)."""
    if length is None:
        return None
    kernel = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(kernel, stride) - kernel if output_padding is None else output_padding
        return (length - 1) * stride + kernel + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + kernel % 2 + output_padding


def _conv_transpose(rank):
    def handler(config, inputs):
        shape = _one_shape(inputs)
        data_format = _data_format(config)
        if len(shape) != rank + 2:
            raise _validation.invalid(
                "input_shape", f"a shape of rank {rank + 2} for a rank-{rank} convolution", shape
            )
        spatial, channels = _split_channels(shape, data_format)
        kernel = _int_tuple(config, "kernel_size", rank, None)
        strides = _int_tuple(config, "strides", rank, 1)
        dilation = _int_tuple(config, "dilation_rate", rank, 1)
        padding = _choice(config, "padding", "valid", ("valid", "same"))
        if config.get("output_padding") is None:
            output_padding = (None,) * rank
        else:
            output_padding = _int_tuple(config, "output_padding", rank, None, minimum=0)
        filters = _positive(config, "filters")
        out_spatial = tuple(
            _transpose_length(*sizes, padding, extra)
            for sizes, extra in zip(zip(spatial, kernel, strides, dilation), output_padding)
        )
        # Every input position scatters a kernel-sized window of `filters`
        # outputs, each the sum over `channels` products; taps that padding
        # crops away are counted too (the arithmetic is done, then dropped).
        macs = _times(_product(spatial), math.prod(kernel), channels, filters)
        return _join_channels(out_spatial, filters, data_format), macs

    return handler


def _depthwise(rank, pointwise):
    def handler(config, inputs):
        shape = _one_shape(inputs)
        data_format, _, channels, kernel, out_spatial = _conv_geometry(config, shape, rank)
        multiplier = _positive(config, "depth_multiplier", 1)
        depthwise_channels = _times(channels, multiplier)
        positions = _product(out_spatial)
        macs = _times(positions, math.prod(kernel), depthwise_channels)
        filters = depthwise_channels
        if pointwise:
            filters = _positive(config, "filters")
            # The 1x1 pointwise convolution runs on the depthwise output grid.
            macs = None if macs is None else macs + positions * depthwise_channels * filters
        return _join_channels(out_spatial, filters, data_format), macs

    return handler


# === Dense, EinsumDense, Embedding ===


def _dense(config, inputs):
    shape = _one_shape(inputs)
    if len(shape) < 2:
        raise _validation.invalid("input_shape", "a shape of rank 2 or more", shape)
    units = _positive(config, "units")
    # Only the last axis is contracted: one (in x units) product per position.
    return (*shape[:-1], units), _times(_product(shape[1:]), units)


_EINSUM_FORMS = (
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), False),
    (re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$"), True),
    (re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$"), False),
)


def _einsum_dense(config, inputs):
    """EinsumDense: Keras's output shape, and one MAC per combination of all index sizes."""
    shape = _one_shape(inputs)
    equation = config.get("equation")
    if not isinstance(equation, str):
        raise _validation.wrong_type("equation", "an einsum equation string", equation)
    for pattern, left_elided in _EINSUM_FORMS:
        match = pattern.match(equation)
        if match:
            break
    else:
        raise _validation.invalid(
            "equation", "the form 'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...'", equation
        )
    input_spec, weight_spec, output_spec = match.groups()
    elided = len(shape) - len(input_spec)
    if elided < 0 or (elided > 0 and "..." not in equation):
        raise _validation.invalid(
            "input_shape", f"a shape matching the equation {equation!r}", shape
        )
    requested = config.get("output_shape")
    requested = [requested] if _validation.is_int(requested) else list(requested or [])
    # Mirror keras.src.layers.core.einsum_dense._analyze_split_string: the
    # requested output shape, with the batch axis and the elided axes added.
    output = [shape[0], *requested]
    if left_elided:
        # Keras inserts the elided axes one by one at position 1, so its
        # static output shape lists them in reverse order (the computed
        # tensor has them in order). The static shape is what its graph,
        # `model.summary()` and the next layer's build shape see: follow it.
        output[1:1] = reversed(shape[1:elided])
    else:
        output.extend(shape[len(shape) - elided :])
    offset = elided if left_elided else 0
    sizes = {}
    for index, letter in enumerate(input_spec):
        sizes[letter] = shape[index + offset]
    for index, letter in enumerate(output_spec):
        if index + offset >= len(output):
            raise _validation.invalid(
                "output_shape", f"one size per output axis of {equation!r}", requested
            )
        sizes.setdefault(letter, output[index + offset])
    for letter in weight_spec:
        if letter not in sizes:
            raise _validation.invalid(
                "equation", "weight axes that appear in the input or the output", equation
            )
    # Per sample: the batch axis (input axis 0, named or elided) counts once.
    if left_elided and elided > 0:
        batch_like = shape[1:elided]
    elif elided > 0:
        batch_like = shape[len(shape) - elided :]
        sizes[input_spec[0]] = 1
    else:
        batch_like = ()
        sizes[input_spec[0]] = 1
    macs = _times(_product(sizes.values()), _product(batch_like))
    return tuple(output), macs


def _embedding(config, inputs):
    shape = _one_shape(inputs)
    return (*shape, _positive(config, "output_dim")), 0


# === Recurrent layers ===

_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
_STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}


def _sequence_outputs(config, steps, step_output, states):
    """Keras's RNN output shapes: the output, then the states if returned."""
    if _flag(config, "return_sequences", False):
        output = (None, steps, *step_output[1:])
    else:
        output = step_output
    if _flag(config, "return_state", False):
        return (output, *([step_output] * states))
    return output


def _recurrent(class_name):
    gates = _GATES[class_name]

    def handler(config, inputs):
        shape = _one_shape(inputs, rank=3)
        units = _positive(config, "units")
        steps, features = shape[1], shape[2]
        # Each step multiplies the input (features) and the previous state
        # (units) by the gate kernels: gates x units x (features + units).
        # GRU's reset gate, before or after the recurrent product, does not
        # change the product's size.
        macs = _times(steps, gates, units, None if features is None else features + units)
        output = _sequence_outputs(config, steps, (None, units), _STATES[class_name])
        return output, macs

    return handler


def _conv_lstm(rank):
    def handler(config, inputs):
        shape = _one_shape(inputs, rank=rank + 3)
        steps = shape[1]
        step_shape = (None, *shape[2:])
        data_format, _, channels, kernel, out_spatial = _conv_geometry(config, step_shape, rank)
        filters = _positive(config, "filters")
        # Per step: the input convolution (channels -> 4 filters) on the
        # output grid, and the recurrent one (filters -> 4 filters, same
        # kernel, "same" padding, stride 1) on that same grid.
        total_in = None if channels is None else channels + filters
        macs = _times(steps, _product(out_spatial), math.prod(kernel), 4 * filters, total_in)
        step_output = _join_channels(out_spatial, filters, data_format)
        return _sequence_outputs(config, steps, step_output, 2), macs

    return handler


# === Wrappers ===


def _inner(config, key, build_inputs, depth):
    """`(output, macs)` of a wrapped layer, built on its own build config or `build_inputs`."""
    class_name, inner_config, inner_build = _nested(config, key)
    if inner_build is None:
        inner_build = {"input_shape": list(build_inputs)}
    registered_name = config[key].get("registered_name")
    result = _analyze(class_name, inner_config, inner_build, depth + 1, registered_name)
    if result is None:
        if _is_custom(class_name, registered_name):
            return None, (0 if registered_name in _REGISTERED else None)
        return None, (0 if class_name in _ZERO_MACS else None)
    return result


def _bidirectional(config, inputs, depth):
    shape = _one_shape(inputs)
    forward_output, forward_macs = _inner(config, "layer", shape, depth)
    if config.get("backward_layer") is None:
        backward_macs = forward_macs
    else:
        _, backward_macs = _inner(config, "backward_layer", shape, depth)
    macs = None if None in (forward_macs, backward_macs) else forward_macs + backward_macs
    if forward_output is None:
        return None, macs
    _, inner_config, _ = _nested(config, "layer")
    return_state = _flag(inner_config, "return_state", False)
    states = ()
    if return_state:
        forward_output, states = forward_output[0], tuple(forward_output[1:])
    merge_mode = config.get("merge_mode", "concat")
    if merge_mode == "concat":
        last = forward_output[-1]
        forward_output = (*forward_output[:-1], None if last is None else 2 * last)
        outputs = (forward_output,)
    elif merge_mode is None:
        outputs = (forward_output, forward_output)
    else:
        _validation.check_choice("merge_mode", merge_mode, ("concat", "sum", "mul", "ave", None))
        outputs = (forward_output,)
    if return_state:
        return (*outputs, *states, *states), macs
    return (outputs if merge_mode is None else outputs[0]), macs


def _time_distributed(config, inputs, depth):
    shape = _one_shape(inputs)
    if len(shape) < 3:
        raise _validation.invalid("input_shape", "a shape of rank 3 or more", shape)
    steps = shape[1]
    inner_output, inner_macs = _inner(config, "layer", (None, *shape[2:]), depth)
    # A layer with no MACs has none at any number of steps, known or not.
    macs = inner_macs if inner_macs in (None, 0) else _times(steps, inner_macs)
    if inner_output is None or not all(_is_size(size) for size in inner_output):
        return None, macs
    return (None, steps, *inner_output[1:]), macs


# === Attention ===


def _attention_shapes(inputs):
    """`(query, value, key)` shapes of an attention layer called on a list."""
    shapes = _shape_list(inputs, count=(2, 3))
    if any(len(shape) < 3 for shape in shapes):
        raise _validation.invalid("input_shape", "shapes of rank 3 or more (batch, steps, features)", inputs)
    query, value = shapes[0], shapes[1]
    key = shapes[2] if len(shapes) == 3 else value
    return query, value, key


def _attention(config, inputs):
    query, value, key = _attention_shapes(inputs)
    positions = _product(query[1:-1])
    steps = key[-2]
    # Scores: every query position against every key position over `dim`
    # (a dot product, or for score_mode="concat" the sum of the tanh terms);
    # then the scores weight the values: positions x steps x value dim.
    macs = _times(positions, steps, query[-1])
    macs = None if macs is None else macs + _times(positions, steps, value[-1])
    return (*query[:-1], value[-1]), macs


def _multi_head_attention(config, inputs):
    if isinstance(inputs, dict):
        query = inputs.get("query_shape")
        value = inputs.get("value_shape")
        key = inputs.get("key_shape") or value
    else:
        query, value, key = _attention_shapes(inputs)
    if not all(isinstance(shape, tuple) and len(shape) >= 3 for shape in (query, value, key)):
        raise _validation.invalid(
            "shapes_dict", "query_shape and value_shape (and an optional key_shape) of rank 3 or more", inputs
        )
    heads = _positive(config, "num_heads")
    key_dim = _positive(config, "key_dim")
    value_dim = key_dim if config.get("value_dim") is None else _positive(config, "value_dim")
    output_shape = config.get("output_shape")
    if _validation.is_int(output_shape):
        output_shape = (output_shape,)
    output_shape = tuple(output_shape) if output_shape else (query[-1],)
    # Projections: each is a Dense over the last axis at every position.
    query_positions = _product(query[1:-1])
    key_positions = _product(key[1:-1])
    projections = [
        _times(query_positions, query[-1], heads, key_dim),
        _times(key_positions, key[-1], heads, key_dim),
        _times(key_positions, value[-1], heads, value_dim),
        _times(query_positions, heads, value_dim, _product(output_shape)),
    ]
    if _flag(config, "use_gate", False):
        projections.append(_times(query_positions, query[-1], heads, value_dim))
    # Attention products: the axes not attended over act as batch axes;
    # every query position on the attention axes meets every key position.
    rank = len(query)
    axes = config.get("attention_axes")
    if axes is None:
        axes = tuple(range(1, rank - 1))
    elif _validation.is_int(axes):
        axes = (axes,)
    axes = tuple(axis if axis >= 0 else rank + axis for axis in axes)
    scores = None
    if all(1 <= axis < rank - 1 for axis in axes) and len(key) == rank:
        others = [size for index, size in enumerate(query[1:-1], 1) if index not in axes]
        query_attended = _product(query[axis] for axis in axes)
        key_attended = _product(key[axis] for axis in axes)
        scores = _times(_product(others), heads, query_attended, key_attended)
    terms = [*projections, _times(scores, key_dim), _times(scores, value_dim)]
    macs = None if None in terms else sum(terms)
    return (*query[:-1], *output_shape), macs


def _grouped_query_attention(config, inputs):
    if not isinstance(inputs, dict):
        raise _validation.invalid("shapes_dict", "query_shape and value_shape", inputs)
    query, value = inputs.get("query_shape"), inputs.get("value_shape")
    key = inputs.get("key_shape") or value
    if not all(isinstance(shape, tuple) and len(shape) == 3 for shape in (query, value, key)):
        raise _validation.invalid(
            "shapes_dict", "query_shape and value_shape (and an optional key_shape) of rank 3", inputs
        )
    head_dim = _positive(config, "head_dim")
    query_heads = _positive(config, "num_query_heads")
    key_value_heads = _positive(config, "num_key_value_heads")
    query_steps, key_steps = query[1], key[1]
    # Key and value heads are repeated to the query heads before the two
    # attention products, so those run over all query heads.
    terms = [
        _times(query_steps, query[-1], query_heads, head_dim),
        _times(key_steps, key[-1], key_value_heads, head_dim),
        _times(key_steps, value[-1], key_value_heads, head_dim),
        _times(query_steps, query_heads, head_dim, query[-1]),
        _times(2, query_heads, query_steps, key_steps, head_dim),
    ]
    if _flag(config, "use_gate", False):
        terms.append(_times(query_steps, query[-1], query_heads, head_dim))
    return query, None if None in terms else sum(terms)


def _spectral_normalization(config, inputs, depth):
    # At inference the wrapped layer runs on its normalised kernel; the
    # power iteration that updates it runs in training only.
    return _inner(config, "layer", _one_shape(inputs), depth)


# === Weightless layers ===


def _same_shape(config, inputs):
    return _one_shape(inputs), 0


def _input_layer(config):
    shape = config.get("batch_shape")
    if shape is None:
        return None
    if not _validation.is_sequence(shape) or not all(_is_size(size) for size in shape):
        raise _validation.invalid("batch_shape", "a list of sizes", shape)
    return _shape(shape), 0


def _flatten(config, inputs):
    shape = _one_shape(inputs)
    return (None, _product(shape[1:])), 0


def _reshape(config, inputs):
    shape = _one_shape(inputs)
    target = config.get("target_shape")
    if not _validation.is_sequence(target) or not all(
        _validation.is_int(size) and (size > 0 or size == -1) for size in target
    ):
        raise _validation.invalid("target_shape", "a list of positive sizes and at most one -1", target)
    target = tuple(int(size) for size in target)
    if target.count(-1) > 1:
        raise _validation.invalid("target_shape", "at most one -1", list(target))
    total = _product(shape[1:])
    if total is None:
        return (None, *(None if size == -1 else size for size in target)), 0
    known = math.prod(size for size in target if size != -1)
    if (total % known if -1 in target else total != known):
        raise _validation.invalid(
            "target_shape", f"a shape with as many entries as the input {shape[1:]}", list(target)
        )
    return (None, *(total // known if size == -1 else size for size in target)), 0


def _permute(config, inputs):
    shape = _one_shape(inputs)
    dims = config.get("dims")
    if not _validation.is_sequence(dims) or sorted(dims) != list(range(1, len(shape))):
        raise _validation.invalid("dims", f"a permutation of 1 to {len(shape) - 1}", dims)
    return (None, *(shape[dim] for dim in dims)), 0


def _repeat_vector(config, inputs):
    shape = _one_shape(inputs, rank=2)
    return (None, _positive(config, "n"), shape[1]), 0


def _pairs(config, key, rank, default):
    """`config[key]` of Cropping/ZeroPadding as `rank` (before, after) pairs."""
    value = config.get(key, default)
    if _validation.is_int(value):
        return ((int(value), int(value)),) * rank
    expected = f"an integer, or {rank} (before, after) pairs of non-negative integers"
    if not _validation.is_sequence(value):
        raise _validation.invalid(key, expected, value)
    if rank == 1 and len(value) == 2 and all(_validation.is_int(item) for item in value):
        value = [value]
    if len(value) != rank:
        raise _validation.invalid(key, expected, value)
    pairs = []
    for pair in value:
        if _validation.is_int(pair):
            pair = (pair, pair)
        if not (
            _validation.is_sequence(pair)
            and len(pair) == 2
            and all(_validation.is_int(item) and item >= 0 for item in pair)
        ):
            raise _validation.invalid(key, expected, value)
        pairs.append((int(pair[0]), int(pair[1])))
    return tuple(pairs)


def _resize(rank, key, sign):
    """Cropping (sign -1) and ZeroPadding (sign +1) along each spatial axis."""

    def handler(config, inputs):
        shape = _one_shape(inputs, rank=rank + 2)
        data_format = _data_format(config) if rank > 1 else "channels_last"
        pairs = _pairs(config, key, rank, 1)
        spatial, channels = _split_channels(shape, data_format)
        out = tuple(
            None if length is None else length + sign * (before + after)
            for length, (before, after) in zip(spatial, pairs)
        )
        if any(size is not None and size <= 0 for size in out):
            raise _validation.invalid(
                key, f"croppings smaller than the input's spatial sizes {spatial}", config.get(key)
            )
        return _join_channels(out, channels, data_format), 0

    return handler


def _up_sampling(rank):
    def handler(config, inputs):
        shape = _one_shape(inputs, rank=rank + 2)
        data_format = _data_format(config) if rank > 1 else "channels_last"
        size = _int_tuple(config, "size", rank, 2)
        spatial, channels = _split_channels(shape, data_format)
        out = tuple(_times(length, factor) for length, factor in zip(spatial, size))
        return _join_channels(out, channels, data_format), 0

    return handler


def _pooling(rank):
    def handler(config, inputs):
        shape = _one_shape(inputs, rank=rank + 2)
        data_format = _data_format(config)
        spatial, channels = _split_channels(shape, data_format)
        pool = _int_tuple(config, "pool_size", rank, 2)
        strides = pool if config.get("strides") is None else _int_tuple(config, "strides", rank, None)
        padding = _choice(config, "padding", "valid", ("valid", "same"))
        out = []
        for length, size, stride in zip(spatial, pool, strides):
            if length is None:
                out.append(None)
            elif padding == "same":
                out.append((length - 1) // stride + 1)
            elif length < size:
                raise _validation.invalid(
                    "input_shape", f"spatial sizes of at least pool_size={pool}", shape
                )
            else:
                out.append((length - size) // stride + 1)
        return _join_channels(tuple(out), channels, data_format), 0

    return handler


def _global_pooling(rank):
    def handler(config, inputs):
        shape = _one_shape(inputs, rank=rank + 2)
        data_format = _data_format(config)
        _, channels = _split_channels(shape, data_format)
        if _flag(config, "keepdims", False):
            return _join_channels((1,) * rank, channels, data_format), 0
        return (None, channels), 0

    return handler


def _image_size(config, inputs):
    """Resizing and CenterCrop: the image axes become (height, width)."""
    shape = _one_shape(inputs, rank=4)
    data_format = _data_format(config)
    height, width = _positive(config, "height"), _positive(config, "width")
    _, channels = _split_channels(shape, data_format)
    return _join_channels((height, width), channels, data_format), 0


def _broadcast(shapes):
    """Keras's elementwise-merge broadcasting of shapes without the batch axis."""
    result = shapes[0]
    for shape in shapes[1:]:
        longer, shorter = (result, shape) if len(result) >= len(shape) else (shape, result)
        merged = list(longer[: len(longer) - len(shorter)])
        for a, b in zip(longer[len(longer) - len(shorter) :], shorter):
            if a is None or b is None:
                merged.append(None)
            elif a == 1 or b == 1 or a == b:
                merged.append(b if a == 1 else a)
            else:
                raise _validation.invalid(
                    "input_shape", "shapes that broadcast together", shapes
                )
        result = tuple(merged)
    return result


def _elementwise_merge(config, inputs):
    shapes = _shape_list(inputs)
    if len(shapes) < 1:
        raise _validation.invalid("input_shape", "at least one input shape", inputs)
    return (None, *_broadcast([shape[1:] for shape in shapes])), 0


def _concatenate(config, inputs):
    shapes = _shape_list(inputs)
    if not shapes or len({len(shape) for shape in shapes}) != 1:
        raise _validation.invalid("input_shape", "a list of input shapes of one rank", inputs)
    axis = config.get("axis", -1)
    if not _validation.is_int(axis):
        raise _validation.wrong_type("axis", "an integer", axis)
    output = list(shapes[0])
    if not -len(output) <= axis < len(output):
        raise _validation.invalid("axis", f"an axis of the inputs' rank {len(output)}", axis)
    sizes = [shape[axis] for shape in shapes]
    output[axis] = None if None in sizes else sum(sizes)
    return tuple(output), 0


def _dot(config, inputs):
    first, second = _shape_list(inputs, count=(2,))
    axes = config.get("axes")
    if _validation.is_int(axes):
        axes = [axes % len(first), axes % len(second)] if axes < 0 else [axes, axes]
    if not (_validation.is_sequence(axes) and len(axes) == 2 and all(map(_validation.is_int, axes))):
        raise _validation.invalid("axes", "an integer or a pair of integers", axes)
    if not all(
        len(shape) >= 2 and -len(shape) <= axis < len(shape) and axis % len(shape) >= 1
        for shape, axis in zip((first, second), axes)
    ):
        raise _validation.invalid("axes", f"an axis of each input other than the batch axis, for {first} and {second}", axes)
    contracted = first[axes[0]]
    left, right = list(first), list(second)
    left.pop(axes[0])
    right.pop(axes[1])
    right.pop(0)
    output = left + right
    if len(output) == 1:
        output.append(1)
    # One product of `contracted` terms per output element.
    return tuple(output), _times(_product(output[1:]), contracted)


# === This library's layers (keras_recipes.layers) ===


def _sampling(config, inputs):
    # Called on [z_mean, z_log_var]; z = z_mean + exp(0.5 * z_log_var) * epsilon
    # is elementwise: 0 MACs. `Sampling.compute_output_shape` is z_mean's shape.
    z_mean, _ = _shape_list(inputs, count=(2,))
    return z_mean, 0


def _feature_mean(config, inputs):
    # The mean of each sample's features: a sum, not a contraction (like
    # average pooling, 0 MACs). `FeatureMean.compute_output_shape` is (batch, 1).
    shape = _one_shape(inputs)
    if len(shape) < 2:
        raise _validation.invalid("input_shape", "a shape of rank 2 or more", shape)
    return (None, 1), 0


def _select_channels(config, inputs):
    # A gather of the listed channels of the last axis.
    shape = _one_shape(inputs)
    channels = config.get("channels")
    if not (
        _validation.is_sequence(channels)
        and channels
        and all(_validation.is_int(index) and index >= 0 for index in channels)
    ):
        raise _validation.invalid("channels", "a non-empty list of non-negative integers", channels)
    if len(shape) < 2:
        raise _validation.invalid("input_shape", "a shape of rank 2 or more", shape)
    return (*shape[:-1], len(channels)), 0


# Looked up by registered name (see `_is_custom`), as
# `_layer_configs.REGISTERED` counts their weights.
_REGISTERED = {
    "keras_recipes>Sampling": _sampling,
    "keras_recipes>FeatureMean": _feature_mean,
    "keras_recipes>SelectChannels": _select_channels,
}


# === The table of classes ===

_IDENTITY_LAYERS = (
    # Activations
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    # Normalisation: elementwise work, 0 MACs (batch normalisation folds
    # into the layer before it at inference).
    "BatchNormalization", "LayerNormalization", "GroupNormalization",
    "RMSNormalization", "UnitNormalization", "Normalization",
    # Regularisation
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianDropout", "GaussianNoise", "AlphaDropout", "ActivityRegularization",
    # Core and preprocessing; the random image augmentations keep the shape.
    "Identity", "Masking", "Rescaling", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness",
)  # fmt: skip

_HANDLERS = {
    "InputLayer": None,  # read from its config by `_analyze`
    "Dense": _dense,
    "EinsumDense": _einsum_dense,
    "Embedding": _embedding,
    "Conv1D": _conv(1),
    "Conv2D": _conv(2),
    "Conv3D": _conv(3),
    "Conv1DTranspose": _conv_transpose(1),
    "Conv2DTranspose": _conv_transpose(2),
    "Conv3DTranspose": _conv_transpose(3),
    "DepthwiseConv1D": _depthwise(1, pointwise=False),
    "DepthwiseConv2D": _depthwise(2, pointwise=False),
    "SeparableConv1D": _depthwise(1, pointwise=True),
    "SeparableConv2D": _depthwise(2, pointwise=True),
    "SimpleRNN": _recurrent("SimpleRNN"),
    "LSTM": _recurrent("LSTM"),
    "GRU": _recurrent("GRU"),
    "ConvLSTM1D": _conv_lstm(1),
    "ConvLSTM2D": _conv_lstm(2),
    "ConvLSTM3D": _conv_lstm(3),
    "Bidirectional": _bidirectional,
    "TimeDistributed": _time_distributed,
    "MultiHeadAttention": _multi_head_attention,
    # Keras exports and serializes the class `GroupedQueryAttention` as
    # `keras.layers.GroupQueryAttention`; a live layer's type has the other name.
    "GroupQueryAttention": _grouped_query_attention,
    "GroupedQueryAttention": _grouped_query_attention,
    "SpectralNormalization": _spectral_normalization,
    "Attention": _attention,
    "AdditiveAttention": _attention,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Permute": _permute,
    "RepeatVector": _repeat_vector,
    "Cropping1D": _resize(1, "cropping", -1),
    "Cropping2D": _resize(2, "cropping", -1),
    "Cropping3D": _resize(3, "cropping", -1),
    "ZeroPadding1D": _resize(1, "padding", 1),
    "ZeroPadding2D": _resize(2, "padding", 1),
    "ZeroPadding3D": _resize(3, "padding", 1),
    "UpSampling1D": _up_sampling(1),
    "UpSampling2D": _up_sampling(2),
    "UpSampling3D": _up_sampling(3),
    "Resizing": _image_size,
    "CenterCrop": _image_size,
    "Add": _elementwise_merge,
    "Subtract": _elementwise_merge,
    "Multiply": _elementwise_merge,
    "Average": _elementwise_merge,
    "Maximum": _elementwise_merge,
    "Minimum": _elementwise_merge,
    "Concatenate": _concatenate,
    "Dot": _dot,
    **{name: _same_shape for name in _IDENTITY_LAYERS},
    **{f"{kind}Pooling{rank}D": _pooling(rank) for kind in ("Max", "Average") for rank in (1, 2, 3)},
    **{
        f"Global{kind}Pooling{rank}D": _global_pooling(rank)
        for kind in ("Max", "Average")
        for rank in (1, 2, 3)
    },
}

# Classes whose MACs are 0 whatever their shapes: no contraction inside.
_ZERO_MACS = frozenset(
    name
    for name, handler in _HANDLERS.items()
    if handler in (_same_shape, _flatten, _reshape, _permute, _repeat_vector,
                   _image_size, _elementwise_merge, _concatenate, _embedding, None)
    or name.startswith(("Cropping", "ZeroPadding", "UpSampling"))
    or "Pooling" in name
)  # fmt: skip
