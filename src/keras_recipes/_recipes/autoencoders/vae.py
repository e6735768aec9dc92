"""The variational autoencoder of the lecture's assignment, faithful to the keras.io example."""

import keras
from keras import ops

from keras_recipes import _building, _validation
from keras_recipes._recipes.autoencoders import halves, losses, spec
from keras_recipes._recipes.autoencoders.sampling import Sampling
from keras_recipes._recipes.autoencoders.schedules import BetaTracker


@keras.saving.register_keras_serializable(package="keras_recipes")
class VariationalAutoencoder(keras.Model):
    """A functional model that trains on the negative ELBO of its own outputs.

    `vae()` builds it; it is a functional model (the graph is `inputs ->
    encoder -> decoder`, outputs `[reconstruction, z_mean, z_log_var]`) whose
    `compute_loss` is `losses.vae_loss` of those outputs, with the input as
    the target unless `fit` is given one. Overriding `compute_loss` rather
    than `train_step` keeps it backend-neutral: Keras's own training step
    differentiates it on TensorFlow, JAX and PyTorch alike. The two terms are
    tracked as the metrics `reconstruction_loss` and `kl_loss`.

    With `objective="iwae"` the loss is the negative importance-weighted
    bound of `num_samples` draws per sample (Burda et al., 2016), and the
    two metrics are those of the forward pass's single draw (they no longer
    add up to `loss`). With a KL schedule as `beta`, the model counts its
    training steps, applies `beta(step)` at each and logs the last one as the
    metric `beta`; the count is saved with the model.

    Args:
        *args: the functional model's `inputs` and `outputs`.
        reconstruction_loss: `"binary_crossentropy"` or `"squared_error"`.
            Defaults to `"binary_crossentropy"`.
        beta: weight of the KL term, a number or a KL schedule
            (`keras_recipes.losses.LinearBeta`, ...). Defaults to `1.0`.
        objective: `"elbo"` or `"iwae"`. Defaults to `"elbo"`.
        num_samples: posterior draws per sample in the loss. Defaults to `1`.
        free_bits: floor of each latent dimension's batch-mean KL, in nats.
            Defaults to `0.0`.
        **kwargs: the functional model's other arguments, such as `name`.
    """

    def __init__(
        self,
        *args,
        reconstruction_loss="binary_crossentropy",
        beta=1.0,
        objective="elbo",
        num_samples=1,
        free_bits=0.0,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.reconstruction_loss = spec.check_reconstruction_loss(
            reconstruction_loss
        )
        if isinstance(beta, dict):
            beta = keras.saving.deserialize_keras_object(beta)
        self.objective, self.num_samples, self.beta, self.free_bits = (
            spec.check_training_objective(objective, num_samples, beta, free_bits)
        )
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        # Only a schedule logs `beta` and counts steps: a model built with a
        # number saves and logs exactly what it did before schedules existed.
        self.beta_tracker = (
            BetaTracker(self.beta) if spec.is_beta_schedule(self.beta) else None
        )

    def _draws(self, target, z_mean, z_log_var, training):
        """`num_samples` draws of z per sample, decoded: reconstruction errors, log p(z), log q(z|x), each `(k, batch)`."""
        count = self.num_samples
        sampling = next(
            layer for layer in self.get_layer("encoder").layers if isinstance(layer, Sampling)
        )
        means = ops.tile(z_mean, (count, 1))
        log_vars = ops.tile(z_log_var, (count, 1))
        z = sampling([means, log_vars])
        decoded = self.get_layer("decoder")(z, training=training)
        targets = ops.tile(target, (count,) + (1,) * (len(target.shape) - 1))
        shape = (count, -1)
        return (
            ops.reshape(
                losses.reconstruction_error(targets, decoded, self.reconstruction_loss), shape
            ),
            ops.reshape(losses.gaussian_log_density(z, 0.0, 0.0), shape),
            ops.reshape(losses.gaussian_log_density(z, means, log_vars), shape),
        )

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        reconstruction, z_mean, z_log_var = y_pred
        # `fit(x)` reconstructs `x`; `fit(x, y)` reconstructs `y`, which
        # also trains a denoising VAE on `fit(noisy, clean)`.
        target = x if y is None else y
        reconstruction_terms = losses.reconstruction_error(
            target, reconstruction, self.reconstruction_loss
        )
        dtype = reconstruction_terms.dtype
        kl_dimensions = ops.cast(losses.kl_per_dimension(z_mean, z_log_var), dtype)
        kl_terms = ops.sum(kl_dimensions, axis=-1)
        weight = None
        if sample_weight is not None:
            weight = ops.reshape(ops.cast(sample_weight, dtype), (-1,))
            reconstruction_terms = reconstruction_terms * weight
            kl_terms = kl_terms * weight
        # Sum over count with 0/0 = 0, not `ops.mean`: a MirroredStrategy
        # replica can get no rows of an epoch's short last batch (one
        # sample over two replicas), and its mean would be NaN and turn
        # the epoch's reported losses to NaN. Keras's own losses divide
        # the same way. The sum of no rows is 0, so dividing it by 1
        # instead gives the 0; `ops.where`, not `ops.divide_no_nan`, which
        # returns float32 for float64 input on PyTorch in Keras 3.15.
        count = ops.cast(ops.shape(reconstruction_terms)[0], dtype)
        divisor = ops.where(count > 0, count, ops.ones_like(count))
        kl_value = ops.sum(kl_terms) / divisor
        if self.objective == "iwae" or self.num_samples > 1:
            draws = self._draws(ops.cast(target, dtype), z_mean, z_log_var, training)
        if self.objective == "elbo" and self.num_samples > 1:
            # The reconstruction term averaged over `num_samples` draws: a
            # lower-variance estimate of the same ELBO.
            reconstruction_terms = ops.mean(ops.cast(draws[0], dtype), axis=0)
            if weight is not None:
                reconstruction_terms = reconstruction_terms * weight
        reconstruction_value = ops.sum(reconstruction_terms) / divisor
        if self.free_bits > 0:
            # The trained KL term, and the one logged as `kl_loss`, so that
            # `loss` stays `reconstruction_loss + beta * kl_loss`.
            kl_value = ops.cast(
                losses.free_bits_kl(kl_dimensions, self.free_bits, weight), dtype
            )
        if self.beta_tracker is None:
            beta = self.beta
        else:
            beta = ops.cast(
                self.beta_tracker.next_beta() if training else self.beta_tracker.result(),
                dtype,
            )
        # Weighted by the batch size, as Keras weighs its `loss` tracker, so
        # that the epoch's `loss` is exactly `reconstruction_loss + beta *
        # kl_loss` even when the last batch is smaller (keras-io#983).
        batch_size = ops.shape(reconstruction_terms)[0]
        self.reconstruction_loss_tracker.update_state(
            reconstruction_value, sample_weight=batch_size
        )
        self.kl_loss_tracker.update_state(kl_value, sample_weight=batch_size)
        if self.objective == "iwae":
            errors, log_prior, log_posterior = draws
            log_likelihood = losses.log_likelihood_of_error(
                errors, self.reconstruction_loss, tuple(target.shape)[1:]
            )
            bound = losses.importance_weighted_bound(log_likelihood, log_prior, log_posterior)
            bound_terms = -ops.cast(bound, dtype)
            if weight is not None:
                bound_terms = bound_terms * weight
            loss_value = ops.sum(bound_terms) / divisor
        else:
            loss_value = reconstruction_value + beta * kl_value
        # Through `_aggregate_additional_loss`, Keras's hook for the loss
        # terms a model adds itself: on TensorFlow it divides by the number
        # of replicas of a `tf.distribute` strategy, as Keras's own losses
        # do, because the replicas' gradients are summed; elsewhere it only
        # sums. Returned unscaled, the loss of a two-replica
        # MirroredStrategy would be reported twice over and its SGD step
        # would be twice as long.
        total = self._aggregate_additional_loss(loss_value)
        for extra in self.losses:
            # Weight regularizers or `add_loss` terms a user adds later.
            total = total + ops.cast(self._aggregate_additional_loss(extra), total.dtype)
        return total

    # The schedule's step count is saved with the weights: Keras saves no
    # metric variables, and a model reloaded mid-schedule must resume it.
    _STEP_KEY = "beta_step"

    def save_own_variables(self, store):
        super().save_own_variables(store)
        if self.beta_tracker is not None:
            store[self._STEP_KEY] = ops.convert_to_numpy(self.beta_tracker.step)

    def load_own_variables(self, store):
        keys = [key for key in store.keys() if key != self._STEP_KEY]
        super().load_own_variables({key: store[key] for key in keys})
        if self.beta_tracker is not None and self._STEP_KEY in store.keys():
            step = self.beta_tracker.step
            step.assign(ops.cast(store[self._STEP_KEY], step.dtype))

    def compile_from_config(self, config):
        # A file saved on TensorFlow or JAX loads and runs on PyTorch too.
        super().compile_from_config(halves.compile_config_on_this_backend(config))

    def get_config(self):
        return {
            **super().get_config(),
            "reconstruction_loss": self.reconstruction_loss,
            "beta": (
                keras.saving.serialize_keras_object(self.beta)
                if self.beta_tracker is not None
                else self.beta
            ),
            "objective": self.objective,
            "num_samples": self.num_samples,
            "free_bits": self.free_bits,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # `__init__` checks the values as `vae()` does; a key the file lacks
        # would silently take its default there. `objective`, `num_samples`
        # and `free_bits` came later: a file without them was saved by a
        # model that trained as their defaults do.
        _validation.check_config_keys(
            "VariationalAutoencoder", config, ("reconstruction_loss", "beta")
        )
        return super().from_config(config, custom_objects=custom_objects)


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
    """Builds a variational autoencoder that trains on `fit(x)` alone.

    The lecture's assignment, written the way keras.io's VAE example is but
    as a functional model that saves and trains on every backend. The model
    holds two sub-models, `model.get_layer("encoder")` from a sample to
    `[z_mean, z_log_var, z]` and `model.get_layer("decoder")` from a point
    `z` to a reconstruction, and outputs `[reconstruction, z_mean, z_log_var]`.

        z_mean, z_log_var = encoder_heads(encoder_body(x))
        z = z_mean + exp(0.5 * z_log_var) * epsilon,  epsilon ~ N(0, I)   # Sampling
        loss = reconstruction_error(x, decoder(z)) + beta * kl(z_mean, z_log_var)

    The loss is the negative ELBO per sample (`losses.vae_loss`); `beta > 1`
    gives a beta-VAE. `fit`'s history holds `loss`, `reconstruction_loss` and
    `kl_loss`. The model follows Keras's global dtype policy at build time
    (docs/recipes/vae.md: bfloat16 mixed precision).

    Args:
        input_shape: shape of one sample, without the batch axis: `(64,)`
            (an int is the same as a 1-tuple) or `(28, 28, 1)`.
        latent_dim: number of latent dimensions. Defaults to `2`.
        architecture: `"dense"` (Dense layers of `hidden_units`) or `"conv"`
            (stride-2 Conv2D per entry of `filters`, then a Dense of
            `intermediate_dim`; the decoder mirrors it). Defaults to `"dense"`.
        hidden_units: Dense widths of the dense encoder, reversed in the
            decoder; may be empty. Defaults to `(256,)`.
        filters: Conv2D filters of the conv encoder, each halving the height
            and width. Defaults to `(32, 64)`.
        intermediate_dim: width of the Dense layer after the convolutions.
            Defaults to `16`.
        reconstruction_loss: `"binary_crossentropy"` for data in `[0, 1]` or
            `"squared_error"`, summed over a sample's features. Defaults to
            `"binary_crossentropy"`.
        beta: weight of the KL term, a number of at least 0 or a KL
            schedule of optimizer steps (`keras_recipes.losses.LinearBeta`,
            `CyclicalBeta`, `ConstantBeta`), which also logs `beta`.
            Defaults to `1.0`.
        objective: `"elbo"`, the negative ELBO, or `"iwae"`, the negative
            importance-weighted bound of `num_samples` draws (Burda et al.,
            2016; `beta` 1 and no free bits). Defaults to `"elbo"`.
        num_samples: posterior draws per sample: the `k` of the IWAE, or
            the draws the ELBO's reconstruction term averages. Defaults to `1`.
        free_bits: floor of each latent dimension's batch-mean KL in nats
            (Kingma et al., 2016): below it a dimension's KL gets no
            gradient; `kl_loss` is the floored term. Defaults to `0.0`.
        kernel_initializer: initializer of every layer's kernel, a Keras
            initializer name or instance; with `seed`, each layer's is seeded
            from it. Keras's (and keras.io's) Glorot uniform by default;
            `"he_uniform"` or `"lecun_uniform"` train the dense VAE to a
            better held-out likelihood (docs/vae_research.md), and
            `"fan_in_uniform"` is PyTorch's default
            (`keras_recipes.initializers.FanInUniform`). Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of every layer's bias, a name or an
            instance, seeded as the kernels are. `"fan_in_uniform"` draws
            each bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with its
            layer's fan-in, as PyTorch does; with it and
            `kernel_initializer="fan_in_uniform"` the model starts as a
            PyTorch one does (docs/vae_research.md). Defaults to `"zeros"`.
        optimizer: an optimizer name or instance. Defaults to `"adam"`.
        steps_per_execution: batches run per call of the compiled training
            function; callbacks see one batch end in that many; 1 where Keras
            cannot run more (PyTorch, multi-replica TensorFlow). Defaults to `32`.
        seed: seed of the weight initialisers and of the sampling noise.
            Defaults to `None`.
        name: model name, and prefix of every layer name inside the encoder
            and decoder (`f"{name}_encoder_dense_0"`). Defaults to `"vae"`.

    Returns:
        A compiled `VariationalAutoencoder` (a functional `keras.Model`) from
        `(batch, *input_shape)` to `[reconstruction, z_mean, z_log_var]`.

    Raises:
        ValueError: a size is not positive, a string names no choice, `beta`
            or `free_bits` is negative, `objective="iwae"` has a `beta`
            other than 1 or free bits, `num_samples` is above 4096, the image size is not divisible as the strides need,
            or the model is too big (over 2**31 - 1 numbers per sample or
            2**31 parameters, `keras_recipes.param_count.vae`).
        TypeError: an argument has the wrong type.

    Example:

    >>> model = vae((28, 28, 1), latent_dim=2, architecture="conv",
    ...             filters=(32, 64), intermediate_dim=16)  # keras.io's VAE
    >>> model.get_layer("encoder").count_params(), model.get_layer("decoder").count_params()
    (69076, 65089)
    """
    sizes = spec.check_sizes(
        input_shape, latent_dim, architecture, hidden_units, filters, intermediate_dim
    )
    shape, latent_dim, architecture, hidden_units, filters, intermediate_dim = sizes
    _validation.check_buildable(
        "vae", spec.encoder_decoder_weights(sizes, heads=2), spec.responsible(sizes)
    )
    reconstruction_loss = spec.check_reconstruction_loss(reconstruction_loss)
    objective, num_samples, beta, free_bits = spec.check_training_objective(
        objective, num_samples, beta, free_bits
    )
    initialization = _building.Initializers(
        _building.initializer("kernel_initializer", kernel_initializer),
        _building.initializer("bias_initializer", bias_initializer),
    )
    optimizer = _building.optimizer(optimizer)
    steps_per_execution = _validation.check_steps_per_execution(steps_per_execution)
    seed = _validation.check_seed(seed)
    name = _validation.check_name(name)

    # Under a mixed-precision policy the heads, the sampling and the
    # decoder's output compute in float32 (see `halves`), so the
    # loss and the noise are float32 and only the hidden layers run in half
    # precision.
    head_dtype = halves.float32_under_mixed_precision()

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
        initialization=initialization,
    )
    head_kernel = (hidden.shape[-1], latent_dim)
    z_mean = keras.layers.Dense(
        latent_dim,
        **_building.weight_initializers(seed, index, initialization, head_kernel),
        dtype=head_dtype,
        name=f"{name}_z_mean",
    )(hidden)
    z_log_var = keras.layers.Dense(
        latent_dim,
        **_building.weight_initializers(seed, index + 1, initialization, head_kernel),
        dtype=head_dtype,
        name=f"{name}_z_log_var",
    )(hidden)
    z = Sampling(
        seed=halves.derived_seed(seed, halves.SAMPLING_SEED_KEY),
        dtype=head_dtype,
        name=f"{name}_sampling",
    )([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

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
        first_index=index + 2,
        initialization=initialization,
    )

    # === VAE ===
    inputs = keras.Input(shape=shape, name=f"{name}_input")
    z_mean, z_log_var, z = encoder(inputs)
    reconstruction = decoder(z)
    model = VariationalAutoencoder(
        inputs,
        [reconstruction, z_mean, z_log_var],
        reconstruction_loss=reconstruction_loss,
        beta=beta,
        objective=objective,
        num_samples=num_samples,
        free_bits=free_bits,
        name=name,
    )
    return halves.compile_autoencoder(
        model, optimizer=optimizer, steps_per_execution=steps_per_execution
    )
