"""`train --distribute`: the distribution engines Keras already supports, chosen on the command line.

- `mirrored`: TensorFlow's `tf.distribute.MirroredStrategy` (TensorFlow
  backend). The model is built and compiled inside `strategy.scope()`;
  `fit` splits every global batch (`--batch-size`) among the replicas and
  sums their gradients. `--cpu-replicas N` splits the CPU into N logical
  devices before TensorFlow starts, for machines without GPUs (the replicas
  then share the CPU's cores: it shows the mechanics, it is not faster).
- `data-parallel`: `keras.distribution.DataParallel` over every local
  device (JAX backend). `--cpu-replicas N` asks XLA for N host devices
  (`XLA_FLAGS=--xla_force_host_platform_device_count=N`) before JAX starts.
  JAX shards each batch over the devices, so every batch, the last one of
  an epoch included, must divide evenly: the training and validation sets
  are cut to a multiple of the replica count.

Several processes (JAX backend): `--num-processes N --process-id I
--coordinator HOST:PORT` make this process one of N, joined by
`keras.distribution.initialize` (process 0's address is the coordinator's)
and trained under `DataParallel` over the devices of all of them, with
`auto_shard_dataset=False`: every process reads the same data in the same
seeded order and feeds its own rows of every global batch (`process_rows`);
Keras assembles each global batch from the processes' parts in process
order. Only process 0 writes the run directory (`writes_run`); the others
write theirs to a temporary directory that is deleted when they end.
`keras-recipes launch` starts N such processes on one machine.

Everything that can be checked before Keras starts is checked in `check()`,
so a wrong backend or option fails with one line and exit status 2 before
anything trains. TensorFlow and JAX are imported here lazily, only when
asked for: the library itself stays backend-neutral.
"""

import contextlib
import importlib.util
import json
import os
import sys

from keras_recipes.cli import CommandError

CHOICES = ("none", "mirrored", "data-parallel")
# The backend each engine runs on.
BACKENDS = {"mirrored": "tensorflow", "data-parallel": "jax"}
# More logical CPUs than this is a typo, and each costs memory and threads.
MAX_CPU_REPLICAS = 64
# More processes than this is a typo.
MAX_PROCESSES = 1024
# The Keras backends `train` runs on; each is named after the package it needs.
TRAINING_BACKENDS = ("tensorflow", "jax", "torch")


def add_arguments(parser):
    """Adds `--distribute`, `--cpu-replicas` and the several-process options to a `train` parser."""
    from keras_recipes.cli import _option_types

    parser.add_argument(
        "--distribute", choices=CHOICES, default="none",
        help="train on several devices: 'mirrored' is TensorFlow's MirroredStrategy "
        "(KERAS_BACKEND=tensorflow), 'data-parallel' is keras.distribution.DataParallel "
        "over every local device (KERAS_BACKEND=jax); --batch-size is the global batch, "
        "split among the replicas (default: none)",
    )
    parser.add_argument(
        "--cpu-replicas",
        type=_option_types.positive_int("--cpu-replicas", maximum=MAX_CPU_REPLICAS),
        default=None,
        metavar="N",
        help="with --distribute: split the CPU into N devices, for a machine without "
        "GPUs (default: the devices there are)",
    )
    parser.add_argument(
        "--num-processes",
        type=_option_types.positive_int("--num-processes", maximum=MAX_PROCESSES),
        default=1, metavar="N",
        help="train as one of N processes, on one host or several (KERAS_BACKEND=jax; "
        "implies --distribute data-parallel; default: 1)",
    )
    parser.add_argument(
        "--process-id", type=_option_types.int_in_range(
            "--process-id", 0, MAX_PROCESSES - 1, "an integer from 0 to N - 1"),
        default=None, metavar="I",
        help="with --num-processes: this process's number, 0 to N - 1; process 0 writes "
        "the run directory",
    )
    parser.add_argument(
        "--coordinator", type=_option_types.host_port("--coordinator"), default=None,
        metavar="HOST:PORT",
        help="with --num-processes: process 0's address, where it listens for the others",
    )


