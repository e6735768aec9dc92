"""Run directories of `keras-recipes train`: creating, replacing, checkpointing, reading back.

A run directory holds only files a run writes (`RUN_FILES`). `--force`
relies on that: it deletes those files, and refuses when the directory holds
anything else, so it never deletes a user's own files and never leaves an
older run's pictures beside a new model. The one exception is the older
run's `model.keras`: it stays until the new run's first checkpoint replaces
it (an atomic rename), so a new run that fails or is interrupted before it
has a model of its own leaves the older model as it was.

A run owns its directory while it lasts (`prepare_directory`): a new one is
made with an exclusive `os.mkdir`, and every one is `flock`-ed, so a second
run given the same `--out` is refused at once instead of writing over the
first one's files. The lock dies with the process, so none is ever stale.
"""

import csv
import os
import time
from typing import NamedTuple

from keras_recipes.cli import CommandError

try:
    import fcntl
except ImportError:  # Windows: no flock; a new directory's exclusive mkdir still guards
    fcntl = None

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.csv"
# The files of a `--data` folder a run did not use, and why.
SKIPPED_FILE = "skipped.txt"

# Every file any `train` subcommand writes. `--force` deletes these, and only
# these, from an existing run directory.
RUN_FILES = (
    MODEL_FILE,
    HISTORY_FILE,
    "reconstructions.png",
    "latent.png",
    "samples.png",
    "traversals.png",
    "loss.png",
    "evaluation.json",
    "colorized.png",
    "probe.json",
    SKIPPED_FILE,
)

# What `--resume` needs (`_train/_resume.py`): the run's arguments, and the
# backup of its last complete epoch, written to the partial file first. A run
# writes them, so `--force` deletes them too, but the report does not list them.
ARGUMENTS_FILE = "arguments.json"
BACKUP_FILE = "resume.npz"
PARTIAL_BACKUP_FILE = ".resume.partial.npz"
STATE_FILES = (ARGUMENTS_FILE, BACKUP_FILE)

# The checkpoint is written here first and renamed over `model.keras` only
# when complete. The name must end in `.keras`, or Keras refuses to save.
PARTIAL_MODEL_FILE = ".model.partial.keras"
# Figures are written to `<name>.partial.png` and renamed the same way.
PARTIAL_SUFFIX = ".partial"


def default_directory(kind):
    """`runs/<kind>-<local time to the second>`, e.g. `runs/vae-20261127-031502`."""
    return os.path.join("runs", f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}")


# The names an interrupted run can leave behind: the checkpoint's partial
# file and each picture's `<name>.partial.png`. Exact names only, so a user's
# `notes.partial.txt` is never taken for one.
_PARTIAL_FILES = frozenset(
    [PARTIAL_MODEL_FILE, PARTIAL_BACKUP_FILE]
    + [
        f"{os.path.splitext(name)[0]}{PARTIAL_SUFFIX}.png"
        for name in RUN_FILES
        if name.endswith(".png")
    ]
)


def _is_run_file(directory, name):
    """Whether `name` in `directory` is a file a run writes: its name, and a file
    (a directory of the same name is the user's)."""
    path = os.path.join(directory, name)
    return (name in RUN_FILES or name in STATE_FILES or name in _PARTIAL_FILES) and (
        os.path.islink(path) or os.path.isfile(path)
    )


class RunDirectory(NamedTuple):
    """A run directory this process owns until `release()`.

    Attributes:
        path: the directory.
        previous_model: whether it keeps a previous run's `model.keras`.
        lock: the open descriptor of the directory that holds the lock, or
            `None` where the file system has no locks.
        created: whether this run made the directory.
    """

    path: str
    previous_model: bool
    lock: object
    created: bool = False

    def release(self, refused=False):
        """Ends the ownership; the kernel ends it too when the process ends, however.

        Args:
            refused: whether the run was refused before it wrote anything: a
                directory it created is then removed if still empty.
                Defaults to `False`.
        """
        if refused and self.created:
            try:
                os.rmdir(self.path)  # only if empty
            except OSError:
                pass
        if self.lock is not None:
            os.close(self.lock)


def _lock(path):
    """An exclusive, non-blocking `flock` on the directory itself; its descriptor.

    The lock belongs to the open descriptor, so the kernel drops it when the
    process ends, killed or not: a dead run leaves no stale lock behind and
    no file in the directory. Returns `None` where there is nothing to lock
    with (Windows, a file system without `flock`): the exclusive `mkdir` of a
    new directory is then the only guard.

    Raises:
        CommandError: another process holds the lock.
    """
    if fcntl is None:
        return None
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None  # unreadable: listing it reports that in one line
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise CommandError(
            f"another run is writing to the run directory {path!r}; wait for it to end, "
            "or choose another --out"
        ) from None
    except OSError:
        os.close(descriptor)
        return None
    return descriptor


