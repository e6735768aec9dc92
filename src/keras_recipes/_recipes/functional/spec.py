"""The functional recipes' spec: `mlp`, `shared_mlp`, `branch_merge`, `averaging_layer`.

Pure Python (no Keras): the size checks and the analytic parameter counts of
the four recipes. The builders beside this module and
`keras_recipes.param_count` both read it, so a configuration one accepts the
other accepts too, and the count a builder hands to the size limit is the one
`param_count` reports.

The count functions named after the recipes take exactly the arguments of
the builder of the same name and check the size arguments as the builder
does; the others (activations, loss, optimizer, metrics, seed, name) are
accepted so that `param_count.mlp(**kwargs)` works wherever
`keras_recipes.mlp(**kwargs)` does, and they do not change the count. Counts
are worked out layer by layer from the formulas in `keras_recipes._counting.layers`,
never by building the model.
"""

from typing import NamedTuple

from keras_recipes import _validation
from keras_recipes._counting.record import ZERO, ParamCount
from keras_recipes._counting.layers import dense_weights

# === Argument checks ===
# The builders and the counts below both start with these.
MERGE_MODES = ("concatenate", "add", "average", "multiply", "maximum")


class BranchMergeSizes(NamedTuple):
    """The sizes of a `branch_merge()` model, checked and normalised."""

    input_dims: tuple
    trunk: tuple
    branches: tuple
    heads: tuple
    multi_input: bool
    multi_output: bool


def check_mlp_sizes(input_dim, units):
    """Check the sizes of `mlp()`; return `(input_dim, units)` normalised."""
    return (
        _validation.check_feature_count("input_dim", input_dim),
        _validation.check_units_list("units", units),
    )


