"""Output shapes and multiply-accumulates of Keras layers: one function per family.

Pure Python, like the rest of `param_count`: nothing here imports Keras,
TensorFlow or numpy. Each family function takes a layer's `config`
(`layer.get_config()`) and its input shapes read from its `build_config`
(`build_inputs`), and returns `(output shape, macs)`, either `None` where a
size it needs is unknown. A config or a build config that Keras itself would
refuse raises `_readers.ConfigError` (a `ValueError` and a `TypeError`)
naming the key; the readers and the limits are `_readers`'.

Which class uses which function is the table in `_rules.py`, which also
holds the MAC conventions; docs/macs.md spells out every formula.

Example:

>>> dense({"units": 3}, build_inputs({"input_shape": [None, 4]}))
((None, 3), 12)
"""

import math
import re

from keras_recipes import _validation
from keras_recipes.param_count import _readers

# === Reading shapes and configs ===


def _shape(value):
    """A shape from a build config, as a tuple with a `None` batch axis."""
    sizes = tuple(_readers.shape(value))
    return (None, *sizes[1:]) if sizes else sizes


def _shapes(value):
    """A shape, or a list of shapes (for layers called on several inputs)."""
    expected = "a shape (a list of sizes) or a list of shapes"
    if not _validation.is_sequence(value):
        raise _readers.wrong_type("input_shape", expected, value)
    if all(map(_readers.is_dim, value)):
        return _shape(value)
    # One level of lists only: no layer this module knows takes nested lists.
    if all(_validation.is_sequence(item) and all(map(_readers.is_dim, item)) for item in value):
        return [_shape(item) for item in value]
    raise _readers.invalid("input_shape", expected, value)


def build_inputs(build_config):
    """The input shape(s) of a build config, or `None` when it has none.

    A shape for `{"input_shape": shape}`, a list of shapes for a layer
    called on a list, and a dict of shapes for `{"shapes_dict": {...}}`
    (layers whose `build()` takes several arguments, like
    `MultiHeadAttention`).
    """
    if build_config is None:
        return None
    if not isinstance(build_config, dict):
        raise _readers.wrong_type("build_config", "None or a dict", build_config)
    if build_config.get("input_shape") is not None:
        return _shapes(build_config["input_shape"])
    shapes_dict = build_config.get("shapes_dict")
    if shapes_dict is None:
        return None
    if not isinstance(shapes_dict, dict):
        raise _readers.wrong_type("shapes_dict", "a dict of shapes", shapes_dict)
    return {
        name: None if shape is None else _shapes(shape)
        for name, shape in shapes_dict.items()
    }


def one_shape(inputs, rank=None):
    """The single input shape of a layer called on one tensor.

    `rank` (with the batch axis) is checked when given; `None` means any.
    """
    if isinstance(inputs, dict) and len(inputs) == 1:
        inputs = next(iter(inputs.values()))
    if not isinstance(inputs, tuple) or (rank is not None and len(inputs) != rank):
        expected = "one input shape" if rank is None else f"one input shape of rank {rank}"
        raise _readers.invalid("input_shape", expected, inputs)
    return inputs