def prepare_directory(path, *, force, resume=False):
    """Creates the run directory, or empties a previous run's with `force`, and owns it.

    A new directory is created with `os.mkdir`, which fails if another
    process made it first; either way the directory is then locked
    (`flock`), so of two runs given the same `--out` at once the second is
    refused at once, `--force` or not, and the first owns the directory
    until it ends. An existing empty directory is used as it is. An
    existing one with files is refused unless `force`; with `force`, the
    files of `RUN_FILES` (and partial files an interrupted run left) are
    deleted, but for `model.keras`, which only the new run's first
    complete checkpoint replaces; anything else (another file, a directory
    even of a run file's name) makes it refuse, naming what it found,
    before anything is deleted. With `resume`, the directory must exist and
    is kept as it is (`_train/_resume.check` says whether its run can go on).

    Returns:
        A `RunDirectory`; call its `release()` when the run ends.

    Raises:
        CommandError: the path is a file, another run owns the directory,
            or the directory is not empty and `force` is not given, or
            holds files no run writes, or cannot be read or created.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise CommandError(f"--out {path!r} exists and is not a directory")
    if resume and not os.path.isdir(path):
        raise CommandError(
            f"Invalid value for argument `--out`: --resume continues the run in an "
            f"existing run directory, and there is none. Received: --out={path!r}"
        )
    created = False
    try:
        if not os.path.isdir(path):
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
            try:
                os.mkdir(path)
                created = True
            except FileExistsError:
                pass  # another run made it just now: the lock decides which one runs
        lock = _lock(path)
    except OSError as error:
        where = f" {error.filename!r}" if error.filename else ""
        raise CommandError(
            f"cannot create the run directory --out {path!r}: "
            f"{error.strerror or error}{where}"
        ) from None
    try:
        entries = os.listdir(path) if resume else _claim(path, force=force)
    except BaseException:
        RunDirectory(path, False, lock).release()
        raise
    return RunDirectory(path, MODEL_FILE in entries, lock, created)


def _claim(path, *, force):
    """Refuses or empties the locked directory as `prepare_directory` says; its entries."""
    try:
        entries = sorted(os.listdir(path))
    except OSError as error:
        raise CommandError(
            f"cannot read the run directory --out {path!r}: {error.strerror or error}"
        ) from None
    if entries and not force:
        raise CommandError(
            f"the run directory {path!r} already exists; choose another --out, "
            "or pass --force to replace the run in it"
        )
    foreign = [name for name in entries if not _is_run_file(path, name)]
    if foreign:
        raise CommandError(
            f"--force replaces only a previous run's files, but {path!r} also "
            f"holds {foreign[0]!r}; choose another --out"
        )
    try:
        for name in entries:
            if name != MODEL_FILE:
                os.remove(os.path.join(path, name))
    except OSError as error:
        where = f" {error.filename!r}" if error.filename else ""
        raise CommandError(
            f"cannot replace the run in --out {path!r}: {error.strerror or error}{where}"
        ) from None
    return entries


def best_checkpoint(keras, directory):
    """A `ModelCheckpoint` on `val_loss` that replaces `model.keras` atomically.

    Keras saves the improved model to `.model.partial.keras`; once the file
    is complete it is renamed over `model.keras` with `os.replace`, so a run
    interrupted or failing during a save leaves the previous best model
    intact. `best_epoch` and `best_logs` record the last save.
    """

    class AtomicBestCheckpoint(keras.callbacks.ModelCheckpoint):
        def __init__(self):
            self.partial_path = os.path.join(directory, PARTIAL_MODEL_FILE)
            self.final_path = os.path.join(directory, MODEL_FILE)
            super().__init__(
                self.partial_path, monitor="val_loss", mode="min", save_best_only=True
            )
            self.best_epoch = None
            self.best_logs = None

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            if os.path.exists(self.partial_path):
                os.replace(self.partial_path, self.final_path)
                self.best_epoch = epoch + 1
                self.best_logs = dict(logs or {})

        def discard_partial(self):
            """Deletes a save that an interruption cut short."""
            if os.path.exists(self.partial_path):
                os.remove(self.partial_path)

    return AtomicBestCheckpoint()


def discard_partial_files(directory):
    """Deletes the partial files (a checkpoint, a picture) an interruption cut short."""
    for name in _PARTIAL_FILES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            os.remove(path)


def read_history(directory):
    """The epochs `history.csv` holds so far: a dict of column -> list of floats."""
    path = os.path.join(directory, HISTORY_FILE)
    if not os.path.exists(path):
        return {}
    with open(path, newline="", encoding="utf-8") as file:
        rows = [row for row in csv.DictReader(file)]
    columns = {}
    for row in rows:
        for key, value in row.items():
            columns.setdefault(key, []).append(float(value))
    return columns


def truncate_history(directory, epochs):
    """Keeps the header and the first `epochs` rows of `history.csv`, if it has more."""
    path = os.path.join(directory, HISTORY_FILE)
    if not os.path.exists(path):
        return
    with open(path, newline="", encoding="utf-8") as file:
        lines = file.readlines()
    if len(lines) > epochs + 1:
        with open(path, "w", newline="", encoding="utf-8") as file:
            file.writelines(lines[: epochs + 1] if epochs else [])


def written_files(directory):
    """The run files present in `directory`, in the order of `RUN_FILES`."""
    return [name for name in RUN_FILES if os.path.exists(os.path.join(directory, name))]
