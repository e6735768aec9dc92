"""Parameter counts of this library's recipes, from the builders' arguments.

Each function takes exactly the arguments of the builder of the same name and
checks the size arguments as the builder does; the others (activations,
loss, optimizer, metrics, seed, name) are accepted so that
`param_count.mlp(**kwargs)` works wherever `keras_recipes.mlp(**kwargs)`
does, and they do not change the count. Counts are worked out layer by
layer from the formulas in `_layers.py`, never by building the model.
"""

from keras_recipes import _validation
from keras_recipes.param_count._count import ZERO, ParamCount
from keras_recipes.param_count._layers import dense_weights


def _stack(input_dim, units):
    """Weights of a stack of Dense layers of widths `units` on `input_dim` features."""
    total = 0
    for width in units:
        total += dense_weights(input_dim, width)
        input_dim = width
    return total


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
    input_dim, units = _validation.mlp_sizes(input_dim, units)
    return ParamCount(_stack(input_dim, units))


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
    input_dim, shared_units, bridge_units = _validation.shared_mlp_sizes(
        input_dim, shared_units, bridge_units
    )
    return ParamCount(
        dense_weights(input_dim, shared_units) + _stack(shared_units, bridge_units)
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
    input_dims, trunk, branches, heads, multi_input, _ = _validation.branch_merge_sizes(
        input_dim, trunk_units, branch_units, head_units, merge
    )
    total = _stack(input_dims[0], trunk)
    pairs = _validation.branch_widths(input_dims, trunk, branches, multi_input)
    for branch, (start, _) in zip(branches, pairs):
        total += _stack(start, branch)
    widths = [end for _, end in pairs]
    merged = sum(widths) if merge == "concatenate" else widths[0]
    for head in heads:
        total += _stack(merged, head)
    return ParamCount(total)


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
    _validation.feature_count("input_dim", input_dim)
    return ZERO
