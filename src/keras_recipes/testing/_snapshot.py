"""Architecture snapshots: a model's per-layer table as a JSON file, and the diff against it.

Pure Python, like `param_count`: the pytest plugin imports this module only
when a test asks for the `architecture_snapshot` fixture, and it imports
Keras only through `count_model` when it is given a live model.

A snapshot file holds the format's name and version, then one line per
layer (path, class, build shape, trainable and non-trainable counts, MACs,
output bytes, in that order), then the totals, so that a change of one
layer is a change of one line in a version-control diff.
"""

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from keras_recipes import _validation

FORMAT = "keras_recipes.architecture_snapshot"
VERSION = 1
"""The snapshot format version: a file of another version is refused, not guessed at."""

COLUMNS = ("path", "class_name", "build_shape", "trainable", "non_trainable", "macs", "output_bytes")
"""The columns of a snapshot row, in the order written: those of `LayerRow.to_dict()` that
describe the architecture (not `total`, which is their sum, nor `status`, which says how
the count was found, live or saved)."""

TOTALS = ("trainable", "non_trainable", "total", "macs")

MAX_NAME = 100
"""The most characters of a snapshot file's name before `.json`; longer test names are cut and hashed."""

_SAFE = re.compile(r"[][A-Za-z0-9_.=+-]")


class SnapshotError(ValueError):
    """A snapshot file that cannot be read: not JSON, not a snapshot, or another format version."""


@dataclass(frozen=True)
class Snapshot:
    """A model's architecture as compared: its rows (dicts of `COLUMNS`) and totals (dict of `TOTALS`)."""

    rows: tuple
    totals: dict

    def to_json(self):
        """The file's text: one row a line, keys in `COLUMNS` order, a newline at the end."""
        header = json.dumps({"format": FORMAT, "version": VERSION})[:-1]
        rows = ",\n".join("    " + json.dumps(row, ensure_ascii=False) for row in self.rows)
        rows = f"[\n{rows}\n  ]" if self.rows else "[]"
        totals = json.dumps(self.totals)
        return f"{header},\n  \"layers\": {rows},\n  \"totals\": {totals}\n}}\n"


def from_table(table):
    """The `Snapshot` of a `ParamTable`.

    Raises:
        ValueError: a row's class has no formula (`table.total` says which),
            so its count in a snapshot would be a guess.
    """
    total = table.total
    rows = []
    for row in table.rows:
        values = row.to_dict()
        rows.append({column: values[column] for column in COLUMNS})
    totals = {"trainable": total.trainable, "non_trainable": total.non_trainable,
              "total": total.total, "macs": table.macs}
    return Snapshot(rows=tuple(rows), totals=totals)


def snapshot_of(model):
    """The `Snapshot` of a built `keras.Model`, or of a `.keras` file given by its path.

    Raises:
        TypeError: `model` is neither a model nor a path.
        ValueError: a layer has no formula, or the file cannot be counted.
    """
    # Imported when asked: count_model and count_config are pure Python too.
    from keras_recipes.param_count import count_config, count_model

    if isinstance(model, (str, os.PathLike)):
        return from_table(count_config(model))
    if hasattr(model, "layers") and hasattr(model, "count_params"):
        return from_table(count_model(model))
    raise _validation.wrong_type(
        "model", "a built keras.Model or the path of a .keras file", model
    )