def check_shared_mlp_sizes(input_dim, shared_units, bridge_units):
    """Check the sizes of `shared_mlp()`; return them normalised.

    The shared layer `f` reads `input_dim` features the first time and the
    bridge's output the second time, so the bridge must end at `input_dim`.
    """
    input_dim = _validation.check_feature_count("input_dim", input_dim)
    shared_units = _validation.check_positive_int("shared_units", shared_units)
    bridge_units = _validation.check_units_list("bridge_units", bridge_units, allow_empty=True)
    last = bridge_units[-1] if bridge_units else shared_units
    if last != input_dim:
        raise _validation.invalid(
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


def check_branch_merge_sizes(input_dim, trunk_units, branch_units, head_units, merge):
    """Check the sizes of `branch_merge()` and return them normalised.

    Returns:
        A `BranchMergeSizes`: `input_dims` has one entry per input,
        `branches` one tuple of widths per branch, `heads` one tuple of
        widths per head.
    """
    multi_input = _validation.is_sequence(input_dim)
    if multi_input:
        if not input_dim:
            raise _validation.invalid(
                "input_dim",
                "a positive integer or a non-empty list of them",
                input_dim,
            )
        input_dims = tuple(_validation.check_feature_count("input_dim", dim) for dim in input_dim)
    else:
        input_dims = (_validation.check_feature_count("input_dim", input_dim),)
    trunk = _validation.check_units_list("trunk_units", trunk_units, allow_empty=True)

    branches_expected = "a list of at least two lists of positive integers"
    if not _validation.is_sequence(branch_units):
        raise _validation.wrong_type("branch_units", branches_expected, branch_units)
    if len(branch_units) < 2:
        raise _validation.invalid(
            "branch_units",
            branches_expected,
            branch_units,
            "A merge needs two branches or more; use `[]` for a branch that "
            "passes its input through",
        )
    for branch in branch_units:
        if not _validation.is_sequence(branch):
            raise _validation.wrong_type("branch_units", branches_expected, branch_units)
    branches = tuple(
        _validation.check_units_list("branch_units", branch, allow_empty=True) for branch in branch_units
    )

    if multi_input:
        if len(input_dims) != len(branches):
            raise _validation.invalid(
                "input_dim",
                f"one input per branch, {len(branches)} in all",
                list(input_dims),
            )
        if trunk and len(set(input_dims)) > 1:
            raise _validation.invalid(
                "input_dim",
                "equal input widths when trunk_units is not empty, because "
                "the trunk's layers are shared by every input",
                list(input_dims),
            )

    heads_expected = (
        "a non-empty list of positive integers (one head), or a non-empty "
        "list of such lists (one output per head)"
    )
    if not _validation.is_sequence(head_units):
        raise _validation.wrong_type("head_units", heads_expected, head_units)
    if not head_units:
        raise _validation.invalid("head_units", heads_expected, head_units)
    multi_output = all(_validation.is_sequence(head) for head in head_units)
    if multi_output:
        heads = tuple(_validation.check_units_list("head_units", head) for head in head_units)
    elif any(_validation.is_sequence(head) for head in head_units):
        raise _validation.wrong_type("head_units", heads_expected, head_units)
    else:
        heads = (_validation.check_units_list("head_units", head_units),)

    merge = _validation.check_choice("merge", merge, MERGE_MODES)
    widths = [end for _, end in branch_widths(input_dims, trunk, branches, multi_input)]
    if merge != "concatenate" and len(set(widths)) > 1:
        raise _validation.invalid(
            "branch_units",
            f"branches of equal output width for merge={merge!r} (only "
            "'concatenate' joins different widths)",
            [list(branch) for branch in branches],
            f"The branches end at widths {widths}",
        )
    return BranchMergeSizes(
        input_dims=input_dims,
        trunk=trunk,
        branches=branches,
        heads=heads,
        multi_input=multi_input,
        multi_output=multi_output,
    )


# === Analytic counts of checked sizes ===
# What the builders hand to the size limit: no check runs twice.


def _stack(input_dim, units):
    """Weights of a stack of Dense layers of widths `units` on `input_dim` features."""
    total = 0
    for width in units:
        total += dense_weights(input_dim, width)
        input_dim = width
    return total


def mlp_weights(input_dim, units):
    """Weights of an `mlp()` of checked sizes: one Dense stack."""
    return _stack(input_dim, units)


def shared_mlp_weights(input_dim, shared_units, bridge_units):
    """Weights of a `shared_mlp()` of checked sizes; the shared layer counts once."""
    return dense_weights(input_dim, shared_units) + _stack(shared_units, bridge_units)


def branch_merge_weights(sizes, merge):
    """Weights of a `branch_merge()` of checked `BranchMergeSizes`; merge layers have none.

    The trunk counts once even when several inputs share it.
    """
    total = _stack(sizes.input_dims[0], sizes.trunk)
    pairs = branch_widths(sizes.input_dims, sizes.trunk, sizes.branches, sizes.multi_input)
    for branch, (start, _) in zip(sizes.branches, pairs):
        total += _stack(start, branch)
    widths = [end for _, end in pairs]
    merged = sum(widths) if merge == "concatenate" else widths[0]
    for head in sizes.heads:
        total += _stack(merged, head)
    return total


# === The counts of `keras_recipes.param_count` ===


def mlp(
    input_dim,
    units,
    *,
    activation="relu",
    output_activation=None,
    loss="mse",
    optimizer="adam",
    metrics=None,
    seed=None,
    name="mlp",
):
    """Parameters of `keras_recipes.mlp(input_dim, units, ...)`.

    Example:

    >>> mlp(2, [3, 2, 3]).total  # the lecture's Sequential model
    26
    """
    return ParamCount(mlp_weights(*check_mlp_sizes(input_dim, units)))


def shared_mlp(
    input_dim,
    shared_units,
    bridge_units,
    *,
    activation="relu",
    output_activation=None,
    loss="mse",
    optimizer="adam",
    metrics=None,
    seed=None,
    name="shared_mlp",
):
    """Parameters of `keras_recipes.shared_mlp(input_dim, shared_units, bridge_units, ...)`.

    The shared layer is applied twice but owns one set of weights, so it
    counts once.

    Example:

    >>> shared_mlp(2, 3, [2]).total  # 9 for the shared layer, 8 for the bridge
    17
    """
    return ParamCount(
        shared_mlp_weights(*check_shared_mlp_sizes(input_dim, shared_units, bridge_units))
    )


def branch_merge(
    input_dim,
    trunk_units,
    branch_units,
    head_units,
    *,
    merge="concatenate",
    activation="relu",
    output_activation=None,
    loss="mse",
    optimizer="adam",
    metrics=None,
    seed=None,
    name="branch_merge",
):
    """Parameters of `keras_recipes.branch_merge(...)`.

    The trunk counts once even when several inputs share it; merge layers
    have no weights.

    Example:

    >>> branch_merge(2, [1], [[], [2]], [1]).total  # the lecture's example
    11
    >>> branch_merge(2, [3], [[2], [1, 2]], [3]).total  # and its challenge
    40
    """
    sizes = check_branch_merge_sizes(input_dim, trunk_units, branch_units, head_units, merge)
    return ParamCount(branch_merge_weights(sizes, merge))


def averaging_layer(
    input_dim,
    *,
    loss="mse",
    optimizer="adam",
    metrics=None,
    name="averaging_layer",
):
    """Parameters of `keras_recipes.averaging_layer(input_dim, ...)`: none.

    Example:

    >>> averaging_layer(3)
    ParamCount(trainable=0, non_trainable=0)
    """
    _validation.check_feature_count("input_dim", input_dim)
    return ZERO
