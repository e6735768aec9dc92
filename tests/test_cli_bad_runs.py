"""`keras-recipes train` under failure: bad `--data` files, and saves that fail or are interrupted.

The checks of `cli/_data.py` are called in-process for the many bad files
(`vae_data` and `split_brain_data`, the two commands' readers), each must be
one `ValueError` line naming `--data`; a few files go through `cli.main` end
to end for the exit status. `tests/test_cli_train.py` runs the first bad
files in a fresh interpreter (Keras never imported) and
`tests/test_cli_review.py` the files that hang or exhaust memory.

A good `model.keras` is never lost: a checkpoint that fails or is
interrupted while writing leaves the previous one byte for byte, and
`--force` keeps the previous run's model until the new run has a complete
one of its own.
"""

import errno
import os
import zipfile

import numpy as np
import pytest
from test_cli_review import assert_one_error_line, run_main

from keras_recipes.cli import _data, _runs

READERS = {
    "vae": lambda path: _data.vae_data(path),
    "split-brain": lambda path: _data.split_brain_data(path, num_images=8, seed=0),
}


class Unpickled:
    """An object whose unpickling creates a marker file: proof that a reader unpickled."""

    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _rgb(count=4, side=8):
    return np.random.default_rng(0).uniform(0, 1, (count, side, side, 3)).astype("float32")


def _write(path, content):
    """Write `content` to `path`: an array (`.npy`), a dict of arrays (`.npz`) or bytes."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, dict):
        np.savez(path, **content)
    else:
        np.save(path, content, allow_pickle=True)
    return str(path)


def _truncated(path, content, keep):
    """`content` saved to `path` and cut to `keep` bytes."""
    _write(path, content)
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    return str(path)


def _zip_without_arrays(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    return str(path)


good = _rgb()
BAD_FILES = [
    # (id, file name, content, words of the error)
    ("nan", "nan.npy", np.where(np.arange(good.size).reshape(good.shape) == 5, np.nan, good), "finite"),
    ("inf", "inf.npy", np.where(np.arange(good.size).reshape(good.shape) == 5, np.inf, good), "finite"),
    ("minus inf", "ninf.npy", np.where(np.arange(good.size).reshape(good.shape) == 5, -np.inf, good), "finite"),
    ("float64 beyond float32", "huge.npy", good.astype("float64") * 1e300, "finite"),
    ("rank 1", "flat.npy", good.ravel(), "shape"),
    ("rank 6", "rank6.npy", good[:, None, None], "shape"),
    ("empty", "empty.npy", np.zeros((0, 8, 8, 3), "float32"), "empty"),
    ("no features", "nofeatures.npy", np.zeros((4, 0), "float32"), "shape (4, 0)"),
    ("one sample", "one.npy", good[:1], "at least 2 samples"),
    ("strings", "strings.npy", np.full((4, 8, 8, 3), "a"), "dtype"),
    ("bytes", "bytes.npy", np.full((4, 8, 8, 3), b"a"), "dtype"),
    ("complex", "complex.npy", good.astype("complex64"), "dtype"),
    ("datetime", "dates.npy", np.zeros((4, 8, 8, 3), "datetime64[s]"), "dtype"),
    ("timedelta", "deltas.npy", np.zeros((4, 8, 8, 3), "timedelta64[s]"), "dtype"),
    ("structured", "records.npy", np.zeros((4, 8, 8, 3), [("a", "f4"), ("b", "f4")]), "dtype"),
    ("8-bit", "bytes8.npy", (good * 255).astype("uint8"), "[0, 1]"),
    ("negative", "negative.npy", good - 1, "[0, 1]"),
    ("text file", "text.npy", b"0.1, 0.2\n0.3, 0.4\n", "lacks the .npy header"),
    ("zip that is not an npz", "archive.npz", "zip", "under the key 'x'"),
    ("text named npz", "text.npz", b"x = [1, 2]", "lacks the .npz (zip) header"),
    ("truncated npy", "cut.npy", ("truncate", good, 200), "truncated"),
    ("truncated npz", "cut.npz", ("truncate", {"x": good}, 300), "not a readable numpy array file"),
    ("npz without x", "images.npz", {"images": good}, "under the key 'x'"),
    ("npz x of strings", "xstrings.npz", {"x": np.full((4, 8, 8, 3), "a")}, "dtype"),
    ("labels too long", "long.npz", {"x": good, "y": np.arange(5)}, "one integer label per sample"),
    ("labels 2-d", "twod.npz", {"x": good, "y": np.zeros((4, 1), "int64")}, "one integer label per sample"),
    ("float labels", "flabels.npz", {"x": good, "y": np.ones(4)}, "one integer label per sample"),
    ("negative labels", "nlabels.npz", {"x": good, "y": -np.ones(4, "int64")}, "non-negative labels"),
    ("string labels", "slabels.npz", {"x": good, "y": np.array(list("abcd"))}, "one integer label per sample"),
]


def _make(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, tuple):
        return _truncated(path, content[1], content[2])
    if isinstance(content, str):
        return _zip_without_arrays(path)
    return _write(path, content)


@pytest.mark.parametrize("command", sorted(READERS))
@pytest.mark.parametrize(("case", "name", "content", "words"), BAD_FILES, ids=[row[0] for row in BAD_FILES])
def test_bad_data_file_is_one_line_naming_data(command, case, name, content, words, tmp_path):
    """Every bad `--data` file is refused by both commands' readers in one line naming `--data`."""
    path = _make(tmp_path, name, content)
    with pytest.raises(ValueError) as info:
        READERS[command](path)
    message = str(info.value)
    assert message.startswith("Invalid value for argument `--data`:"), message
    assert f"Received: --data={path!r}" in message
    assert len(message.splitlines()) == 1, message
    if command == "split-brain" and words == "shape":
        words = "expected sRGB images"  # its one shape check says what it takes
    assert words in message, message


