"""Keras 3 model recipes from a lecture on advanced Keras.

Every recipe is a builder function that returns a compiled `keras.Model`;
`keras_recipes.param_count` computes the same models' parameter counts in
pure Python.

Importing the package is cheap: Keras loads the first time a builder or
`keras_recipes.layers` is touched (PEP 562 lazy attributes). The one
exception: when Keras is already imported, the package registers its custom
layers straight away, so that `keras.saving.load_model` finds them.
"""

import importlib
import sys

from keras_recipes import param_count

__version__ = "0.1.0"

# Builders live in private modules named after them (`_mlp.py` holds `mlp`):
# a public submodule named `mlp` would replace the function `mlp` on the
# package as soon as anything imported the submodule.
_BUILDERS = {
    "mlp": "keras_recipes._mlp",
    "shared_mlp": "keras_recipes._shared_mlp",
    "branch_merge": "keras_recipes._branch_merge",
    "averaging_layer": "keras_recipes._averaging_layer",
    "vae": "keras_recipes._vae",
    "autoencoder": "keras_recipes._autoencoder",
    # Not a recipe: takes a part of any built model; loaded lazily all the same.
    "submodel": "keras_recipes._submodel",
    "split_brain_ae": "keras_recipes._split_brain_ae",
    "split_brain_targets": "keras_recipes._split_brain_ae",
    "split_brain_features": "keras_recipes._split_brain_ae",
}
_SUBMODULES = ("layers", "losses", "color", "data", "testing", "saving")

__all__ = ["param_count", *_BUILDERS, *_SUBMODULES]


def __getattr__(name):
    if name in _BUILDERS:
        # Whatever recipe is touched first, every class a saved recipe may
        # refer to gets registered (`layers` imports the rest).
        importlib.import_module("keras_recipes.layers")
        builder = getattr(importlib.import_module(_BUILDERS[name]), name)
        globals()[name] = builder
        return builder
    if name in _SUBMODULES:
        return importlib.import_module(f"keras_recipes.{name}")
    raise AttributeError(f"module 'keras_recipes' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


if "keras" in sys.modules:
    # Loading a saved model needs our layer classes registered; when Keras is
    # already loaded, registering them costs next to nothing.
    from keras_recipes import layers  # noqa: F401
