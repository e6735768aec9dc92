"""Hypothesis strategies shared by the test modules.

Plain functions that return strategies, one per kind of argument. Sizes stay
small (1 to `MAX_SIZE`) so that the real Keras layers the tests build, and
compare against the analytic counts, cost milliseconds each.

What one recipe family alone draws lives beside that family's tests, in
`tests/recipes/<family>/strategies.py` (the calls with one thing wrong that
`tests/test_invalid_arguments.py` draws, and the autoencoders' valid calls);
those modules build on the pieces here. What stays here is drawn across
families: layer and shape sizes (the `param_count` tests), the valid call of
every recipe that the recipe counts are checked on (`test_param_count_recipes`
draws them all), the invalid values every builder refuses, and the hostile
strings and files of the command line and the `.keras` reader.

This module imports neither Keras nor the library: the strategies draw plain
Python values (ints, bools, tuples, numpy scalars) that the tests turn into
layers.
"""

import math
import struct
from fractions import Fraction

import numpy as np
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
# count (activations, seed) drawn too. The `param_count` recipe tests draw
# these across families; the autoencoders' draws, which only their own tests
# use, are in tests/recipes/autoencoders/strategies.py.

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


# === Invalid builder arguments ===
# The invalid values every builder refuses, and `one_wrong()`, which makes a
# builder call with exactly one thing wrong out of them. Each family's
# `invalid_*_calls()` (in `tests/recipes/<family>/strategies.py`, drawn by
# `tests/test_invalid_arguments.py`) draws `(kwargs, names)`: such a call and
# the argument names an error message may name for it. Everything else in the
# call is a tiny valid configuration, so the call would build if the wrong
# thing were not refused.

HUGE = 2**31
"""A size no recipe builds: a sample of this many features, or a Dense layer this wide on any input."""


BEYOND_FLOAT = (10**400, 2**1024, 2**1024 + 1, 10**309)
"""Integers no float holds: `float()` of each raises OverflowError."""


def huge_integers():
    """Sizes from `HUGE` up, Python and numpy integers: models too big to build.

    Integers beyond any float and beyond 64 bits included, which a check
    that converts to float or to a backend integer would crash on.
    """
    return st.one_of(
        st.integers(min_value=HUGE, max_value=10**30),
        st.integers(min_value=HUGE, max_value=2**62).map(np.int64),
        st.sampled_from([*BEYOND_FLOAT, 2**63, 2**64]),
    )


def _numpy_non_integers():
    return st.sampled_from(
        [
            np.float32(2.0),
            np.float64(3.0),
            np.bool_(True),
            np.complex64(2),
            np.array(3),
            np.array([3]),
            np.array(2.0),
            np.str_("3"),
        ]
    )


def odd_objects():
    """Values of no sensible type: containers, bytes, complex numbers, objects."""
    return st.one_of(
        st.dictionaries(st.text(max_size=2), st.integers(0, 3), max_size=2),
        st.sampled_from([b"3", 2j, {3}, frozenset(), object(), Ellipsis, range(3)]),
    )


def wrong_size_types():
    """Values that are not integers of any kind: invalid for every size argument.

    `bool` is an `int` subclass and integral floats look like integers; both
    are refused, as are numpy floats, booleans, arrays and strings.
    """
    return st.one_of(
        st.booleans(),
        st.floats(),  # nan, inf, integral floats such as 2.0 included
        st.integers(1, 8).map(float),
        st.text(max_size=3),
        st.integers(1, 8).map(str),
        st.none(),
        st.lists(st.integers(1, 8), max_size=2),
        st.integers(1, 8).map(Fraction),
        _numpy_non_integers(),
        odd_objects(),
    )


def non_positive_sizes():
    """Zero and negative integers, Python and numpy: invalid for every size."""
    return st.one_of(
        st.integers(max_value=0),
        st.integers(min_value=-(2**31), max_value=0).map(np.int32),
        st.integers(min_value=-(2**62), max_value=0).map(np.int64),
    )


def invalid_sizes(huge=True):
    """Anything a positive size argument refuses; `huge` adds sizes too big to build."""
    strategies = [wrong_size_types(), non_positive_sizes()]
    if huge:
        strategies.append(huge_integers())
    return st.one_of(*strategies)


