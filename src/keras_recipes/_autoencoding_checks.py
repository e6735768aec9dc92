"""Argument checks of the autoencoder recipes, `vae()` and `autoencoder()`.

Pure Python, like `_validation.py`: `param_count.vae` and
`param_count.autoencoder` run the same checks as the builders without
importing Keras, so a configuration one accepts the other accepts too.
"""

from keras_recipes import _validation

ARCHITECTURES = ("dense", "conv")
RECONSTRUCTION_LOSSES = ("binary_crossentropy", "squared_error")

# Keras's GaussianNoise refuses a standard deviation outside [0, 1].
MAX_NOISE_STDDEV = 1.0


def input_shape(value):
    """Check an input shape without the batch axis; return it as a tuple of `int`."""
    expected = "a non-empty tuple of positive integers (the shape of one sample)"
    if _validation.is_int(value):
        # A bare int is the common shorthand for flat data: (input_dim,).
        return (_validation.feature_count("input_shape", value),)
    if not _validation.is_sequence(value):
        raise _validation.wrong_type("input_shape", expected, value)
    if not value:
        raise _validation.invalid("input_shape", expected, value)
    for size in value:
        if not _validation.is_int(size):
            raise _validation.wrong_type("input_shape", expected, value)
        if size < 1:
            raise _validation.invalid("input_shape", expected, value)
    return _validation.sample_size("input_shape", value, tuple(map(int, value)))


def beta(value):
    """Check the KL weight `beta` of a (beta-)VAE: a finite number of at least 0."""
    return _validation.real_number("beta", value)


def reconstruction_loss(value):
    """Check a reconstruction loss name; return it."""
    return _validation.choice("reconstruction_loss", value, RECONSTRUCTION_LOSSES)


def downsampled(shape, filters):
    """The spatial size `(height, width)` after one stride-2 convolution per filter."""
    factor = 2 ** len(filters)
    return shape[0] // factor, shape[1] // factor


def sizes(shape, latent_dim, architecture, hidden_units, filters, intermediate_dim):
    """Check the sizes shared by `vae()` and `autoencoder()`; return them normalised.

    Every size argument is checked whatever the architecture, so that a typo
    in an argument the architecture does not use is still caught.

    Returns:
        A tuple `(input_shape, latent_dim, architecture, hidden_units,
        filters, intermediate_dim)`.
    """
    shape = input_shape(shape)
    latent_dim = _validation.positive_int("latent_dim", latent_dim)
    architecture = _validation.choice("architecture", architecture, ARCHITECTURES)
    hidden_units = _validation.units_list("hidden_units", hidden_units, allow_empty=True)
    filters = _validation.units_list("filters", filters)
    intermediate_dim = _validation.positive_int("intermediate_dim", intermediate_dim)
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
    return shape, latent_dim, architecture, hidden_units, filters, intermediate_dim
