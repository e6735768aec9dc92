"""Tests of `vae_nll`, `importance_weighted_bound` and the latent diagnostics.

The estimator is checked against an exact answer: a linear-Gaussian VAE
(linear encoder and decoder, Gaussian decoder of variance 1/2, prior N(0, I))
has the marginal likelihood p(x) = N(x; b, W W^T + 1/2 I) in closed form.
"""

import math
import warnings

import keras
import numpy as np
import pytest

import keras_recipes
from keras_recipes import losses

LATENT_DIM, FEATURES = 2, 3
VARIANCE = losses.GAUSSIAN_DECODER_VARIANCE


def _dense_layers(model, part):
    return [layer for layer in model.get_layer(part).layers if isinstance(layer, keras.layers.Dense)]


def _linear_gaussian(seed=0, inflate=3.0):
    """A `vae()` whose weights make it a linear-Gaussian model; its data and true NLL.

    The encoder's mean is the exact posterior mean; its variance is the
    exact posterior's diagonal times `inflate` (a diagonal proposal for a
    correlated posterior, so the estimate has a gap to close as k grows).
    """
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(FEATURES, LATENT_DIM))  # x = W z + b + noise
    bias = rng.normal(size=FEATURES)
    covariance = np.linalg.inv(np.eye(LATENT_DIM) + weights.T @ weights / VARIANCE)
    encoder_kernel = weights @ covariance / VARIANCE  # z_mean = (x - b) @ kernel
    model = keras_recipes.vae(
        (FEATURES,), LATENT_DIM, hidden_units=(), reconstruction_loss="squared_error", seed=0
    )
    z_mean_layer, z_log_var_layer = _dense_layers(model, "encoder")
    z_mean_layer.set_weights([encoder_kernel, -bias @ encoder_kernel])
    z_log_var_layer.set_weights(
        [np.zeros((FEATURES, LATENT_DIM)), np.log(inflate * np.diag(covariance))]
    )
    (decoder_layer,) = _dense_layers(model, "decoder")
    decoder_layer.set_weights([weights.T, bias])
    marginal = weights @ weights.T + VARIANCE * np.eye(FEATURES)
    x = rng.multivariate_normal(bias, marginal, size=100).astype("float32")
    centred = x - bias
    _, log_det = np.linalg.slogdet(marginal)
    log_p = -0.5 * (
        np.einsum("ni,ij,nj->n", centred, np.linalg.inv(marginal), centred)
        + log_det
        + FEATURES * math.log(2 * math.pi)
    )
    return model, x, float(-log_p.mean())


def test_nll_converges_to_the_closed_form():
    """On a linear-Gaussian VAE the estimate approaches the exact NLL as k grows, within a shrinking tolerance."""
    model, x, true_nll = _linear_gaussian()
    gaps = {}
    for k in (1, 10, 100, 2000):
        estimate = keras_recipes.vae_nll(model, x, num_samples=k, seed=1)
        gaps[k] = estimate.nll - true_nll
        # The estimate is a stochastic upper bound: never far below the truth.
        assert gaps[k] > -0.5 / math.sqrt(k), (k, gaps)
    assert gaps[1] > 0.05, gaps  # the diagonal proposal leaves a real gap at k = 1
    for k in (10, 100, 2000):
        assert abs(gaps[k]) <= 3.0 * gaps[1] / math.sqrt(k), gaps
    print(gaps)


def test_nll_with_the_exact_posterior_is_exact_at_every_k():
    """With a 1-D latent the proposal is the exact posterior: every weight is p(x), so k = 1 is already exact."""
    rng = np.random.default_rng(3)
    weight, bias = rng.normal(size=(FEATURES, 1)), rng.normal(size=FEATURES)
    variance = 1.0 / (1.0 + float((weight.T @ weight)[0, 0]) / VARIANCE)
    model = keras_recipes.vae(
        (FEATURES,), 1, hidden_units=(), reconstruction_loss="squared_error", seed=0
    )
    kernel = weight * variance / VARIANCE
    z_mean_layer, z_log_var_layer = _dense_layers(model, "encoder")
    z_mean_layer.set_weights([kernel, -bias @ kernel])
    z_log_var_layer.set_weights([np.zeros((FEATURES, 1)), np.log([variance])])
    _dense_layers(model, "decoder")[0].set_weights([weight.T, bias])
    marginal = weight @ weight.T + VARIANCE * np.eye(FEATURES)
    x = rng.multivariate_normal(bias, marginal, size=10).astype("float32")
    centred = x - bias
    log_p = -0.5 * (
        np.einsum("ni,ij,nj->n", centred, np.linalg.inv(marginal), centred)
        + np.linalg.slogdet(marginal)[1]
        + FEATURES * math.log(2 * math.pi)
    )
    estimate = keras_recipes.vae_nll(model, x, num_samples=1, seed=0)
    assert estimate.nll == pytest.approx(-log_p.mean(), abs=1e-3)
    assert estimate.negative_elbo == pytest.approx(-log_p.mean(), abs=1e-3)
    # Batches that do not divide the 10 samples (padded, the padding
    # dropped) and draws that do not divide into chunks (the extra draws
    # dropped): still each sample's own p(x), once, and k draws' mean.
    from keras_recipes._recipes.autoencoders import evaluation

    for batch_size, num_samples, most_draws in [(3, 5, 2), (4, 7, 3), (7, 3, 1), (10, 4, 4)]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(evaluation, "MAX_CHUNK_NUMBERS", most_draws * batch_size * FEATURES)
            uneven = keras_recipes.vae_nll(
                model, x, num_samples=num_samples, batch_size=batch_size, seed=1
            )
        assert uneven.num_examples == 10 and uneven.num_samples == num_samples
        assert uneven.nll == pytest.approx(-log_p.mean(), abs=1e-3), (batch_size, num_samples)
        assert uneven.negative_elbo == pytest.approx(-log_p.mean(), abs=1e-3)


