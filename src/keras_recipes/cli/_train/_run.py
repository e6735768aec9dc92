"""The life cycle every `keras-recipes train` run shares, up to the end of training.

A recipe's module (`_vae`, `_split_brain`) holds what is its own, the data,
the builder call and the pictures, and calls these steps in order (steps 4
and 5 are `_report`'s):

1. check the arguments and the data (`check_data_option`, the recipe's own
   checks), then prepare the run directory (`start`), all before Keras is
   imported (`start_keras`), so mistakes fail at once with one line;
2. shuffle with the seed and hold out `VALIDATION_FRACTION` of the samples;
3. train (`fit`) with Keras's progress bar (`verbose=1`) on a terminal, one
   line per epoch (`verbose=2`) when the output goes to a file or a pipe,
   one `fit` call per epoch, on the samples in an order drawn from the seed
   and the epoch; the best model on `val_loss` is checkpointed to
   `model.keras` after every improving epoch, atomically, `history.csv`
   grows by one row per epoch, and `resume.npz` keeps the state `--resume`
   continues from (`_resume`);
4. reload the best model from `model.keras` (`load_best`, `safe_mode=True`,
   which also proves the saved file loads) and draw the pictures from it
   (`draw`);
5. print where the run is, the losses and the files (`report`).

Ctrl-C during training stops it and goes on with steps 4 and 5 on what is
there (the best checkpoint so far and the history), then exits with status
130, even when the interrupt lands where Python would swallow it (a
garbage-collection callback; see `_interrupts.Interrupts`). A second
Ctrl-C stops at once.
"""

import contextlib
import functools
import hashlib
import os
import shutil
import sys
import tempfile

import numpy as np

from keras_recipes.cli import (
    CommandError,
    _data,
    _distribute,
    _option_types,
    _runs,
    import_keras,
    require,
)
from keras_recipes.cli._train import _report, _resume
from keras_recipes.cli._train._interrupts import Interrupts

# === Before Keras ===


def owning_the_run_directory(run):
    """Wraps a recipe's `run(args)` so that the run directory `start` took is released.

    The directory is released however `run` ends, and removed if the run
    made it and was refused with it still empty (any exception but Ctrl-C,
    an `OSError` or a `MemoryError`). While `run` lasts, `args.interrupts`
    is the run's `Interrupts`.

    Args:
        run: the recipe's function from the parsed arguments to the exit
            status.

    Returns:
        The wrapped function.
    """

    @functools.wraps(run)
    def owning(args):
        refused = True
        try:
            with Interrupts() as args.interrupts:
                status = run(args)
            refused = False
            return status
        except (KeyboardInterrupt, OSError, MemoryError):
            refused = False
            raise
        finally:
            if getattr(args, "run_directory", None) is not None:
                # A check that needs the backend (the replicas there are)
                # refused the run: the directory it made goes too.
                args.run_directory.release(refused=refused)
            if getattr(args, "scratch", None) is not None:
                shutil.rmtree(args.scratch, ignore_errors=True)

    return owning


def check_data_option(args, builtin):
    """Refuses a `--data` that is neither `builtin` nor a file, nor names one.

    Also checks the `--distribute` options, which need no data.

    Args:
        args: the parsed arguments.
        builtin: the name of the recipe's own data, e.g. `"digits"`.

    Raises:
        CommandError: when `--data` is a word that names no file.
    """
    if args.data != builtin and not os.path.exists(args.data) and "." not in args.data:
        raise CommandError(
            f"Invalid value for argument `--data`: expected {builtin!r} or the path of a "
            f".npy or .npz file{' or of a folder of images' if builtin == 'shapes' else ''}. "
            f"Received: --data={args.data!r}"
        )
    _distribute.check(args)


