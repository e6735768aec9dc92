"""What a trained VAE is worth: held-out log-likelihood and latent diagnostics.

`vae_nll` estimates the negative log-likelihood -log p(x) of held-out data
by importance sampling with the encoder as proposal (Burda et al., 2016,
the estimator of Pythae's `get_nll` and of the papers' tables);
`latent_diagnostics` and the callback `LatentMonitor` measure posterior
collapse: each latent dimension's KL and whether it is active (Burda et al.,
2016: the variance over x of E_q[z_d | x] above 0.01).
"""

import math
import warnings
from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from keras_recipes import _validation
from keras_recipes._recipes.autoencoders import losses

# The most numbers one decoder call of `vae_nll` outputs (64 MiB of float32):
# the draws are decoded in chunks of at most this many, so memory does not
# grow with `num_samples`.
MAX_CHUNK_NUMBERS = 2**24

# Burda et al. (2016), section 5.2: a unit is active when Var_x(E_q[z_d | x])
# exceeds 0.01.
ACTIVITY_THRESHOLD = 0.01

LIKELIHOODS = {
    "binary_crossentropy": "bernoulli",
    "squared_error": f"gaussian (fixed variance {losses.GAUSSIAN_DECODER_VARIANCE})",
}


class NLLEstimate(NamedTuple):
    """A held-out negative log-likelihood from `vae_nll`.

    Attributes:
        nll: mean of -log p(x) over the samples, in nats per sample (the
            importance-weighted estimate; too high by a gap that shrinks as
            `num_samples` grows).
        standard_error: standard error of that mean over the samples (NaN
            for one sample).
        negative_elbo: mean of -ELBO over the samples, estimated from the
            same draws (so never below `nll`).
        num_samples: draws per sample, the `k` of the estimate.
        num_examples: number of samples `x` held.
        likelihood: the decoder's likelihood, `"bernoulli"` or
            `"gaussian (fixed variance 0.5)"`.
        binary_data: whether every value of `x` is 0 or 1. A Bernoulli
            likelihood of non-binary data is a cross-entropy, not a
            log-probability: comparable between models on the same data,
            not with published (binarised) figures.
    """

    nll: float
    standard_error: float
    negative_elbo: float
    num_samples: int
    num_examples: int
    likelihood: str
    binary_data: bool


class LatentReport(NamedTuple):
    """Per-dimension latent statistics from `latent_diagnostics`.

    Attributes:
        kl_per_dimension: mean over the samples of each dimension's KL
            divergence from the prior, in nats.
        activity: variance over the samples of each dimension's `z_mean`.
        active_units: number of dimensions whose activity exceeds the
            threshold.
        latent_dim: number of dimensions.
    """

    kl_per_dimension: tuple
    activity: tuple
    active_units: int
    latent_dim: int

    @property
    def collapsed(self):
        """Whether more than half the dimensions are inactive: the posterior has mostly collapsed."""
        return self.active_units * 2 < self.latent_dim


def _halves(model, function):
    """The model's `encoder` and `decoder` sub-models and its reconstruction loss."""
    try:
        encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
        reconstruction_loss = model.reconstruction_loss
    except (AttributeError, ValueError):
        raise _validation.wrong_type(
            "model",
            f"a VAE built by keras_recipes.vae() (sub-models `encoder` and "
            f"`decoder`), for {function}",
            model,
        ) from None
    # The encoder without its sampling layer: evaluation must not advance
    # the model's own random stream.
    heads = keras.Model(encoder.inputs[0], encoder.outputs[:2])
    return heads, decoder, reconstruction_loss


