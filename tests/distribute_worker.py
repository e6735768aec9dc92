"""Worker processes for the distributed-training tests; run as a script, never collected.

Each mode trains the recipes of the shared table (`test_recipes.RECIPES`)
on a distribution engine and writes what it saw as JSON; the tests in
`test_distribute_tensorflow.py` and `test_distribute_jax.py` make the
assertions. One process checks every recipe, because starting TensorFlow or
JAX costs seconds and the suite has a time budget.

Modes:

- `mirrored OUT`: TensorFlow, the CPU split into two logical devices before
  TensorFlow's first operation; every recipe built, compiled and trained
  inside `MirroredStrategy` scopes over one and over two devices, and
  built with its defaults in the two-device scope and fit, as a user
  following Keras's guide would.
- `jax-data-parallel OUT`: JAX with `XLA_FLAGS` asking for two host
  devices; every recipe trained under `keras.distribution.DataParallel`
  over both, and without a distribution, on the same global batches; and
  built with its defaults under the distribution and fit.
  It also trains `PROCESS_VAE` alone, on one device with whole global
  batches: the reference of the multi-process run, which
  `examples/jax_multiprocess_vae.py` makes (each process feeding its own
  share of every global batch, `auto_shard_dataset=False`).

The seed, the data and the sizes are fixed here, so that every mode sees
the same numbers.
"""

import argparse
import json
import math
import os
import sys
import time
import warnings

# Two devices for the data-parallel modes; the multi-process mode has one
# device per process.
NUM_REPLICAS = 2
# Global batch and number of steps of the epoch every mode trains.
GLOBAL_BATCH = 8
STEPS = 2
# The recipes train with plain SGD in the comparisons: Adam divides each
# gradient by its own running magnitude, so it would hide a loss scaled by
# the wrong number of replicas; SGD's step is proportional to the loss.
COMPARISON_OPTIMIZER = "sgd"
# The multi-process VAE: a dense VAE on 6 features; PROCESS_ARGUMENTS are
# the same settings for examples/jax_multiprocess_vae.py.
PROCESS_VAE = {"args": ((6,), 2), "kwargs": {"hidden_units": (5, 3), "seed": 1}}
PROCESS_EPOCHS = 2
PROCESS_ARGUMENTS = ["--latent-dim", "2", "--hidden-units", "5,3", "--seed", "1",
                     "--optimizer", COMPARISON_OPTIMIZER, "--epochs", str(PROCESS_EPOCHS),
                     "--batch-size", str(GLOBAL_BATCH)]

# Rows whose training step draws random numbers (the VAE's sampling, the
# denoising autoencoder's Gaussian noise): the replicas draw their own noise,
# so their weights are not compared with a one-device run's.
def is_random(name, kwargs):
    return name == "vae" or kwargs.get("noise_stddev", 0) > 0


def _data(model, name, seed):
    """`(x, y)` for one epoch of `STEPS` global batches; `y` is None for self-supervised recipes."""
    import numpy as np
    from test_recipes import TRAINS_WITHOUT_TARGETS

    rng = np.random.default_rng(seed)

    def like(tensors):
        arrays = [
            rng.uniform(0.0, 1.0, (GLOBAL_BATCH * STEPS, *t.shape[1:])).astype("float32")
            for t in tensors
        ]
        return arrays if len(arrays) > 1 else arrays[0]

    x = like(model.inputs)
    y = None if name in TRAINS_WITHOUT_TARGETS else like(model.outputs)
    return x, y


def _build(name, args, kwargs, **overrides):
    import keras_recipes

    return getattr(keras_recipes, name)(*args, **{**kwargs, **overrides})


def _with_defaults(name, args, kwargs, seed):
    """The row built as a user would, with the builder's defaults, and fit for one epoch.

    Called inside the scope or distribution under test: Keras's guide builds
    and compiles there, then fits. Returns the loss history and the
    `steps_per_execution` the model was compiled with, or the error `fit`
    raised, so that one failing recipe does not hide the others' results.
    """
    model = _build(name, args, kwargs)
    x, y = _data(model, name, seed=seed)
    try:
        history = _fit(model, x, y)
    except Exception as error:  # noqa: BLE001  (the test reports which recipe failed and how)
        return {"error": f"{type(error).__name__}: {str(error)[:300]}"}
    return {"history": history, "steps_per_execution": model.steps_per_execution}


def _fit(model, x, y):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The model does not have any trainable weights")
        history = model.fit(
            x, y, epochs=1, batch_size=GLOBAL_BATCH, shuffle=False, verbose=0
        )
    return {key: [float(v) for v in values] for key, values in history.history.items()}


def _weights(model):
    import numpy as np

    return [np.asarray(w, dtype="float64") for w in model.get_weights()]


