"""`train --resume`: continue an interrupted run from its last complete epoch.

Keras's `BackupAndRestore` (3.15) restores the weights, the optimizer's
variables (through `save_weights`) and the epoch, but not the order in which
`fit(shuffle=True)` draws the batches: TensorFlow draws it from its global
generator, whose state a new process does not have. So a run keeps its own
backup, and chooses the order itself:

- every epoch trains on the training set in the order
  `epoch_order(size, seed, epoch)`, a permutation that depends only on the
  seed and the epoch (`fit(shuffle=False)` on the permuted set), so a
  resumed run draws the batches the uninterrupted one drew;
- after every epoch (after the checkpoint and the history row), the
  backup `resume.npz` holds every variable of the model, the seed
  generators' states included, and of its optimizer (its step counter
  included), the epoch and the checkpoint's best `val_loss`; it is written
  to a partial file and renamed, so a kill leaves the previous backup;
- the run's arguments are recorded in `arguments.json` when it starts
  training; `--resume` refuses a run directory without them, or a command
  whose arguments (or Keras backend) differ, naming the first difference.

A run that finishes deletes its backup, as `BackupAndRestore` does: `--resume`
of a finished run is refused. A run stopped by Ctrl-C keeps it.
"""

import json
import os

import numpy as np

from keras_recipes.cli import CommandError, _distribute, _runs

# Options that say where and how a process runs, not what it trains (and the
# command's own bookkeeping): they may differ between the interrupted run and
# its resumption. `--workers` only says how many threads decode images.
NOT_RECORDED = frozenset(
    ["out", "force", "resume", "process_id", "coordinator", "workers", "run", "command",
     "interrupts", "run_directory", "previous_model", "writes_run", "scratch"]
)


def epoch_order(size, seed, epoch):
    """The order in which epoch `epoch` (from 0) reads the `size` training samples.

    Args:
        size: the number of training samples.
        seed: the run's `--seed`.
        epoch: the epoch, counted from 0.

    Returns:
        A permutation of `range(size)`, the same for the same arguments in
        any process.

    Example:

    >>> sorted(epoch_order(4, seed=0, epoch=3).tolist())
    [0, 1, 2, 3]
    >>> bool((epoch_order(50, 0, 1) == epoch_order(50, 0, 1)).all())
    True
    """
    return np.random.default_rng([seed, epoch]).permutation(size)


def recorded_arguments(args):
    """The arguments `arguments.json` records: what the run trains, and its backend."""
    recorded = {}
    for name, value in sorted(vars(args).items()):
        if name in NOT_RECORDED:
            continue
        if isinstance(value, tuple):
            value = list(value)
        if value is None or isinstance(value, (str, int, float, bool, list)):
            recorded[name] = value
    recorded["backend"] = _distribute.backend()
    return recorded


def _option(name):
    return "KERAS_BACKEND" if name == "backend" else "--" + name.replace("_", "-")


def check(args):
    """Refuses a `--resume` that cannot continue the run in `--out`; the epoch to start from.

    Call it once the run directory is taken (`_runs.prepare_directory`), before Keras.

    Args:
        args: the parsed arguments.

    Returns:
        The number of complete epochs to resume after: 0 without `--resume`,
        or when the interrupted run had not finished an epoch.

    Raises:
        CommandError: the directory holds no run's arguments, the arguments
            or backend differ, the run finished, or its backup is unreadable.
    """
    if not args.resume:
        return 0
    path = os.path.join(args.out, _runs.ARGUMENTS_FILE)
    try:
        with open(path, encoding="utf-8") as file:
            original = json.load(file)
    except (OSError, ValueError):
        raise CommandError(
            f"Invalid value for argument `--resume`: {args.out!r} holds no readable "
            f"{_runs.ARGUMENTS_FILE}, so no run of this command to resume; start a new "
            f"run without --resume. Received: --out={args.out!r}"
        ) from None
    now = recorded_arguments(args)
    for name in sorted(set(original) | set(now)):
        if original.get(name) != now.get(name):
            raise CommandError(
                f"Invalid value for argument `{_option(name)}`: --resume continues the run in "
                f"{args.out!r} with its own arguments, which had {_option(name)}="
                f"{original.get(name)!r}. Received: {_option(name)}={now.get(name)!r}"
            )
    epoch = backup_epoch(args.out)
    if epoch is None:
        finished = len(_runs.read_history(args.out).get("loss", []))
        if finished >= args.epochs:
            raise CommandError(
                f"Invalid value for argument `--resume`: the run in {args.out!r} finished "
                f"all {args.epochs} epochs; there is nothing to resume. "
                f"Received: --out={args.out!r}"
            )
        return 0
    return epoch