def invalid_unit_lists(allow_empty=False, huge=True, nested=True, number=True):
    """Anything a list of layer widths refuses.

    A string, a number, a dict or a numpy array instead of a list; a list
    holding one bad width among good ones; a ragged list; the empty list
    where a layer is needed; with `nested`, a list of lists (valid where
    several stacks are asked for, such as `branch_units`); with `number`, a
    bare integer (valid as a 1-d `input_shape`); with `huge`, a width too big
    to build.
    """
    bad_item = invalid_sizes(huge=huge)
    strategies = [
        st.text(max_size=4),
        st.sampled_from(["3,2", "[3, 2]", "", None, 3.0, True]),
        st.dictionaries(st.integers(1, 3), st.integers(1, 3), min_size=1, max_size=2),
        st.lists(sizes(), min_size=1, max_size=3).map(np.array),
        st.tuples(
            st.lists(sizes(), max_size=2), bad_item, st.lists(sizes(), max_size=2)
        ).map(lambda parts: [*parts[0], parts[1], *parts[2]]),
        st.lists(sizes(), min_size=1, max_size=2).map(lambda items: [items, *items]),
    ]
    if nested:
        strategies.append(st.lists(st.lists(sizes(), min_size=1, max_size=2), min_size=1, max_size=3))
    if number:
        strategies.append(st.sampled_from([3, np.int64(3)]))
    if not allow_empty:
        strategies.append(st.sampled_from([[], ()]))
    drawn = st.one_of(*strategies)
    if nested:
        return drawn
    # Without `nested`, a list of lists is a valid value (several stacks), and
    # the bad item above can make one: `[[1]]`, a single list of sizes.
    return drawn.filter(lambda value: not _list_of_lists(value))


def _list_of_lists(value):
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(isinstance(item, (list, tuple)) for item in value)
    )


def non_finite_numbers():
    """`nan`, `inf` and `-inf`, as Python and numpy floats: invalid for every real argument."""
    return st.sampled_from([math.nan, math.inf, -math.inf]).flatmap(
        lambda value: st.sampled_from([value, np.float32(value), np.float64(value)])
    )


def wrong_number_types():
    """Values that are not real numbers: invalid for every float argument."""
    return st.one_of(
        st.booleans(),
        st.none(),
        st.text(max_size=3),
        st.sampled_from(["0.5", "1e-3", b"1", 1j, np.complex128(1), np.array(0.5), np.array([0.5])]),
        st.lists(st.floats(0, 1), min_size=1, max_size=2),
        odd_objects(),
    )


def beyond_float_numbers():
    """Real numbers no float holds, either sign: Python ints and `Fraction`s of 10**400 or 2**1024."""
    return st.sampled_from(BEYOND_FLOAT).flatmap(
        lambda value: st.sampled_from([value, -value, Fraction(value), Fraction(-value, 3)])
    )


def invalid_numbers(low=0.0, high=math.inf, strictly_positive=False):
    """Anything a finite real argument in `[low, high]` refuses, numbers beyond a float included."""
    strategies = [non_finite_numbers(), wrong_number_types(), beyond_float_numbers()]
    # A filter, not `exclude_max`: -0.0 is not below 0.0.
    below = st.floats(max_value=low, allow_infinity=False, allow_nan=False)
    strategies.append(below.filter(lambda value: value <= low if strictly_positive else value < low))
    if high != math.inf:
        strategies.append(st.floats(min_value=high, exclude_min=True, allow_infinity=False))
    return st.one_of(*strategies)


def unknown_choices(choices):
    """Strings that are not in `choices` (case and spacing variants included), and non-strings."""
    near_misses = [variant for choice in choices for variant in (choice.upper(), f" {choice}", choice[:-1])]
    return st.one_of(
        st.text(max_size=8).filter(lambda text: text not in choices),
        st.sampled_from(near_misses),
        st.sampled_from([None, 0, 1.5, True, ["dense"], {"mode": "add"}, np.str_("nope")]),
    )


def invalid_seeds():
    """Negative integers and non-integers: invalid for every `seed`."""
    return st.one_of(
        st.integers(max_value=-1),
        st.sampled_from([np.int64(-1), 1.0, 0.5, math.nan, "0", True, False, np.float64(1), np.array(1), [1]]),
        odd_objects(),
    )


# The model names every backend trains under (`_validation.NAME_PATTERN`,
# kept here as a literal so that a change to the rule shows in the tests too).
VALID_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]*"


