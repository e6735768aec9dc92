"""Test-suite settings: the Hypothesis profile, the `no_building` fixture, `sys.path`.

The root `conftest.py` sets the Keras backend and TensorFlow's log level.
"""

import sys
from pathlib import Path

import keras
import pytest
from hypothesis import HealthCheck, settings

from keras_recipes._recipes.functional import branch_merge as _branch_merge
from keras_recipes.layers import FeatureMean

# With `--import-mode=importlib` pytest puts no test directory on `sys.path`;
# this one is, so that every test module can `import strategies`,
# `import helpers` and `import layer_testing`, and reach a family's own
# strategies as `from recipes.<family> import strategies` (tests/recipes/ is
# a package, one subpackage per recipe family, as in src/keras_recipes).
_TESTS_DIRECTORY = str(Path(__file__).parent)
if _TESTS_DIRECTORY not in sys.path:
    sys.path.insert(0, _TESTS_DIRECTORY)

# Each example builds real Keras layers (a few milliseconds each), so the
# profile keeps examples few and has no per-example deadline: the first build
# of a layer class traces TensorFlow functions and is much slower than the
# rest. No example database, so a test run writes no files.
settings.register_profile(
    "keras_recipes",
    max_examples=25,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("keras_recipes")


class BuiltSomething(AssertionError):
    """Raised by the constructors `no_building` patches: a recipe built before validating."""


@pytest.fixture
def no_building(monkeypatch):
    """Make every Keras constructor a recipe calls raise `BuiltSomething`; returns that class.

    Patched: `keras.Input`, `keras.Model`, `keras.layers.Dense` and
    `keras.layers.Activation`, which the recipes look up when they build, and
    the `__init__` of `FeatureMean` and of every merge layer class in
    `branch_merge`'s `_MERGE_LAYERS`: that table holds the classes taken at
    import time, which patching the name `keras.layers.Add` would not reach.
    A test that asks for the fixture gets the exception class, for
    `pytest.raises(no_building)` in the control tests.
    """

    def refuse(*args, **kwargs):
        raise BuiltSomething("a Keras object was built before validation")

    # Keras's `Operation.__new__` reads the name of `__init__`'s first
    # parameter, so a replacement `__init__` needs one (a bare `*args` would
    # fail there with IndexError instead of raising `BuiltSomething`).
    def refuse_init(self, *args, **kwargs):
        refuse()

    monkeypatch.setattr(keras, "Input", refuse)
    monkeypatch.setattr(keras, "Model", refuse)
    monkeypatch.setattr(keras.layers, "Dense", refuse)
    monkeypatch.setattr(keras.layers, "Activation", refuse)
    for cls in (*_branch_merge._MERGE_LAYERS.values(), FeatureMean):
        monkeypatch.setattr(cls, "__init__", refuse_init)
    return BuiltSomething


# === Backends ===
# The suite runs on whichever backend KERAS_BACKEND names (the root
# conftest.py defaults it to TensorFlow). A test that only makes sense on
# some backends says which, and why:
#     @pytest.mark.backend("tensorflow", reason="the TF profiler is the oracle")
# and is skipped elsewhere, with its reason shown by `pytest -rs`.
_BACKENDS = ("tensorflow", "jax", "torch")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "backend(*names, reason=None): run only on these Keras backends "
        f"({', '.join(_BACKENDS)}); skipped on the others with the reason",
    )


def pytest_collection_modifyitems(config, items):
    current = keras.backend.backend()
    for item in items:
        for marker in item.iter_markers(name="backend"):
            unknown = set(marker.args) - set(_BACKENDS)
            if not marker.args or unknown:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.backend takes one or more of "
                    f"{_BACKENDS}; received {marker.args}"
                )
            if current not in marker.args:
                reason = marker.kwargs.get("reason") or "specific to that backend"
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"{' or '.join(marker.args)} backend only "
                        f"(running on {current}): {reason}"
                    )
                )
