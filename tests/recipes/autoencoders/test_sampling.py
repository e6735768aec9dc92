"""Tests of `keras_recipes.layers.Sampling`, the VAE's reparameterisation layer."""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import layer_testing  # tests/layer_testing.py, likewise
import numpy as np
import pytest

from keras_recipes.layers import Sampling


def _gaussian_inputs(batch, latent_dim, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(batch, latent_dim)).astype("float32"),
        rng.uniform(-2, 1, size=(batch, latent_dim)).astype("float32"),
    )


def test_sampling_draws_from_the_given_gaussians():
    """Over 20,000 draws of one (mean, log-variance), z has mean z_mean and standard deviation exp(0.5 * z_log_var)."""
    z_mean = np.tile(np.array([[1.5, -2.0, 0.0]], "float32"), (20_000, 1))
    z_log_var = np.tile(np.array([[0.0, -1.0, 1.5]], "float32"), (20_000, 1))
    z = keras.ops.convert_to_numpy(Sampling(seed=0)([z_mean, z_log_var]))
    sigma = np.exp(0.5 * z_log_var[0])
    # Standard errors: sigma / sqrt(n) for the mean, about sigma / sqrt(2n) for the std.
    np.testing.assert_allclose(z.mean(axis=0), z_mean[0], atol=4 * sigma.max() / np.sqrt(20_000))
    np.testing.assert_allclose(z.std(axis=0), sigma, rtol=0.03)


def test_sampling_is_the_reparameterisation_of_its_noise():
    """(z - z_mean) / exp(0.5 * z_log_var) is the same noise whatever the mean and variance, for one seed."""
    z_mean, z_log_var = _gaussian_inputs(4, 3)
    z = keras.ops.convert_to_numpy(Sampling(seed=5)([z_mean, z_log_var]))
    epsilon = keras.ops.convert_to_numpy(
        Sampling(seed=5)([np.zeros_like(z_mean), np.zeros_like(z_log_var)])
    )
    np.testing.assert_allclose(z, z_mean + np.exp(0.5 * z_log_var) * epsilon, rtol=1e-5, atol=1e-6)


def test_sampling_gradients_reach_the_mean_and_the_log_variance():
    """dz/dz_mean = 1 and dz/dz_log_var = 0.5 * exp(0.5 * z_log_var) * epsilon: the noise is outside the gradient path."""
    mean_array, log_var_array = _gaussian_inputs(3, 2, seed=1)
    z_mean, z_log_var = keras.Variable(mean_array), keras.Variable(log_var_array)
    _, (by_mean, by_log_var) = helpers.gradients(
        lambda: keras.ops.sum(Sampling(seed=2)([z_mean, z_log_var])), [z_mean, z_log_var]
    )
    # A new layer with the same seed draws the same first noise.
    z = keras.ops.convert_to_numpy(Sampling(seed=2)([mean_array, log_var_array]))
    epsilon = (z - mean_array) / np.exp(0.5 * log_var_array)
    np.testing.assert_allclose(by_mean, np.ones((3, 2)), rtol=1e-6)
    np.testing.assert_allclose(
        by_log_var, 0.5 * np.exp(0.5 * log_var_array) * epsilon, rtol=1e-5, atol=1e-6
    )


def test_same_seed_draws_the_same_noise_and_successive_calls_differ():
    """Two layers with one seed draw the same z call for call; each call draws anew; other seeds differ."""
    inputs = list(_gaussian_inputs(5, 2, seed=2))
    layer_a, layer_b, other = Sampling(seed=7), Sampling(seed=7), Sampling(seed=8)
    first_a, first_b = layer_a(inputs), layer_b(inputs)
    second_a, second_b = layer_a(inputs), layer_b(inputs)
    np.testing.assert_array_equal(first_a, first_b)
    np.testing.assert_array_equal(second_a, second_b)
    assert not np.array_equal(first_a, second_a)
    assert not np.array_equal(first_a, other(inputs))


def test_unseeded_layers_draw_different_noise():
    """Two layers built with seed=None draw different z."""
    inputs = list(_gaussian_inputs(5, 2, seed=3))
    assert not np.array_equal(Sampling()(inputs), Sampling()(inputs))


