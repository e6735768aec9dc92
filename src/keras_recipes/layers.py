"""Custom Keras layers of the recipes, registered for safe loading.

Every layer here is registered under the package name `keras_recipes`, so a
model that contains it saves to `.keras` and loads back with the default
`safe_mode=True`, which a `Lambda` layer cannot do. Import this module (or
`keras_recipes` after Keras) before `keras.saving.load_model`.
"""

# A face: every class lives in its family's folder under `_recipes/`.
# Importing the builders' modules here registers every class of the library
# (the model classes `VariationalAutoencoder`, `Autoencoder` and the losses
# too) whenever this module is imported, so `import keras_recipes.layers` is
# all `keras.saving.load_model` needs.
from keras_recipes import initializers  # noqa: F401
from keras_recipes._recipes.autoencoders import autoencoder, losses, schedules, vae  # noqa: F401
from keras_recipes._recipes.autoencoders.sampling import Sampling
from keras_recipes._recipes.functional.averaging_layer import FeatureMean
from keras_recipes._recipes.split_brain.layers import SelectChannels, SplitBrainAutoencoder

__all__ = ["FeatureMean", "Sampling", "SelectChannels", "SplitBrainAutoencoder"]
