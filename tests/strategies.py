"""Hypothesis strategies shared by the test modules.

Plain functions that return strategies, one per kind of argument. Sizes stay
small (1 to `MAX_SIZE`) so that the real Keras layers the tests build, and
compare against the analytic counts, cost milliseconds each.

This module imports neither Keras nor the library: the strategies draw plain
Python values (ints, bools, tuples) that the tests turn into layers.
"""

from hypothesis import strategies as st

MAX_SIZE = 8
"""Largest size drawn for a width, a channel count or a spatial axis."""

MAX_KERNEL_SIZE = 3
"""Largest size drawn for one spatial axis of a convolution kernel."""

RECURRENT_KINDS = ("simple_rnn", "lstm", "gru")
"""Names of the recurrent layers that `Bidirectional` can wrap in the tests."""

ACTIVATIONS = ("relu", "tanh", "sigmoid", "softmax", "gelu", "elu", "linear")
"""Keras activation names; none of them has weights."""


def sizes(max_value=MAX_SIZE):
    """Positive integers from 1 to `max_value`: widths, channels, lengths."""
    return st.integers(min_value=1, max_value=max_value)


def flags():
    """`True` or `False`, for boolean arguments such as `use_bias`."""
    return st.booleans()


def ranks(max_rank=3):
    """Convolution ranks from 1 to `max_rank` (Conv1D to Conv3D)."""
    return st.integers(min_value=1, max_value=max_rank)