def _differences(first, second):
    """Largest absolute difference of two weight lists, and largest |weight| of the first."""
    largest = max((float(abs(a - b).max()) for a, b in zip(first, second)), default=0.0)
    scale = max((float(abs(a).max()) for a in first), default=0.0)
    return largest, scale


def _step(before, after):
    """Largest absolute change of any weight over the epoch."""
    return max((float(abs(b - a).max()) for a, b in zip(before, after)), default=0.0)


def _norm_of_change(before, after):
    return math.sqrt(sum(float(((b - a) ** 2).sum()) for a, b in zip(before, after)))


# === TensorFlow MirroredStrategy ===


def mirrored(out):
    import tensorflow as tf

    # Before TensorFlow runs its first operation, which fixes the devices.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(NUM_REPLICAS)]
    )
    import keras
    from test_recipes import RECIPES

    devices = [f"/cpu:{i}" for i in range(NUM_REPLICAS)]
    one = tf.distribute.MirroredStrategy(devices[:1])
    two = tf.distribute.MirroredStrategy(devices)
    report = {"logical_cpus": len(tf.config.list_logical_devices("CPU")), "recipes": []}
    started = time.perf_counter()
    for index, (name, args, kwargs, _) in enumerate(RECIPES):
        keras.utils.set_random_seed(index)
        with two.scope():
            model = _build(name, args, kwargs, optimizer=COMPARISON_OPTIMIZER)
        variables = model.trainable_variables + model.non_trainable_variables
        # A Keras variable created under a strategy holds a tf.distribute
        # MirroredVariable (or, for state kept per replica such as a seed,
        # another DistributedValues) with one component per replica.
        kinds = sorted({type(v.value).__name__ for v in variables})
        with two.scope():
            defaults = _with_defaults(name, args, kwargs, seed=index)
        replicas_per_variable = sorted(
            {len(v.value.values) for v in variables if hasattr(v.value, "values")}
        )
        trainable_kinds = sorted({type(v.value).__name__ for v in model.trainable_variables})
        x, y = _data(model, name, seed=index)
        start = _weights(model)
        history_two = _fit(model, x, y)
        after_two = _weights(model)
        row = {
            "recipe": [name, repr(args), repr(kwargs)],
            "variable_types": kinds,
            "trainable_variable_types": trainable_kinds,
            "replicas_per_variable": replicas_per_variable,
            "num_replicas_in_sync": model.distribute_strategy.num_replicas_in_sync,
            "history_two": history_two,
            "random": is_random(name, kwargs),
            "step": _step(start, after_two),
            "defaults": defaults,
        }
        # The same recipe, with the same initial weights, on one replica
        # with the same global batches.
        with one.scope():
            reference = _build(name, args, kwargs, optimizer=COMPARISON_OPTIMIZER)
        reference.set_weights([w.astype("float32") for w in start])
        history_one = _fit(reference, x, y)
        after_one = _weights(reference)
        row["history_one"] = history_one
        row["weight_difference"], row["weight_scale"] = _differences(after_one, after_two)
        row["step_one"] = _step(start, after_one)
        row["step_norm_ratio"] = _norm_of_change(start, after_two) / max(
            _norm_of_change(start, after_one), 1e-30
        )
        report["recipes"].append(row)
    report["seconds"] = time.perf_counter() - started
    _write(out, report)


# === JAX DataParallel, one process ===


def _seed_without_tensorflow(seed):
    """Python's and numpy's seeds, which the unseeded recipes' initial weights come from.

    Not `keras.utils.set_random_seed`: it imports TensorFlow when it is
    installed, four seconds of each JAX worker's start. The weights need no
    more: the one-device run copies the two-device run's initial weights,
    and the multi-process VAE has a `seed`.
    """
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)


def jax_data_parallel(out):
    import keras
    from test_recipes import RECIPES

    devices = keras.distribution.list_devices()
    report = {"devices": devices, "recipes": []}
    started = time.perf_counter()
    parallel = keras.distribution.DataParallel(devices=devices)
    for index, (name, args, kwargs, _) in enumerate(RECIPES):
        _seed_without_tensorflow(index)
        keras.distribution.set_distribution(parallel)
        try:
            model = _build(name, args, kwargs, optimizer=COMPARISON_OPTIMIZER)
            shardings = sorted(
                {str(v.value.sharding.spec) for v in model.trainable_variables}
            )
            on_devices = sorted(
                {len(v.value.sharding.device_set) for v in model.trainable_variables}
            )
            x, y = _data(model, name, seed=index)
            start = _weights(model)
            history_two = _fit(model, x, y)
            after_two = _weights(model)
            defaults = _with_defaults(name, args, kwargs, seed=index)
        finally:
            keras.distribution.set_distribution(None)
        reference = _build(name, args, kwargs, optimizer=COMPARISON_OPTIMIZER)
        reference.set_weights([w.astype("float32") for w in start])
        history_one = _fit(reference, x, y)
        after_one = _weights(reference)
        difference, scale = _differences(after_one, after_two)
        report["recipes"].append(
            {
                "recipe": [name, repr(args), repr(kwargs)],
                "weight_shardings": shardings,
                "devices_per_weight": on_devices,
                "random": is_random(name, kwargs),
                "history_two": history_two,
                "history_one": history_one,
                "defaults": defaults,
                "weight_difference": difference,
                "weight_scale": scale,
                "step": _step(start, after_two),
                "step_norm_ratio": _norm_of_change(start, after_two)
                / max(_norm_of_change(start, after_one), 1e-30),
            }
        )
    # The one-device reference of the multi-process test, here where JAX
    # has started already: one process fewer to start in that test.
    report["process_reference"] = _process_reference()
    report["seconds"] = time.perf_counter() - started
    _write(out, report)