def start(args, kind, train, held_out):
    """Checks the set sizes, then takes the run directory; the last step before Keras.

    Resolves `--out` (by default a new `runs/<kind>-<date>-<time>`), prepares
    the run directory into `args.run_directory` and makes stdout
    line-buffered, so that a log file or a pipe sees each epoch as it ends.
    Matplotlib, which draws the pictures, must be installed.

    Args:
        args: the parsed arguments.
        kind: the recipe's command name, e.g. `"vae"`.
        train: the training samples.
        held_out: the held-out samples.

    Returns:
        The sizes of the two sets by description, for `training_scope`.

    Raises:
        CommandError: when matplotlib is missing, a set is too small for the
            batch or the replicas, or the run directory cannot be taken.
    """
    require("matplotlib", purpose="the pictures of `keras-recipes train`")
    sets = {
        f"the training set ({1 - _data.VALIDATION_FRACTION:.0%} of the data)": len(train),
        f"the held-out set ({_data.VALIDATION_FRACTION:.0%} of the data)": len(held_out),
    }
    _distribute.check_sample_counts(args, sets)
    if hasattr(sys.stdout, "reconfigure"):  # not on a replaced stdout, e.g. io.StringIO
        sys.stdout.reconfigure(line_buffering=True)
    if args.resume and (args.force or not args.out):
        raise CommandError(
            "Invalid value for argument `--resume`: it continues the run in the --out "
            "given, and --force would delete that run; give --out DIR and not --force. "
            f"Received: --resume{' --force' * args.force}"
            f"{'' if args.out else ' without --out'}"
        )
    args.out = args.out or _runs.default_directory(kind)
    args.writes_run = _distribute.writes_run(args)
    if not args.writes_run:
        # Processes 1 to N - 1 run every step process 0 runs (each saves
        # must be joined by all), into a directory of their own.
        args.out = args.scratch = tempfile.mkdtemp(prefix=f"process-{args.process_id}-")
    args.run_directory = _runs.prepare_directory(args.out, force=args.force,
                                                 resume=args.resume)
    args.previous_model = args.run_directory.previous_model and not args.resume
    _resume.check(args)
    return sets


def start_keras(args):
    """Prepares the devices `--distribute` asks for, imports Keras and seeds it.

    Args:
        args: the parsed arguments.

    Returns:
        The `keras` module.
    """
    _distribute.prepare(args)
    keras = import_keras()
    keras.utils.set_random_seed(args.seed)
    return keras


@contextlib.contextmanager
def training_scope(args, sets):
    """The `--distribute` scope to build and train in, once the replicas are known.

    Args:
        args: the parsed arguments.
        sets: the set sizes `start` returned.

    Yields:
        A description of the distribution for the report, or `None`.

    Raises:
        CommandError: when a set is too small for the replicas there are.
    """
    with _distribute.scope(args) as distribution:
        _distribute.check_sample_counts(args, sets, _distribute.replicas(args))
        yield distribution


# === Training ===


def _verbosity():
    """Keras's progress bar on a terminal; one line per epoch in a log or a pipe."""
    return 1 if sys.stdout.isatty() else 2


def _epoch_data(x_train, epoch, args):
    """The training data of epoch `epoch` (from 0), in that epoch's seeded order.

    An array is permuted here (`_resume.epoch_order`), then cut to this
    process's rows of each global batch; a streamed dataset (a
    `keras.utils.PyDataset`, `ImageFolderDataset`) orders itself from its
    `epoch`, which is set here so that a resumed run continues its orders.
    """
    if isinstance(x_train, np.ndarray):
        order = _resume.epoch_order(len(x_train), args.seed, epoch)
        return _distribute.process_rows(np.take(x_train, order, axis=0), args)
    x_train.epoch = epoch
    return x_train


def _batching(x_val, args):
    """`fit`'s validation data and batch size: arrays are batched by Keras, datasets batch themselves."""
    if isinstance(x_val, np.ndarray):
        return {"validation_data": (_distribute.process_rows(x_val, args),),
                "batch_size": _distribute.process_batch_size(args)}
    return {"validation_data": x_val}


def _weights_digest(keras, model):
    """The SHA-256 of the model's weights: equal in processes that trained in step."""
    digest = hashlib.sha256()
    for variable in model.weights:
        digest.update(keras.ops.convert_to_numpy(variable).astype("float32").tobytes())
    return digest.hexdigest()[:16]


def _progress_bar(keras, epochs):
    """Keras's progress bar, counting `epochs` where each `fit` call trains one epoch.

    Keras's own would print "Epoch 3/3" for the call that trains the third.
    """

    class ProgressBar(keras.callbacks.ProgbarLogger):
        def set_params(self, params):
            super().set_params({**params, "epochs": epochs})

    return ProgressBar()


