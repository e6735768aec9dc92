"""Training data for `keras-recipes train`: the bundled sets and a user's array file.

Plain numpy, no Keras: every check here runs before TensorFlow is imported,
so bad data fails in a fraction of a second with one line, not after the
framework's start-up.

A user's `--data PATH` is a `.npy` file holding the samples, or a `.npz`
file holding them under the key `x` and, optionally, integer class labels
under the key `y` (one per sample; they colour the latent plot and train the
split-brain linear probe). Files are read with `allow_pickle=False`, so an
object array is refused rather than unpickled.
"""

import ast
import contextlib
import math
import os
import re
import struct
import sys
import zipfile
from typing import NamedTuple

import numpy as np

from keras_recipes._recipes.split_brain import spec
from keras_recipes._untrusted import shown, zip_errors

# The keys read from a `.npz` file.
SAMPLES_KEY = "x"
LABELS_KEY = "y"

# The first bytes of a .npy file and of a .npz file (a zip archive).
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK"

# The fraction of the samples held out for validation, after a seeded
# shuffle: big enough that the validation loss picks the best checkpoint
# reliably (360 digits), small enough to leave most data for training.
VALIDATION_FRACTION = 0.2


def _data_error(path, problem, hint=""):
    """A `ValueError` naming `--data`, the file and what is wrong with it."""
    message = f"Invalid value for argument `--data`: {problem}. Received: --data={path!r}"
    if hint:
        message += f". {hint}"
    return ValueError(message)


def load_array_file(path):
    """Reads samples and optional labels from a `.npy` or `.npz` file.

    The arrays are read here, not by `numpy.load`: every header is checked
    (a Python literal, the three keys with values of the right types, a dtype
    numpy can make, no Python objects) and every array's size is checked
    against the file and the machine's memory before its data is read, so a
    crafted file gives one `ValueError`, never a traceback, an unpickled
    object or a machine out of memory.

    Returns:
        A tuple `(x, y)`: the samples as read, and the labels or `None`.

    Raises:
        ValueError: the file is missing, is not a numpy array file, has a
            header numpy would not read, holds an object array, declares
            more data than it holds or than memory holds, or is an `.npz`
            without an `x` array.
    """
    if not os.path.exists(path):
        raise _data_error(path, "no such file")
    if os.path.isdir(path):
        raise _data_error(path, "expected a .npy or .npz file, not a directory")
    if not path.endswith((".npy", ".npz")):
        raise _data_error(path, "expected a .npy or .npz file (numpy's array formats)")
    # A named pipe or a device would be opened and read until a writer
    # closes it: a command that never answers.
    if not os.path.isfile(path):
        raise _data_error(path, "expected a .npy or .npz file; this is not a regular file")
    with open(path, "rb") as file:
        start = file.read(len(_NPY_MAGIC))
    # Without its magic bytes numpy takes a file for a pickle, and with
    # `allow_pickle=False` says it "contains pickled (object) data", which
    # misleads about a text or CSV file named `.npy`.
    if not start.startswith(_ZIP_MAGIC if path.endswith(".npz") else _NPY_MAGIC):
        kind = ".npz (zip)" if path.endswith(".npz") else ".npy"
        raise _data_error(path, f"not a numpy array file: it lacks the {kind} header")
    if path.endswith(".npy"):
        try:
            with open(path, "rb") as file:
                header = _read_header(path, file, "the array")
                _check_sizes(path, [header], os.path.getsize(path) - file.tell())
                return _read_data(path, file, header), None
        except OSError as error:
            raise _data_error(path, f"not a readable numpy array file ({error})") from None
    return _read_npz(path)


# What reading a damaged or crafted zip archive can raise.
_ZIP_ERRORS = zip_errors()


def _npz_member(names, key):
    """The member of an `.npz` archive that `numpy.load(path)[key]` reads, or `None`.

    numpy's `NpzFile` maps `key` to a member named `key` itself if there is
    one, else to `key.npy`; of members with the same name, the last.
    """
    if key in names:
        return key
    if f"{key}.npy" in names:
        return f"{key}.npy"
    return None