def file_name(test_name):
    """The snapshot file name (without `.json`) of a test: the name itself when it is safe.

    Safe is ASCII letters, digits and `_.=+-[]` (the brackets of a
    parametrized test's id are legal in file names everywhere), not starting
    with `.`, at most `MAX_NAME` characters. Any other name (slashes or
    spaces in an id, non-ASCII letters, a long id) has each unsafe
    character replaced by `_`, is cut, and gets `-` and 12 hex digits of the
    SHA-256 of the full name, so that two names never share a file.

    Example:

    >>> file_name("test_mlp")
    'test_mlp'
    >>> file_name("test_mlp[2-units0]")
    'test_mlp[2-units0]'
    >>> file_name("test_mlp[a/b]")
    'test_mlp[a_b]-62f3010f70d3'
    """
    if test_name and len(test_name) <= MAX_NAME and not test_name.startswith(".") and all(
        _SAFE.fullmatch(character) for character in test_name
    ):
        return test_name
    safe = "".join(character if _SAFE.fullmatch(character) else "_" for character in test_name)
    digest = hashlib.sha256(test_name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{safe[:MAX_NAME - 13].lstrip('.')}-{digest}"


def read(path):
    """The `Snapshot` stored in the file at `path`.

    Raises:
        SnapshotError: the file is not UTF-8 JSON, not a snapshot, or of
            another format version; the message names the file.
    """
    how = "re-create it with `pytest --architecture-snapshot-update`, review it and commit it"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SnapshotError(f"Architecture snapshot {path} is not valid JSON ({error}); {how}.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SnapshotError(
            f"Architecture snapshot {path} is not a keras_recipes architecture snapshot "
            f"(no \"format\": \"{FORMAT}\"); {how}."
        )
    if data.get("version") != VERSION:
        raise SnapshotError(
            f"Architecture snapshot {path} has format version {data.get('version')!r}; this "
            f"keras_recipes reads version {VERSION}: {how}."
        )
    rows, totals = data.get("layers"), data.get("totals")
    if (
        not isinstance(rows, list)
        or not all(isinstance(row, dict) and set(row) == set(COLUMNS) for row in rows)
        or not isinstance(totals, dict)
        or set(totals) != set(TOTALS)
    ):
        raise SnapshotError(
            f"Architecture snapshot {path} has \"layers\" or \"totals\" of the wrong shape "
            f"(each layer needs exactly the keys {', '.join(COLUMNS)}); {how}."
        )
    return Snapshot(rows=tuple(rows), totals=totals)


def write(path, snapshot):
    """Write `snapshot` to `path` atomically: a reader sees the old file or the new one, never half.

    The text goes to a temporary file in the same folder, which then
    replaces `path` (`os.replace`), so that parallel test processes (each
    writing its own tests' files) and an interrupted run leave no torn file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(snapshot.to_json())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _key(rows):
    """Each row keyed by (path, how many rows of that path came before): shared layers repeat a path."""
    seen, keyed = {}, {}
    for row in rows:
        index = seen.get(row["path"], 0)
        seen[row["path"]] = index + 1
        keyed[(row["path"], index)] = row
    return keyed


def _label(key, row):
    path, index = key
    repeat = f" (use {index + 1})" if index else ""
    return f"{path}{repeat} ({row['class_name']})"


def _values(row, columns):
    return ", ".join(f"{column} {json.dumps(row[column])}" for column in columns)


def diff(expected, actual):
    """The differences between two snapshots as lines of text; empty when they are equal.

    Rows are matched by path (and, for a shared layer's repeated path, by
    use): one line per removed, added or changed row, a changed row with
    each differing column's snapshot and current values, then the totals
    that differ. Same rows in another order give one line saying so.

    Example:

    >>> row = {"path": "dense", "class_name": "Dense", "build_shape": [None, 2],
    ...        "trainable": 9, "non_trainable": 0, "macs": 6, "output_bytes": 12}
    >>> old = Snapshot(rows=(row,), totals={"trainable": 9, "non_trainable": 0,
    ...                                     "total": 9, "macs": 6})
    >>> new = Snapshot(rows=(dict(row, trainable=12, macs=9),),
    ...                totals={"trainable": 12, "non_trainable": 0, "total": 12, "macs": 9})
    >>> print("\\n".join(diff(old, new)))
    changed  dense (Dense): trainable: snapshot 9, now 12; macs: snapshot 6, now 9
    totals: trainable: snapshot 9, now 12; total: snapshot 9, now 12; macs: snapshot 6, now 9
    """
    if expected == actual:
        return []
    old, new = _key(expected.rows), _key(actual.rows)
    lines = []
    for key, row in old.items():
        if key not in new:
            lines.append(f"removed  {_label(key, row)}: {_values(row, COLUMNS[2:])}")
    for key, row in new.items():
        if key not in old:
            lines.append(f"added    {_label(key, row)}: {_values(row, COLUMNS[2:])}")
        elif row != old[key]:
            changes = "; ".join(
                f"{column}: snapshot {json.dumps(old[key][column])}, now {json.dumps(row[column])}"
                for column in COLUMNS[1:]
                if row[column] != old[key][column]
            )
            lines.append(f"changed  {_label(key, row)}: {changes}")
    if not lines and list(old) != list(new):
        lines.append("the same layers in another order: " + ", ".join(path for path, _ in new))
    totals = "; ".join(
        f"{name}: snapshot {json.dumps(expected.totals.get(name))}, now {json.dumps(actual.totals[name])}"
        for name in TOTALS
        if expected.totals.get(name) != actual.totals[name]
    )
    if totals:
        lines.append(f"totals: {totals}")
    return lines
