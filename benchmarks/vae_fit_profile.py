"""Where the time of `vae().fit` goes on the benchmark's dense VAE, per backend.

The model and data of `vae_vs_pythae.py` (binarised digits, 1437 training
samples, dense 64-512-256, latent 2, batch 32, Adam 1e-3). For each setting it
trains `--epochs` epochs and prints, in wall and in this process's CPU
seconds: the whole fit, the first epoch (which traces and compiles the
training function) and the median of the other epochs, so that tracing,
steady steps, per-epoch validation and callbacks can be told apart:

    KERAS_BACKEND=tensorflow python benchmarks/vae_fit_profile.py
    KERAS_BACKEND=jax python benchmarks/vae_fit_profile.py

Settings: Keras's defaults as `vae()` sets them (`steps_per_execution=32`),
`steps_per_execution=1`, `jit_compile=True` (XLA; on a CPU, TensorFlow's
`"auto"` leaves it off), with `validation_data` (the 360 held-out samples
each epoch), with the progress bar (`verbose=1`), and fed batches of one
size by `keras_recipes.batching.PaddedBatches` (45 batches of 32 an epoch,
the last one's 3 padding rows weighted 0, so every sample trains once an
epoch as with the array). It asserts nothing.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
from vae_vs_pythae import FEATURES, HIDDEN_UNITS, LATENT_DIM, binarised_digits

import keras_recipes


class EpochClock(keras.callbacks.Callback):
    """Wall and CPU seconds of each epoch."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = (time.perf_counter(), time.process_time())

    def on_epoch_end(self, epoch, logs=None):
        wall, cpu = self.start
        self.epochs.append((time.perf_counter() - wall, time.process_time() - cpu))

    def on_train_begin(self, logs=None):
        self.epochs = []


SETTINGS = {
    "defaults (steps_per_execution=32)": ({}, {}),
    "steps_per_execution=1": ({"steps_per_execution": 1}, {}),
    "jit_compile=True": ({"jit_compile": True}, {}),
    "jit_compile=False": ({"jit_compile": False}, {}),
    "with validation_data": ({}, {"validation": True}),
    "with the progress bar (verbose=1)": ({}, {"verbose": 1}),
    "batches of one size (PaddedBatches)": ({}, {"padded_batches": True}),
}


def profile(setting, epochs, x_train, x_test):
    compile_options, fit_options = SETTINGS[setting]
    model = keras_recipes.vae(
        (FEATURES,),
        LATENT_DIM,
        hidden_units=HIDDEN_UNITS,
        optimizer=keras.optimizers.Adam(1e-3),
        seed=0,
        steps_per_execution=compile_options.get("steps_per_execution", 32),
    )
    if "jit_compile" in compile_options:
        model.compile(
            optimizer=model.optimizer,
            steps_per_execution=model.steps_per_execution,
            jit_compile=compile_options["jit_compile"],
        )
    clock = EpochClock()
    data, batch_size = x_train, 32
    if fit_options.get("padded_batches"):
        data = keras_recipes.batching.PaddedBatches(x_train, batch_size=32, seed=0)
        batch_size = None
    start = time.perf_counter(), time.process_time()
    model.fit(
        data,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=fit_options.get("verbose", 0),
        validation_data=(x_test,) if fit_options.get("validation") else None,
        callbacks=[clock],
    )
    wall = time.perf_counter() - start[0]
    cpu = time.process_time() - start[1]
    later = clock.epochs[1:]
    return {
        "fit wall s": wall,
        "fit CPU s": cpu,
        "epoch 1 wall s": clock.epochs[0][0],
        "later epoch wall ms": 1000 * statistics.median(e[0] for e in later),
        "later epoch CPU ms": 1000 * statistics.median(e[1] for e in later),
        "samples/s": epochs * len(x_train) / wall,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--settings", default=",".join(SETTINGS))
    args = parser.parse_args()
    x_train, x_test = binarised_digits(0)
    print(f"backend {keras.backend.backend()}, load average {os.getloadavg()}")
    for setting in args.settings.split(","):
        row = profile(setting, args.epochs, x_train, x_test)
        print(f"{setting:36s} " + ", ".join(f"{k} {v:,.1f}" for k, v in row.items()))
    print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
