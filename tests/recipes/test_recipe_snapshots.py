"""Every recipe's per-layer table, at the command line's default arguments, against its committed snapshot.

The snapshots under tests/recipes/__snapshots__/test_recipe_snapshots/ are
the architectures as reviewed: a change to a builder that alters any layer's
path, class, build shape, counts, MACs or output bytes fails here with a
per-layer diff. The tables are pure Python from the models' configs, so the
same files hold on TensorFlow, JAX and PyTorch. After an intended change:
`pytest tests/recipes/test_recipe_snapshots.py --architecture-snapshot-update`,
then review the diff of the JSON files and commit them.
"""

import pytest

import keras_recipes
from keras_recipes._recipes.registry import RECIPES


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda recipe: recipe.name)
def test_recipe_architecture(recipe, architecture_snapshot):
    """The recipe built with its command-line defaults has exactly its snapshot's layers and totals."""
    architecture_snapshot(getattr(keras_recipes, recipe.name)(**recipe.cli_defaults))
