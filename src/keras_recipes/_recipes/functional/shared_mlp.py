"""The lecture's shared layer: one Dense layer applied at both ends of a model."""

import keras

from keras_recipes import _building, _validation
from keras_recipes._recipes.functional import spec


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
    """Builds `x -f-> u -bridge-> v -f-> y`, where `f` is one Dense layer used twice.

    The lecture's "black magic": the first and the last layer share their
    weights, which a Sequential model cannot express. `f = Dense(shared_units)`
    is one layer object, called on the input and again on the bridge's
    output, so it holds one kernel and one bias. The bridge is a Dense stack
    whose last width must equal `input_dim`, since `f` reads `input_dim`
    features both times.

    `f` itself is linear; the nonlinearity is an `Activation` layer after each
    use, `activation` after the first and `output_activation` after the
    second, so the shared weights can feed a hidden and an output
    nonlinearity. Activation layers have no weights.

        u = activation(f(x))
        v = bridge(u)          # Dense layers with `activation`
        y = output_activation(f(v))

    Args:
        input_dim: number of input features; also the bridge's last width.
        shared_units: width of the shared layer `f`, and of the output.
        bridge_units: list of the bridge's Dense widths, ending at
            `input_dim`. It may be empty when `shared_units == input_dim`
            (then `y = f(f(x))`).
        activation: activation after the first use of `f` and in the bridge.
            Defaults to `"relu"`.
        output_activation: activation after the second use of `f`. Defaults
            to `None` (linear).
        loss: a Keras loss name, a `keras.losses.Loss`, or a callable
            `(y_true, y_pred)`. Defaults to `"mse"`.
        optimizer: an optimizer name or instance. Defaults to `"adam"`.
        metrics: list of metrics. Defaults to `None`.
        seed: seed of the weight initialisers. Defaults to `None`.
        name: model name, and prefix of every layer name. Defaults to
            `"shared_mlp"`.

    Returns:
        A compiled `keras.Model` from `(batch, input_dim)` to
        `(batch, shared_units)`; the shared layer is `f"{name}_shared"`.

    Raises:
        ValueError: a size is not positive, the bridge does not end at
            `input_dim`, a string names nothing Keras knows, or the output is
            a softmax over one unit.
            Sizes too big to build are refused too: a sample of more
            than 2**31 - 1 numbers, or a model of more than 2**31
            parameters (`keras_recipes.param_count.shared_mlp` gives the
            count; 8 GiB of float32 weights, 24 GiB with Adam's state).
        TypeError: an argument has the wrong type.

    Example:

    >>> model = shared_mlp(2, 3, [2])
    >>> model.count_params()  # 9 for f, 8 for the bridge
    17
    >>> len(model.get_layer("shared_mlp_shared").weights)  # one kernel, one bias
    2
    """
    input_dim, shared_units, bridge_units = spec.check_shared_mlp_sizes(
        input_dim, shared_units, bridge_units
    )
    _validation.check_buildable(
        "shared_mlp",
        spec.shared_mlp_weights(input_dim, shared_units, bridge_units),
        {"input_dim": input_dim, "shared_units": shared_units, "bridge_units": list(bridge_units)},
    )
    activation = _building.activation("activation", activation)
    output_activation = _building.activation("output_activation", output_activation)
    _building.hidden_widths(
        "`shared_units` or a layer of `bridge_units`", activation, (shared_units, *bridge_units)
    )
    _building.output_width("shared_units", output_activation, shared_units)
    loss, optimizer, metrics, seed, name = _building.common(
        loss_value=loss,
        optimizer_value=optimizer,
        metrics_value=metrics,
        seed_value=seed,
        name_value=name,
    )

    inputs = keras.Input(shape=(input_dim,), name=f"{name}_input")
    shared = keras.layers.Dense(
        shared_units,
        kernel_initializer=_building.kernel_initializer(seed, 0),
        name=f"{name}_shared",
    )
    hidden = keras.layers.Activation(activation, name=f"{name}_shared_activation_0")(
        shared(inputs)
    )
    # === Bridge ===
    bridge = _building.dense_stack(
        hidden,
        bridge_units,
        activation=activation,
        last_activation=activation,
        name=f"{name}_bridge",
        seed=seed,
        first_index=1,
    )
    outputs = keras.layers.Activation(
        output_activation, name=f"{name}_shared_activation_1"
    )(shared(bridge))
    model = keras.Model(inputs, outputs, name=name)
    return _building.compile_model(model, loss=loss, optimizer=optimizer, metrics=metrics)
