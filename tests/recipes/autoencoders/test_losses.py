"""Tests of `keras_recipes.losses`: the KL divergence, the reconstruction error and the VAE loss.

Expected values come from plain numpy implementations of the formulas (in
float64) and, for the KL divergence, from a Monte-Carlo estimate of its
definition.
"""

import helpers  # tests/helpers.py, on `sys.path` through tests/conftest.py
import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keras_recipes import losses


# === Numpy references ===


def _numpy_kl(z_mean, z_log_var):
    return np.sum(0.5 * (np.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var), axis=-1)


def _numpy_bce(x, p, epsilon=1e-7):
    p = np.clip(p, epsilon, 1.0 - epsilon)
    errors = -(x * np.log(p) + (1.0 - x) * np.log(1.0 - p))
    return errors.reshape(len(x), -1).sum(axis=1)


def _numpy_squared(x, p):
    return ((x - p) ** 2).reshape(len(x), -1).sum(axis=1)


def _gaussians(batch, latent_dim, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, latent_dim)), rng.uniform(-3, 2, size=(batch, latent_dim))


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


# The float64 checks compare to 1e-10; JAX truncates float64 to float32
# unless `jax_enable_x64` is set before JAX starts, which the suite does not do.
_NO_FLOAT64_ON_JAX = "JAX computes float64 input in float32 without jax_enable_x64"


# === gaussian_kl_divergence ===


@pytest.mark.backend("tensorflow", "torch", reason=_NO_FLOAT64_ON_JAX)
def test_kl_matches_the_numpy_formula():
    """gaussian_kl_divergence equals sum(0.5 * (exp(lv) + mu^2 - 1 - lv)) over the last axis."""
    z_mean, z_log_var = _gaussians(6, 4)
    actual = _numpy(losses.gaussian_kl_divergence(z_mean, z_log_var))
    assert actual.shape == (6,)
    np.testing.assert_allclose(actual, _numpy_kl(z_mean, z_log_var), rtol=1e-10)


def test_kl_matches_a_monte_carlo_estimate():
    """The KL equals E_q[log q(z) - log p(z)] estimated from 400,000 samples of q, within 3 standard errors."""
    z_mean = np.array([[0.7, -1.2, 0.1]])
    z_log_var = np.array([[-0.5, 0.4, -1.5]])
    sigma = np.exp(0.5 * z_log_var)
    rng = np.random.default_rng(1)
    z = z_mean + sigma * rng.normal(size=(400_000, 3))
    log_q = -0.5 * (((z - z_mean) / sigma) ** 2 + z_log_var + np.log(2 * np.pi))
    log_p = -0.5 * (z**2 + np.log(2 * np.pi))
    samples = (log_q - log_p).sum(axis=1)
    estimate, standard_error = samples.mean(), samples.std() / np.sqrt(len(samples))
    actual = float(_numpy(losses.gaussian_kl_divergence(z_mean, z_log_var))[0])
    assert abs(actual - estimate) < 3 * standard_error


def test_kl_of_the_prior_is_zero_and_otherwise_positive():
    """KL(N(0, I) || N(0, I)) is 0; moving the mean or the variance makes it positive."""
    zeros = np.zeros((1, 3))
    assert _numpy(losses.gaussian_kl_divergence(zeros, zeros)).tolist() == [0.0]
    assert _numpy(losses.gaussian_kl_divergence(zeros + 0.1, zeros))[0] > 0
    assert _numpy(losses.gaussian_kl_divergence(zeros, zeros - 0.1))[0] > 0


@given(
    st.lists(st.floats(-5, 5), min_size=1, max_size=4),
    st.lists(st.floats(-8, 8), min_size=1, max_size=4),
)
def test_kl_is_never_negative(means, log_vars):
    """For any mean and log-variance the KL divergence is at least 0."""
    size = min(len(means), len(log_vars))
    kl = _numpy(losses.gaussian_kl_divergence(np.array([means[:size]]), np.array([log_vars[:size]])))
    assert kl[0] >= 0.0


def test_kl_is_accurate_for_a_tiny_log_variance():
    """At lv = 1e-6 the float32 KL is within 10% of lv^2 / 4; exp(lv) - 1 - lv in float32 is 1000 times too large."""
    z_log_var = np.full((1, 1), 1e-6, dtype="float32")
    kl = _numpy(losses.gaussian_kl_divergence(np.zeros((1, 1), "float32"), z_log_var))[0]
    np.testing.assert_allclose(kl, 0.25e-12, rtol=0.1)
    naive = 0.5 * (np.exp(z_log_var) - np.float32(1) - z_log_var)
    assert naive[0, 0] > 1000 * 0.25e-12  # the cancellation `expm1` avoids


