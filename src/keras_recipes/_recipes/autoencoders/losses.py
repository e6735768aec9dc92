"""Losses of the variational autoencoder, written with `keras.ops` only.

They take numpy arrays or tensors of any backend and return backend tensors,
so the same functions train a VAE on TensorFlow, JAX and PyTorch and can be
reused in research code. Their reduction is stated, never implied: the
issues users hit with VAE losses (keras-team/keras#3169, the lecture's own
slide) come from averaging one term and summing the other.
"""

import math

import keras
from keras import ops

from keras_recipes._recipes.autoencoders import spec

LOG_VAR_LIMIT = 50.0
"""Largest `z_log_var` the KL divergence uses; larger values are clipped to it.

`exp(z_log_var)` overflows float32 above about 88.7. At 50 the KL term of one
latent dimension is about 2.6e21, so a sum over millions of dimensions stays
finite, while any variance a trained encoder reaches (exp(50) is a standard
deviation of 7e10) is far below the clip. Only the upper side is clipped: the
KL grows linearly in `-z_log_var` on the lower side and never overflows.
"""

GAUSSIAN_DECODER_VARIANCE = 0.5
"""The variance of the Gaussian decoder that `"squared_error"` is the negative log-likelihood of.

    -log N(x; p, s**2 I) = sum((x - p) ** 2) / (2 * s**2) + 0.5 * D * log(2 * pi * s**2)

is `sum((x - p) ** 2) + 0.5 * D * log(pi)` at `s**2 = 1/2`: the summed squared
error is that likelihood up to a constant, so training with it fits a
decoder of fixed variance 1/2 per feature, and `log_likelihood` adds the
constant back.
"""

__all__ = [
    "GAUSSIAN_DECODER_VARIANCE",
    "LOG_VAR_LIMIT",
    "ReconstructionError",
    "free_bits_kl",
    "gaussian_kl_divergence",
    "gaussian_log_density",
    "importance_weighted_bound",
    "kl_per_dimension",
    "log_likelihood",
    "reconstruction_error",
    "vae_loss",
]


def _floating(value, dtype=None):
    """`value` as a backend tensor of a float dtype (floatx for ints and bools)."""
    tensor = ops.convert_to_tensor(value)
    if dtype is not None:
        return ops.cast(tensor, dtype)
    if not keras.backend.is_float_dtype(tensor.dtype):
        tensor = ops.cast(tensor, keras.backend.floatx())
    return tensor


def _conflict(shape_a, shape_b):
    """Whether two static shapes differ where both are known (`None` matches anything)."""
    shape_a, shape_b = tuple(shape_a), tuple(shape_b)
    return len(shape_a) != len(shape_b) or any(
        a is not None and b is not None and a != b for a, b in zip(shape_a, shape_b)
    )


def _sum_over_features(values):
    """Sum over every axis but the first (the batch axis)."""
    axes = tuple(range(1, len(values.shape)))
    return ops.sum(values, axis=axes) if axes else values


def gaussian_kl_divergence(z_mean, z_log_var):
    """Per-sample KL divergence from N(z_mean, exp(z_log_var)) to N(0, I).

    For a diagonal Gaussian with mean `mu` and log-variance `log_var`, summed
    over the latent dimensions (the last axis):

        kl = sum_over_latent(0.5 * (exp(log_var) + mu**2 - 1 - log_var))

    `exp(log_var) - 1` is computed as `expm1(log_var)`: near 0, where the
    KL of a collapsed dimension lives, `exp(log_var) - 1 - log_var` in
    float32 cancels to a value wrong by orders of magnitude. `log_var` is clipped above at
    `LOG_VAR_LIMIT` so the result stays finite for any float32 input the
    encoder can output (the gradient is 0 above the clip).

    Args:
        z_mean: means, shape `(batch, ..., latent_dim)`; a numpy array or a
            tensor.
        z_log_var: log-variances, the same shape.

    Returns:
        A tensor of shape `(batch, ...)`: one KL divergence per sample, in
        nats, never negative.

    Raises:
        ValueError: `z_mean` and `z_log_var` differ in shape.

    Example:

    >>> import numpy as np
    >>> kl = gaussian_kl_divergence(np.zeros((2, 3)), np.zeros((2, 3)))
    >>> keras.ops.convert_to_numpy(kl).tolist()  # N(0, I) is the prior itself
    [0.0, 0.0]
    >>> kl = gaussian_kl_divergence(np.array([[1.0, 2.0]]), np.zeros((1, 2)))
    >>> keras.ops.convert_to_numpy(kl).tolist()  # 0.5 * (1 + 4)
    [2.5]
    """
    return ops.sum(kl_per_dimension(z_mean, z_log_var), axis=-1)