def backend():
    """The Keras backend this process uses or will use, without importing Keras.

    As Keras decides: `KERAS_BACKEND`, else the `backend` of
    `$KERAS_HOME/keras.json` (`~/.keras/keras.json`), else TensorFlow. A
    process that imported Keras already is asked directly.
    """
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return keras.backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as file:
            return json.load(file).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def check_backend():
    """Refuses a Keras backend that cannot train, or is not installed, before Keras is imported.

    Keras's `numpy` backend has no gradients and `openvino` runs inference
    only; a name Keras does not know, or a backend whose package is missing,
    would fail inside `import keras` with a long traceback.

    Raises:
        CommandError: the backend is not one of `TRAINING_BACKENDS`, or its
            package is not installed.
    """
    running = backend()
    *others, last = TRAINING_BACKENDS
    choices = f"{', '.join(others)} or {last}"
    if running not in TRAINING_BACKENDS:
        raise CommandError(
            f"Invalid value for `KERAS_BACKEND`: `train` runs on {choices}; this process "
            f"would use {running!r} (from KERAS_BACKEND or keras.json). "
            f"Received: KERAS_BACKEND={running}"
        )
    if importlib.util.find_spec(running) is None:
        raise CommandError(
            f"Invalid value for `KERAS_BACKEND`: {running} is not installed here "
            f"(no module {running!r}); install it, or choose another "
            f"of {choices}. Received: KERAS_BACKEND={running}"
        )


def check(args):
    """Refuses a bad backend or combination of options, before Keras is imported.

    Raises:
        CommandError: a backend that cannot train (`check_backend`),
            `--distribute` on the wrong backend, `--cpu-replicas` without
            `--distribute`, or a batch size the replicas cannot share.
    """
    check_backend()
    _check_processes(args)
    if args.distribute == "none":
        if args.cpu_replicas is not None:
            raise CommandError(
                "Invalid value for argument `--cpu-replicas`: it splits the CPU for "
                "--distribute mirrored or data-parallel; give one of them. "
                f"Received: --cpu-replicas={args.cpu_replicas}"
            )
        return
    needed, running = BACKENDS[args.distribute], backend()
    if running != needed:
        # Keras 3.15's keras.distribution has no PyTorch backend
        # (keras/src/backend/__init__.py sets its distribution_lib to None).
        other = {"torch": "; this Keras's keras.distribution does not support "
                 "PyTorch"}.get(running, "")
        raise CommandError(
            f"Invalid value for argument `--distribute`: {args.distribute} needs "
            f"KERAS_BACKEND={needed}, this process uses {running}{other}. "
            f"Received: --distribute={args.distribute}"
        )
    if args.cpu_replicas is not None:
        _check_divides(args.batch_size, args.cpu_replicas)


def _check_processes(args):
    """Refuses an incomplete or contradictory set of several-process options."""
    several = args.num_processes > 1
    for option, value in (("--process-id", args.process_id),
                          ("--coordinator", args.coordinator)):
        if several and value is None:
            raise CommandError(
                f"Invalid value for argument `{option}`: --num-processes {args.num_processes} "
                f"needs --process-id I and --coordinator HOST:PORT (or use keras-recipes "
                f"launch). Received: {option}=None"
            )
        if not several and value is not None:
            raise CommandError(
                f"Invalid value for argument `{option}`: it is for a run of several "
                f"processes; give --num-processes N too. Received: {option}={value}"
            )
    if not several:
        return
    if args.process_id >= args.num_processes:
        raise CommandError(
            f"Invalid value for argument `--process-id`: expected 0 to "
            f"{args.num_processes - 1} with --num-processes {args.num_processes}. "
            f"Received: --process-id={args.process_id}"
        )
    if args.distribute == "mirrored":
        raise CommandError(
            "Invalid value for argument `--distribute`: --num-processes trains under "
            "keras.distribution.DataParallel on JAX, not MirroredStrategy. "
            f"Received: --distribute={args.distribute}"
        )
    if getattr(args, "resume", False):
        raise CommandError(
            "Invalid value for argument `--resume`: a run of several processes cannot be "
            "resumed yet (every process would need process 0's backup). "
            f"Received: --resume with --num-processes={args.num_processes}"
        )
    args.distribute = "data-parallel"
    _check_divides(args.batch_size, args.num_processes)