def test_kl_stays_finite_with_finite_gradients_for_log_variance_in_minus_100_100():
    """In float32, the KL and its gradients are finite for z_log_var anywhere in [-100, 100]."""
    z_log_var = keras.Variable(np.linspace(-100, 100, 201, dtype="float32")[:, None])
    z_mean = keras.Variable(np.ones((201, 1), dtype="float32"))
    kl = losses.gaussian_kl_divergence(z_mean, z_log_var)
    total, gradients = helpers.gradients(
        lambda: keras.ops.mean(losses.gaussian_kl_divergence(z_mean, z_log_var)),
        [z_mean, z_log_var],
    )
    assert np.isfinite(_numpy(kl)).all()
    assert np.isfinite(total)
    assert all(np.isfinite(gradient).all() for gradient in gradients)


def test_kl_clips_the_log_variance_above_the_limit():
    """Above LOG_VAR_LIMIT the KL is the KL at the limit; below it is not clipped."""
    mean = np.zeros((1, 1), "float32")
    at_limit = _numpy(losses.gaussian_kl_divergence(mean, np.full((1, 1), losses.LOG_VAR_LIMIT)))
    above = _numpy(losses.gaussian_kl_divergence(mean, np.full((1, 1), 100.0, "float32")))
    np.testing.assert_allclose(above, at_limit, rtol=1e-6)
    low = _numpy(losses.gaussian_kl_divergence(mean, np.full((1, 1), -100.0, "float32")))
    np.testing.assert_allclose(low, 0.5 * (np.exp(-100.0) - 1 + 100.0), rtol=1e-6)


def test_kl_works_on_tensors_and_keeps_their_float_dtype():
    """On float32 tensors the result is a float32 tensor equal to the numpy value."""
    z_mean, z_log_var = _gaussians(3, 2, seed=4)
    result = losses.gaussian_kl_divergence(
        keras.ops.convert_to_tensor(z_mean, "float32"),
        keras.ops.convert_to_tensor(z_log_var, "float32"),
    )
    assert keras.backend.standardize_dtype(result.dtype) == "float32"
    np.testing.assert_allclose(_numpy(result), _numpy_kl(z_mean, z_log_var), rtol=1e-5)


# === reconstruction_error ===


@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 4, 2)])
def test_binary_crossentropy_matches_numpy_summed_over_every_feature(shape):
    """The binary cross-entropy is summed over all features, channels included, one value per sample."""
    rng = np.random.default_rng(2)
    x, p = rng.uniform(size=shape), rng.uniform(0.01, 0.99, size=shape)
    actual = _numpy(losses.reconstruction_error(x, p, "binary_crossentropy"))
    np.testing.assert_allclose(actual, _numpy_bce(x, p), rtol=1e-6)


@pytest.mark.backend("tensorflow", "torch", reason=_NO_FLOAT64_ON_JAX)
@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 4, 2)])
def test_squared_error_matches_numpy_summed_over_every_feature(shape):
    """The squared error is summed over all features, one value per sample."""
    rng = np.random.default_rng(3)
    x, p = rng.normal(size=shape), rng.normal(size=shape)
    actual = _numpy(losses.reconstruction_error(x, p, "squared_error"))
    np.testing.assert_allclose(actual, _numpy_squared(x, p), rtol=1e-10)


def test_reconstruction_error_sums_rather_than_averages():
    """Repeating every feature twice doubles the error: a sum over features, not a mean."""
    rng = np.random.default_rng(5)
    x, p = rng.uniform(size=(4, 3)), rng.uniform(0.1, 0.9, size=(4, 3))
    once = _numpy(losses.reconstruction_error(x, p))
    twice = _numpy(losses.reconstruction_error(np.tile(x, 2), np.tile(p, 2)))
    np.testing.assert_allclose(twice, 2 * once, rtol=1e-10)