@pytest.mark.parametrize(
    ("input_shape", "output_shape"),
    [([(None, 2), (None, 2)], (None, 2)), ([(8, 3, 4), (8, 3, 4)], (8, 3, 4))],
)
def test_sampling_output_shape(input_shape, output_shape):
    """compute_output_shape is the shape of z_mean; a functional call gives the same."""
    assert tuple(Sampling().compute_output_shape(input_shape)) == output_shape
    z_mean, z_log_var = (keras.Input(batch_shape=shape) for shape in input_shape)
    assert tuple(Sampling()([z_mean, z_log_var]).shape) == output_shape


def test_sampling_has_no_weights_but_a_seed_state():
    """The layer has no weights (count_params() is 0); its SeedGenerator state is its one non-trainable variable."""
    layer = Sampling(seed=1)
    layer(list(_gaussian_inputs(2, 2)))
    assert layer.weights == [] and layer.count_params() == 0
    assert len(layer.non_trainable_variables) == 1
    assert layer.non_trainable_variables[0] is layer.seed_generator.state


@pytest.mark.parametrize(
    ("seed", "input_seed"), [(11, 4), (3, 5), (None, 5)], ids=["seed-11", "seed-3", "unseeded"]
)
def test_sampling_passes_the_layer_check(seed, input_seed, tmp_path):
    """Sampling is registered as "keras_recipes>Sampling", lists its seed in get_config, rebuilds from
    JSON to draw the same noise when seeded, and a model holding it reloads with safe_mode=True and
    draws what the original draws next, even unseeded."""
    layer_testing.run_layer_test(
        Sampling,
        {"seed": seed, "name": "sample"},
        list(_gaussian_inputs(4, 2, seed=input_seed)),
        registered_name="keras_recipes>Sampling",
        directory=tmp_path,
        expected_output_shape=(4, 2),
        expected_num_non_trainable_variables=1,
        deterministic=seed is not None,
    )


@pytest.mark.parametrize(
    ("seed", "error"), [(-1, ValueError), ("1", TypeError), (1.5, TypeError), (2**63, ValueError)]
)
def test_sampling_refuses_a_bad_seed(seed, error):
    """A seed that is not None or a non-negative integer raises, naming `seed` and the value."""
    with pytest.raises(error, match=r"`seed`.*Received: seed="):
        Sampling(seed=seed)


def test_sampling_takes_the_largest_seed_of_the_backend_and_refuses_one_more():
    """The backend's largest seed draws noise; one more raises ValueError naming `seed`, not an overflow."""
    largest = {"tensorflow": 2**63 - 1, "jax": 2**32 - 1, "torch": 2**31 - 1}[
        keras.backend.backend()
    ]
    z = Sampling(seed=largest)(list(_gaussian_inputs(3, 2, seed=6)))
    assert np.isfinite(keras.ops.convert_to_numpy(z)).all()
    with pytest.raises(ValueError, match=rf"`seed`.*Received: seed={largest + 1}"):
        Sampling(seed=largest + 1)


def test_sampling_accepts_a_numpy_integer_seed():
    """A numpy integer seed works like the same Python int: same noise, a JSON-ready int in the config."""
    inputs = list(_gaussian_inputs(3, 2, seed=6))
    layer = Sampling(seed=np.int64(5))
    assert type(layer.get_config()["seed"]) is int
    np.testing.assert_array_equal(layer(inputs), Sampling(seed=5)(inputs))


@pytest.mark.parametrize(
    "inputs",
    [np.zeros((4, 2)), [np.zeros((4, 2))], [np.zeros((4, 2)), np.zeros((4, 3))]],
    ids=["one-tensor", "one-element-list", "different-shapes"],
)
def test_sampling_refuses_inputs_other_than_two_tensors_of_one_shape(inputs):
    """Sampling called on anything but [z_mean, z_log_var] of one shape raises ValueError saying what it received."""
    with pytest.raises(ValueError, match=r"Sampling.*\[z_mean, z_log_var\].*Received"):
        Sampling(seed=0)(inputs)
