"""Where one training step of the keras.io conv VAE spends its time, ours against the reference.

Two tables, both in milliseconds of this process's CPU time (all threads),
medians over repeated runs in this one process, batch size 128, 28x28x1:

1. One training step (`model.train_function`, fed by a repeating
   `tf.data` iterator, excluding the first call, which traces) of:
   the keras.io reference (`benchmarks/vae_reference.py`, Keras defaults);
   `vae()` with `steps_per_execution` 1 and 32 (its default); `vae()` with
   its `compute_loss` replaced by the bare keras.io formula (no trackers,
   no sample weights, no `expm1`/clip): the cost of our loss bookkeeping;
   `vae()` with `jit_compile=True` (XLA); `vae()` under the
   `"mixed_bfloat16"` global policy.
2. Forward, and forward plus backward, of each layer of the keras.io
   architecture on its own, in float32 and in bfloat16 (`mixed_bfloat16`
   layers): where the arithmetic is.

    python benchmarks/vae_conv_profile.py
    python benchmarks/vae_conv_profile.py --trials 5   # quicker

It asserts nothing.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vae_reference  # noqa: E402

import keras_recipes  # noqa: E402
from keras_recipes._recipes.autoencoders.vae import VariationalAutoencoder  # noqa: E402

BATCH_SIZE = 128


class BareLossVAE(VariationalAutoencoder):
    """Our model with keras.io's loss formula and nothing else in `compute_loss`."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        reconstruction, z_mean, z_log_var = y_pred
        per_sample = ops.sum(ops.binary_crossentropy(x, reconstruction), axis=(1, 2, 3))
        kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        return ops.mean(per_sample) + ops.mean(ops.sum(kl, axis=1))


def ours(steps_per_execution=32, policy=None, jit_compile="auto", bare_loss=False):
    previous = keras.config.dtype_policy()
    if policy is not None:
        keras.mixed_precision.set_global_policy(policy)
    model = keras_recipes.vae(
        (28, 28, 1), latent_dim=2, architecture="conv", filters=(32, 64),
        intermediate_dim=16, seed=0, steps_per_execution=steps_per_execution,
    )
    keras.mixed_precision.set_global_policy(previous)
    if bare_loss:
        model = BareLossVAE(model.inputs, model.outputs, name="bare")
    if bare_loss or jit_compile != "auto":
        model.compile(optimizer="adam", steps_per_execution=steps_per_execution,
                      jit_compile=jit_compile)
    return model


def reference():
    encoder, decoder = vae_reference.reference_conv(2)
    model = vae_reference.ReferenceVAE(encoder, decoder)
    model.compile(optimizer=keras.optimizers.Adam())
    return model


def step_times(trials):
    """Median CPU and wall milliseconds per training step of each variant, taking turns."""
    variants = {
        "reference (keras.io, defaults)": reference,
        "ours, steps_per_execution=1": lambda: ours(1),
        "ours, steps_per_execution=32": lambda: ours(32),
        "ours, bare keras.io loss, spe=1": lambda: ours(1, bare_loss=True),
        "ours, jit_compile=True": lambda: ours(32, jit_compile=True),
        "ours, mixed_bfloat16": lambda: ours(32, policy="mixed_bfloat16"),
    }
    images = vae_reference.strokes(4096, seed=0)
    runs = []
    for label, build in variants.items():
        model = build()
        dataset = tf.data.Dataset.from_tensor_slices(images).batch(BATCH_SIZE, drop_remainder=True)
        iterator = iter(dataset.repeat().prefetch(2))
        model.make_train_function()
        model.train_function(iterator)  # traces
        runs.append((label, model, iterator))
    times = {label: [] for label, _, _ in runs}
    for _ in range(trials):
        for label, model, iterator in runs:
            calls = max(1, 32 // model.steps_per_execution)
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(calls):
                logs = model.train_function(iterator)
            float(logs["loss"])
            steps = calls * model.steps_per_execution
            times[label].append(((time.process_time() - cpu) / steps * 1e3,
                                 (time.perf_counter() - wall) / steps * 1e3))
    return {label: np.median(values, axis=0) for label, values in times.items()}


def layer_times(dtype, repeats=20, trials=5):
    """CPU milliseconds of forward, and of forward and backward, of each keras.io layer."""
    cases = [
        ("encoder Conv2D 28x28x1 -> 14x14x32", layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", dtype=dtype), (28, 28, 1)),
        ("encoder Conv2D 14x14x32 -> 7x7x64", layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", dtype=dtype), (14, 14, 32)),
        ("encoder Dense 3136 -> 16", layers.Dense(16, activation="relu", dtype=dtype), (3136,)),
        ("decoder Dense 2 -> 3136", layers.Dense(3136, activation="relu", dtype=dtype), (2,)),
        ("decoder Conv2DTranspose 7x7x64 -> 14x14x64", layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu", dtype=dtype), (7, 7, 64)),
        ("decoder Conv2DTranspose 14x14x64 -> 28x28x32", layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu", dtype=dtype), (14, 14, 64)),
        ("decoder Conv2DTranspose 28x28x32 -> 28x28x1", layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid", dtype=dtype), (28, 28, 32)),
    ]
    rows = []
    for label, layer, shape in cases:
        inputs = tf.random.uniform((BATCH_SIZE, *shape))
        layer.build((BATCH_SIZE, *shape))

        @tf.function
        def forward(inputs, layer=layer):
            return layer(inputs)

        @tf.function
        def forward_backward(inputs, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                total = tf.reduce_sum(tf.cast(layer(inputs), "float32"))
            return tape.gradient(total, [inputs, *layer.trainable_weights])

        row = [label]
        for function in (forward, forward_backward):
            function(inputs)
            best = []
            for _ in range(trials):
                cpu = time.process_time()
                for _ in range(repeats):
                    result = function(inputs)
                np.asarray(tf.nest.flatten(result)[0])
                best.append((time.process_time() - cpu) / repeats * 1e3)
            row.append(float(np.median(best)))
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12, help="turns of 32 steps per variant")
    arguments = parser.parse_args()
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, "
          f"{os.cpu_count()} CPU(s), batch size {BATCH_SIZE}")

    steps = step_times(arguments.trials)
    base_cpu, base_wall = steps["reference (keras.io, defaults)"]
    print(f"\n{'one training step':34}{'CPU ms':>9}{'wall ms':>9}{'ref/this CPU':>14}{'ref/this wall':>15}")
    for label, (cpu, wall) in steps.items():
        print(f"{label:34}{cpu:9.1f}{wall:9.1f}{base_cpu / cpu:14.2f}{base_wall / wall:15.2f}")

    tables = {dtype: layer_times(dtype) for dtype in ("float32", "mixed_bfloat16")}
    print(f"\n{'layer (CPU ms)':46}{'f32 fwd':>9}{'f32 f+b':>9}{'bf16 fwd':>10}{'bf16 f+b':>10}")
    totals = np.zeros(4)
    for f32, bf16 in zip(tables["float32"], tables["mixed_bfloat16"]):
        values = np.array([f32[1], f32[2], bf16[1], bf16[2]])
        totals += values
        print(f"{f32[0]:46}" + "".join(f"{v:9.1f}" if i < 2 else f"{v:10.1f}" for i, v in enumerate(values)))
    print(f"{'sum of the layers':46}" + "".join(f"{v:9.1f}" if i < 2 else f"{v:10.1f}" for i, v in enumerate(totals)))
    print(f"load average (1 min) now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")


if __name__ == "__main__":
    main()
