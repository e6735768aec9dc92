"""The recipes, one folder per family; `registry.py` lists them once.

Each family's `spec.py` is pure Python (argument checks, geometry, analytic
counts) and is read by both the family's builders and
`keras_recipes.param_count`; this package and the families' `__init__.py`
import nothing, so `import keras_recipes.param_count` loads no Keras.
"""
