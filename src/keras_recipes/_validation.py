"""Generic argument checks shared by the builders, the specs and `param_count`.

Pure Python on purpose, and it imports nothing of the package: the recipe
families' specs (`_recipes/*/spec.py`) build their checks on these, and
`keras_recipes.param_count` runs them without importing Keras. Checks are
verbs (`check_seed(value)`) and return the value normalised. Every message follows the
Keras form: name the argument, say what was expected, end with
``Received: arg=value``.
"""

import math
import numbers
import re
from collections.abc import Sequence

# === Limits ===
# Sizes that no recipe can use are refused before anything is built, rather
# than left to fail deep inside a backend with an out-of-memory error or an
# integer overflow, minutes later.

MAX_PARAMS = 2**31
"""The most parameters a builder builds: 8 GiB of float32 weights.

The builders compile and build the optimizer, whose Adam moments triple
that to 24 GiB before the first gradient: more than a 24 GiB CPU machine
holds, and beyond every recipe here by a factor of ten or more (the
paper-sized split-brain AlexNet has about 43 million). A GPU user with more
memory still gets a model of up to 2**31 parameters; the count of a bigger
one is known without building it (`keras_recipes.param_count`).
"""

MAX_SAMPLE_SIZE = 2**31 - 1
"""The most numbers one input sample may hold: 8 GiB as float32.

Backends index a tensor's elements with 32-bit integers in many kernels
(TensorFlow's GPU kernels among them), and one sample of more numbers could
not be fed to the model on this kind of machine anyway. Checked by the size
checks that `param_count` shares, so both refuse the same shapes.
"""

MAX_WIDTH = 2**31 - 1
"""The largest int32: the widest layer a width multiplier may give, and the most `steps_per_execution`."""


def invalid(argument, expected, value, hint=""):
    """Return a `ValueError` in the library's message format."""
    message = (
        f"Invalid value for argument `{argument}`: expected {expected}. "
        f"Received: {argument}={value!r}"
    )
    if hint:
        message += f". {hint}"
    return ValueError(message)


def wrong_type(argument, expected, value):
    """Return a `TypeError` in the library's message format."""
    return TypeError(
        f"Invalid type for argument `{argument}`: expected {expected}. "
        f"Received: {argument}={value!r} of type {type(value).__name__}"
    )


def gibibytes(size):
    """`size` bytes in GiB with one decimal, for messages; exact for any int.

    Integer arithmetic: `size / 2**30` raises OverflowError for sizes beyond
    a float (a shape of 10**400 numbers), and the message must still come.
    """
    tenths = (size * 10 + 2**29) // 2**30
    return f"{tenths // 10:,}.{tenths % 10}"


def is_int(value):
    """Whether `value` is an integer; `bool` is not, though Python says so."""
    # The exact-type test first: the ABC check is ten times slower, and
    # param_count calls this for every size of every layer.
    return type(value) is int or (
        isinstance(value, numbers.Integral) and not isinstance(value, bool)
    )


def check_positive_int(argument, value):
    """Check that `value` is an integer of at least 1 and return it as `int`."""
    if not is_int(value):
        raise wrong_type(argument, "a positive integer", value)
    if value < 1:
        raise invalid(argument, "a positive integer", value)
    return int(value)


def check_sample_size(argument, value, shape, *, what="sample"):
    """Refuse a sample shape of more than `MAX_SAMPLE_SIZE` numbers; return `shape`.

    `value` is the argument as the user gave it, for the message; `what`
    names the array of that shape in it.
    """
    size = math.prod(shape)
    if size > MAX_SAMPLE_SIZE:
        raise invalid(
            argument,
            f"a {what} of at most {MAX_SAMPLE_SIZE:,} numbers (2**31 - 1)",
            value,
            f"One {what} of this shape holds {size:,} numbers, "
            f"{gibibytes(4 * size)} GiB as float32",
        )
    return shape


def check_feature_count(argument, value):
    """Check a number of input features: a positive integer of at most `MAX_SAMPLE_SIZE`."""
    value = check_positive_int(argument, value)
    check_sample_size(argument, value, (value,))
    return value


def check_non_negative_int(argument, value):
    """Check that `value` is an integer of at least 0 and return it as `int`."""
    if not is_int(value):
        raise wrong_type(argument, "a non-negative integer", value)
    if value < 0:
        raise invalid(argument, "a non-negative integer", value)
    return int(value)


def check_steps_per_execution(value):
    """Check `steps_per_execution`: a positive integer of at most 2**31 - 1.

    Keras holds it in a 64-bit integer on TensorFlow, where a larger Python
    int fails inside `fit` with a bare OverflowError; no dataset has 2**31
    batches per epoch to fill such a step anyway.
    """
    value = check_positive_int("steps_per_execution", value)
    if value > MAX_WIDTH:
        raise invalid(
            "steps_per_execution", f"a positive integer of at most {MAX_WIDTH:,} (2**31 - 1)", value
        )
    return value


def as_float(value):
    """`float(value)` for a real number, or `None` when no float holds it.

    `float()` raises OverflowError for an int or a `Fraction` beyond
    1.8e308 (10**400, 2**1024); such a number is outside every range the
    library accepts, and its check must say so, naming the argument.
    """
    try:
        return float(value)
    except OverflowError:
        return None


def check_real_number(argument, value, *, low=0.0, high=math.inf, above_low=False):
    """Check a finite real number in `[low, high]` (`(low, high]` with `above_low`); return a `float`.

    `above_low` is only used with `high` infinite, as the message says.

    Any `numbers.Real` but `bool`: Python and numpy floats and ints, and
    `Fraction`s. Never raises OverflowError: a number no float holds is
    refused as out of range.
    """
    if high != math.inf:
        expected = f"a number between {low} and {high}"
    elif above_low:
        expected = "a positive number" if low == 0 else f"a number above {low}"
    else:
        expected = f"a number of at least {low}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise wrong_type(argument, expected, value)
    number = as_float(value)
    if (
        number is None
        or not math.isfinite(number)
        or not (low < number if above_low else low <= number)
        or number > high
    ):
        raise invalid(argument, expected, value)
    return number


FLOAT32_MAX = 3.4028234663852886e38
"""The largest finite float32: a larger number becomes infinity in a float32 tensor."""


def is_float32(number):
    """Whether the float `number` is finite and stays finite as a float32."""
    return math.isfinite(number) and abs(number) <= FLOAT32_MAX


MAX_BINS = 2**24
"""The most quantisation bins: every index up to it is exact in float32.

`color.quantize_l` computes the bin index in float32 (JAX's default has
no float64) before its int32 cast; beyond 2**24 neighbouring indices round
together, and near 2**31 the largest rounds past int32 and wraps to -2**31.
"""


def check_bin_count(argument, value):
    """Check a number of quantisation bins: an integer from 2 to `MAX_BINS`; return it as `int`."""
    expected = f"an integer of at least 2 and at most {MAX_BINS:,} (2**24)"
    if not is_int(value):
        raise wrong_type(argument, expected, value)
    if not 2 <= value <= MAX_BINS:
        raise invalid(argument, expected, value)
    return int(value)


def check_config_keys(class_name, config, keys):
    """Check that a saved `config` of our `class_name` has every key in `keys`; return it.

    A file saved by this library always writes them; one without them was
    edited, and is refused naming the key rather than failing with a bare
    KeyError (or loading with a default nobody chose).
    """
    if not isinstance(config, dict):
        raise wrong_type("config", f"a dict, the config of a saved {class_name}", config)
    for key in keys:
        if key not in config:
            raise ValueError(
                f"Invalid config for `{class_name}`: the key `{key}` is missing. "
                f"Received: config keys={sorted(config)}"
            )
    return config


def check_boolean(argument, value):
    """Check that `value` is a `bool` (not merely truthy) and return it."""
    if not isinstance(value, bool):
        raise wrong_type(argument, "a bool (True or False)", value)
    return value