def input_shapes(min_rank=1, max_rank=3, max_size=MAX_SIZE // 2):
    """An input shape without the batch axis: `min_rank` to `max_rank` sizes."""
    return st.lists(sizes(max_size), min_size=min_rank, max_size=max_rank).map(tuple)


def kernel_sizes(rank):
    """A kernel size for a rank-`rank` layer: an int, or a tuple of `rank` ints."""
    size = st.integers(min_value=1, max_value=MAX_KERNEL_SIZE)
    return st.one_of(size, st.tuples(*[size] * rank))


def spatial_shapes(rank, min_size=1):
    """A tuple of `rank` spatial sizes, each from `min_size` to `MAX_SIZE // 2`.

    Spatial sizes never change a parameter count, so they stay small to keep
    convolutions cheap.
    """
    size = st.integers(min_value=min_size, max_value=MAX_SIZE // 2)
    return st.tuples(*[size] * rank)


@st.composite
def convolution_shapes(draw, max_rank=3):
    """`(rank, kernel_size, spatial_shape)` for one convolution.

    `kernel_size` is an int or a tuple of `rank` ints; `spatial_shape` has
    `rank` sizes (use `padding="same"`: a kernel may be larger than the input).
    """
    rank = draw(ranks(max_rank))
    return rank, draw(kernel_sizes(rank)), draw(spatial_shapes(rank))


def divisors(number):
    """The positive divisors of `number`."""
    return st.sampled_from(
        [divisor for divisor in range(1, number + 1) if number % divisor == 0]
    )


@st.composite
def grouped_channels(draw, max_groups=4, max_per_group=4):
    """`(in_channels, filters, groups)` where `groups` divides both channel counts.

    Drawn as `groups` times a per-group size, so every draw is valid for a
    grouped convolution.
    """
    groups = draw(st.integers(min_value=1, max_value=max_groups))
    per_group = st.integers(min_value=1, max_value=max_per_group)
    return groups * draw(per_group), groups * draw(per_group), groups


def group_norm_groups(channels):
    """A valid `groups` for `GroupNormalization` on `channels`: a divisor, or `-1`."""
    return st.one_of(divisors(channels), st.just(-1))


@st.composite
def normalized_axes(draw, max_rank=3):
    """`(input_shape, axes)` for `LayerNormalization(axis=axes)`.

    `input_shape` has no batch axis; `axes` is a non-empty, sorted list of
    distinct axes of the input, counted from 1 (the axis after the batch).
    """
    rank = draw(st.integers(min_value=1, max_value=max_rank))
    input_shape = draw(st.tuples(*[sizes(MAX_SIZE // 2)] * rank))
    axes = draw(
        st.lists(
            st.integers(min_value=1, max_value=rank),
            min_size=1,
            max_size=rank,
            unique=True,
        )
    )
    return input_shape, sorted(axes)


def recurrent_kinds():
    """One of `RECURRENT_KINDS`."""
    return st.sampled_from(RECURRENT_KINDS)


def activations():
    """One of `ACTIVATIONS`."""
    return st.sampled_from(ACTIVATIONS)


def counts(max_value=10**6):
    """Non-negative integers, as one half of a `ParamCount`."""
    return st.integers(min_value=0, max_value=max_value)


def count_pairs(max_value=10**6):
    """`(trainable, non_trainable)` pairs of non-negative integers."""
    return st.tuples(counts(max_value), counts(max_value))


def multipliers(max_value=10):
    """Non-negative integers to scale a `ParamCount` by."""
    return st.integers(min_value=0, max_value=max_value)


def non_positive_integers():
    """Integers of at most 0: invalid for every size argument."""
    return st.integers(max_value=0)


def negative_integers():
    """Integers of at most -1: invalid for every count and multiplier."""
    return st.integers(max_value=-1)


def non_integers():
    """Values that are not integers, `bool` included: invalid for every size."""
    return st.one_of(
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=3),
        st.none(),
    )


def non_booleans():
    """Values that are truthy or falsy but not `bool`: invalid for flags."""
    return st.one_of(
        st.integers(min_value=-1, max_value=2),
        st.sampled_from(["True", "", None, 1.0]),
    )


# === Recipe arguments ===
# Strategies for whole builder calls: each draws `(args, kwargs)` for one
# recipe, valid by construction, with the arguments that do not change the
# count (activations, seed) drawn too.

HIDDEN_ACTIVATIONS = (None, "relu", "tanh", "sigmoid")
"""Activations for hidden layers in recipe draws."""

OUTPUT_ACTIVATIONS = (None, "sigmoid", "linear", "tanh")
"""Output activations in recipe draws; never softmax, which 1-wide outputs refuse."""

MERGE_MODES = ("concatenate", "add", "average", "multiply", "maximum")
"""The merge modes of `branch_merge`."""


def unit_lists(min_size=1, max_size=3):
    """A list of Dense widths, `min_size` to `max_size` long."""
    return st.lists(sizes(), min_size=min_size, max_size=max_size)


def _common_keywords():
    return st.fixed_dictionaries(
        {
            "activation": st.sampled_from(HIDDEN_ACTIVATIONS),
            "output_activation": st.sampled_from(OUTPUT_ACTIVATIONS),
            "seed": st.none() | st.integers(min_value=0, max_value=2**16),
        }
    )


@st.composite
def mlp_arguments(draw):
    """`(args, kwargs)` of a valid `mlp()` call."""
    return (draw(sizes()), draw(unit_lists(max_size=4))), draw(_common_keywords())


@st.composite
def shared_mlp_arguments(draw):
    """`(args, kwargs)` of a valid `shared_mlp()` call: the bridge ends at `input_dim`."""
    input_dim = draw(sizes())
    shared_units = draw(st.just(input_dim) | sizes())
    bridge = draw(unit_lists(min_size=0, max_size=2)) + [input_dim]
    if shared_units == input_dim and draw(flags()):
        bridge = []
    return (input_dim, shared_units, bridge), draw(_common_keywords())


@st.composite
def branch_merge_arguments(draw):
    """`(args, kwargs)` of a valid `branch_merge()` call.

    Covers one or several inputs (a shared trunk needs equal widths), empty
    trunks and branches, every merge mode (equal branch widths where the mode
    needs them), and one or several heads.
    """
    branch_count = draw(st.integers(min_value=2, max_value=3))
    merge = draw(st.sampled_from(MERGE_MODES))
    trunk = draw(unit_lists(min_size=0, max_size=2))
    multi_input = draw(flags())
    if multi_input and trunk:
        input_dim = [draw(sizes())] * branch_count
    elif multi_input:
        input_dim = draw(st.lists(sizes(), min_size=branch_count, max_size=branch_count))
    else:
        input_dim = draw(sizes())
    if merge == "concatenate":
        branches = draw(
            st.lists(unit_lists(min_size=0, max_size=2), min_size=branch_count, max_size=branch_count)
        )
    else:
        # Equal output widths: every branch ends at one common width.
        width = draw(sizes())
        branches = [draw(unit_lists(min_size=0, max_size=1)) + [width] for _ in range(branch_count)]
    if draw(flags()):
        heads = draw(unit_lists(max_size=2))
    else:
        heads = draw(st.lists(unit_lists(max_size=2), min_size=1, max_size=3))
    keywords = draw(_common_keywords())
    keywords["merge"] = merge
    return (input_dim, trunk, branches, heads), keywords


@st.composite
def averaging_layer_arguments(draw):
    """`(args, kwargs)` of a valid `averaging_layer()` call."""
    return (draw(sizes()),), {}


@st.composite
def split_brain_ae_arguments(draw):
    """`(args, kwargs)` of a valid `split_brain_ae()` call at a tiny width.

    Lab splits in either order with any loss per direction, custom L and ab
    bins, or an RGB | depth split (regression only); both architectures.
    """
    side = draw(st.integers(min_value=4, max_value=16))
    keywords = {
        "architecture": draw(st.sampled_from(["alexnet", "small"])),
        "width_multiplier": draw(st.floats(min_value=0.005, max_value=0.08)),
        "seed": draw(st.none() | st.integers(min_value=0, max_value=2**16)),
    }
    if draw(flags()):
        keywords["channel_groups"] = draw(st.sampled_from([((0,), (1, 2)), ((1, 2), (0,))]))
        keywords["loss"] = draw(
            st.sampled_from(["classification", "regression"])
            | st.tuples(*[st.sampled_from(["classification", "regression"])] * 2)
        )
        keywords["num_l_bins"] = draw(st.integers(min_value=2, max_value=60))
        if draw(flags()):
            keywords["ab_bin_centers"] = draw(
                st.lists(
                    st.tuples(st.integers(-110, 110), st.integers(-110, 110)),
                    min_size=2,
                    max_size=8,
                    unique=True,
                )
            )
        return ((side, side, 3),), keywords
    keywords["channel_groups"] = ((0, 1, 2), (3,))
    keywords["loss"] = "regression"
    return ((side, side, 4),), keywords
# === Autoencoders ===

ARCHITECTURES = ("dense", "conv")
"""The architectures of `vae()` and `autoencoder()`."""


@st.composite
def autoencoder_sizes(draw):
    """`(input_shape, latent_dim, keywords)` valid for `vae()` and `autoencoder()`.

    Conv draws have a height and width divisible by `2 ** len(filters)`;
    dense draws have inputs of rank 1 to 3 and possibly no hidden layer.
    """
    architecture = draw(st.sampled_from(ARCHITECTURES))
    latent_dim = draw(sizes(4))
    if architecture == "conv":
        filters = draw(st.lists(sizes(4), min_size=1, max_size=2))
        factor = 2 ** len(filters)
        shape = (
            factor * draw(sizes(2)),
            factor * draw(sizes(2)),
            draw(sizes(3)),
        )
        keywords = {
            "architecture": "conv",
            "filters": filters,
            "intermediate_dim": draw(sizes()),
        }
    else:
        shape = draw(input_shapes(max_rank=3, max_size=4))
        keywords = {"architecture": "dense", "hidden_units": draw(unit_lists(min_size=0, max_size=2))}
    keywords["seed"] = draw(st.none() | st.integers(min_value=0, max_value=2**16))
    return shape, latent_dim, keywords


@st.composite
def vae_arguments(draw):
    """`(args, kwargs)` of a valid `vae()` call."""
    shape, latent_dim, keywords = draw(autoencoder_sizes())
    keywords["reconstruction_loss"] = draw(
        st.sampled_from(["binary_crossentropy", "squared_error"])
    )
    keywords["beta"] = draw(st.floats(min_value=0.0, max_value=4.0))
    return (shape, latent_dim), keywords


@st.composite
def autoencoder_arguments(draw):
    """`(args, kwargs)` of a valid `autoencoder()` call, with or without training noise."""
    shape, latent_dim, keywords = draw(autoencoder_sizes())
    keywords["reconstruction_loss"] = draw(
        st.sampled_from(["binary_crossentropy", "squared_error"])
    )
    keywords["noise_stddev"] = draw(st.just(0.0) | st.floats(min_value=0.0, max_value=1.0))
    return (shape, latent_dim), keywords