def _draws(seed=0, k=1024, batch=16):
    """Log-likelihoods, log-priors and log-posteriors of `k` draws of a mismatched Gaussian proposal."""
    rng = np.random.default_rng(seed)
    z = rng.normal(1.0, 1.5, size=(k, batch, 2))
    log_posterior = -0.5 * (((z - 1.0) / 1.5) ** 2 + 2 * math.log(1.5) + math.log(2 * math.pi)).sum(-1)
    log_prior = -0.5 * (z**2 + math.log(2 * math.pi)).sum(-1)
    log_likelihood = -0.5 * ((z - 0.7) ** 2).sum(-1)
    return log_likelihood, log_prior, log_posterior


def test_iwae_bound_is_monotone_in_k():
    """The IWAE bound, averaged over nested groups of the same 1024 draws, never decreases as k doubles.

    Not flaky: each group of 2k draws is two groups of k, and log((a + b) / 2)
    >= (log a + log b) / 2 (Jensen), so the group averages are monotone for
    every set of draws, not only in expectation.
    """
    draws = _draws()
    k_total, batch = draws[0].shape
    previous = -np.inf
    for k in (1, 2, 4, 8, 64, 1024):
        # Draws (k_total,) -> (k, groups): draw i of group g is draw g * k + i.
        groups = [
            array.reshape(k_total // k, k, batch).transpose(1, 0, 2).reshape(k, -1)
            for array in draws
        ]
        bounds = keras.ops.convert_to_numpy(losses.importance_weighted_bound(*groups))
        mean_bound = float(np.mean(bounds))
        assert mean_bound >= previous - 1e-5, (k, mean_bound, previous)
        previous = mean_bound


def test_iwae_bound_matches_numpy_and_is_stable():
    """The bound is log(mean(exp(log_w))) computed stably, even for log weights near -1e4."""
    log_likelihood, log_prior, log_posterior = _draws(k=8, batch=3)
    bound = keras.ops.convert_to_numpy(
        losses.importance_weighted_bound(log_likelihood - 1e4, log_prior, log_posterior)
    )
    log_w = log_likelihood + log_prior - log_posterior
    expected = np.log(np.mean(np.exp(log_w), axis=0)) - 1e4
    np.testing.assert_allclose(bound, expected, rtol=1e-5)
    assert np.all(np.isfinite(bound))


def test_iwae_bound_refuses_mismatched_shapes():
    """Draws of different shapes are refused naming the three arguments."""
    with pytest.raises(ValueError, match="log_likelihood"):
        losses.importance_weighted_bound(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((3, 3)))


def _binary_data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((96, 6)) < rng.random((1, 6))).astype("float32")


@pytest.fixture(scope="module")
def trained():
    """A small VAE trained a few epochs on binary data, and the data."""
    x = _binary_data()
    model = keras_recipes.vae((6,), 2, hidden_units=(8,), seed=0)
    model.fit(x, epochs=3, batch_size=32, verbose=0)
    return model, x


def test_nll_is_below_the_elbo_loss(trained):
    """The NLL estimate is at most the -ELBO from the same draws, and below the model's own ELBO loss."""
    model, x = trained
    estimate = keras_recipes.vae_nll(model, x, num_samples=200, batch_size=40, seed=0)
    assert estimate.nll <= estimate.negative_elbo
    # The model's loss is a one-draw estimate of the -ELBO: averaged over
    # 20 copies of x its noise (about 0.02 nats here) is far below the gap.
    elbo_loss = model.evaluate(np.tile(x, (20, 1)), batch_size=960, verbose=0, return_dict=True)["loss"]
    assert estimate.nll < elbo_loss
    assert estimate.negative_elbo == pytest.approx(elbo_loss, abs=0.15)
    assert (estimate.num_samples, estimate.num_examples) == (200, 96)
    assert estimate.likelihood == "bernoulli" and estimate.binary_data


