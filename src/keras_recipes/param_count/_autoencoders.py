"""Parameter counts of the autoencoder recipes, `vae()` and `autoencoder()`.

Each function takes exactly the arguments of the builder of the same name
and checks the sizes as the builder does (`_autoencoding_checks`). The count
is worked out half by half: the encoder's body (shared by both recipes), its
head, and the decoder, from the layer formulas of `_layers.py`. The sampling
and noise layers have no weights: their random state is a SeedGenerator,
which `count_params()` does not count.
"""

import math

from keras_recipes import _autoencoding_checks, _validation
from keras_recipes.param_count._count import ParamCount
from keras_recipes.param_count._layers import conv, conv_transpose, dense_weights

_KERNEL_SIZE = 3


def _stack(input_dim, units):
    """Weights of a stack of Dense layers of widths `units` on `input_dim` features."""
    total = 0
    for width in units:
        total += dense_weights(input_dim, width)
        input_dim = width
    return total


def _encoder_body(shape, architecture, hidden_units, filters, intermediate_dim):
    """Weights of the encoder up to its last hidden layer, and that layer's width."""
    if architecture == "conv":
        total = 0
        channels = shape[-1]
        for width in filters:
            total += conv(channels, width, _KERNEL_SIZE).total
            channels = width
        height, width = _autoencoding_checks.downsampled(shape, filters)
        total += dense_weights(height * width * filters[-1], intermediate_dim)
        return total, intermediate_dim
    features = math.prod(shape)
    return _stack(features, hidden_units), (hidden_units[-1] if hidden_units else features)


def _decoder(shape, latent_dim, architecture, hidden_units, filters):
    """Weights of the decoder sub-model."""
    if architecture == "conv":
        height, width = _autoencoding_checks.downsampled(shape, filters)
        total = dense_weights(latent_dim, height * width * filters[-1])
        channels = filters[-1]
        for width in reversed(filters):
            total += conv_transpose(channels, width, _KERNEL_SIZE).total
            channels = width
        return total + conv_transpose(channels, shape[-1], _KERNEL_SIZE).total
    widths = tuple(reversed(hidden_units))
    last = widths[-1] if widths else latent_dim
    return _stack(latent_dim, widths) + dense_weights(last, math.prod(shape))


def vae(
    input_shape,
    latent_dim=2,
    *,
    architecture="dense",
    hidden_units=(256,),
    filters=(32, 64),
    intermediate_dim=16,
    reconstruction_loss="binary_crossentropy",
    beta=1.0,
    optimizer="adam",
    steps_per_execution=32,
    seed=None,
    name="vae",
):
    """Parameters of `keras_recipes.vae(...)`: encoder, its two heads, and decoder.

    Example:

    >>> vae((28, 28, 1), 2, architecture="conv").total  # keras.io: 69,076 + 65,089
    134165
    >>> vae((64,), 2, hidden_units=(256,)).total  # 16,640 + 2 * 514 + 768 + 16,448
    34884
    """
    shape, latent_dim, architecture, hidden_units, filters, intermediate_dim = (
        _autoencoding_checks.sizes(
            input_shape, latent_dim, architecture, hidden_units, filters, intermediate_dim
        )
    )
    _autoencoding_checks.reconstruction_loss(reconstruction_loss)
    _autoencoding_checks.beta(beta)
    body, width = _encoder_body(shape, architecture, hidden_units, filters, intermediate_dim)
    heads = 2 * dense_weights(width, latent_dim)  # z_mean and z_log_var
    return ParamCount(
        body + heads + _decoder(shape, latent_dim, architecture, hidden_units, filters)
    )


def autoencoder(
    input_shape,
    latent_dim,
    *,
    architecture="dense",
    hidden_units=(256,),
    filters=(32, 64),
    intermediate_dim=16,
    reconstruction_loss="binary_crossentropy",
    noise_stddev=0.0,
    optimizer="adam",
    steps_per_execution=32,
    seed=None,
    name="autoencoder",
):
    """Parameters of `keras_recipes.autoencoder(...)`: encoder, its code layer, and decoder.

    The same halves as `vae()`'s with one head instead of two; the noise
    layer has no weights.

    Example:

    >>> autoencoder((64,), 2, hidden_units=(32,)).total  # 2,080 + 66 + 96 + 2,112
    4354
    """
    shape, latent_dim, architecture, hidden_units, filters, intermediate_dim = (
        _autoencoding_checks.sizes(
            input_shape, latent_dim, architecture, hidden_units, filters, intermediate_dim
        )
    )
    _autoencoding_checks.reconstruction_loss(reconstruction_loss)
    _validation.real_number(
        "noise_stddev", noise_stddev, high=_autoencoding_checks.MAX_NOISE_STDDEV
    )
    body, width = _encoder_body(shape, architecture, hidden_units, filters, intermediate_dim)
    code = dense_weights(width, latent_dim)
    return ParamCount(
        body + code + _decoder(shape, latent_dim, architecture, hidden_units, filters)
    )