@pytest.mark.parametrize("command", sorted(READERS))
@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_pickled_objects_are_refused_and_never_unpickled(command, suffix, tmp_path):
    """An object array whose unpickling would create a file is refused, and the file never appears."""
    marker = tmp_path / "unpickled.marker"
    Unpickled.marker = marker
    hostile = np.empty((4, 8, 8, 3), dtype=object)
    hostile[...] = Unpickled()
    path = tmp_path / f"hostile{suffix}"
    if suffix == ".npy":
        np.save(path, hostile, allow_pickle=True)
    else:
        np.savez(path, x=hostile)
    assert not marker.exists()
    with pytest.raises(ValueError, match="Object arrays cannot be loaded when allow_pickle=False"):
        READERS[command](str(path))
    assert not marker.exists()
    # Control: the same file does create the marker once numpy may unpickle.
    loaded = np.load(path, allow_pickle=True)
    if suffix == ".npz":
        loaded["x"]  # an npz member is unpickled when it is read
    assert marker.exists()


def test_boolean_images_are_accepted_as_zeros_and_ones(tmp_path):
    """Boolean data is valid: binary images in [0, 1], read as float32 zeros and ones."""
    path = _write(tmp_path / "binary.npy", good > 0.5)
    for command, read in READERS.items():
        x = read(path)[0]
        assert x.dtype == np.float32 and set(np.unique(x)) <= {0.0, 1.0}, command


@pytest.mark.parametrize(
    ("command", "name", "content", "words"),
    [
        ("vae", "nan.npy", np.full((6, 4), np.nan, "float32"), "expected finite values"),
        ("split-brain", "nan.npy", np.full((6, 8, 8, 3), np.nan, "float32"), "expected finite values"),
        ("split-brain", "grey.npy", np.zeros((6, 8, 8), "float32"), "expected sRGB images"),
        ("split-brain", "labels.npz", {"x": _rgb(6), "y": np.arange(5)}, "one integer label per sample"),
    ],
)
def test_bad_data_end_to_end_is_exit_2_and_one_line(command, name, content, words, tmp_path, capsys):
    """`keras-recipes train COMMAND --data BAD` exits 2 with one error line, and creates no run."""
    path = _write(tmp_path / name, content)
    out = tmp_path / "run"
    status, _, stderr = run_main(["train", command, "--data", path, "--out", str(out)], capsys)
    assert status == 2
    assert_one_error_line(stderr, f"train {command}")
    assert words in stderr
    assert not out.exists()