def test_nll_is_seeded_chunked_and_leaves_the_model_alone(trained, monkeypatch):
    """The same seed gives the same estimate; chunks change the draws, not the estimate; the model's noise stream stays."""
    model, x = trained
    sampling = model.get_layer("encoder").get_layer("vae_sampling")
    state = keras.ops.convert_to_numpy(sampling.seed_generator.state).copy()
    one_chunk = keras_recipes.vae_nll(model, x, num_samples=64, seed=5)
    from keras_recipes._recipes.autoencoders import evaluation

    monkeypatch.setattr(evaluation, "MAX_CHUNK_NUMBERS", 6 * 96 * 7)  # 7 draws a chunk
    chunked = keras_recipes.vae_nll(model, x, num_samples=64, seed=5)
    monkeypatch.undo()
    # Other draws (the chunks draw one after another), the same estimate
    # within its Monte Carlo noise: at k = 64 about 0.01 nats on this model.
    assert chunked.nll == pytest.approx(one_chunk.nll, abs=0.05)
    assert chunked.nll != one_chunk.nll
    assert keras_recipes.vae_nll(model, x, num_samples=64, seed=5) == one_chunk
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(sampling.seed_generator.state), state
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"num_samples": 0}, ValueError, "num_samples"),
        ({"batch_size": 1.5}, TypeError, "batch_size"),
        ({"seed": -1}, ValueError, "seed"),
        ({"x": np.full((2, 6), 2.0, "float32")}, ValueError, r"\[0, 1\]"),
        ({"x": np.zeros((2, 5), "float32")}, ValueError, "x.shape"),
        ({"x": np.zeros((0, 6), "float32")}, ValueError, "at least one sample"),
        ({"x": np.full((2, 6), np.nan, "float32")}, ValueError, "finite"),
        ({"model": keras.Sequential([keras.Input((6,)), keras.layers.Dense(6)])}, TypeError, "model"),
    ],
)
def test_nll_refuses_bad_arguments(kwargs, error, match):
    """Each bad argument is refused with its name before anything is sampled."""
    model = keras_recipes.vae((6,), 2, hidden_units=(4,), seed=0)
    call = {"model": model, "x": np.zeros((2, 6), "float32"), **kwargs}
    model_argument, x_argument = call.pop("model"), call.pop("x")
    with pytest.raises(error, match=match):
        keras_recipes.vae_nll(model_argument, x_argument, **call)


def test_gaussian_likelihood_states_its_variance():
    """The squared-error decoder's log-likelihood is that of N(p, 1/2 I), constant included."""
    x, p = np.array([[0.3, -1.0]]), np.array([[0.1, 0.5]])
    expected = -0.5 * (((x - p) ** 2) / VARIANCE + math.log(2 * math.pi * VARIANCE)).sum()
    value = keras.ops.convert_to_numpy(losses.log_likelihood(x, p, "squared_error"))
    assert value[0] == pytest.approx(expected, rel=1e-5)


def test_latent_diagnostics_find_a_collapsed_dimension_and_warn():
    """A dimension whose z_mean ignores x is inactive with zero KL; most collapsed means a warning."""
    model = keras_recipes.vae((3,), 3, hidden_units=(), seed=0)
    z_mean_layer, z_log_var_layer = _dense_layers(model, "encoder")
    kernel = np.zeros((3, 3))
    kernel[0, 0] = 1.0  # only dimension 0 reads x
    z_mean_layer.set_weights([kernel, np.zeros(3)])
    z_log_var_layer.set_weights([np.zeros((3, 3)), np.array([-2.0, 0.0, 0.0])])
    x = np.random.default_rng(0).random((50, 3)).astype("float32")
    with pytest.warns(UserWarning, match="only 1 of 3 latent dimensions"):
        report = keras_recipes.latent_diagnostics(model, x)
    assert report.active_units == 1 and report.latent_dim == 3
    assert report.activity[0] == pytest.approx(np.var(x[:, 0]), rel=1e-4)
    assert report.kl_per_dimension[1:] == pytest.approx((0.0, 0.0), abs=1e-6)
    expected_kl_0 = 0.5 * (math.exp(-2.0) - 1.0 + 2.0 + np.mean(x[:, 0] ** 2))
    assert report.kl_per_dimension[0] == pytest.approx(expected_kl_0, rel=1e-4)
    kernel[1, 1] = kernel[2, 2] = 1.0
    z_mean_layer.set_weights([kernel, np.zeros(3)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no collapse warning
        assert keras_recipes.latent_diagnostics(model, x).active_units == 3


def test_latent_monitor_logs_active_units():
    """The callback adds `active_units` and each dimension's KL to the epoch's logs."""
    x = _binary_data()
    model = keras_recipes.vae((6,), 2, hidden_units=(8,), seed=0)
    monitor = keras_recipes.LatentMonitor(x[:32], per_dimension=True)
    history = model.fit(x, epochs=2, batch_size=32, verbose=0, callbacks=[monitor])
    report = keras_recipes.latent_diagnostics(model, x[:32], warn=False)
    assert history.history["active_units"][-1] == report.active_units
    assert history.history["kl_dimension_1"][-1] == pytest.approx(report.kl_per_dimension[1])
