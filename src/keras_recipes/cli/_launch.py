"""`keras-recipes launch`: N processes of one `train` command on this machine, over loopback.

It tries out on one machine what `train --num-processes N --process-id I
--coordinator HOST:PORT` does on N hosts: it starts
`python -m keras_recipes COMMAND --num-processes N --process-id I
--coordinator 127.0.0.1:PORT` for I = 0 .. N-1, with a free port and
`JAX_COORDINATOR_BIND_ADDRESS` set to that address (so the coordinator
listens on loopback only), prints every line of each one's output behind
`[I] `, and waits. When one fails, the others are killed (by their process
ids) and its exit status is returned; Ctrl-C kills them all and returns 130.
"""

import argparse
import os
import socket
import subprocess
import sys
import threading
import time

from keras_recipes.cli import EXIT_INTERRUPTED, CommandError, _distribute, _option_types

# The options `launch` gives each process itself.
_OWN_OPTIONS = ("--num-processes", "--process-id", "--coordinator")


def _free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _check(args):
    """Refuses a command `launch` cannot run, before any process starts."""
    command = args.train_command[1:] if args.train_command[:1] == ["--"] else args.train_command
    if command[:1] != ["train"]:
        raise CommandError(
            "Invalid value for argument `COMMAND`: launch runs a `train` command, as in "
            "keras-recipes launch --num-processes 2 -- train split-brain. "
            f"Received: COMMAND={' '.join(command)!r}"
        )
    for option in _OWN_OPTIONS:
        if any(arg == option or arg.startswith(option + "=") for arg in command):
            raise CommandError(
                f"Invalid value for argument `COMMAND`: launch gives each process its own "
                f"{option}; leave it out. Received: COMMAND={' '.join(command)!r}"
            )
    _distribute.check_backend()
    if _distribute.backend() != "jax":
        raise CommandError(
            "Invalid value for `KERAS_BACKEND`: several processes train with "
            "keras.distribution on JAX; run with KERAS_BACKEND=jax. "
            f"Received: KERAS_BACKEND={_distribute.backend()}"
        )
    return command


def _forward(process_id, stream):
    """Prints each line of `stream` behind `[process_id] `, as it comes."""
    for line in stream:
        sys.stdout.write(f"[{process_id}] {line}")
        sys.stdout.flush()


def _kill(processes):
    for process in processes:
        if process.poll() is None:
            process.kill()
    for process in processes:
        process.wait()


def run(args):
    """Starts the processes and waits for them; returns the exit status.

    Args:
        args: the parsed arguments of `launch`.

    Returns:
        0 when every process ends with 0; else the status of the first to
        fail (130 after Ctrl-C).

    Raises:
        CommandError: a command that is not `train`, or names an option
            `launch` sets, or a backend other than JAX.
    """
    command = _check(args)
    address = f"127.0.0.1:{_free_port()}"
    env = {**os.environ, "JAX_COORDINATOR_BIND_ADDRESS": address}
    print(f"launch: {args.num_processes} processes, coordinator {address}", flush=True)
    processes, forwarders = [], []
    try:
        for process_id in range(args.num_processes):
            process = subprocess.Popen(
                [sys.executable, "-m", "keras_recipes", *command,
                 "--num-processes", str(args.num_processes),
                 "--process-id", str(process_id), "--coordinator", address],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                text=True, errors="backslashreplace", env=env,
            )
            processes.append(process)
            forwarder = threading.Thread(target=_forward, args=(process_id, process.stdout),
                                         daemon=True)
            forwarder.start()
            forwarders.append(forwarder)
        while True:
            failed = [p for p in processes if p.poll() not in (None, 0)]
            if failed:
                _kill(processes)
                status = failed[0].returncode
                print(f"launch: process {processes.index(failed[0])} failed with exit status "
                      f"{status}; stopped the others", file=sys.stderr)
                return status if status > 0 else 1
            if all(p.poll() == 0 for p in processes):
                return 0
            time.sleep(0.1)
    except KeyboardInterrupt:
        _kill(processes)
        return EXIT_INTERRUPTED
    finally:
        _kill(processes)
        for forwarder in forwarders:
            forwarder.join(timeout=5)


def add_parsers(subparsers):
    """Adds the `launch` command to the command line's `subparsers`."""
    parser = subparsers.add_parser(
        "launch",
        help="run a train command as N processes of this machine, over loopback",
        description="Start N processes of a `train` command on this machine, joined over "
        "127.0.0.1 (KERAS_BACKEND=jax), each with its own --process-id; print their "
        "output behind [I]; stop them all when one fails or on Ctrl-C.",
        epilog="On real hosts, run the command on each host yourself with --num-processes N "
        "--process-id I --coordinator HOST0:PORT.",
    )
    parser.add_argument(
        "--num-processes",
        type=_option_types.positive_int("--num-processes", maximum=_distribute.MAX_PROCESSES),
        default=2, metavar="N", help="processes to start (default: 2)",
    )
    parser.add_argument("train_command", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                        help="the train command, e.g. -- train split-brain --epochs 2")
    parser.set_defaults(run=run, command="launch")
