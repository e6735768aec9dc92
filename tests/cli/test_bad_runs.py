"""`keras-recipes train` under failure: bad `--data` files, and saves that fail or are interrupted.

The checks of `cli/_data.py` are called in-process for the many bad files
(`vae_data` and `split_brain_data`, the two commands' readers), each must be
one `ValueError` line naming `--data`; a few files go through `cli.main` end
to end for the exit status. `tests/cli/test_train.py` runs the first bad
files in a fresh interpreter (Keras never imported) and
`tests/cli/test_review.py` the files that hang or exhaust memory.

A good `model.keras` is never lost: a checkpoint that fails or is
interrupted while writing leaves the previous one byte for byte, and
`--force` keeps the previous run's model until the new run has a complete
one of its own.
"""

import errno
import os
import warnings
import zipfile

import numpy as np
import pytest
import strategies
from hypothesis import given, settings
from cli.test_review import assert_one_error_line, run_main

from keras_recipes.cli import _data, _runs

# Arbitrary `.npy` and `.npz` files drawn per Hypothesis test: reading one is
# pure numpy and takes about a millisecond, so many more than the profile's
# 25 (docs/reliability.md quotes this number).
FILE_EXAMPLES = 500

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


# === Every member numpy reads, every header numpy parses ===


def _npy_bytes(array):
    """`array` as the bytes of a `.npy` file."""
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _zip(path, members, compression=zipfile.ZIP_STORED):
    """A zip archive at `path` holding `members`, a list of `(name, bytes)`."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return str(path)


@pytest.mark.parametrize("x_name", ["x", "x.npy"])
@pytest.mark.parametrize("y_name", [None, "y", "y.npy"])
def test_npz_members_are_read_as_numpy_resolves_their_keys(x_name, y_name, tmp_path):
    """A member named `x` or `x.npy` (and `y` or `y.npy`) is read exactly as `numpy.load` reads it."""
    members = [(x_name, _npy_bytes(_rgb()))]
    if y_name:
        members.append((y_name, _npy_bytes(np.arange(4))))
    path = _zip(tmp_path / "data.npz", members)
    x, y = _data.load_array_file(path)
    with np.load(path) as expected:
        np.testing.assert_array_equal(x, expected["x"])
        if y_name:
            np.testing.assert_array_equal(y, expected["y"])
        else:
            assert y is None


def test_a_bare_x_member_wins_over_x_npy_as_in_numpy(tmp_path):
    """With members `x.npy` and `x`, the one `numpy.load(path)["x"]` returns is read."""
    path = _zip(tmp_path / "both.npz",
                [("x.npy", _npy_bytes(np.zeros((2, 3)))), ("x", _npy_bytes(np.ones((2, 3))))])
    x, _ = _data.load_array_file(path)
    with np.load(path) as loaded:
        np.testing.assert_array_equal(x, loaded["x"])
    np.testing.assert_array_equal(x, np.ones((2, 3)))


@pytest.mark.parametrize("key", ["x", "y"])
@pytest.mark.parametrize("suffix", ["", ".npy"])
def test_every_member_read_gets_the_memory_check(key, suffix, tmp_path, monkeypatch):
    """An `x` or `y` member, with or without `.npy`, too big for memory is refused before its data is read."""
    monkeypatch.setattr(_data, "_memory_bytes", lambda: 10_000)
    members = {"x": _npy_bytes(np.zeros((4, 3), "float32")), "y": _npy_bytes(np.arange(4))}
    members[key] = _npy_bytes(np.zeros((4, 1000), "float32" if key == "x" else "int64"))
    path = _zip(tmp_path / "big.npz",
                [(name + (suffix if name == key else ".npy"), content)
                 for name, content in members.items()],
                compression=zipfile.ZIP_DEFLATED)
    read = []
    monkeypatch.setattr(_data, "_read_data", lambda *args: read.append(args))
    with pytest.raises(ValueError, match="too large to load into memory"):
        _data.load_array_file(path)
    assert read == []


@pytest.mark.parametrize("name", ["x", "x.npy"])
def test_a_member_declaring_more_than_it_holds_is_refused_as_truncated(name, tmp_path):
    """A member whose header declares terabytes it does not hold is refused without allocating them."""
    claim = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    path = _zip(tmp_path / "lies.npz", [(name, _npy_with_header(claim, bytes(16)))])
    with pytest.raises(ValueError, match="truncated"):
        _data.load_array_file(path)


@pytest.mark.parametrize(
    "content",
    [b"raw bytes, not an array", b"", b"\x93NUMPY"],
    ids=["raw bytes", "empty", "magic only"],
)
def test_an_x_member_that_is_not_an_array_is_one_error_naming_data(content, tmp_path):
    """An `x` member holding raw bytes (numpy returns them as `bytes`) is one `--data` error."""
    path = _zip(tmp_path / "raw.npz", [("x", content)])
    with pytest.raises(ValueError, match="--data"):
        _data.load_array_file(path)


def _npy_with_header(text, data=b"", version=b"\x01\x00"):
    import struct

    header = text.encode("latin1") + b"\n"
    length = struct.pack("<H" if version == b"\x01\x00" else "<I", len(header))
    return b"\x93NUMPY" + version + length + header + data


BAD_HEADERS = [
    ("unterminated", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,"),
    ("unterminated string", "{'descr': '''"),
    ("bool shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (True, False), }"),
    ("negative shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 2), }"),
    ("huge shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (2**63, 0), }"),
    ("huge shape 2", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 10**400), }"),
    ("float shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 2), }"),
    ("nested shape", "{'descr': '<f4', 'fortran_order': False, 'shape': ((2,), 2), }"),
    ("list shape", "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 2], }"),
    ("wrong keys", "{'descr': '<f4', 'fortran': False, 'shape': (2, 2), }"),
    ("extra key", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': 1}"),
    ("not a dict", "[1, 2]"),
    ("unhashable key", "{[1]: 2}"),
    ("bad descr", "{'descr': 'not a dtype', 'fortran_order': False, 'shape': (2, 2), }"),
    ("descr int", "{'descr': 5, 'fortran_order': False, 'shape': (2, 2), }"),
    ("descr fields junk", "{'descr': [(1, 2, 3, 4)], 'fortran_order': False, 'shape': (2, 2), }"),
    ("descr subarray", "{'descr': ('<f4', (2,)), 'fortran_order': False, 'shape': (2, 2), }"),
    ("descr object", "{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }"),
    ("fortran junk", "{'descr': '<f4', 'fortran_order': 'yes', 'shape': (2, 2), }"),
    ("fortran int", "{'descr': '<f4', 'fortran_order': 1, 'shape': (2, 2), }"),
    ("null byte", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\x00"),
]


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_a_python_2_header_is_read_as_numpy_reads_it(suffix, tmp_path):
    """A header written by Python 2 (`(2L, 3L)`), which numpy reads, is read to the same array."""
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }"
    content = _npy_with_header(text, np.arange(6, dtype="<f4").tobytes())
    path = tmp_path / f"old{suffix}"
    if suffix == ".npy":
        path.write_bytes(content)
    else:
        _zip(path, [("x.npy", content)])
    x, _ = _data.load_array_file(str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns that the header is Python 2's
        expected = np.load(path)
        expected = expected if suffix == ".npy" else expected["x"]
    np.testing.assert_array_equal(x, expected)
    assert x.shape == (2, 3)


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
@pytest.mark.parametrize(("case", "text"), BAD_HEADERS, ids=[row[0] for row in BAD_HEADERS])
def test_a_header_numpy_would_not_read_is_one_error_naming_data(suffix, case, text, tmp_path):
    """Every malformed `.npy` header, alone or as an `.npz` member, is one `ValueError` naming `--data`."""
    content = _npy_with_header(text, bytes(64))
    if suffix == ".npy":
        path = tmp_path / "bad.npy"
        path.write_bytes(content)
        path = str(path)
    else:
        path = _zip(tmp_path / "bad.npz", [("x", content)])
    with pytest.raises(ValueError, match="--data") as raised:
        _data.load_array_file(path)
    assert type(raised.value) is ValueError


def _read_or_refuse(path):
    """Reads `path` with the `--data` reader; a refusal must be one plain `ValueError` naming `--data`."""
    try:
        x, y = _data.load_array_file(path)
    except ValueError as error:
        assert type(error) is ValueError and "--data" in str(error), repr(error)
        assert "\n" not in " ".join(str(error).split())
        return None
    assert isinstance(x, np.ndarray) and (y is None or isinstance(y, np.ndarray))
    return x, y


@settings(max_examples=FILE_EXAMPLES)
@given(content=strategies.npy_files())
def test_any_npy_bytes_are_read_or_refused_with_one_value_error(content, tmp_path_factory):
    """Whatever a `.npy` file's version, header and data, reading it returns arrays or raises one `ValueError`."""
    path = tmp_path_factory.mktemp("npy") / "any.npy"
    path.write_bytes(content)
    _read_or_refuse(str(path))