def _samples(model, x):
    """`x` as a float32 array of the model's sample shape, checked."""
    expected_shape = tuple(model.inputs[0].shape[1:])
    array = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise _validation.wrong_type("x", "an array of numbers", x)
    if array.ndim != len(expected_shape) + 1 or tuple(array.shape[1:]) != expected_shape:
        raise ValueError(
            "Invalid value for argument `x`: expected samples of shape "
            f"(n, *{expected_shape}), the model's input. Received: x.shape={array.shape}"
        )
    if len(array) == 0:
        raise ValueError("Invalid value for argument `x`: expected at least one sample. "
                         f"Received: x.shape={array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("Invalid value for argument `x`: expected finite values. "
                         "Received: x with NaN or infinite values")
    return array.astype("float32")


def _equal_parts(total, most):
    """The size of the fewest equal parts of at most `most` that cover `total`: ceil(total / parts)."""
    parts = -(-total // most)
    return -(-total // parts)


def vae_nll(model, x, *, num_samples=5000, batch_size=100, seed=None):
    """Estimates a VAE's negative log-likelihood of `x` by importance sampling, in nats per sample.

    For each sample `x`, `k = num_samples` draws from the encoder's
    posterior `q(z | x)` weigh the decoder's likelihood:

        log_w_i = log p(x | z_i) + log N(z_i; 0, I) - log q(z_i | x),   z_i ~ q(z | x)
        log p(x) ~= logsumexp_i(log_w_i) - log(k)       # losses.importance_weighted_bound
        nll = mean_over_x(-log p(x))

    The estimate is a stochastic upper bound on the true NLL that tightens
    as `k` grows (Burda et al., 2016); papers report it with k = 5000. The
    likelihood is the one the model trains with: Bernoulli for
    `"binary_crossentropy"` (data in [0, 1]; see `NLLEstimate.binary_data`),
    Gaussian of fixed variance 1/2 per feature for `"squared_error"` (the
    variance whose negative log-likelihood the summed squared error is, up
    to a constant that this estimate includes). The draws are decoded in
    chunks of at most 2**24 numbers, seeded by `seed`, so memory does not
    grow with `k`; the model's own random stream is left as it was.

    Args:
        model: a VAE built by `keras_recipes.vae()` (or loaded from one).
        x: held-out samples, shape `(n, *input_shape)`.
        num_samples: draws per sample, `k`. Defaults to `5000`.
        batch_size: samples encoded and weighed together. Defaults to `100`.
        seed: seed of the draws, `None` for unseeded. Defaults to `None`.

    Returns:
        An `NLLEstimate`.

    Raises:
        TypeError: `model` is not such a VAE, or an argument has the wrong
            type.
        ValueError: `x` does not hold samples of the model's input shape, is
            empty or not finite, holds values outside [0, 1] for a Bernoulli
            decoder, or `num_samples` or `batch_size` is not positive.

    Example:

    >>> import numpy as np
    >>> import keras_recipes
    >>> model = keras_recipes.vae((4,), latent_dim=2, hidden_units=(8,), seed=0)
    >>> x = np.array([[0, 1, 1, 0], [1, 1, 0, 0]], dtype="float32")
    >>> estimate = vae_nll(model, x, num_samples=100, seed=0)
    >>> estimate.num_samples, estimate.num_examples, estimate.likelihood
    (100, 2, 'bernoulli')
    >>> bool(estimate.nll <= estimate.negative_elbo)
    True
    """
    heads, decoder, reconstruction_loss = _halves(model, "vae_nll")
    num_samples = _validation.check_positive_int("num_samples", num_samples)
    batch_size = _validation.check_positive_int("batch_size", batch_size)
    seed = _validation.check_seed(seed)
    x = _samples(model, x)
    if reconstruction_loss == "binary_crossentropy" and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            "Invalid value for argument `x`: expected values in [0, 1] for a "
            "Bernoulli decoder (reconstruction_loss='binary_crossentropy'). "
            f"Received: x with values from {x.min()} to {x.max()}"
        )
    features = math.prod(x.shape[1:])
    generator = keras.random.SeedGenerator(seed)
    # Every batch and every chunk of draws has one shape, so a backend that
    # compiles per shape (JAX, even eagerly) compiles once: the samples are
    # split into equal batches of at most `batch_size` (the last one padded
    # with copies of its first sample, dropped after), and the draws into
    # equal chunks (the last one's extra draws dropped).
    rows = _equal_parts(len(x), batch_size)
    latent_dim = heads.outputs[0].shape[-1]
    most = max(1, MAX_CHUNK_NUMBERS // (rows * max(features, latent_dim)))
    chunk = _equal_parts(num_samples, most)
    log_likelihoods, elbos = [], []
    for start in range(0, len(x), rows):
        batch = x[start : start + rows]
        real = len(batch)
        if real < rows:
            batch = np.concatenate([batch, np.repeat(batch[:1], rows - real, axis=0)])
        z_mean, z_log_var = heads(batch, training=False)
        targets = np.broadcast_to(batch[None], (chunk, *batch.shape)).reshape(
            (chunk * rows, *batch.shape[1:])
        )
        log_sum, weight_sum = None, 0.0
        for first in range(0, num_samples, chunk):
            count = min(chunk, num_samples - first)
            epsilon = keras.random.normal((chunk, rows, latent_dim), seed=generator)
            z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * epsilon
            decoded = decoder(ops.reshape(z, (chunk * rows, latent_dim)), training=False)
            log_weights = (
                ops.reshape(
                    losses.log_likelihood(targets, decoded, reconstruction_loss), (chunk, rows)
                )
                + losses.gaussian_log_density(z, 0.0, 0.0)
                - losses.gaussian_log_density(z, z_mean[None], z_log_var[None])
            )
            log_weights = ops.convert_to_numpy(log_weights).astype("float64")[:count, :real]
            chunk_sum = _logsumexp(log_weights)
            log_sum = chunk_sum if log_sum is None else np.logaddexp(log_sum, chunk_sum)
            weight_sum = weight_sum + log_weights.sum(axis=0)
        log_likelihoods.append(log_sum - math.log(num_samples))
        elbos.append(weight_sum / num_samples)
    nll = -np.concatenate(log_likelihoods)
    negative_elbo = -np.concatenate(elbos)
    standard_error = (
        float(nll.std(ddof=1) / math.sqrt(len(nll))) if len(nll) > 1 else float("nan")
    )
    return NLLEstimate(
        nll=float(nll.mean()),
        standard_error=standard_error,
        negative_elbo=float(negative_elbo.mean()),
        num_samples=num_samples,
        num_examples=len(x),
        likelihood=LIKELIHOODS[reconstruction_loss],
        binary_data=bool(np.all((x == 0) | (x == 1))),
    )


def _logsumexp(values):
    """logsumexp over axis 0 of a float64 array."""
    top = values.max(axis=0)
    return top + np.log(np.exp(values - top).sum(axis=0))


def latent_diagnostics(model, x, *, batch_size=256, threshold=ACTIVITY_THRESHOLD, warn=True):
    """Each latent dimension's KL and activity over `x`: how much of the latent space a VAE uses.

        kl_d = mean_over_x(0.5 * (exp(log_var_d) + mean_d**2 - 1 - log_var_d))
        activity_d = variance_over_x(z_mean_d)
        active_units = count(activity_d > threshold)

    A dimension that is not active has collapsed onto the prior: the
    decoder ignores it (Burda et al., 2016, whose threshold is 0.01). When
    more than half the dimensions have collapsed, a `UserWarning` says so.

    Args:
        model: a VAE built by `keras_recipes.vae()`.
        x: samples, shape `(n, *input_shape)`.
        batch_size: samples encoded at a time. Defaults to `256`.
        threshold: activity above which a dimension is active. Defaults to
            `0.01`.
        warn: whether to warn when more than half the dimensions collapsed.
            Defaults to `True`.

    Returns:
        A `LatentReport`.

    Raises:
        TypeError: `model` is not such a VAE, or an argument has the wrong type.
        ValueError: `x` does not hold samples of the model's input shape,
            or `batch_size` or `threshold` is out of range.

    Example:

    >>> import numpy as np
    >>> import keras_recipes
    >>> model = keras_recipes.vae((4,), latent_dim=3, hidden_units=(8,), seed=0)
    >>> report = latent_diagnostics(model, np.eye(4, dtype="float32"), warn=False)
    >>> report.latent_dim, len(report.kl_per_dimension)
    (3, 3)
    """
    heads, _, _ = _halves(model, "latent_diagnostics")
    batch_size = _validation.check_positive_int("batch_size", batch_size)
    threshold = _validation.check_real_number("threshold", threshold)
    warn = _validation.check_boolean("warn", warn)
    x = _samples(model, x)
    means, kls = [], []
    for start in range(0, len(x), batch_size):
        z_mean, z_log_var = heads(x[start : start + batch_size], training=False)
        means.append(ops.convert_to_numpy(z_mean).astype("float64"))
        kls.append(
            ops.convert_to_numpy(losses.kl_per_dimension(z_mean, z_log_var)).astype("float64")
        )
    means, kls = np.concatenate(means), np.concatenate(kls)
    activity = means.var(axis=0)
    report = LatentReport(
        kl_per_dimension=tuple(float(value) for value in kls.mean(axis=0)),
        activity=tuple(float(value) for value in activity),
        active_units=int((activity > threshold).sum()),
        latent_dim=int(means.shape[1]),
    )
    if warn and report.collapsed:
        warnings.warn(collapse_message(report), stacklevel=2)
    return report


def collapse_message(report):
    """The warning of a `LatentReport` with more than half its dimensions collapsed."""
    return (
        f"Posterior collapse: only {report.active_units} of {report.latent_dim} latent "
        f"dimensions are active (variance of z_mean over the data above "
        f"{ACTIVITY_THRESHOLD}); the decoder ignores the others. Try a KL warm-up "
        "(beta=keras_recipes.losses.LinearBeta(...)), free_bits, or a smaller latent_dim."
    )


class LatentMonitor(keras.callbacks.Callback):
    """A callback that logs the active units at each epoch's end, and warns of collapse.

    Adds `active_units` (and `kl_dimension_<d>` with `per_dimension=True`)
    to the epoch's logs, so they reach the history and CSV loggers, from
    `latent_diagnostics` of `x` (held-out samples, a few hundred are
    enough). Warns once, with `warnings.warn`, the first epoch more than
    half the dimensions are collapsed.

    Not registered for saving: Keras saves no callbacks with a model.

    Args:
        x: samples the diagnostics are computed on.
        per_dimension: whether to log each dimension's KL too. Defaults to
            `False`.

    Example:

    >>> import numpy as np
    >>> import keras_recipes
    >>> model = keras_recipes.vae((4,), latent_dim=2, hidden_units=(8,), seed=0)
    >>> x = np.eye(4, dtype="float32")
    >>> history = model.fit(x, epochs=1, verbose=0, callbacks=[LatentMonitor(x)])
    >>> "active_units" in history.history
    True
    """

    def __init__(self, x, per_dimension=False):
        super().__init__()
        self.x = np.asarray(x)
        self.per_dimension = _validation.check_boolean("per_dimension", per_dimension)
        self.warned = False

    def on_epoch_end(self, epoch, logs=None):
        report = latent_diagnostics(self.model, self.x, warn=False)
        if logs is not None:
            logs["active_units"] = report.active_units
            if self.per_dimension:
                for index, value in enumerate(report.kl_per_dimension):
                    logs[f"kl_dimension_{index}"] = value
        if not self.warned and report.collapsed:
            self.warned = True
            warnings.warn(f"Epoch {epoch + 1}: {collapse_message(report)}", stacklevel=2)
