"""Custom Keras layers of the recipes, registered for safe loading.

Every layer here is registered under the package name `keras_recipes`, so a
model that contains it saves to `.keras` and loads back with the default
`safe_mode=True`, which a `Lambda` layer cannot do. Import this module (or
`keras_recipes` after Keras) before `keras.saving.load_model`.
"""

import keras
from keras import ops


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


# The split-brain autoencoder's classes live beside its builder; re-exported
# here so that they are registered whenever this module is.
from keras_recipes._split_brain_layers import (  # noqa: E402
    SelectChannels,
    SplitBrainAutoencoder,
)

__all__ = ["FeatureMean", "SelectChannels", "SplitBrainAutoencoder"]
