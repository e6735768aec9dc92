"""Checks every recipe must pass, driven by one table: a new recipe adds a row."""

import math
import warnings

import keras
import numpy as np
import pytest

import keras_recipes
from keras_recipes import param_count

# One row per configuration: (builder name, positional arguments, keyword
# arguments, expected output shapes without the batch axis). The lecture's
# models come first; the others reach the branches of each builder.
RECIPES = [
    ("mlp", (2, [3, 2, 3]), {"activation": None, "output_activation": "sigmoid"}, [(3,)]),
    ("mlp", (5, [1]), {"output_activation": "sigmoid", "seed": 3}, [(1,)]),
    ("shared_mlp", (2, 3, [2]), {}, [(3,)]),
    ("shared_mlp", (4, 4, []), {"output_activation": "tanh"}, [(4,)]),
    ("branch_merge", (2, [1], [[], [2]], [1]), {"output_activation": "sigmoid"}, [(1,)]),
    ("branch_merge", (2, [3], [[2], [1, 2]], [3]), {}, [(3,)]),
    ("branch_merge", (3, [], [[4], [4], [2, 4]], [2]), {"merge": "average"}, [(2,)]),
    (
        "branch_merge",
        ([4, 4], [5], [[5], []], [[1], [2, 3]]),
        {"merge": "maximum", "seed": 7},
        [(1,), (3,)],
    ),
    ("averaging_layer", (3,), {}, [(1,)]),
    ("vae", ((6,), 2), {"hidden_units": (5, 3), "seed": 1}, [(6,), (2,), (2,)]),
    (
        "vae",
        ((8, 8, 2), 3),
        {"architecture": "conv", "filters": (2, 3), "intermediate_dim": 4, "reconstruction_loss": "squared_error"},
        [(8, 8, 2), (3,), (3,)],
    ),
    ("autoencoder", ((6,), 2), {"hidden_units": (4,), "seed": 2}, [(6,)]),
    (
        "autoencoder",
        ((4, 4, 3), 2),
        {"architecture": "conv", "filters": (2,), "intermediate_dim": 3, "noise_stddev": 0.1},
        [(4, 4, 3)],
    ),
    (
        "split_brain_ae",
        ((16, 16, 3),),
        {"architecture": "small", "width_multiplier": 0.125, "seed": 0},
        [(4, 4, 261), (4, 4, 50)],
    ),
]

# Recipes whose loss needs no separate targets (the autoencoders
# reconstruct their input; the split-brain autoencoder derives its targets
# from its input): the shared fit check trains them on `model.fit(x)`.
TRAINS_WITHOUT_TARGETS = {"vae", "autoencoder", "split_brain_ae"}

# Functions the package exports lazily beside the builders; they take a
# built model and need no row.
MODEL_HELPERS = {
    "split_brain_targets", "split_brain_features", "submodel",
    "vae_nll", "latent_diagnostics", "LatentMonitor",
}

# Sub-models that recipes expose under fixed names, so that code written for
# one recipe reaches them in another; the layers inside them still derive
# their names from the model's.
FIXED_SUB_MODEL_NAMES = {"encoder", "decoder"}


def _id(row):
    name, args, kwargs, _ = row
    text = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    return f"{name}({text})"


@pytest.fixture(params=RECIPES, ids=[_id(row) for row in RECIPES])
def recipe(request):
    """A freshly built model of one table row, with the row itself."""
    name, args, kwargs, output_shapes = request.param
    model = getattr(keras_recipes, name)(*args, **kwargs)
    return name, args, kwargs, output_shapes, model


def _random_like(tensors, batch_size, seed):
    """Uniform data shaped like `tensors`: one array, or a list for several."""
    rng = np.random.default_rng(seed)
    arrays = [
        rng.uniform(0.0, 1.0, (batch_size, *tensor.shape[1:])).astype("float32")
        for tensor in tensors
    ]
    return arrays if len(arrays) > 1 else arrays[0]


def _inputs(model, batch_size=4, seed=0):
    return _random_like(model.inputs, batch_size, seed)


def _targets(model, batch_size=4, seed=1):
    return _random_like(model.outputs, batch_size, seed)


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_builds_a_compiled_functional_model(recipe):
    """The builder returns a compiled functional keras.Model named after `name`."""
    name, _, kwargs, _, model = recipe
    assert isinstance(model, keras.Model)
    assert model.compiled
    assert model.optimizer is not None
    assert model.name == kwargs.get("name", name)
    assert model.built


def test_output_shapes(recipe):
    """The model's outputs, and its predictions, have the documented shapes."""
    _, _, _, output_shapes, model = recipe
    assert [tuple(tensor.shape[1:]) for tensor in model.outputs] == output_shapes
    predictions = _as_list(model.predict(_inputs(model, batch_size=5), verbose=0))
    assert [prediction.shape for prediction in predictions] == [
        (5, *shape) for shape in output_shapes
    ]