def _read_npz(path):
    """`(x, y)` from an `.npz`: both headers and sizes checked before either's data is read."""
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as error:
        # A truncated .npz still starts with the zip magic.
        raise _data_error(path, f"not a readable numpy array file ({error})") from None
    with archive:
        names = archive.namelist()
        members = {key: _npz_member(names, key) for key in (SAMPLES_KEY, LABELS_KEY)}
        if members[SAMPLES_KEY] is None:
            keys = sorted({name.removesuffix(".npy") for name in names})
            raise _data_error(
                path,
                f"a .npz file needs the samples under the key {SAMPLES_KEY!r}; "
                f"it holds {_shown_value(keys, limit=200)}",  # names from the file: bounded
                f"Save it with numpy.savez(path, {SAMPLES_KEY}=samples, "
                f"{LABELS_KEY}=labels), labels optional",
            )
        # Each member stays open at the start of its data while the sizes
        # of both are checked, so that each header is read once.
        with contextlib.ExitStack() as opened:
            headers = {}
            streams = {}
            for key, name in members.items():
                if name is None:
                    continue
                streams[key] = opened.enter_context(_Member(path, archive, name))
                headers[key] = _read_header(path, streams[key], f"{key!r}")
                held = archive.getinfo(name).file_size - streams[key].tell()
                _check_sizes(path, [headers[key]], held)
            # Both arrays are held at once, so together they must fit.
            _check_sizes(path, list(headers.values()), None)
            arrays = {key: _read_data(path, streams[key], headers[key]) for key in streams}
    return arrays[SAMPLES_KEY], arrays.get(LABELS_KEY)


class _Member:
    """An open `.npz` member whose reads turn zip errors into the `--data` error."""

    def __init__(self, path, archive, name):
        self.path, self.name = path, name
        self.stream = self._guard(archive.open, name)

    def _guard(self, function, *args):
        try:
            return function(*args)
        except _ZIP_ERRORS as error:
            raise _data_error(
                self.path, f"not a readable numpy array file ({error}, in {self.name!r})"
            ) from None

    def read(self, size):
        return self._guard(self.stream.read, size)

    def tell(self):
        return self._guard(self.stream.tell)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stream.close()


class _Header(NamedTuple):
    """What a `.npy` header declares."""

    shape: tuple
    fortran_order: bool
    dtype: np.dtype
    what: str


# `.npy` format versions: how the header's length is stored, and its encoding.
_HEADER_FORMATS = {(1, 0): ("<H", "latin1"), (2, 0): ("<I", "latin1"), (3, 0): ("<I", "utf8")}
# numpy's own limit on a header's length, past which it refuses to parse it.
_MAX_HEADER_SIZE = 10_000
# An integer written by Python 2 with its `L` suffix, outside a string.
_PYTHON_2_LONG = re.compile(r"\b(\d+)L\b")
_HEADER_KEYS = frozenset({"descr", "fortran_order", "shape"})
# numpy's limit on the number of dimensions (NPY_MAXDIMS in numpy 2).
_MAX_DIMENSIONS = 64


def _read_exactly(path, stream, size, what):
    data = stream.read(size)
    if len(data) != size:
        raise _data_error(
            path, f"cannot read the arrays: the file is truncated ({what} is cut short)"
        )
    return data