def kl_per_dimension(z_mean, z_log_var):
    """Per-sample, per-dimension KL from N(z_mean, exp(z_log_var)) to N(0, 1).

    The terms `gaussian_kl_divergence` sums over the last axis, same shape
    as `z_mean`, with its clip and its `expm1`.
    """
    z_mean = _floating(z_mean)
    z_log_var = _floating(z_log_var, z_mean.dtype)
    if _conflict(z_mean.shape, z_log_var.shape):
        raise ValueError(
            "Arguments `z_mean` and `z_log_var` must have the same shape. "
            f"Received: z_mean.shape={tuple(z_mean.shape)}, "
            f"z_log_var.shape={tuple(z_log_var.shape)}"
        )
    # `where`, not `minimum`: Keras 3.15's PyTorch `minimum` returns float32
    # for float64 input.
    z_log_var = ops.where(
        z_log_var < LOG_VAR_LIMIT, z_log_var, ops.cast(LOG_VAR_LIMIT, z_log_var.dtype)
    )
    return 0.5 * (ops.expm1(z_log_var) - z_log_var + ops.square(z_mean))


def free_bits_kl(kl_terms, free_bits, sample_weight=None):
    """The KL term of Kingma et al. (2016)'s free bits: a floor of `free_bits` nats per dimension.

        kl_d = mean_over_batch(kl_terms[:, d])          # weighted by `sample_weight`
        kl = sum_over_latent(maximum(free_bits, kl_d))

    A dimension whose batch-mean KL is below the floor adds the constant
    `free_bits` and so gets no gradient: the encoder may use up to
    `free_bits` nats of it for free. Above the floor it adds its KL with
    the ordinary gradient. `free_bits=0` is the plain batch-mean KL.

    Args:
        kl_terms: per-sample, per-dimension KL, shape `(batch, latent_dim)`.
        free_bits: the floor in nats per latent dimension, at least 0.
        sample_weight: optional weights, shape `(batch,)`. Defaults to `None`.

    Returns:
        A scalar tensor, the floored KL of one (average) sample.

    Raises:
        ValueError: `free_bits` is negative or not finite.
        TypeError: `free_bits` is not a number.

    Example:

    >>> import numpy as np
    >>> kl = free_bits_kl(np.array([[0.1, 2.0], [0.3, 4.0]]), 0.5)
    >>> round(float(kl), 6)  # max(0.5, 0.2) + max(0.5, 3.0)
    3.5
    """
    free_bits = spec.check_free_bits(free_bits)
    kl_terms = _floating(kl_terms)
    if sample_weight is None:
        kl_mean = ops.mean(kl_terms, axis=0)
    else:
        weight = ops.reshape(ops.cast(sample_weight, kl_terms.dtype), (-1, 1))
        count = ops.cast(ops.shape(kl_terms)[0], kl_terms.dtype)
        divisor = ops.where(count > 0, count, ops.ones_like(count))
        kl_mean = ops.sum(kl_terms * weight, axis=0) / divisor
    floor = ops.cast(free_bits, kl_mean.dtype)
    # `where`, not `maximum`, for the dtype on PyTorch (see
    # `gaussian_kl_divergence`); below the floor the branch taken is a
    # constant, so no gradient reaches the encoder.
    return ops.sum(ops.where(kl_mean > floor, kl_mean, ops.zeros_like(kl_mean) + floor))