@settings(max_examples=FILE_EXAMPLES)
@given(members=strategies.npz_members())
def test_any_npz_members_are_read_or_refused_with_one_value_error(members, tmp_path_factory):
    """Whatever an `.npz` archive's members are named and hold, reading it returns arrays or raises one `ValueError`."""
    path = tmp_path_factory.mktemp("npz") / "any.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of duplicate names
        _zip(path, members)
    _read_or_refuse(str(path))


@pytest.mark.parametrize("truncated", [False, True], ids=["whole", "truncated"])
@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_a_dtype_named_by_the_file_is_shown_escaped_and_bounded(suffix, truncated, tmp_path,
                                                                capsys):
    """Field names of a structured dtype come from the file: the error shows them escaped, in a
    bounded line, whether the data is refused for its dtype or for being cut short."""
    fields = [(f"\x1b]0;title\x07\u202e{index:03d}" + "n" * 30, "<f4") for index in range(100)]
    npy = tmp_path / "fields.npy"
    np.save(npy, np.zeros(3, dtype=fields))
    content = npy.read_bytes()[:-5] if truncated else npy.read_bytes()
    path = tmp_path / f"data{suffix}"
    if suffix == ".npy":
        path.write_bytes(content)
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("x.npy", content)
    status, _, stderr = run_main(["train", "vae", "--data", str(path), "--out",
                                  str(tmp_path / "run")], capsys)
    assert status == 2
    assert_one_error_line(stderr, "train vae")
    assert ("truncated" if truncated else "expected real numbers") in stderr
    assert not any(ord(character) < 32 or character == "\u202e" for character in stderr.rstrip("\n"))
    assert len(stderr) < 1_000
    assert not (tmp_path / "run").exists()
