"""The lecture's sub-model example: a plain autoencoder whose halves are models of their own."""

import keras

from keras_recipes import _building, _validation
from keras_recipes._recipes.autoencoders import halves, spec
from keras_recipes._recipes.autoencoders.losses import ReconstructionError


@keras.saving.register_keras_serializable(package="keras_recipes")
class Autoencoder(keras.Model):
    """A functional autoencoder that reconstructs its input when `fit` has no targets.

    `autoencoder()` builds it. Its only difference from a plain functional
    model: `fit(x)` trains it to reconstruct `x`, as `vae().fit(x)` does, so
    code written for one recipe trains the other. `fit(x, y)` reconstructs
    `y` (`fit(noisy, clean)`); the built-in `noise_stddev` needs no such pair,
    since its noise is applied inside the model and the target stays clean.
    """

    def compile_from_config(self, config):
        # A file saved on TensorFlow or JAX loads and runs on PyTorch too.
        super().compile_from_config(halves.compile_config_on_this_backend(config))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return super().compute_loss(
            x=x,
            y=x if y is None else y,
            y_pred=y_pred,
            sample_weight=sample_weight,
            training=training,
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
    """Builds a deterministic autoencoder, optionally denoising, with named halves.

    The lecture's "Submodels" example: the halves are sub-models,
    `model.get_layer("encoder")` from a sample to its code of `latent_dim`
    numbers and `model.get_layer("decoder")` back, built exactly as `vae()`
    builds them, with one linear code layer (`f"{name}_code"`) instead of
    the VAE's `[z_mean, z_log_var, z]`.

        code = encoder(x + noise)        noise ~ N(0, noise_stddev**2), in training only
        loss = mean_over_batch(sum_over_features(reconstruction_error(x, decoder(code))))

    With `noise_stddev > 0` it is a denoising autoencoder (Vincent et al.,
    2008). Train with `fit(x)`; `fit(x, y)` reconstructs `y`.

    Args:
        input_shape: shape of one sample, without the batch axis: `(64,)`
            (an int is the same as a 1-tuple) or `(28, 28, 1)`.
        latent_dim: number of code dimensions.
        architecture: `"dense"` or `"conv"`, as in `vae()`. Defaults to
            `"dense"`.
        hidden_units: Dense widths of the dense encoder; the decoder uses
            them in reverse. Used only by `architecture="dense"`. Defaults
            to `(256,)`.
        filters: Conv2D filters of the conv encoder, each halving the height
            and width. Used only by `architecture="conv"`. Defaults to
            `(32, 64)`.
        intermediate_dim: width of the Dense layer after the convolutions.
            Used only by `architecture="conv"`. Defaults to `16`.
        reconstruction_loss: `"binary_crossentropy"` (sigmoid output, data
            in [0, 1]) or `"squared_error"` (linear output), summed over
            features. Defaults to `"binary_crossentropy"`.
        noise_stddev: standard deviation of the training noise, from 0 (no
            noise layer) to 1 (the most Keras's `GaussianNoise` accepts).
            Defaults to `0.0`.
        optimizer: an optimizer name or instance. Defaults to `"adam"`.
        steps_per_execution: batches per call of the compiled training
            function, as in `vae()`: faster for small models, but callbacks
            see one batch end in this many; 1 on PyTorch and inside a
            `tf.distribute` scope of two replicas or more whatever this
            says, as in `vae()`. Defaults to `32`.
        seed: seed of the weight initialisers and of the noise. Defaults to
            `None`.
        name: model name, and prefix of every layer name inside the encoder
            and decoder. Defaults to `"autoencoder"`.

    Returns:
        A compiled functional `keras.Model` from `(batch, *input_shape)` to
        `(batch, *input_shape)`.

    Raises:
        ValueError: a size is not positive, a string names no choice,
            `noise_stddev` is outside [0, 1], or the image size is not
            divisible as the strides need, or the model is too big (over
            2**31 - 1 numbers per sample or 2**31 parameters).
        TypeError: an argument has the wrong type.

    Example:

    >>> model = autoencoder((64,), 2, hidden_units=(32,))
    >>> [layer.name for layer in model.layers]
    ['autoencoder_input', 'encoder', 'decoder']
    >>> model.get_layer("encoder").output.shape
    (None, 2)
    """
    sizes = spec.check_sizes(
        input_shape, latent_dim, architecture, hidden_units, filters, intermediate_dim
    )
    shape, latent_dim, architecture, hidden_units, filters, intermediate_dim = sizes
    _validation.check_buildable(
        "autoencoder", spec.encoder_decoder_weights(sizes, heads=1), spec.responsible(sizes)
    )
    reconstruction_loss = spec.check_reconstruction_loss(reconstruction_loss)
    noise_stddev = spec.check_noise_stddev(noise_stddev)
    optimizer = _building.optimizer(optimizer)
    steps_per_execution = _validation.check_steps_per_execution(steps_per_execution)
    seed = _validation.check_seed(seed)
    name = _validation.check_name(name)

    # === Encoder ===
    encoder_inputs = keras.Input(shape=shape, name=f"{name}_encoder_input")
    hidden, index = halves.encoder_body(
        encoder_inputs,
        architecture=architecture,
        hidden_units=hidden_units,
        filters=filters,
        intermediate_dim=intermediate_dim,
        name=name,
        seed=seed,
    )
    code = keras.layers.Dense(
        latent_dim,
        kernel_initializer=_building.kernel_initializer(seed, index),
        name=f"{name}_code",
    )(hidden)
    encoder = keras.Model(encoder_inputs, code, name="encoder")

    # === Decoder ===
    decoder = halves.build_decoder(
        shape,
        latent_dim,
        architecture=architecture,
        hidden_units=hidden_units,
        filters=filters,
        output_activation=halves.OUTPUT_ACTIVATIONS[reconstruction_loss],
        name=name,
        seed=seed,
        first_index=index + 1,
    )

    # === Autoencoder ===
    inputs = keras.Input(shape=shape, name=f"{name}_input")
    tensor = inputs
    if noise_stddev > 0:
        tensor = keras.layers.GaussianNoise(
            noise_stddev,
            seed=halves.derived_seed(seed, halves.NOISE_SEED_KEY),
            name=f"{name}_noise",
        )(tensor)
    outputs = decoder(encoder(tensor))
    model = Autoencoder(inputs, outputs, name=name)
    return halves.compile_autoencoder(
        model,
        optimizer=optimizer,
        loss=ReconstructionError(reconstruction_loss),
        steps_per_execution=steps_per_execution,
    )
