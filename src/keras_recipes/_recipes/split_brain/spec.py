"""The split-brain autoencoder's spec: architectures, argument checks and count, in pure Python.

Shared by the builder (`builder.py`), the model class (`layers.py`) and
`param_count.split_brain_ae`, so that all read one table of layers and
accept the same arguments. No Keras and no numpy here:
`keras_recipes.param_count` must import neither.
"""

from typing import NamedTuple

from keras_recipes import _validation
from keras_recipes._counting.record import ZERO
from keras_recipes._counting.layers import batch_norm, conv

ARCHITECTURES = ("alexnet", "small")
LOSSES = ("classification", "regression")

# Layers whose output `split_brain_features` can tap, in network order. Each
# "convN"/"fcN" feature is the layer's output after normalisation and ReLU
# (Caffe's in-place blob of that name), each "poolN" the pooling's output.
FEATURE_LAYERS = (
    "conv1",
    "pool1",
    "conv2",
    "pool2",
    "conv3",
    "conv4",
    "conv5",
    "pool5",
    "fc6",
    "fc7",
)

# Number of bins of `keras_recipes.color.ab_bin_centers()`; tests/test_color.py
# checks the two agree (that module needs Keras, this one must not).
NUM_DEFAULT_AB_BINS = 261



class LayerSpec(NamedTuple):
    """One layer of a tower; `filters` is `None` for a max pooling."""

    name: str
    kernel: int
    stride: int
    dilation: int
    filters: int | None


class HeadArguments(NamedTuple):
    """The checked arguments that decide the heads and their targets."""

    channel_groups: tuple
    losses: tuple
    num_l_bins: int
    ab_bin_centers: tuple | None


class SplitBrainArguments(NamedTuple):
    """The size and loss arguments of `split_brain_ae()`, checked and normalised.

    `losses` is a pair, one per direction (x2 from x1, then x1 from x2);
    `ab_bin_centers` is `None` or a tuple of `(a, b)` float pairs.
    """

    input_shape: tuple
    channel_groups: tuple
    losses: tuple
    num_l_bins: int
    ab_bin_centers: tuple | None
    architecture: str
    width_multiplier: float


# One row per layer of the UNSPLIT network: (name, kernel, stride, dilation,
# filters); filters is None for a 3x3 max pooling. Every tower is this
# network with each width halved (times `width_multiplier`).
#
# "alexnet" is the paper's pre-training network (Table 6 of arXiv:1611.09842
# v3, with the padding of the authors' colorization prototxt): `same` padding
# gives 180 -> 45 -> 23 -> 23 -> 12, and then 12 to the end: pool5 has stride
# 1 and fc6 is a 6x6 convolution with dilation 2, the "a trous" form of the
# evaluation network's fc6 on a stride-2 pool5.
_LAYERS = {
    "alexnet": (
        LayerSpec("conv1", 11, 4, 1, 96),
        LayerSpec("pool1", 3, 2, 1, None),
        LayerSpec("conv2", 5, 1, 1, 256),
        LayerSpec("pool2", 3, 2, 1, None),
        LayerSpec("conv3", 3, 1, 1, 384),
        LayerSpec("conv4", 3, 1, 1, 384),
        LayerSpec("conv5", 3, 1, 1, 256),
        LayerSpec("pool5", 3, 1, 1, None),
        LayerSpec("fc6", 6, 1, 2, 4096),
        LayerSpec("fc7", 1, 1, 1, 4096),
    ),
    # For 32x32 and 64x64 inputs: the same ten layers, the same widths up to
    # conv5, 3x3 kernels, a total stride of 4 (32 -> 8x8 targets) instead of
    # AlexNet's 15, and fc6/fc7 at 1024 (512 per tower).
    "small": (
        LayerSpec("conv1", 3, 1, 1, 96),
        LayerSpec("pool1", 3, 2, 1, None),
        LayerSpec("conv2", 3, 1, 1, 256),
        LayerSpec("pool2", 3, 2, 1, None),
        LayerSpec("conv3", 3, 1, 1, 384),
        LayerSpec("conv4", 3, 1, 1, 384),
        LayerSpec("conv5", 3, 1, 1, 256),
        LayerSpec("pool5", 3, 1, 1, None),
        LayerSpec("fc6", 3, 1, 1, 1024),
        LayerSpec("fc7", 1, 1, 1, 1024),
    ),
}


