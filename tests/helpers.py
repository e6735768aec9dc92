"""Numpy helpers and bad-input checks shared by the test modules.

Test modules `import helpers` (`tests/conftest.py` puts this folder on
`sys.path`). The `no_building` fixture and its `BuiltSomething` exception live
in `tests/conftest.py`.
"""

import os
import shutil

import keras
import numpy as np
import pytest


# === Numpy ===


def inputs(*shape, seed=1):
    """A float32 array of the given shape, drawn from a standard normal with `seed`."""
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def randomize(model, seed=0):
    """Give every weight of `model` random values, biases included."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights(
                [rng.normal(size=w.shape).astype("float32") for w in weights]
            )


def relu(z):
    """The rectified linear unit, max(z, 0), element-wise in numpy."""
    return np.maximum(z, 0.0)


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), element-wise in numpy."""
    return 1.0 / (1.0 + np.exp(-z))


# === Gradients on every backend ===


def gradients(function, variables):
    """Value and gradients of the scalar `function()` with respect to Keras `variables`, as numpy.

    Uses the running backend's own differentiation (TensorFlow's
    `GradientTape`, `jax.value_and_grad` through a `keras.StatelessScope`,
    `torch.autograd.grad`), so a gradient property is checked on each. A
    variable the value does not depend on gets zeros (TensorFlow and PyTorch
    say `None`, JAX zeros). Returns `(value, [gradient, ...])`.
    """
    variables = list(variables)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = function()
        raw = tape.gradient(value, [variable.value for variable in variables])
    elif backend == "jax":
        import jax

        def pure(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return function()

        value, raw = jax.value_and_grad(pure)([variable.value for variable in variables])
    elif backend == "torch":
        import torch

        value = function()
        raw = torch.autograd.grad(
            value, [variable.value for variable in variables], allow_unused=True
        )
    else:
        raise NotImplementedError(f"no gradient helper for the {backend} backend")
    numpy_gradients = [
        np.zeros(variable.shape, "float32")
        if gradient is None
        else keras.ops.convert_to_numpy(gradient)
        for variable, gradient in zip(variables, raw)
    ]
    return keras.ops.convert_to_numpy(value), numpy_gradients


# === Bad input ===
# A recipe's tests list `_VALID` as (argument, kwargs) and `_INVALID` as
# (argument, kwargs, error), each kwargs overriding the file's base arguments.


def case_ids(cases):
    """Test ids "argument-index" for a `_VALID` or `_INVALID` table."""
    return [f"{case[0]}-{index}" for index, case in enumerate(cases)]


def assert_builds(builder, kwargs):
    """Call `builder(**kwargs)`, check it returns a compiled keras.Model, and return it."""
    model = builder(**kwargs)
    assert isinstance(model, keras.Model)
    assert model.compiled
    return model


def assert_invalid(builder, kwargs, argument, error):
    """Check `builder(**kwargs)` raises `error` naming `argument` in backticks and ending in "Received: argument="."""
    with pytest.raises(error, match=rf"`{argument}`(.|\n)*Received: {argument}="):
        builder(**kwargs)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """`(width, height)` from a PNG's IHDR chunk; fails if the file is not a PNG."""
    with open(path, "rb") as image:
        head = image.read(24)
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG: {head[:8]!r}"
    assert head[12:16] == b"IHDR"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


# === Graphviz ===

# Graphviz's `dot` is a system program that pip cannot install, so a fresh
# machine has none. A test that draws (runs `dot`) is marked `needs_graphviz`:
# without `dot` it is skipped with a reason that starts "dot missing", which
# `.ci/run`'s no-Graphviz leg looks for. Where KERAS_RECIPES_REQUIRE_GRAPHVIZ=1
# (`.ci/run`'s other legs, which install Graphviz) it always runs, and fails
# if `dot` is missing. Tests of what `plot` refuses before drawing need no
# `dot` and are not marked.
GRAPHVIZ_MISSING_REASON = (
    "dot missing: Graphviz's dot program is not on PATH (apt-get install graphviz, "
    "brew install graphviz); KERAS_RECIPES_REQUIRE_GRAPHVIZ=1 makes this a failure"
)
needs_graphviz = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("KERAS_RECIPES_REQUIRE_GRAPHVIZ"),
    reason=GRAPHVIZ_MISSING_REASON,
)
