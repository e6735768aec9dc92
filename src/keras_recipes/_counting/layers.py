"""Parameter counts of single Keras layers, from their sizes alone.

Each function mirrors one Keras 3 layer: its arguments are the layer's
constructor arguments that change the weight shapes, plus the size of the
input axis the layer reads, and its defaults are Keras's. The shapes in the
comments are the ones the layer's `build()` creates (Keras 3.15).
"""

import math

from keras_recipes import _validation
from keras_recipes._counting.record import ParamCount


def _kernel_size(kernel_size, rank, max_rank=3):
    """Normalise `kernel_size` (an int or a tuple) to a tuple of `rank` ints.

    `rank=None` takes the rank from a tuple, and 2 for an int, which is what
    the Conv2D family (the common case) would build. `max_rank` is the
    highest rank Keras has the layer for.
    """
    ranks = "1 or 2" if max_rank == 2 else "1, 2 or 3"
    if rank is not None:
        rank = _validation.check_positive_int("rank", rank)
        if rank > max_rank:
            raise _validation.invalid("rank", ranks, rank)
    if _validation.is_int(kernel_size):
        size = _validation.check_positive_int("kernel_size", kernel_size)
        return (size,) * (2 if rank is None else rank)
    expected = f"a positive integer or a tuple of 1 to {max_rank} positive integers"
    if not _validation.is_sequence(kernel_size):
        raise _validation.wrong_type("kernel_size", expected, kernel_size)
    if not 1 <= len(kernel_size) <= max_rank:
        raise _validation.invalid("kernel_size", expected, kernel_size)
    sizes = tuple(
        _validation.check_positive_int("kernel_size", size) for size in kernel_size
    )
    if rank is not None and len(sizes) != rank:
        raise _validation.invalid(
            "kernel_size",
            f"a tuple of {rank} integers, one per spatial axis of a rank-{rank} "
            "convolution",
            kernel_size,
        )
    return sizes


def _bias(units, use_bias):
    return units if _validation.check_boolean("use_bias", use_bias) else 0


def dense_weights(input_dim, units, use_bias=True):
    """Weights of a Dense layer for sizes already checked: a plain `int`.

    The recipe counts add up many Dense layers; they call this after checking
    all sizes once, instead of building a `ParamCount` per layer.
    """
    return input_dim * units + (units if use_bias else 0)


def dense(input_dim, units, *, use_bias=True):
    """Parameters of `keras.layers.Dense(units, use_bias=use_bias)`.

    Only the last input axis enters: a Dense layer on `(batch, time, input_dim)`
    has the same weights as on `(batch, input_dim)`.

    Args:
        input_dim: size of the last axis of the input.
        units: output width.
        use_bias: whether the layer has a bias. Defaults to `True`.

    Returns:
        A `ParamCount`: kernel `(input_dim, units)` plus bias `(units,)`.

    Example:

    >>> dense(2, 3).total
    9
    """
    input_dim = _validation.check_positive_int("input_dim", input_dim)
    units = _validation.check_positive_int("units", units)
    return ParamCount(dense_weights(input_dim, units, _validation.check_boolean("use_bias", use_bias)))


def embedding(input_dim, output_dim):
    """Parameters of `keras.layers.Embedding(input_dim, output_dim)`.

    The sequence length does not enter: the table is `(input_dim, output_dim)`.

    Example:

    >>> embedding(1000, 64).total
    64000
    """
    input_dim = _validation.check_positive_int("input_dim", input_dim)
    output_dim = _validation.check_positive_int("output_dim", output_dim)
    return ParamCount(input_dim * output_dim)


