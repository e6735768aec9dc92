"""The lecture's custom layer: each sample's output is the mean of its features."""

import keras
from keras import ops

from keras_recipes import _building, _validation


@keras.saving.register_keras_serializable(package="keras_recipes")
class FeatureMean(keras.layers.Layer):
    """Averages each sample's features into one number.

    The lecture's custom layer. For an input of shape `(batch, d1, ..., dn)`
    the output has shape `(batch, 1)` and holds, for each sample, the mean of
    its `d1 * ... * dn` features. The batch axis is never averaged over, unlike
    the lecture's Lambda layer around `K.mean(x)`, which returned one number for
    the whole batch. The layer has no weights.

    Example:

    >>> import numpy as np
    >>> outputs = FeatureMean()(np.array([[1.0, 2.0, 6.0], [0.0, 0.0, 3.0]]))
    >>> keras.ops.convert_to_numpy(outputs).tolist()
    [[3.0], [1.0]]
    """

    def call(self, inputs):
        inputs = ops.convert_to_tensor(inputs)
        features = list(range(1, len(inputs.shape)))
        if not features:
            raise ValueError(
                "Invalid input for layer `FeatureMean`: expected a batch of "
                f"samples of rank 2 or more. Received: inputs.shape={inputs.shape}"
            )
        mean = ops.mean(inputs, axis=features)
        return ops.expand_dims(mean, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)


def averaging_layer(
    input_dim,
    *,
    loss="mse",
    optimizer="adam",
    metrics=None,
    name="averaging_layer",
):
    """Builds a model whose output is the mean of each sample's features.

    The lecture's custom-layer example, built on the registered layer
    `keras_recipes.layers.FeatureMean` rather than a `Lambda`, so the model
    loads back with `safe_mode=True`. Each sample is averaged on its own; the
    lecture's `K.mean` averaged the whole batch into one number. The model has
    no weights, so it takes no `activation`, `output_activation` or `seed`.

    Args:
        input_dim: number of input features.
        loss: a Keras loss name, a `keras.losses.Loss`, or a callable
            `(y_true, y_pred)`. Defaults to `"mse"`.
        optimizer: an optimizer name or instance. Defaults to `"adam"`.
        metrics: list of metrics. Defaults to `None`.
        name: model name, and prefix of the layer names. Defaults to
            `"averaging_layer"`.

    Returns:
        A compiled `keras.Model` from `(batch, input_dim)` to `(batch, 1)`
        with 0 parameters.

    Raises:
        ValueError: `input_dim` is not positive or is above 2**31 - 1
            features (one sample would be 8 GiB as float32), or a string
            names nothing Keras knows.
        TypeError: an argument has the wrong type.

    Example:

    >>> import numpy as np
    >>> model = averaging_layer(3)
    >>> model.predict(np.array([[1.0, 2.0, 6.0]]), verbose=0).tolist()
    [[3.0]]
    """
    input_dim = _validation.check_feature_count("input_dim", input_dim)
    loss, optimizer, metrics, _, name = _building.common(
        loss_value=loss,
        optimizer_value=optimizer,
        metrics_value=metrics,
        seed_value=None,
        name_value=name,
    )

    inputs = keras.Input(shape=(input_dim,), name=f"{name}_input")
    outputs = FeatureMean(name=f"{name}_mean")(inputs)
    model = keras.Model(inputs, outputs, name=name)
    return _building.compile_model(model, loss=loss, optimizer=optimizer, metrics=metrics)