def test_one_fit_step_gives_a_finite_loss(recipe):
    """One step of `fit` runs and reports a finite loss."""
    name, _, _, _, model = recipe
    targets = None if name in TRAINS_WITHOUT_TARGETS else _targets(model)
    with warnings.catch_warnings():
        # The averaging model has no weights to train, and Keras says so.
        warnings.filterwarnings("ignore", "The model does not have any trainable weights")
        history = model.fit(_inputs(model), targets, epochs=1, batch_size=4, verbose=0)
    assert math.isfinite(history.history["loss"][-1])


def test_count_params_equals_param_count(recipe):
    """`count_params()` and the trainable/non-trainable split equal param_count's."""
    name, args, kwargs, _, model = recipe
    expected = getattr(param_count, name)(*args, **kwargs)
    assert model.count_params() == expected.total
    assert sum(math.prod(w.shape) for w in model.trainable_weights) == expected.trainable
    assert (
        sum(math.prod(w.shape) for w in model.non_trainable_weights)
        == expected.non_trainable
    )


def test_save_and_safe_load_give_the_same_predictions(recipe, tmp_path):
    """A `.keras` save loads back with safe_mode=True, silently, and predicts the same."""
    _, _, _, _, model = recipe
    inputs = _inputs(model, batch_size=3)
    path = tmp_path / "model.keras"
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        loaded = keras.saving.load_model(path)  # safe_mode=True is the default
    assert loaded.count_params() == model.count_params()
    for before, after in zip(
        _as_list(model.predict(inputs, verbose=0)),
        _as_list(loaded.predict(inputs, verbose=0)),
    ):
        np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-6)


def test_no_lambda_layers(recipe):
    """No recipe contains a Lambda layer, which safe_mode cannot load."""
    _, _, _, _, model = recipe
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)


def test_layer_names_derive_from_name(recipe):
    """Every layer name starts with the model name, so two models can share a graph."""
    name, args, kwargs, _, _ = recipe
    model = getattr(keras_recipes, name)(*args, **{**kwargs, "name": "custom"})
    assert model.name == "custom"
    for layer in model.layers:
        if layer.name in FIXED_SUB_MODEL_NAMES:
            assert all(inner.name.startswith("custom_") for inner in layer.layers)
        else:
            assert layer.name.startswith("custom_")
    other = getattr(keras_recipes, name)(*args, **{**kwargs, "name": "other"})
    combined_inputs = [keras.Input(tensor.shape[1:]) for tensor in model.inputs]
    feed = combined_inputs if len(combined_inputs) > 1 else combined_inputs[0]
    combined = keras.Model(combined_inputs, [*_as_list(model(feed)), *_as_list(other(feed))])
    assert combined.count_params() == 2 * model.count_params()


def test_table_covers_every_builder():
    """Every builder the package exports has at least one row in the table."""
    covered = {row[0] for row in RECIPES}
    builders = {
        name
        for name in keras_recipes.__all__
        if name not in ("param_count", *keras_recipes._SUBMODULES, *MODEL_HELPERS)
    }
    assert builders <= covered


@pytest.fixture
def channels_first():
    """Keras's global image format set to "channels_first" (as keras.json may), restored after."""
    before = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        yield
    finally:
        keras.config.set_image_data_format(before)


def _seeded_build(name, args, kwargs):
    # Rows without a `seed` draw their initial weights from Keras's global
    # generator, which this resets: two builds then start from equal weights.
    keras.utils.set_random_seed(0)
    return getattr(keras_recipes, name)(*args, **kwargs)


@pytest.mark.parametrize("row", RECIPES, ids=[_id(row) for row in RECIPES])
def test_the_global_image_format_does_not_change_the_model(row, request):
    """Under a global "channels_first" setting every recipe builds the model it builds under
    "channels_last": param_count's count, and the same outputs (and split-brain targets) for
    the same seed and inputs."""
    name, args, kwargs, _ = row
    reference = _seeded_build(name, args, kwargs)
    inputs = _inputs(reference, batch_size=3)
    expected = _as_list(reference.predict(inputs, verbose=0))
    request.getfixturevalue("channels_first")
    model = _seeded_build(name, args, kwargs)
    assert model.count_params() == getattr(param_count, name)(*args, **kwargs).total
    for before, after in zip(expected, _as_list(model.predict(inputs, verbose=0)), strict=True):
        np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)
    if name == "split_brain_ae":
        for before, after in zip(
            keras_recipes.split_brain_targets(inputs, reference),
            keras_recipes.split_brain_targets(inputs, model),
            strict=True,
        ):
            np.testing.assert_array_equal(after, before)
