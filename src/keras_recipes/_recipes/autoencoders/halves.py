"""The encoder and decoder shared by `vae()` and `autoencoder()`.

Both recipes build the same two halves, so that code written against one
works against the other: a sub-model named `encoder` that maps a sample to
its code, and a sub-model named `decoder` that maps a code of `latent_dim`
numbers back to a sample. Only the encoder's head differs (one code, or a
mean, a log-variance and a sample), and it is built by the recipe.

    dense:  [Flatten] -> Dense(h) for h in hidden_units          (encoder body)
            Dense(h) for h in reversed(hidden_units) -> Dense(prod(input_shape))
            -> [Reshape(input_shape)]                             (decoder)
    conv:   Conv2D(f, 3, strides=2) for f in filters -> Flatten -> Dense(intermediate_dim)
            Dense(h/2**n * w/2**n * filters[-1]) -> Reshape
            -> Conv2DTranspose(f, 3, strides=2) for f in reversed(filters)
            -> Conv2DTranspose(channels, 3)

with `n = len(filters)`, ReLU on every hidden layer and `padding="same"`
everywhere, as in the keras.io VAE example, whose configuration this
reproduces exactly.
"""

import math

import keras
import numpy as np

from keras_recipes import _building, _validation
from keras_recipes._recipes.autoencoders import spec

HIDDEN_ACTIVATION = "relu"

# `reconstruction_loss` decides the decoder's output activation: a Bernoulli
# decoder outputs probabilities, a Gaussian one any real number.
OUTPUT_ACTIVATIONS = {"binary_crossentropy": "sigmoid", "squared_error": None}

# Keys of the derived seeds that are not layer indices; a layer index never
# reaches them.
SAMPLING_SEED_KEY = 1 << 20
NOISE_SEED_KEY = (1 << 20) + 1


def float32_under_mixed_precision():
    """`"float32"` when the global dtype policy computes in half precision, else `None`.

    Under a mixed policy (`keras.mixed_precision.set_global_policy(
    "mixed_bfloat16")`) the layers given this dtype, the decoder's output and
    the VAE's `z_mean`, `z_log_var` and sampling, compute in float32, so the
    loss is computed in float32 from float32 probabilities, as Keras's
    mixed-precision guide asks: a bfloat16 sigmoid keeps 8 bits of mantissa,
    too few for `log(1 - p)` near 1. Under any other policy it is `None`,
    which keeps the global policy (float64 stays float64).
    """
    if keras.config.dtype_policy().compute_dtype in ("float16", "bfloat16"):
        return "float32"
    return None


def derived_seed(seed, key):
    """An integer seed for the random layer `key` of a model built with `seed`.

    `None` stays `None`, an unseeded stream. Derived like the kernel seeds of
    `_building.kernel_initializer`, so layers never share a stream, but in 31
    bits: a `keras.random.SeedGenerator` holds its seed in an int32 on
    PyTorch, and a larger one overflows there.
    """
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, key]).generate_state(1)[0]) >> 1


def _channels(tensor):
    """The channels of a `_building.IMAGE_FORMAT` image tensor."""
    return tensor.shape[-1]


def encoder_body(
    inputs,
    *,
    architecture,
    hidden_units,
    filters,
    intermediate_dim,
    name,
    seed,
    initialization=_building.KERAS_INITIALIZERS,
):
    """The encoder up to its last hidden layer; return `(tensor, next_index)`.

    `next_index` is the index of the next weighted layer, for the seeds of
    the head the recipe adds. `initialization` gives every layer's kernel
    and bias initializers (`_building.weight_initializers`).
    """
    prefix = f"{name}_encoder"
    tensor = inputs
    index = 0
    if architecture == "conv":
        for index, width in enumerate(filters):
            tensor = keras.layers.Conv2D(
                width,
                3,
                strides=2,
                padding="same",
                data_format=_building.IMAGE_FORMAT,
                activation=HIDDEN_ACTIVATION,
                **_building.weight_initializers(
                    seed, index, initialization, (3, 3, _channels(tensor), width)
                ),
                name=f"{prefix}_conv_{index}",
            )(tensor)
        tensor = keras.layers.Flatten(
            data_format=_building.IMAGE_FORMAT, name=f"{prefix}_flatten"
        )(tensor)
        units = (intermediate_dim,)
        index = len(filters)
    else:
        if len(inputs.shape) > 2:
            tensor = keras.layers.Flatten(
                data_format=_building.IMAGE_FORMAT, name=f"{prefix}_flatten"
            )(tensor)
        units = hidden_units
    tensor = _building.dense_stack(
        tensor,
        units,
        activation=HIDDEN_ACTIVATION,
        last_activation=HIDDEN_ACTIVATION,
        name=prefix,
        seed=seed,
        first_index=index,
        initialization=initialization,
    )
    return tensor, index + len(units)