def conv(in_channels, filters, kernel_size, *, rank=None, groups=1, use_bias=True):
    """Parameters of `keras.layers.Conv1D`, `Conv2D` or `Conv3D`.

    Args:
        in_channels: channels of the input (the last axis with
            `channels_last`).
        filters: output channels.
        kernel_size: an int, or a tuple with one size per spatial axis.
        rank: 1, 2 or 3 for Conv1D/2D/3D. Defaults to `None`: the length of
            `kernel_size` when it is a tuple, else 2.
        groups: number of groups; it must divide `in_channels` and `filters`,
            as Keras requires. Defaults to `1`.
        use_bias: whether the layer has a bias. Defaults to `True`.

    Returns:
        A `ParamCount`: kernel `kernel_size + (in_channels // groups, filters)`
        plus bias `(filters,)`.

    Example:

    >>> conv(3, 32, 3).total  # Conv2D(32, 3) on RGB input
    896
    >>> conv(8, 8, 3, rank=1, groups=4).total
    56
    """
    in_channels = _validation.check_positive_int("in_channels", in_channels)
    filters = _validation.check_positive_int("filters", filters)
    sizes = _kernel_size(kernel_size, rank)
    groups = _validation.check_positive_int("groups", groups)
    if in_channels % groups or filters % groups:
        raise _validation.invalid(
            "groups",
            f"a divisor of both in_channels={in_channels} and filters={filters}",
            groups,
        )
    kernel = math.prod(sizes) * (in_channels // groups) * filters
    return ParamCount(kernel + _bias(filters, use_bias))


def conv_transpose(in_channels, filters, kernel_size, *, rank=None, use_bias=True):
    """Parameters of `keras.layers.Conv1DTranspose`, `Conv2DTranspose` or `Conv3DTranspose`.

    Keras's transposed convolutions have no `groups`, and store the kernel as
    `kernel_size + (filters, in_channels)`: the same size as a convolution's.

    Example:

    >>> conv_transpose(64, 32, 3).total
    18464
    """
    in_channels = _validation.check_positive_int("in_channels", in_channels)
    filters = _validation.check_positive_int("filters", filters)
    sizes = _kernel_size(kernel_size, rank)
    return ParamCount(math.prod(sizes) * filters * in_channels + _bias(filters, use_bias))


def depthwise_conv(in_channels, kernel_size, *, rank=None, depth_multiplier=1, use_bias=True):
    """Parameters of `keras.layers.DepthwiseConv1D` or `DepthwiseConv2D`.

    Returns:
        A `ParamCount`: kernel `kernel_size + (in_channels, depth_multiplier)`
        plus bias `(in_channels * depth_multiplier,)`.

    Example:

    >>> depthwise_conv(16, 3).total
    160
    """
    in_channels = _validation.check_positive_int("in_channels", in_channels)
    sizes = _kernel_size(kernel_size, rank, max_rank=2)
    depth_multiplier = _validation.check_positive_int("depth_multiplier", depth_multiplier)
    outputs = in_channels * depth_multiplier
    return ParamCount(math.prod(sizes) * outputs + _bias(outputs, use_bias))


def separable_conv(
    in_channels, filters, kernel_size, *, rank=None, depth_multiplier=1, use_bias=True
):
    """Parameters of `keras.layers.SeparableConv1D` or `SeparableConv2D`.

    Returns:
        A `ParamCount`: depthwise kernel `kernel_size + (in_channels,
        depth_multiplier)`, pointwise kernel `(1, ...) + (in_channels *
        depth_multiplier, filters)`, and a bias `(filters,)` on the pointwise
        part only.

    Example:

    >>> separable_conv(16, 32, 3).total
    688
    """
    in_channels = _validation.check_positive_int("in_channels", in_channels)
    filters = _validation.check_positive_int("filters", filters)
    sizes = _kernel_size(kernel_size, rank, max_rank=2)
    depth_multiplier = _validation.check_positive_int("depth_multiplier", depth_multiplier)
    depthwise = math.prod(sizes) * in_channels * depth_multiplier
    pointwise = in_channels * depth_multiplier * filters
    return ParamCount(depthwise + pointwise + _bias(filters, use_bias))


def _recurrent(input_dim, units, gates, use_bias, bias_copies=1):
    input_dim = _validation.check_positive_int("input_dim", input_dim)
    units = _validation.check_positive_int("units", units)
    kernels = gates * units * (input_dim + units)
    return ParamCount(kernels + _bias(bias_copies * gates * units, use_bias))


def simple_rnn(input_dim, units, *, use_bias=True):
    """Parameters of `keras.layers.SimpleRNN(units)` on `input_dim` features.

    Returns:
        A `ParamCount`: kernel `(input_dim, units)`, recurrent kernel
        `(units, units)`, bias `(units,)`.

    Example:

    >>> simple_rnn(4, 5).total
    50
    """
    return _recurrent(input_dim, units, 1, use_bias)


def lstm(input_dim, units, *, use_bias=True):
    """Parameters of `keras.layers.LSTM(units)` on `input_dim` features.

    Keras keeps one bias of `4 * units` (PyTorch and cuDNN keep two).

    Example:

    >>> lstm(4, 5).total
    200
    """
    return _recurrent(input_dim, units, 4, use_bias)


def gru(input_dim, units, *, use_bias=True, reset_after=True):
    """Parameters of `keras.layers.GRU(units, reset_after=reset_after)`.

    With `reset_after=True` (Keras's default) the bias has shape
    `(2, 3 * units)`, separate input and recurrent biases; with `False` it is
    `(3 * units,)`.

    Example:

    >>> gru(4, 5).total
    165
    >>> gru(4, 5, reset_after=False).total
    150
    """
    copies = 2 if _validation.check_boolean("reset_after", reset_after) else 1
    return _recurrent(input_dim, units, 3, use_bias, bias_copies=copies)


def conv_lstm(in_channels, filters, kernel_size, *, rank=None, use_bias=True):
    """Parameters of `keras.layers.ConvLSTM1D`, `ConvLSTM2D` or `ConvLSTM3D`.

    The recurrent kernel has the full `kernel_size`, not 1x1:
    kernel `kernel_size + (in_channels, 4 * filters)`, recurrent kernel
    `kernel_size + (filters, 4 * filters)`, bias `(4 * filters,)`.

    Example:

    >>> conv_lstm(1, 2, 3).total
    224
    """
    in_channels = _validation.check_positive_int("in_channels", in_channels)
    filters = _validation.check_positive_int("filters", filters)
    sizes = _kernel_size(kernel_size, rank)
    kernels = math.prod(sizes) * 4 * filters * (in_channels + filters)
    return ParamCount(kernels + _bias(4 * filters, use_bias))


def bidirectional(forward, backward=None):
    """Parameters of `keras.layers.Bidirectional(layer, backward_layer=backward)`.

    Keras rebuilds the forward direction from the wrapped layer's config, so
    it never shares weights with the layer passed in; without a
    `backward_layer`, the backward direction is another such copy. A
    `backward_layer` that is passed is used as it is: if the model also calls
    that layer elsewhere, its weights count once, there.

    Args:
        forward: the `ParamCount` of the wrapped recurrent layer.
        backward: the `ParamCount` of `backward_layer`, when one is given.
            Defaults to `None`: a copy of the forward layer.

    Example:

    >>> bidirectional(lstm(4, 5)).total
    400
    """
    if not isinstance(forward, ParamCount):
        raise _validation.wrong_type("forward", "a ParamCount", forward)
    if backward is None:
        backward = forward
    elif not isinstance(backward, ParamCount):
        raise _validation.wrong_type("backward", "None or a ParamCount", backward)
    return forward + backward


def batch_norm(channels, *, center=True, scale=True, renorm=False):
    """Parameters of `keras.layers.BatchNormalization` over `channels` features.

    The moving mean and variance are weights too, but non-trainable, so a
    batch normalisation has `4 * channels` parameters of which `2 * channels`
    are non-trainable (PyTorch tools report only the trainable half).

    Args:
        channels: size of the normalised axis.
        center: whether there is a trainable offset `beta`. Defaults to `True`.
        scale: whether there is a trainable scale `gamma`. Defaults to `True`.
        renorm: batch renormalisation, which adds three more non-trainable
            vectors. Defaults to `False`.

    Example:

    >>> batch_norm(64)
    ParamCount(trainable=128, non_trainable=128)
    """
    channels = _validation.check_positive_int("channels", channels)
    affine = int(_validation.check_boolean("center", center)) + int(
        _validation.check_boolean("scale", scale)
    )
    statistics = 5 if _validation.check_boolean("renorm", renorm) else 2
    return ParamCount(affine * channels, statistics * channels)


def layer_norm(shape, *, center=True, scale=True):
    """Parameters of `keras.layers.LayerNormalization`.

    Args:
        shape: the size of the normalised axis, or a tuple of the sizes of all
            normalised axes (for `axis=[1, 2, 3]` on images, `(H, W, C)`).
        center: whether there is an offset `beta`. Defaults to `True`.
        scale: whether there is a scale `gamma`. Defaults to `True`.

    Example:

    >>> layer_norm(16).total
    32
    >>> layer_norm((4, 4, 3)).total
    96
    """
    expected = "a positive integer or a non-empty tuple of them"
    if _validation.is_int(shape):
        size = _validation.check_positive_int("shape", shape)
    elif not _validation.is_sequence(shape):
        raise _validation.wrong_type("shape", expected, shape)
    elif not shape:
        raise _validation.invalid("shape", expected, shape)
    else:
        size = math.prod(_validation.check_positive_int("shape", axis) for axis in shape)
    affine = int(_validation.check_boolean("center", center)) + int(
        _validation.check_boolean("scale", scale)
    )
    return ParamCount(affine * size)


def group_norm(channels, *, groups=32, center=True, scale=True):
    """Parameters of `keras.layers.GroupNormalization(groups)`.

    The count does not depend on `groups` (`gamma` and `beta` are per
    channel); `groups` is only checked, as Keras does: it must divide
    `channels`, and `-1` means one group per channel.

    Example:

    >>> group_norm(64, groups=8).total
    128
    """
    channels = _validation.check_positive_int("channels", channels)
    if not (_validation.is_int(groups) and groups == -1):
        groups = _validation.check_positive_int("groups", groups)
        if channels % groups:
            raise _validation.invalid(
                "groups", f"-1 or a divisor of channels={channels}", groups
            )
    affine = int(_validation.check_boolean("center", center)) + int(
        _validation.check_boolean("scale", scale)
    )
    return ParamCount(affine * channels)

