"""`Sampling`, the VAE's reparameterisation layer, registered for safe loading.

Its own module, below `_vae` (which builds with it) and `layers` (which
re-exports it), so neither imports the other. Reusable on its own in a
research script's VAE: `from keras_recipes.layers import Sampling`.
"""

import keras
from keras import ops

from keras_recipes import _validation


# The largest seed a `keras.random.SeedGenerator` holds on each backend:
# its state has the dtype of `keras.src.backend.random_seed_dtype()`. Other
# backends get PyTorch's bound, the smallest.
_LARGEST_SEED = {"tensorflow": 2**63 - 1, "jax": 2**32 - 1, "torch": 2**31 - 1}


@keras.saving.register_keras_serializable(package="keras_recipes")
class Sampling(keras.layers.Layer):
    """Draws `z` from N(z_mean, exp(z_log_var)): the reparameterisation trick.

    The layer of a variational autoencoder that sits between the encoder's
    two heads and the decoder. It is called on `[z_mean, z_log_var]`, two
    tensors of the same shape, and returns

        epsilon = normal(shape=shape(z_mean))    # a fresh draw each call
        z = z_mean + exp(0.5 * z_log_var) * epsilon

    so that the noise is an input of the computation rather than a random
    node: gradients reach `z_mean` and `z_log_var` through `z`. The layer
    samples at inference too, like the keras.io VAE's; take `z_mean` for a
    deterministic code. It has no weights; its random state is a
    `keras.random.SeedGenerator`, whose state variable is not a parameter
    (`count_params()` is 0).

    Two layers built with the same integer `seed` draw the same noise, call
    for call: give each sampling layer of a model its own seed, or leave it
    `None`. With `seed=None` each layer draws an unrelated stream.

    Args:
        seed: integer seed of the noise, or `None` for an unseeded stream.
            The largest seed depends on the backend's seed dtype: 2**63 - 1
            on TensorFlow (int64), 2**32 - 1 on JAX (uint32), 2**31 - 1 on
            PyTorch (int32).
            Defaults to `None`.
        **kwargs: base layer arguments, such as `name` and `dtype`.

    Example:

    >>> import numpy as np
    >>> z_mean = np.zeros((4, 2), dtype="float32")
    >>> z_log_var = np.zeros((4, 2), dtype="float32")  # unit variance
    >>> z = Sampling(seed=1)([z_mean, z_log_var])
    >>> tuple(z.shape)
    (4, 2)
    >>> same = Sampling(seed=1)([z_mean, z_log_var])  # same seed, same noise
    >>> bool(keras.ops.all(z == same))
    True
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _validation.check_seed(seed)
        # Keras holds a SeedGenerator's seed in a tensor of the backend's
        # seed dtype, and a larger seed fails inside Keras with an overflow.
        largest = _LARGEST_SEED.get(keras.backend.backend(), 2**31 - 1)
        if self.seed is not None and self.seed > largest:
            raise _validation.invalid(
                "seed",
                f"None or an integer from 0 to {largest} on the "
                f"{keras.backend.backend()} backend",
                seed,
            )
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs):
        expected = "[z_mean, z_log_var], two tensors of the same shape"
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            received = (
                f"a list of {len(inputs)} tensors"
                if isinstance(inputs, (list, tuple))
                else f"one tensor of shape {tuple(inputs.shape)}"
            )
            raise ValueError(
                f"Invalid input for layer `Sampling`: expected {expected}. "
                f"Received: {received}"
            )
        z_mean, z_log_var = inputs
        shapes = tuple(z_mean.shape), tuple(z_log_var.shape)
        if len(shapes[0]) != len(shapes[1]) or any(
            a is not None and b is not None and a != b for a, b in zip(*shapes)
        ):
            raise ValueError(
                f"Invalid input for layer `Sampling`: expected {expected}. "
                f"Received: z_mean.shape={shapes[0]}, z_log_var.shape={shapes[1]}"
            )
        epsilon = keras.random.normal(
            ops.shape(z_mean), dtype=self.compute_dtype, seed=self.seed_generator
        )
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    # The position in the random stream is saved with the model (Keras saves
    # no SeedGenerator state): a reloaded model draws what the original
    # would have drawn next, even with `seed=None`, whose stream starts at a
    # random seed that the config cannot hold.
    _STATE_KEY = "seed_generator_state"

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store[self._STATE_KEY] = keras.ops.convert_to_numpy(self.seed_generator.state)

    def load_own_variables(self, store):
        if self._STATE_KEY in store.keys():
            state = self.seed_generator.state
            state.assign(ops.cast(store[self._STATE_KEY], state.dtype))

    def get_config(self):
        base_config = super().get_config()
        return {**base_config, "seed": self.seed}