def valid_names():
    """Model names every backend trains under: ASCII letters, digits, `_`, `-`, not starting `_` or `-`."""
    return st.from_regex(VALID_NAME, fullmatch=True).filter(lambda text: len(text) <= 20)


def invalid_names():
    """Names refused at build time: empty, with `/`, `.`, `>`, a space, `:`, a backslash,
    non-ASCII, a leading `_` or `-`, a trailing newline, or not a string."""
    import re

    return st.one_of(
        st.sampled_from(["", "my model", "a:b", "a\\b", "mlp\n", "_mlp", "-mlp", "modèle", "a/b", "a.b", ".", "a>b", "0>"]),
        st.text(min_size=0, max_size=4).map(lambda text: f"{text}/{text}"),
        st.text(max_size=6).filter(lambda text: re.fullmatch(VALID_NAME, text) is None),
        st.sampled_from([None, 0, 1.5, True, b"mlp", ["mlp"], np.array("mlp")]),
    )


def invalid_activations():
    """Activation values that are not `None`, a known name or a callable."""
    return st.one_of(
        st.sampled_from(["relux", "Relu", "soft_max", "", "none", "leaky-relu"]),
        st.sampled_from([0, 1.5, True, ["relu"], {"name": "relu"}, b"relu", np.str_("nope")]),
    )


def invalid_losses():
    """Loss values that are not a known name, a `Loss` or a callable."""
    return st.one_of(
        st.sampled_from(["msee", "MSE ", "", "cross_entropy", "l2"]),
        st.sampled_from([None, 0, 1.5, True, ["mse"], {"out": "mse"}, b"mse"]),
    )


def invalid_optimizers():
    """Optimizer values that are not a known name or an unused optimizer."""
    return st.one_of(
        st.sampled_from(["adamm", "ADAM ", "", "gradient_descent", "lbfgs"]),
        st.sampled_from([None, 0, 1e-3, True, ["adam"], {"class_name": "Adam"}, b"adam"]),
    )


def invalid_initializers():
    """Initializer values that are not a known Keras name or an initializer instance."""
    return st.one_of(
        st.sampled_from(
            ["glorot", "he", "xavier_uniform", "kaiming_uniform", "", "HE_UNIFORM", "Fan_In_Uniform"]
        ),
        st.sampled_from([None, 0, 1.5, True, ["he_uniform"], {"class_name": "HeUniform"}, b"he_uniform"]),
    )


def invalid_metrics():
    """Metrics values: a bare string, an unknown name in a list, or a non-list."""
    return st.one_of(
        st.sampled_from(["mae", "accuracy"]),
        st.sampled_from([["maee"], ["mae", "nope"], [0], [None], [1.5], 3, {"out": "mae"}, True]),
    )


def common_invalid_keywords(outputs=True):
    table = {
        "loss": invalid_losses(),
        "optimizer": invalid_optimizers(),
        "metrics": invalid_metrics(),
        "name": invalid_names(),
    }
    if outputs:
        table.update(
            activation=invalid_activations(),
            output_activation=invalid_activations(),
            seed=invalid_seeds(),
        )
    return table


def one_wrong(base, table, mismatches=()):
    """`(kwargs, names)`: `base` with one argument from `table` wrong, or one of `mismatches`.

    `table` maps an argument to a strategy of its invalid values; each of
    `mismatches` draws `(changes, names)`, arguments that are valid alone but
    not together.
    """
    # Each argument, and each kind of mismatch, is drawn equally often.
    singles = [
        table[argument].map(lambda value, argument=argument: ({argument: value}, (argument,)))
        for argument in sorted(table)
    ]

    @st.composite
    def call(draw):
        changes, names = draw(draw(st.sampled_from([*singles, *mismatches])))
        return {**base, **changes}, names

    return call()


def invalid_input_shapes(min_rank=1):
    """Shapes refused by every recipe: not a tuple of positive sizes, or too big to hold."""
    return st.one_of(
        invalid_unit_lists(number=min_rank > 1),
        st.sampled_from(["28,28,1", None, 28.0, True, np.float64(8)]),
        # A sample of more elements than memory holds, whatever the model.
        st.sampled_from([(200_000, 200_000), (2**16, 2**16, 3), (10**12,), (2**31,)]).filter(
            lambda shape: len(shape) >= min_rank
        ),
    )


# === Strings from untrusted files ===

