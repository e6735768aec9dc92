"""Custom Keras layers of the recipes, registered for safe loading.

Every layer here is registered under the package name `keras_recipes`, so a
model that contains it saves to `.keras` and loads back with the default
`safe_mode=True`, which a `Lambda` layer cannot do. Import this module (or
`keras_recipes` after Keras) before `keras.saving.load_model`.
"""

# Every class a saved recipe refers to lives beside its builder (or, for
# `Sampling`, in its own module); importing them here registers every class
# of the library whenever this module is imported, so
# `import keras_recipes.layers` is all `keras.saving.load_model` needs.
from keras_recipes import _autoencoder, _vae, losses  # noqa: F401
from keras_recipes._averaging_layer import FeatureMean
from keras_recipes._sampling import Sampling
from keras_recipes._split_brain_layers import SelectChannels, SplitBrainAutoencoder

__all__ = ["FeatureMean", "Sampling", "SelectChannels", "SplitBrainAutoencoder"]
