"""The autoencoders' spec: argument checks, geometry and counts of `vae()` and `autoencoder()`.

Pure Python (no Keras): the builders, the halves and
`keras_recipes.param_count` all read it, so a configuration one accepts the
other accepts too, and the count a builder hands to the size limit is the
one `param_count` reports.

The count is worked out half by half: the encoder's body (shared by both
recipes), its head, and the decoder, from the layer formulas of
`keras_recipes._counting.layers`. The sampling and noise layers have no weights: their
random state is a SeedGenerator, which `count_params()` does not count.
"""

import math
import numbers
from typing import NamedTuple

from keras_recipes import _validation
from keras_recipes._counting.record import ParamCount
from keras_recipes._counting.layers import conv, conv_transpose, dense_weights

ARCHITECTURES = ("dense", "conv")
RECONSTRUCTION_LOSSES = ("binary_crossentropy", "squared_error")
OBJECTIVES = ("elbo", "iwae")

# The largest number of importance samples per training example: the decoder
# runs on `num_samples` times the batch.
MAX_TRAINING_SAMPLES = 4096

# Keras's GaussianNoise refuses a standard deviation outside [0, 1].
MAX_NOISE_STDDEV = 1.0

# The convolutions' kernel size, in the builders and the counts alike.
KERNEL_SIZE = 3


class AutoencoderSizes(NamedTuple):
    """The size arguments of `vae()` and `autoencoder()`, checked and normalised."""

    input_shape: tuple
    latent_dim: int
    architecture: str
    hidden_units: tuple
    filters: tuple
    intermediate_dim: int


def check_input_shape(value):
    """Check an input shape without the batch axis; return it as a tuple of `int`."""
    expected = "a non-empty tuple of positive integers (the shape of one sample)"
    if _validation.is_int(value):
        # A bare int is the common shorthand for flat data: (input_dim,).
        return (_validation.check_feature_count("input_shape", value),)
    if not _validation.is_sequence(value):
        raise _validation.wrong_type("input_shape", expected, value)
    if not value:
        raise _validation.invalid("input_shape", expected, value)
    for size in value:
        if not _validation.is_int(size):
            raise _validation.wrong_type("input_shape", expected, value)
        if size < 1:
            raise _validation.invalid("input_shape", expected, value)
    return _validation.check_sample_size("input_shape", value, tuple(map(int, value)))


def is_beta_schedule(value):
    """Whether `value` is a KL schedule of `keras_recipes.losses` (`LinearBeta`, ...).

    Duck-typed on the marker the schedules' base class sets, so that this
    module stays free of Keras.
    """
    return getattr(type(value), "is_beta_schedule", False) is True


def check_beta(value, *, schedule=False):
    """Check the KL weight `beta` of a (beta-)VAE: a finite number of at least 0.

    With `schedule=True` a KL schedule (`keras_recipes.losses.LinearBeta`,
    `CyclicalBeta`, `ConstantBeta`) is accepted too, and returned as it is.
    """
    if schedule and is_beta_schedule(value):
        return value
    if schedule and not isinstance(value, numbers.Real):
        raise _validation.wrong_type(
            "beta",
            "a number of at least 0 or a KL schedule (keras_recipes.losses."
            "ConstantBeta, LinearBeta or CyclicalBeta)",
            value,
        )
    return _validation.check_real_number("beta", value)


# The largest free-bits floor, in nats per latent dimension. A float32 KL of
# one dimension cannot reach it from the variance (log sigma^2 underflows
# near -103), so a larger floor holds every dimension at the floor: no KL
# gradient is left, and a KL term of latent_dim * floor drowns the
# reconstruction in a float32 loss.
MAX_FREE_BITS = 1000.0


def check_free_bits(value):
    """Check the free-bits floor, in nats per latent dimension: a number from 0 to `MAX_FREE_BITS`."""
    return _validation.check_real_number("free_bits", value, high=MAX_FREE_BITS)


def check_objective(value):
    """Check a VAE training objective name; return it."""
    return _validation.check_choice("objective", value, OBJECTIVES)


