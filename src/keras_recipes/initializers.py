"""Weight initializers of the recipes, registered for safe loading.

`FanInUniform` is PyTorch's default initialisation of `nn.Linear` and
`nn.ConvNd`, for kernels and biases alike; Keras has no initializer for a
bias that depends on the layer's fan-in, because a bias initializer is
given only the bias's own shape. `keras_recipes.vae(...,
kernel_initializer="fan_in_uniform", bias_initializer="fan_in_uniform")`
builds each layer's with its fan-in filled in (docs/vae_research.md).
"""

import math

import keras

from keras_recipes import _validation


def kernel_fan_in(shape):
    """The fan-in of a kernel of `shape`, as Keras's variance-scaling initializers count it.

    A Dense kernel `(inputs, units)` has fan-in `inputs`; a convolution's
    `(*window, channels_in, filters)` has `prod(window) * channels_in`, and a
    transposed convolution's `(*window, filters, channels_in)` has
    `prod(window) * filters`, which is also the fan-in PyTorch takes for a
    `ConvTranspose2d`'s weights and bias.

    Args:
        shape: the kernel's shape, of rank 2 or more.

    Returns:
        The fan-in, an int.

    Raises:
        ValueError: `shape` has rank below 2, so it is no kernel (a bias
            has no fan-in of its own).

    Example:

    >>> kernel_fan_in((3, 3, 16, 32))
    144
    """
    shape = tuple(shape)
    if len(shape) < 2:
        raise _validation.invalid(
            "shape",
            "a kernel's shape, of rank 2 or more",
            shape,
            "A bias's shape does not give its layer's fan-in: pass "
            "FanInUniform(fan_in=...)",
        )
    return math.prod(shape[:-1])


@keras.saving.register_keras_serializable(package="keras_recipes")
class FanInUniform(keras.initializers.RandomUniform):
    """Draws from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for layers' weights and biases.

    PyTorch initialises an `nn.Linear` or `nn.ConvNd` kernel with
    `kaiming_uniform_(a=sqrt(5))`, whose bound works out to
    `1 / sqrt(fan_in)`, and the bias from the same bound. A kernel's fan-in
    comes from its shape (`kernel_fan_in`); a bias needs its layer's, given
    as `fan_in`. Seeded as Keras's random initializers are: an integer seed
    gives the same values at every call, `None` a fresh seed.

    Args:
        fan_in: the layer's fan-in, a positive integer, or `None` to take it
            from the shape of the kernel initialised. Defaults to `None`.
        seed: an integer, a `keras.random.SeedGenerator`, or `None`.
            Defaults to `None`.

    Raises:
        TypeError: `fan_in` is not an integer or `None`.
        ValueError: `fan_in` is below 1; at a call, `fan_in` is `None` and
            the shape is not a kernel's.

    Example:

    >>> bias = FanInUniform(fan_in=64, seed=0)((128,))
    >>> float(keras.ops.max(keras.ops.abs(bias))) <= 1 / 8
    True
    """

    def __init__(self, fan_in=None, seed=None):
        if fan_in is not None:
            fan_in = _validation.check_positive_int("fan_in", fan_in)
        self.fan_in = fan_in
        super().__init__(minval=-1.0, maxval=1.0, seed=seed)

    def __call__(self, shape, dtype=None):
        fan_in = self.fan_in if self.fan_in is not None else kernel_fan_in(shape)
        bound = 1.0 / math.sqrt(fan_in)
        return keras.random.uniform(
            shape, minval=-bound, maxval=bound, seed=self.seed, dtype=dtype
        )

    def get_config(self):
        # `RandomUniform`'s bounds are not this initializer's arguments.
        config = super().get_config()
        return {"fan_in": self.fan_in, "seed": config["seed"]}


# The library's initializers by the name a builder's `kernel_initializer`
# and `bias_initializer` accept, beside Keras's own names.
NAMES = {"fan_in_uniform": FanInUniform}


def get(name):
    """The library's initializer called `name`, unseeded; `None` for a name it does not hold.

    Example:

    >>> type(get("fan_in_uniform")).__name__
    'FanInUniform'
    """
    initializer_class = NAMES.get(name)
    return None if initializer_class is None else initializer_class()