# === model.keras is replaced only by a complete one ===


def _tiny_model():
    import keras

    inputs = keras.Input((2,))
    return keras.Model(inputs, keras.layers.Dense(1)(inputs))


@pytest.mark.parametrize(
    "failure",
    [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()],
    ids=["disk full", "ctrl-c"],
)
def test_a_checkpoint_that_fails_mid_write_keeps_the_previous_model_byte_identical(failure, tmp_path, monkeypatch):
    """A save that writes bytes and then fails leaves the previous model.keras as it was, loadable, no partial."""
    import keras

    model = _tiny_model()
    checkpoint = _runs.best_checkpoint(keras, str(tmp_path))
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"val_loss": 2.0})
    final = tmp_path / _runs.MODEL_FILE
    previous = final.read_bytes()
    real_save = keras.Model.save

    def save_then_fail(self, filepath, *args, **kwargs):
        real_save(self, filepath, *args, **kwargs)
        with open(filepath, "r+b") as file:
            file.truncate(os.path.getsize(filepath) // 2)
        raise failure

    monkeypatch.setattr(keras.Model, "save", save_then_fail)
    with pytest.raises(type(failure)):
        checkpoint.on_epoch_end(1, {"val_loss": 1.0})
    assert (tmp_path / _runs.PARTIAL_MODEL_FILE).exists()  # the half-written file went aside
    checkpoint.discard_partial()
    assert final.read_bytes() == previous
    assert os.listdir(tmp_path) == [_runs.MODEL_FILE]
    monkeypatch.undo()
    keras.saving.load_model(final, safe_mode=True)


@pytest.fixture
def previous_run(tmp_path):
    """A run directory holding a previous run's loadable model.keras and picture."""
    out = tmp_path / "run"
    out.mkdir()
    _tiny_model().save(out / _runs.MODEL_FILE)
    (out / "loss.png").write_bytes(b"an older picture")
    return out


@pytest.mark.parametrize(
    ("failure", "status", "words"),
    [
        (KeyboardInterrupt(), 130, "keeps the previous run's model.keras as it was"),
        (OSError(errno.ENOSPC, "No space left on device"), 1, "keeps the previous run's model.keras as it was"),
    ],
    ids=["ctrl-c", "disk full"],
)
def test_force_keeps_the_previous_model_until_the_new_run_has_one(failure, status, words, previous_run, tmp_path, capsys, monkeypatch):
    """`--force` then a run that fails before its first checkpoint: the previous model.keras is untouched."""
    import keras

    previous = (previous_run / _runs.MODEL_FILE).read_bytes()

    def fail(self, *args, **kwargs):
        raise failure

    monkeypatch.setattr(keras.Model, "fit", fail)
    data = _write(tmp_path / "images.npy", np.random.default_rng(0).random((20, 8, 8)).astype("float32"))
    result, _, stderr = run_main(
        ["train", "vae", "--data", data, "--out", str(previous_run), "--force",
         "--epochs", "1", "--hidden-units", "4", "--batch-size", "8"],
        capsys, timeout=120,
    )
    assert result == status
    assert words in stderr
    assert (previous_run / _runs.MODEL_FILE).read_bytes() == previous
    assert not (previous_run / "loss.png").exists()  # the older run's other files are gone
    assert not (previous_run / _runs.PARTIAL_MODEL_FILE).exists()
    monkeypatch.undo()
    keras.saving.load_model(previous_run / _runs.MODEL_FILE, safe_mode=True)