def gaussian_log_density(z, mean, log_var):
    """log N(z; mean, diag(exp(log_var))), summed over the last axis.

        log_density = -0.5 * sum_over_last((z - mean)**2 / exp(log_var) + log_var + log(2 * pi))

    The log-density of the prior N(0, I) is `gaussian_log_density(z, 0, 0)`.
    Arguments broadcast against each other.

    Args:
        z: points, shape `(..., latent_dim)`.
        mean: means, broadcastable to `z`.
        log_var: log-variances, broadcastable to `z`.

    Returns:
        A tensor of shape `z.shape[:-1]`, in nats.

    Example:

    >>> import numpy as np
    >>> value = gaussian_log_density(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2)))
    >>> round(float(value[0]), 6)  # -log(2 * pi)
    -1.837877
    """
    z = _floating(z)
    mean = _floating(mean, z.dtype)
    log_var = _floating(log_var, z.dtype)
    terms = ops.square(z - mean) * ops.exp(-log_var) + log_var + math.log(2.0 * math.pi)
    return -0.5 * ops.sum(terms, axis=-1)


def log_likelihood(x, x_reconstructed, reconstruction_loss="binary_crossentropy"):
    """log p(x | z) of the decoder that `reconstruction_error` is the loss of, per sample.

        "binary_crossentropy":  -reconstruction_error(x, p)                    (Bernoulli)
        "squared_error":        -reconstruction_error(x, p) - 0.5 * D * log(pi) (Gaussian, variance 1/2)

    where `D` is the number of features of one sample. For binary `x` the
    Bernoulli value is a log-probability; for `x` in `[0, 1]` that is not
    binary it is minus a cross-entropy, not the log-density of anything, and
    likelihoods computed from it are not comparable with published ones.

    Args:
        x: samples, shape `(batch, ...)`.
        x_reconstructed: the decoder's outputs, the same shape.
        reconstruction_loss: `"binary_crossentropy"` or `"squared_error"`.
            Defaults to `"binary_crossentropy"`.

    Returns:
        A tensor of shape `(batch,)`, in nats.

    Example:

    >>> import numpy as np
    >>> value = log_likelihood(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]]))
    >>> round(float(value[0]), 6)  # 2 * log(0.5)
    -1.386294
    """
    error = reconstruction_error(x, x_reconstructed, reconstruction_loss)
    return log_likelihood_of_error(error, reconstruction_loss, tuple(x_reconstructed.shape)[1:])


def log_likelihood_of_error(error, reconstruction_loss, sample_shape):
    """log p(x | z) from `reconstruction_error`'s value: the one place the likelihood's constant lives.

    Args:
        error: `reconstruction_error` values, any shape.
        reconstruction_loss: `"binary_crossentropy"` or `"squared_error"`.
        sample_shape: the shape of one sample, for the Gaussian's constant.

    Returns:
        A tensor of `error`'s shape, in nats.
    """
    if reconstruction_loss == "binary_crossentropy":
        return -error
    features = math.prod(sample_shape)
    constant = 0.5 * features * math.log(2.0 * math.pi * GAUSSIAN_DECODER_VARIANCE)
    return -error / (2.0 * GAUSSIAN_DECODER_VARIANCE) - constant


