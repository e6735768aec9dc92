"""Per-sample memory of training: `param_count.training_memory`'s estimate against a measurement.

For each backend and batch size, a fresh Python process builds a conv net on
64x64x3 images, trains two steps with Adam, and reports its peak resident
memory (`ru_maxrss`). The growth of that peak between two batch sizes,
divided by the difference in samples, is the measured cost of one sample
(activations kept for the backward pass, the batch and the framework's
per-sample temporaries); the random arrays the child makes for its data are
subtracted, as they are the data set, not the step. The estimate's slope is
`per_sample` (activations + batch). Both are CPU figures; a GPU has other
allocators and workspaces (see docs/training_memory.md).

Last, it prints the largest batch that the estimate fits in 16 GiB for
ResNet50 at 224x224 with Adam, in float32 and in mixed_bfloat16.

Run: `python benchmarks/training_memory.py` (a few minutes on 2 cores).
"""

import json
import os
import resource
import subprocess
import sys

BATCHES = (16, 64)
BACKENDS = ("tensorflow", "jax")
SIZE = 64


def build(keras):
    """A conv net whose activations dominate: 4 conv layers at full and half resolution."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input((SIZE, SIZE, 3)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10),
    ], name="convnet")


def child(batch_size):
    """Train two steps at `batch_size`; print peak RSS and the data's bytes as JSON."""
    import keras
    import numpy as np

    from keras_recipes.param_count import training_memory

    model = build(keras)
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).random((batch_size, SIZE, SIZE, 3), dtype="float32")
    y = np.zeros((batch_size, 1), "int32")
    model.fit(x, y, batch_size=batch_size, epochs=2, verbose=0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    memory = training_memory(model, batch_size=batch_size, optimizer="adam", target_bytes=4)
    print(json.dumps({"peak": peak, "data": x.nbytes + y.nbytes,
                      "per_sample": memory.per_sample,
                      "activations_per_sample": memory.activations_per_sample}))


def measure(backend, batch_size):
    environment = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    output = subprocess.run([sys.executable, __file__, "--child", str(batch_size)],
                            env=environment, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def resnet50_largest_batches():
    import keras

    from keras_recipes.param_count import training_memory

    model = keras.applications.ResNet50(weights=None)
    for policy in ("float32", "mixed_bfloat16"):
        memory = training_memory(model, batch_size=1, optimizer="adam", dtype_policy=policy)
        print(f"ResNet50 224x224, Adam, {policy}: largest batch in 16 GiB = "
              f"{memory.largest_batch('16GiB'):,} (fixed {memory.fixed:,} B, "
              f"{memory.per_sample:,} B per sample)")


def main():
    print(f"load: {os.getloadavg()}")
    print("| backend | batches | measured B/sample | estimate B/sample | estimate / measured |")
    print("| --- | --- | ---: | ---: | ---: |")
    for backend in BACKENDS:
        runs = {batch: measure(backend, batch) for batch in BATCHES}
        low, high = runs[BATCHES[0]], runs[BATCHES[-1]]
        samples = BATCHES[-1] - BATCHES[0]
        measured = ((high["peak"] - high["data"]) - (low["peak"] - low["data"])) / samples
        estimate = high["per_sample"]
        print(f"| {backend} | {BATCHES[0]} -> {BATCHES[-1]} | {measured:,.0f} | {estimate:,} | "
              f"{estimate / measured:.2f} |")
    resnet50_largest_batches()
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(int(sys.argv[2]))
    else:
        main()