HOSTILE_TEXT = (
    "\x1b[2J",  # ESC: clear the screen
    "\x1b]0;title\x07",  # OSC: set the terminal's title
    "\x1b]8;;http://x\x1b\\",  # OSC 8: a hyperlink
    "\r",
    "\n",
    "\t",
    "\x00",
    "\x7f",
    "\x9b",  # C1 control sequence introducer
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200b",  # zero-width space
    "\u2028",  # line separator
    "\ufeff",
    "\ud800",  # a lone surrogate (JSON can encode one)
    "e\u0301",  # a combining accent
    "\u4e2d",  # a wide character
    "|",
    "\\",
    "`",
)
"""Pieces of text that rewrite or hide a line on a terminal or break a table."""


def untrusted_texts():
    """Any string a crafted `.keras` file can hold: all of Unicode, lone
    surrogates and control characters included, terminal escape sequences,
    table separators, or tens of thousands of characters."""
    characters = st.characters(exclude_categories=())
    short = st.text(characters, max_size=12)
    hostile = st.lists(st.sampled_from(HOSTILE_TEXT) | short, max_size=4).map("".join)
    long = st.builds(
        lambda text, times: text * times,
        st.text(characters, min_size=1, max_size=3) | st.sampled_from(HOSTILE_TEXT),
        st.integers(100, 20_000),
    )
    return short | hostile | long


# === Hostile numpy files ===

NPY_MAGIC = b"\x93NUMPY"
"""The first bytes of every `.npy` file, before the format version."""


def _literals():
    """Python literals of every kind a `.npy` header could hold in place of a value."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([10**400, 2**63, 2**64 - 1, -1, 0]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.sampled_from(["<f4", "|u1", "<i8", ">f8", "|b1", "O", "|O", "V0", "S0", "<U0",
                         "(2,)f4", "f4,f4", "<M8[s]", "c16", "x", "<f4)", "(10**30,)f4"]),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.lists(children, max_size=3).map(tuple),
            st.dictionaries(st.text(max_size=3), children, max_size=3),
        ),
        max_leaves=6,
    )


def npy_headers():
    """Header dicts of a `.npy` file: right keys with any values, or keys added and missing."""
    right = st.fixed_dictionaries(
        {
            "descr": st.one_of(_literals(), st.sampled_from(["<f4", "|u1", "<i8"])),
            "fortran_order": _literals(),
            "shape": st.one_of(
                _literals(),
                st.lists(st.one_of(st.integers(min_value=-3, max_value=5), st.booleans(),
                                   st.sampled_from([10**400, 2**63, 1.0])), max_size=4).map(tuple),
            ),
        }
    )
    return st.one_of(right, st.dictionaries(st.text(max_size=14), _literals(), max_size=4))


def npy_files():
    """Bytes of a would-be `.npy` file: any version, header and data, valid or not."""
    version = st.one_of(
        st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00"]), st.binary(min_size=2, max_size=2)
    )
    header_text = st.one_of(
        npy_headers().map(repr),
        st.text(max_size=40),
        st.sampled_from(["{'descr': '<f4', 'fortran_order': False, 'shape': (2,",
                         "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 2)}",
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\x00",
                         "{'descr': '''", "{1L: 2}", "{'shape': (2L, 2L)}"]),
    )

    def assemble(version, text, encoding_fails, length_error, data):
        header = text.encode("utf8", "surrogatepass") + b"\n"
        if encoding_fails:
            header = b"\xff\xfe" + header
        length_format = "<H" if version == b"\x01\x00" else "<I"
        length = max(0, len(header) + length_error)
        return NPY_MAGIC + version + struct.pack(length_format, min(length, 2**16 - 1)) + header + data

    return st.builds(
        assemble,
        version,
        header_text,
        st.booleans(),
        st.sampled_from([0, 0, 0, -1, 1, -30, 10_000]),
        st.binary(max_size=64),
    )


def npz_members():
    """Lists of `(member name, content)` for a zip archive named `.npz`."""
    names = st.one_of(
        st.sampled_from(["x", "x.npy", "y", "y.npy", "x.npy.npy", "z.npy", "X"]),
        # zipfile cuts a name at its first NUL and cannot write an empty one.
        st.text(min_size=1, max_size=6).filter(lambda name: not name.startswith("\x00")),
    )
    return st.lists(st.tuples(names, st.one_of(npy_files(), st.binary(max_size=40))),
                    max_size=4)