def importance_weighted_bound(log_likelihood, log_prior, log_posterior):
    """The importance-weighted lower bound on log p(x) of Burda et al. (2016), per sample.

    From `k` draws `z_i ~ q(z | x)` of one sample `x` each:

        log_w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x)
        bound = logsumexp_over_i(log_w_i) - log(k)

    computed with a log-sum-exp, stable for any magnitude of the log
    weights. With `k = 1` it is the one-sample ELBO; it grows with `k` in
    expectation and tends to log p(x) (so `-bound` is an estimate of the
    negative log-likelihood, too high by a gap that shrinks with `k`).

    Args:
        log_likelihood: log p(x | z_i), shape `(k, batch)`: draws on the
            first axis.
        log_prior: log p(z_i), the same shape.
        log_posterior: log q(z_i | x), the same shape.

    Returns:
        A tensor of shape `(batch,)`, in nats.

    Raises:
        ValueError: the three arguments differ in shape, or have fewer than
            one axis.

    Example:

    >>> import numpy as np
    >>> log_w = np.log(np.array([[1.0], [3.0]]))  # weights 1 and 3
    >>> bound = importance_weighted_bound(log_w, np.zeros((2, 1)), np.zeros((2, 1)))
    >>> round(float(bound[0]), 6)  # log((1 + 3) / 2)
    0.693147
    """
    log_likelihood = _floating(log_likelihood)
    log_prior = _floating(log_prior, log_likelihood.dtype)
    log_posterior = _floating(log_posterior, log_likelihood.dtype)
    shapes = {
        "log_likelihood": tuple(log_likelihood.shape),
        "log_prior": tuple(log_prior.shape),
        "log_posterior": tuple(log_posterior.shape),
    }
    if (
        not shapes["log_likelihood"]
        or _conflict(shapes["log_likelihood"], shapes["log_prior"])
        or _conflict(shapes["log_likelihood"], shapes["log_posterior"])
    ):
        received = ", ".join(f"{name}.shape={shape}" for name, shape in shapes.items())
        raise ValueError(
            "Arguments `log_likelihood`, `log_prior` and `log_posterior` must have "
            f"the same shape (k, batch), draws first. Received: {received}"
        )
    log_weights = log_likelihood + log_prior - log_posterior
    count = ops.cast(ops.shape(log_weights)[0], log_weights.dtype)
    return ops.logsumexp(log_weights, axis=0) - ops.log(count)


def reconstruction_error(x, x_reconstructed, reconstruction_loss="binary_crossentropy"):
    """Per-sample reconstruction error, summed over all of a sample's features.

        "binary_crossentropy":  sum_over_features(-(x * log(p) + (1 - x) * log(1 - p)))
        "squared_error":        sum_over_features((x - p) ** 2)

    where `p` is `x_reconstructed`. Summing over the features (pixels and
    channels) makes it the negative log-likelihood of the sample under a
    Bernoulli decoder (up to a constant, under a Gaussian decoder of variance
    1/2 for the squared error), the term the ELBO needs. The binary
    cross-entropy clips `p` to `[epsilon, 1 - epsilon]` (Keras's
    `backend.epsilon()`), so targets and reconstructions of exactly 0 or 1
    give a finite value; targets need not be binary, any value in `[0, 1]`
    works.

    Args:
        x: targets, shape `(batch, ...)`.
        x_reconstructed: reconstructions, the same shape; probabilities in
            `[0, 1]` for the binary cross-entropy.
        reconstruction_loss: `"binary_crossentropy"` or `"squared_error"`.
            Defaults to `"binary_crossentropy"`.

    Returns:
        A tensor of shape `(batch,)`.

    Example:

    >>> import numpy as np
    >>> error = reconstruction_error(
    ...     np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]]), "squared_error")
    >>> keras.ops.convert_to_numpy(error).tolist()
    [0.5]
    """
    reconstruction_loss = spec.check_reconstruction_loss(reconstruction_loss)
    x_reconstructed = _floating(x_reconstructed)
    x = _floating(x, x_reconstructed.dtype)
    if reconstruction_loss == "binary_crossentropy":
        errors = ops.binary_crossentropy(x, x_reconstructed)
    else:
        errors = ops.square(x - x_reconstructed)
    return _sum_over_features(errors)


