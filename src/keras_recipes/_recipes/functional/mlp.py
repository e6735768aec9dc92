"""The lecture's Sequential stack, as a functional model."""

import keras

from keras_recipes import _building, _validation
from keras_recipes._recipes.functional import spec


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
    """Builds a multilayer perceptron: a plain stack of Dense layers.

    The lecture's first model, `Sequential()` with one `Dense` after another,
    written with the functional API so that every hidden layer can be reached
    by name. `units` lists the width of every Dense layer, the last being the
    output; `len(units)` layers are built.

    Args:
        input_dim: number of input features.
        units: list of Dense widths, hidden layers first, output last.
        activation: activation of the hidden layers. Defaults to `"relu"`.
        output_activation: activation of the output layer. Defaults to
            `None` (linear).
        loss: a Keras loss name, a `keras.losses.Loss`, or a callable
            `(y_true, y_pred)`. Defaults to `"mse"`.
        optimizer: an optimizer name or instance. Defaults to `"adam"`.
        metrics: list of metrics. Defaults to `None`.
        seed: seed of the weight initialisers, for reproducible models.
            Defaults to `None`.
        name: model name, and prefix of every layer name
            (`f"{name}_dense_{i}"`). Defaults to `"mlp"`.

    Returns:
        A compiled `keras.Model` from `(batch, input_dim)` to
        `(batch, units[-1])`.

    Raises:
        ValueError: a size is not positive, a string names nothing Keras
            knows, or the output is a softmax over one unit.
            Sizes too big to build are refused too: a sample of more
            than 2**31 - 1 numbers, or a model of more than 2**31
            parameters (`keras_recipes.param_count.mlp` gives the
            count; 8 GiB of float32 weights, 24 GiB with Adam's state).
        TypeError: an argument has the wrong type.

    Example:

    >>> model = mlp(2, [3, 2, 3], activation=None, output_activation="sigmoid")
    >>> model.count_params()  # the lecture's model: 9 + 8 + 9
    26
    >>> [layer.name for layer in model.layers]
    ['mlp_input', 'mlp_dense_0', 'mlp_dense_1', 'mlp_dense_2']
    """
    input_dim, units = spec.check_mlp_sizes(input_dim, units)
    _validation.check_buildable(
        "mlp", spec.mlp_weights(input_dim, units), {"input_dim": input_dim, "units": list(units)}
    )
    activation = _building.activation("activation", activation)
    output_activation = _building.activation("output_activation", output_activation)
    _building.hidden_widths("a hidden layer of `units`", activation, units[:-1])
    _building.output_width("units", output_activation, units[-1])
    loss, optimizer, metrics, seed, name = _building.common(
        loss_value=loss,
        optimizer_value=optimizer,
        metrics_value=metrics,
        seed_value=seed,
        name_value=name,
    )

    inputs = keras.Input(shape=(input_dim,), name=f"{name}_input")
    outputs = _building.dense_stack(
        inputs,
        units,
        activation=activation,
        last_activation=output_activation,
        name=name,
        seed=seed,
        first_index=0,
    )
    model = keras.Model(inputs, outputs, name=name)
    return _building.compile_model(model, loss=loss, optimizer=optimizer, metrics=metrics)