def check_num_samples(value):
    """Check the number of posterior samples per training example: 1 to `MAX_TRAINING_SAMPLES`."""
    number = _validation.check_positive_int("num_samples", value)
    if number > MAX_TRAINING_SAMPLES:
        raise _validation.invalid(
            "num_samples", f"an integer from 1 to {MAX_TRAINING_SAMPLES}", value
        )
    return number


class Objective(NamedTuple):
    """The training objective of `vae()`, checked as a whole."""

    objective: str
    num_samples: int
    beta: object
    free_bits: float


def check_training_objective(objective, num_samples, beta, free_bits):
    """Check `vae()`'s objective, `num_samples`, `beta` and `free_bits` together; return an `Objective`.

    The importance-weighted bound weighs no term: it is refused with a
    `beta` other than 1 or with `free_bits` above 0, which have no meaning
    in it.
    """
    objective = check_objective(objective)
    num_samples = check_num_samples(num_samples)
    beta = check_beta(beta, schedule=True)
    free_bits = check_free_bits(free_bits)
    if objective == "iwae" and (is_beta_schedule(beta) or beta != 1.0):
        raise _validation.invalid(
            "beta",
            "1.0 with objective='iwae' (the importance-weighted bound has no "
            "separate KL term to weigh)",
            beta,
            "Use objective='elbo' for a beta-VAE or a KL schedule",
        )
    if objective == "iwae" and free_bits > 0:
        raise _validation.invalid(
            "free_bits",
            "0 with objective='iwae' (the importance-weighted bound has no "
            "separate KL term to floor)",
            free_bits,
            "Use objective='elbo' with free bits",
        )
    return Objective(objective=objective, num_samples=num_samples, beta=beta, free_bits=free_bits)


def check_reconstruction_loss(value):
    """Check a reconstruction loss name; return it."""
    return _validation.check_choice("reconstruction_loss", value, RECONSTRUCTION_LOSSES)


def check_noise_stddev(value):
    """Check the `noise_stddev` of a denoising autoencoder: a number from 0 to 1."""
    return _validation.check_real_number("noise_stddev", value, high=MAX_NOISE_STDDEV)


def downsampled(shape, filters):
    """The spatial size `(height, width)` after one stride-2 convolution per filter."""
    factor = 2 ** len(filters)
    return shape[0] // factor, shape[1] // factor


def check_sizes(shape, latent_dim, architecture, hidden_units, filters, intermediate_dim):
    """Check the sizes shared by `vae()` and `autoencoder()`; return them normalised.

    Every size argument is checked whatever the architecture, so that a typo
    in an argument the architecture does not use is still caught.

    Returns:
        An `AutoencoderSizes`.
    """
    shape = check_input_shape(shape)
    latent_dim = _validation.check_positive_int("latent_dim", latent_dim)
    architecture = _validation.check_choice("architecture", architecture, ARCHITECTURES)
    hidden_units = _validation.check_units_list("hidden_units", hidden_units, allow_empty=True)
    filters = _validation.check_units_list("filters", filters)
    intermediate_dim = _validation.check_positive_int("intermediate_dim", intermediate_dim)
    if architecture == "conv":
        if len(shape) != 3:
            raise _validation.invalid(
                "input_shape",
                "a shape (height, width, channels) for architecture='conv'",
                shape,
                "Use architecture='dense' for flat inputs",
            )
        factor = 2 ** len(filters)
        if shape[0] % factor or shape[1] % factor:
            raise _validation.invalid(
                "input_shape",
                f"a height and width divisible by {factor} for filters="
                f"{list(filters)}: each of the {len(filters)} convolutions "
                "halves them (stride 2) and the decoder doubles them back",
                shape,
                "Pad or crop the images, or use fewer filters",
            )
    # The arguments this architecture does not use build nothing, so the
    # parameter count never bounds them: held to the widest layer any
    # architecture could build from them.
    unused = (
        {"filters": filters, "intermediate_dim": (intermediate_dim,)}
        if architecture == "dense"
        else {"hidden_units": hidden_units}
    )
    for argument, widths in unused.items():
        if any(width > _validation.MAX_WIDTH for width in widths):
            raise _validation.invalid(
                argument,
                f"widths of at most {_validation.MAX_WIDTH:,} (2**31 - 1)",
                widths if argument != "intermediate_dim" else intermediate_dim,
            )
    return AutoencoderSizes(
        input_shape=shape,
        latent_dim=latent_dim,
        architecture=architecture,
        hidden_units=hidden_units,
        filters=filters,
        intermediate_dim=intermediate_dim,
    )