def writes_run(args):
    """Whether this process writes the run directory: process 0, or a run of one process."""
    return args.num_processes == 1 or args.process_id == 0


def _initialize(args):
    """Joins this process to the others (`keras.distribution.initialize`).

    JAX refuses to join once it has computed anything, and `import_keras()`
    computes (its first operation), so this imports Keras itself first.
    """
    from keras_recipes.cli import quiet_file_descriptor_2

    with quiet_file_descriptor_2():
        import keras

    keras.distribution.initialize(
        job_addresses=args.coordinator,
        num_processes=args.num_processes,
        process_id=args.process_id,
    )


def process_rows(array, args):
    """This process's rows of each whole global batch of `array`, in order.

    With one process, `array` unchanged. With N, the samples after the last
    whole global batch (`--batch-size`) are left out, and each global batch
    gives process I its I-th N-th.

    Example:

    >>> import argparse, numpy as np
    >>> args = argparse.Namespace(num_processes=2, process_id=1, batch_size=4)
    >>> process_rows(np.arange(10), args).tolist()
    [2, 3, 6, 7]
    """
    if args.num_processes == 1 or array is None:
        return array
    steps = len(array) // args.batch_size
    local = args.batch_size // args.num_processes
    batches = array[: steps * args.batch_size].reshape(
        steps, args.num_processes, local, *array.shape[1:]
    )
    return batches[:, args.process_id].reshape(steps * local, *array.shape[1:])


def process_batch_size(args):
    """The rows of each global batch one process feeds."""
    return args.batch_size // args.num_processes


def _check_divides(batch_size, replicas):
    if batch_size % replicas:
        raise CommandError(
            f"Invalid value for argument `--batch-size`: the global batch is split "
            f"evenly among {replicas} replicas, so it must be a multiple of {replicas}. "
            f"Received: --batch-size={batch_size}"
        )


def prepare(args):
    """Splits the CPU as `--cpu-replicas` asks, before the backend starts.

    Call it before `import_keras()`. Raises `CommandError` when the backend
    has started already (as in a program that runs `main()` after using
    Keras itself). With `--num-processes`, also joins the other processes.
    """
    _split_cpu(args)
    if args.num_processes > 1:
        _initialize(args)


def _split_cpu(args):
    if args.distribute == "none" or args.cpu_replicas is None:
        return
    if args.distribute == "data-parallel":
        flag = f"--xla_force_host_platform_device_count={args.cpu_replicas}"
        if "jax" in sys.modules:
            import jax

            if jax.local_device_count() != args.cpu_replicas:
                raise CommandError(
                    "Invalid value for argument `--cpu-replicas`: JAX started already "
                    f"with {jax.local_device_count()} devices; run the command in a new "
                    f"process. Received: --cpu-replicas={args.cpu_replicas}"
                )
            return
        flags = [f for f in os.environ.get("XLA_FLAGS", "").split()
                 if not f.startswith("--xla_force_host_platform_device_count")]
        os.environ["XLA_FLAGS"] = " ".join([*flags, flag])
        return
    tf = _import_tensorflow_quietly()
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(args.cpu_replicas)]
        )
    except RuntimeError:
        # TensorFlow fixes its devices at its first operation.
        if len(tf.config.list_logical_devices("CPU")) != args.cpu_replicas:
            raise CommandError(
                "Invalid value for argument `--cpu-replicas`: TensorFlow started already "
                f"with {len(tf.config.list_logical_devices('CPU'))} CPU devices; run the "
                f"command in a new process. Received: --cpu-replicas={args.cpu_replicas}"
            ) from None