def test_binary_crossentropy_is_finite_for_inputs_and_outputs_exactly_0_or_1():
    """Targets and reconstructions of exactly 0 or 1, in every combination, give finite errors."""
    x = np.array([[0.0, 0.0, 1.0, 1.0]], dtype="float32")
    p = np.array([[0.0, 1.0, 0.0, 1.0]], dtype="float32")
    error = _numpy(losses.reconstruction_error(x, p))
    assert np.isfinite(error).all()
    np.testing.assert_allclose(error, _numpy_bce(x, p), rtol=1e-3)


def test_unknown_reconstruction_loss_is_refused():
    """An unknown reconstruction_loss raises ValueError listing the valid names."""
    with pytest.raises(ValueError, match=r"`reconstruction_loss`.*squared_error.*Received: reconstruction_loss='mse'"):
        losses.reconstruction_error(np.zeros((1, 2)), np.zeros((1, 2)), "mse")


def test_kl_refuses_means_and_log_variances_of_different_shapes():
    """z_mean and z_log_var of different shapes raise ValueError naming both shapes, not a backend error."""
    with pytest.raises(ValueError, match=r"`z_mean` and `z_log_var`.*z_mean.shape=\(2, 3\), z_log_var.shape=\(2, 4\)"):
        losses.gaussian_kl_divergence(np.zeros((2, 3)), np.zeros((2, 4)))


# === vae_loss ===


@pytest.mark.parametrize("reconstruction_loss", ["binary_crossentropy", "squared_error"])
@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_vae_loss_is_the_batch_mean_of_reconstruction_plus_beta_kl(reconstruction_loss, beta):
    """vae_loss = mean over the batch of (summed reconstruction error + beta * summed KL)."""
    rng = np.random.default_rng(6)
    x, p = rng.uniform(size=(8, 3, 3, 1)), rng.uniform(0.05, 0.95, size=(8, 3, 3, 1))
    z_mean, z_log_var = _gaussians(8, 2, seed=7)
    reconstruction = (_numpy_bce if reconstruction_loss == "binary_crossentropy" else _numpy_squared)(x, p)
    expected = np.mean(reconstruction + beta * _numpy_kl(z_mean, z_log_var))
    actual = float(
        losses.vae_loss(
            x, p, z_mean, z_log_var, reconstruction_loss=reconstruction_loss, beta=beta
        )
    )
    np.testing.assert_allclose(actual, expected, rtol=1e-6)


def test_vae_loss_takes_numpy_arrays_and_tensors_alike():
    """The same data as numpy float32 arrays or as the backend's tensors gives the same loss."""
    rng = np.random.default_rng(8)
    arrays = [
        rng.uniform(size=(4, 6)).astype("float32"),
        rng.uniform(0.1, 0.9, size=(4, 6)).astype("float32"),
        *(part.astype("float32") for part in _gaussians(4, 2, seed=9)),
    ]
    from_numpy = float(losses.vae_loss(*arrays))
    from_tensors = float(losses.vae_loss(*map(keras.ops.convert_to_tensor, arrays)))
    assert from_numpy == from_tensors


def test_vae_loss_is_finite_at_the_extremes():
    """Inputs exactly 0 or 1, saturated outputs and z_log_var of -100 or 100 give a finite loss in float32."""
    x = np.array([[0.0, 1.0], [1.0, 0.0]], dtype="float32")
    p = np.array([[1.0, 0.0], [1.0, 0.0]], dtype="float32")
    z_mean = np.zeros((2, 2), "float32")
    z_log_var = np.array([[-100.0, 100.0], [100.0, -100.0]], dtype="float32")
    assert np.isfinite(float(losses.vae_loss(x, p, z_mean, z_log_var)))


@pytest.mark.parametrize(
    ("beta", "error"),
    [(-1.0, ValueError), (float("inf"), ValueError), (float("nan"), ValueError), ("1", TypeError), (True, TypeError)],
)
def test_vae_loss_refuses_a_bad_beta(beta, error):
    """beta must be a finite number of at least 0; the error names `beta` and the value."""
    with pytest.raises(error, match=r"`beta`.*Received: beta="):
        losses.vae_loss(np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), beta=beta)


def test_vae_loss_refuses_a_batch_of_codes_that_does_not_match_the_inputs():
    """Codes for another number of samples than x raise ValueError, even one code that would broadcast."""
    for codes in (np.zeros((6, 2)), np.zeros((1, 2))):
        with pytest.raises(ValueError, match=r"`x`.*`z_mean`.*Received: x.shape=\(4, 3\), z_mean.shape="):
            losses.vae_loss(np.zeros((4, 3)), np.full((4, 3), 0.5), codes, codes)