def shape_list(inputs, count=None):
    """The input shapes of a layer called on a list of tensors."""
    if isinstance(inputs, dict):
        inputs = list(inputs.values())
    if not isinstance(inputs, list) or not all(isinstance(s, tuple) for s in inputs):
        raise _readers.invalid("input_shape", "a list of input shapes", inputs)
    if count is not None and len(inputs) not in count:
        raise _readers.invalid(
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


def times(*factors):
    """The product of several factors, or `None` when one is `None`."""
    return _product(factors)


def _data_format(config):
    return _readers.choice(config, "data_format", "channels_last", ("channels_last", "channels_first"))


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


def nested(config, key):
    """`(class_name, config, build_config)` of a layer serialized in `config[key]`."""
    layer = _readers.layer(config, key)
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
        raise _readers.invalid(
            "input_shape", f"a shape of rank {rank + 2} for a rank-{rank} convolution", shape
        )
    spatial, channels = _split_channels(shape, data_format)
    kernel = _readers.int_tuple(config, "kernel_size", rank, None)
    strides = _readers.int_tuple(config, "strides", rank, 1)
    dilation = _readers.int_tuple(config, "dilation_rate", rank, 1)
    padding = _readers.choice(config, "padding", "valid", padding_choices)
    out_spatial = tuple(
        _conv_length(length, size, stride, rate, padding)
        for length, size, stride, rate in zip(spatial, kernel, strides, dilation)
    )
    if any(size is not None and size <= 0 for size in out_spatial):
        raise _readers.invalid(
            "input_shape",
            f"spatial sizes of at least the dilated kernel {kernel} (dilation_rate="
            f"{dilation}) with padding='valid'",
            shape,
        )
    return data_format, spatial, channels, kernel, out_spatial


def conv(rank):
    def handler(config, inputs):
        shape = one_shape(inputs)
        padding_choices = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
        data_format, _, channels, kernel, out_spatial = _conv_geometry(
            config, shape, rank, padding_choices
        )
        filters = _readers.positive(config, "filters")
        groups = _readers.positive(config, "groups", 1)
        per_group = None if channels is None else channels // groups
        # Each output position of each filter sums kernel x (channels / groups)
        # products: a grouped convolution reads only its group's channels.
        macs = times(_product(out_spatial), math.prod(kernel), per_group, filters)
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


def conv_transpose(rank):
    def handler(config, inputs):
        shape = one_shape(inputs)
        data_format = _data_format(config)
        if len(shape) != rank + 2:
            raise _readers.invalid(
                "input_shape", f"a shape of rank {rank + 2} for a rank-{rank} convolution", shape
            )
        spatial, channels = _split_channels(shape, data_format)
        kernel = _readers.int_tuple(config, "kernel_size", rank, None)
        strides = _readers.int_tuple(config, "strides", rank, 1)
        dilation = _readers.int_tuple(config, "dilation_rate", rank, 1)
        padding = _readers.choice(config, "padding", "valid", ("valid", "same"))
        if config.get("output_padding") is None:
            output_padding = (None,) * rank
        else:
            output_padding = _readers.int_tuple(config, "output_padding", rank, None, minimum=0)
        filters = _readers.positive(config, "filters")
        out_spatial = tuple(
            _transpose_length(*sizes, padding, extra)
            for sizes, extra in zip(zip(spatial, kernel, strides, dilation), output_padding)
        )
        # Every input position scatters a kernel-sized window of `filters`
        # outputs, each the sum over `channels` products; taps that padding
        # crops away are counted too (the arithmetic is done, then dropped).
        macs = times(_product(spatial), math.prod(kernel), channels, filters)
        return _join_channels(out_spatial, filters, data_format), macs

    return handler


def depthwise(rank, pointwise):
    def handler(config, inputs):
        shape = one_shape(inputs)
        data_format, _, channels, kernel, out_spatial = _conv_geometry(config, shape, rank)
        multiplier = _readers.positive(config, "depth_multiplier", 1)
        depthwise_channels = times(channels, multiplier)
        positions = _product(out_spatial)
        macs = times(positions, math.prod(kernel), depthwise_channels)
        filters = depthwise_channels
        if pointwise:
            filters = _readers.positive(config, "filters")
            # The 1x1 pointwise convolution runs on the depthwise output grid.
            macs = None if macs is None else macs + positions * depthwise_channels * filters
        return _join_channels(out_spatial, filters, data_format), macs

    return handler


# === Dense, EinsumDense, Embedding ===


def dense(config, inputs):
    shape = one_shape(inputs)
    if len(shape) < 2:
        raise _readers.invalid("input_shape", "a shape of rank 2 or more", shape)
    units = _readers.positive(config, "units")
    # Only the last axis is contracted: one (in x units) product per position.
    return (*shape[:-1], units), times(_product(shape[1:]), units)


_EINSUM_FORMS = (
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), False),
    (re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$"), True),
    (re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$"), False),
)


def einsum_dense(config, inputs):
    """EinsumDense: Keras's output shape, and one MAC per combination of all index sizes."""
    shape = one_shape(inputs)
    equation = config.get("equation")
    if not isinstance(equation, str):
        raise _readers.wrong_type("equation", "an einsum equation string", equation)
    for pattern, left_elided in _EINSUM_FORMS:
        match = pattern.match(equation)
        if match:
            break
    else:
        raise _readers.invalid(
            "equation", "the form 'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...'", equation
        )
    input_spec, weight_spec, output_spec = match.groups()
    elided = len(shape) - len(input_spec)
    if elided < 0 or (elided > 0 and "..." not in equation):
        raise _readers.invalid(
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
            raise _readers.invalid(
                "output_shape", f"one size per output axis of {equation!r}", requested
            )
        sizes.setdefault(letter, output[index + offset])
    for letter in weight_spec:
        if letter not in sizes:
            raise _readers.invalid(
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
    macs = times(_product(sizes.values()), _product(batch_like))
    return tuple(output), macs


def embedding(config, inputs):
    shape = one_shape(inputs)
    return (*shape, _readers.positive(config, "output_dim")), 0


# === Recurrent layers ===

_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
_STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}


def _sequence_outputs(config, steps, step_output, states):
    """Keras's RNN output shapes: the output, then the states if returned."""
    if _readers.flag(config, "return_sequences", False):
        output = (None, steps, *step_output[1:])
    else:
        output = step_output
    if _readers.flag(config, "return_state", False):
        return (output, *([step_output] * states))
    return output


def recurrent(class_name):
    gates = _GATES[class_name]

    def handler(config, inputs):
        shape = one_shape(inputs, rank=3)
        units = _readers.positive(config, "units")
        steps, features = shape[1], shape[2]
        # Each step multiplies the input (features) and the previous state
        # (units) by the gate kernels: gates x units x (features + units).
        # GRU's reset gate, before or after the recurrent product, does not
        # change the product's size.
        macs = times(steps, gates, units, None if features is None else features + units)
        output = _sequence_outputs(config, steps, (None, units), _STATES[class_name])
        return output, macs

    return handler


def conv_lstm(rank):
    def handler(config, inputs):
        shape = one_shape(inputs, rank=rank + 3)
        steps = shape[1]
        step_shape = (None, *shape[2:])
        data_format, _, channels, kernel, out_spatial = _conv_geometry(config, step_shape, rank)
        filters = _readers.positive(config, "filters")
        # Per step: the input convolution (channels -> 4 filters) on the
        # output grid, and the recurrent one (filters -> 4 filters, same
        # kernel, "same" padding, stride 1) on that same grid.
        total_in = None if channels is None else channels + filters
        macs = times(steps, _product(out_spatial), math.prod(kernel), 4 * filters, total_in)
        step_output = _join_channels(out_spatial, filters, data_format)
        return _sequence_outputs(config, steps, step_output, 2), macs

    return handler


# === Attention ===


def _attention_shapes(inputs):
    """`(query, value, key)` shapes of an attention layer called on a list."""
    shapes = shape_list(inputs, count=(2, 3))
    if any(len(shape) < 3 for shape in shapes):
        raise _readers.invalid("input_shape", "shapes of rank 3 or more (batch, steps, features)", inputs)
    query, value = shapes[0], shapes[1]
    key = shapes[2] if len(shapes) == 3 else value
    return query, value, key


def attention(config, inputs):
    query, value, key = _attention_shapes(inputs)
    positions = _product(query[1:-1])
    steps = key[-2]
    # Scores: every query position against every key position over `dim`
    # (a dot product, or for score_mode="concat" the sum of the tanh terms);
    # then the scores weight the values: positions x steps x value dim.
    macs = times(positions, steps, query[-1])
    macs = None if macs is None else macs + times(positions, steps, value[-1])
    return (*query[:-1], value[-1]), macs


def multi_head_attention(config, inputs):
    if isinstance(inputs, dict):
        query = inputs.get("query_shape")
        value = inputs.get("value_shape")
        key = inputs.get("key_shape") or value
    else:
        query, value, key = _attention_shapes(inputs)
    if not all(isinstance(shape, tuple) and len(shape) >= 3 for shape in (query, value, key)):
        raise _readers.invalid(
            "shapes_dict", "query_shape and value_shape (and an optional key_shape) of rank 3 or more", inputs
        )
    heads = _readers.positive(config, "num_heads")
    key_dim = _readers.positive(config, "key_dim")
    value_dim = key_dim if config.get("value_dim") is None else _readers.positive(config, "value_dim")
    output_shape = config.get("output_shape")
    if _validation.is_int(output_shape):
        output_shape = (output_shape,)
    output_shape = tuple(output_shape) if output_shape else (query[-1],)
    # Projections: each is a Dense over the last axis at every position.
    query_positions = _product(query[1:-1])
    key_positions = _product(key[1:-1])
    projections = [
        times(query_positions, query[-1], heads, key_dim),
        times(key_positions, key[-1], heads, key_dim),
        times(key_positions, value[-1], heads, value_dim),
        times(query_positions, heads, value_dim, _product(output_shape)),
    ]
    if _readers.flag(config, "use_gate", False):
        projections.append(times(query_positions, query[-1], heads, value_dim))
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
        scores = times(_product(others), heads, query_attended, key_attended)
    terms = [*projections, times(scores, key_dim), times(scores, value_dim)]
    macs = None if None in terms else sum(terms)
    return (*query[:-1], *output_shape), macs


def grouped_query_attention(config, inputs):
    if not isinstance(inputs, dict):
        raise _readers.invalid("shapes_dict", "query_shape and value_shape", inputs)
    query, value = inputs.get("query_shape"), inputs.get("value_shape")
    key = inputs.get("key_shape") or value
    if not all(isinstance(shape, tuple) and len(shape) == 3 for shape in (query, value, key)):
        raise _readers.invalid(
            "shapes_dict", "query_shape and value_shape (and an optional key_shape) of rank 3", inputs
        )
    head_dim = _readers.positive(config, "head_dim")
    query_heads = _readers.positive(config, "num_query_heads")
    key_value_heads = _readers.positive(config, "num_key_value_heads")
    query_steps, key_steps = query[1], key[1]
    # Key and value heads are repeated to the query heads before the two
    # attention products, so those run over all query heads.
    terms = [
        times(query_steps, query[-1], query_heads, head_dim),
        times(key_steps, key[-1], key_value_heads, head_dim),
        times(key_steps, value[-1], key_value_heads, head_dim),
        times(query_steps, query_heads, head_dim, query[-1]),
        times(2, query_heads, query_steps, key_steps, head_dim),
    ]
    if _readers.flag(config, "use_gate", False):
        terms.append(times(query_steps, query[-1], query_heads, head_dim))
    return query, None if None in terms else sum(terms)


# === Weightless layers ===


def same_shape(config, inputs):
    return one_shape(inputs), 0


def input_layer(config):
    shape = config.get("batch_shape")
    if shape is None:
        return None
    if not _validation.is_sequence(shape) or not all(_readers.is_dim(size) for size in shape):
        raise _readers.invalid("batch_shape", "a list of sizes", shape)
    return _shape(shape), 0


def flatten(config, inputs):
    shape = one_shape(inputs)
    return (None, _product(shape[1:])), 0


def reshape(config, inputs):
    shape = one_shape(inputs)
    target = config.get("target_shape")
    if not _validation.is_sequence(target) or not all(
        _validation.is_int(size) and (size > 0 or size == -1) for size in target
    ):
        raise _readers.invalid("target_shape", "a list of positive sizes and at most one -1", target)
    target = tuple(int(size) for size in target)
    if target.count(-1) > 1:
        raise _readers.invalid("target_shape", "at most one -1", list(target))
    total = _product(shape[1:])
    if total is None:
        return (None, *(None if size == -1 else size for size in target)), 0
    known = math.prod(size for size in target if size != -1)
    if (total % known if -1 in target else total != known):
        raise _readers.invalid(
            "target_shape", f"a shape with as many entries as the input {shape[1:]}", list(target)
        )
    return (None, *(total // known if size == -1 else size for size in target)), 0


def permute(config, inputs):
    shape = one_shape(inputs)
    dims = config.get("dims")
    if not _validation.is_sequence(dims) or sorted(dims) != list(range(1, len(shape))):
        raise _readers.invalid("dims", f"a permutation of 1 to {len(shape) - 1}", dims)
    return (None, *(shape[dim] for dim in dims)), 0


def repeat_vector(config, inputs):
    shape = one_shape(inputs, rank=2)
    return (None, _readers.positive(config, "n"), shape[1]), 0


def _pairs(config, key, rank, default):
    """`config[key]` of Cropping/ZeroPadding as `rank` (before, after) pairs."""
    value = config.get(key, default)
    if _validation.is_int(value):
        size = _readers.non_negative(config, key, default)
        return ((size, size),) * rank
    expected = f"an integer, or {rank} (before, after) pairs of non-negative integers"
    if not _validation.is_sequence(value):
        raise _readers.invalid(key, expected, value)
    if rank == 1 and len(value) == 2 and all(_validation.is_int(item) for item in value):
        value = [value]
    if len(value) != rank:
        raise _readers.invalid(key, expected, value)
    pairs = []
    for pair in value:
        if _validation.is_int(pair):
            pair = (pair, pair)
        if not (
            _validation.is_sequence(pair)
            and len(pair) == 2
            and all(map(_readers.is_count, pair))
        ):
            raise _readers.invalid(key, expected, value)
        pairs.append((int(pair[0]), int(pair[1])))
    return tuple(pairs)


def resize(rank, key, sign):
    """Cropping (sign -1) and ZeroPadding (sign +1) along each spatial axis."""

    def handler(config, inputs):
        shape = one_shape(inputs, rank=rank + 2)
        data_format = _data_format(config) if rank > 1 else "channels_last"
        pairs = _pairs(config, key, rank, 1)
        spatial, channels = _split_channels(shape, data_format)
        out = tuple(
            None if length is None else length + sign * (before + after)
            for length, (before, after) in zip(spatial, pairs)
        )
        if any(size is not None and size <= 0 for size in out):
            raise _readers.invalid(
                key, f"croppings smaller than the input's spatial sizes {spatial}", config.get(key)
            )
        return _join_channels(out, channels, data_format), 0

    return handler


def up_sampling(rank):
    def handler(config, inputs):
        shape = one_shape(inputs, rank=rank + 2)
        data_format = _data_format(config) if rank > 1 else "channels_last"
        size = _readers.int_tuple(config, "size", rank, 2)
        spatial, channels = _split_channels(shape, data_format)
        out = tuple(times(length, factor) for length, factor in zip(spatial, size))
        return _join_channels(out, channels, data_format), 0

    return handler


def pooling(rank):
    def handler(config, inputs):
        shape = one_shape(inputs, rank=rank + 2)
        data_format = _data_format(config)
        spatial, channels = _split_channels(shape, data_format)
        pool = _readers.int_tuple(config, "pool_size", rank, 2)
        strides = pool if config.get("strides") is None else _readers.int_tuple(config, "strides", rank, None)
        padding = _readers.choice(config, "padding", "valid", ("valid", "same"))
        out = []
        for length, size, stride in zip(spatial, pool, strides):
            if length is None:
                out.append(None)
            elif padding == "same":
                out.append((length - 1) // stride + 1)
            elif length < size:
                raise _readers.invalid(
                    "input_shape", f"spatial sizes of at least pool_size={pool}", shape
                )
            else:
                out.append((length - size) // stride + 1)
        return _join_channels(tuple(out), channels, data_format), 0

    return handler


def global_pooling(rank):
    def handler(config, inputs):
        shape = one_shape(inputs, rank=rank + 2)
        data_format = _data_format(config)
        _, channels = _split_channels(shape, data_format)
        if _readers.flag(config, "keepdims", False):
            return _join_channels((1,) * rank, channels, data_format), 0
        return (None, channels), 0

    return handler


def image_size(config, inputs):
    """Resizing and CenterCrop: the image axes become (height, width)."""
    shape = one_shape(inputs, rank=4)
    data_format = _data_format(config)
    height, width = _readers.positive(config, "height"), _readers.positive(config, "width")
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
                raise _readers.invalid(
                    "input_shape", "shapes that broadcast together", shapes
                )
        result = tuple(merged)
    return result


def elementwise_merge(config, inputs):
    shapes = shape_list(inputs)
    if len(shapes) < 1:
        raise _readers.invalid("input_shape", "at least one input shape", inputs)
    return (None, *_broadcast([shape[1:] for shape in shapes])), 0


def concatenate(config, inputs):
    shapes = shape_list(inputs)
    if not shapes or len({len(shape) for shape in shapes}) != 1:
        raise _readers.invalid("input_shape", "a list of input shapes of one rank", inputs)
    axis = config.get("axis", -1)
    if not _validation.is_int(axis):
        raise _readers.wrong_type("axis", "an integer", axis)
    output = list(shapes[0])
    if not -len(output) <= axis < len(output):
        raise _readers.invalid("axis", f"an axis of the inputs' rank {len(output)}", axis)
    sizes = [shape[axis] for shape in shapes]
    output[axis] = None if None in sizes else sum(sizes)
    return tuple(output), 0


def dot(config, inputs):
    first, second = shape_list(inputs, count=(2,))
    axes = config.get("axes")
    if _validation.is_int(axes):
        axes = [axes % len(first), axes % len(second)] if axes < 0 else [axes, axes]
    if not (_validation.is_sequence(axes) and len(axes) == 2 and all(map(_validation.is_int, axes))):
        raise _readers.invalid("axes", "an integer or a pair of integers", axes)
    if not all(
        len(shape) >= 2 and -len(shape) <= axis < len(shape) and axis % len(shape) >= 1
        for shape, axis in zip((first, second), axes)
    ):
        raise _readers.invalid("axes", f"an axis of each input other than the batch axis, for {first} and {second}", axes)
    contracted = first[axes[0]]
    left, right = list(first), list(second)
    left.pop(axes[0])
    right.pop(axes[1])
    right.pop(0)
    output = left + right
    if len(output) == 1:
        output.append(1)
    # One product of `contracted` terms per output element.
    return tuple(output), times(_product(output[1:]), contracted)