def _import_tensorflow_quietly():
    """Imports TensorFlow with its start-up lines on file descriptor 2 kept back.

    As `import_keras()` does, and for the same reason: TensorFlow writes
    absl notices there while it loads, whatever `TF_CPP_MIN_LOG_LEVEL` says.
    If the import fails, what was written is shown after all.
    """
    from keras_recipes.cli import quiet_file_descriptor_2

    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_file_descriptor_2():
        import tensorflow
    return tensorflow


@contextlib.contextmanager
def scope(args):
    """Builds and trains inside it: the strategy's scope or the distribution; yields a description.

    Checks that `--batch-size` divides among the replicas there are, before
    anything is built.
    """
    if args.distribute == "none":
        yield None
        return
    if args.distribute == "mirrored":
        import tensorflow as tf

        devices = None
        if args.cpu_replicas is not None:
            devices = [device.name for device in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices)
        replicas = strategy.num_replicas_in_sync
        _check_divides(args.batch_size, replicas)
        with strategy.scope():
            yield f"MirroredStrategy over {replicas} replica{'s' * (replicas > 1)}"
        return
    import keras

    devices = keras.distribution.list_devices()
    _check_divides(args.batch_size, len(devices))
    # Several processes: each feeds its own rows (`process_rows`), so Keras
    # must not split the data again.
    keras.distribution.set_distribution(keras.distribution.DataParallel(
        devices=devices, auto_shard_dataset=args.num_processes == 1))
    processes = f" in {args.num_processes} processes" if args.num_processes > 1 else ""
    try:
        yield f"DataParallel over {len(devices)} device{'s' * (len(devices) > 1)}{processes}"
    finally:
        keras.distribution.set_distribution(None)


@contextlib.contextmanager
def paused(args):
    """Inside `scope()`, runs its body on one device: for `predict` on any number of samples.

    Under `data-parallel` JAX would shard every batch of `predict` too, and
    refuse a batch the devices cannot share; the replicated weights serve
    an unsharded batch as they are. MirroredStrategy's `predict` handles
    uneven batches itself.
    """
    if args.distribute != "data-parallel":
        yield
        return
    import keras

    distribution = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(distribution)


def check_sample_counts(args, sets, replica_count=None):
    """Refuses a training or held-out set with fewer samples than replicas.

    Each replica takes its share of every batch: with fewer samples than
    replicas, `data-parallel` would cut a set to nothing and `mirrored`
    leave replicas without data, and the run would fail after training.

    Args:
        args: the parsed options.
        sets: a dict from a set's description to its number of samples.
        replica_count: the replicas there are. Defaults to `None`, for
            `--cpu-replicas` (nothing is checked without it).

    Raises:
        CommandError: a set has fewer samples than replicas.
    """
    count = args.cpu_replicas if replica_count is None else replica_count
    if args.distribute == "none" or count is None:
        return
    for what, samples in sets.items():
        if samples < count:
            raise CommandError(
                f"Invalid value for argument `--data`: --distribute {args.distribute} gives "
                f"each of its {count} replicas a share of every batch, so each set needs "
                f"at least {count} samples, but {what} has {samples}; use more data or "
                f"fewer replicas (--cpu-replicas). Received: --data={args.data!r}"
            )


def replicas(args):
    """How many replicas share each batch (1 without `--distribute`)."""
    if args.distribute == "none":
        return 1
    if args.distribute == "mirrored":
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync
    import keras

    return len(keras.distribution.list_devices())


def even_split(array, args):
    """`array` cut to a multiple of the device count under `data-parallel`, else unchanged.

    JAX shards every batch evenly over the devices, the last batch of an
    epoch too; MirroredStrategy handles an uneven last batch itself.
    """
    if args.distribute != "data-parallel" or array is None:
        return array
    count = replicas(args)
    return array[: len(array) - len(array) % count]
