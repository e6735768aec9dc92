"""The `keras-recipes` command-line tool.

Each subcommand lives in a module of this package that defines
`add_parsers(subparsers)`: it adds its parsers and gives each a `run(args)`
default, a function that returns the exit status. `main()` assembles them,
turns a `ValueError`, `TypeError` or `CommandError` into one line on stderr
and exit status 2, an `OSError` or running out of memory (a full disk, no
permission) into one line and exit status 1, and never shows a traceback
for a user's mistake.

Keras (and with it TensorFlow) is imported only by the subcommands that
build or train a model, through `import_keras()`, so `list`, `count` and
`--help` answer at once.
"""

import argparse
import contextlib
import importlib
import importlib.util
import os
import sys

PROG = "keras-recipes"

# Subcommand modules, in the order `--help` lists them.
_COMMAND_MODULES = (
    "keras_recipes.cli._inspect",
    "keras_recipes.cli._train",
    "keras_recipes.cli._launch",
)

# Exit statuses, as argparse and the shell use them.
EXIT_OK = 0
# The command failed while running: a file could not be written (disk full,
# no permission) or memory ran out.
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
# As a shell reports a process ended by SIGPIPE.
EXIT_BROKEN_PIPE = 141


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def require(module, *, extra="examples", purpose=None):
    """Imports an optional dependency, or fails with the command to install it.

    Args:
        module: the module name, e.g. `"matplotlib.pyplot"`.
        extra: the `pyproject.toml` extra that installs it.
        purpose: what needs it, for the message. Defaults to the subcommand.

    Returns:
        The imported module.

    Raises:
        CommandError: when the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.split(".")[0]
        needed_by = f" for {purpose}" if purpose else ""
        raise CommandError(
            f"{package} is needed{needed_by} but is not installed "
            f"({error}); install it with: pip install 'keras-recipes[{extra}]'"
        ) from None


@contextlib.contextmanager
def quiet_file_descriptor_2():
    """Points file descriptor 2 at a temporary file while the block runs.

    TensorFlow's absl, oneDNN and CUDA start-up lines go straight to the
    descriptor, past `sys.stderr` and `TF_CPP_MIN_LOG_LEVEL`. If the block
    fails, what was written there is shown after all.
    """
    import tempfile

    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None when the shell closed it (`>&-`)
            stream.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved_fd, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


def import_keras():
    """Imports Keras and registers the library's classes, quietly.

    TensorFlow 2.21 writes absl start-up lines ("All log messages before
    absl::InitializeLog() ...", oneDNN and CUDA notices) straight to file
    descriptor 2 while it is imported, and a "failed call to cuInit" line at
    its first operation on a machine without a GPU, whatever
    `TF_CPP_MIN_LOG_LEVEL` says. They are noise to a user of the command, so
    file descriptor 2 points at a temporary file during the import and a
    first operation; if either fails, what was written there is shown after
    all. On JAX and PyTorch, TensorFlow (when installed) is imported here
    too, for the same reason.

    Returns:
        The `keras` module.
    """
    import logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Each `predict` on a new model (a probe's feature extractor, a reloaded
    # checkpoint) traces a new function, and after five TensorFlow warns of
    # "excessive retracing": expected in a command, noise to its user.
    # Python's logging, not `tf.*`, so nothing here needs TensorFlow.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    with quiet_file_descriptor_2():
        try:
            import keras
        except ImportError as error:
            # The backend's package is missing (KERAS_BACKEND=openvino without
            # openvino): one line, not the traceback of Keras's import.
            raise CommandError(
                f"Keras cannot start its backend: {error}. Install that package, or "
                "choose another backend with KERAS_BACKEND (or keras.json's "
                "\"backend\")"
            ) from None

        # On the JAX and PyTorch backends Keras still imports TensorFlow,
        # when it is installed, the first time it serializes anything
        # (`get_config`, `save`: keras.src.saving.serialization_lib asks
        # `tf.available`), and that import writes the same lines. Done
        # here, they go to the temporary file instead of the user.
        if keras.backend.backend() != "tensorflow" and importlib.util.find_spec(
            "tensorflow"
        ):
            importlib.import_module("tensorflow")
        importlib.import_module("keras_recipes.layers")
        keras.ops.convert_to_numpy(keras.ops.zeros((1,)))
    return keras


def _reopen_closed_standard_streams():
    """Points a closed stdin, stdout or stderr at the null device.

    A command started with a stream closed (`>&-`, as some cron setups and
    daemons do) has `sys.stdout` set to `None`, and the next file the
    process opens takes the free descriptor: a progress bar would then fail,
    or TensorFlow's output land in a checkpoint. On the null device, what
    would have been printed there is dropped, and the command runs as usual.
    """
    for descriptor, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(descriptor, mode, closefd=False))


def build_parser():
    """The argument parser, with every subcommand."""
    from keras_recipes import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Keras 3 model recipes from a lecture on advanced Keras: list "
            "them, count their parameters, train them, draw them."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    subparsers = parser.add_subparsers(
        title="commands", metavar="COMMAND", dest="command", required=True
    )
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).add_parsers(subparsers)
    return parser


def main(argv=None):
    """Runs the command line; returns the exit status.

    Args:
        argv: the arguments after the program name. Defaults to
            `sys.argv[1:]`.

    Returns:
        0 on success, 1 when a file cannot be written or memory runs out,
        2 on a usage error or bad input, 130 on Ctrl-C, 141 on a closed pipe.
    """
    _reopen_closed_standard_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    # A file name that is not UTF-8 (Python holds its bytes as surrogates)
    # would make a strict UTF-8 stdout raise UnicodeEncodeError while printing
    # it; such names are shown escaped instead (stderr already does so).
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        status = args.run(args) or EXIT_OK
        sys.stdout.flush()
        return status
    except (CommandError, ValueError, TypeError) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader stopped early (`keras-recipes count ... | head`). Python
        # flushes stdout again at exit, which would raise again: point it at
        # /dev/null first (the recipe in the docs of Python's `signal`).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (OSError, MemoryError) as error:
        # The world, not the user's arguments: a full disk, a folder without
        # write permission, memory exhausted. One line, as for a bad argument.
        if isinstance(error, MemoryError):
            message = f"out of memory ({error})" if str(error) else "out of memory"
        else:
            message = str(error)
        print(f"{PROG} {args.command}: error: {' '.join(message.split())}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:
        # TensorFlow's out-of-memory error, named rather than imported so
        # that nothing here needs TensorFlow; any other exception is a bug
        # and keeps its traceback.
        if type(error).__name__ != "ResourceExhaustedError":
            raise
        print(
            f"{PROG} {args.command}: error: out of memory: "
            f"{' '.join(str(error).split())[:300]}",
            file=sys.stderr,
        )
        return EXIT_FAILED


def console_main():
    """The console-script entry point: exits with `main()`'s status."""
    sys.exit(main())
