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
from keras_recipes._recipes import registry as _registry

__version__ = "0.1.0"

# Builders live in private modules, one folder per family under `_recipes/`
# (`_recipes/functional/mlp.py` holds `mlp`), listed once in
# `_recipes/registry.py`: a public submodule named `mlp` would replace the
# function `mlp` on the package as soon as anything imported the submodule.
_BUILDERS = {
    **{recipe.name: recipe.module for recipe in _registry.RECIPES},
    # Not recipes: they take a built model; loaded lazily all the same.
    **{helper.name: helper.module for helper in _registry.HELPERS},
}
_SUBMODULES = (
    "layers",
    "losses",
    "initializers",
    "batching",
    "color",
    "data",
    "testing",
    "saving",
)

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
