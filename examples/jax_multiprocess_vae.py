"""Train `vae()` on JAX across several processes of one machine, talking over loopback only.

This is how Keras 3 trains on several hosts (`keras.distribution.initialize`
and `DataParallel`), tried out on one machine: each process has one CPU
device, the processes join through a coordinator on 127.0.0.1, and every
process feeds its own rows of every global batch. One command starts them
all and checks that they end with the same weights:

    KERAS_BACKEND=jax python examples/jax_multiprocess_vae.py --num-processes 2

On real hosts, run the worker on each host yourself with the first host's
address and the process's number:

    KERAS_BACKEND=jax python examples/jax_multiprocess_vae.py \
        --coordinator HOST0:PORT --num-processes N --process-id I --out runs/vae-jax

Process 0 writes `model.keras`; every process writes `process-I.json`
(its losses per epoch and a checksum of its weights) and, with `--weights`,
`weights-I.npz`. The data is used in the order given (shuffle it
beforehand): with `auto_shard_dataset=False` Keras does not split the
data, so each process takes its own slice of every global batch, and
shuffling in each process would give them different batches.
"""

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

# A coordinator at a wrong address waits minutes for its peers.
TIMEOUT = 600


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-processes", type=int, default=2)
    parser.add_argument("--process-id", type=int, default=None,
                        help="run as this worker (default: start all workers here)")
    parser.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                        help="process 0's address (default: 127.0.0.1 and a free port)")
    parser.add_argument("--data", default="digits",
                        help="'digits' or a .npy/.npz file, as for keras-recipes train vae")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32,
                        help="the global batch, split among the processes")
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--hidden-units", default="256",
                        help="comma-separated Dense widths of the encoder")
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/vae-jax-processes")
    parser.add_argument("--weights", action="store_true",
                        help="every process also writes weights-I.npz")
    args = parser.parse_args(argv)
    if args.num_processes < 1:
        parser.error(f"--num-processes must be positive. Received: {args.num_processes}")
    if args.process_id is not None and not 0 <= args.process_id < args.num_processes:
        parser.error(
            f"--process-id must be from 0 to {args.num_processes - 1}. "
            f"Received: --process-id={args.process_id}"
        )
    if args.batch_size % args.num_processes:
        parser.error(
            f"--batch-size must be a multiple of --num-processes ({args.num_processes}). "
            f"Received: --batch-size={args.batch_size}"
        )
    return args


# === The launcher: every worker on this machine ===


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(args, argv):
    """Starts one worker per process over loopback; returns the exit status."""
    address = f"127.0.0.1:{_free_port()}"
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "JAX_PLATFORMS": "cpu",
        # Without it the coordinator listens on every interface.
        "JAX_COORDINATOR_BIND_ADDRESS": address,
    }
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    workers = [
        subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), *argv, "--coordinator", address,
             "--process-id", str(process_id)],
            env=env,
        )
        for process_id in range(args.num_processes)
    ]
    deadline = time.monotonic() + TIMEOUT
    try:
        for worker in workers:
            worker.wait(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        print(f"workers still running after {TIMEOUT} s; stopped", file=sys.stderr)
        return 1
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    if any(worker.returncode for worker in workers):
        print("a worker failed: " + ", ".join(
            f"process {i} exit {w.returncode}" for i, w in enumerate(workers)), file=sys.stderr)
        return 1
    reports = []
    for process_id in range(args.num_processes):
        with open(os.path.join(args.out, f"process-{process_id}.json"), encoding="utf-8") as file:
            reports.append(json.load(file))
    agree = len({report["weights_sha256"] for report in reports}) == 1
    print(f"{args.num_processes} processes, final loss {reports[0]['history']['loss'][-1]:.4g}; "
          f"identical weights in every process: {'yes' if agree else 'NO'}")
    return 0 if agree else 1


# === A worker ===


def work(args):
    import keras
    import numpy as np

    import keras_recipes
    from keras_recipes.cli import _data

    keras.distribution.initialize(
        job_addresses=args.coordinator,
        num_processes=args.num_processes,
        process_id=args.process_id,
    )
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(
            devices=keras.distribution.list_devices(), auto_shard_dataset=False
        )
    )
    x, _, _ = _data.vae_data(args.data)
    steps = len(x) // args.batch_size
    if steps == 0:
        raise SystemExit(f"--batch-size {args.batch_size} is larger than the {len(x)} samples")
    local_batch = args.batch_size // args.num_processes
    # Whole global batches; this process's rows of each, in order. Keras
    # assembles each global batch from the processes' parts, in process order.
    batches = x[: steps * args.batch_size].reshape(steps, args.num_processes, local_batch,
                                                    *x.shape[1:])
    local = batches[:, args.process_id].reshape(steps * local_batch, *x.shape[1:])
    model = keras_recipes.vae(
        x.shape[1:],
        args.latent_dim,
        hidden_units=tuple(int(units) for units in args.hidden_units.split(",")),
        optimizer=args.optimizer,
        seed=args.seed,
    )
    # Every process runs the same calls on the model: what reads its
    # variables may need all processes.
    history = model.fit(local, epochs=args.epochs, batch_size=local_batch, shuffle=False,
                        verbose=0)
    if args.process_id == 0:
        for epoch, loss in enumerate(history.history["loss"], start=1):
            print(f"epoch {epoch}/{args.epochs}: loss {loss:.4g}", flush=True)
    weights = [np.asarray(w) for w in model.get_weights()]
    os.makedirs(args.out, exist_ok=True)
    # Every process saves: process 0 saving alone hung (it wrote the file,
    # then waited for the others, until they had exited). Only process 0
    # keeps its file.
    with tempfile.TemporaryDirectory() as scratch:
        keep = args.process_id == 0
        path = os.path.join(args.out if keep else scratch, "model.keras")
        model.save(path)
    digest = hashlib.sha256(b"".join(w.astype("float32").tobytes() for w in weights))
    with open(os.path.join(args.out, f"process-{args.process_id}.json"), "w",
              encoding="utf-8") as file:
        json.dump({"process_id": args.process_id,
                   "devices": keras.distribution.list_devices(),
                   "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
                   "weights_sha256": digest.hexdigest()}, file)
    if args.weights:
        np.savez(os.path.join(args.out, f"weights-{args.process_id}.npz"), *weights)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = _arguments(argv)
    if args.process_id is None:
        return launch(args, argv)
    return work(args)


if __name__ == "__main__":
    sys.exit(main())
