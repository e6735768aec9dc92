"""`keras_recipes.vae()` against a VAE written the keras.io way, in one process.

The reference follows keras-team/keras-io `examples/generative/vae.py`: a
`Sampling` layer with `SeedGenerator(1337)`, a `keras.Model` subclass with
its own TensorFlow `train_step` (a `tf.GradientTape`) and three `Mean`
trackers, compiled with Keras's defaults (`compile(optimizer=Adam())`).
Both models have the same architecture and start from the same weights (the
reference's are copied from ours), see the same data in the same order, and
train for the same epochs. Two datasets:

- scikit-learn's digits (8x8 = 64 features scaled to [0, 1]), dense
  architecture, `hidden_units=(256,)`, `latent_dim=2`, batch size 32;
- a synthetic set of 28x28 grey images (random strokes, in [0, 1]), the
  keras.io conv architecture, batch size 128.

On the conv set it also trains ours under the `"mixed_bfloat16"` global
dtype policy (bfloat16 convolutions, float32 loss). For each it prints the
final training loss, the held-out loss (the negative
ELBO of `losses.vae_loss`, averaged over 10 draws of the sampling noise) and
the training throughput in samples per second of wall time and of this
process's CPU time (the median over every epoch but the first, which traces
the functions; the two models train in turns of a quarter of the epochs, so
that load from other processes hits both alike), and the ratios
ours/reference.
It asserts nothing.

    python benchmarks/vae_reference.py            # both datasets
    python benchmarks/vae_reference.py --quick    # fewer epochs

Targets (issue 4): held-out loss within 2% of the reference's, throughput at
least 1.5 times the reference's.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

import keras_recipes  # noqa: E402
from keras_recipes import losses  # noqa: E402

# === The keras.io reference ===


class ReferenceSampling(layers.Layer):
    """keras.io's Sampling layer, as published."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class ReferenceVAE(keras.Model):
    """keras.io's VAE: a TensorFlow `train_step` with three loss trackers."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [
            self.total_loss_tracker,
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
        ]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            per_feature = keras.losses.binary_crossentropy(data, reconstruction)
            if len(data.shape) == 4:
                # keras.io: BCE averaged over the channel, summed over pixels.
                per_sample = ops.sum(per_feature, axis=(1, 2))
            else:
                # Flat data: the mean over the features times their number
                # is their sum, as in the old Keras MNIST example.
                per_sample = per_feature * data.shape[-1]
            reconstruction_loss = ops.mean(per_sample)
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def reference_dense(features, hidden, latent_dim):
    """The reference encoder and decoder for flat data, keras.io style."""
    encoder_inputs = keras.Input(shape=(features,))
    x = layers.Dense(hidden, activation="relu")(encoder_inputs)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = ReferenceSampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(hidden, activation="relu")(latent_inputs)
    decoder_outputs = layers.Dense(features, activation="sigmoid")(x)
    decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")
    return encoder, decoder


def reference_conv(latent_dim):
    """The keras.io encoder and decoder, as published."""
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = ReferenceSampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")
    return encoder, decoder


# === Data ===


def digits():
    """scikit-learn's digits, scaled to [0, 1]: (train, held_out) of 1437 and 360."""
    from sklearn.datasets import load_digits

    x = (load_digits().data / 16.0).astype("float32")
    order = np.random.default_rng(0).permutation(len(x))
    x = x[order]
    return x[:1437], x[1437:]


def strokes(count, seed):
    """`count` synthetic 28x28x1 images in [0, 1]: a few soft random line segments each."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(np.arange(28), np.arange(28), indexing="ij"), -1)
    images = np.zeros((count, 28, 28), dtype="float32")
    for image in images:
        for _ in range(rng.integers(1, 4)):
            start, end = rng.uniform(4, 24, size=(2, 2))
            # Distance of every pixel to the segment start-end.
            direction = end - start
            t = np.clip(
                ((grid - start) @ direction) / max(direction @ direction, 1e-6), 0, 1
            )
            distance = np.linalg.norm(grid - (start + t[..., None] * direction), axis=-1)
            image[:] = np.maximum(image, np.exp(-0.5 * (distance / 1.2) ** 2))
    return images[..., None]


# === Measurement ===


class EpochTimes(keras.callbacks.Callback):
    """Records the wall time and the process's CPU time of every epoch."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = (time.perf_counter(), time.process_time())

    def on_epoch_end(self, epoch, logs=None):
        wall, cpu = self.started
        self.times.append((time.perf_counter() - wall, time.process_time() - cpu))


def held_out_loss(encoder, decoder, x, draws=10):
    """The negative ELBO on `x`, averaged over `draws` draws of the sampling noise."""
    values = []
    for _ in range(draws):
        z_mean, z_log_var, z = encoder.predict(x, batch_size=512, verbose=0)
        reconstruction = decoder.predict(z, batch_size=512, verbose=0)
        values.append(float(losses.vae_loss(x, reconstruction, z_mean, z_log_var)))
    return float(np.mean(values))


