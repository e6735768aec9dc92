"""Assertions for tests of your own architectures.

- `assert_param_count(model, expected)` checks a model's parameters against
  what its author worked out, and on a mismatch fails with a per-layer diff.
- `assert_trains(model, x, y)` runs a few training steps on one fixed batch
  and checks that the model learns: finite, falling loss; gradients reach
  every trainable variable and each one changes; non-trainable variables
  change only as statistics, in training, never in inference.
- `assert_serializable(model)` saves and reloads the model under
  `safe_mode=True` and checks predictions and config.
- `assert_same_on_backends(build, inputs)` builds the model on each
  installed Keras backend, in a subprocess each, with the same weights,
  and checks that outputs and parameter tables agree.

The pytest plugin's `architecture_snapshot` fixture (installed with the
library) compares a model's per-layer table with a file stored beside the
test. The "Testing your architectures" page of the docs has a whole example.

Importing this module does not import Keras; each assertion imports it when
called.
"""

from keras_recipes.testing._param_count import assert_param_count
from keras_recipes.testing._parity import BackendRun, assert_same_on_backends
from keras_recipes.testing._training import assert_serializable, assert_trains

__all__ = [
    "BackendRun",
    "assert_param_count",
    "assert_same_on_backends",
    "assert_serializable",
    "assert_trains",
]
