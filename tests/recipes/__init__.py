"""Tests of the recipes, one folder per family as in `src/keras_recipes`.

A package, so that each family's `strategies` module is imported by its full
name (`from recipes.functional import strategies`) and two families may hold
test files of one basename; `tests/conftest.py` puts `tests/` on `sys.path`.
"""