def _read_header(path, stream, what):
    """Reads and checks a `.npy` header from `stream`, left at the start of the data.

    As numpy's `read_array_header_*` reads it, but every departure from the
    format is one `--data` error: numpy itself lets `tokenize.TokenError`,
    `TypeError` and others through for crafted headers, and takes booleans
    and negative numbers in the shape.
    """

    def bad(problem):
        return _data_error(path, f"cannot read the .npy header of {what}: {problem}")

    magic = _read_exactly(path, stream, len(_NPY_MAGIC) + 2, f"the header of {what}")
    if not magic.startswith(_NPY_MAGIC):
        raise bad("it is not a .npy array (it lacks the .npy magic bytes)")
    version = (magic[-2], magic[-1])
    if version not in _HEADER_FORMATS:
        raise bad(f"unknown format version {version[0]}.{version[1]}")
    length_format, encoding = _HEADER_FORMATS[version]
    length_bytes = _read_exactly(
        path, stream, struct.calcsize(length_format), f"the header of {what}"
    )
    (length,) = struct.unpack(length_format, length_bytes)
    if length > _MAX_HEADER_SIZE:
        raise bad(f"it declares {length:,} bytes, numpy reads at most {_MAX_HEADER_SIZE:,}")
    raw = _read_exactly(path, stream, length, f"the header of {what}")
    try:
        text = raw.decode(encoding)
        if version < (3, 0):
            # Python 2 wrote long integers with an `L` (`(2L, 3L)`), and
            # numpy still reads such files: as numpy's `_filter_header`.
            text = _PYTHON_2_LONG.sub(r"\1", text)
        header = ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        raise bad("it is not a Python dict literal") from None
    if not isinstance(header, dict) or header.keys() != _HEADER_KEYS:
        raise bad("expected a dict with exactly the keys 'descr', 'fortran_order' and 'shape'")
    shape, fortran_order = header["shape"], header["fortran_order"]
    if (
        type(shape) is not tuple
        or len(shape) > _MAX_DIMENSIONS
        or not all(type(size) is int and 0 <= size <= sys.maxsize for size in shape)
    ):
        raise bad(
            f"expected the shape to be a tuple of at most {_MAX_DIMENSIONS} non-negative "
            f"integers below 2**63; it is {_shown_value(shape)}"
        )
    if type(fortran_order) is not bool:
        raise bad(f"expected fortran_order True or False; it is {_shown_value(fortran_order)}")
    try:
        dtype = np.lib.format.descr_to_dtype(header["descr"])
    # numpy's dtype parser answers a crafted descriptor with TypeError,
    # ValueError, KeyError, IndexError, RecursionError and more, none
    # documented: whatever it raises, the header is refused.
    except Exception:  # noqa: BLE001
        raise bad(f"descr {_shown_value(header['descr'])} is not a numpy dtype") from None
    if dtype.hasobject:
        # The words of numpy's own refusal, which users search for.
        raise bad("Object arrays cannot be loaded when allow_pickle=False; "
                  "a Python object is never unpickled from --data")
    if dtype.subdtype is not None:
        raise bad(f"expected a dtype of plain numbers; it is {_shown_value(dtype)}")
    return _Header(shape, fortran_order, dtype, what)


def _shown_value(value, limit=80):
    """A name, dtype or shape read from the file, for a message: escaped, at most `limit` characters.

    A dtype is shown as numpy names it (`float32`), anything else by its
    `repr()`; a structured dtype's field names come from the file.
    """
    return shown(str(value) if isinstance(value, np.dtype) else repr(value), limit)


def _read_data(path, stream, header):
    """The array `header` declares, read from `stream` (sizes checked already)."""
    count = math.prod(header.shape)
    if count == 0 or header.dtype.itemsize == 0:
        return np.zeros(header.shape, header.dtype)
    try:
        data = _read_exactly(
            path, stream, count * header.dtype.itemsize, f"the data of {header.what}"
        )
        array = np.frombuffer(data, dtype=header.dtype, count=count)
    except MemoryError as error:
        # Memory the check above counted on was taken by something else.
        raise _data_error(path, f"too large to load into memory ({error})") from None
    if header.fortran_order:
        return array.reshape(header.shape[::-1]).transpose()
    return array.reshape(header.shape)


