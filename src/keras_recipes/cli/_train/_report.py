"""After `keras-recipes train` has trained: the best model, its pictures, the report.

Steps 4 and 5 of the life cycle `_run` describes: reload the best model from
`model.keras` (`load_best`, `safe_mode=True`, which also proves the saved
file loads), draw the recipe's pictures from it (`draw`), and print where
the run is, the losses and the files (`report`), saying on stderr what the
run directory keeps when Ctrl-C stopped the run.
"""

import os
import sys

from keras_recipes.cli import EXIT_INTERRUPTED, PROG, _runs


def load_best(keras, args, checkpoint):
    """This run's best checkpoint, loaded with `safe_mode=True`, or `None` if no epoch ended.

    With `--force`, a `model.keras` there before the first checkpoint is the
    previous run's, not this one's.

    Args:
        keras: the `keras` module.
        args: the parsed arguments; `args.out` is the run directory.
        checkpoint: the checkpoint callback `_run.fit` returned.

    Returns:
        The loaded model, or `None`.
    """
    path = os.path.join(args.out, _runs.MODEL_FILE)
    if checkpoint.best_epoch is None or not os.path.exists(path):
        return None
    return keras.saving.load_model(path, safe_mode=True)


def draw(args, draw_pictures):
    """Runs `draw_pictures()`, the pictures from the best model.

    The model and history are complete by then, so Ctrl-C here keeps them
    and the pictures already drawn (a picture cut short is deleted), and
    the report says so, as after Ctrl-C during training.

    Args:
        args: the parsed arguments; `args.out` is the run directory.
        draw_pictures: the recipe's function of no arguments that draws.

    Returns:
        Whether Ctrl-C stopped the drawing.
    """
    try:
        draw_pictures()
    except KeyboardInterrupt:
        print()
        _runs.discard_partial_files(args.out)
        return True
    return False


def previous_model_kept(args):
    """What the report adds when `--force` found a previous run's `model.keras`, else `""`.

    Example:

    >>> import argparse
    >>> previous_model_kept(argparse.Namespace(out="runs/a", previous_model=False))
    ''
    """
    if getattr(args, "previous_model", False):
        return f"; {args.out} keeps the previous run's model.keras as it was"
    return ""


def _format_logs(logs, keys):
    """`"loss 1.234, val_loss 2.345"`: the `keys` that `logs` has, in order."""
    return ", ".join(f"{key} {logs[key]:.4g}" for key in keys if key in logs)


def report(args, checkpoint, history, interrupted, loss_keys, extra_lines=()):
    """Prints where the run is, the losses and the files; returns the exit status.

    Args:
        args: the parsed arguments.
        checkpoint: the checkpoint callback `fit` returned.
        history: the run's `history.csv`, by column.
        interrupted: whether Ctrl-C stopped the training or the pictures.
        loss_keys: the losses to show, in order.
        extra_lines: the recipe's own lines, printed before the files.

    Returns:
        0, or 130 when Ctrl-C stopped the run (it then says on stderr what
        the run directory keeps).
    """
    files = _runs.written_files(args.out)
    if checkpoint.best_epoch is None:
        # A model.keras there is the previous run's (`--force`), not written now.
        files = [name for name in files if name != _runs.MODEL_FILE]
    epochs_done = len(history.get("epoch", []))
    lines = [f"run: {args.out}"]
    if checkpoint.best_epoch is not None:
        lines.append(
            f"best epoch {checkpoint.best_epoch} of {epochs_done} (model.keras): "
            + _format_logs(checkpoint.best_logs, loss_keys)
        )
    if epochs_done:
        last = {key: values[-1] for key, values in history.items()}
        lines.append(f"last epoch {epochs_done}: " + _format_logs(last, loss_keys))
    lines.extend(extra_lines)
    lines.append("wrote: " + (", ".join(files) if files else "nothing"))
    print("\n".join(lines))
    interrupted = interrupted or args.interrupts.requested
    if not interrupted:
        return 0
    if checkpoint.best_epoch is None:
        kept = (
            f"no epoch had ended, so this run saved no model{previous_model_kept(args)}"
            if getattr(args, "previous_model", False)
            else f"no epoch had ended, so {args.out} holds no model"
        )
    else:
        named = [
            f"{name} (the best, epoch {checkpoint.best_epoch})" if name == _runs.MODEL_FILE
            else name
            for name in files
        ]
        kept = f"kept in {args.out}: " + ", ".join(named)
    print(
        f"{PROG} {args.command}: interrupted after {epochs_done} "
        f"epoch{'' if epochs_done == 1 else 's'}; {kept}",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED
