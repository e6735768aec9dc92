"""Argument checks shared by the builders and `param_count`.

Pure Python on purpose: `keras_recipes.param_count` validates the same size
arguments as the builders without importing Keras. Every message follows the
Keras form: name the argument, say what was expected, end with
``Received: arg=value``.
"""

import numbers
from collections.abc import Sequence


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


def is_int(value):
    """Whether `value` is an integer; `bool` is not, though Python says so."""
    # The exact-type test first: the ABC check is ten times slower, and
    # param_count calls this for every size of every layer.
    return type(value) is int or (
        isinstance(value, numbers.Integral) and not isinstance(value, bool)
    )


def positive_int(argument, value):
    """Check that `value` is an integer of at least 1 and return it as `int`."""
    if not is_int(value):
        raise wrong_type(argument, "a positive integer", value)
    if value < 1:
        raise invalid(argument, "a positive integer", value)
    return int(value)


def non_negative_int(argument, value):
    """Check that `value` is an integer of at least 0 and return it as `int`."""
    if not is_int(value):
        raise wrong_type(argument, "a non-negative integer", value)
    if value < 0:
        raise invalid(argument, "a non-negative integer", value)
    return int(value)


def boolean(argument, value):
    """Check that `value` is a `bool` (not merely truthy) and return it."""
    if not isinstance(value, bool):
        raise wrong_type(argument, "a bool (True or False)", value)
    return value


def is_sequence(value):
    """Whether `value` is a list-like of items (a string is not)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def units_list(argument, value, *, allow_empty=False):
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


def choice(argument, value, choices):
    """Check that `value` is one of the strings in `choices` and return it."""
    if not isinstance(value, str):
        raise wrong_type(argument, f"one of {list(choices)}", value)
    if value not in choices:
        raise invalid(argument, f"one of {list(choices)}", value)
    return value


def seed(value):
    """Check a `seed` argument: `None` or a non-negative integer."""
    if value is None:
        return None
    if not is_int(value):
        raise wrong_type("seed", "None or a non-negative integer", value)
    if value < 0:
        raise invalid("seed", "None or a non-negative integer", value)
    return int(value)


def name(value):
    """Check a model `name`: a non-empty string without `/` (Keras forbids it)."""
    if not isinstance(value, str):
        raise wrong_type("name", "a non-empty string", value)
    if not value or "/" in value:
        raise invalid("name", "a non-empty string without `/`", value)
    return value


# === Recipe sizes ===
# The builders and `param_count`'s recipe functions both start with these, so
# that a configuration one accepts the other accepts too.

MERGE_MODES = ("concatenate", "add", "average", "multiply", "maximum")


def mlp_sizes(input_dim, units):
    """Check the sizes of `mlp()`; return `(input_dim, units)` normalised."""
    return positive_int("input_dim", input_dim), units_list("units", units)


def shared_mlp_sizes(input_dim, shared_units, bridge_units):
    """Check the sizes of `shared_mlp()`; return them normalised.

    The shared layer `f` reads `input_dim` features the first time and the
    bridge's output the second time, so the bridge must end at `input_dim`.
    """
    input_dim = positive_int("input_dim", input_dim)
    shared_units = positive_int("shared_units", shared_units)
    bridge_units = units_list("bridge_units", bridge_units, allow_empty=True)
    last = bridge_units[-1] if bridge_units else shared_units
    if last != input_dim:
        raise invalid(
            "bridge_units",
            f"a list whose last width equals input_dim={input_dim}, because "
            "the shared layer is applied again to the bridge's output and "
            f"its kernel reads {input_dim} features (an empty bridge needs "
            "shared_units == input_dim)",
            list(bridge_units),
        )
    return input_dim, shared_units, bridge_units


def branch_widths(input_dims, trunk, branches, multi_input):
    """The width each branch of `branch_merge()` reads and the width it ends at.

    A branch reads the trunk's output, or its input when the trunk is empty;
    an empty branch passes that width on to the merge.

    Returns:
        A list with one `(start, end)` pair of widths per branch.
    """
    branch_inputs = input_dims if multi_input else input_dims * len(branches)
    pairs = []
    for branch, dim in zip(branches, branch_inputs):
        start = trunk[-1] if trunk else dim
        pairs.append((start, branch[-1] if branch else start))
    return pairs


def branch_merge_sizes(input_dim, trunk_units, branch_units, head_units, merge):
    """Check the sizes of `branch_merge()` and return them normalised.

    Returns:
        A tuple `(input_dims, trunk, branches, heads, multi_input, multi_output)`:
        `input_dims` has one entry per input, `branches` one tuple of widths
        per branch, `heads` one tuple of widths per head.
    """
    multi_input = is_sequence(input_dim)
    if multi_input:
        if not input_dim:
            raise invalid(
                "input_dim",
                "a positive integer or a non-empty list of them",
                input_dim,
            )
        input_dims = tuple(positive_int("input_dim", dim) for dim in input_dim)
    else:
        input_dims = (positive_int("input_dim", input_dim),)
    trunk = units_list("trunk_units", trunk_units, allow_empty=True)

    branches_expected = "a list of at least two lists of positive integers"
    if not is_sequence(branch_units):
        raise wrong_type("branch_units", branches_expected, branch_units)
    if len(branch_units) < 2:
        raise invalid(
            "branch_units",
            branches_expected,
            branch_units,
            "A merge needs two branches or more; use `[]` for a branch that "
            "passes its input through",
        )
    for branch in branch_units:
        if not is_sequence(branch):
            raise wrong_type("branch_units", branches_expected, branch_units)
    branches = tuple(
        units_list("branch_units", branch, allow_empty=True) for branch in branch_units
    )

    if multi_input:
        if len(input_dims) != len(branches):
            raise invalid(
                "input_dim",
                f"one input per branch, {len(branches)} in all",
                list(input_dims),
            )
        if trunk and len(set(input_dims)) > 1:
            raise invalid(
                "input_dim",
                "equal input widths when trunk_units is not empty, because "
                "the trunk's layers are shared by every input",
                list(input_dims),
            )

    heads_expected = (
        "a non-empty list of positive integers (one head), or a non-empty "
        "list of such lists (one output per head)"
    )
    if not is_sequence(head_units):
        raise wrong_type("head_units", heads_expected, head_units)
    if not head_units:
        raise invalid("head_units", heads_expected, head_units)
    multi_output = all(is_sequence(head) for head in head_units)
    if multi_output:
        heads = tuple(units_list("head_units", head) for head in head_units)
    elif any(is_sequence(head) for head in head_units):
        raise wrong_type("head_units", heads_expected, head_units)
    else:
        heads = (units_list("head_units", head_units),)

    merge = choice("merge", merge, MERGE_MODES)
    widths = [end for _, end in branch_widths(input_dims, trunk, branches, multi_input)]
    if merge != "concatenate" and len(set(widths)) > 1:
        raise invalid(
            "branch_units",
            f"branches of equal output width for merge={merge!r} (only "
            "'concatenate' joins different widths)",
            [list(branch) for branch in branches],
            f"The branches end at widths {widths}",
        )
    return input_dims, trunk, branches, heads, multi_input, multi_output
