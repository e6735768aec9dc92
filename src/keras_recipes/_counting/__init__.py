"""The counting base: the `ParamCount` record and the layer formulas, in pure Python.

It sits below both `keras_recipes.param_count` (which re-exports it) and the
recipe families' specs (whose analytic counts are sums of these formulas), so
that `param_count` can re-export the specs' counts without an import cycle:
importing `keras_recipes.param_count._anything` runs `param_count/__init__.py`,
which imports the specs. Imports nothing of the package but `_validation`.
"""
