"""`keras_recipes.saving.load_model`: every recipe's file loads through it and predicts the same.

The crafted, hostile files it refuses are in `tests/test_hostile_files.py`.
"""

import keras
import numpy as np
import pytest
from test_recipes import RECIPES, _id

import keras_recipes
from keras_recipes import saving


@pytest.mark.parametrize("row", RECIPES, ids=[_id(row) for row in RECIPES])
def test_every_recipe_loads_through_the_checked_loader_and_predicts_the_same(row, tmp_path):
    """A saved recipe passes the check, loads with safe_mode=True, and predicts what the original did."""
    name, args, kwargs, _ = row
    model = getattr(keras_recipes, name)(*args, **kwargs)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = saving.load_model(path)
    assert type(loaded) is type(model)
    inputs = [
        np.random.default_rng(0).uniform(size=(2, *tensor.shape[1:])).astype("float32")
        for tensor in model.inputs
    ]
    inputs = inputs[0] if len(inputs) == 1 else inputs
    # Direct calls, not `predict`: no compiled predict function to trace.
    expected = keras.tree.flatten(model(inputs, training=False))
    actual = keras.tree.flatten(loaded(inputs, training=False))
    # A VAE's reconstruction decodes a fresh draw of `z`; its other outputs,
    # `z_mean` and `z_log_var`, must agree.
    compared = slice(1, None) if name == "vae" else slice(None)
    assert len(actual) == len(expected)
    for want, got in zip(expected[compared], actual[compared]):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(want), rtol=1e-6, atol=1e-6
        )
    assert loaded.optimizer is not None and loaded.compiled


def test_compile_false_loads_uncompiled(tmp_path):
    """`compile=False` is passed on to Keras: the model loads without its optimizer."""
    path = tmp_path / "mlp.keras"
    keras_recipes.mlp(2, [3]).save(path)
    assert not saving.load_model(path, compile=False).compiled


@pytest.mark.parametrize(
    ("filepath", "custom_objects", "error"),
    [(3, None, TypeError), ("model.keras", ["Touch"], TypeError), ("missing.keras", None, ValueError)],
)
def test_library_loader_refuses_bad_arguments(filepath, custom_objects, error, tmp_path, monkeypatch):
    """A path that is not one, a list for `custom_objects`, or no file: refused, naming the argument."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error) as info:
        saving.load_model(filepath, custom_objects=custom_objects)
    assert "`filepath`" in str(info.value) or "`custom_objects`" in str(info.value)
    assert "Received:" in str(info.value)