def train_in_turns(models, x, epochs, batch_size, rounds=4):
    """Fit every model for `epochs` epochs in `rounds` fits each, taking turns; return their figures.

    Each model trains as a user would train it, several epochs per `fit`
    call, but the models take turns every `epochs // rounds` epochs, with the
    same shuffles: a burst of load from another process on a shared machine
    slows both models, not whichever happened to run then.

    Returns:
        One `(final training loss, samples per second, samples per CPU
        second)` triple per model; the rates are medians over every epoch but
        the first, which traces the training function. The CPU rate counts
        the CPU time of this process (all its threads), which load from
        other processes barely changes; the wall rate is what a user waits
        for.
    """
    per_round = [epochs // rounds + (index < epochs % rounds) for index in range(rounds)]
    # Fewer epochs than rounds (`--quick`) leaves empty rounds; skip them.
    per_round = [count for count in per_round if count]
    losses_ = [None] * len(models)
    times = [[] for _ in models]
    done = 0
    for count in per_round:
        for index, model in enumerate(models):
            keras.utils.set_random_seed(done)
            timer = EpochTimes()
            history = model.fit(
                x,
                initial_epoch=done,
                epochs=done + count,
                batch_size=batch_size,
                verbose=0,
                callbacks=[timer],
            )
            losses_[index] = history.history["loss"][-1]
            times[index].extend(timer.times)
        done += count
    figures = []
    for loss, model_times in zip(losses_, times):
        wall, cpu = np.median(np.array(model_times[1:]), axis=0)
        figures.append((loss, len(x) / float(wall), len(x) / float(cpu)))
    return figures


def compare(title, x_train, x_test, ours, reference, epochs, batch_size, variants=()):
    """Train both models, print their figures and the ratios; return the ratios.

    `variants` are further `(label, model)` pairs of ours (same weights),
    trained in the same turns and printed against the same reference.
    """
    ours_encoder = ours.get_layer("encoder")
    ref_encoder, ref_decoder = reference.encoder, reference.decoder
    ref_encoder.set_weights(ours_encoder.get_weights())
    ref_decoder.set_weights(ours.get_layer("decoder").get_weights())
    rows = [("reference", reference), ("ours", ours), *variants]

    figures = train_in_turns([model for _, model in rows], x_train, epochs, batch_size)
    held_out = []
    for label, model in rows:
        keras.utils.set_random_seed(1)
        if model is reference:
            held_out.append(held_out_loss(ref_encoder, ref_decoder, x_test))
        else:
            held_out.append(
                held_out_loss(model.get_layer("encoder"), model.get_layer("decoder"), x_test)
            )

    print(f"\n{title}: {len(x_train)} training / {len(x_test)} held-out samples, "
          f"{epochs} epochs, batch size {batch_size}")
    print(f"{'':18}{'train loss':>12}{'held-out loss':>15}{'samples/s':>12}"
          f"{'samples/CPU-s':>15}")
    for (label, _), (loss, rate, cpu), value in zip(rows, figures, held_out):
        print(f"{label:18}{loss:12.3f}{value:15.3f}{rate:12.0f}{cpu:15.0f}")
    (_, ref_rate, ref_cpu), ref_held_out = figures[0], held_out[0]
    for (label, _), (_, rate, cpu), value in zip(rows[1:], figures[1:], held_out[1:]):
        loss_ratio = value / ref_held_out
        print(f"{label}/reference: held-out loss {loss_ratio:.4f} "
              f"({100 * (loss_ratio - 1):+.2f}%); throughput {rate / ref_rate:.2f}x wall, "
              f"{cpu / ref_cpu:.2f}x per CPU second")
    print(f"load average (1 min) now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")
    return held_out[1] / ref_held_out, figures[1][1] / ref_rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs, for a smoke run")
    arguments = parser.parse_args()
    digits_epochs, strokes_epochs = (6, 3) if arguments.quick else (40, 10)
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, "
          f"{os.cpu_count()} CPU(s)")

    x_train, x_test = digits()
    ours = keras_recipes.vae((64,), latent_dim=2, hidden_units=(256,), seed=0)
    encoder, decoder = reference_dense(64, 256, 2)
    reference = ReferenceVAE(encoder, decoder)
    reference.compile(optimizer=keras.optimizers.Adam())
    compare("digits, dense", x_train, x_test, ours, reference, digits_epochs, 32)

    x_train, x_test = strokes(2048, seed=0), strokes(512, seed=1)
    ours = keras_recipes.vae(
        (28, 28, 1), latent_dim=2, architecture="conv", filters=(32, 64),
        intermediate_dim=16, seed=0,
    )
    # The same model under Keras's bfloat16 mixed precision (opt-in: the
    # global policy at build time); its heads, sampling and output stay
    # float32, so the loss is computed in float32.
    previous = keras.config.dtype_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    ours_bfloat16 = keras_recipes.vae(
        (28, 28, 1), latent_dim=2, architecture="conv", filters=(32, 64),
        intermediate_dim=16, seed=0,
    )
    keras.mixed_precision.set_global_policy(previous)
    encoder, decoder = reference_conv(2)
    reference = ReferenceVAE(encoder, decoder)
    reference.compile(optimizer=keras.optimizers.Adam())
    compare("synthetic 28x28 strokes, conv (keras.io config)", x_train, x_test,
            ours, reference, strokes_epochs, 128,
            variants=[("ours mixed_bf16", ours_bfloat16)])


if __name__ == "__main__":
    main()