def _memory_bytes():
    """The machine's physical memory in bytes, or `None` where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_sizes(path, headers, held):
    """Refuses arrays the file cannot hold (`held` bytes after the header, if given),
    or that, with their float32 copies, need more than the machine's memory.

    numpy allocates what a header declares before reading, so a small file
    claiming terabytes would fail with a `MemoryError` (or, claiming a few
    gigabytes, take them) before finding the data missing; and a compressed
    `.npz` of 40 MB can hold 40 GB of zeros.
    """
    for header in headers:
        declared = math.prod(header.shape) * header.dtype.itemsize
        if held is not None and declared > held:
            raise _data_error(
                path,
                f"cannot read the arrays: the file is truncated or its header is wrong: "
                f"{header.what} declares shape {_shown_value(header.shape)} of "
                f"{_shown_value(header.dtype)}, {declared:,} bytes, but the file holds {max(held, 0):,}",
            )
    memory = _memory_bytes()
    needed = sum(math.prod(h.shape) * (h.dtype.itemsize + 4) for h in headers)
    if memory is not None and needed > memory:
        described = " and ".join(
            f"{h.what} of shape {_shown_value(h.shape)} and dtype {_shown_value(h.dtype)}"
            for h in headers
        )
        raise _data_error(
            path,
            f"too large to load into memory: {described} needs {needed / 1e9:.3g} GB "
            f"with its float32 copy; this machine has {memory / 1e9:.1f} GB",
        )


def check_samples(path, x, *, min_rank, max_rank, what, unit_interval=True):
    """Checks a sample array and returns it as float32.

    Args:
        path: the `--data` value, for messages.
        x: the array read from the file.
        min_rank: the least rank, counting the sample axis.
        max_rank: the greatest rank, counting the sample axis.
        what: a description of the expected shape, for messages.
        unit_interval: whether every value must lie in [0, 1].

    Raises:
        ValueError: wrong dtype, rank or size, no samples, a NaN or an
            infinity, or a value outside [0, 1].
    """
    if x.dtype.kind not in "fiub":
        raise _data_error(
            path,
            f"expected real numbers ({what}); the array has dtype {_shown_value(x.dtype)}",
        )
    if not min_rank <= x.ndim <= max_rank:
        raise _data_error(path, f"expected {what}; the array has shape {x.shape}")
    if 0 in x.shape:
        raise _data_error(path, f"expected {what}; the array is empty, shape {x.shape}")
    if x.shape[0] < 2:
        raise _data_error(
            path,
            f"expected at least 2 samples (one to train on, one to validate); "
            f"the array has shape {x.shape}",
        )
    # Values beyond float32's range become infinities, refused just below;
    # numpy's overflow warning would be noise beside that one line.
    with np.errstate(over="ignore", invalid="ignore"):
        x = x.astype("float32")
    finite = np.isfinite(x)
    if not finite.all():
        bad = int(x.size - np.count_nonzero(finite))
        raise _data_error(
            path,
            f"expected finite values; {bad} are NaN or infinite "
            "(or too large for float32)",
        )
    if unit_interval:
        low, high = float(x.min()), float(x.max())
        if low < 0.0 or high > 1.0:
            raise _data_error(
                path,
                f"expected values in [0, 1]; they range from {low:g} to {high:g}",
                "Scale the data first, e.g. divide 8-bit images by 255",
            )
    return x


def check_labels(path, y, num_samples):
    """Checks optional class labels and returns them as int32 (or `None`)."""
    if y is None:
        return None
    if y.dtype.kind not in "iub" or y.shape != (num_samples,):
        raise _data_error(
            path,
            f"expected {LABELS_KEY!r} to hold one integer label per sample, shape "
            f"({num_samples},); it has dtype {_shown_value(y.dtype)} and shape {y.shape}",
        )
    if y.dtype.kind == "i" and y.min() < 0:
        raise _data_error(path, f"expected non-negative labels in {LABELS_KEY!r}")
    if y.max() > np.iinfo("int32").max:
        # int32 would wrap them round onto other classes.
        raise _data_error(
            path, f"expected labels in {LABELS_KEY!r} below 2**31; the largest is {y.max()}"
        )
    return y.astype("int32")


def vae_data(data):
    """The VAE's samples and labels: scikit-learn's digits, or a user's array file.

    The digits are kept as (8, 8, 1) images scaled to [0, 1] (pixel / 16):
    the saved model then maps images to images, and a user's images train
    the same way, with their own shape. The dense VAE flattens them itself.

    Returns:
        A tuple `(x, y, description)`: float32 samples in [0, 1], int32
        labels or `None`, and a phrase naming the data.
    """
    if data == "digits":
        from keras_recipes.cli import require

        datasets = require("sklearn.datasets", purpose="the digits of `keras-recipes train vae`")
        digits = datasets.load_digits()
        x = (digits.images / 16.0).astype("float32")[..., None]
        return x, digits.target.astype("int32"), "scikit-learn's digits"
    x, y = load_array_file(data)
    x = check_samples(
        data,
        x,
        min_rank=2,
        max_rank=4,
        what="samples (n, features), grey images (n, height, width) or "
        "images (n, height, width, 1 or 3) with values in [0, 1]",
    )
    if x.ndim == 4 and x.shape[-1] not in (1, 3):
        raise _data_error(
            data, f"expected images with 1 or 3 channels; the array has shape {x.shape}"
        )
    return x, check_labels(data, y, len(x)), data


def split_brain_data(data, *, num_images, seed, architecture="small"):
    """The split-brain pre-training images and labels: `colored_shapes`, or a user's file.

    A user's images must suit `architecture`'s geometry
    (`spec.check_image_side`, for their height and their width).

    Returns:
        A tuple `(rgb, y, description)`: float32 sRGB images `(n, height,
        width, 3)` in [0, 1], int32 labels or `None`, and a phrase naming
        the data.
    """
    if data == "shapes":
        from keras_recipes.data import colored_shapes

        # Eight classes whose hues overlap (a spread of one gap), so the
        # probe needs the shape, not just the colour: the setting of
        # benchmarks/split_brain_check.py.
        rgb, y = colored_shapes(num_images, size=32, num_classes=8, hue_spread=1.0, seed=seed)
        return rgb, y, "keras_recipes.data.colored_shapes (8 classes)"
    rgb, y = load_array_file(data)
    rgb = check_samples(
        data,
        rgb,
        min_rank=4,
        max_rank=4,
        what="sRGB images (n, height, width, 3) with values in [0, 1]",
    )
    height, width, channels = rgb.shape[1:]
    if channels != 3:
        raise _data_error(
            data, f"expected sRGB images (n, height, width, 3); the array has shape {rgb.shape}"
        )
    for side in (height, width):
        if not spec.image_side_fits(side, architecture):
            raise _data_error(
                data,
                f"expected sRGB images (n, height, width, 3) whose height and width suit "
                f"the {architecture} network, each {spec.image_side_expected(side, architecture)}; "
                f"the array has shape {rgb.shape}",
            )
    return rgb, check_labels(data, y, len(rgb)), data


class Split(NamedTuple):
    """The samples and labels of `shuffle_split`; the labels are `None` without labels."""

    x_train: np.ndarray
    y_train: "np.ndarray | None"
    x_val: np.ndarray
    y_val: "np.ndarray | None"


def shuffle_split(x, y, *, seed, fraction=VALIDATION_FRACTION):
    """Shuffles with `seed`, then holds out `fraction` of the samples (at least one).

    Args:
        x: the samples, an array of `n` rows.
        y: their labels, `n` of them, or `None`.
        seed: the seed of the shuffle.
        fraction: the fraction held out. Defaults to `VALIDATION_FRACTION`.

    Returns:
        A `Split(x_train, y_train, x_val, y_val)`; the `y`s are `None`
        without labels.

    Example:

    >>> split = shuffle_split(np.arange(10), None, seed=0)
    >>> len(split.x_train), len(split.x_val), split.y_val
    (8, 2, None)
    """
    order = np.random.default_rng(seed).permutation(len(x))
    held_out = max(1, round(len(x) * fraction))
    train, val = order[held_out:], order[:held_out]
    if y is None:
        return Split(x[train], None, x[val], None)
    return Split(x[train], y[train], x[val], y[val])
