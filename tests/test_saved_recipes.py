"""Models saved by an earlier keras-recipes load under `safe_mode=True` and predict as they did.

The files in `tests/data/saved_recipes/` were written by
`tests/data/make_saved_recipes.py` on main at 0fd2972 (2026-12-07), before the
recipes moved into one folder per family; they pin the registered names and
the configurations those files carry.
"""

import importlib.util
import pathlib

import keras
import numpy as np
import pytest

import keras_recipes
from keras_recipes import param_count

DATA = pathlib.Path(__file__).parent / "data"


def _generator():
    spec = importlib.util.spec_from_file_location("make_saved_recipes", DATA / "make_saved_recipes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
CONFIGURATIONS = GENERATOR.CONFIGURATIONS
# Functions the package exports beside the builders that take a built model.
MODEL_HELPERS = {
    "split_brain_targets", "split_brain_features", "submodel",
    "vae_nll", "latent_diagnostics", "LatentMonitor",
}


def test_every_recipe_has_a_saved_file():
    """Each builder of `keras_recipes` has at least one file saved before the move."""
    builders = {name for name in keras_recipes.__all__ if callable(getattr(keras_recipes, name))}
    assert {builder for _, builder, *_ in CONFIGURATIONS} == builders - MODEL_HELPERS


@pytest.mark.parametrize("stem", [row[0] for row in CONFIGURATIONS])
def test_saved_file_loads_safely_and_predicts_as_before(stem):
    """The file loads with `safe_mode=True` and gives the outputs recorded when it was saved."""
    model = keras.saving.load_model(DATA / "saved_recipes" / f"{stem}.keras", safe_mode=True)
    with np.load(DATA / "saved_recipes" / f"{stem}.npz", allow_pickle=False) as arrays:
        inputs = [arrays[key] for key in sorted(arrays.files) if key.startswith("input_")]
        expected = [arrays[f"output_{i}"] for i in range(len(arrays.files) - len(inputs))]
    outputs = GENERATOR.deterministic_outputs(stem, model, inputs[0] if len(inputs) == 1 else inputs)
    assert len(outputs) == len(expected)
    for output, want in zip(outputs, expected):
        np.testing.assert_allclose(np.asarray(output), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("stem", [row[0] for row in CONFIGURATIONS])
def test_saved_file_keeps_its_registered_classes(stem):
    """Every custom class in the file resolves to a class registered under `keras_recipes>`."""
    model = keras.saving.load_model(DATA / "saved_recipes" / f"{stem}.keras", safe_mode=True)
    table = param_count.count_config(DATA / "saved_recipes" / f"{stem}.keras")
    assert table.total.total == model.count_params()
    assert table.macs is not None
    layers = [model, *model._flatten_layers(include_self=False)]
    for layer in layers:
        if type(layer).__module__.startswith("keras_recipes"):
            assert keras.saving.get_registered_name(type(layer)).startswith("keras_recipes>")
