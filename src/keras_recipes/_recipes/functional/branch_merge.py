"""The lecture's branch-and-merge model, with several inputs and outputs."""

import keras

from keras_recipes import _building, _validation
from keras_recipes._recipes.functional import spec

_MERGE_LAYERS = {
    "concatenate": keras.layers.Concatenate,
    "add": keras.layers.Add,
    "average": keras.layers.Average,
    "multiply": keras.layers.Multiply,
    "maximum": keras.layers.Maximum,
}


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
    """Builds a model that branches after a trunk, merges the branches, and ends in heads.

    The lecture's branch-and-merge model and its closing point, multi-input
    and multi-output models. The graph is:

        t = trunk(x)                       # Dense stack `trunk_units`
        b_i = branch_i(t)  for each i      # Dense stack `branch_units[i]`
        m = merge([b_0, b_1, ...])         # `merge` mode, no weights
        y_j = head_j(m)    for each head   # Dense stack, one output each

    An empty trunk or branch (`[]`) passes its input on. With a list
    `input_dim`, branch `i` reads `trunk(x_i)` through one shared trunk (a
    Siamese trunk). Only `"concatenate"` joins branches of different widths.

    Args:
        input_dim: number of input features, or a list with one per branch.
        trunk_units: Dense widths of the trunk; may be empty.
        branch_units: one list of Dense widths per branch, two branches or
            more; each may be empty.
        head_units: Dense widths of the head, or a list of them, one per
            output. Every head has at least one layer.
        merge: how branches join: `"concatenate"`, `"add"`, `"average"`,
            `"multiply"` or `"maximum"`. Defaults to `"concatenate"`.
        activation: activation of every Dense layer but the outputs.
            Defaults to `"relu"`.
        output_activation: activation of each head's last layer. Defaults to
            `None` (linear).
        loss: a Keras loss name, a `keras.losses.Loss`, or a callable
            `(y_true, y_pred)`, applied to every output. Defaults to `"mse"`.
        optimizer: an optimizer name or instance. Defaults to `"adam"`.
        metrics: list of metrics, tracked for every output. Defaults to
            `None`.
        seed: seed of the weight initialisers. Defaults to `None`.
        name: model name, and prefix of every layer name: `{name}_trunk_dense_{i}`,
            `{name}_branch_{b}_dense_{i}`, `{name}_merge`,
            `{name}_head_{h}_dense_{i}`, inputs `{name}_input` (or
            `{name}_input_{b}`). Defaults to `"branch_merge"`.

    Returns:
        A compiled `keras.Model`. Its inputs are one tensor, or a list with
        one per branch; its outputs one tensor, or a list with one per head.

    Raises:
        ValueError: a size is not positive, fewer than two branches, input
            and branch counts differ, widths cannot be merged, a string names
            nothing Keras knows, an output is a softmax over one unit, or the
            model is too big (over 2**31 - 1 numbers per sample or 2**31
            parameters, `keras_recipes.param_count.branch_merge`).
        TypeError: an argument has the wrong type.

    Example:

    >>> branch_merge(2, [1], [[], [2]], [1], output_activation="sigmoid").count_params()
    11
    >>> branch_merge(2, [3], [[2], [1, 2]], [3]).count_params()
    40
    >>> model = branch_merge([4, 6], [], [[8], [8]], [[1], [3]], merge="add")
    >>> [tuple(tensor.shape) for tensor in model.outputs]
    [(None, 1), (None, 3)]
    """
    sizes = spec.check_branch_merge_sizes(input_dim, trunk_units, branch_units, head_units, merge)
    input_dims, trunk, branches, heads, multi_input, multi_output = sizes
    _validation.check_buildable(
        "branch_merge",
        spec.branch_merge_weights(sizes, merge),
        {
            "input_dim": list(input_dims) if multi_input else input_dims[0],
            "trunk_units": list(trunk),
            "branch_units": [list(branch) for branch in branches],
            "head_units": [list(head) for head in heads] if multi_output else list(heads[0]),
        },
    )
    activation = _building.activation("activation", activation)
    output_activation = _building.activation("output_activation", output_activation)
    hidden = [*trunk, *(width for branch in branches for width in branch)]
    hidden += [width for head in heads for width in head[:-1]]
    _building.hidden_widths(
        "a layer of `trunk_units`, `branch_units` or a hidden one of `head_units`",
        activation,
        hidden,
    )
    for head in heads:
        _building.output_width("head_units", output_activation, head[-1])
    loss, optimizer, metrics, seed, name = _building.common(
        loss_value=loss,
        optimizer_value=optimizer,
        metrics_value=metrics,
        seed_value=seed,
        name_value=name,
    )

    # Seeded initializers are numbered through the whole model, in the order
    # of the layers below.
    layer_index = 0

    # === Inputs and trunk ===
    if multi_input:
        inputs = [
            keras.Input(shape=(dim,), name=f"{name}_input_{index}")
            for index, dim in enumerate(input_dims)
        ]
    else:
        inputs = [keras.Input(shape=(input_dims[0],), name=f"{name}_input")]
    # The trunk's layers are created once and called on every input, so that
    # several inputs share one set of trunk weights.
    trunk_layers = []
    for index, width in enumerate(trunk):
        trunk_layers.append(
            keras.layers.Dense(
                width,
                activation=activation,
                kernel_initializer=_building.kernel_initializer(seed, layer_index),
                name=f"{name}_trunk_dense_{index}",
            )
        )
        layer_index += 1
    trunk_outputs = []
    for tensor in inputs:
        for layer in trunk_layers:
            tensor = layer(tensor)
        trunk_outputs.append(tensor)
    if not multi_input:
        trunk_outputs = trunk_outputs * len(branches)

    # === Branches and merge ===
    branch_outputs = []
    for index, (branch, tensor) in enumerate(zip(branches, trunk_outputs)):
        branch_outputs.append(
            _building.dense_stack(
                tensor,
                branch,
                activation=activation,
                last_activation=activation,
                name=f"{name}_branch_{index}",
                seed=seed,
                first_index=layer_index,
            )
        )
        layer_index += len(branch)
    merged = _MERGE_LAYERS[merge](name=f"{name}_merge")(branch_outputs)

    # === Heads ===
    outputs = []
    for index, head in enumerate(heads):
        outputs.append(
            _building.dense_stack(
                merged,
                head,
                activation=activation,
                last_activation=output_activation,
                name=f"{name}_head_{index}",
                seed=seed,
                first_index=layer_index,
            )
        )
        layer_index += len(head)

    model = keras.Model(
        inputs if multi_input else inputs[0],
        outputs if multi_output else outputs[0],
        name=name,
    )
    return _building.compile_model(model, loss=loss, optimizer=optimizer, metrics=metrics)