def unsplit_layers(architecture):
    """The rows of the unsplit, full-width network: `(name, kernel, stride, dilation, filters)`."""
    return _LAYERS[architecture]


def tower_layers(architecture, width_multiplier):
    """The rows of one tower: the unsplit network at half width, times `width_multiplier`.

    A width is `round(filters / 2 * width_multiplier)`, at least 1; at
    `width_multiplier=1.0` every tower width is exactly half the unsplit one,
    so the two towers hold half the unsplit network's kernel weights.
    """
    rows = []
    for name, kernel, stride, dilation, filters in _LAYERS[architecture]:
        if filters is not None:
            filters = max(1, round(filters / 2 * width_multiplier))
        rows.append(LayerSpec(name, kernel, stride, dilation, filters))
    return tuple(rows)


def head_size(size, architecture):
    """Side of the predictions for an input side `size`: `same` padding divides by each stride, rounding up."""
    for _, _, stride, _, _ in _LAYERS[architecture]:
        size = -(-size // stride)
    return size


# The square input side each architecture is made for: the paper's 180
# (180 -> 12x12 predictions) for AlexNet, 32 (-> 8x8) for the small network.
NATIVE_IMAGE_SIZES = {"alexnet": 180, "small": 32}


def image_side_fits(side, architecture):
    """Whether an input side suits `architecture`: the head's side divides it, and is at least 2.

    The targets are the mean of exact blocks of input pixels (the paper's
    15x15 blocks for 180 -> 12), so the prediction side must divide the
    input side; a 1x1 head would predict one colour per image.

    Example:

    >>> image_side_fits(180, "alexnet"), image_side_fits(32, "small"), image_side_fits(30, "small")
    (True, True, False)
    """
    head = head_size(side, architecture)
    return head >= 2 and side % head == 0


def image_side_expected(side, architecture):
    """What `check_image_side` expects, with the fitting sides nearest `side`, for messages."""
    fitting = [s for s in range(max(1, side - 40), side + 41) if image_side_fits(s, architecture)]
    nearest = sorted(sorted(fitting, key=lambda s: abs(s - side))[:4])
    rule = "multiples of 4" if architecture == "small" else "e.g. 180"
    return (
        f"an image side that the {architecture} network's prediction side divides "
        f"evenly ({rule}; near {side}: {', '.join(map(str, nearest)) or 'none'})"
    )


def check_image_side(argument, side, architecture):
    """Refuses an image side that does not fit (`image_side_fits`) with a `ValueError` naming `argument`.

    Returns:
        `side`.
    """
    if not image_side_fits(side, architecture):
        raise _validation.invalid(argument, image_side_expected(side, architecture), side)
    return side


def _input_shape(value):
    expected = "a tuple (height, width, channels) of positive integers, channels >= 2"
    if not _validation.is_sequence(value):
        raise _validation.wrong_type("input_shape", expected, value)
    if len(value) != 3:
        raise _validation.invalid("input_shape", expected, value)
    for item in value:
        if not _validation.is_int(item):
            raise _validation.wrong_type("input_shape", expected, value)
        if item < 1:
            raise _validation.invalid("input_shape", expected, value)
    if value[2] < 2:
        raise _validation.invalid(
            "input_shape",
            expected,
            value,
            "Split-brain needs two channel groups, so at least two channels",
        )
    return _validation.check_sample_size("input_shape", value, tuple(map(int, value)))


def _channel_groups(value, channels):
    expected = (
        f"two non-empty, disjoint tuples of channel indices in [0, {channels}), "
        "such as ((0,), (1, 2)) for L | ab"
    )
    if not _validation.is_sequence(value):
        raise _validation.wrong_type("channel_groups", expected, value)
    if len(value) != 2:
        raise _validation.invalid("channel_groups", expected, value)
    groups = []
    for group in value:
        if not _validation.is_sequence(group):
            raise _validation.wrong_type("channel_groups", expected, value)
        if not group or len(set(group)) != len(group):
            raise _validation.invalid("channel_groups", expected, value)
        for index in group:
            if not _validation.is_int(index):
                raise _validation.wrong_type("channel_groups", expected, value)
            if not 0 <= index < channels:
                raise _validation.invalid("channel_groups", expected, value)
        groups.append(tuple(map(int, group)))
    if set(groups[0]) & set(groups[1]):
        raise _validation.invalid(
            "channel_groups",
            expected,
            value,
            "A channel in both groups would let each tower see part of its "
            "own target",
        )
    return tuple(groups)


def _losses(value, argument):
    expected = f"one of {list(LOSSES)}, or a pair of them (one per direction)"
    pair = value if _validation.is_sequence(value) else (value, value)
    if len(pair) != 2:
        raise _validation.invalid(argument, expected, value)
    for item in pair:
        if not isinstance(item, str):
            raise _validation.wrong_type(argument, expected, value)
        if item not in LOSSES:
            raise _validation.invalid(argument, expected, value)
    return tuple(pair)


def _bin_centers(value):
    """Check `ab_bin_centers` (None, or rows of two finite numbers); return a tuple of pairs."""
    if value is None:
        return None
    expected = "None or an array of shape (num_bins, 2), num_bins >= 2, of distinct finite (a, b) centres"
    try:
        rows = [tuple(float(number) for number in row) for row in value]
    except (TypeError, ValueError):
        raise _validation.wrong_type("ab_bin_centers", expected, value) from None
    except OverflowError:
        # A number no float holds (10**400): not finite, as far as a float32 model goes.
        raise _validation.invalid("ab_bin_centers", expected, value) from None
    if (
        len(rows) < 2
        or any(len(row) != 2 or not all(map(_validation.is_float32, row)) for row in rows)
        or len(set(rows)) != len(rows)
    ):
        raise _validation.invalid("ab_bin_centers", expected, value)
    return tuple(rows)


def check_head_arguments(
    channels, channel_groups, loss, num_l_bins, ab_bin_centers, *, loss_name="loss"
):
    """Check what decides the heads and their targets, for an input of `channels` channels.

    The builder's checks of these arguments, which
    `SplitBrainAutoencoder.from_config` runs too on a saved file's config,
    where `loss` is the key `losses` (`loss_name`, for the messages).

    Returns:
        A `HeadArguments`, normalised as `check_arguments()` returns them.
    """
    channel_groups = _channel_groups(channel_groups, channels)
    losses = _losses(loss, loss_name)
    num_l_bins = _validation.check_bin_count("num_l_bins", num_l_bins)
    ab_bin_centers = _bin_centers(ab_bin_centers)
    lab_split = channels == 3 and set(channel_groups) == {(0,), (1, 2)}
    if "classification" in losses and not lab_split:
        raise _validation.invalid(
            loss_name,
            "'regression' for channel groups other than L | ab",
            loss,
            "The classification loss quantises L and ab, so it needs a Lab "
            "input (3 channels) split as ((0,), (1, 2)) or ((1, 2), (0,)); "
            f"received channel_groups={channel_groups}",
        )
    return HeadArguments(channel_groups, losses, num_l_bins, ab_bin_centers)


def check_arguments(
    input_shape,
    channel_groups,
    loss,
    num_l_bins,
    ab_bin_centers,
    architecture,
    width_multiplier,
):
    """Check the size and loss arguments of `split_brain_ae()`; return them normalised.

    Returns:
        A `SplitBrainArguments`.
    """
    input_shape = _input_shape(input_shape)
    channel_groups, losses, num_l_bins, ab_bin_centers = check_head_arguments(
        input_shape[2], channel_groups, loss, num_l_bins, ab_bin_centers
    )
    architecture = _validation.check_choice("architecture", architecture, ARCHITECTURES)
    multiplier = _validation.check_real_number("width_multiplier", width_multiplier, above_low=True)
    # The widest layer, fc6, must get a width an integer holds: a huge
    # multiplier would overflow `round()` to infinity before any count.
    widest = max(row.filters for row in _LAYERS[architecture] if row.filters is not None) / 2
    if widest * multiplier > _validation.MAX_WIDTH:
        raise _validation.invalid(
            "width_multiplier",
            f"a positive number of at most {_validation.MAX_WIDTH / widest:g} for "
            f"architecture={architecture!r}, whose widest tower layer has {widest:g} "
            f"filters at width_multiplier=1 (a layer is at most {_validation.MAX_WIDTH:,} wide)",
            width_multiplier,
        )
    return SplitBrainArguments(
        input_shape=input_shape,
        channel_groups=channel_groups,
        losses=losses,
        num_l_bins=num_l_bins,
        ab_bin_centers=ab_bin_centers,
        architecture=architecture,
        width_multiplier=multiplier,
    )


def responsible(arguments):
    """The arguments that set the count of a model of checked `arguments`, for the size limit."""
    names = ["architecture", "width_multiplier", "num_l_bins"]
    if arguments.ab_bin_centers is not None:
        names.append("ab_bin_centers")
    return {name: getattr(arguments, name) for name in names}


def head_channels(channel_groups, losses, num_l_bins, ab_bin_centers):
    """The number of outputs per position of each head: (x2 from x1, x1 from x2).

    Classification predicts one logit per bin: `num_l_bins` for L, the
    number of ab bin centres for ab. Regression predicts the target group's
    channels.
    """
    channels = []
    for target, loss in zip((channel_groups[1], channel_groups[0]), losses):
        if loss == "regression":
            channels.append(len(target))
        elif target == (0,):
            channels.append(num_l_bins)
        else:
            channels.append(
                NUM_DEFAULT_AB_BINS if ab_bin_centers is None else len(ab_bin_centers)
            )
    return tuple(channels)


# === Analytic count ===


def weights(arguments):
    """The `ParamCount` of a split-brain autoencoder of checked `SplitBrainArguments`."""
    rows = tower_layers(arguments.architecture, arguments.width_multiplier)
    outputs_per_head = head_channels(
        arguments.channel_groups, arguments.losses, arguments.num_l_bins, arguments.ab_bin_centers
    )
    total = ZERO
    for group, outputs in zip(arguments.channel_groups, outputs_per_head):
        channels = len(group)
        for row in rows:
            if row.filters is None:
                continue
            total += conv(channels, row.filters, row.kernel, use_bias=False)
            total += batch_norm(row.filters, center=False, scale=False)
            channels = row.filters
        total += conv(channels, outputs, 1)
    return total


def split_brain_ae(
    input_shape,
    *,
    channel_groups=((0,), (1, 2)),
    loss="classification",
    num_l_bins=50,
    ab_bin_centers=None,
    architecture="alexnet",
    width_multiplier=1.0,
    optimizer="adam",
    seed=None,
    name="split_brain_ae",
):
    """Parameters of `keras_recipes.split_brain_ae(input_shape, ...)`.

    Per tower, for each convolution (conv1-5, fc6, fc7) a kernel without
    bias and a batch normalisation without scale and shift (its moving mean
    and variance: `2 * filters` non-trainable), then the 1x1 head with a
    bias. Tower 1 reads the channels of group 1 and predicts group 2; tower
    2 the other way round. Pooling and the channel split have no weights;
    the input's height and width change no count (the network is fully
    convolutional).

    Example:

    >>> split_brain_ae((180, 180, 3)).total  # the paper's AlexNet, 261 ab and 50 L bins
    29792263
    >>> split_brain_ae((32, 32, 3), architecture="small", width_multiplier=0.125)
    ParamCount(trainable=72921, non_trainable=856)
    """
    return weights(
        check_arguments(
            input_shape,
            channel_groups,
            loss,
            num_l_bins,
            ab_bin_centers,
            architecture,
            width_multiplier,
        )
    )
