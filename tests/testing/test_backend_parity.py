"""`assert_same_on_backends`: one recipe on every installed backend, with the first one's weights."""

import functools
import importlib.util

import numpy as np
import pytest

import keras_recipes
from keras_recipes.testing import _parity, assert_same_on_backends

INPUTS = np.random.default_rng(0).standard_normal((4, 2)).astype("float32")


def test_mlp_is_the_same_on_every_installed_backend():
    """mlp's outputs and table agree on TensorFlow, JAX and PyTorch; backends not installed are reported skipped."""
    run = assert_same_on_backends(functools.partial(keras_recipes.mlp, 2, [3, 2, 3], seed=0), INPUTS)
    installed = tuple(name for name in _parity.BACKENDS if importlib.util.find_spec(name))
    assert run.compared == installed
    assert sorted(run.skipped) == sorted(set(_parity.BACKENDS) - set(installed))


def test_backends_not_installed_are_skipped_not_failed(monkeypatch):
    """A backend whose package is missing is in `skipped` with the reason, and no process is started for it."""
    monkeypatch.setattr(_parity.importlib.util, "find_spec", lambda name: None)
    run = assert_same_on_backends("keras_recipes:mlp", INPUTS, backends=("jax", "torch"))
    assert run.compared == ()
    assert run.skipped == {"jax": "jax is not installed", "torch": "torch is not installed"}


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({"build": "keras_recipes.mlp"}, ValueError, "`build`"),
        ({"build": 3}, TypeError, "`build`"),
        ({"build": lambda: None}, ValueError, "picklable"),
        ({"backends": ("tensorflow", "theano")}, ValueError, "`backends`"),
        ({"backends": ("jax", "jax")}, ValueError, "`backends`"),
        ({"backends": "jax"}, TypeError, "`backends`"),
        ({"inputs": {"a": 1}}, TypeError, "`inputs`"),
        ({"rtol": -1.0}, ValueError, "`rtol`"),
        ({"timeout": 0}, ValueError, "`timeout`"),
    ],
)
def test_bad_arguments_are_refused_before_any_process_starts(arguments, error, match):
    """A malformed builder, an unknown or repeated backend, non-array inputs, a bad tolerance or timeout: refused."""
    arguments = {"build": "keras_recipes:mlp", "inputs": INPUTS, **arguments}
    with pytest.raises(error, match=match):
        assert_same_on_backends(arguments.pop("build"), arguments.pop("inputs"), **arguments)