def responsible(sizes):
    """The size arguments that set the count of a model of `sizes`, for the size limit's message."""
    names = (
        ("input_shape", "latent_dim", "hidden_units")
        if sizes.architecture == "dense"
        else ("input_shape", "latent_dim", "filters", "intermediate_dim")
    )
    return {name: getattr(sizes, name) for name in names}


# === Analytic counts ===


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
            total += conv(channels, width, KERNEL_SIZE).total
            channels = width
        height, width = downsampled(shape, filters)
        total += dense_weights(height * width * filters[-1], intermediate_dim)
        return total, intermediate_dim
    features = math.prod(shape)
    return _stack(features, hidden_units), (hidden_units[-1] if hidden_units else features)


def _decoder(shape, latent_dim, architecture, hidden_units, filters):
    """Weights of the decoder sub-model."""
    if architecture == "conv":
        height, width = downsampled(shape, filters)
        total = dense_weights(latent_dim, height * width * filters[-1])
        channels = filters[-1]
        for width in reversed(filters):
            total += conv_transpose(channels, width, KERNEL_SIZE).total
            channels = width
        return total + conv_transpose(channels, shape[-1], KERNEL_SIZE).total
    widths = tuple(reversed(hidden_units))
    last = widths[-1] if widths else latent_dim
    return _stack(latent_dim, widths) + dense_weights(last, math.prod(shape))


def encoder_decoder_weights(sizes, heads):
    """Weights of an autoencoder of checked `sizes` whose encoder ends in `heads` Dense heads.

    `vae()` has two heads (`z_mean` and `z_log_var`), `autoencoder()` one
    (the code).
    """
    shape, latent_dim, architecture, hidden_units, filters, intermediate_dim = sizes
    body, width = _encoder_body(shape, architecture, hidden_units, filters, intermediate_dim)
    return (
        body
        + heads * dense_weights(width, latent_dim)
        + _decoder(shape, latent_dim, architecture, hidden_units, filters)
    )


# === The counts of `keras_recipes.param_count` ===


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
    objective="elbo",
    num_samples=1,
    free_bits=0.0,
    kernel_initializer="glorot_uniform",
    bias_initializer="zeros",
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
    sizes = check_sizes(
        input_shape, latent_dim, architecture, hidden_units, filters, intermediate_dim
    )
    check_reconstruction_loss(reconstruction_loss)
    check_training_objective(objective, num_samples, beta, free_bits)
    return ParamCount(encoder_decoder_weights(sizes, heads=2))


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
    sizes = check_sizes(
        input_shape, latent_dim, architecture, hidden_units, filters, intermediate_dim
    )
    check_reconstruction_loss(reconstruction_loss)
    check_noise_stddev(noise_stddev)
    return ParamCount(encoder_decoder_weights(sizes, heads=1))


# === KL schedules ===

SCHEDULE_KINDS = ("constant", "linear", "cyclical")


def check_schedule_steps(argument, value):
    """Check a schedule's length in optimizer steps (`warmup_steps`, `period`): a positive integer."""
    return _validation.check_positive_int(argument, value)


def check_schedule_ratio(value):
    """Check a cyclical schedule's `ratio`, the part of each period spent rising: in (0, 1]."""
    number = _validation.check_real_number("ratio", value, high=1.0)
    if number == 0:
        raise _validation.invalid("ratio", "a number above 0 and at most 1.0", value)
    return number