def fit(keras, model, x_train, x_val, args):
    """Trains with the best checkpoint, the CSV history, the backup and Ctrl-C handling.

    Each epoch reads the training samples in the order
    `_resume.epoch_order(len(x_train), args.seed, epoch)`, so that a run
    resumed with `--resume` (from the backup, `_resume.restore`) draws the
    batches an uninterrupted one draws.

    Args:
        keras: the `keras` module.
        model: the compiled model, whose loss needs no targets.
        x_train: the training samples, an array, or a `keras.utils.PyDataset`
            of batches (`ImageFolderDataset`).
        x_val: the held-out samples, of the same kind.
        args: the parsed arguments.

    Returns:
        `(checkpoint, interrupted)`: the checkpoint callback (its
        `best_epoch` is `None` when no epoch ended) and whether Ctrl-C
        stopped the training.

    Raises:
        OSError: when the run cannot be written, saying what the run
            directory keeps.
    """
    checkpoint = _runs.best_checkpoint(keras, args.out)
    first_epoch = _resume.restore(model, checkpoint, args)
    _resume.record_arguments(args)
    callbacks = [
        checkpoint,
        keras.callbacks.CSVLogger(os.path.join(args.out, _runs.HISTORY_FILE), append=True),
        # After the checkpoint and the history row: a backup of epoch k
        # means both are written for epoch k.
        _resume.backup_callback(keras, model, checkpoint, args),
        # Last, so that the epoch's checkpoint and history row are written first.
        args.interrupts.callback(keras),
        _progress_bar(keras, args.epochs),
    ]
    resumed = f"resuming after epoch {first_epoch}; " if args.resume else ""
    print(
        f"{resumed}training for {args.epochs} epochs; Ctrl-C stops it and keeps the best "
        f"model so far in {args.out} (--resume continues it)"
    )
    interrupted = False
    try:
        if not isinstance(x_train, np.ndarray):
            # A streamed dataset numbers its order and crops by fit's own
            # epoch index (its fallback counter drifts by backend).
            callbacks.insert(0, x_train.epoch_callback())
        for epoch in range(first_epoch, args.epochs):
            model.fit(
                _epoch_data(x_train, epoch, args),
                initial_epoch=epoch,
                epochs=epoch + 1,
                shuffle=False,
                callbacks=callbacks,
                verbose=_verbosity(),
                **_batching(x_val, args),
            )
            args.interrupts.check()  # one swallowed after the last check
        _resume.finish(args)
        if args.num_processes > 1:
            print(f"process {args.process_id} of {args.num_processes}: final weights sha256 "
                  f"{_weights_digest(keras, model)}")
    except KeyboardInterrupt:
        interrupted = True
        print()
    except OSError as error:
        # A full disk or a lost permission while checkpointing or logging:
        # one line (main() prints it) that says what the run directory keeps.
        if checkpoint.best_epoch is None:
            kept = "no model was saved" + _report.previous_model_kept(args)
        else:
            kept = f"its model.keras is the best of epoch {checkpoint.best_epoch}"
        raise OSError(f"{error}; while writing the run in {args.out}: {kept}") from None
    finally:
        checkpoint.discard_partial()
    return checkpoint, interrupted


# === Options ===


def add_common_arguments(parser, *, epochs, batch_size, kind):
    """Adds the options every `train` recipe takes, with the recipe's defaults.

    Args:
        parser: the recipe's `argparse` parser.
        epochs: the default of `--epochs`.
        batch_size: the default of `--batch-size`.
        kind: the recipe's command name, for the default `--out`.
    """
    parser.add_argument(
        "--epochs", type=_option_types.positive_int("--epochs"), default=epochs,
        help=f"training epochs (default: {epochs})",
    )
    parser.add_argument(
        "--batch-size", type=_option_types.positive_int("--batch-size"), default=batch_size,
        help=f"samples per batch (default: {batch_size})",
    )
    parser.add_argument(
        "--out", metavar="DIR", default=None,
        help=f"the run directory (default: runs/{kind}-<date>-<time>)",
    )
    # keras.utils.set_random_seed seeds numpy's legacy generator, which takes
    # seeds below 2**32 only.
    parser.add_argument(
        "--seed",
        type=_option_types.int_in_range(
            "--seed", 0, 2**32 - 1, "a non-negative integer below 2**32"
        ),
        default=0,
        help="seed of the shuffle, the split, the weights and the noise, 0 to "
        "2**32 - 1 (default: 0)",
    )
    parser.add_argument(
        "--force", action="store_true",
        help="replace the run in an existing --out: delete the files a run writes "
        "there first (refused if it holds other files)",
    )
    parser.add_argument(
        "--resume", action="store_true",
        help="continue the interrupted run in --out from its last complete epoch, with "
        "the same arguments; it ends as the uninterrupted run would have",
    )
    _distribute.add_arguments(parser)