def build_decoder(
    shape,
    latent_dim,
    *,
    architecture,
    hidden_units,
    filters,
    output_activation,
    name,
    seed,
    first_index,
    initialization=_building.KERAS_INITIALIZERS,
):
    """The decoder sub-model, named `decoder`: `(batch, latent_dim)` to `(batch, *shape)`.

    `initialization` gives every layer's kernel and bias initializers
    (`_building.weight_initializers`).
    """
    prefix = f"{name}_decoder"
    inputs = keras.Input(shape=(latent_dim,), name=f"{prefix}_input")
    index = first_index
    if architecture == "conv":
        height, width = spec.downsampled(shape, filters)
        tensor = keras.layers.Dense(
            height * width * filters[-1],
            activation=HIDDEN_ACTIVATION,
            **_building.weight_initializers(
                seed, index, initialization, (latent_dim, height * width * filters[-1])
            ),
            name=f"{prefix}_dense_0",
        )(inputs)
        tensor = keras.layers.Reshape(
            (height, width, filters[-1]), name=f"{prefix}_reshape"
        )(tensor)
        for position, channels in enumerate(reversed(filters)):
            index += 1
            tensor = keras.layers.Conv2DTranspose(
                channels,
                3,
                strides=2,
                padding="same",
                data_format=_building.IMAGE_FORMAT,
                activation=HIDDEN_ACTIVATION,
                # A transposed convolution's kernel is (*window, filters, inputs).
                **_building.weight_initializers(
                    seed, index, initialization, (3, 3, channels, _channels(tensor))
                ),
                name=f"{prefix}_conv_transpose_{position}",
            )(tensor)
        outputs = keras.layers.Conv2DTranspose(
            shape[-1],
            3,
            padding="same",
            data_format=_building.IMAGE_FORMAT,
            activation=output_activation,
            dtype=float32_under_mixed_precision(),
            **_building.weight_initializers(
                seed, index + 1, initialization, (3, 3, shape[-1], _channels(tensor))
            ),
            name=f"{prefix}_output",
        )(tensor)
    else:
        tensor = _building.dense_stack(
            inputs,
            tuple(reversed(hidden_units)),
            activation=HIDDEN_ACTIVATION,
            last_activation=HIDDEN_ACTIVATION,
            name=prefix,
            seed=seed,
            first_index=index,
            initialization=initialization,
        )
        outputs = keras.layers.Dense(
            math.prod(shape),
            activation=output_activation,
            dtype=float32_under_mixed_precision(),
            **_building.weight_initializers(
                seed,
                index + len(hidden_units),
                initialization,
                (tensor.shape[-1], math.prod(shape)),
            ),
            name=f"{prefix}_output",
        )(tensor)
        if len(shape) > 1:
            outputs = keras.layers.Reshape(shape, name=f"{prefix}_reshape")(outputs)
    return keras.Model(inputs, outputs, name="decoder")


def _tensorflow_replicas():
    """The replicas of the active `tf.distribute` strategy; 1 outside any scope."""
    # Imported here, and only on TensorFlow: the other backends need not
    # have TensorFlow installed, and the scope is TensorFlow's.
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def steps_per_execution_here(steps_per_execution):
    """`steps_per_execution`, or 1 where Keras cannot run more steps per call.

    The one rule the builders (at build time) and the loaders (in
    `compile_from_config`) apply, from the backend and the active
    distribution:

    - PyTorch: Keras's trainer runs one batch per call and refuses any
      other value when `fit`, `evaluate` or `predict` starts
      ("`steps_per_execution` must be 1 with the PyTorch backend").
    - TensorFlow inside a `tf.distribute` strategy scope of two replicas or
      more (`MirroredStrategy().scope()`): Keras 3.15's `fit` loop fails
      there with more than one step per execution (its `tf.while_loop`
      ends in "You must feed a value for placeholder tensor"). One replica
      runs any number.
    - JAX, under a `keras.distribution` distribution or not, and TensorFlow
      outside a scope: `steps_per_execution` as asked.

    The setting changes the speed, not the results, so the recipes' default
    of 32 (and a file saved with it) runs everywhere instead of failing.
    """
    backend = keras.backend.backend()
    if backend == "torch" or (backend == "tensorflow" and _tensorflow_replicas() > 1):
        return 1
    return steps_per_execution


def compile_config_on_this_backend(config):
    """A saved compile config (`Model.compile_from_config`'s argument) fit for this backend and scope.

    Its `steps_per_execution` is checked as the builders check theirs: a
    file's value out of range is refused naming it, rather than
    overflowing inside `fit`.
    """
    if "steps_per_execution" not in config:
        return config
    return {
        **config,
        "steps_per_execution": steps_per_execution_here(
            _validation.check_steps_per_execution(config["steps_per_execution"])
        ),
    }


def compile_autoencoder(model, *, optimizer, steps_per_execution, loss=None):
    """Compile `model` and build its optimizer, as `_building.compile_model` does.

    XLA is left to Keras's `jit_compile="auto"` (on with a GPU): on a CPU it
    sped up the dense VAE but made the convolutional one twice slower.
    """
    model.compile(
        optimizer=optimizer,
        loss=loss,
        steps_per_execution=steps_per_execution_here(steps_per_execution),
    )
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return model