def vae_loss(
    x,
    x_reconstructed,
    z_mean,
    z_log_var,
    *,
    reconstruction_loss="binary_crossentropy",
    beta=1.0,
):
    """The negative ELBO per sample, averaged over the batch: what `vae()` minimises.

        reconstruction = reconstruction_error(x, x_reconstructed)   # summed over features
        kl = gaussian_kl_divergence(z_mean, z_log_var)               # summed over latent dims
        loss = mean_over_batch(reconstruction + beta * kl)

    With `beta=1` this is the negative evidence lower bound of Kingma and
    Welling (2014), in nats per sample; `beta > 1` weighs the prior more and
    gives a beta-VAE (Higgins et al., 2017), trading reconstruction for a
    more factorised latent space; `beta=0` leaves a plain autoencoder with
    noisy codes. Both terms are sums, so the balance between them does not
    depend on the number of pixels or latent dimensions.

    Args:
        x: inputs (the reconstruction targets), shape `(batch, ...)`.
        x_reconstructed: the decoder's output, the same shape.
        z_mean: the encoder's means, shape `(batch, latent_dim)`.
        z_log_var: the encoder's log-variances, the same shape.
        reconstruction_loss: `"binary_crossentropy"` or `"squared_error"`,
            see `reconstruction_error`. Defaults to `"binary_crossentropy"`.
        beta: weight of the KL term, a number of at least 0. Defaults to
            `1.0`.

    Returns:
        A scalar tensor.

    Raises:
        ValueError: `reconstruction_loss` is not one of the names above,
            `beta` is negative or not finite, `z_mean` and `z_log_var`
            differ in shape, or `x` and `z_mean` in number of samples.
        TypeError: `beta` is not a number.

    Example:

    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0], [0.0, 0.0]])
    >>> loss = vae_loss(x, x, np.zeros((2, 1)), np.zeros((2, 1)),
    ...                 reconstruction_loss="squared_error")
    >>> float(loss)  # a perfect reconstruction and a posterior equal to the prior
    0.0
    """
    beta = spec.check_beta(beta)
    reconstruction = reconstruction_error(x, x_reconstructed, reconstruction_loss)
    kl = gaussian_kl_divergence(z_mean, z_log_var)
    # One code per sample: a batch of codes of another size would broadcast
    # (a single code silently) or fail deep in the backend.
    if _conflict(reconstruction.shape[:1], kl.shape[:1]):
        raise ValueError(
            "Arguments `x` and `z_mean` must hold the same number of samples. "
            f"Received: x.shape={tuple(ops.shape(x))}, "
            f"z_mean.shape={tuple(ops.shape(z_mean))}"
        )
    kl = ops.cast(kl, reconstruction.dtype)
    return ops.mean(reconstruction + beta * kl)


@keras.saving.register_keras_serializable(package="keras_recipes")
class ReconstructionError(keras.losses.Loss):
    """`reconstruction_error` as a Keras loss: summed over features, averaged over the batch.

    The loss `autoencoder()` compiles with, so that its `loss` is on the
    same scale as a VAE's `reconstruction_loss` (Keras's
    `"binary_crossentropy"` and `"mse"` average over the features instead).
    Registered, so a model compiled with it loads with `safe_mode=True`.

    Args:
        reconstruction_loss: `"binary_crossentropy"` or `"squared_error"`.
            Defaults to `"binary_crossentropy"`.
        name: name of the loss. Defaults to `"reconstruction_error"`.
        reduction: Keras's reduction of the per-sample values. Defaults to
            `"sum_over_batch_size"`, the batch mean.
        dtype: dtype of the computation. Defaults to `None`.

    Example:

    >>> import numpy as np
    >>> loss = ReconstructionError("squared_error")
    >>> float(loss(np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 1.0]])))
    1.0
    """

    def __init__(
        self,
        reconstruction_loss="binary_crossentropy",
        name="reconstruction_error",
        reduction="sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.reconstruction_loss = spec.check_reconstruction_loss(
            reconstruction_loss
        )

    def call(self, y_true, y_pred):
        return reconstruction_error(y_true, y_pred, self.reconstruction_loss)

    def get_config(self):
        return {**super().get_config(), "reconstruction_loss": self.reconstruction_loss}
