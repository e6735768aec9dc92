"""Losses of the variational autoencoder, written with `keras.ops` only.

They take numpy arrays or tensors of any backend and return backend tensors,
so the same functions train a VAE on TensorFlow, JAX and PyTorch and can be
reused in research code. Their reduction is stated, never implied: the
issues users hit with VAE losses (keras-team/keras#3169, the lecture's own
slide) come from averaging one term and summing the other.
"""

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

__all__ = [
    "LOG_VAR_LIMIT",
    "ReconstructionError",
    "gaussian_kl_divergence",
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
    per_dimension = 0.5 * (ops.expm1(z_log_var) - z_log_var + ops.square(z_mean))
    return ops.sum(per_dimension, axis=-1)


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