def is_sequence(value):
    """Whether `value` is a list-like of items (a string is not)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def check_units_list(argument, value, *, allow_empty=False):
    """Check a list of layer widths and return it as a tuple of `int`.

    Args:
        argument: the argument's name, for the error message.
        value: a list or tuple of positive integers.
        allow_empty: whether `[]` is valid (an empty stack passes its input
            through). Defaults to `False`.
    """
    expected = (
        "a list of positive integers"
        if allow_empty
        else "a non-empty list of positive integers"
    )
    if not is_sequence(value):
        raise wrong_type(argument, expected, value)
    if not value and not allow_empty:
        raise invalid(argument, expected, value)
    for item in value:
        if not is_int(item):
            raise wrong_type(argument, expected, value)
        if item < 1:
            raise invalid(argument, expected, value)
    return tuple(map(int, value))


def check_choice(argument, value, choices):
    """Check that `value` is one of the strings in `choices` and return it."""
    if not isinstance(value, str):
        raise wrong_type(argument, f"one of {list(choices)}", value)
    if value not in choices:
        raise invalid(argument, f"one of {list(choices)}", value)
    return value


def check_seed(value):
    """Check a `seed` argument: `None` or a non-negative integer."""
    if value is None:
        return None
    if not is_int(value):
        raise wrong_type("seed", "None or a non-negative integer", value)
    if value < 0:
        raise invalid("seed", "None or a non-negative integer", value)
    return int(value)


# The names every backend trains under. TensorFlow's rule for a root name
# scope, which a model's name opens at its first `fit` ("not a valid root
# scope name" otherwise), is `[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*`; less the
# characters that fail elsewhere: `/` (Keras refuses it in layer names), a
# backslash and `>` (allowed by TensorFlow's Python check, refused by its
# C++ node-name check when the training graph is built: `>` is kept for
# TensorFlow's internal ops) and `.` (PyTorch's parameter names cannot hold
# it, and Keras names each weight `{layer name}/{weight}`). Layer names
# derive from the model's name by appending `_...`, which the rest of the
# pattern allows.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
NAME_RULE = (
    "a non-empty string of ASCII letters, digits, `_` and `-`, "
    "starting with a letter or a digit"
)


def check_name(value):
    """Check a model `name` against `NAME_PATTERN` and return it.

    Checked on every backend, so that a model built on one backend can be
    trained on the others.
    """
    if not isinstance(value, str):
        raise wrong_type("name", NAME_RULE, value)
    if NAME_PATTERN.fullmatch(value) is None:
        raise invalid(
            "name",
            NAME_RULE,
            value,
            "TensorFlow or PyTorch refuses other names when training starts",
        )
    return value


def check_buildable(recipe, count, responsible):
    """Refuse a recipe of more than `MAX_PARAMS` parameters, before it is built.

    The builder has checked its arguments and worked out `count` with its
    family's spec (the same function as `keras_recipes.param_count.<recipe>`),
    so nothing is checked or counted twice.

    Args:
        recipe: the builder's name, for the message.
        count: the model's number of parameters.
        responsible: a dict of the arguments that set the count and their
            (normalised) values, named in the message.

    Returns:
        `count`.

    Raises:
        ValueError: `count` is above `MAX_PARAMS`.

    Example:

    >>> check_buildable("mlp", 26, {"input_dim": 2, "units": [3, 2, 3]})
    26
    """
    if count > MAX_PARAMS:
        names = ", ".join(f"`{argument}`" for argument in responsible)
        received = ", ".join(f"{argument}={value!r}" for argument, value in responsible.items())
        raise ValueError(
            f"Invalid value for arguments {names}: expected sizes that give at "
            f"most {MAX_PARAMS:,} parameters (2**31). Received: {received}, "
            "which "
            f"give {count:,} parameters (keras_recipes.param_count.{recipe}), "
            f"{gibibytes(4 * count)} GiB of float32 weights before the "
            "optimizer's state"
        )
    return count