# === JAX, several processes ===


def process_vae_data():
    """The multi-process VAE's samples: `STEPS` global batches of 6 features in [0, 1]."""
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 1.0, (GLOBAL_BATCH * STEPS, 6)).astype("float32")


def _process_vae(keras):
    import keras_recipes

    model = keras_recipes.vae(
        *PROCESS_VAE["args"], **PROCESS_VAE["kwargs"], optimizer=COMPARISON_OPTIMIZER
    )
    return model, process_vae_data()


def _process_reference():
    """The multi-process VAE trained in this process alone, without a distribution."""
    import keras

    model, x = _process_vae(keras)
    history = model.fit(
        x, epochs=PROCESS_EPOCHS, batch_size=GLOBAL_BATCH, shuffle=False, verbose=0
    )
    return {
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "weights": [w.tolist() for w in model.get_weights()],
    }


def _write(out, report):
    with open(out, "w", encoding="utf-8") as file:
        json.dump(report, file)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["mirrored", "jax-data-parallel"])
    parser.add_argument("out")
    args = parser.parse_args(argv)
    # `import test_recipes` finds the table beside this file.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if args.mode == "mirrored":
        mirrored(args.out)
    else:
        jax_data_parallel(args.out)



# === Reading reports (used by the tests) ===


def row(report, index):
    """The report's row for `RECIPES[index]`, after checking that it is that recipe's."""
    from test_recipes import RECIPES

    found = report["recipes"][index]
    name, args, kwargs, _ = RECIPES[index]
    assert found["recipe"] == [name, repr(args), repr(kwargs)]
    return found


def each_row():
    """A `pytest.mark.parametrize` of `index` over every row of `RECIPES`."""
    import pytest
    from test_recipes import RECIPES, _id

    return pytest.mark.parametrize("index", range(len(RECIPES)), ids=[_id(r) for r in RECIPES])


# === Launching workers (used by the tests) ===


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(mode, out, *, backend, extra_args=(), extra_env=None):
    """Starts this script as a subprocess in `mode`; returns the `subprocess.Popen`."""
    import subprocess

    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        **(extra_env or {}),
    }
    # The parent's XLA flags (a developer's, or another test's) must not
    # change the number of devices a worker sees.
    if "XLA_FLAGS" not in (extra_env or {}):
        env.pop("XLA_FLAGS", None)
    return subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), mode, str(out), *extra_args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_all(processes, timeout):
    """Waits for every process; on a timeout kills each by its PID and raises.

    Returns:
        Each process's stderr, in order, for failure messages.

    Raises:
        TimeoutError: when the processes together ran longer than `timeout`
            seconds; all of them are killed and reaped first.
    """
    import subprocess

    deadline = time.monotonic() + timeout
    errors = []
    try:
        for process in processes:
            remaining = max(deadline - time.monotonic(), 0.1)
            _, stderr = process.communicate(timeout=remaining)
            errors.append(stderr)
    except subprocess.TimeoutExpired:
        raise TimeoutError(
            f"distributed workers still running after {timeout} s; killed PIDs "
            + ", ".join(str(p.pid) for p in processes)
        ) from None
    finally:
        for process in processes:
            if process.poll() is None:
                os.kill(process.pid, 9)
                process.wait()
    return errors


def run_and_read(processes, outs, timeout):
    """Waits for the processes (see `wait_all`) and returns the JSON each wrote."""
    errors = wait_all(processes, timeout)
    for process, stderr in zip(processes, errors):
        if process.returncode != 0:
            raise RuntimeError(
                f"worker {process.args[2:]} exited with {process.returncode}:\n"
                + stderr[-4000:]
            )
    reports = []
    for out in outs:
        with open(out, encoding="utf-8") as file:
            reports.append(json.load(file))
    return reports


if __name__ == "__main__":
    main()