def backup_epoch(directory):
    """The complete epochs the backup in `directory` holds, or `None` without one.

    Raises:
        CommandError: the backup cannot be read.
    """
    path = os.path.join(directory, _runs.BACKUP_FILE)
    if not os.path.exists(path):
        return None
    return _read_backup(path)[0]["epoch"]


def _read_backup(path):
    try:
        with np.load(path) as backup:
            state = json.loads(str(backup["state"]))
            arrays = {name: backup[name] for name in backup.files if name != "state"}
    except (OSError, ValueError, KeyError) as error:
        raise CommandError(
            f"Invalid value for argument `--resume`: the backup {path!r} cannot be read "
            f"({error}); start a new run with --force. Received: --resume"
        ) from None
    return state, arrays


def _state_variables(model):
    """The variables a backup holds: the model's (seed states included), then the optimizer's."""
    return list(model.variables) + list(model.optimizer.variables)


def restore(model, checkpoint, args):
    """Sets `model` and `checkpoint` to the backup's state; returns the epochs it holds.

    Also cuts `history.csv` to those epochs (a row written after the
    backup's epoch belongs to an epoch the resumed run trains again). Without
    a backup, or without `--resume`, nothing is changed and 0 is returned.

    Raises:
        CommandError: the backup does not match the model.
    """
    if not args.resume or backup_epoch(args.out) is None:
        if args.resume:
            _runs.truncate_history(args.out, 0)
        return 0
    state, arrays = _read_backup(os.path.join(args.out, _runs.BACKUP_FILE))
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    variables = _state_variables(model)
    values = [arrays[f"variable_{index}"] for index in range(len(arrays))]
    shapes = [tuple(variable.shape) for variable in variables]
    if len(values) != len(variables) or shapes != [value.shape for value in values]:
        raise CommandError(
            f"Invalid value for argument `--resume`: the backup in {args.out!r} holds "
            f"{len(values)} variables that do not match the model's {len(variables)}; "
            f"start a new run with --force. Received: --out={args.out!r}"
        )
    for variable, value in zip(variables, values):
        variable.assign(value)
    checkpoint.best = state["best"]
    checkpoint.best_epoch = state["best_epoch"]
    checkpoint.best_logs = state["best_logs"]
    _runs.truncate_history(args.out, state["epoch"])
    return state["epoch"]


def backup_callback(keras, model, checkpoint, args):
    """A callback that writes the backup into the run directory after every epoch."""

    class Backup(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            values = {
                f"variable_{index}": keras.ops.convert_to_numpy(variable)
                for index, variable in enumerate(_state_variables(model))
            }
            state = {"epoch": epoch + 1, "best": _plain(checkpoint.best),
                     "best_epoch": checkpoint.best_epoch,
                     "best_logs": {k: _plain(v) for k, v in (checkpoint.best_logs or {}).items()}}
            partial = os.path.join(args.out, _runs.PARTIAL_BACKUP_FILE)
            with open(partial, "wb") as file:
                np.savez(file, state=np.array(json.dumps(state)), **values)
            os.replace(partial, os.path.join(args.out, _runs.BACKUP_FILE))

    return Backup()


def _plain(value):
    """A float for JSON (Keras's `best` starts at infinity, which JSON spells `Infinity`)."""
    return None if value is None else float(value)


def record_arguments(args):
    """Writes `arguments.json`, unless resuming (the file is the original run's)."""
    if args.resume:
        return
    path = os.path.join(args.out, _runs.ARGUMENTS_FILE)
    with open(path, "w", encoding="utf-8") as file:
        json.dump(recorded_arguments(args), file, indent=2)
        file.write("\n")


def finish(args):
    """Deletes the backup of a run that trained all its epochs."""
    path = os.path.join(args.out, _runs.BACKUP_FILE)
    if os.path.exists(path):
        os.remove(path)
